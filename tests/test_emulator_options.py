"""The emulator's command-line options, shared by ``python -m ...emulator`` and
``eso-ancillary serve``."""
import argparse
import signal
import subprocess
import sys

import pytest
import requests

from astroquery_eso_ancillary.cli import build_parser as cli_parser
from astroquery_eso_ancillary.emulator.__main__ import build_parser as emulator_parser
from astroquery_eso_ancillary.emulator.options import add_arguments, from_args

EMULATOR = [sys.executable, "-m", "astroquery_eso_ancillary.emulator"]


def _parse(*argv):
    return add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_options_build_the_emulator_they_describe():
    emu = from_args(_parse("--seed", "7", "--products", "12", "--size-column", "size_kb",
                           "--max-file-bytes", "5000", "--no-range", "--user", "bob:pw",
                           "--user", "carol:x:y", "--token-lifetime", "60",
                           "--token-methods", "get,post", "--patched-fraction", "0.5",
                           "--default-maxrec", "10", "--hard-maxrec", "20",
                           "--latency", "0.25", "--bandwidth", "1e6", "--error-fraction",
                           "0.1", "--error-status", "500", "--fault-paths", "/dataPortal"))
    assert (emu.seed, emu.n_products, emu.size_column, emu.max_file_bytes) == (
        7, 12, "size_kb", 5000)
    assert emu.range_support is False and emu.token_lifetime == 60
    assert emu.token_methods == ("GET", "POST") and emu.patched_fraction == 0.5
    assert (emu.default_maxrec, emu.hard_maxrec) == (10, 20)
    assert emu.accounts() == {"alice": "wonderland", "bob": "pw", "carol": "x:y"}
    faults = emu.faults
    assert (faults.latency, faults.bandwidth, faults.error_fraction, faults.error_status,
            faults.paths) == (0.25, 1e6, 0.1, 500, ("/dataPortal",))


def test_defaults_are_the_emulators():
    emu = from_args(_parse())
    assert emu.accounts() == {"alice": "wonderland"}
    assert emu.token_methods == ("GET",) and emu.token_lifetime == 28800
    assert emu.range_support is True and emu.faults.latency == 0
    assert from_args(_parse("--no-default-user")).accounts() == {}


@pytest.mark.parametrize(("argv", "named"), [
    (["--user", "bob"], "bob"),
    (["--user", ":pw"], "NAME:PASSWORD"),
    (["--patched-fraction", "2"], "'2'"),
    (["--token-methods", "PUT"], "'PUT'"),
    (["--max-file-bytes", "-1"], "'-1'"),
    (["--size-column", "kb"], "'kb'"),
])
def test_bad_values_are_named(argv, named, capsys):
    with pytest.raises(SystemExit):
        _parse(*argv)
    assert named in capsys.readouterr().err


def test_serve_and_the_module_take_the_same_options():
    def flags(parser):
        return {opt for action in parser._actions for opt in action.option_strings}

    serve = next(action for action in cli_parser()._actions
                 if isinstance(action, argparse._SubParsersAction)).choices["serve"]
    assert flags(emulator_parser()) <= flags(serve)
    assert flags(serve) - flags(emulator_parser()) <= {"--debug"}


def test_module_prints_url_and_accounts_and_stops_on_sigterm():
    proc = subprocess.Popen([*EMULATOR, "--products", "5", "--no-default-user",
                             "--user", "bob:builder", "--token-methods", "GET,POST"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "accounts" in lines[2] and "bob:builder" in lines[2]
        assert "alice" not in lines[2]
        token = requests.post(url + "/sso/oidc/token", timeout=30, data={
            "grant_type": "password", "client_id": "clientid", "username": "bob",
            "password": "builder"})
        assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
