"""Compiled raster kernels of the fast walking areas: a distance grid and its contour.

:func:`area_rings` samples, on a square grid of ``h`` metres (:func:`grid_frame`), the distance
from every grid point to the nearest of a set of line segments (the reached street pieces of
one walking area), traces the level line ``distance = level`` of that grid (marching squares
with linear interpolation along the grid edges) into closed rings and groups them into
polygons with holes (:func:`polygon_rings`). The area inside the rings is
``{p : distance(p, pieces) < level}``, the round buffer of the pieces of radius ``level``, up
to the interpolation between grid points: where the distance varies linearly along a grid edge
(beside a straight street, where one segment is nearest at both ends of the edge) the crossing
point is exact; it errs where the nearest segment changes between the two grid points (the
corners where two streets' buffers meet, which the contour cuts by up to about ``h / 2``) and
on the round caps (by much less).

Rings. The grid values are squared distances (the square root is only taken at the grid
points next to a crossing). A grid point is *inside* when its distance is below ``level``.
Every grid cell with inside and outside corners gets one or two directed segments between
crossing points on its edges, oriented with the inside on their left; a crossing point is
identified by its grid edge, so each one has exactly one segment arriving (from one cell) and
one leaving (into the other), and the segments link up into closed rings: counter-clockwise
around an area, clockwise around a hole. A cell whose diagonal corners alone are inside (a
saddle) joins them when the mean of its four corner distances is below ``level``. Crossing
points are kept strictly inside their grid edge (``t`` in ``[1e-6, 1 - 1e-6]``), so two
rings never share a point and every ring is simple: the polygons are valid without repair.
The grid extends at least ``level + h`` past every segment, so no ring touches its border.

Vertices that lie within ``tol`` of the chord of their neighbours (the crossing points along a
straight buffer side are collinear up to rounding) are dropped while tracing.

numba is optional: without it these functions run as plain (slow) Python.
"""

from __future__ import annotations

import numpy as np

from ._kernel_jit import HAVE_NUMBA, njit

__all__ = ["HAVE_NUMBA", "area_rings", "grid_frame", "polygon_rings"]

_T_MIN = 1e-6  # crossing points stay this fraction of h away from the grid points


@njit(cache=True, nogil=True, boundscheck=False)
def grid_frame(
    xy: np.ndarray, h: float, reach: float
) -> tuple[float, float, int, int]:  # pragma: no cover
    """The grid of :func:`area_rings`: origin ``(x0, y0)`` and size ``(ny, nx)``.

    Grid points are multiples of ``h`` (the same point gets the same value whichever other
    pieces are on the grid), at least ``reach + h`` beyond every vertex of ``xy``.
    """
    xmin, ymin, xmax, ymax = np.inf, np.inf, -np.inf, -np.inf
    for k in range(xy.shape[0]):
        xmin = min(xmin, xy[k, 0])
        xmax = max(xmax, xy[k, 0])
        ymin = min(ymin, xy[k, 1])
        ymax = max(ymax, xy[k, 1])
    x0 = (np.floor((xmin - reach) / h) - 1.0) * h
    y0 = (np.floor((ymin - reach) / h) - 1.0) * h
    nx = int(np.ceil((xmax + reach - x0) / h)) + 2
    ny = int(np.ceil((ymax + reach - y0) / h)) + 2
    return x0, y0, ny, nx


@njit(cache=True, nogil=True, boundscheck=False)
def _fill(
    xy: np.ndarray, seg: np.ndarray, h: float, reach: float, x0: float, y0: float, z2: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Squared distances from the grid points to the nearest segment, capped at ``reach**2``.

    ``z2[i, j]`` is for the point ``(x0 + j * h, y0 + i * h)``; the segments are
    ``xy[k] -> xy[k + 1]`` with ``seg[k]`` (a degenerate one is its point).
    """
    ny, nx = z2.shape
    r2 = reach * reach
    z2[:, :] = r2
    xs = np.empty(nx)  # a segment's columns' x offsets, shared by its rows
    for k in range(xy.shape[0] - 1):
        if not seg[k]:
            continue
        ax, ay, bx, by = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        i0 = max(0, int(np.floor((min(ay, by) - reach - y0) / h)))
        i1 = min(ny - 1, int(np.ceil((max(ay, by) + reach - y0) / h)))
        j0 = max(0, int(np.floor((min(ax, bx) - reach - x0) / h)))
        j1 = min(nx - 1, int(np.ceil((max(ax, bx) + reach - x0) / h)))
        inv = 1.0 / ll if ll > 0.0 else 0.0
        m = j1 + 1 - j0
        if m <= 0:
            continue
        for u in range(m):
            xs[u] = x0 + (j0 + u) * h - ax
        px = xs[:m]
        for i in range(i0, i1 + 1):
            # a row slice indexed from 0 (no negative-index wrap): the loop vectorises
            py = y0 + i * h - ay
            row = z2[i, j0 : j1 + 1]
            for u in range(m):
                t = min(1.0, max(0.0, (px[u] * dx + py * dy) * inv))
                ex = px[u] - t * dx
                ey = py - t * dy
                row[u] = min(row[u], ex * ex + ey * ey)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _crossing(
    z2: np.ndarray, eid: int, level: float, x0: float, y0: float, h: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """The point where the distance crosses ``level`` on grid edge ``eid``."""
    ny, nx = z2.shape
    vertical = eid >= ny * nx
    k = eid - ny * nx if vertical else eid
    i, j = k // nx, k % nx
    za = np.sqrt(z2[i, j])
    zb = np.sqrt(z2[i + 1, j]) if vertical else np.sqrt(z2[i, j + 1])
    t = (level - za) / (zb - za)
    t = min(1.0 - _T_MIN, max(_T_MIN, t))
    if vertical:
        return x0 + j * h, y0 + (i + t) * h
    return x0 + (j + t) * h, y0 + i * h


@njit(cache=True, nogil=True, boundscheck=False)
def _link(
    z2: np.ndarray, level: float, succ: np.ndarray, starts: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Directed boundary segments of every cell: ``succ[start edge] = end edge``.

    Grid edge ids: the edge from ``(i, j)`` to ``(i, j + 1)`` is ``i * nx + j``, the one from
    ``(i, j)`` to ``(i + 1, j)`` is ``ny * nx + i * nx + j``. Returns the number of segments
    (their start edges, in cell order, are ``starts[:count]``).
    """
    ny, nx = z2.shape
    lv2 = level * level
    off = ny * nx
    edges = np.empty(4, dtype=np.int64)
    kind = np.empty(4, dtype=np.int64)  # +1: inside -> outside (a start), -1: an end, 0: none
    count = 0
    below = np.empty(nx, dtype=np.uint8)  # inside flags of rows i and i + 1
    above = np.empty(nx, dtype=np.uint8)
    mixed = np.empty(nx, dtype=np.uint8)  # cells of the row with inside and outside corners
    row = z2[0]
    for j in range(nx):
        above[j] = row[j] < lv2
    for i in range(ny - 1):
        below, above = above, below
        row = z2[i + 1]
        for j in range(nx):
            above[j] = row[j] < lv2
        for j in range(nx - 1):  # branch-free (vectorised); the few mixed cells follow
            mixed[j] = (below[j] ^ below[j + 1]) | (above[j] ^ above[j + 1]) | (below[j] ^ above[j])
        for j in range(nx - 1):
            if mixed[j] == 0:
                continue
            c0 = below[j] == 1
            c1 = below[j + 1] == 1
            c2 = above[j + 1] == 1
            c3 = above[j] == 1
            # the cell's edges counter-clockwise: bottom, right, top, left
            edges[0], edges[1] = i * nx + j, off + i * nx + j + 1
            edges[2], edges[3] = (i + 1) * nx + j, off + i * nx + j
            kind[0] = 0 if c0 == c1 else (1 if c0 else -1)
            kind[1] = 0 if c1 == c2 else (1 if c1 else -1)
            kind[2] = 0 if c2 == c3 else (1 if c2 else -1)
            kind[3] = 0 if c3 == c0 else (1 if c3 else -1)
            step = 1  # a start pairs with the next end counter-clockwise ...
            if c0 == c2 and c1 == c3:  # ... or, in a saddle with a disconnected inside,
                mean = 0.25 * (
                    np.sqrt(z2[i, j])
                    + np.sqrt(z2[i, j + 1])
                    + np.sqrt(z2[i + 1, j + 1])
                    + np.sqrt(z2[i + 1, j])
                )
                if (mean < level) != c0:
                    step = 3  # the previous one (the corner alone is cut off)
            for a in range(4):
                if kind[a] != 1:
                    continue
                b = (a + step) % 4
                while kind[b] != -1:
                    b = (b + step) % 4
                succ[edges[a]] = edges[b]
                starts[count] = edges[a]
                count += 1
    return count


@njit(cache=True, nogil=True, boundscheck=False)
def _keep(px: np.ndarray, py: np.ndarray, tol: float) -> np.ndarray:  # pragma: no cover
    """Which vertices of a closed ring to keep.

    A vertex within ``tol`` of the chord from the last kept vertex to the next one is dropped.
    """
    n = len(px)
    keep = np.ones(n, dtype=np.bool_)
    a = 0
    for k in range(1, n):
        e = (k + 1) % n
        dx, dy = px[e] - px[a], py[e] - py[a]
        off = abs((px[k] - px[a]) * dy - (py[k] - py[a]) * dx)
        # the test is against tol * hypot(dx, dy); sqrt(dx² + dy²) is within 1e-15 of the
        # hypot (away from under- and overflow), so it decides but in a thin band, where the
        # slower hypot does
        s2 = dx * dx + dy * dy
        near = tol * np.sqrt(s2)
        plain = 1e-290 < s2 < 1e290
        if plain and off < near * (1.0 - 1e-12):
            drop = True
        elif plain and off > near * (1.0 + 1e-12):
            drop = False
        else:
            ll = np.hypot(dx, dy)
            drop = ll > 0.0 and off <= tol * ll
        if drop:
            keep[k] = False
        else:
            a = k
    if keep.sum() < 3:
        keep[:] = True
    return keep


@njit(cache=True, nogil=True, boundscheck=False)
def _trace(
    z2: np.ndarray,
    level: float,
    x0: float,
    y0: float,
    h: float,
    tol: float,
    succ: np.ndarray,
    starts: np.ndarray,
    count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The rings of the ``count`` linked segments (see :func:`area_rings`)."""
    xy = np.empty((count + count // 4 + 1, 2))  # a ring has at least 4 crossings
    ptr = np.zeros(count // 4 + 1, dtype=np.int64)
    areas = np.empty(count // 4 + 1)
    px = np.empty(count + 1)
    py = np.empty(count + 1)
    at = 0
    nr = 0
    for s in range(count):
        first = starts[s]
        if succ[first] < 0:
            continue  # already traced
        m = 0
        eid = first
        while True:
            px[m], py[m] = _crossing(z2, eid, level, x0, y0, h)
            m += 1
            nxt = succ[eid]
            succ[eid] = -1
            eid = nxt
            if eid == first:
                break
        keep = _keep(px[:m], py[:m], tol)
        start = at
        for k in range(m):
            if keep[k]:
                xy[at, 0], xy[at, 1] = px[k], py[k]
                at += 1
        xy[at] = xy[start]
        at += 1
        area = 0.0
        for k in range(start, at - 1):
            area += xy[k, 0] * xy[k + 1, 1] - xy[k + 1, 0] * xy[k, 1]
        areas[nr] = 0.5 * area
        nr += 1
        ptr[nr] = at
    return xy[:at].copy(), ptr[: nr + 1].copy(), areas[:nr].copy()


@njit(cache=True, nogil=True, boundscheck=False)
def area_rings(
    xy: np.ndarray,
    seg: np.ndarray,
    h: float,
    level: float,
    tol: float,
    x0: float,
    y0: float,
    ny: int,
    nx: int,
    z_ws: np.ndarray,
    succ_ws: np.ndarray,
    start_ws: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The area within ``level`` of the segments, as rings grouped into polygons.

    Parameters
    ----------
    xy, seg
        Vertices (``(n, 2)`` float64) and which of them start a segment to the next one.
    h, level, tol
        Grid step, buffer radius and collinear tolerance in metres.
    x0, y0, ny, nx
        The grid, from :func:`grid_frame` with ``reach = level + 1.5 * h``.
    z_ws, succ_ws, start_ws
        Workspaces (float64, int64, int64) of at least ``ny * nx``, ``2 * ny * nx`` and
        ``2 * ny * nx`` elements, reused from call to call; their contents do not matter.

    Returns
    -------
    ring_xy, ring_ptr, poly_ptr
        Ring ``r`` is ``ring_xy[ring_ptr[r]:ring_ptr[r + 1]]`` (closed); polygon ``p`` is rings
        ``poly_ptr[p]`` (its shell) to ``poly_ptr[p + 1] - 1`` (its holes)
        (:func:`polygon_rings`): the offsets of :func:`shapely.from_ragged_array`.
    """
    z2 = z_ws[: ny * nx].reshape((ny, nx))
    _fill(xy, seg, h, level + 1.5 * h, x0, y0, z2)
    count = _link(z2, level, succ_ws, start_ws)
    ring_xy, ring_ptr, area = _trace(z2, level, x0, y0, h, tol, succ_ws, start_ws, count)
    order, poly_ptr = polygon_rings(ring_xy, ring_ptr, area)
    out_xy = np.empty_like(ring_xy)
    out_ptr = np.zeros(len(order) + 1, dtype=np.int64)
    at = 0
    for q in range(len(order)):
        r = order[q]
        for k in range(ring_ptr[r], ring_ptr[r + 1]):
            out_xy[at, 0], out_xy[at, 1] = ring_xy[k, 0], ring_xy[k, 1]
            at += 1
        out_ptr[q + 1] = at
    return out_xy[:at], out_ptr, poly_ptr


@njit(cache=True, nogil=True, boundscheck=False)
def _inside(x: float, y: float, xy: np.ndarray, a: int, b: int) -> bool:  # pragma: no cover
    """Point in the closed ring ``xy[a:b]`` (crossing number)."""
    inside = False
    for k in range(a, b - 1):
        x1, y1, x2, y2 = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


@njit(cache=True, nogil=True, boundscheck=False)
def polygon_rings(
    xy: np.ndarray, ptr: np.ndarray, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Rings ordered polygon by polygon (its shell, then its holes).

    A hole belongs to the smallest shell around it (an area inside the hole of a larger one is
    a polygon of its own).

    Returns
    -------
    order, poly_ptr
        Polygon ``p`` is rings ``order[poly_ptr[p]:poly_ptr[p + 1]]``, its shell first; shells
        in ring order, each one's holes in ring order.
    """
    nr = len(area)
    shells = np.flatnonzero(area > 0)
    owner = np.full(nr, -1, dtype=np.int64)
    for r in range(nr):
        if area[r] > 0:
            owner[r] = r
        elif len(shells) == 1:
            owner[r] = shells[0]
        else:
            x, y = xy[ptr[r], 0], xy[ptr[r], 1]
            best = np.inf
            for s in shells:
                if area[s] < best and area[s] > -area[r] and _inside(x, y, xy, ptr[s], ptr[s + 1]):
                    best = area[s]
                    owner[r] = s
    order = np.empty(nr, dtype=np.int64)
    poly_ptr = np.zeros(len(shells) + 1, dtype=np.int64)
    at = 0
    for p, s in enumerate(shells):
        order[at] = s
        at += 1
        for r in range(nr):
            if owner[r] == s and r != s:
                order[at] = r
                at += 1
        poly_ptr[p + 1] = at
    return order[:at].copy(), poly_ptr


# ---------------------------------------------------------------------------------------------
# many areas in one call: the areas of a chunk, simplified and checked


@njit(cache=True, nogil=True, boundscheck=False)
def _grow_xy(a: np.ndarray, need: int) -> np.ndarray:  # pragma: no cover - compiled
    if need <= a.shape[0]:
        return a
    b = np.empty((max(need, 2 * a.shape[0]), 2))
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True, boundscheck=False)
def _grow_int(a: np.ndarray, need: int) -> np.ndarray:  # pragma: no cover - compiled
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _add_once(
    e: int, tag: int, stamp: np.ndarray, cand: np.ndarray, nc: int
) -> tuple[np.ndarray, int]:  # pragma: no cover - compiled
    """Edge ``e`` appended to ``cand[:nc]`` unless ``stamp[e] == tag`` already (then stamped)."""
    if stamp[e] != tag:
        stamp[e] = tag
        if nc == len(cand):
            cand = _grow_int(cand, nc + 1)
        cand[nc] = e
        nc += 1
    return cand, nc


@njit(cache=True, nogil=True, boundscheck=False)
def _seg_dist2(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Squared distance from a point to a segment (to its end when the segment is a point)."""
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0.0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / ll))
    ex, ey = px - ax - t * dx, py - ay - t * dy
    return ex * ex + ey * ey


@njit(cache=True, nogil=True, boundscheck=False)
def _dp_ring(
    xy: np.ndarray, a: int, b: int, tol: float, keep: np.ndarray, stack: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Douglas-Peucker of the closed ring ``xy[a:b]`` (last point = first); kept vertices.

    The ring is split at its first vertex and the vertex farthest from it, and each half is
    simplified (a vertex within ``tol`` of the chord of its section is dropped). Sets
    ``keep[0:b - a - 1]`` and returns how many distinct vertices are kept (< 3: collapsed).
    """
    n = b - a - 1
    far, dmax = 0, -1.0
    for k in range(1, n):
        ex, ey = xy[a + k, 0] - xy[a, 0], xy[a + k, 1] - xy[a, 1]
        d = ex * ex + ey * ey
        if d > dmax:
            far, dmax = k, d
    tol2 = tol * tol
    keep[:n] = False
    keep[0] = True
    if dmax <= tol2:
        return 1
    keep[far] = True
    top = 0
    stack[0], stack[1], stack[2], stack[3] = 0, far, far, n
    top = 2
    while top > 0:
        top -= 1
        i, j = stack[2 * top], stack[2 * top + 1]
        if j - i < 2:
            continue
        jj = a + (j % n)
        best, at = -1.0, i
        for k in range(i + 1, j):
            d = _seg_dist2(
                xy[a + k, 0], xy[a + k, 1], xy[a + i, 0], xy[a + i, 1], xy[jj, 0], xy[jj, 1]
            )
            if d > best:
                best, at = d, k
        if best > tol2:
            keep[at] = True
            stack[2 * top], stack[2 * top + 1] = i, at
            stack[2 * top + 2], stack[2 * top + 3] = at, j
            top += 2
    count = 0
    for k in range(n):
        count += keep[k]
    return count


@njit(cache=True, nogil=True, boundscheck=False)
def simplify_rings(
    xy: np.ndarray, ring_ptr: np.ndarray, poly_ptr: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Douglas-Peucker (:func:`_dp_ring`) of every ring of :func:`area_rings`' polygons.

    A hole that collapses (fewer than 3 vertices left) is dropped, and so is a polygon whose
    shell collapses, with its holes. The result may be invalid (rings crossing): see
    :func:`rings_valid`.
    """
    nr = len(ring_ptr) - 1
    longest = 0
    for r in range(nr):
        longest = max(longest, ring_ptr[r + 1] - ring_ptr[r])
    keep = np.empty(longest + 1, dtype=np.bool_)
    stack = np.empty(2 * longest + 8, dtype=np.int64)
    out_xy = np.empty_like(xy)
    out_ring = np.zeros(nr + 1, dtype=np.int64)
    out_poly = np.zeros(len(poly_ptr), dtype=np.int64)
    at, nro, npo = 0, 0, 0
    for p in range(len(poly_ptr) - 1):
        start_at, start_r = at, nro
        for r in range(poly_ptr[p], poly_ptr[p + 1]):
            a, b = ring_ptr[r], ring_ptr[r + 1]
            if _dp_ring(xy, a, b, tol, keep, stack) < 3:
                if r == poly_ptr[p]:
                    break  # the shell collapsed: the polygon goes
                continue
            first = at
            for k in range(b - a - 1):
                if keep[k]:
                    out_xy[at, 0], out_xy[at, 1] = xy[a + k, 0], xy[a + k, 1]
                    at += 1
            out_xy[at] = out_xy[first]
            at += 1
            nro += 1
            out_ring[nro] = at
        else:
            npo += 1
            out_poly[npo] = nro
            continue
        at, nro = start_at, start_r  # the collapsed shell's polygon is dropped
    return out_xy[:at].copy(), out_ring[: nro + 1].copy(), out_poly[: npo + 1].copy()


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _orient(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float
) -> int:  # pragma: no cover - compiled
    """Sign of the turn a -> b -> c: 1 left, -1 right, 0 too close to call in floating point."""
    left = (bx - ax) * (cy - ay)
    right = (by - ay) * (cx - ax)
    det = left - right
    bound = 1e-14 * (abs(left) + abs(right))  # Shewchuk's bound is 3.3e-16 x this sum
    if det > bound:
        return 1
    if det < -bound:
        return -1
    return 0


@njit(cache=True, nogil=True, boundscheck=False)
def _cross(xy: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover - compiled
    """Whether segments ``xy[i] -> xy[i + 1]`` and ``xy[j] -> xy[j + 1]`` may meet."""
    px, py, qx, qy = xy[i, 0], xy[i, 1], xy[i + 1, 0], xy[i + 1, 1]
    rx, ry, sx, sy = xy[j, 0], xy[j, 1], xy[j + 1, 0], xy[j + 1, 1]
    pad = 1e-9 * (abs(px) + abs(py) + 1.0)
    if min(px, qx) > max(rx, sx) + pad or min(rx, sx) > max(px, qx) + pad:
        return False
    if min(py, qy) > max(ry, sy) + pad or min(ry, sy) > max(py, qy) + pad:
        return False
    d1 = _orient(rx, ry, sx, sy, px, py)
    d2 = _orient(rx, ry, sx, sy, qx, qy)
    if d1 * d2 > 0:
        return False
    d3 = _orient(px, py, qx, qy, rx, ry)
    d4 = _orient(px, py, qx, qy, sx, sy)
    if d3 * d4 > 0:
        return False
    if d1 == 0 and d2 == 0 and d3 == 0 and d4 == 0:
        # (nearly) on one line: they meet if their extents along it overlap (with the pad)
        if abs(qx - px) + abs(sx - rx) >= abs(qy - py) + abs(sy - ry):
            return not (min(px, qx) > max(rx, sx) + pad or min(rx, sx) > max(px, qx) + pad)
        return not (min(py, qy) > max(ry, sy) + pad or min(ry, sy) > max(py, qy) + pad)
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def _in_ring(x: float, y: float, xy: np.ndarray, a: int, b: int) -> int:  # pragma: no cover
    """Point in the closed ring ``xy[a:b]``: 1 inside, 0 outside, -1 too close to call."""
    inside = False
    for k in range(a, b - 1):
        x1, y1, x2, y2 = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
        if (y1 > y) != (y2 > y):
            o = _orient(x1, y1, x2, y2, x, y)
            if o == 0:
                return -1
            if (o > 0) == (y2 > y1):
                inside = not inside
    return 1 if inside else 0


@njit(cache=True, nogil=True, boundscheck=False)
def _segments_apart(xy: np.ndarray, ring_ptr: np.ndarray) -> bool:  # pragma: no cover - compiled
    """No two segments of the rings meet, but consecutive ones of a ring at their vertex.

    Decided on a grid of cells (a pair of segments is tested in the cell of the lower-left
    corner of the overlap of their boxes); anything too close to call counts as meeting.
    """
    nr = len(ring_ptr) - 1
    ns = ring_ptr[nr] - nr  # segments: vertex k -> k + 1 within each ring
    if ns <= 0:
        return True
    xmin, ymin, xmax, ymax = np.inf, np.inf, -np.inf, -np.inf
    for k in range(ring_ptr[nr]):
        xmin, xmax = min(xmin, xy[k, 0]), max(xmax, xy[k, 0])
        ymin, ymax = min(ymin, xy[k, 1]), max(ymax, xy[k, 1])
    w, hgt = xmax - xmin, ymax - ymin
    size = max(np.sqrt(max(w * hgt, 1e-12) / ns), 1e-9 * (w + hgt) + 1e-9)
    nx = min(int(w / size) + 1, 4096)
    ny = min(int(hgt / size) + 1, 4096)
    cw, ch = w / nx + 1e-300, hgt / ny + 1e-300
    seg = np.empty(ns, dtype=np.int64)  # vertex index of each segment's start
    ring_of = np.empty(ns, dtype=np.int64)
    box = np.empty((ns, 4), dtype=np.int64)
    at = 0
    for r in range(nr):
        for k in range(ring_ptr[r], ring_ptr[r + 1] - 1):
            seg[at], ring_of[at] = k, r
            ax, ay, bx, by = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
            pad = 1e-9 * (abs(ax) + abs(ay) + 1.0)
            box[at, 0] = max(0, min(nx - 1, int((min(ax, bx) - pad - xmin) / cw)))
            box[at, 1] = max(0, min(ny - 1, int((min(ay, by) - pad - ymin) / ch)))
            box[at, 2] = max(0, min(nx - 1, int((max(ax, bx) + pad - xmin) / cw)))
            box[at, 3] = max(0, min(ny - 1, int((max(ay, by) + pad - ymin) / ch)))
            at += 1
    count = np.zeros(nx * ny + 1, dtype=np.int64)
    for s in range(ns):
        for cy in range(box[s, 1], box[s, 3] + 1):
            for cx in range(box[s, 0], box[s, 2] + 1):
                count[cy * nx + cx + 1] += 1
    for c in range(nx * ny):
        count[c + 1] += count[c]
    cell = np.empty(count[nx * ny], dtype=np.int64)
    fill = count[:-1].copy()
    for s in range(ns):
        for cy in range(box[s, 1], box[s, 3] + 1):
            for cx in range(box[s, 0], box[s, 2] + 1):
                cell[fill[cy * nx + cx]] = s
                fill[cy * nx + cx] += 1
    for c in range(nx * ny):
        cx, cy = c % nx, c // nx
        for u in range(count[c], count[c + 1]):
            s = cell[u]
            for v in range(u + 1, count[c + 1]):
                t = cell[v]
                if max(box[s, 0], box[t, 0]) != cx or max(box[s, 1], box[t, 1]) != cy:
                    continue  # tested in another cell
                if box[s, 0] > box[t, 2] or box[t, 0] > box[s, 2]:
                    continue
                if box[s, 1] > box[t, 3] or box[t, 1] > box[s, 3]:
                    continue
                i, j = min(seg[s], seg[t]), max(seg[s], seg[t])
                r = ring_of[s]
                if r == ring_of[t]:
                    last = ring_ptr[r + 1] - 2  # the ring's last segment
                    if j == i + 1 or (i == ring_ptr[r] and j == last):
                        # consecutive: they share a vertex; only a spike back is wrong
                        if j == i + 1:
                            a, m, b = i, j, j + 1
                        else:
                            a, m, b = j, j + 1, i + 1
                        o = _orient(xy[a, 0], xy[a, 1], xy[m, 0], xy[m, 1], xy[b, 0], xy[b, 1])
                        dot = (xy[m, 0] - xy[a, 0]) * (xy[b, 0] - xy[m, 0]) + (
                            xy[m, 1] - xy[a, 1]
                        ) * (xy[b, 1] - xy[m, 1])
                        if o == 0 and dot <= 0.0:
                            return False
                        continue
                if _cross(xy, i, j):
                    return False
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def _inside_other(
    xy: np.ndarray, ring_ptr: np.ndarray, box: np.ndarray, r: int, s: int
) -> int:  # pragma: no cover - compiled
    """Whether ring ``r`` lies inside ring ``s`` (rings that do not meet): 1, 0 or -1."""
    if box[r, 0] < box[s, 0] or box[r, 1] < box[s, 1] or box[r, 2] > box[s, 2]:
        return 0
    if box[r, 3] > box[s, 3]:
        return 0
    k = ring_ptr[r]
    return _in_ring(xy[k, 0], xy[k, 1], xy, ring_ptr[s], ring_ptr[s + 1])


@njit(cache=True, nogil=True, boundscheck=False)
def _holes_inside(
    xy: np.ndarray, ring_ptr: np.ndarray, shell: int, end: int
) -> bool:  # pragma: no cover - compiled
    """Whether the first vertex of every ring ``shell + 1 .. end - 1`` is inside ``shell``.

    :func:`_in_ring` for all of them in one pass over the shell's segments (the points sorted
    by y; each segment toggles the points level with it and to its left).
    """
    nh = end - shell - 1
    if nh <= 0:
        return True
    py = np.empty(nh)
    for h in range(nh):
        py[h] = xy[ring_ptr[shell + 1 + h], 1]
    order = np.argsort(py)
    ys = py[order]
    inside = np.zeros(nh, dtype=np.bool_)
    for k in range(ring_ptr[shell], ring_ptr[shell + 1] - 1):
        x1, y1, x2, y2 = xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1]
        lo = np.searchsorted(ys, min(y1, y2), side="left")
        hi = np.searchsorted(ys, max(y1, y2), side="left")
        for u in range(lo, hi):  # min(y1, y2) <= y < max(y1, y2): (y1 > y) != (y2 > y)
            k2 = ring_ptr[shell + 1 + order[u]]
            o = _orient(x1, y1, x2, y2, xy[k2, 0], xy[k2, 1])
            if o == 0:
                return False
            if (o > 0) == (y2 > y1):
                inside[order[u]] = not inside[order[u]]
    return bool(inside.all())


@njit(cache=True, nogil=True, boundscheck=False)
def _holes_apart(
    xy: np.ndarray, ring_ptr: np.ndarray, box: np.ndarray, h0: int, h1: int
) -> bool:  # pragma: no cover - compiled
    """No ring of ``h0 .. h1 - 1`` inside another (rings that do not meet).

    Only boxes that can hold one another are compared: ring ``g`` can hold ``h`` when its
    box's left side is between ``h``'s right side minus the widest box and ``h``'s left side.
    """
    nh = h1 - h0
    if nh < 2:
        return True
    left = np.empty(nh)
    widest = 0.0
    for u in range(nh):
        left[u] = box[h0 + u, 0]
        widest = max(widest, box[h0 + u, 2] - box[h0 + u, 0])
    order = np.argsort(left)
    xs = left[order]
    for u in range(nh):
        h = h0 + u
        lo = np.searchsorted(xs, box[h, 2] - widest, side="left")
        hi = np.searchsorted(xs, box[h, 0], side="right")
        for w in range(lo, hi):
            g = h0 + order[w]
            if g == h or box[h, 2] > box[g, 2] or box[h, 1] < box[g, 1] or box[h, 3] > box[g, 3]:
                continue
            if _inside_other(xy, ring_ptr, box, h, g) != 0:
                return False
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def rings_valid(
    xy: np.ndarray, ring_ptr: np.ndarray, poly_ptr: np.ndarray, nesting: bool
) -> bool:  # pragma: no cover - compiled
    """A sufficient test that the polygons of ``(xy, ring_ptr, poly_ptr)`` make a valid area.

    True only if every ring has at least 3 distinct vertices, no two segments meet (but
    consecutive ones of a ring, at their vertex) and, with ``nesting``, every hole is inside
    its shell and outside the polygon's other holes, and no polygon's shell is inside another
    polygon but in one of its holes: the OGC rules GEOS checks (rings that do not meet are
    either nested or apart, so one vertex tells which). False means "not shown valid" (the
    caller asks GEOS): near-touching rings, closer than floating point can call, count as
    meeting. Without ``nesting`` the rings are trusted to be nested as their grouping says
    (not so for every contour: :func:`polygon_rings` can give a hole to the wrong shell, seen
    on a 10 m grid, so :func:`chunk_areas` always checks the nesting).
    """
    nr = len(ring_ptr) - 1
    for r in range(nr):
        if ring_ptr[r + 1] - ring_ptr[r] < 4:
            return False
    if not _segments_apart(xy, ring_ptr):
        return False
    if not nesting:
        return True
    box = np.empty((nr, 4))
    for r in range(nr):
        box[r, 0], box[r, 1], box[r, 2], box[r, 3] = np.inf, np.inf, -np.inf, -np.inf
        for k in range(ring_ptr[r], ring_ptr[r + 1]):
            box[r, 0], box[r, 2] = min(box[r, 0], xy[k, 0]), max(box[r, 2], xy[k, 0])
            box[r, 1], box[r, 3] = min(box[r, 1], xy[k, 1]), max(box[r, 3], xy[k, 1])
    npoly = len(poly_ptr) - 1
    for p in range(npoly):
        shell = poly_ptr[p]
        if not _holes_inside(xy, ring_ptr, shell, poly_ptr[p + 1]):
            return False
        if not _holes_apart(xy, ring_ptr, box, shell + 1, poly_ptr[p + 1]):
            return False
        for q in range(npoly):
            if q == p:
                continue
            inside = _inside_other(xy, ring_ptr, box, shell, poly_ptr[q])
            if inside == -1:
                return False
            if inside == 1:
                in_hole = False
                for h in range(poly_ptr[q] + 1, poly_ptr[q + 1]):
                    got = _inside_other(xy, ring_ptr, box, shell, h)
                    if got == -1:
                        return False
                    in_hole = in_hole or got == 1
                if not in_hole:
                    return False
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def chunk_areas(
    xy: np.ndarray,
    seg: np.ndarray,
    bounds: np.ndarray,
    h: float,
    level: float,
    tol: float,
    simplify: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The areas of many groups of segments in one call (:func:`area_rings` for each).

    Group ``g`` is ``xy[bounds[g]:bounds[g + 1]]`` (with ``seg``). With ``simplify > 0`` the
    rings are simplified (:func:`simplify_rings`); an area not shown valid so is simplified
    again at half the tolerance, then at a quarter (the caller handles one still not shown
    valid: it is simplified at the last of them).

    Returns
    -------
    ring_xy, ring_ptr, poly_ptr, area_ptr, valid
        Ring ``r`` is ``ring_xy[ring_ptr[r]:ring_ptr[r + 1]]``, polygon ``p`` rings
        ``poly_ptr[p]:poly_ptr[p + 1]``, group ``g`` polygons ``area_ptr[g]:area_ptr[g + 1]``
        (none: an empty area); ``valid[g]``: shown valid by :func:`rings_valid` (and not
        emptied by the simplification).
    """
    k = len(bounds) - 1
    z = np.empty(0)
    succ = np.empty(0, dtype=np.int64)
    start = np.empty(0, dtype=np.int64)
    out_xy = np.empty((1024, 2))
    ring_ptr = np.zeros(64, dtype=np.int64)
    poly_ptr = np.zeros(64, dtype=np.int64)
    area_ptr = np.zeros(k + 1, dtype=np.int64)
    valid = np.ones(k, dtype=np.bool_)
    at, nr, npo = 0, 0, 0
    for g in range(k):
        a, b = bounds[g], bounds[g + 1]
        area_ptr[g + 1] = npo
        if a == b:
            continue
        x0, y0, ny, nx = grid_frame(xy[a:b], h, level + 1.5 * h)
        if len(z) < ny * nx:
            cells = max(ny * nx, len(z) * 5 // 4)
            z = np.empty(cells)
            succ = np.empty(2 * cells, dtype=np.int64)
            start = np.empty(2 * cells, dtype=np.int64)
        rxy, rptr, pptr = area_rings(
            xy[a:b], seg[a:b], h, level, tol, x0, y0, ny, nx, z, succ, start
        )
        if simplify > 0.0:
            had = len(pptr) > 1
            for halve in range(3):  # at the tolerance, else at a half, else at a quarter
                sxy, sptr, spp = simplify_rings(rxy, rptr, pptr, simplify / 2**halve)
                valid[g] = rings_valid(sxy, sptr, spp, True) and (len(spp) > 1 or not had)
                if valid[g]:
                    break
            rxy, rptr, pptr = sxy, sptr, spp
        else:
            valid[g] = rings_valid(rxy, rptr, pptr, True)
        m, mr, mp = len(rxy), len(rptr) - 1, len(pptr) - 1
        out_xy = _grow_xy(out_xy, at + m)
        ring_ptr = _grow_int(ring_ptr, nr + mr + 1)
        poly_ptr = _grow_int(poly_ptr, npo + mp + 1)
        out_xy[at : at + m] = rxy
        for r in range(mr):
            ring_ptr[nr + r + 1] = at + rptr[r + 1]
        for p in range(mp):
            poly_ptr[npo + p + 1] = nr + pptr[p + 1]
        at, nr, npo = at + m, nr + mr, npo + mp
        area_ptr[g + 1] = npo
    return (
        out_xy[:at].copy(),
        ring_ptr[: nr + 1].copy(),
        poly_ptr[: npo + 1].copy(),
        area_ptr,
        valid,
    )


# ---------------------------------------------------------------------------------------------
# the reached street pieces of many groups, compiled (the vectorised numpy of
# isochrones._reached_intervals and isochrones._piece_vertices, one group at a time)


@njit(cache=True, nogil=True, boundscheck=False)
def running_length(
    xy: np.ndarray, ptr: np.ndarray, seg: np.ndarray
) -> np.ndarray:  # pragma: no cover
    """Length along its own line at every vertex of lines ``xy[ptr[e]:ptr[e + 1]]``.

    ``seg[k]``: the length from vertex ``k - 1`` to ``k`` (``numpy.hypot``); summed vertex by
    vertex from 0 at every line's first vertex, as ``isochrones._running_length`` does.
    """
    cum = np.zeros(len(xy))
    for e in range(len(ptr) - 1):
        for k in range(ptr[e] + 1, ptr[e + 1]):
            cum[k] = cum[k - 1] + seg[k]
    return cum


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _bisect(cum: np.ndarray, lo: int, hi: int, a: float, right: bool) -> int:  # pragma: no cover
    """``numpy.searchsorted(cum[lo:hi], a, side) + lo`` (``right``: first ``cum > a``)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if (cum[mid] > a) if right else (cum[mid] >= a):
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True, boundscheck=False)
def _emit_piece(
    gxy: np.ndarray, cum: np.ndarray, fa: int, la: int, f0: float, f1: float,
    out: np.ndarray, at: int,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """Write the vertices of the part of line ``gxy[fa:la + 1]`` between fractions f0 <= f1.

    The arithmetic of ``isochrones._substring_coords``, point by point.
    """
    c0, c1 = cum[fa], cum[la]
    a0 = c0 if f0 <= 0.0 else (c1 if f0 >= 1.0 else c0 + f0 * (c1 - c0))
    a1 = c0 if f1 <= 0.0 else (c1 if f1 >= 1.0 else c0 + f1 * (c1 - c0))
    for end in range(2):
        a = a0 if end == 0 else a1
        j = _bisect(cum, fa, la + 1, a, True) - 1
        j = min(max(j, fa), max(la - 1, fa))
        jn = min(j + 1, la)
        span = cum[jn] - cum[j]
        t = (a - cum[j]) / span if span > 0 else 0.0
        t = min(max(t, 0.0), 1.0)
        x = gxy[j, 0] + t * (gxy[jn, 0] - gxy[j, 0])
        y = gxy[j, 1] + t * (gxy[jn, 1] - gxy[j, 1])
        if end == 0:
            out[at, 0], out[at, 1] = x, y
            at += 1
            i_lo = min(max(_bisect(cum, fa, la + 1, a0, True), fa + 1), la)
            i_hi = min(max(_bisect(cum, fa, la + 1, a1, False), i_lo), la)
            for i in range(i_lo, i_hi):
                out[at, 0], out[at, 1] = gxy[i, 0], gxy[i, 1]
                at += 1
        else:
            out[at, 0], out[at, 1] = x, y
            at += 1
    return at


@njit(cache=True, nogil=True, boundscheck=False)
def chunk_pieces(
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    geom: tuple[np.ndarray, np.ndarray, np.ndarray],
    reach: tuple[np.ndarray, np.ndarray, np.ndarray],
    seeds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    band: float,
    dist_ws: np.ndarray,
    stamp_ws: np.ndarray,
    stamp0: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The reached street pieces of every group, as the segments :func:`chunk_areas` takes.

    Parameters
    ----------
    net
        ``(indptr, arc_edge, edge_u, edge_v, edge_length)`` of the walking network.
    geom
        ``(xy, ptr, cum)``: every edge's vertices, edge ``e`` at ``ptr[e]:ptr[e + 1]``, and
        :func:`running_length`.
    reach
        ``(ptr, node, dist)``: group ``g`` reaches ``node[ptr[g]:ptr[g + 1]]`` (the bounded
        search's rows).
    seeds
        ``(ptr, edge, offset, access)``: group ``g``'s points snapped onto edges,
        ``ptr[g]:ptr[g + 1]``; each reaches its own edge directly.
    band
        Metres.
    dist_ws, stamp_ws
        Workspaces of ``n_nodes`` floats (all ``inf``, left so) and ``n_edges`` ints (any
        values below ``stamp0``; group ``g`` writes ``stamp0 + g``).

    Returns
    -------
    xy, seg, bounds
        Group ``g``'s vertices ``xy[bounds[g]:bounds[g + 1]]``; ``seg[k]``: vertex ``k``
        starts a segment to ``k + 1``. The same segments as ``isochrones._reached_intervals``
        then ``isochrones._piece_vertices`` (merged intervals cut exactly), piece by piece.
    """
    indptr, arc_edge, edge_u, edge_v, edge_length = net
    gxy, gptr, cum = geom
    r_ptr, r_node, r_dist = reach
    s_ptr, s_edge, s_offset, s_access = seeds
    k = len(r_ptr) - 1
    out = np.empty((4096, 2))
    seg = np.zeros(4096, dtype=np.bool_)
    bounds = np.zeros(k + 1, dtype=np.int64)
    cand = np.empty(1024, dtype=np.int64)
    ilo = np.empty(64)
    ihi = np.empty(64)
    at = 0
    for g in range(k):
        tag = stamp0 + g
        nc = 0
        for q in range(r_ptr[g], r_ptr[g + 1]):
            if r_dist[q] <= band:
                dist_ws[r_node[q]] = r_dist[q]
        for q in range(r_ptr[g], r_ptr[g + 1]):
            if r_dist[q] > band:
                continue
            node = r_node[q]
            for arc in range(indptr[node], indptr[node + 1]):
                cand, nc = _add_once(arc_edge[arc], tag, stamp_ws, cand, nc)
        for s in range(s_ptr[g], s_ptr[g + 1]):
            cand, nc = _add_once(s_edge[s], tag, stamp_ws, cand, nc)
        for c in range(nc):
            e = cand[c]
            length = edge_length[e]
            m = 0
            ru = band - dist_ws[edge_u[e]]
            if ru >= 0:
                ilo[m], ihi[m] = 0.0, min(ru, length)
                m += 1
            rv = band - dist_ws[edge_v[e]]
            if rv >= 0:
                ilo[m], ihi[m] = max(length - rv, 0.0), length
                m += 1
            for s in range(s_ptr[g], s_ptr[g + 1]):
                r0 = band - s_access[s]
                if s_edge[s] != e or not r0 >= 0:
                    continue
                if m == len(ilo):
                    ilo, ihi = np.concatenate((ilo, ilo)), np.concatenate((ihi, ihi))
                ilo[m] = min(max(s_offset[s] - r0, 0.0), length)
                ihi[m] = min(max(s_offset[s] + r0, 0.0), length)
                m += 1
            if m == 0:
                continue
            for u in range(1, m):  # insertion sort by lo (stable)
                v = u
                while v > 0 and ilo[v - 1] > ilo[v]:
                    ilo[v - 1], ilo[v] = ilo[v], ilo[v - 1]
                    ihi[v - 1], ihi[v] = ihi[v], ihi[v - 1]
                    v -= 1
            fa, la = gptr[e], gptr[e + 1] - 1
            u = 0
            while u < m:  # a run: intervals starting within the running maximum
                lo, hi = ilo[u], ihi[u]
                u += 1
                while u < m and not ilo[u] > hi:
                    hi = max(hi, ihi[u])
                    u += 1
                if at + la - fa + 3 > len(seg):  # (a call per piece would cost more)
                    out = _grow_xy(out, at + la - fa + 3)
                    seg = _grow_int(seg, at + la - fa + 3)
                first = at
                if lo <= 0.0 and hi >= length:
                    for i in range(fa, la + 1):
                        out[at, 0], out[at, 1] = gxy[i, 0], gxy[i, 1]
                        at += 1
                else:
                    f0 = lo / length if length > 0 else 0.0
                    f1 = hi / length if length > 0 else 0.0
                    at = _emit_piece(gxy, cum, fa, la, f0, f1, out, at)
                seg[first : at - 1] = True
                seg[at - 1] = False
        for q in range(r_ptr[g], r_ptr[g + 1]):
            dist_ws[r_node[q]] = np.inf
        bounds[g + 1] = at
    return out[:at].copy(), seg[:at].copy(), bounds


@njit(cache=True, nogil=True, boundscheck=False)
def areas_wkb(
    xy: np.ndarray, ring_ptr: np.ndarray, poly_ptr: np.ndarray, area_ptr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Every area of :func:`chunk_areas` as WKB (little endian, 2D), in one buffer.

    Area ``g`` is ``buf[off[g]:off[g + 1]]``: a Polygon when it has one polygon, else a
    MultiPolygon (none: zero bytes; the caller makes an empty Polygon).
    """
    k = len(area_ptr) - 1
    size = 0
    for g in range(k):
        p0, p1 = area_ptr[g], area_ptr[g + 1]
        if p1 - p0 > 1:
            size += 9
        for p in range(p0, p1):
            size += 9
            for r in range(poly_ptr[p], poly_ptr[p + 1]):
                size += 4 + 16 * (ring_ptr[r + 1] - ring_ptr[r])
    buf = np.empty(size, dtype=np.uint8)
    off = np.zeros(k + 1, dtype=np.int64)
    word = np.empty(1, dtype=np.uint32)
    wbytes = word.view(np.uint8)
    at = 0
    for g in range(k):
        p0, p1 = area_ptr[g], area_ptr[g + 1]
        heads = (p1 - p0 > 1, True)
        for p in range(p0, p1):
            for level in range(2):
                if level == 0 and not (p == p0 and heads[0]):
                    continue
                buf[at] = 1  # little endian
                word[0] = 6 if level == 0 else 3  # MultiPolygon, Polygon
                buf[at + 1 : at + 5] = wbytes
                word[0] = (p1 - p0) if level == 0 else (poly_ptr[p + 1] - poly_ptr[p])
                buf[at + 5 : at + 9] = wbytes
                at += 9
            for r in range(poly_ptr[p], poly_ptr[p + 1]):
                a, b = ring_ptr[r], ring_ptr[r + 1]
                word[0] = b - a
                buf[at : at + 4] = wbytes
                at += 4
                coords = np.ascontiguousarray(xy[a:b]).view(np.uint8).ravel()
                buf[at : at + len(coords)] = coords
                at += len(coords)
        off[g + 1] = at
    return buf, off
