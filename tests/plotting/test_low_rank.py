"""Figures of notebook 05: truncation curves, HOSVD, a hyperparameter grid, mask attacks."""

import numpy as np
import pytest
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P


def test_truncation_curves_against_the_full_model():
    fig = P.plot_truncation_curves({"abs": ([1, 2, 4], [0.5, 0.8, 0.9])}, full_accuracy=0.95, title="t",
                                   save_as="truncation")
    ax = fig.axes[0]
    curve, full = ax.get_lines()
    assert curve.get_xdata().tolist() == [1, 2, 4] and curve.get_ydata().tolist() == [0.5, 0.8, 0.9]
    assert list(full.get_ydata()) == [0.95, 0.95] and full.get_label() == "full model (0.950)"
    assert (figures_dir() / "truncation.png").stat().st_size > 1000


def test_hosvd_bars_and_accuracy():
    fig = P.plot_hosvd(torch.tensor([3.0, 2.0, 1.0]), [1, 2, 3], [0.4, 0.7, 0.9], full_accuracy=0.9)
    assert [bar.get_height() for bar in fig.axes[0].patches] == [3.0, 2.0, 1.0]
    assert fig.axes[1].get_lines()[0].get_ydata().tolist() == [0.4, 0.7, 0.9]


def test_metric_grid_annotates_every_cell():
    values = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    fig = P.plot_metric_grid({"acc": values, "rank": 10 * values}, [1, 2], ["a", "b", "c"], "wd", "lr",
                             save_as="grid_metrics")
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "rank"
    texts = {(t.get_position(), t.get_text()) for t in fig.axes[0].texts}
    assert texts == {((c, r), f"{values[r, c]:.3g}") for r in range(2) for c in range(3)}
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["1", "2"]
    assert fig.axes[0].get_xlabel() == "lr" and fig.axes[0].get_ylabel() == "wd"
    assert (figures_dir() / "grid_metrics.png").stat().st_size > 1000


def test_attack_curves_one_line_per_mask_kind():
    fig = P.plot_attack_curves([0, 1, 2], {"masks": [0.0, 0.5, 0.9], "random": torch.tensor([0.0, 0.1, 0.1])},
                               ylabel="target rate")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["masks", "random"]
    assert lines[1].get_ydata().tolist() == pytest.approx([0.0, 0.1, 0.1])
    assert fig.axes[0].get_ylabel() == "target rate"
