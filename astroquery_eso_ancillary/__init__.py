# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Ancillary files of ESO Science Archive products, inside astroquery.

``Eso`` here is astroquery's ``Eso`` (login, ``retrieve_data`` and every other
upstream method work unchanged) with methods to find and download the
ancillary files (weight maps, previews, white-light images, READMEs, tarballs
...) that come with ESO Phase 3 products.
"""
from astropy import config as _config


class Conf(_config.ConfigNamespace):
    """
    Configuration parameters for `astroquery_eso_ancillary`.

    Every endpoint can be pointed elsewhere at once with ``archive_url`` (or
    the ``ESO_ARCHIVE_URL`` environment variable), which takes a base URL laid
    out as the archive serves it: ``BASE/tap_obs``, ``BASE/datalink/links``,
    ``BASE/dataPortal/file/`` and ``BASE/sso/oidc/token``.
    """

    archive_url = _config.ConfigItem(
        "",
        "Base URL of an archive laid out as ESO's (BASE/tap_obs, BASE/datalink/links, "
        "BASE/dataPortal/file/, BASE/sso/oidc/token). When set, it overrides the four "
        "URLs below. Empty: use them as they are.")
    tap_url = _config.ConfigItem(
        "https://archive.eso.org/tap_obs",
        "ESO TAP service holding ivoa.ObsCore and phase3v2.product_files.")
    datalink_url = _config.ConfigItem(
        "https://archive.eso.org/datalink/links",
        "ESO DataLink links endpoint.")
    download_url = _config.ConfigItem(
        "https://dataportal.eso.org/dataPortal/file/",
        "Prefix of ESO file download URLs (the archive_id is appended).")
    token_url = _config.ConfigItem(
        "https://www.eso.org/sso/oidc/token",
        "ESO OpenID Connect token endpoint used by login().")
    trusted_hosts = _config.ConfigItem(
        "",
        "Extra hosts (or https://host:port origins), space- or comma-separated, that may "
        "receive the ESO login besides the archive's own endpoints.")
    timeout = _config.ConfigItem(
        120,
        "Timeout in seconds for one HTTP request (connect and each read).")
    id_chunk_size = _config.ConfigItem(
        6000,
        "How many product ids go into one IN list of one TAP query (a query the service "
        "refuses is split in halves).")
    async_threshold = _config.ConfigItem(
        50000,
        "Selections counted above this many rows run as asynchronous TAP jobs.")
    match_archive_values = _config.ConfigItem(
        True,
        "Match collections, instruments, categories and extensions to the archive's "
        "values (any case; an unknown value is an error). False: send them as given.")
    max_retries = _config.ConfigItem(
        4,
        "How many times a request is retried after a connection error, 429 or 5xx.")
    backoff = _config.ConfigItem(
        0.5,
        "First wait in seconds between retries; it doubles each retry (Retry-After wins).")
    download_workers = _config.ConfigItem(
        8,
        "Default number of parallel download workers (see the docs' 'Downloading' page).")
    host_connections = _config.ConfigItem(
        8,
        "Most downloads one run has open at once to one host, whatever max_workers says.")
    download_dir = _config.ConfigItem(
        "eso-ancillary",
        "Default download folder, relative to the current directory unless absolute.")


conf = Conf()

from .core import Eso, EsoClass  # noqa: E402
from .exceptions import (  # noqa: E402
    EsoAncillaryError,
    EsoQueryError,
    EsoServiceError,
)

__all__ = ["Conf", "Eso", "EsoAncillaryError", "EsoClass", "EsoQueryError",
           "EsoServiceError", "conf"]
