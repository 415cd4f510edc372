"""The files of a coverage report, written together into one output folder.

``README.txt``, ``summary.json``, ``coverage.csv``, ``coverage.xlsx``, ``opening_hours.csv``,
``communities.gpkg``, ``facilities.gpkg`` and ``report.html``; with the page's city layout,
its walking areas in ``report_files/areas-NNNN.js`` (:mod:`.html.area_files`), computed,
encoded and written a chunk at a time on a thread of their own while the page is made.

The folder is one unit: nothing is written until every file's content is computed; every
file is staged under a temporary name in the output folder and renamed into place, so a
failure never leaves a half-written file behind; and report files of an earlier run that
this run does not write (``report.html`` after a ``--no-html`` rerun) are removed, so the
folder never mixes two runs (nor an earlier run's walking-area files). Files that are not
report files are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .. import settings
from .._errors import OutputError
from .._progress import logger
from ..siting import plan_missing
from ._files import (
    commit,
    discard,
    prepare_output_dir,
    stage_file,
    write_csv,
    write_gpkg_layers,
    write_json,
    write_text,
    write_xlsx,
)
from .gis import community_layer, community_style, facility_layers
from .html import render_html
from .html.area_files import area_files, chunked
from .html.city import use_city_layout
from .html.city_data import page_community_ids
from .rollups import ROLLUP_FILES, district_layer, rollup_table

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = [
    "REPORT_FILES",
    "map_walking_area_chunks",
    "map_walking_areas",
    "summary_schema",
    "write_report",
]

#: The files of a report, in the order they are written.
REPORT_FILES = (
    "README.txt",
    "summary.json",
    "coverage.csv",
    "districts.csv",
    "community_types.csv",
    "coverage.xlsx",
    "opening_hours.csv",
    "communities.gpkg",
    "facilities.gpkg",
    "report.html",
)


def map_walking_areas(results: Results) -> gpd.GeoDataFrame:
    """The communities' walking areas as the report's map draws them (``isochrones="auto"``).

    Drawn only: exact and simplified to the map's resolution
    (:data:`settings.WALKING_AREA_MAP_SIMPLIFY_M`) up to
    :data:`settings.WALKING_AREA_MAP_EXACT_MAX` communities; above that, for a city's many
    communities, on a grid of :data:`settings.WALKING_AREA_MAP_GRID_M` (``method="raster"``,
    much faster, within a few metres of the exact areas) and simplified to the city layout's
    resolution (:data:`settings.HTML_CITY_AREA_SIMPLIFY_M`).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> areas = map_walking_areas(fm.run_report())  # doctest: +SKIP
    """
    return results.community_isochrones(**_map_area_method(results))


def _map_area_method(results: Results) -> dict[str, Any]:
    """The method, simplification (m) and grid of :func:`map_walking_areas`' areas."""
    exact = results.residents["community_id"].nunique() <= settings.WALKING_AREA_MAP_EXACT_MAX
    if exact:
        return {"simplify_m": settings.WALKING_AREA_MAP_SIMPLIFY_M}
    return {
        "simplify_m": settings.HTML_CITY_AREA_SIMPLIFY_M,
        "method": "raster",
        "grid_m": settings.WALKING_AREA_MAP_GRID_M,
    }


def map_walking_area_chunks(results: Results) -> Iterator[gpd.GeoDataFrame]:
    """:func:`map_walking_areas` in chunks of communities, in community id order.

    For the walking-area files of the report's city layout
    (:func:`~fifteenmin.output.html.area_files.area_files`), which encodes and writes each
    chunk's areas as they come; the areas are computed a chunk at a time
    (:meth:`~fifteenmin.pipeline.Results.iter_community_isochrones`), so memory stays
    bounded whatever the number of communities.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> chunks = list(map_walking_area_chunks(fm.run_report()))  # doctest: +SKIP
    """
    yield from results.iter_community_isochrones(**_map_area_method(results))


def _area_source(
    results: Results, isochrones: gpd.GeoDataFrame | str | None
) -> tuple[Callable[[], Iterable[gpd.GeoDataFrame]], float] | None:
    """Where the city layout's walking-area files come from: (chunks, simplification in m).

    ``None`` when the page draws no community's walking area (``isochrones`` None, or
    without ``community_id``: those are embedded in the page as a layer).
    """
    if isinstance(isochrones, str):
        done = _map_area_method(results)["simplify_m"] >= settings.HTML_CITY_AREA_SIMPLIFY_M
        return (
            lambda: map_walking_area_chunks(results),
            0.0 if done else settings.HTML_CITY_AREA_SIMPLIFY_M,
        )
    if isochrones is not None and "community_id" in getattr(isochrones, "columns", ()):
        per = settings.HTML_AREA_FILE_COMMUNITIES
        return (lambda: chunked(isochrones, per), settings.HTML_CITY_AREA_SIMPLIFY_M)
    return None


def write_report(
    results: Results,
    out_dir: str | os.PathLike[str],
    *,
    html: bool = True,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | str | None = "auto",
    sites: gpd.GeoDataFrame | str | None = "auto",
) -> list[Path]:
    """Write the report files of ``results`` into ``out_dir`` (created if needed).

    Parameters
    ----------
    results
        From :func:`fifteenmin.run_report` (or :func:`fifteenmin.pipeline.run_pipeline`).
    out_dir
        The output folder.
    html
        Also write ``report.html`` (:func:`fifteenmin.output.html.render_html`).
    lang
        Language of the HTML report: ``"en"`` or ``"zh"``.
    isochrones
        Walking areas drawn on the HTML map: ``"auto"`` (each community's 15-minute walking
        area, :func:`map_walking_areas`), a GeoDataFrame, or None. In the page's city layout
        the communities' areas are written into files beside it
        (:data:`settings.HTML_AREA_FOLDER`), which the page loads when one is opened.
    sites
        Proposed sites listed in the HTML report: ``"auto"`` (one site for every required
        item some community misses, :func:`fifteenmin.siting.plan_missing`), a
        GeoDataFrame, or None.

    Returns
    -------
    list of pathlib.Path
        The files written (the walking-area files before ``report.html``).

    Raises
    ------
    OutputError
        The folder cannot be created or written.

    Examples
    --------
    >>> import tempfile, fifteenmin as fm
    >>> files = write_report(fm.run_report(), tempfile.mkdtemp(), html=False)  # doctest: +SKIP
    """
    out = prepare_output_dir(out_dir)
    summary = results.summary()
    # timings vary from run to run: keep them out of the file so that outputs are
    # byte-for-byte reproducible
    summary.pop("timings_s")
    # the city layout's walking areas go into files beside the page, computed, encoded and
    # written a chunk at a time on a thread of their own while the page is made
    city = html and use_city_layout(results, "auto")
    source = _area_source(results, isochrones) if city else None
    ids = page_community_ids(results) if source is not None else []
    area_dir = out / settings.HTML_AREA_FOLDER

    def page() -> bytes:
        iso, near = isochrones, sites
        if isinstance(iso, str):
            iso = None if source is not None else map_walking_areas(results)
        if isinstance(near, str):
            near = plan_missing(results, k=1)
        folder = settings.HTML_AREA_FOLDER if source is not None else None
        text = render_html(results, lang=lang, isochrones=iso, sites=near, area_folder=folder)
        return text.encode("utf-8")

    def area_writers() -> Iterator[tuple[str, Callable[[Path], None]]]:
        if source is None or not ids:
            return
        make, simplify_m = source
        for name, text in area_files(make(), ids, simplify_m=simplify_m):
            yield f"{settings.HTML_AREA_FOLDER}/{name}", _text_writer(text)

    table = results.coverage.table
    rollups = {ROLLUP_FILES[by]: rollup_table(results, by) for by in ROLLUP_FILES}
    layers = {"communities": community_layer(results), "districts": district_layer(results)}
    writers = {
        "README.txt": lambda p: write_text(
            p, readme_text(html, rollups, results.opening_hours is not None, bool(ids))
        ),
        "summary.json": lambda p: write_json(p, summary),
        "coverage.csv": lambda p: write_csv(p, table),
        **{name: _csv_writer(t) for name, t in rollups.items() if t is not None},
        "coverage.xlsx": lambda p: _write_workbook(p, results),
        **_hours_writer(results),
        "communities.gpkg": lambda p: write_gpkg_layers(
            p,
            {
                **{k: v for k, v in layers.items() if v is not None},
                "layer_styles": community_style(),
            },
        ),
        "facilities.gpkg": lambda p: write_gpkg_layers(p, facility_layers(results)),
    }
    made_dir = bool(ids) and not area_dir.exists()
    if ids:
        _area_folder(area_dir)
    try:
        # the page is made on this thread while the other files are written on three others
        staged = _stage_all(
            out, writers, ("report.html", page) if html else None, area_writers() if ids else None
        )
    except BaseException:
        if made_dir:
            with contextlib.suppress(OSError):
                area_dir.rmdir()  # only if still empty
        raise
    written = commit(staged)
    for stale in set(REPORT_FILES) - {*writers, *(["report.html"] if html else [])}:
        (out / stale).unlink(missing_ok=True)  # an earlier run's file: never mix two runs
    _remove_stale_area_files(area_dir, {p.name for p in written if p.parent == area_dir})
    return written


#: The names of walking-area files (:func:`~fifteenmin.output.html.area_files.area_file_names`).
_AREA_FILE = re.compile(r"areas-[0-9]{4,}\.js")


def _area_folder(folder: Path) -> None:
    """Create the walking-area folder (:data:`settings.HTML_AREA_FOLDER`) if needed."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder '{folder}' for the map's walking areas "
            f"({exc.strerror or exc}): remove or rename what is there, or choose another --out."
        ) from exc


def _remove_stale_area_files(folder: Path, keep: set[str]) -> None:
    """Remove an earlier run's walking-area files from ``folder`` (and it, when left empty).

    Only files named like walking-area files are removed; anything else stays.
    """
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if _AREA_FILE.fullmatch(p.name) and p.name not in keep and p.is_file():
            p.unlink(missing_ok=True)
    if not keep:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty: files that are not report files stay


def _text_writer(text: str) -> Callable[[Path], None]:
    """A writer of ``text`` as UTF-8."""
    data = text.encode("utf-8")

    def write(p: Path) -> None:
        p.write_bytes(data)

    return write


#: Files written one after the other on a thread of their own, beside the other files: the
#: GeoPackages (GDAL's configuration, which stamps their date, is process-wide, so they never
#: overlap each other). Their writing (SQLite, GDAL) and the workbook's zlib release the GIL,
#: so the lanes and the page's rendering share the two cores of a small machine.
_SECOND_LANE = ("communities.gpkg", "facilities.gpkg")


def _stage_all(
    out: Path,
    writers: Mapping[str, Callable[[Path], None]],
    late: tuple[str, Callable[[], bytes]] | None = None,
    more: Iterator[tuple[str, Callable[[Path], None]]] | None = None,
) -> list[tuple[Path, Path]]:
    """Stage every file (:func:`stage_file`) on two threads; in ``writers``' order.

    ``late`` is ``(name, make)``: ``make()`` runs on the caller's thread meanwhile, and its
    bytes are staged as the last file. ``more`` yields further ``(name, writer)`` pairs
    (names relative to ``out``, ``/``-separated; their folders must exist), staged on a third
    thread as they come, after ``writers`` and before ``late`` in the order returned. If
    anything fails, every staged file is removed and the first failure (in ``writers``'
    order, ``more``, ``late`` last) is raised once all have stopped.
    """
    names = list(writers)
    lanes: list[Iterator[tuple[str, Callable[[Path], None]]]] = [
        iter([(n, writers[n]) for n in names if n not in _SECOND_LANE]),
        iter([(n, writers[n]) for n in names if n in _SECOND_LANE]),
    ]
    more_names: list[str] = []
    if more is not None:
        lanes.append(_recorded(more, more_names))
    staged: dict[str, tuple[Path, Path]] = {}
    failed: dict[str, BaseException] = {}

    def run(lane: Iterator[tuple[str, Callable[[Path], None]]]) -> None:
        name = "(walking-area files)"
        try:
            for name, writer in lane:
                if failed:
                    return  # another lane failed: stop
                folder, _, base = name.rpartition("/")
                staged[name] = stage_file(out / folder if folder else out, base, writer)
        except BaseException as exc:  # re-raised below, on the caller's thread
            failed[name] = exc

    threads = [
        threading.Thread(target=run, args=(lane,), name="fifteenmin-write") for lane in lanes
    ]
    for t in threads:
        t.start()
    try:
        if late is not None:
            name, make = late
            try:
                data = make()

                def write(p: Path) -> None:
                    p.write_bytes(data)

                staged[name] = stage_file(out, name, write)
            except BaseException as exc:
                failed[name] = exc
    finally:
        for t in threads:
            t.join()
    names += more_names
    if late is not None:
        names.append(late[0])
    if failed:
        discard(list(staged.values()))
        raise next(failed[n] for n in [*names, *failed] if n in failed)
    return [staged[n] for n in names]


def _recorded(
    pairs: Iterator[tuple[str, Callable[[Path], None]]], names: list[str]
) -> Iterator[tuple[str, Callable[[Path], None]]]:
    """``pairs``, appending each name to ``names`` as it comes."""
    for name, writer in pairs:
        names.append(name)
        yield name, writer


def _csv_writer(table: pd.DataFrame) -> Callable[[Path], None]:
    """A writer of ``table`` as CSV (:func:`write_csv`)."""
    return lambda p: write_csv(p, table)


def summary_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``summary.json``, shipped with the package.

    Every field is described; ``docs/summary-json.md`` is generated from it.

    Examples
    --------
    >>> schema = summary_schema()
    >>> schema["properties"]["coverage"]["properties"]["coverage_rate"]["type"]
    ['number', 'null']
    """
    text = resources.files("fifteenmin").joinpath("schemas/summary.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def _about(with_long: bool = True) -> list[tuple[str, str]]:
    from .._version import __version__

    long = (
        "long: coverage.csv"
        if with_long
        else "the long table (coverage.csv) is left out of the workbook above "
        f"{settings.XLSX_LONG_MAX_ROWS:,} rows: read coverage.csv"
    )
    return [
        ("attribution", settings.ATTRIBUTION),
        ("generator", f"fifteenmin {__version__}"),
        (
            "sheets",
            "matrix: status of every item (columns) in every community (rows); "
            f"minutes: resident-weighted median minutes; {long}",
        ),
    ]


def _write_workbook(path: Path, results: Results) -> None:
    """``coverage.xlsx``: the matrices, and the long table unless it is city-sized."""
    sheets = _workbook_sheets(results)
    with_long = len(sheets["long"]) <= settings.XLSX_LONG_MAX_ROWS
    if not with_long:  # the same rows as coverage.csv, and most of the workbook's cost
        logger.info(
            f"coverage.xlsx: the long table ({len(sheets['long']):,} rows, over "
            f"{settings.XLSX_LONG_MAX_ROWS:,}) is left out of the workbook; it is coverage.csv"
        )
        del sheets["long"]
    write_xlsx(path, sheets, _about(with_long))


def _workbook_sheets(results: Results) -> dict[str, pd.DataFrame]:
    """The sheets of ``coverage.xlsx``: the community x item matrices and the long table."""
    table = results.coverage.table
    items = [it.id for it in results.catalogue.items]
    index = ["community_id", "community_name"]
    status = table.pivot(index=index, columns="item_id", values="status")
    minutes = table.pivot(index=index, columns="item_id", values="median_minutes")
    order = results.coverage.communities[index].astype(str)
    keys = pd.MultiIndex.from_frame(order)

    def frame(wide: pd.DataFrame) -> pd.DataFrame:
        wide.index = wide.index.set_levels([lv.astype(str) for lv in wide.index.levels])
        wide = wide.reindex(index=keys, columns=[i for i in items if i in wide.columns])
        return wide.reset_index()

    return {"matrix": frame(status), "minutes": frame(minutes), "long": table}


def _hours_writer(results: Results) -> dict[str, Callable[[Path], None]]:
    """``opening_hours.csv`` (coverage at opening-hours times), when the run has it."""
    hours = results.opening_hours
    if hours is None:
        return {}
    return {"opening_hours.csv": lambda p: write_csv(p, hours.table)}


def readme_text(
    with_html: bool,
    rollups: Mapping[str, object] | None = None,
    with_hours: bool = False,
    with_area_files: bool = False,
) -> str:
    """The README.txt of a report folder: what each file holds, and the data licence.

    ``rollups`` maps the roll-up files to their tables (None where not written);
    ``with_hours``: ``opening_hours.csv`` is written; ``with_area_files``: the page's
    walking areas are in files in :data:`settings.HTML_AREA_FOLDER`.
    """
    from .._version import __version__

    lines = [
        f"fifteenmin {__version__} coverage report",
        "",
        *settings.LICENCE_TEXT,
        "",
        "Files:",
        "  summary.json      parameters, network, facilities per item, coverage rates",
        "  coverage.csv      one row per community and item (UTF-8 with BOM; header on line 1)",
        *(
            f"  {name:<18}{what}"
            for name, what in (
                ("districts.csv", "coverage rates per district (街道 / 区), same CSV format"),
                ("community_types.csv", "coverage rates per community type, same CSV format"),
            )
            if (rollups or {}).get(name) is not None
        ),
        "  coverage.xlsx     the same, plus community x item matrices (status, minutes)",
        *(
            [
                "  opening_hours.csv facilities open / closed / unknown per item at chosen times,",
                "                    and coverage with only the open ones (UTF-8 with BOM)",
            ]
            if with_hours
            else []
        ),
        "  communities.gpkg  community polygons with score, index, band, missing items",
        "  facilities.gpkg   every facility found, with its catalogue item and OSM id",
    ]
    if with_html and with_area_files:
        folder = settings.HTML_AREA_FOLDER + "/"
        lines += [
            "  report.html       the report as a web page that works offline",
            f"  {folder:<18}the communities' walking areas, which report.html loads when a",
            "                    community is opened: keep this folder beside report.html",
        ]
    elif with_html:
        lines.append("  report.html       the report as one self-contained web page")
    return "\n".join([*lines, ""])
