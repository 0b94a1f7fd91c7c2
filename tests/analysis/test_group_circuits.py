"""The single-matrix-element model, and the hidden-activation restricted and excluded loss."""

import math

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import (
    character_cube,
    cross_block,
    cross_block_spectrum,
    generic_unit_vector,
    hidden_restricted_and_excluded_loss,
    key_irreps,
    logit_similarity,
    matrix_element_cube,
    model_from_irrep,
    model_from_matrix_element,
    pair_interaction_matrices,
    pair_logits,
    restricted_and_excluded_loss,
)

CASES = [("S4", "standard"), ("S4", "2d"), ("A5", "3d_a"), ("D5", "freq2"), ("C13", "freq3")]


@pytest.mark.parametrize(("spec", "irrep"), CASES)
def test_a_single_matrix_element_multiplies_with_rank_d_and_cosine_one_over_root_d(spec, irrep):
    group = bh.make_group(spec)
    task = bh.group_task(group, 0.5, seed=0)
    model = model_from_matrix_element(group, irrep, scale=4.0)
    logits = pair_logits(model, task)
    assert torch.allclose(logits, 4.0 * matrix_element_cube(group, irrep), atol=1e-4)
    d = group.dimension(irrep)
    singular, _, _ = cross_block_spectrum(cross_block(pair_interaction_matrices(model)))
    assert int((singular > 1e-6 * singular[:, :1]).sum(dim=1).max()) == d  # rank d, not d^2
    similarity = logit_similarity(logits, group)
    if group.irrep_kinds[irrep] == "real":  # Schur: cos(u^T rho u, chi) = 1 / sqrt(d)
        assert similarity[irrep] == pytest.approx(1 / math.sqrt(d), abs=1e-5)
    assert all(abs(v) < 1e-6 for n, v in similarity.items() if n != irrep)
    faithful = len({tuple(m.flatten().round(decimals=6).tolist()) for m in group.irreps[irrep]}) == group.order
    if faithful:  # no element but e fixes a generic u, so c = ab is the unique largest logit
        assert bh.accuracy(logits.reshape(-1, group.order), task.labels) == 1.0


def test_the_vector_is_checked_and_normalised():
    group = bh.make_group("S4")
    u = torch.tensor([3.0, 0.0, 4.0], dtype=torch.float64)
    cube = matrix_element_cube(group, "standard", u)
    assert cube[0, 0, 0].item() == pytest.approx(1.0)  # b c^-1 a = e: u^T u = 1 after normalising
    a, b, c = 3, 5, 7
    g = group.table[group.table[b, group.inverse[c]], a]  # b c^-1 a
    rho = group.irreps["standard"].double()
    assert cube[a, b, c].item() == pytest.approx((u @ rho[g] @ u).item() / 25)
    with pytest.raises(ValueError, match=r"vector has d=2 \(shape \(2,\), axes \[d\]\) but d=3 elsewhere"):
        model_from_matrix_element(group, "standard", torch.ones(2))
    with pytest.raises(ValueError, match="vector is zero"):
        model_from_matrix_element(group, "standard", torch.zeros(3))
    with pytest.raises(ValueError, match="scale must not be 0"):
        model_from_matrix_element(group, "standard", scale=0.0)
    assert torch.equal(generic_unit_vector(5, seed=1), generic_unit_vector(5, seed=1))
    assert generic_unit_vector(5).norm().item() == pytest.approx(1.0)


@pytest.mark.parametrize("build", [model_from_irrep, model_from_matrix_element])
def test_hidden_losses_keep_everything_with_the_right_irrep_and_nothing_without_it(build):
    group = bh.make_group("S4")
    task = bh.group_task(group, 0.5, seed=0)
    model = build(group, "standard", scale=5.0)
    losses = hidden_restricted_and_excluded_loss(model, task, ["standard"])
    full = torch.nn.functional.cross_entropy(pair_logits(model, task).reshape(-1, group.order), task.labels).item()
    if build is model_from_irrep:
        assert losses["restricted"] == pytest.approx(full, rel=1e-4, abs=1e-6)
    assert losses["restricted_accuracy"] == 1.0
    if build is model_from_irrep:  # a character is a function of ab: the span holds all of it
        assert losses["span_share"] == pytest.approx(1.0, abs=1e-6)
        assert losses["excluded"] == pytest.approx(math.log(group.order), rel=1e-4)  # nothing left but the constant
    else:  # u^T rho(b c^-1 a) u: only its character part, 1/d of it, depends on ab alone
        assert losses["span_share"] == pytest.approx(1 / 3, abs=1e-5)
    wrong = hidden_restricted_and_excluded_loss(model, task, ["2d"])
    assert wrong["excluded"] == pytest.approx(losses["train"], rel=1e-4, abs=1e-6)  # removing 2d removes nothing
    assert wrong["restricted_accuracy"] < 0.5 and wrong["span_share"] == pytest.approx(0.0, abs=1e-6)


def test_hidden_and_logit_losses_agree_for_a_trained_like_mixture():
    group = bh.make_group("S4")
    task = bh.group_task(group, 0.5, seed=0)
    model = model_from_irrep(group, "standard", scale=3.0)
    logits = pair_logits(model, task)
    keys = key_irreps(logit_similarity(logits, group))
    assert keys == ["standard"]
    hidden = hidden_restricted_and_excluded_loss(model, task, keys)
    logit = restricted_and_excluded_loss(logits, task, keys)
    for part in ("restricted", "excluded", "train", "test"):
        assert hidden[part] == pytest.approx(logit[part], rel=1e-3, abs=1e-6)
    assert torch.allclose(character_cube(group, "trivial"), torch.ones_like(logits))
