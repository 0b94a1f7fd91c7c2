"""Helpers for reading the weights of bilinear MLPs. The notebooks in `notebooks/` are the tutorial.

Data flows one way: `checks` -> `catalog` -> `config` / `presets` -> `data` -> `groups` ->
`models` -> `training` (run folders, checkpoints, `load_or_train`) -> `artifacts` /
`decomposition` -> `analysis` -> `plotting`. Nothing imports upwards.

Glossary (one name per object, in math, code, docstrings and notebooks):

| math    | code                              | what it is                                                |
|---------|-----------------------------------|-----------------------------------------------------------|
| x       | `images`, `x`                     | inputs `[B, C, H, W]` or `[B, d_input]`; `image_shape` is (C, H, W) |
| E       | `model.embedding_weight`          | the embedding, pixels to hidden, `[d_hidden, d_input]`    |
| block b | `block=b` (0-based, -1: the last) | one bilinear layer `g(h) = (L h) * (R h)`; `n_layer` counts them |
| L, R    | `model.left_weight(b)`, `right_`  | block b's two weights, `[out, in]`                        |
| h       | `model.block_input(x, b)`         | what block b reads (block 0: `E x`); `block_output` writes |
| U       | `model.readout_weight`            | the readout, hidden to classes, `[cls, out]`              |
| B_c     | `raw_interactions`                | class c's raw interaction matrix `sum_o U[c,o] L[o] (x) R[o]` |
| Q_c     | `interactions`                    | its interaction matrix `(B_c + B_c^T) / 2`                |
| lambda  | `eigenvalues[c, k]`               | `Q_c = sum_k lambda_k v_k v_k^T`, ascending (-1: most positive) |
| v_k     | `eigenvectors[c, k]`              | eigenvector k of output c, a row, oriented by `SIGN_RULE` |
| E^T v_k | `pixel_eigenvectors[c, k]`        | the same eigenvector as an image (block 0 only)           |

Prose names blocks as the code does: "block 0", "block 1".
Every weight matrix, live, is in `model.weight_matrices()` ("embedding", "block 0", ...,
"readout"). Tensor axes: `cls` class (or output), `out` a block's output unit, `in1 in2`
the two inputs of an interaction matrix (the block's input space), `comp` eigen-component,
`inp` pixel.
"""

from . import analysis, data, exercises, groups, plotting, training
from .artifacts import DecompositionArtifacts
from .checks import ConfigError
from .config import ExperimentConfig
from .data import dataset_files_present, load_image_dataset
from .decomposition import (
    decompose,
    decompose_bilinear_model,
    decompose_direction,
    raw_interaction_matrices,
    symmetrize,
)
from .groups import group_task, make_group
from .models import Bilinear, BilinearImageClassifier, ReLUImageClassifier, ReLUMLP, accuracy, build_image_classifier
from .parameters import check_parameters
from .paths import data_dir, display_path, figures_dir
from .presets import PRESETS, make_config, preset_for
from .runtime import resolve_device
from .training import (
    TrainedRun,
    block_clusters,
    clusterability,
    evaluate,
    is_full_length,
    learning_rates,
    load_or_train,
    model_clusterability,
    model_from_checkpoint,
    weight_decay_factor,
)
from .uncertainty import accuracy_difference, accuracy_standard_error

__all__ = [
    "PRESETS",
    "Bilinear",
    "BilinearImageClassifier",
    "ConfigError",
    "DecompositionArtifacts",
    "ExperimentConfig",
    "ReLUImageClassifier",
    "ReLUMLP",
    "TrainedRun",
    "accuracy",
    "accuracy_difference",
    "accuracy_standard_error",
    "analysis",
    "block_clusters",
    "build_image_classifier",
    "check_parameters",
    "clusterability",
    "data",
    "exercises",
    "data_dir",
    "dataset_files_present",
    "decompose",
    "decompose_bilinear_model",
    "decompose_direction",
    "display_path",
    "evaluate",
    "figures_dir",
    "group_task",
    "groups",
    "is_full_length",
    "learning_rates",
    "load_image_dataset",
    "load_or_train",
    "make_config",
    "make_group",
    "model_clusterability",
    "model_from_checkpoint",
    "plotting",
    "preset_for",
    "raw_interaction_matrices",
    "resolve_device",
    "symmetrize",
    "training",
    "weight_decay_factor",
]
