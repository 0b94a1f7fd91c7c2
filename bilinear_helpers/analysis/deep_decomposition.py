"""The whole network at once: an orthonormal basis for every block's input, ordered by how much the
rest of the network uses each direction, and the network truncated to the top directions of each.

For a network `h_0 = E x`, `h_{l+1} = (L_l h_l) * (R_l h_l)`, logits `U h_n`, go from the output down:
`W_n = U`; for block l, `T_l[j, a, b] = sum_o W_{l+1}[j, o] L_l[o, a] R_l[o, b]` (symmetrised in a, b),
whose input-mode Gram `sum_j T_l[j] T_l[j]^T = V diag(s^2) V^T` gives the basis `V` (rows, by
singular value `s`, largest first) and the readout of the block below, `W_l = diag(s) V^T`.
A biased block reads `[h, 1]`: the constant stays, only `h`'s directions are ranked and cut.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from einops import einsum, rearrange
from jaxtyping import Float
from torch import Tensor
from torch.nn.functional import cross_entropy

from ..artifacts import orient_eigenvectors
from ..checks import check_counts, check_integer, check_labels, check_tensor
from ..decomposition import block_weights, check_decomposable
from ..models import BilinearImageClassifier, accuracy


@dataclass(frozen=True)
class BlockBasis:
    """Block `block`'s input basis: `basis` `[comp, d_hidden]` (orthonormal rows, largest singular value first),
    `singular_values` `[comp]`, and `interaction_tensor` T_l `[j, in1, in2]` (in the augmented input with a bias)."""

    block: int
    basis: Float[Tensor, "comp d_hidden"]
    singular_values: Float[Tensor, " comp"]
    interaction_tensor: Float[Tensor, "j in1 in2"]

    @property
    def readout(self) -> Float[Tensor, "comp d_hidden"]:
        """`W_l = diag(s) V^T`: the kept directions weighted by use, the readout the block below is read by."""
        return self.singular_values[:, None] * self.basis

    def energy_kept(self, k: int) -> float:
        """The share of `sum s^2` (the squared Frobenius norm of T_l's used input mode) in the top `k` directions."""
        k = check_integer("k", k, 0, len(self.singular_values) + 1)
        energy = self.singular_values.square()
        return float(energy[:k].sum() / energy.sum())


def _block_tensor(model: BilinearImageClassifier, block: int, readout: Tensor) -> Tensor:
    left, right = block_weights(model, block, readout.dtype)  # [out, in(+1)] each
    raw = einsum(readout, left, right, "j out, out in1, out in2 -> j in1 in2")
    return (raw + raw.mT) / 2


@torch.no_grad()
def network_bases(model, dtype: torch.dtype = torch.float64) -> list[BlockBasis]:
    """One `BlockBasis` per block input, `[0]` for block 0 (what `E x` is read by), from the weights alone.

    Built from the output down (module docstring); each basis is oriented so that the all-ones
    image's block input projects positively (the package's sign rule).
    """
    model = check_decomposable(model)
    reference = copy.deepcopy(model).to(device="cpu", dtype=dtype)
    white = torch.ones(1, model.d_input, dtype=dtype)
    d, readout, bases = model.d_hidden, model.readout_weight.to(device="cpu", dtype=dtype), []
    for block in reversed(range(model.n_layer)):
        tensor = _block_tensor(model, block, readout)
        used = tensor[:, :d, :]  # the rows of h's directions; the constant's row (a bias) is not cut
        unfolded = rearrange(used, "j in1 in2 -> in1 (j in2)")  # the input mode, whose Gram is sum_j T_j T_j^T
        vectors, singular_values, _ = torch.linalg.svd(unfolded, full_matrices=False)  # largest first
        basis = orient_eigenvectors(vectors.mT[None], reference.block_input(white, block)[0])[0]
        bases.append(BlockBasis(block, basis, singular_values, tensor))
        readout = singular_values[:, None] * basis
    return bases[::-1]


def pixel_features(model, bases: list[BlockBasis], count: int) -> Float[Tensor, "comp inp"]:
    """The top `count` directions of block 0's input as images: `E^T v` (`v . E x = (E^T v) . x`)."""
    model = check_decomposable(model)
    count = check_integer("count", count, 1, model.d_hidden + 1)
    first = _check_bases(model, bases)[0]
    return einsum(first[:count], model.embedding_weight.to(device="cpu", dtype=first.dtype),
                  "comp hid, hid inp -> comp inp")


def _check_bases(model: BilinearImageClassifier, bases) -> list[Tensor]:
    """`bases` (BlockBasis or `[comp, d_hidden]` tensors, one per block) as tensors, checked."""
    if not isinstance(bases, (list, tuple)) or len(bases) != model.n_layer:
        raise ValueError(f"bases must be a list of one basis per block ({model.n_layer}), got "
                         f"{type(bases).__name__} of {len(bases) if hasattr(bases, '__len__') else '?'}")
    tensors = [b.basis if isinstance(b, BlockBasis) else b for b in bases]
    for block, basis in enumerate(tensors):
        check_tensor(f"bases[{block}]", basis, "comp d", {"d": model.d_hidden}, floating=True, finite=True)
        gram = basis @ basis.mT
        if not torch.allclose(gram, torch.eye(len(basis), dtype=basis.dtype), atol=1e-4):
            raise ValueError(f"bases[{block}] must have orthonormal rows (V V^T = I); orthonormalise it with "
                             "torch.linalg.qr(basis.mT).Q.mT")
    return tensors


def truncate_network(model, ks, bases=None):
    """A copy of `model` whose block l reads its input projected onto the top `ks[l]` rows of `bases[l]`.

    `h_l -> V_k^T V_k h_l` folded into `L_l` and `R_l` (`L_l V_k^T V_k`), so the result is a
    `BilinearImageClassifier` like any other; a bias (the constant input) is left as it is.
    `bases` defaults to `network_bases(model)`; any orthonormal rows work (PCA, random).
    """
    model = check_decomposable(model)
    ks = check_counts("ks (directions kept per block)", ks, 1, model.d_hidden + 1)
    if len(ks) != model.n_layer:
        raise ValueError(f"ks must give one count per block ({model.n_layer}), got {len(ks)}: {ks}")
    tensors = _check_bases(model, network_bases(model) if bases is None else bases)
    truncated = copy.deepcopy(model)
    with torch.no_grad():
        for block, (k, basis) in enumerate(zip(ks, tensors, strict=True)):
            if k > len(basis):
                raise ValueError(f"ks[{block}] = {k} but bases[{block}] has only {len(basis)} directions")
            kept = basis[:k].to(dtype=torch.float64)
            projector = (kept.mT @ kept).to(device=model.embedding_weight.device, dtype=model.embedding_weight.dtype)
            weight = truncated.block_weight(block)
            weight.copy_(weight @ projector)
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
def truncation_accuracy(model, bases, ks_list, images: Tensor, labels: Tensor) -> list[float]:
    """Test accuracy of `truncate_network(model, ks, bases)` for each `ks` in `ks_list`."""
    model = check_decomposable(model)
    check_labels(labels, model.d_output, {"n": len(images)})
    x = images.to(device=model.embedding_weight.device, dtype=model.embedding_weight.dtype)
    return [accuracy(truncate_network(model, ks, bases)(x), labels) for ks in ks_list]


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
