# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's ADQL engine and VOTable writer (emulator/engine.py, votable.py).

Expected results are computed in Python from the generator's own lists.
"""
import io
import math
import threading
from collections import Counter

import pytest
from astropy.io.votable import parse, parse_single_table
from sqlglot import exp

from astroquery_eso_ancillary.emulator.data import Archive
from astroquery_eso_ancillary.emulator.engine import (
    AdqlError,
    ColumnInfo,
    Engine,
    QueryTimeoutError,
    Result,
)
from astroquery_eso_ancillary.emulator.votable import error_votable, result_votable

MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
ESPRESSO = "ADP.2021-04-12T12:27:33.887"
FILE_COLUMNS = ["product_id", "archive_id", "eso_category", "extension", "original_filename",
                "access_url", "access_estsize", "internal_file_id"]


@pytest.fixture(scope="module")
def archive():
    return Archive(seed=42, products=300, base_url="http://emu.test:1234")


@pytest.fixture(scope="module")
def engine(archive):
    return Engine(archive)


def _as_rows(files, columns=FILE_COLUMNS):
    return [tuple(f[c] for c in columns) for f in files]


def _sep(ra1, dec1, ra2, dec2):
    r = math.radians
    c = (math.sin(r(dec1)) * math.sin(r(dec2))
         + math.cos(r(dec1)) * math.cos(r(dec2)) * math.cos(r(ra1 - ra2)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


# ----------------------------------------------------------------- the three HOWTO queries

def test_howto_1_all_files_of_a_product(engine, archive):
    result = engine.run(f"SELECT * FROM phase3v2.product_files WHERE product_id = '{MUSE_CUBE}'")
    assert [str(c) for c in result.columns] == FILE_COLUMNS
    assert result.rows == _as_rows(archive.files_of(MUSE_CUBE))
    assert len(result.rows) == 6 and not result.overflow


def test_howto_2_espresso_spectra_and_the_like_trap(engine, archive):
    result = engine.run("SELECT archive_id, original_filename FROM phase3v2.product_files "
                        f"WHERE product_id = '{ESPRESSO}' AND eso_category = "
                        "'ANCILLARY.SPECTRUM' AND original_filename LIKE 'ES_SFLA%'")
    expected = [(f["archive_id"], f["original_filename"]) for f in archive.files_of(ESPRESSO)
                if f["eso_category"] == "ANCILLARY.SPECTRUM"
                and f["original_filename"].startswith("ES_SFLA")]
    assert result.rows == expected
    assert [r[0][-3:] for r in result.rows] == ["888", "889", "890", "891", "892"]
    # over the whole table, the pattern also catches fibre B (ES_SFLAB...): '_' is a wildcard
    everything = engine.run("SELECT original_filename FROM phase3v2.product_files "
                            "WHERE original_filename LIKE 'ES_SFLA_%'")
    names = sorted(r[0] for r in everything.rows)
    assert names == sorted(f["original_filename"] for f in archive.files
                           if f["original_filename"].startswith("ES_SFLA")
                           and len(f["original_filename"]) > 8)
    assert any(n.startswith("ES_SFLAB") for n in names)


def test_howto_3_muse_previews_join(engine, archive):
    result = engine.run(
        "SELECT pf.* FROM ivoa.ObsCore AS oc JOIN phase3v2.product_files AS pf "
        "ON oc.dp_id = pf.product_id WHERE oc.obs_collection = 'MUSE' "
        "AND pf.eso_category = 'ANCILLARY.PREVIEW'")
    muse = {p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"}
    expected = [f for f in archive.files
                if f["product_id"] in muse and f["eso_category"] == "ANCILLARY.PREVIEW"]
    assert sorted(result.rows) == sorted(_as_rows(expected))
    assert [str(c) for c in result.columns] == FILE_COLUMNS
    assert {"ADP.2016-06-01T14:07:30.137", "ADP.2016-06-01T14:07:30.139"} <= \
        {r[1] for r in result.rows}


# ----------------------------------------------------------------- ADQL features

def test_select_list_aliases_top_and_order(engine, archive):
    result = engine.run("SELECT TOP 5 dp_id AS id, target_name AS Target, s_ra "
                        "FROM ivoa.ObsCore ORDER BY dp_id DESC")
    assert [str(c) for c in result.columns] == ["id", "Target", "s_ra"]
    top = sorted(archive.products, key=lambda p: p["dp_id"], reverse=True)[:5]
    assert result.rows == [(p["dp_id"], p["target_name"], p["s_ra"]) for p in top]
    asc = engine.run("SELECT TOP 3 archive_id FROM phase3v2.product_files "
                     "ORDER BY access_estsize ASC, archive_id")
    smallest = sorted(archive.files, key=lambda f: (f["access_estsize"], f["archive_id"]))[:3]
    assert [r[0] for r in asc.rows] == [f["archive_id"] for f in smallest]


def test_distinct(engine, archive):
    result = engine.run("SELECT DISTINCT eso_category FROM phase3v2.product_files")
    assert sorted(r[0] for r in result.rows) == sorted({f["eso_category"]
                                                        for f in archive.files})


@pytest.mark.parametrize(("where", "predicate"), [
    ("access_estsize > 100000", lambda f: f["access_estsize"] > 100000),
    ("access_estsize < 300", lambda f: f["access_estsize"] < 300),
    ("access_estsize >= 529", lambda f: f["access_estsize"] >= 529),
    ("access_estsize <= 529", lambda f: f["access_estsize"] <= 529),
    ("extension <> 'FITS'", lambda f: f["extension"] != "FITS"),
    ("access_estsize BETWEEN 200 AND 400", lambda f: 200 <= f["access_estsize"] <= 400),
    ("extension IN ('PNG', 'LOG')", lambda f: f["extension"] in ("PNG", "LOG")),
    ("eso_category LIKE 'ANCILLARY.%MAP'", lambda f: f["eso_category"].startswith(
        "ANCILLARY.") and f["eso_category"].endswith("MAP")),
    ("eso_category NOT LIKE 'ANCILLARY%'", lambda f: not f["eso_category"].startswith(
        "ANCILLARY")),
    ("extension = 'TAR' OR (extension = 'PNG' AND access_estsize > 300)",
     lambda f: f["extension"] == "TAR" or (f["extension"] == "PNG" and f["access_estsize"] > 300)),
    ("NOT (extension = 'FITS')", lambda f: f["extension"] != "FITS"),
    ("original_filename LIKE 'r.MUSE.____-__-__T%_pst.png'",
     lambda f: f["original_filename"].startswith("r.MUSE.")
     and f["original_filename"].endswith("_pst.png")),
])
def test_where_predicates(engine, archive, where, predicate):
    result = engine.run(f"SELECT archive_id FROM phase3v2.product_files WHERE {where}")
    expected = sorted(f["archive_id"] for f in archive.files if predicate(f))
    assert expected, "the predicate should select something"
    assert sorted(r[0] for r in result.rows) == expected


def test_is_null_and_is_not_null(engine, archive):
    nulls = engine.run("SELECT dp_id FROM ivoa.ObsCore WHERE em_res_power IS NULL")
    assert sorted(r[0] for r in nulls.rows) == sorted(
        p["dp_id"] for p in archive.products if p["em_res_power"] is None)
    assert nulls.rows
    others = engine.run("SELECT COUNT(*) FROM ivoa.ObsCore WHERE em_res_power IS NOT NULL")
    assert others.rows[0][0] == len(archive.products) - len(nulls.rows)


def test_like_is_case_sensitive(engine, archive):
    muse = sum(p["obs_collection"] == "MUSE" for p in archive.products)
    assert engine.run("SELECT COUNT(*) FROM ivoa.ObsCore "
                      "WHERE obs_collection LIKE 'MUSE%'").rows == [(muse,)]
    assert engine.run("SELECT COUNT(*) FROM ivoa.ObsCore "
                      "WHERE obs_collection LIKE 'muse%'").rows == [(0,)]


def test_group_by_counts_and_sums_match_the_generator(engine, archive):
    result = engine.run(
        "SELECT oc.obs_collection, pf.eso_category, COUNT(*) AS n, SUM(pf.access_estsize) "
        "AS total, MIN(pf.access_estsize) AS smallest, MAX(pf.access_estsize) AS largest "
        "FROM ivoa.ObsCore AS oc JOIN phase3v2.product_files AS pf "
        "ON oc.dp_id = pf.product_id GROUP BY oc.obs_collection, pf.eso_category "
        "ORDER BY n DESC")
    collection = {p["dp_id"]: p["obs_collection"] for p in archive.products}
    groups = {}
    for f in archive.files:
        groups.setdefault((collection[f["product_id"]], f["eso_category"]), []).append(
            f["access_estsize"])
    expected = {k: (len(v), sum(v), min(v), max(v)) for k, v in groups.items()}
    assert {(r[0], r[1]): r[2:] for r in result.rows} == expected
    counts = [r[2] for r in result.rows]
    assert counts == sorted(counts, reverse=True)
    assert [c.datatype for c in result.columns[2:4]] == ["long", "long"]


def test_left_join_keeps_products_without_ancillaries(engine, archive):
    result = engine.run(
        "SELECT oc.dp_id, pf.archive_id FROM ivoa.ObsCore AS oc "
        "LEFT JOIN phase3v2.product_files AS pf ON oc.dp_id = pf.product_id "
        "AND pf.eso_category LIKE 'ANCILLARY.%' WHERE pf.archive_id IS NULL")
    alone = sorted(p["dp_id"] for p in archive.products
                   if len(archive.files_of(p["dp_id"])) == 1)
    assert alone, "the generator should have science-only products (VVV source tables)"
    assert sorted(r[0] for r in result.rows) == alone
    assert all(r[1] is None for r in result.rows)


def test_concatenation_and_functions(engine, archive):
    # ADQL 2.0 functions only (LOWER, UPPER, COALESCE are ADQL 2.1: see the refusals)
    result = engine.run(f"SELECT product_id || '/' || extension AS tag, "
                        f"MOD(7.5, 2), ROUND(2.567, 1), ABS(-3), "
                        f"TRUNCATE(2.56, 1), POWER(2, 3) FROM phase3v2.product_files "
                        f"WHERE archive_id = '{MUSE_CUBE}'")
    assert result.rows == [(f"{MUSE_CUBE}/FITS", 1.5, 2.6, 3, 2.5, 8.0)]
    assert result.columns[0].datatype == "char"


def test_identifiers_are_case_insensitive(engine, archive):
    a = engine.run(f"SELECT DP_ID FROM IVOA.OBSCORE WHERE Dp_Id = '{MUSE_CUBE}'")
    b = engine.run(f"SELECT dp_id FROM ivoa.obscore WHERE dp_id = '{MUSE_CUBE}'")
    c = engine.run(f'SELECT "dp_id" FROM ivoa."ObsCore" WHERE dp_id = \'{MUSE_CUBE}\'')
    assert a.rows == b.rows == c.rows == [(MUSE_CUBE,)]


def test_subquery_in(engine, archive):
    result = engine.run("SELECT COUNT(*) FROM phase3v2.product_files WHERE product_id IN "
                        "(SELECT dp_id FROM ivoa.ObsCore WHERE obs_collection = 'KMOS')")
    kmos = {p["dp_id"] for p in archive.products if p["obs_collection"] == "KMOS"}
    assert result.rows == [(sum(f["product_id"] in kmos for f in archive.files),)]


def test_hostile_string_stays_a_literal(engine):
    hostile = "x' OR '1'='1"
    quoted = hostile.replace("'", "''")
    result = engine.run(f"SELECT dp_id FROM ivoa.ObsCore WHERE target_name = '{quoted}'")
    assert result.rows == []
    where = result.ast.find(exp.Where)
    assert isinstance(where.this, exp.EQ)
    assert where.this.expression.is_string and where.this.expression.this == hostile
    quote = engine.run("SELECT COUNT(*) FROM ivoa.ObsCore WHERE target_name = 'Barnard''s Star'")
    assert quote.ast.find(exp.Literal).this == "Barnard's Star"


# ----------------------------------------------------------------- TAP_SCHEMA

def test_tap_schema_columns_of_product_files(engine, archive):
    result = engine.run("SELECT column_name, unit, datatype FROM TAP_SCHEMA.columns "
                        "WHERE table_name = 'phase3v2.product_files' ORDER BY column_index")
    assert [r[0] for r in result.rows] == FILE_COLUMNS
    assert dict((r[0], r[1]) for r in result.rows)["access_estsize"] == "kbyte"


def test_tap_schema_tables_keys_and_schemas(engine):
    tables = {r[0] for r in engine.run("SELECT table_name FROM TAP_SCHEMA.tables").rows}
    assert {"ivoa.ObsCore", "phase3v2.product_files", "TAP_SCHEMA.columns"} <= tables
    schemas = {r[0] for r in engine.run("SELECT schema_name FROM TAP_SCHEMA.schemas").rows}
    assert schemas == {"ivoa", "phase3v2", "TAP_SCHEMA"}
    keys = engine.run("SELECT k.from_table, k.target_table, c.from_column, c.target_column "
                      "FROM TAP_SCHEMA.keys AS k JOIN TAP_SCHEMA.key_columns AS c "
                      "ON k.key_id = c.key_id")
    assert keys.rows[0] == ("phase3v2.product_files", "ivoa.ObsCore", "product_id", "dp_id")
    # TAP_SCHEMA's own links are published too (TAP 1.1)
    assert ("TAP_SCHEMA.columns", "TAP_SCHEMA.tables", "table_name", "table_name") in keys.rows
    assert ("TAP_SCHEMA.key_columns", "TAP_SCHEMA.keys", "key_id", "key_id") in keys.rows
    assert len(keys.rows) == 6
    # a reserved column name is published delimited, ready to paste into ADQL
    delimited = engine.run("SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = "
                           "'TAP_SCHEMA.columns' AND column_name IN ('size', '\"size\"')")
    assert delimited.rows == [('"size"',)]
    sized = engine.run('SELECT "size", column_name FROM TAP_SCHEMA.columns '
                       "WHERE table_name = 'ivoa.ObsCore'")
    assert len(sized.rows) == len(engine.archive.obscore_columns)


def test_size_kb_archive_publishes_size_kb():
    engine = Engine(Archive(products=10, size_column="size_kb"))
    names = [r[0] for r in engine.run(
        "SELECT column_name FROM TAP_SCHEMA.columns "
        "WHERE table_name = 'phase3v2.product_files'").rows]
    assert "size_kb" in names and "access_estsize" not in names
    result = engine.run("SELECT size_kb FROM phase3v2.product_files "
                        "WHERE archive_id = 'ADP.2024-03-19T05:58:04.408'")
    assert result.rows == [(529,)] and result.columns[0].unit == "kbyte"
    with pytest.raises(AdqlError, match="access_estsize"):
        engine.run("SELECT access_estsize FROM phase3v2.product_files")


# ----------------------------------------------------------------- refusals

@pytest.mark.parametrize(("adql", "words"), [
    ("SELECT dp_id FROM ivoa.ObsCore LIMIT 5", "LIMIT"),
    ("SELECT archive_id FROM phase3v2.product_files "
     "WHERE original_filename LIKE 'ES!_SFLA!_%' ESCAPE '!'", "ESCAPE"),
    ("SELECT `dp_id` FROM ivoa.ObsCore", "Backtick"),
    ("SELECT [dp_id] FROM ivoa.ObsCore", "Square brackets"),
    ("SELECT dp_id FROM ivoa.ObsCore; DROP TABLE ivoa.ObsCore", "one statement"),
    ("SELECT dp_id FROM ivoa.ObsCore;DROP TABLE x", "one statement"),
    ("DROP TABLE ivoa.ObsCore", "Only SELECT"),
    ("INSERT INTO ivoa.ObsCore (dp_id) VALUES ('x')", "Only SELECT"),
    ("UPDATE phase3v2.product_files SET extension = 'X'", "Only SELECT"),
    ("DELETE FROM phase3v2.product_files", "Only SELECT"),
    ("PRAGMA case_sensitive_like = OFF", "Only SELECT"),
    ("ATTACH DATABASE 'x' AS y", "Only SELECT"),
    ("CREATE TABLE x (a INT)", "Only SELECT"),
    ("SELECT nosuchcolumn FROM ivoa.ObsCore", "nosuchcolumn"),
    ("SELECT dp_id FROM ivoa.NoSuchTable", "ivoa.NoSuchTable"),
    ("SELECT name FROM sqlite_master", "sqlite_master"),
    ("SELECT RANDOMBLOB(4) FROM ivoa.ObsCore", "RANDOMBLOB"),
    ("SELECT dp_id FROM ivoa.ObsCore WHERE s_ra % 2 = 0", "MOD"),
    ("SELECT TOP 10 PERCENT dp_id FROM ivoa.ObsCore", "PERCENT"),
    ("", "Empty"),
    ("SELEKT dp_id FROM ivoa.ObsCore", "Only SELECT"),
    ("SELECT dp_id FROM ivoa.ObsCore WHERE (dp_id = 'x'", "syntax"),
    ("SELECT dp_id, FROM ivoa.ObsCore", "syntax"),
    ("SELECT 'abc FROM ivoa.ObsCore", "Cannot read"),
    # ADQL 2.1 or optional features that ESO's ADQL 2.0 declaration does not include
    ("SELECT LOWER(extension) FROM phase3v2.product_files", "LOWER() is not ADQL 2.0"),
    ("SELECT UPPER(extension) FROM phase3v2.product_files", "UPPER() is not ADQL 2.0"),
    ("SELECT COALESCE(s_fov, 0) FROM ivoa.ObsCore", "COALESCE() is not ADQL 2.0"),
    ("SELECT dp_id FROM ivoa.ObsCore WHERE target_name ILIKE 'ngc%'", "ILIKE"),
    ("SELECT dp_id FROM ivoa.ObsCore ORDER BY dp_id OFFSET 3", "OFFSET"),
    ("SELECT dp_id FROM ivoa.ObsCore ORDER BY dp_id OFFSET 3 ROWS", "OFFSET"),
    ("SELECT CAST(s_ra AS INTEGER) FROM ivoa.ObsCore", "CAST"),
    ("SELECT s_ra::text FROM ivoa.ObsCore", ":: cast"),
    ("SELECT dp_id FROM ivoa.ObsCore UNION SELECT product_id FROM phase3v2.product_files",
     "UNION"),
    ("WITH x AS (SELECT dp_id FROM ivoa.ObsCore) SELECT dp_id FROM x", "WITH"),
    ("SELECT CASE WHEN s_ra > 1 THEN 1 ELSE 0 END FROM ivoa.ObsCore", "CASE"),
    ("SELECT dp_id FROM ivoa.ObsCore WHERE 1 = TRUE", "TRUE"),
    ("SELECT NULL FROM ivoa.ObsCore", "IS NULL"),
    ("SELECT LN(s_ra) FROM ivoa.ObsCore", "Unknown function 'LN'"),
    ("SELECT CEIL(s_ra) FROM ivoa.ObsCore", "Unknown function 'CEIL'"),
    ("SELECT SUBSTRING(dp_id, 1, 3) FROM ivoa.ObsCore", "SUBSTRING"),
    ("SELECT REGION('CIRCLE ICRS 1 2 3') FROM ivoa.ObsCore", "REGION"),
    # reserved words as bare identifiers
    ("SELECT size FROM TAP_SCHEMA.columns", "'size' is a reserved"),
    ("SELECT c.size FROM TAP_SCHEMA.columns AS c", "'size' is a reserved"),
    ("SELECT dp_id AS value FROM ivoa.ObsCore", "'value' is a reserved"),
    ("SELECT dp_id AS first FROM ivoa.ObsCore", "'first' is a reserved"),
    ("SELECT date.dp_id FROM ivoa.ObsCore AS date", "'date' is a reserved"),
])
def test_non_adql_is_refused_with_a_clear_message(engine, adql, words):
    with pytest.raises(AdqlError) as info:
        engine.run(adql)
    assert words.lower() in str(info.value).lower()


def test_reserved_words_work_between_double_quotes(engine):
    result = engine.run('SELECT c."size", c.column_name AS "value" FROM TAP_SCHEMA.columns '
                        "AS c WHERE c.column_name = 'dp_id'")
    assert result.columns == ["size", "value"] and result.rows == [(None, "dp_id")]


def test_refused_statements_changed_nothing(engine, archive):
    with pytest.raises(AdqlError):
        engine.run("SELECT 1 FROM ivoa.ObsCore; DELETE FROM phase3v2.product_files")
    count = engine.run("SELECT COUNT(*) FROM phase3v2.product_files").rows[0][0]
    assert count == len(archive.files)


# ----------------------------------------------------------------- geometry

def test_cone_contains_a_known_product_and_excludes_others(engine, archive):
    wasp = archive.product(ESPRESSO)
    ra, dec, radius = wasp["s_ra"], wasp["s_dec"], 0.05
    result = engine.run(
        f"SELECT dp_id FROM ivoa.ObsCore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), "
        f"CIRCLE('ICRS', {ra}, {dec}, {radius})) = 1")
    got = {r[0] for r in result.rows}
    expected = {p["dp_id"] for p in archive.products
                if _sep(p["s_ra"], p["s_dec"], ra, dec) <= radius}
    assert ESPRESSO in got
    assert got == expected
    assert MUSE_CUBE not in got


def test_intersects_uses_the_footprint(engine, archive):
    product = archive.product("ADP.2016-06-01T14:07:30.134")   # a 1 arcmin MUSE field
    ra, dec = product["s_ra"], product["s_dec"]
    inside = engine.run(f"SELECT dp_id FROM ivoa.ObsCore WHERE "
                        f"INTERSECTS(s_region, CIRCLE('', {ra}, {dec + 0.012}, 0.005)) = 1")
    assert product["dp_id"] in {r[0] for r in inside.rows}     # overlaps the field's edge
    outside = engine.run(f"SELECT dp_id FROM ivoa.ObsCore WHERE "
                         f"INTERSECTS(s_region, CIRCLE('', {ra}, {dec + 0.02}, 0.005)) = 1")
    assert product["dp_id"] not in {r[0] for r in outside.rows}
    point = engine.run(f"SELECT COUNT(*) FROM ivoa.ObsCore WHERE dp_id = '{product['dp_id']}' "
                       f"AND INTERSECTS(POINT('', {ra}, {dec}), s_region) = 1")
    assert point.rows == [(1,)]


def test_distance_is_great_circle_degrees(engine, archive):
    result = engine.run("SELECT dp_id, DISTANCE(POINT('', s_ra, s_dec), POINT('', 10, -30)) "
                        "AS d FROM ivoa.ObsCore")
    assert result.columns[1].datatype == "double" and result.columns[1].unit == "deg"
    for dp_id, distance in result.rows:
        p = archive.product(dp_id)
        assert distance == pytest.approx(_sep(p["s_ra"], p["s_dec"], 10, -30), abs=1e-9)


@pytest.mark.parametrize(("expression", "expected"), [
    ("CONTAINS(POINT('', 359.99, 0), CIRCLE('', 0.01, 0, 0.05))", 1),      # across RA = 0
    ("CONTAINS(POINT('', 359.9, 0), CIRCLE('', 0.01, 0, 0.05))", 0),
    ("CONTAINS(POINT('ICRS', 0.5, 0.5), POLYGON('ICRS', 0, 0, 1, 0, 1, 1, 0, 1))", 1),
    ("CONTAINS(POINT('ICRS', 1.5, 0.5), POLYGON('ICRS', 0, 0, 1, 0, 1, 1, 0, 1))", 0),
    ("CONTAINS(CIRCLE('', 0.5, 0.5, 0.1), BOX('', 0.5, 0.5, 1, 1))", 1),
    ("CONTAINS(CIRCLE('', 0.5, 0.5, 0.6), BOX('', 0.5, 0.5, 1, 1))", 0),
    ("INTERSECTS(POLYGON('', 0, 0, 1, 0, 1, 1, 0, 1), POLYGON('', 0.5, 0.5, 2, 0.5, 2, 2))", 1),
    ("INTERSECTS(POLYGON('', 0, 0, 1, 0, 1, 1, 0, 1), POLYGON('', 3, 3, 4, 3, 4, 4))", 0),
    ("INTERSECTS(CIRCLE('', 10, 80, 1), CIRCLE('', 190, 80, 19.5))", 1),    # over the pole
    ("INTERSECTS(CIRCLE('', 10, 80, 1), CIRCLE('', 190, 80, 18.5))", 0),
    ("COORD1(POINT('', 12.5, -3))", 12.5),
    ("COORD2(POINT('', 12.5, -3))", -3.0),
    ("AREA(CIRCLE('', 0, 0, 1))", 2 * math.pi * (1 - math.cos(math.radians(1)))
     * math.degrees(1) ** 2),                                             # a spherical cap
    ("ROUND(DISTANCE(0, 89, 180, 89), 9)", 2.0),
])
def test_geometry_functions(engine, expression, expected):
    result = engine.run(f"SELECT TOP 1 {expression} FROM TAP_SCHEMA.schemas")
    assert result.rows[0][0] == pytest.approx(expected)


@pytest.mark.parametrize("predicate", [
    "CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', {ra}, {dec}, {r})) = 1",
    "INTERSECTS(s_region, CIRCLE('', {ra}, {dec}, {r})) = 1",
    "1 = INTERSECTS(CIRCLE('', {ra}, {dec}, {r}), s_region)",
])
def test_indexed_cone_bound_keeps_the_same_rows(engine, archive, predicate):
    # cones centred on products (so they select something) plus empty sky
    centres = [(p["s_ra"], p["s_dec"]) for p in archive.products[::37]] + [(0.0, -89.9)]
    for ra, dec in centres:
        for radius in (0.001, 0.3, 2.0):
            where = predicate.format(ra=ra, dec=dec, r=radius)
            fast = engine.run(f"SELECT dp_id FROM ivoa.ObsCore WHERE {where}")
            assert "BETWEEN" in fast.sql
            # an OR at the top stops the rewrite: the plain evaluation
            slow = engine.run(f"SELECT dp_id FROM ivoa.ObsCore WHERE {where} OR 1 = 0")
            assert "BETWEEN" not in slow.sql
            assert sorted(fast.rows) == sorted(slow.rows)


def test_bad_geometry_is_an_adql_error(engine):
    with pytest.raises(AdqlError, match="radius"):
        engine.run("SELECT dp_id FROM ivoa.ObsCore WHERE "
                   "CONTAINS(POINT('', s_ra, s_dec), CIRCLE('', 1, 2, -1)) = 1")


# ----------------------------------------------------------------- MAXREC and results

def test_maxrec_truncates_and_flags_overflow(engine, archive):
    query = "SELECT archive_id FROM phase3v2.product_files"
    cut = engine.run(query, maxrec=5)
    assert len(cut.rows) == 5 and cut.overflow
    full = engine.run(query, maxrec=len(archive.files))
    assert len(full.rows) == len(archive.files) and not full.overflow
    top = engine.run("SELECT TOP 3 archive_id FROM phase3v2.product_files", maxrec=10)
    assert len(top.rows) == 3 and not top.overflow
    zero = engine.run(query, maxrec=0)
    assert zero.rows == [] and zero.overflow
    with pytest.raises(AdqlError, match="MAXREC"):
        engine.run(query, maxrec=-1)


def test_column_metadata_comes_from_tap_schema(engine):
    result = engine.run("SELECT oc.s_ra, pf.access_estsize, COUNT(*) AS n "
                        "FROM ivoa.ObsCore AS oc JOIN phase3v2.product_files AS pf "
                        "ON oc.dp_id = pf.product_id GROUP BY oc.s_ra, pf.access_estsize")
    ra, size, n = result.columns
    assert (ra.datatype, ra.unit, ra.ucd) == ("double", "deg", "pos.eq.ra")
    assert (size.datatype, size.unit) == ("long", "kbyte")
    assert n.datatype == "long" and n == "n"
    assert "sqlite" not in result.sql.lower() and "_files" in result.sql


def test_timeout_stops_a_runaway_query(engine):
    with pytest.raises(QueryTimeoutError, match="execution duration"):
        engine.run("SELECT COUNT(*) FROM phase3v2.product_files AS a, "
                   "phase3v2.product_files AS b, phase3v2.product_files AS c", timeout=0.01)
    assert engine.run("SELECT COUNT(*) FROM ivoa.ObsCore").rows   # still usable


def test_concurrent_queries_from_threads(engine, archive):
    products = [p["dp_id"] for p in archive.products[:40]]
    errors, seen = [], {}

    def work(dp_id):
        try:
            rows = engine.run("SELECT archive_id FROM phase3v2.product_files "
                              f"WHERE product_id = '{dp_id}'").rows
            seen[dp_id] = [r[0] for r in rows]
        except Exception as exc:    # collected and asserted below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(d,)) for d in products]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen == {d: [f["archive_id"] for f in archive.files_of(d)] for d in products}


def test_base_url_change_reaches_the_engine():
    archive = Archive(products=3)
    engine = Engine(archive)
    archive.base_url = "http://127.0.0.1:4321"
    row = engine.run(f"SELECT access_url FROM phase3v2.product_files "
                     f"WHERE archive_id = '{MUSE_CUBE}'").rows[0][0]
    assert row == f"http://127.0.0.1:4321/dataPortal/file/{MUSE_CUBE}"


# ----------------------------------------------------------------- VOTables

def test_votable_round_trip_keeps_values_and_metadata(engine, archive):
    result = engine.run("SELECT dp_id, s_ra, em_res_power, calib_level, access_estsize, "
                        "COUNT(*) AS n FROM ivoa.ObsCore GROUP BY dp_id, s_ra, em_res_power, "
                        "calib_level, access_estsize", maxrec=500)
    table = parse_single_table(io.BytesIO(result_votable(result, query="q"))).to_table()
    assert table.colnames == ["dp_id", "s_ra", "em_res_power", "calib_level",
                              "access_estsize", "n"]
    assert str(table["s_ra"].unit) == "deg" and str(table["access_estsize"].unit) == "kbyte"
    index = {dp_id: k for k, dp_id in enumerate(table["dp_id"])}
    power = table["em_res_power"]
    missing = getattr(power, "mask", [False] * len(power))
    for p in archive.products:
        k = index[p["dp_id"]]
        assert table["s_ra"][k] == p["s_ra"]
        assert table["access_estsize"][k] == p["access_estsize"]
        if p["em_res_power"] is None:
            assert missing[k] or math.isnan(power.data[k])
        else:
            assert power[k] == p["em_res_power"]
    assert Counter(table["n"]) == Counter([1] * len(archive.products))


def test_votable_fields_and_overflow_info(engine):
    result = engine.run("SELECT archive_id, access_estsize FROM phase3v2.product_files",
                        maxrec=3)
    doc = parse(io.BytesIO(result_votable(result)))
    resource = doc.resources[0]
    assert [(i.name, i.value) for i in resource.infos] == [("QUERY_STATUS", "OK"),
                                                          ("QUERY_STATUS", "OVERFLOW")]
    field = resource.tables[0].fields[1]
    assert (field.datatype, str(field.unit), field.ucd) == ("long", "kbyte",
                                                             "phys.size;meta.file")
    assert field.description == "Estimated file size"
    assert resource.tables[0].fields[0].arraysize == "*"


def test_votable_escapes_and_nulls():
    result = Result([ColumnInfo("text"), ColumnInfo("n", "long"), ColumnInfo("x", "double")],
                    [("<a & b>\x01", None, None), ("O'Brien \"q\"", 7, float("inf"))])
    table = parse_single_table(io.BytesIO(result_votable(result))).to_table()
    assert list(table["text"]) == ["<a & b>?", "O'Brien \"q\""]
    assert table["n"].mask[0] and table["n"][1] == 7
    assert math.isinf(table["x"][1])


def test_error_votable_reaches_pyvo_as_dalqueryerror():
    from pyvo.dal import DALResults
    from pyvo.dal.exceptions import DALQueryError

    message = "Unknown column 'nope' <in> the query & more"
    with pytest.raises(DALQueryError) as info:
        DALResults(parse(io.BytesIO(error_votable(message))), url="http://emu.test")
    assert message in str(info.value)
