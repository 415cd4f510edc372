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
* people: each community's residents in people — the weight itself with a population layer,
  else estimated from residential floor area (``floor_area_per_person``, default
  :data:`settings.FLOOR_AREA_PER_PERSON_M2`) or, as a last resort, from street length
  (``people_per_street_m``, :data:`settings.PEOPLE_PER_STREET_M`); NaN for a community with
  only a representative point. When the communities' weights have different units, the
  weighted rates are weighted by people (over the communities with a people estimate), so
  they exist whenever any community's residents can be counted; ``summary["weighted_by"]``
  says what the weight is.
* assessable items: the required items the data can assess — those with at least one
  facility in the area (all required items when the facility counts are not given).
  ``coverage_rate_assessable`` is the share of scored communities that meet every
  assessable item (``all_met_assessable``), and ``coverage_rate_assessable_weighted`` the
  same weighted like ``coverage_rate_weighted``. ``items_not_assessable`` names the required
  items left out: with any, the strict rate can only be 0 and reports should say "cannot be
  assessed for N items" rather than "0 %".
* roll-ups (:func:`rollup`): the same rates per group of communities (a district, 街道 / 区,
  or a community type, 分类指导), with the mean score and the most missing items.

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
    "GROUP_COLUMNS",
    "ROLLUP_COLUMNS",
    "CoverageResult",
    "headline",
    "item_stats",
    "rollup",
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

#: Columns of the communities carried into :attr:`CoverageResult.communities` and rolled up
#: in the summary (``by_district``, ``by_community_type``) when present.
GROUP_COLUMNS = ("district", "community_type")

#: Columns of a :func:`rollup` table (after the grouping column).
ROLLUP_COLUMNS = [
    "communities",
    "communities_scored",
    "communities_all_met",
    "coverage_rate",
    "communities_all_met_assessable",
    "coverage_rate_assessable",
    "people",
    "people_covered",
    "people_covered_assessable",
    "coverage_rate_weighted",
    "coverage_rate_assessable_weighted",
    "mean_score",
    "items_most_missing",
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
        ``all_met``, ``missing`` and ``data_gaps`` (lists of item ids; ``;``-joined only in
        flat files) and the polygon.
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
        from html import escape

        s = self.summary
        gaps = list(s.get("items_not_assessable") or ())
        strict = (
            f"cannot be assessed for {len(gaps)} items ({escape(', '.join(gaps))})"
            if gaps
            else f"<b>{share_text(s.get('coverage_rate'))}</b>"
        )
        head = (
            f"<p><b>{escape(headline(s))}</b>; coverage rate {strict}; over the assessable "
            f"items <b>{share_text(s.get('coverage_rate_assessable'))}</b> (weighted "
            f"{share_text(s.get('coverage_rate_assessable_weighted'))}); resident-weighted "
            f"{share_text(s.get('coverage_rate_weighted'))}, weighted by "
            f"{escape(str(s.get('weighted_by', 'resident weight')))}</p>"
        )
        cols = [
            "community_id",
            "community_name",
            "score",
            "index",
            "band",
            "n_met",
            "n_required",
            "n_met_assessable",
            "missing",
            "data_gaps",
        ]
        body = self.communities[cols].to_html(
            index=False, escape=True, float_format=lambda v: f"{v:.2f}"
        )
        return head + body

    def __repr__(self) -> str:
        s = self.summary
        gaps = len(s.get("items_not_assessable") or ())
        strict = (
            f"cannot be assessed for {gaps} items"
            if gaps
            else share_text(s.get("coverage_rate"), ".1%")
        )
        people = " of people" if str(s.get("weighted_by", "")).startswith("people") else ""
        return (
            f"CoverageResult({s.get('communities', 0)} communities, coverage rate {strict}, "
            f"over assessable items {share_text(s.get('coverage_rate_assessable'), '.1%')}, "
            f"weighted {share_text(s.get('coverage_rate_assessable_weighted'), '.1%')}{people})"
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
    return first.reindex(com_ids).fillna("none").to_numpy(dtype=object)


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
    floor_area_per_person: float = settings.FLOOR_AREA_PER_PERSON_M2,
    people_per_street_m: float = settings.PEOPLE_PER_STREET_M,
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
    floor_area_per_person
        m² of residential floor area per resident: turns floor-area weights into people.
    people_per_street_m
        Residents per metre of street: turns street-length weights into people.

    Returns
    -------
    CoverageResult
        The communities table carries the communities' ``district`` and ``community_type``
        columns when they have them, and the summary their roll-ups (``by_district``,
        ``by_community_type``, see :func:`rollup`).

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
    # text columns as object arrays of shared str objects: one pointer per row, where numpy
    # strings would become a new str object per row (~100 bytes each, 1.4 M rows per column
    # for 27,556 communities)
    labels = np.array(["met", "no_data", "missing"], dtype=object)
    status = labels[np.where(met, 0, np.where(no_data[None, :], 1, 2))]
    table = pd.DataFrame(
        {
            "community_id": np.repeat(com_ids.astype(object), len(items)),
            "community_name": np.repeat(
                communities["community_name"].astype(str).to_numpy(dtype=object), len(items)
            ),
            "item_id": np.tile(item_ids, len(com_ids)),
            "item_name_zh": np.tile(np.array([it.name_zh for it in items], object), len(com_ids)),
            "item_name_en": np.tile(np.array([it.name_en for it in items], object), len(com_ids)),
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
    factors = _PeopleFactors(float(floor_area_per_person), float(people_per_street_m))
    com = _with_assessable(com, met, required & (counts != 0), units, factors)
    com = _with_groups(com, communities)
    summary = {
        **_rates(com, units),
        **_assessable_rates(com, units, factors, item_ids, required, counts),
        "bands": {label: int((com["band"].to_numpy() == label).sum()) for _, label in bands},
        "threshold": threshold,
        "required_items": int(required.sum()),
        "category_weights": {c: float(w) for c, w in zip(cat_scores.columns, cw, strict=True)},
        "items_most_missing": _most_missing(status, required, item_ids),
        "data_gap_items": {
            "no_facility_in_area": [str(i) for i in item_ids[counts == 0]],
            "osm_sparse": [str(i) for i in item_ids[sparse]],
        },
        **_group_summaries(com),
    }
    return CoverageResult(table=table, communities=com, summary=summary, categories=cat_scores)


def _community_item_stats(
    com_ids: np.ndarray,
    o_com: np.ndarray,
    origins: pd.DataFrame,
    minutes: np.ndarray,
    items: Sequence[Item],
    *,
    quantiles: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Share within the tier and median and p90 minutes per community and item; weights.

    Returns ``share``, ``median``, ``p90`` (communities x items) and the communities' resident
    weights (``quantiles=False``: the shares and weights only; ``median`` and ``p90`` are
    then empty). Items of a priority group (``elderly``, ``children``) are weighted by the origins'
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
    shape = (n_c, n_k) if quantiles else (0, n_k)
    out = _Stats(
        share=np.full((n_c, n_k), np.nan),
        med=np.full(shape, np.nan),
        p90=np.full(shape, np.nan),
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
            _score_block(out, rows, data, idx, quantiles)
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


def _score_block(
    out: _Stats, rows: np.ndarray, data: _Origins, idx: np.ndarray, quantiles: bool = True
) -> None:
    """Fill ``out`` for the communities ``rows``, whose origins are ``idx`` (all of one size).

    Arrays are laid out (communities, items, origins) and C-contiguous, so that sums over
    the origins are numpy's pairwise sums of one contiguous row, as in the one-community
    case; sorts are stable and cumulative sums sequential, as in :func:`weighted_quantile`.
    Each (community, item) is computed from its own row only, so any subset of the items
    (or of the communities) gets the same numbers to the last bit.
    """
    t = np.ascontiguousarray(data.minutes[idx].transpose(0, 2, 1))
    w = np.ascontiguousarray(data.weights[idx].transpose(0, 2, 1)[:, data.column_of_item, :])
    total = w.sum(axis=2)
    ok = ~(total <= 0)  # as in the one-community case, NaN totals are scored (NaN)
    within = (w * (t <= data.tiers[None, :, None])).sum(axis=2)
    out.share[rows] = np.divide(within, total, out=np.full(total.shape, np.nan), where=ok)
    if not quantiles:
        return
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
            "missing": [item_ids[required & (s == "missing")].tolist() for s in status],
            "data_gaps": [item_ids[required & (s == "no_data")].tolist() for s in status],
        },
        geometry=communities.geometry.values,
        crs=communities.crs,
    )


def _rates(com: gpd.GeoDataFrame, units: np.ndarray) -> dict[str, Any]:
    """The area-wide rates and means of the scored communities (see the module docstring)."""
    weight = com["weight"].to_numpy()
    all_met = com["all_met"].to_numpy()
    scored = weight > 0
    w = _rate_weights(com, units)
    n_scored = int(scored.sum())
    return {
        "communities": len(com),
        "communities_scored": n_scored,
        "communities_without_residents": [str(c) for c in com["community_id"][~scored]],
        "communities_all_met": int(all_met.sum()),
        "coverage_rate": float(all_met.sum() / n_scored) if n_scored else 0.0,
        "coverage_rate_weighted": _weighted_share(w, all_met),
        "weight_units": sorted({str(u) for u in units[scored]}),
        "mean_score": float(np.nanmean(com["score"].to_numpy())) if n_scored else 0.0,
        "mean_index": float(np.nanmean(com["index"].to_numpy())) if n_scored else 0.0,
    }


@dataclass(frozen=True)
class _PeopleFactors:
    """People per unit of resident weight (floor area, street length)."""

    floor_area_per_person: float
    people_per_street_m: float

    def __post_init__(self) -> None:
        for name, v in (
            ("floor_area_per_person", self.floor_area_per_person),
            ("people_per_street_m", self.people_per_street_m),
        ):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")

    def of(self, units: np.ndarray) -> np.ndarray:
        """People per unit of weight for each unit (NaN where people cannot be estimated)."""
        factor = {
            "people": 1.0,
            "m2_floor_area": 1.0 / self.floor_area_per_person,
            "m_street": self.people_per_street_m,
        }
        return np.array([factor.get(str(u), np.nan) for u in units], dtype=np.float64)

    def label(self, units: Sequence[str]) -> str:
        """What the weighted rates are weighted by, in words (``summary["weighted_by"]``)."""
        present = set(units)
        if not present:
            return "none"
        if present <= {"point"}:
            return "communities (no residents data: one point each)"
        if present <= {"weight"}:
            return "resident weight (the origins' weights)"
        if present <= {"people"}:
            return "people (population layer)"
        how = []
        if "m2_floor_area" in present:
            how.append(f"floor area at {self.floor_area_per_person:g} m²/person")
        if "m_street" in present:
            how.append(f"street length at {self.people_per_street_m:g} people/m")
        source = "population layer, and estimated from" if "people" in present else "estimated from"
        return f"people ({source} {' and '.join(how)})"


#: Kinds of people estimate per weight unit (``summary["people_estimate"]``).
_ESTIMATES = {
    "people": "population_layer",
    "m2_floor_area": "floor_area",
    "m_street": "street_length",
}


def _with_assessable(
    com: gpd.GeoDataFrame,
    met: np.ndarray,
    assessable: np.ndarray,
    units: np.ndarray,
    factors: _PeopleFactors,
) -> gpd.GeoDataFrame:
    """Add ``people`` and the assessable-item counts (see the module docstring)."""
    scored = com["weight"].to_numpy() > 0
    n_met = (met & assessable[None, :]).sum(axis=1)
    com = com.copy()
    com.insert(3, "people", com["weight"].to_numpy(dtype=np.float64) * factors.of(units))
    at = list(com.columns).index("all_met") + 1
    com.insert(at, "n_assessable", int(assessable.sum()))
    com.insert(at + 1, "n_met_assessable", n_met)
    n_a = int(assessable.sum())  # with no assessable item, nothing is met: no vacuous 100 %
    com.insert(at + 2, "all_met_assessable", (n_met == n_a) & scored & (n_a > 0))
    return com


def _with_groups(com: gpd.GeoDataFrame, communities: pd.DataFrame) -> gpd.GeoDataFrame:
    """Carry the communities' :data:`GROUP_COLUMNS` (text; ``""`` where empty)."""
    for col in GROUP_COLUMNS:
        if col in communities.columns:
            values = communities[col].to_numpy(dtype=object)
            com.insert(2, col, ["" if pd.isna(v) else str(v) for v in values])
    return com


def _rate_weights(com: pd.DataFrame, units: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The weights of the weighted rates and the communities they count (None if none).

    One unit among the scored communities: the residents' weights (people, or that unit:
    a share does not depend on it). Several: people, over the communities with a people
    estimate.
    """
    weight = com["weight"].to_numpy(dtype=np.float64)
    scored = weight > 0
    if len(set(units[scored])) <= 1:
        values, include = weight, scored
    else:
        values = com["people"].to_numpy(dtype=np.float64)
        include = scored & np.isfinite(values) & (values > 0)
    return (values, include) if values[include].sum() > 0 else None


def _weighted_share(w: tuple[np.ndarray, np.ndarray] | None, met: np.ndarray) -> float | None:
    """Share of the weight ``w`` (from :func:`_rate_weights`) in communities where ``met``."""
    if w is None:
        return None
    values, include = w
    return float(values[include & met].sum() / values[include].sum())


def _assessable_rates(
    com: pd.DataFrame,
    units: np.ndarray,
    factors: _PeopleFactors,
    item_ids: np.ndarray,
    required: np.ndarray,
    counts: np.ndarray,
) -> dict[str, Any]:
    """The rates over the assessable items, and the people the residents are."""
    scored = com["weight"].to_numpy() > 0
    n_scored = int(scored.sum())
    all_met_a = com["all_met_assessable"].to_numpy(dtype=bool)
    w = _rate_weights(com, units)
    people = com["people"].to_numpy(dtype=np.float64)
    known = scored & np.isfinite(people)
    kinds = [_ESTIMATES.get(str(u), "none") for u in units[scored]]
    some = bool((required & (counts != 0)).any())  # without an assessable item: no rate
    return {
        "communities_all_met_assessable": int(all_met_a.sum()),
        "coverage_rate_assessable": float(all_met_a.sum() / n_scored)
        if n_scored and some
        else None,
        "coverage_rate_assessable_weighted": _weighted_share(w, all_met_a) if some else None,
        "items_assessable": [str(i) for i in item_ids[required & (counts != 0)]],
        "items_not_assessable": [str(i) for i in item_ids[required & (counts == 0)]],
        "weighted_by": factors.label(sorted({str(u) for u in units[scored]})) + _left_out(kinds),
        "people": float(people[known].sum()) if known.any() else None,
        "people_covered": (
            float(people[known & com["all_met"].to_numpy(dtype=bool)].sum())
            if known.any()
            else None
        ),
        "people_covered_assessable": float(people[known & all_met_a].sum())
        if known.any()
        else None,
        "people_estimate": {
            k: kinds.count(k)
            for k in ("population_layer", "floor_area", "street_length", "none")
            if k in kinds
        },
        "floor_area_per_person_m2": factors.floor_area_per_person,
        "people_per_street_m": factors.people_per_street_m,
    }


def _left_out(kinds: list[str]) -> str:
    """The note on communities without a people estimate, when others have one."""
    n = kinds.count("none")
    if not n or n == len(kinds):
        return ""
    return f"; {n} {'community' if n == 1 else 'communities'} without a people estimate left out"


def _group_summaries(com: pd.DataFrame) -> dict[str, Any]:
    """Roll-ups by the communities' :data:`GROUP_COLUMNS` (summary ``by_<column>``)."""
    out: dict[str, Any] = {}
    weight = "people" if np.isfinite(com["people"].to_numpy(dtype=np.float64)).any() else "weight"
    for col in GROUP_COLUMNS:
        if col in com.columns:
            table = rollup(com, col, weight=weight)
            out[f"by_{col}"] = [
                {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                for row in table.to_dict(orient="records")
            ]
    return out


def _id_lists(values: pd.Series) -> list[list[str]]:
    """Lists of item ids, from lists or ``;``-joined text (a communities layer read back)."""
    out = []
    for v in values:
        if isinstance(v, str):
            out.append([x for x in v.split(";") if x])
        elif v is None or (isinstance(v, float) and v != v):
            out.append([])
        else:
            out.append([str(x) for x in v])
    return out


def rollup(
    communities: pd.DataFrame,
    by: str,
    *,
    weight: str = "people",
    top: int = settings.ROLLUP_MOST_MISSING,
) -> pd.DataFrame:
    """Coverage rates of groups of communities (districts, 街道 / 区, community types, …).

    Parameters
    ----------
    communities
        One row per community, as :attr:`CoverageResult.communities` (or the
        ``communities`` layer of ``communities.gpkg``): ``weight``, ``all_met``,
        ``all_met_assessable``, ``score``, ``missing`` and the column ``by``; ``people`` (or
        the column named by ``weight``) for the weighted figures.
    by
        The grouping column; its values are the groups (empty for unassigned communities).
    weight
        The column weighting the rates (``people`` by default); NaN weights are left out of
        the weighted rates.
    top
        How many of the most missing items to list per group.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by the group's name: ``by`` then :data:`ROLLUP_COLUMNS`.
        Only scored communities (with residents, ``weight > 0``) count in the rates;
        ``coverage_rate*`` are shares of them (NaN without any), ``people*`` sums of
        ``weight`` (NaN where it is not known), ``mean_score`` the mean score, and
        ``items_most_missing`` a dict of item id to the number of the group's communities
        missing it (service gaps, most first, at most ``top``).

    Examples
    --------
    >>> import pandas as pd
    >>> com = pd.DataFrame({
    ...     "district": ["东城", "东城", "西城"], "weight": [100.0, 300.0, 50.0],
    ...     "people": [100.0, 300.0, 50.0], "all_met": [True, False, False],
    ...     "all_met_assessable": [True, True, False], "score": [1.0, 0.5, 0.0],
    ...     "missing": [[], ["pharmacy"], ["pharmacy", "park"]]})
    >>> t = rollup(com, "district")
    >>> t[["district", "communities", "coverage_rate", "coverage_rate_assessable_weighted"]]
      district  communities  coverage_rate  coverage_rate_assessable_weighted
    0       东城            2            0.5                                1.0
    1       西城            1            0.0                                0.0
    >>> t.loc[0, "items_most_missing"]
    {'pharmacy': 1}
    """
    if by not in communities.columns:
        raise KeyError(f"no column {by!r} to group the communities by")
    base = communities["weight"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "group": ["" if pd.isna(v) else str(v) for v in communities[by]],
            "scored": base > 0,
            "w": communities[weight].to_numpy(dtype=np.float64),
            "all_met": communities["all_met"].to_numpy(dtype=bool),
            "all_met_a": communities["all_met_assessable"].to_numpy(dtype=bool),
            "score": communities["score"].to_numpy(dtype=np.float64),
        }
    )
    missing = _id_lists(communities["missing"])
    # no assessable item at all (n_assessable 0): the assessable rates are not defined
    none_a = "n_assessable" in communities.columns and not (communities["n_assessable"] > 0).any()
    scored_all = frame["scored"].to_numpy()
    rows = []
    for name, idx in sorted(frame.groupby("group", sort=False).indices.items()):
        g = frame.iloc[idx]
        s = g[g["scored"]]
        n = len(s)
        known = s[np.isfinite(s["w"]) & (s["w"] > 0)]
        total = float(known["w"].sum())
        counts: dict[str, int] = {}
        for k in idx:
            if scored_all[k]:
                for item in missing[k]:
                    counts[item] = counts.get(item, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        rows.append(
            {
                by: name,
                "communities": len(g),
                "communities_scored": n,
                "communities_all_met": int(s["all_met"].sum()),
                "coverage_rate": float(s["all_met"].sum() / n) if n else np.nan,
                "communities_all_met_assessable": int(s["all_met_a"].sum()),
                "coverage_rate_assessable": float(s["all_met_a"].sum() / n)
                if n and not none_a
                else np.nan,
                "people": total if len(known) else np.nan,
                "people_covered": float(known["w"][known["all_met"]].sum())
                if len(known)
                else np.nan,
                "people_covered_assessable": float(known["w"][known["all_met_a"]].sum())
                if len(known)
                else np.nan,
                "coverage_rate_weighted": float(known["w"][known["all_met"]].sum() / total)
                if total > 0
                else np.nan,
                "coverage_rate_assessable_weighted": float(
                    known["w"][known["all_met_a"]].sum() / total
                )
                if total > 0 and not none_a
                else np.nan,
                "mean_score": float(s["score"].mean()) if n else np.nan,
                "items_most_missing": dict(ranked),
            }
        )
    return pd.DataFrame(rows, columns=[by, *ROLLUP_COLUMNS])


def headline(figures: Mapping[str, Any], lang: str = settings.LANG) -> str:
    """The city line of a report: "N communities, X % covered" (zh: "N 个社区，覆盖率 X%").

    ``X`` is the strict rate when every required item can be assessed; otherwise it is the
    rate over the assessable items, and the line says for how many items coverage cannot be
    assessed (never a bare "0 %").

    Parameters
    ----------
    figures
        :attr:`CoverageResult.summary`, or a row of :func:`rollup` (as a dict) with
        ``items_not_assessable`` added.
    lang
        ``"en"`` or ``"zh"``.

    Examples
    --------
    >>> headline({"communities_scored": 2540, "coverage_rate": 0.84,
    ...           "coverage_rate_assessable": 0.84, "items_not_assessable": []})
    '2,540 communities, 84 % covered'
    >>> headline({"communities_scored": 12, "coverage_rate": 0.0,
    ...           "coverage_rate_assessable": 0.25, "items_not_assessable": ["a", "b"]}, "zh")
    '12 个社区，覆盖率 25%（按可评估项目计；2 项无法评估）'
    """
    n = int(figures.get("communities_scored", figures.get("communities", 0)) or 0)
    gaps = len(figures.get("items_not_assessable") or ())
    raw = figures.get("coverage_rate_assessable" if gaps else "coverage_rate")
    rate = float("nan") if raw is None else float(raw)
    valid = rate == rate
    if lang == "zh":
        text = f"{n:,} 个社区，覆盖率 " + (f"{100 * rate:.0f}%" if valid else "无法计算")
        return text + (f"（按可评估项目计；{gaps} 项无法评估）" if gaps else "")
    text = f"{n:,} communities, " + (f"{100 * rate:.0f} % covered" if valid else "n/a")
    suffix = "" if gaps == 1 else "s"
    return text + (
        f" (over the assessable items; cannot be assessed for {gaps} item{suffix})" if gaps else ""
    )


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
    # the table's rows grouped by item once (a stable sort keeps each item's rows in table
    # order, so every sum below adds the same numbers in the same order as a filter would)
    codes, uniques = pd.factorize(table["item_id"].to_numpy(dtype=object))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    slot = {u: j for j, u in enumerate(uniques)}
    all_share = table["share_within_tier"].to_numpy(dtype=np.float64)[order]
    all_w = w.reindex(table["community_id"].astype(str).to_numpy()).to_numpy(dtype=np.float64)
    all_w = all_w[order]
    all_met = table["met"].to_numpy().astype(bool)[order]
    rows = []
    for it in items:
        j = slot.get(it.id)
        lo, hi = (int(bounds[j]), int(bounds[j + 1])) if j is not None else (0, 0)
        share, tw = all_share[lo:hi], all_w[lo:hi]
        ok = np.isfinite(share) & np.isfinite(tw) & (tw > 0)
        weighted = float((share[ok] * tw[ok]).sum() / tw[ok].sum()) if ok.any() else float("nan")
        rows.append(
            {
                "item_id": it.id,
                "facilities": int(facilities.get(it.id, 0)),
                "share_within_tier": weighted,
                "communities_met": int(all_met[lo:hi].sum()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the figures of a coverage without its tables (opening hours score many coverages)


@dataclass(frozen=True, eq=False)
class _Figures:
    """What :mod:`fifteenmin.hours` reads of a coverage: per item, and two area-wide rates.

    ``communities_met`` and ``share_within_tier`` are :func:`item_stats`'s columns;
    ``summary`` holds ``coverage_rate`` and ``coverage_rate_weighted`` as in
    :attr:`CoverageResult.summary`. All are the numbers :func:`score_coverage` gives for the
    same minutes, to the last bit.
    """

    communities_met: np.ndarray
    share_within_tier: np.ndarray
    summary: dict[str, Any]


def _community_shares(
    communities: pd.DataFrame, origins: pd.DataFrame, minutes: np.ndarray, items: Sequence[Item]
) -> tuple[np.ndarray, np.ndarray]:
    """``share_within_tier`` (communities x items) and the communities' weights.

    As :func:`score_coverage` computes them, without the quantiles; the columns of any subset
    of the items are the same numbers as those of all items.
    """
    minutes = np.asarray(minutes, dtype=np.float64)
    if minutes.shape != (len(origins), len(items)):
        raise ValueError(
            f"minutes has shape {minutes.shape}, expected "
            f"(n_origins={len(origins)}, n_items={len(items)})"
        )
    com_ids = communities["community_id"].astype(str).to_numpy()
    o_com = origins["community_id"].astype(str).to_numpy()
    share, _, _, weight = _community_item_stats(
        com_ids, o_com, origins, minutes, items, quantiles=False
    )
    return share, weight


def _community_units(communities: pd.DataFrame, origins: pd.DataFrame) -> np.ndarray:
    """The weight unit of each community, as :func:`score_coverage` finds it."""
    com_ids = communities["community_id"].astype(str).to_numpy()
    return _weight_units(origins, origins["community_id"].astype(str).to_numpy(), com_ids)


def _figures(
    share: np.ndarray,
    weight: np.ndarray,
    items: Sequence[Item],
    units: np.ndarray,
    *,
    threshold: float = settings.THRESHOLD,
    floor_area_per_person: float = settings.FLOOR_AREA_PER_PERSON_M2,
    people_per_street_m: float = settings.PEOPLE_PER_STREET_M,
) -> _Figures:
    """The :class:`_Figures` of the shares of :func:`_community_shares`.

    The steps of :func:`score_coverage` (``met``, ``all_met``, the rates) and of
    :func:`item_stats` (the per-item sums, over the communities in their order), on arrays.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    required = np.array([it.required for it in items], dtype=bool)
    met = np.nan_to_num(share, nan=0.0) >= threshold
    n_req = int(required.sum())
    scored = weight > 0
    all_met = ((met & required[None, :]).sum(axis=1) == n_req) & scored
    factors = _PeopleFactors(float(floor_area_per_person), float(people_per_street_m))
    weight = np.asarray(weight, dtype=np.float64)
    com = pd.DataFrame({"weight": weight, "people": weight * factors.of(units)})
    n_scored = int(scored.sum())
    summary = {
        "coverage_rate": float(all_met.sum() / n_scored) if n_scored else 0.0,
        "coverage_rate_weighted": _weighted_share(_rate_weights(com, units), all_met),
    }
    n_k = len(items)
    within = np.full(n_k, np.nan)
    for k in range(n_k):
        s = np.ascontiguousarray(share[:, k])
        ok = np.isfinite(s) & np.isfinite(weight) & (weight > 0)
        if ok.any():
            within[k] = float((s[ok] * weight[ok]).sum() / weight[ok].sum())
    return _Figures(
        communities_met=met.sum(axis=0).astype(np.int64),
        share_within_tier=within,
        summary=summary,
    )
