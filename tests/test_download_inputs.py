# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""download.py without a server: the options check, the files given, the jobs made, the
manifest Table, the size estimate and the summary line, each with its exact text."""
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from astropy import units as u
from astropy.table import MaskedColumn, Table
from logs import debug_records

from astroquery_eso_ancillary import download
from astroquery_eso_ancillary.download import (
    MANIFEST_COLUMNS,
    STATUSES,
    DownloadOptions,
    check_options,
    estimate_bytes,
    file_entries,
    make_jobs,
    manifest_table,
    prepare_destination,
    status_counts,
    summarize,
)

GOOD = dict(destination=None, overwrite=False, continuation=True, max_workers=None,
            executor=None, unzip=False, progress=True, authenticated=None, timeout=None,
            max_retries=None, verify=False)
PREFIX = "https://dataportal.eso.org/dataPortal/file/"
AID = "ADP.2016-06-01T14:07:30.137"


def exactly(text):
    return "^" + re.escape(text) + "$"


def test_good_options_pass():
    assert check_options(**GOOD) is None
    check_options(**{**GOOD, "max_workers": 1})
    check_options(**{**GOOD, "destination": "dl", "max_workers": np.int64(3), "timeout": 0.5,
                     "max_retries": 0, "overwrite": np.bool_(True), "authenticated": False})


@pytest.mark.parametrize("name, value, error, message", [
    ("destination", 3, TypeError, "destination must be a folder path (str or Path), got "
                                  "int: 3"),
    ("overwrite", "yes", TypeError, "overwrite must be True or False, got 'yes'"),
    ("continuation", 1, TypeError, "continuation must be True or False, got 1"),
    ("unzip", None, TypeError, "unzip must be True or False, got None"),
    ("progress", "no", TypeError, "progress must be True or False, got 'no'"),
    ("verify", 0, TypeError, "verify must be True or False, got 0"),
    ("authenticated", "yes", TypeError, "authenticated must be None, True or False, got "
                                        "'yes'"),
    ("max_workers", 0, ValueError, "max_workers must be a positive integer, got 0"),
    ("max_workers", True, ValueError, "max_workers must be a positive integer, got True"),
    ("max_workers", 2.0, ValueError, "max_workers must be a positive integer, got 2.0"),
    ("executor", object(), TypeError, "executor must be a concurrent.futures.Executor "
                                      "(something with submit()), got object"),
    ("timeout", 0, ValueError, "timeout must be a positive number of seconds, got 0"),
    ("timeout", True, ValueError, "timeout must be a positive number of seconds, got True"),
    ("timeout", "5", ValueError, "timeout must be a positive number of seconds, got '5'"),
    ("timeout", float("nan"), ValueError, "timeout must be a positive number of seconds, "
                                          "got nan"),
    ("max_retries", -1, ValueError, "max_retries must be an integer >= 0, got -1"),
    ("max_retries", False, ValueError, "max_retries must be an integer >= 0, got False"),
    ("max_retries", 1.5, ValueError, "max_retries must be an integer >= 0, got 1.5"),
])
def test_each_bad_option_is_named(name, value, error, message):
    with pytest.raises(error, match=exactly(message)):
        check_options(**{**GOOD, name: value})


def test_an_executor_and_max_workers_together_are_refused():
    with ThreadPoolExecutor(1) as pool:
        check_options(**{**GOOD, "executor": pool})
        with pytest.raises(ValueError, match=exactly(
                "Give either executor or max_workers, not both (the executor decides how "
                "many workers run).")):
            check_options(**{**GOOD, "executor": pool, "max_workers": 2})


def test_prepare_destination(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = prepare_destination("a/b")
    assert made == tmp_path / "a" / "b" and made.is_dir() and made.is_absolute()
    assert prepare_destination(made) == made
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=exactly(
            f"destination {str(tmp_path / 'file')!r} exists and is not a folder.")):
        prepare_destination("file")


# -- files given -----------------------------------------------------------------------------

def test_ids_become_entries_with_the_download_url():
    entries = file_entries(["ADP.1+2", AID], download_url=PREFIX)
    assert entries == [
        {"archive_id": "ADP.1+2", "url": PREFIX + "ADP.1+2", "product_id": "",
         "eso_category": "", "extension": "", "estsize_kb": None, "original_filename": ""},
        {"archive_id": AID, "url": PREFIX + AID, "product_id": "", "eso_category": "",
         "extension": "", "estsize_kb": None, "original_filename": ""}]
    assert file_entries(AID, download_url=PREFIX)[0]["archive_id"] == AID


def test_a_table_gives_each_row_its_columns():
    files = Table({"archive_id": [AID, "ADP.2"], "product_id": ["ADP.P", "ADP.Q"],
                   "eso_category": ["ANCILLARY.PREVIEW", "ANCILLARY.WEIGHTMAP"],
                   "extension": ["PNG", "FITS"], "access_estsize": [12.5, 0.0],
                   "original_filename": [" a.png ", "b.fits"],
                   "access_url": ["", "https://other.example/ADP.2"]})
    files["access_estsize"].unit = u.kbyte
    first, second = file_entries(files, download_url=PREFIX)
    assert first == {"archive_id": AID, "url": PREFIX + AID, "product_id": "ADP.P",
                     "eso_category": "ANCILLARY.PREVIEW", "extension": "PNG",
                     "estsize_kb": "12.5", "original_filename": "a.png"}
    # A given access_url is kept; an estimate of 0 kB (a tiny file) is one.
    assert second["estsize_kb"] == "0.0"
    assert second["url"] == "https://other.example/ADP.2"
    # One row of a table is that row only.
    assert [e["archive_id"] for e in file_entries(files[0], download_url=PREFIX)] == [AID]
    assert [e["archive_id"] for e in file_entries(files[1], download_url=PREFIX)] == ["ADP.2"]


def test_masked_cells_are_empty():
    files = Table({"archive_id": [AID],
                   "product_id": MaskedColumn(["x"], mask=[True]),
                   "access_estsize": MaskedColumn([3.0], mask=[True])})
    (entry,) = file_entries(files, download_url=PREFIX)
    assert (entry["product_id"], entry["estsize_kb"]) == ("", None)


def test_repeats_are_fetched_once_in_the_first_order():
    with debug_records() as records:
        entries = file_entries(["ADP.2", "ADP.1", "ADP.2", "ADP.2"], download_url=PREFIX)
    assert [e["archive_id"] for e in entries] == ["ADP.2", "ADP.1"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "2 repeated file(s) will be downloaded once.")]
    with debug_records() as records:
        file_entries(["ADP.2", "ADP.1"], download_url=PREFIX)
    assert records == []


def test_ids_are_quoted_into_the_url():
    # '+' and ':' stay as they are (ESO's links keep them); the id check refuses the rest.
    assert file_entries("ADP.1:2+3_4-5", download_url=PREFIX)[0]["url"] == \
        PREFIX + "ADP.1:2+3_4-5"


@pytest.mark.parametrize("files, error, message", [
    (Table({"product_id": ["ADP.P"]}), ValueError,
     "A table of files needs an 'archive_id' column; it has product_id. For a table of "
     "products, pass categories= (e.g. 'ANCILLARY.*') to download their files."),
    (Table({"dp_id": ["X"]}), ValueError,
     "A table of files needs an 'archive_id' column; it has dp_id. For a table of products, "
     "pass categories= (e.g. 'ANCILLARY.*') to download their files."),
    (Table({"DP.ID": ["X"]}), ValueError,
     "A table of files needs an 'archive_id' column; it has DP.ID. For a table of products, "
     "pass categories= (e.g. 'ANCILLARY.*') to download their files."),
    (Table({"name": ["X"], "size": [1]}), ValueError,
     "A table of files needs an 'archive_id' column; it has name, size."),
    (Table(), ValueError, "A table of files needs an 'archive_id' column; it has no columns."),
    (Table({"archive_id": [AID, " "]}), ValueError, "Row 1 of the table has no archive_id."),
    (Table({"archive_id": [AID], "access_url": ["ftp://x/y"]}), ValueError,
     f"access_url of {AID!r} is not an http(s) URL: 'ftp://x/y'"),
    (42, TypeError, "files must be a Table with an archive_id column, an archive id or a list "
                    "of archive ids, not int."),
    (None, TypeError, "files must be a Table with an archive_id column, an archive id or a "
                      "list of archive ids, not NoneType."),
    ({"archive_id": AID}, TypeError, "files must be a Table with an archive_id column, an "
                                     "archive id or a list of archive ids, not dict."),
])
def test_bad_files_are_named(files, error, message):
    with pytest.raises(error, match=exactly(message)):
        file_entries(files, download_url=PREFIX)


def test_an_https_url_in_upper_case_is_accepted():
    files = Table({"archive_id": [AID], "access_url": ["HTTPS://dataportal.eso.org/x"]})
    assert file_entries(files, download_url=PREFIX)[0]["url"] == "HTTPS://dataportal.eso.org/x"


def test_jobs_carry_every_entry_value(tmp_path):
    options = DownloadOptions(str(tmp_path))
    files = Table({"archive_id": [AID, "ADP.2"], "product_id": ["ADP.P", "ADP.P"],
                   "eso_category": ["ANCILLARY.PREVIEW", "ANCILLARY.README"],
                   "extension": ["PNG", "TXT"], "access_estsize": [2.0, 1.0],
                   "original_filename": ["x.png", "X.png"]})
    first, second = make_jobs(files, download_url=PREFIX, options=options, layout="product",
                              names="original")
    assert (first.archive_id, first.url, first.options, first.product_id, first.eso_category,
            first.extension, first.estsize_kb, first.original_filename) == \
        (AID, PREFIX + AID, options, "ADP.P", "ANCILLARY.PREVIEW", "PNG", "2.0", "x.png")
    assert first.folder == second.folder == "ADP.P"
    # Names that differ only in case, in one folder: each gets its id.
    assert (first.local_name, second.local_name) == (f"x_{AID.replace(':', '_')}.png",
                                                     "X_ADP.2.png")
    flat = make_jobs(files, download_url=PREFIX, options=options)
    assert [(j.folder, j.local_name) for j in flat] == [("", ""), ("", "")]


# -- the manifest ----------------------------------------------------------------------------

def test_manifest_table_columns_types_and_descriptions():
    row = {name: "" for name in MANIFEST_COLUMNS}
    row.update(archive_id=AID, size=123456789012, status="downloaded", http_status=200,
               attempts=2, n_members=0)
    table = manifest_table([row])
    assert table.colnames == list(MANIFEST_COLUMNS)
    assert table["size"][0] == 123456789012 and table["size"].dtype == np.int64
    assert table["size"].unit == u.byte
    assert (table["http_status"].dtype, table["attempts"].dtype, table["n_members"].dtype) \
        == (np.int32, np.int32, np.int32)
    assert table["archive_id"].dtype.kind == "U" and table["archive_id"][0] == AID
    assert table["status"].description == \
        "One of: downloaded, resumed, skipped-existing, error"
    assert table["size"].description == "Bytes on disk (after decompression when unzip=True)"
    assert table["message"].description == "Why, for every status but 'downloaded'"
    assert table["original_filename"].description == \
        "The file's name when it entered the archive"
    assert table["extracted_to"].description == \
        "Folder a tarball was unpacked into (extract=True)"
    assert table["n_members"].description == "Number of members unpacked from the tarball"


def test_an_empty_manifest_has_every_column_typed():
    table = manifest_table([])
    assert len(table) == 0 and table.colnames == list(MANIFEST_COLUMNS)
    assert table["size"].dtype == np.int64 and table["attempts"].dtype == np.int32
    assert table["status"].dtype.kind == "U"
    assert table["status"].description.startswith("One of: ")


def test_status_counts_of_rows_and_tables():
    rows = [{"status": s} for s in ("downloaded", "error", "downloaded", "resumed")]
    counts = status_counts(rows)
    assert counts == {"downloaded": 2, "resumed": 1, "skipped-existing": 0, "error": 1}
    assert list(counts) == list(STATUSES)
    assert status_counts(Table({"status": ["skipped-existing", "error"]})) == \
        {"downloaded": 0, "resumed": 0, "skipped-existing": 1, "error": 1}
    # A plan's statuses are counted too.
    assert status_counts([{"status": "to-skip"}])["to-skip"] == 1


def test_summary_line_of_a_good_run():
    rows = [{"status": "downloaded"}] * 3 + [{"status": "skipped-existing"}]
    with debug_records() as records:
        counts = summarize(rows)
    assert counts["downloaded"] == 3
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "Download finished: 3 downloaded, 1 skipped-existing.")]
    with debug_records() as records:
        summarize([])
    assert [r.getMessage() for r in records] == ["Download finished: nothing to do."]


def test_summary_line_warns_of_errors():
    rows = [{"status": "downloaded"}, {"status": "error"}, {"status": "error"}]
    with debug_records() as records:
        summarize(rows)
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.WARNING, "2 of 3 files failed (1 downloaded, 2 error); see the manifest's "
                          "'message' column.")]


@pytest.mark.parametrize("sizes, expected", [
    ([], 0), ([1], 1024), ([0.5, "2"], 2560), ([1, None], None), ([1, "n/a"], None),
    ([float("nan")], None), ([float("inf")], None), ([-1], None), ([0], 0),
])
def test_estimate_bytes(sizes, expected):
    assert estimate_bytes(sizes) == expected


# -- two helpers whose every branch is not reachable through a server ------------------------

@pytest.mark.parametrize("value, expected", [
    ("bytes 100-199/200", (100, 200)), ("BYTES 0-0/1", (0, 1)), ("bytes 5-9/*", (5, None)),
    (" bytes 7-9/10 ", (7, 10)), ("bytes 0-9/1/2", None), ("items 0-9/10", None),
    ("bytes x-9/10", None), ("bytes 0-9", None), ("", None), (None, None),
])
def test_content_range_values(value, expected):
    assert download._content_range(value) == expected


def chained(depth):
    """An exception with ``depth`` causes, each of its own class."""
    classes = [type(f"Level{n}", (Exception,), {}) for n in range(depth + 1)]
    error = classes[-1]("root")
    for cls in reversed(classes[:-1]):
        outer = cls("up")
        outer.__cause__ = error
        error = outer
    return error


@pytest.mark.parametrize("depth, expected", [
    (0, "Level0"), (1, "Level0 (Level1)"), (5, "Level0 (Level5)"),
    # Five causes at most are followed (a loop of causes ends too).
    (6, "Level0 (Level5)"), (9, "Level0 (Level5)"),
])
def test_a_failure_is_named_by_its_class_and_its_root_cause(depth, expected):
    assert download._describe(chained(depth)) == expected


def test_a_local_error_adds_its_reason():
    assert download._describe(PermissionError(13, "Permission denied", "/x/secret")) == \
        "PermissionError: Permission denied"
