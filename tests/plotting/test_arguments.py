"""Every figure function names a bad argument before drawing: indices out of range, empty panels, series
that do not pair up, figure names that would leave figures/."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from bilinear_helpers.plotting import (
    EigenvectorPlotter,
    plot_attack_curves,
    plot_classwise_ablation,
    plot_eigenvector_grid,
    plot_eigenvectors_side_by_side,
    plot_explorer_view,
    plot_hosvd,
    plot_image_grid,
    plot_interaction_matrix,
    plot_irrep_fractions,
    plot_logit_similarity,
    plot_marchenko_pastur,
    plot_matrices,
    plot_metric_grid,
    plot_prediction,
    plot_spectra,
    plot_training_curves,
    plot_truncation_curves,
    plot_weight_spectra,
)
from bilinear_helpers.plotting.base import figure_name, maybe_save, pixel_grid, rank_label, save_figure, to_numpy


@pytest.mark.parametrize("name", ["../escape", "", "a/b", 5, ".hidden", "x y"])
def test_figure_names_stay_inside_figures(tmp_path, name):
    with pytest.raises(ValueError, match="a figure name is letters, digits and"):
        save_figure(plt.figure(), name, tmp_path)
    with pytest.raises(ValueError, match="a figure name is letters, digits and"):
        maybe_save(plt.figure(), name)
    assert list(tmp_path.iterdir()) == []


def test_small_helpers_name_their_arguments(tmp_path):
    with pytest.raises(TypeError, match="fig must be a matplotlib or plotly figure"):
        save_figure(None, "x", tmp_path)
    with pytest.raises(ValueError, match="notebook and name must be a list of names"):
        figure_name(None, "x")
    with pytest.raises(ValueError, match=r"n_values must be >= 1, got 0"):
        pixel_grid(0)
    with pytest.raises(ValueError, match=r"width must be >= 1, got 0"):
        rank_label(-1, 0)
    with pytest.raises(ValueError, match=r"index must be in \[-3, 3\), got 5"):
        rank_label(5, 3)
    with pytest.raises(TypeError, match="expected a tensor or array to plot, got list"):
        to_numpy([1, 2])


@pytest.mark.parametrize(("call", "message"), [
    (lambda a: plot_eigenvector_grid(a, k=0), r"k must be in \[1, 7\), got 0"),
    (lambda a: plot_eigenvector_grid(a, k=100), r"k must be in \[1, 7\), got 100"),
    (lambda a: plot_eigenvector_grid(a, classes=[5]), r"each entry of classes must be in \[-4, 4\), got 5"),
    (lambda a: plot_eigenvector_grid(a, classes=["a"]), "each entry of classes must be a whole number"),
    (lambda a: plot_eigenvector_grid(a, classes=[]), "classes is empty"),
    (lambda a: plot_eigenvectors_side_by_side({"m": a}, rank=100), r"rank must be in \[-12, 12\), got 100"),
    (lambda a: plot_eigenvectors_side_by_side({}), "artifacts_by_label must map at least one label"),
    (lambda a: EigenvectorPlotter(a).plot_component(5), r"each entry of i must be in \[-4, 4\), got 5"),
    (lambda a: EigenvectorPlotter(a).plot_component(0, topk_eigs=0), r"topk_eigs must be in \[1, 7\), got 0"),
    (lambda a: plot_explorer_view(a, torch.rand(5, 784), c=5), r"each entry of c must be in \[-4, 4\), got 5"),
    (lambda a: plot_explorer_view(a, torch.rand(5, 784), rank=100), r"rank must be in \[-12, 12\), got 100"),
    (lambda a: plot_explorer_view(a, torch.rand(5, 100)), "images hold 100 pixels each, the eigenvectors 784"),
    (lambda a: plot_spectra(a, classes=[7]), r"each entry of classes must be in \[-4, 4\), got 7"),
    (lambda a: plot_spectra(a, n_marked=-1), r"n_marked must be in \[0, 7\), got -1"),
    (lambda a: plot_spectra(a, ncols=0), r"ncols must be >= 1, got 0"),
    (lambda a: plot_prediction(a, torch.rand(784), torch.randn(2, 2)), r"contributions has cls=2"),
    (lambda a: plot_interaction_matrix(a.interactions), "matrix must have 2 axes"),
    (lambda a: plot_interaction_matrix(a.interactions[0], torch.randn(3, 5, dtype=torch.float64)),
     r"eigenvectors has d=5"),
])
def test_decomposition_figures_check_indices(artifacts, call, message):
    with pytest.raises(ValueError, match=message):
        call(artifacts)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: plot_image_grid(torch.rand(784)), "images must have at least 2 axes"),
    (lambda: plot_image_grid(torch.rand(0, 784)), "images is empty"),
    (lambda: plot_image_grid(torch.rand(2, 784), titles=["one"]), "titles must give one title per image"),
    (lambda: plot_truncation_curves({"a": ([1, 2], [0.5])}, 0.9), r"curves\['a'\]: 2 x values and 1 y values"),
    (lambda: plot_truncation_curves({}, 0.9), "curves must map at least one label"),
    (lambda: plot_hosvd(torch.rand(3), [1, 2], [0.5], 0.9), "ns and accuracies: 2 x values and 1 y values"),
    (lambda: plot_attack_curves([0, 1, 2], {"a": [0.5]}, "acc"), r"curves\['a'\]: 3 x values and 1 y values"),
    (lambda: plot_marchenko_pastur(torch.rand(5), torch.rand(5), torch.rand(5), torch.rand(4)),
     "x and density: 5 x values and 4 y values"),
    (lambda: plot_metric_grid({"acc": torch.zeros(2, 2)}, [1, 2, 3], [1, 2], "r", "c"),
     r"metrics\['acc'\] is \(2, 2\), the grid 3 x 2"),
    (lambda: plot_irrep_fractions({"a": torch.rand(3, 3)}, ["x"]), r"fractions\['a'\] has 3 columns, irrep_names 1"),
    (lambda: plot_logit_similarity({}), "similarities must map at least one label"),
    (lambda: plot_matrices({"a": torch.rand(4)}), r"panels\['a'\] must have 2 axes"),
    (lambda: plot_weight_spectra({}), "spectra must map at least one label"),
    (lambda: plot_classwise_ablation(pd.DataFrame({"overall": [1.0]}, index=["x"]), ["y"]),
     r"the table has no rows \['all clusters', 'y'\]"),
    (lambda: plot_training_curves(pd.DataFrame()), "metrics must be a run's metrics.csv"),
])
def test_series_and_panels_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_missing_metrics_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no metrics file at .*missing.csv"):
        plot_training_curves(tmp_path / "missing.csv")


def test_spectra_need_artifacts():
    with pytest.raises(TypeError, match="artifacts must be a DecompositionArtifacts, got Tensor"):
        plot_spectra(torch.zeros(3, 4))
