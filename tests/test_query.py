"""The query API (get_product_files, query_ancillary, list_ancillary_categories)
against the emulator, through the real HTTP path.

Expected rows are derived from the emulator's generated archive
(``eso_archive.archive``), except the reference rows the HOWTO fixes.
"""
import math
import random
import re
import warnings
from collections import Counter

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Column, Table
from astroquery.exceptions import MaxResultsWarning, NoResultsWarning
from howto_reference import EXAMPLE1

from astroquery_eso_ancillary import EsoQueryError, EsoServiceError, conf
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import LoginError

EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"
EX3_FIRST = "ADP.2016-06-01T14:07:30.134"
INJECTION = "x' OR '1'='1"

#: Example 2: the fibre-A individual spectra .888-.892.
EXAMPLE2 = [f"ADP.2021-04-12T12:27:33.{n}" for n in range(888, 893)]
#: Example 3: previews of the first MUSE product.
EXAMPLE3_FIRST = [f"ADP.2016-06-01T14:07:30.{n}" for n in (137, 138, 139)]

FILES_FROM = "phase3v2.product_files AS f"


# -- helpers --------------------------------------------------------------------------

def data_queries(emu):
    """ADQL the emulator received for file selections (not TAP_SCHEMA)."""
    return [q.adql for q in emu.queries if FILES_FROM in q.adql]


def tap_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/tap_obs")]


def products_where(archive, **match):
    return [p for p in archive.products if all(p[k] == v for k, v in match.items())]


def files_where(archive, product_ids, predicate=lambda f: True):
    rows = []
    for pid in product_ids:
        rows += [f for f in archive.files_of(pid) if predicate(f)]
    return rows


def ordered(rows):
    """The documented default order: by product, science file first, then archive_id."""
    return sorted(rows, key=lambda f: (f["product_id"], f["archive_id"] != f["product_id"],
                                       f["archive_id"]))


def archive_ids(table):
    return [str(a) for a in table["archive_id"]]


def literals(query):
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", query)]


@pytest.fixture
def unlimited(eso_archive):
    eso_archive.eso.ROW_LIMIT = -1
    return eso_archive.eso


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- the three HOWTO examples ----------------------------------------------------------

def test_example1_all_files_of_a_product(eso_archive, no_warnings):
    table = eso_archive.eso.get_product_files(EX1)
    got = [(r["archive_id"], r["extension"], r["eso_category"], r["original_filename"],
            int(r["access_estsize"])) for r in table]
    assert got == EXAMPLE1
    assert table.colnames[:8] == ["product_id", "archive_id", "eso_category", "extension",
                                  "original_filename", "access_estsize", "access_url",
                                  "internal_file_id"]
    assert set(table["product_id"]) == {EX1}
    assert table["access_estsize"].unit == u.kB
    assert table["eso_category"].description
    assert table.meta["url"] == eso_archive.tap_url
    assert table.meta["query"] == data_queries(eso_archive)[-1]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", table.meta["time"])
    expected_urls = [f["access_url"] for f in eso_archive.archive.files_of(EX1)]
    assert list(table["access_url"]) == expected_urls


def test_example2_fibre_a_spectra(eso_archive, no_warnings):
    table = eso_archive.eso.query_ancillary(EX2, categories="ANCILLARY.SPECTRUM",
                                            original_filename="ES_SFLA_*")
    assert archive_ids(table) == EXAMPLE2
    assert all(str(n).startswith("ES_SFLA_") for n in table["original_filename"])


def test_example3_every_muse_preview(unlimited, eso_archive, no_warnings):
    table = unlimited.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW")
    muse = [p["dp_id"] for p in products_where(eso_archive.archive, obs_collection="MUSE")]
    expected = ordered(files_where(eso_archive.archive, muse,
                                   lambda f: f["eso_category"] == "ANCILLARY.PREVIEW"))
    assert archive_ids(table) == [f["archive_id"] for f in expected]
    assert archive_ids(table)[:3] == EXAMPLE3_FIRST
    assert set(table["extension"]) == {"PNG"}
    assert int(table["access_estsize"].sum()) == sum(f["access_estsize"] for f in expected)


# -- get_product_files ---------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda ids: ids, lambda ids: Column(ids, name="x"), lambda ids: Table({"dp_id": ids}),
    lambda ids: Table({"product_id": ids, "n": list(range(len(ids)))}),
])
def test_input_forms_order_and_grouping(eso_archive, make, no_warnings):
    ids = [EX2, EX1, EX2]
    table = eso_archive.eso.get_product_files(make(ids))
    expected = files_where(eso_archive.archive, [EX2, EX1])  # duplicates dropped
    expected = sorted(expected, key=lambda f: ([EX2, EX1].index(f["product_id"]),
                                               f["archive_id"] != f["product_id"],
                                               f["archive_id"]))
    assert archive_ids(table) == [f["archive_id"] for f in expected]
    assert table["archive_id"][0] == EX2 and table["eso_category"][0].startswith("SCIENCE")


def test_get_product_files_categories_and_columns(eso_archive, no_warnings):
    eso = eso_archive.eso
    table = eso.get_product_files(EX1, categories="ANCILLARY.*",
                                  columns=["archive_id", "ACCESS_ESTSIZE"])
    expected = [f for f in eso_archive.archive.files_of(EX1)
                if f["eso_category"].startswith("ANCILLARY.")]
    assert table.colnames[:2] == ["archive_id", "access_estsize"]
    assert "eso_category" not in table.colnames
    assert archive_ids(table) == [f["archive_id"] for f in expected]
    table = eso.get_product_files(EX1, categories=["ANCILLARY.README", "*WHITELIGHT"],
                                  columns="archive_id, eso_category")
    assert sorted(table["eso_category"]) == ["ANCILLARY.IMAGE.WHITELIGHT", "ANCILLARY.README"]
    with pytest.raises(ValueError, match="Did you mean: extension"):
        eso.get_product_files(EX1, columns=["extention"])


def test_rows_not_limited_by_row_limit(eso_archive, no_warnings):
    eso = eso_archive.eso
    eso.ROW_LIMIT = 2
    assert len(eso.get_product_files(EX1)) == 6


def test_unknown_ids_one_warning_naming_them(eso_archive):
    unknown = ["ADP.1999-01-01T00:00:00.001", "ADP.1999-01-01T00:00:00.002"]
    with pytest.warns(NoResultsWarning) as record:
        table = eso_archive.eso.get_product_files([unknown[0], EX1, unknown[1]],
                                                  datalink=False)
    assert len(record) == 1
    message = str(record[0].message)
    assert all(pid in message for pid in unknown) and EX1 not in message
    assert len(table) == 6


def test_5000_ids_chunked_ordered_deduplicated(eso_archive):
    archive = eso_archive.archive
    real = [p["dp_id"] for p in archive.products]
    unknown = [f"ADP.1990-{1 + i // 3600:02d}-01T{(i // 60) % 60:02d}:{i % 60:02d}:00.000"
               for i in range(5000 - len(real))]
    ids = real + unknown
    random.Random(5).shuffle(ids)
    assert len(set(ids)) == 5000
    with_duplicates = ids + real[:50]
    with pytest.warns(NoResultsWarning) as record, conf.set_temp("id_chunk_size", 1000):
        table = eso_archive.eso.get_product_files(with_duplicates, datalink=False)
        sent = data_queries(eso_archive)
        assert len(sent) == math.ceil(5000 / conf.id_chunk_size)  # several chunks, merged
    assert len(record) == 1
    assert f"{len(unknown)} of 5000 product id(s)" in str(record[0].message)
    assert "more)" in str(record[0].message)
    order = [pid for pid in ids if pid in set(real)]
    expected = sorted(archive.files, key=lambda f: (order.index(f["product_id"]),
                                                    f["archive_id"] != f["product_id"],
                                                    f["archive_id"]))
    assert archive_ids(table) == [f["archive_id"] for f in expected]
    assert len(set(archive_ids(table))) == len(table)

    eso_archive.reset()
    with pytest.warns(NoResultsWarning):
        again = eso_archive.eso.get_product_files(ids, chunk_size=700, cache=False,
                                                  datalink=False)
    assert len(data_queries(eso_archive)) == math.ceil(5000 / 700)
    assert archive_ids(again) == archive_ids(table)


def test_overflowing_chunk_is_split(eso_archive_factory, no_warnings):
    # 70: the 62 TAP_SCHEMA.columns rows of the two tables (ObsCore has 54) still fit
    emu = eso_archive_factory(products=20, hard_maxrec=70)
    ids = [p["dp_id"] for p in emu.archive.products]
    expected = files_where(emu.archive, ids)
    assert len(expected) > 70
    table = emu.eso.get_product_files(ids, datalink=False)
    assert archive_ids(table) == [f["archive_id"] for f in expected]
    sent = data_queries(emu)
    assert len(sent) > 2 and sent[0].count("'ADP.") == len(ids)


def test_get_query_payload_sends_nothing(eso_archive):
    eso = eso_archive.eso
    payload = eso.get_product_files([EX1, EX2], get_query_payload=True)
    assert not data_queries(eso_archive)
    assert payload.startswith("SELECT ") and f"IN ('{EX1}', '{EX2}')" in payload
    many = eso.get_product_files([EX1, EX2, EX3_FIRST], chunk_size=2, get_query_payload=True)
    assert isinstance(many, list) and len(many) == 2
    eso.get_product_files([EX1, EX2], datalink=False)
    assert data_queries(eso_archive)[-1] == payload


def test_id_injection_refused_before_any_request(eso_archive):
    with pytest.raises(ValueError, match=re.escape(repr(INJECTION))):
        eso_archive.eso.get_product_files([EX1, INJECTION])
    with pytest.raises(ValueError, match=re.escape(repr(INJECTION))):
        eso_archive.eso.query_ancillary(INJECTION)
    assert not tap_requests(eso_archive)


# -- query_ancillary: patterns ---------------------------------------------------------

def espresso_ids(archive):
    return [p["dp_id"] for p in products_where(archive, instrument_name="ESPRESSO")]


def test_sfla_pattern_does_not_match_sflab(unlimited, eso_archive, no_warnings):
    archive = eso_archive.archive
    ids = espresso_ids(archive)
    everything = files_where(archive, ids)
    assert any(f["original_filename"].startswith("ES_SFLAB") for f in everything)
    expected = [f for f in everything if f["original_filename"].startswith("ES_SFLA_")]
    table = unlimited.query_ancillary(instruments="ESPRESSO", original_filename="ES_SFLA_*")
    assert sorted(archive_ids(table)) == sorted(f["archive_id"] for f in expected)
    assert "LIKE 'ES_SFLA_%'" in data_queries(eso_archive)[-1]
    assert "ESCAPE" not in data_queries(eso_archive)[-1]
    # count_only and top agree with the refined rows
    assert unlimited.query_ancillary(instruments="ESPRESSO", original_filename="ES_SFLA_*",
                                     count_only=True) == len(expected)
    top = unlimited.query_ancillary(instruments="ESPRESSO", original_filename="ES_SFLA_*",
                                    top=7)
    assert len(top) == 7
    assert all(str(n).startswith("ES_SFLA_") for n in top["original_filename"])
    naive = sum(f["original_filename"].startswith("ES_SFLA") for f in everything)
    assert naive > len(expected)  # the trap is real in this data


def test_exact_category_with_underscore(unlimited, eso_archive, no_warnings):
    category = "ANCILLARY.MUSE.PIXTABLE_REDUCED"
    table = unlimited.query_ancillary(categories=category)
    expected = [f for f in eso_archive.archive.files if f["eso_category"] == category]
    assert expected and sorted(archive_ids(table)) == sorted(f["archive_id"] for f in expected)
    assert f"f.eso_category = '{category}'" in data_queries(eso_archive)[-1]
    assert " LIKE " not in data_queries(eso_archive)[-1]


def test_question_mark_lists_and_star(unlimited, eso_archive, no_warnings):
    archive = eso_archive.archive
    table = unlimited.query_ancillary(EX1, categories="ANCILLARY.?EADME")
    assert list(table["eso_category"]) == ["ANCILLARY.README"]
    table = unlimited.query_ancillary(EX1, categories=["ANCILLARY.README", "*.PREVIEW"])
    assert Counter(table["eso_category"]) == Counter(
        f["eso_category"] for f in archive.files_of(EX1)
        if f["eso_category"] in ("ANCILLARY.README", "ANCILLARY.PREVIEW"))
    table = unlimited.query_ancillary(EX1, categories="*")
    assert len(table) == len(archive.files_of(EX1))
    assert "eso_category" not in data_queries(eso_archive)[-1].split("WHERE")[1]
    table = unlimited.query_ancillary(EX1, categories=None)
    assert len(table) == len(archive.files_of(EX1))


def test_extensions(unlimited, eso_archive, no_warnings):
    table = unlimited.query_ancillary([EX1, EX2], extensions="png")
    assert set(table["extension"]) == {"PNG"}
    table = unlimited.query_ancillary([EX1, EX2], extensions=["FITS", "TAR"])
    expected = [f for f in files_where(eso_archive.archive, [EX1, EX2])
                if f["extension"] in ("FITS", "TAR")
                and f["eso_category"].startswith("ANCILLARY.")]
    assert sorted(archive_ids(table)) == sorted(f["archive_id"] for f in expected)


# -- query_ancillary: product properties -----------------------------------------------

def test_collections_and_instruments(unlimited, eso_archive, no_warnings):
    archive = eso_archive.archive
    for kwargs, match in (({"collections": "KMOS"}, {"obs_collection": "KMOS"}),
                          ({"instruments": "K?OS"}, {"instrument_name": "KMOS"}),
                          ({"collections": "VVV, VMC"}, None)):
        table = unlimited.query_ancillary(**kwargs)
        if match is None:
            ids = [p["dp_id"] for p in archive.products
                   if p["obs_collection"] in ("VVV", "VMC")]
        else:
            ids = [p["dp_id"] for p in products_where(archive, **match)]
        expected = files_where(archive, ids, lambda f: f["eso_category"].startswith("ANC"))
        assert archive_ids(table) == [f["archive_id"] for f in ordered(expected)]


def test_collection_injection_refused(unlimited):
    with pytest.raises(ValueError, match="collections"):
        unlimited.query_ancillary(collections=INJECTION)
    with pytest.raises(ValueError, match="instruments"):
        unlimited.query_ancillary(instruments=[INJECTION])


def test_cone(unlimited, eso_archive, no_warnings):
    product = eso_archive.archive.product(EX1)
    centre = SkyCoord(product["s_ra"] * u.deg, product["s_dec"] * u.deg)
    table = unlimited.query_ancillary(cone_ra=product["s_ra"], cone_dec=product["s_dec"],
                                      cone_radius=1 * u.arcmin,
                                      columns=["archive_id", "product_id", "s_ra", "s_dec",
                                               "s_fov"])
    assert set(f["archive_id"] for f in eso_archive.archive.files_of(EX1)
               if f["eso_category"].startswith("ANCILLARY")) <= set(archive_ids(table))
    coords = SkyCoord(u.Quantity(table["s_ra"], u.deg), u.Quantity(table["s_dec"], u.deg))
    assert all(centre.separation(coords).deg <= 1 / 60 + table["s_fov"].data)
    assert "INTERSECTS(o.s_region, CIRCLE('ICRS'" in data_queries(eso_archive)[-1]
    with pytest.raises(ValueError, match="cone_dec"):
        unlimited.query_ancillary(cone_ra=10, cone_radius=0.1)
    with pytest.raises(ValueError, match="cone_dec"):
        unlimited.query_ancillary(cone_ra=10, cone_dec=95, cone_radius=0.1)


def test_column_filters_and_obscore_filters(unlimited, eso_archive, no_warnings):
    archive = eso_archive.archive
    table = unlimited.query_ancillary(collections="MUSE",
                                      column_filters={"access_estsize": "> 300",
                                                      "extension": "in ('PNG', 'LOG')"})
    muse = [p["dp_id"] for p in products_where(archive, obs_collection="MUSE")]
    expected = files_where(archive, muse, lambda f: f["eso_category"].startswith("ANC")
                           and f["access_estsize"] > 300 and f["extension"] in ("PNG", "LOG"))
    assert archive_ids(table) == [f["archive_id"] for f in ordered(expected)]
    table = unlimited.query_ancillary(obscore_filters={"target_name": "WASP-76"},
                                      columns="archive_id, target_name")
    ids = [p["dp_id"] for p in products_where(archive, target_name="WASP-76")]
    expected = files_where(archive, ids, lambda f: f["eso_category"].startswith("ANC"))
    assert set(table["target_name"]) == {"WASP-76"}
    assert sorted(archive_ids(table)) == sorted(f["archive_id"] for f in expected)
    with pytest.raises(ValueError, match="obscore_filters"):
        unlimited.query_ancillary(column_filters={"target_name": "WASP-76"})
    with pytest.raises(ValueError, match="Accepted forms"):
        unlimited.query_ancillary(column_filters={"extension": "in 'PNG'"})


@pytest.mark.parametrize("argument", ["original_filename", "column_filters",
                                      "obscore_filters"])
def test_injection_stays_a_literal(unlimited, eso_archive, argument):
    kwargs = {"column_filters": {"original_filename": INJECTION},
              "obscore_filters": {"target_name": INJECTION}}.get(argument, INJECTION)
    with pytest.warns(NoResultsWarning):
        table = unlimited.query_ancillary(**{argument: kwargs})
    assert len(table) == 0
    sent = eso_archive.queries[-1].adql
    assert INJECTION in literals(sent)
    assert "'1'='1'" not in sent.replace("''", "")


@pytest.mark.parametrize("argument", ["categories", "collections", "instruments"])
def test_injection_in_names_is_refused_before_sending(unlimited, eso_archive, argument):
    sent = len(data_queries(eso_archive))
    with pytest.raises(ValueError, match="Invalid"):
        unlimited.query_ancillary(**{argument: INJECTION})
    assert len(data_queries(eso_archive)) == sent


# -- query_ancillary: keywords -----------------------------------------------------------

def test_count_only_and_top(unlimited, eso_archive):
    archive = eso_archive.archive
    expected = [f for f in archive.files if f["eso_category"].startswith("ANCILLARY.")]
    assert unlimited.query_ancillary(count_only=True) == len(expected)
    assert "COUNT(*)" in eso_archive.queries[-1].adql
    assert unlimited.query_ancillary(count_only=True, top=5) == 5
    table = unlimited.query_ancillary(top=4)
    assert len(table) == 4
    assert data_queries(eso_archive)[-1].startswith("SELECT TOP 4 ")


def test_row_limit_warnings(eso_archive):
    eso = eso_archive.eso
    eso.ROW_LIMIT = 3
    with pytest.warns(MaxResultsWarning, match="truncated to 3"):
        table = eso.query_ancillary(collections="MUSE")
    assert len(table) == 3
    with pytest.warns(MaxResultsWarning):
        assert len(eso.query_ancillary(collections="MUSE", top=5)) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(eso.query_ancillary(collections="MUSE", top=3)) == 3
        assert len(eso.query_ancillary(EX1, categories="ANCILLARY.PREVIEW")) == 3
    with pytest.warns(NoResultsWarning, match="no results"):
        assert len(eso.query_ancillary(collections="MUSE",
                                       original_filename="NO_SUCH_FILE*")) == 0
    # A collection the archive does not have is an error, not an empty result.
    with pytest.raises(ValueError, match="NO_SUCH_COLLECTION"):
        eso.query_ancillary(collections="NO_SUCH_COLLECTION")


def test_order_by(unlimited, eso_archive, no_warnings):
    desc = unlimited.query_ancillary(collections="MUSE", order_by="access_estsize")
    sizes = list(desc["access_estsize"])
    assert sizes == sorted(sizes, reverse=True)
    asc = unlimited.query_ancillary(collections="MUSE", order_by="access_estsize",
                                    order_by_desc=False)
    assert list(asc["access_estsize"]) == sorted(sizes)
    ids = [p["dp_id"] for p in products_where(eso_archive.archive, obs_collection="MUSE")]
    merged = unlimited.query_ancillary(ids, order_by="access_estsize", chunk_size=7)
    assert list(merged["access_estsize"]) == sizes
    assert len(data_queries(eso_archive)) > 3


def test_eso_patched_signature_compatible(eso_archive, no_warnings):
    """query_ancillary(dp_id, *, help, columns, column_filters, top, count_only,
    get_query_payload, authenticated, order_by, order_by_desc) as ESO's examples use it."""
    eso = eso_archive.eso
    table = eso.query_ancillary(EX1, help=False, columns=["archive_id", "eso_category"],
                                column_filters={"eso_category": "ANCILLARY.PREVIEW"},
                                top=None, count_only=False, get_query_payload=False,
                                authenticated=False, order_by="", order_by_desc=True)
    assert table.colnames == ["archive_id", "eso_category"]
    assert archive_ids(table) == [f"ADP.2024-03-19T05:58:04.{n}" for n in (410, 411, 412)]
    payload = eso.query_ancillary([EX1], get_query_payload=True, top=2,
                                  order_by="archive_id", order_by_desc=False)
    assert payload.startswith("SELECT TOP 2 ") and payload.endswith(
        "ORDER BY f.archive_id ASC")
    count_payload = eso.query_ancillary(EX1, count_only=True, get_query_payload=True)
    assert count_payload.startswith("SELECT COUNT(*) FROM")


def test_payload_equals_query_sent(unlimited, eso_archive, no_warnings):
    payload = unlimited.query_ancillary(collections="MUSE", original_filename="r.MUSE*_tpl*",
                                        get_query_payload=True)
    assert not data_queries(eso_archive)
    unlimited.query_ancillary(collections="MUSE", original_filename="r.MUSE*_tpl*")
    assert data_queries(eso_archive)[-1] == payload


def test_help(eso_archive, capsys):
    assert eso_archive.eso.query_ancillary(help=True) is None
    out = capsys.readouterr()
    text = out.out + out.err
    for word in ("phase3v2.product_files", "ivoa.ObsCore", "access_estsize", "kB",
                 "target_name", "obs_release_date", "Estimated file size"):
        assert word in text
    assert not data_queries(eso_archive)


def test_bad_arguments(unlimited):
    for kwargs, error in (({"top": 0}, ValueError), ({"top": "3"}, TypeError),
                          ({"categories": 5}, TypeError), ({"chunk_size": 0}, ValueError),
                          ({"cache": "yes"}, TypeError), ({"columns": ["a b"]}, ValueError),
                          ({"order_by": "nope"}, ValueError)):
        with pytest.raises(error):
            unlimited.query_ancillary(EX1, **kwargs)


# -- caching, async, errors, authentication --------------------------------------------

def test_cache_second_query_sends_nothing(eso_archive, no_warnings):
    eso = eso_archive.eso
    first = eso.query_ancillary(EX1)
    n = len(eso_archive.requests)
    second = eso.query_ancillary(EX1)
    assert len(eso_archive.requests) == n
    assert archive_ids(first) == archive_ids(second)
    fresh = type(eso)(archive_url=eso_archive.url)  # a new instance, same disk cache
    fresh.cache_location = eso.cache_location
    assert archive_ids(fresh.query_ancillary(EX1)) == archive_ids(first)
    assert len(eso_archive.requests) == n
    eso.query_ancillary(EX1, cache=False)
    assert len(eso_archive.requests) == n + 1


def test_async_forced(unlimited, eso_archive, no_warnings):
    sync = unlimited.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                     cache=False)
    eso_archive.reset()
    table = unlimited.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                      async_job=True)
    assert archive_ids(table) == archive_ids(sync)
    log = [r for r in eso_archive.requests if r.path.startswith("/tap_obs/async")]
    assert log[0].method == "POST" and log[-1].method == "DELETE"
    assert not [r for r in eso_archive.requests if r.path == "/tap_obs/sync"]


def test_async_automatic_above_threshold(unlimited, eso_archive, no_warnings):
    with conf.set_temp("async_threshold", 20):
        table = unlimited.query_ancillary(collections="MUSE")
        muse = [p["dp_id"] for p in products_where(eso_archive.archive,
                                                   obs_collection="MUSE")]
        expected = files_where(eso_archive.archive, muse,
                               lambda f: f["eso_category"].startswith("ANC"))
        assert archive_ids(table) == [f["archive_id"] for f in ordered(expected)]
        methods = [r.method for r in eso_archive.requests
                   if r.path.startswith("/tap_obs/async")]
        assert methods[0] == "POST" and methods[-1] == "DELETE"
        assert "COUNT(*)" in [q.adql for q in eso_archive.queries][-2]
        # With a row limit below the threshold, no count and no job.
        eso_archive.reset()
        unlimited.ROW_LIMIT = 5
        with pytest.warns(MaxResultsWarning):
            unlimited.query_ancillary(collections="MUSE", cache=False)
        assert not [r for r in eso_archive.requests if r.path.startswith("/tap_obs/async")]


def test_retries_then_success_and_exhaustion(eso_archive, no_warnings):
    eso = eso_archive.eso
    eso.get_product_files(EX1)  # schema read before the faults
    with conf.set_temp("backoff", 0.01), conf.set_temp("max_retries", 8):
        eso_archive.faults = Faults(error_fraction=0.6, error_status=503, retry_after=0,
                                    paths=("/tap_obs",), seed=1)
        table = eso.get_product_files(EX2, datalink=False)
        assert len(table) == len(eso_archive.archive.files_of(EX2))
        assert 503 in [r.status for r in tap_requests(eso_archive)]
        eso_archive.faults = Faults(error_fraction=1.0, error_status=503, paths=("/tap_obs",))
        with pytest.raises(EsoServiceError, match="503"):
            eso.get_product_files(EX3_FIRST, datalink=False)


def test_service_error_is_raised_not_an_empty_table(eso_archive):
    eso = eso_archive.eso
    eso.get_product_files(EX1)
    eso_archive.tap_override = {"status": 400, "body": (
        b'<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE type="results">'
        b'<INFO name="QUERY_STATUS" value="ERROR">Table is locked for maintenance</INFO>'
        b"</RESOURCE></VOTABLE>")}
    with pytest.raises(EsoQueryError, match="locked for maintenance") as info:
        eso.query_ancillary(EX2)
    assert FILES_FROM in info.value.query


def test_authenticated_queries(eso_archive, no_warnings):
    eso = eso_archive.eso
    with pytest.raises(LoginError, match="login"):
        eso.query_ancillary(EX1, authenticated=True)
    eso_archive.add_user("alice", "wonderland")
    assert eso._authenticate(username="alice", password="wonderland")
    eso_archive.reset()
    eso_archive.add_user("alice", "wonderland")
    for _ in range(2):  # never cached
        table = eso.query_ancillary(EX1, authenticated=True)
        assert len(table) == 5
    sync = [r for r in eso_archive.requests if r.path == "/tap_obs/sync"]
    assert [r.authorized for r in sync][-2:] == [True, True]
    eso.query_ancillary(EX2)
    sync = [r for r in eso_archive.requests if r.path == "/tap_obs/sync"]
    assert sync[-1].authorized is False
    assert "Authorization" not in eso._session.headers
    token = eso._auth_info.token
    for path in eso.cache_location.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes()


def test_expired_login(eso_archive):
    eso = eso_archive.eso
    eso_archive.add_user("bob", "pw")
    eso_archive.token_lifetime = 60  # inside the 10-minute safety margin
    assert eso._authenticate(username="bob", password="pw")
    with pytest.raises(LoginError, match="expired"):
        eso.query_ancillary(EX1, authenticated=True)


# -- size column and categories ----------------------------------------------------------

def test_old_size_column_name(eso_archive_factory, no_warnings):
    emu = eso_archive_factory(products=20, size_column="size_kb")
    eso = emu.eso
    table = eso.get_product_files(EX1)
    assert "size_kb" not in table.colnames
    assert [int(s) for s in table["access_estsize"]] == [row[4] for row in EXAMPLE1]
    assert table["access_estsize"].unit == u.kB
    assert "f.size_kb" in data_queries(emu)[-1]
    big = eso.query_ancillary(EX1, column_filters={"access_estsize": "> 340"},
                              columns=["archive_id", "access_estsize"])
    assert archive_ids(big) == ["ADP.2024-03-19T05:58:04.408", "ADP.2024-03-19T05:58:04.411"]
    summary = eso.list_ancillary_categories(product_ids=EX1)
    assert int(summary["access_estsize"].sum()) == sum(r[4] for r in EXAMPLE1[1:])


def test_list_ancillary_categories(eso_archive, no_warnings):
    eso = eso_archive.eso
    archive = eso_archive.archive
    table = eso.list_ancillary_categories(collections="MUSE")
    counts = {c: n for c, n in archive.category_counts("MUSE").items()
              if c.startswith("ANCILLARY.")}
    assert dict(zip(table["eso_category"], table["n_files"], strict=True)) == counts
    assert list(table["n_files"]) == sorted(table["n_files"], reverse=True)
    muse = [p["dp_id"] for p in products_where(archive, obs_collection="MUSE")]
    sizes = Counter()
    for f in files_where(archive, muse):
        sizes[f["eso_category"]] += f["access_estsize"]
    assert {c: int(s) for c, s in zip(table["eso_category"], table["access_estsize"],
                                      strict=True)} == {c: sizes[c] for c in counts}
    assert table["access_estsize"].unit == u.kB
    assert "GROUP BY f.eso_category" in table.meta["query"]

    by_ids = eso.list_ancillary_categories(product_ids=muse, chunk_size=10)
    assert dict(zip(by_ids["eso_category"], by_ids["n_files"], strict=True)) == counts
    by_instrument = eso.list_ancillary_categories(instruments="MUSE")
    assert dict(zip(by_instrument["eso_category"], by_instrument["n_files"],
                    strict=True)) == counts
    with pytest.warns(NoResultsWarning):  # both exist, but never together
        assert len(eso.list_ancillary_categories(collections="MUSE", instruments="HARPS")) == 0
    with pytest.raises(ValueError, match="'NOPE' is no collection"):
        eso.list_ancillary_categories(collections="NOPE")


def test_remaining_keywords(eso_archive, no_warnings):
    """get_product_files(async_job, authenticated, cache) and list_ancillary_categories'
    get_query_payload, cache and authenticated."""
    eso = eso_archive.eso
    table = eso.get_product_files([EX1, EX2], async_job=True)
    assert archive_ids(table) == [f["archive_id"] for f in files_where(eso_archive.archive,
                                                                       [EX1, EX2])]
    assert [r.method for r in eso_archive.requests
            if r.path.startswith("/tap_obs/async")][-1] == "DELETE"
    payload = eso.list_ancillary_categories(product_ids=[EX1, EX2], get_query_payload=True)
    assert "GROUP BY f.eso_category" in payload and EX2 in payload
    first = eso.list_ancillary_categories(product_ids=[EX1, EX2])
    assert first.meta["query"] == payload
    n = len(eso_archive.requests)
    assert list(eso.list_ancillary_categories(product_ids=[EX1, EX2])["n_files"]) == list(
        first["n_files"])
    assert len(eso_archive.requests) == n  # from the cache
    eso.list_ancillary_categories(product_ids=[EX1, EX2], cache=False)
    assert len(eso_archive.requests) == n + 1
    with pytest.raises(LoginError):
        eso.list_ancillary_categories(product_ids=EX1, authenticated=True)
    eso_archive.add_user("carol", "pw")
    assert eso._authenticate(username="carol", password="pw")
    eso.list_ancillary_categories(product_ids=EX1, authenticated=True)
    assert len(eso.get_product_files(EX1, authenticated=True, cache=False)) == 6
    sync = [r for r in eso_archive.requests if r.path == "/tap_obs/sync"]
    assert [r.authorized for r in sync[-2:]] == [True, True]


def test_service_row_cap_is_reported(eso_archive_factory):
    emu = eso_archive_factory(products=20, hard_maxrec=70)  # TAP_SCHEMA (62 rows) fits
    eso = emu.eso
    eso.ROW_LIMIT = -1
    total = sum(f["eso_category"].startswith("ANCILLARY.") for f in emu.archive.files)
    assert total > 70
    with pytest.warns(MaxResultsWarning, match="its own limit"):
        table = eso.query_ancillary()
    assert len(table) == 70
    with pytest.warns(MaxResultsWarning, match="its own limit"):  # refined path too
        eso.query_ancillary(original_filename="*_*")


def test_category_case_and_characters(unlimited, eso_archive, no_warnings):
    lower = unlimited.query_ancillary(EX1, categories="ancillary.preview")
    upper = unlimited.query_ancillary(EX1, categories="ANCILLARY.PREVIEW")
    assert len(lower) > 0 and list(lower["archive_id"]) == list(upper["archive_id"])
    sent = len(data_queries(eso_archive))
    with pytest.raises(ValueError, match=r"Invalid category in categories: 'ANCILLARY.\[PREVIEW'"):
        unlimited.query_ancillary(EX1, categories="ANCILLARY.[PREVIEW")
    assert len(data_queries(eso_archive)) == sent
