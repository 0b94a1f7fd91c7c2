"""Training curves from a run's metrics."""

import pandas as pd

from bilinear_helpers import figures_dir
from bilinear_helpers import plotting as P


def metrics() -> pd.DataFrame:
    return pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [2.0, 1.0, 0.5], "train_acc": [0.3, 0.6, 0.9],
                         "val_loss": [2.1, 1.2, 0.8], "val_acc": [0.2, 0.5, 0.8], "lr": [1e-3, 5e-4, 0.0]})


def test_loss_accuracy_and_schedule_per_epoch(tmp_path):
    fig = P.plot_training_curves(metrics(), title="run", save_as="curves")
    ax_loss, ax_acc, ax_lr = fig.axes
    assert fig.get_suptitle() == "run" and [ax.get_title() for ax in fig.axes] == ["cross-entropy", "accuracy",
                                                                                   "schedule"]
    train, val = ax_acc.get_lines()
    assert train.get_ydata().tolist() == [0.3, 0.6, 0.9] and val.get_ydata().tolist() == [0.2, 0.5, 0.8]
    assert ax_loss.get_lines()[1].get_ydata().tolist() == [2.1, 1.2, 0.8]
    assert ax_lr.get_lines()[0].get_ydata().tolist() == [1e-3, 5e-4, 0.0]
    assert (figures_dir() / "curves.png").stat().st_size > 1000
    metrics().to_csv(tmp_path / "metrics.csv", index=False)
    from_path = P.plot_training_curves(tmp_path / "metrics.csv")
    assert from_path.axes[2].get_lines()[0].get_ydata().tolist() == [1e-3, 5e-4, 0.0]
