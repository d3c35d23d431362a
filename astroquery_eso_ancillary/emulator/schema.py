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
    "OBSCORE_DERIVED",
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


def _char(name, ucd, description, *, indexed=False, xtype=None, principal=True, utype=""):
    return ColumnDef(name, "char", "", ucd, description, "*", xtype, indexed, principal, utype)


def _num(name, datatype, unit, ucd, description, *, indexed=False, principal=True, utype=""):
    return ColumnDef(name, datatype, unit, ucd, description, None, None, indexed, principal,
                     utype)


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
    o = "obscore:"
    obscore = TableDef("ivoa", "ObsCore", "IVOA ObsCore 1.1: one row per Phase 3 product", (
        _char("dp_id", "meta.id;meta.main", "ESO product identifier (ADP.*)", indexed=True),
        _char("obs_publisher_did", "meta.ref.ivoid",
              "IVOA publisher dataset identifier", utype=o + "Curation.PublisherDID"),
        _char("obs_collection", "meta.id", "Phase 3 collection", indexed=True,
              utype=o + "DataID.Collection"),
        _char("obs_id", "meta.id", "Observation identifier", utype=o + "DataID.observationID"),
        _char("facility_name", "meta.id;instr.tel", "Telescope",
              utype=o + "Provenance.ObsConfig.Facility.name"),
        _char("instrument_name", "meta.id;instr", "Instrument", indexed=True,
              utype=o + "Provenance.ObsConfig.Instrument.name"),
        _char("dataproduct_type", "meta.code.class", "image, spectrum, cube or measurements",
              utype=o + "ObsDataset.dataProductType"),
        _num("calib_level", "int", "", "meta.code;obs.calib", "Calibration level (2 or 3)",
             utype=o + "ObsDataset.calibLevel"),
        _char("target_name", "meta.id;src", "Target as given by the PI or survey",
              utype=o + "Target.Name"),
        _num("s_ra", "double", "deg", "pos.eq.ra", "Right ascension (ICRS)",
             utype=o + "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1"),
        _num("s_dec", "double", "deg", "pos.eq.dec", "Declination (ICRS)",
             utype=o + "Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2"),
        _num("s_fov", "double", "deg", "phys.angSize;instr.fov", "Field of view diameter",
             utype=o + "Char.SpatialAxis.Coverage.Bounds.Extent.diameter"),
        _char("s_region", "pos.outline;obs.field", "Footprint (STC-S, as ESO writes it: "
              "POLYGON J2000 ...)", xtype="adql:REGION",
              utype=o + "Char.SpatialAxis.Coverage.Support.Area"),
        _num("s_resolution", "double", "arcsec", "pos.angResolution", "Spatial resolution",
             utype=o + "Char.SpatialAxis.Resolution.Refval.value"),
        _num("t_min", "double", "d", "time.start;obs.exposure", "Start time (MJD)",
             utype=o + "Char.TimeAxis.Coverage.Bounds.Limits.StartTime"),
        _num("t_max", "double", "d", "time.end;obs.exposure", "Stop time (MJD)",
             utype=o + "Char.TimeAxis.Coverage.Bounds.Limits.StopTime"),
        _num("t_exptime", "double", "s", "time.duration;obs.exposure", "Exposure time",
             utype=o + "Char.TimeAxis.Coverage.Support.Extent"),
        _num("em_min", "double", "m", "em.wl;stat.min", "Shortest wavelength",
             utype=o + "Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit"),
        _num("em_max", "double", "m", "em.wl;stat.max", "Longest wavelength",
             utype=o + "Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit"),
        _num("em_res_power", "double", "", "spect.resolution", "Spectral resolving power",
             utype=o + "Char.SpectralAxis.Resolution.ResolPower.refVal"),
        _char("o_ucd", "meta.ucd", "UCD of the observable", utype=o + "Char.ObservableAxis.ucd"),
        _char("proposal_id", "meta.id;obs.proposal", "ESO programme identifier",
              utype=o + "Provenance.Proposal.identifier"),
        _char("obs_release_date", "time.release", "Date the product becomes public",
              xtype="timestamp", utype=o + "Curation.releaseDate"),
        _char("access_url", "meta.ref.url", "DataLink URL of the product",
              utype=o + "Access.Reference"),
        _char("access_format", "meta.code.mime", "Format of access_url",
              utype=o + "Access.Format"),
        _num("access_estsize", "long", "kbyte", "phys.size;meta.file",
             "Estimated size of the science file", utype=o + "Access.Size"),
        _char("release_description", "meta.ref.url", "Phase 3 release description"),
        # the other 27 of ESO's 54 columns
        _num("abmaglim", "double", "mag", "phot.mag;stat.max",
             "5-sigma limiting AB magnitude (images)", principal=False),
        _char("bib_reference", "meta.bib.bibcode", "Bibcode of the product's paper",
              principal=False, utype=o + "Curation.Reference"),
        _char("dataproduct_subtype", "meta.code.class", "ESO product subtype",
              principal=False, utype=o + "ObsDataset.dataProductSubtype"),
        _num("em_xel", "long", "", "meta.number", "Number of spectral pixels",
             principal=False, utype=o + "Char.SpectralAxis.numBins"),
        _char("filter", "instr.filter", "Filter or band", principal=False),
        _num("gal_lat", "double", "deg", "pos.galactic.lat", "Galactic latitude",
             principal=False),
        _num("gal_lon", "double", "deg", "pos.galactic.lon", "Galactic longitude",
             principal=False),
        _char("last_mod_date", "time.processing", "Last change of the product's metadata",
              xtype="timestamp", principal=False),
        _char("multi_ob", "meta.code", "S: from one OB, M: from several", principal=False),
        _num("n_obs", "int", "", "meta.number;obs", "Number of raw exposures combined",
             principal=False),
        _char("o_calib_status", "meta.code.qual", "Calibration of the observable",
              principal=False, utype=o + "Char.ObservableAxis.calibrationStatus"),
        _char("obs_creator_did", "meta.id", "IVOA identifier of the original file",
              principal=False, utype=o + "DataID.CreatorDID"),
        _char("obs_creator_name", "meta.id", "Who made the product", principal=False,
              utype=o + "DataID.Creator"),
        _char("obs_title", "meta.title;obs", "Title of the product", principal=False,
              utype=o + "DataID.Title"),
        _char("obstech", "meta.code;instr.setup", "Observing technique", principal=False),
        _char("p3orig", "meta.code", "Origin: IDP (ESO), EDP (external), ...",
              principal=False),
        _char("pol_states", "meta.code;phys.polarization", "Polarisation states",
              principal=False, utype=o + "Char.PolarizationAxis.stateList"),
        _num("pol_xel", "long", "", "meta.number", "Number of polarisation samples",
             principal=False, utype=o + "Char.PolarizationAxis.numBins"),
        _char("preview_html", "meta.ref.url", "Preview of the product", principal=False),
        _char("publication_date", "time.processing", "Date the product was published",
              xtype="timestamp", principal=False),
        _num("s_pixel_scale", "double", "arcsec", "phys.angSize;instr.pixel",
             "Spatial sampling (pixel size)", principal=False,
             utype=o + "Char.SpatialAxis.Sampling.RefVal.SamplingPeriod"),
        _num("s_xel1", "long", "", "meta.number", "Number of pixels along the first axis",
             principal=False, utype=o + "Char.SpatialAxis.numBins1"),
        _num("s_xel2", "long", "", "meta.number", "Number of pixels along the second axis",
             principal=False, utype=o + "Char.SpatialAxis.numBins2"),
        _num("snr", "double", "", "stat.snr", "Median signal-to-noise ratio",
             principal=False),
        _num("strehl", "double", "", "instr.param", "Strehl ratio (adaptive optics)",
             principal=False),
        _num("t_resolution", "double", "s", "time.resolution", "Temporal resolution",
             principal=False, utype=o + "Char.TimeAxis.Resolution.Refval.value"),
        _num("t_xel", "long", "", "meta.number", "Number of time samples", principal=False,
             utype=o + "Char.TimeAxis.numBins"),
    ), utype="ivo://ivoa.net/std/ObsCore#table-1.1")
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


#: ObsCore columns computed from others when queried (URLs follow the emulator's own;
#: the rest is cheaper to compute than to store at millions of rows).
OBSCORE_DERIVED = ("obs_publisher_did", "access_url", "access_format", "preview_html",
                   "gal_lon", "gal_lat", "publication_date", "last_mod_date", "obs_title")

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
