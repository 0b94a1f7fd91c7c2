import numpy as np
import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, ReLUImageClassifier
from bilinear_helpers.analysis.bilinear_similarity import function_similarity, match_eigenvectors
from bilinear_helpers.analysis.universality import (
    activation_clipping_accuracy,
    block_activations,
    clip_weight,
    comparison_matrix,
    covariance_spectrum,
    generate_network,
    linear_init_variance,
    marchenko_pastur_density,
    marchenko_pastur_edge,
    procrustes_alignment,
    weight_clipping_accuracy,
)

GEN = torch.Generator().manual_seed(0)


def orthogonal(rows: int, cols: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(rows, cols, generator=GEN, dtype=torch.float64))
    return q  # orthonormal columns


def test_procrustes_recovers_a_known_rotation_exactly():
    acts1 = torch.randn(400, 6, generator=GEN, dtype=torch.float64)
    rotation = orthogonal(9, 6)  # [d2, d1]: an isometric embedding of 6 dimensions into 9
    alignment, r2 = procrustes_alignment(acts1, acts1 @ rotation.T)
    torch.testing.assert_close(alignment, rotation)
    assert r2 == pytest.approx(1.0)
    identity, r2_same = procrustes_alignment(acts1, acts1)
    torch.testing.assert_close(identity, torch.eye(6, dtype=torch.float64))
    assert r2_same == pytest.approx(1.0)


def test_procrustes_scores_held_out_data_and_unrelated_representations_low():
    acts1, other = torch.randn(2, 2000, 8, generator=GEN, dtype=torch.float64)
    _, r2 = procrustes_alignment(acts1[:1000], other[:1000], held_out=(acts1[1000:], other[1000:]))
    assert abs(r2) < 0.1
    with pytest.raises(ValueError, match="same inputs"):
        procrustes_alignment(acts1, other[:5])


def test_spectrum_of_a_known_matrix():
    u, v = orthogonal(10, 4), orthogonal(6, 4)
    s = torch.tensor([4.0, 3.0, 2.0, 1.0], dtype=torch.float64)
    eigenvalues, eigenvectors = covariance_spectrum(u @ torch.diag(s) @ v.T)  # W [10, 6] of rank 4
    torch.testing.assert_close(eigenvalues[:4], s**2 / 10)
    torch.testing.assert_close((eigenvectors[:4] @ v).abs(), torch.eye(4, dtype=torch.float64))


def test_marchenko_pastur_matches_a_large_random_matrix():
    n, d, variance = 4000, 1000, 0.5
    eigenvalues, _ = covariance_spectrum(torch.randn(n, d, generator=GEN, dtype=torch.float64) * variance**0.5)
    edges = torch.linspace(0, float(eigenvalues.max()) * 1.05, 41, dtype=torch.float64)
    centres, width = (edges[1:] + edges[:-1]) / 2, edges[1] - edges[0]
    expected = marchenko_pastur_density(centres, n, d, variance) * width
    observed = torch.histc(eigenvalues, bins=40, min=float(edges[0]), max=float(edges[-1])) / len(eigenvalues)
    assert (observed - expected).abs().sum() < 0.08  # total variation between histogram and law
    fine = torch.linspace(1e-4, 2, 20001, dtype=torch.float64)
    assert torch.trapezoid(marchenko_pastur_density(fine, n, d, variance), fine) == pytest.approx(1.0, abs=1e-3)
    assert eigenvalues.max() == pytest.approx(marchenko_pastur_edge(n, d, variance), rel=0.05)


@pytest.fixture(scope="module")
def relu_setup():
    model = ReLUImageClassifier(d_input=20, d_hidden=12, d_output=4, bias=False, seed=1).double().eval()
    images = torch.randn(300, 20, generator=GEN, dtype=torch.float64)
    with torch.no_grad():
        labels = model(images).argmax(-1)
    return model, images, labels


def test_clipping_at_full_rank_changes_nothing(relu_setup):
    model, images, labels = relu_setup
    _, basis = covariance_spectrum(model.embedding_weight)
    torch.testing.assert_close(clip_weight(model.embedding_weight, basis, 12), model.embedding_weight)
    assert weight_clipping_accuracy(model, "embedding", basis, [12], images, labels) == [1.0]
    _, act_basis = covariance_spectrum(block_activations(model, images, 0))
    assert activation_clipping_accuracy(model, 0, act_basis, [12], images, labels) == [1.0]
    assert activation_clipping_accuracy(model, 0, act_basis, [0], images, labels)[0] < 1.0


def test_comparison_matrix_of_a_network_with_itself_is_the_identity():
    basis = orthogonal(7, 7).T
    torch.testing.assert_close(comparison_matrix(basis, torch.eye(7, dtype=torch.float64), basis),
                               torch.eye(7, dtype=torch.float64))


def test_generated_network_keeps_shapes_and_spans_and_refuses_bilinear_models(relu_setup):
    model, images, labels = relu_setup
    with torch.no_grad():
        model_low = ReLUImageClassifier(d_input=20, d_hidden=12, d_output=4, bias=False, seed=1).double()
        model_low.weight_matrices()["embedding"][:, 5:] = 0  # the embedding reads only the first 5 pixels
    generated = generate_network(model_low, images, seed=0)
    assert generated.embedding_weight.shape == model_low.embedding_weight.shape
    assert generated.embedding_weight[:, 5:].abs().max() < 1e-12  # sampled inside the trained covariance's span
    assert not torch.equal(generated.embedding_weight, model_low.embedding_weight)
    again, other = generate_network(model_low, images, seed=0), generate_network(model_low, images, seed=1)
    assert torch.equal(again.embedding_weight, generated.embedding_weight)  # seeded
    assert not torch.equal(other.embedding_weight, generated.embedding_weight)
    assert torch.equal(model_low.readout_weight, ReLUImageClassifier(d_input=20, d_hidden=12, d_output=4, bias=False,
                                                                     seed=1).double().readout_weight)  # untouched
    with pytest.raises(ValueError, match="bias-free ReLUImageClassifier"):
        generate_network(BilinearImageClassifier(d_input=20, d_hidden=6, d_output=4), images)
    # the control: covariances from another network, everything else (alignment, readout) as before
    assert torch.equal(generate_network(model_low, images, seed=0, covariances_from=model_low).embedding_weight,
                       generated.embedding_weight)
    initial = ReLUImageClassifier(d_input=20, d_hidden=12, d_output=4, bias=False, seed=5).double()
    control = generate_network(model_low, images, seed=0, covariances_from=initial)
    assert control.embedding_weight[:, 5:].abs().max() > 1e-3  # the initial covariance fills every pixel
    with pytest.raises(ValueError, match="covariances_from must be a ReLUImageClassifier of the reference's"):
        generate_network(model_low, images, covariances_from=ReLUImageClassifier(d_input=20, d_hidden=8, d_output=4,
                                                                                 bias=False))


def test_matching_recovers_a_permutation_with_sign_flips():
    pixels = torch.randn(5, 30, generator=GEN, dtype=torch.float64)
    order = torch.tensor([3, 0, 4, 1, 2])
    similarity, columns, matched = match_eigenvectors(pixels, -2 * pixels[order])
    assert similarity.shape == (5, 5)
    assert [int(order[c]) for c in columns] == [0, 1, 2, 3, 4]
    torch.testing.assert_close(matched, torch.ones(5, dtype=torch.float64))


def small_bilinear(seed: int) -> BilinearImageClassifier:
    return BilinearImageClassifier(d_input=6, d_hidden=5, d_output=3, seed=seed).double()


def test_function_similarity_matches_monte_carlo():
    a, b = small_bilinear(0), small_bilinear(1)
    mean = torch.randn(6, generator=GEN, dtype=torch.float64)
    root = torch.randn(6, 6, generator=GEN, dtype=torch.float64) / 6**0.5
    cov = root @ root.T + 0.1 * torch.eye(6, dtype=torch.float64)
    x = mean + torch.randn(400_000, 6, generator=GEN, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    with torch.no_grad():
        fa, fb = a(x), b(x)
    empirical = torch.corrcoef(torch.cat([fa, fb], dim=1).T)[:3, 3:]
    torch.testing.assert_close(function_similarity(a, b, mean, cov), empirical, atol=0.01, rtol=0)
    standard = torch.corrcoef(torch.cat([a(x0 := torch.randn(400_000, 6, generator=GEN, dtype=torch.float64)),
                                         b(x0)], dim=1).T.detach())[:3, 3:]
    torch.testing.assert_close(function_similarity(a, b), standard, atol=0.01, rtol=0)


def test_function_similarity_is_one_for_a_model_and_its_reparametrisations():
    model = small_bilinear(0)
    torch.testing.assert_close(function_similarity(model, model).diagonal(), torch.ones(3, dtype=torch.float64))
    twin = small_bilinear(0)
    permutation, scale = torch.tensor([2, 0, 4, 1, 3]), torch.tensor([0.5, 2.0, -3.0, 1.5, 0.25], dtype=torch.float64)
    with torch.no_grad():
        weights = twin.weight_matrices()
        left, right = weights["block 0"].chunk(2)
        left.copy_(left[permutation] * scale[:, None])  # L -> s L, R -> R / s, hidden units permuted
        right.copy_(right[permutation] / scale[:, None])
        weights["readout"].copy_(weights["readout"][:, permutation])
    x = torch.randn(50, 6, dtype=torch.float64)
    torch.testing.assert_close(twin(x), model(x))  # the same function, other weights
    torch.testing.assert_close(function_similarity(model, twin).diagonal(), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="one-layer bilinear"):
        function_similarity(model, BilinearImageClassifier(d_input=6, d_hidden=5, d_output=3, n_layer=2).double())


def test_bad_inputs_get_errors_that_name_the_problem(relu_setup):
    model, images, labels = relu_setup
    with pytest.raises(ValueError, match=r"unknown weight 'embed\.weight': this model's weight matrices are "
                                         r"\['embedding', 'block 0', 'readout'\]"):
        weight_clipping_accuracy(model, "embed.weight", torch.eye(20), [1], images, labels)
    with pytest.raises(ValueError, match="inputs, units"):
        procrustes_alignment(torch.randn(5), torch.randn(5))
    with pytest.raises(ValueError, match=r"pixels_b has inp=12 \(shape \(3, 12\), axes \[k, inp\]\)"):
        match_eigenvectors(torch.randn(3, 10), torch.randn(3, 12))
    with pytest.raises(ValueError, match=r"variance must be above 0 \(a matrix of zeros"):
        marchenko_pastur_density(torch.ones(3), 10, 5, 0.0)
    other = BilinearImageClassifier(d_input=7, d_hidden=5, d_output=3).double()
    with pytest.raises(ValueError, match="inputs of different sizes"):
        function_similarity(small_bilinear(0), other)


def test_block_activations_are_block_inputs_or_what_the_readout_reads(relu_setup):
    model, images, labels = relu_setup
    with torch.no_grad():
        torch.testing.assert_close(block_activations(model, images, 0), model.embed(images))
        torch.testing.assert_close(model.readout(block_activations(model, images, None)), model(images))
    before = model.weight_matrices()["block 0"].detach().clone()
    _, basis = covariance_spectrum(before)
    assert weight_clipping_accuracy(model, "block 0", basis, [12, 0], images, labels)[0] == 1.0
    assert weight_clipping_accuracy(model, "block 0", basis, [0], images, labels)[0] < 1.0  # the block silenced
    assert torch.equal(model.weight_matrices()["block 0"], before)  # clipping works on a copy


@pytest.mark.parametrize("held_out, message", [
    ((torch.randn(30, 5), torch.randn(30, 12)),
     r"held_out must hold the same units .*\[m, 16\] and \[m, 12\].*\(30, 5\)"),
    ((torch.randn(30, 16), torch.randn(20, 12)), r"for the same m inputs, got \(30, 16\) and \(20, 12\)"),
])
def test_procrustes_refuses_held_out_data_of_other_widths(held_out, message):
    with pytest.raises(ValueError, match=message):
        procrustes_alignment(torch.randn(50, 16), torch.randn(50, 12), held_out=held_out)


@pytest.mark.parametrize(("a", "b", "message"), [
    (torch.zeros(3, 10), torch.randn(3, 10), "pixels_a has an all-zero row"),
    (torch.randn(3, 10), torch.full((3, 10), float("nan")), "pixels_b contains NaN or inf"),
    (torch.randn(3, 10), torch.ones(3, 10, dtype=torch.int64), "pixels_b must be a float tensor"),
    (torch.randn(2, 10), torch.randn(3, 10), r"pixels_b has k=3 .* but k=2 elsewhere"),
])
def test_eigenvector_matching_refuses_what_has_no_direction(a, b, message):
    with pytest.raises(ValueError, match=message):
        match_eigenvectors(a, b)


def test_eigenvector_matching_accepts_tensors_that_carry_gradients():
    a = torch.randn(3, 10, requires_grad=True)
    similarity, columns, matched = match_eigenvectors(a, a * 2)
    assert columns.tolist() == [0, 1, 2] and torch.allclose(matched, torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: marchenko_pastur_edge(0, 5, 1.0), r"n_rows must be >= 1, got 0"),
    (lambda: marchenko_pastur_edge(5, 5, -1.0), r"variance must be >= 0.0, got -1.0"),
    (lambda: linear_init_variance(0), r"fan_in must be >= 1, got 0"),
    (lambda: clip_weight(torch.randn(4, 6), torch.eye(5), 2), r"basis has inp=5 .* but inp=6 elsewhere"),
    (lambda: clip_weight(torch.randn(4, 6), torch.eye(6), 7), r"k must be in \[0, 7\), got 7"),
    (lambda: covariance_spectrum(torch.randn(3, 4, 5)), r"rows must have 2 axes"),
])
def test_zero_sizes_and_foreign_bases_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_clipping_checks_the_basis_and_the_ks():
    model = small_bilinear(0)
    images, labels = torch.randn(8, model.d_input, dtype=torch.float64), torch.zeros(8, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"basis \(directions of block 0's 5-wide input\) has d=4"):
        activation_clipping_accuracy(model, 0, torch.eye(4, dtype=torch.float64), [1], images, labels)
    with pytest.raises(ValueError, match="ks must be a list of whole numbers, got 2"):
        activation_clipping_accuracy(model, 0, torch.eye(5, dtype=torch.float64), 2, images, labels)
    with pytest.raises(ValueError, match=r"each entry of ks must be in \[0, 6\), got 9"):
        weight_clipping_accuracy(model, "block 0", torch.eye(5, dtype=torch.float64), [9], images, labels)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: procrustes_alignment(torch.randn(5, 3).numpy(), torch.randn(5, 3)), ValueError,
     "acts1 must be a tensor"),
    (lambda: procrustes_alignment(torch.full((5, 3), float("nan")), torch.randn(5, 3)), ValueError,
     "acts1 contains NaN"),
    (lambda: procrustes_alignment(torch.zeros(0, 3), torch.zeros(0, 4)), ValueError, "acts1 is empty"),
    (lambda: procrustes_alignment(torch.zeros(5, 3), torch.randn(5, 3)), ValueError, "acts1 is all zeros"),
    (lambda: procrustes_alignment(torch.randn(5, 3), torch.randn(5, 3), held_out=(torch.randn(5, 3),)), ValueError,
     "held_out must be a pair"),
    (lambda: comparison_matrix(torch.randn(3, 4), torch.randn(5, 4), torch.randn(2, 6)), ValueError,
     r"vectors2 has d2=6"),
    (lambda: weight_clipping_accuracy(torch.nn.Linear(6, 3), "embedding", torch.eye(6), [1], torch.randn(4, 6),
                                      torch.zeros(4, dtype=torch.int64)), TypeError, "model must be one of"),
    (lambda: weight_clipping_accuracy(small_bilinear(0), "embedding", torch.randn(6, 6, dtype=torch.float64), [1],
                                      torch.randn(4, 6, dtype=torch.float64), torch.zeros(4, dtype=torch.int64)),
     ValueError, "basis rows must be orthonormal"),
    (lambda: weight_clipping_accuracy(small_bilinear(0), "embedding", torch.eye(6, dtype=torch.float64), [1],
                                      torch.randn(4, 6, dtype=torch.float64), torch.zeros(4)), ValueError,
     "labels must be integer class indices"),
    (lambda: function_similarity(small_bilinear(0), small_bilinear(1), cov=torch.full((6, 6), float("nan"))),
     ValueError, "mean and cov must hold finite numbers"),
    (lambda: function_similarity(small_bilinear(0), small_bilinear(1), cov=-torch.eye(6)), ValueError,
     "cov must be a covariance"),
    (lambda: function_similarity(small_bilinear(0), small_bilinear(1), cov=torch.zeros(6, 6)), ValueError,
     "an output has no variance"),
    (lambda: function_similarity(small_bilinear(0), small_bilinear(1), mean=np.zeros(6)), ValueError,
     "mean must be a tensor"),
])
def test_comparison_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
