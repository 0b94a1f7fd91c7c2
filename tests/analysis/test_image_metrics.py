"""Where pixel-space eigenvectors put their weight, and how sparse they are."""

import pytest
import torch

from bilinear_helpers.analysis import hoyer_sparsity, pixel_energy_fraction, rarely_inked_pixels, uninked_pixels


def test_hoyer_sparsity_bounds():
    one_pixel = torch.zeros(784, dtype=torch.float64)
    one_pixel[3] = 2.0
    flat = torch.ones(784, dtype=torch.float64)
    assert hoyer_sparsity(one_pixel).item() == pytest.approx(1.0)
    assert hoyer_sparsity(flat).item() == pytest.approx(0.0, abs=1e-12)
    half = torch.cat([torch.ones(392), torch.zeros(392)]).double()
    assert 0 < hoyer_sparsity(half).item() < 1
    assert hoyer_sparsity(torch.stack([one_pixel, flat])).tolist() == pytest.approx([1.0, 0.0], abs=1e-12)


def test_uninked_pixels_and_their_chance_level():
    images = torch.zeros(5, 1, 4, 4)
    images[:, 0, 1:3, 1:3] = torch.rand(5, 2, 2) + 0.1
    images[0, 0, 0, 0] = 0.5  # one image inks a corner once: no longer uninked
    mask = uninked_pixels(images)
    assert mask.shape == (16,) and int(mask.sum()) == 16 - 4 - 1 and not mask[0] and not mask[5]
    directions = torch.randn(20000, 16, generator=torch.Generator().manual_seed(0))
    chance = pixel_energy_fraction(directions, mask).mean()
    assert abs(chance - mask.float().mean()) < 0.01  # a random direction puts the mask's share there


def test_rarely_inked_pixels_use_the_mean_intensity():
    images = torch.zeros(100, 1, 2, 2)
    images[0, 0, 0, 0] = 1.0  # mean 0.01: rare
    images[:5, 0, 0, 1] = 1.0  # mean 0.05: not rare
    assert rarely_inked_pixels(images).tolist() == [True, False, True, True]
    assert rarely_inked_pixels(images, threshold=0.1).tolist() == [True, True, True, True]


def test_pixel_energy_fraction_is_the_share_of_the_squared_norm():
    mask = torch.tensor([True, False, False])
    pixels = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0]])
    assert pixel_energy_fraction(pixels, mask).tolist() == pytest.approx([9 / 25, 0.0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: rarely_inked_pixels(torch.rand(0, 4)), "images is empty"),
    (lambda: rarely_inked_pixels(torch.randint(0, 255, (3, 4))), "images must be a float tensor"),
    (lambda: rarely_inked_pixels(torch.rand(4)), "images must have at least 2 axes"),
    (lambda: rarely_inked_pixels(torch.rand(3, 4), threshold="a"), "threshold must be a finite number"),
    (lambda: uninked_pixels([[0.0, 1.0]]), "images must be a tensor"),
    (lambda: pixel_energy_fraction(torch.randn(3, 8), torch.ones(4, dtype=torch.bool)), r"mask has inp=4"),
    (lambda: pixel_energy_fraction(torch.randn(3, 8), torch.ones(1, dtype=torch.bool)), r"mask has inp=1"),
    (lambda: pixel_energy_fraction(torch.randn(3, 8), torch.full((8,), 255.0)), "mask must be a bool tensor"),
    (lambda: pixel_energy_fraction(torch.zeros(3, 8), torch.ones(8, dtype=torch.bool)), "all-zero vector"),
    (lambda: hoyer_sparsity(torch.zeros(3, 8)), "all-zero vector"),
    (lambda: hoyer_sparsity(torch.randn(3, 1)), "at least 2 pixels"),
    (lambda: hoyer_sparsity(torch.ones(3, 8, dtype=torch.int64)), "pixels must be a float tensor"),
])
def test_images_masks_and_pixels_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_roughness_is_one_for_white_noise_and_near_zero_for_smooth_images():
    from bilinear_helpers.analysis import roughness

    noise = torch.randn(200, 784, generator=torch.Generator().manual_seed(0))
    assert roughness(noise).mean().item() == pytest.approx(1.0, abs=0.02)
    ramp = torch.linspace(0, 1, 28)[None, :].expand(28, 28).reshape(784)
    assert roughness(ramp).item() < 0.01
    assert roughness(-3 * ramp).item() == pytest.approx(roughness(ramp).item())  # scale and sign free
    with pytest.raises(ValueError, match="not a square image"):
        roughness(torch.ones(10))
    with pytest.raises(ValueError, match="all-zero vector"):
        roughness(torch.zeros(784))
