"""The whole network at once: a basis for every block's input, ordered by how much the rest of the
network uses each direction, from the weights alone.

For a network `h_0 = E x`, `h_{l+1} = (L_l h_l) * (R_l h_l)`, logits `U h_n`, go from the output down:
`W_n = U`; for block l, `T_l[j, a, b] = sum_o W_{l+1}[j, o] L_l[o, a] R_l[o, b]` (symmetrised in a, b),
whose input-mode Gram `sum_j T_l[j] T_l[j]^T = V diag(s^2) V^T` gives the basis `V` (largest `s`
first) and the readout of the block below, `W_l = diag(s) V^T` (`W_l^T W_l` is that Gram).

With `upstream=True` the layers below enter too, our construction in the spirit of the
orthogonalisation step of ODT (Dooms et al., 2025), not its code: `G_l`, the Gram matrix of
`h_l`'s coordinates as tensor networks over the pixel wires (each block's two inputs symmetrised;
for the inputs of blocks 0 and 1 this is the Frobenius product of their polynomial coefficients, above that the
coefficients are not fully symmetrised), weighs the other copy of `h_l` in the Gram
(`sum_j T_j G T_j`, which is then also what the block below reads) and whitens the ranking
(`C^T (.) C`, `G = C C^T`), so a direction the layers below barely fill ranks low. A biased block
reads `[h, 1]`: the constant is kept, only `h`'s directions are ranked and cut.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from einops import einsum, rearrange
from jaxtyping import Float
from torch import Tensor

from ..artifacts import orient_eigenvectors
from ..checks import check_boolean, check_integer, check_tensor
from ..decomposition import block_weights, check_decomposable
from ..models import BilinearImageClassifier


@dataclass(frozen=True)
class BlockBasis:
    """Block `block`'s input basis, largest singular value first.

    `basis` `[comp, d_hidden]` reads coordinates (`basis @ h`), `synthesis` `[d_hidden, comp]` rebuilds
    `h` from them (`synthesis @ basis = I`; for the plain bases `synthesis = basis^T`, orthonormal);
    `readout` is `W_l`, what the block below is read by; `interaction_tensor` is T_l `[j, in1, in2]`.
    """

    block: int
    basis: Float[Tensor, "comp d_hidden"]
    synthesis: Float[Tensor, "d_hidden comp"]
    singular_values: Float[Tensor, " comp"]
    readout: Float[Tensor, "comp d_hidden"]
    interaction_tensor: Float[Tensor, "j in1 in2"]

    def projector(self, k: int) -> Float[Tensor, "d_hidden d_hidden"]:
        """`synthesis[:, :k] @ basis[:k]`: `h` kept in the top `k` directions (orthogonal for the plain bases)."""
        k = check_integer("k", k, 1, len(self.singular_values) + 1)
        return self.synthesis[:, :k] @ self.basis[:k]

    def energy_kept(self, k: int) -> float:
        """The share of `sum s^2` (the squared norm of T_l's used input mode) in the top `k` directions."""
        k = check_integer("k", k, 0, len(self.singular_values) + 1)
        energy = self.singular_values.square()
        return float(energy[:k].sum() / energy.sum())


def _block_tensor(model: BilinearImageClassifier, block: int, readout: Tensor) -> Tensor:
    left, right = block_weights(model, block, readout.dtype)  # [out, in(+1)] each
    raw = einsum(readout, left, right, "j out, out in1, out in2 -> j in1 in2")
    return (raw + raw.mT) / 2


def upstream_grams(model, dtype: torch.dtype = torch.float64, pixel_moment: Tensor | None = None
                   ) -> list[Float[Tensor, "in1 in2"]]:
    """`G_l` per block input (augmented by the constant, Gram 1, with a bias): the Gram matrix of `h_l`'s
    coordinates as tensor networks over the pixels (module docstring). `G_0 = E E^T`;
    `G_{l+1} = ((L G L^T) * (R G R^T) + (L G R^T) * (R G L^T)) / 2` for `(L h) * (R h)`.

    `pixel_moment` `[inp, inp]` (e.g. `E[x x^T]` over images) replaces the identity between pixels:
    `G_0 = E M E^T` is then `h_0`'s second moment on those images (the matrix activation PCA
    diagonalises at block 0); the blocks above keep the recursion, which is not their activations'
    second moment.
    """
    model = check_decomposable(model)
    embedding = model.embedding_weight.to(device="cpu", dtype=dtype)
    if pixel_moment is not None:
        check_tensor("pixel_moment", pixel_moment, "inp inp", {"inp": model.d_input}, floating=True, finite=True)
        embedding_moment = embedding @ pixel_moment.to(device="cpu", dtype=dtype)
    else:
        embedding_moment = embedding
    gram, grams = embedding_moment @ embedding.mT, []
    for block in range(model.n_layer):
        if model.bias:
            gram = torch.block_diag(gram, torch.ones(1, 1, dtype=dtype))
        grams.append(gram)
        left, right = block_weights(model, block, dtype)
        lg, rg = left @ gram, right @ gram
        gram = ((lg @ left.mT) * (rg @ right.mT) + (lg @ right.mT) * (rg @ left.mT)) / 2
    return grams


def _descending_eigh(matrix: Tensor) -> tuple[Tensor, Tensor]:
    values, vectors = torch.linalg.eigh(matrix)
    return values.flip(0).clamp_min(0), vectors.flip(1)


@torch.no_grad()
def network_bases(model, dtype: torch.dtype = torch.float64, upstream: bool = False,
                  pixel_moment: Tensor | None = None) -> list[BlockBasis]:
    """One `BlockBasis` per block input, `[0]` for block 0 (what `E x` is read by), from the weights alone.

    Built from the output down (module docstring); `upstream=True` also weighs each direction by how
    much the layers below put into it (a direction no input can reach, outside `G_l`'s range, is then left
    out, so such a basis has fewer than `d_hidden` rows). Each basis is oriented so that the all-ones image's block
    input has a positive coordinate on every direction (the package's sign rule).
    """
    model, upstream = check_decomposable(model), check_boolean("upstream", upstream)
    reference = copy.deepcopy(model).to(device="cpu", dtype=dtype)
    white = torch.ones(1, model.d_input, dtype=dtype)
    if pixel_moment is not None and not upstream:
        raise ValueError("pixel_moment weighs the layers below: it needs upstream=True")
    grams = upstream_grams(model, dtype, pixel_moment) if upstream else None
    d, readout, bases = model.d_hidden, model.readout_weight.to(device="cpu", dtype=dtype), []
    for block in reversed(range(model.n_layer)):
        tensor = _block_tensor(model, block, readout)
        used = tensor[:, :d, :]  # the rows of h's directions; the constant's row (a bias) is not cut
        if upstream:
            environment = einsum(used, grams[block], used, "j a b, b c, j e c -> a e")  # sum_j T_j G T_j^T
            values, vectors = _descending_eigh(grams[block][:d, :d])
            keep = values > values[0] * 1e-12
            root = vectors[:, keep] * values[keep].sqrt()  # C with C C^T = G (on G's range)
            energy, whitened = _descending_eigh(root.mT @ environment @ root)
            singular_values, reading = energy.sqrt(), whitened.mT @ torch.linalg.pinv(root)
            synthesis = root @ whitened
            values, vectors = _descending_eigh(environment)
            next_readout = values.sqrt()[:, None] * vectors.mT  # W^T W = the environment
        else:
            unfolded = rearrange(used, "j in1 in2 -> in1 (j in2)")  # the input mode, Gram sum_j T_j T_j^T
            _, vectors = torch.linalg.eigh(unfolded @ unfolded.mT)  # its left singular vectors, faster than an SVD
            singular_values = (vectors.mT @ unfolded).norm(dim=-1)  # |V^T T|, exact to rounding even near zero
            order = singular_values.argsort(descending=True)
            singular_values, reading = singular_values[order], vectors[:, order].mT
            synthesis, next_readout = reading.mT, singular_values[:, None] * reading
        oriented = orient_eigenvectors(reading[None], reference.block_input(white, block)[0])[0]
        signs = (oriented * reading).sum(-1).sign()
        bases.append(BlockBasis(block, oriented, synthesis * signs, singular_values, next_readout, tensor))
        readout = next_readout
    return bases[::-1]


def pixel_features(model, bases: list[BlockBasis], count: int) -> Float[Tensor, "comp inp"]:
    """The top `count` directions of block 0's input as images: `E^T v`, since `v . E x = (E^T v) . x`."""
    model = check_decomposable(model)
    count = check_integer("count", count, 1, model.d_hidden + 1)
    if not isinstance(bases, (list, tuple)) or not bases or not isinstance(bases[0], BlockBasis):
        raise ValueError("bases must be the list network_bases(model) returns")
    first = bases[0].basis
    return einsum(first[:count], model.embedding_weight.to(device="cpu", dtype=first.dtype),
                  "comp hid, hid inp -> comp inp")
