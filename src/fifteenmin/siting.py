"""Facility siting (怎么补): where to add facilities of an item so that most residents gain one.

The problem is *maximal coverage*: choose ``k`` sites among candidate sites so that the resident
weight within the item's tier (walking minutes) of at least one facility — existing or new — is
as large as possible. Steps:

1. :func:`candidate_sites`: the network nodes inside given areas (optionally also points every
   ``spacing_m`` metres along the streets inside them), or the user's own candidate layer
   (vacant lots, ground floors: any CRS, snapped onto the network like facilities);
2. :func:`coverage_sets`: for every candidate, the residents (origins) that would reach it
   within the tier, from one bounded search per candidate
   (:func:`fifteenmin.routing.reachable`), as a sparse boolean CSR matrix
   (candidates x origins). A resident at offset ``s`` on edge ``e`` (``access`` ``a`` metres from
   it) reaches a candidate whose search gives node distances ``d`` in
   ``min(a + s + d[u_e], a + L_e - s + d[v_e])`` metres, or straight along the edge when both
   are on the same one: the walking-time rule of :mod:`fifteenmin.routing`
   (:func:`~fifteenmin.routing.reach_walks`), which also times existing facilities;
3. :func:`greedy_max_coverage`: greedy selection with lazy evaluation (CELF), which never
   falls below ``1 - 1/e`` (63 %) of the optimum and is usually within a few per cent of it;
   optionally (the default of :func:`site_facilities`) improved by swaps
   (:func:`improve_by_swaps`), which brought every benchmark instance within 3 % of the exact
   optimum (``bench/siting.py``; the plain greedy fell to 88 % on one). Residents that
   existing facilities already cover add nothing.

:func:`site_facilities` runs these steps for one item of a :class:`fifteenmin.pipeline.Results`;
:func:`plan_missing` does so for every required item that some community misses.

Weights are the resident weights of :func:`fifteenmin.communities.residents`: residential floor
area in m² (building footprint x levels) where buildings are mapped, else metres of street, or
the population of a user's layer. "Residents gained" is therefore a weight, not a head count,
and shares are shares of the total weight.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse

from . import settings
from ._errors import CatalogueError, LayerError, NetworkError
from ._geom import line_parts, points_along
from .network import SnapResult, WalkNetwork, as_points, snap_points
from .routing import reach_walks, reachable

if TYPE_CHECKING:
    from .catalogue import Item
    from .pipeline import Results

__all__ = [
    "SITE_COLUMNS",
    "GreedyResult",
    "candidate_sites",
    "coverage_sets",
    "greedy_max_coverage",
    "improve_by_swaps",
    "missing_items",
    "plan_missing",
    "site_facilities",
]

#: Columns of :func:`site_facilities` (user candidate columns follow, then ``geometry``).
SITE_COLUMNS = [
    "item_id",
    "step",
    "candidate",
    "source",
    "node_id",
    "residents_gained",
    "origins_gained",
    "weight_after",
    "share_after",
    "communities_helped",
    "community_ids",
    "communities_met",
    "lon",
    "lat",
]
#: Candidates per bounded-search batch (bounds the memory of the intermediate results).
CHUNK = 2048
#: Straight-line prefilter radius factor: projected (UTM) distances may exceed geodesic
#: network lengths by the scale factor of the projection (< 1.005 inside a city), so a
#: candidate farther than ``1.05 * cutoff + 10`` m from every origin covers none of them.
_PREFILTER_FACTOR = 1.05
_PREFILTER_PAD_M = 10.0
_CANDIDATE_COLUMNS = ("candidate", "source", "node_id", "input_index", "lon", "lat")


# --------------------------------------------------------------------------------------------
# candidate sites


def _as_geoseries(obj: Any, what: str) -> gpd.GeoSeries:
    """A GeoDataFrame/GeoSeries (with CRS) or bare shapely geometries (WGS-84) as a GeoSeries."""
    if isinstance(obj, gpd.GeoDataFrame):
        obj = obj.geometry
    if isinstance(obj, gpd.GeoSeries):
        if obj.crs is None:
            raise LayerError(
                f"the {what} have no coordinate reference system: set one, e.g. "
                "gdf.set_crs('EPSG:4326') (the CRS the coordinates are really in)."
            )
        return obj
    if isinstance(obj, shapely.Geometry):
        obj = [obj]
    return gpd.GeoSeries(list(obj), crs="EPSG:4326")


def _area_union(net: WalkNetwork, areas: Any) -> shapely.Geometry | None:
    """Union of the area polygons in ``net.crs`` (prepared), or None."""
    if areas is None:
        return None
    g = _as_geoseries(areas, "areas").to_crs(net.crs)
    geoms = np.asarray(g.values, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
    if len(polys) == 0:
        raise LayerError(
            "the areas hold no polygons (found "
            f"{sorted(set(shapely.get_type_id(geoms).tolist()))} geometry type ids): candidate "
            "areas must be Polygon or MultiPolygon features."
        )
    union = shapely.union_all(shapely.make_valid(polys))
    shapely.prepare(union)
    return union


def _empty_candidates(net: WalkNetwork) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "candidate": np.zeros(0, np.int64),
            "source": np.zeros(0, dtype=object),
            "node_id": pd.array([], dtype="Int64"),
            "input_index": np.zeros(0, dtype=object),
            "lon": np.zeros(0),
            "lat": np.zeros(0),
        },
        geometry=gpd.GeoSeries([], crs=net.crs),
        crs=net.crs,
    )


def candidate_sites(
    net: WalkNetwork,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    points: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    spacing_m: float | None = None,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
) -> gpd.GeoDataFrame:
    """Candidate sites for new facilities, in a deterministic order.

    Without ``points``: every network node inside ``areas`` (every node when ``areas`` is
    None), in the network's node order, then — with ``spacing_m`` — points every ``spacing_m``
    metres along the streets inside the areas (edge order, then along the edge). With
    ``points`` (the user's candidate layer: vacant lots, ground floors; polygons stand for
    a point on their surface): those points, in their order, kept only inside ``areas``
    when given. Candidates are later snapped onto their nearest street like facilities.

    Parameters
    ----------
    net
        The walking network.
    areas
        Polygons (GeoDataFrame/GeoSeries in any CRS; bare shapely geometries are read as
        WGS-84) that candidates must lie in (boundary included).
    points
        The user's candidate layer (any CRS). Its columns are kept.
    spacing_m
        Also place candidates every ``spacing_m`` metres along the streets (network
        candidates only).
    max_snap_m
        User points farther than this from every street cannot be reached (a warning).

    Returns
    -------
    geopandas.GeoDataFrame
        In ``net.crs``: ``candidate`` (0..n-1, equal to the row position), ``source``
        (``"node"``, ``"street"`` or ``"input"``), ``node_id`` (OSM id of node candidates,
        else missing), ``input_index`` (row label in ``points``), ``lon``, ``lat``, the
        user's columns, and the point geometry.

    Raises
    ------
    LayerError
        A layer without CRS, areas without polygons.

    Examples
    --------
    >>> from shapely import box
    >>> cands = candidate_sites(net, areas=box(24.93, 60.16, 24.95, 60.17))  # doctest: +SKIP
    >>> cands["source"].unique().tolist()  # doctest: +SKIP
    ['node']
    """
    area = _area_union(net, areas)
    if points is not None:
        if spacing_m is not None:
            raise ValueError("spacing_m places street candidates; it cannot be used with points")
        geoms, cols = _input_candidates(net, area, points, max_snap_m)
    else:
        if spacing_m is not None and not (np.isfinite(spacing_m) and spacing_m > 0):
            raise ValueError(f"spacing_m must be a positive number of metres, got {spacing_m}")
        geoms, cols = _network_candidates(net, area, spacing_m)
    if len(geoms) == 0:
        return _empty_candidates(net)
    cols.insert(0, "candidate", np.arange(len(geoms), dtype=np.int64))
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=net.crs), crs=net.crs)


def _to_wgs(net: WalkNetwork, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    to_wgs = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _input_candidates(
    net: WalkNetwork,
    area: shapely.Geometry | None,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    max_snap_m: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    """The user's candidate points inside the area, and their columns (see candidate_sites)."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            f"points must be a GeoDataFrame or GeoSeries with a CRS, got {type(points).__name__}"
        )
    layer = gpd.GeoDataFrame(geometry=points) if isinstance(points, gpd.GeoSeries) else points
    geoms = as_points(net, layer).copy()  # net.crs; raises on a missing CRS
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    not_point = ok & (shapely.get_type_id(geoms) != 0)
    geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    if area is not None:
        ok &= shapely.intersects(area, geoms)
    keep = np.flatnonzero(ok)
    geoms = geoms[keep]
    if len(geoms):
        far = snap_points(net, geoms).access > max_snap_m
        if far.any():
            warnings.warn(
                f"{int(far.sum())} candidate points lie more than {max_snap_m:g} m from "
                "every walkable street: they cannot be reached and will not be chosen.",
                stacklevel=3,
            )
    extra = layer.drop(columns=[layer.geometry.name]).iloc[keep]
    extra = extra.drop(columns=[c for c in extra.columns if c in _CANDIDATE_COLUMNS])
    lon, lat = _to_wgs(net, shapely.get_x(geoms), shapely.get_y(geoms))
    cols = pd.DataFrame(
        {
            "source": np.full(len(geoms), "input", dtype=object),
            "node_id": pd.array([pd.NA] * len(geoms), dtype="Int64"),
            "input_index": np.asarray(layer.index[keep], dtype=object),
            "lon": lon,
            "lat": lat,
        }
    )
    return geoms, pd.concat([cols, extra.reset_index(drop=True)], axis=1)


def _network_candidates(
    net: WalkNetwork, area: shapely.Geometry | None, spacing_m: float | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Network nodes inside the area, then points every ``spacing_m`` along its streets."""
    nodes = shapely.points(net.x, net.y)
    sel = (
        np.arange(net.n_nodes) if area is None else np.flatnonzero(shapely.intersects(area, nodes))
    )
    xs, ys, lons, lats = [net.x[sel]], [net.y[sel]], [net.lon[sel]], [net.lat[sel]]
    source = [np.full(len(sel), "node", dtype=object)]
    ids: list[Any] = list(net.node_id[sel])
    if spacing_m is not None:
        lines = net.edge_geometry
        if area is not None:
            hit = np.flatnonzero(shapely.intersects(area, lines))
            lines = shapely.intersection(lines[hit], area)
        pts, _, _ = points_along(line_parts(lines)[0], spacing_m)
        xs.append(shapely.get_x(pts))
        ys.append(shapely.get_y(pts))
        lon, lat = _to_wgs(net, xs[-1], ys[-1])
        lons.append(lon)
        lats.append(lat)
        source.append(np.full(len(pts), "street", dtype=object))
        ids.extend([pd.NA] * len(pts))
    x, y = np.concatenate(xs), np.concatenate(ys)
    cols = pd.DataFrame(
        {
            "source": np.concatenate(source),
            "node_id": pd.array(ids, dtype="Int64"),
            "input_index": np.full(len(x), None, dtype=object),
            "lon": np.concatenate(lons).astype(np.float64),
            "lat": np.concatenate(lats).astype(np.float64),
        }
    )
    return shapely.points(x, y), cols


# --------------------------------------------------------------------------------------------
# coverage sets


def coverage_sets(
    net: WalkNetwork,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    minutes: float,
    *,
    speed: float = settings.WALK_SPEED_M_S,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> sparse.csr_matrix:
    """Which origins (residents) reach each candidate within ``minutes`` of walking.

    One bounded search per candidate (:func:`fifteenmin.routing.reachable`, cutoff the tier
    in metres); an origin is covered when ``time / speed / 60 <= minutes`` with ``time`` its
    walk to either end of its edge and on to the candidate, or straight along the edge when
    both share it (the straight-line access distances of both count): the walking-time rule
    of :func:`fifteenmin.routing.reach_walks`, as in :func:`fifteenmin.routing.origin_times`.
    Candidates and origins farther than
    ``max_snap_m`` from every street cover / are covered by nothing. Candidates farther in a
    straight line than the cutoff from every origin are not searched at all.

    Parameters
    ----------
    net
        The walking network.
    candidates, origins
        Points with a CRS (reprojected), shapely points in ``net.crs``, or ``(n, 2)`` x/y
        arrays in ``net.crs``.
    minutes
        The tier: walking minutes within which an origin counts as covered.
    speed
        Walking speed in m/s.
    max_snap_m
        Largest access distance between a point and the street.
    engine
        Shortest-path engine: ``"auto"``, ``"numba"`` or ``"scipy"``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, ``(n_candidates, n_origins)``; row ``j`` holds the origins candidate ``j``
        covers (sorted column indices, no explicit zeros).

    Examples
    --------
    >>> A = coverage_sets(net, cands, homes, 5.0)  # doctest: +SKIP
    >>> A[0].indices  # origins within 5 minutes of the first candidate  # doctest: +SKIP
    """
    if not (np.isfinite(minutes) and minutes > 0):
        raise ValueError(f"minutes must be a positive number, got {minutes}")
    if not (np.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be a positive number of m/s, got {speed}")
    cand = as_points(net, candidates)
    orig = as_points(net, origins)
    n_c, n_o = len(cand), len(orig)
    empty = sparse.csr_matrix((n_c, n_o), dtype=bool)
    if n_c == 0 or n_o == 0:
        return empty
    cut_m = float(minutes) * 60.0 * float(speed)

    osnap = snap_points(net, orig)
    o_ok = np.flatnonzero(osnap.access <= max_snap_m)
    if len(o_ok) == 0:
        return empty
    joined = SnapResult(osnap.edge[o_ok], osnap.offset[o_ok], osnap.access[o_ok])
    # straight-line prefilter (a pure speed-up: the skipped candidates cover nothing)
    near = np.unique(
        shapely.STRtree(orig[o_ok]).query(
            cand, predicate="dwithin", distance=cut_m * _PREFILTER_FACTOR + _PREFILTER_PAD_M
        )[0]
    )
    search_cut = cut_m * (1.0 + 1e-9) + 1e-9  # the minute test below decides the boundary
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for start in range(0, len(near), CHUNK):
        ids = near[start : start + CHUNK]
        r = reachable(net, cand[ids], search_cut, max_snap_m=max_snap_m, engine=engine)
        c, o, metres = reach_walks(net, r, joined, home="points")
        ok = metres / speed / 60.0 <= minutes
        rows.append(ids[c[ok]])
        cols.append(o_ok[o[ok]])
    if not rows:
        return empty
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    mat = sparse.csr_matrix((np.ones(len(row), dtype=bool), (row, col)), shape=(n_c, n_o))
    mat.sort_indices()
    return mat


# --------------------------------------------------------------------------------------------
# greedy maximal coverage


@dataclass(frozen=True, eq=False)
class GreedyResult:
    """Sites chosen by :func:`greedy_max_coverage`, in order.

    Attributes
    ----------
    chosen
        Candidate (row) indices, in the order chosen.
    gains
        Weight each choice added (origins not covered before it).
    covered_weight
        Covered weight after each choice (existing coverage included).
    total_weight
        Weight of all origins.
    initial_weight
        Weight covered before any choice (the ``covered`` argument).
    covered
        Final covered mask over origins.
    evaluations
        Number of marginal-gain evaluations (lazy evaluation keeps it small).
    swaps
        Number of improving swaps made after the greedy (``swaps=True``).
    """

    chosen: np.ndarray
    gains: np.ndarray
    covered_weight: np.ndarray
    total_weight: float
    initial_weight: float
    covered: np.ndarray
    evaluations: int
    swaps: int = 0

    @property
    def shares(self) -> np.ndarray:
        """Covered share of the total weight after each choice."""
        if self.total_weight <= 0:
            return np.zeros(len(self.chosen))
        return self.covered_weight / self.total_weight

    def __len__(self) -> int:
        return len(self.chosen)

    def __repr__(self) -> str:
        return (
            f"GreedyResult(chosen={self.chosen.tolist()}, "
            f"gains={np.round(self.gains, 3).tolist()}, evaluations={self.evaluations}, "
            f"swaps={self.swaps})"
        )


def _as_sets(sets: Any) -> sparse.csr_matrix:
    mat = sparse.csr_matrix(sets, dtype=bool, copy=True)
    mat.eliminate_zeros()
    mat.sum_duplicates()
    mat.sort_indices()
    return mat


def greedy_max_coverage(
    sets: sparse.spmatrix | sparse.sparray | np.ndarray,
    weights: np.ndarray | Sequence[float],
    k: int | None = None,
    target_share: float | None = None,
    covered: np.ndarray | None = None,
    *,
    lazy: bool = True,
    swaps: bool = False,
) -> GreedyResult:
    """Greedy maximal coverage: repeatedly pick the candidate that covers the most new weight.

    Each step takes the candidate with the largest marginal gain (weight of the origins it
    covers that nothing chosen or existing covers yet), ties going to the smallest candidate
    index, so the result is deterministic. Lazy evaluation (CELF: stale gains are upper bounds
    kept in a priority queue, only the top is re-evaluated) gives the same choices as the
    plain greedy. Gains are exactly rounded sums (:func:`math.fsum`), so they do not depend on
    the order of summation. Stops after ``k`` sites, when the covered share reaches
    ``target_share``, or when no candidate adds anything (whichever comes first; with neither
    ``k`` nor ``target_share``, only the last).

    Parameters
    ----------
    sets
        ``(n_candidates, n_origins)`` boolean matrix (sparse or dense): which origins each
        candidate covers, e.g. from :func:`coverage_sets`.
    weights
        Non-negative weight of every origin (resident weight).
    k
        Largest number of sites to choose.
    target_share
        Stop once the covered share of the total weight (existing coverage included) is at
        least this, in (0, 1].
    covered
        Boolean mask of origins already covered (by existing facilities); they add no gain.
    lazy
        Use lazy evaluation (the result is the same; ``False`` is the plain greedy).
    swaps
        After the greedy, improve the set by swaps (:func:`improve_by_swaps`: exchange a
        chosen site for another candidate while that covers more), then list the final sites
        in greedy order (each step's gain is its marginal gain given the steps before it).
        The greedy alone can fall well short of the optimum on a few heavy origins (88 % in
        ``bench/siting.py``); the swaps close most of that gap for little time.

    Returns
    -------
    GreedyResult

    Examples
    --------
    >>> import numpy as np
    >>> sets = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 0, 1]], dtype=bool)
    >>> res = greedy_max_coverage(sets, [1.0, 1.0, 1.0, 1.0], k=2)
    >>> res.chosen.tolist(), res.gains.tolist()
    ([1, 0], [3.0, 1.0])
    """
    mat = _as_sets(sets)
    w, cov = _greedy_inputs(mat, weights, k, target_share, covered)
    state = _Greedy(mat, w, cov, k, target_share)
    if lazy:
        state.run_lazy()
    else:
        state.run_plain()
    result = state.result()
    if not swaps or len(result.chosen) == 0:
        return result
    base = np.zeros(mat.shape[1], dtype=bool) if covered is None else np.array(covered, bool)
    final, n_swaps = _swap_improve(mat, w, result.chosen, base)
    if n_swaps == 0:
        return result
    # the final sites in greedy order (marginal gains), stopping as the greedy would
    again = greedy_max_coverage(
        mat[final], w, k=len(final), target_share=target_share, covered=base, lazy=False
    )
    return GreedyResult(
        chosen=final[again.chosen],
        gains=again.gains,
        covered_weight=again.covered_weight,
        total_weight=result.total_weight,
        initial_weight=result.initial_weight,
        covered=again.covered,
        evaluations=result.evaluations + again.evaluations,
        swaps=n_swaps,
    )


def _greedy_inputs(
    mat: sparse.csr_matrix,
    weights: np.ndarray | Sequence[float],
    k: int | None,
    target_share: float | None,
    covered: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The weights and a fresh covered mask, once every argument is checked."""
    n_o = mat.shape[1]
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n_o,):
        raise ValueError(f"weights has {w.size} values for {n_o} origins")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if k is not None and (int(k) != k or k < 0):
        raise ValueError(f"k must be a non-negative integer, got {k}")
    if target_share is not None and not 0 < target_share <= 1:
        raise ValueError(f"target_share must be in (0, 1], got {target_share}")
    cov = np.zeros(n_o, dtype=bool) if covered is None else np.array(covered, dtype=bool)
    if cov.shape != (n_o,):
        raise ValueError(f"covered has {cov.size} values for {n_o} origins")
    return w, cov


class _Greedy:
    """The state of one greedy run: covered origins, the choices so far, evaluations."""

    def __init__(
        self,
        mat: sparse.csr_matrix,
        w: np.ndarray,
        cov: np.ndarray,
        k: int | None,
        target_share: float | None,
    ) -> None:
        self.mat, self.ptr, self.idx = mat, mat.indptr, mat.indices
        self.w, self.cov, self.k, self.target_share = w, cov, k, target_share
        self.total = math.fsum(w)
        self.initial = self.cov_w = math.fsum(w[cov])
        # origins some candidate covers, with a weight: once all are covered nothing is left
        self.gainable = np.zeros(len(w), dtype=bool)
        self.gainable[self.idx] = True
        self.gainable &= w > 0
        self.chosen: list[int] = []
        self.gains: list[float] = []
        self.after: list[float] = []
        self.evals = 0

    def origins(self, c: int) -> np.ndarray:
        return np.asarray(self.idx[self.ptr[c] : self.ptr[c + 1]])

    def gain(self, c: int) -> float:
        self.evals += 1
        o = self.origins(c)
        return math.fsum(self.w[o[~self.cov[o]]])

    def done(self) -> bool:
        if self.k is not None and len(self.chosen) >= self.k:
            return True
        if not (self.gainable & ~self.cov).any():
            return True
        share = self.target_share
        return share is not None and self.total > 0 and self.cov_w >= share * self.total

    def take(self, c: int, g: float) -> None:
        self.chosen.append(c)
        self.gains.append(g)
        self.cov[self.origins(c)] = True
        self.cov_w = math.fsum(self.w[self.cov])
        self.after.append(self.cov_w)

    def run_lazy(self) -> None:
        # upper bounds from one sparse product, inflated past any rounding error; every
        # entry is re-evaluated exactly (stamp -1 is never current) before it can be chosen
        rough = self.mat.astype(np.float64) @ np.where(self.cov, 0.0, self.w)
        bound = rough * (1.0 + 4.0 * np.finfo(float).eps * (np.diff(self.ptr) + 2))
        heap = [(-float(bound[c]), c, -1) for c in np.flatnonzero(rough > 0).tolist()]
        heapq.heapify(heap)
        while heap and not self.done():
            neg, c, stamp = heapq.heappop(heap)
            if stamp == len(self.chosen):
                self.take(c, -neg)
                continue
            g = self.gain(c)
            if g > 0:
                heapq.heappush(heap, (-g, c, len(self.chosen)))

    def run_plain(self) -> None:
        alive = np.ones(self.mat.shape[0], dtype=bool)
        while not self.done():
            best_g, best_c = 0.0, -1
            for c in np.flatnonzero(alive).tolist():
                g = self.gain(c)
                if g <= 0:
                    alive[c] = False  # gains only shrink
                elif g > best_g:
                    best_g, best_c = g, c
            if best_c < 0:
                break
            alive[best_c] = False
            self.take(best_c, best_g)

    def result(self) -> GreedyResult:
        return GreedyResult(
            chosen=np.asarray(self.chosen, dtype=np.int64),
            gains=np.asarray(self.gains, dtype=np.float64),
            covered_weight=np.asarray(self.after, dtype=np.float64),
            total_weight=self.total,
            initial_weight=self.initial,
            covered=self.cov,
            evaluations=self.evals,
        )


def _swap_improve(
    mat: sparse.csr_matrix, w: np.ndarray, chosen: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, int]:
    """Best-improvement 1-swap local search (Teitz-Bart interchange) on a chosen set."""
    chosen = np.array(chosen, dtype=np.int64)
    matf = mat.astype(np.float64)
    ptr, idx = mat.indptr, mat.indices
    total = math.fsum(w)
    tol = 1e-12 * max(total, 1.0)
    n_swaps = 0

    def value(sel: np.ndarray) -> float:
        cov = base.copy()
        for c in sel:
            cov[idx[ptr[c] : ptr[c + 1]]] = True
        return math.fsum(w[cov])

    current = value(chosen)
    for _ in range(100 * len(chosen)):
        cnt = np.bincount(
            np.concatenate([idx[ptr[c] : ptr[c + 1]] for c in chosen]), minlength=mat.shape[1]
        )
        free = np.where(base | (cnt > 0), 0.0, w)
        best = (tol, -1, -1)
        for pos, i in enumerate(chosen.tolist()):
            o = idx[ptr[i] : ptr[i + 1]]
            only = o[(cnt[o] == 1) & ~base[o]]
            vec = free.copy()
            vec[only] = w[only]
            g = matf @ vec
            g[chosen] = -np.inf
            j = int(np.argmax(g))  # the smallest index among the best
            delta = float(g[j]) - math.fsum(w[only])
            if delta > best[0]:
                best = (delta, pos, j)
        if best[1] < 0:
            break
        trial = chosen.copy()
        trial[best[1]] = best[2]
        v = value(trial)
        if v <= current:  # rounding in the estimate: no real improvement
            break
        chosen, current = trial, v
        n_swaps += 1
    return chosen, n_swaps


def improve_by_swaps(
    sets: sparse.spmatrix | sparse.sparray | np.ndarray,
    weights: np.ndarray | Sequence[float],
    chosen: Sequence[int] | np.ndarray,
    covered: np.ndarray | None = None,
) -> np.ndarray:
    """Improve a set of sites by swaps until no single exchange covers more weight.

    Each round exchanges the chosen site and the outside candidate whose swap adds the most
    covered weight (Teitz-Bart interchange, best improvement; ties to the first chosen
    position and the smallest candidate index); it stops when no swap strictly increases the
    exactly summed covered weight. Deterministic.

    Parameters
    ----------
    sets, weights, covered
        As in :func:`greedy_max_coverage`.
    chosen
        The starting sites (e.g. the greedy's).

    Returns
    -------
    numpy.ndarray
        The improved sites (same number, positions of swapped sites replaced).

    Examples
    --------
    >>> import numpy as np
    >>> sets = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 1]], bool)
    >>> improve_by_swaps(sets, np.ones(6), [0, 1]).tolist()
    [2, 1]
    """
    mat = _as_sets(sets)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    base = np.zeros(mat.shape[1], dtype=bool) if covered is None else np.array(covered, bool)
    if len(chosen) == 0:
        return np.zeros(0, dtype=np.int64)
    return _swap_improve(mat, w, np.asarray(chosen, dtype=np.int64), base)[0]


# --------------------------------------------------------------------------------------------
# siting on a report


def _item(report: Results, item_id: str) -> tuple[int, Item]:
    ids = [it.id for it in report.travel.items]
    if item_id not in ids:
        report.catalogue[item_id]  # UnknownItemError names the known ids
        raise CatalogueError(
            f"item {item_id!r} has no travel times in this report; rerun the report with "
            "a catalogue that holds it."
        )
    k = ids.index(item_id)
    return k, report.travel.items[k]


def _candidates_for(
    report: Results,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    areas: Any,
    spacing_m: float | None,
) -> gpd.GeoDataFrame:
    net = report.network
    if isinstance(candidates, gpd.GeoDataFrame) and {"candidate", "source", "node_id"} <= set(
        candidates.columns
    ):
        # already from candidate_sites
        if areas is not None or spacing_m is not None:
            raise ValueError(
                "areas and spacing_m cannot be combined with candidates from candidate_sites: "
                "pass them to candidate_sites instead"
            )
        cands = candidates.to_crs(net.crs).reset_index(drop=True)
    else:
        cands = candidate_sites(net, areas=areas, points=candidates, spacing_m=spacing_m)
    if len(cands) == 0:
        where = "inside the given areas" if areas is not None else "in the candidate layer"
        raise NetworkError(
            f"no candidate site {where}: give areas that contain streets, or a candidate "
            "layer with points in the network's area."
        )
    return cands


class _SitingContext:
    """What every item of one report shares: candidates, weights, coverage sets per tier."""

    def __init__(
        self,
        report: Results,
        candidates: Any,
        areas: Any,
        spacing_m: float | None,
        engine: str | None,
    ) -> None:
        self.report = report
        self.net = report.network
        self.cands = _candidates_for(report, candidates, areas, spacing_m)
        self.origins = report.residents
        self.weights = report.residents["weight"].to_numpy(dtype=np.float64)
        self.com = report.residents["community_id"].astype(str).to_numpy()
        self.engine = report.config.engine if engine is None else engine
        self._sets: dict[tuple[float, float], sparse.csr_matrix] = {}
        self.threshold = report.threshold

    def sets(self, minutes: float, speed: float) -> sparse.csr_matrix:
        key = (float(minutes), float(speed))
        if key not in self._sets:
            self._sets[key] = coverage_sets(
                self.net,
                np.asarray(self.cands.geometry.values, dtype=object),
                self.origins,
                minutes,
                speed=speed,
                engine=self.engine,
            )
        return self._sets[key]

    def communities_met(self, covered: np.ndarray) -> int:
        """Communities whose covered share of resident weight reaches the threshold."""
        if len(self.com) == 0:
            return 0
        tot = pd.Series(self.weights).groupby(self.com).sum()
        got = pd.Series(np.where(covered, self.weights, 0.0)).groupby(self.com).sum()
        ok = (tot > 0) & (got >= self.threshold * tot)
        return int(ok.sum())

    def site(
        self, item_id: str, k: int | None, target_share: float | None, swaps: bool = True
    ) -> gpd.GeoDataFrame:
        col, item = _item(self.report, item_id)
        speed = float(self.report.travel.speed[col])
        tier = float(item.tier_minutes)
        existing = np.asarray(self.report.origin_minutes[:, col] <= tier, dtype=bool)
        sets = self.sets(tier, speed)
        res = greedy_max_coverage(
            sets, self.weights, k=k, target_share=target_share, covered=existing, swaps=swaps
        )
        out = self.table(self.steps(item_id, sets, res, existing), res.chosen)
        out.attrs.update(
            {
                "item_id": item_id,
                "item_name_en": item.name_en,
                "item_name_zh": item.name_zh,
                "tier_minutes": tier,
                "speed_m_s": speed,
                "total_weight": res.total_weight,
                "weight_before": res.initial_weight,
                "share_before": res.initial_weight / res.total_weight if res.total_weight else 0.0,
                "communities": len(self.report.communities),
                "communities_met_before": self.communities_met(existing),
                "threshold": self.threshold,
                "candidates": len(self.cands),
                "method": "greedy (lazy) + swaps" if swaps else "greedy (lazy)",
                "swaps": res.swaps,
                "weights": "resident weight (floor area m² of residential buildings, else "
                "metres of street, or the population of a user layer)",
            }
        )
        return out

    def steps(
        self, item_id: str, sets: sparse.csr_matrix, res: GreedyResult, existing: np.ndarray
    ) -> list[dict[str, Any]]:
        """One record per chosen site: what it gains, whom it helps, what is met after it."""
        cov = existing.copy()
        recs = []
        for step, (c, g, after) in enumerate(
            zip(res.chosen, res.gains, res.covered_weight, strict=True), start=1
        ):
            o = sets.indices[sets.indptr[c] : sets.indptr[c + 1]]
            new = o[~cov[o]]
            cov[new] = True
            gained_w = pd.Series(self.weights[new]).groupby(self.com[new]).sum()
            helped = gained_w[gained_w > 0].sort_values(ascending=False, kind="stable")
            recs.append(
                {
                    "item_id": item_id,
                    "step": step,
                    "candidate": int(c),
                    "residents_gained": float(g),
                    "origins_gained": len(new),
                    "weight_after": float(after),
                    "share_after": float(after / res.total_weight) if res.total_weight else 0.0,
                    "communities_helped": len(helped),
                    "community_ids": ";".join(map(str, helped.index)),
                    "communities_met": self.communities_met(cov),
                }
            )
        return recs

    def table(self, recs: list[dict[str, Any]], chosen: np.ndarray) -> gpd.GeoDataFrame:
        """The step records joined with the chosen candidates' own columns (EPSG:4326)."""
        rows = self.cands.iloc[chosen] if len(chosen) else self.cands.iloc[:0]
        table = pd.DataFrame(
            recs,
            # the computed columns; the candidate's own (source, node, lon/lat) join below
            columns=[c for c in SITE_COLUMNS if c not in ("source", "node_id", "lon", "lat")],
        )
        user_cols = [c for c in self.cands.columns if c not in (*_CANDIDATE_COLUMNS, "geometry")]
        user_cols = [c for c in user_cols if c not in SITE_COLUMNS and c != rows.geometry.name]
        data = table.assign(
            source=rows["source"].to_numpy(),
            node_id=pd.array(rows["node_id"].to_numpy(), dtype="Int64"),
            lon=rows["lon"].to_numpy(dtype=np.float64),
            lat=rows["lat"].to_numpy(dtype=np.float64),
        )
        for c in user_cols:
            data[c] = rows[c].to_numpy()
        data = data.astype(
            {
                "step": np.int64,
                "candidate": np.int64,
                "origins_gained": np.int64,
                "communities_helped": np.int64,
                "communities_met": np.int64,
            }
        )
        out = gpd.GeoDataFrame(
            data[[*SITE_COLUMNS, *user_cols]],
            geometry=gpd.points_from_xy(data["lon"], data["lat"], crs="EPSG:4326"),
            crs="EPSG:4326",
        )
        out.index = pd.RangeIndex(len(out))
        return out


def site_facilities(
    report: Results,
    item_id: str,
    k: int | None = 3,
    *,
    target_share: float | None = None,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    spacing_m: float | None = None,
    swaps: bool = True,
    engine: str | None = None,
) -> gpd.GeoDataFrame:
    """Propose sites for new facilities of one item: greedy maximal coverage of residents.

    Residents (the report's origins) already within the item's tier of an existing facility
    count as covered and add nothing; each step adds the candidate that brings the most
    resident weight within the tier (see :func:`greedy_max_coverage`), and the sites are then
    improved by swaps (``swaps=True``) and listed in greedy order.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    item_id
        Catalogue item, e.g. ``"elderly_day_care"``.
    k
        Number of sites (at most; fewer when nothing more can be gained or
        ``target_share`` is met). ``None``: no limit (give ``target_share``).
    target_share
        Stop once this share of the resident weight is covered.
    candidates
        The user's candidate layer (points or polygons, any CRS), or the result of
        :func:`candidate_sites`; default: every network node (inside ``areas``).
    areas
        Polygons (any CRS) the candidates must lie in.
    spacing_m
        Also consider points every ``spacing_m`` metres along the streets.
    swaps
        Improve the greedy's sites by swaps before listing them (see
        :func:`greedy_max_coverage`); ``False``: the plain greedy, whose first ``j`` sites
        are the same for every ``k >= j``.
    engine
        Shortest-path engine (default: the run's, ``report.config.engine``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per chosen site, in order (EPSG:4326): :data:`SITE_COLUMNS` —
        ``step``; ``candidate`` (row of the candidate table); ``source``; ``node_id`` (OSM
        node id for node candidates); ``residents_gained``: resident *weight* (floor area in
        m², or street metres, see :func:`fifteenmin.communities.residents`) newly within the
        tier; ``origins_gained``: origin points newly covered; ``weight_after`` and
        ``share_after``: covered weight and share of the total after this step (existing
        facilities included); ``communities_helped`` / ``community_ids``: communities with
        newly covered residents (largest gain first); ``communities_met``: communities whose
        covered share reaches the report's threshold after this step; ``lon``, ``lat`` —
        then the user's candidate columns. ``attrs`` holds the item, tier, speed, total
        weight, share before any new site, and ``communities_met_before``.

    Raises
    ------
    CatalogueError
        Unknown item id.
    NetworkError
        No candidate site (e.g. no node inside the areas).

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> from fifteenmin.siting import site_facilities
    >>> rep = run_report()  # doctest: +SKIP
    >>> sites = site_facilities(rep, "elderly_day_care", k=3)  # doctest: +SKIP
    >>> sites[["step", "node_id", "residents_gained", "share_after"]]  # doctest: +SKIP
    >>> sites.explore()  # doctest: +SKIP
    """
    _item(report, item_id)  # fail fast on an unknown item
    if k is None and target_share is None:
        raise ValueError("give k (number of sites), target_share, or both")
    ctx = _SitingContext(report, candidates, areas, spacing_m, engine)
    return ctx.site(item_id, k, target_share, swaps)


def missing_items(report: Results) -> list[str]:
    """Required items that at least one community does not meet, in catalogue order.

    Examples
    --------
    >>> missing_items(rep)[:3]  # doctest: +SKIP
    ['kindergarten', 'primary_school', 'junior_middle_school']
    """
    miss = _missing_ids(report.coverage.communities["missing"])
    return [it.id for it in report.travel.items if it.id in miss]


def _missing_ids(missing: pd.Series) -> set[str]:
    """Item ids in the coverage communities' ``missing`` column (a list of ids per cell)."""
    miss: set[str] = set()
    for ids in missing:
        miss.update(ids)
    return miss


def plan_missing(
    report: Results,
    k: int | None = 1,
    items: Sequence[str] | None = None,
    *,
    target_share: float | None = None,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    spacing_m: float | None = None,
    swaps: bool = True,
    engine: str | None = None,
) -> gpd.GeoDataFrame:
    """A siting plan for every required item that some community misses.

    For every item (default: :func:`missing_items`), up to ``k`` sites chosen as in
    :func:`site_facilities`; items are planned independently (one site may appear for
    several items: a multi-service centre). Coverage sets are computed once per tier.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    k
        Sites per item.
    items
        Item ids to plan (default: the missing required items).
    target_share, candidates, areas, spacing_m, swaps, engine
        As in :func:`site_facilities`.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of :func:`site_facilities` of every item, in catalogue order then step;
        ``attrs["items"]`` maps each item to its ``attrs`` (share before, tier, ...).
        Items where no site adds anything have no row.

    Examples
    --------
    >>> plan = plan_missing(rep, k=1)  # doctest: +SKIP
    >>> plan.groupby("item_id")["residents_gained"].sum()  # doctest: +SKIP
    """
    if k is None and target_share is None:
        raise ValueError("give k (sites per item), target_share, or both")
    todo = missing_items(report) if items is None else list(items)
    for it in todo:
        _item(report, it)
    ctx = _SitingContext(report, candidates, areas, spacing_m, engine)
    parts = [ctx.site(it, k, target_share, swaps) for it in todo]
    meta = {p.attrs["item_id"]: dict(p.attrs) for p in parts}
    nonempty = [p for p in parts if len(p)]
    if nonempty:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            out = pd.concat(nonempty, ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    else:
        out = ctx.site(todo[0], 0, None).iloc[:0] if todo else _empty_plan()
    out.attrs = {"items": meta, "k": k, "target_share": target_share}
    return out


def _empty_plan() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(columns=SITE_COLUMNS), geometry=gpd.GeoSeries([], crs="EPSG:4326")
    )
