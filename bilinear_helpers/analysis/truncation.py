"""Low-rank versions of a decomposed model: keep a few eigen-components, or a few HOSVD terms.

Because `logit_c = sum_i lambda_i (v_i . h)^2` exactly, dropping components gives a model
whose logits are partial sums. Two rules pick what to keep for each class:

- "abs": the k components with the largest |lambda|;
- "paired": the k most positive and the k most negative (2k in all).

The HOSVD of the earlier paper flattens the class tensor to `[C, d*d]` and keeps its top
singular components: a low-rank approximation across classes rather than within one.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from einops import einsum, rearrange
from jaxtyping import Float, Int64
from torch import Tensor

from ..artifacts import DecompositionArtifacts, augment
from ..checks import check_counts, check_integer, check_labels, check_tensor
from ..decomposition import check_decomposable, decompose_direction, raw_interaction_matrices
from ..models import accuracy

TRUNCATION_RULES = ("abs", "paired")


def _ordered_cumulative(contrib: Tensor, order: Tensor) -> Tensor:
    """Cumulative sums of `contrib [B, C, d]` over components taken in `order [C, d]`, with a leading 0."""
    ordered = contrib.gather(2, order.unsqueeze(0).expand(len(contrib), -1, -1))
    zero = torch.zeros_like(ordered[:, :, :1])
    return torch.cat([zero, ordered.cumsum(dim=-1)], dim=-1)  # [B, C, d + 1]: entry k keeps k components


def truncated_logits_by_k(
    artifacts: DecompositionArtifacts, h: Float[Tensor, "batch in1"], ks: Iterable[int], by: str = "abs"
) -> Float[Tensor, "k batch cls"]:
    """Logits that keep k components per class, for every k in `ks` (k >= width keeps all).

    `by="abs"` keeps the k largest |lambda|; `by="paired"` the k most positive and the k
    most negative. k = 0 keeps nothing: every logit is 0. `h` is the decomposed block's input.
    """
    if by not in TRUNCATION_RULES:
        raise ValueError(f"unknown truncation rule {by!r}: use one of {list(TRUNCATION_RULES)}")
    ks = check_counts("ks", ks)
    width = artifacts.width
    contrib = artifacts.contributions(h)  # [B, C, d]
    if by == "abs":
        cumulative = _ordered_cumulative(contrib, artifacts.top(width, by="abs"))
        return torch.stack([cumulative[:, :, min(k, width)] for k in ks])
    positive = _ordered_cumulative(contrib, artifacts.top(width, by="positive"))
    negative = _ordered_cumulative(contrib, artifacts.top(width, by="negative"))
    full = contrib.sum(-1)
    # k from each end; once the two ends meet (2k >= width) every component is kept
    return torch.stack([full if 2 * k >= width else positive[:, :, k] + negative[:, :, k] for k in ks])


def truncated_accuracy(
    artifacts: DecompositionArtifacts, h: Float[Tensor, "batch in1"], y: Int64[Tensor, " batch"], ks: Iterable[int],
    by: str = "abs", batch_size: int = 1000,
) -> list[float]:
    """Accuracy of the model truncated to k components per class, for each k in `ks` (`h`: the block's input)."""
    batch_size = check_integer("batch_size", batch_size, 1)
    sizes: dict[str, int] = {}
    check_tensor("h", h, "n in1", sizes)
    check_labels(y, artifacts.num_outputs, sizes, key="y")
    ks = check_counts("ks", ks)
    logits = torch.cat([truncated_logits_by_k(artifacts, h[start : start + batch_size], ks, by)
                        for start in range(0, len(h), batch_size)], dim=1)
    return [accuracy(logits_k, y) for logits_k in logits]


def hosvd(tensor: Float[Tensor, "cls in1 in2"]) -> tuple[Tensor, Tensor, Tensor]:
    """SVD of the class tensor flattened to `[C, d*d]`: `(U [C, r], S [r], V [r, d, d])`, r = min(C, d*d).

    `tensor[c] = sum_n U[c, n] S[n] V[n]`: each V[n] is an interaction matrix shared by all
    classes, mixed into class c with weight `U[c, n] S[n]`.
    """
    check_tensor("tensor", tensor, "cls in1 in2", floating=True, finite=True)
    if tensor.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"tensor must be float32 or float64 for the SVD, got {tensor.dtype}; convert it with "
                         ".double()")
    u, s, vh = torch.linalg.svd(rearrange(tensor, "cls in1 in2 -> cls (in1 in2)"), full_matrices=False)
    return u, s, rearrange(vh, "n (in1 in2) -> n in1 in2", in1=tensor.shape[-2])


def hosvd_truncated_tensor(tensor: Float[Tensor, "cls in1 in2"], n: int) -> Float[Tensor, "cls in1 in2"]:
    """The class tensor rebuilt from its top n HOSVD components (n >= C rebuilds it exactly)."""
    u, s, v = hosvd(tensor)
    n = min(check_integer("n", n, 0), len(s))
    return einsum(u[:, :n] * s[:n], v[:n], "cls n, n in1 in2 -> cls in1 in2")


def hosvd_accuracy(
    artifacts: DecompositionArtifacts, h: Float[Tensor, "batch in1"], y: Int64[Tensor, " batch"], ns: Iterable[int]
) -> list[float]:
    """Accuracy when every class's matrix is rebuilt from the top n HOSVD components, for each n."""
    sizes: dict[str, int] = {}
    check_tensor("h", h, "n in1", sizes)
    check_labels(y, artifacts.num_outputs, sizes, key="y")
    ns = check_counts("ns", ns)
    h = augment(h.detach().to(device="cpu", dtype=artifacts.eigenvalues.dtype), artifacts.bias)
    if h.shape[1] != artifacts.width:
        raise ValueError(f"h must be the decomposed block's input [batch, {artifacts.width - artifacts.bias}], got "
                         f"{tuple(h.shape)}: pass model.block_input(x, block={artifacts.block})")
    accuracies = []
    for n in ns:
        tensor = hosvd_truncated_tensor(artifacts.interactions, n)
        accuracies.append(accuracy(einsum(h, tensor, h, "b in1, cls in1 in2, b in2 -> b cls"), y))
    return accuracies


def hosvd_components(
    model: torch.nn.Module, artifacts: DecompositionArtifacts
) -> tuple[DecompositionArtifacts, Float[Tensor, "n cls"]]:
    """Each HOSVD component `V[n]` decomposed like a class matrix, and the logits it writes.

    `V[n] = sum_c U[c, n] Q_c / S[n]` is itself the interaction matrix of one direction in
    the block's output space, `u_n = sum_c U[c, n] U_readout[c] / S[n]`, so the components
    are `decompose_direction(model, block, u)`: the decomposition's own steps, orientation
    and pixel projection included. Returns `(components, writes)`; `writes[n, c] = U[c, n] S[n]`
    is the weight with which component n enters class c, so `Q_c = sum_n writes[n, c] V[n]`.
    """
    if not isinstance(artifacts, DecompositionArtifacts):
        raise TypeError(f"artifacts must be a DecompositionArtifacts (hosvd_components(model, artifacts)), got "
                        f"{type(artifacts).__name__}")
    check_decomposable(model)
    if model.block_index(artifacts.block) != model.n_layer - 1 or bool(model.bias) != artifacts.bias:
        raise ValueError("the model is not the one decomposed: its last block or bias differs from the artifacts'")
    raw = raw_interaction_matrices(model, dtype=artifacts.raw_interactions.dtype)
    if raw.shape != artifacts.raw_interactions.shape or not torch.allclose(raw, artifacts.raw_interactions,
                                                                           rtol=1e-5, atol=1e-8):
        raise ValueError("the model is not the one decomposed: its interaction matrices differ from the artifacts'. "
                         "Pass the model that decompose_bilinear_model was given")
    u, s, _ = hosvd(artifacts.interactions)
    if bool((s <= s.max() * 1e-12).any()):
        raise ValueError(f"the class tensor has rank {int((s > s.max() * 1e-12).sum())} of {len(s)}: its last HOSVD "
                         "components write nothing and cannot be decomposed")
    readout = model.readout_weight.to(device="cpu", dtype=u.dtype)
    directions = einsum(u / s, readout, "cls n, cls out -> n out")
    components = decompose_direction(model, artifacts.block, directions, dtype=u.dtype)
    components.output_names = [f"HOSVD {n + 1}" for n in range(len(s))]
    return components, (u * s).T
