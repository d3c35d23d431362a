# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The query language the emulated TAP service declares, and its lexical rules.

ESO's ``tap_obs`` declares ADQL 2.0 (no optional features but the ADQL
geometry), and so does the emulator: `capabilities` in ``vosi.py`` is written
from the names here, and the engine (``engine.py``) refuses anything outside
them. That keeps "what the capabilities declare" and "what is accepted" one
list. ADQL 2.1 additions (``LOWER``, ``UPPER``, ``ILIKE``, ``OFFSET``, ``CAST``,
``COALESCE``, ``WITH``, ``UNION`` / ``EXCEPT`` / ``INTERSECT``, ``CASE``) are
refused, as an ADQL 2.0 parser refuses them; so are non-ADQL SQL (``LIMIT``,
``ESCAPE``, ``::`` casts, backticks, ``[brackets]``, ``%``, ``@variables``) and
reserved words used as bare identifiers (``size``, ``value``, ``first`` ... must
be written ``"size"``).

`check_tokens` works on sqlglot tokens; it imports nothing else of the emulator.

Examples
--------
>>> from astroquery_eso_ancillary.emulator.language import is_reserved
>>> is_reserved("size"), is_reserved("dp_id")
(True, False)
"""
from __future__ import annotations

import re

from sqlglot.tokens import TokenType

__all__ = [
    "ADQL_FUNCTIONS",
    "ADQL_IVO_ID",
    "ADQL_VERSION",
    "GEOMETRY_FUNCTIONS",
    "LANGUAGE_FEATURES",
    "RESERVED_WORDS",
    "LanguageError",
    "check_tokens",
    "is_reserved",
    "reserved_word_error",
]

#: The one language version declared in /capabilities and accepted in LANG.
ADQL_VERSION = "2.0"
ADQL_IVO_ID = "ivo://ivoa.net/std/ADQL#v2.0"

#: ADQL 2.0 geometry functions the engine implements (REGION is not: it is not declared).
GEOMETRY_FUNCTIONS = ("AREA", "BOX", "CENTROID", "CIRCLE", "CONTAINS", "COORD1", "COORD2",
                      "COORDSYS", "DISTANCE", "INTERSECTS", "POINT", "POLYGON")

#: TAPRegExt optional features declared: only the geometry, as ESO does.
LANGUAGE_FEATURES = {"ivo://ivoa.net/std/TAPRegExt#features-adqlgeo": GEOMETRY_FUNCTIONS}

_MATH = ("ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CEILING", "COS", "COT", "DEGREES", "EXP",
         "FLOOR", "LOG", "LOG10", "MOD", "PI", "POWER", "RADIANS", "RAND", "ROUND", "SIN",
         "SQRT", "TAN", "TRUNCATE")
_AGGREGATES = ("AVG", "COUNT", "MAX", "MIN", "SUM")

#: Every function name a query may call.
ADQL_FUNCTIONS = frozenset(_MATH + _AGGREGATES + GEOMETRY_FUNCTIONS)

# ADQL 2.0 section 2.1.2: ADQL's own reserved words plus the SQL-92 reserved words. CROSS
# and DEC are left out: VOLLT's parser (ESO's) accepts them as names (``dec`` columns).
_ADQL_WORDS = """ABS ACOS AREA ASIN ATAN ATAN2 BOX CEILING CENTROID CIRCLE CONTAINS COORD1
COORD2 COORDSYS COS COT DEGREES DISTANCE EXP FLOOR INTERSECTS LOG LOG10 MOD PI POINT POLYGON
POWER RADIANS REGION RAND ROUND SIN SQRT TOP TAN TRUNCATE"""
_SQL_WORDS = """ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT
AUTHORIZATION AVG BEGIN BETWEEN BIT BIT_LENGTH BOTH BY CASCADE CASCADED CASE CAST CATALOG CHAR
CHARACTER CHAR_LENGTH CHARACTER_LENGTH CHECK CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT
CONNECT CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE
CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DAY DEALLOCATE
DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS
DISCONNECT DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION EXEC EXECUTE
EXISTS EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO GOTO
GRANT GROUP HAVING HOUR IDENTITY IMMEDIATE IN INDICATOR INITIALLY INNER INPUT INSENSITIVE INSERT
INT INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST LEADING LEFT LEVEL LIKE
LOCAL LOWER MATCH MAX MIN MINUTE MODULE MONTH NAMES NATIONAL NATURAL NCHAR NEXT NO NOT NULL
NULLIF NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT OVERLAPS PAD PARTIAL
POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE PUBLIC READ REAL
REFERENCES RELATIVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECOND SECTION SELECT
SESSION SESSION_USER SET SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE SUBSTRING SUM
SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO TRAILING
TRANSACTION TRANSLATE TRANSLATION TRIM TRUE UNION UNIQUE UNKNOWN UPDATE UPPER USAGE USER USING
VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE"""

#: Words that cannot be bare identifiers (compare upper-cased).
RESERVED_WORDS = frozenset((_ADQL_WORDS + " " + _SQL_WORDS).split())


class LanguageError(ValueError):
    """The query uses something outside the declared language (message for the user)."""


def is_reserved(word):
    """True if ``word`` must be written between double quotes to be an identifier.

    Examples
    --------
    >>> is_reserved("Value"), is_reserved("target_name")
    (True, False)
    """
    return str(word).upper() in RESERVED_WORDS


_FUNCTIONS_TEXT = ", ".join(sorted(ADQL_FUNCTIONS))

# Optional or later-ADQL features that an ADQL 2.0 service refuses, with the reason.
_NOT_ADQL_20 = {
    "LOWER": "LOWER() is not ADQL 2.0 (an optional ADQL 2.1 feature this service does not "
             "declare): compare with the exact case, or use LIKE",
    "UPPER": "UPPER() is not ADQL 2.0 (ADQL 2.1; not declared by this service)",
    "COALESCE": "COALESCE() is not ADQL 2.0 (ADQL 2.1; not declared by this service)",
    "CAST": "CAST is not ADQL 2.0 (an optional ADQL 2.1 feature this service does not "
            "declare)",
    "REGION": "REGION() is not supported by this service (see its /capabilities)",
}

_REFUSED_TOKENS = {
    TokenType.LIMIT: "LIMIT is not ADQL: use SELECT TOP n",
    TokenType.OFFSET: "OFFSET is not ADQL 2.0 (an optional ADQL 2.1 feature this service "
                      "does not declare)",
    TokenType.ILIKE: "ILIKE is not ADQL 2.0 (an optional ADQL 2.1 feature this service does "
                     "not declare): LIKE is case-sensitive",
    TokenType.ESCAPE: "ESCAPE is not part of ADQL's LIKE (it is only a reserved word); "
                      "match literal '_' or '%' with = or IN, or filter the rows afterwards",
    TokenType.FETCH: "FETCH is not ADQL: use SELECT TOP n",
    TokenType.MOD: "the % operator is not ADQL: use MOD(x, y)",
    TokenType.DCOLON: "the :: cast is not ADQL (PostgreSQL syntax)",
    TokenType.UNION: "UNION is not ADQL 2.0 (an optional ADQL 2.1 feature this service does "
                     "not declare): run the queries one by one",
    TokenType.EXCEPT: "EXCEPT is not ADQL 2.0 (an optional ADQL 2.1 feature this service "
                      "does not declare)",
    TokenType.INTERSECT: "INTERSECT is not ADQL 2.0 (an optional ADQL 2.1 feature this "
                         "service does not declare)",
    TokenType.WITH: "WITH (common table expressions) is not ADQL 2.0 (an optional ADQL 2.1 "
                    "feature this service does not declare): use a subquery",
    TokenType.CASE: "CASE is not ADQL",
    TokenType.CROSS: "CROSS JOIN is not ADQL 2.0: list the tables with commas (FROM a, b)",
    TokenType.TRUE: "TRUE is not an ADQL value: compare with 1 or 0",
    TokenType.FALSE: "FALSE is not an ADQL value: compare with 1 or 0",
}
if hasattr(TokenType, "PERCENT"):      # TOP n PERCENT (T-SQL only)
    _REFUSED_TOKENS[TokenType.PERCENT] = "TOP ... PERCENT is not ADQL"

# Words that may stand before "(" without being a function call.
_BEFORE_PAREN = frozenset({"IN", "EXISTS", "NOT", "AND", "OR", "FROM", "JOIN", "ON", "WHERE",
                           "SELECT", "HAVING", "USING", "DISTINCT", "ALL", "ANY", "SOME",
                           "BETWEEN", "LIKE", "AS", "BY", "IS"})
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_tokens(adql, tokens):
    """Refuse non-ADQL-2.0 tokens of a query (sqlglot T-SQL tokens of ``adql``).

    Raises
    ------
    LanguageError
        With a message naming the offending text and what ADQL offers instead.

    Examples
    --------
    >>> import sqlglot
    >>> text = "SELECT LOWER(a) FROM t"
    >>> check_tokens(text, sqlglot.tokenize(text, read="tsql"))
    Traceback (most recent call last):
    ...
    astroquery_eso_ancillary.emulator.language.LanguageError: LOWER() is not ADQL 2.0 (an \
optional ADQL 2.1 feature this service does not declare): compare with the exact case, or use LIKE
    """
    for k, token in enumerate(tokens):
        kind = token.token_type
        following = tokens[k + 1] if k + 1 < len(tokens) else None
        previous = tokens[k - 1] if k > 0 else None
        if kind in _REFUSED_TOKENS:
            raise LanguageError(_REFUSED_TOKENS[kind])
        if kind == TokenType.NULL and not (previous is not None and previous.text.upper()
                                           in ("IS", "NOT")):
            raise LanguageError("NULL is only ADQL in IS NULL and IS NOT NULL")
        if kind == TokenType.COMMA and following is not None and \
                following.token_type in (TokenType.FROM, TokenType.R_PAREN):
            raise LanguageError(f"ADQL syntax error: a ',' before {following.text!r} "
                                f"(line {token.line})")
        if kind == TokenType.SEMICOLON and following is not None:
            raise LanguageError("Only one statement is allowed: remove the ';' and what "
                                "follows it")
        if token.text == "`" or (kind == TokenType.UNKNOWN and "`" in token.text):
            raise LanguageError("Backtick-quoted identifiers are not ADQL: use double quotes "
                                "(\"name\")")
        if kind == TokenType.IDENTIFIER and adql[token.start] == "[":
            raise LanguageError(f"Square brackets around identifiers are not ADQL "
                                f"([{token.text}]): use double quotes (\"{token.text}\")")
        if kind in (TokenType.PARAMETER, TokenType.SESSION_PARAMETER) or \
                token.text.startswith("@"):
            raise LanguageError(f"Variables and parameters ({token.text}) are not ADQL")
        if kind in (TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER) or \
                not _WORD.match(token.text):
            continue
        word = token.text.upper()
        if following is not None and following.token_type == TokenType.L_PAREN and \
                word not in _BEFORE_PAREN and not (previous is not None
                                                   and previous.token_type == TokenType.DOT):
            if word in _NOT_ADQL_20:
                raise LanguageError(_NOT_ADQL_20[word])
            if word not in ADQL_FUNCTIONS:
                raise LanguageError(f"Unknown function {token.text!r}: the ADQL 2.0 "
                                    f"functions of this service are {_FUNCTIONS_TEXT}")
        elif kind == TokenType.VAR and word in RESERVED_WORDS:
            raise reserved_word_error(token.text)


def reserved_word_error(word):
    """The error for a reserved word used as a bare identifier.

    Examples
    --------
    >>> str(reserved_word_error("size"))[:40]
    "'size' is a reserved ADQL/SQL word: to u"
    """
    return LanguageError(f"{word!r} is a reserved ADQL/SQL word: to use it as a column, "
                         f"table or alias name, write it between double quotes (\"{word}\")")
