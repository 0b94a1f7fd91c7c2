"""The seed notebook's data pipeline and training loop, shared by the benchmarks that race it.

A torchvision MNIST Dataset read from IDX files with `ToTensor`, a shuffling DataLoader at
batch 100, and the seed's per-step work: reshape, its sparse-noise mask (drawn every step,
at probability 0 in the recipe), dense input noise, forward, backward, step, and a log
line every 100 steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.nn import functional as F

from bilinear_helpers.data.idx import write_idx

SEED_BATCH_SIZE = 100


def write_mnist_idx(root: Path, images: np.ndarray, labels: np.ndarray, n_test: int | None = None) -> None:
    """torchvision's MNIST layout (`<root>/MNIST/raw`) from uint8 `images [n, 28, 28]` and `labels [n]`.

    The test files hold the first `n_test` images (all of them when None).
    """
    raw = root / "MNIST" / "raw"
    for prefix, x, y in (("train", images, labels), ("t10k", images[:n_test], labels[:n_test])):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", x)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", y)


def seed_style_loader(root: Path) -> torch.utils.data.DataLoader:
    """The seed notebook's training loader over the IDX files in `<root>/MNIST/raw`."""
    import torchvision.transforms as transforms

    dataset = torchvision.datasets.MNIST(root=str(root), train=True, transform=transforms.ToTensor(), download=False)
    return torch.utils.data.DataLoader(dataset, batch_size=SEED_BATCH_SIZE, shuffle=True)


def seed_style_epoch(model, loader, optimizer, noise: float, device: torch.device, sparse_noise: float = 0.0) -> None:
    """One epoch exactly as the seed notebook trains (see the module docstring)."""
    model.train()
    for i, (images, labels) in enumerate(loader):
        images, labels = images.reshape(-1, 28 * 28).to(device), labels.to(device)
        noise_mask = torch.bernoulli(sparse_noise * torch.ones_like(images)).bool()
        images[noise_mask] = 1 - images[noise_mask]
        images += noise * torch.randn_like(images)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (i + 1) % 100 == 0:
            _ = f"Step [{i + 1}/{len(loader)}], Loss: {loss.item():.4f}"
