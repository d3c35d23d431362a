# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's TAP service (``/tap_obs``): sync and async (UWS) ADQL queries
run by the engine of ``engine.py``, and the VOSI resources.

Errors are answered as ESO's service (VOLLT) answers them: an error VOTable with
"Incorrect ADQL query: ..." (HTTP 400) for a query outside ADQL 2.0, and a sync
query that runs past the sync limit (``ArchiveEmulator(sync_timeout=...)``) ends
with HTTP 202 and "Time out! ...". MAXREC < 0 means no limit (capped at the hard
limit). ``queue_delay`` and ``query_delay`` make the QUEUED and EXECUTING phases
last long enough to be seen.
"""
import contextlib
import dataclasses
import itertools
import threading
import time

from . import vosi
from .engine import AdqlError, QueryAbortedError, QueryExecutionError, QueryTimeoutError
from .http_util import Reply, text_reply
from .httpd import Request
from .language import ADQL_VERSION
from .uws import FINAL_PHASES, PHASES, JobStore, job_xml, jobs_xml, parse_time
from .votable import error_votable, result_votable

__all__ = ["QueryRecord", "TapService"]

VOTABLE_TYPE = "application/x-votable+xml"
#: Values of LANG accepted: the one ADQL version declared in /capabilities.
LANGUAGES = ("ADQL", f"ADQL-{ADQL_VERSION}")
_FORMATS = frozenset({"votable", "votable/td", "application/x-votable+xml", "text/xml",
                      "application/x-votable+xml;serialization=tabledata"})


@dataclasses.dataclass
class QueryRecord:
    """One ADQL query run by the TAP service (sync or async)."""

    adql: str
    sql: str | None
    status: str
    error: str | None



class TapService:
    """TAP on top of an `ArchiveEmulator`'s engine, with its own UWS job store.

    Parameters
    ----------
    emu : ArchiveEmulator
        Gives the engine, URLs, limits (``default_maxrec``, ``hard_maxrec``,
        ``sync_timeout``), the delays (``queue_delay``, ``query_delay``) and the
        query log.
    """

    def __init__(self, emu):
        self.emu = emu
        self.jobs = JobStore()
        self._sync_ids = itertools.count(1)

    @property
    def tap_url(self):
        return self.emu.tap_url

    def route(self, request, sub):
        """Answer a request to ``/tap_obs`` + ``sub``."""
        if sub in ("", "/"):
            return text_reply(200, "ESO archive emulator TAP service: /sync /async "
                                   "/capabilities /availability /tables")
        if sub == "/sync":
            if request.method not in ("GET", "POST"):
                return text_reply(405, "Use GET or POST", headers=[("Allow", "GET, POST")])
            return self._tap_sync(request)
        if sub == "/async" or sub.startswith("/async/"):
            return self._tap_async(request, sub[len("/async"):].strip("/"))
        if sub == "/capabilities":
            return Reply(200, [("Content-Type", "text/xml")], body=vosi.capabilities_xml(
                self.tap_url, default_maxrec=self.emu.default_maxrec,
                hard_maxrec=self.emu.hard_maxrec,
                execution_duration=self.jobs.execution_duration,
                retention=self.jobs.retention))
        if sub == "/availability":
            return Reply(200, [("Content-Type", "text/xml")], body=vosi.availability_xml())
        if sub == "/tables" or sub.startswith("/tables/"):
            return self._tables_reply(sub[len("/tables"):].strip("/"))
        return text_reply(404, f"No such TAP resource: {request.path}")

    def _tables_reply(self, only):
        meta = {}
        for name in ("tables", "columns", "keys", "key_columns"):
            result = self.emu.engine.run(f"SELECT * FROM TAP_SCHEMA.{name}")
            meta[name] = [dict(zip(result.columns, row, strict=False)) for row in result.rows]
        body = vosi.tableset_xml(meta["tables"], meta["columns"], meta["keys"],
                                 meta["key_columns"], only=only or None)
        if body is None:
            return text_reply(404, f"No such table: {only}")
        return Reply(200, [("Content-Type", "text/xml")], body=body)

    def _check_tap_params(self, request):
        """The (adql, maxrec) of a TAP request, or raise ValueError with the reason."""
        req = request.get("REQUEST")
        if req is not None and req.lower() != "doquery":
            raise ValueError(f"REQUEST={req!r} is not supported; use REQUEST=doQuery")
        lang = request.get("LANG")
        if lang is None:
            raise ValueError("the LANG parameter is required (LANG=ADQL)")
        if lang.upper() not in LANGUAGES:
            raise ValueError(f"LANG={lang!r} is not supported; this service accepts "
                             f"{' or '.join(LANGUAGES)}")
        fmt = request.get("RESPONSEFORMAT") or request.get("FORMAT")
        if fmt is not None and fmt.lower().replace(" ", "") not in _FORMATS:
            raise ValueError(f"RESPONSEFORMAT={fmt!r} is not supported; use votable")
        adql = request.get("QUERY")
        if not adql or not adql.strip():
            raise ValueError("the QUERY parameter is required")
        text = request.get("MAXREC")
        maxrec = self.emu.default_maxrec
        if text is not None and text.strip() != "":
            try:
                maxrec = int(text)
            except ValueError:
                raise ValueError(f"MAXREC={text!r} is not an integer") from None
            if maxrec < 0:
                maxrec = None       # VOLLT: a negative MAXREC means no limit (but the hard one)
        hard = self.emu.hard_maxrec
        if hard is not None:
            maxrec = hard if maxrec is None else min(maxrec, hard)
        return adql, maxrec

    def _execute(self, adql, maxrec, *, timeout, req_id, action, cancel=None):
        """Run a query: (HTTP status, VOTable bytes, error message or None).

        ``query_delay`` counts as execution time (against ``timeout``) and ends early
        when ``cancel`` is set.
        """
        started = time.monotonic()
        delay = self.emu.query_delay
        try:
            if delay:
                pause = delay if timeout is None else min(delay, timeout)
                if cancel is not None:
                    if cancel.wait(pause):
                        raise QueryAbortedError("The query was aborted")
                else:
                    time.sleep(pause)
            remaining = None if timeout is None else timeout - (time.monotonic() - started)
            if remaining is not None and remaining <= 0:
                raise QueryTimeoutError(f"Query exceeded the execution duration of "
                                        f"{timeout:g} s")
            result = self.emu.engine.run(adql, maxrec=maxrec, timeout=remaining, cancel=cancel)
        except QueryTimeoutError as exc:
            if action == "sync":
                message = (f"Time out! The execution of this synchronous TAP query was limited "
                           f"to {timeout:g} seconds. You should try again but in asynchronous "
                           f"mode.")
                status = 202
            else:
                message, status = f"Time out! {exc}", 400
            self.emu._log_query(QueryRecord(adql, None, "ERROR", message))
            return status, error_votable(message, req_id=req_id, error_type="transient",
                                         action=action), message
        except QueryAbortedError as exc:
            self.emu._log_query(QueryRecord(adql, None, "ABORTED", str(exc)))
            return 400, error_votable(str(exc), req_id=req_id, action=action), str(exc)
        except QueryExecutionError as exc:
            message = f"Error while executing the query: {exc}"
            self.emu._log_query(QueryRecord(adql, None, "ERROR", message))
            return 400, error_votable(message, req_id=req_id, action=action), message
        except AdqlError as exc:
            message = f"Incorrect ADQL query: {exc}"
            self.emu._log_query(QueryRecord(adql, None, "ERROR", message))
            return 400, error_votable(message, req_id=req_id, action=action), message
        self.emu._log_query(QueryRecord(adql, result.sql, "COMPLETED", None))
        return 200, result_votable(result, query=adql), None

    def _tap_sync(self, request):
        req_id = f"S{int(time.time() * 1000)}{next(self._sync_ids):04d}"
        try:
            adql, maxrec = self._check_tap_params(request)
        except ValueError as exc:
            message = f"Incorrect TAP request: {exc}"
            return Reply(400, [("Content-Type", VOTABLE_TYPE)],
                         body=error_votable(message, req_id=req_id, action="sync"))
        status, body, _ = self._execute(adql, maxrec, timeout=self.emu.sync_timeout,
                                        req_id=req_id, action="sync")
        return Reply(status, [("Content-Type", VOTABLE_TYPE)], body=body)

    def _see_other(self, url):
        return Reply(303, [("Location", url), ("Content-Type", "text/plain")],
                     body=f"See {url}\n".encode())

    def _job_list(self, request, async_url):
        phases = [p.upper() for p in request.getall("PHASE")]
        bad = [p for p in phases if p not in PHASES]
        if bad:
            return text_reply(400, f"PHASE={bad[0]!r} is not a UWS phase; use one of "
                                   f"{', '.join(PHASES)}")
        last = request.get("LAST")
        if last is not None:
            try:
                last = int(last)
            except ValueError:
                last = -1
            if last <= 0:
                return text_reply(400, f"LAST={request.get('LAST')!r} is not a positive "
                                       f"integer")
        after = request.get("AFTER")
        if after is not None:
            try:
                after = parse_time(after)
            except ValueError as exc:
                return text_reply(400, f"AFTER: {exc}")
        jobs = self.jobs.select(phases=phases or None, last=last, after=after)
        return Reply(200, [("Content-Type", "text/xml")], body=jobs_xml(jobs, async_url))

    def _tap_async(self, request, rest):
        async_url = self.tap_url + "/async"
        method = request.method
        if not rest:
            if method == "POST":
                params = {k: v[0] for k, v in request.params.items()}
                job = self.jobs.create(params, owner=request.user)
                if (request.get("PHASE") or "").upper() == "RUN":
                    self._start_job(job)
                return self._see_other(f"{async_url}/{job.job_id}")
            return self._job_list(request, async_url)
        job_id, _, item = rest.partition("/")
        job = self.jobs.get(job_id)
        if job is None:
            return text_reply(404, f"No such job: {job_id}")
        job_url = f"{async_url}/{job_id}"
        if not item:
            if method == "DELETE" or (method == "POST"
                                      and (request.get("ACTION") or "").upper() == "DELETE"):
                self.jobs.delete(job_id)
                return self._see_other(async_url)
            if method == "POST":
                return self._update_job(job, request) or self._see_other(job_url)
            wait = request.get("WAIT")
            if wait is not None and self.emu.uws_blocking:
                self._wait(job, wait, request.get("PHASE"))
            return Reply(200, [("Content-Type", "text/xml")], body=job_xml(job, job_url))
        if method == "POST" and item in ("phase", "executionduration", "destruction",
                                         "parameters"):
            return self._update_job(job, request) or self._see_other(job_url)
        if item == "phase":
            return text_reply(200, job.phase)
        if item == "results/result":
            if job.phase != "COMPLETED":
                return text_reply(404, f"Job {job_id} has no result (phase {job.phase})")
            return Reply(200, [("Content-Type", VOTABLE_TYPE)], body=job.result)
        if item == "error":
            if job.phase != "ERROR":
                return text_reply(404, f"Job {job_id} has no error (phase {job.phase})")
            return Reply(200, [("Content-Type", VOTABLE_TYPE)],
                         body=job.error_document or error_votable(
                             job.error or "", req_id=job.job_id, action="async"))
        simple = {"executionduration": str(int(job.execution_duration)),
                  "destruction": job_xml(job, job_url).split(b"<uws:destruction>")[1]
                  .split(b"</uws:destruction>")[0].decode(),
                  "quote": "", "owner": job.owner or ""}
        if item in simple:
            return text_reply(200, simple[item])
        if item in ("parameters", "results"):
            return Reply(200, [("Content-Type", "text/xml")], body=job_xml(job, job_url))
        return text_reply(404, f"No such job resource: {item}")

    def _wait(self, job, wait, phase):
        """UWS 1.1 blocking: return when the phase changes or ``wait`` seconds pass."""
        try:
            seconds = float(wait)
        except ValueError:
            return
        current = job.phase
        if current in FINAL_PHASES:
            return
        if phase is not None and phase.upper() != current:
            return          # the client's view is already out of date: answer at once
        self.jobs.wait(job, current, seconds)

    def _update_job(self, job, request):
        """Apply a POST to a job; None, or an error Reply for a bad value."""
        # Parameters first (only while PENDING, as UWS says), then the phase change.
        if job.phase == "PENDING":
            duration = request.get("EXECUTIONDURATION")
            if duration is not None:
                with contextlib.suppress(ValueError):
                    job.execution_duration = max(0, int(float(duration)))
            for name, values in request.params.items():
                if name not in ("phase", "action", "executionduration", "destruction"):
                    job.params[name] = values[0]
        destruction = request.get("DESTRUCTION")
        if destruction is not None:
            try:
                self.jobs.set_destruction(job, parse_time(destruction))
            except ValueError as exc:
                return text_reply(400, f"DESTRUCTION: {exc}")
        phase = (request.get("PHASE") or "").upper()
        if phase == "RUN" and job.phase == "PENDING":
            self._start_job(job)
        elif phase == "ABORT":
            # Aborting a QUEUED or EXECUTING job stops its query (UWS ABORT).
            self.jobs.set_phase(job, "ABORTED")
        return None

    def _start_job(self, job):
        self.jobs.set_phase(job, "QUEUED")
        threading.Thread(target=self._run_job, args=(job,), daemon=True,
                         name=f"uws-{job.job_id}").start()

    def _run_job(self, job):
        delay = self.emu.queue_delay
        if delay and not self.jobs.sleep(job, delay):
            return          # aborted while queued
        if not self.jobs.set_phase(job, "EXECUTING"):
            return
        params = {k: [v] for k, v in job.params.items()}
        request = Request("POST", "", params, {}, job.owner)
        try:
            adql, maxrec = self._check_tap_params(request)
        except ValueError as exc:
            message = f"Incorrect TAP request: {exc}"
            self.jobs.set_phase(job, "ERROR", error=message, error_document=error_votable(
                message, req_id=job.job_id, action="async"))
            return
        try:
            # UWS executionDuration: 0 means no limit.
            status, body, message = self._execute(adql, maxrec,
                                                  timeout=job.execution_duration or None,
                                                  req_id=job.job_id, action="async",
                                                  cancel=job.cancel)
        except Exception as exc:  # keep the job consistent even on an engine bug
            message = f"Internal emulator error: {type(exc).__name__}: {exc}"
            self.jobs.set_phase(job, "ERROR", error=message, error_document=error_votable(
                message, req_id=job.job_id, action="async"))
            return
        if status == 200:
            self.jobs.set_phase(job, "COMPLETED", result=body)
        else:
            self.jobs.set_phase(job, "ERROR", error=message, error_document=body)
