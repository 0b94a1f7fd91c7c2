"""Batches by index from in-memory tensors: the seeded split, the loaders of a config, their sizes and order."""

import pytest
import torch

from bilinear_helpers import load_image_dataset
from bilinear_helpers.config import DatasetConfig, TrainConfig
from bilinear_helpers.data import build_image_dataloaders
from bilinear_helpers.data.loaders import split_validation, tensor_loader


def labels_of(loader) -> torch.Tensor:
    return torch.cat([y for _, y in loader])


def test_tensor_loader_slices_whole_batches():
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    batches = list(tensor_loader(x, y, 4, shuffle=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2] and torch.equal(torch.cat([b[1] for b in batches]), y)
    assert torch.equal(batches[0][0], x[:4])


def test_shuffling_is_seeded_and_covers_every_item():
    x, y = torch.zeros(50, 1), torch.arange(50)
    first = labels_of(tensor_loader(x, y, 8, shuffle=True, seed=3))
    assert torch.equal(first.sort().values, y) and not torch.equal(first, y)
    assert torch.equal(labels_of(tensor_loader(x, y, 8, shuffle=True, seed=3)), first)
    assert not torch.equal(labels_of(tensor_loader(x, y, 8, shuffle=True, seed=4)), first)
    loader = tensor_loader(x, y, 8, shuffle=True, seed=3)
    assert not torch.equal(labels_of(loader), labels_of(loader))  # a new order every epoch


def test_split_validation_is_seeded_and_disjoint():
    x, y = torch.arange(20.0)[:, None], torch.arange(20)
    (x_train, y_train), (x_val, y_val) = split_validation(x, y, 0.25, seed=0)
    assert len(y_val) == 5 and len(y_train) == 15
    assert torch.equal(torch.cat([y_train, y_val]).sort().values, y)
    assert torch.equal(x_train[:, 0].long(), y_train)  # images and labels stay paired
    assert torch.equal(split_validation(x, y, 0.25, seed=0)[1][1], y_val)
    assert not torch.equal(split_validation(x, y, 0.25, seed=1)[1][1], y_val)
    (_, all_train), (_, none) = split_validation(x, y, 0.0, seed=0)
    assert torch.equal(all_train, y) and len(none) == 0


def test_bad_val_fraction_is_rejected():
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got 1.0"):
        split_validation(torch.zeros(4, 1), torch.zeros(4), 1.0, seed=0)
    for fraction in (0.9999, 0.01):  # 4 images: nothing left to train on, or nothing to validate on
        with pytest.raises(ValueError, match="leaves at least one on each side"):
            split_validation(torch.zeros(4, 1), torch.zeros(4), fraction, seed=0)


def test_dataloaders_batch_in_memory_tensors_with_a_seeded_split(tiny_mnist):
    train_cfg = {"batch_size": 32, "val_fraction": 0.25, "device": "cpu"}
    bundle = build_image_dataloaders({"name": "mnist"}, train_cfg, seed=0)
    assert bundle.input_shape == (1, 28, 28) and bundle.num_classes == 10 and len(bundle.class_names) == 10
    assert bundle.source == "torchvision"
    train_batches = list(bundle.train_loader)
    assert train_batches[0][0].shape == (32, 1, 28, 28) and train_batches[0][1].dtype == torch.int64
    assert [len(y) for _, y in train_batches] == [32] * 4 + [22]  # 150 training images
    assert len(labels_of(bundle.val_loader)) == 50 and len(labels_of(bundle.test_loader)) == 100
    # the test loader is the test split in order
    assert torch.equal(labels_of(bundle.test_loader), load_image_dataset("mnist").test_labels)
    # the same seed gives the same split and the same order; another seed another split
    again = build_image_dataloaders({"name": "mnist"}, train_cfg, seed=0)
    assert torch.equal(labels_of(again.train_loader), torch.cat([y for _, y in train_batches]))
    assert torch.equal(labels_of(again.val_loader), labels_of(bundle.val_loader))
    other = build_image_dataloaders({"name": "mnist"}, train_cfg, seed=1)
    val_images = torch.cat([x for x, _ in bundle.val_loader])
    assert not torch.equal(torch.cat([x for x, _ in other.val_loader]), val_images)


def test_no_validation_set_with_val_fraction_zero(tiny_mnist):
    bundle = build_image_dataloaders({"name": "mnist"}, {"batch_size": 50, "val_fraction": 0.0}, seed=0)
    assert bundle.val_loader is None
    assert len(labels_of(bundle.train_loader)) == 200


def test_typed_sections_work_like_dicts(tiny_mnist):
    typed = build_image_dataloaders(DatasetConfig("mnist"), TrainConfig(batch_size=64, val_fraction=0.1,
                                                                        device="cpu"), seed=2)
    plain = build_image_dataloaders({"name": "mnist"}, {"batch_size": 64, "val_fraction": 0.1, "device": "cpu"},
                                    seed=2)
    assert torch.equal(labels_of(typed.train_loader), labels_of(plain.train_loader))
    assert len(labels_of(typed.val_loader)) == 20


def test_a_private_rng_loader_leaves_the_global_generator_alone():
    images, labels = torch.rand(10, 4), torch.arange(10)
    state = torch.get_rng_state()
    list(tensor_loader(images, labels, batch_size=3, shuffle=False, private_rng=True))
    assert torch.equal(torch.get_rng_state(), state)  # scoring the test set does not move the training noise
    list(tensor_loader(images, labels, batch_size=3, shuffle=False))
    assert not torch.equal(torch.get_rng_state(), state)  # the control: a plain DataLoader pass draws one number
