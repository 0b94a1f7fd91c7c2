"""Figures of notebook 05: truncation curves, HOSVD, a hyperparameter grid, mask attacks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from .base import check_panels, check_series, maybe_save, to_numpy


def plot_truncation_curves(curves: dict, full_accuracy: float, xlabel: str = "components kept per class",
                           title: str = "", save_as: str | None = None):
    """Accuracy against the number of components kept: `curves[label] = (counts, accuracies)`, the full model dashed."""
    for label, (counts, accuracies) in check_panels("curves", curves).items():
        check_series(f"curves[{label!r}]", list(counts), list(accuracies))
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    for label, (counts, accuracies) in curves.items():
        ax.plot(list(counts), accuracies, "o-", markersize=3, label=label)
    ax.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label=f"full model ({full_accuracy:.3f})")
    ax.set(xlabel=xlabel, ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return maybe_save(fig, save_as)


def plot_hosvd(singular_values: Tensor, ns, accuracies, full_accuracy: float, save_as: str | None = None):
    """The class tensor's singular values, and accuracy against the number of HOSVD components kept."""
    check_series("ns and accuracies", list(ns), list(accuracies))
    fig, (ax_s, ax_a) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    s = to_numpy(singular_values)
    ax_s.bar(range(1, len(s) + 1), s, color="0.4")
    ax_s.set(xlabel="component", ylabel="singular value", title="HOSVD of the class tensor")
    ax_a.plot(list(ns), accuracies, "o-")
    ax_a.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label="full model")
    ax_a.set(xlabel="HOSVD components kept", ylabel="test accuracy", title="accuracy")
    ax_a.grid(alpha=0.3)
    ax_a.legend()
    return maybe_save(fig, save_as)


def plot_metric_grid(metrics: dict, row_values, col_values, row_name: str, col_name: str,
                     save_as: str | None = None):
    """One annotated heatmap per metric over a grid of two hyperparameters (`metrics[name]` is `[rows, cols]`)."""
    for name, values in check_panels("metrics", metrics, ndim=2).items():
        if np.shape(values) != (len(row_values), len(col_values)):
            raise ValueError(f"metrics[{name!r}] is {tuple(np.shape(values))}, the grid {len(row_values)} x "
                             f"{len(col_values)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.0), layout="constrained", squeeze=False)
    for ax, (name, values) in zip(axes[0], metrics.items(), strict=True):
        values = np.asarray(values, dtype=float)
        ax.imshow(values, cmap="viridis", aspect="auto")
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", color="w" if v < values.mean() else "k", fontsize=9)
        ax.set_xticks(range(len(col_values)), [str(v) for v in col_values])
        ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
        ax.set(xlabel=col_name, ylabel=row_name, title=name)
    return maybe_save(fig, save_as)


def plot_attack_curves(strengths, curves: dict, ylabel: str, title: str = "",
                       xlabel: str = "mask strength (pixel-space L2 norm)", save_as: str | None = None):
    """Mean over target classes of a rate against mask strength, one line per mask kind."""
    for label, values in check_panels("curves", curves).items():
        check_series(f"curves[{label!r}]", list(strengths), list(values))
    fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    for label, values in curves.items():
        ax.plot(list(strengths), to_numpy(torch.as_tensor(values)), "o-", markersize=3, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    return maybe_save(fig, save_as)
