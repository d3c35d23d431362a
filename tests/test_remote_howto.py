"""The three examples of ESO's HOWTO "How to search for ancillary files", against the
real archive (``pytest --remote-data``). Values are the reference rows of ESO's own
2026 run; the archive may grow, so Example 3 checks a lower bound."""
import astropy.units as u
import pytest

from astroquery_eso_ancillary import Eso, conf

pytestmark = pytest.mark.remote_data

EX1 = "ADP.2024-03-19T05:58:04.407"
EX2 = "ADP.2021-04-12T12:27:33.887"


@pytest.fixture
def eso(tmp_path, monkeypatch):
    monkeypatch.delenv("ESO_ARCHIVE_URL", raising=False)
    with conf.set_temp("archive_url", ""):  # ESO itself, whatever the configuration says
        instance = Eso()
        instance.cache_location = tmp_path
        yield instance


def test_example1_all_files_of_a_muse_cube(eso):
    table = eso.get_product_files(EX1)
    assert list(table["archive_id"]) == [f"ADP.2024-03-19T05:58:04.{n}"
                                         for n in range(407, 413)]
    assert list(table["eso_category"]) == [
        "SCIENCE.CUBE.IFS", "ANCILLARY.IMAGE.WHITELIGHT", "ANCILLARY.README",
        "ANCILLARY.PREVIEW", "ANCILLARY.PREVIEW", "ANCILLARY.PREVIEW"]
    assert list(table["extension"]) == ["FITS", "FITS", "LOG", "PNG", "PNG", "PNG"]
    assert table["original_filename"][2] == "r.MUSE.2024-03-07T08:09:46.977_tpl.log"
    assert int(table["access_estsize"][0]) == 2968672
    assert table["access_estsize"].unit == u.kB


def test_example2_espresso_fibre_a_spectra(eso):
    table = eso.query_ancillary(EX2, categories="ANCILLARY.SPECTRUM",
                                original_filename="ES_SFLA_*")
    assert list(table["archive_id"]) == [f"ADP.2021-04-12T12:27:33.{n}"
                                         for n in range(888, 893)]
    assert all(name.startswith("ES_SFLA_") for name in table["original_filename"])


def test_example3_every_muse_preview(eso):
    eso.ROW_LIMIT = -1
    count = eso.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW",
                                count_only=True)
    assert count >= 73637
    table = eso.query_ancillary(collections="MUSE", categories="ANCILLARY.PREVIEW")
    assert len(table) == count
    assert list(table["archive_id"][:3]) == [f"ADP.2016-06-01T14:07:30.{n}"
                                             for n in (137, 138, 139)]
    assert set(table["extension"]) == {"PNG"}


def test_download_one_preview_and_the_obsolete_product_through_datalink(eso, tmp_path):
    previews = eso.get_product_files(EX1, categories="ANCILLARY.PREVIEW")
    manifest = eso.download_ancillary(previews[:1], destination=tmp_path / "files",
                                      progress=False)
    assert list(manifest["status"]) == ["downloaded"]
    with open(manifest["local_path"][0], "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    obsolete = eso.get_product_files("ADP.2013-06-20T17:15:42.690")
    assert set(obsolete["source"]) == {"datalink"}
    assert "ADP.2013-06-20T17:15:42.690" in list(obsolete["archive_id"])
