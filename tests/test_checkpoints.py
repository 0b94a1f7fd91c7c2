import os

import pytest
import torch

from bilinear_helpers import (
    FORMAT_VERSION,
    BilinearImageClassifier,
    CheckpointError,
    ReLUImageClassifier,
    load_checkpoint,
    model_from_checkpoint,
    resolve_config,
    save_checkpoint,
)

CONFIG = resolve_config({"model": {"d_hidden": 8}})


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
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, small_model(1), CONFIG, epoch=2, metrics={})
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["run_latest.pt"]  # no temporary file left behind


class Payload:
    """An object whose unpickling runs code: what a malicious checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_checkpoint_carrying_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "payload": Payload(str(marker))}, path)
    with pytest.raises(CheckpointError, match="refused to load .*evil.pt.*pickled Python objects or code"):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "t.pt", small_model(), CONFIG, epoch=1, metrics={})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="t.pt is truncated or corrupt"):
        load_checkpoint(path)


def test_foreign_file(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint at all")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_checkpoint(path)
    other = tmp_path / "plain_state_dict.pt"
    torch.save(small_model().state_dict(), other)
    with pytest.raises(CheckpointError, match="plain_state_dict.pt is not a bilinear_helpers checkpoint"):
        load_checkpoint(other)


def test_tampered_weights_fail_the_integrity_check(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_model(), CONFIG, epoch=1, metrics={})
    ckpt = torch.load(path, weights_only=True)
    ckpt["model_state_dict"]["head.weight"][0, 0] += 1.0
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="c.pt failed its integrity check"):
        load_checkpoint(path)


def test_other_format_version(tmp_path):
    path = save_checkpoint(tmp_path / "v.pt", small_model(), CONFIG, epoch=1, metrics={})
    ckpt = torch.load(path, weights_only=True)
    ckpt["format_version"] = 99
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(path)


def test_missing_file_says_how_to_get_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.pt.*load_or_train"):
        load_checkpoint(tmp_path / "missing.pt")


def test_wrong_architecture_names_the_path_and_the_problem(tmp_path):
    path = save_checkpoint(tmp_path / "bilinear.pt", small_model(), CONFIG, epoch=1, metrics={})
    with pytest.raises(CheckpointError, match=r"bilinear.pt holds weights for a different architecture.*size mismatch"):
        model_from_checkpoint(path, model=BilinearImageClassifier(d_hidden=16))
    with pytest.raises(CheckpointError, match="different architecture than ReLUImageClassifier"):
        model_from_checkpoint(path, model=ReLUImageClassifier(d_hidden=8))
