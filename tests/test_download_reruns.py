# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Re-runs cost no request per complete file, refusals are remembered per login, and no
host gets more connections than the cap."""
import threading

from astropy.table import Table
from servers import ScriptedServer, send_file

from astroquery_eso_ancillary import _compat, download, transport


def public_ids(emu, n):
    return [f["archive_id"] for f in emu.archive.files
            if not emu.archive.is_proprietary(f["archive_id"])
            and not emu.file_info(f["archive_id"])["compression"]][:n]


def file_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/dataPortal/file/")]


def test_rerun_of_complete_files_sends_no_request(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    ids = public_ids(emu, 12)
    first = eso.download_ancillary(ids, destination=tmp_path, progress=False)
    assert set(first["status"]) == {"downloaded"}
    before = len(file_requests(emu))
    for given in (ids, Table({"archive_id": ids})):  # bare ids, then a table
        again = eso.download_ancillary(given, destination=tmp_path, progress=False)
        assert set(again["status"]) == {"skipped-existing"}
        assert list(again["local_path"]) == list(first["local_path"])
    assert len(file_requests(emu)) == before
    # A file removed by the user is fetched again: the record is checked against the disk.
    (tmp_path / first["local_path"][0].rsplit("/", 1)[-1]).unlink()
    again = eso.download_ancillary(ids, destination=tmp_path, progress=False)
    assert list(again["status"]).count("downloaded") == 1
    assert len(file_requests(emu)) == before + 1


def test_refusals_are_asked_again_only_after_a_login(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    aid = next(f["archive_id"] for f in emu.archive.files
               if emu.archive.is_proprietary(f["archive_id"]))
    first = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert first["http_status"][0] == 401
    n = len(file_requests(emu))
    again = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert again["status"][0] == "error" and "earlier run" in again["message"][0]
    assert len(file_requests(emu)) == n  # not asked again with the same (no) login
    assert _compat.authenticate(eso, "alice", "wonderland")
    logged = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert logged["status"][0] == "downloaded", logged["message"][0]
    assert len(file_requests(emu)) == n + 1


def test_no_host_gets_more_connections_than_the_cap(tmp_path):
    open_now, most = [0], [0]
    lock = threading.Lock()
    answer = send_file(b"x" * 1000, ctype="text/plain")

    def counted(handler):
        with lock:
            open_now[0] += 1
            most[0] = max(most[0], open_now[0])
        try:
            threading.Event().wait(0.05)
            answer(handler)
        finally:
            with lock:
                open_now[0] -= 1

    with ScriptedServer("127.0.0.2") as server:
        server.routes.update({f"/f{i}": counted for i in range(24)})
        options = download.DownloadOptions(str(tmp_path),
                                           retry=transport.RetryPolicy(retries=0))
        jobs = [download.FileJob(f"ADP.2000-01-01T00:00:00.{i:03d}", f"{server.url}/f{i}",
                                 options, extension="TXT") for i in range(24)]
        rows = download.download_files(jobs, max_workers=12, host_connections=3,
                                       progress=False)
    assert [r["status"] for r in rows] == ["downloaded"] * 24
    assert 1 < most[0] <= 3
