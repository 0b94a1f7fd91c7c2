import pytest
import torch

from bilinear_helpers import Bilinear, BilinearImageClassifier, ReLUImageClassifier, build_image_classifier


def test_bilinear_output_is_quadratic_form_of_left_and_right_halves():
    torch.manual_seed(0)
    layer = Bilinear(6, 4)
    h = torch.randn(3, 6)
    expected = torch.einsum("bi,oi,oj,bj->bo", h, layer.w_l, layer.w_r, h)
    torch.testing.assert_close(layer(h), expected)
    assert layer.w_l.shape == layer.w_r.shape == (4, 6)
    torch.testing.assert_close(torch.cat([layer.w_l, layer.w_r]), layer.linear.weight.detach())
    assert not layer.w_l.requires_grad


def test_bilinear_bias_enters_both_halves():
    torch.manual_seed(0)
    layer = Bilinear(5, 3, bias=True)
    h = torch.randn(2, 5)
    expected = (h @ layer.w_l.T + layer.b_l) * (h @ layer.w_r.T + layer.b_r)
    torch.testing.assert_close(layer(h), expected)
    assert Bilinear(5, 3).b_l is None


@pytest.mark.parametrize("gate", ["relu", "silu", "gelu"])
def test_gated_variants_apply_the_gate_to_the_left_half(gate):
    torch.manual_seed(0)
    layer = Bilinear(5, 3, gate=gate)
    h = torch.randn(4, 5)
    act = getattr(torch.nn.functional, gate)
    torch.testing.assert_close(layer(h), act(h @ layer.w_l.T) * (h @ layer.w_r.T))


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
    with pytest.raises(ValueError, match=r"C\*H\*W = 784.*got shape \(2, 1, 14, 14\)"):
        model(torch.rand(2, 1, 14, 14))


def test_weight_properties_have_the_documented_shapes_and_values():
    model = BilinearImageClassifier(d_input=20, d_hidden=8, d_output=3, n_layer=2)
    assert model.embedding_weight.shape == (8, 20)
    assert model.output_weight.shape == (3, 8)
    assert model.bilinear_weights.shape == (2, 2, 8, 8)
    torch.testing.assert_close(model.bilinear_weights[1, 0], model.blocks[1].w_l)
    torch.testing.assert_close(model.bilinear_weights[1, 1], model.blocks[1].w_r)
    assert not model.bilinear_weights.requires_grad


def test_forward_composes_embed_blocks_and_head():
    torch.manual_seed(0)
    model = BilinearImageClassifier(d_input=10, d_hidden=6, d_output=4, n_layer=2, residual=True)
    x = torch.randn(3, 10)
    h = x @ model.embedding_weight.T
    for block in model.blocks:
        h = h + block(h)
    torch.testing.assert_close(model(x), h @ model.output_weight.T)


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
    assert not torch.equal(a.embed.weight, c.embed.weight)


def test_relu_classifier_shapes():
    model = ReLUImageClassifier(d_hidden=16, n_layer=2)
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10)
    assert len(model.blocks) == 2


def test_build_image_classifier_from_config():
    model = build_image_classifier({"d_hidden": 12, "n_layer": 2, "bias": True}, seed=3)
    assert isinstance(model, BilinearImageClassifier)
    assert (model.d_hidden, model.n_layer, model.bias) == (12, 2, True)
    relu = build_image_classifier({"kind": "relu", "d_hidden": 12}, seed=3)
    assert isinstance(relu, ReLUImageClassifier)


def test_build_image_classifier_rejects_unknown_keys_and_kinds():
    with pytest.raises(ValueError, match="'d_hiden' \\(did you mean 'd_hidden'\\?\\)"):
        build_image_classifier({"d_hiden": 12}, seed=0)
    with pytest.raises(ValueError, match="unknown model.kind 'cnn'"):
        build_image_classifier({"kind": "cnn"}, seed=0)
    with pytest.raises(ValueError, match="has no residual or gate option"):
        build_image_classifier({"kind": "relu", "residual": True}, seed=0)


def test_n_layer_must_be_positive():
    with pytest.raises(ValueError, match="n_layer must be at least 1"):
        BilinearImageClassifier(n_layer=0)
