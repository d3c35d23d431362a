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
             r"|collections|typing)")
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
