"""Finite groups as multiplication tables, with their real irreducible representations.

`cyclic_group(n)`, `dihedral_group(n)`, `symmetric_group(n)` and `alternating_group(n)`
build a `Group`: every element is a permutation (sympy's combinatorics generates them and
their conjugacy classes), numbered so that `table[a, b]` is the index of `ab`, where `ab`
means "apply b, then a" (so that `rho(ab) = rho(a) rho(b)`). Element 0 is the identity.

Each irrep is a real orthogonal `rho: G -> O(d)`, `[|G|, d, d]`, one per irreducible
character: in closed form for cyclic and dihedral groups (`irreps.polygon_irreps`, exact
for every n), read off the regular representation for S_n and A_n (`irreps.real_irreps`).
Orders are bounded by `catalog.MAX_GROUP_ORDER`. A complex pair of irreps (the rotations of a
cyclic group) appears once, realified to d = 2; its character has norm 2, not 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from jaxtyping import Float, Int64
from sympy.combinatorics import Permutation, PermutationGroup
from sympy.combinatorics.named_groups import AlternatingGroup, CyclicGroup, DihedralGroup, SymmetricGroup
from torch import Tensor

from ..catalog import GROUP_FAMILIES as GROUP_BOUNDS
from ..catalog import MAX_GROUP_ORDER, parse_group_name
from .irreps import name_irreps, polygon_irreps, real_irreps


@dataclass(frozen=True)
class Group:
    """A finite group: its multiplication table and its real irreps.

    `elements[i]` is element i as a permutation in array form (the images of 0, 1, ...);
    `table[a, b]` the index of ab; `inverse[a]` the index of a^-1; `conjugacy_classes` lists
    of indices; `irreps[name]` `[|G|, d, d]` (float64, orthogonal); `characters[name]`
    `[|G|]` the traces; `irrep_kinds[name]` "real" or "complex" (a realified complex pair).
    """

    name: str
    elements: list[tuple[int, ...]]
    table: Int64[Tensor, "elem elem"]
    inverse: Int64[Tensor, " elem"]
    conjugacy_classes: list[list[int]]
    irreps: dict[str, Float[Tensor, "elem d d"]] = field(repr=False)
    irrep_kinds: dict[str, str] = field(repr=False)

    identity: int = 0

    @property
    def order(self) -> int:
        """|G|."""
        return len(self.elements)

    @property
    def characters(self) -> dict[str, Float[Tensor, " elem"]]:
        """`chi(g) = tr rho(g)` for each irrep."""
        return {name: rho.diagonal(dim1=-2, dim2=-1).sum(-1) for name, rho in self.irreps.items()}

    def dimension(self, irrep: str) -> int:
        """d, the size of `rho(g)`."""
        return self.irreps[self.check_irrep(irrep)].shape[-1]

    def span_dimension(self, irrep: str) -> int:
        """How many independent functions on G the matrix elements `rho(g)_ij` span.

        d^2 for a real irrep, d^2 / 2 for a realified complex pair (2 for a rotation of a
        cyclic group); over all irreps they sum to |G|.
        """
        d = self.dimension(irrep)
        return d * d if self.irrep_kinds[irrep] == "real" else d * d // 2

    def matrix_elements(self, irrep: str) -> Float[Tensor, "elem d2"]:
        """The functions `g -> rho(g)_ij`, one column per (i, j)."""
        return self.irreps[self.check_irrep(irrep)].flatten(start_dim=1)

    def check_irrep(self, irrep: str) -> str:
        """`irrep` if this group has it; else a KeyError that lists the irreps it has."""
        if irrep not in self.irreps:
            raise KeyError(f"{self.name} has no irrep {irrep!r}; its irreps are {list(self.irreps)}")
        return irrep

    def __repr__(self) -> str:
        dims = ", ".join(f"{name} ({self.dimension(name)})" for name in self.irreps)
        return f"Group({self.name}, order {self.order}, irreps: {dims})"


def _positive_int(what: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{what} must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def group_from_permutations(name: str, generated: PermutationGroup, family: str, seed: int = 0) -> Group:
    """A `Group` from a sympy permutation group: the table, inverses, classes and irreps.

    Elements are sorted by array form, so the identity is element 0 and a cyclic group's
    element k is the rotation r^k. `family` picks the irrep names (see `name_irreps`).
    """
    if generated.order() > MAX_GROUP_ORDER:
        raise ValueError(f"{name} has order {generated.order()}; groups are built up to order {MAX_GROUP_ORDER}")
    degree = generated.degree
    elements = sorted(tuple(int(i) for i in Permutation(p, size=degree).array_form) for p in generated.elements)
    perms = np.array(elements, dtype=np.int64)  # [|G|, degree]: perms[g, i] = g(i)
    index = {element: i for i, element in enumerate(elements)}
    # (ab)(i) = a(b(i)); a permutation is fixed by the images of a base (sympy's), so compose only those
    base = list(generated.base) or [0]
    index_of_base = {tuple(row): i for i, row in enumerate(perms[:, base])}
    products = perms[:, perms[:, base]]  # [a, b, k] = a(b(base[k]))
    table = np.array([[index_of_base[tuple(row)] for row in block] for block in products], dtype=np.int64)
    inverse = np.argmax(table == 0, axis=1)
    classes = sorted(sorted(index[tuple(Permutation(p, size=degree).array_form)] for p in cls)
                     for cls in generated.conjugacy_classes())
    if family in ("cyclic", "dihedral"):
        irreps, kinds = polygon_irreps(perms, dihedral=family == "dihedral")
    else:
        irreps, kinds = real_irreps(table, inverse, seed=seed)
    names = name_irreps(irreps, kinds, perms, family)
    return Group(
        name=name,
        elements=elements,
        table=torch.from_numpy(table),
        inverse=torch.from_numpy(inverse),
        conjugacy_classes=classes,
        irreps={n: torch.from_numpy(irreps[i]) for i, n in names},
        irrep_kinds={n: kinds[i] for i, n in names},
    )


def cyclic_group(n: int) -> Group:
    """C_n, addition mod n: element k is the rotation r^k (so `table[a, b] = (a + b) mod n`)."""
    n = _positive_int("the order of a cyclic group", n, *GROUP_BOUNDS["C"][1:3])
    return group_from_permutations(f"C_{n}", CyclicGroup(n), "cyclic")


def dihedral_group(n: int) -> Group:
    """D_n, the 2n symmetries of a regular n-gon (n rotations, n reflections), n >= 3."""
    n = _positive_int("n of a dihedral group D_n", n, *GROUP_BOUNDS["D"][1:3])
    return group_from_permutations(f"D_{n}", DihedralGroup(n), "dihedral")


def symmetric_group(n: int) -> Group:
    """S_n, all n! permutations of n points (S_4: 24, S_5: 120)."""
    n = _positive_int("n of a symmetric group S_n", n, *GROUP_BOUNDS["S"][1:3])
    return group_from_permutations(f"S_{n}", SymmetricGroup(n), "symmetric")


def alternating_group(n: int) -> Group:
    """A_n, the n!/2 even permutations of n points (A_4: 12, A_5: 60)."""
    n = _positive_int("n of an alternating group A_n", n, *GROUP_BOUNDS["A"][1:3])
    return group_from_permutations(f"A_{n}", AlternatingGroup(n), "alternating")


GROUP_FAMILIES = {"cyclic": cyclic_group, "dihedral": dihedral_group, "symmetric": symmetric_group,
                  "alternating": alternating_group}


def make_group(spec: str) -> Group:
    """A group from a short name: "C59", "D10", "S4", "A5" (case-insensitive, "_" allowed)."""
    parsed = parse_group_name(spec)
    if parsed is None:
        raise ValueError(f"unknown group {spec!r}: write C<n>, D<n>, S<n> or A<n>, for example 'C59' or 'S4'")
    family, n = parsed
    return GROUP_FAMILIES[family](n)
