# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Drawing the result of `~astroquery_eso_ancillary.EsoClass.list_ancillary_categories`:
the number of files and their total size per category, side by side, as ESO's
notebooks draw them by hand.

matplotlib is an optional dependency (``pip install
'astroquery_eso_ancillary[plot]'``); it is imported only when a plot is drawn,
and its absence is said in one clear error.
"""
import importlib

import astropy.units as u
import numpy as np

from . import tables

__all__ = ["MissingMatplotlibError", "plot_categories"]


class MissingMatplotlibError(ImportError):
    """matplotlib, needed to draw, is not installed."""


def _pyplot():
    try:
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise MissingMatplotlibError(
            "Drawing needs matplotlib, which is not installed: python -m pip install "
            "'astroquery_eso_ancillary[plot]' (or matplotlib).") from exc


def plot_categories(table, *, size_unit="GB", top=None, axes=None):
    """Bar charts of the files and bytes per category of ``list_ancillary_categories``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A result of `~astroquery_eso_ancillary.EsoClass.list_ancillary_categories`
        (columns ``eso_category``, ``n_files``, ``access_estsize``).
    size_unit : str or `~astropy.units.Unit`, optional
        Unit of the sizes drawn (default ``'GB'``).
    top : int, optional
        Only the ``top`` most frequent categories.
    axes : pair of ``matplotlib.axes.Axes``, optional
        Where to draw the counts and the sizes; default a new figure.

    Returns
    -------
    ``matplotlib.figure.Figure``

    Raises
    ------
    MissingMatplotlibError
        matplotlib is not installed.

    Examples
    --------
    >>> from astroquery_eso_ancillary import Eso
    >>> from astroquery_eso_ancillary.plot import plot_categories
    >>> muse = Eso.list_ancillary_categories(collections='MUSE')  # doctest: +SKIP
    >>> figure = plot_categories(muse, top=10)  # doctest: +SKIP
    >>> figure.savefig('muse-categories.png')  # doctest: +SKIP
    """
    missing = [c for c in ("eso_category", "n_files") if c not in table.colnames]
    if missing:
        raise ValueError(f"plot_categories needs a table from list_ancillary_categories; "
                         f"this one lacks {', '.join(missing)} (has "
                         f"{', '.join(table.colnames) or 'no columns'}).")
    unit = u.Unit(size_unit)
    if unit.physical_type != u.byte.physical_type:
        raise ValueError(f"size_unit must be a unit of bytes (GB, MB, kB ...), got {size_unit!r}.")
    rows = table if top is None else table[:int(top)]
    names = tables.texts(rows, "eso_category")
    counts = np.asarray(rows["n_files"], dtype=float)
    has_size = tables.SIZE_COLUMN in rows.colnames
    if has_size:
        column = rows[tables.SIZE_COLUMN]
        values = np.where(np.ma.getmaskarray(column), 0.0,
                          np.asarray(np.ma.getdata(column), dtype=float))
        sizes = (values * (column.unit or u.kB)).to_value(unit)
    plt = _pyplot()
    if axes is None:
        figure, axes = plt.subplots(1, 2 if has_size else 1, sharey=True, squeeze=False,
                                    figsize=(10, 0.35 * len(names) + 1.5))
        axes = axes[0]
    else:
        axes = list(np.atleast_1d(axes))
        figure = axes[0].figure
    positions = np.arange(len(names))
    axes[0].barh(positions, counts)
    axes[0].set_yticks(positions, names)
    axes[0].invert_yaxis()  # most frequent on top, as the table lists them
    axes[0].set_xlabel("files")
    if has_size and len(axes) > 1:
        axes[1].barh(positions, sizes)
        label = size_unit if isinstance(size_unit, str) else unit.to_string()
        axes[1].set_xlabel(f"total size ({label})")
    figure.tight_layout()
    return figure
