# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Pure ADQL building for the ancillary-file queries: quoting, identifier
checks, shell-style patterns, ``column_filters`` parsing and cones (ids are
checked in `~astroquery_eso_ancillary.ids`).

Nothing here does I/O. Every user value that reaches a query passes through
one of these functions: it is either validated against a strict shape
(identifiers, product ids, numbers) or rendered as a quoted string literal.

ADQL has no ``ESCAPE`` clause, so a literal ``_`` or ``%`` inside a wildcard
pattern cannot be matched exactly by ``LIKE``. Such patterns are sent as a
``LIKE`` selecting a superset and refined exactly on the client
(`PatternSet.needs_refinement`, `PatternSet.match`).
"""
import datetime
import difflib
import math
import numbers
import re
from dataclasses import dataclass

import astropy.units as u
from astropy.time import Time

__all__ = [
    "OBSCORE",
    "PRODUCT_FILES",
    "FileQuery",
    "Filter",
    "Pattern",
    "PatternSet",
    "Plan",
    "check_identifier",
    "check_top",
    "chunked",
    "column_kind",
    "compile_patterns",
    "cone_condition",
    "filter_conditions",
    "in_condition",
    "number",
    "parse_filter",
    "plan_category_query",
    "plan_file_query",
    "quote",
    "resolve_column",
    "select",
    "split_names",
]

PRODUCT_FILES = "phase3v2.product_files"
OBSCORE = "ivoa.ObsCore"

_IDENTIFIER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")  # \Z: "$" allows a final newline
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Collection and instrument names: "MUSE", "195.B-0283", "GOODS_FORS2", "VPHASplus".
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+\-/ *?]+$")
# eso_category: dot-separated upper-case tokens (letters, digits, '_'), plus wildcards.
_CATEGORY_RE = re.compile(r"^[A-Z0-9_.*?]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def quote(value):
    """Render a string as an ADQL string literal (single quotes, ``'`` doubled).

    Examples
    --------
    >>> quote("O'Brien")
    "'O''Brien'"
    """
    if not isinstance(value, str):
        raise TypeError(f"Expected a string to quote, got {type(value).__name__}: {value!r}")
    if _CONTROL_RE.search(value):
        raise ValueError(f"Control characters are not accepted in query values: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def number(value):
    """Render a real number as an ADQL numeric literal.

    Examples
    --------
    >>> number(3), number(0.5)
    ('3', '0.5')
    """
    if isinstance(value, bool) or not _is_real(value):
        raise TypeError(f"Expected a number, got {type(value).__name__}: {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Expected a finite number, got {value!r}")
    return repr(value)


def _is_real(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))


def check_identifier(name, known=None, *, what="column"):
    """Validate a column name and return it as the table spells it.

    Parameters
    ----------
    name : str
        Letters, digits and ``_``, starting with a letter.
    known : iterable of str, optional
        The table's columns; the match is case-insensitive (as ADQL's for
        unquoted names) and the table's spelling is returned.
    what : str
        What the name is, for the error message.

    Examples
    --------
    >>> check_identifier("Eso_Category", ["product_id", "eso_category"])
    'eso_category'
    """
    if not isinstance(name, str) or not _IDENTIFIER_RE.match(name):
        raise ValueError(f"Invalid {what} name {name!r}: use letters, digits and '_', "
                         "starting with a letter.")
    if known is None:
        return name
    by_lower = {k.lower(): k for k in known}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=5, cutoff=0.6)
    hint = (" Did you mean: " + ", ".join(by_lower[c] for c in close) + "?") if close else ""
    raise ValueError(f"Unknown {what} {name!r}.{hint} Known: {', '.join(sorted(known))}.")


def chunked(items, size):
    """Split a list into lists of at most ``size`` items.

    Examples
    --------
    >>> chunked([1, 2, 3], 2)
    [[1, 2], [3]]
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"The chunk size must be at least 1, got {size}.")
    return [items[i:i + size] for i in range(0, len(items), size)]


def in_condition(column, values):
    """``column = 'a'`` or ``column IN ('a', 'b')`` for string values.

    Examples
    --------
    >>> in_condition("product_id", ["A", "B"])
    "product_id IN ('A', 'B')"
    """
    values = list(values)
    if len(values) == 1:
        return f"{column} = {quote(values[0])}"
    return f"{column} IN ({', '.join(quote(v) for v in values)})"


def check_top(top):
    """Validate ``top`` (None or a positive int).

    Examples
    --------
    >>> check_top(5)
    5
    """
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, numbers.Integral):
        raise TypeError(f"top must be a positive int, got {top!r}.")
    top = int(top)
    if top < 1:
        raise ValueError(f"top must be a positive int, got {top}.")
    return top


# -- shell-style patterns ----------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """One exact value or shell-style wildcard (``*`` any run, ``?`` one character)."""

    text: str

    @property
    def is_wildcard(self):
        return "*" in self.text or "?" in self.text

    @property
    def matches_everything(self):
        return set(self.text) == {"*"}

    @property
    def like(self):
        """The ADQL LIKE pattern: a superset when the text has a literal ``_`` or ``%``."""
        out = []
        for char in self.text:
            if char == "*":
                out.append("%")
            elif char in "?%":
                # '%' cannot be escaped in ADQL; '_' (one any character) covers it.
                out.append("_")
            else:
                out.append(char)
        return "".join(out)

    @property
    def like_is_exact(self):
        return "_" not in self.text and "%" not in self.text

    @property
    def regex(self):
        parts = []
        for char in self.text:
            if char == "*":
                parts.append(".*")
            elif char == "?":
                parts.append(".")
            else:
                parts.append(re.escape(char))
        return re.compile("".join(parts) + r"\Z", re.DOTALL)


class PatternSet:
    """Values a column may take: exact values and wildcards, combined with OR.

    Examples
    --------
    >>> ps = compile_patterns("ES_SFLA_*", what="original_filename")
    >>> ps.condition("original_filename")
    "original_filename LIKE 'ES_SFLA_%'"
    >>> ps.needs_refinement, ps.match("ES_SFLAB_1.fits"), ps.match("ES_SFLA_1.fits")
    (True, False, True)
    """

    def __init__(self, patterns, what):
        self.patterns = tuple(patterns)
        self.what = what

    @property
    def matches_everything(self):
        return any(p.matches_everything for p in self.patterns)

    @property
    def needs_refinement(self):
        """True when the LIKE sent to the service selects more than the patterns."""
        if self.matches_everything:
            return False
        return any(p.is_wildcard and not p.like_is_exact for p in self.patterns)

    def condition(self, column):
        """The ADQL condition on ``column``, or None when every value matches."""
        if self.matches_everything:
            return None
        exact = [p.text for p in self.patterns if not p.is_wildcard]
        parts = [in_condition(column, exact)] if exact else []
        parts += [f"{column} LIKE {quote(p.like)}" for p in self.patterns if p.is_wildcard]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def match(self, value):
        """Exact, case-sensitive test of one value against the patterns."""
        if value is None or not isinstance(value, str):
            return False
        return any(p.regex.match(value) for p in self.patterns)

    def __repr__(self):
        return f"<PatternSet {self.what}: {[p.text for p in self.patterns]}>"


def compile_patterns(value, *, what, names=False, category=False, split_commas=False):
    """Check a pattern argument (str or list of str) and return a `PatternSet`.

    Parameters
    ----------
    value : str or list of str
        Exact values and/or shell-style wildcards (``*``, ``?``).
    what : str
        The argument's name, for error messages.
    names : bool
        Also require the characters of a collection or instrument name
        (letters, digits, ``_ . + - /`` and spaces).
    category : bool
        Upper-case the value and require the characters of an ``eso_category``
        (letters, digits, ``_`` and ``.``), so that a typo such as ``[`` is an
        error rather than an empty result.
    split_commas : bool
        Split strings on commas, as astroquery does for survey names.

    Examples
    --------
    >>> compile_patterns(["ANCILLARY.PREVIEW", "ANCILLARY.README"],
    ...                  what="categories").condition("eso_category")
    "eso_category IN ('ANCILLARY.PREVIEW', 'ANCILLARY.README')"
    """
    items = [value] if isinstance(value, str) else value
    if items is None or not hasattr(items, "__iter__") or isinstance(items, dict | bytes):
        raise TypeError(f"{what} must be a str or a list of str, got {value!r}.")
    texts = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{what} must contain strings, got {item!r}.")
        pieces = item.split(",") if split_commas else [item]
        for piece in pieces:
            piece = piece.strip() if split_commas else piece
            if not piece:
                raise ValueError(f"Empty value in {what}: {value!r}.")
            if _CONTROL_RE.search(piece):
                raise ValueError(f"Control characters are not accepted in {what}: {piece!r}.")
            if category:
                piece = piece.upper()
                if not _CATEGORY_RE.match(piece):
                    raise ValueError(f"Invalid category in {what}: {piece!r}. Categories are "
                                     "dot-separated tokens of letters, digits and '_' "
                                     "(e.g. 'ANCILLARY.PREVIEW'), with the wildcards "
                                     "'*' and '?'.")
            if names and not _NAME_RE.match(piece):
                raise ValueError(f"Invalid name in {what}: {piece!r}. Use letters, digits, "
                                 "'_', '.', '+', '-', '/', spaces and the wildcards '*', '?'.")
            texts.append(piece)
    if not texts:
        raise ValueError(f"{what} is empty.")
    return PatternSet([Pattern(t) for t in dict.fromkeys(texts)], what)


# -- column_filters ----------------------------------------------------------------

_FILTER_FORMS = (
    "a bare value (means = 'value'), a number, a list (means IN), or a string starting "
    "with an operator: '< 3', '>= 2.5', '= x', '!= x', '<> x', \"like 'X%'\", "
    "\"not like 'X%'\", \"in ('A', 'B')\", \"not in ('A', 'B')\", 'between 1 and 2', "
    "'not between 1 and 2', 'is null', 'is not null'")

_WORD_OP_RE = re.compile(r"^(not\s+between|not\s+like|not\s+in|between|like|in)(?=[\s('])",
                         re.IGNORECASE)
_NULL_OP_RE = re.compile(r"^is\s+(not\s+)?null$", re.IGNORECASE)
_CMP_OP_RE = re.compile(r"^(<=|>=|<>|!=|=|<|>)")
_TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[^\s(),']+))")


@dataclass(frozen=True)
class _Target:
    """Where a filter goes: the argument the user passed, the column, its kind and unit."""

    argument: str = "column_filters"
    column: str = ""
    kind: str | None = None
    unit: str = ""

    def label(self):
        return f"{self.argument}[{self.column!r}]"


@dataclass(frozen=True)
class _Literal:
    text: str
    quoted: bool  # written in quotes by the user: always a string

    @property
    def is_number(self):
        return not self.quoted and bool(_NUMBER_RE.match(self.text))

    def render(self, kind, name, argument):
        if kind == "number":
            # On a numeric column, a quoted number is still meant as a number.
            if not _NUMBER_RE.match(self.text):
                raise ValueError(f"{argument}[{name!r}]: column {name} is numeric; "
                                 f"{self.text!r} is not a number.")
            return self.text
        if kind is None and self.is_number:
            return self.text
        return quote(self.text)


def column_kind(datatype):
    """``"string"``, ``"number"`` or None from a TAP_SCHEMA datatype.

    Examples
    --------
    >>> column_kind("adql:VARCHAR"), column_kind("double"), column_kind("timestamp")
    ('string', 'number', None)
    """
    if not datatype:
        return None
    base = str(datatype).lower().removeprefix("adql:").strip()
    if base in ("char", "varchar", "unicodechar", "clob", "string", "text"):
        return "string"
    if base in ("short", "int", "integer", "long", "bigint", "smallint", "float", "double",
                "real", "unsignedbyte", "double precision", "numeric", "decimal"):
        return "number"
    return None


@dataclass(frozen=True)
class Filter:
    """A parsed ``column_filters`` entry: an operator and its literals."""

    column: str
    op: str  # "=", "<>", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "IN", "NOT IN",
    #          "BETWEEN", "NOT BETWEEN", "IS NULL", "IS NOT NULL"
    literals: tuple
    argument: str = "column_filters"

    def render(self, column_sql, kind=None):
        """The ADQL condition, with literals re-quoted (never the user's text)."""
        lits = [lit.render(kind, self.column, self.argument) for lit in self.literals]
        if self.op in ("IS NULL", "IS NOT NULL"):
            return f"{column_sql} {self.op}"
        if self.op in ("IN", "NOT IN"):
            return f"{column_sql} {self.op} ({', '.join(lits)})"
        if self.op in ("BETWEEN", "NOT BETWEEN"):
            return f"{column_sql} {self.op} {lits[0]} AND {lits[1]}"
        return f"{column_sql} {self.op} {lits[0]}"


def _bad_filter(target, spec, why):
    return ValueError(f"{target.label()} = {spec!r}: {why}. Accepted forms: "
                      f"{_FILTER_FORMS}.")


def _tokens(target, spec, text):
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise _bad_filter(target, spec, f"cannot read {text[pos:]!r} (unbalanced quote?)")
        pos = m.end()
        if m.group("str") is not None:
            out.append(_Literal(m.group("str")[1:-1].replace("''", "'"), True))
        elif m.group("punct") is not None:
            out.append(m.group("punct"))
        else:
            out.append(_Literal(m.group("word"), False))
    return out


#: Operators that may open a tuple of Python values: ``('between', t1, t2)``, ``('>', q)``.
_TUPLE_OPS = {"<": 1, "<=": 1, ">": 1, ">=": 1, "=": 1, "!=": 1, "<>": 1,
              "between": 2, "not between": 2}


def _column_unit(target, spec):
    unit = u.Unit(target.unit, parse_strict="silent") if target.unit else None
    if unit is None or isinstance(unit, u.UnrecognizedUnit):
        raise _bad_filter(target, spec, f"column {target.column} has no unit astropy knows "
                          f"({target.unit or 'none'} in TAP_SCHEMA); give a plain number")
    return unit


def _time_literal(target, spec, value):
    """A Time, datetime or date as the column wants it: MJD on a numeric column, else ISO."""
    if isinstance(value, Time):
        if not value.isscalar:
            raise _bad_filter(target, spec, "give one Time per value (a list for IN)")
        if target.kind == "number":
            unit = _column_unit(target, spec)
            if unit.physical_type != "time":
                raise _bad_filter(target, spec, f"column {target.column} is in {unit}, "
                                  "not a time")
            # ObsCore's numeric times (t_min, t_max) are MJD, in days.
            return _Literal(number((value.utc.mjd * u.day).to_value(unit)), False)
        return _Literal(value.utc.isot, True)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return _time_literal(target, spec, Time(value, scale="utc"))
    if target.kind == "number":
        return _time_literal(target, spec, Time(value.isoformat(), scale="utc"))
    return _Literal(value.isoformat(), True)


def _quantity_literal(target, spec, value):
    if target.kind == "string":
        raise _bad_filter(target, spec, f"column {target.column} holds text, not a quantity")
    if not value.isscalar:
        raise _bad_filter(target, spec, "give one Quantity per value (a list for IN)")
    if not target.unit and value.unit.physical_type == "dimensionless":
        return _Literal(number(value.to_value(u.dimensionless_unscaled)), False)
    unit = _column_unit(target, spec)
    try:
        converted = value.to_value(unit)
    except u.UnitConversionError:
        raise _bad_filter(target, spec, f"column {target.column} is in {unit}; {value} "
                          "cannot be converted to it") from None
    return _Literal(number(float(converted)), False)


def _python_literal(target, spec, value):
    if isinstance(value, str):
        if _CONTROL_RE.search(value):
            raise _bad_filter(target, spec, "control characters are not accepted")
        return _Literal(value, True)
    if isinstance(value, Time | datetime.date):
        return _time_literal(target, spec, value)
    if isinstance(value, u.Quantity):
        return _quantity_literal(target, spec, value)
    if isinstance(value, bool) or not _is_real(value):
        raise _bad_filter(target, spec, f"unsupported value {value!r} (accepted: str, "
                          "numbers, astropy Time, datetime, date, Quantity)")
    return _Literal(number(value), False)


def _python_filter(target, spec):
    """A filter from Python values: a list (IN), a Time array, or ``(operator, value...)``."""
    items = list(spec)
    if not items:
        raise _bad_filter(target, spec, "the list is empty")
    head = items[0]
    if isinstance(spec, tuple) and isinstance(head, str) and \
            " ".join(head.lower().split()) in _TUPLE_OPS:
        op = " ".join(head.lower().split())
        if len(items) - 1 != _TUPLE_OPS[op]:
            raise _bad_filter(target, spec, f"({op!r}, ...) takes {_TUPLE_OPS[op]} value(s)")
        values = tuple(_python_literal(target, spec, v) for v in items[1:])
        return Filter(target.column, {"!=": "<>"}.get(op, op.upper()), values, target.argument)
    return Filter(target.column, "IN", tuple(_python_literal(target, spec, v) for v in items),
                  target.argument)


def parse_filter(column, spec, *, argument="column_filters", kind=None, unit=""):
    """Parse one ``column_filters`` value in astroquery's operator syntax.

    Parameters
    ----------
    column : str
        The column (already validated).
    spec : str, number, Time, datetime, date, Quantity, list, tuple or None
        ``"< 3"``, ``"like 'X%'"``, ``"in ('A','B')"``, ``"between 1 and 2"``,
        ``"is null"``, a bare value (``= 'value'``), a number (``= number``),
        a `~astropy.time.Time`, ``datetime.datetime`` or ``datetime.date`` (ISO
        text, or MJD on a numeric column), a `~astropy.units.Quantity`
        (converted to ``unit``), a list (``IN``), a tuple opening with an
        operator (``('between', lo, hi)``, ``('>', value)``) or None
        (``IS NULL``).
    argument : str
        The argument the filter came in (``column_filters``,
        ``obscore_filters``), for error messages.
    kind, unit : str, optional
        The column's kind (`column_kind`) and its TAP_SCHEMA unit, to convert
        Quantity and Time values.

    Examples
    --------
    >>> parse_filter("s_ra", "between 10 and 20").render("s_ra")
    's_ra BETWEEN 10 AND 20'
    >>> parse_filter("target_name", "x' OR '1'='1").render("target_name")
    "target_name = 'x'' OR ''1''=''1'"
    >>> import astropy.units as u
    >>> parse_filter("s_ra", ("between", 10 * u.arcmin, 0.5 * u.deg), kind="number",
    ...              unit="deg").render("s_ra")
    's_ra BETWEEN 0.16666666666666666 AND 0.5'
    """
    target = _Target(argument, column, kind, unit)
    if spec is None:
        return Filter(column, "IS NULL", (), argument)
    if isinstance(spec, list | tuple | set | frozenset) or (
            isinstance(spec, Time) and not spec.isscalar):
        return _python_filter(target, spec)
    if not isinstance(spec, str):
        return Filter(column, "=", (_python_literal(target, spec, spec),), argument)
    if _CONTROL_RE.search(spec):  # named here, with the argument, not later by quote()
        raise _bad_filter(target, spec, "control characters are not accepted")
    text = spec.strip()
    if not text:
        raise _bad_filter(target, spec, "empty filter")
    if _NULL_OP_RE.match(text):
        return Filter(column, "IS NOT NULL" if "not" in text.lower() else "IS NULL", (),
                      argument)
    m = _WORD_OP_RE.match(text)
    if m:
        op = " ".join(m.group(1).upper().split())
        toks = _tokens(target, spec, text[m.end():])
        return Filter(column, op, _word_operands(target, spec, op, toks), argument)
    m = _CMP_OP_RE.match(text)
    if m:
        op = {"!=": "<>"}.get(m.group(1), m.group(1))
        toks = _tokens(target, spec, text[m.end():])
        if len(toks) != 1 or not isinstance(toks[0], _Literal):
            raise _bad_filter(target, spec, f"'{m.group(1)}' takes exactly one value "
                              "(quote values containing spaces)")
        return Filter(column, op, (toks[0],), argument)
    # No operator: the whole text is the value, as in astroquery.
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        toks = _tokens(target, spec, text)
        if len(toks) == 1 and isinstance(toks[0], _Literal) and toks[0].quoted:
            return Filter(column, "=", (toks[0],), argument)
    return Filter(column, "=", (_Literal(text, True),), argument)


def _word_operands(target, spec, op, toks):
    lits = [t for t in toks if isinstance(t, _Literal)]
    if op in ("LIKE", "NOT LIKE"):
        if len(toks) != 1 or not lits:
            raise _bad_filter(target, spec, f"{op} takes one pattern, e.g. \"like 'X%'\"")
        return (_Literal(lits[0].text, True),)
    if op in ("IN", "NOT IN"):
        ok = (len(toks) >= 3 and toks[0] == "(" and toks[-1] == ")"
              and all(isinstance(t, _Literal) for t in toks[1:-1:2])
              and all(t == "," for t in toks[2:-1:2]) and len(toks) % 2 == 1)
        if not ok:
            raise _bad_filter(target, spec, f"{op} takes a parenthesised list, "
                              "e.g. \"in ('A', 'B')\"")
        return tuple(toks[1:-1:2])
    # BETWEEN / NOT BETWEEN
    ok = (len(toks) == 3 and all(isinstance(t, _Literal) for t in toks)
          and not toks[1].quoted and toks[1].text.lower() == "and")
    if not ok:
        raise _bad_filter(target, spec, f"{op} takes two values, e.g. 'between 1 and 2'")
    return (toks[0], toks[2])


# -- column names ------------------------------------------------------------------

#: Default column order of ``phase3v2.product_files`` results (others follow).
FILE_COLUMN_ORDER = ("product_id", "archive_id", "eso_category", "extension",
                     "original_filename", "access_estsize", "access_url", "internal_file_id")


def split_names(value, *, what="columns"):
    """A list of names from a comma-separated str or a list of str.

    Examples
    --------
    >>> split_names("archive_id, eso_category")
    ['archive_id', 'eso_category']
    """
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif hasattr(value, "__iter__") and not isinstance(value, dict | bytes):
        items = list(value)
    else:
        raise TypeError(f"{what} must be a str or a list of str, got {value!r}.")
    if not items or any(not isinstance(v, str) or not v for v in items):
        raise ValueError(f"{what} must name at least one column, without empty names: "
                         f"{value!r}.")
    return items


def resolve_column(name, files, obscore=None, *, size_column=None, what="column"):
    """Find a column in ``phase3v2.product_files`` (alias ``f``), else ``ivoa.ObsCore``.

    Parameters
    ----------
    name : str
        The column, as the user wrote it. ``access_estsize`` also names the
        size column of older services (``size_column``).
    files, obscore : iterable of str
        The tables' columns (``obscore`` None: product_files only).

    Returns
    -------
    (select item, output name, from_obscore)

    Examples
    --------
    >>> resolve_column("ACCESS_ESTSIZE", ["archive_id", "size_kb"], size_column="size_kb")
    ('f.size_kb', 'size_kb', False)
    >>> resolve_column("target_name", ["archive_id"], ["dp_id", "target_name"])
    ('o.target_name', 'target_name', True)
    """
    check_identifier(name, what=what)
    if size_column and name.lower() == "access_estsize":
        name = size_column
    files = list(files)
    by_lower = {c.lower(): c for c in files}
    if name.lower() in by_lower:
        canon = by_lower[name.lower()]
        return f"f.{canon}", canon, False
    if obscore is not None:
        obscore = list(obscore)
        by_lower = {c.lower(): c for c in obscore}
        if name.lower() in by_lower:
            canon = by_lower[name.lower()]
            return f"o.{canon}", canon, True
    check_identifier(name, files + list(obscore or []), what=what)  # raises, with hints
    raise AssertionError("unreachable")


def filter_conditions(filters, columns, *, alias, argument, size_column=None,
                      other=None, other_argument=None):
    """ADQL conditions from a ``column_filters``-style dict (each value re-rendered).

    Parameters
    ----------
    filters : dict or None
        ``{column: spec}``; see `parse_filter` for the accepted specs.
    columns : dict
        The table's columns: name -> datatype (or an object with ``.datatype``).
    alias : str
        Table alias to qualify the columns with (``f`` or ``o``).
    argument : str
        The argument's name, for errors (``column_filters``).
    other, other_argument : optional
        Columns of the other table and its argument, to point the user there.

    Examples
    --------
    >>> filter_conditions({"extension": "in ('PNG', 'FITS')"}, {"extension": "char"},
    ...                   alias="f", argument="column_filters")
    ["f.extension IN ('PNG', 'FITS')"]
    """
    if filters is None:
        return []
    if not isinstance(filters, dict):
        raise TypeError(f"{argument} must be a dict of column -> condition, got {filters!r}.")
    out = []
    for key, spec in filters.items():
        name = key
        if size_column and isinstance(key, str) and key.lower() == "access_estsize":
            name = size_column
        if other is not None and isinstance(name, str) and name.lower() not in {
                c.lower() for c in columns} and name.lower() in {c.lower() for c in other}:
            raise ValueError(f"{argument}: {key!r} is a column of the other table; put it in "
                             f"{other_argument}.")
        canon = check_identifier(name, list(columns), what=f"{argument} column")
        info = columns[canon]
        kind = column_kind(getattr(info, "datatype", info))
        unit = getattr(info, "unit", "") or ""
        if size_column and canon == size_column and not unit:
            unit = "kbyte"  # the size column is in kB whatever TAP_SCHEMA says
        out.append(parse_filter(key, spec, argument=argument, kind=kind, unit=unit)
                   .render(f"{alias}.{canon}", kind))
    return out


# -- cones and queries -------------------------------------------------------------


def _degrees(value, name):
    if value is None:
        raise ValueError(f"{name} is missing: give cone_ra, cone_dec and cone_radius "
                         "together, or none of them.")
    if hasattr(value, "to_value"):  # Quantity, Angle
        try:
            value = value.to_value("deg")
        except Exception as exc:
            raise ValueError(f"{name} must be an angle, got {value!r}.") from exc
    if isinstance(value, bool) or not _is_real(value):
        raise TypeError(f"{name} must be a number of degrees or an angle, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return value


def cone_condition(ra, dec, radius, *, region="s_region"):
    """The ADQL condition for products whose footprint meets a cone.

    ``INTERSECTS(s_region, CIRCLE('ICRS', ra, dec, radius)) = 1`` (ICRS,
    degrees), as ESO's own examples write it on ``ivoa.ObsCore``.

    Examples
    --------
    >>> cone_condition(10, -20.5, 0.1)
    "INTERSECTS(s_region, CIRCLE('ICRS', 10.0, -20.5, 0.1)) = 1"
    """
    ra = _degrees(ra, "cone_ra")
    dec = _degrees(dec, "cone_dec")
    radius = _degrees(radius, "cone_radius")
    if not 0 <= ra <= 360:
        raise ValueError(f"cone_ra must be within [0, 360] degrees, got {ra}.")
    if not -90 <= dec <= 90:
        raise ValueError(f"cone_dec must be within [-90, 90] degrees, got {dec}.")
    if not 0 < radius <= 180:
        raise ValueError(f"cone_radius must be within (0, 180] degrees, got {radius}.")
    return (f"INTERSECTS({region}, CIRCLE('ICRS', {number(ra)}, {number(dec)}, "
            f"{number(radius)})) = 1")


def select(columns, source, where=(), *, top=None, count=False, group_by=None,
           order_by=None, descending=True, distinct=False):
    """Assemble a SELECT statement from already validated parts.

    Examples
    --------
    >>> select(["product_id"], "phase3v2.product_files", ["eso_category = 'X'"], top=2)
    "SELECT TOP 2 product_id FROM phase3v2.product_files WHERE eso_category = 'X'"
    >>> select(["extension"], "phase3v2.product_files", distinct=True)
    'SELECT DISTINCT extension FROM phase3v2.product_files'
    """
    head = "SELECT DISTINCT" if distinct else "SELECT"
    head += "" if top is None else f" TOP {check_top(top)}"
    query = f"{head} {'COUNT(*)' if count else ', '.join(columns)} FROM {source}"
    where = [w for w in where if w]
    if where:
        query += " WHERE " + " AND ".join(where)
    if group_by:
        query += " GROUP BY " + ", ".join(group_by)
    if order_by and not count:
        query += f" ORDER BY {order_by} {'DESC' if descending else 'ASC'}"
    return query


@dataclass(frozen=True)
class FileQuery:
    """A selection on ``phase3v2.product_files`` (alias ``f``), joined to
    ``ivoa.ObsCore`` (alias ``o``) when it needs product properties.

    Rendered once per chunk of product ids. All parts must already be
    validated (qualified column names) or rendered by this module.

    Examples
    --------
    >>> q = FileQuery(("f.archive_id",), ("f.eso_category LIKE 'ANCILLARY.%'",), top=3)
    >>> q.render(["ADP.2024-03-19T05:58:04.407"])  # doctest: +NORMALIZE_WHITESPACE
    "SELECT TOP 3 f.archive_id FROM phase3v2.product_files AS f WHERE
     f.eso_category LIKE 'ANCILLARY.%' AND f.product_id = 'ADP.2024-03-19T05:58:04.407'"
    """

    columns: tuple
    where: tuple = ()
    join_obscore: bool = False
    top: int | None = None
    order_by: str | None = None
    descending: bool = True
    group_by: tuple = ()

    @property
    def source(self):
        source = f"{PRODUCT_FILES} AS f"
        if self.join_obscore:
            source += f" JOIN {OBSCORE} AS o ON o.dp_id = f.product_id"
        return source

    def render(self, product_ids=None, *, count=False, columns=None, top=True, order=True):
        """The ADQL for one chunk of ids (all products when None).

        ``columns`` replaces the select list, ``top=False`` drops ``TOP`` and
        ``order=False`` drops ``ORDER BY``.
        """
        where = list(self.where)
        if product_ids:
            where.append(in_condition("f.product_id", product_ids))
        return select(columns or self.columns, self.source, where,
                      top=self.top if top and not count else None, count=count,
                      group_by=self.group_by, order_by=self.order_by if order else None,
                      descending=self.descending)


@dataclass(frozen=True)
class Plan:
    """A `FileQuery` plus what the client does with its rows.

    ``refinements`` are (select item, column name, `PatternSet`) filters run
    exactly on the client; ``output`` the columns returned, in order (the
    others were fetched only to order, deduplicate or refine).
    """

    query: FileQuery
    refinements: tuple = ()
    output: tuple = ()
    order_name: str | None = None


def _pattern_parts(specs):
    """Conditions and refinements from (value, select item, name, options) specs."""
    where, refinements = [], []
    for value, sql, name, options in specs:
        if value is None:
            continue
        patterns = compile_patterns(value, **options)
        where.append(patterns.condition(sql))
        if patterns.needs_refinement:
            refinements.append((sql, name, patterns))
    return where, refinements


def _obscore_specs(collections, instruments):
    return [(collections, "o.obs_collection", "obs_collection",
             {"what": "collections", "names": True, "split_commas": True}),
            (instruments, "o.instrument_name", "instrument_name",
             {"what": "instruments", "names": True, "split_commas": True})]


def _upper(value):
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list | tuple):
        return [v.upper() if isinstance(v, str) else v for v in value]
    return value


def plan_file_query(files, obscore=None, *, size_column=None, columns=None, categories=None,
                    extensions=None, original_filename=None, collections=None,
                    instruments=None, cone=None, column_filters=None, obscore_filters=None,
                    top=None, order_by=None, descending=True):
    """Plan a selection of files from validated arguments and the tables' columns.

    Parameters
    ----------
    files, obscore : dict
        Columns of ``phase3v2.product_files`` and ``ivoa.ObsCore``: name ->
        datatype (or an object with ``.datatype``). ``obscore`` None forbids
        every ObsCore-based argument.
    size_column : str, optional
        The service's name of the size column (``access_estsize``/``size_kb``).
    cone : tuple, optional
        (ra, dec, radius), see `cone_condition`.
    others
        As in ``EsoClass.query_ancillary``.

    Returns
    -------
    `Plan`

    Examples
    --------
    >>> plan = plan_file_query({"product_id": "char", "archive_id": "char",
    ...                         "eso_category": "char"}, categories="ANCILLARY.*")
    >>> plan.query.render()
    "SELECT f.product_id, f.archive_id, f.eso_category FROM phase3v2.product_files AS f \
WHERE f.eso_category LIKE 'ANCILLARY.%'"
    """
    obscore_names = None if obscore is None else list(obscore)
    if columns is None:
        preferred = [size_column if c == "access_estsize" and size_column else c
                     for c in FILE_COLUMN_ORDER]
        names = [c for c in preferred if c in files] + [c for c in files if c not in preferred]
    else:
        names = split_names(columns)
    selected = [resolve_column(n, files, obscore_names, size_column=size_column)
                for n in names]
    join = any(from_obscore for _, _, from_obscore in selected)

    specs = [(categories, "f.eso_category", "eso_category",
              {"what": "categories", "category": True}),
             (_upper(extensions), "f.extension", "extension", {"what": "extensions"}),
             (original_filename, "f.original_filename", "original_filename",
              {"what": "original_filename"})]
    obscore_specs = _obscore_specs(collections, instruments)
    if obscore is None and (collections is not None or instruments is not None or cone
                            or obscore_filters):
        raise ValueError("This call selects by product ids only: collections, instruments, "
                         "cones and obscore_filters belong to query_ancillary.")
    where, refinements = _pattern_parts(specs + obscore_specs)
    join = join or collections is not None or instruments is not None
    where += filter_conditions(column_filters, files, alias="f", argument="column_filters",
                               size_column=size_column, other=obscore,
                               other_argument="obscore_filters")
    if obscore_filters:
        where += filter_conditions(obscore_filters, obscore, alias="o",
                                   argument="obscore_filters", other=files,
                                   other_argument="column_filters")
        join = True
    if cone is not None:
        where.append(cone_condition(*cone, region="o.s_region"))
        join = True

    order_sql = order_name = None
    if order_by:
        if not isinstance(order_by, str):
            raise TypeError(f"order_by must be a column name, got {order_by!r}.")
        order_sql, order_name, from_obscore = resolve_column(
            order_by, files, obscore_names, size_column=size_column, what="order_by column")
        join = join or from_obscore

    output = tuple(dict.fromkeys(name for _, name, _ in selected))
    items = dict((name, sql) for sql, name, _ in reversed(selected))
    extras = [("f.product_id", "product_id"), ("f.archive_id", "archive_id")]
    extras += [(sql, name) for sql, name, _ in refinements]
    if order_sql:
        extras.append((order_sql, order_name))
    for sql, name in extras:
        items.setdefault(name, sql)
    select_items = [items[n] for n in output] + [sql for n, sql in items.items()
                                                 if n not in output]
    query = FileQuery(tuple(select_items), tuple(where), join, check_top(top), order_sql,
                      bool(descending))
    return Plan(query, tuple(refinements), output, order_name)


def plan_category_query(files, obscore, *, size_column=None, collections=None,
                        instruments=None, cone=None):
    """Plan the per-category summary of ancillary files (``GROUP BY eso_category``).

    A collection or instrument pattern needing client refinement is also
    grouped by, so that the client can refine the groups exactly. ``cone``
    (ra, dec, radius; see `cone_condition`) keeps the files of products whose
    footprint meets it.

    Examples
    --------
    >>> plan = plan_category_query({"eso_category": "char", "size_kb": "long"}, {},
    ...                            size_column="size_kb")
    >>> plan.query.render()
    "SELECT f.eso_category, COUNT(*) AS n_files, SUM(f.size_kb) AS access_estsize FROM \
phase3v2.product_files AS f WHERE f.eso_category LIKE 'ANCILLARY.%' GROUP BY f.eso_category"
    """
    where, refinements = _pattern_parts(_obscore_specs(collections, instruments))
    where.insert(0, f"f.eso_category LIKE {quote('ANCILLARY.%')}")
    group = ["f.eso_category"] + [sql for sql, _, _ in refinements]
    items = ["f.eso_category", "COUNT(*) AS n_files"]
    if size_column:
        items.append(f"SUM(f.{check_identifier(size_column, files)}) AS access_estsize")
    items += group[1:]
    join = collections is not None or instruments is not None
    if cone is not None:
        where.append(cone_condition(*cone, region="o.s_region"))
        join = True
    query = FileQuery(tuple(items), tuple(where), join, group_by=tuple(group))
    return Plan(query, tuple(refinements), ("eso_category", "n_files", "access_estsize"))
