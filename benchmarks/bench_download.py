# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: ``Eso.download_ancillary`` against astroquery's ``retrieve_data``.

A script, not a test. On one local emulator with a per-request latency and a
per-connection bandwidth cap (as ESO's data portal has), it downloads N files
of S kB with ``download_ancillary`` (8 workers) and with the installed
astroquery's ``retrieve_data`` (one file after the other), in the same run,
and reports the speed ratio. Then it measures the peak memory of a process
downloading one large file (2 GB by default: ``ru_maxrss`` minus the
interpreter's baseline) and, if ``curl`` is installed, compares the single
file's throughput with curl's on the same URL (each run twice, alternating;
medians, the best run beside them: on a shared machine one run can be slowed by others).

Usage::

    python benchmarks/bench_download.py                      # 200 x 200 kB, 2 GB
    python benchmarks/bench_download.py -n 50 -s 100 --big-mb 200

Writes ``benchmarks/results/download.json``.
"""
import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from astroquery import log

from astroquery_eso_ancillary import Eso
from astroquery_eso_ancillary.emulator import ArchiveEmulator, Faults

RESULTS = Path(__file__).parent / "results" / "download.json"

# Run in a child process: measures what downloading one file adds to the peak RSS.
MEMORY_SCRIPT = r"""
import json, resource, sys, time
from astroquery import log
from astroquery_eso_ancillary import Eso
url, archive_id, folder = sys.argv[1:4]
log.setLevel("WARNING")
eso = Eso(archive_url=url)
eso.download_ancillary([], destination=folder, progress=False)   # warm every import
def status_kb(field):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
try:  # Linux: reset the high-water mark, so that import-time peaks do not hide ours
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = status_kb("VmRSS")
except OSError:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
m = eso.download_ancillary(archive_id, destination=folder, progress=False)
seconds = time.perf_counter() - start
try:
    peak = status_kb("VmHWM")
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": str(m["status"][0]), "size": int(m["size"][0]),
                  "seconds": seconds, "baseline_kb": base, "peak_kb": peak}))
"""


def whole_fits_blocks(nbytes):
    """``nbytes`` rounded down to whole 2880-byte blocks: any FITS file is (the client checks)."""
    return nbytes - nbytes % 2880


def public_plain_files(emu, count):
    """``count`` public, uncompressed files of the emulator's archive."""
    out = []
    for row in emu.archive.files:
        aid = row["archive_id"]
        if emu.archive.is_proprietary(aid) or aid == row["product_id"]:
            continue  # (a product id means the product's ancillary files)
        info = emu.file_info(aid)
        if info and not info["compression"] and info["content_type"] != "text/html":
            out.append(aid)
        if len(out) == count:
            return out
    raise SystemExit(f"The emulator has only {len(out)} suitable files; raise --products.")


def bench_many(args):
    products = max(300, args.files)
    emu = ArchiveEmulator(products=products, max_file_bytes=args.size_kb * 1024).start()
    try:
        ids = public_plain_files(emu, args.files)
        for aid in ids:
            emu.file_sizes[aid] = whole_fits_blocks(args.size_kb * 1024)
        emu.faults = Faults(latency=args.latency, bandwidth=args.mbit * 1e6 / 8,
                            paths=("/dataPortal",))
        eso = Eso(archive_url=emu.url)
        level = log.level
        log.setLevel(logging.WARNING)
        try:
            with tempfile.TemporaryDirectory() as ours, tempfile.TemporaryDirectory() as theirs:
                start = time.perf_counter()
                manifest = eso.download_ancillary(ids, destination=ours,
                                                  max_workers=args.workers, progress=False)
                t_ours = time.perf_counter() - start
                ok = int((manifest["status"] == "downloaded").sum())

                start = time.perf_counter()
                files = eso.retrieve_data(ids, destination=theirs, unzip=False)
                t_theirs = time.perf_counter() - start
                theirs_ok = len(files) if isinstance(files, list) else int(bool(files))
                same = all(
                    Path(p).read_bytes() == emu.file_bytes(a)
                    for a, p in zip(manifest["archive_id"], manifest["local_path"], strict=True))
        finally:
            log.setLevel(level)
    finally:
        emu.stop()
    total = args.files * args.size_kb * 1024
    return {"files": args.files, "size_kb": args.size_kb, "latency_s": args.latency,
            "bandwidth_mbit_per_connection": args.mbit, "workers": args.workers,
            "download_ancillary_s": round(t_ours, 3), "download_ancillary_ok": ok,
            "download_ancillary_bytes_match": same,
            "retrieve_data_s": round(t_theirs, 3), "retrieve_data_ok": theirs_ok,
            "speed_ratio": round(t_theirs / t_ours, 2),
            "download_ancillary_MB_per_s": round(total / t_ours / 1e6, 2),
            "retrieve_data_MB_per_s": round(total / t_theirs / 1e6, 2)}


def bench_big(args):
    """Peak RSS and throughput of one large file; ours and curl alternate ``repeat``
    times (medians kept, the best run beside them: the machine may be shared)."""
    nbytes = args.big_mb * 1024 * 1024
    repeat = max(1, getattr(args, "repeat", 2))
    emu = ArchiveEmulator(products=20, max_file_bytes=nbytes).start()
    try:
        (aid,) = public_plain_files(emu, 1)
        nbytes = whole_fits_blocks(nbytes)
        emu.file_sizes[aid] = nbytes
        result = {"file_bytes": nbytes, "repeat": repeat}
        ours, theirs = [], []
        curl = shutil.which("curl")
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(repeat):
                proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, emu.url, aid,
                                       folder], capture_output=True, text=True, check=True)
                ours.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                for name in os.listdir(folder):  # the file and the engine's records
                    path = os.path.join(folder, name)
                    shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
                if curl:
                    target = os.path.join(folder, "curl.out")
                    start = time.perf_counter()
                    subprocess.run([curl, "-s", "-f", "-o", target, emu.download_url + aid],
                                   check=True)
                    theirs.append(time.perf_counter() - start)
                    assert os.path.getsize(target) == nbytes
                    os.remove(target)
        # medians of the alternating runs; the best run only beside them
        times = sorted(m["seconds"] for m in ours)
        median_s = statistics.median(times)
        best = min(ours, key=lambda m: m["seconds"])
        extra = max(m["peak_kb"] - m["baseline_kb"] for m in ours)
        result.update({
            "status": best["status"], "size_on_disk": best["size"],
            "baseline_rss_MB": round(best["baseline_kb"] / 1024, 1),
            "peak_rss_MB": round(max(m["peak_kb"] for m in ours) / 1024, 1),
            "extra_rss_MB": round(extra / 1024, 1),
            "download_ancillary_s": round(median_s, 2),
            "download_ancillary_runs_s": [round(m["seconds"], 2) for m in ours],
            "download_ancillary_MB_per_s": round(nbytes / median_s / 1e6, 1),
            "download_ancillary_MB_per_s_range": [round(nbytes / times[-1] / 1e6, 1),
                                                  round(nbytes / times[0] / 1e6, 1)],
            "download_ancillary_best_MB_per_s": round(nbytes / best["seconds"] / 1e6, 1)})
        if theirs:
            seconds = statistics.median(theirs)
            result.update({"curl_s": round(seconds, 2),
                           "curl_runs_s": [round(t, 2) for t in theirs],
                           "curl_MB_per_s": round(nbytes / seconds / 1e6, 1),
                           "curl_MB_per_s_range": [round(nbytes / max(theirs) / 1e6, 1),
                                                   round(nbytes / min(theirs) / 1e6, 1)],
                           "curl_best_MB_per_s": round(nbytes / min(theirs) / 1e6, 1),
                           "throughput_vs_curl": round(seconds / median_s, 2)})
    finally:
        emu.stop()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--files", type=int, default=200, help="number of files (200)")
    parser.add_argument("-s", "--size-kb", type=int, default=200, help="kB per file (200)")
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds added to every request (0.1)")
    parser.add_argument("--mbit", type=float, default=8.0,
                        help="bandwidth cap per connection in Mbit/s (8)")
    parser.add_argument("-w", "--workers", type=int, default=8,
                        help="download_ancillary workers (8)")
    parser.add_argument("--big-mb", type=int, default=2048,
                        help="size of the single large file in MiB (2048; 0 to skip)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="large-file runs of ours and of curl, alternating; medians (2)")
    parser.add_argument("--output", default=str(RESULTS), help="JSON results file")
    args = parser.parse_args(argv)

    results = {"python": platform.python_version(), "machine": platform.machine(),
               "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                             time.gmtime())}
    from astroquery import __version__ as astroquery_version
    results["astroquery"] = astroquery_version
    results["many_files"] = many = bench_many(args)
    print(f"\n{many['files']} files x {many['size_kb']} kB, latency {many['latency_s']} s, "
          f"{many['bandwidth_mbit_per_connection']} Mbit/s per connection")
    print(f"  {'method':<32}{'seconds':>10}{'MB/s':>10}{'ok':>8}")
    print(f"  {'download_ancillary (' + str(many['workers']) + ' workers)':<32}"
          f"{many['download_ancillary_s']:>10.2f}{many['download_ancillary_MB_per_s']:>10.2f}"
          f"{many['download_ancillary_ok']:>8}")
    print(f"  {'retrieve_data (astroquery ' + astroquery_version + ')':<32}"
          f"{many['retrieve_data_s']:>10.2f}{many['retrieve_data_MB_per_s']:>10.2f}"
          f"{many['retrieve_data_ok']:>8}")
    print(f"  speed ratio: {many['speed_ratio']:.2f}x")
    if args.big_mb > 0:
        results["one_large_file"] = big = bench_big(args)
        print(f"\none file of {args.big_mb} MiB (no latency or bandwidth cap)")
        print(f"  peak RSS {big['peak_rss_MB']} MB, baseline {big['baseline_rss_MB']} MB, "
              f"extra {big['extra_rss_MB']} MB")
        line = f"  download_ancillary {big['download_ancillary_MB_per_s']} MB/s"
        if "curl_MB_per_s" in big:
            line += (f", curl {big['curl_MB_per_s']} MB/s "
                     f"(ours/curl throughput {big['throughput_vs_curl']})")
        print(line)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return results


if __name__ == "__main__":
    main()
