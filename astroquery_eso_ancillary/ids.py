# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
ESO identifiers: the shapes of product and file ids, and their checks.

A product id (``dp_id``, ``product_id``) looks like
``ADP.2024-03-19T05:58:04.407``; an archive id names one file and may take
more forms (raw files, ``.Z`` names). Every id that goes into a query or a
download URL is checked here first, so that nothing else can reach ADQL or a
URL path.
"""
import re

__all__ = ["ARCHIVE_ID_SHAPE", "ID_SHAPE", "PRODUCT_ID_COLUMNS", "as_product_ids",
           "check_archive_id", "check_id", "check_product_id"]

#: The shape of an ESO product or file id: ``ADP.2024-03-19T05:58:04.407``.
ID_SHAPE = r"^[A-Z][A-Z0-9_]*\.\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$"
_PRODUCT_ID_RE = re.compile(ID_SHAPE)

#: ESO archive ids (file ids): letters, digits and . : _ + - (no separators, no "..").
ARCHIVE_ID_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,199}$"
_ARCHIVE_ID_RE = re.compile(ARCHIVE_ID_SHAPE)

#: Column names under which a table of products carries the product id (``ARCFILE``:
#: the product column of astroquery 0.4.11's ``query_surveys``).
PRODUCT_ID_COLUMNS = ("product_id", "dp_id", "DP.ID", "ARCFILE")


def check_id(value, shape, *, what, example, accepted):
    """Return ``value`` stripped, after checking it against the regex ``shape``.

    A ValueError names the bad value, an ``example`` and what is ``accepted``.

    Examples
    --------
    >>> check_id(" ADP.1 ", re.compile(r"^ADP\\.\\d$"), what="id", example="ADP.1",
    ...          accepted="ADP. and a digit")
    'ADP.1'
    """
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        raise TypeError(f"A {what} must be a string, got {type(value).__name__}: {value!r}")
    text = value.strip()
    if not shape.match(text) or ".." in text:
        raise ValueError(f"Invalid {what} {value!r}: expected an ESO id such as "
                         f"{example!r} ({accepted}).")
    return text


def check_product_id(value):
    """Return a product id after checking it against ESO's id shape.

    Examples
    --------
    >>> check_product_id(" ADP.2024-03-19T05:58:04.407 ")
    'ADP.2024-03-19T05:58:04.407'
    """
    return check_id(value, _PRODUCT_ID_RE, what="product id", example="ADP.2024-03-19T05:58:04.407",
                    accepted=f"pattern {ID_SHAPE}")


def as_product_ids(products):
    """Turn a str, list, Column or Table of products into a list of unique ids.

    Order is kept; repeated ids are dropped. A table must have a
    ``product_id``, ``dp_id``, ``DP.ID`` or ``ARCFILE`` column (the last is
    what astroquery 0.4.11's ``query_surveys`` returns). A str may list several
    ids, comma-separated (as ESO's own ``query_ancillary(dp_id=...)`` takes them).

    Examples
    --------
    >>> as_product_ids(["ADP.2024-03-19T05:58:04.407", "ADP.2024-03-19T05:58:04.407"])
    ['ADP.2024-03-19T05:58:04.407']
    >>> as_product_ids("ADP.2024-03-19T05:58:04.407, ADP.2021-04-12T12:27:33.887")
    ['ADP.2024-03-19T05:58:04.407', 'ADP.2021-04-12T12:27:33.887']
    """
    if products is None:
        raise ValueError("No product ids given.")
    colnames = getattr(products, "colnames", None)
    if colnames is not None:  # a Table
        for name in PRODUCT_ID_COLUMNS:
            if name in colnames:
                products = products[name]
                break
        else:
            raise ValueError("A table of products needs a column named one of "
                             f"{', '.join(PRODUCT_ID_COLUMNS)}; it has {', '.join(colnames)}.")
    if isinstance(products, bytes):
        products = products.decode("ascii", "replace")
    if isinstance(products, str):
        products = [p for p in products.split(",") if p.strip()] or [products]
    elif isinstance(products, dict) or not hasattr(products, "__iter__"):
        raise TypeError("product ids must be a str, a list of str, a Column or a Table, "
                        f"not {type(products).__name__}.")
    if getattr(products, "mask", None) is not None and getattr(products.mask, "any", bool)():
        raise ValueError("The product ids contain masked (missing) values.")
    ids, bad = [], []
    for value in products:
        if isinstance(value, str | bytes):
            try:
                ids.append(check_product_id(value))
                continue
            except ValueError:
                pass
        bad.append(value)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise ValueError(f"Invalid product id(s) ({len(bad)}): {shown}. Expected ESO ids "
                         f"such as 'ADP.2024-03-19T05:58:04.407' (pattern {ID_SHAPE}).")
    if not ids:
        raise ValueError("No product ids given (the list is empty).")
    return list(dict.fromkeys(ids))


def check_archive_id(value):
    """Return an archive id after checking it can safely go into a download URL.

    Examples
    --------
    >>> check_archive_id("ADP.2016-06-01T14:07:30.137")
    'ADP.2016-06-01T14:07:30.137'
    """
    return check_id(value, _ARCHIVE_ID_RE, what="archive id",
                    example="ADP.2016-06-01T14:07:30.137",
                    accepted="letters, digits and . : _ + -")
