# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`ArchiveEmulator`: a local HTTP server laid out as the ESO archive.

Endpoints (below ``emu.url``)::

    /tap_obs/sync, /tap_obs/async[/<job>[/phase|/results/result|/error|...]]
    /tap_obs/capabilities, /tap_obs/availability, /tap_obs/tables[/<table>]
    /datalink/links?ID=ivo://eso.org/ID?<id>[&ID=...]
    /dataPortal/file/<archive_id>
    /sso/oidc/token
    /previews/<dp_id>, /documentation/<collection>   (targets of DataLink rows)

The socket is bound before the archive is generated, so every ``access_url``
points at the emulator itself. HTTP plumbing is in ``httpd.py``, TAP in
``tap_service.py``, DataLink in ``datalink.py``.
"""
import threading
import time
from urllib.parse import quote

from . import content, datalink
from .auth import TokenService
from .data import Archive
from .engine import Engine
from .faults import FaultInjector
from .http_util import Reply, json_reply, parse_range, text_reply
from .httpd import EmulatorHTTPServer, RequestRecord
from .tap_service import VOTABLE_TYPE, QueryRecord, TapService

__all__ = ["HARD_MAXREC", "ArchiveEmulator", "QueryRecord", "RequestRecord"]

#: The default hard MAXREC: astroquery's assumption about ESO (the real value is unverified).
HARD_MAXREC = 15_000_000


class ArchiveEmulator:
    """A local, seeded stand-in for the ESO Science Archive, served over HTTP.

    Parameters
    ----------
    seed : int
        Seed of the generated archive.
    products : int
        Number of ObsCore products generated besides the reference ones.
    size_column : {"access_estsize", "size_kb"}
        Name of the size column of ``phase3v2.product_files``.
    max_file_bytes : int
        Cap on the size of served files (``min(estsize * 1024, max_file_bytes)``).
    file_sizes : dict, optional
        ``{archive_id: nbytes}`` overriding the served size of some files.
    range_support : bool
        Honour HTTP Range requests (else always send the whole file with 200).
    users : dict, optional
        ``{username: password}``; default ``{"alice": "wonderland"}``.
    token_lifetime : float
        Seconds an issued token is valid.
    faults : Faults, optional
        Injected faults (see `Faults`); ``emu.faults`` can be changed at run time.
    gzip_ids : iterable of str, optional
        Files served gzip-compressed (name ``<id>.<ext>.gz``), as are files whose
        extension ends in ``.GZ``. Files whose extension ends in ``.Z`` (and the raw
        progenitors DataLink names) are served LZW-compressed as ``<id>.fits.Z``.
    default_maxrec, hard_maxrec : int, optional
        TAP MAXREC used when a query gives none (default: the hard limit), and the most
        rows ever returned (default ``HARD_MAXREC``, 15,000,000); both are published in
        /capabilities.
    sync_timeout : float
        Seconds a synchronous query may run; past it the answer is HTTP 202 with ESO's
        "Time out! ..." error VOTable (ESO: about 60 s).
    queue_delay, query_delay : float
        Seconds an async job stays QUEUED before it executes, and that every query
        (sync or async) takes at least; the latter counts against the time limits.
        Both 0 by default; they make UWS phases observable. Changeable at run time.
    host, port : str, int
        Where to listen; port 0 picks a free port.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
    >>> import requests
    >>> with ArchiveEmulator(products=20) as emu:
    ...     requests.get(emu.tap_url + "/availability").status_code
    200
    """

    def __init__(self, *, seed=42, products=300, size_column="access_estsize",
                 max_file_bytes=262144, file_sizes=None, range_support=True, users=None,
                 token_lifetime=3600, faults=None, gzip_ids=None, default_maxrec=None,
                 hard_maxrec=None, sync_timeout=60.0, queue_delay=0.0, query_delay=0.0,
                 host="127.0.0.1", port=0):
        for name, value in (("max_file_bytes", max_file_bytes),
                            ("default_maxrec", default_maxrec), ("hard_maxrec", hard_maxrec)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name, value in (("sync_timeout", sync_timeout), ("queue_delay", queue_delay),
                            ("query_delay", query_delay)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                    or (name == "sync_timeout" and value == 0):
                what = "a positive" if name == "sync_timeout" else "a non-negative"
                raise ValueError(f"{name} must be {what} number of seconds, got {value!r}")
        if max_file_bytes is None:
            raise ValueError("max_file_bytes must be a non-negative integer, got None")
        self.seed = seed
        self.n_products = products
        self.size_column = size_column
        self.max_file_bytes = max_file_bytes
        self.hard_maxrec = HARD_MAXREC if hard_maxrec is None else hard_maxrec
        self.default_maxrec = self.hard_maxrec if default_maxrec is None else min(
            default_maxrec, self.hard_maxrec)
        self.sync_timeout = sync_timeout
        self.queue_delay = queue_delay
        self.query_delay = query_delay
        self._host = host
        self._port = port
        self._initial = {"file_sizes": dict(file_sizes or {}), "range_support": range_support,
                         "users": dict({"alice": "wonderland"} if users is None else users),
                         "token_lifetime": token_lifetime, "gzip_ids": set(gzip_ids or ()),
                         "delays": (sync_timeout, queue_delay, query_delay)}
        self.file_sizes = dict(self._initial["file_sizes"])
        self.range_support = range_support
        self.gzip_ids = set(self._initial["gzip_ids"])
        self._tokens = TokenService(users=self._initial["users"], lifetime=token_lifetime)
        self._injector = FaultInjector(faults)
        self._tap = TapService(self)
        self._log_lock = threading.Lock()
        self._requests = []
        self._queries = []
        self._raw_lock = threading.Lock()
        self._raw_index = None
        self._server = None
        self._thread = None
        self.archive = None
        self.engine = None
        self.url = None
        self.start_seconds = None
        #: An ``Eso`` pointed at this emulator, set by the pytest fixtures.
        self.eso = None
        #: Opt-in hostile answers (tests): ``{archive_id: {"body", "content_type",
        #: "content_disposition", "content_length", "status"}}`` (keys optional), and
        #: what ``/tap_obs/sync`` answers instead of running the query (bytes, or a
        #: dict with "body", "content_type", "status"). Cleared by ``reset()``.
        self.file_overrides = {}
        self.tap_override = None

    # -- life cycle ----------------------------------------------------------------

    def start(self):
        """Bind, generate the archive, and serve in a background thread.

        Returns
        -------
        ArchiveEmulator
            ``self``, serving.
        """
        if self._server is not None:
            return self
        t0 = time.perf_counter()
        server = EmulatorHTTPServer((self._host, self._port), self)
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        try:
            self.archive = Archive(seed=self.seed, products=self.n_products,
                                   size_column=self.size_column, base_url=self.url)
            self.engine = Engine(self.archive)
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=f"eso-emulator-{port}",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self.start_seconds = time.perf_counter() - t0
        return self

    def stop(self):
        """Stop serving and close every connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_open_connections()
        self._tap.jobs.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = self.url if self._server is not None else "stopped"
        return f"<ArchiveEmulator seed={self.seed} products={self.n_products} {state}>"

    # -- endpoints ------------------------------------------------------------------

    @property
    def tap_url(self):
        """Base URL of the TAP service (``url + "/tap_obs"``)."""
        return self.url + "/tap_obs"

    @property
    def datalink_url(self):
        """The DataLink links endpoint."""
        return self.url + "/datalink/links"

    @property
    def download_url(self):
        """Prefix of file URLs (the archive_id is appended)."""
        return self.url + "/dataPortal/file/"

    @property
    def token_url(self):
        """The token endpoint."""
        return self.url + "/sso/oidc/token"

    # -- run-time settings and logs --------------------------------------------------

    @property
    def faults(self):
        """The `Faults` in force; assigning restarts their seeded decisions."""
        return self._injector.faults

    @faults.setter
    def faults(self, value):
        self._injector = FaultInjector(value)

    @property
    def requests(self):
        """Snapshot list of `RequestRecord` (oldest first)."""
        with self._log_lock:
            return list(self._requests)

    @property
    def queries(self):
        """Snapshot list of `QueryRecord` (oldest first)."""
        with self._log_lock:
            return list(self._queries)

    @property
    def token_lifetime(self):
        """Seconds a newly issued token lives."""
        return self._tokens.lifetime

    @token_lifetime.setter
    def token_lifetime(self, value):
        self._tokens.lifetime = value

    def _log_request(self, record):
        with self._log_lock:
            self._requests.append(record)

    def _log_query(self, record):
        with self._log_lock:
            self._queries.append(record)

    def reset(self):
        """Back to the state after start: no faults, empty logs, no jobs, initial users,
        token lifetime, file sizes, gzip ids, range support, sync limit and delays.

        Examples
        --------
        >>> from astroquery_eso_ancillary.emulator import Faults
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.faults = Faults(latency=1.0)
        ...     emu.reset()
        ...     emu.faults.latency
        0.0
        """
        self.faults = None
        with self._log_lock:
            self._requests.clear()
            self._queries.clear()
        self._tap.jobs.clear()
        self.file_sizes = dict(self._initial["file_sizes"])
        self.gzip_ids = set(self._initial["gzip_ids"])
        self.range_support = self._initial["range_support"]
        self._tokens.users = dict(self._initial["users"])
        self._tokens.lifetime = self._initial["token_lifetime"]
        self.file_overrides = {}
        self.tap_override = None
        self.sync_timeout, self.queue_delay, self.query_delay = self._initial["delays"]

    def add_user(self, username, password):
        """Let ``username`` log in with ``password``.

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.add_user("bob", "secret")
        ...     bool(emu.issue_token("bob"))
        True
        """
        self._tokens.add_user(username, password)

    def issue_token(self, username, *, lifetime=None):
        """A token as the token endpoint would issue it (``lifetime`` < 0: expired).

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     token = emu.issue_token("alice", lifetime=-10)
        """
        return self._tokens.issue(username, lifetime=lifetime)

    # -- files -----------------------------------------------------------------------

    def _raw_files(self):
        # Progenitor (raw) files named in DataLink; built on first use only.
        with self._raw_lock:
            if self._raw_index is None:
                self._raw_index = datalink.raw_index(self.archive)
            return self._raw_index

    def file_info(self, archive_id):
        """How a file is served: dict with size, plain_size, name, content_type,
        compression (None, "gzip" or "compress") and proprietary; None for an unknown id.

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.file_info("ADP.2024-03-19T05:58:04.410")["name"]
        'ADP.2024-03-19T05:58:04.410.png'
        """
        row = self.archive.file(archive_id)
        if row is not None:
            ext = row.get("extension") or ""
            est = row.get(self.size_column) or 0
            proprietary = bool(self.archive.is_proprietary(archive_id))
        elif archive_id in self._raw_files():
            ext, est, proprietary = "FITS.Z", self._raw_files()[archive_id], False
        else:
            return None
        compression = content.compression_of(ext)
        if archive_id in self.gzip_ids:
            compression = "gzip"
        plain = self.file_sizes.get(archive_id)
        if plain is None:
            plain = min(int(est) * 1024, self.max_file_bytes)
        size = plain
        if compression:
            size = len(content.served_bytes(archive_id, plain, compression))
        return {"archive_id": archive_id, "plain_size": plain, "size": size,
                "name": content.served_name(archive_id, ext, compression=compression),
                "content_type": content.content_type(ext, compression=compression),
                "compression": compression, "proprietary": proprietary}

    def file_bytes(self, archive_id):
        """The exact bytes served for ``archive_id`` (all of them, in memory).

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     len(emu.file_bytes("ADP.2024-03-19T05:58:04.409")) == 241 * 1024
        True
        """
        info = self.file_info(archive_id)
        if info is None:
            raise KeyError(f"unknown archive_id {archive_id!r}")
        return content.served_bytes(archive_id, info["plain_size"], info["compression"])

    def _file_reply(self, request, archive_id):
        info = self.file_info(archive_id)
        if info is None:
            return text_reply(404, f"File not found: {archive_id}")
        if archive_id in self.file_overrides:
            return self._override_reply(info, self.file_overrides[archive_id])
        if info["proprietary"] and request.user is None:
            why = ("the bearer token is invalid or expired"
                   if request.headers.get("Authorization") else "no bearer token was sent")
            return text_reply(401, f"Authentication required for proprietary file "
                                   f"{archive_id}: {why}.",
                              headers=[("WWW-Authenticate", 'Bearer realm="ESO"')])
        size = info["size"]
        headers = [("Content-Type", info["content_type"]),
                   ("Content-Disposition", f'attachment; filename="{info["name"]}"'),
                   ("ETag", f'"{quote(archive_id)}-{size}"')]
        if self.range_support:
            headers.append(("Accept-Ranges", "bytes"))
        start, end = 0, size
        status = 200
        wanted = request.headers.get("Range") if self.range_support else None
        if wanted:
            span = parse_range(wanted, size)
            if span == "unsatisfiable":
                return text_reply(416, f"Range {wanted} not satisfiable for {size} bytes",
                                  headers=[("Content-Range", f"bytes */{size}")])
            if span is not None:
                start, end = span
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
        if info["compression"]:
            data = content.served_bytes(archive_id, info["plain_size"],
                                        info["compression"])[start:end]
            return Reply(status, headers, body=data)
        return Reply(status, headers, length=end - start,
                     chunks=lambda: content.file_chunks(archive_id, size, start, end=end))

    @staticmethod
    def _override_reply(info, override):
        # A hostile answer: any field not overridden is the file's own. A declared
        # length other than the body's is sent as is, then the connection is closed.
        if isinstance(override, (bytes, bytearray)):
            override = {"body": bytes(override)}
        body = override.get("body")
        if body is None:
            body = content.served_bytes(info["archive_id"], info["plain_size"],
                                        info["compression"])
        headers = [("Content-Type", override.get("content_type", info["content_type"]))]
        disposition = override.get("content_disposition",
                                   f'attachment; filename="{info["name"]}"')
        if disposition is not None:
            headers.append(("Content-Disposition", disposition))
        length = override.get("content_length", len(body))
        return Reply(override.get("status", 200), headers, chunks=lambda: iter((body,)),
                     length=length, close=length != len(body))

    # -- routing ---------------------------------------------------------------------

    def _fault_reply(self):
        faults = self.faults
        headers = []
        if faults.retry_after is not None:
            headers.append(("Retry-After", f"{faults.retry_after:g}"))
        return text_reply(faults.error_status,
                          f"Injected fault: HTTP {faults.error_status}", headers=headers)

    def _route(self, request):
        path = request.path.rstrip("/") or "/"
        method = request.method
        if path.startswith("/dataPortal/file/"):
            if method not in ("GET", "HEAD"):
                return text_reply(405, "Use GET or HEAD", headers=[("Allow", "GET, HEAD")])
            return self._file_reply(request, path[len("/dataPortal/file/"):])
        if path == "/tap_obs/sync" and self.tap_override is not None:
            fake = self.tap_override
            if isinstance(fake, (bytes, bytearray)):
                fake = {"body": bytes(fake)}
            return Reply(fake.get("status", 200),
                         [("Content-Type", fake.get("content_type", VOTABLE_TYPE))],
                         body=fake["body"])
        if path == "/tap_obs" or path.startswith("/tap_obs/"):
            return self._tap.route(request, path[len("/tap_obs"):])
        if path == "/datalink/links":
            return self._datalink_reply(request)
        if path == "/sso/oidc/token":
            return self._token_reply(request)
        if path.startswith("/previews/") or path.startswith("/documentation/"):
            return self._extra_reply(request, path)
        if path == "/":
            return text_reply(200, f"ESO archive emulator (seed {self.seed}). Endpoints: "
                                   f"{self.tap_url}, {self.datalink_url}, {self.download_url}"
                                   f"<archive_id>, {self.token_url}")
        return text_reply(404, f"No such endpoint: {request.path}")

    def _extra_reply(self, request, path):
        kind, _, name = path.lstrip("/").partition("/")
        target = datalink.extra_target(self.archive, kind, name)
        if target is None:
            return text_reply(404, f"Not found: {path}")
        filename, ctype, size = target
        key = f"{kind}:{name}"
        return Reply(200, [("Content-Type", ctype),
                           ("Content-Disposition", f'attachment; filename="{filename}"')],
                     body=content.file_content(key, size))

    # -- token -----------------------------------------------------------------------

    def _token_reply(self, request):
        if request.method not in ("GET", "POST"):
            return text_reply(405, "Use GET or POST", headers=[("Allow", "GET, POST")])
        grant = request.get("grant_type")
        if grant != "password":
            return json_reply(400, {"error": "unsupported_grant_type",
                                    "error_description": "grant_type must be 'password'"})
        username, password = request.get("username"), request.get("password")
        if not username or not self._tokens.check_password(username, password):
            return json_reply(401, {"error": "invalid_grant",
                                    "error_description": "Invalid user credentials"})
        token = self._tokens.issue(username)
        lifetime = int(self._tokens.lifetime)
        return json_reply(200, {"access_token": token, "id_token": token,
                                "token_type": "Bearer", "expires_in": lifetime,
                                "scope": "openid"},
                          headers=[("Cache-Control", "no-store")])

    # -- DataLink --------------------------------------------------------------------

    def _datalink_reply(self, request):
        from .votable import error_votable

        if request.method not in ("GET", "POST", "HEAD"):
            return text_reply(405, "Use GET or POST", headers=[("Allow", "GET, POST")])
        ids = request.getall("ID")
        if not ids:
            return Reply(400, [("Content-Type", VOTABLE_TYPE)],
                         body=error_votable("UsageFault: the ID parameter is required "
                                            "(ID=ivo://eso.org/ID?<dp_id>)"))
        body = datalink.links_votable(self, ids)
        return Reply(200, [("Content-Type", VOTABLE_TYPE + ";content=datalink")], body=body)
