# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""VOTable 1.4 documents of the emulator's TAP answers.

`result_votable` writes an `~.engine.Result` as TABLEDATA by hand (fast: 100,000 rows
in well under a few seconds) with the column metadata (unit, ucd, description,
xtype), ``QUERY_STATUS=OK`` before the table and the trailing
``QUERY_STATUS=OVERFLOW`` that TAP prescribes when MAXREC cut the result short.
`error_votable` writes the ``QUERY_STATUS=ERROR`` document that pyvo turns into a
``DALQueryError`` carrying the message. Both parse with astropy and pyvo without
warnings.
"""
from __future__ import annotations

import math
import re

__all__ = ["error_votable", "result_votable"]

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
         '<RESOURCE type="results">\n')
_TAIL = "</RESOURCE>\n</VOTABLE>\n"

# Characters XML 1.0 cannot carry at all; replaced so a document always parses.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NULLS = {"short": -32768, "int": -2147483648, "long": -9223372036854775808}


def _text(value):
    """Escape text for element content and attribute values."""
    value = str(value)
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("?", value)
    if "&" in value or "<" in value or ">" in value or '"' in value:
        value = (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                 .replace('"', "&quot;"))
    return value


def _char_cell(value):
    if value is None or value == "":
        return "<TD/>"
    return f"<TD>{_text(value)}</TD>"


def _double_cell(value):
    if value is None:
        return "<TD/>"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "<TD/>"
    if math.isnan(value):
        return "<TD>NaN</TD>"
    if math.isinf(value):
        return "<TD>+Inf</TD>" if value > 0 else "<TD>-Inf</TD>"
    return f"<TD>{value!r}</TD>"


def _int_cell(null):
    empty = f"<TD>{null}</TD>"

    def cell(value):
        if value is None:
            return empty
        try:
            return f"<TD>{int(value)}</TD>"
        except (TypeError, ValueError, OverflowError):
            return empty
    return cell


def _bool_cell(value):
    if value is None:
        return "<TD/>"
    return "<TD>T</TD>" if value else "<TD>F</TD>"


def _field(column):
    datatype = getattr(column, "datatype", None) or "char"
    attrs = [f'name="{_text(column)}"', f'datatype="{datatype}"']
    arraysize = getattr(column, "arraysize", None)
    if datatype == "char":
        arraysize = arraysize or "*"
    if arraysize:
        attrs.append(f'arraysize="{_text(arraysize)}"')
    for attr in ("unit", "ucd", "utype", "xtype"):
        value = getattr(column, attr, None)
        if value:
            attrs.append(f'{attr}="{_text(value)}"')
    inner = ""
    description = getattr(column, "description", None)
    if description:
        inner += f"<DESCRIPTION>{_text(description)}</DESCRIPTION>"
    if datatype in _NULLS:
        inner += f'<VALUES null="{_NULLS[datatype]}"/>'
    if inner:
        return f"<FIELD {' '.join(attrs)}>{inner}</FIELD>\n"
    return f"<FIELD {' '.join(attrs)}/>\n"


def _formatter(column):
    datatype = getattr(column, "datatype", None) or "char"
    if datatype in _NULLS:
        return _int_cell(_NULLS[datatype])
    if datatype in ("double", "float"):
        return _double_cell
    if datatype == "boolean":
        return _bool_cell
    return _char_cell


def result_votable(result, *, query=None):
    """Serialise an `~.engine.Result` as a VOTable 1.4 TAP answer (bytes).

    Parameters
    ----------
    result : `~.engine.Result`
        Columns (`~.engine.ColumnInfo`), rows and the overflow flag.
    query : str, optional
        The ADQL text, echoed in an ``INFO name="QUERY"``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.engine import ColumnInfo, Result
    >>> doc = result_votable(Result([ColumnInfo("n", "long")], [(3,)], overflow=True))
    >>> b'value="OVERFLOW"' in doc
    True
    """
    parts = [_HEAD, '<INFO name="QUERY_STATUS" value="OK"/>\n']
    if query is not None:
        parts.append(f'<INFO name="QUERY" value="{_text(query)}"/>\n')
    parts.append("<TABLE>\n")
    parts += [_field(c) for c in result.columns]
    parts.append("<DATA><TABLEDATA>\n")
    formats = [_formatter(c) for c in result.columns]
    join = "".join
    rows = [f"<TR>{join([f(v) for f, v in zip(formats, row, strict=True)])}</TR>\n"
            for row in result.rows]
    parts.append(join(rows))
    parts.append("</TABLEDATA></DATA>\n</TABLE>\n")
    if result.overflow:
        parts.append('<INFO name="QUERY_STATUS" value="OVERFLOW"/>\n')
    parts.append(_TAIL)
    return join(parts).encode("utf-8")


def error_votable(message, *, req_id=None, error_type="fatal", action=None):
    """A TAP error document: ``QUERY_STATUS=ERROR`` with ``message`` as its text (bytes).

    Laid out as ESO's service (VOLLT) writes it: after the status, INFOs
    ``PROVIDER`` (ESO), ``REQ_ID`` (the request or job id), ``ERROR_TYPE``
    (``fatal``: the request must change; ``transient``: it may work later) and
    ``ACTION`` (what failed: ``sync``, ``async``, ...).

    Parameters
    ----------
    message : str
        For the user; pyvo raises it as ``DALQueryError``.
    req_id : str, optional
        Id of the request (sync) or job (async).
    error_type : {"fatal", "transient"}
    action : str, optional

    Examples
    --------
    >>> doc = error_votable("Incorrect ADQL query: LIMIT is not ADQL", req_id="S1")
    >>> b"LIMIT is not ADQL" in doc, b'name="PROVIDER" value="ESO"' in doc
    (True, True)
    """
    text = _text(message if message else "Unknown error")
    infos = [f'<INFO name="QUERY_STATUS" value="ERROR">{text}</INFO>\n',
             '<INFO name="PROVIDER" value="ESO">ESO Science Archive (emulated)</INFO>\n']
    if req_id is not None:
        infos.append(f'<INFO name="REQ_ID" value="{_text(req_id)}"/>\n')
    infos.append(f'<INFO name="ERROR_TYPE" value="{_text(error_type)}"/>\n')
    if action is not None:
        infos.append(f'<INFO name="ACTION" value="{_text(action)}"/>\n')
    return (_HEAD + "".join(infos) + _TAIL).encode("utf-8")
