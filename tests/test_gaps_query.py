# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Query behaviours a mutation run showed unpinned, checked on the query the emulator parsed.

Quotes inside wildcard patterns, doubled quotes in filters, upper-cased extensions,
refused ``top`` and malformed ``IN`` lists (nothing sent), cell text.
"""
import tempfile
import warnings

import numpy as np
import pytest
from astropy.table import MaskedColumn, Table
from astroquery.exceptions import NoResultsWarning
from sqlglot import exp

from astroquery_eso_ancillary import Eso, conf, tables
from astroquery_eso_ancillary.emulator import ArchiveEmulator


@pytest.fixture(autouse=True)
def literal_values():
    # These tests are about how values are quoted, not about matching them to what the
    # archive holds (conf.match_archive_values would refuse made-up names first).
    with conf.set_temp("match_archive_values", False):
        yield


@pytest.fixture(scope="module")
def archive():
    with ArchiveEmulator(seed=5, products=20) as emu:
        eso = Eso(archive_url=emu.url)
        eso.cache_location = tempfile.mkdtemp(prefix="eso-gaps-")
        eso.ROW_LIMIT = -1
        product = max((p["dp_id"] for p in emu.archive.products),
                      key=lambda pid: len(emu.archive.files_of(pid)))
        eso.get_product_files(product)  # reads the schema: later calls send one query
        yield emu, eso, product


def sent(emu, call):
    """Run ``call``; return (its result, the parsed tree of the selection it sent).

    An empty selection by product id is followed by one look-up of which ids exist
    (to tell unknown ids from ids without such files); only the selection is returned.
    """
    before = len(emu.queries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        result = call()
    queries = emu.queries[before:]
    assert len(queries) in (1, 2), [q.adql for q in queries]
    if len(queries) == 2:
        assert queries[1].adql.startswith("SELECT f.product_id, f.archive_id FROM"), queries
    assert queries[0].status == "COMPLETED", (queries[0].adql, queries[0].error)
    return result, emu.engine.parse(queries[0].adql)


def predicates(tree, column):
    """{operator class name: [string literals]} of the WHERE predicates on ``column``."""
    found = {}
    for node in tree.find(exp.Where).this.flatten():
        if {c.name for c in node.find_all(exp.Column)} == {column}:
            found.setdefault(type(node).__name__, []).extend(
                lit.this for lit in node.find_all(exp.Literal) if lit.is_string)
    return found


@pytest.mark.parametrize("argument, column, value, literal", [
    ("extensions", "extension", "O'B*", "O'B%"),
    ("extensions", "extension", "*'", "%'"),
    ("original_filename", "original_filename", "O'B*", "O'B%"),
    ("original_filename", "original_filename", "'*'", "'%'"),
    ("original_filename", "original_filename", "O''B?", "O''B_"),
])
def test_a_quote_inside_a_wildcard_stays_a_literal(archive, argument, column, value, literal):
    emu, eso, product = archive
    result, tree = sent(emu, lambda: eso.query_ancillary(product, cache=False,
                                                         **{argument: value}))
    assert predicates(tree, column) == {"Like": [literal]}
    assert len(result) == 0  # no such file: the quote did not end the literal early


@pytest.mark.parametrize("spec, op, literal", [
    ("= 'O''Brien'", "EQ", "O'Brien"),
    ("'O''Brien'", "EQ", "O'Brien"),
    ("O'Brien", "EQ", "O'Brien"),
    ("O''Brien", "EQ", "O''Brien"),  # unquoted: taken as it is
    ("like 'O''B%'", "Like", "O'B%"),
    ("!= 'O''Brien'", "NEQ", "O'Brien"),
    ("in ('O''Brien', 'x')", "In", "O'Brien"),
])
def test_a_doubled_quote_in_a_filter_is_one_quote(archive, spec, op, literal):
    emu, eso, product = archive
    _, tree = sent(emu, lambda: eso.query_ancillary(
        product, cache=False, column_filters={"original_filename": spec}))
    found = predicates(tree, "original_filename")
    assert list(found) == [op], found
    assert found[op][0] == literal


def test_a_filter_on_a_real_name_with_a_quote_finds_it(archive):
    emu, eso, product = archive
    name = emu.archive.files_of(product)[0]["original_filename"]
    result, tree = sent(emu, lambda: eso.query_ancillary(
        product, cache=False, categories="*", column_filters={"original_filename": name}))
    assert predicates(tree, "original_filename") == {"EQ": [name]}
    assert list(result["original_filename"]) == [name]


def test_a_quote_in_a_category_is_refused_naming_it(archive):
    emu, eso, product = archive
    before = len(emu.queries)
    with pytest.raises(ValueError) as info:
        eso.query_ancillary(product, cache=False, categories="ANCILLARY.O'B*")
    assert str(info.value).startswith('Invalid category in categories: "ANCILLARY.O\'B*".')
    assert len(emu.queries) == before


@pytest.mark.parametrize("as_list", [True, False])
def test_extensions_are_upper_cased(archive, as_list):
    emu, eso, product = archive
    ancillary = [f for f in emu.archive.files_of(product)
                 if f["eso_category"].startswith("ANCILLARY.")]
    present = sorted({f["extension"] for f in ancillary})
    assert present and all(e == e.upper() for e in present)
    value = [e.lower() for e in present] + ["png"] if as_list else present[0].title()
    result, tree = sent(emu, lambda: eso.query_ancillary(product, cache=False,
                                                         extensions=value))
    found = predicates(tree, "extension")
    literals = sorted({lit for lits in found.values() for lit in lits})
    wanted = sorted({*present, "PNG"}) if as_list else [present[0]]
    assert literals == wanted
    expected = {f["archive_id"] for f in ancillary if f["extension"] in wanted}
    assert set(result["archive_id"]) == expected  # the upper case is what found them


@pytest.mark.parametrize("top", [-3, 0])
@pytest.mark.parametrize("count_only", [True, False])
def test_a_top_below_one_is_refused_before_any_query(archive, top, count_only):
    emu, eso, product = archive
    before = len(emu.queries)
    with pytest.raises(ValueError) as info:
        eso.query_ancillary(product, cache=False, top=top, count_only=count_only)
    assert str(info.value) == f"top must be a positive int, got {top}."
    assert len(emu.queries) == before


@pytest.mark.parametrize("spec", ["in ((,))", "in (,)", "in ()", "in ((1))", "in ('a',)",
                                  "in ('a' 'b')", "not in ((,))", "in (('a'))"])
def test_a_malformed_in_list_is_refused_before_any_query(archive, spec):
    emu, eso, product = archive
    before = len(emu.queries)
    with pytest.raises(ValueError) as info:
        eso.query_ancillary(product, cache=False, column_filters={"original_filename": spec})
    message = str(info.value)
    assert message.startswith(f"column_filters['original_filename'] = {spec!r}: ")
    assert "takes a parenthesised list" in message
    assert len(emu.queries) == before


def test_cell_text_of_empty_and_byte_cells():
    assert tables.text(None) == ""
    assert tables.text(np.ma.masked) == ""
    assert tables.text(b"ADP.1") == "ADP.1"
    assert tables.text(b"caf\xc3\xa9") == "café"
    assert tables.text("--") == ""
    assert tables.text(0) == "0"
    table = Table({"a": MaskedColumn(["x", "", "z"], mask=[False, True, False]),
                   "b": [b"ADP.1", b"", b"ADP.3"]})
    assert tables.texts(table, "a") == ["x", "", "z"]
    assert tables.texts(table, "b") == ["ADP.1", "", "ADP.3"]
    assert tables.cell(table[1], "a") == ""
    assert tables.cell(table[0], "b") == "ADP.1"
    assert tables.cell(table[0], "nope") == ""
