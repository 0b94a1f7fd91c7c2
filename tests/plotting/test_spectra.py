"""Eigenvalue spectra and interaction matrices."""

import matplotlib.pyplot as plt
import pytest
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P

from .conftest import image_data


def test_draw_spectrum_marks_the_chosen_components():
    fig, ax = plt.subplots()
    values = torch.tensor([-2.0, -1.0, 0.5, 3.0])
    P.draw_spectrum(ax, values, torch.tensor([3]), torch.tensor([0, 1]), title="s")
    dots, positive, negative = ax.get_lines()[:3]
    assert dots.get_ydata().tolist() == [-2.0, -1.0, 0.5, 3.0]
    assert positive.get_ydata().tolist() == [3.0] and positive.get_color() == "tab:red"
    assert negative.get_xdata().tolist() == [0, 1] and negative.get_color() == "tab:blue"
    assert ax.get_title() == "s"


def test_spectra_one_panel_per_class(artifacts):
    fig = P.plot_spectra(artifacts, n_marked=2, ncols=3, save_as="spectra")
    assert len(fig.axes) == 6 and not fig.axes[5].axison  # 4 classes on a 2 x 3 grid, the spare cells hidden
    ranks = artifacts.effective_rank()
    assert fig.axes[1].get_title() == f"class b  (eff. rank {float(ranks[1]):.1f})"
    torch.testing.assert_close(torch.as_tensor(fig.axes[1].get_lines()[0].get_ydata()), artifacts.eigenvalues[1])
    assert fig.axes[1].get_lines()[1].get_xdata().tolist() == [10, 11]  # the two most positive marked
    assert (figures_dir() / "spectra.png").stat().st_size > 1000


def test_interaction_matrix_and_its_eigenbasis(artifacts):
    q, v = artifacts.interactions[1], artifacts.eigenvectors[1]  # eigenvectors as rows
    raw = P.plot_interaction_matrix(q, title="raw")
    assert len(raw.axes) == 2 and raw.get_suptitle() == "raw"  # one panel and its colour bar
    torch.testing.assert_close(image_data(raw), q)
    matrix = P.plot_interaction_matrix(q, v, n_eigen_shown=5, save_as="matrix")
    titles = [ax.get_title() for ax in matrix.axes if ax.get_title()]
    assert titles == ["in the hidden basis (12 x 12)", "in its eigenbasis: the top 5 by |λ|"]
    rotated = image_data(matrix, 1)
    assert (rotated - torch.diag(torch.diag(rotated))).abs().max() < 1e-12  # V Q V^T is diagonal
    largest = artifacts.eigenvalues[1].abs().sort(descending=True).values[:5]
    torch.testing.assert_close(rotated.diagonal().abs(), largest)
    assert len(P.plot_interaction_matrix(q, v, hidden_basis=False).axes) == 2  # the eigenbasis and its colour bar
    with pytest.raises(ValueError, match="nothing to draw: pass eigenvectors, or keep hidden_basis=True"):
        P.plot_interaction_matrix(q, hidden_basis=False)
    assert (figures_dir() / "matrix.png").stat().st_size > 1000


def test_the_eigenbasis_panel_needs_rows_not_columns(artifacts):
    q, v = artifacts.interactions[2], artifacts.eigenvectors[2]
    columns = P.plot_interaction_matrix(q, v.T, hidden_basis=False)  # columns: not the eigenbasis
    off_diagonal = image_data(columns) - torch.diag(torch.diag(image_data(columns)))
    assert off_diagonal.abs().max() > 1e-6
