# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Small HTTP helpers of the emulator: the `Reply` a route returns, Range parsing."""
import json
import re

__all__ = ["Reply", "json_reply", "parse_range", "text_reply"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Reply:
    """A response: status, headers, and a body given as bytes or as a chunk generator.

    Parameters
    ----------
    status : int
        HTTP status.
    headers : list of (str, str)
        Headers besides Content-Length (which is derived).
    body : bytes, optional
        The whole body.
    chunks : callable, optional
        Returns an iterator of bytes (for large files); ``length`` is then required.
    length : int, optional
        Body length when ``chunks`` is given.
    close : bool
        Close the connection after this response.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.http_util import Reply
    >>> Reply(200, [], body=b"abc").length
    3
    """

    def __init__(self, status, headers, *, body=b"", chunks=None, length=None, close=False):
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.chunks = chunks
        self.length = len(body) if chunks is None else int(length)
        self.close = close

    def iter_body(self):
        """Iterate over the body's bytes."""
        if self.chunks is None:
            return iter((self.body,))
        return self.chunks()


def text_reply(status, message, *, headers=()):
    """A short ``text/plain`` reply.

    Examples
    --------
    >>> text_reply(404, "nope").body
    b'nope\\n'
    """
    return Reply(status, [("Content-Type", "text/plain; charset=utf-8"), *headers],
                 body=(message + "\n").encode("utf-8"))


def json_reply(status, document, *, headers=()):
    """A JSON reply.

    Examples
    --------
    >>> json_reply(200, {"a": 1}).body
    b'{"a": 1}'
    """
    return Reply(status, [("Content-Type", "application/json"), *headers],
                 body=json.dumps(document).encode("utf-8"))


def parse_range(header, size):
    """Interpret a ``Range`` header for a body of ``size`` bytes.

    Returns
    -------
    tuple or str or None
        ``(start, end)`` (end exclusive) for one satisfiable range,
        ``"unsatisfiable"`` when it lies outside the body, None when the header
        is not a single byte range (then the whole body is sent, as RFC 9110 allows).

    Examples
    --------
    >>> parse_range("bytes=10-19", 100), parse_range("bytes=-5", 100)
    ((10, 20), (95, 100))
    >>> parse_range("bytes=100-", 100), parse_range("bytes=1-2,5-6", 100)
    ('unsatisfiable', None)
    """
    match = _RANGE.match(header or "")
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return (max(0, size - length), size)
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return (start, end)
