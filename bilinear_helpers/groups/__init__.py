"""Finite groups as classification tasks: tables and their real irreps (`tables`, `irreps`),
and the pair dataset that trains a model on them (`task`)."""

from .tables import Group, make_group
from .task import GroupTask, group_dataloaders, group_task, one_hot_pairs

__all__ = ["Group", "GroupTask", "group_dataloaders", "group_task", "make_group", "one_hot_pairs"]
