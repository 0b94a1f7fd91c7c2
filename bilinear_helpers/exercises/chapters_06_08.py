"""Exercise checks for notebooks 06-08 (see each check's docstring for its exercise)."""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor, nn

from ..analysis.group_weights import cross_block, pair_interaction_matrices
from ..analysis.groups import character_cube, logit_similarity
from ..analysis.modularity import ablate_clusters
from ..artifacts import DecompositionArtifacts
from ..decomposition import check_decomposable, raw_interaction_matrices, symmetrize
from ..groups import Group
from ..models import check_classifier
from ..training.clusterability import block_clusters, clusterability
from .feedback import WrongAnswer, as_integer, as_number, as_tensor, graded

__all__ = ["check_block_rank", "check_cluster_off_drops", "check_clusterability", "check_eigenvector_cosines",
           "check_logit_similarity", "check_normal_function_similarity"]


def _diagnose(answer: Tensor, expected: Tensor, mistakes: dict[str, Tensor | None], atol: float = 1e-6) -> None:
    """Raise the message of the first mistake `answer` matches (mistakes that coincide with `expected` skipped)."""
    answer, expected = answer.double(), expected.double()
    for message, value in mistakes.items():
        value = None if value is None else torch.as_tensor(value, dtype=torch.float64)
        if value is None or value.shape != expected.shape or torch.allclose(value, expected, rtol=1e-6, atol=atol):
            continue
        if torch.allclose(answer, value, rtol=1e-6, atol=atol):
            raise WrongAnswer(message)


def _model(key: str, model: Any) -> nn.Module:
    try:
        return check_classifier(model, key)
    except (TypeError, ValueError) as error:
        raise WrongAnswer(str(error)) from None


def _gap(answer: Tensor, expected: Tensor) -> str:
    return f"largest difference {float((answer - expected).abs().max()):.3g}"


@graded
def check_eigenvector_cosines(decomposition_a: DecompositionArtifacts, decomposition_b: DecompositionArtifacts,
                              class_index: int, k: int, my_cosines: Any) -> str:
    """Exercise 06.1: |cos| between two models' top-k positive pixel-space eigenvectors of one class.

    `my_cosines[i, j] = |cos(E_a^T v_i^a, E_b^T v_j^b)|`, `[k, k]`, rows model a, both in
    descending order of eigenvalue (eigenvalues are stored ascending).
    """
    for key, value in (("decomposition_a", decomposition_a), ("decomposition_b", decomposition_b)):
        if not isinstance(value, DecompositionArtifacts) or value.pixel_eigenvectors is None:
            raise WrongAnswer(f"`{key}` should be a one-block model's decomposition (bh.decompose_bilinear_model), "
                              f"got {type(value).__name__}.")
    c = as_integer("class_index", class_index, 0, decomposition_a.num_outputs)
    k = as_integer("k", k, 1, min(decomposition_a.width, decomposition_b.width) + 1)
    answer = as_tensor("my_cosines", my_cosines, (k, k))

    def cosines(by: str, pixels: bool = True, unit: bool = True, signed: bool = False) -> Tensor | None:
        rows = []
        for d in (decomposition_a, decomposition_b):
            index = d.eigenvalues[c].argsort()[-k:] if by == "ascending" else d.top(k, by=by)[c]
            rows.append((d.pixel_eigenvectors if pixels else d.eigenvectors)[c, index].double())
        if rows[0].shape[-1] != rows[1].shape[-1]:
            return None
        a, b = (r / r.norm(dim=-1, keepdim=True) for r in rows) if unit else rows
        return a @ b.T if signed else (a @ b.T).abs()

    expected = cosines("positive")
    if torch.allclose(answer, expected, rtol=1e-6, atol=1e-6):
        best = expected[0].argmax().item()
        return (f"class {decomposition_a.names()[c]}: the two top eigenvectors agree at |cos| {expected[0, 0]:.2f}; "
                f"model a's top one matches model b's #{best + 1} best; mean of each row's best match "
                f"{expected.max(dim=1).values.mean():.2f}.")
    _diagnose(answer, expected, {
        "Some entries are negative: an eigenvector's sign is arbitrary (v and -v give the same lambda (v . x)^2), "
        "so compare directions with the absolute value, |cos|.": cosines("positive", signed=True),
        "This is the transpose: rows should be model a's eigenvectors, columns model b's.": expected.T,
        "Pixel-space eigenvectors E^T v are not unit vectors (E is not orthogonal), so a dot product is not a "
        "cosine yet: divide each row by its norm first.": cosines("positive", unit=False),
        "These are the eigenvectors in hidden space: two models' hidden units are in no particular order, so their "
        "hidden coordinates do not compare. Use `pixel_eigenvectors` (E^T v), which live in the shared pixel "
        "space.": cosines("positive", pixels=False),
        "These are the most *negative* eigenvalues' eigenvectors: eigenvalues are stored ascending, so index 0 is "
        "the most negative. Take `top(k, by='positive')` (or the last k, reversed).": cosines("negative"),
        "These are the top k by |lambda|, which mixes in negative eigenvalues: take the most positive ones, "
        "`top(k, by='positive')`.": cosines("abs"),
        "Right eigenvectors, wrong order: the last k of the ascending eigenvalues run from the k-th largest up to "
        "the largest. Reverse them (or use `top(k, by='positive')`) so row and column 0 are the top "
        "eigenvectors.": cosines("ascending"),
    })
    raise WrongAnswer(f"That is not the |cos| expected ({_gap(answer, expected)}). Take each model's top {k} "
                      f"positive eigenvectors of class {c} in pixel space, normalise the rows, and take |A B^T|.")


def _frobenius(x: Tensor, y: Tensor, k: Tensor) -> Float[Tensor, " cls"]:
    """`<E_1^T X_c E_1, E_2^T Y_c E_2>_F` for every c, computed in hidden space with `k = E_1 E_2^T`."""
    return ((x.mT @ k) @ y * k).sum(dim=(-2, -1))


@graded
def check_normal_function_similarity(model_a: nn.Module, model_b: nn.Module, my_correlations: Any) -> str:
    """Exercise 06.2: correlation of logit c of model a with logit c of model b over x ~ N(0, I), `[cls]`.

    With `M_c = E^T Q_c E`: `Cov(f_a, f_b) = 2 tr(M_a M_b)`, so the correlation is the cosine of
    the symmetric pixel-space matrices, `<M_a, M_b>_F / (||M_a||_F ||M_b||_F)`.
    """
    for key, model in (("model_a", model_a), ("model_b", model_b)):
        try:
            check_decomposable(_model(key, model))
        except (TypeError, ValueError) as error:
            raise WrongAnswer(f"`{key}` cannot be compared in closed form: {error}") from None
        if model.n_layer != 1 or model.bias or model.residual:
            raise WrongAnswer(f"`{key}` should be a one-layer bilinear model without bias or residual.")
    n_classes = model_a.d_output
    if tuple(as_tensor("my_correlations", my_correlations).shape) == (n_classes, n_classes):
        raise WrongAnswer("This is every pair of classes; the exercise asks for the same class in both models, "
                          "one number per class: take the diagonal.")
    answer = as_tensor("my_correlations", my_correlations, (n_classes,))
    (raw_a, e_a), (raw_b, e_b) = ((raw_interaction_matrices(m), m.embedding_weight.detach().double().cpu())
                                  for m in (model_a, model_b))
    k_ab, k_aa, k_bb = e_a @ e_b.T, e_a @ e_a.T, e_b @ e_b.T

    def correlation(x: Tensor, y: Tensor) -> Tensor:
        return _frobenius(x, y, k_ab) / (_frobenius(x, x, k_aa) * _frobenius(y, y, k_bb)).sqrt()

    q_a, q_b = symmetrize(raw_a), symmetrize(raw_b)
    expected = correlation(q_a, q_b)
    if torch.allclose(answer, expected, rtol=1e-6, atol=1e-6):
        return (f"same-class correlation on standard normal inputs: mean over classes {expected.mean():.2f}, lowest "
                f"{expected.min():.2f} (class {int(expected.argmin())}), with no forward pass.")
    hidden = None if q_a.shape != q_b.shape else (q_a * q_b).sum((-2, -1)) / (q_a.norm(dim=(-2, -1))
                                                                              * q_b.norm(dim=(-2, -1)))
    _diagnose(answer, expected, {
        "Q_c must be symmetrised first: the raw B_c = sum_o U_co L_o (x) R_o has an antisymmetric part that no "
        "input sees (x^T A x = 0) but that still counts in a Frobenius product. Use (B + B^T) / 2.":
            correlation(raw_a, raw_b),
        "This compares Q_c in hidden space: the two models' hidden units are in no particular order, so their "
        "matrices must first be taken to pixel space, M_c = E^T Q_c E (or use K = E_a E_b^T).": hidden,
        "This is the covariance 2 tr(M_a M_b); a correlation divides it by the two standard deviations, "
        "sqrt(2 tr(M_a^2)) and sqrt(2 tr(M_b^2)).": 2 * _frobenius(q_a, q_b, k_ab),
        "This is tr(M_a M_b), not yet normalised: divide by ||M_a||_F ||M_b||_F to get a correlation in "
        "[-1, 1].": _frobenius(q_a, q_b, k_ab),
    }, atol=1e-6)
    raise WrongAnswer(f"That is not the correlations expected ({_gap(answer, expected)}). For standard normal x, "
                      "corr(f_a, f_b) = tr(M_a M_b) / (||M_a|| ||M_b||) with M_c = E^T Q_c E.")


@graded
def check_block_rank(model: nn.Module, my_rank: Any) -> str:
    """Exercise 07.1: the rank of the a-by-b block `M_c = 2 Q_c[a, |G| + b]`, the largest over outputs c
    (singular values below 1e-6 of each block's largest count as zero: float noise)."""
    try:
        interaction = pair_interaction_matrices(_model("model", model))
    except (TypeError, ValueError) as error:
        raise WrongAnswer(f"`model` should be a one-block bilinear model of a group's pairs: {error}") from None
    singular = torch.linalg.svdvals(cross_block(interaction))
    rank = int((singular > 1e-6 * singular[:, :1]).sum(dim=1).max())
    eigenvalues = torch.linalg.eigvalsh(interaction).abs()
    q_rank = int((eigenvalues > 1e-6 * eigenvalues.max(dim=1, keepdim=True).values).sum(dim=1).max())
    answer = as_integer("my_rank", my_rank, 0, 10**9)
    if answer == rank:
        return (f"every output's a-by-b block has rank at most {rank} ({singular.shape[1]} singular values, "
                f"{model.d_hidden} hidden units).")
    if answer == q_rank:
        raise WrongAnswer("That counts the eigenvalues of the whole Q_c over the two-hot input: there the a-by-b "
                          "part appears twice (as eigenvalues +s/2 and -s/2), beside the a-a and b-b blocks. Take "
                          "`cross_block(...)` and count its singular values.")
    if answer == singular.shape[1]:
        raise WrongAnswer("That counts every singular value, float noise included: count only those above 1e-6 "
                          "of each block's largest.")
    if answer in (rank**2, rank**0.5):
        width = " and, here, the hidden width" if answer == model.d_hidden else ""
        raise WrongAnswer(f"{answer} is what the other solution would give{width} (rank d for a single matrix "
                          "element, d^2 for a character); this model's blocks say which one it computes: count their "
                          "singular values.")
    if answer == model.d_hidden:
        raise WrongAnswer(f"{answer} is the hidden width, which only bounds the rank: count the singular values.")
    raise WrongAnswer(f"That is not the rank (yours: {answer}): count, for each output c, the singular values of its "
                      "a-by-b block above 1e-6 of the largest, and take the largest count.")


@graded
def check_logit_similarity(logits: Any, group: Group, irrep: str, my_similarity: Any) -> str:
    """Exercise 07.2: the cosine of the logits `[a, b, c]`, centred over c, with `chi(a b c^-1)` (one number)."""
    if not isinstance(group, Group):
        raise WrongAnswer(f"`group` should be a group (bh.make_group), got {type(group).__name__}.")
    if irrep not in group.irreps:
        raise WrongAnswer(f"{group.name} has no irrep {irrep!r}; its irreps are {list(group.irreps)}.")
    n = group.order
    cube = as_tensor("logits", logits, (n, n, n))
    answer = as_number("my_similarity", my_similarity)
    expected = logit_similarity(cube, group)[irrep]
    if abs(answer - expected) < 1e-6:
        return (f"the {irrep} character's similarity with these logits is {expected:.3f}: it holds "
                f"{expected**2:.0%} of their centred variance.")
    character = character_cube(group, irrep).flatten()

    def cosine(values: Tensor, target: Tensor = character) -> Tensor:
        return torch.nn.functional.cosine_similarity(values.flatten(), target, dim=0)

    no_inverse = group.characters[irrep][group.table[group.table[:, :, None], torch.arange(n)[None, None, :]]]
    centred = cube - cube.mean(dim=-1, keepdim=True)
    _diagnose(torch.tensor(answer, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64), {
        "The logits were not centred: subtract each pair's mean over the outputs c first (logits.mean(dim=-1)), "
        "which a character of a nontrivial irrep cannot explain.": cosine(cube),
        "Centred over the wrong axis (a): the mean to remove is over the outputs c, the last axis.": cosine(
            cube - cube.mean(dim=0, keepdim=True)),
        "Centred over the wrong axis (b): the mean to remove is over the outputs c, the last axis.": cosine(
            cube - cube.mean(dim=1, keepdim=True)),
        "Centred by one global mean: each pair (a, b) needs its own mean over c removed.": cosine(cube - cube.mean()),
        "That compares with chi(a b c), without the inverse: the logit of c is largest where a b c^-1 = e, so "
        "use `character_cube`, or group.inverse for c.": cosine(centred, no_inverse.flatten()),
        "That is the squared similarity (the share of variance explained); the exercise asks for the cosine "
        "itself.": expected**2,
    })
    raise WrongAnswer(f"That is not the similarity expected (yours {answer:.4f}). Centre the logits over c, flatten, "
                      f"and take the cosine with `character_cube(group, {irrep!r})`.")


@graded
def check_clusterability(weight: Any, n_clusters: int, my_clusterability: Any) -> str:
    """Exercise 08.1: `C(W) = sum_{same cluster} W^2 / sum W^2` for `weight [out, inp]`, contiguous clusters
    (`bh.block_clusters`: unit u of n in cluster `u * k // n`)."""
    w = as_tensor("weight", weight)
    if w.ndim != 2:
        raise WrongAnswer(f"`weight` should be a matrix [out, inp], got shape {tuple(w.shape)}.")
    k = as_integer("n_clusters", n_clusters, 1, min(w.shape) + 1)
    answer = as_number("my_clusterability", my_clusterability)

    def share(values: Tensor, rows: Tensor, cols: Tensor, normalise: bool = True) -> Tensor:
        inside = (values * (rows[:, None] == cols[None, :])).sum()
        return inside / values.sum() if normalise else inside

    contiguous = block_clusters(w.shape[0], k), block_clusters(w.shape[1], k)
    expected = clusterability(w, *contiguous)
    if abs(answer - expected) < 1e-6:
        return f"C = {expected:.3f} with {k} clusters (about 1/k = {1 / k:.2f} for a weight with no structure)."
    per_unit = min(w.shape) // k
    _diagnose(torch.tensor(answer, dtype=torch.float64), expected, {
        "That uses |W|; the clusterability shares the *squared* weights, W^2.": share(w.abs(), *contiguous),
        "That is the share *outside* the clusters, 1 - C.": 1 - expected,
        "That is the sum inside the clusters, not yet divided by the sum of all W^2: C is a share in [0, 1].":
            share(w**2, *contiguous, False),
        f"Those are {per_unit} clusters of {k} units each; there should be {k} clusters (of "
        f"{w.shape[0] // k} units).": share(w**2, block_clusters(w.shape[0], per_unit),
                                            block_clusters(w.shape[1], per_unit)) if per_unit > 1 else None,
        "Those clusters are interleaved (unit % k); the trained clusters are contiguous blocks of units "
        "(bh.block_clusters).": share(w**2, torch.arange(w.shape[0]) % k, torch.arange(w.shape[1]) % k),
    })
    raise WrongAnswer(f"That is not the clusterability (yours {answer:.4f}): square the weights, sum those whose row "
                      "and column share a cluster, divide by the sum of all.")


@torch.no_grad()
def _accuracies(model: nn.Module, images: Tensor, labels: Tensor, c: int) -> tuple[float, float]:
    """(accuracy on class c's images, overall accuracy)."""
    correct = model.eval()(images).argmax(dim=-1) == labels
    return correct[labels == c].double().mean().item(), correct.double().mean().item()


@graded
def check_cluster_off_drops(model: nn.Module, images: Tensor, labels: Tensor, n_clusters: int, class_index: int,
                            my_drops: Any) -> str:
    """Exercise 08.2: class c's accuracy lost with each cluster of hidden units off, `[n_clusters]`:
    `drop_j = acc_c(whole model) - acc_c(cluster j off)` (`ablate_clusters` keeps the others on)."""
    k = as_integer("n_clusters", n_clusters, 1, _model("model", model).d_hidden + 1)
    c = as_integer("class_index", class_index, 0, model.d_output)
    if not isinstance(labels, Tensor) or not bool((labels == c).any()):
        raise WrongAnswer(f"`labels` should be a tensor of class indices that holds class {c}.")
    answer = as_tensor("my_drops", my_drops, (k,))
    whole = _accuracies(model, images, labels, c)
    off = [_accuracies(ablate_clusters(model, [i for i in range(k) if i != j], k), images, labels, c) for j in range(k)]
    only = [_accuracies(ablate_clusters(model, [j], k), images, labels, c) for j in range(k)]
    expected = torch.tensor([whole[0] - o[0] for o in off], dtype=torch.float64)
    if torch.allclose(answer, expected, atol=1e-6):
        worst = int(expected.argmax())
        return (f"class {c} ({whole[0]:.2f} with every cluster on) needs cluster {worst} most: turning it off "
                f"costs {expected[worst]:.2f}.")
    _diagnose(answer, expected, {
        "The signs are flipped: a drop is the whole model's accuracy minus the accuracy with the cluster off "
        "(positive when the cluster helps).": -expected,
        "These are the accuracies with each cluster off; the drop subtracts them from the whole model's.":
            torch.tensor([o[0] for o in off], dtype=torch.float64),
        "These are drops with *only* cluster j kept; the exercise turns one cluster off and keeps the rest "
        "(active = every cluster but j).": torch.tensor([whole[0] - o[0] for o in only], dtype=torch.float64),
        f"These are drops in the overall accuracy; the exercise asks for class {c}'s images only "
        "(labels == class_index).": torch.tensor([whole[1] - o[1] for o in off], dtype=torch.float64),
        "These look like percentages: give accuracies as fractions (0 to 1).": 100 * expected,
    })
    raise WrongAnswer(f"That is not the drops expected ({_gap(answer, expected)}). For each cluster j: "
                      f"ablate_clusters(model, [every cluster but j], {k}), its accuracy on class {c}'s images, "
                      "subtracted from the whole model's.")
