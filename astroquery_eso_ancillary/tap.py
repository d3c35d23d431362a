# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The TAP client: ADQL run on ESO's TAP service, and whole selections.

`TapClient` sends one query: synchronously through astroquery's cache (when
unauthenticated), or as an asynchronous UWS job through pyvo (always deleted
afterwards), waiting with UWS blocking requests (``WAIT``) where the service
supports them. Requests go through `~astroquery_eso_ancillary.transport`
(retries, credentials); errors reported by the service raise `EsoQueryError`
with its message. A synchronous query that the service stops at its time
limit is run again as an asynchronous job. The table schemas (units,
descriptions, the name of the size column) are read once per `EsoClass`
instance and TAP URL from ``TAP_SCHEMA.columns``.

`run_selection` runs a `~astroquery_eso_ancillary.adql.Plan` over chunks of
product ids, with exact client-side pattern refinement, ``top`` and row
limits, merges the results and finishes the table (order, output columns,
units and meta); `run_categories` does the same for the per-category summary.
"""
import io
import time
import warnings
from dataclasses import dataclass

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
from pyvo.io import uws

from . import _compat, adql, conf, tables, transport
from .exceptions import EsoQueryError, EsoServiceError, LoginError

__all__ = ["Result", "Selection", "TapClient", "run_categories", "run_selection",
           "selection_queries"]

#: Execution time asked for asynchronous jobs: ESO's maximum (its default is 60 s, the
#: same as the sync limit async jobs are there to escape).
ASYNC_EXECUTION_DURATION = 3600
#: Longest time an asynchronous job is waited for.
ASYNC_MAX_WAIT = ASYNC_EXECUTION_DURATION + 400.0
#: Longest single UWS blocking wait (``WAIT``) asked of the service, in seconds.
UWS_WAIT = 30
#: Chunks of ids at most this long are not split further when the service refuses them.
_SMALLEST_SPLIT = 500
_ACTIVE_PHASES = frozenset({"PENDING", "QUEUED", "EXECUTING", "HELD", "SUSPENDED", "UNKNOWN"})


@dataclass
class Result:
    """One query's rows, and whether the service cut them at MAXREC."""

    table: Table
    overflow: bool
    query: str


class SyncTimeoutError(EsoQueryError):
    """The service stopped a synchronous query at its time limit (run it as a job)."""

class TapClient:
    """Send ADQL to the TAP service of one `EsoClass` instance.

    Parameters
    ----------
    eso : `~astroquery_eso_ancillary.EsoClass`
        Gives the TAP URL, timeout, cache, login and the schema cache.
    authenticated : bool
        Send the login's token with each query (only to the archive's own
        hosts; never cached, never left on the instance's shared session).
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
        self.credentials = eso.credentials() if authenticated else None
        self.cache = bool(cache) and self.credentials is None

    # -- sending -------------------------------------------------------------------

    def _session(self):
        return transport.QuerySession(timeout=self.eso.timeout, credentials=self.credentials)

    def run(self, query, *, maxrec=None, async_job=False):
        """Run one ADQL query; return a `Result`.

        A synchronous query that the service stops at its time limit is run
        again as an asynchronous job (one INFO line says so).

        Parameters
        ----------
        query : str
            The ADQL.
        maxrec : int, optional
            The TAP MAXREC (the service's default if None).
        async_job : bool
            Run as a UWS job (submit, run, wait, fetch, delete).

        Examples
        --------
        >>> result = TapClient(Eso).run("SELECT TOP 1 product_id FROM phase3v2.product_files",
        ...                             maxrec=1)  # doctest: +SKIP
        >>> result.table, result.overflow  # doctest: +SKIP
        """
        if async_job:
            return self._run_async(query, maxrec)
        try:
            return self._run_sync(query, maxrec)
        except SyncTimeoutError as exc:
            log.info(f"The service stopped the synchronous query at its time limit "
                     f"({exc.message}); running it again as an asynchronous job.")
            return self._run_async(query, maxrec)

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
                    return transport.check_complete(response)
                except requests.exceptions.ChunkedEncodingError:
                    _compat.drop_cached_response(self.eso)
                    raise

            response = transport.send_with_retries(send, url)
        if response.status_code in (401, 403):
            raise LoginError(f"The archive refused the query (HTTP {response.status_code}); "
                             "log in again with Eso.login().")
        try:
            return self._parse(response.content, response.status_code, query, url)
        except (EsoQueryError, EsoServiceError):
            if self.cache:  # never replay an unusable answer from the cache
                _compat.drop_cached_response(self.eso)
            raise

    def _parse(self, content, status, query, url):
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
            reason = exc.reason or "The service reported an error."
            if status == 202 and reason.lstrip().lower().startswith("time out"):
                # ESO's service (VOLLT) ends a sync query at its time limit this way.
                raise SyncTimeoutError(reason, query=query, url=self.url) from None
            raise EsoQueryError(reason, query=query, url=self.url) from None
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
                self._wait(job, session)
                phase = job.phase  # also refreshes pyvo's view of the job (its results)
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

    def _wait(self, job, session):
        """Wait for the job to leave its active phases; return the final phase.

        Each request is a UWS 1.1 blocking wait (``WAIT`` with the current
        ``PHASE``): the service answers when the phase changes. A service that
        answers at once (UWS 1.0, no WAIT) is polled with a growing delay.
        """
        delay = max(float(conf.backoff), 0.05)
        deadline = time.monotonic() + ASYNC_MAX_WAIT
        phase = job.phase
        while phase in _ACTIVE_PHASES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EsoServiceError(f"The asynchronous job {job.url} is still {phase} "
                                      f"after {ASYNC_MAX_WAIT:.0f} s.")
            block = max(1, int(min(UWS_WAIT, remaining)))
            asked = time.monotonic()
            response = session.get(job.url, params={"WAIT": str(block), "PHASE": phase},
                                   timeout=block + float(self.eso.timeout))
            if response.status_code != 200:
                raise DALServiceError(f"HTTP {response.status_code} while waiting for the job",
                                      code=response.status_code, url=job.url)
            previous, phase = phase, str(uws.parse_job(io.BytesIO(response.content)).phase)
            if phase == previous and time.monotonic() - asked < 0.5 * block:
                # The service did not block: poll.
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 10.0)
        return phase

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
        """The `~astroquery_eso_ancillary.tables.Schema` of this service.

        Read once per `EsoClass` instance and TAP URL (kept in the instance's
        ``schema_cache``).

        Examples
        --------
        >>> TapClient(Eso).schema().size_column  # doctest: +SKIP
        'access_estsize'
        """
        cache = self.eso.schema_cache
        if self.url not in cache:
            cache[self.url] = self._read_schema()
        return cache[self.url]

    def _read_schema(self):
        names = (adql.PRODUCT_FILES, adql.OBSCORE, adql.OBSCORE.lower())
        query = adql.select(["table_name", "column_name", "datatype", "unit", "description"],
                            "TAP_SCHEMA.columns", [adql.in_condition("table_name", names)])
        # Public metadata: always anonymous, always through the cache.
        result = TapClient(self.eso, cache=True).run(query, maxrec=_compat.max_row_limit())
        if result.overflow:
            raise EsoServiceError(f"{self.url} cut the TAP_SCHEMA.columns answer at "
                                  f"{len(result.table)} rows; cannot read the schema.")
        found = {adql.PRODUCT_FILES.lower(): {}, adql.OBSCORE.lower(): {}}
        for row in result.table:
            info = tables.ColumnInfo(*(tables.text(row[c]) for c in
                                       ("column_name", "datatype", "unit", "description")))
            found[tables.text(row["table_name"]).lower()][info.name] = info
        if not found[adql.PRODUCT_FILES.lower()]:
            raise EsoServiceError(f"{self.url} does not publish {adql.PRODUCT_FILES} "
                                  "in TAP_SCHEMA.columns.")
        return tables.Schema(found[adql.PRODUCT_FILES.lower()], found[adql.OBSCORE.lower()])


# -- selections ----------------------------------------------------------------------


@dataclass
class Selection:
    """What `run_selection` found: a finished table (or a count) and the ADQL sent.

    ``table`` has the plan's output columns; ``full`` is the same rows with
    every column fetched (``product_id`` and ``archive_id`` always among them).
    """

    table: Table | None
    count: int | None
    queries: list
    maxrec: int | None = None
    full: Table | None = None


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
        table = tables.refine(result.table, refinements)
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


def _render(query, ids, refinements, count_only):
    """The ADQL of one chunk, as `run_selection` sends it."""
    if count_only and refinements:
        # Count on the client: fetch only the columns the exact filter needs.
        return query.render(ids, columns=[sql for sql, _, _ in refinements], top=False,
                            order=False)
    if count_only:
        return query.render(ids, count=True)
    # With refinement, TOP moves to the client (applied after the exact filter).
    return query.render(ids, top=not refinements)


def selection_queries(plan, *, product_ids=None, chunk_size=None, count_only=False):
    """The ADQL `run_selection` would send: a str, or a list when ids need several chunks.

    Parameters
    ----------
    plan : `~astroquery_eso_ancillary.adql.Plan` or `~astroquery_eso_ancillary.adql.FileQuery`

    Examples
    --------
    >>> from astroquery_eso_ancillary.adql import FileQuery
    >>> selection_queries(FileQuery(("f.archive_id",)), product_ids=["A", "B", "C"],
    ...                   chunk_size=2)  # doctest: +NORMALIZE_WHITESPACE
    ["SELECT f.archive_id FROM phase3v2.product_files AS f WHERE f.product_id IN ('A', 'B')",
     "SELECT f.archive_id FROM phase3v2.product_files AS f WHERE f.product_id = 'C'"]
    """
    plan = _as_plan(plan)
    queries = [_render(plan.query, ids, plan.refinements, count_only)
               for ids in _chunks(product_ids, chunk_size)]
    return queries[0] if len(queries) == 1 else queries


def _as_plan(plan):
    return plan if isinstance(plan, adql.Plan) else adql.Plan(plan)


def _count(client, plan, chunks, async_job):
    total, queries = 0, []
    for ids in chunks:
        query = _render(plan.query, ids, plan.refinements, True)
        if plan.refinements:
            table, service_cut, _ = _fetch(client, query, want=None,
                                           refinements=plan.refinements, async_job=async_job)
            if service_cut:
                _warn_service_limit(len(table))
            total += len(table)
        else:
            total += client.count(query, async_job=async_job)
        queries.append(query)
    return total, queries


def run_selection(client, plan, *, product_ids=None, chunk_size=None, limit=None,
                  count_only=False, async_job=None, split_on_overflow=False):
    """Run ``plan`` and return its finished table (or count).

    The rows of all chunks are merged, repeated files dropped, put in the
    documented order (`~astroquery_eso_ancillary.tables.order_rows`), cut to
    the plan's output columns and described (units, descriptions, meta).

    Parameters
    ----------
    client : `TapClient`
    plan : `~astroquery_eso_ancillary.adql.Plan`
        The query, the exact client-side refinements (``top``, ``limit`` and
        ``count_only`` count the refined rows), the output columns and order.
    product_ids : list of str, optional
        Restrict to these products, sent in IN lists of ``chunk_size``
        (default ``conf.id_chunk_size``), chunk after chunk; rows come
        grouped in this order.
    limit : int, optional
        The row limit (None: unlimited). More matching rows give a
        `~astroquery.exceptions.MaxResultsWarning` and are cut.
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
    >>> run_selection(TapClient(Eso), plan, product_ids=["ADP.2024-03-19T05:58:04.407"]
    ...               ).table  # doctest: +SKIP
    """
    plan = _as_plan(plan)
    query, refinements = plan.query, plan.refinements
    chunks = _chunks(product_ids, chunk_size)
    if count_only:
        total, queries = _count(client, plan, chunks, bool(async_job))
        return Selection(None, total if query.top is None else min(total, query.top), queries)
    cap = None if limit is None else limit + 1
    if query.top is not None:
        cap = query.top if cap is None else min(cap, query.top)
    if async_job is None:
        async_job = False
        threshold = int(conf.async_threshold)
        if product_ids is None and (cap is None or cap > threshold):
            async_job = client.count(query.render(None, count=True)) > threshold
    found, queries, maxrec, pending = [], [], None, list(chunks)
    while pending:
        ids = pending.pop(0)
        want = None if cap is None else cap - sum(len(t) for t in found)
        if want is not None and want <= 0:
            break
        text = _render(query, ids, refinements, False)
        try:
            table, service_cut, maxrec = _fetch(client, text, want=want,
                                                refinements=refinements, async_job=async_job)
        except (EsoQueryError, EsoServiceError) as exc:
            if not ids or len(ids) <= _SMALLEST_SPLIT:
                raise
            # A service may refuse a query this long (its limits are not published):
            # ask for the two halves instead.
            log.debug(f"A query of {len(ids)} ids failed ({type(exc).__name__}); "
                      "splitting it in two.")
            pending[:0] = [ids[:len(ids) // 2], ids[len(ids) // 2:]]
            continue
        queries.append(text)
        if service_cut and split_on_overflow and ids and len(ids) > 1:
            pending[:0] = [ids[:len(ids) // 2], ids[len(ids) // 2:]]
            continue
        if service_cut:
            _warn_service_limit(len(table))
        found.append(table)
    table = found[0] if len(found) == 1 else vstack(found, join_type="exact",
                                                     metadata_conflicts="silent")
    if query.top is not None:
        table = table[:query.top]
    if limit is not None and len(table) > limit:
        warnings.warn(f"Results truncated to {limit} rows (ROW_LIMIT). Set ROW_LIMIT to "
                      "None (or -1) to retrieve them all.", MaxResultsWarning, stacklevel=2)
        table = table[:limit]
    table = tables.order_rows(table, product_ids=product_ids, order_by=plan.order_name,
                              descending=query.descending, merged=len(queries) > 1)
    schema = client.schema()
    full = tables.describe(table, schema, query=queries, url=client.url, maxrec=maxrec)
    # describe() renamed the service's size column; the plan knows it by the service's name.
    output = [tables.SIZE_COLUMN if name == schema.size_column else name
              for name in plan.output]
    return Selection(full[output] if output else full, None, queries, maxrec, full)


def run_categories(client, plan, *, product_ids=None, chunk_size=None):
    """Run a per-category summary plan (`~astroquery_eso_ancillary.adql.plan_category_query`).

    Groups are refined on the client, then merged over chunks: one row per
    ``eso_category`` with ``n_files`` and the total ``access_estsize`` (kB),
    most frequent first, described as every result is.

    Examples
    --------
    >>> schema = TapClient(Eso).schema()  # doctest: +SKIP
    >>> plan = adql.plan_category_query(schema.product_files, schema.obscore,
    ...                                 size_column=schema.size_column)  # doctest: +SKIP
    >>> run_categories(TapClient(Eso), plan).table  # doctest: +SKIP
    """
    size = tables.SIZE_COLUMN
    totals, queries = {}, []
    for ids in _chunks(product_ids, chunk_size):
        query = plan.query.render(ids)
        result = client.run(query, maxrec=_compat.max_row_limit())
        if result.overflow:
            _warn_service_limit(len(result.table))
        queries.append(query)
        table = tables.refine(result.table, plan.refinements)
        has_size = size in table.colnames
        for row in table:
            category = tables.text(row["eso_category"])
            n, total = totals.get(category, (0, 0))
            extra = int(row[size]) if has_size and tables.text(row[size]) else 0
            totals[category] = (n + int(row["n_files"]), total + extra)
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    table = Table(rows=[(c, n, total) for c, (n, total) in ordered] or None,
                  names=("eso_category", "n_files", size), dtype=(str, "i8", "i8"))
    table = tables.describe(table, client.schema(), query=queries, url=client.url,
                            maxrec=_compat.max_row_limit())
    # After describe(), which gives the column the schema's "Estimated file size".
    table["n_files"].description = "Number of files"
    table[size].description = "Total estimated size of the files"
    return Selection(table, None, queries, _compat.max_row_limit())
