"""Two-layer decomposition: the last block's per-class matrices and directions pulled back."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers import (
    BilinearImageClassifier,
    decompose_bilinear_model,
    decompose_direction,
    eigenvector_logits,
)


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
    h = model.hidden(x, n_blocks=n_layer - 1)
    if bias:
        h = torch.cat([h, torch.ones(5, 1, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(art.features(x), h)
    assert rel(art.logits(x), model(x)) < 1e-10


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
            target = model.blocks[layer](model.hidden(x, n_blocks=layer)) @ directions.T
        assert art.num_outputs == 3
        assert rel(art.logits(x), target) < 1e-10
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
    h1 = model.hidden(x, n_blocks=1)
    torch.testing.assert_close(pulled.logits(x)[:, 0], h1 @ u)
    contribution = last.eigenvalues[2, -1] * pulled.logits(x)[:, 0] ** 2
    torch.testing.assert_close(contribution, last.contributions(x)[:, 2, -1])


def test_eigenvector_logits_feed_vectors_through_the_last_block_and_head():
    model = two_layer(seed=6)
    art = decompose_bilinear_model(model)
    vectors = art.eigenvectors_hidden[1][:, [-1, -2, 0, 1]].T  # four layer-2 eigenvectors of class 1
    logits = eigenvector_logits(model, vectors)
    assert logits.shape == (4, 4)
    # fed through the block, an eigenvector of Q_c gives exactly its eigenvalue on class c
    torch.testing.assert_close(logits[:, 1], art.eigenvalues[1, [-1, -2, 0, 1]])
    with torch.no_grad():
        torch.testing.assert_close(logits, model.head(model.blocks[1](vectors)))


def test_sign_rule_is_stable_for_directions():
    model = two_layer(seed=7)
    art = decompose_bilinear_model(model)
    white = torch.ones(1, 16, dtype=torch.float64)
    assert torch.all(torch.einsum("h,chk->ck", art.features(white)[0], art.eigenvectors_hidden) > 0)
    u = art.eigenvectors_hidden[0][:, -1]
    a, b = decompose_direction(model, 0, u), decompose_direction(model, 0, u.clone())
    torch.testing.assert_close(a.eigenvectors_hidden, b.eigenvectors_hidden)
    flipped = decompose_direction(model, 0, -u)  # the form negates: eigenvalues flip, orientation rule still holds
    torch.testing.assert_close(flipped.eigenvalues[0], -a.eigenvalues[0].flip(0))
    assert torch.all(flipped.eigenvectors_input.sum(-1) > 0) and torch.all(a.eigenvectors_input.sum(-1) > 0)


def test_directions_must_live_in_the_blocks_output_space():
    with pytest.raises(ValueError, match="has 7 entries, got 5"):
        decompose_direction(two_layer(), 0, torch.randn(5))
