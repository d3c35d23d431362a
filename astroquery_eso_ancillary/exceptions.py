# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Exceptions raised by `astroquery_eso_ancillary`.

Login problems raise astroquery's own `~astroquery.exceptions.LoginError`, so code
written for `astroquery.eso` keeps catching what it caught before.
"""
from astroquery.exceptions import LoginError, RemoteServiceError

__all__ = ["EsoAncillaryError", "EsoQueryError", "EsoServiceError", "LoginError"]


class EsoAncillaryError(Exception):
    """Base class of this package's errors."""


class EsoQueryError(EsoAncillaryError, RemoteServiceError):
    """The TAP service refused or failed a query.

    Attributes
    ----------
    query : str
        The ADQL that was sent.
    message : str
        The service's own message (from the error VOTable).
    url : str
        The service URL.
    """

    def __init__(self, message, *, query=None, url=None):
        self.message = message
        self.query = query
        self.url = url
        text = message
        if url:
            text += f"\nService: {url}"
        if query:
            text += f"\nQuery:\n{query}"
        super().__init__(text)


class EsoServiceError(EsoAncillaryError, RemoteServiceError):
    """The archive could not be reached, or kept failing (5xx, 429) after retries."""
