# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""download_ancillary when things go wrong: drops, 5xx/429, no Range, kills, two
processes, timeouts, and a hostile server (HTML pages, lying Content-Length,
dangerous file names)."""
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from astropy.table import Table
from folders import listing

from astroquery_eso_ancillary import conf
from astroquery_eso_ancillary.emulator import Faults


@pytest.fixture
def dest(tmp_path):
    """A download folder of its own (tmp_path also holds the fixture's cache)."""
    return tmp_path / "dl"


SIZE = 262144  # the emulator's default cap on served file sizes


@pytest.fixture(autouse=True)
def quick_backoff():
    with conf.set_temp("backoff", 0.01):
        yield


def big_public_id(emu, *, skip=()):
    """A public file served with the full SIZE bytes."""
    for row in emu.archive.files:
        aid = row["archive_id"]
        if aid in skip or emu.archive.is_proprietary(aid):
            continue
        if aid == row["product_id"]:  # a product id means the product's ancillary files
            continue
        info = emu.file_info(aid)
        if info["size"] == SIZE and not info["compression"]:
            return aid
    pytest.fail("no full-size public file in the emulator's archive")


def file_requests(emu, aid=None):
    return [r for r in emu.requests if r.path.startswith("/dataPortal/file/")
            and (aid is None or r.path.endswith(aid))]


def part_files(folder):
    if not os.path.isdir(folder):
        return []
    return [name for name in listing(folder) if name.endswith(".part")]


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


# -- resume -----------------------------------------------------------------------------

def test_resume_after_drop_fetches_only_the_remainder(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(drop_after=100_000, paths=("/dataPortal",))
    first = eso.download_ancillary(aid, destination=dest, max_retries=0, progress=False)
    row = first[0]
    assert row["status"] == "error" and "partial file is kept" in row["message"]
    assert row["local_path"] == ""
    assert part_files(dest) and len(listing(dest)) == 1  # no final name yet
    kept = os.path.getsize(dest / part_files(dest)[0])
    assert kept == 100_000

    emu.faults = Faults()
    emu.reset()
    second = eso.download_ancillary(aid, destination=dest, progress=False)
    assert second["status"][0] == "resumed"
    assert read(second["local_path"][0]) == emu.file_bytes(aid)
    (request,) = file_requests(emu)
    assert request.range == f"bytes={kept}-" and request.status == 206
    assert request.bytes_sent == SIZE - kept
    assert part_files(dest) == []


def test_retries_resume_within_one_run(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(drop_after=100_000, paths=("/dataPortal",))
    manifest = eso.download_ancillary(aid, destination=dest, max_retries=4, progress=False)
    row = manifest[0]
    assert row["status"] == "resumed" and row["attempts"] == 3
    assert read(row["local_path"]) == emu.file_bytes(aid)
    sent = [r.bytes_sent for r in file_requests(emu, aid)]
    assert sum(sent) == SIZE  # nothing fetched twice
    assert [r.range for r in file_requests(emu, aid)] == [None, "bytes=100000-",
                                                          "bytes=200000-"]


def test_random_drops_on_many_files(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    ids = [r["archive_id"] for r in emu.archive.files
           if not emu.archive.is_proprietary(r["archive_id"])
           and r["archive_id"] != r["product_id"]][:12]  # files, not products
    emu.faults = Faults(drop_fraction=0.5, paths=("/dataPortal",), seed=5)
    manifest = eso.download_ancillary(ids, destination=dest, max_retries=8,
                                      max_workers=4, progress=False)
    assert set(manifest["status"]) <= {"downloaded", "resumed"}
    assert "resumed" in set(manifest["status"])
    for row in manifest:
        assert read(row["local_path"]) == emu.file_bytes(row["archive_id"])
    assert part_files(dest) == []


def test_server_without_range_restarts_cleanly(eso_archive_factory, dest):
    emu = eso_archive_factory(products=10, range_support=False)
    aid = big_public_id(emu)
    emu.faults = Faults(drop_after=150_000, paths=("/dataPortal",))
    first = emu.eso.download_ancillary(aid, destination=dest, max_retries=0,
                                       progress=False)
    assert first["status"][0] == "error"
    emu.faults = Faults()
    second = emu.eso.download_ancillary(aid, destination=dest, progress=False)
    assert second["status"][0] == "downloaded"  # not "resumed": it started again
    assert read(second["local_path"][0]) == emu.file_bytes(aid)
    last = file_requests(emu, aid)[-1]
    assert last.range == "bytes=150000-" and last.status == 200 and last.bytes_sent == SIZE


def test_continuation_false_starts_afresh(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(drop_after=50_000, paths=("/dataPortal",))
    eso.download_ancillary(aid, destination=dest, max_retries=0, progress=False)
    emu.faults = Faults()
    emu.reset()
    manifest = eso.download_ancillary(aid, destination=dest, continuation=False,
                                      progress=False)
    assert manifest["status"][0] == "downloaded"
    (request,) = file_requests(emu)
    assert request.range is None and request.bytes_sent == SIZE
    assert read(manifest["local_path"][0]) == emu.file_bytes(aid)


def test_changed_file_is_not_spliced(eso_archive, dest):
    # The part file's record keeps the ETag of what it holds (no extended attributes
    # needed); a resume that finds another version of the file starts again instead of
    # gluing two versions together.
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(drop_after=100_000, paths=("/dataPortal",))
    eso.download_ancillary(aid, destination=dest, max_retries=0, progress=False)
    emu.faults = Faults()
    emu.file_sizes[aid] = SIZE - 2880  # a new version (other ETag), still whole FITS blocks
    manifest = eso.download_ancillary(aid, destination=dest, progress=False)
    assert manifest["status"][0] == "downloaded"
    assert read(manifest["local_path"][0]) == emu.file_bytes(aid)
    assert len(emu.file_bytes(aid)) == SIZE - 2880
    assert [(r.status, r.range) for r in file_requests(emu, aid)][-2:] == [
        (206, "bytes=100000-"), (200, None)]


def test_part_file_already_complete(eso_archive, dest):
    # A part file nothing vouches for (no validator record, as after a crash between
    # the last byte and the record, or one copied in by hand): it is not continued but
    # fetched again whole, never left broken.
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    dest.mkdir()
    (dest / (aid.replace(":", "_") + ".part")).write_bytes(emu.file_bytes(aid))
    manifest = eso.download_ancillary(aid, destination=dest, progress=False)
    assert manifest["status"][0] == "downloaded"
    assert read(manifest["local_path"][0]) == emu.file_bytes(aid)
    assert [(r.status, r.range) for r in file_requests(emu, aid)] == [(200, None)]
    assert part_files(dest) == []


# -- 5xx, 429, timeouts -------------------------------------------------------------------

@pytest.mark.parametrize("status", [503, 429, 500])
def test_persistent_errors_give_an_error_row(eso_archive, dest, status):
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(error_fraction=1.0, error_status=status, paths=("/dataPortal",))
    manifest = eso.download_ancillary(aid, destination=dest, max_retries=2, progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["http_status"] == status
    assert row["attempts"] == 3 and f"HTTP {status}" in row["message"]
    assert len(file_requests(emu, aid)) == 3
    assert listing(dest) == []


@pytest.mark.timeout(120)
def test_retry_after_is_honoured(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    ids = []
    for _ in range(4):
        ids.append(big_public_id(emu, skip=ids))
    emu.faults = Faults(error_fraction=0.6, error_status=503, retry_after=0.05,
                        paths=("/dataPortal",), seed=2)
    # Without Retry-After each wait would be the 300 s cap: the test would time out.
    with conf.set_temp("backoff", 10_000):
        manifest = eso.download_ancillary(ids, destination=dest, max_retries=10,
                                          progress=False)
    assert set(manifest["status"]) == {"downloaded"}
    assert sum(manifest["attempts"]) > len(ids)
    assert any(r.status == 503 for r in file_requests(emu))
    for row in manifest:
        assert read(row["local_path"]) == emu.file_bytes(row["archive_id"])


def test_read_timeout_is_retried_then_reported(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    aid = big_public_id(emu)
    emu.faults = Faults(slow_fraction=1.0, slow_seconds=3, paths=("/dataPortal",))
    manifest = eso.download_ancillary(aid, destination=dest, timeout=0.5, max_retries=1,
                                      progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["attempts"] == 2
    assert "Timeout" in row["message"]
    # Let the emulator finish the slow answers, so they do not reach the next test's log.
    deadline = time.monotonic() + 30
    while len(file_requests(emu, aid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)


# -- crashes and two processes ------------------------------------------------------------

SCRIPT = """
import json, sys
from astropy.table import Table
from astroquery_eso_ancillary import Eso, conf
url, folder, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
eso = Eso(archive_url=url)
with conf.set_temp("backoff", 0.01):
    m = eso.download_ancillary(Table(spec), destination=folder, max_workers=2,
                               progress=False)
print("RESULT " + json.dumps([[str(r["archive_id"]), str(r["status"])] for r in m]))
"""


def spawn(emu, folder, aids):
    spec = {"archive_id": aids,
            "extension": [emu.archive.file(a)["extension"] for a in aids]}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, emu.url, str(folder),
                             json.dumps(spec)], stdout=subprocess.PIPE, text=True)


def test_two_processes_into_one_folder(eso_archive, dest):
    emu = eso_archive
    aids = []
    for _ in range(4):
        aids.append(big_public_id(emu, skip=aids))
    emu.faults = Faults(bandwidth=400_000, paths=("/dataPortal",))
    one, two = spawn(emu, dest, aids), spawn(emu, dest, aids)
    results = [json.loads(p.communicate(timeout=120)[0].split("RESULT ")[-1])
               for p in (one, two)]
    statuses = {}
    for result in results:
        for aid, status in result:
            statuses.setdefault(aid, []).append(status)
    for aid in aids:
        assert sorted(statuses[aid]) == ["downloaded", "skipped-existing"], statuses
        assert [r.status for r in file_requests(emu, aid)] == [200]  # fetched once
    assert sorted(listing(dest)) == sorted(
        emu.file_info(a)["name"].replace(":", "_") for a in aids)
    for aid in aids:
        name = emu.file_info(aid)["name"].replace(":", "_")
        assert read(dest / name) == emu.file_bytes(aid)


def test_killed_download_leaves_no_truncated_file(eso_archive, dest):
    emu = eso_archive
    aid = big_public_id(emu)
    emu.faults = Faults(bandwidth=50_000, paths=("/dataPortal",))
    proc = spawn(emu, dest, [aid])
    deadline = time.monotonic() + 60
    while not part_files(dest) or os.path.getsize(dest / part_files(dest)[0]) == 0:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    final = emu.file_info(aid)["name"].replace(":", "_")
    assert not (dest / final).exists()
    kept = os.path.getsize(dest / part_files(dest)[0])
    assert 0 < kept < SIZE

    emu.faults = Faults()
    emu.reset()
    manifest = emu.eso.download_ancillary(aid, destination=dest, progress=False)
    assert manifest["status"][0] == "resumed"
    assert read(dest / final) == emu.file_bytes(aid)
    assert file_requests(emu)[0].bytes_sent == SIZE - kept


# -- a hostile or broken server -----------------------------------------------------------

class Hostile(http.server.ThreadingHTTPServer):
    """A tiny server answering each path as the test sets it up.

    ``routes[path] = (status, headers, body, sent)``: ``sent`` bytes of the
    body are sent before the connection is closed (all when None).
    """

    daemon_threads = True

    def __init__(self):
        self.routes = {}
        self.hits = []
        super().__init__(("127.0.0.1", 0), _HostileHandler)
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append((self.path, self.headers.get("Range")))
        status, headers, body, sent = self.server.routes[self.path]
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if sent is None else body[:sent])
        if sent is not None:
            self.close_connection = True


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.shutdown()
    server.server_close()


def hostile_table(server, names):
    return Table({"archive_id": names,
                  "access_url": [f"{server.url}/file/{n}" for n in names]})


def test_html_page_instead_of_file(eso_archive, hostile, dest):
    hostile.routes["/file/ADP.1"] = (200, [("Content-Type", "text/html; charset=utf-8"),
                                          ("Content-Disposition",
                                           'attachment; filename="ADP.1.fits"')],
                                    b"<html><body>Please log in</body></html>", None)
    manifest = eso_archive.eso.download_ancillary(hostile_table(hostile, ["ADP.1"]),
                                                  destination=dest, progress=False)
    row = manifest[0]
    assert row["status"] == "error" and "HTML" in row["message"]
    assert listing(dest) == []


def test_lying_content_length(eso_archive, hostile, dest):
    body = bytes(range(256)) * 40
    hostile.routes["/file/ADP.2"] = (200, [("Content-Type", "application/fits")], body, 5000)
    manifest = eso_archive.eso.download_ancillary(hostile_table(hostile, ["ADP.2"]),
                                                  destination=dest, max_retries=2,
                                                  progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["attempts"] == 3
    assert "10240" in row["message"]
    assert [name for name in listing(dest) if not name.endswith(".part")] == []
    # The server names no validator (ETag, Last-Modified): nothing proves a part file is
    # the start of the same file, so every retry starts from byte 0.
    assert [r for _, r in hostile.hits] == [None, None, None]


@pytest.mark.parametrize(("proposed", "expected"), [
    ("../../escape.fits", "escape.fits"),
    ("/etc/passwd", "passwd"),
    ("..\\..\\win.fits", "win.fits"),
    ("evil\x01name:.fits", "evil_name_.fits"),
    ("CON.fits", "_CON.fits"),
    ("..", "ADP.3.fits"),
])
def test_dangerous_names_stay_inside(eso_archive, hostile, dest, proposed, expected):
    body = b"SIMPLE  =                    T".ljust(2880)  # whole FITS blocks
    header = 'attachment; filename="' + proposed.replace("\\", "\\\\") + '"'
    hostile.routes["/file/ADP.3"] = (200, [("Content-Type", "application/fits"),
                                          ("Content-Disposition", header)], body, None)
    folder = dest / "inside"
    table = hostile_table(hostile, ["ADP.3"])
    table["extension"] = ["FITS"]
    manifest = eso_archive.eso.download_ancillary(table, destination=folder, progress=False)
    assert manifest["status"][0] == "downloaded", manifest["message"][0]
    assert listing(folder) == [expected]
    assert manifest["local_path"][0] == str(folder / expected)
    assert listing(dest) == ["inside"]
