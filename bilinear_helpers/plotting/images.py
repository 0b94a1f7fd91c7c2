"""Images and pixel-space eigenvectors: grids, tables, one eigenvector on a diverging map."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from .save import maybe_save

EIGEN_CMAP = "RdBu_r"  # red: positive pixels, blue: negative, white: zero


def to_numpy(x: Tensor) -> np.ndarray:
    """A detached CPU float64 copy, for plotting."""
    return x.detach().cpu().to(torch.float64).numpy()


def image_shape_of(n_values: int, image_shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """`image_shape` if given, else the square that `n_values` pixels make (an error if none does)."""
    if image_shape is not None:
        if math.prod(image_shape) != n_values:
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold {n_values} values")
        return tuple(image_shape)
    side = math.isqrt(n_values)
    if side * side != n_values:
        raise ValueError(f"{n_values} values are not a square image: pass image_shape=(height, width)")
    return side, side


def rank_label(index: int, width: int) -> str:
    """`+k` for the k-th most positive eigenvalue, `-k` for the k-th most negative (ascending order)."""
    index = index % width
    return f"+{width - index}" if index >= width / 2 else f"-{index + 1}"


def show_eigenvector(ax, image: Tensor, title: str = "", vmax: float | None = None, image_shape=None):
    """One pixel-space eigenvector on a diverging map centred on zero with symmetric limits."""
    image = image.detach().cpu().to(torch.float64)
    image = image.reshape(*image_shape_of(image.numel(), image_shape))
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
    image_shape: tuple[int, int] | None = None,
    save_as: str | None = None,
):
    """Images in a grid; `diverging=True` centres a red-blue map on zero with symmetric limits."""
    flat = images.detach().cpu().reshape(len(images), -1)
    images = flat.reshape(len(flat), *image_shape_of(flat.shape[1], image_shape))
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
