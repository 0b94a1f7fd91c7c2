"""From weights to eigenvectors: B, Q, eigh, pixels; one block or a chain of blocks; logits rebuilt exactly."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers import (
    BilinearImageClassifier,
    ReLUImageClassifier,
    decompose,
    decompose_bilinear_model,
    decompose_direction,
    raw_interaction_matrices,
    symmetrize,
)
from bilinear_helpers.decomposition import block_weights, project_to_pixels


def random_model(d_input=20, d_hidden=8, d_output=3, n_layer=1, bias=False, seed=0, dtype=torch.float64):
    return BilinearImageClassifier(d_input, d_hidden, d_output, n_layer=n_layer, bias=bias, seed=seed).to(dtype)


def two_layer(d_input=16, d_hidden=7, d_output=4, bias=False, seed=0, n_layer=2):
    return random_model(d_input, d_hidden, d_output, n_layer=n_layer, bias=bias, seed=seed)


def relative_error(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@torch.no_grad()
def rebuilt(art, model, x):
    """The logits rebuilt from the decomposition, fed the decomposed block's input."""
    return art.logits(model.block_input(x, art.block))


def brute_force_quadratic_form(f, d):
    """The symmetric matrix of a quadratic form f by polarisation: Q_ij = (f(e_i + e_j) - f(e_i) - f(e_j)) / 2."""
    eye = torch.eye(d, dtype=torch.float64)
    diag = torch.stack([f(eye[i]) for i in range(d)])
    q = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d):
        for j in range(d):
            q[i, j] = diag[i] if i == j else (f(eye[i] + eye[j]) - diag[i] - diag[j]) / 2
    return q


# --- the three steps on bare tensors ----------------------------------------------------------------


def test_raw_interactions_are_the_readout_folded_into_the_block():
    model = random_model()
    tensor = raw_interaction_matrices(model)
    u, left, right = model.readout_weight, model.left_weight(0), model.right_weight(0)
    brute = torch.zeros(3, 8, 8, dtype=torch.float64)
    for c in range(3):
        for o in range(8):
            brute[c] += u[c, o] * torch.outer(left[o], right[o])
    torch.testing.assert_close(tensor, brute)
    raw, _, _, _ = decompose(u, left, right)
    torch.testing.assert_close(raw, brute)


def test_symmetrize_keeps_the_quadratic_form():
    t = torch.randn(2, 4, 4, dtype=torch.float64)
    s = symmetrize(t)
    torch.testing.assert_close(s, s.mT)
    h = torch.randn(4, dtype=torch.float64)
    torch.testing.assert_close(h @ s[1] @ h, h @ t[1] @ h)
    torch.testing.assert_close(symmetrize(s), s)


def test_decompose_returns_eigenvectors_as_rows():
    gen = torch.Generator().manual_seed(0)
    readout, left, right = (torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in ((3, 5), (5, 4),
                                                                                                   (5, 4)))
    raw, q, values, vectors = decompose(readout, left, right)
    assert raw.shape == q.shape == vectors.shape == (3, 4, 4) and values.shape == (3, 4)
    assert torch.all(values[:, 1:] >= values[:, :-1])  # ascending
    for c in range(3):
        for k in range(4):  # row k is the eigenvector of eigenvalue k
            torch.testing.assert_close(q[c] @ vectors[c, k], values[c, k] * vectors[c, k])
    torch.testing.assert_close(vectors @ vectors.mT, torch.eye(4, dtype=torch.float64).expand(3, 4, 4))
    torch.testing.assert_close(vectors.mT @ torch.diag_embed(values) @ vectors, q)  # Q = V^T diag(lambda) V


def test_project_to_pixels_reads_the_input_through_the_embedding():
    model = random_model()
    art = decompose_bilinear_model(model)
    x = torch.randn(4, 20, dtype=torch.float64)
    pixels = project_to_pixels(art.eigenvectors, model.embedding_weight)
    torch.testing.assert_close(pixels, art.pixel_eigenvectors)
    torch.testing.assert_close(torch.einsum("bp,ckp->bck", x, pixels), art.projections(model.block_input(x).detach()))


# --- one block ---------------------------------------------------------------------------------------


def test_artifact_shapes_and_conventions():
    model = random_model(d_input=20, d_hidden=8, d_output=3)
    art = decompose_bilinear_model(model)
    assert art.eigenvalues.shape == (3, 8) and art.eigenvectors.shape == (3, 8, 8)
    assert art.pixel_eigenvectors.shape == (3, 8, 20) and art.block == 0 and art.names() == ["0", "1", "2"]
    assert torch.all(art.eigenvalues[:, 1:] >= art.eigenvalues[:, :-1])  # ascending
    q, lam = art.interactions[1], art.eigenvalues[1]
    torch.testing.assert_close(q @ art.eigenvectors[1, 5], lam[5] * art.eigenvectors[1, 5])  # row 5 pairs with 5
    torch.testing.assert_close(art.interactions, symmetrize(art.raw_interactions))
    torch.testing.assert_close(art.raw_interactions, raw_interaction_matrices(model))


@settings(max_examples=30, deadline=None)
@given(
    d_hidden=st.integers(1, 24),
    d_output=st.integers(1, 12),
    d_input=st.integers(1, 40),
    bias=st.booleans(),
    seed=st.integers(0, 10_000),
    batch=st.integers(1, 6),
)
def test_logits_rebuilt_exactly_in_float64(d_hidden, d_output, d_input, bias, seed, batch):
    model = random_model(d_input, d_hidden, d_output, bias=bias, seed=seed)
    x = torch.randn(batch, d_input, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    art = decompose_bilinear_model(model)
    assert art.width == d_hidden + bias and art.bias == bias
    with torch.no_grad():
        assert relative_error(rebuilt(art, model, x), model(x)) < 1e-10


@settings(max_examples=20, deadline=None)
@given(d_hidden=st.integers(1, 32), d_output=st.integers(1, 12), bias=st.booleans(), seed=st.integers(0, 10_000))
def test_logits_rebuilt_in_float32_to_1e_4(d_hidden, d_output, bias, seed):
    model = random_model(30, d_hidden, d_output, bias=bias, seed=seed, dtype=torch.float32)
    x = torch.rand(5, 30, generator=torch.Generator().manual_seed(seed))
    art = decompose_bilinear_model(model, dtype=torch.float32)
    assert art.eigenvalues.dtype == torch.float32
    with torch.no_grad():
        assert relative_error(rebuilt(art, model, x), model(x)) < 1e-4


def test_a_bias_is_the_weight_of_a_constant_input():
    model = random_model(d_hidden=5, bias=True)
    left, right = block_weights(model)
    assert left.shape == right.shape == (5, 6)
    torch.testing.assert_close(left[:, -1], model.left_bias(0))
    torch.testing.assert_close(right[:, :5], model.right_weight(0))
    art = decompose_bilinear_model(model)
    assert art.width == 6 and art.pixel_eigenvectors.shape == (3, 6, 20)
    torch.testing.assert_close(art.pixel_eigenvectors, project_to_pixels(art.eigenvectors[..., :5],
                                                                         model.embedding_weight))


def test_images_and_flat_inputs_agree():
    model = BilinearImageClassifier(d_hidden=16, seed=3).double()
    art = decompose_bilinear_model(model)
    x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(art, model, x), model(x))
        torch.testing.assert_close(rebuilt(art, model, x.reshape(4, 784)), model(x))


def test_class_names_label_the_outputs():
    art = decompose_bilinear_model(random_model(), class_names=("a", "b", "c"))
    assert art.output_names == ["a", "b", "c"] and art.names() == ["a", "b", "c"]


def test_models_that_are_not_quadratic_forms_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="residual model is not a pure quadratic form.*residual=False"):
        decompose_bilinear_model(BilinearImageClassifier(d_hidden=4, residual=True))
    with pytest.raises(ValueError, match="gated layer.*gate=None"):
        decompose_bilinear_model(BilinearImageClassifier(d_hidden=4, gate="relu"))
    with pytest.raises(TypeError, match="ReLUImageClassifier is not a BilinearImageClassifier"):
        decompose_bilinear_model(ReLUImageClassifier(d_hidden=4))
    with pytest.raises(TypeError, match="ReLUImageClassifier is not a BilinearImageClassifier"):
        raw_interaction_matrices(ReLUImageClassifier(d_hidden=4))


def test_a_block_other_than_the_last_points_to_decompose_direction():
    with pytest.raises(ValueError, match="block 0 is not the last.*decompose_direction"):
        decompose_bilinear_model(random_model(n_layer=2), block=0)
    with pytest.raises(ValueError, match="block -2 is not the last.*decompose_direction"):
        raw_interaction_matrices(random_model(n_layer=2), block=-2)
    with pytest.raises(IndexError, match="block 2 is out of range"):
        decompose_bilinear_model(random_model(n_layer=2), block=2)
    assert decompose_bilinear_model(random_model(n_layer=2), block=1).block == 1


@pytest.mark.parametrize("dtype", ["float64", torch.float64])
def test_dtype_may_be_named(dtype):
    assert decompose_bilinear_model(random_model(), dtype=dtype).eigenvalues.dtype == torch.float64


@pytest.mark.parametrize("dtype", ["double precision", torch.int64, "cuda"])
def test_bad_dtypes_get_a_clear_error(dtype):
    with pytest.raises(ValueError, match="dtype must be torch.float32 or torch.float64"):
        decompose_bilinear_model(random_model(), dtype=dtype)


def test_a_model_on_the_meta_device_is_refused_with_the_fix():
    with torch.device("meta"):
        model = BilinearImageClassifier(d_input=20, d_hidden=8, d_output=3)
    with pytest.raises(ValueError, match="'meta' device and hold no values"):
        decompose_bilinear_model(model)


def test_the_artifacts_are_cpu_tensors_in_the_requested_dtype_whatever_the_models_dtype():
    model = random_model(dtype=torch.float32)
    art = decompose_bilinear_model(model, dtype=torch.float64)
    for name in ("raw_interactions", "interactions", "eigenvalues", "eigenvectors", "pixel_eigenvectors"):
        tensor = getattr(art, name)
        assert tensor.device.type == "cpu" and tensor.dtype == torch.float64, name


def test_sign_rule_white_image_projects_positively():
    model = random_model(d_input=20, d_hidden=8)
    art = decompose_bilinear_model(model)
    assert torch.all(art.pixel_eigenvectors.sum(-1) > 0)  # E^T v summed over pixels = v . E 1
    torch.testing.assert_close(decompose_bilinear_model(model).eigenvectors, art.eigenvectors)  # every time


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_model_decomposes_to_the_same_cpu_artifacts():
    model = random_model()
    on_cpu, on_gpu = decompose_bilinear_model(model), decompose_bilinear_model(model.cuda())
    assert on_gpu.eigenvalues.device.type == "cpu"
    torch.testing.assert_close(on_gpu.eigenvalues, on_cpu.eigenvalues)
    torch.testing.assert_close(on_gpu.pixel_eigenvectors, on_cpu.pixel_eigenvectors)


# --- deeper models: the last block's classes, and directions pulled back ------------------------------


@settings(max_examples=20, deadline=None)
@given(d_hidden=st.integers(1, 16), d_output=st.integers(1, 8), bias=st.booleans(), seed=st.integers(0, 9999),
       n_layer=st.integers(2, 3))
def test_last_block_eigenvalues_rebuild_the_logits_from_the_previous_block(d_hidden, d_output, bias, seed, n_layer):
    model = two_layer(d_hidden=d_hidden, d_output=d_output, bias=bias, seed=seed, n_layer=n_layer)
    x = torch.randn(5, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    art = decompose_bilinear_model(model)
    assert art.block == n_layer - 1 and art.pixel_eigenvectors is None
    assert art.width == d_hidden + bias  # with a bias, the block's input gets a constant 1
    with torch.no_grad():
        h = model.block_input(x, n_layer - 1)  # the output of the block before the last
        assert relative_error(art.logits(h), model(x)) < 1e-10


@pytest.mark.parametrize("block", [0, 1])
def test_decompose_direction_matches_a_brute_force_quadratic_form(block):
    model = two_layer(seed=3)
    u = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    art = decompose_direction(model, block, u)
    with torch.no_grad():
        brute = brute_force_quadratic_form(lambda h: u @ model.apply_block(h[None], block)[0], 7)
    torch.testing.assert_close(art.interactions[0], brute)
    values, vectors = art.eigenvalues[0], art.eigenvectors[0]
    torch.testing.assert_close(vectors.T @ torch.diag(values) @ vectors, brute)


def test_decompose_direction_rebuilds_the_directional_activation():
    model = two_layer(seed=4)
    x = torch.randn(6, 16, dtype=torch.float64)
    directions = torch.randn(3, 7, dtype=torch.float64)
    for block in (0, 1):
        art = decompose_direction(model, block, directions)
        with torch.no_grad():
            target = model.block_output(x, block) @ directions.T
        assert art.num_outputs == 3 and art.block == block
        assert art.names() == ["direction 0", "direction 1", "direction 2"]
        assert relative_error(rebuilt(art, model, x), target) < 1e-10
    assert decompose_direction(model, 0, directions).pixel_eigenvectors.shape == (3, 7, 16)  # block 0: pixels
    assert decompose_direction(model, 1, directions).pixel_eigenvectors is None


def test_chaining_a_block_1_eigenvector_down_to_pixels():
    model = two_layer(seed=5)
    last = decompose_bilinear_model(model)
    u = last.eigenvectors[2, -1]  # class 2, the most positive eigenvector of block 1
    pulled = decompose_direction(model, 0, u)
    x = torch.randn(4, 16, dtype=torch.float64)
    # u . h1(x) = sum_j mu_j (w_j . E x)^2, and the logit is lambda (u . h1)^2 plus the other components
    with torch.no_grad():
        h0, h1 = model.block_input(x, 0), model.block_input(x, 1)
    torch.testing.assert_close(pulled.logits(h0)[:, 0], h1 @ u)
    contribution = last.eigenvalues[2, -1] * pulled.logits(h0)[:, 0] ** 2
    torch.testing.assert_close(contribution, last.contributions(h1)[:, 2, -1])


def test_an_eigenvector_fed_through_the_last_block_writes_its_eigenvalue():
    model = two_layer(seed=6)
    art = decompose_bilinear_model(model)
    vectors = art.eigenvectors[1, [-1, -2, 0, 1]]  # four block-1 eigenvectors of class 1, as rows
    with torch.no_grad():
        logits = model.logits_from_block(vectors, -1)
        torch.testing.assert_close(logits, model.readout(model.apply_block(vectors, 1)))
    assert logits.shape == (4, 4)
    torch.testing.assert_close(logits[:, 1], art.eigenvalues[1, [-1, -2, 0, 1]])


def test_sign_rule_holds_for_the_last_block_and_for_directions():
    model = two_layer(seed=7)
    art = decompose_bilinear_model(model)
    with torch.no_grad():
        white_input = model.block_input(torch.ones(1, 16, dtype=torch.float64))[0]
    assert torch.all(torch.einsum("h,ckh->ck", white_input, art.eigenvectors) > 0)
    u = art.eigenvectors[0, -1]
    a, b = decompose_direction(model, 0, u), decompose_direction(model, 0, u.clone())
    torch.testing.assert_close(a.eigenvectors, b.eigenvectors)
    flipped = decompose_direction(model, 0, -u)  # the form negates: eigenvalues flip, the orientation rule holds
    torch.testing.assert_close(flipped.eigenvalues[0], -a.eigenvalues[0].flip(0))
    assert torch.all(flipped.pixel_eigenvectors.sum(-1) > 0) and torch.all(a.pixel_eigenvectors.sum(-1) > 0)


def test_directions_must_live_in_the_blocks_output_space():
    with pytest.raises(ValueError, match=r"block 0 is \[7\] or \[K, 7\], got shape \(5,\)"):
        decompose_direction(two_layer(), 0, torch.randn(5))
    with pytest.raises(ValueError, match=r"a direction is numbers \[d\] or \[K, d\].*got str 'u'"):
        decompose_direction(two_layer(), 0, "u")


@pytest.mark.parametrize("convert", [lambda t: t.tolist(), lambda t: t.numpy(), lambda t: t.float()])
def test_directions_may_be_lists_arrays_or_any_float_tensor(convert):
    model = two_layer(seed=8)
    u = torch.randn(2, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    expected = decompose_direction(model, 0, u)
    got = decompose_direction(model, 0, convert(u))
    torch.testing.assert_close(got.eigenvalues, expected.eigenvalues, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("bad", "shape"), [(3.0, r"\(\)"), ([[[1.0] * 7]], r"\(1, 1, 7\)"),
                                            (torch.ones(2, 3, 7), r"\(2, 3, 7\)")])
def test_directions_of_the_wrong_shape_are_refused(bad, shape):
    with pytest.raises(ValueError, match=rf"is \[7\] or \[K, 7\], got shape {shape}"):
        decompose_direction(two_layer(), 0, bad)


@settings(max_examples=60, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 5), min_size=1, max_size=3), min_size=3, max_size=3))
def test_decompose_refuses_factors_whose_sizes_disagree(shapes):
    readout, left, right = (torch.randn(*shape, dtype=torch.float64) for shape in shapes)
    agree = (len(shapes[0]) == len(shapes[1]) == len(shapes[2]) == 2 and shapes[0][1] == shapes[1][0] == shapes[2][0]
             and shapes[1][1] == shapes[2][1])
    if agree:
        decompose(readout, left, right)
        return
    with pytest.raises(ValueError, match=r"(readout|left|right) (must have 2 axes|has (out|in)=)"):
        decompose(readout, left, right)


def test_decompose_refuses_nan_and_integer_factors():
    readout, left = torch.randn(3, 4), torch.randn(4, 6)
    with pytest.raises(ValueError, match="right contains NaN or inf"):
        decompose(readout, left, torch.full((4, 6), float("nan")))
    with pytest.raises(ValueError, match="readout must be a float tensor"):
        decompose(torch.ones(3, 4, dtype=torch.int64), left, left)


def test_decompose_refuses_half_precision_and_mixed_dtypes():
    readout, left = torch.randn(3, 4), torch.randn(4, 6)
    with pytest.raises(ValueError, match="must share one dtype, float32 or float64"):
        decompose(readout.half(), left.half(), left.half())
    with pytest.raises(ValueError, match="must share one dtype"):
        decompose(readout, left.double(), left)


def test_a_model_with_a_nan_weight_is_named():
    model = BilinearImageClassifier(d_input=8, d_hidden=4, d_output=3)
    with torch.no_grad():
        model.weight_matrices()["embedding"][0, 0] = float("nan")
    with pytest.raises(ValueError, match="the model's embedding weight contains NaN or inf"):
        decompose_bilinear_model(model)


@pytest.mark.parametrize(("direction", "message"), [
    (torch.zeros(4), "all-zero row"), (torch.zeros(0, 4), "direction is empty"),
    (torch.tensor([float("nan"), 0, 0, 0]), "direction must hold finite real numbers"),
    (None, "a direction is numbers"),
])
def test_directions_that_read_nothing_are_refused(direction, message):
    model = BilinearImageClassifier(d_input=8, d_hidden=4, d_output=3)
    with pytest.raises(ValueError, match=message):
        decompose_direction(model, 0, direction)


def test_class_names_must_name_every_class():
    model = BilinearImageClassifier(d_input=8, d_hidden=4, d_output=3)
    with pytest.raises(ValueError, match="class_names must be a list of names, got 'abc'"):
        decompose_bilinear_model(model, class_names="abc")
    with pytest.raises(ValueError, match="class_names must name all 3 entries, got 2"):
        decompose_bilinear_model(model, class_names=["a", "b"])
