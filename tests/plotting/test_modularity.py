"""Figures of notebook 08: what each draws, and that it is saved."""

import numpy as np
import pandas as pd
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def cluster_lines(ax) -> tuple[list[float], list[float]]:
    """(y of horizontal lines, x of vertical lines) drawn on `ax`."""
    lines = ax.get_lines()
    horizontal = [line.get_ydata()[0] for line in lines if line.get_ydata()[0] == line.get_ydata()[1]
                  and list(line.get_xdata()) == [0, 1]]
    vertical = [line.get_xdata()[0] for line in lines if line.get_xdata()[0] == line.get_xdata()[1]
                and list(line.get_ydata()) == [0, 1]]
    return horizontal, vertical


def test_cluster_matrices_draw_magnitudes_with_cluster_borders():
    w = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    fig = P.plot_cluster_matrices({"W": w, "V": -w}, n_clusters=4, title="t", save_as="m_weights")
    assert [ax.get_title() for ax in fig.axes] == ["W", "V"] and fig.get_suptitle() == "t"
    torch.testing.assert_close(image_data(fig, 0), w.abs().double())  # |W| in greys
    torch.testing.assert_close(image_data(fig, 1), w.abs().double())
    horizontal, vertical = cluster_lines(fig.axes[0])
    assert horizontal == vertical == [1.5, 3.5, 5.5]  # the borders of four clusters of two units
    assert (figures_dir() / "m_weights.png").stat().st_size > 1000


def test_signed_cluster_matrices_keep_the_sign_on_a_symmetric_scale():
    q = torch.randn(6, 9, generator=torch.Generator().manual_seed(1))
    fig = P.plot_cluster_matrices({"Q": q}, n_clusters=3, signed=True, save_as="m_signed")
    torch.testing.assert_close(image_data(fig), q.double())
    bound = float(q.abs().max())
    assert np.allclose(fig.axes[0].images[0].get_clim(), (-bound, bound))
    horizontal, vertical = cluster_lines(fig.axes[0])
    assert horizontal == [1.5, 3.5] and vertical == [2.5, 5.5]
    plain = P.plot_cluster_matrices({"Q": q})  # no clusters: no lines
    assert cluster_lines(plain.axes[0]) == ([], [])
    assert (figures_dir() / "m_signed.png").stat().st_size > 1000


def test_classwise_ablation_bars_against_the_whole_model():
    table = pd.DataFrame({"overall": [0.9, 0.5, 0.3], "a": [1.0, 0.4, 0.0], "b": [0.8, 0.6, 0.7]},
                         index=["all clusters", "cluster 0 off", "only cluster 0"])
    fig = P.plot_classwise_ablation(table, ["cluster 0 off", "only cluster 0"], title="t", save_as="m_ablation")
    assert len(fig.axes) == 2 and fig.get_suptitle() == "t"
    for ax, row in zip(fig.axes, ["cluster 0 off", "only cluster 0"], strict=True):
        heights = [bar.get_height() for bar in ax.patches]
        assert heights == [1.0, 0.8] + table.loc[row, ["a", "b"]].tolist()  # the whole model's outline, then the row
        assert ax.get_title(loc="left") == f"{row}: overall {table.loc[row, 'overall']:.2f}"
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == ["a", "b"]
    assert (figures_dir() / "m_ablation.png").stat().st_size > 1000


def test_distinct_classes_histogram_per_model():
    fig = P.plot_distinct_classes({"plain": torch.tensor([1, 2, 2, 3]), "clustered": torch.tensor([1, 1, 1, 5])}, k=5,
                                  n_classes=5, save_as="m_distinct")
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [1, 2, 1, 0, 0] + [3, 0, 0, 0, 1]  # units per number of distinct classes, 1..5
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["plain (mean 2.00)", "clustered (mean 2.00)"]
    assert ax.get_xlabel() == "distinct classes among a unit's top 5 test images"
    assert (figures_dir() / "m_distinct.png").stat().st_size > 1000


def test_ablated_spectra_sorted_descending():
    values = torch.tensor([0.5, -2.0, 3.0, 0.0])
    fig = P.plot_ablated_spectra({"all": values, "off": -values}, title="t", save_as="m_spectra")
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if line.get_label() in ("all", "off")]
    assert [line.get_ydata().tolist() for line in curves] == [[3.0, 0.5, 0.0, -2.0], [2.0, 0.0, -0.5, -3.0]]
    assert curves[0].get_xdata().tolist() == [1, 2, 3, 4] and ax.get_title() == "t"
    assert (figures_dir() / "m_spectra.png").stat().st_size > 1000


def test_class_cluster_shares_one_heatmap_per_panel_with_printed_cells():
    shares = torch.tensor([[0.9, 0.1], [0.25, 0.75], [0.5, 0.5]])
    fig = P.plot_class_cluster_shares({"a": shares, "b": shares.flip(-1)}, ["x", "y", "z"], title="t",
                                      save_as="m_class_cluster")
    panels = [ax for ax in fig.axes if ax.get_title() in ("a", "b")]
    assert len(panels) == 2
    assert np.allclose(panels[0].images[0].get_array(), shares.numpy())
    assert [t.get_text() for t in panels[0].texts] == ["0.90", "0.10", "0.25", "0.75", "0.50", "0.50"]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["x", "y", "z"]
    assert (figures_dir() / "m_class_cluster.png").stat().st_size > 1000


def test_class_cluster_shares_rows_must_match_the_classes():
    import pytest

    with pytest.raises(ValueError, match="panel 'a' has 2 rows, class_names has 3"):
        P.plot_class_cluster_shares({"a": torch.ones(2, 2)}, ["x", "y", "z"])
