# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""show_previews: the downloaded previews in one matplotlib grid (emulator)."""
import io

import numpy as np
import pytest
from astropy.table import Table

from astroquery_eso_ancillary import show_previews
from astroquery_eso_ancillary.previews import preview_items

matplotlib = pytest.importorskip("matplotlib", reason="show_previews needs the [plot] extra")

MUSE = "ADP.2024-03-19T05:58:04.407"
MUSE_PREVIEWS = ["ADP.2024-03-19T05:58:04.410", "ADP.2024-03-19T05:58:04.411",
                 "ADP.2024-03-19T05:58:04.412"]


def image_bytes(seed, fmt="png"):
    from matplotlib.image import imsave
    buffer = io.BytesIO()
    imsave(buffer, np.random.default_rng(seed).random((20, 30)), format=fmt)
    return buffer.getvalue()


@pytest.fixture
def previews(eso_archive, tmp_path):
    emu = eso_archive
    for k, aid in enumerate(MUSE_PREVIEWS):
        emu.file_overrides[aid] = {"body": image_bytes(k), "content_type": "image/png"}
    return emu.eso.download_ancillary(MUSE, categories="ANCILLARY.PREVIEW",
                                      destination=tmp_path / "dl", progress=False)


def test_grid_of_downloaded_previews(eso_archive, previews, tmp_path):
    path = tmp_path / "grid.png"
    figure = show_previews(previews, ncols=2, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 3
    titles = [ax.get_title() for ax in drawn]
    for title, aid in zip(titles, MUSE_PREVIEWS, strict=True):
        original = eso_archive.archive.file(aid)["original_filename"]
        assert title == f"{MUSE}\n{original}"
    assert len(figure.axes) == 4  # 2 x 2, the last one empty
    one = show_previews(previews, max=1)
    assert len([ax for ax in one.axes if ax.images]) == 1


def test_pdf_listed_jpeg_drawn_noise_marked(tmp_path):
    jpeg = tmp_path / "a.jpg"
    jpeg.write_bytes(image_bytes(1, "jpg"))
    noise = tmp_path / "b.png"
    noise.write_bytes(b"not a png at all")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4")
    figure = show_previews([jpeg, noise, tmp_path / "c.pdf", tmp_path / "d.fits"])
    assert len(figure.axes) == 2
    assert figure.axes[0].images and not figure.axes[1].images
    assert "cannot draw" in figure.axes[1].texts[0].get_text()
    assert "c.pdf" in figure.get_supxlabel()


def test_failed_rows_and_bad_arguments(tmp_path):
    manifest = Table({"local_path": ["", str(tmp_path / "x.png")],
                      "product_id": ["P.1", "P.1"], "original_filename": ["", ""],
                      "status": ["error", "error"]})
    assert preview_items(manifest) == []
    assert show_previews(manifest) is None
    with pytest.raises(ValueError, match="ncols must be a positive integer"):
        show_previews(manifest, ncols=0)
    with pytest.raises(ValueError, match="local_path"):
        show_previews(Table({"archive_id": ["A"]}))
    with pytest.raises(TypeError, match="manifest Table or file paths"):
        show_previews(3)
