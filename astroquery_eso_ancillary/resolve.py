# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
What the ids given to ``download_ancillary`` stand for.

An ESO product id is also the archive id of the product's science file, so
an id alone is ambiguous. ``download_ancillary`` settles it as the
``eso-ancillary download`` command does:

- an id that is a product (``phase3v2.product_files.product_id``, or an
  obsolete product that only DataLink knows) means that product's files of
  the requested categories (default ``'ANCILLARY.*'``);
- an id that is the archive id of one file (``archive_id``, or a raw file
  that DataLink names) means that file;
- an id that is neither becomes an error row of the manifest that says so.

This module decides from rows already fetched (no I/O): `classify` takes
the look-up results and returns the files to fetch and the ids left over.
"""
from dataclasses import dataclass, field

from astropy.table import MaskedColumn, Table

from . import tables
from .datalink import ID_PREFIX, product_file_rows

__all__ = ["DEFAULT_CATEGORIES", "FILE_COLUMNS", "Resolution", "classify", "links_to_files"]

#: The categories a product id stands for unless ``categories=`` says otherwise.
DEFAULT_CATEGORIES = "ANCILLARY.*"

#: The columns of the files table `classify` returns.
FILE_COLUMNS = ("product_id", "archive_id", "eso_category", "extension", "original_filename",
                "access_url", "access_estsize")


@dataclass
class Resolution:
    """The outcome of `classify`.

    ``files``: rows to download (`FILE_COLUMNS`), in the order of the ids;
    ``products``/``archive_files``: the ids found in each role; ``unknown``:
    ids that are neither; ``empty``: product ids without a file of the
    categories asked for.
    """

    files: Table
    products: list = field(default_factory=list)
    archive_files: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    empty: list = field(default_factory=list)


def _rows(table):
    out = []
    if table is None or len(table) == 0:
        return out
    for row in table:
        size = tables.cell(row, tables.SIZE_COLUMN)
        try:
            size = float(size) if size else None
        except ValueError:
            size = None
        out.append({"product_id": tables.cell(row, "product_id"),
                    "archive_id": tables.cell(row, "archive_id"),
                    "eso_category": tables.cell(row, "eso_category"),
                    "extension": tables.cell(row, "extension"),
                    "original_filename": tables.cell(row, "original_filename"),
                    "access_url": tables.cell(row, "access_url"),
                    "access_estsize": size})
    return out


def _table(rows):
    names = FILE_COLUMNS[:-1]
    table = Table([[row[n] for row in rows] for n in names], names=names,
                  dtype=[str] * len(names))
    sizes = [row["access_estsize"] for row in rows]
    table["access_estsize"] = MaskedColumn([s if s is not None else 0.0 for s in sizes],
                                           mask=[s is None for s in sizes], dtype="f8",
                                           unit="kbyte")
    return table


def _is_single_file(rows, ident):
    # DataLink answers for a raw file as for a product: one #this row. A product
    # has ancillary (#auxiliary) rows or a SCIENCE #this row.
    return (len(rows) == 1 and rows[0]["archive_id"] == ident
            and not rows[0]["eso_category"].upper().startswith("SCIENCE"))


def classify(ids, *, by_product=None, by_archive=None, by_datalink=None, categories=None):
    """Decide what each id stands for, from rows found by the three look-ups.

    Parameters
    ----------
    ids : list of str
        The ids given, checked, repeats removed.
    by_product : `~astropy.table.Table`, optional
        ``phase3v2.product_files`` rows whose ``product_id`` is one of ``ids``
        (every file of those products).
    by_archive : `~astropy.table.Table`, optional
        ``phase3v2.product_files`` rows whose ``archive_id`` is one of ``ids``.
    by_datalink : `~astropy.table.Table`, optional
        DataLink ``#this``/``#auxiliary`` rows as product-file rows
        (`~astroquery_eso_ancillary.datalink.product_file_rows`) of the other ids.
    categories : str or list of str, optional
        Which files of a product to keep; default `DEFAULT_CATEGORIES`.

    Returns
    -------
    `Resolution`

    Examples
    --------
    >>> files = Table({"product_id": ["P.1", "P.1"], "archive_id": ["P.1", "A.2"],
    ...                "eso_category": ["SCIENCE.SPECTRUM", "ANCILLARY.PREVIEW"]})
    >>> found = classify(["P.1", "A.2", "X.3"], by_product=files, by_archive=files[1:])
    >>> found.files["archive_id"].tolist(), found.unknown
    (['A.2', 'A.2'], ['X.3'])
    """
    categories = DEFAULT_CATEGORIES if categories is None else categories
    of_product, of_archive = {}, {}
    for row in _rows(by_product):
        of_product.setdefault(row["product_id"], []).append(row)
    for row in _rows(by_archive):
        of_archive.setdefault(row["archive_id"], row)
    linked = {}
    for row in _rows(by_datalink):
        linked.setdefault(row["product_id"], []).append(row)
    result = Resolution(Table())
    rows = []
    for ident in ids:
        if ident in of_product or (ident in linked and not _is_single_file(linked[ident],
                                                                            ident)):
            members = of_product.get(ident) or linked[ident]
            kept = tables.filter_categories(_table(members), categories)
            result.products.append(ident)
            if not len(kept):
                result.empty.append(ident)
            rows.extend(_rows(kept))
        elif ident in of_archive:
            result.archive_files.append(ident)
            rows.append(of_archive[ident])
        elif ident in linked:
            result.archive_files.append(ident)
            rows.extend(linked[ident])
        else:
            result.unknown.append(ident)
    result.files = _table(rows)
    return result


def links_to_files(links):
    """The files named by rows of ``get_datalinks`` (``#this`` and ``#auxiliary`` rows).

    Parameters
    ----------
    links : `~astropy.table.Table`
        With DataLink columns (``ID``, ``access_url``, ``semantics`` ...).

    Returns
    -------
    `~astropy.table.Table`
        Product-file rows (`FILE_COLUMNS`).

    Examples
    --------
    >>> links = Table({"ID": ["ivo://eso.org/ID?P.1"] * 2,
    ...                "access_url": ["https://x/dataPortal/file/A.1", "https://x/preview"],
    ...                "semantics": ["#auxiliary", "#preview"], "error_message": ["", ""],
    ...                "eso_category": ["ANCILLARY.PREVIEW", ""]})
    >>> links_to_files(links)["archive_id"].tolist()
    ['A.1']
    """
    missing = [name for name in ("ID", "access_url", "semantics") if name not in links.colnames]
    if missing:
        raise ValueError(f"A table of DataLink rows needs the columns {', '.join(missing)}; "
                         f"it has {', '.join(links.colnames) or 'no columns'}.")
    if "error_message" not in links.colnames:
        links = links.copy()
        links["error_message"] = [""] * len(links)
    products = []
    for ident in tables.texts(links, "ID"):
        pid = ident[len(ID_PREFIX):] if ident.startswith(ID_PREFIX) else ident
        if pid not in products:
            products.append(pid)
    return _table(_rows(product_file_rows(links, products)))
