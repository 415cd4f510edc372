"""Candidate sites for new facilities: network nodes, street points, the user's own layer."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import settings
from .._errors import LayerError
from .._geom import line_parts, points_along
from ..network import WalkNetwork, as_points, snap_points

if TYPE_CHECKING:
    pass

__all__ = ["CANDIDATE_COLUMNS", "candidate_sites", "node_candidates"]

#: Columns every candidate table has (user columns follow, then ``geometry``).
CANDIDATE_COLUMNS = ("candidate", "source", "node_id", "input_index", "lon", "lat")

# --------------------------------------------------------------------------------------------
# candidate sites


def _as_geoseries(obj: Any, what: str) -> gpd.GeoSeries:
    """A GeoDataFrame/GeoSeries (with CRS) or bare shapely geometries (WGS-84) as a GeoSeries."""
    if isinstance(obj, gpd.GeoDataFrame):
        obj = obj.geometry
    if isinstance(obj, gpd.GeoSeries):
        if obj.crs is None:
            raise LayerError(
                f"the {what} have no coordinate reference system: set one, e.g. "
                "gdf.set_crs('EPSG:4326') (the CRS the coordinates are really in)."
            )
        return obj
    if isinstance(obj, shapely.Geometry):
        obj = [obj]
    return gpd.GeoSeries(list(obj), crs="EPSG:4326")


def _area_union(net: WalkNetwork, areas: Any) -> shapely.Geometry | None:
    """Union of the area polygons in ``net.crs`` (prepared), or None."""
    if areas is None:
        return None
    g = _as_geoseries(areas, "areas").to_crs(net.crs)
    geoms = np.asarray(g.values, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
    if len(polys) == 0:
        raise LayerError(
            "the areas hold no polygons (found "
            f"{sorted(set(shapely.get_type_id(geoms).tolist()))} geometry type ids): candidate "
            "areas must be Polygon or MultiPolygon features."
        )
    union = shapely.union_all(shapely.make_valid(polys))
    shapely.prepare(union)
    return union


def _empty_candidates(net: WalkNetwork) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "candidate": np.zeros(0, np.int64),
            "source": np.zeros(0, dtype=object),
            "node_id": pd.array([], dtype="Int64"),
            "input_index": np.zeros(0, dtype=object),
            "lon": np.zeros(0),
            "lat": np.zeros(0),
        },
        geometry=gpd.GeoSeries([], crs=net.crs),
        crs=net.crs,
    )


def candidate_sites(
    net: WalkNetwork,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    points: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    spacing_m: float | None = None,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
) -> gpd.GeoDataFrame:
    """Candidate sites for new facilities, in a deterministic order.

    Without ``points``: every network node inside ``areas`` (every node when ``areas`` is
    None), in the network's node order, then — with ``spacing_m`` — points every ``spacing_m``
    metres along the streets inside the areas (edge order, then along the edge). With
    ``points`` (the user's candidate layer: vacant lots, ground floors; polygons stand for
    a point on their surface): those points, in their order, kept only inside ``areas``
    when given. Candidates are later snapped onto their nearest street like facilities.

    Parameters
    ----------
    net
        The walking network.
    areas
        Polygons (GeoDataFrame/GeoSeries in any CRS; bare shapely geometries are read as
        WGS-84) that candidates must lie in (boundary included).
    points
        The user's candidate layer (any CRS). Its columns are kept.
    spacing_m
        Also place candidates every ``spacing_m`` metres along the streets (network
        candidates only).
    max_snap_m
        User points farther than this from every street cannot be reached (a warning).

    Returns
    -------
    geopandas.GeoDataFrame
        In ``net.crs``: ``candidate`` (0..n-1, equal to the row position), ``source``
        (``"node"``, ``"street"`` or ``"input"``), ``node_id`` (OSM id of node candidates,
        else missing), ``input_index`` (row label in ``points``), ``lon``, ``lat``, the
        user's columns, and the point geometry.

    Raises
    ------
    LayerError
        A layer without CRS, areas without polygons.

    Examples
    --------
    >>> from shapely import box
    >>> cands = candidate_sites(net, areas=box(24.93, 60.16, 24.95, 60.17))  # doctest: +SKIP
    >>> cands["source"].unique().tolist()  # doctest: +SKIP
    ['node']
    """
    area = _area_union(net, areas)
    if points is not None:
        if spacing_m is not None:
            raise ValueError("spacing_m places street candidates; it cannot be used with points")
        geoms, cols = _input_candidates(net, area, points, max_snap_m)
    else:
        if spacing_m is not None and not (np.isfinite(spacing_m) and spacing_m > 0):
            raise ValueError(f"spacing_m must be a positive number of metres, got {spacing_m}")
        geoms, cols = _network_candidates(net, area, spacing_m)
    if len(geoms) == 0:
        return _empty_candidates(net)
    cols.insert(0, "candidate", np.arange(len(geoms), dtype=np.int64))
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=net.crs), crs=net.crs)


def node_candidates(net: WalkNetwork, nodes: np.ndarray) -> gpd.GeoDataFrame:
    """Rows ``nodes`` of ``candidate_sites(net)`` (every node), without making the others.

    The same columns, values and index labels as ``candidate_sites(net).iloc[nodes]``.
    """
    sel = np.asarray(nodes, dtype=np.int64)
    cols = pd.DataFrame(
        {
            "candidate": sel.copy(),
            "source": np.full(len(sel), "node", dtype=object),
            "node_id": pd.arrays.IntegerArray(
                np.asarray(net.node_id[sel], dtype=np.int64), np.zeros(len(sel), dtype=bool)
            ),
            "input_index": np.full(len(sel), None, dtype=object),
            "lon": net.lon[sel].astype(np.float64),
            "lat": net.lat[sel].astype(np.float64),
        },
        index=sel,
    )
    points = gpd.GeoSeries(shapely.points(net.x[sel], net.y[sel]), index=sel, crs=net.crs)
    return gpd.GeoDataFrame(cols, geometry=points, crs=net.crs)


def _to_wgs(net: WalkNetwork, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    to_wgs = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _input_candidates(
    net: WalkNetwork,
    area: shapely.Geometry | None,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    max_snap_m: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    """The user's candidate points inside the area, and their columns (see candidate_sites)."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            f"points must be a GeoDataFrame or GeoSeries with a CRS, got {type(points).__name__}"
        )
    layer = gpd.GeoDataFrame(geometry=points) if isinstance(points, gpd.GeoSeries) else points
    geoms = as_points(net, layer).copy()  # net.crs; raises on a missing CRS
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    not_point = ok & (shapely.get_type_id(geoms) != 0)
    geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    if area is not None:
        ok &= shapely.intersects(area, geoms)
    keep = np.flatnonzero(ok)
    geoms = geoms[keep]
    if len(geoms):
        far = snap_points(net, geoms).access > max_snap_m
        if far.any():
            warnings.warn(
                f"{int(far.sum())} candidate points lie more than {max_snap_m:g} m from "
                "every walkable street: they cannot be reached and will not be chosen.",
                stacklevel=3,
            )
    extra = layer.drop(columns=[layer.geometry.name]).iloc[keep]
    extra = extra.drop(columns=[c for c in extra.columns if c in CANDIDATE_COLUMNS])
    lon, lat = _to_wgs(net, shapely.get_x(geoms), shapely.get_y(geoms))
    cols = pd.DataFrame(
        {
            "source": np.full(len(geoms), "input", dtype=object),
            "node_id": pd.array([pd.NA] * len(geoms), dtype="Int64"),
            "input_index": np.asarray(layer.index[keep], dtype=object),
            "lon": lon,
            "lat": lat,
        }
    )
    return geoms, pd.concat([cols, extra.reset_index(drop=True)], axis=1)


def _network_candidates(
    net: WalkNetwork, area: shapely.Geometry | None, spacing_m: float | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Network nodes inside the area, then points every ``spacing_m`` along its streets."""
    if area is None:
        sel = np.arange(net.n_nodes)
    else:
        sel = np.flatnonzero(shapely.intersects(area, shapely.points(net.x, net.y)))
    xs, ys, lons, lats = [net.x[sel]], [net.y[sel]], [net.lon[sel]], [net.lat[sel]]
    source = [np.full(len(sel), "node", dtype=object)]
    ids = [np.asarray(net.node_id[sel], dtype=np.int64)]  # street points: missing (masked)
    if spacing_m is not None:
        lines = net.edge_geometry
        if area is not None:
            hit = np.flatnonzero(shapely.intersects(area, lines))
            lines = shapely.intersection(lines[hit], area)
        pts, _, _ = points_along(line_parts(lines)[0], spacing_m)
        xs.append(shapely.get_x(pts))
        ys.append(shapely.get_y(pts))
        lon, lat = _to_wgs(net, xs[-1], ys[-1])
        lons.append(lon)
        lats.append(lat)
        source.append(np.full(len(pts), "street", dtype=object))
        ids.append(np.zeros(len(pts), dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    cols = pd.DataFrame(
        {
            "source": np.concatenate(source),
            "node_id": pd.arrays.IntegerArray(np.concatenate(ids), np.arange(len(x)) >= len(sel)),
            "input_index": np.full(len(x), None, dtype=object),
            "lon": np.concatenate(lons).astype(np.float64),
            "lat": np.concatenate(lats).astype(np.float64),
        }
    )
    return shapely.points(x, y), cols
