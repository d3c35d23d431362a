# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The offline demo behind ``eso-ancillary demo``.

It starts the local ESO archive emulator in this process, runs the three
examples of ESO's HOWTO "How to search for ancillary files" with this
package's calls, then downloads the previews of Example 3 and writes the
download manifest next to them. No network is needed: every request goes to
the emulator on 127.0.0.1.

Each call is printed as the line of Python it is, then its result.
"""
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["DEMO_PRODUCTS", "DEMO_SEED", "run"]

#: Seed and size of the emulated archive the demo (and the docs' examples) use.
DEMO_SEED = 42
DEMO_PRODUCTS = 300
#: The emulator's account, used to fetch the proprietary previews.
DEMO_USER, DEMO_PASSWORD = "alice", "wonderland"
#: Rows shown of long tables (the rest is counted).
SHOWN_ROWS = 10
#: Columns shown of file tables: those of the HOWTO's tables.
FILE_COLUMNS = ["archive_id", "eso_category", "extension", "original_filename",
                "access_estsize"]
MANIFEST_COLUMNS = ["archive_id", "status", "size", "local_path", "message"]

EXAMPLES = [
    ("Example 1: every file of the MUSE cube ADP.2024-03-19T05:58:04.407",
     None, "get_product_files", ("ADP.2024-03-19T05:58:04.407",), {}),
    ("Example 2: the individual fibre-A spectra (ES_SFLA_*, which must not match "
     "ES_SFLAB*) of the ESPRESSO spectrum ADP.2021-04-12T12:27:33.887",
     None, "query_ancillary", ("ADP.2021-04-12T12:27:33.887",),
     {"categories": "ANCILLARY.SPECTRUM", "original_filename": "ES_SFLA_*"}),
    ("Example 3: every preview of the MUSE collection",
     "previews", "query_ancillary", (), {"collections": "MUSE",
                                          "categories": "ANCILLARY.PREVIEW"}),
]


def render_call(target, method, args=(), kwargs=None, *, assign=None):
    """One line of Python for a call, as the demo prints it.

    Examples
    --------
    >>> render_call("Eso", "query_ancillary", (), {"collections": "MUSE"}, assign="previews")
    "previews = Eso.query_ancillary(collections='MUSE')"
    """
    parts = [repr(arg) for arg in args]
    parts += [f"{key}={value!r}" for key, value in (kwargs or {}).items()]
    call = f"{target}.{method}({', '.join(parts)})"
    return f"{assign} = {call}" if assign else call


class _Printer:
    def __init__(self, out):
        self.out = out

    def __call__(self, text=""):
        print(text, file=self.out, flush=True)

    def code(self, line):
        self(">>> " + line)

    def table(self, table, columns):
        shown = [name for name in columns if name in table.colnames]
        lines = table[shown].pformat(max_lines=-1, max_width=-1)
        header = len(lines) - len(table)
        if len(table) > SHOWN_ROWS:
            lines = [*lines[:header + SHOWN_ROWS], f"... {len(table) - SHOWN_ROWS} more rows"]
        for line in lines:
            self(line)
        hidden = [name for name in table.colnames if name not in shown]
        self(f"[{len(table)} rows" + (f"; not shown: {', '.join(hidden)}]" if hidden else "]"))


def _relative(manifest):
    # Shorter paths for the screen; the manifest file keeps them absolute.
    shown = manifest.copy()
    shown["local_path"] = [os.path.relpath(path) if path else "" for path in
                           manifest["local_path"]]
    return shown


def run(*, destination="eso-ancillary-demo", out=None, seed=DEMO_SEED,
        products=DEMO_PRODUCTS):
    """Run the demo; return 0 if every preview ended up on disk, else 1.

    Parameters
    ----------
    destination : str or path-like, optional
        Folder for the previews and ``manifest.ecsv``; created if needed.
    out : file-like, optional
        Where to print (default: standard output).
    seed, products : int, optional
        Seed and number of generated products of the emulated archive.

    Returns
    -------
    int
        The exit code of ``eso-ancillary demo``.

    Examples
    --------
    >>> from astroquery_eso_ancillary.demo import run
    >>> run(destination="eso-ancillary-demo")  # doctest: +SKIP
    0
    """
    # Imported here: `eso-ancillary --help` should not pay for astroquery's import.
    from . import EsoClass, _compat, download
    from .emulator import ArchiveEmulator
    from .previews import MissingMatplotlibError, show_previews

    say = _Printer(out or sys.stdout)
    destination = Path(destination)
    say("eso-ancillary demo: ESO's HOWTO 'How to search for ancillary files', offline.")
    with ArchiveEmulator(seed=seed, products=products,
                         users={DEMO_USER: DEMO_PASSWORD}) as emu, \
            tempfile.TemporaryDirectory(prefix="eso-ancillary-demo-cache-") as cache:
        say(f"A local ESO archive emulator (seed {seed}) is serving at {emu.url}, and")
        say("'Eso' below points there; without the emulator the same calls go to ESO.")
        eso = EsoClass(archive_url=emu.url)
        # A throw-away cache: the emulator's answers must not land in the user's cache.
        eso.cache_location = cache
        say()
        say("Open-ended selections stop at Eso.ROW_LIMIT rows, as in astroquery; "
            "lift the limit:")
        say.code("Eso.ROW_LIMIT = -1")
        eso.ROW_LIMIT = -1

        results = {}
        for title, name, method, args, kwargs in EXAMPLES:
            say()
            say(title)
            say.code(render_call("Eso", method, args, kwargs, assign=name))
            results[title] = result = getattr(eso, method)(*args, **kwargs)
            say.table(result, FILE_COLUMNS)
        previews = result

        say()
        say(f"Downloading the {len(previews)} previews of Example 3 into {destination}/ "
            "(parallel, resumable; one manifest row per file):")
        kwargs = {"destination": str(destination)}
        say.code(render_call("Eso", "download_ancillary", ("PREVIEWS",), kwargs,
                             assign="manifest").replace("'PREVIEWS'", "previews"))
        manifest = eso.download_ancillary(previews, **kwargs)
        say.table(_relative(manifest), MANIFEST_COLUMNS)
        counts = download.status_counts(manifest)

        if counts.get("error"):
            say()
            say(f"{counts['error']} previews failed (above: why). Proprietary files need a "
                f"login; the emulator's account is {DEMO_USER!r}, and the demo types its "
                "password. Running the same download again fetches only what is missing:")
            say.code(f"Eso.login(username={DEMO_USER!r})")
            # What login() does once the password is typed (no prompt in a demo).
            if not _compat.authenticate(eso, DEMO_USER, DEMO_PASSWORD):
                say("The login failed.")
                return 1
            say.code(render_call("Eso", "download_ancillary", ("PREVIEWS",), kwargs,
                                 assign="manifest").replace("'PREVIEWS'", "previews"))
            manifest = eso.download_ancillary(previews, **kwargs)
            say.table(_relative(manifest), MANIFEST_COLUMNS)
            counts = download.status_counts(manifest)

    manifest_path = destination / "manifest.ecsv"
    manifest.write(manifest_path, format="ascii.ecsv", overwrite=True)
    on_disk = sum(int(size) for size in manifest["size"])
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())
                        if count)
    say()
    say(f"Done: {len(manifest)} previews ({summary}), {on_disk / 1e6:.1f} MB in "
        f"{destination}/; manifest: {manifest_path}")
    grid = destination / "previews.png"
    try:
        figure = show_previews(manifest, ncols=3, path=grid)
    except MissingMatplotlibError:
        say("(Install matplotlib, the [plot] extra, to see the previews in one grid.)")
    else:
        if figure is not None:
            say("They look like this, drawn in one grid:")
            say.code(f"show_previews(manifest, ncols=3, path={str(grid)!r})")
            say(f"Grid of the previews: {grid}")
    return 1 if counts.get("error") else 0
