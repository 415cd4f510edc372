"""The self-contained HTML report (fifteenmin.output.html) on the bundled sample.

The whole page: content, escaping of hostile OSM names, self-containment, determinism,
atomic writing. Its parts, module by module, are tested in tests/test_output_html_parts.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fifteenmin.directory import DIRECTORY_COLUMNS, service_directory
from fifteenmin.output.html import render_html, report_html_fragment, write_html

PAYLOAD_COM = "<script>alert(1)</script>\"&<>'"
PAYLOAD_FAC = "<img src=x onerror=alert(2)>\"&<>'"
PAYLOAD_TAG = "<b onmouseover=alert(3)>x</b>"
PAYLOAD_ITEM = "<script>alert(4)</script>"


@pytest.fixture(scope="module")
def report():
    from fifteenmin import run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report()


@pytest.fixture(scope="module")
def page_en(report):
    return render_html(report, lang="en")


@pytest.fixture(scope="module")
def page_zh(report):
    return render_html(report, lang="zh")


def injected(report):
    """A copy of the report whose OSM/user strings carry HTML/JS payloads."""
    com = report.communities.copy()
    com.loc[com.index[0], "community_name"] = PAYLOAD_COM
    cov_com = report.coverage.communities.copy()
    cov_com.loc[cov_com.index[0], "community_name"] = PAYLOAD_COM
    table = report.coverage.table.copy()
    first = cov_com["community_id"].iloc[0]
    table.loc[table["community_id"] == first, "community_name"] = PAYLOAD_COM
    coverage = dataclasses.replace(report.coverage, communities=cov_com, table=table)

    def patch_fac(fac):
        fac = fac.copy()
        rows = fac.index[fac["item_id"].isin(["pharmacy", "bus_stop"])]
        fac.loc[rows, "name"] = PAYLOAD_FAC
        fac["tags"] = [
            {**t, "name": PAYLOAD_FAC, "amenity": PAYLOAD_TAG, "name:en": PAYLOAD_FAC}
            if i in set(rows)
            else t
            for i, t in zip(fac.index, fac["tags"], strict=True)
        ]
        return fac

    travel = dataclasses.replace(report.travel, facilities=patch_fac(report.travel.facilities))
    items = tuple(
        dataclasses.replace(it, name_en=PAYLOAD_ITEM + it.name_en, name_zh=PAYLOAD_ITEM)
        if it.id == "pharmacy"
        else it
        for it in report.catalogue.items
    )
    catalogue = dataclasses.replace(report.catalogue, items=items)
    return dataclasses.replace(
        report,
        communities=com,
        coverage=coverage,
        facilities=patch_fac(report.facilities),
        travel=travel,
        catalogue=catalogue,
    )


# --- content -----------------------------------------------------------------------------


def test_renders_english(report, page_en):
    assert page_en.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page_en
    assert "15-minute community service coverage" in page_en
    assert "© OpenStreetMap contributors" in page_en
    assert "https://www.openstreetmap.org/copyright" in page_en
    assert "ODbL" in page_en
    # the attribution is in the map's attribution control too (tile layer option)
    assert '"attribution": "\\u003ca href=' in page_en
    for cid in report.coverage.communities["community_id"].astype(str):
        assert html.escape(cid) in page_en
    for name in report.coverage.communities["community_name"].astype(str):
        assert html.escape(name) in page_en
    # summary figures and parameters
    s = report.coverage.summary
    assert f"{s['coverage_rate']:.0%}" in page_en
    assert "Coverage rate, resident-weighted" in page_en
    assert "Items most often missing" in page_en
    assert "Items with no facility anywhere in the study area" in page_en
    assert "1.11 m/s" in page_en
    assert f"{report.network.n_nodes:,} nodes" in page_en
    assert "Pharmacy" in page_en
    # map: Leaflet inlined, layers, legend, layer control
    assert "Leaflet 1.9.3" in page_en
    assert "L.control.layers" in page_en
    assert "fm-legend" in page_en
    assert "Communities (score)" in page_en
    assert "Health" in page_en
    # charts inlined as SVG
    assert page_en.count('<svg role="img"') == 2
    # community tables and directories
    n = len(report.coverage.communities)
    assert page_en.count('<details id="c-') == n
    assert page_en.count('class="fm-directory"') == n


def test_renders_chinese(report, page_zh):
    assert '<html lang="zh-CN">' in page_zh
    assert "一刻钟社区服务圈覆盖报告" in page_zh
    assert "覆盖率" in page_zh
    assert "药店" in page_zh  # item names in Chinese
    assert "医疗卫生" in page_zh  # category names too
    assert "Coverage rate" not in page_zh
    assert "Items most often missing" not in page_zh
    assert "© OpenStreetMap contributors" in page_zh
    for cid in report.coverage.communities["community_id"].astype(str):
        assert html.escape(cid) in page_zh


def test_zh_page_embeds_a_font_of_exactly_its_characters(report, page_zh):
    """Chinese renders on a machine without a CJK font: the page carries the glyphs."""
    from fifteenmin.output.fonts import cjk_characters

    # with walking areas: characters only the map's script has (a layer name, \u-escaped)
    with_areas = render_html(report, lang="zh", isochrones=isochrones(report))
    assert "等" not in with_areas and json.dumps("步行等时圈")[1:-1] in with_areas
    for page in (page_zh, with_areas):
        m = re.search(r"<style>(/\* Noto Sans CJK SC.*?)</style>", page, flags=re.S)
        assert m, "no embedded CJK font"
        font = _embedded_font(m.group(1))
        chars = cjk_characters(page.replace(m.group(0), ""))
        assert set(font.getBestCmap()) == {ord(c) for c in chars}
        assert "龘" not in chars and ord("龘") not in font.getBestCmap()
        # about 100-200 KB of base64 for the sample's few hundred characters
        assert len(m.group(1)) < 400 * len(chars) * 4 / 3
    assert ord("等") in _embedded_font(with_areas).getBestCmap()
    # declared before the first script, whose end starts loading it (Chromium otherwise
    # keeps boxes for text laid out while the font loads)
    head = page_zh.split("</head>", 1)[0]
    assert head.index("@font-face") < head.index("<script>")
    assert "document.fonts.load('1em \"Noto Sans CJK SC\"')" in head
    # the charts name the same family
    assert "'Noto Sans CJK SC'" in page_zh.split('<div class="fm-charts">', 1)[1]


def _embedded_font(page):
    import base64
    import io

    from fontTools.ttLib import TTFont

    b64 = re.search(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", page).group(1)
    return TTFont(io.BytesIO(base64.b64decode(b64)))


def test_en_page_without_chinese_embeds_no_font(report, page_en):
    assert "@font-face" not in page_en and "document.fonts.load" not in page_en
    # with Chinese names (a Beijing community in an English page), the font comes along
    cov = report.coverage.communities.copy()
    cov.loc[cov.index[0], "community_name"] = "学院路街道"
    coverage = dataclasses.replace(report.coverage, communities=cov)
    named = dataclasses.replace(report, coverage=coverage)
    page = render_html(named, lang="en")
    assert '@font-face{font-family:"Noto Sans CJK SC"' in page


def test_zh_page_says_it_in_chinese(report, page_zh):
    # the sample's communities are unnamed OSM ways: named in Chinese on the Chinese page
    assert "unnamed way/" not in page_zh and "未命名（way/" in page_zh
    assert "unnamed" not in page_zh.split('<div class="fm-map-wrap">', 1)[1]
    titles = re.findall(r"<h2>([^<]*)</h2>", page_zh)
    assert "社区" in titles and "社区数" not in titles
    assert "居民计量方式" in page_zh and "平方米住宅建筑面积" in page_zh


def test_zh_page_deterministic(report, page_zh):
    from fifteenmin.output import fonts

    fonts.subset_cjk_font.cache_clear()  # the font is subset afresh, to the same bytes
    assert render_html(report, lang="zh").encode("utf-8") == page_zh.encode("utf-8")


def test_bad_language(report):
    with pytest.raises(ValueError, match="lang"):
        render_html(report, lang="fr")
    with pytest.raises(ValueError, match="lang"):
        report_html_fragment(report, lang="de")


def test_fragment(report):
    frag = report_html_fragment(report, lang="en")
    assert frag.startswith('<div class="fifteenmin-report">')
    assert frag.rstrip().endswith("</div>")
    assert "<script" not in frag
    assert "Coverage rate" in frag and "Data gaps" in frag and "Parameters" in frag
    zh = report_html_fragment(report, lang="zh")
    assert "覆盖率" in zh and "数据缺口" in zh


# --- escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_injected_names_are_escaped(report, lang):
    page = render_html(injected(report), lang=lang)
    for payload in (PAYLOAD_COM, PAYLOAD_FAC, PAYLOAD_TAG, PAYLOAD_ITEM):
        assert payload not in page
        # the payload's markup never appears raw (only as escaped text or \u-escaped JSON)
        inner = payload.split('"')[0]
        assert inner not in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<b onmouseover" not in page
    # the escaped forms do appear: in the page text ...
    assert html.escape(PAYLOAD_COM) in page
    assert html.escape(PAYLOAD_FAC) in page
    # ... and, escaped once more by the JSON encoder, in the map's popups and tooltips
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
    assert "\\u0026lt;img src=x onerror=alert(2)" in page
    assert "\\u0026lt;b onmouseover=alert(3)" in page
    # every alert( is preceded by an escaped '<'-sequence, never by a live tag
    for m in re.finditer(r"alert\(\d\)", page):
        before = page[max(0, m.start() - 40) : m.start()]
        assert "&lt;" in before or "\\u0026lt;" in before or "&amp;lt;" in before, before
    # our own <script> elements only: Leaflet, folium's switches, the map
    assert len(re.findall(r"<script\b", page)) == 3


# --- self-contained, deterministic -------------------------------------------------------


def test_no_external_scripts_or_stylesheets(page_en, page_zh):
    for page in (page_en, page_zh):
        assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.I)
        assert not re.search(r"<link[^>]*stylesheet", page, flags=re.I)
        assert not re.search(r"<link[^>]*href\s*=\s*[\"']?https?:", page, flags=re.I)
        assert "@import" not in page
        assert "cdn.jsdelivr" not in page and "cdnjs" not in page and "code.jquery" not in page
        # Leaflet's images are inlined as data URIs
        assert "url(images/" not in page
        assert "url(data:image/png;base64," in page


def test_deterministic(report, page_en):
    again = render_html(report, lang="en")
    assert again.encode("utf-8") == page_en.encode("utf-8")
    assert not re.search(r"_[0-9a-f]{32}\b", page_en)  # no random folium ids left


@pytest.mark.slow
def test_deterministic_across_processes(tmp_path, page_en):
    """A fresh interpreter with another hash seed writes the same bytes."""
    out = tmp_path / "r.html"
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from fifteenmin import run_report\n"
        "from fifteenmin.output.html import write_html\n"
        f"write_html(run_report(), {str(out)!r})\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
    assert (
        hashlib.sha256(out.read_bytes()).hexdigest()
        == hashlib.sha256(page_en.encode("utf-8")).hexdigest()
    )


# --- writing -----------------------------------------------------------------------------


def test_write_atomic(report, tmp_path, page_en):
    out = tmp_path / "new" / "dir"
    target = out / "report.html"
    assert write_html(report, target) is None
    assert target.read_text(encoding="utf-8") == page_en
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]  # no temp file left
    assert (target.stat().st_mode & 0o777) == 0o644


def test_write_failure_leaves_nothing(report, tmp_path, monkeypatch):
    from fifteenmin import OutputError

    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    # a failure while rendering: nothing is touched
    with pytest.raises(ValueError):
        write_html(report, target, lang="xx")
    assert target.read_text(encoding="utf-8") == "old"

    # a failure while writing: the old file stays, no temp file is left
    def broken(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", broken)
    with pytest.raises(OutputError, match=r"report\.html"):
        write_html(report, target)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_write_into_a_file_path_fails(report, tmp_path):
    from fifteenmin import OutputError

    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError):
        write_html(report, blocker / "report.html")


# --- isochrones --------------------------------------------------------------------------


def isochrones(report, crs="EPSG:3857"):
    net = report.network
    c = net.x.mean(), net.y.mean()
    rings = [{"minutes": m, "geometry": shapely.Point(c).buffer(m * 60.0)} for m in (15, 5, 10)]
    return gpd.GeoDataFrame(rings, geometry="geometry", crs=net.crs).to_crs(crs)


def test_isochrones_layer(report):
    page = render_html(report, lang="en", isochrones=isochrones(report))
    assert "Walking isochrones" in page
    assert "within 5 min" in page and "within 15 min" in page
    wgs = render_html(report, lang="en", isochrones=isochrones(report, "EPSG:4326"))
    assert wgs.count("within 10 min") == page.count("within 10 min") > 0
    zh = render_html(report, lang="zh", isochrones=isochrones(report))
    # layer names reach the layer control as JSON strings (non-ASCII \u-escaped)
    assert json.dumps("步行等时圈")[1:-1] in zh


def test_isochrones_validated(report):
    iso = isochrones(report)
    with pytest.raises(ValueError, match="minutes"):
        render_html(report, isochrones=iso.rename(columns={"minutes": "t"}))
    with pytest.raises(ValueError, match="CRS"):
        render_html(report, isochrones=iso.set_crs(None, allow_override=True))
    with pytest.raises(TypeError):
        render_html(report, isochrones=iso.drop(columns="geometry"))


# --- service directory -------------------------------------------------------------------


def test_service_directory_matches_coverage(report):
    d = service_directory(report)
    assert list(d.columns) == DIRECTORY_COLUMNS
    assert len(d) > 0
    cat = report.catalogue
    tiers = {it.id: it.tier_minutes for it in cat.items}
    assert (d["minutes"] <= d["item_id"].map(tiers) * (1 + 1e-9)).all()
    assert ((d["share_within_tier"] > 0) & (d["share_within_tier"] <= 1 + 1e-9)).all()
    # facility rows point at facilities of the listed item
    fac = report.travel.facilities
    assert (fac["item_id"].to_numpy()[d["facility"].to_numpy()] == d["item_id"]).all()

    homes = report.residents
    minutes = report.origin_minutes
    table = report.coverage.table.set_index(["community_id", "item_id"])
    col = {it.id: k for k, it in enumerate(cat.items)}
    grouped = {key: g for key, g in d.groupby(["community_id", "item_id"])}
    for cid in report.coverage.communities["community_id"].astype(str):
        o = np.flatnonzero(homes["community_id"].astype(str).to_numpy() == cid)
        for it in cat.items:
            share = table.loc[(cid, it.id), "share_within_tier"]
            g = grouped.get((cid, it.id))
            best = minutes[o, col[it.id]].min() if len(o) else np.inf
            if best <= it.tier_minutes:
                # the nearest facility seen from the community is the one coverage found
                assert g is not None, (cid, it.id)
                assert g["minutes"].min() == pytest.approx(best, abs=1e-6)
                # one facility cannot serve more residents than the item's nearest ones
                assert g["share_within_tier"].max() <= share + 1e-9
            else:
                assert g is None, (cid, it.id)
                assert not share > 0


def test_service_directory_sorted_and_stable(report):
    a = service_directory(report)
    b = service_directory(report)
    assert a.equals(b)
    rank = report.catalogue.rank(a["item_id"])
    key = list(zip(a["community_id"], rank.tolist(), a["minutes"], strict=True))
    assert key == sorted(key)


def test_sites_section(report):
    from fifteenmin.siting import plan_missing

    sites = plan_missing(report, k=1)
    assert len(sites) > 0
    page = render_html(report, lang="zh", sites=sites)
    assert 'id="fm-sites"' in page and 'href="#fm-sites"' in page
    assert "怎么补" in page
    # one table row per proposed site, with its OSM node
    section = page.split('id="fm-sites"', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") == len(sites) + 1
    for node in sites["node_id"].astype(str):
        assert node in section
    assert 'id="fm-sites"' not in render_html(report, lang="en")


def test_chart_text_is_text_not_glyph_paths(page_zh):
    """Chart labels are SVG text, so the browser's fonts draw Chinese item names."""
    import re

    texts = re.findall(r"<text[^>]*>([^<]+)</text>", page_zh)
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)


def test_directory_names_the_nearest_facility_beyond_the_tier(report):
    """ "none within 5 min" says how far the nearest one is, from the community's best origin."""
    import re

    import numpy as np

    from fifteenmin.output.html.sections import _nearest_by_community

    page = render_html(report, lang="en", isochrones=None, sites=None)
    shown = re.findall(r"none within [\d.]+ min; nearest: [^<]+?, ([\d.]+) min", page)
    assert shown, "no directory row names a facility beyond the tier"
    near = _nearest_by_community(report)
    com = report.residents["community_id"].astype(str).to_numpy()
    ids = [it.id for it in report.travel.items]
    for (cid, item_id), (minutes, row) in list(near.items())[:50]:
        k = ids.index(item_id)
        own = report.origin_minutes[com == cid, k]
        assert minutes == np.nanmin(np.where(np.isfinite(own), own, np.nan))
        assert report.origin_nearest[com == cid, k].tolist().count(row) >= 1


# --- the city layout (output/html/city*.py) ------------------------------------------------


def _city_data(page):
    """The compact data, directory lines and walking-area lines embedded in a city page."""
    raw = re.search(r'<script type="application/json" id="fm-data">(.*?)</script>', page, re.S)
    assert raw

    def lines(kind):
        chunks = re.findall(
            rf'<script type="text/plain" id="{kind}-(\d+)">(.*?)</script>', page, re.S
        )
        assert [int(k) for k, _ in chunks] == list(range(len(chunks)))
        return [x for _, text in chunks for x in text.split("\n")]

    return json.loads(raw.group(1)), lines("fm-dir"), lines("fm-areas")


@pytest.fixture(scope="module")
def city_en(report):
    return render_html(report, lang="en", isochrones=report.community_isochrones(), layout="city")


def test_city_layout_is_chosen_by_size(report, monkeypatch):
    from fifteenmin import settings
    from fifteenmin.output.html.city import use_city_layout

    n = len(report.coverage.communities)
    monkeypatch.setattr(settings, "HTML_CITY_MIN_COMMUNITIES", n)
    assert not use_city_layout(report, "auto")  # a 12-community report keeps the full page
    monkeypatch.setattr(settings, "HTML_CITY_MIN_COMMUNITIES", n - 1)
    assert use_city_layout(report, "auto")
    assert use_city_layout(report, "city") and not use_city_layout(report, "full")
    with pytest.raises(ValueError, match="layout"):
        render_html(report, layout="grid")


def test_city_page_is_compact_and_self_contained(report, city_en, page_en):
    assert city_en.startswith("<!DOCTYPE html>")
    assert "© OpenStreetMap contributors" in city_en
    assert 'id="fm-city-map"' in city_en and 'id="fm-table"' in city_en
    # nothing pre-rendered per community: no <details>, no folium GeoJSON
    assert 'class="fm-community"' not in city_en and "L.geoJson(" not in city_en
    assert not re.search(r"<script[^>]*\bsrc\s*=", city_en, flags=re.I)
    # the sections of the full page, in the same order
    ids = re.findall(r'<section id="([\w-]+)"', city_en)
    assert ids == re.findall(r'<section id="([\w-]+)"', page_en)
    assert "fm-charts" in ids and "fm-items" in ids and "fm-method" in ids


def test_city_data_agrees_with_the_coverage(report, city_en):
    data, dirs, _ = _city_data(city_en)
    cols = data["com"]["cols"]
    com = report.coverage.communities.assign(cid=lambda d: d["community_id"].astype(str))
    com = com.sort_values("cid")
    assert cols["id"] == com["cid"].tolist()
    assert cols["score"] == [round(s * 1000) for s in com["score"]]
    assert cols["met"] == com["n_met"].tolist() and cols["req"] == com["n_required"].tolist()
    items = data["items"]["id"]
    assert items == [it.id for it in report.catalogue.items]
    for k, row in enumerate(com.itertuples()):
        missing = [str(x) for x in row.missing]  # a list per community
        assert [items[i] for i in cols["missing"][k]] == missing
    # every (community, item) row's status and share, decoded from the strings
    t = report.coverage.table
    for r in t.itertuples():
        k, i = cols["id"].index(str(r.community_id)), items.index(r.item_id)
        code = cols["status"][k][i]
        assert code == {"met": "1", "missing": "0", "no_data": "-"}[r.status]
        if np.isfinite(r.share_within_tier):
            assert ord(cols["share"][k][i]) - 40 == round(r.share_within_tier * 100)
        else:
            assert cols["share"][k][i] == "!"
    assert len(dirs) == len(cols["id"])
    assert len(re.findall(r'id="fm-dir-\d+"', city_en)) == 1  # 12 communities: one chunk


def test_city_directory_agrees_with_the_service_directory(report, city_en):
    """The nearest facilities per item, their count and minutes, from service_directory."""
    from fifteenmin import settings

    data, dirs, _ = _city_data(city_en)
    ids, items = data["com"]["cols"]["id"], data["items"]["id"]
    names = data["fac"]["name"]
    d = service_directory(report)
    checked = 0
    for (cid, item_id), g in d.groupby(["community_id", "item_id"]):
        line = json.loads(dirs[ids.index(str(cid))])
        entry = next(e for e in line if e[0] == items.index(item_id))
        assert entry[1] == len(g)
        shown = g.head(settings.HTML_CITY_FACILITIES_SHOWN)
        minutes = entry[3::3]
        assert minutes == [round(m * 10) for m in shown["minutes"]]
        for f, (_, row) in zip(entry[2::3], shown.iterrows(), strict=True):
            assert data["fac"]["osm"][f] == row["osm_type"][0] + str(row["osm_id"])
            assert row["name"] == "" or row["name"] in names[f]
        checked += 1
    assert checked > 50


def test_city_geometry_round_trips(report, city_en):
    """Decoded polygons lie within the simplification tolerance of the communities."""
    from fifteenmin import settings

    data, _, areas = _city_data(city_en)
    scale = data["scale"]

    def decode(g):
        polys = []
        for poly in g:
            rings = []
            for r in poly:
                xy = np.cumsum(np.array(r, dtype=float).reshape(-1, 2), axis=0) / scale
                rings.append(xy[:, ::-1])
            polys.append(shapely.Polygon(rings[0], rings[1:]))
        return shapely.MultiPolygon(polys)

    com = report.coverage.communities.to_crs("EPSG:4326")
    com = com.assign(cid=com["community_id"].astype(str)).sort_values("cid")
    tol = (settings.HTML_CITY_SIMPLIFY_M + 1.5) / 111_320
    for g, geom in zip(data["com"]["cols"]["geom"], com.geometry, strict=True):
        assert shapely.hausdorff_distance(decode(g), geom) < tol * 2
    # one walking area per community, named on the page by its community
    assert all(areas) and len(areas) == len(com)
    area = json.loads(areas[0])
    assert area[0][0] == 15 and decode(area[0][1]).area > 0


def test_city_page_deterministic(report, city_en):
    again = render_html(report, lang="en", isochrones=report.community_isochrones(), layout="city")
    assert again.encode("utf-8") == city_en.encode("utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_city_hostile_names_are_escaped(report, lang):
    """Names reach the page only inside the JSON, where no '<' can end the script."""
    page = render_html(injected(report), lang=lang, layout="city")
    for payload in (PAYLOAD_COM, PAYLOAD_FAC, PAYLOAD_TAG, PAYLOAD_ITEM):
        assert payload.split('"')[0] not in page
    assert "</script><" not in page.split('id="fm-data">', 1)[1].split("</script>", 1)[0]
    assert "\\u003c/script>" in page  # the community's "</script>", escaped in the JSON
    data, _, _ = _city_data(page)
    assert PAYLOAD_COM in data["com"]["cols"]["name"]  # the exact name, decoded
    assert any(PAYLOAD_FAC in n for n in data["fac"]["name"])
    # only our own scripts: Leaflet, the data (JSON, directory lines), the city script
    assert len(re.findall(r"<script\b", page)) == 4
