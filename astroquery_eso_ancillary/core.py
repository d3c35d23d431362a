# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`EsoClass`: astroquery's ESO class plus ancillary-file queries and downloads.

The class stays thin: it resolves endpoints, validates arguments and composes
the modules that do the work (`~astroquery_eso_ancillary.ids`,
`~astroquery_eso_ancillary.adql`, `~astroquery_eso_ancillary.tap`,
`~astroquery_eso_ancillary.tables`, `~astroquery_eso_ancillary.datalink`,
`~astroquery_eso_ancillary.download`, `~astroquery_eso_ancillary.transport`).
"""
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from astropy.table import Row, Table
from astroquery import log
from astroquery.exceptions import NoResultsWarning

from . import _compat, adql, conf, download, sky, tables, tap, transport
from . import datalink as links  # "datalink" is also a keyword of get_product_files
from .exceptions import LoginError
from .ids import as_product_ids
from .vocabulary import Vocabulary

__all__ = ["Eso", "EsoClass"]

#: ESO's own https hosts: trusted with the login when the endpoints are ESO's.
ESO_HOSTS = ("archive.eso.org", "dataportal.eso.org", "www.eso.org")

#: Where each endpoint lives below an archive's base URL.
#: The default of ``categories`` in `EsoClass.query_ancillary` (not resolved: it is
#: the archive's own spelling, and resolving it would cost a query on every call).
ANCILLARY_CATEGORIES = "ANCILLARY.*"

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
        #: The TAP schemas read from each service, by TAP URL (see `tap.TapClient.schema`).
        self.schema_cache = {}
        #: The values of the selection columns, by (TAP URL, argument) (see `vocabulary`).
        self.vocabulary_cache = {}

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
        cat = getattr(_compat.upstream_conf(), "tap_cat_url", None)
        if cat:
            urls["tap_cat"] = cat
        return urls

    # -- the login, and where it may go ---------------------------------------------------

    def trusted_origins(self):
        """The origins that may receive the login: the archive's own.

        They are the configured TAP, DataLink, download and token endpoints,
        ESO's own https hosts when those endpoints are ESO's, and the hosts
        named in ``conf.trusted_hosts``.

        Examples
        --------
        >>> eso = EsoClass(archive_url="http://127.0.0.1:8080")
        >>> sorted(eso.trusted_origins())
        ['http://127.0.0.1:8080']
        """
        urls = [self.tap_url, self.datalink_url, self.DOWNLOAD_URL, self.AUTH_URL]
        origins = {transport.origin(url) for url in urls}
        if any((urlsplit(url).hostname or "").lower().endswith("eso.org") for url in urls):
            origins.update(transport.origin("https://" + host) for host in ESO_HOSTS)
        for host in str(conf.trusted_hosts or "").replace(",", " ").split():
            origins.add(transport.origin(host if "://" in host else "https://" + host))
        return frozenset(origins)

    def credentials(self, *, required=True):
        """The login of `login`, scoped to the archive's own hosts (see `trusted_origins`).

        Parameters
        ----------
        required : bool, optional
            Raise LoginError without a login (default); else return None.

        Returns
        -------
        `~astroquery_eso_ancillary.transport.Credentials` or None

        Raises
        ------
        LoginError
            No login (when ``required``), or the login has expired.

        Examples
        --------
        >>> EsoClass().credentials(required=False) is None
        True
        """
        info = _compat.auth_info(self)
        if info is None:
            if required:
                raise LoginError("This needs a login first: call Eso.login(username) (or use "
                                 "authenticated=False for public data).")
            return None
        if info.expired():
            raise LoginError("Your ESO login has expired; call Eso.login() again.")
        return transport.Credentials(info.token, self.trusted_origins(),
                                     expires=info.expiration_time, identity=info.username,
                                     renew=lambda: self._renew_login(info.username))

    def _renew_login(self, username):
        # For long runs: log in again with the password astroquery's login stored in the
        # keyring (the old login stays in use when that fails). None: cannot renew.
        password = _compat.stored_password(username)
        if not password or not _compat.authenticate(self, username, password):
            return None
        info = _compat.auth_info(self)
        return info.token, info.expiration_time

    # -- queries (adql.py builds the ADQL, tap.py runs it) ------------------------------

    def _tap(self, authenticated, cache):
        for name, value in (("authenticated", authenticated), ("cache", cache)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}.")
        client = tap.TapClient(self, authenticated=authenticated, cache=cache)
        return client, client.schema()

    @staticmethod
    def _chunk_size(chunk_size):
        size = conf.id_chunk_size if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}.")
        return size

    def _resolve(self, cache, **values):
        # The archive's spelling of collections, instruments, categories, extensions;
        # anonymous (public metadata), one SELECT DISTINCT per column and instance.
        given = {name: value for name, value in values.items() if value is not None}
        if not given or not conf.match_archive_values:
            return values
        vocabulary = Vocabulary(tap.TapClient(self, cache=cache), self.vocabulary_cache,
                                refresh=not cache)
        return {name: vocabulary.resolve(name, value) for name, value in values.items()}

    def _listed_products(self, product_ids, *, authenticated, cache):
        # The ids phase3v2.product_files lists at all (whatever their categories).
        client, schema = self._tap(authenticated, cache)
        plan = adql.plan_file_query(schema.product_files, size_column=schema.size_column,
                                    columns=["product_id"])
        listed = tap.run_selection(client, plan, product_ids=product_ids,
                                   chunk_size=self._chunk_size(None),
                                   split_on_overflow=True).table
        return set(tables.texts(listed, "product_id"))

    @staticmethod
    def _call_limit(ROW_LIMIT, maxrec):
        # ESO's own query_ancillary takes ROW_LIMIT= and maxrec= per call.
        given = [(name, value) for name, value in (("ROW_LIMIT", ROW_LIMIT),
                                                    ("maxrec", maxrec)) if value is not None]
        for name, value in given:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int (-1 or 0: no limit), got {value!r}.")
        if len(given) == 2 and maxrec != ROW_LIMIT:
            raise ValueError(f"ROW_LIMIT={ROW_LIMIT} and maxrec={maxrec} disagree; they mean "
                             "the same (the row limit of this call): give one.")
        return given[0][1] if given else None

    def get_product_files(self, product_ids, *, categories=None, columns=None, cache=True,
                          authenticated=False, get_query_payload=False, async_job=False,
                          chunk_size=None, datalink=True):
        """
        Every file (science and ancillary) of one or many products.

        Look-ups by id are not open-ended: every file of every product given is
        returned, whatever ``ROW_LIMIT`` says.

        Parameters
        ----------
        product_ids : str, list of str, `~astropy.table.Column` or `~astropy.table.Table`
            Product ids (``dp_id``), e.g. ``'ADP.2024-03-19T05:58:04.407'``; a
            table needs a ``product_id`` or ``dp_id`` column. Repeated ids are
            looked up once.
        categories : str or list of str, optional
            Keep only files whose ``eso_category`` is one of these exact values
            or shell-style wildcards (``'ANCILLARY.*'``, ``'*PREVIEW'``; ``*``
            any run, ``?`` one character). Default: all files.
        columns : str or list of str, optional
            Columns of ``phase3v2.product_files`` to return (default all).
        cache : bool, optional
            Use astroquery's cache (default True; never for authenticated queries).
        authenticated : bool, optional
            Send the token of `login` with the query (for proprietary metadata).
        get_query_payload : bool, optional
            Return the ADQL instead of running it (a list when the ids need
            several queries).
        async_job : bool, optional
            Run each query as an asynchronous TAP job.
        chunk_size : int, optional
            Product ids per query; default ``conf.id_chunk_size``.
        datalink : bool, optional
            Ask DataLink for the files of products ``phase3v2.product_files``
            does not list (obsolete or deprecated ones); default True.

        Returns
        -------
        `~astropy.table.Table`
            One row per file: product_id, archive_id, eso_category, extension,
            original_filename, access_estsize (kB), access_url, internal_file_id,
            source (``'product_files'`` or ``'datalink'``);
            grouped by product in the order given, the science file first.
            Ids without files are named in one
            `~astroquery.exceptions.NoResultsWarning`.

        Examples
        --------
        >>> files = Eso.get_product_files('ADP.2024-03-19T05:58:04.407')  # doctest: +SKIP
        >>> files['archive_id', 'eso_category']  # doctest: +SKIP
        """
        ids = as_product_ids(product_ids)
        chunk_size = self._chunk_size(chunk_size)
        client, schema = self._tap(authenticated, cache)
        categories = self._resolve(cache, categories=categories)["categories"]
        plan = adql.plan_file_query(schema.product_files, size_column=schema.size_column,
                                    columns=columns, categories=categories)
        if get_query_payload:
            return tap.selection_queries(plan, product_ids=ids, chunk_size=chunk_size)
        selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=chunk_size,
                                      async_job=bool(async_job), split_on_overflow=True)
        found = set(tables.texts(selection.full, "product_id"))
        missing = [pid for pid in ids if pid not in found]
        extra, existing = None, set()
        if missing and categories is not None:
            existing = self._listed_products(missing, authenticated=authenticated, cache=cache)
        if missing and datalink:
            extra, linked = self._datalink_product_files(
                [pid for pid in missing if pid not in existing], categories=categories,
                authenticated=authenticated, cache=cache)
            existing |= linked
            missing = [pid for pid in missing if pid not in set(extra["product_id"])]
        _warn_missing(ids, missing, existing, categories=categories,
                      where="the archive" if datalink else adql.PRODUCT_FILES)
        merged = tables.merge_product_files(selection.full, extra, ids)
        return merged[[*selection.table.colnames, "source"]]

    def query_ancillary(self, product_ids=None, *, dp_id=None, collections=None,
                        instruments=None, categories=ANCILLARY_CATEGORIES, extensions=None,
                        original_filename=None, coordinates=None, radius=None, cone_ra=None,
                        cone_dec=None, cone_radius=None, column_filters=None,
                        obscore_filters=None, columns=None, top=None, count_only=False,
                        get_query_payload=False, help=False, authenticated=False,
                        order_by=None, order_by_desc=True, cache=True, async_job=None,
                        chunk_size=None, ROW_LIMIT=None, maxrec=None):
        """
        Ancillary files selected by product, by product properties and by file properties.

        Files come from ``phase3v2.product_files``, joined to ``ivoa.ObsCore``
        when a product property is used. ``ROW_LIMIT`` bounds the rows as in
        astroquery's ESO queries.

        Parameters
        ----------
        product_ids : str, list of str, Column or Table, optional
            Only files of these products (a str may list several,
            comma-separated; a table needs a ``product_id``, ``dp_id``,
            ``DP.ID`` or ``ARCFILE`` column).
        dp_id : str, list of str, Column or Table, optional
            Another name of ``product_ids``, as in ESO's own
            ``query_ancillary(dp_id=...)``; give one of the two.
        collections, instruments : str or list of str, optional
            ``obs_collection`` / ``instrument_name`` values or wildcards
            (``'MUSE'``, ``'VVV*'``; a str may list several, comma-separated).
            Matched case-insensitively to the archive's values (``'muse'``
            finds ``MUSE``); a value matching none raises ValueError naming
            the closest ones.
        categories : str or list of str, optional
            ``eso_category`` values or wildcards; default every ancillary file
            (``'ANCILLARY.*'``); None for all files, science ones included.
            Checked against the archive's categories as ``collections`` is.
        extensions : str or list of str, optional
            File types (``'PNG'``, ``['FITS', 'FZ']``), checked likewise.
        original_filename : str or list of str, optional
            Original file names or wildcards (``'ES_SFLA_*'``). Patterns are
            exact: ``_`` and ``%`` are ordinary characters, ``*`` any run, ``?``
            one character.
        coordinates : `~astropy.coordinates.SkyCoord` or str, optional
            Products whose footprint (``s_region``) meets a cone around this
            position: a SkyCoord in any frame (converted to ICRS), or a str
            parsed or resolved (object names, via Sesame) as
            ``astroquery.utils.parse_coordinates`` does.
        radius : `~astropy.units.Quantity`, `~astropy.coordinates.Angle`, str or float, optional
            The cone's radius (a float is degrees, a str such as ``'5arcmin'``
            is parsed); default 1 arcmin (`~astroquery_eso_ancillary.sky.DEFAULT_RADIUS`).
        cone_ra, cone_dec, cone_radius : float or `~astropy.units.Quantity`, optional
            The cone as astroquery.eso takes it (ICRS, degrees unless a
            Quantity): ``INTERSECTS(s_region, CIRCLE(...)) = 1``. Not with
            ``coordinates``.
        column_filters : dict, optional
            Conditions on ``phase3v2.product_files`` columns in astroquery's
            syntax: ``{'access_estsize': '> 1000'}``, ``{'extension':
            "in ('FITS', 'PNG')"}``, ``"like 'r.MUSE%'"``, ``'between 1 and 2'``,
            ``'is not null'``, a bare value (``= 'value'``), a number, a
            `~astropy.time.Time`, ``datetime.datetime`` or ``datetime.date`` (ISO
            text; MJD on numeric columns such as ``t_min``), a
            `~astropy.units.Quantity` (converted to the column's unit), a list
            (``IN``) or a tuple opening with an operator (``('between', lo,
            hi)``, ``('>', value)``). Values are parsed and quoted, never pasted.
        obscore_filters : dict, optional
            The same on ``ivoa.ObsCore`` columns (``target_name``,
            ``obs_release_date``, ``proposal_id`` ...).
        columns : str or list of str, optional
            Columns to return: ``phase3v2.product_files`` ones, or ObsCore ones.
        top : int, optional
            Only the first ``top`` files.
        count_only : bool, optional
            Return the number of files (an int) instead.
        get_query_payload : bool, optional
            Return the ADQL instead of running it.
        help : bool, optional
            Log the columns usable in ``columns``/``column_filters``/
            ``obscore_filters`` (with units and descriptions) and return None.
        authenticated : bool, optional
            Send the token of `login` with the query.
        order_by : str, optional
            Sort on the service by this column; default: by product (in the
            order of ``product_ids`` when given), science file first, then
            archive_id.
        order_by_desc : bool, optional
            Descending sort for ``order_by`` (default True, as astroquery).
        cache : bool, optional
            Use astroquery's cache (default True; never for authenticated queries).
        async_job : bool, optional
            True: run as asynchronous TAP jobs. Default (None): only when a
            count says the selection exceeds ``conf.async_threshold`` rows and
            ``ROW_LIMIT`` allows that many.
        chunk_size : int, optional
            Product ids per query; default ``conf.id_chunk_size``.
        ROW_LIMIT, maxrec : int, optional
            The row limit of this call only (as ``Eso.ROW_LIMIT``; -1 or 0:
            no limit), the keywords of ESO's own ``query_ancillary``.

        Returns
        -------
        `~astropy.table.Table`, int, str, list of str or None
            String columns are fixed-width unicode (the table writes to FITS,
            ECSV, VOTable and HDF5 as it is); columns carry the units of
            ``TAP_SCHEMA``; dates (``obs_release_date``) are ISO 8601 strings
            (``Time(table['obs_release_date'])`` makes them times). When
            ``product_ids`` select nothing, a
            `~astroquery.exceptions.NoResultsWarning` tells ids unknown to
            the archive from ids without matching files.

        Examples
        --------
        >>> Eso.query_ancillary('ADP.2021-04-12T12:27:33.887', categories='ANCILLARY.SPECTRUM',
        ...                     original_filename='ES_SFLA_*')  # doctest: +SKIP
        >>> Eso.ROW_LIMIT = -1  # doctest: +SKIP
        >>> previews = Eso.query_ancillary(collections='MUSE',
        ...                                categories='ANCILLARY.PREVIEW')  # doctest: +SKIP
        """
        if dp_id is not None and product_ids is not None:
            raise ValueError("dp_id and product_ids are the same argument; give one.")
        product_ids = dp_id if product_ids is None else product_ids
        ids = None if product_ids is None else as_product_ids(product_ids)
        limit = self._call_limit(ROW_LIMIT, maxrec)
        limit = _compat.row_limit(self) if limit is None else _compat.limit_value(limit)
        chunk_size = self._chunk_size(chunk_size)
        cone = sky.cone(coordinates=coordinates, radius=radius, cone_ra=cone_ra,
                        cone_dec=cone_dec, cone_radius=cone_radius)
        client, schema = self._tap(authenticated, cache)
        if help:
            log.info("\n" + tables.schema_help(schema))
            return None
        resolved = self._resolve(
            cache, collections=collections, instruments=instruments, extensions=extensions,
            categories=None if categories == ANCILLARY_CATEGORIES else categories)
        collections, instruments = resolved["collections"], resolved["instruments"]
        extensions = resolved["extensions"]
        categories = resolved["categories"] or categories
        plan = adql.plan_file_query(
            schema.product_files, schema.obscore, size_column=schema.size_column,
            columns=columns, categories=categories, extensions=extensions,
            original_filename=original_filename, collections=collections,
            instruments=instruments, cone=cone, column_filters=column_filters,
            obscore_filters=obscore_filters, top=top, order_by=order_by or None,
            descending=order_by_desc)
        if get_query_payload:
            return tap.selection_queries(plan, product_ids=ids, chunk_size=chunk_size,
                                         count_only=count_only)
        selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=chunk_size,
                                      limit=limit, count_only=count_only,
                                      async_job=async_job)
        if count_only:
            return selection.count
        if len(selection.table) == 0 and ids:
            existing = self._listed_products(ids, authenticated=authenticated, cache=cache)
            _warn_missing(ids, ids, existing, categories=categories, where=adql.PRODUCT_FILES)
        elif len(selection.table) == 0:
            warnings.warn("Query returned no results", NoResultsWarning, stacklevel=2)
        return selection.table

    def list_ancillary_categories(self, *, collections=None, instruments=None,
                                  product_ids=None, coordinates=None, radius=None,
                                  cone_ra=None, cone_dec=None, cone_radius=None, cache=True,
                                  authenticated=False, get_query_payload=False,
                                  chunk_size=None):
        """
        The categories of ancillary files, with their number and total size.

        Parameters
        ----------
        collections, instruments : str or list of str, optional
            Only products of these collections/instruments (values or
            wildcards, matched to the archive's values as in `query_ancillary`).
        product_ids : str, list of str, Column or Table, optional
            Only files of these products.
        coordinates, radius, cone_ra, cone_dec, cone_radius : optional
            Only products whose footprint meets this cone, as in `query_ancillary`.
        cache, authenticated, get_query_payload, chunk_size
            As in `query_ancillary`.

        Returns
        -------
        `~astropy.table.Table`
            eso_category, n_files and access_estsize (total, kB), most
            frequent first.

        Examples
        --------
        >>> Eso.list_ancillary_categories(collections='MUSE')  # doctest: +SKIP

        See `~astroquery_eso_ancillary.plot.plot_categories` to draw the result.
        """
        ids = None if product_ids is None else as_product_ids(product_ids)
        chunk_size = self._chunk_size(chunk_size)
        cone = sky.cone(coordinates=coordinates, radius=radius, cone_ra=cone_ra,
                        cone_dec=cone_dec, cone_radius=cone_radius)
        client, schema = self._tap(authenticated, cache)
        resolved = self._resolve(cache, collections=collections, instruments=instruments)
        plan = adql.plan_category_query(schema.product_files, schema.obscore,
                                        size_column=schema.size_column,
                                        collections=resolved["collections"],
                                        instruments=resolved["instruments"], cone=cone)
        if get_query_payload:
            return tap.selection_queries(plan.query, product_ids=ids, chunk_size=chunk_size)
        selection = tap.run_categories(client, plan, product_ids=ids, chunk_size=chunk_size)
        if len(selection.table) == 0:
            warnings.warn("No ancillary files found", NoResultsWarning, stacklevel=2)
        return selection.table

    # -- downloads and DataLink (download.py, datalink.py) ------------------------------

    def _download_credentials(self, authenticated):
        # Checked before any request: an expired login fails here, not mid-transfer.
        if authenticated is None:
            return self.credentials(required=False)
        return self.credentials() if authenticated else None

    def download_ancillary(self, files, *, destination=None, categories=None,
                           overwrite=False, continuation=True, max_workers=None,
                           executor=None, unzip=False, progress=True, authenticated=None,
                           timeout=None, max_retries=None, verify=False):
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
            per finished file. Each task carries the request headers, so
            when authenticated the token travels to the executor's workers.
            Give either ``executor`` or ``max_workers``.
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
        verify : bool, optional
            Also verify the ``CHECKSUM`` and ``DATASUM`` keywords of FITS files
            (ESO Phase 3 products carry them) with astropy; a file that fails
            is an error row, its bytes kept aside as ``<archive_id>.rejected``.
            FITS files are always checked to be whole 2880-byte blocks. Off by
            default: it reads each FITS file once more (160-480 MB/s on one core
            here, about 5-10 s for ESO's largest 1.8 GB weight maps), small next to
            ESO's 1-2 MB/s per connection, but a real cost on a fast link.

        Returns
        -------
        manifest : `~astropy.table.Table`
            One row per file: archive_id, product_id, eso_category, url,
            local_path, size (bytes on disk), status, message (why, for
            anything but ``downloaded``), http_status, attempts. Status is
            ``downloaded``; ``resumed`` (completed by continuing a partial
            download, left by an earlier run or by a dropped connection);
            ``skipped-existing`` (a complete file was there and
            ``overwrite=False``); or ``error``. Failures are rows, never
            missing; their count is logged as a warning.

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
        download.check_options(destination=destination, overwrite=overwrite,
                               continuation=continuation, max_workers=max_workers,
                               executor=executor, unzip=unzip, progress=progress,
                               authenticated=authenticated, timeout=timeout,
                               max_retries=max_retries, verify=verify)
        credentials = self._download_credentials(authenticated)
        if categories is not None:
            if isinstance(files, Row):
                files = files.table[files.index:files.index + 1]
            if isinstance(files, Table):
                files = tables.filter_categories(files, categories)
            else:
                files = self.get_product_files(files, categories=categories)
        folder = Path(destination or conf.download_dir).expanduser().absolute()
        options = download.DownloadOptions(
            str(folder), overwrite=bool(overwrite), continuation=bool(continuation),
            unzip=bool(unzip), timeout=float(timeout or self.timeout),
            retry=transport.RetryPolicy.from_conf(retries=max_retries),
            credentials=credentials, verify=bool(verify))
        jobs = download.make_jobs(files, download_url=self.DOWNLOAD_URL, options=options)
        download.prepare_destination(folder)
        if jobs:
            log.info(f"Downloading {len(jobs)} files to {folder} ...")
        try:
            rows = download.download_files(
                jobs, executor=executor, max_workers=max_workers or conf.download_workers,
                host_connections=conf.host_connections,
                progress=download.progress_enabled(progress),
                expected_bytes=download.estimate_bytes(job.estsize_kb for job in jobs))
        except download.DownloadInterrupted as stop:
            stop.manifest = download.manifest_table(stop.rows)
            download.summarize(stop.rows)
            raise
        download.summarize(rows)
        return download.manifest_table(rows)

    def _datalink_get(self, authenticated, cache):
        # How DataLink requests go out: cached through astroquery when anonymous,
        # with the token (and never cached) when authenticated.
        if authenticated:
            credentials = self.credentials()

            def get(url, *, params, timeout):
                with transport.new_session(transport.auth_headers(url, credentials)) as session:
                    return session.get(url, params=params, timeout=timeout)
            return get

        def get(url, *, params, timeout):
            return _compat.cached_request(self, "GET", url, params=params, timeout=timeout,
                                          cache=cache)
        return get

    def _datalink_forget(self, authenticated, cache):
        # An unusable answer (HTML, broken VOTable) must not stay in astroquery's cache.
        if authenticated or not cache:
            return None
        return lambda: _compat.drop_cached_response(self)

    def _datalink_product_files(self, product_ids, *, categories, authenticated, cache):
        # get_product_files' fallback: the #this/#auxiliary rows of products that
        # phase3v2.product_files does not list (products merely lacking the categories
        # asked are listed, and not given here), as product-file rows; and the ids
        # DataLink knows (whatever their categories).
        if not product_ids:
            return links.product_file_rows(Table(), []), set()
        found = links.fetch_links(product_ids, url=self.datalink_url,
                                  get=self._datalink_get(authenticated, cache),
                                  timeout=self.timeout,
                                  forget=self._datalink_forget(authenticated, cache))
        rows = links.product_file_rows(found, product_ids)
        known = set(tables.texts(rows, "product_id")) if len(rows) else set()
        return tables.filter_categories(rows, categories), known

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
        ids = as_product_ids(product_ids)
        wanted = links.normalise_semantics(semantics)
        if not isinstance(cache, bool) or not isinstance(authenticated, bool):
            raise TypeError("cache and authenticated must be True or False.")
        table = links.fetch_links(
            ids, url=self.datalink_url, get=self._datalink_get(authenticated, cache),
            batch_size=links.BATCH_SIZE if batch_size is None else batch_size,
            timeout=self.timeout, forget=self._datalink_forget(authenticated, cache))
        if wanted is not None and len(table):
            keep = [str(value) in wanted for value in table["semantics"]]
            table = table[keep]
        return tables.fixed_width_strings(table)


def _shown(ids):
    return ", ".join(ids[:10]) + (f" ... ({len(ids) - 10} more)" if len(ids) > 10 else "")


def _warn_missing(ids, missing, existing, *, categories, where):
    """One NoResultsWarning telling unknown product ids from those without such files."""
    if not missing:
        return
    unknown = [pid for pid in missing if pid not in existing]
    lacking = [pid for pid in missing if pid in existing]
    parts = []
    if unknown:
        parts.append(f"{len(unknown)} of {len(ids)} product id(s) not found in {where}: "
                     f"{_shown(unknown)}")
    if lacking:
        what = "files" if categories is None else f"files of categories={categories!r}"
        parts.append(f"{len(lacking)} of {len(ids)} product id(s) have no {what}: "
                     f"{_shown(lacking)}")
    warnings.warn("; ".join(parts), NoResultsWarning, stacklevel=3)


Eso = EsoClass()
