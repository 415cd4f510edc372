"""The compiled loop of :mod:`fifteenmin.siting.bounds`: reverse searches scattered into gains.

Without numba (``HAVE_NUMBA`` False) the loop would run as plain Python; the siting then keeps
to the coverage sets of :mod:`fifteenmin.siting.sets`.
"""

from __future__ import annotations

import numpy as np

from .._kernel_jit import HAVE_NUMBA, njit, row_walks

__all__ = ["HAVE_NUMBA", "best_lower", "reaching", "scatter_gains"]


@njit(cache=True, nogil=True, boundscheck=False)
def scatter_gains(
    ptr: np.ndarray,
    node: np.ndarray,
    dist: np.ndarray,
    rows: np.ndarray,
    o_edge: np.ndarray,
    o_offset: np.ndarray,
    o_access: np.ndarray,
    o_items: np.ndarray,
    o_items_ptr: np.ndarray,
    w32: np.ndarray,
    node_ptr: np.ndarray,
    by_node: np.ndarray,
    legs: np.ndarray,
    c_of: np.ndarray,
    c_edges: np.ndarray,
    c_by_edge: np.ndarray,
    c_offset: np.ndarray,
    c_access: np.ndarray,
    item_tier: np.ndarray,
    surely: np.ndarray,
    maybe: np.ndarray,
    acc: np.ndarray,
    count: np.ndarray,
    unsure: np.ndarray,
    best: np.ndarray,
    stamp: np.ndarray,
    touched: np.ndarray,
) -> None:
    """Add each searched origin's weight to the gains of the candidates it may reach.

    Row ``r`` of the searches (``ptr``, ``node``, ``dist``: :class:`~fifteenmin.routing.Reach`)
    is origin ``rows[r]``, snapped at ``o_edge[r]``, ``o_offset[r]``, ``o_access[r]``. A
    candidate's walk is the shortest of its routes: via an end of its edge (slot ``s`` of
    ``by_node`` at a reached node, candidate ``c_of[s // 2]``, leg ``legs[s]``) or straight
    along a shared edge (candidates sorted by edge: ``c_edges``, ``c_by_edge``). For every
    item ``i`` the origin is a target of (``o_items[o_items_ptr[o]:o_items_ptr[o + 1]]``),
    a walk of at most ``maybe[t]`` metres (``t = item_tier[i]``) adds ``w32[o]`` to
    ``acc[c, i]`` and one to ``count[c, t]``; one longer than ``surely[t]`` as well marks the
    candidate ``unsure``. ``best``, ``stamp`` (initially ``-1``) and ``touched`` are scratch
    arrays over candidates.
    """
    n_t = len(maybe)
    ok_lo = np.zeros(n_t, dtype=np.bool_)
    ok_hi = np.zeros(n_t, dtype=np.bool_)
    maybe_max = maybe.max()
    reach = (ptr, node, dist)
    ends = (node_ptr, by_node, legs, c_of)
    along = (c_edges, c_by_edge, c_offset, c_access)
    for r in range(len(rows)):
        o = rows[r]
        i0, i1 = o_items_ptr[o], o_items_ptr[o + 1]
        if i0 == i1:
            continue
        origin = (o_edge[r], o_offset[r], o_access[r])
        k = row_walks(r, reach, ends, origin, along, best, stamp, touched)
        wo = w32[o]
        for q in range(k):
            c = touched[q]
            m = best[c]
            if m > maybe_max:
                continue
            for t in range(n_t):
                ok_lo[t] = m <= maybe[t]
                ok_hi[t] = m <= surely[t]
            counted = 0
            for ii in range(i0, i1):
                i = o_items[ii]
                t = item_tier[i]
                if ok_lo[t]:
                    acc[c, i] += wo
                    if not ok_hi[t]:
                        unsure[c] = True
                    if not (counted >> t) & 1:
                        counted |= 1 << t
                        count[c, t] += 1
        # stamps hold row numbers of this call: reset the touched ones for the next call
        for q in range(k):
            stamp[touched[q]] = -1


@njit(cache=True, nogil=True, boundscheck=False)
def best_lower(
    acc: np.ndarray, count: np.ndarray, item_tier: np.ndarray, unsure: np.ndarray, u: float
) -> np.ndarray:
    """Per item, the largest lower bound of a gain: ``acc * (1 - 4 (count + 2) u)``."""
    n_c, n_i = acc.shape
    out = np.zeros(n_i)
    for c in range(n_c):
        if unsure[c]:
            continue
        for i in range(n_i):
            a = acc[c, i]
            if a > 0:
                low = np.float64(a) * (1.0 - 4.0 * (count[c, item_tier[i]] + 2.0) * u)
                if low > out[i]:
                    out[i] = low
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def reaching(
    acc: np.ndarray, count: np.ndarray, item_tier: np.ndarray, best: np.ndarray, u: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(candidate, item)`` pairs (by candidate) whose upper bound reaches the item's ``best``.

    The upper bound is ``acc * (1 + 4 (count + 2) u)``; an item whose ``best`` is not positive
    takes every candidate with a positive ``acc``.
    """
    n_c, n_i = acc.shape
    n = 0
    for _ in range(2):  # count, then fill
        cs = np.empty(n, np.int64)
        its = np.empty(n, np.int64)
        n = 0
        for c in range(n_c):
            for i in range(n_i):
                a = acc[c, i]
                if a <= 0:
                    continue
                up = np.float64(a) * (1.0 + 4.0 * (count[c, item_tier[i]] + 2.0) * u)
                if up >= best[i] or best[i] <= 0:
                    if n < len(cs):
                        cs[n] = c
                        its[n] = i
                    n += 1
    return cs, its
