"""A training run as one unit: its folder, its files, and how it is committed.

Every run lives in `data/runs/<run name>/`:

    metrics.csv    one row per epoch
    best.pt        the checkpoint with the best validation accuracy
    latest.pt      the checkpoint of the last epoch
    summary.json   what the run reached, written last

Training writes into a hidden staging folder beside it and renames that folder into place
only when everything, the summary included, is written. So a run folder is either
complete or absent: an interrupted retrain never loses the last good run, and never pairs
one run's checkpoint with another's summary. Staging folders of dead processes are
removed by the next run that starts.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ExperimentConfig
from ..paths import display_path, pid_alive, runs_dir

STAGING_SUFFIX = ".staging"
RETIRED_SUFFIX = ".retired"


class RunError(RuntimeError):
    """A run folder that cannot be used as it is: the message says why and what to do."""




RUN_FILES = {"metrics_path": "metrics.csv", "best_checkpoint_path": "best.pt", "latest_checkpoint_path": "latest.pt",
             "summary_path": "summary.json"}


@dataclass(frozen=True)
class RunLayout:
    """Where the files of one run live."""

    run_dir: Path
    metrics_path: Path = field(init=False)  # metrics.csv: one row per logged epoch
    best_checkpoint_path: Path = field(init=False)  # best.pt: best validation accuracy (the last epoch without one)
    latest_checkpoint_path: Path = field(init=False)  # latest.pt: the last epoch
    summary_path: Path = field(init=False)  # summary.json: what the run reached, written last

    @classmethod
    def for_config(cls, config: ExperimentConfig) -> RunLayout:
        return cls(runs_dir(config.dataset.root) / config.run_name)

    def __post_init__(self):
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        for name, file in RUN_FILES.items():
            object.__setattr__(self, name, self.run_dir / file)

    def is_complete(self) -> bool:
        return self.summary_path.is_file() and self.best_checkpoint_path.is_file()

    def read_summary(self) -> dict:
        try:
            summary = json.loads(self.summary_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"{display_path(self.summary_path)} is unreadable ({exc}); delete "
                           f"{display_path(self.run_dir)}/ or pass retrain=True") from None
        if not isinstance(summary, dict) or summary.get("run_name") != self.run_dir.name:
            raise RunError(f"{display_path(self.summary_path)} does not describe run {self.run_dir.name}; delete "
                           f"{display_path(self.run_dir)}/ or pass retrain=True")
        return summary


def _owned_by_dead_process(path: Path) -> bool:
    parts = path.name.split(".")  # ["", run name, pid, random, "staging" or "retired"]
    return len(parts) == 5 and parts[2].isdigit() and not pid_alive(int(parts[2]))


def recover(final: RunLayout) -> None:
    """Put back a complete run retired by a commit that died before its new run moved in."""
    if final.run_dir.exists():
        return
    for retired in sorted(final.run_dir.parent.glob(f".{final.run_dir.name}.*{RETIRED_SUFFIX}")):
        if RunLayout(retired).summary_path.is_file():
            try:
                os.rename(retired, final.run_dir)
                return
            except OSError:  # another process got there first
                return


def start_staging(final: RunLayout) -> RunLayout:
    """A fresh staging folder for `final`, after removing the leftovers of dead processes."""
    parent = final.run_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    for leftover in parent.glob(f".{final.run_dir.name}.*"):
        if _owned_by_dead_process(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
    staging = parent / f".{final.run_dir.name}.{os.getpid()}.{os.urandom(4).hex()}{STAGING_SUFFIX}"
    staging.mkdir()
    return RunLayout(staging)


def commit(staging: RunLayout, final: RunLayout, attempts: int = 20) -> RunLayout:
    """Move a finished staging folder into place, retiring any older run (last writer wins)."""
    for _ in range(attempts):
        retired = final.run_dir.parent / f".{final.run_dir.name}.{os.getpid()}.{os.urandom(4).hex()}{RETIRED_SUFFIX}"
        try:
            os.rename(final.run_dir, retired)
        except FileNotFoundError:
            retired = None
        try:
            os.rename(staging.run_dir, final.run_dir)
        except OSError:  # another writer moved its run in between our two renames: go round again
            if retired is not None:
                try:  # nothing moved in: put the old run back rather than lose it
                    os.rename(retired, final.run_dir)
                except OSError:  # another writer's complete run is in place: the old one can go
                    shutil.rmtree(retired, ignore_errors=True)
            continue
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
        return final
    raise RunError(f"could not move {display_path(staging.run_dir)} into place after {attempts} attempts")


def discard(staging: RunLayout) -> None:
    """Remove a staging folder whose run failed: nothing of it is kept."""
    shutil.rmtree(staging.run_dir, ignore_errors=True)
