"""Pixel-space eigenvectors: a grid per class, one rank across models, and one output read in detail."""

import matplotlib
import numpy as np
import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model, figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def test_eigenvector_grid_shows_the_top_positive_then_negative_per_class(artifacts):
    fig = P.plot_eigenvector_grid(artifacts, k=2, save_as="grid")
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 4 * 4  # 4 classes x (2 + 2)
    # row 1 (class "b"): columns 0, 1 the most positive (ranks 11, 10), 2, 3 the most negative (0, 1)
    for col, rank in enumerate([11, 10, 0, 1]):
        ax = fig.axes[4 + col]
        torch.testing.assert_close(image_data(fig, 4 + col), artifacts.pixel_eigenvectors[1, rank].reshape(28, 28))
        assert ax.get_title() == f"λ={float(artifacts.eigenvalues[1, rank]):+.2f}"
    assert fig.axes[4].get_ylabel() == "class b"
    assert (figures_dir() / "grid.png").stat().st_size > 1000


def test_only_some_classes(artifacts):
    fig = P.plot_eigenvector_grid(artifacts, k=1, classes=[3])
    assert len(fig.axes) == 2 and fig.axes[0].get_ylabel() == "class d"


def test_side_by_side_one_rank_per_class_a_row_per_model(artifacts):
    other = decompose_bilinear_model(BilinearImageClassifier(d_hidden=12, d_output=4, seed=1))
    fig = P.plot_eigenvectors_side_by_side({"m1": artifacts, "m2": other}, rank=-1, classes=[0, 2], save_as="side")
    assert len(fig.axes) == 4 and fig.axes[2].get_ylabel() == "m2"
    torch.testing.assert_close(image_data(fig, 3), other.pixel_eigenvectors[2, -1].reshape(28, 28))
    assert fig.axes[1].get_title().startswith("c: λ=")
    assert (figures_dir() / "side.png").stat().st_size > 1000


def test_eigenvector_plotter_reads_one_output(artifacts):
    images = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    plotter = P.EigenvectorPlotter(artifacts, torch.eye(4), images=images, class_names="abcd")
    assert plotter.grid == (28, 28) and plotter.images.shape == (30, 784) and plotter.class_names == list("abcd")
    fig = plotter.plot_component(1, topk_eigs=2, sort="eigs", suptitle="t", save_as="plotter_eigs")
    titles = [ax.get_title() for ax in fig.axes]
    assert "logits it writes" in titles and fig.get_suptitle() == "t"
    logit_bars = next(ax for ax in fig.axes if ax.get_title() == "logits it writes").patches
    assert [bar.get_height() for bar in logit_bars] == [0.0, 1.0, 0.0, 0.0]  # row 1 of the identity
    eigen_titles = [t for t in titles if t.startswith("λ=")]
    assert eigen_titles[0].startswith(f"λ={float(artifacts.eigenvalues[1, -1]):+.2f}\nmean act ")
    assert len(eigen_titles) == 4  # 2 positive + 2 negative
    assert (figures_dir() / "plotter_eigs.png").exists()


def test_sorting_by_activation_ranks_by_the_mean_activation(artifacts):
    images = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    plotter = P.EigenvectorPlotter(artifacts, images=images)
    fig = plotter.plot_component(0, topk_eigs=1, sort="activations", n_images=2)
    flat = images.reshape(30, -1).double()
    acts = artifacts.eigenvalues[0] * (flat @ artifacts.pixel_eigenvectors[0].T) ** 2
    top = int(acts.mean(0).argmax())
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("λ=")]
    assert titles[0].startswith(f"λ={float(artifacts.eigenvalues[0, top]):+.2f}")
    assert "logits it writes" not in [ax.get_title() for ax in fig.axes]  # no logits given: no bar panel


def test_a_bare_plotter_draws_only_eigenvectors(artifacts):
    fig = P.EigenvectorPlotter(artifacts).plot_component(0, topk_eigs=2)
    assert len([ax for ax in fig.axes if ax.get_title().startswith("λ=")]) == 4


def test_eigenvector_plotter_rejects_bad_shapes(artifacts):
    with pytest.raises(ValueError, match=r"logits must have one row per output \(4\), got shape \(3, 3\)"):
        P.EigenvectorPlotter(artifacts, torch.eye(3))
    with pytest.raises(ValueError, match=r"image_shape must be \(1, height, width\) holding 784 values, "
                                         r"got \(20, 20\)"):
        P.EigenvectorPlotter(artifacts, image_shape=(20, 20))
    plotter = P.EigenvectorPlotter(artifacts, torch.eye(4))
    with pytest.raises(ValueError, match="unknown sort 'size': use 'eigs' or 'activations'"):
        plotter.plot_component(0, sort="size")


def test_pixel_plots_need_pixel_space_eigenvectors():
    deep = decompose_bilinear_model(BilinearImageClassifier(d_hidden=6, d_output=3, n_layer=2))
    with pytest.raises(ValueError, match="not in pixel space"):
        P.plot_eigenvector_grid(deep)
    with pytest.raises(ValueError, match="not in pixel space"):
        P.plot_eigenvectors_side_by_side({"deep": deep})
    with pytest.raises(ValueError, match="not in pixel space"):
        P.EigenvectorPlotter(deep)


def test_side_by_side_flips_rows_to_agree_with_the_reference():
    model = BilinearImageClassifier(d_input=16, d_hidden=6, d_output=2, seed=0)
    art = decompose_bilinear_model(model)
    flipped = decompose_bilinear_model(model)
    flipped.pixel_eigenvectors = -flipped.pixel_eigenvectors  # the same eigenvectors, opposite signs
    fig = P.plot_eigenvectors_side_by_side({"a": art, "b": flipped}, align_to="a")
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("flipped" in t for t in titles) == 2  # both classes of row b, none of row a
    shown = [ax.images[0].get_array() for ax in fig.axes]
    assert np.allclose(shown[0], shown[2]) and np.allclose(shown[1], shown[3])
    with pytest.raises(ValueError, match="align_to='c' is not one of the labels"):
        P.plot_eigenvectors_side_by_side({"a": art}, align_to="c")
