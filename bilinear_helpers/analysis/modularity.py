"""Modularity of a trained network: clusters of hidden units, what each cluster does, and how
legible single units are.

- `spectral_clusters`: bipartite spectral co-clustering of a weight (scikit-learn's
  `SpectralCoclustering`: degree-normalised |W|, its top singular vectors, k-means), for a
  network trained without the clusterability term, whose clusters are not known in advance.
- `ablate_clusters`: a copy of the model with only some clusters of hidden units switched on
  (every weight into or out of the others set to zero); `classwise_accuracy` scores it.
- `distinct_top_classes`: for each hidden unit, how many classes its top-k activating test
  images come from (1: the unit is about one class).
- Bilinear models: `cluster_shares` of each eigenvector of `Q_c` (block-diagonal `Q_c` gives
  every eigenvector to one cluster).
"""

from __future__ import annotations

import copy

import pandas as pd
import torch
from einops import einsum
from jaxtyping import Float, Int64
from sklearn.cluster import SpectralCoclustering
from torch import Tensor, nn

from ..checks import check_integer, check_labels, check_names, check_tensor, plain
from ..models import check_classifier
from ..training.clusterability import block_clusters


def spectral_clusters(weight: Float[Tensor, "out inp"], n_clusters: int, seed: int = 0
                      ) -> tuple[Int64[Tensor, " out"], Int64[Tensor, " inp"]]:
    """(output clusters, input clusters) of `weight` by bipartite spectral co-clustering of |W|.

    Output cluster j and input cluster j belong together, so `clusterability(weight, *result)`
    scores the best block structure the weight has, in any order of its units.
    """
    check_tensor("weight", weight, "out inp", floating=True, finite=True)
    n_clusters = check_integer("n_clusters", n_clusters, 2)
    seed = check_integer("seed", seed, 0, 2**32)
    if float(weight.abs().max()) == 0:
        raise ValueError("weight is all zeros: it has no structure to co-cluster")
    if min(weight.shape) < n_clusters:
        raise ValueError(f"cannot split a weight of shape {tuple(weight.shape)} into {n_clusters} clusters")
    magnitude = weight.detach().abs().double().cpu().numpy() + 1e-12  # co-clustering needs no empty row or column
    model = SpectralCoclustering(n_clusters=n_clusters, random_state=seed).fit(magnitude)
    return torch.as_tensor(model.row_labels_, dtype=torch.int64), torch.as_tensor(model.column_labels_,
                                                                                  dtype=torch.int64)


@torch.no_grad()
def ablate_clusters(model: nn.Module, active: list[int], n_clusters: int) -> nn.Module:
    """A copy of `model` with only the hidden units of the `active` clusters (contiguous, as
    trained) switched on: every block weight (and bias) into or out of another cluster's
    units is zeroed, and the readout's columns for them."""
    check_classifier(model)
    n_clusters = check_integer("n_clusters", n_clusters, 1, model.d_hidden + 1)
    if isinstance(active, (int, str)) or not hasattr(active, "__iter__"):
        raise ValueError(f"active must be a list of cluster indices, got {active!r}; write e.g. active=[0, 2]")
    active = [plain(j) for j in active]
    if any(isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < n_clusters for j in active):
        raise ValueError(f"active clusters must be whole numbers in 0..{n_clusters - 1}, got {active}")
    ablated = copy.deepcopy(model)
    hidden_on = torch.isin(block_clusters(model.d_hidden, n_clusters), torch.as_tensor(list(active), dtype=torch.int64))
    weights = ablated.weight_matrices()
    for block in range(ablated.n_layer):
        weight, bias = weights[f"block {block}"], ablated.block_bias(block)
        rows_on = hidden_on.repeat(weight.shape[0] // model.d_hidden)  # L and R stacked: twice
        weight.mul_((rows_on[:, None] & hidden_on[None, :]).to(weight))
        if bias is not None:
            bias.mul_(rows_on.to(bias))
    weights["readout"].mul_(hidden_on[None, :].to(weights["readout"]))
    return ablated.eval()


@torch.no_grad()
def classwise_accuracy(model: nn.Module, images: Tensor, labels: Int64[Tensor, " n"], n_classes: int
                       ) -> Float[Tensor, " cls"]:
    """Accuracy on each class's images; NaN for a class with no images (its accuracy is undefined)."""
    n_classes = check_integer("n_classes", n_classes, 1)
    check_classifier(model)
    sizes: dict[str, int] = {}
    check_tensor("images", images, "n ...", sizes)
    check_labels(labels, n_classes, sizes)
    model.eval()
    logits = model(images.to(next(model.parameters()).device)).cpu()
    if logits.shape[-1] != n_classes:
        raise ValueError(f"the model gives {logits.shape[-1]} logits per image, n_classes is {n_classes}")
    return per_class_accuracy(logits, labels)


def per_class_accuracy(logits: Float[Tensor, "n cls"], labels: Tensor) -> Float[Tensor, " cls"]:
    """The accuracy on each class's inputs (NaN for a class with none)."""
    check_labels(labels, logits.shape[-1], {"n": len(logits)})
    correct = (logits.argmax(dim=-1) == labels).double()
    counts = torch.bincount(labels, minlength=logits.shape[-1]).double()
    return torch.bincount(labels, weights=correct, minlength=logits.shape[-1]) / counts


def ablation_table(model: nn.Module, images: Tensor, labels: Int64[Tensor, " n"], n_clusters: int,
                   class_names: list[str]) -> pd.DataFrame:
    """Overall and class-wise accuracy: the whole model, each cluster off, only each cluster on."""
    n_clusters = check_integer("n_clusters", n_clusters, 1, model.d_hidden + 1)
    check_names("class_names", class_names, model.d_output)
    conditions = {"all clusters": list(range(n_clusters))}
    conditions |= {f"cluster {j} off": [i for i in range(n_clusters) if i != j] for j in range(n_clusters)}
    conditions |= {f"only cluster {j}": [j] for j in range(n_clusters)}
    rows = {}
    for name, active in conditions.items():
        per_class = classwise_accuracy(ablate_clusters(model, active, n_clusters), images, labels, len(class_names))
        overall = float((per_class.nan_to_num() * torch.bincount(labels, minlength=len(class_names))).sum()
                        / len(labels))
        rows[name] = {"overall": overall, **dict(zip(class_names, per_class.tolist(), strict=True))}
    return pd.DataFrame(rows).T


def distinct_top_classes(activations: Float[Tensor, "n unit"], labels: Int64[Tensor, " n"], k: int = 50
                         ) -> Int64[Tensor, " unit"]:
    """For each unit, the number of distinct classes among the `k` inputs that activate it most."""
    sizes: dict[str, int] = {}
    check_tensor("activations", activations, "n unit", sizes, floating=True, finite=True)
    check_labels(labels, int(labels.max()) + 1 if isinstance(labels, Tensor) and labels.numel() else 1, sizes)
    k = check_integer("k", k, 1, activations.shape[0] + 1)
    top = activations.topk(k, dim=0).indices  # [k, unit]
    return torch.tensor([len(torch.unique(labels[top[:, u]])) for u in range(activations.shape[1])])


def cluster_shares(eigenvectors: Float[Tensor, "cls comp hid"], n_clusters: int) -> Float[Tensor, "cls comp k"]:
    """Share of each eigenvector's squared norm in each contiguous cluster of hidden units."""
    check_tensor("eigenvectors", eigenvectors, "cls comp hid", floating=True, finite=True)
    clusters = block_clusters(eigenvectors.shape[-1], n_clusters)
    one_hot = torch.nn.functional.one_hot(clusters, n_clusters).to(eigenvectors.dtype)  # [hid, k]
    return einsum(eigenvectors.pow(2), one_hot, "cls comp hid, hid k -> cls comp k")


def block_diagonal_share(matrices: Float[Tensor, "cls hid hid"], n_clusters: int) -> Float[Tensor, " cls"]:
    """Share of each `Q_c`'s squared entries inside the diagonal blocks of the contiguous clusters."""
    check_tensor("matrices", matrices, "cls hid hid", floating=True, finite=True)
    if bool((matrices.pow(2).sum(dim=(-2, -1)) == 0).any()):
        raise ValueError("matrices has an all-zero matrix: its block-diagonal share is undefined (0 / 0)")
    clusters = block_clusters(matrices.shape[-1], n_clusters)
    same = (clusters[:, None] == clusters[None, :]).to(matrices.dtype)
    squared = matrices.pow(2)
    return (squared * same).sum(dim=(-2, -1)) / squared.sum(dim=(-2, -1))


def cluster_energy(matrices: Float[Tensor, "cls hid hid"], n_clusters: int) -> Float[Tensor, "cls k"]:
    """Share of each `Q_c`'s squared entries in each contiguous cluster's diagonal block,
    `||Q_c[j, j]||^2 / ||Q_c||^2`; a row sums to `block_diagonal_share`. Its argmax is the
    cluster a class reads most, found from the weights alone."""
    check_tensor("matrices", matrices, "cls hid hid", floating=True, finite=True)
    n_clusters = check_integer("n_clusters", n_clusters, 1, matrices.shape[-1] + 1)
    squared = matrices.pow(2)
    if bool((squared.sum(dim=(-2, -1)) == 0).any()):
        raise ValueError("matrices has an all-zero matrix: its cluster shares are undefined (0 / 0)")
    one_hot = torch.nn.functional.one_hot(block_clusters(matrices.shape[-1], n_clusters), n_clusters).to(squared)
    inside = einsum(squared, one_hot, one_hot, "cls hid1 hid2, hid1 k, hid2 k -> cls k")
    return inside / squared.sum(dim=(-2, -1))[:, None]


def readout_energy(model: nn.Module, n_clusters: int) -> Float[Tensor, "cls k"]:
    """Share of each class's squared readout weight on each contiguous cluster of hidden units,
    `sum_{o in j} U[c, o]^2 / sum_o U[c, o]^2`: where a class reads, for any classifier."""
    n_clusters = check_integer("n_clusters", n_clusters, 1, check_classifier(model).d_hidden + 1)
    squared = model.weight_matrices()["readout"].detach().double().cpu().pow(2)  # [cls, hid]
    if bool((squared.sum(dim=-1) == 0).any()):
        raise ValueError("a class has an all-zero readout row: its cluster shares are undefined (0 / 0)")
    one_hot = torch.nn.functional.one_hot(block_clusters(squared.shape[-1], n_clusters), n_clusters).to(squared)
    return squared @ one_hot / squared.sum(dim=-1, keepdim=True)


@torch.no_grad()
def cluster_logit_contributions(model: nn.Module, images: Tensor, labels: Int64[Tensor, " n"], n_clusters: int
                                ) -> Float[Tensor, "cls k"]:
    """How much each cluster of the last block's units adds to each class's logit on that
    class's own images: the mean over images of class c of `sum_{o in cluster j} U[c, o] g_o(x)`,
    with g what the readout reads. Exact for any classifier: the k entries of a row sum to the
    class's mean logit on its own images."""
    n_clusters = check_integer("n_clusters", n_clusters, 1, check_classifier(model).d_hidden + 1)
    sizes: dict[str, int] = {}
    check_tensor("images", images, "n ...", sizes)
    check_labels(labels, model.d_output, sizes)
    model.eval()
    readout = model.weight_matrices()["readout"].detach().double().cpu()  # [cls, hid]
    hidden = model.block_output(images.to(next(model.parameters()).device), -1).double().cpu()  # [n, hid]
    one_hot = torch.nn.functional.one_hot(block_clusters(model.d_hidden, n_clusters), n_clusters).to(hidden)
    parts = einsum(hidden, readout, one_hot, "n hid, cls hid, hid k -> n cls k")
    rows = [parts[labels == c, c].mean(dim=0) for c in range(model.d_output)]  # NaN rows for absent classes
    return torch.stack(rows)


def ablation_drops(table: pd.DataFrame, n_clusters: int, class_names: list[str]) -> Float[Tensor, "cls k"]:
    """Each class's accuracy lost when one cluster is off (`ablation_table` rows), `[class, cluster]`."""
    n_clusters = check_integer("n_clusters", n_clusters, 1)
    rows = ["all clusters", *[f"cluster {j} off" for j in range(n_clusters)]]
    missing = [name for name in [*rows, *class_names] if name not in table.index and name not in table.columns]
    if missing:
        raise ValueError(f"the table has no rows or columns {missing}: build it with ablation_table(..., "
                         f"n_clusters={n_clusters}, class_names=...)")
    whole = torch.tensor(table.loc["all clusters", class_names].to_numpy(dtype=float))
    off = torch.tensor(table.loc[rows[1:], class_names].to_numpy(dtype=float))  # [k, cls]
    return (whole[None, :] - off).T


__all__ = ["ablate_clusters", "ablation_drops", "ablation_table", "block_diagonal_share", "classwise_accuracy",
           "cluster_energy", "cluster_logit_contributions", "cluster_shares", "distinct_top_classes",
           "per_class_accuracy", "readout_energy", "spectral_clusters"]
