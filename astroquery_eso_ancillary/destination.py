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
import threading
import time
from pathlib import Path

from .filenames import contained_path, safe_filename

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
        self.path = Path(path)
        self.engine = self.path / ENGINE_DIR
        self._lock = threading.Lock()
        self._owners = {}     # name -> archive_id
        self._names = {}      # archive_id -> (name, size)
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
        if not self.engine.is_dir() or self.engine.is_symlink():
            if self.engine.is_symlink():
                raise OSError(f"{self.engine} is a symbolic link; refused")
            self.engine.mkdir(exist_ok=True)
        return self.engine / name

    def _record_path(self, archive_id):
        return self.engine / (self._stem(archive_id) + ".json")

    def final_path(self, name):
        """The path of a data file called ``name`` (inside the folder, not a reserved name).

        Raises ValueError for a name that is reserved or would leave the folder.
        """
        if is_reserved(name):
            raise ValueError(f"The server named the file {name!r}, a name this package keeps "
                             "for its own files; refused.")
        return contained_path(self.path, name)

    # -- what is there -----------------------------------------------------------------

    @staticmethod
    def regular_file(path):
        """``path`` if it is a regular file (not a symbolic link), else None."""
        try:
            if path.is_symlink() or not path.is_file():
                return None
        except OSError:
            return None
        return path

    def part_size(self, archive_id):
        """Bytes in the part file of ``archive_id`` (0 when none)."""
        part = self.part_path(archive_id)
        try:
            return part.lstat().st_size if not part.is_symlink() else 0
        except FileNotFoundError:
            return 0

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
    def lock(self, archive_id, *, timeout, check=None):
        """Hold the lock of one file; wait at most ``timeout`` seconds for another process.

        ``check()`` is called while waiting (it may raise to stop the wait,
        e.g. on Ctrl-C). Raises `LockTimeoutError` when the wait runs out.
        """
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        path = self._engine_path(self._stem(archive_id) + ".lock")
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
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
            with contextlib.suppress(OSError):
                os.unlink(path)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # -- the name index ----------------------------------------------------------------------

    def _load_index(self):
        # Append-only: read what other runs (or processes) added since the last look.
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
                name, archive_id, nbytes = entry["name"], entry["archive_id"], int(entry["size"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged line (a killed run): that file is checked again
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
        path = self.regular_file(self.path / name)
        if path is None or path.stat().st_size != nbytes:
            return None
        return path

    def claim(self, name, archive_id, nbytes):
        """Record that ``name`` now holds the complete file ``archive_id`` (``nbytes`` long)."""
        line = json.dumps({"name": name, "archive_id": archive_id, "size": int(nbytes)}) + "\n"
        with self._lock:
            self._load_index()
            fd = os.open(self._engine_path(INDEX_NAME),
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))  # one write: appends do not interleave
            finally:
                os.close(fd)
            self._load_index()
