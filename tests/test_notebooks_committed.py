"""The committed notebooks read well on GitHub: small, fully executed, no frozen progress bars.

nbval checks that the notebooks still run and print what they printed; these check what a
reader sees without running them.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 1_000_000


def outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_small_and_fully_executed(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    counts = [cell["execution_count"] for cell in code]
    assert None not in counts and counts == sorted(counts), f"{path.name}: not executed in order, top to bottom"
    for cell in code:
        text = outputs_text(cell)
        assert "0%|" not in text, f"{path.name}: a progress bar frozen at 0%"
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), f"{path.name}: an error"
        assert "papermill" not in json.dumps(cell.get("metadata", {})), f"{path.name}: papermill metadata left in"


def test_every_tutorial_notebook_is_listed_with_its_smoke_parameters_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    smoke_table = readme[readme.index("**Smoke runs.**"):]
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, path.name
        assert path.stem in smoke_table.split("\n\n")[1], f"{path.stem} has no smoke parameters in the README"
