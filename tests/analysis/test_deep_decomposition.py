"""The whole network at once: bases per block input, the truncated network, and its baselines."""

from itertools import pairwise

import pytest
import torch
from einops import einsum

from bilinear_helpers import BilinearImageClassifier, ReLUImageClassifier
from bilinear_helpers.analysis.deep_decomposition import (
    BlockBasis,
    activation_pca_bases,
    greedy_allocation,
    network_bases,
    pixel_features,
    random_bases,
    truncate_network,
    truncation_accuracy,
)


def network(n_layer=2, bias=False, d_hidden=9, d_input=14, d_output=4, seed=0):
    model = BilinearImageClassifier(d_input=d_input, d_hidden=d_hidden, d_output=d_output, n_layer=n_layer,
                                    bias=bias, seed=seed).double()
    with torch.no_grad():  # weights of order one, so every block's output is of the input's size
        for block in range(n_layer):
            model.block_weight(block).mul_(3.0)
    return model


def relative_error(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("n_layer", [1, 2, 3])
@pytest.mark.parametrize("bias", [False, True])
def test_at_full_rank_the_truncated_network_is_the_network(n_layer, bias):
    model = network(n_layer, bias)
    x = torch.randn(32, 14, dtype=torch.float64)
    full = truncate_network(model, [model.d_hidden] * n_layer)
    with torch.no_grad():
        assert relative_error(full(x), model(x)) < 1e-10
    assert type(full) is BilinearImageClassifier and full is not model


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


@pytest.mark.parametrize(("block", "rank"), [(0, 3), (1, 2), (2, 4)])
@pytest.mark.parametrize("bias", [False, True])
def test_a_planted_low_rank_input_is_cut_to_exactly_that_rank_with_no_loss(block, rank, bias):
    model = network(3, bias)
    generator = torch.Generator().manual_seed(block)
    subspace = torch.linalg.qr(torch.randn(9, rank, generator=generator, dtype=torch.float64)).Q  # [d, rank]
    with torch.no_grad():  # block `block` reads only `rank` directions of its input
        weight = model.block_weight(block)
        weight.copy_(weight @ subspace @ subspace.mT)
    basis = network_bases(model)[block]
    values = basis.singular_values / basis.singular_values[0]
    assert int((values > 1e-10).sum()) == rank
    ks = [9, 9, 9]
    ks[block] = rank
    x = torch.randn(16, 14, dtype=torch.float64)
    with torch.no_grad():
        assert relative_error(truncate_network(model, ks)(x), model(x)) < 1e-10
        ks[block] = rank - 1
        assert relative_error(truncate_network(model, ks)(x), model(x)) > 1e-6  # one fewer is not free


def test_pixel_features_read_the_input_as_the_basis_reads_the_embedding():
    model = network(2)
    bases = network_bases(model)
    x = torch.rand(5, 14, dtype=torch.float64)
    images = pixel_features(model, bases, 4)
    assert images.shape == (4, 14)
    assert torch.allclose(x @ images.mT, model.embed(x) @ bases[0].basis[:4].mT)
    white = model.block_input(torch.ones(1, 14, dtype=torch.float64), 0)
    assert bool((white @ bases[0].basis.mT > 0).all())  # the sign rule: the all-ones image projects positively


def test_pca_and_random_bases_are_orthonormal_and_pca_keeps_the_activation_energy():
    model = network(2)
    x = torch.rand(200, 14, dtype=torch.float64)
    pca, rand = activation_pca_bases(model, x), random_bases(model, seed=3)
    eye = torch.eye(9, dtype=torch.float64)
    for basis in [*pca, *rand]:
        assert torch.allclose(basis @ basis.mT, eye, atol=1e-10)
    assert torch.equal(random_bases(model, seed=3)[1], rand[1])
    h = model.block_input(x, 1).detach()
    for k in (1, 3):  # no k-dimensional basis keeps more of the activations' energy than PCA's
        assert (h @ pca[1][:k].mT).square().sum() >= (h @ rand[1][:k].mT).square().sum()
        assert (h @ pca[1][:k].mT).square().sum() >= (h @ network_bases(model)[1].basis[:k].mT).square().sum()


def test_truncation_accuracy_at_full_rank_is_the_models():
    model = network(2)
    x, y = torch.rand(50, 14, dtype=torch.float64), torch.randint(0, 4, (50,))
    with torch.no_grad():
        expected = float((model(x).argmax(-1) == y).double().mean())
    assert truncation_accuracy(model, network_bases(model), [[9, 9], [1, 1]], x, y)[0] == expected


def test_the_greedy_path_cuts_one_block_by_one_step_at_a_time():
    model = network(3)
    x, y = torch.rand(40, 14, dtype=torch.float64), torch.randint(0, 4, (40,))
    path = greedy_allocation(model, network_bases(model), x, y, step=2, min_kept=3)
    assert path[0] == [9, 9, 9] and path[-1] == [3, 3, 3]
    for before, after in pairwise(path):
        assert sorted(b - a for b, a in zip(before, after, strict=True)) == [0, 0, 2]


def test_bad_arguments_are_named():
    model = network(2)
    with pytest.raises(ValueError, match="one count per block \\(2\\), got 3"):
        truncate_network(model, [3, 3, 3])
    with pytest.raises(Exception, match="ks"):
        truncate_network(model, [0, 3])
    with pytest.raises(Exception, match="ks"):
        truncate_network(model, [10, 3])
    with pytest.raises(ValueError, match="list of whole numbers"):
        truncate_network(model, 3)
    with pytest.raises(ValueError, match="orthonormal rows"):
        truncate_network(model, [3, 3], [torch.ones(9, 9, dtype=torch.float64)] * 2)
    with pytest.raises(ValueError, match="one basis per block"):
        truncate_network(model, [3, 3], network_bases(model)[:1])
    with pytest.raises(ValueError, match=r"bases\[0\] has d=4"):
        truncate_network(model, [3, 3], [torch.eye(4, dtype=torch.float64)] * 2)
    with pytest.raises(TypeError, match="not a BilinearImageClassifier"):
        network_bases(ReLUImageClassifier(d_input=14, d_hidden=9, d_output=4))
    residual = BilinearImageClassifier(d_input=14, d_hidden=9, d_output=4, residual=True)
    with pytest.raises(ValueError, match="residual"):
        network_bases(residual)
    with pytest.raises(Exception, match="count"):
        pixel_features(model, network_bases(model), 0)
    with pytest.raises(ValueError, match="step"):
        greedy_allocation(model, network_bases(model), torch.rand(4, 14, dtype=torch.float64),
                          torch.zeros(4, dtype=torch.long), step=0)
    with pytest.raises(ValueError, match="labels"):
        truncation_accuracy(model, network_bases(model), [[3, 3]], torch.rand(4, 14, dtype=torch.float64),
                            torch.full((4,), 7))
