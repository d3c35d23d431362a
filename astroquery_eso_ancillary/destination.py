# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
A download folder: what is in it, and the files the download engine keeps there.

`Destination` owns everything the engine writes besides the data itself:

- part files (``<archive_id>.part``), opened without following symbolic links;

and, in its own hidden folder ``.eso-ancillary/``:

- a record for each part file (``<archive_id>.json``) of the server's
  validator (a strong ETag or Last-Modified) and URL, so that a part file is
  continued only when the server proves it holds the start of the same file
  (no extended attributes needed: it works on every file system);
- per-file locks (``<archive_id>.lock``), waited for with a bound;
- the name index (``index.jsonl``): which archive id owns each file name and
  its size, so two archive ids never end at one path, and a re-run knows what
  is complete without asking the archive.

Names the engine keeps for itself (that folder, part files and
``manifest.ecsv``) are never given to a data file.
"""
import contextlib
import json
import os
import stat
import threading
import time
from pathlib import Path

from astroquery import log

from .filenames import safe_filename

try:  # POSIX only; elsewhere the per-file lock is skipped.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["ENGINE_DIR", "MANIFEST_NAME", "Destination", "LockTimeoutError", "is_reserved"]

#: The hidden folder of a download folder where the engine keeps its records.
ENGINE_DIR = ".eso-ancillary"
#: The name index, in `ENGINE_DIR`.
INDEX_NAME = "index.jsonl"
#: The manifest the command line writes into the download folder.
MANIFEST_NAME = "manifest.ecsv"
_SUFFIXES = (".part", ".rejected")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class LockTimeoutError(OSError):
    """Another process held a file's lock for longer than allowed."""


def is_reserved(name):
    """Whether ``name`` is one the engine keeps for itself (no data file may take it).

    Examples
    --------
    >>> is_reserved("ADP.1.part"), is_reserved("manifest.ecsv"), is_reserved("ADP.1.png")
    (True, True, False)
    """
    lower = name.lower()
    return lower in (ENGINE_DIR, MANIFEST_NAME) or lower.endswith(_SUFFIXES)


class Destination:
    """One download folder, shared by the worker threads of a run.

    Parameters
    ----------
    path : str or path
        The folder (absolute, existing).

    Examples
    --------
    >>> import tempfile
    >>> dest = Destination(tempfile.mkdtemp())
    >>> dest.part_path("ADP.2016-06-01T14:07:30.137").name
    'ADP.2016-06-01T14_07_30.137.part'
    """

    def __init__(self, path):
        # Resolved once: every data file is then this folder plus one checked name.
        self.path = Path(path).resolve()
        self.engine = self.path / ENGINE_DIR
        self._engine_ready = False
        self._exclusive = 0   # runs of this process holding the folder lock
        self._lock = threading.Lock()
        self._owners = {}     # name -> archive_id
        self._names = {}      # archive_id -> (name, size)
        self._denied = {}     # archive_id -> who was refused (HTTP 401): user name or ""
        self._offset = 0      # bytes of the index read so far
        self._load_index()

    _shared = {}
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, path):
        """This process's `Destination` of ``path`` (one per folder, shared by threads)."""
        key = str(Path(path).absolute())
        with cls._shared_lock:
            dest = cls._shared.get(key)
            if dest is None or not dest.path.is_dir():
                dest = cls._shared[key] = cls(key)
            return dest

    # -- paths -------------------------------------------------------------------------

    def _stem(self, archive_id):
        return safe_filename(archive_id)

    def part_path(self, archive_id):
        """Where the bytes of ``archive_id`` go until complete."""
        return self.path / (self._stem(archive_id) + ".part")

    def _engine_path(self, name):
        # Created on first use; a symbolic link planted in its place is refused.
        if not self._engine_ready:
            if self.engine.is_symlink():
                raise OSError(f"{self.engine} is a symbolic link; refused")
            self.engine.mkdir(exist_ok=True)
            self._engine_ready = True
        return self.engine / name

    def _record_path(self, archive_id):
        return self.engine / (self._stem(archive_id) + ".json")

    def final_path(self, name):
        """The path of a data file called ``name`` (inside the folder, not a reserved name).

        ``name`` must be one plain file name (as `~astroquery_eso_ancillary.filenames.
        safe_filename` makes them); anything else raises ValueError.
        """
        if is_reserved(name):
            raise ValueError(f"The server named the file {name!r}, a name this package keeps "
                             "for its own files; refused.")
        if (not name or name in (".", "..") or "/" in name or "\\" in name
                or os.sep in name or "\0" in name):
            raise ValueError(f"Refusing to write {name!r} outside {str(self.path)!r}.")
        return self.path / name

    # -- what is there -----------------------------------------------------------------

    @staticmethod
    def regular_file(path):
        """``path`` if it is a regular file (not a symbolic link), else None."""
        try:
            return path if stat.S_ISREG(os.lstat(path).st_mode) else None
        except OSError:
            return None

    def part_size(self, archive_id):
        """Bytes in the part file of ``archive_id`` (0 when none, or not a regular file)."""
        try:
            info = os.lstat(self.part_path(archive_id))
        except FileNotFoundError:
            return 0
        return info.st_size if stat.S_ISREG(info.st_mode) else 0

    def open_part(self, archive_id, *, append):
        """Open the part file for writing, never through a symbolic link."""
        part = self.part_path(archive_id)
        flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | (os.O_APPEND if append else os.O_TRUNC)
        try:
            fd = os.open(part, flags, 0o644)
        except OSError as exc:
            if part.is_symlink():
                raise OSError(exc.errno, f"{part.name} is a symbolic link; refused") from None
            raise
        return os.fdopen(fd, "ab" if append else "wb")

    def set_aside(self, archive_id):
        """Move a part file that failed a check to ``<archive_id>.rejected``; return that path."""
        rejected = self.path / (self._stem(archive_id) + ".rejected")
        os.replace(self.part_path(archive_id), rejected)
        self._record_path(archive_id).unlink(missing_ok=True)
        return rejected

    def forget_validator(self, archive_id):
        """Remove the record of a part file (it has become the complete file)."""
        self._record_path(archive_id).unlink(missing_ok=True)

    def discard_part(self, archive_id):
        """Remove a part file and its record."""
        self.part_path(archive_id).unlink(missing_ok=True)
        self._record_path(archive_id).unlink(missing_ok=True)

    # -- validator records ---------------------------------------------------------------

    def save_validator(self, archive_id, *, url, validator):
        """Record what the server said identifies the file a part file begins."""
        record = self._engine_path(self._stem(archive_id) + ".json")
        if not validator:
            record.unlink(missing_ok=True)
            return
        text = json.dumps({"archive_id": archive_id, "url": url, "validator": validator})
        tmp = record.with_name(record.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, record)

    def load_validator(self, archive_id, *, url):
        """The validator recorded for the part file (None: unknown, do not resume)."""
        try:
            record = json.loads(self._record_path(archive_id).read_text())
        except (OSError, ValueError):
            return None
        if record.get("archive_id") != archive_id or record.get("url") != url:
            return None
        value = record.get("validator")
        return value if isinstance(value, str) and value else None

    # -- locks -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def folder_lock(self, *, timeout, check=None):
        """Hold the lock of the whole folder for one run of this process.

        One lock per run instead of one per file. Another process downloading
        into the same folder waits (at most ``timeout`` seconds, then
        `LockTimeoutError`), then finds what the first completed.
        """
        with self._flock(self._engine_path("lock"), timeout=timeout, check=check,
                         remove=False, wait_note=True):
            with self._lock:
                self._load_index()  # what the previous holder completed
                self._exclusive += 1
            try:
                yield
            finally:
                with self._lock:
                    self._exclusive -= 1

    def lock(self, archive_id, *, timeout, check=None):
        """Hold the lock of one file (for runs whose workers are other processes)."""
        return self._flock(self._engine_path(self._stem(archive_id) + ".lock"),
                           timeout=timeout, check=check, remove=True)

    @staticmethod
    @contextlib.contextmanager
    def _flock(path, *, timeout, check, remove, wait_note=False):
        """An exclusive flock on ``path``; wait at most ``timeout`` seconds for another process.

        ``check()`` is called while waiting (it may raise to stop the wait,
        e.g. on Ctrl-C). Raises `LockTimeoutError` when the wait runs out.
        """
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        deadline = time.monotonic() + timeout
        noted = not wait_note
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if not noted:
                            log.info(f"Another process is downloading into {path.parent.parent}; "
                                     f"waiting for it (at most {timeout:.0f} s).")
                            noted = True
                        if time.monotonic() > deadline:
                            raise LockTimeoutError(
                                0, f"another process has held the lock {path.name} for more "
                                f"than {timeout:.0f} s (a hung process? If none is running, "
                                "remove the file)") from None
                        if check is not None:
                            check()
                        time.sleep(0.05)
                # The previous holder unlinks the file on release: if that happened while
                # we waited, our lock is on an orphan; take a fresh one.
                try:
                    current = os.stat(path).st_ino
                except FileNotFoundError:
                    current = None
            except BaseException:
                os.close(fd)
                raise
            if current == os.fstat(fd).st_ino:
                break
            os.close(fd)
        try:
            yield
        finally:
            if remove:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # -- the name index ----------------------------------------------------------------------

    def _load_index(self):
        # Append-only: read what other runs (or processes) added since the last look.
        # While this process holds the folder lock, nobody else writes: no need to look.
        if self._exclusive and self._offset:
            return
        index = self.engine / INDEX_NAME
        try:
            size = index.lstat().st_size
            if size < self._offset:  # the index was removed or rewritten: read it afresh
                self._owners, self._names, self._offset = {}, {}, 0
            if index.is_symlink() or size <= self._offset:
                return
            with open(index, "rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except FileNotFoundError:
            return
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits
        self._offset += len(complete)
        for line in complete.splitlines():
            try:
                entry = json.loads(line)
                if "denied" in entry:
                    self._denied[entry["archive_id"]] = str(entry["denied"])
                    continue
                name, archive_id, nbytes = entry["name"], entry["archive_id"], int(entry["size"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line (a killed run): that file is checked again
            self._denied.pop(archive_id, None)
            old = self._names.get(archive_id)
            if old is not None and old[0] != name:
                self._owners.pop(old[0], None)
            self._owners[name] = archive_id
            self._names[archive_id] = (name, nbytes)

    def owner(self, name):
        """The archive id that owns the file name ``name`` here (None: nobody yet)."""
        with self._lock:
            self._load_index()
            return self._owners.get(name)

    def complete(self, archive_id):
        """The path of ``archive_id``'s complete file when the index and the disk agree."""
        with self._lock:
            self._load_index()
            known = self._names.get(archive_id)
        if known is None:
            return None
        name, nbytes = known
        path = self.path / name
        try:
            info = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_size != nbytes:
            return None
        return path

    def denied(self, archive_id):
        """Who the archive refused ``archive_id`` to (HTTP 401) in an earlier run, or None.

        ``""`` means anonymous; otherwise the ESO user name. A re-run asks again
        only when the login is another.
        """
        with self._lock:
            self._load_index()
            return self._denied.get(archive_id)

    def deny(self, archive_id, who):
        """Record that the archive refused ``archive_id`` to ``who`` ("" when anonymous)."""
        self._append({"archive_id": archive_id, "denied": who},
                     lambda: self._denied.__setitem__(archive_id, who))

    def claim(self, name, archive_id, nbytes):
        """Record that ``name`` now holds the complete file ``archive_id`` (``nbytes`` long)."""

        def remember():
            old = self._names.get(archive_id)
            if old is not None and old[0] != name:
                self._owners.pop(old[0], None)
            self._owners[name] = archive_id
            self._names[archive_id] = (name, int(nbytes))
            self._denied.pop(archive_id, None)

        self._append({"name": name, "archive_id": archive_id, "size": int(nbytes)}, remember)

    def _append(self, entry, remember):
        line = json.dumps(entry) + "\n"
        with self._lock:
            self._load_index()
            fd = os.open(self._engine_path(INDEX_NAME),
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o644)
            data = line.encode("utf-8")
            try:
                os.write(fd, data)  # one write: appends of two processes do not interleave
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size == self._offset + len(data):  # only our line is new: no need to read
                self._offset = size
                remember()
            else:
                self._load_index()
