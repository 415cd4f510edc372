"""The service directory (服务清单): every facility within each item's tier of each community.

Walking minutes follow the walking-time rule of :mod:`fifteenmin.routing`; this module only
reads pipeline results (:class:`fifteenmin.pipeline.Results`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from .routing import reachable

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
    community's resident points (:attr:`Report.residents`) reaches it on foot within the
    item's tier. ``minutes`` is the walk from the nearest such point; ``share_within_tier``
    is the share of the community's resident weight within the tier of *that* facility.
    Walks are measured like :func:`fifteenmin.routing.origin_times` (access distance to the
    street, the network, the facility's access points), with bounded searches
    (:func:`fifteenmin.routing.reachable`) from the resident points.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.

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
    net = report.network
    homes = report.residents
    items = list(tt.items)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DIRECTORY_COLUMNS})
    acc = tt.access
    if len(homes) == 0 or len(acc) == 0 or not items:
        return empty
    tiers = np.array([it.tier_minutes for it in items], dtype=np.float64)
    tier_m = tiers * tt.speed * 60.0
    reach = reachable(net, homes, float(tier_m.max()), engine=report.config.engine)
    n_o = len(reach)
    o_of = np.repeat(np.arange(n_o), np.diff(reach.ptr))
    from_o = pd.DataFrame({"o": o_of, "node": reach.node, "d": reach.dist})

    e = acc["edge"].to_numpy()
    off = acc["offset"].to_numpy()
    a_f = acc["access"].to_numpy()
    length = net.edge_length[e]
    seeds = pd.DataFrame(
        {
            "facility": np.concatenate([acc["facility"].to_numpy()] * 2),
            "item": np.concatenate([acc["item"].to_numpy()] * 2),
            "node": np.concatenate([net.edge_u[e], net.edge_v[e]]).astype(np.int64),
            "extra": np.concatenate([off + a_f, (length - off) + a_f]),
        }
    )
    from_o["node"] = from_o["node"].astype(np.int64)
    m = from_o.merge(seeds, on="node", how="inner")
    via_net = pd.DataFrame(
        {
            "o": m["o"].to_numpy(),
            "facility": m["facility"].to_numpy(),
            "item": m["item"].to_numpy(),
            "d": m["d"].to_numpy() + m["extra"].to_numpy(),
        }
    )
    # facility and home on the same edge: straight along it
    snap = reach.snap
    near = snap.access <= settings.MAX_SNAP_M
    o_tab = pd.DataFrame(
        {"o": np.arange(n_o), "edge": snap.edge, "s": snap.offset, "a": snap.access}
    )[near]
    same = o_tab.merge(acc, on="edge", how="inner")
    direct = pd.DataFrame(
        {
            "o": same["o"].to_numpy(),
            "facility": same["facility"].to_numpy(),
            "item": same["item"].to_numpy(),
            "d": same["a"].to_numpy()
            + np.abs(same["s"].to_numpy() - same["offset"].to_numpy())
            + same["access"].to_numpy(),
        }
    )
    pairs = pd.concat([via_net, direct], ignore_index=True)
    if not len(pairs):
        return empty
    k = pairs["item"].to_numpy().astype(np.int64)
    minutes = pairs["d"].to_numpy() / tt.speed[k] / 60.0
    pairs = pairs.assign(minutes=minutes)
    pairs = pairs[minutes <= tiers[k] * (1 + 1e-12)]
    pairs = pairs.groupby(["o", "facility", "item"], as_index=False, sort=True)["minutes"].min()
    if not len(pairs):
        return empty

    com_of = homes["community_id"].astype(str).to_numpy()
    w = homes["weight"].to_numpy(dtype=np.float64)
    pairs["community_id"] = com_of[pairs["o"].to_numpy()]
    pairs["w"] = w[pairs["o"].to_numpy()]
    com_w = pd.Series(w).groupby(com_of).sum()
    agg = pairs.groupby(["community_id", "item", "facility"], as_index=False, sort=True).agg(
        minutes=("minutes", "min"), w=("w", "sum")
    )
    total = com_w.reindex(agg["community_id"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, agg["w"].to_numpy() / total, np.nan)
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
            "share_within_tier": share,
        },
        columns=DIRECTORY_COLUMNS,
    )
    out["_k"] = agg["item"].to_numpy()
    out = out.sort_values(
        ["community_id", "_k", "minutes", "name", "osm_type", "osm_id", "facility"],
        kind="stable",
    )
    return out.drop(columns="_k").reset_index(drop=True)


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
