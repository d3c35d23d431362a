# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: a 300-file download through a faulty archive (drops at random bytes,
503 with Retry-After, answers slower than the client's timeout).

Every file must end complete and byte-identical to what the emulator serves, or
be an error row once its retries are exhausted; no truncated file may carry a
final name; the retries per file are bounded and match the emulator's log.
"""
import collections
import time

import pytest
from astropy.table import Table
from folders import listing

from astroquery_eso_ancillary import conf
from astroquery_eso_ancillary.emulator import Faults

N_FILES = 300
FILE_BYTES = 8192       # small files keep 300 downloads and their retries fast
TIMEOUT = 0.5           # the client's timeout; slow answers take longer
SLOW_SECONDS = 0.8
MAX_RETRIES = 2         # low, so that some files exhaust their retries


@pytest.fixture(scope="module")
def faulty_archive():
    from astroquery_eso_ancillary.emulator import ArchiveEmulator

    with ArchiveEmulator(seed=7, products=200, max_file_bytes=FILE_BYTES) as emu:
        yield emu


@pytest.fixture(autouse=True)
def quick_backoff():
    with conf.set_temp("backoff", 0.01):
        yield


def public_ids(emu, n):
    ids = [row["archive_id"] for row in emu.archive.files
           if not emu.archive.is_proprietary(row["archive_id"])]
    assert len(ids) >= n, "the emulator's archive has too few public files"
    return ids[:n]


def files_table(emu, ids):
    """The ids with their extension, as a get_product_files table carries them."""
    return Table({"archive_id": ids,
                  "extension": [emu.archive.file(aid)["extension"] for aid in ids]})


def final_name(emu, archive_id):
    # The server's name with ':' made safe, as the package documents.
    return emu.file_info(archive_id)["name"].replace(":", "_")


def file_requests(emu):
    counts = collections.Counter()
    for record in emu.requests:
        if record.path.startswith("/dataPortal/file/"):
            counts[record.path[len("/dataPortal/file/"):]] += 1
    return counts


def settle(emu):
    """Wait until requests the client gave up on (slow answers) are logged too.

    The server logs a slow answer only when it sends it; on a loaded machine that
    can be well after the client's timeout, so wait for the log to stop growing.
    """
    time.sleep(SLOW_SECONDS + 0.3)
    deadline = time.monotonic() + 20
    count = len(emu.requests)
    while time.monotonic() < deadline:
        time.sleep(SLOW_SECONDS + 0.3)
        if len(emu.requests) == count:
            break
        count = len(emu.requests)
    return emu.requests


def test_fault_matrix_loses_nothing(faulty_archive, tmp_path):
    emu = faulty_archive
    emu.reset()
    eso = _eso(emu, tmp_path)
    ids = public_ids(emu, N_FILES)
    dest = tmp_path / "dl"
    emu.faults = Faults(drop_fraction=0.20, error_fraction=0.10, error_status=503,
                        retry_after=0.05, slow_fraction=0.05, slow_seconds=SLOW_SECONDS,
                        paths=("/dataPortal",), seed=11)

    manifest = eso.download_ancillary(files_table(emu, ids), destination=dest, max_workers=8,
                                      timeout=TIMEOUT, max_retries=MAX_RETRIES, progress=False)
    settle(emu)

    assert list(manifest["archive_id"]) == ids  # one row per file, in order
    statuses = collections.Counter(manifest["status"])
    assert set(statuses) <= {"downloaded", "resumed", "error"}, statuses
    # 20% drops were injected: some files must have been resumed within the run.
    assert statuses["resumed"] > 0
    # With 2 retries, about 3% of files fail three times in a row (~10 expected): the
    # error branch is exercised too.
    assert statuses["error"] > 0
    on_disk = set(listing(dest))
    finals = set()
    for row in manifest:
        aid = row["archive_id"]
        name = final_name(emu, aid)
        if row["status"] == "error":
            assert row["message"].startswith("Gave up after"), row["message"]
            assert row["local_path"] == ""
            assert name not in on_disk  # never a truncated file under the final name
        else:
            assert row["local_path"] == str(dest / name)
            with open(row["local_path"], "rb") as fh:
                assert fh.read() == emu.file_bytes(aid), aid
            finals.add(name)
    leftovers = on_disk - finals
    assert all(n.endswith(".part") for n in leftovers), leftovers
    assert not any(n.endswith(".lock") for n in on_disk)

    # Bounded retries, and the manifest's attempts are what the archive saw.
    seen = file_requests(emu)
    for row in manifest:
        assert 1 <= row["attempts"] <= MAX_RETRIES + 1 + 3
        assert seen[row["archive_id"]] == row["attempts"], row["archive_id"]
    assert sum(seen.values()) <= N_FILES * (MAX_RETRIES + 4)

    # Faults gone, same call again: the error rows now complete (resuming their part
    # files), the rest is skipped, and nothing is fetched twice.
    emu.reset()
    errors = [row["archive_id"] for row in manifest if row["status"] == "error"]
    again = eso.download_ancillary(files_table(emu, ids), destination=dest, max_workers=8,
                                   timeout=5, progress=False)
    for row in again:
        aid = row["archive_id"]
        assert row["status"] == ("skipped-existing" if aid not in errors
                                 else row["status"]), aid
        assert row["status"] != "error", row["message"]
        with open(row["local_path"], "rb") as fh:
            assert fh.read() == emu.file_bytes(aid)
    assert set(file_requests(emu)) == set(errors)
    assert set(listing(dest)) == {final_name(emu, aid) for aid in ids}


def _eso(emu, tmp_path):
    from astroquery_eso_ancillary import Eso

    eso = Eso(archive_url=emu.url)
    cache = tmp_path / "cache"
    cache.mkdir()
    eso.cache_location = cache
    return eso
