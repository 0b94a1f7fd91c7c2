"""Checked values: plain Python out, or a ConfigError that names the key, the value and the fix."""

import numpy as np
import pytest
import torch

from bilinear_helpers.checks import (
    ConfigError,
    check_boolean,
    check_choice,
    check_integer,
    check_keys,
    check_number,
    plain,
)


@pytest.mark.parametrize(("value", "expected"), [(np.float64(1.5), 1.5), (np.int32(3), 3), (torch.tensor(2.0), 2.0),
                                                 (torch.tensor(7), 7), ("x", "x"), (None, None)])
def test_plain_unwraps_numpy_and_torch_scalars_only(value, expected):
    result = plain(value)
    assert result == expected and type(result) is type(expected)


def test_plain_leaves_arrays_alone():
    array = np.ones(3)
    assert plain(array) is array


def test_check_integer_bounds_and_types():
    assert check_integer("n", np.int64(4), 1) == 4 and type(check_integer("n", np.int64(4), 1)) is int
    assert check_integer("n", 9, 0, 10) == 9
    with pytest.raises(ConfigError, match=r"n must be in \[0, 10\), got 10"):
        check_integer("n", 10, 0, 10)
    with pytest.raises(ConfigError, match=r"n must be >= 1, got 0"):
        check_integer("n", 0, 1)
    with pytest.raises(ConfigError, match=r"n must be a whole number, got True \(bool\); write e.g. n=1"):
        check_integer("n", True, 1)
    with pytest.raises(ConfigError, match=r"n must be a whole number, got 2.0 \(float\)"):
        check_integer("n", 2.0, 1)


def test_check_number_bounds_and_types():
    assert check_number("lr", 1) == 1.0 and type(check_number("lr", 1)) is float
    with pytest.raises(ConfigError, match=r"lr must be a finite number, got inf"):
        check_number("lr", float("inf"))
    with pytest.raises(ConfigError, match=r"lr must be a finite number, got False"):
        check_number("lr", False)
    with pytest.raises(ConfigError, match=r"f must be in \[0.0, 1.0\), got 1.0"):
        check_number("f", 1.0, 0.0, 1.0)
    with pytest.raises(ConfigError, match=r"lr must be >= 0.0, got -0.5"):
        check_number("lr", -0.5)


def test_check_boolean():
    assert check_boolean("bias", np.bool_(True)) is True
    with pytest.raises(ConfigError, match=r"bias must be True or False, got 1 \(int\)"):
        check_boolean("bias", 1)


def test_check_choice_suggests_the_closest():
    assert check_choice("schedule", "cosine", ("cosine", "constant")) == "cosine"
    with pytest.raises(ConfigError, match=r"unknown schedule 'cosin' \(did you mean 'cosine'\?\): choose one of"):
        check_choice("schedule", "cosin", ("cosine", "constant"))
    with pytest.raises(ConfigError, match=r"unknown schedule 'zzz': choose one of \['cosine', 'constant'\]$"):
        check_choice("schedule", "zzz", ("cosine", "constant"))


def test_check_keys_names_every_unknown_key():
    check_keys("the config", {"lr": 1}, ["lr", "steps"])
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in the config: 'lr_' \(did you mean 'lr'\?\), 'zzz'; "
                                          r"valid keys: \['lr', 'steps'\]"):
        check_keys("the config", {"lr_": 1, "zzz": 2}, ["lr", "steps"])


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)
