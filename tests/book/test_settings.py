"""The repository URL is set once, in notebooks/_config.yml; the README and notebooks carry synced copies."""

import json
import shutil
from pathlib import Path

import pytest

from bilinear_helpers.book import settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_copy_of_the_repository_url_agrees_with_the_book_config():
    assert settings.link_mismatches() == [], "run: python -m bilinear_helpers.book sync"


def make_tree(tmp_path, url="https://github.com/someone/elsewhere"):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "notebooks" / "01_train.ipynb", tmp_path / "notebooks" / "01_train.ipynb")
    config = (ROOT / "notebooks" / "_config.yml").read_text()
    current = settings.repository().url
    (tmp_path / "notebooks" / "_config.yml").write_text(config.replace(current, url))
    return tmp_path


def test_sync_rewrites_the_badges_and_the_colab_cell(tmp_path):
    root = make_tree(tmp_path)
    assert settings.link_mismatches(root) == ["README.md", "notebooks/01_train.ipynb"]
    assert settings.sync_links(root) == ["README.md", "notebooks/01_train.ipynb"]
    assert settings.link_mismatches(root) == []
    readme = (root / "README.md").read_text()
    assert "colab.research.google.com/github/someone/elsewhere/blob/main/notebooks/01_train.ipynb" in readme
    assert "bilinear-tutorial/bilinear-mlp-tutorial" not in readme
    colab_cell = "".join(json.loads((root / "notebooks" / "01_train.ipynb").read_text())["cells"][1]["source"])
    assert '"https://github.com/someone/elsewhere"' in colab_cell
    assert settings.sync_links(root) == []  # nothing left to change


@pytest.mark.parametrize("url", ["https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a", ""])
def test_a_url_colab_cannot_open_is_refused(tmp_path, url):
    root = make_tree(tmp_path, url=url if url else "''")
    with pytest.raises(ValueError, match="must be https://github.com/<owner>/<name>"):
        settings.repository(root / "notebooks" / "_config.yml")


def test_a_broken_config_names_the_file(tmp_path):
    bad = tmp_path / "_config.yml"
    bad.write_text("repository: [unclosed")
    with pytest.raises(ValueError, match="cannot read the book's config"):
        settings.repository(bad)
