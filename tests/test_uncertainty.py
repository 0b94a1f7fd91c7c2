"""Binomial standard errors of accuracies and of their differences."""

import math

import pytest

import bilinear_helpers as bh


def test_standard_errors_follow_the_binomial_formula():
    assert bh.accuracy_standard_error(0.9, 1000) == pytest.approx(math.sqrt(0.09 / 1000))
    assert bh.accuracy_standard_error(1.0, 10) == 0.0
    difference, error = bh.accuracy_difference(0.96, 0.95, 1000)
    assert difference == pytest.approx(0.01)
    assert error == pytest.approx(math.sqrt((0.96 * 0.04 + 0.95 * 0.05) / 1000))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="accuracy must be"):
        bh.accuracy_standard_error(1.5, 10)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        bh.accuracy_difference(0.5, 0.5, 0)
