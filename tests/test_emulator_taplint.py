# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""STILTS' taplint, the IVOA TAP validator, finds no error in the emulator's TAP service.

taplint runs as a subprocess against a private emulator: its default stages (TAP_SCHEMA
and /tables, capabilities, sync/async queries, UWS, ObsCore ...), once as it chooses the
TAP version and once with ``interface=tap1.1``. Skipped with a message when ``stilts``
is not on PATH (``.ci/install-stilts`` installs it). About 10 s per run on 2 cores.
"""
import re
import shutil
import subprocess

import pytest

from astroquery_eso_ancillary.emulator import ArchiveEmulator

STILTS = shutil.which("stilts")
pytestmark = pytest.mark.skipif(
    STILTS is None, reason="stilts is not on PATH (install it with .ci/install-stilts, or "
                           "apt-get install stilts): taplint cannot check the emulator")


@pytest.fixture(scope="module")
def tap_url():
    with ArchiveEmulator(products=40) as emu:
        yield emu.tap_url


def _taplint(url, *extra):
    run = subprocess.run([STILTS, "taplint", f"tapurl={url}", "report=EWS", "maxrepeat=20",
                          "format=text", *extra], capture_output=True, text=True, timeout=300)
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+)", run.stdout)
    assert totals, (run.returncode, run.stdout[-2000:], run.stderr[-2000:])
    errors = [line for line in run.stdout.splitlines() if line.startswith("E-")]
    return int(totals.group(1)), errors, run.stdout


@pytest.mark.parametrize("interface", [None, "tap1.1"])
def test_taplint_reports_no_error(tap_url, interface):
    extra = [] if interface is None else [f"interface={interface}"]
    count, errors, report = _taplint(tap_url, *extra)
    assert errors == [] and count == 0, "\n".join(errors)
    # the checks really ran: queries were made and the ObsCore model was tested
    assert re.search(r"S-QGE-QNUM-0*1 Successful/submitted TAP queries: (\d+)/\1", report)
    assert "ivoa.ObsCore columns: 30/30 required" in report
