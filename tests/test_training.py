import csv
import json
import math
import warnings

import pytest
import torch

from bilinear_helpers import (
    BilinearImageClassifier,
    build_scheduler,
    evaluate,
    load_checkpoint,
    resolve_config,
    resolve_device,
    run_name,
    set_seed,
    train_image_experiment,
    warmup_step_factor,
)
from bilinear_helpers.data import tensor_loader
from bilinear_helpers.training import add_layer_noise

from .conftest import tiny_config


def lrs_per_epoch(schedule: str, epochs: int, base_lr: float = 1.0) -> list[float]:
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = build_scheduler(optimizer, schedule, epochs)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_warmup_step_schedule_per_epoch():
    expected = [0.01, 0.505, 1, 1, 0.5, 0.5, 0.25, 0.25, 1 / 8, 1 / 8, 1 / 16, 1 / 16, 1 / 32, 1 / 32] + [1 / 64] * 6
    assert lrs_per_epoch("warmup_step", 20) == pytest.approx(expected)
    assert [warmup_step_factor(e) for e in range(20)] == pytest.approx(expected)


def test_warmup_step_matches_the_seed_notebooks_sequential_scheduler():
    from torch.optim.lr_scheduler import ConstantLR, LinearLR, SequentialLR, StepLR

    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    seed_scheduler = SequentialLR(
        optimizer,
        schedulers=[
            LinearLR(optimizer, start_factor=0.01, end_factor=1, total_iters=2),
            StepLR(optimizer, step_size=2, gamma=0.5),
            ConstantLR(optimizer, factor=0.5 ** (12 / 2), total_iters=1000),
        ],
        milestones=[2, 15],
    )
    seed_lrs = []
    with warnings.catch_warnings():  # SequentialLR warns about its own use of step(epoch)
        warnings.simplefilter("ignore")
        for _ in range(30):
            seed_lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            seed_scheduler.step()
    assert lrs_per_epoch("warmup_step", 30, base_lr=1e-3) == pytest.approx(seed_lrs)


def test_cosine_schedule_per_epoch():
    epochs = 8
    expected = [0.5 * (1 + math.cos(math.pi * e / epochs)) for e in range(epochs)]
    assert lrs_per_epoch("cosine", epochs) == pytest.approx(expected)


def test_resolve_config_fills_defaults_and_rejects_unknown_keys():
    cfg = resolve_config({"train": {"epochs": 2}})
    assert cfg["train"]["epochs"] == 2 and cfg["train"]["schedule"] == "cosine" and cfg["model"]["d_hidden"] == 256
    with pytest.raises(ValueError, match=r"config section 'train'.*'epoch' \(did you mean 'epochs'\?\)"):
        resolve_config({"train": {"epoch": 2}})
    with pytest.raises(ValueError, match="unknown key.*'trian'"):
        resolve_config({"trian": {}})
    with pytest.raises(ValueError, match="config section 'model'.*'width'"):
        resolve_config({"model": {"width": 3}})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"train": {"schedule": "linear"}}, "unknown schedule 'linear'"),
        ({"train": {"device": "tpu"}}, "unknown device 'tpu'"),
        ({"dataset": {"name": "svhn"}}, "unknown dataset 'svhn'"),
        ({"train": {"epochs": 0}}, "epochs must be a positive integer"),
        ({"train": {"lr": -1.0}}, "lr must be a finite number"),
        ({"train": {"val_fraction": 1.5}}, "val_fraction"),
        ({"experiment_name": "a/b"}, "experiment_name"),
    ],
)
def test_resolve_config_rejects_bad_values(patch, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(patch)


def test_resolve_device():
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' is not available on this machine"):
            resolve_device("cuda")


def test_set_seed_makes_draws_repeatable():
    set_seed(5)
    a = torch.rand(3)
    set_seed(5)
    assert torch.equal(a, torch.rand(3))


def test_run_name_tracks_what_is_learned_not_where():
    base = tiny_config()
    assert run_name(base) == run_name(tiny_config(device="auto"))
    assert run_name(base) != run_name(tiny_config(epochs=4))
    assert run_name(base).startswith("tiny_")


def test_evaluate_counts_loss_and_accuracy():
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2)
    x = torch.randn(10, 4)
    logits = model(x).detach()
    y = logits.argmax(-1)
    y[:3] = 1 - y[:3]  # three wrong
    loss, acc = evaluate(model, tensor_loader(x, y, 4, shuffle=False), torch.nn.functional.cross_entropy, "cpu")
    assert acc == pytest.approx(0.7)
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item(), rel=1e-6)


def test_layer_noise_only_while_training_and_removable():
    model = BilinearImageClassifier(d_input=4, d_hidden=8, d_output=2, n_layer=2)
    x = torch.randn(16, 4)
    clean = model(x)
    handles = add_layer_noise(model, 0.5)
    model.eval()
    torch.testing.assert_close(model(x), clean)
    model.train()
    assert not torch.allclose(model(x), clean)
    for handle in handles:
        handle.remove()
    torch.testing.assert_close(model(x), clean)


def test_training_writes_metrics_summary_and_checkpoints(tiny_mnist):
    result = train_image_experiment(tiny_config(), quiet=True)
    for key in ("run_dir", "metrics_path", "best_checkpoint_path", "latest_checkpoint_path"):
        assert result[key].exists(), key
    assert result["run_dir"] == tiny_mnist / "runs" / run_name(tiny_config())
    assert result["best_checkpoint_path"].name == f"{run_name(tiny_config())}_best.pt"
    rows = list(csv.DictReader(open(result["metrics_path"])))
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    summary = json.loads((result["run_dir"] / "summary.json").read_text())
    for key in ("config", "best_epoch", "best_val_acc", "test_acc", "dataset_source", "wall_time_s", "device",
                "torch_version"):
        assert key in summary, key
    assert summary["dataset_source"] == "torchvision"
    val_accs = [float(r["val_acc"]) for r in rows]
    assert summary["best_epoch"] == 1 + val_accs.index(max(val_accs))
    assert load_checkpoint(result["best_checkpoint_path"])["epoch"] == summary["best_epoch"]
    assert load_checkpoint(result["latest_checkpoint_path"])["epoch"] == 3
    assert summary["test_acc"] > 0.5  # the synthetic classes are easy


def test_training_is_deterministic(tiny_mnist):
    cfg = tiny_config(input_noise_std=0.3, layer_noise=0.2)
    first = train_image_experiment(cfg, quiet=True)
    weights_1 = load_checkpoint(first["latest_checkpoint_path"])["model_state_dict"]
    metrics_1 = first["metrics_path"].read_text()
    second = train_image_experiment(cfg, quiet=True)
    weights_2 = load_checkpoint(second["latest_checkpoint_path"])["model_state_dict"]
    assert metrics_1 == second["metrics_path"].read_text()
    for key in weights_1:
        assert torch.equal(weights_1[key], weights_2[key]), key


def test_input_noise_changes_training(tiny_mnist):
    clean = train_image_experiment(tiny_config(epochs=1), quiet=True)
    noisy = train_image_experiment(tiny_config(epochs=1, input_noise_std=0.5), quiet=True)
    a = load_checkpoint(clean["latest_checkpoint_path"])["model_state_dict"]["embed.weight"]
    b = load_checkpoint(noisy["latest_checkpoint_path"])["model_state_dict"]["embed.weight"]
    assert not torch.equal(a, b)


def test_training_without_validation_keeps_the_last_epoch(tiny_mnist):
    result = train_image_experiment(tiny_config(val_fraction=0.0, epochs=2), quiet=True)
    assert result["summary"]["best_epoch"] == 2 and result["summary"]["best_val_acc"] is None


def test_training_progress_bar_and_quiet_mode(tiny_mnist, capsys):
    train_image_experiment(tiny_config(epochs=1), quiet=True)
    assert capsys.readouterr().err == ""
    train_image_experiment(tiny_config(epochs=1), quiet=False)
    err = capsys.readouterr().err
    assert "tiny_" in err and "val_acc=" in err and "acc=" in err
