# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""pytest plugin providing the ``eso_archive`` fixture (work in progress)."""
