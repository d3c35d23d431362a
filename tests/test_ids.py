# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""ESO ids: the product-id shape, tables and lists of ids, archive ids."""
import numpy as np
import pytest
from astropy.table import Column, Table

from astroquery_eso_ancillary.ids import (
    ID_SHAPE,
    as_product_ids,
    check_archive_id,
    check_product_id,
)

EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"
INJECTION = "x' OR '1'='1"


@pytest.mark.parametrize("good", [EX1, "ADP.2013-06-20T17:15:42.690", "MUSE.2024-03-07T08:09:46",
                                  "ADP.2016-06-01T14:07:30.1"])
def test_product_id_shape_accepts(good):
    assert check_product_id(good) == good


@pytest.mark.parametrize("bad", [INJECTION, "adp.2024-03-19T05:58:04.407", "ADP.2024-03-19",
                                 EX1 + "1", EX1 + "'", "ADP 2024-03-19T05:58:04.407", ""])
def test_product_id_shape_refuses_and_names_the_id(bad):
    with pytest.raises(ValueError) as info:
        check_product_id(bad)
    assert repr(bad) in str(info.value)
    assert ID_SHAPE in str(info.value)


def test_as_product_ids_forms_order_and_duplicates():
    given = [EX2, EX1, EX2]
    assert as_product_ids(given) == [EX2, EX1]
    assert as_product_ids(EX1) == [EX1]
    assert as_product_ids(Column(given)) == [EX2, EX1]
    assert as_product_ids(np.array(given)) == [EX2, EX1]
    assert as_product_ids(Table({"dp_id": given})) == [EX2, EX1]
    assert as_product_ids(Table({"product_id": given, "x": [1, 2, 3]})) == [EX2, EX1]
    assert as_product_ids([EX1.encode()]) == [EX1]


def test_as_product_ids_errors():
    with pytest.raises(ValueError, match="x' OR"):
        as_product_ids([EX1, INJECTION])
    with pytest.raises(ValueError, match="column named"):
        as_product_ids(Table({"name": [EX1]}))
    with pytest.raises(ValueError, match="empty"):
        as_product_ids([])
    with pytest.raises(ValueError):
        as_product_ids(None)
    with pytest.raises(TypeError):
        as_product_ids(42)
    with pytest.raises(ValueError, match="masked"):
        as_product_ids(Table({"dp_id": np.ma.MaskedArray([EX1, EX2],
                                                               mask=[False, True])}))
    many = [f"bad{i}" for i in range(8)]
    with pytest.raises(ValueError, match=r"\(8\).*\.\.\."):
        as_product_ids(many)


@pytest.mark.parametrize("good", ["ADP.2016-06-01T14:07:30.137", "MUSE.2024-03-07T08:09:46.977",
                                  "M.MUSE.2019-01-01T00:00:00.000", "a+b_c-d:e"])
def test_archive_id_accepts_file_ids(good):
    assert check_archive_id(" " + good + " ") == good


@pytest.mark.parametrize("bad", ["../etc/passwd", "ADP..1", "a/b", "a b", ".hidden", "", "a?b",
                                 "x" * 201])
def test_archive_id_refuses_what_cannot_go_into_a_url_path(bad):
    with pytest.raises(ValueError) as info:
        check_archive_id(bad)
    assert repr(bad) in str(info.value)
    assert "letters, digits and . : _ + -" in str(info.value)
