"""Figures of notebook 09: CP fit quality against rank, accuracy per component budget, and shared terms."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..analysis.shared_features import SharedTerms
from .base import EIGEN_CMAP, maybe_save, show_eigenvector, to_numpy


def plot_fit_against_rank(ranks, cosines, accuracies, full_accuracy: float, save_as: str | None = None):
    """Left: the fit's cosine with Q against rank; right: the fit's test accuracy, the full model dashed."""
    fig, (ax_c, ax_a) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    ax_c.plot(list(ranks), list(cosines), "o-")
    ax_c.set(xscale="log", xlabel="CP rank (shared terms)", ylabel="cosine with Q", title="the fit against Q")
    ax_a.plot(list(ranks), list(accuracies), "o-")
    ax_a.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label=f"full model ({full_accuracy:.3f})")
    ax_a.set(xscale="log", xlabel="CP rank (shared terms)", ylabel="test accuracy", title="the fit as a model")
    for ax in (ax_c, ax_a):
        ax.set_xticks(list(ranks), [str(r) for r in ranks])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.grid(alpha=0.3)
    ax_a.legend()
    return maybe_save(fig, save_as)


def plot_budget_curves(curves: dict, full_accuracy: float, save_as: str | None = None):
    """Test accuracy against the number of squares `(v . h)^2` kept: `curves[label] = (counts, accuracies)`."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    for label, (counts, accuracies) in curves.items():
        ax.plot(list(counts), list(accuracies), "o-", markersize=4, label=label)
    ax.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label=f"full model ({full_accuracy:.3f})")
    ax.axhline(full_accuracy - 0.01, color="0.5", linestyle=":", linewidth=1, label="one point below")
    ax.set(xscale="log", xlabel="squares (v . h)^2 kept, all classes together", ylabel="test accuracy",
           title="accuracy at equal budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return maybe_save(fig, save_as)


def plot_shared_terms(terms: SharedTerms, class_names: list[str], n_terms: int = 6, save_as: str | None = None):
    """One row per term (strongest first): its positive feature `E^T p`, its negative feature `E^T m`,
    and its weight on each class (the readout column)."""
    if terms.positive_pixels is None:
        raise ValueError("the terms have no pixel images: fit the basis with the model's embedding")
    n_terms = min(n_terms, len(terms.order))
    fig, axes = plt.subplots(n_terms, 3, figsize=(7.2, 1.75 * n_terms), squeeze=False, layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 2.2]})
    limit = float(np.abs(to_numpy(terms.weights[:n_terms])).max())
    for row in range(n_terms):
        show_eigenvector(axes[row, 0], terms.positive_pixels[row], f"term {row + 1}: positive (p)")
        show_eigenvector(axes[row, 1], terms.negative_pixels[row], "negative (m)")
        weights = to_numpy(terms.weights[row])
        colors = [plt.get_cmap(EIGEN_CMAP)(0.5 + 0.5 * w / limit) for w in weights]
        axes[row, 2].bar(range(len(weights)), weights, color=colors, edgecolor="0.3", linewidth=0.5)
        axes[row, 2].axhline(0, color="0.3", linewidth=0.5)
        axes[row, 2].set_xticks(range(len(weights)), class_names, fontsize=8)
        axes[row, 2].set_ylim(-limit * 1.05, limit * 1.05)
        axes[row, 2].set_title("weight on each class", fontsize=9)
    return maybe_save(fig, save_as)


def plot_term_removal(support, change, class_names: list[str], term_label: str, save_as: str | None = None):
    """Left: what one term adds to each class's logit on that class's own images (mean); right: the
    change in each class's accuracy when the term is removed."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), layout="constrained")
    for ax, values, ylabel in ((axes[0], support, "mean part of the own logit"),
                               (axes[1], change, "change in class accuracy")):
        values = to_numpy(values)
        ax.bar(range(len(values)), values, color=["tab:blue" if v < 0 else "tab:red" for v in values])
        ax.axhline(0, color="0.3", linewidth=0.5)
        ax.set_xticks(range(len(values)), class_names)
        ax.set(ylabel=ylabel)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_title(f"what {term_label} adds to each class's logit, on its own images", fontsize=10)
    axes[1].set_title(f"{term_label} removed", fontsize=10)
    return maybe_save(fig, save_as)


__all__ = ["plot_budget_curves", "plot_fit_against_rank", "plot_shared_terms", "plot_term_removal"]
