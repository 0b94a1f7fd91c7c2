"""Saving and loading checkpoints: atomic writes, safe loads, clear errors.

A checkpoint is a dict of tensors and plain values:
`{format_version, model_state_dict, config, epoch, metrics, content_sha256}`.

- Writes go to a temporary file in the same folder, then `os.replace` it over the
  target: a crash mid-save leaves the previous file whole.
- Loads use `torch.load(weights_only=True)`, which refuses any pickled code.
- `content_sha256` covers the weights, config, epoch and metrics: a file edited after
  saving is refused rather than silently loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..checks import ConfigError
from ..config import ExperimentConfig
from ..models import ImageClassifier, build_image_classifier
from ..paths import atomic_write, refused_code
from ..runtime import resolve_device

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "model_state_dict", "config", "epoch", "metrics", "content_sha256")
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: the message names the file and the problem."""


def plain_values(obj: Any) -> Any:
    """`obj` as JSON-able plain Python (NumPy and torch scalars become floats and ints).

    Only plain values may reach a checkpoint: a safe load refuses anything else.
    """
    def scalar(value):
        if hasattr(value, "item"):
            return value.item()
        raise TypeError(f"{value!r} ({type(value).__name__}) is not a plain value a checkpoint can hold")

    return json.loads(json.dumps(obj, default=scalar))


def content_digest(state_dict: dict, config: Any, epoch: Any, metrics: Any) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([config, epoch, metrics], sort_keys=True, default=str).encode())
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def architecture_differences(model: nn.Module, config: ExperimentConfig) -> list[str]:
    """Each field where `model`'s architecture differs from `config.model`, as "key: model X, config Y"."""
    if not isinstance(model, ImageClassifier):
        raise TypeError(f"checkpoints hold this package's image classifiers, got a {type(model).__name__}: build the "
                        "model with build_image_classifier(config.model, seed)")
    built, described = model.architecture().__dict__, config.model.__dict__
    return [f"{key}: model {built[key]!r}, config {described[key]!r}" for key in built if built[key] != described[key]]


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, config: dict | ExperimentConfig, epoch: int, metrics: dict
) -> Path:
    """Write `model`'s weights with the config and metrics to `path`, atomically.

    The config must describe the model (`model.architecture() == config.model`), so that
    `model_from_checkpoint(path)` rebuilds the same function: a mismatch is a ConfigError.
    """
    differences = architecture_differences(model, ExperimentConfig.from_dict(config))
    if differences:
        raise ConfigError(f"refused to save {path}: the config does not describe the model ({'; '.join(differences)}). "
                          "Pass the config the model was built from.")
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    config = config.to_dict() if isinstance(config, ExperimentConfig) else plain_values(config)
    epoch, metrics = int(epoch), plain_values(dict(metrics))
    payload = {
        "format_version": FORMAT_VERSION,
        "model_state_dict": state,
        "config": config,
        "epoch": epoch,
        "metrics": metrics,
        "content_sha256": content_digest(state, config, epoch, metrics),
    }
    return atomic_write(path, lambda f: torch.save(payload, f))


def _reason(exc: BaseException) -> str:
    """The first line of torch's message that says what went wrong, without its advice to load unsafely."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "weights_only" not in line]
    return (lines[0] if lines else type(exc).__name__)[:200]


def _read(path: Path, map_location) -> Any:
    """`torch.load` with every failure turned into a CheckpointError that says what is true."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (it does not start like one): it is another kind "
                              "of file or corrupt. Delete it and retrain.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if refused_code(exc):
            raise CheckpointError(
                f"refused to load {path}: it contains pickled Python objects or code, which a safe load never "
                "executes. Re-create it with save_checkpoint from a trusted source."
            ) from None
        raise CheckpointError(f"{path} is corrupt: its contents cannot be decoded ({_reason(exc)}). Delete it and "
                              "retrain.") from None
    except Exception as exc:  # zip or stream errors (truncated, bit flips) and anything else the bytes provoke
        raise CheckpointError(
            f"{path} is truncated or corrupt ({type(exc).__name__}: {_reason(exc)}). Delete it and retrain."
        ) from None


def _check_structure(path: Path, ckpt: Any) -> None:
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        found = sorted(map(str, ckpt)) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{path} is not a bilinear_helpers checkpoint: expected keys {list(REQUIRED_KEYS)}, found {found}"
        )
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {ckpt['format_version']!r}, this code reads version "
            f"{FORMAT_VERSION}; retrain it with this version of bilinear_helpers"
        )
    state = ckpt["model_state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is not a bilinear_helpers checkpoint: its weights are not a dict of tensors")
    try:
        expected = content_digest(state, ckpt["config"], ckpt["epoch"], ckpt["metrics"])
    except Exception as exc:
        raise CheckpointError(f"{path} is corrupt: its contents cannot be checked ({exc}). Delete it and retrain."
                              ) from None
    if expected != ckpt["content_sha256"]:
        raise CheckpointError(
            f"{path} failed its integrity check: its contents changed after it was saved (corrupt or tampered). "
            "Delete it and retrain."
        )


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint dict at `path`, loaded without executing any pickled code.

    Raises FileNotFoundError for a missing file and CheckpointError for everything else,
    whatever the bytes: a device this machine lacks, a file that is not a checkpoint, is
    truncated or corrupt, carries code, has another format version, or was modified.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise CheckpointError(f"a checkpoint path must be a file path such as run.best_checkpoint_path, got {path!r}")
    path = Path(path)
    if path.exists() and not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
        raise CheckpointError(f"{path} is {what}, not a checkpoint file: pass the path of a .pt file "
                              "(a run folder's best.pt or latest.pt)")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train it first (load_or_train does both)")
    try:
        device = resolve_device(map_location)
    except ValueError as exc:
        raise CheckpointError(f"cannot load {path} onto {map_location!r}: {exc}") from None
    ckpt = _read(path, device)
    _check_structure(path, ckpt)
    return ckpt


def model_from_checkpoint(
    checkpoint: dict | str | os.PathLike, map_location: str | torch.device = "cpu", model: nn.Module | None = None
) -> nn.Module:
    """The model a checkpoint holds, in eval mode.

    Built from the checkpoint's own config, or loaded into `model` when given; a state
    dict of another architecture is a CheckpointError that names the path and the keys.
    """
    path = "<in-memory checkpoint>"
    if not isinstance(checkpoint, dict):
        path = str(checkpoint)
        checkpoint = load_checkpoint(checkpoint, map_location=map_location)
    elif "model_state_dict" not in checkpoint or "config" not in checkpoint:
        raise CheckpointError(f"{path} is not a bilinear_helpers checkpoint: it has no 'model_state_dict' and "
                              "'config'; pass a path or what load_checkpoint returns")
    try:
        config = ExperimentConfig.from_dict(checkpoint["config"])
    except (KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path}: its config does not describe a model this package builds ({exc})") from None
    if model is None:
        model = build_image_classifier(config.model, seed=config.seed)
    else:
        try:
            differences = architecture_differences(model, config)
        except TypeError as exc:
            raise CheckpointError(f"cannot load {path} into it: {exc}") from None
        if differences:
            raise CheckpointError(
                f"{path} holds weights for a different architecture than the {type(model).__name__} given "
                f"({'; '.join(differences)}). Build the model from the checkpoint's own config "
                "(model_from_checkpoint(path))."
            )
    try:
        model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    except RuntimeError as exc:
        first_lines = "; ".join(line.strip() for line in str(exc).splitlines()[:4])
        raise CheckpointError(
            f"{path} holds weights for a different architecture than {type(model).__name__}: {first_lines}. "
            "Build the model from the checkpoint's own config (model_from_checkpoint(path))."
        ) from None
    return model.to(resolve_device(map_location)).eval()
