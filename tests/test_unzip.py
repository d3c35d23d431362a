# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Decompression of .gz and .Z (Unix compress, LZW) files, in Python."""
import gzip
import io
import random
import shutil
import subprocess

import pytest

from astroquery_eso_ancillary.unzip import (
    DecompressError,
    decompress_file,
    decompressed_name,
    is_compressed,
    lzw_decompress,
)


def lzw_compress(data, *, maxbits=16, clear_when_full=False):
    """A small Unix ``compress`` writer (block mode), for the tests only.

    Codes are written LSB first; when the code width grows (or after a CLEAR)
    the current group of 8 codes is padded, as ``compress`` does. With
    ``clear_when_full`` a CLEAR code is sent whenever the table fills up.
    """
    out = bytearray(b"\x1f\x9d" + bytes([0x80 | maxbits]))
    n_bits, free = 9, 257
    table = {bytes([i]): i for i in range(256)}
    acc = nacc = ncodes = 0
    group = bytearray()

    def put(code):
        nonlocal acc, nacc, ncodes
        acc |= code << nacc
        nacc += n_bits
        ncodes += 1
        while nacc >= 8:
            group.append(acc & 0xFF)
            acc >>= 8
            nacc -= 8

    def end_group():
        nonlocal acc, nacc, ncodes
        if nacc:
            group.append(acc & 0xFF)
            acc = nacc = 0
        if ncodes % 8:
            group.extend(bytes((-len(group)) % n_bits))
        out.extend(group)
        group.clear()
        ncodes = 0

    word = b""
    for byte in data:
        longer = word + bytes([byte])
        if longer in table:
            word = longer
            continue
        put(table[word])
        if free < (1 << maxbits):
            table[longer] = free
            free += 1
            if free > (1 << n_bits) and n_bits < maxbits:
                end_group()
                n_bits += 1
        elif clear_when_full:
            put(256)
            end_group()
            n_bits, free = 9, 257
            table = {bytes([i]): i for i in range(256)}
        word = bytes([byte])
    if word:
        put(table[word])
    if nacc:
        group.append(acc & 0xFF)
    out.extend(group)
    return bytes(out)


def sample(n=150_000, seed=3):
    rng = random.Random(seed)
    return (bytes(rng.choice(b"SIMPLE = T NAXIS") for _ in range(n))
            + bytes(n // 2) + rng.randbytes(n // 3))


CASES = [(16, False), (12, True), (10, True), (13, False)]


@pytest.mark.parametrize(("maxbits", "clear"), CASES)
@pytest.mark.parametrize("block", [1 << 20, 5, 4096])
def test_lzw_round_trip(maxbits, clear, block):
    data = sample()
    out = io.BytesIO()
    lzw_decompress(io.BytesIO(lzw_compress(data, maxbits=maxbits, clear_when_full=clear)),
                   out, block=block)
    assert out.getvalue() == data


@pytest.mark.parametrize("data", [b"", b"a", b"ab" * 3, bytes(70_000), bytes(range(256)) * 40])
def test_lzw_edge_inputs(data):
    out = io.BytesIO()
    lzw_decompress(io.BytesIO(lzw_compress(data)), out)
    assert out.getvalue() == data


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip not installed")
@pytest.mark.parametrize(("maxbits", "clear"), [(16, False), (12, True)])
def test_test_writer_matches_real_compress_format(tmp_path, maxbits, clear):
    # gzip -d reads .Z files: it proves the writer above (and so the decoder
    # tested against it) follows the real format, padding rules included.
    data = sample(60_000)
    path = tmp_path / "x.Z"
    path.write_bytes(lzw_compress(data, maxbits=maxbits, clear_when_full=clear))
    result = subprocess.run(["gzip", "-dc", str(path)], capture_output=True, check=True)
    assert result.stdout == data


def test_decompress_file_z(tmp_path):
    data = sample(40_000)
    path = tmp_path / "r.fits.Z"
    path.write_bytes(lzw_compress(data))
    target = decompress_file(path)
    assert target == tmp_path / "r.fits"
    assert target.read_bytes() == data
    assert not path.exists()
    assert not (tmp_path / "r.fits.part").exists()


def test_decompress_file_gz_keep(tmp_path):
    data = sample(20_000)
    path = tmp_path / "a.fits.gz"
    path.write_bytes(gzip.compress(data))
    target = decompress_file(path, remove=False)
    assert target.read_bytes() == data
    assert path.exists()


@pytest.mark.parametrize(("name", "payload"), [
    ("bad.fits.Z", b"\x1f\x8b\x08not-lzw"),
    ("bad.fits.gz", b"definitely not gzip"),
    ("cut.fits.gz", gzip.compress(b"x" * 10_000)[:40]),
])
def test_corrupt_files_raise_and_keep_the_original(tmp_path, name, payload):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DecompressError, match=name):
        decompress_file(path)
    assert path.read_bytes() == payload
    assert list(tmp_path.iterdir()) == [path]


def test_corrupt_lzw_code():
    # 9-bit code 300 as the second code: beyond the table (only 257 entries exist).
    stream = b"\x1f\x9d\x90" + (97 | (300 << 9)).to_bytes(3, "little")
    with pytest.raises(DecompressError, match="beyond the table"):
        lzw_decompress(io.BytesIO(stream), io.BytesIO())


def test_names():
    assert is_compressed("a.fits.Z") and is_compressed("a.fits.GZ")
    assert not is_compressed("a.fits.z") and not is_compressed("a.png")
    assert decompressed_name("a.fits.gz") == "a.fits"
    with pytest.raises(ValueError, match=r"does not end in \.gz or \.Z"):
        decompress_file("a.fits")
