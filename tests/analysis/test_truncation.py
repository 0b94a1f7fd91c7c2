"""Low-rank versions of a decomposed model: keep a few eigen-components per class, or a few HOSVD terms."""

import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model
from bilinear_helpers.analysis.truncation import (
    hosvd,
    hosvd_accuracy,
    hosvd_components,
    hosvd_truncated_tensor,
    truncated_accuracy,
    truncated_logits_by_k,
)


@pytest.fixture(scope="module")
def setup():
    model = BilinearImageClassifier(d_input=30, d_hidden=10, d_output=4, seed=2).double()
    x = torch.randn(50, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(-1)
        h = model.block_input(x)  # what the decomposition reads: the block's input E x
    return model, decompose_bilinear_model(model), h, y


@pytest.mark.parametrize("by", ["abs", "paired"])
def test_full_rank_truncation_equals_the_model(setup, by):
    model, art, x, y = setup
    full = truncated_logits_by_k(art, x, [10, 99], by=by)
    with torch.no_grad():
        torch.testing.assert_close(full[0], model.logits_from_block(x))
        torch.testing.assert_close(full[1], model.logits_from_block(x))
    assert truncated_accuracy(art, x, y, [10], by=by) == [1.0]  # y are the model's own predictions


@pytest.mark.parametrize("by", ["abs", "paired"])
def test_k_zero_gives_constant_logits(setup, by):
    _, art, x, _ = setup
    assert torch.equal(truncated_logits_by_k(art, x, [0], by=by)[0], torch.zeros(50, 4, dtype=torch.float64))


def test_abs_rule_keeps_the_largest_eigenvalues(setup):
    _, art, x, _ = setup
    k = 3
    keep = art.top(k, by="abs")
    expected = art.contributions(x).gather(2, keep.unsqueeze(0).expand(50, -1, -1)).sum(-1)
    torch.testing.assert_close(truncated_logits_by_k(art, x, [k])[0], expected)


def test_paired_rule_keeps_both_ends(setup):
    _, art, x, _ = setup
    contrib = art.contributions(x)
    expected = contrib[:, :, [0, 1, 8, 9]].sum(-1)  # 2 most negative + 2 most positive (ascending order)
    torch.testing.assert_close(truncated_logits_by_k(art, x, [2], by="paired")[0], expected)


def test_truncation_rejects_bad_arguments(setup):
    _, art, x, y = setup
    with pytest.raises(ValueError, match="unknown truncation rule 'top'"):
        truncated_accuracy(art, x, y, [1], by="top")
    with pytest.raises(ValueError, match="each entry of ks must be >= 0"):
        truncated_accuracy(art, x, y, [-1])


def test_batched_accuracy_matches_one_batch(setup):
    _, art, x, y = setup
    assert truncated_accuracy(art, x, y, [1, 2, 5], batch_size=7) == truncated_accuracy(art, x, y, [1, 2, 5])


def test_hosvd_at_full_rank_rebuilds_the_tensor(setup):
    model, art, x, y = setup
    u, s, v = hosvd(art.interactions)
    assert u.shape == (4, 4) and s.shape == (4,) and v.shape == (4, 10, 10)
    assert torch.all(s[:-1] >= s[1:])
    torch.testing.assert_close(torch.einsum("cn,n,nij->cij", u, s, v), art.interactions)
    torch.testing.assert_close(hosvd_truncated_tensor(art.interactions, 4), art.interactions)
    torch.testing.assert_close(hosvd_truncated_tensor(art.raw_interactions, 9), art.raw_interactions)
    assert hosvd_accuracy(art, x, y, [4]) == [1.0]
    one = hosvd_truncated_tensor(art.interactions, 1)
    assert torch.linalg.matrix_rank(one.reshape(4, -1)) == 1
    assert hosvd_accuracy(art, x, y, [1])[0] < 1.0


def test_hosvd_components_rebuild_every_class_matrix(setup):
    model, art, h, _ = setup
    components, writes = hosvd_components(model, art)
    assert writes.shape == (4, 4) and components.num_outputs == 4 and components.block == 0
    assert components.names() == ["HOSVD 1", "HOSVD 2", "HOSVD 3", "HOSVD 4"]
    torch.testing.assert_close(torch.einsum("nc,nij->cij", writes, components.interactions), art.interactions)
    # each component's eigenvectors (rows) rebuild it, and its pixel-space eigenvectors read x through E
    v, lam = components.eigenvectors, components.eigenvalues
    torch.testing.assert_close(v.mT @ torch.diag_embed(lam) @ v, components.interactions)
    x = torch.randn(3, 30, dtype=torch.float64)
    torch.testing.assert_close(x @ components.pixel_eigenvectors[1].T, model.block_input(x).detach() @ v[1].T)
    white = model.embedding_weight.sum(-1)
    assert (torch.einsum("i,nci->nc", white, v) > 0).all()  # oriented by the package's sign rule


def test_hosvd_components_need_the_decomposed_model(setup):
    _, art, _, _ = setup
    for other in (BilinearImageClassifier(d_input=30, d_hidden=10, d_output=3, seed=2).double(),
                  BilinearImageClassifier(d_input=30, d_hidden=10, d_output=4, seed=5).double()):
        with pytest.raises(ValueError, match="the model is not the one decomposed: its interaction matrices differ"):
            hosvd_components(other, art)
    biased = BilinearImageClassifier(d_input=30, d_hidden=10, d_output=4, seed=2, bias=True).double()
    with pytest.raises(ValueError, match="the model is not the one decomposed: its last block or bias differs"):
        hosvd_components(biased, art)
    with pytest.raises(TypeError, match="artifacts must be a DecompositionArtifacts"):
        hosvd_components(art, biased)


@pytest.mark.parametrize(("call", "message"), [
    (lambda art, h, y: truncated_accuracy(art, h, y, [1], batch_size=0), r"batch_size must be >= 1, got 0"),
    (lambda art, h, y: truncated_accuracy(art, h, y[:10], [1]), r"y has n=10 .* but n=50 elsewhere"),
    (lambda art, h, y: truncated_accuracy(art, h, y, [-1]), r"each entry of ks must be >= 0, got -1"),
    (lambda art, h, y: hosvd_accuracy(art, h[:, :4], y, [1]), r"h must be the decomposed block's input \[batch, 10\]"),
    (lambda art, h, y: hosvd_truncated_tensor(art.interactions, 1.5), r"n must be a whole number, got 1.5"),
])
def test_sizes_and_counts_are_checked(setup, call, message):
    _, art, h, y = setup
    with pytest.raises(ValueError, match=message):
        call(art, h, y)


def test_ks_and_ns_must_be_lists():
    model = BilinearImageClassifier(d_input=30, d_hidden=10, d_output=4, seed=2).double()
    art = decompose_bilinear_model(model)
    h, y = torch.randn(5, 10, dtype=torch.float64), torch.zeros(5, dtype=torch.int64)
    for call in (lambda: truncated_accuracy(art, h, y, 3), lambda: truncated_logits_by_k(art, h, []),
                 lambda: hosvd_accuracy(art, h, y, 2)):
        with pytest.raises(ValueError, match=r"(ks|ns) (must be a list of whole numbers|is empty)"):
            call()
    with pytest.raises(ValueError, match="y must be class indices 0..3, got 9..9"):
        truncated_accuracy(art, h, y + 9, [1])
    with pytest.raises(ValueError, match="tensor must be float32 or float64 for the SVD"):
        hosvd(art.interactions.half())
