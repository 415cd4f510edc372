"""The report's rates over the assessable items, and its district and community-type tables.

Self-contained parts of the summary (:func:`fifteenmin.output.html.report_html_fragment`):
the city line and the items that cannot be assessed (:func:`assessable_parts`), and one
table per roll-up (:func:`rollup_parts`: by district, 街道 / 区, and by community type).

Examples
--------
>>> parts = rollup_parts(run_report(), "zh")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._i18n import labels
from ...coverage import headline
from .common import esc, item_name, pct

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["ROLLUP_LABELS", "assessable_parts", "rollup_parts", "strict_rate_text"]

#: Labels of these parts, by language.
ROLLUP_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "cannot_assess": "cannot be assessed for {n} items",
        "rate_assessable": "Coverage rate over the assessable items",
        "rate_assessable_weighted": "Residents covered, assessable items",
        "not_assessed": "Required items that could not be assessed (no facility of them in the "
        "data; add a ledger with --facilities): ",
        "weighted_by": "Weighted rates are weighted by ",
        "people_estimated": "people (estimated from floor area at {m2:g} m²/person)",
        "by_district": "Coverage by district",
        "by_community_type": "Coverage by community type",
        "district": "District",
        "community_type": "Community type",
        "none_group": "(none)",
        "communities": "Communities",
        "rate": "Coverage rate",
        "rate_a": "Over assessable items",
        "people": "Residents",
        "rate_w": "Residents covered (assessable items)",
        "mean_score": "Mean score",
        "most_missing": "Most missing",
        "sep": ", ",
    },
    "zh": {
        "cannot_assess": "{n} 项无法评估",
        "rate_assessable": "覆盖率（按可评估项目）",
        "rate_assessable_weighted": "覆盖居民比例（按可评估项目）",
        "not_assessed": "无法评估的必备项目（数据中没有该类设施；可用 --facilities 补充台账）：",
        "weighted_by": "加权覆盖率的权重：",
        "people_estimated": "人口（按人均住房建筑面积 {m2:g} 平方米估算）",
        "by_district": "分街道 / 区覆盖情况",
        "by_community_type": "分社区类型覆盖情况",
        "district": "街道 / 区",
        "community_type": "社区类型",
        "none_group": "（未分配）",
        "communities": "社区数",
        "rate": "覆盖率",
        "rate_a": "按可评估项目",
        "people": "居民",
        "rate_w": "覆盖居民比例（可评估项目）",
        "mean_score": "平均得分",
        "most_missing": "最常缺失",
        "sep": "、",
    },
}


def strict_rate_text(summary: Mapping[str, Any], lang: str, key: str = "coverage_rate") -> str:
    """A strict rate for a headline: "cannot be assessed for N items" rather than "0 %".

    ``key`` names the rate (``coverage_rate``, ``coverage_rate_weighted``).
    """
    gaps = summary.get("items_not_assessable") or []
    value = _share(summary.get(key))
    if gaps and value is not None:
        return labels(ROLLUP_LABELS, lang)["cannot_assess"].format(n=len(gaps))
    return pct(value)


def _weighted_by(summary: Mapping[str, Any], lang: str) -> str:
    text = str(summary.get("weighted_by", ""))
    floor_only = text.startswith("people (estimated from floor area at") and " and " not in text
    if lang == "zh" and floor_only:
        return labels(ROLLUP_LABELS, lang)["people_estimated"].format(
            m2=float(summary.get("floor_area_per_person_m2", 0.0))
        )
    return text


def assessable_parts(report: Results, lang: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The assessable-rate headline figures, and the notes under them (city line, gaps).

    Returns ``(kpis, notes)``: (label, value) pairs for the headline boxes and HTML
    paragraphs.
    """
    L = labels(ROLLUP_LABELS, lang)
    s = report.coverage.summary
    kpis = [
        (L["rate_assessable"], pct(_share(s.get("coverage_rate_assessable")))),
        (L["rate_assessable_weighted"], pct(_share(s.get("coverage_rate_assessable_weighted")))),
    ]
    notes = [f'<p class="fm-note"><b>{esc(headline(s, lang))}</b></p>']
    gaps = list(s.get("items_not_assessable") or [])
    if gaps:
        names = L["sep"].join(item_name(report, i, lang) for i in gaps)
        notes.append(f'<p class="fm-note fm-not-assessed">{esc(L["not_assessed"] + names)}</p>')
    if s.get("weighted_by"):
        notes.append(f'<p class="fm-note">{esc(L["weighted_by"] + _weighted_by(s, lang))}</p>')
    return kpis, notes


def _share(v: Any) -> float | None:
    return None if v is None else float(v)


def rollup_parts(report: Results, lang: str) -> list[str]:
    """One table per roll-up in the summary (by district, by community type); [] if none."""
    out: list[str] = []
    s = report.coverage.summary
    for key in ("district", "community_type"):
        rows = s.get(f"by_{key}")
        if rows:
            out += _table(report, lang, key, rows, s.get("items_not_assessable") or [])
    return out


def _table(
    report: Results, lang: str, key: str, rows: Sequence[Mapping[str, Any]], gaps: Sequence[str]
) -> list[str]:
    L = labels(ROLLUP_LABELS, lang)
    heads = [L[key], L["communities"], L["rate"], L["rate_a"], L["people"], L["rate_w"]]
    heads += [L["mean_score"], L["most_missing"]]
    body = []
    for r in rows:
        missing = L["sep"].join(
            f"{item_name(report, i, lang)} ({n})"
            for i, n in (r["items_most_missing"] or {}).items()
        )
        line = headline({**r, "items_not_assessable": gaps}, lang)
        cells = (
            f"<td>{esc(r[key] or L['none_group'])}<br><small>{esc(line)}</small></td>",
            f'<td class="fm-num">{int(r["communities"]):,}</td>',
            f'<td class="fm-num">{esc(strict_rate_text({**r, "items_not_assessable": gaps}, lang))}'
            "</td>",
            f'<td class="fm-num">{esc(pct(_share(r["coverage_rate_assessable"])))}</td>',
            f'<td class="fm-num">{esc(_people(r["people"]))}</td>',
            f'<td class="fm-num">{esc(pct(_share(r["coverage_rate_assessable_weighted"])))}</td>',
            f'<td class="fm-num">{esc(pct(_share(r["mean_score"])))}</td>',
            f"<td>{esc(missing)}</td>",
        )
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return [
        f"<h3>{esc(L['by_' + key])}</h3>",
        f'<div class="fm-scroll"><table class="fm-items fm-rollup"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>",
    ]


def _people(v: Any) -> str:
    return "–" if v is None or v != v else f"{float(v):,.0f}"
