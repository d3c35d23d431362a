# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""TAP limits and error documents as ESO's service (VOLLT) gives them.

Sync time limit (HTTP 202, "Time out! ..."), MAXREC (default, hard, negative), the
error VOTable's wording and INFOs, and what /capabilities declares.
"""
import time
from io import BytesIO

import pytest
import pyvo
import requests
from astropy.io.votable import parse
from pyvo.dal.exceptions import DALOverflowWarning, DALQueryError

from astroquery_eso_ancillary.emulator.server import HARD_MAXREC

SLOW = ("SELECT COUNT(*) AS n FROM phase3v2.product_files AS a, "
        "phase3v2.product_files AS b, phase3v2.product_files AS c")


def _sync(emu, query, **params):
    data = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query, **params}
    return requests.post(emu.tap_url + "/sync", data=data, timeout=60)


def _infos(content):
    resource = parse(BytesIO(content)).resources[0]
    return {info.name: (info.value, info.content) for info in resource.infos}


def test_sync_time_limit_answers_202_with_the_time_out_message(eso_archive):
    emu = eso_archive
    emu.sync_timeout = 0.5
    started = time.monotonic()
    response = _sync(emu, SLOW)
    assert time.monotonic() - started < 30          # stopped, not run to the end
    assert response.status_code == 202
    infos = _infos(response.content)
    assert infos["QUERY_STATUS"][0] == "ERROR"
    assert infos["QUERY_STATUS"][1] == (
        "Time out! The execution of this synchronous TAP query was limited to 0.5 seconds. "
        "You should try again but in asynchronous mode.")
    assert infos["ERROR_TYPE"][0] == "transient" and infos["PROVIDER"][0] == "ESO"
    assert infos["REQ_ID"][0].startswith("S")
    assert emu.queries[-1].status == "ERROR"
    # pyvo sees the message as a query error
    with pytest.raises(DALQueryError, match="Time out!"):
        pyvo.dal.TAPService(emu.tap_url).run_sync(SLOW)


def test_query_delay_counts_against_the_sync_limit(eso_archive_factory):
    emu = eso_archive_factory(products=5, sync_timeout=1, query_delay=3)
    response = _sync(emu, "SELECT TOP 1 dp_id FROM ivoa.ObsCore")
    assert response.status_code == 202 and b"limited to 1 seconds" in response.content
    emu.query_delay = 0.2                            # within the limit: answered
    assert _sync(emu, "SELECT TOP 1 dp_id FROM ivoa.ObsCore").status_code == 200
    emu.reset()
    assert (emu.sync_timeout, emu.query_delay) == (1, 3)


@pytest.mark.parametrize(("query", "words"), [
    ("SELECT dp_id FROM ivoa.ObsCore LIMIT 3", "LIMIT"),
    ("SELECT LOWER(target_name) FROM ivoa.ObsCore", "LOWER"),
    ("SELECT size FROM TAP_SCHEMA.columns", "reserved"),
])
def test_bad_adql_gives_vollt_style_error_votable(eso_archive, query, words):
    response = _sync(eso_archive, query)
    assert response.status_code == 400
    infos = _infos(response.content)
    status, message = infos["QUERY_STATUS"]
    assert status == "ERROR" and message.startswith("Incorrect ADQL query: ")
    assert words in message
    assert infos["PROVIDER"][0] == "ESO"
    assert infos["ERROR_TYPE"][0] == "fatal" and infos["ACTION"][0] == "sync"
    assert infos["REQ_ID"][0]
    with pytest.raises(DALQueryError, match="Incorrect ADQL query"):
        pyvo.dal.TAPService(eso_archive.tap_url).run_sync(query)


def test_two_sync_requests_get_two_request_ids(eso_archive):
    first = _infos(_sync(eso_archive, "SELECT x FROM y LIMIT 1").content)["REQ_ID"][0]
    second = _infos(_sync(eso_archive, "SELECT x FROM y LIMIT 1").content)["REQ_ID"][0]
    assert first != second


def test_negative_maxrec_means_no_limit_but_the_hard_one(eso_archive_factory):
    emu = eso_archive_factory(products=5, default_maxrec=3, hard_maxrec=15)
    query = "SELECT archive_id FROM phase3v2.product_files"
    total = len(emu.archive.files)
    assert total > 15
    default = parse(BytesIO(_sync(emu, query).content)).get_first_table().array
    capped = parse(BytesIO(_sync(emu, query, MAXREC="-1").content)).get_first_table().array
    assert len(default) == 3 and len(capped) == 15
    service = pyvo.dal.TAPService(emu.tap_url)
    assert (service.maxrec, service.hardlimit) == (3, 15)
    with pytest.warns(DALOverflowWarning):
        assert len(service.run_sync(query, maxrec=-1)) == 15


def test_default_limits_are_published(eso_archive):
    service = pyvo.dal.TAPService(eso_archive.tap_url)
    assert service.hardlimit == HARD_MAXREC and service.maxrec == HARD_MAXREC
    query = "SELECT archive_id FROM phase3v2.product_files"
    everything = parse(BytesIO(_sync(eso_archive, query, MAXREC="-1").content))
    assert len(everything.get_first_table().array) == len(eso_archive.archive.files)


def test_capabilities_declare_adql_2_0_and_its_geometry_only(eso_archive):
    service = pyvo.dal.TAPService(eso_archive.tap_url)
    tap = next(c for c in service.capabilities if c.standardid == "ivo://ivoa.net/std/TAP")
    (language,) = tap.languages
    assert [v.ivo_id for v in language.versions] == ["ivo://ivoa.net/std/ADQL#v2.0"]
    kinds = {f.type: [x.form for x in f] for f in language.languagefeaturelists}
    assert list(kinds) == ["ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"]
    geometry = kinds["ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"]
    assert {"CONTAINS", "INTERSECTS", "POINT", "CIRCLE", "DISTANCE"} <= set(geometry)
    assert "REGION" not in geometry
    # every declared geometry function really works
    for name in geometry:
        call = {"POINT": "POINT('', s_ra, s_dec)", "CIRCLE": "CIRCLE('', s_ra, s_dec, 1)",
                "BOX": "BOX('', s_ra, s_dec, 1, 1)",
                "POLYGON": "POLYGON('', 1, 1, 2, 1, 2, 2)",
                "DISTANCE": "DISTANCE(POINT('', s_ra, s_dec), POINT('', 0, 0))",
                "CONTAINS": "CONTAINS(POINT('', s_ra, s_dec), s_region)",
                "INTERSECTS": "INTERSECTS(s_region, CIRCLE('', s_ra, s_dec, 1))",
                "COORD1": "COORD1(POINT('', s_ra, s_dec))",
                "COORD2": "COORD2(POINT('', s_ra, s_dec))",
                "COORDSYS": "COORDSYS(s_region)", "AREA": "AREA(s_region)",
                "CENTROID": "CENTROID(s_region)"}[name]
        response = _sync(eso_archive, f"SELECT TOP 1 {call} AS v FROM ivoa.ObsCore")
        assert response.status_code == 200, (name, response.content[:300])


def test_a_form_body_over_max_post_bytes_loses_its_parameters(eso_archive_factory):
    # Tomcat's maxPostSize: the body's parameters are dropped, so the query is refused.
    emu = eso_archive_factory(products=5, max_post_bytes=300)
    short = "SELECT TOP 1 archive_id FROM phase3v2.product_files"
    assert _sync(emu, short).status_code == 200
    long = short + " WHERE archive_id <> '" + "x" * 300 + "'"
    answer = _sync(emu, long)
    assert answer.status_code == 400
    assert "LANG parameter is required" in _infos(answer.content)["QUERY_STATUS"][1]
    # The same query in the URL is read (only bodies are capped).
    params = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": long}
    assert requests.get(emu.tap_url + "/sync", params=params, timeout=60).status_code == 200
