"""A group's multiplication table as a dataset: every pair (a, b), one-hot, labelled ab.

Input pair p = a |G| + b is the two-hot vector `[onehot(a), onehot(b)]` of length 2|G|, so
the image classifiers of `models` (embedding, blocks, readout) read it unchanged: their
embedding `E` `[d_hidden, 2|G|]` holds a's embedding in its first |G| columns and b's in
the rest. A seeded share of the pairs is for training; the rest is held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int64
from torch import Tensor

from ..catalog import SOURCE_GROUP_TABLE
from ..checks import check_integer
from ..config import section
from ..data.loaders import DatasetBundle, split_validation, tensor_loader
from ..runtime import resolve_device
from .tables import Group, make_group


@dataclass(frozen=True)
class GroupTask:
    """All |G|^2 pairs of `group`: `inputs` `[pair, 2|G|]`, `labels` `[pair]` (the index of ab),
    `pairs` `[pair, 2]` (a, b), and the pair indices `train_index` and `test_index`."""

    group: Group
    train_fraction: float
    inputs: Float[Tensor, "pair two_elem"]
    labels: Int64[Tensor, " pair"]
    pairs: Int64[Tensor, "pair 2"]
    train_index: Int64[Tensor, " train"]
    test_index: Int64[Tensor, " test"]

    def split(self, which: str) -> tuple[Float[Tensor, "batch two_elem"], Int64[Tensor, " batch"]]:
        """(inputs, labels) of "train", "test" or "all" pairs, as one full batch."""
        index = {"train": self.train_index, "test": self.test_index, "all": torch.arange(len(self.labels))}
        if which not in index:
            raise ValueError(f"unknown split {which!r}: choose 'train', 'test' or 'all'")
        return self.inputs[index[which]], self.labels[index[which]]


def one_hot_pairs(pairs: Int64[Tensor, "batch 2"], order: int) -> Float[Tensor, "batch two_elem"]:
    """`[onehot(a), onehot(b)]` for each row (a, b), float32."""
    order = check_integer("order", order, 1)
    pairs = torch.as_tensor(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.is_floating_point:
        raise ValueError(f"pairs must be integers of shape [batch, 2], got {tuple(pairs.shape)} {pairs.dtype}")
    if pairs.numel() and (pairs.min() < 0 or pairs.max() >= order):
        raise ValueError(f"pair entries must be element indices 0..{order - 1}, got {pairs.min()}..{pairs.max()}")
    inputs = torch.zeros(len(pairs), 2 * order)
    rows = torch.arange(len(pairs))
    inputs[rows, pairs[:, 0]] = 1.0
    inputs[rows, order + pairs[:, 1]] = 1.0
    return inputs


def group_task(group: Group, train_fraction: float = 0.3, seed: int = 0) -> GroupTask:
    """Every pair (a, b) labelled `table[a, b]`; a `train_fraction` of them (seeded) for training.

    The paper trains on 40% of S_5's pairs and 30% of a cyclic or dihedral group's.
    """
    if not isinstance(group, Group):
        raise TypeError(f"group must be a Group (bh.make_group('S4')), got {type(group).__name__} {group!r:.40}")
    seed = check_integer("seed", seed, 0, 2**63)
    if isinstance(train_fraction, bool) or not isinstance(train_fraction, (int, float)) \
            or not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be a number strictly between 0 and 1, got {train_fraction!r}")
    order = group.order
    a, b = torch.meshgrid(torch.arange(order), torch.arange(order), indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], dim=1)
    shuffled = torch.randperm(order * order, generator=torch.Generator().manual_seed(seed))
    n_train = round(train_fraction * order * order)
    if not 0 < n_train < order * order:
        raise ValueError(f"train_fraction {train_fraction} leaves no pairs for training or testing "
                         f"({order * order} pairs in all)")
    return GroupTask(
        group=group,
        train_fraction=float(train_fraction),
        inputs=one_hot_pairs(pairs, order),
        labels=group.table.flatten().clone(),
        pairs=pairs,
        train_index=shuffled[:n_train].sort().values,
        test_index=shuffled[n_train:].sort().values,
    )


def group_dataloaders(dataset_cfg, train_cfg, seed: int = 0) -> DatasetBundle:
    """Loaders over a group table config: `dataset.name` ("C59"), `dataset.train_fraction`.

    The training pairs (less a `val_fraction` for validation, usually 0) and the held-out
    pairs as the test set, on the config's device. A batch at least as large as the table
    trains on every pair at every step (full batch), in a fixed order.
    """
    dataset_cfg, train_cfg = section("dataset", dataset_cfg), section("train", train_cfg)
    task = group_task(make_group(dataset_cfg.name), dataset_cfg.train_fraction, seed=seed)
    device = resolve_device(train_cfg.device)
    (x_train, y_train), (x_val, y_val) = split_validation(*task.split("train"), train_cfg.val_fraction, seed)
    x_test, y_test = task.split("test")
    batch = train_cfg.batch_size
    return DatasetBundle(
        train_loader=tensor_loader(x_train.to(device), y_train.to(device), batch, shuffle=batch < len(y_train),
                                   seed=seed),
        test_loader=tensor_loader(x_test.to(device), y_test.to(device), batch, shuffle=False, private_rng=True),
        val_loader=tensor_loader(x_val.to(device), y_val.to(device), batch, shuffle=False) if len(y_val) else None,
        input_shape=(x_train.shape[1],),
        num_classes=task.group.order,
        class_names=tuple(str(e) for e in range(task.group.order)),
        source=SOURCE_GROUP_TABLE,
        source_description=f"the multiplication table of {task.group.name} ({len(y_train)} training pairs, "
                           f"{len(y_test)} held out)",
    )
