"""Real irreps read off the regular representation: orthogonal homomorphisms whose characters are
orthonormal (norm 2 for a realified complex pair) and whose matrix elements fill the group."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import bilinear_helpers as bh
from bilinear_helpers.groups.irreps import real_irreps

GROUPS = ["C2", "C7", "D4", "D5", "S3", "S4", "A4", "A5"]


@pytest.fixture(scope="module", params=GROUPS)
def group(request):
    return bh.make_group(request.param)


def test_irreps_are_orthogonal_homomorphisms(group):
    for name, rho in group.irreps.items():
        assert rho.dtype == torch.float64 and rho.shape[0] == group.order, name
        assert torch.allclose(rho[:, None] @ rho[None, :], rho[group.table], atol=1e-9), name  # rho(a) rho(b) = rho(ab)
        eye = torch.eye(rho.shape[-1], dtype=rho.dtype).expand_as(rho)
        assert torch.allclose(rho @ rho.mT, eye, atol=1e-9), name
        assert torch.allclose(rho[group.identity], eye[0], atol=1e-9), name


def test_characters_are_orthogonal_class_functions(group):
    names = list(group.irreps)
    characters = torch.stack([group.characters[n] for n in names])
    norms = torch.tensor([1.0 if group.irrep_kinds[n] == "real" else 2.0 for n in names], dtype=torch.float64)
    assert torch.allclose(characters @ characters.T / group.order, torch.diag(norms), atol=1e-9)
    assert len(names) <= len(group.conjugacy_classes)
    for cls in group.conjugacy_classes:
        assert torch.allclose(characters[:, cls], characters[:, cls[:1]].expand(-1, len(cls)), atol=1e-9)


def test_spans_sum_to_the_order(group):
    assert sum(group.span_dimension(n) for n in group.irreps) == group.order
    elements = torch.cat([group.matrix_elements(n) for n in group.irreps], dim=1)
    assert torch.linalg.matrix_rank(elements) == group.order  # together they span every function on G


def test_each_irrep_appears_once():
    group = bh.make_group("S4")
    characters = torch.stack(list(group.characters.values()))
    assert torch.unique(characters.round(decimals=6), dim=0).shape[0] == len(group.irreps)


@pytest.mark.parametrize("n", [5, 6])
def test_real_irreps_of_a_bare_table(n):
    """Addition mod n, with no permutations behind it: one trivial irrep, n even a sign, the rest rotations."""
    table = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    inverse = (-np.arange(n)) % n
    irreps, kinds = real_irreps(table, inverse, seed=3)
    dims = sorted(r.shape[-1] for r in irreps)
    assert dims == [1] * (2 - n % 2) + [2] * ((n - 1) // 2)
    assert sorted(kinds) == sorted(["real"] * (2 - n % 2) + ["complex"] * ((n - 1) // 2))
    for rho in irreps:
        np.testing.assert_allclose(np.einsum("aij,bjk->abik", rho, rho), rho[table], atol=1e-9)


def test_irreps_do_not_depend_on_the_seed_beyond_a_basis():
    table = bh.make_group("S3").table.numpy()
    inverse = bh.make_group("S3").inverse.numpy()
    characters = [sorted(np.round(np.trace(r, axis1=1, axis2=2), 6).tolist() for r in real_irreps(table, inverse,
                                                                                                      seed=s)[0])
                  for s in (0, 1)]
    assert characters[0] == characters[1]


@settings(max_examples=25, deadline=None)
@given(family=st.sampled_from("CD"), n=st.integers(3, 500))
def test_cyclic_and_dihedral_irreps_are_exact_for_every_order(family, n):
    n = n if family == "C" else max(3, n // 2)  # D<n> is built up to n = 250
    group = bh.make_group(f"{family}{n}")
    a, b = torch.randint(0, group.order, (2, 2000), generator=torch.Generator().manual_seed(n))  # pairs, sampled
    rho = torch.stack([r for r in group.irreps.values() if r.shape[-1] == 2] or [torch.eye(2)[None].double()])
    assert (rho[:, group.table[a, b]] - rho[:, a] @ rho[:, b]).abs().max() < 1e-9
    ones = torch.stack([r[:, 0, 0] for r in group.irreps.values() if r.shape[-1] == 1])
    assert torch.equal(ones[:, group.table[a, b]], ones[:, a] * ones[:, b])
    assert sum(group.span_dimension(name) for name in group.irreps) == group.order
    assert len(group.irreps) == (n // 2 + 1 if family == "C" else (n - 1) // 2 + (4 if n % 2 == 0 else 2))


def test_the_sign_of_s2_is_named_sign():
    assert list(bh.make_group("S2").irreps) == ["trivial", "sign"]
    assert list(bh.make_group("S3").irreps) == ["trivial", "sign", "standard"]
