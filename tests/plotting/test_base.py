"""What every figure uses: saving, pixel grids, image grids, one eigenvector on a diverging map."""

import os

import matplotlib.pyplot as plt
import pytest
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def test_rank_label():
    assert [P.rank_label(i, 10) for i in (9, 8, 0, 1, -1, -2)] == ["+1", "+2", "-1", "-2", "+1", "+2"]


def test_pixel_grid_from_the_image_shape_or_the_square():
    assert P.pixel_grid(784) == (28, 28) and P.pixel_grid(1024) == (32, 32)
    assert P.pixel_grid(12, (1, 3, 4)) == (3, 4)
    with pytest.raises(ValueError, match="10 values are not a square image: pass image_shape=\\(1, height, width\\)"):
        P.pixel_grid(10)
    with pytest.raises(ValueError, match=r"image_shape must be \(1, height, width\) holding 784 values, "
                                         r"got \(20, 20\)"):
        P.pixel_grid(784, (20, 20))
    with pytest.raises(ValueError, match=r"holding 12 values, got \(3, 2, 2\)"):
        P.pixel_grid(12, (3, 2, 2))  # three channels are not one grey image


def test_image_grid_draws_each_image_on_its_grid():
    images = torch.rand(5, 12, generator=torch.Generator().manual_seed(0))
    fig = P.plot_image_grid(images, titles=list("abcde"), ncols=3, image_shape=(1, 3, 4), save_as="images")
    assert len(fig.axes) == 6  # two rows of three, the last cell empty
    torch.testing.assert_close(image_data(fig, 4), images[4].reshape(3, 4).double())
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", "d", "e", ""]
    assert not fig.axes[5].images
    assert (figures_dir() / "images.png").stat().st_size > 500


def test_a_diverging_image_grid_shares_a_symmetric_scale():
    images = torch.tensor([[1.0, -3.0, 0.0, 2.0], [0.5, 0.5, -0.5, 0.0]])
    fig = P.plot_image_grid(images, diverging=True)
    assert all(ax.images[0].get_clim() == (-3.0, 3.0) for ax in fig.axes[:2])


def test_show_eigenvector_centres_the_map_on_zero():
    fig, ax = plt.subplots()
    image = P.show_eigenvector(ax, torch.tensor([1.0, -4.0, 2.0, 0.5]), title="v")
    assert image.get_clim() == (-4.0, 4.0) and ax.get_title() == "v" and image.get_cmap().name == P.EIGEN_CMAP
    assert image.get_array().shape == (2, 2)
    assert P.show_eigenvector(ax, torch.zeros(6), vmax=1.0, grid=(2, 3)).get_array().shape == (2, 3)


def test_eigenvector_table_one_cell_per_entry():
    images = torch.randn(2, 3, 16, generator=torch.Generator().manual_seed(0))
    fig = P.plot_eigenvector_table(images, ["r0", "r1"], ["c0", "c1", "c2"], titles=[["a"] * 3, ["b"] * 3])
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "r1" and fig.axes[5].get_xlabel() == "c2"
    torch.testing.assert_close(image_data(fig, 4), images[1, 1].reshape(4, 4).double())
    assert fig.axes[4].get_title() == "b"


def test_matplotlib_and_plotly_figures_are_saved_atomically(tmp_path):
    import plotly.graph_objects as go

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = P.save_figure(fig, "line", folder=tmp_path)
    assert path == tmp_path / "line.png" and path.read_bytes()[:4] == b"\x89PNG"
    first = path.read_bytes()
    assert P.save_figure(fig, "line", folder=tmp_path).read_bytes() == first  # stable from run to run
    page = P.save_figure(go.Figure(go.Scatter(y=[1, 2])), "page", folder=tmp_path)
    assert page.suffix == ".html" and 'id="bilinear-page"' in page.read_text()
    assert sorted(os.listdir(tmp_path)) == ["line.png", "page.html"]  # no temp files left


def test_figure_names_and_maybe_save():
    assert P.figure_name("02", "spectra") == "02_spectra" and P.figure_name("02", "spectra", enabled=False) is None
    fig, _ = plt.subplots()
    assert P.maybe_save(fig, None) is fig and list(figures_dir().iterdir()) == []
    assert P.maybe_save(fig, "kept") is fig and (figures_dir() / "kept.png").is_file()


def test_to_numpy_is_a_float64_copy():
    t = torch.ones(2, requires_grad=True)
    array = P.to_numpy(t * 2)
    assert array.dtype == "float64" and array.tolist() == [2.0, 2.0]
