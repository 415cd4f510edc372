"""What the HTML report inlines: its CSS, its small scripts and Leaflet; the self-containment check.

The page must open from disk with no network: Leaflet's JavaScript and CSS come from the
``XStatic-Leaflet`` package (the same Leaflet 1.9.3 folium uses), with its images as data
URIs, and :func:`check_self_contained` refuses a page that would load any script or
stylesheet from elsewhere.

Examples
--------
>>> js, css = leaflet_assets()
>>> "url(images/" in css
False
"""

from __future__ import annotations

import re

from ..._maps import leaflet_assets
from ..fonts import CJK_FAMILY

__all__ = [
    "CITY_CSS",
    "FONT_LOAD_JS",
    "FRAGMENT_CSS",
    "NARROW_PX",
    "OPEN_ANCHOR_JS",
    "PAGE_CSS",
    "check_self_contained",
    "leaflet_assets",
]

#: Up to this width (CSS px) the page uses its phone layout (and the map's layer control
#: starts collapsed).
NARROW_PX = 640

#: CSS of the summary fragment, scoped to ``.fifteenmin-report`` (it also serves Jupyter).
FRAGMENT_CSS = """
.fifteenmin-report{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",
"PingFang SC","Microsoft YaHei",sans-serif;line-height:1.45;color:#222}
.fifteenmin-report table{border-collapse:collapse;margin:.4em 0 1em}
.fifteenmin-report th,.fifteenmin-report td{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top;overflow-wrap:break-word}
.fifteenmin-report th{background:#f4f4f4}
.fifteenmin-report .fm-scroll{max-width:100%;overflow-x:auto}
.fifteenmin-report .fm-scroll>table{margin-bottom:.4em}
.fifteenmin-report .fm-params td{overflow-wrap:anywhere}
.fifteenmin-report .fm-kpis{display:flex;flex-wrap:wrap;gap:.8em;margin:.5em 0 1em}
.fifteenmin-report .fm-kpi{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;
flex:1 1 8em;max-width:16em;background:#fafafa}
.fifteenmin-report .fm-kpi b{display:block;font-size:1.6em}
.fifteenmin-report .fm-note{color:#555;font-size:.92em}
.fifteenmin-report ul.fm-cols{columns:2 20em;column-gap:2em;margin:.2em 0 .8em;padding-left:1.3em}
.fifteenmin-report .fm-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
"""

_NARROW = f"@media (max-width:{NARROW_PX}px)"

#: CSS of the whole page (layout, map, legend, charts, community details; a phone layout).
PAGE_CSS = (
    """
html,body{height:auto!important;width:auto!important}
body{margin:0;background:#fff}
.fm-page{max-width:1200px;margin:0 auto;padding:0 1.2em 2em}
.fm-page header h1{margin:.6em 0 .2em;font-size:1.7em}
.fm-page header p{overflow-wrap:anywhere}
.fm-page nav a{display:inline-block;margin:.1em 1em .1em 0}
.fm-page>main>section{margin-top:1.6em}
.fm-page h2{border-bottom:2px solid #1a9641;padding-bottom:.15em}
.fm-map-wrap{position:relative;width:100%;height:620px;border:1px solid #ccc}
.fm-page .leaflet-container{font-family:inherit}
.fm-legend{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;
box-shadow:0 0 6px rgba(0,0,0,.25);line-height:1.5;font-size:12px}
.fm-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;
border:1px solid #777;vertical-align:-1px}
.fifteenmin-report .fm-popup table{border-collapse:collapse;font-size:11px;margin:.3em 0 0}
.fifteenmin-report .fm-popup td{border:none;padding:0 .5em 0 0;vertical-align:top}
.fm-charts{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.fm-charts figure{margin:0;flex:1 1 320px;min-width:0;max-width:560px}
.fm-charts svg{display:block;width:100%;height:auto}
.fm-page details{border:1px solid #ddd;border-radius:4px;padding:.3em .7em;margin:.5em 0}
.fm-page details summary{cursor:pointer;font-weight:600}
.fm-page details.fm-more{display:inline;border:none;padding:0;margin:0}
.fm-page details.fm-more summary{display:inline;font-weight:400;color:#1a5fb4}
.fm-page details.fm-more[open] summary{display:none}
.fm-page .fm-f{font-weight:500}
.fm-directory td:last-child{font-size:.92em}
.fm-page .fm-ok{color:#1a7a37}
.fm-page .fm-bad{color:#b2182b}
.fm-page .fm-gap{color:#777;font-style:italic}
.fm-page .fm-ok,.fm-page .fm-bad,.fm-page .fm-gap{white-space:nowrap}
.fm-page footer{margin-top:2.5em;border-top:1px solid #ccc;padding-top:.6em;font-size:.9em;
color:#555}
.fm-page .fm-communities,.fm-page table.fm-items{min-width:36em}
.fm-page .fm-communities td:nth-child(n+7){min-width:9em}
"""
    + _NARROW
    + """{
.fm-page{padding:0 .75em 1.5em}
.fm-page header h1{font-size:1.35em}
.fm-page h2{font-size:1.3em}
.fm-map-wrap{height:480px}
.fm-legend{font-size:10px;line-height:1.3;padding:4px 6px}
.fm-legend i{width:10px;height:9px;margin-right:4px}
.fm-page .leaflet-control-attribution{font-size:9px}
.fifteenmin-report th,.fifteenmin-report td{padding:.2em .4em}
.fm-page .fm-scroll{font-size:.92em}
.fm-page details{padding:.3em .4em}
.fm-page .fm-directory,.fm-page .fm-directory thead,.fm-page .fm-directory tbody{display:block}
.fm-page .fm-directory tr{display:grid;grid-template-columns:minmax(0,1fr) auto auto auto;
column-gap:.6em;border-bottom:1px solid #ddd;padding:.25em 0}
.fm-page .fm-directory th,.fm-page .fm-directory td{border:none;padding:0}
.fm-page .fm-directory th{background:none;font-size:.85em;color:#555}
.fm-page .fm-directory tr>:last-child{grid-column:1/-1}
.fm-page .fm-communities{min-width:0}
.fm-page .fm-communities,.fm-page .fm-communities tbody{display:block}
.fm-page .fm-communities thead{display:none}
.fm-page .fm-communities tr{display:block;border-bottom:1px solid #ddd;padding:.35em 0}
.fm-page .fm-communities td{display:block;border:none;padding:0;text-align:left}
.fm-page .fm-communities td:first-child{font-weight:600}
.fm-page .fm-communities td:nth-child(n+3):nth-child(-n+6){display:inline-block;
margin-right:1.4em;vertical-align:top}
.fm-page .fm-communities td[data-label]::before{content:attr(data-label);display:block;
color:#666;font-size:.85em;font-weight:400}
.fm-page .fm-communities td:nth-child(2){font-size:.85em;color:#555}
.fm-page .fm-communities td:nth-child(2)::before{display:inline;margin-right:.4em}
}
"""
)

#: CSS of the city layout (:mod:`fifteenmin.output.html.city`), after :data:`PAGE_CSS`.
CITY_CSS = (
    """
.fm-city-map{position:absolute;top:0;right:0;bottom:0;left:0}
.fm-city-map .leaflet-overlay-pane>svg{pointer-events:none}
.fm-label{font-weight:600}
.fm-cluster{background:rgba(49,130,189,.55);border:1px solid rgba(255,255,255,.8);
border-radius:50%;color:#fff;font:600 11px/1 system-ui,sans-serif;text-shadow:0 0 2px #000;
display:flex;align-items:center;justify-content:center}
.fm-detail{border:1px solid #ccc;border-radius:4px;padding:.3em .9em;margin:.8em 0}
.fm-detail h3{margin:.4em 0}
.fm-search input{font:inherit;padding:.35em .6em;width:24em;max-width:100%;box-sizing:border-box}
.fm-city-table th{cursor:pointer;user-select:none}
.fm-city-table th[aria-sort=ascending]::after{content:" \\25B2";font-size:.75em}
.fm-city-table th[aria-sort=descending]::after{content:" \\25BC";font-size:.75em}
.fm-city-table td:first-child a{cursor:pointer}
"""
    + _NARROW
    + """{
.fm-search input{width:100%}
.fm-detail{padding:.3em .5em}
}
"""
)

#: Opens the ``<details>`` of a community when the page is opened at (or jumps to) its anchor.
OPEN_ANCHOR_JS = """
(function () {
  function openTarget() {
    var id = decodeURIComponent((location.hash || "").slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
"""

#: Starts loading the embedded CJK font from the page's head, before any text is laid out:
#: Chromium keeps drawing boxes for text it laid out while the font was still loading.
FONT_LOAD_JS = f"""
if (document.fonts) {{ document.fonts.load('1em "{CJK_FAMILY}"'); }}
"""


_EXTERNAL = re.compile(
    r"<script[^>]*\bsrc\s*=|<link[^>]*rel=[\"']?stylesheet|@import"
    r"|url\(\s*[\"']?(?:https?:)?//",  # a font or an image from elsewhere
    flags=re.IGNORECASE,
)


def check_self_contained(text: str) -> None:
    """Raise if the page would load an external script or stylesheet.

    Raises
    ------
    RuntimeError
        Quoting the offending markup.

    Examples
    --------
    >>> check_self_contained("<script>var a = 1;</script>")
    >>> check_self_contained('<script src="https://cdn/x.js"></script>')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: the HTML report would load an external script or stylesheet ...
    """
    match = _EXTERNAL.search(text)
    if match:
        raise RuntimeError(
            "the HTML report would load an external script or stylesheet "
            f"({text[match.start() : match.start() + 120]!r}); it must be self-contained. "
            "This folium version adds resources fifteenmin does not inline."
        )
