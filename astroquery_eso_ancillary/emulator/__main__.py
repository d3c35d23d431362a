# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Serve the ESO archive emulator by hand.

``python -m astroquery_eso_ancillary.emulator --port 8080 --seed 42 --products 300``
prints the base URL on its first line, then what it serves and the accounts
it accepts, and serves until interrupted (Ctrl-C or SIGTERM). The options are
those of ``eso-ancillary serve`` (see ``emulator/options.py``).
"""
import argparse
import signal
import sys
import threading

from .options import add_arguments, describe, from_args


def build_parser():
    """The command-line parser.

    Examples
    --------
    >>> build_parser().parse_args(["--port", "0"]).emu_port
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m astroquery_eso_ancillary.emulator",
        description="Serve a local, seeded emulator of the ESO Science Archive.")
    return add_arguments(parser)


def main(argv=None):
    """Run the emulator until SIGINT or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        emulator = from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator.start()
    print(emulator.url, flush=True)
    for line in describe(emulator):
        print(line, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
