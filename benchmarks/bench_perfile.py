# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: the per-file cost. 2,000 files of 10 kB at zero latency:
``download_ancillary`` (its default workers, in a child process) against
``curl --parallel --parallel-max 8`` (a config file of URLs), ``wget`` (the list
split over 8 processes) and ``aria2c -j 8``, on the same emulator, interleaved.

Target (issue 13): at least half of curl's files/s.

Usage::

    python benchmarks/bench_perfile.py                  # 2,000 x 10 kB, 3 runs each
    python benchmarks/bench_perfile.py -n 500 --runs 2

Writes ``benchmarks/results/perfile.json``.
"""
import argparse
import json
import tempfile

from benchlib import (
    empty,
    interleave,
    loadavg,
    peer_commands,
    run_client,
    run_peer,
    spread,
    summary,
    tiny_file_emulator,
    write_result,
)

TARGET_VS_CURL = 0.5


def bench_perfile(*, files=2000, size_kb=10, runs=3, parallel=8, max_workers=None):
    """files/s of ours and of each installed peer, ``runs`` interleaved runs each.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    emu, ids, start_s = tiny_file_emulator(files, size_kb * 1024)
    load_before = loadavg()
    try:
        with tempfile.TemporaryDirectory() as folder:
            def ours():
                empty(folder)
                report = run_client(emu, ids, folder, max_workers=max_workers)
                report["ok"] = report["statuses"].get("downloaded", 0)
                report["files_per_s"] = report["ok"] / report["seconds"]
                return report

            def peer(name):
                def go():
                    empty(folder)
                    report = run_peer(name, emu, ids, folder, parallel=parallel)
                    report["ok"] = report["files"]
                    report["files_per_s"] = report["files"] / report["seconds"]
                    return report
                return go

            contenders = {"download_ancillary": ours}
            contenders.update({name: peer(name) for name in peer_commands()})
            results = interleave(contenders, runs)
    finally:
        emu.stop()
    stats = {name: summary([r["files_per_s"] for r in reports], digits=1)
             for name, reports in results.items()}
    ok = {name: min(r["ok"] for r in reports) for name, reports in results.items()}
    ours_stat = stats["download_ancillary"]
    curl = stats.get("curl")
    ratio = (round(ours_stat["median"] / curl["median"], 2) if curl and curl["median"]
             else "n/a")
    workers = results["download_ancillary"][0]["workers"]
    # CPU per file is steadier than files/s on a shared machine (ours: the download
    # call alone; peers: the whole process, start-up included)
    cpu = {name: summary([r["cpu_s"] * 1000 / files for r in reports], digits=3)
           for name, reports in results.items()}
    cpu_ms = cpu["download_ancillary"]
    return {
        "name": "perfile",
        "title": (f"{files} files x {size_kb} kB, zero latency, files/s, median (min-max) of "
                  f"{runs} interleaved runs"),
        "ours_label": f"download_ancillary ({workers} workers)",
        "ours": ours_stat["median"], "ours_spread": spread(ours_stat),
        "theirs_label": f"curl --parallel-max {parallel}",
        "theirs": curl["median"] if curl else "n/a",
        "theirs_spread": spread(curl) if curl else "n/a",
        "unit": "files/s", "ratio": ratio, "ratio_meaning": "ours / curl files/s",
        "target": f">= {TARGET_VS_CURL:g}x curl",
        "met": (ratio != "n/a" and ratio >= TARGET_VS_CURL
                and ok["download_ancillary"] == files),
        "peers": {name: {**stats[name], "spread": spread(stats[name]), "ok_min": ok[name],
                         "cpu_ms_per_file": cpu[name]["median"]}
                  for name in stats},
        "limit": "none (CPU-bound: client and emulator share the 2 cores)",
        "details": {"files": files, "size_kb": size_kb, "workers": workers,
                    "parallel_peers": parallel, "emulator_start_s": round(start_s, 2),
                    "ours_cpu_ms_per_file": cpu_ms, "ok": ok,
                    "ours_extra_rss_MB": max(r["extra_rss_MB"]
                                             for r in results["download_ancillary"]),
                    "loadavg_before": load_before, "loadavg_after": loadavg()},
        "notes": "; ".join(f"{n} {spread(s)} files/s, {cpu[n]['median']} ms CPU/file"
                           for n, s in stats.items()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("-n", "--files", type=int, default=2000)
    parser.add_argument("-s", "--size-kb", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-w", "--workers", type=int, default=None,
                        help="download_ancillary workers (default: conf.download_workers)")
    args = parser.parse_args(argv)
    record = bench_perfile(files=args.files, size_kb=args.size_kb, runs=args.runs,
                           max_workers=args.workers)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('perfile', record)}")


if __name__ == "__main__":
    main()
