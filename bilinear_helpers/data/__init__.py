"""Datasets as in-memory tensors: image datasets and their offline fallback (`images`), the
IDX file format (`idx`), batching by index (`loaders`), and backdoor poisoning (`poisoning`)."""

from .idx import DatasetFileError, read_idx, write_idx
from .images import DatasetUnavailableError, ImageDataset, dataset_files_present, load_image_dataset
from .loaders import DatasetBundle, build_image_dataloaders
from .poisoning import Poisoned, plant_trigger, stamp, trigger_pattern

__all__ = ["DatasetBundle", "DatasetFileError", "DatasetUnavailableError", "ImageDataset", "build_image_dataloaders",
           "Poisoned", "dataset_files_present", "load_image_dataset", "plant_trigger", "read_idx", "stamp",
           "trigger_pattern", "write_idx"]
