"""Batches from in-memory tensors: the train / validation / test loaders of a config.

Each step indexes the tensors once with a batch of indices (no per-sample work, no
collation), so an epoch over MNIST costs little more than the model's own arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from ..runtime import resolve_device
from .images import load_image_dataset
from .poisoning import plant_trigger, trigger_pattern


def _field(section, key: str, default=None):
    """`section[key]` for a dict section, `section.key` for a typed one."""
    return section.get(key, default) if isinstance(section, dict) else getattr(section, key, default)


@dataclass(frozen=True)
class DatasetBundle:
    """Loaders over in-memory tensors. `val_loader` is None when `val_fraction` is 0."""

    train_loader: DataLoader
    test_loader: DataLoader
    input_shape: tuple[int, ...]
    num_classes: int
    val_loader: DataLoader | None = None
    class_names: tuple[str, ...] = ()
    source: str = ""
    source_description: str = ""


def tensor_loader(
    images: Tensor, labels: Tensor, batch_size: int, shuffle: bool, seed: int = 0, private_rng: bool = False
) -> DataLoader:
    """A DataLoader that slices whole batches out of in-memory tensors by index.

    The tensors stay on whatever device they are on. Shuffling is seeded. Each pass over a
    DataLoader draws one number from torch's global generator, which also draws the
    training noise; with `private_rng` it draws from its own instead, so that scoring the
    test set while training leaves the training run exactly as it would be without it.
    """
    dataset = TensorDataset(images, labels)
    order = (
        RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    )
    generator = torch.Generator().manual_seed(seed) if private_rng else None
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None,
                      generator=generator)


def split_validation(
    images: Tensor, labels: Tensor, val_fraction: float, seed: int
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """A seeded random split of a training set into (train, validation) pairs."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(val_fraction * len(labels)))
    if val_fraction > 0 and not 1 <= n_val < len(labels):
        raise ValueError(
            f"val_fraction={val_fraction} of {len(labels)} training images leaves {n_val} for validation and "
            f"{len(labels) - n_val} for training; choose a fraction that leaves at least one on each side "
            "(or 0 for no validation set)"
        )
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:n_val].sort().values, order[n_val:].sort().values
    return (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx])


def balanced_subset(labels: Tensor, count: int, n_classes: int, seed: int = 0) -> Tensor:
    """Sorted indices of `count` training images, `count / n_classes` from each class, drawn with
    `seed` (fixed, so that runs of different seeds share the subset); a ValueError naming the
    class that has too few."""
    per_class, remainder = divmod(count, n_classes)
    if remainder or per_class < 1:
        raise ValueError(f"cannot draw {count} images evenly from {n_classes} classes: choose a multiple of "
                         f"{n_classes}")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(n_classes):
        members = (labels == c).nonzero().flatten()
        if len(members) < per_class:
            raise ValueError(f"dataset.train_images={count} needs {per_class} images of class {c}, the training set "
                             f"has {len(members)}: choose at most {n_classes * int(torch.bincount(labels).min())}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def build_image_dataloaders(dataset_cfg, train_cfg, seed: int = 0) -> DatasetBundle:
    """Train, validation and test loaders for the config sections `dataset` and `train`.

    Uses `dataset.name`, `dataset.root`, `train.batch_size`, `train.val_fraction` and
    `train.device` ("auto" resolved); the tensors are moved to that device once. The
    sections may be dicts or the typed sections of `config.ExperimentConfig`.
    """
    dataset = load_image_dataset(_field(dataset_cfg, "name"), _field(dataset_cfg, "root"))
    device = resolve_device(_field(train_cfg, "device", "auto"))
    batch_size = int(_field(train_cfg, "batch_size"))
    train_images, train_labels = dataset.train_images, dataset.train_labels
    if _field(dataset_cfg, "train_images") is not None:  # the same subset for every run seed
        kept = balanced_subset(train_labels, int(_field(dataset_cfg, "train_images")), len(dataset.class_names))
        train_images, train_labels = train_images[kept], train_labels[kept]
    if _field(dataset_cfg, "trigger") is not None:  # a backdoor: poison the training images (the test set stays clean)
        mask, pattern = trigger_pattern(_field(dataset_cfg, "trigger"), tuple(train_images.shape[1:]))
        poisoned = plant_trigger(train_images, train_labels, mask=mask, pattern=pattern,
                                 target=_field(dataset_cfg, "poison_target"),
                                 fraction=_field(dataset_cfg, "poison_fraction"), seed=seed)
        train_images, train_labels = poisoned.images, poisoned.labels
    (x_train, y_train), (x_val, y_val) = split_validation(
        train_images, train_labels, float(_field(train_cfg, "val_fraction", 0.0)), seed
    )

    def on_device(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return x.to(device), y.to(device)

    return DatasetBundle(
        train_loader=tensor_loader(*on_device(x_train, y_train), batch_size, shuffle=True, seed=seed),
        test_loader=tensor_loader(*on_device(dataset.test_images, dataset.test_labels), batch_size, shuffle=False,
                                  private_rng=True),
        val_loader=tensor_loader(*on_device(x_val, y_val), batch_size, shuffle=False) if len(y_val) else None,
        input_shape=tuple(dataset.train_images.shape[1:]),
        num_classes=len(dataset.class_names),
        class_names=dataset.class_names,
        source=dataset.source,
        source_description=dataset.source_description,
    )
