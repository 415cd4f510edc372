"""Facilities: OSM features matched to the items of a service catalogue.

A facility is one OSM element (node, way or multipolygon) that matches one catalogue item; an
element that matches several items (a supermarket that is also a convenience store in the
catalogue's sense) gives one row per item. Point features reach the network at their
location; polygon features (parks, schools, hospitals) reach it through their entrances
(``entrance=*`` or gate nodes on the boundary) when mapped, else through points spaced along
their boundary, never only through their centroid.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._osm import OSMData, read_osm
from .catalogue import Catalogue, load_catalogue

if TYPE_CHECKING:
    import pyproj

__all__ = [
    "FACILITY_COLUMNS",
    "access_points",
    "entrances_from_osm",
    "facilities_from_osm",
    "facilities_from_polygon",
    "facility_counts",
]

FACILITY_COLUMNS = ["facility_id", "item_id", "name", "osm_type", "osm_id", "geometry"]

#: Spacing in metres of the access points placed along a polygon's boundary.
BOUNDARY_SPACING_M = 25.0


def _local_area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Area in m² of WGS-84 geometries (0 for points and lines), in a local UTM projection."""
    if len(geoms) == 0:
        return np.zeros(0)
    utm = geoms.estimate_utm_crs()
    return np.asarray(geoms.to_crs(utm).area, dtype=np.float64)


def _match_features(features: gpd.GeoDataFrame, catalogue: Catalogue) -> gpd.GeoDataFrame:
    """Match tagged features against every item of a catalogue."""
    if len(features) == 0:
        return gpd.GeoDataFrame(
            {c: [] for c in FACILITY_COLUMNS[:-1]}, geometry=[], crs="EPSG:4326"
        )
    area = _local_area_m2(features.geometry)
    is_area = np.asarray(shapely.get_type_id(features.geometry.values) >= 3)  # (multi)polygons
    rows: list[int] = []
    items: list[str] = []
    for i, (tags, a, poly) in enumerate(zip(features["tags"], area, is_area, strict=True)):
        for item_id in catalogue.match(tags, float(a) if poly else None):
            rows.append(i)
            items.append(item_id)
    out = features.iloc[rows].reset_index(drop=True)
    out.insert(0, "item_id", items)
    # stable, deterministic order: catalogue order, then OSM type and id
    order_of = {it.id: k for k, it in enumerate(catalogue.items)}
    out["_k"] = out["item_id"].map(order_of)
    out = out.sort_values(["_k", "osm_type", "osm_id"], kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    out.insert(0, "facility_id", np.arange(len(out), dtype=np.int64))
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def facilities_from_osm(
    data: str | os.PathLike[str] | OSMData, catalogue: str | Catalogue = "beijing"
) -> gpd.GeoDataFrame:
    """Find the facilities of every catalogue item in an OSM file.

    Parameters
    ----------
    data
        An OSM file path, or :class:`~fifteenmin._osm.OSMData` already read.
    catalogue
        A catalogue name, file, or :class:`~fifteenmin.catalogue.Catalogue`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id`` (0..n-1), ``item_id``, ``name``, ``osm_type``, ``osm_id``, ``tags``
        and the feature's geometry (EPSG:4326), sorted by catalogue item then OSM id.

    Examples
    --------
    >>> from fifteenmin import facilities_from_osm, sample_path
    >>> fac = facilities_from_osm(sample_path(), "beijing")
    >>> (fac["item_id"] == "pharmacy").sum() > 0
    True
    """
    cat = load_catalogue(catalogue)
    if not isinstance(data, OSMData):
        data = read_osm(data, keys=cat.osm_keys())
    return _match_features(data.features, cat)


def facilities_from_polygon(
    polygon: shapely.Geometry, catalogue: str | Catalogue = "beijing"
) -> gpd.GeoDataFrame:
    """Download the facilities of every catalogue item inside a WGS-84 polygon (osmnx).

    Parameters
    ----------
    polygon
        The study area in WGS-84.
    catalogue
        A catalogue name, file, or :class:`~fifteenmin.catalogue.Catalogue`.

    Returns
    -------
    geopandas.GeoDataFrame
        The same columns as :func:`facilities_from_osm`.

    Examples
    --------
    >>> from shapely import box
    >>> fac = facilities_from_polygon(box(24.935, 60.164, 24.953, 60.179))  # doctest: +SKIP
    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    cat = load_catalogue(catalogue)
    try:
        gdf = ox.features_from_polygon(polygon, tags=cat.osmnx_tags())
    except InsufficientResponseError:
        gdf = gpd.GeoDataFrame({"tags": []}, geometry=[], crs="EPSG:4326")
        return _match_features(gdf.assign(osm_type=[], osm_id=[], name=[]), cat)
    gdf = gdf.reset_index()
    tag_cols = [c for c in gdf.columns if c not in ("element", "id", "geometry", "nodes", "ways")]
    values = gdf[tag_cols].astype(object).where(gdf[tag_cols].notna(), None).to_numpy()
    tags = [
        {k: str(v) for k, v in zip(tag_cols, row, strict=True) if v is not None} for row in values
    ]
    features = gpd.GeoDataFrame(
        {
            "osm_type": gdf["element"].astype(str).to_numpy(),
            "osm_id": gdf["id"].astype(np.int64).to_numpy(),
            "name": [t.get("name", t.get("name:zh", "")) for t in tags],
            "tags": tags,
        },
        geometry=gdf.geometry.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    return _match_features(features, cat)


def entrances_from_osm(data: OSMData) -> gpd.GeoSeries:
    """Entrance and gate nodes (``entrance=*``, ``barrier=gate|entrance``) of an OSM file.

    Examples
    --------
    >>> entrances_from_osm(read_osm(sample_path())).geom_type.unique()  # doctest: +SKIP
    array(['Point'], dtype=object)
    """
    f = data.features
    if len(f) == 0:
        return gpd.GeoSeries([], crs="EPSG:4326")
    mask = (
        np.array(
            [
                ("entrance" in t or t.get("barrier") in ("gate", "entrance", "turnstile"))
                for t in f["tags"]
            ],
            dtype=bool,
        )
        & (f["osm_type"] == "node").to_numpy()
    )
    return f.geometry[mask].reset_index(drop=True)


def access_points(
    facilities: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    entrances: gpd.GeoSeries | None = None,
    spacing_m: float = BOUNDARY_SPACING_M,
    entrance_tolerance_m: float = 2.0,
) -> pd.DataFrame:
    """Points where each facility meets the street network.

    Points stay as they are; a line uses its vertices; a polygon uses the entrances that lie
    on its boundary (within ``entrance_tolerance_m``) when there are any, else points every
    ``spacing_m`` metres along its exterior boundary (at least 4).

    Parameters
    ----------
    facilities
        From :func:`facilities_from_osm` (any CRS).
    crs
        The metric CRS to return points in (the network's).
    entrances
        Entrance points (any CRS), e.g. from :func:`entrances_from_osm`.
    spacing_m
        Spacing of boundary points.
    entrance_tolerance_m
        How close to the boundary an entrance must be.

    Returns
    -------
    pandas.DataFrame
        ``facility`` (row position in ``facilities``), ``x``, ``y`` in ``crs``.

    Examples
    --------
    >>> pts = access_points(fac, net.crs)  # doctest: +SKIP
    """
    if len(facilities) == 0:
        return pd.DataFrame({"facility": np.zeros(0, np.int64), "x": [], "y": []})
    geoms = np.asarray(facilities.geometry.to_crs(crs).values, dtype=object)
    tid = shapely.get_type_id(geoms)
    fac_idx: list[np.ndarray] = []
    pts: list[np.ndarray] = []

    point_mask = np.isin(tid, (0, 4))  # Point, MultiPoint
    if point_mask.any():
        idx = np.flatnonzero(point_mask)
        c, ci = shapely.get_coordinates(geoms[idx], return_index=True)
        fac_idx.append(idx[ci])
        pts.append(c)
    line_mask = np.isin(tid, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    if line_mask.any():
        idx = np.flatnonzero(line_mask)
        c, ci = shapely.get_coordinates(geoms[idx], return_index=True)
        fac_idx.append(idx[ci])
        pts.append(c)
    poly_mask = np.isin(tid, (3, 6))
    if poly_mask.any():
        idx = np.flatnonzero(poly_mask)
        polys = geoms[idx]
        bounds = shapely.boundary(polys)
        has_entrance = np.zeros(len(idx), dtype=bool)
        if entrances is not None and len(entrances) > 0:
            ent = np.asarray(entrances.to_crs(crs).values, dtype=object)
            tree = shapely.STRtree(ent)
            pi, ei = tree.query(bounds, predicate="dwithin", distance=entrance_tolerance_m)
            if len(pi):
                fac_idx.append(idx[pi])
                pts.append(shapely.get_coordinates(ent[ei]))
                has_entrance[np.unique(pi)] = True
        rest = ~has_entrance
        if rest.any():
            # exterior rings of every part: one cannot walk in through a hole
            part_polys, part_owner = shapely.get_parts(polys[rest], return_index=True)
            rings = shapely.get_exterior_ring(part_polys)
            lengths = shapely.length(rings)
            n_pts = np.maximum(4, np.ceil(lengths / spacing_m).astype(np.int64))
            owner = np.repeat(part_owner, n_pts)
            k = np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
            dist = k * np.repeat(lengths / n_pts, n_pts)
            p = shapely.line_interpolate_point(np.repeat(rings, n_pts), dist)
            fac_idx.append(idx[np.flatnonzero(rest)[owner]])
            pts.append(shapely.get_coordinates(p))
    facility = np.concatenate(fac_idx).astype(np.int64)
    xy = np.concatenate(pts)
    out = pd.DataFrame({"facility": facility, "x": xy[:, 0], "y": xy[:, 1]})
    return out.sort_values(["facility", "x", "y"], kind="stable").reset_index(drop=True)


def facility_counts(facilities: gpd.GeoDataFrame, catalogue: str | Catalogue) -> pd.DataFrame:
    """Number of facilities per catalogue item (zero rows included).

    Examples
    --------
    >>> facility_counts(fac, "beijing").head()  # doctest: +SKIP
    """
    cat = load_catalogue(catalogue)
    counts = facilities["item_id"].value_counts() if len(facilities) else pd.Series(dtype=int)
    return pd.DataFrame(
        {
            "item_id": [it.id for it in cat.items],
            "item_name_zh": [it.name_zh for it in cat.items],
            "item_name_en": [it.name_en for it in cat.items],
            "facilities": [int(counts.get(it.id, 0)) for it in cat.items],
        }
    )
