# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``eso-ancillary`` command, run for real in subprocesses against the emulator.

Every expected value comes from the emulator's generated archive
(``eso_archive.archive``), its served bytes (``eso_archive.file_bytes``) or
the Python API called with the same selection. Independent cases run as
concurrent subprocesses to keep the start-up cost (about a second each) low.
"""
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astroquery_eso_ancillary.demo import DEMO_PRODUCTS, DEMO_SEED

EXAMPLE1 = "ADP.2024-03-19T05:58:04.407"
EXAMPLE2 = "ADP.2021-04-12T12:27:33.887"
FILE_COLUMNS = ("archive_id", "eso_category", "extension", "original_filename",
                "access_estsize")
CLI = [sys.executable, "-m", "astroquery_eso_ancillary"]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """A clean environment: no ESO_* variables, an empty home (astropy config and
    cache), and no system keyring."""
    home = tmp_path_factory.mktemp("home")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ESO_", "XDG_"))}
    env.update(HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               COLUMNS="80")
    return env


def start(env, *args, cwd=None, stdin=None, command=None):
    return subprocess.Popen([*(command or CLI), *map(str, args)], env=env, cwd=cwd,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, stdin=None, timeout=180):
    out, err = proc.communicate(stdin, timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run(env, *args, **kwargs):
    stdin = kwargs.get("stdin")
    return finish(start(env, *args, **kwargs), stdin=stdin)


def run_all(env, commands, *, config=None):
    """Run several commands at once; ``commands`` maps a label to an argument list.

    Each gets its own home folder, hence its own astroquery cache: astroquery writes
    cache files in place, so concurrent processes sharing one can read a half-written
    file (a limitation of astroquery's cache, not of what these tests check).
    ``config`` maps a label to the text of that process's astroquery_eso_ancillary.cfg.
    """
    procs = {}
    for label, args in commands.items():
        home = Path(tempfile.mkdtemp(dir=env["HOME"]))
        if config and label in config:
            folder = home / ".astropy" / "config"
            folder.mkdir(parents=True)
            (folder / "astroquery_eso_ancillary.cfg").write_text(config[label])
        procs[label] = start({**env, "HOME": str(home)}, *args)
    return {label: finish(proc) for label, proc in procs.items()}


def assert_ok(result):
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def assert_one_line_error(result, code, *words):
    assert result.returncode == code, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("eso-ancillary"), lines
    for word in words:
        assert word in lines[0], (word, lines[0])


def file_rows(archive, product_id):
    return [{name: row[name] for name in FILE_COLUMNS} for row in archive.files_of(product_id)]


def rows_of(table):
    return [{name: (str(row[name]) if name != "access_estsize" else int(row[name]))
             for name in FILE_COLUMNS} for row in table]


def test_files_aligned_table_and_every_output_format(eso_archive, cli_env, tmp_path):
    url = eso_archive.url
    expected = file_rows(eso_archive.archive, EXAMPLE1)
    assert len(expected) == 6
    outputs = {fmt: tmp_path / f"files.{ext}" for fmt, ext in
               [("csv", "csv"), ("ecsv", "ecsv"), ("votable", "xml"), ("json", "json")]}
    commands = {"terminal": ["files", EXAMPLE1, "--archive", url]}
    for fmt, path in outputs.items():
        commands[fmt] = ["files", EXAMPLE1, "--archive", url, "--output", path]
    commands["stdout-csv"] = ["files", EXAMPLE1, "--archive", url, "--format", "csv",
                              "--columns", "archive_id", "--columns", "eso_category,extension"]
    commands["forced-format"] = ["files", EXAMPLE1, "--archive", url, "--format", "json",
                                 "--output", tmp_path / "files.txt"]
    results = run_all(cli_env, commands)
    for result in results.values():
        assert_ok(result)

    # The terminal form: every row and column, aligned under a dashed rule.
    lines = results["terminal"].stdout.rstrip("\n").splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.replace(" ", "")) == {"-"})
    assert "archive_id" in lines[0] and "eso_category" in lines[0]
    body = lines[rule + 1:]
    spans = [match.span() for match in re.finditer(r"-+", lines[rule])]
    names = [lines[0][a:b].strip() for a, b in spans]
    shown = [{name: line[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)}
             for line in body]
    assert [{name: row[name] for name in FILE_COLUMNS} for row in shown] == \
        [{name: str(value) for name, value in row.items()} for row in expected]
    # Aligned: the rule's gaps are blank in every line, and no column is cut.
    gaps = [i for i, char in enumerate(lines[rule]) if char == " "]
    assert len(gaps) >= len(FILE_COLUMNS) - 1
    for line in lines:
        assert len(line.rstrip()) <= len(lines[rule])
        assert all(i >= len(line) or line[i] == " " for i in gaps), line
    assert "..." not in results["terminal"].stdout

    for fmt, path in outputs.items():
        if fmt == "json":
            table = json.loads(path.read_text())
            assert [{name: row[name] for name in FILE_COLUMNS} for row in table] == expected
            continue
        table = Table.read(path, format={"csv": "ascii.csv", "ecsv": "ascii.ecsv",
                                         "votable": "votable"}[fmt])
        assert rows_of(table) == expected, fmt
    ecsv = Table.read(outputs["ecsv"], format="ascii.ecsv")
    assert str(ecsv["access_estsize"].unit) == "kbyte"

    stdout_table = Table.read(results["stdout-csv"].stdout, format="ascii.csv")
    assert stdout_table.colnames == ["archive_id", "eso_category", "extension"]
    assert list(stdout_table["archive_id"]) == [row["archive_id"] for row in expected]
    forced = json.loads((tmp_path / "files.txt").read_text())
    assert [row["archive_id"] for row in forced] == [row["archive_id"] for row in expected]


def test_query_options_reach_the_archive(eso_archive, cli_env, tmp_path):
    archive, url = eso_archive.archive, eso_archive.url
    # Example 2: fibre-A spectra only; 'ES_SFLA_*' must not match ES_SFLAB...
    expected2 = [row for row in file_rows(archive, EXAMPLE2)
                 if row["eso_category"] == "ANCILLARY.SPECTRUM"
                 and fnmatch.fnmatchcase(row["original_filename"], "ES_SFLA_*")]
    assert expected2
    # Example 3, counted.
    muse = {p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"}
    previews = [f for f in archive.files
                if f["product_id"] in muse and f["eso_category"] == "ANCILLARY.PREVIEW"]
    # Every selection option at once, around an NGC target observed with MUSE.
    ngc = next(p for p in archive.products
               if p["instrument_name"] == "MUSE" and p["target_name"].startswith("NGC"))
    selection = {"instruments": "MUSE", "extensions": "PNG",
                 "cone_ra": ngc["s_ra"], "cone_dec": ngc["s_dec"], "cone_radius": 1.0,
                 "column_filters": {"access_estsize": ">= 300"},
                 "obscore_filters": {"target_name": "like 'NGC%'"}, "top": 500}
    results = run_all(cli_env, {
        "example2": ["query", EXAMPLE2, "--archive", url, "--category", "ANCILLARY.SPECTRUM",
                     "--original-filename", "ES_SFLA_*", "--output", tmp_path / "ex2.json"],
        "example3": ["query", "--archive", url, "--collection", "MUSE",
                     "--category", "ANCILLARY.PREVIEW", "--count"],
        "top": ["query", "--archive", url, "--collection", "MUSE",
                "--category", "ANCILLARY.PREVIEW", "--top", "5", "--format", "ecsv"],
        "all": ["query", "--archive", url, "--instrument", "MUSE", "--extension", "PNG",
                "--cone", ngc["s_ra"], ngc["s_dec"], "1.0", "--filter", "access_estsize>=300",
                "--obscore-filter", "target_name=like 'NGC%'", "--top", "500",
                "--row-limit", "-1", "--output", tmp_path / "all.ecsv"],
    })
    for result in results.values():
        assert_ok(result)

    got2 = json.loads((tmp_path / "ex2.json").read_text())
    assert sorted(row["archive_id"] for row in got2) == \
        sorted(row["archive_id"] for row in expected2)
    assert int(results["example3"].stdout) == len(previews)
    top = Table.read(results["top"].stdout, format="ascii.ecsv")
    assert len(top) == 5 and set(top["eso_category"]) == {"ANCILLARY.PREVIEW"}
    assert set(top["archive_id"]) <= {f["archive_id"] for f in previews}

    got = Table.read(tmp_path / "all.ecsv", format="ascii.ecsv")
    eso_archive.eso.ROW_LIMIT = -1
    api = eso_archive.eso.query_ancillary(**selection)
    assert len(got) > 0
    assert sorted(got["archive_id"]) == sorted(api["archive_id"])
    centre = SkyCoord(ngc["s_ra"], ngc["s_dec"], unit="deg")
    for row in got:
        product = archive.product(str(row["product_id"]))
        assert row["extension"] == "PNG" and int(row["access_estsize"]) >= 300
        assert product["instrument_name"] == "MUSE"
        assert product["target_name"].startswith("NGC")
        assert centre.separation(SkyCoord(product["s_ra"], product["s_dec"],
                                          unit="deg")).deg < 1.1


def test_categories_with_the_environment_variable(eso_archive, cli_env):
    counts = eso_archive.archive.category_counts("MUSE")
    result = run({**cli_env, "ESO_ARCHIVE_URL": eso_archive.url},
                 "categories", "--collection", "MUSE", "--format", "json")
    assert_ok(result)
    rows = json.loads(result.stdout)
    got = {row["eso_category"]: row for row in rows}
    ancillary = {cat: n for cat, n in counts.items() if cat.startswith("ANCILLARY.")}
    assert set(got) == set(ancillary)
    count_column = next(name for name in rows[0] if name not in ("eso_category",)
                        and isinstance(rows[0][name], int)
                        and all(got[c][name] == n for c, n in ancillary.items()))
    assert count_column
    frequencies = [row[count_column] for row in rows]
    assert frequencies == sorted(frequencies, reverse=True)


def test_download_resume_skip_and_failures(eso_archive, cli_env, tmp_path):
    archive, url = eso_archive.archive, eso_archive.url
    dest = tmp_path / "dest"
    previews = [row["archive_id"] for row in archive.files_of(EXAMPLE1)
                if row["eso_category"] == "ANCILLARY.PREVIEW"]
    assert len(previews) == 3

    first = run(cli_env, "download", EXAMPLE1, "--category", "ANCILLARY.PREVIEW",
                "--archive", url, "--destination", dest, "--no-progress")
    assert_ok(first)
    manifest = Table.read(dest / "manifest.ecsv", format="ascii.ecsv")
    assert sorted(manifest["archive_id"]) == sorted(previews)
    assert set(manifest["status"]) == {"downloaded"}
    for row in manifest:
        data = Path(row["local_path"]).read_bytes()
        assert data == eso_archive.file_bytes(row["archive_id"])
        assert int(row["size"]) == len(data)
        assert row["archive_id"] in first.stdout
    assert "manifest" in first.stderr

    again = run(cli_env, "download", EXAMPLE1, "--category", "ANCILLARY.PREVIEW",
                "--archive", url, "--destination", dest, "--quiet")
    assert_ok(again)
    assert again.stdout == ""
    manifest = Table.read(dest / "manifest.ecsv", format="ascii.ecsv")
    assert set(manifest["status"]) == {"skipped-existing"}

    # A table written by 'query --output', with a proprietary file in it.
    secret = next(f for f in archive.files
                  if archive.is_proprietary(f["archive_id"])
                  and f["eso_category"].startswith("ANCILLARY."))
    selection = tmp_path / "selection.json"
    written = run(cli_env, "query", EXAMPLE1, secret["product_id"], "--archive", url,
                  "--category", "ANCILLARY.PREVIEW," + secret["eso_category"],
                  "--output", selection)
    assert_ok(written)
    chosen = {row["archive_id"] for row in json.loads(selection.read_text())}
    assert secret["archive_id"] in chosen and set(previews) <= chosen

    failed = run(cli_env, "download", "--from-table", selection, "--archive", url,
                 "--destination", dest, "--output", tmp_path / "manifest.csv")
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    manifest = Table.read(tmp_path / "manifest.csv", format="ascii.csv")
    assert set(manifest["archive_id"]) == chosen
    status = dict(zip(manifest["archive_id"], manifest["status"], strict=True))
    assert status[secret["archive_id"]] == "error"
    message = manifest["message"][list(manifest["archive_id"]).index(secret["archive_id"])]
    assert "login" in message.lower()
    assert all(status[aid] == "skipped-existing" for aid in previews)

    logged_in = run(cli_env, "download", "--from-table", selection, "--archive", url,
                    "--destination", dest, "--username", "alice", "--password-stdin",
                    stdin="wonderland\n")
    assert_ok(logged_in)
    assert "wonderland" not in logged_in.stdout + logged_in.stderr
    manifest = Table.read(dest / "manifest.ecsv", format="ascii.ecsv")
    row = manifest[list(manifest["archive_id"]).index(secret["archive_id"])]
    assert row["status"] == "downloaded"
    assert Path(row["local_path"]).read_bytes() == eso_archive.file_bytes(secret["archive_id"])
    assert "wonderland" not in (dest / "manifest.ecsv").read_text()


def test_login(eso_archive, cli_env):
    url = eso_archive.url
    good = start(cli_env, "login", "--username", "alice", "--password-stdin",
                 "--archive", url, stdin="")
    bad = start(cli_env, "login", "--username", "alice", "--password-stdin",
                "--archive", url, stdin="")
    good, bad = finish(good, "wonderland\n"), finish(bad, "not-the-password\n")
    assert_ok(good)
    assert "alice" in good.stdout
    assert "wonderland" not in good.stdout + good.stderr
    assert_one_line_error(bad, 1, "alice")
    assert "not-the-password" not in bad.stdout + bad.stderr


def test_bad_input_is_one_line_and_exit_code(eso_archive, cli_env, tmp_path):
    url = eso_archive.url
    results = run_all(cli_env, {
        "malformed id": ["files", "NOT-AN-ID", "--archive", url],
        "bad pattern": ["query", "--archive", url, "--category", "ANCILLARY.[PREVIEW"],
        "bad filter": ["query", "--archive", url, "--filter", "=3"],
        "unknown column": ["query", "--archive", url, "--filter", "no_such_column=3"],
        "bad extension": ["query", "--archive", url, "--collection", "MUSE",
                          "--output", tmp_path / "out.txt"],
        "bad from-table": ["download", "--from-table", tmp_path / "missing.ecsv",
                           "--archive", url],
        "nothing to download": ["download", "--archive", url],
        "unreachable": ["files", EXAMPLE1, "--archive", "http://127.0.0.1:9"],
        "debug": ["files", "NOT-AN-ID", "--archive", url, "--debug"],
        "argparse": ["query", "--no-such-option"],
        "injected name": ["query", "--archive", url, "--collection", "MUSE' OR '1'='1"],
        "injected value": ["query", "--archive", url, "--count",
                           "--filter", "original_filename=x' OR '1'='1"],
    }, config={"unreachable": "max_retries = 0\n"})  # the config file is read; no waiting
    assert_one_line_error(results["malformed id"], 2, "NOT-AN-ID")
    assert_one_line_error(results["bad pattern"], 2, "ANCILLARY.[PREVIEW")
    assert_one_line_error(results["bad filter"], 2, "=3")
    assert_one_line_error(results["unknown column"], 2, "no_such_column")
    assert_one_line_error(results["bad extension"], 2, "out.txt")
    assert_one_line_error(results["bad from-table"], 2, "missing.ecsv")
    assert_one_line_error(results["nothing to download"], 2)
    assert_one_line_error(results["unreachable"], 1, "127.0.0.1:9")
    assert not (tmp_path / "out.txt").exists()
    debug = results["debug"]
    assert debug.returncode == 2 and "Traceback" in debug.stderr and "NOT-AN-ID" in debug.stderr
    assert results["argparse"].returncode == 2
    assert_one_line_error(results["injected name"], 2, "MUSE' OR '1'='1")
    # A quoted value is only a value: no file has that name.
    assert_ok(results["injected value"])
    assert int(results["injected value"].stdout) == sum(
        f["original_filename"] == "x' OR '1'='1" for f in eso_archive.archive.files) == 0
    assert "--no-such-option" in results["argparse"].stderr
    # Nothing reached the archive for values the package refused.
    sent = " ".join(record.adql or "" for record in eso_archive.queries)
    assert eso_archive.queries and "NOT-AN-ID" not in sent and "[PREVIEW" not in sent


def test_serve_prints_its_url_first_and_stops_on_sigterm(cli_env):
    proc = start(cli_env, "serve", "--products", "20", "--seed", "3",
                 "--user", "bob:builder")
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/tap_obs/availability", timeout=30).status_code == 200
        # The added account, and the emulator's own one, can log in.
        for user, password in [("bob", "builder"), ("alice", "wonderland")]:
            token = requests.get(url + "/sso/oidc/token", timeout=30, params={
                "grant_type": "password", "username": user, "password": password,
                "client_id": "clientid", "client_secret": "clientSecret",
                "response_type": "id_token token"})
            assert token.status_code == 200 and token.json()["id_token"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_demo_with_the_installed_script(eso_archive, eso_archive_factory, cli_env, tmp_path):
    script = Path(sys.executable).parent / "eso-ancillary"
    assert script.exists()
    # An emulator with the demo's seed and size knows the demo's files and bytes.
    emu = eso_archive
    if (emu.seed, emu.n_products) != (DEMO_SEED, DEMO_PRODUCTS):
        emu = eso_archive_factory(seed=DEMO_SEED, products=DEMO_PRODUCTS)
    archive = emu.archive
    muse = {p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"}
    previews = {f["archive_id"] for f in archive.files
                if f["product_id"] in muse and f["eso_category"] == "ANCILLARY.PREVIEW"}

    result = run(cli_env, "demo", command=[str(script)], cwd=tmp_path)
    assert_ok(result)
    for call in ("Eso.get_product_files('ADP.2024-03-19T05:58:04.407')",
                 "Eso.query_ancillary('ADP.2021-04-12T12:27:33.887', "
                 "categories='ANCILLARY.SPECTRUM', original_filename='ES_SFLA_*')",
                 "Eso.query_ancillary(collections='MUSE', categories='ANCILLARY.PREVIEW')",
                 "Eso.download_ancillary(previews"):
        assert call in result.stdout
    dest = tmp_path / "eso-ancillary-demo"
    manifest = Table.read(dest / "manifest.ecsv", format="ascii.ecsv")
    assert set(manifest["archive_id"]) == previews
    # Proprietary previews fail first, then come after the demo's login; the final
    # manifest says the rest were already complete.
    assert set(manifest["status"]) <= {"downloaded", "skipped-existing"}
    assert any(archive.is_proprietary(aid) for aid in previews)
    assert "Eso.login(username='alice')" in result.stdout
    for row in manifest:
        path = Path(row["local_path"])
        if not path.is_absolute():
            path = tmp_path / path
        assert path.parent.resolve() == dest.resolve()
        assert path.read_bytes() == emu.file_bytes(row["archive_id"])


def test_cache_is_used_unless_no_cache(eso_archive, cli_env, tmp_path):
    env = {**cli_env, "HOME": str(tmp_path)}  # an empty astroquery cache
    args = ["files", EXAMPLE1, "--archive", eso_archive.url, "--format", "csv"]
    tap_requests = []
    outputs = []
    for extra in ([], [], ["--no-cache"]):
        before = len(eso_archive.requests)
        result = run(env, *args, *extra)
        assert_ok(result)
        outputs.append(result.stdout)
        tap_requests.append(sum(record.path.startswith("/tap_obs")
                                for record in eso_archive.requests[before:]))
    assert outputs[0] == outputs[1] == outputs[2]
    # First run fills the cache, the second reads it, --no-cache asks the archive again.
    assert tap_requests[0] > 0 and tap_requests[2] > 0
    assert tap_requests[1] == 0


def test_selecting_as_astronomers_do(eso_archive, cli_env, tmp_path):
    """Names in any case, the API's keywords as options, sky positions in text,
    counts to a file, and one-line exits for typos and for nothing found."""
    archive, url = eso_archive.archive, eso_archive.url
    unknown = "ADP.1999-01-01T00:00:00.000"
    product = archive.product(EXAMPLE1)
    centre = SkyCoord(product["s_ra"], product["s_dec"], unit="deg")
    ra, dec = centre.to_string("hmsdms", sep=":").split()
    results = run_all(cli_env, {
        "lower case": ["query", "--archive", url, "--collections", "muse",
                       "--categories", "ancillary.preview", "--count",
                       "--output", tmp_path / "count.txt"],
        "count table": ["query", "--archive", url, "--collection", "MUSE", "--count",
                        "--output", tmp_path / "count.ecsv"],
        "typo": ["query", "--archive", url, "--category", "ANCILLARY.PREVEIW"],
        "typo categories": ["categories", "--archive", url, "--instruments", "ESPRESO"],
        "unknown id": ["files", unknown, "--archive", url],
        "unknown id query": ["query", "--archive", url, "--dp-id", unknown],
        "unknown id download": ["download", unknown, "--archive", url,
                                "--destination", tmp_path / "dl"],
        "nothing in selection": ["query", "--archive", url, "--collection", "MUSE",
                                 "--original-filename", "NO_SUCH_FILE*"],
        "sexagesimal cone": ["query", "--archive", url, "--cone", ra, dec, "1arcmin",
                             "--columns", "archive_id", "--format", "ecsv"],
        "target": ["query", "--archive", url, "--target", centre.to_string("hmsdms"),
                   "--radius", "1arcmin", "--columns", "archive_id", "--format", "ecsv"],
        "categories in a cone": ["categories", "--archive", url, "--cone", ra, dec, "1arcmin",
                                 "--format", "json"],
        "product ids option": ["files", "--product-ids", f"{EXAMPLE1},{EXAMPLE2}",
                               "--categories", "ancillary.ccf", "--archive", url,
                               "--format", "ecsv"],
        "ecsv": ["query", EXAMPLE1, "--archive", url, "--output", tmp_path / "ex1.ecsv"],
        "bad cone": ["query", "--archive", url, "--cone", "03:33:36", "-36:08:25", "5kg"],
        "categories help": ["categories", "--help"],
    })
    eso = eso_archive.eso
    eso.ROW_LIMIT = -1
    assert_ok(results["lower case"])
    assert int((tmp_path / "count.txt").read_text()) == eso.query_ancillary(
        collections="MUSE", categories="ANCILLARY.PREVIEW", count_only=True) > 0
    assert_ok(results["count table"])
    assert list(Table.read(tmp_path / "count.ecsv")["count"]) == [
        eso.query_ancillary(collections="MUSE", count_only=True)]
    assert_one_line_error(results["typo"], 2, "Did you mean ANCILLARY.PREVIEW")
    assert_one_line_error(results["typo categories"], 2, "Did you mean ESPRESSO")
    for label in ("unknown id", "unknown id query", "unknown id download"):
        assert_one_line_error(results[label], 1, "nothing found", unknown, "not found")
        assert "nothing to do" not in results[label].stderr
    assert_one_line_error(results["nothing in selection"], 1, "nothing found")

    by_api = eso.query_ancillary(cone_ra=product["s_ra"], cone_dec=product["s_dec"],
                                 cone_radius=1 / 60, columns=["archive_id"])
    assert len(by_api) > 0
    for label in ("sexagesimal cone", "target"):
        assert_ok(results[label])
        got = Table.read(results[label].stdout, format="ascii.ecsv")
        assert list(got["archive_id"]) == [str(a) for a in by_api["archive_id"]], label
    assert_ok(results["categories in a cone"])
    rows = json.loads(results["categories in a cone"].stdout)
    expected = eso.list_ancillary_categories(coordinates=centre, radius="1arcmin")
    assert {r["eso_category"]: r["n_files"] for r in rows} == dict(
        zip(expected["eso_category"], expected["n_files"], strict=True))
    assert_ok(results["product ids option"])
    got = Table.read(results["product ids option"].stdout, format="ascii.ecsv")
    assert set(got["eso_category"]) == {"ANCILLARY.CCF"} and len(got) == sum(
        f["eso_category"] == "ANCILLARY.CCF" for f in archive.files_of(EXAMPLE2))
    assert_ok(results["ecsv"])
    text = (tmp_path / "ex1.ecsv").read_text()
    assert '"""' not in text and "string" in text and "object" not in text
    assert_one_line_error(results["bad cone"], 2, "--cone", "5kg")

    assert_ok(results["categories help"])
    helps = results["categories help"].stdout
    for option in ("--collection", "--collections", "--instrument", "--instruments",
                   "--product-id", "--product-ids", "--target", "--radius", "--cone",
                   "--output", "--format", "--columns", "--archive", "--no-cache"):
        assert option in helps, option
    from astroquery_eso_ancillary.cli import build_parser
    parser = build_parser()
    categories = parser._subparsers._group_actions[0].choices["categories"]
    undocumented = [a.option_strings for a in categories._actions if not a.help]
    assert undocumented == []
