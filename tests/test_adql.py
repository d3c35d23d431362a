"""Pure ADQL building: quoting, patterns, column_filters, cones, plans."""
import re

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Angle

from astroquery_eso_ancillary import adql

EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"
INJECTION = "x' OR '1'='1"

FILES = {"product_id": "char", "archive_id": "char", "eso_category": "char",
         "extension": "char", "original_filename": "char", "access_url": "char",
         "access_estsize": "long", "internal_file_id": "long"}
OBSCORE = {"dp_id": "char", "obs_collection": "char", "instrument_name": "char",
           "target_name": "char", "s_ra": "double", "s_region": "char",
           "obs_release_date": "char", "access_url": "char"}


def string_literals(query):
    """The string literals of an ADQL statement, unquoted."""
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", query)]


def outside_literals(query):
    return re.sub(r"'(?:[^']|'')*'", "''", query)


# -- quoting and ids ------------------------------------------------------------------

def test_quote_doubles_single_quotes():
    assert adql.quote(INJECTION) == "'x'' OR ''1''=''1'"
    assert string_literals(adql.quote(INJECTION)) == [INJECTION]
    with pytest.raises(ValueError, match="Control characters"):
        adql.quote("a\x00b")
    with pytest.raises(TypeError):
        adql.quote(3)


def test_number_rendering():
    assert adql.number(3) == "3"
    assert adql.number(np.int64(7)) == "7"
    assert adql.number(0.25) == "0.25"
    with pytest.raises(ValueError):
        adql.number(float("nan"))
    with pytest.raises(TypeError):
        adql.number(True)
    with pytest.raises(TypeError):
        adql.number("3")


def test_identifier_checks_and_hints():
    assert adql.check_identifier("EXTENSION", FILES) == "extension"
    with pytest.raises(ValueError, match="Did you mean: extension"):
        adql.check_identifier("extensoin", FILES)
    for bad in ("a b", "x;DROP", "1abc", "f.product_id", "`x`", '"x"'):
        with pytest.raises(ValueError, match="Invalid column name"):
            adql.check_identifier(bad)


def test_chunked_and_in_condition():
    assert adql.chunked(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        adql.chunked([1], 0)
    assert adql.in_condition("c", ["a"]) == "c = 'a'"
    assert adql.in_condition("c", ["a", INJECTION]) == "c IN ('a', 'x'' OR ''1''=''1')"


def test_check_top():
    assert adql.check_top(None) is None
    assert adql.check_top(np.int32(4)) == 4
    for bad in (0, -1):
        with pytest.raises(ValueError):
            adql.check_top(bad)
    for bad in (True, 2.5, "3"):
        with pytest.raises(TypeError):
            adql.check_top(bad)


# -- patterns -------------------------------------------------------------------------

def test_exact_values_use_equality_and_in():
    ps = adql.compile_patterns("ANCILLARY.MUSE.PIXTABLE_REDUCED", what="categories")
    assert ps.condition("c") == "c = 'ANCILLARY.MUSE.PIXTABLE_REDUCED'"
    assert not ps.needs_refinement
    ps = adql.compile_patterns(["A", "B", "A"], what="categories")
    assert ps.condition("c") == "c IN ('A', 'B')"


def test_wildcard_with_literal_underscore_needs_refinement():
    ps = adql.compile_patterns("ES_SFLA_*", what="original_filename")
    assert ps.condition("n") == "n LIKE 'ES_SFLA_%'"
    assert ps.needs_refinement
    assert ps.match("ES_SFLA_2174806_2018-09-03T09:11:43.369_HR_2x1_U3.fits")
    assert not ps.match("ES_SFLAB2174806_2018-09-03T09:11:43.369_HR_2x1_U3.fits")
    assert not ps.match("es_sfla_x")  # case-sensitive
    assert not ps.match(None)


def test_percent_is_literal_and_sent_as_one_char_wildcard():
    ps = adql.compile_patterns("50%_done*", what="original_filename")
    assert ps.condition("n") == "n LIKE '50__done%'"
    assert ps.needs_refinement
    assert ps.match("50%_done.txt")
    assert not ps.match("50x_done.txt")


def test_question_mark_and_exact_like():
    ps = adql.compile_patterns("ANCILLARY.?NR*", what="categories")
    assert ps.condition("c") == "c LIKE 'ANCILLARY._NR%'"
    assert not ps.needs_refinement
    assert ps.match("ANCILLARY.SNRMAP") and not ps.match("ANCILLARY.XXNRMAP")


def test_star_alone_means_no_condition():
    ps = adql.compile_patterns(["ANCILLARY.PREVIEW", "*"], what="categories")
    assert ps.condition("c") is None
    assert not ps.needs_refinement


def test_lists_mix_exact_and_wildcards_with_or():
    ps = adql.compile_patterns(["ANCILLARY.PREVIEW", "ANCILLARY.IMAGE*", "X_?"],
                               what="categories")
    assert ps.condition("c") == ("(c = 'ANCILLARY.PREVIEW' OR c LIKE 'ANCILLARY.IMAGE%' "
                                 "OR c LIKE 'X__')")
    assert ps.needs_refinement
    assert ps.match("ANCILLARY.PREVIEW") and ps.match("X_1") and not ps.match("XY1")


def test_regex_characters_are_literal():
    ps = adql.compile_patterns("a.b[c]+(d)*", what="original_filename")
    assert ps.match("a.b[c]+(d)xyz")
    assert not ps.match("aXb[c]+(d)")


def test_pattern_injection_stays_literal():
    ps = adql.compile_patterns(INJECTION, what="categories")
    assert string_literals(ps.condition("c")) == [INJECTION]
    assert outside_literals(ps.condition("c")) == "c = ''"


def test_pattern_argument_errors():
    with pytest.raises(ValueError, match="Empty"):
        adql.compile_patterns("", what="categories")
    with pytest.raises(TypeError):
        adql.compile_patterns(3, what="categories")
    with pytest.raises(TypeError):
        adql.compile_patterns(["A", 3], what="categories")
    with pytest.raises(ValueError, match="Invalid name in collections"):
        adql.compile_patterns(INJECTION, what="collections", names=True)
    assert adql.compile_patterns("MUSE, HARPS", what="collections", names=True,
                                 split_commas=True).condition("c") == "c IN ('MUSE', 'HARPS')"


# -- column_filters -------------------------------------------------------------------

@pytest.mark.parametrize("spec, kind, expected", [
    ("< 3", None, "c < 3"),
    (">= 2.5e3", "number", "c >= 2.5e3"),
    ("= x", None, "c = 'x'"),
    ("!= x", "string", "c <> 'x'"),
    ("<> 'a b'", None, "c <> 'a b'"),
    ("like 'X%'", "string", "c LIKE 'X%'"),
    ("NOT LIKE 'r.MUSE%'", None, "c NOT LIKE 'r.MUSE%'"),
    ("in ('A','B')", None, "c IN ('A', 'B')"),
    ("not in ( 1 , 2 )", "number", "c NOT IN (1, 2)"),
    ("between 1 and 2", None, "c BETWEEN 1 AND 2"),
    ("not between '2020-01-01' AND '2021-01-01'", None,
     "c NOT BETWEEN '2020-01-01' AND '2021-01-01'"),
    ("is null", None, "c IS NULL"),
    ("IS NOT NULL", None, "c IS NOT NULL"),
    ("ESPRESSO", None, "c = 'ESPRESSO'"),
    ("'ALMA'", None, "c = 'ALMA'"),
    ("John Doe", None, "c = 'John Doe'"),
    ("5", "number", "c = 5"),
    ("< 2024-01-01", None, "c < '2024-01-01'"),
    (5, None, "c = 5"),
    (2.5, None, "c = 2.5"),
    (["A", 1], None, "c IN ('A', 1)"),
    (None, None, "c IS NULL"),
    ("= 123", "string", "c = '123'"),
    ("india", None, "c = 'india'"),
])
def test_filter_forms(spec, kind, expected):
    assert adql.parse_filter("c", spec).render("c", kind) == expected


@pytest.mark.parametrize("spec", [INJECTION, "= x' OR '1'='1", "like 'a' OR 1=1 --'",
                                  "in ('a'') OR (''1''=''1')"])
def test_filter_injection_stays_literal(spec):
    try:
        rendered = adql.parse_filter("c", spec).render("c")
    except ValueError:
        return  # refused is fine too
    skeleton = outside_literals(rendered)
    assert " OR " not in skeleton and "--" not in skeleton
    assert skeleton.startswith("c ")


@pytest.mark.parametrize("spec", ["< ", "< 1 2", "in 'A'", "in ('A' 'B')", "in ()",
                                  "between 1", "between 1 or 2", "like 'a' 'b'",
                                  "= 'unterminated", [], True, {"a": 1}])
def test_filter_bad_syntax_names_filter_and_forms(spec):
    with pytest.raises(ValueError) as info:
        adql.parse_filter("extension", spec)
    assert "column_filters['extension']" in str(info.value)
    assert "Accepted forms" in str(info.value)


def test_filter_number_for_numeric_column():
    with pytest.raises(ValueError, match="is numeric"):
        adql.parse_filter("access_estsize", "> big").render("f.access_estsize", "number")


def test_filter_conditions_columns_checked():
    out = adql.filter_conditions({"Extension": "PNG", "access_estsize": "> 100"},
                                 {**FILES, "size_kb": "long"}, alias="f",
                                 argument="column_filters", size_column="size_kb")
    assert out == ["f.extension = 'PNG'", "f.size_kb > 100"]
    with pytest.raises(ValueError, match="Did you mean: extension"):
        adql.filter_conditions({"extention": "PNG"}, FILES, alias="f",
                               argument="column_filters")
    with pytest.raises(ValueError, match="obscore_filters"):
        adql.filter_conditions({"target_name": "X"}, FILES, alias="f",
                               argument="column_filters", other=OBSCORE,
                               other_argument="obscore_filters")
    with pytest.raises(ValueError, match="Invalid"):
        adql.filter_conditions({"a;b": "X"}, FILES, alias="f", argument="column_filters")
    with pytest.raises(TypeError):
        adql.filter_conditions(["extension"], FILES, alias="f", argument="column_filters")


def test_column_kind():
    assert adql.column_kind("char") == "string"
    assert adql.column_kind("adql:DOUBLE") == "number"
    assert adql.column_kind("timestamp") is None
    assert adql.column_kind("") is None


# -- cones ----------------------------------------------------------------------------

def test_cone_condition_and_quantities():
    assert adql.cone_condition(10, -20.5, 0.1) == (
        "INTERSECTS(s_region, CIRCLE('ICRS', 10.0, -20.5, 0.1)) = 1")
    q = adql.cone_condition(Angle(15, u.deg), -30 * u.deg, 6 * u.arcmin, region="o.s_region")
    assert q == "INTERSECTS(o.s_region, CIRCLE('ICRS', 15.0, -30.0, 0.1)) = 1"


@pytest.mark.parametrize("ra, dec, radius, error", [
    (400, 0, 1, ValueError), (10, 91, 1, ValueError), (10, 0, 0, ValueError),
    (10, 0, -1, ValueError), (10, 0, 200, ValueError), ("10", 0, 1, TypeError),
    (10, None, 1, ValueError), (10, 0, 1 * u.m, ValueError), (float("nan"), 0, 1, ValueError),
])
def test_cone_condition_refuses(ra, dec, radius, error):
    with pytest.raises(error):
        adql.cone_condition(ra, dec, radius)


# -- queries and plans ----------------------------------------------------------------

def test_select_shapes():
    q = adql.select(["a", "b"], "t", ["x = 1", None, "y = 2"], top=3, order_by="a",
                    descending=False)
    assert q == "SELECT TOP 3 a, b FROM t WHERE x = 1 AND y = 2 ORDER BY a ASC"
    assert adql.select(["a"], "t", count=True, order_by="a") == "SELECT COUNT(*) FROM t"
    assert adql.select(["a"], "t", group_by=["a"]) == "SELECT a FROM t GROUP BY a"


def test_never_non_adql_keywords():
    plan = adql.plan_file_query(FILES, OBSCORE, categories="ES_SFLA_*",
                                original_filename="50%*", collections="MUSE", top=5,
                                order_by="access_estsize")
    for query in (plan.query.render([EX1, EX2]), plan.query.render(count=True)):
        skeleton = outside_literals(query).upper()
        for word in ("ESCAPE", "LIMIT", "`", ";", "--"):
            assert word not in skeleton


def test_plan_default_columns_and_extras():
    files = {k: v for k, v in FILES.items() if k != "access_estsize"}
    files["size_kb"] = "long"
    plan = adql.plan_file_query(files, size_column="size_kb")
    assert plan.output[:6] == ("product_id", "archive_id", "eso_category", "extension",
                               "original_filename", "size_kb")
    assert plan.query.join_obscore is False
    plan = adql.plan_file_query(FILES, OBSCORE, columns="archive_id, target_name",
                                original_filename="ES_SFLA_*", order_by="s_ra")
    assert plan.output == ("archive_id", "target_name")
    assert plan.query.columns[:2] == ("f.archive_id", "o.target_name")
    assert set(plan.query.columns[2:]) == {"f.product_id", "f.original_filename", "o.s_ra"}
    assert plan.query.join_obscore
    assert plan.order_name == "s_ra"
    assert "JOIN ivoa.ObsCore AS o ON o.dp_id = f.product_id" in plan.query.render()


def test_plan_obscore_arguments():
    plan = adql.plan_file_query(FILES, OBSCORE, collections="MUSE", instruments=["ESPRESSO"],
                                cone=(10, 20, 0.5), obscore_filters={"target_name": "WASP-76"},
                                column_filters={"extension": "PNG"}, categories="ANCILLARY.*")
    where = plan.query.where
    assert "o.obs_collection = 'MUSE'" in where
    assert "o.instrument_name = 'ESPRESSO'" in where
    assert "o.target_name = 'WASP-76'" in where
    assert "f.extension = 'PNG'" in where
    assert "f.eso_category LIKE 'ANCILLARY.%'" in where
    assert any(w.startswith("INTERSECTS(o.s_region") for w in where)
    with pytest.raises(ValueError, match="product ids only"):
        adql.plan_file_query(FILES, collections="MUSE")
    with pytest.raises(ValueError, match="Unknown"):
        adql.plan_file_query(FILES, columns=["target_name"])
    with pytest.raises(TypeError):
        adql.plan_file_query(FILES, OBSCORE, order_by=3)


def test_plan_collection_refinement_and_extensions_upper():
    plan = adql.plan_file_query(FILES, OBSCORE, collections="GOODS_FORS2*", extensions="png")
    assert "f.extension = 'PNG'" in plan.query.where
    assert [name for _, name, _ in plan.refinements] == ["obs_collection"]
    assert "o.obs_collection" in plan.query.columns


def test_file_query_render_options():
    plan = adql.plan_file_query(FILES, categories="ANCILLARY.PREVIEW", top=2,
                                order_by="archive_id", descending=False)
    q = plan.query
    assert q.render([EX1]).startswith("SELECT TOP 2 ")
    assert q.render([EX1]).endswith("ORDER BY f.archive_id ASC")
    assert "TOP" not in q.render([EX1], top=False)
    assert q.render([EX1], count=True).startswith("SELECT COUNT(*) FROM")
    assert "ORDER BY" not in q.render([EX1], columns=["f.archive_id"], order=False)


def test_plan_category_query_groups_refined_columns():
    plan = adql.plan_category_query(FILES, OBSCORE, size_column="access_estsize",
                                    collections="GOODS_FORS2", instruments="K?OS*")
    q = plan.query.render()
    assert "GROUP BY f.eso_category" in q
    assert "SUM(f.access_estsize) AS access_estsize" in q
    assert "o.instrument_name LIKE 'K_OS%'" in q
    assert plan.refinements == ()
    plan = adql.plan_category_query(FILES, OBSCORE, size_column="access_estsize",
                                    instruments="X_Y*")
    assert plan.query.group_by == ("f.eso_category", "o.instrument_name")
    assert plan.query.render().endswith("GROUP BY f.eso_category, o.instrument_name")
