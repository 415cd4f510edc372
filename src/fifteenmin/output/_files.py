"""Writers shared by every output: output folders, atomic files, CSV/GeoPackage/GeoJSON/JSON.

A file is written under a temporary name in its final folder and renamed into place
(:func:`stage_file` + :func:`commit`), so a failure never leaves a half-written file; several
files can be staged first and committed together.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from .._errors import OutputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "commit",
    "prepare_output_dir",
    "stage_file",
    "write_atomic",
    "write_csv",
    "write_geojson",
    "write_gpkg",
    "write_json",
    "write_sites",
]


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


def write_csv(path: Path, df: Any, float_format: str | None = "%.4f") -> None:
    """Write a table as UTF-8 CSV whose first line is a ``#`` attribution comment.

    Read it back with ``pandas.read_csv(path, skiprows=1)``.
    """
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# {settings.ATTRIBUTION}\n")
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

    from .._version import __version__

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _gpkg_date()})
    try:
        _plain_columns(gdf).to_file(
            path,
            layer=layer,
            driver="GPKG",
            engine="pyogrio",
            metadata={
                "attribution": settings.ATTRIBUTION,
                "generator": f"fifteenmin {__version__}",
            },
            layer_options={"DESCRIPTION": f"fifteenmin {layer}. {settings.ATTRIBUTION}"},
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
        layer_options={"DESCRIPTION": settings.ATTRIBUTION},
    )


def write_sites(sites: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write sites to ``.gpkg``, ``.geojson``/``.json`` or ``.csv`` (by the file's suffix).

    Raises
    ------
    OutputError
        Unknown suffix or the file cannot be written.

    Examples
    --------
    >>> write_sites(sites, "sites.gpkg")  # doctest: +SKIP
    """
    import pandas as pd

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json", ".csv"):
        raise OutputError(
            f"cannot write '{p}': use a .gpkg, .geojson or .csv file name for the sites."
        )
    if suffix == ".csv":
        return write_atomic(
            p, lambda t: write_csv(t, pd.DataFrame(sites.drop(columns=sites.geometry.name)), None)
        )
    if suffix == ".gpkg":
        return write_atomic(p, lambda t: write_gpkg(t, sites, "sites"))
    return write_atomic(p, lambda t: write_geojson(t, sites, p.stem))


def write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write a JSON document as UTF-8, indented, with a final newline."""
    path.write_text(
        json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
