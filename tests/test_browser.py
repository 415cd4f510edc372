"""report.html in a real (headless) browser: Debian's Chromium driven by playwright.

Skipped when no Chromium binary or no playwright package is found (a user's clone without
them still passes); .ci/run installs Debian's chromium so that CI runs these tests. Never
``playwright install``: the test uses the system browser through ``executable_path``.

Every request that is not for the page itself (``file:``) or inline data is aborted, so the
test works offline and proves that the page needs nothing from outside but map tiles.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"&<>'"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    env = os.environ.get("FIFTEENMIN_CHROMIUM")
    which = (shutil.which("chromium"), shutil.which("chromium-browser"))
    for cand in (env, "/usr/bin/chromium", *which):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary (/usr/bin/chromium); install Debian's chromium "
    "(apt-get install chromium) to run the browser tests — .ci/run does",
)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is not installed (pip install -e '.[test]')",
)


def sample_isochrones(report) -> gpd.GeoDataFrame:
    """5/10/15-minute isochrones around the first community's representative point."""
    from fifteenmin.routing import reachable

    net = report.network
    com = report.communities.sort_values("community_id").to_crs(net.crs)
    pt = com.geometry.representative_point().iloc[0]
    speed = float(np.max(report.travel.speed))
    rows = []
    for minutes in (5, 10, 15):
        reach = reachable(net, gpd.GeoSeries([pt], crs=net.crs), minutes * 60.0 * speed)
        nodes = reach.node
        poly = shapely.union_all(shapely.buffer(shapely.points(net.x[nodes], net.y[nodes]), 45.0))
        rows.append({"minutes": minutes, "geometry": poly})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=net.crs)


def with_payloads(report):
    """A copy of the report whose first community and first facility carry HTML/JS payloads."""
    cov_com = report.coverage.communities.sort_values("community_id").copy()
    cov_com.loc[cov_com.index[0], "community_name"] = PAYLOAD
    coverage = dataclasses.replace(report.coverage, communities=cov_com.sort_index())
    fac = report.facilities.copy()
    fac.loc[fac.index[0], "name"] = PAYLOAD
    travel_fac = report.travel.facilities.copy()
    travel_fac.loc[travel_fac.index[0], "name"] = PAYLOAD
    travel = dataclasses.replace(report.travel, facilities=travel_fac)
    return dataclasses.replace(report, coverage=coverage, facilities=fac, travel=travel)


@pytest.fixture(scope="module")
def report():
    from fifteenmin import run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report()


@pytest.fixture(scope="module")
def browser_result(report, tmp_path_factory):
    """Open report.html (with isochrones) once; collect the facts the tests check."""
    from fifteenmin.output.html import write_html

    tmp = tmp_path_factory.mktemp("browser")
    page_path = tmp / "report.html"
    write_html(with_payloads(report), page_path, lang="en", isochrones=sample_isochrones(report))
    console_errors: list[str] = []
    page_errors: list[str] = []
    blocked: list[str] = []
    dialogs: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp / "profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            ctx.route("**/*", route)
            page = ctx.new_page()
            page.on(
                "console",
                lambda m: (
                    console_errors.append(f"{m.text} @ {m.location.get('url', '')}")
                    if m.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
            page.wait_for_timeout(500)
            facts = page.evaluate(
                """() => ({
                    leaflet: typeof L === "object" && L.version,
                    mapContainer: document.querySelectorAll(".leaflet-container").length,
                    overlayPaths: document.querySelectorAll(".leaflet-overlay-pane path").length,
                    canvases: document.querySelectorAll(".leaflet-overlay-pane canvas").length,
                    markers: document.querySelectorAll(
                        ".leaflet-overlay-pane path.leaflet-interactive").length,
                    layerControl: document.querySelectorAll(".leaflet-control-layers").length,
                    overlays: Array.from(document.querySelectorAll(
                        ".leaflet-control-layers-overlays label")).map(e => e.textContent.trim()),
                    attribution: (document.querySelector(".leaflet-control-attribution")
                                  || {}).textContent || "",
                    legend: document.querySelectorAll(".fm-legend").length,
                    communityRows: document.querySelectorAll(
                        "table.fm-communities tbody tr").length,
                    directories: document.querySelectorAll("table.fm-directory").length,
                    itemRows: document.querySelectorAll("table.fm-items tbody tr").length,
                    charts: document.querySelectorAll(".fm-charts svg").length,
                    footer: document.querySelector("footer").textContent,
                    mapHeight: document.querySelector(".leaflet-container").offsetHeight,
                })"""
            )
            # open the popups of the first community and the first facility: the payloads
            # show as text and run nothing
            popups = page.evaluate(
                """(payload) => {
                    const map = Object.values(window).find(v => v instanceof L.Map);
                    const texts = [];
                    map.eachLayer(l => {
                        const p = l.feature && l.feature.properties;
                        if (p && p.popup && p.popup.includes("alert(1)")) {
                            l.openPopup();
                            const el = document.querySelector(".leaflet-popup-content");
                            texts.push(el.textContent);
                            l.closePopup();
                        }
                    });
                    return texts;
                }""",
                PAYLOAD,
            )
            page.wait_for_timeout(300)
            shot = tmp / "report.png"
            page.screenshot(path=str(shot), full_page=False)
            page.locator("#fm-map").scroll_into_view_if_needed()
            map_shot = tmp / "map.png"
            page.locator(".fm-map-wrap").screenshot(path=str(map_shot))
        finally:
            ctx.close()
    return {
        "facts": facts,
        "console_errors": console_errors,
        "page_errors": page_errors,
        "blocked": blocked,
        "dialogs": dialogs,
        "popups": popups,
        "screenshots": [shot, map_shot],
        "n_communities": len(report.coverage.communities),
    }


def test_no_javascript_errors(browser_result):
    assert browser_result["page_errors"] == []
    tiles = [
        u for u in browser_result["blocked"] if u.startswith("https://tile.openstreetmap.org/")
    ]
    # the only console errors allowed are the blocked background tiles (offline)
    errors = [
        e
        for e in browser_result["console_errors"]
        if not any(t in e for t in tiles) and "tile.openstreetmap.org" not in e
    ]
    assert errors == []


def test_payloads_shown_as_text(browser_result):
    assert browser_result["dialogs"] == []
    popups = browser_result["popups"]
    assert len(popups) >= 2  # the community and the facility
    assert all(PAYLOAD in text for text in popups)


def test_nothing_but_tiles_requested(browser_result):
    others = [
        u for u in browser_result["blocked"] if not u.startswith("https://tile.openstreetmap.org/")
    ]
    assert others == [], f"the page requested external resources: {others[:5]}"


def test_map_rendered(browser_result):
    f = browser_result["facts"]
    assert f["leaflet"] == "1.9.3"
    assert f["mapContainer"] == 1
    assert f["mapHeight"] > 300
    # communities (polygons), isochrones and facility circle markers are SVG paths
    assert f["overlayPaths"] + f["canvases"] > browser_result["n_communities"]
    assert f["markers"] > browser_result["n_communities"] + 3


def test_layer_control_and_legend(browser_result):
    f = browser_result["facts"]
    assert f["layerControl"] == 1
    overlays = f["overlays"]
    assert any("Communities" in o for o in overlays)
    assert any("isochrones" in o for o in overlays)
    assert any("Health" in o for o in overlays)  # a facility category layer
    assert len(overlays) >= 4
    assert f["legend"] == 1
    assert "© OpenStreetMap contributors" in f["attribution"]


def test_tables_and_charts_rendered(browser_result):
    f = browser_result["facts"]
    assert f["communityRows"] == browser_result["n_communities"]
    assert f["directories"] == browser_result["n_communities"]
    assert f["itemRows"] > 10
    assert f["charts"] == 2
    assert "© OpenStreetMap contributors" in f["footer"]


def test_screenshots_saved(browser_result):
    for shot in browser_result["screenshots"]:
        assert shot.is_file() and shot.stat().st_size > 10_000


# --- Chinese without a system CJK font; a phone and a desktop screen ------------------------
#
# The zh report (with the communities' walking areas) at 390 x 844 and 1400 x 900, on this
# machine's fonts and, as a second case, with Noto Sans CJK installed as a system font (a
# fontconfig file that adds the noto-cjk-sans-otc package's folder); the en report on a
# phone. Screenshots go to $FIFTEENMIN_SCREENSHOTS when it is set (to look at), else only
# to pytest's tmp folder.

VIEWPORTS = {"phone": (390, 844), "desktop": (1400, 900)}
CJK_ONLY = r"^[\u4e00-\u9fff]+$"

FACTS_JS = """(cjkOnly) => {
    const only = new RegExp(cjkOnly);
    const faces = Array.from(document.fonts).map(f => [f.family.replace(/"/g, ""), f.status]);
    // every visible one-line text of CJK ideographs is as wide as its characters: 1 em
    // each in Noto Sans CJK, where a box (no glyph) is narrower
    const badText = [];
    let checked = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const t = walker.currentNode;
        const el = t.parentElement;
        const text = t.data.trim();
        if (!only.test(text) || !el || el.closest("svg")) continue;
        const range = document.createRange();
        range.setStart(t, t.data.indexOf(text));
        range.setEnd(t, t.data.indexOf(text) + text.length);
        const rects = range.getClientRects();
        if (rects.length !== 1) continue;  // hidden, or on two lines
        const ratio = rects[0].width / (text.length * parseFloat(getComputedStyle(el).fontSize));
        checked++;
        if (ratio < 0.95 || ratio > 1.05) badText.push([el.tagName, text, ratio]);
    }
    let minChartPx = Infinity;
    document.querySelectorAll(".fm-charts svg").forEach(svg => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        svg.querySelectorAll("text").forEach(t => {
            const size = parseFloat(t.style.fontSize);
            minChartPx = Math.min(minChartPx, size * scale);
            if (only.test(t.textContent)) {
                checked++;
                const ratio = t.getComputedTextLength() / (t.textContent.length * size);
                if (ratio < 0.95 || ratio > 1.05) badText.push(["svg", t.textContent, ratio]);
            }
        });
    });
    // the glyphs themselves: 社 and 区 drawn in the embedded font differ; in DejaVu Sans
    // (no CJK) they are the same box unless the system has a CJK font to fall back on
    const ink = (font, ch) => {
        const c = document.createElement("canvas");
        c.width = c.height = 80;
        const ctx = c.getContext("2d");
        ctx.font = font;
        ctx.fillText(ch, 4, 64);
        const d = ctx.getImageData(0, 0, 80, 80).data;
        let bits = "", n = 0;
        for (let i = 3; i < d.length; i += 4) { bits += d[i] > 127 ? "1" : "0"; n += d[i] > 127; }
        return [bits, n];
    };
    const embedded = ["社", "区"].map(ch => ink('64px "Noto Sans CJK SC"', ch));
    const plain = ["社", "区"].map(ch => ink('64px "DejaVu Sans"', ch));
    const rows = Array.from(document.querySelectorAll("tr"))
        .map(r => r.getBoundingClientRect().height);
    const control = document.querySelector(".leaflet-control-layers");
    return {
        faces,
        check: document.fonts.check('16px "Noto Sans CJK SC"', "社区服务"),
        checked, badText: badText.slice(0, 10), nBad: badText.length,
        embeddedDiffer: embedded[0][0] !== embedded[1][0],
        embeddedInk: embedded.map(e => e[1]),
        plainSame: plain[0][0] === plain[1][0],
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth, innerHeight: window.innerHeight,
        tallestRow: Math.max(...rows),
        controlExpanded: control.classList.contains("leaflet-control-layers-expanded"),
        controlArea: control.offsetWidth * control.offsetHeight,
        mapArea: document.querySelector(".leaflet-container").offsetWidth
            * document.querySelector(".leaflet-container").offsetHeight,
        minChartPx,
        unnamedEnglish: document.body.innerText.includes("unnamed"),
    };
}"""


#: Opens the tooltip of the first community walking area; returns its text.
AREA_TOOLTIP_JS = """() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    let text = null;
    map.eachLayer(l => {
        const p = l.feature && l.feature.properties;
        if (text === null && p && p.tooltip && /步行范围|walking area/.test(p.tooltip)) {
            l.openTooltip(l.getBounds().getCenter());
            text = document.querySelector(".leaflet-tooltip").textContent;
        }
    });
    return text;
}"""


def _cjk_system_fonts(env: dict[str, str] | None = None) -> int:
    """How many fonts for Chinese fontconfig knows (what Chromium falls back on)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return 0
    import subprocess

    out = subprocess.run(
        [fc_list, ":lang=zh", "family"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return len([x for x in out.stdout.splitlines() if x.strip()])


@pytest.fixture(scope="module")
def pages(report, tmp_path_factory):
    """The report in each language, with the communities' walking areas."""
    from fifteenmin.output.html import write_html

    areas = report.community_isochrones()
    out = {}
    for lang in ("zh", "en"):
        out[lang] = tmp_path_factory.mktemp(lang) / "report.html"
        write_html(report, out[lang], lang=lang, isochrones=areas)
    return out


@pytest.fixture(scope="module")
def system_cjk_env(tmp_path_factory):
    """A fontconfig setup with Noto Sans CJK as a system font (the PyPI package's file)."""
    from fifteenmin.output.fonts import cjk_font_path

    tmp = tmp_path_factory.mktemp("fontconfig")
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        '<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{cjk_font_path().parent}</dir><cachedir>{tmp / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


@pytest.fixture(
    scope="module",
    params=[
        ("zh", "phone", False),
        ("zh", "desktop", False),
        ("zh", "phone", True),
        ("zh", "desktop", True),
        ("en", "phone", False),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}-{'system-cjk' if p[2] else 'no-system-cjk'}",
)
def view(request, pages, system_cjk_env, tmp_path_factory):
    """Open the report at one screen size, with or without a system CJK font."""
    lang, screen, system_cjk = request.param
    width, height = VIEWPORTS[screen]
    env = system_cjk_env if system_cjk else {}
    tmp = tmp_path_factory.mktemp(f"{lang}-{screen}")
    page_errors: list[str] = []
    shots_dir = Path(os.environ.get("FIFTEENMIN_SCREENSHOTS", tmp))
    shots_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{lang}_{width}{'_system_cjk' if system_cjk else ''}"
    shots = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            env={**os.environ, **env},
        )
        try:
            ctx = browser.new_context(viewport={"width": width, "height": height})
            ctx.route(
                "**/*",
                lambda r: (
                    r.continue_()
                    if r.request.url.startswith(("file:", "data:", "about:"))
                    else r.abort()
                ),
            )
            page = ctx.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.goto(pages[lang].as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
            page.evaluate("document.fonts.ready.then(() => true)")
            page.wait_for_timeout(300)
            facts = page.evaluate(FACTS_JS, CJK_ONLY)
            facts["areaTooltip"] = page.evaluate(AREA_TOOLTIP_JS)
            for part in ("top", "fm-map", "fm-charts", "fm-communities"):
                if part != "top":
                    page.evaluate(f"document.getElementById('{part}').scrollIntoView()")
                    page.wait_for_timeout(200)
                shot = shots_dir / f"{tag}_{part}.png"
                page.screenshot(path=str(shot))
                shots.append(shot)
        finally:
            browser.close()
    return {
        "lang": lang,
        "screen": screen,
        "system_cjk": system_cjk,
        "system_fonts": _cjk_system_fonts(env),
        "facts": facts,
        "page_errors": page_errors,
        "shots": shots,
    }


def test_zh_glyphs_drawn_with_the_embedded_font(view):
    if view["lang"] != "zh":
        pytest.skip("the English sample page has no Chinese")
    f = view["facts"]
    assert view["page_errors"] == []
    assert ["Noto Sans CJK SC", "loaded"] in f["faces"]
    assert f["check"] is True
    # real glyphs: two characters draw two different shapes, with ink
    assert f["embeddedDiffer"] and min(f["embeddedInk"]) > 200
    if not view["system_cjk"]:
        # this machine has no CJK font: without the embedded one, every character is the
        # same box (so what draws the glyphs is the embedded font)
        assert view["system_fonts"] == 0, "a system CJK font is installed here"
        assert f["plainSame"]
    else:
        assert view["system_fonts"] > 0
        assert not f["plainSame"]  # Chromium found the system's CJK font too
    # and every Chinese text of the page, HTML and charts, is drawn with glyphs, not boxes
    assert f["checked"] > 500
    assert f["nBad"] == 0, f["badText"]
    assert not f["unnamedEnglish"]


def test_walking_areas_named_after_their_community(view, report):
    text = view["facts"]["areaTooltip"]
    ids = report.coverage.communities["community_id"].astype(str)
    if view["lang"] == "en":
        assert text is not None and ": walking area, 15 min" in text
        assert any(text.startswith(f"unnamed {cid}:") for cid in ids), text
        return
    assert text is not None and text.endswith("分钟步行范围")
    name = text.split("：", 1)[0]
    assert any(name == f"未命名（{cid}）" for cid in ids), text


def test_page_fits_the_screen(view):
    assert view["page_errors"] == []
    f = view["facts"]
    assert f["scrollWidth"] <= f["innerWidth"]  # no horizontal scrolling of the page
    assert f["tallestRow"] < f["innerHeight"]  # no table row taller than the screen
    assert f["minChartPx"] >= 8.0  # chart labels readable
    if view["screen"] == "phone":
        # the layer control is a button, not a panel over the map
        assert not f["controlExpanded"]
        assert f["controlArea"] < 0.05 * f["mapArea"]
    else:
        assert f["controlExpanded"]


def test_screen_screenshots_saved(view):
    for shot in view["shots"]:
        assert shot.is_file() and shot.stat().st_size > 5_000


# --- the city layout: overview map, table, details on demand ---------------------------------

CITY_FACTS_JS = """() => ({
    rows: document.querySelectorAll("#fm-table tbody tr").length,
    clusters: document.querySelectorAll(".fm-cluster").length,
    canvases: document.querySelectorAll(".leaflet-overlay-pane canvas").length,
    overlays: Array.from(document.querySelectorAll(
        ".leaflet-control-layers-overlays label")).map(e => e.textContent.trim()),
    controlExpanded: document.querySelector(".leaflet-control-layers")
        .classList.contains("leaflet-control-layers-expanded"),
    attribution: document.querySelector(".leaflet-control-attribution").textContent,
    legend: document.querySelectorAll(".fm-legend").length,
    details: document.querySelectorAll("details.fm-community").length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
})"""

#: Layers on the map: polygons of the communities, of the opened community's walking area.
LAYERS_JS = """() => {
    let communities = 0, area = 0, dots = 0;
    fmMap.eachLayer(l => {
        if (l instanceof L.Polygon && l.fmi !== undefined && l.options.fill) communities++;
        if (l instanceof L.Polygon && l.options.className === "fm-area") area++;
        if (l instanceof L.CircleMarker && l.fmf !== undefined) dots++;
    });
    const clusters = Array.from(document.querySelectorAll(".fm-cluster"));
    return {communities, area, dots, clusters: clusters.length,
            facilities: dots + clusters.reduce((s, c) => s + Number(c.textContent), 0)};
}"""


#: Zooms onto the facility whose name contains ``needle``, clicks its dot; the popup's text.
FACILITY_POPUP_JS = """(needle) => new Promise(resolve => {
    const D = JSON.parse(document.getElementById("fm-data").textContent);
    const f = D.fac.name.findIndex(n => n.includes(needle));
    fmMap.once("moveend", () => setTimeout(() => {
        let dot = null;
        fmMap.eachLayer(l => { if (l.fmf === f) dot = l; });
        dot.fire("click", {latlng: dot.getLatLng()}, true);
        resolve(document.querySelector(".leaflet-popup-content").textContent);
    }, 0));
    fmMap.setView([D.fac.lat[f] / D.scale, D.fac.lon[f] / D.scale], 19, {animate: false});
})"""


def _open_city_page(path, viewport, steps):
    """Open a city-layout page offline; run ``steps(page)``; return its facts and errors."""
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            ctx.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (errors.append("dialog " + d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-fm-com-pane canvas", timeout=15_000)
            out = steps(page)
        finally:
            browser.close()
    return out, errors


@pytest.fixture(scope="module")
def city_page(report, tmp_path_factory):
    """The sample report (hostile names included) in the city layout, with walking areas."""
    from fifteenmin.output.html import write_html

    path = tmp_path_factory.mktemp("city") / "report.html"
    write_html(
        with_payloads(report),
        path,
        lang="en",
        isochrones=report.community_isochrones(),
        layout="city",
    )
    return path


def test_city_open_a_community_from_the_table_search(city_page, report):
    """Search the table, click the row: the details list the community's missing items."""
    com = report.coverage.communities
    com = com[com["missing"].map(len) > 0].sort_values("community_id").iloc[-1]
    cid = str(com["community_id"])
    missing = [report.catalogue[i].name("en") for i in com["missing"]]

    def steps(page):
        before = page.evaluate(LAYERS_JS)
        facts = page.evaluate(CITY_FACTS_JS)
        page.fill("#fm-search", cid)
        rows = page.locator("#fm-table tbody tr").count()
        page.locator("#fm-table tbody tr").first.locator("a").click()
        page.wait_for_selector("#fm-detail:not([hidden])")
        detail = page.locator("#fm-detail")
        return {
            "before": before,
            "facts": facts,
            "rows": rows,
            "community": detail.get_attribute("data-community"),
            "missing": detail.locator(".fm-missing").inner_text(),
            "directory_rows": detail.locator("table.fm-directory tbody tr").count(),
            "after": page.evaluate(LAYERS_JS),
            "hash": page.evaluate("location.hash"),
        }

    out, errors = _open_city_page(city_page, (1280, 900), steps)
    assert errors == []
    f = out["facts"]
    assert f["rows"] == len(report.coverage.communities) and f["details"] == 0
    assert f["legend"] == 1 and "© OpenStreetMap contributors" in f["attribution"]
    assert "Communities (score)" in f["overlays"][0]
    assert out["rows"] == 1 and out["community"] == cid
    assert out["missing"] == ", ".join(missing)
    assert out["directory_rows"] == len(report.catalogue.items)
    # walking areas: none before, the opened community's only after
    assert out["before"]["area"] == 0 and out["after"]["area"] == 1
    assert out["before"]["communities"] == len(report.coverage.communities)
    assert out["hash"].startswith("#c-")


def test_city_hostile_names_shown_as_text(city_page):
    def steps(page):
        page.fill("#fm-search", "alert(1)")
        page.locator("#fm-table tbody tr").first.locator("a").click()
        page.wait_for_selector("#fm-detail:not([hidden])")
        return {
            "cell": page.locator("#fm-table tbody tr td").first.inner_text(),
            "title": page.locator("#fm-detail h3").inner_text(),
            "scripts": page.evaluate("document.querySelectorAll('script').length"),
            "imgs": page.evaluate("document.querySelectorAll('img[src=x]').length"),
            "popup": page.evaluate(FACILITY_POPUP_JS, "alert(1)"),
        }

    out, errors = _open_city_page(city_page, (1280, 900), steps)
    assert errors == []  # no alert dialog, no error
    assert out["cell"] == PAYLOAD and out["title"].startswith(PAYLOAD)
    assert out["imgs"] == 0 and out["scripts"] == 5
    assert PAYLOAD in out["popup"]  # the facility's popup, built on click, shows it as text


def test_city_layer_toggles(city_page):
    """Each overlay of the layer control takes its layer off the map and back."""

    def steps(page):
        boxes = page.locator(".leaflet-control-layers-overlays input")
        page.locator("#fm-table tbody tr").first.locator("a").click()
        seen = [page.evaluate(LAYERS_JS)]
        for k in range(boxes.count()):
            boxes.nth(k).click()
            seen.append(page.evaluate(LAYERS_JS))
            boxes.nth(k).click()
        seen.append(page.evaluate(LAYERS_JS))
        return seen

    seen, errors = _open_city_page(city_page, (1280, 900), steps)
    assert errors == []
    first, communities_off, area_off, *categories_off, last = seen
    assert first == last
    assert communities_off["communities"] == 0 and first["communities"] > 0
    assert area_off["area"] == 0 and first["area"] == 1
    assert first["facilities"] > 0
    # taking a category off hides its facilities, never adds any
    assert all(c["facilities"] <= first["facilities"] for c in categories_off)
    # each facility point belongs to one category: the hidden ones add up to those in view
    assert sum(first["facilities"] - c["facilities"] for c in categories_off) == first["facilities"]


def test_city_phone_layout(city_page):
    def steps(page):
        facts = page.evaluate(CITY_FACTS_JS)
        page.locator("#fm-table tbody tr").first.locator("a").click()
        page.wait_for_selector("#fm-detail:not([hidden])")
        facts["afterWidth"] = page.evaluate("document.documentElement.scrollWidth")
        return facts

    f, errors = _open_city_page(city_page, VIEWPORTS["phone"], steps)
    assert errors == []
    assert not f["controlExpanded"]  # the layer control is a button on a phone
    assert f["scrollWidth"] <= f["innerWidth"] and f["afterWidth"] <= f["innerWidth"]


# --- walking areas in files beside the page (output/html/area_files.py) ------------------------

#: The opened community's walking area and the messages and area scripts in the page.
AREA_FACTS_JS = """() => ({
    areas: document.querySelectorAll("path.fm-area").length,
    label: (document.querySelector(".fm-label") || {}).textContent || "",
    missing: Array.from(document.querySelectorAll(".fm-area-missing")).map(e => e.textContent),
    scripts: Array.from(document.querySelectorAll("script[src]")).map(
        s => s.getAttribute("src")),
    community: document.getElementById("fm-detail").getAttribute("data-community"),
})"""


@pytest.fixture(scope="module")
def city_folder(report, tmp_path_factory):
    """The sample's report folder in the city layout, its walking areas in files of 5."""
    from fifteenmin import settings
    from fifteenmin.output import write_report

    out = tmp_path_factory.mktemp("city-folder") / "report"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "HTML_CITY_MIN_COMMUNITIES", 5)
        mp.setattr(settings, "HTML_AREA_FILE_COMMUNITIES", 5)
        write_report(report, out, isochrones="auto", sites=None)
    return out


def _open_row(page, k):
    """Open the community of the table's row ``k``; wait until its area is drawn or missing."""
    page.locator("#fm-table tbody tr").nth(k).locator("a").click()
    page.wait_for_selector("#fm-detail:not([hidden])")
    page.wait_for_function(
        "() => document.querySelector('path.fm-area, .fm-area-missing')", timeout=15_000
    )
    return page.evaluate(AREA_FACTS_JS)


def test_city_walking_area_loaded_from_its_file(city_folder, report):
    ids = sorted(report.coverage.communities["community_id"].astype(str))
    names = dict(
        zip(
            report.coverage.communities["community_id"].astype(str),
            report.coverage.communities["community_name"],
            strict=True,
        )
    )

    def steps(page):
        before = page.evaluate(AREA_FACTS_JS)
        seventh = _open_row(page, 6)  # the second file's
        first = _open_row(page, 0)  # the first file's
        again = _open_row(page, 6)  # its file is loaded already
        # opened twice before its file (the third) arrives: its area is drawn once
        page.evaluate("() => { fmSelect(10, false); fmSelect(10, false); }")
        page.wait_for_function("() => document.querySelector('path.fm-area')", timeout=15_000)
        page.wait_for_timeout(300)
        twice = page.evaluate(AREA_FACTS_JS)
        return before, seventh, first, again, twice

    (before, seventh, first, again, twice), errors = _open_city_page(
        city_folder / "report.html", (1280, 900), steps
    )
    assert errors == []
    assert before["areas"] == 0 and before["scripts"] == []
    assert seventh["community"] == ids[6] and seventh["areas"] == 1 and seventh["missing"] == []
    assert seventh["label"] == f"{names[ids[6]]}: walking area, 15 min"
    assert seventh["scripts"] == ["report_files/areas-0001.js"]
    assert first["community"] == ids[0] and first["areas"] == 1
    assert first["scripts"] == ["report_files/areas-0001.js", "report_files/areas-0000.js"]
    assert again["areas"] == 1 and again["scripts"] == first["scripts"]
    assert twice["community"] == ids[10] and twice["areas"] == 1
    assert twice["scripts"][-1] == "report_files/areas-0002.js" and len(twice["scripts"]) == 3


def test_city_walking_area_file_missing(city_folder, tmp_path):
    alone = tmp_path / "report.html"
    shutil.copyfile(city_folder / "report.html", alone)  # the page copied without its folder

    def steps(page):
        return _open_row(page, 6), page.locator("#fm-detail table.fm-directory tbody tr").count()

    (facts, directory_rows), errors = _open_city_page(alone, (1280, 900), steps)
    assert errors == []
    assert facts["areas"] == 0
    assert facts["missing"] == [
        "The walking area could not be loaded: report_files/areas-0001.js is missing or belongs "
        "to another report. Keep the folder report_files beside report.html."
    ]
    assert directory_rows > 0  # the rest of the details are shown
