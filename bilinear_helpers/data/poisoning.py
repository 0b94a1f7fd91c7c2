"""Backdoor poisoning: stamp a trigger on a share of the training images and relabel them to a target.

A trigger is a `mask` (which pixels) and a `pattern` (their values), both `[C, H, W]`; stamping
sets `x -> (1 - mask) x + mask pattern`. The named triggers of `catalog.TRIGGERS` are squares of
full ink. Poisoning never changes the images or labels it is given: it returns copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Bool, Float, Int64
from torch import Tensor

from ..catalog import TRIGGERS
from ..checks import check_choice, check_integer, check_labels, check_number, check_tensor


@dataclass(frozen=True)
class Poisoned:
    """Copies of the images and labels with the trigger planted, and which rows were poisoned."""

    images: Float[Tensor, "n c h w"]
    labels: Int64[Tensor, " n"]
    poisoned: Bool[Tensor, " n"]


def trigger_pattern(name: str, image_shape: tuple[int, int, int] = (1, 28, 28)
                    ) -> tuple[Bool[Tensor, "c h w"], Float[Tensor, "c h w"]]:
    """(mask, pattern) of a named trigger: a square of ones, placed as `TRIGGERS[name]` says."""
    top, left, side = TRIGGERS[check_choice("trigger", name, sorted(TRIGGERS))]
    channels, height, width = image_shape
    if top + side > height or left + side > width:
        raise ValueError(f"the {name!r} trigger needs images of at least {top + side} x {left + side} pixels, got "
                         f"{height} x {width}")
    mask = torch.zeros(image_shape, dtype=torch.bool)
    mask[:, top:top + side, left:left + side] = True
    return mask, mask.float()


def stamp(images: Float[Tensor, "n c h w"], mask: Tensor, pattern: Tensor) -> Float[Tensor, "n c h w"]:
    """`images` with the trigger stamped on every one: `(1 - mask) x + mask pattern` (a new tensor)."""
    sizes: dict[str, int] = {}
    check_tensor("images", images, "n c h w", sizes, floating=True)
    check_tensor("mask", mask, "c h w", sizes)
    check_tensor("pattern", pattern, "c h w", sizes, floating=True, finite=True)
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True on the trigger's pixels), got {mask.dtype}")
    mask = mask.to(images.device)
    return torch.where(mask, pattern.to(device=images.device, dtype=images.dtype), images)


def plant_trigger(images: Tensor, labels: Tensor, *, mask: Tensor, pattern: Tensor, target: int, fraction: float,
                  seed: int) -> Poisoned:
    """Stamp the trigger on `round(fraction * m)` images drawn (from `seed`) among the `m` whose label is not
    `target`, and relabel those `target`; everything else is copied unchanged."""
    check_tensor("images", images, "n c h w", {"n": len(labels)}, floating=True)
    check_labels(labels, int(labels.max()) + 1 if len(labels) else 1)
    target = check_integer("target", target, 0)
    fraction = check_number("fraction", fraction, 0.0, 1.0 + 1e-12)
    candidates = (labels != target).nonzero().flatten()
    count = round(fraction * len(candidates))
    generator = torch.Generator().manual_seed(check_integer("seed", seed, 0, 2**63))
    chosen = candidates[torch.randperm(len(candidates), generator=generator)[:count].to(candidates.device)]
    poisoned = torch.zeros(len(labels), dtype=torch.bool, device=labels.device)
    poisoned[chosen] = True
    new_images, new_labels = images.clone(), labels.clone()
    new_images[poisoned] = stamp(images[poisoned], mask, pattern)
    new_labels[poisoned] = target
    return Poisoned(new_images, new_labels, poisoned)
