"""The checks of exercises 06-08: a right answer passes, each diagnosed mistake gets its own message."""

from __future__ import annotations

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import (
    ablate_clusters,
    character_cube,
    cross_block,
    function_similarity,
    model_from_irrep,
    model_from_matrix_element,
    pair_interaction_matrices,
)
from bilinear_helpers.exercises import (
    check_block_rank,
    check_cluster_off_drops,
    check_clusterability,
    check_eigenvector_cosines,
    check_logit_similarity,
    check_normal_function_similarity,
)
from bilinear_helpers.models import BilinearImageClassifier, ReLUImageClassifier


def verdict(capsys, check, *args) -> tuple[bool, str]:
    result = check(*args)
    return result, capsys.readouterr().out


def assert_right(capsys, check, *args) -> str:
    result, out = verdict(capsys, check, *args)
    assert bool(result) is True and out.startswith("Correct:"), out
    return out


def assert_wrong(capsys, check, *args, says: str) -> None:
    result, out = verdict(capsys, check, *args)
    assert bool(result) is False and out.startswith("Not yet:"), out
    assert says in out, out


# --- 06.1 -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_models():
    return [BilinearImageClassifier(d_input=20, d_hidden=12, d_output=3, seed=seed).double() for seed in (0, 1)]


@pytest.fixture(scope="module")
def two_decompositions(two_models):
    return [bh.decompose_bilinear_model(model) for model in two_models]


def cosines(a, b, c, k, by="positive", space="pixel_eigenvectors", unit=True, signed=False, ascending=False):
    rows = []
    for d in (a, b):
        index = d.eigenvalues[c].argsort()[-k:] if ascending else d.top(k, by=by)[c]
        rows.append(getattr(d, space)[c, index])
    x, y = (r / r.norm(dim=-1, keepdim=True) for r in rows) if unit else rows
    return x @ y.T if signed else (x @ y.T).abs()


def test_eigenvector_cosines(capsys, two_decompositions):
    a, b = two_decompositions
    c, k = 1, 3
    right = cosines(a, b, c, k)
    assert_right(capsys, check_eigenvector_cosines, a, b, c, k, right)
    assert_right(capsys, check_eigenvector_cosines, a, b, c, k, right.numpy())
    mistakes = {
        "absolute value": cosines(a, b, c, k, signed=True),
        "transpose": right.T,
        "not unit vectors": cosines(a, b, c, k, unit=False),
        "hidden space": cosines(a, b, c, k, space="eigenvectors"),
        "most *negative*": cosines(a, b, c, k, by="negative"),
        "wrong order": cosines(a, b, c, k, ascending=True),
    }
    for says, answer in mistakes.items():
        assert not torch.allclose(answer, right, atol=1e-6), says  # the mistake is a different answer here
        assert_wrong(capsys, check_eigenvector_cosines, a, b, c, k, answer, says=says)
    assert_wrong(capsys, check_eigenvector_cosines, a, b, c, k, right + 0.01, says="largest difference")
    assert_wrong(capsys, check_eigenvector_cosines, a, b, c, k, ..., says="still empty")
    assert_wrong(capsys, check_eigenvector_cosines, a, b, c, k, right[:2], says="should be (3, 3)")
    assert_wrong(capsys, check_eigenvector_cosines, "a", b, c, k, right, says="decompose_bilinear_model")


def test_eigenvector_cosines_by_abs(capsys, two_decompositions):
    a, b = two_decompositions
    for c in range(3):  # a class whose top |lambda| include a negative eigenvalue
        if not torch.equal(a.top(3, by="abs")[c], a.top(3, by="positive")[c]):
            break
    assert_wrong(capsys, check_eigenvector_cosines, a, b, c, 3, cosines(a, b, c, 3, by="abs"), says="|lambda|")


# --- 06.2 -------------------------------------------------------------------------------------


def pixel_forms(model, symmetric=True):
    raw = torch.einsum("co,oi,oj->cij", model.readout_weight.double(), model.left_weight(0).double(),
                       model.right_weight(0).double())
    q = (raw + raw.mT) / 2 if symmetric else raw
    e = model.embedding_weight.double()
    return e.T @ q @ e, q


def test_normal_function_similarity(capsys, two_models):
    model_a, model_b = two_models
    (m_a, q_a), (m_b, q_b) = pixel_forms(model_a), pixel_forms(model_b)
    inner = (m_a * m_b).sum((-2, -1))
    right = inner / (m_a.norm(dim=(-2, -1)) * m_b.norm(dim=(-2, -1)))
    assert torch.allclose(right, function_similarity(model_a, model_b).diagonal(), atol=1e-10)
    assert_right(capsys, check_normal_function_similarity, model_a, model_b, right)
    (raw_a, _), (raw_b, _) = pixel_forms(model_a, symmetric=False), pixel_forms(model_b, symmetric=False)
    mistakes = {
        "symmetrised": (raw_a * raw_b).sum((-2, -1)) / (raw_a.norm(dim=(-2, -1)) * raw_b.norm(dim=(-2, -1))),
        "hidden space": (q_a * q_b).sum((-2, -1)) / (q_a.norm(dim=(-2, -1)) * q_b.norm(dim=(-2, -1))),
        "covariance": 2 * inner,
        "not yet normalised": inner,
    }
    for says, answer in mistakes.items():
        assert_wrong(capsys, check_normal_function_similarity, model_a, model_b, answer, says=says)
    assert_wrong(capsys, check_normal_function_similarity, model_a, model_b, function_similarity(model_a, model_b),
                 says="diagonal")
    assert_wrong(capsys, check_normal_function_similarity, model_a, model_b, right * 0.9, says="largest difference")
    assert_wrong(capsys, check_normal_function_similarity, model_a, model_b, ..., says="still empty")
    assert_wrong(capsys, check_normal_function_similarity, model_a, model_b, right[:2], says="should be (3,)")
    assert_wrong(capsys, check_normal_function_similarity, model_a, None, right, says="model_b")


# --- 07.1 -------------------------------------------------------------------------------------


def block_rank(model):
    singular = torch.linalg.svdvals(cross_block(pair_interaction_matrices(model)))
    return int((singular > 1e-6 * singular[:, :1]).sum(dim=1).max())


def test_block_rank(capsys):
    group = bh.make_group("S4")
    element, character = model_from_matrix_element(group, "standard"), model_from_irrep(group, "standard")
    assert (block_rank(element), block_rank(character)) == (3, 9)
    assert_right(capsys, check_block_rank, element, 3)
    assert_right(capsys, check_block_rank, character, torch.tensor(9))
    assert_wrong(capsys, check_block_rank, element, 6, says="appears twice")
    assert_wrong(capsys, check_block_rank, element, group.order, says="every singular value")
    assert_wrong(capsys, check_block_rank, element, 9, says="the other solution")
    assert_wrong(capsys, check_block_rank, character, 3, says="the other solution")
    assert_wrong(capsys, check_block_rank, character, character.d_hidden, says="hidden width")
    assert_wrong(capsys, check_block_rank, element, 5, says="not the rank")
    assert_wrong(capsys, check_block_rank, element, ..., says="still empty")
    assert_wrong(capsys, check_block_rank, element, 2.5, says="whole number")
    assert_wrong(capsys, check_block_rank, element, [3, 3], says="one number")
    assert_wrong(capsys, check_block_rank, ReLUImageClassifier(d_input=48, d_hidden=8, d_output=24), 3,
                 says="one-block bilinear")


# --- 07.2 -------------------------------------------------------------------------------------


def test_logit_similarity(capsys):
    group = bh.make_group("S4")
    n = group.order
    noise = torch.randn(n, n, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    offsets = torch.randn(n, n, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    logits = 2 * character_cube(group, "standard") + character_cube(group, "sign") + 0.5 * noise + 3 * offsets + 1
    character = character_cube(group, "standard")

    def cosine(values, target=character):
        return torch.nn.functional.cosine_similarity(values.flatten(), target.flatten(), dim=0).item()

    right = cosine(logits - logits.mean(dim=-1, keepdim=True))
    assert_right(capsys, check_logit_similarity, logits, group, "standard", right)
    no_inverse = group.characters["standard"][group.table[group.table[:, :, None], torch.arange(n)[None, None, :]]]
    mistakes = {
        "not centred": cosine(logits),
        "wrong axis (a)": cosine(logits - logits.mean(dim=0, keepdim=True)),
        "wrong axis (b)": cosine(logits - logits.mean(dim=1, keepdim=True)),
        "one global mean": cosine(logits - logits.mean()),
        "without the inverse": cosine(logits - logits.mean(dim=-1, keepdim=True), no_inverse),
        "squared similarity": right**2,
    }
    for says, answer in mistakes.items():
        assert abs(answer - right) > 1e-3, says
        assert_wrong(capsys, check_logit_similarity, logits, group, "standard", answer, says=says)
    assert_wrong(capsys, check_logit_similarity, logits, group, "standard", right + 0.05, says="not the similarity")
    assert_wrong(capsys, check_logit_similarity, logits, group, "standard", ..., says="still empty")
    assert_wrong(capsys, check_logit_similarity, logits, group, "standard", [right, right], says="one number")
    assert_wrong(capsys, check_logit_similarity, logits, group, "6d", right, says="no irrep")
    assert_wrong(capsys, check_logit_similarity, logits[:3], group, "standard", right, says="shape")


# --- 08.1 -------------------------------------------------------------------------------------


def test_clusterability(capsys):
    weight = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    weight[:4, :4] *= 3  # some structure, so that every mistake gives a different number
    clusters = bh.block_clusters(8, 2)
    same = clusters[:, None] == clusters[None, :]
    right = float((weight**2 * same).sum() / (weight**2).sum())
    assert abs(right - bh.clusterability(weight, clusters, clusters).item()) < 1e-6
    assert_right(capsys, check_clusterability, weight, 2, right)
    interleaved = torch.arange(8) % 2
    mistakes = {
        "|W|": float((weight.abs() * same).sum() / weight.abs().sum()),
        "outside": 1 - right,
        "not yet divided": float((weight**2 * same).sum()),
        "clusters of 2 units": bh.clusterability(weight, bh.block_clusters(8, 4), bh.block_clusters(8, 4)).item(),
        "interleaved": float((weight**2 * (interleaved[:, None] == interleaved[None, :])).sum() / (weight**2).sum()),
    }
    for says, answer in mistakes.items():
        assert_wrong(capsys, check_clusterability, weight, 2, answer, says=says)
    assert_wrong(capsys, check_clusterability, weight, 2, 0.5, says="not the clusterability")
    assert_wrong(capsys, check_clusterability, weight, 2, ..., says="still empty")
    assert_wrong(capsys, check_clusterability, weight, 2, torch.ones(2), says="one number")
    assert_wrong(capsys, check_clusterability, weight[0], 2, right, says="a matrix")


# --- 08.2 -------------------------------------------------------------------------------------


@torch.no_grad()
def test_cluster_off_drops(capsys):
    model = ReLUImageClassifier(d_input=10, d_hidden=8, d_output=3, seed=0).eval()
    images = torch.randn(300, 10, generator=torch.Generator().manual_seed(0))
    labels = model(images).argmax(dim=-1)  # the whole model is right on every image: ablations can only cost
    labels[:30] = (labels[:30] + 1) % 3  # and overall accuracy differs from any one class's
    c, k = int(labels.mode().values), 2

    def accuracy(m, mask):
        return (m(images[mask]).argmax(dim=-1) == labels[mask]).double().mean()

    def drops(active, mask):
        return torch.stack([accuracy(model, mask) - accuracy(ablate_clusters(model, active(j), k), mask)
                            for j in range(k)])

    mine = labels == c
    everything = torch.ones_like(mine)
    right = drops(lambda j: [i for i in range(k) if i != j], mine)
    assert (right > 0).any()
    assert_right(capsys, check_cluster_off_drops, model, images, labels, k, c, right)
    whole = accuracy(model, mine)
    mistakes = {
        "signs are flipped": -right,
        "accuracies with each cluster off": whole - right,
        "*only* cluster j": drops(lambda j: [j], mine),
        "overall accuracy": drops(lambda j: [i for i in range(k) if i != j], everything),
        "percentages": 100 * right,
    }
    for says, answer in mistakes.items():
        assert_wrong(capsys, check_cluster_off_drops, model, images, labels, k, c, answer, says=says)
    assert_wrong(capsys, check_cluster_off_drops, model, images, labels, k, c, right + 0.1, says="largest difference")
    assert_wrong(capsys, check_cluster_off_drops, model, images, labels, k, c, ..., says="still empty")
    assert_wrong(capsys, check_cluster_off_drops, model, images, labels, k, c, right[:1], says="should be (2,)")
    assert_wrong(capsys, check_cluster_off_drops, "model", images, labels, k, c, right, says="classifiers")
