# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""A dry run's rows and totals, file by file (no server: a plan makes no request)."""
import logging

import pytest
from logs import debug_records

from astroquery_eso_ancillary.destination import Destination
from astroquery_eso_ancillary.download import (
    PLAN_STATUSES,
    DownloadOptions,
    FileJob,
    plan_file,
    plan_totals,
    summarize_plan,
)

AID = "ADP.2016-06-01T14:07:30.137"
URL = f"https://dataportal.eso.org/dataPortal/file/{AID}"
FINAL = "ADP.2016-06-01T14_07_30.137.png"


def job_in(folder, **values):
    options = {k: values.pop(k) for k in ("overwrite", "continuation", "unzip") if k in values}
    values.setdefault("extension", "PNG")
    return FileJob(AID, values.pop("url", URL), DownloadOptions(str(folder), **options),
                   product_id="ADP.P", eso_category="ANCILLARY.PREVIEW", **values)


def part_file(folder, nbytes, *, validator='"etag-1"', url=URL):
    dest = Destination.shared(folder)
    dest.part_path(AID).write_bytes(b"x" * nbytes)
    if validator is not None:
        dest.save_validator(AID, url=url, validator=validator)


def test_plan_of_a_new_file(tmp_path):
    row = plan_file(job_in(tmp_path, estsize_kb=2.5))
    assert row["status"] == "to-download"
    assert row["size"] == 2560
    assert row["local_path"] == str(tmp_path / FINAL)
    assert row["message"] == ""
    assert (row["archive_id"], row["product_id"], row["eso_category"], row["url"]) == \
        (AID, "ADP.P", "ANCILLARY.PREVIEW", URL)


def test_plan_without_a_size_estimate_or_an_extension(tmp_path):
    row = plan_file(job_in(tmp_path))
    assert (row["status"], row["size"]) == ("to-download", 0)
    assert row["message"] == "Size unknown (no estimate in the archive)."
    nameless = plan_file(job_in(tmp_path, extension="", estsize_kb=1))
    assert nameless["local_path"] == ""
    assert nameless["message"] == "The name comes from the server."
    assert nameless["size"] == 1024


def test_plan_uses_the_chosen_local_name(tmp_path):
    row = plan_file(job_in(tmp_path, local_name="preview.png", estsize_kb=1))
    assert row["local_path"] == str(tmp_path / "preview.png")
    (tmp_path / "preview.png").write_bytes(b"png")
    assert plan_file(job_in(tmp_path, local_name="preview.png"))["status"] == "to-skip"
    # A chosen name is not matched with the server's spelling of the archive's name.
    (tmp_path / "preview.png").unlink()
    (tmp_path / f"{AID}.png").write_bytes(b"png")
    assert plan_file(job_in(tmp_path, local_name="preview.png"))["status"] == "to-download"


def test_plan_skips_a_complete_file(tmp_path):
    (tmp_path / FINAL).write_bytes(b"0123456789")
    row = plan_file(job_in(tmp_path, estsize_kb=4))
    assert row["status"] == "to-skip"
    assert (row["size"], row["local_path"]) == (0, str(tmp_path / FINAL))
    assert row["message"] == "A complete file is already there (10 bytes)."
    again = plan_file(job_in(tmp_path, estsize_kb=4, overwrite=True))
    assert (again["status"], again["size"]) == ("to-download", 4096)


def test_plan_skips_the_file_retrieve_data_wrote(tmp_path):
    # astroquery writes the server's name, ':' kept.
    upstream = tmp_path / f"{AID}.png"
    upstream.write_bytes(b"abc")
    row = plan_file(job_in(tmp_path))
    assert row["status"] == "to-skip"
    assert row["local_path"] == str(upstream)
    assert row["message"] == "A complete file is already there (3 bytes)."


def test_plan_skips_what_the_folder_record_says_is_complete(tmp_path):
    # Recorded under another name (names='original' in an earlier run, say).
    (tmp_path / "other.png").write_bytes(b"12345")
    Destination.shared(tmp_path).claim("other.png", AID, 5)
    row = plan_file(job_in(tmp_path))
    assert (row["status"], row["local_path"]) == ("to-skip", str(tmp_path / "other.png"))
    # The record no longer matches the disk (the file was cut): not complete.
    (tmp_path / "other.png").write_bytes(b"12")
    assert plan_file(job_in(tmp_path))["status"] == "to-download"


def test_plan_with_unzip_skips_the_decompressed_file(tmp_path):
    plain = tmp_path / "ADP.2016-06-01T14_07_30.137.fits"
    plain.write_bytes(b"SIMPLE")
    row = plan_file(job_in(tmp_path, extension="FITS.GZ", unzip=True))
    assert (row["status"], row["local_path"]) == ("to-skip", str(plain))
    # Without unzip, the decompressed file is not the file asked for.
    assert plan_file(job_in(tmp_path, extension="FITS.GZ"))["status"] == "to-download"


def test_plan_does_not_count_a_symlink_as_complete(tmp_path):
    target = tmp_path / "elsewhere.png"
    target.write_bytes(b"abc")
    (tmp_path / FINAL).symlink_to(target)
    assert plan_file(job_in(tmp_path))["status"] == "to-download"


def test_plan_resumes_a_part_file_with_a_validator(tmp_path):
    part_file(tmp_path, 1000)
    row = plan_file(job_in(tmp_path, estsize_kb=3))
    assert row["status"] == "to-resume"
    assert row["size"] == 3 * 1024 - 1000
    assert row["local_path"] == str(tmp_path / FINAL)
    assert row["message"] == "Would continue the partial file from byte 1000."
    # More already there than the estimate (estimates are rounded): nothing left, not < 0.
    assert plan_file(job_in(tmp_path, estsize_kb=0.5))["size"] == 0
    assert plan_file(job_in(tmp_path))["size"] == 0
    assert plan_file(job_in(tmp_path))["status"] == "to-resume"


@pytest.mark.parametrize("validator, url", [(None, URL), ('"etag-1"', URL + "?other")])
def test_plan_restarts_a_part_file_nothing_ties_to_the_file(tmp_path, validator, url):
    part_file(tmp_path, 1000, validator=validator, url=url)
    row = plan_file(job_in(tmp_path, estsize_kb=3))
    assert (row["status"], row["size"]) == ("to-download", 3072)
    assert row["message"] == ("A partial file is there, but nothing shows it is the start of "
                              "the same file: it would be restarted.")


def test_plan_messages_add_up(tmp_path):
    part_file(tmp_path, 10, validator=None)
    row = plan_file(job_in(tmp_path, extension=""))
    assert row["message"] == (
        "Size unknown (no estimate in the archive). A partial file is there, but nothing "
        "shows it is the start of the same file: it would be restarted. "
        "The name comes from the server.")


def test_plan_ignores_part_files_without_continuation(tmp_path):
    part_file(tmp_path, 1000)
    row = plan_file(job_in(tmp_path, estsize_kb=3, continuation=False))
    assert (row["status"], row["size"], row["message"]) == ("to-download", 3072, "")


def test_plan_of_a_folder_not_yet_there_creates_nothing(tmp_path):
    folder = tmp_path / "new"
    row = plan_file(job_in(folder, estsize_kb=1))
    assert (row["status"], row["local_path"]) == ("to-download", str(folder / FINAL))
    assert not folder.exists()


def test_plan_totals_count_each_status_and_the_bytes():
    rows = [{"status": "to-download", "size": 100}, {"status": "to-download", "size": 5},
            {"status": "to-resume", "size": 7}, {"status": "to-skip", "size": 0},
            {"status": "error", "size": 0}, {"status": "error", "size": 0},
            {"status": "error", "size": 0}]
    totals = plan_totals(rows)
    assert totals == {"n_files": 7, "to-download": 2, "to-resume": 1, "to-skip": 1,
                      "error": 3, "total_bytes": 112}
    assert list(totals) == ["n_files", *PLAN_STATUSES, "total_bytes"]
    assert plan_totals([]) == {"n_files": 0, "to-download": 0, "to-resume": 0, "to-skip": 0,
                               "error": 0, "total_bytes": 0}


def test_summarize_plan_logs_one_line():
    totals = {"n_files": 8, "to-download": 3, "to-resume": 2, "to-skip": 1, "error": 0,
              "total_bytes": 3 * 1024 ** 2}
    with debug_records() as records:
        text = summarize_plan(totals)
    assert text == ("Dry run: 3 to download, 2 to resume, 1 to skip, 0 errors; about 3.1M "
                    "bytes to transfer.")
    assert [(r.levelno, r.getMessage()) for r in records] == [(logging.INFO, text)]


def test_summarize_plan_warns_when_a_file_cannot_be_planned():
    totals = {"n_files": 2, "to-download": 1, "to-resume": 0, "to-skip": 0, "error": 1,
              "total_bytes": 10}
    with debug_records() as records:
        text = summarize_plan(totals)
    assert text.startswith("Dry run: 1 to download, 0 to resume, 0 to skip, 1 errors; about ")
    assert [(r.levelno, r.getMessage()) for r in records] == [(logging.WARNING, text)]
