"""Nearest street edge of many points: a uniform grid of segments and compiled exact distances.

:func:`fifteenmin.network.snap_points` snaps a point onto the edge nearest to it (the smallest
edge index among equally near ones), with the straight-line distance (``access``) and the
position along the edge. It used to ask shapely (GEOS) for every point: ``STRtree
.query_nearest`` (all equally near edges) then ``line_locate_point``. Here the same answer is
computed without a Python object per point:

* the edges' segments go into a uniform grid (a segment in every cell its bounding box
  overlaps, the cell side chosen from the number of segments and the area);
* a point visits the cells ring by ring around its own; after each ring the distance from the
  point to the outside of the rings visited bounds every segment not seen yet, and the search
  stops when the nearest distance found is below that bound (by more than :data:`_SLACK`
  metres, far more than any rounding); a point not settled after :data:`MAX_RINGS` rings is
  reported and left to GEOS;
* the distances are GEOS's own arithmetic, operation for operation, so they are equal to the
  bit: point to segment as ``geos::algorithm::Distance::pointToSegment`` (the distance of a
  point to a line is the minimum over its segments, as ``DistanceOp``), the position along the
  edge as ``LengthIndexOfPoint::indexOf`` (``GEOSProject``, shapely's ``line_locate_point``) and
  the line's length as ``Length::ofLine`` (GEOS 3.14; numba does not fuse multiply-adds, so
  every product and sum rounds as in the compiled C++). ``tests/test_snap.py`` checks the
  results against shapely on real extracts, synthetic cities and adversarial points.

The workers release the GIL and run on plain threads, one chunk of points each; every point
is independent, so results do not depend on threads. Without numba the loops would run as
plain Python: ``snap_points`` then keeps to GEOS (``HAVE_NUMBA`` is False).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ._kernel_jit import HAVE_NUMBA, njit, numba, run_workers

__all__ = [
    "HAVE_NUMBA",
    "MAX_RINGS",
    "SegmentGrid",
    "nearest_edges",
    "points_along_lines",
    "segment_grid",
    "warmup",
]

MAX_RINGS = 24
"""Rings of cells a point searches before it is left to GEOS (far from every street)."""

_SLACK = 1e-3
"""Metres by which the nearest distance must beat the bound on the unseen segments."""

_CELLS_PER_SEGMENT = 0.5  # grid cells per segment (about two segments per cell)


@dataclass(frozen=True, eq=False)
class SegmentGrid:
    """The segments of a set of lines in a uniform grid.

    Attributes
    ----------
    x, y
        Coordinates of every vertex of every line (float64), line after line.
    line_ptr
        Line ``e`` has the vertices ``line_ptr[e]:line_ptr[e+1]`` (int64).
    vertex_line
        The line of every vertex (int32).
    x0, y0, cell
        Lower left corner and side of the grid, metres.
    nx, ny
        Columns and rows.
    cell_ptr
        Cell ``c = row * nx + col`` holds the segments ``cell_seg[cell_ptr[c]:cell_ptr[c+1]]``.
    cell_seg
        Segments by cell, each as the index of its first vertex (int32).
    """

    x: np.ndarray
    y: np.ndarray
    line_ptr: np.ndarray
    vertex_line: np.ndarray
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    cell_ptr: np.ndarray
    cell_seg: np.ndarray


def segment_grid(lines: Any) -> SegmentGrid:
    """Build the :class:`SegmentGrid` of an array of shapely lines (empty ones have none).

    Examples
    --------
    >>> from shapely import LineString
    >>> g = segment_grid([LineString([(0, 0), (10, 0)]), LineString([(0, 5), (0, 9), (4, 9)])])
    >>> g.line_ptr.tolist(), g.vertex_line.tolist()
    ([0, 2, 5], [0, 0, 1, 1, 1])
    """
    lines = np.asarray(lines, dtype=object)
    xy, which = shapely.get_coordinates(lines, return_index=True)
    n_lines = len(lines)
    line_ptr = np.zeros(n_lines + 1, np.int64)
    np.cumsum(np.bincount(which, minlength=n_lines), out=line_ptr[1:])
    x = np.ascontiguousarray(xy[:, 0])
    y = np.ascontiguousarray(xy[:, 1])
    vertex_line = which.astype(np.int32)
    # segment j joins vertices j and j + 1 of the same line
    seg = np.flatnonzero(vertex_line[:-1] == vertex_line[1:]).astype(np.int32)
    if seg.size == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        empty = np.zeros(1, np.int64)
        return SegmentGrid(x, y, line_ptr, vertex_line, 0.0, 0.0, 1.0, 0, 0, empty, seg)
    x0, y0 = float(x.min()) - 1.0, float(y.min()) - 1.0
    w, h = float(x.max()) - x0 + 1.0, float(y.max()) - y0 + 1.0
    cell = max(math.sqrt(w * h / (_CELLS_PER_SEGMENT * seg.size)), 1.0)
    nx, ny = int(w // cell) + 1, int(h // cell) + 1
    cell_ptr = np.zeros(nx * ny + 1, np.int64)
    _count_cells(x, y, seg, x0, y0, cell, nx, ny, cell_ptr)
    np.cumsum(cell_ptr, out=cell_ptr)
    cell_seg = np.empty(int(cell_ptr[-1]), np.int32)
    _fill_cells(x, y, seg, x0, y0, cell, nx, ny, cell_ptr, cell_seg)
    return SegmentGrid(x, y, line_ptr, vertex_line, x0, y0, cell, nx, ny, cell_ptr, cell_seg)


def nearest_edges(
    grid: SegmentGrid, px: np.ndarray, py: np.ndarray, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The nearest line of every point, as ``snap_points`` defines it, where the grid settles it.

    Parameters
    ----------
    grid
        From :func:`segment_grid`.
    px, py
        Point coordinates (float64), in the lines' CRS.
    threads
        Worker threads (default: numba's setting).

    Returns
    -------
    line : numpy.ndarray
        int64 index of the nearest line (the smallest among equally near ones), -1 where
        not settled.
    dist : numpy.ndarray
        GEOS's point-line distance to it.
    along : numpy.ndarray
        GEOS's ``project`` of the point onto it (metres from its start).
    length : numpy.ndarray
        GEOS's length of the line.
    settled : numpy.ndarray
        Boolean: False for points with a non-finite coordinate, points farther than
        :data:`MAX_RINGS` rings of cells from being settled and every point when the grid is
        empty; those are for GEOS.

    Examples
    --------
    >>> import numpy as np
    >>> from shapely import LineString
    >>> g = segment_grid([LineString([(0, 0), (10, 0)]), LineString([(0, 5), (0, 9), (4, 9)])])
    >>> line, dist, along, length, ok = nearest_edges(g, np.array([3.0, 2.0]), np.array([1.0, 8.0]))
    >>> line.tolist(), dist.tolist(), along.tolist(), length.tolist(), ok.tolist()
    ([0, 1], [1.0, 1.0], [3.0, 6.0], [10.0, 8.0], [True, True])
    """
    px = np.ascontiguousarray(px, dtype=np.float64)
    py = np.ascontiguousarray(py, dtype=np.float64)
    n = px.shape[0]
    line = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    along = np.zeros(n)
    length = np.zeros(n)
    if n == 0 or grid.nx == 0:
        return line, dist, along, length, np.zeros(n, bool)
    nthreads = max(1, min(_threads(threads), n // 4096 + 1))
    bounds = np.linspace(0, n, nthreads + 1).astype(np.int64)
    g = (grid.x, grid.y, grid.line_ptr, grid.vertex_line, grid.cell_ptr, grid.cell_seg)
    geo = np.array([grid.x0, grid.y0, grid.cell, _SLACK])
    dims = np.array([grid.nx, grid.ny, MAX_RINGS], np.int64)
    out = (line, dist, along, length)
    calls = [
        (g, geo, dims, px, py, int(bounds[t]), int(bounds[t + 1]), out) for t in range(nthreads)
    ]
    run_workers(_nearest_worker, calls)
    return line, dist, along, length, line >= 0


def points_along_lines(
    x: np.ndarray, y: np.ndarray, line_ptr: np.ndarray, spacing: float, minimum: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``spacing`` along lines given as vertex arrays, as GEOS places them.

    The points of :func:`fifteenmin._geom.points_along` with ``rounding="ceil"`` and
    ``centred=False`` (a line of length ``L`` gets ``n = max(minimum, ceil(L / spacing))``
    points at ``k * (L / n)``, ``k = 0 .. n - 1``), computed bit for bit as shapely does
    (``length``: ``Length::ofLine``; ``line_interpolate_point``: ``LengthIndexedLine
    .extractPoint``) but without a geometry per point. Lines without vertices get no points.

    Parameters
    ----------
    x, y
        Vertex coordinates (float64), line after line.
    line_ptr
        Line ``i`` has the vertices ``line_ptr[i]:line_ptr[i+1]`` (int64).
    spacing
        Target distance between points (``> 0``).
    minimum
        Fewest points per line.

    Returns
    -------
    px, py : numpy.ndarray
        The points' coordinates, line by line.
    owner : numpy.ndarray
        int64 index of each point's line.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 5.0], [0.0, 25.0], [40.0, 25.0]])
    >>> px, py, owner = points_along_lines(xy[:, 0], xy[:, 1], np.array([0, 2, 5]), 40.0, 4)
    >>> px.tolist(), owner.tolist()
    ([0.0, 25.0, 50.0, 75.0, 0.0, 0.0, 10.0, 25.0], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> py.tolist()[4:]
    [5.0, 20.0, 25.0, 25.0]
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    line_ptr = np.ascontiguousarray(line_ptr, dtype=np.int64)
    count = np.zeros(len(line_ptr), np.int64)
    step = np.zeros(max(len(line_ptr) - 1, 0))
    _count_line_points(x, y, line_ptr, float(spacing), int(minimum), count, step)
    np.cumsum(count, out=count)
    px = np.empty(int(count[-1]))
    py = np.empty(int(count[-1]))
    _fill_line_points(x, y, line_ptr, count, step, px, py)
    owner = np.repeat(np.arange(len(step), dtype=np.int64), np.diff(count))
    return px, py, owner


def warmup() -> None:
    """Compile (or load from numba's cache) the workers on two lines and two points.

    Examples
    --------
    >>> warmup()
    """
    if HAVE_NUMBA:
        lines = [
            shapely.LineString([(0, 0), (10, 0)]),
            shapely.LineString([(0, 5), (0, 9), (4, 9)]),
        ]
        g = segment_grid(np.array(lines, dtype=object))
        nearest_edges(g, np.array([3.0, 2.0]), np.array([1.0, 8.0]), threads=1)
        points_along_lines(g.x, g.y, g.line_ptr, 4.0, 4)  # boundary points (access_points)


def _threads(threads: int | None) -> int:
    """Worker threads: ``threads``, or numba's setting (1 without numba)."""
    if not HAVE_NUMBA:
        return 1
    return max(1, int(threads) if threads is not None else int(numba.get_num_threads()))


# ---------------------------------------------------------------------------------------------
# compiled parts


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _cell_range(a: float, b: float, lo: float, cell: float, n: int) -> tuple[int, int]:
    """Cells ``[i, j]`` (clipped to ``[0, n)``) overlapped by the interval ``[a, b]``."""
    i = int(np.floor((a - lo) / cell - 1e-9))
    j = int(np.floor((b - lo) / cell + 1e-9))
    return max(i, 0), min(j, n - 1)


@njit(cache=True, nogil=True, boundscheck=False)
def _count_cells(
    x: np.ndarray,
    y: np.ndarray,
    seg: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    count: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``count[c + 1]``: segments whose bounding box overlaps cell ``c``."""
    for s in range(seg.shape[0]):
        j = seg[s]
        i0, i1 = _cell_range(min(x[j], x[j + 1]), max(x[j], x[j + 1]), x0, cell, nx)
        k0, k1 = _cell_range(min(y[j], y[j + 1]), max(y[j], y[j + 1]), y0, cell, ny)
        for k in range(k0, k1 + 1):
            for i in range(i0, i1 + 1):
                count[k * nx + i + 1] += 1


@njit(cache=True, nogil=True, boundscheck=False)
def _fill_cells(
    x: np.ndarray,
    y: np.ndarray,
    seg: np.ndarray,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    cell_ptr: np.ndarray,
    cell_seg: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Put every segment into the cells its bounding box overlaps (in segment order)."""
    fill = cell_ptr[:-1].copy()
    for s in range(seg.shape[0]):
        j = seg[s]
        i0, i1 = _cell_range(min(x[j], x[j + 1]), max(x[j], x[j + 1]), x0, cell, nx)
        k0, k1 = _cell_range(min(y[j], y[j + 1]), max(y[j], y[j + 1]), y0, cell, ny)
        for k in range(k0, k1 + 1):
            for i in range(i0, i1 + 1):
                c = k * nx + i
                cell_seg[fill[c]] = j
                fill[c] += 1


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _point_distance(
    px: float, py: float, ax: float, ay: float
) -> float:  # pragma: no cover - compiled
    """``geos::geom::CoordinateXY::distance`` (``p.distance(A)``)."""
    dx = px - ax
    dy = py - ay
    return math.sqrt(dx * dx + dy * dy)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _point_segment(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> float:  # pragma: no cover - compiled
    """``geos::algorithm::Distance::pointToSegment(p, A, B)``, operation for operation."""
    if ax == bx and ay == by:
        return _point_distance(px, py, ax, ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / (
        (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    )
    if r <= 0.0:
        return _point_distance(px, py, ax, ay)
    if r >= 1.0:
        return _point_distance(px, py, bx, by)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / (
        (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    )
    return abs(s) * math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay))


@njit(cache=True, nogil=True, boundscheck=False)
def _locate(
    x: np.ndarray, y: np.ndarray, a: int, b: int, px: float, py: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """GEOS ``project`` of the point onto the line of vertices ``a:b``, and its length.

    ``LengthIndexOfPoint::indexOfFromStart`` with ``minIndex = -1`` (first segment of the
    smallest distance; the measure from ``LineSegment::projectionFactor``) and
    ``Length::ofLine``.
    """
    min_dist = np.inf
    measure = -1.0
    start = 0.0
    for j in range(a, b - 1):
        x1, y1, x2, y2 = x[j], y[j], x[j + 1], y[j + 1]
        d = _point_segment(px, py, x1, y1, x2, y2)
        seg_len = _point_distance(x1, y1, x2, y2)
        if px == x1 and py == y1:
            f = 0.0
        elif px == x2 and py == y2:
            f = 1.0
        elif x1 == x2 and y1 == y2:
            f = 0.0
        else:
            dx = x2 - x1
            dy = y2 - y1
            f = ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)
        if f <= 0.0:
            m = start
        elif f <= 1.0:
            m = start + f * seg_len
        else:
            m = start + seg_len
        if d < min_dist and m > -1.0:
            measure = m
            min_dist = d
        start += seg_len
    return measure, _line_length(x, y, a, b)


@njit(cache=True, nogil=True, boundscheck=False)
def _line_length(x: np.ndarray, y: np.ndarray, a: int, b: int) -> float:  # pragma: no cover
    """GEOS ``Length::ofLine`` of the line of vertices ``a:b``."""
    total = 0.0
    for j in range(a + 1, b):
        dx = x[j] - x[j - 1]
        dy = y[j] - y[j - 1]
        total += math.sqrt(dx * dx + dy * dy)
    return total


@njit(cache=True, nogil=True, boundscheck=False)
def _count_line_points(
    x: np.ndarray,
    y: np.ndarray,
    line_ptr: np.ndarray,
    spacing: float,
    minimum: int,
    count: np.ndarray,
    step: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``count[i + 1]``: points of line ``i`` (none without vertices); ``step[i]``: their gap."""
    for i in range(line_ptr.shape[0] - 1):
        a, b = line_ptr[i], line_ptr[i + 1]
        if b == a:
            continue
        length = _line_length(x, y, a, b)
        n = max(minimum, int(np.ceil(length / spacing)))
        count[i + 1] = n
        step[i] = length / n


@njit(cache=True, nogil=True, boundscheck=False)
def _fill_line_points(
    x: np.ndarray,
    y: np.ndarray,
    line_ptr: np.ndarray,
    start: np.ndarray,
    step: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """The points of every line, ``start[i]:start[i+1]`` for line ``i``.

    The point at ``d = k * step`` is GEOS's ``LengthIndexedLine.extractPoint(d)``: the first
    vertex for ``d <= 0``; else on the first segment whose end lies beyond ``d``
    (``LengthLocationMap::getLocationForward``, the running length summed as there), at the
    fraction ``(d - before) / segment`` (``LinearLocation::pointAlongSegmentByFraction``);
    the last vertex when no segment ends beyond ``d``. ``d`` grows with ``k``, so one walk
    along the line serves all its points.
    """
    for i in range(line_ptr.shape[0] - 1):
        a, b = line_ptr[i], line_ptr[i + 1]
        seg = a
        before = 0.0
        seg_len = 0.0
        for o in range(start[i], start[i + 1]):
            d = (o - start[i]) * step[i]
            if d <= 0.0:
                px[o], py[o] = x[a], y[a]
                continue
            while seg < b - 1:
                seg_len = _point_distance(x[seg + 1], y[seg + 1], x[seg], y[seg])
                if before + seg_len > d:
                    break
                before += seg_len
                seg += 1
            if seg >= b - 1:
                px[o], py[o] = x[b - 1], y[b - 1]
                continue
            frac = (d - before) / seg_len
            if frac <= 0.0:
                px[o], py[o] = x[seg], y[seg]
            elif frac >= 1.0:
                px[o], py[o] = x[seg + 1], y[seg + 1]
            else:
                px[o] = (x[seg + 1] - x[seg]) * frac + x[seg]
                py[o] = (y[seg + 1] - y[seg]) * frac + y[seg]


@njit(cache=True, nogil=True, boundscheck=False)
def _scan_cell(
    g: tuple, c: int, px: float, py: float, best: float, best_line: int
) -> tuple[float, int]:  # pragma: no cover - compiled
    """Nearest (distance, smallest line) after the segments of cell ``c``."""
    x, y, _, vertex_line, cell_ptr, cell_seg = g
    for k in range(cell_ptr[c], cell_ptr[c + 1]):
        j = cell_seg[k]
        d = _point_segment(px, py, x[j], y[j], x[j + 1], y[j + 1])
        if d < best or (d == best and vertex_line[j] < best_line):
            best = d
            best_line = vertex_line[j]
    return best, best_line


@njit(cache=True, nogil=True, boundscheck=False)
def _nearest_one(
    g: tuple, geo: np.ndarray, dims: np.ndarray, px: float, py: float
) -> tuple[float, int]:  # pragma: no cover - compiled
    """(distance, line) of the nearest line, or (inf, -1) if not settled within the rings."""
    x0, y0, cell, slack = geo[0], geo[1], geo[2], geo[3]
    nx, ny, max_rings = dims[0], dims[1], dims[2]
    fx = np.floor((px - x0) / cell)
    fy = np.floor((py - y0) / cell)
    if not (-max_rings - 1 <= fx <= nx + max_rings and -max_rings - 1 <= fy <= ny + max_rings):
        return np.inf, -1  # too far outside the grid
    cx = int(fx)
    cy = int(fy)
    best = np.inf
    best_line = 1 << 62
    for r in range(max_rings + 1):
        for k in range(max(cy - r, 0), min(cy + r, ny - 1) + 1):
            if k == cy - r or k == cy + r:  # a full row of the ring
                for i in range(max(cx - r, 0), min(cx + r, nx - 1) + 1):
                    best, best_line = _scan_cell(g, k * nx + i, px, py, best, best_line)
            else:  # its two ends
                if 0 <= cx - r < nx:
                    best, best_line = _scan_cell(g, k * nx + cx - r, px, py, best, best_line)
                if r > 0 and 0 <= cx + r < nx:
                    best, best_line = _scan_cell(g, k * nx + cx + r, px, py, best, best_line)
        # every segment not seen lies outside the block of cells visited
        bound = np.inf
        if cx - r > 0:
            bound = min(bound, px - (x0 + (cx - r) * cell))
        if cx + r + 1 < nx:
            bound = min(bound, x0 + (cx + r + 1) * cell - px)
        if cy - r > 0:
            bound = min(bound, py - (y0 + (cy - r) * cell))
        if cy + r + 1 < ny:
            bound = min(bound, y0 + (cy + r + 1) * cell - py)
        if bound == np.inf or best + slack < bound:
            if best < np.inf:
                return best, best_line
            return np.inf, -1  # pragma: no cover - a grid always has segments
    return np.inf, -1


@njit(cache=True, nogil=True, boundscheck=False)
def _nearest_worker(
    g: tuple,
    geo: np.ndarray,
    dims: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    lo: int,
    hi: int,
    out: tuple,
) -> None:  # pragma: no cover - compiled
    """Points ``lo:hi``: nearest line, its distance, the point's position along it, its length."""
    x, y, line_ptr = g[0], g[1], g[2]
    line, dist, along, length = out
    for p in range(lo, hi):
        qx, qy = px[p], py[p]
        if not (math.isfinite(qx) and math.isfinite(qy)):
            continue
        d, e = _nearest_one(g, geo, dims, qx, qy)
        if e < 0:
            continue
        line[p] = e
        dist[p] = d
        along[p], length[p] = _locate(x, y, line_ptr[e], line_ptr[e + 1], qx, qy)
