# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Deterministic file content for the emulator's downloads.

Every byte served for an ``archive_id`` is a pure function of that id and
the byte offset, so tests can check what arrived without keeping copies.
The content is built from one seeded 64 KiB block per id, rotated by an
amount depending on the block index: any slice can be produced cheaply and
multi-GB files stream without ever being held in memory.
"""
import functools
import gzip
import hashlib
import random

__all__ = ["BLOCK_SIZE", "content_type", "file_chunks", "file_content", "gzip_bytes",
           "served_name"]

#: Size of the seeded block the content is built from.
BLOCK_SIZE = 65536

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


@functools.lru_cache(maxsize=512)
def _block(archive_id):
    seed = int.from_bytes(hashlib.sha256(archive_id.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed).randbytes(BLOCK_SIZE)


def _block_at(archive_id, index):
    # Rotate the id's block by an index-dependent amount: consecutive blocks differ, and the
    # cost is one slice, not a hash per block.
    base = _block(archive_id)
    shift = (index * 40503 + 1) % BLOCK_SIZE
    return base[shift:] + base[:shift]


def file_chunks(archive_id, size, start=0, *, end=None):
    """Yield the content of a file piece by piece (at most `BLOCK_SIZE` bytes each).

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
    end = size if end is None else min(end, size)
    pos = max(0, start)
    while pos < end:
        index, offset = divmod(pos, BLOCK_SIZE)
        block = _block_at(archive_id, index)
        piece = block[offset:offset + (end - pos)]
        yield piece
        pos += len(piece)


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


def gzip_bytes(archive_id, size):
    """Return the gzip stream (fixed mtime, so deterministic) of a file's content.

    Examples
    --------
    >>> import gzip
    >>> from astroquery_eso_ancillary.emulator.content import gzip_bytes
    >>> gzip.decompress(gzip_bytes("X.1", 500)) == file_content("X.1", 500)
    True
    """
    return gzip.compress(file_content(archive_id, size), mtime=0)


def served_name(archive_id, extension, *, gzipped=False):
    """The file name the archive gives a file in ``Content-Disposition``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import served_name
    >>> served_name("ADP.2016-06-01T14:07:30.137", "PNG")
    'ADP.2016-06-01T14:07:30.137.png'
    >>> served_name("ADP.1", "FITS", gzipped=True)
    'ADP.1.fits.gz'
    """
    ext = (extension or "").lower()
    if gzipped and not ext.endswith(".gz"):
        ext = (ext + ".gz") if ext else "gz"
    return f"{archive_id}.{ext}" if ext else archive_id


def content_type(extension, *, gzipped=False):
    """The Content-Type the emulator sends for a file extension.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.content import content_type
    >>> content_type("PNG"), content_type("weird")
    ('image/png', 'application/octet-stream')
    """
    if gzipped:
        return "application/gzip"
    return _CONTENT_TYPES.get((extension or "").lower(), "application/octet-stream")
