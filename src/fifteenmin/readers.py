"""Readers of the user's vector layers (communities, population, facilities, sites, areas).

One place turns every read failure into one clear error.

OSM files are read by :mod:`fifteenmin._osm`; catalogues by :mod:`fifteenmin.catalogue`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import InputFileError, LayerError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["read_layer", "read_vector"]


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

    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{what} not found: '{p}'. Check the path.")
    try:
        gdf = gpd.read_file(p, layer=layer) if layer is not None else gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several kinds of errors
        raise InputFileError(
            f"'{p}' could not be read as a vector file ({exc}). Use {formats}."
        ) from exc
    if require_crs:
        if len(gdf) == 0:
            raise error(f"{what} '{p}' is empty: it holds no features.")
        if gdf.crs is None:
            raise error(
                f"{what} '{p}' has no coordinate reference system. Set one in your GIS, or in "
                "Python: gdf.set_crs('EPSG:4326').to_file(...) (use the CRS the coordinates "
                "are really in)."
            )
    return gdf


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
