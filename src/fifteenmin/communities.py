"""Communities (社区, residential compounds) and their residents as weighted origin points.

Communities come from the user's vector file (:func:`communities_from_file`), or are derived
from the OSM file (:func:`communities_from_osm`), in this order of preference:

1. ``boundary=administrative`` + ``admin_level=10`` polygons (Beijing's 社区居委会 level), when
   they assemble into polygons that hold at least half of the network's nodes;
2. ``landuse=residential`` areas (in Beijing, mostly the named compounds, 小区);
3. a regular grid over the network (cells holding at least one network node).

Residents (:func:`residents`) are origin points with weights: residential building footprints
inside the community (weight = footprint area x ``building:levels``, i.e. floor area in m²)
when there are any, else points every 50 m along the streets inside it (weight = metres of
street each point stands for), else the community's representative point.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import CommunityFileError, ConfigError, LayerError, LayerTypeError, require_type
from ._geom import line_parts, points_along
from ._osm import OSMData
from ._progress import logger
from .network import WalkNetwork
from .readers import (
    PopulationRaster,
    is_raster,
    read_community_layer,
    read_population_layer,
    read_population_raster,
)
from .validate import (
    MAX_LISTED,
    Rows,
    check_degrees,
    check_feature_extent,
    check_people,
    check_reach,
    community_ids,
    community_name_column,
    people_counts,
    plural,
    polygons_only,
    repaired,
    warn,
)

if TYPE_CHECKING:
    import pyproj

__all__ = [
    "RESIDENTIAL_BUILDINGS",
    "assign_districts",
    "built_year",
    "communities_from_file",
    "communities_from_frame",
    "communities_from_osm",
    "districts_from_file",
    "districts_from_osm",
    "residents",
    "residents_from_population",
    "with_types",
]

#: ``building=*`` values counted as homes everywhere. ``building=yes`` counts only inside a
#: ``landuse=residential`` area (or a community derived from one).
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
        "cabin",
        "farm",
        "houseboat",
        "static_caravan",
    }
)
_NON_RESIDENTIAL_KEYS = ("amenity", "shop", "office", "tourism", "craft", "industrial")
_NON_RESIDENTIAL = frozenset(_NON_RESIDENTIAL_KEYS)
#: Unit of the weight of each kind of origin made by :func:`residents`. Weights of different
#: units are comparable within a community (it has one kind) but not across communities;
#: :func:`fifteenmin.coverage.score_coverage` reports no resident-weighted coverage rate then.
WEIGHT_UNITS = {"building": "m2_floor_area", "street": "m_street", "centroid": "point"}
#: The command-line options of the column parameters, named in messages.
_OPTIONS = {
    "id_column": "--id-column",
    "name_column": "--name-column",
    "value_column": "--population-column",
    "elderly_column": "--elderly-column",
    "children_column": "--children-column",
    "type_column": "--community-type-column",
}
_DEGREES_FIX = (
    "Set the CRS the coordinates are really in (in QGIS: Layer > Set CRS; in Python: "
    "gdf.set_crs(..., allow_override=True)); a GeoJSON file must hold longitudes and latitudes."
)


def communities_from_file(
    path: str | os.PathLike[str],
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    layer: str | int | None = None,
    type_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read community polygons from a vector file (GeoJSON, GeoPackage, Shapefile, …).

    The file is read by :func:`fifteenmin.readers.read_community_layer` and checked by
    :func:`communities_from_frame`.

    Parameters
    ----------
    path
        The file; any CRS (it must declare one).
    id_column
        Column holding a unique id; default: the row number.
    name_column
        Column holding the name; default: ``name`` if present, else the id.
    layer
        Layer of a multi-layer file (GeoPackage).
    type_column
        Column holding the community type (分类指导, e.g. 老旧小区), read into
        ``community_type``; default: a column named like one of
        :data:`settings.COMMUNITY_TYPE_COLUMNS` if there is one.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id`` (str), ``community_name`` (str), ``source`` ("file"), with a type
        column ``community_type`` (str, ``""`` where empty), and polygons in EPSG:4326.

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    CommunityFileError
        No polygons, no CRS, unknown column, duplicate ids.

    Examples
    --------
    >>> com = communities_from_file("communities.geojson", name_column="名称")  # doctest: +SKIP
    """
    gdf, where = read_community_layer(path, layer)
    type_column = _type_column(gdf, type_column, where)
    return _checked_communities(gdf, id_column, name_column, where, Rows("feature"), type_column)


def _type_column(gdf: gpd.GeoDataFrame, type_column: str | None, where: str) -> str | None:
    """The column of the community types: ``type_column`` (checked), else a known name."""
    if type_column is None:
        found = [c for c in settings.COMMUNITY_TYPE_COLUMNS if c in gdf.columns]
        return found[0] if found else None
    require_type(type_column, str, "type_column", "a column name (text)")
    if type_column not in gdf.columns:
        raise CommunityFileError(
            f"{where} has no column '{type_column}' (given as {_OPTIONS['type_column']} / "
            f"type_column); columns are: {[c for c in gdf.columns if c != gdf.geometry.name]}."
        )
    return type_column


def communities_from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    where: str = "the community GeoDataFrame",
) -> gpd.GeoDataFrame:
    """Community polygons from the user's layer: ids, names and polygons checked.

    Parameters
    ----------
    gdf
        The layer, in any CRS (it must have one); features other than polygons are dropped.
    id_column
        Column holding a unique id; default: the row number.
    name_column
        Column holding the name; default: ``name`` if present, else the id.
    where
        The layer's source, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id`` (str), ``community_name`` (str), ``source`` ("file") and polygons in
        EPSG:4326.

    Raises
    ------
    CommunityFileError
        No CRS, no polygons, unknown column, duplicate ids.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"名称": ["东区"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> communities_from_frame(g, name_column="名称")[["community_id", "community_name"]].values
    array([['0', '东区']], dtype=object)
    """
    require_type(gdf, gpd.GeoDataFrame, "communities", "a GeoDataFrame", LayerTypeError)
    type_column = _type_column(gdf, None, where)
    return _checked_communities(gdf, id_column, name_column, where, Rows("row"), type_column)


def _checked_communities(
    gdf: gpd.GeoDataFrame,
    id_column: str | None,
    name_column: str | None,
    where: str,
    rows: Rows,
    type_column: str | None = None,
) -> gpd.GeoDataFrame:
    """:func:`communities_from_frame` with the numbering of rows for messages.

    With ``type_column``, the output has the types as ``community_type`` (text).
    """
    require_type(gdf, gpd.GeoDataFrame, "communities", "a GeoDataFrame", LayerTypeError)
    for col, what in ((id_column, "id_column"), (name_column, "name_column")):
        if col is not None:
            require_type(col, str, what, "a column name (text)")
    if gdf.crs is None:
        raise CommunityFileError(
            f"{where} has no coordinate reference system. Set one in your GIS, or in Python: "
            "gdf.set_crs(...) (use the CRS the coordinates are really in)."
        )
    gdf = polygons_only(gdf.assign(_pos=np.arange(len(gdf))), where, rows, CommunityFileError)
    for col, what in ((id_column, "id_column"), (name_column, "name_column")):
        if col is not None and col not in gdf.columns:
            raise CommunityFileError(
                f"{where} has no column '{col}' (given as {_OPTIONS[what]} / {what}); columns are: "
                f"{[c for c in gdf.columns if c not in (gdf.geometry.name, '_pos')]}."
            )
    ids, id_column = community_ids(gdf, id_column, where, rows, CommunityFileError)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise CommunityFileError(f"{where}: id '{dup}' in column '{id_column}' is not unique.")
    name_column = community_name_column(gdf.drop(columns="_pos"), name_column, where)
    names = gdf[name_column].fillna("").astype(str) if name_column else ids
    geoms = gdf.geometry.to_crs("EPSG:4326")
    check_degrees(geoms.total_bounds, where, _DEGREES_FIX, CommunityFileError)
    pos = gdf["_pos"].to_numpy()
    values = np.asarray(geoms.values, dtype=object)
    check_feature_extent(values, where, rows, "community", CommunityFileError, pos)
    repaired(values, where, rows, "communities", pos)
    out = gpd.GeoDataFrame(
        {
            "community_id": ids.to_numpy(),
            "community_name": names.to_numpy(),
            "source": "file",
        },
        geometry=geoms.make_valid().values,
        crs="EPSG:4326",
    )
    if type_column is not None:
        kinds = gdf[type_column].to_numpy(dtype=object)
        out.insert(3, "community_type", ["" if pd.isna(v) else str(v).strip() for v in kinds])
    return out.reset_index(drop=True)


def districts_from_file(
    path: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    name_column: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read district polygons (街道, 区, or any grouping of communities) from a vector file.

    Parameters
    ----------
    path
        A vector file (GeoJSON, GeoPackage, Shapefile, …; any CRS, which it must declare), or
        a GeoDataFrame.
    name_column
        Column holding the district names; default ``name`` if present, else a column named
        like a name (``名称``, ``NAME``, …; announced with a warning).
    layer
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        ``district`` (the name, text) and polygons in EPSG:4326; features other than
        polygons are dropped with a warning.

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    LayerError
        Empty layer, no CRS, no polygons, no name column.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"name": ["学院路街道"]}, geometry=[shapely.box(116.3, 40.0,
    ...     116.4, 40.1)], crs=4326)
    >>> districts_from_file(g)["district"].tolist()
    ['学院路街道']
    """
    from .readers import read_vector

    if isinstance(path, gpd.GeoDataFrame):
        gdf, where = path, "the district GeoDataFrame"
        if gdf.crs is None:
            raise LayerError(f"{where} has no coordinate reference system; set one (set_crs).")
    else:
        gdf = read_vector(path, "district file", layer=layer, require_crs=True)
        where = f"district file '{os.fspath(path)}'"
    gdf = polygons_only(gdf, where, Rows("feature"))
    if name_column is not None and name_column not in gdf.columns:
        raise LayerError(
            f"{where} has no column '{name_column}' (given as --district-column / "
            f"district_column); columns are: {[c for c in gdf.columns if c != gdf.geometry.name]}."
        )
    column = community_name_column(gdf, name_column, where)
    if column is None:
        raise LayerError(
            f"{where} has no name column: name the column holding the district names with "
            "--district-column (district_column= in Python)."
        )
    names = ["" if pd.isna(v) else str(v).strip() for v in gdf[column]]
    geoms = gdf.geometry.to_crs("EPSG:4326").make_valid()
    check_degrees(geoms.total_bounds, where, _DEGREES_FIX, LayerError)
    return gpd.GeoDataFrame({"district": names}, geometry=geoms.values, crs="EPSG:4326")


def districts_from_osm(
    data: OSMData, net: WalkNetwork, *, levels: tuple[str, ...] = settings.DISTRICT_ADMIN_LEVELS
) -> gpd.GeoDataFrame | None:
    """District polygons from the OSM file's administrative boundaries, where complete.

    The first of ``levels`` (``admin_level`` 9, Beijing's 街道 / 乡镇, then 8, 区) whose
    ``boundary=administrative`` polygons hold at least half of the network's nodes, the rule
    :func:`communities_from_osm` applies to level 10; None when no level is complete (an
    extract cut from a larger file usually has incomplete boundary relations).

    Returns
    -------
    geopandas.GeoDataFrame or None
        ``district`` (the boundary's name, or ``unnamed relation/…``) and polygons in
        EPSG:4326, as :func:`districts_from_file`.

    Examples
    --------
    >>> districts_from_osm(data, net) is None  # doctest: +SKIP
    True
    """
    f = data.features
    if not len(f):
        return None
    is_poly = np.isin(shapely.get_type_id(f.geometry.values), (3, 6))
    nodes = shapely.points(net.lon, net.lat)
    for level in levels:
        mask = is_poly & np.array(
            [
                t.get("boundary") == "administrative" and t.get("admin_level") == level
                for t in f["tags"]
            ],
            dtype=bool,
        )
        if not mask.any():
            continue
        admin = _osm_communities(f[mask], f"admin_level_{level}")
        inside = shapely.STRtree(admin.geometry.values).query(nodes, predicate="within")[0]
        if len(np.unique(inside)) >= 0.5 * net.n_nodes:
            return gpd.GeoDataFrame(
                {"district": admin["community_name"].to_numpy()},
                geometry=admin.geometry.values,
                crs="EPSG:4326",
            )
    return None


def assign_districts(
    communities: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The communities with a ``district`` column: the district each one overlaps most.

    A community belongs to the district that holds the largest part of its area (measured
    in the local UTM zone; on a tie, the first district in the file). A community that
    overlaps no district polygon by area (a degenerate polygon) goes to the district holding
    its representative point; one outside every district gets ``""`` (counted in a warning).

    Parameters
    ----------
    communities
        ``community_id`` and polygons (any CRS).
    districts
        From :func:`districts_from_file`: ``district`` and polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        ``communities`` with ``district`` (text).

    Examples
    --------
    >>> import shapely
    >>> com = gpd.GeoDataFrame({"community_id": ["a"]},
    ...     geometry=[shapely.box(116.30, 40.0, 116.36, 40.01)], crs=4326)
    >>> d = gpd.GeoDataFrame({"district": ["东", "西"]}, geometry=[shapely.box(116.2, 39.9,
    ...     116.31, 40.1), shapely.box(116.31, 39.9, 116.5, 40.1)], crs=4326)
    >>> assign_districts(com, d)["district"].tolist()
    ['西']
    """
    crs = communities.to_crs("EPSG:4326").estimate_utm_crs() if len(communities) else None
    com = communities.geometry.to_crs(crs).values if crs else communities.geometry.values
    dis = districts.geometry.to_crs(crs).values if crs else districts.geometry.values
    names = districts["district"].astype(str).to_numpy()
    out = np.full(len(com), "", dtype=object)
    best = np.zeros(len(com))
    tree = shapely.STRtree(dis)
    ci, di = tree.query(com, predicate="intersects")
    order = np.lexsort((di, ci))  # by community, then in district order: the first wins ties
    ci, di = ci[order], di[order]
    area = shapely.area(shapely.intersection(com[ci], dis[di])) if len(ci) else np.zeros(0)
    for c, d, a in zip(ci, di, area, strict=True):
        if a > best[c]:
            best[c], out[c] = a, names[d]
    todo = np.flatnonzero(best == 0)
    if len(todo):
        pi, pd_ = tree.query(shapely.point_on_surface(com[todo]), predicate="within")
        order = np.lexsort((pd_, pi))
        for p, d in zip(pi[order], pd_[order], strict=True):
            if out[todo[p]] == "":
                out[todo[p]] = names[d]
    lost = int(sum(1 for v in out if v == ""))
    if lost:
        warn(
            f"{lost} of {len(com)} communities lie outside every district polygon; they are "
            "counted under an empty district name.",
            stacklevel=2,
        )
    return communities.assign(district=out)


def _named(osm_type: str, osm_id: int, name: str) -> str:
    return name if name else f"unnamed {osm_type}/{osm_id}"


def communities_from_osm(
    data: OSMData, net: WalkNetwork, *, grid_size_m: float = settings.GRID_SIZE_M
) -> gpd.GeoDataFrame:
    """Derive communities from an OSM file (admin level 10, else residential areas, else a grid).

    Parameters
    ----------
    data
        The OSM data (from :func:`fifteenmin._osm.read_osm`).
    net
        The walking network of the same area (decides completeness and the grid).
    grid_size_m
        Cell size of the fallback grid.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id``, ``community_name``, ``source`` (``admin_level_10``,
        ``landuse_residential`` or ``grid``), the type columns of :func:`with_types`
        (``community_type``, ``built_year``, ``gated``, ``area_ha``, ``size_class``),
        polygons in EPSG:4326.

    Warns
    -----
    UserWarning
        When ``admin_level=10`` boundaries hold at least half of the network's nodes but
        fewer than :data:`~fifteenmin.settings.ADMIN_COMPLETE_SHARE` (a clipped extract): the
        rest of the area is topped up with residential areas (else grid cells) cut to the
        part outside the boundaries, and the warning gives the shares.

    Examples
    --------
    >>> from fifteenmin._osm import read_osm
    >>> com = communities_from_osm(read_osm(path), net)  # doctest: +SKIP
    """
    f = data.features
    is_poly = (
        np.isin(shapely.get_type_id(f.geometry.values), (3, 6)) if len(f) else np.zeros(0, bool)
    )
    tags: list[dict[str, str]] = f["tags"].tolist() if len(f) else []
    is_admin = np.fromiter(
        (t.get("boundary") == "administrative" and t.get("admin_level") == "10" for t in tags),
        dtype=bool,
        count=len(tags),
    )
    is_res = np.fromiter(
        (t.get("landuse") == "residential" for t in tags), dtype=bool, count=len(tags)
    )
    admin = f[is_admin & is_poly]
    res = f[is_res & is_poly]
    if len(admin):
        nodes = gpd.GeoSeries(gpd.points_from_xy(net.lon, net.lat), crs="EPSG:4326")
        inside = shapely.STRtree(admin.geometry.values).query(nodes.values, predicate="within")[0]
        covered = np.zeros(net.n_nodes, dtype=bool)
        covered[inside] = True
        if covered.sum() >= 0.5 * net.n_nodes:
            com = _osm_communities(admin, "admin_level_10")
            if covered.mean() < settings.ADMIN_COMPLETE_SHARE:
                com = _topped_up(com, res, net, covered, grid_size_m)
            return with_types(com, data, net)
    if len(res):
        return with_types(_osm_communities(res, "landuse_residential"), data, net)
    return with_types(_grid_communities(net, grid_size_m), data, net)


def _topped_up(
    admin: gpd.GeoDataFrame,
    res: gpd.GeoDataFrame,
    net: WalkNetwork,
    covered: np.ndarray,
    grid_size_m: float,
) -> gpd.GeoDataFrame:
    """Admin communities plus the rest of the area: residential areas, else grid cells.

    The residential areas (or cells) are cut to the part outside the admin boundaries; a
    warning gives the shares of the network's nodes.
    """
    union = shapely.union_all(np.asarray(admin.to_crs(net.crs).geometry.values, dtype=object))
    rest_xy = shapely.points(net.x[~covered], net.y[~covered])
    kind = "residential area"
    if len(res):
        extra = _osm_communities(res, "landuse_residential").to_crs(net.crs)
    else:
        extra = _grid_communities(net, grid_size_m, nodes=~covered).to_crs(net.crs)
        kind = "grid cell"
    extra["geometry"] = shapely.difference(np.asarray(extra.geometry.values, dtype=object), union)
    extra = extra[~extra.geometry.is_empty & (extra.geometry.area > 1.0)]
    hit = shapely.STRtree(np.asarray(extra.geometry.values, dtype=object)).query(
        rest_xy, predicate="within"
    )[0]
    n, share = net.n_nodes, covered.mean()
    in_extra = len(np.unique(hit)) / n
    detail = ""
    if kind == "residential area":
        left = 1.0 - share - in_extra
        detail = (
            f" ({in_extra:.0%} of the nodes; the remaining {left:.0%} lie outside residential "
            "areas and belong to no community)"
        )
    warn(
        f"admin_level=10 boundaries cover {share:.0%} of the network nodes; the other "
        f"{1 - share:.0%} are scored as {plural(len(extra), kind)}{detail}. Give a complete "
        "community layer (--communities) for exact boundaries."
    )
    out = pd.concat([admin, extra.to_crs("EPSG:4326")], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _osm_communities(f: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    f = f.sort_values(["osm_type", "osm_id"], kind="stable")
    ids = [f"{t}/{i}" for t, i in zip(f["osm_type"], f["osm_id"], strict=True)]
    names = [_named(t, i, n) for t, i, n in zip(f["osm_type"], f["osm_id"], f["name"], strict=True)]
    return gpd.GeoDataFrame(
        {"community_id": ids, "community_name": names, "source": source},
        geometry=f.geometry.make_valid().values,
        crs="EPSG:4326",
    ).reset_index(drop=True)


def _grid_communities(
    net: WalkNetwork, size: float, nodes: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Grid cells holding network nodes (``nodes``: a mask of the nodes to cover; all)."""
    x0 = np.floor(net.x.min() / size) * size
    y0 = np.floor(net.y.min() / size) * size
    sel = np.ones(net.n_nodes, dtype=bool) if nodes is None else nodes
    ix = ((net.x[sel] - x0) // size).astype(np.int64)
    iy = ((net.y[sel] - y0) // size).astype(np.int64)
    cells = np.unique(np.column_stack([iy, ix]), axis=0)
    boxes = shapely.box(
        x0 + cells[:, 1] * size,
        y0 + cells[:, 0] * size,
        x0 + (cells[:, 1] + 1) * size,
        y0 + (cells[:, 0] + 1) * size,
    )
    ids = [f"grid/{r}_{c}" for r, c in cells]
    g = gpd.GeoDataFrame(
        {"community_id": ids, "community_name": ids, "source": "grid"},
        geometry=boxes,
        crs=net.crs,
    )
    return g.to_crs("EPSG:4326")


_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
#: Tags giving when a compound or a building was built, in order of preference.
_YEAR_KEYS = ("start_date", "building:start_date", "construction_date", "year_of_construction")
#: Barrier nodes that close a compound's entrance.
_GATES = frozenset(
    {"gate", "lift_gate", "turnstile", "swing_gate", "sliding_gate", "full-height_turnstile"}
)
#: Street classes that, running through a compound, show that it is open to the public.
_PUBLIC_STREETS = frozenset(
    {
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "pedestrian",
    }
)


def built_year(tags: dict[str, str]) -> float:
    """The year an element was built (first year in ``start_date`` and similar tags), or NaN.

    Examples
    --------
    >>> built_year({"start_date": "~1995"}), built_year({"start_date": "1980s"})
    (1995.0, 1980.0)
    >>> built_year({"name": "x"})
    nan
    """
    for k in _YEAR_KEYS:
        v = tags.get(k)
        m = None if v is None else _YEAR_RE.search(str(v))
        if m:
            return float(m.group(1))
    return float("nan")


def with_types(com: gpd.GeoDataFrame, data: OSMData, net: WalkNetwork) -> gpd.GeoDataFrame:
    """Add community types (分类指导) derived from OSM: age, gating and size.

    Columns added:

    * ``built_year``: the compound's own ``start_date`` (or ``building:start_date``,
      ``construction_date``, ``year_of_construction``), else the median year of the buildings
      inside that carry one, else NaN;
    * ``community_type``: ``old_compound`` (老旧小区: built in
      :data:`~fifteenmin.settings.OLD_COMPOUND_BUILT_BY` or before, 国办发〔2020〕23号),
      ``newer_compound`` (built later) or ``unknown`` (no year in OSM);
    * ``gated``: ``gated`` (the compound is tagged ``access=private|no`` or ``barrier=*``, a
      gate node lies on its outline, or walls/fences run along at least
      :data:`~fifteenmin.settings.COMPOUND_BARRIER_SHARE` of it), ``open`` (no such evidence
      and a public street runs through it, entering and leaving) or ``unknown``;
    * ``area_ha`` and ``size_class`` (``small``/``medium``/``large`` by
      :data:`~fifteenmin.settings.COMMUNITY_SIZE_HA`).

    Parameters
    ----------
    com
        Communities (``community_id`` + polygons) from :func:`communities_from_osm`.
    data
        The OSM data they were derived from (compound tags, buildings, barriers).
    net
        The walking network (its CRS measures areas and distances; its streets show openness).

    Returns
    -------
    geopandas.GeoDataFrame
        ``com`` with the columns above.

    Examples
    --------
    >>> com = with_types(communities, data, net)  # doctest: +SKIP
    >>> com["community_type"].value_counts()  # doctest: +SKIP
    """
    out = com.copy()
    polys = np.asarray(com.to_crs(net.crs).geometry.values, dtype=object)
    f = data.features
    ftags: list[dict[str, str]] = f["tags"].tolist() if len(f) else []
    wanted = set(com["community_id"].tolist())
    own: dict[object, dict[str, str]] = {}
    if len(f):
        for t, i, tg in zip(f["osm_type"].tolist(), f["osm_id"].tolist(), ftags, strict=True):
            key = f"{t}/{i}"
            if key in wanted:
                own[key] = tg  # the last feature of an id, as a dict built of them all
    tags = [own.get(c, {}) for c in com["community_id"]]
    year = np.array([built_year(t) for t in tags])
    # the features' geometries in the network's CRS, projected only where needed
    geoms = np.asarray(f.geometry.values, dtype=object) if len(f) else np.zeros(0, dtype=object)
    fm = _Projected(geoms, ftags, f.crs if len(f) else None, net.crs)
    _fill_building_years(year, fm, polys)
    out["built_year"] = year
    old = year <= settings.OLD_COMPOUND_BUILT_BY
    out["community_type"] = np.where(
        np.isnan(year), "unknown", np.where(old, "old_compound", "newer_compound")
    )
    out["gated"] = _gating(tags, fm, polys, net)
    area = shapely.area(polys) / 10_000.0
    small, large = settings.COMMUNITY_SIZE_HA
    out["area_ha"] = np.round(area, 3)
    out["size_class"] = np.where(area < small, "small", np.where(area > large, "large", "medium"))
    return out


@dataclass
class _Projected:
    """Features' geometries (any CRS) and tags; subsets are projected to ``crs`` on demand."""

    geoms: np.ndarray
    tags: list[dict[str, str]]
    src: object
    crs: pyproj.CRS

    def __len__(self) -> int:
        return len(self.tags)

    def mask(self, pred: Callable[[dict[str, str]], bool]) -> np.ndarray:
        """The features whose tags meet ``pred``."""
        return np.fromiter((bool(pred(t)) for t in self.tags), dtype=bool, count=len(self))

    def geometry(self, sel: np.ndarray) -> np.ndarray:
        """The geometries of the features ``sel`` (a mask or positions), in ``crs``.

        Point by point the same coordinates as projecting every feature and then selecting.
        """
        return np.asarray(
            gpd.GeoSeries(self.geoms[sel], crs=self.src).to_crs(self.crs).values, dtype=object
        )


def _fill_building_years(year: np.ndarray, f: _Projected, polys: np.ndarray) -> None:
    """Communities without a year of their own take the median year of their buildings."""
    if not len(f) or not np.isnan(year).any():
        return
    b = np.flatnonzero(f.mask(lambda t: "building" in t))
    by = np.array([built_year(f.tags[k]) for k in b]) if len(b) else np.zeros(0)
    ok = ~np.isnan(by)
    if not ok.any():
        return
    pts = shapely.point_on_surface(f.geometry(b[ok]))
    ci, bi = shapely.STRtree(polys).query(pts, predicate="within")[::-1]
    years = by[ok]
    order = np.argsort(ci, kind="stable")  # each community's buildings in the query's order
    ci, bi = ci[order], bi[order]
    cuts = np.searchsorted(ci, np.arange(len(polys) + 1))
    for c in np.flatnonzero(np.isnan(year)):
        ys = years[bi[cuts[c] : cuts[c + 1]]]
        if len(ys):
            year[c] = float(np.median(ys))


def _gating(
    tags: list[dict[str, str]], f: _Projected, polys: np.ndarray, net: WalkNetwork
) -> np.ndarray:
    """``gated``/``open``/``unknown`` per community (see :func:`with_types`)."""
    out = np.full(len(polys), "unknown", dtype=object)
    rings = shapely.boundary(polys)
    gated = np.array([t.get("access") in ("private", "no") or "barrier" in t for t in tags])
    if len(f):
        barrier = np.array([t.get("barrier") for t in f.tags], dtype=object)
        gate = pd.Series(barrier).isin(_GATES).to_numpy()
        if gate.any():
            ri = shapely.STRtree(f.geometry(gate)).query(rings, predicate="dwithin", distance=3.0)[
                0
            ]
            gated[ri] = True
        wall = pd.Series(barrier).isin(("wall", "fence")).to_numpy()
        if wall.any():
            walls = f.geometry(wall)
            lines = shapely.boundary(walls)  # polygons (closed fences) as their rings
            lines = np.where(shapely.get_type_id(walls) >= 3, lines, walls)
            near = shapely.buffer(shapely.union_all(lines), 3.0)
            along = shapely.length(shapely.intersection(rings, near))
            perim = shapely.length(rings)
            with np.errstate(invalid="ignore", divide="ignore"):
                gated |= along / perim >= settings.COMPOUND_BARRIER_SHARE
    out[gated] = "gated"
    public = pd.Series(net.edge_highway).isin(_PUBLIC_STREETS).to_numpy()
    if public.any():
        # the network's own tree (routing built it), its public streets kept
        ci, ei = net.edge_tree.query(rings, predicate="intersects")
        ci, ei = ci[public[ei]], ei[public[ei]]
        streets = net.edge_geometry[ei]
        crossings = np.bincount(
            ci,
            weights=shapely.get_num_geometries(shapely.intersection(rings[ci], streets)),
            minlength=len(polys),
        )
        out[(crossings >= 2) & ~gated] = "open"
    return out


def _building_floor_area(b: gpd.GeoDataFrame) -> np.ndarray:
    seen: dict[object, float] = {}  # building:levels value -> levels (few distinct values)
    levels = []
    for t in b["tags"]:
        value = t.get("building:levels", "")
        lv = seen.get(value)
        if lv is None:
            raw = str(value).replace(",", ".")
            try:
                lv = float(raw.split(";")[0])
            except ValueError:
                lv = 1.0
            lv = seen[value] = lv if math.isfinite(lv) and lv > 0 else 1.0
        levels.append(lv)
    return np.asarray(b.geometry.area, dtype=np.float64) * np.asarray(levels)


def residents(
    communities: gpd.GeoDataFrame,
    net: WalkNetwork,
    data: OSMData | None = None,
    *,
    spacing_m: float = settings.STREET_SPACING_M,
) -> gpd.GeoDataFrame:
    """Weighted origin points (residents) of every community.

    Parameters
    ----------
    communities
        ``community_id`` + polygons (any CRS).
    net
        The walking network (its CRS is used for the output).
    data
        OSM data holding buildings; without it every community uses street points.
    spacing_m
        Spacing of street points where there are no residential buildings.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id``, ``weight``, ``kind`` (``building``, ``street`` or ``centroid``) and
        points in ``net.crs``.

    Examples
    --------
    >>> homes = residents(communities, net, data)  # doctest: +SKIP
    >>> homes.groupby("community_id")["weight"].sum()  # doctest: +SKIP
    """
    com = communities.to_crs(net.crs).reset_index(drop=True)
    polys = np.asarray(com.geometry.values, dtype=object)
    try:
        check_reach(
            polys,
            com["community_id"].astype(str).tolist(),
            communities.to_crs("EPSG:4326").total_bounds,
            (net.x, net.y),
            (net.lon, net.lat),
        )
    except LayerError as exc:
        raise CommunityFileError(str(exc)) from None
    parts: list[pd.DataFrame] = []
    done = np.zeros(len(com), dtype=bool)
    if data is not None and len(data.features):
        homes = _building_origins(data.features, polys, com["source"].to_numpy(), net.crs)
        if homes is not None:
            parts.append(homes)
            done[np.unique(homes["community"])] = True
    todo = np.flatnonzero(~done)
    if len(todo):
        streets = _street_origins(polys, todo, net, spacing_m)
        if streets is not None:
            parts.append(streets)
            done[np.unique(streets["community"])] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        points = shapely.point_on_surface(polys[rest])
        _warn_unreachable(points, com["community_id"].to_numpy()[rest], net)
        parts.append(_origins(rest, 1.0, "centroid", points))
    df = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["community", "weight", "kind", "x", "y"])
    )
    df = df.sort_values(["community", "kind", "x", "y"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "community_id": com["community_id"].to_numpy()[
                df["community"].to_numpy().astype(np.int64)
            ],
            "weight": df["weight"].to_numpy(dtype=np.float64),
            "kind": df["kind"].to_numpy(),
            "weight_unit": pd.Series(df["kind"].to_numpy()).map(WEIGHT_UNITS).to_numpy(),
        },
        geometry=shapely.points(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float)),
        crs=net.crs,
    )


def _warn_unreachable(points: np.ndarray, ids: np.ndarray, net: WalkNetwork) -> None:
    """Warn about communities with no street inside whose one point reaches no street."""
    hit = net.edge_tree.query_nearest(points, max_distance=settings.MAX_SNAP_M)[0]
    lost = np.setdiff1d(np.arange(len(points)), hit)
    if len(lost):
        shown = ", ".join(str(i) for i in ids[lost][:MAX_LISTED])
        warn(
            f"{len(lost)} communities have no street or home inside and lie more than "
            f"{settings.MAX_SNAP_M:g} m from every street ({shown}"
            f"{' and more' if len(lost) > MAX_LISTED else ''}): they cannot be reached and are "
            "scored as not served. Check their polygons.",
            stacklevel=4,
        )


def _origins(
    community: np.ndarray, weight: np.ndarray | float, kind: str, points: np.ndarray
) -> pd.DataFrame:
    """Origins of one kind: community position, weight, kind, x, y."""
    return pd.DataFrame(
        {
            "community": community,
            "weight": weight,
            "kind": kind,
            "x": shapely.get_x(points),
            "y": shapely.get_y(points),
        }
    )


def _building_origins(
    features: gpd.GeoDataFrame, polys: np.ndarray, com_source: np.ndarray, crs: pyproj.CRS
) -> pd.DataFrame | None:
    """Residential buildings inside the communities, weighted by floor area (None if none).

    A building is a home if its ``building=*`` value is one of :data:`RESIDENTIAL_BUILDINGS`,
    or ``building=yes`` without a non-residential key inside a ``landuse=residential`` area
    or inside a community derived from one.
    """
    f = features
    is_poly = np.isin(shapely.get_type_id(f.geometry.values), (3, 6))
    ftags: list[dict[str, str]] = f["tags"].tolist()
    n = len(ftags)
    bmask = np.fromiter(("building" in t for t in ftags), dtype=bool, count=n) & is_poly
    b = f[bmask].to_crs(crs)
    if not len(b):
        return None
    resmask = (
        np.fromiter((t.get("landuse") == "residential" for t in ftags), dtype=bool, count=n)
        & is_poly
    )
    res_areas = f[resmask].to_crs(crs)
    btags = [ftags[k] for k in np.flatnonzero(bmask)]
    values = np.array([t.get("building", "") for t in btags], dtype=object)
    nonres = np.fromiter(
        (not _NON_RESIDENTIAL.isdisjoint(t) for t in btags), dtype=bool, count=len(b)
    )
    pts = shapely.point_on_surface(b.geometry.values)
    in_res_area = np.zeros(len(b), dtype=bool)
    if len(res_areas):
        hit = shapely.STRtree(res_areas.geometry.values).query(pts, predicate="within")[0]
        in_res_area[hit] = True
    homes = np.isin(values, list(RESIDENTIAL_BUILDINGS)) | (
        (values == "yes") & in_res_area & ~nonres
    )
    weight = _building_floor_area(b)
    pi, ci = shapely.STRtree(pts).query(polys, predicate="contains")
    # community pi contains building ci; a community derived from a residential area also
    # counts its building=yes
    from_res = (com_source == "landuse_residential")[pi]
    ok = homes[ci] | ((values[ci] == "yes") & from_res & ~nonres[ci])
    pi, ci = pi[ok], ci[ok]
    if not len(pi):
        return None
    return _origins(pi, weight[ci], "building", pts[ci])


def _street_origins(
    polys: np.ndarray, todo: np.ndarray, net: WalkNetwork, spacing_m: float
) -> pd.DataFrame | None:
    """Street points of communities ``todo``, weighted by the metres each stands for.

    Points every ``spacing_m`` along the streets inside each community; None if no street
    meets them.
    """
    pi, ei = net.edge_tree.query(polys[todo], predicate="intersects")
    if not len(pi):
        return None
    pieces = shapely.intersection(net.edge_geometry[ei], polys[todo][pi])
    lines, owner = line_parts(pieces)
    points, line, step = points_along(lines, spacing_m)
    return _origins(todo[pi[owner[line]]], step, "street", points)


def _population_values(
    pop: gpd.GeoDataFrame, columns: list[tuple[str, str]], where: str, rows: Rows
) -> np.ndarray:
    """``(n, len(columns))`` people per feature, checked; missing values count as 0."""
    avail = [c for c in pop.columns if c != pop.geometry.name]
    out = np.zeros((len(pop), len(columns)))
    try:
        for j, (col, what) in enumerate(columns):
            require_type(col, str, what, "a column name (text)")
            if col not in pop.columns:
                raise CommunityFileError(
                    f"{where} has no column '{col}' (given as {_OPTIONS[what]} / {what}); "
                    f"columns are: {avail}."
                )
            out[:, j] = people_counts(pop[col], col, what, where, rows)
        check_people(out, columns, where)
    except LayerError as exc:
        if isinstance(exc, CommunityFileError):
            raise
        raise CommunityFileError(str(exc)) from None
    return out


def _warn_unplaced(
    values: np.ndarray,
    lost: np.ndarray,
    empty: np.ndarray,
    where: str,
    rows: Rows,
    max_distance_m: float,
) -> None:
    """Warn about the people of features without geometry or outside every community."""
    pixels = rows.unit == "pixel"
    outside = "lie outside every community" + (
        "" if pixels else f" (points: farther than {max_distance_m:g} m)"
    )
    for mask, why in (
        (empty & (values[:, 0] > 0), "have no geometry (null or empty)"),
        (lost & (values[:, 0] > 0), outside),
    ):
        if mask.any():
            warn(
                f"{where}: {int(mask.sum())} {'pixels' if pixels else 'features'} holding "
                f"{values[mask, 0].sum():,.0f} "
                f"people {why} ({rows.text(np.flatnonzero(mask))}); their people are not "
                "counted.",
                stacklevel=4,
            )


def residents_from_population(
    communities: gpd.GeoDataFrame,
    population: str | os.PathLike[str] | gpd.GeoDataFrame,
    net: WalkNetwork,
    *,
    value_column: str,
    elderly_column: str | None = None,
    children_column: str | None = None,
    data: OSMData | None = None,
    layer: str | int | None = None,
    max_distance_m: float = settings.POPULATION_MAX_DISTANCE_M,
) -> gpd.GeoDataFrame:
    """Resident origins weighted by people, from the user's population layer.

    The origins of :func:`residents` (buildings, else street points, else the community's
    representative point) give *where* people live inside each community; the population
    layer gives *how many*:

    * **polygons** (a population grid, census blocks): each cell's people are split by
      area: the part of the cell inside community ``k`` receives
      ``people x area(cell ∩ k) / area(cell)`` (where communities overlap, the shares are
      scaled so that a cell never gives more than ``people x area(cell ∩ all communities) /
      area(cell)``). That amount goes to the origins of ``k`` inside the cell, in proportion
      to their base weights (building floor area, metres of street); if ``k`` has no origin
      inside the cell, a new origin of kind ``"cell"`` is made at a representative point of
      ``cell ∩ k``. People in the part of a cell outside every community are not counted.
    * **points** (address or building counts; a multi-point counts at its centroid): each
      point's people go to the community containing it (the first, where communities
      overlap), else to the nearest community within ``max_distance_m``, and are split over
      that community's origins in proportion to their base weights. Points farther away are
      not counted.
    * **a raster** (a GeoTIFF of people per pixel: WorldPop, GHS-POP, LandScan; any CRS;
      recognised by :func:`fifteenmin.readers.is_raster`): every pixel holding people that
      may touch the communities is the polygon of its exact footprint
      (:func:`fifteenmin.readers.read_population_raster`), split like a grid cell above.
      ``value_column`` names nothing in the file (the band is band 1); a raster takes no
      ``elderly_column`` or ``children_column``. ``attrs`` also holds
      ``population_raster_total`` (people in the raster's pixels over the communities'
      bounding box, one pixel wider each side; also ``population_total``) and
      ``population_raster_share`` (the share of them given to origins), which are logged.

    Parameters
    ----------
    communities
        ``community_id`` (unique) + polygons (any CRS).
    population
        A vector file (any CRS; points and/or polygons), a GeoTIFF raster of people per pixel,
        or a GeoDataFrame.
    net
        The walking network (its CRS is used for areas, distances and the output).
    value_column
        Column holding the number of people of each feature.
    elderly_column, children_column
        Columns holding the number of elderly people / children (any age definition);
        split exactly like ``value_column``.
    data
        OSM data holding buildings, passed to :func:`residents` for the base weights.
    layer
        Layer of a multi-layer file (GeoPackage).
    max_distance_m
        Largest distance from a population point to a community.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`residents` — ``community_id``, ``weight`` (now people),
        ``kind`` (``building``, ``street``, ``centroid`` or ``cell``), points in ``net.crs``
        — plus ``weight_elderly`` and ``weight_children`` when those columns are given.
        Only origins that receive people are kept: a community the population layer does not
        reach has no origins (its coverage is then NaN). ``attrs`` holds
        ``population_total`` (people in the layer) and ``population_assigned`` (people given
        to origins, i.e. ``weight.sum()``).

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    CommunityFileError
        No CRS, a missing or non-numeric column, negative counts, geometries other than
        points and polygons, duplicate community ids.

    Examples
    --------
    >>> homes = residents_from_population(
    ...     communities, "population_grid.gpkg", net, value_column="population", data=data
    ... )  # doctest: +SKIP
    >>> homes.groupby("community_id")["weight"].sum()  # people per community  # doctest: +SKIP
    """
    require_type(max_distance_m, (int, float), "max_distance_m", "a number of metres")
    if not max_distance_m >= 0:
        raise ConfigError(f"max_distance_m must be >= 0, got {max_distance_m}")
    columns = [(value_column, "value_column")]
    if elderly_column is not None:
        columns.append((elderly_column, "elderly_column"))
    if children_column is not None:
        columns.append((children_column, "children_column"))
    pop, where, rows, raster = _population_layer(population, layer, communities, columns)
    values = _population_values(pop, columns, where, rows)
    try:
        lonlat = np.asarray(pop.geometry.to_crs("EPSG:4326").values, dtype=object)
        check_feature_extent(lonlat, where, rows, "population area")
    except LayerError as exc:
        raise CommunityFileError(str(exc)) from None
    com = communities.to_crs(net.crs).reset_index(drop=True)
    com_ids = com["community_id"].astype(str)
    if com_ids.duplicated().any():
        raise CommunityFileError(
            f"community id '{com_ids[com_ids.duplicated()].iloc[0]}' is not unique; "
            "residents_from_population needs unique community ids."
        )
    polys = np.asarray(com.geometry.values, dtype=object)
    origins = _BaseOrigins.of(residents(communities, net, data), com_ids, len(columns))
    geoms = np.asarray(pop.geometry.to_crs(net.crs).values, dtype=object)
    tid = shapely.get_type_id(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    other = ~np.isin(tid, (0, 3, 4, 6)) & ~empty
    if other.any():
        kinds = sorted(set(pop.geom_type[other].dropna()))
        raise CommunityFileError(
            f"{where} holds {kinds} features; a population layer holds points (people at a "
            "place) or polygons (people in an area)."
        )
    new: list[pd.DataFrame] = []
    lost = np.zeros(len(geoms), dtype=bool)
    cells = np.isin(tid, (3, 6)) & ~empty
    if cells.any() and len(polys):
        new += origins.spread_cells(geoms[cells], values[cells], polys)
        lost[np.flatnonzero(cells)[~origins.placed]] = True
    points = np.isin(tid, (0, 4)) & ~empty
    if points.any() and len(polys):
        origins.spread_points(geoms[points], values[points], polys, max_distance_m)
        lost[np.flatnonzero(points)[~origins.placed]] = True
    _warn_unplaced(values, lost, empty, where, rows, max_distance_m)
    out = origins.frame(new, com_ids.to_numpy(), [what for _, what in columns], net.crs)
    out.attrs["population_total"] = float(values[:, 0].sum())
    out.attrs["population_assigned"] = float(out["weight"].sum())
    if raster is not None:
        _raster_share(out, raster)
    if not out.attrs["population_assigned"] > 0:
        raise CommunityFileError(
            f"{where}: none of its {out.attrs['population_total']:,.0f} people lies in a "
            "community: the layer and the communities do not overlap. Check that they cover "
            "the same place and that the layer's CRS is right."
        )
    return out


def _population_layer(
    population: str | os.PathLike[str] | gpd.GeoDataFrame,
    layer: str | int | None,
    communities: gpd.GeoDataFrame,
    columns: list[tuple[str, str]],
) -> tuple[gpd.GeoDataFrame, str, Rows, PopulationRaster | None]:
    """The population layer, its source and row numbering; a raster as its pixel polygons.

    A GeoTIFF (:func:`fifteenmin.readers.is_raster`) is read as the polygons of its pixels
    that may touch the communities, with their people in column ``columns[0][0]``; a raster
    has one count per pixel, so it takes no elderly or children column.
    """
    if not is_raster(population):
        pop, where = read_population_layer(population, layer)
        if pop.crs is None:
            raise CommunityFileError(
                f"{where} has no coordinate reference system. Set one in your GIS, or in "
                "Python: gdf.set_crs(...) (use the CRS the coordinates are really in)."
            )
        return pop, where, Rows.of(population), None
    assert isinstance(population, str | os.PathLike)
    if len(columns) > 1:
        raise CommunityFileError(
            f"population raster '{population}' holds one count per pixel: elderly_column and "
            "children_column (--elderly-column, --children-column) need a vector layer with "
            "those columns."
        )
    bounds = tuple(float(v) for v in communities.to_crs("EPSG:4326").total_bounds)
    raster = read_population_raster(population, bounds)  # type: ignore[arg-type]
    pixels = raster.pixels.rename(columns={"population": columns[0][0]})
    if not len(pixels):
        raise CommunityFileError(
            f"{raster.where}: no pixel with people covers the communities (none lies in a "
            "community): check that the raster and the communities cover the same place and "
            "that the raster's CRS is right."
        )
    return pixels, raster.where, _PixelRows(pixels), raster


class _PixelRows(Rows):
    """Rows numbered as pixels of a raster: ``pixel (row 3, column 7)``, from 0 like GDAL."""

    def __init__(self, pixels: gpd.GeoDataFrame) -> None:
        super().__init__("pixel", 0)
        object.__setattr__(self, "_rc", (pixels["row"].to_numpy(), pixels["col"].to_numpy()))

    def text(self, positions: Iterable[int] | np.ndarray) -> str:
        """``positions`` (rows of the pixel frame) as pixels (row, column) of the file."""
        pos = np.asarray(list(positions), dtype=np.int64).ravel()
        r, c = self._rc  # type: ignore[attr-defined]
        shown = ", ".join(f"(row {r[p]}, column {c[p]})" for p in pos[:MAX_LISTED])
        more = f" and {len(pos) - MAX_LISTED} more" if len(pos) > MAX_LISTED else ""
        return f"{'pixel' if len(pos) == 1 else 'pixels'} {shown}{more}"


def _raster_share(out: gpd.GeoDataFrame, raster: PopulationRaster) -> None:
    """Record (``attrs``) and log the share of the raster's people inside the communities.

    The raster's people are those of the window read: the pixels over the communities'
    bounding box (and one pixel around it).
    """
    out.attrs["population_raster_total"] = raster.total
    share = out.attrs["population_assigned"] / raster.total if raster.total > 0 else float("nan")
    out.attrs["population_raster_share"] = share
    logger.info(
        f"{raster.where}: {out.attrs['population_assigned']:,.1f} people in the communities, "
        f"{share:.2%} of the raster's {raster.total:,.1f} over the communities' bounding box"
        + (f"; {raster.nodata_pixels:,} nodata pixels read" if raster.nodata_pixels else "")
    )


@dataclass
class _BaseOrigins:
    """The origins of :func:`residents` and the people they receive from a population layer."""

    base: gpd.GeoDataFrame
    community: np.ndarray  # position of each origin's community
    points: np.ndarray
    weight: np.ndarray  # base weight (floor area, metres of street, 1)
    people: np.ndarray  # (n_origins, n_counts) people received, one column per count
    # which features of the last spread gave people to a community
    placed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    by_community: pd.DataFrame = field(init=False)  # o (origin), com, w

    @classmethod
    def of(cls, base: gpd.GeoDataFrame, com_ids: pd.Series, n_counts: int) -> _BaseOrigins:
        return cls(
            base=base,
            community=pd.Index(com_ids).get_indexer(base["community_id"].astype(str)),
            points=np.asarray(base.geometry.values, dtype=object),
            weight=base["weight"].to_numpy(dtype=np.float64),
            people=np.zeros((len(base), n_counts)),
        )

    def __post_init__(self) -> None:
        self.by_community = pd.DataFrame(
            {"o": np.arange(len(self.weight)), "com": self.community, "w": self.weight}
        )

    def spread(self, o_idx: np.ndarray, group: np.ndarray, amount: np.ndarray) -> None:
        """Add amount[g] to origins o_idx of group g, in proportion to base weights."""
        w = self.weight[o_idx]
        total = np.bincount(group, weights=w, minlength=len(amount))
        count = np.bincount(group, minlength=len(amount)).astype(np.float64)
        share = np.where(total[group] > 0, w / np.where(total > 0, total, 1.0)[group], 0.0)
        share = np.where(total[group] > 0, share, 1.0 / np.maximum(count[group], 1.0))
        np.add.at(self.people, o_idx, amount[group] * share[:, None])

    def spread_cells(
        self, geoms: np.ndarray, values: np.ndarray, polys: np.ndarray
    ) -> list[pd.DataFrame]:
        """Spread the people of polygons by area; new ``cell`` origins where a piece has none."""
        cells = shapely.make_valid(geoms)
        cell_area = shapely.area(cells)
        ci, ki = shapely.STRtree(polys).query(cells, predicate="intersects")
        pieces = shapely.intersection(cells[ci], polys[ki])
        a = shapely.area(pieces)
        keep = a > 0
        ci, ki, pieces, a = ci[keep], ki[keep], pieces[keep], a[keep]
        self.placed = np.isin(np.arange(len(cells)), ci)
        if not len(ci):
            return []
        covered = np.zeros(len(cells))
        touched = np.unique(ci)
        union = shapely.union_all(polys)
        covered[touched] = shapely.area(shapely.intersection(cells[touched], union))
        sum_a = np.bincount(ci, weights=a, minlength=len(cells))
        share = a / cell_area[ci] * covered[ci] / sum_a[ci]
        amount = values[ci] * share[:, None]
        # the piece (cell ∩ own community) each origin lies in; an origin on the edge
        # between two cells counts in the first one
        oi, oc = shapely.STRtree(cells).query(self.points, predicate="intersects")
        piece_df = pd.DataFrame({"piece": np.arange(len(ci)), "cell": ci, "com": ki})
        m = (
            pd.DataFrame({"o": oi, "cell": oc})
            .merge(self.by_community, on="o")
            .merge(piece_df, on=["cell", "com"], how="inner")
            .sort_values(["o", "cell"], kind="stable")
            .drop_duplicates("o")
        )
        if len(m):
            self.spread(m["o"].to_numpy(), m["piece"].to_numpy(), amount)
        lonely = np.setdiff1d(np.arange(len(ci)), m["piece"].to_numpy())
        if not len(lonely):
            return []
        rp = shapely.point_on_surface(pieces[lonely])
        return [
            pd.DataFrame(
                {
                    "community": ki[lonely],
                    "kind": "cell",
                    "x": shapely.get_x(rp),
                    "y": shapely.get_y(rp),
                }
            ).join(pd.DataFrame(amount[lonely], columns=_count_columns(values.shape[1])))
        ]

    def spread_points(
        self, geoms: np.ndarray, values: np.ndarray, polys: np.ndarray, max_distance_m: float
    ) -> None:
        """Give each point's people to its community (containing, else nearest in reach)."""
        pts = shapely.centroid(geoms)
        tree = shapely.STRtree(polys)
        pi, ki = tree.query(pts, predicate="intersects")
        owner = np.full(len(pts), -1, dtype=np.int64)
        if len(pi):
            first = pd.DataFrame({"p": pi, "k": ki}).groupby("p")["k"].min()
            owner[first.index.to_numpy()] = first.to_numpy()
        rest = np.flatnonzero(owner < 0)
        if len(rest) and max_distance_m > 0:
            ri, rk = tree.query_nearest(pts[rest], max_distance=max_distance_m, all_matches=False)
            owner[rest[ri]] = rk
        self.placed = owner >= 0
        ok = np.flatnonzero(owner >= 0)
        if len(ok):
            per_com = np.zeros((len(polys), values.shape[1]))
            np.add.at(per_com, owner[ok], values[ok])
            o = self.by_community[self.by_community["com"] >= 0]
            self.spread(o["o"].to_numpy(), o["com"].to_numpy(), per_com)

    def frame(
        self, new: list[pd.DataFrame], com_ids: np.ndarray, counts: list[str], crs: pyproj.CRS
    ) -> gpd.GeoDataFrame:
        """The origins that received people (and the new ones), sorted as :func:`residents`."""
        vcols = _count_columns(len(counts))
        kept = np.flatnonzero((self.people > 0).any(axis=1))
        df = pd.DataFrame(
            {
                "community": self.community[kept],
                "kind": self.base["kind"].to_numpy()[kept],
                "x": shapely.get_x(self.points[kept]),
                "y": shapely.get_y(self.points[kept]),
            }
        ).join(pd.DataFrame(self.people[kept], columns=vcols))
        if new:
            df = pd.concat([df, *new], ignore_index=True)
        df = df.sort_values(["community", "kind", "x", "y"], kind="stable").reset_index(drop=True)
        cols: dict[str, object] = {
            "community_id": com_ids[df["community"].to_numpy(dtype=np.int64)],
            "weight": df["_v0"].to_numpy(dtype=np.float64),
            "kind": df["kind"].to_numpy(),
            "weight_unit": "people",
        }
        for j, what in enumerate(counts[1:], start=1):
            name = "weight_elderly" if what == "elderly_column" else "weight_children"
            cols[name] = df[f"_v{j}"].to_numpy(dtype=np.float64)
        return gpd.GeoDataFrame(
            cols,
            geometry=shapely.points(df["x"].to_numpy(dtype=float), df["y"].to_numpy(dtype=float)),
            crs=crs,
        )


def _count_columns(n: int) -> list[str]:
    return [f"_v{j}" for j in range(n)]
