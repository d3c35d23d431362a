# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Previews seen rather than read: downloaded PNG/JPEG previews in one grid.

`show_previews` takes a manifest of ``download_ancillary`` (or file paths)
and draws its image previews in a matplotlib grid, each titled by its
product and original file name; PDF previews cannot be drawn and are listed
under the grid. In a notebook the returned figure shows itself; ``path=``
saves it to a file. matplotlib is an optional extra:
``pip install 'astroquery_eso_ancillary[plot]'``.
"""
import math
import os
from pathlib import Path

from astropy.table import Table
from astroquery import log

from .tables import cell

__all__ = ["IMAGE_SUFFIXES", "preview_items", "show_previews"]

#: File endings drawn in the grid; PDF previews are listed instead.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PDF_SUFFIX = ".pdf"


class MissingMatplotlibError(ImportError):
    """matplotlib, needed to draw previews, is not installed."""


def preview_items(files):
    """The previews of a manifest (or of paths): a list of dicts with path, title, kind.

    ``kind`` is ``'image'`` or ``'pdf'``; rows that failed, and files of other
    types, are left out.

    Examples
    --------
    >>> t = Table({"local_path": ["/d/a.png", "/d/b.pdf", "/d/c.fits"],
    ...            "product_id": ["P.1"] * 3, "original_filename": ["x_tpl.png", "", ""],
    ...            "status": ["downloaded"] * 3})
    >>> [(i["kind"], i["title"]) for i in preview_items(t)]
    [('image', 'P.1\\nx_tpl.png'), ('pdf', 'P.1\\nb.pdf')]
    """
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    if isinstance(files, Table):
        if "local_path" not in files.colnames:
            raise ValueError("show_previews needs a manifest of download_ancillary (a "
                             "'local_path' column) or file paths; the table has "
                             f"{', '.join(files.colnames) or 'no columns'}.")
        rows = [{"path": cell(row, "local_path"), "product": cell(row, "product_id"),
                 "original": cell(row, "original_filename"), "status": cell(row, "status")}
                for row in files]
    elif hasattr(files, "__iter__") and not isinstance(files, (bytes, dict)):
        rows = [{"path": os.fspath(p), "product": "", "original": "", "status": ""}
                for p in files]
    else:
        raise TypeError("show_previews takes a manifest Table or file paths, not "
                        f"{type(files).__name__}.")
    items = []
    for row in rows:
        path = row["path"]
        if not path or row["status"] == "error":
            continue
        suffix = Path(path).suffix.lower()
        kind = "image" if suffix in IMAGE_SUFFIXES else "pdf" if suffix == PDF_SUFFIX else None
        if kind is None:
            continue
        name = row["original"] or Path(path).name
        title = f"{row['product']}\n{name}" if row["product"] else name
        items.append({"path": path, "title": title, "kind": kind})
    return items


def _matplotlib():
    # Imported only when drawing: matplotlib is an optional extra.
    try:
        from matplotlib.figure import Figure
        from matplotlib.image import imread
    except ImportError:
        raise MissingMatplotlibError(
            "show_previews needs matplotlib: pip install "
            "'astroquery_eso_ancillary[plot]'") from None
    return Figure, imread


def show_previews(files, *, ncols=4, max=24, path=None, panel_size=3.0, dpi=100):
    """Draw PNG/JPEG previews in a grid titled by product and original name.

    Parameters
    ----------
    files : `~astropy.table.Table`, str or list of str
        A manifest of ``download_ancillary`` (its ``local_path``,
        ``product_id`` and ``original_filename`` columns are used) or paths.
    ncols : int, optional
        Panels per row.
    max : int, optional
        At most this many panels (the first ones); the number left out is
        logged.
    path : str or path, optional
        Save the figure there (format from the extension, e.g. ``.png``).
    panel_size : float, optional
        Width and height of one panel, in inches.
    dpi : int, optional
        Resolution of a saved figure.

    Returns
    -------
    `matplotlib.figure.Figure` or None
        The figure (a notebook shows it); None when there is no image to draw.
        PDF previews are listed in the figure's footer and logged.

    Raises
    ------
    MissingMatplotlibError
        matplotlib is not installed.

    Examples
    --------
    >>> manifest = Eso.download_ancillary(files, destination='previews')  # doctest: +SKIP
    >>> show_previews(manifest, ncols=3, path='previews.png')  # doctest: +SKIP
    """
    for name, value in (("ncols", ncols), ("max", max)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    items = preview_items(files)
    images = [item for item in items if item["kind"] == "image"]
    pdfs = [item for item in items if item["kind"] == "pdf"]
    if pdfs:
        log.info(f"{len(pdfs)} PDF preview(s), not drawn: "
                 + ", ".join(Path(item["path"]).name for item in pdfs))
    if not images:
        log.warning("No PNG or JPEG preview to draw.")
        return None
    if len(images) > max:
        log.info(f"Drawing the first {max} of {len(images)} previews (max={max}).")
        images = images[:max]
    Figure, imread = _matplotlib()
    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    footer = 0.4 if pdfs else 0.0
    figure = Figure(figsize=(ncols * panel_size, nrows * (panel_size + 0.5) + footer),
                    layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for ax, item in zip(axes.flat, images, strict=False):  # more axes than images
        ax.set_axis_off()
        ax.set_title(item["title"], fontsize=8)
        try:
            ax.imshow(imread(item["path"]))
        except (OSError, ValueError, SyntaxError) as exc:  # not an image after all
            ax.text(0.5, 0.5, f"cannot draw:\nnot a readable image\n({type(exc).__name__})",
                    ha="center",
                    va="center", transform=ax.transAxes, fontsize=8)
    for ax in list(axes.flat)[len(images):]:
        ax.set_axis_off()
    if pdfs:
        names = ", ".join(Path(item["path"]).name for item in pdfs[:6])
        more = f" and {len(pdfs) - 6} more" if len(pdfs) > 6 else ""
        figure.supxlabel(f"PDF previews (not drawn): {names}{more}", fontsize=8)
    if path is not None:
        figure.savefig(path, dpi=dpi)
    return figure
