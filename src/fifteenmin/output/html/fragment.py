"""The report's summary as an HTML fragment: the top of the page, and the Jupyter view.

Examples
--------
>>> frag = report_html_fragment(run_report(), lang="zh")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from ... import settings
from ..._i18n import labels
from .assets import FRAGMENT_CSS
from .common import esc, item_figures, item_name, pct, plural, ul, unit_label
from .labels import LABELS
from .rollups import assessable_parts, rollup_parts, strict_rate_text

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["report_html_fragment"]

#: How many of the most often missing items the summary lists.
_MOST_MISSING_SHOWN = 10


def report_html_fragment(report: Results, lang: str = settings.LANG) -> str:
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

    Raises
    ------
    ValueError
        ``lang`` is not a supported language.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> frag = report_html_fragment(run_report(), lang="zh")  # doctest: +SKIP
    >>> frag.startswith('<div class="fifteenmin-report"')  # doctest: +SKIP
    True
    """
    L = labels(LABELS, lang)
    stats = item_figures(report).set_index("item_id")
    out = [
        '<div class="fifteenmin-report">',
        f"<style>{FRAGMENT_CSS}</style>",
        *_kpis(report, L, lang),
        *_most_missing(report, lang, L),
        *rollup_parts(report, lang),
        *_data_gaps(report, lang, L, stats),
        *_parameters(report, lang, L),
    ]
    return "\n".join(out)


def _n_communities(report: Results) -> int:
    return int(report.coverage.summary.get("communities", len(report.coverage.communities)))


def _kpis(report: Results, L: Mapping[str, str], lang: str = settings.LANG) -> list[str]:
    """The headline figures, as boxes; why the weighted rate is missing when it is."""
    s = report.coverage.summary
    weighted = s.get("coverage_rate_weighted")
    assessable, notes = assessable_parts(report, lang)
    kpis = [
        (L["coverage_rate"], strict_rate_text(s, lang)),
        *assessable,
        (L["coverage_rate_weighted"], strict_rate_text(s, lang, "coverage_rate_weighted")),
        (L["n_communities"], f"{_n_communities(report):,}"),
        (L["mean_score"], pct(float(s.get("mean_score", 0.0)))),
        (L["facilities"], f"{len(report.facilities):,}"),
        (L["origins"], f"{len(report.residents):,}"),
    ]
    units = [str(u) for u in s.get("weight_units", ())]
    why = []
    if weighted is None and len(units) > 1:
        reason = L["weighted_na"].format(units=_units(L, units))
        why = [f'<p class="fm-note">{esc(L["coverage_rate_weighted"])}: {esc(reason)}</p>']
    return [
        '<div class="fm-kpis">',
        *(f'<div class="fm-kpi"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in kpis),
        "</div>",
        *notes,
        *why,
    ]


def _units(L: Mapping[str, str], units: list[str]) -> str:
    """The names of resident weight units, joined."""
    return L["list_sep"].join(unit_label(L, u) for u in units)


def _most_missing(report: Results, lang: str, L: Mapping[str, str]) -> list[str]:
    """The required items most often missing (the coverage summary's ``items_most_missing``)."""
    out = [f"<h3>{esc(L['most_missing'])}</h3>"]
    counts = report.coverage.summary.get("items_most_missing", {})
    missing = list(counts.items())[:_MOST_MISSING_SHOWN]
    if not missing:
        return [*out, f"<p>{esc(L['none_missing'])}</p>"]
    total = _n_communities(report)
    out.append("<ol>")
    out += [
        f"<li>{esc(item_name(report, item_id, lang))}{esc(L['colon'])}"
        f"{esc(plural(L, 'missing_in', total, n=n, total=total))}</li>"
        for item_id, n in missing
    ]
    out.append("</ol>")
    return out


def _data_gaps(report: Results, lang: str, L: Mapping[str, str], stats: pd.DataFrame) -> list[str]:
    """Items with no facility in the area, and items whose OSM tagging is often sparse."""
    cat = report.catalogue
    gaps = report.coverage.summary.get("data_gap_items", {})
    no_facility = set(gaps.get("no_facility_in_area", ()))
    zero = [it for it in cat.items if it.id in no_facility]
    sparse = [it for it in cat.items if it.osm_sparse]
    none = f"<p>{esc(L['none'])}</p>"
    optional = f" <small>({esc(L['optional'])})</small>"
    return [
        f"<h3>{esc(L['data_gaps'])}</h3>",
        f"<p>{esc(L['no_facility'])}{esc(L['colon'].rstrip())}</p>",
        ul(esc(it.name(lang)) + ("" if it.required else optional) for it in zero) if zero else none,
        f"<p>{esc(L['sparse'])}{esc(L['colon'].rstrip())}</p>",
        ul(
            f"{esc(it.name(lang))}{esc(L['colon'])}"
            f"{esc(_n_facilities(L, int(stats.loc[it.id, 'facilities'])))}"
            for it in sparse
        )
        if sparse
        else none,
    ]


def _n_facilities(L: Mapping[str, str], n: int) -> str:
    return plural(L, "n_facilities", n, n=f"{n:,}")


def _parameters(report: Results, lang: str, L: Mapping[str, str]) -> list[str]:
    """The run's parameters and the network's size, as a table (closes the fragment)."""
    cat = report.catalogue
    params = report.params
    s = report.coverage.summary
    speed = float(report.config.speed)
    src = report.communities["source"] if "source" in report.communities.columns else []
    ns = report.network.summary()
    size = L["network_size"].format(
        nodes=f"{ns['nodes']:,}", edges=f"{ns['edges']:,}", km=f"{ns['length_km']:,.1f}"
    )
    rows = [
        (L["catalogue"], f"{cat.title(lang)} ({cat.name})"),
        (L["speed"], f"{speed:.2f} m/s ({speed * 3.6:.1f} km/h)"),
        (L["threshold"], f"{report.threshold:.0%}"),
        (L["cutoff"], f"{float(params['cutoff_minutes']):g} {L['minutes_short']}"),
        (L["osm_file"], str(params["osm_file"])),
        (L["community_source"], ", ".join(sorted({str(v) for v in src}))),
        (L["weight_by"], _units(L, [str(u) for u in s.get("weight_units", ())])),
        (L["network"], size),
    ]
    return [
        f'<h3>{esc(L["parameters"])}</h3><div class="fm-scroll"><table class="fm-params"><tbody>',
        *(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows),
        "</tbody></table></div></div>",
    ]
