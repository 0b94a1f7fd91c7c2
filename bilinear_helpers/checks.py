"""Checked values: the one place a knob's type and range are tested, with errors that name the fix.

Every function returns the value as plain Python (NumPy and torch scalars converted) or
raises a `ConfigError` that names the key, the value and what to write instead.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any


class ConfigError(ValueError):
    """A config value that cannot be used: the message names the key, the value and the fix."""


def plain(value: Any) -> Any:
    """NumPy and torch scalars as the Python scalar they hold; anything else unchanged."""
    is_scalar = getattr(value, "ndim", None) == 0 and hasattr(value, "item")  # np.float64(1.0), torch.tensor(1.0)
    return value.item() if is_scalar else value


def check_integer(key: str, value: Any, low: int, high: int | None = None) -> int:
    """`value` as an int in `[low, high)` (no upper bound when `high` is None)."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be a whole number, got {value!r} ({type(value).__name__}); "
                          f"write e.g. {key}={low}")
    if value < low or (high is not None and value >= high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ConfigError(f"{key} must be {bounds}, got {value!r}")
    return int(value)


def check_number(key: str, value: Any, low: float = 0.0, below: float | None = None) -> float:
    """`value` as a finite float in `[low, below)`."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, got {value!r} ({type(value).__name__})")
    if value < low or (below is not None and value >= below):
        bounds = f">= {low}" if below is None else f"in [{low}, {below})"
        raise ConfigError(f"{key} must be {bounds}, got {value!r}")
    return float(value)


def check_boolean(key: str, value: Any) -> bool:
    value = plain(value)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def check_choice(key: str, value: Any, choices) -> Any:
    """`value` if it is one of `choices`; else an error naming the closest choice."""
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown {key} {value!r}{hint}: choose one of {list(choices)}")
    return value


def check_keys(where: str, given: dict, valid) -> None:
    """A ConfigError naming each unknown key of `given` and the closest valid one."""
    hints = [f"{key!r}" + "".join(f" (did you mean {c!r}?)" for c in difflib.get_close_matches(key, list(valid), n=1))
             for key in sorted(map(str, set(given) - set(valid)))]
    if hints:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(hints)}; valid keys: {sorted(valid)}")
