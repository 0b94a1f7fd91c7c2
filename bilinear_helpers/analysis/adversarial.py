"""Adversarial masks read off the weights (Pearce et al., ICLR 2025, section 4).

Decoders are the top-k positive eigenvectors of every class, in pixel space: `E^T v`,
stacked into `P [C*k, d_input]`. Their pseudo-inverse gives encoders `m_i` with
`(E^T v_j) . m_i = v_j . (E m_i) = delta_ij`: adding `m_i` to an image raises the projection
on decoder i by exactly one and leaves every other stacked decoder's projection unchanged.

The mask for a target class is the encoder of its leading eigenvector, scaled to unit
norm: it pushes the target's strongest feature while holding still the top-k features of
every class (the target's others included). The more decoders are held still (larger k),
the larger the encoders' norms, and the weaker a unit-norm mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from ..artifacts import DecompositionArtifacts
from ..checks import check_integer, check_labels, check_number, check_tensor
from ..models import ImageClassifier, accuracy


@dataclass
class AdversarialMasks:
    """Decoders, encoders and unit-norm masks; see the module docstring for the construction."""

    decoders: Float[Tensor, "cls k inp"]  # pixel-space eigenvectors E^T v, top-k positive per class
    decoders_hidden: Float[Tensor, "cls k in1"]  # the same eigenvectors v in hidden space
    encoders: Float[Tensor, "cls k inp"]  # rows of the pseudo-inverse of the stacked decoders
    masks: Float[Tensor, "cls inp"]  # per target class: its leading encoder, scaled to unit norm
    embedding_weight: Float[Tensor, "in1 inp"]

    def biorthogonality(self) -> Float[Tensor, "n n"]:
        """`v_j . (E m_i)` for all stacked pairs, in hidden space: the identity when the construction holds."""
        hidden_encoders = self.encoders.reshape(-1, self.encoders.shape[-1]) @ self.embedding_weight.T
        return self.decoders_hidden.reshape(-1, self.decoders_hidden.shape[-1]) @ hidden_encoders.T


def adversarial_masks(
    artifacts: DecompositionArtifacts, embedding_weight: Float[Tensor, "in1 inp"], k: int = 10
) -> AdversarialMasks:
    """Encoders and masks from the top-k positive eigenvectors of every class (one-layer models, `E` given).

    Needs `C*k <= d_hidden` so that the stacked decoders can be independent.
    """
    if not isinstance(artifacts, DecompositionArtifacts):
        raise TypeError(f"artifacts must be a DecompositionArtifacts (adversarial_masks(artifacts, "
                        f"model.embedding_weight)), got {type(artifacts).__name__}")
    if artifacts.block != 0 or artifacts.bias:
        raise ValueError("adversarial masks need a bias-free one-layer decomposition (eigenvectors linear in pixels)")
    n_classes, width = artifacts.eigenvalues.shape
    k = check_integer("k", k, 1, width // n_classes + 1)
    check_tensor("embedding_weight (the decomposed model's E)", embedding_weight, "in1 inp", {"in1": width},
                 floating=True, finite=True)
    embedding_weight = embedding_weight.detach().to(device="cpu", dtype=artifacts.eigenvectors.dtype)
    top = artifacts.top(k, by="positive")  # [C, k], most positive first
    hidden = artifacts.eigenvectors.gather(1, top.unsqueeze(-1).expand(-1, -1, width))  # [C, k, in1]
    decoders = hidden @ embedding_weight  # [C, k, inp]
    if artifacts.pixel_eigenvectors is not None:  # the decomposition drew them with its own model's E
        recorded = artifacts.pixel_eigenvectors.gather(1, top.unsqueeze(-1).expand(-1, -1, decoders.shape[-1]))
        if recorded.shape != decoders.shape or not torch.allclose(recorded.to(decoders), decoders, rtol=1e-4,
                                                                   atol=1e-6 * float(decoders.abs().max())):
            raise ValueError("embedding_weight is not the embedding of the decomposed model: E^T v differs from the "
                             "decomposition's pixel_eigenvectors. Pass model.embedding_weight of the same model")
    stacked = decoders.reshape(n_classes * k, -1)
    encoders = torch.linalg.pinv(stacked).T.reshape(n_classes, k, -1)
    leading = encoders[:, 0]
    return AdversarialMasks(
        decoders=decoders,
        decoders_hidden=hidden,
        encoders=encoders,
        masks=leading / leading.norm(dim=-1, keepdim=True),
        embedding_weight=embedding_weight,
    )


def random_masks_like(masks: Float[Tensor, "cls inp"], seed: int = 0) -> tuple[Tensor, Tensor]:
    """Controls of the same norm: Gaussian directions, and each mask's pixels permuted."""
    check_tensor("masks", masks, "cls inp", floating=True, finite=True)
    if bool((masks.norm(dim=-1) == 0).any()):
        raise ValueError("masks has an all-zero mask: a control of the same norm would be zero too")
    generator = torch.Generator().manual_seed(check_integer("seed", seed, 0))
    gaussian = torch.randn(masks.shape, generator=generator, dtype=masks.dtype)
    gaussian = gaussian / gaussian.norm(dim=-1, keepdim=True) * masks.norm(dim=-1, keepdim=True)
    permuted = torch.stack([m[torch.randperm(m.numel(), generator=generator)] for m in masks])
    return gaussian, permuted


@torch.no_grad()
def mask_attack(
    model, images: Tensor, labels: Tensor, masks: Float[Tensor, "cls inp"], strengths
) -> dict[str, Float[Tensor, "strength cls"]]:
    """Add `strength * masks[t]` to every test image not of class t; for each strength and target.

    Returns `accuracy` (against the true labels) and `target_rate` (share classified as t),
    each `[len(strengths), C]`. Pixels are not clipped to [0, 1]: the masks probe the model,
    not the camera.
    """
    if not isinstance(model, ImageClassifier):
        raise TypeError(f"mask_attack attacks this package's image classifiers, got {type(model).__name__}")
    sizes: dict[str, int] = {"cls": model.d_output, "inp": model.d_input}
    check_tensor(f"masks (one per class of the model, {model.d_input} pixels)", masks, "cls inp", sizes,
                 floating=True, finite=True)
    check_tensor("images", images, "n ...", sizes, floating=True, finite=True)
    check_labels(labels, model.d_output, sizes)
    if isinstance(strengths, (int, float, str)) or not hasattr(strengths, "__iter__"):
        raise ValueError(f"strengths must be a list of numbers, got {strengths!r}; write e.g. strengths=[0, 1, 2]")
    strengths = [check_number("each strength", v, -math.inf) for v in strengths]
    if not strengths:
        raise ValueError("strengths is empty: give at least one mask strength, e.g. strengths=[0, 1, 2]")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] != model.d_input:
        raise ValueError(f"images hold {flat.shape[1]} values each, the model reads {model.d_input}")
    dtype = next(model.parameters()).dtype
    flat, masks = flat.to(dtype), masks.to(dtype)
    accuracies = torch.zeros(len(strengths), len(masks), dtype=torch.float64)
    target_rate = torch.zeros_like(accuracies)
    for t in range(len(masks)):
        others = labels != t
        base, truth = flat[others], labels[others]
        for s, strength in enumerate(strengths):
            logits = model(base + float(strength) * masks[t])
            accuracies[s, t] = accuracy(logits, truth)
            target_rate[s, t] = (logits.argmax(-1) == t).double().mean()
    return {"accuracy": accuracies, "target_rate": target_rate}
