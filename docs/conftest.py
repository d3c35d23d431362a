# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The documentation's examples run as doctests (``python -m pytest`` collects
``docs/*.rst``), offline, against a local ESO archive emulator.

One emulator serves the whole session, with the demo's seed so the outputs
shown in the pages are the ones users get from ``eso-ancillary demo``. Each
page runs in its own empty working folder (downloads land there), with the
module-level ``Eso`` pointed at the emulator through ``conf.archive_url``,
caching into a temporary folder, and astroquery's log at WARNING (so INFO lines
and progress bars stay out of the outputs shown). Examples that need the real archive are in
``.. doctest-remote-data::`` blocks and skipped unless ``--remote-data`` is
given.
"""
import pytest

# Sphinx output and the stub pages automodapi generates hold no examples of ours.
collect_ignore_glob = ["_build/*", "api/*"]


@pytest.fixture(scope="session")
def docs_archive():
    """The emulator the documentation's examples run against."""
    from astroquery_eso_ancillary.demo import DEMO_PRODUCTS, DEMO_SEED
    from astroquery_eso_ancillary.emulator import ArchiveEmulator

    with ArchiveEmulator(seed=DEMO_SEED, products=DEMO_PRODUCTS) as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def _docs_page_environment(request, docs_archive, tmp_path_factory):
    from astroquery import log

    from astroquery_eso_ancillary import Eso, conf

    folder = tmp_path_factory.mktemp("docs-page")
    saved_cache, saved_row_limit, saved_level = Eso.cache_location, Eso.ROW_LIMIT, log.level
    # INFO messages and the download progress line would be part of the shown output.
    log.setLevel("WARNING")
    docs_archive.reset()
    with pytest.MonkeyPatch.context() as patch:
        # The environment variable would win over conf.archive_url.
        patch.delenv("ESO_ARCHIVE_URL", raising=False)
        patch.chdir(folder)
        Eso.cache_location = folder / "cache"
        Eso._auth_info = None
        try:
            with conf.set_temp("archive_url", docs_archive.url):
                yield docs_archive
        finally:
            Eso.cache_location = saved_cache
            Eso.ROW_LIMIT = saved_row_limit
            Eso._auth_info = None
            log.setLevel(saved_level)
