# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Files whose bytes are what their type says: FITS, PNG, PDF, text, TAR.

Each file is a `Layout`: a list of parts (fixed bytes, a block repeated
many times, a nested layout, zeros), so any byte range of a multi-GB file
is produced from a few small pieces and nothing is held in memory. All of
it is a pure function of the archive_id, the size and the metadata given.

FITS files carry the ESO Phase 3 keywords and correct ``DATASUM`` and
``CHECKSUM``: the data unit is one seeded tile rotated by a multiple of four
bytes per repetition, which leaves its 32-bit ones'-complement sum
unchanged, so the sum of a huge data unit is one multiplication.
"""
import functools
import hashlib
import random
import re
import struct
import tarfile
import zlib

import numpy as np

__all__ = ["BLOCK_SIZE", "FITS_BLOCK", "Layout", "fits_checksum", "fits_size", "kind_of",
           "make_layout", "seeded_chunks"]

#: Size of the seeded block the bytes of files without a format are built from.
BLOCK_SIZE = 65536

#: FITS files are a whole number of these.
FITS_BLOCK = 2880
_PIECE = 65536
# One data row of the emulated images: 1440 16-bit pixels, exactly one FITS block.
_ROW_PIXELS = FITS_BLOCK // 2
_TILE_ROWS = 16
_TELESCOPES = {"MUSE": "ESO-VLT-U4", "HAWKI": "ESO-VLT-U4", "ESPRESSO": "ESO-VLT-U1",
               "XSHOOTER": "ESO-VLT-U3", "KMOS": "ESO-VLT-U1", "VIRCAM": "ESO-VISTA",
               "OMEGACAM": "ESO-VST", "HARPS": "ESO-3.6", "FORS2": "ESO-VLT-U1",
               "UVES": "ESO-VLT-U2", "SPHERE": "ESO-VLT-U3"}
_PROCSOFT = {"MUSE": "muse/2.8.7", "HAWKI": "hawki/2.4.13", "ESPRESSO": "espdr/3.0.0",
             "XSHOOTER": "xshoo/3.6.3", "KMOS": "kmos/4.4.4", "VIRCAM": "vircam/2.3.12",
             "HARPS": "HARPS DRS 3.8"}
_KINDS = {"FITS": "fits", "FIT": "fits", "FTS": "fits", "FITS.Z": "fits", "FITS.GZ": "fits",
          "FZ": "fits", "PNG": "png", "PDF": "pdf", "LOG": "text", "TXT": "text",
          "README": "text", "ASC": "text", "TAR": "tar"}


def kind_of(extension):
    """The content kind of a product_files ``extension``.

    Returns one of ``"fits"``, ``"png"``, ``"pdf"``, ``"text"``, ``"tar"``,
    or ``"bytes"`` (seeded bytes without a format) for anything else.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import kind_of
    >>> kind_of("FITS.Z"), kind_of("png"), kind_of("LOG"), kind_of("JPG")
    ('fits', 'png', 'text', 'bytes')
    """
    return _KINDS.get((extension or "").upper(), "bytes")


def _seed(*parts):
    text = "\x00".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@functools.lru_cache(maxsize=512)
def _block(archive_id):
    seed = int.from_bytes(hashlib.sha256(archive_id.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed).randbytes(BLOCK_SIZE)


def seeded_chunks(archive_id, size, start=0, *, end=None):
    """Yield seeded bytes without a format, ``[start, end)`` of ``size``, in pieces.

    One seeded 64 KiB block per id, rotated by an index-dependent amount, so
    consecutive blocks differ and any slice costs one slice.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import seeded_chunks
    >>> len(b"".join(seeded_chunks("X.1", 100_000, 70_000)))
    30000
    """
    end = size if end is None else min(end, size)
    pos = max(0, start)
    base = _block(archive_id)
    while pos < end:
        index, offset = divmod(pos, BLOCK_SIZE)
        shift = (index * 40503 + 1) % BLOCK_SIZE
        block = base[shift:] + base[:shift]
        piece = block[offset:offset + (end - pos)]
        yield piece
        pos += len(piece)


# ----------------------------------------------------------------------------- layouts

class Layout:
    """A file as a list of parts, read by byte range without building the whole file.

    Parameters
    ----------
    parts : list
        Items are ``bytes`` (sent as is), ``("repeat", block, count)``,
        ``("zeros", n)``, ``("seeded", archive_id, n)`` (`seeded_chunks`),
        ``("tiles", tile, nbytes)`` (the tile rotated by a
        multiple of four bytes per repetition, cut at ``nbytes``) or a nested
        `Layout`.
    kind : str
        What the bytes are (``"fits"``, ``"png"`` ...).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import Layout
    >>> layout = Layout([b"ab", ("repeat", b"xy", 3), ("zeros", 2)], kind="bytes")
    >>> layout.size, layout.read(1, 6)
    (10, b'bxyxy')
    """

    def __init__(self, parts, *, kind):
        self.kind = kind
        self.parts = []
        for part in parts:
            if isinstance(part, (bytes, bytearray)):
                if part:
                    self.parts.append((len(part), bytes(part)))
            elif isinstance(part, Layout):
                self.parts.append((part.size, part))
            elif part[0] == "repeat":
                if part[2] > 0 and part[1]:
                    self.parts.append((len(part[1]) * part[2], part))
            elif part[0] == "seeded":
                if part[2] > 0:
                    self.parts.append((part[2], part))
            elif part[0] == "zeros":
                if part[1] > 0:
                    self.parts.append((part[1], part))
            elif part[0] == "tiles":
                if part[2] > 0:
                    self.parts.append((part[2], part))
            else:
                raise ValueError(f"unknown layout part {part[0]!r}")
        self.size = sum(n for n, _ in self.parts)

    def chunks(self, start=0, end=None):
        """Yield the bytes ``[start, end)`` in pieces of at most 64 KiB.

        Examples
        --------
        >>> b"".join(Layout([("repeat", b"abc", 4)], kind="bytes").chunks(2, 7))
        b'cabca'
        """
        end = self.size if end is None else min(end, self.size)
        pos = max(0, start)
        base = 0
        for length, part in self.parts:
            if pos >= end:
                return
            if pos < base + length:
                lo, hi = pos - base, min(end, base + length) - base
                yield from _part_chunks(part, lo, hi)
                pos = base + hi
            base += length

    def read(self, start=0, end=None):
        """The bytes ``[start, end)`` as one bytes object (small ranges only).

        Examples
        --------
        >>> Layout([b"hello"], kind="text").read(1, 3)
        b'el'
        """
        return b"".join(self.chunks(start, end))


def _part_chunks(part, lo, hi):
    if isinstance(part, bytes):
        for k in range(lo, hi, _PIECE):
            yield part[k:min(hi, k + _PIECE)]
        return
    if isinstance(part, Layout):
        yield from part.chunks(lo, hi)
        return
    if part[0] == "seeded":
        yield from seeded_chunks(part[1], part[2], lo, end=hi)
        return
    if part[0] == "zeros":
        zero = bytes(min(_PIECE, hi - lo))
        for k in range(lo, hi, _PIECE):
            yield zero[:min(hi, k + _PIECE) - k]
        return
    block = part[1]
    size = len(block)
    pos = lo
    while pos < hi:
        index, offset = divmod(pos, size)
        piece = _rotated(block, index) if part[0] == "tiles" else block
        piece = piece[offset:offset + min(hi - pos, _PIECE)]
        yield piece
        pos += len(piece)


def _rotated(tile, index):
    # A rotation by a multiple of 4 bytes keeps the tile's 32-bit words (so its checksum)
    # while consecutive tiles differ, so a misplaced range is seen.
    words = len(tile) // 4
    shift = 4 * ((index * 40503) % words)
    return tile[shift:] + tile[:shift]


# ------------------------------------------------------------------------------- FITS

def _ones_sum(total):
    # Fold an integer sum of 32-bit words with end-around carry (ones' complement).
    if total == 0:
        return 0
    return (total - 1) % 0xFFFFFFFF + 1


def _word_sum(data):
    if not data:
        return 0
    return int(np.frombuffer(data, dtype=">u4").sum(dtype=np.uint64))


def _checksum_ascii(value):
    # The FITS checksum's 16-character ASCII encoding (FITS standard, appendix J):
    # each byte spread over four characters, avoiding the punctuation between digits
    # and letters, then rotated one place to the right.
    excluded = set(range(0x3A, 0x41)) | set(range(0x5B, 0x61))
    out = [0] * 16
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        chars = [byte // 4 + 0x30] * 4
        chars[0] += byte % 4
        changed = True
        while changed:
            changed = False
            for j in (0, 2):
                while chars[j] in excluded or chars[j + 1] in excluded:
                    chars[j] += 1
                    chars[j + 1] -= 1
                    changed = True
        for j in range(4):
            out[4 * j + i] = chars[j]
    return bytes(out[15:] + out[:15]).decode("ascii")


def fits_checksum(header_sum, datasum):
    """The ``CHECKSUM`` value of an HDU, from the sum of its header written with
    ``CHECKSUM='0000000000000000'`` and its ``DATASUM``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import fits_checksum
    >>> len(fits_checksum(12345, 0))
    16
    """
    total = _ones_sum(header_sum + datasum)
    return _checksum_ascii(~total & 0xFFFFFFFF)


def _card(key, value=None, comment=""):
    if key in ("COMMENT", "HISTORY", "END"):
        text = f"{key:8s}{value or ''}"
    else:
        if isinstance(value, bool):
            shown = f"{'T' if value else 'F':>20s}"
        elif isinstance(value, int):
            shown = f"{value:>20d}"
        elif isinstance(value, float):
            shown = f"{value:>20.8f}" if abs(value) < 1e9 else f"{value:>20.10E}"
        else:
            quoted = str(value).replace("'", "''")
            shown = f"'{quoted:<8s}'"
            shown = f"{shown:<20s}"
        name = key if len(key) <= 8 else f"HIERARCH {key}"
        if len(key) > 8:
            text = f"{name} = {shown.strip()}"
        else:
            text = f"{name:8s}= {shown}"
        if comment:
            text += f" / {comment}"
    return f"{text[:80]:<80s}".encode("ascii")


def _header_bytes(cards):
    body = b"".join(cards) + _card("END")
    return body + b" " * (-len(body) % FITS_BLOCK)


def fits_size(target):
    """The size the emulator gives a FITS file asked to be about ``target`` bytes:
    a whole number of 2880-byte blocks, at least the header and one data block
    (``0`` stays ``0``).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import fits_size
    >>> fits_size(246784), fits_size(100), fits_size(0)
    (244800, 5760, 0)
    """
    if target <= 0:
        return 0
    return max(2 * FITS_BLOCK, target - target % FITS_BLOCK)


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?")
_NO_DATE = "2020-01-01T00:00:00.000"


def _date_of(text):
    # ESO ids carry the ingestion (archive) time: ADP.2024-03-19T05:58:04.407.
    match = _STAMP.search(str(text or ""))
    return match.group(0) if match else _NO_DATE


def _mjd(date):
    year, month, day = int(date[0:4]), int(date[5:7]), int(date[8:10])
    hours = int(date[11:13]) + int(date[14:16]) / 60 + float(date[17:23] or 0) / 3600
    a = (14 - month) // 12
    y, m = year + 4800 - a, month + 12 * a - 3
    jdn = day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    return jdn - 2400000.5 - 0.5 + hours / 24 + 0.5


def _fits_cards(archive_id, meta, naxis2, *, patched):
    instrument = str(meta.get("instrument") or "UNKNOWN").upper()
    raw = bool(meta.get("raw"))
    date = _date_of(archive_id)
    date_obs = _date_of(meta.get("date_obs") or date)
    cards = [_card("SIMPLE", True, "conforms to FITS standard"),
             _card("BITPIX", 16, "16-bit signed integers"),
             _card("NAXIS", 2, "number of data axes"),
             _card("NAXIS1", _ROW_PIXELS, "length of data axis 1"),
             _card("NAXIS2", naxis2, "length of data axis 2"),
             _card("EXTEND", True, "FITS dataset may contain extensions"),
              _card("ORIGIN", "ESO", "European Southern Observatory"),
              _card("TELESCOP", _TELESCOPES.get(instrument, "ESO-VLT"), "ESO telescope"),
              _card("INSTRUME", instrument, "instrument used"),
              _card("OBJECT", str(meta.get("object") or "UNKNOWN")[:60], "target"),
              _card("RA", float(meta.get("ra") or 0.0), "[deg] pointing right ascension"),
              _card("DEC", float(meta.get("dec") or 0.0), "[deg] pointing declination"),
              _card("EQUINOX", 2000.0, "standard FK5"),
              _card("RADESYS", "FK5", "coordinate reference frame"),
              _card("DATE-OBS", date_obs[:23], "observation start"),
              _card("MJD-OBS", round(_mjd(date_obs), 8), "MJD of observation start"),
              _card("EXPTIME", float(meta.get("exptime") or 0.0), "[s] exposure time"),
              _card("DATE", date[:19], "file creation date (UTC)"),
              _card("ARCFILE", f"{archive_id}.fits", "archive file name")]
    if raw:
        cards += [_card("ORIGFILE", f"{instrument}_{date[:10]}_0001.fits", "original name"),
                  _card("ESO DPR CATG", "SCIENCE", "observation category"),
                  _card("ESO DPR TYPE", "OBJECT", "observation type")]
    else:
        cards += [_card("ORIGFILE", str(meta.get("origfile") or f"{archive_id}.fits")[:68],
                        "original file name"),
                  _card("PRODCATG", str(meta.get("category") or "SCIENCE.IMAGE"),
                        "Phase 3 product category"),
                  _card("PROCSOFT", _PROCSOFT.get(instrument, "esorex/3.13.8"),
                        "reduction software"),
                  _card("PRODLVL", 2, "processed science data"),
                  _card("PROG_ID", str(meta.get("prog_id") or "60.A-9100(A)"),
                        "ESO programme"),
                  _card("OBSTECH", str(meta.get("obstech") or "IMAGE"), "technique"),
                  _card("FLUXCAL", "ABSOLUTE", "flux calibration"),
                  _card("REFERENC", "", "bibliographic reference"),
                  _card("ASSON1", str(meta.get("product_id") or archive_id) + ".fits",
                        "associated product")]
    cards.append(_card("BUNIT", "adu", "data unit"))
    if patched:
        # What ESO's header correction on download adds (a few blocks of new keywords).
        extra = 36 * (1 + _seed("patch", archive_id) % 3)
        cards += [_card("HISTORY", f"header corrected on download by the ESO archive {k:04d}")
                  for k in range(extra)]
    return cards


@functools.lru_cache(maxsize=64)
def _tile(archive_id):
    # Integer noise around a sky level, and a bright source somewhere, so images of
    # different files differ visibly. Integer arithmetic: this runs once per file served.
    rng = np.random.default_rng(_seed("fits-data", archive_id))
    image = rng.integers(985, 1016, size=(_TILE_ROWS, _ROW_PIXELS), dtype=np.int32)
    cy, cx = int(rng.integers(0, _TILE_ROWS)), int(rng.integers(100, _ROW_PIXELS - 100))
    yy, xx = np.ogrid[0:_TILE_ROWS, cx - 12:cx + 13]
    image[:, cx - 12:cx + 13] += (8000 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0)
                                  ).astype(np.int32)
    return image.astype(">i2").tobytes()


def _fits_layout(archive_id, size, meta, *, patched=False):
    header_len = len(_header_bytes(_fits_cards(archive_id, meta, 1, patched=patched)))
    if patched:
        # The corrected header is longer; the data unit stays what it was.
        size += header_len - len(_header_bytes(_fits_cards(archive_id, meta, 1, patched=False)))
    size = max(size, header_len)
    naxis2 = (size - header_len) // FITS_BLOCK
    data_len = naxis2 * FITS_BLOCK
    tail = size - header_len - data_len  # not a multiple of 2880: zeros (a cut FITS file)
    tile = _tile(archive_id)
    full, part = divmod(data_len, len(tile))
    datasum = _ones_sum(_word_sum(tile) * full + _word_sum(_rotated(tile, full)[:part]))
    cards = _fits_cards(archive_id, meta, naxis2, patched=patched)
    cards += [_card("DATASUM", str(datasum), "data unit checksum"),
              _card("CHECKSUM", "0" * 16, "HDU checksum")]
    header = _header_bytes(cards)
    value = fits_checksum(_word_sum(header), datasum)
    header = header.replace(b"'0000000000000000'", f"'{value}'".encode("ascii"), 1)
    return Layout([header, ("tiles", tile, data_len), ("zeros", tail)], kind="fits")


# -------------------------------------------------------------------------------- PNG

def _png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@functools.lru_cache(maxsize=64)
def _png_image(archive_id, width=128, height=96):
    # A picture drawn from the id: a gradient between two of its colours and a few discs.
    rng = np.random.default_rng(_seed("png", archive_id))
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, width)[:, None]
    row = (c0 * (1 - t) + c1 * t).astype(np.uint8)
    image = np.repeat(row[None, :, :], height, axis=0)
    yy, xx = np.ogrid[0:height, 0:width]
    for _ in range(4):
        cy, cx, r = rng.integers(0, height), rng.integers(0, width), rng.integers(5, 24)
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = rng.integers(0, 256, 3)
    # Each scanline starts with filter type 0 (none).
    lines = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return _png_chunk(b"IHDR", ihdr), _png_chunk(b"IDAT", zlib.compress(lines.tobytes(), 6))


_PAD_KEY = b"Comment\x00"
_PAD_TEXT = (b"ESO archive emulator: padding to the size the archive announces. " * 1100)


@functools.lru_cache(maxsize=4)
def _png_pad_chunk(total):
    # The same padding chunk for every file: one copy in memory, one CRC.
    return _png_chunk(b"tEXt", _PAD_KEY + _PAD_TEXT[:total - 12 - len(_PAD_KEY)])


def _png_layout(archive_id, size):
    ihdr, idat = _png_image(archive_id)
    head = b"\x89PNG\r\n\x1a\n" + ihdr
    title = b"Title\x00Preview of " + archive_id.encode("ascii", "replace")
    iend = _png_chunk(b"IEND", b"")
    base = len(head) + 12 + len(title) + len(idat) + len(iend)
    slack = max(0, size - base)
    empty = 12 + len(_PAD_KEY)
    full = 65536
    count, last = divmod(slack, full) if slack >= empty else (0, 0)
    if 0 < last < empty:
        count, last = count - 1, last + full
    if slack < empty:
        title += b" " * slack  # too little room for a chunk of its own
    parts = [head, _png_chunk(b"tEXt", title), idat]
    if count:
        parts.append(("repeat", _png_pad_chunk(full), count))
    if last:
        parts.append(_png_chunk(b"tEXt", _PAD_KEY + _PAD_TEXT[:last - empty]))
    parts.append(iend)
    return Layout(parts, kind="png")


# -------------------------------------------------------------------------------- PDF

def _pdf_layout(archive_id, size, meta):
    title = str(meta.get("title") or f"Preview of {archive_id}")
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 50 760 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
               # The end-of-line before "endstream" is not part of the stream's length.
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n" % number + body + b"\nendobj\n"

    def tail_for(pad_offset):
        entries = offsets + ([pad_offset] if pad_offset is not None else [])
        xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(entries) + 1)
        xref += b"".join(b"%010d 00000 n \n" % o for o in entries)
        return (xref + b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(entries) + 1)
                + b"startxref\n%d\n%%%%EOF\n")

    plain_tail = tail_for(None) % len(head)
    if size <= len(head) + len(plain_tail) + 64:
        return Layout([bytes(head), plain_tail], kind="pdf")
    # Room to fill: an unreferenced stream object of filler bytes (valid PDF).
    pad_offset = len(head)
    width = 20  # /Length written with a fixed width, so the sizes below are exact
    opening = b"6 0 obj\n<< /Length %0*d >>\nstream\n" % (width, 0)
    closing = b"\nendstream\nendobj\n"
    tail_template = tail_for(pad_offset)
    probe_tail = tail_template % (10 ** 12)  # startxref written below with this many digits
    fill = size - len(head) - len(opening) - len(closing) - len(probe_tail)
    fill = max(0, fill)
    opening = b"6 0 obj\n<< /Length %0*d >>\nstream\n" % (width, fill)
    xref_at = len(head) + len(opening) + fill + len(closing)
    tail = tail_template.replace(b"startxref\n%d", b"startxref\n%013d") % xref_at
    block = b"% filler " * 7281 + b"\n"
    count, rest = divmod(fill, len(block))
    return Layout([bytes(head), opening, ("repeat", block, count), block[:rest], closing,
                   tail], kind="pdf")


# ------------------------------------------------------------------------------- text

def _text_layout(archive_id, size, meta):
    rng = np.random.default_rng(_seed("text", archive_id))
    name = str(meta.get("origfile") or archive_id)
    date = _date_of(archive_id)
    head = (f"# {name}\n# archive file {archive_id}, product {meta.get('product_id') or '-'}\n"
            f"# ESO Science Archive emulator: a README/log as the pipeline writes it\n"
            ).encode()
    values, frames = rng.normal(size=600).tolist(), rng.integers(1, 99, size=600).tolist()
    lines = [f"{date[:19]} [ INFO] recipe step {k:04d}: value={v:+.6f} frames={n:02d}\n"
             for k, (v, n) in enumerate(zip(values, frames, strict=True))]
    block = "".join(lines).encode("ascii")
    if size <= len(head):
        return Layout([head], kind="text")
    count, rest = divmod(size - len(head), len(block))
    return Layout([head, ("repeat", block, count), block[:rest]], kind="text")


# -------------------------------------------------------------------------------- TAR

def _tar_header(name, size, mtime):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o644
    info.uname = info.gname = "eso"
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _tar_layout(archive_id, size, meta):
    date = _date_of(archive_id)
    stem = str(meta.get("origfile") or archive_id).rsplit(".", 1)[0]
    mtime = int((_mjd(date) - 40587) * 86400)
    readme = (f"{stem}: pipeline products of {archive_id}\n").encode()
    members_fixed = 3 * 512 + len(readme) + (-len(readme) % 512) + 1024
    # The FITS member takes the room left; the rest (< one block) is trailing zeros.
    room = size - members_fixed
    fits_member = _fits_layout(f"{archive_id}#member", fits_size(max(room, 1)),
                               dict(meta, origfile=f"{stem}_S2D.fits"))
    parts = [_tar_header("README.txt", len(readme), mtime), readme,
             ("zeros", -len(readme) % 512),
             _tar_header(f"{stem[:90]}_S2D.fits", fits_member.size, mtime), fits_member,
             ("zeros", -fits_member.size % 512), ("zeros", 1024)]
    used = Layout(parts, kind="tar").size
    return Layout([*parts, ("zeros", size - used)], kind="tar")


# ------------------------------------------------------------------------------ entry

# Layouts hold a file's seeded tile or block (up to 64 KiB): a few hundred at most.
@functools.lru_cache(maxsize=256)
def _cached_layout(archive_id, kind, size, meta_items, patched):
    meta = dict(meta_items)
    if kind == "fits":
        return _fits_layout(archive_id, size, meta, patched=patched)
    if kind == "png":
        return _png_layout(archive_id, size)
    if kind == "pdf":
        return _pdf_layout(archive_id, size, meta)
    if kind == "text":
        return _text_layout(archive_id, size, meta)
    if kind == "tar":
        return _tar_layout(archive_id, size, meta)
    return Layout([("seeded", archive_id, size)], kind="bytes")


def make_layout(archive_id, kind, size, *, meta=None, patched=False):
    """The `Layout` of a file: ``kind`` content of about ``size`` bytes.

    The size is exact for every kind, except that a file is never smaller than
    its format's minimum (a FITS header block, the PNG image, the bare PDF, the
    TAR members); ``patched`` FITS files get extra header blocks (ESO's header
    correction on download), so they are larger than asked.

    Parameters
    ----------
    archive_id : str
        Seeds the content.
    kind : str
        ``"fits"``, ``"png"``, ``"pdf"``, ``"text"``, ``"tar"`` or ``"bytes"``.
    size : int
        Wanted size in bytes (0: an empty file).
    meta : dict, optional
        Header values: instrument, object, ra, dec, exptime, date_obs, category,
        origfile, product_id, prog_id, obstech, title, raw (bool).
    patched : bool, optional
        Add the header blocks of a file corrected at download (FITS only).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.filetypes import make_layout
    >>> layout = make_layout("ADP.1", "fits", 8640, meta={"instrument": "MUSE"})
    >>> layout.size, layout.read(0, 9)
    (8640, b'SIMPLE  =')
    """
    if kind not in ("fits", "png", "pdf", "text", "tar", "bytes"):
        raise ValueError(f"unknown file kind {kind!r}; use fits, png, pdf, text, tar or bytes")
    if size <= 0:
        return Layout([], kind=kind)
    items = tuple(sorted((k, v) for k, v in (meta or {}).items() if v is not None))
    return _cached_layout(archive_id, kind, int(size), items, bool(patched and kind == "fits"))
