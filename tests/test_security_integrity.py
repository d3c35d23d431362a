# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Credentials only to the archive, prompt Ctrl-C, and no file reported good that is not.

Each case is reproduced over real HTTP: the emulator on 127.0.0.1 and, for foreign or
hostile hosts, a scripted server on 127.0.0.2.
"""
import gzip
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback

import pytest
from astropy.io import fits
from astropy.table import Table
from folders import listing
from servers import ScriptedServer, endless, send_file, stall, trickle

from astroquery_eso_ancillary import _compat, conf, download, transport
from astroquery_eso_ancillary.destination import Destination
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import LoginError

PREVIEW = "ADP.2024-03-19T05:58:04.410"


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "dl"


@pytest.fixture
def foreign():
    with ScriptedServer("127.0.0.2") as server:
        yield server


@pytest.fixture(autouse=True)
def quick_backoff():
    with conf.set_temp("backoff", 0.01):
        yield


def logged_in(emu):
    eso = emu.eso
    assert _compat.authenticate(eso, "alice", "wonderland")
    return eso


def table_of(rows):
    names = ["archive_id", "access_url", "extension", "access_estsize"]
    return Table(rows=rows, names=names, dtype=[str, str, str, float])


def run_engine(dest, jobs_spec, **options):
    """Run the download engine itself on (archive_id, url, extension, estsize_kb) jobs."""
    dest.mkdir(parents=True, exist_ok=True)
    options.setdefault("retry", transport.RetryPolicy(retries=1, backoff=0.01))
    opts = download.DownloadOptions(str(dest), **options)
    jobs = [download.FileJob(aid, url, opts, extension=ext, estsize_kb=est)
            for aid, url, ext, est in jobs_spec]
    return download.download_files(jobs, max_workers=2, progress=False)


# -- credentials ---------------------------------------------------------------------------

def test_token_goes_only_to_the_archive_not_to_hosts_a_table_names(eso_archive, foreign,
                                                                   dest):
    emu = eso_archive
    eso = logged_in(emu)
    body = b"\x89PNG\r\n\x1a\n" + bytes(1000)
    foreign.routes["/evil/ADP.1"] = send_file(body, name="ADP.1.png", ctype="image/png")
    table = table_of([("ADP.2024-03-19T05:58:04.410", emu.download_url + PREVIEW, "PNG", 340),
                      ("ADP.1999-01-01T00:00:00.001", foreign.url + "/evil/ADP.1", "PNG", 1)])
    manifest = eso.download_ancillary(table, destination=dest, progress=False)
    assert list(manifest["status"]) == ["downloaded", "downloaded"], list(manifest["message"])
    # The archive's own host got the token; the host the table named did not.
    archive_hits = [r for r in emu.requests if r.path.endswith(PREVIEW)]
    assert archive_hits and all(r.authorized for r in archive_hits)
    (hit,) = foreign.got("/evil/ADP.1")
    assert "Authorization" not in hit.headers
    assert not any(v.startswith("Bearer") for v in hit.headers.values())
    assert "not one of the archive's own hosts" in manifest["message"][1]
    assert manifest["message"][0] == ""


def test_extra_trusted_host_gets_the_token(eso_archive, foreign, dest):
    eso = logged_in(eso_archive)
    foreign.routes["/f/ADP.1"] = send_file(b"text", name="ADP.1.txt", ctype="text/plain")
    table = table_of([("ADP.1999-01-01T00:00:00.001", foreign.url + "/f/ADP.1", "TXT", 1)])
    with conf.set_temp("trusted_hosts", foreign.url):
        manifest = eso.download_ancillary(table, destination=dest, progress=False)
    assert manifest["status"][0] == "downloaded"
    assert foreign.got("/f/ADP.1")[0].headers["Authorization"].startswith("Bearer ")


def test_query_session_decides_per_request(eso_archive, foreign):
    # pyvo sends every job request (poll, phase, DELETE, result) through this session to
    # whatever URL the service names: a job on another host never sees the token.
    emu = eso_archive
    eso = logged_in(emu)
    foreign.routes["/async/1"] = send_file(b"<x/>", ctype="text/xml")
    with transport.QuerySession(timeout=10, credentials=eso.credentials()) as session:
        session.get(foreign.url + "/async/1")
        session.get(emu.tap_url + "/capabilities")
    assert "Authorization" not in foreign.got("/async/1")[0].headers
    (mine,) = [r for r in emu.requests if r.path.endswith("/capabilities")]
    assert mine.authorized


def test_login_follows_no_redirect_and_logs_no_password(foreign, caplog):
    foreign.routes["/token"] = lambda h: (h.send_response(302),
                                          h.send_header("Location", foreign.url + "/steal"),
                                          h.send_header("Content-Length", "0"),
                                          h.end_headers())
    with caplog.at_level(logging.DEBUG, logger="urllib3"), \
            pytest.raises(LoginError, match="redirect") as info:
        transport.request_token(foreign.url + "/token", username="alice",
                                password="pa ss&word=1", timeout=10)
    assert foreign.got("/steal") == []
    assert "pa ss" not in str(info.value) and "word=1" not in str(info.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/token" in logged  # urllib3 did log the request line ...
    assert "password=***" in logged  # ... with the password hidden
    assert "pa+ss" not in logged and "pa%20ss" not in logged and "%26word" not in logged


def test_login_against_a_get_only_token_service(eso_archive):
    emu = eso_archive
    eso = emu.eso
    assert _compat.authenticate(eso, "alice", "wonderland")
    token_requests = [r for r in emu.requests if r.path.endswith("/token")]
    assert [r.method for r in token_requests] == ["GET"]
    assert eso.credentials()


def test_failed_relogin_keeps_the_valid_login(eso_archive):
    eso = logged_in(eso_archive)
    before = eso.credentials()
    assert not _compat.authenticate(eso, "alice", "typo")
    after = eso.credentials()
    assert transport.auth_headers(eso.tap_url, after) == transport.auth_headers(eso.tap_url,
                                                                               before)
    assert len(eso.get_product_files(PREVIEW.replace(".410", ".407"), authenticated=True,
                                     datalink=False)) == 6


def test_relogin_while_queries_run(eso_archive):
    # 4 threads log in again while 24 authenticated queries run: none may fail.
    eso = logged_in(eso_archive)
    errors = []

    def query():
        try:
            eso.get_product_files("ADP.2024-03-19T05:58:04.407", authenticated=True,
                                  datalink=False)
        except Exception:  # collected: a failure in a thread must fail the test
            errors.append(traceback.format_exc())

    def relogin():
        for _ in range(3):
            if not _compat.authenticate(eso, "alice", "wonderland"):
                errors.append("relogin failed")

    threads = [threading.Thread(target=query) for _ in range(24)]
    threads += [threading.Thread(target=relogin) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_expired_login_mid_run_is_renewed_or_stops_cleanly(eso_archive, dest):
    emu = eso_archive
    proprietary = [f["archive_id"] for f in emu.archive.files
                   if emu.archive.is_proprietary(f["archive_id"])][:2]
    assert proprietary
    spec = [(aid, emu.download_url + aid, "", None) for aid in proprietary]
    dead = transport.Credentials(emu.issue_token("alice"), [emu.url], expires=time.time())
    rows = run_engine(dest / "a", spec, credentials=dead)
    assert [r["status"] for r in rows] == ["error"] * len(spec)
    assert all(r["message"].startswith("Login expired") for r in rows)
    assert not [r for r in emu.requests if r.path.startswith("/dataPortal")]  # none started
    renewed = transport.Credentials("expired", [emu.url], expires=time.time(),
                                    renew=lambda: (emu.issue_token("alice"),
                                                   time.time() + 3600))
    rows = run_engine(dest / "b", spec, credentials=renewed)
    assert [r["status"] for r in rows] == ["downloaded"] * len(spec), rows


def test_the_token_is_in_no_repr_or_pickle_of_the_instance(eso_archive):
    import pickle

    eso = logged_in(eso_archive)
    token = _compat.auth_info(eso).token
    creds = eso.credentials()
    options = download.DownloadOptions("/tmp", credentials=creds)
    headers = transport.request_headers(eso.tap_url, creds)
    for shown in (repr(creds), str(creds), repr(options), repr(headers),
                  repr(_compat.auth_info(eso))):
        assert token not in shown
    assert token.encode() not in pickle.dumps(_compat.auth_info(eso))


# -- Ctrl-C and stalls ---------------------------------------------------------------------

INTERRUPTIBLE = textwrap.dedent("""
    import sys, time
    from astropy.table import Table
    from astroquery_eso_ancillary import Eso, download
    eso = Eso(archive_url=sys.argv[1])
    table = Table({"archive_id": sys.argv[3].split(","), "access_url": sys.argv[4].split(",")})
    print("start", flush=True)
    try:
        eso.download_ancillary(table, destination=sys.argv[2], progress=False, max_workers=4)
    except download.DownloadInterrupted as stop:
        print("interrupted", sum(m.startswith("Interrupted") for m in stop.manifest["message"]),
              flush=True)
""")


def ctrl_c_as_in_a_terminal():
    # A child started from a background job (nohup, '&', some CI runners) inherits an
    # ignored SIGINT, and Python then leaves it ignored: give it the default back, so
    # that it gets the KeyboardInterrupt a user's Ctrl-C gives.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_after(args, wait_for, *, timeout=20):
    """Start the script, send SIGINT once ``wait_for()`` is true; return (stdout, seconds)."""
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTIBLE, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + timeout
        while not wait_for():
            assert time.monotonic() < deadline, "the download never began"
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        seconds = time.monotonic() - sent
        said = [line for line in out.splitlines() if line.startswith("interrupted")]
        return (said[0] if said else out), seconds, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ctrl_c_during_retry_after_stops_promptly(eso_archive, dest):
    emu = eso_archive
    ids = [f["archive_id"] for f in emu.archive.files
           if not emu.archive.is_proprietary(f["archive_id"])][:6]
    emu.faults = Faults(error_fraction=1.0, error_status=503, retry_after=120,
                        paths=("/dataPortal",))
    urls = [emu.download_url + a for a in ids]

    def waiting():
        return len([r for r in emu.requests if r.path.startswith("/dataPortal")]) >= 4

    out, seconds, err = interrupt_after([emu.url, str(dest), ",".join(ids), ",".join(urls)],
                                        waiting)
    assert seconds < 5, (seconds, err)  # generous: the promise is about a second
    assert out.split()[:2] == ["interrupted", str(len(ids))], (out, err)
    before = len(emu.requests)
    time.sleep(0.5)
    assert len(emu.requests) == before  # no request starts after the interrupt


def test_ctrl_c_while_a_server_stalls(eso_archive, foreign, dest):
    stop = threading.Event()
    foreign.routes["/slow"] = stall(stop=stop, seconds=60)
    try:
        out, seconds, err = interrupt_after(
            [eso_archive.url, str(dest), "ADP.1999-01-01T00:00:00.001",
             foreign.url + "/slow"], lambda: bool(foreign.got("/slow")))
    finally:
        stop.set()
    assert seconds < 5, (seconds, err)
    assert out.split()[:2] == ["interrupted", "1"], (out, err)


def test_a_trickle_is_stopped_by_the_stall_rule(eso_archive, foreign, dest):
    stop = threading.Event()
    foreign.routes["/trickle"] = trickle(byte_every=0.2, total_seconds=20, stop=stop)
    try:
        rows = run_engine(dest, [("ADP.1999-01-01T00:00:00.001", foreign.url + "/trickle",
                                  "PNG", None)], stall_window=1.0, min_rate=100)
    finally:
        stop.set()
    assert rows[0]["status"] == "error"
    assert "Stalled" in rows[0]["message"]
    assert not [n for n in listing(dest) if not n.endswith(".part")]


def test_an_endless_body_is_cut_and_never_downloaded(eso_archive, foreign, dest):
    stop = threading.Event()
    foreign.routes["/endless"] = endless(stop=stop)
    try:
        rows = run_engine(dest, [("ADP.1999-01-01T00:00:00.001", foreign.url + "/endless",
                                  "PNG", 100)])
    finally:
        stop.set()
    assert rows[0]["status"] == "error" and rows[0]["message"].startswith("Cut:")
    assert listing(dest) == []  # nothing kept under any name


def test_a_lock_held_by_a_hung_process_is_waited_for_with_a_bound(eso_archive, dest):
    emu = eso_archive
    dest.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from astroquery_eso_ancillary.destination import Destination
        with Destination({str(dest)!r}).folder_lock(timeout=5):
            print("held", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        rows = run_engine(dest, [(PREVIEW, emu.download_url + PREVIEW, "PNG", 340)],
                          lock_timeout=0.5)
        assert time.monotonic() - started < 30  # generous: the bound is 0.5 s
    finally:
        holder.kill()
        holder.wait()
    assert rows[0]["status"] == "error" and "held the lock" in rows[0]["message"]


# -- integrity -------------------------------------------------------------------------------

def cut_then_resume(foreign, dest, body, route, **validators):
    """First attempt cut at 4000 bytes (a crash), then a normal run; return the rows."""
    state = {"cut": True}
    full = send_file(body, name="F.bin", **validators)

    def answer(handler):
        if state.pop("cut", False):
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            for key, value in (("ETag", validators.get("etag")),
                               ("Last-Modified", validators.get("last_modified"))):
                if value:
                    handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(body[:4000])
            handler.wfile.flush()
            handler.close_connection = True
            return
        full(handler)

    foreign.routes[route] = answer
    spec = [("ADP.1999-01-01T00:00:00.001", foreign.url + route, "", None)]
    first = run_engine(dest, spec, retry=transport.RetryPolicy(retries=0))
    assert first[0]["status"] == "error"
    return first, run_engine(dest, spec)


@pytest.mark.parametrize("validators,resumes", [
    ({"etag": '"v1"'}, True),
    ({"last_modified": "Tue, 01 Dec 2026 10:00:00 GMT"}, True),
    ({"etag": 'W/"weak"'}, False),
    ({}, False),
])
def test_resume_only_when_the_server_proves_the_same_file(eso_archive, foreign, dest,
                                                          validators, resumes):
    body = bytes(range(256)) * 64
    _, rows = cut_then_resume(foreign, dest, body, "/r", **validators)
    assert rows[0]["status"] == ("resumed" if resumes else "downloaded"), rows[0]["message"]
    with open(rows[0]["local_path"], "rb") as fh:
        assert fh.read() == body
    last = foreign.got("/r")[-1].headers
    assert ("Range" in last) == resumes


def test_a_changed_file_is_never_spliced_even_if_the_server_ignores_if_range(
        eso_archive, foreign, dest):
    old, new = bytes(8000), bytes(range(256)) * 40
    state = {"calls": 0}

    def answer(handler):
        state["calls"] += 1
        if state["calls"] == 1:  # the first version, cut
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(old)))
            handler.send_header("ETag", '"old"')
            handler.end_headers()
            handler.wfile.write(old[:4000])
            handler.close_connection = True
            return
        # A server that ignores If-Range and serves the range of its new version.
        start = int(handler.headers["Range"].split("=")[1].split("-")[0]) \
            if "Range" in handler.headers else 0
        handler.send_response(206 if start else 200)
        handler.send_header("ETag", '"new"')
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(new) - 1}/{len(new)}")
        handler.send_header("Content-Length", str(len(new) - start))
        handler.end_headers()
        handler.wfile.write(new[start:])

    foreign.routes["/c"] = answer
    spec = [("ADP.1999-01-01T00:00:00.001", foreign.url + "/c", "", None)]
    run_engine(dest, spec, retry=transport.RetryPolicy(retries=0))
    rows = run_engine(dest, spec)
    assert rows[0]["status"] == "downloaded"
    with open(rows[0]["local_path"], "rb") as fh:
        assert fh.read() == new


def test_a_short_close_delimited_body_is_not_downloaded(eso_archive, foreign, dest):
    foreign.routes["/short"] = send_file(bytes(5000), name="S.png", ctype="image/png",
                                         length=False)
    rows = run_engine(dest, [("ADP.1999-01-01T00:00:00.001", foreign.url + "/short", "PNG",
                              500)])
    assert rows[0]["status"] == "error" and "cut short" in rows[0]["message"]
    assert listing(dest) == [n for n in listing(dest) if n.endswith(".part")]


def a_fits_file(emu):
    for row in emu.archive.files:
        aid = row["archive_id"]
        if aid == row["product_id"]:  # a product id means the product's ancillary files
            continue
        info = emu.file_info(aid)
        if (info["name"].endswith(".fits") and not info["compression"]
                and not emu.archive.is_proprietary(aid)):
            return aid
    pytest.fail("no public FITS file")


def test_fits_files_are_whole_and_checksums_verified(eso_archive, dest):
    emu = eso_archive
    eso = emu.eso
    aid = a_fits_file(emu)
    good = emu.file_bytes(aid)
    assert len(good) % 2880 == 0
    manifest = eso.download_ancillary(aid, destination=dest / "good", verify=True,
                                      progress=False)
    assert manifest["status"][0] == "downloaded", manifest["message"][0]
    with fits.open(manifest["local_path"][0], checksum=True) as hdus:
        assert "CHECKSUM" in hdus[0].header
    # One flipped byte in the last block: same size, the checksum catches it.
    bad = bytearray(good)
    bad[-10] ^= 0xFF
    emu.file_overrides[aid] = {"body": bytes(bad)}
    manifest = eso.download_ancillary(aid, destination=dest / "bad", verify=True,
                                      progress=False)
    assert manifest["status"][0] == "error"
    assert "CHECKSUM/DATASUM" in manifest["message"][0]
    assert [n for n in listing(dest / "bad") if not n.endswith(".rejected")] == []
    # Cut to a length that is no whole number of FITS blocks: refused even without verify.
    emu.file_overrides[aid] = {"body": good[:-100]}
    manifest = eso.download_ancillary(aid, destination=dest / "cut", progress=False)
    assert manifest["status"][0] == "error" and "2880" in manifest["message"][0]


def test_two_archive_ids_never_share_a_name(eso_archive, foreign, dest):
    foreign.routes["/a"] = send_file(b"first", name="same.txt", ctype="text/plain")
    foreign.routes["/b"] = send_file(b"second", name="same.txt", ctype="text/plain")
    a, b = "ADP.1999-01-01T00:00:00.001", "ADP.1999-01-01T00:00:00.002"
    rows = run_engine(dest, [(a, foreign.url + "/a", "TXT", None)])
    assert rows[0]["local_path"].endswith("same.txt")
    # A later run, another id, the same name: the first file stays, the second goes
    # under ESO's own spelling of its name.
    rows = run_engine(dest, [(b, foreign.url + "/b", "TXT", None)])
    assert rows[0]["status"] == "downloaded"
    assert os.path.basename(rows[0]["local_path"]) == "ADP.1999-01-01T00_00_00.002.txt"
    with open(dest / "same.txt", "rb") as fh:
        assert fh.read() == b"first"
    # And a re-run of the first id is answered from the folder's record, no request.
    before = len(foreign.got("/a"))
    rows = run_engine(dest, [(a, foreign.url + "/a", "TXT", None)])
    assert rows[0]["status"] == "skipped-existing" and len(foreign.got("/a")) == before


@pytest.mark.parametrize("name", ["ADP.1.part", "manifest.ecsv", "ADP.1.rejected"])
def test_no_data_file_takes_a_name_the_engine_keeps(eso_archive, foreign, dest, name):
    foreign.routes["/n"] = send_file(b"data", name=name, ctype="text/plain")
    rows = run_engine(dest, [("ADP.1999-01-01T00:00:00.001", foreign.url + "/n", "", None)])
    assert rows[0]["status"] == "error" and "keeps for its own files" in rows[0]["message"]


def test_planted_symlinks_are_not_followed(eso_archive, tmp_path, dest):
    emu = eso_archive
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    dest.mkdir()
    stem = PREVIEW.replace(":", "_")
    # At the part file's place:
    (dest / (stem + ".part")).symlink_to(outside)
    Destination(dest).save_validator(PREVIEW, url=emu.download_url + PREVIEW, validator='"x"')
    rows = run_engine(dest, [(PREVIEW, emu.download_url + PREVIEW, "PNG", 340)])
    assert rows[0]["status"] == "error" and "symbolic link" in rows[0]["message"]
    assert outside.read_bytes() == b"precious"
    os.unlink(dest / (stem + ".part"))
    # At the final name's place:
    (dest / (stem + ".png")).symlink_to(outside)
    rows = run_engine(dest, [(PREVIEW, emu.download_url + PREVIEW, "PNG", 340)])
    assert rows[0]["status"] == "error" and "symbolic link" in rows[0]["message"]
    assert outside.read_bytes() == b"precious"
    assert os.path.islink(dest / (stem + ".png"))


def test_unzip_has_a_cap_and_a_rerun_decompresses(eso_archive, foreign, dest):
    bomb = gzip.compress(bytes(4 << 20))
    foreign.routes["/bomb.gz"] = send_file(bomb, name="bomb.fits.gz", ctype="application/gzip")
    spec = [("ADP.1999-01-01T00:00:00.001", foreign.url + "/bomb.gz", "", None)]
    rows = run_engine(dest, spec, unzip=True, max_inflated_bytes=1 << 20)
    assert rows[0]["status"] == "error" and "inflates to more than" in rows[0]["message"]
    # Downloaded without unzip, then a re-run with unzip=True decompresses what is there.
    rows = run_engine(dest / "two", spec)
    assert rows[0]["local_path"].endswith(".gz")
    rows = run_engine(dest / "two", spec, unzip=True)
    assert rows[0]["status"] == "skipped-existing"
    assert rows[0]["local_path"].endswith("bomb.fits") and rows[0]["size"] == 4 << 20


def test_tap_answers_are_inflated_with_a_cap(eso_archive, foreign):
    payload = gzip.compress(bytes(8 << 20))

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    foreign.routes["/sync"] = answer
    from astroquery_eso_ancillary.exceptions import EsoServiceError
    with transport.QuerySession(timeout=10) as session:
        session.max_answer_bytes = 1 << 20
        with pytest.raises(EsoServiceError, match="inflates to more than"):
            session.get(foreign.url + "/sync")


def test_cli_writes_the_manifest_of_an_interrupted_run(eso_archive, tmp_path):
    emu = eso_archive
    ids = [f["archive_id"] for f in emu.archive.files
           if not emu.archive.is_proprietary(f["archive_id"])][:3]
    emu.faults = Faults(error_fraction=1.0, error_status=503, retry_after=120,
                        paths=("/dataPortal",))
    dest = tmp_path / "cli"
    env = {**os.environ, "ESO_ARCHIVE_URL": emu.url}
    proc = subprocess.Popen([sys.executable, "-m", "astroquery_eso_ancillary", "download",
                             *ids, "--destination", str(dest), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    deadline = time.monotonic() + 30
    while len([r for r in emu.requests if r.path.startswith("/dataPortal")]) < 3:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "run the same command again to resume" in err.lower()
    manifest = Table.read(dest / "manifest.ecsv", format="ascii.ecsv")
    assert len(manifest) >= 1
    assert all(str(m).startswith("Interrupted") for m in manifest["message"])
