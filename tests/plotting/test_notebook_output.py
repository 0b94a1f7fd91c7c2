"""Figures shown in a notebook as palette PNGs."""

import io

import matplotlib.pyplot as plt
import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import print_figure
from PIL import Image

from bilinear_helpers import plotting as P


def noisy_figure():
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.random.default_rng(0).random((28, 28)), cmap="RdBu_r")
    return fig


def test_palette_png_keeps_the_picture_in_fewer_bytes():
    fig = noisy_figure()
    full = Image.open(io.BytesIO(print_figure(fig, "png", bbox_inches="tight", base64=False))).convert("RGB")
    small = P.palette_png(fig)
    palette = Image.open(io.BytesIO(small))
    assert palette.mode == "P" and palette.size == full.size
    assert len(small) < len(print_figure(fig, "png", bbox_inches="tight", base64=False))
    difference = np.abs(np.asarray(palette.convert("RGB"), dtype=float) - np.asarray(full, dtype=float))
    assert difference.mean() < 3  # out of 255: the same picture to the eye
    plt.close(fig)


def test_use_palette_png_routes_figures_in_an_ipython_session():
    shell = InteractiveShell.instance()
    try:
        P.use_palette_png()
        fig = noisy_figure()
        data, _ = shell.display_formatter.format(fig)
        assert Image.open(io.BytesIO(data["image/png"])).mode == "P"
        plt.close(fig)
    finally:
        InteractiveShell.clear_instance()
