"""Typed configs: the one place every knob is checked, the presets, and run names.

An `ExperimentConfig` has four sections (`dataset`, `model`, `train`, and the top-level
`experiment_name` / `seed`). Every field is checked for type and range when the config
is built, before any work begins; errors name the key, the value and the fix. Only plain
Python values are kept (NumPy and torch scalars are converted), so a config always fits
in a checkpoint and a JSON file.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from .data import DATASETS
from .runtime import DEVICE_CHOICES

SCHEDULES = ("cosine", "warmup_step", "constant")
MODEL_KINDS = ("bilinear", "relu", "relu_mlp")
GATE_CHOICES = (None, "relu", "silu", "gelu")
SEED_LIMIT = 2**32
DEFAULT_STEPS = 3000


class ConfigError(ValueError):
    """A config value that cannot be used: the message names the key, the value and the fix."""


def _plain(value: Any) -> Any:
    """NumPy and torch scalars as the Python scalar they hold; anything else unchanged."""
    is_scalar = getattr(value, "ndim", None) == 0 and hasattr(value, "item")  # np.float64(1.0), torch.tensor(1.0)
    return value.item() if is_scalar else value


def _integer(key: str, value: Any, low: int, high: int | None = None) -> int:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be a whole number, got {value!r} ({type(value).__name__}); "
                          f"write e.g. {key}={low}")
    if value < low or (high is not None and value >= high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ConfigError(f"{key} must be {bounds}, got {value!r}")
    return int(value)


def _number(key: str, value: Any, low: float = 0.0, below: float | None = None) -> float:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, got {value!r} ({type(value).__name__})")
    if value < low or (below is not None and value >= below):
        bounds = f">= {low}" if below is None else f"in [{low}, {below})"
        raise ConfigError(f"{key} must be {bounds}, got {value!r}")
    return float(value)


def _boolean(key: str, value: Any) -> bool:
    value = _plain(value)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def _choice(key: str, value: Any, choices) -> Any:
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown {key} {value!r}{hint}: choose one of {list(choices)}")
    return value


@dataclass(frozen=True)
class DatasetConfig:
    """`name`: a key of `data.DATASETS`; `root`: the data folder (None: the repository's `data/`)."""

    name: str = "mnist"
    root: str | None = None

    def __post_init__(self):
        _choice("dataset", self.name, sorted(DATASETS))
        if self.root is not None and not isinstance(self.root, str):
            object.__setattr__(self, "root", str(self.root))


@dataclass(frozen=True)
class ModelConfig:
    """A bilinear classifier (`kind="bilinear"`) or the ReLU baseline (`kind="relu"`)."""

    kind: str = "bilinear"
    d_input: int = 784
    d_hidden: int = 256
    d_output: int = 10
    n_layer: int = 1
    bias: bool = False
    residual: bool = False
    gate: str | None = None

    def __post_init__(self):
        _choice("model.kind", self.kind, MODEL_KINDS)
        for key, low in (("d_input", 1), ("d_hidden", 1), ("d_output", 2), ("n_layer", 1)):
            object.__setattr__(self, key, _integer(f"model.{key}", getattr(self, key), low))
        for key in ("bias", "residual"):
            object.__setattr__(self, key, _boolean(f"model.{key}", getattr(self, key)))
        _choice("model.gate", self.gate, GATE_CHOICES)
        if self.kind in ("relu", "relu_mlp") and (self.residual or self.gate is not None):
            raise ConfigError("the ReLU baseline has no residual or gate option: remove them from the model config")


@dataclass(frozen=True)
class TrainConfig:
    """AdamW with a per-epoch schedule; input noise is a std in pixel units, layer noise relative.

    The length is `steps` optimizer steps (run as `ceil(steps / batches per epoch)` epochs,
    so one recipe fits a 4,000-image sample and the full dataset alike) or `epochs` epochs:
    set at most one of them (neither: DEFAULT_STEPS).
    """

    epochs: int | None = None
    steps: int | None = None  # None with epochs None: DEFAULT_STEPS
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.5
    schedule: str = "cosine"
    input_noise_std: float = 0.0
    layer_noise: float = 0.0
    device: str = "auto"
    val_fraction: float = 0.1
    cluster_strength: float = 0.0  # lambda of the clusterability term (loss = CE - lambda C); 0: no term
    n_clusters: int = 4  # contiguous clusters of hidden units the term rewards (used when cluster_strength > 0)

    def __post_init__(self):
        if self.epochs is None and self.steps is None:
            object.__setattr__(self, "steps", DEFAULT_STEPS)
        if self.epochs is not None and self.steps is not None:
            raise ConfigError(f"set one of train.epochs and train.steps, not both, got epochs={self.epochs!r} and "
                              f"steps={self.steps!r}: an optimizer-step budget (steps=3000) or a number of epochs")
        for key in ("epochs", "steps", "batch_size"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, _integer(f"train.{key}", getattr(self, key), 1))
        for key in ("lr", "weight_decay", "input_noise_std", "layer_noise"):
            object.__setattr__(self, key, _number(f"train.{key}", getattr(self, key)))
        object.__setattr__(self, "val_fraction", _number("train.val_fraction", self.val_fraction, 0.0, 1.0))
        object.__setattr__(self, "cluster_strength", _number("train.cluster_strength", self.cluster_strength))
        object.__setattr__(self, "n_clusters", _integer("train.n_clusters", self.n_clusters, 2))
        _choice("train.schedule", self.schedule, SCHEDULES)
        device = str(_plain(self.device))
        if device.split(":")[0] not in DEVICE_CHOICES:
            raise ConfigError(f"unknown train.device {self.device!r}: use one of {list(DEVICE_CHOICES)} (or 'cuda:N')")
        object.__setattr__(self, "device", device)

    def epochs_for(self, batches_per_epoch: int) -> int:
        """How many epochs this run lasts when an epoch is `batches_per_epoch` optimizer steps."""
        return self.epochs if self.steps is None else math.ceil(self.steps / batches_per_epoch)


SECTIONS = {"dataset": DatasetConfig, "model": ModelConfig, "train": TrainConfig}


def section(name: str, value: dict | DatasetConfig | ModelConfig | TrainConfig):
    """The typed config section `name` ("dataset", "model" or "train") from a dict, keys checked."""
    cls = SECTIONS[name]
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"config section {name!r} must be a dict, got {type(value).__name__}")
    _check_keys(f"config section {name!r}", value, [f.name for f in dataclasses.fields(cls)])
    return cls(**value)
NOT_HASHED = {"dataset": ("root",), "train": ("device",)}


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole recipe. `run_name` is `<experiment_name>_<8 hex digits of what it learns>`."""

    experiment_name: str = "bilinear_mnist"
    seed: int = 0
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        name = self.experiment_name
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"experiment_name must be letters, digits, '-' and '_', got {name!r}")
        object.__setattr__(self, "seed", _integer("seed", self.seed, 0, SEED_LIMIT))
        spec = DATASETS[self.dataset.name]
        if self.model.d_input != spec.d_input:
            raise ConfigError(
                f"model.d_input={self.model.d_input} does not match {self.dataset.name}'s images "
                f"({'x'.join(map(str, spec.image_shape))} = {spec.d_input} values): set d_input={spec.d_input}"
            )
        if self.model.d_output != len(spec.class_names):
            raise ConfigError(
                f"model.d_output={self.model.d_output} does not match {self.dataset.name}'s "
                f"{len(spec.class_names)} classes: set d_output={len(spec.class_names)}"
            )

    def to_dict(self) -> dict:
        """Plain nested dicts (what checkpoints and summary.json store)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict) -> ExperimentConfig:
        """Build from nested dicts; unknown keys are errors that suggest the closest valid key."""
        if isinstance(config, ExperimentConfig):
            return config
        if not isinstance(config, dict):
            raise ConfigError(f"a config must be a dict or an ExperimentConfig, got {type(config).__name__}")
        _check_keys("the config", config, [f.name for f in dataclasses.fields(cls)])
        return cls(**{key: section(key, value) if key in SECTIONS else value for key, value in config.items()})

    def replace(self, **overrides) -> ExperimentConfig:
        """A copy with flat overrides: keys of any section, `dataset`, `data_root`, `seed`, `experiment_name`.

        Giving `epochs` clears `steps` and the other way round: the run's length is set once.
        """
        _check_keys("the overrides", overrides, FLAT_KEYS)
        config = self.to_dict()
        for length, other in (("epochs", "steps"), ("steps", "epochs")):  # a new length replaces the old one
            if length in overrides and other not in overrides:
                config["train"][other] = None
        for key, value in overrides.items():
            section, name = FLAT_KEYS[key]
            (config[section] if section else config)[name] = value
        return ExperimentConfig.from_dict(config)

    @property
    def config_hash(self) -> str:
        """8 hex digits identifying what this config learns (NOT_HASHED: where and how fast, left out)."""
        learned = self.to_dict()
        for section, keys in NOT_HASHED.items():
            for key in keys:
                learned[section].pop(key)
        if learned["train"]["cluster_strength"] == 0:  # no term: hash as before the term existed
            for key in ("cluster_strength", "n_clusters"):
                learned["train"].pop(key)
        return hashlib.sha256(json.dumps(learned, sort_keys=True).encode()).hexdigest()[:8]

    @property
    def run_name(self) -> str:
        return f"{self.experiment_name}_{self.config_hash}"


FLAT_KEYS: dict[str, tuple[str | None, str]] = {
    **{f.name: ("train", f.name) for f in dataclasses.fields(TrainConfig)},
    **{f.name: ("model", f.name) for f in dataclasses.fields(ModelConfig)},
    "dataset": ("dataset", "name"),
    "data_root": ("dataset", "root"),
    "seed": (None, "seed"),
    "experiment_name": (None, "experiment_name"),
}


def _check_keys(where: str, given: dict, valid) -> None:
    """A ConfigError naming each unknown key of `given` and the closest valid one."""
    hints = [f"{key!r}" + "".join(f" (did you mean {c!r}?)" for c in difflib.get_close_matches(key, list(valid), n=1))
             for key in sorted(map(str, set(given) - set(valid)))]
    if hints:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(hints)}; valid keys: {sorted(valid)}")


DEFAULT_CONFIG: dict = ExperimentConfig().to_dict()


def resolve_config(config: dict | ExperimentConfig) -> ExperimentConfig:
    """`config` laid over the defaults and checked (the same as `ExperimentConfig.from_dict`)."""
    return ExperimentConfig.from_dict(config)


def run_name(config: dict | ExperimentConfig) -> str:
    """`<experiment_name>_<config hash>`: a changed recipe gets a new name."""
    return resolve_config(config).run_name
