"""The whole pipeline on one OSM file, as pure stages: :func:`run_pipeline` → :class:`Results`.

reading → network → catalogue → facilities → routing → communities/residents → coverage.
Every stage is a function of the stages before it; nothing here writes a file. The output
layer (:mod:`fifteenmin.report`, :mod:`fifteenmin.output`) only reads :class:`Results`.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from ._errors import ConfigError, ConfigTypeError, InputFileError
from ._osm import OSMData, read_osm
from ._progress import logger
from ._version import __version__
from .catalogue import Catalogue, load_catalogue
from .communities import (
    assign_districts,
    communities_from_file,
    communities_from_osm,
    districts_from_file,
    districts_from_osm,
    residents,
    residents_from_population,
)
from .config import RunConfig
from .coverage import CoverageResult, headline, score_coverage, share_text
from .facilities import (
    entrances_from_osm,
    facilities_from_osm,
    facilities_from_table,
    facility_counts,
    merge_facilities,
)
from .hours import HoursResult, opening_hours_coverage, reference_times
from .isochrones import community_walking_areas, iter_community_walking_areas
from .network import WalkNetwork, network_from_file
from .online import OnlineArea, read_online, source_name
from .poi import facilities_from_poi
from .routing import TravelTimes, item_speeds, origin_times, travel_times

__all__ = ["Results", "RouteInputs", "Router", "run_pipeline", "sample_path"]

SAMPLE_NAME = "helsinki_centre_2019_extract.osm.pbf"

#: A progress callback: called with one message per stage.
Progress = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class RouteInputs:
    """What a :data:`Router` routes: the run's network, facilities and resident origins."""

    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    catalogue: Catalogue
    speeds: Mapping[str, float]
    entrances: gpd.GeoSeries
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    config: RunConfig


#: Routing in place of :func:`~fifteenmin.routing.travel_times` +
#: :func:`~fifteenmin.routing.origin_times`: returns the travel times and, per resident origin
#: and item, the minutes to and the row of the nearest facility (``run_pipeline(router=...)``).
Router = Callable[[RouteInputs], tuple[TravelTimes, np.ndarray, np.ndarray]]


def sample_path() -> Path:
    """Path of the bundled sample OSM extract (Helsinki centre, 2019; ODbL).

    Examples
    --------
    >>> sample_path().name
    'helsinki_centre_2019_extract.osm.pbf'
    """
    env = os.environ.get("FIFTEENMIN_SAMPLE")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "data" / "sample" / SAMPLE_NAME)
    for c in candidates:
        if c.exists():
            return c
    raise InputFileError(
        f"the bundled sample {SAMPLE_NAME} was not found "
        f"(looked in {[str(c) for c in candidates]}). "
        "Install fifteenmin from a clone of its repository (pip install -e .), or set "
        "FIFTEENMIN_SAMPLE to the file's path."
    )


@dataclass(eq=False)
class Results:
    """Everything one coverage run produced, with the configuration that produced it.

    Attributes
    ----------
    network, facilities, travel, communities, residents, origin_minutes, coverage, catalogue
        The results of each stage.
    config
        The :class:`~fifteenmin.config.RunConfig` of the run.
    osm_source
        The OSM file read, or the online area's label (``"place: ..."``).
    timings
        Seconds spent per stage.
    origin_nearest
        Per origin and item, the row in ``travel.facilities`` of the nearest facility
        (-1 where none is reached).
    poi_unmatched
        The POIs of ``config.poi`` that no rule mapped to an item, counted per type
        (``source_file``, ``poi_type``, ``typecode``, ``pois``, ``example``); None without
        POI tables.
    entrances
        The entrance points through which polygon facilities were reached.
    opening_hours
        Coverage at the run's opening-hours times (:mod:`fifteenmin.hours`), or None.
    """

    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    travel: TravelTimes
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    origin_minutes: np.ndarray
    coverage: CoverageResult
    catalogue: Catalogue
    config: RunConfig = field(default_factory=RunConfig)
    osm_source: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    origin_nearest: np.ndarray | None = None
    poi_unmatched: pd.DataFrame | None = None
    entrances: gpd.GeoSeries | None = None
    opening_hours: HoursResult | None = None

    @property
    def threshold(self) -> float:
        """Share of residents within the tier for an item to count as met."""
        return float(self.config.threshold)

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of the run, as written in ``summary.json``."""
        speeds = dict(zip(self.travel.item_ids, self.travel.speed.tolist(), strict=True))
        cutoff = float((self.travel.cutoff_m / self.travel.speed).max(initial=0) / 60.0)
        params = {
            "osm_file": source_name(self.osm_source),
            **self.config.parameters(self.catalogue, speeds, cutoff),
        }
        tables = self.config.user_facilities
        if isinstance(tables, Mapping):  # facility tables by source: "user: a.csv; planned: b.csv"
            params["user_facilities"] = "; ".join(
                f"{k}: {Path(v).name if isinstance(v, str | os.PathLike) else type(v).__name__}"
                for k, v in tables.items()
            )
        if self.config.poi is not None:  # POI tables are facility tables of source "poi"
            names = "; ".join(f"poi: {_label(t)}" for t in _poi_tables(self.config))
            shown = params.get("user_facilities")
            params["user_facilities"] = f"{shown}; {names}" if shown else names
        return params

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (with ``timings_s``, which the file leaves out)."""
        counts = facility_counts(self.facilities, self.catalogue)
        kinds = self.residents["kind"].value_counts().sort_index()
        return {
            "fifteenmin_version": __version__,
            "attribution": settings.ATTRIBUTION,
            "parameters": self.params,
            "network": self.network.summary(),
            "facilities": {
                "total": len(self.facilities),
                "per_item": dict(
                    zip(counts["item_id"], counts["facilities"].astype(int).tolist(), strict=True)
                ),
            },
            **({"poi": self._poi_summary()} if self.poi_unmatched is not None else {}),
            "communities": len(self.communities),
            "community_source": sorted(set(self.communities["source"]))
            if len(self.communities)
            else [],
            "residents": {
                "origins": len(self.residents),
                "kinds": {k: int(v) for k, v in kinds.items()},
            },
            "coverage": self.coverage.summary,
            "needs_local_data": [
                {"id": s.id, "name_zh": s.name_zh, "name_en": s.name_en, "proxy": list(s.proxy)}
                for s in self.catalogue.non_spatial
            ],
            **({"opening_hours": self.opening_hours.summary} if self.opening_hours else {}),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def _poi_summary(self) -> dict[str, int]:
        """``summary.json``'s ``poi``: the POI tables' facilities and unmatched POIs."""
        missed = self.poi_unmatched if self.poi_unmatched is not None else pd.DataFrame()
        source = self.facilities.get("source", pd.Series(dtype=object))
        return {
            "tables": len(_poi_tables(self.config)),
            "facilities": int((source == "poi").sum()),
            "unmatched_pois": int(missed["pois"].sum()) if len(missed) else 0,
            "unmatched_types": len(missed),
        }

    def community_isochrones(
        self,
        minutes: float = settings.COMMUNITY_WALK_MINUTES,
        *,
        simplify_m: float = 0.0,
        method: str = "exact",
        grid_m: float = settings.WALKING_AREA_GRID_M,
    ) -> gpd.GeoDataFrame:
        """Each community's walking area within ``minutes`` from its resident origins.

        See :func:`fifteenmin.isochrones.community_walking_areas`; the walking speed and the
        engine are the run's; ``simplify_m`` simplifies the areas for display (0: exact);
        ``method="raster"`` draws them on a grid of ``grid_m`` metres (about 10x faster,
        within ~3 m at 5 m).
        """
        return community_walking_areas(
            self.network, self.residents, minutes, **self._walking(simplify_m, method, grid_m)
        )

    def iter_community_isochrones(
        self,
        minutes: float = settings.COMMUNITY_WALK_MINUTES,
        *,
        simplify_m: float = 0.0,
        method: str = "exact",
        grid_m: float = settings.WALKING_AREA_GRID_M,
        chunk: int | None = None,
    ) -> Iterator[gpd.GeoDataFrame]:
        """:meth:`community_isochrones`, a chunk of ``chunk`` communities at a time.

        See :func:`fifteenmin.isochrones.iter_community_walking_areas`: consecutive frames
        in community id order whose concatenation is :meth:`community_isochrones`'s.

        Examples
        --------
        >>> import fifteenmin as fm
        >>> res = fm.run_report()  # the bundled sample  # doctest: +SKIP
        >>> sum(len(c) for c in res.iter_community_isochrones(chunk=5)) > 0  # doctest: +SKIP
        True
        """
        return iter_community_walking_areas(
            self.network,
            self.residents,
            minutes,
            chunk=chunk,
            **self._walking(simplify_m, method, grid_m),
        )

    def _walking(self, simplify_m: float, method: str, grid_m: float) -> dict[str, Any]:
        """The walking areas' keyword arguments: the run's speed and engine, and these."""
        return {
            "speed": float(self.config.speed),
            "engine": self.config.engine,
            "simplify_m": simplify_m,
            "method": method,
            "grid_m": grid_m,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.network!r}, {len(self.facilities)} facilities, "
            f"{self.coverage!r})"
        )


class _Clock:
    """Times the stages and reports each one's message (logger ``fifteenmin``, INFO)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str, message: str | Callable[[float], str]) -> None:
        """End ``stage``; ``message`` may be a function of the stage's seconds."""
        now = time.perf_counter()
        seconds = self.timings[stage] = now - self._t
        self._t = now
        text = message(seconds) if callable(message) else message
        logger.info(text)
        if self.progress is not None:
            self.progress(text)


def _user_inputs(
    cfg: RunConfig, cat: Catalogue
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The user's communities and facilities, read and validated before the long steps."""
    com = cfg.communities
    if com is not None and not isinstance(com, gpd.GeoDataFrame):
        com = communities_from_file(
            com,
            id_column=cfg.id_column,
            name_column=cfg.name_column,
            type_column=cfg.community_type_column,
        )
    elif com is not None and cfg.community_type_column in com.columns:
        com = com.assign(community_type=com[cfg.community_type_column].astype(str))
    fac = None
    tables = cfg.user_facilities
    if tables is not None:
        # one table (source "user"), or tables by source label: {"user": ..., "planned": ...}
        by_source = tables.items() if isinstance(tables, Mapping) else [("user", tables)]
        frames = []
        for source, table in by_source:
            if not isinstance(source, str) or not source or source == "osm":
                raise ConfigError(
                    "user_facilities by source must be labelled with names other than 'osm' "
                    f"(e.g. {{'planned': 'planned.csv'}}), got {source!r}"
                )
            f = facilities_from_table(
                table,
                item_column=cfg.facility_item_column,
                catalogue=cat,
                coord_system=cfg.coord_system,
            )
            frames.append(f.assign(source=source))
        fac = frames[0] if len(frames) == 1 else merge_facilities(*frames, catalogue=cat)
    return com, fac


def _label(table: object) -> str:
    return Path(table).name if isinstance(table, str | os.PathLike) else type(table).__name__


def _poi_tables(cfg: RunConfig) -> list[Any]:
    return (
        [] if cfg.poi is None else list(cfg.poi) if isinstance(cfg.poi, list | tuple) else [cfg.poi]
    )


def _poi_facilities(
    cfg: RunConfig, cat: Catalogue, user_fac: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """The user's facilities with those of the POI tables; the POIs no rule mapped."""
    tables = _poi_tables(cfg)
    if not tables:
        return user_fac, None
    frames, unmatched = [], []
    for table in tables:
        f = facilities_from_poi(
            table, poi_source=cfg.poi_source, coord_system=cfg.poi_crs, catalogue=cat
        )
        frames.append(f)
        unmatched.append(f.attrs["poi_unmatched"].assign(source_file=_label(table)))
    missed = pd.concat(unmatched, ignore_index=True)
    missed = missed[["source_file", "poi_type", "typecode", "pois", "example"]]
    parts = [user_fac, *frames] if user_fac is not None else frames
    return merge_facilities(*parts, catalogue=cat), missed


def _read(
    osm_file: str | os.PathLike[str] | OSMData | OnlineArea | None, cat: Catalogue
) -> OSMData:
    if osm_file is None:
        osm_file = sample_path()
    if isinstance(osm_file, OnlineArea):
        return read_online(osm_file, keys=cat.osm_keys())
    if isinstance(osm_file, OSMData) and not cat.osm_keys() <= osm_file.keys:
        # the data was read for another catalogue: read the file again with this one's keys
        osm_file = osm_file.source
    return osm_file if isinstance(osm_file, OSMData) else read_osm(osm_file, keys=cat.osm_keys())


def _residents(
    cfg: RunConfig, com: gpd.GeoDataFrame, net: WalkNetwork, data: OSMData
) -> gpd.GeoDataFrame:
    if cfg.population is None:
        return residents(com, net, data)
    return residents_from_population(
        com,
        cfg.population,
        net,
        value_column=cfg.population_column,
        elderly_column=cfg.elderly_column,
        children_column=cfg.children_column,
        data=data,
    )


def _osm_districts(data: OSMData, net: WalkNetwork) -> gpd.GeoDataFrame | None:
    """``--districts osm``: the extract's admin boundaries, or None with a warning."""
    found = districts_from_osm(data, net)
    if found is None:
        levels = " or ".join(settings.DISTRICT_ADMIN_LEVELS)
        warnings.warn(
            f"--districts osm: the OSM data has no complete admin_level {levels} boundaries "
            "(an extract usually cuts them), so there is no district roll-up; give the "
            "districts as a file (--districts FILE).",
            UserWarning,
            stacklevel=3,
        )
    return found


def _coverage_line(s: dict[str, Any]) -> str:
    """The result line of a run: the city line, the strict rate, the weighted rate."""
    gaps = s.get("items_not_assessable") or []
    strict = (
        f"cannot be assessed for {len(gaps)} required items without data "
        f"({', '.join(gaps[:5])}{', …' if len(gaps) > 5 else ''})"
        if gaps
        else f"{s['communities_all_met']} of {s['communities']} communities meet every "
        f"required item ({share_text(s['coverage_rate'])})"
    )
    weighted = s.get("coverage_rate_assessable_weighted" if gaps else "coverage_rate_weighted")
    return (
        f"coverage rate: {headline(s)}; strict: {strict}; weighted by "
        f"{s.get('weighted_by', 'resident weight')}: {share_text(weighted)}"
    )


def run_pipeline(
    osm_file: str | os.PathLike[str] | OSMData | OnlineArea | None = None,
    config: RunConfig | None = None,
    progress: Progress | None = None,
    *,
    router: Router | None = None,
) -> Results:
    """Run every stage of the coverage pipeline on one OSM file.

    Parameters
    ----------
    osm_file
        An ``.osm``/``.osm.bz2``/``.osm.pbf`` file, :class:`~fifteenmin.OSMData`, or an
        :class:`~fifteenmin.online.OnlineArea` to download (through osmnx's settings and
        cache, :func:`fifteenmin.online.read_online`); default: the bundled sample.
    config
        Inputs and parameters (default: :class:`~fifteenmin.config.RunConfig` defaults).
    progress
        Called with one message per stage; the messages also go to the logger
        ``fifteenmin`` at INFO level.
    router
        Computes the travel times and the resident origins' minutes in place of
        :func:`~fifteenmin.routing.travel_times` and :func:`~fifteenmin.routing.origin_times`
        (see :data:`Router`; :func:`fifteenmin.tiles.run_tiled` routes tile by tile this way).
        Every other stage is the same.

    Returns
    -------
    Results

    Examples
    --------
    >>> res = run_pipeline()  # the bundled sample
    >>> 0.0 <= res.coverage.summary["coverage_rate"] <= 1.0
    True
    """
    if config is not None and not isinstance(config, RunConfig):
        raise ConfigTypeError(
            f"config: expected a fifteenmin.RunConfig, got {type(config).__name__}; make one "
            "with RunConfig(...) or pass the options to run_report(path, **options)"
        )
    cfg = config or RunConfig()
    cat = load_catalogue(cfg.catalogue)
    cfg.check_catalogue(cat)  # a catalogue given by name is checked only now
    clock = _Clock(progress)
    times = reference_times(cfg.opening_hours_at)  # a bad time fails before the long steps
    com_user, user_fac = _user_inputs(cfg, cat)
    user_fac, poi_unmatched = _poi_facilities(cfg, cat, user_fac)
    from_osm, districts = _user_districts(cfg)
    data = _read(osm_file, cat)
    n = data.counts
    clock.lap(
        "read_osm",
        f"read {data.source}: {n.get('nodes', 0):,} tagged nodes, {n.get('ways', 0):,} tagged ways",
    )
    net = network_from_file(data, pedestrian_areas=cfg.pedestrian_areas)
    clock.lap(
        "network",
        f"walking network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
        f"{net.total_length_km:,.1f} km",
    )
    fac = facilities_from_osm(data, cat)
    if user_fac is not None:
        fac = merge_facilities(fac, user_fac, catalogue=cat)
    n_items = fac["item_id"].nunique() if len(fac) else 0
    clock.lap(
        "facilities",
        f"facilities: {len(fac):,} matched for {n_items} of {len(cat)} catalogue items",
    )
    speeds = item_speeds(cat, cfg.speed, per_item=cfg.item_profiles)
    entrances = entrances_from_osm(data)
    tt = None
    if router is None:
        tt = travel_times(net, fac, cat, speed=speeds, entrances=entrances, engine=cfg.engine)
        clock.lap(
            "travel_times",
            lambda sec: f"travel times: {len(cat)} items x {net.n_nodes:,} nodes in {sec:.2f} s",
        )
    com = com_user if com_user is not None else communities_from_osm(data, net)
    if from_osm:
        districts = _osm_districts(data, net)
    if districts is not None:
        com = assign_districts(com, districts)
    homes = _residents(cfg, com, net, data)
    osm_source = str(data.source)
    del data  # the OSM data is not needed past the residents: its memory serves the later stages
    if tt is not None:
        minutes, nearest = origin_times(net, tt, homes)
    src = ", ".join(sorted(set(com["source"]))) if len(com) else "none"
    clock.lap("residents", f"communities: {len(com):,} ({src}); resident origins: {len(homes):,}")
    if router is not None:
        tt, minutes, nearest = router(
            RouteInputs(net, fac, cat, speeds, entrances, com, homes, cfg)
        )
        clock.lap(
            "travel_times",
            lambda sec: (
                f"travel times: {len(cat)} items x {len(homes):,} resident origins, "
                f"routed by {getattr(router, '__name__', 'the router')} in {sec:.2f} s"
            ),
        )
    assert tt is not None
    counts = facility_counts(fac, cat)
    cov = score_coverage(
        com,
        homes,
        minutes,
        cat.items,
        threshold=cfg.threshold,
        facility_counts=dict(zip(counts["item_id"], counts["facilities"], strict=True)),
        category_weights=cfg.category_weights,
        floor_area_per_person=cfg.floor_area_per_person,
        people_per_street_m=cfg.people_per_street_m,
    )
    clock.lap("coverage", _coverage_line(cov.summary))
    res = Results(
        network=net,
        facilities=fac,
        travel=tt,
        communities=com,
        residents=homes,
        origin_minutes=minutes,
        coverage=cov,
        catalogue=cat,
        config=cfg,
        osm_source=osm_source,
        timings=clock.timings,
        origin_nearest=nearest,
        poi_unmatched=poi_unmatched,
        entrances=entrances,
    )
    if times:
        res.opening_hours = opening_hours_coverage(res)
        clock.lap("opening_hours", lambda sec: _hours_message(res.opening_hours, sec))
    _release_memory(net)  # the stages' freed memory: the output stages start from Results alone
    return res


def _release_memory(net: WalkNetwork) -> None:
    """Give the memory the stages freed back to the system (glibc's ``malloc_trim``).

    glibc keeps freed small and medium blocks in its heaps; after the stages' temporaries are
    gone that is hundreds of megabytes at a million nodes, counted in the process's RSS until
    reused. Elsewhere (no glibc) nothing is trimmed. The network's STRtree of edges
    (:attr:`~fifteenmin.network.WalkNetwork.edge_tree`, about 230 MB at a million nodes),
    which placed the communities and residents, is let go first: it is built again if used.
    """
    net.release_edge_tree()
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return
    gc.collect()
    trim(0)


def _user_districts(cfg: RunConfig) -> tuple[bool, gpd.GeoDataFrame | None]:
    """``--districts``: whether they come from the OSM file, else the districts read (or None)."""
    from_osm = isinstance(cfg.districts, str) and cfg.districts == "osm"
    if cfg.districts is None or from_osm:
        return from_osm, None
    return False, districts_from_file(cfg.districts, name_column=cfg.district_column)


def _hours_message(hours: HoursResult | None, seconds: float) -> str:
    """The stage message of the opening hours: coverage rate at each time."""
    assert hours is not None
    s = hours.summary
    parts = [
        f"{t['label']} {share_text(t['coverage_rate']['open'])} "
        f"(open or unknown {share_text(t['coverage_rate']['open_or_unknown'])})"
        for t in s["times"]
    ]
    return (
        f"opening hours: {s['facilities_with_hours']:,} of {s['facilities']:,} facilities "
        f"tagged; coverage rate with open facilities at {'; '.join(parts)} in {seconds:.2f} s"
    )
