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
import base64
import binascii
import hashlib
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import quote

from . import content, datalink, filetypes
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
        ``{username: password}``; default ``{"alice": "wonderland"}``. Downloads
        accept these as HTTP Basic credentials too, as ESO's do.
    token_lifetime : float
        Seconds an issued token is valid (``expires_in``; ESO's is 28800).
    token_methods : tuple of str
        HTTP methods the token endpoint answers: ESO's documented one is GET;
        ``("GET", "POST")`` also takes a POST form. Others get 405.
    patched_fraction : float
        Share of the FITS files (seeded choice) that ESO "corrects at download":
        served without Range support, a few header blocks larger than estimated.
    patched_ids : iterable of str, optional
        Files patched besides the seeded share (``emu.patched_ids`` can be changed).
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
    max_post_bytes : int, optional
        The largest form body whose parameters are read, as Tomcat's ``maxPostSize``
        (ESO's TAP service is VOLLT in Tomcat; default 2 MiB, Tomcat's own default):
        the parameters of a larger body are ignored, so such a query arrives without
        its QUERY and is refused.
    uws_blocking : bool
        Honour UWS 1.1 blocking waits (``WAIT``); False: answer at once, as a
        UWS 1.0 service does, so clients must poll.
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
                 token_lifetime=28800, token_methods=("GET",), patched_fraction=0.03,
                 patched_ids=None, faults=None, gzip_ids=None, default_maxrec=None,
                 hard_maxrec=None, max_post_bytes=2 << 20, uws_blocking=True, sync_timeout=60.0,
                 queue_delay=0.0, query_delay=0.0, host="127.0.0.1", port=0):
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
        methods = tuple(str(m).upper() for m in (token_methods or ()))
        if not methods or not set(methods) <= {"GET", "POST"}:
            raise ValueError(f"token_methods must be GET and/or POST, got {token_methods!r}")
        if not isinstance(patched_fraction, (int, float)) or not 0 <= patched_fraction <= 1:
            raise ValueError(f"patched_fraction must be a number in [0, 1], "
                             f"got {patched_fraction!r}")
        self.patched_fraction = float(patched_fraction)
        self.seed = seed
        self.n_products = products
        self.size_column = size_column
        self.max_file_bytes = max_file_bytes
        self.hard_maxrec = HARD_MAXREC if hard_maxrec is None else hard_maxrec
        self.max_post_bytes = int(max_post_bytes)
        self.uws_blocking = bool(uws_blocking)
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
                         "token_methods": methods, "patched_ids": set(patched_ids or ()),
                         "delays": (sync_timeout, queue_delay, query_delay)}
        self.file_sizes = dict(self._initial["file_sizes"])
        self.range_support = range_support
        self.gzip_ids = set(self._initial["gzip_ids"])
        #: Methods the token endpoint answers (others: 405); changeable at run time.
        self.token_methods = methods
        #: Files served as "corrected at download" besides the seeded share.
        self.patched_ids = set(self._initial["patched_ids"])
        self._tokens = TokenService(users=self._initial["users"], lifetime=token_lifetime)
        self._injector = FaultInjector(faults)
        self._tap = TapService(self)
        self._log_lock = threading.Lock()
        self._requests = []
        self._queries = []
        self._raw_lock = threading.Lock()
        self._raw_index = None
        self._raw_seen = set()  # raw ids DataLink named for a product (no full index needed)
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
        # stop() waits for one poll: short, since test fixtures stop an emulator per test.
        self._thread = threading.Thread(target=server.serve_forever, name=f"eso-emulator-{port}",
                                        kwargs={"poll_interval": 0.02}, daemon=True)
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
        token lifetime and methods, file sizes, gzip and patched ids, range support, sync
        limit and delays.

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
        self.token_methods = self._initial["token_methods"]
        self.patched_ids = set(self._initial["patched_ids"])
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
        # Progenitor (raw) files named in DataLink; built on first use only (it reads every
        # product: seconds for a full-scale archive).
        with self._raw_lock:
            if self._raw_index is None:
                self._raw_index = datalink.raw_index(self.archive)
            return self._raw_index

    def _is_raw(self, archive_id):
        with self._raw_lock:
            if archive_id in self._raw_seen:
                return True
        return archive_id in self._raw_files()

    def raw_product(self, raw_id):
        """The product DataLink first names as made from the raw file ``raw_id``, or None.

        Examples
        --------
        >>> with ArchiveEmulator(products=5) as emu:
        ...     emu.raw_product("MUSE.2024-03-07T08:09:46.977")
        'ADP.2024-03-19T05:58:04.407'
        """
        return self._raw_files().get(raw_id)

    def accounts(self):
        """``{username: password}`` of the accounts the emulator accepts now.

        Examples
        --------
        >>> with ArchiveEmulator(products=10, users={"bob": "pw"}) as emu:
        ...     emu.accounts()
        {'bob': 'pw'}
        """
        return dict(self._tokens.users)

    def _user_of(self, authorization):
        # The user an Authorization header proves: a valid bearer token, or HTTP Basic
        # credentials of an account (downloads at ESO accept both).
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return self._tokens.verify(value.strip())
        if scheme.lower() == "basic":
            try:
                text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            name, sep, password = text.partition(":")
            if sep and self._tokens.check_password(name, password):
                return name
        return None

    def is_patched(self, archive_id):
        """True when the file is served as ESO serves the FITS files it corrects at
        download: Range ignored (always 200), size other than the estimate.

        Examples
        --------
        >>> with ArchiveEmulator(products=10, patched_ids={"ADP.2024-03-19T05:58:04.408"}) as emu:
        ...     emu.is_patched("ADP.2024-03-19T05:58:04.408")
        True
        """
        info = self.file_info(archive_id)
        return bool(info and info["patched"])

    def _patched(self, archive_id, extension):
        if filetypes.kind_of(extension) != "fits" or content.compression_of(extension):
            return False
        if archive_id in self.patched_ids:
            return True
        if self.patched_fraction <= 0:
            return False
        digest = hashlib.sha256(f"patched:{self.seed}:{archive_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") < self.patched_fraction * 2 ** 32

    def _meta_of(self, row):
        # Header values of a product file, from its product's ObsCore row.
        product = self.archive.product(row["product_id"]) or {}
        start = product.get("t_min")
        date_obs = None
        if start is not None:
            date_obs = (datetime(1858, 11, 17) + timedelta(days=float(start))).isoformat(
                timespec="milliseconds")
        return {"instrument": product.get("instrument_name"),
                "object": product.get("target_name"), "ra": product.get("s_ra"),
                "dec": product.get("s_dec"), "exptime": product.get("t_exptime"),
                "date_obs": date_obs, "category": row.get("eso_category"),
                "origfile": row.get("original_filename"), "product_id": row.get("product_id"),
                "prog_id": product.get("proposal_id"), "obstech": product.get("obstech")}

    def file_info(self, archive_id, *, progenitor_of=None):
        """How a file is served: dict with size, plain_size, name, content_type, kind,
        compression (None, "gzip" or "compress"), proprietary and patched; None for an
        unknown id.

        The plain size is ``file_sizes[archive_id]`` if given, else the estimate
        (``size_column`` kB) capped at ``max_file_bytes`` (FITS: rounded down to whole
        2880-byte blocks); a patched FITS file has a few header blocks more.

        ``progenitor_of`` names a product whose DataLink lists ``archive_id`` as a raw
        file: checked against that product alone, it spares the search of the whole
        archive a raw id otherwise needs (once).

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.file_info("ADP.2024-03-19T05:58:04.410")["name"]
        'ADP.2024-03-19T05:58:04.410.png'
        """
        if progenitor_of is not None and self.archive.file(archive_id) is None:
            product = self.archive.product(progenitor_of)
            files = self.archive.files_of(progenitor_of)
            if archive_id in datalink.progenitors(progenitor_of, product, files):
                with self._raw_lock:
                    self._raw_seen.add(archive_id)
        info = self._file_info(archive_id)
        if info is None:
            return None
        return {k: v for k, v in info.items() if k != "layout"}

    def _file_info(self, archive_id):
        row = self.archive.file(archive_id)
        if row is not None:
            ext = row.get("extension") or ""
            est = row.get(self.size_column) or 0
            proprietary = bool(self.archive.is_proprietary(archive_id))
            meta = self._meta_of(row)
        elif self._is_raw(archive_id):
            ext, est, proprietary = "FITS.Z", datalink.RAW_ESTSIZE_KB, False
            meta = datalink.raw_meta(archive_id)
        else:
            return None
        compression = content.compression_of(ext)
        if archive_id in self.gzip_ids:
            compression = "gzip"
        plain = self.file_sizes.get(archive_id)
        if plain is None:
            plain = content.nominal_size(ext, min(int(est) * 1024, self.max_file_bytes))
        patched = compression is None and self._patched(archive_id, ext)
        layout = content.file_layout(archive_id, ext, plain, meta=meta, patched=patched)
        size = layout.size
        if compression:
            size = len(content.served_bytes(layout, compression=compression))
        return {"archive_id": archive_id, "plain_size": layout.size, "size": size,
                "name": content.served_name(archive_id, ext, compression=compression),
                "content_type": content.content_type(ext, compression=compression),
                "kind": layout.kind, "compression": compression, "proprietary": proprietary,
                "patched": patched, "layout": layout}

    def file_bytes(self, archive_id):
        """The exact bytes served for ``archive_id`` (all of them, in memory).

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.file_bytes("ADP.2024-03-19T05:58:04.409")[:2]
        b'# '
        """
        info = self._file_info(archive_id)
        if info is None:
            raise KeyError(f"unknown archive_id {archive_id!r}")
        return content.served_bytes(info["layout"], compression=info["compression"])

    def file_stream(self, archive_id, start=0, *, end=None):
        """Iterate over the bytes served for ``archive_id`` (``[start, end)``), piece by
        piece: for checking huge files without holding them in memory.

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     b"".join(emu.file_stream("ADP.2024-03-19T05:58:04.410", 1, end=4))
        b'PNG'
        """
        info = self._file_info(archive_id)
        if info is None:
            raise KeyError(f"unknown archive_id {archive_id!r}")
        if info["compression"]:
            data = content.served_bytes(info["layout"], compression=info["compression"])
            return iter((data[start:end],))
        return info["layout"].chunks(start, end)

    def plain_bytes(self, archive_id):
        """The file's content before compression (what ``.gz``/``.Z`` files unpack to).

        Examples
        --------
        >>> with ArchiveEmulator(products=10) as emu:
        ...     emu.plain_bytes("MUSE.2024-03-07T08:09:46.977")[:9]
        b'SIMPLE  ='
        """
        info = self._file_info(archive_id)
        if info is None:
            raise KeyError(f"unknown archive_id {archive_id!r}")
        return info["layout"].read()

    def _file_reply(self, request, archive_id):
        info = self._file_info(archive_id)
        if info is None:
            return text_reply(404, f"File not found: {archive_id}")
        if archive_id in self.file_overrides:
            return self._override_reply(info, self.file_overrides[archive_id])
        if info["proprietary"] and request.user is None:
            why = ("the credentials are invalid or expired"
                   if request.headers.get("Authorization") else "no credentials were sent")
            return text_reply(401, f"Authentication required for proprietary file "
                                   f"{archive_id}: {why}.",
                              headers=[("WWW-Authenticate", 'Bearer realm="ESO"'),
                                       ("WWW-Authenticate", 'Basic realm="ESO"')])
        size = info["size"]
        headers = [("Content-Type", info["content_type"]),
                   ("Content-Disposition", f'attachment; filename="{info["name"]}"'),
                   ("ETag", f'"{quote(archive_id)}-{size}"')]
        # A file whose header is corrected while it is sent cannot be sent in pieces.
        ranges = self.range_support and not info["patched"]
        if ranges:
            headers.append(("Accept-Ranges", "bytes"))
        start, end = 0, size
        status = 200
        wanted = request.headers.get("Range") if ranges else None
        if wanted:
            span = parse_range(wanted, size)
            if span == "unsatisfiable":
                return text_reply(416, f"Range {wanted} not satisfiable for {size} bytes",
                                  headers=[("Content-Range", f"bytes */{size}")])
            if span is not None:
                start, end = span
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
        layout = info["layout"]
        if info["compression"]:
            data = content.served_bytes(layout, compression=info["compression"])[start:end]
            return Reply(status, headers, body=data)
        return Reply(status, headers, length=end - start,
                     chunks=lambda: layout.chunks(start, end))

    @staticmethod
    def _override_reply(info, override):
        # A hostile answer: any field not overridden is the file's own. A declared
        # length other than the body's is sent as is, then the connection is closed.
        if isinstance(override, (bytes, bytearray)):
            override = {"body": bytes(override)}
        body = override.get("body")
        if body is None:
            body = content.served_bytes(info["layout"], compression=info["compression"])
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
        if path.startswith("/nightlog/") or path.startswith("/calselector/"):
            kind, _, name = path.lstrip("/").partition("/")
            raw_id = name.rpartition("/")[2]
            found = datalink.extra_body({raw_id} if self._is_raw(raw_id) else (), kind, name)
            if found is None:
                return text_reply(404, f"Not found: {path}")
            filename, ctype, body = found
            return Reply(200, [("Content-Type", ctype), ("Content-Disposition",
                                                         f'inline; filename="{filename}"')],
                         body=body)
        if path == "/soda/sync":
            return self._soda_reply(request)
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
        filename, ctype, extension, size = target
        layout = content.file_layout(f"{kind}:{name}", extension, size,
                                     meta={"title": filename})
        return Reply(200, [("Content-Type", ctype),
                           ("Content-Disposition", f'attachment; filename="{filename}"')],
                     length=layout.size, chunks=layout.chunks)

    def _soda_reply(self, request):
        # A cutout is a small FITS image of the product's target (seeded by ID and CIRCLE).
        ident = request.get("ID") or ""
        key = ident[len(datalink.ID_PREFIX):] if ident.startswith(datalink.ID_PREFIX) else ""
        product = self.archive.product(key) if key else None
        if product is None:
            return text_reply(400 if not ident else 404,
                              f"UsageFault: ID must name a product as "
                              f"{datalink.ID_PREFIX}<dp_id>, got {ident!r}")
        circle = request.get("CIRCLE") or ""
        rows = [f for f in self.archive.files_of(key) if f["archive_id"] == key]
        meta = self._meta_of(rows[0]) if rows else {}
        layout = content.file_layout(f"cutout:{key}:{circle}", "FITS", 4 * filetypes.FITS_BLOCK,
                                     meta=meta)
        return Reply(200, [("Content-Type", "application/fits"),
                           ("Content-Disposition", f'attachment; filename="{key}_cutout.fits"')],
                     length=layout.size, chunks=layout.chunks)

    # -- token -----------------------------------------------------------------------

    def _token_reply(self, request):
        # ESO documents GET (astroquery's transport); POST only when asked for.
        if request.method not in self.token_methods:
            allowed = ", ".join(self.token_methods)
            return text_reply(405, f"Method {request.method} not allowed; use {allowed}",
                              headers=[("Allow", allowed)])
        grant = request.get("grant_type")
        if grant != "password":
            return json_reply(400, {"error": "unsupported_grant_type",
                                    "error_description": "grant_type must be 'password'"})
        client = request.get("client_id")
        if client != "clientid":
            return json_reply(401, {"error": "invalid_client",
                                    "error_description": "client_id must be 'clientid'"})
        username, password = request.get("username"), request.get("password")
        if not username or not self._tokens.check_password(username, password):
            return json_reply(401, {"error": "invalid_grant",
                                    "error_description": "Invalid user credentials"})
        token = self._tokens.issue(username)
        lifetime = int(self._tokens.lifetime)
        return json_reply(200, {"id_token": token, "access_token": token,
                                "expires_in": lifetime, "token_type": "bearer", "scope": ""},
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
