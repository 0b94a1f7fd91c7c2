"""Real irreducible representations of a finite group, read off its regular representation.

The regular representation `P(g) e_h = e_{gh}` contains every irrep. Any operator that
commutes with all `P(g)` (here the group average `A = sum_g P(g) X P(g)^T` of a random
symmetric X) has the irreducible subspaces as eigenspaces, generically one copy per
eigenvalue; restricting `P` to an orthonormal basis `B` of one gives `rho(g) = B^T P(g) B`.
One subspace is kept per character. A subspace is irreducible when its character has norm 1
(a real irrep), or norm 2 with Frobenius-Schur indicator 0 (a complex pair, realified).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float, Int64

TOLERANCE = 1e-8
ATTEMPTS = 5


def _irreducible_subspaces(table: np.ndarray, inverse: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Orthonormal bases `[|G|, d]` of the eigenspaces of a random G-invariant symmetric operator."""
    order = len(table)
    x = rng.standard_normal((order, order))
    x = x + x.T
    moved = table[inverse]  # moved[g, u] = index of g^-1 u; (P(g) X P(g)^T)[u, v] = X[g^-1 u, g^-1 v]
    invariant = np.zeros((order, order))
    for rows in moved:
        invariant += x[np.ix_(rows, rows)]
    values, vectors = np.linalg.eigh(invariant / order)
    scale = max(np.abs(values).max(), 1.0)
    breaks = np.flatnonzero(np.diff(values) > TOLERANCE * scale * 1e3) + 1
    return [vectors[:, chunk] for chunk in np.split(np.arange(order), breaks)]


def _restrict(basis: np.ndarray, table: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """`rho(g) = B^T P(g) B`, `[|G|, d, d]`; `(P(g) B)[u] = B[g^-1 u]`."""
    moved = table[inverse]
    return np.einsum("ui,guj->gij", basis, basis[moved])


def real_irreps(
    table: Int64[np.ndarray, "elem elem"], inverse: Int64[np.ndarray, " elem"], seed: int = 0
) -> tuple[list[Float[np.ndarray, "elem d d"]], list[str]]:
    """Every real irrep of the group once, with its kind ("real" or "complex"), in no set order.

    Checks that the irreps account for the whole group (sum of d^2, or d^2 / 2 for a complex
    pair, equals |G|); a draw of X with an accidental coincidence is retried with a new seed.
    """
    table, inverse = np.asarray(table), np.asarray(inverse)
    order = len(table)
    squares = table[np.arange(order), np.arange(order)]
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng(seed + attempt)
        found: dict[tuple, tuple[np.ndarray, str]] = {}
        failed = False
        for basis in _irreducible_subspaces(table, inverse, rng):
            rho = _restrict(basis, table, inverse)
            character = np.trace(rho, axis1=1, axis2=2)
            norm = float(np.mean(character**2))
            indicator = float(np.mean(character[squares]))
            if abs(norm - 1) < 1e-6:
                kind = "real"
            elif abs(norm - 2) < 1e-6 and abs(indicator) < 1e-6:
                kind = "complex"
            else:
                failed = True
                break
            found.setdefault(tuple(np.round(character, 6)), (rho, kind))
        if failed:
            continue
        irreps = [rho for rho, _ in found.values()]
        kinds = [kind for _, kind in found.values()]
        spans = sum(r.shape[-1] ** 2 // (1 if k == "real" else 2) for r, k in zip(irreps, kinds, strict=True))
        if spans == order:
            return irreps, kinds
    raise RuntimeError(f"could not split the regular representation of a group of order {order} into irreps")


def polygon_irreps(perms: Int64[np.ndarray, "elem degree"], dihedral: bool
                   ) -> tuple[list[Float[np.ndarray, "elem d d"]], list[str]]:
    """The real irreps of C_n or D_n in closed form, exact for every n, for permutations of an n-gon's corners.

    Every element is `i -> a + i` (the rotation r^a) or, in D_n, `i -> a - i` (r^a s, s the
    reflection fixing corner 0). The 2-D irreps send r^a to the turn by `2 pi k a / n` and s to
    diag(1, -1) (k from 1 while 2k < n); the 1-D ones send r to +-1 and s to +-1 ("sign"
    r -> -1 needs n even). Kinds as `real_irreps`: C_n's turns are realified complex pairs.
    """
    n = perms.shape[1]
    turns = perms[:, 0].astype(np.float64)  # a
    flips = (perms[:, 1] != (perms[:, 0] + 1) % n) if dihedral else np.zeros(len(perms), bool)
    irreps, kinds = [], []
    rotation_signs = (1.0, -1.0) if n % 2 == 0 else (1.0,)
    reflection_signs = (1.0, -1.0) if dihedral else (1.0,)
    for rotation_sign in rotation_signs:
        for reflection_sign in reflection_signs:
            values = rotation_sign**turns * np.where(flips, reflection_sign, 1.0)
            irreps.append(values[:, None, None])
            kinds.append("real")
    for k in range(1, (n + 1) // 2):
        angle = 2 * np.pi * k * turns / n
        cos, sin = np.cos(angle), np.sin(angle)
        turn = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
        flip = np.where(flips, -1.0, 1.0)
        irreps.append(turn * np.stack([np.ones(len(perms)), flip], -1)[:, None, :])  # R(theta) @ diag(1, +-1)
        kinds.append("real" if dihedral else "complex")
    return irreps, kinds


def _fixed_points(perms: np.ndarray) -> np.ndarray:
    return (perms == np.arange(perms.shape[1])).sum(axis=1)


def _parity(perms: np.ndarray) -> np.ndarray:
    """+1 for even permutations, -1 for odd ones (by counting inversions)."""
    inversions = (perms[:, :, None] > perms[:, None, :]) & np.triu(np.ones((perms.shape[1],) * 2, bool), 1)
    return np.where(inversions.sum(axis=(1, 2)) % 2 == 0, 1.0, -1.0)


def _frequency(character: np.ndarray, rotation: int, n: int) -> int:
    """k for a 2-D rotation irrep, from `chi(r) = 2 cos(2 pi k / n)`."""
    return int(round(np.arccos(np.clip(character[rotation] / 2, -1, 1)) * n / (2 * np.pi)))


def name_irreps(irreps: list[np.ndarray], kinds: list[str], perms: np.ndarray, family: str) -> list[tuple[int, str]]:
    """(position in `irreps`, name), ordered by dimension, then by name.

    All families: "trivial". Cyclic C_n and dihedral D_n (acting on the n-gon's corners):
    the 2-D irreps are "freq<k>" (the rotation r acts as a turn by 2 pi k / n); C_n with n
    even has "sign" (r -> -1); D_n has "reflection" (r -> 1, s -> -1) and, for even n,
    "rotation_sign" and "rotation_reflection_sign". Permutation groups: "sign", "standard"
    (chi = fixed points - 1), "standard_sign"; any other irrep "<d>d", with "_a", "_b", ...
    when a dimension repeats (ordered by their characters).
    """
    characters = [np.trace(r, axis1=1, axis2=2) for r in irreps]
    degree = perms.shape[1]
    rotation = int(np.flatnonzero((perms == (np.arange(degree) + 1) % degree).all(axis=1))[0]) \
        if family in ("cyclic", "dihedral") else None
    known = {"trivial": np.ones(len(perms))}
    standard = _fixed_points(perms) - 1.0
    if family == "symmetric":  # sign first: in S_2 the sign and "fixed points - 1" coincide, and it is the sign
        known.update(sign=_parity(perms), standard=standard, standard_sign=standard * _parity(perms))
    if family == "alternating":
        known["standard"] = standard
    names: dict[int, str] = {}
    for i, character in enumerate(characters):
        for name, values in known.items():
            if np.allclose(character, values, atol=1e-6):
                names[i] = name
                break
        if i in names or family not in ("cyclic", "dihedral"):
            continue
        if irreps[i].shape[-1] == 2:
            names[i] = f"freq{_frequency(character, rotation, degree)}"
        elif family == "cyclic":
            names[i] = "sign"
        else:  # the 1-D irreps of D_n besides the trivial one: signs of reflections and/or rotations
            flips_rotation = character[rotation] < 0
            reflection_value = character[_a_reflection(perms)]
            names[i] = {(False, True): "reflection", (True, False): "rotation_sign",
                        (True, True): "rotation_reflection_sign"}[(bool(flips_rotation), bool(reflection_value < 0))]
    rest = sorted((i for i in range(len(irreps)) if i not in names),
                  key=lambda i: (irreps[i].shape[-1], tuple(-np.round(characters[i], 6))))
    by_dim: dict[int, list[int]] = {}
    for i in rest:
        by_dim.setdefault(irreps[i].shape[-1], []).append(i)
    for d, members in by_dim.items():
        for j, i in enumerate(members):
            names[i] = f"{d}d" if len(members) == 1 else f"{d}d_{chr(ord('a') + j)}"
    return sorted(names.items(), key=lambda item: (irreps[item[0]].shape[-1], _rank(item[1]), item[1]))


def _a_reflection(perms: np.ndarray) -> int:
    """The reflection fixing corner 0 (i -> -i mod n)."""
    degree = perms.shape[1]
    return int(np.flatnonzero((perms == (-np.arange(degree)) % degree).all(axis=1))[0])


def _rank(name: str) -> int:
    """Familiar names first within a dimension; frequencies in numeric order."""
    order = ["trivial", "sign", "reflection", "rotation_sign", "rotation_reflection_sign", "standard", "standard_sign"]
    if name in order:
        return order.index(name)
    if name.startswith("freq"):
        return len(order) + int(name[4:])
    return 10**6
