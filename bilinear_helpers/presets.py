"""The named recipes (`PRESETS`) and `make_config`, which lays overrides over one of them.

Recipes are budgeted in optimizer steps, not epochs: the 4,000-image offline sample and
the 54,000 training images of full MNIST get the same number of AdamW updates, so weight
decay has the same time to act on both (`training.weight_decay_factor` measures it).
"""

from __future__ import annotations

from .config import DatasetConfig, ExperimentConfig, ModelConfig, TrainConfig, _choice


def _preset(name: str, dataset: str, model: dict, **train) -> ExperimentConfig:
    return ExperimentConfig(name, 0, DatasetConfig(dataset), ModelConfig(**model), TrainConfig(**train))


# 3,000 AdamW steps at weight decay 1.0 (the paper's): long enough that decay shrinks an unused weight to
# a fifth (weight_decay_factor about 0.22 under the cosine schedule), which is what clears the leftover
# initialisation out of the eigenvectors. About 30 s on a 2-core CPU.
ONE_LAYER_RECIPE = dict(steps=3000, batch_size=256, lr=1e-3, weight_decay=1.0, schedule="cosine", input_noise_std=0.33)

PRESETS: dict[str, ExperimentConfig] = {
    # One layer, d_hidden 256: the reading-the-weights baselines (97.99% MNIST, 89.09% Fashion-MNIST).
    "mnist_baseline": _preset("mnist_baseline", "mnist", {"d_hidden": 256, "n_layer": 1}, **ONE_LAYER_RECIPE),
    "fmnist_baseline": _preset("fmnist_baseline", "fashion_mnist", {"d_hidden": 256, "n_layer": 1},
                               **ONE_LAYER_RECIPE),
    # The model of the seed notebook "MNIST | Two Layer Bilinear Model" (Weight-based Decomposition, 2024):
    # its width, batch, input and layer noise. Its warm-up-then-halving schedule ("warmup_step") spends
    # four fifths of a run at lr/64, where weight decay barely acts, so the step-budgeted recipe uses the
    # one-layer recipe's cosine schedule and weight decay instead.
    "two_layer_mnist": _preset(
        "two_layer_mnist", "mnist", {"d_hidden": 300, "n_layer": 2},
        steps=3000, batch_size=100, lr=1e-3, weight_decay=1.0, schedule="cosine",
        input_noise_std=0.33, layer_noise=0.33,
    ),
    # "Bilinear MLPs enable weight-based mechanistic interpretability" (ICLR 2025), MNIST: 100 epochs
    # of full MNIST at batch 2048, the paper's own length.
    "paper_mnist": _preset(
        "paper_mnist", "mnist", {"d_hidden": 512, "n_layer": 1},
        epochs=100, batch_size=2048, lr=1e-3, weight_decay=1.0, schedule="cosine", input_noise_std=0.5,
    ),
}

TUTORIAL_PRESETS = {"mnist": "mnist_baseline", "fashion_mnist": "fmnist_baseline"}


def preset_for(dataset: str) -> str:
    """The one-layer preset the notebooks use for `dataset` ("mnist" or "fashion_mnist")."""
    return TUTORIAL_PRESETS[_choice("dataset", dataset, sorted(TUTORIAL_PRESETS))]


def make_config(preset: str | dict | ExperimentConfig, **overrides) -> ExperimentConfig:
    """A checked config from a preset name, a config (dict or typed) and flat overrides.

    `make_config("two_layer_mnist", steps=500, device="cpu")`; the override names are the
    keys of the `train` and `model` sections plus `dataset`, `data_root`, `seed` and
    `experiment_name`. Giving `epochs` replaces the preset's `steps` (and the other way
    round). Unknown names and bad values are ConfigErrors.
    """
    if isinstance(preset, str):
        base = PRESETS[_choice("preset", preset, sorted(PRESETS))]
    else:
        base = ExperimentConfig.from_dict(preset)
    return base.replace(**overrides) if overrides else base
