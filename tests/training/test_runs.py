"""Training a config into a run folder, and load_or_train: runs as whole units, found again by their recipe."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers import ExperimentConfig, load_or_train, make_config
from bilinear_helpers.catalog import SOURCE_GROUP_TABLE, SOURCE_OFFLINE_SAMPLE, SOURCE_TORCHVISION
from bilinear_helpers.data.images import clear_dataset_cache
from bilinear_helpers.presets import ACCURACY_BOUNDS, SHORT_RUN_BOUND
from bilinear_helpers.training import (
    CheckpointError,
    RunError,
    RunLayout,
    TrainingDivergedError,
    dataloaders_for,
    is_full_length,
    load_checkpoint,
    save_checkpoint,
    train_run,
)
from bilinear_helpers.training import runs as runs_module
from bilinear_helpers.training.loop import METRIC_COLUMNS

from ..conftest import dead_pid, tiny_config, write_tiny_dataset


def run_name(config) -> str:
    return ExperimentConfig.from_dict(config).run_name


def states_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


# --- what a run writes -------------------------------------------------------------------------------


def test_training_writes_metrics_summary_and_checkpoints(tiny_mnist):
    result = train_run(tiny_config())
    assert result.trained_now and result.run_dir == tiny_mnist / "runs" / run_name(tiny_config())
    for path in (result.metrics_path, result.best_checkpoint_path, result.layout.latest_checkpoint_path,
                 result.layout.summary_path):
        assert path.parent == result.run_dir and path.is_file(), path.name
    assert sorted(p.name for p in result.run_dir.iterdir()) == ["best.pt", "latest.pt", "metrics.csv", "summary.json"]
    assert [p.name for p in result.run_dir.parent.iterdir()] == [result.run_dir.name]  # no staging left behind
    rows = list(csv.DictReader(open(result.metrics_path)))
    assert tuple(rows[0]) == METRIC_COLUMNS == ("epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                                "test_loss", "test_acc", "lr")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    pd.testing.assert_frame_equal(result.metrics(), pd.read_csv(result.metrics_path))
    summary = json.loads(result.layout.summary_path.read_text())
    assert summary == result.summary and summary["run_name"] == result.run_dir.name
    assert summary["config"] == ExperimentConfig.from_dict(tiny_config()).to_dict()
    assert summary["dataset_source"] == SOURCE_TORCHVISION and summary["device"] == "cpu"
    val_accs = [float(r["val_acc"]) for r in rows]
    assert summary["best_epoch"] == 1 + val_accs.index(max(val_accs)) and summary["best_val_acc"] == max(val_accs)
    assert load_checkpoint(result.best_checkpoint_path)["epoch"] == summary["best_epoch"]
    assert load_checkpoint(result.layout.latest_checkpoint_path)["epoch"] == 3
    assert summary["optimizer_steps"] == 3 * 5 and summary["epochs"] == 3  # 160 training images in batches of 32
    assert 0 < summary["weight_decay_factor"] < 1
    assert summary["test_acc"] > 0.5  # the synthetic classes are easy
    assert summary["n_parameters"] == sum(p.numel() for p in result.model.parameters())
    assert not result.model.training


def test_the_summary_scores_the_best_checkpoint_on_the_test_set(tiny_mnist):
    result = train_run(tiny_config())
    bundle = dataloaders_for(result.config)
    test_loss, test_acc = bh.evaluate(result.model, bundle.test_loader, torch.nn.functional.cross_entropy, "cpu")
    assert result.summary["test_acc"] == test_acc and result.summary["test_loss"] == pytest.approx(test_loss)
    best = bh.model_from_checkpoint(result.best_checkpoint_path)
    assert states_equal(best, result.model)


def test_metrics_and_checkpoints_are_written_once_at_the_end(tiny_mnist, monkeypatch):
    seen = []  # what the data folder holds during each epoch
    writes = []
    real_epoch, real_save = runs_module.train_one_epoch, runs_module.save_checkpoint

    def epoch_that_looks(*args, **kwargs):
        seen.append(sorted(p.name for p in tiny_mnist.rglob("*") if p.is_file() and p.suffix in (".pt", ".csv")))
        return real_epoch(*args, **kwargs)

    def counted_save(path, *args, **kwargs):
        writes.append(path.name)
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(runs_module, "train_one_epoch", epoch_that_looks)
    monkeypatch.setattr(runs_module, "save_checkpoint", counted_save)
    train_run(tiny_config(epochs=4))
    assert seen == [[]] * 4  # nothing written while training
    assert sorted(writes) == ["best.pt", "latest.pt"]  # each checkpoint once


def test_metrics_rows_only_at_eval_epochs(tiny_mnist):
    run = train_run(tiny_config(epochs=7, eval_every=3))
    assert run.metrics()["epoch"].tolist() == [1, 3, 6, 7]  # every third, plus the first and the last
    assert run.summary["best_epoch"] in (1, 3, 6, 7)
    assert load_checkpoint(run.layout.latest_checkpoint_path)["metrics"]["epoch"] == 7


def test_a_step_budget_sets_the_run_length(tiny_mnist):
    steps_config = tiny_config(epochs=None, steps=12)
    result = train_run(steps_config)
    assert result.summary["epochs"] == 3 and result.summary["optimizer_steps"] == 15  # ceil(12 / 5) epochs of 5
    assert len(result.metrics()) == 3


def test_training_is_deterministic(tiny_mnist):
    cfg = tiny_config(input_noise_std=0.3, layer_noise=0.2)
    first = train_run(cfg)
    weights_1 = load_checkpoint(first.layout.latest_checkpoint_path)["model_state_dict"]
    metrics_1 = first.metrics_path.read_text()
    second = train_run(cfg)
    weights_2 = load_checkpoint(second.layout.latest_checkpoint_path)["model_state_dict"]
    assert metrics_1 == second.metrics_path.read_text()
    assert weights_1.keys() == weights_2.keys()
    for key in weights_1:
        assert torch.equal(weights_1[key], weights_2[key]), key


def test_input_noise_changes_training(tiny_mnist):
    clean = train_run(tiny_config(epochs=1))
    noisy = train_run(tiny_config(epochs=1, input_noise_std=0.5))
    a = load_checkpoint(clean.layout.latest_checkpoint_path)["model_state_dict"]["embedding.weight"]
    b = load_checkpoint(noisy.layout.latest_checkpoint_path)["model_state_dict"]["embedding.weight"]
    assert not torch.equal(a, b)


def test_training_without_validation_keeps_the_last_epoch(tiny_mnist):
    result = train_run(tiny_config(val_fraction=0.0, epochs=2))
    assert result.summary["best_epoch"] == 2 and result.summary["best_val_acc"] is None
    assert result.metrics()["val_acc"].isna().all()
    assert load_checkpoint(result.best_checkpoint_path)["model_state_dict"].keys() == result.model.state_dict().keys()


def test_training_prints_nothing(tiny_mnist, capsys):
    train_run(tiny_config(epochs=1))
    assert capsys.readouterr() == ("", "")


def test_a_diverged_run_raises_and_leaves_no_run_folder(tiny_mnist):
    with pytest.raises(TrainingDivergedError, match=r"training tiny_\w+ diverged at epoch 1 \(loss nan\): nothing was "
                                                    r"saved. Lower the learning rate \(lr=1000000.0\)"):
        load_or_train(tiny_config(lr=1e6))
    assert list((tiny_mnist / "runs").iterdir()) == []  # no run, no staging folder


def test_describe_says_how_the_run_came_to_be(tiny_mnist):
    run = load_or_train(tiny_config(epochs=1))
    accuracy = f"{run.summary['test_acc']:.4f}"
    assert run.describe() == (f"trained {bh.display_path(run.run_dir)}: test accuracy {accuracy} on torchvision "
                              "MNIST (200 train / 100 test)")
    assert load_or_train(tiny_config(epochs=1)).describe().startswith("loaded ")


# --- smoke runs and the recipe's full length ---------------------------------------------------------


def test_a_short_run_of_a_recipe_is_a_smoke_run(tiny_mnist, capsys):
    smoke = load_or_train("mnist_baseline", d_hidden=16, batch_size=64, steps=10, device="cpu")
    assert smoke.config.train.full_steps == 3000 and smoke.summary["optimizer_steps"] == 12  # 4 epochs of 3 batches
    assert not smoke.is_full_length
    assert smoke.accuracy_bound == SHORT_RUN_BOUND
    capsys.readouterr()
    assert is_full_length(smoke) is False
    assert capsys.readouterr().out == "smoke run (12 of 3000 steps): checks relaxed to what a short run can meet\n"


def test_a_run_of_its_full_length_prints_nothing(tiny_mnist, capsys):
    full = train_run(tiny_config(epochs=None, steps=15, full_steps=15))
    assert full.is_full_length and full.accuracy_bound == ACCURACY_BOUNDS[("mnist", SOURCE_TORCHVISION, 1)]
    unbounded = train_run(tiny_config(epochs=1))  # no full_steps: every run is full length
    assert unbounded.is_full_length
    capsys.readouterr()
    assert is_full_length(full, unbounded) is True and capsys.readouterr().out == ""
    short = train_run(tiny_config(epochs=None, steps=5, full_steps=15))
    assert is_full_length(full, short, short) is False
    assert capsys.readouterr().out == "smoke run (5 of 15 steps): checks relaxed to what a short run can meet\n"


# --- load_or_train -----------------------------------------------------------------------------------


def test_load_or_train_trains_once_then_loads(tiny_mnist):
    first = load_or_train(tiny_config())
    assert first.trained_now and first.best_checkpoint_path == first.run_dir / "best.pt"
    second = load_or_train(tiny_config())
    assert not second.trained_now and second.summary == first.summary and second.run_dir == first.run_dir
    assert states_equal(first.model, second.model) and not second.model.training
    assert second.config == first.config
    changed = load_or_train(tiny_config(), epochs=2)
    assert changed.trained_now and changed.run_dir != first.run_dir


def test_the_same_recipe_from_two_call_sites_is_one_run(tiny_mnist):
    """Notebook 01 trains with its parameters; notebook 02, given the same ones (None for the recipe's own), loads."""
    recipe = dict(d_hidden=16, steps=10, batch_size=64, lr=None, weight_decay=None, input_noise_std=None)
    first = load_or_train("mnist_baseline", device="cpu", **recipe)
    assert first.trained_now
    second = load_or_train(make_config("mnist_baseline", **recipe), device="cpu")
    assert not second.trained_now and second.run_dir == first.run_dir
    third = load_or_train("mnist_baseline", quiet=False, d_hidden=16, steps=10, batch_size=64, device="auto")
    assert not third.trained_now and third.summary == first.summary  # the device is not part of the recipe


def test_a_field_given_at_its_default_finds_the_same_run(tiny_mnist):
    first = load_or_train(tiny_config())
    explicit = load_or_train(tiny_config(), adam_beta2=0.999, eval_every=1, cluster_strength=0.0, bias=False,
                             layer_noise=0.0)
    assert not explicit.trained_now and explicit.run_dir == first.run_dir


def test_load_or_train_retrains_a_sample_run_once_the_full_data_is_on_disk(isolated_data, capsys):
    on_sample = load_or_train(tiny_config(epochs=1))  # no files and no network: the offline sample
    assert on_sample.trained_now and on_sample.summary["dataset_source"] == SOURCE_OFFLINE_SAMPLE
    assert not load_or_train(tiny_config(epochs=1)).trained_now
    write_tiny_dataset(isolated_data, "MNIST", n_train=40, n_test=20)
    clear_dataset_cache()
    capsys.readouterr()
    on_full = load_or_train(tiny_config(epochs=1), quiet=False)
    assert on_full.trained_now and on_full.summary["dataset_source"] == SOURCE_TORCHVISION
    assert "retraining a run that used the offline sample" in capsys.readouterr().out
    assert on_full.run_dir == on_sample.run_dir  # same recipe, same name, replaced


def test_retrain_trains_again_in_place(tiny_mnist):
    first = load_or_train(tiny_config(epochs=1))
    again = load_or_train(tiny_config(epochs=1), retrain=True)
    assert again.trained_now and again.run_dir == first.run_dir and states_equal(again.model, first.model)


def test_a_checkpoint_of_another_config_in_the_folder_is_refused(tiny_mnist):
    run = load_or_train(tiny_config())
    other = ExperimentConfig.from_dict(tiny_config(epochs=9))
    save_checkpoint(run.best_checkpoint_path, run.model, other, epoch=1, metrics={})
    with pytest.raises(CheckpointError, match=r"best.pt holds a run of another config than its folder says; delete"):
        load_or_train(tiny_config())


@pytest.mark.parametrize("content", ["", "{", "[]", '{"run_name": "another_run"}'])
def test_an_unreadable_summary_is_a_clear_error(tiny_mnist, content):
    run = load_or_train(tiny_config(epochs=1))
    run.layout.summary_path.write_text(content)
    with pytest.raises(RunError, match=r"summary.json (is unreadable|does not describe run).*retrain=True"):
        load_or_train(tiny_config(epochs=1))
    assert load_or_train(tiny_config(epochs=1), retrain=True).trained_now


@pytest.mark.parametrize(("key", "value"), [("test_acc", None), ("test_acc", "0.9"), ("optimizer_steps", 1.5),
                                            ("dataset_source", 3), ("config", []), ("epochs", True)])
def test_a_summary_missing_what_loading_reads_is_named(tiny_mnist, key, value):
    run = load_or_train(tiny_config(epochs=1))
    summary = json.loads(run.layout.summary_path.read_text())
    if value is None:
        summary.pop(key)
    else:
        summary[key] = value
    run.layout.summary_path.write_text(json.dumps(summary))
    with pytest.raises(RunError, match=f"summary.json lacks {key} \\(or holds the wrong type\\).*retrain=True"):
        load_or_train(tiny_config(epochs=1))


# --- group tables train the same way -----------------------------------------------------------------


def test_a_group_table_run_trains_is_cached_and_reloads_the_same_model(isolated_data):
    recipe = dict(dataset="S4", train_fraction=0.8, steps=100, d_hidden=32, device="cpu")
    run = load_or_train("group_bilinear", **recipe)
    assert run.trained_now and run.summary["dataset_source"] == SOURCE_GROUP_TABLE
    assert run.summary["optimizer_steps"] == run.summary["epochs"] == 100  # full batch: one step an epoch
    assert run.summary["best_val_acc"] is None and run.summary["best_epoch"] == 100
    metrics = run.metrics()
    assert metrics["epoch"].tolist() == [1, 25, 50, 75, 100]  # the held-out curve, every 25 steps
    assert metrics["train_acc"].iloc[-1] > metrics["train_acc"].iloc[0]
    assert not run.is_full_length and run.config.train.full_steps == 2000
    task = bh.group_task(bh.make_group("S4"), 0.8, seed=0)
    with torch.no_grad():
        logits = run.model(task.inputs)
    again = load_or_train("group_bilinear", **recipe)
    assert not again.trained_now and again.run_dir == run.run_dir
    with torch.no_grad():
        assert torch.equal(again.model(task.inputs), logits)
    test_acc = bh.accuracy(logits[task.test_index], task.labels[task.test_index])
    assert again.summary["test_acc"] == pytest.approx(test_acc)  # the test set is the held-out pairs
    assert load_or_train("group_relu", **recipe).run_dir != run.run_dir


# --- a run is a unit ---------------------------------------------------------------------------------


class Interrupt(Exception):
    """Stands in for Ctrl-C or a killed kernel in the middle of an epoch."""


def _train_interrupted_at_epoch(epoch: int, **kwargs):
    """load_or_train(tiny_config(), **kwargs), stopped during `epoch`."""
    real = runs_module.train_one_epoch
    calls = {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise Interrupt(f"stopped during epoch {epoch}")
        return real(*args, **kw)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(Interrupt, match=f"stopped during epoch {epoch}"):
        patch.setattr(runs_module, "train_one_epoch", flaky)
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
    assert [p.name for p in good.run_dir.parent.iterdir()] == [good.run_dir.name]


def test_an_interrupted_first_run_is_trained_again_and_says_so(tiny_mnist, capsys):
    _train_interrupted_at_epoch(2)
    layout = RunLayout.for_config(make_config(tiny_config()))
    assert not layout.run_dir.exists()  # nothing half-written where a run belongs
    assert list(layout.run_dir.parent.iterdir()) == []  # and no staging folder
    run = load_or_train(tiny_config(), quiet=False)
    assert run.trained_now and "No complete run" in capsys.readouterr().out
    assert load_checkpoint(run.best_checkpoint_path)["epoch"] == run.summary["best_epoch"]


def test_leftovers_of_dead_processes_are_removed_by_the_next_run(tiny_mnist):
    name = run_name(tiny_config())
    runs = tiny_mnist / "runs"
    stale = runs / f".{name}.{dead_pid()}.deadbeef.staging"
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


_TRAIN_ONE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from conftest import tiny_config
    from bilinear_helpers import load_or_train
    run = load_or_train(tiny_config(epochs=4), retrain=True)
    print(run.summary["test_acc"])
""")


def test_concurrent_runs_of_one_recipe_all_finish_and_leave_one_complete_run(tiny_mnist):
    env = {**os.environ, "BILINEAR_DATA_DIR": str(tiny_mnist), "OMP_NUM_THREADS": "1"}
    tests_dir = os.path.dirname(os.path.dirname(__file__))
    processes = [subprocess.Popen([sys.executable, "-c", _TRAIN_ONE, tests_dir], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err[-500:] for _, err in results]
    runs = tiny_mnist / "runs"
    assert [p.name for p in runs.iterdir()] == [run_name(tiny_config(epochs=4))]
    run = load_or_train(tiny_config(epochs=4))
    assert not run.trained_now and load_checkpoint(run.best_checkpoint_path)["epoch"] == run.summary["best_epoch"]


@pytest.mark.parametrize("runs", [(), ("a run",)])
def test_is_full_length_needs_runs(runs):
    with pytest.raises(TypeError, match="is_full_length takes one or more TrainedRun"):
        is_full_length(*runs)


def test_init_run_starts_from_that_runs_best_weights(tiny_mnist):
    source = load_or_train(tiny_config())
    frozen = tiny_config(lr=0.0, weight_decay=0.0, epochs=1)  # no step moves a weight: the start is what comes back
    frozen["train"]["init_run"] = source.run_dir.name
    tuned = load_or_train(frozen)
    for name, weight in source.model.state_dict().items():
        assert torch.equal(tuned.model.state_dict()[name], weight), name
    assert tuned.run_dir != source.run_dir


def test_init_run_names_a_missing_run_and_refuses_another_architecture(tiny_mnist):
    missing = tiny_config()
    missing["train"]["init_run"] = "tiny_00000000"
    with pytest.raises(RunError, match="not a complete run: train that run first"):
        load_or_train(missing)
    source = load_or_train(tiny_config())
    wider = tiny_config()
    wider["model"]["d_hidden"] = 32
    wider["train"]["init_run"] = source.run_dir.name
    with pytest.raises(CheckpointError):
        load_or_train(wider)
