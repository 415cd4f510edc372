"""Interactive maps that work offline and open fast (folium, Leaflet inlined).

``GeoDataFrame.explore`` loads Leaflet, jQuery and Bootstrap from CDNs (a blank map
offline) and imports mapclassify, whose first import takes seconds. The maps here carry
Leaflet inline (from the XStatic-Leaflet package, as report.html does), draw their own
legend (no d3 from a CDN), and need only folium and branca. Only the background tiles need
the internet.

Used by ``WalkNetwork.explore``, ``TravelTimes.explore`` and ``CoverageResult.explore``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import settings

__all__ = ["explore_frame", "leaflet_assets", "offline_map"]

#: A colour class: (lower bound, upper bound, colour); the last class includes its upper bound.
ColourClass = tuple[float, float, str]


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS (images inlined as data URIs) from the XStatic-Leaflet package.

    Both are safe to put inside ``<script>`` and ``<style>`` elements.

    Examples
    --------
    >>> js, css = leaflet_assets()
    >>> "url(data:image/png;base64," in css
    True
    """
    try:
        from xstatic.pkg import leaflet as xs_leaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "fifteenmin inlines Leaflet from the XStatic-Leaflet package: "
            "pip install XStatic-Leaflet"
        ) from exc
    base = Path(xs_leaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = base / match.group(1)
        if not img.is_file():
            return match.group(0)
        b64 = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    # a literal "</script" or "</style" would end the inline element early
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    return js, css


def _data_uri(text: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def offline_map(bounds: Sequence[float], **kwargs: Any) -> Any:
    """A folium Map whose only scripts and styles are Leaflet's, inlined as data URIs.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in WGS-84; the map is fitted to them.
    **kwargs
        Passed to ``folium.Map`` (``tiles``, ``attr``, ``zoom_start``, ...).

    Examples
    --------
    >>> m = offline_map((24.93, 60.16, 24.96, 60.17))
    >>> "cdn" in m.get_root().render()
    False
    """
    import folium

    js, css = leaflet_assets()
    kwargs.setdefault("tiles", "OpenStreetMap")
    kwargs.setdefault("attr", settings.ATTRIBUTION_HTML)
    kwargs.setdefault("control_scale", True)
    m = folium.Map(location=None, **kwargs)
    # instance attributes shadow folium's CDN lists (jQuery, Bootstrap: unused here)
    m.default_js = [("leaflet", _data_uri(js, "text/javascript"))]
    m.default_css = [("leaflet_css", _data_uri(css, "text/css"))]
    w, s, e, n = (float(v) for v in bounds)
    if all(np.isfinite([w, s, e, n])):
        m.fit_bounds([[s, w], [n, e]])
    return m


def _legend(title: str, entries: Sequence[tuple[str, str]]) -> Any:
    """A legend box (bottom right) as a branca MacroElement: plain HTML, no script."""
    from branca.element import MacroElement, Template

    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};'
        f'margin-right:6px;border:1px solid #777"></span>{html.escape(label)}</div>'
        for c, label in entries
    )
    box = (
        '<div style="position:absolute;z-index:1000;bottom:24px;right:10px;background:#fff;'
        'padding:6px 8px;border:1px solid #999;border-radius:4px;font:12px sans-serif">'
        f"<b>{html.escape(title)}</b>{rows}</div>"
    )
    element = MacroElement()
    element._template = Template("{% macro html(this, kwargs) %}" + box + "{% endmacro %}")
    return element


def _classify(values: np.ndarray, classes: Sequence[ColourClass], missing: str) -> list[str]:
    out = []
    for v in values:
        colour = missing
        if np.isfinite(v):
            for k, (lo, hi, c) in enumerate(classes):
                if lo <= v < hi or (k == len(classes) - 1 and v == hi):
                    colour = c
                    break
        out.append(colour)
    return out


def explore_frame(
    gdf: Any,
    *,
    column: str | None = None,
    classes: Sequence[ColourClass] = (),
    legend: str | None = None,
    tooltip: Sequence[str] = (),
    colour: str = "#3182bd",
    missing: str = "#bdbdbd",
    label: Callable[[float, float], str] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw a GeoDataFrame on an :func:`offline_map`, coloured by ``column`` in ``classes``.

    Parameters
    ----------
    gdf
        Any CRS (drawn in WGS-84).
    column, classes
        Colour each feature by the class its ``column`` value falls in; without them,
        every feature is ``colour``.
    legend
        Title of the legend of the classes (none without it).
    tooltip
        Columns shown on hover.
    colour, missing
        The single colour, and the colour of NaN values.
    label
        Text of a class in the legend from its bounds (default ``"lo - hi"``).
    **kwargs
        Passed to :func:`offline_map`.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"v": [0.1, 0.9]}, geometry=[shapely.Point(24.9, 60.1)] * 2,
    ...                      crs="EPSG:4326")
    >>> m = explore_frame(g, column="v", classes=[(0, 0.5, "#f00"), (0.5, 1, "#0f0")])
    >>> "#0f0" in m.get_root().render()
    True
    """
    import folium
    import geopandas as gpd

    wgs = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
    w, s, e, n = wgs.total_bounds if len(wgs) else (np.nan,) * 4
    m = offline_map((w, s, e, n), **kwargs)
    fill = (
        _classify(wgs[column].to_numpy(dtype=float), classes, missing)
        if column and classes
        else [colour] * len(wgs)
    )
    props = wgs[[c for c in tooltip if c in wgs.columns]].copy()
    for c in props.columns:  # JSON-safe: numbers rounded, everything else as text
        props[c] = [
            round(float(v), 3) if isinstance(v, float | np.floating) and np.isfinite(v) else str(v)
            for v in props[c]
        ]
    props["_colour"] = fill
    frame = gpd.GeoDataFrame(props, geometry=wgs.geometry.to_numpy(), crs="EPSG:4326")
    data = json.loads(frame.to_json()) if len(wgs) else None
    if data is not None:
        folium.GeoJson(
            data,
            style_function=lambda f: {
                "color": f["properties"]["_colour"],
                "fillColor": f["properties"]["_colour"],
                "weight": 2,
                "fillOpacity": 0.6,
            },
            marker=folium.CircleMarker(radius=4, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=list(props.columns[:-1]))
            if len(props.columns) > 1
            else None,
        ).add_to(m)
    if legend and classes:
        fmt = label or (lambda lo, hi: f"{lo:g} - {hi:g}")
        entries = [(c, fmt(lo, hi)) for lo, hi, c in classes]
        m.get_root().add_child(_legend(legend, [*entries, (missing, "no data")]))
    return m
