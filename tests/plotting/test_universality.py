"""Figures of notebook 06: weight spectra against initialisation, similarity matrices, the Marchenko-Pastur law."""

import pytest
import torch
from matplotlib.patches import Rectangle

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def test_weight_spectra_count_the_eigenvalues_above_the_edge():
    trained, initial = torch.tensor([5.0, 3.0, 0.1, 0.05]), torch.tensor([0.5, 0.4, 0.3, 0.2])
    fig = P.plot_weight_spectra({"layer": (trained, initial, 1.0), "other": (trained, trained, 4.0)},
                                save_as="spectra_u")
    assert fig.axes[0].get_title() == "layer\nabove the edge: 2 trained, 0 initial"
    assert fig.axes[1].get_title() == "other\nabove the edge: 1 trained, 1 initial"
    assert fig.axes[0].get_yscale() == "log"
    assert (figures_dir() / "spectra_u.png").stat().st_size > 1000


def test_matrices_share_one_colour_scale():
    fig = P.plot_matrices({"a": torch.eye(3), "b": -torch.eye(3)}, ticklabels=list("xyz"), vmin=-1, save_as="matrices")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"] and len(fig.axes) == 3  # and one colour bar
    torch.testing.assert_close(image_data(fig, 1), -torch.eye(3, dtype=torch.float64))
    assert fig.axes[0].images[0].get_clim() == fig.axes[1].images[0].get_clim() == (-1, 1)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["x", "y", "z"]
    assert (figures_dir() / "matrices.png").stat().st_size > 1000


def test_marchenko_pastur_histograms_and_law():
    initial, trained = torch.tensor([0.5, 0.4, 0.3, 0.2]), torch.tensor([5.0, 3.0, 0.1, 0.05])
    x = torch.linspace(0.01, 1, 50)
    law = P.plot_marchenko_pastur(initial, trained, x, torch.ones(50), title="mp", save_as="law")
    ax = law.axes[0]
    assert len(law.axes) == 1 and ax.get_title() == "mp"
    curve = [line for line in ax.get_lines() if line.get_label() == "Marchenko-Pastur law"][0]
    assert curve.get_ydata().tolist() == [1.0] * 50
    assert sorted(text.get_text() for text in ax.get_legend().get_texts()) == ["Marchenko-Pastur law",
                                                                               "initialisation", "trained"]
    initial_bars = [bar for bar in ax.patches if isinstance(bar, Rectangle)]  # the trained histogram is one outline
    assert len(initial_bars) == 49
    width = initial_bars[0].get_width()
    assert sum(bar.get_height() for bar in initial_bars) * width == pytest.approx(1.0)  # a density
    assert (figures_dir() / "law.png").stat().st_size > 1000
