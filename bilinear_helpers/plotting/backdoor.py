"""Figures of notebook 11: the weights-only scan of each model, class by class."""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..analysis.backdoor import ScanReport
from .base import check_panels, maybe_save, to_numpy


def plot_scan_scores(reports: dict, class_names, save_as: str | None = None):
    """One panel per model: each class's concentration (bars) against the scan's threshold (dashed),
    and its share on rarely inked pixels (dots); `reports[name]` is a `ScanReport`."""
    check_panels("reports", reports)
    fig, axes = plt.subplots(1, len(reports), figsize=(3.6 * len(reports), 3.2), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (name, report) in zip(axes[0], reports.items(), strict=True):
        if not isinstance(report, ScanReport):
            raise ValueError(f"reports[{name!r}] must be what trigger_scan returns, got {type(report).__name__}")
        if len(class_names) != len(report.concentration):
            raise ValueError(f"class_names must name all {len(report.concentration)} classes, got {len(class_names)}")
        positions = range(len(class_names))
        colours = ["tab:red" if c in report.flagged else "tab:blue" for c in positions]
        ax.bar(positions, to_numpy(report.concentration), color=colours, label="concentration")
        ax.plot(positions, to_numpy(report.rare_share), "ko", markersize=3, label="share on rarely inked pixels")
        ax.axhline(report.threshold, color="k", linestyle="--", linewidth=1, label="threshold")
        ax.set_xticks(list(positions), list(class_names))
        ax.set(title=name, xlabel="class", ylim=(0, 1))
    axes[0][0].set_ylabel("largest over the top eigenvectors")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    return maybe_save(fig, save_as)
