"""Comparing bilinear models directly: subspace overlap and the empirical logit correlation."""

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import function_similarity, logit_correlation, subspace_overlap


def test_subspace_overlap_sees_a_rotated_basis_as_the_same_plane():
    generator = torch.Generator().manual_seed(0)
    plane = torch.randn(2, 20, dtype=torch.float64, generator=generator)
    angle = torch.tensor(0.7, dtype=torch.float64)
    rotation = torch.stack([torch.stack([angle.cos(), -angle.sin()]), torch.stack([angle.sin(), angle.cos()])])
    rotated = 3.0 * (rotation @ plane)  # other vectors, other lengths, the same plane
    assert torch.allclose(subspace_overlap(plane, rotated), torch.ones(2, dtype=torch.float64))
    other = torch.randn(2, 20, dtype=torch.float64, generator=generator)
    overlap = subspace_overlap(plane, other)
    assert overlap.shape == (2,) and bool((overlap < 0.99).all()) and bool((overlap[:-1] >= overlap[1:]).all())
    e = torch.eye(4, dtype=torch.float64)
    assert subspace_overlap(e[:2], e[[1, 2]]).tolist() == pytest.approx([1.0, 0.0])  # they share one axis
    with pytest.raises(ValueError, match="linearly dependent rows"):
        subspace_overlap(torch.stack([plane[0], 2 * plane[0]]), plane)


def test_logit_correlation_of_a_model_with_itself_is_its_own_correlation():
    model = bh.BilinearImageClassifier(d_input=8, d_hidden=6, d_output=3, seed=0)
    images = torch.randn(400, 8, generator=torch.Generator().manual_seed(1))
    correlation = logit_correlation(model, model, images)
    assert correlation.shape == (3, 3)
    assert torch.allclose(correlation.diagonal(), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(correlation, correlation.T)
    with pytest.raises(ValueError, match="at least 2 images"):
        logit_correlation(model, model, images[:1])


def test_on_gaussian_inputs_the_empirical_correlation_meets_the_closed_form():
    model_a = bh.BilinearImageClassifier(d_input=5, d_hidden=4, d_output=2, seed=0).double()
    model_b = bh.BilinearImageClassifier(d_input=5, d_hidden=4, d_output=2, seed=1).double()
    images = torch.randn(200_000, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    closed = function_similarity(model_a, model_b)  # standard normal inputs
    assert torch.allclose(logit_correlation(model_a, model_b, images), closed, atol=0.02)
