"""Analyses built on a decomposition: convergence, low rank, adversarial masks, image metrics.

Each module reads `DecompositionArtifacts` and models; none trains, loads data or plots.
"""

from .adversarial import AdversarialMasks, adversarial_masks, mask_attack, random_masks_like
from .convergence import CONVERGENCE_METRICS, convergence_metrics
from .image_metrics import hoyer_sparsity, pixel_energy_fraction, rarely_inked_pixels, uninked_pixels
from .truncation import (
    hosvd,
    hosvd_accuracy,
    hosvd_components,
    hosvd_truncated_tensor,
    truncated_accuracy,
    truncated_logits_by_k,
)

__all__ = [
    "CONVERGENCE_METRICS",
    "AdversarialMasks",
    "adversarial_masks",
    "convergence_metrics",
    "hosvd",
    "hosvd_accuracy",
    "hosvd_components",
    "hosvd_truncated_tensor",
    "hoyer_sparsity",
    "mask_attack",
    "pixel_energy_fraction",
    "random_masks_like",
    "rarely_inked_pixels",
    "truncated_accuracy",
    "truncated_logits_by_k",
    "uninked_pixels",
]
