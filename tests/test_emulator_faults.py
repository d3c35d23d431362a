"""Each fault knob of the emulator, seen from a real HTTP client."""
import http.client
import time
from urllib.parse import urlsplit

import pytest
import requests

from astroquery_eso_ancillary.emulator import Faults

FILE_ID = "ADP.2024-03-19T05:58:04.409"


def _raw_get(emu, path):
    """GET with http.client: (status, headers, body, complete?) without retries or decoding."""
    parts = urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        try:
            return response.status, dict(response.getheaders()), response.read(), True
        except http.client.IncompleteRead as exc:
            return response.status, dict(response.getheaders()), exc.partial, False
    finally:
        conn.close()


def test_latency_delays_every_request(eso_archive):
    emu = eso_archive
    emu.faults = Faults(latency=0.3)
    started = time.monotonic()
    response = requests.get(emu.tap_url + "/availability", timeout=10)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_bandwidth_cap_slows_the_body(eso_archive):
    emu = eso_archive
    emu.file_sizes[FILE_ID] = 100_000
    emu.faults = Faults(bandwidth=200_000)
    started = time.monotonic()
    response = requests.get(emu.download_url + FILE_ID, timeout=10)
    elapsed = time.monotonic() - started
    assert response.content == emu.file_bytes(FILE_ID)
    assert elapsed >= 0.9 * 100_000 / 200_000


def test_drop_after_cuts_the_connection(eso_archive):
    emu = eso_archive
    emu.faults = Faults(drop_after=1000)
    status, headers, body, complete = _raw_get(emu, "/dataPortal/file/" + FILE_ID)
    assert status == 200 and not complete
    assert int(headers["Content-Length"]) == len(emu.file_bytes(FILE_ID))
    assert body == emu.file_bytes(FILE_ID)[:1000]
    assert emu.requests[-1].bytes_sent == 1000
    # urllib3 2 raises on the short body; urllib3 1.26 hands it over short.
    try:
        response = requests.get(emu.download_url + FILE_ID, timeout=10)
    except requests.exceptions.ChunkedEncodingError:
        pass
    else:
        assert len(response.content) == 1000 < int(response.headers["Content-Length"])


def test_drop_fraction_cuts_file_downloads_at_random_bytes(eso_archive):
    emu = eso_archive
    emu.faults = Faults(drop_fraction=1.0, seed=5)
    data = emu.file_bytes(FILE_ID)
    cuts = []
    for _ in range(3):
        status, _, body, complete = _raw_get(emu, "/dataPortal/file/" + FILE_ID)
        assert status == 200 and not complete
        assert body == data[:len(body)]
        cuts.append(len(body))
    assert len(set(cuts)) > 1  # random positions, not one fixed cut
    # Only file downloads are dropped by drop_fraction.
    assert _raw_get(emu, "/tap_obs/availability")[3]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_error_fraction_answers_the_error_status_with_retry_after(eso_archive, status):
    emu = eso_archive
    emu.faults = Faults(error_fraction=1.0, error_status=status, retry_after=2)
    response = requests.get(emu.download_url + FILE_ID, timeout=10)
    assert response.status_code == status
    assert response.headers["Retry-After"] == "2"
    assert emu.requests[-1].status == status


def test_error_without_retry_after(eso_archive):
    eso_archive.faults = Faults(error_fraction=1.0, error_status=503)
    response = requests.get(eso_archive.tap_url + "/availability", timeout=10)
    assert response.status_code == 503
    assert "Retry-After" not in response.headers


def test_slow_answers_exceed_a_client_timeout(eso_archive):
    emu = eso_archive
    emu.faults = Faults(slow_fraction=1.0, slow_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(emu.tap_url + "/availability", timeout=0.3)
    started = time.monotonic()
    assert requests.get(emu.tap_url + "/availability", timeout=10).status_code == 200
    assert time.monotonic() - started >= 1.0


def test_faults_restricted_to_path_prefixes(eso_archive):
    emu = eso_archive
    emu.faults = Faults(error_fraction=1.0, paths=("/dataPortal",))
    assert requests.get(emu.tap_url + "/availability", timeout=10).status_code == 200
    assert requests.get(emu.download_url + FILE_ID, timeout=10).status_code == 503


def _statuses(emu, n=30):
    return [requests.get(emu.tap_url + "/availability", timeout=10).status_code
            for _ in range(n)]


def test_faults_are_seeded_and_reproducible(eso_archive):
    emu = eso_archive
    emu.faults = Faults(error_fraction=0.5, seed=11)
    first = _statuses(emu)
    emu.faults = Faults(error_fraction=0.5, seed=11)
    again = _statuses(emu)
    assert first == again
    assert set(first) == {200, 503}
    emu.faults = Faults(error_fraction=0.5, seed=12)
    assert _statuses(emu) != first


def test_faults_change_at_run_time_and_reset_clears_them(eso_archive):
    emu = eso_archive
    url = emu.tap_url + "/availability"
    emu.faults = Faults(error_fraction=1.0)
    assert requests.get(url, timeout=10).status_code == 503
    emu.faults.error_fraction = 0.0
    assert requests.get(url, timeout=10).status_code == 200
    emu.faults = Faults(error_fraction=1.0)
    emu.reset()
    assert requests.get(url, timeout=10).status_code == 200
    assert emu.faults == Faults()


def test_faults_given_at_construction(eso_archive_factory):
    emu = eso_archive_factory(products=5, faults=Faults(error_fraction=1.0, error_status=500))
    assert requests.get(emu.tap_url + "/availability", timeout=10).status_code == 500


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"error_fraction": 1.5}, "error_fraction"),
    ({"error_status": 404}, "error_status"),
    ({"bandwidth": 0}, "bandwidth"),
    ({"latency": -1}, "latency"),
    ({"drop_after": -3}, "drop_after"),
])
def test_bad_fault_values_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Faults(**kwargs)
