"""The training loop: schedules, noise, one epoch, evaluation, weight decay's reach."""

import math
import warnings

import pytest
import torch
from torch.nn import functional as F

from bilinear_helpers import BilinearImageClassifier, evaluate, learning_rates, weight_decay_factor
from bilinear_helpers.data.loaders import tensor_loader
from bilinear_helpers.training import build_scheduler, train_one_epoch, warmup_step_factor
from bilinear_helpers.training.loop import add_layer_noise


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


def test_constant_schedule():
    assert learning_rates("constant", 5, base_lr=3e-3) == pytest.approx([3e-3] * 5)


def test_unknown_schedule_names_the_choices():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match=r"unknown schedule 'linear': choose one of \['cosine', 'warmup_step', "
                                         r"'constant'\]"):
        build_scheduler(optimizer, "linear", 3)


def test_evaluate_counts_loss_and_accuracy():
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2)
    x = torch.randn(10, 4)
    logits = model(x).detach()
    y = logits.argmax(-1)
    y[:3] = 1 - y[:3]  # three wrong
    loss, acc = evaluate(model, tensor_loader(x, y, 4, shuffle=False), F.cross_entropy, "cpu")
    assert acc == pytest.approx(0.7)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)  # batches of 4, 4, 2 weighted right
    assert not model.training


def test_evaluate_refuses_an_empty_loader():
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2)
    with pytest.raises(ValueError, match="cannot evaluate on an empty loader"):
        evaluate(model, [], F.cross_entropy, "cpu")


def test_one_epoch_steps_once_per_batch_and_reports_the_clean_loss():
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, seed=0)
    x, y = torch.randn(12, 4), torch.randint(0, 2, (12,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        expected_loss = F.cross_entropy(model(x[:12]), y).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no movement: the loss is the model's own
    loss, acc = train_one_epoch(model, tensor_loader(x, y, 12, shuffle=False), optimizer, 0.0, "cpu")
    with torch.no_grad():
        expected_acc = (model(x).argmax(-1) == y).double().mean().item()
    assert loss == pytest.approx(expected_loss, rel=1e-6) and acc == pytest.approx(expected_acc) and model.training
    steps = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.register_step_post_hook(lambda *args: steps.append(1))
    train_one_epoch(model, tensor_loader(x, y, 5, shuffle=False), optimizer, 0.0, "cpu")
    assert len(steps) == 3 and not torch.equal(model.state_dict()["embedding.weight"], before["embedding.weight"])


def test_a_regularizer_is_added_to_what_is_minimised_not_to_the_loss_reported():
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    results = {}
    for name, regularizer in (("plain", None), ("decay", lambda m: m.readout.weight.pow(2).sum())):
        model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, seed=0)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        loss, _ = train_one_epoch(model, [(x, y)], optimizer, 0.0, "cpu", regularizer=regularizer)
        results[name] = (loss, model.readout_weight.norm().item())
    assert results["plain"][0] == pytest.approx(results["decay"][0])  # the same cross-entropy, before the step
    assert results["decay"][1] < results["plain"][1]  # the term pulled the readout in


def test_input_noise_changes_the_inputs_the_model_sees():
    x, y = torch.zeros(2000, 4), torch.zeros(2000, dtype=torch.int64)
    seen = []
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, seed=0)
    model.embedding.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].clone()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    train_one_epoch(model, [(x, y)], optimizer, 0.0, "cpu")
    train_one_epoch(model, [(x, y)], optimizer, 0.5, "cpu")
    assert torch.equal(seen[0], x)
    assert 0.45 < seen[1].std().item() < 0.55  # std 0.5 in pixel units


def test_layer_noise_only_while_training_and_removable():
    model = BilinearImageClassifier(d_input=4, d_hidden=8, d_output=2, n_layer=2)
    x = torch.randn(16, 4)
    clean = model(x)
    handles = add_layer_noise(model, 0.5)
    assert len(handles) == 2  # one hook per block
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


def tiny():
    return BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, seed=0)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: learning_rates("cosine", 0), ValueError, r"epochs must be >= 1, got 0"),
    (lambda: learning_rates("warmup_step", 2.5), ValueError, "epochs must be a whole number"),
    (lambda: warmup_step_factor(0, 0), ValueError, r"epochs must be >= 1, got 0"),
    (lambda: warmup_step_factor(-5), ValueError, r"epoch must be >= 0, got -5"),
    (lambda: build_scheduler(None, "cosine", 3), TypeError, "optimizer must be a torch optimizer"),
    (lambda: weight_decay_factor([0.1], 10, -1), ValueError, r"weight_decay must be >= 0.0, got -1"),
    (lambda: weight_decay_factor([0.1], -10, 0.1), ValueError, r"steps_per_epoch must be >= 1"),
    (lambda: weight_decay_factor([0.1], 11, 20), ValueError, r"lr x weight_decay = 2 > 1"),
    (lambda: weight_decay_factor([float("nan")], 10, 0.1), ValueError, "each learning rate must be a finite number"),
    (lambda: weight_decay_factor([], 10, 0.1), ValueError, "learning_rates is empty"),
    (lambda: weight_decay_factor(0.1, 10, 0.1), ValueError, "learning_rates must be a list"),
    (lambda: evaluate(tiny(), [(torch.randn(3, 4), torch.tensor([0, 1, 7]))], F.cross_entropy, "cpu"), ValueError,
     r"labels must be class indices 0..1, got 0..7"),
    (lambda: evaluate(tiny(), [(torch.randn(3, 4), torch.zeros(3))], F.cross_entropy, "cpu"), ValueError,
     "labels must be integer class indices"),
    (lambda: evaluate(tiny(), [(torch.randn(3, 4), torch.zeros(3, dtype=torch.int64))], F.cross_entropy, "gpu"),
     ValueError, "unknown device 'gpu'"),
    (lambda: evaluate(tiny(), [torch.randn(3, 4)], F.cross_entropy, "cpu"), ValueError,
     r"loader must yield \(inputs, labels\) pairs"),
    (lambda: evaluate(tiny(), [], None, "cpu"), TypeError, "criterion must be a loss function"),
    (lambda: train_one_epoch(tiny(), [], torch.optim.SGD(tiny().parameters(), lr=0.1), 0.0, "cpu"), ValueError,
     "the optimizer holds none of this model's parameters"),
    (lambda: train_one_epoch(tiny(), [], None, 0.0, "cpu"), TypeError, "optimizer must be a torch optimizer"),
    (lambda: train_one_epoch(tiny(), [], None, float("nan"), "cpu"), ValueError,
     "input_noise_std must be a finite number"),
])
def test_loop_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_training_on_an_empty_loader_is_refused():
    model = tiny()
    with pytest.raises(ValueError, match="cannot train on an empty loader"):
        train_one_epoch(model, [], torch.optim.SGD(model.parameters(), lr=0.1), 0.0, "cpu")
