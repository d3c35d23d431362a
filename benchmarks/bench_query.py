# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmarks of queries:

- result parsing: a 100,000-row selection into an astropy Table,
  ``Eso.query_ancillary`` against pyvo's ``TAPService.search(...).to_table()``
  with the same ADQL on the same emulator (target: ours within 1.2x);
- query from cache: a repeated ``query_ancillary`` with ``cache=True``
  (target: under 20 ms, and no request reaching the emulator).

Usage::

    python benchmarks/bench_query.py                 # 100,000 rows
    python benchmarks/bench_query.py --rows 10000

Run every comparison at once with ``python benchmarks/run.py``.
"""
import argparse
import json
import statistics
import tempfile
import time

import pyvo

from astroquery_eso_ancillary import Eso
from astroquery_eso_ancillary.emulator import ArchiveEmulator

PARSE_TARGET = 1.2
CACHE_TARGET_S = 0.020
#: product_files rows per generated product, a little under the generator's mean.
ROWS_PER_PRODUCT = 3.5


def _fresh_eso(emu, cache_dir):
    eso = Eso(archive_url=emu.url)
    eso.cache_location = cache_dir
    eso.ROW_LIMIT = -1
    return eso


def bench_parsing(*, rows=100_000, repeats=3, quiet=True):
    """Time a ``rows``-row query into a Table: ours against pyvo's, same ADQL.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    emu = ArchiveEmulator(products=int(rows / ROWS_PER_PRODUCT) + 10).start()
    try:
        total = len(emu.archive.files)
        assert total >= rows, f"the emulator has {total} file rows, fewer than {rows}"
        with tempfile.TemporaryDirectory() as cache:
            eso = _fresh_eso(emu, cache)
            kwargs = {"categories": "*", "top": rows, "cache": False, "async_job": False}
            adql = eso.query_ancillary(get_query_payload=True, **kwargs)
            service = pyvo.dal.TAPService(emu.tap_url)
            eso.query_ancillary(product_ids=emu.archive.products[0]["dp_id"])  # schema
            ours, theirs = [], []
            for _ in range(repeats):  # alternate, so that both see the same conditions
                start = time.perf_counter()
                table = eso.query_ancillary(**kwargs)
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                other = service.search(adql, maxrec=rows).to_table()
                theirs.append(time.perf_counter() - start)
            assert len(table) == len(other) == rows, (len(table), len(other))
            assert sorted(table["archive_id"]) == sorted(other["archive_id"])
    finally:
        emu.stop()
    # Medians of the alternating runs (best-of only beside them: on a shared
    # machine the best run hides how far the others spread).
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    ratio = t_ours / t_theirs
    return {
        "name": "parsing",
        "title": f"a {rows:,}-row query into a Table (median of {repeats}, alternating)",
        "ours_label": "query_ancillary", "ours": round(t_ours, 3),
        "ours_spread": f"{t_ours:.4g} ({min(ours):.4g}-{max(ours):.4g})",
        "theirs_label": "pyvo search().to_table()", "theirs": round(t_theirs, 3), "unit": "s",
        "theirs_spread": f"{t_theirs:.4g} ({min(theirs):.4g}-{max(theirs):.4g})",
        "ratio": round(ratio, 3), "ratio_meaning": "ours / pyvo",
        "target": f"<= {PARSE_TARGET}x", "met": ratio <= PARSE_TARGET,
        "details": {"rows": rows, "best_ratio": round(min(ours) / min(theirs), 3),
                    "ours_runs_s": [round(t, 3) for t in ours],
                    "pyvo_runs_s": [round(t, 3) for t in theirs], "adql": adql},
        "notes": "",
    }


def bench_cache(*, repeats=20, quiet=True):
    """Time a repeated ``query_ancillary(cache=True)`` and count the requests it sends.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    emu = ArchiveEmulator(products=300).start()
    try:
        with tempfile.TemporaryDirectory() as cache:
            eso = _fresh_eso(emu, cache)
            product = emu.archive.products[0]["dp_id"]
            eso.query_ancillary(product, cache=True, categories="ANCILLARY.PREVIEW")  # schema
            start = time.perf_counter()
            first = eso.query_ancillary(product, cache=True)
            uncached = time.perf_counter() - start
            before = len(emu.requests)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                again = eso.query_ancillary(product, cache=True)
                times.append(time.perf_counter() - start)
            sent = len(emu.requests) - before
            same = list(again["archive_id"]) == list(first["archive_id"])
    finally:
        emu.stop()
    cached = statistics.median(times)
    return {
        "name": "cache",
        "title": f"a repeated query with cache=True (median of {repeats})",
        "ours_label": "from cache", "ours": round(cached, 4),
        "ours_spread": f"{cached:.4g} ({min(times):.4g}-{max(times):.4g})",
        "theirs_label": "first (sent)", "theirs": round(uncached, 4), "unit": "s",
        "ratio": round(uncached / cached, 1), "ratio_meaning": "first / cached",
        "target": f"< {CACHE_TARGET_S * 1000:g} ms, 0 requests",
        "met": cached < CACHE_TARGET_S and sent == 0 and same,
        "details": {"requests_sent": sent, "max_s": round(max(times), 4),
                    "same_rows": same},
        "notes": "",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(json.dumps([bench_parsing(rows=args.rows), bench_cache()], indent=2))


if __name__ == "__main__":
    main()
