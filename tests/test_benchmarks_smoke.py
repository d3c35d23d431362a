# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The benchmark suite's smoke run (``benchmarks/run.py --smoke``), so that it cannot rot.

Only what each comparison must get right is asserted (files complete, round
trips, bytes resumed, requests from cache), never a speed: timings belong to
the full benchmark run.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
NAMES = ("latency", "perfile", "scaling", "rerun", "many_ids", "many_products", "big_file",
         "resume", "parsing", "cache", "unzip")

pytestmark = pytest.mark.skipif(not RUN.exists(), reason="benchmarks/ is not in this tree")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, str(RUN), "--smoke", "--output-dir", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, {name: json.loads((out / f"{name}.json").read_text())
                         for name in NAMES}


def test_every_comparison_is_reported(smoke):
    stdout, results = smoke
    table = stdout[stdout.index("comparison"):]
    for name in NAMES:
        record = results[name]
        assert record["smoke"] is True and record["name"] == name
        assert {"ours", "theirs", "ratio", "target", "met", "details"} <= set(record)
        assert any(line.startswith(name + " ") for line in table.splitlines()), table
        assert record["ratio"] == "n/a" or record["ratio"] > 0


def test_every_figure_is_a_median_with_its_spread(smoke):
    stdout, results = smoke
    for name in ("latency", "perfile", "scaling", "rerun", "many_ids", "unzip"):
        spread = results[name]["ours_spread"]
        median, low, high = (float(x) for x in spread.replace("(", " ").replace(")", " ")
                             .replace("-", " ").split()[:3])
        assert low <= median <= high, (name, spread)
        assert spread in stdout
    assert "load average" in stdout


def test_what_each_comparison_must_get_right(smoke):
    _, r = smoke
    latency = r["latency"]["details"]
    assert latency["download_ancillary_ok"] == latency["files"]
    assert latency["retrieve_data_ok"] == latency["files"]
    assert latency["limit_s"] > 0
    for peer in r["latency"]["peers"].values():
        assert peer["ok_min"] == latency["files"]
    perfile = r["perfile"]
    assert all(ok == perfile["details"]["files"] for ok in perfile["details"]["ok"].values())
    for size in r["scaling"]["details"]["sizes"].values():
        assert size["ok_min"] == size["files"] and size["extra_rss_MB"] >= 0
    rerun = r["rerun"]["details"]
    assert rerun["first_download_ok"] == rerun["files"]
    for form in rerun["forms"].values():  # nothing downloaded again, whatever it cost
        assert form["skipped"] == rerun["files"], form["statuses"]
    many = r["many_ids"]["details"]
    assert many["rows_ours"] == many["rows_pyvo"] == many["rows"]
    assert all(i["same_bytes"] for i in r["unzip"]["details"]["inputs"].values())
    products = r["many_products"]["details"]
    assert products["round_trips_ours"] <= 10
    assert products["round_trips_loop"] == products["products"]
    assert r["big_file"]["details"]["status"] == "downloaded"
    assert r["big_file"]["details"]["size_on_disk"] == r["big_file"]["details"]["file_bytes"]
    resume = r["resume"]
    assert resume["details"]["status"] == "resumed" and resume["details"]["file_correct"]
    assert resume["ours"] == resume["theirs"]  # exactly the remainder was sent
    assert r["parsing"]["details"]["rows"] == r["parsing"]["arguments"]["rows"]
    assert r["cache"]["details"]["requests_sent"] == 0
    assert r["cache"]["details"]["same_rows"] is True
