# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""adql.py: exact outputs, messages and boundaries that a mutation run showed unpinned."""
import math

import astropy.units as u
import pytest

from astroquery_eso_ancillary import adql

FILES = {"product_id": "char", "archive_id": "char", "eso_category": "char",
         "extension": "char", "original_filename": "char", "access_estsize": "long"}
OBSCORE = {"dp_id": "char", "obs_collection": "char", "instrument_name": "char",
           "s_ra": "double", "target_name": "char"}


@pytest.mark.parametrize("value, text", [
    ("O'Brien", "'O''Brien'"), ("", "''"), ("''", "''''''"), ("a%_*", "'a%_*'"),
])
def test_quote(value, text):
    assert adql.quote(value) == text


def test_quote_refuses():
    with pytest.raises(TypeError, match=r"^Expected a string to quote, got int: 3$"):
        adql.quote(3)
    with pytest.raises(ValueError, match=r"^Control characters are not accepted in query "
                                         r"values: 'a\\x7f'$"):
        adql.quote("a\x7f")


@pytest.mark.parametrize("value, text", [
    (3, "3"), (-2, "-2"), (0.5, "0.5"), (1e-7, "1e-07"), (2.0, "2.0"),
])
def test_number(value, text):
    assert adql.number(value) == text


@pytest.mark.parametrize("value, error, message", [
    (True, TypeError, "Expected a number, got bool: True"),
    ("3", TypeError, "Expected a number, got str: '3'"),
    (b"3", TypeError, "Expected a number, got bytes: b'3'"),
    (None, TypeError, "Expected a number, got NoneType: None"),
    (math.inf, ValueError, "Expected a finite number, got inf"),
    (math.nan, ValueError, "Expected a finite number, got nan"),
])
def test_number_refuses(value, error, message):
    with pytest.raises(error) as info:
        adql.number(value)
    assert str(info.value) == message


def test_check_identifier():
    assert adql.check_identifier("a1_b") == "a1_b"
    assert adql.check_identifier("EXTENSION", FILES) == "extension"
    for bad in ("1a", "_a", "a-b", "a b", "", None, "a;"):
        with pytest.raises(ValueError) as info:
            adql.check_identifier(bad, what="order_by column")
        assert str(info.value) == (f"Invalid order_by column name {bad!r}: use letters, "
                                   "digits and '_', starting with a letter.")
    with pytest.raises(ValueError) as info:
        adql.check_identifier("extensoin", FILES)
    assert str(info.value) == ("Unknown column 'extensoin'. Did you mean: extension? Known: "
                               f"{', '.join(sorted(FILES))}.")
    with pytest.raises(ValueError) as info:
        adql.check_identifier("zzz", ["b", "a"])
    assert str(info.value) == "Unknown column 'zzz'. Known: a, b."


def test_chunked():
    assert adql.chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert adql.chunked([1, 2], 1) == [[1], [2]]
    assert adql.chunked([1, 2], 5) == [[1, 2]]
    assert adql.chunked([], 3) == []
    for size in (0, -1):
        with pytest.raises(ValueError) as info:
            adql.chunked([1], size)
        assert str(info.value) == f"The chunk size must be at least 1, got {size}."


def test_in_condition():
    assert adql.in_condition("c", ["a"]) == "c = 'a'"
    assert adql.in_condition("c", iter(["a", "b'"])) == "c IN ('a', 'b''')"


@pytest.mark.parametrize("top", [1, 5, 10**6])
def test_check_top_accepts(top):
    assert adql.check_top(top) == top


def test_check_top_refuses():
    assert adql.check_top(None) is None
    for bad in (True, 1.0, "3"):
        with pytest.raises(TypeError) as info:
            adql.check_top(bad)
        assert str(info.value) == f"top must be a positive int, got {bad!r}."


def test_patterns_and_their_like():
    ps = adql.compile_patterns(["A*", "B?", "C%", "D_", "E"], what="x")
    assert ps.condition("c") == "(c IN ('C%', 'D_', 'E') OR c LIKE 'A%' OR c LIKE 'B_')"
    assert [p.like for p in ps.patterns] == ["A%", "B_", "C_", "D_", "E"]
    assert [p.is_wildcard for p in ps.patterns] == [True, True, False, False, False]
    assert ps.needs_refinement is False  # the wildcards have no literal '_' or '%'
    assert adql.compile_patterns("D_*", what="x").needs_refinement is True
    assert adql.compile_patterns("D%?", what="x").needs_refinement is True
    assert adql.compile_patterns("D_", what="x").needs_refinement is False  # exact
    assert adql.compile_patterns(["*", "D_*"], what="x").needs_refinement is False
    assert adql.compile_patterns(["**", "x"], what="x").condition("c") is None
    assert adql.compile_patterns("x", what="x").condition("c") == "c = 'x'"
    assert adql.compile_patterns(["a", "b", "a"], what="x").condition("c") == \
        "c IN ('a', 'b')"
    assert adql.compile_patterns("a*", what="x").condition("c") == "c LIKE 'a%'"
    assert repr(adql.compile_patterns(["a", "b"], what="things")) == \
        "<PatternSet things: ['a', 'b']>"


def test_pattern_match_is_exact():
    ps = adql.compile_patterns(["A_?.fits", "x*y"], what="x")
    assert ps.match("A_1.fits") and ps.match("xy") and ps.match("x\nzy")
    assert not ps.match("AB1.fits")  # '_' is literal on the client
    assert not ps.match("A_1.fitsX") and not ps.match("A_1Xfits")
    assert not ps.match(None) and not ps.match(3)
    assert not adql.compile_patterns("a.c", what="x").match("abc")


def test_compile_patterns_options():
    assert adql.compile_patterns(" a , b*", what="x", split_commas=True).condition("c") == \
        "(c = 'a' OR c LIKE 'b%')"
    assert adql.compile_patterns("a,b", what="x").condition("c") == "c = 'a,b'"
    assert adql.compile_patterns(" a ", what="x").condition("c") == "c = ' a '"
    assert adql.compile_patterns("ancillary.*", what="categories",
                                 category=True).condition("c") == "c LIKE 'ANCILLARY.%'"
    assert adql.compile_patterns(("MUSE", "195.B-0283 x/+"), what="n",
                                 names=True).condition("c") == "c IN ('MUSE', '195.B-0283 x/+')"


@pytest.mark.parametrize("value, kwargs, error, message", [
    (None, {}, TypeError, "x must be a str or a list of str, got None."),
    (5, {}, TypeError, "x must be a str or a list of str, got 5."),
    ({"a": 1}, {}, TypeError, "x must be a str or a list of str, got {'a': 1}."),
    (b"a", {}, TypeError, "x must be a str or a list of str, got b'a'."),
    (["a", 3], {}, TypeError, "x must contain strings, got 3."),
    ([], {}, ValueError, "x is empty."),
    ("", {}, ValueError, "Empty value in x: ''."),
    ("a,,b", {"split_commas": True}, ValueError, "Empty value in x: 'a,,b'."),
    ("a\tb", {}, ValueError, "Control characters are not accepted in x: 'a\\tb'."),
    ("a'b", {"names": True}, ValueError,
     "Invalid name in x: \"a'b\". Use letters, digits, '_', '.', '+', '-', '/', spaces and "
     "the wildcards '*', '?'."),
    ("anc-x", {"category": True}, ValueError,
     "Invalid category in x: 'ANC-X'. Categories are dot-separated tokens of letters, "
     "digits and '_' (e.g. 'ANCILLARY.PREVIEW'), with the wildcards '*' and '?'."),
])
def test_compile_patterns_refuses(value, kwargs, error, message):
    with pytest.raises(error) as info:
        adql.compile_patterns(value, what="x", **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("datatype, kind", [
    ("adql:VARCHAR", "string"), ("char", "string"), ("unicodeChar", "string"),
    ("CLOB", "string"), ("string", "string"), ("text", "string"),
    ("adql:DOUBLE", "number"), ("int", "number"), ("long", "number"), ("bigint", "number"),
    ("smallint", "number"), ("float", "number"), ("real", "number"), ("short", "number"),
    ("integer", "number"), ("unsignedByte", "number"), ("double precision", "number"),
    ("numeric", "number"), ("decimal", "number"), (" double ", "number"),
    ("timestamp", None), ("", None), (None, None), ("adql:POINT", None),
])
def test_column_kind(datatype, kind):
    assert adql.column_kind(datatype) == kind


@pytest.mark.parametrize("spec, kind, text", [
    ("< 3", "number", "c < 3"), ("<= 3", None, "c <= 3"), (">3", None, "c > 3"),
    (">= 2.5", None, "c >= 2.5"), ("= x", None, "c = 'x'"), ("!= x", None, "c <> 'x'"),
    ("<> x", None, "c <> 'x'"), ("= '3'", "number", "c = 3"), ("= 3", None, "c = 3"),
    ("= 3", "string", "c = '3'"), ("= '3'", None, "c = '3'"),
    ("like 'X%'", None, "c LIKE 'X%'"), ("LIKE 3", None, "c LIKE '3'"),
    ("not   like 'X%'", None, "c NOT LIKE 'X%'"),
    ("in ('A', 'B')", None, "c IN ('A', 'B')"), ("in (1,2)", "number", "c IN (1, 2)"),
    ("not in ('A')", None, "c NOT IN ('A')"),
    ("between 1 and 2", None, "c BETWEEN 1 AND 2"),
    ("not between 1 AND 2", "number", "c NOT BETWEEN 1 AND 2"),
    ("is null", None, "c IS NULL"), ("IS NOT NULL", None, "c IS NOT NULL"),
    (None, None, "c IS NULL"), (3, None, "c = 3"), (2.5, "number", "c = 2.5"),
    (["a", 1], None, "c IN ('a', 1)"), (("a",), None, "c IN ('a')"),
    ("x' OR '1'='1", None, "c = 'x'' OR ''1''=''1'"), ("'a b'", None, "c = 'a b'"),
    ("'a' 'b'", None, "c = '''a'' ''b'''"), ("  plain  ", None, "c = 'plain'"),
    ("inside", None, "c = 'inside'"), ("likely", None, "c = 'likely'"),
    ("between", None, "c = 'between'"), ("is nullish", None, "c = 'is nullish'"),
])
def test_parse_filter_renders(spec, kind, text):
    assert adql.parse_filter("c", spec).render("c", kind) == text


ACCEPTED = " (accepted: str, numbers, astropy Time, datetime, date, Quantity)"


@pytest.mark.parametrize("spec, why", [
    ("", "empty filter"), ("   ", "empty filter"), ([], "the list is empty"),
    ([True], "unsupported value True" + ACCEPTED),
    ([None], "unsupported value None" + ACCEPTED),
    (b"x", "unsupported value b'x'" + ACCEPTED),
    ("= 'a", "cannot read \" 'a\" (unbalanced quote?)"),
    ("= a b", "'=' takes exactly one value (quote values containing spaces)"),
    ("<", "'<' takes exactly one value (quote values containing spaces)"),
    ("like 'a' 'b'", "LIKE takes one pattern, e.g. \"like 'X%'\""),
    ("like (", "LIKE takes one pattern, e.g. \"like 'X%'\""),
    ("in ('a'", "IN takes a parenthesised list, e.g. \"in ('A', 'B')\""),
    ("in 'a')", "IN takes a parenthesised list, e.g. \"in ('A', 'B')\""),
    ("in ('a',, 'b')", "IN takes a parenthesised list, e.g. \"in ('A', 'B')\""),
    ("between 1", "BETWEEN takes two values, e.g. 'between 1 and 2'"),
    ("between 1 or 2", "BETWEEN takes two values, e.g. 'between 1 and 2'"),
    ("between 1 'and' 2", "BETWEEN takes two values, e.g. 'between 1 and 2'"),
    ("between 1 and 2 and 3", "BETWEEN takes two values, e.g. 'between 1 and 2'"),
    ("= a\x00", "control characters are not accepted"),
    (["a\n"], "control characters are not accepted"),
])
def test_parse_filter_refuses(spec, why):
    with pytest.raises(ValueError) as info:
        adql.parse_filter("c", spec)
    assert str(info.value) == (f"column_filters['c'] = {spec!r}: {why}. Accepted forms: "
                               f"{adql._FILTER_FORMS}.")


def test_a_bare_like_is_a_value_and_numbers_on_numeric_columns():
    # 'like' alone has no operand: it is the value itself (as astroquery reads it).
    assert adql.parse_filter("c", "likes").render("c") == "c = 'likes'"
    assert adql.parse_filter("c", "like").render("c") == "c = 'like'"
    with pytest.raises(ValueError) as info:
        adql.parse_filter("c", "= x").render("c", "number")
    assert str(info.value) == "column_filters['c']: column c is numeric; 'x' is not a number."


def test_split_names():
    assert adql.split_names(" a, b ") == ["a", "b"]
    assert adql.split_names(("a", "b")) == ["a", "b"]
    with pytest.raises(TypeError) as info:
        adql.split_names(3, what="cols")
    assert str(info.value) == "cols must be a str or a list of str, got 3."
    for bad in ("a,,b", [], ["a", ""], ["a", 3], ""):
        with pytest.raises(ValueError) as info:
            adql.split_names(bad)
        assert str(info.value) == ("columns must name at least one column, without empty "
                                   f"names: {bad!r}.")


def test_resolve_column():
    assert adql.resolve_column("Archive_ID", FILES) == ("f.archive_id", "archive_id", False)
    assert adql.resolve_column("access_estsize", {"size_kb": "long"}, size_column="size_kb") \
        == ("f.size_kb", "size_kb", False)
    assert adql.resolve_column("TARGET_NAME", FILES, OBSCORE) == \
        ("o.target_name", "target_name", True)
    with pytest.raises(ValueError, match=r"^Unknown order_by column 'target_name'\. "):
        adql.resolve_column("target_name", FILES, what="order_by column")
    with pytest.raises(ValueError, match=r"^Unknown column 'zz'\. Known: .*target_name"):
        adql.resolve_column("zz", FILES, OBSCORE)


def test_filter_conditions():
    assert adql.filter_conditions(None, FILES, alias="f", argument="a") == []
    assert adql.filter_conditions({"EXTENSION": "fits", "access_estsize": "< 3"}, FILES,
                                  alias="f", argument="a") == \
        ["f.extension = 'fits'", "f.access_estsize < 3"]
    assert adql.filter_conditions({"access_estsize": "> 1"}, {"size_kb": "long"}, alias="f",
                                  argument="a", size_column="size_kb") == ["f.size_kb > 1"]
    with pytest.raises(TypeError) as info:
        adql.filter_conditions([("a", 1)], FILES, alias="f", argument="column_filters")
    assert str(info.value) == ("column_filters must be a dict of column -> condition, got "
                               "[('a', 1)].")
    with pytest.raises(ValueError) as info:
        adql.filter_conditions({"S_RA": 1}, FILES, alias="f", argument="column_filters",
                               other=OBSCORE, other_argument="obscore_filters")
    assert str(info.value) == ("column_filters: 'S_RA' is a column of the other table; put "
                               "it in obscore_filters.")
    with pytest.raises(ValueError, match=r"^Unknown column_filters column 'nope'"):
        adql.filter_conditions({"nope": 1}, FILES, alias="f", argument="column_filters",
                               other=OBSCORE, other_argument="obscore_filters")
    with pytest.raises(ValueError, match="is numeric"):
        adql.filter_conditions({"access_estsize": "abc"}, FILES, alias="f", argument="a")


@pytest.mark.parametrize("ra, dec, radius", [
    (0, -90, 1e-9), (360, 90, 180), (10, -20.5, 0.1), (0 * u.deg, 0 * u.deg, 1 * u.arcmin),
])
def test_cone_condition_accepts_the_bounds(ra, dec, radius):
    text = adql.cone_condition(ra, dec, radius, region="o.s_region")
    assert text.startswith("INTERSECTS(o.s_region, CIRCLE('ICRS', ")
    assert text.endswith(")) = 1")


def test_cone_condition_text():
    assert adql.cone_condition(10, -20.5, 1 * u.arcmin) == \
        f"INTERSECTS(s_region, CIRCLE('ICRS', 10.0, -20.5, {1 / 60!r})) = 1"


@pytest.mark.parametrize("args, error, message", [
    ((None, 0, 1), ValueError, "cone_ra is missing: give cone_ra, cone_dec and cone_radius "
                               "together, or none of them."),
    ((0, None, 1), ValueError, "cone_dec is missing: give cone_ra, cone_dec and cone_radius "
                               "together, or none of them."),
    ((0, 0, None), ValueError, "cone_radius is missing: give cone_ra, cone_dec and "
                               "cone_radius together, or none of them."),
    ((-0.1, 0, 1), ValueError, "cone_ra must be within [0, 360] degrees, got -0.1."),
    ((360.5, 0, 1), ValueError, "cone_ra must be within [0, 360] degrees, got 360.5."),
    ((0, -90.5, 1), ValueError, "cone_dec must be within [-90, 90] degrees, got -90.5."),
    ((0, 91, 1), ValueError, "cone_dec must be within [-90, 90] degrees, got 91.0."),
    ((0, 0, 0), ValueError, "cone_radius must be within (0, 180] degrees, got 0.0."),
    ((0, 0, 181), ValueError, "cone_radius must be within (0, 180] degrees, got 181.0."),
    ((True, 0, 1), TypeError, "cone_ra must be a number of degrees or an angle, got True."),
    (("1", 0, 1), TypeError, "cone_ra must be a number of degrees or an angle, got '1'."),
    ((math.nan, 0, 1), ValueError, "cone_ra must be finite, got nan."),
    ((0, 0, 1 * u.m), ValueError, "cone_radius must be an angle, got <Quantity 1. m>."),
])
def test_cone_condition_refuses(args, error, message):
    with pytest.raises(error) as info:
        adql.cone_condition(*args)
    assert str(info.value) == message


def test_select():
    assert adql.select(["a", "b"], "t") == "SELECT a, b FROM t"
    assert adql.select(["a"], "t", ["", "x = 1", None, "y = 2"], top=3, order_by="a",
                       descending=False) == \
        "SELECT TOP 3 a FROM t WHERE x = 1 AND y = 2 ORDER BY a ASC"
    assert adql.select(["a"], "t", order_by="a") == "SELECT a FROM t ORDER BY a DESC"
    assert adql.select(["a"], "t", count=True, order_by="a") == "SELECT COUNT(*) FROM t"
    assert adql.select(["a", "b"], "t", group_by=["a", "b"]) == \
        "SELECT a, b FROM t GROUP BY a, b"
    with pytest.raises(ValueError, match=r"^top must be a positive int, got -3\.$"):
        adql.select(["a"], "t", top=-3)


def test_file_query_render():
    q = adql.FileQuery(("f.a",), ("f.b = 1",), join_obscore=True, top=2, order_by="f.a",
                       descending=False)
    assert q.source == ("phase3v2.product_files AS f JOIN ivoa.ObsCore AS o "
                        "ON o.dp_id = f.product_id")
    src = q.source
    assert q.render(["P1", "P2"]) == (f"SELECT TOP 2 f.a FROM {src} WHERE f.b = 1 AND "
                                      "f.product_id IN ('P1', 'P2') ORDER BY f.a ASC")
    assert q.render(count=True) == f"SELECT COUNT(*) FROM {src} WHERE f.b = 1"
    assert q.render(columns=["f.c"], top=False, order=False) == \
        f"SELECT f.c FROM {src} WHERE f.b = 1"
    assert adql.FileQuery(("f.a",)).render([]) == "SELECT f.a FROM phase3v2.product_files AS f"


def test_plan_file_query_columns_and_order():
    plan = adql.plan_file_query(FILES, OBSCORE, size_column="access_estsize",
                                columns="archive_id, target_name", order_by="s_ra",
                                original_filename="a_*", top=4, descending=False)
    assert plan.output == ("archive_id", "target_name")
    assert plan.order_name == "s_ra"
    assert plan.query.columns == ("f.archive_id", "o.target_name", "f.product_id",
                                  "f.original_filename", "o.s_ra")
    assert plan.query.join_obscore is True and plan.query.top == 4
    assert plan.query.order_by == "o.s_ra" and plan.query.descending is False
    assert [(sql, name) for sql, name, _ in plan.refinements] == \
        [("f.original_filename", "original_filename")]
    files = {"x": "char", **FILES, "size_kb": "long"}
    del files["access_estsize"]
    default = adql.plan_file_query(files, size_column="size_kb")
    assert default.output == ("product_id", "archive_id", "eso_category", "extension",
                              "original_filename", "size_kb", "x")
    assert default.query.join_obscore is False and default.query.where == ()


def test_plan_file_query_selections():
    plan = adql.plan_file_query(FILES, OBSCORE, categories="ancillary.*", extensions=["fits"],
                                collections="MUSE", instruments="MU?E",
                                column_filters={"archive_id": "x"},
                                obscore_filters={"target_name": "y"}, cone=(1, 2, 3))
    assert plan.query.where == (
        "f.eso_category LIKE 'ANCILLARY.%'", "f.extension = 'FITS'",
        "o.obs_collection = 'MUSE'", "o.instrument_name LIKE 'MU_E'", "f.archive_id = 'x'",
        "o.target_name = 'y'", "INTERSECTS(o.s_region, CIRCLE('ICRS', 1.0, 2.0, 3.0)) = 1")
    assert plan.query.join_obscore is True
    assert plan.refinements == ()
    for kwargs in ({"obscore_filters": {"target_name": "y"}}, {"cone": (1, 2, 3)},
                   {"instruments": "x"}, {"collections": "x"}):
        assert adql.plan_file_query(FILES, OBSCORE, **kwargs).query.join_obscore is True
        with pytest.raises(ValueError) as info:
            adql.plan_file_query(FILES, None, **kwargs)
        assert str(info.value) == ("This call selects by product ids only: collections, "
                                   "instruments, cones and obscore_filters belong to "
                                   "query_ancillary.")
    with pytest.raises(TypeError) as info:
        adql.plan_file_query(FILES, OBSCORE, order_by=["a"])
    assert str(info.value) == "order_by must be a column name, got ['a']."
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, instruments="a'b")
    assert str(info.value).startswith("Invalid name in instruments: \"a'b\".")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, collections="a;b")
    assert str(info.value).startswith("Invalid name in collections: 'a;b'.")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, obscore_filters={"archive_id": 1})
    assert str(info.value) == ("obscore_filters: 'archive_id' is a column of the other "
                               "table; put it in column_filters.")


def test_plan_category_query():
    plan = adql.plan_category_query(FILES, OBSCORE, size_column="access_estsize",
                                    instruments="MU_*")
    assert plan.output == ("eso_category", "n_files", "access_estsize")
    assert plan.query.columns == ("f.eso_category", "COUNT(*) AS n_files",
                                  "SUM(f.access_estsize) AS access_estsize",
                                  "o.instrument_name")
    assert plan.query.group_by == ("f.eso_category", "o.instrument_name")
    assert plan.query.where == ("f.eso_category LIKE 'ANCILLARY.%'",
                                "o.instrument_name LIKE 'MU_%'")
    assert plan.query.join_obscore is True
    assert [name for _, name, _ in plan.refinements] == ["instrument_name"]
    plain = adql.plan_category_query(FILES, OBSCORE)
    assert plain.query.columns == ("f.eso_category", "COUNT(*) AS n_files")
    assert plain.query.join_obscore is False
    assert adql.plan_category_query(FILES, OBSCORE, collections="X").query.join_obscore


class _Info:
    def __init__(self, datatype):
        self.datatype = datatype


def test_more_plan_details():
    assert adql.plan_file_query(FILES, OBSCORE, instruments="MUSE, FORS2").query.where == (
        "o.instrument_name IN ('MUSE', 'FORS2')",)
    assert adql.plan_file_query(FILES, OBSCORE, collections="A,B*").query.where == (
        "(o.obs_collection = 'A' OR o.obs_collection LIKE 'B%')",)
    # Column descriptions (objects with .datatype) give the column's kind too.
    assert adql.filter_conditions({"access_estsize": "= '3'"},
                                  {"access_estsize": _Info("long")}, alias="f",
                                  argument="a") == ["f.access_estsize = 3"]
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, order_by="nope")
    assert str(info.value).startswith("Unknown order_by column 'nope'.")
    assert adql.plan_file_query(FILES, columns="product_id").query.columns == (
        "f.product_id", "f.archive_id")
    plan = adql.plan_file_query(FILES, categories="ANCILLARY.A_*", extensions="F_*",
                                original_filename="x_*")
    assert [name for _, name, _ in plan.refinements] == ["eso_category", "extension",
                                                         "original_filename"]


@pytest.mark.parametrize("spec", ["in ('a", "between 'a", "like 'a", "not in ('a"])
def test_an_unbalanced_quote_after_a_word_operator_names_the_filter(spec):
    with pytest.raises(ValueError) as info:
        adql.parse_filter("c", spec)
    assert str(info.value).startswith(f"column_filters['c'] = {spec!r}: cannot read ")


def test_a_name_with_a_final_newline_is_no_identifier():
    with pytest.raises(ValueError) as info:
        adql.check_identifier("archive_id\n", FILES)
    assert str(info.value) == ("Invalid column name 'archive_id\\n': use letters, digits and "
                               "'_', starting with a letter.")


def test_column_filters_through_the_plan():
    files = {"product_id": "char", "archive_id": "char", "size_kb": "long"}
    plan = adql.plan_file_query(files, size_column="size_kb",
                                column_filters={"access_estsize": "> 1",
                                                "archive_id": "in ('A', 'B', 'C')"})
    assert plan.query.where == ("f.size_kb > 1", "f.archive_id IN ('A', 'B', 'C')")
    with pytest.raises(ValueError) as info:
        adql.plan_file_query(FILES, OBSCORE, column_filters={"nope": 1})
    assert str(info.value).startswith("Unknown column_filters column 'nope'.")
    assert adql.parse_filter("c", "not in (1, 2, 3, 4)").render("c", "number") == \
        "c NOT IN (1, 2, 3, 4)"
