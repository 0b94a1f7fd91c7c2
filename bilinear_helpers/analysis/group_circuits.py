"""Bilinear models written by hand from an irrep: the two kinds of solution a trained model can use.

A character, `chi(a b c^-1) = tr(rho(a) rho(b) rho(c)^T)`, is a sum of d^2 products (its a-by-b
block has rank d^2); `model_from_irrep` in `group_weights` writes it. A single matrix element
along a unit vector u of `rho(b c^-1 a)`, a conjugate of `a b c^-1`,
`u^T rho(b) rho(c)^T rho(a) u = sum_k (rho(a) u)_k (rho(c) rho(b)^T u)_k`, needs only d products
per output (rank d) and is still largest exactly at c = ab when no element other than e
fixes u. By Schur orthogonality its cosine with the character cube is `1 / sqrt(d)`, and as
a function of the pair only `1/d` of it depends on the product ab: the rest depends on a and
b jointly but cancels where it matters, at c = ab.
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
from .group_weights import written_model


def generic_unit_vector(dimension: int, seed: int = 0) -> Float[Tensor, " d"]:
    """A seeded random unit vector (with probability 1 fixed by no non-identity group element)."""
    dimension = check_integer("dimension", dimension, 1)
    vector = torch.randn(dimension, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return vector / vector.norm()


def model_from_matrix_element(group: Group, irrep: str, vector: Tensor | None = None,
                              scale: float = 1.0) -> BilinearImageClassifier:
    """A bilinear model whose logits are exactly `scale * u^T rho(b c^-1 a) u` (u = `vector`,
    made unit length; None: `generic_unit_vector(d)`), with d^2 hidden units.

    `u^T rho(b) rho(c)^T rho(a) u = sum_jk (rho(a) u)_k (rho(b)^T u)_j rho(c)_kj`: embedding rows
    k < d hold `(rho(a) u)_k`, rows d + j hold `(rho(b)^T u)_j`; hidden unit (j, k) multiplies
    the two; the readout of c is `scale * rho(c)_kj`.
    """
    scale = check_number("scale", scale, -math.inf)
    if scale == 0:
        raise ValueError("scale must not be 0: the model would compute nothing")
    check_group(group)
    rho = group.irreps[group.check_irrep(irrep)].double()  # [elem, d, d]
    order, d = group.order, rho.shape[-1]
    u = _unit(vector, d)
    width = max(2 * d, d * d)
    embed, left, right, head = (torch.zeros(width, 2 * order, dtype=torch.float64),
                                torch.zeros(width, width, dtype=torch.float64),
                                torch.zeros(width, width, dtype=torch.float64),
                                torch.zeros(order, width, dtype=torch.float64))
    embed[:d, :order] = torch.einsum("gki,i->kg", rho, u)  # (rho(a) u)_k
    embed[d : 2 * d, order:] = torch.einsum("gij,i->jg", rho, u)  # (rho(b)^T u)_j
    for j in range(d):
        for k in range(d):
            unit = j * d + k
            left[unit, k] = 1.0
            right[unit, d + j] = 1.0
            head[:, unit] = scale * rho[:, k, j]
    return written_model(embed, left, right, head)


def matrix_element_cube(group: Group, irrep: str, vector: Tensor | None = None) -> Float[Tensor, "a b c"]:
    """`u^T rho(b c^-1 a) u` for every (a, b, c) (u as in `model_from_matrix_element`)."""
    check_group(group)
    rho = group.irreps[group.check_irrep(irrep)].double()
    u = _unit(vector, rho.shape[-1])
    values = torch.einsum("i,gij,j->g", u, rho, u)  # [elem]: u^T rho(g) u
    b_c = group.table[:, group.inverse]  # [b, c] = index of b c^-1
    product = group.table[b_c[None, :, :], torch.arange(group.order)[:, None, None]]  # [a, b, c] = b c^-1 a
    return values[product]


def _unit(vector: Tensor | None, d: int) -> Float[Tensor, " d"]:
    if vector is None:
        return generic_unit_vector(d)
    check_tensor("vector", vector, "d", {"d": d}, floating=True, finite=True)
    if float(vector.norm()) == 0:
        raise ValueError("vector is zero: give a unit vector (or None for a generic one)")
    return vector.double() / vector.double().norm()


__all__ = ["generic_unit_vector", "matrix_element_cube", "model_from_matrix_element"]
