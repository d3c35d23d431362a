# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: the files of many products at once. ``get_product_files`` for
50,000 product ids (every generated product that has files) against pyvo
fetching the same rows (``SELECT * FROM phase3v2.product_files``, one
synchronous query, ``to_table()``), each in a child process: round trips (from
the emulator's request log), seconds, and the peak RSS above the child's
baseline (imports warmed by one small query first).

Targets (issue 13): at most 10 round trips; memory within 1.2x pyvo's.

Usage::

    python benchmarks/bench_many_ids.py               # 50,000 ids, 2 runs each
    python benchmarks/bench_many_ids.py --ids 5000 --runs 1

Writes ``benchmarks/results/many_ids.json``.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchlib import interleave, loadavg, spread, summary, write_result

from astroquery_eso_ancillary.emulator import ArchiveEmulator

TRIPS_TARGET = 10
MEMORY_TARGET = 1.2

#: The child: warms its imports with one small query, resets the RSS high-water
#: mark, then fetches every row; prints one JSON line.
SCRIPT = r"""
import json, sys, time, warnings
job = json.loads(open(sys.argv[1]).read())
def status_kb(field):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
if job["mode"] == "ours":
    from astroquery import log
    from astroquery_eso_ancillary import Eso
    log.setLevel("ERROR")
    eso = Eso(archive_url=job["url"])
    eso.get_product_files(job["ids"][:2], cache=False)
    def fetch():
        return eso.get_product_files(job["ids"], cache=False)
else:
    import pyvo
    service = pyvo.dal.TAPService(job["url"] + "/tap_obs")
    service.search("SELECT TOP 2 * FROM phase3v2.product_files").to_table()
    def fetch():
        return service.search("SELECT * FROM phase3v2.product_files",
                              maxrec=job["rows"] + 10).to_table()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = status_kb("VmRSS")
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()  # the parent notes its request count, then says go
start = time.perf_counter()
table = fetch()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": len(table), "baseline_kb": base,
                  "peak_kb": status_kb("VmHWM")}), flush=True)
"""


def _child(emu, mode, ids, rows):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"url": emu.url, "mode": mode, "ids": ids, "rows": rows}, fh)
        job = fh.name
    try:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, job], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        ready = proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"{mode} child failed before it was ready")
        before = len(emu.requests)  # the warm-up query is not counted
        proc.stdin.write("go\n")
        proc.stdin.flush()
        report = json.loads(proc.stdout.readline())
        proc.wait(timeout=60)
        report["round_trips"] = len(emu.requests) - before
        report["extra_rss_MB"] = round((report["peak_kb"] - report["baseline_kb"]) / 1024, 1)
        return report
    finally:
        os.remove(job)


def bench_many_ids(*, ids=50_000, runs=2):
    """Round trips, seconds and extra RSS of ``get_product_files`` and of pyvo.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    start = time.perf_counter()
    emu = ArchiveEmulator(products=ids).start()
    start_s = time.perf_counter() - start
    load = loadavg()
    try:
        products = [p["dp_id"] for p in emu.archive.products
                    if emu.archive.files_of(p["dp_id"])]
        rows = len(emu.archive.files)
        wanted = set(products)
        if sum(1 for f in emu.archive.files if f["product_id"] in wanted) != rows:
            raise SystemExit("some files belong to no listed product: rows would differ")
        results = interleave({"get_product_files": lambda: _child(emu, "ours", products, rows),
                              "pyvo": lambda: _child(emu, "pyvo", products, rows)}, runs)
    finally:
        emu.stop()
    stats = {k: {"seconds": summary([r["seconds"] for r in v], digits=2),
                 "extra_rss_MB": summary([r["extra_rss_MB"] for r in v], digits=1),
                 "round_trips": max(r["round_trips"] for r in v),
                 "rows": min(r["rows"] for r in v)} for k, v in results.items()}
    ours, pyvo = stats["get_product_files"], stats["pyvo"]
    memory = round(ours["extra_rss_MB"]["median"] / max(pyvo["extra_rss_MB"]["median"], 0.1), 2)
    return {
        "name": "many_ids",
        "title": (f"files of {len(products):,} product ids ({rows:,} rows): round trips and "
                  f"extra RSS, median (min-max) of {runs} interleaved runs"),
        "ours_label": "get_product_files extra RSS", "ours": ours["extra_rss_MB"]["median"],
        "ours_spread": spread(ours["extra_rss_MB"]),
        "theirs_label": "pyvo (one query) extra RSS", "theirs": pyvo["extra_rss_MB"]["median"],
        "theirs_spread": spread(pyvo["extra_rss_MB"]),
        "unit": "MB", "ratio": memory, "ratio_meaning": "ours / pyvo memory",
        "target": f"<= {TRIPS_TARGET} round trips; <= {MEMORY_TARGET:g}x pyvo memory",
        "met": (ours["rows"] == rows and ours["round_trips"] <= TRIPS_TARGET
                and memory <= MEMORY_TARGET),
        "peers": stats, "limit": "none",
        "details": {"products": len(products), "rows": rows,
                    "round_trips_ours": ours["round_trips"],
                    "round_trips_pyvo": pyvo["round_trips"],
                    "rows_ours": ours["rows"], "rows_pyvo": pyvo["rows"],
                    "emulator_start_s": round(start_s, 1), "loadavg": load},
        "notes": (f"round trips: ours {ours['round_trips']}, pyvo {pyvo['round_trips']}; "
                  f"seconds: ours {spread(ours['seconds'])}, pyvo {spread(pyvo['seconds'])}; "
                  f"emulator start {start_s:.1f} s"),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--ids", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    record = bench_many_ids(ids=args.ids, runs=args.runs)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('many_ids', record)}")


if __name__ == "__main__":
    main()
