# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""What ids mean to download_ancillary, folder layouts and names, dry runs (emulator)."""
import os
import warnings

import pytest
from astropy.table import Table
from astroquery.exceptions import NoResultsWarning

from astroquery_eso_ancillary.cli import main
from astroquery_eso_ancillary.destination import ENGINE_DIR
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.filenames import safe_filename

MUSE = "ADP.2024-03-19T05:58:04.407"
MUSE_PREVIEWS = ["ADP.2024-03-19T05:58:04.410", "ADP.2024-03-19T05:58:04.411",
                 "ADP.2024-03-19T05:58:04.412"]
HOWTO3 = "ADP.2016-06-01T14:07:30.134"
OBSOLETE = "ADP.2013-06-20T17:15:42.690"
UNKNOWN = "ADP.1999-01-01T00:00:00.000"


def file_requests(emu):
    return [r for r in emu.requests if r.path.startswith("/dataPortal/file/")]


def tap_queries(emu):
    return [q.adql for q in emu.queries]


def ancillary_of(emu, product_id):
    return [f["archive_id"] for f in emu.archive.files_of(product_id)
            if f["eso_category"].startswith("ANCILLARY.")]


# -- what an id means ---------------------------------------------------------------------

def test_product_id_means_its_ancillary_files(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    manifest = eso.download_ancillary(MUSE, destination=tmp_path, progress=False)
    assert list(manifest["archive_id"]) == ancillary_of(emu, MUSE)
    assert MUSE not in list(manifest["archive_id"])  # not the 3 GB science file
    assert all(c.startswith("ANCILLARY.") for c in manifest["eso_category"])
    assert not [r for r in file_requests(emu) if r.path.endswith(MUSE)]
    # categories='*' asks for every file, the science one included.
    every = eso.download_ancillary(MUSE, categories="*", destination=tmp_path,
                                   dry_run=True)
    assert MUSE in list(every["archive_id"])


def test_mixed_ids_resolved_in_batched_lookups(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    ids = [HOWTO3, MUSE_PREVIEWS[0], UNKNOWN, MUSE_PREVIEWS[1]]
    manifest = eso.download_ancillary(ids, destination=tmp_path, progress=False)
    expected = [*ancillary_of(emu, HOWTO3), MUSE_PREVIEWS[0], MUSE_PREVIEWS[1], UNKNOWN]
    assert list(manifest["archive_id"]) == expected
    bad = manifest[manifest["archive_id"] == UNKNOWN][0]
    assert bad["status"] == "error"
    assert "neither a product id nor the archive id" in bad["message"]
    assert UNKNOWN in bad["message"]
    # Files of one product and single files: one look-up per role, not one per id.
    files_queries = [q for q in tap_queries(emu) if "FROM phase3v2.product_files" in q]
    assert len(files_queries) == 2, files_queries
    assert not [r for r in file_requests(emu) if UNKNOWN in r.path]
    # The unknown id was asked of DataLink once (it could be an obsolete product).
    assert len([r for r in emu.requests if r.path.startswith("/datalink")]) == 1
    for row in manifest[manifest["status"] == "downloaded"]:
        with open(row["local_path"], "rb") as fh:
            assert fh.read() == emu.file_bytes(row["archive_id"])


def test_obsolete_product_through_datalink(eso_archive, tmp_path):
    eso = eso_archive.eso
    manifest = eso.download_ancillary(OBSOLETE, destination=tmp_path, progress=False)
    assert list(manifest["archive_id"]) == ["ADP.2013-06-20T17:15:42.691"]
    assert manifest["status"][0] == "downloaded"
    assert manifest["product_id"][0] == OBSOLETE


def test_raw_file_id_means_that_file(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    raw = eso.get_datalinks(MUSE, semantics="#progenitor")["access_url"][0].rsplit("/", 1)[-1]
    manifest = eso.download_ancillary(raw, destination=tmp_path, progress=False)
    assert list(manifest["archive_id"]) == [raw]
    assert manifest["status"][0] == "downloaded"
    with open(manifest["local_path"][0], "rb") as fh:
        assert fh.read() == emu.file_bytes(raw)


def test_product_without_files_of_categories_warns(eso_archive, tmp_path):
    with pytest.warns(NoResultsWarning, match="ANCILLARY.NOPE"):
        manifest = eso_archive.eso.download_ancillary(MUSE, categories="ANCILLARY.NOPE",
                                                      destination=tmp_path, progress=False)
    assert len(manifest) == 0


def test_datalinks_output_is_accepted(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    links = eso.get_datalinks(HOWTO3)
    manifest = eso.download_ancillary(links, destination=tmp_path, progress=False)
    # #this (the science file) and #auxiliary rows; #preview, #progenitor ... are not files.
    assert list(manifest["archive_id"]) == [f["archive_id"] for f in emu.archive.files_of(HOWTO3)]
    previews = eso.download_ancillary(links, categories="ANCILLARY.PREVIEW",
                                      destination=tmp_path, progress=False)
    assert set(previews["status"]) == {"skipped-existing"}
    assert len(previews) == 3


def test_table_of_products_means_their_ancillary_files(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    manifest = eso.download_ancillary(Table({"dp_id": [HOWTO3]}), destination=tmp_path,
                                      dry_run=True)
    assert list(manifest["archive_id"]) == ancillary_of(emu, HOWTO3)


def test_cli_and_api_agree_and_unknown_ids_exit_1(eso_archive, tmp_path, capsys):
    emu = eso_archive
    code = main(["download", MUSE, UNKNOWN, "--archive", emu.url, "-d", str(tmp_path / "c"),
                 "--format", "csv", "--no-progress"])
    out = capsys.readouterr()
    assert code == 1
    api = emu.eso.download_ancillary([MUSE, UNKNOWN], destination=tmp_path / "a",
                                     dry_run=True)
    lines = out.out.strip().splitlines()[1:]
    assert [line.split(",")[0] for line in lines] == list(api["archive_id"])
    assert "neither a product id" in out.out
    assert main(["download", MUSE, "--archive", emu.url, "-d", str(tmp_path / "c"),
                 "--quiet"]) == 0


# -- layout and names ----------------------------------------------------------------------

def test_product_layout_with_original_names(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    manifest = eso.download_ancillary([MUSE, HOWTO3], destination=tmp_path, layout="product",
                                      names="original", progress=False)
    assert set(manifest["status"]) == {"downloaded"}
    for row in manifest:
        path = row["local_path"]
        assert os.path.dirname(path) == str(tmp_path / safe_filename(row["product_id"]))
        original = emu.archive.file(row["archive_id"])["original_filename"]
        assert row["original_filename"] == original
        assert os.path.basename(path) == safe_filename(original)
        with open(path, "rb") as fh:
            assert fh.read() == emu.file_bytes(row["archive_id"])
    # A re-run finds every file under its original name: nothing is fetched again.
    before = len(file_requests(emu))
    again = eso.download_ancillary([MUSE, HOWTO3], destination=tmp_path, layout="product",
                                   names="original", progress=False)
    assert set(again["status"]) == {"skipped-existing"}
    assert len(file_requests(emu)) == before


def test_original_names_that_collide_stay_apart(eso_archive, tmp_path):
    eso = eso_archive.eso
    # Two products' ancillary files share original names in a flat folder.
    ids = [HOWTO3, MUSE]
    plan = eso.download_ancillary(ids, destination=tmp_path, names="original", dry_run=True)
    names = [os.path.basename(p) for p in plan["local_path"]]
    assert len(set(n.casefold() for n in names)) == len(names)
    manifest = eso.download_ancillary(ids, destination=tmp_path, names="original",
                                      progress=False)
    assert len(set(manifest["local_path"])) == len(manifest)
    assert list(manifest["local_path"]) == list(plan["local_path"])


def test_files_written_by_retrieve_data_count_as_existing(eso_archive, tmp_path):
    tmp_path = tmp_path / "dl"  # the fixture's cache lives in tmp_path itself
    tmp_path.mkdir()
    emu, eso = eso_archive, eso_archive.eso
    aid = MUSE_PREVIEWS[0]
    upstream = tmp_path / f"{aid}.png"  # retrieve_data keeps the ':' of the server's name
    upstream.write_bytes(emu.file_bytes(aid))
    manifest = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert manifest["status"][0] == "skipped-existing"
    assert manifest["local_path"][0] == str(upstream)
    # One request to learn the file's size (a shorter file would be fetched again),
    # then the folder's record knows it: a re-run asks nothing.
    assert len(file_requests(emu)) == 1
    again = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert again["status"][0] == "skipped-existing" and len(file_requests(emu)) == 1
    assert sorted(n for n in os.listdir(tmp_path) if n != ENGINE_DIR) == [upstream.name]
    plan = eso.download_ancillary(aid, destination=tmp_path, dry_run=True)
    assert plan["status"][0] == "to-skip"


# -- dry run ---------------------------------------------------------------------------------

def test_dry_run_plans_without_transferring(eso_archive, tmp_path):
    tmp_path = tmp_path / "dl"  # the fixture's cache lives in tmp_path itself
    tmp_path.mkdir()
    emu, eso = eso_archive, eso_archive.eso
    files = eso.get_product_files(HOWTO3, categories="ANCILLARY.*")
    first = files["archive_id"][0]
    eso.download_ancillary(files[:1], destination=tmp_path, progress=False)
    # A part file as an interrupted run leaves it (with the server's validator).
    part_id = files["archive_id"][1]
    emu.faults = Faults(drop_after=100, paths=("/dataPortal",))
    cut = eso.download_ancillary(files[1:2], destination=tmp_path, progress=False,
                                 max_retries=0)
    emu.faults = Faults()
    assert cut["status"][0] == "error"
    have = (tmp_path / (safe_filename(part_id) + ".part")).stat().st_size
    assert 0 < have < len(emu.file_bytes(part_id))
    before = len(file_requests(emu))
    plan = eso.download_ancillary(files, destination=tmp_path, dry_run=True)
    assert len(file_requests(emu)) == before
    status = dict(zip(plan["archive_id"], plan["status"], strict=True))
    assert status[first] == "to-skip" and status[part_id] == "to-resume"
    assert all(status[a] == "to-download" for a in files["archive_id"][2:])
    expected = {a: int(float(s) * 1024) for a, s in zip(files["archive_id"],
                                                       files["access_estsize"], strict=True)}
    sizes = dict(zip(plan["archive_id"], plan["size"], strict=True))
    assert sizes[first] == 0 and sizes[part_id] == expected[part_id] - have
    assert plan.meta["total_bytes"] == sum(int(s) for s in plan["size"])
    assert plan.meta["to-download"] == len(files) - 2
    assert sorted(n for n in os.listdir(tmp_path) if n != ENGINE_DIR) == sorted(
        [os.path.basename(p) for p in eso.download_ancillary(
            files[:1], destination=tmp_path, progress=False)["local_path"]]
        + [safe_filename(part_id) + ".part"])


def test_dry_run_does_not_create_destination(eso_archive, tmp_path):
    target = tmp_path / "not-yet"
    plan = eso_archive.eso.download_ancillary(MUSE, destination=target, dry_run=True,
                                              layout="product")
    assert not target.exists()
    assert all(p.startswith(str(target / safe_filename(MUSE))) for p in plan["local_path"])


def test_cli_dry_run_prints_plan_and_totals(eso_archive, tmp_path, capsys):
    emu = eso_archive
    code = main(["download", HOWTO3, "--archive", emu.url, "-d", str(tmp_path), "--dry-run",
                 "--format", "csv"])
    out = capsys.readouterr()
    assert code == 0
    assert "to-download" in out.out
    assert "Dry run, nothing downloaded: 5 files" in out.err
    assert "5 to download" in out.err
    assert not file_requests(emu)
    assert not os.path.exists(tmp_path / "manifest.ecsv")


def test_cli_dry_run_unknown_id_exits_1(eso_archive, tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main(["download", UNKNOWN, "--archive", eso_archive.url, "-d", str(tmp_path),
                     "--dry-run", "--quiet"])
    assert code == 1
