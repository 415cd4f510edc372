"""The tables of the report page: items, communities (with service directories), new sites.

Each function returns the HTML inside one ``<section>`` of the page
(:func:`fifteenmin.output.html.page.render_html` adds the headings).

Examples
--------
>>> html = items_section(rep, "en", item_figures(rep))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..._i18n import labels
from ...directory import facility_frame, service_directory
from .common import (
    community_name,
    community_units,
    display_name,
    esc,
    item_name,
    pct,
    plural,
    split_ids,
    unit_label,
)
from .labels import LABELS

if TYPE_CHECKING:
    from ...catalogue import Item
    from ...pipeline import Results

__all__ = ["anchors", "communities_section", "items_section", "sites_section"]

#: A community's directory lists this many facilities of an item, then folds the others.
_FACILITIES_SHOWN = 10


def _head(L: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return "".join(f"<th>{esc(L[k])}</th>" for k in keys)


def _table(cls: str, head: str, rows: list[str]) -> str:
    """A table in its own horizontally scrolling box (the page itself never gets wider)."""
    return (
        f'<div class="fm-scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def anchors(report: Results) -> dict[str, str]:
    """Community id → page anchor of its service directory (``c-0001``, ... by id).

    Examples
    --------
    >>> anchors(rep)  # doctest: +SKIP
    {'1234': 'c-0001', ...}
    """
    ids = sorted(report.coverage.communities["community_id"].astype(str).tolist())
    return {cid: f"c-{k + 1:04d}" for k, cid in enumerate(ids)}


def items_section(report: Results, lang: str, stats: pd.DataFrame) -> str:
    """One row per catalogue item: tier, facilities, share within tier, communities meeting it.

    ``stats`` is :func:`~fifteenmin.output.html.common.item_figures` of the report.

    Examples
    --------
    >>> items_section(rep, "en", item_figures(rep)).startswith('<table class="fm-items">')
    ... # doctest: +SKIP
    True
    """
    L = labels(LABELS, lang)
    cat = report.catalogue
    stats = stats.set_index("item_id")
    n_com = len(report.coverage.communities)
    cat_name = {c.id: c.name(lang) for c in cat.categories}
    rows = []
    for it in cat.items:
        st = stats.loc[it.id]
        rows.append(
            "<tr>"
            f"<td>{esc(it.name(lang))}</td>"
            f"<td>{esc(cat_name.get(it.category, it.category))}</td>"
            f'<td class="fm-num">{it.tier_minutes:g} {esc(L["minutes_short"])}</td>'
            f"<td>{esc(L['yes'] if it.required else L['no'])}</td>"
            f'<td class="fm-num">{int(st["facilities"]):,}</td>'
            f'<td class="fm-num">{esc(pct(float(st["share_within_tier"])))}</td>'
            f'<td class="fm-num">{int(st["communities_met"])} / {n_com}</td>'
            "</tr>"
        )
    head = _head(
        L,
        (
            "item",
            "category",
            "tier",
            "required",
            "facilities",
            "residents_within",
            "communities_met",
        ),
    )
    return _table("fm-items", head, rows)


def sites_section(sites: gpd.GeoDataFrame, report: Results, lang: str) -> str:
    """Table of proposed sites (:func:`fifteenmin.siting.plan_missing` or ``site_facilities``).

    Sorted by item (catalogue order), then step.

    Examples
    --------
    >>> sites_section(plan_missing(rep, k=1), rep, "zh")  # doctest: +SKIP
    """
    L = labels(LABELS, lang)
    ordered = sites.assign(_rank=report.catalogue.rank(sites["item_id"])).sort_values(
        ["_rank", "step"], kind="stable"
    )
    rows = [
        "<tr>"
        f"<td>{esc(item_name(report, r.item_id, lang))}</td>"
        f'<td class="fm-num">{int(r.step)}</td>'
        f'<td class="fm-num">{esc(r.node_id)}</td>'
        f'<td class="fm-num">{r.lon:.6f}, {r.lat:.6f}</td>'
        f'<td class="fm-num">{r.residents_gained:,.0f}</td>'
        f'<td class="fm-num">{esc(pct(float(r.share_after)))}</td>'
        f'<td class="fm-num">{int(r.communities_helped)}</td>'
        "</tr>"
        for r in ordered.itertuples(index=False)
    ]
    units = [str(u) for u in report.coverage.summary.get("weight_units", ())]
    gain = (
        L["site_gain_unit"].format(unit=unit_label(L, units[0]))
        if len(units) == 1
        else L["site_gain"]
    )
    titles = (L["item"], "#", L["site_node"], "lon, lat", gain, L["site_share"], L["site_helped"])
    head = "".join(f"<th>{esc(t)}</th>" for t in titles)
    return f"<p>{esc(L['sites_note'])}</p>" + _table("fm-items fm-sites", head, rows)


def _names(report: Results, item_ids: list[str], lang: str) -> str:
    return labels(LABELS, lang)["list_sep"].join(item_name(report, i, lang) for i in item_ids)


def communities_section(report: Results, lang: str, anchors: Mapping[str, str]) -> str:
    """The communities (by id): an overview table, then each one's service directory.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``.
    anchors
        From :func:`anchors`: each community's ``<details>`` gets its anchor as id.

    Examples
    --------
    >>> html = communities_section(rep, "en", anchors(rep))  # doctest: +SKIP
    """
    L = labels(LABELS, lang)
    com = report.coverage.communities
    com = com.assign(cid_key=com["community_id"].astype(str)).sort_values("cid_key", kind="stable")
    directory = _Directory.of(report, lang)
    out = [
        _overview(report, com, lang, anchors),
        f"<p>{esc(L['directory_note'])}</p>",
    ]
    out += [directory.details(r, anchors[r.cid_key]) for r in com.itertuples(index=False)]
    return "\n".join(out)


#: The labels of the overview's cells after the name and the id.
_CELL_KEYS = ("score", "met", "residents_share", "weight", "missing", "data_gaps_col")


def _overview(report: Results, com: pd.DataFrame, lang: str, anchors: Mapping[str, str]) -> str:
    """One row per community: score, items met, share of residents, missing items, gaps."""
    L = labels(LABELS, lang)
    total_w = float(com["weight"].sum())
    units = community_units(report)
    rows = []
    for r in com.itertuples(index=False):
        cid = r.cid_key
        unit = unit_label(L, units[cid], short=True) if cid in units else ""
        missing = split_ids(r.missing)
        gaps = split_ids(getattr(r, "data_gaps", None))
        cls = "fm-ok" if bool(r.all_met) else "fm-bad"
        share = float(r.weight) / total_w if total_w > 0 else np.nan
        cells = (
            (f' class="fm-num {cls}"', pct(float(r.score))),
            (' class="fm-num"', f"{int(r.n_met)} / {int(r.n_required)}"),
            (' class="fm-num"', pct(share)),
            (' class="fm-num"', f"{float(r.weight):,.0f}\u200a{unit}".rstrip()),
            ("", _names(report, missing, lang) or "–"),
            ("", _names(report, gaps, lang) or "–"),
        )
        name = community_name(r.community_name, lang) or cid
        rows.append(
            f'<tr><td><a href="#{anchors[cid]}">{esc(name)}</a></td>'
            f'<td data-label="{esc(L["id"])}">{esc(cid)}</td>'
            + "".join(
                f'<td{attrs} data-label="{esc(L[key])}">{esc(text)}</td>'
                for (attrs, text), key in zip(cells, _CELL_KEYS, strict=True)
            )
            + "</tr>"
        )
    return _table("fm-communities", _head(L, ("community", "id", *_CELL_KEYS)), rows)


def _nearest_by_community(report: Results) -> dict[tuple[str, str], tuple[float, int]]:
    """Per (community, item): minutes from its best-placed origin to the nearest facility."""
    which = report.origin_nearest
    minutes = report.origin_minutes
    if which is None or not len(minutes):
        return {}
    com = report.residents["community_id"].astype(str).to_numpy()
    ids = [it.id for it in report.travel.items]
    out: dict[tuple[str, str], tuple[float, int]] = {}
    for cid in np.unique(com):
        rows = np.flatnonzero(com == cid)
        sub = np.where(np.isfinite(minutes[rows]), minutes[rows], np.inf)
        best = np.argmin(sub, axis=0)
        for k, o in enumerate(best):
            if np.isfinite(sub[o, k]) and which[rows[o], k] >= 0:
                out[(cid, ids[k])] = (float(sub[o, k]), int(which[rows[o], k]))
    return out


@dataclass(frozen=True)
class _Directory:
    """What every community's service directory reads, grouped once."""

    report: Results
    lang: str
    L: Mapping[str, str]
    #: coverage rows per community id, indexed by item id
    by_com: Mapping[str, pd.DataFrame]
    #: service directory rows per (community id, item id)
    dir_by: Mapping[tuple[str, str], pd.DataFrame]
    #: OSM tags per facility row (``facility`` of the directory)
    tags: np.ndarray
    #: facility names per facility row
    names: np.ndarray
    #: per (community id, item id): minutes to the nearest facility and its row
    nearest: Mapping[tuple[str, str], tuple[float, int]]

    @classmethod
    def of(cls, report: Results, lang: str) -> _Directory:
        table = report.coverage.table.copy()
        table["community_id"] = table["community_id"].astype(str)
        by_com = {
            cid: g.set_index("item_id") for cid, g in table.groupby("community_id", sort=True)
        }
        directory = service_directory(report)
        dir_by = {key: g for key, g in directory.groupby(["community_id", "item_id"], sort=True)}
        fac = facility_frame(report)
        tags, names = fac["tags"].to_numpy(), fac["name"].to_numpy()
        nearest = _nearest_by_community(report)
        return cls(report, lang, labels(LABELS, lang), by_com, dir_by, tags, names, nearest)

    def details(self, r: Any, anchor: str) -> str:
        """The ``<details>`` of one community (a row of the coverage's communities)."""
        L, lang = self.L, self.lang
        cid = r.cid_key
        t = self.by_com.get(cid)
        body = "".join(self._row(it, cid, t) for it in self.report.catalogue.items)
        miss_txt = _names(self.report, split_ids(r.missing), lang) or L["none"]
        gap_txt = _names(self.report, split_ids(getattr(r, "data_gaps", None)), lang) or L["none"]
        head = _head(L, ("item", "tier", "residents_within", "met", "facilities_within"))
        colon = esc(L["colon"])
        name = community_name(r.community_name, lang) or cid
        return (
            f'<details id="{anchor}" class="fm-community">'
            f"<summary>{esc(name)} — {esc(L['score'])} {esc(pct(float(r.score)))}"
            f" ({int(r.n_met)}/{int(r.n_required)})</summary>"
            f"<p><small>{esc(cid)}</small><br>{esc(L['missing'])}{colon}{esc(miss_txt)}<br>"
            f"{esc(L['data_gaps_col'])}{colon}{esc(gap_txt)}</p>"
            f'<div class="fm-scroll"><table class="fm-directory"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div></details>"
        )

    def _row(self, it: Item, cid: str, t: pd.DataFrame | None) -> str:
        """One item of a community's directory: its share, whether met, its facilities."""
        L = self.L
        share = float(t.loc[it.id, "share_within_tier"]) if t is not None else float("nan")
        met = bool(t.loc[it.id, "met"]) if t is not None else False
        status = (
            str(t.loc[it.id, "status"])
            if t is not None and "status" in t.columns
            else ("met" if met else "missing")
        )
        if met:
            cls, met_txt = "fm-ok", L["yes"]
        elif status == "no_data":
            cls, met_txt = "fm-gap", L["status_no_data"]
        else:
            cls, met_txt = ("fm-bad" if it.required else ""), L["no"]
        opt = "" if it.required else f" <small>({esc(L['optional'])})</small>"
        return (
            "<tr>"
            f"<td>{esc(it.name(self.lang))}{opt}</td>"
            f'<td class="fm-num">{it.tier_minutes:g} {esc(L["minutes_short"])}</td>'
            f'<td class="fm-num">{esc(pct(share))}</td>'
            f'<td class="{cls}">{esc(met_txt)}</td>'
            f"<td>{self._facilities(it, cid)}</td>"
            "</tr>"
        )

    def _facilities(self, it: Item, cid: str) -> str:
        """The facilities of one item within its tier of one community, nearest first."""
        L, lang = self.L, self.lang
        d = self.dir_by.get((cid, it.id))
        if d is None or not len(d):
            text = L["no_facility_within"].format(tier=f"{it.tier_minutes:g}")
            near = self.nearest.get((cid, it.id))
            if near is not None:  # the walk is computed: say how far the nearest one is
                minutes, row = near
                nm = display_name(self.names[row], self.tags[row], lang)
                nm = nm or f"{it.name(lang)} ({L['unnamed']})"
                text += L["nearest_beyond"].format(name=nm, minutes=f"{minutes:.1f}")
            return esc(text)
        parts = []
        for f in d.itertuples(index=False):
            nm = display_name(f.name, self.tags[int(f.facility)], lang)
            nm = nm or f"{it.name(lang)} ({L['unnamed']})"
            parts.append(
                f'<span class="fm-f" title="OSM {esc(f.osm_type)}/{esc(f.osm_id)}">'
                f"{esc(nm)}</span> {f.minutes:.1f}&#8202;{esc(L['minutes_short'])} "
                f"<small>({esc(pct(float(f.share_within_tier)))})</small>"
            )
        if len(parts) <= _FACILITIES_SHOWN:
            return "; ".join(parts)
        # the nearest ones; the others folded, so that a row stays shorter than a screen
        more = plural(L, "n_more", len(parts) - _FACILITIES_SHOWN, n=len(parts) - _FACILITIES_SHOWN)
        return (
            "; ".join(parts[:_FACILITIES_SHOWN])
            + f'; <details class="fm-more"><summary>{esc(more)}</summary>'
            + "; ".join(parts[_FACILITIES_SHOWN:])
            + "</details>"
        )
