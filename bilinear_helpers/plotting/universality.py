"""Figures of notebook 06: weight spectra against initialisation, and matrices of similarities."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .base import check_panels, check_series, maybe_save, to_numpy


def plot_weight_spectra(spectra: dict, save_as: str | None = None):
    """One panel per layer: trained and initial eigenvalues of `W^T W / n` against rank, log scale.

    `spectra[title] = (trained [k], initial [k], mp_edge)`: the dashed line is the upper edge
    of the Marchenko-Pastur law for that shape at the initial variance; eigenvalues above
    it are directions a random matrix of that size does not have, so training put them there.
    """
    check_panels("spectra", spectra)
    fig, axes = plt.subplots(1, len(spectra), figsize=(3.6 * len(spectra), 3.0), layout="constrained", squeeze=False)
    for ax, (title, (trained, initial, edge)) in zip(axes[0], spectra.items(), strict=True):
        trained, initial = to_numpy(trained), to_numpy(initial)
        ax.semilogy(np.arange(1, len(trained) + 1), trained, ".", markersize=3, label="trained")
        ax.semilogy(np.arange(1, len(initial) + 1), initial, ".", markersize=3, color="0.6", label="initialisation")
        ax.axhline(edge, color="k", linestyle="--", linewidth=0.8, label="Marchenko-Pastur edge")
        above, above_initial = int((trained > edge).sum()), int((initial > edge).sum())
        ax.set(title=f"{title}\nabove the edge: {above} trained, {above_initial} initial", xlabel="rank",
               ylabel="eigenvalue")
        ax.legend(fontsize=7)
    return maybe_save(fig, save_as)


def plot_matrices(panels: dict, xlabel: str = "", ylabel: str = "", ticklabels=None, vmin: float = 0.0,
                  vmax: float = 1.0, save_as: str | None = None):
    """One heatmap per entry of `panels` (title -> [rows, cols] matrix), on one shared colour scale."""
    check_panels("panels", panels, ndim=2)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2), layout="constrained", squeeze=False)
    for ax, (title, matrix) in zip(axes[0], panels.items(), strict=True):
        im = ax.imshow(to_numpy(matrix), cmap="viridis", vmin=vmin, vmax=vmax)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if ticklabels is not None:
            ax.set_xticks(range(len(ticklabels)), ticklabels, fontsize=7)
            ax.set_yticks(range(len(ticklabels)), ticklabels, fontsize=7)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    return maybe_save(fig, save_as)


def plot_marchenko_pastur(initial, trained, x, density, title: str = "", save_as: str | None = None):
    """Histograms of initial and trained eigenvalues (as densities) with the Marchenko-Pastur curve `density(x)`."""
    check_series("x and density", x, density)
    fig, ax = plt.subplots(figsize=(5.2, 3.2), layout="constrained")
    initial, trained = to_numpy(initial), to_numpy(trained)
    bins = np.linspace(0, float(max(initial.max(), np.quantile(trained, 0.95))) * 1.05, 50)
    ax.hist(initial, bins=bins, density=True, color="0.6", alpha=0.7, label="initialisation")
    ax.hist(trained, bins=bins, density=True, histtype="step", linewidth=1.5, label="trained")
    ax.plot(to_numpy(x), to_numpy(density), "k", linewidth=1, label="Marchenko-Pastur law")
    peak = np.histogram(initial, bins=bins, density=True)[0].max()
    ax.set(xlabel="eigenvalue", ylabel="density", title=title, ylim=(0, 1.3 * float(peak)))
    ax.legend(fontsize=8)
    return maybe_save(fig, save_as)
