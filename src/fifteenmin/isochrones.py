"""Isochrones: the area reachable on foot within 5, 10, 15 ... minutes, as polygons.

An isochrone here is the *street* area one can walk to, not a hull around it:

1. **Distances.** Origins are snapped onto their nearest edge exactly as for travel times
   (:func:`fifteenmin.routing.reachable`: access distance + the walk along the edge to either
   end, then a bounded shortest-path search up to the largest band). A merged isochrone runs
   one multi-source search from all origins at once; :func:`facility_isochrones` re-uses the
   node distances of :class:`~fifteenmin.routing.TravelTimes` (no new search).
2. **Cutting edges where time runs out.** For an edge ``(u, v)`` of length ``L`` and a band of
   ``D`` metres (``minutes * 60 * speed``), the walk reaches ``D - d[u]`` metres along the
   edge from ``u`` and ``D - d[v]`` metres back from ``v``; if the two pieces meet
   (``(D - d[u]) + (D - d[v]) >= L``) the whole edge is reached, otherwise the two pieces
   are. The edge an origin is snapped to is also reached from the origin itself: with the
   origin at ``s`` metres along it and ``a`` metres off the street, the piece
   ``[s - (D - a), s + (D - a)]`` clipped to ``[0, L]``. All intervals of an edge are merged
   (with many origins, an edge can hold many), and the pieces are cut out of the street
   geometry with vectorised numpy (vertex slicing + linear interpolation of the two ends),
   never with a Python loop over edges. Positions along an edge are in network metres
   (``edge_length``) and are mapped to the projected geometry proportionally.
3. **Area.** The pieces are buffered by ``buffer_m`` metres and unioned per origin and band
   (:func:`shapely.union_all`). Nothing is filled: a block enclosed by reached streets stays a
   hole when it is wider than ``2 * buffer_m``, and areas away from every reached street are
   never covered (unlike a convex hull of the reached nodes, the approach of osmnx's examples).

Communities at scale. :func:`community_walking_areas` computes thousands of merged areas a
chunk of :data:`settings.WALKING_AREA_CHUNK` communities at a time: one bounded search for the
chunk (one group of seeds per community), one vectorised cutting of all reached edges (the cut
of an edge does not depend on the edges cut with it, so chunking never changes a polygon), one
buffering (an edge reached whole by several communities is buffered once), then one
:func:`shapely.union_all` per community on worker threads. The union is ~90 % of the time and
is not shared: neither one buffer of all pieces at once nor any other GEOS route tried gives the
same polygons faster (``bench/isochrones_union.py``).

Raster walking areas. ``community_walking_areas(..., method="raster")`` keeps steps 1 and 2
(the same searches and the same exactly cut pieces) and replaces the union of step 3 by a grid
(:mod:`fifteenmin._contour`, compiled): the distance from every point of a grid of
:data:`settings.WALKING_AREA_GRID_M` (5 m) to the nearest reached piece, contoured at
``buffer_m`` (marching squares with linear interpolation, rings grouped into polygons with
holes). That is the true round buffer of the pieces except within about half a grid step of the
corners where two streets' buffers meet (the contour cuts them) and for holes thinner than about
a grid step; measured against the exact union: 0.2-0.3 % of the area, at most ~3 m
(``bench/WALKING_AREAS.md``), at ~1.5 ms of CPU per community instead of ~30-40. A chunk's
areas are drawn by one compiled call (:func:`_contour.chunk_areas`, on a worker thread, the
chunk's search included), which also simplifies them for display (Douglas-Peucker ring by
ring) and shows most of them valid; GEOS checks only the others. The report's map uses it for
more than :data:`settings.WALKING_AREA_MAP_EXACT_MAX` communities, on a grid of
:data:`settings.WALKING_AREA_MAP_GRID_M` (within ~7 m, ~0.9 ms per community with the map's
8 m simplification); the API's default stays exact.

Buffer width. :data:`settings.ISOCHRONE_BUFFER_M` is 25 m: half a street's width (5-10 m) plus the
short access walk from the kerb to the doors, shop fronts and gates along it, i.e. the strip
of a block that is "on" a reached street. A block up to 50 m across is then covered from its
two sides, while a larger block enclosed by reached streets (or one reached on one side only)
keeps an uncovered core: the holes show where the network gives no access. 25 m is also the
edge buffer of osmnx's example isochrones, so comparisons with them are like for like. Use
about 10 m to draw the streets alone, more to smooth the shape (it also blurs barriers).
Because the buffer is a polygon inscribed in the true round buffer, every point of an
isochrone is within ``buffer_m`` of a street piece reached in time, and every such piece lies
inside it.

The output polygon covers the network only; an origin more than ``buffer_m`` from its street
is not itself inside (its access walk counts in the distances, not in the area).

Examples
--------
>>> from fifteenmin import network_from_file, sample_path
>>> from fifteenmin.isochrones import isochrones
>>> net = network_from_file(sample_path())
>>> iso = walking_areas(net, [[net.x[0], net.y[0]]], minutes=(5, 10, 15))
>>> iso[["origin", "minutes"]].values.tolist()
[[0, 5], [0, 10], [0, 15]]
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _contour, _kernel, settings
from ._progress import bar
from .network import SnapResult, WalkNetwork, snap_points
from .routing import edge_seeds, reachable

if TYPE_CHECKING:
    from .routing import TravelTimes

__all__ = [
    "community_walking_areas",
    "facility_isochrones",
    "iter_community_walking_areas",
    "walking_areas",
]


# --------------------------------------------------------------------------------------------
# input handling


def _bands(minutes: float | Sequence[float]) -> tuple[list[Any], np.ndarray]:
    """Sorted unique bands (as given, and as a float array of minutes)."""
    vals = [minutes] if np.ndim(minutes) == 0 else list(np.asarray(minutes).ravel())
    if not vals:
        raise ValueError("minutes must hold at least one band, e.g. (5, 10, 15)")
    arr = np.asarray(vals, dtype=np.float64)
    if not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
        raise ValueError(f"minutes must be positive finite numbers, got {vals}")
    _, first = np.unique(arr, return_index=True)  # sorted ascending, duplicates dropped
    keep = [vals[i].item() if hasattr(vals[i], "item") else vals[i] for i in first]
    return keep, arr[first]


def _as_origins(origins: Any) -> tuple[Any, list[Any]]:
    """Origins in a form :func:`snap_points` accepts, and their labels."""
    if isinstance(origins, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return origins, list(origins.index)
    if isinstance(origins, shapely.Geometry):
        origins = [origins]
    arr = np.asarray(origins)
    if arr.dtype != object:
        arr = np.asarray(arr, dtype=np.float64).reshape(-1, 2)
    return arr, list(range(len(arr)))


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# reached intervals of edges


def _segmented_running_max(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarting at every change of the sorted ``group``."""
    ranks_u, rank = np.unique(values, return_inverse=True)
    width = np.int64(len(ranks_u) + 1)
    key = group.astype(np.int64) * width + rank.astype(np.int64)
    cm = np.maximum.accumulate(key) - group.astype(np.int64) * width
    return ranks_u[cm]


def _reached_intervals(
    net: WalkNetwork,
    r_group: np.ndarray,
    r_node: np.ndarray,
    r_dist: np.ndarray,
    s_group: np.ndarray,
    s_edge: np.ndarray,
    s_offset: np.ndarray,
    s_access: np.ndarray,
    band_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merged reached intervals of every edge, per group (origin) and band.

    Parameters
    ----------
    r_group, r_node, r_dist
        Node distances, sorted by ``(group, node)`` (sparse; absent = unreached).
    s_group, s_edge, s_offset, s_access
        Origins snapped onto edges (each reaches its own edge directly).
    band_m
        Band distances in metres, ascending.

    Returns
    -------
    group, band, edge, lo, hi
        One row per merged interval ``[lo, hi]`` (metres along the edge from ``u``).
    """
    n = net.n_nodes
    m = net.n_edges
    nb = len(band_m)
    dmax = band_m[-1]
    keep = r_dist <= dmax
    r_group, r_node, r_dist = r_group[keep], r_node[keep], r_dist[keep]
    r_key = r_group.astype(np.int64) * n + r_node
    if len(r_key) > 1 and np.any(np.diff(r_key) <= 0):
        order = np.argsort(r_key, kind="stable")
        r_key, r_dist = r_key[order], r_dist[order]

    # candidate (group, edge) pairs: every edge at a reached node, and every origin's edge
    lo_arc = net.indptr[r_node]
    cnt = net.indptr[r_node + 1] - lo_arc
    total = int(cnt.sum())
    starts = np.cumsum(cnt) - cnt
    arcs = np.repeat(lo_arc - starts, cnt) + np.arange(total)
    arc_keys = np.repeat(r_group.astype(np.int64), cnt) * m + net.arc_edge[arcs]
    seed_keys = s_group.astype(np.int64) * m + s_edge
    pair = np.unique(np.concatenate([arc_keys, seed_keys]))
    pg = pair // m
    pe = pair % m
    length = net.edge_length[pe]

    def lookup(node: np.ndarray) -> np.ndarray:
        key = pg * n + node
        i = np.searchsorted(r_key, key)
        i_c = np.minimum(i, max(len(r_key) - 1, 0))
        found = (i < len(r_key)) & (r_key[i_c] == key) if len(r_key) else np.zeros(len(key), bool)
        return np.where(found, r_dist[i_c] if len(r_key) else np.inf, np.inf)

    du = lookup(net.edge_u[pe].astype(np.int64))
    dv = lookup(net.edge_v[pe].astype(np.int64))
    s_pair = np.searchsorted(pair, seed_keys)

    # intervals for every (pair, band): from u, from v, from the origins on the edge
    ids, los, his = [], [], []
    pid = np.arange(len(pair), dtype=np.int64)
    for b, dist_b in enumerate(band_m):
        ru = dist_b - du
        ok = ru >= 0
        ids.append(pid[ok] * nb + b)
        los.append(np.zeros(int(ok.sum())))
        his.append(np.minimum(ru[ok], length[ok]))
        rv = dist_b - dv
        ok = rv >= 0
        ids.append(pid[ok] * nb + b)
        los.append(np.maximum(length[ok] - rv[ok], 0.0))
        his.append(length[ok])
        r0 = dist_b - s_access
        ok = r0 >= 0
        sl = length[s_pair[ok]]
        ids.append(s_pair[ok] * nb + b)
        los.append(np.clip(s_offset[ok] - r0[ok], 0.0, sl))
        his.append(np.clip(s_offset[ok] + r0[ok], 0.0, sl))
    iid = np.concatenate(ids)
    ilo = np.concatenate(los)
    ihi = np.concatenate(his)
    order = np.lexsort((ilo, iid))
    iid, ilo, ihi = iid[order], ilo[order], ihi[order]

    # merge overlapping (or touching) intervals of the same (pair, band)
    new_grp = np.ones(len(iid), dtype=bool)
    new_grp[1:] = iid[1:] != iid[:-1]
    if len(iid):
        prev_max = np.empty(len(iid))
        prev_max[1:] = _segmented_running_max(iid, ihi)[:-1]
        prev_max[0] = -np.inf
        start = new_grp | (ilo > prev_max)
    else:
        start = new_grp
    run = np.flatnonzero(start)
    out_id = iid[run]
    out_lo = ilo[run]
    out_hi = np.maximum.reduceat(ihi, run) if len(run) else ihi[:0]
    p = out_id // nb
    return pg[p], out_id % nb, pe[p], out_lo, out_hi


# --------------------------------------------------------------------------------------------
# cutting edge geometries (vectorised substring)


def _running_length(coords: np.ndarray, first: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """Length along its own line at every vertex of lines stored one after another.

    Summed vertex by vertex along each line, so a line's numbers do not depend on the lines
    stored with it (a cut edge is the same whichever other edges are cut with it).
    """
    seg = np.zeros(len(coords))
    seg[1:] = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    cum = np.zeros(len(coords))
    by_count = np.argsort(-nv, kind="stable")
    # n_active[k]: how many lines have more than k vertices (they come first in by_count)
    n_active = np.searchsorted(-nv[by_count], -np.arange(int(nv.max(initial=0))), "left")
    for k in range(1, len(n_active)):
        at = first[by_count[: n_active[k]]] + k  # vertex k of every line that has one
        cum[at] = cum[at - 1] + seg[at]
    return cum


def _search(
    cum: np.ndarray, fa: np.ndarray, la: np.ndarray, a: np.ndarray, side: str
) -> np.ndarray:
    """``np.searchsorted`` of every ``a`` within its own line's ``cum[fa:la + 1]`` (bisection)."""
    lo, hi = fa.copy(), la + 1
    while True:
        todo = np.flatnonzero(lo < hi)
        if len(todo) == 0:
            return lo
        mid = (lo[todo] + hi[todo]) // 2
        right = cum[mid] > a[todo] if side == "right" else cum[mid] >= a[todo]
        hi[todo[right]] = mid[right]
        lo[todo[~right]] = mid[~right] + 1


def _substrings(lines: np.ndarray, edge: np.ndarray, f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """Parts of ``lines[edge]`` between fractions ``f0 <= f1`` of their length.

    Every piece keeps the vertices strictly inside it; its ends are linearly interpolated on
    the segment they fall in (the same points as :func:`shapely.line_interpolate_point` with
    ``normalized=True``). A piece of zero length is a two-point degenerate LineString, whose
    buffer is a disk.
    """
    if len(edge) == 0:
        return np.empty(0, dtype=object)
    out, piece = _substring_coords(lines, edge, f0, f1)
    return shapely.linestrings(out, indices=piece)


def _substring_coords(
    lines: np.ndarray, edge: np.ndarray, f0: np.ndarray, f1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The vertices of :func:`_substrings`' pieces, and the piece of every vertex."""
    ue, inv = np.unique(edge, return_inverse=True)
    coords, owner = shapely.get_coordinates(lines[ue], return_index=True)
    nv = np.bincount(owner, minlength=len(ue))
    first = np.cumsum(nv) - nv
    last = first + nv - 1
    cum = _running_length(coords, first, nv)

    fa, la = first[inv], last[inv]
    c0, c1 = cum[fa], cum[la]

    def position(f: np.ndarray) -> np.ndarray:
        a = c0 + f * (c1 - c0)
        a = np.where(f <= 0.0, c0, a)
        return np.where(f >= 1.0, c1, a)

    def point(a: np.ndarray) -> np.ndarray:
        j = _search(cum, fa, la, a, "right") - 1
        j = np.clip(j, fa, np.maximum(la - 1, fa))
        jn = np.minimum(j + 1, la)
        span = cum[jn] - cum[j]
        t = np.divide(a - cum[j], span, out=np.zeros_like(a), where=span > 0)
        t = np.clip(t, 0.0, 1.0)[:, None]
        return coords[j] + t * (coords[jn] - coords[j])

    a0 = position(np.asarray(f0, dtype=np.float64))
    a1 = position(np.asarray(f1, dtype=np.float64))
    p0, p1 = point(a0), point(a1)
    # interior vertices strictly between the two ends
    i_lo = np.clip(_search(cum, fa, la, a0, "right"), fa + 1, la)
    i_hi = np.clip(_search(cum, fa, la, a1, "left"), i_lo, la)
    k = i_hi - i_lo
    npts = k + 2
    piece = np.repeat(np.arange(len(edge)), npts)
    pos = np.arange(int(npts.sum())) - np.repeat(np.cumsum(npts) - npts, npts)
    src = np.repeat(i_lo - 1, npts) + pos  # coordinate index for interior points
    out = coords[np.clip(src, 0, len(coords) - 1)]
    is_first = pos == 0
    is_last = pos == np.repeat(npts - 1, npts)
    out[is_first] = p0
    out[is_last] = p1
    return out, piece


def _pieces(net: WalkNetwork, edge: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Street pieces ``[lo, hi]`` (metres along the edge) as LineStrings (whole edges as is)."""
    length = net.edge_length[edge]
    whole = (lo <= 0.0) & (hi >= length)
    out = np.empty(len(edge), dtype=object)
    out[whole] = net.edge_geometry[edge[whole]]
    part = ~whole
    if part.any():
        lp = length[part]
        f0 = np.divide(lo[part], lp, out=np.zeros(int(part.sum())), where=lp > 0)
        f1 = np.divide(hi[part], lp, out=np.zeros(int(part.sum())), where=lp > 0)
        out[part] = _substrings(net.edge_geometry, edge[part], f0, f1)
    return out


# --------------------------------------------------------------------------------------------
# polygons


def _polygons(
    net: WalkNetwork,
    group: np.ndarray,
    band: np.ndarray,
    edge: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_groups: int,
    n_bands: int,
    buffer_m: float,
) -> np.ndarray:
    """Union of the buffered pieces per group and band, ``(n_groups, n_bands)`` polygons.

    Bands are nested, and an edge reached whole in a band is whole in every larger band, so
    the whole edges are unioned incrementally (``W_b = W_{b-1} | new whole edges of b``) and
    only the partial pieces of band ``b`` are added to ``W_b`` for its polygon: the same set
    as the union of all pieces of the band, at about half the cost.
    """
    out = np.empty((n_groups, n_bands), dtype=object)
    out[...] = shapely.Polygon()
    if len(edge) == 0:
        return out
    whole = (lo <= 0.0) & (hi >= net.edge_length[edge])
    # a whole edge only where it first becomes whole (rows are sorted by group, edge, band)
    key = group * np.int64(net.n_edges) + edge
    order = np.lexsort((band, key))
    first_whole = np.zeros(len(edge), dtype=bool)
    w_sorted = whole[order]
    k_sorted = key[order]
    prev_same = np.zeros(len(edge), dtype=bool)
    prev_same[1:] = (k_sorted[1:] == k_sorted[:-1]) & w_sorted[:-1]
    first_whole[order] = w_sorted & ~prev_same
    use = first_whole | ~whole
    group, band, edge, lo, hi, whole = (x[use] for x in (group, band, edge, lo, hi, whole))
    buffered = shapely.buffer(
        _pieces(net, edge, lo, hi), buffer_m, quad_segs=settings.ISOCHRONE_QUAD_SEGS
    )
    # slots: (group, band, partial?) -> contiguous slices
    slot = (group * n_bands + band) * 2 + (~whole).astype(np.int64)
    order = np.argsort(slot, kind="stable")
    buffered = buffered[order]
    bounds = np.searchsorted(slot[order], np.arange(n_groups * n_bands * 2 + 1))
    for g in range(n_groups):
        acc = shapely.Polygon()
        for b in range(n_bands):
            s = (g * n_bands + b) * 2
            new_whole = buffered[bounds[s] : bounds[s + 1]]
            if len(new_whole):
                acc = shapely.union_all(np.concatenate([[acc], new_whole]))
            partial = buffered[bounds[s + 1] : bounds[s + 2]]
            out[g, b] = shapely.union_all(np.concatenate([[acc], partial])) if len(partial) else acc
    return out


def _build(
    net: WalkNetwork,
    n_groups: int,
    r_group: np.ndarray,
    r_node: np.ndarray,
    r_dist: np.ndarray,
    s_group: np.ndarray,
    s_edge: np.ndarray,
    s_offset: np.ndarray,
    s_access: np.ndarray,
    band_m: np.ndarray,
    buffer_m: float,
) -> np.ndarray:
    """Polygons of shape ``(n_groups, n_bands)``."""
    g, b, e, lo, hi = _reached_intervals(
        net, r_group, r_node, r_dist, s_group, s_edge, s_offset, s_access, band_m
    )
    return _polygons(net, g, b, e, lo, hi, n_groups, len(band_m), buffer_m)


def _frame(
    key: str, labels: list[Any], bands: list[Any], polys: np.ndarray, crs: Any
) -> gpd.GeoDataFrame:
    nb = len(bands)
    lab = np.empty(len(labels), dtype=object)
    for i, label in enumerate(labels):
        lab[i] = label
    return gpd.GeoDataFrame(
        {
            key: np.repeat(lab, nb),
            "minutes": np.tile(np.asarray(bands), len(labels)),
        },
        geometry=gpd.GeoSeries(polys.ravel(), crs=crs),
        crs=crs,
    )


def walking_areas(
    net: WalkNetwork,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray | Sequence[Any],
    minutes: float | Sequence[float] = (5, 10, 15),
    *,
    speed: float = settings.WALK_SPEED_M_S,
    merge: bool = False,
    buffer_m: float = settings.ISOCHRONE_BUFFER_M,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> gpd.GeoDataFrame:
    """Areas reachable on foot from each origin (or from any of them) within each band.

    Edges are cut exactly where the walking time runs out, the reached street pieces are
    buffered by ``buffer_m`` and unioned: holes (blocks not reached around) are kept and
    nothing away from a reached street is covered. See :mod:`fifteenmin.isochrones`.

    Parameters
    ----------
    net
        The walking network.
    origins
        Points: a GeoDataFrame/GeoSeries with a CRS (reprojected to ``net.crs``), shapely
        points in ``net.crs`` or an ``(n, 2)`` array of x/y in ``net.crs``. Each is snapped
        onto its nearest edge (the straight-line access distance counts).
    minutes
        One band or several (sorted ascending, duplicates dropped).
    speed
        Walking speed in m/s (default 1,000 m per 15 minutes).
    merge
        ``False``: one row per origin and band. ``True``: one row per band, the area
        reachable from the *nearest* origin (one multi-source search), ``origin == "all"``;
        equal to the union of the separate isochrones.
    buffer_m
        Half-width of the area around every reached street piece, in metres
        (:data:`settings.ISOCHRONE_BUFFER_M` = 25 m).
    max_snap_m
        Origins farther than this from every street reach nothing (empty polygons).
    engine
        Shortest-path engine: ``"auto"``, ``"numba"`` or ``"scipy"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``origin`` (index label of a GeoDataFrame/GeoSeries row, else the position;
        ``"all"`` when merged), ``minutes`` and ``geometry`` (Polygon or MultiPolygon in
        ``net.crs``; ``POLYGON EMPTY`` when nothing is reached), ordered by origin then band.

    Examples
    --------
    >>> from fifteenmin import network_from_file, sample_path
    >>> net = network_from_file(sample_path())
    >>> xy = [[net.x[0], net.y[0]], [net.x[100], net.y[100]]]
    >>> iso = walking_areas(net, xy, minutes=(5, 10, 15))
    >>> iso[["origin", "minutes"]].values.tolist()
    [[0, 5], [0, 10], [0, 15], [1, 5], [1, 10], [1, 15]]
    >>> both = walking_areas(net, xy, 15, merge=True)  # from the nearer of the two
    >>> both["origin"].tolist()
    ['all']
    >>> bool(abs(both.area[0] - iso.geometry[[2, 5]].union_all().area) < 1e-3)
    True
    """
    bands, band_min = _bands(minutes)
    speed = _check_positive("speed", speed)
    buffer_m = _check_positive("buffer_m", buffer_m)
    band_m = band_min * 60.0 * speed
    origins, labels = _as_origins(origins)
    n = len(labels)
    if n == 0:
        polys = np.empty((1 if merge else 0, len(bands)), dtype=object)
        polys[...] = shapely.Polygon()
        return _frame("origin", ["all"] if merge else [], bands, polys, net.crs)
    if not merge:
        reach = reachable(net, origins, band_m[-1], max_snap_m=max_snap_m, engine=engine)
        snap = reach.snap
        r_group = np.repeat(np.arange(n, dtype=np.int64), np.diff(reach.ptr))
        r_node, r_dist = reach.node, reach.dist
        n_groups = n
        s_group = np.arange(n, dtype=np.int64)
    else:
        snap = snap_points(net, origins)
        seed_node, seed_dist = edge_seeds(net, snap.edge, snap.offset, snap.access)
        ok = np.repeat(snap.access <= max_snap_m, 2)
        seed_node, seed_dist = seed_node[ok], seed_dist[ok]
        _, r_node, r_dist = _kernel.bounded_search(
            net.indptr,
            net.indices,
            net.lengths,
            np.array([0, len(seed_node)], dtype=np.int64),
            seed_node,
            seed_dist,
            band_m[-1],
            engine=engine,
        )
        r_group = np.zeros(len(r_node), dtype=np.int64)
        n_groups = 1
        s_group = np.zeros(n, dtype=np.int64)
        labels = ["all"]
    use = snap.access <= max_snap_m
    polys = _build(
        net,
        n_groups,
        r_group,
        r_node.astype(np.int64),
        r_dist,
        s_group[use],
        snap.edge[use],
        snap.offset[use],
        snap.access[use],
        band_m,
        buffer_m,
    )
    return _frame("origin", labels, bands, polys, net.crs)


def facility_isochrones(
    net: WalkNetwork,
    tt: TravelTimes,
    item_id: str,
    minutes: float | Sequence[float] = (5, 10, 15),
    *,
    buffer_m: float = settings.ISOCHRONE_BUFFER_M,
) -> gpd.GeoDataFrame:
    """Areas within each band of the nearest facility of one catalogue item.

    Uses the node distances already in ``tt`` (no new search) and the facilities' access
    points (``tt.access``), at the item's walking speed: the result equals
    ``walking_areas(net, access_points_of_the_item, minutes, merge=True)``.

    Parameters
    ----------
    net
        The network ``tt`` was computed on.
    tt
        From :func:`fifteenmin.routing.travel_times`.
    item_id
        A catalogue item id (``tt.item_ids``).
    minutes
        One band or several (sorted ascending); at most the search cutoff of ``tt``.
    buffer_m
        Half-width of the area around every reached street piece, in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``item_id``, ``minutes``, ``geometry`` (``net.crs``), one row per band.

    Raises
    ------
    KeyError
        ``item_id`` is not an item of ``tt``.
    ValueError
        ``tt`` belongs to another network, or a band exceeds the search cutoff of ``tt``.

    Examples
    --------
    >>> from fifteenmin import facilities_from_osm, network_from_file, sample_path, travel_times
    >>> net = network_from_file(sample_path())
    >>> tt = travel_times(net, facilities_from_osm(sample_path(), "beijing"), "beijing")
    >>> iso = facility_isochrones(net, tt, "pharmacy", (5, 10, 15))
    >>> iso[["item_id", "minutes"]].values.tolist()
    [['pharmacy', 5], ['pharmacy', 10], ['pharmacy', 15]]
    """
    bands, band_min = _bands(minutes)
    buffer_m = _check_positive("buffer_m", buffer_m)
    if item_id not in tt.item_ids:
        raise KeyError(f"{item_id!r} is not an item of these travel times; items: {tt.item_ids}")
    if tt.metres.shape[1] != net.n_nodes:
        raise ValueError(
            f"the travel times have {tt.metres.shape[1]} nodes but the network has "
            f"{net.n_nodes}: compute them on this network"
        )
    k = tt.item_ids.index(item_id)
    band_m = band_min * 60.0 * float(tt.speed[k])
    if band_m[-1] > tt.cutoff_m[k] * (1.0 + 1e-12):
        raise ValueError(
            f"{band_min[-1]:g} minutes is beyond the search cutoff of these travel times "
            f"({tt.cutoff_m[k] / tt.speed[k] / 60.0:g} minutes for {item_id!r}); "
            "recompute them with a larger cutoff_minutes"
        )
    d = tt.metres[k]
    node = np.flatnonzero(d <= band_m[-1]).astype(np.int64)
    acc = tt.access[tt.access["item"].to_numpy() == k]
    polys = _build(
        net,
        1,
        np.zeros(len(node), dtype=np.int64),
        node,
        d[node],
        np.zeros(len(acc), dtype=np.int64),
        acc["edge"].to_numpy().astype(np.int64),
        acc["offset"].to_numpy().astype(np.float64),
        acc["access"].to_numpy().astype(np.float64),
        band_m,
        buffer_m,
    )
    return _frame("item_id", [item_id], bands, polys, net.crs)


def _workers(threads: int | None) -> int:
    """Worker threads for the GEOS unions (every usable core by default)."""
    if threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    return threads


def _map(pool: ThreadPoolExecutor | None, fn: Callable[[Any], Any], items: Iterable[Any]) -> Any:
    return map(fn, items) if pool is None else pool.map(fn, items)


def _buffer(geoms: np.ndarray, buffer_m: float, pool: ThreadPoolExecutor | None) -> np.ndarray:
    """``shapely.buffer`` of every geometry, in slices on the worker threads."""
    k = 1 if pool is None else _workers(None)
    slices = np.array_split(np.arange(len(geoms)), max(1, min(k, len(geoms) // 64)))
    parts = _map(
        pool,
        lambda i: shapely.buffer(geoms[i], buffer_m, quad_segs=settings.ISOCHRONE_QUAD_SEGS),
        slices,
    )
    out = np.empty(len(geoms), dtype=object)
    for i, part in zip(slices, parts, strict=True):
        out[i] = part
    return out


def _buffered_pieces(
    net: WalkNetwork,
    edge: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    buffer_m: float,
    pool: ThreadPoolExecutor | None,
) -> np.ndarray:
    """Buffered street pieces; an edge reached whole by several communities is buffered once."""
    whole = (lo <= 0.0) & (hi >= net.edge_length[edge])
    out = np.empty(len(edge), dtype=object)
    uniq, inv = np.unique(edge[whole], return_inverse=True)
    out[whole] = _buffer(net.edge_geometry[uniq], buffer_m, pool)[inv]
    part = ~whole
    out[part] = _buffer(_pieces(net, edge[part], lo[part], hi[part]), buffer_m, pool)
    return out


def _union(parts: np.ndarray, simplify_m: float) -> Any:
    """One community's area: the union of its buffered pieces (simplified for display)."""
    if len(parts) == 0:
        return shapely.Polygon()
    area = shapely.union_all(parts)
    if simplify_m > 0:
        area = shapely.simplify(area, simplify_m, preserve_topology=True)
    return area


# --------------------------------------------------------------------------------------------
# the raster path of the communities' walking areas (method="raster")

#: Vertices of a traced ring within this many metres of the chord of their neighbours are
#: dropped (the crossing points along a straight side of a buffer are collinear).
_RING_TOL_M = 0.01


def _piece_vertices(
    net: WalkNetwork, edge: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the street pieces ``[lo, hi]`` of :func:`_pieces`, and each one's piece.

    Whole edges keep their geometry's vertices; the others are cut by :func:`_substrings`.
    """
    length = net.edge_length[edge]
    whole = (lo <= 0.0) & (hi >= length)
    xy_w, i_w = shapely.get_coordinates(net.edge_geometry[edge[whole]], return_index=True)
    part = np.flatnonzero(~whole)
    lp = length[part]
    f0 = np.divide(lo[part], lp, out=np.zeros(len(part)), where=lp > 0)
    f1 = np.divide(hi[part], lp, out=np.zeros(len(part)), where=lp > 0)
    if len(part):
        xy_p, i_p = _substring_coords(net.edge_geometry, edge[part], f0, f1)
    else:
        xy_p, i_p = np.empty((0, 2)), np.empty(0, dtype=np.int64)
    piece = np.concatenate([np.flatnonzero(whole)[i_w], part[i_p]])
    order = np.argsort(piece, kind="stable")
    return np.concatenate([xy_w, xy_p])[order], piece[order]


def _ragged_areas(
    xy: np.ndarray, ring_ptr: np.ndarray, poly_ptr: np.ndarray, area_ptr: np.ndarray
) -> np.ndarray:
    """Polygons (one shell) or MultiPolygons of :func:`_contour.chunk_areas`' rings, in bulk.

    Area ``g`` is polygons ``area_ptr[g]:area_ptr[g + 1]`` (none: an empty Polygon): the
    geometries :func:`shapely.from_ragged_array` makes of each area's rings, read from WKB
    written by compiled code (one GEOS geometry per area, not one per ring).
    """
    buf, off = _contour.areas_wkb(xy, ring_ptr, poly_ptr, area_ptr)
    data = buf.tobytes()
    out = np.empty(len(off) - 1, dtype=object)
    has = np.flatnonzero(off[1:] > off[:-1])
    out[has] = shapely.from_wkb([data[off[i] : off[i + 1]] for i in has])
    for i in np.flatnonzero(off[1:] == off[:-1]):
        out[i] = shapely.Polygon()
    return out


def _fix_invalid(areas: np.ndarray, idx: np.ndarray) -> int:
    """Make the invalid ones of ``areas[idx]`` valid in place; returns how many.

    Rare: rings traced on the grid that touch at a point (seen once in 34,445 areas of the
    synthetic cities); ``make_valid`` with the ``structure`` method keeps the polygon.
    """
    bad = idx[~shapely.is_valid(areas[idx])]
    if len(bad):
        areas[bad] = shapely.make_valid(areas[bad], method="structure", keep_collapsed=False)
    return len(bad)


def _warn_repaired(bad: int, total: int, stacklevel: int) -> None:
    if bad:
        warnings.warn(
            f"{bad} of {total} raster walking area(s) were not valid polygons and "
            "were repaired (shapely.make_valid); use method='exact' for the exact areas",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def _repair(areas: np.ndarray) -> None:
    """Make every invalid raster area valid in place (counted in a warning)."""
    _warn_repaired(_fix_invalid(areas, np.arange(len(areas))), len(areas), 2)


def _raster_group_areas(
    xy: np.ndarray,
    seg: np.ndarray,
    bounds: np.ndarray,
    grid_m: float,
    buffer_m: float,
    simplify_m: float,
) -> tuple[np.ndarray, int]:
    """The raster areas of groups of segments (group ``g``: ``xy[bounds[g]:bounds[g + 1]]``).

    Computed in one compiled call (:func:`_contour.chunk_areas`), which also shows most areas
    valid; GEOS checks only the others. Simplified areas (``simplify_m > 0``, Douglas-Peucker
    ring by ring, at the tolerance or, where only that is shown valid, at a half or a quarter
    of it) that are not valid, or empty, are simplified again from the full area with the
    topology preserved (:func:`shapely.simplify`). Returns the areas (invalid ones
    repaired, :func:`_fix_invalid`) and how many were repaired.
    """
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    rings = _contour.chunk_areas(xy, seg, bounds, grid_m, buffer_m, _RING_TOL_M, simplify_m)
    areas = _ragged_areas(*rings[:4])
    doubt = np.flatnonzero(~rings[4])
    if simplify_m > 0 and len(doubt):
        ok = shapely.is_valid(areas[doubt]) & ~shapely.is_empty(areas[doubt])
        doubt = doubt[~ok]
        for i in doubt:
            a, b = bounds[i], bounds[i + 1]
            full = _ragged_areas(
                *_contour.chunk_areas(
                    xy[a:b], seg[a:b], np.array([0, b - a]), grid_m, buffer_m, _RING_TOL_M, 0.0
                )[:4]
            )[0]
            areas[i] = shapely.simplify(full, simplify_m, preserve_topology=True)
    return areas, _fix_invalid(areas, doubt)


def _raster_area(
    piece: tuple[np.ndarray, np.ndarray], grid_m: float, buffer_m: float, simplify_m: float
) -> Any:
    """The area within ``buffer_m`` of the pieces (vertices, segment flags), on a grid."""
    xy, seg = piece
    bounds = np.array([0, len(xy)], dtype=np.int64)
    return _raster_group_areas(xy, seg, bounds, grid_m, buffer_m, simplify_m)[0][0]


def _chunk_intervals(
    net: WalkNetwork,
    snap: SnapResult,
    rows: np.ndarray,
    s_group: np.ndarray,
    k: int,
    band_m: np.ndarray,
    engine: str,
    threads: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reached intervals ``(group, edge, lo, hi)`` of a chunk's ``k`` communities.

    One bounded search for the chunk (each community is one group of seeds: both ends of
    every joined resident's edge, exactly the merged search of :func:`walking_areas`).
    """
    s_edge, s_offset, s_access = snap.edge[rows], snap.offset[rows], snap.access[rows]
    seed_node, seed_dist = edge_seeds(net, s_edge, s_offset, s_access)
    ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(2 * np.bincount(s_group, minlength=k), out=ptr[1:])
    r_ptr, r_node, r_dist = _kernel.bounded_search(
        net.indptr, net.indices, net.lengths, ptr, seed_node, seed_dist, band_m[-1],
        engine=engine, threads=threads,
    )  # fmt: skip
    r_group = np.repeat(np.arange(k, dtype=np.int64), np.diff(r_ptr))
    group, _, edge, lo, hi = _reached_intervals(
        net, r_group, r_node.astype(np.int64), r_dist, s_group, s_edge, s_offset, s_access,
        band_m,
    )  # fmt: skip
    return group, edge, lo, hi


class _StreetPieces:
    """What the compiled cutting of :func:`_contour.chunk_pieces` needs, for one call.

    The network's arrays, every edge's vertices with the running length along its line
    (computed once), and per-thread workspaces (a distance per node, a stamp per edge).
    """

    def __init__(self, net: WalkNetwork) -> None:
        self.net = (net.indptr, net.arc_edge, net.edge_u, net.edge_v, net.edge_length)
        xy = shapely.get_coordinates(net.edge_geometry)
        ptr = np.zeros(net.n_edges + 1, dtype=np.int64)
        np.cumsum(shapely.get_num_coordinates(net.edge_geometry), out=ptr[1:])
        step = np.zeros(len(xy))
        step[1:] = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
        self.geom = (xy, ptr, _contour.running_length(xy, ptr, step))
        self.n_nodes, self.n_edges = net.n_nodes, net.n_edges
        self._local = threading.local()

    def workspaces(self) -> tuple[np.ndarray, np.ndarray]:
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = self._local.ws = (
                np.full(self.n_nodes, np.inf),
                np.full(self.n_edges, -1, dtype=np.int64),
            )
        return ws


def _raster_chunk(
    pieces: _StreetPieces,
    search: tuple[Any, ...],
    c0: int,
    grid_m: float,
    buffer_m: float,
    simplify_m: float,
) -> tuple[np.ndarray, int]:
    """One chunk's raster areas, search included (a task of the worker threads).

    The chunk's bounded search, then the reached street pieces cut by the compiled
    :func:`_contour.chunk_pieces` (the segments of :func:`_reached_intervals` and
    :func:`_piece_vertices`) and the areas drawn by :func:`_raster_group_areas`.
    """
    net, snap, rows, s_group, k, band_m, engine, threads = search
    s_edge, s_offset, s_access = snap.edge[rows], snap.offset[rows], snap.access[rows]
    seed_node, seed_dist = edge_seeds(net, s_edge, s_offset, s_access)
    s_ptr = np.searchsorted(s_group, np.arange(k + 1)).astype(np.int64)
    reach = _kernel.bounded_search(
        net.indptr, net.indices, net.lengths, 2 * s_ptr, seed_node, seed_dist, band_m[-1],
        engine=engine, threads=threads,
    )  # fmt: skip
    seeds = (s_ptr, s_edge.astype(np.int64), s_offset, s_access)
    xy, seg, bounds = _contour.chunk_pieces(
        pieces.net, pieces.geom, reach, seeds, float(band_m[-1]), *pieces.workspaces(), c0
    )
    return _raster_group_areas(xy, seg, bounds, grid_m, buffer_m, simplify_m)


def _objects(items: Iterable[Any], k: int) -> np.ndarray:
    out = np.empty(k, dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _community_chunks(
    net: WalkNetwork,
    snap: SnapResult,
    code: np.ndarray,
    n_comm: int,
    band_m: np.ndarray,
    *,
    buffer_m: float,
    simplify_m: float,
    max_snap_m: float,
    engine: str,
    pool: ThreadPoolExecutor | None,
    workers: int,
    grid_m: float,
    chunk: int,
) -> Iterator[tuple[np.ndarray, int]]:
    """Walking areas of communities ``0 .. n_comm - 1``, ``chunk`` at a time, in order.

    Yields each chunk's areas and how many of them were repaired. Exact areas: one bounded
    search, one vectorised cutting of the reached edges and one buffering of the pieces per
    chunk on this thread, then one union per community (GEOS, most of the time) on the worker
    threads; a chunk's unions are handed to the threads before the previous chunk's are
    yielded, so the next chunk's search and cutting run meanwhile. Raster areas
    (``grid_m > 0``): each chunk, search included, is one task of the worker threads
    (:func:`_raster_chunk`: the compiled code releases the GIL), ``workers + 1`` chunks at a
    time. Chunking never changes an area.
    """
    joined = np.flatnonzero((code >= 0) & (snap.access <= max_snap_m))
    joined = joined[np.argsort(code[joined], kind="stable")]
    s_code = code[joined]

    def search(c0: int, k: int, threads: int | None) -> tuple[Any, ...]:
        rows = joined[np.searchsorted(s_code, c0) : np.searchsorted(s_code, c0 + k)]
        return net, snap, rows, code[rows] - c0, k, band_m, engine, threads

    starts = range(0, n_comm, chunk)
    if grid_m > 0:
        pieces = _StreetPieces(net)

        def task(c0: int) -> tuple[np.ndarray, int]:
            job = search(c0, min(chunk, n_comm - c0), 1 if pool else None)
            return _raster_chunk(pieces, job, c0, grid_m, buffer_m, simplify_m)

        yield from _in_order(starts, task, pool, workers)
        return
    pending: tuple[Iterator[Any], int] = (iter(()), 0)  # the previous chunk's unions
    for c0 in starts:
        k = min(chunk, n_comm - c0)
        group, edge, lo, hi = _chunk_intervals(*search(c0, k, None))
        buffered = _buffered_pieces(net, edge, lo, hi, buffer_m, pool)
        bounds = np.searchsorted(group, np.arange(k + 1))
        parts = [buffered[bounds[i] : bounds[i + 1]] for i in range(k)]
        areas = iter(_map(pool, functools.partial(_union, simplify_m=simplify_m), parts))
        if c0 > 0:
            yield _objects(*pending), 0
        pending = (areas, k)
    if n_comm > 0:
        yield _objects(*pending), 0


def _in_order(
    starts: range,
    task: Callable[[int], tuple[np.ndarray, int]],
    pool: ThreadPoolExecutor | None,
    workers: int,
) -> Iterator[tuple[np.ndarray, int]]:
    """``task(c0)`` for every chunk, in order, ``workers + 1`` at a time on the threads."""
    if pool is None:
        for c0 in starts:
            yield task(c0)
        return
    running: collections.deque[Future[tuple[np.ndarray, int]]] = collections.deque()
    for c0 in starts:
        running.append(pool.submit(task, c0))
        if len(running) > workers:
            yield running.popleft().result()
    while running:
        yield running.popleft().result()


def _checked(
    minutes: float,
    speed: float,
    buffer_m: float,
    simplify_m: float,
    method: str,
    grid_m: float,
    chunk: int | None,
) -> tuple[list[Any], np.ndarray, float, float, float, float, int]:
    """The arguments of :func:`iter_community_walking_areas`, checked."""
    bands, band_min = _bands((minutes,))
    speed = _check_positive("speed", speed)
    buffer_m = _check_positive("buffer_m", buffer_m)
    simplify_m = float(simplify_m)
    if not (np.isfinite(simplify_m) and simplify_m >= 0):
        raise ValueError(f"simplify_m must be 0 or a positive number of metres, got {simplify_m}")
    if method not in ("exact", "raster"):
        raise ValueError(f"method must be 'exact' or 'raster', not {method!r}")
    grid_m = _check_positive("grid_m", grid_m) if method == "raster" else 0.0
    chunk = settings.WALKING_AREA_CHUNK if chunk is None else int(chunk)
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 community, got {chunk}")
    return bands, band_min * 60.0 * speed, buffer_m, simplify_m, grid_m, speed, chunk


def iter_community_walking_areas(
    net: WalkNetwork,
    residents: gpd.GeoDataFrame,
    minutes: float = settings.COMMUNITY_WALK_MINUTES,
    *,
    speed: float = settings.WALK_SPEED_M_S,
    engine: str = settings.ENGINE,
    buffer_m: float = settings.ISOCHRONE_BUFFER_M,
    max_snap_m: float = settings.MAX_SNAP_M,
    simplify_m: float = 0.0,
    threads: int | None = None,
    method: str = "exact",
    grid_m: float = settings.WALKING_AREA_GRID_M,
    chunk: int | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """:func:`community_walking_areas`, a chunk of communities at a time.

    Yields consecutive chunks of ``chunk`` communities (the last one may be smaller), in
    community id order, each a frame with the columns and CRS of
    :func:`community_walking_areas` (index from 0 in every chunk); their concatenation is
    :func:`community_walking_areas`'s frame. Each chunk's areas are final (raster areas that
    were not valid already repaired; the warning that counts them comes once, after the last
    chunk). Memory stays bounded by a few chunks whatever the number of communities, and the
    next chunks are computed on the worker threads while the caller handles one.

    Parameters
    ----------
    net, residents, minutes
        As for :func:`community_walking_areas`.
    speed, engine, buffer_m, max_snap_m, simplify_m, threads, method, grid_m
        As for :func:`community_walking_areas` (checked when this is called, not at the
        first chunk).
    chunk
        Communities per chunk (default :data:`settings.WALKING_AREA_CHUNK`); never changes
        an area.

    Returns
    -------
    iterator of geopandas.GeoDataFrame
        Columns ``origin`` (``"all"``), ``minutes``, ``geometry``, ``community_id``
        (``net.crs``), one row per community; nothing when ``residents`` has no community.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> data = fm.read_osm(fm.sample_path())
    >>> net = fm.network_from_file(data)
    >>> homes = fm.residents(fm.communities_from_osm(data, net), net, data)
    >>> sizes = [len(c) for c in iter_community_walking_areas(net, homes, 5, chunk=5)]
    >>> sum(sizes) == homes["community_id"].nunique() and max(sizes) <= 5
    True
    """
    args = _checked(minutes, speed, buffer_m, simplify_m, method, grid_m, chunk)
    workers = _workers(threads)
    code, ids = pd.factorize(residents["community_id"], sort=True)
    snap = snap_points(net, residents) if len(ids) else None
    return _iter_chunks(
        net, snap, np.asarray(code), np.asarray(ids), args, max_snap_m, engine, workers
    )


def _iter_chunks(
    net: WalkNetwork,
    snap: SnapResult | None,
    code: np.ndarray,
    ids: np.ndarray,
    args: tuple[list[Any], np.ndarray, float, float, float, float, int],
    max_snap_m: float,
    engine: str,
    workers: int,
) -> Iterator[gpd.GeoDataFrame]:
    """The generator of :func:`iter_community_walking_areas`."""
    bands, band_m, buffer_m, simplify_m, grid_m, _, chunk = args
    if snap is None:
        return
    repaired, done = 0, 0
    with ThreadPoolExecutor(workers) if workers > 1 else contextlib.nullcontext() as pool:
        chunks = _community_chunks(
            net, snap, code, len(ids), band_m, buffer_m=buffer_m, simplify_m=simplify_m,
            max_snap_m=max_snap_m, engine=engine, pool=pool, workers=workers, grid_m=grid_m,
            chunk=chunk,
        )  # fmt: skip
        total = -(-len(ids) // chunk)
        for areas, fixed in bar(chunks, "walking areas", total=total, unit="chunk"):
            repaired += fixed
            k = len(areas)
            out = _frame("origin", ["all"] * k, bands, areas.reshape(-1, 1), net.crs)
            out["community_id"] = ids[done : done + k]
            done += k
            yield out
    _warn_repaired(repaired, len(ids), 2)


def community_walking_areas(
    net: WalkNetwork,
    residents: gpd.GeoDataFrame,
    minutes: float = settings.COMMUNITY_WALK_MINUTES,
    *,
    speed: float = settings.WALK_SPEED_M_S,
    engine: str = settings.ENGINE,
    buffer_m: float = settings.ISOCHRONE_BUFFER_M,
    max_snap_m: float = settings.MAX_SNAP_M,
    simplify_m: float = 0.0,
    threads: int | None = None,
    method: str = "exact",
    grid_m: float = settings.WALKING_AREA_GRID_M,
) -> gpd.GeoDataFrame:
    """Each community's walking area within ``minutes`` from its resident origins.

    One polygon per community: the area its residents reach, from the merged multi-source
    search from all its origins, cut and buffered exactly as :func:`walking_areas` with
    ``merge=True`` (the same polygons, up to the rounding of the union). Communities are done
    :data:`settings.WALKING_AREA_CHUNK` at a time: one bounded search for the chunk (a group of
    seeds per community), one vectorised cutting and buffering of the reached streets, then one
    union per community, on ``threads`` threads.

    Parameters
    ----------
    net
        The walking network.
    residents
        Resident origins with a ``community_id`` column
        (:func:`fifteenmin.communities.residents`); rows without an id are left out.
    minutes
        The band, in minutes.
    speed
        Walking speed in m/s.
    engine
        Shortest-path engine.
    buffer_m
        Half-width of the area around every reached street piece, in metres.
    max_snap_m
        Residents farther than this from every street reach nothing.
    simplify_m
        For display only: simplify every area with this tolerance in metres
        (:func:`shapely.simplify` with ``preserve_topology=True``: vertices stay on the exact
        boundary, which moves by about the tolerance, holes are kept; a 1 m tolerance keeps
        about a third of the vertices). ``0`` (the default) keeps the exact polygons; the
        report's map uses :data:`settings.WALKING_AREA_MAP_SIMPLIFY_M`. Raster areas are
        simplified ring by ring by compiled Douglas-Peucker (a hole that collapses goes), at
        half or a quarter of the tolerance where the area would not be shown valid, and by
        ``preserve_topology=True`` where even that fails; the report's city map simplifies
        them to its own resolution, :data:`settings.HTML_CITY_AREA_SIMPLIFY_M`.
    threads
        Threads for the unions (GEOS releases the GIL); default: every usable core. The
        result does not depend on it.
    method
        ``"exact"`` (the default): the union of the buffered pieces, as described above.
        ``"raster"``: the same area drawn on a grid of ``grid_m`` metres, about 10x faster
        (the report's map uses it above :data:`settings.WALKING_AREA_MAP_EXACT_MAX`
        communities): the distance
        from every grid point to the nearest reached piece (exactly cut, as above) is
        contoured at ``buffer_m`` (marching squares, linear interpolation). Holes are kept;
        the boundary is the true round buffer's, except within about ``grid_m / 2`` of the
        corners where two streets' buffers meet (the contour cuts them) and holes thinner
        than about ``grid_m``, which may open or close. Measured against ``"exact"`` with
        ``grid_m = 5``, worst community (symmetric difference / area; largest distance from
        a point of one area to the other): sample 0.22 %, 2.8 m; Beijing CAU 0.25 %, 2.7 m;
        Andorra 0.34 %, 3.4 m; the synthetic cities of ``bench/city.py`` (n = 125 and 250,
        150 communities each) 0.31 %, 3.0 and 3.4 m (``bench/WALKING_AREAS.md``).
    grid_m
        Grid step of ``method="raster"`` in metres
        (:data:`settings.WALKING_AREA_GRID_M` = 5 m).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``origin`` (``"all"``), ``minutes``, ``geometry``, ``community_id``
        (``net.crs``), one row per community, in community id order.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> data = fm.read_osm(fm.sample_path())
    >>> net = fm.network_from_file(data)
    >>> homes = fm.residents(fm.communities_from_osm(data, net), net, data)
    >>> areas = community_walking_areas(net, homes, 5)
    >>> len(areas) == homes["community_id"].nunique()
    True
    """
    frames = list(
        iter_community_walking_areas(
            net, residents, minutes, speed=speed, engine=engine, buffer_m=buffer_m,
            max_snap_m=max_snap_m, simplify_m=simplify_m, threads=threads, method=method,
            grid_m=grid_m,
        )
    )  # fmt: skip
    if not frames:
        return gpd.GeoDataFrame({"community_id": [], "minutes": []}, geometry=[], crs=net.crs)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    assert isinstance(out, gpd.GeoDataFrame)
    return out
