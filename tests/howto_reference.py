# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The real rows of ESO's HOWTO "How to search for ancillary files" (ESO's 2026 run).

Fixed by the archive reference, so tests compare against them as given; every other
expectation is derived from the emulator's own data.
"""

#: Example 1: every file of the MUSE cube ADP.2024-03-19T05:58:04.407, as
#: (archive_id, extension, eso_category, original_filename, access_estsize in kB).
EXAMPLE1 = [
    ("ADP.2024-03-19T05:58:04.407", "FITS", "SCIENCE.CUBE.IFS",
     "MU_SCBY_3442284_2024-03-07T08:09:46.977_WFM-NOAO-N_SKY.fits", 2968672),
    ("ADP.2024-03-19T05:58:04.408", "FITS", "ANCILLARY.IMAGE.WHITELIGHT",
     "MU_SIMY_3442284_2024-03-07T08:09:46.977_WFM-NOAO-N_SKY.fits", 529),
    ("ADP.2024-03-19T05:58:04.409", "LOG", "ANCILLARY.README",
     "r.MUSE.2024-03-07T08:09:46.977_tpl.log", 241),
    ("ADP.2024-03-19T05:58:04.410", "PNG", "ANCILLARY.PREVIEW",
     "r.MUSE.2024-03-07T08:09:46.977_tpl.png", 340),
    ("ADP.2024-03-19T05:58:04.411", "PNG", "ANCILLARY.PREVIEW",
     "r.MUSE.2024-03-07T08:09:46.977_pst.png", 341),
    ("ADP.2024-03-19T05:58:04.412", "PNG", "ANCILLARY.PREVIEW",
     "r.MUSE.2024-03-07T08:36:46.807_pst.png", 335),
]
