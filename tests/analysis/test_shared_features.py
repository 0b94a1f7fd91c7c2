"""CP decomposition of a class tensor: planted terms recovered, the fit is a bilinear layer, terms split
into a positive and a negative feature."""

import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model
from bilinear_helpers.analysis.shared_features import (
    SharedBasis,
    class_spread,
    cp_decompose,
    parafac_relative_error,
    per_class_accuracy,
    shared_terms,
    tensor_cosine,
    term_removal,
)
from bilinear_helpers.decomposition import symmetrize


def planted(rank=3, width=10, n_classes=4, seed=1):
    generator = torch.Generator().manual_seed(seed)
    factors = [torch.randn(shape, generator=generator, dtype=torch.float64)
               for shape in ((rank, width), (rank, width), (n_classes, rank))]
    return SharedBasis(*factors)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_planted_rank_r_tensor_is_recovered(seed):
    truth = planted()
    fit = cp_decompose(truth.tensor(), rank=3, steps=1500, seed=seed)
    assert fit.cosine >= 0.999 and fit.relative_error < 0.05
    assert tensor_cosine(fit.tensor(), truth.tensor()) == pytest.approx(fit.cosine)


def test_seeds_give_the_same_fit_quality():
    basis = BilinearImageClassifier(d_input=12, d_hidden=8, d_output=3, seed=0).double()
    q = decompose_bilinear_model(basis).interactions
    errors = [cp_decompose(q, rank=4, steps=1500, seed=seed).relative_error for seed in range(3)]
    assert max(errors) - min(errors) < 0.05, errors


def test_the_forward_pass_is_the_tensors_quadratic_forms_exactly():
    basis = planted()
    h = torch.randn(7, 10, dtype=torch.float64)
    expected = torch.einsum("bi,cij,bj->bc", h, basis.tensor(), h)
    torch.testing.assert_close(basis(h), expected, rtol=1e-12, atol=1e-12)


def test_images_are_read_through_the_embedding():
    basis = planted()
    embedding = torch.randn(10, 6, dtype=torch.float64)
    with_embedding = SharedBasis(basis.left, basis.right, basis.readout, embedding)
    x = torch.rand(5, 1, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(with_embedding.images(x), basis(x.flatten(1) @ embedding.T))
    with pytest.raises(ValueError, match="this SharedBasis has no embedding"):
        basis.images(x)


def test_each_term_is_a_positive_minus_a_negative_rank_one_form():
    basis = planted(rank=2)
    terms = shared_terms(basis)
    for position, term in enumerate(terms.order.tolist()):
        p, m = terms.positive[position], terms.negative[position]
        outer = symmetrize(torch.outer(basis.left[term], basis.right[term]))
        torch.testing.assert_close(torch.outer(p, p) - torch.outer(m, m), outer)
        torch.testing.assert_close(terms.weights[position], basis.readout[:, term])
    assert (terms.strength[:-1] >= terms.strength[1:]).all()


def test_removing_a_term_removes_its_part_of_every_logit():
    basis = planted()
    h = torch.randn(4, 10, dtype=torch.float64)
    term_logits = ((h @ basis.left[1]) * (h @ basis.right[1]))[:, None] * basis.readout[:, 1]
    torch.testing.assert_close(basis(h) - basis.without(1)(h), term_logits)


def test_parafac_fits_the_planted_tensor_with_twice_the_rank():
    truth = planted()
    assert parafac_relative_error(truth.tensor(), rank=6) < 1e-6  # sym(l (x) r) is two nonsymmetric terms


@pytest.mark.parametrize(("call", "message"), [
    (lambda: cp_decompose(torch.zeros(2, 3, 3), rank=1), "tensor is all zeros"),
    (lambda: cp_decompose(torch.randn(2, 3, 4), rank=1), r"tensor has in=4"),
    (lambda: cp_decompose(torch.randn(2, 3, 3), rank=0), r"rank must be >= 1, got 0"),
    (lambda: planted()(torch.randn(3, 9, dtype=torch.float64)), r"h \(the decomposed block's input, 10 wide\) has"),
    (lambda: planted().without(3), r"term must be in \[0, 3\), got 3"),
    (lambda: SharedBasis(torch.randn(2, 3), torch.randn(3, 3), torch.randn(4, 2)), r"right has rank=3"),
])
def test_bad_inputs_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_class_spread_counts_how_many_classes_a_term_feeds():
    one_class = torch.zeros(4, 2, dtype=torch.float64)
    one_class[2, 0], one_class[:, 1] = 3.0, torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    basis = SharedBasis(torch.eye(2, 5, dtype=torch.float64), torch.eye(2, 5, dtype=torch.float64), one_class)
    table = class_spread(shared_terms(basis), ["a", "b", "c", "d"])
    spreads = sorted(table["classes it spreads over"].round(6).tolist())
    assert spreads == [1.0, 4.0]
    single = table[table["classes it spreads over"].round(6) == 1.0].iloc[0]
    assert single["largest positive weights"] == "c (+1.00)" and single["largest negative weights"] == ""
    with pytest.raises(ValueError, match="class_names must name all 4 entries"):
        class_spread(shared_terms(basis), ["a"])


def test_term_removal_reports_each_class_change():
    basis = planted(rank=3, width=10, n_classes=4)
    h = torch.randn(200, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    labels = basis(h).argmax(-1)  # the basis is right on every input
    effect = term_removal(basis, 0, h, labels)
    assert effect["before"] == 1.0 and effect["after"] < 1.0 and effect["gained"] == 0
    assert effect["lost"] == round((1 - effect["after"]) * 200)
    expected = per_class_accuracy(basis.without(0)(h), labels) - 1.0
    torch.testing.assert_close(effect["change"], expected)
    part = ((h @ basis.left[0]) * (h @ basis.right[0]))[:, None] * basis.readout[:, 0]  # the term's share
    for c in range(4):
        torch.testing.assert_close(effect["support"][c], part[labels == c, c].mean())
    with pytest.raises(ValueError, match="labels must be class indices 0..3"):
        term_removal(basis, 0, h, labels + 4)
