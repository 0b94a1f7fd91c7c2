"""Where the tutorial lives: the repository URL and branch, set once in `notebooks/_config.yml`.

The book's repository and Colab buttons read them there; the README's Colab badges and each
notebook's Colab cell carry copies, which `sync_links` rewrites and `link_mismatches` checks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BOOK_CONFIG = REPOSITORY_ROOT / "notebooks" / "_config.yml"
GITHUB_URL = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(?=[\"'\s)/]|\.git\b|$)")
COLAB_BADGE_URL = re.compile(r"https://colab\.research\.google\.com/github/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/blob/"
                             r"[A-Za-z0-9_.-]+/notebooks/(?P<notebook>\d\d_[a-z0-9_]+\.ipynb)")


@dataclass(frozen=True)
class Repository:
    url: str  # https://github.com/<owner>/<name>
    branch: str

    def colab_url(self, notebook: str) -> str:
        """The Colab link that opens `notebooks/<notebook>` of this repository."""
        return f"https://colab.research.google.com/github/{self.url.removeprefix('https://github.com/')}" \
               f"/blob/{self.branch}/notebooks/{notebook}"


def repository(config_path: Path = BOOK_CONFIG) -> Repository:
    """The `repository` section of the book's config, checked: a GitHub URL and a branch."""
    import yaml

    try:
        section = (yaml.safe_load(Path(config_path).read_text()) or {}).get("repository") or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read the book's config {config_path}: {error}") from None
    url, branch = str(section.get("url", "")).rstrip("/"), str(section.get("branch", ""))
    if not GITHUB_URL.fullmatch(url):
        raise ValueError(f"repository.url in {config_path} must be https://github.com/<owner>/<name> (Colab opens "
                         f"notebooks from GitHub), got {url!r}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", branch):
        raise ValueError(f"repository.branch in {config_path} must name a branch, e.g. main; got {branch!r}")
    return Repository(url, branch)


def _rewrite_readme(text: str, repo: Repository) -> str:
    return COLAB_BADGE_URL.sub(lambda m: repo.colab_url(m["notebook"]), text)


def _rewrite_notebook(text: str, repo: Repository) -> str:
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "IN_COLAB" in "".join(cell["source"]):
            cell["source"] = [GITHUB_URL.sub(repo.url, line) for line in cell["source"]]
            break
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _copies(root: Path) -> list[tuple[Path, callable]]:
    return [(root / "README.md", _rewrite_readme)] + [
        (path, _rewrite_notebook) for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def link_mismatches(root: Path = REPOSITORY_ROOT) -> list[str]:
    """Files whose Colab links or clone URL differ from the book's config (empty: all agree)."""
    repo = repository(root / "notebooks" / "_config.yml")
    return [str(path.relative_to(root)) for path, rewrite in _copies(root)
            if rewrite(path.read_text(), repo) != path.read_text()]


def sync_links(root: Path = REPOSITORY_ROOT) -> list[str]:
    """Rewrite every copy of the repository URL from the book's config; returns the files changed."""
    repo = repository(root / "notebooks" / "_config.yml")
    changed = []
    for path, rewrite in _copies(root):
        text = path.read_text()
        if (new := rewrite(text, repo)) != text:
            path.write_text(new)
            changed.append(str(path.relative_to(root)))
    return changed
