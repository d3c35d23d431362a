"""The _compat helpers against both shapes of astroquery.eso.

astroquery 0.4.11 (form-based, "wdb") is what is installed; the TAP-based shape
of astroquery main (0.4.12) is exercised through small objects shaped like its
classes (``_AuthInfo._expired()``, a ``ROW_LIMIT`` property where None means
``conf.MAX_ROW_LIMIT``).
"""
import base64
import json
import time

import astroquery.eso
import pytest

from astroquery_eso_ancillary import Eso, _compat
from astroquery_eso_ancillary.emulator import Faults


def jwt(exp):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none'})}.{part({'exp': exp, 'sub': 'alice'})}.sig"


# -- shapes of the upstream classes -----------------------------------------------------

class WdbShaped:
    """Like astroquery 0.4.11's EsoClass: ROW_LIMIT class attribute, -1 = unlimited."""

    ROW_LIMIT = 50

    def _get_auth_header(self):
        # 0.4.11 calls AuthInfo.expired()
        if self._auth_info and not self._auth_info.expired():
            return {"Authorization": "Bearer " + self._auth_info.token}
        return {}


class TapShaped:
    """Like astroquery main's EsoClass: ROW_LIMIT property, None/<1 stored as MAX."""

    MAX = 15_000_000

    def __init__(self):
        self._ROW_LIMIT = 1000

    @property
    def ROW_LIMIT(self):
        return self._ROW_LIMIT

    @ROW_LIMIT.setter
    def ROW_LIMIT(self, value):
        self._ROW_LIMIT = self.MAX if value is None or value < 1 else value

    def _get_auth_header(self):
        # main calls _AuthInfo._expired()
        if self._auth_info and self._auth_info._expired():
            raise RuntimeError("expired")
        return {"Authorization": "Bearer " + self._auth_info.token} if self._auth_info else {}


def test_upstream_shape_is_detected():
    expected = "tap" if hasattr(astroquery.eso.EsoClass, "query_tap") else "wdb"
    assert expected == _compat.UPSTREAM_SHAPE
    assert issubclass(type(Eso), _compat.UpstreamEsoClass)


@pytest.mark.parametrize("shape", [WdbShaped, TapShaped])
def test_token_info_satisfies_both_shapes(shape):
    eso = shape()
    eso._auth_info = _compat.TokenInfo("alice", jwt(int(time.time()) + 3600))
    assert eso._get_auth_header() == {"Authorization": "Bearer " + eso._auth_info.token}
    assert eso._auth_info.expired() is False
    assert eso._auth_info._expired() is False


def test_token_info_expiry_and_secrecy():
    soon = _compat.TokenInfo("alice", jwt(int(time.time()) + 60))  # inside the 600 s margin
    assert soon.expired() and soon._expired()
    opaque = _compat.TokenInfo("bob", "not-a-jwt")
    assert opaque.expiration_time is None and not opaque.expired()
    assert _compat.token_expiry(jwt(1234)) == 1234
    assert _compat.token_expiry("a.!!!.c") is None
    assert opaque.password is None
    assert "not-a-jwt" not in repr(opaque)


def test_real_upstream_auth_header_accepts_token_info():
    """The installed astroquery's own _get_auth_header works with our login object."""
    eso = Eso()
    eso._auth_info = _compat.TokenInfo("alice", jwt(int(time.time()) + 3600))
    header = _compat.UpstreamEsoClass._get_auth_header(eso)
    assert header == {"Authorization": "Bearer " + eso._auth_info.token}


def test_auth_info():
    eso = Eso()
    assert _compat.auth_info(eso) is None
    eso._auth_info = _compat.TokenInfo("alice", "t")
    assert _compat.auth_info(eso).username == "alice"


@pytest.mark.parametrize("value, expected", [(50, 50), (-1, None), (0, None), (None, None),
                                             (1, 1)])
def test_row_limit_wdb_shape(value, expected):
    eso = WdbShaped()
    eso.ROW_LIMIT = value
    assert _compat.row_limit(eso) == expected


@pytest.mark.parametrize("value, expected", [(1000, 1000), (None, None), (-1, None),
                                             (TapShaped.MAX, None), (7, 7)])
def test_row_limit_tap_shape(monkeypatch, value, expected):
    # astroquery main's conf carries MAX_ROW_LIMIT; give the installed conf the same.
    monkeypatch.setattr(astroquery.eso.conf, "MAX_ROW_LIMIT", TapShaped.MAX, raising=False)
    eso = TapShaped()
    eso.ROW_LIMIT = value
    assert _compat.row_limit(eso) == expected
    assert _compat.max_row_limit() == TapShaped.MAX


def test_row_limit_of_the_real_class():
    eso = Eso()
    default = eso.ROW_LIMIT
    assert _compat.row_limit(eso) == (None if default in (None, -1) else default)
    eso.ROW_LIMIT = -1
    assert _compat.row_limit(eso) is None
    eso.ROW_LIMIT = 3
    assert _compat.row_limit(eso) == 3


def test_max_row_limit_default():
    if hasattr(astroquery.eso.conf, "MAX_ROW_LIMIT"):
        assert _compat.max_row_limit() == int(astroquery.eso.conf.MAX_ROW_LIMIT)
    else:
        assert _compat.max_row_limit() == _compat.DEFAULT_MAX_ROW_LIMIT


# -- cached_request against the emulator ----------------------------------------------------

def _tap_requests(emu):
    return [r for r in emu.requests if r.path.endswith("/sync")]


def test_cached_request_caches_200_only(eso_archive):
    eso = eso_archive.eso
    url = eso_archive.tap_url + "/sync"
    data = {"REQUEST": "doQuery", "LANG": "ADQL",
            "QUERY": "SELECT TOP 1 product_id FROM phase3v2.product_files"}
    eso_archive.faults = Faults(error_fraction=1.0, error_status=503, paths=("/tap_obs",))
    for _ in range(2):
        assert _compat.cached_request(eso, "POST", url, data=data, cache=True).status_code == 503
    assert len(_tap_requests(eso_archive)) == 2  # the 503 was not replayed from the cache
    eso_archive.faults = Faults()
    for _ in range(2):
        assert _compat.cached_request(eso, "POST", url, data=data, cache=True).status_code == 200
    assert len(_tap_requests(eso_archive)) == 3  # the 200 was
