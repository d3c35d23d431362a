# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Where each downloaded file goes: the folder layout and the local names.

``layout='flat'`` puts every file in the destination itself;
``layout='product'`` gives each product a folder of its own, named by its
product id (sanitised like every file name: ``ADP.2024-03-19T05_58_04.407``).
``names='archive_id'`` keeps the archive's name (``<archive_id>.<ext>``, as
the server names it); ``names='original'`` uses ``original_filename`` (the
name the file had when it entered the archive, e.g. ``ES_SFLA_x_tpl.png``),
made unique within its folder: files whose original names collide (ignoring
case, so that the folder means the same on macOS and Windows) all get their
archive id added before the extension.
"""
from .filenames import safe_filename

__all__ = ["LAYOUTS", "NAMES", "check_layout", "place"]

#: Accepted values of ``layout``.
LAYOUTS = ("flat", "product")
#: Accepted values of ``names``.
NAMES = ("archive_id", "original")


def check_layout(layout, names):
    """Check ``layout`` and ``names``; raise ValueError naming the bad one.

    Examples
    --------
    >>> check_layout("product", "original")
    >>> check_layout("tree", "original")
    Traceback (most recent call last):
    ...
    ValueError: layout must be one of 'flat', 'product', not 'tree'.
    """
    for what, value, accepted in (("layout", layout, LAYOUTS), ("names", names, NAMES)):
        if value not in accepted:
            raise ValueError(f"{what} must be one of {', '.join(map(repr, accepted))}, "
                             f"not {value!r}.")


def folder_of(product_id, layout):
    """The sub-folder (relative to the destination) of a product's files.

    Examples
    --------
    >>> folder_of("ADP.2024-03-19T05:58:04.407", "product")
    'ADP.2024-03-19T05_58_04.407'
    >>> folder_of("ADP.2024-03-19T05:58:04.407", "flat")
    ''
    """
    if layout == "flat" or not product_id:
        return ""
    return safe_filename(product_id)


def _with_id(name, archive_id):
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    tail = f".{ext}" if ext else ""
    return safe_filename(f"{stem}_{archive_id}{tail}")


def place(entries, *, layout="flat", names="archive_id"):
    """Add ``folder`` and ``local_name`` to each entry (dicts of ``file_entries``).

    ``local_name`` is "" when the server's name is kept (``names='archive_id'``,
    or no ``original_filename`` known).

    Examples
    --------
    >>> entries = [{"archive_id": "A.1", "product_id": "P.1", "original_filename": "x.png"},
    ...            {"archive_id": "A.2", "product_id": "P.1", "original_filename": "X.png"}]
    >>> [(e["folder"], e["local_name"]) for e in place(entries, layout="product",
    ...                                                  names="original")]
    [('P.1', 'x_A.1.png'), ('P.1', 'X_A.2.png')]
    """
    check_layout(layout, names)
    taken = {}
    for entry in entries:
        entry["folder"] = folder_of(entry.get("product_id", ""), layout)
        original = entry.get("original_filename") or ""
        entry["local_name"] = safe_filename(original, fallback=None) \
            if names == "original" and original else ""
        if entry["local_name"]:
            key = (entry["folder"], entry["local_name"].casefold())
            taken.setdefault(key, []).append(entry)
    for group in taken.values():
        if len(group) > 1:
            for entry in group:
                entry["local_name"] = _with_id(entry["local_name"], entry["archive_id"])
    return entries
