"""The parts of the HTML report (fifteenmin.output.html.*), one module at a time.

The whole page (content, escaping, self-containment, determinism) is tested in
tests/test_html_report.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fifteenmin import settings
from fifteenmin.output import fonts
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


def test_community_names_in_the_page_language():
    assert common.community_name("unnamed way/28951232", "zh") == "未命名（way/28951232）"
    assert common.community_name("unnamed relation/7", "en") == "unnamed relation/7"
    assert common.community_name("unnamed courtyard", "zh") == "unnamed courtyard"
    assert common.community_name("学院路街道", "zh") == "学院路街道"
    assert common.community_name(None, "zh") == common.community_name(np.nan, "en") == ""


def test_plural_forms():
    en, zh = LABELS["en"], LABELS["zh"]
    assert common.plural(en, "n_facilities", 1, n=1) == "1 facility"
    assert common.plural(en, "n_facilities", 2, n=2) == "2 facilities"
    assert common.plural(en, "n_facilities", 0, n=0) == "0 facilities"
    assert common.plural(en, "missing_in", 1, n=1, total=1) == "missing in 1 of 1 community"
    assert common.plural(zh, "n_facilities", 1, n=1) == "1 处设施"
    # every singular form has its plural, with the same placeholders
    for key in en:
        if key.endswith("_one"):
            assert key[: -len("_one")] in en


def test_weight_units_are_named(report):
    en, zh = LABELS["en"], LABELS["zh"]
    for unit in ("people", "m2_floor_area", "m_street", "point"):
        assert common.unit_label(en, unit) and common.unit_label(zh, unit)
        assert common.unit_label(en, unit, short=True)
    assert common.unit_label(en, "m2_floor_area") == "m² of residential floor area"
    assert common.unit_label(zh, "people", short=True) == "人"
    units = common.community_units(report)
    homes = report.residents
    assert set(units) == set(homes["community_id"].astype(str))
    assert set(units.values()) == set(homes["weight_unit"])


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


def test_long_facility_lists_are_folded(report):
    """A row lists the nearest facilities; the others are folded (rows stay shorter than a
    phone's screen), and none is lost."""
    from fifteenmin.directory import service_directory

    shown = sections._FACILITIES_SHOWN
    counts = service_directory(report).groupby(["community_id", "item_id"]).size()
    long_lists = int((counts > shown).sum())
    assert long_lists > 0  # the sample has such rows (restaurants, bus stops)
    text = sections.communities_section(report, "en", sections.anchors(report))
    assert text.count('<details class="fm-more">') == long_lists
    folded = re.findall(r'<details class="fm-more"><summary>(\d+) more</summary>', text)
    assert sorted(int(n) for n in folded) == sorted(int(n) - shown for n in counts[counts > shown])
    assert text.count('class="fm-f"') == int(counts.sum())


def test_community_overview_names_its_units(report):
    en = sections.communities_section(report, "en", sections.anchors(report))
    zh = sections.communities_section(report, "zh", sections.anchors(report))
    n = len(report.coverage.communities)
    assert "<th>Resident weight</th>" in en and "<th>居民权重</th>" in zh
    assert len(re.findall(r"\d\u200am²</td>", en)) == n  # the sample's homes: floor area
    assert len(re.findall(r"\d\u200a平方米</td>", zh)) == n
    # every cell but the name carries its label (the phone layout shows it)
    assert en.count('data-label="Score"') == n
    # the sample's communities have no name: OSM's "unnamed" is translated, never English
    assert "unnamed way/" not in zh and "未命名（way/" in zh


def test_sites_table_names_the_weight_unit(report):
    from fifteenmin.siting import plan_missing

    sites = plan_missing(report, k=1)
    en = sections.sites_section(sites, report, "en")
    assert "<th>Resident weight gained (m² of residential floor area)</th>" in en
    zh = sections.sites_section(sites, report, "zh")
    assert "新增覆盖居民（平方米住宅建筑面积）" in zh


# --- fragment: labels ----------------------------------------------------------------------


def test_fragment_plurals_units_and_titles(report):
    en = fragment.report_html_fragment(report, "en")
    assert not re.search(r"\b1 facilities\b", en)
    assert "Residents counted as</th><td>m² of residential floor area</td>" in en
    zh = fragment.report_html_fragment(report, "zh")
    assert f"<b>{len(report.coverage.communities)}</b>社区数</div>" in zh
    assert "居民计量方式</th><td>平方米住宅建筑面积</td>" in zh
    # Chinese text takes Chinese punctuation
    assert "覆盖率（满足全部必备项目的社区占比）" in zh
    assert "(数值偏低" not in zh and "：" in zh


def test_page_section_titles_are_not_counts(report):
    """社区数 ("number of communities") labels a count, never a section."""
    zh = page.render_html(report, lang="zh")
    titles = re.findall(r"<h[1-3][^>]*>([^<]*)</h[1-3]>", zh)
    assert "社区" in titles and "社区数" not in titles
    assert 'href="#fm-communities">社区</a>' in zh


def test_weighted_rate_missing_says_why(report):
    summary = {
        **report.coverage.summary,
        "coverage_rate_weighted": None,
        "weight_units": ["m2_floor_area", "people"],
    }
    mixed = dataclasses.replace(
        report, coverage=dataclasses.replace(report.coverage, summary=summary)
    )
    en = fragment.report_html_fragment(mixed, "en")
    assert "<b>–</b>Coverage rate, resident-weighted" in en
    assert (
        common.esc(
            "not computed: the communities' resident weights are in different units "
            "(m² of residential floor area, people)"
        )
        in en
    )
    zh = fragment.report_html_fragment(mixed, "zh")
    assert "未计算：各社区居民权重的单位不同（平方米住宅建筑面积、人）" in zh
    assert "not computed" not in fragment.report_html_fragment(report, "en")


# --- charts: sized for a phone -------------------------------------------------------------


def test_wrap_label():
    assert charts.wrap_label("Pharmacy (5′)") == "Pharmacy (5′)"
    long_en = "Community service station (residents' committee, one-stop desk) (5′)"
    lines = charts.wrap_label(long_en).split("\n")
    assert " ".join(lines) == long_en and all(len(x) <= 36 for x in lines)
    zh = charts.wrap_label("室外综合健身场地 / 健身器械(健身路径) (5′)")
    assert "".join(zh.split("\n")).replace(" ", "") == "室外综合健身场地/健身器械(健身路径)(5′)"
    assert not any(x.startswith((")", "）", "、")) for x in zh.split("\n"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chart_text_readable_on_a_phone(report, lang):
    """Scaled to a 390 px screen (366 px of content), no chart text is under 8 px."""
    for _, svg in charts.charts(report, lang, common.item_figures(report)):
        width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
        sizes = [float(x) for x in re.findall(r"font-size: ([\d.]+)px", svg)]
        assert sizes and min(sizes) * 366 / width >= 8.0, (width, min(sizes))
        assert width * 4 / 3 <= 560  # shown at most at 560 px: not blown up on a screen


def test_zh_charts_measure_chinese_with_the_cjk_font(report):
    """No "Glyph missing" warning: matplotlib lays Chinese out with Noto Sans CJK SC."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = charts.charts(report, "zh", common.item_figures(report))
    assert all(f"'{fonts.CJK_FAMILY}'" in svg for _, svg in out)
    en = charts.charts(report, "en", common.item_figures(report))
    assert all(fonts.CJK_FAMILY not in svg for _, svg in en)


# --- map: labels, bounds, controls ---------------------------------------------------------


def test_walking_areas_are_labelled_with_their_community(report):
    areas = report.community_isochrones()
    names = {"way/28951232": "Kallio block"}
    feats = html_map.isochrone_features(areas, "en", names)
    tips = sorted(f["properties"]["tooltip"] for f in feats)
    assert len(tips) == len(areas)
    assert "Kallio block: walking area, 10 min" in tips or any(
        t.startswith("Kallio block: walking area") for t in tips
    )
    ids = set(areas["community_id"].astype(str)) - set(names)
    assert all(any(t.startswith(f"{cid}: walking area") for t in tips) for cid in ids)
    zh = html_map.isochrone_features(areas, "zh", {"way/28951232": "学院路"})
    assert any(f["properties"]["tooltip"].startswith("学院路：") for f in zh)
    # the page names them after the communities, in the page's language
    page_zh = page.render_html(report, lang="zh", isochrones=areas)
    assert json.dumps("未命名（way/28951232）：")[1:-1] in page_zh


def test_layer_control_collapsed_on_a_phone(report):
    _, _, script = html_map.map_parts(report, "en", None, sections.anchors(report))
    assert f'"collapsed": window.innerWidth <= {assets.NARROW_PX}' in script
    assert f"@media (max-width:{assets.NARROW_PX}px)" in assets.PAGE_CSS


def test_zh_map_labels_are_chinese(report):
    links = sections.anchors(report)
    feats = html_map.community_features(report, "zh", links)
    text = json.dumps(feats, ensure_ascii=False)
    assert "unnamed" not in text and "未命名" in text
    assert "得分：" in text and "Score" not in text


# --- fonts ---------------------------------------------------------------------------------


def test_cjk_characters():
    assert fonts.cjk_characters("Helsinki 2019 – ·") == ""
    assert fonts.cjk_characters("社区 药店 社区") == "".join(sorted("社区药店"))
    # in the map's JSON (\u-escaped, also surrogate pairs) and numeric character references
    assert fonts.cjk_characters(json.dumps("学院路")) == "".join(sorted("学院路"))
    assert fonts.cjk_characters(json.dumps("𠀀")) == "𠀀"
    assert fonts.cjk_characters("&#x793e;&#21306;") == "".join(sorted("社区"))
    assert fonts.cjk_characters("（，）") == "".join(sorted("（，）"))


def test_font_subset_holds_exactly_the_characters():
    from fontTools.ttLib import TTFont

    chars = "".join(sorted("一刻钟社区服务圈覆盖报告（）"))
    data, fmt = fonts.subset_cjk_font(chars)
    font = TTFont(io.BytesIO(data))
    assert fmt == "woff2" and font.flavor == "woff2"
    assert set(font.getBestCmap()) == {ord(c) for c in chars}
    assert len(data) < 400 * len(chars)  # a few hundred bytes a character
    # the licence travels with the font: copyright, licence, licence URL
    names = {n.nameID: n.toUnicode() for n in font["name"].names}
    assert "Adobe" in names[0] and "Open Font License" in names[13] and names[14]
    assert names[1] == "Noto Sans CJK SC"
    # deterministic, also when computed afresh
    fonts.subset_cjk_font.cache_clear()
    assert fonts.subset_cjk_font(chars) == (data, fmt)
    # OpenType when WOFF2 is not wanted (no brotli)
    otf, otf_fmt = fonts.subset_cjk_font(chars, woff2=False)
    assert otf_fmt == "opentype" and otf[:4] == b"OTTO"


def test_font_face_css_is_self_contained():
    assert fonts.font_face_css("Helsinki") == ""
    css = fonts.font_face_css("一刻钟社区")
    assert css.startswith("/* Noto Sans CJK SC")
    assert "SIL Open Font License" in css
    assert '@font-face{font-family:"Noto Sans CJK SC"' in css
    assert "src:url(data:font/woff2;base64," in css and 'format("woff2")' in css
    assert "http" not in css.split("*/", 1)[1]
    assets.check_self_contained(f"<style>{css}</style>")
    with pytest.raises(RuntimeError):
        assets.check_self_contained('<style>@font-face{src:url("https://x/f.woff2")}</style>')
    with pytest.raises(RuntimeError):
        assets.check_self_contained("<style>@font-face{src:url(//x/f.woff2)}</style>")


@pytest.fixture
def no_cjk_font(monkeypatch):
    """As if noto-cjk-sans-otc were not installed."""
    import sys

    monkeypatch.setitem(sys.modules, "noto_cjk_sans_otc", None)
    fonts.cjk_font_path.cache_clear()
    fonts.subset_cjk_font.cache_clear()
    yield
    fonts.cjk_font_path.cache_clear()
    fonts.subset_cjk_font.cache_clear()


def test_missing_font_falls_back_with_one_warning(report, no_cjk_font, caplog):
    caplog.set_level("WARNING", logger="fifteenmin")
    assert fonts.font_face_css("一刻钟社区") == ""
    assert fonts.font_face_css("覆盖率") == ""
    assert fonts.matplotlib_rc() == {}
    assert fonts.use_cjk_font() is None
    page_zh = page.render_html(report, lang="zh")
    assert "@font-face" not in page_zh and "document.fonts.load" not in page_zh
    assert "一刻钟社区服务圈覆盖报告" in page_zh  # the page still renders, in system fonts
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1
    assert "pip install noto-cjk-sans-otc" in warned[0].getMessage()
    assert warned[0].name == "fifteenmin.output.fonts"


def test_use_cjk_font_draws_chinese_in_matplotlib():
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context():
        assert fonts.use_cjk_font() == fonts.CJK_FAMILY
        assert matplotlib.rcParams["font.sans-serif"][1] == fonts.CJK_FAMILY
        assert fonts.use_cjk_font() == fonts.CJK_FAMILY  # idempotent
        assert matplotlib.rcParams["font.sans-serif"].count(fonts.CJK_FAMILY) == 1
        fig = Figure(figsize=(3, 2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.barh(["药店", "幼儿园", "Pharmacy"], [0.2, 0.5, 0.7])
        ax.set_title("各项目时限内可达的居民占比")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "Glyph ... missing from font(s)"
            fig.canvas.draw()
    assert fonts.CJK_FAMILY not in matplotlib.rcParams["font.sans-serif"]
