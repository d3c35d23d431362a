# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: arbitrary strings as product ids, categories, collections,
instruments, extensions, file-name patterns, column filters, column names.

Each call either refuses the value with a ValueError/TypeError that has a
message, or runs exactly one query in which the value is nothing but the
intended literal. That is checked on the query the emulator received, parsed
by the emulator's own ADQL parser: with string literals masked, its shape is
the shape of the same call with a harmless placeholder, and its literals are
the placeholder's with the placeholder replaced by the value (as a pattern is
documented to map: ``*`` to ``%``, ``?`` and ``%`` to ``_``).
"""
import re
import tempfile
import warnings

import pytest
from astroquery.exceptions import NoResultsWarning
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from astroquery_eso_ancillary import Eso, conf
from astroquery_eso_ancillary.emulator import ArchiveEmulator

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

# Text that looks dangerous to a SQL parser, mixed with arbitrary unicode.
NASTY = st.sampled_from(["'", "''", '"', ";", "--", "/*", "*/", "%", "_", "*", "?", "\\",
                         " OR 1=1", ") OR (1=1", "'; DROP TABLE ivoa.ObsCore; --", "UNION",
                         "SELECT", "\x00", "\n", "\t", ",", "(", ")", "`", "[", "]",
                         "ANCILLARY.", "MUSE", " ", "ü", "\u202e", "\U0001f600"])
HOSTILE_TEXT = st.one_of(st.text(max_size=30),
                         st.lists(st.one_of(NASTY, st.text(max_size=4)), max_size=8)
                         .map("".join))
NAME_TEXT = st.lists(st.one_of(st.sampled_from(list("AZaz09_.+-/ *?'%;()")), NASTY),
                     min_size=1, max_size=10).map("".join)


@pytest.fixture(scope="module")
def archive():
    # Values as given, not matched to the archive's (tests/test_selecting.py checks that
    # matching): the question here is what a value becomes in the ADQL.
    with ArchiveEmulator(seed=3, products=40) as emu, \
            conf.set_temp("match_archive_values", False):
        eso = Eso(archive_url=emu.url)
        eso.cache_location = tempfile.mkdtemp(prefix="eso-hostile-")
        eso.ROW_LIMIT = -1
        product = max((p["dp_id"] for p in emu.archive.products),
                      key=lambda pid: len(emu.archive.files_of(pid)))
        eso.get_product_files(product)  # reads the schema once: later calls send one query
        yield emu, eso, product


EXISTENCE_CHECK = re.compile(r"SELECT f\.product_id, f\.archive_id FROM phase3v2\.product_files "
                             r"AS f WHERE f\.product_id (= '[^']*'|IN \([^)]*\))")


def literal_shape(emu, adql):
    """(the query with string literals masked, the string literals in order)."""
    tree = emu.engine.parse(adql)
    literals = [node.this for node in tree.find_all(exp.Literal) if node.is_string]
    masked = tree.transform(lambda node: exp.Literal.string("?")
                            if isinstance(node, exp.Literal) and node.is_string else node)
    return masked.sql(), literals


def run(emu, call):
    """Run ``call``; return (exception or None, ADQL of the one query it sent)."""
    before = len(emu.queries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoResultsWarning)
        try:
            result = call()
        except (ValueError, TypeError) as exc:
            assert len(emu.queries) == before, "a refused value must send nothing"
            assert str(exc).strip(), "an error without a message"
            event(f"refused ({type(exc).__name__})")
            return exc, None, None
    event("ran")
    # An empty result for product ids is followed by a look-up telling unknown ids
    # from ids without such files: its only condition is the product id.
    sent = [q for q in emu.queries[before:] if not EXISTENCE_CHECK.fullmatch(q.adql)]
    assert len(sent) == 1, [q.adql for q in sent]
    assert sent[0].status == "COMPLETED", (sent[0].adql, sent[0].error)
    return None, sent[0].adql, result


def like_of(text):
    """What a shell-style pattern is documented to become in ADQL."""
    return "".join("%" if c == "*" else "_" if c in "?%" else c for c in text)


def placeholder_for(text):
    """A harmless value of the same kind (exact, wildcard, wildcard refined on the client)."""
    if "*" not in text and "?" not in text:
        return "PLACEHOLDER", "PLACEHOLDER", text
    if "_" in text or "%" in text:
        return "PLACE_*", "PLACE_%", like_of(text)
    return "PLACE*", "PLACE%", like_of(text)


def matches(pattern, value):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def check_pattern_argument(archive, name, text, *, column, transform=str):
    emu, eso, product = archive
    # Every category, unless categories is the argument under test.
    kwargs = {"categories": "*", "cache": False}
    error, adql, result = run(emu, lambda: eso.query_ancillary(
        product, **{**kwargs, name: text}))
    if error is not None:
        assert name in str(error) or repr(text)[1:-1][:20] in str(error), str(error)
        return
    value = transform(text)
    assume(set(value) != {"*"})  # matches everything: no condition at all
    holder, holder_literal, expected = placeholder_for(value)
    _, base_adql, _ = run(emu, lambda: eso.query_ancillary(
        product, **{**kwargs, name: holder}))
    shape, literals = literal_shape(emu, adql)
    base_shape, base_literals = literal_shape(emu, base_adql)
    assert shape == base_shape, (adql, base_adql)
    assert literals == [expected if v == holder_literal else v for v in base_literals]
    for row in result:
        assert matches(value, str(row[column])), (value, row[column])


@SETTINGS
@given(text=HOSTILE_TEXT)
def test_categories(archive, text):
    check_pattern_argument(archive, "categories", text, column="eso_category")


@SETTINGS
@given(text=HOSTILE_TEXT)
def test_original_filename(archive, text):
    check_pattern_argument(archive, "original_filename", text, column="original_filename")


@SETTINGS
@given(text=HOSTILE_TEXT)
def test_extensions(archive, text):
    check_pattern_argument(archive, "extensions", text, column="extension",
                           transform=str.upper)


@SETTINGS
@given(text=st.one_of(NAME_TEXT, HOSTILE_TEXT))
def test_collections(archive, text):
    assume("," not in text)  # a comma separates several names
    _obscore(archive, "collections", text)


@SETTINGS
@given(text=st.one_of(NAME_TEXT, HOSTILE_TEXT))
def test_instruments(archive, text):
    assume("," not in text)
    _obscore(archive, "instruments", text)


def _obscore(archive, name, text):
    # Collections and instruments are ObsCore columns: rows do not carry them, so the
    # check is on the query alone.
    emu, eso, product = archive
    error, adql, _ = run(emu, lambda: eso.query_ancillary(product, cache=False,
                                                           **{name: text}))
    if error is not None:
        assert name in str(error), str(error)
        return
    value = text.strip()
    assume(set(value) != {"*"})
    holder, holder_literal, expected = placeholder_for(value)
    _, base_adql, _ = run(emu, lambda: eso.query_ancillary(product, cache=False,
                                                           **{name: holder}))
    shape, literals = literal_shape(emu, adql)
    base_shape, base_literals = literal_shape(emu, base_adql)
    assert shape == base_shape, (adql, base_adql)
    assert literals == [expected if v == holder_literal else v for v in base_literals]


@SETTINGS
@given(text=st.one_of(HOSTILE_TEXT, st.from_regex(
    r"\A\s?ADP\.20[0-2]\d-(0[1-9]|1[0-2])-[0-2]\dT[0-1]\d:[0-5]\d:[0-5]\d\.\d{3}\s?\Z")))
def test_product_ids(archive, text):
    emu, eso, _ = archive
    error, adql, _ = run(emu, lambda: eso.get_product_files(text, cache=False,
                                                             datalink=False))
    if error is not None:
        assert "product id" in str(error), str(error)
        return
    _, base_adql, _ = run(emu, lambda: eso.get_product_files(
        "ADP.2000-01-01T00:00:00.000", cache=False, datalink=False))
    shape, literals = literal_shape(emu, adql)
    base_shape, base_literals = literal_shape(emu, base_adql)
    assert shape == base_shape
    assert literals == [text.strip() if v == "ADP.2000-01-01T00:00:00.000" else v
                        for v in base_literals]


@SETTINGS
@given(ids=st.lists(HOSTILE_TEXT, min_size=1, max_size=4))
def test_lists_of_hostile_ids_are_refused_whole(archive, ids):
    emu, eso, product = archive
    error, _, _ = run(emu, lambda: eso.get_product_files([product, *ids], cache=False,
                                                         datalink=False))
    if error is None:  # then every id had the id shape
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*\.\S+", i.strip()) for i in ids)


def where_conjuncts(emu, adql):
    where = emu.engine.parse(adql).find(exp.Where)
    return [node.sql() for node in where.this.flatten()] if where else [], where


@SETTINGS
@given(column=st.sampled_from(["original_filename", "eso_category", "access_estsize",
                               "extension"]),
       spec=st.one_of(HOSTILE_TEXT, st.tuples(
           st.sampled_from(["<", ">=", "=", "!=", "like ", "not like ", "in ", "between ",
                            "not in ", "is ", ""]), HOSTILE_TEXT).map("".join)))
def test_column_filters(archive, column, spec):
    emu, eso, product = archive
    error, adql, _ = run(emu, lambda: eso.query_ancillary(
        product, cache=False, column_filters={column: spec}))
    if error is not None:
        return
    _, base_adql, _ = run(emu, lambda: eso.query_ancillary(product, cache=False))
    conjuncts, where = where_conjuncts(emu, adql)
    base, _ = where_conjuncts(emu, base_adql)
    extra = [c for c in conjuncts if c not in base]
    # One more predicate, on the filtered column only, made of literals only.
    assert len(extra) == 1 and len(conjuncts) == len(base) + 1, (adql, base_adql)
    node = next(n for n in where.this.flatten() if n.sql() == extra[0])
    assert {c.name for c in node.find_all(exp.Column)} == {column}
    assert not list(node.find_all(exp.Select, exp.Subquery, exp.Func))
    allowed = (exp.Column, exp.Literal, exp.Null, exp.Identifier, exp.Neg, exp.Tuple,
               exp.Paren, exp.Binary, exp.In, exp.Between, exp.Like, exp.Not, exp.Is)
    assert all(isinstance(n, allowed) for n in node.walk()), repr(node)


@SETTINGS
@given(name=st.one_of(HOSTILE_TEXT, st.sampled_from(["archive_id", "ARCHIVE_ID", "dp_id",
                                                      "target_name", "s_ra"])))
def test_column_names(archive, name):
    emu, eso, product = archive
    files = {c.lower() for c in emu.archive.files_of(product)[0]}
    obscore = {c.lower() for c in emu.archive.products[0]}
    for argument, call, known in (
            ("column_filters", lambda: eso.query_ancillary(
                product, cache=False, column_filters={name: "x"}), files),
            ("columns", lambda: eso.query_ancillary(product, cache=False, columns=[name]),
             files | obscore),
            ("order_by", lambda: eso.query_ancillary(product, cache=False, order_by=name),
             files | obscore | {""})):
        error, adql, _ = run(emu, call)
        if error is None:  # only a real column (by its name) may pass
            assert name.lower() in known, (argument, name)
            if name:
                assert re.search(rf"\b{name}\b", adql, re.IGNORECASE), (argument, adql)
