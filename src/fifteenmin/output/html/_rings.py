"""Polygons' rings read from their WKB by compiled code, small holes left out on the way.

The city layout encodes tens of thousands of walking areas with hundreds of thousands of small
holes (a synthetic city's blocks) that the page leaves out. Reading the rings through
shapely (``get_parts`` / ``get_rings`` / ``get_coordinates``) makes one GEOS geometry per
ring; :func:`kept_rings` reads the same rings and coordinates from one WKB buffer and
measures each hole as :func:`fifteenmin.output.html.city_data._ring_areas` does (the same
float operations in the same order), so that the encoded lines are the same bytes.

numba is optional: without it the function runs as plain (slow) Python; the caller then uses
shapely instead.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely

from ..._kernel_jit import HAVE_NUMBA, njit

__all__ = ["HAVE_NUMBA", "json_geometries", "kept_rings"]


@njit(cache=True, nogil=True, boundscheck=False)
def _u32(buf: np.ndarray, at: int) -> Any:  # pragma: no cover - compiled
    return (
        np.int64(buf[at])
        | (np.int64(buf[at + 1]) << 8)
        | (np.int64(buf[at + 2]) << 16)
        | (np.int64(buf[at + 3]) << 24)
    )


@njit(cache=True, nogil=True, boundscheck=False)
def _walk(
    buf: np.ndarray,
    starts: np.ndarray,
    min_area: float,
    keep: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    scratch: np.ndarray,
) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """One pass over the WKB of every geometry: marks the rings to keep, or fills ``out``.

    Without ``out``: ``keep[r]`` is set for every ring ``r`` (in WKB order) but the holes (a
    polygon's rings after its first) whose shoelace area is below ``min_area``, measured on
    the ring's coordinates copied into ``scratch`` (float64, aligned: WKB's doubles are
    not). With ``out``: the kept rings are copied into it. Returns (parts, kept rings, kept
    coordinates).
    """
    raw = scratch.view(np.uint8)
    n_part = 0
    n_ring = 0
    n_xy = 0
    ring = 0
    for g in range(starts.shape[0] - 1):
        at = starts[g]
        kind = _u32(buf, at + 1)
        at += 5
        polys = 1
        if kind == 6:  # MultiPolygon: a count, then Polygons with their own headers
            polys = _u32(buf, at)
            at += 4
        for _ in range(polys):
            if kind == 6:
                at += 5
            rings = _u32(buf, at)
            at += 4
            for r in range(rings):
                npts = _u32(buf, at)
                at += 4
                if out is None:
                    keep[ring] = True
                    if r > 0 and min_area > 0:
                        for b in range(16 * npts):
                            raw[b] = buf[at + b]
                        keep[ring] = _area(scratch, npts) >= min_area
                elif keep[ring]:
                    xy, coord_ring, ring_part, _ = out
                    dest = xy.reshape(-1).view(np.uint8)
                    for b in range(16 * npts):
                        dest[16 * n_xy + b] = buf[at + b]
                    coord_ring[n_xy : n_xy + npts] = n_ring
                    ring_part[n_ring] = n_part
                if keep[ring]:
                    n_xy += npts
                    n_ring += 1
                ring += 1
                at += 16 * npts
            if out is not None:
                out[3][n_part] = g
            n_part += 1
    return n_part, n_ring, n_xy


@njit(cache=True, nogil=True, boundscheck=False)
def _area(xs: np.ndarray, npts: int) -> float:  # pragma: no cover - compiled
    """The shoelace area of a closed ring (``xs``: x0, y0, x1, y1, ...), about its first point.

    The float operations of :func:`fifteenmin.output.html.city_data._ring_areas`, in its order.
    """
    x0 = xs[0]
    y0 = xs[1]
    s = 0.0
    for k in range(npts - 1):
        s += (xs[2 * k] - x0) * (xs[2 * k + 3] - y0) - (xs[2 * k + 2] - x0) * (xs[2 * k + 1] - y0)
    return abs(s) / 2


def kept_rings(
    geoms: np.ndarray, min_hole_m2: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rings of 2-D (Multi)Polygons without holes under ``min_hole_m2`` (in their CRS).

    Returns ``(xy, coord_ring, ring_part, part_geom)``: the kept rings' coordinates, the kept
    ring of each coordinate, the part (polygon) of each kept ring and the geometry of each
    part, as :func:`shapely.get_coordinates`, :func:`shapely.get_rings` and
    :func:`shapely.get_parts` give them with ``return_index=True`` after the small holes are
    removed. ``geoms`` must be non-empty Polygons or MultiPolygons.

    Examples
    --------
    >>> import shapely
    >>> outer = [(0, 0), (100, 0), (100, 100), (0, 100)]
    >>> p = shapely.Polygon(outer, [[(10, 10), (12, 10), (12, 12)]])
    >>> xy, coord_ring, ring_part, part_geom = kept_rings(np.array([p]), 10.0)
    >>> len(xy), ring_part.tolist(), part_geom.tolist()
    (5, [0], [0])
    """
    wkb = shapely.to_wkb(geoms, output_dimension=2, byte_order=1)
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    starts = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    buf = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    scratch = np.empty(len(buf) // 8 + 1)  # room for any ring's coordinates
    keep = np.zeros(len(buf) // 4 + 1, dtype=np.bool_)  # a ring takes 4 bytes at least
    parts, rings, coords = _walk(buf, starts, float(min_hole_m2), keep, None, scratch)
    out = (
        np.empty((coords, 2)),
        np.empty(coords, np.int64),
        np.empty(rings, np.int64),
        np.empty(parts, np.int64),
    )
    _walk(buf, starts, float(min_hole_m2), keep, out, scratch)
    return out


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _put_int(buf: np.ndarray, at: int, v: int, digits: np.ndarray) -> int:  # pragma: no cover
    """Write the decimal text of ``v`` (as ``str(int)``) at ``buf[at]``; returns the end."""
    if v < 0:
        buf[at] = 45  # "-"
        at += 1
        v = -v
    n = 0
    while True:
        digits[n] = 48 + v % 10
        n += 1
        v //= 10
        if v == 0:
            break
    for k in range(n):
        buf[at + k] = digits[n - 1 - k]
    return at + n


@njit(cache=True, nogil=True, boundscheck=False)
def _json_rings(
    flat: np.ndarray,
    starts: np.ndarray,
    emit: np.ndarray,
    exterior: np.ndarray,
    owner: np.ndarray,
    n_geoms: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The JSON text of every geometry's polygons (see :func:`json_geometries`), in one buffer.

    Geometry ``g`` is ``buf[off[g]:off[g + 1]]`` (ASCII; empty when none of its rings is
    emitted).
    """
    nr = len(emit)
    buf = np.empty(21 * len(flat) + 8 * nr + 16, dtype=np.uint8)
    off = np.zeros(n_geoms + 1, dtype=np.int64)
    digits = np.empty(24, dtype=np.uint8)
    at = 0
    r = 0
    for g in range(n_geoms):
        poly_open = False
        while r < nr and owner[r] == g:
            if emit[r]:
                if exterior[r]:
                    buf[at] = 93 if poly_open else 91  # "]" closes a polygon, "[" opens g
                    at += 1
                    if poly_open:
                        buf[at] = 44  # ","
                        at += 1
                    buf[at] = 91  # "[" opens a polygon
                    at += 1
                    poly_open = True
                else:
                    buf[at] = 44
                    at += 1
                buf[at] = 91
                at += 1
                for k in range(starts[r], starts[r + 1]):
                    if k > starts[r]:
                        buf[at] = 44
                        at += 1
                    at = _put_int(buf, at, flat[k], digits)
                buf[at] = 93
                at += 1
            r += 1
        if poly_open:
            buf[at] = 93
            buf[at + 1] = 93
            at += 2
        off[g + 1] = at
    return buf[:at], off


def json_geometries(
    flat: np.ndarray,
    counts: np.ndarray,
    exterior: np.ndarray,
    owner: np.ndarray,
    n_geoms: int,
) -> list[str]:
    """Rings of delta-encoded integers as each geometry's JSON text, written by compiled code.

    Ring ``r`` is the next ``counts[r]`` integers of ``flat``, of geometry ``owner[r]``
    (non-decreasing); ``exterior[r]``: it starts a polygon, else it is a hole of the last one.
    Rings of fewer than 6 integers (3 points) are left out, and so are the holes of a polygon
    whose exterior is. The text of a geometry is ``json.dumps`` of its list of polygons
    (each a list of rings, each a list of integers) with ``separators=(",", ":")``, the same
    bytes; ``""`` for a geometry without a polygon.

    Examples
    --------
    >>> json_geometries(np.arange(-2, 8), np.array([6, 4]), np.array([True, False]),
    ...                 np.array([1, 1]), 3)
    ['', '[[[-2,-1,0,1,2,3]]]', '']
    """
    counts = np.asarray(counts, dtype=np.int64)
    exterior = np.asarray(exterior, dtype=np.bool_)
    owner = np.asarray(owner, dtype=np.int64)
    if not len(counts) == len(exterior) == len(owner) or counts.sum() != len(flat):
        raise ValueError(
            f"json_geometries: {len(counts)} ring counts (of {counts.sum()} integers, "
            f"{len(flat)} given), {len(exterior)} exterior flags and {len(owner)} owners of rings"
        )
    if len(owner) and (owner.min() < 0 or owner.max() >= n_geoms or np.any(np.diff(owner) < 0)):
        raise ValueError("json_geometries: the rings' owners must be sorted geometries")
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    ext = np.maximum.accumulate(np.where(exterior, np.arange(len(counts)), 0))  # r's exterior
    emit = (counts >= 6) & (counts[ext] >= 6) if len(counts) else np.zeros(0, np.bool_)
    buf, off = _json_rings(
        np.ascontiguousarray(flat, dtype=np.int64),
        starts,
        emit,
        exterior,
        owner,
        int(n_geoms),
    )
    text = buf.tobytes().decode("ascii")
    bounds = off.tolist()
    return [text[a:b] for a, b in itertools.pairwise(bounds)]
