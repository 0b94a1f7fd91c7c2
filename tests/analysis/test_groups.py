"""Logit and weight views of group models, on models written by hand from a known irrep."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


C5 = bh.make_group("C5")


def cube(*shape, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(dtype)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 7), min_size=1, max_size=4))
def test_logit_functions_refuse_every_shape_but_the_groups_cube(shape):
    task = bh.group_task(C5, 0.5)
    if shape == [5, 5, 5]:
        return
    logits = cube(*shape)
    with pytest.raises(ValueError, match=r"logits \(for C_5, order 5\)"):
        logit_similarity(logits, C5)
    with pytest.raises(ValueError, match=r"logits \(for C_5, order 5\)"):
        restricted_and_excluded_loss(logits, task, ["freq1"])


def test_logit_functions_refuse_nan_ints_and_unknown_irreps():
    task = bh.group_task(C5, 0.5)
    with pytest.raises(ValueError, match="contains NaN or inf"):
        logit_similarity(torch.full((5, 5, 5), float("nan")), C5)
    with pytest.raises(ValueError, match="must be a float tensor"):
        logit_similarity(torch.ones(5, 5, 5, dtype=torch.int64), C5)
    with pytest.raises(KeyError, match="C_5 has no irrep 'standard'"):
        restricted_and_excluded_loss(cube(5, 5, 5), task, ["standard"])
    with pytest.raises(TypeError, match="group must be a Group"):
        logit_similarity(cube(5, 5, 5), "C5")


@settings(max_examples=40, deadline=None)
@given(cls=st.integers(1, 6), width=st.integers(1, 13))
def test_pair_interaction_functions_need_two_hot_widths(cls, width):
    interaction = cube(cls, width, width)
    interaction = (interaction + interaction.mT) / 2
    if width == 2 * cls:
        assert cross_block(interaction).shape == (cls, cls, cls)
        return
    with pytest.raises(ValueError, match=r"interaction must be \[\|G\|, 2\|G\|, 2\|G\|\]"):
        cross_block(interaction)
    with pytest.raises(ValueError, match=r"interaction must be \[\|G\|, 2\|G\|, 2\|G\|\]"):
        check_rebuilt(cube(cls, cls, cls), interaction)


def test_the_weight_view_refuses_odd_inputs_and_meta_models():
    with pytest.raises(ValueError, match="a group model reads two-hot pairs, d_input = 2 x d_output = 48"):
        pair_interaction_matrices(bh.BilinearImageClassifier(d_input=49, d_hidden=8, d_output=24))
    with torch.device("meta"):
        meta = bh.BilinearImageClassifier(d_input=10, d_hidden=8, d_output=5)
    with pytest.raises(ValueError, match="the model's embedding weight is on the meta device"):
        pair_interaction_matrices(meta)
    with pytest.raises(ValueError, match=r"interaction has in=6 .* but in=7 elsewhere"):
        cross_block(cube(3, 7, 6))


def test_irrep_content_and_fractions_check_their_inputs():
    with pytest.raises(ValueError, match=r"block \(outputs x C_5's elements x elements\) has a=4"):
        irrep_block_content(cube(5, 4, 4), C5)
    with pytest.raises(ValueError, match="block has an all-zero output"):
        irrep_block_content(torch.zeros(5, 5, 5, dtype=torch.float64), C5)
    with pytest.raises(ValueError, match=r"relative must be in \[0.0, 1.0\)"):
        irrep_block_content(cube(5, 5, 5), C5, relative=2.0)
    with pytest.raises(ValueError, match=r"vectors \(functions on C_5's 5 elements\) has elem=4"):
        irrep_fractions(cube(4, 3), C5)
    with pytest.raises(ValueError, match=r"rank must be in \[1, 4\)"):
        key_irrep_share(cube(5, 3), cube(5, 5, 3), C5, ["freq1"], rank=4)
    with pytest.raises(KeyError, match="no irrep 'sign'"):
        key_irrep_share(cube(5, 3), cube(5, 5, 3), C5, ["sign"], rank=2)
    with pytest.raises(KeyError, match="no irrep 'sign'"):
        irrep_basis(C5, ["sign"])


S3 = bh.make_group("S3")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: character_cube("S3", "sign"), TypeError, r"group must be a Group \(bh.make_group\('S4'\)\), got str"),
    (lambda: irrep_basis("S3", ["sign"]), TypeError, "group must be a Group"),
    (lambda: model_from_irrep("S3", "sign"), TypeError, "group must be a Group"),
    (lambda: irrep_fractions(cube(6, 2), "S3"), TypeError, "group must be a Group"),
    (lambda: pair_logits(bh.BilinearImageClassifier(d_input=12, d_hidden=4, d_output=6), S3), TypeError,
     r"task must be a GroupTask \(bh.group_task\(group, train_fraction\)\), got Group"),
    (lambda: pair_logits(torch.nn.Linear(12, 6), bh.group_task(S3, 0.5)), TypeError,
     "model must be one of this package's classifiers, got Linear"),
    (lambda: irrep_basis(S3, "sign"), ValueError, r"irreps must be a list of irrep names, got 'sign'"),
    (lambda: irrep_basis(S3, ["sign", "sign"]), ValueError, "irreps names an irrep twice"),
    (lambda: restricted_and_excluded_loss(cube(6, 6, 6), bh.group_task(S3, 0.5), "sign"), ValueError,
     "irreps must be a list of irrep names"),
    (lambda: explained_variance({"sign": 0.5}, "sign"), ValueError, "irreps must be a list of distinct irrep names"),
    (lambda: explained_variance({"sign": 0.5}, ["sgn"]), KeyError, r"no similarity for \['sgn'\]"),
    (lambda: key_irreps([0.1, 0.2]), ValueError, "similarity must map irrep names to finite numbers"),
    (lambda: key_irreps({"x": float("nan")}), ValueError, "similarity must map irrep names to finite numbers"),
    (lambda: check_rebuilt(torch.zeros(3, 3, 3, dtype=torch.float64), torch.eye(6).double().expand(3, 6, 6)),
     ValueError, "logits are all zero"),
    (lambda: rank_at(torch.tensor([3.0, 1.0]), 2.0), ValueError, r"energy must be a share .* in \(0, 1\]"),
    (lambda: rank_at(torch.zeros(3, 4), 0.9), ValueError, "values that are not all zero"),
    (lambda: rank_at(torch.zeros(0), 0.9), ValueError, "values is empty"),
    (lambda: model_from_irrep(S3, "sign", 0), ValueError, "scale must not be 0"),
    (lambda: key_irrep_share(cube(6, 3), cube(6, 6, 3), S3, [], rank=2), ValueError, "irreps is empty"),
])
def test_group_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_raw_interaction_matrix_is_refused_where_q_is_needed():
    raw = cube(3, 6, 6)
    with pytest.raises(ValueError, match="interaction must be symmetric"):
        cross_block(raw)
    with pytest.raises(ValueError, match="logits are the same for every output"):
        logit_similarity(torch.ones(6, 6, 6, dtype=torch.float64), S3)
    with pytest.raises(ValueError, match="top singular values are all zero"):
        key_irrep_share(torch.zeros(6, 3, dtype=torch.float64), cube(6, 6, 3), S3, ["sign"], rank=2)
