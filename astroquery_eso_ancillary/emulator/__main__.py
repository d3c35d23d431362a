# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Serve the ESO archive emulator by hand.

``python -m astroquery_eso_ancillary.emulator --port 8080 --seed 42 --products 300``
prints the base URL on its first line, then serves until interrupted
(Ctrl-C or SIGTERM).
"""
import argparse
import signal
import sys
import threading


def _user(text):
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--user takes NAME:PASSWORD, got {text!r}")
    return name, password


def build_parser():
    """The command-line parser.

    Examples
    --------
    >>> build_parser().parse_args(["--port", "0"]).products
    300
    """
    parser = argparse.ArgumentParser(
        prog="python -m astroquery_eso_ancillary.emulator",
        description="Serve a local, seeded emulator of the ESO Science Archive.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated archive")
    parser.add_argument("--products", type=int, default=300,
                        help="products generated besides the reference ones")
    parser.add_argument("--size-column", default="access_estsize",
                        choices=("access_estsize", "size_kb"),
                        help="name of the size column of phase3v2.product_files")
    parser.add_argument("--max-file-bytes", type=int, default=262144,
                        help="cap on the size of served files")
    parser.add_argument("--no-range", action="store_true", help="ignore HTTP Range requests")
    parser.add_argument("--user", type=_user, action="append", default=None,
                        metavar="NAME:PASSWORD", help="a user allowed to log in (repeatable)")
    parser.add_argument("--token-lifetime", type=float, default=3600,
                        help="seconds an issued token lives")
    return parser


def main(argv=None):
    """Run the emulator until SIGINT or SIGTERM; returns the exit status."""
    from .server import ArchiveEmulator

    args = build_parser().parse_args(argv)
    emulator = ArchiveEmulator(
        seed=args.seed, products=args.products, size_column=args.size_column,
        max_file_bytes=args.max_file_bytes, range_support=not args.no_range,
        users=dict(args.user) if args.user else None, token_lifetime=args.token_lifetime,
        host=args.host, port=args.port)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator.start()
    print(emulator.url, flush=True)
    print(f"TAP {emulator.tap_url}  DataLink {emulator.datalink_url}  files "
          f"{emulator.download_url}<archive_id>  token {emulator.token_url}  "
          f"({len(emulator.archive)} products, {emulator.archive.file_count} files, "
          f"started in {emulator.start_seconds:.2f} s)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
