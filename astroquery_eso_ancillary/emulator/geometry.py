# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""ADQL geometry for the emulator's SQL engine, on the celestial sphere.

Geometry values travel through SQLite as STC-S strings (``"POINT ICRS 10.5 -3.2"``,
``"CIRCLE ICRS 10.5 -3.2 0.1"``, ``"POLYGON ICRS ra1 dec1 ra2 dec2 ..."``), the same
form as ``ivoa.ObsCore.s_region``. The ADQL functions (POINT, CIRCLE, BOX, POLYGON,
CONTAINS, INTERSECTS, DISTANCE, COORD1, COORD2, COORDSYS, AREA, CENTROID) are
plain Python functions that `engine.Engine` registers with SQLite. All angles are
in degrees; polygon edges are great-circle arcs.
"""
from __future__ import annotations

import math
from functools import lru_cache

__all__ = ["INTERNAL_FUNCTIONS", "SQL_FUNCTIONS", "GeometryError", "galactic", "parse_region"]

_RAD = math.pi / 180.0


class GeometryError(ValueError):
    """A geometry argument could not be understood."""


def _num(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise GeometryError(f"{what} must be a number, not {value!r}") from None
    return float(value)


def _fmt(x):
    return repr(float(x))


def _frame(value):
    text = "" if value is None else str(value).strip()
    return text.upper() or "ICRS"


def _vec(ra, dec):
    cd = math.cos(dec * _RAD)
    return (cd * math.cos(ra * _RAD), cd * math.sin(ra * _RAD), math.sin(dec * _RAD))


def _radec(v):
    x, y, z = v
    ra = math.atan2(y, x) / _RAD % 360.0
    return ra, math.atan2(z, math.hypot(x, y)) / _RAD


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _angle(a, b):
    """Angle between unit vectors, in degrees (stable for tiny angles)."""
    return math.atan2(math.sqrt(_dot(c := _cross(a, b), c)), _dot(a, b)) / _RAD


@lru_cache(maxsize=8192)
def parse_region(text):
    """Parse an STC-S-like string into ``(kind, numbers)``.

    ``kind`` is ``"POINT"``, ``"CIRCLE"`` or ``"POLYGON"``; frame words (ICRS,
    J2000, GEOCENTER ...) are skipped.

    Examples
    --------
    >>> parse_region("CIRCLE ICRS 10 20 0.5")
    ('CIRCLE', (10.0, 20.0, 0.5))
    """
    if not isinstance(text, str):
        raise GeometryError(f"not a geometry value: {text!r}")
    words = text.split()
    if not words:
        raise GeometryError("empty geometry value")
    kind = words[0].upper()
    numbers = []
    for word in words[1:]:
        try:
            numbers.append(float(word))
        except ValueError:
            if numbers:
                raise GeometryError(f"bad number {word!r} in {text!r}") from None
    need = {"POINT": 2, "CIRCLE": 3}.get(kind)
    if need is not None and len(numbers) != need:
        raise GeometryError(f"{kind} needs {need} numbers: {text!r}")
    if kind == "BOX" and len(numbers) == 4:
        return "POLYGON", _box_corners(*numbers)
    if kind == "POLYGON" and (len(numbers) < 6 or len(numbers) % 2):
        raise GeometryError(f"POLYGON needs at least 3 (ra, dec) pairs: {text!r}")
    if kind not in ("POINT", "CIRCLE", "POLYGON"):
        raise GeometryError(f"unsupported geometry {kind!r}")
    return kind, tuple(numbers)


def _box_corners(ra, dec, width, height):
    half_w, half_h = width / 2.0, height / 2.0
    dra = half_w / max(math.cos(dec * _RAD), 1e-6)
    return (ra - dra, dec - half_h, ra + dra, dec - half_h,
            ra + dra, dec + half_h, ra - dra, dec + half_h)


def _vertices(numbers):
    return [_vec(numbers[k], numbers[k + 1]) for k in range(0, len(numbers), 2)]


def _project(centre, v):
    """Gnomonic projection of ``v`` on the plane tangent at ``centre`` (None if behind)."""
    d = _dot(centre, v)
    if d <= 1e-12:
        return None
    ra0 = _radec(centre)[0]
    east = (-math.sin(ra0 * _RAD), math.cos(ra0 * _RAD), 0.0)
    north = _cross(centre, east)
    return (_dot(v, east) / d, _dot(v, north) / d)


def _point_in_polygon(p, verts):
    """Even-odd test in the gnomonic plane centred on ``p`` (edges map to lines)."""
    pts = [_project(p, v) for v in verts]
    if any(q is None for q in pts):
        return False      # a vertex 90 deg or more away: our polygons are small
    inside = False
    n = len(pts)
    for k in range(n):
        (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % n]
        if (y1 > 0) != (y2 > 0) and x1 - y1 * (x2 - x1) / (y2 - y1) > 0:
            inside = not inside
    return inside


def _arc_distance(p, a, b):
    """Angular distance (deg) from ``p`` to the great-circle arc a-b."""
    n = _cross(a, b)
    norm = math.sqrt(_dot(n, n))
    if norm > 1e-15:
        n = (n[0] / norm, n[1] / norm, n[2] / norm)
        # the projection of p on the great circle lies inside the arc?
        if _dot(_cross(a, p), n) >= 0 and _dot(_cross(p, b), n) >= 0:
            return abs(math.asin(max(-1.0, min(1.0, _dot(p, n))))) / _RAD
    return min(_angle(p, a), _angle(p, b))


def _segments_cross(p1, p2, q1, q2):
    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0)


def _centre(verts):
    s = [sum(v[i] for v in verts) for i in range(3)]
    norm = math.sqrt(_dot(s, s)) or 1.0
    return (s[0] / norm, s[1] / norm, s[2] / norm)


def _polygons_intersect(a, b):
    if any(_point_in_polygon(v, b) for v in a) or any(_point_in_polygon(v, a) for v in b):
        return True
    centre = _centre(a + b)
    pa = [_project(centre, v) for v in a]
    pb = [_project(centre, v) for v in b]
    if any(q is None for q in pa + pb):
        return False
    return any(_segments_cross(pa[i], pa[(i + 1) % len(pa)], pb[j], pb[(j + 1) % len(pb)])
               for i in range(len(pa)) for j in range(len(pb)))


def _shape(value):
    kind, nums = parse_region(value)
    if kind == "POINT":
        return kind, _vec(*nums), 0.0
    if kind == "CIRCLE":
        return kind, _vec(nums[0], nums[1]), nums[2]
    return kind, _vertices(nums), None


def _contains(a, b):
    """Is region ``a`` inside region ``b``?"""
    ka, va, ra = _shape(a)
    kb, vb, rb = _shape(b)
    if kb == "POINT":
        return ka == "POINT" and _angle(va, vb) < 1e-9
    if kb == "CIRCLE":
        if ka == "POLYGON":
            return all(_angle(v, vb) <= rb for v in va)
        return _angle(va, vb) + ra <= rb
    # b is a polygon
    if ka == "POLYGON":
        return all(_point_in_polygon(v, vb) for v in va)
    if not _point_in_polygon(va, vb):
        return False
    if ka == "CIRCLE":
        n = len(vb)
        return all(_arc_distance(va, vb[k], vb[(k + 1) % n]) >= ra for k in range(n))
    return True


def _intersects(a, b):
    ka, va, ra = _shape(a)
    kb, vb, rb = _shape(b)
    if ka == "POLYGON" and kb == "POLYGON":
        return _polygons_intersect(va, vb)
    if ka == "POLYGON":
        ka, va, ra, kb, vb, rb = kb, vb, rb, ka, va, ra
    if kb == "POLYGON":      # a is a point or a circle
        if _point_in_polygon(va, vb):
            return True
        n = len(vb)
        return ra > 0 and any(_arc_distance(va, vb[k], vb[(k + 1) % n]) <= ra
                              for k in range(n))
    return _angle(va, vb) <= ra + rb


# ----------------------------------------------------------------- SQL-facing functions
# SQLite passes NULL as None; ADQL functions return NULL for NULL input.

def _nullsafe(func):
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        return func(*args)
    wrapper.__name__ = func.__name__
    return wrapper


@_nullsafe
def sql_point(*args):
    """POINT([frame,] ra, dec).

    Examples
    --------
    >>> sql_point("ICRS", 10, -5)
    'POINT ICRS 10.0 -5.0'
    """
    if len(args) == 3:
        frame, ra, dec = args
    elif len(args) == 2:
        frame, (ra, dec) = "", args
    else:
        raise GeometryError("POINT takes (coordsys, ra, dec)")
    return f"POINT {_frame(frame)} {_fmt(_num(ra, 'ra') % 360.0)} {_fmt(_num(dec, 'dec'))}"


@_nullsafe
def sql_circle(*args):
    """CIRCLE([frame,] ra, dec, radius) or CIRCLE([frame,] point, radius).

    Examples
    --------
    >>> sql_circle("", 10, -5, 0.5)
    'CIRCLE ICRS 10.0 -5.0 0.5'
    """
    if len(args) in (2, 3) and isinstance(args[-2], str):
        frame = args[0] if len(args) == 3 else ""
        kind, nums = parse_region(args[-2])
        if kind != "POINT":
            raise GeometryError("CIRCLE(point, radius) needs a POINT")
        ra, dec, radius = nums[0], nums[1], args[-1]
    elif len(args) == 4:
        frame, ra, dec, radius = args
    elif len(args) == 3:
        frame, (ra, dec, radius) = "", args
    else:
        raise GeometryError("CIRCLE takes (coordsys, ra, dec, radius)")
    radius = _num(radius, "radius")
    if radius < 0:
        raise GeometryError(f"CIRCLE radius must not be negative: {radius}")
    return (f"CIRCLE {_frame(frame)} {_fmt(_num(ra, 'ra') % 360.0)} "
            f"{_fmt(_num(dec, 'dec'))} {_fmt(radius)}")


@_nullsafe
def sql_box(*args):
    """BOX([frame,] ra, dec, width, height), returned as a polygon."""
    if len(args) == 5:
        frame, *nums = args
    elif len(args) == 4:
        frame, nums = "", args
    else:
        raise GeometryError("BOX takes (coordsys, ra, dec, width, height)")
    corners = _box_corners(*[_num(v, "BOX argument") for v in nums])
    return f"POLYGON {_frame(frame)} " + " ".join(_fmt(v) for v in corners)


@_nullsafe
def sql_polygon(*args):
    """POLYGON([frame,] ra1, dec1, ra2, dec2, ra3, dec3, ...)."""
    frame, nums = ("", args) if len(args) % 2 == 0 else (args[0], args[1:])
    if len(nums) < 6:
        raise GeometryError("POLYGON needs at least three (ra, dec) vertices")
    return f"POLYGON {_frame(frame)} " + " ".join(_fmt(_num(v, "vertex")) for v in nums)


@_nullsafe
def sql_contains(a, b):
    """CONTAINS(a, b): 1 if a lies inside b, else 0.

    Examples
    --------
    >>> sql_contains(sql_point("", 10, 0), sql_circle("", 10.3, 0, 0.5))
    1
    """
    return int(_contains(a, b))


@_nullsafe
def sql_intersects(a, b):
    """INTERSECTS(a, b): 1 if the regions overlap, else 0.

    Examples
    --------
    >>> sql_intersects("POLYGON ICRS 0 0 1 0 1 1 0 1", sql_circle("", 1.5, 0.5, 0.4))
    0
    """
    return int(_intersects(a, b))


@_nullsafe
def sql_distance(*args):
    """DISTANCE(point, point) or DISTANCE(ra1, dec1, ra2, dec2), in degrees.

    Examples
    --------
    >>> round(sql_distance(0, 0, 0, 1), 9)
    1.0
    """
    if len(args) == 2:
        (ka, na), (kb, nb) = parse_region(args[0]), parse_region(args[1])
        if ka != "POINT" or kb != "POINT":
            raise GeometryError("DISTANCE takes two POINTs")
        return _angle(_vec(*na), _vec(*nb))
    if len(args) == 4:
        nums = [_num(v, "DISTANCE argument") for v in args]
        return _angle(_vec(nums[0], nums[1]), _vec(nums[2], nums[3]))
    raise GeometryError("DISTANCE takes two POINTs")


def _point_part(value, index, name):
    kind, nums = parse_region(value)
    if kind != "POINT":
        raise GeometryError(f"{name} takes a POINT")
    return nums[index]


@_nullsafe
def sql_coord1(value):
    """COORD1(point): its right ascension."""
    return _point_part(value, 0, "COORD1")


@_nullsafe
def sql_coord2(value):
    """COORD2(point): its declination."""
    return _point_part(value, 1, "COORD2")


@_nullsafe
def sql_coordsys(value):
    """COORDSYS(geometry): its frame word."""
    words = str(value).split()
    return words[1] if len(words) > 1 and not _isnumber(words[1]) else "ICRS"


def _isnumber(word):
    try:
        float(word)
    except ValueError:
        return False
    return True


@_nullsafe
def sql_centroid(value):
    """CENTROID(geometry) as a POINT."""
    kind, vecs, _ = _shape(value)
    centre = vecs if kind != "POLYGON" else _centre(vecs)
    ra, dec = _radec(centre)
    return f"POINT ICRS {_fmt(ra)} {_fmt(dec)}"


@_nullsafe
def sql_area(value):
    """AREA(geometry) in square degrees."""
    kind, vecs, radius = _shape(value)
    if kind == "POINT":
        return 0.0
    if kind == "CIRCLE":
        return 2 * math.pi * (1 - math.cos(radius * _RAD)) / _RAD ** 2
    # spherical excess of the fan of triangles from the first vertex
    total = 0.0
    a = vecs[0]
    for k in range(1, len(vecs) - 1):
        b, c = vecs[k], vecs[k + 1]
        num = _dot(a, _cross(b, c))
        den = 1 + _dot(a, b) + _dot(b, c) + _dot(a, c)
        total += 2 * math.atan2(num, den)
    return abs(total) / _RAD ** 2


#: ADQL name -> (python function, number of arguments or -1 for variadic)
SQL_FUNCTIONS = {
    "POINT": (sql_point, -1), "CIRCLE": (sql_circle, -1), "BOX": (sql_box, -1),
    "POLYGON": (sql_polygon, -1), "CONTAINS": (sql_contains, 2),
    "INTERSECTS": (sql_intersects, 2), "DISTANCE": (sql_distance, -1),
    "COORD1": (sql_coord1, 1), "COORD2": (sql_coord2, 1), "COORDSYS": (sql_coordsys, 1),
    "CENTROID": (sql_centroid, 1), "AREA": (sql_area, 1),
}


# ICRS -> Galactic: the north galactic pole and the galactic longitude of the celestial pole.
_NGP_RA, _L_NCP = 192.85948 * _RAD, 122.93192
_SIN_NGP, _COS_NGP = math.sin(27.12825 * _RAD), math.cos(27.12825 * _RAD)


def galactic(ra, dec):
    """Galactic ``(l, b)`` in degrees (6 decimals) of an ICRS position in degrees.

    Uses the IAU 1958 pole; good to about 1e-4 deg, as catalogue columns need.

    Examples
    --------
    >>> galactic(266.416837, -29.007811)    # Sgr A*
    (359.944251, -0.046165)
    """
    d, dr = dec * _RAD, ra * _RAD - _NGP_RA
    sd, cd, cr = math.sin(d), math.cos(d), math.cos(dr)
    b = math.asin(max(-1.0, min(1.0, sd * _SIN_NGP + cd * _COS_NGP * cr)))
    lon = (_L_NCP - math.atan2(cd * math.sin(dr), sd * _COS_NGP - cd * _SIN_NGP * cr) / _RAD)
    return round(lon % 360.0, 6), round(b / _RAD, 6)


#: SQL functions the engine registers for its own views, not callable from ADQL.
INTERNAL_FUNCTIONS = {
    "ESO_GAL_LON": (_nullsafe(lambda ra, dec: galactic(_num(ra, "ra"), _num(dec, "dec"))[0]), 2),
    "ESO_GAL_LAT": (_nullsafe(lambda ra, dec: galactic(_num(ra, "ra"), _num(dec, "dec"))[1]), 2),
}
