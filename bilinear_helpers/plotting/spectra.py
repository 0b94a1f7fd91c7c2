"""Eigenvalue spectra (every component against its rank, the leading ones marked) and raw interaction matrices."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from ..artifacts import DecompositionArtifacts
from ..checks import check_integer, check_tensor
from .base import EIGEN_CMAP, check_indices, maybe_save, to_numpy


def draw_spectrum(ax, eigenvalues: Tensor, positive: Tensor, negative: Tensor, title: str = "spectrum"):
    """Ascending eigenvalues as grey dots; the indices in `positive` (red) and `negative` (blue) marked."""
    lam = to_numpy(eigenvalues)
    for indices in (positive, negative):
        if len(indices) and not all(-len(lam) <= int(i) < len(lam) for i in indices):
            raise ValueError(f"marked indices must be in 0..{len(lam) - 1}, got {list(map(int, indices))}")
    ax.plot(lam, ".", color="0.6", markersize=3)
    for indices, color in ((positive, "tab:red"), (negative, "tab:blue")):
        idx = np.asarray(indices, dtype=int)
        ax.plot(idx, lam[idx], "o", color=color, markersize=4)
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("rank (ascending)", fontsize=8)


def plot_spectra(artifacts, classes=None, n_marked: int = 3, ncols: int = 5, save_as: str | None = None):
    """Every class's eigenvalues against their rank, the top positive (red) and negative (blue) marked."""
    if not isinstance(artifacts, DecompositionArtifacts):
        raise TypeError(f"artifacts must be a DecompositionArtifacts, got {type(artifacts).__name__}")
    classes = check_indices("classes", classes, artifacts.num_outputs)
    n_marked = check_integer("n_marked", n_marked, 0, artifacts.width // 2 + 1)
    ncols = min(check_integer("ncols", ncols, 1), len(classes))
    nrows = int(np.ceil(len(classes) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.2 * nrows), squeeze=False,
                             layout="constrained", sharey=True)
    ranks, names, width = artifacts.effective_rank(), artifacts.names(), artifacts.width
    for ax, c in zip(axes.flat, classes, strict=False):
        draw_spectrum(ax, artifacts.eigenvalues[c], torch.arange(width - n_marked, width), torch.arange(n_marked),
                      title=f"class {names[c]}  (eff. rank {float(ranks[c]):.1f})")
    for ax in list(axes.flat)[len(classes):]:
        ax.set_axis_off()
    axes[0, 0].set_ylabel("eigenvalue")
    return maybe_save(fig, save_as)


def plot_interaction_matrix(matrix: Tensor, eigenvectors: Tensor | None = None, n_eigen_shown: int = 32,
                            hidden_basis: bool = True, title: str = "", save_as: str | None = None):
    """An interaction matrix `Q [d, d]` as an image; given its eigenvectors as rows `V [comp, d]`, also `V Q V^T`.

    The eigenbasis panel is the same matrix in its eigenbasis (diagonal: the eigenvalues),
    the eigenvectors ordered by |lambda| and the first `n_eigen_shown` of them shown; each
    panel has its own symmetric colour scale. `hidden_basis=False` leaves out the raw panel
    (when a figure above already shows it).
    """
    check_tensor("matrix", matrix, "d d", floating=True)
    if eigenvectors is not None:
        check_tensor("eigenvectors", eigenvectors, "comp d", {"d": matrix.shape[0]}, floating=True)
    n_eigen_shown = check_integer("n_eigen_shown", n_eigen_shown, 1)
    panels = {f"in the hidden basis ({len(matrix)} x {len(matrix)})": matrix} if hidden_basis else {}
    if eigenvectors is not None:
        rotated = eigenvectors @ matrix @ eigenvectors.T
        order = rotated.diagonal().abs().argsort(descending=True)[:n_eigen_shown]
        panels[f"in its eigenbasis: the top {len(order)} by |λ|"] = rotated[order][:, order]
    if not panels:
        raise ValueError("nothing to draw: pass eigenvectors, or keep hidden_basis=True")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), layout="constrained", squeeze=False)
    for ax, (name, values) in zip(axes[0], panels.items(), strict=True):
        vmax = float(values.abs().max())
        im = ax.imshow(to_numpy(values), cmap=EIGEN_CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set(title=name, xticks=[], yticks=[])
        fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)
