# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulated archive's content: a seeded, deterministic ESO Science Archive.

`Archive` generates the rows of ``ivoa.ObsCore`` (one per product) and
``phase3v2.product_files`` (one per file) for several collections, each with the
file categories it really has (MUSE cubes with white-light images, READMEs and
previews; ESPRESSO spectra with 2D echelle tarballs, CCFs and per-fibre spectra;
VIRCAM tiles with weight maps ...). The real rows quoted in the project's archive
reference (the three ESO HOWTO examples) are always included verbatim, and one
obsolete product is known only to DataLink (`Archive.obsolete`).

Products are generated lazily from per-product seeds, so the archive scales from
a few hundred products to millions of file rows: `Archive.iter_rows` streams
tuples (the engine loads them straight into SQLite) and `Archive.product` /
`Archive.files_of` / `Archive.file` regenerate single products on demand. The
full ``products`` / ``files`` lists are built on first access only.

This module is part of the emulator and imports nothing from the client package.
"""
from __future__ import annotations

import bisect
import random
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from math import cos, pi

from .geometry import galactic
from .schema import OBSCORE_DERIVED, SIZE_COLUMNS, archive_tables

__all__ = [
    "OBSOLETE_PRODUCT_ID",
    "SIZE_COLUMNS",
    "Archive",
]

#: The obsolete VMC product of the reference, known to DataLink only.
OBSOLETE_PRODUCT_ID = "ADP.2013-06-20T17:15:42.690"


# --------------------------------------------------------------------------- time helpers

_MJD_UNIX = 40587.0


def _epoch(text):
    """Seconds since 1970 for an ISO date(time) in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


_DAYS = {}
_CLOCK = []       # "hh:mm:ss" of every second of a day, built on first use


def _iso(sec):
    """``YYYY-MM-DDThh:mm:ss`` (UTC) of an epoch second."""
    day, rest = divmod(int(sec), 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        if not _CLOCK:
            _CLOCK.extend(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                          for s in range(60))
    return text + _CLOCK[rest]


def _iso_ms(sec_float):
    """``YYYY-MM-DDThh:mm:ss.sss`` (UTC), as in ESO file names."""
    whole = int(sec_float)
    return f"{_iso(whole)}.{round((sec_float - whole) * 1000) % 1000:03d}"


def _mjd(sec):
    return sec / 86400.0 + _MJD_UNIX


def _period(sec):
    """ESO observing period (P100 began 2017-10-01; periods are six months)."""
    tm = time.gmtime(sec)
    return 100 + ((tm.tm_year - 2017) * 12 + tm.tm_mon - 10) // 6


def _proposal(rng, sec):
    r = rng.random
    period = _period(sec)
    prefix = f"{period:03d}" if period < 100 else f"{period:04d}"
    if r() < 0.1:
        prefix = f"1{period:03d}"      # large and GTO programmes
    letter = "CCCCDDAABE"[int(r() * 10)]
    return f"{prefix}.{letter}-{1 + int(r() * 999):04d}({'AAAABBC'[int(r() * 7)]})"


# --------------------------------------------------------------------------- sky helpers

_DEG = pi / 180.0
_BOX_FORMAT = "POLYGON J2000 " + " ".join(["%.6f"] * 8)

def _box(ra, dec, half):
    """STC-S polygon of a square of half-size ``half`` deg centred on (ra, dec)."""
    dra = half / max(cos(dec * _DEG), 0.05)
    lo, hi = (ra - dra) % 360, (ra + dra) % 360
    return _BOX_FORMAT % (lo, dec - half, hi, dec - half, hi, dec + half, lo, dec + half)


def _circle(ra, dec, r):
    return f"CIRCLE J2000 {ra:.6f} {dec:.6f} {r:.6f}"


# --------------------------------------------------------------------------- collections
#
# Each recipe draws one product: it returns the ObsCore fields it owns and the
# product's files as (category, extension, original_filename, size_kb), science
# file first. Names and sizes follow what each collection really publishes.

_MUSE_TARGETS = (("NGC 1365", 53.4015, -36.1404), ("NGC 4650A", 190.9000, -40.7100),
                 ("Abell 370", 39.9700, -1.5800), ("HDFS", 338.2400, -60.5600),
                 ("NGC 300", 13.7230, -37.6840), ("Centaurus A", 201.3650, -43.0190),
                 ("MACS J0416.1-2403", 64.0400, -24.0700), ("UDF-10", 53.1600, -27.7800),
                 ("NGC 1068", 40.6700, -0.0130), ("NGC 7793", 359.4580, -32.5910),
                 ("Orion Bar", 83.8400, -5.4200))
_STAR_TARGETS = (("WASP-76", 26.6329, 2.7003), ("Proxima Cen", 217.4290, -62.6800),
                 ("HD 10700", 26.0170, -15.9370), ("WASP-121", 107.6000, -39.0980),
                 ("Barnard's Star", 269.4520, 4.6930), ("HD 209458", 330.7950, 18.8840),
                 ("TOI-178", 7.3000, -30.4500), ("HD 40307", 88.5170, -60.0240),
                 ("LTT 1445A", 45.4600, -16.5900))
_HARPS_TARGETS = (("HD 10700", 26.0170, -15.9370), ("Alpha Cen B", 219.8960, -60.8380),
                  ("GJ 581", 229.8610, -7.7220), ("HD 85512", 147.5800, -43.4900),
                  ("HD 40307", 88.5170, -60.0240), ("GJ 667C", 259.7500, -34.9900),
                  ("Beta Pic", 86.8200, -51.0700), ("HD 69830", 124.6000, -12.6300))
_HAWKI_TARGETS = (("GRB 190114C", 54.5040, -26.9460), ("NGC 253", 11.8880, -25.2880),
                  ("Fornax A", 50.6740, -37.2080), ("47 Tuc", 6.0240, -72.0810),
                  ("Omega Cen", 201.6970, -47.4800), ("COSMOS", 150.1200, 2.2100),
                  ("CDFS", 53.1200, -27.8100))
_XSH_TARGETS = (("GRB 221009A", 288.2650, 19.7730), ("AT 2017gfo", 197.4504, -23.3815),
                ("J0100+2802", 15.0540, 28.0410), ("ULAS J1342+0928", 205.5330, 9.4770),
                ("PKS 2155-304", 329.7170, -30.2260), ("SN 2023ixf", 210.9100, 54.3120),
                ("HD 209458", 330.7950, 18.8840))
_KMOS_TARGETS = (("COSMOS", 150.1200, 2.2100), ("GOODS-S", 53.1200, -27.8000),
                 ("UDS", 34.4000, -5.1000), ("Westerlund 1", 251.7670, -45.8510),
                 ("NGC 3603", 168.7800, -61.2600), ("Galactic Centre", 266.4170, -29.0080))

_NIR_BANDS = {"Z": (8.3e-7, 9.3e-7), "Y": (9.7e-7, 1.07e-6), "J": (1.17e-6, 1.33e-6),
              "H": (1.5e-6, 1.8e-6), "Ks": (2.0e-6, 2.3e-6)}
_OPT_BANDS = {"u": (3.2e-7, 3.8e-7), "g": (4.1e-7, 5.5e-7), "r": (5.6e-7, 7.0e-7),
              "i": (7.0e-7, 8.5e-7)}
_XSH_ARMS = {"UVB": (3.0e-7, 5.6e-7, 5400.0), "VIS": (5.5e-7, 1.02e-6, 8900.0),
             "NIR": (1.02e-6, 2.48e-6, 5600.0)}
_KMOS_BANDS = {"IZ": (7.8e-7, 1.08e-6), "YJ": (1.0e-6, 1.36e-6), "H": (1.46e-6, 1.85e-6),
               "K": (1.92e-6, 2.46e-6), "HK": (1.46e-6, 2.46e-6)}


def _pick(r, targets):
    """A target of the list, pointed within 0.01 deg of its position."""
    name, ra, dec = targets[int(r() * len(targets))]
    return (name, (ra + (r() - 0.5) * 0.02 / max(cos(dec * _DEG), 0.05)) % 360,
            max(-90.0, min(90.0, dec + (r() - 0.5) * 0.02)))


def _between(r, lo, hi):
    """An integer in [lo, hi] (sizes in kB, numbers): cheaper than Random.randint."""
    return lo + int(r() * (hi - lo + 1))


def _one(r, options):
    return options[int(r() * len(options))]


def _fields(target, ra, dec, region, fov, resolution, dptype, exptime, t_span, em, res_power,
            o_ucd, obs_id, facility, calib_level):
    """The ObsCore fields a recipe decides, in a fixed order (see `Archive._draw`)."""
    return (obs_id, facility, dptype, calib_level, target, ra, dec, fov, region, resolution,
            t_span, exptime, em[0], em[1], res_power, o_ucd)


_CUBE_UCD, _FLUX_UCD = "phot.flux.density;em.wl", "phot.flux"
_MUSE_MODES = ("WFM-NOAO-N",) * 11 + ("WFM-AO-N",) * 6 + ("NFM-AO-N",) * 2 + ("WFM-NOAO-E",)
_ESPRESSO_MODES = ("HR_1x1_U1",) * 3 + ("HR_2x1_U3",) * 3 + ("HR_1x1_U2",) * 2 + (
    "UHR_1x1_U4", "MR_4x2_4UT")
_ESPRESSO_RES = {"HR": 140000.0, "UHR": 190000.0, "MR": 70000.0}


def _muse(rng, obs):
    r = rng.random
    mode = _one(r, _MUSE_MODES)
    name, ra, dec = _pick(r, _MUSE_TARGETS)
    nexp, exptime = _between(r, 1, 4), _one(r, (600.0, 900.0, 1200.0, 1500.0))
    obsnum, first = _between(r, 1_000_000, 3_999_999), _iso_ms(obs)
    stamps = [first] + [_iso_ms(obs + k * (exptime + 90.123)) for k in range(1, nexp)]
    nfm = mode[0] == "N"
    files = [("SCIENCE.CUBE.IFS", "FITS", f"MU_SCBY_{obsnum}_{first}_{mode}_SKY.fits",
              _between(r, 1_400_000, 3_600_000)),
             ("ANCILLARY.IMAGE.WHITELIGHT", "FITS", f"MU_SIMY_{obsnum}_{first}_{mode}_SKY.fits",
              _between(r, 500, 560)),
             ("ANCILLARY.README", "LOG", f"r.MUSE.{first}_tpl.log", _between(r, 200, 280)),
             ("ANCILLARY.PREVIEW", "PNG", f"r.MUSE.{first}_tpl.png", _between(r, 320, 345))]
    files += [("ANCILLARY.PREVIEW", "PNG", f"r.MUSE.{s}_pst.png", _between(r, 320, 345))
              for s in stamps]
    if r() < 0.15:
        files += [("ANCILLARY.MUSE.PIXTABLE_REDUCED", "FITS", f"MU_SPTR_{obsnum}_{s}_{mode}.fits",
                   _between(r, 1_100_000, 1_800_000)) for s in stamps]
    half = 3.75 / 3600 if nfm else 0.5 / 60
    return _fields(name, ra, dec, _box(ra, dec, half), 2 * half, 0.05 if nfm else 0.6, "cube",
                   nexp * exptime, nexp * (exptime + 90.123) - 90.123, (4.65e-7, 9.3e-7),
                   3000.0, _CUBE_UCD, str(obsnum), "ESO-VLT-U4", 2), files


def _espresso(rng, obs):
    r = rng.random
    mode = _one(r, _ESPRESSO_MODES)
    name, ra, dec = _pick(r, _STAR_TARGETS)
    nexp, exptime = _between(r, 1, 6), _one(r, (300.0, 600.0, 900.0, 1200.0))
    obsnum, first = _between(r, 2_000_000, 3_999_999), _iso_ms(obs)
    stamps = [first] + [_iso_ms(obs + k * (exptime + 90.123)) for k in range(1, nexp)]
    tail = f"_{mode}"
    files = [("SCIENCE.SPECTRUM", "FITS", f"ES_S1DA_{obsnum}_{first}{tail}.fits",
              _between(r, 8_000, 14_000))]
    files += [("ANCILLARY.SPECTRUM", "FITS", f"ES_SFLA_{obsnum}_{s}{tail}.fits",
               _between(r, 11_000, 13_500)) for s in stamps]
    if r() < 0.5:      # fibre B (sky or simultaneous reference): the LIKE 'ES_SFLA%' trap
        files += [("ANCILLARY.SPECTRUM", "FITS", f"ES_SFLAB_{obsnum}_{s}{tail}.fits",
                   _between(r, 11_000, 13_500)) for s in stamps]
    files += [("ANCILLARY.CCF", "FITS", f"ES_SCCA_{obsnum}_{s}{tail}.fits",
               _between(r, 600, 800)) for s in stamps[:2]]
    files.append(("ANCILLARY.2DECHELLE.TAR", "TAR", f"ES_SOBF_{obsnum}_{first}{tail}.tar",
                  _between(r, 150_000, 420_000)))
    unit = mode.rsplit("_", 1)[1]
    facility = "ESO-VLT-U1234" if unit == "4UT" else f"ESO-VLT-U{unit[1]}"
    return _fields(name, ra, dec, _circle(ra, dec, 0.5 / 3600), 1.0 / 3600, 1.0, "spectrum",
                   nexp * exptime, nexp * (exptime + 90.123) - 90.123, (3.78e-7, 7.89e-7),
                   _ESPRESSO_RES[mode.split("_")[0]], _CUBE_UCD, str(obsnum), facility,
                   2), files


def _harps(rng, obs):
    r = rng.random
    name, ra, dec = _pick(r, _HARPS_TARGETS)
    exptime, stamp = _one(r, (300.0, 600.0, 900.0)), _iso_ms(obs)
    files = [("SCIENCE.SPECTRUM", "FITS", f"HARPS.{stamp}_s1d_A_DRS_HARPS_3.8.fits",
              _between(r, 280, 420)),
             ("ANCILLARY.HARPSTAR", "TAR", f"HARPS.{stamp}_DRS_HARPS_3.8.tar",
              _between(r, 18_000, 26_000))]
    if r() < 0.7:
        files.append(("ANCILLARY.CCF", "FITS", f"HARPS.{stamp}_ccf_{_one(r, ('G2', 'K5', 'M2'))}"
                      "_A.fits", _between(r, 300, 620)))
    return _fields(name, ra, dec, _circle(ra, dec, 0.5 / 3600), 1.0 / 3600, 1.0, "spectrum",
                   exptime, exptime, (3.78e-7, 6.91e-7), 115000.0, _CUBE_UCD,
                   str(_between(r, 100_000, 999_999)), "ESO-3.6", 2), files


def _hawki(rng, obs):
    r = rng.random
    name, ra, dec = _pick(r, _HAWKI_TARGETS)
    band = _one(r, ("Y", "J", "H", "Ks"))
    stamp, size = _iso_ms(obs), _between(r, 60_000, 72_000)
    files = [("SCIENCE.IMAGE", "FITS", f"HAWKI.{stamp}_{band}_tile.fits", size),
             ("ANCILLARY.WEIGHTMAP", "FITS", f"HAWKI.{stamp}_{band}_tile_weight.fits",
              size // 2 + _between(r, 0, 2000))]
    return _fields(name, ra, dec, _box(ra, dec, 3.75 / 60), 0.125, 0.4, "image",
                   _one(r, (600.0, 1200.0, 2400.0)), 3600.0, _NIR_BANDS[band], None,
                   _FLUX_UCD, str(_between(r, 1_000_000, 3_999_999)), "ESO-VLT-U4", 2), files


def _vircam(rng, obs, *, survey):
    r = rng.random
    stamp = _iso(obs)
    num = _between(r, 1, 999)
    if survey == "VVV":
        bulge = r() < 0.6
        tile = f"b{_between(r, 201, 396)}" if bulge else f"d{_between(r, 1, 152):03d}"
        ra = 255 + 20 * r() if bulge else 190 + 65 * r()
        dec = -40 + 22 * r() if bulge else -65 + 20 * r()
        bands = ("Z", "Y", "J", "H", "Ks")
    else:
        lmc = r() < 0.75
        tile = f"{'LMC' if lmc else 'SMC'} {_between(r, 2, 11)}_{_between(r, 2, 11)}"
        ra = 65 + 30 * r() if lmc else 5 + 20 * r()
        dec = -75 + 11 * r() if lmc else -75 + 5 * r()
        bands = ("Y", "J", "Ks")
    band = _one(r, bands)
    base = f"v{stamp[:4]}{stamp[5:7]}{stamp[8:10]}_{num:05d}_st_tl"
    if r() < 0.3:          # source-table products come without ancillaries
        files = [("SCIENCE.SRCTBL", "FITS", f"{base}_cat.fits", _between(r, 20_000, 90_000))]
        dptype = "measurements"
    else:
        size = _between(r, 250_000, 520_000)
        files = [("SCIENCE.IMAGE", "FITS", f"{base}.fits", size),
                 ("ANCILLARY.WEIGHTMAP", "FITS", f"{base}_conf.fits", size // 3)]
        dptype = "image"
    return _fields(tile, ra, dec, _box(ra, dec, 0.7), 1.5, 0.8, dptype,
                   _one(r, (80.0, 160.0, 375.0)), 1800.0, _NIR_BANDS[band], None, _FLUX_UCD,
                   str(_between(r, 100_000, 999_999)), "ESO-VISTA", 3), files


def _kids(rng, obs):
    r = rng.random
    north = r() < 0.5
    ra = 150 + 80 * r() if north else (330 + 80 * r()) % 360
    dec = -3 + 6 * r() if north else -35 + 7 * r()
    band = _one(r, ("u", "g", "r", "i"))
    base = f"KiDS_DR4.0_{ra:.1f}_{dec:.1f}_{band}"
    size = _between(r, 800_000, 1_100_000)
    files = [("SCIENCE.IMAGE", "FITS", f"{base}_sci.fits", size),
             ("ANCILLARY.WEIGHTMAP", "FITS", f"{base}_wei.fits", size + _between(r, 0, 5000)),
             ("ANCILLARY.MASK", "FITS", f"{base}_msk.fits", size // 4)]
    return _fields(f"KIDS_{ra:.1f}_{dec:.1f}", ra, dec, _box(ra, dec, 0.5), 1.0, 0.7, "image",
                   1800.0, 2400.0, _OPT_BANDS[band], None, _FLUX_UCD,
                   str(_between(r, 100_000, 999_999)), "ESO-VST", 3), files


def _xshooter(rng, obs):
    r = rng.random
    name, ra, dec = _pick(r, _XSH_TARGETS)
    arm = _one(r, ("UVB", "VIS", "NIR"))
    stamp = _iso_ms(obs)
    pre = f"XSHOO.{stamp}_SCI_SLIT_FLUX"
    files = [("SCIENCE.SPECTRUM", "FITS", f"{pre}_MERGE1D_{arm}.fits", _between(r, 300, 900)),
             ("ANCILLARY.2DSPECTRUM", "FITS", f"{pre}_MERGE2D_{arm}.fits",
              _between(r, 2_000, 9_000))]
    if arm != "UVB" and r() < 0.6:
        files.append(("ANCILLARY.SPECTRUM.TELLURIC", "FITS",
                      f"XSHOO.{stamp}_TELL_SLIT_MERGE1D_{arm}.fits", _between(r, 300, 900)))
    files.append(("ANCILLARY.PREVIEW", "PNG", f"{pre}_MERGE1D_{arm}.png", _between(r, 40, 90)))
    lo, hi, res = _XSH_ARMS[arm]
    exptime = _one(r, (600.0, 1200.0, 2400.0))
    return _fields(name, ra, dec, _circle(ra, dec, 0.75 / 3600), 11.0 / 3600, 0.9, "spectrum",
                   exptime, exptime, (lo, hi), res, _CUBE_UCD,
                   str(_between(r, 1_000_000, 3_999_999)), "ESO-VLT-U2", 2), files


def _kmos(rng, obs):
    r = rng.random
    name, ra, dec = _pick(r, _KMOS_TARGETS)
    band = _one(r, ("IZ", "YJ", "H", "K", "HK"))
    stamp = _iso_ms(obs)
    ifu = _between(r, 1, 24)
    files = [("SCIENCE.CUBE.IFS", "FITS", f"KMOS.{stamp}_SCI_COMBINED_IFU{ifu:02d}.fits",
              _between(r, 9_000, 40_000)),
             ("ANCILLARY.KMOS.SCI_RECONSTRUCTED", "FITS",
              f"KMOS.{stamp}_SCI_RECONSTRUCTED_{band}.fits", _between(r, 150_000, 260_000))]
    if r() < 0.5:
        files.append(("ANCILLARY.PREVIEW", "PNG", f"KMOS.{stamp}_IFU{ifu:02d}.png",
                      _between(r, 30, 80)))
    exptime = _one(r, (1800.0, 3600.0, 5400.0))
    return _fields(name, ra, dec, _box(ra, dec, 1.4 / 3600), 2.8 / 3600, 0.6, "cube", exptime,
                   exptime + 600.0, _KMOS_BANDS[band], 3500.0, _CUBE_UCD,
                   str(_between(r, 1_000_000, 3_999_999)), "ESO-VLT-U1", 2), files


@dataclass(frozen=True)
class _Collection:
    name: str
    instrument: str
    weight: float
    ingest: tuple          # (first, last) ADP ingestion dates
    first_obs: str         # the instrument's first science night
    recipe: object
    release_doc: int
    survey: str | None = None   # survey programme id (no PI programmes, no proprietary data)


_COLLECTIONS = (
    # MUSE ingestion starts after the first reference product, so that it is the oldest.
    _Collection("MUSE", "MUSE", 16, ("2016-06-02", "2026-06-30"), "2014-02-01", _muse, 78),
    _Collection("ESPRESSO", "ESPRESSO", 8, ("2019-06-01", "2026-06-30"), "2018-09-01",
                _espresso, 170),
    _Collection("HARPS", "HARPS", 16, ("2014-02-01", "2024-12-31"), "2003-10-01", _harps, 33),
    _Collection("HAWKI", "HAWKI", 8, ("2019-01-01", "2026-06-30"), "2007-10-01", _hawki, 154),
    _Collection("VVV", "VIRCAM", 14, ("2011-06-01", "2021-12-31"), "2010-02-01",
                lambda rng, obs: _vircam(rng, obs, survey="VVV"), 80, "179.B-2002"),
    _Collection("VMC", "VIRCAM", 8, ("2013-01-01", "2022-12-31"), "2009-11-01",
                lambda rng, obs: _vircam(rng, obs, survey="VMC"), 81, "179.B-2003"),
    _Collection("KiDS", "OMEGACAM", 10, ("2015-06-01", "2019-12-31"), "2011-10-01", _kids, 92,
                "177.A-3016"),
    _Collection("XSHOOTER", "XSHOOTER", 12, ("2017-01-01", "2026-06-30"), "2009-10-01",
                _xshooter, 115),
    _Collection("KMOS", "KMOS", 8, ("2018-01-01", "2026-06-30"), "2013-02-01", _kmos, 140),
)

def _doc_url(number):
    return f"https://www.eso.org/rm/api/v1/public/releaseDescriptions/{number}"


_FIRST_OBS = [_epoch(c.first_obs) for c in _COLLECTIONS]
_DOC_URLS = [_doc_url(c.release_doc) for c in _COLLECTIONS]
_FUTURE = _epoch("2030-01-01")

# Every generated product of collection ``c`` takes archive ids in the millisecond slot
# [c*100, c*100+99] of its own second, so ids never collide across products.
_SLOT = 100
_BLOCK = 64                 # generated products drawn from one seeded generator
_MAX_FILES = 40
_PROPRIETARY_FRACTION = 0.04


# --------------------------------------------------------------------------- reference rows

def _ref(dp_id, collection, instrument, fields, files, first_internal):
    """A reference product: its ObsCore fields and its verbatim product_files rows."""
    return dict(dp_id=dp_id, collection=collection, instrument=instrument, fields=fields,
                files=[(dp_id if k == 0 else aid, cat, ext, name, size, first_internal + k)
                       for k, (aid, cat, ext, name, size) in enumerate(files)])


def _reference_products():
    # Example 1 (verbatim files, target and position as ESO publishes them); the other
    # ObsCore fields and internal ids are plausible fill-ins.
    ex1 = _ref("ADP.2024-03-19T05:58:04.407", "MUSE", "MUSE", dict(
        target="SKY_for_NGC4289", ra=185.224495, dec=3.712554, mode_half=0.5 / 60,
        dptype="cube",
        obs="2024-03-07T08:09:46.977", t_end="2024-03-07T09:01:46.807", exptime=3000.0,
        em=(4.65e-7, 9.3e-7), res_power=3000.0, o_ucd="phot.flux.density;em.wl",
        obs_id="3442284", facility="ESO-VLT-U4", calib_level=2, proposal="0112.B-0360(A)",
        release="2025-03-07T08:09:46Z", fov=1.0 / 60, resolution=0.6, doc=78), [
        ("ADP.2024-03-19T05:58:04.407", "SCIENCE.CUBE.IFS", "FITS",
         "MU_SCBY_3442284_2024-03-07T08:09:46.977_WFM-NOAO-N_SKY.fits", 2968672),
        ("ADP.2024-03-19T05:58:04.408", "ANCILLARY.IMAGE.WHITELIGHT", "FITS",
         "MU_SIMY_3442284_2024-03-07T08:09:46.977_WFM-NOAO-N_SKY.fits", 529),
        ("ADP.2024-03-19T05:58:04.409", "ANCILLARY.README", "LOG",
         "r.MUSE.2024-03-07T08:09:46.977_tpl.log", 241),
        ("ADP.2024-03-19T05:58:04.410", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2024-03-07T08:09:46.977_tpl.png", 340),
        ("ADP.2024-03-19T05:58:04.411", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2024-03-07T08:09:46.977_pst.png", 341),
        ("ADP.2024-03-19T05:58:04.412", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2024-03-07T08:36:46.807_pst.png", 335)], 98_734_112)
    # Example 2: ids, categories and the name patterns are the reference's; the other
    # exposure times, sizes and ObsCore fields are plausible fill-ins.
    tail, obsnum = "_HR_2x1_U3", "2174806"
    exps = ("2018-09-03T09:11:43.369", "2018-09-03T09:23:13.492", "2018-09-03T09:34:43.615",
            "2018-09-03T09:46:13.738", "2018-09-03T09:57:43.861")
    ex2_files = [("ADP.2021-04-12T12:27:33.887", "SCIENCE.SPECTRUM", "FITS",
                  f"ES_S1DA_{obsnum}_{exps[0]}{tail}.fits", 10212)]
    ex2_files += [(f"ADP.2021-04-12T12:27:33.{888 + k}", "ANCILLARY.SPECTRUM", "FITS",
                   f"ES_SFLA_{obsnum}_{e}{tail}.fits", 12322 + 7 * k)
                  for k, e in enumerate(exps)]
    ex2_files += [(f"ADP.2021-04-12T12:27:33.{898 + k}", "ANCILLARY.CCF", "FITS",
                   f"ES_SCCA_{obsnum}_{e}{tail}.fits", 706 + k) for k, e in enumerate(exps[:2])]
    ex2_files.append(("ADP.2021-04-12T12:27:33.903", "ANCILLARY.2DECHELLE.TAR", "TAR",
                      f"ES_SOBF_{obsnum}_{exps[0]}{tail}.tar", 392116))
    ex2 = _ref("ADP.2021-04-12T12:27:33.887", "ESPRESSO", "ESPRESSO", dict(
        target="WASP-76", ra=26.6329, dec=2.7003, circle=0.5 / 3600, dptype="spectrum",
        obs=exps[0], t_end="2018-09-03T10:07:43.861", exptime=3000.0, em=(3.78e-7, 7.89e-7),
        res_power=140000.0, o_ucd="phot.flux.density;em.wl", obs_id=obsnum,
        facility="ESO-VLT-U3", calib_level=2, proposal="1102.C-0744(A)",
        release="2019-09-03T09:11:43Z", fov=1.0 / 3600, resolution=1.0, doc=176), ex2_files,
        97_120_455)
    # Example 3: the previews' ids and kind are the reference's; the rest is filled in.
    ex3 = _ref("ADP.2016-06-01T14:07:30.134", "MUSE", "MUSE", dict(
        target="HDFS", ra=338.2400, dec=-60.5620, mode_half=0.5 / 60, dptype="cube",
        obs="2014-08-01T05:43:12.455", t_end="2014-08-01T06:34:42.578", exptime=3000.0,
        em=(4.65e-7, 9.3e-7), res_power=3000.0, o_ucd="phot.flux.density;em.wl",
        obs_id="1186630", facility="ESO-VLT-U4", calib_level=2, proposal="60.A-9100(C)",
        release="2015-08-01T05:43:12Z", fov=1.0 / 60, resolution=0.6, doc=78), [
        ("ADP.2016-06-01T14:07:30.134", "SCIENCE.CUBE.IFS", "FITS",
         "MU_SCBY_1186630_2014-08-01T05:43:12.455_WFM-NOAO-N.fits", 3107220),
        ("ADP.2016-06-01T14:07:30.135", "ANCILLARY.IMAGE.WHITELIGHT", "FITS",
         "MU_SIMY_1186630_2014-08-01T05:43:12.455_WFM-NOAO-N.fits", 541),
        ("ADP.2016-06-01T14:07:30.136", "ANCILLARY.README", "LOG",
         "r.MUSE.2014-08-01T05:43:12.455_tpl.log", 226),
        ("ADP.2016-06-01T14:07:30.137", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2014-08-01T05:43:12.455_tpl.png", 214),
        ("ADP.2016-06-01T14:07:30.138", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2014-08-01T05:43:12.455_pst.png", 218),
        ("ADP.2016-06-01T14:07:30.139", "ANCILLARY.PREVIEW", "PNG",
         "r.MUSE.2014-08-01T06:09:42.578_pst.png", 211)], 61_002_317)
    return [ex3, ex2, ex1]


def _obsolete_files():
    pid = OBSOLETE_PRODUCT_ID
    return [(pid, pid, "SCIENCE.IMAGE", "FITS", "v20121127_00495_st_tl.fits", 388_412,
             40_113_903),
            (pid, "ADP.2013-06-20T17:15:42.691", "ANCILLARY.WEIGHTMAP", "FITS",
             "v20121127_00495_st_tl_conf.fits", 129_470, 40_113_904)]


# --------------------------------------------------------------------------- ESO's extra columns

# Per collection: (obstech, p3orig, multi_ob, creator, pixel scale arcsec, s_xel1, s_xel2,
# em_xel, dataproduct_subtype), as the collections' release descriptions describe them.
_PROFILES = {
    "MUSE": ("IFU", "IDP", "S", "ESO", 0.2, 320, 320, 3681, None),
    "ESPRESSO": ("ECHELLE", "IDP", "S", "ESO", None, 1, 1, 443262, None),
    "HARPS": ("ECHELLE", "IDP", "S", "ESO", None, 1, 1, 313130, None),
    "HAWKI": ("IMAGE", "IDP", "M", "ESO", 0.106, 4600, 4600, 1, "tile"),
    "VVV": ("IMAGE", "EDP", "M", "VVV survey team", 0.339, 16000, 12000, 1, "tile"),
    "VMC": ("IMAGE", "EDP", "M", "VMC survey team", 0.339, 16000, 12000, 1, "tile"),
    "KiDS": ("IMAGE", "EDP", "M", "KiDS survey team", 0.2, 21000, 20000, 1, "coadd"),
    "XSHOOTER": ("ECHELLE,SLIT", "IDP", "S", "ESO", None, 1, 1, 24000, None),
    "KMOS": ("IFU", "IDP", "S", "ESO", 0.2, 14, 14, 2048, None),
}
_DEFAULT_PROFILE = ("IMAGE", "IDP", "S", "ESO", None, 1, 1, 1, None)
_BANDS = {lohi: name for table in (_NIR_BANDS, _OPT_BANDS, _KMOS_BANDS)
          for name, lohi in table.items()}

def _extras(product, science_name):
    """ESO's other ObsCore columns of a product, decided from its main ones.

    They use no random draws (the generator's sequence, and so every other value, stays
    as it was): what varies comes from a hash of the product id. Order: the stored
    extra columns of `schema.archive_tables` (those in ``OBSCORE_DERIVED`` are computed
    when asked for, see `Archive._product_dict`).
    """
    dp_id, collection, dptype, fov, exptime = (product[0], product[1], product[5],
                                               product[10], product[15])
    obstech, p3orig, multi_ob, creator, scale, xel1, xel2, em_xel, subtype = _PROFILES.get(
        collection, _DEFAULT_PROFILE)
    h = zlib.crc32(dp_id.encode())
    u, v = (h & 0xFFFF) / 65536.0, (h >> 16) / 65536.0
    image = dptype == "image"
    narrow = collection == "MUSE" and fov < 0.01       # MUSE narrow-field mode
    if dptype == "measurements":            # source tables: no pixels, no sampling
        scale = xel1 = xel2 = None
    elif narrow:
        scale, xel1, xel2 = 0.025, 300, 300
    return (round(21.0 + 3.0 * u, 2) if image else None,      # abmaglim
            None,                                               # bib_reference
            subtype if image else None,                         # dataproduct_subtype
            em_xel, _BANDS.get((product[16], product[17])),     # em_xel, filter
            multi_ob, 1 + int(v * 4),                           # multi_ob, n_obs
            "absolute", "ivo://eso.org/origfile?" + science_name,  # o_calib_status, did
            creator, obstech, p3orig, None, None,               # ..., pol_states, pol_xel
            scale, xel1, xel2,                                  # s_pixel_scale, s_xel1/2
            None if image else round(5.0 + 95.0 * u, 1),        # snr
            round(0.05 + 0.3 * v, 3) if narrow else None,       # strehl
            exptime, 1)                                         # t_resolution, t_xel


# --------------------------------------------------------------------------- the archive


class Archive:
    """A seeded, deterministic ESO archive: ObsCore products and their files.

    Parameters
    ----------
    seed : int
        Seed of the generator; the same seed gives the same archive.
    products : int
        Number of products generated besides the reference ones.
    size_column : str
        Name of the file size column: ``"access_estsize"`` or ``"size_kb"``.
    base_url : str
        Base of every ``access_url`` (the emulator's own URL); may be changed later.

    Examples
    --------
    >>> archive = Archive(seed=1, products=20)
    >>> [f["archive_id"] for f in archive.files_of("ADP.2024-03-19T05:58:04.407")][:2]
    ['ADP.2024-03-19T05:58:04.407', 'ADP.2024-03-19T05:58:04.408']
    """

    def __init__(self, *, seed=42, products=300, size_column="access_estsize",
                 base_url="http://127.0.0.1:0"):
        if size_column not in SIZE_COLUMNS:
            raise ValueError(f"size_column must be one of {SIZE_COLUMNS}, not {size_column!r}")
        if not isinstance(products, int) or products < 0:
            raise ValueError(f"products must be a non-negative integer, not {products!r}")
        self.seed = seed
        self.n_generated = products
        self.size_column = size_column
        self.tables = archive_tables(size_column)
        self.obscore_columns = self.tables[0].column_names
        self.file_columns = self.tables[1].column_names
        self._stored_obscore = [n for n in self.obscore_columns if n not in OBSCORE_DERIVED]
        self._base_url = base_url.rstrip("/")
        self._lock = threading.RLock()
        self._cache = OrderedDict()          # product index -> (product dict, file dicts)
        self._blocks = OrderedDict()         # block number -> generated rows
        self._products = self._files = None
        self._file_count = None
        self._base_url_watchers = []
        self._refs = _reference_products()
        self._plan(products)
        self._obsolete_rows = _obsolete_files()

    # -- planning: ids and per-product seeds, cheap enough for millions of files

    def _plan(self, n):
        rng = random.Random(self.seed)
        reserved = {r["dp_id"][4:23] for r in self._refs} | {OBSOLETE_PRODUCT_ID[4:23]}
        picks = rng.choices(range(len(_COLLECTIONS)), [c.weight for c in _COLLECTIONS], k=n)
        counts = [0] * len(_COLLECTIONS)
        for c in picks:
            counts[c] += 1
        spans = [(int(_epoch(c.ingest[0])), int(_epoch(c.ingest[1]))) for c in _COLLECTIONS]
        steps = [max(1, (hi - lo) // max(counts[c], 1)) for c, (lo, hi) in enumerate(spans)]
        seen = [0] * len(_COLLECTIONS)
        ids, plan = [], []
        rand = rng.random
        for c in picks:
            j = seen[c]
            seen[c] += 1
            step = steps[c]
            sec = spans[c][0] + j * step + int(rand() * step)
            stamp = _iso(sec)
            if stamp in reserved:       # keep clear of the reference products' seconds
                sec = spans[c][0] + j * step + (sec + 1 - spans[c][0] - j * step) % step
                stamp = _iso(sec)
            ms = c * _SLOT + int(rand() * (_SLOT - _MAX_FILES))
            ids.append(f"ADP.{stamp}.{ms:03d}")
            plan.append((c, sec))
        self._ids = [r["dp_id"] for r in self._refs] + ids
        self._gen_plan = plan
        order = sorted(range(len(self._ids)), key=self._ids.__getitem__)
        self._sorted_ids = [self._ids[i] for i in order]
        self._sorted_index = order
        self._index = None

    # -- generation of one product

    def _generate(self, i):
        """(ObsCore tuple without derived columns, [file tuples]) of product ``i``.

        File tuples are ``(product_id, archive_id, eso_category, extension,
        original_filename, size_kb, internal_file_id)``.
        """
        nref = len(self._refs)
        if i < nref:
            return self._reference_rows(self._refs[i])
        k = i - nref
        return self._block(k // _BLOCK)[k % _BLOCK]

    def _block(self, b):
        """The generated products ``b*_BLOCK ...``: one generator per block keeps seeding cheap."""
        with self._lock:
            hit = self._blocks.get(b)
        if hit is None:
            rng = random.Random(self.seed * 0x9E3779B1 + b)
            stop = min((b + 1) * _BLOCK, len(self._gen_plan))
            hit = [self._draw(k, rng) for k in range(b * _BLOCK, stop)]
            with self._lock:
                self._blocks[b] = hit
                if len(self._blocks) > 256:
                    self._blocks.popitem(last=False)
        return hit

    def _draw(self, k, rng):
        """Draw generated product ``k`` from ``rng``."""
        c, sec = self._gen_plan[k]
        coll = _COLLECTIONS[c]
        dp_id = self._ids[k + len(self._refs)]
        first, last_obs = _FIRST_OBS[c], sec - 86400 * 20
        r = rng.random
        obs = int(max(first, last_obs - r() * 86400 * 900) + r() * 86399) + int(r() * 1000) / 1e3
        fields, files = coll.recipe(rng, obs)
        r = rng.random
        if coll.survey:
            proposal = f"{coll.survey}({_one(r, 'ABCDEFGH')})"
            release = _iso(sec) + "Z"
        elif r() < _PROPRIETARY_FRACTION:
            release = _iso(_FUTURE + r() * 5 * 365.25 * 86400) + "Z"
            proposal = _proposal(rng, obs)
        else:
            release = _iso(obs + 365 * 86400) + "Z"
            proposal = _proposal(rng, obs)
        (obs_id, facility, dptype, calib, target, ra, dec, fov, region, resolution, t_span,
         exptime, em_min, em_max, res_power, o_ucd) = fields
        product = (dp_id, coll.name, obs_id, facility, coll.instrument, dptype, calib, target,
                   round(ra, 6), round(dec, 6), fov, region, resolution, _mjd(obs),
                   _mjd(obs + t_span), exptime, em_min, em_max, res_power, o_ucd, proposal,
                   release, files[0][3], _DOC_URLS[c])
        product += _extras(product, files[0][2])
        prefix, ms0 = dp_id[:24], int(dp_id[24:])
        internal = 100_000_000 + k * 64
        rows = [(dp_id, dp_id if n == 0 else f"{prefix}{ms0 + n:03d}", cat, ext, name, size,
                 internal + n) for n, (cat, ext, name, size) in enumerate(files[:_MAX_FILES])]
        return product, rows

    def _reference_rows(self, ref):
        f = ref["fields"]
        t0, t1 = _epoch(f["obs"]), _epoch(f["t_end"])
        if "circle" in f:
            region = _circle(f["ra"], f["dec"], f["circle"])
        else:
            region = _box(f["ra"], f["dec"], f["mode_half"])
        files = ref["files"]
        product = (ref["dp_id"], ref["collection"], f["obs_id"], f["facility"],
                   ref["instrument"], f["dptype"], f["calib_level"], f["target"], f["ra"],
                   f["dec"], f["fov"], region, f["resolution"], _mjd(t0), _mjd(t1),
                   f["exptime"], f["em"][0], f["em"][1], f["res_power"], f["o_ucd"],
                   f["proposal"], f["release"], files[0][4], _doc_url(f["doc"]))
        product += _extras(product, files[0][3])
        rows = [(ref["dp_id"], aid, cat, ext, name, size, internal)
                for aid, cat, ext, name, size, internal in files]
        return product, rows

    # -- row streams (used by the engine) and dict views (used by the server and tests)

    @property
    def base_url(self):
        """Base of every ``access_url``; setting it also updates a loaded engine."""
        return self._base_url

    @base_url.setter
    def base_url(self, value):
        with self._lock:
            self._base_url = value.rstrip("/")
            self._cache.clear()
            self._products = self._files = None
            watchers = list(self._base_url_watchers)
        for watcher in watchers:
            watcher(self._base_url)

    def watch_base_url(self, callback):
        """Call ``callback(new_base_url)`` whenever `base_url` changes.

        A loaded SQL engine uses it to keep its ``access_url`` columns in step
        (the archive does not know the engine: data flows one way).

        Examples
        --------
        >>> archive = Archive(products=0)
        >>> seen = []
        >>> archive.watch_base_url(seen.append)
        >>> archive.base_url = "http://127.0.0.1:9/"
        >>> seen
        ['http://127.0.0.1:9']
        """
        with self._lock:
            self._base_url_watchers.append(callback)

    def __len__(self):
        return len(self._ids)

    @property
    def collections(self):
        """Names of the collections present (cheap at any size).

        Examples
        --------
        >>> Archive(products=0).collections
        ('ESPRESSO', 'MUSE')
        """
        present = {r["collection"] for r in self._refs}
        present.update(_COLLECTIONS[c].name for c, _ in self._gen_plan)
        return tuple(sorted(present))

    @property
    def file_count(self):
        """Number of product_files rows (counted once by streaming, then remembered).

        Examples
        --------
        >>> Archive(products=0).file_count
        21
        """
        if self._file_count is None:
            if self._files is not None:
                self._file_count = len(self._files)
            else:
                self._file_count = sum(len(rows) for _, rows in self.iter_rows())
        return self._file_count

    @property
    def product_ids(self):
        """Every current product's ``dp_id``, in generation order (cheap at any size)."""
        return list(self._ids)

    def iter_rows(self):
        """Yield ``(product_row, file_rows)`` for every current product, in order.

        ``product_row`` holds the ObsCore columns except the derived
        ``obs_publisher_did``, ``access_url`` and ``access_format``; each file row is
        ``(product_id, archive_id, eso_category, extension, original_filename,
        size_kb, internal_file_id)``.

        Examples
        --------
        >>> product, files = next(Archive(products=0).iter_rows())
        >>> product[0], len(files)
        ('ADP.2016-06-01T14:07:30.134', 6)
        """
        for ref in self._refs:
            yield self._reference_rows(ref)
        for b in range((len(self._gen_plan) + _BLOCK - 1) // _BLOCK):
            rng = random.Random(self.seed * 0x9E3779B1 + b)
            for k in range(b * _BLOCK, min((b + 1) * _BLOCK, len(self._gen_plan))):
                yield self._draw(k, rng)

    def _product_dict(self, row):
        url = self._base_url
        d = dict(zip(self._stored_obscore, row, strict=True))
        dp_id = row[0]
        d["obs_publisher_did"] = f"ivo://eso.org/ID?{dp_id}"
        d["access_url"] = f"{url}/datalink/links?ID=ivo://eso.org/ID?{dp_id}"
        d["access_format"] = "application/x-votable+xml;content=datalink"
        d["preview_html"] = f"{url}/previews/{dp_id}"
        # computed when asked for, as the engine's view does (not stored: cheaper loads)
        d["gal_lon"], d["gal_lat"] = galactic(d["s_ra"], d["s_dec"])
        d["publication_date"] = d["last_mod_date"] = dp_id[4:23] + "Z"
        d["obs_title"] = f"{d['obs_collection']} {d['dataproduct_type']} of {d['target_name']}"
        return {name: d[name] for name in self.obscore_columns}

    def _file_dict(self, row):
        pid, aid, cat, ext, name, size, internal = row
        return {"product_id": pid, "archive_id": aid, "eso_category": cat, "extension": ext,
                "original_filename": name,
                "access_url": f"{self._base_url}/dataPortal/file/{aid}",
                self.size_column: size, "internal_file_id": internal}

    def _entry(self, i):
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        product, rows = self._generate(i)
        entry = (self._product_dict(product), [self._file_dict(r) for r in rows])
        with self._lock:
            self._cache[i] = entry
            if len(self._cache) > 4096:
                self._cache.popitem(last=False)
        return entry

    def _position(self, dp_id):
        """Index of the product whose id is the greatest <= ``dp_id`` (or None)."""
        if not isinstance(dp_id, str):
            return None
        k = bisect.bisect_right(self._sorted_ids, dp_id) - 1
        return self._sorted_index[k] if k >= 0 else None

    @property
    def products(self):
        """All ObsCore rows as dicts (built on first access)."""
        with self._lock:
            if self._products is None:
                self._build_lists()
            return self._products

    @property
    def files(self):
        """All product_files rows as dicts, science file first per product."""
        with self._lock:
            if self._files is None:
                self._build_lists()
            return self._files

    def _build_lists(self):
        products, files = [], []
        for product, rows in self.iter_rows():
            products.append(self._product_dict(product))
            files.extend(self._file_dict(r) for r in rows)
        self._products, self._files = products, files

    @property
    def obsolete(self):
        """``{product_id: [file dicts]}`` of obsolete products (DataLink only)."""
        return {OBSOLETE_PRODUCT_ID: [self._file_dict(r) for r in self._obsolete_rows]}

    def product(self, dp_id):
        """The ObsCore row (dict) of ``dp_id``, or None.

        Examples
        --------
        >>> Archive(products=0).product("ADP.2021-04-12T12:27:33.887")["target_name"]
        'WASP-76'
        """
        i = self._position(dp_id)
        if i is None or self._ids[i] != dp_id:
            return None
        return self._entry(i)[0]

    def files_of(self, product_id):
        """The file dicts of a product (obsolete ones too); empty if unknown.

        Examples
        --------
        >>> len(Archive(products=0).files_of("ADP.2024-03-19T05:58:04.407"))
        6
        """
        if product_id in self.obsolete:
            return self.obsolete[product_id]
        i = self._position(product_id)
        if i is None or self._ids[i] != product_id:
            return []
        return self._entry(i)[1]

    def file(self, archive_id):
        """The file dict of ``archive_id`` (obsolete files too), or None.

        Examples
        --------
        >>> Archive(products=0).file("ADP.2016-06-01T14:07:30.137")["extension"]
        'PNG'
        """
        for rows in self.obsolete.values():
            for f in rows:
                if f["archive_id"] == archive_id:
                    return f
        i = self._position(archive_id)
        if i is None:
            return None
        for f in self._entry(i)[1]:
            if f["archive_id"] == archive_id:
                return f
        return None

    def release_date(self, archive_id):
        """Release date (aware datetime) of the product owning ``archive_id``, or None.

        Examples
        --------
        >>> Archive(products=0).release_date("ADP.2024-03-19T05:58:04.408").year
        2025
        """
        f = self.file(archive_id)
        if f is None:
            return None
        if f["product_id"] == OBSOLETE_PRODUCT_ID:
            text = "2014-06-20T17:15:42Z"
        else:
            text = self.product(f["product_id"])["obs_release_date"]
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def is_proprietary(self, archive_id, *, now=None):
        """True when the file's product is not public yet (release date in the future).

        Examples
        --------
        >>> Archive(products=0).is_proprietary("ADP.2024-03-19T05:58:04.410")
        False
        """
        released = self.release_date(archive_id)
        if released is None:
            return False
        return released > (now or datetime.now(timezone.utc))

    def category_counts(self, collection=None):
        """``{eso_category: number of files}`` over current products (one collection).

        Examples
        --------
        >>> Archive(products=0).category_counts("ESPRESSO")["ANCILLARY.SPECTRUM"]
        5
        """
        counts = {}
        for product, rows in self.iter_rows():
            if collection is not None and product[1] != collection:
                continue
            for row in rows:
                counts[row[2]] = counts.get(row[2], 0) + 1
        return counts
