"""Figures: matplotlib for the pages of the tutorial, plotly for interactive exploration.

Every function returns its figure. `save_figure` writes it into `figures/` (PNG for
matplotlib, HTML with plotly.js from a CDN and a fixed div id for plotly) so files
are stable from run to run.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from jaxtyping import Float
from torch import Tensor

from .paths import figures_dir

PNG_DPI = 110


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a matplotlib figure as `<name>.png` or a plotly figure as `<name>.html`.

    Returns the path written (inside `figures/` unless `folder` is given).
    """
    folder = figures_dir(folder)
    if hasattr(fig, "to_html"):  # plotly
        path = folder / f"{name}.html"
        html = fig.to_html(include_plotlyjs="cdn", full_html=True, div_id=f"bilinear-{name}")
        path.write_text(html)
    else:
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    return path


def _maybe_save(fig, save_as: str | None):
    if save_as:
        save_figure(fig, save_as)
    return fig


def plot_training_curves(metrics: pd.DataFrame | str | os.PathLike, title: str = "", save_as: str | None = None):
    """Loss, accuracy and learning rate per epoch from a run's `metrics.csv` (path or DataFrame)."""
    frame = metrics if isinstance(metrics, pd.DataFrame) else pd.read_csv(metrics)
    fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(
        1, 3, figsize=(11, 3.0), layout="constrained", gridspec_kw={"width_ratios": [1, 1, 0.7]}
    )
    for ax, column, label in ((ax_loss, "loss", "cross-entropy"), (ax_acc, "acc", "accuracy")):
        ax.plot(frame["epoch"], frame[f"train_{column}"], label="train (with noise)")
        ax.plot(frame["epoch"], frame[f"val_{column}"], label="validation")
        ax.set(xlabel="epoch", ylabel=label, title=label)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_lr.plot(frame["epoch"], frame["lr"], color="gray")
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="schedule")
    ax_lr.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _maybe_save(fig, save_as)


def plot_image_grid(
    images: Float[Tensor, "n ..."],
    titles: list[str] | None = None,
    ncols: int = 8,
    cmap: str = "Greys",
    diverging: bool = False,
    img_size: tuple[int, int] = (28, 28),
    save_as: str | None = None,
):
    """Images in a grid; `diverging=True` centres a red-blue map on zero with symmetric limits."""
    images = images.detach().cpu().reshape(len(images), *img_size)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.45 * nrows), squeeze=False, layout="constrained")
    vmax = float(images.abs().max()) if diverging else None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= len(images):
            continue
        if diverging:
            ax.imshow(images[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        else:
            ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return _maybe_save(fig, save_as)


def to_numpy(x: Tensor) -> np.ndarray:
    """A detached CPU float64 copy, for plotting."""
    return x.detach().cpu().to(torch.float64).numpy()
