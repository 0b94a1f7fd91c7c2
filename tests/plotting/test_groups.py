"""Figures of notebook 07 are returned and saved."""

import matplotlib
import pandas as pd
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bilinear_helpers import figures_dir  # noqa: E402
from bilinear_helpers import plotting as P  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_group_figures_are_returned_and_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", str(tmp_path))
    history = pd.DataFrame({"step": [1, 2], "train_loss": [1.0, 0.5], "train_acc": [0.1, 1.0],
                            "test_loss": [2.0, 1.0], "test_acc": [0.0, 0.5]})
    figures = {
        "training": P.plot_group_training({"bilinear": history, "ReLU": history}, title="t", save_as="t_training"),
        "similarity": P.plot_logit_similarity({"a": {"x": 0.5, "y": 0.0}, "b": {"x": 0.2, "y": 0.3}},
                                              threshold=0.1, save_as="t_similarity"),
        "blocks": P.plot_block_vs_character({"one": torch.randn(5, 5), "two": torch.zeros(5, 5)}, save_as="t_blocks"),
        "spectra": P.plot_block_spectra({"G": torch.rand(3, 5).sort(descending=True).values}, cutoffs={"G": 2},
                                        cutoff_label="rank", save_as="t_spectra"),
        "fractions": P.plot_irrep_fractions({"G": torch.rand(3, 4)}, ["a", "b", "c", "d"], save_as="t_fractions"),
    }
    assert all(isinstance(fig, plt.Figure) for fig in figures.values())
    folder = figures_dir()
    for name in ("training", "similarity", "blocks", "spectra", "fractions"):
        assert (folder / f"t_{name}.png").stat().st_size > 1000
