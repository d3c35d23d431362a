# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: a hostile or broken archive, through the emulator's opt-in hooks
(``emu.file_overrides``, ``emu.tap_override``).

Dangerous ``Content-Disposition`` names, an HTML login page answered with 200,
a Content-Length longer than the body, and TAP answers that are not VOTables:
nothing is ever written outside the destination, and each failure is a clear
error row (downloads) or a clear exception (queries), never a silent success.
"""
import os
import re

import pytest
from folders import listing

from astroquery_eso_ancillary import EsoQueryError, EsoServiceError, conf
from astroquery_eso_ancillary.destination import ENGINE_DIR

#: Characters Windows refuses in a file name (plus every control character).
WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}

DISPOSITIONS = [
    'attachment; filename="../../escape.fits"',
    'attachment; filename="../"',
    'attachment; filename="/etc/passwd"',
    'attachment; filename="/tmp/absolute.fits"',
    'attachment; filename="C:\\\\Windows\\\\system32\\\\evil.dll"',
    'attachment; filename="\\\\\\\\server\\\\share\\\\unc.fits"',
    "attachment; filename*=UTF-8''..%2F..%2Fencoded.fits",
    "attachment; filename*=UTF-8''%2Fetc%2Fshadow",
    'attachment; filename="nul\x00byte.fits"',
    "attachment; filename*=UTF-8''only%00%2e%2e",
    'attachment; filename="' + "L" * 5000 + '.fits"',
    'attachment; filename="' + "\u00e9" * 300 + '.fits"',
    'attachment; filename="CON"',
    'attachment; filename="NUL.txt"',
    'attachment; filename="com1.tar.gz"',
    'attachment; filename="Lpt9.fits"',
    'attachment; filename="a:b*c?d<e>f|g.fits"',
    'attachment; filename=".."',
    'attachment; filename="."',
    'attachment; filename="   "',
    'attachment; filename=".hidden"',
    'attachment; filename="trailing. . "',
    "attachment",
    "",
]


@pytest.fixture(autouse=True)
def quick_backoff():
    with conf.set_temp("backoff", 0.01):
        yield


def a_public_file(emu):
    for row in emu.archive.files:
        aid = row["archive_id"]
        if aid == row["product_id"]:  # a product id means the product's ancillary files
            continue
        if not emu.archive.is_proprietary(aid) and not emu.file_info(aid)["compression"]:
            return aid
    pytest.fail("no public uncompressed file in the emulator's archive")


def tree(root, *, engine=False):
    """Every file below ``root``, as relative paths (with the engine's records if ``engine``)."""
    found = []
    for folder, dirs, names in os.walk(root):
        if not engine and ENGINE_DIR in dirs:
            dirs.remove(ENGINE_DIR)
        found += [os.path.relpath(os.path.join(folder, n), root) for n in names]
    return sorted(found)


def check_windows_safe(name):
    assert name and not WINDOWS_BAD.search(name), name
    assert name.split(".")[0].rstrip(" ").upper() not in WINDOWS_RESERVED, name
    assert not name.endswith((".", " ")) and not name.startswith("."), name
    assert len(name.encode("utf-8")) <= 255, len(name.encode("utf-8"))


@pytest.mark.parametrize("disposition", DISPOSITIONS,
                         ids=[f"cd{i}" for i in range(len(DISPOSITIONS))])
def test_dangerous_file_names_stay_inside(eso_archive, tmp_path, disposition):
    emu = eso_archive
    aid = a_public_file(emu)
    emu.file_overrides[aid] = {"content_disposition": disposition or None}
    root = tmp_path / "root"
    dest = root / "inside" / "dest"
    manifest = emu.eso.download_ancillary(aid, destination=dest, max_retries=1,
                                          progress=False)
    row = manifest[0]
    # Everything written is directly inside the destination, nowhere else.
    assert all(p.startswith(os.path.join("inside", "dest") + os.sep)
               for p in tree(root, engine=True))
    assert tree(root) == [os.path.join("inside", "dest", n) for n in listing(dest)]
    if row["status"] == "error":
        assert row["message"] and listing(dest) == []
        return
    assert row["status"] == "downloaded", row["message"]
    assert listing(dest) == [os.path.basename(row["local_path"])]
    assert os.path.dirname(row["local_path"]) == str(dest)
    check_windows_safe(listing(dest)[0])
    with open(row["local_path"], "rb") as fh:
        assert fh.read() == emu.file_bytes(aid)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/xhtml+xml"])
def test_login_page_with_200_is_an_error_row(eso_archive, tmp_path, content_type):
    emu = eso_archive
    aid = a_public_file(emu)
    page = b"<!DOCTYPE html><html><body><form action='/login'>Log in</form></body></html>"
    emu.file_overrides[aid] = {"content_type": content_type, "body": page}
    dest = tmp_path / "dest"
    manifest = emu.eso.download_ancillary(aid, destination=dest, progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["http_status"] == 200
    assert "HTML" in row["message"] and row["local_path"] == ""
    assert listing(dest) == []


def test_content_length_longer_than_body_is_an_error_row(eso_archive, tmp_path):
    emu = eso_archive
    aid = a_public_file(emu)
    real = emu.file_bytes(aid)
    emu.file_overrides[aid] = {"content_length": len(real) + 4096}
    dest = tmp_path / "dest"
    manifest = emu.eso.download_ancillary(aid, destination=dest, max_retries=2, timeout=5,
                                          progress=False)
    row = manifest[0]
    assert row["status"] == "error" and row["attempts"] == 3
    assert str(len(real) + 4096) in row["message"]
    final = emu.file_info(aid)["name"].replace(":", "_")
    # Never under the final name: only the part file, kept for a later resume.
    assert final not in listing(dest)
    assert all(n.endswith(".part") for n in listing(dest))

    # Once the server is honest again, the same call completes the file correctly.
    emu.file_overrides.clear()
    manifest = emu.eso.download_ancillary(aid, destination=dest, progress=False)
    assert manifest["status"][0] in ("downloaded", "resumed")
    with open(dest / final, "rb") as fh:
        assert fh.read() == real
    assert listing(dest) == [final]


NOT_VOTABLES = {
    "html": (b"<!DOCTYPE html><html><body>Please log in</body></html>", "text/html"),
    "binary": (b"\x00\xff\xfe garbage \x01\x02", "application/x-votable+xml"),
    "other-xml": (b"<?xml version='1.0'?><error>maintenance</error>", "text/xml"),
    "empty": (b"", "application/x-votable+xml"),
    "truncated": (b"<?xml version='1.0'?><VOTABLE version='1.4'><RESOURCE type='results'>"
                  b"<TABLE><FIELD name='archive_id' datatype='char' arraysize='*'/><DATA>",
                  "application/x-votable+xml"),
    "json": (b'{"error": "service unavailable"}', "application/json"),
}


@pytest.mark.parametrize("kind", sorted(NOT_VOTABLES))
@pytest.mark.parametrize("warm", [False, True], ids=["schema", "query"])
def test_tap_answer_that_is_not_a_votable(eso_archive, kind, warm):
    emu, eso = eso_archive, eso_archive.eso
    product = emu.archive.products[0]["dp_id"]
    if warm:  # the schema is known (another product): the garbage hits the query itself
        eso.get_product_files(emu.archive.products[1]["dp_id"], datalink=False)
    body, ctype = NOT_VOTABLES[kind]
    emu.tap_override = {"body": body, "content_type": ctype}
    with pytest.raises((EsoServiceError, EsoQueryError)) as info:
        eso.get_product_files(product, datalink=False)
    message = str(info.value)
    assert emu.tap_url in message
    assert "VOTable" in message or "result" in message, message


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_broken_tap_answer_is_not_replayed_from_cache(eso_archive, kind):
    emu, eso = eso_archive, eso_archive.eso
    product = emu.archive.products[0]["dp_id"]
    body, ctype = NOT_VOTABLES[kind]
    emu.tap_override = {"body": body, "content_type": ctype}
    with pytest.raises(EsoServiceError):
        eso.get_product_files(product, datalink=False)
    emu.tap_override = None
    files = eso.get_product_files(product, datalink=False)
    assert sorted(files["archive_id"]) == sorted(f["archive_id"]
                                                 for f in emu.archive.files_of(product))
