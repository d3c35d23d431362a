# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Decompress downloaded ``.gz`` and ``.Z`` files in Python.

ESO serves raw files as ``.fits.Z`` (Unix ``compress``, LZW) and some others
as ``.gz``. Python reads gzip but has no LZW decoder, and calling an external
``gunzip`` (as astroquery does) fails where none is installed. The C decoder
of the optional ``ncompress`` package is used when it is installed (about 40
times faster); a small streaming decoder in Python is the fallback.
"""
import gzip
import os
import zlib
from pathlib import Path

from .exceptions import EsoAncillaryError

try:  # optional: pip install "astroquery_eso_ancillary[fast]"
    import ncompress
except ImportError:
    ncompress = None

__all__ = ["DecompressError", "decompress_file", "decompressed_name", "is_compressed"]

_BLOCK = 1 << 20


class DecompressError(EsoAncillaryError):
    """A compressed file could not be decoded (corrupt or not what its name says)."""


def is_compressed(name):
    """True if ``name`` ends in ``.gz`` (any case) or ``.Z`` (upper case, LZW).

    Examples
    --------
    >>> is_compressed("r.fits.Z"), is_compressed("a.fits.gz"), is_compressed("a.fits")
    (True, True, False)
    """
    name = str(name)
    return name.lower().endswith(".gz") or name.endswith(".Z")


def decompressed_name(name):
    """The name without its compression suffix (``x.fits.Z`` → ``x.fits``).

    Examples
    --------
    >>> decompressed_name("ADP.2020-01-01T00_00_00.000.fits.Z")
    'ADP.2020-01-01T00_00_00.000.fits'
    """
    name = str(name)
    if name.lower().endswith(".gz"):
        return name[:-3]
    if name.endswith(".Z"):
        return name[:-2]
    return name


class _Capped:
    """A file writer that refuses to grow past ``limit`` bytes (a decompression bomb)."""

    def __init__(self, out, limit, name):
        self.out, self.limit, self.name, self.written = out, limit, name, 0

    def write(self, data):
        self.written += len(data)
        if self.limit is not None and self.written > self.limit:
            raise DecompressError(f"{self.name} inflates to more than {self.limit} bytes; "
                                  "stopped (raise the limit if the file is genuine).")
        return self.out.write(data)


def decompress_file(path, *, remove=True, max_bytes=None):
    """Decompress ``path`` next to itself, atomically, and return the new path.

    The output goes to ``<name>.part`` first and is renamed into place when
    complete, so a failure never leaves a truncated file under the final name.
    The compressed file is removed afterwards when ``remove`` is true.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        A ``.gz`` or ``.Z`` file.
    remove : bool, optional
        Delete the compressed file after success (default True).
    max_bytes : int, optional
        Stop with `DecompressError` when the output would pass this size.

    Returns
    -------
    `~pathlib.Path`
        The decompressed file.

    Raises
    ------
    DecompressError
        If the data is corrupt or not in the format the name says.
    ValueError
        If the name has no ``.gz``/``.Z`` suffix.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt.gz"
    >>> _ = p.write_bytes(gzip.compress(b"hello"))
    >>> decompress_file(p).read_bytes()
    b'hello'
    """
    path = Path(path)
    if not is_compressed(path.name):
        raise ValueError(f"{str(path)!r} does not end in .gz or .Z; cannot decompress it.")
    target = path.with_name(decompressed_name(path.name))
    part = target.with_name(target.name + ".part")
    try:
        with open(path, "rb") as src, open(part, "wb") as out:
            dst = _Capped(out, max_bytes, path.name)
            if path.name.lower().endswith(".gz"):
                _gunzip(src, dst)
            else:
                _unlzw(src, dst)
    except (OSError, EOFError, zlib.error, DecompressError) as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, DecompressError):
            raise DecompressError(f"{path.name}: {exc}") from None
        if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
            raise DecompressError(f"{path.name} is not a valid gzip file "
                                  f"({type(exc).__name__}: {exc}).") from None
        raise
    os.replace(part, target)
    if remove:
        path.unlink()
    return target


def _unlzw(src, dst):
    if ncompress is None:
        lzw_decompress(src, dst)
        return
    try:
        ncompress.decompress(src, dst)
    except (ValueError, RuntimeError) as exc:
        raise DecompressError(f"not a valid .Z (LZW) stream ({exc})") from None


def _gunzip(src, dst):
    with gzip.GzipFile(fileobj=src, mode="rb") as gz:
        while chunk := gz.read(_BLOCK):
            dst.write(chunk)


def lzw_decompress(src, dst, *, block=_BLOCK):
    """Decode a Unix ``compress`` (``.Z``) stream from ``src`` into ``dst``.

    Streams in blocks. The code table holds each entry's bytes, so memory
    grows with the data decoded since the last table reset (at most what the
    64k-entry table spans), not with the file size.

    Parameters
    ----------
    src, dst : binary file objects
    block : int, optional
        Read size in bytes.

    Examples
    --------
    >>> import io
    >>> out = io.BytesIO()
    >>> lzw_decompress(io.BytesIO(bytes.fromhex("1f9d9061c400")), out)
    >>> out.getvalue()
    b'ab'
    """
    head = src.read(3)
    if len(head) < 3 or head[:2] != b"\x1f\x9d":
        raise DecompressError("not a Unix compress (.Z) stream (bad magic bytes)")
    maxbits = head[2] & 0x1F
    block_mode = bool(head[2] & 0x80)
    if not 9 <= maxbits <= 16:
        raise DecompressError(f"unsupported maximum code width {maxbits}")
    maxmax = 1 << maxbits

    def fresh_table():
        table = [bytes((i,)) for i in range(256)]
        if block_mode:
            table.append(b"")  # 256 is CLEAR
        return table

    table = fresh_table()
    n_bits = 9
    prev = None
    ncodes = 0  # codes read at the current width: padding completes groups of 8
    data = b""
    bitpos = 0
    out = bytearray()
    eof = False
    while not eof:
        chunk = src.read(block)
        eof = not chunk
        cut = min(bitpos >> 3, len(data))
        data = data[cut:] + chunk
        bitpos -= cut * 8
        nbits_total = len(data) * 8
        while bitpos + n_bits <= nbits_total:
            byte = bitpos >> 3
            code = (int.from_bytes(data[byte:byte + 3], "little") >> (bitpos & 7)) \
                & ((1 << n_bits) - 1)
            bitpos += n_bits
            ncodes += 1
            if block_mode and code == 256:
                bitpos += ((-ncodes) % 8) * n_bits
                table = fresh_table()
                n_bits, prev, ncodes = 9, None, 0
                continue
            if prev is None:
                if code > 255:
                    raise DecompressError(f"corrupt data: first code {code} is not a byte")
                entry = table[code]
            elif code < len(table):
                entry = table[code]
                if len(table) < maxmax:
                    table.append(table[prev] + entry[:1])
            elif code == len(table):
                entry = table[prev] + table[prev][:1]
                table.append(entry)
            else:
                raise DecompressError(f"corrupt data: code {code} is beyond the table")
            out += entry
            prev = code
            # The writer widens its codes once its table (one entry ahead of
            # ours) outgrows the width, after padding to a group of 8 codes.
            if len(table) + 1 > (1 << n_bits) and n_bits < maxbits:
                bitpos += ((-ncodes) % 8) * n_bits
                n_bits += 1
                ncodes = 0
            if len(out) >= block:
                dst.write(out)
                out.clear()
    dst.write(out)
