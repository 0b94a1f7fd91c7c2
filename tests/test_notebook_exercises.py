"""Every notebook poses one to three exercises, each with a check from `bh.exercises` and a solution in a
collapsed cell (Jupyter: source and outputs hidden; Colab: a form; the book: hide-cell) that nbval runs."""

import json
import re
from pathlib import Path

import pytest

import bilinear_helpers as bh

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^### Exercise (\d\d)\.(\d) · \S")
CHECK_CALL = re.compile(r"bh\.exercises\.(check_\w+)\(")
COLLAPSED = {"cellView": "form", "jupyter": {"outputs_hidden": True, "source_hidden": True},
             "tags": ["hide-cell", "solution"]}  # Jupyter and the book hide code and output; Colab the code


def exercises(path: Path) -> list[tuple[str, list[dict]]]:
    """(number "NN.k", [heading, reader's cell, solution]) for every exercise of a notebook."""
    cells = json.loads(path.read_text())["cells"]
    found = []
    for i, cell in enumerate(cells):
        match = HEADING.match("".join(cell["source"])) if cell["cell_type"] == "markdown" else None
        if match:
            found.append((f"{match[1]}.{match[2]}", cells[i:i + 3]))
    return found


def outputs_text(cell) -> str:
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_exercises_with_a_check_and_a_collapsed_solution(path):
    found = exercises(path)
    assert 1 <= len(found) <= 3, f"{path.name}: {len(found)} exercises"
    assert [number for number, _ in found] == [f"{path.name[:2]}.{k}" for k in range(1, len(found) + 1)]
    for number, (_, reader, solution) in found:
        reader_source, solution_source = "".join(reader["source"]), "".join(solution["source"])
        assert reader["cell_type"] == "code" and "= ..." in reader_source, f"{number}: no cell to answer in"
        checks = CHECK_CALL.findall(reader_source)
        assert len(checks) == 1, f"{number}: the reader's cell should call one check"
        assert solution["cell_type"] == "code" and solution["metadata"] == COLLAPSED, f"{number}: not collapsed"
        assert solution_source.startswith(f"# @title Solution {number} (click to expand)\n"), number
        assert f"assert bh.exercises.{checks[0]}(" in solution_source, f"{number}: the solution must assert its check"
        assert outputs_text(reader).startswith("Not yet:"), f"{number}: the empty answer's reply is not committed"
        assert "Correct:" in outputs_text(solution), f"{number}: the solution's reply is not committed"


def test_every_check_is_used_by_the_exercise_its_docstring_names():
    used = {}
    for path in NOTEBOOKS:
        for number, (_, reader, _) in exercises(path):
            used[CHECK_CALL.findall("".join(reader["source"]))[0]] = number
    assert sorted(used) == sorted(bh.exercises.__all__), "checks without an exercise, or exercises without a check"
    for name, number in used.items():
        assert getattr(bh.exercises, name).__doc__.startswith(f"Exercise {number}:"), name
