"""The emulator's TAP service through pyvo's own TAPService (sync and async) and requests."""
import gc
import warnings
from collections import Counter
from io import BytesIO

import pytest
import pyvo
import requests
from astropy.io.votable import parse_single_table
from pyvo.dal.exceptions import DALOverflowWarning, DALQueryError

MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
ESPRESSO = "ADP.2021-04-12T12:27:33.887"

EXAMPLE_1 = (f"SELECT archive_id, extension, eso_category, original_filename, access_estsize "
             f"FROM phase3v2.product_files WHERE product_id = '{MUSE_CUBE}' "
             f"ORDER BY archive_id")
EXAMPLE_2 = (f"SELECT archive_id, eso_category, original_filename "
             f"FROM phase3v2.product_files WHERE product_id = '{ESPRESSO}' "
             f"AND eso_category LIKE 'ANCILLARY.%' ORDER BY archive_id")
EXAMPLE_3 = ("SELECT f.archive_id, f.access_estsize, o.dp_id "
             "FROM ivoa.ObsCore AS o JOIN phase3v2.product_files AS f "
             "ON o.dp_id = f.product_id "
             "WHERE o.obs_collection = 'MUSE' AND f.eso_category = 'ANCILLARY.PREVIEW'")


@pytest.fixture
def session():
    """A requests session for pyvo, closed after the test."""
    with requests.Session() as http:
        yield http
    # pyvo's AsyncTAPJob.create never reads nor closes its (streamed) response, so each
    # submit_job leaks one client socket; collect it here, where it is known and silent,
    # instead of letting it surface as a ResourceWarning in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def service(eso_archive, session):
    """pyvo's own TAPService on the emulator."""
    return pyvo.dal.TAPService(eso_archive.tap_url, session=session)


@pytest.fixture(params=["sync", "async"])
def run(request, service):
    """Run ADQL through pyvo, synchronously or as a UWS job."""
    if request.param == "sync":
        return lambda adql, **kw: service.run_sync(adql, **kw).to_table()
    return lambda adql, **kw: service.run_async(adql, **kw).to_table()


def _text(values):
    return [str(v) for v in values]


def test_example_1_all_files_of_a_muse_cube(eso_archive, run):
    table = run(EXAMPLE_1)
    expected = eso_archive.archive.files_of(MUSE_CUBE)
    assert len(table) == 6 == len(expected)
    assert _text(table["archive_id"]) == [f["archive_id"] for f in expected]
    assert _text(table["eso_category"]) == [f["eso_category"] for f in expected]
    assert _text(table["original_filename"]) == [f["original_filename"] for f in expected]
    assert list(table["access_estsize"]) == [f["access_estsize"] for f in expected]
    # The reference rows themselves (eso-archive.md, Example 1).
    assert _text(table["archive_id"]) == [f"ADP.2024-03-19T05:58:04.{n}" for n in range(407, 413)]
    assert list(table["access_estsize"])[:3] == [2968672, 529, 241]
    assert _text(table["extension"]) == ["FITS", "FITS", "LOG", "PNG", "PNG", "PNG"]


def test_example_2_espresso_ancillaries(eso_archive, run):
    table = run(EXAMPLE_2)
    expected = [f for f in eso_archive.archive.files_of(ESPRESSO)
                if f["eso_category"].startswith("ANCILLARY.")]
    assert _text(table["archive_id"]) == sorted(f["archive_id"] for f in expected)
    by_id = dict(zip(_text(table["archive_id"]), _text(table["eso_category"]), strict=True))
    assert by_id["ADP.2021-04-12T12:27:33.903"] == "ANCILLARY.2DECHELLE.TAR"
    assert by_id["ADP.2021-04-12T12:27:33.898"] == "ANCILLARY.CCF"
    assert [by_id[f"ADP.2021-04-12T12:27:33.{n}"] for n in range(888, 893)] == \
        ["ANCILLARY.SPECTRUM"] * 5
    assert ESPRESSO not in by_id


def test_example_3_muse_previews_join(eso_archive, run):
    table = run(EXAMPLE_3)
    archive = eso_archive.archive
    muse = {p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"}
    expected = [f for f in archive.files
                if f["product_id"] in muse and f["eso_category"] == "ANCILLARY.PREVIEW"]
    assert len(table) == len(expected) > 3
    assert sorted(_text(table["archive_id"])) == sorted(f["archive_id"] for f in expected)
    assert {"ADP.2016-06-01T14:07:30.137", "ADP.2016-06-01T14:07:30.138",
            "ADP.2016-06-01T14:07:30.139"} <= set(_text(table["archive_id"]))


def test_join_group_by_counts_match_the_generator(eso_archive, run):
    archive = eso_archive.archive
    table = run("SELECT o.obs_collection, COUNT(*) AS n, SUM(f.access_estsize) AS kb "
                "FROM ivoa.ObsCore AS o JOIN phase3v2.product_files AS f "
                "ON o.dp_id = f.product_id GROUP BY o.obs_collection ORDER BY o.obs_collection")
    collection = {p["dp_id"]: p["obs_collection"] for p in archive.products}
    counts, sizes = Counter(), Counter()
    for f in archive.files:
        counts[collection[f["product_id"]]] += 1
        sizes[collection[f["product_id"]]] += f["access_estsize"]
    assert dict(zip(_text(table["obs_collection"]), map(int, table["n"]), strict=True)) == \
        dict(counts)
    assert dict(zip(_text(table["obs_collection"]), map(int, table["kb"]), strict=True)) == \
        dict(sizes)
    assert len(counts) >= 5


def test_bad_adql_raises_dalqueryerror_with_the_servers_message(eso_archive, run):
    emu = eso_archive
    for adql in ("SELECT TOP 3 archive_id FROM phase3v2.product_files LIMIT 3",
                 "SELECT archive_id FROM phase3v2.no_such_table",
                 "SELEC archive_id FROM phase3v2.product_files"):
        with pytest.raises(DALQueryError) as info:
            run(adql)
        record = emu.queries[-1]
        assert record.adql == adql and record.status == "ERROR"
        assert record.error and record.error in str(info.value)


def test_maxrec_overflow_is_seen_by_pyvo(service):
    adql = "SELECT archive_id FROM phase3v2.product_files"
    # Truncated at the client's own MAXREC: pyvo reports OVERFLOW without a warning.
    result = service.run_sync(adql, maxrec=5)
    assert len(result) == 5 and result.query_status == "OVERFLOW"
    result = service.run_async(adql, maxrec=7)
    assert len(result) == 7 and result.query_status == "OVERFLOW"
    # Not truncated: status OK.
    small = service.run_sync(f"SELECT archive_id FROM phase3v2.product_files "
                             f"WHERE product_id = '{MUSE_CUBE}'", maxrec=6)
    assert len(small) == 6 and small.query_status == "OK"


def test_query_log(eso_archive, service):
    emu = eso_archive
    service.run_sync(EXAMPLE_1)
    record = emu.queries[-1]
    assert record.adql == EXAMPLE_1
    assert record.status == "COMPLETED" and record.error is None
    assert record.sql


def test_sync_get_with_lowercase_parameters(eso_archive):
    emu = eso_archive
    response = requests.get(emu.tap_url + "/sync", params={
        "request": "doQuery", "lang": "ADQL", "maxrec": "2", "responseformat": "votable",
        "query": "SELECT archive_id FROM phase3v2.product_files"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-votable+xml")
    assert len(parse_single_table(BytesIO(response.content)).array) == 2
    assert b'name="QUERY_STATUS" value="OVERFLOW"' in response.content


@pytest.mark.parametrize(("params", "word"), [
    ({"QUERY": "SELECT TOP 1 dp_id FROM ivoa.ObsCore"}, "LANG"),
    ({"LANG": "SQL", "QUERY": "SELECT 1"}, "LANG"),
    ({"LANG": "ADQL"}, "QUERY"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 dp_id FROM ivoa.ObsCore", "MAXREC": "many"},
     "MAXREC"),
    ({"LANG": "ADQL-2.1", "QUERY": "SELECT TOP 1 dp_id FROM ivoa.ObsCore"}, "ADQL-2.0"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 dp_id FROM ivoa.ObsCore",
      "RESPONSEFORMAT": "csv"}, "RESPONSEFORMAT"),
    ({"REQUEST": "getCapabilities", "LANG": "ADQL", "QUERY": "SELECT 1"}, "REQUEST"),
])
def test_bad_tap_parameters_give_an_error_votable(eso_archive, params, word):
    response = requests.post(eso_archive.tap_url + "/sync", data=params, timeout=30)
    assert response.status_code == 400
    assert b'value="ERROR"' in response.content
    assert word.encode() in response.content


def test_async_job_life_cycle_with_pyvo(service):
    job = service.submit_job("SELECT TOP 1 dp_id FROM ivoa.ObsCore")
    assert job.phase == "PENDING"
    # A PENDING job's parameters can still change.
    job.execution_duration = 120
    job.query = EXAMPLE_1
    assert requests.get(job.url + "/executionduration", timeout=10).text.strip() == "120"
    job.run()
    job.wait(timeout=60)
    assert job.phase == "COMPLETED"
    assert len(job.fetch_result()) == 6
    url = job.url
    assert requests.get(url + "/phase", timeout=10).text.strip() == "COMPLETED"
    job.delete()
    assert requests.get(url, timeout=10).status_code == 404


def test_async_error_job(eso_archive, service):
    job = service.submit_job("SELECT nothing FROM nowhere").run().wait(timeout=60)
    assert job.phase == "ERROR"
    with pytest.raises(DALQueryError, match=eso_archive.queries[-1].error[:30]):
        job.raise_if_error()
    error = requests.get(job.url + "/error", timeout=10)
    assert error.status_code == 200 and b'value="ERROR"' in error.content
    job.delete()


def test_async_with_plain_http(eso_archive):  # no pyvo here
    emu = eso_archive
    created = requests.post(emu.tap_url + "/async", data={
        "REQUEST": "doQuery", "LANG": "ADQL", "PHASE": "RUN",
        "QUERY": f"SELECT archive_id FROM phase3v2.product_files WHERE product_id = "
                 f"'{MUSE_CUBE}'"}, allow_redirects=False, timeout=10)
    assert created.status_code == 303
    job_url = created.headers["Location"]
    assert job_url.startswith(emu.tap_url + "/async/")
    xml = requests.get(job_url, params={"WAIT": "10"}, timeout=30).text
    for _ in range(50):
        if "<uws:phase>COMPLETED</uws:phase>" in xml:
            break
        xml = requests.get(job_url, params={"WAIT": "1"}, timeout=30).text
    assert "<uws:phase>COMPLETED</uws:phase>" in xml
    result = requests.get(job_url + "/results/result", timeout=10)
    assert len(parse_single_table(BytesIO(result.content)).array) == 6
    listing = requests.get(emu.tap_url + "/async", timeout=10).text
    assert job_url.rsplit("/", 1)[1] in listing
    deleted = requests.post(job_url, data={"ACTION": "DELETE"}, allow_redirects=False,
                            timeout=10)
    assert deleted.status_code == 303
    assert requests.get(job_url, timeout=10).status_code == 404


def test_capabilities_availability_and_output_limits(eso_archive_factory, session):
    emu = eso_archive_factory(products=5, default_maxrec=10, hard_maxrec=20)
    assert len(emu.archive.files) > 20
    service = pyvo.dal.TAPService(emu.tap_url, session=session)
    standards = {cap.standardid for cap in service.capabilities}
    assert "ivo://ivoa.net/std/TAP" in standards
    assert service.maxrec == 10 and service.hardlimit == 20
    available = requests.get(emu.tap_url + "/availability", timeout=10)
    assert available.status_code == 200
    assert b"<vosi:available>true</vosi:available>" in available.content
    adql = "SELECT archive_id FROM phase3v2.product_files"
    # The default MAXREC applies when the query gives none ...
    with pytest.warns(DALOverflowWarning):
        assert len(service.run_sync(adql)) == 10
    # ... and the hard limit caps any MAXREC asked for.
    with pytest.warns(DALOverflowWarning):
        assert len(service.run_sync(adql, maxrec=1000)) == 20


@pytest.mark.parametrize("size_column", ["access_estsize", "size_kb"])
def test_tables_describe_the_schema(eso_archive_factory, session, size_column):
    emu = eso_archive_factory(products=5, size_column=size_column)
    tables = pyvo.dal.TAPService(emu.tap_url, session=session).tables
    names = set(tables.keys())
    assert {"ivoa.ObsCore", "phase3v2.product_files", "TAP_SCHEMA.columns"} <= names
    columns = [c.name for c in tables["phase3v2.product_files"].columns]
    assert columns == list(emu.archive.file_columns)
    assert size_column in columns and len(columns) == 8
    one = requests.get(emu.tap_url + "/tables/phase3v2.product_files", timeout=10)
    assert one.status_code == 200 and size_column.encode() in one.content
    assert requests.get(emu.tap_url + "/tables/nope.nope", timeout=10).status_code == 404


def test_async_job_stops_at_its_execution_duration(eso_archive, service):
    # A triple self-join of product_files runs far longer than one second.
    job = service.submit_job("SELECT COUNT(*) AS n FROM phase3v2.product_files AS a, "
                             "phase3v2.product_files AS b, phase3v2.product_files AS c")
    job.execution_duration = 1
    job.run().wait(timeout=60)
    assert job.phase == "ERROR"
    with pytest.raises(DALQueryError, match="execution duration"):
        job.raise_if_error()
    assert eso_archive.queries[-1].status == "ERROR"
    job.delete()
