import pytest
import torch

from bilinear_helpers import build_image_classifier, make_config
from bilinear_helpers.analysis import CONVERGENCE_METRICS, convergence_metrics
from bilinear_helpers.training import RunLayout, TrainedRun


def fresh_run(config, weight_decay_factor: float = 1.0) -> TrainedRun:
    """A 'run' whose model is still its own initialisation."""
    model = build_image_classifier(config.model, seed=config.seed)
    return TrainedRun(model, config, {"weight_decay_factor": weight_decay_factor}, RunLayout.for_config(config),
                      trained_now=False)


@pytest.fixture
def images():
    images = torch.zeros(20, 1, 28, 28)
    images[:, 0, 4:24, 6:22] = torch.rand(20, 20, 16)  # ink only inside a central box
    return images


def test_an_untrained_model_is_its_initialisation(images):
    config = make_config("mnist_baseline", d_hidden=16, seed=3)
    metrics = convergence_metrics(fresh_run(config, 0.5), images)
    assert list(metrics) == list(CONVERGENCE_METRICS)
    assert metrics["weight-decay factor"] == 0.5
    assert metrics["cosine(E, E at init)"] == pytest.approx(1.0)
    assert metrics["uninked pixels (chance level)"] == pytest.approx(1 - 20 * 16 / 784)
    assert 1 <= metrics["mean effective rank"] <= 16


def test_weight_only_on_inked_pixels_scores_zero_on_uninked_ones(images):
    config = make_config("mnist_baseline", d_hidden=16, seed=3)
    run = fresh_run(config)
    inked = images.flatten(1).amax(0) > 0
    with torch.no_grad():
        run.model.weight_matrices()["embedding"][:, ~inked] = 0  # what full weight decay does to unread pixels
    metrics = convergence_metrics(run, images)
    assert metrics["top eigenvector on uninked pixels"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["cosine(E, E at init)"] < 1


def test_it_needs_pixel_space_eigenvectors(images):
    with pytest.raises(ValueError, match="one-layer model"):
        convergence_metrics(fresh_run(make_config("two_layer_mnist", d_hidden=8)), images)


def test_convergence_metrics_needs_a_run():
    import bilinear_helpers as bh

    with pytest.raises(TypeError, match="run must be a TrainedRun"):
        convergence_metrics(bh.BilinearImageClassifier(d_input=4, d_hidden=3, d_output=2), torch.rand(3, 4))
