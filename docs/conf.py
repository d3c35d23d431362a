# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration of the astroquery_eso_ancillary documentation.

Build (as CI and ``tox -e build_docs`` do, warnings are errors)::

    sphinx-build -W -n --keep-going -b html docs docs/_build/html

Intersphinx is OFF by default, because the build must pass offline (CI has
no internet, and a failed inventory download is a warning, hence an error
under ``-W``). References to other projects' objects are then accepted
unresolved through ``nitpick_ignore_regex`` below, which lists only the
external packages (and the few names that the astroquery docstrings
inherited by ``EsoClass`` use). With internet, ``ESO_DOCS_INTERSPHINX=1`` turns
intersphinx on and those references become links.
"""
import os
from importlib.metadata import version as _version

from sphinx_astropy.conf.v2 import *  # noqa: F403
from sphinx_astropy.conf.v2 import exclude_patterns, intersphinx_mapping

project = "astroquery_eso_ancillary"
author = "astroquery_eso_ancillary developers"
copyright = "2026, " + author
release = _version("astroquery_eso_ancillary")
version = release.split("+")[0]

exclude_patterns = [*exclude_patterns, "conftest.py", "_build", "**/_build"]

# -- intersphinx (off unless asked for; see the module docstring) --------------------
intersphinx_mapping = dict(intersphinx_mapping)
intersphinx_mapping.update({
    "astroquery": ("https://astroquery.readthedocs.io/en/stable/", None),
    "pyvo": ("https://pyvo.readthedocs.io/en/stable/", None),
    "requests": ("https://requests.readthedocs.io/en/latest/", None),
    "dask": ("https://docs.dask.org/en/stable/", None),
    "distributed": ("https://distributed.dask.org/en/stable/", None),
})
disable_intersphinx = int(os.environ.get("ESO_DOCS_INTERSPHINX", "") != "1")

nitpicky = True
# Objects of other projects, unresolvable without intersphinx. Only external names here.
_EXTERNAL = (r"(astropy|astroquery|pyvo|requests|numpy|dask|distributed|concurrent|pathlib"
             r"|collections|typing|matplotlib)")
nitpick_ignore_regex = [
    (r"py:.*", _EXTERNAL + r"(\..*)?"),
    # Inherited astroquery docstrings (EsoClass.login, query_* ...) name Python's
    # constants and astroquery's own caching page.
    (r"py:obj", r"True|False|None"),
    (r"std:ref", r"astroquery_cache"),
]
if not disable_intersphinx:
    nitpick_ignore_regex = []
# EsoClass's direct base is the private shim of _compat.py that routes astroquery's login
# internals through this package; "Bases:" names it, and it has no page of its own.
nitpick_ignore_regex.append((r"py:class", r"astroquery_eso_ancillary\._compat\.UpstreamEsoClass"))

# -- general --------------------------------------------------------------------------
# Inheritance diagrams need Graphviz, which a plain pip install does not bring.
automodapi_inheritance_diagram = False
numpydoc_show_class_members = False
html_title = f"{project} {version}"
html_static_path = []
html_last_updated_fmt = None  # reproducible builds


# -- the preview grid of downloading.rst, drawn from the emulator at build time ----------

def _preview_grid(app):
    """Download Example 1's previews from a local emulator and draw them (``show_previews``)."""
    import tempfile
    from pathlib import Path

    from astroquery import log

    from astroquery_eso_ancillary import EsoClass, show_previews
    from astroquery_eso_ancillary.demo import DEMO_PRODUCTS, DEMO_SEED
    from astroquery_eso_ancillary.emulator import ArchiveEmulator

    target = Path(app.srcdir) / "_generated" / "previews.png"
    target.parent.mkdir(exist_ok=True)
    level = log.level
    log.setLevel("WARNING")
    try:
        with ArchiveEmulator(seed=DEMO_SEED, products=DEMO_PRODUCTS) as emulator, \
                tempfile.TemporaryDirectory() as folder:
            eso = EsoClass(archive_url=emulator.url)
            eso.cache_location = Path(folder) / "cache"
            manifest = eso.download_ancillary(
                ["ADP.2024-03-19T05:58:04.407", "ADP.2016-06-01T14:07:30.134"],
                categories="ANCILLARY.PREVIEW", destination=Path(folder) / "previews",
                progress=False)
            show_previews(manifest, ncols=3, path=target, panel_size=2.5)
    finally:
        log.setLevel(level)


def setup(app):
    app.connect("builder-inited", _preview_grid)
