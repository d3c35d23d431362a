"""The emulator's DataLink service: semantics, service descriptors, sizes, validator."""
import re
import shutil
import subprocess

import numpy as np
import pytest
import requests
from pyvo.dal.adhoc import DatalinkResults

ID = "ivo://eso.org/ID?"
MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
MUSE_RAW = "MUSE.2024-03-07T08:09:46.977"
UNKNOWN = "ADP.1999-09-09T09:09:09.999"
ESO = "http://archive.eso.org/rdf/datalink/eso#"


def _links(emu, *ids):
    url = emu.datalink_url + "?" + "&".join(f"ID={ID}{i}" for i in ids)
    return DatalinkResults.from_result_url(url)


def _served_length(url):
    response = requests.head(url, timeout=30)
    assert response.status_code == 200, url
    return int(response.headers["Content-Length"])


def test_raw_file_links_have_eso_raw_semantics(eso_archive):
    emu = eso_archive
    table = _links(emu, MUSE_RAW).to_table()
    assert list(table["semantics"]) == [
        "#this", "#derivation", ESO + "calSelector_raw2raw", ESO + "calSelector_raw2master",
        ESO + "night_log"]
    derivation = table[table["semantics"] == "#derivation"][0]
    # The product made from this raw file lists it among its progenitors.
    product = derivation["access_url"].rsplit("?", 1)[1]
    progenitors = _links(emu, product).to_table()
    progenitors = progenitors[progenitors["semantics"] == "#progenitor"]
    assert emu.download_url + MUSE_RAW in list(progenitors["access_url"])
    assert all(str(v).startswith(emu.datalink_url) for v in progenitors["eso_datalink"])
    for row in table:
        if row["semantics"] == "#derivation":
            assert requests.get(row["access_url"], timeout=30).status_code == 200
            continue
        assert _served_length(row["access_url"]) == row["content_length"], row["semantics"]


def test_content_length_is_in_bytes_and_what_is_served(eso_archive):
    emu = eso_archive
    results = _links(emu, MUSE_CUBE)
    field = results.votable.get_field_by_id("content_length")
    assert field.unit == "byte"
    table = results.to_table()
    checked = 0
    for row in table:
        if row["access_url"] and row["content_length"] is not np.ma.masked:
            assert _served_length(row["access_url"]) == row["content_length"], row["semantics"]
            checked += 1
    assert checked >= 8


def test_cutout_is_a_soda_service_descriptor(eso_archive):
    emu = eso_archive
    results = _links(emu, MUSE_CUBE)
    cutout = [row for row in results if row.semantics == "#cutout"]
    assert len(cutout) == 1 and not cutout[0]["access_url"]
    service = results.get_adhocservice_by_id(cutout[0]["service_def"])
    params = {p.name: p for p in service.params}
    assert params["standardID"].value == "ivo://ivoa.net/std/SODA#sync-1.0"
    access = params["accessURL"].value
    inputs = {p.name: p for p in service.groups[0].entries}
    assert inputs["ID"].ref == "ID" and "CIRCLE" in inputs
    # The descriptor can be invoked: it answers a small FITS file.
    answer = requests.get(access, params={"ID": ID + MUSE_CUBE, "CIRCLE": "53.4 -36.1 0.01"},
                          timeout=30)
    assert answer.status_code == 200 and answer.content.startswith(b"SIMPLE  =")
    assert requests.get(access, params={"ID": ID + UNKNOWN}, timeout=30).status_code == 404


def test_unknown_ids_give_error_rows_with_semantics(eso_archive):
    table = _links(eso_archive, UNKNOWN, MUSE_CUBE).to_table()
    errors = table[table["error_message"] != ""]
    assert len(errors) == 1
    assert errors["ID"][0] == ID + UNKNOWN and errors["semantics"][0] == "#this"
    assert errors["error_message"][0].startswith("NotFoundFault")
    assert not errors["access_url"][0]


def test_spectrum_preview_is_a_pdf(eso_archive):
    emu = eso_archive
    spectrum = next(p["dp_id"] for p in emu.archive.products
                    if p["dataproduct_type"] == "spectrum")
    table = _links(emu, spectrum).to_table()
    preview = table[table["semantics"] == "#preview"][0]
    assert preview["content_type"] == "application/pdf"
    assert "PDF preview" in preview["description"]
    assert _served_length(preview["access_url"]) == preview["content_length"]
    assert "#cutout" not in set(table["semantics"])  # cutouts are for images and cubes


def _datalinklint(url):
    stilts = shutil.which("stilts")
    if stilts is None:
        pytest.skip("stilts is not installed (apt-get install stilts) to validate DataLink")
    done = subprocess.run([stilts, "datalinklint", f"votable={url}"], capture_output=True,
                          text=True, timeout=300)
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+)", done.stdout)
    assert totals, done.stdout + done.stderr
    problems = [line for line in done.stdout.splitlines() if re.match(r"[EWF]-", line)]
    return int(totals.group(1)), int(totals.group(2)), problems


@pytest.mark.parametrize("ids", [[MUSE_CUBE], [MUSE_RAW, UNKNOWN]],
                         ids=["product", "raw-and-unknown"])
def test_stilts_datalinklint_is_clean(eso_archive, ids):
    url = eso_archive.datalink_url + "?" + "&".join(f"ID={ID}{i}" for i in ids)
    errors, warnings, problems = _datalinklint(url)
    assert (errors, warnings) == (0, 0), problems
