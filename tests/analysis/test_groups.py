"""Logit and weight views of group models, on models written by hand from a known irrep."""

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import (
    character_cube,
    check_rebuilt,
    cross_block,
    cross_block_spectrum,
    explained_variance,
    irrep_basis,
    irrep_block_content,
    irrep_fractions,
    key_irrep_share,
    key_irreps,
    logit_similarity,
    model_from_irrep,
    pair_interaction_matrices,
    pair_logits,
    rank_at,
    restricted_and_excluded_loss,
)

CASES = [("S4", "standard"), ("S4", "2d"), ("C13", "freq3"), ("D5", "freq2"), ("A5", "3d_a"), ("A4", "2d")]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def hand_built(request):
    spec, irrep = request.param
    group = bh.make_group(spec)
    task = bh.group_task(group, 0.5, seed=0)
    model = model_from_irrep(group, irrep, scale=5.0)
    return group, task, irrep, model, pair_logits(model, task)


def test_hand_built_logits_are_the_character(hand_built):
    group, _, irrep, _, logits = hand_built
    assert torch.allclose(logits, 5.0 * character_cube(group, irrep), atol=1e-4)
    chi = group.characters[irrep]
    a, b, c = 3 % group.order, 5 % group.order, 7 % group.order
    assert logits[a, b, c].item() == pytest.approx(5.0 * chi[group.table[group.table[a, b], group.inverse[c]]].item(),
                                                   abs=1e-4)


def test_metrics_find_the_irrep_and_restricted_loss_equals_full_loss(hand_built):
    group, task, irrep, _, logits = hand_built
    similarity = logit_similarity(logits, group)
    assert similarity[irrep] == pytest.approx(1.0, abs=1e-6)
    assert all(abs(v) < 1e-6 for n, v in similarity.items() if n != irrep)
    assert key_irreps(similarity) == [irrep]
    assert explained_variance(similarity, [irrep]) == pytest.approx(1.0, abs=1e-6)
    losses = restricted_and_excluded_loss(logits, task, [irrep])
    full = torch.nn.functional.cross_entropy(logits.reshape(-1, group.order), task.labels).item()
    assert losses["restricted"] == pytest.approx(full, rel=1e-4, abs=1e-6)
    assert losses["excluded"] == pytest.approx(torch.log(torch.tensor(float(group.order))).item(), rel=1e-4)


def test_block_rank_counts_the_irreps_matrix_elements(hand_built):
    group, _, irrep, model, logits = hand_built
    interaction = pair_interaction_matrices(model)
    assert interaction.shape == (group.order, 2 * group.order, 2 * group.order)
    assert check_rebuilt(logits, interaction) < 1e-5
    singular, left, right = cross_block_spectrum(cross_block(interaction))
    nonzero = (singular > 1e-6 * singular[:, :1]).sum(dim=1)
    assert torch.all(nonzero == group.span_dimension(irrep))
    assert torch.all(rank_at(singular, 0.999999) == group.span_dimension(irrep))
    eigenvalues = torch.linalg.eigvalsh(interaction)  # the cross term as a symmetric matrix: +-s / 2
    assert (eigenvalues.abs() > 1e-6 * eigenvalues.abs().max()).sum(dim=1).max() == 2 * group.span_dimension(irrep)
    span = group.span_dimension(irrep)
    inside = irrep_fractions(left[0][:, :span], group)[:, list(group.irreps).index(irrep)]
    assert torch.allclose(inside, torch.ones(span, dtype=inside.dtype), atol=1e-8)
    shares = key_irrep_share(singular, left, group, [irrep], span)
    assert torch.allclose(shares, torch.ones_like(shares), atol=1e-8)
    other = next(n for n in group.irreps if n != irrep)
    assert key_irrep_share(singular, left, group, [other], span).max() < 1e-8


def test_the_irreps_part_of_the_block_holds_all_its_energy(hand_built):
    group, _, irrep, model, _ = hand_built
    content = irrep_block_content(cross_block(pair_interaction_matrices(model)), group)
    assert set(content) == set(group.irreps)
    assert content[irrep]["energy"] == pytest.approx(1.0, abs=1e-8)
    assert content[irrep]["rank"] == content[irrep]["span"] == group.span_dimension(irrep)
    assert content[irrep]["dimension"] == group.dimension(irrep)
    assert all(part["energy"] < 1e-8 for name, part in content.items() if name != irrep)


def test_irrep_fractions_split_any_function_among_irreps():
    group = bh.make_group("S4")
    vectors = torch.randn(group.order, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fractions = irrep_fractions(vectors, group)
    assert torch.allclose(fractions.sum(dim=1), torch.ones(5, dtype=torch.float64))
    basis = irrep_basis(group, list(group.irreps))
    assert basis.shape == (24, 24) and torch.allclose(basis.T @ basis, torch.eye(24, dtype=torch.float64), atol=1e-9)


def test_rank_at_counts_energy():
    values = torch.tensor([[3.0, 4.0, 0.0], [1.0, 1.0, 1.0]]).sort(descending=True).values
    assert rank_at(values, 0.99).tolist() == [2, 3]


def test_weight_view_refuses_other_models():
    group = bh.make_group("C5")
    with pytest.raises(TypeError, match="one-block BilinearImageClassifier"):
        pair_interaction_matrices(bh.ReLUImageClassifier(d_input=10, d_hidden=8, d_output=5))
    with pytest.raises(ValueError, match="d_input=10 and d_output=5"):
        pair_logits(bh.BilinearImageClassifier(d_input=10, d_hidden=8, d_output=4), bh.group_task(group, 0.5))
    with pytest.raises(KeyError, match="no irrep"):
        model_from_irrep(group, "standard")
