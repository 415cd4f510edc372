"""The opening-hours section (开放率) of the HTML report: coverage at chosen times.

It reads :attr:`fifteenmin.pipeline.Results.opening_hours` (computed by
:mod:`fifteenmin.hours`) and renders one table per time; the page adds it with one line.
Self-contained: plain HTML with the page's table styles, every OSM or user text escaped.

Examples
--------
>>> opening_hours_section(rep, "zh").startswith('<section id="fm-hours">')  # doctest: +SKIP
True
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from .._i18n import labels

if TYPE_CHECKING:
    import pandas as pd

    from ..pipeline import Results

__all__ = ["opening_hours_section", "opening_hours_title"]

_LABELS = {
    "en": {
        "title": "Opening hours",
        "intro": (
            "Coverage with only the facilities open at each time (OSM opening_hours, local "
            "time). Facilities without hours or with unreadable hours are unknown, never "
            "counted as closed: the true share lies between “open” and “open or unknown”."
        ),
        "week": "Days of the week fall in the week of {week}; {tagged} of {n} facilities "
        "have opening hours ({bad} unreadable).",
        "rate": "Communities meeting every required item: {open} with open facilities, {ou} "
        "open or unknown, {any} at any hour.",
        "item": "Item",
        "facilities": "Facilities",
        "open": "Open",
        "closed": "Closed",
        "unknown": "Unknown",
        "met_open": "Communities met (open)",
        "met_ou": "(open or unknown)",
        "met_any": "(any hour)",
    },
    "zh": {
        "title": "开放时间(开放率)",
        "intro": (
            "各时刻仅计当时开放的设施(OSM opening_hours,当地时间)。无营业时间或无法识别的设施"
            "记为“未知”,不计为关闭:真实比例介于“开放”与“开放或未知”之间。"
        ),
        "week": "星期按 {week} 所在周计;{n} 个设施中 {tagged} 个有营业时间({bad} 个无法识别)。",
        "rate": "满足全部必配项目的社区:仅计开放设施 {open},开放或未知 {ou},不论时间 {any}。",
        "item": "项目",
        "facilities": "设施",
        "open": "开放",
        "closed": "关闭",
        "unknown": "未知",
        "met_open": "达标社区(开放)",
        "met_ou": "(开放或未知)",
        "met_any": "(不论时间)",
    },
}


def _pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{float(v):.0%}"


def _time_table(rows: pd.DataFrame, L: dict[str, str], lang: str) -> str:
    keys = ("item", "facilities", "open", "closed", "unknown", "met_open", "met_ou", "met_any")
    head = "".join(f"<th>{html.escape(L[k])}</th>" for k in keys)
    body = []
    for r in rows[rows["facilities"] > 0].itertuples(index=False):
        name = r.item_name_zh if lang == "zh" else r.item_name_en
        cells = [
            html.escape(str(name)),
            str(r.facilities),
            f"{r.open} ({_pct(r.share_open)})",
            f"{r.closed} ({_pct(r.share_closed)})",
            f"{r.unknown} ({_pct(r.share_unknown)})",
            _pct(r.communities_met_open),
            _pct(r.communities_met_open_or_unknown),
            _pct(r.communities_met_any_hours),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f'<div class="fm-scroll"><table class="fm-items fm-hours"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def opening_hours_title(lang: str) -> str:
    """The title of the opening-hours section (and its link in the page's navigation).

    Examples
    --------
    >>> opening_hours_title("en")
    'Opening hours'
    """
    return labels(_LABELS, lang)["title"]


def opening_hours_section(report: Results, lang: str) -> str:
    """The ``<section>`` of the opening hours, or ``""`` when the run has none.

    Parameters
    ----------
    report
        A run with :attr:`~fifteenmin.pipeline.Results.opening_hours`.
    lang
        ``"en"`` or ``"zh"``.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> opening_hours_section(run_report(), "en")[:40]  # doctest: +SKIP
    '<section id="fm-hours"><h2>Opening hours'
    """
    L = labels(_LABELS, lang)
    hours = report.opening_hours
    if hours is None:
        return ""
    s = hours.summary
    parts = [
        f'<section id="fm-hours"><h2>{html.escape(L["title"])}</h2>',
        f"<p>{html.escape(L['intro'])}</p>",
        "<p>"
        + html.escape(
            L["week"].format(
                week=s["reference_week"],
                tagged=s["facilities_with_hours"],
                n=s["facilities"],
                bad=s["facilities_unparsable"],
            )
        )
        + "</p>",
    ]
    for t in s["times"]:
        rate = t["coverage_rate"]
        parts.append(f"<h3>{html.escape(t['label'])} ({html.escape(t['datetime'])})</h3>")
        text = L["rate"].format(
            open=_pct(rate["open"]), ou=_pct(rate["open_or_unknown"]), any=_pct(rate["any_hours"])
        )
        parts.append(f"<p>{html.escape(text)}</p>")
        parts.append(_time_table(hours.table[hours.table["time"] == t["label"]], L, lang))
    parts.append("</section>")
    return "".join(parts)
