# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: a download process killed with SIGKILL at random (seeded) moments,
20 times, then resumed to the end.

After every kill no file under a final name may be truncated; after the last,
successful run every file is byte-identical to the emulator's and no ``.part``
or ``.lock`` file is left.
"""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from astropy.table import Table
from folders import listing

from astroquery_eso_ancillary.emulator import Faults

KILLS = 20
N_FILES = 12
BANDWIDTH = 60_000  # bytes/s per connection: the whole set takes ~10 s at 4 workers

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

SCRIPT = textwrap.dedent("""
    import sys
    from astropy.table import Table
    from astroquery_eso_ancillary import Eso, conf

    url, dest, table = sys.argv[1:4]
    eso = Eso(archive_url=url)
    files = Table.read(table, format="ascii.ecsv")
    with conf.set_temp("backoff", 0.01):
        print("ready", flush=True)
        manifest = eso.download_ancillary(files, destination=dest, max_workers=4,
                                          progress=False)
    print("done", ",".join(manifest["status"]), flush=True)
""")


def final_name(emu, archive_id):
    return emu.file_info(archive_id)["name"].replace(":", "_")


def check_no_truncated_final_file(emu, dest, names):
    for aid, name in names.items():
        path = dest / name
        if path.exists():
            with open(path, "rb") as fh:
                assert fh.read() == emu.file_bytes(aid), f"{name} is not complete"
    unknown = [n for n in listing(dest) if n not in names.values()
               and not n.endswith((".part", ".lock"))]
    assert unknown == []


def test_killed_twenty_times_then_resumed(eso_archive, tmp_path):
    emu = eso_archive
    ids = [row["archive_id"] for row in emu.archive.files
           if not emu.archive.is_proprietary(row["archive_id"])
           and emu.file_info(row["archive_id"])["size"] >= 100_000][:N_FILES]
    assert len(ids) == N_FILES
    names = {aid: final_name(emu, aid) for aid in ids}
    table_path = tmp_path / "files.ecsv"
    Table({"archive_id": ids,
           "extension": [emu.archive.file(aid)["extension"] for aid in ids]}).write(table_path)
    script = tmp_path / "download.py"
    script.write_text(SCRIPT)
    dest = tmp_path / "dl"
    emu.faults = Faults(bandwidth=BANDWIDTH, paths=("/dataPortal",))
    rng = random.Random(2024)
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    finished_early = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(script), emu.url, str(dest),
                                 str(table_path)], stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.02, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if proc.returncode != -signal.SIGKILL:
            finished_early += 1
        check_no_truncated_final_file(emu, dest, names)
    # The kills must really have landed mid-download.
    assert finished_early == 0
    parts = {n: os.path.getsize(dest / n) for n in listing(dest) if n.endswith(".part")}
    assert parts, "no download was in progress at the last kill"
    # An empty part file is started afresh (no Range); only the others resume.
    partial = {n: size for n, size in parts.items() if size}
    before = len(emu.requests)
    emu.faults = Faults()
    proc = subprocess.run([sys.executable, str(script), emu.url, str(dest), str(table_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    statuses = proc.stdout.strip().splitlines()[-1].split(" ", 1)[1].split(",")
    assert "error" not in statuses
    assert sorted(listing(dest)) == sorted(names.values())
    for aid, name in names.items():
        with open(dest / name, "rb") as fh:
            assert fh.read() == emu.file_bytes(aid)
    # Part files were continued, not restarted: each resumed request asked for the rest.
    resumed = [r for r in emu.requests[before:] if r.range]
    assert len(resumed) == len(partial)
    for record in resumed:
        offset = int(record.range.split("=")[1].rstrip("-"))
        assert offset in partial.values()
