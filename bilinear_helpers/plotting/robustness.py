"""Figures of how a feature's activation moves when the input is perturbed (notebook 03)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .base import check_panels, maybe_save, to_numpy


def plot_clean_vs_noisy(panels: dict, own_label: str = "own class", xlabel: str = "projection, clean input",
                        ylabel: str = "projection, noisy input", save_as: str | None = None):
    """One scatter per model of a feature on clean (x) against perturbed (y) inputs.

    `panels[title] = (clean [N], noisy [N], own [N] bool)`: `own` marks the images of the
    feature's class (drawn in red, the rest in grey). A feature that ignores the
    perturbation puts every point on the dashed diagonal; the title gives the correlation.
    """
    check_panels("panels", panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.3), layout="constrained", squeeze=False)
    for ax, (title, (clean, noisy, own)) in zip(axes[0], panels.items(), strict=True):
        clean, noisy, own = to_numpy(clean), to_numpy(noisy), to_numpy(own).astype(bool)
        ax.scatter(clean[~own], noisy[~own], s=5, color="0.6", alpha=0.6, label="other classes")
        ax.scatter(clean[own], noisy[own], s=5, color="tab:red", alpha=0.8, label=own_label)
        low, high = float(min(clean.min(), noisy.min())), float(max(clean.max(), noisy.max()))
        ax.plot([low, high], [low, high], "k--", linewidth=0.8)
        correlation = float(torch.corrcoef(torch.as_tensor(np.stack([clean, noisy])))[0, 1])
        ax.set(title=f"{title}\ncorrelation {correlation:.3f}", xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=8, markerscale=2)
    return maybe_save(fig, save_as)
