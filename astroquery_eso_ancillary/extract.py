# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Unpacking downloaded tarballs (``ANCILLARY.2DECHELLE.TAR``, ``HARPSTAR`` ...).

A tarball ``X.tar`` is unpacked into the folder ``X`` next to it, safely: no
member may land outside that folder (absolute paths, ``..``), and links that
point outside it, device files and FIFOs are refused. Python's ``data``
extraction filter (Python 3.12, 3.11.4+) does this; where it is missing, the
same checks are made here before anything is written. A tarball is unpacked
into a temporary folder renamed when complete, so a re-run finds the folder and
does not unpack twice.
"""
import os
import shutil
import tarfile
from pathlib import Path

__all__ = ["UnsafeArchiveError", "extract_row", "extract_tarball", "is_tarball"]

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


class UnsafeArchiveError(Exception):
    """A tarball member would escape its folder or is a device, FIFO or outside link."""


def is_tarball(path, category=""):
    """Whether a downloaded file is a tarball to unpack (by category or name).

    Examples
    --------
    >>> is_tarball("x.tar"), is_tarball("x.fits", "ANCILLARY.HARPSTAR"), is_tarball("x.fits")
    (True, True, False)
    """
    name = str(path).lower()
    return name.endswith(_TAR_SUFFIXES) or str(category).upper().endswith("TAR")


def folder_for(path):
    """The folder a tarball is unpacked into: its name without the tar suffix.

    Examples
    --------
    >>> folder_for("/d/ADP.1.tar").name
    'ADP.1'
    """
    path = Path(path)
    name = path.name
    for suffix in _TAR_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return path.with_name(name[:-len(suffix)])
    return path.with_name(name + ".d")


def _check_member(member, root):
    target = os.path.realpath(os.path.join(root, member.name))
    if os.path.isabs(member.name) or not target.startswith(root + os.sep):
        raise UnsafeArchiveError(f"member {member.name!r} would be written outside {root}")
    if member.isdev() or member.isfifo():
        raise UnsafeArchiveError(f"member {member.name!r} is a device or FIFO")
    if member.issym() or member.islnk():
        base = root if member.islnk() else os.path.dirname(target)
        link = os.path.realpath(os.path.join(base, member.linkname))
        if os.path.isabs(member.linkname) or not (link == root
                                                  or link.startswith(root + os.sep)):
            raise UnsafeArchiveError(f"member {member.name!r} links outside the folder "
                                     f"({member.linkname!r})")


def extract_tarball(path, *, folder=None):
    """Unpack the tarball ``path`` into ``folder`` (default `folder_for`); return
    (folder, number of members). An existing folder is left alone (unpacked before).

    Raises
    ------
    UnsafeArchiveError
        A member is unsafe; nothing of the tarball is left on disk.
    tarfile.TarError
        The file is not a readable tarball.

    Examples
    --------
    >>> import io, tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with tarfile.open(d / "a.tar", "w") as tar:
    ...     info = tarfile.TarInfo("readme.txt"); info.size = 2
    ...     tar.addfile(info, io.BytesIO(b"hi"))
    >>> folder, n = extract_tarball(d / "a.tar")
    >>> folder.name, n, (folder / "readme.txt").read_text()
    ('a', 1, 'hi')
    """
    path = Path(path)
    folder = Path(folder) if folder is not None else folder_for(path)
    if folder.is_dir():
        with tarfile.open(path) as tar:
            return folder, len(tar.getmembers())
    temporary = folder.with_name(folder.name + ".extracting")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        with tarfile.open(path) as tar:
            members = tar.getmembers()
            root = os.path.realpath(temporary)
            for member in members:  # checked even with the filter: one clear error
                _check_member(member, root)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(temporary, filter="data")
            else:  # pragma: no cover - Python < 3.11.4: our checks above stand in
                tar.extractall(temporary)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    os.replace(temporary, folder)
    return folder, len(members)


def extract_row(row):
    """Unpack the tarball of one manifest row (a dict), filling ``extracted_to`` and
    ``n_members``; other rows are returned unchanged. Never raises for a bad tarball:
    the row's message says why it was not unpacked.

    Examples
    --------
    >>> extract_row({"status": "error", "local_path": ""})["status"]
    'error'
    """
    if row["status"] == "error" or not row["local_path"] \
            or not is_tarball(row["local_path"], row.get("eso_category", "")):
        return row
    row = dict(row)
    try:
        folder, count = extract_tarball(row["local_path"])
    except (UnsafeArchiveError, tarfile.TarError, OSError) as exc:
        why = f"Not unpacked: {exc}"
        row["message"] = f"{row['message']} {why}".strip()
        return row
    row["extracted_to"], row["n_members"] = str(folder), count
    return row
