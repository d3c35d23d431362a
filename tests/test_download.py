# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Eso.download_ancillary against the emulator: manifest, names, auth, executors, unzip."""
import gzip
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import keyring
import pytest
from astropy.table import Table
from astroquery import log
from folders import listing

from astroquery_eso_ancillary import conf
from astroquery_eso_ancillary.exceptions import LoginError
from astroquery_eso_ancillary.filenames import (
    contained_path,
    filename_from_disposition,
    safe_filename,
)


@pytest.fixture
def dest(tmp_path):
    """A download folder of its own (tmp_path also holds the fixture's cache)."""
    return tmp_path / "dl"


MUSE = "ADP.2024-03-19T05:58:04.407"
MUSE_PREVIEWS = ["ADP.2024-03-19T05:58:04.410", "ADP.2024-03-19T05:58:04.411",
                 "ADP.2024-03-19T05:58:04.412"]


def files_table(emu, archive_ids):
    """A product-files Table (as get_product_files returns) from the emulator's own rows."""
    rows = [emu.archive.file(a) for a in archive_ids]
    names = ["product_id", "archive_id", "eso_category", "extension", "original_filename",
             "access_url"]
    table = Table(rows=[[row[n] for n in names] for row in rows], names=names)
    table["access_url"] = [emu.download_url + a for a in archive_ids]
    return table


def file_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/dataPortal/file/")]


def public_ids(emu, n, *, skip=(), ancillary=False):
    out = []
    for row in emu.archive.files:
        aid = row["archive_id"]
        if ancillary and not row["eso_category"].startswith("ANCILLARY."):
            continue
        if aid not in skip and not emu.archive.is_proprietary(aid):
            out.append(aid)
        if len(out) == n:
            break
    return out


def proprietary_id(emu):
    for row in emu.archive.files:
        if emu.archive.is_proprietary(row["archive_id"]):
            return row["archive_id"]
    pytest.fail("the emulator's archive has no proprietary file")


def login(emu, monkeypatch, user="alice"):
    # astroquery's login() reads the password from the keyring (else a prompt).
    monkeypatch.setattr(keyring, "get_password", lambda service, name: "wonderland")
    emu.eso.login(username=user)
    assert emu.eso.authenticated()


def check_bytes(emu, manifest):
    for row in manifest:
        if row["status"] != "error":
            with open(row["local_path"], "rb") as fh:
                assert fh.read() == emu.file_bytes(row["archive_id"]), row["archive_id"]
            assert row["size"] == os.path.getsize(row["local_path"])


# -- file names ------------------------------------------------------------------------

@pytest.mark.parametrize(("proposed", "expected"), [
    ("ADP.2016-06-01T14:07:30.137.png", "ADP.2016-06-01T14_07_30.137.png"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\x.dll", "x.dll"),
    ("/etc/shadow", "shadow"),
    ("C:\\Users\\x\\evil.fits", "evil.fits"),
    ("a\x00b\x1fc\x7f.fits", "a_b_c_.fits"),
    ('what<>|?*".fits', "what______.fits"),
    ("..", "fallback.bin"),
    ("...", "fallback.bin"),
    ("", "fallback.bin"),
    ("/", "fallback.bin"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("com1.fits", "_com1.fits"),
    ("LPT9", "_LPT9"),
    ("console.fits", "console.fits"),
    ("trailing. . ", "trailing"),
    (".hidden", "hidden"),
])
def test_safe_filename(proposed, expected):
    assert safe_filename(proposed, fallback="fallback.bin") == expected


def test_safe_filename_length_keeps_extension():
    name = safe_filename("x" * 400 + ".fits")
    assert name.endswith(".fits")
    assert len(name.encode()) <= 240
    assert len(safe_filename("é" * 300).encode()) <= 240


@pytest.mark.parametrize(("header", "name"), [
    ('attachment; filename="ADP.1:2.fits"', "ADP.1:2.fits"),
    ("attachment; filename=plain.fits", "plain.fits"),
    ("attachment; filename*=UTF-8''%2E%2E%2Fx.fits", "../x.fits"),
    ('attachment; filename="a.fits"; filename*=UTF-8\'\'b.fits', "b.fits"),
    ("inline", None),
    ("", None),
])
def test_filename_from_disposition(header, name):
    assert filename_from_disposition(header) == name


def test_contained_path(tmp_path):
    assert contained_path(tmp_path, "a.fits") == (tmp_path / "a.fits").resolve()
    for bad in ("../a.fits", "/etc/passwd", "", "sub/a.fits", ".."):
        with pytest.raises(ValueError, match="outside"):
            contained_path(tmp_path, bad)
    (tmp_path / "link.fits").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="outside"):
        contained_path(tmp_path, "link.fits")


# -- the manifest ----------------------------------------------------------------------

def test_download_table_then_skip_then_overwrite(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    ids = [MUSE, *MUSE_PREVIEWS, "ADP.2024-03-19T05:58:04.409"]
    table = files_table(emu, ids)
    manifest = eso.download_ancillary(table, destination=dest, progress=False)
    assert list(manifest["archive_id"]) == ids
    assert set(manifest["status"]) == {"downloaded"}
    assert list(manifest["product_id"]) == [MUSE] * 5
    assert list(manifest["eso_category"]) == [emu.archive.file(a)["eso_category"] for a in ids]
    assert manifest["size"].unit == "byte"
    assert list(manifest["url"]) == [emu.download_url + a for a in ids]
    assert all(manifest["attempts"] == 1) and all(manifest["http_status"] == 200)
    check_bytes(emu, manifest)
    # Colons become '_', the rest is the server's name.
    names = sorted(listing(dest))
    assert names == sorted(emu.file_info(a)["name"].replace(":", "_") for a in ids)

    emu.reset()
    again = eso.download_ancillary(table, destination=dest, progress=False)
    assert set(again["status"]) == {"skipped-existing"}
    assert all(again["message"] != "")
    assert list(again["local_path"]) == list(manifest["local_path"])
    assert file_requests(emu) == []  # known names: nothing asked of the server

    forced = eso.download_ancillary(table, destination=dest, overwrite=True,
                                    progress=False)
    assert set(forced["status"]) == {"downloaded"}
    assert len(file_requests(emu)) == len(ids)
    check_bytes(emu, forced)
    assert sorted(listing(dest)) == names  # no .part or .lock left


def test_archive_ids_and_errors_keep_one_row_each(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    # Archive ids of (ancillary) files mean those files; an unknown id is an error row
    # (after the files), with no request for it.
    good = public_ids(emu, 3, ancillary=True)
    missing = "ADP.1999-01-01T00:00:00.000"
    with log.log_to_list() as records:
        manifest = eso.download_ancillary([good[0], missing, *good[1:], good[0]],
                                          destination=dest, progress=False)
    assert list(manifest["archive_id"]) == [*good, missing]
    row = manifest[3]
    assert row["status"] == "error" and row["http_status"] == 0
    assert "neither a product id nor the archive id" in row["message"]
    assert row["local_path"] == "" and row["size"] == 0
    assert not [r for r in file_requests(emu) if missing in r.path]
    check_bytes(emu, manifest)
    assert any("1 of 4 files failed" in r.message and r.levelname == "WARNING"
               for r in records)
    # Plain ids: names come from Content-Disposition (ext as served).
    assert os.path.basename(manifest["local_path"][0]) == \
        safe_filename(emu.file_info(good[0])["name"])
    # Complete files are found again through the server's name.
    again = eso.download_ancillary(good, destination=dest, progress=False)
    assert set(again["status"]) == {"skipped-existing"}


def test_product_ids_with_categories(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    manifest = eso.download_ancillary(MUSE, categories="ANCILLARY.PREVIEW",
                                      destination=dest, progress=False)
    assert list(manifest["archive_id"]) == MUSE_PREVIEWS
    assert set(manifest["eso_category"]) == {"ANCILLARY.PREVIEW"}
    assert set(manifest["status"]) == {"downloaded"}
    check_bytes(emu, manifest)


def test_table_with_categories_filters(eso_archive, dest):
    emu, eso = eso_archive, eso_archive.eso
    table = files_table(emu, [MUSE, *MUSE_PREVIEWS])
    manifest = eso.download_ancillary(table, categories=["ANCILLARY.PREV*"],
                                      destination=dest, progress=False)
    assert list(manifest["archive_id"]) == MUSE_PREVIEWS


def test_default_destination_is_visible_folder(eso_archive, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manifest = eso_archive.eso.download_ancillary(MUSE_PREVIEWS[0], progress=False)
    assert manifest["status"][0] == "downloaded"
    assert os.path.dirname(manifest["local_path"][0]) == str(tmp_path / conf.download_dir)


def test_empty_input_gives_empty_manifest(eso_archive, dest):
    manifest = eso_archive.eso.download_ancillary([], destination=dest, progress=False)
    assert len(manifest) == 0 and "status" in manifest.colnames


@pytest.mark.parametrize(("files", "kwargs", "error", "match"), [
    ("ADP.1/../x", {}, ValueError, "Invalid archive id"),
    ("a b", {}, ValueError, "Invalid archive id"),
    ([3], {}, TypeError, "must be a string"),
    (42, {}, TypeError, "files must be a Table"),
    (Table({"eso_category": ["ANCILLARY.PREVIEW"]}), {}, ValueError, "product_id"),
    (MUSE, {"layout": "tree"}, ValueError, "layout must be one of 'flat', 'product'"),
    (MUSE, {"names": "id"}, ValueError, "names must be one of"),
    (MUSE, {"dry_run": "yes"}, TypeError, "dry_run"),
    (MUSE, {"extract": 1}, TypeError, "extract"),
    (Table({"archive_id": ["ADP.1"], "access_url": ["file:///etc/passwd"]}), {}, ValueError,
     "not an http"),
    (MUSE, {"max_workers": 0}, ValueError, "max_workers"),
    (MUSE, {"timeout": -1}, ValueError, "timeout"),
    (MUSE, {"max_retries": -1}, ValueError, "max_retries"),
    (MUSE, {"overwrite": "yes"}, TypeError, "overwrite"),
    (MUSE, {"executor": object()}, TypeError, "executor"),
    (MUSE, {"executor": ThreadPoolExecutor(1), "max_workers": 2}, ValueError, "not both"),
    (MUSE, {"destination": 3}, TypeError, "destination"),
    (MUSE, {"categories": 3}, TypeError, "categories"),
])
def test_bad_input(eso_archive, dest, files, kwargs, error, match):
    kwargs.setdefault("destination", dest)
    with pytest.raises(error, match=match):
        eso_archive.eso.download_ancillary(files, progress=False, **kwargs)
    assert file_requests(eso_archive) == []


def test_destination_that_is_a_file(eso_archive, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        eso_archive.eso.download_ancillary(MUSE, destination=target, progress=False)


# -- authentication --------------------------------------------------------------------

def test_proprietary_needs_login(eso_archive, dest, monkeypatch):
    emu, eso = eso_archive, eso_archive.eso
    secret = proprietary_id(emu)
    manifest = eso.download_ancillary(secret, destination=dest, progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["http_status"] == 401
    assert "proprietary" in row["message"] and "Eso.login()" in row["message"]
    assert listing(dest) == []

    login(emu, monkeypatch)
    token = eso._auth_info.token
    with log.log_to_list() as records:
        manifest = eso.download_ancillary(secret, destination=dest, progress=False)
    assert manifest["status"][0] == "downloaded"
    check_bytes(emu, manifest)
    assert file_requests(emu)[-1].authorized
    text = "".join(str(v) for row in manifest for v in row) + "".join(r.message for r in records)
    assert token not in text

    # authenticated=False: the token is not sent even when logged in.
    manifest = eso.download_ancillary(secret, destination=dest / "b", authenticated=False,
                                      progress=False)
    assert manifest["http_status"][0] == 401


def test_authenticated_without_login(eso_archive, dest):
    with pytest.raises(LoginError, match="login"):
        eso_archive.eso.download_ancillary(MUSE_PREVIEWS, destination=dest,
                                           authenticated=True, progress=False)
    assert eso_archive.requests == []


def test_expired_token_fails_before_any_request(eso_archive, dest, monkeypatch):
    emu, eso = eso_archive, eso_archive.eso
    emu.token_lifetime = 30  # inside the 10-minute safety margin: counts as expired
    login(emu, monkeypatch)
    before = len(emu.requests)
    with pytest.raises(LoginError, match="expired"):
        eso.download_ancillary(MUSE, categories="ANCILLARY.*", destination=dest,
                               progress=False)
    assert len(emu.requests) == before
    assert not dest.exists() or listing(dest) == []


# -- executors, progress, unzip -----------------------------------------------------------

def test_given_thread_executor_is_left_running(eso_archive, dest):
    ids = public_ids(eso_archive, 4, ancillary=True)
    with ThreadPoolExecutor(2) as pool:
        manifest = eso_archive.eso.download_ancillary(ids, destination=dest,
                                                      executor=pool, progress=False)
        assert pool.submit(lambda: 7).result() == 7
    check_bytes(eso_archive, manifest)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [False, True])
def test_dask_executor(eso_archive, dest, processes):
    distributed = pytest.importorskip("distributed")
    ids = public_ids(eso_archive, 5, ancillary=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        manifest = eso_archive.eso.download_ancillary(
            ids, destination=dest, executor=client.get_executor(), progress=False)
    assert list(manifest["archive_id"]) == ids
    assert set(manifest["status"]) == {"downloaded"}
    check_bytes(eso_archive, manifest)


def test_progress_line(eso_archive, dest, capsys):
    ids = public_ids(eso_archive, 3, ancillary=True)
    eso_archive.eso.download_ancillary(ids, destination=dest, progress=True)
    out = capsys.readouterr().out
    assert "3/3 files" in out
    eso_archive.eso.download_ancillary(ids, destination=dest / "q", progress=False)
    assert "/3 files" not in capsys.readouterr().out
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        eso_archive.eso.download_ancillary(ids, destination=dest / "w")
    finally:
        log.setLevel(level)
    assert "/3 files" not in capsys.readouterr().out


def test_unzip_gzip_file(eso_archive, dest):
    emu = eso_archive
    aid = public_ids(emu, 1, skip={MUSE}, ancillary=True)[0]
    emu.gzip_ids.add(aid)
    served = emu.file_bytes(aid)
    manifest = emu.eso.download_ancillary(aid, destination=dest, unzip=True,
                                          progress=False)
    row = manifest[0]
    assert row["status"] == "downloaded"
    assert not row["local_path"].endswith(".gz")
    with open(row["local_path"], "rb") as fh:
        assert fh.read() == gzip.decompress(served)
    assert row["size"] == os.path.getsize(row["local_path"])
    assert listing(dest) == [os.path.basename(row["local_path"])]
    # The decompressed file counts as the complete file next time.
    again = emu.eso.download_ancillary(aid, destination=dest, unzip=True, progress=False)
    assert again["status"][0] == "skipped-existing"
    assert again["local_path"][0] == row["local_path"]


def test_unzip_compress_z_file(eso_archive, dest):
    # Raw progenitor files are served as .fits.Z (Unix compress), as ESO does.
    emu = eso_archive
    links = emu.eso.get_datalinks(MUSE, semantics="#progenitor")
    raw_id = links["access_url"][0].rsplit("/", 1)[-1]
    info = emu.file_info(raw_id)
    assert info["name"].endswith(".fits.Z")
    manifest = emu.eso.download_ancillary(raw_id, destination=dest, unzip=True,
                                          progress=False)
    row = manifest[0]
    assert row["status"] == "downloaded"
    assert row["local_path"].endswith(".fits")
    with open(row["local_path"], "rb") as fh:
        assert fh.read() == emu.plain_bytes(raw_id)
    assert len(emu.plain_bytes(raw_id)) == info["plain_size"]
    assert listing(dest) == [os.path.basename(row["local_path"])]
    # Without unzip the compressed bytes are kept as served.
    kept = emu.eso.download_ancillary(raw_id, destination=dest / "z", progress=False)
    with open(kept["local_path"][0], "rb") as fh:
        assert fh.read() == emu.file_bytes(raw_id)


def test_emulator_login_page_and_hostile_name(eso_archive, dest):
    emu = eso_archive
    page, odd = MUSE_PREVIEWS[:2]
    emu.file_overrides[page] = {"content_type": "text/html",
                                "body": b"<html><form>ESO login</form></html>"}
    emu.file_overrides[odd] = {"content_disposition": 'attachment; filename="../../x:y.png"'}
    manifest = emu.eso.download_ancillary(files_table(emu, [page, odd]), destination=dest,
                                          progress=False)
    assert manifest["status"][0] == "error" and "HTML" in manifest["message"][0]
    assert manifest["status"][1] == "downloaded"
    assert listing(dest) == ["x_y.png"]
    with open(dest / "x_y.png", "rb") as fh:
        assert fh.read() == emu.file_bytes(odd)
