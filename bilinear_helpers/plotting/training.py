"""Training curves from a run's metrics."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .base import maybe_save


def plot_training_curves(metrics: pd.DataFrame | str | os.PathLike, title: str = "", save_as: str | None = None):
    """Loss, accuracy and learning rate per epoch from a run's `metrics.csv` (path or DataFrame)."""
    if not isinstance(metrics, pd.DataFrame) and not Path(metrics).is_file():
        raise FileNotFoundError(f"no metrics file at {metrics}: pass run.metrics() or run.metrics_path")
    frame = metrics if isinstance(metrics, pd.DataFrame) else pd.read_csv(metrics)
    missing = [c for c in ("epoch", "train_loss", "train_acc") if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(f"metrics must be a run's metrics.csv: it lacks {missing or 'any row'}")
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
    return maybe_save(fig, save_as)
