"""The pair dataset of a group table, and the loaders a config trains on."""

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.catalog import SOURCE_GROUP_TABLE
from bilinear_helpers.groups import group_dataloaders, one_hot_pairs


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


def test_splits_are_full_batches_of_their_pairs():
    task = bh.group_task(bh.make_group("C5"), 0.4, seed=0)
    x, y = task.split("train")
    assert x.shape == (10, 10) and torch.equal(y, task.labels[task.train_index])
    assert len(task.split("test")[1]) == 15 and len(task.split("all")[1]) == 25


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.3"])
def test_bad_train_fraction_is_refused(fraction):
    with pytest.raises(ValueError, match=r"train_fraction must be a number strictly between 0 and 1, got"):
        bh.group_task(bh.make_group("C5"), fraction)


def test_a_fraction_that_leaves_no_pair_is_refused():
    with pytest.raises(ValueError, match=r"train_fraction 0.001 leaves no pairs for training or testing \(25 pairs"):
        bh.group_task(bh.make_group("C5"), 0.001)


def test_one_hot_pairs_checks_its_input():
    torch.testing.assert_close(one_hot_pairs(torch.tensor([[1, 2]]), 3), torch.tensor([[0.0, 1, 0, 0, 0, 1]]))
    with pytest.raises(ValueError, match=r"element indices 0..4"):
        one_hot_pairs(torch.tensor([[0, 5]]), 5)
    with pytest.raises(ValueError, match=r"shape \[batch, 2\]"):
        one_hot_pairs(torch.tensor([0, 1, 2]), 5)
    with pytest.raises(ValueError, match=r"unknown split 'validation': choose 'train', 'test' or 'all'"):
        bh.group_task(bh.make_group("C5"), 0.5).split("validation")


def test_group_dataloaders_give_the_training_pairs_in_one_batch():
    cfg = bh.make_config("group_bilinear", dataset="S4", train_fraction=0.5, device="cpu")
    bundle = group_dataloaders(cfg.dataset, cfg.train, seed=cfg.seed)
    task = bh.group_task(bh.make_group("S4"), 0.5, seed=cfg.seed)
    batches = list(bundle.train_loader)
    assert len(batches) == 1  # full batch, in a fixed order
    torch.testing.assert_close(batches[0][0], task.split("train")[0])
    assert torch.equal(batches[0][1], task.split("train")[1])
    assert torch.equal(torch.cat([y for _, y in bundle.test_loader]), task.split("test")[1])
    assert bundle.val_loader is None and bundle.num_classes == 24 and bundle.input_shape == (48,)
    assert bundle.source == SOURCE_GROUP_TABLE and "S_4 (288 training pairs, 288 held out)" in bundle.source_description


def test_group_dataloaders_with_small_batches_and_a_validation_set():
    cfg = bh.make_config("group_bilinear", dataset="C7", train_fraction=0.5, batch_size=8, val_fraction=0.25,
                         device="cpu")
    bundle = group_dataloaders(cfg.dataset, cfg.train, seed=0)
    train, val = torch.cat([y for _, y in bundle.train_loader]), torch.cat([y for _, y in bundle.val_loader])
    assert len(train) + len(val) == round(0.5 * 49) and len(val) == round(0.25 * 24)
    assert max(len(y) for _, y in bundle.train_loader) == 8


def test_task_arguments_are_named():
    with pytest.raises(TypeError, match=r"group must be a Group \(bh.make_group\('S4'\)\), got str"):
        bh.group_task("S3", 0.5)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        bh.group_task(bh.make_group("S3"), 0.5, seed=None)
    with pytest.raises(ValueError, match=r"order must be >= 1, got 0"):
        bh.groups.one_hot_pairs(torch.zeros(2, 2, dtype=torch.int64), 0)
    with pytest.raises(ValueError, match="order must be a whole number, got 2.5"):
        bh.groups.one_hot_pairs(torch.zeros(2, 2, dtype=torch.int64), 2.5)


def test_group_loaders_accept_config_sections_as_dicts():
    bundle = bh.groups.group_dataloaders({"name": "S3", "train_fraction": 0.5}, {"batch_size": 8, "device": "cpu",
                                                                                 "val_fraction": 0.0})
    assert bundle.num_classes == 6
