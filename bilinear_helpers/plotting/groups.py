"""Figures for notebook 07: grokking curves, logit similarity per irrep, the a-by-b block
beside a character, cross-block spectra, and eigenvectors against irreps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .base import EIGEN_CMAP, check_panels, maybe_save, to_numpy


def plot_group_training(histories: dict[str, pd.DataFrame], title: str = "", save_as: str | None = None):
    """Loss (log scale) and accuracy per step, train solid and held-out dashed, one colour per run.

    `histories`: each run's `metrics()` (full-batch training: epoch = step)."""
    check_panels("histories", histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (label, frame) in zip(colours, histories.items(), strict=False):
        for split, style in (("train", "-"), ("test", "--")):
            ax_loss.plot(frame["epoch"], frame[f"{split}_loss"], style, color=colour, label=f"{label}, {split}")
            ax_acc.plot(frame["epoch"], frame[f"{split}_acc"], style, color=colour, label=f"{label}, {split}")
    ax_loss.set(yscale="log", xlabel="full-batch step", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="full-batch step", ylabel="accuracy", title="accuracy (dashed: held-out pairs)",
               ylim=(-0.02, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)


def plot_logit_similarity(similarities: dict[str, dict[str, float]], title: str = "", threshold: float | None = None,
                          save_as: str | None = None):
    """Grouped bars: each model's logit similarity with each irrep's character `chi(a b c^-1)`."""
    check_panels("similarities", similarities)
    names = list(next(iter(similarities.values())))
    x = np.arange(len(names))
    width = 0.8 / len(similarities)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.28 * len(names) + 2), 3.0), layout="constrained")
    for k, (label, values) in enumerate(similarities.items()):
        ax.bar(x + (k - (len(similarities) - 1) / 2) * width, [values[n] for n in names], width, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="gray", lw=0.8, ls=":", label=f"key threshold {threshold}")
    ax.set_xticks(x, names, rotation=90 if len(names) > 8 else 0, fontsize=7 if len(names) > 8 else 9)
    ax.set(ylabel="logit similarity", title=title or "which irreps the logits follow")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return maybe_save(fig, save_as)


def plot_block_vs_character(blocks: dict[str, object], save_as: str | None = None):
    """Square images side by side, e.g. a model's a-by-b block for one output c and `chi(a b c^-1)`.

    Each image has its own symmetric colour scale (the block and the character differ in scale).
    """
    check_panels("blocks", blocks, ndim=2)
    fig, axes = plt.subplots(1, len(blocks), figsize=(3.3 * len(blocks), 3.4), layout="constrained")
    for ax, (label, matrix) in zip(np.atleast_1d(axes), blocks.items(), strict=True):
        values = to_numpy(matrix)
        bound = np.abs(values).max() or 1.0
        ax.imshow(values, cmap=EIGEN_CMAP, vmin=-bound, vmax=bound, interpolation="nearest")
        ax.set(title=label, xlabel="b", ylabel="a")
        ax.set_xticks([])
        ax.set_yticks([])
    return maybe_save(fig, save_as)


def plot_block_spectra(spectra: dict[str, object], cutoffs: dict[str, int] | None = None, cutoff_label: str = "",
                       title: str = "", save_as: str | None = None):
    """Singular values of the a-by-b blocks (one line per output c, normalised to the largest),
    one panel per model; a dotted line after `cutoffs[label]` values (e.g. the irrep parts' ranks)."""
    check_panels("spectra", spectra, ndim=2)
    fig, axes = plt.subplots(1, len(spectra), figsize=(4.2 * len(spectra), 3.0), layout="constrained", squeeze=False)
    for ax, (label, values) in zip(axes[0], spectra.items(), strict=True):
        values = to_numpy(values)
        values = values / values[:, :1].clip(min=1e-300)
        ax.semilogy(np.arange(1, values.shape[1] + 1), values.T, color="C0", alpha=0.25, lw=0.8)
        if cutoffs and label in cutoffs:
            ax.axvline(cutoffs[label] + 0.5, color="C3", ls=":", label=f"{cutoff_label} {cutoffs[label]}".strip())
            ax.legend(fontsize=8)
        ax.set(xlabel="singular value index", ylabel="s / s_max", title=label, ylim=(1e-8, 2))
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return maybe_save(fig, save_as)


def plot_irrep_fractions(fractions: dict[str, object], irrep_names: list[str], save_as: str | None = None):
    """Heatmaps: rows are a block's top singular vectors, columns irreps, colour the share of the
    vector inside that irrep's matrix elements (rows sum to 1)."""
    check_panels("fractions", fractions, ndim=2)
    for label, value in fractions.items():
        if np.shape(value)[1] != len(irrep_names):
            raise ValueError(f"fractions[{label!r}] has {np.shape(value)[1]} columns, irrep_names {len(irrep_names)}")
    fig, axes = plt.subplots(1, len(fractions), figsize=(max(4.0, 0.25 * len(irrep_names) + 2) * len(fractions), 3.4),
                             layout="constrained", squeeze=False)
    for ax, (label, values) in zip(axes[0], fractions.items(), strict=True):
        image = ax.imshow(to_numpy(values), cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.set_xticks(np.arange(len(irrep_names)), irrep_names, rotation=90, fontsize=7)
        ax.set(ylabel="singular vector (by size)", title=label)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="share of squared norm")
    return maybe_save(fig, save_as)
