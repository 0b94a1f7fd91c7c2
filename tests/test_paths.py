from pathlib import Path

from bilinear_helpers import data_dir, display_path, figures_dir
from bilinear_helpers import paths as paths_module


def test_environment_overrides_and_explicit_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("BILINEAR_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == (tmp_path / "d").resolve()
    assert data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
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
