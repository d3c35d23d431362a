# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's DataLink service: ESO's ``/datalink/links`` VOTable.

Per product: ``#this`` (the science file), one ``#auxiliary`` row per
ancillary file (the same archive_ids as ``phase3v2.product_files``, plus the
files of obsolete products that only DataLink knows), ``#preview``, a few
``#progenitor`` raw files, and ESO's ``eso#data_documentation`` row.
Unknown ids get a row whose ``error_message`` starts with ``NotFoundFault``.
"""
import hashlib
import io
import re

from astropy.io.votable.tree import Field, Info, Resource, TableElement, VOTableFile

__all__ = ["ID_PREFIX", "extra_target", "links_votable", "progenitors", "raw_index"]

#: DataLink identifiers are this prefix followed by the archive_id.
ID_PREFIX = "ivo://eso.org/ID?"
DOC_SEMANTICS = "http://archive.eso.org/rdf/datalink/eso#data_documentation"

#: (name, datatype, ucd) of the columns, in ESO's order.
COLUMNS = (
    ("ID", "char", "meta.id;meta.main"),
    ("access_url", "char", "meta.ref.url"),
    ("service_def", "char", "meta.ref"),
    ("error_message", "char", "meta.code.error"),
    ("semantics", "char", "meta.code"),
    ("description", "char", "meta.note"),
    ("content_type", "char", "meta.code.mime"),
    ("content_length", "long", "phys.size;meta.file"),
    ("eso_origfile", "char", "meta.id"),
    ("eso_category", "char", "meta.code.class"),
    ("eso_datalink", "char", "meta.ref.url"),
)

# Raw file names start with the instrument as ESO spells it in raw ids.
_RAW_PREFIX = {"VIRCAM": "VCAM", "OMEGACAM": "OCAM", "HAWKI": "HAWKI", "XSHOOTER": "XSHOOTER"}
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")

PREVIEW_BYTES = 4096
DOCUMENT_BYTES = 8192
#: Raw files are served LZW-compressed (.fits.Z); keep them small.
RAW_ESTSIZE_KB = 64


def _collection_of(product, files):
    if product and product.get("obs_collection"):
        return product["obs_collection"]
    for row in files:
        if row.get("obs_collection"):
            return row["obs_collection"]
    return None


def _instrument_of(product, files):
    if product and product.get("instrument_name"):
        return product["instrument_name"]
    names = [row.get("original_filename") or "" for row in files]
    if any(re.match(r"v20\d{6}_\d{5}", name) for name in names):
        return "VIRCAM"  # VISTA pipeline names (the obsolete VMC product)
    return "RAW"


def progenitors(product_id, product, files, *, limit=3):
    """Raw file ids a product is made from (deterministic, at most ``limit``).

    Taken from the observation times inside the product's original file
    names (as ESO's names carry them), else derived from the product id.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.datalink import progenitors
    >>> progenitors("ADP.1", {"instrument_name": "MUSE"},
    ...             [{"original_filename": "r.MUSE.2024-03-07T08:09:46.977_tpl.log"}])
    ['MUSE.2024-03-07T08:09:46.977']
    """
    instrument = _instrument_of(product, files).upper().replace("-", "")
    prefix = _RAW_PREFIX.get(instrument, instrument)
    stamps = []
    for row in files:
        for stamp in _TIMESTAMP.findall(row.get("original_filename") or ""):
            if stamp not in stamps:
                stamps.append(stamp)
    if not stamps:
        digest = hashlib.sha256(product_id.encode()).digest()
        date = (_TIMESTAMP.search(product_id) or re.search(r"\d{4}-\d\d-\d\d", product_id))
        day = date.group(0)[:10] if date else "2020-01-01"
        for k in range(2):
            h, m, s, ms = digest[4 * k] % 10, digest[4 * k + 1] % 60, digest[4 * k + 2] % 60, \
                digest[4 * k + 3] * 3 % 1000
            stamps.append(f"{day}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}")
    return [f"{prefix}.{stamp}" for stamp in stamps[:limit]]


def _products_with_files(archive):
    for product in archive.products:
        yield product["dp_id"], product, archive.files_of(product["dp_id"])
    for product_id, files in archive.obsolete.items():
        yield product_id, None, files


def raw_index(archive):
    """``{raw_id: estimated size in kB}`` of every progenitor named by DataLink.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.data import Archive
    >>> "MUSE.2024-03-07T08:09:46.977" in raw_index(Archive(products=5))
    True
    """
    index = {}
    for product_id, product, files in _products_with_files(archive):
        for raw_id in progenitors(product_id, product, files):
            index[raw_id] = RAW_ESTSIZE_KB
    return index


def extra_target(archive, kind, name):
    """What ``/previews/<dp_id>`` or ``/documentation/<collection>`` serves.

    Returns
    -------
    tuple or None
        ``(filename, content_type, size)``, or None if there is no such thing.
    """
    if kind == "previews":
        if archive.product(name) is None and name not in archive.obsolete:
            return None
        return f"{name}_preview.png", "image/png", PREVIEW_BYTES
    if kind == "documentation":
        if name not in archive.collections:
            return None
        return f"{name}_release_description.pdf", "application/pdf", DOCUMENT_BYTES
    return None


def _file_row(emu, row, semantics, description):
    info = emu.file_info(row["archive_id"])
    return {"ID": ID_PREFIX + row["product_id"], "access_url": row["access_url"]
            if row.get("access_url") else emu.download_url + row["archive_id"],
            "semantics": semantics, "description": description,
            "content_type": info["content_type"] if info else "application/octet-stream",
            "content_length": info["size"] if info else None,
            "eso_origfile": row.get("original_filename") or "",
            "eso_category": row.get("eso_category") or ""}


def _product_rows(emu, product_id, product, files):
    rows = []
    science = [f for f in files if f["archive_id"] == product_id]
    for row in science:
        rows.append(_file_row(emu, row, "#this", "The science file of this product"))
    for row in files:
        if row["archive_id"] != product_id:
            category = row.get("eso_category") or "ANCILLARY"
            rows.append(_file_row(emu, row, "#auxiliary", f"Ancillary file ({category})"))
    ident = ID_PREFIX + product_id
    rows.append({"ID": ident, "access_url": f"{emu.url}/previews/{product_id}",
                 "semantics": "#preview", "description": "Preview image of the product",
                 "content_type": "image/png", "content_length": PREVIEW_BYTES})
    for raw_id in progenitors(product_id, product, files):
        info = emu.file_info(raw_id)
        rows.append({"ID": ident, "access_url": emu.download_url + raw_id,
                     "semantics": "#progenitor", "description": "Raw file used to make "
                     "this product", "content_type": info["content_type"],
                     "content_length": info["size"],
                     "eso_origfile": raw_id + ".fits", "eso_category": "RAW",
                     "eso_datalink": f"{emu.datalink_url}?ID={ID_PREFIX}{raw_id}"})
    collection = _collection_of(product, files)
    if collection:
        rows.append({"ID": ident, "access_url": f"{emu.url}/documentation/{collection}",
                     "semantics": DOC_SEMANTICS,
                     "description": f"Release description of the {collection} collection",
                     "content_type": "application/pdf", "content_length": DOCUMENT_BYTES})
    return rows


def _rows_for(emu, ident):
    archive = emu.archive
    if not ident.startswith(ID_PREFIX):
        return [{"ID": ident, "error_message": f"UsageFault: {ident!r} is not an ESO "
                 f"identifier; use {ID_PREFIX}<dp_id>"}]
    key = ident[len(ID_PREFIX):]
    product = archive.product(key)
    if product is not None:
        return _product_rows(emu, key, product, archive.files_of(key))
    if key in archive.obsolete:
        return _product_rows(emu, key, None, archive.obsolete[key])
    row = archive.file(key)
    if row is not None:  # a single (ancillary) file: just itself
        return [dict(_file_row(emu, row, "#this", "This file"), ID=ident)]
    info = emu.file_info(key)
    if info is not None:  # a raw progenitor
        return [{"ID": ident, "access_url": emu.download_url + key, "semantics": "#this",
                 "description": "Raw file", "content_type": info["content_type"],
                 "content_length": info["size"], "eso_origfile": key + ".fits",
                 "eso_category": "RAW"}]
    return [{"ID": ident, "error_message": f"NotFoundFault: {key} is not a known "
             f"ESO archive identifier"}]


def links_votable(emu, ids):
    """The DataLink VOTable (bytes) for a list of ``ID`` values.

    Parameters
    ----------
    emu : ArchiveEmulator
        The running emulator (for its archive, URLs and served sizes).
    ids : list of str
        ``ivo://eso.org/ID?<id>`` values, in request order.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
    >>> with ArchiveEmulator(products=5) as emu:
    ...     doc = links_votable(emu, [ID_PREFIX + "ADP.2024-03-19T05:58:04.407"])
    >>> b"#auxiliary" in doc
    True
    """
    rows = []
    for ident in ids:
        rows.extend(_rows_for(emu, ident))
    votable = VOTableFile()
    resource = Resource()
    resource.type = "results"
    votable.resources.append(resource)
    resource.infos.append(Info(name="standardID", value="ivo://ivoa.net/std/DataLink#links-1.1"))
    resource.infos.append(Info(name="QUERY_STATUS", value="OK"))
    table = TableElement(votable)
    resource.tables.append(table)
    for name, datatype, ucd in COLUMNS:
        kwargs = {"arraysize": "*"} if datatype == "char" else {}
        field = Field(votable, name=name, ID=name, datatype=datatype, ucd=ucd, **kwargs)
        if datatype == "long":
            field.values.null = -1
        table.fields.append(field)
    table.create_arrays(len(rows))
    for i, row in enumerate(rows):
        values = []
        mask = []
        for name, datatype, _ in COLUMNS:
            value = row.get(name)
            if datatype == "long":
                values.append(-1 if value is None else int(value))
                mask.append(value is None)
            else:
                values.append("" if value is None else str(value))
                mask.append(value is None or value == "")
        table.array[i] = tuple(values)
        table.array.mask[i] = tuple(mask)
    out = io.BytesIO()
    votable.to_xml(out)
    return out.getvalue()
