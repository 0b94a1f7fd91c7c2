"""The IDX file format of MNIST and Fashion-MNIST: read with checks, write for tests and benchmarks.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values. MNIST uses unsigned
bytes (type code 0x08): images are `[N, rows, cols]`, labels `[N]`. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..paths import atomic_write, display_path

UNSIGNED_BYTE = 0x08


class DatasetFileError(ValueError):
    """A dataset file that cannot be read: the message names the file, the problem and the fix."""


def _fail(path: Path, problem: str, fix: str) -> DatasetFileError:
    return DatasetFileError(f"{display_path(path)}: {problem}. {fix}")


def read_idx(path: str | os.PathLike, fix: str = "Delete it and download it again.") -> np.ndarray:
    """The array an IDX file holds (plain or `.gz`), checked: magic, type, dimensions, size.

    Every problem is a DatasetFileError naming the file, what is wrong, and `fix`.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(path, f"not a readable gzip file ({exc})", fix) from None
    if len(raw) < 4:
        raise _fail(path, f"only {len(raw)} bytes, too short for an IDX header", fix)
    zero, type_code, n_dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code != UNSIGNED_BYTE or not 1 <= n_dims <= 3:
        raise _fail(path, f"wrong magic number 0x{raw[:4].hex()} (expected 0x000008 then 01 or 03): not an "
                    "unsigned-byte IDX file", fix)
    header = 4 + 4 * n_dims
    if len(raw) < header:
        raise _fail(path, f"the header is truncated ({len(raw)} bytes, {header} needed)", fix)
    shape = struct.unpack(f">{n_dims}I", raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise _fail(path, f"{problem}: {len(raw)} bytes where shape {shape} needs {expected}", fix)
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool = False) -> Path:
    """Write an unsigned-byte IDX file (gzipped when `compress`; `.gz` is then added to the name).

    `array` must hold whole numbers 0..255 (any integer dtype); anything else would be silently
    wrapped or truncated by the cast to bytes, so it is a ValueError.
    """
    array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError(f"array must have at least one axis, got a scalar {array!r}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"array must hold integers 0..255 (IDX unsigned bytes), got dtype {array.dtype}; images in "
                         "[0, 1] become bytes with (x * 255).round().astype(np.uint8)")
    if array.size and (int(array.min()) < 0 or int(array.max()) > 255):
        raise ValueError(f"array values must be 0..255 (IDX unsigned bytes), got {int(array.min())}.."
                         f"{int(array.max())}")
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = struct.pack(">HBB", 0, UNSIGNED_BYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.tobytes()
    path = Path(path)
    if compress:
        path, payload = path.with_name(path.name + ".gz"), gzip.compress(payload, mtime=0)
    return atomic_write(path, lambda f: f.write(payload))


def read_split(images_path: Path, labels_path: Path, n_classes: int, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images `[N, rows, cols]` and labels `[N]` of one split, checked against each other."""
    images, labels = read_idx(images_path, fix), read_idx(labels_path, fix)
    if images.ndim != 3:
        raise _fail(images_path, f"expected images [N, rows, cols], found shape {images.shape}", fix)
    if labels.ndim != 1:
        raise _fail(labels_path, f"expected labels [N], found shape {labels.shape}", fix)
    if len(images) == 0:
        raise _fail(images_path, "it holds 0 images: a split needs at least one", fix)
    if len(images) != len(labels):
        raise _fail(labels_path, f"{len(labels)} labels for {len(images)} images in {images_path.name}", fix)
    if len(labels) and int(labels.max()) >= n_classes:
        raise _fail(labels_path, f"label {int(labels.max())} is out of range for {n_classes} classes", fix)
    return images, labels
