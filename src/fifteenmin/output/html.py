"""A single self-contained HTML page of a coverage report.

:func:`write_html` writes ``report.html``: one file that opens in any browser from disk, with
no server and no internet connection (planners' intranets are often offline). Leaflet's
JavaScript and CSS (from the ``XStatic-Leaflet`` package, the same Leaflet 1.9.3 folium uses)
and every chart are inlined; only the OpenStreetMap background tiles come from the internet
and simply stay blank offline, while every vector layer still renders.

The page holds:

* a summary (:func:`report_html_fragment`): coverage rates, communities, the items most
  often missing, data gaps, parameters and network size;
* an interactive map (folium): communities coloured by score with a legend, facilities in
  one layer per catalogue category, optional walking isochrones, a layer control;
* charts (matplotlib, inline SVG): residents within each item's tier, and the distribution
  of community scores; the same figures as a table;
* for every community its score, missing items and service directory
  (:func:`service_directory`): every facility within each item's tier, with walking minutes;
* the definitions used, and the OpenStreetMap attribution (ODbL).

Every string that comes from OpenStreetMap or from a user file (community, facility and
catalogue names, tags) is escaped with :func:`html.escape`, in the page and in the map's
popups, tooltips and layer names alike. The output is deterministic: the same report gives
the same bytes (folium's random element ids are replaced by a counter, everything is sorted,
coordinates are rounded to 6 decimals).

Examples
--------
>>> from fifteenmin import run_report
>>> from fifteenmin.html_report import write_html
>>> rep = run_report()  # doctest: +SKIP
>>> write_html(rep, "out/report.html", lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import html
import io
import itertools
import json
import os
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._version import __version__
from ..coverage import item_stats
from ..directory import facility_frame, service_directory
from ..facilities import facility_counts

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = [
    "SCORE_CLASSES",
    "render_html",
    "report_html_fragment",
    "write_html",
]

#: Score classes of the map: ``(lower, upper, colour)``; the last class includes 1.0
#: (ColorBrewer RdYlGn, 5 classes).
SCORE_CLASSES: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.2, "#d7191c"),
    (0.2, 0.4, "#fdae61"),
    (0.4, 0.6, "#ffffbf"),
    (0.6, 0.8, "#a6d96a"),
    (0.8, 1.0, "#1a9641"),
)
_NO_RESIDENTS_COLOUR = "#bdbdbd"
_CATEGORY_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#393b79",
    "#ff7f0e",
    "#e377c2",
    "#bcbd22",
    "#2ca02c",
    "#7f7f7f",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
)
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
_OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
_ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"
_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "15-minute community service coverage",
        "nav_summary": "Summary",
        "nav_map": "Map",
        "nav_charts": "Charts",
        "nav_items": "Items",
        "nav_communities": "Communities",
        "nav_method": "Definitions",
        "nav_sites": "Where to add",
        "sites": "Where to add facilities (怎么补)",
        "sites_note": (
            "For every required item that some community misses, the network node where one new "
            "facility would bring the most resident weight not yet within the item's tier "
            "(greedy maximal coverage on the walking network; existing facilities count as "
            "covering). A starting point for planners, not a decision: check land and buildings."
        ),
        "site_node": "OSM node",
        "site_gain": "Resident weight gained",
        "site_share": "Share within tier after",
        "site_helped": "Communities helped",
        "summary": "Summary",
        "coverage_rate": "Coverage rate (communities meeting every required item)",
        "coverage_rate_weighted": "Coverage rate, resident-weighted",
        "communities": "Communities",
        "mean_score": "Mean community score",
        "facilities": "Facilities matched",
        "origins": "Resident origin points",
        "most_missing": "Items most often missing",
        "missing_in": "missing in {n} of {total} communities",
        "none_missing": "No required item is missing in any community.",
        "data_gaps": "Data gaps",
        "no_facility": "Items with no facility anywhere in the study area",
        "none": "none",
        "sparse": "Items whose OSM tagging is often sparse (low figures may be a data gap)",
        "n_facilities": "{n} facilities",
        "parameters": "Parameters",
        "catalogue": "Catalogue",
        "speed": "Walking speed",
        "threshold": "Threshold (share of residents within the tier)",
        "cutoff": "Search cutoff",
        "osm_file": "OSM file",
        "community_source": "Communities from",
        "network": "Walking network",
        "network_size": "{nodes} nodes, {edges} edges, {km} km of streets",
        "map": "Map",
        "map_note": (
            "Background tiles load only when online; every layer below works offline. "
            "Click a community or a facility for details."
        ),
        "layer_communities": "Communities (score)",
        "layer_isochrones": "Walking isochrones",
        "legend_title": "Community score",
        "no_residents": "no resident points",
        "charts": "Charts",
        "chart_items": "Share of residents within each item's tier",
        "chart_items_x": "share of residents within the tier",
        "chart_required": "required",
        "chart_optional": "optional",
        "chart_threshold": "threshold",
        "chart_scores": "Distribution of community scores",
        "chart_scores_x": "score (share of required items met)",
        "chart_scores_y": "communities",
        "items": "Items",
        "item": "Item",
        "category": "Category",
        "tier": "Tier",
        "required": "Required",
        "yes": "yes",
        "no": "no",
        "residents_within": "Residents within tier",
        "communities_met": "Communities meeting it",
        "community": "Community",
        "id": "Id",
        "score": "Score",
        "met": "Met",
        "residents_share": "Share of residents",
        "missing": "Missing required items",
        "directory": "Service directory",
        "directory_note": (
            "Every facility within the item's tier of at least one home of the community; "
            "minutes from the nearest home, and the share of the community's residents "
            "within the tier of that facility."
        ),
        "facilities_within": "Facilities within the tier",
        "no_facility_within": "none within {tier} min",
        "minutes_short": "min",
        "optional": "optional",
        "unnamed": "unnamed",
        "popup_items": "Items",
        "popup_community": "Community",
        "popup_missing": "Missing",
        "popup_gaps": "Data gaps",
        "data_gaps_col": "Required items with a data gap",
        "status_no_data": "no data",
        "popup_directory": "Service directory",
        "iso_minutes": "within {m} min",
        "method": "Definitions",
        "method_body": (
            "<li><b>Walking time</b>: along the OSM walking network at the walking speed, "
            "plus the straight-line distance from a home or facility to the nearest street.</li>"
            "<li><b>Residents</b>: residential buildings of the community weighted by floor "
            "area, else points along its streets, else its representative point.</li>"
            "<li><b>Share within tier</b>: the share of the community's residents (by weight) "
            "whose walk to the nearest facility of the item takes at most the item's tier.</li>"
            "<li><b>Met</b>: the share within tier is at least the threshold.</li>"
            "<li><b>Score</b>: the share of the catalogue's required items that are met.</li>"
            "<li><b>Coverage rate</b>: the share of communities that meet every required item; "
            "resident-weighted: the same, weighted by the communities' residents.</li>"
            "<li><b>Service directory</b>: for every item, every facility within the item's "
            "tier of at least one home of the community; minutes from the nearest home, and "
            "the share of the community's residents within the tier of that facility.</li>"
        ),
        "footer_data": "Map data",
        "footer_generated": "Generated by fifteenmin {version}.",
    },
    "zh": {
        "title": "一刻钟社区服务圈覆盖报告",
        "nav_summary": "概要",
        "nav_map": "地图",
        "nav_charts": "图表",
        "nav_items": "服务项目",
        "nav_communities": "社区",
        "nav_method": "指标说明",
        "nav_sites": "怎么补",
        "sites": "怎么补：新增设施选址建议",
        "sites_note": (
            "对每个有社区未达标的必需项目，给出新增一处设施后能使最多尚未覆盖的居民进入该项目步行时限的"
            "路网节点（基于步行网络的贪心最大覆盖；现有设施视为已覆盖）。仅供规划参考，需核实用地与建筑。"
        ),
        "site_node": "OSM 节点",
        "site_gain": "新增覆盖居民权重",
        "site_share": "新增后时限内比例",
        "site_helped": "受益社区数",
        "summary": "概要",
        "coverage_rate": "覆盖率(满足全部必备项目的社区占比)",
        "coverage_rate_weighted": "覆盖率(按居民加权)",
        "communities": "社区数",
        "mean_score": "社区平均得分",
        "facilities": "匹配设施数",
        "origins": "居民出发点数",
        "most_missing": "最常缺失的项目",
        "missing_in": "{total} 个社区中 {n} 个缺失",
        "none_missing": "没有社区缺失任何必备项目。",
        "data_gaps": "数据缺口",
        "no_facility": "研究范围内没有任何设施的项目",
        "none": "无",
        "sparse": "OSM 标注通常较少的项目(数值偏低可能是数据缺口)",
        "n_facilities": "{n} 处设施",
        "parameters": "参数",
        "catalogue": "服务目录",
        "speed": "步行速度",
        "threshold": "阈值(时限内居民占比)",
        "cutoff": "搜索上限",
        "osm_file": "OSM 文件",
        "community_source": "社区来源",
        "network": "步行路网",
        "network_size": "{nodes} 个节点,{edges} 条边,道路总长 {km} 公里",
        "map": "地图",
        "map_note": "底图瓦片仅在联网时加载;以下各图层离线也可使用。点击社区或设施查看详情。",
        "layer_communities": "社区(得分)",
        "layer_isochrones": "步行等时圈",
        "legend_title": "社区得分",
        "no_residents": "无居民点",
        "charts": "图表",
        "chart_items": "各项目时限内可达的居民占比",
        "chart_items_x": "时限内居民占比",
        "chart_required": "必备",
        "chart_optional": "可选",
        "chart_threshold": "阈值",
        "chart_scores": "社区得分分布",
        "chart_scores_x": "得分(已满足的必备项目占比)",
        "chart_scores_y": "社区数",
        "items": "服务项目",
        "item": "项目",
        "category": "类别",
        "tier": "时限",
        "required": "必备",
        "yes": "是",
        "no": "否",
        "residents_within": "时限内居民占比",
        "communities_met": "满足的社区数",
        "community": "社区",
        "id": "编号",
        "score": "得分",
        "met": "已满足",
        "residents_share": "居民占比",
        "missing": "缺失的必备项目",
        "directory": "服务设施清单",
        "directory_note": (
            "列出在项目时限内至少能从社区一处住宅步行到达的全部设施;"
            "分钟数为从最近住宅出发的步行时间,百分比为在该设施时限内的社区居民占比。"
        ),
        "facilities_within": "时限内的设施",
        "no_facility_within": "{tier} 分钟内没有",
        "minutes_short": "分钟",
        "optional": "可选",
        "unnamed": "未命名",
        "popup_items": "项目",
        "popup_community": "社区",
        "popup_missing": "缺失",
        "popup_gaps": "数据缺口",
        "data_gaps_col": "存在数据缺口的必备项目",
        "status_no_data": "无数据",
        "popup_directory": "服务设施清单",
        "iso_minutes": "{m} 分钟内",
        "method": "指标说明",
        "method_body": (
            "<li><b>步行时间</b>:沿 OSM 步行路网按步行速度计算,"
            "另加住宅或设施到最近道路的直线距离。</li>"
            "<li><b>居民</b>:社区内的住宅建筑(按建筑面积加权);没有时用社区内道路上的点,"
            "再没有时用社区的代表点。</li>"
            "<li><b>时限内居民占比</b>:到该项目最近设施的步行时间不超过项目时限的居民"
            "(按权重)所占比例。</li>"
            "<li><b>满足</b>:时限内居民占比不低于阈值。</li>"
            "<li><b>得分</b>:已满足的必备项目占全部必备项目的比例。</li>"
            "<li><b>覆盖率</b>:满足全部必备项目的社区占比;按居民加权时以各社区居民权重计算。</li>"
            "<li><b>服务设施清单</b>:每个项目在其时限内至少能从社区一处住宅步行到达的全部设施;"
            "分钟数为从最近住宅出发的步行时间,百分比为在该设施时限内的社区居民占比。</li>"
        ),
        "footer_data": "地图数据",
        "footer_generated": "由 fifteenmin {version} 生成。",
    },
}

_FRAGMENT_CSS = """
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

_PAGE_CSS = """
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


def _labels(lang: str) -> dict[str, str]:
    if lang not in _LABELS:
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    return _LABELS[lang]


def _e(value: Any) -> str:
    """Escape any value for HTML text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _ul(items: Iterable[str]) -> str:
    """A ``<ul>`` of already-escaped HTML items (in columns)."""
    return '<ul class="fm-cols">' + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


def _split_ids(value: Any) -> list[str]:
    """The item ids of a ``;``-joined cell (``missing``, ``data_gaps``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [v for v in str(value).split(";") if v]


def _pct(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.0%}"


# ---------------------------------------------------------------------------------------------
# Leaflet, inlined
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS (images inlined as data URIs) from the XStatic-Leaflet package."""
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


# ---------------------------------------------------------------------------------------------
# Service directory
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Names, figures
# ---------------------------------------------------------------------------------------------


def _display_name(name: Any, tags: Any, lang: str) -> str:
    """A facility's name, with its name in the report's language when the tags have one."""
    base = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    alt = ""
    if isinstance(tags, Mapping):
        keys = ("name:zh", "name:zh-Hans") if lang == "zh" else ("name:en",)
        for key in keys:
            if tags.get(key):
                alt = str(tags[key])
                break
    if alt and alt != base:
        return f"{alt} ({base})" if base else alt
    return base


def _item_stats(report: Results) -> pd.DataFrame:
    counts = facility_counts(report.facilities, report.catalogue)
    per_item = dict(zip(counts["item_id"], counts["facilities"].astype(int), strict=True))
    return item_stats(report.coverage, report.catalogue.items, per_item)


def _missing_counts(report: Results) -> list[tuple[str, int]]:
    order = {it.id: k for k, it in enumerate(report.catalogue.items)}
    counts: dict[str, int] = {}
    for m in report.coverage.communities["missing"]:
        for item_id in _split_ids(m):
            counts[item_id] = counts.get(item_id, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], 1 << 30), kv[0]))


def _item_name(report: Results, item_id: str, lang: str) -> str:
    try:
        return report.catalogue[item_id].name(lang)
    except KeyError:
        return item_id


def _score_colour(score: float, weight: float) -> str:
    if not (np.isfinite(weight) and weight > 0) or not np.isfinite(score):
        return _NO_RESIDENTS_COLOUR
    for lo, hi, colour in SCORE_CLASSES:
        if lo <= score < hi:
            return colour
    return SCORE_CLASSES[-1][2]


def _round_geom(geom: Any) -> dict[str, Any]:
    g = shapely.transform(geom, lambda c: np.round(c, 6))
    return shapely.geometry.mapping(g)


def _json_geom(geom: Any) -> Any:
    """A GeoJSON geometry as plain lists (tuples become lists, for stable JSON)."""
    return json.loads(json.dumps(_round_geom(geom)))


# ---------------------------------------------------------------------------------------------
# Summary fragment
# ---------------------------------------------------------------------------------------------


def report_html_fragment(report: Results, lang: str = "en") -> str:
    """The summary section of the report as an HTML fragment (e.g. for Jupyter).

    Coverage rates (plain and resident-weighted), the number of communities, the items most
    often missing, data gaps (items with no facility, items whose OSM tagging is often
    sparse), the parameters and the network size. The fragment carries its own CSS, scoped
    to ``.fifteenmin-report``.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        A ``<div class="fifteenmin-report">`` element.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> frag = report_html_fragment(run_report(), lang="zh")  # doctest: +SKIP
    >>> frag.startswith('<div class="fifteenmin-report"')  # doctest: +SKIP
    True
    """
    L = _labels(lang)
    s = report.coverage.summary
    n_com = int(s.get("communities", len(report.coverage.communities)))
    params = report.params
    cat = report.catalogue
    net = report.network
    stats = _item_stats(report).set_index("item_id")

    kpis = [
        (L["coverage_rate"], _pct(float(s.get("coverage_rate", 0.0)))),
        (L["coverage_rate_weighted"], _pct(s.get("coverage_rate_weighted"))),
        (L["communities"], f"{n_com:,}"),
        (L["mean_score"], _pct(float(s.get("mean_score", 0.0)))),
        (L["facilities"], f"{len(report.facilities):,}"),
        (L["origins"], f"{len(report.residents):,}"),
    ]
    out = [
        '<div class="fifteenmin-report">',
        f"<style>{_FRAGMENT_CSS}</style>",
        '<div class="fm-kpis">',
    ]
    out += [f'<div class="fm-kpi"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in kpis]
    out.append("</div>")

    # items most often missing
    out.append(f"<h3>{_e(L['most_missing'])}</h3>")
    missing = _missing_counts(report)[:10]
    if missing:
        out.append("<ol>")
        for item_id, n in missing:
            out.append(
                f"<li>{_e(_item_name(report, item_id, lang))}: "
                f"{_e(L['missing_in'].format(n=n, total=n_com))}</li>"
            )
        out.append("</ol>")
    else:
        out.append(f"<p>{_e(L['none_missing'])}</p>")

    # data gaps
    out.append(f"<h3>{_e(L['data_gaps'])}</h3>")
    zero = [it for it in cat.items if int(stats.loc[it.id, "facilities"]) == 0]
    out.append(f"<p>{_e(L['no_facility'])}:</p>")
    out.append(
        _ul(
            _e(it.name(lang)) + ("" if it.required else f" <small>({_e(L['optional'])})</small>")
            for it in zero
        )
        if zero
        else f"<p>{_e(L['none'])}</p>"
    )
    sparse = [it for it in cat.items if it.osm_sparse]
    out.append(f"<p>{_e(L['sparse'])}:</p>")
    out.append(
        _ul(
            f"{_e(it.name(lang))}: "
            f"{_e(L['n_facilities'].format(n=int(stats.loc[it.id, 'facilities'])))}"
            for it in sparse
        )
        if sparse
        else f"<p>{_e(L['none'])}</p>"
    )

    # parameters and network
    speed = float(report.config.speed)
    threshold = report.threshold
    src = report.communities["source"] if "source" in report.communities.columns else []
    sources = ", ".join(sorted({str(v) for v in src}))
    ns = net.summary()
    rows = [
        (L["catalogue"], f"{cat.title(lang)} ({cat.name})"),
        (L["speed"], f"{speed:.2f} m/s ({speed * 3.6:.1f} km/h)"),
        (L["threshold"], f"{threshold:.0%}"),
        (L["cutoff"], f"{float(params['cutoff_minutes']):g} {L['minutes_short']}"),
        (L["osm_file"], str(params["osm_file"])),
        (L["community_source"], sources),
        (
            L["network"],
            L["network_size"].format(
                nodes=f"{ns['nodes']:,}", edges=f"{ns['edges']:,}", km=f"{ns['length_km']:,.1f}"
            ),
        ),
    ]
    out.append(f"<h3>{_e(L['parameters'])}</h3><table><tbody>")
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</tbody></table></div>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------

_SVG_RC = {
    "svg.fonttype": "none",  # text stays text: the browser draws CJK with its own fonts
    "svg.hashsalt": "fifteenmin",  # deterministic ids
    "font.size": 9,
    "font.family": ["DejaVu Sans", "sans-serif"],
}


def _svg(fig: Any, prefix: str) -> str:
    buf = io.StringIO()
    import matplotlib as mpl

    # text as SVG text, not glyph paths: the browser draws it with its own fonts, so Chinese
    # labels render even where matplotlib has no CJK font
    with warnings.catch_warnings(), mpl.rc_context({"svg.fonttype": "none"}):
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from.*")
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.DOTALL)
    # ids unique across the page
    ids = sorted(set(re.findall(r'\bid="([^"]+)"', svg)), key=len, reverse=True)
    for i in ids:
        svg = svg.replace(f'id="{i}"', f'id="{prefix}-{i}"').replace(f"#{i}", f"#{prefix}-{i}")
    # responsive: drop the fixed size, keep the viewBox
    svg = re.sub(r'(<svg[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return svg.strip()


def _charts(report: Results, lang: str) -> list[tuple[str, str]]:
    """Two charts as (title, inline SVG)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    L = _labels(lang)
    cat = report.catalogue
    stats = _item_stats(report)
    threshold = report.threshold
    out: list[tuple[str, str]] = []
    with matplotlib.rc_context(_SVG_RC):
        # residents within each item's tier
        items = list(cat.items)
        n = max(len(items), 1)
        fig = Figure(figsize=(9.0, 1.0 + 0.2 * n))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        share = np.nan_to_num(stats["share_within_tier"].to_numpy(dtype=np.float64), nan=0.0)
        colours = ["#2b8cbe" if it.required else "#a6bddb" for it in items]
        y = np.arange(len(items))
        ax.barh(y, share, color=colours, height=0.75)
        for yi, v in zip(y, share, strict=True):
            ax.text(v + 0.01, yi, f"{v:.0%}", va="center", fontsize=7, color="#333")
        ax.set_yticks(y, [f"{it.name(lang)} ({it.tier_minutes:g}′)" for it in items])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.08)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.axvline(threshold, color="#444", linestyle="--", linewidth=1)
        ax.set_xlabel(L["chart_items_x"])
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="#2b8cbe", label=L["chart_required"]),
                Patch(color="#a6bddb", label=L["chart_optional"]),
                matplotlib.lines.Line2D(
                    [], [], color="#444", linestyle="--", label=L["chart_threshold"]
                ),
            ],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=3,
            frameon=False,
            fontsize=8,
        )
        ax.set_ylim(len(items) - 0.5, -0.5)
        ax.spines[["top", "right"]].set_visible(False)
        out.append((L["chart_items"], _svg(fig, "fm-c1")))

        # distribution of community scores
        fig = Figure(figsize=(6.0, 3.6))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        scores = report.coverage.communities["score"].to_numpy(dtype=np.float64)
        edges = np.linspace(0.0, 1.0, 11)
        counts, _ = np.histogram(scores[np.isfinite(scores)], bins=edges)
        mids = (edges[:-1] + edges[1:]) / 2
        ax.bar(
            mids,
            counts,
            width=0.095,
            color=[_score_colour(m, 1.0) for m in mids],
            edgecolor="#555",
            linewidth=0.6,
        )
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel(L["chart_scores_x"])
        ax.set_ylabel(L["chart_scores_y"])
        ax.spines[["top", "right"]].set_visible(False)
        out.append((L["chart_scores"], _svg(fig, "fm-c2")))
    return out


# ---------------------------------------------------------------------------------------------
# Map
# ---------------------------------------------------------------------------------------------

_ID_LOCK = threading.Lock()


@contextmanager
def _deterministic_ids() -> Iterator[None]:
    """Give folium/branca elements sequential ids instead of random ones (thread-safe here)."""
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


_BIND_JS = """function(feature, layer) {
    var p = feature.properties;
    if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 380, maxHeight: 320}); }
    if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}"""

_POINT_JS = """function(feature, latlng) {
    return L.circleMarker(latlng, feature.properties.style);
}"""


def _community_features(
    report: Results, lang: str, anchors: Mapping[str, str]
) -> list[dict[str, Any]]:
    L = _labels(lang)
    com = report.coverage.communities.to_crs("EPSG:4326")
    com = com.assign(cid_key=com["community_id"].astype(str)).sort_values("cid_key", kind="stable")
    feats = []
    for row in com.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        cid = str(row.community_id)
        name = str(row.community_name) if isinstance(row.community_name, str) else ""
        score = float(row.score)
        weight = float(row.weight)
        colour = _score_colour(score, weight)
        missing = _split_ids(row.missing)
        gaps = _split_ids(getattr(row, "data_gaps", None))
        miss_txt = ", ".join(_e(_item_name(report, m, lang)) for m in missing) or _e(L["none"])
        popup = (
            f'<div class="fm-popup"><b>{_e(name or cid)}</b><br>'
            f"<small>{_e(cid)}</small><br>"
            f"{_e(L['score'])}: <b>{_e(_pct(score))}</b> "
            f"({int(row.n_met)}/{int(row.n_required)})<br>"
            f"{_e(L['popup_missing'])}: {miss_txt}<br>"
            + (
                f"{_e(L['popup_gaps'])}: {', '.join(_e(_item_name(report, g, lang)) for g in gaps)}"
                "<br>"
                if gaps
                else ""
            )
            + f'<a href="#{_e(anchors.get(cid, ""))}">{_e(L["popup_directory"])}</a></div>'
        )
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "style": {
                        "color": "#333333",
                        "weight": 1.2,
                        "fillColor": colour,
                        "fillOpacity": 0.55,
                    },
                    "popup": popup,
                    "tooltip": f"{_e(name or cid)}: {_e(_pct(score))}",
                },
                "geometry": _json_geom(geom),
            }
        )
    return feats


def _facility_layers(report: Results, lang: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Per category (catalogue order): (label, colour, point features)."""
    L = _labels(lang)
    cat = report.catalogue
    fac = facility_frame(report)
    if not len(fac):
        return []
    item_of = {it.id: it for it in cat.items}
    cat_order = [c.id for c in cat.categories]
    for it in cat.items:
        if it.category not in cat_order:
            cat_order.append(it.category)
    colour_of = {c: _CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)] for k, c in enumerate(cat_order)}
    item_rank = {it.id: k for k, it in enumerate(cat.items)}

    geoms = fac.geometry.to_crs("EPSG:4326") if fac.crs is not None else fac.geometry
    pts = shapely.point_on_surface(np.asarray(geoms.values, dtype=object))
    df = pd.DataFrame(
        {
            "row": np.arange(len(fac)),
            "item_id": fac["item_id"].astype(str).to_numpy(),
            "osm_type": fac["osm_type"].astype(str).to_numpy(),
            "osm_id": fac["osm_id"].astype(str).to_numpy(),
        }
    )
    df["category"] = [item_of[i].category if i in item_of else "" for i in df["item_id"].to_numpy()]
    df["rank"] = [item_rank.get(i, 1 << 30) for i in df["item_id"].to_numpy()]
    df = df[df["category"] != ""]
    layers = []
    for c in cat_order:
        sub = df[df["category"] == c]
        if not len(sub):
            continue
        feats = []
        groups = sub.sort_values(["osm_type", "osm_id", "rank", "row"], kind="stable").groupby(
            ["osm_type", "osm_id"], sort=True
        )
        for (otype, oid), g in groups:
            first = int(g["row"].iloc[0])
            pt = pts[first]
            if pt is None or shapely.is_empty(pt):
                continue
            tags = fac["tags"].iloc[first]
            tags = tags if isinstance(tags, Mapping) else {}
            name = _display_name(fac["name"].iloc[first], tags, lang)
            item_names = [item_of[i].name(lang) for i in g["item_id"].to_numpy()]
            tag_rows = "".join(
                f"<tr><td>{_e(k)}</td><td>{_e(tags[k])}</td></tr>"
                for k in _POPUP_TAGS
                if k in tags and str(tags[k]) != ""
            )
            shown = name or f"({L['unnamed']})"
            popup = (
                f'<div class="fm-popup"><b>{_e(shown)}</b><br>'
                f"{_e(L['popup_items'])}: {_e(', '.join(item_names))}<br>"
                f"<small>OSM {_e(otype)}/{_e(oid)}</small>"
                + (f"<table>{tag_rows}</table>" if tag_rows else "")
                + "</div>"
            )
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "style": {
                            "radius": 5,
                            "color": "#ffffff",
                            "weight": 1,
                            "fillColor": colour_of[c],
                            "fillOpacity": 0.9,
                        },
                        "popup": popup,
                        "tooltip": f"{_e(name or item_names[0])} · {_e(item_names[0])}",
                    },
                    "geometry": _json_geom(pt),
                }
            )
        cname = cat.category(c).name(lang) if c in {x.id for x in cat.categories} else c
        label = f'<span style="color:{colour_of[c]}">&#9679;</span> {_e(cname)} ({len(feats):,})'
        layers.append((label, colour_of[c], feats))
    return layers


def _isochrone_features(isochrones: gpd.GeoDataFrame, lang: str) -> list[dict[str, Any]]:
    L = _labels(lang)
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
    # largest first, so that the smaller areas lie on top
    order = sorted(range(len(iso)), key=lambda i: (-iso["_m"].iloc[i], i))
    feats = []
    for i in order:
        geom = iso.geometry.iloc[i]
        if geom is None or geom.is_empty:
            continue
        m = float(iso["_m"].iloc[i])
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "style": {
                        "color": colour[m],
                        "weight": 2,
                        "dashArray": "4 3",
                        "fillColor": colour[m],
                        "fillOpacity": 0.12,
                    },
                    "tooltip": _e(L["iso_minutes"].format(m=f"{m:g}")),
                },
                "geometry": _json_geom(geom),
            }
        )
    return feats


def _bounds(report: Results, isochrones: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    boxes = []
    for g in (report.coverage.communities, report.facilities):
        if len(g) and g.crs is not None:
            boxes.append(g.to_crs("EPSG:4326").total_bounds)
    if isochrones is not None and len(isochrones) and isochrones.crs is not None:
        boxes.append(isochrones.to_crs("EPSG:4326").total_bounds)
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        return None
    b = np.array(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    return [[round(float(s), 6), round(float(w), 6)], [round(float(n), 6), round(float(e), 6)]]


def _map_parts(
    report: Results, lang: str, isochrones: gpd.GeoDataFrame | None, anchors: Mapping[str, str]
) -> tuple[str, str, str]:
    """The folium map as (header HTML, body HTML, script), with no external resources."""
    import folium
    from folium.utilities import JsCode

    L = _labels(lang)
    iso_feats = _isochrone_features(isochrones, lang) if isochrones is not None else None
    bounds = _bounds(report, isochrones)
    if bounds is None:
        center = [float(np.mean(report.network.lat)), float(np.mean(report.network.lon))]
    else:
        center = [
            round((bounds[0][0] + bounds[1][0]) / 2, 6),
            round((bounds[0][1] + bounds[1][1]) / 2, 6),
        ]
    com_feats = _community_features(report, lang, anchors)
    fac_layers = _facility_layers(report, lang)

    with _deterministic_ids():
        m = folium.Map(
            location=center,
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
        on_each = JsCode(_BIND_JS)
        if iso_feats is not None:
            folium.GeoJson(
                {"type": "FeatureCollection", "features": iso_feats},
                name=_e(L["layer_isochrones"]),
                on_each_feature=on_each,
            ).add_to(m)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": com_feats},
            name=_e(L["layer_communities"]),
            on_each_feature=on_each,
        ).add_to(m)
        for label, _colour, feats in fac_layers:
            folium.GeoJson(
                {"type": "FeatureCollection", "features": feats},
                name=label,
                on_each_feature=on_each,
                pointToLayer=JsCode(_POINT_JS),
            ).add_to(m)
        folium.LayerControl(collapsed=False, position="topright").add_to(m)
        legend = [f"<b>{_e(L['legend_title'])}</b>"]
        for k, (lo, hi, colour) in enumerate(SCORE_CLASSES):
            last = k == len(SCORE_CLASSES) - 1
            legend.append(
                f'<i style="background:{colour}"></i>{lo:.0%} – {hi:.0%}' + ("" if last else " ")
            )
        legend.append(f'<i style="background:{_NO_RESIDENTS_COLOUR}"></i>{_e(L["no_residents"])}')
        _legend_element("<br>".join(legend)).add_to(m)
        if bounds is not None:
            m.fit_bounds(bounds)
        root = m.get_root()
        root.render()
        header = root.header.render()
        body = root.html.render()
        script = root.script.render()
    return header, body, script


# ---------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------


def _anchors(report: Results) -> dict[str, str]:
    ids = sorted(report.coverage.communities["community_id"].astype(str).tolist())
    return {cid: f"c-{k + 1:04d}" for k, cid in enumerate(ids)}


def _items_section(report: Results, lang: str) -> str:
    L = _labels(lang)
    cat = report.catalogue
    stats = _item_stats(report).set_index("item_id")
    n_com = len(report.coverage.communities)
    cat_name = {c.id: c.name(lang) for c in cat.categories}
    rows = []
    for it in cat.items:
        st = stats.loc[it.id]
        rows.append(
            "<tr>"
            f"<td>{_e(it.name(lang))}</td>"
            f"<td>{_e(cat_name.get(it.category, it.category))}</td>"
            f'<td class="fm-num">{it.tier_minutes:g} {_e(L["minutes_short"])}</td>'
            f"<td>{_e(L['yes'] if it.required else L['no'])}</td>"
            f'<td class="fm-num">{int(st["facilities"]):,}</td>'
            f'<td class="fm-num">{_e(_pct(float(st["share_within_tier"])))}</td>'
            f'<td class="fm-num">{int(st["communities_met"])} / {n_com}</td>'
            "</tr>"
        )
    head = "".join(
        f"<th>{_e(L[k])}</th>"
        for k in (
            "item",
            "category",
            "tier",
            "required",
            "facilities",
            "residents_within",
            "communities_met",
        )
    )
    return (
        f'<table class="fm-items"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _sites_section(sites: gpd.GeoDataFrame, report: Results, lang: str) -> str:
    """Table of proposed sites (:func:`fifteenmin.siting.plan_missing` or ``site_facilities``)."""
    L = _labels(lang)
    rows = []
    rank = {it.id: k for k, it in enumerate(report.catalogue.items)}
    ordered = sites.assign(_rank=sites["item_id"].map(rank)).sort_values(
        ["_rank", "step"], kind="stable"
    )
    for r in ordered.itertuples(index=False):
        rows.append(
            "<tr>"
            f"<td>{_e(_item_name(report, r.item_id, lang))}</td>"
            f'<td class="fm-num">{int(r.step)}</td>'
            f'<td class="fm-num">{_e(r.node_id)}</td>'
            f'<td class="fm-num">{r.lon:.6f}, {r.lat:.6f}</td>'
            f'<td class="fm-num">{r.residents_gained:,.0f}</td>'
            f'<td class="fm-num">{_e(_pct(float(r.share_after)))}</td>'
            f'<td class="fm-num">{int(r.communities_helped)}</td>'
            "</tr>"
        )
    head = "".join(
        f"<th>{_e(t)}</th>"
        for t in (
            L["item"],
            "#",
            L["site_node"],
            "lon, lat",
            L["site_gain"],
            L["site_share"],
            L["site_helped"],
        )
    )
    return (
        f"<p>{_e(L['sites_note'])}</p>"
        f'<table class="fm-items"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _communities_section(report: Results, lang: str, anchors: Mapping[str, str]) -> str:
    L = _labels(lang)
    cat = report.catalogue
    com = report.coverage.communities
    com = com.assign(cid_key=com["community_id"].astype(str)).sort_values("cid_key", kind="stable")
    total_w = float(com["weight"].sum())
    table = report.coverage.table.copy()
    table["community_id"] = table["community_id"].astype(str)
    by_com = {cid: g.set_index("item_id") for cid, g in table.groupby("community_id", sort=True)}
    directory = service_directory(report)
    dir_by = {key: g for key, g in directory.groupby(["community_id", "item_id"], sort=True)}
    fac = facility_frame(report)
    tags_col = fac["tags"].to_numpy()

    def name_of(r: Any) -> str:
        return str(r.community_name) if isinstance(r.community_name, str) else ""

    # overview table
    head = "".join(
        f"<th>{_e(L[k])}</th>"
        for k in ("community", "id", "score", "met", "residents_share", "missing", "data_gaps_col")
    )
    rows = []
    for r in com.itertuples(index=False):
        cid = r.cid_key
        missing = _split_ids(r.missing)
        gaps = _split_ids(getattr(r, "data_gaps", None))
        cls = "fm-ok" if bool(r.all_met) else "fm-bad"
        rows.append(
            "<tr>"
            f'<td><a href="#{anchors[cid]}">{_e(name_of(r) or cid)}</a></td>'
            f"<td>{_e(cid)}</td>"
            f'<td class="fm-num {cls}">{_e(_pct(float(r.score)))}</td>'
            f'<td class="fm-num">{int(r.n_met)} / {int(r.n_required)}</td>'
            f'<td class="fm-num">{_e(_pct(float(r.weight) / total_w if total_w > 0 else np.nan))}'
            "</td>"
            f"<td>{_e(', '.join(_item_name(report, m, lang) for m in missing)) or '–'}</td>"
            f"<td>{_e(', '.join(_item_name(report, g, lang) for g in gaps)) or '–'}</td>"
            "</tr>"
        )
    out = [
        f'<table class="fm-communities"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>",
        f"<p>{_e(L['directory_note'])}</p>",
    ]

    # per community: service directory
    dir_head = "".join(
        f"<th>{_e(L[k])}</th>"
        for k in ("item", "tier", "residents_within", "met", "facilities_within")
    )
    for r in com.itertuples(index=False):
        cid = r.cid_key
        t = by_com.get(cid)
        missing = _split_ids(r.missing)
        gaps = _split_ids(getattr(r, "data_gaps", None))
        body = []
        for it in cat.items:
            share = float(t.loc[it.id, "share_within_tier"]) if t is not None else float("nan")
            met = bool(t.loc[it.id, "met"]) if t is not None else False
            status = (
                str(t.loc[it.id, "status"])
                if t is not None and "status" in t.columns
                else ("met" if met else "missing")
            )
            d = dir_by.get((cid, it.id))
            if d is None or not len(d):
                fac_html = _e(L["no_facility_within"].format(tier=f"{it.tier_minutes:g}"))
            else:
                parts = []
                for f in d.itertuples(index=False):
                    nm = _display_name(f.name, tags_col[int(f.facility)], lang)
                    nm = nm or f"{it.name(lang)} ({L['unnamed']})"
                    parts.append(
                        f'<span class="fm-f" title="OSM {_e(f.osm_type)}/{_e(f.osm_id)}">'
                        f"{_e(nm)}</span> {f.minutes:.1f}&#8202;{_e(L['minutes_short'])} "
                        f"<small>({_e(_pct(float(f.share_within_tier)))})</small>"
                    )
                fac_html = "; ".join(parts)
            if met:
                cls, met_txt = "fm-ok", L["yes"]
            elif status == "no_data":
                cls, met_txt = "fm-gap", L["status_no_data"]
            else:
                cls, met_txt = ("fm-bad" if it.required else ""), L["no"]
            opt = "" if it.required else f" <small>({_e(L['optional'])})</small>"
            body.append(
                "<tr>"
                f"<td>{_e(it.name(lang))}{opt}</td>"
                f'<td class="fm-num">{it.tier_minutes:g} {_e(L["minutes_short"])}</td>'
                f'<td class="fm-num">{_e(_pct(share))}</td>'
                f'<td class="{cls}">{_e(met_txt)}</td>'
                f"<td>{fac_html}</td>"
                "</tr>"
            )
        miss_txt = ", ".join(_item_name(report, m, lang) for m in missing) or L["none"]
        gap_txt = ", ".join(_item_name(report, g, lang) for g in gaps) or L["none"]
        out.append(
            f'<details id="{anchors[cid]}" class="fm-community">'
            f"<summary>{_e(name_of(r) or cid)} — {_e(L['score'])} {_e(_pct(float(r.score)))}"
            f" ({int(r.n_met)}/{int(r.n_required)})</summary>"
            f"<p><small>{_e(cid)}</small><br>{_e(L['missing'])}: {_e(miss_txt)}<br>"
            f"{_e(L['data_gaps_col'])}: {_e(gap_txt)}</p>"
            f'<table class="fm-directory"><thead><tr>{dir_head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></details>"
        )
    return "\n".join(out)


_SMALL = ' class="fm-small"'
_OPEN_ANCHOR_JS = """
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


def render_html(
    report: Results,
    *,
    lang: str = "en",
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
        The page. Leaflet and the charts are inlined; no script or stylesheet is loaded
        from elsewhere.

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
    L = _labels(lang)
    js, css = _leaflet_assets()
    anchors = _anchors(report)
    map_header, map_body, map_script = _map_parts(report, lang, isochrones, anchors)
    charts = _charts(report, lang)
    cat = report.catalogue
    title = f"{L['title']} — {cat.title(lang)}"
    osm_file = str(report.params["osm_file"])
    nav = "".join(
        f'<a href="#{sid}">{_e(L[key])}</a>'
        for sid, key in (
            ("fm-summary", "nav_summary"),
            ("fm-map", "nav_map"),
            ("fm-charts", "nav_charts"),
            ("fm-items", "nav_items"),
            ("fm-communities", "nav_communities"),
            *((("fm-sites", "nav_sites"),) if sites is not None and len(sites) else ()),
            ("fm-method", "nav_method"),
        )
    )
    figures = "".join(
        f"<figure{_SMALL if k else ''}><figcaption><b>{_e(t)}</b></figcaption>{svg}</figure>"
        for k, (t, svg) in enumerate(charts)
    )
    page = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fifteenmin {_e(__version__)}">',
        f"<title>{_e(title)}</title>",
        f"<style>/* Leaflet 1.9.3 (BSD-2-Clause) */\n{css}</style>",
        f"<script>{js}</script>",
        map_header,
        f"<style>{_PAGE_CSS}</style>",
        "</head>",
        "<body>",
        '<div class="fm-page fifteenmin-report">',
        "<header>",
        f"<h1>{_e(L['title'])}</h1>",
        f"<p>{_e(cat.title(lang))} · {_e(osm_file)}</p>",
        f"<nav>{nav}</nav>",
        "</header>",
        "<main>",
        f'<section id="fm-summary"><h2>{_e(L["summary"])}</h2>',
        report_html_fragment(report, lang),
        "</section>",
        f'<section id="fm-map"><h2>{_e(L["map"])}</h2><p>{_e(L["map_note"])}</p>',
        f'<div class="fm-map-wrap">{map_body}</div>',
        "</section>",
        f'<section id="fm-charts"><h2>{_e(L["charts"])}</h2>',
        f'<div class="fm-charts">{figures}</div>',
        "</section>",
        f'<section id="fm-items"><h2>{_e(L["items"])}</h2>',
        _items_section(report, lang),
        "</section>",
        f'<section id="fm-communities"><h2>{_e(L["communities"])}</h2>',
        _communities_section(report, lang, anchors),
        "</section>",
        (
            f'<section id="fm-sites"><h2>{_e(L["sites"])}</h2>'
            f"{_sites_section(sites, report, lang)}</section>"
            if sites is not None and len(sites)
            else ""
        ),
        f'<section id="fm-method"><h2>{_e(L["method"])}</h2><ul>{L["method_body"]}</ul></section>',
        "</main>",
        "<footer>",
        f"<p>{_e(L['footer_data'])}: {settings.ATTRIBUTION_HTML}.</p>",
        f"<p>{_e(L['footer_generated'].format(version=__version__))}</p>",
        "</footer>",
        "</div>",
        f"<script>\n{map_script}\n{_OPEN_ANCHOR_JS}</script>",
        "</body>",
        "</html>",
        "",
    ]
    text = "\n".join(page)
    _check_self_contained(text)
    return text


_EXTERNAL = re.compile(
    r"<script[^>]*\bsrc\s*=|<link[^>]*rel=[\"']?stylesheet|@import", flags=re.IGNORECASE
)


def _check_self_contained(text: str) -> None:
    match = _EXTERNAL.search(text)
    if match:
        raise RuntimeError(
            "the HTML report would load an external script or stylesheet "
            f"({text[match.start() : match.start() + 120]!r}); it must be self-contained. "
            "This folium version adds resources fifteenmin does not inline."
        )


def write_html(
    report: Results,
    path: str | os.PathLike[str],
    *,
    lang: str = "en",
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
    from ._files import write_atomic

    text = render_html(report, lang=lang, isochrones=isochrones)
    data = text.encode("utf-8")
    write_atomic(path, lambda p: p.write_bytes(data))
