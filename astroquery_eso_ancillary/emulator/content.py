# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Deterministic file content for the emulator's downloads.

Every byte served for an ``archive_id`` is a pure function of that id, its
metadata and the byte offset, so tests can check what arrived without
keeping copies. Files are what their type says (FITS with Phase 3 keywords
and checksums, PNG, PDF, text, TAR: see ``filetypes.py``); files without a
known format are seeded bytes (`file_chunks`). Any slice is produced
cheaply and multi-GB files stream without ever being held in memory.
"""
import functools
import gzip

from .filetypes import BLOCK_SIZE, Layout, fits_size, kind_of, make_layout, seeded_chunks

__all__ = ["BLOCK_SIZE", "Layout", "compression_of", "content_type", "file_chunks",
           "file_content", "file_layout", "gzip_bytes", "lzw_bytes", "lzw_compress",
           "nominal_size", "served_bytes", "served_name"]

_CONTENT_TYPES = {
    "fits": "application/fits",
    "fz": "application/fits",
    "fits.gz": "application/gzip",
    "fits.z": "application/x-compress",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "pdf": "application/pdf",
    "tar": "application/x-tar",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "log": "text/plain",
    "txt": "text/plain",
    "html": "text/html",
    "xml": "text/xml",
    "json": "application/json",
}


def file_chunks(archive_id, size, start=0, *, end=None):
    """Yield seeded bytes without a format (the content of files of unknown type),
    piece by piece (at most ``BLOCK_SIZE`` bytes each).

    Parameters
    ----------
    archive_id : str
        The file's archive_id; it alone determines the bytes.
    size : int
        Total size of the file in bytes.
    start : int, optional
        First byte to yield.
    end : int, optional
        One past the last byte to yield; default ``size``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import file_chunks
    >>> data = b"".join(file_chunks("ADP.2024-03-19T05:58:04.409", 100_000, start=70_000))
    >>> len(data)
    30000
    """
    return seeded_chunks(archive_id, size, start, end=end)


def file_layout(archive_id, extension, size, *, meta=None, patched=False):
    """The `Layout` of a file with this product_files ``extension`` and about ``size`` bytes.

    See `filetypes.make_layout`; the kind follows the extension (``FITS``,
    ``FITS.Z``: FITS; ``PNG``; ``PDF``; ``LOG``/``TXT``: text; ``TAR``; else seeded bytes).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import file_layout
    >>> file_layout("ADP.1", "PNG", 5000).read(1, 4)
    b'PNG'
    """
    return make_layout(archive_id, kind_of(extension), size, meta=meta, patched=patched)


def nominal_size(extension, target):
    """The plain size served for a file of ``extension`` estimated at ``target`` bytes:
    FITS files are a whole number of 2880-byte blocks (rounded down, at least two),
    other files exactly ``target``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import nominal_size
    >>> nominal_size("FITS", 262144), nominal_size("PNG", 262144)
    (262080, 262144)
    """
    if kind_of(extension) == "fits":
        return fits_size(target)
    return target


def file_content(archive_id, size):
    """Return the whole deterministic content of a file as bytes.

    Parameters
    ----------
    archive_id : str
        The file's archive_id.
    size : int
        Number of bytes.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import file_content
    >>> first = file_content("ADP.2024-03-19T05:58:04.408", 1000)
    >>> len(first), first == file_content("ADP.2024-03-19T05:58:04.408", 1000)
    (1000, True)
    >>> file_content("ADP.2024-03-19T05:58:04.408", 10) == first[:10]
    True
    """
    return b"".join(file_chunks(archive_id, size))


def _plain(source, size):
    if isinstance(source, Layout):
        return source.read()
    return file_content(source, size)


@functools.lru_cache(maxsize=64)
def gzip_bytes(source, size=None):
    """Return the gzip stream (fixed mtime, so deterministic) of a file's content.

    Parameters
    ----------
    source : Layout or str
        The file's `Layout`, or an archive_id (then seeded bytes of ``size``).
    size : int, optional
        Size of seeded bytes when ``source`` is an archive_id.

    Examples
    --------
    >>> import gzip
    >>> from astroquery_eso_ancillary.emulator.content import gzip_bytes
    >>> gzip.decompress(gzip_bytes("X.1", 500)) == file_content("X.1", 500)
    True
    """
    return gzip.compress(_plain(source, size), mtime=0)


def lzw_compress(data, *, maxbits=16):
    """Compress bytes in the Unix ``compress`` (.Z, LZW) format, as ESO's raw files are.

    Block mode with code 256 reserved for CLEAR (never sent: the table just
    stops growing when full). Code widths grow from 9 bits; like ``compress``,
    each width change pads the stream to a whole group of eight codes, which
    is where decoders (``gzip -d``, ``uncompress``) expect the wider codes.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import lzw_compress
    >>> lzw_compress(b"TOBEORNOTTOBEORTOBEORNOT")[:3]
    b'\\x1f\\x9d\\x90'
    """
    out = bytearray(b"\x1f\x9d" + bytes([0x80 | maxbits]))
    if not data:
        return bytes(out)
    limit = 1 << maxbits
    table = {}
    get = table.get
    append = out.append
    next_code = 257
    n_bits = 9
    acc = nacc = 0          # bit accumulator (LSB first)
    epoch_bits = 0          # bits written at the current width
    # The decoder lags one table entry behind: the width grows once it would read codes
    # past 2**n_bits - 1, i.e. when this many codes have been written.
    grow_at = (1 << n_bits) - 256
    written = 0             # codes written so far
    prefix = data[0]
    # The emit step is written out twice (loop and end) rather than called: this runs
    # once per input byte and a call per code costs half the time.
    for byte in data[1:]:
        key = (prefix << 8) | byte
        code = get(key)
        if code is not None:
            prefix = code
            continue
        if written >= grow_at:
            nacc += (-epoch_bits) % (n_bits * 8)  # pad to a whole group of eight codes
            epoch_bits = 0
            n_bits += 1
            grow_at = (1 << n_bits) - 256 if n_bits < maxbits else 1 << 62
        acc |= prefix << nacc
        nacc += n_bits
        epoch_bits += n_bits
        written += 1
        while nacc >= 8:
            append(acc & 0xFF)
            acc >>= 8
            nacc -= 8
        if next_code < limit:
            table[key] = next_code
            next_code += 1
        prefix = byte
    if written >= grow_at:
        nacc += (-epoch_bits) % (n_bits * 8)
        n_bits += 1
    acc |= prefix << nacc
    nacc += n_bits
    while nacc >= 8:
        append(acc & 0xFF)
        acc >>= 8
        nacc -= 8
    if nacc:
        append(acc & 0xFF)
    return bytes(out)
    limit = 1 << maxbits
    table = {}
    next_code = 257
    n_bits = 9
    max_code = (1 << n_bits) - 1
    acc = nacc = 0          # bit accumulator (LSB first)
    epoch_bits = 0          # bits written at the current width
    written = 0             # codes written so far

    def emit(code):
        nonlocal acc, nacc, epoch_bits, written, n_bits, max_code
        # The decoder's table size when it reads this code (it lags one entry behind).
        decoder_next = min(257 + max(0, written - 1), limit)
        if decoder_next > max_code:
            group = n_bits * 8
            pad = (-epoch_bits) % group
            nacc += pad
            n_bits += 1
            max_code = limit if n_bits == maxbits else (1 << n_bits) - 1
            epoch_bits = 0
        acc |= code << nacc
        nacc += n_bits
        epoch_bits += n_bits
        written += 1
        while nacc >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nacc -= 8

    prefix = data[0]
    for byte in data[1:]:
        key = (prefix << 8) | byte
        code = table.get(key)
        if code is not None:
            prefix = code
            continue
        emit(prefix)
        if next_code < limit:
            table[key] = next_code
            next_code += 1
        prefix = byte
    emit(prefix)
    if nacc:
        out.append(acc & 0xFF)
    return bytes(out)


@functools.lru_cache(maxsize=64)
def lzw_bytes(source, size=None):
    """The ``.Z`` (LZW) stream of a file's content (cached; meant for small files).

    ``source`` is a `Layout`, or an archive_id with the ``size`` of its seeded bytes.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import lzw_bytes
    >>> lzw_bytes("X.1", 1000)[:2]
    b'\\x1f\\x9d'
    """
    return lzw_compress(_plain(source, size))


def compression_of(extension):
    """How a file with this product_files ``extension`` is compressed when served.

    Returns ``"gzip"`` for ``*.GZ``, ``"compress"`` (LZW) for ``*.Z``, else None.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import compression_of
    >>> compression_of("FITS.Z"), compression_of("fits.gz"), compression_of("PNG")
    ('compress', 'gzip', None)
    """
    ext = (extension or "").upper()
    if ext.endswith(".GZ") or ext == "GZ":
        return "gzip"
    if ext.endswith(".Z") or ext == "Z":
        return "compress"
    return None


def served_bytes(source, size=None, compression=None):
    """All bytes served for a file (compressed if asked), in memory.

    Parameters
    ----------
    source : Layout or str
        The file's `Layout`, or an archive_id (seeded bytes of ``size``).
    size : int, optional
        Size of the seeded bytes when ``source`` is an archive_id.
    compression : {None, "gzip", "compress"}
        How the file is served.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import served_bytes
    >>> served_bytes("X.1", 10) == file_content("X.1", 10)
    True
    >>> served_bytes(file_layout("X.1", "PNG", 3000), compression="gzip")[:2]
    b'\\x1f\\x8b'
    """
    if compression == "gzip":
        return gzip_bytes(source, size)
    if compression == "compress":
        return lzw_bytes(source, size)
    return _plain(source, size)


def served_name(archive_id, extension, *, compression=None):
    """The file name the archive gives a file in ``Content-Disposition``.

    The extension is lower case, except the ``.Z`` of compressed raw files.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import served_name
    >>> served_name("ADP.2016-06-01T14:07:30.137", "PNG")
    'ADP.2016-06-01T14:07:30.137.png'
    >>> served_name("ADP.1", "FITS", compression="gzip")
    'ADP.1.fits.gz'
    >>> served_name("MUSE.2024-03-07T08:09:46.977", "FITS.Z")
    'MUSE.2024-03-07T08:09:46.977.fits.Z'
    """
    ext = (extension or "").lower()
    if ext.endswith(".z") or ext == "z":
        ext = ext[:-1] + "Z"
    if compression == "gzip" and not ext.endswith(".gz"):
        ext = (ext + ".gz") if ext else "gz"
    return f"{archive_id}.{ext}" if ext else archive_id


def content_type(extension, *, compression=None):
    """The Content-Type the emulator sends for a file extension.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import content_type
    >>> content_type("PNG"), content_type("weird"), content_type("FITS.Z")
    ('image/png', 'application/octet-stream', 'application/x-compress')
    """
    if compression == "gzip":
        return "application/gzip"
    if compression == "compress":
        return "application/x-compress"
    return _CONTENT_TYPES.get((extension or "").lower(), "application/octet-stream")
