# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
UWS 1.1 jobs for the emulator's asynchronous TAP endpoint.

A `JobStore` keeps jobs in memory; the TAP layer (``tap_service.py``) moves
them through their phases and runs them. ``job_xml`` writes the ``uws:job``
document pyvo's ``AsyncTAPJob`` reads; ``jobs_xml`` the job list, filtered as
UWS 1.1 says (``PHASE``, ``LAST``, ``AFTER``; ARCHIVED jobs only on request).
A requested destruction time is capped at `JobStore.max_destruction` after
creation (ESO keeps jobs at most six months).
"""
import datetime
import itertools
import threading
from xml.sax.saxutils import escape, quoteattr

__all__ = ["ACTIVE_PHASES", "FINAL_PHASES", "PHASES", "Job", "JobStore", "job_xml",
           "jobs_xml", "parse_time"]

FINAL_PHASES = frozenset({"COMPLETED", "ERROR", "ABORTED", "ARCHIVED"})
ACTIVE_PHASES = frozenset({"QUEUED", "EXECUTING"})
PHASES = ("PENDING", "QUEUED", "EXECUTING", "COMPLETED", "ERROR", "ABORTED", "UNKNOWN", "HELD",
          "SUSPENDED", "ARCHIVED")

#: Six months (183 days), ESO's longest job lifetime.
MAX_DESTRUCTION = datetime.timedelta(days=183)

_UWS_NS = ('xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" '
           'xmlns:xlink="http://www.w3.org/1999/xlink" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1"')


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text):
    """An ISO 8601 time (``Z`` or an offset; UTC when none) as an aware datetime.

    Raises ValueError, naming the value, when it is not one.

    Examples
    --------
    >>> parse_time("2026-01-02T03:04:05Z").isoformat()
    '2026-01-02T03:04:05+00:00'
    """
    try:
        moment = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (e.g. 2026-01-02T03:04:05Z)") \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


class Job:
    """One asynchronous query: its parameters, phase, times and outcome."""

    def __init__(self, job_id, params, *, owner=None, execution_duration=60,
                 retention=86400):
        self.job_id = job_id
        self.params = dict(params)
        self.owner = owner
        self.phase = "PENDING"
        self.created = _now()
        self.started = None
        self.ended = None
        self.execution_duration = execution_duration
        self.destruction = self.created + datetime.timedelta(seconds=retention)
        self.result = None
        self.error = None
        self.error_document = None
        #: Set when the job is aborted or deleted: a running query stops at once.
        self.cancel = threading.Event()


class JobStore:
    """Thread-safe collection of `Job` objects with phase-change notification.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.uws import JobStore
    >>> store = JobStore()
    >>> job = store.create({"query": "SELECT 1"})
    >>> store.get(job.job_id).phase
    'PENDING'
    """

    def __init__(self, *, execution_duration=60, retention=86400,
                 max_destruction=MAX_DESTRUCTION, max_wait=30.0):
        self._jobs = {}
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self.execution_duration = execution_duration
        self.retention = retention
        self.max_destruction = max_destruction
        #: The longest a WAIT blocks (UWS lets the server cap it).
        self.max_wait = max_wait

    def create(self, params, *, owner=None):
        """Make a PENDING job from the request parameters."""
        with self._changed:
            job_id = f"job{next(self._ids):06d}"
            job = Job(job_id, params, owner=owner,
                      execution_duration=self.execution_duration, retention=self.retention)
            self._jobs[job_id] = job
            return job

    def get(self, job_id):
        """The job with that id, or None."""
        with self._changed:
            return self._jobs.get(job_id)

    def all(self):
        """All jobs, oldest first."""
        with self._changed:
            return list(self._jobs.values())

    def delete(self, job_id):
        """Remove a job; True if it existed. A running job is aborted first."""
        with self._changed:
            job = self._jobs.pop(job_id, None)
            if job is not None and job.phase not in FINAL_PHASES:
                job.phase = "ABORTED"
                job.ended = _now()
            if job is not None:
                job.cancel.set()
            self._changed.notify_all()
            return job is not None

    def clear(self):
        """Forget every job."""
        with self._changed:
            for job in self._jobs.values():
                if job.phase not in FINAL_PHASES:
                    job.phase = "ABORTED"
                job.cancel.set()
            self._jobs.clear()
            self._changed.notify_all()

    def set_phase(self, job, phase, **fields):
        """Move ``job`` to ``phase`` (unless it is already final) and wake waiters.

        Returns False when the job was already in a final phase (e.g. aborted).
        """
        with self._changed:
            if job.phase in FINAL_PHASES:
                return False
            job.phase = phase
            for name, value in fields.items():
                setattr(job, name, value)
            if phase == "EXECUTING":
                job.started = _now()
            if phase in FINAL_PHASES:
                job.ended = _now()
            if phase == "ABORTED":
                job.cancel.set()
            self._changed.notify_all()
            return True

    def wait(self, job, phase, timeout):
        """Block until ``job`` leaves ``phase`` or ``timeout`` seconds pass (UWS WAIT).

        ``timeout`` is capped at `max_wait`; a negative one means "as long as allowed".
        """
        limit = self.max_wait if timeout is None or timeout < 0 else min(timeout, self.max_wait)
        with self._changed:
            self._changed.wait_for(lambda: job.phase != phase, timeout=limit)

    def sleep(self, job, seconds):
        """Sleep up to ``seconds``; False if the job was aborted meanwhile."""
        return not job.cancel.wait(seconds)

    def set_destruction(self, job, moment):
        """Set the destruction time, capped at `max_destruction` after creation."""
        with self._changed:
            job.destruction = min(moment, job.created + self.max_destruction)

    def select(self, *, phases=None, last=None, after=None):
        """The job list as UWS 1.1 filters it.

        Parameters
        ----------
        phases : iterable of str, optional
            Only jobs in these phases; without it, every job but ARCHIVED ones.
        last : int, optional
            Only the ``last`` most recently created jobs, newest first.
        after : datetime, optional
            Only jobs created after this time.

        Examples
        --------
        >>> store = JobStore()
        >>> a, b = store.create({}), store.create({})
        >>> [j.job_id for j in store.select(last=1)] == [b.job_id]
        True
        """
        with self._changed:
            jobs = list(self._jobs.values())
        if phases:
            wanted = {p.upper() for p in phases}
            jobs = [j for j in jobs if j.phase in wanted]
        else:
            jobs = [j for j in jobs if j.phase != "ARCHIVED"]
        if after is not None:
            jobs = [j for j in jobs if j.created > after]
        if last is not None:
            jobs = sorted(jobs, key=lambda j: j.created, reverse=True)[:last]
        return jobs


def _nil(tag):
    return f'<uws:{tag} xsi:nil="true"/>'


def _time(tag, moment):
    return f"<uws:{tag}>{_iso(moment)}</uws:{tag}>" if moment else _nil(tag)


def job_xml(job, job_url):
    """The ``uws:job`` document of ``job`` (bytes).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.uws import Job, job_xml
    >>> b"<uws:phase>PENDING</uws:phase>" in job_xml(Job("j1", {}), "http://h/async/j1")
    True
    """
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"<uws:job {_UWS_NS}>",
             f"<uws:jobId>{escape(job.job_id)}</uws:jobId>"]
    parts.append(f"<uws:ownerId>{escape(job.owner)}</uws:ownerId>" if job.owner
                 else _nil("ownerId"))
    parts += [f"<uws:phase>{job.phase}</uws:phase>", _nil("quote"),
              _time("creationTime", job.created), _time("startTime", job.started),
              _time("endTime", job.ended),
              f"<uws:executionDuration>{int(job.execution_duration)}</uws:executionDuration>",
              _time("destruction", job.destruction), "<uws:parameters>"]
    for name, value in job.params.items():
        parts.append(f"<uws:parameter id={quoteattr(name)}>{escape(str(value))}</uws:parameter>")
    parts.append("</uws:parameters><uws:results>")
    if job.phase == "COMPLETED":
        parts.append(f'<uws:result id="result" xlink:type="simple" '
                     f'xlink:href={quoteattr(job_url + "/results/result")} '
                     f'mime-type="application/x-votable+xml"/>')
    parts.append("</uws:results>")
    if job.phase == "ERROR":
        parts.append(f'<uws:errorSummary type="fatal" hasDetail="true">'
                     f"<uws:message>{escape(job.error or '')}</uws:message></uws:errorSummary>")
    parts.append("</uws:job>")
    return "\n".join(parts).encode("utf-8")


def jobs_xml(jobs, async_url):
    """The ``uws:jobs`` list document (bytes)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"<uws:jobs {_UWS_NS}>"]
    for job in jobs:
        href = quoteattr(f"{async_url}/{job.job_id}")
        parts.append(f'<uws:jobref id={quoteattr(job.job_id)} xlink:href={href}>'
                     f"<uws:phase>{job.phase}</uws:phase>"
                     f"<uws:creationTime>{_iso(job.created)}</uws:creationTime></uws:jobref>")
    parts.append("</uws:jobs>")
    return "\n".join(parts).encode("utf-8")
