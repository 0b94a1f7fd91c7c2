import pytest
import torch
import torchvision

from bilinear_helpers import DatasetUnavailableError, build_image_dataloaders, load_image_dataset
from bilinear_helpers import data as data_module
from bilinear_helpers.loaders import split_validation

from .conftest import write_tiny_dataset


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_torchvision_layout_loads_as_tensors(isolated_data, name, folder):
    (train_x, train_y), (test_x, test_y) = write_tiny_dataset(isolated_data, folder, n_train=30, n_test=20)
    data = load_image_dataset(name)
    assert data.source == data_module.SOURCE_TORCHVISION
    assert data.train_images.shape == (30, 1, 28, 28) and data.test_images.shape == (20, 1, 28, 28)
    assert data.train_images.dtype == torch.float32 and data.train_labels.dtype == torch.int64
    torch.testing.assert_close(data.train_images[:, 0], torch.from_numpy(train_x).float() / 255)
    assert data.test_labels.tolist() == test_y.tolist()
    assert len(data.class_names) == 10


def test_gzip_only_raw_files_are_read_without_download(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST", n_train=10, n_test=10, compress=True)
    data = load_image_dataset("mnist")
    assert data.source == data_module.SOURCE_TORCHVISION and len(data.train_labels) == 10


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar10'.*\['fashion_mnist', 'mnist'\]"):
        load_image_dataset("cifar10")


def _failing_download(monkeypatch, calls):
    def fail(self):
        calls.append(type(self).__name__)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.delenv(data_module.OFFLINE_ENV_VAR)
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fail)


def test_offline_fallback_after_a_failed_download(monkeypatch, capsys):
    calls = []
    _failing_download(monkeypatch, calls)
    data = load_image_dataset("mnist")
    assert calls == ["MNIST"]  # the real download path was tried first
    assert data.source == data_module.SOURCE_OFFLINE_SAMPLE and data.is_offline_sample
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


def test_offline_split_is_deterministic_and_disjoint():
    a = data_module._load_offline_sample()
    b = data_module._load_offline_sample()
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_labels, b.test_labels)
    train_set = {x.numpy().tobytes() for x in a.train_images}
    assert not any(x.numpy().tobytes() in train_set for x in a.test_images)


def test_fallback_turned_off_raises_the_download_error_with_advice(monkeypatch):
    _failing_download(monkeypatch, [])
    with pytest.raises(DatasetUnavailableError, match="allow_offline_sample=False.*Error downloading.*MNIST/raw"):
        load_image_dataset("mnist", allow_offline_sample=False)


def test_fashion_mnist_offline_is_a_clear_error():
    with pytest.raises(DatasetUnavailableError, match="FashionMNIST is not on disk.*FashionMNIST/raw"):
        load_image_dataset("fashion_mnist")


def test_dataloaders_batch_in_memory_tensors_with_a_seeded_split(tiny_mnist):
    train_cfg = {"batch_size": 32, "val_fraction": 0.25, "device": "cpu"}
    bundle = build_image_dataloaders({"name": "mnist"}, train_cfg, seed=0)
    assert bundle.input_shape == (1, 28, 28) and bundle.num_classes == 10
    train_batches = list(bundle.train_loader)
    assert train_batches[0][0].shape == (32, 1, 28, 28) and train_batches[0][1].dtype == torch.int64
    assert sum(len(y) for _, y in train_batches) == 150
    assert sum(len(y) for _, y in bundle.val_loader) == 50
    assert sum(len(y) for _, y in bundle.test_loader) == 100
    # same seed, same order; the test loader is not shuffled
    again = build_image_dataloaders({"name": "mnist"}, train_cfg, seed=0)
    assert torch.equal(next(iter(again.train_loader))[1], train_batches[0][1])
    test_labels = torch.cat([y for _, y in bundle.test_loader])
    assert torch.equal(test_labels, load_image_dataset("mnist").test_labels)


def test_dataloaders_without_validation(tiny_mnist):
    bundle = build_image_dataloaders({"name": "mnist"}, {"batch_size": 50, "val_fraction": 0.0}, seed=0)
    assert bundle.val_loader is None
    assert sum(len(y) for _, y in bundle.train_loader) == 200


def test_bad_val_fraction_is_rejected():
    with pytest.raises(ValueError, match="val_fraction"):
        split_validation(torch.zeros(4, 1), torch.zeros(4), 1.0, seed=0)
    for fraction in (0.9999, 0.01):  # 4 images: nothing left to train on, or nothing to validate on
        with pytest.raises(ValueError, match="leaves at least one on each side"):
            split_validation(torch.zeros(4, 1), torch.zeros(4), fraction, seed=0)
