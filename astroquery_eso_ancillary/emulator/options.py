# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The emulator's command-line options, shared by ``python -m
astroquery_eso_ancillary.emulator`` and ``eso-ancillary serve``.

`add_arguments` puts them on an argparse parser, `from_args` builds the
`ArchiveEmulator` they describe, `describe` says what it serves and which
accounts it accepts. A new option is one row of `OPTIONS` (flags, the
``ArchiveEmulator`` keyword it sets, argparse settings); fault options set
fields of `Faults` instead.
"""
import argparse

__all__ = ["FAULT_OPTIONS", "OPTIONS", "add_arguments", "describe", "from_args"]

DEFAULT_USER = ("alice", "wonderland")


def _user(text):
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError(
            f"--user takes NAME:PASSWORD, got {name!r}{':...' if sep else ''}")
    return name, password


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _non_negative(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a non-negative {kind.__name__}, got {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(
                f"expected a non-negative {kind.__name__}, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _methods(text):
    methods = tuple(m.strip().upper() for m in text.split(",") if m.strip())
    if not methods or not set(methods) <= {"GET", "POST"}:
        raise argparse.ArgumentTypeError(f"expected GET, POST or GET,POST, got {text!r}")
    return methods


#: (flags, ArchiveEmulator keyword, argparse keywords). ``None`` defaults are left out of
#: the keywords passed, so the emulator's own defaults apply.
OPTIONS = (
    (("--host",), "host", {"default": "127.0.0.1", "help": "address to listen on"}),
    (("--port",), "port", {"type": int, "default": 0, "help": "port (default 0: a free one)"}),
    (("--seed",), "seed", {"type": int, "default": 42, "help": "seed of the generated archive"}),
    (("--products",), "products", {"type": _non_negative(int), "default": None,
                                   "help": "products generated besides the reference ones "
                                           "(default 300)"}),
    (("--size-column",), "size_column", {"default": None,
                                         "choices": ("access_estsize", "size_kb"),
                                         "help": "name of the size column of "
                                                 "phase3v2.product_files"}),
    (("--max-file-bytes",), "max_file_bytes", {"type": _non_negative(int), "default": None,
                                               "help": "cap on the size of served files "
                                                       "(default 262144)"}),
    (("--patched-fraction",), "patched_fraction", {
        "type": _fraction, "default": None,
        "help": "share of FITS files served as 'corrected at download' (no Range, size "
                "other than estimated; default 0.03)"}),
    (("--token-lifetime",), "token_lifetime", {"type": _non_negative(float), "default": None,
                                               "help": "seconds an issued token lives "
                                                       "(default 28800)"}),
    (("--token-methods",), "token_methods", {
        "type": _methods, "default": None, "metavar": "GET[,POST]",
        "help": "methods the token endpoint answers (default GET, as ESO documents)"}),
    (("--default-maxrec",), "default_maxrec", {"type": _non_negative(int), "default": None,
                                               "help": "TAP MAXREC when a query gives none"}),
    (("--hard-maxrec",), "hard_maxrec", {"type": _non_negative(int), "default": None,
                                         "help": "most rows a TAP query ever returns"}),
    (("--sync-timeout",), "sync_timeout", {"type": _non_negative(float), "default": None,
                                           "metavar": "SECONDS",
                                           "help": "time limit of synchronous TAP queries "
                                                   "(default 60, as ESO's)"}),
    (("--query-delay",), "query_delay", {"type": _non_negative(float), "default": None,
                                         "metavar": "SECONDS",
                                         "help": "extra execution time of every TAP query, "
                                                 "so EXECUTING can be seen"}),
    (("--queue-delay",), "queue_delay", {"type": _non_negative(float), "default": None,
                                         "metavar": "SECONDS",
                                         "help": "time an asynchronous job waits QUEUED"}),
)

#: (flags, Faults field, argparse keywords).
FAULT_OPTIONS = (
    (("--latency",), "latency", {"type": _non_negative(float), "metavar": "SECONDS",
                                 "help": "delay before every answer"}),
    (("--bandwidth",), "bandwidth", {"type": _non_negative(float), "metavar": "BYTES_PER_S",
                                     "help": "cap on the speed of every answer body"}),
    (("--error-fraction",), "error_fraction", {"type": _fraction,
                                               "help": "share of requests answered with "
                                                       "--error-status"}),
    (("--error-status",), "error_status", {"type": int, "help": "status of injected errors "
                                                                "(default 503)"}),
    (("--drop-fraction",), "drop_fraction", {"type": _fraction,
                                             "help": "share of downloads cut at a random "
                                                     "byte"}),
    (("--fault-paths",), "paths", {"metavar": "PREFIX[,PREFIX]",
                                   "type": lambda text: tuple(p for p in text.split(",") if p),
                                   "help": "path prefixes the faults apply to (default all)"}),
)


def add_arguments(parser):
    """Add the emulator's options to an argparse parser (or subcommand parser).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Gets the options of `OPTIONS`, `FAULT_OPTIONS`, ``--user`` and ``--no-range``.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.

    Examples
    --------
    >>> import argparse
    >>> from astroquery_eso_ancillary.emulator.options import add_arguments
    >>> args = add_arguments(argparse.ArgumentParser()).parse_args(["--user", "bob:pw"])
    >>> args.user, args.no_range
    ([('bob', 'pw')], False)
    """
    def metavar(flags, kwargs):
        if "choices" in kwargs or "metavar" in kwargs:
            return kwargs
        return dict(kwargs, metavar=flags[0].lstrip("-").upper().replace("-", "_"))

    for flags, dest, kwargs in OPTIONS:
        parser.add_argument(*flags, dest=f"emu_{dest}", **metavar(flags, kwargs))
    parser.add_argument("--user", type=_user, action="append", default=None,
                        metavar="NAME:PASSWORD",
                        help="an account that can log in and download (repeatable; besides "
                             "alice:wonderland unless --no-default-user)")
    parser.add_argument("--no-default-user", action="store_true",
                        help="do not create the alice:wonderland account")
    parser.add_argument("--no-range", action="store_true", help="ignore HTTP Range requests")
    group = parser.add_argument_group("faults", "injected faults (see Faults)")
    for flags, dest, kwargs in FAULT_OPTIONS:
        group.add_argument(*flags, dest=f"fault_{dest}", default=None, **metavar(flags, kwargs))
    return parser


def from_args(args, **overrides):
    """Build (not start) the `ArchiveEmulator` described by parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        From a parser given to `add_arguments`.
    **overrides
        ``ArchiveEmulator`` keywords that win over the options.

    Examples
    --------
    >>> import argparse
    >>> parser = add_arguments(argparse.ArgumentParser())
    >>> emu = from_args(parser.parse_args(["--products", "5", "--latency", "0.1"]))
    >>> emu.n_products, emu.faults.latency
    (5, 0.1)
    """
    from .faults import Faults
    from .server import ArchiveEmulator

    kwargs = {}
    for _, dest, _ in OPTIONS:
        value = getattr(args, f"emu_{dest}", None)
        if value is not None:
            kwargs[dest] = value
    users = {} if getattr(args, "no_default_user", False) else dict([DEFAULT_USER])
    users.update(dict(getattr(args, "user", None) or ()))
    kwargs["users"] = users
    if getattr(args, "no_range", False):
        kwargs["range_support"] = False
    faults = {dest: getattr(args, f"fault_{dest}", None) for _, dest, _ in FAULT_OPTIONS}
    faults = {k: v for k, v in faults.items() if v is not None}
    if faults:
        kwargs["faults"] = Faults(**faults)
    kwargs.update(overrides)
    return ArchiveEmulator(**kwargs)


def describe(emulator):
    """Lines saying what a started emulator serves and which accounts it accepts.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
    >>> with ArchiveEmulator(products=5, users={"bob": "pw"}) as emu:
    ...     print(describe(emu)[-1])
    accounts (NAME:PASSWORD, token or HTTP Basic): bob:pw
    """
    accounts = " ".join(f"{name}:{password}" for name, password in emulator.accounts().items())
    return [f"TAP {emulator.tap_url}  DataLink {emulator.datalink_url}  files "
            f"{emulator.download_url}<archive_id>  token {emulator.token_url} "
            f"({'/'.join(emulator.token_methods)})",
            f"{len(emulator.archive.product_ids)} products, started in "
            f"{emulator.start_seconds:.2f} s",
            f"accounts (NAME:PASSWORD, token or HTTP Basic): {accounts or '(none)'}"]
