# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's HTTP plumbing under load: listen backlog, large bodies, bandwidth caps."""
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.emulator.httpd import EmulatorHTTPServer

FILE_ID = "ADP.2024-03-19T05:58:04.409"


def test_listen_backlog_is_sized_for_parallel_clients(eso_archive):
    assert EmulatorHTTPServer.request_queue_size >= 128
    if shutil.which("ss") is None:
        pytest.skip("`ss` (iproute2) is not installed: the socket's backlog cannot be read")
    port = urlsplit(eso_archive.url).port
    listing = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.split()
    # For a listening socket ss shows the backlog in the Send-Q column (the third).
    assert int(listing[2]) >= 128


def test_many_parallel_connections_are_all_answered(eso_archive):
    url = eso_archive.tap_url + "/availability"
    barrier = threading.Barrier(64, timeout=30)

    def get(_):
        barrier.wait()
        with requests.Session() as http:
            return http.get(url, timeout=30).status_code

    with ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(get, range(64)))
    assert statuses == [200] * 64


def test_a_large_body_arrives_whole(eso_archive):
    emu = eso_archive
    body = bytes(range(256)) * (48 * 4096)            # 48 MiB, sent from one bytes object
    emu.file_overrides[FILE_ID] = {"body": body}
    started = time.monotonic()
    response = requests.get(emu.download_url + FILE_ID, timeout=60)
    assert response.content == body
    assert time.monotonic() - started < 30
    assert emu.requests[-1].bytes_sent == len(body)


def test_bandwidth_cap_holds_for_a_body_smaller_than_one_piece(eso_archive):
    emu = eso_archive
    emu.faults = Faults(bandwidth=200, paths=("/tap_obs/availability",))
    started = time.monotonic()
    response = requests.get(emu.tap_url + "/availability", timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.9 * len(response.content) / 200


def test_bandwidth_cap_reaches_open_and_new_connections(eso_archive):
    emu = eso_archive
    emu.file_sizes[FILE_ID] = 60_000
    with requests.Session() as http, requests.Session() as fresh:
        assert http.get(emu.download_url + FILE_ID, timeout=10).status_code == 200  # kept alive
        emu.faults = Faults(bandwidth=100_000)
        for session in (http, fresh):           # the open connection, then a new one
            started = time.monotonic()
            response = session.get(emu.download_url + FILE_ID, timeout=30)
            assert len(response.content) == 60_000
            assert time.monotonic() - started >= 0.9 * 60_000 / 100_000
