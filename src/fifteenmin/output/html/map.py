"""The report's interactive map (folium/Leaflet), rendered with no external resources.

Communities coloured by score (with a legend), facilities in one layer per catalogue
category, optional walking isochrones, and a layer control. Every string from OpenStreetMap
or a user file is escaped in popups, tooltips and layer names. The output is deterministic:
folium's random element ids are replaced by a counter (:func:`deterministic_ids`), features
are sorted and coordinates rounded to 6 decimals.

Examples
--------
>>> header, body, script = map_parts(run_report(), "en", None, {})  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from ..._i18n import labels
from ...directory import facility_frame
from .assets import NARROW_PX
from .common import (
    CATEGORY_COLOURS,
    NO_RESIDENTS_COLOUR,
    SCORE_CLASSES,
    community_name,
    display_name,
    esc,
    item_name,
    pct,
    score_colour,
    split_ids,
)
from .labels import LABELS

if TYPE_CHECKING:
    from branca.element import Figure

    from ...catalogue import Catalogue, Item
    from ...pipeline import Results

__all__ = [
    "bounds",
    "community_features",
    "deterministic_ids",
    "facility_layers",
    "isochrone_features",
    "map_parts",
]

Feature = dict[str, Any]

_ISO_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
#: OSM tags shown in facility popups (when present).
_POPUP_TAGS = (
    "amenity",
    "shop",
    "leisure",
    "healthcare",
    "office",
    "social_facility",
    "public_transport",
    "highway",
    "railway",
    "sport",
    "craft",
    "addr:street",
    "addr:housenumber",
    "opening_hours",
    "operator",
)
_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

_BIND_JS = """function(feature, layer) {
    var p = feature.properties;
    if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 380, maxHeight: 320}); }
    if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}"""

_POINT_JS = """function(feature, latlng) {
    return L.circleMarker(latlng, feature.properties.style);
}"""

_ID_LOCK = threading.Lock()


@contextmanager
def deterministic_ids() -> Iterator[None]:
    """Give folium/branca elements sequential ids instead of random ones (thread-safe here).

    Examples
    --------
    >>> import folium
    >>> with deterministic_ids():
    ...     folium.Map().get_name()
    'map_fm000001'
    """
    from branca.element import Element

    original = Element.__dict__["_generate_id"]
    counter = itertools.count(1)
    with _ID_LOCK:
        Element._generate_id = classmethod(lambda cls: f"fm{next(counter):06d}")  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]


def _legend_element(html_text: str) -> Any:
    """A Leaflet control (bottom right) showing ``html_text``."""
    from branca.element import MacroElement
    from jinja2 import Template

    class _Legend(MacroElement):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: "bottomright"});
            {{ this.get_name() }}.onAdd = function (map) {
                var div = L.DomUtil.create("div", "fm-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
            {% endmacro %}
            """
        )

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "Legend"
            self.html = text

    return _Legend(html_text)


def _legend_html(L: Mapping[str, str]) -> str:
    """The score legend: one swatch per class of :data:`SCORE_CLASSES`, and "no residents"."""
    legend = [f"<b>{esc(L['legend_title'])}</b>"]
    for k, (lo, hi, colour) in enumerate(SCORE_CLASSES):
        last = k == len(SCORE_CLASSES) - 1
        legend.append(
            f'<i style="background:{colour}"></i>{lo:.0%} – {hi:.0%}' + ("" if last else " ")
        )
    legend.append(f'<i style="background:{NO_RESIDENTS_COLOUR}"></i>{esc(L["no_residents"])}')
    return "<br>".join(legend)


def _json_geom(geom: Any) -> Any:
    """A GeoJSON geometry rounded to 6 decimals, as plain lists (for stable JSON)."""
    g = shapely.transform(geom, lambda c: np.round(c, 6))
    return json.loads(json.dumps(shapely.geometry.mapping(g)))


def _feature(geom: Any, style: Mapping[str, Any], tooltip: str, popup: str | None) -> Feature:
    props: dict[str, Any] = {"style": dict(style)}
    if popup is not None:
        props["popup"] = popup
    props["tooltip"] = tooltip
    return {"type": "Feature", "properties": props, "geometry": _json_geom(geom)}


def _community_popup(report: Results, row: Any, name: str, lang: str, anchor: str) -> str:
    L = labels(LABELS, lang)
    cid = str(row.community_id)
    missing = split_ids(row.missing)
    gaps = split_ids(getattr(row, "data_gaps", None))
    sep, colon = L["list_sep"], esc(L["colon"])
    miss_txt = sep.join(esc(item_name(report, m, lang)) for m in missing) or esc(L["none"])
    gap_txt = sep.join(esc(item_name(report, g, lang)) for g in gaps)
    return (
        f'<div class="fm-popup"><b>{esc(name or cid)}</b><br>'
        f"<small>{esc(cid)}</small><br>"
        f"{esc(L['score'])}{colon}<b>{esc(pct(float(row.score)))}</b> "
        f"({int(row.n_met)}/{int(row.n_required)})<br>"
        f"{esc(L['popup_missing'])}{colon}{miss_txt}<br>"
        + (f"{esc(L['popup_gaps'])}{colon}{gap_txt}<br>" if gaps else "")
        + f'<a href="#{esc(anchor)}">{esc(L["popup_directory"])}</a></div>'
    )


def community_features(report: Results, lang: str, anchors: Mapping[str, str]) -> list[Feature]:
    """One GeoJSON feature per community (by id), coloured by score, with a popup.

    Examples
    --------
    >>> feats = community_features(rep, "en", anchors)  # doctest: +SKIP
    """
    L = labels(LABELS, lang)
    com = report.coverage.communities.to_crs("EPSG:4326")
    com = com.assign(cid_key=com["community_id"].astype(str)).sort_values("cid_key", kind="stable")
    feats = []
    for row in com.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        cid = str(row.community_id)
        name = community_name(row.community_name, lang)
        score = float(row.score)
        style = {
            "color": "#333333",
            "weight": 1.2,
            "fillColor": score_colour(score, float(row.weight)),
            "fillOpacity": 0.55,
        }
        popup = _community_popup(report, row, name, lang, anchors.get(cid, ""))
        tooltip = f"{esc(name or cid)}{esc(L['colon'])}{esc(pct(score))}"
        feats.append(_feature(geom, style, tooltip, popup))
    return feats


def _category_order(cat: Catalogue) -> list[str]:
    """Category ids in catalogue order, then any category only items name."""
    order = [c.id for c in cat.categories]
    for it in cat.items:
        if it.category not in order:
            order.append(it.category)
    return order


def _facility_feature(
    fac: gpd.GeoDataFrame,
    g: pd.DataFrame,
    pt: Any,
    item_of: Mapping[str, Item],
    colour: str,
    lang: str,
) -> Feature:
    """One point for one OSM object (``g``: its rows, one per item it serves)."""
    L = labels(LABELS, lang)
    first = int(g["row"].iloc[0])
    tags = fac["tags"].iloc[first]
    tags = tags if isinstance(tags, Mapping) else {}
    name = display_name(fac["name"].iloc[first], tags, lang)
    item_names = [item_of[i].name(lang) for i in g["item_id"].to_numpy()]
    tag_rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(tags[k])}</td></tr>"
        for k in _POPUP_TAGS
        if k in tags and str(tags[k]) != ""
    )
    shown = name or f"({L['unnamed']})"
    popup = (
        f'<div class="fm-popup"><b>{esc(shown)}</b><br>'
        f"{esc(L['popup_items'])}{esc(L['colon'])}{esc(L['list_sep'].join(item_names))}<br>"
        f"<small>OSM {esc(g['osm_type'].iloc[0])}/{esc(g['osm_id'].iloc[0])}</small>"
        + (f"<table>{tag_rows}</table>" if tag_rows else "")
        + "</div>"
    )
    style = {"radius": 5, "color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.9}
    tooltip = f"{esc(name or item_names[0])} · {esc(item_names[0])}"
    return _feature(pt, style, tooltip, popup)


def facility_layers(report: Results, lang: str) -> list[tuple[str, str, list[Feature]]]:
    """Per category (catalogue order): (layer label, colour, point features).

    One point per OSM object and category; its popup lists every item it serves (catalogue
    order).

    Examples
    --------
    >>> [label for label, _, _ in facility_layers(rep, "en")]  # doctest: +SKIP
    """
    cat = report.catalogue
    fac = facility_frame(report)
    if not len(fac):
        return []
    item_of = {it.id: it for it in cat.items}
    cat_order = _category_order(cat)
    colour_of = {c: CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)] for k, c in enumerate(cat_order)}
    geoms = fac.geometry.to_crs("EPSG:4326") if fac.crs is not None else fac.geometry
    pts = shapely.point_on_surface(np.asarray(geoms.values, dtype=object))
    item_ids = fac["item_id"].astype(str).to_numpy()
    df = pd.DataFrame(
        {
            "row": np.arange(len(fac)),
            "item_id": item_ids,
            "osm_type": fac["osm_type"].astype(str).to_numpy(),
            "osm_id": fac["osm_id"].astype(str).to_numpy(),
            "category": [item_of[i].category if i in item_of else "" for i in item_ids],
            "rank": cat.rank(item_ids),
        }
    )
    df = df[df["category"] != ""]
    category_ids = {x.id for x in cat.categories}
    layers = []
    for c in cat_order:
        sub = df[df["category"] == c]
        if not len(sub):
            continue
        groups = sub.sort_values(["osm_type", "osm_id", "rank", "row"], kind="stable").groupby(
            ["osm_type", "osm_id"], sort=True
        )
        feats = []
        for _key, g in groups:
            pt = pts[int(g["row"].iloc[0])]
            if pt is not None and not shapely.is_empty(pt):
                feats.append(_facility_feature(fac, g, pt, item_of, colour_of[c], lang))
        cname = cat.category(c).name(lang) if c in category_ids else c
        label = f'<span style="color:{colour_of[c]}">&#9679;</span> {esc(cname)} ({len(feats):,})'
        layers.append((label, colour_of[c], feats))
    return layers


def isochrone_features(
    isochrones: gpd.GeoDataFrame, lang: str, names: Mapping[str, str] | None = None
) -> list[Feature]:
    """Walking isochrones as features, largest first (smaller areas lie on top).

    A community's walking area (a row with a ``community_id``, as from
    :meth:`~fifteenmin.pipeline.Results.community_isochrones`) is labelled with the
    community's name from ``names`` (community id → name), else with its id.

    Raises
    ------
    TypeError
        ``isochrones`` is not a GeoDataFrame.
    ValueError
        It has no ``minutes`` column or no CRS.

    Examples
    --------
    >>> feats = isochrone_features(rep.community_isochrones(), "zh")  # doctest: +SKIP
    """
    L = labels(LABELS, lang)
    if not isinstance(isochrones, gpd.GeoDataFrame):
        raise TypeError("isochrones must be a GeoDataFrame with a 'minutes' column and polygons")
    if "minutes" not in isochrones.columns:
        raise ValueError("isochrones need a 'minutes' column")
    if isochrones.crs is None:
        raise ValueError("isochrones have no CRS: set one (e.g. gdf.set_crs('EPSG:4326'))")
    iso = isochrones.to_crs("EPSG:4326")
    minutes = pd.to_numeric(iso["minutes"], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.isfinite(minutes) & ~iso.geometry.isna().to_numpy()
    iso = iso[keep].assign(_m=minutes[keep]).reset_index(drop=True)
    levels = sorted(set(iso["_m"].tolist()))
    colour = {m: _ISO_COLOURS[min(k, len(_ISO_COLOURS) - 1)] for k, m in enumerate(levels)}
    order = sorted(range(len(iso)), key=lambda i: (-iso["_m"].iloc[i], i))
    feats = []
    for i in order:
        geom = iso.geometry.iloc[i]
        if geom is None or geom.is_empty:
            continue
        m = float(iso["_m"].iloc[i])
        tooltip = L["iso_minutes"].format(m=f"{m:g}")
        if "community_id" in iso.columns:
            cid = str(iso["community_id"].iloc[i])
            name = (names or {}).get(cid) or cid
            tooltip = L["iso_community"].format(name=name, m=f"{m:g}")
        style = {
            "color": colour[m],
            "weight": 2,
            "dashArray": "4 3",
            "fillColor": colour[m],
            "fillOpacity": 0.12,
        }
        feats.append(_feature(geom, style, esc(tooltip), None))
    return feats


def bounds(report: Results, isochrones: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the communities: the map opens on them.

    Without communities, the bounds of the facilities and isochrones; ``None`` when there
    is nothing with a CRS to show.

    Examples
    --------
    >>> (s, w), (n, e) = bounds(rep, None)  # doctest: +SKIP
    """
    boxes = _boxes([report.coverage.communities]) or _boxes([report.facilities, isochrones])
    if not boxes:
        return None
    b = np.array(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    return [[round(float(s), 6), round(float(w), 6)], [round(float(n), 6), round(float(e), 6)]]


def _boxes(frames: list[gpd.GeoDataFrame | None]) -> list[np.ndarray]:
    """The finite lon/lat bounds of the non-empty frames with a CRS."""
    boxes = [
        g.to_crs("EPSG:4326").total_bounds
        for g in frames
        if g is not None and len(g) and g.crs is not None
    ]
    return [b for b in boxes if np.all(np.isfinite(b))]


def _center(report: Results, box: list[list[float]] | None) -> list[float]:
    if box is None:
        return [float(np.mean(report.network.lat)), float(np.mean(report.network.lon))]
    return [round((box[0][0] + box[1][0]) / 2, 6), round((box[0][1] + box[1][1]) / 2, 6)]


def _geojson_layers(
    m: Any,
    L: Mapping[str, str],
    iso_feats: list[Feature] | None,
    com_feats: list[Feature],
    fac_layers: list[tuple[str, str, list[Feature]]],
) -> None:
    """Add the isochrone, community and facility layers to the folium map ``m``."""
    import folium
    from folium.utilities import JsCode

    on_each = JsCode(_BIND_JS)
    if iso_feats is not None:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": iso_feats},
            name=esc(L["layer_isochrones"]),
            on_each_feature=on_each,
        ).add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": com_feats},
        name=esc(L["layer_communities"]),
        on_each_feature=on_each,
    ).add_to(m)
    for label, _colour, feats in fac_layers:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            name=label,
            on_each_feature=on_each,
            pointToLayer=JsCode(_POINT_JS),
        ).add_to(m)


def map_parts(
    report: Results, lang: str, isochrones: gpd.GeoDataFrame | None, anchors: Mapping[str, str]
) -> tuple[str, str, str]:
    """The folium map as (header HTML, body HTML, script), with no external resources.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``.
    isochrones
        Optional walking isochrones (``minutes`` + polygons, any CRS).
    anchors
        Community id → the page anchor of its service directory (linked from popups).

    Examples
    --------
    >>> header, body, script = map_parts(rep, "en", None, anchors)  # doctest: +SKIP
    """
    import folium
    from folium.utilities import JsCode

    L = labels(LABELS, lang)
    com = report.coverage.communities
    names = {
        str(cid): community_name(name, lang) or str(cid)
        for cid, name in zip(com["community_id"], com["community_name"], strict=True)
    }
    iso_feats = isochrone_features(isochrones, lang, names) if isochrones is not None else None
    box = bounds(report, isochrones)
    com_feats = community_features(report, lang, anchors)
    fac_layers = facility_layers(report, lang)
    with deterministic_ids():
        m = folium.Map(
            location=_center(report, box),
            zoom_start=15,
            tiles=None,
            width="100%",
            height="100%",
            position="absolute",
            control_scale=True,
            zoomSnap=0.25,
        )
        # no CDN: Leaflet is inlined by the page; nothing else is used
        m.default_js = []
        m.default_css = []
        folium.TileLayer(
            tiles=_TILES,
            attr=settings.ATTRIBUTION_HTML,
            name="OpenStreetMap",
            max_zoom=19,
            control=False,
        ).add_to(m)
        _geojson_layers(m, L, iso_feats, com_feats, fac_layers)
        # open on a wide screen; a button on a phone, so that it does not cover the map
        collapsed = JsCode(f"window.innerWidth <= {NARROW_PX}")
        folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)  # type: ignore[arg-type]
        _legend_element(_legend_html(L)).add_to(m)
        if box is not None:
            m.fit_bounds(box)
        root = cast("Figure", m.get_root())
        root.render()
        return root.header.render(), root.html.render(), root.script.render()
