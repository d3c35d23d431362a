# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""tap.TapClient against the emulator: waiting for jobs on a service that does not block,
the schema read, errors and what they carry."""
import pytest

from astroquery_eso_ancillary import EsoQueryError, EsoServiceError, conf, tap
from astroquery_eso_ancillary.emulator.votable import error_votable

EX1 = "ADP.2024-03-19T05:58:04.407"
Q_EX1 = f"SELECT archive_id FROM phase3v2.product_files WHERE product_id = '{EX1}'"


def job_polls(emu):
    """The requests that asked a job for its phase with a UWS WAIT."""
    return [r for r in emu.requests if "/async/" in r.path and "WAIT=" in (r.query or "")]


def test_a_job_on_a_service_that_does_not_block_is_polled_with_a_growing_delay(
        eso_archive_factory):
    emu = eso_archive_factory(products=5, uws_blocking=False, query_delay=1.5)
    client = tap.TapClient(emu.eso, cache=False)
    with conf.set_temp("backoff", 0.1):
        result = client.run(Q_EX1, async_job=True)
    assert len(result.table) == 6 and result.query == Q_EX1
    polls = job_polls(emu)
    # Waits of 0.1, 0.2, 0.4, 0.8 ... s: a handful of polls, not one every 0.1 s.
    assert 3 <= len(polls) <= 8, [p.query for p in polls]
    for poll in polls:
        assert "WAIT=30" in poll.query and "PHASE=" in poll.query


def test_a_job_on_a_blocking_service_is_not_polled(eso_archive_factory):
    emu = eso_archive_factory(products=5, query_delay=1.5)
    client = tap.TapClient(emu.eso, cache=False)
    with conf.set_temp("backoff", 0.1):
        result = client.run(Q_EX1, async_job=True)
    assert len(result.table) == 6
    assert 1 <= len(job_polls(emu)) <= 3


def test_the_schema_is_read_whole_whatever_the_default_maxrec(eso_archive_factory):
    emu = eso_archive_factory(products=5, default_maxrec=20)
    schema = tap.TapClient(emu.eso).schema()
    assert len(schema.obscore) > 20 and "archive_id" in schema.product_files


def test_a_cut_schema_is_an_error(eso_archive_factory):
    emu = eso_archive_factory(products=5, hard_maxrec=6)
    client = tap.TapClient(emu.eso)
    with pytest.raises(EsoServiceError) as info:
        client.schema()
    assert str(info.value) == (f"{client.url} cut the TAP_SCHEMA.columns answer at 6 rows; "
                               "cannot read the schema.")


def test_errors_carry_the_query_and_the_service_url(eso_archive):
    client = tap.TapClient(eso_archive.eso, cache=False)
    bad = "SELECT nope FROM phase3v2.product_files"
    for async_job in (False, True):
        with pytest.raises(EsoQueryError) as info:
            client.run(bad, async_job=async_job)
        assert info.value.query == bad and info.value.url == client.url
        assert not info.value.message.startswith("Query Error: ")
    assert client.run(Q_EX1).query == Q_EX1


@pytest.mark.parametrize("text, as_job", [
    ("Time out! The query took too long.", True),
    ("  time out! (after 60 s)", True),
    ("Something else went wrong.", False),
])
def test_only_a_time_out_answer_is_run_again_as_a_job(eso_archive, text, as_job):
    eso_archive.tap_override = {"status": 202, "content_type": "application/x-votable+xml",
                                "body": error_votable(text, action="sync")}
    client = tap.TapClient(eso_archive.eso, cache=False)
    try:
        if as_job:
            assert len(client.run(Q_EX1).table) == 6
        else:
            with pytest.raises(EsoQueryError) as info:
                client.run(Q_EX1)
            assert info.value.message == text and info.value.query == Q_EX1
    finally:
        eso_archive.tap_override = None
    jobs = [r for r in eso_archive.requests if r.path.endswith("/async") and r.method == "POST"]
    assert bool(jobs) is as_job


@pytest.mark.parametrize("status, error", [(400, EsoQueryError), (499, EsoQueryError),
                                           (501, EsoServiceError)])
def test_a_non_votable_answer_names_its_status_and_text(eso_archive, status, error):
    body = ("<html>" + "x" * 400 + "</html>").encode() + b"\xff"
    eso_archive.tap_override = {"status": status, "content_type": "text/html", "body": body}
    client = tap.TapClient(eso_archive.eso, cache=False)
    try:
        with pytest.raises(error) as info:
            client.run(Q_EX1)
    finally:
        eso_archive.tap_override = None
    text = body[:300].decode()
    if error is EsoQueryError:
        assert str(info.value.message) == f"HTTP {status}: {text}"
        assert info.value.query == Q_EX1 and info.value.url == client.url
    else:
        assert str(info.value) == (f"{client.url}/sync answered HTTP {status} with something "
                                   f"that is not a VOTable: {text!r}")


def test_jobs_ask_for_the_longest_execution_and_are_deleted(eso_archive):
    client = tap.TapClient(eso_archive.eso, cache=False)
    client.run(Q_EX1, async_job=True)
    asked = [r for r in eso_archive.requests if r.path.endswith("/executionduration")
             and r.method == "POST"]
    assert len(asked) == 1 and asked[0].status < 400
    job_url = asked[0].path.removesuffix("/executionduration")
    assert any(r.path == job_url and r.method in ("DELETE", "POST") and r.status < 400
               for r in eso_archive.requests if r is not asked[0])


def test_an_overflowing_job_result_is_flagged_not_warned(eso_archive, recwarn):
    client = tap.TapClient(eso_archive.eso, cache=False)
    result = client.run(Q_EX1, maxrec=2, async_job=True)
    assert result.overflow and len(result.table) == 2
    assert not [w for w in recwarn if "overflow" in str(w.message).lower()]
