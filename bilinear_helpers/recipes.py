"""Named training recipes and `load_or_train`, which lets every notebook run alone.

`PRESETS` keep the published recipes as plain dicts. Notebooks shorten them for a CPU
through `make_config(preset, epochs=...)`; the run's name carries a hash of the full
config, so `load_or_train` reuses a checkpoint only for exactly the same recipe.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .checkpoints import CheckpointError, load_checkpoint, model_from_checkpoint
from .data import SOURCE_OFFLINE_SAMPLE, dataset_files_present
from .models import unknown_keys_error
from .paths import checkpoints_dir, runs_dir
from .runtime import resolve_device
from .training import DEFAULT_CONFIG, resolve_config, run_name, train_image_experiment


def _preset(name, dataset, model, **train) -> dict:
    return {"experiment_name": name, "seed": 0, "dataset": {"name": dataset}, "model": model, "train": train}


PRESETS: dict[str, dict] = {
    # One layer, d_hidden 256: the reading-the-weights baselines (97.99% MNIST, 89.09% Fashion-MNIST).
    "mnist_baseline": _preset(
        "mnist_baseline", "mnist", {"d_hidden": 256, "n_layer": 1},
        epochs=50, batch_size=256, lr=1e-3, weight_decay=0.5, schedule="cosine", input_noise_std=0.33,
    ),
    "fmnist_baseline": _preset(
        "fmnist_baseline", "fashion_mnist", {"d_hidden": 256, "n_layer": 1},
        epochs=100, batch_size=256, lr=1e-3, weight_decay=0.5, schedule="cosine", input_noise_std=0.33,
    ),
    # The seed notebook "MNIST | Two Layer Bilinear Model" (Weight-based Decomposition, 2024).
    "two_layer_mnist": _preset(
        "two_layer_mnist", "mnist", {"d_hidden": 300, "n_layer": 2},
        epochs=64, batch_size=100, lr=1e-3, weight_decay=0.5, schedule="warmup_step",
        input_noise_std=0.33, layer_noise=0.33,
    ),
    # "Bilinear MLPs enable weight-based mechanistic interpretability" (ICLR 2025), MNIST.
    "paper_mnist": _preset(
        "paper_mnist", "mnist", {"d_hidden": 512, "n_layer": 1},
        epochs=100, batch_size=2048, lr=1e-3, weight_decay=1.0, schedule="cosine", input_noise_std=0.5,
    ),
}

TUTORIAL_PRESETS = {"mnist": "mnist_baseline", "fashion_mnist": "fmnist_baseline"}


def preset_for(dataset: str) -> str:
    """The one-layer preset the notebooks use for `dataset` ("mnist" or "fashion_mnist")."""
    if dataset not in TUTORIAL_PRESETS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {sorted(TUTORIAL_PRESETS)}")
    return TUTORIAL_PRESETS[dataset]


# Flat override names accepted by make_config, and the section each one lives in.
_SECTION_OF = {
    **{key: "train" for key in DEFAULT_CONFIG["train"]},
    **{key: "model" for key in DEFAULT_CONFIG["model"]},
    "dataset": ("dataset", "name"),
    "data_root": ("dataset", "root"),
    "seed": None,
    "experiment_name": None,
}


def make_config(preset: str | dict, **overrides) -> dict:
    """A full config from a preset name (or a config dict) with flat overrides.

    `make_config("two_layer_mnist", epochs=8, device="cpu")`; the names are the keys of
    the `train` and `model` sections plus `dataset`, `data_root`, `seed` and
    `experiment_name`. Unknown names are an error.
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}: choose one of {sorted(PRESETS)}")
        cfg = copy.deepcopy(PRESETS[preset])
    else:
        cfg = copy.deepcopy(preset)
    unknown = set(overrides) - set(_SECTION_OF)
    if unknown:
        raise unknown_keys_error("make_config's overrides", unknown, _SECTION_OF)
    for key, value in overrides.items():
        where = _SECTION_OF[key]
        if where is None:
            cfg[key] = value
        elif isinstance(where, tuple):
            cfg.setdefault(where[0], {})[where[1]] = value
        else:
            cfg.setdefault(where, {})[key] = value
    return resolve_config(cfg)


@dataclass
class TrainedRun:
    """A trained model and where it came from."""

    model: nn.Module
    config: dict
    summary: dict
    checkpoint_path: Path
    trained_now: bool


def _stale_sample_run(summary: dict, cfg: dict) -> bool:
    """True when a run used the offline sample but the full dataset is now on disk."""
    return summary.get("dataset_source") == SOURCE_OFFLINE_SAMPLE and dataset_files_present(
        cfg["dataset"]["name"], cfg["dataset"]["root"]
    )


def load_or_train(preset_or_config: str | dict, quiet: bool = True, retrain: bool = False, **overrides) -> TrainedRun:
    """The model for a recipe: loaded from its best checkpoint if one exists, else trained.

    `load_or_train("two_layer_mnist", epochs=8)` takes the same overrides as make_config.
    The checkpoint's name carries a hash of the config, so a changed recipe trains anew;
    a run trained on the offline MNIST sample is retrained once the full dataset is on
    disk. An unreadable checkpoint is an error (delete it, or pass `retrain=True`).
    The model comes back in eval mode on the config's device.
    """
    cfg = make_config(preset_or_config, **overrides)
    name = run_name(cfg)
    device = resolve_device(cfg["train"]["device"])
    best_path = checkpoints_dir(cfg["dataset"]["root"]) / f"{name}_best.pt"
    summary_path = runs_dir(cfg["dataset"]["root"]) / name / "summary.json"
    if not retrain and best_path.is_file() and summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if not _stale_sample_run(summary, cfg):
            checkpoint = load_checkpoint(best_path)
            if run_name(checkpoint["config"]) != name:
                raise CheckpointError(f"{best_path} holds a run of another config than its name says; delete it")
            model = model_from_checkpoint(checkpoint, map_location=device)
            return TrainedRun(model, cfg, summary, best_path, trained_now=False)
        if not quiet:
            print("The full dataset is now on disk: retraining a run that used the offline sample.")
    result = train_image_experiment(cfg, quiet=quiet)
    model = model_from_checkpoint(result["best_checkpoint_path"], map_location=device)
    return TrainedRun(model, cfg, result["summary"], result["best_checkpoint_path"], trained_now=True)
