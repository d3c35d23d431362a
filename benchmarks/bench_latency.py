# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: the latency-bound case. 200 files of 200 kB, 100 ms added to every
download request, 8 Mbit/s per connection (as ESO's data portal): the DEFAULT
``download_ancillary`` (no ``max_workers``: ``conf.download_workers``, read at
run time, in a child process) against the installed astroquery's
``retrieve_data`` (one file after the other), and the peers (curl, wget,
aria2c) with as many connections as our workers, interleaved.

The limit: W connections, each one request at a time, cannot do better than
``ceil(files / W) x (latency + size / bandwidth)`` seconds; the pure bandwidth
figure ``W x bandwidth`` is reported beside it.

Targets (issue 13): at least 6x ``retrieve_data``; at least 95% of the limit.

Usage::

    python benchmarks/bench_latency.py                    # 200 x 200 kB, 3 runs each
    python benchmarks/bench_latency.py -n 40 --runs 1

Writes ``benchmarks/results/latency.json``.
"""
import argparse
import json
import logging
import math
import tempfile
import time

from astroquery import log
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

from astroquery_eso_ancillary import Eso, conf
from astroquery_eso_ancillary.emulator import Faults

SPEED_TARGET = 6.0
LIMIT_TARGET = 0.95


def bench_latency(*, files=200, size_kb=200, latency=0.1, mbit=8.0, runs=3, peers=True,
                  retrieve_runs=None):
    """Seconds of ours (default workers), retrieve_data and the peers, interleaved.

    ``retrieve_runs`` (default ``runs``) bounds the slow ``retrieve_data`` runs.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    workers = int(conf.download_workers)
    emu, ids, _ = tiny_file_emulator(files, size_kb * 1024)
    nbytes = emu.file_sizes[ids[0]]
    bandwidth = mbit * 1e6 / 8
    load = loadavg()
    try:
        emu.faults = Faults(latency=latency, bandwidth=bandwidth, paths=("/dataPortal",))
        eso = Eso(archive_url=emu.url)
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            with tempfile.TemporaryDirectory() as folder:
                def ours():
                    empty(folder)
                    report = run_client(emu, ids, folder)
                    report["ok"] = report["statuses"].get("downloaded", 0)
                    return report

                retrieved = []

                def theirs():
                    empty(folder)
                    if len(retrieved) >= (retrieve_runs or runs):
                        return None
                    start = time.perf_counter()
                    got = eso.retrieve_data(ids, destination=folder, unzip=False)
                    seconds = time.perf_counter() - start
                    retrieved.append(seconds)
                    return {"seconds": seconds,
                            "ok": len(got) if isinstance(got, list) else int(bool(got))}

                def peer(name):
                    def go():
                        empty(folder)
                        report = run_peer(name, emu, ids, folder, parallel=workers)
                        report["ok"] = report["files"]
                        return report
                    return go

                contenders = {"download_ancillary": ours, "retrieve_data": theirs}
                if peers:
                    contenders.update({n: peer(n) for n in peer_commands()})
                results = interleave(contenders, runs)
        finally:
            log.setLevel(level)
    finally:
        emu.stop()
    results = {k: [r for r in v if r is not None] for k, v in results.items()}
    seconds = {k: summary([r["seconds"] for r in v], digits=2) for k, v in results.items()}
    ok = {k: min(r["ok"] for r in v) for k, v in results.items()}
    per_file = latency + nbytes / bandwidth
    limit_s = math.ceil(files / workers) * per_file
    bandwidth_limit_s = files * nbytes / (workers * bandwidth)
    ours_s = seconds["download_ancillary"]["median"]
    speed = round(seconds["retrieve_data"]["median"] / ours_s, 2)
    of_limit = round(limit_s / ours_s, 3)
    return {
        "name": "latency",
        "title": (f"{files} files x {size_kb} kB, {latency * 1000:g} ms latency, {mbit:g} "
                  f"Mbit/s per connection, default settings ({workers} workers); seconds, "
                  f"median (min-max) of {runs} interleaved runs"),
        "ours_label": f"download_ancillary (default, {workers} workers)", "ours": ours_s,
        "ours_spread": spread(seconds["download_ancillary"]),
        "theirs_label": "retrieve_data", "theirs": seconds["retrieve_data"]["median"],
        "theirs_spread": spread(seconds["retrieve_data"]),
        "unit": "s", "ratio": speed, "ratio_meaning": "retrieve_data / ours",
        "target": f">= {SPEED_TARGET:g}x; >= {LIMIT_TARGET:.0%} of limit",
        "met": (ok["download_ancillary"] == files and speed >= SPEED_TARGET
                and of_limit >= LIMIT_TARGET),
        "peers": {k: {**v, "spread": spread(v), "ok_min": ok[k],
                      "of_limit": round(limit_s / v["median"], 3)}
                  for k, v in seconds.items()},
        "limit": (f"{limit_s:.2f} s = ceil({files}/{workers}) x ({latency:g} s + "
                  f"{nbytes} B / {bandwidth:g} B/s); pure bandwidth {workers} x {mbit:g} "
                  f"Mbit/s: {bandwidth_limit_s:.2f} s"),
        "details": {"files": files, "file_bytes": nbytes, "workers": workers,
                    "latency_s": latency, "bandwidth_B_per_s": bandwidth,
                    "limit_s": round(limit_s, 3), "bandwidth_limit_s": round(bandwidth_limit_s, 3),
                    "ours_of_limit": of_limit, "speed_vs_retrieve_data": speed, "ok": ok,
                    "download_ancillary_ok": ok["download_ancillary"],
                    "retrieve_data_ok": ok["retrieve_data"], "loadavg_before": load,
                    "loadavg_after": loadavg()},
        "notes": (f"{of_limit:.0%} of the limit; "
                  + "; ".join(f"{k} {spread(v, ' s')}" for k, v in seconds.items())),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("-n", "--files", type=int, default=200)
    parser.add_argument("-s", "--size-kb", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--mbit", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--retrieve-runs", type=int, default=None,
                        help="runs of the slow retrieve_data (default: --runs)")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    record = bench_latency(files=args.files, size_kb=args.size_kb, latency=args.latency,
                           mbit=args.mbit, runs=args.runs, peers=not args.no_peers,
                           retrieve_runs=args.retrieve_runs)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('latency', record)}")


if __name__ == "__main__":
    main()
