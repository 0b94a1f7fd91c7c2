"""The network cut to the top directions of every block's input: exact at full rank, free on a planted
low-rank input, the PCA and random baselines, scores and the greedy allocation."""

from itertools import pairwise

import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, ReLUImageClassifier
from bilinear_helpers.analysis.deep_decomposition import network_bases
from bilinear_helpers.analysis.network_truncation import (
    activation_pca_bases,
    greedy_allocation,
    paired_test,
    random_bases,
    truncate_network,
    truncation_scores,
)

from .networks import network, relative_error


@pytest.mark.parametrize("n_layer", [1, 2, 3])
@pytest.mark.parametrize("bias", [False, True])
def test_at_full_rank_the_truncated_network_is_the_network(n_layer, bias):
    model = network(n_layer, bias)
    x = torch.randn(32, 14, dtype=torch.float64)
    full = truncate_network(model, [model.d_hidden] * n_layer)
    with torch.no_grad():
        assert relative_error(full(x), model(x)) < 1e-10
    assert type(full) is BilinearImageClassifier and full is not model


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


def test_scores_at_full_rank_are_the_models_and_fall_with_the_cut():
    model = network(2)
    x, y = torch.rand(50, 14, dtype=torch.float64), torch.randint(0, 4, (50,))
    with torch.no_grad():
        expected = model(x).argmax(-1) == y
    scores = truncation_scores(model, network_bases(model), [[9, 9], [1, 1]], x, y)
    assert torch.equal(scores["correct"][0], expected)
    assert float(scores["accuracy"][0]) == float(expected.double().mean())
    assert float(scores["logit_r2"][0]) == pytest.approx(1.0) and float(scores["logit_r2"][1]) < 1.0


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
    with pytest.raises(ValueError, match="step"):
        greedy_allocation(model, network_bases(model), torch.rand(4, 14, dtype=torch.float64),
                          torch.zeros(4, dtype=torch.long), step=0)
    with pytest.raises(ValueError, match="labels"):
        truncation_scores(model, network_bases(model), [[3, 3]], torch.rand(4, 14, dtype=torch.float64),
                          torch.full((4,), 7))


def test_the_paired_test_counts_the_images_only_one_gets_right():
    first = torch.tensor([True, True, True, True, True, False, True])
    second = torch.tensor([True, False, False, False, False, False, True])
    result = paired_test(first, second)
    assert (result["only_first"], result["only_second"]) == (4, 0)
    assert result["p_value"] == pytest.approx(0.125)  # 2 x 0.5^4, exact
    assert paired_test(second, first)["p_value"] == result["p_value"]
    assert paired_test(first, first)["p_value"] == 1.0
    with pytest.raises(ValueError, match="bool tensors"):
        paired_test(first.long(), second)
    with pytest.raises(ValueError, match="batch"):
        paired_test(first, second[:3])
