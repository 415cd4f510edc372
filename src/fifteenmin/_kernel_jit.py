"""The compiled (numba) parts of :mod:`fifteenmin._kernel`: the float-bucket queue search.

:mod:`fifteenmin._kernel` validates the inputs, allocates every workspace and runs the workers
defined here (:func:`nearest_worker`, :func:`bounded_worker`) on one thread each; the tie rule
and the memory layout are described there. Nothing here allocates per search, checks an input
or grows a buffer: an exhausted entry pool or result buffer is reported (``OVERFLOW``,
``FULL``) and handled by the caller.

Algorithm
---------
Every search is a *float-bucket queue* (a Dial-style bucket queue over float keys):

* Distances are exact ``float64`` sums of the arc weights, computed in the same order as a
  textbook Dijkstra (``dist[v] = dist[u] + w(u, v)``).
* Nodes are kept in buckets of width ``bucket_width`` metres (default 1.2 m, about one second of
  walking): node ``v`` is in bucket ``floor(dist[v] / bucket_width)``. The buckets live in a
  circular array whose length exceeds the spread of the labels that can be pending at once
  (the longest useful arc and the seed offsets, or the whole cutoff when the search is split
  into tiles) divided by the width, so every pending node fits in the window ahead of the
  current bucket. Each bucket is a LIFO list threaded through a fixed pool of entries with a
  free list.
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

Tiles. On a large graph one item's search is split into *tiles*: ranges of consecutive node
ids (``_TILE_NODES`` = 32,768 in :mod:`fifteenmin._kernel`), solved in increasing order, each
from the item's seeds inside it. A
relaxation into a later tile only lowers that node's label and marks it *pending*; the node is
queued (with its label then) when its tile is solved. Relaxations into the current or an earlier
tile are queued at once, so improvements flow back into finished tiles immediately. Every arc is
still relaxed with the final label of its tail (a node changed in one tile is scanned in that
tile or, if pending, in its own), so the result is again the fixed point above: the distances are
exactly those of the one-piece search. What changes is locality: with spatially ordered ids
(:func:`fifteenmin._kernel.spatial_order`) a tile is a compact area, its search touches a few
megabytes instead of scattering every bucket over the whole graph, and on a million-node grid
an item costs 1.8x (facilities at 0.1 % of the nodes) to 2.9x (1 %) less than in one piece,
while each reached node is still scanned 1.01-1.04 times. Graphs of at most one tile, infinite
cutoffs and graphs whose ids are not spatially ordered (most arcs joining two tiles) are solved
in one piece.

Cutoff. A label is only ever set when it is ``<= cutoff``, so the queue empties as soon as the
search passes the cutoff (early termination) and unreached nodes keep ``inf``.

numba is optional: without it this module still imports (``HAVE_NUMBA`` is False, ``njit``
returns the plain Python function) and :mod:`fifteenmin._kernel` uses scipy.
"""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# numba is optional (momepy-style): the module must import and work without it. It is
# imported by name so that the (untyped) module and its decorators are plain ``Any`` values.
numba: Any
try:
    numba = importlib.import_module("numba")
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None
    HAVE_NUMBA = False


def _plain_njit(*args: Any, **kwargs: Any) -> Any:
    """Stand-in for ``numba.njit`` when numba is missing (returns the function)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f


def _plain_prefetch(arr: Any, idx: Any) -> None:
    """No-op stand-in for the numba prefetch intrinsic."""


def _plain_fetch_add(arr: Any) -> int:
    """Stand-in for the atomic counter (single-threaded)."""
    old = int(arr[0])
    arr[0] += 1
    return old


def _intrinsics() -> tuple[Any, Any]:
    """The two LLVM intrinsics the kernels use: software prefetch and atomic fetch-add."""
    ir = importlib.import_module("llvmlite.ir")
    cgutils = importlib.import_module("numba.core.cgutils")
    types = importlib.import_module("numba.core.types")
    intrinsic = importlib.import_module("numba.extending").intrinsic

    @intrinsic
    def prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:  # pragma: no cover - compiled
        """Software prefetch (read, keep in all cache levels) of ``arr[idx]``."""

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
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
            flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
            builder.call(fn, [builder.bitcast(ptr, i8p), *flags])
            return context.get_dummy_value()

        return types.void(arr, idx), codegen

    @intrinsic
    def fetch_add(typingctx: Any, arr: Any) -> Any:  # pragma: no cover - compiled
        """Atomically ``old = arr[0]; arr[0] += 1; return old`` (int64 work counter)."""

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            zero = context.get_constant(types.intp, 0)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [zero])
            one = context.get_constant(types.int64, 1)
            return builder.atomic_rmw("add", ptr, one, "monotonic")

        return types.int64(arr), codegen

    return prefetch, fetch_add


njit: Any
_prefetch: Any
_fetch_add: Any
if HAVE_NUMBA:
    njit = numba.njit
    _prefetch, _fetch_add = _intrinsics()
else:  # pragma: no cover
    njit = _plain_njit
    _prefetch, _fetch_add = _plain_prefetch, _plain_fetch_add


__all__ = [
    "FULL",
    "HAVE_NUMBA",
    "OVERFLOW",
    "Q_SIZE",
    "bounded_worker",
    "hilbert_index",
    "nearest_worker",
    "numba",
    "row_walks",
    "run_workers",
]

OVERFLOW = -1  # a search ran out of queue entries: retry with a bigger pool
FULL = -2  # bounded_search: the slot's result buffer is full

_LOOKAHEAD = 8  # prefetch the arcs of the node this many places ahead in a bucket batch

# slots of a workspace's queue state (an int64 array, so that helpers can update it)
_Q_FREE = 0  # head of the free list of pool entries (-1: none)
_Q_TOP = 1  # pool entries ever used
_Q_COUNT = 2  # entries in the buckets (live or stale)
_Q_CUR = 3  # lowest bucket that may hold an entry
_Q_NPEND = 4  # pending nodes (labelled from an earlier tile, not yet queued)
_Q_NTOUCHED = 5  # nodes labelled for the first time (when tracked)
_Q_TRACK = 6  # 1: list the first-labelled nodes in ``touched``
Q_SIZE = 8  # length of the queue-state array

_PENDING = 2  # ``inq`` flag of a pending node

FloatArray = np.ndarray
IntArray = np.ndarray


def run_workers(fn: Any, calls: list[tuple[Any, ...]]) -> None:
    """Run ``fn(*args)`` for every argument tuple, each on its own thread.

    The compiled workers release the GIL (``nogil``) and share an atomic work counter, so
    plain Python threads run them in parallel; the first runs in the calling thread.
    """
    if len(calls) == 1:
        fn(*calls[0])
        return
    with ThreadPoolExecutor(len(calls) - 1) as pool:
        futures = [pool.submit(fn, *args) for args in calls[1:]]
        fn(*calls[0])
        for f in futures:
            f.result()


# ---------------------------------------------------------------------------------------------
# numba kernels
#
# A workspace ``ws`` is the tuple (inq, head, pool_node, pool_next, batch, pend, touched, qs):
# per-node queue flags (0, 1 = queued, _PENDING), bucket heads, the entry pool (node, next),
# the detached bucket, the pending nodes of later tiles, the first-labelled nodes (tracked
# searches) and the queue state ``qs`` (slots _Q_*). A graph ``g`` is (indptr, indices,
# weights). Annotations are for readers and mypy; numba infers its own types.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, boundscheck=False)
def _seed(
    s_node: IntArray,
    s_dist: FloatArray,
    s_label: IntArray,
    cutoff: float,
    hi: int,
    inv_w: float,
    mask: int,
    indptr: IntArray,
    dist: FloatArray,
    label: IntArray,
    ws: tuple,
) -> bool:  # pragma: no cover - compiled
    """Start a search: reset the queue, queue the pending nodes below ``hi``, then the seeds.

    Seeds beyond the cutoff are ignored; the others follow the relaxation rule of :func:`_run`.
    """
    inq, head, pool_node, pool_next, _, pend, touched, qs = ws
    free, top, count, cur = -1, 0, 0, np.int64(1) << 62
    npend, ntouched, track = qs[_Q_NPEND], qs[_Q_NTOUCHED], qs[_Q_TRACK] != 0
    kept = 0
    for i in range(npend):
        v = pend[i]
        if v >= hi:
            pend[kept] = v
            kept += 1
            continue
        b = np.int64(dist[v] * inv_w)
        free, top, e = _entry(free, top, pool_next)
        if e < 0:
            return False
        _link(v, b, e, mask, inq, head, pool_node, pool_next)
        count += 1
        cur = min(cur, b)
    npend = kept
    for i in range(s_node.shape[0]):
        d = s_dist[i]
        v = s_node[i]
        dv = dist[v]
        if not (d <= cutoff and (d < dv or (d == dv and s_label[i] < label[v]))):
            continue
        if track and dv == np.inf:
            touched[ntouched] = v
            ntouched += 1
        dist[v] = d
        label[v] = s_label[i]
        if v >= hi:
            if inq[v] == 0:
                inq[v] = _PENDING
                pend[npend] = v
                npend += 1
            continue
        b = np.int64(d * inv_w)
        cur = min(cur, b)
        if inq[v] != 0 and np.int64(dv * inv_w) == b:
            continue
        free, top, e = _entry(free, top, pool_next)
        if e < 0:
            return False
        _link(v, b, e, mask, inq, head, pool_node, pool_next)
        count += 1
    qs[_Q_FREE], qs[_Q_TOP], qs[_Q_COUNT], qs[_Q_CUR] = free, top, count, cur
    qs[_Q_NPEND], qs[_Q_NTOUCHED] = npend, ntouched
    return True


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _link(
    v: int,
    b: int,
    e: int,
    mask: int,
    inq: IntArray,
    head: IntArray,
    pool_node: IntArray,
    pool_next: IntArray,
) -> None:  # pragma: no cover - compiled
    """Put node ``v`` into bucket ``b`` through pool entry ``e`` and flag it queued."""
    pool_node[e] = v
    pool_next[e] = head[b & mask]
    head[b & mask] = e
    inq[v] = 1


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _entry(free: int, top: int, pool_next: IntArray) -> tuple[int, int, int]:
    """Take a pool entry: (new free-list head, new top, entry or -1 if the pool is full)."""
    if free >= 0:
        return pool_next[free], top, free
    if top < pool_next.shape[0]:
        return free, top + 1, top
    return free, top, -1


@njit(cache=True, nogil=True, boundscheck=False)
def _run(
    g: tuple,
    cutoff: float,
    hi: int,
    inv_w: float,
    mask: int,
    dist: FloatArray,
    label: IntArray,
    ws: tuple,
) -> bool:  # pragma: no cover - compiled
    """Empty the queue filled by :func:`_seed`: the bucket loop. False if the pool overflowed.

    A bucket's list is detached into ``batch`` (live entries only) and its nodes scanned, with
    the arcs of the node ``_LOOKAHEAD`` places ahead prefetched; nodes improved meanwhile and
    still in this bucket form the next batch (label-correcting inside the bucket).

    The relaxation rule (also applied to the seeds by :func:`_seed`): node ``v`` takes distance
    ``d`` and label ``lab`` if that is better, i.e. a smaller distance, or the same distance and
    a smaller label; a node of a later tile (``v >= hi``) is then only marked pending, any other
    is queued unless already queued in that bucket; a tracked search lists the nodes labelled
    for the first time in ``touched``. The rule is written out in both loops: as a function
    (even inlined) it costs up to four times the whole loop here.
    """
    indptr, indices, weights = g
    inq, head, pool_node, pool_next, batch, pend, touched, qs = ws
    free, top, count, cur = qs[_Q_FREE], qs[_Q_TOP], qs[_Q_COUNT], qs[_Q_CUR]
    npend, ntouched, track = qs[_Q_NPEND], qs[_Q_NTOUCHED], qs[_Q_TRACK] != 0
    while count > 0:
        while head[cur & mask] < 0:
            cur += 1
        s = cur & mask
        while head[s] >= 0:
            nb, free, count = _detach(s, free, count, g, inq, head, pool_node, pool_next, batch)
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
                    if not (nd < dv or (nd == dv and lu < label[v])):
                        continue
                    if track and dv == np.inf:
                        touched[ntouched] = v
                        ntouched += 1
                    dist[v] = nd
                    label[v] = lu
                    if v >= hi:  # a later tile: pending
                        if inq[v] == 0:
                            inq[v] = _PENDING
                            pend[npend] = v
                            npend += 1
                        continue
                    b = np.int64(nd * inv_w)
                    if inq[v] != 0 and np.int64(dv * inv_w) == b:
                        continue  # already queued in this bucket
                    free, top, e = _entry(free, top, pool_next)
                    if e < 0:
                        return False
                    _link(v, b, e, mask, inq, head, pool_node, pool_next)
                    count += 1
                    _prefetch(indptr, v)  # its arcs are read when its bucket comes
    qs[_Q_NPEND] = npend
    qs[_Q_NTOUCHED] = ntouched
    return True


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _detach(
    s: int,
    free: int,
    count: int,
    g: tuple,
    inq: IntArray,
    head: IntArray,
    pool_node: IntArray,
    pool_next: IntArray,
    batch: IntArray,
) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """Move the live entries of bucket slot ``s`` into ``batch`` and free them.

    Returns (entries moved, new free-list head, new entry count); prefetches the arcs of the
    first ``_LOOKAHEAD`` nodes.
    """
    nb = 0
    e = head[s]
    head[s] = -1
    while e >= 0:
        u = pool_node[e]
        nxt = pool_next[e]
        pool_next[e] = free
        free = e
        count -= 1
        if inq[u]:
            batch[nb] = u
            nb += 1
        e = nxt
    indptr, indices, weights = g
    for i in range(min(nb, _LOOKAHEAD)):
        a = indptr[batch[i]]
        _prefetch(indices, a)
        _prefetch(weights, a)
    return nb, free, count


@njit(cache=True, nogil=True, boundscheck=False)
def _search(
    g: tuple,
    s_node: IntArray,
    s_dist: FloatArray,
    s_label: IntArray,
    cutoff: float,
    hi: int,
    inv_w: float,
    mask: int,
    dist: FloatArray,
    label: IntArray,
    ws: tuple,
) -> bool:  # pragma: no cover - compiled
    """One multi-source search into ``dist``/``label`` (already holding labels or inf/-1).

    Nodes ``>= hi`` are only labelled and marked pending (see "Tiles"). Returns False if the
    entry pool overflowed (then clear the workspace with :func:`_reset_queue`); otherwise the
    queue flags and bucket heads are clean again, pending nodes apart.
    """
    return _seed(s_node, s_dist, s_label, cutoff, hi, inv_w, mask, g[0], dist, label, ws) and _run(
        g, cutoff, hi, inv_w, mask, dist, label, ws
    )


@njit(cache=True, nogil=True, boundscheck=False)
def _reset_queue(ws: tuple) -> None:  # pragma: no cover - compiled
    """Clear a workspace after an overflow (queue flags, bucket heads, pending nodes)."""
    ws[0][:] = 0
    ws[1][:] = -1
    ws[7][_Q_NPEND] = 0


@njit(cache=True, nogil=True, boundscheck=False)
def _nearest_item(
    g: tuple,
    item: tuple,
    cutoff: float,
    tile: int,
    inv_w: float,
    mask: int,
    drow: FloatArray,
    lrow: IntArray,
    ws: tuple,
) -> bool:  # pragma: no cover - compiled
    """Solve one item, tile by tile, into its output rows. False if the entry pool overflowed.

    With ``tile`` smaller than the graph the seeds must be sorted by node.
    """
    s_node, s_dist, s_label = item
    n = drow.shape[0]
    drow[:] = np.inf
    lrow[:] = -1
    qs = ws[7]
    qs[_Q_NPEND] = 0
    lo = 0
    hi_node = 0
    while hi_node < n:
        hi_node = min(n, hi_node + tile)
        hi = lo
        while hi < s_node.shape[0] and s_node[hi] < hi_node:
            hi += 1
        if (hi > lo or qs[_Q_NPEND] > 0) and not _search(
            g,
            s_node[lo:hi],
            s_dist[lo:hi],
            s_label[lo:hi],
            cutoff,
            hi_node,
            inv_w,
            mask,
            drow,
            lrow,
            ws,
        ):
            return False
        lo = hi
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def nearest_worker(
    g: tuple,
    seeds: tuple,
    cutoffs: FloatArray,
    items: IntArray,
    tile: int,
    inv_w: float,
    mask: int,
    out: tuple,
    ws: tuple,
    status: IntArray,
    counter: IntArray,
) -> None:  # pragma: no cover - compiled
    """One worker thread of a nearest-facility call, on its own workspace ``ws``.

    Takes the next item from the shared atomic ``counter`` (dynamic scheduling: a busy or
    descheduled core does not hold the others back) until ``items`` (item ids) are done, and
    writes straight into the output rows. ``status[k]`` is 0, or ``OVERFLOW`` if item ``k``
    must be retried with a bigger entry pool.
    """
    seed_ptr, seed_node, seed_dist, seed_label = seeds
    out_dist, out_label = out
    while True:
        j = _fetch_add(counter)
        if j >= items.shape[0]:
            return
        k = items[j]
        lo, hi = seed_ptr[k], seed_ptr[k + 1]
        item = (seed_node[lo:hi], seed_dist[lo:hi], seed_label[lo:hi])
        ok = _nearest_item(g, item, cutoffs[k], tile, inv_w, mask, out_dist[k], out_label[k], ws)
        status[k] = 0 if ok else OVERFLOW
        if not ok:
            _reset_queue(ws)


@njit(cache=True, nogil=True, boundscheck=False)
def _radix_sort(
    keys: IntArray, r: int, tmp: IntArray, count: IntArray, passes: int
) -> None:  # pragma: no cover - compiled
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
def _bounded_origin(
    g: tuple,
    origin: tuple,
    cutoff: float,
    inv_w: float,
    mask: int,
    row: tuple,
    ws: tuple,
    sorter: tuple,
    buf: tuple,
    used: int,
) -> int:  # pragma: no cover - compiled
    """Every node within ``cutoff`` of one origin, appended (by node id) to ``buf`` at ``used``.

    Returns how many, or ``OVERFLOW`` (entry pool) or ``FULL`` (buffer); ``dist``, ``label``
    and the workspace are clean again in every case.
    """
    o_node, o_dist, o_label = origin
    dist, label = row
    touched, qs = ws[6], ws[7]
    qs[_Q_TRACK] = 1
    qs[_Q_NTOUCHED] = 0
    if not _search(g, o_node, o_dist, o_label, cutoff, dist.shape[0], inv_w, mask, dist, label, ws):
        dist[:] = np.inf  # rare: clear everything
        label[:] = -1
        _reset_queue(ws)
        return OVERFLOW
    r = qs[_Q_NTOUCHED]
    buf_node, buf_dist = buf
    full = used + r > buf_node.shape[0]
    if not full:
        _radix_sort(touched, r, sorter[0], sorter[1], sorter[2])
    for i in range(r):
        v = touched[i]
        if not full:
            buf_node[used + i] = v
            buf_dist[used + i] = dist[v]
        dist[v] = np.inf
        label[v] = -1
    return FULL if full else r


@njit(cache=True, nogil=True, boundscheck=False)
def bounded_worker(
    g: tuple,
    origins: tuple,
    cutoffs: FloatArray,
    order: IntArray,
    chunks: tuple,
    inv_w: float,
    mask: int,
    slot: int,
    row: tuple,
    ws: tuple,
    sorter: tuple,
    buf: tuple,
    counts: IntArray,
    counter: IntArray,
) -> None:  # pragma: no cover - compiled
    """One worker thread of a bounded search: chunks of origins from the atomic ``counter``.

    Origins are visited in the order ``order`` (positions ``p`` -> origin ``order[p]``).
    Chunk ``c`` ran on slot ``chunk_slot[c]``, its results start at ``chunk_off[c]`` in that
    slot's buffer ``buf`` and cover positions ``chunk_start[c]:chunk_next[c]``. The worker
    stops taking chunks when its entry pool overflows or its buffer is full (``counts[o]`` is
    then ``OVERFLOW`` or ``FULL``); the caller re-queues what is left. ``row`` is the slot's
    (dist, label) pair of inf/-1 rows, clean again on return.
    """
    origin_ptr, origin_node, origin_dist, origin_label = origins
    chunk_start, chunk_stop, chunk_slot, chunk_off, chunk_next = chunks
    used = np.int64(0)  # not a literal: one compiled signature of _bounded_origin
    while True:
        c = _fetch_add(counter)
        if c >= chunk_start.shape[0]:
            return
        chunk_slot[c] = slot
        chunk_off[c] = used
        p = chunk_start[c]
        while p < chunk_stop[c]:
            o = order[p]
            lo, hi = origin_ptr[o], origin_ptr[o + 1]
            origin = (origin_node[lo:hi], origin_dist[lo:hi], origin_label[lo:hi])
            r = _bounded_origin(g, origin, cutoffs[o], inv_w, mask, row, ws, sorter, buf, used)
            counts[o] = r
            if r < 0:
                chunk_next[c] = p
                return
            used += r
            p += 1
        chunk_next[c] = p


@njit(cache=True, nogil=True, boundscheck=False)
def hilbert_index(xi: IntArray, yi: IntArray, side: int) -> IntArray:  # pragma: no cover
    """Distance along the Hilbert curve of a ``side`` x ``side`` grid of every cell ``(xi, yi)``.

    The loop of :func:`fifteenmin._kernel.spatial_order`'s numpy fallback, one cell at a
    time in integers (the same result, without its ~15 whole-array passes per level).
    """
    n = xi.shape[0]
    out = np.empty(n, np.int64)
    for i in range(n):
        x = xi[i]
        y = yi[i]
        h = np.int64(0)
        s = side >> 1
        while s > 0:
            rx = 1 if (x & s) > 0 else 0
            ry = 1 if (y & s) > 0 else 0
            h += s * s * ((3 * rx) ^ ry)
            if ry == 0:  # rotate the quadrant
                if rx == 1:
                    x = s - 1 - x
                    y = s - 1 - y
                x, y = y, x
            s >>= 1
        out[i] = h
    return out


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _keep_best(
    p: int, m: float, r: int, best: FloatArray, stamp: IntArray, touched: IntArray, k: int
) -> int:  # pragma: no cover - compiled
    """``m`` as target ``p``'s walk from row ``r`` if it is the first or shorter; the new ``k``."""
    if stamp[p] != r:
        stamp[p] = r
        best[p] = m
        touched[k] = p
        return k + 1
    if m < best[p]:
        best[p] = m
    return k


@njit(cache=True, nogil=True, boundscheck=False)
def row_walks(
    r: int,
    reach: tuple[IntArray, IntArray, FloatArray],
    ends: tuple[IntArray, IntArray, FloatArray, IntArray],
    origin: tuple[int, float, float],
    along: tuple[IntArray, IntArray, FloatArray, FloatArray],
    best: FloatArray,
    stamp: IntArray,
    touched: IntArray,
) -> int:  # pragma: no cover - compiled
    """Every target's shortest walk from search row ``r``; returns how many were touched.

    ``reach`` = ``(ptr, node, dist)``: the rows' reached nodes (:class:`fifteenmin.routing.Reach`).
    ``ends`` = ``(node_ptr, by_node, legs, target_of)``: at a reached node ``x``, slots
    ``node_ptr[x]:node_ptr[x + 1]`` of ``by_node`` are the ends of target edges there; slot
    ``s`` is target ``target_of[s >> 1]`` with leg ``legs[s]``: a walk of ``dist + leg``.
    ``origin`` = ``(edge, offset, access)`` of the row's origin (``edge < 0``: none), and
    ``along`` = ``(edges, by_edge, offset, access)`` the targets sorted by edge: one on the
    origin's own edge is also reached straight along it, ``access + |offset - offset| +
    access``. Each target's shortest walk goes into ``best[target]``, the targets touched
    into ``touched[:k]``; ``stamp[target] == r`` marks them (the caller resets the stamps).
    """
    ptr, node, dist = reach
    node_ptr, by_node, legs, target_of = ends
    k = 0
    for j in range(ptr[r], ptr[r + 1]):
        d = dist[j]
        x = node[j]
        for q in range(node_ptr[x], node_ptr[x + 1]):
            s = by_node[q]
            k = _keep_best(target_of[s >> 1], d + legs[s], r, best, stamp, touched, k)
    e, o_offset, o_access = origin
    if e < 0:
        return k
    t_edges, t_by_edge, t_offset, t_access = along
    n_e = len(t_edges)
    lo, hi = 0, n_e
    while lo < hi:
        mid = (lo + hi) >> 1
        if t_edges[mid] < e:
            lo = mid + 1
        else:
            hi = mid
    while lo < n_e and t_edges[lo] == e:
        p = t_by_edge[lo]
        m = o_access + abs(o_offset - t_offset[p]) + t_access[p]
        k = _keep_best(p, m, r, best, stamp, touched, k)
        lo += 1
    return k


_SMALL_GROUP = 32  # sort_groups: groups up to this size are insertion-sorted


@njit(cache=True, nogil=True, boundscheck=False)
def sort_groups(
    order: IntArray, ptr: IntArray, k1: np.ndarray, k2: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Sort each group ``order[ptr[g]:ptr[g+1]]`` stably by ``(k1, k2)`` of its rows, in place.

    Small groups by insertion (a row moves only past rows with strictly greater keys), larger
    ones by two stable merge sorts (``k2``, then ``k1``). Keys must not be NaN.
    """
    for g in range(ptr.shape[0] - 1):
        a, b = ptr[g], ptr[g + 1]
        if b - a > _SMALL_GROUP:
            rows = order[a:b].copy()
            rows = rows[np.argsort(k2[rows], kind="mergesort")]
            order[a:b] = rows[np.argsort(k1[rows], kind="mergesort")]
            continue
        for i in range(a + 1, b):
            o = order[i]
            j = i - 1
            while j >= a and (
                k1[order[j]] > k1[o] or (k1[order[j]] == k1[o] and k2[order[j]] > k2[o])
            ):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = o
