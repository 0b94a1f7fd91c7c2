"""nbval settings for the tutorial notebooks.

- Only the numbered tutorial notebooks (`NN_name.ipynb`) are checked: a papermill output
  such as `out.ipynb` saved here is not a reference notebook, nor are the copies the web
  book's build keeps in `_build/`.
- `SKIP_NOTEBOOKS` lists notebooks nbval should not run, with the reason (none today).
- Every notebook cell carries the `notebooks` marker, so `pytest -m "not notebooks"` runs the
  helper tests alone.
- nbval reads its sanitize file from `sanitize.cfg` beside this file, whatever the
  current directory is.
"""

import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TUTORIAL_NOTEBOOK = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
SKIP_NOTEBOOKS: dict[str, str] = {}  # {"NN_name.ipynb": "why it cannot run under nbval"}


def pytest_ignore_collect(collection_path, config):
    if collection_path == HERE / "_build":  # the web book's build: copies of the notebooks, not references
        return True
    if collection_path.suffix != ".ipynb" or collection_path.parent != HERE:
        return None
    if not TUTORIAL_NOTEBOOK.match(collection_path.name) or collection_path.name in SKIP_NOTEBOOKS:
        return True
    return None


def pytest_configure(config):
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(HERE / "sanitize.cfg")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
