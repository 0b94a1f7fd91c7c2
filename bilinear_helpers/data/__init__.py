"""Datasets as in-memory tensors: image datasets and their offline fallback (`images`), the
IDX file format (`idx`), and batching by index (`loaders`)."""

from .idx import DatasetFileError, read_idx, write_idx
from .images import DatasetUnavailableError, ImageDataset, dataset_files_present, load_image_dataset
from .loaders import DatasetBundle, build_image_dataloaders

__all__ = ["DatasetBundle", "DatasetFileError", "DatasetUnavailableError", "ImageDataset", "build_image_dataloaders",
           "dataset_files_present", "load_image_dataset", "read_idx", "write_idx"]
