"""Groups: tables are groups, irreps are real orthogonal homomorphisms whose characters are
orthonormal (norm 2 for a realified complex pair) and whose matrix elements fill the group."""

import pytest
import torch

import bilinear_helpers as bh

GROUPS = ["C2", "C6", "C59", "D3", "D6", "D7", "S3", "S4", "S5", "A4", "A5"]


@pytest.fixture(scope="module", params=GROUPS)
def group(request):
    return bh.make_group(request.param)


def test_table_is_a_group(group):
    table, n = group.table, group.order
    elements = torch.arange(n)
    assert table.shape == (n, n) and table.dtype == torch.int64
    assert torch.equal(table[group.identity], elements) and torch.equal(table[:, group.identity], elements)
    assert torch.equal(table[elements, group.inverse], torch.full((n,), group.identity))
    assert torch.equal(table[group.inverse, elements], torch.full((n,), group.identity))
    left_first = table[table[:, :, None], elements[None, None, :]]  # [a, b, c] = (ab)c
    right_first = table[elements[:, None, None], table[None, :, :]]  # [a, b, c] = a(bc)
    assert torch.equal(left_first, right_first)
    for row in table:  # a Latin square: every product appears once in each row and column
        assert torch.equal(row.sort().values, elements)
    assert torch.equal(table.T.sort(dim=1).values, elements.expand(n, n))


def test_conjugacy_classes_partition_the_group(group):
    members = sorted(i for cls in group.conjugacy_classes for i in cls)
    assert members == list(range(group.order))
    for cls in group.conjugacy_classes:
        g = cls[0]
        conjugates = {int(group.table[group.table[h, g], group.inverse[h]]) for h in range(group.order)}
        assert conjugates == set(cls)


def test_irreps_are_orthogonal_homomorphisms(group):
    for name, rho in group.irreps.items():
        assert rho.dtype == torch.float64 and rho.shape[0] == group.order, name
        assert torch.allclose(rho[:, None] @ rho[None, :], rho[group.table], atol=1e-9), name
        eye = torch.eye(rho.shape[-1], dtype=rho.dtype).expand_as(rho)
        assert torch.allclose(rho @ rho.mT, eye, atol=1e-9), name
        assert torch.allclose(rho[group.identity], eye[0], atol=1e-9), name


def test_characters_orthonormal_and_irreps_fill_the_group(group):
    names = list(group.irreps)
    characters = torch.stack([group.characters[n] for n in names])
    norms = torch.tensor([1.0 if group.irrep_kinds[n] == "real" else 2.0 for n in names], dtype=torch.float64)
    assert torch.allclose(characters @ characters.T / group.order, torch.diag(norms), atol=1e-9)
    assert sum(group.span_dimension(n) for n in names) == group.order
    assert len(names) <= len(group.conjugacy_classes)
    for cls in group.conjugacy_classes:  # class functions
        assert torch.allclose(characters[:, cls], characters[:, cls[:1]].expand(-1, len(cls)), atol=1e-9)


@pytest.mark.parametrize(("spec", "dims"), [
    ("S4", {"trivial": 1, "sign": 1, "2d": 2, "standard": 3, "standard_sign": 3}),
    ("S5", {"trivial": 1, "sign": 1, "standard": 4, "standard_sign": 4, "5d_a": 5, "5d_b": 5, "6d": 6}),
    ("A4", {"trivial": 1, "2d": 2, "standard": 3}),
    ("A5", {"trivial": 1, "3d_a": 3, "3d_b": 3, "standard": 4, "5d": 5}),
    ("D6", {"trivial": 1, "reflection": 1, "rotation_sign": 1, "rotation_reflection_sign": 1, "freq1": 2, "freq2": 2}),
    ("C6", {"trivial": 1, "sign": 1, "freq1": 2, "freq2": 2}),
])
def test_irrep_names_and_dimensions(spec, dims):
    group = bh.make_group(spec)
    assert {n: group.dimension(n) for n in group.irreps} == dims
    assert list(group.irreps) == list(dims)


def test_cyclic_group_is_addition_mod_n_with_frequency_irreps():
    group = bh.cyclic_group(59)
    a, b = torch.meshgrid(torch.arange(59), torch.arange(59), indexing="ij")
    assert torch.equal(group.table, (a + b) % 59)
    assert list(group.irreps) == ["trivial"] + [f"freq{k}" for k in range(1, 30)]
    k = torch.arange(59, dtype=torch.float64)
    assert torch.allclose(group.characters["freq7"], 2 * torch.cos(2 * torch.pi * 7 * k / 59), atol=1e-9)
    assert group.irrep_kinds["freq7"] == "complex" and group.span_dimension("freq7") == 2


def test_standard_character_counts_fixed_points():
    group = bh.symmetric_group(4)
    fixed = torch.tensor([sum(int(p[i] == i) for i in range(4)) for p in group.elements], dtype=torch.float64)
    assert torch.allclose(group.characters["standard"], fixed - 1)


@pytest.mark.parametrize("spec", ["X5", "S", "C0", "S9", "D2", "C-3", "A2", 5])
def test_bad_group_names_and_sizes_are_refused(spec):
    with pytest.raises(ValueError, match="group|integer"):
        bh.make_group(spec)


def test_unknown_irrep_is_named():
    with pytest.raises(KeyError, match="S_4 has no irrep 'spin'.*standard"):
        bh.symmetric_group(4).dimension("spin")
