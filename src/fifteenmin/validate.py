"""Checks of the user's inputs at the edges of the pipeline, before any long work.

The readers (:mod:`fifteenmin._osm`, :mod:`fifteenmin.readers`) and the stages that take the
user's layers (:mod:`fifteenmin.communities`, :mod:`fifteenmin.facilities`), the catalogue
schema and :class:`~fifteenmin.config.RunConfig` call these functions. Every check either

* **raises** one of the errors of :mod:`fifteenmin._errors` when going on would make the result
  wrong; the message names the input, the row or feature, the problem and the fix; or
* **repairs** the input and says so with a :class:`UserWarning` that counts what was dropped or
  changed (the command line prints it as ``[fifteenmin] warning: ...``).

``docs/errors.md`` lists every error and warning.

Examples
--------
>>> Rows("line", 2).text([0, 4])
'lines 2, 6'
>>> guess_column(["ID", "名称"], ["name", "名称"])
'名称'
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import settings
from ._errors import LayerError, require_type

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "MAX_LISTED",
    "MAX_PEOPLE_PER_FEATURE",
    "MAX_TIER_MINUTES",
    "MIN_TIER_MINUTES",
    "Rows",
    "check_degrees",
    "drop_empty_geometries",
    "guess_column",
    "not_found",
    "path_exists",
    "plural",
    "require_type",
    "spatial_layers",
    "user_tables",
    "warn",
    "within_osm_area",
]

#: Catalogue tiers (minutes of walking) outside this range are rejected as implausible: the
#: life-circle standards use 5, 10 and 15 minutes; two hours is a walk of 8 km.
MIN_TIER_MINUTES = 1.0
#: See :data:`MIN_TIER_MINUTES`.
MAX_TIER_MINUTES = 120.0
#: A population feature holding more people than this is rejected as implausible (no city
#: district holds 50 million people); a value in the wrong unit or a sum row is more likely.
MAX_PEOPLE_PER_FEATURE = 5e7
#: How many rows or values a message lists before "and N more".
MAX_LISTED = 20


def plural(n: int, word: str, words: str | None = None) -> str:
    """``n`` and the noun in the right number.

    Examples
    --------
    >>> plural(1, "node"), plural(3, "node"), plural(2, "facility", "facilities")
    ('1 node', '3 nodes', '2 facilities')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def warn(message: str, stacklevel: int = 3) -> None:
    """Warn about repaired or dropped input (a :class:`UserWarning`)."""
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


@dataclass(frozen=True)
class Rows:
    """How messages number the rows of a table: ``unit`` and the number of the first data row.

    A CSV table counts file lines (the header is line 1, the first data row line 2), a vector
    file counts features from 1, a data frame counts rows from 1.

    Examples
    --------
    >>> Rows("feature").text(np.arange(25))
    'features 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 and 5 more'
    >>> Rows("row").text([3])
    'row 4'
    """

    unit: str = "row"
    first: int = 1

    @classmethod
    def of(cls, source: object) -> Rows:
        """The numbering of a source: a CSV path counts lines, another path features."""
        if isinstance(source, str | os.PathLike):
            csv = Path(source).suffix.lower() in (".csv", ".txt", ".tsv")
            return cls("line", 2) if csv else cls("feature", 1)
        return cls("row", 1)

    def text(self, positions: Iterable[int] | np.ndarray) -> str:
        """``positions`` (0-based) as the numbers a user sees, at most :data:`MAX_LISTED`."""
        pos = [int(p) for p in np.asarray(list(positions), dtype=np.int64).ravel()]
        shown = ", ".join(str(p + self.first) for p in pos[:MAX_LISTED])
        more = f" and {len(pos) - MAX_LISTED} more" if len(pos) > MAX_LISTED else ""
        unit = self.unit if len(pos) == 1 else f"{self.unit}s"
        return f"{unit} {shown}{more}"


def guess_column(columns: Sequence[object], guesses: Sequence[str]) -> str | None:
    """The first column whose name matches one of ``guesses`` (case and spaces ignored).

    Examples
    --------
    >>> guess_column(["ID", "Name ", "geometry"], ["name", "名称"])
    'Name '
    """
    by_norm: dict[str, str] = {}
    for c in columns:
        if isinstance(c, str):
            by_norm.setdefault(c.strip().casefold(), c)
    for g in guesses:
        if g.casefold() in by_norm:
            return by_norm[g.casefold()]
    return None


def drop_empty_geometries(
    gdf: gpd.GeoDataFrame, where: str, what: str, rows: Rows, consequence: str
) -> gpd.GeoDataFrame:
    """``gdf`` without its rows of null or empty geometry, with a warning that counts them.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), None], crs=4326)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     len(drop_empty_geometries(g, "f.gpkg", "communities", Rows("feature"), "left out"))
    1
    >>> str(w[0].message)
    'f.gpkg: 1 of 2 communities have no geometry (null or empty; feature 2): left out.'
    """
    geoms = gdf.geometry
    empty = np.asarray(geoms.isna() | geoms.is_empty, dtype=bool)
    if not empty.any():
        return gdf
    bad = np.flatnonzero(empty)
    if empty.all():
        raise LayerError(
            f"{where}: none of its {len(gdf)} {what} has a geometry (all are null or empty). "
            "Check that the file was exported with its geometry."
        )
    warn(
        f"{where}: {len(bad)} of {len(gdf)} {what} have no geometry (null or empty; "
        f"{rows.text(bad)}): {consequence}.",
        stacklevel=4,
    )
    return gdf[~empty]


def check_degrees(
    bounds: Sequence[float], where: str, fix: str, error: type[LayerError] = LayerError
) -> None:
    """Raise ``error`` if geographic coordinates (``minx, miny, maxx, maxy``) are not degrees.

    Longitudes must lie in -180..180 and latitudes in -90..90. Metres read as degrees (a
    projected layer whose CRS is missing or wrong) and swapped columns fail this check.

    Examples
    --------
    >>> check_degrees((116.3, 39.9, 116.4, 40.0), "f", "")
    >>> try:
    ...     check_degrees((385000.0, 6672000.0, 386000.0, 6673000.0), "f.geojson", "")
    ... except ValueError as exc:
    ...     print(str(exc)[:72])
    f.geojson: coordinates are not longitudes and latitudes in degrees (x 38
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise error(f"{where}: coordinates are not finite numbers (NaN or infinite). {fix}")
    lon_ok = max(abs(x0), abs(x1)) <= 180
    lat_ok = max(abs(y0), abs(y1)) <= 90
    if lon_ok and lat_ok:
        return
    if max(abs(x0), abs(x1), abs(y0), abs(y1)) > 1000:
        why = "they look like metres of a projected CRS"
    elif not lon_ok:
        why = "longitudes lie beyond -180..180"
    else:
        why = "latitudes lie beyond -90..90"
        if max(abs(x0), abs(x1)) <= 90 and max(abs(y0), abs(y1)) <= 180:
            why += " (are longitude and latitude swapped?)"
    raise error(
        f"{where}: coordinates are not longitudes and latitudes in degrees (x {x0:.6g} to "
        f"{x1:.6g}, y {y0:.6g} to {y1:.6g}): {why}. {fix}"
    )


def path_exists(path: str | os.PathLike[str], what: str) -> bool:
    """Whether ``path`` exists; a path the system refuses (too long, ...) is an input error.

    Raises
    ------
    InputFileError
        The name is too long, or another error of the file system.

    Examples
    --------
    >>> path_exists("no/such/file.osm", "OSM file")
    False
    """
    from ._errors import InputFileError

    try:
        return Path(path).exists()
    except OSError as exc:
        shown = str(os.fspath(path))
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise InputFileError(f"{what} '{shown}' cannot be used: {exc.strerror or exc}.") from None


def not_found(what: str, p: Path) -> str:
    """The message for a missing input file (a URL is not a file: download it first)."""
    text = f"{what} not found: '{p}'. Check the path."
    if ":/" in str(p):
        text += " fifteenmin reads local files: download it first."
    return text


def spatial_layers(path: str | os.PathLike[str]) -> list[str]:
    """Names of the layers of a vector file that hold geometries (empty if unknown).

    Non-spatial tables (such as QGIS's ``layer_styles``) are left out.

    Examples
    --------
    >>> spatial_layers("communities.gpkg")  # doctest: +SKIP
    ['communities']
    """
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # unreadable: the reader raises the error that names the file
        return []
    return [str(name) for name, geom in layers if geom is not None]


# ------------------------------------------------------------------------------ community layers

#: Column names taken as community ids when no id column is given (case ignored).
ID_GUESSES = ("community_id", "id", "编号", "社区编号", "社区代码", "小区编号")
#: Column names taken as community names when no name column is given (case ignored).
NAME_GUESSES = (
    "name",
    "community_name",
    "名称",
    "社区名称",
    "小区名称",
    "社区",
    "小区",
    "名字",
    "name_zh",
    "name_en",
)
_POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def polygons_only(
    gdf: gpd.GeoDataFrame, where: str, rows: Rows, error: type[LayerError] = LayerError
) -> gpd.GeoDataFrame:
    """The polygon rows of a community layer; the others are dropped with a warning.

    Null and empty geometries are dropped first (:func:`drop_empty_geometries`).

    Raises
    ------
    LayerError
        (``error``) The layer holds no polygons.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> len(polygons_only(g, "f", Rows("feature")))
    1
    """
    import shapely

    if len(gdf) == 0:
        raise error(f"{where} is empty: it holds no features.")
    kinds = sorted(set(gdf.geom_type.dropna()))
    try:
        gdf = drop_empty_geometries(gdf, where, "features", rows, "they were left out")
    except LayerError as exc:
        raise error(str(exc)) from None
    tid = shapely.get_type_id(np.asarray(gdf.geometry.values, dtype=object))
    keep = np.isin(tid, _POLYGON_TYPES)
    if not keep.any():
        raise error(
            f"{where} holds no polygons (found {kinds}); communities must be Polygon or "
            "MultiPolygon features."
        )
    if not keep.all():
        other = sorted(set(gdf.geom_type[~keep].dropna()))
        pos = np.flatnonzero(~keep)
        warn(
            f"{where}: {len(pos)} of {len(gdf)} features are not polygons ({other}; "
            f"{rows.text(_positions(gdf)[pos])}) and were left out: communities must be Polygon "
            "or MultiPolygon features.",
            stacklevel=4,
        )
    return gdf[keep]


def _positions(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """0-based positions of rows in the layer as read (``_pos`` if set, else 0..n-1)."""
    if "_pos" in gdf.columns:
        return gdf["_pos"].to_numpy(dtype=np.int64)
    return np.arange(len(gdf))


def _missing(values: pd.Series) -> np.ndarray:
    """Null cells and cells of blank text."""
    blank = values.map(lambda v: isinstance(v, str) and not v.strip())
    return np.asarray(values.isna() | blank, dtype=bool)


def community_ids(
    gdf: gpd.GeoDataFrame,
    id_column: str | None,
    where: str,
    rows: Rows,
    error: type[LayerError] = LayerError,
) -> tuple[pd.Series, str | None]:
    """The communities' ids as text, and the column they come from (None: row numbers).

    Without ``id_column``, a column named like an id (:data:`ID_GUESSES`) whose values are
    complete and unique is used, with a warning; else the rows are numbered from 0.

    Raises
    ------
    LayerError
        (``error``) The id column has missing values.
    """
    import pandas as pd

    if id_column is None:
        guess = guess_column(list(gdf.columns), ID_GUESSES)
        if guess is not None and not _missing(gdf[guess]).any():
            ids = _id_text(gdf[guess])
            if not ids.duplicated().any():
                warn(
                    f"{where}: community ids taken from column '{guess}' (choose another "
                    "column with --id-column, id_column= in Python).",
                    stacklevel=4,
                )
                return ids, guess
        if guess is not None:
            warn(
                f"{where}: column '{guess}' has missing or repeated values, so the communities "
                "are numbered by row from 0; choose an id column with --id-column "
                "(id_column= in Python).",
                stacklevel=4,
            )
        return pd.Series(np.arange(len(gdf)).astype(str), index=gdf.index), None
    missing = _missing(gdf[id_column])
    if missing.any():
        raise error(
            f"{where}: column '{id_column}' (the community ids) is empty in "
            f"{rows.text(_positions(gdf)[missing])}; every community needs a unique id. Fill "
            "them in, or choose another column with --id-column (id_column= in Python)."
        )
    return _id_text(gdf[id_column]), id_column


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as text; whole numbers stored as floats (a REAL column) lose their ``.0``."""
    if values.dtype.kind == "f" and np.all(np.mod(values.to_numpy(), 1) == 0):
        return values.astype(np.int64).astype(str)
    return values.astype(str)


def community_name_column(gdf: gpd.GeoDataFrame, name_column: str | None, where: str) -> str | None:
    """The column of the communities' names: ``name_column``, else a column named like one.

    A column other than ``name`` found by :data:`NAME_GUESSES` is announced with a warning.
    """
    if name_column is not None:
        return name_column
    if "name" in gdf.columns:
        return "name"
    guess = guess_column([c for c in gdf.columns if c != gdf.geometry.name], NAME_GUESSES)
    if guess is not None:
        warn(
            f"{where}: community names taken from column '{guess}' (choose another column "
            "with --name-column, name_column= in Python).",
            stacklevel=4,
        )
    return guess


# ------------------------------------------------------------------------------ the study area


def _span(lon: np.ndarray, lat: np.ndarray) -> str:
    return (
        f"longitude {np.nanmin(lon):.4f} to {np.nanmax(lon):.4f}, latitude "
        f"{np.nanmin(lat):.4f} to {np.nanmax(lat):.4f}"
    )


def check_reach(
    geoms: np.ndarray,
    ids: Sequence[str],
    bounds_lonlat: Sequence[float],
    net_xy: tuple[np.ndarray, np.ndarray],
    net_lonlat: tuple[np.ndarray, np.ndarray],
    what: str = "communities",
) -> None:
    """Raise if no geometry lies near the network; warn about those that lie outside it.

    Parameters
    ----------
    geoms
        The geometries, in the network's metric CRS.
    ids
        Their ids, for messages.
    bounds_lonlat
        Their bounds in degrees (``minx, miny, maxx, maxy``), for messages.
    net_xy, net_lonlat
        The network's node coordinates, metric and in degrees.
    what
        What the geometries are, for messages.

    Raises
    ------
    LayerError
        Every geometry lies more than :data:`fifteenmin.settings.MAX_SNAP_M` outside the box
        around the network's nodes (another place, or longitude and latitude swapped).
    """
    import shapely

    x, y = net_xy
    if not len(geoms) or not len(x):
        return
    m = settings.MAX_SNAP_M
    box = shapely.box(x.min() - m, y.min() - m, x.max() + m, y.max() + m)
    finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
    near = finite & shapely.intersects(geoms, box)
    if near.all():
        return
    lon, lat = net_lonlat
    if not near.any():
        x0, y0, x1, y1 = bounds_lonlat
        swapped = lon.min() <= y1 and y0 <= lon.max() and lat.min() <= x1 and x0 <= lat.max()
        hint = " Their longitude and latitude look swapped." if swapped else ""
        raise LayerError(
            f"none of the {len(geoms)} {what} lies within the area of the OSM file: its streets "
            f"span {_span(lon, lat)}, the {what} "
            f"{_span(np.array([x0, x1]), np.array([y0, y1]))}.{hint} Use an OSM extract of "
            f"the same place, or check the {what}' coordinate reference system."
        )
    far = [str(ids[int(i)]) for i in np.flatnonzero(~near)]
    shown = ", ".join(far[:MAX_LISTED]) + (
        f" and {len(far) - MAX_LISTED} more" if len(far) > MAX_LISTED else ""
    )
    warn(
        f"{len(far)} of {len(geoms)} {what} lie outside the area of the OSM file (more than "
        f"{m:g} m beyond its streets) and cannot be reached; they are scored as not served: "
        f"{shown}. Use an OSM extract that covers them, or leave them out.",
        stacklevel=4,
    )


# ------------------------------------------------------------------------------ population


def people_counts(values: pd.Series, column: str, what: str, where: str, rows: Rows) -> np.ndarray:
    """The numbers of people of one column: numbers >= 0; missing cells count as 0 (warned).

    Raises
    ------
    LayerError
        Text that is not a number, negative or infinite counts, or implausibly large ones
        (more than :data:`MAX_PEOPLE_PER_FEATURE` in one feature).

    Examples
    --------
    >>> import pandas as pd
    >>> people_counts(pd.Series([3, "4"]), "pop", "value_column", "f", Rows()).tolist()
    [3.0, 4.0]
    """
    import pandas as pd

    flags = values.map(lambda x: isinstance(x, bool | np.bool_)).to_numpy(dtype=bool)
    if values.dtype.kind == "b" or flags.any():
        raise LayerError(
            f"{where}: column '{column}' ({what}) holds True/False values, not numbers of "
            "people; choose the column that holds the population."
        )
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    text = values.notna().to_numpy() & np.isnan(v)
    if text.any():
        bad = values.to_numpy()[text][0]
        raise LayerError(
            f"{where}: column '{column}' ({what}) must hold numbers of people; found {bad!r} "
            f"in {int(text.sum())} rows ({rows.text(np.flatnonzero(text))})."
        )
    missing = np.isnan(v)
    if missing.any() and not missing.all():
        warn(
            f"{where}: column '{column}' ({what}) has no value in {int(missing.sum())} of "
            f"{len(v)} features ({rows.text(np.flatnonzero(missing))}); they count as 0 people.",
            stacklevel=4,
        )
    v = np.nan_to_num(v, nan=0.0, posinf=np.inf, neginf=-np.inf)
    if (v < 0).any() or not np.isfinite(v).all():
        bad_rows = np.flatnonzero((v < 0) | ~np.isfinite(v))
        raise LayerError(
            f"{where}: column '{column}' ({what}) holds negative or infinite values "
            f"(e.g. {v[bad_rows[0]]!r} in {rows.text(bad_rows)}); people counts must be >= 0."
        )
    huge = v > MAX_PEOPLE_PER_FEATURE
    if huge.any():
        raise LayerError(
            f"{where}: column '{column}' ({what}) holds implausible numbers of people (e.g. "
            f"{v[huge][0]:.4g} in {rows.text(np.flatnonzero(huge))}; no area holds more than "
            f"{MAX_PEOPLE_PER_FEATURE:.0e} people). Check the column, its unit, and that the "
            "table has no total row."
        )
    return v


def check_people(values: np.ndarray, columns: Sequence[tuple[str, str]], where: str) -> None:
    """Raise if the layer holds no people; warn where a group outnumbers all residents.

    ``values`` is ``(features, columns)``, the first column all residents.
    """
    total = values[:, 0]
    if not (total > 0).any():
        col, what = columns[0]
        raise LayerError(
            f"{where}: column '{col}' ({what}) holds no people: all {len(total)} values are 0 "
            "or missing, so no community could be weighted. Choose the column that holds the "
            "population (--population-column, value_column= in Python)."
        )
    for j, (col, what) in enumerate(columns[1:], start=1):
        over = values[:, j] > total * (1 + 1e-9)
        if over.any():
            warn(
                f"{where}: column '{col}' ({what}) exceeds the residents of column "
                f"'{columns[0][0]}' in {int(over.sum())} features; check the columns.",
                stacklevel=4,
            )


# ------------------------------------------------------------------------------ facility tables


def swapped_rows(
    lon: np.ndarray,
    lat: np.ndarray,
    cols: str,
    where: str,
    rows: Rows,
    error: type[LayerError] = LayerError,
) -> np.ndarray:
    """The rows of a table to keep: rows whose longitude and latitude are swapped are left out.

    A row is swapped when its coordinates are out of range (longitude -180..180, latitude
    -90..90) but in range once swapped. Those rows are dropped with a warning.

    Raises
    ------
    LayerError
        (``error``) Every row is swapped (the columns are), or some coordinates are out of
        range either way (projected coordinates).

    Examples
    --------
    >>> swapped_rows(np.array([116.4]), np.array([39.9]), "lon/lat", "t", Rows()).tolist()
    [True]
    """
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if not bad.any():
        return ~bad
    swap_ok = bad & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    head = f"{where}: coordinates in {cols} are outside longitude -180..180 / latitude -90..90"
    if (bad & ~swap_ok).any():
        raise error(
            f"{head} ({rows.text(np.flatnonzero(bad & ~swap_ok))}); these look like projected "
            "coordinates, not degrees: convert them to longitudes and latitudes in degrees "
            "(WGS-84), or save the layer with its CRS as a GeoPackage (in Python, pass crs= with "
            "the coordinate reference system of the columns, e.g. crs='EPSG:3857')."
        )
    if bad.all():
        raise error(
            f"{head} ({rows.text(np.flatnonzero(bad))}); longitude and latitude look swapped: "
            "check which column is which."
        )
    warn(
        f"{head} in {rows.text(np.flatnonzero(bad))}: longitude and latitude look swapped "
        f"there. Left out and not counted ({plural(int(bad.sum()), 'row')}); swap them back "
        "to include them.",
        stacklevel=4,
    )
    return ~bad


def outside_extent(
    lon: np.ndarray, lat: np.ndarray, extent: Sequence[float], margin_m: float
) -> np.ndarray:
    """Which points lie more than ``margin_m`` outside a box in degrees.

    Examples
    --------
    >>> outside_extent(np.array([24.94, 60.17]), np.array([60.17, 24.94]),
    ...                (24.93, 60.16, 24.95, 60.18), 500.0).tolist()
    [False, True]
    """
    x0, y0, x1, y1 = (float(v) for v in extent)
    dy = margin_m / 111_320.0
    dx = dy / max(math.cos(math.radians(min(abs(y0), abs(y1), 89.0))), 0.01)
    inside = (lon >= x0 - dx) & (lon <= x1 + dx) & (lat >= y0 - dy) & (lat <= y1 + dy)
    return ~inside


# ------------------------------------------------------------------------------ OSM extents

#: A file whose streets span more than this many degrees (of latitude, or of longitude at the
#: file's latitude) is refused: fifteenmin analyses a city or a district on one UTM zone.
MAX_SPAN_DEG = 20.0


def stray_points(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, float]:
    """Which points lie far from all the others, and the distance limit used (degrees).

    A point is a stray when its distance from the median point (degrees of latitude, or of
    longitude scaled to the median latitude) exceeds ten times the 99th percentile distance,
    and at least one degree: a node at 0°, 0° ("Null Island") in a city extract, or a typo.

    Examples
    --------
    >>> lon = np.r_[np.linspace(116.3, 116.4, 200), 0.0]
    >>> lat = np.r_[np.linspace(39.9, 40.0, 200), 0.0]
    >>> mask, limit = stray_points(lon, lat)
    >>> int(mask.sum()), mask[-1]
    (1, np.True_)
    """
    if len(lon) < 3:
        return np.zeros(len(lon), dtype=bool), math.inf
    mlon, mlat = float(np.median(lon)), float(np.median(lat))
    scale = max(math.cos(math.radians(min(abs(mlat), 89.0))), 0.01)
    d = np.maximum(np.abs(lon - mlon) * scale, np.abs(lat - mlat))
    limit = max(10.0 * float(np.quantile(d, 0.9)), 1.0)
    return d > limit, limit


def check_span(lon: np.ndarray, lat: np.ndarray, where: str) -> None:
    """Raise if points span more than :data:`MAX_SPAN_DEG` degrees (not a city).

    Raises
    ------
    OSMFileError
        Naming the extent and the fix.
    """
    from ._errors import OSMFileError

    if not len(lon):
        return
    mlat = float(np.median(lat))
    scale = max(math.cos(math.radians(min(abs(mlat), 89.0))), 0.01)
    span_lon = (float(lon.max()) - float(lon.min())) * scale
    span_lat = float(lat.max()) - float(lat.min())
    if max(span_lon, span_lat) > MAX_SPAN_DEG:
        raise OSMFileError(
            f"{where}: its streets span {_span(lon, lat)}, more than {MAX_SPAN_DEG:g} degrees: "
            "fifteenmin analyses a city or a district (projected onto one UTM zone). Clip the "
            "extract to your area (e.g. `osmium extract -b WEST,SOUTH,EAST,NORTH`), or fix the "
            "nodes with wrong coordinates (such as 0, 0)."
        )


def check_feature_extent(
    geoms: np.ndarray,
    where: str,
    rows: Rows,
    what: str,
    error: type[LayerError] = LayerError,
    positions: np.ndarray | None = None,
) -> None:
    """Raise if a geometry (in degrees) spans more than :data:`MAX_SPAN_DEG` degrees.

    A world-sized polygon (a background rectangle, a ring drawn the wrong way round) is no
    community or population area, and cannot be projected onto the study area's UTM zone.
    """
    import shapely

    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        wide = ((b[:, 2] - b[:, 0]) > MAX_SPAN_DEG) | ((b[:, 3] - b[:, 1]) > MAX_SPAN_DEG)
    if wide.any():
        i = int(np.flatnonzero(wide)[0])
        pos = np.arange(len(b)) if positions is None else positions
        raise error(
            f"{where}: {rows.text(pos[wide])} span more than {MAX_SPAN_DEG:g} degrees "
            f"(e.g. {b[i, 2] - b[i, 0]:.4g} x {b[i, 3] - b[i, 1]:.4g} degrees): no {what} is "
            "that large. Remove them (a background rectangle?) or fix their coordinates (a "
            "polygon split at the antimeridian, 180 degrees, cannot be analysed either)."
        )


def repaired(
    geoms: np.ndarray, where: str, rows: Rows, what: str, positions: np.ndarray | None = None
) -> None:
    """Warn about invalid polygons (self-intersections) that ``make_valid`` will repair."""
    import shapely

    bad = ~shapely.is_valid(geoms)
    if bad.any():
        pos = np.arange(len(geoms)) if positions is None else positions
        warn(
            f"{where}: {int(bad.sum())} {what} have invalid polygons (self-intersections or "
            f"similar; {rows.text(pos[bad])}); they were repaired (make_valid). "
            "Check their shapes.",
            stacklevel=4,
        )


# ------------------------------------------------------------------------------ user facilities


def user_tables(frames: Sequence[gpd.GeoDataFrame]) -> dict[str, tuple[str, str, int]]:
    """The user tables behind the frames, by source: (where, row unit, first row number)."""
    tables: dict[str, tuple[str, str, int]] = {}
    for fr in frames:
        if "table" in fr.attrs and "source" in fr.columns:
            for src in fr["source"].astype(str).unique():
                tables[src] = fr.attrs["table"]
        tables.update(fr.attrs.get("tables", {}))
    return tables


def within_osm_area(out: pd.DataFrame, frames: Sequence[gpd.GeoDataFrame]) -> pd.DataFrame:
    """Leave out the user's facilities outside the area of the OSM file, with a warning.

    ``out`` is the concatenation of ``frames`` (``source``, ``osm_id``, ``geometry`` in degrees,
    ``_row``). The area is the box around the streets of the file (``attrs["osm_extent"]`` of a
    frame of :func:`fifteenmin.facilities.facilities_from_osm`) widened by
    :data:`fifteenmin.settings.MAX_SNAP_M`: a facility beyond it can reach no street, so it is
    neither routed nor counted.
    """
    import shapely

    extents = [fr.attrs["osm_extent"] for fr in frames if "osm_extent" in fr.attrs]
    user = (out["source"] != "osm").to_numpy()
    if not extents or not user.any():
        return out
    rep = shapely.point_on_surface(np.asarray(out["geometry"].to_numpy(), dtype=object))
    lon, lat = shapely.get_x(rep), shapely.get_y(rep)
    far = user & outside_extent(lon, lat, extents[0], settings.MAX_SNAP_M)
    if not far.any():
        return out
    swap = far & ~outside_extent(lat, lon, extents[0], settings.MAX_SNAP_M)
    tables = user_tables(frames)
    source = out["source"].astype(str).to_numpy()
    for src in sorted(set(source[far])):
        where, unit, first = tables.get(src, (f"the '{src}' facilities", "row", 1))
        rows = Rows(unit, first)
        mine = far & (source == src)
        pos = out["osm_id"].to_numpy() if src in tables else out["_row"].to_numpy()
        hint = (
            f" In {rows.text(pos[mine & swap])}, longitude and latitude look swapped."
            if (mine & swap).any()
            else " Check their coordinates (and --coord-system)."
        )
        warn(
            f"{where}: {rows.text(pos[mine])} outside the area of the OSM file (more than "
            f"{settings.MAX_SNAP_M:g} m beyond its streets): left out and not counted "
            f"({plural(int(mine.sum()), 'facility', 'facilities')}).{hint}",
            stacklevel=4,
        )
    return out[~far].reset_index(drop=True)
