"""Training on part of an image training set: balanced, seeded once, the same for every run seed."""

import pytest
import torch

from bilinear_helpers import make_config
from bilinear_helpers.checks import ConfigError
from bilinear_helpers.data import build_image_dataloaders
from bilinear_helpers.data.loaders import balanced_subset


def test_balanced_subset_takes_the_same_number_from_every_class():
    labels = torch.arange(300) % 10
    kept = balanced_subset(labels, 50, 10)
    assert torch.equal(torch.bincount(labels[kept]), torch.full((10,), 5))
    assert torch.equal(kept, kept.sort().values) and len(set(kept.tolist())) == 50
    assert torch.equal(kept, balanced_subset(labels, 50, 10))  # drawn with a fixed seed
    assert not torch.equal(kept, balanced_subset(labels, 50, 10, seed=1))
    with pytest.raises(ValueError, match="needs 31 images of class 0, the training set has 30: choose at most 300"):
        balanced_subset(labels, 310, 10)


def test_a_config_with_train_images_trains_on_that_subset_for_every_seed(tiny_mnist):
    bundles = [build_image_dataloaders(make_config("mnist_baseline", train_images=50, device="cpu", batch_size=1000,
                                                   val_fraction=0.0, seed=seed).dataset,
                                       make_config("mnist_baseline", device="cpu", batch_size=1000,
                                                   val_fraction=0.0).train, seed=seed) for seed in (0, 1)]
    (x0, y0), = list(bundles[0].train_loader)
    (x1, y1), = list(bundles[1].train_loader)
    assert len(y0) == 50 and torch.equal(torch.bincount(y0), torch.full((10,), 5))
    assert torch.equal(x0[y0.argsort(stable=True)].sum(), x1[y1.argsort(stable=True)].sum())  # the same images
    full = build_image_dataloaders(make_config("mnist_baseline", device="cpu", batch_size=1000,
                                               val_fraction=0.0).dataset,
                                   make_config("mnist_baseline", device="cpu", batch_size=1000,
                                               val_fraction=0.0).train, seed=0)
    assert len(list(full.train_loader)[0][1]) == 200
    assert make_config("mnist_baseline", train_images=50).run_name != make_config("mnist_baseline").run_name


@pytest.mark.parametrize(("overrides", "message"), [
    ({"train_images": 55}, r"train_images=55 does not split evenly over mnist's 10 classes: .* e.g. 50"),
    ({"train_images": 5}, r"dataset.train_images must be >= 10, got 5"),
    ({"train_images": 50, "dataset": "C59"}, "group table"),
])
def test_bad_subsets_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("mnist_baseline", **overrides)
