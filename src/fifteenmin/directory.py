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
from ._kernel_jit import HAVE_NUMBA, njit, row_walks
from .network import SnapResult, snap_points
from .routing import _EndIndex, _reach_snapped, reach_walks, reachable

if TYPE_CHECKING:
    from .pipeline import Results

__all__ = ["DIRECTORY_COLUMNS", "facility_frame", "service_directory"]

#: Resident points per batch of bounded searches (bounds the memory of their results).
SEARCH_CHUNK = 4096

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
    points = SnapResult(acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy())
    item = acc["item"].to_numpy().astype(np.int64)
    if HAVE_NUMBA:
        o, a, metres = _walks_within(report, points, item, tier_m)
    else:
        reach = reachable(
            report.network, report.residents, float(tier_m.max()), engine=report.config.engine
        )
        o, a, metres = reach_walks(report.network, reach, points, home="sources")
    k = item[a]
    minutes = metres / tt.speed[k] / 60.0
    pairs = pd.DataFrame(
        {"o": o, "facility": acc["facility"].to_numpy()[a], "item": k, "minutes": minutes}
    )
    pairs = pairs[minutes <= tiers[k] * (1 + 1e-12)]
    return pairs.groupby(["o", "facility", "item"], as_index=False, sort=True)["minutes"].min()


def _walks_within(
    report: Results, points: SnapResult, item: np.ndarray, tier_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The resident points' walks to the access points that may be within their item's tier.

    The walks of :func:`fifteenmin.routing.reach_walks` (``home="sources"``), bit for bit.

    The same walks, summed the same way (each the shortest of the sums via either end of the
    point's edge and the straight walk along a shared edge), from bounded searches a batch of
    residents at a time: the pairs beyond every tier are never kept. Unordered.
    """
    net = report.network
    homes = snap_points(net, report.residents)
    index = _EndIndex.of(net, points)
    # a superset of the walks within the tier (the caller applies the exact minute test)
    limit = tier_m * (1.0 + 1e-9) + 1e-9
    p_edges = np.ascontiguousarray(points.edge[index.by_edge])
    legs = np.ascontiguousarray(index.legs.ravel())
    n_p = len(points)
    best = np.zeros(n_p)
    stamp = np.full(n_p, -1, dtype=np.int64)
    touched = np.zeros(n_p, dtype=np.int64)
    parts = []
    for start in range(0, len(homes), SEARCH_CHUNK):
        ids = np.arange(start, min(start + SEARCH_CHUNK, len(homes)))
        snap = SnapResult(homes.edge[ids], homes.offset[ids], homes.access[ids])
        reach = _reach_snapped(
            net, snap, float(tier_m.max()), settings.MAX_SNAP_M, report.config.engine
        )
        o, a, m = _near_walks(
            reach.ptr, reach.node, reach.dist, reach.joined,
            snap.edge, snap.offset, snap.access,
            index.node_ptr, index.by_node, legs, p_edges, index.by_edge,
            points.offset, points.access, item, limit, best, stamp, touched,
        )  # fmt: skip
        parts.append((o + start, a, m))
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))  # type: ignore[return-value]


@njit(cache=True, nogil=True, boundscheck=False)
def _near_walks(
    ptr: np.ndarray,
    node: np.ndarray,
    dist: np.ndarray,
    joined: np.ndarray,
    s_edge: np.ndarray,
    s_offset: np.ndarray,
    s_access: np.ndarray,
    node_ptr: np.ndarray,
    by_node: np.ndarray,
    legs: np.ndarray,
    p_edges: np.ndarray,
    p_by_edge: np.ndarray,
    p_offset: np.ndarray,
    p_access: np.ndarray,
    item: np.ndarray,
    limit: np.ndarray,
    best: np.ndarray,
    stamp: np.ndarray,
    touched: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source row, every point's shortest walk within ``limit`` of its item.

    A walk is ``d + leg`` at a reached end node of the point's edge, or ``access +
    |offset - offset| + access`` along a shared edge. Returns ``(row, point, metres)``.
    ``best``, ``stamp`` (all ``-1``) and ``touched`` are scratch arrays over the points.
    """
    cap = 1024
    out_o = np.empty(cap, np.int64)
    out_p = np.empty(cap, np.int64)
    out_m = np.empty(cap)
    n = 0
    reach = (ptr, node, dist)
    ends = (node_ptr, by_node, legs, np.arange(len(p_offset)))
    along = (p_edges, p_by_edge, p_offset, p_access)
    for r in range(len(ptr) - 1):
        e = s_edge[r] if joined[r] else -1
        origin = (e, s_offset[r], s_access[r])
        k = row_walks(r, reach, ends, origin, along, best, stamp, touched)
        for q in range(k):
            p = touched[q]
            stamp[p] = -1
            if best[p] <= limit[item[p]]:
                if n == cap:
                    cap *= 2
                    out_o = np.concatenate((out_o, np.empty(cap - n, np.int64)))
                    out_p = np.concatenate((out_p, np.empty(cap - n, np.int64)))
                    out_m = np.concatenate((out_m, np.empty(cap - n)))
                out_o[n] = r
                out_p[n] = p
                out_m[n] = best[p]
                n += 1
    return out_o[:n], out_p[:n], out_m[:n]


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
