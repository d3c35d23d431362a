# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""``python -m astroquery_eso_ancillary``: the ``eso-ancillary`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
