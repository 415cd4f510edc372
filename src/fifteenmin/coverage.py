"""Coverage scores: per community and item, per community, and for the whole area.

Definitions (all resident-weighted with the origin weights of
:func:`fifteenmin.communities.residents`):

* ``share_within_tier``: share of the community's resident weight whose walk to the nearest
  facility of the item takes at most the item's tier (minutes);
* ``median_minutes`` / ``p90_minutes``: weighted quantiles of those walking times — the
  smallest time ``t`` such that the residents within ``t`` hold at least 50 % (90 %) of the
  weight; empty (NaN) when that time lies beyond the search cutoff;
* ``met``: ``share_within_tier >= threshold`` (default 0.8);
* community ``score``: share of the catalogue's *required* items that are met; ``missing``: the
  required items not met;
* ``coverage_rate``: share of communities that meet every required item, and
  ``coverage_rate_weighted``: the same weighted by the communities' resident weight. Resident
  weights are people with a population layer, but floor area (m²) or street length (m) when
  estimated from OSM; those units cannot be added across communities, so the weighted rate is
  ``None`` when the communities' origins use different units (``summary["weight_units"]``).
  Communities without residents are not scored (score NaN) and not counted in either rate.

Service gaps and data gaps are kept apart. An item that is not met is a *data gap* (``status``
``"no_data"``) when no facility of it exists anywhere in the study area (the map may simply not
show it), or when its OSM tagging is known to be sparse (``Item.osm_sparse``: the result must
be checked with local data); otherwise it is a *service gap* (``"missing"``). A community's
``missing`` lists its required service gaps and ``data_gaps`` its required data gaps.

Priority groups: items whose ``priority_group`` is ``"elderly"`` (elderly care, health) or
``"children"`` (nursery, kindergarten, primary school, playground) are weighted by the
origins' ``weight_elderly`` / ``weight_children`` columns when the residents carry them
(population layers with age groups), else by ``weight``.

Composite index: per community, the share of required items met in each catalogue category;
the index is the weighted mean of those category scores (equal weights by default,
configurable with ``category_weights``) on a 0-100 scale, and ``band`` classifies it with
:data:`settings.BANDS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from .catalogue import Item

__all__ = [
    "COVERAGE_COLUMNS",
    "CoverageResult",
    "item_stats",
    "score_coverage",
    "share_text",
    "weighted_quantile",
]

COVERAGE_COLUMNS = [
    "community_id",
    "community_name",
    "item_id",
    "item_name_zh",
    "item_name_en",
    "tier_minutes",
    "share_within_tier",
    "median_minutes",
    "p90_minutes",
    "met",
    "status",
    "facilities_in_area",
]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value ``v`` such that the weight of values ``<= v`` is at least ``q`` of the total.

    Parameters
    ----------
    values, weights
        1-D arrays of the same length; weights >= 0 with a positive sum.
    q
        Quantile in (0, 1].

    Returns
    -------
    float
        The quantile (may be ``inf`` when values are ``inf``); NaN for empty input.

    Examples
    --------
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), 0.5)
    2.0
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if len(values) == 0 or total <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    k = int(np.searchsorted(cum, q * total * (1 - 1e-12), side="left"))
    return float(values[order][min(k, len(values) - 1)])


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of every community by every catalogue item.

    Attributes
    ----------
    table
        One row per community and item (:data:`COVERAGE_COLUMNS`).
    communities
        One row per community: ``community_id``, ``community_name``, ``weight`` (resident
        weight), ``n_required``, ``n_met``, ``score``, ``index`` (composite, 0-100), ``band``,
        ``all_met``, ``missing`` and ``data_gaps`` (``;``-joined item ids) and the polygon.
    categories
        Per community (rows) and category (columns): share of the category's required items
        met (NaN where a category has no required item).
    summary
        Area-wide figures: ``communities``, ``coverage_rate``, ``coverage_rate_weighted``,
        ``threshold``, ``mean_score``, ``mean_index``, ``bands``, ``items_most_missing``,
        ``data_gap_items``.
    """

    table: pd.DataFrame
    communities: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    categories: pd.DataFrame = field(default_factory=pd.DataFrame)

    def matrix(self) -> pd.DataFrame:
        """The community x item matrix: one row per community, two columns per item.

        ``<item_id>_minutes`` is the resident-weighted median walk to the item's nearest
        facility, ``<item_id>_status`` its status (met / missing / no_data), in the row order
        of :attr:`communities` and the items' order in :attr:`table` (catalogue order).

        Examples
        --------
        >>> m = result.matrix()  # doctest: +SKIP
        >>> m.loc[m["pharmacy_status"] == "missing", "community_id"]  # doctest: +SKIP
        """
        ids = self.communities["community_id"].astype(str).to_numpy()
        table = self.table.assign(_cid=self.table["community_id"].astype(str))
        out = pd.DataFrame({"community_id": ids})
        for item_id, rows in table.groupby("item_id", sort=False):
            rows = rows.set_index("_cid")
            out[f"{item_id}_minutes"] = rows["median_minutes"].reindex(ids).to_numpy(dtype=float)
            out[f"{item_id}_status"] = rows["status"].reindex(ids).fillna("no_data").to_numpy()
        return out

    def _repr_html_(self) -> str:
        s = self.summary
        head = (
            f"<p><b>{s.get('communities', 0)}</b> communities; coverage rate "
            f"<b>{s.get('coverage_rate', 0):.0%}</b> (resident-weighted "
            f"{share_text(s.get('coverage_rate_weighted'))})</p>"
        )
        cols = [
            "community_id",
            "community_name",
            "score",
            "index",
            "band",
            "n_met",
            "n_required",
            "missing",
            "data_gaps",
        ]
        body = self.communities[cols].to_html(
            index=False, escape=True, float_format=lambda v: f"{v:.2f}"
        )
        return head + body

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"CoverageResult({s.get('communities', 0)} communities, coverage rate "
            f"{s.get('coverage_rate', 0):.1%}, weighted "
            f"{share_text(s.get('coverage_rate_weighted'), '.1%')})"
        )

    def explore(self, **kwargs: Any) -> Any:
        """Interactive map of the communities coloured by score, with a legend.

        Works offline (Leaflet inlined, see :mod:`fifteenmin._maps`); keyword arguments go
        to :func:`fifteenmin._maps.explore_frame`.

        Examples
        --------
        >>> result.explore()  # doctest: +SKIP
        """
        from ._maps import explore_frame

        kwargs.setdefault("column", "score")
        kwargs.setdefault("classes", settings.SCORE_CLASSES)
        kwargs.setdefault("legend", "Share of required items met")
        kwargs.setdefault("label", lambda lo, hi: f"{lo:.0%} - {hi:.0%}")
        kwargs.setdefault("tooltip", ["community_name", "score", "index", "band", "n_met"])
        return explore_frame(self.communities, **kwargs)


def share_text(v: float | None, fmt: str = ".0%") -> str:
    """A share as text; ``n/a`` when it cannot be computed (weights not comparable).

    Examples
    --------
    >>> share_text(0.8125), share_text(None), share_text(0.8125, ".1%")
    ('81%', 'n/a', '81.2%')
    """
    return "n/a" if v is None else format(v, fmt)


def _weight_units(origins: pd.DataFrame, o_com: np.ndarray, com_ids: np.ndarray) -> np.ndarray:
    """Weight unit of each community (its first origin's ``weight_unit``; "weight" if absent)."""
    if "weight_unit" not in origins.columns:
        return np.full(len(com_ids), "weight", dtype=object)
    first = pd.Series(origins["weight_unit"].astype(str).to_numpy()).groupby(o_com).first()
    return np.array([first.get(c, "none") for c in com_ids], dtype=object)


def _band(index: np.ndarray, bands: Sequence[tuple[float, str]]) -> np.ndarray:
    ordered = sorted(bands, key=lambda b: -b[0])
    out = np.full(len(index), ordered[-1][1], dtype=object)
    for lower, label in reversed(ordered):
        out[index >= lower] = label
    return out


def score_coverage(
    communities: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    minutes: np.ndarray,
    items: Sequence[Item],
    *,
    threshold: float = settings.THRESHOLD,
    facility_counts: Mapping[str, int] | None = None,
    category_weights: Mapping[str, float] | None = None,
    bands: Sequence[tuple[float, str]] = settings.BANDS,
) -> CoverageResult:
    """Score every community against the catalogue items.

    Parameters
    ----------
    communities
        ``community_id``, ``community_name`` and polygons.
    origins
        ``community_id`` and ``weight`` per origin (residents); optional ``weight_elderly`` and
        ``weight_children`` for priority-group items.
    minutes
        ``(n_origins, n_items)`` walking minutes (``inf`` where unreachable).
    items
        The catalogue items, in column order of ``minutes``.
    threshold
        Share of residents within the tier for an item to count as met.
    facility_counts
        Facilities per item id in the study area; an item with none is a data gap. Without
        it, only ``osm_sparse`` items are data gaps.
    category_weights
        Weight of each category in the composite index (missing categories weigh 1; a
        weight of 0 leaves a category out).
    bands
        ``(lower bound, label)`` pairs classifying the index.

    Returns
    -------
    CoverageResult

    Examples
    --------
    >>> res = score_coverage(communities, homes, minutes, catalogue.items)  # doctest: +SKIP
    >>> res.summary["coverage_rate"]  # doctest: +SKIP
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    minutes = np.asarray(minutes, dtype=np.float64)
    if minutes.shape != (len(origins), len(items)):
        raise ValueError(
            f"minutes has shape {minutes.shape}, expected "
            f"(n_origins={len(origins)}, n_items={len(items)})"
        )
    required = np.array([it.required for it in items], dtype=bool)
    item_ids = np.array([it.id for it in items], dtype=object)
    com_ids = communities["community_id"].astype(str).to_numpy()
    o_com = origins["community_id"].astype(str).to_numpy()
    share, med, p90, weight = _community_item_stats(com_ids, o_com, origins, minutes, items)
    met = np.nan_to_num(share, nan=0.0) >= threshold
    counts = np.array(
        [int(facility_counts.get(it.id, 0)) if facility_counts is not None else -1 for it in items]
    )
    sparse = np.array([bool(getattr(it, "osm_sparse", False)) for it in items])
    no_data = (counts == 0) | sparse  # per item
    status = np.where(met, "met", np.where(no_data[None, :], "no_data", "missing"))
    table = pd.DataFrame(
        {
            "community_id": np.repeat(com_ids, len(items)),
            "community_name": np.repeat(
                communities["community_name"].astype(str).to_numpy(), len(items)
            ),
            "item_id": np.tile(item_ids, len(com_ids)),
            "item_name_zh": np.tile([it.name_zh for it in items], len(com_ids)),
            "item_name_en": np.tile([it.name_en for it in items], len(com_ids)),
            "tier_minutes": np.tile([float(it.tier_minutes) for it in items], len(com_ids)),
            "share_within_tier": share.ravel(),
            "median_minutes": med.ravel(),
            "p90_minutes": p90.ravel(),
            "met": met.ravel(),
            "status": status.ravel(),
            "facilities_in_area": np.tile(np.where(counts < 0, pd.NA, counts), len(com_ids)),
        },
        columns=COVERAGE_COLUMNS,
    )
    cat_scores, cw = _category_scores(com_ids, items, met, required, category_weights)
    com = _community_scores(
        communities, weight, met, status, required, item_ids, cat_scores, cw, bands
    )
    units = _weight_units(origins, o_com, com_ids)
    summary = {
        **_rates(com, units),
        "bands": {label: int((com["band"].to_numpy() == label).sum()) for _, label in bands},
        "threshold": threshold,
        "required_items": int(required.sum()),
        "category_weights": {c: float(w) for c, w in zip(cat_scores.columns, cw, strict=True)},
        "items_most_missing": _most_missing(status, required, item_ids),
        "data_gap_items": {
            "no_facility_in_area": [str(i) for i in item_ids[counts == 0]],
            "osm_sparse": [str(i) for i in item_ids[sparse]],
        },
    }
    return CoverageResult(table=table, communities=com, summary=summary, categories=cat_scores)


def _community_item_stats(
    com_ids: np.ndarray,
    o_com: np.ndarray,
    origins: pd.DataFrame,
    minutes: np.ndarray,
    items: Sequence[Item],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Share within the tier and median and p90 minutes per community and item; weights.

    Returns ``share``, ``median``, ``p90`` (communities x items) and the communities' resident
    weights. Items of a priority group (``elderly``, ``children``) are weighted by the origins'
    ``weight_<group>`` column when there is one. Quantiles beyond the search cutoff (``inf``)
    are NaN; so is everything of a community without weight for the item.

    Communities with the same number of origins are scored together, as blocks of
    (communities x items x origins): every sum, sort and cumulative sum then runs over one
    community's origins in their own order, exactly as :func:`weighted_quantile` does for one
    community and item, so the results are the same to the last bit.
    """
    data = _Origins.of(origins, minutes, items)
    groups = pd.Series(np.arange(len(o_com))).groupby(o_com).indices
    n_c, n_k = len(com_ids), len(items)
    out = _Stats(
        share=np.full((n_c, n_k), np.nan),
        med=np.full((n_c, n_k), np.nan),
        p90=np.full((n_c, n_k), np.nan),
        weight=np.zeros(n_c),
    )
    by_size: dict[int, list[tuple[int, np.ndarray]]] = {}
    for c, cid in enumerate(com_ids):
        idx = groups.get(cid)
        if idx is not None and len(idx):
            by_size.setdefault(len(idx), []).append((c, idx))
    for n, members in by_size.items():
        step = max(1, _BLOCK_VALUES // (n * max(n_k, 1)))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            rows = np.array([c for c, _ in chunk], dtype=np.int64)
            idx = np.stack([i for _, i in chunk])  # (communities, n): origins in their order
            out.weight[rows] = data.weights[idx, 0].sum(axis=1)
            _score_block(out, rows, data, idx)
    out.med[~np.isfinite(out.med)] = np.nan
    out.p90[~np.isfinite(out.p90)] = np.nan
    return out.share, out.med, out.p90, out.weight


#: Values (communities x items x origins) scored at once by :func:`_community_item_stats`.
_BLOCK_VALUES = 1 << 21


@dataclass
class _Origins:
    """What the scoring needs of the origins: minutes, weight columns, tiers."""

    minutes: np.ndarray  # (origins, items)
    weights: np.ndarray  # (origins, weight columns): weight, then weight_<group> columns
    column_of_item: np.ndarray  # (items,) the weight column of each item
    tiers: np.ndarray  # (items,)

    @classmethod
    def of(cls, origins: pd.DataFrame, minutes: np.ndarray, items: Sequence[Item]) -> _Origins:
        groups = [g for g in ("elderly", "children") if f"weight_{g}" in origins.columns]
        names = ["weight", *(f"weight_{g}" for g in groups)]
        column = {g: k for k, g in enumerate(groups, start=1)}
        return cls(
            minutes=minutes,
            weights=np.stack([origins[c].to_numpy(dtype=np.float64) for c in names], axis=1),
            column_of_item=np.array(
                [column.get(getattr(it, "priority_group", None) or "", 0) for it in items],
                dtype=np.int64,
            ),
            tiers=np.array([it.tier_minutes for it in items], dtype=np.float64),
        )


@dataclass
class _Stats:
    share: np.ndarray
    med: np.ndarray
    p90: np.ndarray
    weight: np.ndarray


def _score_block(out: _Stats, rows: np.ndarray, data: _Origins, idx: np.ndarray) -> None:
    """Fill ``out`` for the communities ``rows``, whose origins are ``idx`` (all of one size).

    Arrays are laid out (communities, items, origins) and C-contiguous, so that sums over
    the origins are numpy's pairwise sums of one contiguous row, as in the one-community
    case; sorts are stable and cumulative sums sequential, as in :func:`weighted_quantile`.
    """
    t = np.ascontiguousarray(data.minutes[idx].transpose(0, 2, 1))
    w = np.ascontiguousarray(data.weights[idx].transpose(0, 2, 1)[:, data.column_of_item, :])
    total = w.sum(axis=2)
    ok = ~(total <= 0)  # as in the one-community case, NaN totals are scored (NaN)
    within = (w * (t <= data.tiers[None, :, None])).sum(axis=2)
    out.share[rows] = np.divide(within, total, out=np.full(total.shape, np.nan), where=ok)
    n = t.shape[2]
    row_start = np.arange(0, t.size, n).reshape(total.shape)
    flat = (np.argsort(t, axis=2, kind="stable") + row_start[..., None]).ravel()
    t_sorted = t.ravel()[flat]
    cum = np.cumsum(w.ravel()[flat].reshape(t.shape), axis=2)
    # cum is non-decreasing where no weight is negative or NaN: there, counting the values
    # below the target is searchsorted(side="left"); elsewhere ask searchsorted itself
    irregular = np.argwhere(~(w >= 0).all(axis=2) & ok)
    for q, res in ((0.5, out.med), (0.9, out.p90)):
        target = q * total * (1 - 1e-12)
        k = (cum < target[..., None]).sum(axis=2)
        for b, j in irregular:
            k[b, j] = np.searchsorted(cum[b, j], target[b, j], side="left")
        res[rows] = np.where(ok, t_sorted[row_start + np.minimum(k, n - 1)], np.nan)


def _category_scores(
    com_ids: np.ndarray,
    items: Sequence[Item],
    met: np.ndarray,
    required: np.ndarray,
    category_weights: Mapping[str, float] | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Share of each category's required items met per community; the categories' weights.

    The weights (``category_weights``, 1 where not given) weigh the categories in the
    composite index.
    """
    cat_of = np.array([getattr(it, "category", "all") for it in items], dtype=object)
    cat_ids = list(dict.fromkeys(cat_of[required]))
    cat_scores = pd.DataFrame(index=pd.Index(com_ids, name="community_id"))
    for cid in cat_ids:
        cols = required & (cat_of == cid)
        cat_scores[cid] = met[:, cols].sum(axis=1) / cols.sum()
    cw = np.array([float((category_weights or {}).get(c, 1.0)) for c in cat_ids])
    if np.any(cw < 0):
        raise ValueError(
            f"category weights must be >= 0, got {dict(zip(cat_ids, cw, strict=True))}"
        )
    return cat_scores, cw


def _community_scores(
    communities: gpd.GeoDataFrame,
    weight: np.ndarray,
    met: np.ndarray,
    status: np.ndarray,
    required: np.ndarray,
    item_ids: np.ndarray,
    cat_scores: pd.DataFrame,
    cw: np.ndarray,
    bands: Sequence[tuple[float, str]],
) -> gpd.GeoDataFrame:
    """One row per community: weight, items met, score, composite index, band, gaps.

    Communities without residents (no origin, or zero weight) are not scored: their score
    and index are NaN, their band empty and ``all_met`` False.
    """
    n_req = int(required.sum())
    n_met = (met & required[None, :]).sum(axis=1)
    score = n_met / n_req if n_req else np.ones(len(weight))
    all_met = n_met == n_req
    if len(cat_scores.columns) and cw.sum() > 0:
        index = 100.0 * (cat_scores.to_numpy() * cw[None, :]).sum(axis=1) / cw.sum()
    else:
        index = 100.0 * np.asarray(score, dtype=float)
    band = _band(index, bands)
    scored = weight > 0
    return gpd.GeoDataFrame(
        {
            "community_id": communities["community_id"].astype(str).to_numpy(),
            "community_name": communities["community_name"].astype(str).to_numpy(),
            "weight": weight,
            "n_required": n_req,
            "n_met": n_met,
            "score": np.where(scored, score, np.nan),
            "index": np.where(scored, index, np.nan),
            "band": np.where(scored, band, ""),
            "all_met": all_met & scored,
            "missing": [";".join(item_ids[required & (s == "missing")]) for s in status],
            "data_gaps": [";".join(item_ids[required & (s == "no_data")]) for s in status],
        },
        geometry=communities.geometry.values,
        crs=communities.crs,
    )


def _rates(com: gpd.GeoDataFrame, units: np.ndarray) -> dict[str, Any]:
    """The area-wide rates and means of the scored communities (see the module docstring)."""
    weight = com["weight"].to_numpy()
    all_met = com["all_met"].to_numpy()
    scored = weight > 0
    comparable = len(set(units[scored])) <= 1
    total_w = weight[scored].sum()
    n_scored = int(scored.sum())
    return {
        "communities": len(com),
        "communities_scored": n_scored,
        "communities_without_residents": [str(c) for c in com["community_id"][~scored]],
        "communities_all_met": int(all_met.sum()),
        "coverage_rate": float(all_met.sum() / n_scored) if n_scored else 0.0,
        "coverage_rate_weighted": (
            float(weight[all_met].sum() / total_w) if total_w > 0 and comparable else None
        ),
        "weight_units": sorted({str(u) for u in units[scored]}),
        "mean_score": float(np.nanmean(com["score"].to_numpy())) if n_scored else 0.0,
        "mean_index": float(np.nanmean(com["index"].to_numpy())) if n_scored else 0.0,
    }


def _most_missing(status: np.ndarray, required: np.ndarray, item_ids: np.ndarray) -> dict[str, int]:
    """Required items by the number of communities where they are a service gap (most first)."""
    miss_count = (status == "missing") & required[None, :]
    order = np.argsort(-miss_count.sum(axis=0), kind="stable")
    return {
        str(item_ids[k]): int(miss_count[:, k].sum()) for k in order if miss_count[:, k].sum() > 0
    }


def item_stats(
    coverage: CoverageResult, items: Sequence[Item], facilities: Mapping[str, int]
) -> pd.DataFrame:
    """Per item: facilities, resident-weighted share within tier, communities meeting it.

    Parameters
    ----------
    coverage
        From :func:`score_coverage`.
    items
        The catalogue items, in the order of the rows.
    facilities
        Number of facilities per item id.

    Returns
    -------
    pandas.DataFrame
        Columns ``item_id``, ``facilities``, ``share_within_tier`` (the communities' shares
        weighted by their resident weight; NaN where no community has weight),
        ``communities_met``.

    Examples
    --------
    >>> item_stats(result, cat.items, {"pharmacy": 3})  # doctest: +SKIP
    """
    table = coverage.table
    com = coverage.communities
    w = pd.Series(
        com["weight"].to_numpy(dtype=np.float64), index=com["community_id"].astype(str).to_numpy()
    )
    rows = []
    for it in items:
        t = table[table["item_id"] == it.id]
        share = t["share_within_tier"].to_numpy(dtype=np.float64)
        tw = w.reindex(t["community_id"].astype(str).to_numpy()).to_numpy(dtype=np.float64)
        ok = np.isfinite(share) & np.isfinite(tw) & (tw > 0)
        weighted = float((share[ok] * tw[ok]).sum() / tw[ok].sum()) if ok.any() else float("nan")
        rows.append(
            {
                "item_id": it.id,
                "facilities": int(facilities.get(it.id, 0)),
                "share_within_tier": weighted,
                "communities_met": int(t["met"].astype(bool).sum()),
            }
        )
    return pd.DataFrame(rows)
