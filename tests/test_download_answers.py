# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""download.py: the manifest row of each HTTP refusal, of a refused connection, a local
error and a file that will not decompress, and the wait before a retry, against a scripted
server on 127.0.0.2."""
import gzip
import socket

import pytest
from servers import ScriptedServer, answer_status, send_file

from astroquery_eso_ancillary.download import (
    DownloadOptions,
    FileJob,
    download_file,
    download_files,
)
from astroquery_eso_ancillary.transport import Credentials, RetryPolicy, origin


@pytest.fixture
def scripted():
    with ScriptedServer("127.0.0.2") as server:
        yield server


def one_row(job):
    (row,) = download_files([job], progress=False)
    return row


def options(tmp_path, **kwargs):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return DownloadOptions(str(tmp_path), retry=RetryPolicy(retries=1, backoff=0.0),
                           timeout=10, **kwargs)


@pytest.mark.parametrize("status, message", [
    (403, "HTTP 403: access to this file is forbidden for your account."),
    (404, "HTTP 404: the archive has no file with this id."),
    (405, "HTTP 405: unexpected answer from the server."),
    (418, "HTTP 418: unexpected answer from the server."),
])
def test_refusals_are_error_rows_that_say_why(scripted, tmp_path, status, message):
    scripted.routes["/f/ADP.1"] = answer_status(status, retry_after=0)
    row = one_row(FileJob("ADP.1", scripted.url + "/f/ADP.1", options(tmp_path)))
    assert (row["status"], row["message"]) == ("error", message)
    assert (row["http_status"], row["attempts"], row["size"]) == (status, 1, 0)
    assert len(scripted.got("/f/ADP.1")) == 1  # not retried
    assert not list(tmp_path.glob("ADP.1*"))


def test_a_busy_server_is_retried_then_reported(scripted, tmp_path):
    scripted.routes["/f/ADP.1"] = answer_status(503, retry_after=0)
    row = one_row(FileJob("ADP.1", scripted.url + "/f/ADP.1", options(tmp_path)))
    assert row["status"] == "error"
    assert row["message"] == "Gave up after 2 attempts: HTTP 503 from the server."
    assert (row["http_status"], row["attempts"]) == (503, 2)
    assert len(scripted.got("/f/ADP.1")) == 2  # the first attempt and one retry


def test_a_401_says_what_to_do_in_each_case(scripted, tmp_path):
    scripted.routes["/f/ADP.1"] = answer_status(401, retry_after=0)
    url = scripted.url + "/f/ADP.1"
    anonymous = one_row(FileJob("ADP.1", url, options(tmp_path / "a")))
    assert anonymous["message"] == ("HTTP 401: the file is proprietary; log in with "
                                    "Eso.login() first (then download_ancillary sends your "
                                    "token).")
    foreign = Credentials("tok", ["https://archive.eso.org"])
    elsewhere = one_row(FileJob("ADP.1", url, options(tmp_path / "b", credentials=foreign)))
    assert elsewhere["message"] == (
        f"HTTP 401: the file is proprietary, and {origin(url)} is not one of the archive's "
        "own hosts, so your login was not sent there (name it in conf.trusted_hosts if you "
        "trust it).")
    own = Credentials("tok", [scripted.url])
    refused = one_row(FileJob("ADP.1", url, options(tmp_path / "c", credentials=own)))
    assert refused["message"] == (
        "HTTP 401: access denied although logged in: the file is proprietary to a programme "
        "your ESO account cannot access, or the login has expired (call Eso.login() again).")
    assert scripted.got("/f/ADP.1")[-1].headers.get("Authorization") == "Bearer tok"
    for row in (anonymous, elsewhere, refused):
        assert (row["status"], row["http_status"]) == ("error", 401)


def test_a_file_that_will_not_decompress_is_an_error_row(scripted, tmp_path):
    scripted.routes["/f/ADP.1"] = send_file(b"not gzip at all", name="ADP.1.fits.gz")
    row = one_row(FileJob("ADP.1", scripted.url + "/f/ADP.1", options(tmp_path, unzip=True)))
    assert row["status"] == "error"
    assert row["message"].startswith("Downloaded, but not decompressed: ")


def test_decompression_has_the_options_cap(scripted, tmp_path):
    body = gzip.compress(b"\0" * 100_000)
    scripted.routes["/f/ADP.2"] = send_file(body, name="ADP.2.fits.gz")
    capped = options(tmp_path / "capped", unzip=True, max_inflated_bytes=50_000)
    row = one_row(FileJob("ADP.2", scripted.url + "/f/ADP.2", capped))
    assert row["status"] == "error" and "not decompressed" in row["message"]
    roomy = options(tmp_path / "roomy", unzip=True, max_inflated_bytes=200_000)
    row = one_row(FileJob("ADP.2", scripted.url + "/f/ADP.2", roomy))
    assert row["status"] == "downloaded" and row["size"] == 100_000
    assert row["local_path"].endswith(".fits")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_names_the_cause_not_the_request(tmp_path):
    url = f"http://127.0.0.2:{closed_port()}/f/ADP.1?token=secret"
    row = one_row(FileJob("ADP.1", url, options(tmp_path)))
    # The class and its root cause; requests' text (with the URL) stays out.
    assert row["message"] == ("Gave up after 2 attempts: Request failed: ConnectionError "
                              "(ConnectionRefusedError).")
    assert (row["status"], row["http_status"], row["attempts"]) == ("error", 0, 2)


def test_a_local_error_names_the_folder_and_the_reason(tmp_path):
    (tmp_path / "blocker").write_bytes(b"")
    job = FileJob("ADP.1", f"http://127.0.0.2:{closed_port()}/f/ADP.1", options(tmp_path),
                  folder="blocker/ADP.P")
    row = one_row(job)
    assert row["message"] == (f"Local file error in {tmp_path / 'blocker' / 'ADP.P'}: "
                              "NotADirectoryError: Not a directory")
    assert row["status"] == "error"


def test_a_wait_before_a_retry_keeps_checking_for_ctrl_c(scripted, tmp_path):
    # A Retry-After of 2 s: the worker looks at its progress callback (where a Ctrl-C
    # arrives, as CancelledError) every 0.1 s while it waits, not once per wait.
    scripted.routes["/f/ADP.1"] = answer_status(503, retry_after=2)
    checks = []
    row = download_file(FileJob("ADP.1", scripted.url + "/f/ADP.1", options(tmp_path)),
                        progress=checks.append)
    assert row["status"] == "error" and row["attempts"] == 2
    assert checks.count(0) >= 8
