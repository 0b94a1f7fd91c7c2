"""Figures of how a feature's activation moves when the input is perturbed (notebook 03)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .images import to_numpy
from .save import maybe_save


def plot_activation_histograms(panels: dict, xlabel: str = "projection v · E x", bins: int = 40,
                               save_as: str | None = None):
    """One panel per model: `panels[title][label]` is a 1-D tensor of activations, drawn as a histogram.

    All panels share one set of bins, so their spreads compare directly.
    """
    values = [to_numpy(v).ravel() for groups in panels.values() for v in groups.values()]
    edges = np.histogram_bin_edges(np.concatenate(values), bins=bins)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.2), layout="constrained",
                             sharey=True, squeeze=False)
    for ax, (title, groups) in zip(axes[0], panels.items(), strict=True):
        for label, activations in groups.items():
            ax.hist(to_numpy(activations).ravel(), bins=edges, alpha=0.5, label=label, density=True)
        ax.set(title=title, xlabel=xlabel)
        ax.legend(fontsize=8)
    axes[0, 0].set_ylabel("density")
    return maybe_save(fig, save_as)
