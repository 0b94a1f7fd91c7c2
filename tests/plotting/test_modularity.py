"""Figures of notebook 08 are returned and saved."""

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


def test_modularity_figures_are_returned_and_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", str(tmp_path))
    table = pd.DataFrame({"overall": [0.9, 0.5], "a": [1.0, 0.4], "b": [0.8, 0.6]},
                         index=["all clusters", "cluster 0 off"])
    figures = [
        P.plot_cluster_matrices({"W": torch.randn(8, 8), "V": torch.randn(8, 8)}, n_clusters=2, save_as="m_weights"),
        P.plot_cluster_matrices({"Q": torch.randn(8, 8)}, n_clusters=4, signed=True, save_as="m_signed"),
        P.plot_classwise_ablation(table, ["cluster 0 off"], title="t", save_as="m_ablation"),
        P.plot_distinct_classes({"plain": torch.tensor([1, 2, 3]), "clustered": torch.tensor([2, 2, 5])}, k=5,
                                save_as="m_distinct"),
        P.plot_ablated_spectra({"all": torch.randn(8), "off": torch.randn(8)}, title="t", save_as="m_spectra"),
    ]
    assert all(isinstance(fig, plt.Figure) for fig in figures)
    for name in ("weights", "signed", "ablation", "distinct", "spectra"):
        assert (figures_dir() / f"m_{name}.png").stat().st_size > 1000
