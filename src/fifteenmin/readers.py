"""Readers of the user's layers and tables (communities, population, facilities, sites, areas).

One place turns every read failure into one clear error. The readers only read: checking
what a layer holds (columns, values, geometry types) is the job of the stage that uses it
(:mod:`fifteenmin.communities`, :mod:`fifteenmin.facilities`), which takes the frames these
functions return.

OSM files are read by :mod:`fifteenmin._osm`; catalogues by :mod:`fifteenmin.catalogue`.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import CommunityFileError, InputFileError, LayerError, LayerTypeError, require_type
from .validate import not_found, path_exists, spatial_layers

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "CSV_ENCODINGS",
    "RASTER_SUFFIXES",
    "TABLE_SUFFIXES",
    "LayerPath",
    "PopulationRaster",
    "is_raster",
    "read_community_layer",
    "read_csv_table",
    "read_facility_table",
    "read_layer",
    "read_population_layer",
    "read_population_raster",
    "read_spreadsheet",
    "read_vector",
]

#: Encodings tried, in this order, to read a CSV file (Chinese CSVs saved by Excel are often
#: GBK; GB18030 is its superset, tried last).
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
#: File suffixes read as delimited text rather than as vector files.
TABLE_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
#: File suffixes read as spreadsheets (POI exports, facility ledgers).
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm"})
#: File suffixes read as population rasters (GeoTIFF; other files are recognised by content).
RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".geotiff"})
#: The first bytes of a TIFF or BigTIFF file (little- and big-endian).
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

_PATH_TYPES = (str, os.PathLike)


class LayerPath(os.PathLike[str]):
    """One layer of a multi-layer vector file (a GeoPackage), usable wherever a path is.

    The readers of this module read ``layer`` of ``path``; everything else sees the path
    (``os.fspath``), so a :class:`~fifteenmin.config.RunConfig` records the file's name.

    Parameters
    ----------
    path
        The file.
    layer
        The layer's name or 0-based position.

    Examples
    --------
    >>> lp = LayerPath("city.gpkg", "communities")
    >>> os.fspath(lp), lp.layer, str(lp)
    ('city.gpkg', 'communities', "city.gpkg (layer 'communities')")
    """

    def __init__(self, path: str | os.PathLike[str], layer: str | int) -> None:
        require_type(path, _PATH_TYPES, "path", "a file path", LayerTypeError)
        require_type(layer, (str, int), "layer", "a layer name or number", LayerTypeError)
        self.path = os.fspath(path)
        self.layer = layer

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return f"{self.path} (layer {self.layer!r})"

    def __repr__(self) -> str:
        return f"LayerPath({self.path!r}, {self.layer!r})"


def _layer_of(path: object, layer: str | int | None) -> str | int | None:
    """The layer asked for: ``layer``, else that of a :class:`LayerPath`."""
    if layer is None and isinstance(path, LayerPath):
        return path.layer
    return layer


def _where(what: str, p: Path, layer: str | int | None) -> str:
    return f"{what} '{p}'" + (f" (layer {layer!r})" if layer is not None else "")


def _pick_layer(p: Path, layer: str | int | None, what: str, option: str) -> str | int | None:
    """The layer to read: ``layer``, else the only layer with geometries of the file.

    Raises
    ------
    LayerError
        The file has several layers with geometries and none was chosen, or the chosen one
        does not exist.
    """
    layers = spatial_layers(p)
    if layer is None:
        if len(layers) > 1:
            raise LayerError(
                f"{what} '{p}' has {len(layers)} layers ({', '.join(layers)}): choose one with "
                f"{option} (in Python: layer=..., or LayerPath(path, layer) from "
                "fifteenmin.readers in a RunConfig)."
            )
        return layers[0] if layers else None
    if isinstance(layer, str) and layers and layer not in layers:
        raise LayerError(
            f"{what} '{p}' has no layer {layer!r}; its layers are: {', '.join(layers)}."
        )
    return layer


def read_vector(
    path: str | os.PathLike[str],
    what: str,
    *,
    layer: str | int | None = None,
    formats: str = "GeoJSON, GeoPackage or Shapefile",
    require_crs: bool = False,
    error: type[LayerError] = LayerError,
) -> gpd.GeoDataFrame:
    """Read a vector file with geopandas, turning every failure into one clear error.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"community file"``).
    layer
        Layer of a multi-layer file.
    formats
        The formats to suggest when the file cannot be read.
    require_crs
        Also reject an empty layer and a layer without a coordinate reference system.
    error
        The :class:`LayerError` subclass raised for those.

    Raises
    ------
    InputFileError
        The file is missing or cannot be read as vector data.
    LayerError
        With ``require_crs``: the layer is empty or has no CRS.

    Examples
    --------
    >>> read_vector("missing.gpkg", "community file")  # doctest: +SKIP
    """
    import geopandas as gpd

    require_type(path, _PATH_TYPES, what, "a file path", LayerTypeError)
    layer = _layer_of(path, layer)
    p = Path(path)
    if not path_exists(p, what):
        raise InputFileError(not_found(what, p))
    try:
        gdf = gpd.read_file(p, layer=layer) if layer is not None else gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several kinds of errors
        raise InputFileError(
            f"'{p}' could not be read as a vector file ({exc}). Use {formats}."
        ) from exc
    if require_crs:
        if len(gdf) == 0:
            raise error(f"{what} '{p}' is empty: it holds no features.")
        if not _has_geometry(gdf):
            raise error(
                f"{what} '{p}' is a table without geometries. Use {formats} (a CSV table "
                "with coordinates or WKT can be converted in QGIS, or in Python with "
                "geopandas)."
            )
        if gdf.crs is None:
            raise error(
                f"{what} '{p}' has no coordinate reference system. Set one in your GIS, or in "
                "Python: gdf.set_crs('EPSG:4326').to_file(...) (use the CRS the coordinates "
                "are really in)."
            )
    return gdf


def _has_geometry(df: object) -> bool:
    """Whether a frame read from a file is a GeoDataFrame with an active geometry column."""
    import geopandas as gpd

    if not isinstance(df, gpd.GeoDataFrame):
        return False
    try:
        return df.geometry.name in df.columns
    except AttributeError:  # a GeoDataFrame without an active geometry column
        return False


def read_layer(path: str | os.PathLike[str], what: str = "layer") -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, GeoPackage, Shapefile, …) that must declare a CRS.

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    LayerError
        Empty layer or no CRS.

    Examples
    --------
    >>> lots = read_layer("vacant_lots.geojson", "candidate layer")  # doctest: +SKIP
    """
    return read_vector(path, f"{what} file", require_crs=True)


def read_csv_table(path: str | os.PathLike[str], what: str = "facility table") -> pd.DataFrame:
    r"""Read a delimited text table, every column as text.

    The encoding is the first of :data:`CSV_ENCODINGS` that decodes the whole file (a UTF-8
    byte-order mark is dropped); the separator is sniffed among comma, semicolon, tab and
    ``|`` (default: tab for ``.tsv``, else comma).

    Parameters
    ----------
    path
        The file (``.csv``, ``.txt``, ``.tsv``).
    what
        What the file is, for messages.

    Returns
    -------
    pandas.DataFrame
        One string column per column of the file (missing cells are NaN).

    Raises
    ------
    InputFileError
        The file cannot be read, is in none of the encodings, or is not a table.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "pois.csv"
    >>> _ = p.write_bytes("名称;经度\n药店;116.4\n".encode("gbk"))
    >>> read_csv_table(p).to_dict("list")
    {'名称': ['药店'], '经度': ['116.4']}
    """
    import pandas as pd

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {what} '{p}': {exc.strerror or exc}") from exc
    text = _decode(raw, p)
    try:
        sep = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"'{p}' could not be read as a CSV table ({exc}).") from exc


def _decode(raw: bytes, p: Path) -> str:
    """The text of a file in the first encoding of :data:`CSV_ENCODINGS` that fits."""
    for enc in CSV_ENCODINGS:
        try:
            return raw.decode(enc).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise InputFileError(
        f"'{p}' is not text in any of the encodings {list(CSV_ENCODINGS)}. Save it from "
        "Excel as 'CSV UTF-8'."
    )


def read_facility_table(
    source: str | os.PathLike[str] | pd.DataFrame, layer: str | int | None = None
) -> tuple[pd.DataFrame, str]:
    """Read the user's facility table: a CSV table, a vector file, or a frame as it is.

    Parameters
    ----------
    source
        A delimited text file (:data:`TABLE_SUFFIXES`, read by :func:`read_csv_table`), any
        vector file GDAL reads, or a ``pandas.DataFrame`` / ``geopandas.GeoDataFrame``
        (returned as it is).
    layer
        Layer of a multi-layer vector file (GeoPackage).

    Returns
    -------
    frame : pandas.DataFrame
        The table (a GeoDataFrame for a vector file).
    where : str
        The source, for messages (``"facility table 'pois.csv'"``).

    Raises
    ------
    InputFileError
        The file is missing or cannot be read.
    LayerTypeError
        ``source`` is neither a path nor a frame (also a ``TypeError``).
    LayerError
        A multi-layer file and no ``layer``.

    Examples
    --------
    >>> import pandas as pd
    >>> read_facility_table(pd.DataFrame({"item": ["pharmacy"]}))[1]
    'the facility DataFrame'
    """
    import geopandas as gpd
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        kind = "GeoDataFrame" if isinstance(source, gpd.GeoDataFrame) else "DataFrame"
        return source, f"the facility {kind}"
    if not isinstance(source, str | os.PathLike):
        raise LayerTypeError(
            "source must be a file path, a pandas DataFrame or a geopandas GeoDataFrame, "
            f"got {type(source).__name__}"
        )
    layer = _layer_of(source, layer)
    p = Path(source)
    if not path_exists(p, "facility table"):
        raise InputFileError(not_found("facility table", p))
    if p.suffix.lower() in TABLE_SUFFIXES:
        return read_csv_table(p), f"facility table '{p}'"
    if p.suffix.lower() in (".xlsx", ".xls", ".ods"):
        raise InputFileError(
            f"facility table '{p}' is a spreadsheet: save it as 'CSV UTF-8' (with longitude and "
            "latitude columns) and give the CSV file."
        )
    layer = _pick_layer(p, layer, "facility table", "--facility-layer")
    gdf = read_vector(
        p,
        "facility table",
        layer=layer,
        formats="CSV (with longitude and latitude columns), GeoJSON, GeoPackage or Shapefile",
    )
    return gdf, _where("facility table", p, layer if isinstance(source, LayerPath) else None)


def read_population_layer(
    population: str | os.PathLike[str] | gpd.GeoDataFrame, layer: str | int | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """Read the user's population layer (points, grid cells or census polygons).

    Parameters
    ----------
    population
        A vector file (any CRS), or a GeoDataFrame (returned as it is).
    layer
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    frame : geopandas.GeoDataFrame
        The layer.
    where : str
        The source, for messages (``"population file 'grid.gpkg'"``).

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    CommunityFileError
        The file has no geometry column.
    LayerError
        A multi-layer file and no ``layer``.
    LayerTypeError
        ``population`` is neither a path nor a GeoDataFrame.

    Examples
    --------
    >>> grid, where = read_population_layer("population_grid.gpkg")  # doctest: +SKIP
    """
    import geopandas as gpd

    if isinstance(population, gpd.GeoDataFrame):
        return population, "the population GeoDataFrame"
    require_type(
        population,
        _PATH_TYPES,
        "population",
        "a file path or a geopandas GeoDataFrame",
        LayerTypeError,
    )
    layer = _layer_of(population, layer)
    p = Path(population)
    if path_exists(p, "population file"):
        layer = _pick_layer(p, layer, "population file", "--population-layer")
    gdf = read_vector(p, "population file", layer=layer)
    if not _has_geometry(gdf):
        raise CommunityFileError(
            f"population file '{p}' has no geometry column: it is a table, not a layer of "
            "points or polygons. Use a GeoPackage, GeoJSON or Shapefile (a CSV table with "
            "coordinates can be converted in QGIS, or in Python with geopandas)."
        )
    return gdf, _where("population file", p, layer if isinstance(population, LayerPath) else None)


def read_community_layer(
    path: str | os.PathLike[str], layer: str | int | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """Read the user's community polygons from a vector file that must declare a CRS.

    Parameters
    ----------
    path
        The file (GeoJSON, GeoPackage, Shapefile, …), or a :class:`LayerPath`.
    layer
        Layer of a multi-layer file (GeoPackage); needed when the file has several layers
        with geometries.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        The layer, in its own CRS.
    where : str
        The source, for messages (``"community file 'communities.geojson'"``).

    Raises
    ------
    InputFileError
        Missing or unreadable file.
    CommunityFileError
        Empty layer, a table without geometries, or no CRS.
    LayerError
        A multi-layer file and no ``layer``.
    LayerTypeError
        ``path`` is not a path.

    Examples
    --------
    >>> com, where = read_community_layer("communities.geojson")  # doctest: +SKIP
    """
    require_type(path, _PATH_TYPES, "the community file", "a file path", LayerTypeError)
    layer = _layer_of(path, layer)
    p = Path(path)
    if path_exists(p, "community file"):
        layer = _pick_layer(p, layer, "community file", "--community-layer")
    gdf = read_vector(p, "community file", layer=layer, require_crs=True, error=CommunityFileError)
    return gdf, _where("community file", p, layer if isinstance(path, LayerPath) else None)


# ------------------------------------------------------------------------------ rasters


def is_raster(path: object) -> bool:
    """Whether ``path`` names a GeoTIFF: by its suffix, else by its first bytes.

    Examples
    --------
    >>> is_raster("worldpop.tif"), is_raster("grid.gpkg"), is_raster(5)
    (True, False, False)
    """
    if not isinstance(path, str | os.PathLike) or isinstance(path, LayerPath):
        return False
    p = Path(path)
    if p.suffix.lower() in RASTER_SUFFIXES:
        return True
    try:
        with p.open("rb") as fh:
            return fh.read(4) in _TIFF_MAGIC
    except OSError:
        return False


class PopulationRaster:
    """The pixels of a population raster that cover an area, as polygons with their people.

    Made by :func:`read_population_raster`. ``pixels`` is a GeoDataFrame in the raster's
    CRS: one square (or parallelogram, for a rotated grid) per pixel holding people, with
    ``population`` (people per pixel), ``row`` and ``col`` (0-based pixel position in the
    file). Pixels of value 0, nodata, NaN or masked are left out.

    Attributes
    ----------
    pixels : geopandas.GeoDataFrame
    where : str
        The source, for messages (``"population raster 'pop.tif'"``).
    total : float
        People in the pixels read: the window of the raster around the area asked for (the
        whole band without an area).
    nodata_pixels : int
        Pixels read that are nodata, NaN or masked (they count as no people).
    """

    def __init__(
        self,
        pixels: gpd.GeoDataFrame,
        where: str,
        total: float,
        nodata_pixels: int,
    ) -> None:
        self.pixels = pixels
        self.where = where
        self.total = total
        self.nodata_pixels = nodata_pixels

    def __repr__(self) -> str:
        return (
            f"PopulationRaster({self.where}, {len(self.pixels)} pixels, {self.total:,.1f} people)"
        )


def read_population_raster(
    path: str | os.PathLike[str],
    bounds: tuple[float, float, float, float] | None = None,
    *,
    band: int = 1,
) -> PopulationRaster:
    """Read the pixels of a population GeoTIFF (WorldPop, GHS-POP, LandScan, …) as polygons.

    Only the window of pixels that can touch ``bounds`` (one pixel wider on each side) is
    read and turned into polygons, so a national raster costs no more than the study area's
    part of it; the raster is never resampled or reprojected: the pixels keep their exact
    footprint in the raster's CRS.

    Parameters
    ----------
    path
        The raster file (any CRS GDAL knows; people per pixel, not density).
    bounds
        ``(west, south, east, north)`` in degrees (WGS-84) of the area of interest; default:
        the whole raster.
    band
        The band holding people per pixel.

    Returns
    -------
    PopulationRaster

    Raises
    ------
    InputFileError
        The file is missing or cannot be read as a raster.
    CommunityFileError
        No CRS, no such band, negative or infinite values.

    Examples
    --------
    >>> r = read_population_raster("worldpop.tif", (116.3, 39.9, 116.4, 40.0))  # doctest: +SKIP
    >>> r.pixels["population"].sum() == r.total  # doctest: +SKIP
    True
    """
    require_type(path, _PATH_TYPES, "population", "a file path", LayerTypeError)
    p = Path(path)
    where = f"population raster '{p}'"
    if not path_exists(p, "population raster"):
        raise InputFileError(not_found("population raster", p))
    rasterio = _rasterio()
    with warnings.catch_warnings():
        # affine >= 3 asks rasterio to write `@` for `*` (PendingDeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return _read_raster(rasterio, p, where, bounds, band)


def _read_raster(
    rasterio: Any,
    p: Path,
    where: str,
    bounds: tuple[float, float, float, float] | None,
    band: int,
) -> PopulationRaster:
    """:func:`read_population_raster` once rasterio is imported."""
    import numpy as np

    try:
        src = rasterio.open(p)
    except Exception as exc:  # rasterio.errors.RasterioIOError and friends
        raise InputFileError(
            f"'{p}' could not be read as a raster ({str(exc).splitlines()[0]}). Use a GeoTIFF "
            "of people per pixel."
        ) from exc
    with src:
        if src.crs is None:
            raise CommunityFileError(
                f"{where} has no coordinate reference system. Set it with GDAL "
                "(gdal_edit.py -a_srs EPSG:4326 FILE) or in your GIS."
            )
        if not 1 <= band <= src.count:
            raise CommunityFileError(f"{where} has {src.count} band(s); band {band} was asked for.")
        window = _raster_window(src, bounds)
        data = src.read(band, window=window, masked=True).astype(np.float64)
        transform = src.window_transform(window)
        crs = src.crs
    values = np.ma.filled(data, np.nan)
    _check_raster_values(values, where)
    valid = np.isfinite(values)
    nodata_pixels = int((~valid).sum())
    keep = valid & (values > 0)
    rows, cols = np.nonzero(keep)
    gdf = _pixel_polygons(rows, cols, values[keep], transform, crs)
    gdf["row"] += int(window.row_off)
    gdf["col"] += int(window.col_off)
    return PopulationRaster(gdf, where, float(values[keep].sum()), nodata_pixels)


def _rasterio() -> Any:
    """rasterio, imported when a raster is read (an optional dependency)."""
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputFileError(
            "reading a population raster needs rasterio: pip install 'fifteenmin[raster]' "
            "(or pip install rasterio)."
        ) from exc
    return rasterio


def _check_raster_values(values: Any, where: str) -> None:
    """Raise for negative or infinite people (values that are not the nodata value)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        bad = (values < 0) | np.isinf(values)
    if bad.any():
        raise CommunityFileError(
            f"{where} holds negative or infinite values (e.g. {values[bad][0]:g}) that are not "
            "its nodata value; a population raster holds people per pixel (>= 0). Set the "
            "nodata value (gdal_edit.py -a_nodata VALUE FILE) or fix the values."
        )


def _raster_window(src: Any, bounds: tuple[float, float, float, float] | None) -> Any:
    """The window of pixels that may touch ``bounds`` (degrees), one pixel wider each side."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    full = Window(0, 0, src.width, src.height)
    if bounds is None:
        return full
    b = transform_bounds("EPSG:4326", src.crs, *bounds, densify_pts=21)
    win = from_bounds(*b, transform=src.transform)
    win = win.round_offsets(op="floor").round_lengths(op="ceil")
    win = Window(win.col_off - 1, win.row_off - 1, win.width + 3, win.height + 3)
    try:
        return win.intersection(full)
    except Exception:  # rasterio.errors.WindowError: no overlap
        return Window(0, 0, 0, 0)


def _pixel_polygons(
    rows: Any, cols: Any, values: Any, transform: Any, crs: Any
) -> gpd.GeoDataFrame:
    """One polygon per pixel (row, col) of an affine grid, with its value."""
    import geopandas as gpd
    import numpy as np
    import shapely

    r = np.asarray(rows, dtype=np.float64)
    c = np.asarray(cols, dtype=np.float64)
    a, b, xoff, d, e, yoff = (transform[i] for i in range(6))
    corners = []
    for dc, dr in ((0, 0), (1, 0), (1, 1), (0, 1), (0, 0)):
        x = a * (c + dc) + b * (r + dr) + xoff
        y = d * (c + dc) + e * (r + dr) + yoff
        corners.append(np.column_stack([x, y]))
    rings = np.stack(corners, axis=1)  # (n, 5, 2)
    polys = shapely.polygons(rings) if len(r) else np.zeros(0, dtype=object)
    return gpd.GeoDataFrame(
        {
            "population": np.asarray(values, dtype=np.float64),
            "row": np.asarray(rows, dtype=np.int64),
            "col": np.asarray(cols, dtype=np.int64),
        },
        geometry=polys,
        crs=crs,
    )


# ------------------------------------------------------------------------------ spreadsheets


def read_spreadsheet(
    path: str | os.PathLike[str],
    what: str = "POI table",
    prefer_sheets: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read a CSV table or one sheet of an Excel workbook (``.xlsx``), every column as text.

    A CSV file is read by :func:`read_csv_table`. Of a workbook, the first sheet named in
    ``prefer_sheets`` is read, else the first sheet that holds more than one column (a
    workbook written by fifteenmin starts with a one-column ``about`` sheet).

    Parameters
    ----------
    path
        The file (``.csv``, ``.txt``, ``.tsv``, ``.xlsx``, ``.xlsm``).
    what
        What the file is, for messages.
    prefer_sheets
        Sheet names to read first, in this order.

    Returns
    -------
    pandas.DataFrame
        One string column per column (empty cells are NaN).

    Raises
    ------
    InputFileError
        The file is missing, cannot be read, or is an old ``.xls``/``.ods`` workbook.

    Examples
    --------
    >>> read_spreadsheet("amap_pois.xlsx").columns.tolist()  # doctest: +SKIP
    ['id', 'name', 'type', 'typecode', 'address', 'location']
    """
    import pandas as pd

    require_type(path, _PATH_TYPES, what, "a file path", LayerTypeError)
    p = Path(path)
    if not path_exists(p, what):
        raise InputFileError(not_found(what, p))
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return read_csv_table(p, what)
    if suffix not in SPREADSHEET_SUFFIXES:
        raise InputFileError(
            f"{what} '{p}' is not a CSV or .xlsx file: save it from your spreadsheet program as "
            "'CSV UTF-8' or 'Excel Workbook (.xlsx)'."
        )
    try:
        sheets = pd.read_excel(p, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # zipfile.BadZipFile, openpyxl and pandas errors
        raise InputFileError(
            f"{what} '{p}' could not be read as an Excel workbook ({exc}). Save it again as "
            "'Excel Workbook (.xlsx)' or 'CSV UTF-8'."
        ) from exc
    for name in prefer_sheets:
        if name in sheets:
            return sheets[name]
    for frame in sheets.values():
        if frame.shape[1] > 1:
            return frame
    raise InputFileError(f"{what} '{p}' holds no sheet with a table (a header row of columns).")
