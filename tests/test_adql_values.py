# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""adql.py: filters given as Python values (Time, date, Quantity, lists, operator tuples),
the exact Filter each form parses to, and the plans' less travelled arguments."""
import datetime
import re
import time

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from astroquery_eso_ancillary import adql

FILES = {"product_id": "char", "archive_id": "char", "eso_category": "char",
         "extension": "char", "original_filename": "char", "access_estsize": "long"}
OBSCORE = {"dp_id": "char", "obs_collection": "char", "instrument_name": "char",
           "s_ra": "double", "target_name": "char", "t_min": "double",
           "obs_release_date": "char"}


def shape(f):
    """A Filter as plain values: column, operator, (text, quoted) literals, argument."""
    return f.column, f.op, tuple((lit.text, bool(lit.quoted)) for lit in f.literals), f.argument


def bad(label, spec, why):
    """The exact message of a refused filter."""
    return f"{label} = {spec!r}: {why}. Accepted forms: {adql._FILTER_FORMS}."


class Column:
    """A TAP_SCHEMA column as filter_conditions receives it (datatype and unit)."""

    def __init__(self, datatype, unit=""):
        self.datatype, self.unit = datatype, unit


# -- the Filter each form parses to ---------------------------------------------------------

@pytest.mark.parametrize("spec, op, literals", [
    (None, "IS NULL", ()),
    ("is null", "IS NULL", ()),
    ("IS  NOT   NULL", "IS NOT NULL", ()),
    (3, "=", (("3", False),)),
    (2.5, "=", (("2.5", False),)),
    ("like 'A%'", "LIKE", (("A%", True),)),
    ("not  between 1 and 2", "NOT BETWEEN", (("1", False), ("2", False))),
    ("in ('A', 7)", "IN", (("A", True), ("7", False))),
    ("<= 4", "<=", (("4", False),)),
    ("!= 'x'", "<>", (("x", True),)),
    ("'quoted'", "=", (("quoted", True),)),
    ("''", "=", (("", True),)),
    ("bare text", "=", (("bare text", True),)),
    ("42", "=", (("42", True),)),  # a bare value is a string, as in astroquery
    ("abc'", "=", (("abc'", True),)),
    ("'", "=", (("'", True),)),
    (["42", 42], "IN", (("42", True), ("42", False))),
    (("!=", "x"), "<>", (("x", True),)),
    ((" NOT   Between ", 1, 2), "NOT BETWEEN", (("1", False), ("2", False))),
    (("<", 5), "<", (("5", False),)),
    (["<", "a"], "IN", (("<", True), ("a", True))),  # a list is IN, whatever it holds
    (("x", "y"), "IN", (("x", True), ("y", True))),  # a tuple not opening with an operator
])
def test_each_form_parses_to_its_filter(spec, op, literals):
    parsed = adql.parse_filter("col", spec, argument="obscore_filters")
    assert shape(parsed) == ("col", op, literals, "obscore_filters")
    default = adql.parse_filter("col", spec)
    assert default.argument == "column_filters" and default.column == "col"


@pytest.mark.parametrize("spec, text", [
    ("42", "c = '42'"), ("''", "c = ''"), ("abc'", "c = 'abc'''"), ("'", "c = ''''"),
    (["42", 42], "c IN ('42', 42)"), (("between", 1, 2), "c BETWEEN 1 AND 2"),
    ((" NOT   Between ", 1.5, 2), "c NOT BETWEEN 1.5 AND 2"), (("!=", 3), "c <> 3"),
])
def test_python_values_render_as_their_type(spec, text):
    assert adql.parse_filter("c", spec).render("c") == text


def test_errors_raised_while_rendering_name_the_argument_and_column():
    # Each parse path keeps the column and argument for the render-time check of numbers.
    for spec in ("abc", "'abc'", "= abc", "in ('abc')", ["abc"], ("=", "abc"), "abc"):
        parsed = adql.parse_filter("s_ra", spec, argument="obscore_filters")
        with pytest.raises(ValueError) as info:
            parsed.render("o.s_ra", "number")
        assert str(info.value) == ("obscore_filters['s_ra']: column s_ra is numeric; "
                                   "'abc' is not a number."), spec
    with pytest.raises(ValueError, match=r"^column_filters\['x'\]: column x is numeric"):
        adql.parse_filter("x", "abc").render("f.x", "number")


@pytest.mark.parametrize("spec, why", [
    (("between", 1), "('between', ...) takes 2 value(s)"),
    (("<", 1, 2), "('<', ...) takes 1 value(s)"),
    (("not between", 1, 2, 3), "('not between', ...) takes 2 value(s)"),
    ([], "the list is empty"),
    ((), "the list is empty"),
    ([{1}], "unsupported value {1} (accepted: str, numbers, astropy Time, datetime, date, "
            "Quantity)"),
    ([True], "unsupported value True (accepted: str, numbers, astropy Time, datetime, date, "
             "Quantity)"),
    (["a\x00"], "control characters are not accepted"),
])
def test_python_filters_refused_with_the_exact_reason(spec, why):
    with pytest.raises(ValueError) as info:
        adql.parse_filter("s_ra", spec, argument="obscore_filters", kind="number", unit="deg")
    assert str(info.value) == bad("obscore_filters['s_ra']", spec, why)


def test_in_lists_need_commas_between_values():
    for spec in ("in ('A' 'B' 'C')", "in ('A', 'B' 'C')", "in ('A' , , 'B')"):
        with pytest.raises(ValueError, match="IN takes a parenthesised list"):
            adql.parse_filter("c", spec)
    assert adql.parse_filter("c", "in ('A','B','C')").render("c") == "c IN ('A', 'B', 'C')"


# -- times ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (Time("2017-01-01T00:00:00", scale="utc"), "'2017-01-01T00:00:00.000'"),
    (Time(57754.0, format="mjd", scale="tai"), "'2016-12-31T23:59:24.000'"),  # as UTC
    (datetime.datetime(2017, 1, 1, 1, 30), "'2017-01-01T01:30:00.000'"),
    (datetime.datetime(2017, 1, 1, 1, 30,
                       tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
     "'2017-01-01T00:30:00.000'"),
    (datetime.date(2017, 1, 1), "'2017-01-01'"),
])
def test_times_on_a_text_column_are_iso(value, text):
    parsed = adql.parse_filter("obs_release_date", ("<", value), kind="string")
    assert parsed.render("o.obs_release_date", "string") == f"o.obs_release_date < {text}"


@pytest.mark.parametrize("value, unit, mjd", [
    (Time("2017-01-01T00:00:00", scale="utc"), "d", "57754.0"),
    (Time("2017-01-01T12:00:00", scale="utc"), "d", "57754.5"),
    (Time("2017-01-01T00:00:00", scale="utc"), "h", "1386096.0"),  # the column's own unit
    (datetime.date(2017, 1, 1), "d", "57754.0"),
    (datetime.datetime(2017, 1, 1, 6), "d", "57754.25"),
])
def test_times_on_a_numeric_column_are_mjd_in_its_unit(value, unit, mjd):
    parsed = adql.parse_filter("t_min", (">=", value), kind="number", unit=unit,
                               argument="obscore_filters")
    assert parsed.render("o.t_min", "number") == f"o.t_min >= {mjd}"


@pytest.mark.parametrize("unit, why", [
    ("", "column t_min has no unit astropy knows (none in TAP_SCHEMA); give a plain number"),
    ("furlongs_per_fortnight", "column t_min has no unit astropy knows "
                               "(furlongs_per_fortnight in TAP_SCHEMA); give a plain number"),
    ("deg", "column t_min is in deg, not a time"),
])
def test_a_time_on_a_numeric_column_needs_a_time_unit(unit, why):
    spec = ("<", Time("2017-01-01"))
    with pytest.raises(ValueError) as info:
        adql.parse_filter("t_min", spec, kind="number", unit=unit, argument="obscore_filters")
    assert str(info.value) == bad("obscore_filters['t_min']", spec, why)


def test_time_arrays():
    times = Time(["2017-01-01", "2018-01-01"])
    parsed = adql.parse_filter("d", times, kind="string")
    assert parsed.render("d", "string") == \
        "d IN ('2017-01-01T00:00:00.000', '2018-01-01T00:00:00.000')"
    assert adql.parse_filter("d", Time("2017-01-01"), kind="string").render("d", "string") \
        == "d = '2017-01-01T00:00:00.000'"
    spec = ("<", times)
    with pytest.raises(ValueError) as info:
        adql.parse_filter("d", spec, kind="string")
    assert str(info.value) == bad("column_filters['d']", spec,
                                  "give one Time per value (a list for IN)")


# -- quantities -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, unit, text", [
    (30 * u.arcmin, "deg", "0.5"),
    (2 * u.deg, "deg", "2.0"),
    (0.33 * u.MB, "kbyte", "330.0"),
    (5 * u.dimensionless_unscaled, "", "5.0"),
    (np.float32(2.5) * u.deg, "deg", "2.5"),
])
def test_quantities_are_converted_to_the_column_unit(value, unit, text):
    parsed = adql.parse_filter("c", (">", value), kind="number", unit=unit)
    assert parsed.render("c", "number") == f"c > {text}"
    assert adql.parse_filter("c", value, kind=None, unit=unit).render("c") == f"c = {text}"


@pytest.mark.parametrize("value, kind, unit, why", [
    (3 * u.deg, "string", "", "column c holds text, not a quantity"),
    ([1, 2] * u.deg, "number", "deg", "give one Quantity per value (a list for IN)"),
    (3 * u.kg, "number", "deg", "column c is in deg; 3.0 kg cannot be converted to it"),
    (3 * u.deg, "number", "", "column c has no unit astropy knows (none in TAP_SCHEMA); "
                              "give a plain number"),
    (3 * u.deg, None, "wibble", "column c has no unit astropy knows (wibble in TAP_SCHEMA); "
                                "give a plain number"),
])
def test_quantities_refused_with_the_exact_reason(value, kind, unit, why):
    spec = ("=", value)
    with pytest.raises(ValueError) as info:
        adql.parse_filter("c", spec, kind=kind, unit=unit, argument="obscore_filters")
    assert str(info.value) == bad("obscore_filters['c']", spec, why)


# -- filter_conditions: units, kinds, the size column, the other table ---------------------

def test_filter_conditions_use_the_column_unit_and_kind():
    columns = {"s_ra": Column("double", "deg"), "t_min": Column("double", "d"),
               "name": Column("char")}
    out = adql.filter_conditions({"s_ra": (">", 30 * u.arcmin),
                                  "t_min": ("<", Time("2017-01-01T12:00:00")),
                                  "name": "42"}, columns, alias="o",
                                 argument="obscore_filters")
    assert out == ["o.s_ra > 0.5", "o.t_min < 57754.5", "o.name = '42'"]
    with pytest.raises(ValueError) as info:
        adql.filter_conditions({"s_ra": "abc"}, columns, alias="o", argument="obscore_filters")
    assert str(info.value) == ("obscore_filters['s_ra']: column s_ra is numeric; 'abc' is not "
                               "a number.")
    with pytest.raises(ValueError, match=r"obscore_filters\['name'\] = <Quantity 3\. deg>: "
                                         "column name holds text"):
        adql.filter_conditions({"name": 3 * u.deg}, columns, alias="o",
                               argument="obscore_filters")


def test_the_size_column_is_in_kilobytes_unless_the_schema_says_otherwise():
    plain = {"size_kb": Column("long"), "other": Column("long")}
    assert adql.filter_conditions({"access_estsize": (">", 2 * u.MB)}, plain, alias="f",
                                  argument="column_filters", size_column="size_kb") == \
        ["f.size_kb > 2000.0"]
    # Only the size column has a default unit.
    with pytest.raises(ValueError, match="column other has no unit astropy knows"):
        adql.filter_conditions({"other": (">", 2 * u.MB)}, plain, alias="f",
                               argument="column_filters", size_column="size_kb")
    with pytest.raises(ValueError, match="column other has no unit astropy knows"):
        adql.filter_conditions({"other": (">", 2 * u.MB)}, plain, alias="f",
                               argument="column_filters")
    in_bytes = {"size_kb": Column("long", "byte")}
    assert adql.filter_conditions({"size_kb": (">", 2 * u.kB)}, in_bytes, alias="f",
                                  argument="column_filters", size_column="size_kb") == \
        ["f.size_kb > 2000.0"]


def test_a_column_of_the_other_table_is_pointed_there_whatever_its_case():
    for key in ("s_ra", "S_RA"):
        with pytest.raises(ValueError) as info:
            adql.filter_conditions({key: "> 1"}, FILES, alias="f", argument="column_filters",
                                   other=OBSCORE, other_argument="obscore_filters")
        assert str(info.value) == (f"column_filters: {key!r} is a column of the other table; "
                                   "put it in obscore_filters.")
    # A column both tables have belongs to the one it was given for.
    both = {**FILES, "S_RA": "double"}
    assert adql.filter_conditions({"s_ra": "> 1"}, both, alias="f", argument="column_filters",
                                  other=OBSCORE, other_argument="obscore_filters") == \
        ["f.S_RA > 1"]


def test_plan_file_query_points_filters_to_the_right_argument():
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, column_filters={"target_name": "x"})
    assert str(info.value) == ("column_filters: 'target_name' is a column of the other "
                               "table; put it in obscore_filters.")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, obscore_filters={"extension": "x"})
    assert str(info.value) == ("obscore_filters: 'extension' is a column of the other "
                               "table; put it in column_filters.")


# -- plans ----------------------------------------------------------------------------------

SIZED = {"product_id": "char", "archive_id": "char", "eso_category": "char",
         "extension": "char", "size_kb": "long"}


def test_plan_file_query_reads_access_estsize_as_the_size_column():
    plan = adql.plan_file_query(SIZED, OBSCORE, size_column="size_kb",
                                columns=["archive_id", "access_estsize", "target_name"],
                                order_by="access_estsize")
    assert plan.query.columns[:3] == ("f.archive_id", "f.size_kb", "o.target_name")
    assert plan.output == ("archive_id", "size_kb", "target_name")
    assert plan.query.order_by == "f.size_kb" and plan.order_name == "size_kb"
    assert plan.query.join_obscore and plan.query.descending
    assert plan.query.render().endswith("ORDER BY f.size_kb DESC")
    ascending = adql.plan_file_query(SIZED, OBSCORE, order_by="archive_id", descending=0)
    assert ascending.query.descending is False
    assert ascending.query.render().endswith("ORDER BY f.archive_id ASC")
    assert adql.plan_file_query(SIZED, OBSCORE, order_by="archive_id").query.render() \
        .endswith("ORDER BY f.archive_id DESC")


def test_plan_file_query_joins_only_for_obscore_columns():
    plain = adql.plan_file_query(SIZED, OBSCORE, columns=["archive_id"])
    assert not plain.query.join_obscore and plain.query.order_by is None
    assert plain.order_name is None
    assert " JOIN " not in plain.query.render() and "ORDER BY" not in plain.query.render()
    by_obscore = adql.plan_file_query(SIZED, OBSCORE, columns=["archive_id"],
                                      order_by="s_ra")
    assert by_obscore.query.join_obscore and by_obscore.query.order_by == "o.s_ra"
    # A join the columns ask for stays when the ordering is on product_files.
    joined = adql.plan_file_query(SIZED, OBSCORE, columns=["target_name"],
                                  order_by="archive_id")
    assert joined.query.join_obscore


def test_plan_file_query_error_messages_name_the_argument():
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(SIZED, OBSCORE, extensions="p*\x01")
    assert str(info.value) == "Control characters are not accepted in extensions: 'P*\\x01'."
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(SIZED, OBSCORE, original_filename="a\x01")
    assert str(info.value) == ("Control characters are not accepted in original_filename: "
                               "'a\\x01'.")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(SIZED, OBSCORE, columns=["nope"])
    assert str(info.value).startswith("Unknown column 'nope'.")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(SIZED, OBSCORE, columns=["1bad"])
    assert str(info.value).startswith("Invalid column name '1bad'")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(SIZED, OBSCORE, order_by="1bad")
    assert str(info.value).startswith("Invalid order_by column name '1bad'")


def test_extensions_are_upper_cased_in_lists_too():
    plan = adql.plan_file_query(SIZED, OBSCORE, extensions=["png", "Fits"])
    assert "f.extension IN ('PNG', 'FITS')" in plan.query.render()
    assert "f.extension = 'PNG'" in adql.plan_file_query(SIZED, OBSCORE,
                                                         extensions="png").query.render()
    with pytest.raises(TypeError, match="extensions must contain strings, got 5"):
        adql.plan_file_query(SIZED, OBSCORE, extensions=["png", 5])


def test_plan_category_query_with_a_cone_and_collections():
    plan = adql.plan_category_query(SIZED, OBSCORE, size_column="size_kb",
                                    collections="MUSE", cone=(10, -20, 0.5))
    assert plan.query.join_obscore
    assert plan.query.render() == (
        "SELECT f.eso_category, COUNT(*) AS n_files, SUM(f.size_kb) AS access_estsize "
        "FROM phase3v2.product_files AS f JOIN ivoa.ObsCore AS o ON o.dp_id = f.product_id "
        "WHERE f.eso_category LIKE 'ANCILLARY.%' AND o.obs_collection = 'MUSE' AND "
        "INTERSECTS(o.s_region, CIRCLE('ICRS', 10.0, -20.0, 0.5)) = 1 "
        "GROUP BY f.eso_category")
    assert adql.plan_category_query(SIZED, OBSCORE, cone=(1, 2, 3)).query.join_obscore
    with pytest.raises(ValueError, match=re.escape(
            "Unknown column 'size_kbx'. Did you mean: size_kb?")):
        adql.plan_category_query(SIZED, OBSCORE, size_column="size_kbx")
    with pytest.raises(ValueError, match="Invalid column name '1x'"):
        adql.plan_category_query(SIZED, OBSCORE, size_column="1x")


def test_the_unknown_column_hint_lists_up_to_five_close_names():
    # Seven names equally close: difflib gives the five it ranks first
    # (ties in reverse order of name).
    known = [f"column_{c}" for c in "abcdefg"]
    with pytest.raises(ValueError) as info:
        adql.check_identifier("column_x", known)
    assert str(info.value) == ("Unknown column 'column_x'. Did you mean: column_g, column_f, "
                               "column_e, column_d, column_c? Known: "
                               + ", ".join(known) + ".")


def test_select_distinct_and_order():
    assert adql.select(["a"], "t", distinct=True) == "SELECT DISTINCT a FROM t"
    assert adql.select(["a"], "t", distinct=True, top=2) == "SELECT DISTINCT TOP 2 a FROM t"
    assert adql.select(["a"], "t", order_by="a") == "SELECT a FROM t ORDER BY a DESC"
    assert adql.select(["a"], "t", order_by="a", descending=False) == \
        "SELECT a FROM t ORDER BY a ASC"
    query = adql.FileQuery(("f.a",), order_by="f.a", descending=False)
    assert query.render().endswith("ORDER BY f.a ASC")
    assert query.render(order=False).endswith("FROM phase3v2.product_files AS f")


# -- more exact edges ----------------------------------------------------------------------

def test_a_scaled_dimensionless_quantity_is_converted():
    parsed = adql.parse_filter("c", (">", 5 * u.percent), kind="number")
    assert parsed.render("c", "number") == "c > 0.05"


def test_naive_datetimes_are_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        naive = adql.parse_filter("d", ("<", datetime.datetime(2017, 1, 1, 1, 30)),
                                  kind="string")
        aware = adql.parse_filter("d", ("<", datetime.datetime(
            2017, 1, 1, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))),
            kind="string")
        rendered = naive.render("d", "string"), aware.render("d", "string")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert rendered == ("d < '2017-01-01T01:30:00.000'", "d < '2017-01-01T04:30:00.000'")


@pytest.mark.parametrize("value", [datetime.datetime(2017, 1, 1, 6), datetime.date(2017, 1, 1)])
def test_a_date_on_a_numeric_column_without_unit_names_the_filter(value):
    spec = ("<", value)
    with pytest.raises(ValueError) as info:
        adql.parse_filter("t_min", spec, kind="number", argument="obscore_filters")
    assert str(info.value) == bad("obscore_filters['t_min']", spec, "column t_min has no unit "
                                  "astropy knows (none in TAP_SCHEMA); give a plain number")


def test_the_default_unit_is_none_and_plain_datatypes_have_no_unit():
    with pytest.raises(ValueError, match=r"\(none in TAP_SCHEMA\)"):
        adql.parse_filter("c", 3 * u.deg, kind="number")
    with pytest.raises(ValueError, match=r"\(none in TAP_SCHEMA\)"):
        adql.filter_conditions({"s_ra": 3 * u.deg}, OBSCORE, alias="o",
                               argument="obscore_filters")


def test_a_quoted_value_with_a_stray_quote_inside_is_refused():
    spec = "'a'b'"
    with pytest.raises(ValueError) as info:
        adql.parse_filter("c", spec)
    assert str(info.value) == bad("column_filters['c']", spec,
                                  "cannot read \"'\" (unbalanced quote?)")
