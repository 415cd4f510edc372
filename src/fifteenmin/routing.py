"""Walking times to the nearest facility of every catalogue item, and the walking-time rule.

One multi-source shortest-path search per item, from all of that item's facilities at once,
gives for every network node the distance to the nearest facility and which facility it is
(:func:`travel_times`).

The walking-time rule lives here, once: a point (a home, a candidate site) snapped onto an
edge reaches a facility by walking to either end node of its edge (:func:`end_legs`) and on
through the network to one of the facility's access points, or — when they share the edge —
straight along it (:func:`along_edge`); both straight-line access distances count
(:func:`rule_metres`). :func:`origin_times` applies it to the searches of
:func:`travel_times`, :func:`reach_walks` to bounded searches (:func:`reachable`, used by
:mod:`fifteenmin.siting` and :mod:`fifteenmin.directory`).

The search runs in :mod:`fifteenmin._kernel` (a compiled bucket-queue Dijkstra, with
``scipy.sparse.csgraph`` as reference and fallback), with a cutoff just above the largest
tier so that the work stays local.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _kernel, _snap, settings
from .catalogue import Catalogue, Item, load_catalogue
from .facilities import access_points
from .network import SnapResult, WalkNetwork, _segment_grid, snap_points

__all__ = [
    "Reach",
    "TravelTimes",
    "along_edge",
    "edge_seeds",
    "end_legs",
    "item_speeds",
    "origin_times",
    "reach_walks",
    "reachable",
    "rule_metres",
    "travel_times",
]


def _speeds(items: Sequence[Item], speed: float | Mapping[str, float]) -> np.ndarray:
    if isinstance(speed, Mapping):
        out = np.array([float(speed.get(it.id, settings.WALK_SPEED_M_S)) for it in items])
    else:
        out = np.full(len(items), float(speed))
    if not np.all(np.isfinite(out)) or np.any(out <= 0):
        raise ValueError(f"walking speeds must be positive numbers of m/s, got {out.tolist()}")
    return out


def item_speeds(
    catalogue: str | Catalogue,
    base: float | None = None,
    *,
    per_item: bool = True,
    profiles: Mapping[str, float] = settings.SPEED_PROFILES,
) -> dict[str, float]:
    """Walking speed (m/s) of every catalogue item.

    Items use ``base`` (default: the ``default`` profile, 1.11 m/s) unless ``per_item`` and the
    item names another profile (``speed_profile: elderly`` for elderly-care and health items).

    Examples
    --------
    >>> sp = item_speeds("beijing")
    >>> sp["elderly_day_care"], round(sp["pharmacy"], 2)
    (1.0, 1.11)
    """
    cat = load_catalogue(catalogue)
    base_speed = float(profiles["default"] if base is None else base)
    out = {}
    for it in cat.items:
        prof = getattr(it, "speed_profile", "default") or "default"
        if per_item and prof != "default":
            if prof not in profiles:
                raise ValueError(
                    f"item {it.id!r} asks for walking-speed profile {prof!r}; known profiles: "
                    f"{sorted(profiles)}"
                )
            out[it.id] = float(profiles[prof])
        else:
            out[it.id] = base_speed
    return out


def end_legs(net: WalkNetwork, snap: SnapResult) -> tuple[np.ndarray, np.ndarray]:
    """The first leg of every walk from a snapped point: to either end node of its edge.

    A point at ``offset`` metres along edge ``e`` (from its ``u`` end), ``access`` metres from
    the street, reaches ``u`` after ``access + offset`` and ``v`` after
    ``access + (length - offset)``. This is the one place where those sums are formed.

    Parameters
    ----------
    net
        The walking network.
    snap
        The points snapped onto edges (:func:`fifteenmin.network.snap_points`).

    Returns
    -------
    node : numpy.ndarray
        ``(n, 2)`` int64: the ``u`` and ``v`` end of every point's edge.
    metres : numpy.ndarray
        ``(n, 2)`` float64: the walks to them.

    Examples
    --------
    >>> import numpy as np
    >>> from fifteenmin import network_from_file, sample_path, snap_points
    >>> net = network_from_file(sample_path())
    >>> snap = snap_points(net, np.column_stack([net.x[:1], net.y[:1]]))  # on a node
    >>> node, metres = end_legs(net, snap)
    >>> node.shape, bool(metres.min() == 0.0)
    ((1, 2), True)
    """
    edge = snap.edge
    length = net.edge_length[edge]
    node = np.column_stack([net.edge_u[edge], net.edge_v[edge]]).astype(np.int64)
    metres = np.column_stack([snap.access + snap.offset, snap.access + (length - snap.offset)])
    return node, metres


def edge_seeds(
    net: WalkNetwork, edge: np.ndarray, offset: np.ndarray, access: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Seeds of points snapped onto edges: both end nodes, with their initial distances.

    The legs of :func:`end_legs`, flattened for a shortest-path search.

    Returns
    -------
    node : numpy.ndarray
        ``(2 * n,)`` int32: ``u`` then ``v`` for every point.
    dist : numpy.ndarray
        ``(2 * n,)`` float64 initial distances in metres.

    Examples
    --------
    >>> s = snap_points(net, homes)  # doctest: +SKIP
    >>> node, dist = edge_seeds(net, s.edge, s.offset, s.access)  # doctest: +SKIP
    """
    node, metres = end_legs(net, SnapResult(edge=edge, offset=offset, access=access))
    return node.ravel().astype(np.int32), metres.ravel()


@dataclass(frozen=True, eq=False)
class Reach:
    """Nodes reachable from each point within a distance (sparse CSR rows).

    Attributes
    ----------
    ptr, node, dist
        Point ``i`` reaches ``node[ptr[i]:ptr[i+1]]`` at ``dist[...]`` metres (sorted by node).
    snap
        Where each point joined the network.
    max_snap_m
        Points farther than this from every street reach nothing.
    """

    ptr: np.ndarray
    node: np.ndarray
    dist: np.ndarray
    snap: SnapResult
    max_snap_m: float = settings.MAX_SNAP_M

    def __len__(self) -> int:
        return len(self.ptr) - 1

    @property
    def joined(self) -> np.ndarray:
        """Boolean mask of the points close enough to a street to walk anywhere."""
        return np.asarray(self.snap.access <= self.max_snap_m)


def reachable(
    net: WalkNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    cutoff_m: float | np.ndarray,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> Reach:
    """Every network node within ``cutoff_m`` metres of each point (bounded searches).

    Points are snapped onto their nearest edge (access distance and the walk along the edge
    count); the result is sparse, never one n-wide row per point. Points farther than
    ``max_snap_m`` from every street reach nothing.

    Parameters
    ----------
    net
        The walking network.
    points
        Points with a CRS, shapely points in ``net.crs``, or an ``(n, 2)`` x/y array.
    cutoff_m
        Distance limit in metres, one for all or one per point.
    max_snap_m
        Largest access distance.
    engine
        ``"auto"``, ``"numba"`` or ``"scipy"``.

    Returns
    -------
    Reach

    Examples
    --------
    >>> r = reachable(net, homes, 1000.0)  # doctest: +SKIP
    >>> r.node[r.ptr[0]:r.ptr[1]]  # nodes within 1 km of the first home  # doctest: +SKIP
    """
    return _reach_snapped(net, snap_points(net, points), cutoff_m, max_snap_m, engine)


def _reach_snapped(
    net: WalkNetwork, snap: SnapResult, cutoff_m: float | np.ndarray, max_snap_m: float, engine: str
) -> Reach:
    """:func:`reachable` from points already snapped onto the network."""
    n = len(snap)
    node, dist = edge_seeds(net, snap.edge, snap.offset, snap.access)
    cut = np.broadcast_to(np.asarray(cutoff_m, dtype=np.float64), (n,)).copy()
    cut[snap.access > max_snap_m] = -1.0  # nothing reachable
    ok = np.repeat(cut >= 0, 2)
    counts = np.repeat(2, n)
    counts[cut < 0] = 0
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    out_ptr, out_node, out_dist = _kernel.bounded_search(
        net.indptr,
        net.indices,
        net.lengths,
        ptr,
        node[ok],
        dist[ok],
        np.maximum(cut, 0.0),
        engine=engine,
    )
    return Reach(ptr=out_ptr, node=out_node, dist=out_dist, snap=snap, max_snap_m=max_snap_m)


# --------------------------------------------------------------------------------------------
# the walking-time rule


def along_edge(home: SnapResult, other: SnapResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of points on the same edge, and the straight walk along it between them.

    The walk is ``home.access + |home.offset - other.offset| + other.access``: the home's
    access distance is added first (the sum is the same up to rounding either way; this
    order keeps every caller's results bitwise equal).

    Parameters
    ----------
    home, other
        Points snapped onto edges.

    Returns
    -------
    home_index, other_index : numpy.ndarray
        int64 positions of the pairs, ordered by home, then by other.
    metres : numpy.ndarray
        The straight walk of each pair.

    Examples
    --------
    >>> import numpy as np
    >>> from fifteenmin.network import SnapResult
    >>> a = SnapResult(np.array([0, 1]), np.array([10.0, 5.0]), np.array([2.0, 1.0]))
    >>> b = SnapResult(np.array([1, 1, 2]), np.array([0.0, 8.0, 3.0]), np.array([1.0, 0.5, 1.0]))
    >>> hi, oi, m = along_edge(a, b)
    >>> hi.tolist(), oi.tolist(), m.tolist()
    ([1, 1], [0, 1], [7.0, 4.5])
    """
    return _along_edge_sorted(home, other, np.argsort(other.edge, kind="stable"))


def _along_edge_sorted(
    home: SnapResult, other: SnapResult, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`along_edge` with ``order`` = ``np.argsort(other.edge, kind="stable")`` given."""
    e_sorted = other.edge[order]
    lo = np.searchsorted(e_sorted, home.edge, side="left")
    cnt = np.searchsorted(e_sorted, home.edge, side="right") - lo
    hi = np.repeat(np.arange(len(home.edge), dtype=np.int64), cnt)
    oi = order[np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())].astype(np.int64)
    metres = home.access[hi] + np.abs(home.offset[hi] - other.offset[oi]) + other.access[oi]
    return hi, oi, metres


def rule_metres(
    legs: np.ndarray, at_ends: np.ndarray, straight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The walking-time rule: the shortest of the walks via either end node, or straight.

    A point snapped onto an edge reaches a target by walking to the ``u`` or ``v`` end of its
    edge (``legs``, from :func:`end_legs`) and on through the network (``at_ends``: the
    target's network distance from that end node, the target's own access distance
    included), or, when both lie on the same edge, straight along it (``straight``, from
    :func:`along_edge`; ``inf`` where they do not).

    Parameters
    ----------
    legs
        ``(..., 2)`` walks from the point to the ``u`` and ``v`` end of its edge.
    at_ends
        ``(..., 2)`` distances from those end nodes to the target (``inf``: not reached);
        broadcast against ``legs``.
    straight
        ``(...)`` straight walks along a shared edge, or None.

    Returns
    -------
    metres : numpy.ndarray
        ``(...)`` the shortest walk: ``at_ends + legs`` at the better end (``u`` on a tie), or
        the straight walk when it is strictly shorter.
    route : numpy.ndarray
        ``(...)`` int8: 0 via ``u``, 1 via ``v``, 2 straight.

    Examples
    --------
    >>> import numpy as np
    >>> legs = np.array([[3.0, 7.0], [3.0, 7.0]])
    >>> at_ends = np.array([[10.0, 2.0], [10.0, 2.0]])
    >>> m, route = rule_metres(legs, at_ends, np.array([np.inf, 4.0]))
    >>> m.tolist(), route.tolist()
    ([9.0, 4.0], [1, 2])
    """
    du = at_ends[..., 0] + legs[..., 0]
    dv = at_ends[..., 1] + legs[..., 1]
    use_v = dv < du
    metres = np.where(use_v, dv, du)
    route = use_v.astype(np.int8)
    if straight is not None:
        better = straight < metres
        metres = np.where(better, straight, metres)
        route[better] = 2
    return metres, route


def reach_walks(
    net: WalkNetwork,
    reach: Reach,
    points: SnapResult,
    *,
    home: Literal["points", "sources"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walks by the walking-time rule between the sources of bounded searches and points.

    A point counts for a source when the source's search (:func:`reachable`) reached an end
    node of the point's edge, or when both lie on the same edge; its walk is
    :func:`rule_metres` of the point's :func:`end_legs`, the search's distances at those
    end nodes and the straight walk of :func:`along_edge`. Every point is taken as joined to
    the network: leave out beforehand those too far from every street.

    Parameters
    ----------
    net
        The walking network.
    reach
        Bounded searches from the sources (homes, candidate sites).
    points
        The other ends of the walks (residents, facility access points), snapped onto edges.
    home
        Which side's access distance the straight walk adds first (``"points"`` or
        ``"sources"``), as in :func:`along_edge`.

    Returns
    -------
    source, point : numpy.ndarray
        int64 positions of every pair with a walk, sorted by source then point.
    metres : numpy.ndarray
        The walk of each pair (not limited: compare with a tier yourself).

    Examples
    --------
    >>> r = reachable(net, sites, 1200.0)  # doctest: +SKIP
    >>> homes_snapped = snap_points(net, homes)  # doctest: +SKIP
    >>> site, home, metres = reach_walks(net, r, homes_snapped, home="points")  # doctest: +SKIP
    """
    return _reach_walks(net, reach, _EndIndex.of(net, points), home)


def _reach_routes(
    net: WalkNetwork, reach: Reach, index: _EndIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The walks of :func:`reach_walks` (``home="sources"``), one per route, not yet combined.

    Every walk via an end node of a point's edge that a source's search reached (the sum
    ``at_ends + legs`` of :func:`rule_metres`) and every straight walk along a shared edge;
    a pair's walk in :func:`reach_walks` is the shortest of its routes. Cheaper when only
    comparisons with a limit are needed: a pair is within it when one of its routes is.
    """
    points, legs, by_node, node_ptr = index.points, index.legs, index.by_node, index.node_ptr
    if len(points) == 0 or len(reach) == 0:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0)
    start, per = node_ptr[reach.node], node_ptr[reach.node + 1] - node_ptr[reach.node]
    row = np.repeat(np.arange(len(reach.node)), per)
    slot = by_node[np.repeat(start - np.cumsum(per) + per, per) + np.arange(per.sum())]
    src = np.repeat(np.arange(len(reach), dtype=np.int64), np.diff(reach.ptr))[row]
    via = reach.dist[row] + legs.ravel()[slot]
    joined = np.flatnonzero(reach.joined)
    sources = SnapResult(
        reach.snap.edge[joined], reach.snap.offset[joined], reach.snap.access[joined]
    )
    si, pi, straight = _along_edge_sorted(sources, points, index.by_edge)
    return (
        np.concatenate([src, joined[si]]),
        np.concatenate([slot // 2, pi]),
        np.concatenate([via, straight]),
    )


@dataclass(frozen=True, eq=False)
class _EndIndex:
    """The points of :func:`reach_walks` by the end nodes and the edge they are snapped onto.

    Built once for many calls of :func:`_reach_walks` with the same points.
    """

    points: SnapResult
    legs: np.ndarray  # (n, 2) walks to the u and v end (end_legs)
    by_node: np.ndarray  # positions in ends.ravel(), sorted by node
    node_ptr: np.ndarray  # by_node[node_ptr[v]:node_ptr[v+1]]: slots ending at node v
    by_edge: np.ndarray  # np.argsort(points.edge, kind="stable")

    @classmethod
    def of(cls, net: WalkNetwork, points: SnapResult) -> _EndIndex:
        ends, legs = end_legs(net, points)
        flat = ends.ravel()
        node_ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(flat, minlength=net.n_nodes), out=node_ptr[1:])
        return cls(
            points,
            legs,
            np.argsort(flat, kind="stable"),
            node_ptr,
            np.argsort(points.edge, kind="stable"),
        )


def _reach_walks(
    net: WalkNetwork, reach: Reach, index: _EndIndex, home: Literal["points", "sources"]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`reach_walks` with the points' :class:`_EndIndex` built beforehand."""
    points, legs, by_node, node_ptr = index.points, index.legs, index.by_node, index.node_ptr
    n_p = len(points)
    if n_p == 0 or len(reach) == 0:
        none = np.zeros(0, dtype=np.int64)
        return none, none, np.zeros(0)
    # the reached rows joined with the points whose edge ends there
    start, per = node_ptr[reach.node], node_ptr[reach.node + 1] - node_ptr[reach.node]
    row = np.repeat(np.arange(len(reach.node)), per)
    slot = by_node[np.repeat(start - np.cumsum(per) + per, per) + np.arange(per.sum())]
    src = np.repeat(np.arange(len(reach), dtype=np.int64), np.diff(reach.ptr))[row]
    via_key = src * n_p + slot // 2
    # the pairs on the same edge
    joined = np.flatnonzero(reach.joined)
    sources = SnapResult(
        reach.snap.edge[joined], reach.snap.offset[joined], reach.snap.access[joined]
    )
    if home == "points":
        pi, si, straight = along_edge(points, sources)
    else:
        si, pi, straight = _along_edge_sorted(sources, points, index.by_edge)
    keys, inv = np.unique(np.concatenate([via_key, joined[si] * n_p + pi]), return_inverse=True)
    at_ends = np.full((len(keys), 2), np.inf)
    at_ends[inv[: len(via_key)], slot % 2] = reach.dist[row]
    best_straight = np.full(len(keys), np.inf)
    best_straight[inv[len(via_key) :]] = straight
    metres, _ = rule_metres(legs[keys % n_p], at_ends, best_straight)
    return keys // n_p, keys % n_p, metres


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Distances from every network node to the nearest facility of every item.

    Attributes
    ----------
    items
        The catalogue items, in row order.
    metres
        ``(n_items, n_nodes)`` walking distance in metres to the nearest facility
        (``inf`` beyond the item's cutoff or with no facility).
    facility
        ``(n_items, n_nodes)`` row position in :attr:`facilities` of that facility, or -1.
    speed
        Walking speed per item (m/s).
    cutoff_m
        Search cutoff per item (metres).
    facilities
        The facilities searched from.
    access
        Facility access points snapped onto edges: ``facility``, ``item``, ``edge``,
        ``offset``, ``access``.
    """

    items: tuple[Item, ...]
    metres: np.ndarray
    facility: np.ndarray
    speed: np.ndarray
    cutoff_m: np.ndarray
    facilities: gpd.GeoDataFrame
    access: pd.DataFrame = field(repr=False)

    @property
    def item_ids(self) -> list[str]:
        """Item ids in row order."""
        return [it.id for it in self.items]

    def minutes(self) -> np.ndarray:
        """``(n_items, n_nodes)`` walking minutes to the nearest facility."""
        return self.metres / self.speed[:, None] / 60.0

    def summary(self) -> pd.DataFrame:
        """One row per item: facilities, tier, speed, share of nodes within the tier, median.

        Examples
        --------
        >>> tt.summary().head()  # doctest: +SKIP
        """
        minutes = self.minutes()
        tiers = np.array([it.tier_minutes for it in self.items], dtype=np.float64)
        counts = self.facilities["item_id"].value_counts() if len(self.facilities) else {}
        reached = np.where(np.isfinite(minutes), minutes, np.nan)
        median = np.full(len(tiers), np.nan)
        some = np.isfinite(reached).any(axis=1)  # items no node reaches have no median
        if some.any():
            median[some] = np.nanmedian(reached[some], axis=1)
        return pd.DataFrame(
            {
                "item_id": self.item_ids,
                "facilities": [int(counts.get(i, 0)) for i in self.item_ids],
                "tier_minutes": tiers,
                "speed_m_s": self.speed,
                "nodes_within_tier": (minutes <= tiers[:, None]).mean(axis=1),
                "median_minutes": median,
            }
        )

    def _repr_html_(self) -> str:
        body = self.summary().to_html(
            index=False, escape=True, float_format=lambda v: f"{v:.2f}", na_rep="–"
        )
        return f"<p>Travel times to the nearest facility of {len(self.items)} items</p>{body}"

    def explore(self, net: WalkNetwork, item_id: str, **kwargs: Any) -> Any:
        """Map of the network's nodes coloured by walking minutes to the nearest ``item_id``.

        Examples
        --------
        >>> tt.explore(net, "pharmacy")  # doctest: +SKIP
        """
        from ._maps import explore_frame

        k = self.item_ids.index(item_id)
        nodes = net.nodes_gdf()
        minutes = self.minutes()[k]
        nodes["minutes"] = np.where(np.isfinite(minutes), minutes, np.nan)
        kwargs.setdefault("column", "minutes")
        kwargs.setdefault("classes", settings.MINUTE_CLASSES)
        kwargs.setdefault("legend", f"Walking minutes to {item_id}")
        kwargs.setdefault("label", lambda lo, hi: f"{lo:g}-{hi:g} min")
        kwargs.setdefault("tooltip", ["node_id", "minutes"])
        return explore_frame(nodes, **kwargs)

    def to_frame(self, net: WalkNetwork) -> pd.DataFrame:
        """Walking minutes per node (rows: OSM node ids) and item (columns).

        Examples
        --------
        >>> tt.to_frame(net).describe()  # doctest: +SKIP
        """
        return pd.DataFrame(
            self.minutes().T, index=pd.Index(net.node_id, name="node_id"), columns=self.item_ids
        )


def travel_times(
    net: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    catalogue: str | Catalogue = "beijing",
    *,
    speed: float | Mapping[str, float] = settings.WALK_SPEED_M_S,
    cutoff_minutes: float | None = None,
    entrances: gpd.GeoSeries | None = None,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> TravelTimes:
    """Walking distance from every node to the nearest facility of every catalogue item.

    Parameters
    ----------
    net
        The walking network.
    facilities
        From :func:`fifteenmin.facilities.facilities_from_osm` (``item_id`` + geometry).
    catalogue
        The catalogue whose items are searched (in its order).
    speed
        Walking speed in m/s, one for all items or a mapping ``item_id -> m/s``.
    cutoff_minutes
        Search cutoff; default: the largest tier plus 10 minutes.
    entrances
        Entrance points through which polygon facilities are reached.
    max_snap_m
        Facility access points farther than this from every street are ignored.
    engine
        ``"auto"`` (compiled kernel if numba is available), ``"numba"`` or ``"scipy"``.

    Returns
    -------
    TravelTimes

    Examples
    --------
    >>> from fifteenmin import network_from_file, facilities_from_osm, travel_times, sample_path
    >>> net = network_from_file(sample_path())
    >>> fac = facilities_from_osm(sample_path(), "beijing")
    >>> tt = travel_times(net, fac, "beijing")
    >>> tt.metres.shape[1] == net.n_nodes
    True
    """
    cat = load_catalogue(catalogue)
    items = tuple(cat.items)
    speeds = _speeds(items, speed)
    tiers = np.array([it.tier_minutes for it in items], dtype=np.float64)
    if cutoff_minutes is None:
        cutoff_min = np.full(len(items), float(tiers.max(initial=0.0)) + settings.CUTOFF_MARGIN_MIN)
    else:
        if not cutoff_minutes > 0:
            raise ValueError(f"cutoff_minutes must be positive, got {cutoff_minutes}")
        cutoff_min = np.full(len(items), float(cutoff_minutes))
    cutoff_m = cutoff_min * 60.0 * speeds

    fac = facilities.reset_index(drop=True)
    with ThreadPoolExecutor(1) as pool:
        # beside the facilities' access points and their snapping (this thread), in order: the
        # (items, nodes) result, whose fresh pages can take a second to fault in, then the grid
        # that snaps the points unless this thread gets to it first; both release the GIL
        result = pool.submit(_new_result, len(items), net.n_nodes, engine)
        grid = pool.submit(_segment_grid, net) if _snap.HAVE_NUMBA and net.n_edges else None
        acc = _snapped_access(net, fac, items, entrances, max_snap_m, grid)
        out = result.result()

    # two seeds per access point: the edge's u end and v end
    item = acc["item"].to_numpy()
    seed_node, seed_dist = edge_seeds(
        net, acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy()
    )
    seed_label = np.repeat(acc["facility"].to_numpy(), 2).astype(np.int32)
    seed_ptr = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=len(items)) * 2, out=seed_ptr[1:])

    metres, label = _kernel.multi_source_nearest(
        net.indptr,
        net.indices,
        net.lengths,
        seed_ptr,
        seed_node,
        seed_dist,
        seed_label,
        cutoff_m,
        engine=engine,
        out=out,
    )
    return TravelTimes(
        items=items,
        metres=metres,
        facility=label,
        speed=speeds,
        cutoff_m=cutoff_m,
        facilities=fac,
        access=acc,
    )


def _snapped_access(
    net: WalkNetwork,
    fac: gpd.GeoDataFrame,
    items: tuple[Item, ...],
    entrances: gpd.GeoSeries | None,
    max_snap_m: float,
    grid: Future[_snap.SegmentGrid] | None,
) -> pd.DataFrame:
    """:attr:`TravelTimes.access`: the facilities' access points snapped onto edges.

    Facilities of items not in ``items`` have none; points farther than ``max_snap_m`` from
    every street are left out (with a warning naming how many facilities lost them all).
    Rows are ordered by item, facility, edge and offset (ties: by the points' x, y). ``grid``:
    the network's segment grid, due on another thread: built here if not started yet, else
    waited for.
    """
    k = pd.Index([it.id for it in items]).get_indexer(fac["item_id"]) if len(fac) else []
    usable = np.flatnonzero(np.asarray(k) >= 0)
    pts = access_points(fac.iloc[usable], net.crs, entrances=entrances)
    facility = usable[pts["facility"].to_numpy()]
    if grid is not None and not grid.cancel():
        grid.result()
    snapped = snap_points(net, pts[["x", "y"]].to_numpy())
    ok = snapped.access <= max_snap_m
    lost = _count_distinct(facility, len(fac)) - _count_distinct(facility[ok], len(fac))
    if lost:
        warnings.warn(
            f"{lost} facilities lie more than {max_snap_m:g} m from every walkable street "
            "and cannot be reached; they are left out.",
            stacklevel=3,
        )
    cols = {
        "facility": facility[ok],
        "item": np.asarray(k, dtype=np.int64)[facility[ok]],
        "edge": snapped.edge[ok],
        "offset": snapped.offset[ok],
        "access": snapped.access[ok],
    }
    # by item, facility, edge, offset (stable: ties stay in access_points' order, by x, y)
    item_facility = cols["item"] * max(len(fac), 1) + cols["facility"]
    order = _kernel.lexsort_grouped(item_facility, cols["edge"], cols["offset"])
    return pd.DataFrame({c: v[order] for c, v in cols.items()})


def _count_distinct(values: np.ndarray, n: int) -> int:
    """How many distinct values in ``range(n)`` ``values`` holds."""
    seen = np.zeros(n, dtype=bool)
    seen[values] = True
    return int(np.count_nonzero(seen))


def _new_result(n_items: int, n_nodes: int, engine: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The compiled kernel's new ``(n_items, n_nodes)`` result (None for scipy).

    Filled as :func:`fifteenmin._kernel.multi_source_nearest` fills a new one.
    """
    if _kernel._resolve_engine(engine) != "numba":
        return None
    return np.full((n_items, n_nodes), np.inf), np.full((n_items, n_nodes), -1, np.int32)


def origin_times(
    net: WalkNetwork,
    tt: TravelTimes,
    origins: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
    snap: SnapResult | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking minutes from origin points (homes) to the nearest facility of every item.

    Each origin is snapped onto its nearest edge; its time to an item is the best of walking
    to either end of that edge and on from there, or straight along the edge to a facility on
    the same edge; the straight-line access distance counts in both cases.

    Parameters
    ----------
    net
        The walking network.
    tt
        From :func:`travel_times`.
    origins
        Points (with a CRS).
    max_snap_m
        Origins farther than this from every street get ``inf``.
    snap
        The origins already snapped (``snap_points(net, origins)``), to reuse.

    Returns
    -------
    minutes : numpy.ndarray
        ``(n_origins, n_items)`` walking minutes, ``inf`` beyond the cutoff.
    facility : numpy.ndarray
        ``(n_origins, n_items)`` row position of the nearest facility in ``tt.facilities``,
        or -1.

    Examples
    --------
    >>> minutes, which = origin_times(net, tt, homes)  # doctest: +SKIP
    """
    if snap is None:
        snap = snap_points(net, origins)
    n_o, k = len(snap), len(tt.items)
    minutes = np.empty((n_o, k))
    nearest = np.empty((n_o, k), dtype=np.int64)
    by_edge = np.argsort(tt.access["edge"].to_numpy(), kind="stable")
    for lo in range(0, n_o, _ORIGIN_BLOCK):  # blocks of origins: small temporaries
        part = slice(lo, min(lo + _ORIGIN_BLOCK, n_o))
        block = SnapResult(snap.edge[part], snap.offset[part], snap.access[part])
        minutes[part], nearest[part] = _origin_block(net, tt, block, max_snap_m, by_edge)
    return minutes, nearest


_ORIGIN_BLOCK = 8192  # origins per block of origin_times (each value is computed on its own)


def _origin_block(
    net: WalkNetwork, tt: TravelTimes, snap: SnapResult, max_snap_m: float, by_edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`origin_times` of a block of snapped origins, ``(n, K)``.

    ``by_edge`` is the order of ``tt.access`` by edge.
    """
    ends, legs = end_legs(net, snap)
    straight, straight_fac = _nearest_on_edge(tt, snap, by_edge)
    best, route = rule_metres(legs, tt.metres[:, ends], straight)  # (K, n)
    label = tt.facility[:, ends]
    fac = np.where(route == 2, straight_fac, np.where(route == 1, label[..., 1], label[..., 0]))
    best[best > tt.cutoff_m[:, None]] = np.inf
    best[:, snap.access > max_snap_m] = np.inf
    fac[~np.isfinite(best)] = -1
    minutes = best / tt.speed[:, None] / 60.0
    return minutes.T, fac.T


def _nearest_on_edge(
    tt: TravelTimes, snap: SnapResult, by_edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(K, n)`` straight walk to the nearest facility of each item on each point's edge.

    ``inf`` and -1 where no facility of the item shares the edge; ties go to the facility
    listed first in ``tt.facilities``. ``by_edge``: the order of ``tt.access`` by edge.
    """
    n_items = len(tt.items)
    metres = np.full((n_items, len(snap)), np.inf)
    facility = np.full((n_items, len(snap)), -1, dtype=np.int64)
    acc = tt.access
    if len(acc) == 0 or len(snap) == 0:
        return metres, facility
    on_edge = SnapResult(acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy())
    oi, ai, d = _along_edge_sorted(snap, on_edge, by_edge)
    item = acc["item"].to_numpy()[ai]
    fac = acc["facility"].to_numpy()[ai]
    order = np.lexsort((fac, d, item, oi))  # per origin and item: shortest, then first listed
    oi, item, d, fac = oi[order], item[order], d[order], fac[order]
    first = np.ones(len(oi), dtype=bool)
    first[1:] = (oi[1:] != oi[:-1]) | (item[1:] != item[:-1])
    metres[item[first], oi[first]] = d[first]
    facility[item[first], oi[first]] = fac[first]
    return metres, facility
