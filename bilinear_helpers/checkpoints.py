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
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .models import build_image_classifier

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "model_state_dict", "config", "epoch", "metrics", "content_sha256")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: the message names the file and the problem."""


def _content_digest(state_dict: dict, config: Any, epoch: Any, metrics: Any) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([config, epoch, metrics], sort_keys=True, default=str).encode())
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, config: dict, epoch: int, metrics: dict
) -> Path:
    """Write `model`'s weights with the config and metrics to `path`, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {
        "format_version": FORMAT_VERSION,
        "model_state_dict": state,
        "config": config,
        "epoch": int(epoch),
        "metrics": dict(metrics),
        "content_sha256": _content_digest(state, config, int(epoch), dict(metrics)),
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint dict at `path`, loaded without executing any pickled code.

    Raises FileNotFoundError for a missing file and CheckpointError for a file that
    carries code, is truncated or foreign, has another format version, or was modified.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train it first (load_or_train does both)")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CheckpointError(
                f"refused to load {path}: it contains pickled Python objects or code, which a safe load never "
                "executes. Re-create it with save_checkpoint from a trusted source."
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint ({exc}); it may be corrupt or truncated") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a readable checkpoint: it is truncated, corrupt or not a PyTorch file ({exc}). "
            "Delete it and retrain."
        ) from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{path} is not a bilinear_helpers checkpoint: expected keys {list(REQUIRED_KEYS)}, found {found}"
        )
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {ckpt['format_version']}, this code reads version "
            f"{FORMAT_VERSION}; retrain it with this version of bilinear_helpers"
        )
    expected = _content_digest(ckpt["model_state_dict"], ckpt["config"], ckpt["epoch"], ckpt["metrics"])
    if expected != ckpt["content_sha256"]:
        raise CheckpointError(
            f"{path} failed its integrity check: its contents changed after it was saved (corrupt or tampered). "
            "Delete it and retrain."
        )
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
    if model is None:
        try:
            model = build_image_classifier(checkpoint["config"]["model"], seed=checkpoint["config"].get("seed", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: its config does not describe a model this package builds ({exc})") from None
    try:
        model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    except RuntimeError as exc:
        first_lines = "; ".join(line.strip() for line in str(exc).splitlines()[:4])
        raise CheckpointError(
            f"{path} holds weights for a different architecture than {type(model).__name__}: {first_lines}. "
            "Build the model from the checkpoint's own config (model_from_checkpoint(path))."
        ) from None
    return model.to(map_location).eval()
