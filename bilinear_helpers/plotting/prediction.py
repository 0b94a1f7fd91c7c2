"""One prediction explained: each top class's logit split into its eigen-components."""

from __future__ import annotations

import matplotlib.pyplot as plt
from jaxtyping import Float
from torch import Tensor

from ..artifacts import DecompositionArtifacts
from ..checks import check_integer, check_tensor
from .base import maybe_save, pixel_grid, rank_label, show_eigenvector


def plot_prediction(artifacts: DecompositionArtifacts, image: Tensor, contributions: Float[Tensor, "cls comp"],
                    n_classes: int = 3, k: int = 4, true_label: str | None = None, save_as: str | None = None):
    """The `n_classes` highest logits of `image`, each as its `k` largest terms `lambda_i (v_i . h)^2` plus the rest.

    `contributions` is `artifacts.contributions(model.block_input(image[None]))[0]`; the
    contributing eigenvectors are shown as images beside their bars.
    """
    check_tensor("contributions", contributions, "cls comp", {"cls": artifacts.num_outputs, "comp": artifacts.width},
                 floating=True, finite=True)
    n_classes = check_integer("n_classes", n_classes, 1, artifacts.num_outputs + 1)
    k = check_integer("k", k, 1, artifacts.width + 1)
    logits = contributions.sum(-1)
    top_classes = logits.argsort(descending=True)[:n_classes].tolist()
    names = artifacts.names()
    fig = plt.figure(figsize=(3.0 + 1.5 * k + 3.2, 1.9 * n_classes), layout="constrained")
    grid = fig.add_gridspec(n_classes, 2 + k, width_ratios=[1.3, 2.4] + [1] * k)
    ax_img = fig.add_subplot(grid[:, 0])
    flat = image.detach().cpu().reshape(-1)
    ax_img.imshow(flat.reshape(*pixel_grid(flat.numel())).numpy(), cmap="Greys", vmin=0, vmax=1)
    ax_img.set_axis_off()
    ax_img.set_title("input" + (f" (label {true_label})" if true_label is not None else ""), fontsize=10)
    for row, c in enumerate(top_classes):
        leading = contributions[c].abs().argsort(descending=True)[:k]
        rest = float(contributions[c].sum() - contributions[c, leading].sum())
        values = [float(contributions[c, i]) for i in leading] + [rest]
        labels = [rank_label(int(i), artifacts.width) for i in leading] + ["rest"]
        ax = fig.add_subplot(grid[row, 1])
        ax.barh(range(len(values))[::-1], values, color=["tab:red" if v > 0 else "tab:blue" for v in values])
        ax.set_yticks(range(len(values))[::-1], labels, fontsize=8)
        ax.axvline(0, color="k", linewidth=0.5)
        ax.set_title(f"class {names[c]}: logit {float(logits[c]):.2f}", fontsize=10)
        if artifacts.pixel_eigenvectors is None:
            continue
        for j, i in enumerate(leading.tolist()):
            show_eigenvector(fig.add_subplot(grid[row, 2 + j]), artifacts.pixel_eigenvectors[c, i],
                             f"{labels[j]}: λ={float(artifacts.eigenvalues[c, i]):+.2f}\n"
                             f"adds {float(contributions[c, i]):+.2f}")
    fig.suptitle("logit = Σ λ_i (v_i · Ex)²: the largest terms of the top classes "
                 "(+1: the most positive eigenvector, -1: the most negative)", fontsize=10)
    return maybe_save(fig, save_as)
