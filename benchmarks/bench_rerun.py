# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: a re-run over files already complete. N tiny files are downloaded
once (zero latency), then ``download_ancillary`` runs again over the same
destination with ESO-like latency (100 ms on every request), given the files
as bare archive ids and as a table (``archive_id`` and ``access_url``), each
in a fresh child process (nothing remembered in memory). The emulator's
request log says how many requests each re-run sent; the time is extrapolated
linearly to 77,000 files (Example 3 of ESO's HOWTO at full size).

Targets (issue 13): no per-file request whatever the input (here: fewer
requests than 1% of the files); 77,000 complete files re-run in under 30 s.

Usage::

    python benchmarks/bench_rerun.py                 # 3,000 files
    python benchmarks/bench_rerun.py -n 500

Writes ``benchmarks/results/rerun.json``.
"""
import argparse
import json
import tempfile

from benchlib import loadavg, run_client, spread, summary, tiny_file_emulator, write_result

from astroquery_eso_ancillary.emulator import Faults

FULL_SIZE = 77_000
TARGET_S = 30.0


def bench_rerun(*, files=3000, latency=0.1, runs=2):
    """Requests and seconds of re-runs over ``files`` complete files.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    emu, ids, _ = tiny_file_emulator(files, 2880)
    load = loadavg()
    forms = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            first = run_client(emu, ids, folder, timeout=3600)
            emu.faults = Faults(latency=latency)
            for form, as_table in (("ids", False), ("table", True)):
                reports = []
                for _ in range(runs):
                    before = len(emu.requests)
                    report = run_client(emu, ids, folder, as_table=as_table, timeout=3600)
                    report["requests"] = len(emu.requests) - before
                    reports.append(report)
                forms[form] = {
                    "seconds": summary([r["seconds"] for r in reports], digits=2),
                    "requests": max(r["requests"] for r in reports),
                    "statuses": reports[-1]["statuses"],
                    "extra_rss_MB": max(r["extra_rss_MB"] for r in reports)}
    finally:
        emu.stop()
    for entry in forms.values():
        entry["extrapolated_77k_s"] = round(entry["seconds"]["median"] * FULL_SIZE / files, 1)
        entry["skipped"] = entry["statuses"].get("skipped-existing", 0)
    worst = max(forms.values(), key=lambda f: f["extrapolated_77k_s"])
    requests = max(f["requests"] for f in forms.values())
    return {
        "name": "rerun",
        "title": (f"re-run over {files:,} complete files, {latency * 1000:g} ms latency, as ids "
                  f"and as a table; seconds median (min-max) of {runs}, extrapolated to "
                  f"{FULL_SIZE:,}"),
        "ours_label": "re-run, ids", "ours": forms["ids"]["seconds"]["median"],
        "ours_spread": spread(forms["ids"]["seconds"]),
        "theirs_label": "re-run, table", "theirs": forms["table"]["seconds"]["median"],
        "theirs_spread": spread(forms["table"]["seconds"]),
        "unit": "s", "ratio": worst["extrapolated_77k_s"],
        "ratio_meaning": f"worst extrapolated to {FULL_SIZE:,} files, s",
        "target": f"< {TARGET_S:g} s at {FULL_SIZE:,}; no per-file request",
        "met": (worst["extrapolated_77k_s"] < TARGET_S and requests < max(1, files // 100)
                and all(f["skipped"] == files for f in forms.values())),
        "peers": {}, "limit": "none",
        "details": {"files": files, "latency_s": latency,
                    "first_download_ok": first["statuses"].get("downloaded", 0),
                    "forms": forms, "requests_ids": forms["ids"]["requests"],
                    "requests_table": forms["table"]["requests"], "loadavg": load},
        "notes": "; ".join(f"{k}: {f['requests']} requests, {spread(f['seconds'], ' s')}, "
                           f"~{f['extrapolated_77k_s']} s at {FULL_SIZE:,} (linear)"
                           for k, f in forms.items()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("-n", "--files", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    record = bench_rerun(files=args.files, latency=args.latency, runs=args.runs)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('rerun', record)}")


if __name__ == "__main__":
    main()
