"""Figures of notebook 07: what each draws, and that it is saved."""

import pandas as pd
import pytest
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def history(scale: float) -> pd.DataFrame:
    return pd.DataFrame({"epoch": [1, 25, 50], "train_loss": [1.0, 0.5, 0.1], "train_acc": [0.1, 0.8, 1.0],
                         "test_loss": [2.0, 1.5, 1.0], "test_acc": [0.0, 0.2, scale]})


def test_group_training_draws_train_and_held_out_curves_per_run():
    fig = P.plot_group_training({"bilinear": history(0.9), "ReLU": history(0.4)}, title="t", save_as="g_training")
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_yscale() == "log" and fig.get_suptitle() == "t"
    assert [line.get_label() for line in ax_acc.get_lines()] == ["bilinear, train", "bilinear, test", "ReLU, train",
                                                                 "ReLU, test"]
    relu_test = ax_acc.get_lines()[3]
    assert relu_test.get_xdata().tolist() == [1, 25, 50] and relu_test.get_ydata().tolist() == [0.0, 0.2, 0.4]
    assert relu_test.get_linestyle() == "--" and ax_acc.get_lines()[2].get_linestyle() == "-"
    assert ax_loss.get_lines()[1].get_ydata().tolist() == [2.0, 1.5, 1.0]
    assert (figures_dir() / "g_training.png").stat().st_size > 1000


def test_logit_similarity_bars_per_model_and_irrep():
    similarities = {"a": {"x": 0.5, "y": 0.0, "z": -0.1}, "b": {"x": 0.2, "y": 0.3, "z": 0.9}}
    fig = P.plot_logit_similarity(similarities, threshold=0.1, save_as="g_similarity")
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [0.5, 0.0, -0.1, 0.2, 0.3, 0.9]  # model a's bars, then model b's
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    threshold = [line for line in ax.get_lines() if line.get_label() == "key threshold 0.1"]
    assert len(threshold) == 1 and list(threshold[0].get_ydata()) == [0.1, 0.1]
    assert ax.get_title() == "which irreps the logits follow"
    assert (figures_dir() / "g_similarity.png").stat().st_size > 1000


def test_block_beside_character_each_on_its_own_symmetric_scale():
    block = torch.randn(5, 5, generator=torch.Generator().manual_seed(0))
    fig = P.plot_block_vs_character({"block": block, "character": 3 * block, "zero": torch.zeros(5, 5)},
                                    save_as="g_blocks")
    assert [ax.get_title() for ax in fig.axes] == ["block", "character", "zero"]
    torch.testing.assert_close(image_data(fig, 1), 3 * block.double())
    bound = float(block.abs().max())
    assert fig.axes[0].images[0].get_clim() == pytest.approx((-bound, bound))
    assert fig.axes[1].images[0].get_clim() == pytest.approx((-3 * bound, 3 * bound))
    assert fig.axes[2].images[0].get_clim() == (-1.0, 1.0)  # an all-zero block still gets a scale
    assert (figures_dir() / "g_blocks.png").stat().st_size > 1000


def test_block_spectra_are_normalised_with_a_cutoff():
    spectra = torch.tensor([[4.0, 2.0, 1.0], [10.0, 1.0, 0.1]])
    fig = P.plot_block_spectra({"G": spectra, "H": spectra}, cutoffs={"G": 2}, cutoff_label="rank", title="s",
                               save_as="g_spectra")
    assert len(fig.axes) == 2 and fig.get_suptitle() == "s"
    curves = [line for line in fig.axes[0].get_lines() if line.get_label() != "rank 2"]
    assert [line.get_ydata().tolist() for line in curves] == [[1.0, 0.5, 0.25], pytest.approx([1.0, 0.1, 0.01])]
    cutoff = [line for line in fig.axes[0].get_lines() if line.get_label() == "rank 2"]
    assert len(cutoff) == 1 and list(cutoff[0].get_xdata()) == [2.5, 2.5]
    assert len(fig.axes[1].get_lines()) == 2  # no cutoff for "H"
    assert (figures_dir() / "g_spectra.png").stat().st_size > 1000


def test_irrep_fractions_heatmap():
    fractions = torch.rand(3, 4, generator=torch.Generator().manual_seed(1))
    fig = P.plot_irrep_fractions({"G": fractions, "H": 1 - fractions}, ["a", "b", "c", "d"], save_as="g_fractions")
    assert len(fig.axes) == 3  # two panels and one colour bar
    torch.testing.assert_close(image_data(fig, 1), (1 - fractions).double())
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c", "d"]
    assert fig.axes[0].images[0].get_clim() == (0, 1)
    assert (figures_dir() / "g_fractions.png").stat().st_size > 1000


def test_nothing_is_saved_without_a_name():
    P.plot_logit_similarity({"a": {"x": 0.5}})
    assert list(figures_dir().iterdir()) == []
