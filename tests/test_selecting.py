"""Selecting as astronomers do (issue 14), against the emulator over real HTTP:
names matched to the archive's spelling, typos caught, sky positions as SkyCoord,
values as Time and Quantity, tables that write anywhere, ESO's own keywords.

Expected rows come from the emulator's generated archive (``eso_archive.archive``)
or from the same selection written the established way.
"""
import datetime
import re
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table
from astropy.time import Time
from astroquery.exceptions import MaxResultsWarning, NoResultsWarning
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astroquery_eso_ancillary import conf, sky, vocabulary

EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"
UNKNOWN = "ADP.1999-01-01T00:00:00.000"


def archive_ids(table):
    return [str(a) for a in table["archive_id"]]


def distinct_queries(emu):
    return [q.adql for q in emu.queries if q.adql.startswith("SELECT DISTINCT")]


def last_file_query(emu):
    return [q.adql for q in emu.queries if "phase3v2.product_files AS f" in q.adql][-1]


@pytest.fixture
def eso(eso_archive):
    eso_archive.eso.ROW_LIMIT = -1
    return eso_archive.eso


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def products_of(archive, **match):
    return [p["dp_id"] for p in archive.products if all(p[k] == v for k, v in match.items())]


def expected_files(archive, product_ids, predicate):
    rows = [f for pid in product_ids for f in archive.files_of(pid) if predicate(f)]
    return sorted(f["archive_id"] for f in rows)


# -- names forgiven ---------------------------------------------------------------------

def test_lower_case_names_find_the_archive_spelling(eso, eso_archive, no_warnings):
    archive = eso_archive.archive
    muse = products_of(archive, obs_collection="MUSE")
    previews = expected_files(archive, muse, lambda f: f["eso_category"] == "ANCILLARY.PREVIEW")
    table = eso.query_ancillary(collections="muse", categories="ancillary.preview")
    assert sorted(archive_ids(table)) == previews and previews
    assert "o.obs_collection = 'MUSE'" in last_file_query(eso_archive)

    espresso = products_of(archive, instrument_name="ESPRESSO")
    ccf = expected_files(archive, espresso, lambda f: f["eso_category"] == "ANCILLARY.CCF")
    assert eso.query_ancillary(instruments="espresso", categories="ANCILLARY.CCF",
                               count_only=True) == len(ccf) > 0
    # A mixed-case collection: 'kids' is spelt KiDS by the archive.
    kids = products_of(archive, obs_collection="KiDS")
    assert kids
    table = eso.query_ancillary(collections="kids", extensions="fits")
    assert sorted(archive_ids(table)) == expected_files(
        archive, kids, lambda f: f["eso_category"].startswith("ANCILLARY.")
        and f["extension"] == "FITS")
    assert "o.obs_collection = 'KiDS'" in last_file_query(eso_archive)


def test_wildcards_match_case_insensitively(eso, eso_archive, no_warnings):
    archive = eso_archive.archive
    collections = {p["obs_collection"] for p in archive.products}
    v_names = sorted(c for c in collections if c.upper().startswith("V"))
    assert v_names  # VVV, VMC
    ids = [p["dp_id"] for p in archive.products if p["obs_collection"] in v_names]
    upper = eso.query_ancillary(collections="V*")
    assert "o.obs_collection LIKE 'V%'" in last_file_query(eso_archive)
    lower = eso.query_ancillary(collections="v*")
    # Matched only in another case: sent as the exact values it matches.
    assert ("o.obs_collection IN (" + ", ".join(f"'{c}'" for c in v_names) + ")"
            in last_file_query(eso_archive))
    assert archive_ids(lower) == archive_ids(upper)
    assert sorted(archive_ids(upper)) == expected_files(
        archive, ids, lambda f: f["eso_category"].startswith("ANCILLARY."))
    # A wildcard with a literal '_' keeps the exact client refinement.
    table = eso.query_ancillary(collections="MUSE", categories="ancillary.muse.pixtable_*")
    assert {str(c) for c in table["eso_category"]} == {"ANCILLARY.MUSE.PIXTABLE_REDUCED"}


def test_typos_raise_did_you_mean(eso):
    with pytest.raises(ValueError, match=r"'ANCILLARY.PREVEIW' is no category of the archive"
                                         r"\. Did you mean ANCILLARY\.PREVIEW\?"):
        eso.query_ancillary(categories="ANCILLARY.PREVEIW")
    with pytest.raises(ValueError, match=r"collections: 'MUSEE'.*Did you mean MUSE"):
        eso.query_ancillary(collections="MUSEE")
    with pytest.raises(ValueError, match=r"instruments: 'ESPRESO'.*Did you mean ESPRESSO"):
        eso.list_ancillary_categories(instruments="ESPRESO")
    with pytest.raises(ValueError, match=r"categories: 'ANCILLARY.PREVEIW'"):
        eso.get_product_files(EX1, categories="ANCILLARY.PREVEIW")
    with pytest.raises(ValueError, match=r"'NOPE\*' matches no collection"):
        eso.query_ancillary(collections="NOPE*")
    with pytest.raises(ValueError, match=r"extensions: 'PNGG'.*Did you mean PNG"):
        eso.query_ancillary(extensions="pngg")


NAMES = st.lists(st.sampled_from(list("AEHIKMOPRSUVaehikmoprsuv*? _.'")), min_size=1,
                 max_size=8).map("".join)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=NAMES)
def test_any_name_resolves_to_archive_values_or_is_refused(eso, eso_archive, text):
    """Whatever is typed, only the archive's own values (or the user's wildcard,
    when it matches in the user's case) reach the query; else a ValueError."""
    archive = eso_archive.archive
    known = sorted({p["obs_collection"] for p in archive.products})
    try:
        query = eso.query_ancillary(collections=text, get_query_payload=True)
    except ValueError as exc:
        assert "collections" in str(exc)
        return
    condition = query.split("o.obs_collection", 1)[1]
    literals = re.findall(r"'((?:[^']|'')*)'", condition)
    pattern = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                                 for c in text.strip()), re.IGNORECASE | re.DOTALL)
    assert literals
    for literal in literals:
        if literal in known:
            assert pattern.fullmatch(literal), (text, literal)
        else:  # a wildcard kept as LIKE: it matches some values in the user's case
            assert "*" in text or "?" in text, (text, literal)


def test_matching_can_be_turned_off(eso, eso_archive):
    with conf.set_temp("match_archive_values", False):
        query = eso.query_ancillary(collections="muse", get_query_payload=True)
    assert "o.obs_collection = 'muse'" in query
    assert distinct_queries(eso_archive) == []


def test_one_distinct_query_per_column_and_instance(eso, eso_archive, no_warnings):
    eso.query_ancillary(collections="muse", categories="ancillary.preview", top=1)
    eso.query_ancillary(collections="vvv", categories="ancillary.weightmap", top=1)
    eso.list_ancillary_categories(collections="HARPS")
    eso.get_product_files(EX1, categories="ancillary.preview")
    queries = distinct_queries(eso_archive)
    assert sorted(queries) == sorted([vocabulary.distinct_query("collections"),
                                      vocabulary.distinct_query("categories")])
    # The default categories ('ANCILLARY.*') and product-only calls need none.
    eso_archive.reset()
    eso.query_ancillary(EX1)
    eso.get_product_files(EX1)
    assert distinct_queries(eso_archive) == []
    # cache=False reads the values again.
    eso.query_ancillary(collections="muse", top=1, cache=False)
    assert distinct_queries(eso_archive) == [vocabulary.distinct_query("collections")]


def test_unknown_product_told_apart_from_one_without_such_files(eso):
    with pytest.warns(NoResultsWarning) as record:
        table = eso.get_product_files([EX1, UNKNOWN], categories="ANCILLARY.CCF",
                                      datalink=False)
    assert set(table["product_id"]) == set()
    text = " ".join(str(w.message) for w in record)
    assert f"1 of 2 product id(s) not found in phase3v2.product_files: {UNKNOWN}" in text
    assert f"1 of 2 product id(s) have no files of categories=['ANCILLARY.CCF']: {EX1}" \
        in text
    with pytest.warns(NoResultsWarning, match=f"not found in the archive: {UNKNOWN}"):
        eso.get_product_files(UNKNOWN)
    with pytest.warns(NoResultsWarning, match=f"not found in phase3v2.product_files: "
                                              f"{UNKNOWN}"):
        assert len(eso.query_ancillary(UNKNOWN)) == 0
    with pytest.warns(NoResultsWarning, match=f"have no files of categories=.*: {EX1}"):
        assert len(eso.query_ancillary(EX1, categories="ANCILLARY.CCF")) == 0


# -- sky positions ------------------------------------------------------------------------

def test_skycoord_in_galactic_gives_the_icrs_cone_rows(eso, eso_archive, no_warnings):
    product = eso_archive.archive.product(EX1)
    icrs = SkyCoord(product["s_ra"] * u.deg, product["s_dec"] * u.deg, frame="icrs")
    columns = ["archive_id", "product_id"]
    by_cone = eso.query_ancillary(cone_ra=icrs.ra.deg, cone_dec=icrs.dec.deg,
                                  cone_radius=2 / 60, columns=columns)
    cone_query = last_file_query(eso_archive)
    by_galactic = eso.query_ancillary(coordinates=icrs.galactic, radius=2 * u.arcmin,
                                      columns=columns)
    assert len(by_cone) > 0 and EX1 in set(by_cone["product_id"])
    assert archive_ids(by_galactic) == archive_ids(by_cone)
    # The galactic position went out as ICRS degrees.
    numbers = [float(x) for x in re.findall(r"CIRCLE\('ICRS', ([^,]+), ([^,]+), ([^)]+)\)",
                                            last_file_query(eso_archive))[0]]
    expected = [float(x) for x in re.findall(r"CIRCLE\('ICRS', ([^,]+), ([^,]+), ([^)]+)\)",
                                             cone_query)[0]]
    assert numbers == pytest.approx(expected, abs=1e-9)
    # An Angle, a str radius and degrees are the same radius.
    for radius in (Angle(120, u.arcsec), "2arcmin", 2 / 60):
        table = eso.query_ancillary(coordinates=icrs, radius=radius, columns=columns)
        assert archive_ids(table) == archive_ids(by_cone)


def test_default_radius_and_conflicts(eso, eso_archive, no_warnings):
    product = eso_archive.archive.product(EX1)
    centre = SkyCoord(product["s_ra"] * u.deg, product["s_dec"] * u.deg)
    eso.query_ancillary(coordinates=centre, count_only=True)
    radius = float(re.findall(r"CIRCLE\('ICRS', [^,]+, [^,]+, ([^)]+)\)",
                              eso_archive.queries[-1].adql)[0])
    assert radius == pytest.approx(sky.DEFAULT_RADIUS.to_value(u.deg))
    with pytest.raises(ValueError, match="not both"):
        eso.query_ancillary(coordinates=centre, cone_ra=10, cone_dec=10, cone_radius=1)
    with pytest.raises(ValueError, match="radius= needs coordinates="):
        eso.query_ancillary(radius=1 * u.arcmin)
    with pytest.raises(ValueError, match="radius must be an angle"):
        eso.query_ancillary(coordinates=centre, radius=3 * u.kg)
    with pytest.raises(TypeError, match="coordinates must be a SkyCoord"):
        eso.query_ancillary(coordinates=(10, 20))


def test_categories_in_a_cone(eso, eso_archive, no_warnings):
    archive = eso_archive.archive
    product = archive.product(EX1)
    centre = SkyCoord(product["s_ra"] * u.deg, product["s_dec"] * u.deg).galactic
    files = eso.query_ancillary(coordinates=centre, radius=1 * u.arcmin,
                                columns=["archive_id", "eso_category"])
    table = eso.list_ancillary_categories(coordinates=centre, radius=1 * u.arcmin)
    counts = {}
    for category in files["eso_category"]:
        counts[str(category)] = counts.get(str(category), 0) + 1
    assert dict(zip(table["eso_category"], table["n_files"], strict=True)) == counts
    assert "INTERSECTS(o.s_region, CIRCLE('ICRS'" in table.meta["query"]


def test_coordinates_text_is_parsed_offline(eso, eso_archive, no_warnings):
    # A position in text needs no name resolver.
    product = eso_archive.archive.product(EX1)
    text = SkyCoord(product["s_ra"] * u.deg, product["s_dec"] * u.deg).to_string("hmsdms")
    by_text = eso.query_ancillary(coordinates=text, radius="1arcmin", columns=["archive_id"])
    by_cone = eso.query_ancillary(cone_ra=product["s_ra"], cone_dec=product["s_dec"],
                                  cone_radius=1 * u.arcmin, columns=["archive_id"])
    assert archive_ids(by_text) == archive_ids(by_cone) and len(by_cone)


# -- values as Time and Quantity ----------------------------------------------------------

def test_time_and_date_filters(eso, eso_archive, no_warnings):
    reference = eso.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                    obscore_filters={"obs_release_date": "< '2017-01-01'"})
    assert len(reference) > 0
    for value in (Time("2017-01-01"), datetime.date(2017, 1, 1),
                  datetime.datetime(2017, 1, 1, tzinfo=datetime.timezone.utc),
                  Time(57754.0, format="mjd")):
        table = eso.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                    obscore_filters={"obs_release_date": ("<", value)})
        assert archive_ids(table) == archive_ids(reference), value
    # A range of times, on a numeric MJD column (t_min, in days).
    start, stop = Time("2015-01-01"), Time("2019-01-01")
    table = eso.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                obscore_filters={"t_min": ("between", start, stop)},
                                columns=["archive_id", "t_min"])
    assert f"o.t_min BETWEEN {float(start.mjd)!r} AND {float(stop.mjd)!r}" \
        in table.meta["query"]
    archive = eso_archive.archive
    muse = [p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"
            and start.mjd <= p["t_min"] <= stop.mjd]
    assert sorted(archive_ids(table)) == expected_files(
        archive, muse, lambda f: f["eso_category"] == "ANCILLARY.PREVIEW") and muse
    # A list of dates means IN.
    query = eso.query_ancillary(obscore_filters={"obs_release_date": [
        datetime.date(2017, 1, 1), Time("2018-02-03T04:05:06")]}, get_query_payload=True)
    assert "o.obs_release_date IN ('2017-01-01', '2018-02-03T04:05:06.000')" in query


def test_quantity_filters_convert_to_the_column_unit(eso, eso_archive, no_warnings):
    reference = eso.query_ancillary(collections="MUSE", column_filters={"access_estsize":
                                                                        "> 330"})
    table = eso.query_ancillary(collections="MUSE", column_filters={
        "access_estsize": (">", 0.33 * u.MB)})
    assert archive_ids(table) == archive_ids(reference) and len(reference)
    query = eso.query_ancillary(obscore_filters={"s_ra": ("between", 30 * u.arcmin, 2 * u.deg)},
                                get_query_payload=True)
    assert "o.s_ra BETWEEN 0.5 AND 2.0" in query


def test_filter_errors_name_the_argument_passed(eso):
    with pytest.raises(ValueError, match=r"obscore_filters\['s_ra'\].*cannot be converted"):
        eso.query_ancillary(obscore_filters={"s_ra": (">", 3 * u.kg)})
    with pytest.raises(ValueError, match=r"obscore_filters\['target_name'\].*holds text"):
        eso.query_ancillary(obscore_filters={"target_name": 3 * u.deg})
    with pytest.raises(ValueError, match=r"obscore_filters\['s_ra'\]: column s_ra is numeric"):
        eso.query_ancillary(obscore_filters={"s_ra": "abc"})
    with pytest.raises(ValueError, match=r"column_filters\['access_estsize'\] = \('between'"):
        eso.query_ancillary(column_filters={"access_estsize": ("between", 1 * u.kB)})
    with pytest.raises(ValueError, match=r"obscore_filters\['s_ra'\] = \[\{1\}\]: unsupported"):
        eso.query_ancillary(obscore_filters={"s_ra": [{1}]})


# -- tables that write anywhere -------------------------------------------------------------

COLUMNS = ["product_id", "archive_id", "eso_category", "extension", "original_filename",
           "access_estsize", "access_url", "target_name", "obs_release_date", "s_ra"]


def assert_same(read, table):
    assert read.colnames == table.colnames
    for name in table.colnames:
        assert read[name].unit == table[name].unit, name
        assert list(np.asarray(read[name])) == list(np.asarray(table[name])), name


def test_result_writes_to_fits_ecsv_votable_and_reads_back_equal(eso, tmp_path, no_warnings):
    table = eso.query_ancillary(collections="MUSE", columns=COLUMNS)
    assert len(table) > 100
    for name in COLUMNS:
        assert table[name].dtype.kind != "O", name
    assert table["archive_id"].dtype.kind == "U"
    assert table["access_estsize"].unit == u.kB and table["s_ra"].unit == u.deg
    for fmt, suffix in (("fits", ".fits"), ("ascii.ecsv", ".ecsv"), ("votable", ".xml")):
        path = tmp_path / ("result" + suffix)
        table.write(path, format=fmt)
        options = {"character_as_bytes": False} if fmt == "fits" else {}
        assert_same(Table.read(path, format=fmt, **options), table)
    assert '"""' not in (tmp_path / "result.ecsv").read_text()
    # The dates are ISO strings that Time reads.
    assert Time(list(table["obs_release_date"][:5])).format == "isot"


def test_result_to_pandas(eso, no_warnings):
    pytest.importorskip("pandas")
    table = eso.get_product_files([EX1, EX2])
    frame = table.to_pandas()
    assert list(frame["archive_id"]) == archive_ids(table)
    assert all(isinstance(v, str) for v in frame["eso_category"])
    assert list(frame["access_estsize"]) == [int(v) for v in table["access_estsize"]]


def test_result_writes_to_hdf5(eso, tmp_path, no_warnings):
    pytest.importorskip("h5py")
    table = eso.get_product_files([EX1, EX2])
    table.write(tmp_path / "files.h5", path="files", serialize_meta=True)
    assert_same(Table.read(tmp_path / "files.h5", path="files"), table)


# -- ESO's own keywords ------------------------------------------------------------------------

def test_dp_id_row_limit_maxrec(eso, eso_archive, no_warnings):
    by_ids = eso.query_ancillary([EX1, EX2])
    assert archive_ids(eso.query_ancillary(dp_id=[EX1, EX2])) == archive_ids(by_ids)
    assert archive_ids(eso.query_ancillary(dp_id=f"{EX1}, {EX2}")) == archive_ids(by_ids)
    with pytest.raises(ValueError, match="dp_id and product_ids"):
        eso.query_ancillary(EX1, dp_id=EX2)
    eso.ROW_LIMIT = -1
    limit_before = eso.ROW_LIMIT  # -1 (0.4.11) or astroquery's MAX_ROW_LIMIT (0.4.12)
    for keyword in ("ROW_LIMIT", "maxrec"):
        with pytest.warns(MaxResultsWarning, match="truncated to 4"):
            table = eso.query_ancillary(collections="MUSE", **{keyword: 4})
        assert len(table) == 4
    assert limit_before == eso.ROW_LIMIT  # the per-call limit is not kept
    eso.ROW_LIMIT = 2
    assert len(eso.query_ancillary(collections="MUSE", ROW_LIMIT=-1)) > 2
    with pytest.raises(ValueError, match="disagree"):
        eso.query_ancillary(collections="MUSE", ROW_LIMIT=3, maxrec=4)
    with pytest.raises(TypeError, match="maxrec must be an int"):
        eso.query_ancillary(collections="MUSE", maxrec="10")


def test_query_surveys_tables_with_arcfile(eso, no_warnings):
    surveys = Table({"ARCFILE": [EX1, EX2], "Object": ["a", "b"]})  # astroquery 0.4.11 shape
    assert archive_ids(eso.get_product_files(surveys)) == \
        archive_ids(eso.get_product_files([EX1, EX2]))
    assert archive_ids(eso.query_ancillary(surveys)) == \
        archive_ids(eso.query_ancillary([EX1, EX2]))
