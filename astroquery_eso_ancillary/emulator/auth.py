# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's token service: ESO's OpenID Connect password grant, in small.

Tokens are JWT-shaped (``header.payload.signature``, HMAC-SHA256 with a
secret private to one emulator). astroquery reads the payload with the
*standard* base64 alphabet (``base64.b64decode(payload + "==")``), so every
payload issued here is made free of ``-`` and ``_`` by adjusting a filler
claim, and decodes the same way under both alphabets.
"""
import base64
import hashlib
import hmac
import json
import os
import threading
import time

__all__ = ["TokenService"]

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenService:
    """Issue and check the emulator's bearer tokens.

    Parameters
    ----------
    users : dict, optional
        ``{username: password}``; default ``{"alice": "wonderland"}``.
    lifetime : float, optional
        Seconds a token lives.
    issuer : str, optional
        The ``iss`` claim.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.auth import TokenService
    >>> tokens = TokenService(users={"bob": "pw"})
    >>> tokens.verify(tokens.issue("bob"))
    'bob'
    >>> tokens.verify(tokens.issue("bob", lifetime=-1)) is None
    True
    """

    def __init__(self, *, users=None, lifetime=3600, issuer="eso-archive-emulator"):
        self._secret = os.urandom(32)
        self._lock = threading.Lock()
        self.users = dict({"alice": "wonderland"} if users is None else users)
        self.lifetime = lifetime
        self.issuer = issuer

    def check_password(self, username, password):
        """True when ``username`` is known and ``password`` is its password.

        Examples
        --------
        >>> TokenService(users={"a": "b"}).check_password("a", "b")
        True
        """
        with self._lock:
            expected = self.users.get(username)
        if expected is None or password is None:
            return False
        return hmac.compare_digest(str(expected).encode(), str(password).encode())

    def issue(self, username, *, lifetime=None):
        """Return a signed token for ``username`` (no password check).

        Parameters
        ----------
        username : str
            The ``sub`` claim.
        lifetime : float, optional
            Seconds until ``exp``; negative gives an already expired token.

        Examples
        --------
        >>> token = TokenService().issue("alice", lifetime=60)
        >>> token.count(".")
        2
        """
        now = int(time.time())
        life = self.lifetime if lifetime is None else lifetime
        claims = {"iss": self.issuer, "sub": username, "aud": "clientid",
                  "iat": now, "exp": int(now + life), "preferred_username": username}
        header = _b64url(json.dumps(_HEADER, separators=(",", ":")).encode())
        payload = self._payload_segment(claims)
        signing_input = f"{header}.{payload}".encode("ascii")
        signature = _b64url(hmac.new(self._secret, signing_input, hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    @staticmethod
    def _payload_segment(claims):
        # Find a filler for which the base64url text uses no '-'/'_' and does not end in a
        # lone 6-bit group, so astroquery's standard-alphabet decoding reads it correctly.
        for pad in range(10000):
            body = dict(claims, pad="x" * (pad % 4) + str(pad))
            segment = _b64url(json.dumps(body, separators=(",", ":")).encode())
            if "-" not in segment and "_" not in segment and len(segment) % 4 != 1:
                return segment
        raise RuntimeError("could not encode a token payload")  # pragma: no cover

    def verify(self, token):
        """Return the user a token was issued to, or None if it is not valid now.

        Valid means: signed by this service, not expired, user still known.

        Examples
        --------
        >>> TokenService().verify("not.a.token") is None
        True
        """
        try:
            header, payload, signature = token.split(".")
            expected = _b64url(hmac.new(self._secret, f"{header}.{payload}".encode("ascii"),
                                        hashlib.sha256).digest())
            if not hmac.compare_digest(expected, signature):
                return None
            claims = json.loads(_b64url_decode(payload))
            if float(claims["exp"]) <= time.time():
                return None
            user = claims["sub"]
        except (AttributeError, ValueError, KeyError, TypeError, UnicodeError):
            return None
        with self._lock:
            return user if user in self.users else None

    def add_user(self, username, password):
        """Add (or change) a user.

        Examples
        --------
        >>> tokens = TokenService(users={})
        >>> tokens.add_user("carol", "pw"); tokens.check_password("carol", "pw")
        True
        """
        with self._lock:
            self.users[username] = password
