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

from .groups import Group


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
