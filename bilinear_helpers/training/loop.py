"""The training loop: schedules, noise, one epoch, evaluation, weight decay's reach.

`runs.train_run` ties these to data, a model and a run folder.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler

from ..checks import check_integer, check_labels, check_number
from ..config import SCHEDULES
from ..models import accuracy
from ..runtime import resolve_device

METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr")


SEED_EPOCHS = 64  # the seed notebook's run length, over which the "warmup_step" shape is defined


def warmup_step_factor(epoch: int, epochs: int = SEED_EPOCHS) -> float:
    """The seed notebook's schedule, as a multiple of the base lr for a 0-based epoch of `epochs`.

    Over the seed's 64 epochs: linear warm-up from 0.01x over epochs 0-1, 1x at epochs 2-3,
    then halved every two epochs down to 1/64 at epoch 14, constant after. A run of another
    length gets the same shape stretched: its epoch e plays the seed's epoch e * 64 / epochs.
    """
    epochs = check_integer("epochs", epochs, 1)
    epoch = check_integer("epoch", epoch, 0)
    seed_epoch = epoch * SEED_EPOCHS / epochs
    if seed_epoch < 2:
        return 0.01 + 0.99 * seed_epoch / 2
    return 0.5 ** min(int(seed_epoch - 2) // 2, 6)


def build_scheduler(optimizer: torch.optim.Optimizer, schedule: str, epochs: int) -> LRScheduler:
    """A per-epoch scheduler: "cosine" (to 0 over `epochs`), "warmup_step" (stretched to `epochs`) or "constant"."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch optimizer, got {type(optimizer).__name__}")
    epochs = check_integer("epochs", epochs, 1)
    if schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=epochs)
    if schedule == "warmup_step":
        return LambdaLR(optimizer, lambda epoch: warmup_step_factor(epoch, epochs))
    if schedule == "constant":
        return LambdaLR(optimizer, lambda epoch: 1.0)
    raise ValueError(f"unknown schedule {schedule!r}: choose one of {list(SCHEDULES)}")


def learning_rates(schedule: str, epochs: int, base_lr: float = 1.0) -> list[float]:
    """The learning rate of each of `epochs` epochs under `schedule`, without training anything."""
    epochs = check_integer("epochs", epochs, 1)
    base_lr = check_number("base_lr", base_lr)
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = build_scheduler(optimizer, schedule, epochs)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def add_layer_noise(model: nn.Module, relative_std: float) -> list:
    """Forward hooks adding Gaussian noise of `relative_std` x the batch std after each block.

    As in the seed notebook, the scale follows the batch (gradients flow through the
    std). Active only while the model is in training mode. Returns the hook handles;
    call `.remove()` on each to take the noise off.
    """

    def hook(module, inputs, output):
        if module.training:  # output + relative_std * std(output) * N(0, 1), in one pass
            return torch.addcmul(output, torch.randn_like(output), relative_std * output.std())
        return None

    return [block.register_forward_hook(hook) for block in model.blocks]


@torch.no_grad()
def evaluate(model: nn.Module, loader, criterion, device) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` over `loader`, in eval mode, without gradients."""
    device = resolve_device(device)
    if not callable(criterion):
        raise TypeError(f"criterion must be a loss function such as F.cross_entropy, got {criterion!r}")
    model.eval()
    total_loss = torch.zeros((), device=device)
    all_logits, all_labels = [], []
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError("loader must yield (inputs, labels) pairs, e.g. a DataLoader over a TensorDataset")
        x, y = batch
        n_classes = getattr(model, "d_output", None)
        x, y = x.to(device), (y if n_classes is None else check_labels(y, n_classes)).to(device)
        logits = model(x)
        total_loss += criterion(logits, y) * len(y)
        all_logits.append(logits)
        all_labels.append(y)
    if not all_labels:
        raise ValueError("cannot evaluate on an empty loader")
    labels = torch.cat(all_labels)
    return total_loss.item() / len(labels), accuracy(torch.cat(all_logits), labels)


def train_one_epoch(model, loader, optimizer, input_noise_std: float, device,
                    regularizer=None) -> tuple[float, float]:
    """One pass over `loader` with Gaussian input noise (std in pixel units); (loss, acc).

    The accuracy counts the noisy training inputs, as the model saw them. `regularizer`
    (`model -> 0-d tensor`, e.g. `clusterability_penalty`) is added to the cross-entropy
    that is minimised; the loss returned is the cross-entropy alone.
    """
    input_noise_std = check_number("input_noise_std", input_noise_std)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch optimizer, got {type(optimizer).__name__}")
    trained = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in trained for p in model.parameters()):
        raise ValueError("the optimizer holds none of this model's parameters: build it from model.parameters()")
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    for x, y in loader:
        x = x.flatten(start_dim=1)
        if input_noise_std > 0:
            x = torch.add(x, torch.randn_like(x), alpha=input_noise_std)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        (loss if regularizer is None else loss + regularizer(model)).backward()
        optimizer.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.detach().argmax(dim=-1) == y).sum()
        count += len(y)
    if count == 0:
        raise ValueError("cannot train on an empty loader: it yielded no batches")
    return total_loss.item() / count, correct.item() / count


def weight_decay_factor(learning_rates: list[float], steps_per_epoch: int, weight_decay: float) -> float:
    """`prod_t (1 - lr_t * wd)` over every optimizer step: how far AdamW's decay alone shrinks a weight.

    Near 1: weight decay has barely acted and the weights still carry their initialisation.
    """
    if isinstance(learning_rates, (int, float)) or not hasattr(learning_rates, "__iter__"):
        raise ValueError(f"learning_rates must be a list, one rate per epoch, got {learning_rates!r}")
    rates = [check_number("each learning rate", lr) for lr in learning_rates]
    if not rates:
        raise ValueError("learning_rates is empty: give one rate per epoch (learning_rates(schedule, epochs))")
    steps_per_epoch = check_integer("steps_per_epoch", steps_per_epoch, 1)
    weight_decay = check_number("weight_decay", weight_decay)
    if max(rates) * weight_decay > 1:
        raise ValueError(f"lr x weight_decay = {max(rates) * weight_decay:g} > 1: AdamW's decay step would flip "
                         "the weights' sign; lower the learning rate or the weight decay")
    factor = 1.0
    for lr in rates:
        factor *= (1.0 - lr * weight_decay) ** steps_per_epoch
    return factor
