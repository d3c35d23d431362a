"""The emulator's files are what their type says: FITS, PNG, PDF, text, TAR (real HTTP)."""
import gzip
import io
import re
import struct
import tarfile
import warnings
import zlib

import numpy as np
import pytest
import requests
from astropy.io import fits

from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.emulator.filetypes import FITS_BLOCK, make_layout

MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
MUSE_WHITE = "ADP.2024-03-19T05:58:04.408"
MUSE_LOG = "ADP.2024-03-19T05:58:04.409"
MUSE_PNG = "ADP.2024-03-19T05:58:04.410"
MUSE_RAW = "MUSE.2024-03-07T08:09:46.977"


def _get(emu, archive_id, **kwargs):
    response = requests.get(emu.download_url + archive_id, timeout=30, **kwargs)
    assert response.status_code in (200, 206), (archive_id, response.status_code)
    return response


def _open_fits(data):
    # Any checksum problem is a warning in astropy: make it fail the test.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hdul = fits.open(io.BytesIO(data), checksum=True)
        hdul.verify("exception")
        hdu = hdul[0]
        assert hdu.verify_checksum() == 1 and hdu.verify_datasum() == 1
        _ = hdu.data  # the data unit is readable too
    return hdul


def _ones_complement_sum(data):
    words = np.frombuffer(data, dtype=">u4").astype(np.uint64)
    total = int(words.sum())
    return 0 if total == 0 else (total - 1) % 0xFFFFFFFF + 1


def _png_decode(data):
    """A small independent PNG reader: chunk CRCs, IHDR, inflated IDAT size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert depth == 8 and colour == 2 and len(raw) == height * (1 + 3 * width)
    rows = [raw[y * (1 + 3 * width) + 1:(y + 1) * (1 + 3 * width)] for y in range(height)]
    return (width, height), b"".join(rows), [kind for kind, _ in chunks]


def test_fits_files_open_with_phase3_keywords_and_checksums(eso_archive):
    emu = eso_archive
    row = emu.archive.file(MUSE_CUBE)
    product = emu.archive.product(MUSE_CUBE)
    data = _get(emu, MUSE_CUBE).content
    assert len(data) % FITS_BLOCK == 0
    capped = min(row[emu.size_column] * 1024, emu.max_file_bytes)
    assert capped - FITS_BLOCK < len(data) <= capped
    with _open_fits(data) as hdul:
        header = hdul[0].header
        assert header["ORIGIN"] == "ESO" and header["TELESCOP"].startswith("ESO-")
        assert header["INSTRUME"] == product["instrument_name"]
        assert header["PRODCATG"] == row["eso_category"]
        assert header["ARCFILE"] == MUSE_CUBE + ".fits"
        assert header["ORIGFILE"] == row["original_filename"]
        assert header["OBJECT"] == product["target_name"]
        assert header["RA"] == pytest.approx(product["s_ra"])
        assert header["DEC"] == pytest.approx(product["s_dec"])
        assert header["DATE"].startswith("2024-03-19T05:58:04")
        for key in ("PROCSOFT", "DATE-OBS", "MJD-OBS", "EXPTIME", "DATASUM", "CHECKSUM"):
            assert key in header, key
        image = hdul[0].data
        assert image.shape == (header["NAXIS2"], header["NAXIS1"])
        assert image.std() > 0  # not a blank image
    # Another file has other pixels and its own checksums.
    with _open_fits(_get(emu, MUSE_WHITE).content) as other:
        assert other[0].header["DATASUM"] != header["DATASUM"]


def test_raw_fits_inside_the_z_stream_has_raw_keywords(eso_archive):
    emu = eso_archive
    with _open_fits(emu.plain_bytes(MUSE_RAW)) as hdul:
        header = hdul[0].header
        assert header["ARCFILE"] == MUSE_RAW + ".fits"
        assert header["INSTRUME"] == "MUSE" and "PRODCATG" not in header
        assert header["HIERARCH ESO DPR CATG"] == "SCIENCE"


@pytest.mark.parametrize("size", [2 * FITS_BLOCK, 16 * FITS_BLOCK, 160 * FITS_BLOCK,
                                  1000 * FITS_BLOCK])
def test_fits_checksums_at_many_sizes(size):
    # Sizes below, at and beyond whole repetitions of the data tile (16 blocks).
    layout = make_layout("ADP.2020-01-01T00:00:00.001", "fits", size,
                         meta={"instrument": "HAWKI", "object": "NGC 253"})
    assert layout.size == size
    with _open_fits(layout.read()) as hdul:
        assert hdul[0].header["NAXIS2"] == size // FITS_BLOCK - 1


def test_huge_fits_header_checksum_covers_the_streamed_data(eso_archive):
    # A 5 GiB file is never built: its header, read by Range, must still make the HDU sum
    # to -0 with the DATASUM it announces; the data is checked in sampled ranges.
    emu = eso_archive
    size = 5 * 2**30 - (5 * 2**30) % FITS_BLOCK
    emu.file_sizes[MUSE_CUBE] = size
    head = _get(emu, MUSE_CUBE, headers={"Range": f"bytes=0-{FITS_BLOCK - 1}"})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-{FITS_BLOCK - 1}/{size}"
    header = fits.Header.fromstring(head.content.decode("ascii"))
    assert header["NAXIS1"] * header["NAXIS2"] * 2 == size - FITS_BLOCK
    datasum = int(header["DATASUM"])
    assert (_ones_complement_sum(head.content) + datasum - 1) % 0xFFFFFFFF + 1 == 0xFFFFFFFF
    for start in (FITS_BLOCK, size // 3, size - 100_000):
        piece = _get(emu, MUSE_CUBE, headers={"Range": f"bytes={start}-{start + 99_999}"})
        assert piece.content == b"".join(emu.file_stream(MUSE_CUBE, start, end=start + 100_000))


def test_datasum_of_a_tiled_data_unit_is_the_streamed_sum():
    size = 300 * FITS_BLOCK  # 299 data blocks: 18 whole tiles and a partial one
    layout = make_layout("X.huge", "fits", size)
    data = layout.read()
    header = fits.Header.fromstring(data[:FITS_BLOCK].decode("ascii"))
    assert int(header["DATASUM"]) == _ones_complement_sum(data[FITS_BLOCK:])


def test_png_previews_are_real_images_of_the_announced_size(eso_archive):
    emu = eso_archive
    data = _get(emu, MUSE_PNG).content
    row = emu.archive.file(MUSE_PNG)
    assert len(data) == min(row[emu.size_column] * 1024, emu.max_file_bytes)
    (width, height), pixels, kinds = _png_decode(data)
    assert width > 0 and height > 0 and len(set(pixels)) > 10
    assert b"tEXt" in kinds  # the padding is a valid ancillary chunk
    other = next(f["archive_id"] for f in emu.archive.files_of(MUSE_CUBE)
                 if f["extension"] == "PNG" and f["archive_id"] != MUSE_PNG)
    assert _png_decode(_get(emu, other).content)[1] != pixels  # each preview differs


def test_png_decodes_with_pillow(eso_archive):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow not installed")
    data = _get(eso_archive, MUSE_PNG).content
    with image_module.open(io.BytesIO(data)) as image:
        image.load()
        assert image.mode == "RGB" and image.size[0] > 0


@pytest.mark.parametrize("size", [0, 10, 2000, 65536 + 3, 200_000, 3 * 2**20 + 7])
def test_png_sizes_are_exact_from_the_minimum_up(size):
    layout = make_layout("ADP.1", "png", size)
    data = layout.read()
    assert len(data) == layout.size
    if size == 0:
        assert data == b""
        return
    _png_decode(data)
    minimum = make_layout("ADP.1", "png", 1).size
    assert layout.size == max(size, minimum)


def _check_pdf(data):
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[start:start + 4] == b"xref"
    count = int(re.match(rb"xref\s+0\s+(\d+)", data[start:]).group(1))
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) ?\r?\n", data[start:])[:count]
    assert len(entries) == count
    for number, (offset, _, used) in enumerate(entries):
        if used == b"n":
            assert data[int(offset):].startswith(b"%d 0 obj" % number), number
    for match in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data):
        end = match.end() + int(match.group(1))
        assert data[end:end + 10] == b"\nendstream", "stream length"
    assert b"/Type /Catalog" in data and b"/Type /Page " in data


@pytest.mark.parametrize("size", [1, 8192, 1_000_003])
def test_pdf_structure_is_valid_at_any_size(size):
    meta = {"title": "Release description"}
    data = make_layout("ADP.1", "pdf", size, meta=meta).read()
    _check_pdf(data)
    assert len(data) == max(size, make_layout("ADP.1", "pdf", 1, meta=meta).size)


def test_documentation_and_pdf_previews_served(eso_archive):
    emu = eso_archive
    links = emu.eso.get_datalinks(MUSE_CUBE)
    doc = links[links["semantics"] == "http://archive.eso.org/rdf/datalink/eso#data_documentation"]
    response = requests.get(doc["access_url"][0], timeout=30)
    assert response.headers["Content-Type"] == "application/pdf"
    assert len(response.content) == doc["content_length"][0]
    _check_pdf(response.content)
    spectrum = next(p["dp_id"] for p in emu.archive.products
                    if p["dataproduct_type"] == "spectrum")
    preview = requests.get(f"{emu.url}/previews/{spectrum}", timeout=30)
    assert preview.headers["Content-Type"] == "application/pdf"
    _check_pdf(preview.content)
    image = requests.get(f"{emu.url}/previews/{MUSE_CUBE}", timeout=30)
    assert image.headers["Content-Type"] == "image/png"
    _png_decode(image.content)


def test_readme_and_logs_are_text(eso_archive):
    emu = eso_archive
    text = _get(emu, MUSE_LOG).content.decode("utf-8")
    row = emu.archive.file(MUSE_LOG)
    assert len(text.encode()) == min(row[emu.size_column] * 1024, emu.max_file_bytes)
    assert text.startswith("# " + row["original_filename"])
    assert text.count("\n") > 100


def test_tar_files_hold_real_members(eso_archive):
    emu = eso_archive
    tars = [f for f in emu.archive.files if f["extension"] == "TAR"
            and not emu.archive.is_proprietary(f["archive_id"])]
    assert tars, "the generated archive has no TAR file"
    row = tars[0]
    data = _get(emu, row["archive_id"]).content
    assert len(data) == min(row[emu.size_column] * 1024, emu.max_file_bytes)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        assert [m.name.rsplit(".", 1)[1] for m in members] == ["txt", "fits"]
        assert archive.extractfile(members[0]).read().decode().startswith(
            row["original_filename"].rsplit(".", 1)[0])
        with _open_fits(archive.extractfile(members[1]).read()) as hdul:
            assert hdul[0].header["ORIGIN"] == "ESO"


def _public_fits(emu, *, patched):
    for row in emu.archive.files:
        aid = row["archive_id"]
        info = emu.file_info(aid)
        if info["kind"] == "fits" and not info["compression"] and not info["proprietary"] \
                and info["patched"] == patched:
            return aid, info
    pytest.fail(f"no public FITS file with patched={patched}")


def test_patched_fits_files_ignore_range_and_differ_from_the_estimate(eso_archive):
    emu = eso_archive
    aid, info = _public_fits(emu, patched=True)  # one of the seeded share
    nominal = min(emu.archive.file(aid)[emu.size_column] * 1024, emu.max_file_bytes)
    assert info["size"] > nominal and info["size"] % FITS_BLOCK == 0
    response = _get(emu, aid, headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 200 and "Accept-Ranges" not in response.headers
    assert response.content == emu.file_bytes(aid)
    with _open_fits(response.content) as hdul:
        assert "corrected on download" in str(hdul[0].header["HISTORY"])
    # Any file can be made patched at run time; reset() undoes it.
    other, _ = _public_fits(emu, patched=False)
    emu.patched_ids.add(other)
    assert emu.is_patched(other)
    assert _get(emu, other, headers={"Range": "bytes=0-9"}).status_code == 200
    emu.reset()
    assert not emu.is_patched(other)


def test_client_restarts_a_cut_download_of_a_patched_file(eso_archive, tmp_path):
    emu, eso = eso_archive, eso_archive.eso
    aid, _ = _public_fits(emu, patched=True)
    emu.faults = Faults(drop_after=50_000, paths=("/dataPortal",))
    first = eso.download_ancillary(aid, destination=tmp_path, max_retries=0, progress=False)
    assert first["status"][0] == "error"
    emu.faults = Faults()
    again = eso.download_ancillary(aid, destination=tmp_path, progress=False)
    assert again["status"][0] == "downloaded", again["message"][0]
    with open(again["local_path"][0], "rb") as fh:
        assert fh.read() == emu.file_bytes(aid)
    asked = [r for r in emu.requests if r.path.endswith(aid)]
    assert asked[-1].range is not None and asked[-1].status == 200  # Range asked, ignored


def test_gzip_of_a_typed_file_unpacks_to_it(eso_archive):
    emu = eso_archive
    emu.gzip_ids.add(MUSE_PNG)
    data = _get(emu, MUSE_PNG).content
    assert data[:2] == b"\x1f\x8b" and data == emu.file_bytes(MUSE_PNG)
    _png_decode(gzip.decompress(data))


def test_layout_refuses_unknown_kind():
    with pytest.raises(ValueError, match="unknown file kind 'jpeg'"):
        make_layout("X", "jpeg", 100)
