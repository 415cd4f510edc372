"""The service directory (服务清单): every facility within each item's tier of each community.

Walking minutes follow the walking-time rule of :mod:`fifteenmin.routing`; this module only
reads pipeline results (:class:`fifteenmin.pipeline.Results`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .network import SnapResult
from .routing import reach_walks, reachable

if TYPE_CHECKING:
    from .pipeline import Results

__all__ = ["DIRECTORY_COLUMNS", "facility_frame", "service_directory"]

#: Columns of :func:`service_directory`.
DIRECTORY_COLUMNS = [
    "community_id",
    "item_id",
    "facility",
    "name",
    "osm_type",
    "osm_id",
    "minutes",
    "share_within_tier",
]


def service_directory(report: Results) -> pd.DataFrame:
    """Every facility within each item's tier of each community, with walking minutes.

    Definition: a facility of an item is listed for a community when at least one of the
    community's resident points (:attr:`Results.residents`) reaches it on foot within the
    item's tier. ``minutes`` is the walk from the nearest such point; ``share_within_tier``
    is the share of the community's resident weight within the tier of *that* facility.
    Walks follow the walking-time rule of :mod:`fifteenmin.routing`, as
    :func:`fifteenmin.routing.origin_times` does (access distance to the street, the
    network, the facility's access points): bounded searches from the resident points
    (:func:`fifteenmin.routing.reachable`), timed by :func:`fifteenmin.routing.reach_walks`.

    Parameters
    ----------
    report
        From :func:`fifteenmin.pipeline.run_pipeline` (or :func:`fifteenmin.run_report`).

    Returns
    -------
    pandas.DataFrame
        :data:`DIRECTORY_COLUMNS`: ``facility`` is the row position in
        ``report.travel.facilities``; sorted by community, item (catalogue order), minutes,
        name and OSM id.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> d = service_directory(run_report())  # doctest: +SKIP
    >>> d[d["item_id"] == "pharmacy"].head()  # doctest: +SKIP
    """
    tt = report.travel
    items = list(tt.items)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DIRECTORY_COLUMNS})
    if len(report.residents) == 0 or len(tt.access) == 0 or not items:
        return empty
    pairs = _pairs_within_tier(report)
    if not len(pairs):
        return empty
    agg = _per_community(report, pairs)
    fac = facility_frame(report)
    rows = agg["facility"].to_numpy()
    out = pd.DataFrame(
        {
            "community_id": agg["community_id"].to_numpy(),
            "item_id": np.array([it.id for it in items], dtype=object)[agg["item"].to_numpy()],
            "facility": rows.astype(np.int64),
            "name": fac["name"].fillna("").astype(str).to_numpy()[rows],
            "osm_type": fac["osm_type"].astype(str).to_numpy()[rows],
            "osm_id": fac["osm_id"].to_numpy()[rows],
            "minutes": agg["minutes"].to_numpy(),
            "share_within_tier": agg["share"].to_numpy(),
        },
        columns=DIRECTORY_COLUMNS,
    )
    out["_k"] = agg["item"].to_numpy()
    out = out.sort_values(
        ["community_id", "_k", "minutes", "name", "osm_type", "osm_id", "facility"],
        kind="stable",
    )
    return out.drop(columns="_k").reset_index(drop=True)


def _pairs_within_tier(report: Results) -> pd.DataFrame:
    """Each resident point's walk to each facility within the item's tier.

    Columns ``o``, ``facility``, ``item``, ``minutes`` (the shortest over the facility's
    access points).
    """
    tt = report.travel
    acc = tt.access
    tiers = np.array([it.tier_minutes for it in tt.items], dtype=np.float64)
    tier_m = tiers * tt.speed * 60.0
    reach = reachable(
        report.network, report.residents, float(tier_m.max()), engine=report.config.engine
    )
    points = SnapResult(acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy())
    o, a, metres = reach_walks(report.network, reach, points, home="sources")
    k = acc["item"].to_numpy()[a].astype(np.int64)
    minutes = metres / tt.speed[k] / 60.0
    pairs = pd.DataFrame(
        {"o": o, "facility": acc["facility"].to_numpy()[a], "item": k, "minutes": minutes}
    )
    pairs = pairs[minutes <= tiers[k] * (1 + 1e-12)]
    return pairs.groupby(["o", "facility", "item"], as_index=False, sort=True)["minutes"].min()


def _per_community(report: Results, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per community, item and facility: the shortest walk and the weight share within the tier.

    Columns ``community_id``, ``item``, ``facility``, ``minutes``, ``w`` and ``share``.
    """
    homes = report.residents
    com_of = homes["community_id"].astype(str).to_numpy()
    w = homes["weight"].to_numpy(dtype=np.float64)
    pairs = pairs.assign(community_id=com_of[pairs["o"].to_numpy()], w=w[pairs["o"].to_numpy()])
    com_w = pd.Series(w).groupby(com_of).sum()
    agg = pairs.groupby(["community_id", "item", "facility"], as_index=False, sort=True).agg(
        minutes=("minutes", "min"), w=("w", "sum")
    )
    total = com_w.reindex(agg["community_id"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, agg["w"].to_numpy() / total, np.nan)
    return agg.assign(share=share)


def facility_frame(report: Results) -> gpd.GeoDataFrame:
    """The facilities in ``report.travel`` row order (``report.facilities`` when it matches)."""
    fac = report.facilities.reset_index(drop=True)
    if len(fac) != len(report.travel.facilities):
        fac = report.travel.facilities.reset_index(drop=True)
    for col, default in (("name", ""), ("osm_type", ""), ("osm_id", 0)):
        if col not in fac.columns:
            fac[col] = default
    if "tags" not in fac.columns:
        fac["tags"] = [{} for _ in range(len(fac))]
    return fac
