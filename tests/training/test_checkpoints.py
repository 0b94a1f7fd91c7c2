"""Checkpoints: atomic saves, safe loads, and a CheckpointError that says what is true, whatever the bytes."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bilinear_helpers import (
    BilinearImageClassifier,
    ConfigError,
    ExperimentConfig,
    ReLUImageClassifier,
    build_image_classifier,
    model_from_checkpoint,
)
from bilinear_helpers.training import CheckpointError, load_checkpoint, save_checkpoint
from bilinear_helpers.training.checkpoints import FORMAT_VERSION, content_digest

from ..conftest import PickledCode, dead_pid

CONFIG = ExperimentConfig.from_dict({"model": {"d_hidden": 8}})


def small_model(seed=0):
    return BilinearImageClassifier(d_hidden=8, seed=seed)


def test_round_trip(tmp_path):
    model = small_model()
    path = save_checkpoint(tmp_path / "run_best.pt", model, CONFIG, epoch=3, metrics={"val_acc": 0.5})
    ckpt = load_checkpoint(path)
    assert ckpt["format_version"] == FORMAT_VERSION and ckpt["epoch"] == 3 and ckpt["metrics"] == {"val_acc": 0.5}
    assert ckpt["config"] == CONFIG.to_dict()
    restored = model_from_checkpoint(path)
    x = torch.rand(2, 784)
    torch.testing.assert_close(restored(x), model(x), rtol=0, atol=0)
    assert not restored.training


def test_failed_save_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "run_latest.pt", small_model(0), CONFIG, epoch=1, metrics={})
    before = path.read_bytes()

    def crash_mid_write(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(KeyboardInterrupt, match="power cut"):
        save_checkpoint(path, small_model(1), CONFIG, epoch=2, metrics={})
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["run_latest.pt"]  # no temporary file left behind


def test_checkpoint_carrying_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "payload": PickledCode(marker)}, path)
    with pytest.raises(CheckpointError, match="refused to load .*evil.pt.*pickled Python objects or code"):
        load_checkpoint(path)
    assert not marker.exists()


class ShellCommand:
    """Unpickling calls os.system: the classic malicious checkpoint."""

    def __init__(self, marker):
        self.command = f"touch {marker}"

    def __reduce__(self):
        return (os.system, (self.command,))


def test_a_checkpoint_that_would_run_a_shell_command_says_so_and_never_advises_the_unsafe_load(tmp_path):
    marker = tmp_path / "shell_ran"
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "payload": ShellCommand(marker)}, path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "pickled Python objects or code, which a safe load never executes" in message and "corrupt" not in message
    assert "weights_only" not in message and not marker.exists()


def test_truncated_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "t.pt", small_model(), CONFIG, epoch=1, metrics={})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="t.pt is truncated or corrupt"):
        load_checkpoint(path)


def test_foreign_file(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint at all")
    with pytest.raises(CheckpointError, match="notes.pt is not a PyTorch checkpoint .*Delete it and retrain"):
        load_checkpoint(path)
    other = tmp_path / "plain_state_dict.pt"
    torch.save(small_model().state_dict(), other)
    with pytest.raises(CheckpointError, match="plain_state_dict.pt is not a bilinear_helpers checkpoint"):
        load_checkpoint(other)


def edited_checkpoint(path, edit):
    """A good checkpoint at `path`, then `edit(checkpoint dict)` saved over it behind save_checkpoint's back."""
    save_checkpoint(path, small_model(), CONFIG, epoch=1, metrics={})
    ckpt = torch.load(path, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, path)
    return path


def test_tampered_weights_fail_the_integrity_check(tmp_path):
    path = edited_checkpoint(tmp_path / "c.pt", lambda ckpt: ckpt["model_state_dict"]["readout.weight"][0].add_(1.0))
    with pytest.raises(CheckpointError, match="c.pt failed its integrity check: its contents changed after it was "
                                              "saved"):
        load_checkpoint(path)


def test_other_format_version(tmp_path):
    path = edited_checkpoint(tmp_path / "v.pt", lambda ckpt: ckpt.update(format_version=99))
    with pytest.raises(CheckpointError, match="v.pt has checkpoint format version 99, this code reads version 1"):
        load_checkpoint(path)


def test_missing_file_says_how_to_get_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.pt.*load_or_train"):
        load_checkpoint(tmp_path / "missing.pt")


def test_wrong_architecture_names_the_path_and_the_problem(tmp_path):
    path = save_checkpoint(tmp_path / "bilinear.pt", small_model(), CONFIG, epoch=1, metrics={})
    with pytest.raises(CheckpointError, match=r"bilinear.pt holds weights for a different architecture than the "
                                              r"BilinearImageClassifier given \(d_hidden: model 16, config 8\)"):
        model_from_checkpoint(path, model=BilinearImageClassifier(d_hidden=16))
    with pytest.raises(CheckpointError, match="different architecture than the ReLUImageClassifier given "
                                              r"\(kind: model 'relu', config 'bilinear'; bias: model True"):
        model_from_checkpoint(path, model=ReLUImageClassifier(d_hidden=8))
    with pytest.raises(CheckpointError, match="cannot load .*bilinear.pt into it: checkpoints hold this package's "
                                              "image classifiers, got a Linear"):
        model_from_checkpoint(path, model=torch.nn.Linear(784, 10))


ARCHITECTURES = {  # the same weights' shapes, another function: only the config can tell them apart
    "bilinear": {"kind": "bilinear", "d_hidden": 8},
    "gate relu": {"kind": "bilinear", "d_hidden": 8, "gate": "relu"},
    "residual": {"kind": "bilinear", "d_hidden": 8, "residual": True},
    "relu": {"kind": "relu", "d_hidden": 8, "bias": False},
    "relu_mlp": {"kind": "relu_mlp", "d_hidden": 8, "bias": False},
}


def build(model_section):
    config = ExperimentConfig.from_dict({"model": model_section})
    return build_image_classifier(config.model, seed=0), config


@pytest.mark.parametrize("saved", list(ARCHITECTURES))
@pytest.mark.parametrize("target", list(ARCHITECTURES))
def test_a_checkpoint_never_loads_into_another_architecture_with_the_same_shapes(tmp_path, saved, target):
    model, config = build(ARCHITECTURES[saved])
    path = save_checkpoint(tmp_path / "c.pt", model, config, epoch=1, metrics={})
    other, _ = build(ARCHITECTURES[target])
    if saved == target:
        x = torch.rand(4, 784)
        assert torch.equal(model_from_checkpoint(path, model=other)(x), model(x))
        assert torch.equal(model_from_checkpoint(path)(x), model(x))
    else:
        with pytest.raises(CheckpointError, match="holds weights for a different architecture"):
            model_from_checkpoint(path, model=other)


@pytest.mark.parametrize("saved", list(ARCHITECTURES))
@pytest.mark.parametrize("described", list(ARCHITECTURES))
def test_save_refuses_a_config_that_does_not_describe_the_model(tmp_path, saved, described):
    model, _ = build(ARCHITECTURES[saved])
    _, config = build(ARCHITECTURES[described])
    if saved == described:
        save_checkpoint(tmp_path / "c.pt", model, config, epoch=1, metrics={})
        return
    with pytest.raises(ConfigError, match=r"refused to save .*c.pt: the config does not describe the model \("):
        save_checkpoint(tmp_path / "c.pt", model, config, epoch=1, metrics={})
    assert not (tmp_path / "c.pt").exists()


def test_a_checkpoint_dict_without_weights_is_named():
    with pytest.raises(CheckpointError, match="<in-memory checkpoint> is not a bilinear_helpers checkpoint: it has no "
                                              "'model_state_dict'"):
        model_from_checkpoint({"config": CONFIG.to_dict()})


def test_load_refuses_folders_and_pipes_without_saying_train_it_first(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path)
    os.mkfifo(tmp_path / "pipe.pt")
    with pytest.raises(CheckpointError, match="pipe.pt is not a regular file .*, not a checkpoint file"):
        load_checkpoint(tmp_path / "pipe.pt")


@pytest.mark.parametrize("device", ["cpu:junk", "cuda:x", "auto:0", "tpu", ""])
def test_load_onto_a_device_name_that_is_not_one_is_a_checkpoint_error(tmp_path, device):
    path = save_checkpoint(tmp_path / "c.pt", small_model(), CONFIG, epoch=1, metrics={})
    with pytest.raises(CheckpointError, match=f"cannot load .*c.pt onto {device!r}: unknown device"):
        load_checkpoint(path, map_location=device)


def test_a_model_comes_from_the_checkpoints_own_config_or_into_a_given_one(tmp_path):
    model = BilinearImageClassifier(d_hidden=8, n_layer=2, seed=4)
    config = ExperimentConfig.from_dict({"model": {"d_hidden": 8, "n_layer": 2}})
    path = save_checkpoint(tmp_path / "two.pt", model, config, epoch=1, metrics={})
    x = torch.rand(3, 784)
    built = model_from_checkpoint(load_checkpoint(path))  # an in-memory checkpoint
    assert built.n_layer == 2 and torch.equal(built(x), model(x))
    target = BilinearImageClassifier(d_hidden=8, n_layer=2, seed=9)
    assert model_from_checkpoint(path, model=target) is target and torch.equal(target(x), model(x))


def test_a_config_that_builds_no_model_is_named(tmp_path):
    path = edited_checkpoint(tmp_path / "odd.pt", lambda ckpt: ckpt["config"]["model"].update(kind="cnn"))
    ckpt = torch.load(path, weights_only=True)  # as written by another program: consistent, but no model of ours
    ckpt["content_sha256"] = content_digest(ckpt["model_state_dict"], ckpt["config"], ckpt["epoch"], ckpt["metrics"])
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match=r"odd.pt: its config does not describe a model this package builds "
                                              r"\(unknown model.kind 'cnn'"):
        model_from_checkpoint(path)


# --- issue "runs you can trust": what is true, whatever the bytes ----------------------------------



@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = save_checkpoint(tmp_path_factory.mktemp("good") / "g.pt", small_model(), CONFIG, epoch=1, metrics={})
    return path.read_bytes()


def _only_our_error(path):
    try:
        load_checkpoint(path)
    except CheckpointError as exc:
        assert "weights_only" not in str(exc)  # never the advice to load unsafely
        return
    except Exception as exc:  # pragma: no cover - the failure this test exists to catch
        pytest.fail(f"{type(exc).__name__} escaped load_checkpoint: {exc}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_random_bytes_raise_only_checkpoint_error(tmp_path, data):
    path = tmp_path / "random.pt"
    path.write_bytes(data)
    _only_our_error(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=2000))
def test_text_like_garbage_raises_only_checkpoint_error(tmp_path, text):
    path = tmp_path / "text.pt"
    path.write_bytes(b"PK\x03\x04" + text.encode())
    _only_our_error(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 0.999))
def test_truncated_files_raise_only_checkpoint_error(tmp_path, good_bytes, cut):
    path = tmp_path / "cut.pt"
    path.write_bytes(good_bytes[: int(cut * len(good_bytes))])
    _only_our_error(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), min_size=1, max_size=4))
def test_bit_flipped_files_load_intact_or_raise_only_checkpoint_error(tmp_path, good_bytes, flips):
    data = bytearray(good_bytes)
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        assert "weights_only" not in str(exc)
        return
    # a flip in bytes the loader never reads (zip metadata) leaves the contents whole, and they check out
    assert ckpt["epoch"] == 1 and ckpt["content_sha256"]


def test_random_bytes_are_not_called_pickled_code(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(2048))
    with pytest.raises(CheckpointError, match="noise.pt is not a PyTorch checkpoint"):
        load_checkpoint(path)


def test_a_missing_device_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = save_checkpoint(tmp_path / "good.pt", small_model(), CONFIG, epoch=1, metrics={})
    with pytest.raises(CheckpointError, match="cannot load .*good.pt onto 'cuda'.*not available on this machine"):
        load_checkpoint(path, map_location="cuda")
    assert load_checkpoint(path)["epoch"] == 1  # the file itself is fine


def test_numpy_scalars_in_metrics_and_configs_become_plain_values(tmp_path):
    config = CONFIG.to_dict()
    config["train"]["lr"] = np.float64(1e-3)
    path = save_checkpoint(tmp_path / "np.pt", small_model(), config, epoch=np.int64(2),
                           metrics={"val_acc": np.float32(0.5), "epoch": np.int64(2)})
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 2 and type(ckpt["metrics"]["epoch"]) is int and ckpt["config"]["train"]["lr"] == 1e-3


_SAVE_FOREVER = """
import sys, torch
from bilinear_helpers import BilinearImageClassifier, ExperimentConfig
from bilinear_helpers.training import save_checkpoint
model = BilinearImageClassifier(d_hidden=1024)  # about 11 MB: a save takes long enough to be interrupted
config = ExperimentConfig.from_dict({"model": {"d_hidden": 1024}})
print("ready", flush=True)
epoch = 2
while True:
    save_checkpoint(sys.argv[1], model, config, epoch=epoch, metrics={})
    epoch += 1
"""


def test_sigkill_during_saves_leaves_the_old_checkpoint_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "big.pt"
    big_config = ExperimentConfig.from_dict({"model": {"d_hidden": 1024}})
    save_checkpoint(path, BilinearImageClassifier(d_hidden=1024), big_config, epoch=1, metrics={})
    for attempt in range(3):  # killed at three points of a save
        process = subprocess.Popen([sys.executable, "-c", _SAVE_FOREVER, str(path)], stdout=subprocess.PIPE)
        process.stdout.readline()
        time.sleep(0.05 + 0.1 * attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert load_checkpoint(path)["epoch"] >= 1  # whatever was whole before the kill still loads
    stale = tmp_path / f".big.pt.{dead_pid()}.0badf00d.tmp"  # left by a writer that has died
    stale.write_bytes(b"PK\x03\x04 half")
    save_checkpoint(path, small_model(), CONFIG, epoch=7, metrics={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.pt"]  # the dead writers' temp files are gone
    assert load_checkpoint(path)["epoch"] == 7


@pytest.mark.parametrize("path", [None, "", 5])
def test_a_checkpoint_path_that_is_not_a_path_is_named(path):
    with pytest.raises(CheckpointError, match="a checkpoint path must be a file path"):
        load_checkpoint(path)
