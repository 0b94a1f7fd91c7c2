"""Bases of every block input from the weights: orthonormal, ordered, rebuilding the Gram of T, and with
`upstream=True` weighted by what the layers below put into each direction."""

import pytest
import torch
from einops import einsum

from bilinear_helpers import ReLUImageClassifier
from bilinear_helpers.analysis.deep_decomposition import BlockBasis, network_bases, pixel_features, upstream_grams
from bilinear_helpers.analysis.network_truncation import truncate_network

from .networks import network, relative_error


@pytest.mark.parametrize("n_layer", [1, 3])
@pytest.mark.parametrize("bias", [False, True])
def test_bases_are_orthonormal_and_ordered(n_layer, bias):
    bases = network_bases(network(n_layer, bias))
    assert [b.block for b in bases] == list(range(n_layer))
    for basis in bases:
        assert isinstance(basis, BlockBasis)
        assert torch.allclose(basis.basis @ basis.basis.mT, torch.eye(9, dtype=torch.float64), atol=1e-12)
        assert bool((basis.singular_values[:-1] >= basis.singular_values[1:]).all())
        assert basis.energy_kept(9) == pytest.approx(1.0) and 0 < basis.energy_kept(1) < 1


@pytest.mark.parametrize("bias", [False, True])
def test_the_readout_of_the_block_below_rebuilds_the_gram_of_t(bias):
    model = network(3, bias)
    bases = network_bases(model)
    d = model.d_hidden
    for basis in bases:
        used = basis.interaction_tensor[:, :d, :]
        gram = einsum(used, used, "j a b, j c b -> a c")
        assert torch.allclose(basis.readout.mT @ basis.readout, gram, atol=1e-10)
        assert torch.allclose(basis.interaction_tensor, basis.interaction_tensor.mT)  # symmetrised
    # and the next block down is read through it: T_l uses W_{l+1} = diag(s) V^T as its readout
    left, right = model.left_weight(1), model.right_weight(1)
    if bias:
        left = torch.cat([left, model.left_bias(1)[:, None]], 1)
        right = torch.cat([right, model.right_bias(1)[:, None]], 1)
    raw = einsum(bases[2].readout, left, right, "j o, o a, o b -> j a b")
    assert torch.allclose(bases[1].interaction_tensor, (raw + raw.mT) / 2, atol=1e-12)


def test_the_energy_cut_is_the_sum_of_the_discarded_squared_singular_values():
    model = network(2)
    last = network_bases(model)[-1]
    for k in (1, 4, 8):
        kept = last.basis[:k]
        projected = einsum(last.interaction_tensor, kept.mT @ kept, "j a b, a c -> j c b")
        lost = (last.interaction_tensor - projected).square().sum()
        assert float(lost) == pytest.approx(float(last.singular_values[k:].square().sum()), rel=1e-9, abs=1e-12)


def test_pixel_features_read_the_input_as_the_basis_reads_the_embedding():
    model = network(2)
    bases = network_bases(model)
    x = torch.rand(5, 14, dtype=torch.float64)
    images = pixel_features(model, bases, 4)
    assert images.shape == (4, 14)
    assert torch.allclose(x @ images.mT, model.embed(x) @ bases[0].basis[:4].mT)
    white = model.block_input(torch.ones(1, 14, dtype=torch.float64), 0)
    assert bool((white @ bases[0].basis.mT > 0).all())  # the sign rule: the all-ones image projects positively

def test_upstream_grams_are_the_frobenius_products_of_the_pixel_polynomials():
    model = network(2, d_input=6, d_hidden=5)
    embedding, left, right = model.embedding_weight, model.left_weight(0), model.right_weight(0)
    grams = upstream_grams(model)
    assert torch.allclose(grams[0], embedding @ embedding.mT)
    # h_1[o] = x^T A_o x with A_o = sym(E^T l_o r_o^T E): the Gram of the A_o under <A, B> = tr(A^T B)
    a = einsum(embedding.mT @ left.mT, embedding.mT @ right.mT, "i o, j o -> o i j")
    a = (a + a.mT) / 2
    assert torch.allclose(grams[1], einsum(a, a, "o i j, p i j -> o p"), atol=1e-10)


@pytest.mark.parametrize("n_layer", [1, 2, 3])
def test_upstream_bases_are_biorthogonal_and_rebuild_the_network_at_full_rank(n_layer):
    model = network(n_layer)
    bases = network_bases(model, upstream=True)
    x = torch.randn(16, 14, dtype=torch.float64)
    for basis in bases:
        assert torch.allclose(basis.basis @ basis.synthesis, torch.eye(9, dtype=torch.float64), atol=1e-8)
        assert bool((basis.singular_values[:-1] >= basis.singular_values[1:]).all())
    with torch.no_grad():
        assert relative_error(truncate_network(model, [9] * n_layer, bases)(x), model(x)) < 1e-8


def test_upstream_energy_of_a_one_block_model_is_its_norm_in_pixel_space():
    model = network(1)
    basis = network_bases(model, upstream=True)[0]
    embedding = model.embedding_weight
    in_pixels = einsum(embedding, basis.interaction_tensor, embedding, "a i, j a b, b k -> j i k")
    assert float(basis.singular_values.square().sum()) == pytest.approx(float(in_pixels.square().sum()), rel=1e-9)


def test_a_direction_the_embedding_never_fills_ranks_last_upstream_only():
    model = network(2, d_input=20)
    direction = network_bases(model)[0].basis[0]  # the direction the rest of the network reads most
    with torch.no_grad():  # the embedding puts nothing into it
        embedding = model.embedding_weight
        model.embedding.weight.copy_(embedding - torch.outer(direction, direction @ embedding))
    plain, upstream = network_bases(model)[0], network_bases(model, upstream=True)[0]
    assert abs(float(plain.basis[0] @ direction)) == pytest.approx(1.0)  # still first per unit of h_0
    assert len(upstream.basis) == 8  # a direction no input reaches is not in the upstream basis at all
    x = torch.randn(16, 20, dtype=torch.float64)
    with torch.no_grad():  # so cutting it costs nothing
        assert relative_error(truncate_network(model, [8, 9], [upstream, network_bases(model)[1]])(x), model(x)) < 1e-8


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="not a BilinearImageClassifier"):
        network_bases(ReLUImageClassifier(d_input=14, d_hidden=9, d_output=4))
    with pytest.raises(ValueError, match="residual"):
        network_bases(network(1).__class__(d_input=14, d_hidden=9, d_output=4, residual=True))
    with pytest.raises(Exception, match="upstream"):
        network_bases(network(1), upstream="yes")
    model = network(2)
    with pytest.raises(Exception, match="count"):
        pixel_features(model, network_bases(model), 0)
    with pytest.raises(ValueError, match="network_bases"):
        pixel_features(model, [torch.eye(9)], 2)
    with pytest.raises(Exception, match="k must be"):
        network_bases(model)[0].projector(0)
    assert isinstance(network_bases(model)[0], BlockBasis)
