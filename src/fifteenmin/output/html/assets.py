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

import base64
import functools
import re
from pathlib import Path

__all__ = [
    "FRAGMENT_CSS",
    "OPEN_ANCHOR_JS",
    "PAGE_CSS",
    "check_self_contained",
    "leaflet_assets",
]

#: CSS of the summary fragment, scoped to ``.fifteenmin-report`` (it also serves Jupyter).
FRAGMENT_CSS = """
.fifteenmin-report{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",
"PingFang SC","Microsoft YaHei",sans-serif;line-height:1.45;color:#222}
.fifteenmin-report table{border-collapse:collapse;margin:.4em 0 1em}
.fifteenmin-report th,.fifteenmin-report td{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}
.fifteenmin-report th{background:#f4f4f4}
.fifteenmin-report .fm-kpis{display:flex;flex-wrap:wrap;gap:.8em;margin:.5em 0 1em}
.fifteenmin-report .fm-kpi{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;
min-width:11em;background:#fafafa}
.fifteenmin-report .fm-kpi b{display:block;font-size:1.6em}
.fifteenmin-report ul.fm-cols{columns:2 24em;column-gap:2em;margin:.2em 0 .8em}
.fifteenmin-report .fm-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
"""

#: CSS of the whole page (layout, map, legend, charts, community details).
PAGE_CSS = """
html,body{height:auto!important;width:auto!important}
body{margin:0;background:#fff}
.fm-page{max-width:1200px;margin:0 auto;padding:0 1.2em 2em}
.fm-page header h1{margin:.6em 0 .2em;font-size:1.7em}
.fm-page nav a{margin-right:1em}
.fm-page>main>section{margin-top:1.6em}
.fm-page h2{border-bottom:2px solid #1a9641;padding-bottom:.15em}
.fm-map-wrap{position:relative;width:100%;height:620px;border:1px solid #ccc}
.fm-legend{background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;
box-shadow:0 0 6px rgba(0,0,0,.25);line-height:1.5;font-size:12px}
.fm-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;
border:1px solid #777;vertical-align:-1px}
.fifteenmin-report .fm-popup table{border-collapse:collapse;font-size:11px;margin:.3em 0 0}
.fifteenmin-report .fm-popup td{border:none;padding:0 .5em 0 0;vertical-align:top}
.fm-charts{display:flex;flex-wrap:wrap;gap:1.5em}
.fm-charts figure{margin:0;flex:1 1 100%}
.fm-charts figure{max-width:900px}
.fm-charts figure.fm-small{flex:0 1 640px}
.fm-charts svg{width:100%;height:auto}
.fm-page details{border:1px solid #ddd;border-radius:4px;padding:.3em .7em;margin:.5em 0}
.fm-page details summary{cursor:pointer;font-weight:600}
.fm-page .fm-f{font-weight:500}
.fm-directory td:last-child{font-size:.92em}
.fm-page .fm-ok{color:#1a7a37}
.fm-page .fm-bad{color:#b2182b}
.fm-page .fm-gap{color:#777;font-style:italic}
.fm-page .fm-ok,.fm-page .fm-bad,.fm-page .fm-gap{white-space:nowrap}
.fm-page footer{margin-top:2.5em;border-top:1px solid #ccc;padding-top:.6em;font-size:.9em;
color:#555}
"""

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


@functools.lru_cache(maxsize=1)
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
            "the HTML report inlines Leaflet from the XStatic-Leaflet package: "
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


_EXTERNAL = re.compile(
    r"<script[^>]*\bsrc\s*=|<link[^>]*rel=[\"']?stylesheet|@import", flags=re.IGNORECASE
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
