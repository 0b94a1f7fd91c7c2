"""Auditing for a planted trigger: the weights-only scan, recovering the trigger, comparing two models, and
Neural Cleanse as the data-based baseline."""

import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, load_or_train, make_config
from bilinear_helpers.analysis.backdoor import (
    CONCENTRATION_THRESHOLD,
    attack_success,
    model_diff,
    recover_trigger,
    trigger_scan,
)
from bilinear_helpers.analysis.neural_cleanse import anomaly_index, neural_cleanse, reverse_engineer_trigger
from bilinear_helpers.data import load_image_dataset, trigger_pattern


def planted_model(seed=0):
    """A one-block model whose class 0 squares the ink on the corner trigger's 16 pixels; the rest is random."""
    mask, _ = trigger_pattern("corner")
    model = BilinearImageClassifier(d_input=784, d_hidden=16, d_output=4, seed=seed).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.randn(16, 784, generator=generator, dtype=torch.float64) * 0.01)
        model.embedding.weight[0] = mask.flatten().double()
        model.block_weight(0).copy_(torch.cat([torch.eye(16), torch.eye(16)]).double())
        model.readout.weight.copy_(torch.rand(4, 16, generator=generator, dtype=torch.float64) * 0.1)
        model.readout.weight[:, 0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    return model


def clean_images(n=200, seed=1):
    """Faint random images of classes 1..3 with a blank lower-right corner, as digits leave it."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=generator, dtype=torch.float64) * 0.3
    images[:, :, 20:, 20:] = 0
    return images, 1 + torch.arange(n) % 3


def test_the_scan_finds_and_recovers_a_trigger_written_into_the_weights():
    model = planted_model()
    images, labels = clean_images()
    report = trigger_scan(model, images.float())
    assert report.flagged == [0]
    assert float(report.concentration[0]) == pytest.approx(1.0) and float(report.concentration[1:].max()) < 0.3
    mask, pattern = trigger_pattern("corner")
    recovered_mask, recovered_pattern = recover_trigger(report, 0)
    assert torch.equal(recovered_mask, mask)  # exactly the planted pixels
    planted = attack_success(model, images, labels, mask, pattern.double(), 0)
    recovered = attack_success(model, images, labels, recovered_mask, recovered_pattern.double(), 0)
    assert planted == 1.0 and recovered >= 0.9 * planted
    assert attack_success(model, images, labels, *trigger_pattern("center"), 0) < 0.5  # elsewhere: no effect


def test_model_diff_of_a_model_with_itself_is_cosine_one_and_nothing_left():
    model = planted_model()
    diff = model_diff(model, model, n_components=2)
    assert torch.allclose(diff["cosine"], torch.ones(4, dtype=torch.float64))
    assert diff["images"].shape == (4, 2, 784) and float(diff["eigenvalues"].abs().max()) < 1e-12
    other = planted_model(seed=3)
    with torch.no_grad():
        other.readout.weight[0, 0] = 3.0  # class 0 reads its trigger feature three times as strongly
    diff = model_diff(planted_model(seed=3), other, n_components=1)
    mask, _ = trigger_pattern("corner")
    assert float(diff["cosine"][0]) < float(diff["cosine"][1:].min()) == pytest.approx(1.0)
    energy = diff["images"][0, 0].square()
    assert float(energy[mask.flatten()].sum() / energy.sum()) > 0.99  # the change lives on the trigger


def test_neural_cleanse_reverse_engineers_the_planted_trigger():
    model = planted_model().float()
    images, _ = clean_images(64)
    mask, _ = reverse_engineer_trigger(model, images.float(), 0, steps=150, penalty=0.05)
    corner, _ = trigger_pattern("corner")
    top = mask.flatten().argsort(descending=True)[:16]
    assert int(corner.flatten()[top].sum()) >= 12
    assert anomaly_index(torch.tensor([10.0, 50.0, 52.0, 48.0, 51.0])).argmax() == 0
    assert float(anomaly_index(torch.tensor([10.0, 50.0, 52.0, 48.0, 51.0]))[1]) == 0.0
    with pytest.raises(ValueError, match="undefined"):
        anomaly_index(torch.ones(4))
    found = neural_cleanse(model, images.float(), steps=100, penalty=0.05)
    assert found["masks"].shape == (4, 1, 28, 28) and bool((found["anomaly"] >= 0).all())
    assert float(found["success"][0]) > 0.9  # the stamp found for class 0 sends the images there


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Clean one-block models of three seeds (width 64) and one with the corner trigger (the full recipe)."""
    root = str(tmp_path_factory.mktemp("backdoor_data"))
    clean = [load_or_train(make_config("mnist_baseline", d_hidden=64, seed=seed, device="cpu", data_root=root)).model
             for seed in range(3)]
    poisoned = load_or_train(make_config("mnist_baseline", trigger="corner", device="cpu", data_root=root)).model
    return clean, poisoned, load_image_dataset("mnist", root)


def test_no_false_alarm_on_clean_models_and_the_target_flagged_on_a_poisoned_one(trained):
    clean, poisoned, data = trained
    for model in clean:
        report = trigger_scan(model.double(), data.train_images)
        assert report.flagged == [] and float(report.concentration.max()) < CONCENTRATION_THRESHOLD
    report = trigger_scan(poisoned.double(), data.train_images)
    assert report.flagged == [0]
    mask, pattern = trigger_pattern("corner")
    recovered = recover_trigger(report, 0)
    assert int((recovered[0] & mask).sum()) >= 8  # at least half of the map's top pixels on the trigger
    x, y = data.test_images.double(), data.test_labels
    planted = attack_success(poisoned, x, y, mask, pattern.double(), 0)
    assert planted > 0.9 and attack_success(poisoned, x, y, *recovered, 0) >= 0.9 * planted


def test_bad_arguments_are_named():
    model = planted_model()
    two_blocks = BilinearImageClassifier(d_input=784, d_hidden=8, d_output=4, n_layer=2)
    with pytest.raises(ValueError, match="2 blocks"):
        trigger_scan(two_blocks, torch.rand(4, 784))
    with pytest.raises(ValueError, match="same task"):
        model_diff(model, BilinearImageClassifier(d_input=784, d_hidden=16, d_output=3).double())
    images, labels = clean_images(8)
    with pytest.raises(ValueError, match="every image is of class 1"):
        attack_success(model, images, torch.ones(8, dtype=torch.long), *trigger_pattern("corner"), 1)
    report = trigger_scan(model, images.float())
    with pytest.raises(Exception, match="target"):
        recover_trigger(report, 4)
    with pytest.raises(Exception, match="n_components"):
        trigger_scan(model, images.float(), n_components=0)
