import pytest
from astroquery.eso import EsoClass as UpstreamEsoClass

from astroquery_eso_ancillary import Eso, EsoClass, conf
from astroquery_eso_ancillary.core import resolve_endpoints


def test_eso_is_upstream_subclass():
    assert isinstance(Eso, UpstreamEsoClass)
    fresh = Eso()
    assert isinstance(fresh, EsoClass)
    assert fresh is not Eso


def test_archive_url_points_every_endpoint(monkeypatch):
    monkeypatch.delenv("ESO_ARCHIVE_URL", raising=False)
    eso = Eso(archive_url="http://127.0.0.1:9999/")
    assert eso.tap_url == "http://127.0.0.1:9999/tap_obs"
    assert eso.datalink_url == "http://127.0.0.1:9999/datalink/links"
    assert eso.DOWNLOAD_URL == "http://127.0.0.1:9999/dataPortal/file/"
    assert eso.AUTH_URL == "http://127.0.0.1:9999/sso/oidc/token"
    assert eso._tap_urls()["tap_obs"] == eso.tap_url


def test_environment_variable_and_precedence(monkeypatch):
    monkeypatch.setenv("ESO_ARCHIVE_URL", "http://127.0.0.1:1234")
    assert Eso().tap_url == "http://127.0.0.1:1234/tap_obs"
    urls = resolve_endpoints("http://example.invalid", tap_url="http://other.invalid/tap")
    assert urls["tap_url"] == "http://other.invalid/tap"
    assert urls["download_url"] == "http://example.invalid/dataPortal/file/"


def test_defaults_are_eso(monkeypatch):
    monkeypatch.delenv("ESO_ARCHIVE_URL", raising=False)
    with conf.set_temp("archive_url", ""):
        eso = Eso()
    assert eso.tap_url == "https://archive.eso.org/tap_obs"
    assert eso.DOWNLOAD_URL == "https://dataportal.eso.org/dataPortal/file/"


@pytest.mark.remote_data
def test_real_archive_answers():
    eso = Eso()
    import pyvo
    result = pyvo.dal.TAPService(eso.tap_url).search(
        "SELECT TOP 1 product_id FROM phase3v2.product_files")
    assert len(result) == 1


def test_singleton_follows_conf(monkeypatch):
    monkeypatch.delenv("ESO_ARCHIVE_URL", raising=False)
    with conf.set_temp("archive_url", "http://127.0.0.1:4321"):
        assert Eso.tap_url == "http://127.0.0.1:4321/tap_obs"
        assert Eso.DOWNLOAD_URL == "http://127.0.0.1:4321/dataPortal/file/"
    with conf.set_temp("archive_url", ""):
        assert Eso.tap_url == conf.tap_url


def test_timeout_default_and_override():
    assert Eso().timeout == conf.timeout
    assert Eso(timeout=3).timeout == 3
