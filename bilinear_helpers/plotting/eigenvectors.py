"""Pixel-space eigenvectors: a grid per class, one rank across models, and one matrix in detail."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from torch import Tensor

from ..artifacts import DecompositionArtifacts
from ..checks import check_integer
from .base import check_indices, maybe_save, pixel_grid, show_eigenvector, to_numpy
from .spectra import draw_spectrum


def _pixels(artifacts: DecompositionArtifacts) -> Tensor:
    if artifacts.pixel_eigenvectors is None:
        raise ValueError("these eigenvectors are not in pixel space (a block other than the first); "
                         "use decompose_direction down to block 0 to get images")
    return artifacts.pixel_eigenvectors


def plot_eigenvector_grid(artifacts: DecompositionArtifacts, k: int = 3, classes=None, save_as: str | None = None):
    """Per class (a row): the k most positive, then the k most negative eigenvectors as images.

    Each image has its own symmetric colour limits; the title gives its eigenvalue.
    """
    pixels = _pixels(artifacts)
    classes = check_indices("classes", classes, artifacts.num_outputs)
    k = check_integer("k", k, 1, artifacts.width // 2 + 1)
    fig, axes = plt.subplots(len(classes), 2 * k, figsize=(1.0 * 2 * k, 1.12 * len(classes)),
                             squeeze=False, layout="constrained")
    positive, negative, names = artifacts.top(k, by="positive"), artifacts.top(k, by="negative"), artifacts.names()
    for row, c in enumerate(classes):
        for col, i in enumerate(torch.cat([positive[c], negative[c]]).tolist()):
            show_eigenvector(axes[row, col], pixels[c, i], f"λ={float(artifacts.eigenvalues[c, i]):+.2f}")
        axes[row, 0].set_ylabel(f"class {names[c]}", fontsize=10)
    fig.suptitle(f"top {k} positive (left) and negative (right) eigenvectors per class; red > 0 > blue", fontsize=10)
    return maybe_save(fig, save_as)


def plot_eigenvectors_side_by_side(artifacts_by_label: dict, rank: int = -1, classes=None,
                                   align_to: str | None = None, save_as: str | None = None):
    """One eigenvector (by ascending rank: -1 the most positive) of every class, a row per model.

    An eigenvector's sign is arbitrary; with `align_to` (a label) every other row's image is
    flipped where that makes its dot product with the same class in that row positive, and
    its title says "flipped", so the eye compares what |cos| compares."""
    if not isinstance(artifacts_by_label, dict) or not artifacts_by_label:
        raise ValueError("artifacts_by_label must map at least one label to its DecompositionArtifacts")
    labels = list(artifacts_by_label)
    if align_to is not None and align_to not in artifacts_by_label:
        raise ValueError(f"align_to={align_to!r} is not one of the labels {labels}")
    first = artifacts_by_label[labels[0]]
    classes = check_indices("classes", classes, first.num_outputs)
    rank = check_integer("rank", rank, -first.width, first.width)
    fig, axes = plt.subplots(len(labels), len(classes), figsize=(1.35 * len(classes), 1.6 * len(labels)),
                             squeeze=False, layout="constrained")
    for row, label in enumerate(labels):
        art = artifacts_by_label[label]
        names = art.names()
        for col, c in enumerate(classes):
            pixels = _pixels(art)[c, rank]
            flipped = align_to is not None and label != align_to and float(
                pixels.double() @ _pixels(artifacts_by_label[align_to])[c, rank].double()) < 0
            show_eigenvector(axes[row, col], -pixels if flipped else pixels,
                             f"{names[c]}: λ={float(art.eigenvalues[c, rank]):+.2f}" + (", flipped" if flipped else ""))
        axes[row, 0].set_ylabel(label, fontsize=10)
    return maybe_save(fig, save_as)


class EigenvectorPlotter:
    """Reads one decomposed output at a time: its eigenvectors, their top inputs, and its logits.

    `artifacts`: a decomposition with pixel-space eigenvectors (a class's `Q_c`, or the
    matrices that eigenvectors of block 1 induce on block 0); `logits [K, n_classes]`: what each
    output writes to the classes, shown as bars (None: no bar panel); `images [N, ...]`:
    inputs in which to find what activates each eigenvector most (None: none shown).
    """

    def __init__(self, artifacts: DecompositionArtifacts, logits: Tensor | None = None, images: Tensor | None = None,
                 class_names=None, image_shape: tuple[int, int, int] | None = None):
        pixels = _pixels(artifacts)
        if logits is not None and logits.shape[0] != artifacts.num_outputs:
            raise ValueError(f"logits must have one row per output ({artifacts.num_outputs}), "
                             f"got shape {tuple(logits.shape)}")
        self.artifacts, self.logits = artifacts, logits
        self.grid = pixel_grid(pixels.shape[-1], image_shape)
        self.images = None if images is None else images.reshape(len(images), -1).to(pixels.dtype)
        n_classes = 0 if logits is None else logits.shape[1]
        self.class_names = [str(c) for c in range(n_classes)] if class_names is None else list(class_names)

    def plot_component(self, i: int, topk_eigs: int = 4, sort: str = "eigs", vmax: float | None = None,
                       suptitle: str | None = None, n_images: int = 3, save_as: str | None = None):
        """Top positive (upper row) and negative (lower row) eigenvectors of output `i`.

        Beside each: its eigenvalue, mean activation `lambda (v . x)^2` over the images and the
        `n_images` images it activates most; on the left the spectrum and the logits.
        `sort="eigs"` ranks by eigenvalue, "activations" by mean activation.
        """
        if sort not in ("eigs", "activations"):
            raise ValueError(f"unknown sort {sort!r}: use 'eigs' or 'activations'")
        i = check_indices("i", [i], self.artifacts.num_outputs)[0]
        topk_eigs = check_integer("topk_eigs", topk_eigs, 1, self.artifacts.width // 2 + 1)
        n_images = check_integer("n_images", n_images, 1)
        values, pixels = self.artifacts.eigenvalues[i], _pixels(self.artifacts)[i]
        acts = None if self.images is None else values * (self.images @ pixels.T) ** 2  # [N, comp]
        order = (values if sort == "eigs" or acts is None else acts.mean(0)).argsort()
        chosen = {"positive": order.flip(0)[:topk_eigs], "negative": order[:topk_eigs]}
        vmax = vmax if vmax is not None else 0.9 * float(pixels[torch.cat(list(chosen.values()))].abs().max())

        n_rows = n_images if acts is not None else 1  # grid rows per sign: one per thumbnail
        step = 2 if acts is not None else 1
        width = [1.6] + ([1.0, 0.34] if acts is not None else [1.0]) * topk_eigs
        fig = plt.figure(figsize=(2.0 + 2.0 * topk_eigs, 5.2), layout="constrained")
        grid = fig.add_gridspec(2 * n_rows, len(width), width_ratios=width)
        draw_spectrum(fig.add_subplot(grid[:n_rows, 0]), values, chosen["positive"], chosen["negative"])
        if self.logits is not None:
            self._logit_panel(fig.add_subplot(grid[n_rows:, 0]), i)
        for row, (kind, indices) in enumerate(chosen.items()):
            for j, comp in enumerate(indices.tolist()):
                ax = fig.add_subplot(grid[row * n_rows : (row + 1) * n_rows, 1 + step * j])
                title = f"λ={float(values[comp]):+.2f}"
                if acts is not None:
                    title += f"\nmean act {float(acts[:, comp].mean()):+.2f}"
                im = show_eigenvector(ax, pixels[comp], title, vmax=vmax, grid=self.grid)
                if j == 0:
                    ax.set_ylabel(kind, fontsize=10)
                if acts is not None:
                    strongest = acts[:, comp].abs().argsort(descending=True)[:n_images].tolist()
                    for t, idx in enumerate(strongest):
                        self._thumbnail(fig.add_subplot(grid[row * n_rows + t, 2 + step * j]), idx)
        fig.colorbar(im, ax=fig.axes, shrink=0.5, ticks=[-vmax, 0, vmax], format="%.2f", label="pixel weight")
        if suptitle:
            fig.suptitle(suptitle, fontsize=12)
        return maybe_save(fig, save_as)

    def _thumbnail(self, ax, index: int):
        ax.imshow(self.images[index].reshape(*self.grid).numpy(), cmap="Greys", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])

    def _logit_panel(self, ax, i: int):
        ax.bar(range(len(self.class_names)), to_numpy(self.logits[i]), color="0.4")
        ax.set_xticks(range(len(self.class_names)), self.class_names, fontsize=8)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.set_title("logits it writes", fontsize=10)
