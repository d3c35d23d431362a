# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Shared pieces of the benchmarks: interleaved runs and their statistics, an
emulator serving many tiny files, the client in a child process (so that its
CPU and memory are its own), and the peers (curl, wget, aria2c) on the same URLs.

Not a benchmark itself; ``bench_*.py`` import it.
"""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from astroquery_eso_ancillary.emulator import ArchiveEmulator
from astroquery_eso_ancillary.emulator.content import compression_of

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: The downloading process: reads its job from a JSON file, reports one JSON line.
#: It warms every import first and resets the RSS high-water mark (Linux), so the
#: figure is what the download itself adds above the interpreter's baseline.
CLIENT_SCRIPT = r"""
import json, resource, sys, time
from astroquery import log
from astropy.table import Table
from astroquery_eso_ancillary import Eso, conf
job = json.loads(open(sys.argv[1]).read())
log.setLevel("ERROR")
eso = Eso(archive_url=job["url"])
eso.download_ancillary([], destination=job["destination"], progress=False)  # warm imports
ids = job["ids"]
if job.get("as_table"):
    files = Table({"archive_id": ids, "access_url": [job["download_url"] + i for i in ids]})
else:
    files = ids
def status_kb(field):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = status_kb("VmRSS")
except OSError:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kwargs = {"progress": False}
if job.get("max_workers"):
    kwargs["max_workers"] = job["max_workers"]
cpu = time.process_time()
start = time.perf_counter()
m = eso.download_ancillary(files, destination=job["destination"], **kwargs)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
try:
    peak = status_kb("VmHWM")
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
counts = {}
for s in m["status"]:
    counts[str(s)] = counts.get(str(s), 0) + 1
print(json.dumps({"seconds": seconds, "cpu_s": cpu, "statuses": counts,
                  "baseline_kb": base, "peak_kb": peak,
                  "workers": job.get("max_workers") or int(conf.download_workers)}))
"""


def loadavg():
    """The 1, 5 and 15 minute load averages (a shared machine skews every figure)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def summary(values, *, digits=3):
    """Median, min, max (and the runs) of a list of figures; best-of is only min/max."""
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits),
            "runs": [round(v, digits) for v in values]}


def spread(stat, unit=""):
    """``median (min-max)`` as text."""
    if stat["median"] is None:
        return "n/a"
    return f"{stat['median']:.4g} ({stat['min']:.4g}-{stat['max']:.4g}){unit}"


def interleave(contenders, runs):
    """Run each callable of ``contenders`` (name -> callable returning a dict) ``runs``
    times, alternating (ours, peer, ours, peer ...; the order rotates each round), so
    that a burst of load from other sessions hits every contender alike.

    Returns name -> list of the dicts returned.
    """
    out = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(runs):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            out[name].append(contenders[name]())
    return out


def plain_public_ids(emu, count):
    """``count`` public, uncompressed, non-HTML archive ids of the emulator (fast: from
    the rows, without building each file's layout)."""
    out = []
    for row in emu.archive.files:
        ext = (row.get("extension") or "").upper()
        if compression_of(ext) or ext in ("HTML", "HTM"):
            continue
        aid = row["archive_id"]
        # A science file's archive id is its product's id, which download_ancillary reads
        # as "that product's ancillary files": pick files both tools read the same way.
        if emu.archive.is_proprietary(aid) or aid == row["product_id"]:
            continue
        out.append(aid)
        if len(out) == count:
            return out
    raise SystemExit(f"The emulator has only {len(out)} suitable files of {count}; "
                     "raise products.")


def products_for(files):
    """Generated products enough for ``files`` plain public files (measured: 2,000
    products give 7,301 files of which 7,111 are plain and public, 3.55 a product)."""
    return max(50, int(files / 3.4) + 50)


def tiny_file_emulator(files, nbytes, *, products=None):
    """A started emulator and ``files`` plain public ids served at ``nbytes`` each
    (rounded down to whole FITS blocks, so that FITS files are whole).

    Returns (emulator, ids, start seconds).
    """
    nbytes = max(2880, nbytes - nbytes % 2880)
    start = time.perf_counter()
    emu = ArchiveEmulator(products=products or products_for(files),
                          max_file_bytes=nbytes).start()
    try:
        ids = plain_public_ids(emu, files)
        for aid in ids:
            emu.file_sizes[aid] = nbytes
    except BaseException:
        emu.stop()
        raise
    return emu, ids, time.perf_counter() - start


def empty(folder):
    """Remove everything inside ``folder`` (the files and any engine records)."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def run_client(emu, ids, destination, *, max_workers=None, as_table=False, timeout=1800,
               prefix=()):
    """``download_ancillary`` of ``ids`` into ``destination`` in a child process.

    ``prefix`` goes before the interpreter (e.g. a profiler's command line).
    Returns the child's JSON report plus ``wall_s`` (including process start).
    """
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"url": emu.url, "download_url": emu.download_url, "ids": ids,
                   "destination": str(destination), "max_workers": max_workers,
                   "as_table": as_table}, fh)
        job = fh.name
    try:
        start = time.perf_counter()
        proc = subprocess.run([*prefix, sys.executable, "-c", CLIENT_SCRIPT, job],
                              capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - start
    finally:
        os.remove(job)
    if proc.returncode != 0:
        raise RuntimeError(f"client failed ({proc.returncode}): {proc.stderr[-2000:]}")
    # the last JSON line: a profiler in ``prefix`` may print its own lines after it
    report = json.loads([line for line in proc.stdout.splitlines()
                         if line.startswith("{")][-1])
    report["wall_s"] = wall
    report["extra_rss_MB"] = round((report["peak_kb"] - report["baseline_kb"]) / 1024, 1)
    return report


def url_list(emu, ids, folder):
    """Write the ids' download URLs, one a line; return the file's path."""
    path = Path(folder) / "urls.txt"
    path.write_text("".join(emu.download_url + aid + "\n" for aid in ids))
    return path


def _timed(command, *, cwd, timeout=900, **kwargs):
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, timeout=timeout, **kwargs)
    seconds = time.perf_counter() - start
    return proc, seconds


def count_files(folder, skip=("urls.txt", "curl.cfg")):
    return sum(1 for name in os.listdir(folder) if name not in skip
               and os.path.isfile(os.path.join(folder, name)))


def peer_commands():
    """The installed peers: name -> path (curl, wget, aria2c; absent ones left out)."""
    return {name: path for name in ("curl", "wget", "aria2c")
            if (path := shutil.which(name))}


def run_peer(name, emu, ids, folder, *, parallel=8):
    """Download ``ids`` with peer ``name`` (curl, wget, aria2c), ``parallel`` at once,
    into the empty ``folder``. Returns {seconds, files}.

    - curl: ``--parallel --parallel-max N`` with a config file of ``url``/``output``
      pairs (one process, N connections reused);
    - wget: the URL list split into N parts, one ``wget -i part`` each (wget has no
      parallel mode; each part reuses its connection);
    - aria2c: ``-j N -i list`` (one process).
    """
    path = peer_commands()[name]
    cpu_before = children_cpu()
    urls = [emu.download_url + aid for aid in ids]
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        if name == "curl":
            config = work / "curl.cfg"
            config.write_text("".join(f'url = "{u}"\noutput = "{folder}/{a}"\n'
                                      for u, a in zip(urls, ids, strict=True)))
            proc, seconds = _timed([path, "-s", "-f", "--parallel", "--parallel-max",
                                    str(parallel), "-K", str(config)], cwd=folder)
        elif name == "wget":
            parts = []
            for i in range(parallel):
                part = work / f"part{i}.txt"
                part.write_text("".join(u + "\n" for u in urls[i::parallel]))
                parts.append(part)
            start = time.perf_counter()
            procs = [subprocess.Popen([path, "-q", "-nc", "-P", str(folder), "-i", str(p)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for p in parts]
            codes = [p.wait(timeout=900) for p in procs]
            seconds = time.perf_counter() - start
            proc = subprocess.CompletedProcess(path, max(codes))
        elif name == "aria2c":
            listing = work / "urls.txt"
            listing.write_text("".join(u + "\n" for u in urls))
            proc, seconds = _timed([path, "-q", "-j", str(parallel), "-x", "1",
                                    "--auto-file-renaming=false", "--allow-overwrite=true",
                                    "--file-allocation=none", "-d", str(folder),
                                    "-i", str(listing)], cwd=folder)
        else:
            raise ValueError(f"unknown peer {name!r}; known: curl, wget, aria2c")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"seconds": seconds, "cpu_s": children_cpu() - cpu_before,
            "files": count_files(folder), "returncode": proc.returncode}


def children_cpu():
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def write_result(name, record, *, output_dir=None):
    """Write ``record`` as ``<output_dir or benchmarks/results>/<name>.json``."""
    out = Path(output_dir or RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path
