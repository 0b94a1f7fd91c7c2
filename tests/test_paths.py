"""Where files live, and atomic writes."""

import os
from pathlib import Path

import pytest

from bilinear_helpers import data_dir, display_path, figures_dir
from bilinear_helpers import paths as paths_module

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
