# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
`EsoClass`: astroquery's ESO class plus ancillary-file queries and downloads.

The class stays thin: it resolves endpoints, validates arguments and composes
the modules that do the work (`~astroquery_eso_ancillary.adql`,
`~astroquery_eso_ancillary.tap`, `~astroquery_eso_ancillary.download`,
`~astroquery_eso_ancillary.datalink`).
"""
import os

import requests
from astroquery import log

from . import _compat, conf
from .exceptions import LoginError

__all__ = ["Eso", "EsoClass"]

#: Where each endpoint lives below an archive's base URL.
ENDPOINT_PATHS = {
    "tap_url": "/tap_obs",
    "datalink_url": "/datalink/links",
    "download_url": "/dataPortal/file/",
    "token_url": "/sso/oidc/token",
}


def resolve_endpoints(archive_url=None, **explicit):
    """Work out the four endpoint URLs.

    Precedence: an explicit endpoint argument, then ``archive_url``, then the
    ``ESO_ARCHIVE_URL`` environment variable, then ``conf.archive_url``, then
    each endpoint's own configuration item.
    """
    base = archive_url or os.environ.get("ESO_ARCHIVE_URL") or conf.archive_url
    urls = {}
    for name, path in ENDPOINT_PATHS.items():
        if explicit.get(name):
            urls[name] = explicit[name]
        elif base:
            urls[name] = base.rstrip("/") + path
        else:
            urls[name] = getattr(conf, name)
    return urls


class EsoClass(_compat.UpstreamEsoClass):
    """
    Query the ESO Science Archive, including the ancillary files of its products.

    Everything `astroquery.eso.EsoClass` offers (``login``,
    ``retrieve_data``, ``query_*`` ...) works unchanged.

    Parameters
    ----------
    archive_url : str, optional
        Base URL of an archive laid out as ESO's (an emulator, a mirror). Sets
        all four endpoints at once; default from ``ESO_ARCHIVE_URL`` or
        ``conf.archive_url``, else ESO itself.
    tap_url, datalink_url, download_url, token_url : str, optional
        Override a single endpoint.
    timeout : float, optional
        Seconds for one HTTP request; default ``conf.timeout``.

    Examples
    --------
    >>> from astroquery_eso_ancillary import Eso
    >>> eso = Eso(archive_url="http://127.0.0.1:8080")  # a local emulator
    >>> eso.tap_url
    'http://127.0.0.1:8080/tap_obs'
    """

    def __init__(self, *, archive_url=None, tap_url=None, datalink_url=None,
                 download_url=None, token_url=None, timeout=None):
        super().__init__()
        # Kept as given and resolved on each use, so that conf.set_temp() and
        # ESO_ARCHIVE_URL also steer the module-level ``Eso`` instance.
        self._endpoint_args = {"archive_url": archive_url, "tap_url": tap_url,
                               "datalink_url": datalink_url, "download_url": download_url,
                               "token_url": token_url}
        self._timeout = timeout

    def _endpoint(self, name):
        args = dict(self._endpoint_args)
        return resolve_endpoints(args.pop("archive_url"), **args)[name]

    @property
    def tap_url(self):
        """The TAP service holding ``ivoa.ObsCore`` and ``phase3v2.product_files``."""
        return self._endpoint("tap_url")

    @property
    def datalink_url(self):
        """The DataLink ``links`` endpoint."""
        return self._endpoint("datalink_url")

    @property
    def DOWNLOAD_URL(self):
        """Prefix of file download URLs (the archive_id is appended).

        Upstream's ``retrieve_data`` reads it too, so it follows ``archive_url``.
        """
        return self._endpoint("download_url")

    @property
    def AUTH_URL(self):
        """The OpenID Connect token endpoint used by ``login`` (upstream reads it too)."""
        return self._endpoint("token_url")

    download_url = DOWNLOAD_URL
    token_url = AUTH_URL

    @property
    def timeout(self):
        """Seconds allowed for one HTTP request (``conf.timeout`` unless given)."""
        return conf.timeout if self._timeout is None else self._timeout

    def __repr__(self):
        return f"<{type(self).__name__} tap_url={self.tap_url!r}>"

    # -- upstream internals this instance must steer ---------------------------------

    def _tap_urls(self):
        # astroquery main refuses any TAP URL not in this map; include ours.
        urls = {"tap_obs": self.tap_url}
        cat = getattr(_compat._upstream_conf(), "tap_cat_url", None)
        if cat:
            urls["tap_cat"] = cat
        return urls

    def _authenticate(self, *, username, password):
        """Get an ESO token without the password reaching any log.

        astroquery sends the password in the URL of a GET through a session
        that logs every URL at DEBUG level; here it goes in a POST body
        through a plain session (GET only if the server refuses POST).
        """
        self._auth_info = None
        payload = {"response_type": "id_token token", "grant_type": "password",
                   "client_id": "clientid", "client_secret": "clientSecret",
                   "username": username, "password": password}
        log.info(f"Authenticating {username} on {self.AUTH_URL} ...")
        with requests.Session() as session:
            session.headers["User-Agent"] = self._session.headers.get("User-Agent", "")
            try:
                response = session.post(self.AUTH_URL, data=payload, timeout=self.timeout)
                if response.status_code in (404, 405):
                    response = session.get(self.AUTH_URL, params=payload, timeout=self.timeout)
            except requests.RequestException as exc:
                # The exception text may carry the URL; say only what failed.
                raise LoginError(f"Could not reach the ESO token service at {self.AUTH_URL} "
                                 f"({type(exc).__name__}).") from None
        if response.status_code != 200:
            log.error(f"Authentication failed (HTTP {response.status_code}).")
            return False
        try:
            token = response.json()["id_token"]
        except (ValueError, KeyError):
            log.error("Authentication failed: the token service sent no id_token.")
            return False
        self._auth_info = _compat.TokenInfo(username, token)
        log.info("Authentication successful!")
        return True

    def _get_auth_header(self):
        info = _compat.auth_info(self)
        if info is None:
            return {}
        if info.expired():
            raise LoginError("Your ESO login has expired; call Eso.login() again.")
        return {"Authorization": "Bearer " + info.token}


Eso = EsoClass()
