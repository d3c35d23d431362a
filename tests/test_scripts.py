# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Download scripts (curl, wget, aria2c), run for real against the emulator."""
import os
import shutil
import subprocess

import keyring
import pytest
from astropy.table import Table

from astroquery_eso_ancillary.cli import main
from astroquery_eso_ancillary.filenames import safe_filename

HOWTO3 = "ADP.2016-06-01T14:07:30.134"
MUSE = "ADP.2024-03-19T05:58:04.407"
UNKNOWN = "ADP.1999-01-01T00:00:00.000"


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian: apt-get install "
                    f"{'aria2' if tool == 'aria2c' else tool}; see .ci/install-tools)")


def run_script(path, cwd, *, token=None, timeout=120):
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    if token is not None:
        env["ESO_TOKEN"] = token
    return subprocess.run(["sh", str(path)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def file_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/dataPortal/file/")]


def proprietary_id(emu):
    for row in emu.archive.files:  # an ancillary file: a product id means its ancillary files
        if row["eso_category"].startswith("ANCILLARY.") \
                and emu.archive.is_proprietary(row["archive_id"]):
            return row["archive_id"]
    pytest.fail("the emulator's archive has no proprietary file")


@pytest.mark.parametrize("tool", ["curl", "wget", "aria2c"])
def test_script_fetches_same_bytes_into_same_layout(eso_archive, tmp_path, tool):
    need(tool)
    emu, eso = eso_archive, eso_archive.eso
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = work / "get.sh"
    text = eso.download_script([HOWTO3, MUSE], tool=tool, path=script, destination="files",
                               layout="product", names="original")
    assert os.access(script, os.X_OK)
    result = run_script(script, work)
    assert result.returncode == 0, result.stderr
    # The same folders and names as download_ancillary with the same options.
    plan = eso.download_ancillary([HOWTO3, MUSE], destination=work / "files",
                                  layout="product", names="original", dry_run=True)
    assert set(plan["status"]) == {"to-skip"}
    for row in plan:
        with open(row["local_path"], "rb") as fh:
            assert fh.read() == emu.file_bytes(row["archive_id"]), row["archive_id"]
    assert not list((work / "files").rglob("*.part"))
    # Run again: everything is there, nothing is fetched.
    before = len(file_requests(emu))
    again = run_script(script, work)
    assert again.returncode == 0 and "already there" in again.stdout
    assert len(file_requests(emu)) == before
    assert text.count("\nfetch ") == len(plan)


@pytest.mark.parametrize("tool", ["curl", "wget"])
def test_script_resumes_a_partial_file(eso_archive, tmp_path, tool):
    need(tool)
    emu, eso = eso_archive, eso_archive.eso
    aid = "ADP.2016-06-01T14:07:30.135"  # a 541 kB FITS file
    script = tmp_path / "get.sh"
    eso.download_script(aid, tool=tool, path=script, destination="d")
    name = safe_filename(f"{aid}.fits")
    (tmp_path / "d").mkdir()
    data = emu.file_bytes(aid)
    (tmp_path / "d" / (name + ".part")).write_bytes(data[:200_000])
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / name).read_bytes() == data
    ranged = [r for r in file_requests(emu) if r.range]
    assert ranged and ranged[-1].range.startswith("bytes=200000-")


@pytest.mark.parametrize("tool", ["curl", "wget", "aria2c"])
def test_script_token_from_environment_never_in_script(eso_archive, tmp_path, monkeypatch,
                                                       tool):
    need(tool)
    emu, eso = eso_archive, eso_archive.eso
    secret = proprietary_id(emu)
    monkeypatch.setattr(keyring, "get_password", lambda service, name: "wonderland")
    eso.login(username="alice")
    token = emu.issue_token("alice")
    script = tmp_path / "get.sh"
    text = eso.download_script(secret, tool=tool, path=script)
    assert token not in text and "wonderland" not in text
    # Without the token the proprietary file fails (exit 1), and nothing is left
    # under its final name.
    denied = run_script(script, tmp_path)
    assert denied.returncode == 1
    assert "FAILED" in denied.stderr
    with_token = run_script(script, tmp_path, token=token)
    assert with_token.returncode == 0, with_token.stderr
    got = [p for p in tmp_path.iterdir() if p.name.startswith(safe_filename(secret))
           and not p.name.endswith(".part")]
    assert len(got) == 1 and got[0].read_bytes() == emu.file_bytes(secret)
    assert any(r.authorized for r in file_requests(emu))
    assert token not in with_token.stdout + with_token.stderr


def test_script_sends_no_token_to_other_hosts(eso_archive):
    eso = eso_archive.eso
    table = Table({"archive_id": ["ADP.2016-06-01T14:07:30.137"],
                   "access_url": ["http://127.0.0.2:9/dataPortal/file/x"],
                   "extension": ["PNG"]})
    text = eso.download_script(table, tool="curl")
    line, = [line for line in text.splitlines() if line.startswith("fetch ")]
    assert line.endswith(" 0")  # no token for a host that is not the archive's
    own = eso.download_script("ADP.2016-06-01T14:07:30.137", tool="curl")
    assert next(line for line in own.splitlines() if line.startswith("fetch ")).endswith(" 1")


def test_script_bad_tool_and_unknown_ids(eso_archive, tmp_path, capsys):
    eso = eso_archive.eso
    with pytest.raises(ValueError, match="tool must be one of 'curl', 'wget', 'aria2c'"):
        eso.download_script(HOWTO3, tool="lynx")
    with pytest.raises(ValueError, match="token_variable"):
        eso.download_script(HOWTO3, token_variable="ESO TOKEN; rm")
    text = eso.download_script([HOWTO3, UNKNOWN])
    assert f"# Left out, neither products nor files: {UNKNOWN}" in text


def test_cli_script(eso_archive, tmp_path, capsys):
    need("curl")
    emu = eso_archive
    script = tmp_path / "get.sh"
    code = main(["download", HOWTO3, "--archive", emu.url, "--script", str(script),
                 "--tool", "curl", "-d", "out"])
    err = capsys.readouterr().err
    assert code == 0 and "a curl script for 5 files" in err
    assert not file_requests(emu)
    result = run_script(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 5
    assert main(["download", UNKNOWN, "--archive", emu.url, "--script",
                 str(tmp_path / "x.sh")]) == 1
