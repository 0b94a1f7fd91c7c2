"""Notebook parameters, checked in the cell after the parameters cell, before any work.

`check_parameters(name=value, ...)` checks every parameter a notebook takes against one
rule per name (`RULES`), then the rules that tie parameters together (`n_clusters` at most
the clustered width). All problems are reported at once, each naming the parameter, its
value and the fix, so that `papermill ... -p n_fit 0` stops in seconds instead of after
training. A parameter without a rule is an error too: every notebook parameter is known here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import DATASETS, GROUP_FAMILIES, TRIGGERS, is_group_dataset
from .checks import ConfigError, check_boolean, check_choice, check_integer, check_number, plain
from .config import SEED_LIMIT, TrainConfig

N_CLASSES = 10  # every image dataset of the catalogue has 10 classes


def _optional(rule: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """`rule`, with None allowed (a recipe knob left at the preset's value)."""
    return lambda name, value: None if value is None else rule(name, value)


def _positive_number(name: str, value: Any) -> float:
    if check_number(name, value) == 0:
        raise ConfigError(f"{name} must be above 0, got {value!r}")
    return float(value)


def _fraction(name: str, value: Any) -> float:
    value = check_number(name, value, 0.0, 1.0)
    if value == 0:
        raise ConfigError(f"{name} must be above 0 and below 1, got {value!r}")
    return value


def _share(name: str, value: Any) -> float:
    value = check_number(name, value, 0.0, 1.0 + 1e-12)
    if value == 0:
        raise ConfigError(f"{name} must be above 0 and at most 1, got {value!r}")
    return value


def _list_of(rule: Callable[[str, Any], Any], minimum: int = 1, distinct: bool = False):
    """A rule for a list of at least `minimum` values, each checked by `rule`."""
    def check(name: str, value: Any) -> list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list, got {value!r} ({type(value).__name__}); write e.g. "
                              f"{name}=[...] (papermill: -y '{name}: [...]')")
        items = [rule(f"each entry of {name}", item) for item in value]
        if len(items) < minimum:
            raise ConfigError(f"{name} needs at least {minimum} entr{'y' if minimum == 1 else 'ies'}, got {value!r}")
        if distinct and len(set(items)) != len(items):
            raise ConfigError(f"{name} must not repeat an entry, got {value!r}")
        return items
    return check


def _integer(low: int, high: int | None = None):
    return lambda name, value: check_integer(name, value, low, high)


def _number(low: float = 0.0):
    return lambda name, value: check_number(name, value, low)


def _device(name: str, value: Any) -> str:
    try:
        return TrainConfig(device=value).device
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _dataset(name: str, value: Any) -> str:
    if isinstance(value, str) and value not in DATASETS and is_group_dataset(value):
        raise ConfigError(f"{name}={value!r} is a group table: notebook 07 takes groups (cyclic_order, "
                          "symmetric_degree); this notebook reads an image dataset")
    return check_choice(name, value, sorted(DATASETS))


WIDTH, STEPS = _integer(1), _integer(1)
RULES: dict[str, Callable[[str, Any], Any]] = {
    # the recipe of notebook 01 (None: the preset's value)
    "dataset": _dataset,
    "d_hidden": _optional(WIDTH), "steps": _optional(STEPS), "batch_size": _optional(_integer(1)),
    "lr": _optional(_positive_number), "weight_decay": _optional(_number()),
    "input_noise_std": _optional(_number()), "two_layer_steps": _optional(STEPS),
    "seed": _integer(0, SEED_LIMIT), "seeds": _list_of(_integer(0, SEED_LIMIT), minimum=2, distinct=True),
    "narrow_seed": _integer(0, SEED_LIMIT),
    "train_sizes": _list_of(_integer(10), distinct=True),  # training images per model (dataset.train_images)
    "device": _device,
    # widths of the other models
    "relu_d_hidden": WIDTH, "narrow_d_hidden": WIDTH, "modular_d_hidden": WIDTH,
    # what the notebooks show
    "save_figures": check_boolean, "all_classes": check_boolean,
    "focus_class": _integer(0, N_CLASSES), "grid_digit": _integer(0, N_CLASSES),
    "example_index": _integer(0), "k": _integer(1), "topk_eigs": _integer(1), "k_match": _integer(1),
    "max_components": _integer(1), "n_hosvd_shown": _integer(1), "top_k": _optional(_integer(1)),
    "ranks": _list_of(_integer(-(2**31))), "test_noise_std": _number(),
    "grid_weight_decays": _list_of(_number()), "grid_noises": _list_of(_number()),
    "mask_ks": _list_of(_integer(1)), "strengths": _list_of(_number()),
    "n_fit": _integer(2),
    # groups
    "cyclic_order": _integer(GROUP_FAMILIES["C"][1], GROUP_FAMILIES["C"][2] + 1),
    "symmetric_degree": _integer(GROUP_FAMILIES["S"][1], GROUP_FAMILIES["S"][2] + 1),
    "cyclic_train_fraction": _fraction, "symmetric_train_fraction": _fraction,
    # shared features
    "cp_ranks": _list_of(_integer(1), distinct=True), "cp_steps": _integer(1),
    "cp_seeds": _list_of(_integer(0, SEED_LIMIT), minimum=2, distinct=True), "n_terms_shown": _integer(1),
    # the whole network at once
    "three_layer_steps": _optional(STEPS), "kept_shares": _list_of(_share, distinct=True),
    "greedy_step": _integer(1), "n_features": _integer(1),
    # backdoor audit
    "triggers": _list_of(lambda name, value: check_choice(name, value, sorted(TRIGGERS)), distinct=True),
    "poison_fraction": _fraction, "poison_target": _integer(0, N_CLASSES), "fine_tune_steps": STEPS,
    "nc_steps": _integer(1), "nc_images": _integer(1),
    # modularity
    "n_clusters": _integer(2), "relu_cluster_strength": _number(), "bilinear_cluster_strength": _number(),
}


def _cross_checks(values: dict[str, Any]) -> list[str]:
    """Problems between parameters (only for values that passed their own rule)."""
    problems = []
    if "n_clusters" in values and "modular_d_hidden" in values:
        most = min(values["modular_d_hidden"], N_CLASSES)  # the bilinear model splits its 10 classes too
        if values["n_clusters"] > most:
            problems.append(f"n_clusters={values['n_clusters']} is more clusters than the units the term splits "
                            f"(modular_d_hidden={values['modular_d_hidden']} hidden units, {N_CLASSES} classes): "
                            f"choose at most {most}")
    return problems


def check_parameters(**parameters: Any) -> None:
    """Check every notebook parameter by its rule in `RULES`; one ConfigError lists all problems."""
    unknown = sorted(set(parameters) - set(RULES))
    if unknown:
        raise ConfigError(f"no rule for the notebook parameter(s) {unknown}: add one to parameters.RULES")
    problems, values = [], {}
    for name, value in parameters.items():
        try:
            values[name] = RULES[name](name, plain(value))
        except ConfigError as exc:
            problems.append(str(exc))
    problems += _cross_checks(values)
    if problems:
        raise ConfigError("notebook parameter(s) that cannot be used; nothing was run:\n- " + "\n- ".join(problems))
