import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model
from bilinear_helpers.analysis.adversarial import adversarial_masks, mask_attack, random_masks_like


@pytest.fixture(scope="module")
def model_and_artifacts():
    model = BilinearImageClassifier(d_input=64, d_hidden=24, d_output=4, seed=1).double()
    return model, decompose_bilinear_model(model)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_masks_satisfy_biorthogonality_in_hidden_space(model_and_artifacts, k):
    model, art = model_and_artifacts
    masks = adversarial_masks(art, model.embedding_weight, k=k)
    assert masks.decoders.shape == (4, k, 64) and masks.encoders.shape == (4, k, 64) and masks.masks.shape == (4, 64)
    torch.testing.assert_close(masks.biorthogonality(), torch.eye(4 * k, dtype=torch.float64))
    torch.testing.assert_close(masks.masks.norm(dim=-1), torch.ones(4, dtype=torch.float64))
    # decoders are the most positive eigenvectors, leading first
    torch.testing.assert_close(masks.decoders_hidden[2, 0], art.eigenvectors[2, -1])
    torch.testing.assert_close(masks.decoders[2, 0], art.pixel_eigenvectors[2, -1])


def test_a_mask_moves_only_its_own_decoder(model_and_artifacts):
    model, art = model_and_artifacts
    masks = adversarial_masks(art, model.embedding_weight, k=2)
    x = torch.rand(5, 64, dtype=torch.float64)
    before = torch.einsum("bi,cki->bck", x, masks.decoders)
    after = torch.einsum("bi,cki->bck", x + 3.0 * masks.encoders[1, 0], masks.decoders)
    shift = after - before
    expected = torch.zeros(4, 2, dtype=torch.float64)
    expected[1, 0] = 3.0
    torch.testing.assert_close(shift, expected.expand(5, -1, -1))


def test_controls_keep_the_norm(model_and_artifacts):
    model, art = model_and_artifacts
    masks = adversarial_masks(art, model.embedding_weight, k=1).masks
    gaussian, permuted = random_masks_like(masks, seed=3)
    torch.testing.assert_close(gaussian.norm(dim=-1), masks.norm(dim=-1))
    torch.testing.assert_close(permuted.sort(dim=-1).values, masks.sort(dim=-1).values)


def test_mask_attack_counts_against_the_true_labels(model_and_artifacts):
    model, art = model_and_artifacts
    x = torch.rand(40, 64, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(-1)
    result = mask_attack(model, x, y, adversarial_masks(art, model.embedding_weight, k=1).masks, [0.0, 50.0])
    assert result["accuracy"].shape == (2, 4)
    assert torch.all(result["accuracy"][0] == 1.0) and torch.all(result["target_rate"][0] == 0.0)
    assert result["target_rate"][1].mean() > 0.5  # a strong enough mask wins


def test_mask_arguments_are_checked(model_and_artifacts):
    model, art = model_and_artifacts
    with pytest.raises(ValueError, match=r"k must be in \[1, 7\), got 7"):
        adversarial_masks(art, model.embedding_weight, k=7)
    biased = decompose_bilinear_model(BilinearImageClassifier(d_input=8, d_hidden=4, d_output=2, bias=True))
    with pytest.raises(ValueError, match="bias-free one-layer"):
        adversarial_masks(biased, torch.zeros(4, 8), k=1)


def test_an_embedding_of_another_model_is_refused(model_and_artifacts):
    model, art = model_and_artifacts
    foreign = BilinearImageClassifier(d_input=model.d_input, d_hidden=model.d_hidden, d_output=model.d_output, seed=99)
    with pytest.raises(ValueError, match="embedding_weight is not the embedding of the decomposed model"):
        adversarial_masks(art, foreign.embedding_weight, k=1)
    with pytest.raises(ValueError, match=r"embedding_weight \(the decomposed model's E\) has in1=5"):
        adversarial_masks(art, torch.zeros(5, model.d_input), k=1)


def test_attack_inputs_are_checked(model_and_artifacts):
    model, art = model_and_artifacts
    masks = adversarial_masks(art, model.embedding_weight, k=1).masks
    x = torch.rand(6, model.d_input)
    y = torch.zeros(6, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"masks \(one per class of the model"):
        mask_attack(model, x, y, masks[:2], [1.0])
    with pytest.raises(ValueError, match="labels has n=5"):
        mask_attack(model, x, y[:5], masks, [1.0])
    with pytest.raises(ValueError, match="images hold 3 values each"):
        mask_attack(model, x[:, :3], y, masks, [1.0])
    with pytest.raises(ValueError, match="strengths must be a list of numbers"):
        mask_attack(model, x, y, masks, 1.0)


def test_random_controls_check_the_masks():
    with pytest.raises(ValueError, match="masks must have 2 axes"):
        random_masks_like(torch.randn(8))
    with pytest.raises(ValueError, match="all-zero mask"):
        random_masks_like(torch.zeros(3, 8))
    with pytest.raises(ValueError, match="seed must be a whole number"):
        random_masks_like(torch.randn(3, 8), seed=None)


def test_attack_labels_and_strengths_are_checked(model_and_artifacts):
    model, art = model_and_artifacts
    masks = adversarial_masks(art, model.embedding_weight, k=1).masks
    x, y = torch.rand(6, model.d_input), torch.zeros(6, dtype=torch.int64)
    with pytest.raises(ValueError, match="labels must be class indices"):
        mask_attack(model, x, y + 10, masks, [1.0])
    with pytest.raises(ValueError, match="labels must be integer class indices"):
        mask_attack(model, x, y.float(), masks, [1.0])
    with pytest.raises(ValueError, match="strengths is empty"):
        mask_attack(model, x, y, masks, [])
    with pytest.raises(ValueError, match="each strength must be a finite number, got nan"):
        mask_attack(model, x, y, masks, [float("nan")])
