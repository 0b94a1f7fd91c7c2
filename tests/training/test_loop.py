import math
import warnings

import pytest
import torch

from bilinear_helpers import (
    BilinearImageClassifier,
    evaluate,
    resolve_device,
    set_seed,
    warmup_step_factor,
    weight_decay_factor,
)
from bilinear_helpers.loaders import tensor_loader
from bilinear_helpers.training import add_layer_noise, learning_rates


def test_warmup_step_schedule_per_epoch():
    expected = [0.01, 0.505, 1, 1, 0.5, 0.5, 0.25, 0.25, 1 / 8, 1 / 8, 1 / 16, 1 / 16, 1 / 32, 1 / 32] + [1 / 64] * 6
    assert learning_rates("warmup_step", 64)[:20] == pytest.approx(expected)  # the seed's run: 64 epochs
    assert [warmup_step_factor(e) for e in range(20)] == pytest.approx(expected)


def test_warmup_step_stretches_to_the_run_length():
    seed_run = learning_rates("warmup_step", 64)
    assert learning_rates("warmup_step", 128)[::2] == pytest.approx(seed_run)  # epoch 2e plays the seed's e
    short = learning_rates("warmup_step", 32)
    assert short[0] == pytest.approx(0.01) and max(short) == 1 and short[-1] == pytest.approx(1 / 64)


def test_warmup_step_matches_the_seed_notebooks_sequential_scheduler():
    from torch.optim.lr_scheduler import ConstantLR, LinearLR, SequentialLR, StepLR

    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    seed_scheduler = SequentialLR(
        optimizer,
        schedulers=[
            LinearLR(optimizer, start_factor=0.01, end_factor=1, total_iters=2),
            StepLR(optimizer, step_size=2, gamma=0.5),
            ConstantLR(optimizer, factor=0.5 ** (12 / 2), total_iters=1000),
        ],
        milestones=[2, 15],
    )
    seed_lrs = []
    with warnings.catch_warnings():  # SequentialLR warns about its own use of step(epoch)
        warnings.simplefilter("ignore")
        for _ in range(64):
            seed_lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            seed_scheduler.step()
    assert learning_rates("warmup_step", 64, base_lr=1e-3) == pytest.approx(seed_lrs)


def test_cosine_schedule_per_epoch():
    epochs = 8
    expected = [0.5 * (1 + math.cos(math.pi * e / epochs)) for e in range(epochs)]
    assert learning_rates("cosine", epochs) == pytest.approx(expected)


def test_resolve_device():
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' is not available on this machine"):
            resolve_device("cuda")


def test_set_seed_makes_draws_repeatable():
    set_seed(5)
    a = torch.rand(3)
    set_seed(5)
    assert torch.equal(a, torch.rand(3))


def test_evaluate_counts_loss_and_accuracy():
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2)
    x = torch.randn(10, 4)
    logits = model(x).detach()
    y = logits.argmax(-1)
    y[:3] = 1 - y[:3]  # three wrong
    loss, acc = evaluate(model, tensor_loader(x, y, 4, shuffle=False), torch.nn.functional.cross_entropy, "cpu")
    assert acc == pytest.approx(0.7)
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item(), rel=1e-6)


def test_layer_noise_only_while_training_and_removable():
    model = BilinearImageClassifier(d_input=4, d_hidden=8, d_output=2, n_layer=2)
    x = torch.randn(16, 4)
    clean = model(x)
    handles = add_layer_noise(model, 0.5)
    model.eval()
    torch.testing.assert_close(model(x), clean)
    model.train()
    assert not torch.allclose(model(x), clean)
    for handle in handles:
        handle.remove()
    torch.testing.assert_close(model(x), clean)




def test_weight_decay_factor_is_the_product_over_steps():
    assert weight_decay_factor([0.1, 0.05], steps_per_epoch=3, weight_decay=0.5) == pytest.approx(0.95**3 * 0.975**3)
    assert weight_decay_factor([1e-3] * 10, steps_per_epoch=5, weight_decay=0.0) == 1.0
