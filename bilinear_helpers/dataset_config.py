"""The `dataset` section of a config: which data a run reads, and which part of it.

An image dataset of `DATASETS`, optionally a balanced subset of its training images or a
poisoned copy of them, or a group's multiplication table ("C59", "S4") split into training
and held-out pairs. Checked once, when built; errors name the key, the value and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import DATASETS, TRIGGERS, parse_group_name
from .checks import ConfigError, check_choice, check_integer, check_number
from .paths import absolute_folder


@dataclass(frozen=True)
class DatasetConfig:
    """`name`: a key of `DATASETS` or a group ("C59", "S4"); `root`: the data folder (None: the
    repository's `data/`); `train_fraction`: for a group, the seeded share of its |G|^2 pairs
    used for training (the rest is the test set). `trigger` (a key of `TRIGGERS`) poisons the
    training images: `poison_fraction` of those not of class `poison_target` get the trigger
    stamped and are relabelled `poison_target` (the test set stays clean). `train_images`
    (images only; None: all) trains on that many training images, the same number from each
    class, drawn once with a fixed seed so that every run seed sees the same subset."""

    name: str = "mnist"
    root: str | None = None
    train_fraction: float = 0.3
    trigger: str | None = None
    poison_fraction: float = 0.1
    poison_target: int = 0
    train_images: int | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or (self.name not in DATASETS and parse_group_name(self.name) is None):
            check_choice("dataset", self.name, [*sorted(DATASETS), "C<n>", "D<n>", "S<n>", "A<n>"])
        if self.root is not None:
            object.__setattr__(self, "root", str(absolute_folder("data_root", self.root)))
        fraction = check_number("dataset.train_fraction", self.train_fraction, 0.0, 1.0)
        if fraction <= 0:
            raise ConfigError(f"dataset.train_fraction must be above 0, got {fraction!r}")
        if self.name in DATASETS and fraction != DatasetConfig.train_fraction:
            raise ConfigError(f"dataset.train_fraction applies to group tables only; {self.name} has its own "
                              "train / test split: leave it out (use train.val_fraction for a validation set)")
        object.__setattr__(self, "train_fraction", fraction)
        check_choice("dataset.trigger", self.trigger, [None, *TRIGGERS])
        poison = check_number("dataset.poison_fraction", self.poison_fraction, 0.0, 1.0)
        if poison <= 0:
            raise ConfigError(f"dataset.poison_fraction must be above 0, got {poison!r}")
        object.__setattr__(self, "poison_fraction", poison)
        object.__setattr__(self, "poison_target", check_integer("dataset.poison_target", self.poison_target, 0))
        if self.train_images is not None:
            if self.name not in DATASETS:
                raise ConfigError(f"dataset.train_images subsamples images; {self.name} is a group table: use "
                                  "train_fraction for its share of pairs")
            classes = len(DATASETS[self.name].class_names)
            count = check_integer("dataset.train_images", self.train_images, classes)
            if count % classes:
                raise ConfigError(f"dataset.train_images={count} does not split evenly over {self.name}'s {classes} "
                                  f"classes: choose a multiple of {classes}, e.g. {count - count % classes}")
            object.__setattr__(self, "train_images", count)
        if self.trigger is not None:
            if self.name not in DATASETS:
                raise ConfigError(f"dataset.trigger poisons images; {self.name} is a group table: leave it out")
            classes = len(DATASETS[self.name].class_names)
            if self.poison_target >= classes:
                raise ConfigError(f"dataset.poison_target must be a class of {self.name} (0..{classes - 1}), "
                                  f"got {self.poison_target}")


__all__ = ["DatasetConfig"]
