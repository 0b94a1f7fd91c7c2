"""Shared fixtures: an isolated data folder, tiny IDX datasets, and no network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bilinear_helpers import data as data_module
from bilinear_helpers.idx import write_idx


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """Every test gets its own data/figures folders, a fresh dataset cache, and no downloads."""
    monkeypatch.setenv("BILINEAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv(data_module.OFFLINE_ENV_VAR, "1")
    data_module.clear_dataset_cache()
    yield tmp_path / "data"
    data_module.clear_dataset_cache()


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 28x28 images: class c lights a bar at rows 2c..2c+3, plus speckle noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 40, size=(n, 28, 28))
    for i, c in enumerate(labels):
        images[i, 2 * c + 2 : 2 * c + 6, 4:24] = 255
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_tiny_dataset(root: Path, folder: str, n_train: int = 200, n_test: int = 100, compress: bool = False):
    """The four raw files of a torchvision dataset under `<root>/<folder>/raw`."""
    raw = root / folder / "raw"
    train_x, train_y = synthetic_digits(n_train, seed=1)
    test_x, test_y = synthetic_digits(n_test, seed=2)
    write_idx(raw / "train-images-idx3-ubyte", train_x, compress)
    write_idx(raw / "train-labels-idx1-ubyte", train_y, compress)
    write_idx(raw / "t10k-images-idx3-ubyte", test_x, compress)
    write_idx(raw / "t10k-labels-idx1-ubyte", test_y, compress)
    return (train_x, train_y), (test_x, test_y)


@pytest.fixture
def tiny_mnist(isolated_data):
    """A 200/100-image MNIST-layout dataset in the isolated data folder."""
    write_tiny_dataset(isolated_data, "MNIST")
    return isolated_data


def tiny_config(**train_overrides) -> dict:
    """A config that trains in well under a second on the tiny dataset."""
    train = {"epochs": 3, "batch_size": 32, "lr": 3e-3, "weight_decay": 0.1, "device": "cpu", "val_fraction": 0.2}
    train.update(train_overrides)
    return {
        "experiment_name": "tiny",
        "seed": 0,
        "dataset": {"name": "mnist"},
        "model": {"d_hidden": 16, "n_layer": 1},
        "train": train,
    }
