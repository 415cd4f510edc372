"""One site per item without coverage sets: bounds on every gain, exact rows of a few.

:func:`~fifteenmin.siting.plan_missing` with ``k=1`` (the report's 怎么补 section) needs, for
every item, the candidate whose coverage adds the most uncovered resident weight (ties to the
smallest index). The coverage sets of :mod:`fifteenmin.siting.sets` hold every (candidate,
origin) pair of a tier: ~10**8 pairs in a city of 10**6 network nodes, most of the siting's
time and memory. Here the reverse searches (one per uncovered origin, as in
:func:`~fifteenmin.siting.sets.uncovered_sets`) only add each origin's weight to the gains of
the candidates it may reach (:func:`~fifteenmin.siting._jit.scatter_gains`), in float32 with a
count of the terms, which bounds every candidate's exact gain from above and below. The
candidates whose upper bound reaches the largest lower bound are the only ones that can be
chosen; their exact rows come from their own bounded searches (the forward way of
:func:`~fifteenmin.siting.coverage_sets`, which decides every pair the coverage sets hold),
and :func:`~fifteenmin.siting.greedy_max_coverage` runs on those rows alone. It chooses what
it would choose on the full sets: no other candidate can reach the chosen gain, and with one
site, swaps never improve the greedy's exact best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .. import settings
from ..network import SnapResult, WalkNetwork
from ..routing import _EndIndex, _reach_snapped
from . import _jit
from . import sets as _sets

__all__ = ["Contenders", "contenders"]

#: Unit roundoff of float32, in which the gains are summed.
_U32 = 2.0**-24
#: Positive weights outside this range are not summed in float32 (subnormal or too large):
#: :func:`usable` is False and the siting keeps to the coverage sets.
_W32_RANGE = (1e-30, 1e30)


def usable(weights: np.ndarray) -> bool:
    """Whether the bounds apply: numba present and every weight representable in float32."""
    pos = weights[weights > 0]
    if not _jit.HAVE_NUMBA:
        return False
    return bool(len(pos) == 0 or (pos.min() >= _W32_RANGE[0] and pos.max() <= _W32_RANGE[1]))


@dataclass(frozen=True, eq=False)
class Contenders:
    """The candidates that may be an item's best site, and their exact sets.

    Attributes
    ----------
    candidates
        Candidate indices (sorted) whose gain may be the largest.
    sets
        Boolean CSR ``(len(candidates), n_origins)``: the origins each covers within the tier,
        among the item's uncovered origins (the rows of the full coverage sets, other columns
        left out).
    """

    candidates: np.ndarray
    sets: sparse.csr_matrix


def contenders(
    net: WalkNetwork,
    candidates: SnapResult,
    origins: SnapResult,
    weights: np.ndarray,
    items: list[tuple[float, float, np.ndarray]],
    *,
    candidate_points: np.ndarray,
    origin_points: np.ndarray,
    max_snap_m: float = settings.MAX_SNAP_M,
    engine: str = settings.ENGINE,
) -> list[Contenders]:
    """For each item ``(minutes, speed, uncovered)``, the candidates that may be its best site.

    Parameters
    ----------
    net
        The walking network.
    candidates, origins
        Snapped candidates and origins (:func:`fifteenmin.network.snap_points`).
    weights
        The origins' weights (non-negative, :func:`usable`).
    items
        Per item: its tier in minutes, walking speed, and the origins it leaves uncovered.
    candidate_points, origin_points
        The points themselves (the exact rows' searches snap them again).
    max_snap_m, engine
        As in :func:`fifteenmin.siting.coverage_sets`.

    Returns
    -------
    list of Contenders
        In the order of ``items``.
    """
    if len(items) > 62:  # item bits of one pass
        return [
            *contenders(
                net, candidates, origins, weights, items[:62],
                candidate_points=candidate_points, origin_points=origin_points,
                max_snap_m=max_snap_m, engine=engine,
            ),
            *contenders(
                net, candidates, origins, weights, items[62:],
                candidate_points=candidate_points, origin_points=origin_points,
                max_snap_m=max_snap_m, engine=engine,
            ),
        ]  # fmt: skip
    keys = list(dict.fromkeys((float(m), float(s)) for m, s, _ in items))
    item_tier = np.array([keys.index((float(m), float(s))) for m, s, _ in items], np.int64)
    acc, count, unsure = _gain_sums(
        net, candidates, origins, weights, items, keys, item_tier, max_snap_m, engine
    )
    best = _jit.best_lower(acc, count, item_tier, unsure, _U32)
    cs, its = _jit.reaching(acc, count, item_tier, best, _U32)
    del acc, count
    order = np.argsort(its, kind="stable")  # by item, then candidate
    bounds_ = np.searchsorted(its[order], np.arange(len(items) + 1))
    picks = [cs[order[bounds_[i] : bounds_[i + 1]]] for i in range(len(items))]
    out: list[Contenders | None] = [None] * len(items)
    for t, (minutes, speed) in enumerate(keys):
        mine = np.flatnonzero(item_tier == t)
        union = np.unique(np.concatenate([picks[i] for i in mine]))
        rows = _sets._forward_sets(
            net,
            candidate_points[union],
            origin_points,
            origins,
            minutes,
            speed,
            max_snap_m,
            engine,
            False,
        )
        for i in mine:
            pos = np.searchsorted(union, picks[i])
            out[i] = Contenders(picks[i], _only(rows[pos], items[i][2]))
    return [c for c in out if c is not None]


def _only(rows: sparse.csr_matrix, keep: np.ndarray) -> sparse.csr_matrix:
    """``rows`` with the columns outside ``keep`` emptied (canonical boolean CSR)."""
    rows = sparse.csr_matrix(rows, dtype=bool)
    rows.sum_duplicates()
    on = np.asarray(keep, bool)[rows.indices]
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    ptr = np.zeros(rows.shape[0] + 1, dtype=rows.indptr.dtype)
    np.cumsum(np.bincount(row_of[on], minlength=rows.shape[0]), out=ptr[1:])
    return sparse.csr_matrix((rows.data[on], rows.indices[on], ptr), shape=rows.shape)


def _gain_sums(
    net: WalkNetwork,
    candidates: SnapResult,
    origins: SnapResult,
    weights: np.ndarray,
    items: list[tuple[float, float, np.ndarray]],
    keys: list[tuple[float, float]],
    item_tier: np.ndarray,
    max_snap_m: float,
    engine: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate and item, the float32 sum of the weights that may be within the tier.

    Returns ``(acc, count, unsure)``: ``(n_c, n_items)`` float32 sums, ``(n_c, n_tiers)``
    int32 numbers of terms (over every item of the tier), and the candidates some walk of
    which lies within the band of a tier (exact rows needed to know their gain).
    """
    n_o, n_c = len(origins), len(candidates)
    band = _sets._REVERSE_BAND
    cut = np.array([m * 60.0 * s for m, s in keys])
    o_ok = origins.access <= max_snap_m
    target = np.column_stack([np.asarray(t, bool) for _, _, t in items]) & o_ok[:, None]
    o_of, o_items = np.nonzero(target)  # (origin, item) pairs sorted by origin
    o_items_ptr = np.zeros(n_o + 1, dtype=np.int64)
    np.cumsum(np.bincount(o_of, minlength=n_o), out=o_items_ptr[1:])
    need = np.where(target, cut[item_tier][None, :], 0.0).max(axis=1, initial=0.0)
    src = np.flatnonzero(need > 0)
    c_ok = np.flatnonzero(candidates.access <= max_snap_m)
    index = _EndIndex.of(
        net, SnapResult(candidates.edge[c_ok], candidates.offset[c_ok], candidates.access[c_ok])
    )
    c_edges = np.ascontiguousarray(candidates.edge[c_ok][index.by_edge])
    c_by_edge = np.ascontiguousarray(c_ok[index.by_edge])
    legs = np.ascontiguousarray(index.legs.ravel())
    w32 = np.asarray(weights, dtype=np.float32)
    acc = np.zeros((n_c, len(items)), dtype=np.float32)
    count = np.zeros((n_c, len(keys)), dtype=np.int32)
    unsure = np.zeros(n_c, dtype=bool)
    best = np.zeros(n_c)
    stamp = np.full(n_c, -1, dtype=np.int64)
    touched = np.zeros(n_c, dtype=np.int64)
    # walks within ``surely`` are within the tier whichever way they are summed, walks
    # beyond ``maybe`` are not (the band of uncovered_sets)
    surely, maybe = cut * (1.0 - band), cut * (1.0 + band)
    for start in range(0, len(src), _sets.REVERSE_CHUNK):
        ids = src[start : start + _sets.REVERSE_CHUNK]
        snap = SnapResult(origins.edge[ids], origins.offset[ids], origins.access[ids])
        reach = _reach_snapped(net, snap, need[ids] * (1.0 + 2 * band) + 1e-6, max_snap_m, engine)
        _jit.scatter_gains(
            reach.ptr, reach.node, reach.dist, ids,
            snap.edge, snap.offset, snap.access,
            o_items, o_items_ptr, w32,
            index.node_ptr, index.by_node, legs, c_ok, c_edges, c_by_edge,
            candidates.offset, candidates.access,
            item_tier, surely, maybe,
            acc, count, unsure, best, stamp, touched,
        )  # fmt: skip
    return acc, count, unsure
