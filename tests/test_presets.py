"""The named recipes: each builds, carries its own length, and takes overrides the way notebooks pass them."""

import pytest

from bilinear_helpers import PRESETS, ConfigError, ExperimentConfig, make_config, preset_for
from bilinear_helpers.catalog import SOURCE_OFFLINE_SAMPLE, SOURCE_TORCHVISION
from bilinear_helpers.presets import ACCURACY_BOUNDS, RECIPE_KEYS, SHORT_RUN_BOUND, accuracy_bound


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_is_named_after_itself(name):
    cfg = make_config(name)
    assert isinstance(cfg, ExperimentConfig) and cfg.experiment_name == name
    assert cfg == PRESETS[name] and ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.train.full_steps == cfg.train.steps  # a preset's own length (None for the epoch-budgeted paper run)


def test_the_preset_list():
    assert set(PRESETS) == {"mnist_baseline", "fmnist_baseline", "two_layer_mnist", "two_layer_fmnist", "paper_mnist",
                            "three_layer_mnist", "three_layer_fmnist", "group_bilinear", "group_relu"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_none_keeps_the_presets_value_for_every_recipe_knob(name):
    assert make_config(name, **dict.fromkeys(RECIPE_KEYS)) == PRESETS[name]
    assert make_config(name, steps=None, d_hidden=None) == PRESETS[name]


def test_a_shortened_run_keeps_its_recipes_full_length():
    smoke = make_config("mnist_baseline", steps=150)
    assert (smoke.train.steps, smoke.train.full_steps) == (150, 3000)  # so the run can tell it is a smoke run
    assert smoke.run_name != PRESETS["mnist_baseline"].run_name
    by_epochs = make_config("two_layer_mnist", epochs=2)
    assert (by_epochs.train.steps, by_epochs.train.epochs, by_epochs.train.full_steps) == (None, 2, 3000)
    assert PRESETS["mnist_baseline"].train.steps == 3000  # presets are not mutated


def test_non_recipe_keys_given_as_none_are_not_dropped():
    assert make_config("mnist_baseline", data_root=None) == PRESETS["mnist_baseline"]
    with pytest.raises(ConfigError, match="model.gate"):
        make_config("mnist_baseline", gate="none")


def test_the_published_recipes():
    two = make_config("two_layer_mnist")
    assert two.model.d_hidden == 300 and two.model.n_layer == 2
    for key, value in {"input_noise_std": 0.33, "layer_noise": 0.33, "lr": 1e-3, "batch_size": 100,
                       "steps": 3000}.items():
        assert getattr(two.train, key) == value, key
    assert make_config("two_layer_fmnist").replace(dataset="mnist", experiment_name="two_layer_mnist") == two
    paper = make_config("paper_mnist")
    assert paper.model.d_hidden == 512 and paper.model.n_layer == 1
    for key, value in {"input_noise_std": 0.5, "weight_decay": 1.0, "batch_size": 2048, "schedule": "cosine",
                       "epochs": 100, "steps": None, "full_steps": None}.items():
        assert getattr(paper.train, key) == value, key
    for name, dataset in (("mnist_baseline", "mnist"), ("fmnist_baseline", "fashion_mnist")):
        cfg = make_config(name)
        assert cfg.model.d_hidden == 256 and cfg.model.n_layer == 1 and cfg.dataset.name == dataset
        assert cfg.train.steps == 3000 and cfg.train.epochs is None and cfg.train.weight_decay == 1.0


@pytest.mark.parametrize(("name", "kind", "weight_decay", "steps"), [("group_bilinear", "bilinear", 3.0, 2000),
                                                                     ("group_relu", "relu", 1.0, 3000)])
def test_group_presets(name, kind, weight_decay, steps):
    cfg = make_config(name)
    assert (cfg.dataset.name, cfg.dataset.train_fraction) == ("C59", 0.8)
    assert (cfg.model.kind, cfg.model.d_input, cfg.model.d_hidden, cfg.model.d_output) == (kind, 118, 64, 59)
    train = cfg.train
    assert (train.steps, train.full_steps, train.lr, train.adam_beta2, train.schedule) == (steps, steps, 1e-2, 0.98,
                                                                                            "constant")
    assert (train.val_fraction, train.eval_every, train.weight_decay) == (0.0, 25, weight_decay)
    assert train.batch_size >= 59 * 59  # full batch
    other = make_config(name, dataset="S4", train_fraction=0.5)
    assert (other.model.d_input, other.model.d_output, other.dataset.train_fraction) == (48, 24, 0.5)


@pytest.mark.parametrize(("dataset", "n_layer", "preset"), [
    ("mnist", 1, "mnist_baseline"), ("fashion_mnist", 1, "fmnist_baseline"),
    ("mnist", 2, "two_layer_mnist"), ("fashion_mnist", 2, "two_layer_fmnist"),
    ("mnist", 3, "three_layer_mnist"), ("fashion_mnist", 3, "three_layer_fmnist"),
])
def test_preset_for_each_dataset_and_depth(dataset, n_layer, preset):
    assert preset_for(dataset, n_layer) == preset
    cfg = make_config(preset_for(dataset, n_layer))
    assert cfg.dataset.name == dataset and cfg.model.n_layer == n_layer


def test_preset_for_defaults_to_one_layer():
    assert preset_for("mnist") == "mnist_baseline"


def test_unknown_presets_datasets_and_overrides_name_the_fix():
    with pytest.raises(ConfigError, match=r"unknown preset 'mnist_baselin' \(did you mean 'mnist_baseline'\?\)"):
        make_config("mnist_baselin")
    with pytest.raises(ConfigError, match=r"unknown preset 'mnist'.*choose one of \[.*'mnist_baseline'"):
        make_config("mnist")
    with pytest.raises(ConfigError, match=r"'epoch' \(did you mean 'epochs'\?\)"):
        make_config("mnist_baseline", epoch=3)
    with pytest.raises(ConfigError, match="unknown dataset 'emnist'"):
        make_config("mnist_baseline", dataset="emnist")
    with pytest.raises(ConfigError, match=r"unknown dataset 'fmnist' .*choose one of \['fashion_mnist', 'mnist'\]"):
        preset_for("fmnist")
    with pytest.raises(ConfigError, match=r"n_layer must be in \[1, 4\), got 4"):
        preset_for("mnist", 4)


def test_accuracy_bounds():
    full = make_config("mnist_baseline")
    assert accuracy_bound(full, SOURCE_TORCHVISION, True) == ACCURACY_BOUNDS[("mnist", SOURCE_TORCHVISION, 1)] == 0.975
    assert accuracy_bound(full, SOURCE_OFFLINE_SAMPLE, True) == 0.955
    assert accuracy_bound(full, SOURCE_TORCHVISION, False) == SHORT_RUN_BOUND == 0.5
    assert accuracy_bound(make_config("two_layer_fmnist"), SOURCE_TORCHVISION, True) == 0.85
    with pytest.raises(ConfigError, match="no test-accuracy bound is set for C59 .*check such a run against a number"):
        accuracy_bound(make_config("group_bilinear"), "group_table", True)


def test_a_depth_that_is_not_a_whole_number_is_named():
    with pytest.raises(ConfigError, match="n_layer must be a whole number, got True"):
        preset_for("mnist", True)
