"""Comparing bilinear models directly: pixel space is shared, so their eigenvectors compare without any
alignment (`match_eigenvectors`), and `function_similarity` compares what two models compute in closed
form, from the mean and covariance of the inputs alone (no forward pass over data).
"""

from __future__ import annotations

import numpy as np
import torch
from einops import einsum
from jaxtyping import Float
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from ..checks import check_tensor
from ..decomposition import check_decomposable, raw_interaction_matrices, symmetrize
from ..models import check_classifier


def match_eigenvectors(pixels_a: Float[Tensor, "k inp"], pixels_b: Float[Tensor, "k inp"]) -> tuple[
        Float[Tensor, "k k"], np.ndarray, Float[Tensor, " k"]]:
    """|cos| between two models' pixel-space eigenvectors, and the one-to-one matching that maximises it.

    Returns `(similarity [k, k], columns, matched)`: eigenvector i of model a is matched to
    `columns[i]` of model b (scipy's `linear_sum_assignment`), with |cos| `matched[i]`.
    """
    sizes: dict[str, int] = {}
    check_tensor("pixels_a", pixels_a, "k inp", sizes, floating=True, finite=True)
    check_tensor("pixels_b", pixels_b, "k inp", sizes, floating=True, finite=True)
    a, b = pixels_a.detach().double(), pixels_b.detach().double()
    for key, rows in (("pixels_a", a), ("pixels_b", b)):
        if bool((rows.norm(dim=-1) == 0).any()):
            raise ValueError(f"{key} has an all-zero row: a zero vector has no direction to compare")
    a, b = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    similarity = (a @ b.T).abs()
    rows, columns = linear_sum_assignment(similarity.numpy(), maximize=True)
    return similarity, columns, similarity[rows, columns]


def _pixel_forms(model: nn.Module) -> tuple[Float[Tensor, "cls d d"], Float[Tensor, "d inp"]]:
    model = check_decomposable(model)
    if model.n_layer != 1 or model.bias or model.residual:
        raise ValueError("function_similarity needs one-layer bilinear models without bias or residual")
    return symmetrize(raw_interaction_matrices(model)), model.embedding_weight.double().cpu()


def function_similarity(model_a: nn.Module, model_b: nn.Module, mean: Tensor | None = None,
                        cov: Tensor | None = None) -> Float[Tensor, "cls_a cls_b"]:
    """Correlation of output c of model a with output c' of model b over inputs `x ~ N(mean, cov)`.

    Each logit is `x^T M x` with `M = E^T Q E`. For Gaussian x, `E[f] = tr(M S) + m^T M m` and
    `Cov(f_a, f_b) = 2 tr(M_a S M_b S) + 4 m^T M_a S M_b m`; both are computed in hidden space
    through `K_ab = E_a S E_b^T`, so no pixel-by-pixel matrix per class is ever built. With
    `mean`/`cov` None, x is standard normal.
    """
    q_a, e_a = _pixel_forms(model_a)
    q_b, e_b = _pixel_forms(model_b)
    d_input = e_a.shape[1]
    if e_b.shape[1] != d_input:
        raise ValueError(f"the models read inputs of different sizes ({d_input} and {e_b.shape[1]}): "
                         "function similarity compares models over the same inputs")
    for key, value in (("mean", mean), ("cov", cov)):
        if value is not None:
            check_tensor(key, value, "...", floating=True)
    mean = torch.zeros(d_input, dtype=torch.float64) if mean is None else mean.double().flatten()
    cov = torch.eye(d_input, dtype=torch.float64) if cov is None else cov.double()
    if cov.shape != (d_input, d_input) or mean.shape != (d_input,):
        raise ValueError(f"mean must be [{d_input}] and cov [{d_input}, {d_input}], "
                         f"got {tuple(mean.shape)} and {tuple(cov.shape)}")
    if not bool(torch.isfinite(mean).all() and torch.isfinite(cov).all()):
        raise ValueError("mean and cov must hold finite numbers, got NaN or inf")
    if not torch.allclose(cov, cov.T) or float(torch.linalg.eigvalsh(cov).min()) < -1e-8 * float(cov.abs().max()):
        raise ValueError("cov must be a covariance: symmetric and positive semi-definite")

    def covariance(q1, e1, q2, e2):
        k12, k21 = e1 @ cov @ e2.T, e2 @ cov @ e1.T
        quartic = einsum(q1 @ k12, q2 @ k21, "c i k, e k i -> c e")  # tr(Q1 K12 Q2 K21)
        w1, w2 = q1 @ (e1 @ mean), q2 @ (e2 @ mean)  # [cls, d]
        return 2 * quartic + 4 * einsum(w1, k12, w2, "c i, i k, e k -> c e")

    var_a = covariance(q_a, e_a, q_a, e_a).diagonal()
    var_b = covariance(q_b, e_b, q_b, e_b).diagonal()
    if bool((var_a <= 0).any() or (var_b <= 0).any()):
        raise ValueError("an output has no variance over these inputs (a zero readout row, or a cov that hides it): "
                         "its correlation is undefined")
    return covariance(q_a, e_a, q_b, e_b) / torch.sqrt(var_a[:, None] * var_b[None, :])


def subspace_overlap(pixels_a: Float[Tensor, "k inp"], pixels_b: Float[Tensor, "k inp"]) -> Float[Tensor, " k"]:
    """Cosines of the principal angles between the spans of two sets of pixel-space vectors, largest
    first: all 1 when the spans agree even if the vectors within them are rotated."""
    sizes: dict[str, int] = {}
    check_tensor("pixels_a", pixels_a, "k inp", sizes, floating=True, finite=True)
    check_tensor("pixels_b", pixels_b, "k inp", sizes, floating=True, finite=True)
    bases = []
    for key, rows in (("pixels_a", pixels_a), ("pixels_b", pixels_b)):
        q, r = torch.linalg.qr(rows.detach().double().T)
        if bool((r.diagonal().abs() < 1e-10 * r.diagonal().abs().max()).any()):
            raise ValueError(f"{key} has linearly dependent rows: they span fewer than {len(rows)} directions")
        bases.append(q)
    return torch.linalg.svdvals(bases[0].T @ bases[1]).clamp(max=1.0)


@torch.no_grad()
def logit_correlation(model_a: nn.Module, model_b: nn.Module, images: Tensor) -> Float[Tensor, "cls_a cls_b"]:
    """The empirical correlation, over `images`, of every logit of model a with every logit of model b
    (any classifiers): for bilinear models, what `function_similarity` computes in closed form
    from the inputs' mean and covariance."""
    check_tensor("images", images, "n ...", floating=True, finite=True)
    if len(images) < 2:
        raise ValueError("a correlation needs at least 2 images")
    logits = []
    for model in (model_a, model_b):
        model = check_classifier(model).eval()
        parameter = next(model.parameters())
        logits.append(model(images.to(parameter.device, parameter.dtype)).double().cpu())
    a, b = (x - x.mean(dim=0) for x in logits)
    return (a.T @ b) / torch.outer(a.norm(dim=0), b.norm(dim=0))
