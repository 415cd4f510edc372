"""The whole report page (:func:`render_html`) and its file (:func:`write_html`).

The page is a list of sections, :data:`SECTIONS`: each is a function of the
:class:`PageContext` (the run, the language, the labels, the item figures, the optional
walking areas and sites, and the layout's shared pieces) that returns a :class:`Section`
(its anchor, its link text in the navigation, its ``<section>`` lines) or ``None`` to be left
out. To add a section, write such a function (its labels in
:mod:`~fifteenmin.output.html.labels`, its CSS in :mod:`~fifteenmin.output.html.assets`)
and insert it into :data:`SECTIONS` where it belongs; the navigation follows. A section
that lists every community should check ``ctx.city``: in the city layout it must stay small
(a roll-up, or data for the page's script), not one block per community.

Examples
--------
>>> from fifteenmin import run_report
>>> write_html(run_report(), "out/report.html", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from ... import settings
from ..._i18n import labels
from ..._version import __version__
from .._files import write_atomic
from ..fonts import font_face_css
from ..hours_html import opening_hours_section, opening_hours_title
from .assets import (
    CITY_CSS,
    FONT_LOAD_JS,
    OPEN_ANCHOR_JS,
    PAGE_CSS,
    check_self_contained,
    leaflet_assets,
)
from .charts import charts
from .city import CityParts, city_parts, use_city_layout
from .common import esc, item_figures
from .fragment import report_html_fragment
from .labels import LABELS
from .map import map_parts
from .sections import anchors, communities_section, items_section, sites_section

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["SECTIONS", "PageContext", "Section", "render_html", "write_html"]

_SMALL = ' class="fm-small"'


@dataclass(frozen=True)
class Section:
    """One section of the page: its anchor, its link in the navigation, its HTML lines."""

    id: str
    #: the text of its link in the page's navigation (plain text)
    nav: str
    #: the ``<section>`` element, as lines
    lines: list[str]


@dataclass(frozen=True)
class PageContext:
    """What every section function reads: the run, the language and the shared pieces."""

    report: Results
    lang: str
    L: Mapping[str, str]
    #: :func:`~fifteenmin.output.html.common.item_figures` of the report
    stats: pd.DataFrame
    isochrones: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    #: the full layout: community id -> anchor of its directory, and the folium map's body
    links: Mapping[str, str]
    map_body: str
    #: the city layout's pieces (``None`` in the full layout)
    city: CityParts | None


def _section(sid: str, title: str, body: list[str]) -> list[str]:
    return [f'<section id="{sid}"><h2>{esc(title)}</h2>{body[0]}', *body[1:], "</section>"]


def summary_section(ctx: PageContext) -> Section:
    """Headline figures, most missing items, data gaps, parameters."""
    body = ["", report_html_fragment(ctx.report, ctx.lang)]
    lines = _section("fm-summary", ctx.L["summary"], body)
    return Section("fm-summary", ctx.L["nav_summary"], lines)


def map_section(ctx: PageContext) -> Section:
    """The map (folium in the full layout; the overview map and details in the city layout)."""
    note = f"<p>{esc(ctx.L['map_note'])}</p>"
    if ctx.city is None:
        body = [note, f'<div class="fm-map-wrap">{ctx.map_body}</div>']
    else:
        body = [note, ctx.city.map_html, ctx.city.detail_html]
    return Section("fm-map", ctx.L["nav_map"], _section("fm-map", ctx.L["map"], body))


def charts_section(ctx: PageContext) -> Section:
    """Residents within each item's tier; the distribution of community scores."""
    figs = "".join(
        f"<figure{_SMALL if k else ''}><figcaption><b>{esc(t)}</b></figcaption>{svg}</figure>"
        for k, (t, svg) in enumerate(charts(ctx.report, ctx.lang, ctx.stats))
    )
    body = ["", f'<div class="fm-charts">{figs}</div>']
    return Section("fm-charts", ctx.L["nav_charts"], _section("fm-charts", ctx.L["charts"], body))


def items_section_(ctx: PageContext) -> Section:
    """One row per catalogue item."""
    body = ["", items_section(ctx.report, ctx.lang, ctx.stats)]
    return Section("fm-items", ctx.L["nav_items"], _section("fm-items", ctx.L["items"], body))


def hours_section_(ctx: PageContext) -> Section | None:
    """Coverage at opening-hours times (开放率; only when the run computed it)."""
    html = opening_hours_section(ctx.report, ctx.lang)
    if not html:
        return None
    return Section("fm-hours", opening_hours_title(ctx.lang), [html])


def communities_section_(ctx: PageContext) -> Section:
    """Every community: pre-rendered directories (full layout) or the searchable table (city)."""
    if ctx.city is None:
        html = communities_section(ctx.report, ctx.lang, ctx.links)
    else:
        html = ctx.city.table_html
    body = ["", html]
    lines = _section("fm-communities", ctx.L["communities"], body)
    return Section("fm-communities", ctx.L["nav_communities"], lines)


def sites_section_(ctx: PageContext) -> Section | None:
    """Where to add facilities (only with proposed sites)."""
    if ctx.sites is None or not len(ctx.sites):
        return None
    html = (
        f'<section id="fm-sites"><h2>{esc(ctx.L["sites"])}</h2>'
        f"{sites_section(ctx.sites, ctx.report, ctx.lang)}</section>"
    )
    return Section("fm-sites", ctx.L["nav_sites"], [html])


def method_section(ctx: PageContext) -> Section:
    """The definitions used."""
    L = ctx.L
    html = (
        f'<section id="fm-method"><h2>{esc(L["method"])}</h2><ul>{L["method_body"]}</ul></section>'
    )
    return Section("fm-method", L["nav_method"], [html])


#: The page's sections, in order. A section is a function of the :class:`PageContext`
#: returning a :class:`Section` (or ``None`` to leave it out); add one here to add it to the
#: page and its navigation.
SECTIONS: list[Callable[[PageContext], Section | None]] = [
    summary_section,
    map_section,
    charts_section,
    items_section_,
    hours_section_,
    communities_section_,
    sites_section_,
    method_section,
]


def _head(title: str, lang: str, map_header: str, font_css: str, page_css: str) -> list[str]:
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
        *([map_header] if map_header else []),
        f"<style>{page_css}</style>",
        "</head>",
        "<body>",
    ]


def render_html(
    report: Results,
    *,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    layout: str = "auto",
    area_folder: str | None = None,
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
        in any CRS; shown as a toggleable map layer (in the city layout, a community's
        walking area is drawn when the community is opened).
    sites
        Optional proposed sites (:func:`fifteenmin.siting.plan_missing`), listed in a
        "where to add facilities" section.
    layout
        ``"full"``: every community's service directory pre-rendered, one map feature per
        facility and walking area; ``"city"``: an overview map (clustered facilities), a
        searchable table and details rendered on demand from compact data
        (:mod:`fifteenmin.output.html.city`); ``"auto"`` (default): the city layout above
        :data:`~fifteenmin.settings.HTML_CITY_MIN_COMMUNITIES` communities.
    area_folder
        The city layout only: the communities' walking areas are not embedded in the page
        but read, when a community is opened, from the files of
        :mod:`~fifteenmin.output.html.area_files` in this folder beside the page (a
        ``/``-separated path relative to it; :func:`~fifteenmin.output.write_report` writes
        them into :data:`~fifteenmin.settings.HTML_AREA_FOLDER`). Rows of ``isochrones``
        with a ``community_id`` are then not read. ``None`` (default): embedded.

    Returns
    -------
    str
        The page. Leaflet, the charts and (when the page has Chinese text) a font of its
        CJK characters are inlined; no script, stylesheet or font is loaded from elsewhere.

    Raises
    ------
    ValueError
        ``lang`` is not ``"en"``/``"zh"``, ``layout`` is unknown, or the isochrones lack
        ``minutes`` or a CRS.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> page = render_html(run_report(), lang="en")  # doctest: +SKIP
    >>> "© OpenStreetMap contributors" in page  # doctest: +SKIP
    True
    """
    L = labels(LABELS, lang)
    city = None
    map_header = map_body = map_script = ""
    links: Mapping[str, str] = {}
    if use_city_layout(report, layout):
        city = city_parts(report, lang, isochrones, area_folder)
    else:
        links = anchors(report)
        map_header, map_body, map_script = map_parts(report, lang, isochrones, links)
    ctx = PageContext(
        report, lang, L, item_figures(report), isochrones, sites, links, map_body, city
    )
    sections = [s for s in (fn(ctx) for fn in SECTIONS) if s is not None]
    cat = report.catalogue
    title = f"{L['title']} — {cat.title(lang)}"
    nav = "".join(f'<a href="#{s.id}">{esc(s.nav)}</a>' for s in sections)
    body = [
        '<div class="fm-page fifteenmin-report">',
        "<header>",
        f"<h1>{esc(L['title'])}</h1>",
        f"<p>{esc(cat.title(lang))} · {esc(report.params['osm_file'])}</p>",
        f"<nav>{nav}</nav>",
        "</header>",
        "<main>",
        *(line for s in sections for line in s.lines),
        "</main>",
        "<footer>",
        f"<p>{esc(L['footer_data'])}: {settings.ATTRIBUTION_HTML}.</p>",
        f"<p>{esc(L['footer_generated'].format(version=__version__))}</p>",
        "</footer>",
        "</div>",
    ]
    if city is None:
        scripts = [f"<script>\n{map_script}\n{OPEN_ANCHOR_JS}</script>"]
    else:
        scripts = [city.data_html, f"<script>{city.script}</script>"]
    # the embedded CJK font holds exactly the characters of the page
    font_css = font_face_css("\n".join([title, map_header, *body, map_script, *scripts]))
    css = PAGE_CSS if city is None else PAGE_CSS + CITY_CSS
    page = [*_head(title, lang, map_header, font_css, css), *body, *scripts]
    page += ["</body>", "</html>", ""]
    text = "\n".join(page)
    check_self_contained(text)
    return text


def write_html(
    report: Results,
    path: str | os.PathLike[str],
    *,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | None = None,
    layout: str = "auto",
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
    layout
        ``"auto"``, ``"full"`` or ``"city"`` (see :func:`render_html`).

    Raises
    ------
    OutputError
        The folder cannot be created or written.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> write_html(run_report(), "out/report.html", lang="zh")  # doctest: +SKIP
    """
    data = render_html(report, lang=lang, isochrones=isochrones, layout=layout).encode("utf-8")

    def write(p: Path) -> None:
        p.write_bytes(data)

    write_atomic(path, write)
