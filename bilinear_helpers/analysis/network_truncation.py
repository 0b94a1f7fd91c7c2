"""A network cut to the top directions of every block's input, the data-based and random bases to
compare with the weights' (`deep_decomposition.network_bases`), and how to score and allocate a cut.

Cutting block l's input to `k_l` directions folds the projector `P_l` into its weights
(`L_l -> L_l P_l`, `R_l -> R_l P_l`), so the result is again a `BilinearImageClassifier`.
"""

from __future__ import annotations

import copy

import torch
from jaxtyping import Bool, Float
from scipy.stats import binomtest
from torch import Tensor
from torch.nn.functional import cross_entropy

from ..checks import check_counts, check_integer, check_labels, check_tensor
from ..decomposition import check_decomposable
from ..models import BilinearImageClassifier
from .deep_decomposition import BlockBasis, network_bases


def _projectors(model: BilinearImageClassifier, bases, ks: list[int]) -> list[Tensor]:
    """One projector per block: `BlockBasis.projector(k)`, or `V_k^T V_k` for orthonormal rows `V`."""
    if not isinstance(bases, (list, tuple)) or len(bases) != model.n_layer:
        raise ValueError(f"bases must be a list of one basis per block ({model.n_layer}), got "
                         f"{type(bases).__name__} of {len(bases) if hasattr(bases, '__len__') else '?'}")
    projectors = []
    for block, (k, basis) in enumerate(zip(ks, bases, strict=True)):
        rows = basis.basis if isinstance(basis, BlockBasis) else basis
        check_tensor(f"bases[{block}]", rows, "comp d", {"d": model.d_hidden}, floating=True, finite=True)
        if k > len(rows):
            raise ValueError(f"ks[{block}] = {k} but bases[{block}] has only {len(rows)} directions")
        if isinstance(basis, BlockBasis):
            projectors.append(basis.projector(k))
            continue
        if not torch.allclose(rows @ rows.mT, torch.eye(len(rows), dtype=rows.dtype), atol=1e-4):
            raise ValueError(f"bases[{block}] must have orthonormal rows (V V^T = I); orthonormalise it with "
                             "torch.linalg.qr(basis.mT).Q.mT")
        kept = rows[:k].to(dtype=torch.float64)
        projectors.append(kept.mT @ kept)
    return projectors


def truncate_network(model, ks, bases=None):
    """A copy of `model` whose block l reads its input kept in the top `ks[l]` directions of `bases[l]`.

    `bases[l]` is a `BlockBasis` (default: `network_bases(model)`) or orthonormal rows `[comp, d]`
    (PCA, random); the projector is folded into `L_l` and `R_l`, a bias is left as it is.
    """
    model = check_decomposable(model)
    ks = check_counts("ks (directions kept per block)", ks, 1, model.d_hidden + 1)
    if len(ks) != model.n_layer:
        raise ValueError(f"ks must give one count per block ({model.n_layer}), got {len(ks)}: {ks}")
    projectors = _projectors(model, network_bases(model) if bases is None else bases, ks)
    truncated = copy.deepcopy(model)
    weights = model.embedding_weight
    with torch.no_grad():
        for block, projector in enumerate(projectors):
            weight = truncated.block_weight(block)
            weight.copy_(weight @ projector.to(device=weights.device, dtype=weights.dtype))
    return truncated


@torch.no_grad()
def activation_pca_bases(model, images: Tensor) -> list[Float[Tensor, "comp d_hidden"]]:
    """Per block input, the eigenvectors of the uncentred second moment `E[h h^T]` over `images`, largest first.

    Uncentred, so that projecting onto them is a linear map like the weight bases' (a centred
    PCA would add the mean back, an affine map a bias-free block cannot hold).
    """
    model = check_decomposable(model)
    reference = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    x = images.to(device="cpu", dtype=torch.float64)
    bases = []
    for block in range(model.n_layer):
        h = reference.block_input(x, block)
        _, vectors = torch.linalg.eigh(h.mT @ h / len(h))
        bases.append(vectors.flip(1).mT.contiguous())
    return bases


def random_bases(model, seed: int = 0) -> list[Float[Tensor, "comp d_hidden"]]:
    """Per block, a random orthonormal basis (QR of a Gaussian matrix drawn from `seed`)."""
    model = check_decomposable(model)
    generator = torch.Generator().manual_seed(check_integer("seed", seed, 0, 2**63))
    gaussians = torch.randn(model.n_layer, model.d_hidden, model.d_hidden, generator=generator, dtype=torch.float64)
    return [torch.linalg.qr(g).Q.mT.contiguous() for g in gaussians]


@torch.no_grad()
def truncation_scores(model, bases, ks_list, images: Tensor, labels: Tensor) -> dict[str, Tensor]:
    """For each `ks` in `ks_list`, the cut network on (`images`, `labels`): "correct" `[n_ks, batch]` (bool),
    "accuracy" `[n_ks]`, and "logit_r2" `[n_ks]`, the share of the full model's logit variance (over
    images, summed over classes) that the cut model's logits keep: `1 - |z - z_cut|^2 / |z - mean z|^2`."""
    model = check_decomposable(model)
    check_labels(labels, model.d_output, {"n": len(images)})
    weights = model.embedding_weight
    x, y = images.to(device=weights.device, dtype=weights.dtype), labels.to(weights.device)
    full = model(x)
    spread = (full - full.mean(0)).square().sum()
    correct, r2 = [], []
    for ks in ks_list:
        logits = truncate_network(model, ks, bases)(x)
        correct.append(logits.argmax(-1) == y)
        r2.append(1 - (full - logits).square().sum() / spread)
    correct = torch.stack(correct).cpu()
    return {"correct": correct, "accuracy": correct.double().mean(-1), "logit_r2": torch.stack(r2).cpu()}


@torch.no_grad()
def greedy_allocation(model, bases, images: Tensor, labels: Tensor, step: int, min_kept: int = 1) -> list[list[int]]:
    """Per-block counts from all directions down to `min_kept` per block, one block cut by `step` at a time.

    Each move cuts the block whose cut raises the cross-entropy on (`images`, `labels`) least;
    the list holds the counts after every move, the full model first. This uses data: images and labels.
    """
    model = check_decomposable(model)
    step = check_integer("step", step, 1, model.d_hidden)
    min_kept = check_integer("min_kept", min_kept, 1, model.d_hidden + 1)
    check_labels(labels, model.d_output, {"n": len(images)})
    h = model.embed(images.to(device=model.embedding_weight.device, dtype=model.embedding_weight.dtype))
    targets = labels.to(h.device)
    path = [[model.d_hidden] * model.n_layer]
    while True:
        trials = []
        for block, k in enumerate(path[-1]):
            if k - step >= min_kept:
                ks = [*path[-1][:block], k - step, *path[-1][block + 1:]]
                loss = cross_entropy(truncate_network(model, ks, bases).logits_from_block(h, 0), targets)
                trials.append((float(loss), ks))
        if not trials:
            return path
        path.append(min(trials)[1])


def paired_test(first: Bool[Tensor, " batch"], second: Bool[Tensor, " batch"]) -> dict[str, float]:
    """McNemar's exact test of two classifiers on the same images: `only_first` (b) and `only_second` (c),
    the images only one of them gets right, and the two-sided binomial p-value of b against b + c."""
    sizes: dict[str, int] = {}
    check_tensor("first", first, "batch", sizes)
    check_tensor("second", second, "batch", sizes)
    if first.dtype != torch.bool or second.dtype != torch.bool:
        raise ValueError(f"first and second must be bool tensors (right or wrong per image), got {first.dtype} and "
                         f"{second.dtype}")
    only_first, only_second = int((first & ~second).sum()), int((second & ~first).sum())
    p_value = binomtest(only_first, only_first + only_second, 0.5).pvalue if only_first + only_second else 1.0
    return {"only_first": only_first, "only_second": only_second, "p_value": float(p_value)}
