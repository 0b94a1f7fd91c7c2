"""The dataset catalogue: image datasets by key, group tables by name."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bilinear_helpers.catalog import (
    DATASETS,
    MAX_GROUP_ORDER,
    dataset_sizes,
    group_order,
    is_group_dataset,
    parse_group_name,
)
from bilinear_helpers.checks import ConfigError


def test_image_datasets_have_their_shapes_and_classes():
    assert set(DATASETS) == {"mnist", "fashion_mnist"}
    for spec in DATASETS.values():
        assert spec.image_shape == (1, 28, 28) and spec.d_input == 784 and len(spec.class_names) == 10
    assert DATASETS["fashion_mnist"].class_names[9] == "Ankle boot"


@pytest.mark.parametrize(("name", "parsed", "order"), [
    ("C59", ("cyclic", 59), 59), ("c_59", ("cyclic", 59), 59), ("D10", ("dihedral", 10), 20),
    ("S4", ("symmetric", 4), 24), ("A5", ("alternating", 5), 60), (" s_4 ", ("symmetric", 4), 24),
])
def test_group_names_parse_to_family_and_order(name, parsed, order):
    assert parse_group_name(name) == parsed
    assert group_order(name) == order
    assert dataset_sizes(name) == (2 * order, order)
    assert is_group_dataset(name)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "X5", "S", "C", "Sfour", ""])
def test_other_names_are_not_groups(name):
    assert parse_group_name(name) is None
    assert not is_group_dataset(name)


@pytest.mark.parametrize(("name", "message"), [
    ("S9", r"'S9': n of the symmetric group S<n> must be from 2 to 5, got 9"),
    ("D2", r"n of the dihedral group D<n> must be from 3 to 250, got 2"),
    ("C1", r"n of the cyclic group C<n> must be from 2 to 500, got 1"),
])
def test_groups_out_of_range_name_the_limits(name, message):
    with pytest.raises(ConfigError, match=message):
        parse_group_name(name)


def test_image_dataset_sizes():
    assert dataset_sizes("mnist") == (784, 10) and dataset_sizes("fashion_mnist") == (784, 10)


@pytest.mark.parametrize("name", ["C²", "C٣", "S①", "C5.0", "C-5", "C 5"])
def test_names_with_other_digits_are_not_groups(name):
    assert parse_group_name(name) is None


@pytest.mark.parametrize(("name", "gigabytes"), [("C997", "7.4"), ("C1000", "7.5"), ("S6", "2.8"), ("D251", "0.9")])
def test_groups_too_large_to_hold_are_refused_at_once_with_their_memory(name, gigabytes):
    with pytest.raises(ConfigError, match=f"its pairs would take {gigabytes} GB\\); groups are built up to order 500"):
        parse_group_name(name)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=8) | st.from_regex(r"[CDSAcdsa]_?[0-9]{1,5}", fullmatch=True))
def test_any_text_parses_to_a_buildable_group_none_or_a_config_error(name):
    try:
        parsed = parse_group_name(name)
    except ConfigError as exc:
        assert "must be from" in str(exc)
        return
    if parsed is not None:
        assert 2 <= group_order(name) <= MAX_GROUP_ORDER
