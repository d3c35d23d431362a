# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""What a download folder holds for its user: its entries less the engine's own folder."""
import os

from astroquery_eso_ancillary.destination import ENGINE_DIR


def listing(folder):
    """``os.listdir(folder)`` without the engine's hidden records folder."""
    return [name for name in os.listdir(folder) if name != ENGINE_DIR]
