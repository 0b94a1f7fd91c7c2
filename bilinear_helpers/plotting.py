"""Figures: matplotlib for the pages of the tutorial, plotly for interactive exploration.

Every function returns its figure. `save_figure` writes it into `figures/` (PNG for
matplotlib, HTML with plotly.js from a CDN and a fixed div id for plotly) so files
are stable from run to run.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from jaxtyping import Float
from torch import Tensor

from .decomposition import orient_eigenvectors, symmetrize_bilinear_tensor
from .paths import figures_dir

PNG_DPI = 110
EIGEN_CMAP = "RdBu_r"  # red: positive pixels, blue: negative, white: zero


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a matplotlib figure as `<name>.png` or a plotly figure as `<name>.html`.

    Returns the path written (inside `figures/` unless `folder` is given).
    """
    folder = figures_dir(folder)
    if hasattr(fig, "to_html"):  # plotly
        path = folder / f"{name}.html"
        html = fig.to_html(include_plotlyjs="cdn", full_html=True, div_id=f"bilinear-{name}")
        path.write_text(html)
    else:
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    return path


def _maybe_save(fig, save_as: str | None):
    if save_as:
        save_figure(fig, save_as)
    return fig


def plot_training_curves(metrics: pd.DataFrame | str | os.PathLike, title: str = "", save_as: str | None = None):
    """Loss, accuracy and learning rate per epoch from a run's `metrics.csv` (path or DataFrame)."""
    frame = metrics if isinstance(metrics, pd.DataFrame) else pd.read_csv(metrics)
    fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(
        1, 3, figsize=(11, 3.0), layout="constrained", gridspec_kw={"width_ratios": [1, 1, 0.7]}
    )
    for ax, column, label in ((ax_loss, "loss", "cross-entropy"), (ax_acc, "acc", "accuracy")):
        ax.plot(frame["epoch"], frame[f"train_{column}"], label="train (with noise)")
        ax.plot(frame["epoch"], frame[f"val_{column}"], label="validation")
        ax.set(xlabel="epoch", ylabel=label, title=label)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_lr.plot(frame["epoch"], frame["lr"], color="gray")
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="schedule")
    ax_lr.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _maybe_save(fig, save_as)


def plot_image_grid(
    images: Float[Tensor, "n ..."],
    titles: list[str] | None = None,
    ncols: int = 8,
    cmap: str = "Greys",
    diverging: bool = False,
    img_size: tuple[int, int] = (28, 28),
    save_as: str | None = None,
):
    """Images in a grid; `diverging=True` centres a red-blue map on zero with symmetric limits."""
    images = images.detach().cpu().reshape(len(images), *img_size)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.45 * nrows), squeeze=False, layout="constrained")
    vmax = float(images.abs().max()) if diverging else None
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= len(images):
            continue
        if diverging:
            ax.imshow(images[i].numpy(), cmap=EIGEN_CMAP, vmin=-vmax, vmax=vmax)
        else:
            ax.imshow(images[i].numpy(), cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return _maybe_save(fig, save_as)


def to_numpy(x: Tensor) -> np.ndarray:
    """A detached CPU float64 copy, for plotting."""
    return x.detach().cpu().to(torch.float64).numpy()


# --- eigenvectors --------------------------------------------------------------------------------

def _show_eigenvector(ax, image: Tensor, title: str = "", vmax: float | None = None, img_size=(28, 28)):
    """One pixel-space eigenvector on a diverging map centred on zero with symmetric limits."""
    image = image.detach().cpu().to(torch.float64).reshape(*img_size)
    vmax = float(image.abs().max()) if vmax is None else vmax
    im = ax.imshow(image.numpy(), cmap=EIGEN_CMAP, vmin=-vmax, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return im


def rank_label(index: int, width: int) -> str:
    """`+k` for the k-th most positive eigenvalue, `-k` for the k-th most negative (ascending order)."""
    index = index % width
    return f"+{width - index}" if index >= width / 2 else f"-{index + 1}"


def _class_names(artifacts, classes) -> list[str]:
    names = artifacts.output_names or [str(c) for c in range(artifacts.num_outputs)]
    return [names[c] for c in classes]


def plot_spectra(artifacts, classes=None, n_marked: int = 3, ncols: int = 5, save_as: str | None = None):
    """Every class's eigenvalues against their rank, the top positive (red) and negative (blue) marked."""
    classes = list(range(artifacts.num_outputs)) if classes is None else list(classes)
    nrows = int(np.ceil(len(classes) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.2 * nrows), squeeze=False,
                             layout="constrained", sharey=True)
    ranks = artifacts.effective_rank()
    for ax, c, name in zip(axes.flat, classes, _class_names(artifacts, classes), strict=False):
        lam = to_numpy(artifacts.eigenvalues[c])
        ax.plot(lam, ".", color="0.6", markersize=3)
        ax.plot(range(len(lam) - n_marked, len(lam)), lam[-n_marked:], "o", color="tab:red", markersize=4)
        ax.plot(range(n_marked), lam[:n_marked], "o", color="tab:blue", markersize=4)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.set_title(f"class {name}  (eff. rank {float(ranks[c]):.1f})", fontsize=9)
        ax.set_xlabel("rank (ascending)", fontsize=8)
    for ax in list(axes.flat)[len(classes):]:
        ax.set_axis_off()
    axes[0, 0].set_ylabel("eigenvalue")
    return _maybe_save(fig, save_as)


def plot_eigenvector_grid(artifacts, k: int = 3, classes=None, save_as: str | None = None):
    """Per class (a row): the k most positive, then the k most negative eigenvectors as images.

    Each image has its own symmetric colour limits; the title gives its eigenvalue.
    """
    if artifacts.eigenvectors_input is None:
        raise ValueError("these eigenvectors are not in pixel space (a block other than the first); "
                         "use decompose_direction down to block 0 to get images")
    classes = list(range(artifacts.num_outputs)) if classes is None else list(classes)
    fig, axes = plt.subplots(len(classes), 2 * k, figsize=(1.45 * 2 * k, 1.55 * len(classes)),
                             squeeze=False, layout="constrained")
    positive, negative = artifacts.top(k, by="positive"), artifacts.top(k, by="negative")
    for row, (c, name) in enumerate(zip(classes, _class_names(artifacts, classes), strict=True)):
        for col, i in enumerate(torch.cat([positive[c], negative[c]]).tolist()):
            lam = float(artifacts.eigenvalues[c, i])
            _show_eigenvector(axes[row, col], artifacts.eigenvectors_input[c, i], f"λ={lam:+.2f}")
        axes[row, 0].set_ylabel(f"class {name}", fontsize=10)
    fig.suptitle(f"top {k} positive (left) and negative (right) eigenvectors per class; red > 0 > blue", fontsize=10)
    return _maybe_save(fig, save_as)


def plot_eigenvectors_side_by_side(artifacts_by_label: dict, rank: int = -1, classes=None,
                                   save_as: str | None = None):
    """One eigenvector (by ascending rank: -1 the most positive) of every class, a row per model."""
    labels = list(artifacts_by_label)
    first = artifacts_by_label[labels[0]]
    classes = list(range(first.num_outputs)) if classes is None else list(classes)
    fig, axes = plt.subplots(len(labels), len(classes), figsize=(1.35 * len(classes), 1.6 * len(labels)),
                             squeeze=False, layout="constrained")
    for row, label in enumerate(labels):
        art = artifacts_by_label[label]
        for col, (c, name) in enumerate(zip(classes, _class_names(art, classes), strict=True)):
            _show_eigenvector(axes[row, col], art.eigenvectors_input[c, rank],
                              f"{name}: λ={float(art.eigenvalues[c, rank]):+.2f}")
        axes[row, 0].set_ylabel(label, fontsize=10)
    return _maybe_save(fig, save_as)


def _as_image_matrix(dataset) -> Float[Tensor, "n inp"]:
    """Images as rows `[N, d_input]` from an ImageDataset (its test split) or a tensor."""
    images = dataset.test_images if hasattr(dataset, "test_images") else dataset
    return images.reshape(len(images), -1)


class EigenvectorPlotter:
    """Reads interaction matrices one at a time: eigenvectors, their top inputs, and logits.

    `B [K, d, d]`: interaction matrices (for example a class's `Q_c`, or the matrix that a
    layer-2 eigenvector induces on layer 1); `logits [K, n_classes]`: what each of them
    writes to the output, shown as a bar panel; `dataset`: an ImageDataset (its test
    images are used) or an image tensor, to find the inputs that activate each eigenvector
    most; `Embed [d, d_input]` maps hidden eigenvectors to pixels (None: already pixels).
    Eigenvectors are oriented so that a white image projects positively.
    """

    def __init__(self, B: Tensor, logits: Tensor, dataset=None, img_size=(28, 28), Embed: Tensor | None = None):  # noqa: N803
        if B.ndim != 3 or B.shape[-1] != B.shape[-2]:
            raise ValueError(f"B must be square interaction matrices [K, d, d], got shape {tuple(B.shape)}")
        if Embed is not None and Embed.shape[0] != B.shape[-1]:
            raise ValueError(f"Embed must be [d, d_input] with d = {B.shape[-1]}, got shape {tuple(Embed.shape)}")
        if logits.shape[0] != B.shape[0]:
            raise ValueError(f"logits must have one row per matrix ({B.shape[0]}), got shape {tuple(logits.shape)}")
        self.B, self.logits, self.dataset, self.img_size, self.Embed = B, logits, dataset, img_size, Embed

    def eigen(self, i: int) -> tuple[Float[Tensor, " comp"], Float[Tensor, "comp inp"]]:
        """Eigenvalues (ascending) and oriented pixel-space eigenvectors (rows) of `B[i]`."""
        values, vectors = torch.linalg.eigh(symmetrize_bilinear_tensor(self.B[i].to(torch.float64)))
        pixels = vectors.T if self.Embed is None else vectors.T @ self.Embed.to(torch.float64)
        white = torch.ones(pixels.shape[1], dtype=torch.float64)
        return values, orient_eigenvectors(pixels.T.unsqueeze(0), white)[0].T

    def plot_component(self, i: int, topk_eigs: int = 4, sort: str = "eigs", vmax: float | None = None,
                       classes=range(10), suptitle: str | None = None, n_images: int = 3,
                       save_as: str | None = None):
        """Top positive (upper row) and negative (lower row) eigenvectors of `B[i]`.

        Beside each: its eigenvalue, mean activation `lambda (v . x)^2` over the data and the
        `n_images` inputs it activates most; on the left the spectrum and the logits.
        `sort="eigs"` ranks by eigenvalue, "activations" by mean activation.
        """
        if sort not in ("eigs", "activations"):
            raise ValueError(f"unknown sort {sort!r}: use 'eigs' or 'activations'")
        values, pixels = self.eigen(i)
        data = None if self.dataset is None else _as_image_matrix(self.dataset).to(torch.float64)
        acts = None if data is None else values * (data @ pixels.T) ** 2  # [N, comp]
        score = values if sort == "eigs" or acts is None else acts.mean(0)
        order = score.argsort()
        chosen = {"positive": order.flip(0)[:topk_eigs], "negative": order[:topk_eigs]}
        vmax = vmax if vmax is not None else 0.9 * float(pixels[torch.cat(list(chosen.values()))].abs().max())

        n_rows = n_images if data is not None else 1  # grid rows per sign: one per thumbnail
        width = [1.6] + ([1.0, 0.34] if data is not None else [1.0]) * topk_eigs
        fig = plt.figure(figsize=(2.0 + 2.0 * topk_eigs, 5.2), layout="constrained")
        grid = fig.add_gridspec(2 * n_rows, len(width), width_ratios=width)
        self._spectrum_panel(fig.add_subplot(grid[:n_rows, 0]), values, chosen)
        self._logit_panel(fig.add_subplot(grid[n_rows:, 0]), i, classes)
        step = 2 if data is not None else 1
        for row, (kind, indices) in enumerate(chosen.items()):
            rows = slice(row * n_rows, (row + 1) * n_rows)
            for j, comp in enumerate(indices.tolist()):
                ax = fig.add_subplot(grid[rows, 1 + step * j])
                title = f"λ={float(values[comp]):+.2f}"
                if acts is not None:
                    title += f"\nmean act {float(acts[:, comp].mean()):+.2f}"
                im = _show_eigenvector(ax, pixels[comp], title, vmax=vmax, img_size=self.img_size)
                if j == 0:
                    ax.set_ylabel(kind, fontsize=10)
                if data is not None:
                    strongest = acts[:, comp].abs().argsort(descending=True)[:n_images].tolist()
                    for t, idx in enumerate(strongest):
                        thumb = fig.add_subplot(grid[row * n_rows + t, 2 + step * j])
                        thumb.imshow(data[idx].reshape(*self.img_size).numpy(), cmap="Greys", vmin=0, vmax=1)
                        thumb.set_xticks([])
                        thumb.set_yticks([])
        fig.colorbar(im, ax=fig.axes, shrink=0.5, ticks=[-vmax, 0, vmax], format="%.2f", label="pixel weight")
        if suptitle:
            fig.suptitle(suptitle, fontsize=12)
        return _maybe_save(fig, save_as)

    @staticmethod
    def _spectrum_panel(ax, values, chosen):
        lam = to_numpy(values)
        ax.plot(lam, ".", color="0.6", markersize=3)
        for kind, color in (("positive", "tab:red"), ("negative", "tab:blue")):
            idx = chosen[kind].numpy()
            ax.plot(idx, lam[idx], "o", color=color, markersize=4)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.set_title("spectrum", fontsize=10)
        ax.set_xlabel("rank (ascending)", fontsize=8)

    def _logit_panel(self, ax, i, classes):
        classes = list(classes)[: self.logits.shape[1]]
        ax.bar(range(len(classes)), to_numpy(self.logits[i][: len(classes)]), color="0.4")
        ax.set_xticks(range(len(classes)), [str(c) for c in classes], fontsize=8)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.set_title("logits it writes", fontsize=10)


def plot_prediction(artifacts, image: Tensor, n_classes: int = 3, k: int = 4, true_label: str | None = None,
                    save_as: str | None = None):
    """One prediction explained: the top classes' logits split into eigen-component contributions.

    For each of the `n_classes` highest logits, a bar per component for its `k` largest
    contributions `lambda_i (v_i . h(x))^2`, one bar for the rest, and the contributing
    eigenvectors as images.
    """
    contrib = artifacts.contributions(image.reshape(1, -1))[0]  # [C, comp]
    logits = contrib.sum(-1)
    top_classes = logits.argsort(descending=True)[:n_classes].tolist()
    names = _class_names(artifacts, range(artifacts.num_outputs))
    fig = plt.figure(figsize=(3.0 + 1.5 * k + 3.2, 1.9 * n_classes), layout="constrained")
    grid = fig.add_gridspec(n_classes, 2 + k, width_ratios=[1.3, 2.4] + [1] * k)
    ax_img = fig.add_subplot(grid[:, 0])
    ax_img.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="Greys", vmin=0, vmax=1)
    ax_img.set_axis_off()
    ax_img.set_title("input" + (f" (label {true_label})" if true_label is not None else ""), fontsize=10)
    for row, c in enumerate(top_classes):
        leading = contrib[c].abs().argsort(descending=True)[:k]
        rest = float(contrib[c].sum() - contrib[c, leading].sum())
        values = [float(contrib[c, i]) for i in leading] + [rest]
        labels = [rank_label(int(i), artifacts.eigenvalues.shape[1]) for i in leading] + ["rest"]
        ax = fig.add_subplot(grid[row, 1])
        ax.barh(range(len(values))[::-1], values, color=["tab:red" if v > 0 else "tab:blue" for v in values])
        ax.set_yticks(range(len(values))[::-1], labels, fontsize=8)
        ax.axvline(0, color="k", linewidth=0.5)
        ax.set_title(f"class {names[c]}: logit {float(logits[c]):.2f}", fontsize=10)
        for j, i in enumerate(leading.tolist()):
            if artifacts.eigenvectors_input is not None:
                _show_eigenvector(fig.add_subplot(grid[row, 2 + j]), artifacts.eigenvectors_input[c, i],
                                  f"{labels[j]}: λ={float(artifacts.eigenvalues[c, i]):+.2f}\n"
                                  f"adds {float(contrib[c, i]):+.2f}")
    fig.suptitle("logit = Σ λ_i (v_i · Ex)²: the largest terms of the top classes "
                 "(+1: the most positive eigenvector, -1: the most negative)", fontsize=10)
    return _maybe_save(fig, save_as)


def eigenvector_explorer(artifacts, images: Tensor, k: int = 3, n_images: int = 3, save_as: str | None = None):
    """An interactive plotly figure: pick a class (menu) and an eigenvector rank (slider).

    Shows the eigenvector as an image, the class's spectrum with the chosen eigenvalue
    marked, and the `n_images` images (rows of `images`) with the largest
    `|lambda (v . x)^2|`. Covers the k most positive and k most negative eigenvectors.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if artifacts.eigenvectors_input is None:
        raise ValueError("the explorer needs pixel-space eigenvectors (a one-layer decomposition)")
    names = _class_names(artifacts, range(artifacts.num_outputs))
    n_classes, width = artifacts.eigenvalues.shape
    flat = images.reshape(len(images), -1).to(artifacts.eigenvectors_input.dtype)
    ranks = [-(j + 1) for j in range(k)] + list(range(k))  # most positive first, then most negative

    def picture(t: Tensor, scale: float) -> list:
        """Whole numbers (percent of `scale`) keep the page small; heatmaps draw row 0 at the bottom."""
        return np.rint(100 * to_numpy(t.reshape(28, 28)) / scale).astype(int)[::-1].tolist()

    def step_args(c: int, rank: int) -> list:
        """One restyle over every trace (eigenvector, C spectra, top images) and a new title."""
        vec, lam = artifacts.eigenvectors_input[c, rank], float(artifacts.eigenvalues[c, rank])
        top = (lam * (flat @ vec) ** 2).abs().argsort(descending=True)[:n_images].tolist()
        spectra = [c == other for other in range(n_classes)]
        restyle = {
            "z": [picture(vec, float(vec.abs().max()))] + [None] * n_classes + [picture(flat[i], 1.0) for i in top],
            "visible": [True] + spectra + [True] * n_images,
            "selectedpoints": [None] + [[rank % width] if shown else None for shown in spectra] + [None] * n_images,
        }
        title = f"class {names[c]}, eigenvector {rank_label(rank, width)}: λ = {lam:+.3f}"
        return [restyle, {"title.text": title}]

    fig = make_subplots(rows=1, cols=2 + n_images, column_widths=[0.3, 0.34] + [0.12] * n_images,
                        subplot_titles=["eigenvector (red > 0 > blue)", "spectrum"] +
                        [f"top input {j + 1}" for j in range(n_images)])
    fig.add_trace(go.Heatmap(colorscale="RdBu", reversescale=True, showscale=False, zmin=-100, zmax=100,
                             hovertemplate="%{z}% of the largest pixel<extra></extra>"), row=1, col=1)
    for c in range(n_classes):
        fig.add_trace(go.Scatter(y=np.round(to_numpy(artifacts.eigenvalues[c]), 4).tolist(), mode="markers",
                                 showlegend=False, name=f"class {names[c]}", marker={"size": 4, "color": "gray"},
                                 selected={"marker": {"size": 11, "color": "crimson"}}), row=1, col=2)
    for j in range(n_images):
        fig.add_trace(go.Heatmap(colorscale="Greys", showscale=False, zmin=0, zmax=100, hoverinfo="skip"),
                      row=1, col=3 + j)
    steps, buttons = [], []
    for c in range(n_classes):
        for rank in ranks:
            label = f"{names[c]} {rank_label(rank, width)}"
            steps.append({"method": "update", "label": label, "args": step_args(c, rank)})
        first = steps[-len(ranks)]["args"]
        buttons.append({"method": "update", "label": f"class {names[c]}",
                        "args": [first[0], {**first[1], "sliders[0].active": len(steps) - len(ranks)}]})
    initial = steps[0]["args"]
    for index, trace in enumerate(fig.data):  # start in the state of the first step
        for key, values in initial[0].items():
            if values[index] is not None:
                trace[key] = values[index]
    fig.update_layout(
        sliders=[{"steps": steps, "active": 0, "currentvalue": {"prefix": "class, eigenvector: "}, "pad": {"t": 20}}],
        updatemenus=[{"buttons": buttons, "x": 0, "y": 1.3, "xanchor": "left", "yanchor": "top"}],
        title={"text": initial[1]["title.text"], "x": 0.2}, height=400, width=1100, margin={"t": 100},
    )
    for col in [1] + [3 + j for j in range(n_images)]:
        fig.update_xaxes(showticklabels=False, row=1, col=col)
        fig.update_yaxes(showticklabels=False, scaleanchor=f"x{'' if col == 1 else col}", row=1, col=col)
    fig.update_xaxes(title_text="rank (ascending)", row=1, col=2)
    return _maybe_save(fig, save_as)


# --- low rank, regularisation, adversarial masks ---------------------------------------------------


def plot_truncation_curves(ks, curves: dict, full_accuracy: float, xlabel: str = "components kept per class (k)",
                           title: str = "", save_as: str | None = None):
    """Accuracy against the number of components kept, one line per rule, the full model dashed."""
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    for label, accuracies in curves.items():
        ax.plot(list(ks), accuracies, "o-", markersize=3, label=label)
    ax.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label=f"full model ({full_accuracy:.3f})")
    ax.set(xlabel=xlabel, ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _maybe_save(fig, save_as)


def plot_hosvd(singular_values: Tensor, ns, accuracies, full_accuracy: float, save_as: str | None = None):
    """The class tensor's singular values, and accuracy against the number of HOSVD components kept."""
    fig, (ax_s, ax_a) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    s = to_numpy(singular_values)
    ax_s.bar(range(1, len(s) + 1), s, color="0.4")
    ax_s.set(xlabel="component", ylabel="singular value", title="HOSVD of the class tensor")
    ax_a.plot(list(ns), accuracies, "o-")
    ax_a.axhline(full_accuracy, color="k", linestyle="--", linewidth=1, label="full model")
    ax_a.set(xlabel="HOSVD components kept", ylabel="test accuracy", title="accuracy")
    ax_a.grid(alpha=0.3)
    ax_a.legend()
    return _maybe_save(fig, save_as)


def plot_metric_grid(metrics: dict, row_values, col_values, row_name: str, col_name: str,
                     save_as: str | None = None):
    """One annotated heatmap per metric over a grid of two hyperparameters (`metrics[name]` is `[rows, cols]`)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.0), layout="constrained", squeeze=False)
    for ax, (name, values) in zip(axes[0], metrics.items(), strict=True):
        values = np.asarray(values, dtype=float)
        ax.imshow(values, cmap="viridis", aspect="auto")
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", color="w" if v < values.mean() else "k", fontsize=9)
        ax.set_xticks(range(len(col_values)), [str(v) for v in col_values])
        ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
        ax.set(xlabel=col_name, ylabel=row_name, title=name)
    return _maybe_save(fig, save_as)


def plot_eigenvector_table(images: Tensor, row_labels, col_labels, titles=None, save_as: str | None = None):
    """Pixel-space eigenvectors `[rows, cols, d_input]` in a table, each on its own symmetric colour scale."""
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False, layout="constrained")
    for r in range(rows):
        for c in range(cols):
            _show_eigenvector(axes[r, c], images[r, c], titles[r][c] if titles is not None else "")
        axes[r, 0].set_ylabel(str(row_labels[r]), fontsize=10)
    for c in range(cols):
        axes[-1, c].set_xlabel(str(col_labels[c]), fontsize=10)
    return _maybe_save(fig, save_as)


def plot_attack_curves(strengths, curves: dict, ylabel: str, title: str = "", save_as: str | None = None):
    """Mean over target classes of a rate against mask strength, one line per mask kind."""
    fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    for label, values in curves.items():
        ax.plot(list(strengths), to_numpy(torch.as_tensor(values)), "o-", markersize=3, label=label)
    ax.set(xlabel="mask strength (pixel-space L2 norm)", ylabel=ylabel, title=title, ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    return _maybe_save(fig, save_as)
