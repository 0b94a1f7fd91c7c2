"""Checks of exercises 09.1-11.2: the right answer passes, each diagnosed mistake fails with its reason."""

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.analysis import (
    SharedBasis,
    activation_pca_bases,
    network_bases,
    shared_terms,
    truncate_network,
    truncation_scores,
)
from bilinear_helpers.exercises import (
    check_block_cut,
    check_costliest_term,
    check_cp_logits,
    check_single_block_cuts,
    check_top_concentration,
    check_trigger_pixels,
)


def verdict(capsys, check, *args, **kwargs):
    result = check(*args, **kwargs)
    return result, capsys.readouterr().out


def generator(seed):
    return torch.Generator().manual_seed(seed)


def random_basis(seed, rank=8, width=6, n_classes=4):
    g = generator(seed)
    left, right = (torch.randn(rank, width, generator=g, dtype=torch.float64) for _ in range(2))
    return SharedBasis(left, right, torch.randn(n_classes, rank, generator=g, dtype=torch.float64))


def test_cp_logits(capsys):
    basis = random_basis(0)
    h = torch.randn(20, 6, generator=generator(1), dtype=torch.float64)
    p, m = (basis.left + basis.right) / 2, (basis.left - basis.right) / 2
    right = ((h @ p.T) ** 2 - (h @ m.T) ** 2) @ basis.readout.T
    ok, out = verdict(capsys, check_cp_logits, basis, h, right)
    assert ok and out.startswith("Correct:") and "rank-8" in out
    mistakes = {"sign is flipped": -right, "added the two squares": ((h @ p.T) ** 2 + (h @ m.T) ** 2) @ basis.readout.T,
                "4 times too large": (((h @ (2 * p).T) ** 2 - (h @ (2 * m).T) ** 2) @ basis.readout.T),
                "differ from the fit's": right + 0.1 * right.std() * torch.randn(20, 4, generator=generator(2)),
                "transpose it": right.T, "one column per term": (h @ p.T) ** 2 - (h @ m.T) ** 2,
                "still empty": ..., "should be (20, 4)": right[:5]}
    for message, answer in mistakes.items():
        ok, out = verdict(capsys, check_cp_logits, basis, h, answer)
        assert not ok and out.startswith("Not yet:") and message in out, (message, out)


def costliest_candidates(basis, h, labels, cls):
    parts = (h @ basis.left.T) * (h @ basis.right.T)
    support = basis.readout[cls] * parts[labels == cls].mean(0)
    return {"best": int(support.argmax()), "argmin": int(support.argmin()),
            "position": shared_terms(basis).order.tolist().index(int(support.argmax())),
            "all images": int((basis.readout[cls] * parts.mean(0)).argmax()),
            "largest weight": int(basis.readout[cls].argmax()), "plus one": int(support.argmax()) + 1}


def test_costliest_term(capsys):
    labels = torch.arange(40) % 4
    for seed in range(100):  # a fit where every mistake gives a different term, so each message is tested
        basis, h = random_basis(seed, rank=12), torch.randn(40, 6, generator=generator(seed + 100), dtype=torch.float64)
        candidates = costliest_candidates(basis, h, labels, cls=2)
        if len(set(candidates.values())) == len(candidates) and basis.readout[2].abs().argmax() == \
                candidates["largest weight"] and max(candidates.values()) < basis.rank:
            break
    else:
        pytest.fail("no seed gives distinct candidates")
    ok, out = verdict(capsys, check_costliest_term, basis, h, labels, 2, candidates["best"])
    assert ok and f"removing term {candidates['best']} takes" in out
    terms = shared_terms(basis)
    assert float(basis.without(candidates["best"])(h)[labels == 2, 2].mean()) < float(basis(h)[labels == 2, 2].mean())
    assert terms.order[candidates["position"]] == candidates["best"]
    messages = {"argmin": "raises the logit", "position": "strength order", "all images": "over all test images",
                "largest weight": "largest weight", "plus one": "off by one"}
    for name, message in messages.items():
        ok, out = verdict(capsys, check_costliest_term, basis, h, labels, 2, candidates[name])
        assert not ok and message in out, (name, out)
    other = next(t for t in range(basis.rank) if t not in candidates.values())
    ok, out = verdict(capsys, check_costliest_term, basis, h, labels, 2, other)
    assert not ok and "another term takes off more" in out
    ok, out = verdict(capsys, check_costliest_term, basis, h, labels, 2, basis.rank)
    assert not ok and "off by one" in out
    for answer, message in ((..., "still empty"), (2.5, "whole number"), (torch.zeros(3), "one number")):
        ok, out = verdict(capsys, check_costliest_term, basis, h, labels, 2, answer)
        assert not ok and message in out


def deep_model(n_layer):
    return bh.BilinearImageClassifier(d_input=16, d_hidden=6, d_output=4, n_layer=n_layer, seed=1).double()


def test_block_cut(capsys):
    model, x = deep_model(2), torch.randn(30, 16, generator=generator(0), dtype=torch.float64)
    bases = network_bases(model)
    rows = bases[0].basis
    with torch.no_grad():
        h = model.block_input(x, 0)
        right = model.logits_from_block(h @ rows[:2].mT @ rows[:2], 0)
        ok, out = verdict(capsys, check_block_cut, model, bases, 0, 2, x, right)
        assert ok and "match truncate_network" in out
        mistakes = {"nothing was cut": model(x),
                    "the weakest": model.logits_from_block(h @ rows[-2:].mT @ rows[-2:], 0),
                    "k columns": model.logits_from_block(h @ rows[:, :2] @ rows[:, :2].mT, 0),
                    "cut every block": truncate_network(model, [2, 2], bases)(x),
                    "cut block 1's input": truncate_network(model, [6, 2], bases)(x),
                    "differ from the cut model's": right * 1.01, "transpose it": right.T,
                    "coordinates on the 2 directions": h @ rows[:2].mT, "still empty": None}
    for message, answer in mistakes.items():
        ok, out = verdict(capsys, check_block_cut, model, bases, 0, 2, x, answer)
        assert not ok and message in out, (message, out)


def test_single_block_cuts(capsys):
    model = deep_model(3)
    x, y = torch.randn(40, 16, generator=generator(0), dtype=torch.float64), torch.arange(40) % 4
    bases = activation_pca_bases(model, x)

    def scores(ks_list):
        return truncation_scores(model, bases, ks_list, x, y)

    single = [[2 if b == block else 6 for b in range(3)] for block in range(3)]
    right = scores(single)["logit_r2"]
    ok, out = verdict(capsys, check_single_block_cuts, model, bases, 2, x, y, right)
    worst = int(right.argmin())
    assert ok and f"block {worst} costs most: logit R^2 {float(right[worst]):.3f}" in out
    ok, out = verdict(capsys, check_single_block_cuts, model, bases, 2, x, y, right.numpy().round(3))
    assert ok  # rounded to three decimals still passes
    with torch.no_grad():
        full = model(x)
        uncentred = torch.stack([1 - (full - truncate_network(model, ks, bases)(x)).square().sum() / full.square().sum()
                                 for ks in single])
    complement = [[6 if b == block else 2 for b in range(3)] for block in range(3)]
    mistakes = {"1 - R^2": 1 - right, "reverse order": right.flip(0), "accuracies": scores(single)["accuracy"],
                "divided by |z|^2": uncentred, "except block l": scores(complement)["logit_r2"],
                "at once": scores([[2, 2, 2]])["logit_r2"].expand(3), "entries off by": right - 0.01,
                "still empty": ..., "should be (3,)": right[:2]}
    assert len({tuple(v.numpy().round(3)) for v in mistakes.values() if isinstance(v, torch.Tensor)}) == 8
    for message, answer in mistakes.items():
        ok, out = verdict(capsys, check_single_block_cuts, model, bases, 2, x, y, answer)
        assert not ok and message in out, (message, out)


def pixel_model(seed=0):
    return bh.BilinearImageClassifier(d_input=50, d_hidden=6, d_output=4, seed=seed).double()


def shares(images, n, squared=True, normalise=True):
    energy = images.square() if squared else images.abs()
    if normalise:
        energy = energy / energy.sum(-1, keepdim=True)
    return energy.sort(-1, descending=True).values[..., :n].sum(-1)


def test_top_concentration(capsys):
    model = pixel_model()
    artifacts = bh.decompose_bilinear_model(model)
    top = artifacts.pixel_eigenvectors[:, -1]
    right = shares(top, 5)  # 10% of 50 pixels
    ok, out = verdict(capsys, check_top_concentration, model, right, top_share=0.1)
    assert ok and "threshold 0.5" in out
    assert f"the largest is class {int(right.argmax())}'s, {float(right.max()):.2f}" in out
    mistakes = {"most negative": shares(artifacts.pixel_eigenvectors[:, 0], 5),
                "hidden space": shares(artifacts.eigenvectors[:, -1], 5), "|pixel values|": shares(top, 5, False),
                "did not divide": shares(top, 5, normalise=False), "top 4 pixels": shares(top, 4),
                "entries off by": right + 0.01, "still empty": ..., "should be (4,)": right[:3]}
    for message, answer in mistakes.items():
        ok, out = verdict(capsys, check_top_concentration, model, answer, top_share=0.1)
        assert not ok and message in out, (message, out)


def top_mask(image, n=5):
    return torch.zeros(image.numel(), dtype=torch.bool).index_fill(0, image.argsort(descending=True)[:n], True)


def test_trigger_pixels(capsys):
    for seed in range(200):  # a model whose flagged eigenvector is not the most positive, and has a negative peak
        artifacts = bh.decompose_bilinear_model(pixel_model(seed))
        top3 = artifacts.pixel_eigenvectors[1].flip(0)[:3]
        component = int(shares(top3, 5).argmax())
        flagged = top3[component]
        if component > 0 and not torch.equal(top_mask(flagged), top_mask(flagged.square())):
            break
    else:
        pytest.fail("no seed found")
    model, right = pixel_model(seed), top_mask(flagged.square())
    ok, out = verdict(capsys, check_trigger_pixels, model, 1, right, n_pixels=5)
    assert ok and f"no. {component + 1} from the most positive" in out
    assert verdict(capsys, check_trigger_pixels, model, 1, right.reshape(5, 10).float(), n_pixels=5)[0]
    mistakes = {"most negative": top_mask(artifacts.pixel_eigenvectors[1, 0].square()),
                "signed pixel values": top_mask(flagged), "the most concentrated of the": top_mask(top3[0].square()),
                "marks 6 pixels": right | top_mask(-right.double(), 1),
                "not pixel values": flagged,
                "hidden width": torch.ones(6), "should be a mask over the 50": torch.ones(7),
                "mask[indices] = True": right.nonzero().flatten(), "still empty": ...}
    for message, answer in mistakes.items():
        ok, out = verdict(capsys, check_trigger_pixels, model, 1, answer, n_pixels=5)
        assert not ok and message in out, (message, out)
    near_miss = right.clone()
    near_miss[right.nonzero()[0]] = False
    near_miss[(~right).nonzero()[0]] = True
    ok, out = verdict(capsys, check_trigger_pixels, model, 1, near_miss, n_pixels=5)
    assert not ok and "4 of your 5 pixels" in out
