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
        for i in range(i0, i1 + 1):
            py = y0 + i * h - ay
            row = z2[i]
            for j in range(j0, j1 + 1):
                px = x0 + j * h - ax
                t = min(1.0, max(0.0, (px * dx + py * dy) * inv))
                ex = px - t * dx
                ey = py - t * dy
                row[j] = min(row[j], ex * ex + ey * ey)


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
    for j in range(nx):
        above[j] = z2[0, j] < lv2
    for i in range(ny - 1):
        below, above = above, below
        for j in range(nx):
            above[j] = z2[i + 1, j] < lv2
        for j in range(nx - 1):
            n_in = below[j] + below[j + 1] + above[j] + above[j + 1]
            if n_in == 0 or n_in == 4:
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
        ll = np.hypot(dx, dy)
        if ll > 0.0 and abs((px[k] - px[a]) * dy - (py[k] - py[a]) * dx) <= tol * ll:
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
