# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's ADQL engine: real evaluation of ADQL over an in-memory SQLite archive.

`Engine` loads an `~.data.Archive` into SQLite (schemas ``ivoa``, ``phase3v2`` and
``TAP_SCHEMA`` as attached databases, so qualified names work as on the real service)
and runs ADQL: sqlglot reads the query (its T-SQL dialect knows ``TOP``), the engine
checks that it is plain ADQL 2.0, the language the service declares (a single SELECT
over published tables and columns, ADQL 2.0 functions only, reserved words quoted; the
lexical rules are in `.language`), qualifies it against the published schema and executes the SQLite
translation. ADQL geometry comes from `.geometry`, registered as SQL functions.

The result carries VOTable-ready column metadata (from TAP_SCHEMA for column
references), the rows, the TAP overflow flag and the SQL actually executed.
"""
from __future__ import annotations

import math
import random
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify

from .geometry import INTERNAL_FUNCTIONS, SQL_FUNCTIONS, GeometryError
from .language import (
    ADQL_FUNCTIONS,
    RESERVED_WORDS,
    LanguageError,
    check_tokens,
    is_reserved,
    reserved_word_error,
)
from .schema import FOREIGN_KEYS, OBSCORE_DERIVED, SCHEMAS, TAP_SCHEMA_TABLES

__all__ = [
    "AdqlError", "ColumnInfo", "Engine", "QueryAbortedError", "QueryExecutionError",
    "QueryTimeoutError", "Result",
]


class AdqlError(ValueError):
    """The query is not valid ADQL for this service, or failed while running.

    The message is meant for the user (it ends up in the error VOTable).
    """


class QueryExecutionError(AdqlError):
    """A valid query failed while running (e.g. a bad geometry value in a row)."""


class QueryTimeoutError(AdqlError):
    """The query ran longer than the allowed execution duration."""


class QueryAbortedError(AdqlError):
    """The query was aborted while running (its job was aborted or deleted)."""


class ColumnInfo(str):
    """A result column: its name (the string itself) plus VOTable metadata.

    Being a `str`, it compares equal to the column name, so ``dict(zip(result.columns,
    row))`` is keyed by names.

    Examples
    --------
    >>> col = ColumnInfo("s_ra", "double", "deg", "pos.eq.ra", "Right ascension")
    >>> col == "s_ra", col.unit
    (True, 'deg')
    """

    def __new__(cls, name, datatype="char", unit="", ucd="", description="", arraysize=None,
                xtype=None, utype=""):
        self = super().__new__(cls, name)
        self.utype = utype or ""
        self.datatype = datatype
        self.unit = unit or ""
        self.ucd = ucd or ""
        self.description = description or ""
        self.arraysize = arraysize if arraysize is not None else (
            "*" if datatype == "char" else None)
        self.xtype = xtype
        return self

    @property
    def name(self):
        """The column name."""
        return str(self)

    def __repr__(self):
        return f"ColumnInfo({str(self)!r}, {self.datatype!r}, unit={self.unit!r})"

    def __reduce__(self):
        return (ColumnInfo, (str(self), self.datatype, self.unit, self.ucd, self.description,
                             self.arraysize, self.xtype, self.utype))


@dataclass
class Result:
    """What `Engine.run` returns.

    Attributes
    ----------
    columns : list of ColumnInfo
    rows : list of tuple
    overflow : bool
        True when more rows than ``maxrec`` existed (TAP's OVERFLOW).
    sql : str
        The SQLite statement executed.
    ast : sqlglot.exp.Expression
        The query as parsed from the ADQL text (before qualification).
    adql : str
        The ADQL text received.
    """

    columns: list
    rows: list
    overflow: bool = False
    sql: str = ""
    ast: object = None
    adql: str = ""
    elapsed: float = field(default=0.0, repr=False)


_SQL_TYPES = {"char": "TEXT", "int": "INTEGER", "long": "INTEGER", "short": "INTEGER",
              "boolean": "INTEGER", "double": "REAL", "float": "REAL"}
_SG_TYPES = {"char": "TEXT", "int": "INT", "long": "BIGINT", "short": "INT",
             "boolean": "INT", "double": "DOUBLE", "float": "DOUBLE"}

# --------------------------------------------------------------------------- ADQL rules

# Expression classes a standard ADQL 2.0 SELECT may contain (sqlglot's names); the
# lexical rules (functions, reserved words, refused keywords) are in language.py.
_ALLOWED_NODES = tuple({
    exp.Select, exp.From, exp.Join, exp.Table, exp.TableAlias, exp.Alias, exp.Column,
    exp.Identifier, exp.Star, exp.Literal, exp.Null, exp.Where, exp.Group,
    exp.Having, exp.Order, exp.Ordered, exp.Limit, exp.Distinct, exp.And,
    exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.Like, exp.In, exp.Between, exp.Is, exp.DPipe, exp.Add, exp.Sub,
    exp.Mul, exp.Div, exp.Neg, exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg,
    exp.Anonymous, exp.Subquery, exp.Exists, exp.Abs, exp.Ceil, exp.Floor, exp.Round,
    exp.Sqrt, exp.Pow, exp.Exp, exp.Ln, exp.Log, exp.Mod, exp.Pi, exp.Rand, exp.Trunc,
    exp.Acos, exp.Asin, exp.Atan, exp.Atan2, exp.Cos, exp.Cot, exp.Sin, exp.Tan,
    exp.Degrees, exp.Radians, exp.Contains,
})

# Function names that reach sqlglot as Anonymous and are ADQL.
_ADQL_ANONYMOUS = frozenset(SQL_FUNCTIONS) | {"TRUNCATE", "LOG10"}

_ADQL_FUNCTIONS_TEXT = ", ".join(sorted(ADQL_FUNCTIONS))


def _math_function(func):
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        try:
            return func(*[float(a) for a in args])
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
    return wrapper


def _truncate(x, n=0):
    factor = 10.0 ** int(n)
    return math.trunc(x * factor) / factor


def _mod(x, y):
    if x is None or y is None or y == 0:
        return None
    if isinstance(x, int) and isinstance(y, int):
        return int(math.fmod(x, y))
    return math.fmod(float(x), float(y))


# SQLite user functions: every ADQL function SQLite lacks, or has with other semantics.
_MATH = {
    "ADQL_TRUNCATE": (_math_function(_truncate), -1), "ADQL_MOD": (_mod, 2),
    "ADQL_LOG10": (_math_function(math.log10), 1), "ADQL_LN": (_math_function(math.log), 1),
    "ADQL_EXP": (_math_function(math.exp), 1), "ADQL_SQRT": (_math_function(math.sqrt), 1),
    "ADQL_POWER": (_math_function(math.pow), 2), "ADQL_CEIL": (_math_function(math.ceil), 1),
    "ADQL_FLOOR": (_math_function(math.floor), 1), "ADQL_PI": (lambda: math.pi, 0),
    "ADQL_DEGREES": (_math_function(math.degrees), 1),
    "ADQL_RADIANS": (_math_function(math.radians), 1),
    "ADQL_ACOS": (_math_function(math.acos), 1), "ADQL_ASIN": (_math_function(math.asin), 1),
    "ADQL_ATAN": (_math_function(math.atan), 1), "ADQL_ATAN2": (_math_function(math.atan2), 2),
    "ADQL_COS": (_math_function(math.cos), 1), "ADQL_SIN": (_math_function(math.sin), 1),
    "ADQL_TAN": (_math_function(math.tan), 1),
    "ADQL_COT": (_math_function(lambda x: 1.0 / math.tan(x)), 1),
}
_MATH_NODES = {exp.Ln: "ADQL_LN", exp.Exp: "ADQL_EXP", exp.Sqrt: "ADQL_SQRT",
               exp.Pow: "ADQL_POWER", exp.Ceil: "ADQL_CEIL", exp.Floor: "ADQL_FLOOR",
               exp.Pi: "ADQL_PI", exp.Degrees: "ADQL_DEGREES", exp.Radians: "ADQL_RADIANS",
               exp.Acos: "ADQL_ACOS", exp.Asin: "ADQL_ASIN", exp.Atan: "ADQL_ATAN",
               exp.Atan2: "ADQL_ATAN2", exp.Cos: "ADQL_COS", exp.Sin: "ADQL_SIN",
               exp.Tan: "ADQL_TAN", exp.Cot: "ADQL_COT", exp.Mod: "ADQL_MOD",
               exp.Trunc: "ADQL_TRUNCATE"}


def _rand(seed=None):
    return random.Random(seed).random() if seed is not None else random.random()


_CHECK_EVERY = 20_000       # SQLite VM steps between two timeout checks


class Engine:
    """ADQL over an in-memory SQLite copy of an `~.data.Archive`.

    Parameters
    ----------
    archive : `~.data.Archive`
        The data to serve; loaded once, at construction.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.data import Archive
    >>> engine = Engine(Archive(products=10))
    >>> result = engine.run("SELECT TOP 2 archive_id FROM phase3v2.product_files "
    ...                     "WHERE product_id = 'ADP.2024-03-19T05:58:04.407'")
    >>> [row[0] for row in result.rows]
    ['ADP.2024-03-19T05:58:04.407', 'ADP.2024-03-19T05:58:04.408']
    """

    def __init__(self, archive):
        self.archive = archive
        self.tables = {t.qualified_name.lower(): t for t in archive.tables + TAP_SCHEMA_TABLES}
        self._schema = {}
        for table in self.tables.values():
            cols = {c.name.lower(): _SG_TYPES[c.datatype] for c in table.columns}
            self._schema.setdefault(table.schema.lower(), {})[table.name.lower()] = cols
        self._lock = threading.RLock()
        self._function_error = None
        self.last_parsed = None
        self.load_seconds = None
        started = time.perf_counter()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False,
                                     isolation_level=None)
        self._setup_functions()
        self._load()
        archive.watch_base_url(self.set_base_url)
        self.load_seconds = time.perf_counter() - started

    # -- loading

    def _setup_functions(self):
        conn = self._conn
        for name, (func, nargs) in {**SQL_FUNCTIONS, **INTERNAL_FUNCTIONS, **_MATH}.items():
            conn.create_function(name, nargs, self._keep_error(func), deterministic=True)
        conn.create_function("ADQL_RAND", -1, _rand)
        conn.execute("PRAGMA case_sensitive_like = ON")     # ADQL LIKE is case-sensitive

    def _keep_error(self, func):
        """Wrap a SQL function so that its error message survives SQLite's generic one."""
        def call(*args):
            try:
                return func(*args)
            except (GeometryError, ValueError, TypeError) as exc:
                self._function_error = f"{type(exc).__name__}: {exc}" if not isinstance(
                    exc, GeometryError) else str(exc)
                raise
        return call

    def _load(self):
        conn, archive = self._conn, self.archive
        for schema in ("ivoa", "phase3v2", "TAP_SCHEMA"):
            conn.execute(f"ATTACH DATABASE ':memory:' AS {schema}")
            # big pages: about 25% faster inserts and index builds at a million rows
            conn.execute(f"PRAGMA {schema}.page_size = 16384")
        obscore = archive.tables[0]
        stored = [c for c in obscore.columns
                  if c.name not in OBSCORE_DERIVED]
        conn.execute("CREATE TABLE ivoa._obscore (" + ", ".join(
            f"{c.name} {_SQL_TYPES[c.datatype]}" for c in stored) + ")")
        conn.execute("CREATE TABLE phase3v2._files (product_id TEXT, archive_id TEXT, "
                     "eso_category TEXT, extension TEXT, original_filename TEXT, "
                     "size INTEGER, internal_file_id INTEGER)")
        for schema in ("ivoa", "phase3v2"):
            conn.execute(f"CREATE TABLE {schema}._config (base_url TEXT)")
            conn.execute(f"INSERT INTO {schema}._config VALUES (?)", (archive.base_url,))
        p_sql = f"INSERT INTO ivoa._obscore VALUES ({', '.join('?' * len(stored))})"
        f_sql = "INSERT INTO phase3v2._files VALUES (?, ?, ?, ?, ?, ?, ?)"
        conn.execute("BEGIN")
        products, rows = [], []
        for product, file_rows in archive.iter_rows():
            products.append(product)
            rows += file_rows
            if len(rows) > 50_000:
                conn.executemany(p_sql, products)
                conn.executemany(f_sql, rows)
                products, rows = [], []
        conn.executemany(p_sql, products)
        conn.executemany(f_sql, rows)
        conn.execute("COMMIT")
        for sql in ("CREATE INDEX phase3v2.f_product ON _files (product_id)",
                    "CREATE INDEX phase3v2.f_archive ON _files (archive_id)",
                    "CREATE INDEX phase3v2.f_category ON _files (eso_category)",
                    "CREATE INDEX ivoa.o_dp ON _obscore (dp_id)",
                    "CREATE INDEX ivoa.o_collection ON _obscore (obs_collection)",
                    "CREATE INDEX ivoa.o_instrument ON _obscore (instrument_name)",
                    "CREATE INDEX ivoa.o_dec ON _obscore (s_dec)"):
            conn.execute(sql)
        derived = {
            "obs_publisher_did": "'ivo://eso.org/ID?' || dp_id",
            "access_url": "(SELECT base_url FROM _config) || "
                          "'/datalink/links?ID=ivo://eso.org/ID?' || dp_id",
            "access_format": "'application/x-votable+xml;content=datalink'",
            "preview_html": "(SELECT base_url FROM _config) || '/previews/' || dp_id",
            "gal_lon": "ESO_GAL_LON(s_ra, s_dec)", "gal_lat": "ESO_GAL_LAT(s_ra, s_dec)",
            "publication_date": "substr(dp_id, 5, 19) || 'Z'",
            "last_mod_date": "substr(dp_id, 5, 19) || 'Z'",
            "obs_title": "obs_collection || ' ' || dataproduct_type || ' of ' || target_name",
        }
        conn.execute("CREATE VIEW ivoa.ObsCore AS SELECT " + ", ".join(
            f"{derived[c.name]} AS {c.name}" if c.name in derived else c.name
            for c in obscore.columns) + " FROM _obscore")
        conn.execute(
            "CREATE VIEW phase3v2.product_files AS SELECT product_id, archive_id, "
            "eso_category, extension, original_filename, "
            "(SELECT base_url FROM _config) || '/dataPortal/file/' || archive_id AS access_url, "
            f"size AS {archive.size_column}, internal_file_id FROM _files")
        self._load_tap_schema()
        # Every footprint lies within s_dec +- s_fov / 2 (the generator builds them so):
        # the margin that lets cone searches on s_region use the s_dec index.
        widest = conn.execute("SELECT MAX(s_fov) FROM ivoa._obscore").fetchone()[0]
        self._region_margin = (widest or 0.0) / 2 + 1e-5    # + rounding of s_dec

    def _load_tap_schema(self):
        conn = self._conn
        for table in TAP_SCHEMA_TABLES:
            conn.execute(f"CREATE TABLE TAP_SCHEMA.{table.name} (" + ", ".join(
                f'"{c.name}" {_SQL_TYPES[c.datatype]}' for c in table.columns) + ")")
        published = list(self.archive.tables) + list(TAP_SCHEMA_TABLES)
        schemas = dict(SCHEMAS)
        conn.executemany("INSERT INTO TAP_SCHEMA.schemas VALUES (?, NULL, ?, ?)",
                         [(name, text, k) for k, (name, text) in enumerate(schemas.items())])
        conn.executemany("INSERT INTO TAP_SCHEMA.tables VALUES (?, ?, ?, ?, ?, ?)", [
            (t.schema, t.qualified_name, "table", t.utype or None,
             t.description, k) for k, t in enumerate(published)])
        rows = []
        for table in published:
            for k, c in enumerate(table.columns):
                std = int(table.schema in ("ivoa", "TAP_SCHEMA"))
                # TAP 1.1: reserved names are published delimited ("size"), ready to paste.
                name = f'"{c.name}"' if is_reserved(c.name) else c.name
                rows.append((table.qualified_name, name, c.datatype, c.arraysize, c.xtype,
                             None, c.description, c.utype or None, c.unit or None, c.ucd or None,
                             int(c.indexed), int(c.principal), std, k))
        conn.executemany("INSERT INTO TAP_SCHEMA.columns VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for k, (source, target, pairs) in enumerate(FOREIGN_KEYS):
            key_id = f"fk_{k}_{source.split('.')[-1]}"
            conn.execute("INSERT INTO TAP_SCHEMA.keys VALUES (?, ?, ?, ?, NULL)",
                         (key_id, source, target, f"{source} refers to {target}"))
            conn.executemany("INSERT INTO TAP_SCHEMA.key_columns VALUES (?, ?, ?)",
                             [(key_id, a, b) for a, b in pairs])

    def set_base_url(self, url):
        """Change the base of the ``access_url`` columns (the emulator's own URL).

        Examples
        --------
        >>> from astroquery_eso_ancillary.emulator.data import Archive
        >>> engine = Engine(Archive(products=0))
        >>> engine.set_base_url("http://127.0.0.1:8080")
        >>> engine.run("SELECT TOP 1 access_url FROM phase3v2.product_files").rows[0][0][:30]
        'http://127.0.0.1:8080/dataPort'
        """
        with self._lock:
            for schema in ("ivoa", "phase3v2"):
                self._conn.execute(f"UPDATE {schema}._config SET base_url = ?",
                                   (url.rstrip("/"),))

    # -- ADQL checks and translation

    def parse(self, adql):
        """Parse and check ADQL; return the sqlglot AST or raise `AdqlError`.

        Examples
        --------
        >>> from astroquery_eso_ancillary.emulator.data import Archive
        >>> Engine(Archive(products=0)).parse("SELECT a FROM t LIMIT 1")
        Traceback (most recent call last):
        ...
        astroquery_eso_ancillary.emulator.engine.AdqlError: LIMIT is not ADQL: use SELECT TOP n
        """
        if not isinstance(adql, str) or not adql.strip():
            raise AdqlError("Empty query: send one ADQL SELECT statement")
        try:
            tokens = sqlglot.tokenize(adql, read="tsql")
        except TokenError as exc:
            raise AdqlError(f"Cannot read the query: {exc}") from None
        first = tokens[0].text.upper() if tokens else ""
        if first != "SELECT":
            raise AdqlError(f"Only SELECT queries are allowed, not {first or 'an empty query'}")
        try:
            check_tokens(adql, tokens)
        except LanguageError as exc:
            raise AdqlError(str(exc)) from None
        try:
            statements = sqlglot.parse(adql, read="tsql")
        except ParseError as exc:
            raise AdqlError(f"ADQL syntax error: {_first_line(exc)}") from None
        statements = [s for s in statements if s is not None]
        if len(statements) != 1:
            raise AdqlError("Send exactly one ADQL SELECT statement")
        tree = statements[0]
        if not isinstance(tree, exp.Select):
            raise AdqlError(f"Only SELECT queries are allowed, not {tree.key.upper()}")
        self._check_nodes(tree)
        return tree

    def _check_nodes(self, tree):
        for node in tree.walk():
            if not isinstance(node, _ALLOWED_NODES):
                if isinstance(node, exp.Func):
                    raise AdqlError(f"Unknown function {_func_name(node)!r}: the ADQL "
                                    f"functions are {_ADQL_FUNCTIONS_TEXT}")
                raise AdqlError(f"Not ADQL: {node.sql(dialect='tsql')[:80]!r} "
                                f"({node.key.upper()} is not supported)")
            if isinstance(node, exp.Identifier) and not node.quoted and \
                    node.this.upper() in RESERVED_WORDS:
                raise AdqlError(str(reserved_word_error(node.this)))
            if isinstance(node, exp.Anonymous) and node.name.upper() not in _ADQL_ANONYMOUS:
                raise AdqlError(f"Unknown function {node.name!r}: the ADQL functions are "
                                f"{_ADQL_FUNCTIONS_TEXT}")
            if isinstance(node, exp.Subquery) and not isinstance(
                    node.parent, (exp.From, exp.Join, exp.In, exp.Exists)):
                # ADQL 2.0: subqueries in FROM, IN (...) and EXISTS (...) only
                raise AdqlError(f"A subquery as a value is not ADQL 2.0 "
                                f"({node.sql(dialect='tsql')[:60]!r}): use IN (SELECT ...) "
                                f"or a join")
            if isinstance(node, exp.Select):
                for arg in ("into", "locks", "hint", "kind", "operation_modifiers"):
                    if node.args.get(arg):
                        raise AdqlError(f"Not ADQL: {arg.upper()} in SELECT")
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            self._resolve_table(table, ctes)

    def _resolve_table(self, table, ctes):
        if table.args.get("catalog"):
            raise AdqlError(f"Unknown table {table.sql(dialect='tsql')!r}")
        db, name = table.text("db").lower(), table.name.lower()
        if not db and name in ctes:
            return
        if db:
            if f"{db}.{name}" not in self.tables:
                raise AdqlError(f"Unknown table '{table.text('db')}.{table.name}': the "
                                f"tables are {self._table_list()}")
            return
        matches = [t for t in self.tables.values() if t.name.lower() == name]
        if len(matches) != 1:
            raise AdqlError(f"Unknown table {table.name!r}: use a schema-qualified name "
                            f"among {self._table_list()}")
        table.set("db", exp.to_identifier(matches[0].schema))

    def _table_list(self):
        return ", ".join(t.qualified_name for t in self.tables.values())

    def translate(self, tree):
        """Qualify a checked AST against the schema and rewrite it for SQLite.

        Returns ``(qualified tree, sql)``.

        Examples
        --------
        >>> from astroquery_eso_ancillary.emulator.data import Archive
        >>> engine = Engine(Archive(products=0))
        >>> engine.translate(engine.parse("SELECT TOP 1 dp_id FROM ivoa.ObsCore"))[1]
        'SELECT "obscore"."dp_id" AS "dp_id" FROM "ivoa"."obscore" AS "obscore" LIMIT 1'
        """
        original, tree = tree, tree.copy()
        for ident in tree.find_all(exp.Identifier):
            # ADQL identifiers are case-insensitive; quoted ones only protect reserved words.
            ident.set("this", ident.this.lower())
        try:
            tree = qualify(tree, schema=self._schema, dialect="tsql",
                           validate_qualify_columns=True, quote_identifiers=False)
        except OptimizeError as exc:
            raise AdqlError(self._explain_unresolved(str(exc), original)) from None
        sqlite_tree = tree.copy()
        for node in list(sqlite_tree.walk()):
            if type(node) in _MATH_NODES:
                node.replace(self._anonymous(_MATH_NODES[type(node)], node))
            elif isinstance(node, exp.Log):
                node.replace(self._anonymous("ADQL_LOG10", node))
            elif isinstance(node, exp.Anonymous) and node.name.upper() == "LOG10":
                node.set("this", "ADQL_LOG10")
            elif isinstance(node, exp.Anonymous) and node.name.upper() == "TRUNCATE":
                node.set("this", "ADQL_TRUNCATE")
            elif isinstance(node, exp.Rand):
                node.replace(exp.Anonymous(this="ADQL_RAND", expressions=[
                    a for a in (node.this,) if a is not None]))
        self._add_cone_bounds(sqlite_tree)
        return tree, sqlite_tree.sql(dialect="sqlite", identify=True)

    def _add_cone_bounds(self, tree):
        """AND a ``s_dec BETWEEN`` bound to top-level cone predicates (same rows, indexed).

        ``CONTAINS(POINT(.., s_ra, s_dec), CIRCLE(.., ra, dec, r)) = 1`` implies
        ``|s_dec - dec| <= r``; ``INTERSECTS(s_region, CIRCLE(...)) = 1`` implies it
        within the widest footprint's half size.
        """
        for select in list(tree.find_all(exp.Select)):
            where = select.args.get("where")
            if where is None:
                continue
            bounds = [b for c in _conjuncts(where.this) if (b := self._cone_bound(c))]
            condition = where.this
            for bound in bounds:
                condition = exp.and_(condition, bound)
            where.set("this", condition)

    def _cone_bound(self, node):
        if not isinstance(node, exp.EQ):
            return None
        call = node.this if _number(node.expression) == 1 else (
            node.expression if _number(node.this) == 1 else None)
        if isinstance(call, exp.Contains):
            name, args = "CONTAINS", [call.this, call.expression]
        elif isinstance(call, exp.Anonymous) and call.name.upper() == "INTERSECTS":
            name, args = "INTERSECTS", list(call.expressions)
        else:
            return None
        if len(args) != 2:
            return None
        pairs = [(args[0], args[1])] if name == "CONTAINS" else [tuple(args), tuple(args[::-1])]
        for shape, circle in pairs:
            cone = _circle_literal(circle)
            if cone is None:
                continue
            dec, radius = cone
            column, margin = _point_dec_column(shape), 0.0
            if column is None and name == "INTERSECTS" and isinstance(shape, exp.Column) \
                    and shape.name.lower() == "s_region":
                column = exp.column("s_dec", table=shape.table or None)
                margin = self._region_margin
            if column is not None:
                reach = radius + margin + 1e-9
                return exp.Between(this=column.copy(), low=exp.Literal.number(dec - reach),
                                   high=exp.Literal.number(dec + reach))
        return None

    @staticmethod
    def _anonymous(name, node):
        if isinstance(node, exp.Log):       # LOG10(x) arrives as Log(this=10, expression=x)
            args = [node.args.get("expression") or node.this]
        else:
            args = [node.args[k] for k in node.arg_types
                    if isinstance(node.args.get(k), exp.Expression)]
        return exp.Anonymous(this=name, expressions=args)

    @staticmethod
    def _explain_unresolved(message, original):
        message = _first_line(message)
        match = re.match(r"Column '(?:\")?([^'\"]+)(?:\")?' could not be resolved", message)
        if match:
            name = match.group(1)
            for column in original.find_all(exp.Column):     # as the user spelled it
                if column.name.lower() == name.lower():
                    name = column.name
                    break
            return (f"Unknown column '{name}': it is not a column of the tables "
                    f"in the query (see TAP_SCHEMA.columns)")
        return f"Cannot resolve the query: {message}"

    # -- running

    def run(self, adql, *, maxrec=None, timeout=None, cancel=None):
        """Run an ADQL query.

        Parameters
        ----------
        adql : str
            One ADQL SELECT statement.
        maxrec : int or None
            Return at most this many rows; ``Result.overflow`` tells whether more
            existed. ``TOP`` applies first.
        timeout : float or None
            Abort (`QueryTimeoutError`) after this many seconds.
        cancel : threading.Event, optional
            Abort (`QueryAbortedError`) as soon as it is set (UWS ABORT).

        Returns
        -------
        Result

        Raises
        ------
        AdqlError
            Bad ADQL (with a message for the user) or a failure while running.

        Examples
        --------
        >>> from astroquery_eso_ancillary.emulator.data import Archive
        >>> engine = Engine(Archive(products=0))
        >>> engine.run("SELECT COUNT(*) AS n FROM ivoa.ObsCore").rows
        [(3,)]
        """
        started = time.perf_counter()
        parsed = self.parse(adql)
        self.last_parsed = parsed
        qualified, sql = self.translate(parsed)
        columns = self._columns(parsed, qualified)
        if maxrec is not None and (not isinstance(maxrec, int) or maxrec < 0):
            raise AdqlError(f"MAXREC must be a non-negative integer, not {maxrec!r}")
        watched = timeout is not None or cancel is not None
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise QueryAbortedError("The query was aborted")
            if watched:
                deadline = math.inf if timeout is None else time.monotonic() + timeout
                self._conn.set_progress_handler(
                    lambda: int(time.monotonic() > deadline
                                or (cancel is not None and cancel.is_set())), _CHECK_EVERY)
            self._function_error = None
            try:
                cursor = self._conn.execute(sql)
                if maxrec is None:
                    rows, overflow = cursor.fetchall(), False
                else:
                    rows = cursor.fetchmany(maxrec + 1)
                    overflow = len(rows) > maxrec
                    del rows[maxrec:]
                cursor.close()
            except sqlite3.OperationalError as exc:
                if watched and "interrupted" in str(exc):
                    if cancel is not None and cancel.is_set():
                        raise QueryAbortedError("The query was aborted") from None
                    raise QueryTimeoutError(f"Query exceeded the execution duration of "
                                            f"{timeout:g} s") from None
                raise QueryExecutionError(
                    f"Query failed: {self._function_error or exc}") from None
            except (sqlite3.Error, GeometryError, ValueError) as exc:
                raise QueryExecutionError(
                    f"Query failed: {self._function_error or exc}") from None
            finally:
                if watched:
                    self._conn.set_progress_handler(None, 0)
        columns = _refine_types(columns, rows)
        return Result(columns, rows, overflow, sql, parsed, adql,
                      time.perf_counter() - started)

    # -- result metadata

    def _columns(self, parsed, qualified):
        select = qualified
        while isinstance(select, (exp.Union, exp.Except, exp.Intersect)):
            select = select.this
        if isinstance(select, exp.Subquery):
            select = select.unnest()
        sources = {}
        for table in select.find_all(exp.Table):
            if table.parent_select is select and table.text("db"):
                key = f"{table.text('db')}.{table.name}".lower()
                if key in self.tables:
                    sources[table.alias_or_name.lower()] = self.tables[key]
        original = parsed
        while isinstance(original, (exp.Union, exp.Except, exp.Intersect)):
            original = original.this
        aliases = {e.alias.lower(): e.alias for e in original.expressions
                   if isinstance(e, exp.Alias)}
        plain = not any(isinstance(e, exp.Star) or
                        (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                        for e in original.expressions)
        columns, seen = [], set()
        for k, projection in enumerate(select.expressions):
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            source = original.expressions[k] if plain and k < len(original.expressions) \
                else None
            if isinstance(source, exp.Alias) or not plain:
                name = aliases.get(projection.alias_or_name.lower(),
                                   projection.alias_or_name)
            elif isinstance(inner, exp.Column):
                name = inner.name
            else:
                name = _expression_name(inner, k)
            col = self._column_meta(inner, sources)
            unique, n = name, 2
            while unique.lower() in seen:
                unique, n = f"{name}_{n}", n + 1
            seen.add(unique.lower())
            if col is not None:
                columns.append(ColumnInfo(unique, col.datatype, col.unit, col.ucd,
                                          col.description, col.arraysize, col.xtype,
                                          col.utype))
            else:
                columns.append(ColumnInfo(unique, *_derived_type(inner)))
        return columns

    @staticmethod
    def _column_meta(node, sources):
        if not isinstance(node, exp.Column):
            return None
        table = sources.get(node.table.lower())
        if table is None:
            return None
        for col in table.columns:
            if col.name.lower() == node.name.lower():
                return col
        return None


def _conjuncts(node):
    """The terms of a chain of ANDs (through parentheses)."""
    if isinstance(node, exp.Paren):
        yield from _conjuncts(node.this)
    elif isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def _number(node):
    """The value of a numeric literal (possibly negated), else None."""
    if isinstance(node, exp.Paren):
        return _number(node.this)
    if isinstance(node, exp.Neg):
        value = _number(node.this)
        return None if value is None else -value
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None


def _circle_literal(node):
    """(dec, radius) of ``CIRCLE([frame,] ra, dec, r)`` with literal numbers, else None."""
    if not isinstance(node, exp.Anonymous) or node.name.upper() != "CIRCLE":
        return None
    args = list(node.expressions)
    if len(args) == 4:
        args = args[1:]
    if len(args) != 3:
        return None
    values = [_number(a) for a in args]
    if any(v is None for v in values) or values[2] < 0:
        return None
    return values[1], values[2]


def _point_dec_column(node):
    """The ``s_dec`` column of ``POINT([frame,] s_ra, s_dec)``, else None."""
    if not isinstance(node, exp.Anonymous) or node.name.upper() != "POINT":
        return None
    args = list(node.expressions)
    dec = args[-1] if len(args) in (2, 3) else None
    if isinstance(dec, exp.Column) and dec.name.lower() == "s_dec":
        return dec
    return None


def _first_line(exc):
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _func_name(node):
    if isinstance(node, exp.Anonymous):
        return node.name
    return node.sql_name() if hasattr(node, "sql_name") else node.key.upper()


def _expression_name(node, k):
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, (exp.Func, exp.Mod)):
        return node.key.lower()
    return f"col{k + 1}"


_GEOMETRY_XTYPES = {"POINT": "point", "CIRCLE": "circle", "POLYGON": "polygon",
                    "BOX": "polygon", "CENTROID": "point"}


def _derived_type(node):
    """(datatype, unit, ucd, description, arraysize, xtype) of a computed column."""
    if isinstance(node, exp.Count):
        return ("long", "", "meta.number", "Number of rows", None, None)
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        if name in _GEOMETRY_XTYPES:
            return ("char", "", "", "", "*", _GEOMETRY_XTYPES[name])
        if name == "DISTANCE":
            return ("double", "deg", "pos.angDistance", "Angular distance", None, None)
        if name in ("CONTAINS", "INTERSECTS"):
            return ("int", "", "", "", None, None)
    if isinstance(node, exp.Contains):
        return ("int", "", "", "", None, None)
    if isinstance(node, (exp.DPipe, exp.Lower, exp.Upper)):
        return ("char", "", "", "", "*", None)
    return (None, "", "", "", None, None)     # decided from the values


def _refine_types(columns, rows):
    """Give computed columns without a known type one from their values."""
    if all(c.datatype is not None for c in columns):
        return columns
    out = []
    for k, col in enumerate(columns):
        if col.datatype is not None:
            out.append(col)
            continue
        kinds = {type(row[k]) for row in rows if row[k] is not None}
        if kinds and kinds <= {int}:
            datatype = "long"
        elif kinds and kinds <= {int, float}:
            datatype = "double"
        else:
            datatype = "char"
        out.append(ColumnInfo(str(col), datatype, col.unit, col.ucd, col.description,
                              None, col.xtype, col.utype))
    return out
