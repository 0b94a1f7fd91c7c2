"""The pair dataset and the full-batch loop."""

import pytest
import torch

import bilinear_helpers as bh


def test_group_task_covers_every_pair_once():
    group = bh.make_group("S3")
    task = bh.group_task(group, 0.5, seed=1)
    assert task.inputs.shape == (36, 12) and torch.equal(task.inputs.sum(dim=1), torch.full((36,), 2.0))
    a, b = task.pairs.T
    assert torch.equal(task.inputs[torch.arange(36), a], torch.ones(36))
    assert torch.equal(task.inputs[torch.arange(36), 6 + b], torch.ones(36))
    assert torch.equal(task.labels, group.table[a, b])
    both = torch.cat([task.train_index, task.test_index]).sort().values
    assert torch.equal(both, torch.arange(36)) and len(task.train_index) == 18
    again = bh.group_task(group, 0.5, seed=1)
    assert torch.equal(again.train_index, task.train_index)
    assert not torch.equal(bh.group_task(group, 0.5, seed=2).train_index, task.train_index)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.3", 0.001])
def test_bad_train_fraction_is_refused(fraction):
    with pytest.raises(ValueError, match="train_fraction"):
        bh.group_task(bh.make_group("C5"), fraction)


def test_one_hot_pairs_checks_its_input():
    with pytest.raises(ValueError, match=r"element indices 0..4"):
        bh.one_hot_pairs(torch.tensor([[0, 5]]), 5)
    with pytest.raises(ValueError, match=r"shape \[batch, 2\]"):
        bh.one_hot_pairs(torch.tensor([0, 1, 2]), 5)
    with pytest.raises(ValueError, match="split"):
        bh.group_task(bh.make_group("C5"), 0.5).split("validation")


def test_full_batch_training_learns_a_small_table_and_logs_curves():
    task = bh.group_task(bh.make_group("C5"), 0.8, seed=0)
    model = bh.BilinearImageClassifier(d_input=10, d_hidden=16, d_output=5, seed=0)
    history = bh.train_full_batch(model, task.split("train"), task.split("test"), steps=300, lr=1e-2,
                                  weight_decay=0.1, log_every=100)
    assert list(history.columns) == ["step", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert history["step"].tolist() == [1, 100, 200, 300]
    assert history["train_acc"].iloc[-1] == 1.0 and history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    with pytest.raises(ValueError, match="steps"):
        bh.train_full_batch(model, task.split("train"), task.split("test"), steps=0)
