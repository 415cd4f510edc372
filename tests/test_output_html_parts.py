"""The parts of the HTML report (fifteenmin.output.html.*), one module at a time.

The whole page (content, escaping, self-containment, determinism) is tested in
tests/test_html_report.py.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fifteenmin import settings
from fifteenmin.output import html as html_pkg
from fifteenmin.output.html import assets, charts, common, fragment, page, sections
from fifteenmin.output.html import map as html_map
from fifteenmin.output.html.labels import LABELS


@pytest.fixture(scope="module")
def report():
    from fifteenmin import run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report()


# --- package -----------------------------------------------------------------------------


def test_package_exports():
    assert set(html_pkg.__all__) == {
        "SCORE_CLASSES",
        "render_html",
        "report_html_fragment",
        "write_html",
    }
    assert html_pkg.render_html is page.render_html
    assert html_pkg.report_html_fragment is fragment.report_html_fragment
    assert not hasattr(html_pkg, "ATTRIBUTION")


# --- labels ------------------------------------------------------------------------------


def test_labels_cover_every_language_with_the_same_keys():
    assert set(LABELS) == set(settings.LANGS)
    keys = {lang: set(table) for lang, table in LABELS.items()}
    assert keys["en"] == keys["zh"]
    for table in LABELS.values():
        assert all(isinstance(v, str) and v for v in table.values())


def test_placeholders_agree_between_languages():
    for key, en in LABELS["en"].items():
        assert set(re.findall(r"\{(\w+)\}", en)) == set(
            re.findall(r"\{(\w+)\}", LABELS["zh"][key])
        ), key


def test_unknown_language_is_refused_everywhere(report):
    for call in (
        lambda: fragment.report_html_fragment(report, lang="fr"),
        lambda: sections.items_section(report, "fr", common.item_figures(report)),
        lambda: html_map.isochrone_features(gpd.GeoDataFrame(), "fr"),
    ):
        with pytest.raises(ValueError, match="lang must be 'en' or 'zh'"):
            call()


# --- common ------------------------------------------------------------------------------


def test_escaping_and_formats():
    assert common.esc("<a href='x'>&</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;"
    assert common.esc(None) == ""
    assert common.esc(12) == "12"
    assert common.pct(0.125) == "12%"
    assert common.pct(None) == common.pct(float("nan")) == common.pct(float("inf")) == "–"
    assert common.split_ids("a;b;") == ["a", "b"]
    assert common.split_ids(None) == common.split_ids(np.nan) == []
    assert common.ul(["<b>x</b>"]) == '<ul class="fm-cols"><li><b>x</b></li></ul>'


def test_display_name_prefers_the_report_language():
    tags = {"name:zh": "药店", "name:en": "Pharmacy"}
    assert common.display_name("Apteekki", tags, "zh") == "药店 (Apteekki)"
    assert common.display_name("Apteekki", tags, "en") == "Pharmacy (Apteekki)"
    assert common.display_name("Pharmacy", {"name:en": "Pharmacy"}, "en") == "Pharmacy"
    assert common.display_name(None, {"name:zh-Hans": "药店"}, "zh") == "药店"
    assert common.display_name(float("nan"), None, "en") == ""


def test_score_colours():
    classes = common.SCORE_CLASSES
    assert [c[0] for c in classes] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert common.score_colour(0.0, 1.0) == classes[0][2]
    assert common.score_colour(0.2, 1.0) == classes[1][2]
    assert common.score_colour(1.0, 1.0) == classes[-1][2]  # the last class includes 1.0
    assert common.score_colour(0.5, 0.0) == common.NO_RESIDENTS_COLOUR
    assert common.score_colour(float("nan"), 3.0) == common.NO_RESIDENTS_COLOUR


def test_item_names(report):
    assert common.item_name(report, "pharmacy", "zh") == "药店"
    assert common.item_name(report, "no_such_item", "en") == "no_such_item"


def test_item_figures_in_catalogue_order(report):
    stats = common.item_figures(report)
    assert stats["item_id"].tolist() == [it.id for it in report.catalogue.items]
    assert stats["facilities"].sum() == len(report.facilities)


# --- assets ------------------------------------------------------------------------------


def test_leaflet_is_inlined_safely():
    js, css = assets.leaflet_assets()
    assert "L.version" in js or "Leaflet" in js
    assert not re.search(r"</script", js, flags=re.I)
    assert not re.search(r"</style", css, flags=re.I)
    assert "url(images/" not in css
    assert "url(data:image/png;base64," in css


@pytest.mark.parametrize(
    "markup",
    [
        '<script src="https://cdn.example/x.js"></script>',
        "<SCRIPT type='text/javascript' SRC=x.js></SCRIPT>",
        '<link rel="stylesheet" href="x.css">',
        "<style>@import url(x.css);</style>",
    ],
)
def test_external_resources_are_refused(markup):
    with pytest.raises(RuntimeError, match="self-contained"):
        assets.check_self_contained(f"<html>{markup}</html>")


def test_inline_resources_pass():
    assets.check_self_contained("<script>var a = '<link>';</script><style>a{}</style>")


# --- charts ------------------------------------------------------------------------------


def test_charts_are_responsive_svg_with_prefixed_ids(report):
    out = charts.charts(report, "zh", common.item_figures(report))
    assert [t for t, _ in out] == [LABELS["zh"]["chart_items"], LABELS["zh"]["chart_scores"]]
    for (_, svg), prefix in zip(out, ("fm-c1", "fm-c2"), strict=True):
        assert svg.startswith('<svg role="img"')
        head = svg[: svg.index(">")]
        assert "viewBox" in head and "width=" not in head
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(i.startswith(prefix + "-") for i in ids)
        assert "<metadata>" not in svg and "<style" not in svg
    again = charts.charts(report, "zh", common.item_figures(report))
    assert again == out


# --- map ---------------------------------------------------------------------------------


def test_deterministic_ids_count_and_restore():
    import folium
    from branca.element import Element

    before = Element.__dict__["_generate_id"]
    with html_map.deterministic_ids():
        names = [folium.Map().get_name(), folium.Map().get_name()]
    assert names[0] == "map_fm000001"
    assert re.fullmatch(r"map_fm\d{6}", names[1]) and names[1] > names[0]
    assert Element.__dict__["_generate_id"] is before
    assert folium.Map().get_name() not in names


def test_bounds_fit_the_communities(report):
    """The map opens on the communities, not on every facility of the OSM extract."""
    (s, w), (n, e) = html_map.bounds(report, None)
    assert s < n and w < e
    com = report.coverage.communities.to_crs("EPSG:4326").total_bounds
    assert [w, s, e, n] == pytest.approx(com, abs=1e-6)
    assert all(round(v, 6) == v for v in (s, w, n, e))
    # without communities: the facilities' bounds
    empty = dataclasses.replace(
        report,
        coverage=dataclasses.replace(
            report.coverage, communities=report.coverage.communities.iloc[:0]
        ),
    )
    (s, w), (n, e) = html_map.bounds(empty, None)
    fac = report.facilities.to_crs("EPSG:4326").total_bounds
    assert [w, s, e, n] == pytest.approx(fac, abs=1e-6)


def test_isochrones_largest_first(report):
    net = report.network
    c = shapely.Point(net.x.mean(), net.y.mean())
    iso = gpd.GeoDataFrame(
        {"minutes": [5, 15, 10, np.nan]},
        geometry=[c.buffer(300), c.buffer(900), c.buffer(600), c.buffer(100)],
        crs=net.crs,
    )
    feats = html_map.isochrone_features(iso, "en")
    assert [f["properties"]["tooltip"] for f in feats] == [
        "within 15 min",
        "within 10 min",
        "within 5 min",
    ]
    with pytest.raises(TypeError):
        html_map.isochrone_features(iso.drop(columns="geometry"), "en")


def test_facility_layers_in_category_order(report):
    layers = html_map.facility_layers(report, "en")
    cat = report.catalogue
    names = [re.sub(r"<[^>]+>|&#9679;", "", label).strip() for label, _, _ in layers]
    order = [c.name("en") for c in cat.categories]
    shown = [n.rsplit(" (", 1)[0] for n in names]
    assert shown == [n for n in order if n in shown]
    for label, colour, feats in layers:
        assert colour in label
        assert f"({len(feats):,})" in label
        assert all(f["geometry"]["type"] == "Point" for f in feats)


def test_community_features_link_their_directories(report):
    links = sections.anchors(report)
    feats = html_map.community_features(report, "en", links)
    assert len(feats) == len(report.coverage.communities)
    popups = "".join(f["properties"]["popup"] for f in feats)
    for anchor in links.values():
        assert f'href="#{anchor}"' in popups


# --- fragment ----------------------------------------------------------------------------


def test_most_missing_agrees_with_the_communities(report):
    """The summary's counts are those of the communities' ``missing`` cells."""
    counts: dict[str, int] = {}
    for cell in report.coverage.communities["missing"]:
        for item_id in common.split_ids(cell):
            counts[item_id] = counts.get(item_id, 0) + 1
    rank = dict(zip(counts, report.catalogue.rank(counts), strict=True))
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], rank[kv[0]]))[:10]
    frag = fragment.report_html_fragment(report, "en")
    listed = re.findall(r"<li>([^<:]+): missing in (\d+) of", frag)
    assert listed == [(common.esc(common.item_name(report, i, "en")), str(n)) for i, n in expected]


def test_fragment_lists_items_without_facilities(report):
    stats = common.item_figures(report).set_index("item_id")
    frag = fragment.report_html_fragment(report, "en")
    section = frag.split("Items with no facility anywhere", 1)[1].split("<p>", 1)[0]
    for it in report.catalogue.items:
        if stats.loc[it.id, "facilities"] == 0:
            assert common.esc(it.name("en")) in section


# --- sections ----------------------------------------------------------------------------


def test_anchors_follow_community_ids(report):
    links = sections.anchors(report)
    assert list(links) == sorted(links)
    assert list(links.values()) == [f"c-{k:04d}" for k in range(1, len(links) + 1)]


def test_sites_in_catalogue_order(report):
    from fifteenmin.siting import plan_missing

    sites = plan_missing(report, k=1)
    shuffled = sites.iloc[::-1].reset_index(drop=True)
    table = sections.sites_section(shuffled, report, "en")
    rows = re.findall(r"<tr><td>([^<]*)</td>", table)
    order = sorted(sites["item_id"], key=lambda i: int(report.catalogue.rank([i])[0]))
    assert rows == [common.esc(common.item_name(report, i, "en")) for i in order]


def test_community_directories(report):
    links = sections.anchors(report)
    text = sections.communities_section(report, "zh", links)
    n = len(report.coverage.communities)
    assert text.count('<details id="c-') == n
    assert text.count("<tr>") == n + n * (len(report.catalogue.items) + 1) + 1
    assert LABELS["zh"]["directory_note"] in text
