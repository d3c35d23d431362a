# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The published schema: ObsCore as ESO publishes it, TAP_SCHEMA and /tables in agreement."""
import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
import requests
from astropy.io.votable import parse_single_table

from astroquery_eso_ancillary.emulator.schema import OBSCORE_DERIVED, archive_tables

EX1 = "ADP.2024-03-19T05:58:04.407"
# ESO's ObsCore columns named in the archive reference (54 in all).
_NAMES = """dp_id obs_collection instrument_name target_name s_ra s_dec s_region
dataproduct_type obs_release_date proposal_id access_url access_estsize t_min t_max em_min
em_max release_description preview_html abmaglim bib_reference dataproduct_subtype em_xel
filter gal_lat gal_lon last_mod_date multi_ob n_obs o_calib_status obs_creator_did
obs_creator_name obs_title obstech p3orig pol_states pol_xel publication_date s_pixel_scale
s_xel1 s_xel2 snr strehl t_resolution t_xel"""
ESO_COLUMNS = frozenset(_NAMES.split())


def _sync(emu, query):
    response = requests.post(emu.tap_url + "/sync", data={"LANG": "ADQL", "QUERY": query},
                             timeout=60)
    assert response.status_code == 200, response.content[:500]
    return parse_single_table(BytesIO(response.content))


def test_obscore_has_esos_54_columns_with_obscore_utypes():
    obscore, _ = archive_tables()
    names = obscore.column_names
    assert len(names) == 54 == len(set(names))
    assert set(ESO_COLUMNS) <= set(names)
    by_name = {c.name: c for c in obscore.columns}
    assert by_name["s_ra"].utype.endswith("Position2D.Value2.C1")
    assert by_name["obs_publisher_did"].utype == "obscore:Curation.PublisherDID"
    assert by_name["s_region"].ucd == "pos.outline;obs.field"
    assert obscore.utype == "ivo://ivoa.net/std/ObsCore#table-1.1"
    assert set(OBSCORE_DERIVED) <= set(names)


def test_tables_and_tap_schema_agree(eso_archive):
    schema = _sync(eso_archive, "SELECT table_name, column_name, datatype, arraysize, xtype, "
                                "unit, ucd, utype FROM TAP_SCHEMA.columns").array
    published = {(str(r["table_name"]), str(r["column_name"])):
                 tuple("" if v is None or str(v) in ("", "--") else str(v) for v in
                       (r["datatype"], r["arraysize"], r["xtype"], r["unit"], r["ucd"],
                        r["utype"])) for r in schema}
    root = ET.fromstring(requests.get(eso_archive.tap_url + "/tables", timeout=30).content)
    listed = {}
    for table in root.iter("table"):
        tname = table.findtext("name")
        for column in table.iter("column"):
            dtype = column.find("dataType")
            listed[(tname, column.findtext("name"))] = (
                dtype.text, dtype.get("arraysize", ""), dtype.get("extendedType", ""),
                column.findtext("unit", ""), column.findtext("ucd", ""),
                column.findtext("utype", ""))
    assert listed == published
    assert listed[("ivoa.ObsCore", "s_region")][2] == "adql:REGION"
    assert listed[("ivoa.ObsCore", "obs_release_date")][2] == "timestamp"
    assert ("TAP_SCHEMA.columns", '"size"') in listed
    tables = {t.findtext("name") for t in root.iter("table")}
    assert {"TAP_SCHEMA.schemas", "TAP_SCHEMA.tables", "TAP_SCHEMA.columns",
            "TAP_SCHEMA.keys", "TAP_SCHEMA.key_columns"} <= tables


def test_example_1_product_as_eso_publishes_it(eso_archive):
    row = _sync(eso_archive, f"SELECT * FROM ivoa.ObsCore WHERE dp_id = '{EX1}'").array[0]
    assert row["target_name"] == "SKY_for_NGC4289"
    assert (float(row["s_ra"]), float(row["s_dec"])) == (185.224495, 3.712554)
    assert row["obs_publisher_did"] == f"ivo://eso.org/ID?{EX1}"
    assert str(row["s_region"]).startswith("POLYGON J2000 ")
    assert row["preview_html"] == f"{eso_archive.url}/previews/{EX1}"
    assert requests.get(row["preview_html"], timeout=10).status_code == 200


@pytest.mark.parametrize("predicate", [
    "INTERSECTS(s_region, CIRCLE('ICRS', 185.224495, 3.712554, 0.001)) = 1",
    "CONTAINS(POINT('ICRS', 185.224495, 3.712554), s_region) = 1",
    "CONTAINS(CENTROID(s_region), CIRCLE('', 185.224495, 3.712554, 0.001)) = 1",
])
def test_geometry_works_on_j2000_footprints(eso_archive, predicate):
    found = _sync(eso_archive, f"SELECT dp_id FROM ivoa.ObsCore WHERE {predicate}").array
    assert EX1 in [str(d) for d in found["dp_id"]]
    far = predicate.replace("3.712554", "-3.712554")
    assert EX1 not in [str(d) for d in _sync(eso_archive, "SELECT dp_id FROM ivoa.ObsCore "
                                                          f"WHERE {far}").array["dp_id"]]


def test_engine_rows_equal_the_archive_dicts(eso_archive):
    emu = eso_archive
    ids = emu.archive.product_ids[::37]
    quoted = ", ".join(f"'{i}'" for i in ids)
    result = emu.engine.run(f"SELECT * FROM ivoa.ObsCore WHERE dp_id IN ({quoted})")
    assert len(result.rows) == len(ids)
    for row in result.rows:
        got = dict(zip(result.columns, row, strict=True))
        assert got == emu.archive.product(got["dp_id"])
