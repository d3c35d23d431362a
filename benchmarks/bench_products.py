# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: the files of many products, ``Eso.get_product_files`` against a per-id
loop of single TAP queries through pyvo (the pattern of ESO's notebooks).

Both run on one emulator with a latency added to every request. Round trips
are counted from the emulator's request log. The loop of one query per id
takes ``n x latency`` at least (5,000 ids: over 500 s), so only a sample of
ids is timed and the loop's time is extrapolated to all ids (said so in the
result).

Usage::

    python benchmarks/bench_products.py              # 5,000 ids, 100 ms latency
    python benchmarks/bench_products.py --ids 500 --sample 50

Run every comparison at once with ``python benchmarks/run.py``.
"""
import argparse
import json
import time
import warnings

import pyvo
from astroquery.exceptions import NoResultsWarning

from astroquery_eso_ancillary import Eso
from astroquery_eso_ancillary.emulator import ArchiveEmulator, Faults

#: At most this many round trips for all ids (issue 6).
TARGET_ROUND_TRIPS = 10


def bench_many_products(*, ids=5000, sample=100, latency=0.1, quiet=True):
    """Time ``get_product_files`` for ``ids`` products against a per-id pyvo loop.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    emu = ArchiveEmulator(products=ids).start()
    try:
        products = [p["dp_id"] for p in emu.archive.products
                    if emu.archive.files_of(p["dp_id"])][:ids]
        expected = sum(len(emu.archive.files_of(pid)) for pid in products)
        emu.faults = Faults(latency=latency)
        eso = Eso(archive_url=emu.url)  # fresh: its schema look-up is counted too
        before = len(emu.requests)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoResultsWarning)
            files = eso.get_product_files(products, cache=False)
        ours = time.perf_counter() - start
        trips = len(emu.requests) - before
        assert len(files) == expected, (len(files), expected)

        service = pyvo.dal.TAPService(emu.tap_url)
        few = products[:sample]
        before = len(emu.requests)
        start = time.perf_counter()
        rows = 0
        for pid in few:
            rows += len(service.search("SELECT * FROM phase3v2.product_files "
                                       f"WHERE product_id = '{pid}'").to_table())
        loop_sample = time.perf_counter() - start
        loop_trips_sample = len(emu.requests) - before
        assert rows == sum(len(emu.archive.files_of(pid)) for pid in few)
    finally:
        emu.stop()
    theirs = loop_sample * len(products) / len(few)
    loop_trips = round(loop_trips_sample * len(products) / len(few))
    return {
        "name": "many_products",
        "title": f"files of {len(products)} products, {latency * 1000:g} ms latency",
        "ours_label": "get_product_files", "ours": round(ours, 3),
        "theirs_label": "per-id pyvo loop", "theirs": round(theirs, 3), "unit": "s",
        "ratio": round(theirs / ours, 1), "ratio_meaning": "loop time / ours",
        "target": f"<= {TARGET_ROUND_TRIPS} round trips",
        "met": trips <= TARGET_ROUND_TRIPS,
        "details": {"products": len(products), "files": len(files),
                    "round_trips_ours": trips, "round_trips_loop": loop_trips,
                    "latency_s": latency, "loop_sample_ids": len(few),
                    "loop_sample_s": round(loop_sample, 3)},
        "notes": f"round trips: ours {trips}, loop {loop_trips}" + (
            f"; loop timed on {len(few)} ids and extrapolated to {len(products)}"
            if len(few) < len(products) else ""),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--ids", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args(argv)
    print(json.dumps(bench_many_products(ids=args.ids, sample=args.sample,
                                         latency=args.latency), indent=2))


if __name__ == "__main__":
    main()
