# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
DataLink: ESO's ``/datalink/links`` service, requested in batches and parsed.

`fetch_links` asks for the links of many products (several ``ID`` parameters
per request, as DataLink allows) and returns the raw rows as one Table;
`product_file_rows` turns the ``#this`` and ``#auxiliary`` rows into rows
shaped like ``phase3v2.product_files``, for products that table does not
list (obsolete or deprecated ones); `~astroquery_eso_ancillary.tables`
merges them with the rows of that table.
"""
import io
import warnings
from urllib.parse import unquote, urlsplit

import numpy as np
from astropy import units as u
from astropy.io import votable
from astropy.table import Column, MaskedColumn, Table, vstack
from pyvo.dal import DALFormatError, DALQueryError
from pyvo.dal.adhoc import DatalinkResults

from . import conf, tables
from .exceptions import EsoQueryError
from .transport import send_with_retries

__all__ = ["ID_PREFIX", "PLACEHOLDER_LENGTH", "fetch_links", "normalise_semantics",
           "product_file_rows"]

#: ESO's DataLink identifiers are this prefix followed by the product id.
ID_PREFIX = "ivo://eso.org/ID?"

#: A ``content_length`` ESO sends when it does not know the size.
PLACEHOLDER_LENGTH = 1000000

#: How many IDs go into one DataLink request by default.
BATCH_SIZE = 50

def normalise_semantics(semantics):
    """Return a set of semantics values (``"auxiliary"`` → ``"#auxiliary"``), or None.

    Examples
    --------
    >>> sorted(normalise_semantics(["this", "#auxiliary"]))
    ['#auxiliary', '#this']
    """
    if semantics is None:
        return None
    if isinstance(semantics, str):
        semantics = [semantics]
    values = set()
    for value in semantics:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"Invalid DataLink semantics {value!r}: expected strings such "
                             f"as '#this', '#auxiliary', '#preview', '#progenitor'.")
        value = value.strip()
        if "://" not in value and not value.startswith("#"):
            value = "#" + value
        values.add(value)
    return values


def _parse(content, url):
    with warnings.catch_warnings():
        # The VOTable parser warns about harmless oddities; the content is checked below.
        warnings.simplefilter("ignore")
        try:
            parsed = votable.parse(io.BytesIO(content), verify="ignore")
        except Exception as exc:
            raise EsoQueryError(f"The DataLink service sent something that is not a VOTable "
                                f"({type(exc).__name__}).", url=url) from None
    try:
        return DatalinkResults(parsed, url=url).to_table()
    except (DALQueryError, DALFormatError) as exc:
        raise EsoQueryError(f"The DataLink service refused the request: {exc.reason}",
                            url=url) from None


def fetch_links(product_ids, *, url, get, batch_size=BATCH_SIZE, timeout=None, forget=None):
    """Fetch the DataLink rows of many products, ``batch_size`` IDs per request.

    Parameters
    ----------
    product_ids : list of str
        Already validated ids (without the ``ivo://`` prefix).
    url : str
        The DataLink ``links`` endpoint.
    get : callable
        ``get(url, params=..., timeout=...)`` returning a `requests.Response`
        (a plain session's ``get``, or a cached or authenticated variant).
    batch_size : int, optional
        IDs per request.
    timeout : float, optional
        Seconds per request; default ``conf.timeout``. Connection errors, 429
        and 5xx are retried as every query is (``conf.max_retries``,
        ``conf.backoff``).
    forget : callable, optional
        Called when an answer turns out not to be a DataLink VOTable, to drop
        it from a cache before the error is raised.

    Returns
    -------
    `~astropy.table.Table`
        All rows, products in the order given.

    Examples
    --------
    >>> import requests
    >>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
    >>> with ArchiveEmulator(products=5) as emu:
    ...     t = fetch_links(["ADP.2024-03-19T05:58:04.407"], url=emu.datalink_url,
    ...                     get=requests.get)
    >>> "#auxiliary" in list(t["semantics"])
    True
    """
    timeout = conf.timeout if timeout is None else timeout
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}.")
    tables = []
    for start in range(0, len(product_ids), int(batch_size)):
        batch = product_ids[start:start + int(batch_size)]
        params = [("ID", ID_PREFIX + pid) for pid in batch]
        response = send_with_retries(lambda params=params: get(url, params=params,
                                                               timeout=timeout), url)
        try:
            if response.status_code != 200:
                raise EsoQueryError(f"The DataLink service answered HTTP "
                                    f"{response.status_code} for {len(batch)} ids starting "
                                    f"with {batch[0]}.", url=url)
            tables.append(_parse(response.content, url))
        except EsoQueryError:
            if forget is not None:
                forget()
            raise
    if not tables:
        return Table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metadata merge conflicts between batches
        table = vstack(tables, join_type="outer", metadata_conflicts="silent") \
            if len(tables) > 1 else tables[0]
    return table


def _archive_id(row):
    # ESO's access_url of a file is .../dataPortal/file/<archive_id>.
    path = urlsplit(tables.text(row["access_url"])).path
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def _extension(origfile, archive_id):
    name = origfile or archive_id
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext.isalnum() or not stem:
        return ""
    return ext.upper()


def product_file_rows(links, product_ids):
    """Turn DataLink ``#this``/``#auxiliary`` rows into product-file rows.

    Rows with an ``error_message`` or other semantics are left out. The size
    becomes ``access_estsize`` in kB (rounded up) unless it is missing or
    ESO's placeholder (1000000 bytes), then it is masked.

    Parameters
    ----------
    links : `~astropy.table.Table`
        Rows from `fetch_links`.
    product_ids : list of str
        The products wanted, in output order.

    Returns
    -------
    `~astropy.table.Table`
        Columns product_id, archive_id, eso_category, extension,
        original_filename, access_url, access_estsize (kB), source ('datalink').

    Examples
    --------
    >>> links = Table({"ID": ["ivo://eso.org/ID?ADP.1"], "semantics": ["#this"],
    ...                "access_url": ["https://x/dataPortal/file/ADP.1"],
    ...                "error_message": [""], "eso_category": ["SCIENCE.IMAGE"],
    ...                "eso_origfile": ["a.fits"], "content_length": [1000000]})
    >>> rows = product_file_rows(links, ["ADP.1"])
    >>> str(rows["archive_id"][0]), str(rows["extension"][0]), bool(rows["access_estsize"].mask[0])
    ('ADP.1', 'FITS', True)
    """
    wanted = {pid: i for i, pid in enumerate(product_ids)}
    out = []
    for row in links:
        if tables.text(row["error_message"]).strip():
            continue
        semantics = tables.text(row["semantics"])
        if semantics not in ("#this", "#auxiliary"):
            continue
        ident = tables.text(row["ID"])
        product_id = ident[len(ID_PREFIX):] if ident.startswith(ID_PREFIX) else ident
        if product_id not in wanted:
            continue
        archive_id = _archive_id(row)
        if not archive_id:
            continue
        origfile = tables.text(row["eso_origfile"]) if "eso_origfile" in row.colnames else ""
        category = tables.text(row["eso_category"]) if "eso_category" in row.colnames else ""
        length = row["content_length"] if "content_length" in row.colnames else None
        try:
            length = None if length is None or length is np.ma.masked else int(length)
        except (TypeError, ValueError):
            length = None
        estsize = None
        if length is not None and length >= 0 and length != PLACEHOLDER_LENGTH:
            estsize = -(-length // 1024)
        order = (wanted[product_id], 0 if semantics == "#this" else 1)
        out.append((order, product_id, archive_id, category,
                    _extension(origfile, archive_id), origfile, tables.text(row["access_url"]),
                    estsize))
    out.sort(key=lambda item: item[0])
    names = ("product_id", "archive_id", "eso_category", "extension", "original_filename",
             "access_url")
    table = Table([[item[k + 1] for item in out] for k in range(len(names))],
                  names=names, dtype=[str] * len(names))
    sizes = [item[7] for item in out]
    table["access_estsize"] = MaskedColumn([s if s is not None else 0 for s in sizes],
                                           mask=[s is None for s in sizes], dtype="i8",
                                           unit=u.kB)
    table["source"] = Column(["datalink"] * len(out), dtype="U16")
    return table
