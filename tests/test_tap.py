"""tap.py against the emulator: sync/async runs, errors, retries, schema discovery."""
import logging
import re

import pytest
import requests
from astropy.table import Table

from astroquery_eso_ancillary import EsoQueryError, EsoServiceError, conf, tables, tap, transport
from astroquery_eso_ancillary.adql import FileQuery
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import LoginError

EX1 = "ADP.2024-03-19T05:58:04.407"
Q_EX1 = f"SELECT archive_id FROM phase3v2.product_files WHERE product_id = '{EX1}'"


def sync_requests(emu):
    return [r for r in emu.requests if r.path == "/tap_obs/sync"]


def async_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/tap_obs/async")]


@pytest.fixture
def fast_retries():
    with conf.set_temp("backoff", 0.01), conf.set_temp("max_retries", 3):
        yield


def test_sync_run_returns_rows(eso_archive):
    client = tap.TapClient(eso_archive.eso)
    result = client.run(Q_EX1)
    expected = [f["archive_id"] for f in eso_archive.archive.files_of(EX1)]
    assert sorted(result.table["archive_id"]) == sorted(expected)
    assert not result.overflow
    assert result.query == Q_EX1
    assert eso_archive.queries[-1].adql == Q_EX1


def test_overflow_flag_at_maxrec(eso_archive):
    client = tap.TapClient(eso_archive.eso)
    result = client.run(Q_EX1, maxrec=2)
    assert len(result.table) == 2 and result.overflow
    assert not client.run(Q_EX1, maxrec=6).overflow  # exactly all: no overflow


def test_count(eso_archive):
    client = tap.TapClient(eso_archive.eso)
    n = client.count("SELECT COUNT(*) FROM phase3v2.product_files")
    assert n == len(eso_archive.archive.files)


@pytest.mark.parametrize("query, fragment", [
    ("SELECT nothing FROM nowhere", None),
    ("SELECT TOP 1 archive_id FROM phase3v2.product_files LIMIT 1", "LIMIT"),
    ("SELECT archive_id FROM phase3v2.product_files WHERE archive_id LIKE 'A%' ESCAPE '!'",
     "ESCAPE"),
])
@pytest.mark.parametrize("async_job", [False, True])
def test_service_errors_raise_with_message_query_and_url(eso_archive, query, fragment,
                                                         async_job):
    client = tap.TapClient(eso_archive.eso)
    with pytest.raises(EsoQueryError) as info:
        client.run(query, async_job=async_job)
    server_message = eso_archive.queries[-1].error
    assert server_message
    assert server_message in info.value.message
    assert info.value.query == query
    assert info.value.url == eso_archive.tap_url
    assert query in str(info.value)
    if fragment:
        assert fragment in info.value.message
    if async_job:  # the failed job was deleted too
        assert any(r.method == "DELETE" for r in async_requests(eso_archive))


def test_async_run_creates_polls_fetches_and_deletes(eso_archive):
    client = tap.TapClient(eso_archive.eso)
    result = client.run(Q_EX1, async_job=True)
    assert sorted(result.table["archive_id"]) == sorted(
        f["archive_id"] for f in eso_archive.archive.files_of(EX1))
    log = async_requests(eso_archive)
    assert log[0].method == "POST" and log[0].path == "/tap_obs/async"
    job_paths = {r.path for r in log[1:]}
    job = [p for p in job_paths if re.fullmatch(r"/tap_obs/async/[^/]+", p)]
    assert len(job) == 1
    assert any(r.method == "POST" and r.path == job[0] + "/phase" for r in log)
    # ESO's default execution duration (60 s) is the sync limit; the job asks for more.
    assert any(r.method == "POST" and r.path == job[0] + "/executionduration" for r in log)
    assert any(r.method == "GET" and "/results/" in r.path for r in log)
    assert log[-1].method == "DELETE" and log[-1].path == job[0]
    assert not sync_requests(eso_archive)
    assert eso_archive._tap.jobs.all() == []


def test_async_overflow(eso_archive):
    result = tap.TapClient(eso_archive.eso).run(Q_EX1, maxrec=3, async_job=True)
    assert len(result.table) == 3 and result.overflow


def test_retries_then_success(eso_archive, fast_retries):
    eso_archive.faults = Faults(error_fraction=0.6, error_status=503, retry_after=0,
                                paths=("/tap_obs",), seed=1)
    with conf.set_temp("max_retries", 8):
        result = tap.TapClient(eso_archive.eso, cache=False).run(Q_EX1)
    assert len(result.table) == len(eso_archive.archive.files_of(EX1))
    statuses = [r.status for r in sync_requests(eso_archive)]
    assert statuses[-1] == 200 and 503 in statuses


@pytest.mark.parametrize("status", [503, 500, 429])
def test_all_failures_raise_service_error_after_bounded_retries(eso_archive, fast_retries,
                                                                status):
    eso_archive.faults = Faults(error_fraction=1.0, error_status=status, paths=("/tap_obs",))
    with pytest.raises(EsoServiceError, match=f"HTTP {status}"):
        tap.TapClient(eso_archive.eso).run(Q_EX1)
    assert len(sync_requests(eso_archive)) == conf.max_retries + 1
    eso_archive.faults = Faults()
    # Nothing bad was cached: the same query now succeeds.
    assert len(tap.TapClient(eso_archive.eso).run(Q_EX1).table) == 6


@pytest.mark.timeout(60)
def test_retry_after_wins_over_backoff(eso_archive):
    # With a 1000 s backoff the test could only finish in time if Retry-After: 0 is used.
    eso_archive.faults = Faults(error_fraction=0.6, error_status=429, retry_after=0,
                                paths=("/tap_obs",), seed=1)
    with conf.set_temp("backoff", 1000), conf.set_temp("max_retries", 8):
        assert len(tap.TapClient(eso_archive.eso, cache=False).run(Q_EX1).table) == 6
    assert 429 in [r.status for r in sync_requests(eso_archive)]


def test_dropped_connections_are_retried_then_raise(eso_archive, fast_retries):
    eso_archive.faults = Faults(drop_after=0, paths=("/tap_obs",))
    with pytest.raises(EsoServiceError, match="kept failing"):
        tap.TapClient(eso_archive.eso).run(Q_EX1)
    assert len(sync_requests(eso_archive)) == conf.max_retries + 1


def test_timeout_raises_service_error(eso_archive):
    eso = eso_archive.eso
    eso._timeout = 0.3
    eso_archive.faults = Faults(slow_fraction=1.0, slow_seconds=2, paths=("/tap_obs",))
    with pytest.raises(EsoServiceError, match="timeout"):
        tap.TapClient(eso).run(Q_EX1)


def test_not_a_votable(eso_archive):
    eso_archive.tap_override = {"status": 200, "content_type": "text/html",
                                "body": b"<html><body>Login</body></html>"}
    with pytest.raises(EsoServiceError, match="not a VOTable"):
        tap.TapClient(eso_archive.eso).run(Q_EX1)
    eso_archive.tap_override = {"status": 400, "content_type": "text/plain",
                                "body": b"bad request: nonsense"}
    with pytest.raises(EsoQueryError, match="nonsense"):  # the HTML was not cached
        tap.TapClient(eso_archive.eso).run(Q_EX1)
    eso_archive.tap_override = None
    assert len(tap.TapClient(eso_archive.eso).run(Q_EX1).table) == 6


def test_unauthorized_answer_is_a_login_error(eso_archive):
    eso_archive.tap_override = {"status": 401, "content_type": "text/plain",
                                "body": b"token expired"}
    with pytest.raises(LoginError):
        tap.TapClient(eso_archive.eso).run(Q_EX1)


def test_authenticated_client_needs_login(eso_archive):
    with pytest.raises(LoginError, match="login"):
        tap.TapClient(eso_archive.eso, authenticated=True)


def test_send_with_retries_counts_connection_errors(fast_retries):
    calls = []

    def send():
        calls.append(1)
        raise requests.ConnectionError("http://secret@example.invalid/?token=abc")

    with pytest.raises(EsoServiceError) as info:
        transport.send_with_retries(send, "http://example.invalid/tap")
    assert len(calls) == conf.max_retries + 1
    assert "token" not in str(info.value) and "secret" not in str(info.value)


@pytest.mark.parametrize("size_column", ["access_estsize", "size_kb"])
def test_schema_discovery(eso_archive_factory, size_column):
    emu = eso_archive_factory(products=5, size_column=size_column)
    client = tap.TapClient(emu.eso)
    schema = client.schema()
    assert schema.size_column == size_column
    obscore_def, files_def = emu.archive.tables
    assert list(schema.product_files) == files_def.column_names
    assert set(schema.obscore) == set(obscore_def.column_names)
    info = schema.product_files[size_column]
    column_def = next(c for c in files_def.columns if c.name == size_column)
    assert (info.datatype, info.unit, info.description) == (
        column_def.datatype, column_def.unit, column_def.description)
    n = len(sync_requests(emu))
    assert tap.TapClient(emu.eso).schema() is schema  # once per instance and URL
    assert len(sync_requests(emu)) == n


def test_selection_queries_and_describe(eso_archive):
    plan = FileQuery(("f.archive_id", "f.access_estsize"))
    queries = tap.selection_queries(plan, product_ids=[EX1, EX1.replace("407", "408")],
                                    chunk_size=1)
    assert isinstance(queries, list) and len(queries) == 2
    client = tap.TapClient(eso_archive.eso)
    table = client.run(queries[0]).table
    table = tables.describe(table, client.schema(), query=queries[:1], url=client.url)
    assert table.meta["query"] == queries[0]
    assert table.meta["url"] == eso_archive.tap_url
    assert str(table["access_estsize"].unit) == "kbyte"
    assert isinstance(table, Table)


def test_half_written_cache_file_is_asked_again(eso_archive):
    # astroquery writes cache files in place; another process may still be writing one.
    eso = eso_archive.eso
    assert len(tap.TapClient(eso).run(Q_EX1).table) == 6
    cached = list(eso.cache_location.glob("*.pickle"))
    assert cached
    for path in cached:
        path.write_bytes(path.read_bytes()[:10])
    before = len(sync_requests(eso_archive))
    assert len(tap.TapClient(eso).run(Q_EX1).table) == 6
    assert len(sync_requests(eso_archive)) == before + 1


def test_sync_time_out_is_run_again_as_a_job(eso_archive_factory, caplog):
    # ESO's service ends a sync query at its limit with HTTP 202 and "Time out! ...";
    # the client runs it again asynchronously and says so once.
    emu = eso_archive_factory(products=5, sync_timeout=0.5, query_delay=1.0)
    client = tap.TapClient(emu.eso, cache=False)
    with caplog.at_level(logging.INFO, logger="astroquery"):
        result = client.run(Q_EX1)
    assert len(result.table) == 6
    statuses = [q.status for q in emu.requests if q.path.endswith("/sync")]
    assert 202 in statuses
    assert any(r.path.endswith("/async") and r.method == "POST" for r in emu.requests)
    said = [r.getMessage() for r in caplog.records if "asynchronous job" in r.getMessage()]
    assert len(said) == 1 and "time limit" in said[0]
