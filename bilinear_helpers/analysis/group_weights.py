"""Which irreps a bilinear model trained on a group's table uses, read from its weights alone.

On two-hot inputs the logit is a quadratic form, so
`logit_c(a, b) = Q_c[a, a] + Q_c[b', b'] + 2 Q_c[a, b']` (b' = |G| + b). The a-by-b block
`2 Q_c[:|G|, |G|:]` is a |G| x |G| matrix; a model built from irrep rho makes it
`chi(a b c^-1)`, whose rank is the number of independent matrix elements of rho (d^2).
The logit view (similarity with characters, restricted and excluded loss) is in `groups`.
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor

from ..checks import check_integer, check_number, check_tensor
from ..decomposition import decompose
from ..groups import Group
from ..groups.checks import check_group, check_irreps, check_pair_interactions
from ..models import BilinearImageClassifier


def pair_interaction_matrices(model: BilinearImageClassifier) -> Float[Tensor, "cls in1 in2"]:
    """`Q_c` over the two-hot input, `[|G|, 2|G|, 2|G|]` (float64): `logit_c = x^T Q_c x`.

    The decomposition of notebook 02 with the embedding folded into both weights:
    left `L E`, right `R E`, readout `U`.
    """
    if not isinstance(model, BilinearImageClassifier) or model.n_layer != 1 or model.bias or model.residual \
            or model.gate is not None:
        raise TypeError("the weight view needs a one-block BilinearImageClassifier without bias, residual or gate; "
                        f"got {type(model).__name__}")
    for name, weight in model.weight_matrices().items():
        check_tensor(f"the model's {name} weight", weight, "out inp", finite=True)
    if model.d_input != 2 * model.d_output:
        raise ValueError(f"the model reads {model.d_input} inputs for {model.d_output} outputs: a group model reads "
                         f"two-hot pairs, d_input = 2 x d_output = {2 * model.d_output}")
    embedding = model.embedding_weight.double()
    _, interactions, _, _ = decompose(model.readout_weight.double(), model.left_weight(0).double() @ embedding,
                                      model.right_weight(0).double() @ embedding)
    return interactions


def cross_block(interaction: Float[Tensor, "cls in1 in2"]) -> Float[Tensor, "cls a b"]:
    """`2 Q_c[a, |G| + b]`: the part of `logit_c(a, b)` that depends on a and b together."""
    check_pair_interactions(interaction)
    order = interaction.shape[-1] // 2
    return 2 * interaction[:, :order, order:]


def logits_from_interactions(interaction: Float[Tensor, "cls in1 in2"]) -> Float[Tensor, "a b c"]:
    """`Q_c[a, a] + Q_c[b', b'] + 2 Q_c[a, b']` for every pair: the logits, rebuilt from `Q`."""
    check_pair_interactions(interaction)
    order = interaction.shape[-1] // 2
    diagonal = interaction.diagonal(dim1=-2, dim2=-1)  # [cls, 2|G|]
    alone = diagonal[:, :order, None] + diagonal[:, None, order:]
    return (alone + cross_block(interaction)).permute(1, 2, 0)


def irrep_basis(group: Group, irreps: list[str]) -> Float[Tensor, "elem span"]:
    """An orthonormal basis of the functions on G spanned by the `irreps`' matrix elements."""
    irreps = check_irreps(group, irreps)
    if not irreps:
        return torch.zeros(group.order, 0, dtype=torch.float64)
    elements = torch.cat([group.matrix_elements(name) for name in irreps], dim=1)
    u, s, _ = torch.linalg.svd(elements, full_matrices=False)
    return u[:, s > 1e-8 * s.max()]


def irrep_fractions(vectors: Float[Tensor, "elem k"], group: Group) -> Float[Tensor, "k irrep"]:
    """Share of each column's squared norm inside each irrep's span (rows sum to 1).

    The spans of different irreps are orthogonal and together fill all functions on G.
    """
    check_group(group)
    check_tensor(f"vectors (functions on {group.name}'s {group.order} elements)", vectors, "elem k",
                 {"elem": group.order}, floating=True, finite=True)
    vectors = vectors.to(torch.float64)
    norms = vectors.pow(2).sum(dim=0).clamp_min(1e-300)
    shares = [(irrep_basis(group, [name]).T @ vectors).pow(2).sum(dim=0) / norms for name in group.irreps]
    return torch.stack(shares, dim=1)


def key_irrep_share(singular: Float[Tensor, "cls k"], left: Float[Tensor, "cls a k"], group: Group,
                    irreps: list[str], rank: int) -> Float[Tensor, " cls"]:
    """For each output, the share of its block's top-`rank` singular vectors (left side, functions
    of a) inside the `irreps`' matrix elements, weighted by the squared singular values."""
    sizes = {"cls": len(singular), "a": group.order}
    check_tensor("singular", singular, "cls k", sizes, floating=True, finite=True)
    check_tensor("left", left, "cls a k", sizes, floating=True, finite=True)
    rank = check_integer("rank", rank, 1, sizes["k"] + 1)
    columns = [list(group.irreps).index(name) for name in check_irreps(group, irreps)]
    if not columns:
        raise ValueError("irreps is empty: name at least one irrep whose share to measure")
    weights = singular[:, :rank].pow(2)
    if bool((weights.sum(dim=1) == 0).any()):
        raise ValueError("an output's top singular values are all zero: its share is undefined (0 / 0)")
    inside = torch.stack([irrep_fractions(vectors[:, :rank], group)[:, columns].sum(dim=1) for vectors in left])
    return (inside * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-300)


def cross_block_spectrum(block: Float[Tensor, "cls a b"]) -> tuple[Float[Tensor, "cls k"], Float[Tensor, "cls a k"],
                                                                    Float[Tensor, "cls b k"]]:
    """Singular values (descending) and vectors of each output's a-by-b block: `M_c = U diag(s) V^T`.

    The cross term as a symmetric matrix over the two-hot input has eigenvalues `+-s / 2`,
    with eigenvectors `(u, +-v) / sqrt(2)`: a function of a beside a function of b.
    """
    check_tensor("block", block, "cls a b", floating=True, finite=True)
    u, s, vh = torch.linalg.svd(block)
    return s, u, vh.mT


def irrep_block_content(block: Float[Tensor, "cls a b"], group: Group, relative: float = 0.05) -> dict[str, dict]:
    """How each irrep shows up in the a-by-b blocks: energy share and rank of its part.

    Irrep rho's part of `M_c` is `P M_c P`, with `P` the projection onto rho's matrix elements
    (as functions of a on the left, of b on the right). "energy": its share of `||M_c||^2`,
    averaged over outputs; "rank": the median over outputs of its singular values above
    `relative` x its largest. A sum of `w chi(a b c^-1)` gives rank d^2 (the span); one matrix
    element of `rho(a b c^-1)` gives rank d.
    """
    check_group(group)
    check_tensor(f"block (outputs x {group.name}'s elements x elements)", block, "cls a b",
                 {"a": group.order, "b": group.order}, floating=True, finite=True)
    relative = check_number("relative", relative, 0.0, 1.0)
    block = block.to(torch.float64)
    total = block.pow(2).sum(dim=(-2, -1))
    if not bool((total > 0).all()):
        raise ValueError("block has an all-zero output: its irrep content is undefined (0 / 0)")
    content = {}
    for name in group.irreps:
        basis = irrep_basis(group, [name])
        part = basis.T @ block @ basis  # [cls, span, span], the part in rho's coordinates
        values = torch.linalg.svdvals(part)
        ranks = (values > relative * values[:, :1]).sum(dim=-1)
        content[name] = {"energy": (part.pow(2).sum(dim=(-2, -1)) / total).mean().item(),
                         "rank": int(ranks.median()), "dimension": group.dimension(name),
                         "span": group.span_dimension(name)}
    return content


def rank_at(values: Float[Tensor, "... k"], energy: float = 0.99) -> Tensor:
    """How many of the (descending) `values` hold `energy` of the sum of their squares."""
    check_tensor("values", values, "... k", floating=True, finite=True)
    energy = check_number("energy", energy)
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be a share of the squared sum, in (0, 1], got {energy}")
    if bool((values.pow(2).sum(dim=-1) == 0).any()):
        raise ValueError("rank_at needs values that are not all zero")
    share = values.pow(2).cumsum(dim=-1) / values.pow(2).sum(dim=-1, keepdim=True)
    return (share < energy - 1e-12).sum(dim=-1) + 1


def written_model(embed: Float[Tensor, "hid inp"], left: Float[Tensor, "hid hid"], right: Float[Tensor, "hid hid"],
                  head: Float[Tensor, "out hid"]) -> BilinearImageClassifier:
    """A one-block `BilinearImageClassifier` with the given embedding, left, right and readout weights
    (sizes read off them), in eval mode: how models written by hand from an irrep are built."""
    sizes: dict[str, int] = {}
    for key, tensor, axes in (("embed", embed, "hid inp"), ("left", left, "hid hid2"), ("right", right, "hid hid2"),
                              ("head", head, "out hid")):
        check_tensor(key, tensor, axes, sizes, floating=True, finite=True)
    model = BilinearImageClassifier(d_input=sizes["inp"], d_hidden=sizes["hid"], d_output=sizes["out"])
    weights = model.weight_matrices()
    with torch.no_grad():
        weights["embedding"].copy_(embed)
        weights["block 0"].copy_(torch.cat([left, right]))
        weights["readout"].copy_(head)
    return model.eval()


def model_from_irrep(group: Group, irrep: str, scale: float = 1.0) -> BilinearImageClassifier:
    """A bilinear model whose logits are exactly `scale * chi(a b c^-1)`, written from rho.

    `tr(rho(a) rho(b) rho(c)^T) = sum_ijk rho(a)_ij rho(b)_jk rho(c)_ik`: hidden unit (i, j, k)
    multiplies `rho(a)_ij` (left) by `rho(b)_jk` (right); the readout of c is `rho(c)_ik`.
    """
    scale = check_number("scale", scale, -math.inf)
    if scale == 0:
        raise ValueError("scale must not be 0: the model would compute nothing")
    check_group(group)
    rho = group.irreps[group.check_irrep(irrep)].float()
    order, d = group.order, rho.shape[-1]
    width = max(2 * d * d, d**3)
    embed, left, right, head = (torch.zeros(width, 2 * order), torch.zeros(width, width),
                                torch.zeros(width, width), torch.zeros(order, width))
    embed[: d * d, :order] = rho.flatten(start_dim=1).T  # row i*d + j holds rho(a)_ij
    embed[d * d : 2 * d * d, order:] = rho.flatten(start_dim=1).T  # row d^2 + j*d + k holds rho(b)_jk
    for i in range(d):
        for j in range(d):
            for k in range(d):
                unit = (i * d + j) * d + k
                left[unit, i * d + j] = 1.0
                right[unit, d * d + j * d + k] = 1.0
                head[:, unit] = scale * rho[:, i, k]
    return written_model(embed, left, right, head)


def check_rebuilt(logits: Float[Tensor, "a b c"], interaction: Float[Tensor, "cls in1 in2"]) -> float:
    """Largest |logit - logit rebuilt from Q| relative to the largest |logit|."""
    order = check_pair_interactions(interaction).shape[0]
    check_tensor("logits", logits, "a b c", {"a": order, "b": order, "c": order}, floating=True, finite=True)
    if float(logits.abs().max()) == 0:
        raise ValueError("logits are all zero: an error relative to them is undefined")
    rebuilt = logits_from_interactions(interaction)
    return ((rebuilt - logits).abs().max() / logits.abs().max().clamp_min(1e-300)).item()


__all__ = [
    "check_rebuilt",
    "cross_block",
    "cross_block_spectrum",
    "irrep_basis",
    "irrep_block_content",
    "irrep_fractions",
    "key_irrep_share",
    "logits_from_interactions",
    "model_from_irrep",
    "pair_interaction_matrices",
    "rank_at",
    "written_model",
]
