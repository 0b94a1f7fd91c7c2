"""IDX files: written once, read with checks that name the file, the problem and the fix."""

import gzip

import numpy as np
import pytest

from bilinear_helpers import load_image_dataset
from bilinear_helpers.data import DatasetFileError, read_idx, write_idx
from bilinear_helpers.data.images import raw_folder

from ..conftest import write_tiny_dataset


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4)])
def test_round_trip(tmp_path, compress, shape):
    array = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    path = write_idx(tmp_path / "x-idx-ubyte", array, compress=compress)
    assert path.name.endswith(".gz") == compress
    np.testing.assert_array_equal(read_idx(path), array)


def _images_file(root):
    return raw_folder("mnist", root) / "train-images-idx3-ubyte"


def _labels_file(root):
    return raw_folder("mnist", root) / "train-labels-idx1-ubyte"


CORRUPTIONS = {
    "wrong magic": (lambda b: b"\x00\x00\x09\x03" + b[4:], r"wrong magic number 0x00000903"),
    "truncated": (lambda b: b[: len(b) // 2], r"truncated: \d+ bytes where shape \(200, 28, 28\)"),
    "empty": (lambda b: b"", r"only 0 bytes, too short for an IDX header"),
    "header cut": (lambda b: b[:9], r"the header is truncated"),
    "too long": (lambda b: b + b"\x00" * 7, r"longer than its header says"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_files_name_the_file_the_problem_and_the_fix(isolated_data, case):
    write_tiny_dataset(isolated_data, "MNIST")
    corrupt, message = CORRUPTIONS[case]
    path = _images_file(isolated_data)
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DatasetFileError, match=rf"train-images-idx3-ubyte: {message}.*Delete it and download it again"):
        load_image_dataset("mnist", allow_offline_sample=False)


def test_a_corrupt_gzip_is_named(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST", compress=True)
    path = raw_folder("mnist") / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DatasetFileError, match=r"t10k-labels-idx1-ubyte.gz: not a readable gzip file.*Delete it"):
        load_image_dataset("mnist")


def test_images_and_labels_must_pair_up(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST")
    labels = read_idx(_labels_file(isolated_data))
    write_idx(_labels_file(isolated_data), labels[:150])
    with pytest.raises(DatasetFileError, match=r"train-labels-idx1-ubyte: 150 labels for 200 images"):
        load_image_dataset("mnist")


@pytest.mark.parametrize("split", ["train", "t10k"])
def test_a_split_with_no_images_is_named(isolated_data, split):
    write_tiny_dataset(isolated_data, "MNIST")
    folder = raw_folder("mnist", isolated_data)
    write_idx(folder / f"{split}-images-idx3-ubyte", np.zeros((0, 28, 28), dtype=np.uint8))
    write_idx(folder / f"{split}-labels-idx1-ubyte", np.zeros((0,), dtype=np.uint8))
    with pytest.raises(DatasetFileError, match=f"{split}-images-idx3-ubyte.*it holds 0 images"):
        load_image_dataset("mnist")


def test_labels_must_name_a_class(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST")
    labels = read_idx(_labels_file(isolated_data)).copy()
    labels[7] = 255
    write_idx(_labels_file(isolated_data), labels)
    with pytest.raises(DatasetFileError, match=r"label 255 is out of range for 10 classes"):
        load_image_dataset("mnist")


def test_images_must_be_three_dimensional(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST")
    write_idx(_images_file(isolated_data), np.zeros((200, 784), dtype=np.uint8))
    with pytest.raises(DatasetFileError, match=r"expected images \[N, rows, cols\], found shape \(200, 784\)"):
        load_image_dataset("mnist")


def test_images_of_another_size_are_refused(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST")
    write_idx(_images_file(isolated_data), np.zeros((200, 14, 14), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"images are \(14, 14\), mnist expects \(28, 28\)"):
        load_image_dataset("mnist")


def test_gzipped_files_are_read_without_unpacking(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST", compress=True)
    data = load_image_dataset("mnist")
    assert data.train_images.shape == (200, 1, 28, 28) and data.image_shape == (1, 28, 28)
    assert not any(p.suffix != ".gz" for p in raw_folder("mnist").iterdir())
    with gzip.open(raw_folder("mnist") / "train-labels-idx1-ubyte.gz") as f:
        assert f.read(4) == b"\x00\x00\x08\x01"


@pytest.mark.parametrize(("array", "message"), [
    (np.array([0.5, 300.0, -1.0]), "array must hold integers 0..255"),
    (np.array([True, False]), "array must hold integers 0..255"),
    (np.array([0, 300]), r"array values must be 0..255 \(IDX unsigned bytes\), got 0..300"),
    (np.array([-1, 3]), r"got -1..3"),
    (np.array(7), "array must have at least one axis"),
])
def test_values_that_are_not_bytes_are_never_cast_silently(tmp_path, array, message):
    with pytest.raises(ValueError, match=message):
        write_idx(tmp_path / "x", array)
    assert not (tmp_path / "x").exists()


def test_any_integer_dtype_of_bytes_round_trips(tmp_path):
    array = np.array([[0, 17], [255, 3]], dtype=np.int64)
    assert np.array_equal(read_idx(write_idx(tmp_path / "x", array)), array)
