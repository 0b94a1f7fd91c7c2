"""Groups as multiplication tables: every table is a group, conjugacy classes, names and sizes."""

import pytest
import torch

import bilinear_helpers as bh
from bilinear_helpers.groups.tables import alternating_group, cyclic_group, dihedral_group, symmetric_group

GROUPS = ["C2", "C6", "C59", "D3", "D6", "D7", "S3", "S4", "S5", "A4", "A5"]


@pytest.fixture(scope="module", params=GROUPS)
def group(request):
    return bh.make_group(request.param)


def test_table_is_a_group(group):
    table, n = group.table, group.order
    elements = torch.arange(n)
    assert table.shape == (n, n) and table.dtype == torch.int64 and group.identity == 0
    assert torch.equal(table[group.identity], elements) and torch.equal(table[:, group.identity], elements)
    assert torch.equal(table[elements, group.inverse], torch.full((n,), group.identity))
    assert torch.equal(table[group.inverse, elements], torch.full((n,), group.identity))
    left_first = table[table[:, :, None], elements[None, None, :]]  # [a, b, c] = (ab)c
    right_first = table[elements[:, None, None], table[None, :, :]]  # [a, b, c] = a(bc)
    assert torch.equal(left_first, right_first)
    for row in table:  # a Latin square: every product appears once in each row and column
        assert torch.equal(row.sort().values, elements)
    assert torch.equal(table.T.sort(dim=1).values, elements.expand(n, n))


def test_products_compose_the_permutations(group):
    """`table[a, b]` is ab = "apply b, then a" on the permutations themselves."""
    for a in range(0, group.order, max(1, group.order // 7)):
        for b in range(0, group.order, max(1, group.order // 5)):
            pa, pb = group.elements[a], group.elements[b]
            assert group.elements[int(group.table[a, b])] == tuple(pa[pb[i]] for i in range(len(pa)))


def test_conjugacy_classes_partition_the_group(group):
    members = sorted(i for cls in group.conjugacy_classes for i in cls)
    assert members == list(range(group.order))
    for cls in group.conjugacy_classes:
        g = cls[0]
        conjugates = {int(group.table[group.table[h, g], group.inverse[h]]) for h in range(group.order)}
        assert conjugates == set(cls)


@pytest.mark.parametrize(("spec", "order", "name"), [("C59", 59, "C_59"), ("c_7", 7, "C_7"), ("D10", 20, "D_10"),
                                                     ("S4", 24, "S_4"), ("A5", 60, "A_5")])
def test_names_give_the_group_of_that_order(spec, order, name):
    group = bh.make_group(spec)
    assert group.order == order and group.name == name and f"Group({name}, order {order}" in repr(group)


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
    group = cyclic_group(59)
    a, b = torch.meshgrid(torch.arange(59), torch.arange(59), indexing="ij")
    assert torch.equal(group.table, (a + b) % 59)
    assert list(group.irreps) == ["trivial"] + [f"freq{k}" for k in range(1, 30)]
    k = torch.arange(59, dtype=torch.float64)
    assert torch.allclose(group.characters["freq7"], 2 * torch.cos(2 * torch.pi * 7 * k / 59), atol=1e-9)
    assert group.irrep_kinds["freq7"] == "complex" and group.span_dimension("freq7") == 2
    assert group.irrep_kinds["trivial"] == "real" and group.span_dimension("trivial") == 1


def test_standard_character_counts_fixed_points():
    group = symmetric_group(4)
    fixed = torch.tensor([sum(int(p[i] == i) for i in range(4)) for p in group.elements], dtype=torch.float64)
    assert torch.allclose(group.characters["standard"], fixed - 1)


def test_matrix_elements_are_the_irreps_entries():
    group = dihedral_group(5)
    elements = group.matrix_elements("freq2")
    assert elements.shape == (10, 4)
    torch.testing.assert_close(elements[3], group.irreps["freq2"][3].flatten())


@pytest.mark.parametrize(("spec", "message"), [
    ("X5", "unknown group 'X5': write C<n>, D<n>, S<n> or A<n>"),
    ("S", "unknown group 'S'"),
    (5, "unknown group 5"),
    ("C0", "n of the cyclic group C<n> must be from 2 to 500, got 0"),
    ("S9", "n of the symmetric group S<n> must be from 2 to 5, got 9"),
    ("D2", "n of the dihedral group D<n> must be from 3 to 250, got 2"),
    ("A2", "n of the alternating group A<n> must be from 3 to 6, got 2"),
])
def test_bad_group_names_and_sizes_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        bh.make_group(spec)


@pytest.mark.parametrize(("build", "n", "message"), [
    (cyclic_group, 1, "the order of a cyclic group must be an integer from 2 to 500, got 1"),
    (dihedral_group, 2.0, r"n of a dihedral group D_n must be an integer from 3 to 250, got 2.0"),
    (symmetric_group, 7, "n of a symmetric group S_n must be an integer from 2 to 5, got 7"),
    (alternating_group, True, "n of an alternating group A_n must be an integer from 3 to 6, got True"),
])
def test_the_constructors_check_n(build, n, message):
    with pytest.raises(ValueError, match=message):
        build(n)


def test_unknown_irrep_is_named():
    group = symmetric_group(4)
    with pytest.raises(KeyError, match="S_4 has no irrep 'spin'.*standard"):
        group.dimension("spin")
    with pytest.raises(KeyError, match="S_4 has no irrep 'spin'"):
        group.matrix_elements("spin")
    assert group.check_irrep("sign") == "sign"
