# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The one place that touches astroquery's private surfaces.

Two shapes of ``astroquery.eso`` exist: the form-based module of astroquery
0.4.11 ("wdb") and the TAP-based module of astroquery main / 0.4.12 ("tap").
They differ in how a login is stored (``AuthInfo`` with ``expired()`` versus
``_AuthInfo`` with ``_expired()``), in ``ROW_LIMIT`` (a class attribute where
-1 means unlimited, versus a property where None means unlimited) and in
``_tap_urls()`` (only on main). Everything else in this package calls the
helpers below instead of those internals, so a change upstream is mended here.
"""
import base64
import binascii
import json
import pickle
import time

import keyring
from astroquery import eso as _upstream
from astroquery import log

from . import transport
from .exceptions import LoginError

__all__ = ["KEYRING_SERVICE", "UPSTREAM_SHAPE", "TokenInfo", "UpstreamEsoClass", "auth_info",
           "authenticate", "cached_request", "drop_cached_response", "limit_value",
           "max_row_limit", "row_limit", "store_password", "stored_password", "token_expiry",
           "upstream_conf"]

#: The keyring service under which astroquery.eso keeps ESO passwords.
KEYRING_SERVICE = "astroquery:www.eso.org"

#: "tap" for the TAP-based astroquery.eso (main, 0.4.12), "wdb" for 0.4.11.
UPSTREAM_SHAPE = "tap" if hasattr(_upstream.EsoClass, "query_tap") else "wdb"

#: Like astroquery, treat a token as expired this many seconds early.
EXPIRY_MARGIN = 600


def token_expiry(token):
    """Return the ``exp`` claim of a JWT-shaped token, or None if it has none."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return int(json.loads(base64.urlsafe_b64decode(payload))["exp"])
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return None


class TokenInfo:
    """A login as both shapes of ``astroquery.eso`` expect to find it.

    Upstream code reads ``_auth_info.token``/``.username`` and calls
    ``expired()`` (0.4.11) or ``_expired()`` (main); this object answers
    both. The password is deliberately not kept.
    """

    def __init__(self, username, token):
        self.username = username
        self.token = token
        self.password = None
        self.expiration_time = token_expiry(token)

    def expired(self):
        if self.expiration_time is None:
            return False
        return time.time() > self.expiration_time - EXPIRY_MARGIN

    _expired = expired

    def __repr__(self):
        # Never show the token itself.
        return f"<TokenInfo user={self.username!r} expires={self.expiration_time}>"

    def __getstate__(self):
        # A pickled instance (a cache, a copy sent elsewhere) does not carry the login.
        return {"username": self.username, "token": None, "password": None,
                "expiration_time": 0}

    def __deepcopy__(self, memo):
        # astroquery's Eso() copies the instance: the copy keeps the login.
        return TokenInfo(self.username, self.token)


def auth_info(eso):
    """The login stored on an ``EsoClass`` instance, or None."""
    return getattr(eso, "_auth_info", None)


def authenticate(eso, username, password):
    """Log ``eso`` in with a password (as astroquery's ``login`` does after the prompt).

    Returns True on success; on failure the reason is logged and the login
    the instance had is kept.
    """
    return eso._authenticate(username=username, password=password)


def stored_password(username):
    """The password astroquery's ``login(store_password=True)`` kept, or None."""
    try:
        return keyring.get_password(KEYRING_SERVICE, username)
    except keyring.errors.KeyringError:
        return None


def store_password(username, password):
    """Keep a password where astroquery's ``login`` finds it."""
    keyring.set_password(KEYRING_SERVICE, username, password)


class UpstreamEsoClass(_upstream.EsoClass):
    """astroquery's ``EsoClass`` with its login internals routed through this package.

    ``login`` (and ``retrieve_data``) keep working as upstream wrote them;
    the token request goes through `~astroquery_eso_ancillary.transport`
    (GET, as ESO documents it, with the password kept out of every log and
    no redirect followed), and a failed login leaves the previous one in place.
    """

    def _authenticate(self, *, username, password):
        log.info(f"Authenticating {username} on {self.AUTH_URL} ...")
        try:
            token = transport.request_token(self.AUTH_URL, username=username,
                                            password=password, timeout=self.timeout)
        except LoginError as exc:
            log.error(f"Authentication failed: {exc}")
            return False
        self._auth_info = TokenInfo(username, token)
        log.info("Authentication successful!")
        return True

    def _get_auth_header(self):
        # Upstream's retrieve_data asks for this; the transport decides what it holds.
        return transport.auth_headers(self.DOWNLOAD_URL, self.credentials(required=False))


def row_limit(eso):
    """``eso.ROW_LIMIT`` as an int, or None when it means "no limit" in either shape."""
    return limit_value(getattr(eso, "ROW_LIMIT", None))


def limit_value(value):
    """A ``ROW_LIMIT`` value as an int, or None when it means "no limit" in either shape."""
    if value is None:
        return None
    value = int(value)
    if value < 1:
        return None
    max_limit = getattr(upstream_conf(), "MAX_ROW_LIMIT", None)
    if max_limit is not None and value >= int(max_limit):
        return None
    return value


#: MAXREC asked for "no limit" when astroquery's conf has no MAX_ROW_LIMIT (0.4.11).
DEFAULT_MAX_ROW_LIMIT = 15_000_000


def max_row_limit():
    """The largest MAXREC worth asking for: astroquery main's ``conf.MAX_ROW_LIMIT``."""
    value = getattr(upstream_conf(), "MAX_ROW_LIMIT", None)
    return DEFAULT_MAX_ROW_LIMIT if value is None else int(value)


def upstream_conf():
    """astroquery.eso's configuration (``tap_cat_url``, ``MAX_ROW_LIMIT`` ...)."""
    return _upstream.conf


def cached_request(eso, method, url, *, data=None, params=None, timeout=None, cache=True):
    """Send a request through astroquery's cached ``_request`` (both shapes have it).

    Only used for unauthenticated requests: astroquery pickles the whole
    response, request headers included.
    """
    try:
        response = eso._request(method, url, data=data, params=params, timeout=timeout,
                                cache=cache)
    except (EOFError, pickle.UnpicklingError):
        # astroquery writes cache files in place: another process may be half-way
        # through writing this one. Ask the service instead of failing.
        response = eso._request(method, url, data=data, params=params, timeout=timeout,
                                cache=False)
        cache = False
    if cache and response.status_code != 200:
        # astroquery caches whatever came back; a 503 or an error must not be replayed.
        drop_cached_response(eso)
    return response


def drop_cached_response(eso):
    """Remove the response of the last ``_request`` from astroquery's cache.

    For answers found unusable only after reading them (an HTML page or an
    error document sent with status 200).
    """
    query = getattr(eso, "_last_query", None)
    if query is not None and eso.cache_location is not None:
        query.request_file(eso.cache_location).unlink(missing_ok=True)
