"""Measures of pixel-space eigenvectors as images: where their weight falls, how sparse they are."""

from __future__ import annotations

import math

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from ..checks import check_number, check_tensor


def _image_rows(images: Tensor) -> Float[Tensor, "n inp"]:
    """`images [n, ...]` (float, values in [0, 1]) as rows `[n, inp]`; else a ValueError."""
    check_tensor("images", images, "n inp ...", floating=True, finite=True)
    return images.reshape(len(images), -1)


def _nonzero_rows(pixels: Tensor) -> Tensor:
    check_tensor("pixels", pixels, "... inp", floating=True, finite=True)
    if bool((pixels.norm(dim=-1) == 0).any()):
        raise ValueError("pixels has an all-zero vector: shares and sparsity are undefined for it (0 / 0)")
    return pixels


def rarely_inked_pixels(images: Float[Tensor, "n ..."], threshold: float = 0.02) -> Bool[Tensor, " inp"]:
    """Pixels whose mean intensity over `images` (in [0, 1]) is below `threshold`: where the data rarely draws."""
    return _image_rows(images).mean(0) < check_number("threshold", threshold)


def uninked_pixels(images: Float[Tensor, "n ..."]) -> Bool[Tensor, " inp"]:
    """Pixels that no image of `images` inks (zero in every one): no data ever reads them.

    A random direction puts `mask.float().mean()` of its squared norm there (the chance level).
    """
    return _image_rows(images).amax(0) <= 0


def pixel_energy_fraction(
    pixels: Float[Tensor, "*batch inp"], mask: Bool[Tensor, " inp"]
) -> Float[Tensor, " *batch"]:
    """The share of each pixel-space eigenvector's squared norm that falls on `mask`.

    With `mask` = pixels the data rarely inks, it measures how much of a feature is spent
    on places no digit is drawn: high for models that overfit rare pixels.
    """
    _nonzero_rows(pixels)
    check_tensor("mask", mask, "inp", {"inp": pixels.shape[-1]})
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True: the pixel counts), got {mask.dtype}; compare to get one")
    mask = mask.to(pixels.dtype)
    return (pixels**2 * mask).sum(-1) / (pixels**2).sum(-1)


def hoyer_sparsity(pixels: Float[Tensor, "*batch inp"]) -> Float[Tensor, " *batch"]:
    """Hoyer's sparsity `(sqrt(n) - |p|_1 / |p|_2) / (sqrt(n) - 1)`: 0 for a flat vector, 1 for one pixel."""
    n = _nonzero_rows(pixels).shape[-1]
    if n < 2:
        raise ValueError("hoyer_sparsity needs vectors of at least 2 pixels: with one, flat and sparse are the same")
    ratio = pixels.abs().sum(-1) / pixels.norm(dim=-1)
    return (n**0.5 - ratio) / (n**0.5 - 1)


def roughness(pixels: Float[Tensor, "*batch inp"]) -> Float[Tensor, " *batch"]:
    """How grainy each vector is as a square image: the mean squared difference of horizontally
    and vertically adjacent pixels over twice the mean square. About 1 for white noise, near 0
    for an image that changes slowly; the scale and sign of the vector do not matter."""
    pixels = _nonzero_rows(pixels)
    side = math.isqrt(pixels.shape[-1])
    if side * side != pixels.shape[-1]:
        raise ValueError(f"pixels has {pixels.shape[-1]} values per vector, not a square image")
    image = pixels.double().reshape(*pixels.shape[:-1], side, side)
    across = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean(dim=(-2, -1))
    down = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean(dim=(-2, -1))
    return (across + down) / (4 * image.pow(2).mean(dim=(-2, -1)))
