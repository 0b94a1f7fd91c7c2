"""Where datasets, runs, checkpoints and figures live.

Paths are resolved from this package's location, never from the current directory:
nbval runs a notebook from `notebooks/` while papermill runs it from wherever the shell
is, and both must find the same `data/` and `figures/`.

Overrides, in order of precedence: an explicit argument, then the environment variables
`BILINEAR_DATA_DIR` / `BILINEAR_FIGURES_DIR`, then the repository's own folders. When
the package is installed outside a checkout (no `pyproject.toml` beside it) the folders
fall back to `~/bilinear_tutorial/{data,figures}`.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "BILINEAR_DATA_DIR"
FIGURES_ENV_VAR = "BILINEAR_FIGURES_DIR"


def repo_root() -> Path | None:
    """The checkout this package lives in, or None for an installed copy."""
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "notebooks").is_dir():
        return candidate
    return None


def _base_dir() -> Path:
    root = repo_root()
    return root if root is not None else Path.home() / "bilinear_tutorial"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The `data/` folder: datasets (torchvision layout), runs and checkpoints."""
    if override is not None:
        return Path(override).expanduser().resolve()
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]).expanduser().resolve()
    return _base_dir() / "data"


def figures_dir(override: str | os.PathLike | None = None) -> Path:
    """The `figures/` folder where notebooks save PNG and HTML figures (created on demand)."""
    if override is not None:
        path = Path(override).expanduser().resolve()
    elif os.environ.get(FIGURES_ENV_VAR):
        path = Path(os.environ[FIGURES_ENV_VAR]).expanduser().resolve()
    else:
        path = _base_dir() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir(data_root: str | os.PathLike | None = None) -> Path:
    """`data/runs/`: one folder per training run (metrics.csv, summary.json)."""
    return data_dir(data_root) / "runs"


def checkpoints_dir(data_root: str | os.PathLike | None = None) -> Path:
    """`data/checkpoints/`: `<run>_best.pt` and `<run>_latest.pt`."""
    return data_dir(data_root) / "checkpoints"


def display_path(path: str | os.PathLike) -> str:
    """A path as shown to users: relative to the repository when inside it.

    Keeps notebook outputs free of this machine's absolute paths.
    """
    path = Path(path).resolve()
    root = repo_root()
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)
