"""Small deep bilinear networks for the tests of the whole-network analyses."""

import torch

from bilinear_helpers import BilinearImageClassifier


def network(n_layer=2, bias=False, d_hidden=9, d_input=14, d_output=4, seed=0):
    """A float64 network whose blocks' weights are of order one, so each block's output is of its input's size."""
    model = BilinearImageClassifier(d_input=d_input, d_hidden=d_hidden, d_output=d_output, n_layer=n_layer,
                                    bias=bias, seed=seed).double()
    with torch.no_grad():
        for block in range(n_layer):
            model.block_weight(block).mul_(3.0)
    return model


def relative_error(a, b):
    return float((a - b).abs().max() / b.abs().max())
