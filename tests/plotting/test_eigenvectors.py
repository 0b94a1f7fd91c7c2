import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model, figures_dir  # noqa: E402
from bilinear_helpers import plotting as P  # noqa: E402


@pytest.fixture(scope="module")
def artifacts():
    return decompose_bilinear_model(BilinearImageClassifier(d_hidden=12, d_output=4, seed=0),
                                    class_names=["a", "b", "c", "d"])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_rank_label():
    assert [P.rank_label(i, 10) for i in (9, 8, 0, 1, -1, -2)] == ["+1", "+2", "-1", "-2", "+1", "+2"]


def test_matplotlib_figures_are_returned_and_saved(artifacts):
    images = torch.rand(20, 1, 28, 28)
    contributions = artifacts.contributions(torch.randn(1, 12))[0]
    figures = {
        "spectra": P.plot_spectra(artifacts, save_as="spectra"),
        "grid": P.plot_eigenvector_grid(artifacts, k=2, save_as="grid"),
        "side": P.plot_eigenvectors_side_by_side({"m1": artifacts, "m2": artifacts}, save_as="side"),
        "prediction": P.plot_prediction(artifacts, images[0], contributions, n_classes=2, k=3, save_as="prediction"),
        "images": P.plot_image_grid(images[:5], titles=list("abcde"), save_as="images"),
    }
    for name, fig in figures.items():
        assert isinstance(fig, matplotlib.figure.Figure), name
        assert (figures_dir() / f"{name}.png").stat().st_size > 1000, name
    assert len(figures["grid"].axes) == 4 * 4  # 4 classes x (2 positive + 2 negative)


def test_figures_are_not_saved_without_a_name(artifacts):
    P.plot_spectra(artifacts)
    assert list(figures_dir().iterdir()) == []


def test_eigenvector_plotter_reads_one_output(artifacts):
    images = torch.rand(30, 1, 28, 28)
    plotter = P.EigenvectorPlotter(artifacts, torch.eye(4), images=images, class_names="abcd")
    assert plotter.image_shape == (28, 28) and plotter.images.shape == (30, 784)
    for sort in ("eigs", "activations"):
        fig = plotter.plot_component(1, topk_eigs=2, sort=sort, suptitle="t", save_as=f"plotter_{sort}")
        assert isinstance(fig, matplotlib.figure.Figure)
    assert (figures_dir() / "plotter_eigs.png").exists()
    bare = P.EigenvectorPlotter(artifacts)
    assert isinstance(bare.plot_component(0, topk_eigs=2), matplotlib.figure.Figure)


def test_eigenvector_plotter_rejects_bad_shapes(artifacts):
    with pytest.raises(ValueError, match="one row per output"):
        P.EigenvectorPlotter(artifacts, torch.eye(3))
    with pytest.raises(ValueError, match=r"image_shape \(20, 20\) does not hold 784 values"):
        P.EigenvectorPlotter(artifacts, image_shape=(20, 20))
    plotter = P.EigenvectorPlotter(artifacts, torch.eye(4))
    with pytest.raises(ValueError, match="unknown sort"):
        plotter.plot_component(0, sort="size")


def test_explorer_steps_restyle_every_trace_consistently(artifacts):
    images = torch.rand(25, 1, 28, 28)
    fig = P.eigenvector_explorer(artifacts, images, k=2, n_images=3, save_as="explorer")
    n_traces = len(fig.data)
    assert n_traces == 1 + 4 + 3  # eigenvector, one spectrum per class, top images
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 4 * 4  # classes x (2 positive + 2 negative)
    for step in steps:
        restyle, layout = step.args
        assert all(len(values) == n_traces for values in restyle.values())
    # step 5: class "b", the second most positive eigenvector
    restyle, layout = steps[5].args
    assert layout["title.text"].startswith("class b, eigenvector +2")
    assert restyle["visible"][1:5] == [False, True, False, False]
    assert restyle["selectedpoints"][2] == [12 - 2]
    assert max(max(abs(v) for v in row) for row in restyle["z"][0]) == 100
    html = (figures_dir() / "explorer.html").read_text()
    assert 'id="bilinear-explorer"' in html and "cdn.plot.ly" in html
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.args[1]["sliders[0].active"] for b in buttons] == [0, 4, 8, 12]


def test_pixel_plots_need_pixel_space_eigenvectors():
    deep = decompose_bilinear_model(BilinearImageClassifier(d_hidden=6, d_output=3, n_layer=2))
    with pytest.raises(ValueError, match="not in pixel space"):
        P.plot_eigenvector_grid(deep)
    with pytest.raises(ValueError, match="pixel-space eigenvectors"):
        P.eigenvector_explorer(deep, torch.rand(3, 784))
    with pytest.raises(ValueError, match="not in pixel space"):
        P.EigenvectorPlotter(deep)


def test_image_shapes_come_from_the_data():
    assert P.image_shape_of(784) == (28, 28) and P.image_shape_of(1024) == (32, 32)
    assert P.image_shape_of(12, (3, 4)) == (3, 4)
    with pytest.raises(ValueError, match="not a square image: pass image_shape"):
        P.image_shape_of(10)
    fig = P.plot_image_grid(torch.rand(3, 3 * 4), image_shape=(3, 4))
    assert fig.axes[0].images[0].get_array().shape == (3, 4)


def test_notebook_figures_of_matrices_noise_and_the_explorer_view(artifacts):
    images = torch.rand(20, 1, 28, 28)
    q, v = artifacts.symmetrized_tensor[1], artifacts.eigenvectors_hidden[1]
    assert len(P.plot_interaction_matrix(q, title="raw").axes) == 2  # one panel and its colour bar
    matrix = P.plot_interaction_matrix(q, v, n_eigen_shown=5, save_as="matrix")
    titles = [ax.get_title() for ax in matrix.axes if ax.get_title()]
    assert titles == ["in the hidden basis (12 x 12)", "in its eigenbasis: the top 5 by |λ|"]
    rotated = torch.as_tensor(matrix.axes[1].images[0].get_array().data)
    assert (rotated - torch.diag(torch.diag(rotated))).abs().max() < 1e-12  # V^T Q V is diagonal
    assert torch.allclose(rotated.diagonal().abs(), artifacts.eigenvalues[1].abs().sort(descending=True).values[:5])
    assert len(P.plot_interaction_matrix(q, v, hidden_basis=False).axes) == 2  # the eigenbasis and its colour bar
    with pytest.raises(ValueError, match="nothing to draw"):
        P.plot_interaction_matrix(q, hidden_basis=False)
    view = P.plot_explorer_view(artifacts, images, c=2, rank=-1, n_images=3, save_as="view")
    assert len(view.axes) == 5 and "class c, eigenvector +1" in view.get_suptitle()
    clean = torch.randn(50)
    panels = {"m1": (clean, clean, clean > 0), "m2": (clean, torch.randn(50), clean > 1)}
    hist = P.plot_clean_vs_noisy(panels, save_as="hist")
    assert len(hist.axes) == 2 and hist.axes[0].get_title() == "m1\ncorrelation 1.000"
    for name in ("matrix", "view", "hist"):
        assert (figures_dir() / f"{name}.png").stat().st_size > 1000, name


def test_static_figures_switch(monkeypatch):
    monkeypatch.delenv(P.explorer.STATIC_ENV_VAR, raising=False)
    assert P.show_interactive()
    monkeypatch.setenv(P.explorer.STATIC_ENV_VAR, "1")
    assert not P.show_interactive()


def test_universality_figures():
    trained, initial = torch.tensor([5.0, 3.0, 0.1, 0.05]), torch.tensor([0.5, 0.4, 0.3, 0.2])
    spectra = P.plot_weight_spectra({"layer": (trained, initial, 1.0)}, save_as="spectra_u")
    assert "above the edge: 2 trained, 0 initial" in spectra.axes[0].get_title()
    x = torch.linspace(0.01, 1, 50)
    law = P.plot_marchenko_pastur(initial, trained, x, torch.ones(50), save_as="law")
    assert len(law.axes) == 1
    matrices = P.plot_matrices({"a": torch.eye(3), "b": -torch.eye(3)}, ticklabels=list("xyz"), vmin=-1,
                               save_as="matrices")
    assert [ax.get_title() for ax in matrices.axes[:2]] == ["a", "b"]
    for name in ("spectra_u", "law", "matrices"):
        assert (figures_dir() / f"{name}.png").stat().st_size > 1000, name
