"""IDX files: written once, read with checks that name the file, the problem and the fix."""

import gzip

import numpy as np
import pytest

from bilinear_helpers import DatasetFileError, load_image_dataset
from bilinear_helpers.data import raw_folder
from bilinear_helpers.idx import read_idx, write_idx

from .conftest import write_tiny_dataset


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "x-idx3-ubyte", images, compress=compress)
    assert path.name.endswith(".gz") == compress
    np.testing.assert_array_equal(read_idx(path), images)


def _images_file(root):
    return raw_folder("mnist", root) / "train-images-idx3-ubyte"


def _labels_file(root):
    return raw_folder("mnist", root) / "train-labels-idx1-ubyte"


CORRUPTIONS = {
    "wrong magic": (_images_file, lambda b: b"\x00\x00\x09\x03" + b[4:], r"wrong magic number 0x00000903"),
    "truncated": (_images_file, lambda b: b[: len(b) // 2], r"truncated: \d+ bytes where shape \(200, 28, 28\)"),
    "empty": (_images_file, lambda b: b"", r"only 0 bytes, too short for an IDX header"),
    "header cut": (_images_file, lambda b: b[:9], r"the header is truncated"),
    "too long": (_images_file, lambda b: b + b"\x00" * 7, r"longer than its header says"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_files_name_the_file_the_problem_and_the_fix(isolated_data, case):
    write_tiny_dataset(isolated_data, "MNIST")
    which, corrupt, message = CORRUPTIONS[case]
    path = which(isolated_data)
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


def test_labels_must_name_a_class(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST")
    labels = read_idx(_labels_file(isolated_data)).copy()
    labels[7] = 255
    write_idx(_labels_file(isolated_data), labels)
    with pytest.raises(DatasetFileError, match=r"label 255 is out of range for 10 classes"):
        load_image_dataset("mnist")


def test_gzipped_files_are_read_without_unpacking(isolated_data):
    write_tiny_dataset(isolated_data, "MNIST", compress=True)
    data = load_image_dataset("mnist")
    assert data.train_images.shape == (200, 1, 28, 28) and data.image_shape == (28, 28)
    assert not any(p.suffix != ".gz" for p in raw_folder("mnist").iterdir())
    with gzip.open(raw_folder("mnist") / "train-labels-idx1-ubyte.gz") as f:
        assert f.read(4) == b"\x00\x00\x08\x01"
