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
