"""Command line: ``fifteenmin report``, ``compare``, ``site``, ``catalogue``.

Errors that fifteenmin raises on purpose (bad input, unwritable output) are printed as one
line, ``fifteenmin: error: ...``, with exit status 2; nothing is half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from ._errors import FifteenminError
from ._progress import logger, progress_shown
from ._version import __version__

if TYPE_CHECKING:
    from .config import RunConfig

__all__ = ["main"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _share(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {text!r}")
    return value


def _add_pipeline_args(p: argparse.ArgumentParser) -> None:
    """Options of the coverage pipeline, shared by ``report`` and ``site``."""
    p.add_argument(
        "--communities", help="community polygons (GeoJSON, GeoPackage, Shapefile; any CRS)"
    )
    p.add_argument(
        "--community-layer",
        help="layer of a --communities file with several layers (GeoPackage)",
    )
    p.add_argument("--id-column", help="column of the community file holding unique ids")
    p.add_argument("--name-column", help="column of the community file holding names")
    p.add_argument(
        "--catalogue",
        default=settings.CATALOGUE,
        help=f"catalogue name or file (default: {settings.CATALOGUE})",
    )
    p.add_argument(
        "--facilities",
        help="your own facilities (CSV with lon/lat columns, or a vector file), added to OSM's",
    )
    p.add_argument(
        "--facility-layer", help="layer of a --facilities file with several layers (GeoPackage)"
    )
    p.add_argument(
        "--facility-item-column",
        default="item",
        help="column of --facilities holding catalogue item ids or names (default: item)",
    )
    p.add_argument(
        "--coord-system",
        choices=["wgs84", "gcj02", "bd09"],
        default="wgs84",
        help="coordinates of a --facilities CSV: wgs84 (GPS, OSM), gcj02 (Amap, Tencent) or "
        "bd09 (Baidu); default wgs84",
    )
    p.add_argument(
        "--population",
        help="population layer (points, grid cells or census polygons; any CRS) or raster "
        "(GeoTIFF of people per pixel: WorldPop, GHS-POP, LandScan) weighting residents in "
        "people",
    )
    p.add_argument(
        "--population-layer",
        help="layer of a --population file with several layers (GeoPackage)",
    )
    p.add_argument(
        "--population-column",
        default="population",
        help="column of --population holding residents (default: population)",
    )
    p.add_argument("--elderly-column", help="column of --population holding elderly residents")
    p.add_argument("--children-column", help="column of --population holding children")
    p.add_argument(
        "--speed",
        type=_positive_float,
        default=None,
        help=f"walking speed in m/s (default {settings.WALK_SPEED_M_S:.2f})",
    )
    p.add_argument(
        "--uniform-speed",
        action="store_true",
        help="walk every item at --speed (default: elderly-care items at the elderly profile, "
        "1.0 m/s)",
    )
    p.add_argument(
        "--no-pedestrian-areas",
        dest="pedestrian_areas",
        action="store_false",
        help="leave pedestrian squares out of the walking network, as osmnx's walk rule does "
        "(default: walkable through their outline and crossings between their entrances)",
    )
    p.add_argument(
        "--threshold",
        type=_share,
        default=settings.THRESHOLD,
        help="share of residents within the tier for an item to be met "
        f"(default {settings.THRESHOLD:g})",
    )
    p.add_argument(
        "--category-weights",
        type=_weights,
        default=None,
        help="weights of categories in the composite index, e.g. health=2,education=2 (others 1)",
    )
    p.add_argument(
        "--engine", choices=settings.ENGINES, default=settings.ENGINE, help="shortest-path engine"
    )
    _add_poi_args(p)
    _add_rates_args(p)


def _add_poi_args(p: argparse.ArgumentParser) -> None:
    """POI exports of Chinese web maps and facility ledgers (fifteenmin.poi)."""
    p.add_argument(
        "--poi",
        action="append",
        metavar="FILE",
        help="a POI export of Amap (高德), Baidu or Tencent, or a facility ledger (台账), as CSV "
        "or .xlsx; its POIs are mapped to catalogue items and added (source=poi); repeatable",
    )
    p.add_argument(
        "--poi-source",
        choices=["auto", *settings.POI_SOURCES],
        default="auto",
        help="where the --poi files come from (default: guessed from their columns)",
    )
    p.add_argument(
        "--poi-crs",
        choices=["gcj02", "bd09", "wgs84"],
        default=None,
        help="coordinates of the --poi files (default: what the file says, else gcj02 for "
        "Amap and Tencent, bd09 for Baidu)",
    )


def _add_rates_args(p: argparse.ArgumentParser) -> None:
    """People, districts and community types (issue 13)."""
    p.add_argument(
        "--floor-area-per-person",
        type=_positive_float,
        default=settings.FLOOR_AREA_PER_PERSON_M2,
        metavar="M2",
        help="m² of residential floor area per resident, turning OSM floor area into people "
        f"without --population (default {settings.FLOOR_AREA_PER_PERSON_M2:g}: Beijing urban "
        "households, 2020 census)",
    )
    p.add_argument(
        "--people-per-street-m",
        type=_positive_float,
        default=settings.PEOPLE_PER_STREET_M,
        metavar="N",
        help="residents per metre of street, for communities without residential buildings "
        f"(default {settings.PEOPLE_PER_STREET_M:g})",
    )
    p.add_argument(
        "--districts",
        help="district polygons (街道 / 区; any CRS), or 'osm' for the OSM file's admin_level "
        "9/8 boundaries where complete: rates are also reported per district (districts.csv); "
        "each community goes to the district it overlaps most",
    )
    p.add_argument(
        "--district-layer", help="layer of a --districts file with several layers (GeoPackage)"
    )
    p.add_argument(
        "--district-column", help="column of --districts holding the names (default: name)"
    )
    p.add_argument(
        "--community-type-column",
        help="column of --communities holding the community type (e.g. 老旧小区); default: a "
        "community_type or type column; rates are also reported per type",
    )


def _weights(text: str) -> dict[str, float]:
    out = {}
    for part in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = -1.0
        if not sep or not key.strip() or not w >= 0 or w == float("inf"):
            raise argparse.ArgumentTypeError(
                f"expected CATEGORY=WEIGHT pairs separated by commas (weights >= 0), got {part!r}"
            )
        if key.strip() in out:
            raise argparse.ArgumentTypeError(f"category {key.strip()!r} is weighted twice")
        out[key.strip()] = w
    return out


def _layer(path: str | None, layer: str | None, option: str, layer_option: str) -> Any:
    """A file, or one layer of it (:class:`~fifteenmin.readers.LayerPath`) with its option."""
    from ._errors import ConfigError
    from .readers import LayerPath

    if layer is None:
        return path
    if path is None:
        raise ConfigError(f"{layer_option} chooses a layer of {option}, which was not given")
    return LayerPath(path, layer)


def _check_out(out: str | None) -> None:
    """Refuse an empty --out (it would write into the current folder)."""
    from ._errors import OutputError

    if out is not None and not out.strip():
        raise OutputError(
            "--out is empty: give the name of the output folder (or file), e.g. --out report."
        )
    if out is not None:
        try:
            Path(out).exists()
        except OSError as exc:  # a name too long, ...
            shown = out if len(out) <= 80 else out[:77] + "..."
            raise OutputError(f"--out '{shown}' cannot be used: {exc.strerror or exc}.") from None


def _config(args: argparse.Namespace) -> RunConfig:
    """The run configuration from the shared pipeline options."""
    from .catalogue import load_catalogue
    from .config import RunConfig
    from .validate import path_exists

    if Path(args.catalogue).suffix.lower() in (".yaml", ".yml", ".toml"):
        path_exists(args.catalogue, "catalogue file")  # a name the system refuses: one line
    # category weights are checked against the catalogue's categories, before any work
    cat = load_catalogue(args.catalogue) if args.category_weights else args.catalogue
    return RunConfig(
        communities=_layer(
            args.communities, args.community_layer, "--communities", "--community-layer"
        ),
        id_column=args.id_column,
        name_column=args.name_column,
        user_facilities=_layer(
            args.facilities, args.facility_layer, "--facilities", "--facility-layer"
        ),
        facility_item_column=args.facility_item_column,
        coord_system=args.coord_system,
        population=_layer(
            args.population, args.population_layer, "--population", "--population-layer"
        ),
        population_column=args.population_column,
        elderly_column=args.elderly_column,
        children_column=args.children_column,
        catalogue=cat,
        speed=args.speed if args.speed is not None else settings.WALK_SPEED_M_S,
        item_profiles=not args.uniform_speed,
        pedestrian_areas=args.pedestrian_areas,
        threshold=args.threshold,
        category_weights=args.category_weights,
        engine=args.engine,
        poi=args.poi,
        poi_source=None if args.poi_source == "auto" else args.poi_source,
        poi_crs=args.poi_crs,
        floor_area_per_person=args.floor_area_per_person,
        people_per_street_m=args.people_per_street_m,
        districts=_layer(args.districts, args.district_layer, "--districts", "--district-layer"),
        district_column=args.district_column,
        community_type_column=args.community_type_column,
        opening_hours_at=_opening_hours_at(args),
    )


@contextlib.contextmanager
def _console(args: argparse.Namespace) -> Iterator[None]:
    """Stage messages and warnings on stderr through the ``fifteenmin`` logger.

    Default: progress (INFO) and warnings; ``-q``: errors only, no progress bars; ``-v``:
    also DEBUG messages. The handler is removed again when the command ends.
    """
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", 0)
    level = logging.ERROR if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[fifteenmin] %(message)s"))
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        with progress_shown(False if quiet else None), warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _log_warning
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


def _log_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """Show a warning through the logger, as it happens (``warnings.showwarning``).

    The library's own warnings (dropped or repaired input) are UserWarnings; others
    (numpy's RuntimeWarnings on empty slices, deprecations of dependencies) are no business
    of a command-line user and are not shown.
    """
    if issubclass(category, UserWarning):
        logger.warning(f"warning: {message}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fifteenmin",
        description="15-minute-city walkability: which communities reach which basic services "
        "within a 15-minute walk. Map data © OpenStreetMap contributors (ODbL).",
    )
    p.add_argument("--version", action="version", version=f"fifteenmin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_report_parser(sub)
    _add_compare_parser(sub)
    _add_catalogue_parser(sub)
    _add_site_parser(sub)
    _add_batch_parser(sub)
    _add_ledger_parser(sub)
    return p


def _add_ledger_parser(sub: Any) -> None:
    lt = sub.add_parser(
        "ledger-template",
        help="write an empty facility ledger (台账: CSV and Excel, Chinese headers) for the "
        "facilities OSM lacks",
        description="Write facility_ledger.csv and facility_ledger.xlsx into OUT: the columns "
        "名称, 事项编号, 事项名称, 地址, 经度, 纬度, 坐标系, 开放时间, 备注, and (in the workbook) "
        "the catalogue's items and an explanation of each column. Fill in one row per "
        "facility and give the file to `fifteenmin report --poi FILE`.",
    )
    lt.add_argument("--out", required=True, help="output folder")
    lt.add_argument(
        "--catalogue",
        default=settings.CATALOGUE,
        help=f"catalogue whose items the ledger lists (default: {settings.CATALOGUE})",
    )
    _add_verbosity_args(lt)


def _cmd_ledger(args: argparse.Namespace) -> int:
    from .output.poi_files import write_ledger_template

    _check_out(args.out)
    files = write_ledger_template(args.out, args.catalogue)
    logger.info("wrote " + ", ".join(str(f) for f in files))
    return 0


def _add_verbosity_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages, bars or warnings"
    )
    g.add_argument("-v", "--verbose", action="count", default=0, help="more messages")


def _add_report_parser(sub: Any) -> None:
    r = sub.add_parser(
        "report",
        help="coverage report of an OSM file (default: the bundled sample)",
        description="Compute walking times to every catalogue item and score each community; "
        "write summary.json, coverage.csv, communities.gpkg, facilities.gpkg and report.html.",
    )
    r.add_argument(
        "osm_file", nargs="?", help=".osm, .osm.bz2 or .osm.pbf file (default: bundled sample)"
    )
    _add_pipeline_args(r)
    _add_online_and_scenario_args(r)
    r.add_argument(
        "--lang", choices=settings.LANGS, default=settings.LANG, help="language of report.html"
    )
    r.add_argument("--no-html", action="store_true", help="do not write report.html")
    r.add_argument(
        "--no-isochrones",
        action="store_true",
        help="leave the communities' 15-minute walking areas off the HTML map (faster for "
        "thousands of communities)",
    )
    r.add_argument(
        "--no-sites",
        action="store_true",
        help="leave the 'where to add facilities' (怎么补) section out of the HTML report",
    )
    r.add_argument(
        "--out",
        default=settings.OUT_DIR,
        help=f"output folder (default: ./{settings.OUT_DIR})",
    )
    _add_hours_args(r)
    _add_tiles_args(r)
    _add_verbosity_args(r)


def _add_hours_args(r: argparse.ArgumentParser) -> None:
    """``report``'s opening-hours times (开放率): ``--at`` (repeatable), ``--no-opening-hours``."""
    g = r.add_mutually_exclusive_group()
    g.add_argument(
        "--at",
        action="append",
        type=_at_time,
        metavar="'DAY HH:MM'",
        help="also score coverage with only the facilities open at this local time (OSM "
        "opening_hours; unknown hours kept apart); DAY: weekday, weekend, mon ... sun, or a "
        "date YYYY-MM-DD; repeat for several times (default: "
        f"{' and '.join(repr(t) for t in settings.OPENING_HOURS_AT)} in the week of "
        f"{settings.OPENING_HOURS_WEEK}); writes opening_hours.csv",
    )
    g.add_argument(
        "--no-opening-hours",
        action="store_true",
        help="do not score coverage at opening-hours times (no opening_hours.csv; faster)",
    )


def _at_time(text: str) -> str:
    from .hours import reference_times

    try:
        return reference_times([text])[0].label
    except FifteenminError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _opening_hours_at(args: argparse.Namespace) -> tuple[str, ...]:
    """The times of ``--at`` (default: the settings'); none with ``--no-opening-hours``.

    Commands without these options (``site``) compute none.
    """
    if getattr(args, "no_opening_hours", True):
        return ()
    return tuple(args.at) if args.at else settings.OPENING_HOURS_AT


def _add_tiles_args(r: argparse.ArgumentParser) -> None:
    """``report --tiles N``: one area cut into tiles, routed as Dask tasks and merged."""
    r.add_argument(
        "--tiles",
        type=_positive_int,
        default=None,
        metavar="N",
        help="cut the area into N tiles (margin: the longest walk) and route them as Dask "
        "tasks; coverage.csv and summary.json are those of the untiled run; report.html is "
        "not written",
    )
    r.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="with --tiles: worker processes of the local Dask cluster (default: one per core)",
    )
    r.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --tiles: address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: a local cluster)",
    )


def _add_catalogue_parser(sub: Any) -> None:
    c = sub.add_parser("catalogue", help="list, show or validate service catalogues")
    csub = c.add_subparsers(dest="action", required=True)
    csub.add_parser("list", help="bundled catalogues")
    show = csub.add_parser("show", help="print a catalogue (items, tiers, OSM tags, sources)")
    show.add_argument("name", help="catalogue name or file")
    show.add_argument("--lang", choices=settings.LANGS, default=settings.LANG, help="language")
    val = csub.add_parser("validate", help="check a catalogue file")
    val.add_argument("file", help="catalogue file (.yaml, .yml or .toml)")


def _add_site_parser(sub: Any) -> None:
    st = sub.add_parser(
        "site",
        help="propose sites for new facilities of an item (greedy maximal coverage)",
        description="Run the coverage pipeline, then choose up to K sites for new facilities of "
        "ITEM so that the most resident weight (floor area, or street metres) not yet within "
        "the item's tier of an existing facility comes within it. ITEM 'missing' plans K sites "
        "for every required item that some community misses.",
    )
    # ITEM --k 3 OSM_FILE: options may come between the positionals
    st.__class__ = _IntermixedParser
    st.add_argument("item", metavar="ITEM", help="catalogue item id, or 'missing'")
    st.add_argument(
        "osm_file",
        nargs="?",
        metavar="OSM_FILE",
        help=".osm, .osm.bz2 or .osm.pbf file (default: bundled sample)",
    )
    st.add_argument(
        "--k",
        type=_positive_int,
        default=None,
        help="number of sites (per item; default 3, or 1 with ITEM 'missing'; with only "
        "--target-share: as many as it takes)",
    )
    st.add_argument(
        "--target-share",
        type=_share,
        default=None,
        help="stop once this share of the resident weight is covered",
    )
    st.add_argument(
        "--candidates",
        help="candidate sites layer (vacant lots, ground floors: points or polygons, any CRS); "
        "default: the network's nodes",
    )
    st.add_argument("--areas", help="polygons (any CRS) the candidate sites must lie in")
    st.add_argument(
        "--spacing",
        type=_positive_float,
        default=None,
        help="also consider points every SPACING metres along the streets",
    )
    _add_pipeline_args(st)
    st.add_argument(
        "--no-swaps",
        action="store_true",
        help="plain greedy: do not improve the sites by swaps afterwards",
    )
    st.add_argument("--out", help="write the sites to a .gpkg, .geojson or .csv file")
    _add_verbosity_args(st)


class _IntermixedParser(argparse.ArgumentParser):
    """A (sub)parser that accepts options between its positionals (``site ITEM --k 3 FILE``)."""

    _inner = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _cmd_report(args: argparse.Namespace) -> int:
    from .output import output_folder
    from .output.poi_files import write_poi_unmatched
    from .report import for_writing, run_report

    # fail fast on an unwritable output folder, before the long steps; a folder this run
    # created is removed again if the run fails
    _check_out(args.out)
    if args.tiles is None and (args.workers is not None or args.scheduler is not None):
        from ._errors import ConfigError

        raise ConfigError(
            "--workers and --scheduler run the tiles of --tiles N on Dask; add --tiles N "
            "(or leave them out)"
        )
    with output_folder(args.out) as out:
        if args.tiles is not None:
            return _report_tiled(args, out)
        # only written: without the arrays no report file reads (the largest part in memory)
        report = for_writing(run_report(_report_source(args), config=_report_config(args)))
        if not args.no_html:
            logger.info("drawing the HTML report (15-minute walking areas of the communities)")
        files = report.write(
            out,
            html=not args.no_html,
            lang=args.lang,
            isochrones=None if args.no_isochrones else "auto",
            sites=None if args.no_sites else "auto",
        )
        unmatched = write_poi_unmatched(report, out)
        if unmatched is not None:
            files.append(unmatched)
    logger.info("wrote " + _files_text(files, out / settings.HTML_AREA_FOLDER))
    return 0


def _files_text(files: list[Path], area_dir: Path) -> str:
    """The files written, the walking-area files of ``area_dir`` counted instead of listed."""
    areas = [f for f in files if f.parent == area_dir]
    if len(areas) <= 1:
        return ", ".join(str(f) for f in files)
    rest = [str(f) for f in files if f.parent != area_dir]
    at = next(k for k, f in enumerate(files) if f.parent == area_dir)
    rest.insert(at, f"{area_dir}/ ({len(areas)} walking-area files)")
    return ", ".join(rest)


def _report_tiled(args: argparse.Namespace, out: Path) -> int:
    """``report --tiles N``: every report file but report.html, from the merged tiles."""
    from .tiles import run_tiled

    if not args.no_html:
        logger.warning(
            "warning: --tiles: report.html is not written (its walking areas, service "
            "directory and proposed sites are whole-area analyses); the other files are. Add "
            "--no-html to silence this, or run without --tiles for report.html."
        )
    report = run_tiled(
        _report_source(args),
        tiles=args.tiles,
        config=_report_config(args),
        scheduler=args.scheduler,
        workers=args.workers,
    )
    files = report.write(out, html=False, lang=args.lang)
    logger.info("wrote " + ", ".join(str(f) for f in files))
    return 0


def _bbox(text: str) -> tuple[float, float, float, float]:
    parts = [t.strip() for t in text.split(",")]
    try:
        w, s, e, n = (float(t) for t in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WEST,SOUTH,EAST,NORTH in degrees (four numbers), got {text!r}"
        ) from None
    return w, s, e, n


def _add_online_and_scenario_args(r: argparse.ArgumentParser) -> None:
    """``report``'s online areas (instead of an OSM file) and planned facilities."""
    area = r.add_mutually_exclusive_group()
    area.add_argument(
        "--place",
        help="download the OSM data of a named area instead of reading a file, e.g. "
        "'学院路街道, 海淀区, 北京市' (Nominatim + Overpass through osmnx's settings; kept in "
        "osmnx's cache folder, so a second run works offline)",
    )
    area.add_argument(
        "--bbox",
        type=_bbox,
        metavar="WEST,SOUTH,EAST,NORTH",
        help="download the OSM data of a box (WGS-84 degrees) instead of reading a file",
    )
    r.add_argument(
        "--add-facilities",
        metavar="TABLE",
        help="planned facilities (a scenario; same table format as --facilities), added to the "
        "run and marked source=planned in facilities.gpkg; compare the report with today's "
        "with `fifteenmin compare`",
    )


def _report_source(args: argparse.Namespace) -> Any:
    """The OSM file, or the online area of ``--place``/``--bbox``."""
    from ._errors import ConfigError
    from .online import OnlineArea

    if args.place is None and args.bbox is None:
        return args.osm_file
    if args.osm_file is not None:
        raise ConfigError(
            f"give an OSM file or --place/--bbox, not both (got {args.osm_file!r} and "
            f"{'--place' if args.place is not None else '--bbox'})"
        )
    return OnlineArea(place=args.place, bbox=args.bbox)


def _report_config(args: argparse.Namespace) -> RunConfig:
    """:func:`_config`, with ``--add-facilities`` as facility tables by source."""
    cfg = _config(args)
    if args.add_facilities is None:
        return cfg
    # cfg.user_facilities is --facilities with its --facility-layer (a LayerPath) or None
    tables = {"user": cfg.user_facilities} if cfg.user_facilities is not None else {}
    return cfg.replace(user_facilities={**tables, "planned": args.add_facilities})


def _add_compare_parser(sub: Any) -> None:
    c = sub.add_parser(
        "compare",
        help="before and after: what changes between two reports (e.g. a scenario with "
        "planned facilities against today)",
        description="Read two report folders (coverage.csv and summary.json; communities.gpkg "
        "for the map) and write changes.csv (community, item, status before and after, share "
        "within the tier, median minutes, gained/lost), summary.json (coverage rate and "
        "resident-weighted rate before, after and their change, communities gaining and "
        "losing items, counts per item) and compare.html.",
    )
    c.add_argument("before", metavar="BEFORE_DIR", help="report folder of the first run (today)")
    c.add_argument("after", metavar="AFTER_DIR", help="report folder of the second run")
    c.add_argument("--out", required=True, help="output folder of the comparison")
    c.add_argument(
        "--lang", choices=settings.LANGS, default=settings.LANG, help="language of compare.html"
    )
    _add_verbosity_args(c)


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_reports

    comp = compare_reports(args.before, args.after)
    files = comp.write(args.out, lang=args.lang)
    logger.info(comp.headline())
    logger.info("wrote " + ", ".join(str(f) for f in files))
    return 0


def _add_batch_parser(sub: Any) -> None:
    b = sub.add_parser(
        "batch",
        help="coverage reports of many studies (a table of OSM files) on Dask",
        description="Run `fifteenmin report` for every study of a table (CSV, YAML or TOML: "
        "columns study and osm_file (or place or bbox, downloaded), and any report option as a "
        "column, overriding the command line's for its row; relative paths are relative to the "
        "table), one Dask task "
        "per study, on a local cluster or through --scheduler. OUT/<study>/ holds the study's "
        "report; OUT/studies.csv and OUT/studies.gpkg the merged table; OUT/manifest.json lets "
        "a rerun skip the studies already done. Exit status 1 if a study failed.",
    )
    b.add_argument("studies", metavar="STUDIES", help="studies table (.csv, .yaml or .toml)")
    # every option of `fifteenmin report`, taken from the report parser itself, so that the
    # two commands always offer the same options; but the output folder and verbosity (the
    # batch's own), and the one area of --place/--bbox (a study's area is its row's)
    scratch = argparse.ArgumentParser(add_help=False).add_subparsers()
    _add_report_parser(scratch)
    own = {"help", "out", "quiet", "verbose", "place", "bbox", "workers", "scheduler"}
    for action in scratch.choices["report"]._actions:
        if action.option_strings and action.dest not in own:
            b._add_action(action)
    b.add_argument(
        "--out",
        required=True,
        help="output folder: one folder per study, studies.csv, studies.gpkg, manifest.json",
    )
    b.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local "
        "cluster)",
    )
    b.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes of the local cluster (default: one per core)",
    )
    _add_verbosity_args(b)


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch_run import batch

    table = batch(
        args.studies,
        args.out,
        config=_report_config(args),
        html=not args.no_html,
        lang=args.lang,
        isochrones=not args.no_isochrones,
        sites=not args.no_sites,
        scheduler=args.scheduler,
        workers=args.workers,
        tiles=args.tiles,
    )
    failed = table[table["status"] != "ok"]
    logger.info(
        f"{len(table) - len(failed)} of {len(table)} studies ok; merged table in "
        f"{args.out}/studies.csv and studies.gpkg"
    )
    if len(failed):
        logger.error(f"failed: {', '.join(failed['study'])} (errors in studies.csv)")
    return 1 if len(failed) else 0


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from .catalogue import available_catalogues, format_catalogue, load_catalogue

    if args.action == "list":
        for name in available_catalogues():
            cat = load_catalogue(name)
            n_map = len(cat.items)
            print(f"{name:10s} {n_map:3d} items  {cat.title_en} / {cat.title_zh}")
        return 0
    if args.action == "show":
        print(format_catalogue(load_catalogue(args.name), lang=args.lang))
        return 0
    cat = load_catalogue(args.file)
    print(
        f"{args.file}: valid catalogue '{cat.name}' with {len(cat)} items "
        f"({len(cat.required_items)} required)"
    )
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ._errors import OutputError
    from .catalogue import load_catalogue
    from .output import write_sites
    from .readers import read_layer
    from .report import run_report
    from .siting import plan_missing, site_facilities

    if args.spacing is not None and args.candidates:
        raise FifteenminError(
            "--spacing places candidates along the streets; it cannot be combined with "
            "--candidates (a candidate layer)"
        )
    # fail fast, before the long steps: unknown item, unreadable layers, bad output name
    _check_out(args.out)
    cat = load_catalogue(args.catalogue)
    plan = args.item == "missing"
    if not plan:
        cat[args.item]  # UnknownItemError (exit 2) names the known ids
    if args.out and Path(args.out).suffix.lower() not in (".gpkg", ".geojson", ".json", ".csv"):
        raise OutputError(
            f"cannot write '{args.out}': use a .gpkg, .geojson or .csv file name for the sites."
        )
    cands = read_layer(args.candidates, "candidate layer") if args.candidates else None
    areas = read_layer(args.areas, "areas") if args.areas else None
    if args.k is not None:
        k = args.k
    else:  # with only a target share, as many sites as it takes
        k = None if args.target_share is not None else (1 if plan else 3)
    config = _config(args).replace(catalogue=cat)
    report = run_report(args.osm_file, config=config)
    kw = dict(
        target_share=args.target_share,
        candidates=cands,
        areas=areas,
        spacing_m=args.spacing,
        swaps=not args.no_swaps,
    )
    if plan:
        sites = plan_missing(report, k=k, **kw)
        meta = sites.attrs["items"]
    else:
        sites = site_facilities(report, args.item, k=k, **kw)
        meta = {args.item: sites.attrs}

    _print_sites(sites, meta, args.target_share, k)
    if args.out:
        logger.info(f"wrote {write_sites(sites, args.out)}")
    return 0


def _print_sites(
    sites: Any, meta: dict[str, dict[str, Any]], target: float | None, k: int | None
) -> None:
    """The table of proposed sites that ``fifteenmin site`` prints, item by item."""
    if not meta:
        print("every community meets every required item: nothing to site")
    for item_id, m in meta.items():
        rows = sites[sites["item_id"] == item_id]
        print(
            f"{item_id}: {m['item_name_en']} / {m['item_name_zh']}; tier {m['tier_minutes']:g} "
            f"min at {m['speed_m_s']:.2f} m/s"
        )
        print(
            f"  residents (weight = residential floor area m², else street metres): "
            f"{m['total_weight']:,.0f} in {m['communities']} communities; existing facilities "
            f"cover {m['share_before']:.1%}, {m['communities_met_before']} communities meet "
            f"the {m['threshold']:.0%} threshold; {m['candidates']:,} candidate sites, "
            f"{m['method']}"
        )
        if len(rows) == 0:
            if target is not None and m["share_before"] >= target:
                print(f"  existing facilities already cover the target share ({target:.0%})")
            else:
                print("  no candidate site brings anyone new within the tier")
            continue
        print(
            f"  {'step':>4}  {'node_id':>12}  {'lon':>11}  {'lat':>10}  {'residents_gained':>16}"
            f"  {'share_after':>11}  {'communities_helped':>18}  {'communities_met':>15}"
        )
        for r in rows.itertuples(index=False):
            node = str(r.node_id) if r.source == "node" else r.source
            print(
                f"  {r.step:>4}  {node:>12}  {r.lon:>11.6f}  {r.lat:>10.6f}  "
                f"{r.residents_gained:>16,.0f}  {r.share_after:>11.1%}  "
                f"{r.communities_helped:>18}  {r.communities_met:>15}"
            )
        gained = float(rows["residents_gained"].sum())
        last = float(rows["share_after"].iloc[-1])
        note = ""
        if target is not None and last >= target:
            note = f" (target share {target:.0%} reached)"
        elif k is not None and len(rows) < k:
            note = f" (no further site adds anyone; asked for {k})"
        print(
            f"  total: {len(rows)} sites add {gained:,.0f} resident weight, coverage "
            f"{m['share_before']:.1%} -> {last:.1%}{note}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Examples
    --------
    >>> main(["catalogue", "list"])  # doctest: +SKIP
    """
    args = _parser().parse_args(argv)
    try:
        with _console(args):
            if args.command == "report":
                return _cmd_report(args)
            if args.command == "compare":
                return _cmd_compare(args)
            if args.command == "site":
                return _cmd_site(args)
            if args.command == "batch":
                return _cmd_batch(args)
            if args.command == "ledger-template":
                return _cmd_ledger(args)
            return _cmd_catalogue(args)
    except FifteenminError as exc:
        print(f"fifteenmin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fifteenmin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
