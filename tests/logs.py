# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Capturing astroquery's log records in tests."""
import contextlib

from astroquery import log


@contextlib.contextmanager
def debug_records():
    """The records astroquery's logger takes at DEBUG level inside the block."""
    level = log.level
    log.setLevel("DEBUG")
    try:
        with log.log_to_list() as records:
            yield records
    finally:
        log.setLevel(level)
