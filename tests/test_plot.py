"""plot.plot_categories: the counts and sizes per category of list_ancillary_categories."""
import sys

import astropy.units as u
import pytest
from astropy.table import Table

from astroquery_eso_ancillary.plot import MissingMatplotlibError, plot_categories


def test_plot_draws_counts_and_sizes(eso_archive):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    table = eso_archive.eso.list_ancillary_categories(collections="MUSE")
    figure = plot_categories(table, size_unit="MB")
    counts, sizes = figure.axes
    assert [bar.get_width() for bar in counts.patches] == list(table["n_files"])
    expected = u.Quantity(table["access_estsize"]).to_value(u.MB)
    assert [bar.get_width() for bar in sizes.patches] == pytest.approx(list(expected))
    assert [t.get_text() for t in counts.get_yticklabels()] == list(table["eso_category"])
    assert "MB" in sizes.get_xlabel()
    top = plot_categories(table, top=2)
    assert len(top.axes[0].patches) == 2
    import matplotlib.pyplot as plt
    plt.close("all")


def test_plot_needs_a_categories_table_and_says_when_matplotlib_is_missing(monkeypatch):
    with pytest.raises(ValueError, match="lacks n_files"):
        plot_categories(Table({"eso_category": ["ANCILLARY.PREVIEW"]}))
    table = Table({"eso_category": ["ANCILLARY.PREVIEW"], "n_files": [3],
                   "access_estsize": [10]})
    with pytest.raises(ValueError, match="size_unit must be a unit of bytes"):
        plot_categories(table, size_unit="deg")
    # As if matplotlib were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingMatplotlibError, match=r"astroquery_eso_ancillary\[plot\]"):
        plot_categories(table)
