# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""tap.py behaviours a mutation run showed unpinned: timeouts, status codes, async errors."""
import http.server
import re
import socket
import threading
import time
import warnings

import pytest

from astroquery_eso_ancillary import Eso, EsoQueryError, EsoServiceError, adql, conf, tap
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import LoginError

EX1 = "ADP.2024-03-19T05:58:04.407"
Q_EX1 = f"SELECT archive_id FROM phase3v2.product_files WHERE product_id = '{EX1}'"


@pytest.fixture
def fast_retries():
    with conf.set_temp("backoff", 0.01), conf.set_temp("max_retries", 1):
        yield


@pytest.fixture
def stalled_server():
    """A server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)  # held open, never read from or written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how", ["sync-cached", "sync-uncached", "async"])
def test_a_stalled_server_is_given_up_on_after_the_timeout(stalled_server, tmp_path,
                                                           fast_retries, how):
    # No timeout is passed to any request here: the client's default must be applied,
    # or the request waits forever (the pytest timeout would then fail the test).
    url, accepted = stalled_server
    eso = Eso(archive_url=url, timeout=0.5)
    eso.cache_location = tmp_path
    client = tap.TapClient(eso, cache=how == "sync-cached")
    start = time.monotonic()
    with pytest.raises(EsoServiceError) as info:
        client.run(Q_EX1, async_job=how == "async")
    assert time.monotonic() - start < 30  # generous: 0.5 s per attempt
    assert accepted, "the client never connected"
    assert url in str(info.value) or "timeout" in str(info.value).lower()


def test_the_timeout_default_is_conf_timeout():
    with conf.set_temp("timeout", 7):
        assert Eso().timeout == 7
    assert Eso(timeout=2).timeout == 2


def _votable_result(emu):
    # A real, valid result VOTable, as the emulator sends it for Q_EX1.
    import requests
    response = requests.post(emu.tap_url + "/sync", data={
        "REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": Q_EX1},
        timeout=30)
    assert response.status_code == 200 and b"<TABLE" in response.content
    return response.content


@pytest.mark.parametrize("status", [202, 203, 400, 404, 500])
@pytest.mark.parametrize("cache", [True, False])
def test_a_non_200_answer_with_a_valid_votable_is_not_a_result(eso_archive, status, cache,
                                                               fast_retries):
    body = _votable_result(eso_archive)
    eso_archive.tap_override = {"status": status, "content_type": "text/xml", "body": body}
    with pytest.raises((EsoQueryError, EsoServiceError)) as info:
        tap.TapClient(eso_archive.eso, cache=cache).run(Q_EX1)
    assert f"HTTP {status}" in str(info.value)
    if status < 500:
        assert isinstance(info.value, EsoQueryError)
    eso_archive.tap_override = None
    # Nothing was cached: the same query now gives the rows.
    assert len(tap.TapClient(eso_archive.eso, cache=cache).run(Q_EX1).table) == 6


@pytest.fixture
def answering_server():
    """A server on 127.0.0.1 answering every request with ``answer["status"]``, logged."""
    answer = {"status": 500, "body": b"no", "log": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            answer["log"].append((self.command, self.path))
            self.send_response(answer["status"])
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        def do_GET(self):
            self._reply()

        def do_POST(self):
            self._reply()

        def do_DELETE(self):
            self._reply()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answer
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status, error", [
    (401, LoginError), (403, LoginError), (400, EsoQueryError), (404, EsoQueryError),
    (409, EsoQueryError), (500, EsoServiceError), (502, EsoServiceError),
])
def test_async_errors_are_mapped_by_status(answering_server, tmp_path, fast_retries, status,
                                           error):
    url, answer = answering_server
    answer["status"] = status
    eso = Eso(archive_url=url, timeout=10)
    eso.cache_location = tmp_path
    with pytest.raises(error) as info:
        tap.TapClient(eso).run(Q_EX1, async_job=True)
    assert type(info.value) is error  # EsoQueryError is no EsoServiceError, and vice versa
    if error is EsoQueryError:
        assert f"HTTP {status}" in info.value.message
        assert info.value.query == Q_EX1
        assert info.value.url == eso.tap_url
    elif error is LoginError:
        assert f"HTTP {status}" in str(info.value) and "login" in str(info.value)
    else:
        assert eso.tap_url in str(info.value)
    assert answer["log"][0] == ("POST", "/tap_obs/async")


@pytest.mark.parametrize("status", [500, 503])
def test_async_5xx_from_the_emulator_is_a_service_error(eso_archive, fast_retries, status):
    eso_archive.faults = Faults(error_fraction=1.0, error_status=status,
                                paths=("/tap_obs/async",))
    with pytest.raises(EsoServiceError) as info:
        tap.TapClient(eso_archive.eso).run(Q_EX1, async_job=True)
    assert type(info.value) is EsoServiceError
    assert eso_archive.tap_url in str(info.value)
    assert not eso_archive.queries  # the query never ran


# -- selections: counts with top, categories over chunks, schema errors -----------------

def ancillary_of(emu, product):
    return [f for f in emu.archive.files_of(product) if f["eso_category"].startswith(
        "ANCILLARY.")]


def products_with_ancillaries(emu, n):
    found = [p["dp_id"] for p in emu.archive.products if len(ancillary_of(emu, p["dp_id"])) > 1]
    assert len(found) >= n
    return found[:n]


@pytest.mark.parametrize("top", [1, 2, 1000])
def test_a_count_with_top_is_capped_at_top(eso_archive, top):
    product = products_with_ancillaries(eso_archive, 1)[0]
    n = len(ancillary_of(eso_archive, product))
    assert eso_archive.eso.query_ancillary(product, count_only=True, top=top,
                                           cache=False) == min(n, top)


def test_a_refined_count_is_counted_on_the_client(eso_archive):
    product = products_with_ancillaries(eso_archive, 1)[0]
    names = [f["original_filename"] for f in ancillary_of(eso_archive, product)]
    prefix = names[0][0]
    assert prefix not in "_%"
    pattern = prefix + "*"  # a plain wildcard: the service counts
    expected = sum(1 for n in names if n.startswith(prefix))
    assert eso_archive.eso.query_ancillary(product, count_only=True, cache=False,
                                           original_filename=pattern) == expected
    assert eso_archive.queries[-1].adql.startswith("SELECT COUNT(*)")
    # A literal '_' makes the LIKE a superset: the client fetches and refines.
    assert eso_archive.eso.query_ancillary(product, count_only=True, cache=False,
                                           original_filename="*_*") == sum(
        1 for n in names if "_" in n)
    assert not eso_archive.queries[-1].adql.startswith("SELECT COUNT(*)")


def test_categories_are_merged_over_chunks(eso_archive):
    products = products_with_ancillaries(eso_archive, 3)
    table = eso_archive.eso.list_ancillary_categories(product_ids=products, chunk_size=1,
                                                      cache=False)
    assert len([q for q in eso_archive.queries if "GROUP BY" in q.adql]) == 3
    totals = {}
    for product in products:
        for f in ancillary_of(eso_archive, product):
            n, size = totals.get(f["eso_category"], (0, 0))
            totals[f["eso_category"]] = (n + 1, size + int(f["access_estsize"]))
    expected = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    assert [(r["eso_category"], int(r["n_files"]), int(r["access_estsize"]))
            for r in table] == [(c, n, s) for c, (n, s) in expected]
    assert table["n_files"].description == "Number of files"
    assert len(table.meta["query"]) == 3


def _schema_answer(emu, where):
    import requests
    query = ("SELECT table_name, column_name, datatype, unit, description FROM "
             f"TAP_SCHEMA.columns WHERE {where}")
    response = requests.post(emu.tap_url + "/sync", data={
        "REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": query},
        timeout=30)
    assert response.status_code == 200
    return response.content


def test_a_schema_without_product_files_is_an_error(eso_archive, tmp_path):
    eso_archive.tap_override = {"status": 200, "content_type": "text/xml",
                                "body": _schema_answer(eso_archive,
                                                       "table_name = 'ivoa.ObsCore'")}
    eso = Eso(archive_url=eso_archive.url)
    eso.cache_location = tmp_path
    with pytest.raises(EsoServiceError) as info:
        tap.TapClient(eso).schema()
    assert str(info.value) == (f"{eso_archive.tap_url} does not publish "
                               "phase3v2.product_files in TAP_SCHEMA.columns.")
    assert eso_archive.tap_url not in eso.schema_cache


def test_count_of_an_empty_answer_is_an_error(eso_archive):
    eso_archive.tap_override = {"status": 200, "content_type": "text/xml",
                                "body": _schema_answer(eso_archive, "1 = 0")}
    with pytest.raises(EsoServiceError) as info:
        tap.TapClient(eso_archive.eso).count("SELECT COUNT(*) FROM ivoa.ObsCore")
    assert str(info.value) == f"{eso_archive.tap_url} returned no row for a COUNT query."


# -- messages, warnings and the UWS wait (survivors of a tap sample) ---------------------

VOTABLE_HEAD = (b'<?xml version="1.0"?><VOTABLE version="1.4" '
                b'xmlns="http://www.ivoa.net/xml/VOTable/v1.3">')


def test_a_votable_without_a_result_table_is_a_service_error(eso_archive):
    eso_archive.tap_override = {"status": 200, "content_type": "text/xml",
                                "body": VOTABLE_HEAD + b"</VOTABLE>"}
    with pytest.raises(EsoServiceError) as info:
        tap.TapClient(eso_archive.eso, cache=False).run(Q_EX1)
    assert str(info.value).startswith(f"{eso_archive.tap_url}/sync sent a VOTable without a "
                                      "result table (HTTP 200): ")


def test_the_login_error_says_how_to_log_in(eso_archive):
    eso_archive.tap_override = {"status": 403, "content_type": "text/plain", "body": b"no"}
    with pytest.raises(LoginError) as info:
        tap.TapClient(eso_archive.eso, cache=False).run(Q_EX1)
    assert str(info.value) == ("The archive refused the query (HTTP 403); log in again with "
                               "Eso.login().")


@pytest.mark.parametrize("status", [501, 505])
def test_an_async_status_that_is_not_retried_is_a_service_error(answering_server, tmp_path,
                                                                fast_retries, status):
    url, answer = answering_server
    answer["status"] = status
    eso = Eso(archive_url=url, timeout=10)
    eso.cache_location = tmp_path
    with pytest.raises(EsoServiceError) as info:
        tap.TapClient(eso).run(Q_EX1, async_job=True)
    assert str(info.value).startswith(f"Asynchronous query on {eso.tap_url} failed: ")
    assert len(answer["log"]) == 1  # not retried


@pytest.mark.parametrize("fewer", [1, 2])
def test_row_limit_warns_once_and_the_service_limit_not_at_all(eso_archive, fewer):
    # MAXREC is ROW_LIMIT + 1: with 2 fewer the service's answer overflows at exactly MAXREC
    # rows, which is our cut, not the service's own limit.
    product = next(p["dp_id"] for p in eso_archive.archive.products
                   if len(ancillary_of(eso_archive, p["dp_id"])) > 3)
    n = len(ancillary_of(eso_archive, product))
    eso = eso_archive.eso
    eso.ROW_LIMIT = n - fewer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = eso.query_ancillary(product, cache=False)
    assert len(table) == n - fewer
    assert [str(w.message) for w in caught] == [
        f"Results truncated to {n - fewer} rows (ROW_LIMIT). Set ROW_LIMIT to None (or -1) to "
        "retrieve them all."]


def test_the_service_limit_is_warned_about(eso_archive_factory):
    emu = eso_archive_factory(products=200, hard_maxrec=150)  # above the schema's rows
    emu.eso.ROW_LIMIT = -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = emu.eso.query_ancillary(collections="*", cache=False)
    assert len(table) == 150
    assert "The service stopped at 150 rows (its own limit): the result is incomplete. " \
           "Narrow the selection or split it." in [str(w.message) for w in caught]


def test_a_count_selection_lists_its_queries(eso_archive):
    client = tap.TapClient(eso_archive.eso)
    plan = adql.plan_file_query(client.schema().product_files, top=3)
    selection = tap.run_selection(client, plan, product_ids=[EX1], count_only=True)
    assert selection.count == 3 and selection.table is None
    assert selection.queries == [eso_archive.queries[-1].adql]
    assert selection.queries[0].startswith("SELECT COUNT(*)")


@pytest.mark.timeout(120)
def test_the_async_wait_is_a_blocking_uws_wait(eso_archive):
    # A query that keeps the job running a moment, so that the client has to wait for it.
    query = "SELECT COUNT(*) FROM phase3v2.product_files AS a, phase3v2.product_files AS b"
    n = len(eso_archive.archive.files)
    assert tap.TapClient(eso_archive.eso).count(query, async_job=True) == n ** 2
    waits = [r for r in eso_archive.requests if r.method == "GET" and "WAIT=" in r.query]
    assert waits, [(r.method, r.path, r.query) for r in eso_archive.requests]
    assert all(re.fullmatch(r"WAIT=\d+&PHASE=(QUEUED|EXECUTING)", r.query) for r in waits)
