"""Figures of notebook 10: singular values per block input, and accuracy against the share of dimensions kept."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..analysis.deep_decomposition import BlockBasis
from .base import check_panels, check_series, maybe_save, to_numpy


def plot_network_spectra(models: dict, save_as: str | None = None):
    """Singular values of every block input's basis, `models[name] = network_bases(model)`, one panel per model.

    Each curve is scaled by its largest value, so blocks of different scale share an axis.
    """
    check_panels("models", models)
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 3.3), squeeze=False, layout="constrained")
    for ax, (name, bases) in zip(axes[0], models.items(), strict=True):
        if not bases or not all(isinstance(b, BlockBasis) for b in bases):
            raise ValueError(f"models[{name!r}] must be the list network_bases(model) returns")
        for basis in bases:
            values = to_numpy(basis.singular_values)
            ax.plot(range(1, len(values) + 1), values / values[0], label=f"block {basis.block} input")
        ax.set(yscale="log", xlabel="direction (by singular value)", ylabel="s / s_max", title=name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return maybe_save(fig, save_as)


def plot_network_truncation(panels: dict, save_as: str | None = None):
    """Test accuracy against the share of hidden dimensions kept, one panel per model:
    `panels[name] = (full_accuracy, {method: (shares kept, accuracies)})`."""
    check_panels("panels", panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 2.6, 3.6), squeeze=False,
                             layout="constrained")
    for ax, (name, (full_accuracy, curves)) in zip(axes[0], panels.items(), strict=True):
        for method, (shares, accuracies) in check_panels(f"panels[{name!r}] curves", curves).items():
            check_series(f"panels[{name!r}][{method!r}]", shares, accuracies)
            ax.plot(list(shares), list(accuracies), "o-", markersize=4, label=method)
        ax.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label="full model")
        ax.axhline(full_accuracy - 0.01, color="0.5", linestyle=":", linewidth=1, label="one point below")
        ax.axvline(0.3, color="0.7", linewidth=1, label="70% removed")
        ax.set(xscale="log", xlabel="share of hidden dimensions kept", ylabel="test accuracy",
               title=f"{name} (full model {full_accuracy:.3f})",
               ylim=(max(0.0, full_accuracy - 0.25), min(1.0, full_accuracy + 0.03)))
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))  # beside the panels, off the curves
    return maybe_save(fig, save_as)
