"""Checks for arguments that name a group: a `Group`, a `GroupTask`, a list of irrep names, and
tensors over the group's elements. Each error names the argument and the fix."""

from __future__ import annotations

import math
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor

from ..checks import check_tensor
from .tables import Group
from .task import GroupTask


def check_group(group: Any, key: str = "group") -> Group:
    """`group` if it is a Group; else a TypeError that says how to make one."""
    if not isinstance(group, Group):
        raise TypeError(f"{key} must be a Group (bh.make_group('S4')), got {type(group).__name__} {group!r:.40}")
    return group


def check_task(task: Any) -> GroupTask:
    """`task` if it is a GroupTask; else a TypeError that says how to make one."""
    if not isinstance(task, GroupTask):
        raise TypeError(f"task must be a GroupTask (bh.group_task(group, train_fraction)), got "
                        f"{type(task).__name__}")
    return task


def check_irreps(group: Group, irreps: Any, key: str = "irreps") -> list[str]:
    """`irreps` as a list of distinct irrep names of `group`; a lone name is refused, not split into letters."""
    check_group(group)
    if isinstance(irreps, str) or not isinstance(irreps, (list, tuple)):
        raise ValueError(f"{key} must be a list of irrep names, got {irreps!r}; write e.g. {key}=['standard']")
    names = [group.check_irrep(name) for name in irreps]
    if len(set(names)) != len(names):
        raise ValueError(f"{key} names an irrep twice, got {list(irreps)!r}: each irrep counts once")
    return names


def check_cube(key: str, cube: Tensor, group: Group) -> Tensor:
    """`cube` if it is a finite float `[|G|, |G|, |G|]` tensor for `group` (as `pair_logits` gives), else a
    ValueError."""
    order = check_group(group).order
    return check_tensor(f"{key} (for {group.name}, order {order})", cube, "a b c", {"a": order, "b": order, "c": order},
                        floating=True, finite=True)


def check_pair_interactions(interaction: Tensor) -> Float[Tensor, "cls in1 in2"]:
    """`interaction` if it is `[|G|, 2|G|, 2|G|]` (as `pair_interaction_matrices` gives); else a ValueError."""
    check_tensor("interaction", interaction, "cls in in", floating=True, finite=True)
    if interaction.shape[-1] != 2 * interaction.shape[0]:
        raise ValueError(f"interaction must be [|G|, 2|G|, 2|G|] over two-hot pairs (a, b), got shape "
                         f"{tuple(interaction.shape)}: build the model with d_input = 2 x d_output")
    if not torch.allclose(interaction, interaction.mT, rtol=1e-5, atol=1e-8 * float(interaction.abs().max())):
        raise ValueError("interaction must be symmetric (Q, not the raw B): symmetrize it first, as "
                         "pair_interaction_matrices does")
    return interaction


def check_similarity(similarity) -> dict[str, float]:
    """`similarity` if it maps irrep names to finite numbers (what `logit_similarity` returns)."""
    if not isinstance(similarity, dict) or not all(isinstance(v, (int, float)) and math.isfinite(v)
                                                   for v in similarity.values()):
        raise ValueError(f"similarity must map irrep names to finite numbers (logit_similarity's result), got "
                         f"{similarity!r:.80}")
    return similarity


__all__ = ["check_cube", "check_group", "check_irreps", "check_pair_interactions", "check_similarity", "check_task"]
