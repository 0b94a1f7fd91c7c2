"""Spectral clustering, cluster ablation, max-activating classes, eigenvector cluster shares."""

import numpy as np
import pandas as pd
import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import (
    ablate_clusters,
    ablation_drops,
    ablation_table,
    block_diagonal_share,
    classwise_accuracy,
    cluster_energy,
    cluster_logit_contributions,
    cluster_shares,
    distinct_top_classes,
    readout_energy,
    spectral_clusters,
)
from bilinear_helpers.training import block_clusters, clusterability


def test_spectral_clustering_recovers_a_planted_block_structure():
    generator = torch.Generator().manual_seed(0)
    planted = torch.block_diag(*[torch.rand(5, 5, generator=generator) + 0.5 for _ in range(4)])
    weight = planted + 0.05 * torch.rand(20, 20, generator=generator)
    order_rows, order_cols = torch.randperm(20, generator=generator), torch.randperm(20, generator=generator)
    shuffled = weight[order_rows][:, order_cols]
    rows, cols = spectral_clusters(shuffled, 4, seed=0)
    truth = block_clusters(20, 4)
    for found, true in ((rows, truth[order_rows]), (cols, truth[order_cols])):  # same partition, any labels
        assert len({(int(f), int(t)) for f, t in zip(found, true, strict=True)}) == 4
    assert clusterability(shuffled, rows, cols) > 0.95 > 0.5 > clusterability(shuffled, truth, truth)


@pytest.fixture(scope="module")
def data():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(200, 16, generator=generator)
    labels = torch.arange(200) % 4
    return images, labels


@pytest.mark.parametrize("kind", ["relu_mlp", "bilinear"])
def test_ablating_every_cluster_gives_chance_and_none_changes_nothing(kind, data):
    images, labels = data
    model = bh.build_image_classifier({"kind": kind, "d_input": 16, "d_hidden": 8, "d_output": 4}, seed=0)
    everything = ablate_clusters(model, [0, 1], 2)
    assert torch.allclose(everything(images), model(images))
    nothing = ablate_clusters(model, [], 2)
    assert torch.count_nonzero(nothing(images)) == 0  # every logit 0: argmax picks class 0, chance accuracy
    assert classwise_accuracy(nothing, images, labels, 4).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert model.blocks is not nothing.blocks and torch.count_nonzero(model.readout_weight) > 0


def test_ablation_table_rows_and_overall(data):
    images, labels = data
    model = bh.build_image_classifier({"kind": "relu_mlp", "d_input": 16, "d_hidden": 8, "d_output": 4}, seed=0)
    table = ablation_table(model, images, labels, 2, ["a", "b", "c", "d"])
    assert list(table.index) == ["all clusters", "cluster 0 off", "cluster 1 off", "only cluster 0", "only cluster 1"]
    assert list(table.columns) == ["overall", "a", "b", "c", "d"]
    assert table.loc["all clusters", "overall"] == pytest.approx(table.loc["all clusters", ["a", "b", "c", "d"]].mean())
    with pytest.raises(ValueError, match="active clusters"):
        ablate_clusters(model, [2], 2)


def test_distinct_top_classes():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    activations = torch.tensor([[9.0, 1], [8, 2], [1, 9], [2, 8], [3, 7], [0, 6]])
    assert distinct_top_classes(activations, labels, k=2).tolist() == [1, 1]
    assert distinct_top_classes(activations, labels, k=4).tolist() == [3, 2]
    with pytest.raises(ValueError, match="k must be"):
        distinct_top_classes(activations, labels, k=7)


def test_block_diagonal_matrices_give_every_eigenvector_to_one_cluster():
    generator = torch.Generator().manual_seed(0)
    blocks = [torch.randn(3, 3, dtype=torch.float64, generator=generator) for _ in range(2)]
    q = torch.block_diag(*[b + b.T for b in blocks])[None]
    assert block_diagonal_share(q, 2).item() == pytest.approx(1.0)
    assert block_diagonal_share(torch.ones(1, 6, 6, dtype=torch.float64), 2).item() == pytest.approx(0.5)
    shares = cluster_shares(torch.linalg.eigh(q).eigenvectors.mT, 2)  # eigenvectors as rows
    assert torch.allclose(shares.max(dim=-1).values, torch.ones(1, 6, dtype=torch.float64))


def test_cluster_shares_read_eigenvectors_as_rows():
    rows = torch.eye(4, dtype=torch.float64)[[2, 0, 3, 1]][None]  # component k is row k: units 2, 0, 3, 1
    shares = cluster_shares(rows, 2)
    assert shares.shape == (1, 4, 2)
    assert shares[0].tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]  # columns would give 0, 1, 0, 1


def test_a_block_diagonal_bilinear_model_gives_every_eigenvector_to_one_cluster():
    model = bh.BilinearImageClassifier(d_input=8, d_hidden=8, d_output=3, seed=0).double()
    on = torch.block_diag(torch.ones(4, 4), torch.ones(4, 4)).double()
    with torch.no_grad():
        weights = model.weight_matrices()
        weights["block 0"].mul_(torch.cat([on, on]))  # L and R read and write within their cluster
    art = bh.decompose_bilinear_model(model)
    assert torch.allclose(block_diagonal_share(art.interactions, 2), torch.ones(3, dtype=torch.float64))
    shares = cluster_shares(art.eigenvectors, 2)
    assert torch.allclose(shares.max(dim=-1).values, torch.ones(3, 8, dtype=torch.float64))
    assert torch.allclose(shares.sum(dim=-1), torch.ones(3, 8, dtype=torch.float64))


def test_cluster_energy_reads_which_cluster_a_class_uses_from_its_readout():
    model = bh.BilinearImageClassifier(d_input=8, d_hidden=8, d_output=3, seed=0).double()
    on = torch.block_diag(torch.ones(4, 4), torch.ones(4, 4)).double()
    with torch.no_grad():
        weights = model.weight_matrices()
        weights["block 0"].mul_(torch.cat([on, on]))
        weights["readout"][0, 4:] = 0  # class 0 reads cluster 0 only, class 1 cluster 1 only, class 2 both
        weights["readout"][1, :4] = 0
    energy = cluster_energy(bh.decompose_bilinear_model(model).interactions, 2)
    assert energy.shape == (3, 2)
    assert energy[0].tolist() == pytest.approx([1.0, 0.0]) and energy[1].tolist() == pytest.approx([0.0, 1.0])
    assert 0.0 < energy[2, 0].item() < 1.0
    assert torch.allclose(energy.sum(dim=-1), torch.ones(3, dtype=torch.float64))  # block-diagonal: rows sum to 1
    dense = torch.ones(1, 6, 6, dtype=torch.float64)
    assert cluster_energy(dense, 2)[0].tolist() == pytest.approx([0.25, 0.25])  # off-diagonal blocks hold the rest
    assert cluster_energy(dense, 2).sum().item() == pytest.approx(block_diagonal_share(dense, 2).item())
    with pytest.raises(ValueError, match="all-zero matrix"):
        cluster_energy(torch.zeros(1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"n_clusters must be in \[1, 5\), got 5"):
        cluster_energy(dense[:, :4, :4], 5)


def tiny_model():
    return bh.BilinearImageClassifier(d_input=6, d_hidden=4, d_output=3, seed=0)


def test_a_class_with_no_images_has_no_accuracy_not_zero():
    images = torch.rand(4, 6)
    per_class = classwise_accuracy(tiny_model(), images, torch.tensor([0, 0, 1, 1]), 3)
    assert torch.isnan(per_class[2]) and not torch.isnan(per_class[:2]).any()


@pytest.mark.parametrize(("labels", "message"), [
    (torch.tensor([0, 1, 2, 12]), r"labels must be class indices 0..2, got 0..12"),
    (torch.tensor([0, 1, -1, 2]), r"labels must be class indices 0..2, got -1..2"),
    (torch.tensor([0.0, 1.0, 2.0, 1.0]), "labels must be integer class indices, got torch.float32"),
    (torch.tensor([0, 1, 2]), r"labels has n=3 .* but n=4 elsewhere"),
    ([0, 1, 2, 1], "labels must be a tensor"),
])
def test_bad_labels_are_named(labels, message):
    with pytest.raises(ValueError, match=message):
        classwise_accuracy(tiny_model(), torch.rand(4, 6), labels, 3)


def test_class_count_must_match_the_models_outputs():
    with pytest.raises(ValueError, match="the model gives 3 logits per image, n_classes is 4"):
        classwise_accuracy(tiny_model(), torch.rand(4, 6), torch.tensor([0, 1, 2, 3]), 4)


def test_cluster_counts_and_k_are_checked():
    with pytest.raises(ValueError, match=r"n_clusters must be in \[1, 5\), got 9"):
        ablate_clusters(tiny_model(), [0], 9)
    with pytest.raises(ValueError, match=r"active clusters must be whole numbers in 0..1, got \[2\]"):
        ablate_clusters(tiny_model(), [2], 2)
    with pytest.raises(ValueError, match=r"k must be in \[1, 4\), got 0"):
        distinct_top_classes(torch.rand(3, 5), torch.tensor([0, 1, 2]), k=0)
    with pytest.raises(ValueError, match=r"labels has n=2"):
        distinct_top_classes(torch.rand(3, 5), torch.tensor([0, 1]), k=2)
    with pytest.raises(ValueError, match="weight must have 2 axes"):
        spectral_clusters(torch.rand(3), 2)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: spectral_clusters(torch.rand(12, 8), 1), ValueError, r"n_clusters must be >= 2, got 1"),
    (lambda: spectral_clusters(torch.rand(12, 8), 2, seed="a"), ValueError, "seed must be a whole number"),
    (lambda: spectral_clusters(torch.zeros(8, 4), 2), ValueError, "weight is all zeros"),
    (lambda: ablate_clusters(tiny_model(), 0, 2), ValueError, "active must be a list of cluster indices, got 0"),
    (lambda: ablate_clusters(torch.nn.Linear(3, 3), [0], 2), TypeError, "model must be one of this package's"),
    (lambda: classwise_accuracy(tiny_model(), torch.rand(4, 6).numpy(), torch.tensor([0, 1, 2, 0]), 3), ValueError,
     "images must be a tensor"),
    (lambda: classwise_accuracy(tiny_model(), torch.rand(0, 6), torch.zeros(0, dtype=torch.int64), 3), ValueError,
     "images is empty"),
    (lambda: ablation_table(tiny_model(), torch.rand(4, 6), torch.tensor([0, 1, 2, 0]), 2, ["a", "b"]), ValueError,
     "class_names must name all 3 entries, got 2"),
    (lambda: ablation_table(tiny_model(), torch.rand(4, 6), torch.tensor([0, 1, 2, 0]), 2, "abc"), ValueError,
     "class_names must be a list of names"),
    (lambda: distinct_top_classes(torch.rand(3, 5), torch.tensor([0.0, 1.0, 2.0]), k=2), ValueError,
     "labels must be integer class indices"),
    (lambda: block_diagonal_share(torch.zeros(3, 4, 4), 2), ValueError, "all-zero matrix"),
])
def test_modularity_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_and_torch_integers_name_active_clusters():
    model = tiny_model()
    x = torch.rand(3, 6)
    expected = ablate_clusters(model, [0], 2)(x)
    for active in ([np.int64(0)], [torch.tensor(0)]):
        torch.testing.assert_close(ablate_clusters(model, active, 2)(x), expected)


def test_readout_energy_and_ablation_drops_read_where_a_class_lives():
    model = bh.ReLUImageClassifier(d_input=6, d_hidden=4, d_output=3, seed=0).double()
    with torch.no_grad():
        readout = model.weight_matrices()["readout"]
        readout[0, 2:] = 0  # class 0 reads cluster 0 only
        readout[1, :2] = 0  # class 1 reads cluster 1 only
    energy = readout_energy(model, 2)
    assert energy[0].tolist() == pytest.approx([1.0, 0.0]) and energy[1].tolist() == pytest.approx([0.0, 1.0])
    assert torch.allclose(energy.sum(dim=-1), torch.ones(3, dtype=torch.float64))
    table = pd.DataFrame({"overall": [0.9, 0.5, 0.6], "a": [1.0, 0.2, 0.9], "b": [0.8, 0.8, 0.3]},
                         index=["all clusters", "cluster 0 off", "cluster 1 off"])
    drops = ablation_drops(table, 2, ["a", "b"])
    assert torch.allclose(drops, torch.tensor([[0.8, 0.1], [0.0, 0.5]], dtype=torch.float64))  # [class, cluster]
    with pytest.raises(ValueError, match=r"the table has no rows or columns \['cluster 2 off'\]"):
        ablation_drops(table, 3, ["a", "b"])
    with pytest.raises(ValueError, match="all-zero readout row"):
        with torch.no_grad():
            readout[2] = 0
        readout_energy(model, 2)


@pytest.mark.parametrize("cls", [bh.BilinearImageClassifier, bh.ReLUImageClassifier])
def test_cluster_logit_contributions_add_up_to_each_class_s_own_logit(cls):
    model = cls(d_input=6, d_hidden=4, d_output=3, seed=0)
    with torch.no_grad():
        model.weight_matrices()["readout"][0, 2:] = 0  # class 0 reads cluster 0 only
    images = torch.randn(30, 6, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(30) % 3
    parts = cluster_logit_contributions(model, images, labels, 2)
    assert parts.shape == (3, 2) and parts[0, 1].item() == 0.0
    with torch.no_grad():
        logits = model(images).double()
    own = torch.stack([logits[labels == c, c].mean() for c in range(3)])
    assert torch.allclose(parts.sum(dim=-1), own, atol=1e-5)
    with pytest.raises(ValueError, match="labels"):
        cluster_logit_contributions(model, images, labels[:5], 2)
