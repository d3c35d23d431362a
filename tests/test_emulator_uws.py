# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's UWS 1.1 jobs over plain HTTP: phases, WAIT, ABORT, list filters, destruction."""
import datetime
import re
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from astroquery_eso_ancillary.emulator import ArchiveEmulator

UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}
QUICK = "SELECT TOP 1 dp_id FROM ivoa.ObsCore"
SLOW = ("SELECT COUNT(*) AS n FROM phase3v2.product_files AS a, "
        "phase3v2.product_files AS b, phase3v2.product_files AS c")


def _create(emu, query=QUICK, run=False, **params):
    data = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query, **params}
    if run:
        data["PHASE"] = "RUN"
    response = requests.post(emu.tap_url + "/async", data=data, allow_redirects=False,
                             timeout=10)
    assert response.status_code == 303
    return response.headers["Location"]


def _phase(url):
    return requests.get(url + "/phase", timeout=10).text.strip()


def _job(url, **params):
    root = ET.fromstring(requests.get(url, params=params, timeout=60).content)
    return {child.tag.split("}")[1]: child.text for child in root}


def _listing(emu, **params):
    root = ET.fromstring(requests.get(emu.tap_url + "/async", params=params,
                                      timeout=10).content)
    return [(ref.get("id"), ref.find("uws:phase", UWS).text)
            for ref in root.findall("uws:jobref", UWS)]


def _until(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_queued_and_executing_phases_can_be_seen(eso_archive):
    emu = eso_archive
    emu.queue_delay, emu.query_delay = 1.0, 1.0
    url = _create(emu, run=True)
    seen = {_phase(url)}
    assert _until(lambda: seen.add(_phase(url)) or "COMPLETED" in seen)
    assert {"QUEUED", "EXECUTING", "COMPLETED"} <= seen


def test_wait_returns_when_the_phase_changes(eso_archive):
    emu = eso_archive
    emu.queue_delay, emu.query_delay = 0.5, 30.0
    url = _create(emu, run=True)
    assert _job(url)["phase"] == "QUEUED"
    started = time.monotonic()
    job = _job(url, WAIT="20")                  # QUEUED -> EXECUTING after 0.5 s
    assert job["phase"] == "EXECUTING"
    assert time.monotonic() - started < 15      # returned at the change, not at 20 s
    started = time.monotonic()
    assert _job(url, WAIT="1")["phase"] == "EXECUTING"      # time ran out first
    assert time.monotonic() - started >= 0.9
    # PHASE given and already out of date: answered at once
    assert _job(url, WAIT="20", PHASE="QUEUED")["phase"] == "EXECUTING"
    requests.post(url + "/phase", data={"PHASE": "ABORT"}, timeout=10)


def test_abort_stops_a_running_query(eso_archive):
    emu = eso_archive
    url = _create(emu, SLOW, run=True, EXECUTIONDURATION="600")
    assert _until(lambda: _phase(url) == "EXECUTING")
    started = time.monotonic()
    response = requests.post(url + "/phase", data={"PHASE": "ABORT"}, allow_redirects=False,
                             timeout=10)
    assert response.status_code == 303 and _phase(url) == "ABORTED"
    # the engine is free again soon (the aborted query let go of it)
    quick = requests.post(emu.tap_url + "/sync", data={"LANG": "ADQL", "QUERY": QUICK},
                          timeout=60)
    assert quick.status_code == 200
    assert time.monotonic() - started < 20
    assert _until(lambda: any(q.status == "ABORTED" for q in emu.queries))
    assert _phase(url) == "ABORTED"


def test_abort_while_queued(eso_archive):
    emu = eso_archive
    emu.queue_delay = 30.0
    url = _create(emu, run=True)
    requests.post(url + "/phase", data={"PHASE": "ABORT"}, timeout=10)
    assert _phase(url) == "ABORTED"
    assert _job(url)["phase"] == "ABORTED" and emu.queries == []


def test_job_list_filters(eso_archive):
    emu = eso_archive
    pending = [_create(emu).rsplit("/", 1)[1] for _ in range(3)]
    done = _create(emu, run=True)
    assert _until(lambda: _phase(done) == "COMPLETED")
    done = done.rsplit("/", 1)[1]
    everything = _listing(emu)
    assert {j for j, _ in everything} == set(pending) | {done}
    assert _listing(emu, PHASE="COMPLETED") == [(done, "COMPLETED")]
    both = _listing(emu, PHASE=["PENDING", "COMPLETED"])
    assert {j for j, _ in both} == set(pending) | {done}
    assert [j for j, _ in _listing(emu, LAST="2")] == [done, pending[-1]]     # newest first
    future = (datetime.datetime.now(datetime.timezone.utc)
              + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _listing(emu, AFTER=future) == []
    assert len(_listing(emu, AFTER="2000-01-01T00:00:00Z")) == 4
    for bad in ({"PHASE": "RUNNING"}, {"LAST": "0"}, {"LAST": "x"}, {"AFTER": "yesterday"}):
        response = requests.get(emu.tap_url + "/async", params=bad, timeout=10)
        assert response.status_code == 400
        assert next(iter(bad.values())) in response.text


def test_destruction_is_capped_at_six_months(eso_archive):
    emu = eso_archive
    url = _create(emu)
    created = datetime.datetime.fromisoformat(_job(url)["creationTime"].replace("Z", "+00:00"))
    soon = (created + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    requests.post(url + "/destruction", data={"DESTRUCTION": soon}, timeout=10)
    assert requests.get(url + "/destruction", timeout=10).text.startswith(soon[:19])
    requests.post(url + "/destruction", data={"DESTRUCTION": "2999-01-01T00:00:00Z"},
                  timeout=10)
    capped = requests.get(url + "/destruction", timeout=10).text.strip()
    moment = datetime.datetime.fromisoformat(capped.replace("Z", "+00:00"))
    assert moment - created == datetime.timedelta(days=183)
    bad = requests.post(url + "/destruction", data={"DESTRUCTION": "next week"}, timeout=10)
    assert bad.status_code == 400 and "next week" in bad.text


def test_async_error_document_names_the_job(eso_archive):
    url = _create(eso_archive, "SELECT dp_id FROM ivoa.ObsCore LIMIT 1", run=True)
    assert _until(lambda: _phase(url) == "ERROR")
    error = requests.get(url + "/error", timeout=10).text
    assert "Incorrect ADQL query: LIMIT is not ADQL" in error
    job_id = url.rsplit("/", 1)[1]
    assert re.search(rf'name="REQ_ID" value="{job_id}"', error)
    assert 'name="ACTION" value="async"' in error


@pytest.mark.parametrize("name", ["sync_timeout", "queue_delay", "query_delay"])
def test_bad_delays_are_refused(name):
    with pytest.raises(ValueError, match=name):
        ArchiveEmulator(**{name: -1})
