import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model
from bilinear_helpers.analysis.image_metrics import hoyer_sparsity
from bilinear_helpers.analysis.truncation import (
    hosvd,
    hosvd_accuracy,
    hosvd_components,
    hosvd_truncated_tensor,
    truncated_accuracy,
    truncated_logits_by_k,
)


@pytest.fixture(scope="module")
def setup():
    model = BilinearImageClassifier(d_input=30, d_hidden=10, d_output=4, seed=2).double()
    x = torch.randn(50, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(-1)
        h = model.block_input(x)  # what the decomposition reads: the block's input E x
    return model, decompose_bilinear_model(model), h, y


@pytest.mark.parametrize("by", ["abs", "paired"])
def test_full_rank_truncation_equals_the_model(setup, by):
    model, art, x, y = setup
    full = truncated_logits_by_k(art, x, [10, 99], by=by)
    with torch.no_grad():
        torch.testing.assert_close(full[0], model.logits_from_block(x))
        torch.testing.assert_close(full[1], model.logits_from_block(x))
    assert truncated_accuracy(art, x, y, [10], by=by) == [1.0]  # y are the model's own predictions


@pytest.mark.parametrize("by", ["abs", "paired"])
def test_k_zero_gives_constant_logits(setup, by):
    _, art, x, _ = setup
    assert torch.equal(truncated_logits_by_k(art, x, [0], by=by)[0], torch.zeros(50, 4, dtype=torch.float64))


def test_abs_rule_keeps_the_largest_eigenvalues(setup):
    _, art, x, _ = setup
    k = 3
    keep = art.top(k, by="abs")
    expected = art.contributions(x).gather(2, keep.unsqueeze(0).expand(50, -1, -1)).sum(-1)
    torch.testing.assert_close(truncated_logits_by_k(art, x, [k])[0], expected)


def test_paired_rule_keeps_both_ends(setup):
    _, art, x, _ = setup
    contrib = art.contributions(x)
    expected = contrib[:, :, [0, 1, 8, 9]].sum(-1)  # 2 most negative + 2 most positive (ascending order)
    torch.testing.assert_close(truncated_logits_by_k(art, x, [2], by="paired")[0], expected)


def test_truncation_rejects_bad_arguments(setup):
    _, art, x, y = setup
    with pytest.raises(ValueError, match="unknown truncation rule 'top'"):
        truncated_accuracy(art, x, y, [1], by="top")
    with pytest.raises(ValueError, match="k must be >= 0"):
        truncated_accuracy(art, x, y, [-1])


def test_batched_accuracy_matches_one_batch(setup):
    _, art, x, y = setup
    assert truncated_accuracy(art, x, y, [1, 2, 5], batch_size=7) == truncated_accuracy(art, x, y, [1, 2, 5])


def test_hosvd_at_full_rank_rebuilds_the_tensor(setup):
    model, art, x, y = setup
    u, s, v = hosvd(art.bilinear_tensor)
    assert u.shape == (4, 4) and s.shape == (4,) and v.shape == (4, 10, 10)
    assert torch.all(s[:-1] >= s[1:])
    torch.testing.assert_close(hosvd_truncated_tensor(art.bilinear_tensor, 4), art.bilinear_tensor)
    assert hosvd_accuracy(art, x, y, [4]) == [1.0]
    one = hosvd_truncated_tensor(art.bilinear_tensor, 1)
    assert torch.linalg.matrix_rank(one.reshape(4, -1)) == 1


def test_hoyer_sparsity_bounds():
    one_pixel = torch.zeros(784, dtype=torch.float64)
    one_pixel[3] = 2.0
    flat = torch.ones(784, dtype=torch.float64)
    assert hoyer_sparsity(one_pixel).item() == pytest.approx(1.0)
    assert hoyer_sparsity(flat).item() == pytest.approx(0.0, abs=1e-12)


def test_hosvd_components_rebuild_every_class_matrix(setup):
    model, art, h, _ = setup
    components, writes = hosvd_components(art, model.embedding_weight)
    assert writes.shape == (4, 4) and components.num_outputs == 4
    torch.testing.assert_close(torch.einsum("nc,nij->cij", writes, components.symmetrized_tensor),
                               art.symmetrized_tensor)
    # each component's eigenvectors rebuild it, and its pixel-space eigenvectors read x through E
    v, lam = components.eigenvectors_hidden, components.eigenvalues
    torch.testing.assert_close(v @ torch.diag_embed(lam) @ v.mT, components.symmetrized_tensor)
    x = torch.randn(3, 30, dtype=torch.float64)
    torch.testing.assert_close(x @ components.eigenvectors_input[1].T, model.block_input(x).detach() @ v[1])
    white = model.embedding_weight.detach().sum(-1)
    assert (torch.einsum("i,nic->nc", white, v) > 0).all()  # oriented by the package's sign rule


def test_uninked_pixels_and_their_chance_level():
    from bilinear_helpers.analysis import pixel_energy_fraction, uninked_pixels

    images = torch.zeros(5, 1, 4, 4)
    images[:, 0, 1:3, 1:3] = torch.rand(5, 2, 2) + 0.1
    images[0, 0, 0, 0] = 0.5  # one image inks a corner once: no longer uninked
    mask = uninked_pixels(images)
    assert mask.shape == (16,) and int(mask.sum()) == 16 - 4 - 1
    directions = torch.randn(20000, 16, generator=torch.Generator().manual_seed(0))
    chance = pixel_energy_fraction(directions, mask).mean()
    assert abs(chance - mask.float().mean()) < 0.01  # a random direction puts the mask's share there


def test_hosvd_components_need_the_decomposed_models_embedding(setup):
    _, art, _, _ = setup
    with pytest.raises(ValueError, match="embedding_weight must be"):
        hosvd_components(art, torch.randn(7, 30, dtype=torch.float64))
