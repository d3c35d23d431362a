# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Profile: where the per-file time goes. ``download_ancillary`` of 2,000 x 10 kB
files at zero latency (the ``perfile`` case) runs in a child process under
``py-spy record`` (every thread, active samples only: a thread waiting on a
socket or a lock is not counted, so the figures are CPU where the GIL is held
or released in C); the collapsed stacks are then summed:

- self samples per function and per source line (where the CPU is spent),
- inclusive samples per function of the package and of its libraries,
- a split by layer: this package, requests/urllib3, http.client/socket,
  astropy, the standard library's filesystem and threading modules, imports.

Usage::

    python benchmarks/bench_profile.py                 # needs py-spy (pip install py-spy)
    python benchmarks/bench_profile.py -n 500 --label end

Writes ``benchmarks/results/profile_<label>.json`` and the raw stacks
``benchmarks/results/profile_<label>.txt`` (open in speedscope.app or
flamegraph.pl).
"""
import argparse
import json
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from benchlib import RESULTS, loadavg, run_client, tiny_file_emulator, write_result

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")

#: layer name -> substrings of a frame's file that put it in the layer (first match wins)
LAYERS = (
    ("import", ("<frozen importlib",)),
    ("astroquery_eso_ancillary", ("astroquery_eso_ancillary",)),
    ("requests/urllib3", ("requests/", "urllib3/")),
    ("http.client/socket/ssl", ("http/client.py", "socket.py", "ssl.py", "email/")),
    ("astropy", ("astropy/",)),
    ("proxy/environment look-ups (urllib.request, os.environ)",
     ("urllib/request.py", "_createenviron", "_Environ")),
    ("typing (isinstance on Protocols)", ("typing.py",)),
    ("threading/concurrent", ("threading.py", "concurrent/", "queue.py")),
    ("filesystem (os, pathlib, shutil, tempfile)",
     ("/os.py", "pathlib", "shutil.py", "tempfile.py", "genericpath.py", "posixpath.py")),
)


def short(frame):
    """``func (module/file.py:line)`` with the site-packages prefix cut."""
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3", "h-bench/", "main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3":
                path = path.split("/", 1)[-1]
            break
    return f"{match['func']} ({path}" + (f":{match['line']})" if match["line"] else ")")


def layer_of(frame):
    for name, markers in LAYERS:
        if any(m in frame for m in markers):
            return name
    return "other"


def summarize(raw_text, *, top=15):
    """Sum py-spy's collapsed stacks (``frame;frame;... count`` lines)."""
    self_func, self_line, inclusive, layers = Counter(), Counter(), Counter(), Counter()
    package_lines = Counter()
    total = imports = 0
    for line in raw_text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        frames = stack.split(";")
        if any("<frozen importlib" in f for f in frames):
            imports += count  # start-up of the child, not the per-file path
            continue
        total += count
        leaf = frames[-1]
        self_line[short(leaf)] += count
        match = FRAME.match(leaf)
        self_func[short(re.sub(r":\d+\)$", ")", leaf)) if match else leaf] += count
        # the innermost frame that is not the standard library decides the layer,
        # so that os.stat called by the package counts as filesystem, not package
        layers[layer_of(leaf)] += count
        # the innermost line of this package on the stack: what the package asked for
        # that cost this sample (everything below it included)
        ours = [f for f in frames if "astroquery_eso_ancillary" in f]
        if ours:
            package_lines[short(ours[-1])] += count
        seen = set()
        for f in frames:
            name = short(re.sub(r":\d+\)$", ")", f))
            if name not in seen:
                seen.add(name)
                inclusive[name] += count

    def pct(counter):
        return [{"where": k, "samples": v, "percent": round(100 * v / total, 1)}
                for k, v in counter.most_common(top)] if total else []

    package = Counter({k: v for k, v in inclusive.items()
                       if "astroquery_eso_ancillary" in k})
    return {"samples": total, "import_samples_excluded": imports,
            "layers_by_leaf": pct(layers), "self_functions": pct(self_func),
            "self_lines": pct(self_line), "innermost_package_lines": pct(package_lines),
            "inclusive_package_functions": pct(package),
            "inclusive_all": pct(inclusive)}


def profile(*, files=2000, size_kb=10, rate=250, label="start", gil=False, output_dir=None):
    """Run the per-file case under py-spy; return the summary (written as JSON too).

    ``gil``: sample only the thread holding the GIL (pure Python CPU; a thread in a
    socket call that released the GIL is not counted).
    """
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    out = Path(output_dir or RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"profile_{label}.txt"
    options = ("--gil",) if gil else ()
    emu, ids, _ = tiny_file_emulator(files, size_kb * 1024)
    load = loadavg()
    try:
        with tempfile.TemporaryDirectory() as folder:
            report = run_client(emu, ids, folder, prefix=(
                spy, "record", *options, "--format", "raw", "-r", str(rate), "-o", str(raw),
                "--"))
    finally:
        emu.stop()
    result = summarize(raw.read_text())
    result.update({"label": label, "files": files, "size_kb": size_kb, "rate_hz": rate,
                   "client": {k: report[k] for k in ("seconds", "cpu_s", "statuses",
                                                     "workers")},
                   "files_per_s": round(report["statuses"].get("downloaded", 0)
                                        / report["seconds"], 1),
                   "cpu_ms_per_file": round(report["cpu_s"] * 1000 / files, 2),
                   "loadavg": load, "raw_stacks": raw.name, "gil_only": gil})
    write_result(f"profile_{label}", result, output_dir=out)
    return result


def print_summary(result):
    print(f"{result['files']} files: {result['files_per_s']} files/s, "
          f"{result['cpu_ms_per_file']} ms CPU per file, {result['samples']} samples "
          f"(load {result['loadavg']})")
    for key in ("layers_by_leaf", "self_functions", "self_lines", "innermost_package_lines",
                "inclusive_package_functions"):
        print(f"\n{key}:")
        for row in result[key]:
            print(f"  {row['percent']:5.1f}%  {row['where']}")


def resummarize(label, output_dir=None):
    """Summarize an earlier run's raw stacks again (after a change of this script)."""
    out = Path(output_dir or RESULTS)
    path = out / f"profile_{label}.json"
    result = json.loads(path.read_text())
    result.update(summarize((out / result["raw_stacks"]).read_text()))
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("-n", "--files", type=int, default=2000)
    parser.add_argument("-s", "--size-kb", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--label", default="start", help="name of the result files")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (py-spy --gil)")
    parser.add_argument("--resummarize", action="store_true",
                        help="only summarize the raw stacks of --label again")
    args = parser.parse_args(argv)
    if args.resummarize:
        print_summary(resummarize(args.label))
        return
    print_summary(profile(files=args.files, size_kb=args.size_kb, rate=args.rate,
                          label=args.label, gil=args.gil))


if __name__ == "__main__":
    main()
