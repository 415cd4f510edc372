"""Shortest-path kernels: multi-source nearest facility and bounded searches.

The public functions validate their inputs, allocate every workspace and run the compiled
workers of :mod:`fifteenmin._kernel_jit` (a float-bucket queue: exact float64 distances, equal
bit for bit to :func:`scipy.sparse.csgraph.dijkstra`; on large graphs each nearest-facility
search is split into tiles of node ids for memory locality; the module notes there describe the
algorithm and why it is exact) on one thread per worker slot, or scipy as a fallback and a
reference.

Ties. A node takes the label (facility index) of the seed giving it the smallest distance; on
equal distances the *smallest label* wins (a relaxation with an equal distance and a smaller
label also updates the node and is propagated). With exactly representable sums (e.g. integer
metres) this is exactly "the smallest label among the nearest seeds"; when two different float
paths only become equal through rounding the winner is still deterministic. Each item is solved
by one thread in a fixed order, so results do not depend on the number of threads.

Memory traffic. The search is bound by memory latency, so: ``indptr`` is stored as int32 when
possible; a bucket is detached into a small array before it is scanned and the arcs of the node
eight places ahead are software-prefetched, as is ``indptr[v]`` when ``v`` is queued; and the
output rows are the search's distance arrays (no copy, no n-wide reset beyond the row's own
fill). A new result is filled by numpy before the search: first-touching a freshly mapped
(K, n) result page by page from inside the search cost this VM several times more system time
(a median of 15-17 instead of 2-6 ms per million-node item, the same number of page
faults). Renumbering the nodes along a space-filling curve (:func:`spatial_order`) keeps
neighbours close in memory and makes the tiles compact.

Parallelism. ``multi_source_nearest`` runs items (services) in parallel, one worker thread
per slot with a fixed workspace; each worker takes the next item from an atomic counter
(dynamic scheduling, so a core that is busy elsewhere does not hold the call back). The
compiled workers (:mod:`fifteenmin._kernel_jit`) release the GIL, so plain Python threads run
them (no numba threading layer, no parallel-loop compilation). ``bounded_search`` hands out
small chunks of origins the same way, keeps a touched-node list per slot (no n-wide reset per
origin) and appends each origin's nodes, radix-sorted, to a per-slot buffer; buffers that fill
up are grown and the remaining origins resumed. Workspaces never grow inside the compiled
loops: an entry-pool overflow is detected, reported and retried with a pool four times larger.

numba is optional: without it the module imports and ``engine="auto"`` uses scipy.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import _snap, settings
from ._kernel_jit import (
    FULL,
    HAVE_NUMBA,
    OVERFLOW,
    Q_SIZE,
    bounded_worker,
    hilbert_index,
    nearest_worker,
    numba,
    run_workers,
    sort_groups,
)

__all__ = [
    "DEFAULT_BUCKET_WIDTH",
    "HAVE_NUMBA",
    "bounded_search",
    "multi_source_nearest",
    "spatial_order",
    "warmup",
]

DEFAULT_BUCKET_WIDTH = 1.2
"""Bucket width in metres (about one second of walking at 1.2 m/s)."""

_MAX_BUCKETS = 1 << 16
_BUF_CAP0 = 1 << 16  # initial per-thread result buffer of bounded_search (grown on demand)
_SORT_ORIGINS = True  # bounded_search visits origins by node id (cache reuse between origins)
_TILE_NODES = 1 << 15  # node ids per tile of a nearest-facility search (see "Tiles")
_MAX_CROSSING = 0.5  # no tiles when more of the arcs join two tiles (unordered node ids)

FloatArray = np.ndarray


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------


def _as_csr(indptr: Any, indices: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coerce dtypes and check the CSR structure (arc contents: see :func:`_scan_arcs`)."""
    indptr = np.asarray(indptr)
    if indptr.dtype != np.int32:
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if indptr.ndim != 1 or indptr.shape[0] < 1:
        raise ValueError("indptr must be a 1-d array of length n + 1")
    if indices.ndim != 1 or weights.ndim != 1 or indices.shape != weights.shape:
        raise ValueError("indices and weights must be 1-d arrays of the same length")
    m = indices.shape[0]
    if indptr[0] != 0 or indptr[-1] != m or (indptr.shape[0] > 1 and np.any(np.diff(indptr) < 0)):
        raise ValueError("indptr must start at 0, be non-decreasing and end at len(indices)")
    if m < 2**31 - 1:  # compact: less cache traffic
        indptr = np.ascontiguousarray(indptr, dtype=np.int32)
    return indptr, indices, weights


def _scan_arcs(indices: np.ndarray, weights: np.ndarray, n: int, cmax: float) -> float:
    """Validate arc targets and lengths; return a bound on the longest useful arc.

    Arcs longer than ``cmax`` (the largest cutoff) never yield a label within the cutoff and
    infinite arcs never yield a finite one, so the bound is ``min(max finite weight, cmax)``.
    """
    if indices.size == 0:
        return 0.0
    if indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"indices must be node ids in [0, {n})")
    if not weights.min() >= 0:  # NaN propagates through min and fails the test
        raise ValueError("weights must be >= 0 (no negative or NaN arc lengths)")
    wmax = float(weights.max())
    if math.isfinite(wmax):
        return min(wmax, cmax)
    if math.isfinite(cmax):
        return cmax
    finite = weights[np.isfinite(weights)]
    return float(finite.max()) if finite.size else 0.0


def _as_groups(
    ptr: Any, node: Any, dist: Any, n: int, names: tuple[str, str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coerce and check a grouped seed list (``ptr`` into ``node`` / ``dist``)."""
    pname, nname, dname = names
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    node = np.ascontiguousarray(node, dtype=np.int32)
    dist = np.ascontiguousarray(dist, dtype=np.float64)
    if ptr.ndim != 1 or ptr.shape[0] < 1:
        raise ValueError(f"{pname} must be a 1-d array of length (number of groups + 1)")
    if node.ndim != 1 or dist.shape != node.shape:
        raise ValueError(f"{nname} and {dname} must be 1-d arrays of the same length")
    if ptr[0] != 0 or ptr[-1] != node.shape[0] or np.any(np.diff(ptr) < 0):
        raise ValueError(f"{pname} must start at 0, be non-decreasing and end at len({nname})")
    if node.size and (node.min() < 0 or node.max() >= n):
        raise ValueError(f"{nname} must be node ids in [0, {n})")
    if dist.size and not (dist >= 0).all():
        raise ValueError(f"{dname} must be >= 0 (no negative or NaN offsets)")
    return ptr, node, dist


def _as_seeds(
    seed_ptr: Any, seed_node: Any, seed_dist: Any, seed_label: Any, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coerce and check the seeds of :func:`multi_source_nearest`."""
    ptr, node, dist = _as_groups(
        seed_ptr, seed_node, seed_dist, n, ("seed_ptr", "seed_node", "seed_dist")
    )
    label = np.ascontiguousarray(seed_label, dtype=np.int32)
    if label.shape != node.shape:
        raise ValueError("seed_label must have the same length as seed_node")
    if label.size and label.min() < 0:
        raise ValueError("seed_label must be >= 0 (-1 marks unreached nodes in the output)")
    return ptr, node, dist, label


def _check_out(out: Any, k: int, n: int) -> None:
    """Check the ``out=`` arrays of :func:`multi_source_nearest`."""
    for arr, dt, name in ((out[0], np.float64, "out[0]"), (out[1], np.int32, "out[1]")):
        if (
            not isinstance(arr, np.ndarray)
            or arr.shape != (k, n)
            or arr.dtype != dt
            or not arr.flags.c_contiguous
            or not arr.flags.writeable
        ):
            raise ValueError(
                f"{name} must be a writeable C-contiguous {np.dtype(dt).name} "
                f"array of shape ({k}, {n})"
            )


def _as_cutoffs(cutoff: Any, k: int) -> np.ndarray:
    """Per-item cutoffs as a float64 array of shape ``(k,)`` (a scalar is broadcast)."""
    c = np.asarray(cutoff, dtype=np.float64)
    if c.ndim == 0:
        c = np.full(k, float(c))
    elif c.shape != (k,):
        raise ValueError(f"cutoff must be a scalar or an array of shape ({k},)")
    else:
        c = np.ascontiguousarray(c)
    if c.size and not (c >= 0).all():
        raise ValueError("cutoff must be >= 0 (np.inf for no cutoff)")
    return c


def _resolve_engine(engine: str) -> str:
    """``"numba"`` or ``"scipy"`` for ``engine`` (``"auto"``: numba when installed)."""
    if engine == "auto":
        return "numba" if HAVE_NUMBA else "scipy"
    if engine == "numba":
        if not HAVE_NUMBA:
            raise ImportError("engine='numba' needs numba (pip install numba); use 'scipy'")
        return engine
    if engine == "scipy":
        return engine
    raise ValueError(f"engine must be 'auto', 'numba' or 'scipy', not {engine!r}")


def _max_cutoff(cutoffs: np.ndarray) -> float:
    """The largest cutoff (``inf`` when there are no items)."""
    return float(cutoffs.max()) if cutoffs.size else np.inf


def _seed_span(seed_dist: np.ndarray, cmax: float) -> float:
    """The largest finite seed offset within the largest cutoff (0 if none)."""
    sd = seed_dist[(seed_dist <= cmax) & np.isfinite(seed_dist)]
    return float(sd.max()) if sd.size else 0.0


def _queue_geometry(span: float, bucket_width: float) -> tuple[float, int]:
    """Return (1 / width, mask) so that labels spread over ``span`` metres fit in the window.

    ``span`` bounds the spread of the labels pending at once: the longest useful arc (not
    longer than the largest cutoff: longer arcs never give a label within it) and the seed
    offsets, or the whole cutoff for tiled searches. Too many buckets widen them.
    """
    width = float(bucket_width)
    if not (width > 0 and math.isfinite(width)):
        raise ValueError("bucket_width must be a positive finite number of metres")
    if span / width + 3 > _MAX_BUCKETS:
        width = span / (_MAX_BUCKETS - 3)
    nb = 1 << max(1, math.ceil(math.log2(span / width + 3)))
    return 1.0 / width, nb - 1


def _tile_size(
    g: tuple[np.ndarray, np.ndarray, np.ndarray], cmax: float, bucket_width: float
) -> int:
    """Node ids per tile: ``_TILE_NODES`` on large, spatially numbered graphs, else ``n``.

    Tiles need a finite cutoff and a bucket window as long as it (at most ``_MAX_BUCKETS``
    buckets of the requested width), and they only pay when most arcs stay inside a tile: on
    a graph with unordered ids (e.g. raw OSM ids, see :func:`spatial_order`) nearly every
    relaxation would be deferred, so the search stays in one piece when more than
    ``_MAX_CROSSING`` of a fixed sample of 4,096 arcs join two tiles.
    """
    indptr, indices, _ = g
    n = indptr.shape[0] - 1
    width = float(bucket_width)
    fits = math.isfinite(cmax) and width > 0 and cmax / width + 3 <= _MAX_BUCKETS
    if not (fits and n > _TILE_NODES and indices.size):
        return max(n, 1)
    arcs = np.linspace(0, indices.size - 1, min(indices.size, 4096)).astype(np.int64)
    tails = np.searchsorted(indptr, arcs, side="right") - 1
    crossing = float(np.mean(tails // _TILE_NODES != indices[arcs] // _TILE_NODES))
    return _TILE_NODES if crossing <= _MAX_CROSSING else n


def _sort_seeds(
    seeds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seeds of every item ordered by node (stable), as tiled searches need them."""
    ptr, node, dist, label = seeds
    item = np.repeat(np.arange(ptr.shape[0] - 1, dtype=np.int64), np.diff(ptr))
    # one stable sort of (item, node) as one key: node ids are below 2**31
    o = np.argsort((item << 31) | node, kind="stable")
    return ptr, node[o], dist[o], label[o]


def lexsort_grouped(group: np.ndarray, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
    """``np.lexsort((k2, k1, group))``, faster when groups are small and mostly in order.

    A stable sort by ``group`` (nearly linear on runs already in order), then each group
    sorted by ``(k1, k2)`` in compiled code. The same permutation as ``np.lexsort``.

    Parameters
    ----------
    group
        Integer group of every row (the first key).
    k1, k2
        The second and third keys (numbers).

    Returns
    -------
    numpy.ndarray
        int64 positions of the rows in sorted order.

    Examples
    --------
    >>> lexsort_grouped(np.array([1, 0, 1, 0]), np.array([2.0, 5.0, 1.0, 5.0]), np.zeros(4))
    array([1, 3, 2, 0])
    """
    if not HAVE_NUMBA or np.isnan(k1).any() or np.isnan(k2).any():
        return np.lexsort((k2, k1, group))
    order = np.argsort(group, kind="stable").astype(np.int64)
    g = group[order]
    ptr = np.concatenate([[0], np.flatnonzero(g[1:] != g[:-1]) + 1, [len(g)]]).astype(np.int64)
    sort_groups(order, ptr, np.ascontiguousarray(k1), np.ascontiguousarray(k2))
    return order


def _threads(threads: int | None) -> int:
    """Worker threads to use (numba's current setting by default, at most numba's maximum)."""
    if not HAVE_NUMBA:
        return 1
    nmax = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return numba.get_num_threads()
    threads = int(threads)
    if threads < 1:
        raise ValueError("threads must be >= 1")
    return min(threads, nmax)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def multi_source_nearest(
    indptr: Any,
    indices: Any,
    weights: Any,
    seed_ptr: Any,
    seed_node: Any,
    seed_dist: Any,
    seed_label: Any,
    cutoff: float | FloatArray,
    *,
    engine: str = settings.ENGINE,
    threads: int | None = None,
    bucket_width: float = DEFAULT_BUCKET_WIDTH,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Network distance from every node to the nearest seed of each item, and that seed's label.

    Parameters
    ----------
    indptr, indices, weights : array_like
        Directed graph in CSR form: arcs of node ``u`` are ``indices[indptr[u]:indptr[u+1]]``
        (int32 node ids) with lengths ``weights`` (float64 metres, ``>= 0``; zero-length arcs,
        parallel arcs and self-loops are allowed). ``indptr`` may be int32 or int64.
        Walk graphs store both directions of every street.
    seed_ptr : array_like of int, shape (K + 1,)
        Item ``k`` owns the seeds ``seed_ptr[k]:seed_ptr[k+1]``; an item may have none.
    seed_node : array_like of int32
        Node of each seed (a node may be seeded several times).
    seed_dist : array_like of float64
        Initial distance of each seed (``>= 0``), e.g. the offset of a facility lying part-way
        along an edge, which seeds both end nodes.
    seed_label : array_like of int32
        Label reported for each seed (``>= 0``), typically the facility index.
    cutoff : float or array_like of float, shape (K,)
        Per-item maximum distance in metres (``np.inf`` for none); distances ``<= cutoff`` are
        kept. A tight cutoff per item (e.g. its own walking time at its own speed) is the
        cheapest way to make a call faster: the search stops there.
    engine : {"auto", "numba", "scipy"}
        ``"numba"``: float-bucket queue, items in parallel. ``"scipy"``: reference
        implementation with :func:`scipy.sparse.csgraph.dijkstra` and one virtual node per seed
        label. ``"auto"``: numba if it can be imported, else scipy.
    threads : int, optional
        Number of worker threads for the numba engine (default: numba's current setting).
    bucket_width : float
        Bucket width in metres for the numba engine; it only orders the work and never changes
        a result.
    out : (numpy.ndarray, numpy.ndarray), optional
        Preallocated C-contiguous ``(K, n)`` float64 and int32 arrays to write the result into
        (both are overwritten and returned). Reusing them across calls avoids allocating and
        page-faulting ``12 * K * n`` bytes per call.

    Returns
    -------
    dist : numpy.ndarray of float64, shape (K, n)
        ``min`` over the item's seeds of ``seed_dist + shortest path length``; ``np.inf`` where
        that exceeds the cutoff or no seed reaches the node.
    label : numpy.ndarray of int32, shape (K, n)
        ``seed_label`` of the seed achieving ``dist``; ``-1`` where ``dist`` is infinite. Ties
        go to the smallest label (see the module notes); the result is identical for every run
        and number of threads. The scipy engine breaks ties in its own (deterministic) order.

    Raises
    ------
    ValueError
        On malformed arrays, negative or NaN weights, seed offsets or cutoffs, negative labels
        or node ids out of range; the message names the array.

    Examples
    --------
    A path ``0 - 1 - 2`` (both directions, 10 m and 20 m) with one item seeded at node 0 with
    label 7:

    >>> d, lab = multi_source_nearest([0, 1, 3, 4], [1, 0, 2, 1], [10.0, 10.0, 20.0, 20.0],
    ...                               [0, 1], [0], [0.0], [7], 25.0)
    >>> d.tolist(), lab.tolist()
    ([[0.0, 10.0, inf]], [[7, 7, -1]])
    """
    indptr, indices, weights = _as_csr(indptr, indices, weights)
    n = indptr.shape[0] - 1
    seeds = _as_seeds(seed_ptr, seed_node, seed_dist, seed_label, n)
    k = seeds[0].shape[0] - 1
    cutoffs = _as_cutoffs(cutoff, k)
    wmax = _scan_arcs(indices, weights, n, _max_cutoff(cutoffs))
    if out is not None:
        _check_out(out, k, n)
    g = (indptr, indices, weights)
    if _resolve_engine(engine) == "scipy":
        dist, label = _nearest_scipy(*g, *seeds, cutoffs)
        if out is None:
            return dist, label
        out[0][...] = dist
        out[1][...] = label
        return out
    if out is None:  # filled here (the kernel fills each row again): see "Memory traffic"
        out = (np.full((k, n), np.inf), np.full((k, n), -1, np.int32))
    _nearest_numba(g, seeds, cutoffs, wmax, _threads(threads), bucket_width, out)
    return out


def bounded_search(
    indptr: Any,
    indices: Any,
    weights: Any,
    origin_ptr: Any,
    origin_node: Any,
    origin_dist: Any,
    cutoff: float | FloatArray,
    *,
    engine: str = settings.ENGINE,
    threads: int | None = None,
    bucket_width: float = DEFAULT_BUCKET_WIDTH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every node within ``cutoff`` of each origin, with its distance (sparse CSR output).

    Parameters
    ----------
    indptr, indices, weights : array_like
        Directed CSR graph, as in :func:`multi_source_nearest`.
    origin_ptr : array_like of int, shape (n_origins + 1,)
        Origin ``o`` is the group of seeds ``origin_ptr[o]:origin_ptr[o+1]`` (e.g. a point
        snapped onto an edge seeds both end nodes).
    origin_node : array_like of int32
        Node of each seed.
    origin_dist : array_like of float64
        Initial distance of each seed (``>= 0``).
    cutoff : float or array_like of float, shape (n_origins,)
        Per-origin maximum distance in metres (inclusive).
    engine : {"auto", "numba", "scipy"}
        ``"numba"``: float-bucket queue with a touched-node list, origins in parallel.
        ``"scipy"``: one :func:`scipy.sparse.csgraph.dijkstra` call per origin (slow
        reference). ``"auto"``: numba if available.
    threads : int, optional
        Number of worker threads for the numba engine.
    bucket_width : float
        Bucket width in metres for the numba engine (never changes a result).

    Returns
    -------
    out_ptr : numpy.ndarray of int64, shape (n_origins + 1,)
        Origin ``o``'s results are ``out_node[out_ptr[o]:out_ptr[o+1]]``.
    out_node : numpy.ndarray of int32
        Reached nodes, sorted ascending within each origin.
    out_dist : numpy.ndarray of float64
        Their distances (``<= cutoff``).

    Examples
    --------
    The path ``0 - 1 - 2`` of :func:`multi_source_nearest`, one origin at node 2, 25 m:

    >>> bounded_search([0, 1, 3, 4], [1, 0, 2, 1], [10.0, 10.0, 20.0, 20.0],
    ...                [0, 1], [2], [0.0], 25.0)
    (array([0, 2]), array([1, 2], dtype=int32), array([20.,  0.]))
    """
    indptr, indices, weights = _as_csr(indptr, indices, weights)
    n = indptr.shape[0] - 1
    origins = _as_groups(
        origin_ptr, origin_node, origin_dist, n, ("origin_ptr", "origin_node", "origin_dist")
    )
    cutoffs = _as_cutoffs(cutoff, origins[0].shape[0] - 1)
    wmax = _scan_arcs(indices, weights, n, _max_cutoff(cutoffs))
    g = (indptr, indices, weights)
    if _resolve_engine(engine) == "scipy":
        return _bounded_scipy(*g, *origins, cutoffs)
    if origins[0].shape[0] == 1:
        return np.zeros(1, np.int64), np.empty(0, np.int32), np.empty(0, np.float64)
    return _bounded_numba(g, origins, cutoffs, wmax, _threads(threads), bucket_width)


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny graph; returns seconds.

    Does nothing when numba is not installed.

    Examples
    --------
    >>> warmup() >= 0.0
    True
    """
    t0 = time.perf_counter()
    if not HAVE_NUMBA:
        return 0.0
    indptr = np.array([0, 1, 3, 4], np.int64)
    indices = np.array([1, 0, 2, 1], np.int32)
    weights = np.array([1.0, 1.0, 2.0, 2.0])
    multi_source_nearest(
        indptr, indices, weights, [0, 1, 2], [0, 2], [0.0, 0.5], [0, 1], 10.0, engine="numba"
    )
    bounded_search(indptr, indices, weights, [0, 1, 2], [0, 2], [0.0, 0.5], 10.0, engine="numba")
    spatial_order([0.0, 1.0], [0.0, 1.0])
    lexsort_grouped(np.array([0, 0]), np.array([1.0, 0.0]), np.zeros(2))
    _snap.warmup()  # snapping points onto edges (network.snap_points)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# numba drivers (Python side)
# ---------------------------------------------------------------------------------------------


def _nearest_numba(
    g: tuple[np.ndarray, np.ndarray, np.ndarray],
    seeds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cutoffs: np.ndarray,
    wmax: float,
    nthreads: int,
    bucket_width: float,
    out: tuple[np.ndarray, np.ndarray],
) -> None:
    """Fill ``out`` with the numba engine; items whose entry pool overflowed are retried."""
    n = g[0].shape[0] - 1
    k = seeds[0].shape[0] - 1
    cmax = _max_cutoff(cutoffs)
    tile = _tile_size(g, cmax, bucket_width)
    span = max(wmax, _seed_span(seeds[2], cmax))
    if tile < n:  # tiles: the seeds of an item by node; labels of the whole cutoff pending
        seeds = _sort_seeds(seeds)
        span = max(span, cmax)
    inv_w, mask = _queue_geometry(span, bucket_width)
    items = np.arange(k, dtype=np.int64)
    nslots = max(1, min(nthreads, k))
    pool = _pool_size(n, int(np.diff(seeds[0]).max(initial=0)))
    inq = np.zeros((nslots, n), np.uint8)
    head = np.full((nslots, mask + 1), -1, np.int32)
    pend = np.empty((nslots, n if tile < n else 0), np.int32)
    status = np.zeros(k, np.int64)
    shared = (g, seeds, cutoffs)
    while items.size:
        entries = np.empty((3, nslots, pool), np.int32)  # pool_node, pool_next, batch
        qs = np.zeros((nslots, Q_SIZE), np.int64)
        counter = np.zeros(1, np.int64)
        calls = [
            (*shared, items, tile, inv_w, mask, out, ws, status, counter)
            for ws in _workspaces(inq, head, entries, pend, np.empty((nslots, 0), np.int32), qs)
        ]
        run_workers(nearest_worker, calls)
        items = items[status[items] < 0]
        pool *= 4
        nslots = max(1, min(nslots, items.size))


def _workspaces(
    inq: np.ndarray | list[np.ndarray],
    head: np.ndarray,
    entries: np.ndarray,
    pend: np.ndarray,
    touched: np.ndarray | list[np.ndarray],
    qs: np.ndarray,
) -> list[tuple[np.ndarray, ...]]:
    """The workspace tuple of every slot (rows of the per-slot arrays; ``entries``: 3 x slots).

    ``inq`` and ``touched`` may also be lists of one row per slot.
    """
    return [
        (inq[t], head[t], entries[0, t], entries[1, t], entries[2, t], pend[t], touched[t], qs[t])
        for t in range(qs.shape[0])
    ]


def _bounded_numba(
    g: tuple[np.ndarray, np.ndarray, np.ndarray],
    origins: tuple[np.ndarray, np.ndarray, np.ndarray],
    cutoffs: np.ndarray,
    wmax: float,
    nthreads: int,
    bucket_width: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``bounded_search`` with the numba engine: rounds of chunks until every origin is done.

    A round stops a slot when its entry pool overflows (the pool grows 4x) or its result
    buffer fills up (the buffers grow); the origins left over go into the next round.
    """
    origin_ptr, origin_node, origin_dist = origins
    n = g[0].shape[0] - 1
    n_orig = origin_ptr.shape[0] - 1
    span = max(wmax, _seed_span(origin_dist, _max_cutoff(cutoffs)))
    inv_w, mask = _queue_geometry(span, bucket_width)
    order = _visit_order(origin_ptr, origin_node)
    nslots = max(1, min(nthreads, n_orig))
    csize = int(np.clip(n_orig // (nslots * 16), 1, 64))
    starts = np.arange(0, n_orig, csize, dtype=np.int64)
    pending = np.stack([starts, np.minimum(starts + csize, n_orig)], axis=1)
    node_rows = _take_node_rows(n, nslots)
    rows = ([r[0] for r in node_rows], [r[1] for r in node_rows])
    fixed = ([r[2] for r in node_rows], np.full((nslots, mask + 1), -1, np.int32))
    touched = [r[3] for r in node_rows]
    sorts = ([r[4] for r in node_rows], np.empty((nslots, 2048), np.int64))
    all_origins = (*origins, np.zeros(origin_node.shape[0], np.int32))
    pool = _pool_size(min(n, 4096), int(np.diff(origin_ptr).max(initial=0)))
    cap = _BUF_CAP0
    counts = np.zeros(n_orig, np.int64)
    pieces: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    while pending.shape[0]:
        entries = np.empty((3, nslots, pool), np.int32)
        qs = np.zeros((nslots, Q_SIZE), np.int64)
        ws = _workspaces(*fixed, entries, np.empty((nslots, 0), np.int32), touched, qs)
        bufs = (np.empty((nslots, cap), np.int32), np.empty((nslots, cap)))
        slots = [
            (
                t,
                (rows[0][t], rows[1][t]),
                ws[t],
                (sorts[0][t], sorts[1][t], _radix_passes(n)),
                (bufs[0][t], bufs[1][t]),
            )
            for t in range(nslots)
        ]
        run = (g, all_origins, cutoffs, order, inv_w, mask, counts)
        pending = _bounded_round(run, slots, pending, bufs, pieces)
        if (counts == OVERFLOW).any():
            pool *= 4
        if (counts == FULL).any():
            cap = _grow_buffers(counts, pending, cap, nslots, n * n_orig)
        counts[counts < 0] = 0
    _give_node_rows(node_rows)  # clean again (see _take_node_rows)
    return _gather(pieces, counts, order)


_NodeRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_FREE_NODE_ROWS: list[_NodeRows] = []
_FREE_NODE_ROWS_LOCK = threading.Lock()
_KEEP_NODE_ROWS = 4  # two concurrent calls of two slots each


def _take_node_rows(n: int, k: int) -> list[_NodeRows]:
    """``k`` slots' per-node arrays for :func:`_bounded_numba`: free ones reused, else new.

    One slot's rows are (dist = inf, label = -1, queue flags = 0, touched, sorter). Every
    search leaves dist, label and the flags as it found them (:func:`_kernel_jit._bounded_origin`,
    :func:`_kernel_jit._search`), so rows given back by :func:`_give_node_rows` after a call
    are ready for the next call on a graph of ``n`` nodes. The walking areas and the service
    directory call :func:`bounded_search` a chunk of communities at a time (135 calls at a
    million nodes); new rows at every call meant 21 bytes per node and slot (52 MB for two
    slots at 1.23 M nodes) allocated and faulted in each time.
    """
    with _FREE_NODE_ROWS_LOCK:
        mine = [i for i, r in enumerate(_FREE_NODE_ROWS) if r[0].shape[0] == n][:k]
        got = [_FREE_NODE_ROWS[i] for i in mine]
        _FREE_NODE_ROWS[:] = [r for i, r in enumerate(_FREE_NODE_ROWS) if i not in mine]
    while len(got) < k:
        got.append(
            (
                np.full(n, np.inf),
                np.full(n, -1, np.int32),
                np.zeros(n, np.uint8),
                np.empty(n, np.int32),
                np.empty(n, np.int32),
            )
        )
    return got


def _give_node_rows(rows: list[_NodeRows]) -> None:
    """Keep clean rows for the next call (rows of other graph sizes are let go)."""
    n = rows[0][0].shape[0]
    with _FREE_NODE_ROWS_LOCK:
        same = [r for r in _FREE_NODE_ROWS if r[0].shape[0] == n]
        _FREE_NODE_ROWS[:] = (rows + same)[:_KEEP_NODE_ROWS]


def _bounded_round(
    run: tuple[Any, ...],
    slots: list[tuple[Any, ...]],
    pending: np.ndarray,
    bufs: tuple[np.ndarray, np.ndarray],
    pieces: dict[int, Any],
) -> np.ndarray:
    """One parallel pass over the ``pending`` chunks; store finished pieces, return the rest."""
    g, origins, cutoffs, order, inv_w, mask, counts = run
    nch = pending.shape[0]
    start = np.ascontiguousarray(pending[:, 0])
    stop = np.ascontiguousarray(pending[:, 1])
    chunk_slot = np.full(nch, -1, np.int64)
    chunk_off = np.zeros(nch, np.int64)
    chunk_next = start.copy()
    chunks = (start, stop, chunk_slot, chunk_off, chunk_next)
    counter = np.zeros(1, np.int64)
    head = (g, origins, cutoffs, order, chunks, inv_w, mask)
    run_workers(bounded_worker, [(*head, *slot, counts, counter) for slot in slots])
    left = []
    for c in range(nch):
        a, nxt, b = int(start[c]), int(chunk_next[c]), int(stop[c])
        if nxt > a:
            t, off = int(chunk_slot[c]), int(chunk_off[c])
            size = int(counts[order[a:nxt]].sum())
            pieces[a] = (
                bufs[0][t, off : off + size].copy(),
                bufs[1][t, off : off + size].copy(),
            )
        if nxt < b:
            left.append((nxt, b))
    return np.array(left, np.int64).reshape(-1, 2)


def _grow_buffers(
    counts: np.ndarray, pending: np.ndarray, cap: int, nslots: int, total_max: int
) -> int:
    """New per-slot result buffer size after a full one: from the mean result so far."""
    done = counts[counts > 0]
    remaining = int((pending[:, 1] - pending[:, 0]).sum())
    est = int(1.25 * done.mean() * remaining / nslots) if done.size else 0
    return min(max(2 * cap, est + 1024), max(total_max // nslots, 1) + 1)


def _visit_order(origin_ptr: np.ndarray, origin_node: np.ndarray) -> np.ndarray:
    """Origins by the node id of their first seed (spatial order on a renumbered graph).

    Neighbouring origins then share cache; origins without seeds come first.
    """
    n_orig = origin_ptr.shape[0] - 1
    if not _SORT_ORIGINS:
        return np.arange(n_orig, dtype=np.int64)
    first = np.full(n_orig, -1, np.int64)
    has = np.diff(origin_ptr) > 0
    first[has] = origin_node[origin_ptr[:-1][has]]
    return np.argsort(first, kind="stable").astype(np.int64)


def _gather(
    pieces: dict[int, tuple[np.ndarray, np.ndarray]], counts: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the pieces (in visiting order) and gather them back into origin order."""
    n_orig = counts.shape[0]
    out_ptr = np.zeros(n_orig + 1, np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    keys = sorted(pieces)
    if not keys:
        return out_ptr, np.empty(0, np.int32), np.empty(0, np.float64)
    node_v = np.concatenate([pieces[a][0] for a in keys])
    dist_v = np.concatenate([pieces[a][1] for a in keys])
    size_v = counts[order]
    start_v = np.zeros(n_orig, np.int64)
    np.cumsum(size_v[:-1], out=start_v[1:])
    start_o = np.empty(n_orig, np.int64)
    start_o[order] = start_v
    gather = np.repeat(start_o - out_ptr[:-1], counts) + np.arange(out_ptr[-1])
    return out_ptr, node_v[gather], dist_v[gather]


def _radix_passes(n: int) -> int:
    """Passes of the 11-bit radix sort for node ids below ``n``."""
    return max(1, math.ceil(max(n - 1, 1).bit_length() / 11))


def spatial_order(x: Any, y: Any) -> np.ndarray:
    """Permutation that sorts nodes along a Hilbert curve of their projected coordinates.

    Renumbering nodes in this order (new id ``i`` = old node ``order[i]``) puts nodes that are
    close in space close in memory, which makes the shortest-path kernels markedly faster on
    large graphs whose ids are not spatially ordered (e.g. raw OSM ids).

    Parameters
    ----------
    x, y : array_like of float, shape (n,)
        Projected coordinates (metres); non-finite values are placed last.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        ``np.argsort(hilbert_index, kind="stable")`` on a 2**16 x 2**16 grid over the bounding
        box; deterministic.

    Examples
    --------
    The four corners of a square, in the order the Hilbert curve visits them:

    >>> spatial_order([0.0, 100.0, 0.0, 100.0], [0.0, 0.0, 100.0, 100.0]).tolist()
    [0, 2, 3, 1]
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    n = x.shape[0]
    if n == 0:
        return np.empty(0, np.int64)
    order_bits = 16
    side = 1 << order_bits
    ok = np.isfinite(x) & np.isfinite(y)
    h = np.full(n, np.iinfo(np.int64).max, np.int64)
    if ok.any():
        xs, ys = x[ok], y[ok]
        span = max(xs.max() - xs.min(), ys.max() - ys.min())
        scale = (side - 1) / span if span > 0 else 0.0
        xi = ((xs - xs.min()) * scale).astype(np.int64)
        yi = ((ys - ys.min()) * scale).astype(np.int64)
        h[ok] = hilbert_index(xi, yi, side) if HAVE_NUMBA else _hilbert_numpy(xi, yi, side)
    return np.argsort(h, kind="stable").astype(np.int64)


def _hilbert_numpy(xi: np.ndarray, yi: np.ndarray, side: int) -> np.ndarray:
    """:func:`fifteenmin._kernel_jit.hilbert_index` in numpy (without numba; its test oracle)."""
    d = np.zeros(xi.shape[0], np.int64)
    s = side >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant
        flip = ~ry & rx
        xi = np.where(flip, s - 1 - xi, xi)
        yi = np.where(flip, s - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _pool_size(n_nodes: int, max_seeds: int) -> int:
    """Initial number of queue entries per workspace (overflow -> retried 4x bigger)."""
    return max(1024, n_nodes + max_seeds)


def _nearest_scipy(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seed_ptr: np.ndarray,
    seed_node: np.ndarray,
    seed_dist: np.ndarray,
    seed_label: np.ndarray,
    cutoffs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference: scipy Dijkstra from one virtual node per (item, label), min_only."""
    n = indptr.shape[0] - 1
    k = seed_ptr.shape[0] - 1
    dist = np.full((k, n), np.inf)
    label = np.full((k, n), -1, np.int32)
    if seed_node.size == 0:
        return dist, label
    item = np.repeat(np.arange(k, dtype=np.int64), np.diff(seed_ptr))
    # one virtual node per distinct (item, label) pair; arcs virtual -> seed node (offset)
    pairs, vid = np.unique(
        np.stack([item, seed_label.astype(np.int64)], axis=1), axis=0, return_inverse=True
    )
    vid = vid.ravel()
    nv = pairs.shape[0]
    big = _augment(indptr, indices, weights, n, n + vid, seed_node, seed_dist, nv)
    vstart = np.searchsorted(pairs[:, 0], np.arange(k + 1))
    for kk in range(k):
        a, b = vstart[kk], vstart[kk + 1]
        if a == b:
            continue
        d, _, src = csgraph.dijkstra(
            big,
            directed=True,
            indices=np.arange(n + a, n + b),
            min_only=True,
            return_predecessors=True,
            limit=cutoffs[kk],
        )
        d = d[:n]
        reach = np.isfinite(d) & (d <= cutoffs[kk])
        dist[kk, reach] = d[reach]
        label[kk, reach] = pairs[src[:n][reach] - n, 1]
    return dist, label


def _augment(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    n: int,
    vsrc: Any,
    vdst: Any,
    vw: Any,
    nv: int,
) -> sp.csr_matrix:
    """The graph plus ``nv`` virtual nodes with arcs ``vsrc -> vdst`` of length ``vw``."""
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    rows = np.concatenate([src, np.asarray(vsrc, np.int64)])
    cols = np.concatenate([indices.astype(np.int64), np.asarray(vdst, np.int64)])
    vals = np.concatenate([weights, np.asarray(vw, np.float64)])
    # csr built by hand (no summing of duplicates: parallel arcs stay, dijkstra takes the min)
    order = np.argsort(rows, kind="stable")
    nn = n + nv
    ptr = np.zeros(nn + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=nn), out=ptr[1:])
    return sp.csr_matrix((vals[order], cols[order], ptr), shape=(nn, nn))


def _bounded_scipy(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    origin_ptr: np.ndarray,
    origin_node: np.ndarray,
    origin_dist: np.ndarray,
    cutoffs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference: one scipy Dijkstra per origin from a virtual node (dense rows)."""
    n = indptr.shape[0] - 1
    n_orig = origin_ptr.shape[0] - 1
    oid = np.repeat(np.arange(n_orig, dtype=np.int64), np.diff(origin_ptr))
    big = _augment(indptr, indices, weights, n, n + oid, origin_node, origin_dist, n_orig)
    out_ptr = np.zeros(n_orig + 1, np.int64)
    nodes, dists = [], []
    for o in range(n_orig):
        if origin_ptr[o] == origin_ptr[o + 1]:
            continue
        d = csgraph.dijkstra(big, directed=True, indices=n + o, limit=cutoffs[o])[:n]
        hit = np.flatnonzero(np.isfinite(d) & (d <= cutoffs[o]))
        nodes.append(hit.astype(np.int32))
        dists.append(d[hit])
        out_ptr[o + 1] = hit.size
    np.cumsum(out_ptr, out=out_ptr)
    if nodes:
        return out_ptr, np.concatenate(nodes), np.concatenate(dists)
    return out_ptr, np.empty(0, np.int32), np.empty(0, np.float64)
