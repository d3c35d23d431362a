# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The client's HTTP transport: where every request of the package is made.

- Sessions: `new_session` (a plain `requests.Session` with this package's
  User-Agent and none of astroquery's logging hooks) and `thread_session`
  (one per worker thread, for downloads).
- One retry policy, `RetryPolicy`, for TAP, DataLink and downloads alike:
  which failures are worth another attempt (connection errors, bodies cut
  short, HTTP 429, 500, 502, 503, 504), how long to wait (exponential
  backoff, ``Retry-After`` wins, capped at ``MAX_WAIT``) and how often.
- Body completeness: `check_complete`.
- Login: `request_token` asks ESO's token service for a token.
- Credentials: `Credentials` holds a token and the archive's own origins;
  `auth_headers` is the one function that puts an ``Authorization`` header
  on a request, and only for those origins.
"""
import email.utils
import io
import logging
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from astroquery import log

from . import conf
from .exceptions import EsoServiceError, LoginError

__all__ = ["MAX_WAIT", "RETRY_STATUSES", "Credentials", "QuerySession", "RetryPolicy",
           "auth_headers", "check_complete", "new_session", "origin", "request_headers",
           "request_token", "retry_after", "send_with_retries", "thread_session",
           "user_agent"]

#: HTTP statuses worth another attempt: the service is busy or briefly down.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Longest wait between two attempts, whatever ``Retry-After`` asks.
MAX_WAIT = 300.0

#: Most bytes a TAP or DataLink answer may inflate to (gzip or deflate transfer).
MAX_ANSWER_BYTES = 4 << 30


def user_agent():
    """The User-Agent of every request this package sends.

    Examples
    --------
    >>> user_agent().startswith("astroquery_eso_ancillary ")
    True
    """
    return f"{__name__.partition('.')[0]} (python-requests/{requests.__version__})"


def retry_after(response):
    """Seconds a response's ``Retry-After`` asks to wait (None when it asks nothing).

    Both forms are understood: a number of seconds and an HTTP date.

    Examples
    --------
    >>> r = requests.Response(); r.headers["Retry-After"] = "2.5"
    >>> retry_after(r)
    2.5
    """
    value = response.headers.get("Retry-After") if response is not None else None
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


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are tried again: the same rule for every request.

    Parameters
    ----------
    retries : int
        Attempts after the first one.
    backoff : float
        Seconds before the first retry; doubled for each further one.
    max_wait : float
        Cap on any wait, ``Retry-After`` included.
    statuses : frozenset of int
        HTTP statuses that are retried.

    Examples
    --------
    >>> policy = RetryPolicy(retries=3, backoff=0.5)
    >>> [policy.wait(n) for n in (1, 2, 3)]
    [0.5, 1.0, 2.0]
    >>> policy.wait(1, retry_after=7.0), policy.wait(1, retry_after=9999)
    (7.0, 300.0)
    >>> policy.retries_status(503), policy.retries_status(404)
    (True, False)
    """

    retries: int = 4
    backoff: float = 0.5
    max_wait: float = MAX_WAIT
    statuses: frozenset = RETRY_STATUSES

    def __post_init__(self):
        # A negative count would make no attempt at all (conf.max_retries = -1, say).
        if self.retries < 0 or self.backoff < 0 or self.max_wait < 0:
            raise ValueError("retries, backoff and max_wait must be >= 0, got "
                             f"retries={self.retries!r}, backoff={self.backoff!r}, "
                             f"max_wait={self.max_wait!r}")

    @classmethod
    def from_conf(cls, *, retries=None, backoff=None):
        """The policy of ``conf.max_retries`` and ``conf.backoff``, unless overridden."""
        return cls(retries=int(conf.max_retries if retries is None else retries),
                   backoff=float(conf.backoff if backoff is None else backoff))

    def retries_status(self, status):
        """Whether an answer with this HTTP status is worth another attempt."""
        return status in self.statuses

    def wait(self, failures, retry_after=None):
        """Seconds to wait after the ``failures``-th failure.

        ``retry_after`` is what the server asked (see `retry_after`); it wins
        over the backoff. Either is capped at ``max_wait``.
        """
        seconds = self.backoff * 2 ** (failures - 1) if retry_after is None else retry_after
        return min(seconds, self.max_wait)


def check_complete(response):
    """Return ``response``, or raise ChunkedEncodingError if its body came short.

    urllib3 2 detects a body cut before its Content-Length; urllib3 1.26 hands
    it over silently, so this checks whichever is installed.

    Examples
    --------
    >>> r = requests.Response(); r._content = b"abc"; r.headers["Content-Length"] = "3"
    >>> check_complete(r) is r
    True
    """
    expected = response.headers.get("Content-Length")
    if (expected and expected.isdigit() and not response.headers.get("Content-Encoding")
            and len(response.content) < int(expected)):
        raise requests.exceptions.ChunkedEncodingError(
            f"body cut at {len(response.content)} of {expected} bytes")
    return response


def send_with_retries(send, url, *, policy=None):
    """Call ``send()`` (which returns a response) until it is not a status to retry.

    Connection errors, bodies cut short and the policy's statuses are retried
    ``policy.retries`` times (default `RetryPolicy.from_conf`), waiting as the
    policy says; then `~astroquery_eso_ancillary.EsoServiceError`. A timeout is not
    retried.

    Examples
    --------
    >>> r = requests.Response(); r.status_code = 200
    >>> send_with_retries(lambda: r, "http://example.invalid").status_code
    200
    """
    policy = policy or RetryPolicy.from_conf()
    attempts = policy.retries + 1  # at least one (RetryPolicy refuses retries < 0)
    for attempt in range(1, attempts + 1):
        response = None
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
            if not policy.retries_status(response.status_code):
                return response
            problem = f"HTTP {response.status_code}"
        if attempt < attempts:
            wait = policy.wait(attempt, retry_after(response))
            log.debug(f"{url}: {problem}; retrying in {wait:.2f} s ({attempt}/{attempts - 1})")
            time.sleep(wait)
    raise EsoServiceError(f"{url} kept failing after {attempts} attempts "
                          f"(last: {problem}).")


def origin(url):
    """The origin (scheme, host, port) of a URL, as ``scheme://host:port``, lower case.

    Examples
    --------
    >>> origin("HTTPS://Archive.ESO.org/tap_obs/sync")
    'https://archive.eso.org:443'
    """
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class Credentials:
    """A login token, the origins it may be sent to, and how to renew it.

    The token is never shown by ``repr`` or ``str`` and is not a dataclass
    field, so tracebacks that print locals and reprs of jobs do not show it.
    It pickles (executors such as dask's ship it to their workers); the
    renewal does not travel with it.

    Parameters
    ----------
    token : str
        The ESO token.
    origins : iterable of str
        URLs or origins that are the archive's own (see `origin`).
    expires : float, optional
        When the token stops being usable (seconds since the epoch).
    renew : callable, optional
        ``renew()`` returns a new token, or None when it cannot (no stored
        password, the service refused).
    identity : str, optional
        Who the token logs in (the ESO user name), for records of refusals.

    Examples
    --------
    >>> creds = Credentials("s3cret", ["https://archive.eso.org/tap_obs"])
    >>> "s3cret" in repr(creds), creds.expired()
    (False, False)
    """

    __slots__ = ("_lock", "_renew", "_token", "expires", "identity", "origins")

    def __init__(self, token, origins, *, expires=None, renew=None, identity="user"):
        self._token = token
        self.identity = identity
        self.origins = frozenset(origin(o) for o in origins)
        self.expires = expires
        self._renew = renew
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<Credentials for {len(self.origins)} origin(s)>"

    __str__ = __repr__

    def __getstate__(self):
        return {"token": self._token, "origins": sorted(self.origins), "expires": self.expires,
                "identity": self.identity}

    def __setstate__(self, state):
        self._token = state["token"]
        self.origins = frozenset(state["origins"])
        self.expires = state.get("expires")
        self.identity = state.get("identity", "user")
        self._renew = None
        self._lock = threading.Lock()

    def __eq__(self, other):
        return (isinstance(other, Credentials) and other._token == self._token
                and other.origins == self.origins)

    def __hash__(self):
        return hash(self.origins)

    def allows(self, url):
        """Whether ``url`` is on one of the archive's own origins."""
        return origin(url) in self.origins

    def expired(self):
        """Whether the token has run out (or will within a minute)."""
        return self.expires is not None and time.time() > self.expires - 60

    def renew(self):
        """Get a new token if possible (once for all threads); True when one is in use.

        A failed renewal leaves the old token in place.
        """
        stale = self._token
        with self._lock:
            if self._token != stale and not self.expired():
                return True  # another thread renewed it meanwhile
            if self._renew is None:
                return False
            try:
                fresh = self._renew()
            except Exception as exc:  # any failure means "not renewed"
                log.debug(f"Renewing the login failed ({type(exc).__name__}).")
                return False
            if not fresh:
                return False
            token, expires = fresh
            self._token, self.expires = token, expires
            return True


def auth_headers(url, credentials):
    """The headers that authenticate a request to ``url``: the only place they are made.

    Credentials go only to the archive's own origins (the configured
    endpoints, ESO's own https hosts, ``conf.trusted_hosts``); any other URL,
    whatever a table or a service names, gets no ``Authorization`` header.

    Parameters
    ----------
    url : str
        Where the request goes.
    credentials : `Credentials` or None

    Examples
    --------
    >>> creds = Credentials("t", ["https://archive.eso.org"])
    >>> list(auth_headers("https://archive.eso.org/tap_obs/sync", creds))
    ['Authorization']
    >>> auth_headers("http://elsewhere.example/file", creds)
    {}
    """
    if credentials is None or not credentials._token or not credentials.allows(url):
        return {}
    return {"Authorization": "Bearer " + credentials._token}


class _SecretHeaders(dict):
    """Request headers whose repr hides the credentials they hold."""

    def __repr__(self):
        return repr({k: ("***" if k.lower() == "authorization" else v) for k, v in self.items()})


def request_headers(url, credentials):
    """A mutable dict of the headers that authenticate ``url`` (see `auth_headers`).

    Its repr hides the token, so a traceback that prints local variables
    does not show it.

    Examples
    --------
    >>> headers = request_headers("https://x/f", Credentials("s3cret", ["https://x"]))
    >>> "s3cret" in repr(headers), len(headers)
    (False, 1)
    """
    return _SecretHeaders(auth_headers(url, credentials))


def new_session(headers=None):
    """A plain session with this package's User-Agent (no astroquery logging hook).

    Examples
    --------
    >>> with new_session() as s:
    ...     s.headers["User-Agent"] == user_agent()
    True
    """
    session = requests.Session()
    session.headers["User-Agent"] = user_agent()
    session.headers.update(headers or {})
    return session


_local = threading.local()


def thread_session():
    """This thread's download session (one connection pool per worker thread).

    `requests.Session` is not documented as thread-safe, so each thread gets
    its own. Downloads ask for ``Accept-Encoding: identity``: byte offsets
    (resume) must refer to the file itself, not to a compressed transfer.
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = new_session({"Accept-Encoding": "identity"})
        _local.session = session
    return session


class QuerySession(requests.Session):
    """A session for TAP and DataLink queries: retries, a default timeout, read bodies.

    Every request goes through `send_with_retries`; bodies are read at once
    and checked with `check_complete` (pyvo asks for streamed bodies and does
    not always read them, which would leak the connection), then handed over
    as a file-like copy.

    Parameters
    ----------
    timeout : float
        Seconds for a request that gives none.
    credentials : `Credentials`, optional
        Sent (see `auth_headers`) on requests to the archive's own origins.
    policy : `RetryPolicy`, optional
        Default `RetryPolicy.from_conf`.

    Examples
    --------
    >>> with QuerySession(timeout=5) as s:
    ...     s.headers["User-Agent"] == user_agent()
    True
    """

    def __init__(self, *, timeout, credentials=None, policy=None):
        super().__init__()
        self._timeout = timeout
        self._credentials = credentials
        self._policy = policy
        self.max_answer_bytes = MAX_ANSWER_BYTES
        self.headers["User-Agent"] = user_agent()

    def request(self, method, url, **kwargs):
        """Send one request as `requests.Session.request` does, with retries and a cap.

        The credentials (if any) are added for the archive's own origins only,
        and the whole body is read at once.
        """
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        kwargs["stream"] = True  # read below, with a cap on what it inflates to
        # Decided per request: pyvo sends job requests to whatever URL the service
        # names, and only the archive's own origins may see the token.
        headers = request_headers(url, self._credentials)
        headers.update(kwargs.get("headers") or {})
        kwargs["headers"] = headers

        def send():
            response = requests.Session.request(self, method, url, **kwargs)
            try:
                response._content = _read_capped(response, self.max_answer_bytes, url)
            finally:
                response.close()
            return check_complete(response)

        response = send_with_retries(send, url, policy=self._policy)
        response.raw = _ReadBody(response.content)
        return response


def _read_capped(response, limit, url):
    """The whole (decoded) body, refusing to inflate past ``limit`` bytes."""
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        size += len(chunk)
        if size > limit:
            raise EsoServiceError(f"The answer of {url} inflates to more than {limit} bytes "
                                  "(a decompression bomb?); stopped.")
        chunks.append(chunk)
    return b"".join(chunks)


class _ReadBody(io.BytesIO):
    """A read body that answers ``read(..., decode_content=...)`` like urllib3's."""

    def read(self, size=-1, **_):  # decode_content=...: the body is already decoded
        return super().read(size)


# -- login -------------------------------------------------------------------------------

# urllib3 logs each request line, query string included, at DEBUG level: the token
# request carries the password there (ESO documents only GET for it).
_SECRET_PARAMETER = re.compile(r"((?:password|client_secret|token|id_token)=)[^&\s\"']*",
                               re.IGNORECASE)


class _RedactSecrets(logging.Filter):
    """Hide password and token values in log records (urllib3's request lines)."""

    def filter(self, record):
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a
                                                  for a in record.args):
            record.args = tuple(_SECRET_PARAMETER.sub(r"\1***", a) if isinstance(a, str)
                                else a for a in record.args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _SECRET_PARAMETER.sub(r"\1***", record.msg)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())


def request_token(url, *, username, password, timeout):
    """Ask ESO's OpenID Connect token service for a token; return it.

    The request is the one ESO documents (GET with the parameters astroquery
    sends). No redirect is followed (the password would travel with it), and
    the password appears in no log record.

    Raises
    ------
    LoginError
        The service could not be reached, refused the login, redirected, or
        sent no ``id_token``. The message never holds the password.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
    >>> with ArchiveEmulator(products=1) as emu:
    ...     token = request_token(emu.token_url, username="alice", password="wonderland",
    ...                           timeout=10)
    >>> token.count(".")
    2
    """
    params = {"response_type": "id_token token", "grant_type": "password",
              "client_id": "clientid", "client_secret": "clientSecret",
              "username": username, "password": password}
    with new_session() as session:
        try:
            response = session.get(url, params=params, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            # The exception text may carry the URL, password included; say only what failed.
            raise LoginError(f"could not reach the ESO token service at {url} "
                             f"({type(exc).__name__}).") from None
    status = response.status_code
    if response.is_redirect or 300 <= status < 400:
        raise LoginError(f"the token service at {url} answered HTTP {status} (a redirect); "
                         "the password is not sent on.")
    if status != 200:
        raise LoginError(f"the token service at {url} answered HTTP {status}.")
    try:
        token = response.json()["id_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise LoginError(f"the token service at {url} sent no id_token.")
    return token
