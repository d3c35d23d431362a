"""The emulator as a server: life cycle, logs, DataLink, the pytest fixtures, the CLI."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import requests
from pyvo.dal.adhoc import DatalinkResults

from astroquery_eso_ancillary.emulator import ArchiveEmulator

MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
OBSOLETE = "ADP.2013-06-20T17:15:42.690"
ID = "ivo://eso.org/ID?"
DOC_SEMANTICS = "http://archive.eso.org/rdf/datalink/eso#data_documentation"


def test_start_serve_stop():
    started = time.perf_counter()
    emu = ArchiveEmulator(seed=3, products=300).start()
    elapsed = time.perf_counter() - started
    print(f"emulator with 300 products started in {elapsed:.3f} s")
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.tap_url == emu.url + "/tap_obs"
        assert emu.datalink_url == emu.url + "/datalink/links"
        assert emu.download_url == emu.url + "/dataPortal/file/"
        assert emu.token_url == emu.url + "/sso/oidc/token"
        response = requests.get(emu.url + "/", timeout=10)
        assert response.status_code == 200
        assert response.raw.version == 11  # HTTP/1.1 (keep-alive)
        assert requests.get(emu.url + "/nothing/here", timeout=10).status_code == 404
        # Every access_url of the archive points at this very server.
        assert all(row["access_url"].startswith(emu.url) for row in emu.archive.files[:50])
    finally:
        emu.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(emu.url + "/", timeout=5)
    emu.stop()  # idempotent


def test_context_manager_closes_kept_alive_connections():
    with requests.Session() as session:
        with ArchiveEmulator(products=5) as emu:
            assert session.get(emu.url + "/", timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(emu.url + "/", timeout=5)


def test_two_emulators_use_different_ports(eso_archive, eso_archive_factory):
    other = eso_archive_factory(products=5)
    assert other.url != eso_archive.url
    assert requests.get(other.url + "/", timeout=10).status_code == 200


def test_request_log_hides_secrets(eso_archive):
    emu = eso_archive
    token = emu.issue_token("alice")
    requests.get(emu.token_url, params={"grant_type": "password", "username": "alice",
                                        "password": "wonderland"}, timeout=10)
    requests.get(emu.url + "/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    records = emu.requests
    assert [r.path for r in records] == ["/sso/oidc/token", "/"]
    assert records[0].query == "grant_type=password&username=alice"
    assert records[0].authorized is False and records[1].authorized is True
    assert all("wonderland" not in repr(r) and token not in repr(r) for r in records)
    emu.reset()
    assert emu.requests == []


def test_eso_archive_fixture_gives_an_eso_pointed_at_it(eso_archive, tmp_path):
    eso = eso_archive.eso
    assert eso.tap_url == eso_archive.tap_url
    assert eso_archive.download_url == eso.DOWNLOAD_URL
    assert eso_archive.token_url == eso.AUTH_URL
    assert str(eso.cache_location).startswith(str(tmp_path))
    assert eso_archive.requests == []  # reset before the test


def test_factory_passes_options(eso_archive_factory):
    emu = eso_archive_factory(seed=9, products=12, size_column="size_kb")
    row = emu.archive.files_of(MUSE_CUBE)[0]
    assert "size_kb" in row and "access_estsize" not in row
    # A FITS file: the estimate, capped, in whole 2880-byte blocks.
    capped = min(row["size_kb"] * 1024, emu.max_file_bytes)
    expected = capped - capped % 2880
    response = requests.head(emu.download_url + MUSE_CUBE, timeout=10)
    assert int(response.headers["Content-Length"]) == expected == emu.file_info(MUSE_CUBE)["size"]
    assert emu.eso.tap_url == emu.tap_url


def _links(emu, *ids):
    url = emu.datalink_url + "?" + "&".join(f"ID={ID}{i}" for i in ids)
    return DatalinkResults.from_result_url(url).to_table()


def test_datalink_of_a_current_product(eso_archive):
    emu = eso_archive
    table = _links(emu, MUSE_CUBE)
    files = emu.archive.files_of(MUSE_CUBE)
    assert set(table["ID"]) == {ID + MUSE_CUBE}
    this = table[table["semantics"] == "#this"]
    assert list(this["access_url"]) == [emu.download_url + MUSE_CUBE]
    aux = table[table["semantics"] == "#auxiliary"]
    expected = {f["archive_id"]: f for f in files if f["archive_id"] != MUSE_CUBE}
    assert [u.rsplit("/", 1)[1] for u in aux["access_url"]] == list(expected)
    for row in aux:
        source = expected[row["access_url"].rsplit("/", 1)[1]]
        assert row["eso_category"] == source["eso_category"]
        assert row["eso_origfile"] == source["original_filename"]
        assert row["content_length"] == len(emu.file_bytes(source["archive_id"]))
    semantics = set(table["semantics"])
    assert {"#preview", "#progenitor", DOC_SEMANTICS} <= semantics
    # Every link is served by the emulator itself (the #cutout row is a service
    # descriptor: service_def instead of an access_url), at the size it announces.
    for row in table:
        if row["semantics"] == "#cutout":
            assert not row["access_url"] and row["service_def"]
            continue
        assert row["access_url"].startswith(emu.url)
        head = requests.head(row["access_url"], timeout=10)
        assert head.status_code == 200, row["access_url"]
        if row["content_length"] is not np.ma.masked and row["content_length"] >= 0:
            assert int(head.headers["Content-Length"]) == row["content_length"], row
    assert "#cutout" in semantics
    assert not any(table["error_message"])


def test_datalink_of_the_obsolete_product_and_unknown_ids(eso_archive):
    emu = eso_archive
    table = _links(emu, OBSOLETE, "ADP.1999-09-09T09:09:09.999", MUSE_CUBE)
    obsolete = table[table["ID"] == ID + OBSOLETE]
    linked = {u.rsplit("/", 1)[1] for u in obsolete["access_url"]
              if u.startswith(emu.download_url)
              and not u.rsplit("/", 1)[1].startswith("VCAM")}
    assert linked == {f["archive_id"] for f in emu.archive.obsolete[OBSOLETE]}
    # product_files does not know the obsolete product; DataLink does.
    assert not any(f["product_id"] == OBSOLETE for f in emu.archive.files)
    missing = table[table["ID"] == ID + "ADP.1999-09-09T09:09:09.999"]
    assert len(missing) == 1
    assert missing["error_message"][0].startswith("NotFoundFault")
    assert len(table[table["ID"] == ID + MUSE_CUBE]) > 0


def test_datalink_without_id_is_a_usage_error(eso_archive):
    response = requests.get(eso_archive.datalink_url, timeout=10)
    assert response.status_code == 400
    assert b"UsageFault" in response.content


def _run_cli(*args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "astroquery_eso_ancillary.emulator", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_command_line_serves_until_sigterm():
    process = _run_cli("--port", "0", "--seed", "5", "--products", "20")
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/tap_obs/availability", timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_command_line_refuses_bad_options():
    process = _run_cli("--size-column", "bogus")
    try:
        assert process.wait(timeout=30) == 2
        assert "bogus" in process.stderr.read()
    finally:
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"max_file_bytes": -1}, "max_file_bytes"),
    ({"hard_maxrec": "many"}, "hard_maxrec"),
    ({"size_column": "bytes"}, "size_column"),
])
def test_bad_arguments_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ArchiveEmulator(**kwargs).start()
