"""Training: the loop (`loop`), run folders committed whole (`run_folder`), checkpoints loaded
safely (`checkpoints`), the clusterability term (`clusterability`), and the one way to get a
trained model, `load_or_train` (`runs`)."""

from .checkpoints import CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint
from .clusterability import block_clusters, clusterability, clusterability_penalty, model_clusterability
from .loop import build_scheduler, evaluate, learning_rates, train_one_epoch, warmup_step_factor, weight_decay_factor
from .run_folder import RunError, RunLayout
from .runs import TrainedRun, TrainingDivergedError, dataloaders_for, is_full_length, load_or_train, train_run

__all__ = [
    "CheckpointError",
    "RunError",
    "RunLayout",
    "TrainedRun",
    "TrainingDivergedError",
    "block_clusters",
    "build_scheduler",
    "clusterability",
    "clusterability_penalty",
    "dataloaders_for",
    "evaluate",
    "is_full_length",
    "learning_rates",
    "load_checkpoint",
    "load_or_train",
    "model_clusterability",
    "model_from_checkpoint",
    "save_checkpoint",
    "train_one_epoch",
    "train_run",
    "warmup_step_factor",
    "weight_decay_factor",
]
