"""Auditing a one-block model for a planted trigger from its weights: scan, recover, compare.

A backdoor needs the target class to respond strongly to a small patch, and in a bilinear model
that response is a quadratic form: some eigenvector `v` of the target's `Q_c` with `E^T v`
concentrated on the patch. `trigger_scan` reads every class's top positive eigenvectors as
images and scores how much of each one's squared norm sits on its `top_share` largest pixels
(a compact trigger puts most of it there, a stroke of a digit does not); only the training images'
ink statistics enter, for the second score (the share on rarely inked pixels), never labels or
outputs. `recover_trigger` turns the flagged eigenvector into a stamp; `attack_success` is the
causal check on clean test images. `model_diff` compares two models class by class in pixel space.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import einsum
from jaxtyping import Bool, Float
from torch import Tensor

from ..checks import check_integer, check_number, check_tensor
from ..data.poisoning import stamp
from ..decomposition import check_decomposable, decompose_bilinear_model
from .image_metrics import pixel_energy_fraction, rarely_inked_pixels

CONCENTRATION_THRESHOLD = 0.5  # flag a component with half its squared norm on its top 2% of pixels


@dataclass(frozen=True)
class ScanReport:
    """`concentration[c]` and `rare_share[c]`: the largest of each score over class c's top positive
    eigenvectors; `component[c]`: the eigenvector index with the largest concentration; `maps` `[cls, inp]`:
    that eigenvector's squared pixel image, normalised; `flagged`: the classes at or above `threshold`."""

    concentration: Float[Tensor, " cls"]
    rare_share: Float[Tensor, " cls"]
    component: Tensor
    maps: Float[Tensor, "cls inp"]
    flagged: list[int]
    threshold: float
    top_pixels: int


def _one_block(model):
    model = check_decomposable(model)
    if model.n_layer != 1:
        raise ValueError(f"the scan reads a one-block model's eigenvectors as images; this model has {model.n_layer} "
                         "blocks (use notebook 10's network_bases for deeper ones)")
    return model


def pixel_concentration(images: Float[Tensor, "*batch inp"], top_pixels: int) -> Float[Tensor, "*batch"]:
    """The share of each image's squared norm on its `top_pixels` largest (squared) pixels."""
    energy = images.square() / images.square().sum(-1, keepdim=True)
    return energy.sort(dim=-1, descending=True).values[..., :top_pixels].sum(-1)


def trigger_scan(model, train_images: Tensor, n_components: int = 3, top_share: float = 0.02,
                 threshold: float = CONCENTRATION_THRESHOLD) -> ScanReport:
    """Score every class of a one-block model for a compact trigger, from its weights.

    For the `n_components` most positive eigenvectors of each class, `E^T v` as an image: the share
    of its squared norm on its `top_share` largest pixels (the concentration, flagged at `threshold`)
    and on the pixels `train_images` rarely ink (a second view, reported, not used to flag).
    """
    model = _one_block(model)
    n_components = check_integer("n_components", n_components, 1, model.d_hidden + 1)
    top_share = check_number("top_share", top_share, 0.0, 1.0)
    threshold = check_number("threshold", threshold, 0.0, 1.0 + 1e-12)
    check_tensor("train_images", train_images, "n ...", floating=True)
    artifacts = decompose_bilinear_model(model)
    top = artifacts.eigenvalues.argsort(dim=-1, descending=True)[:, :n_components]  # [cls, k]
    images = torch.stack([artifacts.pixel_eigenvectors[c, top[c]] for c in range(len(top))])  # [cls, k, inp]
    energy = images.square() / images.square().sum(-1, keepdim=True)
    top_pixels = max(1, round(top_share * energy.shape[-1]))
    concentration = pixel_concentration(images, top_pixels)  # [cls, k]
    rare = pixel_energy_fraction(images, rarely_inked_pixels(train_images).to(images.device))
    best = concentration.argmax(-1)
    classes = torch.arange(len(top))
    flagged = [int(c) for c in (concentration.max(-1).values >= threshold).nonzero().flatten()]
    return ScanReport(concentration.max(-1).values, rare.max(-1).values, top[classes, best],
                      energy[classes, best], flagged, threshold, top_pixels)


def recover_trigger(report: ScanReport, target: int, image_shape: tuple[int, int, int] = (1, 28, 28)
                    ) -> tuple[Bool[Tensor, "c h w"], Float[Tensor, "c h w"]]:
    """A stamp from class `target`'s flagged component: full ink on its `report.top_pixels` largest pixels."""
    target = check_integer("target", target, 0, len(report.maps))
    chosen = report.maps[target].argsort(descending=True)[:report.top_pixels]
    mask = torch.zeros(report.maps.shape[-1], dtype=torch.bool)
    mask[chosen] = True
    mask = mask.reshape(image_shape)
    return mask, mask.float()


@torch.no_grad()
def attack_success(model, images: Tensor, labels: Tensor, mask: Tensor, pattern: Tensor, target: int) -> float:
    """The share of `images` not of class `target` that the model calls `target` once the trigger is stamped."""
    target = check_integer("target", target, 0)
    weights = model.embedding_weight
    others = labels != target
    if not bool(others.any()):
        raise ValueError(f"every image is of class {target}: attack success is measured on the other classes")
    stamped = stamp(images[others].to(device=weights.device, dtype=weights.dtype), mask, pattern)
    return float((model(stamped).argmax(-1).cpu() == target).double().mean())


def _pixel_interactions(model, dtype=torch.float64) -> Float[Tensor, "cls inp inp"]:
    """`E^T Q_c E`: each class's interaction matrix in pixel space, comparable across models."""
    artifacts = decompose_bilinear_model(model, dtype=dtype)
    embedding = model.embedding_weight.to(device="cpu", dtype=dtype)
    return einsum(embedding, artifacts.interactions[:, : model.d_hidden, : model.d_hidden], embedding,
                  "in1 inp1, cls in1 in2, in2 inp2 -> cls inp1 inp2")


def model_diff(reference, suspect, n_components: int = 3) -> dict[str, Tensor]:
    """Per class, the cosine of the two models' pixel-space interaction matrices ("cosine" `[cls]`), and the
    top eigenvectors (largest |eigenvalue|) of each class's difference `suspect - reference` as images
    ("images" `[cls, k, inp]`, "eigenvalues" `[cls, k]`)."""
    reference, suspect = _one_block(reference), _one_block(suspect)
    if reference.d_input != suspect.d_input or reference.d_output != suspect.d_output:
        raise ValueError(f"the models read {reference.d_input} and {suspect.d_input} pixels into {reference.d_output} "
                         f"and {suspect.d_output} classes: compare models of the same task")
    n_components = check_integer("n_components", n_components, 1, reference.d_input + 1)
    first, second = _pixel_interactions(reference), _pixel_interactions(suspect)
    cosine = (first * second).sum((-1, -2)) / (first.flatten(1).norm(dim=-1) * second.flatten(1).norm(dim=-1))
    values, vectors = torch.linalg.eigh(second - first)
    order = values.abs().argsort(dim=-1, descending=True)[:, :n_components]
    images = torch.stack([vectors[c, :, order[c]].mT for c in range(len(order))])
    return {"cosine": cosine, "images": images, "eigenvalues": values.gather(-1, order)}
