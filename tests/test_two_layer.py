"""Two-layer decomposition: the last block's per-class matrices and directions pulled back."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers import (
    BilinearImageClassifier,
    decompose_bilinear_model,
    decompose_direction,
)
from bilinear_helpers.artifacts import augment


def two_layer(d_input=16, d_hidden=7, d_output=4, bias=False, seed=0, n_layer=2):
    return BilinearImageClassifier(d_input, d_hidden, d_output, n_layer=n_layer, bias=bias, seed=seed).double()


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@settings(max_examples=30, deadline=None)
@given(d_hidden=st.integers(1, 16), d_output=st.integers(1, 8), bias=st.booleans(), seed=st.integers(0, 9999),
       n_layer=st.integers(2, 3))
def test_last_layer_eigenvalues_rebuild_the_logits_from_the_previous_block(d_hidden, d_output, bias, seed, n_layer):
    model = two_layer(d_hidden=d_hidden, d_output=d_output, bias=bias, seed=seed, n_layer=n_layer)
    x = torch.randn(5, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    art = decompose_bilinear_model(model)
    assert art.layer == n_layer - 1 and art.eigenvectors_input is None
    # logit_c = sum_i lambda_i (u_i . h(x))^2 with h the output of the block before the last
    with torch.no_grad():
        h = model.block_input(x, n_layer - 1)
        assert rel(art.logits(h), model(x)) < 1e-10
    if bias:  # the bias is the weight of a constant input: h is augmented with a 1
        assert augment(h, True).shape == (5, d_hidden + 1) and art.width == d_hidden + 1


def brute_force_quadratic_form(f, d):
    """The symmetric matrix of a quadratic form f by polarisation: Q_ij = (f(e_i + e_j) - f(e_i) - f(e_j)) / 2."""
    eye = torch.eye(d, dtype=torch.float64)
    diag = torch.stack([f(eye[i]) for i in range(d)])
    q = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d):
        for j in range(d):
            q[i, j] = diag[i] if i == j else (f(eye[i] + eye[j]) - diag[i] - diag[j]) / 2
    return q


@pytest.mark.parametrize("layer", [0, 1])
def test_decompose_direction_matches_a_brute_force_quadratic_form(layer):
    model = two_layer(seed=3)
    u = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    art = decompose_direction(model, layer, u)
    block = model.blocks[layer]
    with torch.no_grad():
        brute = brute_force_quadratic_form(lambda h: u @ block(h), 7)
    torch.testing.assert_close(art.symmetrized_tensor[0], brute)
    values, vectors = art.eigenvalues[0], art.eigenvectors_hidden[0]
    torch.testing.assert_close(vectors @ torch.diag(values) @ vectors.T, brute)


def test_decompose_direction_rebuilds_the_directional_activation():
    model = two_layer(seed=4)
    x = torch.randn(6, 16, dtype=torch.float64)
    directions = torch.randn(3, 7, dtype=torch.float64)
    for layer in (0, 1):
        art = decompose_direction(model, layer, directions)
        with torch.no_grad():
            h = model.block_input(x, layer)
            target = model.blocks[layer](h) @ directions.T
        assert art.num_outputs == 3
        assert rel(art.logits(h), target) < 1e-10
    first = decompose_direction(model, 0, directions)
    assert first.eigenvectors_input.shape == (3, 7, 16)  # block 0: pixel-space eigenvectors
    assert decompose_direction(model, 1, directions).eigenvectors_input is None


def test_chaining_a_layer_two_eigenvector_down_to_pixels():
    model = two_layer(seed=5)
    last = decompose_bilinear_model(model)
    u = last.eigenvectors_hidden[2][:, -1]  # class 2, most positive layer-2 eigenvector
    pulled = decompose_direction(model, 0, u)
    x = torch.randn(4, 16, dtype=torch.float64)
    # u . h1(x) = sum_j mu_j (w_j . E x)^2, and the logit is lambda (u . h1)^2 plus the other components
    with torch.no_grad():
        h0, h1 = model.block_input(x, 0), model.block_input(x, 1)
    torch.testing.assert_close(pulled.logits(h0)[:, 0], h1 @ u)
    contribution = last.eigenvalues[2, -1] * pulled.logits(h0)[:, 0] ** 2
    torch.testing.assert_close(contribution, last.contributions(h1)[:, 2, -1])


def test_logits_from_block_feed_eigenvectors_through_the_last_block_and_head():
    model = two_layer(seed=6)
    art = decompose_bilinear_model(model)
    vectors = art.eigenvectors_hidden[1][:, [-1, -2, 0, 1]].T  # four layer-2 eigenvectors of class 1
    with torch.no_grad():
        logits = model.logits_from_block(vectors, -1)
    assert logits.shape == (4, 4)
    # fed through the block, an eigenvector of Q_c gives exactly its eigenvalue on class c
    torch.testing.assert_close(logits[:, 1], art.eigenvalues[1, [-1, -2, 0, 1]])
    with torch.no_grad():
        torch.testing.assert_close(logits, model.head(model.blocks[1](vectors)))


def test_sign_rule_is_stable_for_directions():
    model = two_layer(seed=7)
    art = decompose_bilinear_model(model)
    white = torch.ones(1, 16, dtype=torch.float64)
    with torch.no_grad():
        white_input = model.block_input(white)[0]
    assert torch.all(torch.einsum("h,chk->ck", white_input, art.eigenvectors_hidden) > 0)
    u = art.eigenvectors_hidden[0][:, -1]
    a, b = decompose_direction(model, 0, u), decompose_direction(model, 0, u.clone())
    torch.testing.assert_close(a.eigenvectors_hidden, b.eigenvectors_hidden)
    flipped = decompose_direction(model, 0, -u)  # the form negates: eigenvalues flip, orientation rule still holds
    torch.testing.assert_close(flipped.eigenvalues[0], -a.eigenvalues[0].flip(0))
    assert torch.all(flipped.eigenvectors_input.sum(-1) > 0) and torch.all(a.eigenvectors_input.sum(-1) > 0)


def test_directions_must_live_in_the_blocks_output_space():
    with pytest.raises(ValueError, match=r"is \[7\] or \[K, 7\], got shape \(5,\)"):
        decompose_direction(two_layer(), 0, torch.randn(5))


@pytest.mark.parametrize("convert", [lambda t: t.tolist(), lambda t: t.numpy(), lambda t: t.float()])
def test_directions_may_be_lists_arrays_or_any_float_tensor(convert):
    model = two_layer(seed=8)
    u = torch.randn(2, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    expected = decompose_direction(model, 0, u)
    got = decompose_direction(model, 0, convert(u))
    torch.testing.assert_close(got.eigenvalues, expected.eigenvalues, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [3.0, [[[1.0] * 7]], "u"])
def test_directions_of_the_wrong_shape_or_kind_are_refused(bad):
    with pytest.raises(ValueError):
        decompose_direction(two_layer(), 0, bad)
