# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Running ADQL on the ESO TAP service.

`TapClient` sends one query: synchronously through astroquery's cache (when
unauthenticated), or as an asynchronous UWS job through pyvo (always
deleted afterwards). Connection errors, 429 and 5xx answers are retried with
exponential backoff (``Retry-After`` wins), then raise `EsoServiceError`;
errors reported by the service raise `EsoQueryError` with its message. The
table schemas (units, descriptions, the name of the size column) are read
once per instance and TAP URL from ``TAP_SCHEMA.columns``.

`run_selection` runs a `~astroquery_eso_ancillary.adql.FileQuery` over chunks
of product ids, with exact client-side pattern refinement, ``top`` and row
limits, and merges the results.
"""
import datetime
import email.utils
import io
import time
import warnings
from dataclasses import dataclass

import astropy.units as u
import requests
from astropy.io.votable import parse as parse_votable
from astropy.table import Table, vstack
from astroquery import log
from astroquery.exceptions import MaxResultsWarning
from pyvo.dal import AsyncTAPJob, DALResults
from pyvo.dal.exceptions import (
    DALFormatError,
    DALOverflowWarning,
    DALQueryError,
    DALServiceError,
)

from . import _compat, adql, conf
from .exceptions import EsoQueryError, EsoServiceError, LoginError

__all__ = ["ColumnInfo", "Result", "Schema", "Selection", "TapClient", "describe", "order_rows",
           "run_categories", "run_selection", "schema_help", "selection_queries",
           "send_with_retries"]

#: The size column is returned under this name whatever the service calls it.
SIZE_COLUMN = "access_estsize"
#: Names the size column of phase3v2.product_files has had, newest first.
SIZE_COLUMN_NAMES = ("access_estsize", "size_kb")
#: Longest wait between retries or polls, whatever Retry-After says.
MAX_WAIT = 60.0
#: Execution time asked for asynchronous jobs: ESO's maximum (its default is 60 s, the
#: same as the sync limit async jobs are there to escape).
ASYNC_EXECUTION_DURATION = 3600
#: Longest time an asynchronous job is waited for.
ASYNC_MAX_WAIT = ASYNC_EXECUTION_DURATION + 400.0
_ACTIVE_PHASES = frozenset({"PENDING", "QUEUED", "EXECUTING", "HELD", "SUSPENDED", "UNKNOWN"})
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a TAP table, from ``TAP_SCHEMA.columns``."""

    name: str
    datatype: str = ""
    unit: str = ""
    description: str = ""

    @property
    def kind(self):
        return adql.column_kind(self.datatype)


@dataclass(frozen=True)
class Schema:
    """The columns of ``phase3v2.product_files`` and ``ivoa.ObsCore`` on one service."""

    product_files: dict
    obscore: dict

    @property
    def size_column(self):
        """The service's name of the estimated-size column (None if it has none)."""
        for name in SIZE_COLUMN_NAMES:
            if name in self.product_files:
                return name
        return None


@dataclass
class Result:
    """One query's rows, and whether the service cut them at MAXREC."""

    table: Table
    overflow: bool
    query: str


def _retry_after(response):
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _complete(response):
    """Return ``response``, or raise ChunkedEncodingError if its body came short.

    urllib3 2 detects a body cut before its Content-Length; urllib3 1.26 hands
    it over silently, so check here whichever is installed.
    """
    expected = response.headers.get("Content-Length")
    if (expected and expected.isdigit() and not response.headers.get("Content-Encoding")
            and len(response.content) < int(expected)):
        raise requests.exceptions.ChunkedEncodingError(
            f"body cut at {len(response.content)} of {expected} bytes")
    return response


def send_with_retries(send, url):
    """Call ``send()`` (which returns a response) until it is not a 429/5xx.

    Connection errors, 429 and 5xx are retried ``conf.max_retries`` times,
    waiting ``conf.backoff`` seconds, doubled each time, or what the
    service's ``Retry-After`` asks; then `EsoServiceError`.

    Examples
    --------
    >>> import requests
    >>> r = requests.Response(); r.status_code = 200
    >>> send_with_retries(lambda: r, "http://example.invalid").status_code
    200
    """
    attempts = int(conf.max_retries) + 1
    delay = float(conf.backoff)
    problem = "no attempt"
    for attempt in range(attempts):
        wait = delay
        try:
            response = send()
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # The text of a requests exception can hold the URL's query; keep only the type.
            problem = type(exc).__name__
        except requests.Timeout as exc:
            raise EsoServiceError(f"No answer from {url} within the timeout "
                                  f"({type(exc).__name__}). Raise the timeout, or run "
                                  "large selections with async_job=True.") from None
        else:
            if response.status_code not in _RETRY_STATUS:
                return response
            problem = f"HTTP {response.status_code}"
            wait = _retry_after(response)
            wait = delay if wait is None else wait
        if attempt + 1 < attempts:
            log.debug(f"{url}: {problem}; retrying in {wait:.2f} s "
                      f"({attempt + 1}/{attempts - 1})")
            time.sleep(min(wait, MAX_WAIT))
            delay *= 2
    raise EsoServiceError(f"{url} kept failing after {attempts} attempts "
                          f"(last: {problem}).")


class _Session(requests.Session):
    """A plain session (no astroquery logging hook) with retries and a default timeout."""

    def __init__(self, *, timeout, headers=None, user_agent=None):
        super().__init__()
        self._timeout = timeout
        if user_agent:
            self.headers["User-Agent"] = user_agent
        self.headers.update(headers or {})

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        # pyvo asks for streamed bodies and does not always read them, which leaks
        # the connection; read every body now and hand pyvo a file-like copy.
        kwargs["stream"] = False

        def send():
            return _complete(requests.Session.request(self, method, url, **kwargs))

        response = send_with_retries(send, url)
        response.raw = _Body(response.content)
        return response


class _Body(io.BytesIO):
    """A read body that answers ``read(..., decode_content=...)`` like urllib3's."""

    def read(self, size=-1, decode_content=True, **_):
        return super().read(-1 if size is None else size)


class TapClient:
    """Send ADQL to the TAP service of one `EsoClass` instance.

    Parameters
    ----------
    eso : `~astroquery_eso_ancillary.EsoClass`
        Gives the TAP URL, timeout, cache and login.
    authenticated : bool
        Send the login's token with each query (never cached, never left on
        the instance's shared session).
    cache : bool
        Use astroquery's cache for unauthenticated synchronous queries.

    Examples
    --------
    >>> from astroquery_eso_ancillary import Eso
    >>> client = TapClient(Eso(archive_url="http://127.0.0.1:1"))
    >>> client.url
    'http://127.0.0.1:1/tap_obs'
    """

    def __init__(self, eso, *, authenticated=False, cache=True):
        self.eso = eso
        self.url = eso.tap_url.rstrip("/")
        self.authenticated = bool(authenticated)
        self.cache = bool(cache) and not self.authenticated
        if self.authenticated and _compat.auth_info(eso) is None:
            raise LoginError("authenticated=True needs a login first: call "
                             "Eso.login(username) (or use authenticated=False for public "
                             "metadata).")

    # -- sending -------------------------------------------------------------------

    def _session(self):
        headers = self.eso._get_auth_header() if self.authenticated else {}
        user_agent = self.eso._session.headers.get("User-Agent")
        return _Session(timeout=self.eso.timeout, headers=headers, user_agent=user_agent)

    def run(self, query, *, maxrec=None, async_job=False):
        """Run one ADQL query; return a `Result`.

        Parameters
        ----------
        query : str
            The ADQL.
        maxrec : int, optional
            The TAP MAXREC (the service's default if None).
        async_job : bool
            Run as a UWS job (submit, run, poll, fetch, delete).

        Examples
        --------
        >>> result = TapClient(Eso).run("SELECT TOP 1 product_id FROM phase3v2.product_files",
        ...                             maxrec=1)  # doctest: +SKIP
        >>> result.table, result.overflow  # doctest: +SKIP
        """
        if async_job:
            return self._run_async(query, maxrec)
        return self._run_sync(query, maxrec)

    def _run_sync(self, query, maxrec):
        url = self.url + "/sync"
        data = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": query}
        if maxrec is not None:
            data["MAXREC"] = str(int(maxrec))
        if not self.cache:
            # Not through astroquery's _request: its logging hook decodes and
            # re-indents every response body whatever the log level (1 s on 28 MB).
            with self._session() as session:
                response = session.post(url, data=data)
        else:
            def send():
                response = _compat.cached_request(self.eso, "POST", url, data=data,
                                                  timeout=self.eso.timeout, cache=True)
                try:
                    return _complete(response)
                except requests.exceptions.ChunkedEncodingError:
                    _compat.drop_cached_response(self.eso)
                    raise

            response = send_with_retries(send, url)
        if response.status_code in (401, 403):
            raise LoginError(f"The archive refused the query (HTTP {response.status_code}); "
                             "log in again with Eso.login().")
        try:
            return self._parse(response.content, response.status_code, query, url, maxrec)
        except (EsoQueryError, EsoServiceError):
            if self.cache:  # never replay an unusable answer from the cache
                _compat.drop_cached_response(self.eso)
            raise

    def _parse(self, content, status, query, url, maxrec):
        try:
            votable = parse_votable(io.BytesIO(content), verify="ignore")
        except Exception:
            text = content[:300].decode("utf-8", "replace").strip()
            if 400 <= status < 500:
                raise EsoQueryError(f"HTTP {status}: {text}", query=query,
                                    url=self.url) from None
            raise EsoServiceError(f"{url} answered HTTP {status} with something that is not "
                                  f"a VOTable: {text!r}") from None
        try:
            with warnings.catch_warnings():
                # Overflow is expected (maxrec = limit + 1) and reported by our callers.
                warnings.simplefilter("ignore", DALOverflowWarning)
                results = DALResults(votable, url=url)
        except DALQueryError as exc:
            raise EsoQueryError(exc.reason or "The service reported an error.",
                                query=query, url=self.url) from None
        except DALFormatError as exc:
            raise EsoServiceError(f"{url} sent a VOTable without a result table "
                                  f"(HTTP {status}): {exc.reason}") from None
        if status != 200:
            raise EsoQueryError(f"HTTP {status} without an error message.", query=query,
                                url=self.url)
        return self._result(results, query)

    @staticmethod
    def _result(results, query):
        overflow = str(results.status[0]).upper() == "OVERFLOW"
        return Result(results.to_table(), overflow, query)

    def _run_async(self, query, maxrec):
        session = self._session()
        job = None
        try:
            try:
                job = AsyncTAPJob.create(self.url, query, maxrec=maxrec, session=session)
                try:
                    job.execution_duration = ASYNC_EXECUTION_DURATION
                except DALServiceError:  # the service keeps its default; not fatal
                    log.debug(f"{job.url} refused EXECUTIONDURATION; keeping its default.")
                job.run()
                phase = self._wait(job)
                if phase != "COMPLETED":
                    job.raise_if_error()
                    raise EsoServiceError(f"The asynchronous job {job.url} ended in phase "
                                          f"{phase}.")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DALOverflowWarning)
                    results = job.fetch_result()
            except DALQueryError as exc:
                message = (exc.reason or "").removeprefix("Query Error: ")
                raise EsoQueryError(message or "The service reported an error.",
                                    query=query, url=self.url) from None
            except DALServiceError as exc:
                if exc.code in (401, 403):
                    raise LoginError(f"The archive refused the job (HTTP {exc.code}); log in "
                                     "again with Eso.login().") from None
                if exc.code and 400 <= exc.code < 500:
                    raise EsoQueryError(f"HTTP {exc.code}: {exc.reason}", query=query,
                                        url=self.url) from None
                raise EsoServiceError(f"Asynchronous query on {self.url} failed: "
                                      f"{exc.reason}") from None
            return self._result(results, query)
        finally:
            if job is not None and job.url is not None:
                try:
                    job.delete()
                except (DALServiceError, EsoServiceError, requests.RequestException):
                    log.warning(f"Could not delete the asynchronous job {job.url}; the "
                                "service removes it after its destruction time.")
            session.close()

    @staticmethod
    def _wait(job):
        delay = max(float(conf.backoff), 0.05)
        deadline = time.monotonic() + ASYNC_MAX_WAIT
        while True:
            phase = job.phase
            if phase not in _ACTIVE_PHASES:
                return phase
            if time.monotonic() > deadline:
                raise EsoServiceError(f"The asynchronous job {job.url} is still {phase} "
                                      f"after {ASYNC_MAX_WAIT:.0f} s.")
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def count(self, query, *, async_job=False):
        """Run a ``SELECT COUNT(*)`` query and return the count as an int.

        Examples
        --------
        >>> TapClient(Eso).count("SELECT COUNT(*) FROM ivoa.ObsCore")  # doctest: +SKIP
        """
        table = self.run(query, async_job=async_job).table
        if len(table) == 0 or not table.colnames:
            raise EsoServiceError(f"{self.url} returned no row for a COUNT query.")
        return int(table[table.colnames[0]][0])

    # -- schema --------------------------------------------------------------------

    def schema(self):
        """The `Schema` of this service, read once per instance and TAP URL.

        Examples
        --------
        >>> TapClient(Eso).schema().size_column  # doctest: +SKIP
        'access_estsize'
        """
        cache = self.eso.__dict__.setdefault("_ancillary_schemas", {})
        if self.url not in cache:
            names = (adql.PRODUCT_FILES, adql.OBSCORE, adql.OBSCORE.lower())
            query = adql.select(
                ["table_name", "column_name", "datatype", "unit", "description"],
                "TAP_SCHEMA.columns", [adql.in_condition("table_name", names)])
            client = TapClient(self.eso, cache=True)
            result = client.run(query, maxrec=_compat.max_row_limit())
            if result.overflow:
                raise EsoServiceError(f"{self.url} cut the TAP_SCHEMA.columns answer at "
                                      f"{len(result.table)} rows; cannot read the schema.")
            table = result.table
            tables = {adql.PRODUCT_FILES.lower(): {}, adql.OBSCORE.lower(): {}}
            for row in table:
                info = ColumnInfo(*(_text(row[c]) for c in
                                    ("column_name", "datatype", "unit", "description")))
                tables[_text(row["table_name"]).lower()][info.name] = info
            if not tables[adql.PRODUCT_FILES.lower()]:
                raise EsoServiceError(f"{self.url} does not publish {adql.PRODUCT_FILES} "
                                      "in TAP_SCHEMA.columns.")
            cache[self.url] = Schema(tables[adql.PRODUCT_FILES.lower()],
                                     tables[adql.OBSCORE.lower()])
        return cache[self.url]


def _text(value):
    if value is None or getattr(value, "mask", False) is True:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if str(value) == "--" else str(value)


# -- selections ----------------------------------------------------------------------


@dataclass
class Selection:
    """What `run_selection` found: rows (or a count) and the ADQL sent for them."""

    table: Table | None
    count: int | None
    queries: list
    maxrec: int | None = None


def texts(table, name):
    """The values of a column as a list of str ("" for masked), fast on large tables.

    Examples
    --------
    >>> texts(Table({"a": ["x", "y"]}), "a")
    ['x', 'y']
    """
    return [_text(v) for v in table[name].tolist()]


def _refined(table, refinements):
    if not refinements or len(table) == 0:
        return table
    keep = [True] * len(table)
    for _, name, patterns in refinements:
        for i, value in enumerate(texts(table, name)):
            keep[i] = keep[i] and patterns.match(value)
    return table[keep]


def _fetch(client, query, *, want, refinements, async_job):
    """Rows of one query, refined; at least ``want`` of them when that many exist.

    Without refinement the service cuts at MAXREC = ``want``; with refinement
    (the LIKE sent selects a superset) MAXREC grows until enough refined rows
    arrive or the service has no more. Returns (table, service_cut, maxrec):
    ``service_cut`` says the service stopped below the MAXREC asked (its own
    limit), so rows are missing.
    """
    unlimited = _compat.max_row_limit()
    maxrec = unlimited if want is None else want
    if refinements and want is not None:
        maxrec = min(max(4 * want, 1000), unlimited)
    while True:
        result = client.run(query, maxrec=maxrec, async_job=async_job)
        service_cut = result.overflow and len(result.table) < maxrec
        table = _refined(result.table, refinements)
        if (not refinements or not result.overflow or service_cut or maxrec >= unlimited
                or len(table) >= want):
            return table, service_cut, maxrec
        maxrec = min(maxrec * 8, unlimited)


def _warn_service_limit(n):
    warnings.warn(f"The service stopped at {n} rows (its own limit): the result is "
                  "incomplete. Narrow the selection or split it.", MaxResultsWarning,
                  stacklevel=2)


def _chunks(product_ids, chunk_size):
    if not product_ids:
        return [None]
    return adql.chunked(product_ids, chunk_size or conf.id_chunk_size)


def _render(plan, ids, refinements, count_only):
    """The ADQL of one chunk, as `run_selection` sends it."""
    if count_only and refinements:
        # Count on the client: fetch only the columns the exact filter needs.
        return plan.render(ids, columns=[sql for sql, _, _ in refinements], top=False,
                           order=False)
    if count_only:
        return plan.render(ids, count=True)
    # With refinement, TOP moves to the client (applied after the exact filter).
    return plan.render(ids, top=not refinements)


def selection_queries(plan, *, product_ids=None, chunk_size=None, refinements=(),
                      count_only=False):
    """The ADQL `run_selection` would send: a str, or a list when ids need several chunks.

    Examples
    --------
    >>> from astroquery_eso_ancillary.adql import FileQuery
    >>> selection_queries(FileQuery(("f.archive_id",)), product_ids=["A", "B", "C"],
    ...                   chunk_size=2)  # doctest: +NORMALIZE_WHITESPACE
    ["SELECT f.archive_id FROM phase3v2.product_files AS f WHERE f.product_id IN ('A', 'B')",
     "SELECT f.archive_id FROM phase3v2.product_files AS f WHERE f.product_id = 'C'"]
    """
    queries = [_render(plan, ids, refinements, count_only)
               for ids in _chunks(product_ids, chunk_size)]
    return queries[0] if len(queries) == 1 else queries


def _count(client, plan, chunks, refinements, async_job):
    total, queries = 0, []
    for ids in chunks:
        query = _render(plan, ids, refinements, True)
        if refinements:
            table, service_cut, _ = _fetch(client, query, want=None, refinements=refinements,
                                           async_job=async_job)
            if service_cut:
                _warn_service_limit(len(table))
            total += len(table)
        else:
            total += client.count(query, async_job=async_job)
        queries.append(query)
    return total, queries


def run_selection(client, plan, *, product_ids=None, chunk_size=None, limit=None,
                  refinements=(), count_only=False, async_job=None, split_on_overflow=False):
    """Run ``plan`` (a `~astroquery_eso_ancillary.adql.FileQuery`) and merge its rows.

    Parameters
    ----------
    client : `TapClient`
    plan : `~astroquery_eso_ancillary.adql.FileQuery`
    product_ids : list of str, optional
        Restrict to these products, sent in IN lists of ``chunk_size``
        (default ``conf.id_chunk_size``), chunk after chunk.
    limit : int, optional
        The row limit (None: unlimited). More matching rows give a
        `~astroquery.exceptions.MaxResultsWarning` and are cut.
    refinements : list of (select item, column name, `~astroquery_eso_ancillary.adql.PatternSet`)
        Exact filters applied on the client to the LIKE superset; ``top``,
        ``limit`` and ``count_only`` count the refined rows.
    count_only : bool
        Count the rows instead of fetching them.
    async_job : bool or None
        True: every query as a UWS job. None: as a job when a COUNT says an
        open-ended selection exceeds ``conf.async_threshold`` and the limit
        allows that many rows.
    split_on_overflow : bool
        For id look-ups: a chunk the service cuts is split in two and asked again.

    Returns
    -------
    `Selection`

    Examples
    --------
    >>> plan = adql.plan_file_query(TapClient(Eso).schema().product_files)  # doctest: +SKIP
    >>> run_selection(TapClient(Eso), plan.query, product_ids=["ADP.2024-03-19T05:58:04.407"]
    ...               ).table  # doctest: +SKIP
    """
    chunks = _chunks(product_ids, chunk_size)
    if count_only:
        total, queries = _count(client, plan, chunks, refinements, bool(async_job))
        return Selection(None, total if plan.top is None else min(total, plan.top), queries)
    cap = None if limit is None else limit + 1
    if plan.top is not None:
        cap = plan.top if cap is None else min(cap, plan.top)
    if async_job is None:
        async_job = False
        threshold = int(conf.async_threshold)
        if product_ids is None and (cap is None or cap > threshold):
            async_job = client.count(plan.render(None, count=True)) > threshold
    tables, queries, maxrec, pending = [], [], None, list(chunks)
    while pending:
        ids = pending.pop(0)
        want = None if cap is None else cap - sum(len(t) for t in tables)
        if want is not None and want <= 0:
            break
        query = _render(plan, ids, refinements, False)
        table, service_cut, maxrec = _fetch(client, query, want=want,
                                            refinements=refinements, async_job=async_job)
        queries.append(query)
        if service_cut and split_on_overflow and ids and len(ids) > 1:
            pending[:0] = [ids[:len(ids) // 2], ids[len(ids) // 2:]]
            continue
        if service_cut:
            _warn_service_limit(len(table))
        tables.append(table)
    table = tables[0] if len(tables) == 1 else vstack(tables, join_type="exact",
                                                       metadata_conflicts="silent")
    if plan.top is not None:
        table = table[:plan.top]
    if limit is not None and len(table) > limit:
        warnings.warn(f"Results truncated to {limit} rows (ROW_LIMIT). Set ROW_LIMIT to "
                      "None (or -1) to retrieve them all.", MaxResultsWarning, stacklevel=2)
        table = table[:limit]
    return Selection(table, None, queries, maxrec)


def run_categories(client, plan, *, product_ids=None, chunk_size=None, refinements=()):
    """Run a per-category summary plan (`~astroquery_eso_ancillary.adql.plan_category_query`).

    Groups are refined on the client, then merged over chunks: one row per
    ``eso_category`` with ``n_files`` and the total ``access_estsize`` (kB),
    most frequent first.

    Examples
    --------
    >>> schema = TapClient(Eso).schema()  # doctest: +SKIP
    >>> plan = adql.plan_category_query(schema.product_files, schema.obscore,
    ...                                 size_column=schema.size_column)  # doctest: +SKIP
    >>> run_categories(TapClient(Eso), plan.query).table  # doctest: +SKIP
    """
    totals, queries = {}, []
    for ids in _chunks(product_ids, chunk_size):
        query = plan.render(ids)
        result = client.run(query, maxrec=_compat.max_row_limit())
        if result.overflow:
            _warn_service_limit(len(result.table))
        queries.append(query)
        table = _refined(result.table, refinements)
        has_size = SIZE_COLUMN in table.colnames
        for row in table:
            n, size = totals.get(_text(row["eso_category"]), (0, 0))
            extra = row[SIZE_COLUMN] if has_size else 0
            extra = 0 if _text(extra) == "" else int(extra)
            totals[_text(row["eso_category"])] = (n + int(row["n_files"]), size + extra)
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    table = Table(rows=[(c, n, size) for c, (n, size) in ordered] or None,
                  names=("eso_category", "n_files", SIZE_COLUMN),
                  dtype=(str, "i8", "i8"))
    table["n_files"].description = "Number of files"
    table[SIZE_COLUMN].description = "Total estimated size of the files"
    return Selection(table, None, queries, _compat.max_row_limit())


def schema_help(schema):
    """A text listing the columns usable in ``columns``/``column_filters``/``obscore_filters``.

    Examples
    --------
    >>> print(schema_help(TapClient(Eso).schema()))  # doctest: +SKIP
    """
    lines = []
    for title, columns in ((f"{adql.PRODUCT_FILES} (columns, column_filters, order_by)",
                            schema.product_files),
                           (f"{adql.OBSCORE} (obscore_filters; columns/order_by when not in "
                            f"{adql.PRODUCT_FILES})", schema.obscore)):
        lines.append(f"Columns of {title}:")
        width = max((len(n) for n in columns), default=4)
        for name, info in columns.items():
            shown = SIZE_COLUMN if name == schema.size_column else name
            unit = "kB" if shown == SIZE_COLUMN and columns is schema.product_files \
                else info.unit
            lines.append(f"  {shown:<{width}}  {info.datatype:<8} {unit or '':<7} "
                         f"{info.description}".rstrip())
        lines.append("")
    return "\n".join(lines)


def order_rows(table, *, product_ids=None, order_by=None, descending=True, merged=False):
    """Drop repeated files and put rows in the documented order.

    With ``order_by``, the service's order is kept (re-sorted stably when
    several chunks were merged). Otherwise rows are grouped by product, in
    the order of ``product_ids`` when given (else by product id), the
    science file first, then by ``archive_id``.

    Examples
    --------
    >>> t = Table({"product_id": ["B", "A", "B", "B"], "archive_id": ["B.2", "A", "B", "B.2"]})
    >>> texts(order_rows(t, product_ids=["B", "A"]), "archive_id")
    ['B', 'B.2', 'A']
    """
    if len(table) == 0:
        return table
    archive_ids = texts(table, "archive_id")
    seen, keep = set(), []
    for i in range(len(table)):
        if archive_ids[i] not in seen:
            seen.add(archive_ids[i])
            keep.append(i)
    if order_by:
        if merged:
            values = table[order_by].tolist()
            keep.sort(key=lambda i: _sort_key(values[i]), reverse=descending)
        return table[keep]
    products = texts(table, "product_id")
    position = {pid: n for n, pid in enumerate(product_ids or ())}
    keep.sort(key=lambda i: (position.get(products[i], len(position)), products[i],
                             archive_ids[i] != products[i], archive_ids[i]))
    return table[keep]


def _sort_key(value):
    if value is None or getattr(value, "mask", False) is True or _text(value) == "":
        return (0, "")
    if isinstance(value, (bytes, str)):
        return (1, _text(value))
    return (1, value)


def describe(table, schema, *, query, url, maxrec=None):
    """Name the size column ``access_estsize`` (kB), copy units and descriptions
    from TAP_SCHEMA and record the query in ``table.meta``.

    Examples
    --------
    >>> client = TapClient(Eso)  # doctest: +SKIP
    >>> describe(client.run(query).table, client.schema(), query=query,
    ...          url=client.url).meta["query"]  # doctest: +SKIP
    """
    size = schema.size_column
    if size and size != SIZE_COLUMN and size in table.colnames:
        table.rename_column(size, SIZE_COLUMN)
    infos = {**schema.obscore, **schema.product_files}
    for name in table.colnames:
        info = infos.get(size if name == SIZE_COLUMN and size else name)
        column = table[name]
        if info is not None and info.description:
            column.description = info.description
        if info is not None and info.unit:
            unit = u.Unit(info.unit, parse_strict="silent")
            if not isinstance(unit, u.UnrecognizedUnit):
                column.unit = unit
        if name == SIZE_COLUMN:
            column.unit = u.kB
    table.meta.clear()
    table.meta["query"] = query[0] if isinstance(query, list) and len(query) == 1 else query
    table.meta["url"] = url
    table.meta["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    if maxrec is not None:
        table.meta["maxrec"] = maxrec
    return table
