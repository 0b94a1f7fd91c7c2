"""How far an accuracy measured on a finite test set can be trusted: binomial standard errors.

An accuracy `p` on `n` test images has standard error `sqrt(p (1 - p) / n)`; the difference
of two accuracies on test sets of that size has `sqrt((p_a (1 - p_a) + p_b (1 - p_b)) / n)`.
That treats the two as independent: on the same images it overstates the error of the
difference (a paired test, `analysis.paired_test`, is sharper when per-image results exist).
"""

from __future__ import annotations

import math

from .checks import check_integer, check_number


def accuracy_standard_error(accuracy: float, n: int) -> float:
    """`sqrt(p (1 - p) / n)`: the binomial standard error of an accuracy measured on `n` images."""
    accuracy = check_number("accuracy", accuracy, 0.0)
    if accuracy > 1:
        raise ValueError(f"accuracy must be a share in [0, 1], got {accuracy}")
    n = check_integer("n", n, 1)
    return math.sqrt(accuracy * (1 - accuracy) / n)


def accuracy_difference(accuracy_a: float, accuracy_b: float, n: int) -> tuple[float, float]:
    """`(p_a - p_b, its standard error)` for two accuracies each measured on `n` images."""
    error_a, error_b = accuracy_standard_error(accuracy_a, n), accuracy_standard_error(accuracy_b, n)
    return accuracy_a - accuracy_b, math.hypot(error_a, error_b)


__all__ = ["accuracy_difference", "accuracy_standard_error"]
