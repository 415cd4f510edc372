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
  ``coverage_rate_weighted``: the same weighted by the communities' resident weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .catalogue import Item

__all__ = ["COVERAGE_COLUMNS", "CoverageResult", "score_coverage", "weighted_quantile"]

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
]
DEFAULT_THRESHOLD = 0.8


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
        weight), ``n_required``, ``n_met``, ``score``, ``all_met``, ``missing`` (``;``-joined
        item ids) and the polygon.
    summary
        Area-wide figures: ``communities``, ``coverage_rate``, ``coverage_rate_weighted``,
        ``threshold``, ``mean_score``.
    """

    table: pd.DataFrame
    communities: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:

        s = self.summary
        head = (
            f"<p><b>{s.get('communities', 0)}</b> communities; coverage rate "
            f"<b>{s.get('coverage_rate', 0):.0%}</b> (resident-weighted "
            f"{s.get('coverage_rate_weighted', 0):.0%})</p>"
        )
        cols = ["community_id", "community_name", "score", "n_met", "n_required", "missing"]
        body = self.communities[cols].to_html(
            index=False, escape=True, float_format=lambda v: f"{v:.2f}"
        )
        return head + body

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"CoverageResult({s.get('communities', 0)} communities, coverage rate "
            f"{s.get('coverage_rate', 0):.1%}, weighted {s.get('coverage_rate_weighted', 0):.1%})"
        )

    def explore(self, **kwargs: Any) -> Any:
        """Interactive map of the communities coloured by score (``GeoDataFrame.explore``)."""
        kwargs.setdefault("column", "score")
        kwargs.setdefault("cmap", "RdYlGn")
        kwargs.setdefault("vmin", 0.0)
        kwargs.setdefault("vmax", 1.0)
        kwargs.setdefault("attr", "© OpenStreetMap contributors")
        return self.communities.explore(**kwargs)


def score_coverage(
    communities: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    minutes: np.ndarray,
    items: Sequence[Item],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> CoverageResult:
    """Score every community against the catalogue items.

    Parameters
    ----------
    communities
        ``community_id``, ``community_name`` and polygons.
    origins
        ``community_id`` and ``weight`` per origin (residents).
    minutes
        ``(n_origins, n_items)`` walking minutes (``inf`` where unreachable).
    items
        The catalogue items, in column order of ``minutes``.
    threshold
        Share of residents within the tier for an item to count as met.

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
    tiers = np.array([it.tier_minutes for it in items], dtype=np.float64)
    required = np.array([it.required for it in items], dtype=bool)
    com_ids = communities["community_id"].astype(str).to_numpy()
    com_names = communities["community_name"].astype(str).to_numpy()
    o_com = origins["community_id"].astype(str).to_numpy()
    o_w = origins["weight"].to_numpy(dtype=np.float64)
    groups = pd.Series(np.arange(len(o_com))).groupby(o_com).indices

    n_c, n_k = len(com_ids), len(items)
    share = np.full((n_c, n_k), np.nan)
    med = np.full((n_c, n_k), np.nan)
    p90 = np.full((n_c, n_k), np.nan)
    weight = np.zeros(n_c)
    for c, cid in enumerate(com_ids):
        idx = groups.get(cid)
        if idx is None or len(idx) == 0:
            continue
        w = o_w[idx]
        weight[c] = w.sum()
        if weight[c] <= 0:
            continue
        t = minutes[idx]
        share[c] = (w[:, None] * (t <= tiers[None, :])).sum(axis=0) / weight[c]
        for k in range(n_k):
            med[c, k] = weighted_quantile(t[:, k], w, 0.5)
            p90[c, k] = weighted_quantile(t[:, k], w, 0.9)
    med[~np.isfinite(med)] = np.nan
    p90[~np.isfinite(p90)] = np.nan
    met = np.nan_to_num(share, nan=0.0) >= threshold

    table = pd.DataFrame(
        {
            "community_id": np.repeat(com_ids, n_k),
            "community_name": np.repeat(com_names, n_k),
            "item_id": np.tile([it.id for it in items], n_c),
            "item_name_zh": np.tile([it.name_zh for it in items], n_c),
            "item_name_en": np.tile([it.name_en for it in items], n_c),
            "tier_minutes": np.tile(tiers, n_c),
            "share_within_tier": share.ravel(),
            "median_minutes": med.ravel(),
            "p90_minutes": p90.ravel(),
            "met": met.ravel(),
        },
        columns=COVERAGE_COLUMNS,
    )
    n_req = int(required.sum())
    n_met = (met & required[None, :]).sum(axis=1)
    score = n_met / n_req if n_req else np.ones(n_c)
    all_met = n_met == n_req
    item_ids = np.array([it.id for it in items], dtype=object)
    missing = [";".join(item_ids[required & ~met[c]]) for c in range(n_c)]
    com = gpd.GeoDataFrame(
        {
            "community_id": com_ids,
            "community_name": com_names,
            "weight": weight,
            "n_required": n_req,
            "n_met": n_met,
            "score": score,
            "all_met": all_met,
            "missing": missing,
        },
        geometry=communities.geometry.values,
        crs=communities.crs,
    )
    total_w = weight.sum()
    summary = {
        "communities": n_c,
        "communities_all_met": int(all_met.sum()),
        "coverage_rate": float(all_met.mean()) if n_c else 0.0,
        "coverage_rate_weighted": float(weight[all_met].sum() / total_w) if total_w > 0 else 0.0,
        "mean_score": float(np.mean(score)) if n_c else 0.0,
        "threshold": threshold,
        "required_items": n_req,
    }
    return CoverageResult(table=table, communities=com, summary=summary)
