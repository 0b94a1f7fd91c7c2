"""Checked values: the one place a knob's type and range, or a tensor's shape, are tested, with errors
that name the fix.

Every value check returns the value as plain Python (NumPy and torch scalars converted) or
raises a `ConfigError` that names the key, the value and what to write instead;
`check_tensor` returns the tensor or raises a ValueError that names the argument and its shape.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any

import torch


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


def check_tensor(key: str, value: Any, dims: str, sizes: dict[str, int] | None = None, *,
                 floating: bool = False, finite: bool = False, allow_empty: bool = False) -> torch.Tensor:
    """`value` if it is a tensor with one axis per name in `dims` ("cls in1 in2"; "..." first or last
    allows more axes before or after the named ones), on a real device, with every named size
    agreeing with `sizes` (filled in as met, so several tensors checked with one dict must agree);
    else a ValueError naming `key`.

    A name that is a number fixes that size ("n 2"); `floating` asks for a float dtype and
    `finite` for no NaN or inf; a tensor with no entries is refused unless `allow_empty`.
    """
    names = dims.split()
    leading = bool(names) and names[0] == "..."  # any number of axes before the named ones
    trailing = not leading and bool(names) and names[-1] == "..."  # or after them
    shape_text = "[" + ", ".join(names) + "]"
    names = [name for name in names if name != "..."]
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{key} must be a tensor {shape_text}, got {type(value).__name__}; convert it with "
                         "torch.as_tensor")
    if value.is_meta:
        raise ValueError(f"{key} is on the meta device (it has a shape but no values): load real weights or data first")
    if value.ndim != len(names) and not ((leading or trailing) and value.ndim >= len(names)):
        raise ValueError(f"{key} must have {'at least ' if leading or trailing else ''}{len(names)} axes {shape_text}, "
                         f"got shape {tuple(value.shape)}")
    sizes = {} if sizes is None else sizes
    if not allow_empty and value.numel() == 0:
        raise ValueError(f"{key} is empty (shape {tuple(value.shape)}, axes {shape_text}): it needs at least one entry")
    named_sizes = value.shape[:len(names)] if trailing else value.shape[value.ndim - len(names):]
    for name, size in zip(names, named_sizes, strict=True):
        expected = int(name) if name.isdigit() else sizes.setdefault(name, size)
        if size != expected:
            raise ValueError(f"{key} has {name}={size} (shape {tuple(value.shape)}, axes {shape_text}) but {name}="
                             f"{expected} elsewhere: the sizes must agree")
    if floating and not value.is_floating_point():
        raise ValueError(f"{key} must be a float tensor, got {value.dtype}; convert it with .float()")
    if finite and value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{key} contains NaN or inf: check what produced it")
    return value


def check_labels(labels: Any, n_classes: int, sizes: dict[str, int] | None = None, key: str = "labels"
                 ) -> torch.Tensor:
    """`labels` if they are integer class indices `[n]` in `0 .. n_classes - 1` (`n` agreeing with `sizes`)."""
    check_tensor(key, labels, "n", sizes)
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"{key} must be integer class indices, got {labels.dtype}; convert them with .long()")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise ValueError(f"{key} must be class indices 0..{n_classes - 1}, got {low}..{high}")
    return labels


def check_names(key: str, value: Any, count: int | None = None) -> list[str]:
    """`value` as a list of strings (of length `count` when given); a lone string is refused, not split."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of names, got {value!r}; write e.g. {key}=['a', 'b']")
    if count is not None and len(value) != count:
        raise ValueError(f"{key} must name all {count} entries, got {len(value)}: {list(value)!r}")
    return list(value)


def check_counts(key: str, values: Any, low: int = 0, high: int | None = None) -> list[int]:
    """`values` as a non-empty list of whole numbers in `[low, high)`; a lone number is refused, not iterated."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or isinstance(values, torch.Tensor) \
            and values.ndim == 0:
        raise ValueError(f"{key} must be a list of whole numbers, got {values!r}; write e.g. {key}=[1, 2, 4]")
    counts = [check_integer(f"each entry of {key}", value, low, high) for value in values]
    if not counts:
        raise ValueError(f"{key} is empty: give at least one value, e.g. {key}=[1, 2, 4]")
    return counts
