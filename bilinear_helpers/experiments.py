"""Train a config into a run folder, or load the run it already has: `load_or_train`.

`train_image_experiment(config)` trains with AdamW, keeps the checkpoint with the best
validation accuracy, scores the test set there, and commits the run folder whole (see
`runs`). `load_or_train` returns that run if it is complete, else trains it, so every
notebook runs alone. Both return a `TrainedRun`.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import time

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .checkpoints import CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint
from .clusterability import clusterability_penalty
from .config import ExperimentConfig
from .data import SOURCE_OFFLINE_SAMPLE, dataset_files_present
from .loaders import build_image_dataloaders
from .models import build_image_classifier
from .paths import atomic_write_text, display_path
from .presets import make_config
from .runs import RunLayout, TrainedRun, commit, recover, start_staging
from .runtime import resolve_device, set_seed
from .training import (
    METRIC_COLUMNS,
    add_layer_noise,
    build_scheduler,
    evaluate,
    train_one_epoch,
    weight_decay_factor,
)


def _metrics_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def train_image_experiment(config: dict | ExperimentConfig, quiet: bool = False) -> TrainedRun:
    """Train the classifier that `config` describes into `data/runs/<run name>/`.

    The best checkpoint is the epoch with the highest validation accuracy (the last epoch
    when `val_fraction` is 0); the test set is scored there. The run folder appears only
    once complete; an older run of the same config is replaced then, not before.
    """
    cfg = ExperimentConfig.from_dict(config)
    train = cfg.train
    device = resolve_device(train.device)
    set_seed(cfg.seed)

    bundle = build_image_dataloaders(cfg.dataset, train, seed=cfg.seed)
    model = build_image_classifier(cfg.model, seed=cfg.seed).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    epochs = train.epochs_for(len(bundle.train_loader))
    scheduler = build_scheduler(optimizer, train.schedule, epochs)
    hooks = add_layer_noise(model, train.layer_noise) if train.layer_noise > 0 else []
    regularizer = clusterability_penalty(train.cluster_strength, train.n_clusters) if train.cluster_strength else None

    final = RunLayout.for_config(cfg)
    staging = start_staging(final)
    rows: list[dict] = []
    best = {"val_acc": -1.0, "epoch": 0, "state": None}
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=cfg.run_name, disable=quiet, unit="epoch")
    try:
        for epoch in bar:
            lr = optimizer.param_groups[0]["lr"]
            train_loss, train_acc = train_one_epoch(
                model, bundle.train_loader, optimizer, train.input_noise_std, device, regularizer
            )
            scheduler.step()
            if bundle.val_loader is not None:
                val_loss, val_acc = evaluate(model, bundle.val_loader, F.cross_entropy, device)
            else:
                val_loss, val_acc = float("nan"), float("nan")
            row = dict(zip(METRIC_COLUMNS, (epoch, train_loss, train_acc, val_loss, val_acc, lr), strict=True))
            rows.append(row)
            atomic_write_text(staging.metrics_path, _metrics_csv(rows))
            save_checkpoint(staging.latest_checkpoint_path, model, cfg, epoch, row)
            if bundle.val_loader is None or val_acc > best["val_acc"]:
                best = {"val_acc": val_acc, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
                save_checkpoint(staging.best_checkpoint_path, model, cfg, epoch, row)
            bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}")
    finally:
        for handle in hooks:
            handle.remove()
        bar.close()

    model.load_state_dict(best["state"])
    test_loss, test_acc = evaluate(model, bundle.test_loader, F.cross_entropy, device)
    summary = {
        "run_name": cfg.run_name,
        "config": cfg.to_dict(),
        "best_epoch": best["epoch"],
        "best_val_acc": best["val_acc"] if bundle.val_loader is not None else None,
        "test_acc": test_acc,
        "test_loss": test_loss,
        "final_train_acc": rows[-1]["train_acc"],
        "epochs": epochs,
        "optimizer_steps": epochs * len(bundle.train_loader),
        "weight_decay_factor": weight_decay_factor(
            [row["lr"] for row in rows], len(bundle.train_loader), train.weight_decay
        ),
        "dataset_source": bundle.source,
        "dataset_description": bundle.source_description,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "wall_time_s": time.perf_counter() - start,
        "device": str(device),
        "torch_version": torch.__version__,
    }
    atomic_write_text(staging.summary_path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
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
    The run's name carries a hash of the config, so a changed recipe trains anew; a run
    trained on the offline MNIST sample is retrained once the full dataset is on disk; an
    interrupted run left nothing behind and is trained again. A complete run whose files
    are unreadable is an error (delete its folder, or pass `retrain=True`). The model comes
    back in eval mode on the config's device.
    """
    cfg = make_config(preset_or_config, **overrides)
    layout = RunLayout.for_config(cfg)
    recover(layout)
    if not retrain and layout.is_complete():
        summary = layout.read_summary()
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
    return train_image_experiment(cfg, quiet=quiet)


ACCURACY_BOUNDS = {  # (dataset, where the data came from, n_layer) -> the test accuracy a full-length run must reach
    ("mnist", "torchvision", 1): 0.975,
    ("mnist", "torchvision", 2): 0.97,
    ("mnist", SOURCE_OFFLINE_SAMPLE, 1): 0.955,
    ("mnist", SOURCE_OFFLINE_SAMPLE, 2): 0.95,
    ("fashion_mnist", "torchvision", 1): 0.85,
    ("fashion_mnist", "torchvision", 2): 0.85,
}
SHORT_RUN_BOUND = 0.5


def is_full_length(run: TrainedRun, full_steps: int) -> bool:
    """Whether `run` took at least `full_steps` optimizer steps (a smoke run, shortened by -p, did not)."""
    return run.summary["optimizer_steps"] >= full_steps


def accuracy_bound(run: TrainedRun, full_steps: int) -> float:
    """The test accuracy `run` must reach: its data's bound, or 0.5 for a run shorter than `full_steps`."""
    if not is_full_length(run, full_steps):
        return SHORT_RUN_BOUND
    return ACCURACY_BOUNDS[(run.config.dataset.name, run.summary["dataset_source"], min(run.config.model.n_layer, 2))]
