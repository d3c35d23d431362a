"""
Run every benchmark comparison, print one table with each figure, write JSON.

Each comparison runs two (or more) ways of doing one job on the same local
emulator, in the same run, interleaved (ours, a peer, ours, a peer ...). The
table gives medians with their min-max spread (the best run only beside
them), the peers (curl, wget, aria2c, pyvo, astroquery's ``retrieve_data``)
and the physical limit where one exists:

=============  ===========================================================  =====================
name           ours against                                                 target
=============  ===========================================================  =====================
latency        200 x 200 kB, 100 ms, 8 Mbit/s per connection: default       >= 6x; >= 95% of the
               download_ancillary vs retrieve_data, curl, wget, aria2c      limit
perfile        2,000 x 10 kB at zero latency: files/s vs curl --parallel,   >= 0.5x curl
               wget, aria2c
scaling        files/s at 100,000 tiny files vs at 1,000; peak extra RSS    >= 0.9; < 150 MB
rerun          re-run over complete files (ids, table): requests, seconds   < 30 s at 77,000
many_ids       get_product_files for 50,000 ids vs pyvo, same rows          <= 10 trips; <= 1.2x
many_products  get_product_files vs a per-id loop of pyvo TAP queries       <= 10 round trips
big_file       one 2 GiB file: peak RSS above baseline; throughput vs curl  < 64 MB; >= 70%
resume         1 GiB cut at 60%, resumed: bytes sent vs the remainder       <= 1.05x
parsing        100,000 rows into a Table: query_ancillary vs pyvo           <= 1.2x
cache          a repeated query with cache=True                             < 20 ms, 0 requests
unzip          .fits.Z decoding: pure Python vs ncompress (C), MB/s         (measured)
=============  ===========================================================  =====================

Usage::

    python benchmarks/run.py                  # everything, full sizes (tens of minutes)
    python benchmarks/run.py --smoke          # small sizes, well under a minute when idle
    python benchmarks/run.py --only perfile latency
    python benchmarks/run.py --only scaling --set scaling.sizes=1000,10000,30000

Writes ``benchmarks/results/<name>.json`` (``--smoke``: ``benchmarks/results/smoke/``,
or ``--output-dir``) and prints the table with the load average beside it. The
exit code is 0 even when a target is missed: the table says so.
"""
import argparse
import json
import logging
import os
import platform
import shutil
import sys
import time
from argparse import Namespace
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the bench_* modules sit next to this file
    sys.path.insert(0, str(HERE))

import bench_download  # noqa: E402
from bench_latency import bench_latency  # noqa: E402
from bench_many_ids import bench_many_ids  # noqa: E402
from bench_perfile import bench_perfile  # noqa: E402
from bench_products import bench_many_products  # noqa: E402
from bench_query import bench_cache, bench_parsing  # noqa: E402
from bench_rerun import bench_rerun  # noqa: E402
from bench_resume import bench_resume  # noqa: E402
from bench_scaling import bench_scaling  # noqa: E402
from bench_unzip import bench_unzip  # noqa: E402
from benchlib import loadavg  # noqa: E402

MEMORY_TARGET_MB = 64.0
CURL_TARGET = 0.70


def bench_big_file(*, mb, repeats=1):
    """Comparison big_file, from ``bench_download.bench_big`` with ``repeats``
    alternating runs of ours and curl: median throughputs (best beside them),
    the memory figure of the worst run."""
    big = bench_download.bench_big(Namespace(big_mb=mb, repeat=repeats))
    extra = big["extra_rss_MB"]
    ratio = big.get("throughput_vs_curl")
    low, high = big["download_ancillary_MB_per_s_range"]
    record = {
        "name": "big_file",
        "title": (f"one {mb} MiB file: peak RSS above baseline, throughput vs curl "
                  f"(median of {repeats} alternating runs)"),
        "ours_label": "download_ancillary MB/s", "ours": big["download_ancillary_MB_per_s"],
        "ours_spread": (f"{big['download_ancillary_MB_per_s']:.4g} ({low:.4g}-{high:.4g}), "
                        f"best {big['download_ancillary_best_MB_per_s']:.4g}"),
        "theirs_label": "curl MB/s", "theirs": big.get("curl_MB_per_s", "n/a"), "unit": "MB/s",
        "ratio": "n/a" if ratio is None else ratio, "ratio_meaning": "ours / curl throughput",
        "target": f"< {MEMORY_TARGET_MB:g} MB extra RSS; >= {CURL_TARGET:.0%} of curl",
        "met": (extra < MEMORY_TARGET_MB and big["status"] == "downloaded"
                and (ratio is None or ratio >= CURL_TARGET)),
        "details": big,
        "notes": (f"extra RSS {extra} MB" + ("" if ratio is not None
                                             else "; curl not installed: throughput n/a")),
    }
    if "curl_MB_per_s" in big:
        low, high = big["curl_MB_per_s_range"]
        record["theirs_spread"] = (f"{big['curl_MB_per_s']:.4g} ({low:.4g}-{high:.4g}), "
                                   f"best {big['curl_best_MB_per_s']:.4g}")
    return record


#: name -> (function, full-size arguments, smoke arguments)
COMPARISONS = {
    "latency": (bench_latency,
                {"files": 200, "size_kb": 200, "latency": 0.1, "mbit": 8.0, "runs": 3},
                {"files": 16, "size_kb": 20, "latency": 0.02, "mbit": 8.0, "runs": 1}),
    "perfile": (bench_perfile, {"files": 2000, "size_kb": 10, "runs": 3},
                {"files": 100, "size_kb": 10, "runs": 1}),
    "scaling": (bench_scaling, {"sizes": [1000, 10_000, 100_000], "runs": 1, "small_runs": 3},
                {"sizes": [100, 400], "runs": 1, "small_runs": 1}),
    "rerun": (bench_rerun, {"files": 3000, "latency": 0.1, "runs": 2},
              {"files": 100, "latency": 0.02, "runs": 1}),
    "many_ids": (bench_many_ids, {"ids": 50_000, "runs": 2}, {"ids": 300, "runs": 1}),
    "many_products": (bench_many_products,
                      {"ids": 5000, "sample": 100, "latency": 0.1},
                      {"ids": 300, "sample": 10, "latency": 0.02}),
    "big_file": (bench_big_file, {"mb": 2048, "repeats": 3}, {"mb": 32, "repeats": 1}),
    "resume": (bench_resume, {"mb": 1024}, {"mb": 16}),
    "parsing": (bench_parsing, {"rows": 100_000, "repeats": 5}, {"rows": 3000, "repeats": 1}),
    "cache": (bench_cache, {"repeats": 20}, {"repeats": 5}),
    "unzip": (bench_unzip, {"mb": 8, "runs": 3}, {"mb": 1, "runs": 1}),
}


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _figure(record, side):
    spread = record.get(f"{side}_spread")
    return spread if spread and spread != "n/a" else _cell(record[side])


def format_table(records):
    """The results as a text table: one line per comparison (medians with min-max),
    then the peers and limits, then notes."""
    header = ("comparison", "unit", "ours median (min-max)", "reference median (min-max)",
              "ratio", "target", "met")
    rows = [header]
    for r in records:
        rows.append((r["name"], r["unit"], _figure(r, "ours"), _figure(r, "theirs"),
                     f"{_cell(r['ratio'])} ({r['ratio_meaning']})", r["target"],
                     "yes" if r["met"] else "NO"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for r in records:
        lines.append(f"{r['name']}: {r['title']}; ours = {r['ours_label']}, "
                     f"reference = {r['theirs_label']}")
        for name, peer in (r.get("peers") or {}).items():
            if isinstance(peer, dict) and "spread" in peer:
                extra = "".join(f", {key} {peer[key]}" for key in ("cpu_ms_per_file",
                                                                   "of_limit") if key in peer)
                lines.append(f"    {name}: {peer['spread']} {r['unit']}{extra}")
        if r.get("limit") and r["limit"] != "none":
            lines.append(f"    limit: {r['limit']}")
        if r["notes"]:
            lines.append(f"    {r['notes']}")
        lines.append(f"    load average {r.get('loadavg_start', '?')} -> "
                     f"{r.get('loadavg_end', '?')}, {r.get('seconds', '?')} s")
    return "\n".join(lines)


def parse_settings(settings):
    """``["scaling.sizes=1000,10000", "perfile.runs=5"]`` -> {name: {key: value}}."""
    out = {}
    for item in settings or ():
        target, _, text = item.partition("=")
        name, _, key = target.partition(".")
        if not (name in COMPARISONS and key and text):
            raise SystemExit(f"--set {item!r}: expected NAME.KEY=VALUE with NAME one of "
                             f"{list(COMPARISONS)}")
        try:
            value = [int(v) for v in text.split(",")] if "," in text else json.loads(text)
        except ValueError:
            value = text
        out.setdefault(name, {})[key] = value
    return out


def run(names=None, *, smoke=False, output_dir=None, settings=None, echo=print):
    """Run the comparisons ``names`` (default all); return their records.

    ``settings`` ({name: {argument: value}}) overrides sizes. Each record is also
    written to ``<output_dir>/<name>.json``.
    """
    from astroquery import log

    names = names or list(COMPARISONS)
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise SystemExit(f"unknown comparison(s) {unknown}; known: {list(COMPARISONS)}")
    out = Path(output_dir or (HERE / "results" / ("smoke" if smoke else "")))
    out.mkdir(parents=True, exist_ok=True)
    level = log.level
    log.setLevel(logging.ERROR)  # the expected failures (resume cut) would log warnings
    records = []
    try:
        for name in names:
            function, full, small = COMPARISONS[name]
            kwargs = {**(small if smoke else full), **(settings or {}).get(name, {})}
            echo(f"running {name} {kwargs} (load average {loadavg()}) ...")
            start = time.perf_counter()
            load = loadavg()
            record = function(**kwargs)
            record["seconds"] = round(time.perf_counter() - start, 1)
            record["loadavg_start"], record["loadavg_end"] = load, loadavg()
            record["arguments"] = kwargs
            record["smoke"] = smoke
            record["environment"] = environment()
            (out / f"{name}.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
            records.append(record)
    finally:
        log.setLevel(level)
    echo("\n" + format_table(records))
    echo(f"\nJSON written to {out}/<name>.json")
    return records


def environment():
    import pyvo
    from astroquery import __version__ as astroquery_version

    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "astroquery": astroquery_version,
            "pyvo": pyvo.__version__,
            **{tool: shutil.which(tool) is not None for tool in ("curl", "wget", "aria2c")},
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="small sizes (CI): every comparison in well under a minute")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"of {list(COMPARISONS)}")
    parser.add_argument("--output-dir", help="where the JSON files go")
    parser.add_argument("--set", action="append", metavar="NAME.KEY=VALUE",
                        help="override a size, e.g. scaling.sizes=1000,10000 (repeatable)")
    args = parser.parse_args(argv)
    run(args.only, smoke=args.smoke, output_dir=args.output_dir,
        settings=parse_settings(args.set))


if __name__ == "__main__":
    main()
