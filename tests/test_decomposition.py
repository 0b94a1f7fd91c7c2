import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers import BilinearImageClassifier, ReLUImageClassifier
from bilinear_helpers.decomposition import (
    DecompositionArtifacts,
    build_bilinear_tensor,
    decompose_bilinear_model,
    orient_eigenvectors,
    project_eigenvectors_to_input,
    symmetrize_bilinear_tensor,
)


def random_model(d_input=20, d_hidden=8, d_output=3, n_layer=1, bias=False, seed=0, dtype=torch.float64):
    return BilinearImageClassifier(d_input, d_hidden, d_output, n_layer=n_layer, bias=bias, seed=seed).to(dtype)


def relative_error(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@torch.no_grad()
def rebuilt(art, model, x):
    """The logits rebuilt from the decomposition, fed the decomposed block's input."""
    return art.logits(model.block_input(x, art.layer))


def test_bilinear_tensor_is_readout_folded_into_the_block():
    model = random_model()
    tensor = build_bilinear_tensor(model)
    u, left, right = model.output_weight, model.blocks[0].w_l, model.blocks[0].w_r
    brute = torch.zeros(3, 8, 8, dtype=torch.float64)
    for c in range(3):
        for o in range(8):
            brute[c] += u[c, o] * torch.outer(left[o], right[o])
    torch.testing.assert_close(tensor, brute)
    assert tensor.shape == (3, 8, 8)


def test_symmetrize():
    t = torch.randn(2, 4, 4)
    s = symmetrize_bilinear_tensor(t)
    torch.testing.assert_close(s, s.mT)
    h = torch.randn(4)
    torch.testing.assert_close(h @ s[1] @ h, h @ t[1] @ h)


def test_artifact_shapes_and_conventions():
    model = random_model(d_input=20, d_hidden=8, d_output=3)
    art = decompose_bilinear_model(model)
    assert art.eigenvalues.shape == (3, 8) and art.eigenvectors_hidden.shape == (3, 8, 8)
    assert art.eigenvectors_input.shape == (3, 8, 20)
    assert torch.all(art.eigenvalues[:, 1:] >= art.eigenvalues[:, :-1])  # ascending
    # column k pairs with eigenvalue k
    q, v, lam = art.symmetrized_tensor[1], art.eigenvectors_hidden[1], art.eigenvalues[1]
    torch.testing.assert_close(q @ v[:, 5], lam[5] * v[:, 5])
    torch.testing.assert_close(art.eigenvectors_input, project_eigenvectors_to_input(
        art.eigenvectors_hidden, model.embedding_weight))


@settings(max_examples=40, deadline=None)
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
    with torch.no_grad():
        assert relative_error(rebuilt(art, model, x), model(x)) < 1e-10


@settings(max_examples=25, deadline=None)
@given(
    d_hidden=st.integers(1, 32),
    d_output=st.integers(1, 12),
    bias=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_logits_rebuilt_in_float32_to_1e_4(d_hidden, d_output, bias, seed):
    model = random_model(30, d_hidden, d_output, bias=bias, seed=seed, dtype=torch.float32)
    x = torch.rand(5, 30, generator=torch.Generator().manual_seed(seed))
    art = decompose_bilinear_model(model, dtype=torch.float32)
    assert art.eigenvalues.dtype == torch.float32
    with torch.no_grad():
        assert relative_error(rebuilt(art, model, x), model(x)) < 1e-4


def test_images_and_flat_inputs_agree():
    model = BilinearImageClassifier(d_hidden=16, seed=3).double()
    art = decompose_bilinear_model(model)
    x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(art, model, x), model(x))
        torch.testing.assert_close(rebuilt(art, model, x.reshape(4, 784)), model(x))
    with pytest.raises(ValueError, match=r"expected the decomposed block's input \[batch, 16\].*block_input"):
        art.logits(x.reshape(4, 784))  # pixels are not the block's input


def test_contributions_sum_to_logits_and_top_ranks():
    model = random_model(d_hidden=10, d_output=4)
    art = decompose_bilinear_model(model)
    h = model.block_input(torch.randn(3, 20, dtype=torch.float64)).detach()
    contrib = art.contributions(h)
    assert contrib.shape == (3, 4, 10)
    torch.testing.assert_close(contrib.sum(-1), art.logits(h))
    top_abs = art.top(3)
    assert top_abs.shape == (4, 3)
    lam = art.eigenvalues
    assert torch.equal(lam.abs().gather(1, top_abs), lam.abs().sort(-1, descending=True).values[:, :3])
    assert torch.equal(art.top(2, by="positive")[:, 0], torch.full((4,), 9))
    assert torch.equal(art.top(2, by="negative")[:, 0], torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="unknown ranking 'largest'"):
        art.top(2, by="largest")


def test_sign_rule_white_image_projects_positively():
    model = random_model(d_input=20, d_hidden=8)
    art = decompose_bilinear_model(model)
    assert torch.all(art.eigenvectors_input.sum(-1) > 0)  # E^T v summed over pixels = v . E 1


def test_sign_rule_is_stable_under_flips_and_repeats():
    v = torch.linalg.qr(torch.randn(1, 6, 6, dtype=torch.float64)).Q
    ref = torch.randn(6, dtype=torch.float64)
    flips = torch.tensor([1.0, -1, -1, 1, -1, 1], dtype=torch.float64)
    a = orient_eigenvectors(v, ref)
    b = orient_eigenvectors(v * flips, ref)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(orient_eigenvectors(a, ref), a)
    # a tie falls back to the largest entry being positive
    tie = orient_eigenvectors(torch.tensor([[[0.6], [-0.8]]], dtype=torch.float64), torch.tensor([0.8, 0.6]))
    assert tie[0, 1, 0] > 0
    # the same model decomposes to the same oriented eigenvectors every time
    model = random_model(seed=5)
    torch.testing.assert_close(
        decompose_bilinear_model(model).eigenvectors_hidden, decompose_bilinear_model(model).eigenvectors_hidden
    )


def test_effective_rank_bounds():
    art = decompose_bilinear_model(random_model(d_hidden=8))
    ranks = art.effective_rank()
    assert torch.all(ranks >= 1) and torch.all(ranks <= 8)
    art.eigenvalues = torch.tensor([[0.0, 0, 0, 2.0], [1.0, 1, 1, 1]], dtype=torch.float64)
    torch.testing.assert_close(art.effective_rank(), torch.tensor([1.0, 4.0], dtype=torch.float64))


def test_save_and_load_round_trip(tmp_path):
    model = random_model(bias=True)
    art = decompose_bilinear_model(model, class_names=["a", "b", "c"])
    art.save(tmp_path / "analysis")
    summary = json.loads((tmp_path / "analysis" / "summary.json").read_text())
    assert [o["name"] for o in summary["outputs"]] == ["a", "b", "c"]
    assert summary["outputs"][0]["top_positive_eigenvalues"][0] == pytest.approx(art.eigenvalues[0, -1].item())
    assert summary["outputs"][2]["effective_rank"] == pytest.approx(art.effective_rank()[2].item())
    loaded = DecompositionArtifacts.load(tmp_path / "analysis")
    x = torch.randn(3, 20, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(loaded, model, x), model(x))
    with pytest.raises(FileNotFoundError, match="no decomposition.pt"):
        DecompositionArtifacts.load(tmp_path)
    (tmp_path / "analysis" / "decomposition.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable decomposition"):
        DecompositionArtifacts.load(tmp_path / "analysis")


def test_models_that_are_not_quadratic_forms_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="residual model is not a pure quadratic form.*residual=False"):
        decompose_bilinear_model(BilinearImageClassifier(d_hidden=4, residual=True))
    with pytest.raises(ValueError, match="gated layer.*gate=None"):
        decompose_bilinear_model(BilinearImageClassifier(d_hidden=4, gate="relu"))
    with pytest.raises(TypeError, match="ReLUImageClassifier is not a BilinearImageClassifier"):
        decompose_bilinear_model(ReLUImageClassifier(d_hidden=4))


def test_non_last_block_points_to_decompose_direction():
    with pytest.raises(ValueError, match="block 0 is not the last.*decompose_direction"):
        decompose_bilinear_model(random_model(n_layer=2), layer=0)
    with pytest.raises(IndexError, match="out of range"):
        decompose_bilinear_model(random_model(n_layer=2), layer=2)


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
    for name in ("bilinear_tensor", "symmetrized_tensor", "eigenvalues", "eigenvectors_hidden", "eigenvectors_input"):
        tensor = getattr(art, name)
        assert tensor.device.type == "cpu" and tensor.dtype == torch.float64, name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_model_decomposes_to_the_same_cpu_artifacts():
    model = random_model()
    on_cpu, on_gpu = decompose_bilinear_model(model), decompose_bilinear_model(model.cuda())
    assert on_gpu.eigenvalues.device.type == "cpu"
    torch.testing.assert_close(on_gpu.eigenvalues, on_cpu.eigenvalues)
    torch.testing.assert_close(on_gpu.eigenvectors_input, on_cpu.eigenvectors_input)
