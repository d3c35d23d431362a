# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: the ESO archive emulator at one million ``product_files`` rows.

A script, not a test. It sizes the generated archive so that
``phase3v2.product_files`` holds at least ``--rows`` rows (1,000,000 by default),
then measures:

1. engine level: generating the archive and loading it into the ADQL engine
   (target under 10 s), the median time of an indexed
   ``product_id = '...'`` look-up through ``Engine.run`` (target under 50 ms), the
   same by ``archive_id``, the ESO HOWTO's MUSE preview join and a 0.5 deg cone
   search (``INTERSECTS(s_region, CIRCLE(...)) = 1``);
2. emulator level (unless ``--skip-server``): ``ArchiveEmulator.start()`` at the
   same size, and the same look-up through HTTP (TAP ``/sync``, VOTable answer).

Usage::

    python benchmarks/bench_emulator.py                 # >= 1,000,000 rows
    python benchmarks/bench_emulator.py --rows 200000 --skip-server

Writes ``benchmarks/results/emulator.json``.
"""
import argparse
import gc
import json
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

from astroquery_eso_ancillary.emulator.data import Archive
from astroquery_eso_ancillary.emulator.engine import Engine

RESULTS = Path(__file__).parent / "results" / "emulator.json"
LOAD_TARGET_S = 10.0
LOOKUP_TARGET_MS = 50.0


def products_for(rows, *, seed):
    """Number of generated products expected to give at least ``rows`` file rows."""
    sample = Archive(seed=seed, products=4000)
    per_product = sum(len(files) for _, files in sample.iter_rows()) / len(sample)
    return int(rows / per_product * 1.01) + 1


def median_ms(engine, queries):
    times = []
    for adql in queries:
        t0 = time.perf_counter()
        engine.run(adql)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="minimum number of product_files rows (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lookups", type=int, default=50, help="look-ups to time")
    parser.add_argument("--skip-server", action="store_true",
                        help="only measure the engine, not ArchiveEmulator.start()")
    args = parser.parse_args(argv)

    n_products = products_for(args.rows, seed=args.seed)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    archive = Archive(seed=args.seed, products=n_products)
    t_plan = time.perf_counter() - t0
    engine = Engine(archive)
    t_load = time.perf_counter() - t0
    cpu_load = time.process_time() - cpu0
    n_rows = engine.run("SELECT COUNT(*) FROM phase3v2.product_files").rows[0][0]
    if n_rows < args.rows:
        sys.exit(f"only {n_rows} rows generated for {n_products} products; raise --rows")

    ids = random.Random(1).sample(archive.product_ids, args.lookups)
    by_product = [f"SELECT * FROM phase3v2.product_files WHERE product_id = '{i}'" for i in ids]
    by_file = [f"SELECT * FROM phase3v2.product_files WHERE archive_id = '{i}'" for i in ids]
    engine.run(by_product[0])     # warm the statement path once
    product_median, product_max = median_ms(engine, by_product)
    file_median, _ = median_ms(engine, by_file)
    t0 = time.perf_counter()
    join = engine.run("SELECT pf.* FROM ivoa.ObsCore AS oc JOIN phase3v2.product_files AS pf "
                      "ON oc.dp_id = pf.product_id WHERE oc.obs_collection = 'MUSE' "
                      "AND pf.eso_category = 'ANCILLARY.PREVIEW'", maxrec=None)
    join_s = time.perf_counter() - t0
    cones = [f"SELECT dp_id FROM ivoa.ObsCore WHERE INTERSECTS(s_region, "
             f"CIRCLE('ICRS', {p['s_ra']}, {p['s_dec']}, 0.5)) = 1"
             for p in (archive.product(i) for i in ids[:10])]
    cone_median, _ = median_ms(engine, cones)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    results = {
        "python": platform.python_version(), "machine": platform.machine(),
        "products": len(archive), "product_files_rows": n_rows,
        "plan_s": round(t_plan, 3), "load_s": round(t_load, 3),
        "load_cpu_s": round(cpu_load, 3), "load_target_s": LOAD_TARGET_S,
        "lookup_product_id_median_ms": round(product_median, 3),
        "lookup_product_id_max_ms": round(product_max, 3),
        "lookup_archive_id_median_ms": round(file_median, 3),
        "lookup_target_ms": LOOKUP_TARGET_MS,
        "muse_preview_join_rows": len(join.rows), "muse_preview_join_s": round(join_s, 3),
        "cone_intersects_0.5deg_median_ms": round(cone_median, 3),
        "peak_rss_mb": round(peak_mb, 1),
    }
    del engine, archive, join
    gc.collect()

    if not args.skip_server:
        import requests

        from astroquery_eso_ancillary.emulator import ArchiveEmulator

        t0 = time.perf_counter()
        emu = ArchiveEmulator(seed=args.seed, products=n_products).start()
        results["emulator_start_s"] = round(time.perf_counter() - t0, 3)
        try:
            times = []
            with requests.Session() as session:
                for adql in by_product[:20]:
                    t0 = time.perf_counter()
                    reply = session.post(emu.tap_url + "/sync", data={
                        "REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql}, timeout=60)
                    reply.raise_for_status()
                    times.append((time.perf_counter() - t0) * 1000)
            results["http_lookup_median_ms"] = round(statistics.median(times), 3)
        finally:
            emu.stop()

    rows = [("products", f"{results['products']:,}", ""),
            ("product_files rows", f"{results['product_files_rows']:,}", ""),
            ("generate + load engine", f"{results['load_s']:.2f} s",
             f"< {LOAD_TARGET_S:g} s"),
            ("  of which CPU", f"{results['load_cpu_s']:.2f} s", ""),
            ("product_id look-up (median)", f"{product_median:.2f} ms",
             f"< {LOOKUP_TARGET_MS:g} ms"),
            ("archive_id look-up (median)", f"{file_median:.2f} ms", ""),
            ("MUSE preview join", f"{join_s:.2f} s ({results['muse_preview_join_rows']:,} rows)",
             ""),
            ("cone search, r = 0.5 deg (median)", f"{cone_median:.1f} ms", ""),
            ("peak RSS", f"{peak_mb:.0f} MB", "")]
    if "emulator_start_s" in results:
        rows += [("ArchiveEmulator.start()", f"{results['emulator_start_s']:.2f} s",
                  f"< {LOAD_TARGET_S:g} s"),
                 ("HTTP TAP look-up (median)", f"{results['http_lookup_median_ms']:.2f} ms", "")]
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>28}  {target}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return results


if __name__ == "__main__":
    main()
