"""Compiled shortest-path kernels: multi-source nearest facility and bounded searches.

Algorithm
---------
Every search is a *float-bucket queue* (a Dial-style bucket queue over float keys):

* Distances are exact ``float64`` sums of the arc weights, computed in the same order as a
  textbook Dijkstra (``dist[v] = dist[u] + w(u, v)``).
* Nodes are kept in buckets of width ``bucket_width`` metres (default 1.2 m, about one second of
  walking): node ``v`` is in bucket ``floor(dist[v] / bucket_width)``. The buckets live in a
  circular array whose length exceeds the longest useful arc (and the spread of the seed offsets)
  divided by the width, so every pending node fits in the window ahead of the current bucket.
  Each bucket is a LIFO list threaded through a fixed pool of entries with a free list.
* Buckets are processed in increasing order. *Inside* a bucket the search is label-correcting:
  a node popped from the current bucket is scanned at its current distance, and if a later node
  of the same bucket improves it, it is pushed back into the same bucket and scanned again.
  An improvement that moves a node to another bucket leaves a stale entry behind, recognised by a
  per-node "in queue" flag and skipped when popped.

Exactness. Arc weights are non-negative and float addition is monotone (``a <= b`` implies
``fl(a + w) <= fl(b + w)``, and ``fl(a + w) >= a``), so every tentative label is the float
length of a real path, and when bucket ``b`` is entered every node whose final distance lies in an
earlier bucket is final and has been scanned with that final distance. Inside bucket ``b`` the
label-correcting loop reaches the fixed point of ``dist[v] = min(dist[v], dist[u] + w)`` over the
nodes of the bucket (each change strictly decreases a label, so it terminates), which is the
minimum over paths of the left-to-right float path length: the same value Dijkstra's algorithm
(and ``scipy.sparse.csgraph.dijkstra``) computes. The bucket width therefore only orders the
work; it never rounds a distance. Zero-length arcs, self-loops and parallel arcs need no special
case.

Cutoff. A label is only ever set when it is ``<= cutoff``, so the queue empties as soon as the
search passes the cutoff (early termination) and unreached nodes keep ``inf``.

Ties. A node takes the label (facility index) of the seed giving it the smallest distance; on
equal distances the *smallest label* wins (a relaxation with an equal distance and a smaller
label also updates the node and is propagated). With exactly representable sums (e.g. integer
metres) this is exactly "the smallest label among the nearest seeds"; when two different float
paths only become equal through rounding the winner is still deterministic. Each item is solved
by one thread in a fixed order, so results do not depend on the number of threads.

Memory traffic. On city-scale graphs the search is bound by memory latency (every bucket holds
nodes scattered over the whole graph), so: ``indptr`` is stored as int32 when possible; a
bucket is detached into a small array before it is scanned and the arcs of the node eight
places ahead are software-prefetched, as is ``indptr[v]`` when ``v`` is queued; and the output
rows are the search's distance arrays (no copy, no n-wide reset beyond the row's own fill).
Renumbering the nodes along a space-filling curve (:func:`spatial_order`) keeps neighbours close
in memory and is worth 1.3-1.6x on a million-node graph with unordered ids.

Parallelism. ``multi_source_nearest`` runs items (services) in parallel with ``numba.prange``
over worker slots, one fixed workspace per slot; each worker takes the next item from an
atomic counter (dynamic scheduling, so a core that is busy elsewhere does not hold the call
back). ``bounded_search`` hands out small chunks of origins the same way, keeps a touched-node
list per slot (no n-wide reset per origin) and appends each origin's nodes, radix-sorted, to a
per-slot buffer; buffers that fill up are grown from Python and the remaining origins resumed.
Workspaces never grow inside the compiled loops: an entry-pool overflow is detected, reported
and retried from Python with a pool four times larger.

numba is optional: without it the module imports and ``engine="auto"`` uses scipy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import settings

try:  # numba is optional (momepy-style): the module must import and work without it
    import numba
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None
    HAVE_NUMBA = False

    def njit(*args: Any, **kwargs: Any) -> Any:
        """Stand-in for ``numba.njit`` when numba is missing (returns the function)."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    prange = range

if HAVE_NUMBA:
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def _prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
        """Software prefetch (read, keep in all cache levels) of ``arr[idx]``."""
        sig = types.void(arr, idx)

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            ptr = cgutils.get_item_pointer(
                context, builder, aryty, ary, [args[1]], wraparound=False
            )
            i8p = ir.IntType(8).as_pointer()
            name = "llvm.prefetch.p0" if str(i8p) == "ptr" else "llvm.prefetch.p0i8"
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, name)
            builder.call(
                fn,
                [
                    builder.bitcast(ptr, i8p),
                    ir.Constant(i32, 0),
                    ir.Constant(i32, 3),
                    ir.Constant(i32, 1),
                ],
            )
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def _fetch_add(typingctx, arr):  # pragma: no cover - compiled
        """Atomically ``old = arr[0]; arr[0] += 1; return old`` (int64 work counter)."""
        sig = types.int64(arr)

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            zero = context.get_constant(types.intp, 0)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [zero])
            one = context.get_constant(types.int64, 1)
            return builder.atomic_rmw("add", ptr, one, "monotonic")

        return sig, codegen

else:  # pragma: no cover

    def _prefetch(arr: Any, idx: Any) -> None:
        """No-op stand-in for the numba prefetch intrinsic."""

    def _fetch_add(arr: Any) -> int:
        """Stand-in for the atomic counter (single-threaded)."""
        old = int(arr[0])
        arr[0] += 1
        return old


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

_LOOKAHEAD = 8  # prefetch the arcs of the node this many places ahead in a bucket batch
_MAX_BUCKETS = 1 << 16
_BUF_CAP0 = 1 << 16  # initial per-thread result buffer of bounded_search (grown on demand)
_OVERFLOW = -1
_SORT_ORIGINS = True  # bounded_search visits origins by node id (cache reuse between origins)

FloatArray = np.ndarray
IntArray = np.ndarray


# ---------------------------------------------------------------------------------------------
# numba kernels
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, boundscheck=False)
def _search(
    indptr,
    indices,
    weights,
    s_node,
    s_dist,
    s_label,
    cutoff,
    inv_w,
    mask,
    dist,
    label,
    inq,
    head,
    pool_node,
    pool_next,
    batch,
    touched,
    track,
):  # pragma: no cover - compiled
    """One multi-source search; ``dist``/``label`` must be inf/-1 on entry at untouched nodes.

    Returns the number of touched nodes (when ``track``, listed in ``touched``; else 0), or
    ``-1`` if the entry pool overflowed (the caller resets the workspace and retries with a
    bigger pool). ``inq`` and ``head`` are clean again on a normal return.
    """
    pool_size = pool_node.shape[0]
    free = -1
    top = 0
    count = 0
    ntouched = 0
    cur = np.int64(1) << 62
    for i in range(s_node.shape[0]):
        v = s_node[i]
        d = s_dist[i]
        lab = s_label[i]
        if not (d <= cutoff):
            continue
        dv = dist[v]
        if d < dv or (d == dv and lab < label[v]):
            if track and dv == np.inf:
                touched[ntouched] = v
                ntouched += 1
            dist[v] = d
            label[v] = lab
            b = np.int64(d * inv_w)
            if inq[v] == 0 or np.int64(dv * inv_w) != b:
                if free >= 0:
                    e = free
                    free = pool_next[e]
                elif top < pool_size:
                    e = top
                    top += 1
                else:
                    return _OVERFLOW
                s = b & mask
                pool_node[e] = v
                pool_next[e] = head[s]
                head[s] = e
                count += 1
                inq[v] = 1
            if b < cur:
                cur = b
    while count > 0:
        s = cur & mask
        while head[s] < 0:
            cur += 1
            s = cur & mask
        while head[s] >= 0:
            # detach the bucket's list into `batch` (live entries only); nodes improved while
            # the batch runs and still in this bucket are pushed to the list again and form
            # the next batch (label-correcting inside the bucket)
            nb = 0
            e = head[s]
            head[s] = -1
            while e >= 0:
                u = pool_node[e]
                nx = pool_next[e]
                pool_next[e] = free
                free = e
                count -= 1
                if inq[u]:
                    batch[nb] = u
                    nb += 1
                e = nx
            for i in range(min(nb, _LOOKAHEAD)):
                a = indptr[batch[i]]
                _prefetch(indices, a)
                _prefetch(weights, a)
            for i in range(nb):
                if i + _LOOKAHEAD < nb:
                    a = indptr[batch[i + _LOOKAHEAD]]
                    _prefetch(indices, a)
                    _prefetch(weights, a)
                u = batch[i]
                inq[u] = 0
                du = dist[u]
                lu = label[u]
                for a in range(indptr[u], indptr[u + 1]):
                    nd = du + weights[a]
                    if nd > cutoff:
                        continue
                    v = indices[a]
                    dv = dist[v]
                    if nd < dv or (nd == dv and lu < label[v]):
                        if track and dv == np.inf:
                            touched[ntouched] = v
                            ntouched += 1
                        dist[v] = nd
                        label[v] = lu
                        b = np.int64(nd * inv_w)
                        if inq[v] == 0 or np.int64(dv * inv_w) != b:
                            if free >= 0:
                                e = free
                                free = pool_next[e]
                            elif top < pool_size:
                                e = top
                                top += 1
                            else:
                                return _OVERFLOW
                            s2 = b & mask
                            pool_node[e] = v
                            pool_next[e] = head[s2]
                            head[s2] = e
                            count += 1
                            inq[v] = 1
                            _prefetch(indptr, v)  # its arcs are read when its bucket comes
    return ntouched


@njit(cache=True, nogil=True, boundscheck=False)
def _radix_sort(keys, r, tmp, count, passes):  # pragma: no cover - compiled
    """Sort ``keys[:r]`` (non-negative int32) ascending in place; LSD radix, 11-bit digits.

    (numba's ``np.sort`` allocates and did not scale across threads here.)
    """
    if r < 48:  # insertion sort for short lists
        for i in range(1, r):
            x = keys[i]
            j = i - 1
            while j >= 0 and keys[j] > x:
                keys[j + 1] = keys[j]
                j -= 1
            keys[j + 1] = x
        return
    src = keys
    dst = tmp
    shift = 0
    for _ in range(passes):
        count[:] = 0
        for i in range(r):
            count[(src[i] >> shift) & 2047] += 1
        total = 0
        for d in range(2048):
            c = count[d]
            count[d] = total
            total += c
        for i in range(r):
            x = src[i]
            d = (x >> shift) & 2047
            dst[count[d]] = x
            count[d] += 1
        src, dst = dst, src
        shift += 11
    if passes % 2 == 1:
        for i in range(r):
            keys[i] = tmp[i]


@njit(cache=True, nogil=True, boundscheck=False)
def _reset_queue(inq, head, pool_node, touched, ntouched):  # pragma: no cover - compiled
    """Clear a workspace after an overflow (queue flags and bucket heads)."""
    head[:] = -1
    if ntouched >= 0:
        for i in range(ntouched):
            inq[touched[i]] = 0
    else:
        inq[:] = 0


@njit(cache=True, parallel=True, boundscheck=False)
def _nearest_parallel(
    indptr,
    indices,
    weights,
    seed_ptr,
    seed_node,
    seed_dist,
    seed_label,
    cutoffs,
    items,
    inv_w,
    mask,
    out_dist,
    out_label,
    inq,
    head,
    pool_node,
    pool_next,
    batch,
    status,
    counter,
):  # pragma: no cover - compiled
    """Solve ``items`` (item ids) on ``inq.shape[0]`` workspaces.

    Each worker takes the next item from an atomic counter (dynamic scheduling: a busy or
    descheduled core does not hold the others back) and writes straight into its output rows.
    """
    nslots = inq.shape[0]
    nitems = items.shape[0]
    dummy = np.empty(0, np.int32)
    for t in prange(nslots):
        while True:
            j = _fetch_add(counter)
            if j >= nitems:
                break
            k = items[j]
            drow = out_dist[k]
            lrow = out_label[k]
            drow[:] = np.inf
            lrow[:] = -1
            lo = seed_ptr[k]
            hi = seed_ptr[k + 1]
            r = _search(
                indptr,
                indices,
                weights,
                seed_node[lo:hi],
                seed_dist[lo:hi],
                seed_label[lo:hi],
                cutoffs[k],
                inv_w,
                mask,
                drow,
                lrow,
                inq[t],
                head[t],
                pool_node[t],
                pool_next[t],
                batch[t],
                dummy,
                False,
            )
            status[k] = r
            if r < 0:
                _reset_queue(inq[t], head[t], pool_node[t], dummy, -1)


@njit(cache=True, parallel=True, boundscheck=False)
def _bounded_parallel(
    indptr,
    indices,
    weights,
    origin_ptr,
    origin_node,
    origin_dist,
    origin_label,
    cutoffs,
    order,
    chunk_start,
    chunk_stop,
    inv_w,
    mask,
    dist,
    label,
    inq,
    head,
    pool_node,
    pool_next,
    batch,
    touched,
    sort_tmp,
    sort_count,
    passes,
    buf_node,
    buf_dist,
    buf_used,
    chunk_slot,
    chunk_off,
    chunk_next,
    counts,
    counter,
):  # pragma: no cover - compiled
    """Chunks of origins taken from an atomic counter, results appended to slot buffers.

    Origins are visited in the order ``order`` (positions ``p`` -> origin ``order[p]``).
    Chunk ``c`` ran on slot ``chunk_slot[c]``, its results start at ``chunk_off[c]`` in that
    slot's buffer and cover positions ``chunk_start[c]:chunk_next[c]``. A slot stops taking
    chunks when its entry pool overflows (``counts[o] = -1``) or its buffer is full
    (``counts[o] = -2``); the caller re-queues what is left. Workspaces are clean on return.
    """
    nslots = inq.shape[0]
    nchunks = chunk_start.shape[0]
    cap = buf_node.shape[1]
    for t in prange(nslots):
        used = 0
        dt = dist[t]
        lt = label[t]
        tt = touched[t]
        full = False
        while not full:
            c = _fetch_add(counter)
            if c >= nchunks:
                break
            chunk_slot[c] = t
            chunk_off[c] = used
            p = chunk_start[c]
            while p < chunk_stop[c]:
                o = order[p]
                lo = origin_ptr[o]
                hi = origin_ptr[o + 1]
                r = _search(
                    indptr,
                    indices,
                    weights,
                    origin_node[lo:hi],
                    origin_dist[lo:hi],
                    origin_label[lo:hi],
                    cutoffs[o],
                    inv_w,
                    mask,
                    dt,
                    lt,
                    inq[t],
                    head[t],
                    pool_node[t],
                    pool_next[t],
                    batch[t],
                    tt,
                    True,
                )
                if r < 0:
                    # overflow: clear the whole workspace (rare)
                    dt[:] = np.inf
                    lt[:] = -1
                    _reset_queue(inq[t], head[t], pool_node[t], tt, -1)
                    counts[o] = -1
                    full = True
                    break
                if used + r > cap:
                    for i in range(r):
                        v = tt[i]
                        dt[v] = np.inf
                        lt[v] = -1
                    counts[o] = -2
                    full = True
                    break
                _radix_sort(tt, r, sort_tmp[t], sort_count[t], passes)
                for i in range(r):
                    v = tt[i]
                    buf_node[t, used + i] = v
                    buf_dist[t, used + i] = dt[v]
                    dt[v] = np.inf
                    lt[v] = -1
                used += r
                counts[o] = r
                p += 1
            chunk_next[c] = p
        buf_used[t] = used


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------


def _as_csr(indptr: Any, indices: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coerce dtypes and check the CSR structure (arc contents: see :func:`_scan_arcs`)."""
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
    if m < 2**31 - 1:
        indptr = indptr.astype(np.int32)  # compact: less cache traffic
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


def _as_cutoffs(cutoff: Any, k: int) -> np.ndarray:
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
    return float(cutoffs.max()) if cutoffs.size else np.inf


def _queue_geometry(
    wmax: float, seed_dist: np.ndarray, cmax: float, bucket_width: float
) -> tuple[float, int]:
    """Return (1 / width, mask) so every pending label fits in the circular bucket window.

    ``wmax`` is the longest finite arc not longer than ``cmax``, the largest cutoff: longer
    arcs can never produce a label within the cutoff.
    """
    sd = seed_dist[(seed_dist <= cmax) & np.isfinite(seed_dist)]
    smax = float(sd.max()) if sd.size else 0.0
    span = max(wmax, smax)
    width = float(bucket_width)
    if not (width > 0 and math.isfinite(width)):
        raise ValueError("bucket_width must be a positive finite number of metres")
    if span / width + 3 > _MAX_BUCKETS:
        width = span / (_MAX_BUCKETS - 3)
    nb = 1 << max(1, math.ceil(math.log2(span / width + 3)))
    return 1.0 / width, nb - 1


def _threads(threads: int | None) -> int:
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
        kept.
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
        page-faulting ``12 * K * n`` bytes per call, which on a million-node graph costs as
        much as the searches themselves on some machines.

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
    """
    indptr, indices, weights = _as_csr(indptr, indices, weights)
    n = indptr.shape[0] - 1
    seed_ptr, seed_node, seed_dist = _as_groups(
        seed_ptr, seed_node, seed_dist, n, ("seed_ptr", "seed_node", "seed_dist")
    )
    seed_label = np.ascontiguousarray(seed_label, dtype=np.int32)
    if seed_label.shape != seed_node.shape:
        raise ValueError("seed_label must have the same length as seed_node")
    if seed_label.size and seed_label.min() < 0:
        raise ValueError("seed_label must be >= 0 (-1 marks unreached nodes in the output)")
    k = seed_ptr.shape[0] - 1
    cutoffs = _as_cutoffs(cutoff, k)
    cmax = _max_cutoff(cutoffs)
    wmax = _scan_arcs(indices, weights, n, cmax)
    if out is not None:
        out_dist, out_label = out
        for arr, dt, name in ((out_dist, np.float64, "out[0]"), (out_label, np.int32, "out[1]")):
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
    if _resolve_engine(engine) == "scipy":
        dist, label = _nearest_scipy(
            indptr, indices, weights, seed_ptr, seed_node, seed_dist, seed_label, cutoffs
        )
        if out is None:
            return dist, label
        out_dist[...] = dist
        out_label[...] = label
        return out_dist, out_label
    nthreads = _threads(threads)
    inv_w, mask = _queue_geometry(wmax, seed_dist, cmax, bucket_width)
    if out is None:
        out_dist = np.empty((k, n), np.float64)
        out_label = np.empty((k, n), np.int32)
    items = np.arange(k, dtype=np.int64)
    nslots = max(1, min(nthreads, k))
    pool = _pool_size(n, int(np.diff(seed_ptr).max(initial=0)))
    inq = np.zeros((nslots, n), np.uint8)
    head = np.full((nslots, mask + 1), -1, np.int32)
    status = np.zeros(k, np.int64)
    while items.size:
        pool_node = np.empty((nslots, pool), np.int32)
        pool_next = np.empty((nslots, pool), np.int32)
        batch = np.empty((nslots, pool), np.int32)
        _run_threads(
            nslots,
            _nearest_parallel,
            indptr,
            indices,
            weights,
            seed_ptr,
            seed_node,
            seed_dist,
            seed_label,
            cutoffs,
            items,
            inv_w,
            mask,
            out_dist,
            out_label,
            inq,
            head,
            pool_node,
            pool_next,
            batch,
            status,
            np.zeros(1, np.int64),
        )
        items = items[status[items] < 0]
        pool *= 4
        nslots = max(1, min(nslots, items.size))
    return out_dist, out_label


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
    """
    indptr, indices, weights = _as_csr(indptr, indices, weights)
    n = indptr.shape[0] - 1
    origin_ptr, origin_node, origin_dist = _as_groups(
        origin_ptr, origin_node, origin_dist, n, ("origin_ptr", "origin_node", "origin_dist")
    )
    n_orig = origin_ptr.shape[0] - 1
    cutoffs = _as_cutoffs(cutoff, n_orig)
    cmax = _max_cutoff(cutoffs)
    wmax = _scan_arcs(indices, weights, n, cmax)
    if _resolve_engine(engine) == "scipy":
        return _bounded_scipy(
            indptr, indices, weights, origin_ptr, origin_node, origin_dist, cutoffs
        )
    if n_orig == 0:
        return np.zeros(1, np.int64), np.empty(0, np.int32), np.empty(0, np.float64)
    nthreads = _threads(threads)
    inv_w, mask = _queue_geometry(wmax, origin_dist, cmax, bucket_width)
    # visit origins by node id (spatial order on a renumbered graph: neighbouring origins
    # share cache), in small chunks taken dynamically by the workers
    first = np.full(n_orig, -1, np.int64)
    has = np.diff(origin_ptr) > 0
    first[has] = origin_node[origin_ptr[:-1][has]]
    if _SORT_ORIGINS:
        order = np.argsort(first, kind="stable").astype(np.int64)
    else:
        order = np.arange(n_orig, dtype=np.int64)
    nslots = max(1, min(nthreads, n_orig))
    csize = int(np.clip(n_orig // (nslots * 16), 1, 64))
    pending = np.arange(0, n_orig, csize, dtype=np.int64)
    pending = np.stack([pending, np.minimum(pending + csize, n_orig)], axis=1)
    dist = np.full((nslots, n), np.inf)
    label = np.full((nslots, n), -1, np.int32)
    inq = np.zeros((nslots, n), np.uint8)
    head = np.full((nslots, mask + 1), -1, np.int32)
    touched = np.empty((nslots, n), np.int32)
    sort_tmp = np.empty((nslots, n), np.int32)
    sort_count = np.empty((nslots, 2048), np.int64)
    passes = max(1, math.ceil(max(n - 1, 1).bit_length() / 11))
    pool = _pool_size(min(n, 4096), int(np.diff(origin_ptr).max(initial=0)))
    cap = _BUF_CAP0
    counts = np.zeros(n_orig, np.int64)
    zlab = np.zeros(origin_node.shape[0], np.int32)
    pieces: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    while pending.shape[0]:
        pool_node = np.empty((nslots, pool), np.int32)
        pool_next = np.empty((nslots, pool), np.int32)
        batch = np.empty((nslots, pool), np.int32)
        buf_node = np.empty((nslots, cap), np.int32)
        buf_dist = np.empty((nslots, cap), np.float64)
        buf_used = np.zeros(nslots, np.int64)
        nch = pending.shape[0]
        start = np.ascontiguousarray(pending[:, 0])
        stop = np.ascontiguousarray(pending[:, 1])
        chunk_slot = np.full(nch, -1, np.int64)
        chunk_off = np.zeros(nch, np.int64)
        chunk_next = start.copy()
        _run_threads(
            nslots,
            _bounded_parallel,
            indptr,
            indices,
            weights,
            origin_ptr,
            origin_node,
            origin_dist,
            zlab,
            cutoffs,
            order,
            start,
            stop,
            inv_w,
            mask,
            dist,
            label,
            inq,
            head,
            pool_node,
            pool_next,
            batch,
            touched,
            sort_tmp,
            sort_count,
            passes,
            buf_node,
            buf_dist,
            buf_used,
            chunk_slot,
            chunk_off,
            chunk_next,
            counts,
            np.zeros(1, np.int64),
        )
        left = []
        for c in range(nch):
            a, nxt, b = int(start[c]), int(chunk_next[c]), int(stop[c])
            if nxt > a:
                t, off = int(chunk_slot[c]), int(chunk_off[c])
                size = int(counts[order[a:nxt]].sum())
                pieces[a] = (
                    buf_node[t, off : off + size].copy(),
                    buf_dist[t, off : off + size].copy(),
                )
            if nxt < b:
                left.append((nxt, b))
        pending = np.array(left, np.int64).reshape(-1, 2)
        if (counts == -1).any():
            pool *= 4
            counts[counts == -1] = 0
        if (counts == -2).any():
            counts[counts == -2] = 0
            done = counts[counts > 0]
            remaining = int((pending[:, 1] - pending[:, 0]).sum())
            est = int(1.25 * done.mean() * remaining / nslots) if done.size else 0
            cap = min(max(2 * cap, est + 1024), max(n_orig * n // nslots, 1) + 1)
    out_ptr = np.zeros(n_orig + 1, np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    keys = sorted(pieces)
    if not keys:
        return out_ptr, np.empty(0, np.int32), np.empty(0, np.float64)
    # results are in visiting order: gather them back into origin order
    node_v = np.concatenate([pieces[a][0] for a in keys])
    dist_v = np.concatenate([pieces[a][1] for a in keys])
    size_v = counts[order]
    start_v = np.zeros(n_orig, np.int64)
    np.cumsum(size_v[:-1], out=start_v[1:])
    start_o = np.empty(n_orig, np.int64)
    start_o[order] = start_v
    gather = np.repeat(start_o - out_ptr[:-1], counts) + np.arange(out_ptr[-1])
    return out_ptr, node_v[gather], dist_v[gather]


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
        h[ok] = d
    return np.argsort(h, kind="stable").astype(np.int64)


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny graph; returns seconds.

    Does nothing when numba is not installed.
    """
    import time

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
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _pool_size(n_nodes: int, max_seeds: int) -> int:
    """Initial number of queue entries per workspace (overflow -> retried 4x bigger)."""
    return max(1024, n_nodes + max_seeds)


def _run_threads(nslots: int, fn: Any, *args: Any) -> None:
    """Call a parallel kernel with ``nslots`` numba threads, restoring the previous setting."""
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(max(1, min(nslots, numba.config.NUMBA_NUM_THREADS)))
        fn(*args)
    finally:
        numba.set_num_threads(prev)


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


def _augment(indptr, indices, weights, n, vsrc, vdst, vw, nv) -> sp.csr_matrix:
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
