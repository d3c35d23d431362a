# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The ``eso-ancillary`` command: the package's calls from a shell.

Each subcommand mirrors one method of `~astroquery_eso_ancillary.EsoClass`
(``files``, ``query``, ``categories``, ``download``, ``login``), plus
``serve`` (the local archive emulator) and ``demo`` (the offline tour).
Exit codes: 0 success, 1 a failure (the archive refused or could not be
reached, the selection found nothing, some downloads failed), 2 a usage error
(a bad option or value, a name the archive does not have, a malformed id).
"""
import argparse
import contextlib
import json
import logging
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from astropy.table import Table

# Only the option table (argparse); the emulator itself is imported when `serve` runs.
from .emulator import options as emulator_options

__all__ = ["main"]

EXIT_OK = 0
EXIT_INTERRUPTED = 130  # as a shell reports a program stopped by Ctrl-C
EXIT_FAILURE = 1
EXIT_USAGE = 2

#: ``--format`` names and the astropy writer each uses (json is written here).
FORMATS = {"csv": "ascii.csv", "ecsv": "ascii.ecsv", "votable": "votable", "json": None}
#: File name endings and the format they imply.
EXTENSIONS = {".csv": "csv", ".ecsv": "ecsv", ".xml": "votable", ".vot": "votable",
              ".votable": "votable", ".json": "json"}
#: Environment variables read as defaults of the endpoint options.
ENDPOINT_ENV = {"tap_url": "ESO_TAP_URL", "datalink_url": "ESO_DATALINK_URL",
                "download_url": "ESO_DOWNLOAD_URL"}


class UsageError(Exception):
    """A value given on the command line cannot be used (exit code 2)."""


# -- parser ---------------------------------------------------------------------------


def _comma_list(values):
    """Flatten repeated, comma-separated option values into one list (None if unset)."""
    if not values:
        return None
    items = [item.strip() for value in values for item in value.split(",")]
    items = [item for item in items if item]
    return items or None


def _one_or_many(items):
    """A single value as itself, several as a list: the API accepts both."""
    if items is None:
        return None
    return items[0] if len(items) == 1 else items


_FILTER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(.*)$", re.DOTALL)


def parse_filter(text):
    """Split ``COL=VALUE`` (or ``COL<3``, ``COL>=3`` ...) into ``(column, value)``.

    The value keeps astroquery's operator syntax (``< 3``, ``like 'NGC%'``,
    ``in ('A', 'B')``, ``between 1 and 2``; a bare value means equality); the
    package parses and quotes it.

    Examples
    --------
    >>> parse_filter("target_name=like 'NGC%'")
    ('target_name', "like 'NGC%'")
    >>> parse_filter("access_estsize>=100")
    ('access_estsize', '>=100')
    """
    match = _FILTER_RE.match(text)
    if not match or not match.group(2).strip():
        raise UsageError(f"bad filter {text!r}: expected COLUMN=VALUE, e.g. "
                         "\"target_name=like 'NGC%'\" or \"access_estsize>=100\"")
    column, rest = match.group(1), match.group(2).strip()
    if rest.startswith("="):  # COL=VALUE; what follows may be an operator of its own
        rest = rest[1:].strip()
    if not rest:
        raise UsageError(f"bad filter {text!r}: no value after the column name")
    return column, rest


def _filters(values):
    if not values:
        return None
    result = {}
    for text in values:
        column, value = parse_filter(text)
        if column in result:
            raise UsageError(f"column {column!r} is filtered twice; combine the conditions "
                             "in one filter (e.g. \"between 1 and 2\")")
        result[column] = value
    return result


def _common_options():
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("archive")
    group.add_argument("--archive", metavar="URL", default=os.environ.get("ESO_ARCHIVE_URL"),
                       help="base URL of an archive laid out as ESO's (an emulator, a mirror); "
                            "default: $ESO_ARCHIVE_URL, else ESO")
    for name, env in ENDPOINT_ENV.items():
        group.add_argument("--" + name.replace("_", "-"), metavar="URL", dest=name,
                           default=os.environ.get(env),
                           help=f"override one endpoint (default: ${env})")
    group.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="timeout of one HTTP request")
    group.add_argument("--no-cache", action="store_true",
                       help="do not use astroquery's query cache")
    group = parent.add_argument_group("messages")
    group.add_argument("--debug", action="store_true",
                       help="show tracebacks and debug messages")
    group.add_argument("--verbose", action="store_true", help="show informational messages")
    group.add_argument("--quiet", action="store_true",
                       help="show only errors and warnings (no table, no progress bar)")
    return parent


def _output_options():
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument("--output", "-o", metavar="FILE",
                       help="write the table to FILE (format from its extension: "
                            ".csv, .ecsv, .xml/.vot, .json); '-' for standard output")
    group.add_argument("--format", choices=sorted(FORMATS),
                       help="table format of --output, or of standard output without it")
    group.add_argument("--columns", action="append", metavar="COL[,COL...]",
                       help="columns to show (repeatable or comma-separated)")
    return parent


def _login_options():
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("login")
    group.add_argument("--username", help="log in to ESO first, as this user (password from "
                                          "the keyring, else asked for; see 'login')")
    group.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
    return parent


def _product_options(group, *, flag):
    """``--product-id``/``--product-ids``/``--dp-id``: the API's product_ids (and dp_id)."""
    names = ("--product-id", "--product-ids", "--dp-id") if flag else ()
    if names:
        group.add_argument(*names, action="append", metavar="PRODUCT_ID", dest="product_id",
                           help="only files of these products (repeatable or "
                                "comma-separated)")


def _name_options(group):
    """The product-property options shared by ``query``, ``categories`` and ``download``."""
    group.add_argument("--collection", "--collections", action="append", metavar="NAME",
                       dest="collection",
                       help="ObsCore obs_collection, e.g. MUSE (any case: matched to the "
                            "archive's spelling; wildcards * and ?)")
    group.add_argument("--instrument", "--instruments", action="append", metavar="NAME",
                       dest="instrument",
                       help="ObsCore instrument_name, e.g. ESPRESSO (any case; wildcards)")
    group.add_argument("--target", "--coordinates", metavar="NAME_OR_POSITION",
                       dest="target",
                       help="products around a position: an object name (resolved with "
                            "Sesame, needs the network) or ICRS coordinates such as "
                            "\"03h33m36s -36d08m25s\"; radius from --radius")
    group.add_argument("--radius", metavar="ANGLE",
                       help="radius of --target, e.g. 5arcmin or 0.1 (degrees); default "
                            "1arcmin")
    group.add_argument("--cone", metavar="RA DEC RADIUS",
                       help="sky cone (ICRS), three values: degrees (53.4 -36.14 0.1), "
                            "sexagesimal RA in hours and Dec in degrees (03:33:36 -36:08:25 "
                            "5arcmin), or values with units (53.4deg -36.14deg 5arcmin)")


def _selection_options(*, product_ids_help):
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("product_ids", nargs="*", metavar="PRODUCT_ID", help=product_ids_help)
    group = parent.add_argument_group("selection (repeatable or comma-separated)")
    _product_options(group, flag=True)
    _name_options(group)
    group.add_argument("--category", "--categories", action="append", metavar="PATTERN",
                       dest="category",
                       help="eso_category, exact or with * wildcards, any case "
                            "(default: ANCILLARY.*; '*' for every file)")
    group.add_argument("--extension", "--extensions", action="append", metavar="EXT",
                       dest="extension", help="file extension, e.g. FITS or PNG")
    group.add_argument("--original-filename", action="append", metavar="PATTERN",
                       help="original file name, exact or with * wildcards (repeatable)")
    group.add_argument("--filter", "--column-filter", "--column-filters", action="append",
                       metavar="COL=VALUE", dest="filter",
                       help="product_files column filter in astroquery's syntax, e.g. "
                            "\"access_estsize>100\" (repeatable)")
    group.add_argument("--obscore-filter", "--obscore-filters", action="append",
                       metavar="COL=VALUE", dest="obscore_filter",
                       help="ivoa.ObsCore column filter, e.g. \"target_name=like 'NGC%%'\"")
    group.add_argument("--top", type=int, metavar="N", help="at most N rows")
    return parent


def join_cone_values(argv):
    """``--cone RA DEC RADIUS`` as one value, so that argparse reads a declination
    such as ``-36:08:25`` as a value rather than as an option.

    Examples
    --------
    >>> join_cone_values(["query", "--cone", "03:33:36", "-36:08:25", "5arcmin", "--count"])
    ['query', '--cone=03:33:36 -36:08:25 5arcmin', '--count']
    """
    out, i = [], 0
    while i < len(argv):
        item = str(argv[i])
        if item == "--" :
            out.extend(str(a) for a in argv[i:])
            break
        if item == "--cone" and i + 1 < len(argv) and " " not in str(argv[i + 1]).strip():
            out.append("--cone=" + " ".join(str(a) for a in argv[i + 1:i + 4]))
            i += 4
            continue
        out.append(item)
        i += 1
    return out


def build_parser():
    """The argument parser of ``eso-ancillary`` (used by `main` and the docs)."""
    common, output, login = _common_options(), _output_options(), _login_options()
    parser = argparse.ArgumentParser(
        prog="eso-ancillary",
        description="Find and download the ancillary files of ESO Science Archive products.",
        epilog="Exit codes: 0 success, 1 failure (archive error, nothing found, failed "
               "downloads), 2 usage error (bad option or value, unknown name).")
    parser.add_argument("--version", action="version", version="%(prog)s " + _version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cmd = commands.add_parser(
        "files", parents=[common, output, login],
        help="every file of one or more products (Eso.get_product_files)",
        description="List every file (science and ancillary) of the given products.")
    cmd.add_argument("product_ids", nargs="*", metavar="PRODUCT_ID",
                     help="the products (also --product-ids)")
    group = cmd.add_argument_group("selection (repeatable or comma-separated)")
    _product_options(group, flag=True)
    group.add_argument("--category", "--categories", action="append", metavar="PATTERN",
                       dest="category",
                       help="only files of these categories (exact or with * wildcards, "
                            "any case)")
    cmd.set_defaults(handler=_cmd_files)

    cmd = commands.add_parser(
        "query",
        parents=[_selection_options(product_ids_help="only files of these products"),
                 common, output, login],
        help="select ancillary files (Eso.query_ancillary)",
        description="Select ancillary files by product, collection, instrument, category, "
                    "extension, file name, sky cone or any column.")
    cmd.add_argument("--count", "--count-only", action="store_true", dest="count",
                     help="only the number of files (printed, or written to --output)")
    cmd.add_argument("--row-limit", "--ROW_LIMIT", "--maxrec", type=int, metavar="N",
                     dest="row_limit", help="Eso.ROW_LIMIT for this query (-1: no limit)")
    cmd.set_defaults(handler=_cmd_query)

    cmd = commands.add_parser(
        "categories", parents=[common, output],
        help="file categories with counts and sizes (Eso.list_ancillary_categories)",
        description="List the ancillary file categories (eso_category), with their number "
                    "of files (n_files) and total estimated size (access_estsize, kB), most "
                    "frequent first; for the whole archive, or for products selected by "
                    "collection, instrument, sky position or id.")
    group = cmd.add_argument_group("selection (repeatable or comma-separated)")
    _product_options(group, flag=True)
    _name_options(group)
    cmd.set_defaults(handler=_cmd_categories)

    cmd = commands.add_parser(
        "download",
        parents=[_selection_options(product_ids_help="download files of these products"),
                 common, output, login],
        help="download files (Eso.download_ancillary) and write a manifest",
        description="Download the files of the given products, of a selection (the options "
                    "of 'query'), or listed in a table written by 'query --output'. The "
                    "manifest (one row per file, with its status) is written to --output, "
                    "else to DESTINATION/manifest.ecsv.")
    cmd.add_argument("--from-table", metavar="FILE",
                     help="a table with an archive_id column (e.g. from 'query --output')")
    cmd.add_argument("--destination", "-d", metavar="DIR",
                     help="download folder (default: conf.download_dir, ./eso-ancillary)")
    cmd.add_argument("--workers", type=int, metavar="N", help="parallel downloads")
    cmd.add_argument("--overwrite", action="store_true",
                     help="download again files already complete on disk")
    cmd.add_argument("--no-resume", action="store_true",
                     help="restart interrupted downloads instead of resuming them")
    cmd.add_argument("--unzip", action="store_true", help="decompress .Z/.gz files")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar")
    cmd.set_defaults(handler=_cmd_download)

    cmd = commands.add_parser(
        "login", parents=[common],
        help="check ESO credentials (and store the password in the keyring)",
        description="Log in to ESO to check the credentials. The token is not kept: later "
                    "commands log in again with --username, reading the password from the "
                    "keyring (see --store-password) or asking for it.")
    cmd.add_argument("--username", required=True)
    cmd.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    cmd.add_argument("--store-password", action="store_true",
                     help="store the password in the system keyring, as astroquery does")
    cmd.add_argument("--reenter-password", action="store_true",
                     help="ask for the password even if the keyring has one")
    cmd.set_defaults(handler=_cmd_login)

    cmd = commands.add_parser(
        "serve", help="run the local ESO archive emulator",
        description="Serve the local ESO archive emulator until interrupted. The first "
                    "line printed is its base URL (use it with --archive or "
                    "ESO_ARCHIVE_URL).")
    # The emulator's own options, so this and `python -m ...emulator` take the same ones.
    emulator_options.add_arguments(cmd)
    cmd.add_argument("--debug", action="store_true", help="show tracebacks")
    cmd.set_defaults(handler=_cmd_serve, quiet=False, verbose=False)

    cmd = commands.add_parser(
        "demo", help="offline tour: the HOWTO examples against a local emulator",
        description="Start the archive emulator in this process, run the three examples of "
                    "ESO's HOWTO 'How to search for ancillary files' and download the "
                    "previews of Example 3. Needs no network.")
    cmd.add_argument("--destination", "-d", default="eso-ancillary-demo", metavar="DIR",
                     help="download folder (default: ./eso-ancillary-demo)")
    cmd.add_argument("--debug", action="store_true", help="show tracebacks")
    cmd.set_defaults(handler=_cmd_demo, quiet=False, verbose=False)
    return parser


def _version():
    try:
        from importlib.metadata import version
        return version("astroquery_eso_ancillary")
    except Exception:  # not installed (run from a source tree)
        return "unknown"


# -- helpers --------------------------------------------------------------------------


def make_eso(args, *, login=True):
    """An `EsoClass` pointed where the options (or their environment variables) say.

    With ``--username`` (and ``login``), it is logged in before it is returned.
    """
    from . import EsoClass

    eso = EsoClass(archive_url=args.archive or None, tap_url=args.tap_url or None,
                   datalink_url=args.datalink_url or None,
                   download_url=args.download_url or None, timeout=args.timeout)
    username = getattr(args, "username", None)
    if login and username:
        _login(eso, username, password_stdin=args.password_stdin)
    return eso


def _login(eso, username, *, password_stdin=False, store_password=False,
           reenter_password=False):
    from . import _compat
    from .exceptions import LoginError

    with _captured_log() as records:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise UsageError("--password-stdin: standard input held no password")
            ok = _compat.authenticate(eso, username, password)
            if ok and store_password:
                _compat.store_password(username, password)
            del password
        else:
            ok = eso.login(username=username, store_password=store_password,
                           reenter_password=reenter_password)
    if not ok:
        # The reason was logged by the login code; fold it into the one error line.
        why = "; ".join(record.getMessage() for record in records
                        if record.levelno >= logging.ERROR)
        raise LoginError(f"ESO login failed for user {username!r} at {eso.AUTH_URL}"
                         + (f": {why}" if why else ""))
    for record in records:
        if logging.WARNING <= record.levelno < logging.ERROR:
            _note(f"warning: {record.getMessage()}")
    return eso


@contextlib.contextmanager
def _captured_log():
    """Collect astroquery's WARNING and ERROR records of a block instead of printing them."""
    from astroquery import log as astroquery_log

    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    saved = astroquery_log.handlers[:], astroquery_log.propagate
    astroquery_log.handlers[:] = [Collect(level=logging.WARNING)]
    astroquery_log.propagate = False
    try:
        yield records
    finally:
        astroquery_log.handlers[:], astroquery_log.propagate = saved


def _pick_columns(table, columns):
    if not columns:
        return table
    unknown = [name for name in columns if name not in table.colnames]
    if unknown:
        raise UsageError(f"unknown column(s) {', '.join(unknown)}; the table has: "
                         f"{', '.join(table.colnames)}")
    return table[columns]


def output_format(args):
    """The table format asked for by ``--format`` or implied by ``--output``'s extension."""
    if args.format:
        return args.format
    if args.output and args.output != "-":
        suffix = Path(args.output).suffix.lower()
        if suffix not in EXTENSIONS:
            raise UsageError(f"cannot tell the format of {args.output!r} from its extension; "
                             f"use {', '.join(EXTENSIONS)} or --format "
                             f"({', '.join(sorted(FORMATS))})")
        return EXTENSIONS[suffix]
    return None


def _json_value(value):
    if value is np.ma.masked or isinstance(value, np.ma.core.MaskedConstant):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return [_json_value(item) for item in value]
    return value


def table_to_json(table):
    """The rows of ``table`` as a JSON list of objects (masked and NaN values as null).

    Examples
    --------
    >>> from astropy.table import Table
    >>> print(table_to_json(Table({"archive_id": ["ADP.1"], "access_estsize": [340]})))
    [
     {"archive_id": "ADP.1", "access_estsize": 340}
    ]
    """
    names = table.colnames
    lines = [json.dumps({name: _json_value(row[name]) for name in names}) for row in table]
    if not lines:
        return "[]"
    return "[\n " + ",\n ".join(lines) + "\n]"


def table_from_json(text, *, source="JSON"):
    """A Table from a JSON list of objects, as `table_to_json` writes it."""
    try:
        rows = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} is not valid JSON ({exc})") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UsageError(f"{source} must hold a JSON list of objects (one per row)")
    if not rows:
        return Table()
    names = list(rows[0])
    return Table(rows=[[row.get(name) for name in names] for row in rows], names=names)


def write_table(table, path, fmt):
    """Write ``table`` to ``path`` ('-' or None: standard output) in format ``fmt``.

    Files are written whole to a temporary name first, so a failure leaves no
    half-written table behind.
    """
    if fmt == "json":
        text = table_to_json(table) + "\n"
    else:
        import io
        buffer = io.BytesIO() if fmt == "votable" else io.StringIO()
        table.write(buffer, format=FORMATS[fmt])
        text = buffer.getvalue()
        if isinstance(text, bytes):
            text = text.decode("utf-8")
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(path)
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def read_table(path):
    """Read a table written by ``--output`` (format from the extension, else guessed)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--from-table: no such file {str(path)!r}")
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt == "json":
        return table_from_json(path.read_text(encoding="utf-8"), source=str(path))
    try:
        if fmt is None:
            return Table.read(path)
        return Table.read(path, format=FORMATS[fmt])
    except Exception as exc:  # astropy raises many kinds here; all mean "not readable"
        raise UsageError(f"--from-table: cannot read {str(path)!r} as a table "
                         f"({type(exc).__name__}: {_first_line(exc)})") from None


def show_table(table, args):
    """Print ``table`` aligned, or write it where ``--output``/``--format`` say."""
    table = _pick_columns(table, _comma_list(args.columns))
    fmt = output_format(args)
    if fmt is not None:
        write_table(table, args.output, fmt)
        if args.output not in (None, "-") and not args.quiet:
            _note(f"{len(table)} rows written to {args.output}")
        return
    if args.quiet:
        return
    for line in table.pformat(max_lines=-1, max_width=-1):
        print(line)


def _note(message):
    print(message, file=sys.stderr)


_CATEGORY_RE = re.compile(r"^[A-Za-z0-9_.*?]+$")


def _categories(values):
    """``--category`` values, checked: names are dot-separated tokens, wildcards * and ?."""
    items = _comma_list(values)
    for item in items or ():
        if not _CATEGORY_RE.match(item):
            raise UsageError(f"unsupported category pattern {item!r}: give exact categories "
                             "(ANCILLARY.PREVIEW) or shell wildcards * and ? (ANCILLARY.*)")
    return _one_or_many(items)


def _sky_kwargs(args):
    """``coordinates``/``radius`` or ``cone_*`` from --target, --radius and --cone."""
    from . import sky

    if args.cone and args.target:
        raise UsageError("give --cone or --target, not both")
    if args.radius and not args.target:
        raise UsageError("--radius goes with --target (--cone takes its radius as its third "
                         "value)")
    if args.cone:
        parts = args.cone.split()
        if len(parts) != 3:
            raise UsageError(f"--cone takes three values, RA DEC RADIUS; got {args.cone!r}")
        try:
            ra, dec, radius = sky.parse_cone_text(*parts)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--cone: {_first_line(exc)}") from None
        return {"cone_ra": ra, "cone_dec": dec, "cone_radius": radius}
    if args.target:
        kwargs = {"coordinates": args.target}
        if args.radius:
            try:
                kwargs["radius"] = sky.parse_angle(args.radius, what="--radius")
            except (ValueError, TypeError) as exc:
                raise UsageError(_first_line(exc)) from None
        return kwargs
    return {}


def _selection_kwargs(args):
    kwargs = {
        "collections": _one_or_many(_comma_list(args.collection)),
        "instruments": _one_or_many(_comma_list(args.instrument)),
        "categories": _categories(args.category),
        "extensions": _one_or_many(_comma_list(args.extension)),
        "original_filename": _one_or_many(args.original_filename),
        "column_filters": _filters(args.filter),
        "obscore_filters": _filters(args.obscore_filter),
        "top": args.top,
    }
    kwargs.update(_sky_kwargs(args))
    if args.no_cache:
        kwargs["cache"] = False
    if getattr(args, "username", None):
        kwargs["authenticated"] = True
    return {key: value for key, value in kwargs.items() if value is not None}


def _product_ids(values, more=None):
    """Positional product ids and --product-ids, as one value of the API (None: none)."""
    return _one_or_many(_comma_list(list(values or ()) + list(more or ())))


class NothingFoundError(Exception):
    """The selection is valid but found nothing (exit code 1, one line)."""


def _require_rows(table, what="files"):
    if len(table) == 0:
        raise NothingFoundError(f"no {what} found")
    return table


# -- subcommands ----------------------------------------------------------------------


def _cmd_files(args):
    eso = make_eso(args)
    kwargs = {}
    categories = _categories(args.category)
    if categories is not None:
        kwargs["categories"] = categories
    if args.username:
        kwargs["authenticated"] = True
    if args.no_cache:
        kwargs["cache"] = False
    ids = _product_ids(args.product_ids, args.product_id)
    if ids is None:
        raise UsageError("give at least one product id (PRODUCT_ID or --product-ids)")
    table = eso.get_product_files(ids, **kwargs)
    show_table(_require_rows(table), args)
    return EXIT_OK


def _cmd_query(args):
    eso = make_eso(args)
    if args.row_limit is not None:
        eso.ROW_LIMIT = args.row_limit
    kwargs = _selection_kwargs(args)
    columns = _comma_list(args.columns)
    if columns and not args.count:
        kwargs["columns"] = columns
    result = eso.query_ancillary(_product_ids(args.product_ids, args.product_id),
                                 count_only=args.count, **kwargs)
    if args.count:
        write_count(int(result), args)
        return EXIT_OK
    show_table(_require_rows(result), args)
    return EXIT_OK


def write_count(count, args):
    """Print the count, or write it where --output says: a one-row table (column
    ``count``) for a table format (--format or a table extension), else the number
    as a line of text."""
    table_format = args.format or (EXTENSIONS.get(Path(args.output).suffix.lower())
                                   if args.output not in (None, "-") else None)
    if table_format:
        write_table(Table({"count": [count]}), args.output, table_format)
    elif args.output in (None, "-"):
        print(count)
        return
    else:
        path = Path(args.output)
        part = path.with_name(path.name + ".part")
        part.write_text(f"{count}\n", encoding="utf-8")
        os.replace(part, path)
    if args.output not in (None, "-") and not args.quiet:
        _note(f"count {count} written to {args.output}")


def _cmd_categories(args):
    eso = make_eso(args)
    kwargs = {"collections": _one_or_many(_comma_list(args.collection)),
              "instruments": _one_or_many(_comma_list(args.instrument)),
              "product_ids": _product_ids((), args.product_id),
              "cache": False if args.no_cache else None}
    kwargs.update(_sky_kwargs(args))
    table = eso.list_ancillary_categories(
        **{key: value for key, value in kwargs.items() if value is not None})
    show_table(_require_rows(table, "ancillary files"), args)
    return EXIT_OK


def _files_to_download(eso, args):
    """What ``download`` was asked to fetch: a table file, products, or a selection."""
    selection = _selection_kwargs(args)
    selection.pop("cache", None)
    selection.pop("authenticated", None)
    ids = _product_ids(args.product_ids, args.product_id)
    if args.from_table:
        if ids or selection:
            raise UsageError("--from-table cannot be combined with product ids or "
                             "selection options")
        table = read_table(args.from_table)
        if "archive_id" not in table.colnames:
            raise UsageError(f"--from-table: {args.from_table!r} has no archive_id column "
                             f"(columns: {', '.join(table.colnames) or 'none'})")
        return table
    if ids is None and not selection:
        raise UsageError("nothing to download: give product ids, selection options "
                         "(see 'eso-ancillary download --help') or --from-table FILE")
    if set(selection) <= {"categories"} and ids is not None:
        # Plain product look-ups also find obsolete products (through DataLink).
        return eso.get_product_files(ids, categories=selection.get("categories", "ANCILLARY.*"))
    # A download wants the whole selection, not the first ROW_LIMIT rows.
    eso.ROW_LIMIT = -1
    kwargs = _selection_kwargs(args)
    return eso.query_ancillary(ids, **kwargs)


_STATUS_WORDS = {"downloaded": "downloaded", "resumed": "resumed",
                 "skipped-existing": "already complete", "error": "failed"}


def _cmd_download(args):
    from . import conf, download

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, not {args.workers}")
    eso = make_eso(args)
    files = _require_rows(_files_to_download(eso, args), "files to download")
    destination = Path(args.destination or conf.download_dir)
    # The progress line is for a person watching a terminal; it goes to standard
    # error so that standard output stays a clean table.
    progress = not (args.no_progress or args.quiet) and sys.stderr.isatty()
    kwargs = {"destination": destination, "overwrite": args.overwrite,
              "continuation": not args.no_resume, "unzip": args.unzip, "progress": progress}
    if args.workers is not None:
        kwargs["max_workers"] = args.workers
    if args.username:
        kwargs["authenticated"] = True
    interrupted = False
    with contextlib.redirect_stdout(sys.stderr), _log_level(logging.INFO, when=progress):
        try:
            manifest = eso.download_ancillary(files, **kwargs)
        except download.DownloadInterrupted as stop:
            manifest, interrupted = stop.manifest, True

    if args.output in (None, "-"):
        manifest_path = destination / "manifest.ecsv"
        write_table(manifest, manifest_path, "ecsv")
    else:
        manifest_path = Path(args.output)
        if interrupted:  # --output names where the manifest goes; keep it there too
            write_table(manifest, manifest_path, "ecsv")
    if interrupted:
        done = sum(1 for row in manifest if row["message"] != download.INTERRUPTED)
        _note(f"Interrupted: {done} of {len(manifest)} files handled; manifest: "
              f"{manifest_path}. Run the same command again to resume.")
        return EXIT_INTERRUPTED
    show_table(manifest, args)
    counts = download.status_counts(manifest)
    summary = ", ".join(f"{count} {_STATUS_WORDS.get(status, status)}"
                        for status, count in sorted(counts.items()) if count)
    if not args.quiet or counts.get("error"):
        _note(f"{len(manifest)} files into {destination}: {summary or 'nothing to do'}; "
              f"manifest: {manifest_path}")
    return EXIT_FAILURE if counts.get("error") else EXIT_OK


def _cmd_login(args):
    from . import _compat

    eso = make_eso(args, login=False)
    _login(eso, args.username, password_stdin=args.password_stdin,
           store_password=args.store_password, reenter_password=args.reenter_password)
    info = _compat.auth_info(eso)
    expiry = getattr(info, "expiration_time", None)
    until = (time.strftime(" until %Y-%m-%d %H:%M:%S UTC", time.gmtime(expiry))
             if expiry else "")
    print(f"Logged in as {args.username} at {eso.AUTH_URL}: the token is valid{until}.")
    if args.store_password:
        print("The password is stored in the system keyring; later commands need only "
              "--username.")
    return EXIT_OK


def _cmd_serve(args):
    import signal

    _require_emulator()
    try:
        emu = emulator_options.from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with emu:
        print(emu.url, flush=True)
        for line in emulator_options.describe(emu):
            _note(line)
        _note(f"ESO archive emulator (seed {emu.seed}) serving at {emu.url}; Ctrl+C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def _cmd_demo(args):
    _require_emulator()
    from . import demo

    # The download progress line shows at astroquery's INFO level, for a person watching.
    with _log_level(logging.INFO, when=sys.stdout.isatty()):
        return demo.run(destination=args.destination)


class _MissingExtraError(Exception):
    def __init__(self, name):
        super().__init__(f"the emulator needs a package that is not installed ({name}); "
                         "install it with: python -m pip install "
                         "'astroquery_eso_ancillary[emulator]'")


def _require_emulator():
    """Fail early, in one line, when the ``emulator`` extra is not installed."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError, requires

    try:
        needs = requires("astroquery_eso_ancillary") or []
    except PackageNotFoundError:  # running from a source tree: the import will tell
        needs = []
    for need in needs:
        if "extra" in need and '"emulator"' in need.replace("'", '"'):
            name = re.split(r"[\s<>=!~;\[]", need, maxsplit=1)[0]
            if importlib.util.find_spec(name) is None:
                raise _MissingExtraError(name)


# -- errors ---------------------------------------------------------------------------


def _first_line(exc):
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if not isinstance(text, str):
        text = str(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _exit_code_and_message(exc):
    """Map an exception to (exit code, one-line message)."""
    import requests
    from astroquery.exceptions import LoginError

    from .exceptions import EsoAncillaryError, EsoQueryError

    if isinstance(exc, UsageError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, EsoQueryError):
        where = f" ({exc.url})" if exc.url else ""
        return EXIT_FAILURE, f"the archive refused the query{where}: {_first_line(exc)}"
    if isinstance(exc, (EsoAncillaryError, LoginError, _MissingExtraError)):
        return EXIT_FAILURE, _first_line(exc)
    if isinstance(exc, ValueError):
        # The package's checks of user values (ids, patterns, columns) raise ValueError.
        return EXIT_USAGE, _first_line(exc)
    if isinstance(exc, requests.ConnectionError):
        return EXIT_FAILURE, "cannot reach the archive (connection failed); check --archive " \
                             "or the network"
    if isinstance(exc, requests.RequestException | OSError):
        return EXIT_FAILURE, f"{type(exc).__name__}: {_first_line(exc)}"
    try:
        from pyvo.dal import DALServiceError
    except ImportError:  # pragma: no cover - pyvo is a dependency
        DALServiceError = ()
    if isinstance(exc, DALServiceError):
        return EXIT_FAILURE, f"the archive failed: {_first_line(exc)}"
    return EXIT_FAILURE, (f"unexpected {type(exc).__name__}: {_first_line(exc)} "
                          "(run with --debug for the traceback)")


def _setup_messages(args):
    from astroquery import log as astroquery_log

    level = (logging.DEBUG if args.debug else logging.INFO if args.verbose
             else logging.WARNING)
    saved = astroquery_log.level, astroquery_log.handlers[:], astroquery_log.propagate
    astroquery_log.setLevel(level)
    # Messages go to standard error, whatever their level: standard output is for tables.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    astroquery_log.handlers[:] = [handler]
    astroquery_log.propagate = False

    def restore():
        level, astroquery_log.handlers[:], astroquery_log.propagate = saved
        astroquery_log.setLevel(level)
    return restore


@contextlib.contextmanager
def _log_level(level, *, when=True):
    """Lower astroquery's log level for a block (the download progress line needs INFO)."""
    from astroquery import log as astroquery_log

    previous = astroquery_log.level
    if when and astroquery_log.getEffectiveLevel() > level:
        astroquery_log.setLevel(level)
    try:
        yield
    finally:
        astroquery_log.setLevel(previous)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from astroquery.exceptions import MaxResultsWarning

    text = str(message)
    if issubclass(category, MaxResultsWarning):
        text += " On the command line: --row-limit -1 (query), or --top N."
    print(f"warning: {text}", file=sys.stderr)


def main(argv=None):
    """Run ``eso-ancillary`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> from astroquery_eso_ancillary.cli import main
    >>> main(["files", "ADP.2024-03-19T05:58:04.407", "--format", "csv"])  # doctest: +SKIP
    product_id,archive_id,eso_category,extension,original_filename,...
    0
    """
    from astroquery.exceptions import NoResultsWarning

    parser = build_parser()
    args = parser.parse_args(join_cone_values(sys.argv[1:] if argv is None else list(argv)))
    restore_log = _setup_messages(args)
    # "Nothing found" warnings are held back: when the command found nothing they
    # become its one error line, else each shows as a warning line at the end.
    held = []

    def show(message, category, *rest, **kwargs):
        if issubclass(category, NoResultsWarning):
            held.append(str(message))
        else:
            _show_warning(message, category, *rest, **kwargs)
    try:
        with warnings.catch_warnings():
            # Python's filters decide which warnings show; each shows as one line.
            warnings.showwarning = show
            if hasattr(args, "format") and not getattr(args, "count", False):
                output_format(args)  # a bad --output name fails before any work
            try:
                code = args.handler(args)
            except NothingFoundError as exc:
                why = "; ".join(dict.fromkeys(held)) or str(exc)
                print(f"eso-ancillary {args.command}: nothing found: {why}", file=sys.stderr)
                return EXIT_FAILURE
        for message in dict.fromkeys(held):
            print(f"warning: {message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("eso-ancillary: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            import traceback
            traceback.print_exc()
        code, message = _exit_code_and_message(exc)
        print(f"eso-ancillary {args.command}: error: {message}", file=sys.stderr)
        return code
    finally:
        restore_log()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
