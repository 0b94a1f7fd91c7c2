"""Figures for notebook 08: weights with their clusters, class-wise ablation bars, unit
legibility, and interaction matrices split into clusters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..checks import check_integer, check_names
from .base import EIGEN_CMAP, check_panels, maybe_save, to_numpy


def _cluster_lines(ax, n_rows: int, n_cols: int, n_clusters: int) -> None:
    """Dotted lines at the borders of contiguous clusters along both axes."""
    for j in range(1, n_clusters):
        ax.axhline(j * n_rows / n_clusters - 0.5, color="k", lw=0.6, ls=":")
        ax.axvline(j * n_cols / n_clusters - 0.5, color="k", lw=0.6, ls=":")


def plot_cluster_matrices(matrices: dict[str, object], n_clusters: int | None = None, signed: bool = False,
                          title: str = "", save_as: str | None = None):
    """Matrices side by side (|W| in greys, or signed on the diverging map), dotted lines at the
    borders of `n_clusters` contiguous clusters; each panel on its own scale."""
    check_panels("matrices", matrices, ndim=2)
    n_clusters = None if n_clusters is None else check_integer("n_clusters", n_clusters, 1)
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.3 * len(matrices), 3.4), layout="constrained",
                             squeeze=False)
    for ax, (label, matrix) in zip(axes[0], matrices.items(), strict=True):
        values = to_numpy(matrix)
        if signed:
            bound = np.abs(values).max() or 1.0
            ax.imshow(values, cmap=EIGEN_CMAP, vmin=-bound, vmax=bound, interpolation="nearest")
        else:
            ax.imshow(np.abs(values), cmap="Greys", vmin=0, interpolation="nearest")
        if n_clusters:
            _cluster_lines(ax, *values.shape, n_clusters)
        ax.set(title=label, xticks=[], yticks=[])
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)


def plot_classwise_ablation(table: pd.DataFrame, rows: list[str], title: str = "", save_as: str | None = None):
    """One bar chart per condition in `rows` (e.g. "cluster 0 off"): accuracy per class, with the
    whole model's as a grey outline and the overall accuracy in the title."""
    missing = [row for row in ["all clusters", *rows] if row not in table.index]
    if missing:
        raise ValueError(f"the table has no rows {missing}: its rows are {list(table.index)}")
    classes = [c for c in table.columns if c != "overall"]
    fig, axes = plt.subplots(len(rows), 1, figsize=(6.5, 1.35 * len(rows) + 0.4), sharex=True, layout="constrained",
                             squeeze=False)
    x = np.arange(len(classes))
    for k, (ax, row) in enumerate(zip(axes[:, 0], rows, strict=True)):
        ax.bar(x, table.loc["all clusters", classes], color="none", edgecolor="0.6", width=0.8)
        ax.bar(x, table.loc[row, classes], color=f"C{k % 10}", width=0.55)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("acc", fontsize=8)
        ax.set_title(f"{row}: overall {table.loc[row, 'overall']:.2f}", fontsize=9, loc="left")
        ax.grid(alpha=0.3, axis="y")
    axes[-1, 0].set_xticks(x, classes)
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)


def plot_distinct_classes(counts: dict[str, object], k: int, n_classes: int = 10, save_as: str | None = None):
    """Histogram per model: how many hidden units have their top-k inputs from 1, 2, ... classes."""
    check_panels("counts", counts)
    k = check_integer("k", k, 1)
    n_classes = check_integer("n_classes", n_classes, 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.0), layout="constrained")
    bins = np.arange(1, n_classes + 2) - 0.5
    width = 0.8 / len(counts)
    for j, (label, values) in enumerate(counts.items()):
        hist, _ = np.histogram(to_numpy(values), bins=bins)
        ax.bar(np.arange(1, n_classes + 1) + (j - (len(counts) - 1) / 2) * width, hist, width,
               label=f"{label} (mean {to_numpy(values).mean():.2f})")
    ax.set(xlabel=f"distinct classes among a unit's top {k} test images", ylabel="hidden units",
           xticks=np.arange(1, n_classes + 1))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return maybe_save(fig, save_as)


def plot_ablated_spectra(spectra: dict[str, object], title: str = "", save_as: str | None = None):
    """Eigenvalues of one class's interaction matrix (descending), one line per condition."""
    check_panels("spectra", spectra)
    fig, ax = plt.subplots(figsize=(5.5, 3.0), layout="constrained")
    for label, values in spectra.items():
        values = np.sort(to_numpy(values))[::-1]
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", ms=3, lw=0.8, label=label)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="eigenvalue rank (descending)", ylabel="λ", title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return maybe_save(fig, save_as)


def plot_class_cluster_shares(shares: dict[str, object], class_names: list[str], title: str = "",
                              save_as: str | None = None):
    """One heatmap per panel, classes down and clusters across (`[class, cluster]`, e.g.
    `cluster_energy` or `readout_energy`), each cell printed; one shared 0-1 scale."""
    check_panels("shares", shares, ndim=2)
    check_names("class_names", class_names, len(class_names))
    fig, axes = plt.subplots(1, len(shares), figsize=(2.6 * len(shares) + 0.6, 3.6), layout="constrained",
                             squeeze=False)
    for ax, (label, values) in zip(axes[0], shares.items(), strict=True):
        values = to_numpy(values)
        if values.shape[0] != len(class_names):
            raise ValueError(f"panel {label!r} has {values.shape[0]} rows, class_names has {len(class_names)}")
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for (row, col), value in np.ndenumerate(values):
            ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=6.5,
                    color="white" if value > 0.6 else "black")
        ax.set(title=label, xlabel="cluster", xticks=range(values.shape[1]), yticks=range(len(class_names)),
               yticklabels=class_names)
    fig.colorbar(image, ax=axes[0, -1], shrink=0.8)
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)
