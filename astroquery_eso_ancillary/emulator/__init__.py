# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""A local ESO archive emulator (work in progress)."""
