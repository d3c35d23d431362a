# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Progress: a bar in a terminal, a widget in a notebook, plain lines elsewhere, or nothing."""
import io
import sys
import types

import pytest

from astroquery_eso_ancillary import progress
from astroquery_eso_ancillary.progress import Progress, choose_mode

MUSE_PREVIEWS = ["ADP.2024-03-19T05:58:04.410", "ADP.2024-03-19T05:58:04.411",
                 "ADP.2024-03-19T05:58:04.412"]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(bar, steps):
    for _ in range(steps):
        bar.add(1000)
        bar.files += 1
        bar.draw()
    bar.draw(final=True)


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    bar = Progress(5, enabled=True, stream=out, interval=0)
    assert bar.mode == "lines"
    run(bar, 5)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 6 and lines[-1].startswith("Downloaded 5/5 files")
    # With the default interval, a quick run writes only its last line.
    out = io.StringIO()
    run(Progress(5, enabled=True, stream=out), 5)
    assert out.getvalue().count("\n") == 1


def test_bar_in_a_terminal():
    out = Terminal()
    bar = Progress(3, enabled=True, stream=out)
    assert bar.mode == "bar"
    run(bar, 3)
    assert "\r" in out.getvalue() and "3/3 files" in out.getvalue()


def test_disabled_draws_nothing():
    out = Terminal()
    run(Progress(3, enabled=False, stream=out), 3)
    assert out.getvalue() == ""


def test_widget_in_a_notebook(monkeypatch):
    pytest.importorskip("tqdm")
    # What IPython reports inside a Jupyter kernel.
    shell = type("ZMQInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython",
                        types.SimpleNamespace(get_ipython=lambda: shell))
    assert choose_mode(io.StringIO()) == "widget"


def test_cancel_stops_workers():
    bar = Progress(1, enabled=False)
    bar.cancel()
    with pytest.raises(progress.CancelledError):
        bar.add(1)


def test_download_progress_lines_in_a_log(eso_archive, tmp_path, capsys):
    eso = eso_archive.eso
    eso.download_ancillary(MUSE_PREVIEWS, destination=tmp_path / "a", progress=True)
    out = capsys.readouterr().out
    assert "Downloaded 3/3 files" in out and "\r" not in out
    eso.download_ancillary(MUSE_PREVIEWS, destination=tmp_path / "b", progress=False)
    assert "3 files" not in capsys.readouterr().out.replace("Downloading 3 files", "")
