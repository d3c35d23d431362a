# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's generated archive (emulator/data.py): content, determinism, look-ups."""
from collections import Counter
from datetime import datetime, timezone

import pytest
from howto_reference import EXAMPLE1

from astroquery_eso_ancillary.emulator.data import OBSOLETE_PRODUCT_ID, Archive

ESPRESSO = "ADP.2021-04-12T12:27:33.887"
MUSE_FIRST = "ADP.2016-06-01T14:07:30.134"
FILE_KEYS = ["product_id", "archive_id", "eso_category", "extension", "original_filename",
             "access_url", "access_estsize", "internal_file_id"]


@pytest.fixture(scope="module")
def archive():
    return Archive(seed=42, products=300, base_url="http://emu.test:1234")


def _ms(archive_id):
    return int(archive_id.rsplit(".", 1)[1])


def test_same_seed_same_archive_other_seed_other_archive(archive):
    again = Archive(seed=42, products=300, base_url="http://emu.test:1234")
    assert again.products == archive.products
    assert again.files == archive.files
    other = Archive(seed=43, products=300, base_url="http://emu.test:1234")
    assert other.files != archive.files
    # the reference rows do not depend on the seed
    assert other.files_of("ADP.2024-03-19T05:58:04.407") == \
        archive.files_of("ADP.2024-03-19T05:58:04.407")


def test_example_1_rows_are_verbatim(archive):
    rows = archive.files_of("ADP.2024-03-19T05:58:04.407")
    got = [(f["archive_id"], f["extension"], f["eso_category"], f["original_filename"],
            f["access_estsize"]) for f in rows]
    assert got == EXAMPLE1
    assert all(f["product_id"] == "ADP.2024-03-19T05:58:04.407" for f in rows)
    assert list(rows[0]) == FILE_KEYS


def test_example_2_espresso_rows(archive):
    rows = {f["archive_id"][-3:]: f for f in archive.files_of(ESPRESSO)}
    assert rows["887"]["eso_category"].startswith("SCIENCE.")
    assert rows["903"]["eso_category"] == "ANCILLARY.2DECHELLE.TAR"
    assert rows["903"]["original_filename"] == \
        "ES_SOBF_2174806_2018-09-03T09:11:43.369_HR_2x1_U3.tar"
    assert [rows[k]["eso_category"] for k in ("898", "899")] == ["ANCILLARY.CCF"] * 2
    assert all(rows[k]["original_filename"].startswith("ES_SCCA_") for k in ("898", "899"))
    spectra = [rows[str(k)] for k in range(888, 893)]
    assert {f["eso_category"] for f in spectra} == {"ANCILLARY.SPECTRUM"}
    assert spectra[0]["original_filename"] == \
        "ES_SFLA_2174806_2018-09-03T09:11:43.369_HR_2x1_U3.fits"
    assert all(f["original_filename"].startswith("ES_SFLA_") for f in spectra)
    assert archive.product(ESPRESSO)["target_name"] == "WASP-76"


def test_fibre_b_files_exist_for_the_like_trap(archive):
    names = [f["original_filename"] for f in archive.files]
    fibre_b = [n for n in names if n.startswith("ES_SFLAB")]
    assert fibre_b, "no ES_SFLAB files: LIKE 'ES_SFLA%' would not be a trap"
    assert all(f["eso_category"] == "ANCILLARY.SPECTRUM" for f in archive.files
               if f["original_filename"].startswith("ES_SFLA"))


def test_example_3_first_muse_product_and_its_previews(archive):
    muse = sorted(p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE")
    assert muse[0] == MUSE_FIRST
    previews = [f for f in archive.files_of(MUSE_FIRST) if f["eso_category"] ==
                "ANCILLARY.PREVIEW"]
    assert [f["archive_id"] for f in previews] == [
        "ADP.2016-06-01T14:07:30.137", "ADP.2016-06-01T14:07:30.138",
        "ADP.2016-06-01T14:07:30.139"]
    assert all(f["extension"] == "PNG" and 210 <= f["access_estsize"] <= 220
               for f in previews)


def test_file_rows_are_consistent(archive):
    ids = [f["archive_id"] for f in archive.files]
    assert len(ids) == len(set(ids))
    products = {p["dp_id"]: p for p in archive.products}
    assert len(products) == len(archive.products) == 303
    by_product = {}
    for f in archive.files:
        by_product.setdefault(f["product_id"], []).append(f)
        assert f["access_url"] == f"http://emu.test:1234/dataPortal/file/{f['archive_id']}"
        assert f["eso_category"].split(".")[0] in ("SCIENCE", "ANCILLARY")
        assert f["extension"] == f["extension"].upper()
        assert isinstance(f["access_estsize"], int) and f["access_estsize"] > 0
    assert set(by_product) == set(products)
    for dp_id, files in by_product.items():
        assert files[0]["archive_id"] == dp_id
        assert files[0]["eso_category"].startswith("SCIENCE.")
        assert all(f["eso_category"].startswith("ANCILLARY.") for f in files[1:])
        # ancillary ids follow their product's id in the same second
        assert all(f["archive_id"][:24] == dp_id[:24] and _ms(f["archive_id"]) > _ms(dp_id)
                   for f in files[1:])
        assert products[dp_id]["access_estsize"] == files[0]["access_estsize"]


def test_obscore_rows(archive):
    for p in archive.products:
        assert p["access_url"] == \
            f"http://emu.test:1234/datalink/links?ID=ivo://eso.org/ID?{p['dp_id']}"
        assert p["s_region"].split()[0] in ("POLYGON", "CIRCLE")
        assert 0 <= p["s_ra"] < 360 and -90 <= p["s_dec"] <= 90
        assert p["t_min"] < p["t_max"] and p["em_min"] < p["em_max"]
        datetime.fromisoformat(p["obs_release_date"].replace("Z", "+00:00"))
        assert "(" in p["proposal_id"] and "." in p["proposal_id"]


def test_footprints_stay_within_half_the_field_of_view_in_dec(archive):
    # the engine relies on it to bound cone searches on s_region with the s_dec index
    for p in archive.products:
        words = p["s_region"].split()
        numbers = [float(w) for w in words[2:]]
        if words[0] == "CIRCLE":
            extent = numbers[2]
        else:
            extent = max(abs(d - p["s_dec"]) for d in numbers[1::2])
        assert extent <= p["s_fov"] / 2 + 1e-6, p["dp_id"]


def test_collections_have_their_category_mix(archive):
    expected = {
        "MUSE": {"SCIENCE.CUBE.IFS", "ANCILLARY.IMAGE.WHITELIGHT", "ANCILLARY.README",
                 "ANCILLARY.PREVIEW"},
        "ESPRESSO": {"SCIENCE.SPECTRUM", "ANCILLARY.2DECHELLE.TAR", "ANCILLARY.CCF",
                     "ANCILLARY.SPECTRUM"},
        "HARPS": {"SCIENCE.SPECTRUM", "ANCILLARY.HARPSTAR"},
        "HAWKI": {"SCIENCE.IMAGE", "ANCILLARY.WEIGHTMAP"},
        "VVV": {"SCIENCE.IMAGE", "SCIENCE.SRCTBL", "ANCILLARY.WEIGHTMAP"},
        "KiDS": {"SCIENCE.IMAGE", "ANCILLARY.WEIGHTMAP", "ANCILLARY.MASK"},
        "XSHOOTER": {"SCIENCE.SPECTRUM", "ANCILLARY.2DSPECTRUM", "ANCILLARY.PREVIEW"},
        "KMOS": {"SCIENCE.CUBE.IFS", "ANCILLARY.KMOS.SCI_RECONSTRUCTED"},
    }
    for collection, categories in expected.items():
        counts = archive.category_counts(collection)
        assert categories <= set(counts), collection
    instruments = {p["obs_collection"]: p["instrument_name"] for p in archive.products}
    assert instruments["VVV"] == "VIRCAM" and instruments["KiDS"] == "OMEGACAM"


def test_category_counts_match_the_file_list(archive):
    assert archive.category_counts() == Counter(f["eso_category"] for f in archive.files)
    muse = {p["dp_id"] for p in archive.products if p["obs_collection"] == "MUSE"}
    assert archive.category_counts("MUSE") == Counter(
        f["eso_category"] for f in archive.files if f["product_id"] in muse)


def test_lookups_agree_with_the_lists(archive):
    for p in archive.products[::7]:
        assert archive.product(p["dp_id"]) == p
        assert archive.files_of(p["dp_id"]) == [f for f in archive.files
                                                if f["product_id"] == p["dp_id"]]
    for f in archive.files[::5]:
        assert archive.file(f["archive_id"]) == f
    assert archive.product("ADP.1999-01-01T00:00:00.000") is None
    assert archive.file("ADP.2024-03-19T05:58:04.413") is None
    assert archive.files_of("nonsense") == []
    assert archive.file(None) is None


def test_lazy_lookups_match_streaming_at_a_larger_size():
    big = Archive(seed=5, products=3000)
    streamed = list(big.iter_rows())
    rows = [r for _, files in streamed for r in files]
    assert len(rows) > 3 * 3000
    for product, files in streamed[::97]:
        got = big.files_of(product[0])
        assert [(f["archive_id"], f["original_filename"], f["access_estsize"]) for f in got] \
            == [(r[1], r[4], r[5]) for r in files]
        assert big.file(files[-1][1])["product_id"] == product[0]


def test_cheap_counts_agree_with_the_lists(archive):
    assert len(archive) == len(archive.products)
    assert archive.product_ids == [p["dp_id"] for p in archive.products]
    assert archive.collections == tuple(sorted({p["obs_collection"]
                                                for p in archive.products}))
    assert archive.file_count == len(archive.files)
    fresh = Archive(seed=42, products=300)
    assert fresh.file_count == len(archive.files)           # by streaming
    assert fresh.file_count == len(archive.files)           # remembered


def test_obsolete_product_is_known_to_datalink_only(archive):
    assert OBSOLETE_PRODUCT_ID in archive.obsolete
    assert archive.product(OBSOLETE_PRODUCT_ID) is None
    assert all(f["product_id"] != OBSOLETE_PRODUCT_ID for f in archive.files)
    files = archive.files_of(OBSOLETE_PRODUCT_ID)
    assert files == archive.obsolete[OBSOLETE_PRODUCT_ID]
    assert files[0]["archive_id"] == OBSOLETE_PRODUCT_ID
    assert files[0]["eso_category"] == "SCIENCE.IMAGE"
    assert archive.file(files[1]["archive_id"]) == files[1]
    assert not archive.is_proprietary(OBSOLETE_PRODUCT_ID)


def test_some_products_are_proprietary(archive):
    now = datetime.now(timezone.utc)
    future = [p for p in archive.products if datetime.fromisoformat(
        p["obs_release_date"].replace("Z", "+00:00")) > now]
    assert future
    assert len(future) < len(archive.products) / 5
    for p in future:
        for f in archive.files_of(p["dp_id"]):
            assert archive.is_proprietary(f["archive_id"])
    public = next(p for p in archive.products if p not in future)
    assert not archive.is_proprietary(public["dp_id"])
    assert not archive.is_proprietary("ADP.2024-03-19T05:58:04.410")
    assert not archive.is_proprietary("no such file")


def test_size_column_switch():
    old = Archive(products=20, size_column="size_kb")
    row = old.files_of("ADP.2024-03-19T05:58:04.407")[1]
    assert row["size_kb"] == 529 and "access_estsize" not in row
    assert old.tables[1].column_names[6] == "size_kb"
    assert "access_estsize" in old.products[0]       # ObsCore keeps its standard name
    with pytest.raises(ValueError, match="size_column must be one of"):
        Archive(size_column="bytes")
    with pytest.raises(ValueError, match="products must be"):
        Archive(products=-1)


def test_base_url_change_reaches_the_rows():
    archive = Archive(products=5)
    archive.base_url = "http://127.0.0.1:9999/"
    assert archive.file(MUSE_FIRST)["access_url"] == \
        f"http://127.0.0.1:9999/dataPortal/file/{MUSE_FIRST}"
    assert archive.products[0]["access_url"].startswith("http://127.0.0.1:9999/datalink/")
