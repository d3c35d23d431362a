# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The download engine: many files, in parallel, resumable, with a manifest.

One `FileJob` describes one file; `download_file` (a plain top-level
function, so any `concurrent.futures.Executor` can run it, a dask
``Client.get_executor()`` included) fetches it and returns one manifest row;
`download_files` runs many jobs and shows one aggregate progress line.

How one file is fetched:

- Bytes go to ``<destination>/<archive_id>.part`` (name sanitised like every
  other) and are renamed to the server's file name only when complete and of
  the announced size, so a crash or a kill never leaves a truncated file under
  the final name.
- A part file left by an interrupted run (or by a dropped connection in this
  one) is continued with ``Range: bytes=N-``; a server that answers 200
  instead of 206 restarts it cleanly. The part file remembers the server's
  ETag (an extended attribute, where the file system has them), sent as
  ``If-Range``, so two versions of a file are never spliced together.
- Connection errors, timeouts, short bodies, 429 and 5xx are retried with
  exponential backoff (``Retry-After`` honoured), each retry resuming.
- A per-file lock (``fcntl.flock`` on ``<archive_id>.lock``) makes two
  processes downloading into one folder safe: the second waits, then finds the
  complete file and reports ``skipped-existing``.
- Each worker thread has its own `requests.Session` (connection pool), never
  astroquery's shared session, whose debug hook would log request headers.
"""
import contextlib
import dataclasses
import math
import os
import queue
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, wait
from numbers import Real
from pathlib import Path
from urllib.parse import quote, urlsplit

import astropy.units as u
import numpy as np
import requests
import urllib3
from astropy.io import fits
from astropy.table import Row, Table
from astropy.utils.console import human_file_size
from astroquery import log

from . import transport
from .destination import Destination, LockTimeoutError
from .filenames import filename_from_disposition, safe_filename
from .ids import check_archive_id
from .layout import place
from .progress import CancelledError, Progress
from .tables import cell
from .transport import Credentials, RetryPolicy
from .unzip import DecompressError, decompress_file, decompressed_name, is_compressed

__all__ = ["MANIFEST_COLUMNS", "PLAN_STATUSES", "STATUSES", "FileJob", "download_file",
           "download_files", "manifest_table", "plan_file"]

#: Every status a manifest row can have.
STATUSES = ("downloaded", "resumed", "skipped-existing", "error")

#: Every status a row of a dry run (``dry_run=True``) can have: what would happen.
PLAN_STATUSES = ("to-download", "to-resume", "to-skip", "error")

#: Manifest columns, in order.
MANIFEST_COLUMNS = ("archive_id", "product_id", "eso_category", "url", "local_path", "size",
                    "status", "message", "http_status", "attempts",
                    # Added later, at the end so that column positions stay stable:
                    "original_filename", "extracted_to", "n_members")

BLOCK_SIZE = 1 << 20

#: The message of a file not downloaded because the run was interrupted.
INTERRUPTED = "Interrupted: run the same download again to resume."
#: The message of a file not downloaded because the login ran out.
LOGIN_EXPIRED = "Login expired: log in (Eso.login()) and run again to resume."
# The row key of a file still to decompress (never a manifest column).
_PENDING_UNZIP = "_unzip"
# Files larger than this get their resume record before the first byte (see _attempt).
_RECORD_AT_ONCE = 64 << 10
# Names of FITS files that arrive uncompressed (a whole number of 2880-byte blocks).
_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fz")

# A name for files the server sends without Content-Disposition, by Content-Type.
_EXTENSIONS = {"application/fits": "fits", "image/fits": "fits", "image/png": "png",
               "image/jpeg": "jpg", "image/gif": "gif", "application/pdf": "pdf",
               "application/x-tar": "tar", "application/gzip": "gz",
               "application/x-gzip": "gz", "application/x-compress": "Z",
               "text/plain": "txt", "application/json": "json"}


@dataclasses.dataclass(frozen=True)
class DownloadOptions:
    """How every file of one download run is fetched: one frozen, picklable value.

    Parameters
    ----------
    destination : str
        The folder (absolute, existing) the files go to.
    overwrite, continuation, unzip : bool
        See `~astroquery_eso_ancillary.EsoClass.download_ancillary`.
    timeout : float
        Seconds for connecting and for each read.
    retry : `~astroquery_eso_ancillary.transport.RetryPolicy`
        Which failures are retried, how often and after what wait.
    credentials : `~astroquery_eso_ancillary.transport.Credentials` or None
        The login, sent only to the archive's own hosts. Never shown in the repr.
    verify : bool
        Verify the ``CHECKSUM``/``DATASUM`` of FITS files with astropy.
    stall_window, min_rate : float
        A transfer slower than ``min_rate`` bytes/s over ``stall_window``
        seconds is stopped (and resumed, as any lost connection).
    lock_timeout : float
        Seconds to wait for another process holding a file's lock.
    max_inflated_bytes : int
        Most bytes ``unzip`` writes for one file (a decompression bomb fails).
    block_size : int
        Bytes read and written at a time.

    Examples
    --------
    >>> from astroquery_eso_ancillary.transport import Credentials
    >>> options = DownloadOptions("/tmp", credentials=Credentials("s3cret", ["https://x"]))
    >>> "s3cret" in repr(options)
    False
    """

    destination: str
    overwrite: bool = False
    continuation: bool = True
    unzip: bool = False
    timeout: float = 120.0
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    credentials: Credentials | None = dataclasses.field(default=None, repr=False)
    verify: bool = False
    stall_window: float = 60.0
    min_rate: float = 1024.0
    lock_timeout: float = 600.0
    max_inflated_bytes: int = 64 << 30
    block_size: int = BLOCK_SIZE


@dataclasses.dataclass(frozen=True)
class FileJob:
    """One file to download, as plain picklable values.

    Parameters
    ----------
    archive_id : str
        The file's archive id.
    url : str
        Where to GET it.
    options : DownloadOptions
        How (shared by every job of a run).
    product_id, eso_category, extension : str
        Carried into the manifest; ``extension`` (e.g. ``"FITS"``) also names
        the file when the server sends no usable name.
    estsize_kb : float or None
        The archive's size estimate, in kB.

    Examples
    --------
    >>> job = FileJob("ADP.1", "http://x/ADP.1", DownloadOptions("/tmp"))
    >>> job.row()["status"]
    'error'
    """

    archive_id: str
    url: str
    options: DownloadOptions
    product_id: str = ""
    eso_category: str = ""
    extension: str = ""
    estsize_kb: float | None = None
    #: Sub-folder of the destination (``layout='product'``), "" for the destination itself.
    folder: str = ""
    #: The local file name chosen beforehand (``names='original'``); "" for the server's.
    local_name: str = ""
    original_filename: str = ""

    @property
    def directory(self):
        """The folder this file goes to."""
        return Path(self.options.destination) / self.folder if self.folder else \
            Path(self.options.destination)

    def row(self, **values):
        """A manifest row for this job (as a dict), defaults for what is not given."""
        row = {"archive_id": self.archive_id, "product_id": self.product_id,
               "eso_category": self.eso_category, "url": self.url, "local_path": "",
               "size": 0, "status": "error", "message": "", "http_status": 0,
               "attempts": 0, "original_filename": self.original_filename,
               "extracted_to": "", "n_members": 0}
        row.update(values)
        return row


# -- one file ----------------------------------------------------------------------------

# Failures of the transfer (worth a retry), as opposed to local I/O errors.
_NETWORK_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError,
                   TimeoutError)


class _RetryError(Exception):
    """This attempt failed in a way worth retrying (after ``wait`` seconds)."""

    def __init__(self, message, *, status=0, wait=None, count=True):
        super().__init__(message)
        self.message = message
        self.status = status
        self.wait = wait
        self.count = count


class _FailError(Exception):
    """This file cannot be downloaded; do not retry."""

    def __init__(self, message, *, status=0):
        super().__init__(message)
        self.message = message
        self.status = status


def _describe(exc):
    # Name the failure without the exception's text: requests texts can carry URLs
    # and, for some errors, request details. The root cause's class is enough.
    names = [type(exc).__name__]
    cause = exc.__cause__ or exc.__context__
    seen = 0
    while cause is not None and seen < 5:
        names.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
        seen += 1
    text = names[0] if len(names) == 1 else f"{names[0]} ({names[-1]})"
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, requests.RequestException):
        text += f": {exc.strerror}"
    return text


def _content_range(value):
    """Parse ``bytes START-END/TOTAL`` into (start, total); total None when ``*``."""
    try:
        unit, _, spec = value.strip().partition(" ")
        span, _, total = spec.partition("/")
        start = int(span.split("-")[0])
        if unit.lower() != "bytes":
            return None
        return start, (None if total.strip() == "*" else int(total))
    except (AttributeError, ValueError):
        return None


def _body(response, block_size):
    """Yield the body as it arrives, so a dropped connection loses nothing received.

    ``iter_content`` asks for whole blocks and discards a partly filled one
    when the connection breaks; ``read1`` returns whatever has arrived.
    """
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    read1 = getattr(response.raw, "read1", None)
    if encoding not in ("", "identity") or read1 is None:  # urllib3 < 2, or encoded anyway
        # Small reads: urllib3 1.26 hands over nothing of a block cut short.
        yield from response.iter_content(chunk_size=min(block_size, 16384))
        return
    while chunk := read1(block_size):
        yield chunk


def _file_name(job, response):
    """The local name of the file (sanitised) and the extension it would have by type."""
    extension = (job.extension or "").lower()
    if not extension:
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        extension = _EXTENSIONS.get(ctype, "")
    if job.local_name:  # names='original': chosen before the request
        return job.local_name, extension
    proposed = filename_from_disposition(response.headers.get("Content-Disposition"))
    name = safe_filename(proposed, fallback=None) if proposed else ""
    if name:
        return name, extension
    return (safe_filename(f"{job.archive_id}.{extension}" if extension else job.archive_id),
            extension)


def _existing(job, final):
    """The complete local file standing for ``final`` (itself or its decompressed form)."""
    if Destination.regular_file(final):
        return final
    if job.options.unzip and is_compressed(final.name):
        plain = Destination.regular_file(final.with_name(decompressed_name(final.name)))
        if plain is not None:
            return plain
    return None


def _upstream_copy(job, final, proposed):
    """The file astroquery's ``retrieve_data`` wrote for ``final``, if any.

    It keeps the server's spelling of the name (``ADP.2016-06-01T14:07:30.137.png``,
    ``:`` included) where this package writes ``_``: such a file counts as there.
    """
    if not proposed or job.local_name or proposed == final.name \
            or safe_filename(proposed, fallback=None) != final.name \
            or "/" in proposed or "\\" in proposed or proposed.startswith("."):
        return None
    return _existing(job, final.with_name(proposed))


def _expected_name(job):
    # What ESO names a file (<archive_id>.<ext>), known before any request.
    if job.local_name:
        return job.local_name
    if not job.extension:
        return None
    return safe_filename(f"{job.archive_id}.{job.extension.lower()}")


def _upstream_name(job):
    # retrieve_data's spelling of _expected_name: the server's name, ':' kept.
    if job.local_name or not job.extension:
        return None
    return f"{job.archive_id}.{job.extension.lower()}"


def _http_failure(job, response, *, authorized):
    status = response.status_code
    if status == 401:
        if authorized:
            why = ("HTTP 401: access denied although logged in: the file is proprietary to "
                   "a programme your ESO account cannot access, or the login has expired "
                   "(call Eso.login() again).")
        elif job.options.credentials is not None:
            why = (f"HTTP 401: the file is proprietary, and {transport.origin(job.url)} is not "
                   "one of the archive's own hosts, so your login was not sent there (name "
                   "it in conf.trusted_hosts if you trust it).")
        else:
            why = ("HTTP 401: the file is proprietary; log in with Eso.login() first "
                   "(then download_ancillary sends your token).")
        return _FailError(why, status=status)
    if status == 403:
        return _FailError("HTTP 403: access to this file is forbidden for your account.",
                          status=status)
    if status == 404:
        return _FailError("HTTP 404: the archive has no file with this id.", status=status)
    if job.options.retry.retries_status(status):
        return _RetryError(f"HTTP {status} from the server.", status=status,
                           wait=transport.retry_after(response))
    return _FailError(f"HTTP {status}: unexpected answer from the server.", status=status)


def _strong_validator(response):
    """The response's validator if it can guard a byte range (strong ETag, Last-Modified)."""
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified") or None


def _size_cap(job):
    """Most bytes accepted without a Content-Length (None: no estimate to go by)."""
    try:
        estimate = float(job.estsize_kb) * 1024
    except (TypeError, ValueError):
        return None
    if not math.isfinite(estimate) or estimate < 0:
        return None
    # ESO patches FITS headers at download time, so sizes differ a little from the
    # estimate; a body three times as long (and 32 MiB more) is not that.
    return int(max(3 * estimate, estimate + (32 << 20)))


def _check_cancel(progress):
    if progress is not None:
        progress(0)


def _pause(seconds, progress):
    """Sleep ``seconds``, waking every 0.1 s to see whether the run was interrupted."""
    deadline = time.monotonic() + seconds
    while True:
        _check_cancel(progress)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.1))


def _fits_problem(path, name, *, verify):
    """Why a FITS file is not whole (None when it is, or is no FITS file)."""
    if not name.lower().endswith(_FITS_SUFFIXES):
        return None
    size = path.stat().st_size
    if size % 2880:
        return (f"{size} bytes is not a whole number of 2880-byte FITS blocks: the file is "
                "incomplete or not FITS")
    if not verify:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # Opening every HDU with checksum=True checks CHECKSUM and DATASUM on the raw
            # bytes (memory-mapped: a 2 GB weight map is not read into memory).
            with fits.open(path, checksum=True, lazy_load_hdus=False):
                pass
        except (OSError, ValueError, TypeError) as exc:
            return f"astropy.io.fits cannot read it ({type(exc).__name__})"
    bad = [str(w.message) for w in caught if "checksum" in str(w.message).lower()
           or "datasum" in str(w.message).lower()]
    return f"CHECKSUM/DATASUM verification failed: {bad[0]}" if bad else None


def _claimable(dest, job, name, response_ext):
    """The name this file may take: the server's, unless another archive id owns it."""
    owner = dest.owner(name)
    if owner is None or owner == job.archive_id:
        return name
    # Two archive ids, one name: this one falls back to ESO's own spelling.
    alternative = safe_filename(f"{job.archive_id}.{response_ext}" if response_ext
                                else job.archive_id)
    if dest.owner(alternative) not in (None, job.archive_id):
        raise _FailError(f"The server named the file {name!r}, already the name of "
                         f"{owner} in this folder; not overwritten.")
    return alternative


def _attempt(job, dest, progress):
    """One request: (final path, resumed?, HTTP status), or _RetryError/_FailError/_SkipError."""
    options = job.options
    credentials = options.credentials
    if credentials is not None and credentials.expired() and not credentials.renew():
        raise _FailError(LOGIN_EXPIRED)
    offset = dest.part_size(job.archive_id)
    validator = dest.load_validator(job.archive_id, url=job.url) if offset else None
    if offset and not validator:
        # Nothing proves the part file is the start of the file the server has now.
        dest.discard_part(job.archive_id)
        offset = 0
    headers = transport.request_headers(job.url, credentials)
    authorized = bool(headers)
    if offset:
        headers["Range"] = f"bytes={offset}-"
        headers["If-Range"] = validator  # a changed file comes back whole (200)
    _check_cancel(progress)  # no request starts after an interrupt
    with transport.thread_session().get(job.url, headers=headers, stream=True,
                                        timeout=(options.timeout, options.timeout)) as response:
        del headers  # the token stays out of tracebacks that show locals
        status = response.status_code
        if status == 416 and offset:
            # The part file is not a prefix the server can continue: start over.
            dest.discard_part(job.archive_id)
            raise _RetryError("HTTP 416: the partial file could not be continued; restarting.",
                              status=status, wait=0, count=False)
        if status == 401 and authorized and credentials.renew():
            raise _RetryError("HTTP 401: the login was renewed; trying again.", status=status,
                              wait=0, count=False)
        if status not in (200, 206):
            raise _http_failure(job, response, authorized=authorized)
        name, extension = _file_name(job, response)
        try:
            name = _claimable(dest, job, name, extension)
            if (dest.path / name).is_symlink():
                raise _FailError(f"{name} in the destination is a symbolic link; it is not "
                                 "followed or replaced.", status=status)
            final = dest.final_path(name)
        except ValueError as exc:
            raise _FailError(str(exc), status=status) from None
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype in ("text/html", "application/xhtml+xml") \
                and not name.lower().endswith((".html", ".htm")):
            raise _FailError(f"HTTP {status} but the server sent an HTML page ({ctype}) instead of "
                             f"the file {name} (a login or error page?); nothing was saved.",
                             status=status)
        length = response.headers.get("Content-Length")
        length = int(length) if length is not None and length.isdigit() else None
        total = None
        if status == 206:
            spec = _content_range(response.headers.get("Content-Range", ""))
            if spec is None or spec[0] != offset:
                dest.discard_part(job.archive_id)
                raise _RetryError("The server answered a Range request with the wrong piece; "
                                  "restarting.", status=status, wait=0)
            if _strong_validator(response) != validator:
                # The server ignored If-Range, or cannot show it is the same file.
                dest.discard_part(job.archive_id)
                raise _RetryError("The server could not show the file is the one the partial "
                                  "download began; restarting.", status=status, wait=0,
                                  count=False)
            total = spec[1]
            append = True
        else:
            if offset:
                log.debug(f"{job.archive_id}: the server sent the whole file; restarting.")
            offset = 0
            append = False
            total = length
        if total is None and length is not None:
            total = offset + length
        if not options.overwrite:
            proposed = filename_from_disposition(response.headers.get("Content-Disposition"))
            existing = _existing(job, final) or _upstream_copy(job, final, proposed)
            upstream = existing is not None and existing.name == proposed != final.name
            if existing is not None and ((existing != final and not upstream) or total is None
                                         or existing.stat().st_size == total):
                dest.discard_part(job.archive_id)
                if existing == final or upstream:  # next time: known without a request
                    dest.claim(existing.name, job.archive_id, existing.stat().st_size)
                raise _SkipError(existing)
        cap = total if total is not None else _size_cap(job)
        received = offset
        # A small file's record is written only if its transfer breaks (two file
        # operations fewer per file; a killed run fetches at most 64 KiB again); a larger
        # one's before the first byte, so that even a kill leaves it resumable.
        fresh_validator = None if append else _strong_validator(response)
        eager = fresh_validator is not None and (total is None or total > _RECORD_AT_ONCE)
        if eager:
            dest.save_validator(job.archive_id, url=job.url, validator=fresh_validator)
        out = dest.open_part(job.archive_id, append=append)
        try:
            window_start, window_bytes = time.monotonic(), 0
            try:
                for chunk in _body(response, options.block_size):
                    out.write(chunk)
                    received += len(chunk)
                    window_bytes += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
                    if cap is not None and received > cap:
                        break
                    now = time.monotonic()
                    if now - window_start >= options.stall_window:
                        if window_bytes < options.min_rate * (now - window_start):
                            raise _RetryError(
                                f"Stalled: {window_bytes} bytes in the last "
                                f"{now - window_start:.0f} s (below {options.min_rate} bytes/s)"
                                f"; {received} of {total if total is not None else '?'} "
                                "bytes kept to resume.", status=status)
                        window_start, window_bytes = now, 0
            except _NETWORK_ERRORS as exc:
                raise _RetryError(f"Connection lost after {received} of "
                                  f"{total if total is not None else '?'} bytes "
                                  f"({_describe(exc)}).", status=status) from None
        except BaseException:
            out.close()
            if fresh_validator is not None and not eager and received:
                dest.save_validator(job.archive_id, url=job.url, validator=fresh_validator)
            raise
        out.close()
    if cap is not None and received > cap:
        dest.discard_part(job.archive_id)
        why = (f"the server sent more than its Content-Length ({total} bytes)" if total is not None
               else f"the server sent more than {cap} bytes for a file the archive estimates "
                    f"at {job.estsize_kb} kB")
        raise _FailError(f"Cut: {why}; nothing was kept.", status=status)
    if total is not None and received != total:
        raise _RetryError(f"Received {received} bytes where {total} were announced.",
                          status=status)
    floor = _size_cap(job) and float(job.estsize_kb) * 1024 / 2
    if total is None and floor and received < floor - 65536:
        # No length announced and far below the archive's estimate: the connection
        # most likely ended early.
        raise _RetryError(f"The connection ended after {received} bytes with no length "
                          f"announced, for a file the archive estimates at {job.estsize_kb} "
                          "kB: the file seems cut short.", status=status)
    problem = _fits_problem(dest.part_path(job.archive_id), name, verify=options.verify)
    if problem:
        kept = dest.set_aside(job.archive_id)
        raise _FailError(f"Not a complete FITS file: {problem}. The bytes are kept aside as "
                         f"{kept.name}.", status=status)
    os.replace(dest.part_path(job.archive_id), final)
    if append or eager:
        dest.forget_validator(job.archive_id)
    dest.claim(final.name, job.archive_id, received)
    return final, status == 206, status


class _SkipError(Exception):
    def __init__(self, path):
        super().__init__(str(path))
        self.path = path


def _interrupted(job):
    return job.row(message=INTERRUPTED)


def download_file(job, progress=None, *, destination=None):
    """Download one file; return its manifest row as a dict. Never raises for HTTP or I/O.

    Top-level and fed plain values, so any executor can run it, including
    one that pickles it to another process or machine.

    Parameters
    ----------
    job : FileJob
    progress : callable, optional
        Called with the number of bytes of each block received (from the
        worker thread), and with 0 while waiting. It may raise
        `CancelledError` to stop the download, leaving the part file to resume.
    destination : `~astroquery_eso_ancillary.destination.Destination`, optional
        The folder's state, shared by the worker threads of one run whose
        caller holds its `~astroquery_eso_ancillary.destination.Destination.folder_lock`.
        Default: this process's one for ``job.options.destination``, with a
        lock per file (for executors whose workers are other processes).

    Returns
    -------
    dict
        Keys of `MANIFEST_COLUMNS`.

    Examples
    --------
    >>> import tempfile
    >>> options = DownloadOptions(tempfile.mkdtemp(), retry=RetryPolicy(retries=0))
    >>> job = FileJob("ADP.1", "http://127.0.0.1:9/none", options)
    >>> download_file(job)["status"]
    'error'
    """
    if destination is None and job.folder:
        # layout='product': each product's folder is created when its first file comes.
        try:
            job.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return job.row(message=f"Local file error in {job.directory}: {_describe(exc)}")
    dest = destination or Destination.shared(job.directory)
    try:
        if destination is not None:  # the caller holds the folder's lock for the run
            row = _download_locked(job, dest, progress)
        else:
            with dest.lock(job.archive_id, timeout=job.options.lock_timeout,
                           check=lambda: _check_cancel(progress)):
                row = _download_locked(job, dest, progress)
    except CancelledError:
        raise
    except LockTimeoutError as exc:
        return job.row(message=f"Not downloaded: {exc.strerror}.")
    except OSError as exc:
        return job.row(message=f"Local file error in {dest.path}: {_describe(exc)}")
    credentials = job.options.credentials
    if credentials is not None and not credentials.allows(job.url) and row["status"] != "error":
        note = (f"From {transport.origin(job.url)}, not one of the archive's own hosts: your "
                "login was not sent there.")
        row["message"] = f"{row['message']} {note}".strip()
    return row


def _unzipped(job, row, path):
    """Mark a downloaded (or found) file for decompression when unzip=True.

    Decompression runs after the transfers (`_decompress_pending`), so that a
    slow decoder never holds up the download threads.
    """
    if job.options.unzip and is_compressed(path.name):
        row[_PENDING_UNZIP] = str(path)
    return row


def _decompress(job, row):
    """Decompress the file a row marks (see `_unzipped`); update the row."""
    path = Path(row.pop(_PENDING_UNZIP))
    try:
        plain = decompress_file(path, max_bytes=job.options.max_inflated_bytes)
    except DecompressError as exc:
        row.update(status="error", message=f"Downloaded, but not decompressed: {exc}")
    else:
        row.update(local_path=str(plain), size=plain.stat().st_size)
    return row


def _identity(job):
    """Who the archive sees on this job's request: the ESO user name, or "" (anonymous)."""
    credentials = job.options.credentials
    if credentials is None or not credentials.allows(job.url):
        return ""
    return credentials.identity


def _download_locked(job, dest, progress):
    options = job.options
    refused = dest.denied(job.archive_id)
    if refused is not None and refused == _identity(job) and not options.overwrite:
        # Asked before with the same login and refused: not worth a request per file.
        who = f"user {refused}" if refused else "anonymous users"
        return job.row(http_status=401, message=(
            f"HTTP 401 in an earlier run (to {who}): the file is proprietary. Log in (or "
            "with another account) and run again to try it; overwrite=True asks anyway."))
    if not options.overwrite:
        known = dest.complete(job.archive_id)
        if known is not None:
            # The folder's own record: complete, and of this archive id. No request.
            existing = _existing(job, known) or known
            row = job.row(local_path=str(existing), size=existing.stat().st_size,
                          status="skipped-existing",
                          message="A complete file of this name was already there.")
            return _unzipped(job, row, existing)
    if not options.continuation:
        dest.discard_part(job.archive_id)
    policy = options.retry
    attempts = 0
    failures = 0
    resumed = False
    while True:
        attempts += 1
        try:
            final, was_resumed, status = _attempt(job, dest, progress)
            resumed = resumed or was_resumed
            break
        except _SkipError as skip:
            row = job.row(local_path=str(skip.path), size=skip.path.stat().st_size,
                          status="skipped-existing", attempts=attempts,
                          message="A complete file of this name was already there.")
            return _unzipped(job, row, skip.path)
        except _FailError as fail:
            if fail.status == 401:
                dest.deny(job.archive_id, _identity(job))
            return job.row(message=fail.message, http_status=fail.status, attempts=attempts)
        except _RetryError as retry:
            failure, status, wait = retry.message, retry.status, retry.wait
            counted = retry.count
        except _NETWORK_ERRORS as exc:
            failure, status, wait, counted = f"Request failed: {_describe(exc)}.", 0, None, True
        if counted:
            failures += 1
        if failures > policy.retries or attempts > policy.retries + 3:
            kept = (" The partial file is kept for a later resume."
                    if dest.part_size(job.archive_id) else "")
            return job.row(message=f"Gave up after {attempts} attempts: {failure}{kept}",
                           http_status=status, attempts=attempts)
        seconds = policy.wait(max(failures, 1), wait)
        # Only the last failure reaches the manifest; the others are worth a debug line.
        log.debug(f"{job.archive_id}: attempt {attempts} failed: {failure} Next attempt in "
                  f"{seconds:.1f} s.")
        _pause(seconds, progress)
    row = job.row(local_path=str(final), size=final.stat().st_size,
                  status="resumed" if resumed else "downloaded", http_status=status,
                  attempts=attempts)
    return _unzipped(job, row, final)


# -- many files --------------------------------------------------------------------------

def _thread_rows(jobs, run, max_workers, destination, host_connections):
    """Run jobs on daemon worker threads; yield (index, row) as each finishes.

    The threads are daemons that take jobs from a queue: scheduling costs the
    same per file whatever the number of files, and an interrupted run returns
    without waiting for a worker stuck on a stalled server (its part file
    stays resumable).
    """
    tasks = queue.SimpleQueue()
    for item in enumerate(jobs):
        tasks.put(item)
    results = queue.SimpleQueue()

    slots = {}  # origin -> semaphore: at most host_connections transfers per host
    slots_lock = threading.Lock()

    def slot(url):
        key = transport.origin(url)
        with slots_lock:
            if key not in slots:
                slots[key] = threading.BoundedSemaphore(max(1, int(host_connections)))
            return slots[key]

    def work():
        while not run.cancelled:
            try:
                index, job = tasks.get_nowait()
            except queue.Empty:
                return
            host = slot(job.url)
            while not host.acquire(timeout=0.1):
                if run.cancelled:
                    return
            try:
                # Files of other folders (layout='product') lock file by file.
                row = download_file(job, run.add,
                                    destination=None if job.folder else destination)
            except CancelledError:
                row = _interrupted(job)
            except Exception as exc:  # a bug: still one row
                row = job.row(message=f"Unexpected failure: {_describe(exc)}")
            finally:
                host.release()
            results.put((index, row))

    run.results = results
    threads = [threading.Thread(target=work, name=f"eso-download-{n}", daemon=True)
               for n in range(max(1, min(max_workers, len(jobs))))]
    for thread in threads:
        thread.start()
    run.threads = threads
    for _ in range(len(jobs)):
        while True:
            try:
                yield results.get(timeout=0.25)
                break
            except queue.Empty:
                run.draw()


def _executor_rows(jobs, run, executor, window):
    """Run jobs on a given executor, at most ``window`` in flight; yield (index, row)."""
    pending = {}
    feed = iter(enumerate(jobs))
    run.futures = pending

    def fill():
        for index, job in feed:
            pending[executor.submit(download_file, job)] = index
            if len(pending) >= window:
                return

    fill()
    while pending:
        done, _ = wait(list(pending), timeout=0.25, return_when=FIRST_COMPLETED)
        for future in done:
            index = pending.pop(future)
            try:
                row = future.result()
            except Exception as exc:  # a lost worker, a bug: still one row
                row = jobs[index].row(message=f"Unexpected failure: {_describe(exc)}")
            yield index, row
        fill()
        run.draw()


class DownloadInterrupted(KeyboardInterrupt):
    """Ctrl-C during a download; ``rows`` (or ``manifest``) holds what was done.

    Rows of files not finished say so (``interrupted``); running the same
    download again resumes them.
    """

    def __init__(self, rows):
        super().__init__("Download interrupted")
        self.rows = rows
        self.manifest = None


def download_files(jobs, *, executor=None, max_workers=8, progress=True,
                   expected_bytes=None, host_connections=8):
    """Run many `FileJob` and return their manifest rows, in the order given.

    Parameters
    ----------
    jobs : list of FileJob
    executor : `concurrent.futures.Executor`, optional
        Runs `download_file`; default: ``max_workers`` worker threads of this
        process (a given executor is left running; at most a few times its
        workers' number of tasks are in flight at once).
    max_workers : int, optional
        Number of worker threads.
    host_connections : int, optional
        Most transfers open at once to one host (worker threads).
    progress : bool, optional
        Draw the aggregate progress line.
    expected_bytes : int, optional
        Estimated total, shown next to the bytes received.

    Returns
    -------
    list of dict

    Raises
    ------
    DownloadInterrupted
        On Ctrl-C (a KeyboardInterrupt), within about a second whatever the
        workers are doing; its ``rows`` say what was done.

    Examples
    --------
    >>> download_files([], progress=False)
    []
    """
    if not jobs:
        return []
    run = Progress(len(jobs), enabled=progress, expected_bytes=expected_bytes)
    rows = [None] * len(jobs)
    held = contextlib.nullcontext()
    if executor is None:
        destination = Destination.shared(jobs[0].options.destination)
        held = destination.folder_lock(timeout=jobs[0].options.lock_timeout)
        source = _thread_rows(jobs, run, max_workers, destination, host_connections)
    else:
        source = _executor_rows(jobs, run, executor, window=max(16, 4 * max_workers))
        run.bytes_per_file = True  # byte counts stay in the workers' processes
    try:
        with held:
            for index, row in source:
                rows[index] = row
                run.finished(row)
        run.draw(final=True)
    except LockTimeoutError as exc:
        return [job.row(message=f"Not downloaded: {exc.strerror}.") for job in jobs]
    except BaseException as exc:
        run.cancel()
        if not isinstance(exc, KeyboardInterrupt):
            raise
        for future in getattr(run, "futures", {}):
            future.cancel()
        deadline = time.monotonic() + 1.0
        for thread in getattr(run, "threads", ()):
            thread.join(max(0.0, deadline - time.monotonic()))
        results = getattr(run, "results", None)
        while results is not None and not results.empty():
            index, row = results.get_nowait()
            rows[index] = row
        rows = [row if row is not None else _interrupted(job)
                for row, job in zip(rows, jobs, strict=True)]
        run.draw(final=True)
        for row in rows:  # left compressed: a re-run with unzip=True decompresses them
            row.pop(_PENDING_UNZIP, None)
        raise DownloadInterrupted(rows) from None
    for job, row in zip(jobs, rows, strict=True):
        if _PENDING_UNZIP in row:
            _decompress(job, row)
    return rows


def manifest_table(rows):
    """Build the manifest Table from rows (dicts with the `MANIFEST_COLUMNS` keys).

    Examples
    --------
    >>> t = manifest_table([])
    >>> t.colnames[:3], t["size"].unit
    (['archive_id', 'product_id', 'eso_category'], Unit("byte"))
    """
    columns = {name: [row[name] for row in rows] for name in MANIFEST_COLUMNS}
    dtypes = {"size": "i8", "http_status": "i4", "attempts": "i4", "n_members": "i4"}
    table = Table([Table.Column(columns[name], name=name, dtype=dtypes.get(name, str))
                   if rows else Table.Column([], name=name, dtype=dtypes.get(name, str))
                   for name in MANIFEST_COLUMNS])
    table["size"].unit = u.byte
    table["size"].description = "Bytes on disk (after decompression when unzip=True)"
    table["status"].description = "One of: " + ", ".join(STATUSES)
    table["message"].description = "Why, for every status but 'downloaded'"
    table["original_filename"].description = "The file's name when it entered the archive"
    table["extracted_to"].description = "Folder a tarball was unpacked into (extract=True)"
    table["n_members"].description = "Number of members unpacked from the tarball"
    return table


def plan_file(job):
    """What `download_file` would do with ``job``, as a manifest row, without any request.

    The row's status is one of `PLAN_STATUSES`; ``size`` is the number of
    bytes still to transfer (from the archive's estimate, less what a part
    file already holds; 0 when unknown or skipped) and ``local_path`` where the
    file would land (when its name is known before the request).

    Examples
    --------
    >>> import tempfile
    >>> job = FileJob("ADP.1", "http://x/ADP.1", DownloadOptions(tempfile.mkdtemp()),
    ...               extension="PNG", estsize_kb=2)
    >>> row = plan_file(job)
    >>> row["status"], row["size"], row["local_path"].endswith("ADP.1.png")
    ('to-download', 2048, True)
    """
    options = job.options
    destination = job.directory
    expected = _expected_name(job)
    final = destination / expected if expected else None
    dest = Destination.shared(destination) if destination.is_dir() else None
    if not options.overwrite:
        existing = dest.complete(job.archive_id) if dest is not None else None
        if existing is None and final is not None:
            upstream = _upstream_name(job)
            existing = _existing(job, final) or (
                _existing(job, final.with_name(upstream)) if upstream else None)
        if existing is not None:
            return job.row(local_path=str(existing), size=0, status="to-skip",
                           message=f"A complete file is already there "
                                   f"({existing.stat().st_size} bytes).")
    estimate = estimate_bytes([job.estsize_kb]) if job.estsize_kb is not None else None
    have = dest.part_size(job.archive_id) if dest is not None and options.continuation else 0
    where = str(final) if final is not None else ""
    if have and dest.load_validator(job.archive_id, url=job.url):
        remaining = max(estimate - have, 0) if estimate is not None else 0
        return job.row(local_path=where, size=remaining, status="to-resume",
                       message=f"Would continue the partial file from byte {have}.")
    message = "" if estimate is not None else "Size unknown (no estimate in the archive)."
    if have:
        message = (message + " A partial file is there, but nothing shows it is the start "
                             "of the same file: it would be restarted.").strip()
    if final is None:
        message = (message + " The name comes from the server.").strip()
    return job.row(local_path=where, size=estimate or 0, status="to-download",
                   message=message)


def status_counts(manifest):
    """How many rows of a manifest (a Table, or a list of row dicts) have each status.

    Examples
    --------
    >>> status_counts([{"status": "downloaded"}, {"status": "error"}])["downloaded"]
    1
    """
    counts = {status: 0 for status in STATUSES}
    statuses = manifest["status"] if isinstance(manifest, Table) else \
        [row["status"] for row in manifest]
    for status in statuses:
        status = str(status)
        counts[status] = counts.get(status, 0) + 1
    return counts


def summarize(rows):
    """Log one line with the counts of each status (errors at WARNING level); return them.

    Examples
    --------
    >>> summarize([{"status": "downloaded"}])["downloaded"]
    INFO: Download finished: 1 downloaded. [astroquery_eso_ancillary.download]
    1
    """
    counts = status_counts(rows)
    text = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    if counts["error"]:
        log.warning(f"{counts['error']} of {len(rows)} files failed ({text}); see the "
                    f"manifest's 'message' column.")
    else:
        log.info(f"Download finished: {text or 'nothing to do'}.")
    return counts


def plan_totals(rows):
    """Totals of a dry run's rows: files per planned status and bytes to transfer.

    Examples
    --------
    >>> plan_totals([{"status": "to-download", "size": 10}, {"status": "to-skip", "size": 0}])
    {'n_files': 2, 'to-download': 1, 'to-resume': 0, 'to-skip': 1, 'error': 0, 'total_bytes': 10}
    """
    totals = {"n_files": len(rows)}
    totals.update({status: 0 for status in PLAN_STATUSES})
    for row in rows:
        totals[row["status"]] = totals.get(row["status"], 0) + 1
    totals["total_bytes"] = int(sum(row["size"] for row in rows))
    return totals


def summarize_plan(totals):
    """Log one line about a dry run's totals (`plan_totals`); return the text.

    Examples
    --------
    >>> totals = plan_totals([{"status": "to-download", "size": 2048}])
    >>> text = summarize_plan(totals)  # doctest: +ELLIPSIS
    INFO: Dry run: 1 to download, 0 to resume, 0 to skip, 0 errors; about 2.0k ... [...]
    """
    text = (f"Dry run: {totals['to-download']} to download, {totals['to-resume']} to resume, "
            f"{totals['to-skip']} to skip, {totals['error']} errors; about "
            f"{human_file_size(totals['total_bytes']).strip()} bytes to transfer.")
    if totals["error"]:
        log.warning(text)
    else:
        log.info(text)
    return text


def estimate_bytes(sizes_kb):
    """Sum estimated sizes in kB into bytes; None if any is unknown."""
    total = 0
    for value in sizes_kb:
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(value) or value < 0:
            return None
        total += value * 1024
    return int(total)


# -- turning the user's input into jobs --------------------------------------------------

def check_options(*, destination, overwrite, continuation, max_workers, executor, unzip,
                  progress, authenticated, timeout, max_retries, verify=False):
    """Check the options of ``download_ancillary``; raise TypeError/ValueError naming one."""
    if destination is not None and not isinstance(destination, (str, os.PathLike)):
        raise TypeError(f"destination must be a folder path (str or Path), got "
                        f"{type(destination).__name__}: {destination!r}")
    for name, value in (("overwrite", overwrite), ("continuation", continuation),
                        ("unzip", unzip), ("progress", progress), ("verify", verify)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    if authenticated is not None and not isinstance(authenticated, (bool, np.bool_)):
        raise TypeError(f"authenticated must be None, True or False, got {authenticated!r}")
    if max_workers is not None and (isinstance(max_workers, bool)
                                    or not isinstance(max_workers, (int, np.integer))
                                    or max_workers < 1):
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (something with "
                        f"submit()), got {type(executor).__name__}")
    if executor is not None and max_workers is not None:
        raise ValueError("Give either executor or max_workers, not both (the executor "
                         "decides how many workers run).")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, Real)
                                or not timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if max_retries is not None and (isinstance(max_retries, bool)
                                    or not isinstance(max_retries, (int, np.integer))
                                    or max_retries < 0):
        raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")


def prepare_destination(destination):
    """Create the destination folder if needed and return it as an absolute Path."""
    path = Path(destination).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise ValueError(f"destination {str(path)!r} exists and is not a folder.")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_url(url, archive_id):
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"access_url of {archive_id!r} is not an http(s) URL: {url!r}")
    return url


def file_entries(files, *, download_url):
    """List the files to fetch as dicts (archive_id, url, product_id, eso_category,
    extension, estsize_kb), duplicates dropped, order kept.

    ``files`` is a Table (or Row) with an ``archive_id`` column (``access_url``,
    ``product_id``, ``eso_category``, ``extension``, ``access_estsize`` used when
    present), or archive ids (str, list, Column).

    Examples
    --------
    >>> [e["url"] for e in file_entries("ADP.1999-01-01T00:00:00.001", download_url="https://x/")]
    ['https://x/ADP.1999-01-01T00:00:00.001']
    """
    if isinstance(files, Row):
        files = files.table[files.index:files.index + 1]
    entries = []
    if isinstance(files, Table):
        if "archive_id" not in files.colnames:
            hint = ""
            if any(name in files.colnames for name in ("product_id", "dp_id", "DP.ID")):
                hint = (" For a table of products, pass categories= (e.g. 'ANCILLARY.*') "
                        "to download their files.")
            raise ValueError("A table of files needs an 'archive_id' column; it has "
                             f"{', '.join(files.colnames) or 'no columns'}.{hint}")
        for row in files:
            archive_id = cell(row, "archive_id")
            if not archive_id:
                raise ValueError(f"Row {row.index} of the table has no archive_id.")
            archive_id = check_archive_id(archive_id)
            url = cell(row, "access_url")
            url = _check_url(url, archive_id) if url else \
                download_url + quote(archive_id, safe=":.+-_")
            entries.append({"archive_id": archive_id, "url": url,
                            "product_id": cell(row, "product_id"),
                            "eso_category": cell(row, "eso_category"),
                            "extension": cell(row, "extension"),
                            "estsize_kb": cell(row, "access_estsize") or None,
                            "original_filename": cell(row, "original_filename")})
    else:
        if isinstance(files, (str, bytes)):
            files = [files]
        elif files is None or isinstance(files, dict) or not hasattr(files, "__iter__"):
            raise TypeError("files must be a Table with an archive_id column, an archive id "
                            f"or a list of archive ids, not {type(files).__name__}.")
        for value in files:
            archive_id = check_archive_id(value)
            entries.append({"archive_id": archive_id,
                            "url": download_url + quote(archive_id, safe=":.+-_"),
                            "product_id": "", "eso_category": "", "extension": "",
                            "estsize_kb": None, "original_filename": ""})
    unique = {}
    for entry in entries:
        unique.setdefault(entry["archive_id"], entry)
    if len(unique) < len(entries):
        log.info(f"{len(entries) - len(unique)} repeated file(s) will be downloaded once.")
    return list(unique.values())


def make_jobs(files, *, download_url, options, layout="flat", names="archive_id"):
    """Turn a table of files (or archive ids) into one `FileJob` each, repeats dropped.

    Parameters
    ----------
    files : `~astropy.table.Table`, `~astropy.table.Row`, str or list of str
        See `file_entries`.
    download_url : str
        The archive's download prefix, for rows without an ``access_url``.
    options : DownloadOptions
    layout, names : str
        Where each file goes and under which name (see `~astroquery_eso_ancillary.layout`).

    Examples
    --------
    >>> jobs = make_jobs(["ADP.1999-01-01T00:00:00.001"], download_url="https://x/",
    ...                  options=DownloadOptions("/tmp"))
    >>> jobs[0].url
    'https://x/ADP.1999-01-01T00:00:00.001'
    """
    entries = place(file_entries(files, download_url=download_url), layout=layout, names=names)
    return [FileJob(entry["archive_id"], entry["url"], options,
                    product_id=entry["product_id"], eso_category=entry["eso_category"],
                    extension=entry["extension"], estsize_kb=entry["estsize_kb"],
                    folder=entry["folder"], local_name=entry["local_name"],
                    original_filename=entry["original_filename"])
            for entry in entries]
