"""The recipe flows between notebooks: every notebook that reads a trained image model takes
notebook 01's recipe parameters under the same names, passes each on to `make_config`, and
types no step count of its own; no notebook reaches into a model's modules."""

import ast
import json
import re
from pathlib import Path

import pytest

from bilinear_helpers import check_parameters
from bilinear_helpers.presets import RECIPE_KEYS

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
RECIPE_NOTEBOOKS = {  # notebook -> the recipe parameters it must take (08's models have their own width)
    "01_train": RECIPE_KEYS,
    "02_decompose": RECIPE_KEYS,
    "03_eigenvectors": RECIPE_KEYS,
    "05_low_rank": RECIPE_KEYS,
    "06_universality": RECIPE_KEYS,
    "08_modularity": tuple(k for k in RECIPE_KEYS if k != "d_hidden"),
    "09_shared_features": RECIPE_KEYS,
    "11_backdoor": RECIPE_KEYS,
}
INTERNALS = re.compile(r"\.(embed|head|w_l|w_r|bilinear_weights)\b|\.blocks\[|blocks\.0\.|_apply_block")


def code_cells(name: str) -> list[dict]:
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def parameters(name: str) -> dict:
    cell = next(c for c in code_cells(name) if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)}


@pytest.mark.parametrize("name", sorted(RECIPE_NOTEBOOKS))
def test_recipe_parameters_carry_the_preset_and_reach_make_config(name):
    params = parameters(name)
    sources = ["".join(c["source"]) for c in code_cells(name)]
    source = "\n".join(text for text in sources if "check_parameters(" not in text)
    for key in RECIPE_NOTEBOOKS[name]:
        assert key in params, f"{name} lacks the recipe parameter {key}"
        assert params[key] is None, f"{name}: {key} = {params[key]!r} types a value; None keeps the preset's"
        assert f"{key}={key}" in source, f"{name} does not pass {key} on to its config"
    assert params["device"] == "auto" and params.get("seed", 0) == 0  # 06 trains several seeds: `seeds`


@pytest.mark.parametrize("name", ["01_train", "04_two_layer", "10_deep_decomposition"])
def test_the_two_layer_recipe_has_one_name(name):
    assert parameters(name)["two_layer_steps"] is None
    assert "steps=two_layer_steps" in "\n".join("".join(c["source"]) for c in code_cells(name))


def test_the_three_block_recipe_is_the_presets():
    assert parameters("10_deep_decomposition")["three_layer_steps"] is None
    source = "\n".join("".join(c["source"]) for c in code_cells("10_deep_decomposition"))
    assert "preset_for(dataset, n_layer=3), steps=three_layer_steps" in source


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_no_step_count_typed_and_no_model_internals(path):
    cells = code_cells(path.stem)
    body = [c for c in cells if "parameters" not in c.get("metadata", {}).get("tags", [])]
    source = "\n".join("".join(c["source"]) for c in body)
    assert not re.search(r"full_steps\s*=|steps\s*>=\s*\d|\b[1-9]\d{3}\s+steps", source), path.name
    assert not INTERNALS.search(source), f"{path.name}: {INTERNALS.search(source).group(0)}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_every_parameter_is_checked_in_the_cell_after_the_parameters(path):
    cells = code_cells(path.stem)
    index = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    check = ast.parse("".join(cells[index + 1]["source"])).body
    assert len(check) == 1 and isinstance(check[0].value, ast.Call), path.name
    call = check[0].value
    assert ast.unparse(call.func) == "bh.check_parameters" and not call.args, path.name
    params = parameters(path.stem)
    assert [k.arg for k in call.keywords] == list(params), f"{path.name} checks other names than its parameters"
    assert all(isinstance(k.value, ast.Name) and k.value.id == k.arg for k in call.keywords), path.name
    check_parameters(**params)  # the defaults pass
