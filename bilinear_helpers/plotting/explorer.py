"""An interactive plotly explorer of pixel-space eigenvectors: a class menu and a rank slider.

Every slider step restyles the same traces (the eigenvector, one spectrum per class, the
top images) so the figure stays small enough to keep in a committed notebook: pixel values
of the eigenvector are whole percentages, and the top images are small grayscale PNGs.
`plot_explorer_view` draws one state of it with matplotlib, the picture for print and for
viewers that do not run JavaScript.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from ..artifacts import DecompositionArtifacts
from ..checks import check_integer, check_tensor
from .base import check_indices, maybe_save, pixel_grid, rank_label, show_eigenvector, to_numpy
from .spectra import draw_spectrum


def _top_images(artifacts, flat: Tensor, c: int, rank: int, n_images: int) -> list[int]:
    """Rows of `flat` with the largest `|lambda (v . x)^2|` for class c's eigenvector at `rank`."""
    vec, lam = artifacts.pixel_eigenvectors[c, rank], float(artifacts.eigenvalues[c, rank])
    return (lam * (flat @ vec) ** 2).abs().argsort(descending=True)[:n_images].tolist()


def _picture(t: Tensor, scale: float, grid) -> dict:
    """Whole numbers (percent of `scale`) as plotly's typed-array spec (int8, base64), which stays one short
    string in a notebook; heatmaps draw row 0 at the bottom, so rows are flipped."""
    percent = np.ascontiguousarray(np.rint(100 * to_numpy(t.reshape(*grid)) / scale).astype(np.int8)[::-1])
    return {"dtype": "i1", "bdata": base64.b64encode(percent.tobytes()).decode("ascii"),
            "shape": f"{grid[0]}, {grid[1]}"}


def picture_values(spec: dict) -> np.ndarray:
    """The array a `_picture` spec holds, as plotly.js decodes it (for tests and readers of the JSON)."""
    shape = tuple(int(n) for n in spec["shape"].split(","))
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.int8).reshape(shape)


def _png_source(t: Tensor, grid) -> str:
    """An image with values in [0, 1] as a grayscale PNG data URI, ink dark on white (row 0 at the top)."""
    from PIL import Image

    pixels = np.rint(255 * (1 - np.clip(to_numpy(t.reshape(*grid)), 0, 1))).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _step(artifacts, flat: Tensor, c: int, rank: int, n_images: int, grid) -> list:
    """The restyle (eigenvector, C spectra, top images) and the title for class c at `rank`."""
    vec, lam = artifacts.pixel_eigenvectors[c, rank], float(artifacts.eigenvalues[c, rank])
    top = _top_images(artifacts, flat, c, rank, n_images)
    spectra = [c == other for other in range(artifacts.num_outputs)]
    restyle = {
        "z": [_picture(vec, float(vec.abs().max()), grid)] + [None] * (len(spectra) + n_images),
        "source": [None] * (1 + len(spectra)) + [_png_source(flat[i], grid) for i in top],
        "visible": [True] + spectra + [True] * n_images,
        "selectedpoints": [None] + [[rank % artifacts.width] if shown else None for shown in spectra]
        + [None] * n_images,
    }
    title = f"class {artifacts.names()[c]}, eigenvector {rank_label(rank, artifacts.width)}: λ = {lam:+.3f}"
    return [restyle, {"title.text": title}]


def _empty_figure(artifacts, n_images: int):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2 + n_images, column_widths=[0.3, 0.34] + [0.12] * n_images,
                        subplot_titles=["eigenvector (red > 0 > blue)", "spectrum"]
                        + [f"top input {j + 1}" for j in range(n_images)])
    fig.add_trace(go.Heatmap(colorscale="RdBu", reversescale=True, showscale=False, zmin=-100, zmax=100,
                             hovertemplate="%{z}% of the largest pixel<extra></extra>"), row=1, col=1)
    for c, name in enumerate(artifacts.names()):
        fig.add_trace(go.Scatter(y=to_numpy(artifacts.eigenvalues[c]).astype(np.float32), mode="markers",
                                 showlegend=False, name=f"class {name}", marker={"size": 4, "color": "gray"},
                                 selected={"marker": {"size": 11, "color": "crimson"}}), row=1, col=2)
    for j in range(n_images):
        fig.add_trace(go.Image(hoverinfo="skip"), row=1, col=3 + j)
    return fig


def eigenvector_explorer(artifacts: DecompositionArtifacts, images: Tensor, k: int = 3, n_images: int = 3,
                         image_shape: tuple[int, int, int] | None = None, save_as: str | None = None):
    """Pick a class (menu) and one of its k most positive or k most negative eigenvectors (slider).

    Shows the eigenvector as an image, the class's spectrum with the chosen eigenvalue
    marked, and the `n_images` rows of `images` with the largest `|lambda (v . x)^2|`.
    """
    if artifacts.pixel_eigenvectors is None:
        raise ValueError("the explorer needs pixel-space eigenvectors (a one-layer decomposition)")
    flat = images.reshape(len(images), -1).to(artifacts.pixel_eigenvectors.dtype)
    grid = pixel_grid(flat.shape[1], image_shape)
    ranks = [-(j + 1) for j in range(k)] + list(range(k))  # most positive first, then most negative
    fig = _empty_figure(artifacts, n_images)

    steps, buttons = [], []
    for c, name in enumerate(artifacts.names()):
        for rank in ranks:
            steps.append({"method": "update", "label": f"{name} {rank_label(rank, artifacts.width)}",
                          "args": _step(artifacts, flat, c, rank, n_images, grid)})
        first = steps[-len(ranks)]["args"]
        buttons.append({"method": "update", "label": f"class {name}",
                        "args": [first[0], {**first[1], "sliders[0].active": len(steps) - len(ranks)}]})
    initial = steps[0]["args"]
    for index, trace in enumerate(fig.data):  # start in the state of the first step
        for key, values in initial[0].items():
            if values[index] is not None:
                trace[key] = values[index]
    fig.update_layout(
        sliders=[{"steps": steps, "active": 0, "currentvalue": {"prefix": "class, eigenvector: "}, "pad": {"t": 20}}],
        updatemenus=[{"buttons": buttons, "x": 0, "y": 1.3, "xanchor": "left", "yanchor": "top"}],
        title={"text": initial[1]["title.text"], "x": 0.2}, height=400, margin={"t": 100},  # width: the page's
    )
    for col in [1] + [3 + j for j in range(n_images)]:
        fig.update_xaxes(showticklabels=False, row=1, col=col)
        fig.update_yaxes(showticklabels=False, scaleanchor=f"x{'' if col == 1 else col}", row=1, col=col)
    fig.update_xaxes(title_text="rank (ascending)", row=1, col=2)
    return maybe_save(fig, save_as)


def plot_explorer_view(artifacts: DecompositionArtifacts, images: Tensor, c: int = 0, rank: int = -1,
                       n_images: int = 3, image_shape: tuple[int, int, int] | None = None,
                       save_as: str | None = None):
    """One state of `eigenvector_explorer` as a matplotlib figure: class c's eigenvector at `rank`
    (-1 the most positive), its place in the spectrum, and the images that activate it most."""
    if artifacts.pixel_eigenvectors is None:
        raise ValueError("these eigenvectors are not in pixel space (a block other than the first); "
                         "use decompose_direction down to block 0 to get images")
    c = check_indices("c", [c], artifacts.num_outputs)[0]
    rank = check_integer("rank", rank, -artifacts.width, artifacts.width)
    n_images = check_integer("n_images", n_images, 1)
    check_tensor("images", images, "n inp ...", floating=True)
    flat = images.reshape(len(images), -1).to(artifacts.pixel_eigenvectors.dtype)
    if flat.shape[1] != artifacts.pixel_eigenvectors.shape[-1]:
        raise ValueError(f"images hold {flat.shape[1]} pixels each, the eigenvectors "
                         f"{artifacts.pixel_eigenvectors.shape[-1]}")
    grid = pixel_grid(flat.shape[1], image_shape)
    lam = float(artifacts.eigenvalues[c, rank])
    fig, axes = plt.subplots(1, 2 + n_images, figsize=(2.3 * (2 + n_images), 2.4), layout="constrained",
                             width_ratios=[1, 1.4] + [1] * n_images)
    show_eigenvector(axes[0], artifacts.pixel_eigenvectors[c, rank], "eigenvector (red > 0 > blue)",
                     grid=grid)
    index = torch.arange(artifacts.width)[rank]
    draw_spectrum(axes[1], artifacts.eigenvalues[c], index[None] if lam > 0 else [], index[None] if lam < 0 else [])
    for j, i in enumerate(_top_images(artifacts, flat, c, rank, n_images)):
        axes[2 + j].imshow(to_numpy(flat[i].reshape(*grid)), cmap="Greys")
        axes[2 + j].set(xticks=[], yticks=[], title=f"top input {j + 1}")
    fig.suptitle(f"class {artifacts.names()[c]}, eigenvector {rank_label(rank, artifacts.width)}: λ = {lam:+.3f}")
    return maybe_save(fig, save_as)
