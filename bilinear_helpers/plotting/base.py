"""What every figure uses: saving into `figures/` (PNG for matplotlib, HTML for plotly, stable from run to
run), images and pixel-space eigenvectors as grids and tables, one eigenvector on a diverging map."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from ..checks import check_integer, check_names, check_tensor
from ..paths import atomic_write, atomic_write_text, figures_dir

FIGURE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def check_figure_name(name) -> str:
    """`name` if it names a file in `figures/` (letters, digits, `_`, `.`, `+`, `-`; no folders); else a ValueError."""
    if not isinstance(name, str) or not FIGURE_NAME.fullmatch(name):
        raise ValueError(f"a figure name is letters, digits and _ . + - (a file in figures/, no folders), "
                         f"got {name!r}; use figure_name('05', 'truncation')")
    return name


def check_indices(key: str, values, count: int) -> list[int]:
    """`values` (None: all) as a non-empty list of indices in `0 .. count - 1` (negative ones count from the end)."""
    if values is None:
        return list(range(count))
    if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{key} must be a list of indices, got {values!r}; write e.g. {key}=[0, 3]")
    indices = [check_integer(f"each entry of {key}", v, -count, count) % count for v in values]
    if not indices:
        raise ValueError(f"{key} is empty: give at least one index")
    return indices

EIGEN_CMAP = "RdBu_r"  # red: positive pixels, blue: negative, white: zero
PNG_DPI = 110


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a matplotlib figure as `<name>.png` or a plotly figure as `<name>.html`.

    Plotly pages load plotly.js from a CDN and use the fixed div id `bilinear-<name>`.
    Returns the path written (inside `figures/` unless `folder` is given).
    """
    name = check_figure_name(name)
    if not hasattr(fig, "to_html") and not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib or plotly figure, got {type(fig).__name__}")
    folder = figures_dir(folder)
    if hasattr(fig, "to_html"):  # plotly
        html = fig.to_html(include_plotlyjs="cdn", full_html=True, div_id=f"bilinear-{name}")
        return atomic_write_text(folder / f"{name}.html", html)
    return atomic_write(folder / f"{name}.png",
                        lambda f: fig.savefig(f, format="png", dpi=PNG_DPI, bbox_inches="tight",
                                              metadata={"Software": None}))


def maybe_save(fig, save_as: str | None):
    """`fig`, saved first under `save_as` when one is given."""
    if save_as is not None:
        save_figure(fig, save_as)
    return fig


def figure_name(notebook: str, name: str, enabled: bool = True) -> str | None:
    """`<notebook>_<name>` for `save_as=`, or None (nothing saved) when `enabled` is False."""
    check_figure_name(f"{check_names('notebook and name', [notebook, name])[0]}_{name}")
    return f"{notebook}_{name}" if enabled else None


def to_numpy(x: Tensor) -> np.ndarray:
    """A detached CPU float64 copy, for plotting."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float64)
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a tensor or array to plot, got {type(x).__name__}")
    return x.detach().cpu().to(torch.float64).numpy()


def pixel_grid(n_values: int, image_shape: tuple[int, int, int] | None = None) -> tuple[int, int]:
    """(height, width) to draw `n_values` pixels: from `image_shape` (C, H, W) with one channel when
    given, else the square they make (an error if none does)."""
    n_values = check_integer("n_values", n_values, 1)
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
    width = check_integer("width", width, 1)
    index = check_integer("index", index, -width, width) % width
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
    check_tensor("images", images, "n inp ...")
    ncols = check_integer("ncols", ncols, 1)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must give one title per image ({len(images)}), got {len(titles)}")
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
    check_tensor("images", images, "rows cols inp")
    rows, cols = images.shape[:2]
    if len(row_labels) != rows or len(col_labels) != cols:
        raise ValueError(f"images are {rows} x {cols}: give {rows} row labels and {cols} column labels, got "
                         f"{len(row_labels)} and {len(col_labels)}")
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False, layout="constrained")
    for r in range(rows):
        for c in range(cols):
            show_eigenvector(axes[r, c], images[r, c], titles[r][c] if titles is not None else "")
        axes[r, 0].set_ylabel(str(row_labels[r]), fontsize=10)
    for c in range(cols):
        axes[-1, c].set_xlabel(str(col_labels[c]), fontsize=10)
    return maybe_save(fig, save_as)


def check_panels(key: str, panels, ndim: int | None = None) -> dict:
    """`panels` if it is a non-empty dict (of `ndim`-axis tensors or arrays when given); else a ValueError."""
    if not isinstance(panels, dict) or not panels:
        raise ValueError(f"{key} must map at least one label to what to draw, got {panels!r:.60}")
    if ndim is not None:
        for label, value in panels.items():
            if (value.ndim if hasattr(value, "ndim") else np.ndim(value)) != ndim:
                raise ValueError(f"{key}[{label!r}] must have {ndim} axes, got shape {tuple(np.shape(value))}")
    return panels


def check_series(key: str, xs, ys) -> None:
    """A ValueError unless `xs` and `ys` are non-empty and pair up one to one."""
    if len(xs) == 0 or len(xs) != len(ys):
        raise ValueError(f"{key}: {len(xs)} x values and {len(ys)} y values; give one y per x (at least one)")
