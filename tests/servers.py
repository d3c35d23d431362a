# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""A small scriptable HTTP server on a loopback address, for hostile or odd answers.

Each route is a function ``answer(handler)`` that writes whatever it wants
(status, headers, a body that lies, trickles, never ends ...). Every request is
recorded with its headers, so tests can check what the client sent where.
"""
import contextlib
import http.server
import threading
import time


class Recorded:
    def __init__(self, method, path, headers):
        self.method, self.path, self.headers = method, path, headers


class ScriptedServer:
    """``with ScriptedServer("127.0.0.2") as srv: srv.routes["/f"] = fn``; ``srv.url``."""

    def __init__(self, host="127.0.0.2"):
        self.routes = {}
        self.requests = []
        self.stop_event = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                path = self.path.split("?", 1)[0]
                owner.requests.append(Recorded(self.command, self.path, dict(self.headers)))
                answer = owner.routes.get(path)
                if answer is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    answer(self)

            def do_GET(self):
                self._any()

            do_HEAD = do_POST = do_GET  # noqa: N815

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that hangs up (as tests make it) is not news

        self.httpd = Server((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def __enter__(self):
        # A short poll: shutdown() waits for it, once per test.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def got(self, path):
        """The recorded requests for ``path`` (query ignored)."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]


def answer_status(status, *, retry_after=None):
    """A route answering ``status`` with an empty body (and ``Retry-After`` when given)."""
    def answer(handler):
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        if retry_after is not None:
            handler.send_header("Retry-After", str(retry_after))
        handler.end_headers()
    return answer


def send_file(body, *, name=None, ctype="application/octet-stream", etag=None,
              last_modified=None, length=True):
    """A route answering ``body`` whole (200), or the asked Range (206) when a validator
    is given and If-Range (if any) matches it."""
    def answer(handler):
        start = 0
        wanted = handler.headers.get("Range")
        if_range = handler.headers.get("If-Range")
        validator = etag or last_modified
        if wanted and validator and (if_range is None or if_range == validator):
            start = int(wanted.split("=")[1].split("-")[0])
        part = body[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Type", ctype)
        if name:
            handler.send_header("Content-Disposition", f'attachment; filename="{name}"')
        if etag:
            handler.send_header("ETag", etag)
        if last_modified:
            handler.send_header("Last-Modified", last_modified)
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        if length:
            handler.send_header("Content-Length", str(len(part)))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(part)
    return answer


def trickle(*, byte_every, total_seconds, stop):
    """A route that sends one byte every ``byte_every`` seconds (no length) until ``stop``."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        deadline = time.monotonic() + total_seconds
        while time.monotonic() < deadline and not stop.is_set():
            handler.wfile.write(b"x")
            handler.wfile.flush()
            stop.wait(byte_every)
    return answer


def endless(*, stop, limit=512 << 20):
    """A route that streams zeros with no length until the client stops (or ``limit``)."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        block = bytes(1 << 16)
        sent = 0
        while sent < limit and not stop.is_set():
            handler.wfile.write(block)
            sent += len(block)
    return answer


def stall(*, stop, seconds=60):
    """A route that answers headers, a few bytes, then nothing for ``seconds``."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        handler.wfile.write(b"\x89PNG")
        handler.wfile.flush()
        stop.wait(seconds)
    return answer
