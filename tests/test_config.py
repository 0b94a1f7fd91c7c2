"""Typed configs: defaults, presets, flat overrides, and every bad value refused before work starts."""

import numpy as np
import pytest
import torch

from bilinear_helpers import PRESETS, ConfigError, ExperimentConfig, TrainConfig, make_config, resolve_config, run_name
from bilinear_helpers.config import DEFAULT_STEPS

from .conftest import tiny_config


def test_resolve_config_fills_defaults_and_rejects_unknown_keys():
    cfg = resolve_config({"train": {"epochs": 2}})
    assert cfg.train.epochs == 2 and cfg.train.schedule == "cosine" and cfg.model.d_hidden == 256
    with pytest.raises(ConfigError, match=r"config section 'train'.*'epoch' \(did you mean 'epochs'\?\)"):
        resolve_config({"train": {"epoch": 2}})
    with pytest.raises(ConfigError, match="unknown key.*'trian'"):
        resolve_config({"trian": {}})
    with pytest.raises(ConfigError, match="config section 'model'.*'width'"):
        resolve_config({"model": {"width": 3}})
    with pytest.raises(ConfigError, match="section 'train' must be a dict"):
        resolve_config({"train": 3})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"train": {"schedule": "linear"}}, "unknown train.schedule 'linear'"),
        ({"train": {"device": "tpu"}}, "unknown train.device 'tpu'"),
        ({"dataset": {"name": "svhn"}}, "unknown dataset 'svhn'"),
        ({"train": {"epochs": 0}}, r"train.epochs must be >= 1, got 0"),
        ({"train": {"epochs": True}}, r"train.epochs must be a whole number, got True"),
        ({"train": {"epochs": 2.5}}, r"train.epochs must be a whole number"),
        ({"train": {"lr": -1.0}}, r"train.lr must be >= 0"),
        ({"train": {"lr": float("nan")}}, r"train.lr must be a finite number"),
        ({"train": {"input_noise_std": True}}, r"train.input_noise_std must be a finite number, got True"),
        ({"train": {"val_fraction": 1.5}}, r"train.val_fraction must be in \[0.0, 1.0\)"),
        ({"train": {"val_fraction": "0.1"}}, r"train.val_fraction must be a finite number, got '0.1'"),
        ({"experiment_name": "a/b"}, "experiment_name"),
        ({"seed": "a"}, r"seed must be a whole number, got 'a'"),
        ({"seed": 1.5}, r"seed must be a whole number, got 1.5"),
        ({"seed": 2**64}, r"seed must be in \[0, 4294967296\)"),
        ({"seed": -1}, r"seed must be in \[0, 4294967296\)"),
        ({"model": {"d_hidden": 0}}, r"model.d_hidden must be >= 1, got 0"),
        ({"model": {"d_hidden": -5}}, r"model.d_hidden must be >= 1, got -5"),
        ({"model": {"d_hidden": "16"}}, r"model.d_hidden must be a whole number, got '16'"),
        ({"model": {"d_hidden": 16.5}}, r"model.d_hidden must be a whole number, got 16.5"),
        ({"model": {"bias": "no"}}, r"model.bias must be True or False, got 'no'"),
        ({"model": {"n_layer": 0}}, r"model.n_layer must be >= 1"),
        ({"model": {"kind": "cnn"}}, r"unknown model.kind 'cnn'"),
        ({"model": {"gate": "tanh"}}, r"unknown model.gate 'tanh'"),
        ({"model": {"kind": "relu", "residual": True}}, "ReLU baseline has no residual"),
        ({"model": {"d_output": 5}}, r"model.d_output=5 does not match mnist's 10 classes: set d_output=10"),
        ({"model": {"d_input": 100}}, r"model.d_input=100 does not match mnist's images .*set d_input=784"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_the_value(patch, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(patch)


@pytest.mark.parametrize("scalar", [np.float64, np.float32, lambda v: torch.tensor(v)])
def test_numpy_and_torch_scalars_become_plain_python(scalar):
    cfg = make_config("mnist_baseline", lr=scalar(1e-3), weight_decay=scalar(0.5), epochs=np.int64(3), seed=np.int32(2))
    assert type(cfg.train.lr) is float and type(cfg.train.weight_decay) is float
    assert type(cfg.train.epochs) is int and type(cfg.seed) is int
    assert cfg.train.lr == pytest.approx(1e-3) and cfg.train.epochs == 3 and cfg.seed == 2


def test_a_sweep_over_logspace_builds_plain_configs():
    for lr in np.logspace(-4, -2, 3):
        cfg = make_config("mnist_baseline", lr=lr)
        assert type(cfg.train.lr) is float and type(cfg.to_dict()["train"]["lr"]) is float


def test_run_name_tracks_what_is_learned_not_where():
    base = tiny_config()
    assert run_name(base) == run_name(tiny_config(device="auto"))
    assert run_name(base) != run_name(tiny_config(epochs=4))
    assert run_name(base).startswith("tiny_")
    assert run_name(base) == resolve_config(base).run_name


def test_config_round_trips_through_a_dict():
    cfg = make_config("two_layer_mnist", epochs=3)
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    assert make_config(cfg) == cfg and make_config(cfg.to_dict(), epochs=3) == cfg


def test_presets_keep_the_published_recipes():
    two = make_config("two_layer_mnist")
    assert two.model.d_hidden == 300 and two.model.n_layer == 2
    for key, value in {"input_noise_std": 0.33, "layer_noise": 0.33, "lr": 1e-3, "batch_size": 100}.items():
        assert getattr(two.train, key) == value, key  # the seed notebook's model; the length is a step budget
    paper = make_config("paper_mnist")
    assert paper.model.d_hidden == 512 and paper.model.n_layer == 1
    for key, value in {"input_noise_std": 0.5, "weight_decay": 1.0, "batch_size": 2048, "schedule": "cosine",
                       "epochs": 100, "steps": None}.items():
        assert getattr(paper.train, key) == value, key
    for name, dataset in (("mnist_baseline", "mnist"), ("fmnist_baseline", "fashion_mnist")):
        cfg = make_config(name)
        assert cfg.model.d_hidden == 256 and cfg.model.n_layer == 1 and cfg.dataset.name == dataset
        assert cfg.train.steps == 3000 and cfg.train.epochs is None
    assert set(PRESETS) == {"mnist_baseline", "fmnist_baseline", "two_layer_mnist", "paper_mnist"}


def test_make_config_routes_flat_overrides_to_their_sections():
    cfg = make_config("two_layer_mnist", epochs=3, d_hidden=20, dataset="fashion_mnist", data_root="/x", seed=4)
    assert cfg.train.epochs == 3 and cfg.model.d_hidden == 20
    assert cfg.dataset.name == "fashion_mnist" and cfg.dataset.root == "/x" and cfg.seed == 4
    assert PRESETS["two_layer_mnist"].train.steps == 3000  # presets are not mutated


def test_a_run_length_is_steps_or_epochs_never_both():
    by_steps = make_config("mnist_baseline", steps=100)
    assert (by_steps.train.steps, by_steps.train.epochs) == (100, None)
    by_epochs = make_config("mnist_baseline", epochs=2)  # an epoch count replaces the preset's step budget
    assert (by_epochs.train.steps, by_epochs.train.epochs) == (None, 2)
    assert make_config(by_epochs, steps=50).train.epochs is None
    assert TrainConfig().steps == DEFAULT_STEPS and TrainConfig(epochs=4).steps is None
    with pytest.raises(ConfigError, match="one of train.epochs and train.steps, not both"):
        make_config("mnist_baseline", steps=10, epochs=2)
    with pytest.raises(ConfigError, match=r"train.steps must be >= 1"):
        make_config("mnist_baseline", steps=0)
    with pytest.raises(ConfigError, match="whole number"):
        make_config("mnist_baseline", steps=2.5)


@pytest.mark.parametrize(("steps", "batches", "epochs"), [(3000, 15, 200), (3000, 36, 84), (10, 211, 1), (211, 211, 1)])
def test_a_step_budget_becomes_enough_whole_epochs(steps, batches, epochs):
    train = TrainConfig(steps=steps)
    assert train.epochs_for(batches) == epochs
    assert epochs * batches >= steps > (epochs - 1) * batches
    assert TrainConfig(epochs=7).epochs_for(batches) == 7


def test_make_config_rejects_unknown_presets_and_overrides():
    with pytest.raises(ConfigError, match=r"unknown preset 'mnist'.*'mnist_baseline'"):
        make_config("mnist")
    with pytest.raises(ConfigError, match=r"'epoch' \(did you mean 'epochs'\?\)"):
        make_config("mnist_baseline", epoch=3)
    with pytest.raises(ConfigError, match="unknown dataset 'emnist'"):
        make_config("mnist_baseline", dataset="emnist")
