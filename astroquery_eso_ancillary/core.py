# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`EsoClass`: astroquery's ESO class plus ancillary-file queries and downloads.

The class stays thin: it resolves endpoints, validates arguments and composes
the modules that do the work (`~astroquery_eso_ancillary.adql`,
`~astroquery_eso_ancillary.tap`, `~astroquery_eso_ancillary.download`,
`~astroquery_eso_ancillary.datalink`).
"""
import os

import requests
from astroquery import log

from . import _compat, conf
from .exceptions import LoginError

__all__ = ["Eso", "EsoClass"]

#: Where each endpoint lives below an archive's base URL.
ENDPOINT_PATHS = {
    "tap_url": "/tap_obs",
    "datalink_url": "/datalink/links",
    "download_url": "/dataPortal/file/",
    "token_url": "/sso/oidc/token",
}


def resolve_endpoints(archive_url=None, **explicit):
    """Work out the four endpoint URLs.

    Precedence: an explicit endpoint argument, then ``archive_url``, then the
    ``ESO_ARCHIVE_URL`` environment variable, then ``conf.archive_url``, then
    each endpoint's own configuration item.
    """
    base = archive_url or os.environ.get("ESO_ARCHIVE_URL") or conf.archive_url
    urls = {}
    for name, path in ENDPOINT_PATHS.items():
        if explicit.get(name):
            urls[name] = explicit[name]
        elif base:
            urls[name] = base.rstrip("/") + path
        else:
            urls[name] = getattr(conf, name)
    return urls


class EsoClass(_compat.UpstreamEsoClass):
    """
    Query the ESO Science Archive, including the ancillary files of its products.

    Everything `astroquery.eso.EsoClass` offers (``login``,
    ``retrieve_data``, ``query_*`` ...) works unchanged.

    Parameters
    ----------
    archive_url : str, optional
        Base URL of an archive laid out as ESO's (an emulator, a mirror). Sets
        all four endpoints at once; default from ``ESO_ARCHIVE_URL`` or
        ``conf.archive_url``, else ESO itself.
    tap_url, datalink_url, download_url, token_url : str, optional
        Override a single endpoint.
    timeout : float, optional
        Seconds for one HTTP request; default ``conf.timeout``.

    Examples
    --------
    >>> from astroquery_eso_ancillary import Eso
    >>> eso = Eso(archive_url="http://127.0.0.1:8080")  # a local emulator
    >>> eso.tap_url
    'http://127.0.0.1:8080/tap_obs'
    """

    def __init__(self, *, archive_url=None, tap_url=None, datalink_url=None,
                 download_url=None, token_url=None, timeout=None):
        super().__init__()
        # Kept as given and resolved on each use, so that conf.set_temp() and
        # ESO_ARCHIVE_URL also steer the module-level ``Eso`` instance.
        self._endpoint_args = {"archive_url": archive_url, "tap_url": tap_url,
                               "datalink_url": datalink_url, "download_url": download_url,
                               "token_url": token_url}
        self._timeout = timeout

    def _endpoint(self, name):
        args = dict(self._endpoint_args)
        return resolve_endpoints(args.pop("archive_url"), **args)[name]

    @property
    def tap_url(self):
        """The TAP service holding ``ivoa.ObsCore`` and ``phase3v2.product_files``."""
        return self._endpoint("tap_url")

    @property
    def datalink_url(self):
        """The DataLink ``links`` endpoint."""
        return self._endpoint("datalink_url")

    @property
    def DOWNLOAD_URL(self):
        """Prefix of file download URLs (the archive_id is appended).

        Upstream's ``retrieve_data`` reads it too, so it follows ``archive_url``.
        """
        return self._endpoint("download_url")

    @property
    def AUTH_URL(self):
        """The OpenID Connect token endpoint used by ``login`` (upstream reads it too)."""
        return self._endpoint("token_url")

    download_url = DOWNLOAD_URL
    token_url = AUTH_URL

    @property
    def timeout(self):
        """Seconds allowed for one HTTP request (``conf.timeout`` unless given)."""
        return conf.timeout if self._timeout is None else self._timeout

    def __repr__(self):
        return f"<{type(self).__name__} tap_url={self.tap_url!r}>"

    # -- upstream internals this instance must steer ---------------------------------

    def _tap_urls(self):
        # astroquery main refuses any TAP URL not in this map; include ours.
        urls = {"tap_obs": self.tap_url}
        cat = getattr(_compat._upstream_conf(), "tap_cat_url", None)
        if cat:
            urls["tap_cat"] = cat
        return urls

    def _authenticate(self, *, username, password):
        """Get an ESO token without the password reaching any log.

        astroquery sends the password in the URL of a GET through a session
        that logs every URL at DEBUG level; here it goes in a POST body
        through a plain session (GET only if the server refuses POST).
        """
        self._auth_info = None
        payload = {"response_type": "id_token token", "grant_type": "password",
                   "client_id": "clientid", "client_secret": "clientSecret",
                   "username": username, "password": password}
        log.info(f"Authenticating {username} on {self.AUTH_URL} ...")
        with requests.Session() as session:
            session.headers["User-Agent"] = self._session.headers.get("User-Agent", "")
            try:
                response = session.post(self.AUTH_URL, data=payload, timeout=self.timeout)
                if response.status_code in (404, 405):
                    response = session.get(self.AUTH_URL, params=payload, timeout=self.timeout)
            except requests.RequestException as exc:
                # The exception text may carry the URL; say only what failed.
                raise LoginError(f"Could not reach the ESO token service at {self.AUTH_URL} "
                                 f"({type(exc).__name__}).") from None
        if response.status_code != 200:
            log.error(f"Authentication failed (HTTP {response.status_code}).")
            return False
        try:
            token = response.json()["id_token"]
        except (ValueError, KeyError):
            log.error("Authentication failed: the token service sent no id_token.")
            return False
        self._auth_info = _compat.TokenInfo(username, token)
        log.info("Authentication successful!")
        return True

    def _get_auth_header(self):
        info = _compat.auth_info(self)
        if info is None:
            return {}
        if info.expired():
            raise LoginError("Your ESO login has expired; call Eso.login() again.")
        return {"Authorization": "Bearer " + info.token}

    # -- downloads and DataLink (download.py, datalink.py) ------------------------------

    def _download_headers(self, authenticated):
        # Checked before any request: an expired login fails here, not mid-transfer.
        logged_in = _compat.auth_info(self) is not None
        if authenticated is None:
            authenticated = logged_in
        if not authenticated:
            return {}
        if not logged_in:
            raise LoginError("authenticated=True needs a login: call Eso.login() first.")
        return self._get_auth_header()

    def download_ancillary(self, files, *, destination=None, categories=None,
                           overwrite=False, continuation=True, max_workers=None,
                           executor=None, unzip=False, progress=True, authenticated=None,
                           timeout=None, max_retries=None):
        """
        Download files in parallel, resumably, and return a manifest of what happened.

        Parameters
        ----------
        files : `~astropy.table.Table`, str or list of str
            A table from `get_product_files` or `query_ancillary` (its
            ``archive_id`` and ``access_url`` columns are used), archive ids,
            or product ids together with ``categories`` (their files are then
            looked up with `get_product_files`, DataLink included).
        destination : str or path, optional
            Folder for the files, created if missing. Default
            ``conf.download_dir``: ``eso-ancillary`` in the current directory.
        categories : str or list of str, optional
            ``eso_category`` values or wildcards (``'ANCILLARY.*'``): with
            product ids, which of their files to fetch; with a table, a filter.
        overwrite : bool, optional
            Download again files already complete in ``destination`` (default:
            skip them, status ``skipped-existing``).
        continuation : bool, optional
            Resume interrupted downloads from their ``.part`` file (default);
            False deletes part files and starts afresh.
        max_workers : int, optional
            Parallel downloads; default ``conf.download_workers``.
        executor : `concurrent.futures.Executor`, optional
            Run the downloads on this executor instead (e.g. a dask
            ``Client.get_executor()``); the progress line then counts bytes
            per finished file.
        unzip : bool, optional
            Decompress ``.gz`` and ``.Z`` files after download (in Python);
            ``local_path`` then names the decompressed file.
        progress : bool, optional
            Show one progress line (files and bytes); also off when
            astroquery's log level is above INFO.
        authenticated : bool, optional
            Send the token of `login` (default: when logged in). True without
            a login, or with an expired one, raises LoginError before any
            transfer.
        timeout : float, optional
            Seconds for connecting and for each read; default ``self.timeout``.
        max_retries : int, optional
            Retries per file after a connection error, short body, 429 or
            5xx (each resumes); default ``conf.max_retries``.

        Returns
        -------
        manifest : `~astropy.table.Table`
            One row per file: archive_id, product_id, eso_category, url,
            local_path, size (bytes on disk), status (``downloaded``,
            ``resumed``, ``skipped-existing`` or ``error``), message (why, for
            anything but ``downloaded``), http_status, attempts. Failures are
            rows with status ``error``, never missing.

        Notes
        -----
        Files are named as the server names them (Content-Disposition),
        sanitised: ``:`` and other characters Windows refuses become ``_``
        (``ADP.2016-06-01T14_07_30.137.png``), and nothing is ever written
        outside ``destination``. Bytes go to ``<archive_id>.part`` and are
        renamed only when complete, so an interrupted run never leaves a
        truncated file under the final name.

        Examples
        --------
        >>> files = Eso.get_product_files('ADP.2024-03-19T05:58:04.407',
        ...                               categories='ANCILLARY.PREVIEW')  # doctest: +SKIP
        >>> manifest = Eso.download_ancillary(files, destination='previews')  # doctest: +SKIP
        >>> manifest['status']  # doctest: +SKIP
        """
        from astropy.table import Row, Table

        from . import download

        download.check_options(destination=destination, overwrite=overwrite,
                               continuation=continuation, max_workers=max_workers,
                               executor=executor, unzip=unzip, progress=progress,
                               authenticated=authenticated, timeout=timeout,
                               max_retries=max_retries)
        headers = self._download_headers(authenticated)
        if categories is not None:
            if isinstance(files, (Table, Row)):
                files = download.filter_categories(
                    files if isinstance(files, Table) else files.table[files.index:
                                                                       files.index + 1],
                    categories)
            else:
                files = self.get_product_files(files, categories=categories)
        entries = download.file_entries(files, download_url=self.DOWNLOAD_URL)
        folder = download.prepare_destination(destination or conf.download_dir)
        jobs = [download.FileJob(
                    entry["archive_id"], entry["url"], str(folder),
                    product_id=entry["product_id"], eso_category=entry["eso_category"],
                    extension=entry["extension"], headers=headers, overwrite=bool(overwrite),
                    continuation=bool(continuation), unzip=bool(unzip),
                    timeout=float(timeout or self.timeout),
                    max_retries=conf.max_retries if max_retries is None else int(max_retries),
                    backoff=float(conf.backoff))
                for entry in entries]
        if jobs:
            log.info(f"Downloading {len(jobs)} files to {folder} ...")
        rows = download.download_files(
            jobs, executor=executor, max_workers=max_workers or conf.download_workers,
            progress=download.progress_enabled(progress),
            expected_bytes=download.estimate_bytes(e["estsize_kb"] for e in entries))
        download.summarize(rows)
        return download.manifest_table(rows)

    def _datalink_get(self, authenticated, cache):
        # How DataLink requests go out: cached through astroquery when anonymous,
        # with the token (and never cached) when authenticated.
        if authenticated:
            headers = self._download_headers(True)

            def get(url, *, params, timeout):
                with requests.Session() as session:
                    return session.get(url, params=params, headers=headers, timeout=timeout)
            return get

        def get(url, *, params, timeout):
            return _compat.cached_request(self, "GET", url, params=params, timeout=timeout,
                                          cache=cache)
        return get

    def get_datalinks(self, product_ids, *, semantics=None, batch_size=None,
                      authenticated=False, cache=True):
        """
        The DataLink rows of products: their files, previews, progenitors, documentation.

        Parameters
        ----------
        product_ids : str, list of str, Column or Table
            Product ids (``dp_id``); a table needs a ``product_id`` or
            ``dp_id`` column. Obsolete products work too.
        semantics : str or list of str, optional
            Keep only these (``'#this'``, ``'#auxiliary'``, ``'#preview'``,
            ``'#progenitor'``, ``'#cutout'``, or a full URI); default all.
            The ``#`` may be left out.
        batch_size : int, optional
            IDs per request (default 50).
        authenticated : bool, optional
            Send the token of `login` (never cached).
        cache : bool, optional
            Use astroquery's cache for anonymous requests (default True).

        Returns
        -------
        `~astropy.table.Table`
            The raw DataLink rows: ID, access_url, service_def,
            error_message, semantics, description, content_type,
            content_length, eso_origfile, eso_category, eso_datalink. An
            unknown id gives a row whose ``error_message`` says so.

        Examples
        --------
        >>> links = Eso.get_datalinks('ADP.2013-06-20T17:15:42.690')  # doctest: +SKIP
        >>> links[links['semantics'] == '#auxiliary']['access_url']  # doctest: +SKIP
        """
        from . import adql, datalink

        ids = adql.as_product_ids(product_ids)
        wanted = datalink.normalise_semantics(semantics)
        if not isinstance(cache, bool) or not isinstance(authenticated, bool):
            raise TypeError("cache and authenticated must be True or False.")
        table = datalink.fetch_links(
            ids, url=self.datalink_url, get=self._datalink_get(authenticated, cache),
            batch_size=datalink.BATCH_SIZE if batch_size is None else batch_size,
            timeout=self.timeout)
        if wanted is not None and len(table):
            keep = [str(value) in wanted for value in table["semantics"]]
            table = table[keep]
        return table


Eso = EsoClass()
