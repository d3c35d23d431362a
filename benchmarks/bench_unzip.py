# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: decoding ``.fits.Z`` (Unix ``compress``, LZW). The package's pure
Python decoder (``astroquery_eso_ancillary.unzip.lzw_decompress``) against the C
``ncompress`` package (``pip install ncompress``; skipped when absent), on two
inputs: a FITS file as the emulator serves it, compressed, and noisy
float32 image data (as real detector frames, which compress far less). MB/s
of decoded output (wall clock, and per CPU second: the machine may be shared),
median (min-max) of interleaved runs; both decoders must give the same bytes.

Usage::

    python benchmarks/bench_unzip.py                # 16 MiB each, 3 runs
    python benchmarks/bench_unzip.py --mb 4 --runs 1

Writes ``benchmarks/results/unzip.json``.
"""
import argparse
import io
import json
import time

import numpy as np
from benchlib import interleave, loadavg, spread, summary, write_result

from astroquery_eso_ancillary.emulator import ArchiveEmulator
from astroquery_eso_ancillary.emulator.content import lzw_compress
from astroquery_eso_ancillary.unzip import lzw_decompress

try:
    import ncompress
except ImportError:  # optional: the comparison is then ours alone
    ncompress = None


def inputs(mb):
    """name -> (compressed bytes, plain size)."""
    nbytes = mb * 1024 * 1024
    nbytes -= nbytes % 2880
    # the C encoder when there is one: the pure Python one takes seconds a MB
    compress = ncompress.compress if ncompress is not None else lzw_compress
    with ArchiveEmulator(products=30) as emu:
        aid = next(row["archive_id"] for row in emu.archive.files
                   if (row.get("extension") or "").upper() == "FITS")
        emu.file_sizes[aid] = nbytes
        fits = emu.file_bytes(aid)
    noise = np.random.default_rng(1).normal(1000, 30, nbytes // 4).astype(">f4").tobytes()
    return {"emulator FITS": (compress(fits), len(fits)),
            "float32 noise": (compress(noise), len(noise))}


def bench_unzip(*, mb=16, runs=3):
    """MB/s of the pure Python decoder and of ncompress, ``runs`` interleaved runs.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    load = loadavg()
    per_input = {}
    for name, (data, plain) in inputs(mb).items():
        outputs = {}

        def ours(data=data, plain=plain, outputs=outputs):
            out = io.BytesIO()
            start, cpu = time.perf_counter(), time.process_time()
            lzw_decompress(io.BytesIO(data), out)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            outputs["ours"] = out.getvalue()
            return plain / seconds / 1e6, plain / cpu / 1e6

        def theirs(data=data, plain=plain, outputs=outputs):
            start, cpu = time.perf_counter(), time.process_time()
            got = ncompress.decompress(data)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            outputs["ncompress"] = got
            return plain / seconds / 1e6, plain / cpu / 1e6

        contenders = {"pure Python": ours}
        if ncompress is not None:
            contenders["ncompress"] = theirs
        results = interleave(contenders, runs)
        same = outputs.get("ncompress", outputs["ours"]) == outputs["ours"]
        per_input[name] = {"compressed_MB": round(len(data) / 1e6, 2),
                           "plain_MB": round(plain / 1e6, 2),
                           "same_bytes": same and len(outputs["ours"]) == plain,
                           **{k: summary([w for w, _ in v], digits=2)
                              for k, v in results.items()},
                           "per_cpu_second": {k: summary([c for _, c in v], digits=2)
                                              for k, v in results.items()}}
    main_input = per_input["float32 noise"]
    ours_stat = main_input["pure Python"]
    theirs_stat = main_input.get("ncompress")
    return {
        "name": "unzip",
        "title": f".fits.Z decoding, {mb} MiB decoded, MB/s median (min-max) of {runs} runs",
        "ours_label": "unzip.lzw_decompress (pure Python)", "ours": ours_stat["median"],
        "ours_spread": spread(ours_stat),
        "theirs_label": "ncompress (C)", "theirs": theirs_stat["median"] if theirs_stat else "n/a",
        "theirs_spread": spread(theirs_stat) if theirs_stat else "n/a",
        "unit": "MB/s",
        "ratio": (round(theirs_stat["median"] / ours_stat["median"], 1) if theirs_stat
                  else "n/a"),
        "ratio_meaning": "ncompress / ours",
        "target": "(measured; ncompress when installed)",
        "met": all(p["same_bytes"] for p in per_input.values()),
        "peers": {}, "limit": "none",
        "details": {"inputs": per_input, "ncompress_installed": ncompress is not None,
                    "ncompress_version": getattr(ncompress, "__version__", None),
                    "loadavg": load},
        "notes": "; ".join(f"{n}: " + ", ".join(
            f"{k} {spread(v, ' MB/s')} ({p['per_cpu_second'][k]['median']} MB per CPU s)"
            for k, v in p.items() if k in contenders) for n, p in per_input.items()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--mb", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    record = bench_unzip(mb=args.mb, runs=args.runs)
    print(json.dumps(record, indent=2))
    print(f"written: {write_result('unzip', record)}")


if __name__ == "__main__":
    main()
