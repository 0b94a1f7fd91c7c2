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
from ..decomposition import orient_eigenvectors, project_eigenvectors_to_input
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
    ks = [int(k) for k in ks]
    if any(k < 0 for k in ks):
        raise ValueError(f"k must be >= 0, got {ks}")
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
    ks = list(ks)
    logits = torch.cat([truncated_logits_by_k(artifacts, h[start : start + batch_size], ks, by)
                        for start in range(0, len(h), batch_size)], dim=1)
    return [accuracy(logits_k, y) for logits_k in logits]


def hosvd(tensor: Float[Tensor, "cls in1 in2"]) -> tuple[Tensor, Tensor, Tensor]:
    """SVD of the class tensor flattened to `[C, d*d]`: `(U [C, r], S [r], V [r, d, d])`, r = min(C, d*d).

    `tensor[c] = sum_n U[c, n] S[n] V[n]`: each V[n] is an interaction matrix shared by all
    classes, mixed into class c with weight `U[c, n] S[n]`.
    """
    u, s, vh = torch.linalg.svd(rearrange(tensor, "cls in1 in2 -> cls (in1 in2)"), full_matrices=False)
    return u, s, rearrange(vh, "n (in1 in2) -> n in1 in2", in1=tensor.shape[-2])


def hosvd_truncated_tensor(tensor: Float[Tensor, "cls in1 in2"], n: int) -> Float[Tensor, "cls in1 in2"]:
    """The class tensor rebuilt from its top n HOSVD components (n >= C rebuilds it exactly)."""
    u, s, v = hosvd(tensor)
    n = min(int(n), len(s))
    return einsum(u[:, :n] * s[:n], v[:n], "cls n, n in1 in2 -> cls in1 in2")


def hosvd_accuracy(
    artifacts: DecompositionArtifacts, h: Float[Tensor, "batch in1"], y: Int64[Tensor, " batch"], ns: Iterable[int]
) -> list[float]:
    """Accuracy when every class's matrix is rebuilt from the top n HOSVD components, for each n."""
    h = augment(h.detach().to(device="cpu", dtype=artifacts.eigenvalues.dtype), artifacts.bias)
    accuracies = []
    for n in ns:
        tensor = hosvd_truncated_tensor(artifacts.symmetrized_tensor, n)
        accuracies.append(accuracy(einsum(h, tensor, h, "b in1, cls in1 in2, b in2 -> b cls"), y))
    return accuracies


def hosvd_components(
    artifacts: DecompositionArtifacts, embedding_weight: Float[Tensor, "in1 inp"]
) -> tuple[DecompositionArtifacts, Float[Tensor, "n cls"]]:
    """Each HOSVD component `V[n]` decomposed like a class matrix, and the logits it writes.

    Returns `(components, writes)`: `components` holds the eigenvalues and (pixel-space)
    eigenvectors of every shared matrix `V[n]`; `writes[n, c] = U[c, n] S[n]` is the weight
    with which component n enters class c's matrix, so `Q_c = sum_n writes[n, c] V[n]`.
    """
    d_hidden = embedding_weight.shape[0]
    if embedding_weight.ndim != 2 or d_hidden != artifacts.width - int(artifacts.bias):
        raise ValueError(f"embedding_weight must be [{artifacts.width - int(artifacts.bias)}, inp] for this "
                         f"decomposition, got {tuple(embedding_weight.shape)}: pass the decomposed model's "
                         "embedding_weight")
    u, s, v = hosvd(artifacts.symmetrized_tensor)
    eigenvalues, eigenvectors = torch.linalg.eigh(v)
    white = augment(embedding_weight.detach().cpu().to(v.dtype).sum(-1, keepdim=True).T, artifacts.bias)[0]
    eigenvectors = orient_eigenvectors(eigenvectors, white)  # the package's sign rule: E 1 projects positively
    components = DecompositionArtifacts(
        bilinear_tensor=v, symmetrized_tensor=v, eigenvalues=eigenvalues, eigenvectors_hidden=eigenvectors,
        eigenvectors_input=project_eigenvectors_to_input(eigenvectors[:, :d_hidden], embedding_weight.detach().cpu()),
        bias=artifacts.bias, layer=artifacts.layer, output_names=[f"HOSVD {n + 1}" for n in range(len(s))],
    )
    return components, (u * s).T
