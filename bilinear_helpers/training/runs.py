"""Train a config into a run folder, or load the run it already has: `load_or_train`.

`train_run(config)` trains with AdamW, keeps the checkpoint with the best validation
accuracy, scores the test set there, and commits the run folder whole (see `run_folder`).
`load_or_train` returns that run if it is complete, else trains it, so every notebook
runs alone and a recipe changed in one notebook is found by the next. Image datasets and
group tables train the same way. Both return a `TrainedRun`.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from ..catalog import SOURCE_OFFLINE_SAMPLE, is_group_dataset
from ..config import ExperimentConfig
from ..data import build_image_dataloaders, dataset_files_present
from ..groups import group_dataloaders
from ..models import build_image_classifier
from ..paths import atomic_write_text, display_path
from ..presets import accuracy_bound, make_config
from ..runtime import resolve_device, set_seed
from .checkpoints import CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint
from .clusterability import clusterability_penalty
from .loop import METRIC_COLUMNS, add_layer_noise, build_scheduler, evaluate, train_one_epoch, weight_decay_factor
from .run_folder import RunError, RunLayout, commit, discard, recover, start_staging


class TrainingDivergedError(RuntimeError):
    """The loss or the weights stopped being finite: nothing was saved."""


@dataclass
class TrainedRun:
    """A trained model (eval mode), its checked config, its summary, and where its files are."""

    model: nn.Module
    config: ExperimentConfig
    summary: dict
    layout: RunLayout
    trained_now: bool

    @property
    def run_dir(self) -> Path:
        return self.layout.run_dir

    @property
    def metrics_path(self) -> Path:
        return self.layout.metrics_path

    @property
    def best_checkpoint_path(self) -> Path:
        """The checkpoint `model` holds."""
        return self.layout.best_checkpoint_path

    def metrics(self) -> pd.DataFrame:
        """`metrics.csv`: one row per logged epoch (for full-batch training, an epoch is one step)."""
        return pd.read_csv(self.metrics_path)

    @property
    def is_full_length(self) -> bool:
        """Whether the run took its recipe's full length (`train.full_steps`); a smoke run did not."""
        full = self.config.train.full_steps
        return full is None or self.summary["optimizer_steps"] >= full

    @property
    def accuracy_bound(self) -> float:
        """The test accuracy this run must reach: its data's bound, or 0.5 for a smoke run."""
        return accuracy_bound(self.config, self.summary["dataset_source"], self.is_full_length)

    def describe(self) -> str:
        """One line: trained or loaded, where, and the test accuracy on which data."""
        how = "trained" if self.trained_now else "loaded"
        return (f"{how} {display_path(self.run_dir)}: test accuracy {self.summary['test_acc']:.4f} "
                f"on {self.summary['dataset_description']}")


def is_full_length(*runs: TrainedRun) -> bool:
    """True when every run took its recipe's full length; otherwise prints the one-line smoke-run notice.

    Notebooks assert their calibrated checks only on full-length runs.
    """
    if not runs or not all(isinstance(run, TrainedRun) for run in runs):
        raise TypeError(f"is_full_length takes one or more TrainedRun (what load_or_train returns), got "
                        f"{[type(run).__name__ for run in runs]}")
    short = [run for run in runs if not run.is_full_length]
    if short:
        steps = sorted({(r.summary["optimizer_steps"], r.config.train.full_steps) for r in short})
        said = ", ".join(f"{done} of {full}" for done, full in steps)
        print(f"smoke run ({said} steps): checks relaxed to what a short run can meet")
    return not short


def dataloaders_for(config: ExperimentConfig):
    """The train / validation / test loaders of `config`'s dataset, an image dataset or a group table."""
    build = group_dataloaders if is_group_dataset(config.dataset.name) else build_image_dataloaders
    return build(config.dataset, config.train, seed=config.seed)


def _metrics_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _check_finite(model: nn.Module, loss: float, epoch: int, config: ExperimentConfig, weights: bool) -> None:
    """A TrainingDivergedError if the loss (or, with `weights`, any weight) is not finite."""
    if not math.isfinite(loss) or (weights and not all(torch.isfinite(p).all() for p in model.parameters())):
        raise TrainingDivergedError(
            f"training {config.run_name} diverged at epoch {epoch} (loss {loss}): nothing was saved. "
            f"Lower the learning rate (lr={config.train.lr}) or the weight decay and train again.")


SUMMARY_FIELDS = {  # what loading a run reads from summary.json, and the types it needs
    "test_acc": (int, float), "test_loss": (int, float), "optimizer_steps": int, "epochs": int,
    "dataset_source": str, "dataset_description": str, "config": dict, "weight_decay_factor": (int, float),
}


def check_summary(layout: RunLayout, summary: dict) -> dict:
    """`summary` if it holds every field of SUMMARY_FIELDS with its type; else a RunError naming what is missing."""
    wrong = [key for key, kinds in SUMMARY_FIELDS.items()
             if not isinstance(summary.get(key), kinds) or isinstance(summary.get(key), bool)]
    if wrong:
        raise RunError(f"{display_path(layout.summary_path)} lacks {', '.join(wrong)} (or holds the wrong type): it "
                       f"was not written by this version or was edited; delete {display_path(layout.run_dir)}/ or "
                       "pass retrain=True")
    return summary


def _initial_weights(cfg: ExperimentConfig, model: nn.Module) -> nn.Module:
    """`model` loaded with the best weights of the run `cfg.train.init_run` (a RunError if it is not complete)."""
    source = RunLayout(RunLayout.for_config(cfg).run_dir.parent / cfg.train.init_run)
    if not source.is_complete():
        raise RunError(f"train.init_run names {display_path(source.run_dir)}/, which is not a complete run: train "
                       "that run first (load_or_train with its config) and pass run.run_dir.name")
    return model_from_checkpoint(source.best_checkpoint_path, map_location=next(model.parameters()).device,
                                 model=model).train()


def train_run(config: dict | ExperimentConfig) -> TrainedRun:
    """Train the classifier that `config` describes into `data/runs/<run name>/`.

    The best checkpoint is the logged epoch with the highest validation accuracy (the last
    epoch when `val_fraction` is 0); the test set is scored there. The run folder appears
    only once complete; an older run of the same config is replaced then, not before.
    """
    cfg = ExperimentConfig.from_dict(config)
    train = cfg.train
    device = resolve_device(train.device)
    set_seed(cfg.seed)
    bundle = dataloaders_for(cfg)
    model = build_image_classifier(cfg.model, seed=cfg.seed).to(device)
    if train.init_run is not None:  # fine-tuning: start from another run's best weights (same architecture)
        model = _initial_weights(cfg, model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay,
                                  betas=(0.9, train.adam_beta2))
    epochs = train.epochs_for(len(bundle.train_loader))
    scheduler = build_scheduler(optimizer, train.schedule, epochs)
    hooks = add_layer_noise(model, train.layer_noise) if train.layer_noise > 0 else []
    regularizer = (clusterability_penalty(train.cluster_strength, train.n_clusters, train.cluster_readout)
                   if train.cluster_strength else None)

    final = RunLayout.for_config(cfg)
    staging = start_staging(final)
    rows: list[dict] = []
    rates: list[float] = []  # the learning rate of every epoch
    best = {"val_acc": -1.0, "row": None, "state": None}
    nan = float("nan")
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            rates.append(lr)
            train_loss, train_acc = train_one_epoch(
                model, bundle.train_loader, optimizer, train.input_noise_std, device, regularizer
            )
            scheduler.step()
            logged = epoch % train.eval_every == 0 or epoch in (1, epochs)
            _check_finite(model, train_loss, epoch, cfg, weights=logged)
            if not logged:
                continue
            val_loss, val_acc = (evaluate(model, bundle.val_loader, F.cross_entropy, device)
                                 if bundle.val_loader is not None else (nan, nan))
            test_loss, test_acc = evaluate(model, bundle.test_loader, F.cross_entropy, device)
            row = dict(zip(METRIC_COLUMNS, (epoch, train_loss, train_acc, val_loss, val_acc, test_loss, test_acc, lr),
                           strict=True))
            rows.append(row)
            if bundle.val_loader is not None and val_acc > best["val_acc"]:
                best = {"val_acc": val_acc, "row": row, "state": copy.deepcopy(model.state_dict())}
        atomic_write_text(staging.metrics_path, _metrics_csv(rows))
        save_checkpoint(staging.latest_checkpoint_path, model, cfg, epochs, rows[-1])
        if best["state"] is not None:
            model.load_state_dict(best["state"])
        best_row = best["row"] or rows[-1]
        save_checkpoint(staging.best_checkpoint_path, model, cfg, best_row["epoch"], best_row)
        test_loss, test_acc = evaluate(model, bundle.test_loader, F.cross_entropy, device)
        summary = {
            "run_name": cfg.run_name,
            "config": cfg.to_dict(),
            "best_epoch": best_row["epoch"],
            "best_val_acc": best["val_acc"] if bundle.val_loader is not None else None,
            "test_acc": test_acc,
            "test_loss": test_loss,
            "final_train_acc": rows[-1]["train_acc"],
            "epochs": epochs,
            "optimizer_steps": epochs * len(bundle.train_loader),
            "weight_decay_factor": weight_decay_factor(rates, len(bundle.train_loader), train.weight_decay),
            "dataset_source": bundle.source,
            "dataset_description": bundle.source_description,
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "wall_time_s": time.perf_counter() - start,
            "device": str(device),
            "torch_version": torch.__version__,
        }
        atomic_write_text(staging.summary_path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    except BaseException:
        discard(staging)
        raise
    finally:
        for handle in hooks:
            handle.remove()
    commit(staging, final)
    return TrainedRun(model.eval(), cfg, summary, final, trained_now=True)


def _stale_sample_run(summary: dict, cfg: ExperimentConfig) -> bool:
    """True when a run used the offline sample but the full dataset is now on disk."""
    return summary.get("dataset_source") == SOURCE_OFFLINE_SAMPLE and dataset_files_present(
        cfg.dataset.name, cfg.dataset.root
    )


def load_or_train(
    preset_or_config: str | dict | ExperimentConfig, quiet: bool = True, retrain: bool = False, **overrides
) -> TrainedRun:
    """The model for a recipe: loaded from its complete run folder if there is one, else trained.

    `load_or_train("two_layer_mnist", steps=500)` takes the same overrides as make_config.
    The run's name carries a hash of the config, so a changed recipe trains anew and the
    same recipe, from any notebook, finds the same run; a run trained on the offline MNIST
    sample is retrained once the full dataset is on disk; an interrupted run left nothing
    behind and is trained again. A complete run whose files are unreadable is an error
    (delete its folder, or pass `retrain=True`). The model comes back in eval mode on the
    config's device.
    """
    cfg = make_config(preset_or_config, **overrides)
    layout = RunLayout.for_config(cfg)
    recover(layout)
    if not retrain and layout.is_complete():
        summary = check_summary(layout, layout.read_summary())
        if not _stale_sample_run(summary, cfg):
            device = resolve_device(cfg.train.device)
            checkpoint = load_checkpoint(layout.best_checkpoint_path)
            if ExperimentConfig.from_dict(checkpoint["config"]).run_name != cfg.run_name:
                raise CheckpointError(f"{display_path(layout.best_checkpoint_path)} holds a run of another config "
                                      f"than its folder says; delete {display_path(layout.run_dir)}/")
            model = model_from_checkpoint(checkpoint, map_location=device)
            return TrainedRun(model, cfg, summary, layout, trained_now=False)
        if not quiet:
            print("The full dataset is now on disk: retraining a run that used the offline sample.")
    elif not quiet and not retrain:
        print(f"No complete run in {display_path(layout.run_dir)}/: training it.")
    return train_run(cfg)
