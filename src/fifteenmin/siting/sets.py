"""Coverage sets: which resident origins each candidate site reaches within a tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse

from .. import settings
from ..network import SnapResult, WalkNetwork, as_points, snap_points
from ..routing import _EndIndex, _reach_routes, _reach_snapped, reach_walks, reachable

if TYPE_CHECKING:
    pass

__all__ = ["coverage_sets"]

#: Origins per reverse bounded-search batch of :func:`uncovered_sets`.
REVERSE_CHUNK = 4096
#: Relative band around a tier within which :func:`uncovered_sets` re-times a pair the way
#: :func:`coverage_sets` does. A walk timed from either end is the same sum of the same
#: lengths in another order: each float sum lies within ``(arcs + 3) * 2**-53`` (relative)
#: of the exact sum, far inside this band for any network below 10**7 arcs.
_REVERSE_BAND = 1e-8

#: Candidates per bounded-search batch (bounds the memory of the intermediate results).
CHUNK = 2048
#: Straight-line prefilter radius factor: projected (UTM) distances may exceed geodesic
#: network lengths by the scale factor of the projection (< 1.005 inside a city), so a
#: candidate farther than ``1.05 * cutoff + 10`` m from every origin covers none of them.
_PREFILTER_FACTOR = 1.05
_PREFILTER_PAD_M = 10.0

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
    return _forward_sets(
        net, cand, orig, snap_points(net, orig), minutes, speed, max_snap_m, engine, True
    )


def _forward_sets(
    net: WalkNetwork,
    cand: np.ndarray,
    orig: np.ndarray,
    osnap: SnapResult,
    minutes: float,
    speed: float,
    max_snap_m: float,
    engine: str,
    prefilter: bool,
) -> sparse.csr_matrix:
    """:func:`coverage_sets` with the origins snapped (``osnap``); optionally no prefilter."""
    n_c, n_o = len(cand), len(orig)
    empty = sparse.csr_matrix((n_c, n_o), dtype=bool)
    cut_m = float(minutes) * 60.0 * float(speed)
    o_ok = np.flatnonzero(osnap.access <= max_snap_m)
    if len(o_ok) == 0:
        return empty
    joined = SnapResult(osnap.edge[o_ok], osnap.offset[o_ok], osnap.access[o_ok])
    # straight-line prefilter (a pure speed-up: the skipped candidates cover nothing)
    near = np.arange(n_c)
    if prefilter:
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


def uncovered_sets(
    net: WalkNetwork,
    candidates: SnapResult,
    origins: SnapResult,
    tiers: list[tuple[float, float, np.ndarray]],
    *,
    candidate_points: np.ndarray,
    origin_points: np.ndarray,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> list[sparse.csr_matrix]:
    """:func:`coverage_sets` restricted to given origins, from searches around those origins.

    For every tier ``(minutes, speed, target)`` the result equals
    ``coverage_sets(net, candidate_points, origin_points, minutes, speed=speed)`` with the
    columns of the origins outside ``target`` emptied. Instead of one bounded search per
    candidate, there is one per target origin (at the largest tier it is a target for): the
    network is walked both ways, so the origins within a tier of a candidate are the ones whose
    search reaches it within the tier (the walking-time rule applied from the origin's side,
    :func:`fifteenmin.routing.reach_walks`). The same walk summed from the other end can differ
    in the last bits, so a pair within a relative ``1e-8`` of the tier is decided by
    :func:`coverage_sets` itself (the candidate's own search); every decision is therefore the
    one :func:`coverage_sets` makes.

    Origins a site cannot gain (those already covered) change nothing in a greedy maximal
    coverage, so this gives the same sites as the full sets for far fewer searches when
    there are fewer origins than candidates.
    """
    if len(tiers) > 62:  # one bit per tier below
        out: list[sparse.csr_matrix] = []
        for i in range(0, len(tiers), 62):
            out += uncovered_sets(
                net,
                candidates,
                origins,
                tiers[i : i + 62],
                candidate_points=candidate_points,
                origin_points=origin_points,
                max_snap_m=max_snap_m,
                engine=engine,
            )
        return out
    n_o = len(origins)
    o_ok = origins.access <= max_snap_m
    c_ok = np.flatnonzero(candidates.access <= max_snap_m)
    cut = np.array([m * 60.0 * sp for m, sp, _ in tiers])
    need = np.zeros(n_o)  # the largest tier each origin is searched for
    for (_, _, target), c in zip(tiers, cut, strict=True):
        need = np.where(np.asarray(target, bool), np.maximum(need, c), need)
    src = np.flatnonzero(o_ok & (need > 0))
    index = _EndIndex.of(
        net, SnapResult(candidates.edge[c_ok], candidates.offset[c_ok], candidates.access[c_ok])
    )
    bits = np.zeros(n_o, np.int64)  # bit t: a target of tier t
    for t, (_, _, target) in enumerate(tiers):
        bits |= np.asarray(target, bool).astype(np.int64) << t
    n_c = len(candidate_points)
    pairs: list[list[tuple[np.ndarray, sparse.csr_matrix]]] = [[] for _ in tiers]
    unsure: list[list[np.ndarray]] = [[] for _ in tiers]
    for start in range(0, len(src), REVERSE_CHUNK):
        ids = src[start : start + REVERSE_CHUNK]
        snap = SnapResult(origins.edge[ids], origins.offset[ids], origins.access[ids])
        search_cut = need[ids] * (1.0 + 2 * _REVERSE_BAND) + 1e-6
        reach = _reach_snapped(net, snap, search_cut, max_snap_m, engine)
        o, c, metres = _reach_routes(net, reach, index)  # covered: by one of its routes
        near = np.flatnonzero(metres <= cut.max() * (1.0 + 2 * _REVERSE_BAND))
        o, c, metres = o[near], c_ok[c[near]], metres[near]  # o: position in ids
        tbits = bits[ids[o]]
        for t, (minutes, speed, _) in enumerate(tiers):
            sel = np.flatnonzero((tbits >> t) & 1)
            sel = sel[metres[sel] <= cut[t] * (1.0 + 2 * _REVERSE_BAND)]
            m = metres[sel]
            lo = m * (1.0 - _REVERSE_BAND) / speed / 60.0 <= minutes
            hi = m * (1.0 + _REVERSE_BAND) / speed / 60.0 <= minutes
            sure = lo & hi
            # the chunk's sure pairs as (its origins x candidates) rows, without the pairs
            # found by more than one route: the memory of the sets, not of the walks
            rows = sparse.csr_matrix(
                (np.ones(int(sure.sum()), dtype=bool), (o[sel[sure]], c[sel[sure]])),
                shape=(len(ids), n_c),
            )
            rows.sum_duplicates()
            pairs[t].append((ids, rows))
            unsure[t].append(c[sel[lo != hi]])
    kw = (max_snap_m, engine)
    out = []
    for t, tier in enumerate(tiers):  # each tier's pairs are let go once it is assembled
        tier_pairs, pairs[t] = pairs[t], []
        out.append(
            _assemble(
                net, tier, tier_pairs, unsure[t], candidate_points, origin_points, origins, kw
            )
        )
    return out


def _assemble(
    net: WalkNetwork,
    tier: tuple[float, float, np.ndarray],
    pairs: list[tuple[np.ndarray, sparse.csr_matrix]],
    unsure: list[np.ndarray],
    candidate_points: np.ndarray,
    origin_points: np.ndarray,
    origins: SnapResult,
    kw: tuple[float, str],
) -> sparse.csr_matrix:
    """One tier's sets from the sure pairs, the unsure candidates re-timed the forward way."""
    minutes, speed, target = tier
    max_snap_m, engine = kw
    n_c, n_o = len(candidate_points), len(origin_points)
    # the chunks' rows are origins in increasing order: one (origins x candidates) matrix,
    # turned into (candidates x origins) by a compressed-column view (sorted indices)
    per_origin = np.zeros(n_o, dtype=np.int64)
    for ids, rows in pairs:
        per_origin[ids] = np.diff(rows.indptr)
    ptr = np.zeros(n_o + 1, dtype=np.int64)
    np.cumsum(per_origin, out=ptr[1:])
    small = max(ptr[-1], n_o, n_c) < np.iinfo(np.int32).max  # scipy's own index type
    ptr = ptr.astype(np.int32 if small else np.int64)
    idx = np.concatenate([r.indices for _, r in pairs] or [np.zeros(0, np.int32)])
    idx = idx.astype(ptr.dtype, copy=False)
    pairs.clear()
    by_origin = sparse.csr_matrix((np.ones(len(idx), dtype=bool), idx, ptr), shape=(n_o, n_c))
    del idx, ptr
    csc = by_origin.tocsc()
    del by_origin
    mat = sparse.csr_matrix((csc.data, csc.indices, csc.indptr), shape=(n_c, n_o))
    del csc
    redo = np.unique(np.concatenate(unsure or [np.zeros(0, np.int64)]))
    if len(redo):
        exact = _forward_sets(
            net,
            candidate_points[redo],
            origin_points,
            origins,
            minutes,
            speed,
            max_snap_m,
            engine,
            False,
        ).tocoo()
        on = np.asarray(target, bool)[exact.col]
        redone = sparse.csr_matrix(
            (np.ones(int(on.sum()), dtype=bool), (redo[exact.row[on]], exact.col[on])),
            shape=(n_c, n_o),
        )
        keep = np.ones(n_c, dtype=bool)
        keep[redo] = False  # the unsure candidates' rows are the exact ones only
        lens = np.diff(mat.indptr)
        on_row = np.repeat(keep, lens)
        kept_ptr = np.zeros(n_c + 1, dtype=mat.indptr.dtype)
        np.cumsum(np.where(keep, lens, 0), out=kept_ptr[1:])
        mat = (
            sparse.csr_matrix((mat.data[on_row], mat.indices[on_row], kept_ptr), shape=(n_c, n_o))
            + redone
        )
    mat.sum_duplicates()  # canonical: sorted indices, no duplicates
    return mat
