"""Facilities: OSM features matched to the items of a service catalogue.

A facility is one OSM element (node, way or multipolygon) that matches one catalogue item; an
element that matches several items (a supermarket that is also a convenience store in the
catalogue's sense) gives one row per item. Point features reach the network at their
location; polygon features (parks, schools, hospitals) reach it through their entrances
(``entrance=*`` or gate nodes on the boundary) when mapped, else through points spaced along
their boundary, never only through their centroid.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _snap, settings
from ._coords import normalize_system, out_of_china, to_wgs84
from ._errors import ConfigError, FacilityFileError, LayerTypeError, require_type
from ._geom import points_along
from ._kernel import lexsort_grouped
from ._osm import OSMData, read_osm
from .catalogue import Catalogue, Item, load_catalogue
from .readers import read_facility_table
from .validate import (
    MAX_LISTED,
    Rows,
    check_degrees,
    swapped_rows,
    user_tables,
    within_osm_area,
)

if TYPE_CHECKING:
    import pyproj

__all__ = [
    "FACILITY_COLUMNS",
    "MERGED_COLUMNS",
    "access_points",
    "entrances_from_osm",
    "facilities_from_osm",
    "facilities_from_polygon",
    "facilities_from_table",
    "facility_counts",
    "item_aliases",
    "merge_facilities",
]

_DEGREES_FIX = "Set the CRS the coordinates are really in (in your GIS; in Python: pass crs=...)."

FACILITY_COLUMNS = ["facility_id", "item_id", "name", "osm_type", "osm_id", "geometry"]


def _catalogue(catalogue: str | Catalogue) -> Catalogue:
    """:func:`~fifteenmin.catalogue.load_catalogue`, with a library error for a wrong type."""
    if not isinstance(catalogue, Catalogue):
        require_type(
            catalogue, (str, os.PathLike), "catalogue", "a catalogue name, file or Catalogue"
        )
    return load_catalogue(catalogue)


def _local_area_m2(geoms: gpd.GeoSeries, utm: pyproj.CRS | None = None) -> np.ndarray:
    """Area in m² of WGS-84 geometries (0 for points and lines), in a local UTM projection.

    ``utm``: the projection; default the UTM zone of ``geoms``.
    """
    if len(geoms) == 0:
        return np.zeros(0)
    if utm is None:
        utm = geoms.estimate_utm_crs()
    return np.asarray(geoms.to_crs(utm).area, dtype=np.float64)


def _match_features(features: gpd.GeoDataFrame, catalogue: Catalogue) -> gpd.GeoDataFrame:
    """Match tagged features against every item of a catalogue."""
    if len(features) == 0:
        return gpd.GeoDataFrame(
            {c: [] for c in FACILITY_COLUMNS[:-1]}, geometry=[], crs="EPSG:4326"
        )
    is_area = np.asarray(shapely.get_type_id(features.geometry.values) >= 3)  # (multi)polygons
    area = np.zeros(len(features))
    if is_area.any():
        # in the UTM zone of all the features, as _local_area_m2 of them all would measure
        utm = features.geometry.estimate_utm_crs()
        area[is_area] = _local_area_m2(features.geometry[is_area], utm)
    areas = [float(a) if poly else None for a, poly in zip(area, is_area, strict=True)]
    rows, items = catalogue.match_many(features["tags"], areas)
    out = features.iloc[rows].reset_index(drop=True)
    out.insert(0, "item_id", items)
    # stable, deterministic order: catalogue order, then OSM type and id
    out["_k"] = catalogue.rank(out["item_id"])
    out = out.sort_values(["_k", "osm_type", "osm_id"], kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    out.insert(0, "facility_id", np.arange(len(out), dtype=np.int64))
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def facilities_from_osm(
    data: str | os.PathLike[str] | OSMData, catalogue: str | Catalogue = settings.CATALOGUE
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
    >>> bool((fac["item_id"] == "pharmacy").sum() > 0)
    True
    """
    cat = _catalogue(catalogue)
    if not isinstance(data, OSMData):
        data = read_osm(data, keys=cat.osm_keys())
    out = _match_features(data.features, cat)
    ways = data.ways
    if ways is not None and len(ways.lon):
        # the area of the file's streets: merge_facilities leaves out user facilities outside it
        out.attrs["osm_extent"] = (
            float(ways.lon.min()),
            float(ways.lat.min()),
            float(ways.lon.max()),
            float(ways.lat.max()),
        )
    return out


def facilities_from_polygon(
    polygon: shapely.Geometry, catalogue: str | Catalogue = settings.CATALOGUE
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

    cat = _catalogue(catalogue)
    query: dict[str, bool | str | list[str]] = dict(cat.osmnx_tags())
    try:
        gdf = ox.features_from_polygon(polygon, tags=query)
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
    spacing_m: float = settings.BOUNDARY_SPACING_M,
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
    # (multi)points and (multi)lines: their own vertices
    own = np.flatnonzero(np.isin(tid, (0, 1, 2, 4, 5)))
    xy, which = shapely.get_coordinates(geoms[own], return_index=True)
    fac_idx, pts = [own[which]], [xy]
    idx = np.flatnonzero(np.isin(tid, (3, 6)))  # (multi)polygons
    if len(idx):
        polys = geoms[idx]
        has_entrance = np.zeros(len(idx), dtype=bool)
        if entrances is not None and len(entrances) > 0:
            ent = np.asarray(entrances.to_crs(crs).values, dtype=object)
            tree = shapely.STRtree(ent)
            bounds = shapely.boundary(polys)
            pi, ei = tree.query(bounds, predicate="dwithin", distance=entrance_tolerance_m)
            fac_idx.append(idx[pi])
            pts.append(shapely.get_coordinates(ent[ei]).reshape(-1, 2))
            has_entrance[pi] = True
        rest = np.flatnonzero(~has_entrance)
        # exterior rings of every part: one cannot walk in through a hole
        part_polys, part_owner = shapely.get_parts(polys[rest], return_index=True)
        ring_xy, ring = _ring_points(shapely.get_exterior_ring(part_polys), spacing_m)
        fac_idx.append(idx[rest[part_owner[ring]]])
        pts.append(ring_xy)
    facility = np.concatenate(fac_idx).astype(np.int64)
    xy = np.concatenate(pts)
    # by facility, x, y (stable, as sort_values(kind="stable"))
    order = lexsort_grouped(facility, xy[:, 0], xy[:, 1])
    return pd.DataFrame({"facility": facility[order], "x": xy[order, 0], "y": xy[order, 1]})


_MIN_BOUNDARY_POINTS = 4  # access points along a polygon's boundary, at least


def _ring_points(rings: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` along closed rings (at least four each), from their start.

    The points of :func:`fifteenmin._geom.points_along` (``rounding="ceil"``,
    ``centred=False``), computed without a shapely point each when numba is available
    (:func:`fifteenmin._snap.points_along_lines`, the same coordinates to the bit).

    Returns
    -------
    xy : numpy.ndarray
        ``(n, 2)`` coordinates of the points, ring by ring.
    ring : numpy.ndarray
        Index into ``rings`` of each point.
    """
    if not _snap.HAVE_NUMBA:  # the compiled loops would run as plain Python
        p, ring, _ = points_along(
            rings, spacing_m, minimum=_MIN_BOUNDARY_POINTS, rounding="ceil", centred=False
        )
        return shapely.get_coordinates(p).reshape(-1, 2), ring
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    ptr = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(np.bincount(vertex_ring, minlength=len(rings)), out=ptr[1:])
    px, py, ring = _snap.points_along_lines(
        xy[:, 0], xy[:, 1], ptr, spacing_m, _MIN_BOUNDARY_POINTS
    )
    return np.column_stack([px, py]), ring


def facility_counts(facilities: gpd.GeoDataFrame, catalogue: str | Catalogue) -> pd.DataFrame:
    """Number of facilities per catalogue item (zero rows included).

    Examples
    --------
    >>> facility_counts(fac, "beijing").head()  # doctest: +SKIP
    """
    cat = _catalogue(catalogue)
    require_type(facilities, pd.DataFrame, "facilities", "a GeoDataFrame", LayerTypeError)
    counts = facilities["item_id"].value_counts() if len(facilities) else pd.Series(dtype=int)
    return pd.DataFrame(
        {
            "item_id": [it.id for it in cat.items],
            "item_name_zh": [it.name_zh for it in cat.items],
            "item_name_en": [it.name_en for it in cat.items],
            "facilities": [int(counts.get(it.id, 0)) for it in cat.items],
        }
    )


# --------------------------------------------------------------------------------------------
# User facility tables (CSV, vector files, data frames) and merging them with OSM facilities

#: Columns of :func:`facilities_from_table` and :func:`merge_facilities`: those of
#: :func:`facilities_from_osm` plus ``source`` (``"osm"`` or ``"user"``).
MERGED_COLUMNS = [
    "facility_id",
    "item_id",
    "osm_type",
    "osm_id",
    "name",
    "tags",
    "source",
    "geometry",
]
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")
_NAME_NAMES = ("name", "名称", "name_zh")
#: The command-line options of the parameters of :func:`facilities_from_table` (those that have
#: one), named in messages.
_CLI_OPTIONS = {"item_column": "--facility-item-column"}


def _norm_label(text: object) -> str:
    """Normalise a label for matching: NFKC (full-width -> ASCII), spaces, case."""
    t = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", " ", t).strip().casefold()


def item_aliases_of(item: Item) -> set[str]:
    """Normalised labels by which a user table may name one item (besides its id).

    Its Chinese and English names, each alternative of a name written ``A / B``, and each of
    those without a parenthesised remark.

    Examples
    --------
    >>> sorted(item_aliases_of(load_catalogue("beijing")["community_health_centre"]))
    ['community health service centre', '社区卫生服务中心', '社区卫生服务中心(社区医院)']
    """
    labels: set[str] = set()
    for name in (item.name_zh, item.name_en):
        full = _norm_label(name)
        for part in {full, *re.split(r"\s*/\s*", full)}:
            labels.add(part)
            labels.add(re.sub(r"\s*\([^)]*\)\s*", " ", part).strip())
    labels.discard("")
    return labels


def _label_owners(cat: Catalogue) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for it in cat.items:
        for lab in item_aliases_of(it):
            owners.setdefault(lab, []).append(it.id)
    return owners


def item_aliases(catalogue: str | Catalogue = settings.CATALOGUE) -> dict[str, str]:
    """Labels a user table may use for each catalogue item: normalised label -> item id.

    An item is known by its id, its Chinese and English names, each alternative of a name
    written as ``A / B``, and each of those without a parenthesised remark (``社区卫生服务中心
    (社区医院)`` is also known as ``社区卫生服务中心``); see :func:`item_aliases_of`. Labels are
    compared after Unicode NFKC normalisation (full-width and half-width forms are the same),
    ignoring case and repeated spaces. A label that two items share is an alias of neither
    (use the id).

    Parameters
    ----------
    catalogue
        A catalogue name, file, or :class:`~fifteenmin.catalogue.Catalogue`.

    Returns
    -------
    dict
        Normalised label -> item id.

    Examples
    --------
    >>> al = item_aliases("beijing")
    >>> al["药店"], al["pharmacy"], al["托儿所"], al["社区卫生服务中心"]
    ('pharmacy', 'pharmacy', 'nursery', 'community_health_centre')
    """
    cat = _catalogue(catalogue)
    out = {lab: ids[0] for lab, ids in _label_owners(cat).items() if len(ids) == 1}
    for it in cat.items:  # ids always win
        out[_norm_label(it.id)] = it.id
    return out


def _map_items(
    values: pd.Series, cat: Catalogue, item_column: str, where: str, rows: Rows
) -> np.ndarray:
    aliases = item_aliases(cat)
    raw = [str(v) if pd.notna(v) else "" for v in values]
    ids = np.array([aliases.get(_norm_label(v)) for v in raw], dtype=object)
    bad = np.array([i is None for i in ids], dtype=bool)
    if bad.any():
        unknown = sorted({raw[i].strip() for i in np.flatnonzero(bad)})
        owners = _label_owners(cat)
        notes = []
        for u in unknown[:MAX_LISTED]:
            several = owners.get(_norm_label(u), [])
            if len(several) > 1:
                notes.append(f"{u!r} names several items ({', '.join(several)}): use the id")
                continue
            close = difflib.get_close_matches(_norm_label(u), list(aliases), n=1, cutoff=0.75)
            if close:
                notes.append(f"{u!r}: did you mean {aliases[close[0]]!r}?")
        shown = [u if u else "<empty>" for u in unknown[:MAX_LISTED]]
        more = f" and {len(unknown) - MAX_LISTED} more" if len(unknown) > MAX_LISTED else ""
        raise FacilityFileError(
            f"{where}: column '{item_column}' holds values that are not items of catalogue "
            f"'{cat.name}': {shown}{more} ({rows.text(np.flatnonzero(bad))}). "
            + ("; ".join(notes) + ". " if notes else "")
            + "Use an item id or the item's Chinese or English name; valid ids: "
            + ", ".join(cat.item_ids)
            + "."
        )
    return ids.astype(str)


def _geometry_name(df: pd.DataFrame) -> str | None:
    """Name of the active geometry column, or None (plain or geometry-less frames)."""
    if not isinstance(df, gpd.GeoDataFrame):
        return None
    try:
        name = df.geometry.name
    except AttributeError:  # a GeoDataFrame without an active geometry column
        return None
    return name if name in df.columns else None


def _find_column(
    df: pd.DataFrame,
    given: str | None,
    guesses: Sequence[str],
    param: str,
    what: str,
    where: str,
    required: bool = True,
) -> str | None:
    geom = _geometry_name(df)
    cols = [c for c in df.columns if c != geom]
    option = _CLI_OPTIONS.get(param)
    if given is not None:
        require_type(given, str, param, "a column name (text)")
        if given not in df.columns:
            named = f"{option} / {param}" if option else param
            raise FacilityFileError(
                f"{where} has no column '{given}' (given as {named}); columns are: {cols}."
            )
        return given
    by_norm: dict[str, str] = {}
    for c in cols:
        by_norm.setdefault(_norm_label(c), c)
    for g in guesses:
        if g in by_norm:
            return by_norm[g]
    if required:
        fix = (
            f"name it with {option} ({param}=... in Python)"
            if option
            else f"rename a column to one of these names (in Python, name it with {param}=...)"
        )
        raise FacilityFileError(
            f"{where} has no {what} column (looked for {list(guesses)}); {fix}; columns are: "
            f"{cols}."
        )
    return None


def _to_wgs84_geoms(geoms: np.ndarray, system: str) -> np.ndarray:
    if system == "wgs84":
        return geoms

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, shift)


def facilities_from_table(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    item_column: str,
    catalogue: str | Catalogue = settings.CATALOGUE,
    lon_column: str | None = None,
    lat_column: str | None = None,
    coord_system: str = "wgs84",
    name_column: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read the user's own facilities from a CSV table, a vector file or a data frame.

    Use it for facilities OSM does not show (elderly-care posts, community service stations,
    vegetable shops, …): a survey table, a list exported from a Chinese web map, or a
    government POI layer. Merge the result with OSM facilities with :func:`merge_facilities`.

    Parameters
    ----------
    source
        A CSV file (``.csv``, ``.txt``, ``.tsv``; UTF-8, UTF-8 with BOM or GBK/GB18030, tried
        in that order; comma, semicolon, tab or ``|`` separated) with longitude/latitude
        columns; any vector file GDAL reads (GeoJSON, GeoPackage, Shapefile, …) holding
        points, lines or polygons in any CRS; or a ``pandas.DataFrame`` (longitude/latitude
        columns) or ``geopandas.GeoDataFrame``.
    item_column
        Column holding the catalogue item of each row: an item id (``pharmacy``) or its
        Chinese or English name (``药店``, ``Pharmacy``, ``托儿所``; see :func:`item_aliases`).
    catalogue
        A catalogue name, file, or :class:`~fifteenmin.catalogue.Catalogue`.
    lon_column, lat_column
        Coordinate columns of a table. Default: the first column named ``lon``, ``lng``,
        ``long``, ``longitude``, ``x`` or ``经度`` (``lat``, ``latitude``, ``y``, ``纬度``),
        in any case. When given for a vector file they replace its geometry.
    coord_system
        ``"wgs84"`` (GPS, OSM), ``"gcj02"`` (Amap/Gaode, Tencent) or ``"bd09"`` (Baidu):
        the datum the coordinates were taken in; they are converted to WGS-84
        (:mod:`fifteenmin._coords`; points outside China are left as they are).
    name_column
        Column holding the facility's name; default ``name``, ``名称`` or ``name_zh`` when
        present, else names are empty.
    crs
        Coordinate reference system of the coordinates when the source does not declare one:
        table columns (default EPSG:4326, i.e. degrees), or a vector file / GeoDataFrame
        without a CRS. If the source declares a different CRS, that is an error.
    layer
        Layer of a multi-layer vector file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`facilities_from_osm` — ``facility_id`` (0..n-1), ``item_id``,
        ``osm_type`` (``"user"``), ``osm_id`` (the 0-based row number in the source),
        ``name``, ``tags`` (``opening_hours`` from a column of that name, else empty; see
        :mod:`fifteenmin.hours`) — plus ``source`` (``"user"``), with geometries in
        EPSG:4326, sorted by catalogue item then row.

    Raises
    ------
    InputFileError
        The file is missing or cannot be read.
    FacilityFileError
        A missing column (the message lists the columns there are), item values that are
        not catalogue items (the message lists them and the valid ids), missing or
        out-of-range coordinates, empty geometries, a missing or conflicting CRS.
    ValueError
        Unknown ``coord_system``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"类别": ["药店", "kindergarten"], "名称": ["老百姓大药房", "阳光幼儿园"],
    ...                    "经度": [116.3975, 116.4010], "纬度": [39.9089, 39.9100]})
    >>> fac = facilities_from_table(df, item_column="类别", coord_system="gcj02")
    >>> fac[["item_id", "name", "osm_type", "source"]].values.tolist()
    [['kindergarten', '阳光幼儿园', 'user', 'user'], ['pharmacy', '老百姓大药房', 'user', 'user']]
    >>> round(float(fac.geometry.x[1]), 4), round(float(fac.geometry.y[1]), 4)  # WGS-84 now
    (116.3913, 39.9075)
    """
    cat = _catalogue(catalogue)
    try:
        system = normalize_system(coord_system)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    df, where = read_facility_table(source, layer)
    rows = Rows.of(source)
    if len(df) == 0:
        raise FacilityFileError(f"{where} is empty: it holds no rows.")
    item_col = _find_column(df, item_column, (), "item_column", "item", where)
    assert item_col is not None
    name_col = _find_column(df, name_column, _NAME_NAMES, "name_column", "name", where, False)
    is_geo = _geometry_name(df) is not None
    if not is_geo or lon_column is not None or lat_column is not None:
        geoms, keep = _points_from_columns(df, lon_column, lat_column, crs, where, rows)
    else:
        geoms, keep = _frame_geometries(df, crs, where, rows), np.ones(len(df), dtype=bool)
    pts = np.asarray(geoms.to_crs("EPSG:4326").values, dtype=object)
    if system != "wgs84":
        _warn_outside_china(pts, coord_system, system, where)
        pts = _to_wgs84_geoms(pts, system)
    out = gpd.GeoDataFrame(
        {
            "item_id": _map_items(df[item_col], cat, item_col, where, rows)[keep],
            "osm_type": "user",
            "osm_id": np.flatnonzero(keep).astype(np.int64),
            "name": _names(df, name_col)[keep],
            "tags": _hours_tags(df, keep),
            "source": "user",
        },
        geometry=pts,
        crs="EPSG:4326",
    )
    out["_k"] = cat.rank(out["item_id"])
    out = out.sort_values(["_k", "osm_id"], kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    out.insert(0, "facility_id", np.arange(len(out), dtype=np.int64))
    out = gpd.GeoDataFrame(out[MERGED_COLUMNS], geometry="geometry", crs="EPSG:4326")
    out.attrs["table"] = (where, rows.unit, rows.first)  # for merge_facilities' messages
    return out


def _points_from_columns(
    df: pd.DataFrame,
    lon_column: str | None,
    lat_column: str | None,
    crs: str | int | pyproj.CRS | None,
    where: str,
    rows: Rows,
) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Points from a table's longitude/latitude columns (in ``crs``, default degrees).

    Also the rows kept: rows whose longitude and latitude are swapped are left out.
    """
    lon_col = _find_column(df, lon_column, _LON_NAMES, "lon_column", "longitude", where)
    lat_col = _find_column(df, lat_column, _LAT_NAMES, "lat_column", "latitude", where)
    lon = pd.to_numeric(df[lon_col], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(df[lat_col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        raise FacilityFileError(
            f"{where}: no numeric coordinates in columns '{lon_col}'/'{lat_col}' in "
            f"{rows.text(np.flatnonzero(bad))} (e.g. {str(df[lon_col].iloc[bad.argmax()])!r}, "
            f"{str(df[lat_col].iloc[bad.argmax()])!r}). Fill them in or remove those rows"
            + (
                "; write decimals with a point (116.4, not 116,4)."
                if df[lon_col].astype(str).str.contains(r"^\s*-?\d+,\d+\s*$").any()
                else "."
            )
        )
    keep = np.ones(len(df), dtype=bool)
    try:
        src_crs = pyproj_crs(crs if crs is not None else "EPSG:4326")
    except Exception as exc:  # pyproj.exceptions.CRSError
        raise ConfigError(f"crs={crs!r} is not a coordinate reference system ({exc})") from None
    if src_crs.is_geographic:
        cols = f"'{lon_col}'/'{lat_col}'"
        keep = swapped_rows(lon, lat, cols, where, rows, FacilityFileError)
    return gpd.GeoSeries(gpd.points_from_xy(lon[keep], lat[keep]), crs=src_crs), keep


def _frame_geometries(
    df: gpd.GeoDataFrame, crs: str | int | pyproj.CRS | None, where: str, rows: Rows
) -> gpd.GeoSeries:
    """The geometries of a vector layer, checked: a CRS, no empty rows, no collections."""
    g = df.geometry
    if g.crs is None:
        if crs is None:
            raise FacilityFileError(
                f"{where} has no coordinate reference system. Set one in your GIS (the CRS the "
                "coordinates are really in), or in Python pass crs=...."
            )
        g = g.set_crs(crs)
    elif crs is not None and not g.crs.equals(pyproj_crs(crs)):
        raise FacilityFileError(
            f"{where} declares CRS {g.crs.to_string()!r} but crs={crs!r} was passed; "
            "leave crs out, or fix the file's CRS."
        )
    empty = np.asarray(g.isna() | g.is_empty)
    if empty.any():
        raise FacilityFileError(
            f"{where}: {rows.text(np.flatnonzero(empty))} have no geometry. "
            "Remove them or give them a location."
        )
    tid = shapely.get_type_id(np.asarray(g.values, dtype=object))
    if (tid > 6).any():
        raise FacilityFileError(
            f"{where}: {rows.text(np.flatnonzero(tid > 6))} are geometry "
            "collections; use points, lines or polygons."
        )
    if g.crs.is_geographic:
        check_degrees(g.total_bounds, where, _DEGREES_FIX, FacilityFileError)
    return gpd.GeoSeries(np.asarray(g.values, dtype=object), crs=g.crs)


def _warn_outside_china(pts: np.ndarray, coord_system: str, system: str, where: str) -> None:
    """Warn that the features outside China are not shifted (stack: the caller's caller)."""
    rep = shapely.point_on_surface(pts)
    outside = np.asarray(out_of_china(shapely.get_x(rep), shapely.get_y(rep)), dtype=bool)
    if outside.any():
        warnings.warn(
            f"{where}: coord_system={coord_system!r} but {int(outside.sum())} of "
            f"{len(pts)} features lie outside China, where {system.upper()} equals WGS-84; "
            "they are left as they are.",
            stacklevel=3,
        )


#: Columns of a user table read as the facilities' OSM ``opening_hours`` (any case).
_HOURS_NAMES = ("opening_hours", "营业时间")


def _hours_tags(df: pd.DataFrame, keep: np.ndarray) -> list[dict[str, str]]:
    """Tags of user facilities: ``opening_hours`` from such a column, where it is filled."""
    col = next((c for c in df.columns if str(c).strip().lower() in _HOURS_NAMES), None)
    if col is None:
        return [{} for _ in range(int(keep.sum()))]
    values = df[col].astype(object).where(df[col].notna(), "").astype(str).str.strip()
    return [{"opening_hours": v} if v else {} for v in values.to_numpy()[keep]]


def _names(df: pd.DataFrame, name_col: str | None) -> np.ndarray:
    """The facilities' names, stripped (empty where missing or without a name column)."""
    if name_col is None:
        return np.full(len(df), "", dtype=object)
    names = df[name_col].astype(object).where(df[name_col].notna(), "").astype(str)
    return names.str.strip().to_numpy(dtype=object)


def pyproj_crs(crs: object) -> pyproj.CRS:
    """A :class:`pyproj.CRS` from anything pyproj accepts (EPSG code, string, CRS).

    Examples
    --------
    >>> pyproj_crs(3857).to_epsg()
    3857
    """
    import pyproj

    return pyproj.CRS.from_user_input(crs)


def merge_facilities(
    *frames: gpd.GeoDataFrame, catalogue: str | Catalogue = settings.CATALOGUE
) -> gpd.GeoDataFrame:
    """Concatenate facility frames (OSM and user) and renumber them deterministically.

    Parameters
    ----------
    *frames
        From :func:`facilities_from_osm`, :func:`facilities_from_polygon`,
        :func:`facilities_from_table` (or any GeoDataFrame with ``item_id`` and geometry),
        in any CRS.
    catalogue
        The catalogue whose item order sorts the result.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`MERGED_COLUMNS` in EPSG:4326: every row of every frame (nothing is
        de-duplicated), sorted by catalogue item (items the catalogue lacks last, by id),
        then ``source`` (``"osm"`` before ``"user"``), ``osm_type``, ``osm_id``, and
        ``facility_id`` renumbered 0..n-1 in that order. A frame without ``source`` gets
        ``"user"`` where ``osm_type == "user"`` and ``"osm"`` elsewhere; missing
        ``osm_type``/``osm_id``/``name``/``tags`` are filled (``"user"``, row number, ``""``,
        ``{}``); other columns are dropped.

    Raises
    ------
    FacilityFileError
        A frame without ``item_id`` or without a CRS.

    Examples
    --------
    >>> fac = merge_facilities(facilities_from_osm(sample_path()), user_fac)  # doctest: +SKIP
    >>> fac["source"].value_counts()  # doctest: +SKIP
    """
    cat = _catalogue(catalogue)
    parts: list[pd.DataFrame] = []
    for k, fr in enumerate(frames):
        if not isinstance(fr, gpd.GeoDataFrame):
            raise LayerTypeError(f"frame {k} is a {type(fr).__name__}, not a GeoDataFrame")
        if "item_id" not in fr.columns:
            raise FacilityFileError(
                f"frame {k} has no 'item_id' column; columns are: {list(fr.columns)}."
            )
        if len(fr) == 0:
            continue
        if fr.crs is None:
            raise FacilityFileError(f"frame {k} has no CRS; set one with .set_crs(...).")
        n = len(fr)
        osm_type = (
            fr["osm_type"].astype(str).to_numpy(dtype=object)
            if "osm_type" in fr.columns
            else np.full(n, "user", dtype=object)
        )
        if "source" in fr.columns:
            source = fr["source"].astype(str).to_numpy(dtype=object)
        else:
            source = np.where(osm_type == "user", "user", "osm").astype(object)
        parts.append(
            pd.DataFrame(
                {
                    "item_id": fr["item_id"].astype(str).to_numpy(dtype=object),
                    "osm_type": osm_type,
                    "osm_id": (
                        fr["osm_id"].to_numpy(dtype=np.int64)
                        if "osm_id" in fr.columns
                        else np.arange(n, dtype=np.int64)
                    ),
                    "name": (
                        fr["name"].astype(object).where(fr["name"].notna(), "").astype(str)
                        if "name" in fr.columns
                        else np.full(n, "", dtype=object)
                    ),
                    "tags": (list(fr["tags"]) if "tags" in fr.columns else [{} for _ in range(n)]),
                    "source": source,
                    "geometry": np.asarray(fr.geometry.to_crs("EPSG:4326").values, dtype=object),
                    "_frame": k,
                    "_row": np.arange(n),
                }
            )
        )
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in MERGED_COLUMNS[:-1]}, geometry=[], crs="EPSG:4326")
    out = within_osm_area(pd.concat(parts, ignore_index=True), frames)
    out["_k"] = cat.rank(out["item_id"])  # items the catalogue lacks come last
    out = out.sort_values(
        ["_k", "item_id", "source", "osm_type", "osm_id", "_frame", "_row"], kind="stable"
    ).reset_index(drop=True)
    out.insert(0, "facility_id", np.arange(len(out), dtype=np.int64))
    merged = gpd.GeoDataFrame(out[MERGED_COLUMNS], geometry="geometry", crs="EPSG:4326")
    merged.attrs["tables"] = user_tables(frames)
    return merged
