# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: ESO's HOWTO examples against the emulator at the size of Example 3.

A script, not a test. It sizes the generated archive so that the MUSE collection
holds about ``--previews`` ANCILLARY.PREVIEW files (73,637 by default, ESO's
2026 figure), then times, through HTTP and pyvo as users run them:

1. Example 1, ``get_product_files`` of one MUSE cube (median of 20, no cache);
2. Example 2, ``query_ancillary`` of one ESPRESSO product with ``ES_SFLA_*``;
3. Example 3, every MUSE preview: the count, then the rows (async job, chosen
   automatically above ``conf.async_threshold``), the same forced sync, and
   the same again from astroquery's cache;
4. ``get_product_files`` of 5,000 product ids (TAP requests and time);
5. ``list_ancillary_categories(collections='MUSE')``.

Usage::

    python benchmarks/bench_howto.py                  # ~73,637 MUSE previews
    python benchmarks/bench_howto.py --previews 5000  # quicker

Writes ``benchmarks/results/howto.json``.
"""
import argparse
import json
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from astroquery.exceptions import NoResultsWarning

from astroquery_eso_ancillary import Eso
from astroquery_eso_ancillary.emulator import ArchiveEmulator
from astroquery_eso_ancillary.emulator.data import Archive

RESULTS = Path(__file__).parent / "results" / "howto.json"
EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"
EX3 = {"collections": "MUSE", "categories": "ANCILLARY.PREVIEW"}


def products_for(previews, *, seed):
    """Generated products expected to give about ``previews`` MUSE previews."""
    sample = Archive(seed=seed, products=4000)
    muse = {p["dp_id"] for p in sample.products if p["obs_collection"] == "MUSE"}
    n = sum(1 for f in sample.files
            if f["product_id"] in muse and f["eso_category"] == "ANCILLARY.PREVIEW")
    return int(previews * len(sample) / n) + 1


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    value = func(*args, **kwargs)
    return value, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--previews", type=int, default=73637)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    products = products_for(args.previews, seed=args.seed)
    out = {"python": platform.python_version(), "products": products}
    emu, t = timed(ArchiveEmulator(seed=args.seed, products=products).start)
    out["emulator_start_s"] = round(t, 2)
    try:
        with tempfile.TemporaryDirectory() as cache:
            eso = Eso(archive_url=emu.url)
            eso.cache_location = cache
            eso.ROW_LIMIT = -1
            eso.get_product_files(EX1)  # schema read once
            times = [timed(eso.get_product_files, EX1, cache=False)[1] for _ in range(20)]
            out["example1_median_ms"] = round(statistics.median(times) * 1000, 1)
            rows, t = timed(eso.query_ancillary, EX2, categories="ANCILLARY.SPECTRUM",
                            original_filename="ES_SFLA_*", cache=False)
            out["example2"] = {"rows": len(rows), "s": round(t, 3)}
            count, t = timed(eso.query_ancillary, count_only=True, cache=False, **EX3)
            out["example3_count"] = {"rows": count, "s": round(t, 3)}
            emu.reset()
            rows, t = timed(eso.query_ancillary, cache=False, **EX3)
            jobs = sum(1 for r in emu.requests
                       if r.method == "POST" and r.path == "/tap_obs/async")
            out["example3_auto"] = {"rows": len(rows), "s": round(t, 2), "async_jobs": jobs,
                                    "size_gb": round(float(rows["access_estsize"].sum())
                                                     / 1e6, 2)}
            rows, t = timed(eso.query_ancillary, async_job=False, **EX3)
            out["example3_sync"] = {"rows": len(rows), "s": round(t, 2)}
            n = len(emu.requests)
            rows, t = timed(eso.query_ancillary, async_job=False, **EX3)
            out["example3_cached"] = {"rows": len(rows), "s": round(t, 2),
                                      "requests": len(emu.requests) - n}
            ids = [p["dp_id"] for p in emu.archive.products[:5000]]
            emu.reset()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoResultsWarning)
                rows, t = timed(eso.get_product_files, ids, cache=False, datalink=False)
            out["ids_5000"] = {"rows": len(rows), "s": round(t, 2), "tap_requests": sum(
                1 for r in emu.requests if r.path == "/tap_obs/sync")}
            table, t = timed(eso.list_ancillary_categories, cache=False, collections="MUSE")
            out["categories_muse"] = {"rows": len(table), "s": round(t, 3)}
    finally:
        emu.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
