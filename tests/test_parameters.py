"""Notebook parameters: one rule per name, every problem reported at once, before any work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers import ConfigError, check_parameters
from bilinear_helpers.parameters import RULES

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


@pytest.mark.parametrize(("parameters", "message"), [
    ({"n_fit": 0}, r"n_fit must be >= 2, got 0"),
    ({"seeds": []}, r"seeds needs at least 2 entries, got \[\]"),
    ({"seeds": [0, 0]}, r"seeds must not repeat an entry"),
    ({"seeds": 0}, r"seeds must be a list, got 0 \(int\)"),
    ({"weight_decay": [1.0]}, r"weight_decay must be a finite number, got \[1.0\]"),
    ({"weight_decay": -1}, r"weight_decay must be >= 0.0, got -1"),
    ({"relu_cluster_strength": -1}, r"relu_cluster_strength must be >= 0.0, got -1"),
    ({"modular_d_hidden": 0}, r"modular_d_hidden must be >= 1, got 0"),
    ({"d_hidden": 0}, r"d_hidden must be >= 1, got 0"),
    ({"lr": 0.0}, r"lr must be above 0, got 0.0"),
    ({"steps": 1.5}, r"steps must be a whole number, got 1.5"),
    ({"device": "cpu:junk"}, r"device: unknown train.device 'cpu:junk'"),
    ({"dataset": "mnsit"}, r"unknown dataset 'mnsit' \(did you mean 'mnist'\?\)"),
    ({"focus_class": 10}, r"focus_class must be in \[0, 10\), got 10"),
    ({"cyclic_order": 997}, r"cyclic_order must be in \[2, 501\), got 997"),
    ({"symmetric_train_fraction": 1.0}, r"symmetric_train_fraction must be in \[0.0, 1.0\), got 1.0"),
    ({"cyclic_train_fraction": 0}, r"cyclic_train_fraction must be above 0 and below 1, got 0"),
    ({"save_figures": "yes"}, r"save_figures must be True or False, got 'yes'"),
    ({"strengths": [1, "x"]}, r"each entry of strengths must be a finite number, got 'x'"),
    ({"n_clusters": 11, "modular_d_hidden": 64},
     r"n_clusters=11 is more clusters than the units the term splits \(modular_d_hidden=64 hidden units, 10 classes\): "
     r"choose at most 10"),
    ({"n_clusters": 9, "modular_d_hidden": 8}, r"choose at most 8"),
])
def test_a_bad_parameter_is_named_with_its_value(parameters, message):
    with pytest.raises(ConfigError, match=message):
        check_parameters(**parameters)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError, match=r"nothing was run:\n- n_fit must be >= 2, got 0\n- k_match must be >= 1"):
        check_parameters(n_fit=0, k_match=0, save_figures=True)


def test_a_parameter_without_a_rule_is_an_error():
    with pytest.raises(ConfigError, match=r"no rule for the notebook parameter\(s\) \['n_fitt'\]"):
        check_parameters(n_fitt=5)


def test_recipe_knobs_accept_none_and_numpy_scalars():
    import numpy as np

    check_parameters(d_hidden=None, steps=np.int64(150), lr=np.float32(1e-3), seeds=[0, 1, 2], weight_decay=1)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(RULES)),
       value=st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
       | st.text(max_size=5) | st.lists(st.integers(-5, 5), max_size=4) | st.dictionaries(st.text(max_size=2),
                                                                                           st.integers(), max_size=2))
def test_any_value_passes_or_is_a_config_error(name, value):
    try:
        check_parameters(**{name: value})
    except ConfigError as exc:
        assert name in str(exc)


@pytest.mark.parametrize(("notebook", "arguments", "message"), [
    ("08_modularity", ["-p", "n_clusters", "11"], "n_clusters=11 is more clusters"),
    ("06_universality", ["-p", "n_fit", "0", "-y", "seeds: []"], "n_fit must be >= 2, got 0"),
])
def test_a_notebook_with_a_bad_parameter_stops_before_any_work(tmp_path, notebook, arguments, message):
    env = {**os.environ, "BILINEAR_DATA_DIR": str(tmp_path / "data"), "BILINEAR_FIGURES_DIR": str(tmp_path / "fig")}
    result = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / f"{notebook}.ipynb"),
                             str(tmp_path / "out.ipynb"), *arguments], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode != 0 and message in result.stdout + result.stderr
    assert not (tmp_path / "data" / "runs").exists()  # nothing trained


def test_a_group_given_as_a_dataset_points_to_notebook_07():
    with pytest.raises(ConfigError, match="dataset='C5' is a group table: notebook 07 takes groups"):
        check_parameters(dataset="C5")
