"""Has a run trained long enough for its weights to be read? Four numbers that say.

Accuracy saturates long before the weights settle. What a weight-reader needs is that
weight decay has had time to remove what the data does not ask for: the factor
`prod_t (1 - lr_t wd)`, how much of its initialisation the embedding keeps, how many
eigenvalues carry a class, and how much of each class's top eigenvector sits on pixels
that no training image inks (only leftover initialisation can put weight there).
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..decomposition import decompose_bilinear_model
from ..models import build_image_classifier
from ..training import TrainedRun
from .image_metrics import pixel_energy_fraction, uninked_pixels

CONVERGENCE_METRICS = (
    "weight-decay factor",
    "cosine(E, E at init)",
    "mean effective rank",
    "top eigenvector on uninked pixels",
    "uninked pixels (chance level)",
)


def convergence_metrics(run: TrainedRun, train_images: Float[Tensor, "n ..."]) -> dict[str, float]:
    """The numbers of CONVERGENCE_METRICS for a one-layer bilinear run, by name.

    The embedding's cosine with its initialisation compares with a fresh model built from
    the run's own config and seed (the same initial weights). The uninked share is the
    mean over classes of the most positive eigenvector's squared norm on pixels no image
    of `train_images` inks; a random direction scores the last entry, the uninked share
    of all pixels.
    """
    if not isinstance(run, TrainedRun):
        raise TypeError(f"run must be a TrainedRun (what load_or_train returns), got {type(run).__name__}")
    model = run.model.cpu()
    untrained = build_image_classifier(run.config.model, seed=run.config.seed)
    artifacts = decompose_bilinear_model(model)
    if artifacts.pixel_eigenvectors is None:
        raise ValueError("convergence_metrics reads pixel-space eigenvectors: it needs a one-layer model")
    uninked = uninked_pixels(train_images)
    with torch.no_grad():
        cosine = torch.cosine_similarity(model.embedding_weight.flatten(), untrained.embedding_weight.flatten(), dim=0)
    values = (
        run.summary["weight_decay_factor"],
        cosine.item(),
        artifacts.effective_rank().mean().item(),
        pixel_energy_fraction(artifacts.pixel_eigenvectors[:, -1], uninked).mean().item(),
        uninked.double().mean().item(),
    )
    return dict(zip(CONVERGENCE_METRICS, values, strict=True))
