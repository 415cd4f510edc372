"""The whole pipeline on one OSM file, as pure stages: :func:`run_pipeline` → :class:`Results`.

reading → network → catalogue → facilities → routing → communities/residents → coverage.
Every stage is a function of the stages before it; nothing here writes a file. The output
layer (:mod:`fifteenmin.report`, :mod:`fifteenmin.output`) only reads :class:`Results`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from . import settings
from ._errors import ConfigError, InputFileError
from ._osm import OSMData, read_osm
from ._progress import logger
from ._version import __version__
from .catalogue import Catalogue, load_catalogue
from .communities import (
    communities_from_file,
    communities_from_osm,
    residents,
    residents_from_population,
)
from .config import RunConfig
from .coverage import CoverageResult, score_coverage, share_text
from .facilities import (
    entrances_from_osm,
    facilities_from_osm,
    facilities_from_table,
    facility_counts,
    merge_facilities,
)
from .isochrones import community_walking_areas
from .network import WalkNetwork, network_from_file
from .online import OnlineArea, read_online, source_name
from .routing import TravelTimes, item_speeds, origin_times, travel_times

__all__ = ["Results", "run_pipeline", "sample_path"]

SAMPLE_NAME = "helsinki_centre_2019_extract.osm.pbf"

#: A progress callback: called with one message per stage.
Progress = Callable[[str], None]


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
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def community_isochrones(
        self, minutes: float = settings.COMMUNITY_WALK_MINUTES, *, simplify_m: float = 0.0
    ) -> gpd.GeoDataFrame:
        """Each community's walking area within ``minutes`` from its resident origins.

        See :func:`fifteenmin.isochrones.community_walking_areas`; the walking speed and the
        engine are the run's; ``simplify_m`` simplifies the areas for display (0: exact).
        """
        return community_walking_areas(
            self.network,
            self.residents,
            minutes,
            speed=float(self.config.speed),
            engine=self.config.engine,
            simplify_m=simplify_m,
        )

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
        com = communities_from_file(com, id_column=cfg.id_column, name_column=cfg.name_column)
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


def run_pipeline(
    osm_file: str | os.PathLike[str] | OSMData | OnlineArea | None = None,
    config: RunConfig | None = None,
    progress: Progress | None = None,
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

    Returns
    -------
    Results

    Examples
    --------
    >>> res = run_pipeline()  # the bundled sample
    >>> 0.0 <= res.coverage.summary["coverage_rate"] <= 1.0
    True
    """
    cfg = config or RunConfig()
    cat = load_catalogue(cfg.catalogue)
    clock = _Clock(progress)
    com_user, user_fac = _user_inputs(cfg, cat)
    data = _read(osm_file, cat)
    n = data.counts
    clock.lap(
        "read_osm",
        f"read {data.source}: {n.get('nodes', 0):,} tagged nodes, {n.get('ways', 0):,} tagged ways",
    )
    net = network_from_file(data)
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
    tt = travel_times(
        net, fac, cat, speed=speeds, entrances=entrances_from_osm(data), engine=cfg.engine
    )
    clock.lap(
        "travel_times",
        lambda sec: f"travel times: {len(cat)} items x {net.n_nodes:,} nodes in {sec:.2f} s",
    )
    com = com_user if com_user is not None else communities_from_osm(data, net)
    homes = _residents(cfg, com, net, data)
    minutes, nearest = origin_times(net, tt, homes)
    src = ", ".join(sorted(set(com["source"]))) if len(com) else "none"
    clock.lap("residents", f"communities: {len(com):,} ({src}); resident origins: {len(homes):,}")
    counts = facility_counts(fac, cat)
    cov = score_coverage(
        com,
        homes,
        minutes,
        cat.items,
        threshold=cfg.threshold,
        facility_counts=dict(zip(counts["item_id"], counts["facilities"], strict=True)),
        category_weights=cfg.category_weights,
    )
    s = cov.summary
    clock.lap(
        "coverage",
        f"coverage rate: {s['communities_all_met']} of {s['communities']} communities meet every "
        f"required item ({s['coverage_rate']:.0%}; "
        f"resident-weighted {share_text(s['coverage_rate_weighted'])})",
    )
    return Results(
        network=net,
        facilities=fac,
        travel=tt,
        communities=com,
        residents=homes,
        origin_minutes=minutes,
        coverage=cov,
        catalogue=cat,
        config=cfg,
        osm_source=str(data.source),
        timings=clock.timings,
        origin_nearest=nearest,
    )
