"""``compare.html``: the self-contained page of a comparison (tables and an SVG sketch map).

No script, stylesheet or map tile is loaded from elsewhere; every name is escaped; the page
carries the OpenStreetMap attribution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import settings
from .._i18n import labels
from .._version import __version__
from ..output.html.common import esc, pct

if TYPE_CHECKING:
    from .diff import Comparison

__all__ = ["LABELS", "render_compare_html"]


#: The page's labels by language.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Before and after",
        "before": "before",
        "after": "after",
        "change": "change",
        "coverage_rate": "Communities meeting every required item",
        "coverage_rate_weighted": "Residents in such communities (weighted)",
        "communities_all_met": "Communities meeting every required item (count)",
        "mean_index": "Mean composite index",
        "communities": "Communities",
        "inputs": "What differs between the runs",
        "no_inputs": "The two runs have the same parameters.",
        "gaining": "Communities gaining items",
        "losing": "Communities losing items",
        "none": "None.",
        "community": "Community",
        "items_gained": "Items gained",
        "items_lost": "Items lost",
        "index": "Index",
        "items": "Items whose coverage changed",
        "no_items": "No item is met by a different number of communities.",
        "item": "Item",
        "facilities": "Facilities",
        "communities_met": "Communities meeting it",
        "gained": "gained",
        "lost": "lost",
        "all_changes": "Every change, community by item",
        "status": "Status",
        "share": "Share within the tier",
        "minutes": "Median minutes",
        "map": "Map",
        "map_gained": "gained items",
        "map_lost": "lost items",
        "map_both": "gained and lost items",
        "map_other": "no item gained or lost",
        "planned": "planned facility",
        "rows": "rows",
        "warnings": "Read with care",
        "parameter": "Parameter",
        "points": "points",
    },
    "zh": {
        "title": "前后对比",
        "before": "之前",
        "after": "之后",
        "change": "变化",
        "coverage_rate": "全部必配项目达标的社区比例",
        "coverage_rate_weighted": "达标社区居民比例(加权)",
        "communities_all_met": "全部必配项目达标的社区数",
        "mean_index": "平均综合指数",
        "communities": "社区",
        "inputs": "两次运行的差别",
        "no_inputs": "两次运行的参数相同。",
        "gaining": "新达标项目的社区",
        "losing": "失去达标项目的社区",
        "none": "无。",
        "community": "社区",
        "items_gained": "新达标项目",
        "items_lost": "不再达标项目",
        "index": "指数",
        "items": "覆盖有变化的项目",
        "no_items": "没有项目的达标社区数发生变化。",
        "item": "项目",
        "facilities": "设施数",
        "communities_met": "达标社区数",
        "gained": "新达标",
        "lost": "不再达标",
        "all_changes": "全部变化(社区 × 项目)",
        "status": "状态",
        "share": "服务半径内居民比例",
        "minutes": "步行时间中位数(分钟)",
        "map": "地图",
        "map_gained": "有新达标项目",
        "map_lost": "有不再达标项目",
        "map_both": "有增有减",
        "map_other": "无达标变化",
        "planned": "规划设施",
        "rows": "行",
        "warnings": "注意",
        "parameter": "参数",
        "points": "个百分点",
    },
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans SC","PingFang SC",
"Microsoft YaHei",sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;max-width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37}.down{color:#c62828}.muted{color:#666;font-size:.9em}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em 1em}
svg{max-width:100%;height:auto;border:1px solid #ddd}
.key span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}
footer{margin-top:2em;color:#666;font-size:.85em}
"""

_MAP_WIDTH = 720.0
_MAP_COLOURS = {"gained": "#1a9641", "lost": "#d7191c", "both": "#fdae61", "other": "#e0e0e0"}


def _num(v: Any, fmt: str = "{:.1f}") -> str:
    return "–" if not isinstance(v, int | float) or not np.isfinite(v) else fmt.format(v)


def _signed(v: Any, rate: bool, L: dict[str, str]) -> str:
    if not isinstance(v, int | float) or not np.isfinite(v):
        return "–"
    if rate:
        text = f"{v * 100:+.1f} {L['points']}"
    else:
        text = f"{v:+,.0f}" if float(v).is_integer() else f"{v:+,.1f}"
    cls = "up" if v > 0 else "down" if v < 0 else "muted"
    return f'<span class="{cls}">{esc(text)}</span>'


def _kpi_table(comp: Comparison, L: dict[str, str]) -> str:
    rows = []
    for key in ("coverage_rate", "coverage_rate_weighted", "communities_all_met", "mean_index"):
        v = comp.summary["coverage"][key]
        rate = key.startswith("coverage_rate")
        fmt = "{:.1f}" if key == "mean_index" else "{:,.0f}"
        show = pct if rate else (lambda x, fmt=fmt: _num(x, fmt))
        rows.append(
            f"<tr><td>{esc(L[key])}</td><td class=num>{show(v['before'])}</td>"
            f"<td class=num>{show(v['after'])}</td>"
            f"<td class=num>{_signed(v['change'], rate, L)}</td></tr>"
        )
    head = (
        f"<tr><th></th><th>{esc(L['before'])}</th><th>{esc(L['after'])}</th>"
        f"<th>{esc(L['change'])}</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _value(v: Any) -> str:
    """A parameter's value as text (``–`` for none; lists and mappings as JSON)."""
    import json

    if v is None:
        return "–"
    return esc(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))


def _inputs_section(comp: Comparison, L: dict[str, str]) -> str:
    changed = comp.summary["parameters_changed"]
    if not changed:
        return f"<p>{esc(L['no_inputs'])}</p>"
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{_value(v['before'])}</td><td>{_value(v['after'])}</td></tr>"
        for k, v in changed.items()
    )
    head = (
        f"<tr><th>{esc(L['parameter'])}</th><th>{esc(L['before'])}</th>"
        f"<th>{esc(L['after'])}</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _item_names(comp: Comparison, lang: str) -> dict[str, str]:
    col = "item_name_zh" if lang == "zh" else "item_name_en"
    return {r.item_id: str(getattr(r, col) or r.item_id) for r in comp.items.itertuples()}


def _community_section(comp: Comparison, kind: str, lang: str, L: dict[str, str]) -> str:
    com = comp.communities[comp.communities[f"n_{kind}"] > 0]
    if not len(com):
        return f"<p>{esc(L['none'])}</p>"
    names = _item_names(comp, lang)
    has_index = "index_before" in com.columns and "index_after" in com.columns
    head = f"<tr><th>{esc(L['community'])}</th><th>{esc(L['items_' + kind])}</th>"
    head += f"<th>{esc(L['index'])}</th></tr>" if has_index else "</tr>"
    rows = []
    for r in com.itertuples():
        items = ", ".join(esc(names.get(i, i)) for i in getattr(r, f"items_{kind}"))
        row = f"<tr><td>{esc(r.community_name)}</td><td>{items}</td>"
        if has_index:
            row += f"<td class=num>{_num(r.index_before)} → {_num(r.index_after)}</td>"
        rows.append(row + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _items_section(comp: Comparison, lang: str, L: dict[str, str]) -> str:
    it = comp.items
    it = it[
        (it["gained"] > 0)
        | (it["lost"] > 0)
        | (it["met_before"] != it["met_after"])
        | (it["facilities_before"] != it["facilities_after"])
    ]
    if not len(it):
        return f"<p>{esc(L['no_items'])}</p>"
    names = _item_names(comp, lang)
    head = (
        f"<tr><th>{esc(L['item'])}</th><th>{esc(L['facilities'])}</th>"
        f"<th>{esc(L['communities_met'])}</th><th>{esc(L['gained'])}</th>"
        f"<th>{esc(L['lost'])}</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{esc(names.get(r.item_id, r.item_id))}</td>"
        f"<td class=num>{r.facilities_before} → {r.facilities_after}</td>"
        f"<td class=num>{r.met_before} → {r.met_after}</td>"
        f"<td class=num>{r.gained}</td><td class=num>{r.lost}</td></tr>"
        for r in it.itertuples()
    )
    return f"<table>{head}{rows}</table>"


def _changes_section(comp: Comparison, lang: str, L: dict[str, str]) -> str:
    ch = comp.changes
    if not len(ch):
        return f"<p>{esc(L['none'])}</p>"
    names = _item_names(comp, lang)
    head = (
        f"<tr><th>{esc(L['community'])}</th><th>{esc(L['item'])}</th>"
        f"<th>{esc(L['status'])}</th><th>{esc(L['change'])}</th>"
        f"<th>{esc(L['share'])}</th><th>{esc(L['minutes'])}</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{esc(r.community_name)}</td><td>{esc(names.get(r.item_id, r.item_id))}</td>"
        f"<td>{esc(r.status_before)} → {esc(r.status_after)}</td><td>{esc(r.change)}</td>"
        f"<td class=num>{pct(r.share_before)} → {pct(r.share_after)}</td>"
        f"<td class=num>{_num(r.median_minutes_before)} → {_num(r.median_minutes_after)}</td>"
        "</tr>"
        for r in ch.itertuples()
    )
    return (
        f"<details><summary>{len(ch):,} {esc(L['rows'])}</summary>"
        f"<table>{head}{rows}</table></details>"
    )


def _map_kind(cid: str, gained: set[str], lost: set[str]) -> str:
    if cid in gained:
        return "both" if cid in lost else "gained"
    return "lost" if cid in lost else "other"


def _svg_map(comp: Comparison, L: dict[str, str]) -> str:
    """The communities as an SVG sketch map, coloured by gains and losses.

    Planned facilities are black dots; there are no tiles, so the page stays self-contained.
    """
    import shapely

    g = comp.geometry
    if g is None:
        return ""
    g = g[~(g.isna() | g.is_empty)]
    if not len(g):
        return ""
    pts = comp.planned if comp.planned is not None else g.iloc[:0]
    box = np.array([g.total_bounds, *([pts.total_bounds] if len(pts) else [])])
    w, s, e, n = box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()
    k = float(np.cos(np.radians((s + n) / 2)))
    span = max((e - w) * k, n - s, 1e-9)
    scale = _MAP_WIDTH / span
    height = max((n - s) * scale, 1.0)

    def xy(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (coords[:, 0] - w) * k * scale, (n - coords[:, 1]) * scale

    com = comp.communities
    gained = set(com.loc[com["n_gained"] > 0, "community_id"])
    lost = set(com.loc[com["n_lost"] > 0, "community_id"])
    names = dict(zip(com["community_id"], com["community_name"], strict=True))
    paths = []
    geoms = shapely.simplify(np.asarray(g.values, dtype=object), span / 2000)
    for cid, geom in zip(g.index, geoms, strict=True):
        d = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors] if hasattr(poly, "exterior") else []:
                px, py = xy(np.asarray(ring.coords))
                d.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True)))
        if d:
            colour = _MAP_COLOURS[_map_kind(cid, gained, lost)]
            paths.append(
                f'<path d="{"Z".join(d)}Z" fill="{colour}" fill-rule="evenodd" stroke="#555" '
                f'stroke-width=".5"><title>{esc(names.get(cid, cid))}</title></path>'
            )
    if len(pts):
        px, py = xy(shapely.get_coordinates(np.asarray(pts.values, dtype=object)))
        paths += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#000" stroke="#fff">'
            f"<title>{esc(L['planned'])}</title></circle>"
            for x, y in zip(px, py, strict=True)
        ]
    key = "".join(
        f'<span style="background:{c}"></span>{esc(L["map_" + kind])}'
        for kind, c in _MAP_COLOURS.items()
    )
    if len(pts):
        key += f'<span style="background:#000;border-radius:50%"></span>{esc(L["planned"])}'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_MAP_WIDTH:.0f} {height:.0f}" '
        f'width="{_MAP_WIDTH:.0f}" height="{height:.0f}" role="img">{"".join(paths)}</svg>'
        f'<p class="key">{key}</p>'
    )


def render_compare_html(comp: Comparison, *, lang: str = settings.LANG) -> str:
    """The self-contained HTML page of a comparison (no external scripts, styles or tiles).

    Examples
    --------
    >>> page = render_compare_html(compare_reports("before", "after"))  # doctest: +SKIP
    """
    L = labels(LABELS, lang)
    warn = comp.summary["warnings"]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(L['title'])}: {esc(comp.before)} → {esc(comp.after)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(L['title'])}</h1>",
        f"<p>{esc(L['before'])}: <b>{esc(comp.before)}</b> · "
        f"{esc(L['after'])}: <b>{esc(comp.after)}</b></p>",
    ]
    if warn:
        items = "".join(f"<li>{esc(w)}</li>" for w in warn)
        parts.append(f'<div class="warn"><b>{esc(L["warnings"])}</b><ul>{items}</ul></div>')
    parts += [
        _kpi_table(comp, L),
        f"<h2>{esc(L['inputs'])}</h2>",
        _inputs_section(comp, L),
    ]
    svg = _svg_map(comp, L)
    if svg:
        parts += [f"<h2>{esc(L['map'])}</h2>", svg]
    parts += [
        f"<h2>{esc(L['gaining'])}</h2>",
        _community_section(comp, "gained", lang, L),
        f"<h2>{esc(L['losing'])}</h2>",
        _community_section(comp, "lost", lang, L),
        f"<h2>{esc(L['items'])}</h2>",
        _items_section(comp, lang, L),
        f"<h2>{esc(L['all_changes'])}</h2>",
        _changes_section(comp, lang, L),
        f"<footer>{settings.ATTRIBUTION_HTML} · fifteenmin {esc(__version__)}</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
