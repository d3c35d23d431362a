# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Safe local file names for downloaded files.

A file name sent by a server (``Content-Disposition``) is untrusted input: it
may hold path separators, ``..``, an absolute path, control characters or a
name Windows refuses. `safe_filename` turns any such text into one plain name
that is valid on POSIX and Windows alike, and `contained_path` refuses any
path that would resolve outside the destination folder.

Colons, which every ESO archive id contains (``ADP.2016-06-01T14:07:30.137``),
are invalid on Windows; they become ``_`` on every platform, so that one
download folder (and its manifest) means the same on every machine:
``ADP.2016-06-01T14_07_30.137.png``.
"""
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

__all__ = ["REPLACEMENT", "contained_path", "filename_from_disposition", "safe_filename"]

#: What replaces every refused character.
REPLACEMENT = "_"

#: Longest name kept, in UTF-8 bytes: 255 (the usual limit) minus room for
#: the ``.part``/``.lock`` suffixes the download engine adds.
MAX_NAME_BYTES = 240

# One ``; name=value`` parameter of a header, the value quoted or not.
_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
# Windows refuses these characters and every control character (incl. NUL).
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Windows refuses these device names, with or without an extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"COM{i}" for i in "123456789¹²³"),
             *(f"LPT{i}" for i in "123456789¹²³")}


def safe_filename(name, *, fallback="download"):
    """Turn untrusted text into a file name that is safe on POSIX and Windows.

    Only the last path component is kept; characters Windows refuses
    (``<>:"/\\|?*``, control characters, NUL) become ``_``; leading dots and
    trailing dots or spaces are removed (so neither ``..`` nor a hidden file
    can result); a name left with nothing but ``_``, dots and spaces (``???``,
    ``*.*``) is no name, and ``fallback`` is used; Windows device names
    (``CON``, ``NUL.txt`` ...) get a ``_`` prefix; the name is cut to 240 UTF-8
    bytes, keeping the extension.

    Parameters
    ----------
    name : str
        The proposed name (e.g. from a ``Content-Disposition`` header).
    fallback : str, optional
        Used, after the same cleaning, when nothing usable is left.

    Returns
    -------
    str

    Examples
    --------
    >>> safe_filename("ADP.2016-06-01T14:07:30.137.png")
    'ADP.2016-06-01T14_07_30.137.png'
    >>> safe_filename("../../etc/passwd")
    'passwd'
    >>> safe_filename("NUL.fits")
    '_NUL.fits'
    >>> safe_filename("???", fallback="ADP.1.fits")
    'ADP.1.fits'
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    # Last component under either separator: "C:\\x\\y.fits" and "a/../b" alike.
    text = re.split(r"[/\\]", text)[-1]
    text = _BAD_CHARS.sub(REPLACEMENT, text)
    text = text.lstrip(". ").rstrip(". ")
    # Nothing but replacements, dots and spaces ('???', '*.*'): no name at all. Kept, it
    # would be the same name ('___', '_._') for every such file: a collision.
    if not text.strip(REPLACEMENT + ". "):
        if fallback is None:
            return ""
        return safe_filename(fallback, fallback=None) or "download"
    stem = text.split(".", 1)[0].rstrip(" ").upper()
    if stem in _RESERVED:
        text = REPLACEMENT + text
    return _shorten(text)


def _shorten(text):
    if len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 20:
        stem, ext = text, ""
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8")) - (1 if ext else 0)
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(". ")
    return f"{stem}.{ext}" if ext else stem


def filename_from_disposition(header):
    """Return the file name a ``Content-Disposition`` header proposes, unsanitised.

    ``filename*`` (RFC 6266/5987, percent-encoded) wins over ``filename``.
    Returns None when the header names no file.

    Examples
    --------
    >>> filename_from_disposition('attachment; filename="ADP.2016-06-01T14:07:30.137.png"')
    'ADP.2016-06-01T14:07:30.137.png'
    >>> filename_from_disposition("attachment; filename*=UTF-8''caf%C3%A9.fits")
    'café.fits'
    """
    if not header:
        return None
    params = {}
    for name, value in _PARAM_RE.findall(";" + str(header).split(";", 1)[-1]
                                         if ";" in str(header) else ""):
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value)
    extended = params.get("filename*")
    if extended:
        charset, _, rest = extended.partition("'")
        _, _, encoded = rest.partition("'")
        if encoded:
            try:
                return unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                pass
    return params.get("filename") or None


def contained_path(destination, name):
    """Join ``destination`` and ``name``, refusing anything that resolves outside it.

    Parameters
    ----------
    destination : str or `~pathlib.Path`
        The download folder.
    name : str
        A single file name (normally already through `safe_filename`).

    Returns
    -------
    `~pathlib.Path`
        The absolute, resolved path.

    Raises
    ------
    ValueError
        If the resolved path is not directly inside ``destination``.

    Examples
    --------
    >>> contained_path("/tmp/d", "x.fits").name
    'x.fits'
    """
    root = Path(destination).resolve()
    target = (root / name).resolve()
    if target.parent != root or not name or os.path.isabs(name):
        raise ValueError(f"Refusing to write {name!r} outside {str(root)!r}.")
    return target
