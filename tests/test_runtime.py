"""Devices and seeds."""

import random

import numpy as np
import pytest
import torch

from bilinear_helpers import resolve_device
from bilinear_helpers.runtime import set_seed


def test_auto_picks_the_best_device_this_machine_has(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")


def test_named_devices_are_checked(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match=r"unknown device 'gpu': use one of \['auto', 'cpu', 'cuda', 'mps'\]"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda:1' is not available on this machine \(available: \['cpu'"):
        resolve_device("cuda:1")


def test_set_seed_makes_every_generator_repeatable():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002 - the global generator

    set_seed(5)
    first = draw()
    set_seed(5)
    assert draw() == first
    set_seed(6)
    assert draw() != first


@pytest.mark.parametrize("name", ["cpu:1", "mps:0", "auto:0", "CPU", " cpu"])
def test_device_names_with_an_index_are_cuda_only(name):
    with pytest.raises(ValueError, match=f"unknown device {name!r}"):
        resolve_device(name)


@pytest.mark.parametrize("seed", [None, 1.5, -1, 2**32, True])
def test_seeds_are_whole_numbers_in_range(seed):
    with pytest.raises(ValueError, match="seed must be a whole number in"):
        set_seed(seed)
