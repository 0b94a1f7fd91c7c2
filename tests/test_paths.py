"""Where files live, and atomic writes."""

import errno
import os
import subprocess
from pathlib import Path

import pytest

from bilinear_helpers import (
    BilinearImageClassifier,
    ConfigError,
    ExperimentConfig,
    data_dir,
    display_path,
    figures_dir,
    make_config,
)
from bilinear_helpers import paths as paths_module
from bilinear_helpers.training import save_checkpoint

from .conftest import dead_pid


def test_environment_overrides_and_explicit_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINEAR_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == (tmp_path / "d").resolve()
    assert data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
    assert paths_module.runs_dir() == (tmp_path / "d" / "runs").resolve()
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", str(tmp_path / "f"))
    assert figures_dir() == (tmp_path / "f").resolve() and figures_dir().is_dir()


def test_defaults_come_from_the_package_location_not_the_cwd(monkeypatch, tmp_path):
    monkeypatch.delenv("BILINEAR_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    root = paths_module.repo_root()
    assert root == Path(paths_module.__file__).resolve().parent.parent
    assert data_dir() == root / "data"


def test_display_path_is_relative_inside_the_repo():
    root = paths_module.repo_root()
    assert display_path(root / "data" / "x.pt") == str(Path("data") / "x.pt")
    assert display_path("/elsewhere/x.pt") == "/elsewhere/x.pt"


def test_atomic_write_replaces_whole_files_and_leaves_no_temp_file(tmp_path):
    path = paths_module.atomic_write_text(tmp_path / "sub" / "a.txt", "first")
    assert path.read_text() == "first"
    paths_module.atomic_write_text(path, "second")
    assert path.read_text() == "second" and os.listdir(path.parent) == ["a.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = paths_module.atomic_write_text(tmp_path / "a.txt", "good")

    def fail(f):
        f.write("half")
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt, match="power cut"):
        paths_module.atomic_write(path, fail, mode="w")
    assert path.read_text() == "good" and os.listdir(tmp_path) == ["a.txt"]


def test_stale_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / f".a.txt.{dead_pid()}.0badf00d.tmp"
    alive = tmp_path / f".a.txt.{os.getpid()}.cafe.tmp"
    for path in (dead, alive):
        path.write_text("half")
    paths_module.atomic_write_text(tmp_path / "a.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "a.txt"])


@pytest.mark.parametrize("folder", ["", "relative/data", "."])
def test_relative_or_empty_folders_are_refused_for_arguments_and_environment(folder, monkeypatch):
    with pytest.raises(ConfigError, match=f"data_root must be an absolute folder path, got {folder!r}"):
        data_dir(folder)
    with pytest.raises(ConfigError, match=f"data_root must be an absolute folder path, got {folder!r}"):
        make_config("mnist_baseline", data_root=folder)
    monkeypatch.setenv("BILINEAR_DATA_DIR", folder)
    with pytest.raises(ConfigError, match="the environment variable BILINEAR_DATA_DIR must be an absolute folder path"):
        data_dir()
    monkeypatch.setenv("BILINEAR_FIGURES_DIR", folder)
    with pytest.raises(ConfigError, match="BILINEAR_FIGURES_DIR must be an absolute folder path"):
        figures_dir()


def test_a_home_relative_folder_is_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_dir("~/bilinear") == tmp_path / "bilinear"


def test_torch_failing_to_write_on_a_full_disk_says_the_disk_is_full(tmp_path):
    path = paths_module.atomic_write_text(tmp_path / "a.txt", "good")

    def torch_out_of_space(f):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file "
                           "data/0: file write failed")

    with pytest.raises(OSError, match=r"the disk is full: could not write a.txt to .* MB free\)"):
        paths_module.atomic_write(path, torch_out_of_space)
    assert path.read_text() == "good" and os.listdir(tmp_path) == ["a.txt"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 kB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_checkpoint_on_a_really_full_disk(tiny_disk):
    model = BilinearImageClassifier(d_hidden=64)  # about 250 kB: more than the disk holds
    config = ExperimentConfig.from_dict({"model": {"d_hidden": 64}})
    with pytest.raises(OSError, match=r"the disk is full: could not write best.pt .*Free some space") as info:
        save_checkpoint(tiny_disk / "best.pt", model, config, epoch=1, metrics={})
    assert info.value.errno == errno.ENOSPC and os.listdir(tiny_disk) == []


@pytest.mark.parametrize("path", [None, "", 5])
def test_display_path_needs_a_path(path):
    with pytest.raises(ValueError, match="path must be a file or folder path"):
        display_path(path)
