"""What every exercise check shares: one verdict printed for the reader, returned as a `Verdict` (a bool).

A check never raises on a wrong answer: it says what is wrong and why, so the reader can
try again. Solution cells write `assert check_...(answer)`, so nbval fails if a solution
(or the science behind it) breaks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

CORRECT = "Correct:"
NOT_YET = "Not yet:"


class WrongAnswer(Exception):
    """Raised inside a check to stop early; its message is what the reader sees."""


class Verdict:
    """A check's answer: true when the answer is right. Jupyter shows nothing for it (the check has
    printed its message already), so a check on a cell's last line adds no `True`/`False` line."""

    def __init__(self, correct: bool):
        self.correct = bool(correct)

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return f"Verdict({self.correct})"

    def _ipython_display_(self) -> None:
        pass


def verdict(correct: bool, message: str) -> Verdict:
    """Print "Correct:" or "Not yet:" with the reason; the returned `Verdict` is true when correct."""
    print(f"{CORRECT if correct else NOT_YET} {message}")
    return Verdict(correct)


def graded(check):
    """Turn a check that raises `WrongAnswer` or returns its success message into one that prints a verdict."""

    def run(*args, **kwargs) -> Verdict:
        try:
            message = check(*args, **kwargs)
        except WrongAnswer as wrong:
            return verdict(False, str(wrong))
        return verdict(True, message)

    run.__name__, run.__qualname__, run.__doc__ = check.__name__, check.__qualname__, check.__doc__
    run.__wrapped__ = check
    return run


def as_tensor(name: str, answer: Any, shape: tuple[int, ...] | None = None) -> Tensor:
    """`answer` as a float64 tensor of `shape` (None: any), or a `WrongAnswer` that names what it got."""
    if answer is None or answer is Ellipsis:
        raise WrongAnswer("the answer is still empty; write it in place of the `...` and run the cell again.")
    try:
        tensor = torch.as_tensor(np.asarray(answer.detach().cpu() if isinstance(answer, Tensor) else answer),
                                 dtype=torch.float64)
    except (TypeError, ValueError) as error:
        raise WrongAnswer(f"`{name}` should be numbers (a tensor or an array), got {type(answer).__name__}: "
                          f"{error}") from None
    if shape is not None and tuple(tensor.shape) != tuple(shape):
        raise WrongAnswer(f"`{name}` has shape {tuple(tensor.shape)}; it should be {tuple(shape)}.")
    if not torch.isfinite(tensor).all():
        raise WrongAnswer(f"`{name}` holds NaN or infinite values.")
    return tensor


def as_number(name: str, answer: Any) -> float:
    """`answer` as one finite float, or a `WrongAnswer`."""
    tensor = as_tensor(name, answer)
    if tensor.numel() != 1:
        raise WrongAnswer(f"`{name}` should be one number, got {tensor.numel()} values (shape {tuple(tensor.shape)}).")
    return float(tensor.reshape(()))


def as_integer(name: str, answer: Any, low: int, high: int) -> int:
    """`answer` as a whole number in [low, high), or a `WrongAnswer`."""
    value = as_number(name, answer)
    if value != int(value) or not low <= value < high:
        raise WrongAnswer(f"`{name}` should be a whole number in [{low}, {high}), got {value:g}.")
    return int(value)


def relative_error(answer: Tensor, expected: Tensor) -> float:
    """`|answer - expected| / |expected|` (Frobenius norms)."""
    return float((answer - expected).norm() / expected.norm().clamp_min(1e-30))


def matches(answer: Tensor, expected: Tensor, tolerance: float = 1e-6) -> bool:
    """Same shape, and equal to `tolerance` relative to `expected` (Frobenius norms)."""
    return answer.shape == expected.shape and relative_error(answer, expected.double()) < tolerance
