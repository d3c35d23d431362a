# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Run every benchmark comparison, print one table with each ratio, write JSON.

Each comparison runs two ways of doing one job on the same local emulator,
in the same run:

=============  ===========================================================  =====================
name           ours against                                                 target
=============  ===========================================================  =====================
downloads      download_ancillary (8 workers) vs astroquery retrieve_data   >= 6x faster
many_products  get_product_files vs a per-id loop of pyvo TAP queries       <= 10 round trips
big_file       one 2 GiB file: peak RSS above baseline; throughput vs curl  < 64 MB; >= 70%
resume         1 GiB cut at 60%, resumed: bytes sent vs the remainder       <= 1.05x
parsing        100,000 rows into a Table: query_ancillary vs pyvo           <= 1.2x
cache          a repeated query with cache=True                             < 20 ms, 0 requests
=============  ===========================================================  =====================

Usage::

    python benchmarks/run.py                  # everything, full sizes (about 3 minutes)
    python benchmarks/run.py --smoke          # small sizes, well under a minute
    python benchmarks/run.py --only resume parsing

Writes ``benchmarks/results/<name>.json`` (``--smoke``: ``benchmarks/results/smoke/``,
or ``--output-dir``) and prints the table. The exit code is 0 even when a
target is missed: the table says so.
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
from bench_products import bench_many_products  # noqa: E402
from bench_query import bench_cache, bench_parsing  # noqa: E402
from bench_resume import bench_resume  # noqa: E402

DOWNLOAD_TARGET = 6.0
MEMORY_TARGET_MB = 64.0
CURL_TARGET = 0.70


def bench_downloads(*, files, size_kb, latency, mbit, workers):
    """Comparison 1, from ``bench_download.bench_many``."""
    many = bench_download.bench_many(Namespace(files=files, size_kb=size_kb, latency=latency,
                                               mbit=mbit, workers=workers))
    ok = (many["download_ancillary_ok"] == files and many["download_ancillary_bytes_match"]
          and many["retrieve_data_ok"] == files)
    return {
        "name": "downloads",
        "title": (f"{files} files x {size_kb} kB, {latency * 1000:g} ms latency, "
                  f"{mbit:g} Mbit/s per connection"),
        "ours_label": f"download_ancillary ({workers} workers)",
        "ours": many["download_ancillary_s"],
        "theirs_label": "retrieve_data", "theirs": many["retrieve_data_s"], "unit": "s",
        "ratio": many["speed_ratio"], "ratio_meaning": "retrieve_data / ours",
        "target": f">= {DOWNLOAD_TARGET:g}x", "met": ok and many["speed_ratio"] >= DOWNLOAD_TARGET,
        "details": many,
        "notes": "" if ok else "some files failed or differ",
    }


def bench_big_file(*, mb, repeats=1):
    """Comparison 3, from ``bench_download.bench_big`` run ``repeats`` times.

    Throughputs are the best of the runs on each side (the machine is shared,
    and both sides get the same chance); the memory figure is the worst run.
    """
    runs = [bench_download.bench_big(Namespace(big_mb=mb)) for _ in range(repeats)]
    big = dict(max(runs, key=lambda r: r["download_ancillary_MB_per_s"]))
    big["extra_rss_MB"] = max(r["extra_rss_MB"] for r in runs)
    big["runs"] = runs
    extra = big["extra_rss_MB"]
    ratio = None
    if all("curl_MB_per_s" in r for r in runs):
        big["curl_MB_per_s"] = max(r["curl_MB_per_s"] for r in runs)
        ratio = round(big["download_ancillary_MB_per_s"] / big["curl_MB_per_s"], 2)
        big["throughput_vs_curl"] = ratio
    memory_ok = extra < MEMORY_TARGET_MB and all(r["status"] == "downloaded" for r in runs)
    return {
        "name": "big_file",
        "title": (f"one {mb} MiB file: peak RSS above baseline, throughput vs curl "
                  f"(best of {repeats})"),
        "ours_label": "download_ancillary MB/s", "ours": big["download_ancillary_MB_per_s"],
        "theirs_label": "curl MB/s", "theirs": big.get("curl_MB_per_s", "n/a"), "unit": "MB/s",
        "ratio": "n/a" if ratio is None else ratio, "ratio_meaning": "ours / curl throughput",
        "target": f"< {MEMORY_TARGET_MB:g} MB extra RSS; >= {CURL_TARGET:.0%} of curl",
        "met": memory_ok and (ratio is None or ratio >= CURL_TARGET),
        "details": big,
        "notes": (f"extra RSS {extra} MB" + ("" if ratio is not None
                                             else "; curl not installed: throughput n/a")),
    }


#: name -> (function, full-size arguments, smoke arguments)
COMPARISONS = {
    "downloads": (bench_downloads,
                  {"files": 200, "size_kb": 200, "latency": 0.1, "mbit": 8.0, "workers": 8},
                  {"files": 16, "size_kb": 20, "latency": 0.02, "mbit": 8.0, "workers": 8}),
    "many_products": (bench_many_products,
                      {"ids": 5000, "sample": 100, "latency": 0.1},
                      {"ids": 300, "sample": 10, "latency": 0.02}),
    "big_file": (bench_big_file, {"mb": 2048, "repeats": 3}, {"mb": 32}),
    "resume": (bench_resume, {"mb": 1024}, {"mb": 16}),
    "parsing": (bench_parsing, {"rows": 100_000, "repeats": 5}, {"rows": 3000, "repeats": 1}),
    "cache": (bench_cache, {"repeats": 20}, {"repeats": 5}),
}


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(records):
    """The results as a text table: one line per comparison, then notes."""
    header = ("comparison", "ours", "theirs", "unit", "ratio", "target", "met")
    rows = [header]
    for r in records:
        rows.append((r["name"], _cell(r["ours"]), _cell(r["theirs"]), r["unit"],
                     f"{_cell(r['ratio'])} ({r['ratio_meaning']})", r["target"],
                     "yes" if r["met"] else "NO"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in records:
        lines.append(f"{r['name']}: {r['title']}; {r['ours_label']} vs {r['theirs_label']}"
                     + (f" ({r['notes']})" if r["notes"] else ""))
    return "\n".join(lines)


def run(names=None, *, smoke=False, output_dir=None, echo=print):
    """Run the comparisons ``names`` (default all); return their records.

    Each record is also written to ``<output_dir>/<name>.json``.
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
            kwargs = small if smoke else full
            echo(f"running {name} {kwargs} ...")
            start = time.perf_counter()
            record = function(**kwargs)
            record["seconds"] = round(time.perf_counter() - start, 1)
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
            "pyvo": pyvo.__version__, "curl": shutil.which("curl") is not None,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="small sizes (CI): every comparison in well under a minute")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"of {list(COMPARISONS)}")
    parser.add_argument("--output-dir", help="where the JSON files go")
    args = parser.parse_args(argv)
    run(args.only, smoke=args.smoke, output_dir=args.output_dir)


if __name__ == "__main__":
    main()
