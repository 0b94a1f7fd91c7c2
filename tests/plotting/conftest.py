"""Every figure a test draws is closed after it (the Agg backend is chosen in tests/conftest.py)."""

import matplotlib.pyplot as plt
import pytest
import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="package")
def artifacts():
    """A one-block decomposition with pixel-space eigenvectors: 4 classes "a".."d", 12 components, 784 pixels."""
    return decompose_bilinear_model(BilinearImageClassifier(d_hidden=12, d_output=4, seed=0),
                                    class_names=["a", "b", "c", "d"])


def image_data(fig, index: int = 0) -> torch.Tensor:
    """The array drawn by the first image of axes `index`, as float64."""
    return torch.as_tensor(fig.axes[index].images[0].get_array().data, dtype=torch.float64)
