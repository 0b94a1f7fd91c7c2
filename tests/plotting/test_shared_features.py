"""Figures of notebook 09: fit against rank, accuracy per budget, shared terms, one term removed."""

import pytest
import torch

from bilinear_helpers.analysis.shared_features import SharedBasis, shared_terms
from bilinear_helpers.plotting.shared_features import (
    plot_budget_curves,
    plot_fit_against_rank,
    plot_shared_terms,
    plot_term_removal,
)


def basis(embedding=True):
    generator = torch.Generator().manual_seed(0)
    left, right = (torch.randn(3, 12, generator=generator, dtype=torch.float64) for _ in range(2))
    readout = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    return SharedBasis(left, right, readout, torch.randn(12, 16, dtype=torch.float64) if embedding else None)


def test_shared_terms_draw_two_images_and_the_class_weights_per_term():
    terms = shared_terms(basis())
    fig = plot_shared_terms(terms, ["a", "b", "c", "d"], n_terms=2)
    assert len(fig.axes) == 2 * 3  # two rows of (positive feature, negative feature, class weights)
    bars = fig.axes[2].patches
    assert [round(b.get_height(), 6) for b in bars] == [round(w, 6) for w in terms.weights[0].tolist()]
    with pytest.raises(ValueError, match="the terms have no pixel images"):
        plot_shared_terms(shared_terms(basis(embedding=False)), ["a", "b", "c", "d"])


def test_curves_and_removal_draw_what_they_are_given():
    fig = plot_fit_against_rank([2, 4], [0.5, 0.9], [0.6, 0.8], 0.85)
    assert list(fig.axes[0].lines[0].get_ydata()) == [0.5, 0.9]
    fig = plot_budget_curves({"cp": ([2, 4], [0.6, 0.8])}, 0.85)
    assert list(fig.axes[0].lines[0].get_xdata()) == [2, 4]
    fig = plot_term_removal(torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-0.1, 0.0, 0.05]), ["a", "b", "c"], "term 1")
    assert [round(b.get_height(), 6) for b in fig.axes[0].patches] == [2.0, -1.0, 0.5]
    assert [round(b.get_height(), 6) for b in fig.axes[1].patches] == [-0.1, 0.0, 0.05]
