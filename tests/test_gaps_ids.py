# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""ids.py: the exact errors (which value, what is accepted) a mutation run showed unpinned."""
import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from astroquery_eso_ancillary.ids import (
    ID_SHAPE,
    as_product_ids,
    check_archive_id,
    check_product_id,
)

EX1 = "ADP.2024-03-19T05:58:04.407"
PRODUCT_HINT = f"expected an ESO id such as '{EX1}' (pattern {ID_SHAPE})."
ARCHIVE_HINT = ("expected an ESO id such as 'ADP.2016-06-01T14:07:30.137' (letters, digits "
                "and . : _ + -).")
LIST_HINT = f"Expected ESO ids such as '{EX1}' (pattern {ID_SHAPE})."


def message(call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("value", ["x", "", " ", "ADP..2024-03-19T05:58:04.407", EX1 + "'"])
def test_product_id_messages(value):
    assert message(lambda: check_product_id(value)) == (
        ValueError, f"Invalid product id {value!r}: {PRODUCT_HINT}")


@pytest.mark.parametrize("value", ["a/b", "..", "", "ADP..1"])
def test_archive_id_messages(value):
    assert message(lambda: check_archive_id(value)) == (
        ValueError, f"Invalid archive id {value!r}: {ARCHIVE_HINT}")


def test_bytes_are_read_as_ascii_with_replacement():
    assert check_archive_id(b"ADP.1") == "ADP.1"
    assert message(lambda: check_archive_id(b"ab\xff")) == (
        ValueError, f"Invalid archive id 'ab\ufffd': {ARCHIVE_HINT}")
    assert check_product_id(EX1.encode()) == EX1


@pytest.mark.parametrize("value, name", [(5, "int"), (None, "NoneType"), (1.5, "float")])
def test_a_non_string_id_is_a_type_error(value, name):
    assert message(lambda: check_product_id(value)) == (
        TypeError, f"A product id must be a string, got {name}: {value!r}")
    kind, text = message(lambda: check_archive_id(value))
    assert kind is TypeError
    assert text.endswith(f" archive id must be a string, got {name}: {value!r}")


def test_as_product_ids_messages():
    assert message(lambda: as_product_ids(None)) == (ValueError, "No product ids given.")
    assert message(lambda: as_product_ids([])) == (
        ValueError, "No product ids given (the list is empty).")
    assert message(lambda: as_product_ids(Table({"name": ["x"], "x": [1]}))) == (
        ValueError, "A table of products needs a column named one of product_id, dp_id, "
                    "DP.ID, ARCFILE; it has name, x.")
    for value, name in ((42, "int"), ({"a": 1}, "dict"), ({EX1: 1}, "dict")):
        assert message(lambda v=value: as_product_ids(v)) == (
            TypeError, "product ids must be a str, a list of str, a Column or a Table, "
                       f"not {name}.")
    masked = ValueError, "The product ids contain masked (missing) values."
    assert message(lambda: as_product_ids(MaskedColumn([EX1, EX1], mask=[False, True]))) \
        == masked
    assert message(lambda: as_product_ids(np.ma.MaskedArray([EX1, EX1],
                                                             mask=[True, False]))) == masked
    assert message(lambda: as_product_ids(Table(
        {"DP.ID": MaskedColumn([EX1], mask=[True])}))) == masked
    assert as_product_ids(MaskedColumn([EX1], mask=[False])) == [EX1]
    assert as_product_ids(Table({"DP.ID": [EX1]})) == [EX1]


@pytest.mark.parametrize("n, shown", [
    (1, "'b0'"), (4, "'b0', 'b1', 'b2', 'b3'"), (5, "'b0', 'b1', 'b2', 'b3', 'b4'"),
    (6, "'b0', 'b1', 'b2', 'b3', 'b4' ..."), (9, "'b0', 'b1', 'b2', 'b3', 'b4' ..."),
])
def test_bad_ids_in_a_list_are_counted_and_shown(n, shown):
    ids = [EX1] + [f"b{i}" for i in range(n)] + [3]
    assert message(lambda: as_product_ids(ids)) == (
        ValueError, f"Invalid product id(s) ({n + 1}): {shown}"
                    f"{', 3' if n < 5 else ''}{' ...' if n == 5 else ''}. {LIST_HINT}")


def test_a_mask_without_any_is_read_as_no_mask():
    class Listed(list):
        mask = False  # a plain flag, as some containers carry

    assert as_product_ids(Listed([EX1])) == [EX1]
