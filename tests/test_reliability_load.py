# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: 16 threads sharing one ``Eso`` instance, querying and downloading
at once, some logged-in, some not, some resuming part files.

Every result must be right, and nothing may leak between threads: the
emulator's request log shows a token only on requests of threads that asked
for authentication, and a Range header only on requests that resume.
"""
import collections
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import keyring
import requests
from astropy.table import Table
from folders import listing

from astroquery_eso_ancillary import conf
from astroquery_eso_ancillary.destination import Destination

THREADS = 16
ROUNDS = 3


def expected_files(emu, product):
    return sorted(row["archive_id"] for row in emu.archive.files_of(product))


def final_name(emu, aid):
    return emu.file_info(aid)["name"].replace(":", "_")


def files_table(emu, ids):
    return Table({"archive_id": ids,
                  "extension": [emu.archive.file(a)["extension"] for a in ids]})


def test_sixteen_threads_share_one_instance(eso_archive, tmp_path, monkeypatch):
    emu, eso = eso_archive, eso_archive.eso
    monkeypatch.setattr(keyring, "get_password", lambda service, name: "wonderland")
    eso.login(username="alice")
    assert eso.authenticated()

    products = [p["dp_id"] for p in emu.archive.products if emu.archive.files_of(p["dp_id"])]
    # Patched files (Range ignored, as ESO does for them) are restarted, not resumed.
    public = [f["archive_id"] for f in emu.archive.files
              if not emu.archive.is_proprietary(f["archive_id"])
              and not emu.file_info(f["archive_id"])["compression"]
              and not emu.file_info(f["archive_id"])["patched"]]
    secret = [f["archive_id"] for f in emu.archive.files
              if emu.archive.is_proprietary(f["archive_id"])]
    assert len(products) >= 8 * ROUNDS and len(public) >= 24 and len(secret) >= 4
    # Products queried with a token and without one never overlap, nor do files.
    anon_products, auth_products = products[:4 * ROUNDS], products[4 * ROUNDS:8 * ROUNDS]
    anon_files = [public[i:i + 6] for i in range(0, 24, 6)]
    auth_files = [secret[i::4] for i in range(4)]
    # Half of the anonymous files start from a part file (a previous, interrupted run).
    partial = {}
    for n, ids in enumerate(anon_files):
        folder = tmp_path / f"anon{n}"
        folder.mkdir()
        for aid in ids[::2]:
            head = emu.file_bytes(aid)[:1000 + 37 * n]
            (folder / (aid.replace(":", "_") + ".part")).write_bytes(head)
            # As an interrupted run leaves it: with the server's validator on record.
            url = emu.download_url + aid
            Destination(folder).save_validator(
                aid, url=url, validator=requests.head(url, timeout=10).headers["ETag"])
            partial[aid] = len(head)

    planted = len(emu.requests)  # the HEAD requests above are not the test's traffic
    start = threading.Barrier(THREADS)
    errors = []

    def anonymous_queries(k):
        start.wait()
        for pid in anon_products[k::4]:
            files = eso.get_product_files(pid, cache=bool(k % 2), datalink=False)
            assert sorted(files["archive_id"]) == expected_files(emu, pid)
            links = eso.get_datalinks(pid, cache=False)
            assert pid in {str(v).rsplit("?", 1)[-1] for v in links["ID"]}

    def authenticated_queries(k):
        start.wait()
        for pid in auth_products[k::4]:
            files = eso.get_product_files(pid, authenticated=True, datalink=False)
            assert sorted(files["archive_id"]) == expected_files(emu, pid)
            eso.get_datalinks(pid, authenticated=True)

    def anonymous_downloads(k):
        start.wait()
        dest = tmp_path / f"anon{k}"
        manifest = eso.download_ancillary(files_table(emu, anon_files[k]), destination=dest,
                                          authenticated=False, max_workers=3, progress=False)
        for row in manifest:
            assert row["status"] == ("resumed" if row["archive_id"] in partial
                                     else "downloaded"), row["message"]
            with open(row["local_path"], "rb") as fh:
                assert fh.read() == emu.file_bytes(row["archive_id"])

    def authenticated_downloads(k):
        start.wait()
        manifest = eso.download_ancillary(files_table(emu, auth_files[k]),
                                          destination=tmp_path / f"auth{k}", max_workers=2,
                                          progress=False)
        for row in manifest:
            assert row["status"] == "downloaded", row["message"]
            with open(row["local_path"], "rb") as fh:
                assert fh.read() == emu.file_bytes(row["archive_id"])

    def run(task, k):
        try:
            task(k)
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append((task.__name__, k, exc))
            start.abort()

    with conf.set_temp("backoff", 0.01), ThreadPoolExecutor(THREADS) as pool:
        for task in (anonymous_queries, authenticated_queries, anonymous_downloads,
                     authenticated_downloads):
            for k in range(4):
                pool.submit(run, task, k)
    assert errors == []

    log = emu.requests[planted:]
    by_path = collections.defaultdict(list)
    for record in log:
        by_path[record.path].append(record)
    # Downloads: a token exactly on the files of the authenticated threads.
    for aid in itertools.chain(*anon_files):
        records = by_path[f"/dataPortal/file/{aid}"]
        assert len(records) == 1 and not records[0].authorized
        assert records[0].range == (f"bytes={partial[aid]}-" if aid in partial else None)
        assert records[0].status == (206 if aid in partial else 200)
    for aid in itertools.chain(*auth_files):
        records = by_path[f"/dataPortal/file/{aid}"]
        assert len(records) == 1 and records[0].authorized and records[0].range is None
    # Range headers nowhere else.
    assert all(r.range is None for r in log if not r.path.startswith("/dataPortal/file/"))
    # DataLink: the ID is in the query string, so each request is attributable.
    for record in by_path["/datalink/links"]:
        pid = parse_qs(record.query)["ID"][0].rsplit("?", 1)[-1]
        assert pid in anon_products + auth_products, record.query
        assert record.authorized == (pid in auth_products), record
    # TAP: exactly one authorized query per authenticated call, none other.
    tap = [r for r in log if r.path == "/tap_obs/sync"]
    assert sum(r.authorized for r in tap) == len(auth_products)
    # The shared session never got a token.
    assert "Authorization" not in eso._session.headers
    assert not [n for n in listing(tmp_path / "anon0") if n.endswith((".part", ".lock"))]
