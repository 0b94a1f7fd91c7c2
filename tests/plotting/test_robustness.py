"""A feature on clean against perturbed inputs."""

import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P


def test_clean_against_noisy_one_panel_per_model():
    clean = torch.randn(50, generator=torch.Generator().manual_seed(0))
    noisy = torch.randn(50, generator=torch.Generator().manual_seed(1))
    panels = {"m1": (clean, clean, clean > 0), "m2": (clean, noisy, clean > 1)}
    fig = P.plot_clean_vs_noisy(panels, save_as="noisy")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "m1\ncorrelation 1.000"
    correlation = float(torch.corrcoef(torch.stack([clean, noisy]).double())[0, 1])
    assert fig.axes[1].get_title() == f"m2\ncorrelation {correlation:.3f}"
    others, own = fig.axes[1].collections[:2]
    assert len(own.get_offsets()) == int((clean > 1).sum()) and len(others.get_offsets()) == int((clean <= 1).sum())
    assert (figures_dir() / "noisy.png").stat().st_size > 1000
