"""Backdoor poisoning: the trigger is planted exactly and reproducibly, and never touches the originals."""

import pytest
import torch

from bilinear_helpers import make_config
from bilinear_helpers.checks import ConfigError
from bilinear_helpers.data import build_image_dataloaders, plant_trigger, stamp, trigger_pattern


def images_and_labels(n=200, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=generator) * 0.5, torch.arange(n) % 10


def test_named_triggers_are_squares_of_ink_where_the_catalogue_says():
    mask, pattern = trigger_pattern("corner")
    assert mask.shape == (1, 28, 28) and int(mask.sum()) == 16 and bool(mask[0, 23:27, 23:27].all())
    assert torch.equal(pattern, mask.float())
    center, _ = trigger_pattern("center")
    assert bool(center[0, 12:16, 12:16].all()) and int(center.sum()) == 16
    with pytest.raises(ConfigError, match="unknown trigger 'edge'"):
        trigger_pattern("edge")
    with pytest.raises(ValueError, match="at least 27 x 27 pixels"):
        trigger_pattern("corner", (1, 20, 20))


def test_planting_is_exact_seeded_and_leaves_the_originals_alone():
    images, labels = images_and_labels()
    before_images, before_labels = images.clone(), labels.clone()
    mask, pattern = trigger_pattern("corner")
    result = plant_trigger(images, labels, mask=mask, pattern=pattern, target=3, fraction=0.25, seed=7)
    assert torch.equal(images, before_images) and torch.equal(labels, before_labels)  # untouched
    candidates = int((labels != 3).sum())
    assert int(result.poisoned.sum()) == round(0.25 * candidates)
    assert not bool(result.poisoned[labels == 3].any())  # only images of other classes are poisoned
    chosen = result.poisoned
    assert bool((result.labels[chosen] == 3).all()) and torch.equal(result.labels[~chosen], labels[~chosen])
    assert bool((result.images[chosen][:, mask] == 1).all())  # the trigger, exactly
    assert torch.equal(result.images[chosen][:, ~mask], images[chosen][:, ~mask])  # and nothing else
    assert torch.equal(result.images[~chosen], images[~chosen])
    again = plant_trigger(images, labels, mask=mask, pattern=pattern, target=3, fraction=0.25, seed=7)
    assert torch.equal(again.poisoned, result.poisoned) and torch.equal(again.images, result.images)
    other = plant_trigger(images, labels, mask=mask, pattern=pattern, target=3, fraction=0.25, seed=8)
    assert not torch.equal(other.poisoned, result.poisoned)


def test_stamp_names_bad_arguments():
    images, _ = images_and_labels(4)
    mask, pattern = trigger_pattern("corner")
    with pytest.raises(ValueError, match="bool tensor"):
        stamp(images, mask.float(), pattern)
    with pytest.raises(ValueError, match="pattern"):
        stamp(images, mask, pattern[:, :20])
    assert torch.equal(stamp(images, mask, pattern)[:, mask], torch.ones(4, 16))


def test_a_config_with_a_trigger_poisons_the_training_images_only(tiny_mnist):
    config = make_config("mnist_baseline", trigger="corner", poison_fraction=0.5, poison_target=2, device="cpu",
                         batch_size=1000, val_fraction=0.0)
    bundle = build_image_dataloaders(config.dataset, config.train, seed=0)
    mask, _ = trigger_pattern("corner")
    (x, y), = list(bundle.train_loader)
    stamped = (x[:, mask] == 1).all(-1)
    assert int(stamped.sum()) == round(0.5 * int((y != 2).sum() + stamped.sum()))  # half of the other classes
    assert bool((y[stamped] == 2).all())
    (x_test, _), = list(bundle.test_loader)
    assert not bool((x_test[:, mask] == 1).all(-1).any())  # the test set stays clean


@pytest.mark.parametrize(("overrides", "message"), [
    ({"trigger": "edge"}, "unknown dataset.trigger 'edge'"),
    ({"trigger": "corner", "poison_target": 10}, r"poison_target must be a class of mnist \(0..9\), got 10"),
    ({"trigger": "corner", "poison_fraction": 0.0}, "poison_fraction must be above 0"),
    ({"trigger": "corner", "poison_fraction": 1.5}, r"poison_fraction must be in \[0.0, 1.0\)"),
    ({"trigger": "corner", "dataset": "C59"}, "group table"),
    ({"init_run": "../elsewhere"}, "init_run must be the name of a run folder"),
])
def test_bad_poisoning_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("mnist_baseline", **overrides)
