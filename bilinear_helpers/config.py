"""Typed configs: the one place every knob is checked, the datasets they name, and run names.

An `ExperimentConfig` has three sections (`dataset`, `model`, `train`) and the top-level
`experiment_name` / `seed`. Every field is checked for type and range when the config
is built, before any work begins; errors name the key, the value and the fix. Only plain
Python values are kept (NumPy and torch scalars are converted), so a config always fits
in a checkpoint and a JSON file.

A dataset is an image dataset of `DATASETS` or a group's multiplication table named like
"C59", "D10", "S4" or "A5" (`GROUP_FAMILIES`): every pair (a, b) of elements, two-hot,
labelled ab. This module is the root of the package: it imports nothing above `checks`
and `runtime`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

from .catalog import DATASETS, dataset_sizes
from .checks import ConfigError, check_boolean, check_choice, check_integer, check_keys, check_number, plain
from .dataset_config import DatasetConfig
from .runtime import DEVICE_CHOICES

SCHEDULES = ("cosine", "warmup_step", "constant")
MODEL_KINDS = ("bilinear", "relu", "relu_mlp")
GATE_CHOICES = (None, "relu", "silu", "gelu")
SEED_LIMIT = 2**32
MAX_NAME_LENGTH = 100  # experiment names become folder names (plus 9 characters of hash)
DEFAULT_STEPS = 3000


@dataclass(frozen=True)
class ModelConfig:
    """A bilinear classifier (`kind="bilinear"`), the ReLU baseline ("relu") or a plain ReLU MLP ("relu_mlp")."""

    kind: str = "bilinear"
    d_input: int = 784
    d_hidden: int = 256
    d_output: int = 10
    n_layer: int = 1
    bias: bool = False
    residual: bool = False
    gate: str | None = None

    def __post_init__(self):
        check_choice("model.kind", self.kind, MODEL_KINDS)
        for key, low in (("d_input", 1), ("d_hidden", 1), ("d_output", 2), ("n_layer", 1)):
            object.__setattr__(self, key, check_integer(f"model.{key}", getattr(self, key), low))
        for key in ("bias", "residual"):
            object.__setattr__(self, key, check_boolean(f"model.{key}", getattr(self, key)))
        check_choice("model.gate", self.gate, GATE_CHOICES)
        if self.kind in ("relu", "relu_mlp") and (self.residual or self.gate is not None):
            raise ConfigError("the ReLU baseline has no residual or gate option: remove them from the model config")


@dataclass(frozen=True)
class TrainConfig:
    """AdamW with a per-epoch schedule; input noise is a std in pixel units, layer noise relative.

    The length is `steps` optimizer steps (run as `ceil(steps / batches per epoch)` epochs,
    so one recipe fits a 4,000-image sample and the full dataset alike) or `epochs` epochs:
    set at most one of them (neither: DEFAULT_STEPS). `full_steps` is the recipe's own
    length, set by its preset: a run of fewer steps is a smoke run (None: every run is full).
    Validation and test metrics are logged every `eval_every` epochs (and at the first and last).
    """

    epochs: int | None = None
    steps: int | None = None  # None with epochs None: DEFAULT_STEPS
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.5
    adam_beta2: float = 0.999
    schedule: str = "cosine"
    input_noise_std: float = 0.0
    layer_noise: float = 0.0
    device: str = "auto"
    val_fraction: float = 0.1
    eval_every: int = 1
    full_steps: int | None = None
    cluster_strength: float = 0.0  # lambda of the clusterability term (loss = CE - lambda C); 0: no term
    init_run: str | None = None  # a run name under data/runs/: start from its best checkpoint (fine-tuning)
    n_clusters: int = 4  # contiguous clusters of hidden units the term rewards (used when cluster_strength > 0)
    cluster_readout: bool = True  # bilinear models: the term also clusters the readout (classes split contiguously)

    def __post_init__(self):
        if self.epochs is None and self.steps is None:
            object.__setattr__(self, "steps", DEFAULT_STEPS)
        if self.epochs is not None and self.steps is not None:
            raise ConfigError(f"set one of train.epochs and train.steps, not both, got epochs={self.epochs!r} and "
                              f"steps={self.steps!r}: an optimizer-step budget (steps=3000) or a number of epochs")
        for key in ("epochs", "steps", "batch_size", "full_steps"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, check_integer(f"train.{key}", getattr(self, key), 1))
        for key in ("lr", "weight_decay", "input_noise_std", "layer_noise", "cluster_strength"):
            object.__setattr__(self, key, check_number(f"train.{key}", getattr(self, key)))
        object.__setattr__(self, "adam_beta2", check_number("train.adam_beta2", self.adam_beta2, 0.0, 1.0))
        object.__setattr__(self, "val_fraction", check_number("train.val_fraction", self.val_fraction, 0.0, 1.0))
        object.__setattr__(self, "eval_every", check_integer("train.eval_every", self.eval_every, 1))
        object.__setattr__(self, "n_clusters", check_integer("train.n_clusters", self.n_clusters, 2))
        object.__setattr__(self, "cluster_readout", check_boolean("train.cluster_readout", self.cluster_readout))
        if self.init_run is not None and (not isinstance(self.init_run, str) or not self.init_run
                                          or any(c in self.init_run for c in "/\\.") or len(self.init_run) > 120):
            raise ConfigError(f"train.init_run must be the name of a run folder under data/runs/ (such as "
                              f"run.run_dir.name), got {self.init_run!r}")
        check_choice("train.schedule", self.schedule, SCHEDULES)
        device = str(plain(self.device))
        kind, _, index = device.partition(":")
        if kind not in DEVICE_CHOICES or (":" in device and (kind != "cuda" or not index.isdigit())):
            raise ConfigError(f"unknown train.device {self.device!r}: use one of {list(DEVICE_CHOICES)} (or 'cuda:N')")
        object.__setattr__(self, "device", device)

    def epochs_for(self, batches_per_epoch: int) -> int:
        """How many epochs this run lasts when an epoch is `batches_per_epoch` optimizer steps."""
        batches_per_epoch = check_integer("batches_per_epoch", batches_per_epoch, 1)
        return self.epochs if self.steps is None else math.ceil(self.steps / batches_per_epoch)


SECTIONS = {"dataset": DatasetConfig, "model": ModelConfig, "train": TrainConfig}
NOT_HASHED = {"dataset": ("root",), "train": ("device", "full_steps")}  # where, how fast, and the recipe's length


def section(name: str, value: dict | DatasetConfig | ModelConfig | TrainConfig):
    """The typed config section `name` ("dataset", "model" or "train") from a dict, keys checked."""
    cls = SECTIONS[name]
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"config section {name!r} must be a dict, got {type(value).__name__}")
    check_keys(f"config section {name!r}", value, [f.name for f in dataclasses.fields(cls)])
    return cls(**value)


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole recipe. `run_name` is `<experiment_name>_<8 hex digits of what it learns>`."""

    experiment_name: str = "bilinear_mnist"
    seed: int = 0
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        for key in SECTIONS:  # dicts are accepted and checked like from_dict's
            object.__setattr__(self, key, section(key, getattr(self, key)))
        name = self.experiment_name
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isascii() \
                or not name.replace("-", "").replace("_", "").isalnum() or len(name) > MAX_NAME_LENGTH:
            raise ConfigError(f"experiment_name must be 1 to {MAX_NAME_LENGTH} ASCII letters, digits, '-' and '_' (it "
                              f"names a folder), got {name!r}")
        object.__setattr__(self, "seed", check_integer("seed", self.seed, 0, SEED_LIMIT))
        d_input, n_classes = dataset_sizes(self.dataset.name)
        what = "images" if self.dataset.name in DATASETS else "two-hot pairs"
        if self.model.d_input != d_input:
            raise ConfigError(f"model.d_input={self.model.d_input} does not match {self.dataset.name}'s {what} "
                              f"({d_input} values): set d_input={d_input}")
        splits_classes = self.model.kind == "bilinear" and self.train.cluster_readout
        clustered = min(self.model.d_hidden, n_classes) if splits_classes else self.model.d_hidden
        if self.train.cluster_strength > 0 and self.train.n_clusters > clustered:  # bilinear: the classes split too
            raise ConfigError(f"train.n_clusters={self.train.n_clusters} is more clusters than the units the term "
                              f"splits ({self.model.d_hidden} hidden units" + (f", {n_classes} classes" if
                              splits_classes else "") + f"): choose at most {clustered}")
        if self.model.d_output != n_classes:
            raise ConfigError(f"model.d_output={self.model.d_output} does not match {self.dataset.name}'s "
                              f"{n_classes} classes: set d_output={n_classes}")

    def to_dict(self) -> dict:
        """Plain nested dicts (what checkpoints and summary.json store)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict | ExperimentConfig) -> ExperimentConfig:
        """Build from nested dicts laid over the defaults; unknown keys are errors that suggest the closest key."""
        if isinstance(config, ExperimentConfig):
            return config
        if not isinstance(config, dict):
            raise ConfigError(f"a config must be a dict or an ExperimentConfig, got {type(config).__name__}")
        check_keys("the config", config, [f.name for f in dataclasses.fields(cls)])
        return cls(**{key: section(key, value) if key in SECTIONS else value for key, value in config.items()})

    def replace(self, **overrides) -> ExperimentConfig:
        """A copy with flat overrides: keys of any section, `dataset`, `data_root`, `train_fraction`, `seed`,
        `experiment_name`.

        Giving `epochs` clears `steps` and the other way round: the run's length is set once.
        A new `dataset` brings its own `d_input` and `d_output` unless they are given too.
        """
        check_keys("the overrides", overrides, FLAT_KEYS)
        config = self.to_dict()
        for length, other in (("epochs", "steps"), ("steps", "epochs")):  # a new length replaces the old one
            if length in overrides and other not in overrides:
                config["train"][other] = None
        if "dataset" in overrides:
            sizes = dict(zip(("d_input", "d_output"), dataset_sizes(section("dataset", {"name": overrides["dataset"]})
                                                                    .name), strict=True))
            config["model"].update({key: value for key, value in sizes.items() if key not in overrides})
        for key, value in overrides.items():
            part, name = FLAT_KEYS[key]
            (config[part] if part else config)[name] = value
        return ExperimentConfig.from_dict(config)

    @property
    def config_hash(self) -> str:
        """8 hex digits identifying what this config learns.

        One rule: every field equal to its default is left out, and so are the fields of
        NOT_HASHED (where the data is, which device, the recipe's full length). A new knob
        therefore leaves every existing run's name alone as long as it stays at its default.
        Run folders written before this rule carry other names: they are not found, and retrain.
        """
        learned, default = self.to_dict(), ExperimentConfig().to_dict()
        for part, keys in NOT_HASHED.items():
            for key in keys:
                learned[part].pop(key)
        kept = {}
        for key, value in learned.items():
            if isinstance(value, dict):
                changed = {k: v for k, v in value.items() if v != default[key][k]}
                if changed:
                    kept[key] = changed
            elif value != default[key]:
                kept[key] = value
        return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:8]

    @property
    def run_name(self) -> str:
        return f"{self.experiment_name}_{self.config_hash}"


FLAT_KEYS: dict[str, tuple[str | None, str]] = {
    **{f.name: ("train", f.name) for f in dataclasses.fields(TrainConfig)},
    **{f.name: ("model", f.name) for f in dataclasses.fields(ModelConfig)},
    "dataset": ("dataset", "name"),
    "data_root": ("dataset", "root"),
    "train_fraction": ("dataset", "train_fraction"),
    "trigger": ("dataset", "trigger"),
    "poison_fraction": ("dataset", "poison_fraction"),
    "poison_target": ("dataset", "poison_target"),
    "train_images": ("dataset", "train_images"),
    "seed": (None, "seed"),
    "experiment_name": (None, "experiment_name"),
}
