# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
VOSI documents of the emulator's TAP service: capabilities, availability
and the tableset (built from the TAP_SCHEMA rows the engine holds). The
language section is written from ``language.py``, the rules the engine applies.
"""
from xml.sax.saxutils import escape

from .language import ADQL_IVO_ID, ADQL_VERSION, LANGUAGE_FEATURES

__all__ = ["availability_xml", "capabilities_xml", "tableset_xml"]

_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
_VS = 'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"'


def _interface(url, *, use="full", role=None, version=None):
    role = f' role="{role}"' if role else ""
    version = f' version="{version}"' if version else ""
    return (f'<interface xsi:type="vs:ParamHTTP"{role}{version}>'
            f'<accessURL use="{use}">{escape(url)}</accessURL></interface>')


def capabilities_xml(tap_url, *, default_maxrec=None, hard_maxrec=None,
                     execution_duration=60, retention=86400):
    """The VOSI capabilities document of a TAP service at ``tap_url`` (bytes).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.vosi import capabilities_xml
    >>> b"ivo://ivoa.net/std/TAP" in capabilities_xml("http://h/tap_obs")
    True
    """
    features = "".join(
        f'<languageFeatures type="{kind}">'
        + "".join(f"<feature><form>{name}</form></feature>" for name in names)
        + "</languageFeatures>" for kind, names in LANGUAGE_FEATURES.items())
    limits = ""
    if default_maxrec is not None or hard_maxrec is not None:
        limits = "<outputLimit>"
        if default_maxrec is not None:
            limits += f'<default unit="row">{int(default_maxrec)}</default>'
        if hard_maxrec is not None:
            limits += f'<hard unit="row">{int(hard_maxrec)}</hard>'
        limits += "</outputLimit>"
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" {_XSI} {_VS}
    xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0">
<capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">
{_interface(tap_url, use="base", role="std", version="1.1")}
<dataModel ivo-id="ivo://ivoa.net/std/ObsCore#core-1.1">ObsCore-1.1</dataModel>
<language><name>ADQL</name>
<version ivo-id="{ADQL_IVO_ID}">{ADQL_VERSION}</version>
<description>ADQL {ADQL_VERSION}: standard ADQL only (no LIMIT, no ESCAPE, no ADQL 2.1
features but those listed)</description>
{features}
</language>
<outputFormat ivo-id="ivo://ivoa.net/std/TAPRegExt#output-votable-td">
<mime>application/x-votable+xml</mime><alias>votable</alias></outputFormat>
<retentionPeriod><default>{int(retention)}</default></retentionPeriod>
<executionDuration><default>{int(execution_duration)}</default><hard>3600</hard></executionDuration>
{limits}
</capability>
<capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
{_interface(tap_url + "/capabilities")}</capability>
<capability standardID="ivo://ivoa.net/std/VOSI#availability">
{_interface(tap_url + "/availability")}</capability>
<capability standardID="ivo://ivoa.net/std/VOSI#tables-1.1">
{_interface(tap_url + "/tables")}</capability>
</vosi:capabilities>
"""
    return doc.encode("utf-8")


def availability_xml(*, note="The ESO archive emulator is serving."):
    """The VOSI availability document (always available while serving).

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.vosi import availability_xml
    >>> b"<vosi:available>true</vosi:available>" in availability_xml()
    True
    """
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">'
            f"<vosi:available>true</vosi:available><vosi:note>{escape(note)}</vosi:note>"
            f"</vosi:availability>\n").encode()


def _text(tag, value):
    if value is None or value == "":
        return ""
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _column_xml(col):
    size = col.get("arraysize")
    if size in (None, "") and col.get("size") not in (None, "", 0):
        size = col.get("size")
    arraysize = f' arraysize="{escape(str(size))}"' if size not in (None, "") else ""
    if col.get("xtype"):       # VODataService 1.1: the xtype goes in extendedType
        arraysize += f' extendedType="{escape(str(col["xtype"]))}"'
    flags = ""
    if col.get("indexed"):
        flags += "<flag>indexed</flag>"
    if col.get("principal"):
        flags += "<flag>principal</flag>"
    if col.get("std"):
        flags += "<flag>std</flag>"
    return ("<column>" + _text("name", col["column_name"])
            + _text("description", col.get("description")) + _text("unit", col.get("unit"))
            + _text("ucd", col.get("ucd")) + _text("utype", col.get("utype"))
            + f'<dataType xsi:type="vs:VOTableType"{arraysize}>'
            + escape(str(col.get("datatype") or "char")) + "</dataType>" + flags + "</column>")


def _table_xml(table, columns, keys, key_columns):
    name = table["table_name"]
    parts = [f'<table type="{escape(table.get("table_type") or "table")}">',
             _text("name", name), _text("description", table.get("description"))]
    parts += [_column_xml(col) for col in columns if col["table_name"] == name]
    for key in keys:
        if key["from_table"] != name:
            continue
        parts.append("<foreignKey>" + _text("targetTable", key["target_table"]))
        for kc in key_columns:
            if kc["key_id"] == key["key_id"]:
                parts.append("<fkColumn>" + _text("fromColumn", kc["from_column"])
                             + _text("targetColumn", kc["target_column"]) + "</fkColumn>")
        parts.append(_text("description", key.get("description")) + "</foreignKey>")
    parts.append("</table>")
    return "".join(parts)


def tableset_xml(tables, columns, keys=(), key_columns=(), *, only=None):
    """A VOSI tableset (or, with ``only``, one ``vs:table``) from TAP_SCHEMA rows (bytes).

    Parameters
    ----------
    tables, columns, keys, key_columns : list of dict
        Rows of ``TAP_SCHEMA.tables``, ``.columns``, ``.keys`` and ``.key_columns``.
    only : str, optional
        A table name: return that table's document alone.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.vosi import tableset_xml
    >>> doc = tableset_xml([{"schema_name": "s", "table_name": "s.t"}],
    ...                    [{"table_name": "s.t", "column_name": "c", "datatype": "int"}])
    >>> b"<name>s.t</name>" in doc
    True
    """
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if only is not None:
        for table in tables:
            if table["table_name"].lower() == only.lower():
                body = _table_xml(table, columns, keys, key_columns)
                body = body.replace("<table ", f'<vs:table {_XSI} {_VS} ', 1)
                return (head + body[:-len("</table>")] + "</vs:table>\n").encode("utf-8")
        return None
    parts = [head, f'<vosi:tableset xmlns:vosi="http://www.ivoa.net/xml/VOSITables/v1.0" '
                   f"{_XSI} {_VS}>"]
    schemas = []
    for table in tables:
        if table["schema_name"] not in schemas:
            schemas.append(table["schema_name"])
    for schema in schemas:
        parts.append("<schema>" + _text("name", schema))
        parts += [_table_xml(t, columns, keys, key_columns)
                  for t in tables if t["schema_name"] == schema]
        parts.append("</schema>")
    parts.append("</vosi:tableset>\n")
    return "".join(parts).encode("utf-8")
