"""The training loop: configs, schedules, noise, metrics and the run directory.

One call, `train_image_experiment(config)`, trains a classifier with AdamW, keeps the
checkpoint with the best validation accuracy, scores the test set at that checkpoint and
writes `data/runs/<run>/metrics.csv` and `summary.json`.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler
from tqdm.auto import tqdm

from .checkpoints import save_checkpoint
from .data import DATASETS, build_image_dataloaders
from .models import MODEL_DEFAULTS, build_image_classifier, unknown_keys_error
from .paths import checkpoints_dir, display_path, runs_dir
from .runtime import DEVICE_CHOICES, resolve_device, set_seed

SCHEDULES = ("cosine", "warmup_step", "constant")

DEFAULT_CONFIG: dict[str, Any] = {
    "experiment_name": "bilinear_mnist",
    "seed": 0,
    "dataset": {"name": "mnist", "root": None},
    "model": dict(MODEL_DEFAULTS),
    "train": {
        "epochs": 10,
        "batch_size": 256,
        "lr": 1e-3,
        "weight_decay": 0.5,
        "schedule": "cosine",
        "input_noise_std": 0.0,
        "layer_noise": 0.0,
        "device": "auto",
        "val_fraction": 0.1,
    },
}
# Keys that change where or how fast a run happens, not what it learns: left out of the run's name.
_NOT_HASHED = {"dataset": ("root",), "train": ("device",)}
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr")


def resolve_config(config: dict) -> dict:
    """`config` laid over DEFAULT_CONFIG, checked: unknown keys and bad values are errors."""
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise unknown_keys_error("the config", unknown, DEFAULT_CONFIG)
    resolved = copy.deepcopy(DEFAULT_CONFIG)
    for key, value in config.items():
        if isinstance(DEFAULT_CONFIG[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"config section {key!r} must be a dict, got {type(value).__name__}")
            unknown = set(value) - set(DEFAULT_CONFIG[key])
            if unknown:
                raise unknown_keys_error(f"config section {key!r}", unknown, DEFAULT_CONFIG[key])
            resolved[key].update(copy.deepcopy(value))
        else:
            resolved[key] = value
    _check_values(resolved)
    return resolved


def _check_values(cfg: dict) -> None:
    train = cfg["train"]
    if cfg["dataset"]["name"] not in DATASETS:
        raise ValueError(f"unknown dataset {cfg['dataset']['name']!r}: choose one of {sorted(DATASETS)}")
    if train["schedule"] not in SCHEDULES:
        raise ValueError(f"unknown schedule {train['schedule']!r}: choose one of {list(SCHEDULES)}")
    if str(train["device"]).split(":")[0] not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {train['device']!r}: use one of {list(DEVICE_CHOICES)} (or 'cuda:N')")
    for key in ("epochs", "batch_size"):
        if not isinstance(train[key], int) or train[key] < 1:
            raise ValueError(f"train.{key} must be a positive integer, got {train[key]!r}")
    for key in ("lr", "weight_decay", "input_noise_std", "layer_noise"):
        if not isinstance(train[key], (int, float)) or train[key] < 0 or not math.isfinite(train[key]):
            raise ValueError(f"train.{key} must be a finite number >= 0, got {train[key]!r}")
    if not 0 <= train["val_fraction"] < 1:
        raise ValueError(f"train.val_fraction must be in [0, 1), got {train['val_fraction']!r}")
    name = cfg["experiment_name"]
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"experiment_name must be letters, digits, '-' and '_', got {cfg['experiment_name']!r}")


def config_hash(config: dict) -> str:
    """8 hex digits identifying what a config learns (device and data root left out)."""
    cfg = resolve_config(config)
    for section, keys in _NOT_HASHED.items():
        for key in keys:
            cfg[section].pop(key)
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:8]


def run_name(config: dict) -> str:
    """`<experiment_name>_<config hash>`: a changed recipe gets a new name."""
    return f"{resolve_config(config)['experiment_name']}_{config_hash(config)}"


def warmup_step_factor(epoch: int) -> float:
    """The seed notebook's schedule, as a multiple of the base lr for a 0-based epoch.

    Linear warm-up from 0.01x over epochs 0-1, 1x at epochs 2-3, then halved every two
    epochs down to 1/64 at epoch 14, constant after.
    """
    if epoch < 2:
        return 0.01 + 0.99 * epoch / 2
    return 0.5 ** min((epoch - 2) // 2, 6)


def build_scheduler(optimizer: torch.optim.Optimizer, schedule: str, epochs: int) -> LRScheduler:
    """A per-epoch scheduler: "cosine" (to 0 over `epochs`), "warmup_step" or "constant"."""
    if schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=epochs)
    if schedule == "warmup_step":
        return LambdaLR(optimizer, warmup_step_factor)
    if schedule == "constant":
        return LambdaLR(optimizer, lambda epoch: 1.0)
    raise ValueError(f"unknown schedule {schedule!r}: choose one of {list(SCHEDULES)}")


def add_layer_noise(model: nn.Module, relative_std: float) -> list:
    """Forward hooks adding Gaussian noise of `relative_std` x the batch std after each block.

    As in the seed notebook, the scale follows the batch (gradients flow through the
    std). Active only while the model is in training mode. Returns the hook handles;
    call `.remove()` on each to take the noise off.
    """

    def hook(module, inputs, output):
        if module.training:  # output + relative_std * std(output) * N(0, 1), in one pass
            return torch.addcmul(output, torch.randn_like(output), relative_std * output.std())
        return None

    return [block.register_forward_hook(hook) for block in model.blocks]


@torch.no_grad()
def evaluate(model: nn.Module, loader, criterion, device) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` over `loader`, in eval mode, without gradients."""
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        total_loss += criterion(logits, y) * len(y)
        correct += (logits.argmax(dim=-1) == y).sum()
        count += len(y)
    if count == 0:
        raise ValueError("cannot evaluate on an empty loader")
    return total_loss.item() / count, correct.item() / count


def train_one_epoch(model, loader, optimizer, input_noise_std: float, device) -> tuple[float, float]:
    """One pass over `loader` with Gaussian input noise (std in pixel units); (loss, acc)."""
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    for x, y in loader:
        x = x.flatten(start_dim=1)
        if input_noise_std > 0:
            x = torch.add(x, torch.randn_like(x), alpha=input_noise_std)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.detach().argmax(dim=-1) == y).sum()
        count += len(y)
    return total_loss.item() / count, correct.item() / count


def _write_metrics(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".csv.part")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def train_image_experiment(config: dict, quiet: bool = False) -> dict:
    """Train the classifier that `config` describes; return the paths of what it wrote.

    Returns a dict with `run_dir`, `metrics_path`, `best_checkpoint_path`,
    `latest_checkpoint_path`, `summary_path` and the `summary` itself. The best checkpoint
    is the epoch with the highest validation accuracy (the last epoch when
    `val_fraction` is 0); the test set is scored there.
    """
    cfg = resolve_config(config)
    name = run_name(cfg)
    train = cfg["train"]
    device = resolve_device(train["device"])
    set_seed(cfg["seed"])

    bundle = build_image_dataloaders(cfg["dataset"], train, seed=cfg["seed"])
    model = build_image_classifier(cfg["model"], seed=cfg["seed"]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train["lr"], weight_decay=train["weight_decay"])
    scheduler = build_scheduler(optimizer, train["schedule"], train["epochs"])
    hooks = add_layer_noise(model, train["layer_noise"]) if train["layer_noise"] > 0 else []

    run_dir = runs_dir(cfg["dataset"]["root"]) / name
    ckpt_dir = checkpoints_dir(cfg["dataset"]["root"])
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "run_dir": run_dir,
        "metrics_path": run_dir / "metrics.csv",
        "summary_path": run_dir / "summary.json",
        "best_checkpoint_path": ckpt_dir / f"{name}_best.pt",
        "latest_checkpoint_path": ckpt_dir / f"{name}_latest.pt",
    }

    rows: list[dict] = []
    best = {"val_acc": -1.0, "epoch": 0, "state": None}
    start = time.perf_counter()
    bar = tqdm(range(1, train["epochs"] + 1), desc=name, disable=quiet, unit="epoch")
    try:
        for epoch in bar:
            lr = optimizer.param_groups[0]["lr"]
            train_loss, train_acc = train_one_epoch(
                model, bundle.train_loader, optimizer, train["input_noise_std"], device
            )
            scheduler.step()
            if bundle.val_loader is not None:
                val_loss, val_acc = evaluate(model, bundle.val_loader, F.cross_entropy, device)
            else:
                val_loss, val_acc = float("nan"), float("nan")
            row = dict(zip(METRIC_COLUMNS, (epoch, train_loss, train_acc, val_loss, val_acc, lr), strict=True))
            rows.append(row)
            _write_metrics(paths["metrics_path"], rows)
            save_checkpoint(paths["latest_checkpoint_path"], model, cfg, epoch, row)
            improved = val_acc > best["val_acc"] if bundle.val_loader is not None else True
            if improved:
                best = {"val_acc": val_acc, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
                save_checkpoint(paths["best_checkpoint_path"], model, cfg, epoch, row)
            bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}")
    finally:
        for handle in hooks:
            handle.remove()
        bar.close()

    model.load_state_dict(best["state"])
    test_loss, test_acc = evaluate(model, bundle.test_loader, F.cross_entropy, device)
    summary = {
        "run_name": name,
        "config": cfg,
        "best_epoch": best["epoch"],
        "best_val_acc": best["val_acc"] if bundle.val_loader is not None else None,
        "test_acc": test_acc,
        "test_loss": test_loss,
        "final_train_acc": rows[-1]["train_acc"],
        "dataset_source": bundle.source,
        "dataset_description": bundle.source_description,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "wall_time_s": time.perf_counter() - start,
        "device": str(device),
        "torch_version": torch.__version__,
        "best_checkpoint": display_path(paths["best_checkpoint_path"]),
    }
    _write_json(paths["summary_path"], summary)
    return {**paths, "summary": summary}
