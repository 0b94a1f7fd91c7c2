"""Typed configs: defaults, flat overrides, the run name, and every bad value refused before work starts."""

import numpy as np
import pytest
import torch

from bilinear_helpers import ConfigError, ExperimentConfig, make_config
from bilinear_helpers.config import DEFAULT_STEPS, NOT_HASHED, DatasetConfig, TrainConfig

from .conftest import tiny_config


def config(patch: dict) -> ExperimentConfig:
    return ExperimentConfig.from_dict(patch)


def test_from_dict_fills_defaults_and_rejects_unknown_keys():
    cfg = config({"train": {"epochs": 2}})
    assert cfg.train.epochs == 2 and cfg.train.schedule == "cosine" and cfg.model.d_hidden == 256
    assert cfg.train.adam_beta2 == 0.999 and cfg.train.eval_every == 1 and cfg.train.full_steps is None
    assert cfg.dataset.train_fraction == 0.3
    assert ExperimentConfig.from_dict(cfg) is cfg
    with pytest.raises(ConfigError, match=r"config section 'train'.*'epoch' \(did you mean 'epochs'\?\)"):
        config({"train": {"epoch": 2}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in the config: 'trian'"):
        config({"trian": {}})
    with pytest.raises(ConfigError, match="config section 'model'.*'width'"):
        config({"model": {"width": 3}})
    with pytest.raises(ConfigError, match="section 'train' must be a dict, got int"):
        config({"train": 3})
    with pytest.raises(ConfigError, match="a config must be a dict or an ExperimentConfig, got list"):
        ExperimentConfig.from_dict([])


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"train": {"schedule": "linear"}}, "unknown train.schedule 'linear'"),
        ({"train": {"device": "tpu"}}, "unknown train.device 'tpu'"),
        ({"dataset": {"name": "svhn"}}, "unknown dataset 'svhn'"),
        ({"dataset": {"name": "S9"}}, "n of the symmetric group S<n> must be from 2 to 5, got 9"),
        ({"train": {"epochs": 0}}, r"train.epochs must be >= 1, got 0"),
        ({"train": {"epochs": True}}, r"train.epochs must be a whole number, got True"),
        ({"train": {"epochs": 2.5}}, r"train.epochs must be a whole number"),
        ({"train": {"lr": -1.0}}, r"train.lr must be >= 0"),
        ({"train": {"lr": float("nan")}}, r"train.lr must be a finite number"),
        ({"train": {"input_noise_std": True}}, r"train.input_noise_std must be a finite number, got True"),
        ({"train": {"val_fraction": 1.5}}, r"train.val_fraction must be in \[0.0, 1.0\)"),
        ({"train": {"val_fraction": "0.1"}}, r"train.val_fraction must be a finite number, got '0.1'"),
        ({"train": {"adam_beta2": 1.0}}, r"train.adam_beta2 must be in \[0.0, 1.0\), got 1.0"),
        ({"train": {"eval_every": 0}}, r"train.eval_every must be >= 1, got 0"),
        ({"train": {"full_steps": 0}}, r"train.full_steps must be >= 1, got 0"),
        ({"experiment_name": "a/b"}, r"experiment_name must be 1 to 100 ASCII letters, digits, '-' and '_' "
                                     r"\(it names a folder\), got 'a/b'"),
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
        ({"dataset": {"name": "S4"}}, r"model.d_input=784 does not match S4's two-hot pairs \(48 values\)"),
        ({"dataset": {"name": "mnist", "train_fraction": 0.8}}, "train_fraction applies to group tables only"),
        ({"dataset": {"name": "C5", "train_fraction": 0.0}}, "train_fraction must be above 0, got 0.0"),
        ({"train": {"steps": 10, "epochs": 2}}, "set one of train.epochs and train.steps, not both"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_the_value(patch, message):
    with pytest.raises(ConfigError, match=message):
        config(patch)


def test_a_group_dataset_with_its_sizes_is_accepted():
    cfg = config({"dataset": {"name": "S4", "train_fraction": 0.5}, "model": {"d_input": 48, "d_output": 24}})
    assert cfg.dataset.train_fraction == 0.5 and cfg.model.d_input == 48


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
    base = config(tiny_config())
    assert base.run_name.startswith("tiny_") and len(base.run_name) == len("tiny_") + 8
    assert base.run_name == config(tiny_config(device="auto")).run_name
    assert base.run_name == config(dict(tiny_config(), dataset={"name": "mnist", "root": "/elsewhere"})).run_name
    assert base.run_name == config(tiny_config(full_steps=123)).run_name
    assert base.run_name != config(tiny_config(epochs=4)).run_name
    assert base.run_name != config(dict(tiny_config(), seed=1)).run_name
    assert NOT_HASHED == {"dataset": ("root",), "train": ("device", "full_steps")}


def test_a_field_at_its_default_is_left_out_of_the_hash():
    assert config({}).config_hash == ExperimentConfig().config_hash
    explicit = config({"train": {"adam_beta2": 0.999, "eval_every": 1, "cluster_strength": 0.0, "n_clusters": 4},
                       "model": {"bias": False, "gate": None}, "dataset": {"train_fraction": 0.3}})
    assert explicit.config_hash == ExperimentConfig().config_hash
    for knob in ({"adam_beta2": 0.98}, {"eval_every": 5}, {"n_clusters": 8}):  # no per-knob exceptions
        assert config({"train": knob}).config_hash != ExperimentConfig().config_hash, knob


def test_config_round_trips_through_a_dict():
    cfg = make_config("two_layer_mnist", epochs=3)
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    assert make_config(cfg) == cfg and make_config(cfg.to_dict(), epochs=3) == cfg


def test_replace_routes_flat_keys_to_their_sections():
    cfg = ExperimentConfig().replace(epochs=3, d_hidden=20, dataset="fashion_mnist", data_root="/x", seed=4,
                                     experiment_name="e")
    assert cfg.train.epochs == 3 and cfg.train.steps is None and cfg.model.d_hidden == 20
    assert cfg.dataset.name == "fashion_mnist" and cfg.dataset.root == "/x" and cfg.seed == 4
    assert cfg.experiment_name == "e"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in the overrides: 'hidden'"):
        ExperimentConfig().replace(hidden=3)


def test_a_new_dataset_brings_its_own_sizes_unless_they_are_given():
    group = ExperimentConfig().replace(dataset="C7", train_fraction=0.5)
    assert (group.model.d_input, group.model.d_output, group.dataset.train_fraction) == (14, 7, 0.5)
    with pytest.raises(ConfigError, match="model.d_output=3 does not match C7's 7 classes"):
        ExperimentConfig().replace(dataset="C7", d_output=3)


def test_a_run_length_is_steps_or_epochs_never_both():
    assert TrainConfig().steps == DEFAULT_STEPS and TrainConfig(epochs=4).steps is None
    by_epochs = ExperimentConfig().replace(epochs=2)
    assert (by_epochs.train.steps, by_epochs.train.epochs) == (None, 2)
    by_steps = by_epochs.replace(steps=50)
    assert (by_steps.train.steps, by_steps.train.epochs) == (50, None)
    with pytest.raises(ConfigError, match="one of train.epochs and train.steps, not both"):
        ExperimentConfig().replace(steps=10, epochs=2)


@pytest.mark.parametrize(("steps", "batches", "epochs"), [(3000, 15, 200), (3000, 36, 84), (10, 211, 1), (211, 211, 1)])
def test_a_step_budget_becomes_enough_whole_epochs(steps, batches, epochs):
    train = TrainConfig(steps=steps)
    assert train.epochs_for(batches) == epochs
    assert epochs * batches >= steps > (epochs - 1) * batches
    assert TrainConfig(epochs=7).epochs_for(batches) == 7


def test_a_data_root_is_kept_as_a_string(tmp_path):
    assert DatasetConfig("mnist", root=tmp_path).root == str(tmp_path)


@pytest.mark.parametrize("overrides, message", [
    ({"device": "cpu:junk"}, r"unknown train.device 'cpu:junk'.*cuda:N"),
    ({"device": "cuda:x"}, r"unknown train.device 'cuda:x'"),
    ({"experiment_name": "a" * 101}, r"experiment_name must be 1 to 100 ASCII letters"),
    ({"experiment_name": "ünï"}, r"experiment_name must be 1 to 100 ASCII letters"),
    ({"cluster_strength": 1.0, "n_clusters": 11}, r"n_clusters=11 is more clusters than .*10 classes.*at most 10"),
    ({"kind": "relu", "d_hidden": 8, "cluster_strength": 1.0, "n_clusters": 9},
     r"n_clusters=9 is more clusters than the units the term splits \(8 hidden units\): choose at most 8"),
])
def test_bad_values_are_refused_before_any_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("mnist_baseline", **overrides)


def test_the_limits_themselves_are_accepted():
    assert make_config("mnist_baseline", device="cuda:1").train.device == "cuda:1"
    assert make_config("mnist_baseline", experiment_name="a" * 100).experiment_name == "a" * 100
    assert make_config("mnist_baseline", cluster_strength=1.0, n_clusters=10).train.n_clusters == 10
    assert make_config("mnist_baseline", kind="relu", cluster_strength=1.0, n_clusters=64).train.n_clusters == 64


def test_sections_given_as_dicts_are_checked_like_from_dict():
    config = ExperimentConfig(dataset={"name": "S4"}, model={"d_input": 48, "d_output": 24})
    assert config == ExperimentConfig.from_dict({"dataset": {"name": "S4"}, "model": {"d_input": 48, "d_output": 24}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in config section 'dataset': 'nmae'"):
        ExperimentConfig(dataset={"nmae": "mnist"})
    with pytest.raises(ConfigError, match="config section 'model' must be a dict, got str"):
        ExperimentConfig(model="bilinear")


def test_epochs_for_needs_a_positive_batch_count():
    with pytest.raises(ConfigError, match=r"batches_per_epoch must be >= 1, got 0"):
        ExperimentConfig().train.epochs_for(0)
