"""Devices and seeds: the two things every other module needs from the runtime."""

from __future__ import annotations

import random

import numpy as np
import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """"auto" gives cuda, then mps, then cpu; "cpu", "cuda", "cuda:N" and "mps" are checked.

    An unknown name, or a device this machine does not have, is a ValueError that says
    which devices are available.
    """
    if isinstance(name, torch.device):
        name = str(name)
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    available = ["cpu"] + (["cuda"] if cuda_ok else []) + (["mps"] if mps_ok else [])
    if name == "auto":
        return torch.device("cuda" if cuda_ok else "mps" if mps_ok else "cpu")
    if not isinstance(name, str):
        raise ValueError(f"a device must be a name such as 'cpu' or 'cuda:0', got {name!r} ({type(name).__name__})")
    kind, colon, index = name.partition(":")
    if kind not in DEVICE_CHOICES or colon and (kind != "cuda" or not index.isdigit()):
        raise ValueError(f"unknown device {name!r}: use one of {list(DEVICE_CHOICES)} (or 'cuda:N')")
    if kind not in available:
        raise ValueError(f"device {name!r} is not available on this machine (available: {available}); use 'auto'")
    if kind == "cuda" and colon and int(index) >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} does not exist: this machine has {torch.cuda.device_count()} CUDA "
                         "device(s), numbered from 0")
    return torch.device(name)


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (all devices); `seed` a whole number in [0, 2^32)."""
    if isinstance(seed, bool) or not isinstance(getattr(seed, "item", lambda: seed)(), int) \
            or not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be a whole number in [0, 2^32), got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds the global generator that user code draws from
    torch.manual_seed(seed)
