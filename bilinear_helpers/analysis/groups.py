"""Which irreps a network trained on a group's multiplication table uses, from logits and from weights.

Logit view (Chughtai, Chan, Nanda 2023): centre each pair's logits over the outputs c and
compare the whole `[a, b, c]` tensor with each irrep's character `chi(a b c^-1)` (cosine
similarity); the key irreps explain most of the logit variance (sum of squared similarities).
Keeping only their component of the logits (restricted loss) or removing it (excluded loss)
shows that the network needs them.

The weight view (bilinear models only) is in `group_weights`.
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor
from torch.nn import functional as F

from ..checks import check_number
from ..groups import Group, GroupTask
from ..groups.checks import (
    check_cube,
    check_group,
    check_irreps,
    check_similarity,
    check_task,
)
from ..models import check_classifier

KEY_SIMILARITY = 0.1  # an irrep is key when it explains at least 1% of the logit variance (similarity^2)


@torch.no_grad()
def pair_logits(model: torch.nn.Module, task: GroupTask) -> Float[Tensor, "a b c"]:
    """The model's logits for every pair, `[|G|, |G|, |G|]` (float64)."""
    order = check_task(task).group.order
    check_classifier(model)
    if getattr(model, "d_input", 2 * order) != 2 * order or getattr(model, "d_output", order) != order:
        raise ValueError(f"the model reads {model.d_input} inputs into {model.d_output} outputs; {task.group.name}'s "
                         f"pairs need d_input={2 * order} and d_output={order}")
    model.eval()
    logits = model(task.inputs.to(next(model.parameters()).device)).double().cpu()
    if logits.shape != (order * order, order):
        raise ValueError(f"the model gives logits {tuple(logits.shape)} for {order * order} pairs; "
                         f"build it with d_input={2 * order} and d_output={order}")
    return logits.reshape(order, order, order)


def character_cube(group: Group, irrep: str) -> Float[Tensor, "a b c"]:
    """`chi(a b c^-1)` for every (a, b, c): what a logit built from this irrep alone looks like."""
    check_group(group)
    product = group.table[group.table[:, :, None], group.inverse[None, None, :]]  # [a, b, c] = index of a b c^-1
    return group.characters[group.check_irrep(irrep)][product]


def logit_similarity(logits: Float[Tensor, "a b c"], group: Group) -> dict[str, float]:
    """Cosine similarity of the centred logits with each irrep's `chi(a b c^-1)` (0 for trivial)."""
    check_cube("logits", logits, group)
    centred = (logits - logits.mean(dim=-1, keepdim=True)).flatten()
    if float(centred.abs().max()) == 0:
        raise ValueError("logits are the same for every output: there is no signal to compare with a character")
    return {name: F.cosine_similarity(centred, character_cube(group, name).flatten().to(centred), dim=0).item()
            for name in group.irreps}


def key_irreps(similarity: dict[str, float], threshold: float = KEY_SIMILARITY) -> list[str]:
    """The irreps whose similarity is at least `threshold`, most similar first."""
    threshold = check_number("threshold", threshold, -1.0, 1.0)
    check_similarity(similarity)
    return sorted((name for name, value in similarity.items() if value >= threshold), key=lambda n: -similarity[n])


def explained_variance(similarity: dict[str, float], irreps: list[str]) -> float:
    """Share of the centred logits' variance in the span of `irreps`' character cubes.

    The cubes of different irreps are orthogonal, so this is the sum of squared similarities.
    """
    check_similarity(similarity)
    if isinstance(irreps, str) or not isinstance(irreps, (list, tuple)) or len(set(irreps)) != len(irreps):
        raise ValueError(f"irreps must be a list of distinct irrep names, got {irreps!r}")
    unknown = [name for name in irreps if name not in similarity]
    if unknown:
        raise KeyError(f"no similarity for {unknown}: the similarities name {list(similarity)}")
    return sum(similarity[name] ** 2 for name in irreps)


def restricted_and_excluded_loss(logits: Float[Tensor, "a b c"], task: GroupTask, irreps: list[str]) -> dict:
    """Losses with only the `irreps`' component of the centred logits kept, or with it removed.

    "restricted": keep the projection onto the irreps' character cubes, on all pairs;
    "excluded": remove it, on the training pairs (as in the paper); beside them the model's
    own "train" and "test" losses, and "restricted_accuracy" (all pairs).
    """
    group = check_task(task).group
    check_cube("logits", logits, group)
    irreps = check_irreps(group, irreps)
    centred = logits - logits.mean(dim=-1, keepdim=True)
    restricted = torch.zeros_like(centred)
    for name in irreps:
        cube = character_cube(group, name).to(centred)
        restricted += (centred * cube).sum() / (cube * cube).sum() * cube
    excluded = centred - restricted
    order = group.order
    labels = task.labels

    def loss(tensor, index=None):
        flat = tensor.reshape(order * order, order)
        return F.cross_entropy(flat, labels).item() if index is None else F.cross_entropy(flat[index],
                                                                                            labels[index]).item()

    return {"restricted": loss(restricted), "excluded": loss(excluded, task.train_index),
            "train": loss(logits, task.train_index), "test": loss(logits, task.test_index),
            "restricted_accuracy": (restricted.argmax(dim=-1) == group.table).double().mean().item()}


@torch.no_grad()
def hidden_restricted_and_excluded_loss(model: torch.nn.Module, task: GroupTask, irreps: list[str]) -> dict:
    """The paper's version: the same losses with the hidden activations projected instead of the logits.

    Each hidden unit's activation over all pairs, `h(a, b)`, is split into its projection on
    the functions `(a, b) -> rho(ab)_ij` of the `irreps` (plus the constant, which both keep)
    and the rest. "restricted": the readout of the projection, on all pairs; "excluded": the
    readout of the activations with the projection removed, on the training pairs; beside
    them "train", "test" and "restricted_accuracy" (all pairs), as in `restricted_and_excluded_loss`,
    and "span_share": the share of the logits' variance (centred over c, as for `logit_similarity`)
    in the irreps' matrix elements: at least the characters' `explained_variance`, and 1 when
    the irreps hold everything, whatever mix of their matrix elements the model computes.
    """
    group = check_task(task).group
    irreps = check_irreps(group, irreps)
    model = check_classifier(model).eval()
    device = next(model.parameters()).device
    hidden = model.block_output(task.inputs.to(device), -1).double().cpu()  # [pair, hid], pairs in (a, b) order
    constant = torch.ones(group.order, 1, dtype=torch.float64)
    elements = torch.cat([constant, *[group.matrix_elements(name).double() for name in irreps]], dim=1)
    u, s, _ = torch.linalg.svd(elements, full_matrices=False)
    basis = u[:, s > 1e-8 * s.max()][group.table.flatten()] / math.sqrt(group.order)  # [pair, span], orthonormal
    mean = hidden.mean(dim=0, keepdim=True)
    restricted = basis @ (basis.T @ hidden)  # holds the mean: the constant is in the basis
    excluded = hidden - restricted + mean
    readout = model.readout.weight.detach().double().cpu()
    labels = task.labels

    def loss(h, index):
        logits = h[index] @ readout.T
        return F.cross_entropy(logits, labels[index]).item()

    logits = hidden @ readout.T
    centred = logits - logits.mean(dim=-1, keepdim=True)  # centred over c, as logit_similarity does
    if float(centred.abs().max()) == 0:
        raise ValueError("the logits are the same for every output: there is nothing to split among irreps")
    in_span = (restricted - mean) @ readout.T  # the irreps' part alone (the constant removed again)
    in_span = in_span - in_span.mean(dim=-1, keepdim=True)
    everything = torch.arange(len(labels))
    return {"restricted": loss(restricted, everything), "excluded": loss(excluded, task.train_index),
            "train": loss(hidden, task.train_index), "test": loss(hidden, task.test_index),
            "restricted_accuracy": ((restricted @ readout.T).argmax(dim=-1) == labels).double().mean().item(),
            "span_share": (in_span.pow(2).sum() / centred.pow(2).sum()).item()}


__all__ = ["KEY_SIMILARITY", "character_cube", "explained_variance", "hidden_restricted_and_excluded_loss",
           "key_irreps", "logit_similarity", "pair_logits", "restricted_and_excluded_loss"]
