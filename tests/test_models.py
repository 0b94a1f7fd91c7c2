"""The bilinear layer, the classifiers built from it, their weight accessors and block-by-block forward pass."""

import numpy as np
import pytest
import torch

from bilinear_helpers import (
    Bilinear,
    BilinearImageClassifier,
    ReLUImageClassifier,
    ReLUMLP,
    accuracy,
    build_image_classifier,
)


def test_bilinear_output_is_quadratic_form_of_left_and_right_halves():
    torch.manual_seed(0)
    layer = Bilinear(6, 4)
    h = torch.randn(3, 6)
    expected = torch.einsum("bi,oi,oj,bj->bo", h, layer.left_weight, layer.right_weight, h)
    torch.testing.assert_close(layer(h), expected)
    assert layer.left_weight.shape == layer.right_weight.shape == (4, 6)
    torch.testing.assert_close(torch.cat([layer.left_weight, layer.right_weight]), layer.linear.weight.detach())
    assert not layer.left_weight.requires_grad


def test_bilinear_bias_enters_both_halves():
    torch.manual_seed(0)
    layer = Bilinear(5, 3, bias=True)
    h = torch.randn(2, 5)
    expected = (h @ layer.left_weight.T + layer.left_bias) * (h @ layer.right_weight.T + layer.right_bias)
    torch.testing.assert_close(layer(h), expected)
    torch.testing.assert_close(torch.cat([layer.left_bias, layer.right_bias]), layer.linear.bias.detach())
    assert Bilinear(5, 3).left_bias is None and Bilinear(5, 3).right_bias is None


@pytest.mark.parametrize("gate", ["relu", "silu", "gelu"])
def test_gated_variants_apply_the_gate_to_the_left_half(gate):
    torch.manual_seed(0)
    layer = Bilinear(5, 3, gate=gate)
    h = torch.randn(4, 5)
    act = getattr(torch.nn.functional, gate)
    torch.testing.assert_close(layer(h), act(h @ layer.left_weight.T) * (h @ layer.right_weight.T))


def test_unknown_gate_is_an_error_listing_the_choices():
    with pytest.raises(ValueError, match="unknown gate 'tanh'.*relu"):
        Bilinear(3, 3, gate="tanh")


def test_classifier_accepts_images_and_flat_inputs():
    model = BilinearImageClassifier(d_hidden=32, n_layer=2)
    images = torch.rand(5, 1, 28, 28)
    logits = model(images)
    assert logits.shape == (5, 10)
    torch.testing.assert_close(model(images.reshape(5, 784)), logits)


def test_classifier_rejects_wrong_input_width_with_the_fix():
    model = BilinearImageClassifier(d_hidden=8)
    with pytest.raises(ValueError, match=r"C\*H\*W = 784.*got shape \(2, 1, 14, 14\).*d_input=196"):
        model(torch.rand(2, 1, 14, 14))


def test_weight_accessors_have_the_documented_shapes_and_values():
    model = BilinearImageClassifier(d_input=20, d_hidden=8, d_output=3, n_layer=2, bias=True)
    assert model.embedding_weight.shape == (8, 20) and model.readout_weight.shape == (3, 8)
    for block in (0, 1, -1):
        assert model.left_weight(block).shape == model.right_weight(block).shape == (8, 8)
        assert model.left_bias(block).shape == model.right_bias(block).shape == (8,)
    torch.testing.assert_close(model.left_weight(1), model.blocks[1].left_weight)
    torch.testing.assert_close(model.left_weight(-1), model.left_weight(1))
    torch.testing.assert_close(model.embedding_weight, model.embedding.weight.detach())
    torch.testing.assert_close(model.readout_weight, model.readout.weight.detach())
    for detached in (model.embedding_weight, model.readout_weight, model.left_weight(0), model.right_bias(0)):
        assert not detached.requires_grad
    assert BilinearImageClassifier(d_hidden=4).left_bias() is None


@pytest.mark.parametrize("n_layer", [1, 3])
def test_weight_matrices_are_the_models_live_parameters(n_layer):
    model = BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=n_layer)
    weights = model.weight_matrices()
    assert list(weights) == ["embedding", *(f"block {b}" for b in range(n_layer)), "readout"]
    parameters = list(model.parameters())
    for name, weight in weights.items():
        assert weight.requires_grad and any(weight is p for p in parameters), name
    assert weights["block 0"].shape == (12, 6)  # [L; R] stacked
    with torch.no_grad():
        weights["readout"].zero_()  # a write through the dict reaches the model
    assert torch.count_nonzero(model(torch.randn(2, 10))) == 0


def test_left_and_right_weights_are_the_halves_of_the_block_matrix():
    model = BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, seed=3)
    for block in range(2):
        stacked = model.weight_matrices()[f"block {block}"].detach()
        torch.testing.assert_close(model.left_weight(block), stacked[:6])
        torch.testing.assert_close(model.right_weight(block), stacked[6:])


def test_relu_weight_matrices_and_biases():
    model = ReLUImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, bias=True)
    weights = model.weight_matrices()
    assert list(weights) == ["embedding", "block 0", "block 1", "readout"]
    assert weights["block 1"] is model.blocks[1][0].weight and weights["block 1"].shape == (6, 6)
    assert model.block_bias(0) is model.blocks[0][0].bias
    assert ReLUImageClassifier(d_input=10, d_hidden=6, d_output=4, bias=False).block_bias(0) is None


@pytest.mark.parametrize("make", [
    lambda: BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=3, seed=1),
    lambda: BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, residual=True, bias=True, seed=1),
    lambda: ReLUImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, seed=1),
    lambda: ReLUMLP(d_input=10, d_hidden=6, d_output=4, n_layer=2, seed=1),
], ids=["bilinear", "residual", "relu", "relu_mlp"])
def test_the_forward_pass_block_by_block(make):
    model = make()
    x = torch.randn(5, 10)
    with torch.no_grad():
        logits = model(x)
        last = model.block_output(x, -1)
        torch.testing.assert_close(model.readout(last), logits)  # the readout reads the last block's output
        torch.testing.assert_close(model.block_output(x, model.n_layer - 1), last)
        h = model.embed(x)
        torch.testing.assert_close(model.block_input(x, 0), h)
        for block in range(model.n_layer):
            torch.testing.assert_close(model.block_input(x, block), h)
            torch.testing.assert_close(model.logits_from_block(h, block), logits)
            h = model.apply_block(h, block)
            torch.testing.assert_close(model.block_output(x, block), h)


def test_forward_composes_embedding_blocks_and_readout():
    torch.manual_seed(0)
    model = BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, residual=True)
    x = torch.randn(3, 10)
    h = x @ model.embedding_weight.T
    for block in range(2):
        h = h + (h @ model.left_weight(block).T) * (h @ model.right_weight(block).T)
    torch.testing.assert_close(model(x), h @ model.readout_weight.T)


def test_relu_mlp_has_a_relu_after_the_embedding():
    model = build_image_classifier({"kind": "relu_mlp", "d_hidden": 8, "d_input": 4, "d_output": 3}, seed=0)
    assert isinstance(model, ReLUMLP)
    x = torch.randn(5, 4)
    h = torch.relu(x @ model.embedding_weight.T)
    torch.testing.assert_close(model.embed(x), h)
    w = model.weight_matrices()["block 0"].detach()
    torch.testing.assert_close(model(x), torch.relu(h @ w.T) @ model.readout_weight.T)


@pytest.mark.parametrize("block", [2, -3])
def test_a_block_out_of_range_is_named(block):
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, n_layer=2)
    with pytest.raises(IndexError, match=rf"block {block!r} is out of range for a model with 2 block\(s\)"):
        model.block_input(torch.randn(1, 4), block)


@pytest.mark.parametrize("block", [1.0, True, "0", None])
def test_a_block_that_is_not_a_whole_number_is_named(block):
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, n_layer=2)
    with pytest.raises(TypeError, match=rf"block must be a whole number .*, got {block!r}"):
        model.block_input(torch.randn(1, 4), block)


@pytest.mark.parametrize("block", [np.int64(1), torch.tensor(1), 1])
def test_numpy_and_torch_integers_name_blocks(block):
    model = BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2, n_layer=2)
    assert torch.equal(model.left_weight(block), model.left_weight(1))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"d_input": -1}, r"d_input must be >= 1, got -1"), ({"d_hidden": 4.0}, "d_hidden must be a whole number"),
    ({"n_layer": "2"}, "n_layer must be a whole number"), ({"seed": None}, "seed must be a whole number"),
    ({"bias": "no"}, "bias must be True or False, got 'no'"), ({"d_hidden": 0}, r"d_hidden must be >= 1, got 0"),
])
def test_constructor_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BilinearImageClassifier(**kwargs)


@pytest.mark.parametrize(("x", "message"), [
    (torch.randn(5, 8).double(), r"images are torch.float64 but the model's weights are torch.float32"),
    (torch.ones(5, 8, dtype=torch.int64), r"images are torch.int64 .* x.float\(\) / 255"),
    (np.zeros((5, 8), dtype=np.float32), "images must be a tensor"),
    (torch.zeros(0, 8), "images is empty"),
])
def test_inputs_of_another_dtype_or_kind_are_named(x, message):
    with pytest.raises(ValueError, match=message):
        BilinearImageClassifier(d_input=8, d_hidden=4, d_output=3)(x)


def test_block_inputs_of_another_width_are_named():
    model = BilinearImageClassifier(d_input=8, d_hidden=4, d_output=3)
    with pytest.raises(ValueError, match=r"h \(a block input, 4 wide\) has d=8"):
        model.logits_from_block(torch.randn(5, 8))


@pytest.mark.parametrize(("logits", "labels", "message"), [
    (torch.randn(5, 3), torch.full((5,), 7), r"labels must be class indices 0..2, got 7..7"),
    (torch.randn(5, 3), torch.zeros(5), "labels must be integer class indices, got torch.float32"),
    (torch.full((5, 3), float("nan")), torch.zeros(5, dtype=torch.int64), "logits contains NaN or inf"),
    (torch.randn(0, 3), torch.zeros(0, dtype=torch.int64), "logits is empty"),
    (np.zeros((5, 3)), np.zeros(5), "logits must be a tensor"),
])
def test_accuracy_refuses_what_it_cannot_score(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        accuracy(logits, labels)


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = BilinearImageClassifier(d_hidden=16, seed=7)
    after = torch.rand(1)
    b = BilinearImageClassifier(d_hidden=16, seed=7)
    c = BilinearImageClassifier(d_hidden=16, seed=8)
    assert torch.equal(before, after)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.embedding_weight, c.embedding_weight)


def test_state_dict_keys_name_the_modules():
    keys = set(BilinearImageClassifier(d_hidden=4, n_layer=2).state_dict())
    assert keys == {"embedding.weight", "blocks.0.linear.weight", "blocks.1.linear.weight", "readout.weight"}


def test_build_image_classifier_from_config():
    model = build_image_classifier({"d_hidden": 12, "n_layer": 2, "bias": True}, seed=3)
    assert isinstance(model, BilinearImageClassifier)
    assert (model.d_hidden, model.n_layer, model.bias) == (12, 2, True)
    relu = build_image_classifier({"kind": "relu", "d_hidden": 12}, seed=3)
    assert type(relu) is ReLUImageClassifier and relu.block_bias(0) is None  # the config's bias: False
    again = build_image_classifier({"d_hidden": 12, "n_layer": 2, "bias": True}, seed=3)
    assert torch.equal(model.embedding_weight, again.embedding_weight)


def test_build_image_classifier_rejects_unknown_keys_and_kinds():
    with pytest.raises(ValueError, match="'d_hiden' \\(did you mean 'd_hidden'\\?\\)"):
        build_image_classifier({"d_hiden": 12}, seed=0)
    with pytest.raises(ValueError, match="unknown model.kind 'cnn'"):
        build_image_classifier({"kind": "cnn"}, seed=0)
    with pytest.raises(ValueError, match="has no residual or gate option"):
        build_image_classifier({"kind": "relu", "residual": True}, seed=0)


def test_n_layer_must_be_positive():
    with pytest.raises(ValueError, match="n_layer must be >= 1, got 0"):
        BilinearImageClassifier(n_layer=0)


def test_accuracy_counts_the_argmax():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0], [1.0, 2.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 0])) == 0.5
    with pytest.raises(ValueError, match=r"logits \(4, 2\) and labels \(3,\) do not pair up"):
        accuracy(logits, torch.tensor([0, 1, 1]))
