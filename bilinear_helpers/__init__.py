"""Helpers for reading the weights of bilinear MLPs: models, data, training, checkpoints.

The notebooks in `notebooks/` are the tutorial; this package keeps them short.
"""

from .adversarial import AdversarialMasks, adversarial_masks, mask_attack
from .checkpoints import (
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
)
from .data import (
    DATASETS,
    DatasetBundle,
    DatasetUnavailableError,
    ImageDataset,
    build_image_dataloaders,
    dataset_files_present,
    load_image_dataset,
)
from .decomposition import (
    DecompositionArtifacts,
    build_bilinear_tensor,
    decompose_bilinear_model,
    decompose_direction,
    eigenvector_logits,
    project_eigenvectors_to_input,
    symmetrize_bilinear_tensor,
)
from .models import Bilinear, BilinearImageClassifier, ReLUImageClassifier, build_image_classifier
from .paths import data_dir, display_path, figures_dir
from .recipes import PRESETS, TrainedRun, load_or_train, make_config, preset_for
from .runtime import resolve_device, set_seed
from .training import (
    DEFAULT_CONFIG,
    build_scheduler,
    evaluate,
    resolve_config,
    run_name,
    train_image_experiment,
    warmup_step_factor,
)
from .truncation import hosvd, hosvd_accuracy, truncated_accuracy

__all__ = [
    "AdversarialMasks",
    "adversarial_masks",
    "hosvd",
    "hosvd_accuracy",
    "mask_attack",
    "truncated_accuracy",
    "DATASETS",
    "DEFAULT_CONFIG",
    "FORMAT_VERSION",
    "PRESETS",
    "Bilinear",
    "BilinearImageClassifier",
    "CheckpointError",
    "DatasetBundle",
    "DecompositionArtifacts",
    "DatasetUnavailableError",
    "ImageDataset",
    "ReLUImageClassifier",
    "TrainedRun",
    "build_bilinear_tensor",
    "build_image_classifier",
    "build_image_dataloaders",
    "build_scheduler",
    "data_dir",
    "dataset_files_present",
    "decompose_bilinear_model",
    "decompose_direction",
    "eigenvector_logits",
    "display_path",
    "evaluate",
    "figures_dir",
    "load_checkpoint",
    "load_image_dataset",
    "load_or_train",
    "make_config",
    "preset_for",
    "model_from_checkpoint",
    "project_eigenvectors_to_input",
    "resolve_config",
    "resolve_device",
    "run_name",
    "save_checkpoint",
    "set_seed",
    "symmetrize_bilinear_tensor",
    "train_image_experiment",
    "warmup_step_factor",
]
