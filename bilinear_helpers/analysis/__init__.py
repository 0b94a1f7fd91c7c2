"""Analyses built on a decomposition: convergence, low rank, adversarial masks, image metrics, universality.

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
from .universality import (
    activation_clipping_accuracy,
    block_activations,
    comparison_matrix,
    covariance_spectrum,
    function_similarity,
    generate_network,
    linear_init_variance,
    marchenko_pastur_density,
    marchenko_pastur_edge,
    match_eigenvectors,
    procrustes_alignment,
    weight_clipping_accuracy,
)

__all__ = [
    "AdversarialMasks",
    "CONVERGENCE_METRICS",
    "activation_clipping_accuracy",
    "adversarial_masks",
    "block_activations",
    "comparison_matrix",
    "covariance_spectrum",
    "convergence_metrics",
    "function_similarity",
    "generate_network",
    "hosvd",
    "hosvd_accuracy",
    "hosvd_components",
    "hosvd_truncated_tensor",
    "hoyer_sparsity",
    "linear_init_variance",
    "marchenko_pastur_density",
    "marchenko_pastur_edge",
    "mask_attack",
    "match_eigenvectors",
    "pixel_energy_fraction",
    "procrustes_alignment",
    "random_masks_like",
    "rarely_inked_pixels",
    "truncated_accuracy",
    "truncated_logits_by_k",
    "uninked_pixels",
    "weight_clipping_accuracy",
]
