# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Shaping result tables: column names, cell text, row order, units and meta.

Everything the package does to a table after the service answered is here,
once: the size column's name (`SIZE_COLUMN`, whatever the service calls it),
the text of a cell (`text`, `texts`, `cell`), exact client-side filters
(`refine`, `filter_categories`), the documented row order (`order_rows`),
units, descriptions and meta from ``TAP_SCHEMA`` (`describe`), the columns
help (`schema_help`) and the merge of ``phase3v2.product_files`` rows with
DataLink rows (`merge_product_files`).
"""
import datetime
import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import Column, MaskedColumn, Table, vstack

from . import adql

__all__ = ["SIZE_COLUMN", "SIZE_COLUMN_NAMES", "ColumnInfo", "Schema", "cell", "describe",
           "filter_categories", "fixed_width_strings", "merge_product_files", "order_rows",
           "refine", "schema_help", "text", "texts"]

#: The size column is returned under this name whatever the service calls it.
SIZE_COLUMN = "access_estsize"
#: Names the size column of phase3v2.product_files has had, newest first.
SIZE_COLUMN_NAMES = ("access_estsize", "size_kb")


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a TAP table, from ``TAP_SCHEMA.columns``."""

    name: str
    datatype: str = ""
    unit: str = ""
    description: str = ""

    @property
    def kind(self):
        return adql.column_kind(self.datatype)


@dataclass(frozen=True)
class Schema:
    """The columns of ``phase3v2.product_files`` and ``ivoa.ObsCore`` on one service."""

    product_files: dict
    obscore: dict

    @property
    def size_column(self):
        """The service's name of the estimated-size column (None if it has none)."""
        for name in SIZE_COLUMN_NAMES:
            if name in self.product_files:
                return name
        return None


# -- cells -------------------------------------------------------------------------------

def text(value):
    """The text of one cell: "" for None or masked, bytes decoded.

    Examples
    --------
    >>> text(b"ADP.1"), text(None), text(np.ma.masked), text(3)
    ('ADP.1', '', '', '3')
    """
    if value is None or value is np.ma.masked or getattr(value, "mask", False) is True:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if str(value) == "--" else str(value)


def texts(table, name):
    """The values of a column as a list of str ("" for masked), fast on large tables.

    Examples
    --------
    >>> texts(Table({"a": ["x", "y"]}), "a")
    ['x', 'y']
    """
    return [text(v) for v in table[name].tolist()]


def cell(row, name):
    """The stripped text of column ``name`` in ``row`` ("" when the table has no such column).

    Examples
    --------
    >>> row = Table({"a": [" x "]})[0]
    >>> cell(row, "a"), cell(row, "b")
    ('x', '')
    """
    if name not in row.colnames:
        return ""
    value = row[name]
    if np.ma.isMaskedArray(value) and value.mask.all():
        return ""
    return text(value).strip()


# -- exact filters on the client ----------------------------------------------------------

def refine(table, refinements):
    """Keep the rows that pass every exact filter (select item, column, PatternSet).

    The service was sent a LIKE that selects a superset (ADQL has no ESCAPE);
    this makes the selection exact.

    Examples
    --------
    >>> ps = adql.compile_patterns("ES_SFLA_*", what="original_filename")
    >>> t = Table({"original_filename": ["ES_SFLA_1.fits", "ES_SFLAB1.fits"]})
    >>> texts(refine(t, [("f.original_filename", "original_filename", ps)]),
    ...       "original_filename")
    ['ES_SFLA_1.fits']
    """
    if not refinements or len(table) == 0:
        return table
    keep = [True] * len(table)
    for _, name, patterns in refinements:
        for i, value in enumerate(texts(table, name)):
            keep[i] = keep[i] and patterns.match(value)
    return table[keep]


def filter_categories(table, categories):
    """Keep the rows whose ``eso_category`` matches ``categories`` (None: all rows).

    Examples
    --------
    >>> t = Table({"eso_category": ["ANCILLARY.PREVIEW", "SCIENCE.CUBE.IFS"]})
    >>> texts(filter_categories(t, "ancillary.*"), "eso_category")
    ['ANCILLARY.PREVIEW']
    """
    if categories is None:
        return table
    patterns = adql.compile_patterns(categories, what="categories", category=True)
    if "eso_category" not in table.colnames:
        raise ValueError("categories= needs an 'eso_category' column in the files table; it "
                         f"has {', '.join(table.colnames) or 'no columns'}.")
    if len(table) == 0:
        return table
    return table[np.array([patterns.match(v) for v in texts(table, "eso_category")],
                          dtype=bool)]


# -- order -------------------------------------------------------------------------------

def _sort_key(value):
    if value is None or getattr(value, "mask", False) is True or text(value) == "":
        return (0, "")
    if isinstance(value, (bytes, str)):
        return (1, text(value))
    return (1, value)


def order_rows(table, *, product_ids=None, order_by=None, descending=True, merged=False):
    """Drop repeated files and put rows in the documented order.

    With ``order_by``, the service's order is kept (re-sorted stably when
    several chunks were merged). Otherwise rows are grouped by product, in
    the order of ``product_ids`` when given (else by product id), the
    science file first, then by ``archive_id``.

    Examples
    --------
    >>> t = Table({"product_id": ["B", "A", "B", "B"], "archive_id": ["B.2", "A", "B", "B.2"]})
    >>> texts(order_rows(t, product_ids=["B", "A"]), "archive_id")
    ['B', 'B.2', 'A']
    """
    if len(table) == 0:
        return table
    archive_ids = texts(table, "archive_id")
    seen, keep = set(), []
    for i in range(len(table)):
        if archive_ids[i] not in seen:
            seen.add(archive_ids[i])
            keep.append(i)
    if order_by:
        if merged:
            values = table[order_by].tolist()
            keep.sort(key=lambda i: _sort_key(values[i]), reverse=descending)
        return table[keep]
    products = texts(table, "product_id")
    position = {pid: n for n, pid in enumerate(product_ids or ())}
    keep.sort(key=lambda i: (position.get(products[i], len(position)), products[i],
                             archive_ids[i] != products[i], archive_ids[i]))
    return table[keep]


# -- column types ------------------------------------------------------------------------

def fixed_width_strings(table):
    """Turn ``object`` columns of text into fixed-width unicode columns, in place.

    pyvo and astropy's VOTable reader give variable-length text as ``object``
    columns, which FITS and HDF5 cannot write, ECSV writes as JSON
    (``\"\"\"ADP...\"\"\"``) and pandas keeps as objects. Masked cells stay masked
    (their text is ""). Columns holding anything but text are left alone.

    Examples
    --------
    >>> t = Table({"a": np.array(["x", "yz"], dtype=object), "n": [1, 2]})
    >>> fixed_width_strings(t)["a"].dtype, t["n"].dtype.kind
    (dtype('<U2'), 'i')
    """
    for name in table.colnames:
        column = table[name]
        if column.dtype.kind != "O":
            continue
        mask = np.ma.getmaskarray(column)
        data = np.ma.getdata(column)
        # Python-level work on a list, once per column: about 10x faster than
        # looping over the array, and an explicit width makes astype 6x faster.
        values = (data[~mask] if mask.any() else data).tolist()
        kinds = set(map(type, values))
        if not kinds <= {str, np.str_, bytes, np.bytes_}:
            continue  # arrays, numbers: not ours to flatten
        if not kinds <= {str, np.str_}:
            data = np.array([text(v) for v in data.tolist()], dtype=object)
            values = (data[~mask] if mask.any() else data).tolist()
        width = max(map(len, values), default=0) or 1
        filled = np.where(mask, "", data) if mask.any() else data
        new = MaskedColumn(filled.astype(f"U{width}"), name=name, mask=mask, unit=column.unit,
                           description=column.description, format=column.format,
                           meta=column.meta, copy=False)
        table.replace_column(name, new, copy=False)
    return table


# -- units, descriptions, meta --------------------------------------------------------------

def describe(table, schema, *, query, url, maxrec=None):
    """Name the size column ``access_estsize`` (kB), make text columns fixed-width
    unicode (`fixed_width_strings`), copy units and descriptions from
    TAP_SCHEMA and record the query in ``table.meta``.

    Examples
    --------
    >>> schema = Schema({"size_kb": ColumnInfo("size_kb", "long", "", "Size")}, {})
    >>> t = describe(Table({"size_kb": [3]}), schema, query="SELECT ...", url="http://x")
    >>> t.colnames, t["access_estsize"].unit, t.meta["query"]
    (['access_estsize'], Unit("kbyte"), 'SELECT ...')
    """
    size = schema.size_column
    if size and size != SIZE_COLUMN and size in table.colnames:
        table.rename_column(size, SIZE_COLUMN)
    fixed_width_strings(table)
    infos = {**schema.obscore, **schema.product_files}
    for name in table.colnames:
        info = infos.get(size if name == SIZE_COLUMN and size else name)
        column = table[name]
        if info is not None and info.description:
            column.description = info.description
        if info is not None and info.unit:
            unit = u.Unit(info.unit, parse_strict="silent")
            if not isinstance(unit, u.UnrecognizedUnit):
                column.unit = unit
        if name == SIZE_COLUMN:
            column.unit = u.kB
    table.meta.clear()
    table.meta["query"] = query[0] if isinstance(query, list) and len(query) == 1 else query
    table.meta["url"] = url
    table.meta["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    if maxrec is not None:
        table.meta["maxrec"] = maxrec
    return table


def schema_help(schema):
    """A text listing the columns usable in ``columns``/``column_filters``/``obscore_filters``.

    Examples
    --------
    >>> schema = Schema({"archive_id": ColumnInfo("archive_id", "char", "", "File id")}, {})
    >>> print(schema_help(schema).splitlines()[1])
      archive_id  char             File id
    """
    lines = []
    for title, columns in ((f"{adql.PRODUCT_FILES} (columns, column_filters, order_by)",
                            schema.product_files),
                           (f"{adql.OBSCORE} (obscore_filters; columns/order_by when not in "
                            f"{adql.PRODUCT_FILES})", schema.obscore)):
        lines.append(f"Columns of {title}:")
        width = max((len(n) for n in columns), default=4)
        for name, info in columns.items():
            shown = SIZE_COLUMN if name == schema.size_column else name
            unit = "kB" if shown == SIZE_COLUMN and columns is schema.product_files \
                else info.unit
            lines.append(f"  {shown:<{width}}  {info.datatype:<8} {unit or '':<7} "
                         f"{info.description}".rstrip())
        lines.append("")
    return "\n".join(lines)


# -- product files and DataLink rows ----------------------------------------------------------

def _as_dtype_of(values, column):
    """``values`` (from a DataLink table) as a masked column shaped like ``column``."""
    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else \
        np.zeros(len(values), dtype=bool)
    if column.dtype.kind in "USO":
        data = [text(v) for v in values.tolist()]
        return MaskedColumn(data, mask=mask, dtype=object if column.dtype.kind == "O" else str)
    try:
        data = np.ma.filled(values, 0).astype(column.dtype) if len(values) else \
            np.zeros(0, dtype=column.dtype)
    except (TypeError, ValueError):
        # The TAP column is of another kind (e.g. an empty result typed as text):
        # keep the DataLink values as they are.
        return MaskedColumn(values, mask=mask)
    return MaskedColumn(data, mask=mask, dtype=column.dtype)


def merge_product_files(table, extra, product_ids):
    """Add DataLink rows to a ``phase3v2.product_files`` result, tagged by ``source``.

    Every row gets ``source`` (``'product_files'`` or ``'datalink'``); DataLink
    rows fill the table's columns they know (others masked); rows are then
    grouped by product in the order of ``product_ids``, science file first.

    Examples
    --------
    >>> t = Table({"product_id": ["ADP.2"], "archive_id": ["ADP.2"]})
    >>> e = Table({"product_id": ["ADP.1"], "archive_id": ["ADP.1"], "source": ["datalink"]})
    >>> [str(s) for s in merge_product_files(t, e, ["ADP.1", "ADP.2"])["source"]]
    ['datalink', 'product_files']
    """
    table = table.copy(copy_data=False)
    table["source"] = Column(["product_files"] * len(table), dtype="U16")
    if extra is None or len(extra) == 0:
        return table
    meta = dict(table.meta)
    added = Table(masked=True)
    for name in table.colnames:
        column = table[name]
        if name in extra.colnames:
            added[name] = _as_dtype_of(extra[name], column)
        else:
            added[name] = MaskedColumn(np.zeros(len(extra), dtype=column.dtype),
                                       mask=np.ones(len(extra), dtype=bool))
        added[name].unit = column.unit
        added[name].description = column.description
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metadata merge conflicts
        merged = vstack([table, added], join_type="exact", metadata_conflicts="silent")
    merged = order_rows(merged, product_ids=product_ids)
    merged.meta.clear()
    merged.meta.update(meta)
    return merged
