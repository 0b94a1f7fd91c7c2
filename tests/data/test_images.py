"""Image datasets in memory: torchvision's files, the offline sample, and clear errors."""

import pytest
import torch
import torchvision

from bilinear_helpers import dataset_files_present, load_image_dataset
from bilinear_helpers.catalog import SOURCE_OFFLINE_SAMPLE, SOURCE_TORCHVISION
from bilinear_helpers.data import DatasetUnavailableError
from bilinear_helpers.data import images as images_module

from ..conftest import write_tiny_dataset


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_torchvision_layout_loads_as_tensors(isolated_data, name, folder):
    assert not dataset_files_present(name)
    (train_x, train_y), (test_x, test_y) = write_tiny_dataset(isolated_data, folder, n_train=30, n_test=20)
    assert dataset_files_present(name)
    data = load_image_dataset(name)
    assert data.source == SOURCE_TORCHVISION and not data.is_offline_sample
    assert data.train_images.shape == (30, 1, 28, 28) and data.test_images.shape == (20, 1, 28, 28)
    assert data.image_shape == (1, 28, 28)
    assert data.train_images.dtype == torch.float32 and data.train_labels.dtype == torch.int64
    torch.testing.assert_close(data.train_images[:, 0], torch.from_numpy(train_x).float() / 255)
    assert data.test_labels.tolist() == test_y.tolist() and data.train_labels.tolist() == train_y.tolist()
    assert len(data.class_names) == 10 and "30 train / 20 test" in data.source_description


def test_gzip_only_raw_files_are_read_without_download(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST", n_train=10, n_test=10, compress=True)
    assert dataset_files_present("mnist")
    data = load_image_dataset("mnist")
    assert data.source == SOURCE_TORCHVISION and len(data.train_labels) == 10


def test_loads_are_cached_until_the_cache_is_cleared(tiny_mnist):
    first = load_image_dataset("mnist")
    assert load_image_dataset("mnist") is first
    images_module.clear_dataset_cache()
    assert load_image_dataset("mnist") is not first


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar10'.*\['fashion_mnist', 'mnist'\]"):
        load_image_dataset("cifar10")


def _failing_download(monkeypatch, calls):
    def fail(self):
        calls.append(type(self).__name__)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.delenv(images_module.OFFLINE_ENV_VAR)
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fail)


def test_offline_fallback_after_a_failed_download_is_a_seeded_disjoint_split(monkeypatch, capsys):
    calls = []
    _failing_download(monkeypatch, calls)
    data = load_image_dataset("mnist")
    assert calls == ["MNIST"]  # the real download path was tried first
    assert data.source == SOURCE_OFFLINE_SAMPLE and data.is_offline_sample
    assert data.train_images.shape == (4000, 1, 28, 28) and data.test_images.shape == (1000, 1, 28, 28)
    assert torch.bincount(data.train_labels).tolist() == [400] * 10  # stratified
    assert torch.bincount(data.test_labels).tolist() == [100] * 10
    assert 0.0 <= data.train_images.min() and data.train_images.max() <= 1.0
    notice = capsys.readouterr().out
    assert notice.count("Notice: MNIST could not be downloaded") == 1
    assert "data/MNIST/raw" in notice.replace("\\", "/") and "go online and rerun" in notice
    assert len(notice.strip().splitlines()) <= 2  # the notice fits in two lines
    # a second load is served from the cache and prints nothing
    assert load_image_dataset("mnist") is data
    assert capsys.readouterr().out == ""
    # the split is seeded (the same every time) and no test image is a training image
    again = images_module._load_offline_sample()
    assert torch.equal(again.train_images, data.train_images) and torch.equal(again.test_labels, data.test_labels)
    train_set = {x.numpy().tobytes() for x in data.train_images}
    assert not any(x.numpy().tobytes() in train_set for x in data.test_images)


def test_fallback_turned_off_raises_the_download_error_with_advice(monkeypatch):
    _failing_download(monkeypatch, [])
    with pytest.raises(DatasetUnavailableError, match="allow_offline_sample=False.*Error downloading.*MNIST/raw"):
        load_image_dataset("mnist", allow_offline_sample=False)


def test_fashion_mnist_offline_is_a_clear_error():
    with pytest.raises(DatasetUnavailableError,
                       match="FashionMNIST is not on disk.*BILINEAR_OFFLINE.*FashionMNIST/raw"):
        load_image_dataset("fashion_mnist")


def test_dataset_names_get_a_suggestion_and_groups_a_pointer():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnsit' \(did you mean 'mnist'\?\)"):
        load_image_dataset("mnsit")
    with pytest.raises(ValueError, match="'C5' is a group table, not an image dataset: load it with bh.group_task"):
        load_image_dataset("C5")
