"""Checks of exercises 01.1-05.1: the right answer passes, each diagnosed mistake fails with its reason."""

import torch
from einops import einsum

import bilinear_helpers as bh
from bilinear_helpers.exercises import (
    check_folded_readout,
    check_layer_as_matrices,
    check_logit_from_eigenvalues,
    check_matched_relu_width,
    check_pulled_back_matrix,
    check_top_eigenvector_predictions,
    check_truncated_accuracy,
)


def small_model(n_layer=1):
    return bh.BilinearImageClassifier(d_input=16, d_hidden=6, d_output=4, n_layer=n_layer, seed=1)


def verdict(capsys, check, *args):
    result = check(*args)
    return result, capsys.readouterr().out


def test_layer_as_matrices(capsys):
    layer = bh.Bilinear(d_in=5, d_out=3)
    L, R = layer.left_weight.detach(), layer.right_weight.detach()
    raw = einsum(L, R, "out in1, out in2 -> out in1 in2")
    ok, out = verdict(capsys, check_layer_as_matrices, layer, bh.symmetrize(raw))
    assert ok and out.startswith("Correct:")
    ok, out = verdict(capsys, check_layer_as_matrices, layer, raw)
    assert not ok and "not symmetric" in out
    ok, out = verdict(capsys, check_layer_as_matrices, layer, einsum(L, L, "out in1, out in2 -> out in1 in2"))
    assert not ok and "paired L with itself" in out
    ok, out = verdict(capsys, check_layer_as_matrices, layer, ...)
    assert not ok and "still empty" in out
    ok, out = verdict(capsys, check_layer_as_matrices, layer, torch.zeros(5, 5))
    assert not ok and "shape (5, 5); it should be (3, 5, 5)" in out
    assert layer.left_weight.dtype == torch.float32  # the check leaves the reader's layer as it was


def test_matched_relu_width(capsys):
    model = small_model()  # 16*6 + 2*36 + 6*4 = 192 parameters; ReLU: 16w + w^2 + 4w
    ok, out = verdict(capsys, check_matched_relu_width, model, 8)  # 224 against 192; 7 gives 189
    assert not ok and "more than" in out
    ok, out = verdict(capsys, check_matched_relu_width, model, 7)
    assert ok and "189 parameters" in out
    ok, out = verdict(capsys, check_matched_relu_width, model, 6)
    assert not ok and "two matrices" in out
    ok, out = verdict(capsys, check_matched_relu_width, model, 2.5)
    assert not ok and "whole number" in out


def test_folded_readout(capsys):
    model = small_model()
    raw = bh.raw_interaction_matrices(model)
    ok, out = verdict(capsys, check_folded_readout, model, bh.symmetrize(raw))
    assert ok
    ok, out = verdict(capsys, check_folded_readout, model, raw)
    assert not ok and "raw matrix B" in out
    ok, out = verdict(capsys, check_folded_readout, model, -bh.symmetrize(raw))
    assert not ok and "sign is flipped" in out
    ok, out = verdict(capsys, check_folded_readout, model, torch.rand_like(raw))
    assert not ok and "Sum over `out`" in out
    ok, out = verdict(capsys, check_folded_readout, model, "Q")
    assert not ok and "should be numbers" in out


def test_logit_from_eigenvalues(capsys):
    model = small_model()
    image = torch.rand(16)
    artifacts = bh.decompose_bilinear_model(model)
    h = model.block_input(image[None], 0)[0].double().detach()
    lam, vec = artifacts.eigenvalues[2], artifacts.eigenvectors[2]
    ok, out = verdict(capsys, check_logit_from_eigenvalues, model, image, 2, (lam * (vec @ h) ** 2).sum())
    assert ok and out.startswith("Correct:")
    other = (artifacts.eigenvalues[1] * (artifacts.eigenvectors[1] @ h) ** 2).sum()
    ok, out = verdict(capsys, check_logit_from_eigenvalues, model, image, 2, other)
    assert not ok and "logit of class 1" in out
    ok, out = verdict(capsys, check_logit_from_eigenvalues, model, image, 2, (lam * (vec @ h)).sum())
    assert not ok and "not squared" in out
    ok, out = verdict(capsys, check_logit_from_eigenvalues, model, image, 2, (lam * (vec.T @ h) ** 2).sum())
    assert not ok and "rows" in out
    ok, out = verdict(capsys, check_logit_from_eigenvalues, model, image, 2, torch.ones(2))
    assert not ok and "one number" in out


def test_top_eigenvector_predictions(capsys):
    model = small_model()
    images, labels = torch.rand(50, 16), torch.randint(0, 4, (50,))
    artifacts = bh.decompose_bilinear_model(model)
    contributions = artifacts.contributions(model.block_input(images, 0).detach())
    ok, out = verdict(capsys, check_top_eigenvector_predictions, model, images, labels,
                      contributions[:, :, -1].argmax(-1))
    assert ok and "full model's" in out
    ok, out = verdict(capsys, check_top_eigenvector_predictions, model, images, labels,
                      contributions[:, :, 0].argmax(-1))
    assert not ok and "most *negative*" in out
    ok, out = verdict(capsys, check_top_eigenvector_predictions, model, images, labels, torch.zeros(49))
    assert not ok and "shape (49,)" in out


def test_pulled_back_matrix(capsys):
    model = small_model(n_layer=2)
    u = torch.randn(6, dtype=torch.float64)
    L0, R0 = model.left_weight(0).detach().double(), model.right_weight(0).detach().double()
    raw = einsum(u, L0, R0, "out, out in1, out in2 -> in1 in2")
    ok, out = verdict(capsys, check_pulled_back_matrix, model, u, bh.symmetrize(raw))
    assert ok and "decompose_direction: True" in out
    ok, out = verdict(capsys, check_pulled_back_matrix, model, u, raw)
    assert not ok and "raw matrix" in out
    L1, R1 = model.left_weight(1).detach().double(), model.right_weight(1).detach().double()
    ok, out = verdict(capsys, check_pulled_back_matrix, model, u,
                      bh.symmetrize(einsum(u, L1, R1, "out, out in1, out in2 -> in1 in2")))
    assert not ok and "block 1's weights" in out


def test_truncated_accuracy(capsys):
    model = bh.BilinearImageClassifier(d_input=16, d_hidden=6, d_output=4, seed=0)
    generator = torch.Generator().manual_seed(0)
    images, labels = torch.rand(200, 16, generator=generator), torch.randint(0, 4, (200,), generator=generator)
    artifacts = bh.decompose_bilinear_model(model)
    h = model.block_input(images, 0).detach().double()
    expected = bh.analysis.truncated_accuracy(artifacts, h, labels, [2])[0]
    ok, out = verdict(capsys, check_truncated_accuracy, model, images, labels, 2, expected)
    assert ok and f"{expected:.3f}" in out
    contributions = artifacts.contributions(h)
    top_positive = artifacts.top(2, by="positive")
    kept = contributions.gather(2, top_positive[None].expand(len(h), -1, -1)).sum(-1)
    by_positive = (kept.argmax(-1) == labels).double().mean().item()
    assert by_positive != expected  # the mistake below is told apart on this model
    ok, out = verdict(capsys, check_truncated_accuracy, model, images, labels, 2, by_positive)
    assert not ok and "most positive" in out
    ok, out = verdict(capsys, check_truncated_accuracy, model, images, labels, 2, 40.0)
    assert not ok and "between 0 and 1" in out


def test_a_verdict_is_a_bool_that_jupyter_does_not_display(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    layer = bh.Bilinear(d_in=3, d_out=2)
    result = check_layer_as_matrices(layer, ...)
    assert not result and repr(result) == "Verdict(False)"
    shell = InteractiveShell.instance()
    try:
        data, _ = shell.display_formatter.format(result)
        assert data == {}  # nothing shown below the printed message
    finally:
        InteractiveShell.clear_instance()
