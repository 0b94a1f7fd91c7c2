"""Neural Cleanse (Wang et al., IEEE S&P 2019), the data-based baseline for finding a backdoor.

For every class t, optimise a mask `m` and a pattern `p` (both in [0, 1], through a sigmoid) so that
`(1 - m) x + m p` is classified t on clean images, with an L1 penalty on `m`; a class whose
smallest such mask is anomalously small (anomaly index above 2, from the median absolute
deviation of the mask norms) is flagged. Simplified: a fixed penalty weight instead of the paper's
schedule. It needs clean images and many forward and backward passes; the scan needs neither.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor
from torch.nn.functional import cross_entropy

from ..checks import check_integer, check_number, check_tensor

ANOMALY_THRESHOLD = 2.0  # the paper's rule: flag an anomaly index above 2


def reverse_engineer_trigger(model, images: Float[Tensor, "n c h w"], target: int, steps: int = 300,
                             penalty: float = 0.01, lr: float = 0.1, seed: int = 0
                             ) -> tuple[Float[Tensor, "c h w"], Float[Tensor, "c h w"]]:
    """The (mask, pattern) in [0, 1] that sends `images` to `target`, with the mask kept small (L1)."""
    check_tensor("images", images, "n c h w", floating=True, finite=True)
    target = check_integer("target", target, 0, model.d_output)
    steps, seed = check_integer("steps", steps, 1), check_integer("seed", seed, 0, 2**63)
    penalty, lr = check_number("penalty", penalty), check_number("lr", lr)
    weights = model.embedding_weight
    x = images.to(device=weights.device, dtype=weights.dtype)
    generator = torch.Generator().manual_seed(seed)
    mask_logits = (torch.randn(x.shape[1:], generator=generator, dtype=x.dtype) * 0.1 - 2).to(x.device)
    pattern_logits = (torch.randn(x.shape[1:], generator=generator, dtype=x.dtype) * 0.1).to(x.device)
    mask_logits.requires_grad_(True)
    pattern_logits.requires_grad_(True)
    optimizer = torch.optim.Adam([mask_logits, pattern_logits], lr=lr)
    targets = torch.full((len(x),), target, device=x.device)
    frozen = [p.requires_grad for p in model.parameters()]
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    try:
        for _ in range(steps):
            mask, pattern = torch.sigmoid(mask_logits), torch.sigmoid(pattern_logits)
            loss = cross_entropy(model((1 - mask) * x + mask * pattern), targets) + penalty * mask.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        for parameter, flag in zip(model.parameters(), frozen, strict=True):
            parameter.requires_grad_(flag)
    return torch.sigmoid(mask_logits).detach(), torch.sigmoid(pattern_logits).detach()


def anomaly_index(norms: Float[Tensor, " cls"]) -> Float[Tensor, " cls"]:
    """`(median - norm) / (1.4826 MAD)`: how far below the others each class's mask norm is (0 above the median)."""
    check_tensor("norms", norms, "cls", floating=True, finite=True)
    median = norms.median()
    mad = 1.4826 * (norms - median).abs().median()
    if float(mad) == 0:
        raise ValueError("every mask norm is the same: the anomaly index is undefined (0 / 0)")
    return ((median - norms) / mad).clamp_min(0)


@torch.no_grad()
def _success(model, images: Tensor, mask: Tensor, pattern: Tensor, target: int) -> float:
    weights = model.embedding_weight
    x = images.to(device=weights.device, dtype=weights.dtype)
    stamped = (1 - mask.to(x)) * x + mask.to(x) * pattern.to(x)
    return float((model(stamped).argmax(-1) == target).double().mean())


def neural_cleanse(model, images: Tensor, steps: int = 300, penalty: float = 0.01, seed: int = 0,
                   held_out: Tensor | None = None) -> dict:
    """Every class's reverse-engineered trigger: "masks" `[cls, c, h, w]`, "patterns", their L1 "norms",
    "success" (the share of `held_out` images, default `images`, each stamp sends to its class), the
    "anomaly" index of each norm, and the "flagged" classes (anomaly index above ANOMALY_THRESHOLD)."""
    found = [reverse_engineer_trigger(model, images, t, steps, penalty, seed=seed) for t in range(model.d_output)]
    masks = torch.stack([mask for mask, _ in found])
    norms = masks.flatten(1).sum(-1)
    anomaly = anomaly_index(norms.double())
    scored = images if held_out is None else check_tensor("held_out", held_out, "n c h w", floating=True)
    success = torch.tensor([_success(model, scored, m, p, t) for t, (m, p) in enumerate(found)])
    return {"masks": masks, "patterns": torch.stack([p for _, p in found]), "norms": norms, "success": success,
            "anomaly": anomaly, "flagged": [int(c) for c in (anomaly > ANOMALY_THRESHOLD).nonzero().flatten()]}
