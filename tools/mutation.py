# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Mutation testing, one module at a time, with mutmut (not part of the default test run).

Each module is mutated with only its own test files (``MODULES`` below), in a
scratch copy of the repository (so ``mutants/`` and the mutmut config never
touch the working tree), and the script prints one table::

    module     run  killed (timeout)  survived  equivalent    score  seconds
    filenames  182     172         0        10          10   100.0%      210

``equivalent`` counts survivors listed in ``tools/mutation_equivalent.txt``
(one ``mutant_name  reason`` a line): a mutant that changes no behaviour,
explained there. The score is ``killed / (run - equivalent)``; a mutant the
tests stop by a time-out counts as killed (and is counted again under
``(timeout)``, to show how many kills are only that). With ``--sample`` the
table adds the score's 95 % interval (Wilson), as the sample is random.

Usage::

    python tools/mutation.py filenames ids          # full runs
    python tools/mutation.py --sample 30 adql       # 30 mutants chosen at random
    python tools/mutation.py --jobs 1 --keep tap    # one worker; keep the scratch copy

Mutation runs are CPU heavy: run them on a quiet machine (``--jobs`` bounds
the parallel test processes).
"""
import argparse
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "astroquery_eso_ancillary"
EQUIVALENT_FILE = ROOT / "tools" / "mutation_equivalent.txt"

#: Each module and its own tests (pytest arguments: files, node ids, ``-k``). Kept to the
#: tests that exercise the module directly, so that one mutant costs seconds, not minutes.
MODULES = {
    "adql": ["tests/test_adql.py", "tests/test_gaps_adql.py", "tests/test_adql_values.py",
             "tests/test_gaps_query.py"],
    "filenames": ["tests/test_gaps_files.py", "tests/test_download.py", "-k",
                  "filename or disposition or contained or name or symlink or relative"],
    "ids": ["tests/test_ids.py", "tests/test_gaps_ids.py", "tests/test_adql.py"],
    "transport": ["tests/test_transport.py", "tests/test_tap.py", "tests/test_gaps_tap.py"],
    "tap": ["tests/test_tap.py", "tests/test_gaps_tap.py", "tests/test_tap_selection.py",
            "tests/test_tap_client.py", "tests/test_query.py"],
    "download": ["tests/test_download.py", "tests/test_download_answers.py",
                 "tests/test_download_ids.py", "tests/test_download_reruns.py",
                 "tests/test_download_faults.py", "tests/test_gaps_files.py",
                 "tests/test_download_plan.py", "tests/test_download_inputs.py",
                 "tests/test_download_attempts.py",
                 # Ctrl-C, stalls, locks, FITS checks, the token's hosts; hostile servers.
                 "tests/test_security_integrity.py", "tests/test_reliability_faults.py",
                 "tests/test_reliability_hostile_server.py", "tests/test_progress.py",
                 "tests/test_reliability_crash.py"],
}

#: Tests left out of every mutation run, with the reason. mutmut runs each mutant's tests in
#: a forked process; dask's LocalCluster hangs there (its event loop and worker processes do
#: not survive a fork of a process with threads), so the test would only end at mutmut's
#: time-out and count as a kill. The thread-pool executor test covers the same code path.
#: test_killed_twenty_times_then_resumed kills 20 child processes (half a minute a run);
#: the kill-and-resume path is also pinned by test_download_faults.py's kill test.
DESELECTED = ["tests/test_download.py::test_dask_executor",
              "tests/test_reliability_crash.py::test_killed_twenty_times_then_resumed"]
DESELECT = ", ".join(f'"--deselect", "{name}"' for name in DESELECTED)

_STATUS_RE = re.compile(r"^\s*(\S+__mutmut_\d+): (.+)$")


def equivalent_mutants():
    """{mutant name: reason} from ``tools/mutation_equivalent.txt``."""
    found = {}
    if EQUIVALENT_FILE.exists():
        for line in EQUIVALENT_FILE.read_text("utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                found[name] = reason.strip()
    return found


def scratch_copy(module, tests):
    """A copy of the tracked files, configured for mutmut on one module."""
    work = Path(tempfile.mkdtemp(prefix=f"mutation-{module}-"))
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    tests = [t for t in tests if t.startswith("-") or not t.startswith("tests/")
             or (work / t.split("::")[0]).exists()]
    pyproject = work / "pyproject.toml"
    quoted = ", ".join(f'"{t}"' for t in tests)
    pyproject.write_text(pyproject.read_text("utf-8") + f"""
[tool.mutmut]
source_paths = ["{PACKAGE}/"]
only_mutate = ["{PACKAGE}/{module}.py"]
also_copy = ["tests/", "docs/", "setup.cfg"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-o", "addopts=",
                       "-p", "no:randomly", "-o", "timeout=60", {DESELECT}]
# A mutant that makes a download hang (a lost semaphore, a wait that never ends) is stopped
# by a test's 60 s time-out, or after 4 times its tests' usual time, not mutmut's 15.
timeout_multiplier = 4.0
pytest_add_cli_args_test_selection = [{quoted}]
""", "utf-8")
    return work, tests


def mutmut(work, *args, check=True):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, env=env,
                          capture_output=True, text=True, check=check)


def statuses(work):
    out = mutmut(work, "results", "--all", "true").stdout
    return {m.group(1): m.group(2).strip() for line in out.splitlines()
            if (m := _STATUS_RE.match(line))}


def run_module(module, *, sample, jobs, keep, seed):
    work, _ = scratch_copy(module, MODULES[module])
    start = time.monotonic()
    try:
        names = None
        if sample:
            # Generate the mutants (and the test mapping) without running them: a name
            # that matches nothing. Then run a random sample.
            mutmut(work, "run", "--max-children", str(jobs), "no-such-mutant", check=False)
            everything = sorted(statuses(work))
            names = random.Random(seed).sample(everything, min(sample, len(everything)))
        ran = mutmut(work, "run", "--max-children", str(jobs), *(names or []), check=False)
        found = statuses(work)
        if all(status == "not checked" for status in found.values()):
            # mutmut stops before any mutant when the clean test run fails: say why.
            text = ran.stdout.replace("\r", "\n")
            sys.exit(f"mutmut ran no mutant of {module}:\n{text[-4000:]}\n{ran.stderr[-4000:]}")
        if names is not None:
            found = {k: v for k, v in found.items() if k in names}
        return found, time.monotonic() - start, work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def wilson(killed, tested, z=1.96):
    """The 95 % interval of a score measured on a random sample of mutants (Wilson)."""
    if not tested:
        return 0.0, 0.0
    p = killed / tested
    centre = (p + z * z / (2 * tested)) / (1 + z * z / tested)
    half = z * math.sqrt(p * (1 - p) / tested + z * z / (4 * tested * tested)) \
        / (1 + z * z / tested)
    return 100 * (centre - half), 100 * (centre + half)


def table(rows, *, sampled=False):
    head = f"{'module':<10} {'run':>5} {'killed':>7} {'(timeout)':>9} {'survived':>9} " \
           f"{'equivalent':>11} {'score':>8} {'seconds':>8}"
    lines = [head + ("  95 % interval (sample)" if sampled else "")]
    equivalent = equivalent_mutants()
    for module, found, seconds in rows:
        ran = [k for k, v in found.items() if v not in ("not checked", "skipped")]
        killed = [k for k in ran if found[k] in ("killed", "timeout", "caught by type check")]
        timeouts = [k for k in ran if found[k] == "timeout"]
        survived = [k for k in ran if k not in killed]
        same = [k for k in survived if k in equivalent]
        tested = len(ran) - len(same)
        score = 100.0 * len(killed) / tested if tested else 0.0
        line = (f"{module:<10} {len(ran):>5} {len(killed):>7} {len(timeouts):>9} "
                f"{len(survived):>9} {len(same):>11} {score:>7.1f}% {seconds:>8.0f}")
        if sampled:
            low, high = wilson(len(killed), tested)
            line += f"  {low:.1f}-{high:.1f} %"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES), choices=list(MODULES),
                        help="modules to mutate (default: all)")
    parser.add_argument("--sample", type=int, default=0,
                        help="run only this many mutants per module, chosen at random")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample")
    parser.add_argument("--jobs", type=int, default=2, help="parallel test processes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    args = parser.parse_args(argv)
    rows = []
    for module in args.modules:
        found, seconds, work = run_module(module, sample=args.sample, jobs=args.jobs,
                                          keep=args.keep, seed=args.seed)
        rows.append((module, found, seconds))
        equivalent = equivalent_mutants()
        for name, status in sorted(found.items()):
            if status not in ("killed", "timeout", "caught by type check", "not checked"):
                mark = " (equivalent)" if name in equivalent else ""
                print(f"  {status}: {name}{mark}")
        if args.keep:
            print(f"  scratch copy: {work}  (mutmut show NAME there)")
    print(table(rows, sampled=bool(args.sample)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
