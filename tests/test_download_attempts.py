# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""download.py, one request at a time: the row of a good transfer, renewed and expired
logins, retries that are not counted, part files nothing vouches for, and answers the
emulator never gives (HTML pages, no length, too long), against a scripted server."""
import io
import itertools
import logging
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from astropy.io import fits
from logs import debug_records
from servers import ScriptedServer, answer_status, send_file, stall

from astroquery_eso_ancillary.destination import Destination
from astroquery_eso_ancillary.download import (
    INTERRUPTED,
    LOGIN_EXPIRED,
    DownloadInterrupted,
    DownloadOptions,
    FileJob,
    download_files,
)
from astroquery_eso_ancillary.transport import Credentials, RetryPolicy, origin

AID = "ADP.2016-06-01T14:07:30.137"
NAME = "ADP.2016-06-01T14_07_30.137.png"
BODY = bytes(range(256)) * 40


def options(folder, *, retries=1, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    return DownloadOptions(str(folder), retry=RetryPolicy(retries=retries, backoff=0.0),
                           timeout=10, **kwargs)


def fetch(scripted, folder, **kwargs):
    job_values = {k: kwargs.pop(k) for k in ("extension", "estsize_kb") if k in kwargs}
    job = FileJob(AID, scripted.url + "/f/" + AID, options(folder, **kwargs),
                  product_id="ADP.P", eso_category="ANCILLARY.PREVIEW", **job_values)
    (row,) = download_files([job], progress=False)
    return row


@pytest.fixture
def scripted():
    with ScriptedServer("127.0.0.2") as server:
        yield server


def resumable_part(scripted, folder, data, *, validator='"v1"'):
    """A part file holding ``data``, with the record that lets it be resumed."""
    dest = Destination.shared(folder)
    dest.part_path(AID).write_bytes(data)
    dest.save_validator(AID, url=scripted.url + "/f/" + AID, validator=validator)
    return dest


def test_a_good_transfer_and_its_rerun(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png", ctype="image/png")
    row = fetch(scripted, tmp_path)
    assert row == {"archive_id": AID, "product_id": "ADP.P", "eso_category":
                   "ANCILLARY.PREVIEW", "url": scripted.url + "/f/" + AID,
                   "local_path": str(tmp_path / NAME), "size": len(BODY),
                   "status": "downloaded", "message": "", "http_status": 200, "attempts": 1,
                   "original_filename": "", "extracted_to": "", "n_members": 0}
    assert (tmp_path / NAME).read_bytes() == BODY
    again = fetch(scripted, tmp_path)
    assert (again["status"], again["message"], again["local_path"], again["size"]) == (
        "skipped-existing", "A complete file of this name was already there.",
        str(tmp_path / NAME), len(BODY))
    assert len(scripted.got("/f/" + AID)) == 1  # the folder's record answers


@pytest.mark.parametrize("name", ["README.htm", "notes.HTML"])
def test_an_html_file_that_is_named_html_is_kept(scripted, tmp_path, name):
    page = b"<html><body>The data release description.</body></html>"
    scripted.routes["/f/" + AID] = send_file(page, name=name, ctype="text/html")
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["local_path"]) == ("downloaded", str(tmp_path / name))


def test_an_html_page_for_a_png_is_refused(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(b"<html>Login</html>", name=f"{AID}.png",
                                             ctype="text/html; charset=utf-8")
    row = fetch(scripted, tmp_path)
    assert row["message"] == (f"HTTP 200 but the server sent an HTML page (text/html) instead "
                              f"of the file {NAME} (a login or error page?); nothing was saved.")
    assert not (tmp_path / NAME).exists()


@pytest.mark.parametrize("nbytes", [1000, 200_000])
def test_a_body_without_length_but_with_an_etag(scripted, tmp_path, nbytes):
    body = bytes(nbytes)
    scripted.routes["/f/" + AID] = send_file(body, name=f"{AID}.png", etag='"v1"',
                                             length=False)
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["size"]) == ("downloaded", nbytes)
    # Complete: no resume record is left behind.
    assert Destination.shared(tmp_path).load_validator(AID, url=row["url"]) is None


def test_without_length_the_estimate_caps_the_body(scripted, tmp_path):
    # 1 kB estimated: at most 32 MiB more are accepted (FITS headers change at download).
    scripted.routes["/f/" + AID] = send_file(bytes((32 << 20) + 1025 + 4096),
                                             name=f"{AID}.png", length=False)
    row = fetch(scripted, tmp_path, estsize_kb=1)
    assert row["message"] == (f"Cut: the server sent more than {(32 << 20) + 1024} bytes for a "
                              "file the archive estimates at 1 kB; nothing was kept.")
    assert (row["status"], row["http_status"]) == ("error", 200)
    assert not list(tmp_path.glob("*.part"))
    scripted.routes["/f/" + AID] = send_file(bytes((32 << 20) + 1000), name=f"{AID}.png",
                                             length=False)
    assert fetch(scripted, tmp_path / "b", estsize_kb=1)["status"] == "downloaded"


def test_a_part_file_nothing_vouches_for_is_discarded(scripted, tmp_path):
    dest = Destination.shared(tmp_path)
    dest.part_path(AID).write_bytes(b"stale bytes")  # no record of the server's validator
    row = fetch(scripted, tmp_path)  # no route: 404
    assert row["http_status"] == 404
    assert not dest.part_path(AID).exists()
    assert "Range" not in scripted.got("/f/" + AID)[0].headers


def test_a_206_that_ignores_if_range_restarts_and_says_why(scripted, tmp_path):
    resumable_part(scripted, tmp_path, BODY[:100], validator='"old"')
    # The server has a new version, and answers the Range request without looking at
    # If-Range: the piece is of another file.
    whole = send_file(BODY, name=f"{AID}.png", etag='"new"')

    def ignoring_if_range(handler):
        wanted = handler.headers.get("Range")
        if not wanted:
            return whole(handler)
        start = int(wanted.split("=")[1].split("-")[0])
        handler.send_response(206)
        handler.send_header("ETag", '"new"')
        handler.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
        handler.send_header("Content-Length", str(len(BODY) - start))
        handler.end_headers()
        handler.wfile.write(BODY[start:])

    scripted.routes["/f/" + AID] = ignoring_if_range
    with debug_records() as records:
        row = fetch(scripted, tmp_path)
    assert (row["status"], row["attempts"]) == ("downloaded", 2)
    first, second = scripted.got("/f/" + AID)
    assert (first.headers["Range"], first.headers["If-Range"]) == ("bytes=100-", '"old"')
    assert "Range" not in second.headers
    assert (tmp_path / NAME).read_bytes() == BODY
    assert [r.getMessage() for r in records if r.levelno == logging.DEBUG
            and "attempt 1 failed" in r.getMessage()] == [
        f"{AID}: attempt 1 failed: The server could not show the file is the one the partial "
        "download began; restarting. Next attempt in 0.0 s."]


def test_a_renewed_login_that_is_still_refused_ends(scripted, tmp_path):
    # The server refuses whatever the token; each 401 renews it, which is not counted as a
    # failure, so only the bound on attempts (retries + 3) ends it.
    scripted.routes["/f/" + AID] = answer_status(401)
    tokens = (f"token-{n}" for n in itertools.count(1))
    credentials = Credentials("token-0", [scripted.url],
                              renew=lambda: (next(tokens), time.time() + 3600))
    row = fetch(scripted, tmp_path, retries=0, credentials=credentials)
    assert row["message"] == "Gave up after 4 attempts: HTTP 401: the login was renewed; " \
                             "trying again."
    assert (row["attempts"], row["http_status"]) == (4, 401)
    sent = [r.headers.get("Authorization") for r in scripted.got("/f/" + AID)]
    assert sent == ["Bearer token-0", "Bearer token-1", "Bearer token-2", "Bearer token-3"]


def test_an_expired_login_is_renewed_before_the_request(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png")
    fresh = Credentials("old", [scripted.url], expires=time.time() - 10,
                        renew=lambda: ("new", time.time() + 3600))
    assert fetch(scripted, tmp_path / "a", credentials=fresh)["status"] == "downloaded"
    assert scripted.got("/f/" + AID)[-1].headers["Authorization"] == "Bearer new"
    before = len(scripted.requests)
    stuck = Credentials("old", [scripted.url], expires=time.time() - 10, renew=lambda: None)
    row = fetch(scripted, tmp_path / "b", credentials=stuck)
    assert (row["status"], row["message"]) == ("error", LOGIN_EXPIRED)
    assert len(scripted.requests) == before  # nothing sent with a token known to be dead


def test_a_file_from_another_host_says_the_login_stayed_home(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png")
    credentials = Credentials("tok", ["https://dataportal.eso.org"])
    row = fetch(scripted, tmp_path, credentials=credentials)
    assert row["status"] == "downloaded"
    assert row["message"] == (f"From {origin(scripted.url)}, not one of the archive's own "
                              "hosts: your login was not sent there.")
    assert "Authorization" not in scripted.got("/f/" + AID)[0].headers
    # Skipped on a re-run: the note still says where the file came from.
    again = fetch(scripted, tmp_path, credentials=credentials)
    assert again["message"] == ("A complete file of this name was already there. From "
                                f"{origin(scripted.url)}, not one of the archive's own hosts: "
                                "your login was not sent there.")


def test_a_fits_file_cut_at_a_block_edge_is_set_aside(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(b"SIMPLE  =" + bytes(4000), name=f"{AID}.fits")
    row = fetch(scripted, tmp_path)
    assert row["message"] == (
        "Not a complete FITS file: 4009 bytes is not a whole number of 2880-byte FITS blocks: "
        "the file is incomplete or not FITS. The bytes are kept aside as "
        "ADP.2016-06-01T14_07_30.137.rejected.")
    assert (row["status"], row["http_status"]) == ("error", 200)
    assert (tmp_path / "ADP.2016-06-01T14_07_30.137.rejected").stat().st_size == 4009


def test_cut_transfers_and_refused_ranges_end_at_the_bound(scripted, tmp_path):
    # Every whole transfer breaks half-way (a counted failure, the part file kept with the
    # server's ETag); every Range request gets 416 (not counted: the part is dropped and
    # the next request starts at byte 0). The bound on attempts (retries + 3) ends it.
    def answer(handler):
        if handler.headers.get("Range"):
            handler.send_response(416)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("ETag", '"v1"')
        handler.send_header("Content-Length", str(len(BODY)))
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(BODY[:len(BODY) // 2])

    scripted.routes["/f/" + AID] = answer
    row = fetch(scripted, tmp_path, retries=4)
    assert row["message"] == ("Gave up after 8 attempts: HTTP 416: the partial file could not "
                              "be continued; restarting.")
    assert (row["attempts"], row["http_status"]) == (8, 416)
    ranges = [r.headers.get("Range") for r in scripted.got("/f/" + AID)]
    assert ranges == [None, f"bytes={len(BODY) // 2}-"] * 4


@pytest.mark.parametrize("ctype, extension, expected", [
    ("application/octet-stream", "", "ADP.2016-06-01T14_07_30.137"),
    ("image/png; charset=binary", "", NAME),
    ("application/x-compress", "", "ADP.2016-06-01T14_07_30.137.Z"),
    ("application/octet-stream", "TXT", "ADP.2016-06-01T14_07_30.137.txt"),
])
def test_a_file_without_a_name_is_named_by_id_and_type(scripted, tmp_path, ctype, extension,
                                                        expected):
    scripted.routes["/f/" + AID] = send_file(b"data", ctype=ctype)
    row = fetch(scripted, tmp_path, extension=extension)
    assert (row["status"], row["local_path"]) == ("downloaded", str(tmp_path / expected))


class _StopsOnSubmit(ThreadPoolExecutor):
    """An executor whose third submit() is where a Ctrl-C lands."""

    def __init__(self):
        super().__init__(1)
        self.calls = 0

    def submit(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return super().submit(*args, **kwargs)


def test_ctrl_c_with_an_executor_gives_every_row(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png")
    opts = options(tmp_path)
    jobs = [FileJob(f"ADP.{n}", scripted.url + "/f/" + AID, opts) for n in range(4)]
    with _StopsOnSubmit() as executor, pytest.raises(DownloadInterrupted) as stop:
        download_files(jobs, executor=executor, progress=False)
    rows = stop.value.rows
    assert [r["archive_id"] for r in rows] == [j.archive_id for j in jobs]
    assert all((r["status"], r["message"]) == ("error", INTERRUPTED) for r in rows)


@pytest.fixture
def ctrl_c():
    """SIGINT raises KeyboardInterrupt, as in a terminal (a background job ignores it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_on_the_worker_threads_gives_every_row(scripted, tmp_path, ctrl_c):
    # The second file's server sends SIGINT to this process (the main thread gets a
    # KeyboardInterrupt, as from Ctrl-C) and then stalls: the run stops without it.
    stop = threading.Event()
    stalled = stall(stop=stop, seconds=30)

    def interrupting(handler):
        time.sleep(0.3)  # the main thread has taken the first file's row by then
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        stalled(handler)

    scripted.routes["/f/ADP.1"] = send_file(BODY, name="ADP.1.png")
    scripted.routes["/f/ADP.2"] = interrupting
    opts = options(tmp_path)
    jobs = [FileJob(f"ADP.{n}", f"{scripted.url}/f/ADP.{n}", opts) for n in (1, 2)]
    try:
        with pytest.raises(DownloadInterrupted) as caught:
            download_files(jobs, max_workers=1, progress=False)
    finally:
        stop.set()
    first, second = caught.value.rows
    assert (first["status"], first["local_path"]) == ("downloaded", str(tmp_path / "ADP.1.png"))
    assert (second["archive_id"], second["status"], second["message"]) == \
        ("ADP.2", "error", INTERRUPTED)
    # What the second file received stays, to resume.
    assert Destination.shared(tmp_path).part_size("ADP.2") == 4


# -- FITS checks (verify=True) -------------------------------------------------------------

def fits_bytes(*, corrupt_extension=False):
    """A primary HDU and one image extension, with CHECKSUM/DATASUM; optionally one data
    byte of the extension flipped (the length stays a whole number of blocks)."""
    hdus = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.arange(100, dtype="i4"))])
    buffer = io.BytesIO()
    hdus.writeto(buffer, checksum=True)
    data = bytearray(buffer.getvalue())
    if corrupt_extension:
        data[2880 * 2 + 17] ^= 0xFF  # primary: 1 block; extension header: 1; its data: 1
    return bytes(data)


def test_verify_checks_every_extension(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(fits_bytes(), name=f"{AID}.fits")
    assert fetch(scripted, tmp_path / "good", verify=True)["status"] == "downloaded"
    scripted.routes["/f/" + AID] = send_file(fits_bytes(corrupt_extension=True),
                                             name=f"{AID}.fits")
    row = fetch(scripted, tmp_path / "bad", verify=True)
    assert row["status"] == "error"
    assert row["message"].startswith(
        "Not a complete FITS file: CHECKSUM/DATASUM verification failed: Checksum "
        "verification failed for HDU ('', 1).")
    assert row["message"].endswith(". The bytes are kept aside as "
                                   "ADP.2016-06-01T14_07_30.137.rejected.")
    # Without verify, a whole number of blocks is all that is checked.
    assert fetch(scripted, tmp_path / "unchecked")["status"] == "downloaded"


def test_verify_catches_a_wrong_datasum_alone(scripted, tmp_path):
    # The header's CHECKSUM agrees with a DATASUM that does not fit the data.
    extension = fits.ImageHDU(np.arange(100, dtype="i4"))
    extension.add_checksum()
    extension.header["DATASUM"] = "12345"
    extension.add_checksum(override_datasum=True)
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), extension]).writeto(buffer, checksum=False)
    scripted.routes["/f/" + AID] = send_file(buffer.getvalue(), name=f"{AID}.fits")
    row = fetch(scripted, tmp_path, verify=True)
    assert row["message"].startswith("Not a complete FITS file: CHECKSUM/DATASUM verification "
                                     "failed: Datasum verification failed for HDU ('', 1).")


def test_verify_names_why_astropy_cannot_read_a_file(scripted, tmp_path):
    scripted.routes["/f/" + AID] = send_file(b"not a FITS header" * 2880, name=f"{AID}.fits")
    row = fetch(scripted, tmp_path, verify=True)
    assert row["message"] == (
        "Not a complete FITS file: astropy.io.fits cannot read it (OSError). The bytes are "
        "kept aside as ADP.2016-06-01T14_07_30.137.rejected.")


# -- lengths and estimates ------------------------------------------------------------------

def test_a_206_with_an_unknown_total_resumes(scripted, tmp_path):
    resumable_part(scripted, tmp_path, BODY[:100])

    def unknown_total(handler):
        handler.send_response(206)
        handler.send_header("ETag", '"v1"')
        handler.send_header("Content-Disposition", f'attachment; filename="{AID}.png"')
        handler.send_header("Content-Range", f"bytes 100-{len(BODY) - 1}/*")
        handler.send_header("Content-Length", str(len(BODY) - 100))
        handler.end_headers()
        handler.wfile.write(BODY[100:])

    scripted.routes["/f/" + AID] = unknown_total
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["attempts"]) == ("resumed", 1)
    assert (tmp_path / NAME).read_bytes() == BODY


@pytest.mark.parametrize("estimate", ["nan", "inf", "-1"])
def test_an_unusable_estimate_sets_no_cap(scripted, tmp_path, estimate):
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png", length=False)
    row = fetch(scripted, tmp_path, estsize_kb=estimate)
    assert (row["status"], row["size"]) == ("downloaded", len(BODY))


@pytest.mark.parametrize("estimate_kb, body, kept", [
    (0, (32 << 20) + 1, False),        # 0 kB is an estimate: 32 MiB at most
    (17 << 10, 50 << 20, True),        # three times 17 MiB is the larger bound: 51 MiB
    (17 << 10, (51 << 20) + 1, False),
])
def test_the_cap_without_length_is_the_larger_of_two_bounds(scripted, tmp_path, estimate_kb,
                                                            body, kept):
    scripted.routes["/f/" + AID] = send_file(bytes(body), name=f"{AID}.png", length=False)
    row = fetch(scripted, tmp_path, estsize_kb=estimate_kb)
    assert row["status"] == ("downloaded" if kept else "error"), row["message"]


class _Counting(ThreadPoolExecutor):
    """Counts the tasks given and not yet finished, and the most at any time."""

    def __init__(self):
        super().__init__(2)
        self.open = self.most = 0
        self.lock = threading.Lock()

    def submit(self, *args, **kwargs):
        with self.lock:
            self.open += 1
            self.most = max(self.most, self.open)
        future = super().submit(*args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _):
        with self.lock:
            self.open -= 1


def test_an_executor_gets_at_most_its_window_of_tasks(scripted, tmp_path):
    # Default max_workers (8): at most 32 tasks in the executor at once.
    scripted.routes["/f/" + AID] = send_file(b"x", name="x.txt")
    opts = options(tmp_path)
    jobs = [FileJob(f"ADP.{n}", scripted.url + "/f/" + AID, opts, local_name=f"{n}.txt")
            for n in range(60)]
    with _Counting() as executor:
        rows = download_files(jobs, executor=executor, progress=False)
    assert [r["status"] for r in rows] == ["downloaded"] * 60
    assert executor.most == 32


def test_the_connection_cap_is_per_host(tmp_path):
    # One connection per host, two hosts: both transfers run at once (each server waits
    # for the other's request before it answers).
    both = threading.Barrier(2, timeout=10)

    def meeting(handler):
        both.wait()
        send_file(b"x" * 100, ctype="text/plain")(handler)

    with ScriptedServer("127.0.0.2") as one, ScriptedServer("127.0.0.3") as two:
        one.routes["/f"] = two.routes["/f"] = meeting
        opts = options(tmp_path, retries=0)
        jobs = [FileJob("ADP.1", one.url + "/f", opts, extension="TXT"),
                FileJob("ADP.2", two.url + "/f", opts, extension="TXT")]
        rows = download_files(jobs, max_workers=2, host_connections=1, progress=False)
    assert [r["status"] for r in rows] == ["downloaded", "downloaded"]


def test_a_hidden_file_of_the_proposed_name_is_not_taken_for_the_file(scripted, tmp_path):
    # The server proposes ".ADP...png"; the file lands as ESO's name without the dot, and
    # a hidden file of the proposed spelling is nobody's download.
    proposed = f".{AID}.png"
    theirs = bytes(len(BODY))  # even of the same length
    (tmp_path / proposed).write_bytes(theirs)
    scripted.routes["/f/" + AID] = send_file(BODY, name=proposed)
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["local_path"]) == ("downloaded", str(tmp_path / NAME))
    assert (tmp_path / NAME).read_bytes() == BODY
    assert (tmp_path / proposed).read_bytes() == theirs


# -- stalls, pieces, files already there, workers --------------------------------------------

def dribble(*, chunk, every, total, length):
    """A route sending ``chunk`` bytes every ``every`` seconds, ``total`` bytes in all."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Disposition", f'attachment; filename="{AID}.png"')
        if length:
            handler.send_header("Content-Length", str(length))
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        sent = 0
        while sent < total:
            handler.wfile.write(b"x" * chunk)
            handler.wfile.flush()
            sent += chunk
            time.sleep(every)
    return answer


@pytest.mark.parametrize("length, shown", [(100_000, "100000"), (None, "?")])
def test_a_stalled_transfer_says_how_far_it_got(scripted, tmp_path, length, shown):
    scripted.routes["/f/" + AID] = dribble(chunk=1, every=0.1, total=30, length=length)
    row = fetch(scripted, tmp_path, retries=0, stall_window=0.5, min_rate=100)
    assert re.fullmatch(
        rf"Gave up after 1 attempts: Stalled: (\d+) bytes in the last \d s \(below 100 "
        rf"bytes/s\); (\d+) of {re.escape(shown)} bytes kept to resume\. The partial file "
        r"is kept for a later resume\.", row["message"]), row["message"]
    assert (row["status"], row["http_status"]) == ("error", 200)


def test_a_slow_but_steady_transfer_is_not_stopped(scripted, tmp_path):
    # 20 bytes every 20 ms: about 1,000 bytes/s over each half-second window, ten times
    # the floor, in pieces each far below it.
    scripted.routes["/f/" + AID] = dribble(chunk=20, every=0.02, total=1600, length=1600)
    row = fetch(scripted, tmp_path, retries=0, stall_window=0.5, min_rate=100)
    assert (row["status"], row["size"]) == ("downloaded", 1600), row["message"]


def test_a_wrong_piece_on_the_last_attempt_is_reported(scripted, tmp_path):
    dest = resumable_part(scripted, tmp_path, BODY[:100])

    def elsewhere(handler):
        handler.send_response(206)
        handler.send_header("ETag", '"v1"')
        handler.send_header("Content-Range", f"bytes 0-{len(BODY) - 1}/{len(BODY)}")
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        handler.wfile.write(BODY)

    scripted.routes["/f/" + AID] = elsewhere
    row = fetch(scripted, tmp_path, retries=0)
    assert row["message"] == ("Gave up after 1 attempts: The server answered a Range request "
                              "with the wrong piece; restarting.")
    assert row["http_status"] == 206
    assert not dest.part_path(AID).exists()


def test_a_shorter_file_of_the_name_is_replaced_when_the_length_is_known(scripted, tmp_path):
    (tmp_path / NAME).write_bytes(b"cut short")  # not in the folder's record
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png")
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["size"]) == ("downloaded", len(BODY))
    assert (tmp_path / NAME).read_bytes() == BODY
    # Without a length to compare, a file of the name counts as the file.
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / NAME).write_bytes(b"cut short")
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png", length=False)
    row = fetch(scripted, tmp_path / "b")
    assert (row["status"], row["size"]) == ("skipped-existing", 9)
    assert row["message"] == "A complete file of this name was already there."


def test_one_worker_means_one_transfer_at_a_time(tmp_path):
    open_now, most = [0], [0]
    lock = threading.Lock()

    def counted(handler):
        with lock:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
        try:
            time.sleep(0.05)
            send_file(b"x" * 100, ctype="text/plain")(handler)
        finally:
            with lock:
                open_now[0] -= 1

    with ScriptedServer("127.0.0.2") as one, ScriptedServer("127.0.0.3") as two:
        one.routes["/f"] = two.routes["/f"] = counted
        opts = options(tmp_path, retries=0)
        jobs = [FileJob(f"ADP.{n}", (one, two)[n % 2].url + "/f", opts, extension="TXT")
                for n in range(6)]
        rows = download_files(jobs, max_workers=1, progress=False)
    assert [r["status"] for r in rows] == ["downloaded"] * 6
    assert most[0] == 1


@pytest.mark.parametrize("body, kept", [(446_464, True), (446_463, False)])
def test_a_body_far_below_the_estimate_without_length_is_cut_short(scripted, tmp_path, body,
                                                                    kept):
    # 1000 kB estimated: below half of it, less 64 KiB, a body with no length is taken
    # for a connection that ended early.
    scripted.routes["/f/" + AID] = send_file(bytes(body), name=f"{AID}.png", length=False)
    row = fetch(scripted, tmp_path, retries=0, estsize_kb=1000)
    if kept:
        assert (row["status"], row["size"]) == ("downloaded", body), row["message"]
    else:
        assert row["message"] == (
            f"Gave up after 1 attempts: The connection ended after {body} bytes with no length "
            "announced, for a file the archive estimates at 1000 kB: the file seems cut short."
            " The partial file is kept for a later resume.")
        assert row["http_status"] == 200


@pytest.mark.parametrize("identity, who", [(None, "anonymous users"), ("alice", "user alice")])
def test_a_refusal_is_remembered_for_the_same_login(scripted, tmp_path, identity, who):
    scripted.routes["/f/" + AID] = answer_status(401)
    login = {} if identity is None else {
        "credentials": Credentials("tok", [scripted.url], identity=identity)}
    first = fetch(scripted, tmp_path, **login)
    assert first["http_status"] == 401
    again = fetch(scripted, tmp_path, **login)
    assert again["message"] == (
        f"HTTP 401 in an earlier run (to {who}): the file is proprietary. Log in (or with "
        "another account) and run again to try it; overwrite=True asks anyway.")
    assert (again["status"], again["http_status"], again["attempts"]) == ("error", 401, 0)
    assert len(scripted.got("/f/" + AID)) == 1
    # overwrite=True asks again.
    fetch(scripted, tmp_path, overwrite=True, **login)
    assert len(scripted.got("/f/" + AID)) == 2


def test_a_stale_part_file_goes_when_the_file_is_skipped(scripted, tmp_path):
    (tmp_path / NAME).write_bytes(BODY)  # complete, though not in the folder's record
    dest = resumable_part(scripted, tmp_path, BODY[:10])
    scripted.routes["/f/" + AID] = send_file(BODY, name=f"{AID}.png")  # ignores Range
    row = fetch(scripted, tmp_path)
    assert row["status"] == "skipped-existing"
    assert not dest.part_path(AID).exists()
    assert dest.load_validator(AID, url=row["url"]) is None


def test_a_part_file_longer_than_the_file_is_restarted(scripted, tmp_path):
    resumable_part(scripted, tmp_path, BODY + b"extra")
    whole = send_file(BODY, name=f"{AID}.png", etag='"v1"')

    def answer(handler):
        wanted = handler.headers.get("Range")
        if wanted and int(wanted.split("=")[1].split("-")[0]) >= len(BODY):
            handler.send_response(416)
            handler.send_header("Content-Range", f"bytes */{len(BODY)}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        whole(handler)

    scripted.routes["/f/" + AID] = answer
    row = fetch(scripted, tmp_path)
    assert (row["status"], row["attempts"]) == ("downloaded", 2)
    assert (tmp_path / NAME).read_bytes() == BODY
    assert [r.headers.get("Range") for r in scripted.got("/f/" + AID)] == [
        f"bytes={len(BODY) + 5}-", None]
