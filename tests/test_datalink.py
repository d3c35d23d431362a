# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Eso.get_datalinks and the DataLink fallback of get_product_files, against the emulator."""
import http.server
import os
import threading
import warnings
from urllib.parse import parse_qs

import pytest
from astroquery.exceptions import NoResultsWarning

from astroquery_eso_ancillary import Eso, conf
from astroquery_eso_ancillary.datalink import ID_PREFIX
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import EsoQueryError, EsoServiceError, LoginError


@pytest.fixture
def dest(tmp_path):
    """A download folder of its own (tmp_path also holds the fixture's cache)."""
    return tmp_path / "dl"


MUSE = "ADP.2024-03-19T05:58:04.407"
OBSOLETE = "ADP.2013-06-20T17:15:42.690"


def datalink_requests(emu):
    return [r for r in emu.requests if r.path == "/datalink/links"]


def test_links_of_a_product(eso_archive):
    emu = eso_archive
    links = emu.eso.get_datalinks(MUSE)
    files = emu.archive.files_of(MUSE)
    semantics = list(links["semantics"])
    assert semantics.count("#this") == 1
    aux = links[links["semantics"] == "#auxiliary"]
    assert [u.rsplit("/", 1)[-1] for u in aux["access_url"]] == \
        [f["archive_id"] for f in files if f["archive_id"] != MUSE]
    assert list(aux["eso_category"]) == [f["eso_category"] for f in files
                                         if f["archive_id"] != MUSE]
    assert list(aux["eso_origfile"]) == [f["original_filename"] for f in files
                                         if f["archive_id"] != MUSE]
    assert {"#preview", "#progenitor"} <= set(semantics)
    assert set(links["ID"]) == {ID_PREFIX + MUSE}
    for name in ("ID", "access_url", "service_def", "error_message", "semantics",
                 "description", "content_type", "content_length", "eso_origfile",
                 "eso_category", "eso_datalink"):
        assert name in links.colnames


def test_semantics_filter_and_batches(eso_archive):
    emu = eso_archive
    ids = [p["dp_id"] for p in emu.archive.products[:5]]
    links = emu.eso.get_datalinks(ids, semantics="this", batch_size=2, cache=False)
    assert len(datalink_requests(emu)) == 3
    assert list(links["semantics"]) == ["#this"] * len(links)
    assert [i[len(ID_PREFIX):] for i in links["ID"]] == \
        [pid for pid in ids if any(f["archive_id"] == pid for f in emu.archive.files_of(pid))]
    # Several ID parameters per request.
    assert parse_qs(datalink_requests(emu)[0].query)["ID"] == [ID_PREFIX + i for i in ids[:2]]


def test_unknown_id_gives_an_error_row(eso_archive):
    links = eso_archive.eso.get_datalinks(["ADP.1999-01-01T00:00:00.000", MUSE])
    first = links[0]
    assert first["error_message"].startswith("NotFoundFault")
    assert (links["ID"] == ID_PREFIX + MUSE).sum() > 0


def test_cache(eso_archive):
    emu = eso_archive
    first = emu.eso.get_datalinks(MUSE)
    count = len(datalink_requests(emu))
    again = emu.eso.get_datalinks(MUSE)
    assert len(datalink_requests(emu)) == count
    assert list(again["access_url"]) == list(first["access_url"])


@pytest.mark.parametrize(("ids", "kwargs", "error", "match"), [
    ("x' OR '1'='1", {}, ValueError, "Invalid product id"),
    ([MUSE, "not an id"], {}, ValueError, "not an id"),
    (MUSE, {"semantics": [3]}, ValueError, "semantics"),
    (MUSE, {"batch_size": 0}, ValueError, "batch_size"),
    (MUSE, {"authenticated": True}, LoginError, "login"),
])
def test_bad_input(eso_archive, ids, kwargs, error, match):
    with pytest.raises(error, match=match):
        eso_archive.eso.get_datalinks(ids, **kwargs)
    assert datalink_requests(eso_archive) == []


def test_5xx_is_retried(eso_archive):
    emu = eso_archive
    emu.faults = Faults(error_fraction=1.0, error_status=503, paths=("/datalink",))
    with conf.set_temp("backoff", 0.01), conf.set_temp("max_retries", 2):
        with pytest.raises(EsoServiceError, match="503"):
            emu.eso.get_datalinks(MUSE, cache=False)
        assert len(datalink_requests(emu)) == 3
        emu.faults = Faults(error_fraction=0.5, error_status=503, paths=("/datalink",),
                            seed=1)
        with conf.set_temp("max_retries", 10):
            links = emu.eso.get_datalinks(MUSE, cache=False)
    assert "#this" in list(links["semantics"])


# -- the fallback for products product_files does not list ------------------------------

def test_obsolete_product_through_datalink(eso_archive):
    emu = eso_archive
    files = emu.eso.get_product_files(OBSOLETE)
    expected = emu.archive.obsolete[OBSOLETE]
    assert list(files["archive_id"]) == [f["archive_id"] for f in expected]
    assert list(files["eso_category"]) == [f["eso_category"] for f in expected]
    assert list(files["original_filename"]) == [f["original_filename"] for f in expected]
    assert set(files["product_id"]) == {OBSOLETE}
    assert set(files["source"]) == {"datalink"}
    assert list(files["extension"]) == [f["extension"] for f in expected]
    sizes = [emu.file_info(f["archive_id"])["size"] for f in expected]
    assert list(files["access_estsize"]) == [-(-s // 1024) for s in sizes]


def test_mixed_products_keep_order_and_sources(eso_archive):
    emu = eso_archive
    files = emu.eso.get_product_files([OBSOLETE, MUSE])
    assert list(files["product_id"]) == [OBSOLETE] * 2 + [MUSE] * 6
    assert list(files["source"]) == ["datalink"] * 2 + ["product_files"] * 6


def test_datalink_false_turns_the_fallback_off(eso_archive):
    emu = eso_archive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = emu.eso.get_product_files(OBSOLETE, datalink=False)
    assert len(files) == 0
    assert any(issubclass(w.category, NoResultsWarning) for w in caught)
    assert datalink_requests(emu) == []


def test_products_lacking_a_category_do_not_go_to_datalink(eso_archive):
    emu = eso_archive
    with pytest.warns(NoResultsWarning, match=MUSE):
        files = emu.eso.get_product_files([MUSE, OBSOLETE], categories="ANCILLARY.WEIGHTMAP")
    assert list(files["archive_id"]) == [f["archive_id"] for f in emu.archive.obsolete[OBSOLETE]
                                         if f["eso_category"] == "ANCILLARY.WEIGHTMAP"]
    (request,) = datalink_requests(emu)
    assert parse_qs(request.query)["ID"] == [ID_PREFIX + OBSOLETE]


class _LoginPage(http.server.BaseHTTPRequestHandler):
    """Answers every GET with an HTML page and status 200, counting the hits."""

    hits = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).hits += 1
        body = b"<html><body>Please log in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_html_answer_is_an_error_and_not_cached(eso_archive, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        eso = Eso(archive_url=eso_archive.url,
                  datalink_url=f"http://127.0.0.1:{server.server_address[1]}/links")
        eso.cache_location = tmp_path
        for expected_hits in (1, 2):  # the second call asks again: nothing was cached
            with pytest.raises(EsoQueryError, match="not a VOTable"):
                eso.get_datalinks(MUSE)
            assert _LoginPage.hits == expected_hits
    finally:
        server.shutdown()
        server.server_close()


def test_unknown_product_still_warns(eso_archive):
    with pytest.warns(NoResultsWarning, match="ADP.1999-01-01T00:00:00.000"):
        eso_archive.eso.get_product_files(["ADP.1999-01-01T00:00:00.000"])


def test_download_files_of_an_obsolete_product(eso_archive, dest):
    emu = eso_archive
    manifest = emu.eso.download_ancillary(OBSOLETE, categories="ANCILLARY.*",
                                          destination=dest, progress=False)
    expected = [f["archive_id"] for f in emu.archive.obsolete[OBSOLETE]
                if f["eso_category"].startswith("ANCILLARY.")]
    assert list(manifest["archive_id"]) == expected
    assert set(manifest["status"]) == {"downloaded"}
    for row in manifest:
        with open(row["local_path"], "rb") as fh:
            assert fh.read() == emu.file_bytes(row["archive_id"])
    assert os.path.dirname(manifest["local_path"][0]) == str(dest)
