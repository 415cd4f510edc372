"""Writers shared by every output: output folders, atomic files, CSV/GeoPackage/GeoJSON/JSON.

A file is written under a temporary name in its final folder and renamed into place
(:func:`stage_file` + :func:`commit`), so a failure never leaves a half-written file; several
files can be staged first and committed together.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import settings
from .._errors import OutputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "commit",
    "output_folder",
    "prepare_output_dir",
    "safe_text",
    "stage_file",
    "write_atomic",
    "write_csv",
    "write_geojson",
    "write_gpkg",
    "write_gpkg_layers",
    "write_json",
    "write_sites",
    "write_text",
    "write_xlsx",
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


@contextlib.contextmanager
def output_folder(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """:func:`prepare_output_dir` for a whole run, undone if the run fails.

    A folder this run created is removed again when the run fails before writing anything
    into it, so a failed run leaves no empty folder behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "new"
    >>> try:
    ...     with output_folder(target):
    ...         raise RuntimeError("the pipeline failed")
    ... except RuntimeError:
    ...     pass
    >>> target.exists()
    False
    """
    path = Path(out_dir)
    created = not path.exists()
    out = prepare_output_dir(path)
    try:
        yield out
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if still empty: never removes anything written
        raise


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


#: First characters that make a spreadsheet read a text cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(df: Any) -> Any:
    """A copy of ``df`` whose text cells cannot be read as spreadsheet formulas.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (names from
    OSM or a user's file are untrusted) gets a leading apostrophe, as OWASP recommends for
    CSV injection; numbers are left alone.

    Examples
    --------
    >>> import pandas as pd
    >>> df = safe_text(pd.DataFrame({"name": ["=HYPERLINK(1)", "park", "-3"], "n": [-1, 2, 3]}))
    >>> df["name"].tolist(), df["n"].tolist()
    (["'=HYPERLINK(1)", 'park', "'-3"], [-1, 2, 3])
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = _safe_column(out[col])
    return out


def _safe_text_value(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v


def _safe_column(s: Any) -> Any:
    """``s.map(_safe_text_value)``, mapping each distinct text once when ``s`` is text only."""
    import pandas as pd

    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return s.map(_safe_text_value)  # mixed objects: 1, 1.0 and True would be one value
    codes, uniq = pd.factorize(s, use_na_sentinel=True, sort=False)
    values = list(uniq)
    missing = codes < 0
    if missing.any():
        nas = {(type(v), repr(v)): v for v in s[missing].unique()}
        if len(nas) > 1:
            return s.map(_safe_text_value)
        codes = np.where(missing, len(values), codes)
        values += list(nas.values())
    # the same values, and the dtype pandas infers from the same kinds of value
    mapped = pd.Series(values, dtype=s.dtype).map(_safe_text_value)
    return pd.Series(mapped.to_numpy()[codes], index=s.index, dtype=mapped.dtype, name=s.name)


def write_csv(path: Path, df: Any, float_format: str | None = "%.4f") -> None:
    """Write a table as CSV any tool reads: header on line 1, UTF-8 with a BOM, safe text.

    The byte-order mark makes Excel (also on Chinese Windows) read the file as UTF-8;
    ``pandas.read_csv(path)`` reads it with its defaults. Text cells are passed through
    :func:`safe_text`. The attribution is in the output folder's README.txt and
    summary.json, not in the file, so that the header stays on line 1.
    """
    import codecs

    from ._csv import csv_bytes

    chunks = csv_bytes(df, float_format, FORMULA_PREFIXES)  # the same bytes, faster
    if chunks is not None:
        with path.open("wb") as out:
            out.write(codecs.BOM_UTF8)  # as the "utf-8-sig" codec writes it
            for data in chunks:
                out.write(data)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        safe_text(df).to_csv(fh, index=False, float_format=float_format, lineterminator="\n")


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file (newlines as given)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def write_xlsx(path: Path, sheets: dict[str, Any], about: list[tuple[str, str]]) -> None:
    """Write DataFrames as sheets of an Excel workbook (openpyxl), reproducibly.

    Text cells go through :func:`safe_text` and are stored as text, never as formulas. A table
    longer than an Excel sheet (:data:`XLSX_MAX_ROWS` rows) continues on sheets ``name (2)``,
    ``name (3)``, ... in order. An ``about`` sheet holds ``about``'s (key, value) rows
    (attribution, generator). The workbook's timestamps are fixed (``SOURCE_DATE_EPOCH``, see
    :func:`_gpkg_date`) so the same report gives the same bytes.
    """
    import datetime as dt
    import zipfile
    from concurrent.futures import ThreadPoolExecutor

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from ._xlsx import sheet_rows

    wb = Workbook(write_only=True)  # streams rows: several times faster on large tables
    ws = wb.create_sheet("about")
    for key, value in about:
        ws.append([key, value])
    bold = Font(bold=True)
    bodies = []  # openpyxl writes each sheet's header; its rows are put in below
    for name, df in sheets.items():
        clean = safe_text(df)
        for part, (lo, hi) in enumerate(_sheet_parts(len(clean))):
            sheet = wb.create_sheet(name if part == 0 else f"{name} ({part + 1})")
            sheet.freeze_panes = "B2"
            header = [WriteOnlyCell(sheet, value=str(c)) for c in clean.columns]
            for cell in header:
                cell.font = bold
            sheet.append(header)
            bodies.append((sheet, clean, lo, hi))
    stamp = dt.datetime.fromtimestamp(_epoch(), tz=dt.UTC).replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "fifteenmin"
    wb.save(path)
    # zip entries carry the time they were written: rewrite them with the fixed stamp
    with zipfile.ZipFile(path) as zin:
        entries = [(i, zin.read(i.filename)) for i in zin.infolist()]
    rows = {sheet.path.lstrip("/"): (clean, lo, hi) for sheet, clean, lo, hi in bodies}
    plain = {"plain_floats": True}  # _cell passes floats through, NaN as None
    # one thread compresses (zlib releases the GIL) while this one makes the next sheet's rows
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout,
        ThreadPoolExecutor(1, thread_name_prefix="fifteenmin-xlsx") as pool,
    ):
        done = []
        for info, data in entries:
            if info.filename in rows:  # the rows after the header, as openpyxl writes them
                clean, lo, hi = rows[info.filename]
                end = data.rindex(b"</sheetData>")
                # a block of rows at a time: the cells' text of a city's sheet never at once
                body = b"".join(
                    sheet_rows(clean, a, min(a + XLSX_ROW_BLOCK, hi), 2 + a - lo, _cell, **plain)
                    for a in range(lo, hi, XLSX_ROW_BLOCK)
                )
                data = data[:end] + body + data[end:]
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    data,
                )
            # ZIP cannot store times before 1980: the epoch default becomes 1980-01-01
            when = max(stamp.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
            fixed = zipfile.ZipInfo(info.filename, date_time=when)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            done.append(pool.submit(zout.writestr, fixed, data))  # in order: one worker
        for future in done:
            future.result()  # a failure is raised here


#: Rows of a sheet whose XML is made at a time by :func:`write_xlsx` (bounds its memory).
XLSX_ROW_BLOCK = 8192

#: Rows of data an Excel sheet holds (1,048,576 rows, one of them the header).
XLSX_MAX_ROWS = 1_048_575


def _sheet_parts(n: int) -> list[tuple[int, int]]:
    """Row ranges of the sheets a table of ``n`` rows needs: ``name``, ``name (2)``, ...

    Examples
    --------
    >>> _sheet_parts(3)
    [(0, 3)]
    >>> _sheet_parts(2_100_000)
    [(0, 1048575), (1048575, 2097150), (2097150, 2100000)]
    """
    starts = range(0, max(n, 1), XLSX_MAX_ROWS)
    return [(lo, min(lo + XLSX_MAX_ROWS, n)) for lo in starts]


def _cell(v: Any) -> Any:
    """A value openpyxl stores as is: numbers, text, booleans; NaN and None as empty."""
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, bool | int | float | str):
        return v
    if hasattr(v, "item"):  # numpy scalars
        return _cell(v.item())
    return str(v)


def _plain_columns(frame: Any) -> Any:
    """Object columns as text, so vector drivers can store them.

    Lists are ``;``-joined (flat files are the only place where lists are joined), anything
    else goes through ``str()``.
    """
    frame = frame.copy()
    frame.attrs = {}
    geometry = getattr(frame, "_geometry_column_name", None)
    for col in frame.columns:
        if col != geometry and frame[col].dtype == object:
            frame[col] = frame[col].map(_flat_text)
    return frame


def _flat_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _epoch() -> int:
    """Seconds since 1970 stamped into files (``SOURCE_DATE_EPOCH``, default 0)."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)


def _gpkg_date() -> str:
    """The ``last_change`` stamp written into GeoPackages.

    GDAL writes the current time, which makes every file different; a fixed stamp keeps the
    output byte-for-byte reproducible (``SOURCE_DATE_EPOCH`` sets it, as for reproducible
    builds; default 1970-01-01).
    """
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(_epoch(), tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_gpkg(path: Path, gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Write a one-layer GeoPackage (see :func:`write_gpkg_layers`)."""
    write_gpkg_layers(path, {layer: gdf})


def write_gpkg_layers(path: Path, layers: Mapping[str, Any]) -> None:
    """Write GeoPackage layers, with the attribution in the metadata and descriptions.

    ``layers`` maps layer names to GeoDataFrames (feature layers) or DataFrames (attribute
    tables, such as QGIS's ``layer_styles``), written in order. The file is byte-for-byte
    reproducible (see :func:`_gpkg_date`).
    """
    import pyogrio

    from .._version import __version__

    # the date stamped into the file; and no fsync at every SQLite commit (the file is a
    # staged temporary one, renamed into place like every other report file): the same bytes
    options = {"OGR_CURRENT_DATE": _gpkg_date(), "OGR_SQLITE_SYNCHRONOUS": "OFF"}
    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        for k, (layer, frame) in enumerate(layers.items()):
            meta = {"attribution": settings.ATTRIBUTION, "generator": f"fifteenmin {__version__}"}
            pyogrio.write_dataframe(
                _plain_columns(frame),
                path,
                layer=layer,
                driver="GPKG",
                metadata=meta if k == 0 else None,
                layer_options={"DESCRIPTION": f"fifteenmin {layer}. {settings.ATTRIBUTION}"},
            )
    finally:
        pyogrio.set_gdal_config_options(old)


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
        # a lone CSV has no README beside it: the attribution travels as a column
        table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
        table["attribution"] = settings.ATTRIBUTION
        return write_atomic(p, lambda t: write_csv(t, table, None))
    if suffix == ".gpkg":
        return write_atomic(p, lambda t: write_gpkg(t, sites, "sites"))
    return write_atomic(p, lambda t: write_geojson(t, sites, p.stem))


def write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write a JSON document as UTF-8, indented, with a final newline."""
    path.write_text(
        json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
