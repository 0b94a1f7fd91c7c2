"""The interactive explorer (plotly) and its static view (matplotlib)."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model, figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def test_explorer_steps_restyle_every_trace_consistently(artifacts):
    images = torch.rand(25, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    fig = P.eigenvector_explorer(artifacts, images, k=2, n_images=3, save_as="explorer")
    n_traces = len(fig.data)
    assert n_traces == 1 + 4 + 3  # eigenvector, one spectrum per class, top images
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 4 * 4  # classes x (2 positive + 2 negative)
    for step in steps:
        restyle, layout = step.args
        assert all(len(values) == n_traces for values in restyle.values())
    # step 5: class "b", the second most positive eigenvector
    restyle, layout = steps[5].args
    assert layout["title.text"].startswith("class b, eigenvector +2")
    assert restyle["visible"][1:5] == [False, True, False, False]
    assert restyle["selectedpoints"][2] == [12 - 2]
    picture = P.explorer.picture_values(restyle["z"][0])
    assert np.abs(picture).max() == 100
    vector = artifacts.pixel_eigenvectors[1, -2]
    expected = torch.round(100 * vector / vector.abs().max()).reshape(28, 28).flip(0)  # row 0 is drawn at the bottom
    assert torch.equal(torch.tensor(picture, dtype=torch.float64), expected)
    flat = images.reshape(25, -1).double()
    strongest = (artifacts.eigenvalues[1, -2] * (flat @ vector) ** 2).abs().argmax()
    assert restyle["z"][5:] == [None] * 3 and restyle["source"][:5] == [None] * 5
    png = restyle["source"][5]
    assert png.startswith("data:image/png;base64,")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))), dtype=np.float64)
    expected_ink = np.rint(255 * (1 - flat[strongest].reshape(28, 28).numpy()))  # dark ink on white, row 0 on top
    assert np.array_equal(pixels, expected_ink)
    html = (figures_dir() / "explorer.html").read_text()
    assert 'id="bilinear-explorer"' in html and "cdn.plot.ly" in html
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.args[1]["sliders[0].active"] for b in buttons] == [0, 4, 8, 12]


def test_explorer_view_shows_one_state(artifacts):
    images = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    view = P.plot_explorer_view(artifacts, images, c=2, rank=-1, n_images=3, save_as="view")
    assert len(view.axes) == 5 and "class c, eigenvector +1" in view.get_suptitle()
    torch.testing.assert_close(image_data(view, 0), artifacts.pixel_eigenvectors[2, -1].reshape(28, 28))
    flat = images.reshape(20, -1).double()
    strongest = (artifacts.eigenvalues[2, -1] * (flat @ artifacts.pixel_eigenvectors[2, -1]) ** 2).abs().argmax()
    torch.testing.assert_close(image_data(view, 2), flat[strongest].reshape(28, 28))  # the top input first
    assert [ax.get_title() for ax in view.axes[2:]] == ["top input 1", "top input 2", "top input 3"]
    assert (figures_dir() / "view.png").stat().st_size > 1000


def test_the_explorer_needs_pixel_space_eigenvectors():
    deep = decompose_bilinear_model(BilinearImageClassifier(d_hidden=6, d_output=3, n_layer=2))
    with pytest.raises(ValueError, match="the explorer needs pixel-space eigenvectors"):
        P.eigenvector_explorer(deep, torch.rand(3, 784))


