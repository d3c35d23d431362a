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
from logs import debug_records
from servers import ScriptedServer, answer_status, send_file

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
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
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


# -- credentials: expiry, renewal, pickling ------------------------------------------------

class FrozenClock:
    """Stands in for the ``time`` module inside transport, at a fixed moment."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now


@pytest.mark.parametrize("left, expired", [
    (None, False), (3600, False), (60.5, False), (60, False), (59.5, True), (30, True),
    (0, True), (-10, True),
])
def test_credentials_expire_a_minute_early(monkeypatch, left, expired):
    clock = FrozenClock(1_000_000.0)
    monkeypatch.setattr(transport, "time", clock)
    expires = None if left is None else clock.now + left
    assert Credentials("t", [], expires=expires).expired() is expired


def test_credentials_defaults():
    creds = Credentials("t", ["https://archive.eso.org"])
    # The identity names whose 401 a folder remembers; without one, every token is "user".
    assert creds.identity == "user" and creds.expires is None
    assert creds.renew() is False  # nothing to renew with
    assert transport.auth_headers("https://archive.eso.org/x", creds) == {
        "Authorization": "Bearer t"}


def test_renewal_replaces_the_token_and_its_expiry():
    later = time.time() + 7200
    calls = []

    def renew():
        calls.append(1)
        return "fresh", later

    creds = Credentials("old", ["https://archive.eso.org"], renew=renew, identity="alice")
    assert creds.renew() is True
    assert calls == [1]
    assert transport.auth_headers("https://archive.eso.org/x", creds) == {
        "Authorization": "Bearer fresh"}
    assert creds.expires == later and creds.identity == "alice"


@pytest.mark.parametrize("outcome", [None, "", RuntimeError("service down")])
def test_a_failed_renewal_keeps_the_old_token(outcome):
    def renew():
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    creds = Credentials("old", ["https://archive.eso.org"], renew=renew, expires=1.0)
    with debug_records() as records:
        assert creds.renew() is False
    assert transport.auth_headers("https://archive.eso.org/x", creds) == {
        "Authorization": "Bearer old"}
    assert creds.expires == 1.0
    failed = [r.getMessage() for r in records if "Renewing" in r.getMessage()]
    if isinstance(outcome, Exception):
        assert failed == ["Renewing the login failed (RuntimeError)."]
    else:
        assert failed == []


@pytest.mark.parametrize("first_lasts, renewals", [(7200, 1), (-100, 2)])
def test_threads_that_find_the_token_renewed_meanwhile_do_not_renew_again(first_lasts,
                                                                          renewals):
    # Four threads find the token expired at once. One renews it; the others, which read
    # the stale token before it was replaced, use the new one, unless it has run out too.
    calls = []
    inside = threading.Event()
    started = [threading.Event() for _ in range(3)]

    def renew():
        calls.append(1)
        inside.set()
        if len(calls) == 1:
            # Hold the lock until the other threads have read the stale token and wait.
            for event in started:
                event.wait(30)
            time.sleep(0.5)
        return f"fresh{len(calls)}", time.time() + (first_lasts if len(calls) == 1 else 7200)

    creds = Credentials("old", ["https://archive.eso.org"], renew=renew,
                        expires=time.time() - 1)
    results = []

    def other(event):
        event.set()
        results.append(creds.renew())

    first = threading.Thread(target=lambda: results.append(creds.renew()))
    first.start()
    assert inside.wait(30)
    others = [threading.Thread(target=other, args=(event,)) for event in started]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(30)
    assert results == [True] * 4
    assert len(calls) == renewals
    assert transport.auth_headers("https://archive.eso.org/x", creds) == {
        "Authorization": f"Bearer fresh{renewals}"}


def test_credentials_pickle_without_their_renewal():
    creds = Credentials("tok", ["https://archive.eso.org", "http://127.0.0.1:5"],
                        expires=12345.0, renew=lambda: ("new", 1e12), identity="bob")
    copy = pickle.loads(pickle.dumps(creds))
    assert (copy.origins, copy.expires, copy.identity) == (creds.origins, 12345.0, "bob")
    assert transport.auth_headers("http://127.0.0.1:5/f", copy) == {
        "Authorization": "Bearer tok"}
    with debug_records() as records:
        assert copy.renew() is False  # the renewal stays with the original
    assert not [r for r in records if "Renewing" in r.getMessage()]
    assert creds.renew() is True
    old = Credentials("tok", ["https://a"])
    state = old.__getstate__()
    del state["identity"], state["expires"]  # a pickle of an older version
    older = Credentials.__new__(Credentials)
    older.__setstate__(state)
    assert older.identity == "user" and older.expires is None and not older.expired()
    assert older.renew() is False


def test_request_headers_hide_only_the_credentials():
    creds = Credentials("s3cret", ["https://x"])
    headers = transport.request_headers("https://x/f", creds)
    headers["X-Other"] = "shown"
    assert repr(headers) == "{'Authorization': '***', 'X-Other': 'shown'}"
    headers = transport.request_headers("https://elsewhere/f", creds)
    headers.update({"authorization": "Basic abc", "Accept": "*/*"})
    assert repr(headers) == "{'authorization': '***', 'Accept': '*/*'}"
    assert dict(headers) == {"authorization": "Basic abc", "Accept": "*/*"}


def test_each_thread_gets_one_download_session_of_its_own():
    seen = []

    def work():
        first = transport.thread_session()
        seen.append((first, transport.thread_session(), first.headers["Accept-Encoding"],
                     first.headers["User-Agent"]))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a, a2, enc_a, ua_a), (b, b2, enc_b, _) = seen
    assert a is a2 and b is b2 and a is not b
    assert isinstance(a, requests.Session)
    assert enc_a == enc_b == "identity" and ua_a == transport.user_agent()


# -- the urllib3 redaction filter -----------------------------------------------------------

def _filtered(msg, args):
    record = logging.makeLogRecord({"name": "urllib3.connectionpool", "msg": msg,
                                    "args": args, "levelno": logging.DEBUG})
    keep = all(f.filter(record) for f in logging.getLogger("urllib3.connectionpool").filters)
    return keep, record


def test_redaction_keeps_records_and_odd_arguments():
    keep, record = _filtered('%s:%s "GET /t?password=pw HTTP/1.1" %s', ("http://h", 8080, 200))
    assert keep and record.getMessage() == 'http://h:8080 "GET /t?password=*** HTTP/1.1" 200'
    keep, record = _filtered("%s %s", (8080, "/t?password=pw"))
    assert keep and record.args == (8080, "/t?password=***")
    keep, record = _filtered("password=pw", None)
    assert keep and record.msg == "password=***" and record.args is None
    keep, record = _filtered(42, ())
    assert keep and record.getMessage() == "42"
    keep, record = _filtered("%(a)s", {"a": "password=pw"})  # mapping arguments stay as they are
    assert keep and record.args == {"a": "password=pw"}


def test_the_token_request_is_logged_without_the_password(token_server, caplog):
    url, _ = token_server
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        transport.request_token(url, username="u", password="Pa55word", timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "urllib3.connectionpool"]
    assert any("password=***" in line and "GET /token?" in line for line in lines), lines
    assert not any("Pa55word" in line for line in lines)


# -- the token request: redirects, time-outs ----------------------------------------------

@pytest.mark.parametrize("status, message", [
    (300, "answered HTTP 300 (a redirect); the password is not sent on."),
    (399, "answered HTTP 399 (a redirect); the password is not sent on."),
    (307, "answered HTTP 307 (a redirect); the password is not sent on."),
    (400, "answered HTTP 400."),
    (299, "answered HTTP 299."),
])
def test_request_token_names_any_3xx_a_redirect(token_server, status, message):
    url, answer = token_server
    answer.update(status=status, headers={}, body=b"{}")
    with pytest.raises(LoginError) as info:
        transport.request_token(url, username="u", password="pw", timeout=10)
    assert str(info.value) == f"the token service at {url} {message}"


def test_request_token_gives_up_after_its_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/token"
        start = time.monotonic()
        with pytest.raises(LoginError) as info:
            transport.request_token(url, username="u", password="pw", timeout=0.3)
        assert time.monotonic() - start < 60
        assert "Timeout" in str(info.value) and "pw" not in str(info.value)
    finally:
        listener.close()


# -- QuerySession: its policy, the inflation cap, the body it hands over ------------------

@pytest.fixture
def scripted():
    with ScriptedServer("127.0.0.2") as server:
        yield server


def test_query_session_uses_its_own_policy(scripted):
    scripted.routes["/busy"] = answer_status(503, retry_after=0)
    with conf.set_temp("max_retries", 2), conf.set_temp("backoff", 0.0):
        with transport.QuerySession(timeout=10, policy=RetryPolicy(retries=0)) as session, \
                pytest.raises(EsoServiceError, match="after 1 attempts"):
            session.get(scripted.url + "/busy")
        assert len(scripted.got("/busy")) == 1
        with transport.QuerySession(timeout=10) as session, \
                pytest.raises(EsoServiceError, match="after 3 attempts"):  # conf's policy
            session.get(scripted.url + "/busy")
        assert len(scripted.got("/busy")) == 4


def test_query_session_answers_up_to_the_cap_exactly(scripted):
    body = bytes(range(256)) * 1000  # 256,000 bytes: several reads of 64 KiB
    scripted.routes["/big"] = send_file(body)
    with transport.QuerySession(timeout=10, policy=RetryPolicy(retries=0)) as session:
        session.max_answer_bytes = len(body)
        r = session.get(scripted.url + "/big")
        assert r.content == body
        assert r.raw.read(5) == body[:5] and r.raw.read(None) == body[5:]
        assert r.raw.read() == b""
        session.max_answer_bytes = len(body) - 1
        with pytest.raises(EsoServiceError) as info:
            session.get(scripted.url + "/big")
    assert str(info.value) == (f"The answer of {scripted.url}/big inflates to more than "
                               f"{len(body) - 1} bytes (a decompression bomb?); stopped.")


def test_a_capped_answer_is_not_read_to_its_end(scripted):
    # The cap must stop the reading, not judge a body already read whole into memory.
    total = 64 << 20
    written = []

    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        block, sent = b"\0" * (1 << 16), 0
        try:
            while sent < total:
                handler.wfile.write(block)
                sent += len(block)
        finally:
            written.append(sent)

    scripted.routes["/endless"] = endless
    with transport.QuerySession(timeout=10, policy=RetryPolicy(retries=0)) as session:
        session.max_answer_bytes = 1 << 20
        with pytest.raises(EsoServiceError, match="inflates to more than 1048576 bytes"):
            session.get(scripted.url + "/endless")
    deadline = time.monotonic() + 30
    while not written and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written and written[0] < total // 2


@pytest.mark.parametrize("kwargs", [{"retries": -1}, {"backoff": -0.5}, {"max_wait": -1}])
def test_a_negative_retry_policy_is_refused(kwargs):
    with pytest.raises(ValueError) as info:
        RetryPolicy(**kwargs)
    name, value = next(iter(kwargs.items()))
    assert f"{name}={value!r}" in str(info.value) and "must be >= 0" in str(info.value)
    with conf.set_temp("max_retries", -1), pytest.raises(ValueError, match="retries=-1"):
        RetryPolicy.from_conf()


def test_no_wait_after_the_last_attempt(caplog):
    send = Sender(503, 503, 503)
    with caplog.at_level(logging.DEBUG, logger="astroquery"), \
            pytest.raises(EsoServiceError, match="after 3 attempts"):
        transport.send_with_retries(send, "http://h/x", policy=RetryPolicy(retries=2,
                                                                           backoff=0.0))
    waits = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert waits == ["http://h/x: HTTP 503; retrying in 0.00 s (1/2)",
                     "http://h/x: HTTP 503; retrying in 0.00 s (2/2)"]


def test_a_zero_retry_policy_is_accepted_and_the_refusal_is_exact():
    assert RetryPolicy(retries=0, backoff=0, max_wait=0).wait(1) == 0
    assert RetryPolicy(max_wait=0.5).wait(3) == 0.5
    with pytest.raises(ValueError) as info:
        RetryPolicy(retries=-1)
    assert str(info.value) == ("retries, backoff and max_wait must be >= 0, got retries=-1, "
                               "backoff=0.5, max_wait=300.0")
