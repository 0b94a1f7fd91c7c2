"""DecompositionArtifacts: what a decomposition answers, the sign rule, and saving without risk."""

import json

import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, DecompositionArtifacts, decompose_bilinear_model
from bilinear_helpers.artifacts import DECOMPOSITION_FILE, SIGN_RULE, SUMMARY_FILE, augment, orient_eigenvectors

from .conftest import PickledCode


def random_model(bias=False, seed=0):
    return BilinearImageClassifier(d_input=20, d_hidden=10, d_output=4, bias=bias, seed=seed).double()


@pytest.fixture(scope="module")
def model_and_artifacts():
    model = random_model()
    return model, decompose_bilinear_model(model, class_names=["a", "b", "c", "d"])


def test_projections_contributions_and_logits(model_and_artifacts):
    model, art = model_and_artifacts
    h = model.block_input(torch.randn(3, 20, dtype=torch.float64)).detach()
    projections = art.projections(h)
    assert projections.shape == (3, 4, 10)
    torch.testing.assert_close(projections[1, 2, 7], h[1] @ art.eigenvectors[2, 7])  # v_k . h, v_k a row
    contributions = art.contributions(h)
    torch.testing.assert_close(contributions, art.eigenvalues * projections**2)
    torch.testing.assert_close(contributions.sum(-1), art.logits(h))
    torch.testing.assert_close(art.logits(h), model.readout(model.apply_block(h, 0)).detach())


def test_the_input_must_be_the_blocks_input(model_and_artifacts):
    _, art = model_and_artifacts
    with pytest.raises(ValueError, match=r"expected the decomposed block's input \[batch, 10\], got shape "
                                         r"\(2, 20\): pass model.block_input\(x, block=0\)"):
        art.logits(torch.randn(2, 20))


def test_a_biased_decomposition_augments_the_input():
    model = random_model(bias=True)
    art = decompose_bilinear_model(model)
    h = model.block_input(torch.randn(2, 20, dtype=torch.float64)).detach()
    assert torch.equal(augment(h, True)[:, -1], torch.ones(2, dtype=torch.float64))
    assert torch.equal(augment(h, False), h)
    torch.testing.assert_close(art.logits(h), model.readout(model.apply_block(h, 0)).detach())
    with pytest.raises(ValueError, match=r"input \[batch, 10\], got shape \(2, 12\)"):
        art.logits(torch.randn(2, 11, dtype=torch.float64))


def test_top_ranks_the_components(model_and_artifacts):
    _, art = model_and_artifacts
    lam = art.eigenvalues
    top_abs = art.top(3)
    assert top_abs.shape == (4, 3)
    assert torch.equal(lam.abs().gather(1, top_abs), lam.abs().sort(-1, descending=True).values[:, :3])
    assert torch.equal(art.top(2, by="positive"), torch.tensor([[9, 8]] * 4))  # ascending: the end is positive
    assert torch.equal(art.top(2, by="negative"), torch.tensor([[0, 1]] * 4))
    with pytest.raises(ValueError, match="unknown ranking 'largest': use 'abs', 'positive' or 'negative'"):
        art.top(2, by="largest")


def test_effective_rank_bounds():
    art = decompose_bilinear_model(random_model())
    ranks = art.effective_rank()
    assert torch.all(ranks >= 1) and torch.all(ranks <= 10)
    art.eigenvalues = torch.tensor([[0.0, 0, 0, 2.0], [1.0, 1, 1, 1]], dtype=torch.float64)
    torch.testing.assert_close(art.effective_rank(), torch.tensor([1.0, 4.0], dtype=torch.float64))


def test_summary_names_each_output(model_and_artifacts):
    _, art = model_and_artifacts
    summary = art.summary(n_leading=2)
    assert summary["block"] == 0 and summary["width"] == 10 and summary["sign_rule"] == SIGN_RULE
    assert [o["name"] for o in summary["outputs"]] == ["a", "b", "c", "d"]
    assert summary["outputs"][1]["top_positive_eigenvalues"] == art.eigenvalues[1, [9, 8]].tolist()
    assert summary["outputs"][1]["top_negative_eigenvalues"] == art.eigenvalues[1, [0, 1]].tolist()


# --- the sign rule ------------------------------------------------------------------------------------


def test_orientation_makes_each_row_point_along_the_reference():
    v = torch.linalg.qr(torch.randn(2, 6, 6, dtype=torch.float64)).Q.mT  # rows orthonormal
    ref = torch.randn(6, dtype=torch.float64)
    oriented = orient_eigenvectors(v, ref)
    assert torch.all(oriented @ ref > 0)
    torch.testing.assert_close(oriented.abs(), v.abs())  # only signs change, row by row
    assert torch.all((oriented * v).sum(-1).abs() > 1 - 1e-12)


def test_orientation_is_stable_under_flips_and_repeats():
    v = torch.linalg.qr(torch.randn(1, 6, 6, dtype=torch.float64)).Q.mT
    ref = torch.randn(6, dtype=torch.float64)
    flips = torch.tensor([1.0, -1, -1, 1, -1, 1], dtype=torch.float64)[:, None]  # one sign per row
    a = orient_eigenvectors(v, ref)
    torch.testing.assert_close(orient_eigenvectors(v * flips, ref), a)
    torch.testing.assert_close(orient_eigenvectors(a, ref), a)


def test_a_tie_falls_back_to_the_largest_entry_being_positive():
    rows = torch.tensor([[[0.6, -0.8], [-0.8, -0.6]]], dtype=torch.float64)  # two orthonormal rows
    reference = torch.tensor([0.8, 0.6], dtype=torch.float64)  # row 0 . ref = 0: a tie; row 1 . ref < 0
    oriented = orient_eigenvectors(rows, reference)
    torch.testing.assert_close(oriented[0, 0], torch.tensor([-0.6, 0.8], dtype=torch.float64))
    torch.testing.assert_close(oriented[0, 1], torch.tensor([0.8, 0.6], dtype=torch.float64))


# --- saving and loading -------------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path):
    model = random_model(bias=True)
    art = decompose_bilinear_model(model, class_names=["a", "b", "c", "d"])
    folder = art.save(tmp_path / "analysis")
    assert sorted(p.name for p in folder.iterdir()) == [SUMMARY_FILE, DECOMPOSITION_FILE]
    summary = json.loads((folder / SUMMARY_FILE).read_text())
    assert summary == json.loads(json.dumps(art.summary()))
    assert summary["outputs"][2]["effective_rank"] == pytest.approx(art.effective_rank()[2].item())
    loaded = DecompositionArtifacts.load(folder)
    for name in ("raw_interactions", "interactions", "eigenvalues", "eigenvectors", "pixel_eigenvectors"):
        assert torch.equal(getattr(loaded, name), getattr(art, name)), name
    assert (loaded.bias, loaded.block, loaded.output_names) == (True, 0, ["a", "b", "c", "d"])
    x = torch.randn(3, 20, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.logits(model.block_input(x)), model(x))


def test_a_deeper_decomposition_round_trips_without_pixels(tmp_path):
    model = BilinearImageClassifier(d_input=8, d_hidden=5, d_output=3, n_layer=2).double()
    art = decompose_bilinear_model(model)
    loaded = DecompositionArtifacts.load(art.save(tmp_path))
    assert loaded.pixel_eigenvectors is None and loaded.block == 1


@pytest.mark.parametrize("run_file", ["best.pt", "metrics.csv"])
def test_save_refuses_a_folder_that_holds_a_training_run(tmp_path, model_and_artifacts, run_file):
    _, art = model_and_artifacts
    (tmp_path / run_file).write_text("a run")
    with pytest.raises(ValueError, match="holds a training run; save the decomposition in a folder of its own"):
        art.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [run_file]  # nothing written beside the run


def test_load_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no decomposition.pt in .*decompose_bilinear_model and save"):
        DecompositionArtifacts.load(tmp_path)


def test_load_refuses_pickled_code_and_does_not_run_it(tmp_path, model_and_artifacts):
    _, art = model_and_artifacts
    art.save(tmp_path)
    marker = tmp_path / "code_ran"
    torch.save({"eigenvalues": PickledCode(marker)}, tmp_path / DECOMPOSITION_FILE)
    with pytest.raises(ValueError, match=r"refused to load .*decomposition.pt: it holds pickled Python objects, which "
                                         r"are never executed here\. Decompose the model again") as caught:
        DecompositionArtifacts.load(tmp_path)
    assert not marker.exists()
    assert "weights_only=False" not in str(caught.value)  # never advise the unsafe load


@pytest.mark.parametrize("tamper", [
    lambda path: path.write_bytes(b"garbage"),
    lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    lambda path: torch.save({"eigenvalues": torch.zeros(2, 2), "unexpected": 1}, path),
], ids=["garbage", "truncated", "wrong fields"])
def test_load_refuses_a_damaged_file(tmp_path, model_and_artifacts, tamper):
    _, art = model_and_artifacts
    art.save(tmp_path)
    tamper(tmp_path / DECOMPOSITION_FILE)
    with pytest.raises(ValueError,
                       match="decomposition.pt is not a (readable decomposition|decomposition saved by this version)"):
        DecompositionArtifacts.load(tmp_path)


def test_a_run_folder_is_never_written_over(tmp_path, model_and_artifacts):
    model, art = model_and_artifacts
    (tmp_path / "best.pt").write_bytes(b"a run's weights")
    before = (tmp_path / "best.pt").read_bytes()
    with pytest.raises(ValueError, match="holds a training run"):
        art.save(tmp_path)
    assert (tmp_path / "best.pt").read_bytes() == before and not (tmp_path / DECOMPOSITION_FILE).exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("eigenvalues", [1.0, 2.0], "eigenvalues must be a tensor"),
    ("eigenvectors", torch.zeros(2, 3, 3, dtype=torch.int64), "eigenvectors has cls=2"),
    ("bias", "yes", "bias must be True or False, got 'yes'"),
    ("block", -1, "block must be >= 0, got -1"),
    ("output_names", ["a"], "output_names must be a list of"),
    ("interactions", torch.full((1, 1, 1), float("nan")), "interactions has"),
])
def test_load_refuses_a_payload_of_the_wrong_types(tmp_path, model_and_artifacts, field, value, message):
    _, art = model_and_artifacts
    art.save(tmp_path)
    payload = torch.load(tmp_path / DECOMPOSITION_FILE, weights_only=True)
    payload[field] = value
    torch.save(payload, tmp_path / DECOMPOSITION_FILE)
    with pytest.raises(ValueError, match=f"decomposition.pt does not hold a consistent decomposition \\(({message})"):
        DecompositionArtifacts.load(tmp_path)


def test_arguments_of_the_accessors_are_checked(tmp_path, model_and_artifacts):
    _, art = model_and_artifacts
    for k, message in ((0, r"k must be in \[1, "), (-1, r"k must be in \[1, "), (2.5, "k must be a whole number")):
        with pytest.raises(ValueError, match=message):
            art.top(k)
    with pytest.raises(ValueError, match=r"n_leading must be >= 1, got -1"):
        art.summary(n_leading=-1)
    with pytest.raises(ValueError, match=r"h \(the input of block 0\) must be a tensor"):
        art.projections([[0.0] * art.width])
    with pytest.raises(ValueError, match=r"h \(the input of block 0\) contains NaN"):
        art.projections(torch.full((2, art.width), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="directory must be a folder path, got None"):
        art.save(None)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="afile is a file, not a folder"):
        art.save(tmp_path / "afile")


def test_fields_of_mixed_dtypes_are_refused(model_and_artifacts):
    _, art = model_and_artifacts
    with pytest.raises(ValueError, match="every tensor field must share one dtype"):
        DecompositionArtifacts(art.raw_interactions, art.interactions, art.eigenvalues.float(), art.eigenvectors,
                               art.pixel_eigenvectors)
