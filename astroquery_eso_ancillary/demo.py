# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The offline demo behind ``eso-ancillary demo``.

It starts the local ESO archive emulator in this process, runs the three
examples of ESO's HOWTO "How to search for ancillary files" with this
package's calls, then downloads the previews of Example 3 and writes the
download manifest next to them. No network is needed: every request goes to
the emulator on 127.0.0.1.
"""
import sys
import tempfile
from pathlib import Path

__all__ = ["run"]

#: Seed and size of the emulated archive the demo shows.
DEMO_SEED = 42
DEMO_PRODUCTS = 300
#: Rows shown of long tables (the rest is summarised).
SHOWN_ROWS = 12

EXAMPLES = [
    ("Example 1: every file of the MUSE cube ADP.2024-03-19T05:58:04.407",
     "files", "get_product_files", ("ADP.2024-03-19T05:58:04.407",), {}),
    ("Example 2: the individual fibre-A spectra (ES_SFLA_*, not ES_SFLAB*) of the "
     "ESPRESSO spectrum ADP.2021-04-12T12:27:33.887",
     "spectra", "query_ancillary", ("ADP.2021-04-12T12:27:33.887",),
     {"categories": "ANCILLARY.SPECTRUM", "original_filename": "ES_SFLA_*"}),
    ("Example 3: every preview of the MUSE collection",
     "previews", "query_ancillary", (), {"collections": "MUSE",
                                          "categories": "ANCILLARY.PREVIEW"}),
]


def render_call(target, method, args, kwargs):
    """One line of Python for a call, as the demo prints it.

    Examples
    --------
    >>> render_call("Eso", "query_ancillary", (), {"collections": "MUSE"})
    "Eso.query_ancillary(collections='MUSE')"
    """
    parts = [repr(arg) for arg in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{target}.{method}({', '.join(parts)})"


class _Printer:
    def __init__(self, out):
        self.out = out

    def __call__(self, text=""):
        print(text, file=self.out, flush=True)

    def table(self, table, *, rows=SHOWN_ROWS):
        lines = table.pformat(max_lines=-1, max_width=-1)
        header = 3 if len(table.colnames) and any(table[n].unit for n in table.colnames) else 2
        if len(table) > rows:
            hidden = len(table) - rows
            lines = lines[:header + rows] + [f"... ({hidden} more rows)"]
        for line in lines:
            self(line)


def run(*, destination="eso-ancillary-demo", out=None, seed=DEMO_SEED,
        products=DEMO_PRODUCTS):
    """Run the demo; return 0 if every preview was downloaded, else 1.

    Parameters
    ----------
    destination : str or `~pathlib.Path`, optional
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
    from .emulator import ArchiveEmulator

    from . import EsoClass

    say = _Printer(out or sys.stdout)
    destination = Path(destination)
    say("eso-ancillary demo: ESO's HOWTO 'How to search for ancillary files', offline.")
    with ArchiveEmulator(seed=seed, products=products) as emu, \
            tempfile.TemporaryDirectory(prefix="eso-ancillary-demo-cache-") as cache:
        say(f"A local ESO archive emulator (seed {seed}) is serving at {emu.url};")
        say("'Eso' below points there. Without the emulator, the same calls go to ESO.")
        eso = EsoClass(archive_url=emu.url)
        # A throw-away cache: the emulator's answers must not land in the user's cache.
        eso.cache_location = cache
        results = {}
        for title, name, method, args, kwargs in EXAMPLES:
            say()
            say(title)
            say(">>> " + (f"{name} = " if name == "previews" else "")
                + render_call("Eso", method, args, kwargs))
            result = getattr(eso, method)(*args, **kwargs)
            results[name] = result
            say.table(result)
            say(f"[{len(result)} files]")

        previews = results["previews"]
        say()
        say(f"Downloading the {len(previews)} previews of Example 3 into {destination}/")
        kwargs = {"destination": str(destination)}
        say(">>> manifest = " + render_call("Eso", "download_ancillary", ("previews",), kwargs)
            .replace("'previews'", "previews"))
        manifest = eso.download_ancillary(previews, **kwargs)

    manifest_path = destination / "manifest.ecsv"
    manifest.write(manifest_path, format="ascii.ecsv", overwrite=True)
    say.table(manifest)
    counts = {}
    for status in manifest["status"]:
        counts[str(status)] = counts.get(str(status), 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    total = sum(int(size) for size in manifest["size"] if size is not None and size == size)
    say(f"[{len(manifest)} files: {summary}; {total / 1e6:.1f} MB on disk]")
    say(f"The manifest is in {manifest_path}.")
    return 1 if counts.get("error") else 0
