# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The tables the emulated archive publishes: names, columns, types, units, UCDs, utypes.

One place for the schema that the generator (``data.py``), the ADQL engine
(``engine.py``) and the VOSI documents (through TAP_SCHEMA) all follow: the
data tables ``ivoa.ObsCore`` and ``phase3v2.product_files``, the foreign key
between them, and the TAP 1.1 ``TAP_SCHEMA`` tables themselves. It imports
nothing else of the emulator, so every module can import it.

Examples
--------
>>> from astroquery_eso_ancillary.emulator.schema import published_tables
>>> [t.qualified_name for t in published_tables()][:3]
['ivoa.ObsCore', 'phase3v2.product_files', 'TAP_SCHEMA.schemas']
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FOREIGN_KEYS",
    "SCHEMAS",
    "SIZE_COLUMNS",
    "TAP_SCHEMA_TABLES",
    "ColumnDef",
    "TableDef",
    "archive_tables",
    "published_tables",
]

#: Accepted names of the file size column (``size_kb`` is the pre-2025 name).
SIZE_COLUMNS = ("access_estsize", "size_kb")

#: The published schemas and their descriptions, in TAP_SCHEMA.schemas order.
SCHEMAS = (("ivoa", "IVOA standard tables (ObsCore)"),
           ("phase3v2", "ESO Phase 3 product and file tables"),
           ("TAP_SCHEMA", "Metadata of this TAP service"))

@dataclass(frozen=True)
class ColumnDef:
    """One column of a published table, as TAP_SCHEMA.columns describes it.

    ``datatype`` is a VOTable datatype (``char``, ``int``, ``long``, ``double``);
    ``arraysize`` is ``"*"`` for strings.
    """

    name: str
    datatype: str
    unit: str = ""
    ucd: str = ""
    description: str = ""
    arraysize: str | None = None
    xtype: str | None = None
    indexed: bool = False
    principal: bool = True
    utype: str = ""


@dataclass(frozen=True)
class TableDef:
    """A published table: schema, name, description and its `ColumnDef` columns."""

    schema: str
    name: str
    description: str
    columns: tuple
    utype: str = ""

    @property
    def qualified_name(self):
        """``schema.name``, as TAP_SCHEMA.tables spells it."""
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self):
        """The column names, in table order."""
        return [c.name for c in self.columns]


def _char(name, ucd, description, *, indexed=False, xtype=None, principal=True):
    return ColumnDef(name, "char", "", ucd, description, "*", xtype, indexed, principal)


def _num(name, datatype, unit, ucd, description, *, indexed=False, principal=True):
    return ColumnDef(name, datatype, unit, ucd, description, None, None, indexed, principal)


def archive_tables(size_column="access_estsize"):
    """The two published data tables, with the size column named ``size_column``.

    Parameters
    ----------
    size_column : str
        ``"access_estsize"`` (ESO today) or ``"size_kb"`` (ESO before 2025).

    Returns
    -------
    tuple of TableDef
        ``(ivoa.ObsCore, phase3v2.product_files)``.

    Examples
    --------
    >>> obscore, files = archive_tables("size_kb")
    >>> files.column_names[6]
    'size_kb'
    """
    if size_column not in SIZE_COLUMNS:
        raise ValueError(f"size_column must be one of {SIZE_COLUMNS}, not {size_column!r}")
    obscore = TableDef("ivoa", "ObsCore", "IVOA ObsCore: one row per Phase 3 product", (
        _char("dp_id", "meta.id;meta.main", "ESO product identifier (ADP.*)", indexed=True),
        _char("obs_publisher_did", "meta.ref.ivoid", "IVOA publisher dataset identifier"),
        _char("obs_collection", "meta.id", "Phase 3 collection", indexed=True),
        _char("obs_id", "meta.id", "Observation identifier"),
        _char("facility_name", "meta.id;instr.tel", "Telescope"),
        _char("instrument_name", "meta.id;instr", "Instrument", indexed=True),
        _char("dataproduct_type", "meta.id", "image, spectrum, cube or measurements"),
        _num("calib_level", "int", "", "meta.code;obs.calib", "Calibration level (2 or 3)"),
        _char("target_name", "meta.id;src", "Target as given by the PI or survey"),
        _num("s_ra", "double", "deg", "pos.eq.ra", "Right ascension (ICRS)"),
        _num("s_dec", "double", "deg", "pos.eq.dec", "Declination (ICRS)"),
        _num("s_fov", "double", "deg", "phys.angSize;instr.fov", "Field of view diameter"),
        _char("s_region", "pos.outline;obs.field", "Footprint (STC-S)", xtype="adql:REGION"),
        _num("s_resolution", "double", "arcsec", "pos.angResolution", "Spatial resolution"),
        _num("t_min", "double", "d", "time.start;obs.exposure", "Start time (MJD)"),
        _num("t_max", "double", "d", "time.end;obs.exposure", "Stop time (MJD)"),
        _num("t_exptime", "double", "s", "time.duration;obs.exposure", "Exposure time"),
        _num("em_min", "double", "m", "em.wl;stat.min", "Shortest wavelength"),
        _num("em_max", "double", "m", "em.wl;stat.max", "Longest wavelength"),
        _num("em_res_power", "double", "", "spect.resolution", "Spectral resolving power"),
        _char("o_ucd", "meta.ucd", "UCD of the observable"),
        _char("proposal_id", "meta.id;obs.proposal", "ESO programme identifier"),
        _char("obs_release_date", "time.release", "Date the product becomes public",
              xtype="timestamp"),
        _char("access_url", "meta.ref.url", "DataLink URL of the product"),
        _char("access_format", "meta.code.mime", "Format of access_url"),
        _num("access_estsize", "long", "kbyte", "phys.size;meta.file",
             "Estimated size of the science file"),
        _char("release_description", "meta.ref.url", "Phase 3 release description"),
    ))
    files = TableDef("phase3v2", "product_files",
                     "Every file (science and ancillary) of every current Phase 3 product", (
        _char("product_id", "meta.id", "The product (ivoa.ObsCore.dp_id)", indexed=True),
        _char("archive_id", "meta.id;meta.file", "The file; equals product_id for the "
              "science file", indexed=True),
        _char("eso_category", "meta.code.class", "SCIENCE.* or ANCILLARY.* category",
              indexed=True),
        _char("extension", "meta.code.mime", "File type (FITS, PNG, TAR, LOG ...)"),
        _char("original_filename", "meta.id;meta.file", "Name before ingestion (not unique)"),
        _char("access_url", "meta.ref.url", "Download URL of the file"),
        _num(size_column, "long", "kbyte", "phys.size;meta.file", "Estimated file size"),
        _num("internal_file_id", "long", "", "meta.id", "Internal file number"),
    ))
    return obscore, files


#: Foreign keys published in TAP_SCHEMA.keys: (from_table, target_table, [(from, to)]).
FOREIGN_KEYS = (
    ("phase3v2.product_files", "ivoa.ObsCore", (("product_id", "dp_id"),)),
    # TAP 1.1 section 4: TAP_SCHEMA describes its own links too.
    ("TAP_SCHEMA.tables", "TAP_SCHEMA.schemas", (("schema_name", "schema_name"),)),
    ("TAP_SCHEMA.columns", "TAP_SCHEMA.tables", (("table_name", "table_name"),)),
    ("TAP_SCHEMA.keys", "TAP_SCHEMA.tables", (("from_table", "table_name"),)),
    ("TAP_SCHEMA.keys", "TAP_SCHEMA.tables", (("target_table", "table_name"),)),
    ("TAP_SCHEMA.key_columns", "TAP_SCHEMA.keys", (("key_id", "key_id"),)),
)



def _c(name, datatype="char", description="", *, indexed=False):
    arraysize = "*" if datatype == "char" else None
    return ColumnDef(name, datatype, "", "", description, arraysize, None, indexed, True)


#: TAP 1.1's TAP_SCHEMA tables, published in TAP_SCHEMA itself.
TAP_SCHEMA_TABLES = (
    TableDef("TAP_SCHEMA", "schemas", "Schemas published by this service", (
        _c("schema_name", description="Schema name", indexed=True),
        _c("utype"), _c("description"), _c("schema_index", "int"))),
    TableDef("TAP_SCHEMA", "tables", "Tables published by this service", (
        _c("schema_name", description="Schema of the table"),
        _c("table_name", description="Fully qualified table name", indexed=True),
        _c("table_type", description="table or view"), _c("utype"), _c("description"),
        _c("table_index", "int"))),
    TableDef("TAP_SCHEMA", "columns", "Columns of the published tables", (
        _c("table_name", description="Fully qualified table name", indexed=True),
        _c("column_name", description="Column name"),
        _c("datatype", description="VOTable datatype"),
        _c("arraysize", description="VOTable arraysize"),
        _c("xtype", description="VOTable xtype"),
        _c("size", "int", "Deprecated length of the value (TAP 1.0)"),
        _c("description"), _c("utype"), _c("unit", description="VOUnit of the column"),
        _c("ucd", description="UCD of the column"),
        _c("indexed", "int", "1 if the column is indexed"),
        _c("principal", "int", "1 if the column is principal"),
        _c("std", "int", "1 if the column is defined by a standard"),
        _c("column_index", "int", "Order of the column in its table"))),
    TableDef("TAP_SCHEMA", "keys", "Foreign keys between published tables", (
        _c("key_id", description="Key identifier"), _c("from_table"), _c("target_table"),
        _c("description"), _c("utype"))),
    TableDef("TAP_SCHEMA", "key_columns", "Columns of the foreign keys", (
        _c("key_id", description="Key identifier"), _c("from_column"), _c("target_column"))),
)


def published_tables(size_column="access_estsize"):
    """Every published table: the data tables, then TAP_SCHEMA's own.

    Examples
    --------
    >>> len(published_tables("size_kb"))
    7
    """
    return archive_tables(size_column) + TAP_SCHEMA_TABLES
