# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
pytest plugin of the ESO archive emulator (registered as a ``pytest11`` entry point).

Fixtures
--------
``eso_archive``
    A running `~astroquery_eso_ancillary.emulator.ArchiveEmulator` shared by
    the test session and ``reset()`` before each test. Its ``eso`` attribute
    is a fresh ``astroquery_eso_ancillary.Eso`` pointed at it, with its cache
    in the test's temporary folder.
``eso_archive_factory``
    ``eso_archive_factory(**kwargs)`` starts a private emulator (other seed,
    size, ``size_column="size_kb"`` ...), stopped when the test ends.

This module is imported by every pytest run: it imports nothing heavy at
module level.
"""
import pytest


def _fresh_eso(emulator, cache_dir):
    # The one place the emulator side touches the client package (lazily).
    from astroquery_eso_ancillary import Eso

    eso = Eso(archive_url=emulator.url)
    cache_dir.mkdir(parents=True, exist_ok=True)
    eso.cache_location = cache_dir
    return eso


@pytest.fixture(scope="session")
def eso_archive_session():
    """The session's shared emulator (use ``eso_archive``, which also resets it)."""
    from astroquery_eso_ancillary.emulator import ArchiveEmulator

    emulator = ArchiveEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def eso_archive(eso_archive_session, tmp_path):
    """A running ESO archive emulator, reset for this test, with ``.eso`` pointed at it.

    Examples
    --------
    ::

        def test_files(eso_archive):
            rows = eso_archive.archive.files_of("ADP.2024-03-19T05:58:04.407")
            assert len(rows) == 6
    """
    emulator = eso_archive_session
    emulator.reset()
    emulator.eso = _fresh_eso(emulator, tmp_path / "eso-cache")
    yield emulator
    emulator.reset()


@pytest.fixture
def eso_archive_factory(tmp_path):
    """Start private emulators: ``emu = eso_archive_factory(seed=7, size_column="size_kb")``.

    Each has an ``eso`` attribute like ``eso_archive``'s; all stop after the test.

    Examples
    --------
    ::

        def test_old_schema(eso_archive_factory):
            emu = eso_archive_factory(size_column="size_kb", products=50)
    """
    from astroquery_eso_ancillary.emulator import ArchiveEmulator

    started = []

    def make(**kwargs):
        emulator = ArchiveEmulator(**kwargs).start()
        started.append(emulator)
        emulator.eso = _fresh_eso(emulator, tmp_path / f"eso-cache-{len(started)}")
        return emulator

    try:
        yield make
    finally:
        for emulator in started:
            emulator.stop()
