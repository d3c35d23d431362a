# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's TAP service (``/tap_obs``): sync and async (UWS) ADQL queries
run by the engine of ``engine.py``, and the VOSI resources.
"""
import contextlib
import dataclasses
import datetime
import threading

from . import vosi
from .engine import AdqlError
from .http_util import Reply, text_reply
from .httpd import Request
from .uws import ACTIVE_PHASES, JobStore, job_xml, jobs_xml
from .votable import error_votable, result_votable

__all__ = ["QueryRecord", "TapService"]

VOTABLE_TYPE = "application/x-votable+xml"
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
        Gives the engine, URLs, MAXREC limits and the query log.
    """

    def __init__(self, emu):
        self.emu = emu
        self.jobs = JobStore()

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
        for name, cols in (("tables", "*"), ("columns", "*"), ("keys", "*"),
                           ("key_columns", "*")):
            result = self._run_engine(f"SELECT {cols} FROM TAP_SCHEMA.{name}", None)
            meta[name] = [dict(zip(result.columns, row, strict=False)) for row in result.rows]
        body = vosi.tableset_xml(meta["tables"], meta["columns"], meta["keys"],
                                 meta["key_columns"], only=only or None)
        if body is None:
            return text_reply(404, f"No such table: {only}")
        return Reply(200, [("Content-Type", "text/xml")], body=body)

    def _run_engine(self, adql, maxrec, timeout=None):
        # The engine serialises access to its SQLite connection itself.
        return self.emu.engine.run(adql, maxrec=maxrec, timeout=timeout)

    def _check_tap_params(self, request):
        """The (adql, maxrec) of a TAP request, or raise ValueError with the reason."""
        req = request.get("REQUEST")
        if req is not None and req.lower() != "doquery":
            raise ValueError(f"REQUEST={req!r} is not supported; use REQUEST=doQuery")
        lang = request.get("LANG")
        if lang is None:
            raise ValueError("the LANG parameter is required (LANG=ADQL)")
        if lang.upper() not in ("ADQL", "ADQL-2.0", "ADQL-2.1"):
            raise ValueError(f"LANG={lang!r} is not supported; use LANG=ADQL")
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
                raise ValueError(f"MAXREC={text!r} is not a non-negative integer") from None
            if maxrec < 0:
                raise ValueError(f"MAXREC={text!r} is not a non-negative integer")
        if self.emu.hard_maxrec is not None:
            maxrec = self.emu.hard_maxrec if maxrec is None else min(maxrec, self.emu.hard_maxrec)
        return adql, maxrec

    def _execute(self, adql, maxrec, timeout=None):
        """Run a query: (status, VOTable bytes, error message or None)."""
        try:
            result = self._run_engine(adql, maxrec, timeout)
        except AdqlError as exc:
            message = str(exc)
            self.emu._log_query(QueryRecord(adql, None, "ERROR", message))
            return 400, error_votable(message), message
        self.emu._log_query(QueryRecord(adql, result.sql, "COMPLETED", None))
        return 200, result_votable(result, query=adql), None

    def _tap_sync(self, request):
        try:
            adql, maxrec = self._check_tap_params(request)
        except ValueError as exc:
            return Reply(400, [("Content-Type", VOTABLE_TYPE)], body=error_votable(str(exc)))
        status, body, _ = self._execute(adql, maxrec)
        return Reply(status, [("Content-Type", VOTABLE_TYPE)], body=body)

    def _see_other(self, url):
        return Reply(303, [("Location", url), ("Content-Type", "text/plain")],
                     body=f"See {url}\n".encode())

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
            return Reply(200, [("Content-Type", "text/xml")],
                         body=jobs_xml(self.jobs.all(), async_url))
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
                self._update_job(job, request)
                return self._see_other(job_url)
            wait = request.get("WAIT")
            if wait is not None and job.phase in ACTIVE_PHASES | {"PENDING"}:
                try:
                    seconds = float(wait)
                except ValueError:
                    seconds = 0
                # UWS lets the server cap a blocking wait; keep it short.
                limit = 5.0 if seconds < 0 else min(seconds, 5.0)
                if job.phase != "PENDING" or seconds >= 0:
                    self.jobs.wait(job, job.phase, limit)
            return Reply(200, [("Content-Type", "text/xml")], body=job_xml(job, job_url))
        if method == "POST" and item in ("phase", "executionduration", "destruction",
                                         "parameters"):
            self._update_job(job, request)
            return self._see_other(job_url)
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
                         body=job.error_document or error_votable(job.error or ""))
        simple = {"executionduration": str(int(job.execution_duration)),
                  "destruction": job_xml(job, job_url).split(b"<uws:destruction>")[1]
                  .split(b"</uws:destruction>")[0].decode(),
                  "quote": "", "owner": job.owner or ""}
        if item in simple:
            return text_reply(200, simple[item])
        if item in ("parameters", "results"):
            return Reply(200, [("Content-Type", "text/xml")], body=job_xml(job, job_url))
        return text_reply(404, f"No such job resource: {item}")

    def _update_job(self, job, request):
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
            with contextlib.suppress(ValueError):
                moment = datetime.datetime.fromisoformat(destruction.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=datetime.timezone.utc)
                job.destruction = moment
        phase = (request.get("PHASE") or "").upper()
        if phase == "RUN" and job.phase == "PENDING":
            self._start_job(job)
        elif phase == "ABORT":
            self.jobs.set_phase(job, "ABORTED")

    def _start_job(self, job):
        self.jobs.set_phase(job, "QUEUED")
        threading.Thread(target=self._run_job, args=(job,), daemon=True,
                         name=f"uws-{job.job_id}").start()

    def _run_job(self, job):
        if not self.jobs.set_phase(job, "EXECUTING"):
            return
        params = {k: [v] for k, v in job.params.items()}
        request = Request("POST", "", params, {}, job.owner)
        try:
            adql, maxrec = self._check_tap_params(request)
        except ValueError as exc:
            self.jobs.set_phase(job, "ERROR", error=str(exc),
                                 error_document=error_votable(str(exc)))
            return
        try:
            # UWS executionDuration: 0 means no limit.
            status, body, message = self._execute(adql, maxrec,
                                                  job.execution_duration or None)
        except Exception as exc:  # keep the job consistent even on an engine bug
            message = f"Internal emulator error: {type(exc).__name__}: {exc}"
            self.jobs.set_phase(job, "ERROR", error=message,
                                 error_document=error_votable(message))
            return
        if status == 200:
            self.jobs.set_phase(job, "COMPLETED", result=body)
        else:
            self.jobs.set_phase(job, "ERROR", error=message, error_document=body)
