# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Download progress, drawn the way the place it is shown can take it.

- A terminal: one bar redrawn in place (``tqdm`` when installed, else a bar
  of this module).
- A notebook: a widget, through ``tqdm.auto`` (when ``tqdm`` and
  ``ipywidgets`` are installed; else plain lines, below).
- Anything else (a log file, a pipe, CI): one plain line every
  `LINE_INTERVAL` seconds and a last one at the end; never a carriage return.
- Disabled (``progress=False``, or astroquery's log level above INFO):
  nothing; the INFO messages of a download go to the logger only.

Workers report bytes through `Progress.add` (from their threads); the main
thread counts finished files and calls `Progress.draw`.
"""
import logging
import sys
import threading
import time

from astropy.utils.console import human_file_size
from astroquery import log

try:  # optional: a better bar in a terminal, a widget in a notebook
    from tqdm.auto import tqdm as _tqdm
except ImportError:
    _tqdm = None

__all__ = ["LINE_INTERVAL", "CancelledError", "Progress", "progress_enabled"]

#: Seconds between two plain progress lines (output that is not a terminal).
LINE_INTERVAL = 10.0


class CancelledError(Exception):
    """Raised inside a worker when the user interrupted the run."""


def progress_enabled(progress):
    """Whether to draw progress: asked for, and astroquery's log level is INFO or lower.

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    return bool(progress) and log.getEffectiveLevel() <= logging.INFO


def _in_notebook():
    # An IPython kernel (Jupyter) rather than a terminal IPython.
    shell = sys.modules.get("IPython")
    try:
        return type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def choose_mode(stream, *, enabled=True):
    """How progress is shown on ``stream``: 'off', 'widget', 'bar' or 'lines'.

    Examples
    --------
    >>> import io
    >>> choose_mode(io.StringIO()), choose_mode(io.StringIO(), enabled=False)
    ('lines', 'off')
    """
    if not enabled:
        return "off"
    if _in_notebook() and _tqdm is not None:
        return "widget"
    return "bar" if _isatty(stream) else "lines"


class Progress:
    """Files and bytes of one download run, shown as `choose_mode` decides.

    Parameters
    ----------
    nfiles : int
        Files in the run.
    enabled : bool
        Draw anything at all.
    stream : file, optional
        Where to draw (default ``sys.stdout``).
    expected_bytes : int, optional
        The estimated total, shown next to the bytes received.
    interval : float, optional
        Seconds between plain lines (default `LINE_INTERVAL`).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progress(2, enabled=True, stream=out)
    >>> bar.add(2048); bar.files = 2; bar.draw(final=True)
    >>> "\\r" in out.getvalue(), "2/2 files" in out.getvalue()
    (False, True)
    """

    def __init__(self, nfiles, *, enabled, stream=None, expected_bytes=None, interval=None):
        self.nfiles = nfiles
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.expected = expected_bytes
        self.interval = LINE_INTERVAL if interval is None else interval
        self.files = 0
        self.bytes = 0
        self.mode = choose_mode(self.stream, enabled=enabled)
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last_line = self._start
        self._cancel = threading.Event()
        self._tqdm = None
        self._shown_bytes = 0
        #: True when bytes are counted per finished file (workers in other processes).
        self.bytes_per_file = False
        self._drawn = 0.0
        if self.mode == "widget" or (self.mode == "bar" and _tqdm is not None):
            self._tqdm = _tqdm(total=expected_bytes, unit="B", unit_scale=True,
                               unit_divisor=1024, file=self.stream, leave=True,
                               desc=f"0/{nfiles} files")

    @property
    def cancelled(self):
        """Whether `cancel` was called."""
        return self._cancel.is_set()

    def add(self, nbytes):
        """Count ``nbytes`` received (from any thread); raise CancelledError after `cancel`."""
        if self._cancel.is_set():
            raise CancelledError()
        if nbytes:
            with self._lock:
                self.bytes += nbytes

    def finished(self, row):
        """Count one finished file (from the main thread; ``row`` is its manifest row)."""
        self.files += 1
        if self.bytes_per_file:
            self.bytes += row["size"]
        if time.monotonic() - self._drawn > 0.2:
            self.draw()

    def cancel(self):
        """Make every later `add` raise `CancelledError` (the run was interrupted)."""
        self._cancel.set()
        if self._tqdm is not None:
            self._tqdm.close()

    def _text(self):
        elapsed = max(time.monotonic() - self._start, 1e-6)
        size = human_file_size(self.bytes).strip()
        if self.expected:
            size += f"/~{human_file_size(self.expected).strip()}"
        rate = human_file_size(self.bytes / elapsed).strip()
        return f"{self.files}/{self.nfiles} files, {size}, {rate}/s"

    def draw(self, final=False):
        """Show the current state (called often; plain lines only every ``interval`` s)."""
        if self.mode == "off":
            return
        self._drawn = time.monotonic()
        if self._tqdm is not None:
            self._tqdm.set_description_str(f"{self.files}/{self.nfiles} files", refresh=False)
            self._tqdm.update(self.bytes - self._shown_bytes)
            self._shown_bytes = self.bytes
            if final:
                self._tqdm.close()
            return
        if self.mode == "bar":
            width = 30
            frac = self.files / self.nfiles if self.nfiles else 1.0
            fill = int(width * frac)
            bar = "=" * fill + (">" if fill < width else "") + " " * max(0, width - fill - 1)
            self.stream.write(f"\r|{bar}| {self._text()}  ")
            if final:
                self.stream.write("\n")
        else:
            now = time.monotonic()
            if not final and now - self._last_line < self.interval:
                return
            self._last_line = now
            self.stream.write(("Downloaded " if final else "Downloading: ") + self._text()
                              + "\n")
        self.stream.flush()
