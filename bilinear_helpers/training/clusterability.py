"""Clusterability: how much of a layer's weight stays inside clusters of its units, and the
training term that rewards it (after Golechha, Cope & Schoots 2024, "Training Neural
Networks for Modularity aids Interpretability").

With output units and input units each assigned to one of k clusters,
`C(W) = sum_{cluster(o) = cluster(i)} W[o, i]^2 / sum W^2`: about 1/k for a layer with no
cluster structure, 1 for a block-diagonal one. Training with `loss = CE - lambda C` (the
`cluster_strength` of a TrainConfig) pushes the weights towards k independent modules.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int64
from torch import Tensor, nn

from ..checks import check_boolean, check_integer, check_number, check_tensor
from ..models import BilinearImageClassifier, check_classifier


def block_clusters(n_units: int, n_clusters: int) -> Int64[Tensor, " unit"]:
    """Contiguous clusters: unit u is in cluster `u * k // n` (sizes differ by at most one)."""
    n_units = check_integer("n_units", n_units, 1)
    n_clusters = check_integer("n_clusters", n_clusters, 1, n_units + 1)
    return torch.arange(n_units) * n_clusters // n_units


def clusterability(weight: Float[Tensor, "out inp"], out_clusters: Int64[Tensor, " out"],
                   in_clusters: Int64[Tensor, " inp"]) -> Float[Tensor, ""]:
    """The share of `W^2` on (output, input) pairs in the same cluster, a 0-d tensor that
    carries gradients (`float()` it to print). Summed in at least float32, so that half-precision
    weights do not underflow; an all-zero weight has no share (0 / 0) and is a ValueError."""
    sizes: dict[str, int] = {}
    check_tensor("weight", weight, "out inp", sizes, floating=True, finite=True)
    for key, clusters in (("out_clusters", out_clusters), ("in_clusters", in_clusters)):
        check_tensor(key, clusters, "out" if key == "out_clusters" else "inp", sizes)
        if clusters.is_floating_point() or clusters.dtype == torch.bool:
            raise ValueError(f"{key} must be integer cluster indices (block_clusters gives them), got {clusters.dtype}")
    same = out_clusters.to(weight.device)[:, None] == in_clusters.to(weight.device)[None, :]
    squared = weight.to(torch.promote_types(weight.dtype, torch.float32)).pow(2)
    total = squared.sum()
    if not bool(total > 0):
        raise ValueError(f"clusterability of an all-zero weight {tuple(weight.shape)} is undefined (0 / 0 of its "
                         "squared entries): there is no weight to share between clusters")
    return (squared * same).sum() / total


def clustered_weights(model: nn.Module, n_clusters: int, readout: bool = True
                      ) -> list[tuple[Tensor, Tensor, Tensor]]:
    """(live weight, output clusters, input clusters) for every weight the term acts on.

    Hidden units are split into contiguous clusters. ReLU models: every block's Linear weight
    (hidden to hidden). Bilinear models: every block's left and right weights (stacked, so
    output o of L and of R share a cluster), and, with `readout=True`, the readout, whose
    classes are split into contiguous clusters too, so that each class reads mostly one
    cluster (which class reads which cluster is then fixed by hand, not learned).
    """
    check_classifier(model)
    readout = check_boolean("readout", readout)
    hidden = block_clusters(model.d_hidden, n_clusters)
    weights = model.weight_matrices()
    if isinstance(model, BilinearImageClassifier):
        blocks = [(weights[f"block {i}"], torch.cat([hidden, hidden]), hidden) for i in range(model.n_layer)]
        if readout:
            blocks.append((weights["readout"], block_clusters(model.d_output, n_clusters), hidden))
        return blocks
    return [(weights[f"block {i}"], hidden, hidden) for i in range(model.n_layer)]


def clusterability_penalty(strength: float, n_clusters: int, readout: bool = True):
    """The training term `model -> -strength * mean C` over `clustered_weights(model, n_clusters,
    readout)`, to add to the cross-entropy (`train_one_epoch(..., regularizer=...)`)."""

    strength = check_number("strength", strength)
    n_clusters = check_integer("n_clusters", n_clusters, 1)
    readout = check_boolean("readout", readout)

    def penalty(model: nn.Module) -> Float[Tensor, ""]:
        scores = [clusterability(w, out_c, in_c) for w, out_c, in_c in clustered_weights(model, n_clusters, readout)]
        return -strength * torch.stack(scores).mean()

    return penalty


def model_clusterability(model: nn.Module, n_clusters: int) -> dict[str, float]:
    """C of each weight the term acts on, by name ("block 0", "readout"), as floats."""
    names = [f"block {i}" for i in range(check_classifier(model).n_layer)]
    if isinstance(model, BilinearImageClassifier):
        names.append("readout")
    with torch.no_grad():
        return {name: float(clusterability(w, o, i))
                for name, (w, o, i) in zip(names, clustered_weights(model, n_clusters), strict=True)}
