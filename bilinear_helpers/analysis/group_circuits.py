"""Bilinear models written by hand from an irrep: the two kinds of solution a trained model can use.

A character, `chi(a b c^-1) = tr(rho(a) rho(b) rho(c)^T)`, is a sum of d^2 products (its a-by-b
block has rank d^2); `model_from_irrep` in `group_weights` writes it. A single matrix element
along a unit vector u, `u^T rho(a b c^-1) u = sum_jk (rho(a)^T u)_j rho(b)_jk (rho(c)^T u)_k`,
needs only d products per output (rank d) and is still largest exactly at c = ab when no
element other than e fixes u. By Schur orthogonality its cosine with the character cube is
`1 / sqrt(d)`: a model that computes it uses the irrep fully, yet the character explains
only `1/d` of its logit variance.
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor

from ..checks import check_integer, check_number, check_tensor
from ..groups import Group
from ..groups.checks import check_group
from ..models import BilinearImageClassifier


def generic_unit_vector(dimension: int, seed: int = 0) -> Float[Tensor, " d"]:
    """A seeded random unit vector (with probability 1 fixed by no non-identity group element)."""
    dimension = check_integer("dimension", dimension, 1)
    vector = torch.randn(dimension, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return vector / vector.norm()


def model_from_matrix_element(group: Group, irrep: str, vector: Tensor | None = None,
                              scale: float = 1.0) -> BilinearImageClassifier:
    """A bilinear model whose logits are exactly `scale * u^T rho(a b c^-1) u` (u = `vector`,
    unit length; None: `generic_unit_vector(d)`), with d + d^2 hidden units.

    Embedding rows j < d hold `(rho(a)^T u)_j`, rows d + j d + k hold `rho(b)_jk`; hidden unit
    (j, k) multiplies the two; the readout of c is `scale (rho(c)^T u)_k`.
    """
    scale = check_number("scale", scale, -math.inf)
    if scale == 0:
        raise ValueError("scale must not be 0: the model would compute nothing")
    check_group(group)
    rho = group.irreps[group.check_irrep(irrep)].double()  # [elem, d, d]
    order, d = group.order, rho.shape[-1]
    u = generic_unit_vector(d) if vector is None else vector
    check_tensor("vector", u, "d", {"d": d}, floating=True, finite=True)
    if float(u.norm()) == 0:
        raise ValueError("vector is zero: give a unit vector (or None for a generic one)")
    u = u.double() / u.double().norm()
    left_read = torch.einsum("gij,i->gj", rho, u)  # [elem, d]: (rho(a)^T u)_j
    width = d + d * d
    embed, left, right, head = (torch.zeros(width, 2 * order, dtype=torch.float64),
                                torch.zeros(width, width, dtype=torch.float64),
                                torch.zeros(width, width, dtype=torch.float64),
                                torch.zeros(order, width, dtype=torch.float64))
    embed[:d, :order] = left_read.T
    embed[d:, order:] = rho.flatten(start_dim=1).T  # row d + j*d + k holds rho(b)_jk
    for j in range(d):
        for k in range(d):
            unit = j * d + k
            left[unit, j] = 1.0
            right[unit, d + j * d + k] = 1.0
            head[:, unit] = scale * left_read[:, k]
    model = BilinearImageClassifier(d_input=2 * order, d_hidden=width, d_output=order)
    weights = model.weight_matrices()
    with torch.no_grad():
        weights["embedding"].copy_(embed)
        weights["block 0"].copy_(torch.cat([left, right]))
        weights["readout"].copy_(head)
    return model.eval()


def matrix_element_cube(group: Group, irrep: str, vector: Tensor | None = None) -> Float[Tensor, "a b c"]:
    """`u^T rho(a b c^-1) u` for every (a, b, c) (u as in `model_from_matrix_element`)."""
    check_group(group)
    rho = group.irreps[group.check_irrep(irrep)].double()
    u = generic_unit_vector(rho.shape[-1]) if vector is None else vector.double() / vector.double().norm()
    values = torch.einsum("i,gij,j->g", u, rho, u)  # [elem]
    product = group.table[group.table[:, :, None], group.inverse[None, None, :]]
    return values[product]


__all__ = ["generic_unit_vector", "matrix_element_cube", "model_from_matrix_element"]
