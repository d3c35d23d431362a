# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""extract=True: tarballs unpacked safely next to them, once (emulator and local tarballs)."""
import io
import os
import tarfile
from pathlib import Path

import pytest

from astroquery_eso_ancillary.extract import UnsafeArchiveError, extract_tarball, folder_for

ESPRESSO = "ADP.2021-04-12T12:27:33.887"
TARBALL = "ADP.2021-04-12T12:27:33.903"  # its ANCILLARY.2DECHELLE.TAR file


def tar_bytes(members):
    """A tarball of (TarInfo-kwargs, data) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kwargs, data in members:
            info = tarfile.TarInfo(kwargs.pop("name"))
            for key, value in kwargs.items():
                setattr(info, key, value)
            info.size = len(data) if data is not None else 0
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


GOOD = tar_bytes([({"name": "ES_SOBF_1.fits"}, b"A" * 3000),
                  ({"name": "sub/ES_SOBF_2.fits"}, b"B" * 10),
                  ({"name": "sub/link", "type": tarfile.SYMTYPE, "linkname": "ES_SOBF_2.fits"},
                   None)])


def test_download_extracts_tarball_once(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    emu.file_overrides[TARBALL] = {"body": GOOD, "content_type": "application/x-tar"}
    dest = tmp_path / "dl"
    manifest = eso.download_ancillary(ESPRESSO, categories="ANCILLARY.2DECHELLE.TAR",
                                      destination=dest, extract=True, progress=False)
    row = manifest[0]
    assert row["status"] == "downloaded" and row["n_members"] == 3
    folder = row["extracted_to"]
    assert folder == str(folder_for(row["local_path"]))
    assert Path(folder, "ES_SOBF_1.fits").read_bytes() == b"A" * 3000
    assert os.readlink(os.path.join(folder, "sub", "link")) == "ES_SOBF_2.fits"
    assert Path(row["local_path"]).read_bytes() == GOOD  # the tarball is kept
    # A re-run: the file is there, the folder too: nothing unpacked again.
    marker = os.path.join(folder, "ES_SOBF_1.fits")
    os.utime(marker, (1, 1))
    again = eso.download_ancillary(ESPRESSO, categories="ANCILLARY.2DECHELLE.TAR",
                                   destination=dest, extract=True, progress=False)
    assert again["status"][0] == "skipped-existing"
    assert again["extracted_to"][0] == folder and again["n_members"][0] == 3
    assert os.stat(marker).st_mtime == 1
    # Without extract=True the columns stay empty.
    plain = eso.download_ancillary(ESPRESSO, categories="ANCILLARY.2DECHELLE.TAR",
                                   destination=tmp_path / "p", progress=False)
    assert plain["extracted_to"][0] == "" and plain["n_members"][0] == 0
    assert not os.path.exists(folder_for(plain["local_path"][0]))


def test_not_a_tarball_is_reported_not_raised(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    emu.file_overrides[TARBALL] = {"body": b"not a tarball " * 100}
    manifest = eso.download_ancillary(ESPRESSO, categories="ANCILLARY.2DECHELLE.TAR",
                                      destination=tmp_path / "dl", extract=True,
                                      progress=False)
    row = manifest[0]
    assert row["status"] == "downloaded" and "Not unpacked" in row["message"]
    assert row["extracted_to"] == ""


@pytest.mark.parametrize(("member", "why"), [
    ({"name": "../escape.txt"}, "outside"),
    ({"name": "/etc/evil.txt"}, "outside"),
    ({"name": "up", "type": tarfile.SYMTYPE, "linkname": "../../etc/passwd"}, "links outside"),
    ({"name": "abs", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "links outside"),
    ({"name": "hard", "type": tarfile.LNKTYPE, "linkname": "../x"}, "links outside"),
    ({"name": "dev", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, "device"),
    ({"name": "fifo", "type": tarfile.FIFOTYPE}, "FIFO"),
])
def test_unsafe_members_are_refused(tmp_path, member, why):
    path = tmp_path / "bad.tar"
    path.write_bytes(tar_bytes([({"name": "fine.txt"}, b"ok"),
                                (dict(member), b"x" if "type" not in member else None)]))
    with pytest.raises(UnsafeArchiveError, match=why):
        extract_tarball(path)
    # Nothing of it is left: no folder, no temporary folder, nothing outside.
    assert sorted(os.listdir(tmp_path)) == ["bad.tar"]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_unsafe_tarball_in_a_download_is_an_explained_row(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    emu.file_overrides[TARBALL] = {"body": tar_bytes([({"name": "../../x.txt"}, b"x")])}
    manifest = eso.download_ancillary(ESPRESSO, categories="ANCILLARY.2DECHELLE.TAR",
                                      destination=tmp_path / "dl", extract=True,
                                      progress=False)
    assert "Not unpacked" in manifest["message"][0] and "outside" in manifest["message"][0]
    assert not (tmp_path / "x.txt").exists()
