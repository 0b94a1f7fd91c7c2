"""One prediction explained: each top class's logit split into its largest eigen-components."""

import pytest
import torch

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P


def test_the_top_classes_as_their_largest_terms_plus_the_rest(artifacts):
    image = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))
    h = torch.randn(1, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    contributions = artifacts.contributions(h)[0]
    fig = P.plot_prediction(artifacts, image, contributions, n_classes=2, k=3, true_label="b", save_as="prediction")
    logits = contributions.sum(-1)
    top = logits.argsort(descending=True)[:2].tolist()
    bar_axes = [ax for ax in fig.axes if ax.get_title().startswith("class ")]
    assert [ax.get_title() for ax in bar_axes] == [f"class {'abcd'[c]}: logit {float(logits[c]):.2f}" for c in top]
    first = top[0]
    leading = contributions[first].abs().argsort(descending=True)[:3]
    widths = [bar.get_width() for bar in bar_axes[0].patches]
    expected = [*contributions[first, leading].tolist(), float(contributions[first].sum() -
                                                             contributions[first, leading].sum())]
    assert widths == pytest.approx(expected)  # k terms, then the rest: they sum to the logit
    assert sum(widths) == pytest.approx(float(logits[first]))
    labels = [t.get_text() for t in bar_axes[0].get_yticklabels()]
    assert labels[-1] == "rest" and set(labels[:-1]) == {P.rank_label(int(i), 12) for i in leading}
    assert fig.axes[0].get_title() == "input (label b)"
    assert len(fig.axes) == 1 + 2 * (1 + 3)  # the input, then per class its bars and 3 eigenvectors
    assert (figures_dir() / "prediction.png").stat().st_size > 1000
