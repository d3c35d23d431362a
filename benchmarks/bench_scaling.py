# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: does the download scheduler stay linear in the number of files?
``download_ancillary`` (default workers, in a child process) of 1,000, 10,000
and 100,000 tiny files (one FITS block, 2,880 bytes) at zero latency: files/s
at each size, and the peak RSS of the downloading process above its baseline
(``VmHWM`` after a reset, minus ``VmRSS`` once every import is warm).

Targets (issue 13): files/s at the largest size within 10% of files/s at
1,000 files; memory under 150 MB above the baseline. The emulator's start time
for each size is reported too (it generates ~3.55 plain public files a product).

Usage::

    python benchmarks/bench_scaling.py                          # 1k, 10k, 100k
    python benchmarks/bench_scaling.py --sizes 1000 10000 --runs 2

Writes ``benchmarks/results/scaling.json``.
"""
import argparse
import json
import tempfile

from benchlib import empty, loadavg, run_client, spread, summary, tiny_file_emulator, write_result

RATIO_TARGET = 0.90
MEMORY_TARGET_MB = 150.0
FILE_BYTES = 2880


def bench_scaling(*, sizes=(1000, 10_000, 100_000), runs=1, small_runs=3):
    """files/s and extra RSS at each size of ``sizes`` (``small_runs`` runs at the
    smallest, ``runs`` at the others: the big ones take minutes each).

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    sizes = sorted(sizes)
    per_size = {}
    for n in sizes:
        emu, ids, start_s = tiny_file_emulator(n, FILE_BYTES)
        load = loadavg()
        try:
            reports = []
            with tempfile.TemporaryDirectory() as folder:
                for _ in range(small_runs if n == sizes[0] else runs):
                    empty(folder)
                    reports.append(run_client(emu, ids, folder, timeout=3600))
        finally:
            emu.stop()
        ok = min(r["statuses"].get("downloaded", 0) for r in reports)
        per_size[n] = {
            "files": n, "ok_min": ok, "emulator_start_s": round(start_s, 1),
            "files_per_s": summary([r["statuses"].get("downloaded", 0) / r["seconds"]
                                    for r in reports], digits=1),
            "seconds": summary([r["seconds"] for r in reports], digits=2),
            "cpu_ms_per_file": summary([r["cpu_s"] * 1000 / n for r in reports], digits=2),
            "extra_rss_MB": max(r["extra_rss_MB"] for r in reports),
            "baseline_rss_MB": round(reports[0]["baseline_kb"] / 1024, 1),
            "workers": reports[0]["workers"], "loadavg": load}
    small, big = per_size[sizes[0]], per_size[sizes[-1]]
    ratio = round(big["files_per_s"]["median"] / small["files_per_s"]["median"], 2)
    memory = max(p["extra_rss_MB"] for p in per_size.values())
    complete = all(p["ok_min"] == p["files"] for p in per_size.values())
    return {
        "name": "scaling",
        "title": (f"{' / '.join(f'{n:,}' for n in sizes)} files x {FILE_BYTES} B, zero "
                  "latency: files/s at the largest size vs the smallest; peak extra RSS"),
        "ours_label": f"files/s at {sizes[-1]:,}", "ours": big["files_per_s"]["median"],
        "ours_spread": spread(big["files_per_s"]),
        "theirs_label": f"files/s at {sizes[0]:,}", "theirs": small["files_per_s"]["median"],
        "theirs_spread": spread(small["files_per_s"]),
        "unit": "files/s", "ratio": ratio, "ratio_meaning": "largest / smallest files/s",
        "target": f">= {RATIO_TARGET:g}; < {MEMORY_TARGET_MB:g} MB extra RSS",
        "met": complete and ratio >= RATIO_TARGET and memory < MEMORY_TARGET_MB,
        "peers": {}, "limit": "none (CPU-bound)",
        "details": {"sizes": {str(k): v for k, v in per_size.items()},
                    "max_extra_rss_MB": memory},
        "notes": "; ".join(f"{n:,}: {spread(p['files_per_s'])} files/s, "
                           f"+{p['extra_rss_MB']} MB, emulator start {p['emulator_start_s']} s"
                           for n, p in per_size.items()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=1, help="runs at each larger size (1)")
    parser.add_argument("--small-runs", type=int, default=3, help="runs at the smallest (3)")
    args = parser.parse_args(argv)
    record = bench_scaling(sizes=args.sizes, runs=args.runs, small_runs=args.small_runs)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('scaling', record)}")


if __name__ == "__main__":
    main()
