# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Benchmark: resuming a large download cut at 60%.

The emulator closes the connection after 60% of a 1 GiB file (fault
``drop_after``); ``download_ancillary`` (no retries) keeps the part file. A
second call resumes it. The bytes sent to finish (from the emulator's request
log) are compared with the remainder (target: at most 1.05x), and the
finished file is checked against the emulator's content (SHA-256, streamed).

Usage::

    python benchmarks/bench_resume.py            # 1024 MiB
    python benchmarks/bench_resume.py --mb 64

Run every comparison at once with ``python benchmarks/run.py``.
"""
import argparse
import hashlib
import json
import os
import tempfile
import time

from bench_download import whole_fits_blocks

from astroquery_eso_ancillary import Eso
from astroquery_eso_ancillary.emulator import ArchiveEmulator, Faults

TARGET = 1.05
CUT = 0.6


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_served(emu, archive_id, size):
    digest = hashlib.sha256()
    for chunk in emu.file_stream(archive_id, 0, end=size):
        digest.update(chunk)
    return digest.hexdigest()


def public_plain_file(emu):
    for row in emu.archive.files:
        aid = row["archive_id"]
        if aid == row["product_id"]:  # a product id means the product's ancillary files
            continue
        info = emu.file_info(aid)
        # A patched file is not resumable (ESO ignores Range for those): not this benchmark's.
        if not emu.archive.is_proprietary(aid) and not info["compression"] \
                and not info["patched"]:
            return aid
    raise RuntimeError("no public uncompressed file in the emulator's archive")


def bench_resume(*, mb=1024, quiet=True):
    """Cut a ``mb`` MiB download at 60%, resume it, compare the bytes sent with the rest.

    Returns
    -------
    dict
        The comparison record (see ``run.py``).
    """
    size = mb * 2**20
    emu = ArchiveEmulator(products=20, max_file_bytes=size).start()
    try:
        aid = public_plain_file(emu)
        size = whole_fits_blocks(size)
        emu.file_sizes[aid] = size
        eso = Eso(archive_url=emu.url)
        with tempfile.TemporaryDirectory() as folder:
            emu.faults = Faults(drop_after=int(size * CUT), paths=("/dataPortal",))
            first = eso.download_ancillary(aid, destination=folder, max_retries=0,
                                           progress=False)
            assert first["status"][0] == "error", first["message"][0]
            parts = [n for n in os.listdir(folder) if n.endswith(".part")]
            kept = os.path.getsize(os.path.join(folder, parts[0]))
            remainder = size - kept

            emu.faults = Faults()
            before = len(emu.requests)
            start = time.perf_counter()
            second = eso.download_ancillary(aid, destination=folder, progress=False)
            seconds = time.perf_counter() - start
            sent = sum(r.bytes_sent for r in emu.requests[before:]
                       if r.path.startswith("/dataPortal/file/"))
            row = second[0]
            correct = (row["status"] == "resumed"
                       and sha256_of_file(row["local_path"]) == sha256_served(emu, aid, size))
    finally:
        emu.stop()
    ratio = sent / remainder
    return {
        "name": "resume",
        "title": f"{mb} MiB download cut at {CUT:.0%}, then resumed",
        "ours_label": "bytes sent to finish", "ours": sent,
        "theirs_label": "remainder", "theirs": remainder, "unit": "B",
        "ratio": round(ratio, 4), "ratio_meaning": "bytes sent / remainder",
        "target": f"<= {TARGET}x", "met": ratio <= TARGET and correct,
        "details": {"file_bytes": size, "kept_after_cut": kept, "status": str(row["status"]),
                    "file_correct": bool(correct), "resume_s": round(seconds, 2)},
        "notes": "" if correct else "the resumed file is NOT correct",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args(argv)
    print(json.dumps(bench_resume(mb=args.mb), indent=2))


if __name__ == "__main__":
    main()
