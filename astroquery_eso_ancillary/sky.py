# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Sky positions as astronomers give them, turned into the ICRS cone the queries send.

``coordinates=`` takes a `~astropy.coordinates.SkyCoord` in any frame, or a
string resolved as astroquery's ``query_region`` resolves it
(``astroquery.utils.parse_coordinates``: an ICRS position such as ``'03h33m36s
-36d08m25s'`` or ``'53.4 -36.14'``, or an object name, looked up with Sesame). ``radius=`` takes a
`~astropy.units.Quantity`, an `~astropy.coordinates.Angle`, a string
(``'5arcmin'``) or a number of degrees; default `DEFAULT_RADIUS`. The result is
(ra, dec, radius) in ICRS degrees, for ``adql.cone_condition``.
``cone_ra``/``cone_dec``/``cone_radius`` (as in ``astroquery.eso``) pass through.
"""
import math
import numbers
import re
import warnings

import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astroquery.exceptions import InputWarning
from astroquery.utils import parse_coordinates

__all__ = ["DEFAULT_RADIUS", "cone", "parse_angle", "parse_cone_text"]

#: The radius of ``coordinates=`` without ``radius=``.
DEFAULT_RADIUS = Angle(1, u.arcmin)

_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_angle(value, *, what="radius"):
    """An angle from a Quantity, Angle, str (``'5arcmin'``, ``'0.1 deg'``) or degrees.

    Examples
    --------
    >>> parse_angle("5arcmin")
    <Angle 5. arcmin>
    >>> parse_angle(0.5)
    <Angle 0.5 deg>
    """
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an angle, got {value!r}.")
    try:
        if isinstance(value, u.Quantity):
            return Angle(value.to(u.deg))
        if isinstance(value, numbers.Real):
            return Angle(float(value), u.deg)
        if isinstance(value, str):
            text = value.strip()
            return Angle(float(text), u.deg) if _NUMBER_RE.match(text) else Angle(text)
    except (u.UnitsError, ValueError) as exc:
        raise ValueError(f"{what} must be an angle (a Quantity such as 5 * u.arcmin, a "
                         f"string such as '5arcmin', or degrees), got {value!r}.") from exc
    raise TypeError(f"{what} must be an angle (Quantity, Angle, str or degrees), "
                    f"got {type(value).__name__}: {value!r}.")


def _icrs(coordinates):
    if isinstance(coordinates, str):
        try:
            # Positions are parsed, anything else is an object name resolved with Sesame.
            # A position in text is ICRS, as documented: astroquery's note saying so
            # would only repeat it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InputWarning)
                coordinates = parse_coordinates(coordinates)
        except Exception as exc:  # astroquery raises many kinds for an unknown name
            raise ValueError(f"coordinates: cannot resolve {coordinates!r} to a sky "
                             f"position ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(coordinates, SkyCoord):
        frame = getattr(coordinates, "transform_to", None)
        if frame is None:
            raise TypeError("coordinates must be a SkyCoord (any frame) or a str (a "
                            f"position or an object name), got {type(coordinates).__name__}: "
                            f"{coordinates!r}.")
        coordinates = SkyCoord(coordinates)
    if not coordinates.isscalar:
        raise ValueError(f"coordinates must be one position, got {len(coordinates)}.")
    return coordinates.icrs


def cone(*, coordinates=None, radius=None, cone_ra=None, cone_dec=None, cone_radius=None):
    """The (ra, dec, radius) ICRS cone of a query, or None when it has none.

    Parameters
    ----------
    coordinates : `~astropy.coordinates.SkyCoord` or str, optional
        The centre, in any frame; a str is parsed or resolved as by
        ``astroquery.utils.parse_coordinates``.
    radius : Quantity, Angle, str or float, optional
        With ``coordinates``; default `DEFAULT_RADIUS` (1 arcmin).
    cone_ra, cone_dec, cone_radius : float or Quantity, optional
        astroquery.eso's keywords (ICRS, degrees unless a Quantity); not with
        ``coordinates``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> ra, dec, r = cone(coordinates=SkyCoord(0 * u.deg, 90 * u.deg, frame="galactic"),
    ...                   radius=6 * u.arcmin)
    >>> round(ra, 4), round(dec, 4), r
    (192.8595, 27.1283, 0.1)
    """
    given = (cone_ra, cone_dec, cone_radius) != (None, None, None)
    if coordinates is None:
        if radius is not None:
            raise ValueError("radius= needs coordinates= (or use cone_ra, cone_dec and "
                             "cone_radius).")
        return (cone_ra, cone_dec, cone_radius) if given else None
    if given:
        raise ValueError("Give either coordinates= (and radius=) or cone_ra/cone_dec/"
                         "cone_radius, not both.")
    centre = _icrs(coordinates)
    angle = DEFAULT_RADIUS if radius is None else parse_angle(radius)
    degrees = float(angle.to_value(u.deg))
    if not math.isfinite(degrees) or not 0 < degrees <= 180:
        raise ValueError(f"radius must be within (0, 180] degrees, got {radius!r}.")
    return float(centre.ra.deg), float(centre.dec.deg), degrees


def parse_cone_text(ra, dec, radius):
    """A cone from command-line text: sexagesimal or unit-bearing values, or degrees.

    An RA with ``:`` or ``h`` is in hours (``03:33:36``, ``3h33m36s``); a
    declination with ``:`` in degrees (``-36:08:25``); a radius without unit
    in degrees (``5arcmin``, ``0.1deg``, ``0.1``).

    Examples
    --------
    >>> ra, dec, r = parse_cone_text("03:33:36", "-36:08:25", "5arcmin")
    >>> round(ra, 4), round(dec, 4), round(r, 4)
    (53.4, -36.1403, 0.0833)
    """
    try:
        ra_angle = Angle(float(ra), u.deg) if _NUMBER_RE.match(ra.strip()) else (
            Angle(ra, u.hourangle) if (":" in ra or " " in ra.strip()) else Angle(ra))
        dec_angle = Angle(float(dec), u.deg) if _NUMBER_RE.match(dec.strip()) else (
            Angle(dec, u.deg))
    except (u.UnitsError, ValueError) as exc:
        raise ValueError(f"cannot read the cone centre {ra!r} {dec!r}: give degrees "
                         "(53.4 -36.14), sexagesimal (03:33:36 -36:08:25) or values with "
                         "units (53.4deg -36.14deg)") from exc
    centre = SkyCoord(ra_angle, dec_angle, frame="icrs")
    return cone(coordinates=centre, radius=parse_angle(radius))
