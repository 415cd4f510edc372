"""The city layout of the report page: overview map, community table, details on demand.

For a city of thousands of communities the full layout (one pre-rendered service directory
per community, one map feature per facility, every walking area at once) makes pages of
hundreds of megabytes. The city layout embeds the data once, compactly
(:mod:`~fifteenmin.output.html.city_data`), and its script
(:mod:`~fifteenmin.output.html.city_js`) draws:

* an overview map: communities as a score choropleth (simplified polygons on a canvas),
  facilities clustered on a screen grid, the walking area of the selected community only;
* a searchable, sortable community table;
* one community's details (score, missing items, data gaps, service directory with minutes)
  when a row or a polygon is clicked, or the page is opened at its anchor (``#c-0001``).

:func:`city_parts` returns the sections' HTML and the data and script elements;
:func:`fifteenmin.output.html.page.render_html` places them.

Examples
--------
>>> parts = city_parts(rep, "en", None)  # doctest: +SKIP
>>> parts.map_html.startswith('<div class="fm-map-wrap">')  # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ..._i18n import labels
from .area_files import area_file_names
from .assets import NARROW_PX
from .city_data import city_data, encode_geometries
from .city_js import CITY_JS
from .common import esc, json_for_script, unit_label
from .labels import LABELS
from .map import _legend_html, bounds

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["CityParts", "city_parts", "json_for_script", "use_city_layout"]

#: Labels the script uses (plain text; the script escapes them).
_JS_LABELS = (
    "colon",
    "list_sep",
    "unnamed",
    "popup_items",
    "n_facilities",
    "layer_communities",
    "layer_area",
    "layer_isochrones",
    "no_facility_within",
    "nearest_beyond",
    "minutes_short",
    "n_more",
    "yes",
    "no",
    "status_no_data",
    "optional",
    "item",
    "tier",
    "residents_within",
    "met",
    "facilities_within",
    "score",
    "missing",
    "data_gaps_col",
    "none",
    "directory_note",
    "iso_community",
    "id",
    "residents_share",
    "weight",
    "shown_of",
    "area_missing",
)
#: From this zoom on, facilities are drawn one by one (no clusters).
_CLUSTER_OFF_ZOOM = 17
_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_ISO_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")


def use_city_layout(report: Results, layout: str) -> bool:
    """Whether the page uses its city layout (``layout``: ``"auto"``, ``"full"``, ``"city"``).

    ``"auto"``: above :data:`~fifteenmin.settings.HTML_CITY_MIN_COMMUNITIES` communities.

    Raises
    ------
    ValueError
        An unknown layout.

    Examples
    --------
    >>> use_city_layout(rep, "city")  # doctest: +SKIP
    True
    """
    if layout not in ("auto", "full", "city"):
        raise ValueError(f"layout must be 'auto', 'full' or 'city', not {layout!r}")
    if layout == "auto":
        return len(report.coverage.communities) > settings.HTML_CITY_MIN_COMMUNITIES
    return layout == "city"


@dataclass(frozen=True)
class CityParts:
    """The pieces of the city layout that the page places."""

    #: the map (inside the map section)
    map_html: str
    #: the panel of the opened community (below the map)
    detail_html: str
    #: the community table (inside the communities section)
    table_html: str
    #: ``<script type="application/json">`` and ``text/plain`` elements of the data
    data_html: str
    #: the script (goes after Leaflet, at the end of the body)
    script: str


def _generic_isochrones(isochrones: gpd.GeoDataFrame | None, lang: str) -> list[dict[str, Any]]:
    """Walking isochrones not tied to a community: drawn as one layer, largest first."""
    if isochrones is None or "community_id" in isochrones.columns or not len(isochrones):
        return []
    if "minutes" not in isochrones.columns:
        raise ValueError("isochrones need a 'minutes' column")
    if isochrones.crs is None:
        raise ValueError("isochrones have no CRS: set one (e.g. gdf.set_crs('EPSG:4326'))")
    L = labels(LABELS, lang)
    iso = isochrones.to_crs("EPSG:4326")
    minutes = pd.to_numeric(iso["minutes"], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(minutes))
    keep = keep[np.lexsort((keep, -minutes[keep]))]
    levels = sorted(set(minutes[keep].tolist()))
    enc = encode_geometries(iso.geometry.values[keep], settings.HTML_CITY_AREA_SIMPLIFY_M)
    return [
        {
            "g": g,
            "c": _ISO_COLOURS[min(levels.index(m), len(_ISO_COLOURS) - 1)],
            "t": L["iso_minutes"].format(m=f"{m:g}"),
        }
        for m, g in zip(minutes[keep].tolist(), enc, strict=True)
        if g
    ]


def _check_isochrones(isochrones: gpd.GeoDataFrame | None) -> None:
    if isochrones is None:
        return
    if not isinstance(isochrones, gpd.GeoDataFrame):
        raise TypeError("isochrones must be a GeoDataFrame with a 'minutes' column and polygons")
    if "minutes" not in isochrones.columns:
        raise ValueError("isochrones need a 'minutes' column")
    if isochrones.crs is None:
        raise ValueError("isochrones have no CRS: set one (e.g. gdf.set_crs('EPSG:4326'))")


def _page_data(
    report: Results, lang: str, isochrones: gpd.GeoDataFrame | None, area_folder: str | None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The data the script reads: the compact data, labels, legend, map settings.

    With ``area_folder`` the communities' walking areas are not embedded (their lines are
    empty): ``data["areaFiles"]`` tells the script where their files are.
    """
    L = labels(LABELS, lang)
    data, directory, areas = city_data(
        report, lang, None if area_folder is not None else isochrones
    )
    if area_folder is not None:
        data["areaFiles"] = {
            "folder": area_folder,
            "per": settings.HTML_AREA_FILE_COMMUNITIES,
            "names": area_file_names(len(data["com"]["cols"]["id"])),
        }
    n_per_cat = np.bincount(
        np.asarray(data["fac"]["cat"], dtype=np.int64), minlength=len(data["cats"]["id"])
    )
    data["cats"]["n"] = n_per_cat.tolist()
    data["com"]["units"] = [unit_label(L, u, short=True) for u in data["com"]["units"]]
    box = bounds(report, isochrones)
    data.update(
        labels={k: L[k] for k in _JS_LABELS},
        legend=_legend_html(L),
        tiles=_TILES,
        attribution=settings.ATTRIBUTION_HTML,
        bounds=box,
        center=[float(np.mean(report.network.lat)), float(np.mean(report.network.lon))]
        if box is None and len(report.network.lat)
        else [0.0, 0.0],
        narrow=NARROW_PX,
        clusterOffZoom=_CLUSTER_OFF_ZOOM,
        iso=_generic_isochrones(isochrones, lang),
        chunk=settings.HTML_CITY_CHUNK,
    )
    return data, directory, areas


def _table_html(L: Mapping[str, str], n: int) -> str:
    keys = ("community", "id", "score", "met", "residents_share", "weight", "missing")
    head = "".join(
        f'<th aria-sort="none" title="{esc(L["sort_hint"])}">{esc(L[k])}</th>'
        for k in (*keys, "data_gaps_col")
    )
    return (
        f'<p class="fm-search"><input id="fm-search" type="search" '
        f'placeholder="{esc(L["search_placeholder"])}" aria-label="{esc(L["search_placeholder"])}">'
        f' <span id="fm-count">{n:,}</span></p>'
        f'<div class="fm-scroll"><table id="fm-table" class="fm-communities fm-city-table">'
        f"<thead><tr>{head}</tr></thead><tbody></tbody></table></div>"
        f'<p><button id="fm-more" type="button" hidden>{esc(L["show_more"])}</button></p>'
    )


def _chunks(kind: str, lines: list[str]) -> list[str]:
    """The lines in ``text/plain`` elements (``kind-0``, ``kind-1``, ...) of chunks.

    :data:`~fifteenmin.settings.HTML_CITY_CHUNK` communities each; none when every line is
    empty.

    The lines hold only numbers, brackets and commas: nothing in them can end the element.
    """
    if not any(lines):
        return []
    size = settings.HTML_CITY_CHUNK
    return [
        f'<script type="text/plain" id="{kind}-{k // size}">'
        + "\n".join(lines[k : k + size])
        + "</script>"
        for k in range(0, len(lines), size)
    ]


def city_parts(
    report: Results,
    lang: str,
    isochrones: gpd.GeoDataFrame | None,
    area_folder: str | None = None,
) -> CityParts:
    """The map, detail panel, table, data and script of the city layout.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``.
    isochrones
        Optional walking areas: rows with a ``community_id`` are drawn only when their
        community is opened; rows without one form a layer (``minutes`` + polygons, any CRS).
    area_folder
        The communities' walking areas are not embedded but in the files of
        :mod:`~fifteenmin.output.html.area_files` in this folder beside the page (a path
        relative to the page, ``/``-separated); their rows of ``isochrones`` are not read.

    Raises
    ------
    TypeError, ValueError
        The isochrones are not a GeoDataFrame with ``minutes`` and a CRS.

    Examples
    --------
    >>> parts = city_parts(rep, "zh", rep.community_isochrones())  # doctest: +SKIP
    """
    _check_isochrones(isochrones)
    L = labels(LABELS, lang)
    data, directory, areas = _page_data(report, lang, isochrones, area_folder)
    n = len(data["com"]["cols"]["id"])
    data_html = "\n".join(
        [
            f'<script type="application/json" id="fm-data">{json_for_script(data)}</script>',
            *_chunks("fm-dir", directory),
            *_chunks("fm-areas", areas),
        ]
    )
    return CityParts(
        map_html='<div class="fm-map-wrap"><div id="fm-city-map" class="fm-city-map"></div></div>',
        detail_html=(
            f'<div id="fm-detail" class="fm-detail" aria-live="polite" hidden></div>'
            f'<p class="fm-note" id="fm-detail-hint">{esc(L["city_hint"])}</p>'
        ),
        table_html=_table_html(L, n),
        data_html=data_html,
        script=CITY_JS,
    )
