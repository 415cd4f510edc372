"""The whole report page (:func:`render_html`) and its file (:func:`write_html`).

Examples
--------
>>> from fifteenmin import run_report
>>> write_html(run_report(), "out/report.html", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from ... import settings
from ..._i18n import labels
from ..._version import __version__
from .._files import write_atomic
from ..fonts import font_face_css
from ..hours_html import opening_hours_section
from .assets import (
    FONT_LOAD_JS,
    OPEN_ANCHOR_JS,
    PAGE_CSS,
    check_self_contained,
    leaflet_assets,
)
from .charts import charts
from .common import esc, item_figures
from .fragment import report_html_fragment
from .labels import LABELS
from .map import map_parts
from .sections import anchors, communities_section, items_section, sites_section

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["render_html", "write_html"]

_SMALL = ' class="fm-small"'


def _nav(L: Mapping[str, str], with_sites: bool) -> str:
    """Links to the page's sections."""
    return "".join(
        f'<a href="#{sid}">{esc(L[key])}</a>'
        for sid, key in (
            ("fm-summary", "nav_summary"),
            ("fm-map", "nav_map"),
            ("fm-charts", "nav_charts"),
            ("fm-items", "nav_items"),
            ("fm-communities", "nav_communities"),
            *((("fm-sites", "nav_sites"),) if with_sites else ()),
            ("fm-method", "nav_method"),
        )
    )


def _figures(report: Results, lang: str, stats: pd.DataFrame) -> str:
    """The charts, each in a ``<figure>`` with its title."""
    return "".join(
        f"<figure{_SMALL if k else ''}><figcaption><b>{esc(t)}</b></figcaption>{svg}</figure>"
        for k, (t, svg) in enumerate(charts(report, lang, stats))
    )


def _head(title: str, lang: str, map_header: str, font_css: str) -> list[str]:
    """From the doctype to ``<body>``: Leaflet, the map's header, the page's CSS and font."""
    js, css = leaflet_assets()
    # the font first, and its loading started at once (FONT_LOAD_JS)
    font = [f"<style>{font_css}</style>"] if font_css else []
    return [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fifteenmin {esc(__version__)}">',
        f"<title>{esc(title)}</title>",
        f"<style>/* Leaflet 1.9.3 (BSD-2-Clause) */\n{css}</style>",
        *font,
        f"<script>{js}{FONT_LOAD_JS if font_css else ''}</script>",
        map_header,
        f"<style>{PAGE_CSS}</style>",
        "</head>",
        "<body>",
    ]


def render_html(
    report: Results,
    *,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> str:
    """The whole report as one self-contained HTML page (works offline, from disk).

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``: labels and item names.
    isochrones
        Optional walking isochrones: a GeoDataFrame with a ``minutes`` column and polygons,
        in any CRS; shown as a toggleable map layer.
    sites
        Optional proposed sites (:func:`fifteenmin.siting.plan_missing`), listed in a
        "where to add facilities" section.

    Returns
    -------
    str
        The page. Leaflet, the charts and (when the page has Chinese text) a font of its
        CJK characters are inlined; no script, stylesheet or font is loaded from elsewhere.

    Raises
    ------
    ValueError
        ``lang`` is not ``"en"``/``"zh"``, or the isochrones lack ``minutes`` or a CRS.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> page = render_html(run_report(), lang="en")  # doctest: +SKIP
    >>> "© OpenStreetMap contributors" in page  # doctest: +SKIP
    True
    """
    L = labels(LABELS, lang)
    links = anchors(report)
    map_header, map_body, map_script = map_parts(report, lang, isochrones, links)
    cat = report.catalogue
    sites_html = (
        ""
        if sites is None or not len(sites)
        else f'<section id="fm-sites"><h2>{esc(L["sites"])}</h2>'
        f"{sites_section(sites, report, lang)}</section>"
    )
    title = f"{L['title']} — {cat.title(lang)}"
    body = [
        '<div class="fm-page fifteenmin-report">',
        "<header>",
        f"<h1>{esc(L['title'])}</h1>",
        f"<p>{esc(cat.title(lang))} · {esc(report.params['osm_file'])}</p>",
        f"<nav>{_nav(L, with_sites=bool(sites_html))}</nav>",
        "</header>",
        "<main>",
        *_sections(report, lang, map_body, links),
        sites_html,
        f'<section id="fm-method"><h2>{esc(L["method"])}</h2><ul>{L["method_body"]}</ul></section>',
        "</main>",
        "<footer>",
        f"<p>{esc(L['footer_data'])}: {settings.ATTRIBUTION_HTML}.</p>",
        f"<p>{esc(L['footer_generated'].format(version=__version__))}</p>",
        "</footer>",
        "</div>",
    ]
    # the embedded CJK font holds exactly the characters of the page
    font_css = font_face_css("\n".join([title, map_header, *body, map_script]))
    page = [
        *_head(title, lang, map_header, font_css),
        *body,
        f"<script>\n{map_script}\n{OPEN_ANCHOR_JS}</script>",
        "</body>",
        "</html>",
        "",
    ]
    text = "\n".join(page)
    check_self_contained(text)
    return text


def _sections(report: Results, lang: str, map_body: str, links: Mapping[str, str]) -> list[str]:
    """The summary, map, charts, items and communities sections of the page."""
    L = labels(LABELS, lang)
    stats = item_figures(report)
    return [
        f'<section id="fm-summary"><h2>{esc(L["summary"])}</h2>',
        report_html_fragment(report, lang),
        "</section>",
        f'<section id="fm-map"><h2>{esc(L["map"])}</h2><p>{esc(L["map_note"])}</p>',
        f'<div class="fm-map-wrap">{map_body}</div>',
        "</section>",
        f'<section id="fm-charts"><h2>{esc(L["charts"])}</h2>',
        f'<div class="fm-charts">{_figures(report, lang, stats)}</div>',
        "</section>",
        f'<section id="fm-items"><h2>{esc(L["items"])}</h2>',
        items_section(report, lang, stats),
        "</section>",
        opening_hours_section(report, lang),  # 开放率: fifteenmin.output.hours_html
        f'<section id="fm-communities"><h2>{esc(L["communities"])}</h2>',
        communities_section(report, lang, links),
        "</section>",
    ]


def write_html(
    report: Results,
    path: str | os.PathLike[str],
    *,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | None = None,
) -> None:
    """Write the report as one self-contained HTML file (atomically).

    The page is rendered completely first, then written to a temporary file in the target
    folder and renamed into place: a failure never leaves a half-written file.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    path
        The ``.html`` file to write; its folder is created if needed.
    lang
        ``"en"`` or ``"zh"``.
    isochrones
        Optional walking isochrones (``minutes`` + polygons, any CRS).

    Raises
    ------
    OutputError
        The folder cannot be created or written.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> write_html(run_report(), "out/report.html", lang="zh")  # doctest: +SKIP
    """
    data = render_html(report, lang=lang, isochrones=isochrones).encode("utf-8")

    def write(p: Path) -> None:
        p.write_bytes(data)

    write_atomic(path, write)
