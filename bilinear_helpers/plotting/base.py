"""What every figure uses: saving into `figures/` (PNG for matplotlib, HTML for plotly, stable from run to
run), images and pixel-space eigenvectors as grids and tables, one eigenvector on a diverging map."""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from ..paths import atomic_write, atomic_write_text, figures_dir

EIGEN_CMAP = "RdBu_r"  # red: positive pixels, blue: negative, white: zero
PNG_DPI = 110


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a matplotlib figure as `<name>.png` or a plotly figure as `<name>.html`.

    Plotly pages load plotly.js from a CDN and use the fixed div id `bilinear-<name>`.
    Returns the path written (inside `figures/` unless `folder` is given).
    """
    folder = figures_dir(folder)
    if hasattr(fig, "to_html"):  # plotly
        html = fig.to_html(include_plotlyjs="cdn", full_html=True, div_id=f"bilinear-{name}")
        return atomic_write_text(folder / f"{name}.html", html)
    return atomic_write(folder / f"{name}.png",
                        lambda f: fig.savefig(f, format="png", dpi=PNG_DPI, bbox_inches="tight",
                                              metadata={"Software": None}))


def maybe_save(fig, save_as: str | None):
    """`fig`, saved first under `save_as` when one is given."""
    if save_as:
        save_figure(fig, save_as)
    return fig


def figure_name(notebook: str, name: str, enabled: bool = True) -> str | None:
    """`<notebook>_<name>` for `save_as=`, or None (nothing saved) when `enabled` is False."""
    return f"{notebook}_{name}" if enabled else None


def to_numpy(x: Tensor) -> np.ndarray:
    """A detached CPU float64 copy, for plotting."""
    return x.detach().cpu().to(torch.float64).numpy()


def pixel_grid(n_values: int, image_shape: tuple[int, int, int] | None = None) -> tuple[int, int]:
    """(height, width) to draw `n_values` pixels: from `image_shape` (C, H, W) with one channel when
    given, else the square they make (an error if none does)."""
    if image_shape is not None:
        if len(image_shape) != 3 or image_shape[0] != 1 or math.prod(image_shape) != n_values:
            raise ValueError(f"image_shape must be (1, height, width) holding {n_values} values, got "
                             f"{tuple(image_shape)}")
        return tuple(image_shape[1:])
    side = math.isqrt(n_values)
    if side * side != n_values:
        raise ValueError(f"{n_values} values are not a square image: pass image_shape=(1, height, width)")
    return side, side


def rank_label(index: int, width: int) -> str:
    """`+k` for the k-th most positive eigenvalue, `-k` for the k-th most negative (ascending order)."""
    index = index % width
    return f"+{width - index}" if index >= width / 2 else f"-{index + 1}"


def show_eigenvector(ax, image: Tensor, title: str = "", vmax: float | None = None,
                     grid: tuple[int, int] | None = None):
    """One pixel-space eigenvector on a diverging map centred on zero with symmetric limits, drawn on
    `grid` (height, width; None: `pixel_grid` of its size)."""
    image = image.detach().cpu().to(torch.float64)
    image = image.reshape(*(grid or pixel_grid(image.numel())))
    vmax = float(image.abs().max()) if vmax is None else vmax
    im = ax.imshow(image.numpy(), cmap=EIGEN_CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return im


def plot_image_grid(
    images: Float[Tensor, "n ..."],
    titles: list[str] | None = None,
    ncols: int = 8,
    cmap: str = "Greys",
    diverging: bool = False,
    image_shape: tuple[int, int, int] | None = None,
    save_as: str | None = None,
):
    """Images in a grid; `diverging=True` centres a red-blue map on zero with symmetric limits."""
    flat = images.detach().cpu().reshape(len(images), -1)
    images = flat.reshape(len(flat), *pixel_grid(flat.shape[1], image_shape))
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.45 * nrows), squeeze=False, layout="constrained")
    vmax = float(images.abs().max()) if diverging else None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= len(images):
            continue
        if diverging:
            ax.imshow(images[i].numpy(), cmap=EIGEN_CMAP, vmin=-vmax, vmax=vmax)
        else:
            ax.imshow(images[i].numpy(), cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return maybe_save(fig, save_as)


def plot_eigenvector_table(images: Tensor, row_labels, col_labels, titles=None, save_as: str | None = None):
    """Pixel-space eigenvectors `[rows, cols, d_input]` in a table, each on its own symmetric colour scale."""
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False, layout="constrained")
    for r in range(rows):
        for c in range(cols):
            show_eigenvector(axes[r, c], images[r, c], titles[r][c] if titles is not None else "")
        axes[r, 0].set_ylabel(str(row_labels[r]), fontsize=10)
    for c in range(cols):
        axes[-1, c].set_xlabel(str(col_labels[c]), fontsize=10)
    return maybe_save(fig, save_as)
