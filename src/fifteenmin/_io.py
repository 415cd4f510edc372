"""Output helpers shared by every writer: the attribution, output folders, atomic files.

A file is written under a temporary name in its final folder and renamed into place
(:func:`stage_file` + :func:`commit`), so a failure never leaves a half-written file; several
files can be staged first and committed together.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InputFileError, LayerError, OutputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "ATTRIBUTION",
    "commit",
    "prepare_output_dir",
    "read_vector",
    "stage_file",
    "write_atomic",
    "write_csv",
    "write_geojson",
    "write_gpkg",
]

#: The OpenStreetMap attribution every output carries.
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"

#: Mode of the files written (mkstemp makes 0600; reports are meant to be shared).
FILE_MODE = 0o644


def prepare_output_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create ``out_dir`` if needed and check that files can be written in it.

    Raises
    ------
    OutputError
        Naming the folder and the reason.

    Examples
    --------
    >>> import tempfile; prepare_output_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path '{out}' is a file, not a folder: choose another --out.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".fifteenmin-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"cannot write into output folder '{out}' ({exc.strerror or exc}). Choose a folder you "
            "may write to with --out."
        ) from exc
    return out


def stage_file(out: Path, name: str, writer: Callable[[Path], None]) -> tuple[Path, Path]:
    """Write ``out/name`` under a temporary name with ``writer``; return ``(tmp, final)``.

    The temporary file is removed if ``writer`` fails (an ``OSError`` becomes
    :class:`OutputError`).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=Path(name).suffix, dir=out)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if tmp_path.suffix == ".gpkg":
            tmp_path.unlink()  # the GeoPackage driver wants to create the file itself
        writer(tmp_path)
        os.chmod(tmp_path, FILE_MODE)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputError(f"cannot write '{out / name}': {exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return tmp_path, out / name


def discard(staged: Sequence[tuple[Path, Path]]) -> None:
    """Remove staged temporary files."""
    for tmp, _ in staged:
        tmp.unlink(missing_ok=True)


def commit(staged: Sequence[tuple[Path, Path]]) -> list[Path]:
    """Rename staged files into place; return the final paths."""
    done = []
    try:
        for tmp, final in staged:
            os.replace(tmp, final)
            done.append(final)
    except OSError as exc:
        discard(staged)
        raise OutputError(f"cannot move the output into place: {exc}") from exc
    return done


def write_atomic(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    """Write one file atomically (folder created if needed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.txt", lambda p: p.write_text("x"))
    >>> p.read_text()
    'x'
    """
    target = Path(path)
    out = prepare_output_dir(target.parent)
    return commit([stage_file(out, target.name, writer)])[0]


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


def write_csv(path: Path, df: Any, float_format: str | None = "%.4f") -> None:
    """Write a table as UTF-8 CSV whose first line is a ``#`` attribution comment.

    Read it back with ``pandas.read_csv(path, skiprows=1)``.
    """
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# {ATTRIBUTION}\n")
        df.to_csv(fh, index=False, float_format=float_format, lineterminator="\n")


def _plain_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Object columns (lists, dicts, mixed) as text, so vector drivers can store them."""
    gdf = gdf.copy()
    gdf.attrs = {}
    for col in gdf.columns:
        if col != gdf.geometry.name and gdf[col].dtype == object:
            gdf[col] = gdf[col].astype(str)
    return gdf


def _gpkg_date() -> str:
    """The ``last_change`` stamp written into GeoPackages.

    GDAL writes the current time, which makes every file different; a fixed stamp keeps the
    output byte-for-byte reproducible (``SOURCE_DATE_EPOCH`` sets it, as for reproducible
    builds; default 1970-01-01).
    """
    import datetime as dt

    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_gpkg(path: Path, gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Write a GeoPackage layer with the attribution in its metadata and description.

    The file is byte-for-byte reproducible (see :func:`_gpkg_date`).
    """
    import pyogrio

    from ._version import __version__

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _gpkg_date()})
    try:
        _plain_columns(gdf).to_file(
            path,
            layer=layer,
            driver="GPKG",
            engine="pyogrio",
            metadata={"attribution": ATTRIBUTION, "generator": f"fifteenmin {__version__}"},
            layer_options={"DESCRIPTION": f"fifteenmin {layer}. {ATTRIBUTION}"},
        )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_geojson(path: Path, gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Write GeoJSON (WGS-84) with the attribution as the collection's ``description``."""
    _plain_columns(gdf).to_crs("EPSG:4326").to_file(
        path,
        layer=layer,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"DESCRIPTION": ATTRIBUTION},
    )
