"""Notebook display: result objects render as HTML and have ``.explore()`` maps."""

from __future__ import annotations

import warnings

import folium
import pytest

import fifteenmin as fm


@pytest.fixture(scope="module")
def report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fm.run_report()


def test_html_reprs(report):
    for obj in (report, report.network, report.travel, report.coverage, report.catalogue):
        html = obj._repr_html_()
        assert html.lstrip().startswith("<") and len(html) > 100, type(obj).__name__
    assert "pharmacy" in report.travel._repr_html_()
    summary = report.travel.summary()
    assert list(summary["item_id"]) == report.travel.item_ids
    assert summary["nodes_within_tier"].between(0, 1).all()


def test_explore_maps(report):
    assert isinstance(report.explore(), folium.Map)
    assert isinstance(report.network.explore(), folium.Map)
    assert isinstance(report.travel.explore(report.network, "pharmacy"), folium.Map)
    assert isinstance(report.coverage.explore(), folium.Map)


def test_escaped_names_in_reprs(report):
    com = report.coverage.communities
    com.loc[com.index[0], "community_name"] = "<script>alert(1)</script>"
    html = report.coverage._repr_html_()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_chinese_item_names_plot_without_missing_glyphs(report):
    """``use_cjk_font()`` lets a notebook plot ``item_name_zh`` (no boxes, no warnings)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from fifteenmin.output.fonts import CJK_FAMILY, use_cjk_font

    table = report.coverage.table
    shares = table.groupby("item_name_zh", sort=False)["share_within_tier"].mean()
    with matplotlib.rc_context():
        assert use_cjk_font() == CJK_FAMILY
        fig = Figure(figsize=(6, 10))
        FigureCanvasAgg(fig)
        shares.plot.barh(ax=fig.add_subplot())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
            fig.canvas.draw()
    assert len(shares) == len(report.catalogue.items)
