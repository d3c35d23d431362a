# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's HTTP plumbing: the threading HTTP/1.1 server, request parsing,
the request log records, and sending replies with the injected faults
(latency, errors, slow answers, bandwidth caps, dropped connections).

Routing is the emulator's (``ArchiveEmulator._route``); this module only
moves bytes.
"""
import contextlib
import dataclasses
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .http_util import text_reply

__all__ = ["EmulatorHTTPServer", "Request", "RequestRecord"]

#: Query-string parameters never written to the request log.
SECRET_PARAMS = frozenset({"password", "client_secret", "token", "access_token", "id_token"})


@dataclasses.dataclass
class RequestRecord:
    """One HTTP request as the emulator saw it (secrets removed)."""

    method: str
    path: str
    query: str
    status: int
    bytes_sent: int
    range: str | None
    authorized: bool


def _clean_query(query):
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS])


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: parallel downloaders and load tests
    # opening dozens of connections at once would see refused or reset connections.
    request_queue_size = 128

    def __init__(self, address, emulator):
        self.emulator = emulator
        self._open = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        # A client going away mid-request is normal (timeouts, dropped downloads).
        if isinstance(sys.exc_info()[1], (OSError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def process_request_thread(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_open_connections(self):
        """Cut every kept-alive connection, so a stopped emulator answers nothing."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(2)


class Request:
    """What a route needs to know about one request."""

    def __init__(self, method, path, params, headers, user):
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.user = user

    def get(self, name, default=None):
        """First value of a parameter (names are case-insensitive, as in TAP)."""
        values = self.params.get(name.lower())
        return values[0] if values else default

    def getall(self, name):
        return list(self.params.get(name.lower(), []))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESOArchiveEmulator/1.0"
    # Headers and body go out in separate writes; with Nagle's algorithm on, a
    # kept-alive client then waits for a delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 60

    def log_message(self, format, *args):
        # The request log is emu.requests; never print URLs (they may hold a password).
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PUT(self):
        self._handle("PUT")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _params(self, query, body):
        params = {}
        pairs = parse_qsl(query, keep_blank_values=True)
        ctype = self.headers.get("Content-Type", "")
        # Tomcat's maxPostSize: the parameters of a longer form body are silently dropped.
        if (body and ctype.startswith("application/x-www-form-urlencoded")
                and len(body) <= self.server.emulator.max_post_bytes):
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        for key, value in pairs:
            params.setdefault(key.lower(), []).append(value)
        return params

    def _handle(self, method):
        emu = self.server.emulator
        split = urlsplit(self.path)
        path = unquote(split.path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        # A bearer token, or HTTP Basic credentials (the emulator decides which are valid).
        user = emu._user_of(self.headers.get("Authorization", ""))
        request = Request(method, path, self._params(split.query, body), self.headers, user)
        decision = emu._injector.decide(path, is_file=path.startswith("/dataPortal/file/"))
        if decision.latency:
            time.sleep(decision.latency)
        if decision.error:
            reply = emu._fault_reply()
        else:
            try:
                reply = emu._route(request)
            except Exception as exc:  # a bug in a route: answer 500, keep serving
                reply = text_reply(500, f"Internal emulator error: {type(exc).__name__}: {exc}")
        if decision.slow:
            time.sleep(emu.faults.slow_seconds)
        record = RequestRecord(method, path, _clean_query(split.query), reply.status, 0,
                               self.headers.get("Range"), user is not None)
        self._send(reply, decision, record, head=(method == "HEAD"))

    def _send(self, reply, decision, record, *, head):
        emu = self.server.emulator
        length = reply.length
        cut = None if head else decision.drop_position(length)
        record.bytes_sent = 0 if head else (length if cut is None else cut)
        # Logged before the first byte goes out: a client that saw the answer sees the record.
        emu._log_request(record)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if cut is not None or reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head or length == 0:
            return
        limit = length if cut is None else cut
        sent = 0
        started = time.monotonic()
        bandwidth = decision.bandwidth
        # Pieces of at most 64 KiB (1/20 s of data under a bandwidth cap), cut from a
        # memoryview: slicing bytes would copy the rest of the body for every piece.
        step = 65536 if not bandwidth else max(1024, min(65536, int(bandwidth / 20)))
        try:
            for chunk in reply.iter_body():
                view = memoryview(chunk)
                offset = 0
                while offset < len(view) and sent < limit:
                    piece = view[offset:offset + min(step, limit - sent)]
                    offset += len(piece)
                    if bandwidth:
                        # Pace before writing: byte n leaves no earlier than n / bandwidth
                        # seconds after the first, the last piece included.
                        ahead = (sent + len(piece)) / bandwidth - (time.monotonic() - started)
                        if ahead > 0:
                            self.wfile.flush()
                            time.sleep(ahead)
                    self.wfile.write(piece)
                    sent += len(piece)
                if sent >= limit:
                    break
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            record.bytes_sent = sent
            self.close_connection = True
            return
        if cut is not None:
            # Cut the connection mid-body, as a dropped network link would.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)

