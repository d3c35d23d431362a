# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""transport.py: retry policy, Retry-After, body completeness, origins, credentials, login."""
import email.utils
import http.server
import json
import logging
import pickle
import socket
import threading
import time

import pytest
import requests

from astroquery_eso_ancillary import EsoServiceError, conf, transport
from astroquery_eso_ancillary.exceptions import LoginError
from astroquery_eso_ancillary.transport import Credentials, RetryPolicy


def response(status=200, headers=None, content=b""):
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers or {})
    r._content = content
    return r


@pytest.mark.parametrize("value, seconds", [
    ("2.5", 2.5), ("0", 0.0), ("-3", 0.0), ("", None), (None, None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
])
def test_retry_after(value, seconds):
    headers = {} if value is None else {"Retry-After": value}
    assert transport.retry_after(response(headers=headers)) == seconds


def test_retry_after_as_a_future_date_and_without_response():
    later = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 90 < transport.retry_after(response(headers={"Retry-After": later})) <= 100
    assert transport.retry_after(None) is None


def test_retry_policy():
    policy = RetryPolicy(retries=3, backoff=0.5, max_wait=3.0)
    assert [policy.wait(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.wait(1, retry_after=0.0) == 0.0
    assert policy.wait(4, retry_after=1.5) == 1.5
    assert policy.wait(1, retry_after=99) == 3.0
    assert RetryPolicy().retries == 4 and RetryPolicy().backoff == 0.5
    assert RetryPolicy().max_wait == transport.MAX_WAIT == 300.0
    assert {429, 500, 502, 503, 504} == transport.RETRY_STATUSES
    for status in (429, 500, 502, 503, 504):
        assert policy.retries_status(status)
    for status in (200, 206, 400, 401, 403, 404, 416, 501, 505):
        assert not policy.retries_status(status)


def test_retry_policy_from_conf():
    with conf.set_temp("max_retries", 7), conf.set_temp("backoff", 0.25):
        assert RetryPolicy.from_conf() == RetryPolicy(retries=7, backoff=0.25)
        assert RetryPolicy.from_conf(retries=0, backoff=2) == RetryPolicy(retries=0,
                                                                          backoff=2.0)


def test_check_complete():
    whole = response(headers={"Content-Length": "3"}, content=b"abc")
    assert transport.check_complete(whole) is whole
    assert transport.check_complete(response(content=b"abc")) is not None
    gz = response(headers={"Content-Length": "9", "Content-Encoding": "gzip"}, content=b"ab")
    assert transport.check_complete(gz) is gz  # the length is of the encoded body
    longer = response(headers={"Content-Length": "2"}, content=b"abc")
    assert transport.check_complete(longer) is longer
    odd = response(headers={"Content-Length": "x"}, content=b"a")
    assert transport.check_complete(odd) is odd
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as info:
        transport.check_complete(response(headers={"Content-Length": "4"}, content=b"abc"))
    assert str(info.value) == "body cut at 3 of 4 bytes"


class Sender:
    """A ``send`` callable answering from a script: statuses or exceptions."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        status, headers = item if isinstance(item, tuple) else (item, {})
        return response(status, headers)


def test_send_with_retries_stops_at_a_final_answer():
    policy = RetryPolicy(retries=5, backoff=0.0)
    send = Sender(503, (429, {"Retry-After": "0"}), requests.ConnectionError("x"),
                  requests.exceptions.ChunkedEncodingError("y"), 404)
    assert transport.send_with_retries(send, "http://h/x", policy=policy).status_code == 404
    assert send.calls == 5


def test_send_with_retries_gives_up_naming_the_last_problem():
    policy = RetryPolicy(retries=2, backoff=0.0)
    send = Sender(500, 502, 504)
    with pytest.raises(EsoServiceError) as info:
        transport.send_with_retries(send, "http://h/x", policy=policy)
    assert str(info.value) == "http://h/x kept failing after 3 attempts (last: HTTP 504)."
    assert send.calls == 3
    send = Sender(500, requests.ConnectionError("http://user:pw@h/?token=s3cret"))
    with pytest.raises(EsoServiceError) as info:
        transport.send_with_retries(send, "http://h/x", policy=RetryPolicy(retries=1,
                                                                           backoff=0.0))
    assert str(info.value) == ("http://h/x kept failing after 2 attempts "
                               "(last: ConnectionError).")
    send = Sender(200)
    assert transport.send_with_retries(send, "u", policy=RetryPolicy(retries=0)) \
        .status_code == 200


def test_send_with_retries_does_not_retry_a_timeout():
    send = Sender(requests.ReadTimeout("t"), 200)
    with pytest.raises(EsoServiceError) as info:
        transport.send_with_retries(send, "http://h/x", policy=RetryPolicy(retries=3))
    assert str(info.value) == ("No answer from http://h/x within the timeout (ReadTimeout). "
                               "Raise the timeout, or run large selections with "
                               "async_job=True.")
    assert send.calls == 1


def test_send_with_retries_waits_as_the_policy_says(caplog):
    # Retry-After: 0 wins over a backoff that would outlast the test's timeout.
    send = Sender((503, {"Retry-After": "0"}), 200)
    start = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="astroquery"):
        transport.send_with_retries(send, "http://h/x", policy=RetryPolicy(retries=1,
                                                                           backoff=1000))
    assert time.monotonic() - start < 60
    assert "http://h/x: HTTP 503; retrying in 0.00 s (1/1)" in caplog.text


def test_send_with_retries_uses_conf_by_default():
    with conf.set_temp("max_retries", 2), conf.set_temp("backoff", 0.0):
        send = Sender(503, 503, 503)
        with pytest.raises(EsoServiceError, match="after 3 attempts"):
            transport.send_with_retries(send, "u")
        assert send.calls == 3


@pytest.mark.parametrize("url, text", [
    ("HTTPS://Archive.ESO.org/tap_obs/sync", "https://archive.eso.org:443"),
    ("http://h/x", "http://h:80"), ("http://h:8080/x", "http://h:8080"),
    ("ftp://h/x", "ftp://h:0"), ("http://h:99999/x", "http://h:80"), ("", "://:0"),
])
def test_origin(url, text):
    assert transport.origin(url) == text


def test_credentials_and_auth_headers():
    creds = Credentials("s3cret", ["https://archive.eso.org/tap_obs", "http://127.0.0.1:5"])
    assert creds.origins == {"https://archive.eso.org:443", "http://127.0.0.1:5"}
    assert repr(creds) == str(creds) == "<Credentials for 2 origin(s)>"
    assert transport.auth_headers("https://ARCHIVE.eso.org/x?y", creds) == {
        "Authorization": "Bearer s3cret"}
    assert transport.auth_headers("http://127.0.0.1:5/f", creds) == {
        "Authorization": "Bearer s3cret"}
    for url in ("http://archive.eso.org/x", "https://archive.eso.org:444/x",
                "http://127.0.0.1:6/f", "https://evil.example/x"):
        assert transport.auth_headers(url, creds) == {}
    assert transport.auth_headers("https://archive.eso.org/x", None) == {}
    assert transport.auth_headers("https://archive.eso.org/x",
                                  Credentials("", ["https://archive.eso.org"])) == {}
    copy = pickle.loads(pickle.dumps(creds))
    assert copy == creds and hash(copy) == hash(creds)
    assert copy != Credentials("other", creds.origins) and creds != "s3cret"
    assert creds != Credentials("s3cret", ["https://archive.eso.org"])


def test_sessions():
    assert transport.user_agent() == \
        f"astroquery_eso_ancillary (python-requests/{requests.__version__})"
    with transport.new_session({"X-A": "1"}) as session:
        assert session.headers["User-Agent"] == transport.user_agent()
        assert session.headers["X-A"] == "1"
        assert not session.hooks["response"]
    session = transport.thread_session()
    assert transport.thread_session() is session
    assert session.headers["Accept-Encoding"] == "identity"
    other = []
    thread = threading.Thread(target=lambda: other.append(transport.thread_session()))
    thread.start()
    thread.join()
    assert other[0] is not session


def test_redaction_of_secrets_in_urllib3_log_records():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, "f", 1,
                               '%s "GET /token?username=a&password=pw&token=t HTTP/1.1"',
                               ("http://h",), None)
    record2 = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, "f", 1,
                                "url %s", ("/x?client_secret=c&id_token=i&Password=P",), None)
    for r in (record, record2):
        for f in logging.getLogger("urllib3.connectionpool").filters:
            f.filter(r)
    assert record.getMessage() == \
        'http://h "GET /token?username=a&password=***&token=*** HTTP/1.1"'
    assert record2.getMessage() == "url /x?client_secret=***&id_token=***&Password=***"


@pytest.fixture
def token_server():
    answer = {"status": 200, "body": json.dumps({"id_token": "a.b.c"}).encode(),
              "headers": {}, "seen": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            answer["seen"].append(self.path)
            self.send_response(answer["status"])
            for key, value in answer["headers"].items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/token", answer
    server.shutdown()
    server.server_close()


def test_request_token(token_server):
    url, answer = token_server
    assert transport.request_token(url, username="u", password="pw", timeout=10) == "a.b.c"
    query = answer["seen"][0].split("?", 1)[1]
    assert sorted(query.split("&")) == sorted([
        "response_type=id_token+token", "grant_type=password", "client_id=clientid",
        "client_secret=clientSecret", "username=u", "password=pw"])


@pytest.mark.parametrize("status, headers, body, message", [
    (302, {"Location": "http://elsewhere/"}, b"", "answered HTTP 302 (a redirect); the "
                                                  "password is not sent on."),
    (401, {}, b"no", "answered HTTP 401."),
    (200, {}, b"not json", "sent no id_token."),
    (200, {}, b'{"x": 1}', "sent no id_token."),
    (200, {}, b'{"id_token": ""}', "sent no id_token."),
    (200, {}, b'{"id_token": 5}', "sent no id_token."),
    (200, {}, b'[1]', "sent no id_token."),
])
def test_request_token_refusals(token_server, status, headers, body, message):
    url, answer = token_server
    answer.update(status=status, headers=headers, body=body)
    with pytest.raises(LoginError) as info:
        transport.request_token(url, username="u", password="pw", timeout=10)
    assert str(info.value) == f"the token service at {url} {message}"
    assert len(answer["seen"]) == 1  # no redirect followed


def test_request_token_unreachable():
    with pytest.raises(LoginError) as info:
        transport.request_token("http://127.0.0.1:9/token", username="u", password="pw",
                                timeout=5)
    assert str(info.value) == ("could not reach the ESO token service at "
                               "http://127.0.0.1:9/token (ConnectionError).")
    assert "pw" not in str(info.value)


def test_query_session_defaults(token_server):
    url, answer = token_server
    creds = Credentials("t0k", [url])
    with transport.QuerySession(timeout=5, credentials=creds,
                                policy=RetryPolicy(retries=0)) as session:
        r = session.get(url)
        assert r.status_code == 200 and r.raw.read() == answer["body"]
        assert r.raw.read(decode_content=False) == b""
        assert session.headers["User-Agent"] == transport.user_agent()
    assert r.request.headers["Authorization"] == "Bearer t0k"
    with transport.QuerySession(timeout=5) as session:
        r = session.get(url)
    assert "Authorization" not in r.request.headers


def test_query_session_keeps_given_headers_and_timeout(token_server):
    url, _ = token_server
    with transport.QuerySession(timeout=5, policy=RetryPolicy(retries=0)) as session:
        r = session.get(url, headers={"X-Asked": "1"})
    assert r.request.headers["X-Asked"] == "1"
    # A timeout given to the request wins over the session's default.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    try:
        stalled = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        with transport.QuerySession(timeout=600, policy=RetryPolicy(retries=0)) as session:
            start = time.monotonic()
            with pytest.raises(EsoServiceError, match="within the timeout"):
                session.get(stalled, timeout=0.3)
        assert time.monotonic() - start < 60
    finally:
        listener.close()
