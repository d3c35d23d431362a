# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's DataLink service: ESO's ``/datalink/links`` VOTable.

Per product: ``#this`` (the science file), one ``#auxiliary`` row per
ancillary file (the same archive_ids as ``phase3v2.product_files``, plus the
files of obsolete products that only DataLink knows), ``#preview`` (PNG, or
PDF for spectra), ``#cutout`` (a SODA service descriptor, for images and
cubes), a few ``#progenitor`` raw files (with ``eso_datalink``), and ESO's
``eso#data_documentation`` row. Per raw file: ``#this``, ``#derivation``,
``eso#calSelector_raw2raw``, ``eso#calSelector_raw2master``, ``eso#night_log``.
Unknown ids get a ``#this`` row whose ``error_message`` starts with
``NotFoundFault``. ``content_length`` is the size in bytes actually served.
"""
import hashlib
import io
import re

from astropy.io.votable.tree import Field, Group, Info, Param, Resource, TableElement, VOTableFile

from . import content

__all__ = ["ID_PREFIX", "extra_body", "extra_target", "links_votable", "preview_is_pdf",
           "progenitors", "raw_index", "raw_meta"]

#: DataLink identifiers are this prefix followed by the archive_id.
ID_PREFIX = "ivo://eso.org/ID?"
ESO_SEMANTICS = "http://archive.eso.org/rdf/datalink/eso#"
DOC_SEMANTICS = ESO_SEMANTICS + "data_documentation"
#: The ID of the SODA service descriptor resource that ``#cutout`` rows point to.
SODA_ID = "soda_sync"
DATALINK_TYPE = "application/x-votable+xml;content=datalink"

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
    """``{raw_id: product_id}`` of every progenitor named by DataLink (the first
    product made from it; every raw file's estimated size is ``RAW_ESTSIZE_KB``).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.data import Archive
    >>> "MUSE.2024-03-07T08:09:46.977" in raw_index(Archive(products=5))
    True
    """
    index = {}
    for product_id, product, files in _products_with_files(archive):
        for raw_id in progenitors(product_id, product, files):
            index.setdefault(raw_id, product_id)
    return index


def raw_meta(raw_id):
    """Header values of a raw file, from its id (``<instrument>.<observation time>``).

    Examples
    --------
    >>> raw_meta("VCAM.2012-01-02T03:04:05.678")["instrument"]
    'VIRCAM'
    """
    prefix, _, stamp = raw_id.partition(".")
    names = {v: k for k, v in _RAW_PREFIX.items()}
    return {"instrument": names.get(prefix, prefix), "date_obs": stamp, "raw": True,
            "object": "UNKNOWN"}


def preview_is_pdf(product):
    """True when a product's ``#preview`` is a PDF (spectra), not a PNG image.

    Examples
    --------
    >>> preview_is_pdf({"dataproduct_type": "spectrum"}), preview_is_pdf(None)
    (True, False)
    """
    return bool(product) and product.get("dataproduct_type") == "spectrum"


def extra_target(archive, kind, name):
    """What ``/previews/<dp_id>`` or ``/documentation/<collection>`` serves.

    Returns
    -------
    tuple or None
        ``(filename, content_type, extension, size)``, or None if there is no such thing.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.data import Archive
    >>> extra_target(Archive(products=0), "previews", "ADP.2024-03-19T05:58:04.407")[1]
    'image/png'
    """
    if kind == "previews":
        product = archive.product(name)
        if product is None and name not in archive.obsolete:
            return None
        return _extra_spec(kind, name, product)
    if kind == "documentation":
        if name not in archive.collections:
            return None
        return _extra_spec(kind, name, None)
    return None


def _extra_spec(kind, name, product):
    if kind == "previews":
        if preview_is_pdf(product):
            return f"{name}_preview.pdf", "application/pdf", "PDF", PREVIEW_BYTES
        return f"{name}_preview.png", "image/png", "PNG", PREVIEW_BYTES
    return f"{name}_release_description.pdf", "application/pdf", "PDF", DOCUMENT_BYTES


def extra_body(raw_ids, kind, name):
    """What ``/nightlog/<raw_id>`` and ``/calselector/<mode>/<raw_id>`` serve.

    Parameters
    ----------
    raw_ids : container of str
        The raw files the emulator knows.
    kind : {"nightlog", "calselector"}
        Which service.
    name : str
        ``<raw_id>`` or ``<mode>/<raw_id>`` (mode ``raw2raw`` or ``raw2master``).

    Returns
    -------
    tuple or None
        ``(filename, content_type, body)``, or None if there is no such thing.

    Examples
    --------
    >>> extra_body({"MUSE.2024-03-07T08:09:46.977"}, "nightlog",
    ...            "MUSE.2024-03-07T08:09:46.977")[0]
    'MUSE.2024-03-07_night_log.txt'
    """
    if kind == "nightlog" and name in raw_ids:
        night = name.partition(".")[2][:10]
        body = (f"Night log {night} ({name.partition('.')[0]})\n"
                f"{name}: observed, weather photometric, seeing 0.8 arcsec\n").encode()
        return f"{name.partition('.')[0]}.{night}_night_log.txt", "text/plain", body
    mode, _, raw_id = name.partition("/")
    if kind == "calselector" and mode in ("raw2raw", "raw2master") and raw_id in raw_ids:
        prefix, _, stamp = raw_id.partition(".")
        wanted = ("BIAS", "FLAT", "WAVE") if mode == "raw2raw" else ("MASTER_BIAS",
                                                                    "MASTER_FLAT")
        digest = hashlib.sha256(raw_id.encode()).digest()
        lines = ["dp_id,category"] + [
            f"{prefix}.{stamp[:11]}{12 + k:02d}:{digest[k] % 60:02d}:"
            f"{digest[k + 4] % 60:02d}.{digest[k + 8] * 3 % 1000:03d},{cat}"
            for k, cat in enumerate(wanted)]
        return f"{raw_id}_{mode}.csv", "text/csv", ("\n".join(lines) + "\n").encode()
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


def _extra_row(emu, ident, kind, name, semantics, description, *, product=None):
    # The target exists (it is named from the product itself): no lookup needed.
    filename, ctype, extension, size = _extra_spec(kind, name, product)
    length = content.file_layout(f"{kind}:{name}", extension, size).size
    return {"ID": ident, "access_url": f"{emu.url}/{kind}/{name}", "semantics": semantics,
            "description": description, "content_type": ctype, "content_length": length,
            "eso_origfile": filename}


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
    rows.append(_extra_row(emu, ident, "previews", product_id, "#preview",
                           "PDF preview of the requested file" if preview_is_pdf(product)
                           else "Preview image of the requested file", product=product))
    if product and product.get("dataproduct_type") in ("image", "cube"):
        rows.append({"ID": ident, "service_def": SODA_ID, "semantics": "#cutout",
                     "description": "Cut out a region of this product (SODA)",
                     "content_type": "application/fits"})
    for raw_id in progenitors(product_id, product, files):
        info = emu.file_info(raw_id, progenitor_of=product_id)
        rows.append({"ID": ident, "access_url": emu.download_url + raw_id,
                     "semantics": "#progenitor", "description": "Raw file used to make "
                     "this product", "content_type": info["content_type"],
                     "content_length": info["size"],
                     "eso_origfile": raw_id + ".fits", "eso_category": "RAW",
                     "eso_datalink": f"{emu.datalink_url}?ID={ID_PREFIX}{raw_id}"})
    collection = _collection_of(product, files)
    if collection:
        rows.append(_extra_row(emu, ident, "documentation", collection, DOC_SEMANTICS,
                               f"Release description of the {collection} collection"))
    return rows


def _raw_rows(emu, ident, raw_id, info, product_id):
    rows = [{"ID": ident, "access_url": emu.download_url + raw_id, "semantics": "#this",
             "description": "Raw file", "content_type": info["content_type"],
             "content_length": info["size"], "eso_origfile": raw_id + ".fits",
             "eso_category": "RAW"}]
    if product_id:
        rows.append({"ID": ident, "access_url": f"{emu.datalink_url}?ID={ID_PREFIX}{product_id}",
                     "semantics": "#derivation", "description": "A product made from this "
                     "raw file (its DataLink)", "content_type": DATALINK_TYPE,
                     "eso_datalink": f"{emu.datalink_url}?ID={ID_PREFIX}{product_id}"})
    for mode, what in (("raw2raw", "raw calibration files"),
                       ("raw2master", "master calibration files")):
        name, ctype, body = extra_body({raw_id}, "calselector", f"{mode}/{raw_id}")
        rows.append({"ID": ident, "access_url": f"{emu.url}/calselector/{mode}/{raw_id}",
                     "semantics": f"{ESO_SEMANTICS}calSelector_{mode}",
                     "description": f"The {what} that calibrate this raw file",
                     "content_type": ctype, "content_length": len(body)})
    name, ctype, body = extra_body({raw_id}, "nightlog", raw_id)
    rows.append({"ID": ident, "access_url": f"{emu.url}/nightlog/{raw_id}",
                 "semantics": f"{ESO_SEMANTICS}night_log",
                 "description": "Night log of the night this file was observed",
                 "content_type": ctype, "content_length": len(body), "eso_origfile": name})
    return rows


def _error_row(ident, message):
    return {"ID": ident, "semantics": "#this", "error_message": message}


def _rows_for(emu, ident):
    archive = emu.archive
    if not ident.startswith(ID_PREFIX):
        return [_error_row(ident, f"UsageFault: {ident!r} is not an ESO identifier; use "
                                  f"{ID_PREFIX}<dp_id>")]
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
        return _raw_rows(emu, ident, key, info, emu.raw_product(key))
    return [_error_row(ident, f"NotFoundFault: {key} is not a known ESO archive identifier")]


def _soda_resource(votable, emu):
    # The service descriptor #cutout rows name in service_def (DataLink 1.1, sec. 4).
    resource = Resource(ID=SODA_ID, type="meta", utype="adhoc:service")
    # Explicit IDs: astropy would reuse the names, which clash with the table's FIELD IDs.
    resource.params.append(Param(votable, name="standardID", ID="soda_standardID",
                                 datatype="char", arraysize="*",
                                 value="ivo://ivoa.net/std/SODA#sync-1.0"))
    resource.params.append(Param(votable, name="accessURL", ID="soda_accessURL",
                                 datatype="char", arraysize="*", value=emu.url + "/soda/sync"))
    group = Group(resource, name="inputParams", ID="soda_inputParams")
    resource.groups.append(group)
    group.entries.append(Param(votable, name="ID", ID="soda_ID", datatype="char",
                               arraysize="*", value="", ref="ID", ucd="meta.id;meta.main"))
    group.entries.append(Param(votable, name="CIRCLE", ID="soda_CIRCLE", datatype="double",
                               arraysize="3", value="", ucd="obs.field", unit="deg",
                               xtype="circle"))
    return resource


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
        kwargs = {"arraysize": "*"} if datatype == "char" else {"unit": "byte"}
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
    if any(row.get("service_def") == SODA_ID for row in rows):
        votable.resources.append(_soda_resource(votable, emu))
    out = io.BytesIO()
    votable.to_xml(out)
    # astropy writes an empty double[3] as "0 0 0", which would make CIRCLE a fixed value;
    # a user-supplied parameter has an empty value.
    return out.getvalue().replace(b'name="CIRCLE" ucd="obs.field" unit="deg" value="0 0 0"',
                                  b'name="CIRCLE" ucd="obs.field" unit="deg" value=""')
