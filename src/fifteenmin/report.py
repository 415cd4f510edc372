"""The whole pipeline, and the coverage report files it writes.

:func:`run_report` runs network → facilities → travel times → communities/residents →
coverage on one OSM file; :meth:`Report.write` writes, into an output folder:

* ``summary.json``: parameters, network size, facility counts per item, number of
  communities, coverage rates (plain and resident-weighted), the OSM attribution;
* ``coverage.csv``: one row per community and item
  (:data:`fifteenmin.coverage.COVERAGE_COLUMNS`); its first line is a ``#`` comment with the
  attribution (read it with ``pandas.read_csv(path, skiprows=1)``);
* ``communities.gpkg`` (polygons, score, missing items) and ``facilities.gpkg``, with the
  attribution in the GeoPackage metadata.

Nothing is written until every result is computed; every file is written to a temporary
name in the output folder and renamed into place, so a failure never leaves a half-written
file behind.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._io import (
    ATTRIBUTION,
    commit,
    discard,
    prepare_output_dir,
    stage_file,
    write_csv,
    write_gpkg,
)
from ._osm import OSMData, read_osm
from ._version import __version__
from .catalogue import Catalogue, load_catalogue
from .communities import (
    communities_from_file,
    communities_from_osm,
    residents,
    residents_from_population,
)
from .coverage import DEFAULT_THRESHOLD, CoverageResult, _share_text, score_coverage
from .facilities import (
    entrances_from_osm,
    facilities_from_osm,
    facilities_from_table,
    facility_counts,
    merge_facilities,
)
from .network import DEFAULT_SPEED_M_S, WalkNetwork, network_from_file
from .routing import TravelTimes, item_speeds, origin_times, travel_times

__all__ = ["ATTRIBUTION", "Report", "prepare_output_dir", "run_report", "sample_path"]

SAMPLE_NAME = "helsinki_centre_2019_extract.osm.pbf"


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
    from ._errors import InputFileError

    raise InputFileError(
        f"the bundled sample {SAMPLE_NAME} was not found "
        f"(looked in {[str(c) for c in candidates]}). "
        "Install fifteenmin from a clone of its repository (pip install -e .), or set "
        "FIFTEENMIN_SAMPLE to the file's path."
    )


def _stderr_progress(msg: str) -> None:
    print(f"[fifteenmin] {msg}", file=sys.stderr, flush=True)


@dataclass(eq=False)
class Report:
    """Everything one coverage run produced.

    Attributes
    ----------
    network, facilities, travel, communities, residents, origin_minutes, coverage, catalogue
        The results of each stage.
    params
        The parameters of the run.
    timings
        Seconds spent per stage.
    """

    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    travel: TravelTimes
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    origin_minutes: np.ndarray
    coverage: CoverageResult
    catalogue: Catalogue
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        counts = facility_counts(self.facilities, self.catalogue)
        return {
            "fifteenmin_version": __version__,
            "attribution": ATTRIBUTION,
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
                "kinds": {
                    k: int(v) for k, v in self.residents["kind"].value_counts().sort_index().items()
                },
            },
            "coverage": self.coverage.summary,
            "needs_local_data": [
                {"id": s.id, "name_zh": s.name_zh, "name_en": s.name_en, "proxy": list(s.proxy)}
                for s in self.catalogue.non_spatial
            ],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def __repr__(self) -> str:
        return f"Report({self.network!r}, {len(self.facilities)} facilities, {self.coverage!r})"

    def _repr_html_(self) -> str:
        from .html_report import report_html_fragment

        return report_html_fragment(self)

    def explore(self, **kwargs: Any) -> Any:
        """Map of the communities coloured by score (:meth:`CoverageResult.explore`)."""
        return self.coverage.explore(**kwargs)

    def community_isochrones(self, minutes: float = 15.0) -> gpd.GeoDataFrame:
        """Each community's walking area within ``minutes`` from its resident origins.

        One polygon per community: the union of the areas its residents reach (a merged
        multi-source search from all its origins), as :func:`fifteenmin.isochrones.isochrones`
        builds them.
        """
        from .isochrones import isochrones

        speed = float(self.params.get("speed_m_s", DEFAULT_SPEED_M_S))
        rows = []
        for cid, homes in self.residents.groupby("community_id", sort=True):
            iso = isochrones(self.network, homes, (minutes,), speed=speed, merge=True)
            iso["community_id"] = cid
            rows.append(iso)
        if not rows:
            return gpd.GeoDataFrame(
                {"community_id": [], "minutes": []}, geometry=[], crs=self.network.crs
            )
        out = pd.concat(rows, ignore_index=True)
        return gpd.GeoDataFrame(out, geometry="geometry", crs=self.network.crs)

    def write(
        self,
        out_dir: str | os.PathLike[str],
        *,
        html: bool = True,
        lang: str = "en",
        isochrones: gpd.GeoDataFrame | str | None = "auto",
        sites: gpd.GeoDataFrame | str | None = "auto",
    ) -> list[Path]:
        """Write the report files into ``out_dir`` (created if needed).

        Parameters
        ----------
        out_dir
            The output folder.
        html
            Also write ``report.html`` (:func:`fifteenmin.html_report.render_html`).
        lang
            Language of the HTML report: ``"en"`` or ``"zh"``.
        isochrones
            Isochrones drawn on the HTML map: ``"auto"`` (each community's 15-minute walking
            area, :meth:`community_isochrones`), a GeoDataFrame, or None.
        sites
            Proposed sites listed in the HTML report: ``"auto"`` (one site for every required
            item some community misses, :func:`fifteenmin.siting.plan_missing`), a
            GeoDataFrame, or None.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        OutputError
            The folder cannot be created or written.
        """
        out = prepare_output_dir(out_dir)
        summary = self.summary()
        # timings vary from run to run: keep them out of the file so that outputs are
        # byte-for-byte reproducible
        summary.pop("timings_s")
        page = None
        if html:
            from .html_report import render_html

            if isochrones == "auto":
                isochrones = self.community_isochrones()
            if sites == "auto":
                from .siting import plan_missing

                sites = plan_missing(self, k=1)
            page = render_html(self, lang=lang, isochrones=isochrones, sites=sites).encode("utf-8")
        staged: list[tuple[Path, Path]] = []
        try:
            staged.append(stage_file(out, "summary.json", lambda p: _write_json(p, summary)))
            staged.append(
                stage_file(out, "coverage.csv", lambda p: write_csv(p, self.coverage.table))
            )
            com = self.coverage.communities.copy()
            staged.append(
                stage_file(out, "communities.gpkg", lambda p: write_gpkg(p, com, "communities"))
            )
            fac = self.facilities.drop(columns=["tags"], errors="ignore")
            staged.append(
                stage_file(out, "facilities.gpkg", lambda p: write_gpkg(p, fac, "facilities"))
            )
            if page is not None:
                staged.append(stage_file(out, "report.html", lambda p: p.write_bytes(page)))
        except BaseException:
            discard(staged)
            raise
        return commit(staged)


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )


def _describe(source: Any) -> str | None:
    """A short label of an input for summary.json (a file name, or the object's type)."""
    if source is None:
        return None
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return type(source).__name__


def run_report(
    osm_file: str | os.PathLike[str] | OSMData | None = None,
    *,
    communities: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    user_facilities: str | os.PathLike[str] | pd.DataFrame | None = None,
    facility_item_column: str = "item",
    coord_system: str = "wgs84",
    population: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    elderly_column: str | None = None,
    children_column: str | None = None,
    catalogue: str | os.PathLike[str] | Catalogue = "beijing",
    speed: float = DEFAULT_SPEED_M_S,
    item_profiles: bool = True,
    threshold: float = DEFAULT_THRESHOLD,
    category_weights: dict[str, float] | None = None,
    engine: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the whole coverage pipeline on one OSM file.

    Parameters
    ----------
    osm_file
        An ``.osm``/``.osm.bz2``/``.osm.pbf`` file; default: the bundled sample.
    communities
        A community vector file or GeoDataFrame; default: derived from the OSM file.
    id_column, name_column
        Columns of the community file holding ids and names.
    user_facilities
        The user's own facilities (CSV with lon/lat, or a vector file), merged with the OSM
        ones; see :func:`fifteenmin.facilities.facilities_from_table`.
    facility_item_column
        Column of ``user_facilities`` holding catalogue item ids or names.
    coord_system
        Coordinates of a CSV ``user_facilities``: ``wgs84``, ``gcj02`` (Amap, Tencent) or
        ``bd09`` (Baidu).
    population
        A population layer (points, grid cells or census polygons) weighting the residents in
        people; see :func:`fifteenmin.communities.residents_from_population`.
    population_column, elderly_column, children_column
        Columns of ``population`` holding all residents, the elderly and the children.
    catalogue
        Catalogue name or file.
    speed
        Walking speed in m/s (default 1.11 m/s: 1,000 m in 15 minutes).
    item_profiles
        Walk the items whose catalogue entry names a speed profile (elderly care: ``elderly``)
        at that profile's speed (:data:`fifteenmin.routing.SPEED_PROFILES`); False walks
        every item at ``speed``.
    threshold
        Share of residents within the tier for an item to count as met.
    category_weights
        Weights of the catalogue categories in the composite index (default: equal).
    engine
        Shortest-path engine: ``"auto"``, ``"numba"`` or ``"scipy"``.
    progress
        Called with a message at each step (the CLI prints them on stderr).

    Returns
    -------
    Report

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> rep = run_report()  # the bundled sample
    >>> 0.0 <= rep.coverage.summary["coverage_rate"] <= 1.0
    True
    """
    say = progress or (lambda _msg: None)
    if not (isinstance(speed, int | float) and np.isfinite(speed) and speed > 0):
        raise ValueError(f"walking speed must be a positive number of m/s, got {speed!r}")
    cat = load_catalogue(catalogue)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if osm_file is None:
        osm_file = sample_path()
    com_user = None
    if communities is not None and not isinstance(communities, gpd.GeoDataFrame):
        # read (and validate) the community file before the long steps
        com_user = communities_from_file(communities, id_column=id_column, name_column=name_column)
    elif isinstance(communities, gpd.GeoDataFrame):
        com_user = communities
    user_fac = None
    if user_facilities is not None:
        user_fac = facilities_from_table(
            user_facilities,
            item_column=facility_item_column,
            catalogue=cat,
            coord_system=coord_system,
        )
    if isinstance(osm_file, OSMData) and not cat.osm_keys() <= osm_file.keys:
        # the data was read for another catalogue: read the file again with this one's keys
        osm_file = osm_file.source
    data = osm_file if isinstance(osm_file, OSMData) else read_osm(osm_file, keys=cat.osm_keys())
    timings["read_osm"] = time.perf_counter() - t0
    say(
        f"read {data.source}: {data.counts.get('nodes', 0):,} tagged nodes, "
        f"{data.counts.get('ways', 0):,} tagged ways"
    )

    t = time.perf_counter()
    net = network_from_file(data)
    timings["network"] = time.perf_counter() - t
    say(
        f"walking network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
        f"{net.total_length_km:,.1f} km"
    )

    t = time.perf_counter()
    fac = facilities_from_osm(data, cat)
    if user_fac is not None:
        fac = merge_facilities(fac, user_fac, catalogue=cat)
    timings["facilities"] = time.perf_counter() - t
    n_items = fac["item_id"].nunique() if len(fac) else 0
    say(f"facilities: {len(fac):,} matched for {n_items} of {len(cat)} catalogue items")

    t = time.perf_counter()
    speeds = item_speeds(cat, speed, per_item=item_profiles)
    tt = travel_times(
        net, fac, cat, speed=speeds, entrances=entrances_from_osm(data), engine=engine
    )
    timings["travel_times"] = time.perf_counter() - t
    say(
        f"travel times: {len(cat)} items x {net.n_nodes:,} nodes in {timings['travel_times']:.2f} s"
    )

    t = time.perf_counter()
    com = com_user if com_user is not None else communities_from_osm(data, net)
    if population is not None:
        homes = residents_from_population(
            com,
            population,
            net,
            value_column=population_column,
            elderly_column=elderly_column,
            children_column=children_column,
            data=data,
        )
    else:
        homes = residents(com, net, data)
    minutes, _ = origin_times(net, tt, homes)
    timings["residents"] = time.perf_counter() - t
    src = ", ".join(sorted(set(com["source"]))) if len(com) else "none"
    say(f"communities: {len(com):,} ({src}); resident origins: {len(homes):,}")

    t = time.perf_counter()
    counts = facility_counts(fac, cat)
    cov = score_coverage(
        com,
        homes,
        minutes,
        cat.items,
        threshold=threshold,
        facility_counts=dict(zip(counts["item_id"], counts["facilities"], strict=True)),
        category_weights=category_weights,
    )
    timings["coverage"] = time.perf_counter() - t
    s = cov.summary
    say(
        f"coverage rate: {s['communities_all_met']} of {s['communities']} communities meet every "
        f"required item ({s['coverage_rate']:.0%}; "
        f"resident-weighted {_share_text(s['coverage_rate_weighted'])})"
    )
    params = {
        "osm_file": Path(data.source).name,
        "communities": _describe(communities),
        "catalogue": cat.name,
        "user_facilities": _describe(user_facilities),
        "population": _describe(population),
        "speed_m_s": round(float(speed), 6),
        "speed_profiles": {
            k: round(v, 6) for k, v in sorted({s: speeds[s] for s in speeds}.items()) if v != speed
        },
        "threshold": threshold,
        "cutoff_minutes": round(float((tt.cutoff_m / tt.speed).max(initial=0) / 60.0), 6),
    }
    return Report(
        network=net,
        facilities=fac,
        travel=tt,
        communities=com,
        residents=homes,
        origin_minutes=minutes,
        coverage=cov,
        catalogue=cat,
        params=params,
        timings=timings,
    )
