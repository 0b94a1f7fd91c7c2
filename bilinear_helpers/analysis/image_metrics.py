"""Measures of pixel-space eigenvectors as images: where their weight falls, how sparse they are."""

from __future__ import annotations

from jaxtyping import Bool, Float
from torch import Tensor


def rarely_inked_pixels(images: Float[Tensor, "n ..."], threshold: float = 0.02) -> Bool[Tensor, " inp"]:
    """Pixels whose mean intensity over `images` (in [0, 1]) is below `threshold`: where the data rarely draws."""
    return images.reshape(len(images), -1).mean(0) < threshold


def uninked_pixels(images: Float[Tensor, "n ..."]) -> Bool[Tensor, " inp"]:
    """Pixels that no image of `images` inks (zero in every one): no data ever reads them.

    A random direction puts `mask.float().mean()` of its squared norm there (the chance level).
    """
    return images.reshape(len(images), -1).amax(0) <= 0


def pixel_energy_fraction(
    pixels: Float[Tensor, "*batch inp"], mask: Bool[Tensor, " inp"]
) -> Float[Tensor, " *batch"]:
    """The share of each pixel-space eigenvector's squared norm that falls on `mask`.

    With `mask` = pixels the data rarely inks, it measures how much of a feature is spent
    on places no digit is drawn: high for models that overfit rare pixels.
    """
    mask = mask.to(pixels.dtype)
    return (pixels**2 * mask).sum(-1) / (pixels**2).sum(-1)


def hoyer_sparsity(pixels: Float[Tensor, "*batch inp"]) -> Float[Tensor, " *batch"]:
    """Hoyer's sparsity `(sqrt(n) - |p|_1 / |p|_2) / (sqrt(n) - 1)`: 0 for a flat vector, 1 for one pixel."""
    n = pixels.shape[-1]
    ratio = pixels.abs().sum(-1) / pixels.norm(dim=-1)
    return (n**0.5 - ratio) / (n**0.5 - 1)
