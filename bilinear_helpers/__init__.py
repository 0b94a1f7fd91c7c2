"""Helpers for reading the weights of bilinear MLPs. The notebooks in `notebooks/` are the tutorial.

Data flows one way: `config` -> `data` / `loaders` -> `models` -> `training` / `experiments`
(runs and `checkpoints`) -> `decomposition` (`artifacts`) -> `analysis` -> `plotting`.

Glossary (one name per object, in math, code, docstrings and notebooks):

| math      | code                               | what it is                                              |
|-----------|------------------------------------|---------------------------------------------------------|
| x         | images, `x`                        | an input, `[B, C, H, W]` or flat `[B, d_input]`, in [0, 1] |
| E         | `embedding_weight` (`model.embed`) | the embedding, pixels to hidden, `[d_hidden, d_input]`  |
| block l   | `model.blocks[l]`, `layer=l`       | one bilinear layer `g(h) = (L h) * (R h)`; `layer=` indexes blocks |
| L, R      | `left`, `right` (`block.w_l/w_r`)  | the block's two weights, `[out, in]`                    |
| h         | `model.block_input(x, layer)`      | the input of a block (block 0: `E x`)                   |
| U         | `output_weight` (`model.head`)     | the readout, hidden to classes, `[cls, out]`            |
| B_c       | `bilinear_tensor`                  | class c's interaction matrix `sum_o U[c,o] L[o] (x) R[o]` |
| Q_c       | `symmetrized_tensor`               | `(B_c + B_c^T) / 2`, the part a quadratic form sees     |
| lambda, v | `eigenvalues`, `eigenvectors_hidden` | `Q_c = V diag(lambda) V^T`, ascending                |
| E^T v     | `eigenvectors_input`               | an eigenvector as an image (block 0 only)               |

Tensor axes: `cls` class (or output), `out` a block's output unit, `in1 in2` the two inputs
of an interaction matrix (the block's input space), `comp` eigen-component, `inp` pixel.
"""

from . import analysis, plotting
from .analysis import AdversarialMasks, adversarial_masks, hosvd, hosvd_accuracy, mask_attack, truncated_accuracy
from .artifacts import SIGN_RULE, DecompositionArtifacts
from .checkpoints import FORMAT_VERSION, CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint
from .clusterability import block_clusters, clusterability, clusterability_penalty, model_clusterability
from .config import (
    DEFAULT_CONFIG,
    ConfigError,
    DatasetConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    resolve_config,
    run_name,
)
from .data import DATASETS, DatasetUnavailableError, ImageDataset, dataset_files_present, load_image_dataset
from .decomposition import (
    build_bilinear_tensor,
    decompose,
    decompose_bilinear_model,
    decompose_direction,
    project_eigenvectors_to_input,
    symmetrize_bilinear_tensor,
)
from .experiments import accuracy_bound, is_full_length, load_or_train, train_image_experiment
from .group_data import GroupTask, group_task, one_hot_pairs
from .groups import Group, alternating_group, cyclic_group, dihedral_group, make_group, symmetric_group
from .idx import DatasetFileError
from .loaders import DatasetBundle, build_image_dataloaders
from .models import Bilinear, BilinearImageClassifier, ReLUImageClassifier, ReLUMLP, accuracy, build_image_classifier
from .paths import data_dir, display_path, figures_dir
from .presets import PRESETS, make_config, preset_for
from .runs import RunError, RunLayout, TrainedRun
from .runtime import resolve_device, set_seed
from .training import (
    build_scheduler,
    evaluate,
    learning_rates,
    train_full_batch,
    warmup_step_factor,
    weight_decay_factor,
)

__all__ = [
    "DATASETS",
    "DEFAULT_CONFIG",
    "FORMAT_VERSION",
    "Group",
    "GroupTask",
    "PRESETS",
    "SIGN_RULE",
    "AdversarialMasks",
    "Bilinear",
    "BilinearImageClassifier",
    "CheckpointError",
    "ConfigError",
    "DatasetBundle",
    "DatasetConfig",
    "DatasetFileError",
    "DatasetUnavailableError",
    "DecompositionArtifacts",
    "ExperimentConfig",
    "ImageDataset",
    "ModelConfig",
    "ReLUImageClassifier",
    "ReLUMLP",
    "RunError",
    "RunLayout",
    "TrainConfig",
    "TrainedRun",
    "accuracy",
    "accuracy_bound",
    "is_full_length",
    "adversarial_masks",
    "alternating_group",
    "analysis",
    "block_clusters",
    "build_bilinear_tensor",
    "build_image_classifier",
    "build_image_dataloaders",
    "build_scheduler",
    "clusterability",
    "clusterability_penalty",
    "cyclic_group",
    "data_dir",
    "dataset_files_present",
    "decompose",
    "decompose_bilinear_model",
    "decompose_direction",
    "dihedral_group",
    "display_path",
    "evaluate",
    "figures_dir",
    "group_task",
    "hosvd",
    "hosvd_accuracy",
    "load_checkpoint",
    "load_image_dataset",
    "learning_rates",
    "load_or_train",
    "make_config",
    "make_group",
    "mask_attack",
    "model_clusterability",
    "model_from_checkpoint",
    "one_hot_pairs",
    "plotting",
    "preset_for",
    "project_eigenvectors_to_input",
    "resolve_config",
    "resolve_device",
    "run_name",
    "save_checkpoint",
    "set_seed",
    "symmetric_group",
    "symmetrize_bilinear_tensor",
    "train_full_batch",
    "train_image_experiment",
    "truncated_accuracy",
    "warmup_step_factor",
    "weight_decay_factor",
]
