"""Interactive maps: offline (Leaflet inlined), with a legend, without mapclassify."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

import fifteenmin as fm
from fifteenmin._maps import explore_frame, offline_map

ALLOWED = (
    "https://tile.openstreetmap.org/",
    "https://www.openstreetmap.org/copyright",
    "https://opendatacommons.org/",
)


@pytest.fixture(scope="module")
def report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fm.run_report(engine="scipy")


def _external(page: str) -> list[str]:
    """Scripts and styles loaded from elsewhere (tiles and licence links are fine)."""
    urls = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page)
    return [u for u in urls if not u.startswith(ALLOWED)]


@pytest.mark.parametrize("which", ["coverage", "travel", "network"])
def test_maps_load_nothing_from_cdns(report, which):
    m = {
        "coverage": lambda: report.coverage.explore(),
        "travel": lambda: report.travel.explore(report.network, "pharmacy"),
        "network": lambda: report.network.explore(),
    }[which]()
    page = m.get_root().render()
    assert _external(page) == []
    assert "data:text/javascript;base64," in page  # Leaflet itself, inline
    assert "\\u00a9 OpenStreetMap contributors" in page  # the attribution control


def test_legends_name_the_classes(report):
    page = report.coverage.explore().get_root().render()
    assert "Share of required items met" in page and "80% - 100%" in page
    page = report.travel.explore(report.network, "pharmacy").get_root().render()
    assert "Walking minutes to pharmacy" in page and "0-5 min" in page


def test_explore_does_not_import_mapclassify():
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "import fifteenmin as fm\n"
        "net = fm.network_from_file(fm.sample_path())\n"
        "net.explore().get_root().render()\n"
        "assert 'mapclassify' not in sys.modules, 'mapclassify imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def test_offline_map_fits_bounds_and_escapes_legend():
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame(
        {"v": [0.5], "name": ["<script>alert(1)</script>"]},
        geometry=[shapely.Point(24.9, 60.1)],
        crs="EPSG:4326",
    )
    m = explore_frame(
        g, column="v", classes=[(0, 1, "#123456")], legend="<b>x</b>", tooltip=["name"]
    )
    page = m.get_root().render()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "fitBounds" in offline_map((24.0, 60.0, 25.0, 61.0)).get_root().render()
