"""Figures of notebook 10: singular values per block input, accuracy against the share of dimensions kept."""

import pytest

from bilinear_helpers import BilinearImageClassifier
from bilinear_helpers.analysis.deep_decomposition import network_bases
from bilinear_helpers.plotting.deep_decomposition import plot_network_spectra, plot_network_truncation


def test_one_panel_per_model_and_one_curve_per_block_input():
    bases = network_bases(BilinearImageClassifier(d_input=10, d_hidden=6, d_output=3, n_layer=3).double())
    fig = plot_network_spectra({"three blocks": bases, "last two": bases[1:]})
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [3, 2]
    assert fig.axes[0].lines[0].get_ydata()[0] == pytest.approx(1.0)  # scaled by the largest value
    with pytest.raises(ValueError, match="network_bases"):
        plot_network_spectra({"bad": [1, 2]})
    with pytest.raises(ValueError, match="at least one label"):
        plot_network_spectra({})


def test_truncation_curves_draw_every_method_and_the_one_point_line():
    curves = {"weights": ([0.1, 0.5, 1.0], [0.8, 0.9, 0.95]), "random": ([0.1, 1.0], [0.2, 0.95])}
    fig = plot_network_truncation({"model": (0.95, curves)})
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels[:2] == ["weights", "random"] and "one point below" in labels
    assert list(fig.axes[0].lines[0].get_ydata()) == [0.8, 0.9, 0.95]
    with pytest.raises(ValueError, match="3 x values and 2 y values"):
        plot_network_truncation({"model": (0.95, {"weights": ([0.1, 0.5, 1.0], [0.8, 0.9])})})
