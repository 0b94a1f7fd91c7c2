"""The clusterability metric and training term, and the config fields that switch it on."""

import numpy as np
import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.training import block_clusters, clusterability, clusterability_penalty, model_clusterability
from bilinear_helpers.training.clusterability import clustered_weights


def test_block_diagonal_weight_scores_one_and_uniform_scores_one_over_k():
    clusters = block_clusters(12, 4)
    assert clusters.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert block_clusters(7, 3).tolist() == [0, 0, 0, 1, 1, 2, 2]  # sizes differ by at most one
    block_diagonal = torch.block_diag(*[torch.randn(3, 3) for _ in range(4)])
    assert clusterability(block_diagonal, clusters, clusters).item() == pytest.approx(1.0)
    assert clusterability(torch.ones(12, 12), clusters, clusters).item() == pytest.approx(0.25)
    rectangular = torch.ones(6, 12)
    assert clusterability(rectangular, block_clusters(6, 3), block_clusters(12, 3)).item() == pytest.approx(1 / 3)


def test_gradient_step_on_the_term_raises_clusterability():
    weight = torch.randn(16, 16, generator=torch.Generator().manual_seed(0), requires_grad=True)
    clusters = block_clusters(16, 4)
    before = clusterability(weight, clusters, clusters)
    (-before).backward()
    with torch.no_grad():
        after = clusterability(weight - 0.1 * weight.grad, clusters, clusters)
    assert after > before


def test_training_with_the_term_makes_the_layer_clustered():
    model = bh.ReLUMLP(d_input=8, d_hidden=8, d_output=2, bias=False, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 8, generator=gen), torch.randint(0, 2, (64,), generator=gen)
    penalty = clusterability_penalty(1.0, 2)
    before = model_clusterability(model, 2)["block 0"]
    for _ in range(100):
        bh.training.train_one_epoch(model, [(x, y)], optimizer, 0.0, "cpu", regularizer=penalty)
    assert before < 0.7 < model_clusterability(model, 2)["block 0"]


def test_the_penalty_is_minus_strength_times_the_mean_score():
    model = bh.BilinearImageClassifier(d_input=16, d_hidden=8, d_output=4, seed=0)
    scores = model_clusterability(model, 2)
    penalty = clusterability_penalty(3.0, 2)(model)
    assert penalty.requires_grad
    assert penalty.item() == pytest.approx(-3.0 * sum(scores.values()) / len(scores))


def test_bilinear_models_cluster_left_right_and_readout():
    model = bh.BilinearImageClassifier(d_input=16, d_hidden=8, d_output=4, n_layer=2, seed=0)
    weights = clustered_weights(model, 2)
    assert [tuple(w.shape) for w, _, _ in weights] == [(16, 8), (16, 8), (4, 8)]
    assert weights[0][0] is model.weight_matrices()["block 0"]  # live: the term's gradient reaches the model
    assert weights[0][1].tolist() == [0, 0, 0, 0, 1, 1, 1, 1] * 2  # output o of L and of R share a cluster
    assert weights[2][1].tolist() == [0, 0, 1, 1]  # classes split into clusters too
    assert set(model_clusterability(model, 2)) == {"block 0", "block 1", "readout"}


def test_a_free_readout_leaves_the_readout_out_of_the_term():
    model = bh.BilinearImageClassifier(d_input=16, d_hidden=8, d_output=4, n_layer=2, seed=0)
    weights = clustered_weights(model, 2, readout=False)
    assert [tuple(w.shape) for w, _, _ in weights] == [(16, 8), (16, 8)]
    scores = model_clusterability(model, 2)
    penalty = clusterability_penalty(1.0, 2, readout=False)(model)
    assert penalty.item() == pytest.approx(-(scores["block 0"] + scores["block 1"]) / 2)
    config = bh.make_config("mnist_baseline", cluster_strength=1.0, n_clusters=4)
    free = bh.make_config("mnist_baseline", cluster_strength=1.0, n_clusters=4, cluster_readout=False)
    assert free.run_name != config.run_name  # a different recipe, a different run
    assert bh.make_config("mnist_baseline", cluster_readout=True).run_name == bh.make_config("mnist_baseline").run_name
    # the classes are no longer split, so there may be more clusters than classes
    bh.make_config("mnist_baseline", d_hidden=32, cluster_strength=1.0, n_clusters=16, cluster_readout=False)
    with pytest.raises(bh.ConfigError, match="train.n_clusters=16 is more clusters than the units the term splits"):
        bh.make_config("mnist_baseline", d_hidden=32, cluster_strength=1.0, n_clusters=16)
    with pytest.raises(bh.ConfigError, match="train.cluster_readout must be True or False, got 'no'"):
        bh.make_config("mnist_baseline", cluster_readout="no")
    with pytest.raises(bh.ConfigError, match="readout must be True or False, got 1"):
        clustered_weights(model, 2, readout=1)


def test_relu_models_cluster_their_blocks_only():
    model = bh.ReLUImageClassifier(d_input=16, d_hidden=8, d_output=4, n_layer=2, seed=0)
    assert [w for w, _, _ in clustered_weights(model, 2)] == [model.weight_matrices()["block 0"],
                                                             model.weight_matrices()["block 1"]]
    assert set(model_clusterability(model, 2)) == {"block 0", "block 1"}


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"n_clusters must be in \[1, 5\), got 5"):
        block_clusters(4, 5)
    with pytest.raises(ValueError, match=r"in_clusters has inp=3 \(shape \(3,\), axes \[inp\]\) but inp=4 elsewhere"):
        clusterability(torch.ones(3, 4), torch.zeros(3, dtype=torch.int64), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="weight must be a float tensor, got torch.int64"):
        clusterability(torch.ones(3, 4, dtype=torch.int64), block_clusters(3, 2), block_clusters(4, 2))
    with pytest.raises(bh.ConfigError, match=r"train.cluster_strength must be >= 0.0, got -1"):
        bh.make_config("mnist_baseline", cluster_strength=-1)
    with pytest.raises(bh.ConfigError, match=r"train.n_clusters must be >= 2, got 1"):
        bh.make_config("mnist_baseline", n_clusters=1)


def test_the_terms_knobs_change_the_run_name_when_off_their_defaults():
    base = bh.make_config("mnist_baseline")
    clustered = bh.make_config("mnist_baseline", cluster_strength=1.0)
    assert clustered.run_name != base.run_name
    assert bh.make_config("mnist_baseline", cluster_strength=1.0, n_clusters=8).run_name != clustered.run_name
    assert bh.make_config("mnist_baseline", cluster_strength=0.0, n_clusters=4).run_name == base.run_name
    assert bh.make_config("mnist_baseline", n_clusters=8).run_name != base.run_name  # one rule, no exceptions


def test_numpy_integers_are_plain_integers():
    assert torch.equal(block_clusters(np.int64(8), np.int64(2)), block_clusters(8, 2))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e3])
def test_small_half_precision_weights_score_like_float64(dtype, scale):
    weight = torch.rand(8, 8, generator=torch.Generator().manual_seed(0)) * scale
    clusters = block_clusters(8, 2)
    expected = float(clusterability(weight.double(), clusters, clusters))
    assert 0.3 < expected < 0.7
    assert float(clusterability(weight.to(dtype), clusters, clusters)) == pytest.approx(expected, rel=1e-2)


def test_an_all_zero_weight_has_no_clusterability():
    clusters = block_clusters(4, 2)
    with pytest.raises(ValueError, match=r"clusterability of an all-zero weight \(4, 4\) is undefined \(0 / 0"):
        clusterability(torch.zeros(4, 4), clusters, clusters)


def test_nan_weights_float_clusters_and_foreign_models_are_named():
    clusters = block_clusters(4, 2)
    with pytest.raises(ValueError, match="weight contains NaN or inf"):
        clusterability(torch.full((4, 4), float("nan")), clusters, clusters)
    with pytest.raises(ValueError, match="out_clusters must be integer cluster indices"):
        clusterability(torch.ones(4, 4), clusters.float(), clusters)
    with pytest.raises(ValueError, match="strength must be a finite number"):
        clusterability_penalty("a", 2)
    with pytest.raises(ValueError, match=r"n_clusters must be >= 1, got 0"):
        clusterability_penalty(1.0, 0)
    with pytest.raises(TypeError, match="model must be one of this package's classifiers, got Linear"):
        model_clusterability(torch.nn.Linear(3, 3), 2)
