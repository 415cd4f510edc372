"""Geometry helpers shared by the stages: points placed along lines.

Residents along streets (every 50 m), facility boundaries without entrances (every 25 m)
and siting candidates along streets (every ``spacing_m``) all place points along lines the
same way; this module is the one implementation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely

__all__ = ["line_parts", "points_along"]


def line_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (multi)line parts of ``geoms`` with a positive length, and the index of their owner.

    Points and polygons among the parts (from an intersection) are dropped.

    Examples
    --------
    >>> g = np.array([shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 0), (2, 0)]])])
    >>> parts, owner = line_parts(g)
    >>> len(parts), owner.tolist()
    (1, [0])
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (1, 2))
    parts, owner = parts[keep], owner[keep]
    keep = shapely.length(parts) > 0
    return parts[keep], owner[keep]


def points_along(
    lines: np.ndarray,
    spacing: float,
    *,
    minimum: int = 1,
    rounding: Literal["floor", "ceil"] = "floor",
    centred: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points spaced evenly along every line.

    Each line of length ``L`` gets ``n = max(minimum, floor(L / spacing))`` points (``ceil``
    with ``rounding="ceil"``), ``L / n`` apart: at the centres of the ``n`` equal pieces
    (``centred``), or at their starts (``centred=False``, for closed rings).

    Parameters
    ----------
    lines
        Shapely (multi)lines or linear rings.
    spacing
        Target distance between points, in the lines' units.
    minimum
        Fewest points per line.
    rounding
        How ``L / spacing`` becomes a whole number of points.
    centred
        Points at the centres of the pieces, else at their starts.

    Returns
    -------
    points : numpy.ndarray
        Shapely points, line by line.
    owner : numpy.ndarray
        Index into ``lines`` of each point.
    step : numpy.ndarray
        Length of the piece each point stands for (``L / n``).

    Examples
    --------
    >>> pts, owner, step = points_along(np.array([shapely.LineString([(0, 0), (100, 0)])]), 40)
    >>> shapely.get_x(pts).tolist(), owner.tolist(), step.tolist()
    ([25.0, 75.0], [0, 0], [50.0, 50.0])
    """
    lengths = shapely.length(lines)
    ratio = lengths / spacing
    whole = np.floor(ratio) if rounding == "floor" else np.ceil(ratio)
    n = np.maximum(minimum, whole.astype(np.int64))
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    step = np.repeat(lengths / n, n)
    offset = (k + 0.5) * step if centred else k * step
    points = shapely.line_interpolate_point(np.repeat(lines, n), offset)
    return points, np.repeat(np.arange(len(lines)), n), step
