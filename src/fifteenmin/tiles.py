"""One large area as tiles on Dask: :func:`run_tiled` (``fifteenmin report --tiles N``).

The area is cut into ``N`` rectangular tiles over its walking network. Every community
belongs to exactly one tile, the one holding its representative point (``point_on_surface``
of its polygon, in the network's metric CRS); every network node belongs to the tile holding
it. One Dask task per tile computes the walking distances (travel times and the residents'
minutes, :func:`fifteenmin.routing.travel_times` and :func:`fifteenmin.routing.origin_times`)
on the part of the network within the tile's *margin*: the tile, its communities' resident
origins and the edges they snap to, widened by :func:`tile_margin_m`, the longest search
cutoff of the run plus the snapping distance. A walk longer than the cutoff counts as
unreachable, and a walk is never shorter than the straight line, so no walk that leaves the
margin can change a result: the minutes of every resident origin are those of the whole
network, exactly (the same floating-point sums along the same paths).

The client merges the tiles' minutes and scores the communities once, over the whole area
(:func:`fifteenmin.coverage.score_coverage` with the area's facility counts): everything
area-wide (facility counts, data gaps, most-missing items, weighted rates and quantiles) is
computed from the merged data exactly as a single run computes it, so ``coverage.csv`` and
``summary.json`` are byte for byte those of :func:`fifteenmin.run_report`.

What is bounded: each tile task holds the part of the network within its margin and its
travel-time arrays (items x nodes), the largest arrays of a run. By default, on a run that
takes everything from an OSM file, each tile also reads its own part of the file and builds
its own network, facilities, communities and resident origins, and the client only makes a
compact first pass over the file and merges the tiles' rows (:mod:`fifteenmin._tile_area`);
otherwise (``read_in_tiles=False``, or files of the run's own) the client reads the file and
builds the whole area once, as a single run does (``docs/scale.md``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._dask import THREADS_PER_WORKER, dask_client
from ._errors import ConfigError, FifteenminError
from ._kernel import HAVE_NUMBA
from ._osm import OSMData
from ._progress import bar, logger
from ._tile_area import AreaTile, TileRun, area_tile, merge_tiles, scan_area, score_merged
from .batch_studies import Study
from .batch_task import _kernel_threads, _peak_rss, one_line
from .catalogue import Catalogue, load_catalogue
from .config import RunConfig
from .network import WalkNetwork, _arcs, snap_points
from .online import OnlineArea
from .pipeline import Progress, RouteInputs, run_pipeline, sample_path
from .report import Report
from .routing import TravelTimes, _speeds, item_speeds, origin_times, travel_times

__all__ = [
    "TileRun",
    "TiledReport",
    "check_tiles",
    "route_tile",
    "run_tiled",
    "tile_margin_m",
    "tiled_study_report",
]

#: Metres added to a facility's box when picking a tile's facilities: entrances count within
#: 2 m of a polygon's boundary (:func:`fifteenmin.facilities.access_points`).
_ENTRANCE_SLACK_M = 10.0


def check_tiles(tiles: object) -> int:
    """``tiles`` as a positive whole number, else a :class:`~fifteenmin.ConfigError`.

    Examples
    --------
    >>> check_tiles(4)
    4
    >>> try:
    ...     check_tiles(0)
    ... except ValueError as exc:
    ...     print(exc)
    tiles must be a whole number >= 1 (the number of tiles to cut the area into), got 0
    """
    if isinstance(tiles, bool) or not isinstance(tiles, int | np.integer) or tiles < 1:
        raise ConfigError(
            "tiles must be a whole number >= 1 (the number of tiles to cut the area into), "
            f"got {tiles!r}"
        )
    return int(tiles)


def tile_margin_m(config: RunConfig | None = None, catalogue: Catalogue | None = None) -> float:
    """The margin of every tile (metres): how far beyond a tile the results can look.

    The longest search cutoff of the run (the largest tier plus
    :data:`~fifteenmin.settings.CUTOFF_MARGIN_MIN` minutes, at the fastest walking speed of
    any item) times :data:`~fifteenmin.settings.TILE_MARGIN_FACTOR`, plus
    :data:`~fifteenmin.settings.MAX_SNAP_M` twice (a facility's access point is snapped onto
    its nearest street; a resident origin onto its own).

    Examples
    --------
    >>> round(tile_margin_m())  # 25 minutes at 1.11 m/s, + 1 %, + 2 x 500 m
    2683
    """
    cfg = config or RunConfig()
    cat = catalogue if catalogue is not None else load_catalogue(cfg.catalogue)
    speeds = item_speeds(cat, cfg.speed, per_item=cfg.item_profiles)
    tiers = [it.tier_minutes for it in cat.items]
    cutoff_min = max(tiers, default=0.0) + settings.CUTOFF_MARGIN_MIN
    fastest = max(speeds.values(), default=float(cfg.speed))
    return cutoff_min * 60.0 * fastest * settings.TILE_MARGIN_FACTOR + 2 * settings.MAX_SNAP_M


@dataclass(eq=False, repr=False)
class TiledReport(Report):
    """A :class:`~fifteenmin.Report` computed tile by tile (:func:`run_tiled`).

    Its coverage, communities, residents, facilities and network are the whole area's; its
    travel times are merged from the tiles (the distances are exact; where two facilities of
    an item are exactly as near, the one named nearest may differ from a single run's).
    ``report.html`` (walking areas, service directory, proposed sites) is not written for a
    tiled run; every other report file is, byte for byte as :func:`fifteenmin.run_report`
    writes it.
    """

    tile_runs: list[TileRun] = field(default_factory=list)
    #: The whole network's size, added up from the tiles (when no network was built whole).
    network_totals: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """As :meth:`fifteenmin.pipeline.Results.summary`, with the tiles' network size."""
        out = super().summary()
        if self.network_totals is not None:
            out["network"] = {**out["network"], **self.network_totals}
        return out

    def write(
        self,
        out_dir: str | os.PathLike[str],
        *,
        html: bool = False,
        lang: str = settings.LANG,
        isochrones: gpd.GeoDataFrame | str | None = "auto",
        sites: gpd.GeoDataFrame | str | None = "auto",
    ) -> list[Path]:
        """Write the report files but ``report.html`` (see :meth:`fifteenmin.Report.write`).

        Warns
        -----
        UserWarning
            ``html=True``: ``report.html`` is not written for a tiled run.
        """
        if html:
            warnings.warn(
                "report.html is not written for a tiled run (its walking areas, service "
                "directory and proposed sites are whole-area analyses); the other report "
                "files are. Run without tiles for report.html.",
                UserWarning,
                stacklevel=2,
            )
        return super().write(out_dir, html=False, lang=lang, isochrones=None, sites=None)


@dataclass
class _Part:
    """One tile's inputs, sent to its task."""

    tile: int
    net: WalkNetwork
    edges: np.ndarray  # global edge index of each of net's edges
    facilities: gpd.GeoDataFrame
    fac_rows: np.ndarray  # global facility row of each of facilities' rows
    fac_owned: np.ndarray  # bool per facility row: the tile owns its access rows
    entrances: gpd.GeoSeries
    homes: gpd.GeoDataFrame
    home_rows: np.ndarray
    core: np.ndarray  # nodes of net owned by the tile
    core_global: np.ndarray
    catalogue: Catalogue
    speeds: dict[str, float]
    engine: str
    communities: int

    def __getstate__(self) -> dict[str, Any]:
        # the street geometries travel as one array of WKB (shapely pickles each geometry
        # on its own, many times slower); coordinates are kept exactly
        state = dict(self.__dict__)
        net = state["net"]
        state["net"] = dataclasses.replace(net, edge_geometry=shapely.to_wkb(net.edge_geometry))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        net = state["net"]
        state["net"] = dataclasses.replace(net, edge_geometry=shapely.from_wkb(net.edge_geometry))
        self.__dict__.update(state)


@dataclass
class _Out:
    """One tile's results, returned to the client."""

    run: TileRun
    home_rows: np.ndarray
    minutes: np.ndarray
    nearest: np.ndarray
    core_global: np.ndarray
    metres: np.ndarray
    label: np.ndarray
    access: pd.DataFrame


def run_tiled(
    osm_file: str | os.PathLike[str] | OSMData | OnlineArea | None = None,
    *,
    tiles: int,
    config: RunConfig | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    read_in_tiles: bool = True,
    **options: Any,
) -> TiledReport:
    """Run the coverage pipeline on one area cut into ``tiles`` tiles, one Dask task per tile.

    The results equal :func:`fifteenmin.run_report`'s: ``coverage.csv`` and ``summary.json``
    are byte for byte the same (see the module :mod:`fifteenmin.tiles` for why).

    Parameters
    ----------
    osm_file
        As :func:`fifteenmin.run_report`.
    tiles
        Number of tiles (>= 1): a grid of ``a x b = tiles`` rectangles over the network,
        as square as the area allows.
    config, **options
        As :func:`fifteenmin.run_report`.
    scheduler
        None (default): a local cluster; the address of a running Dask scheduler
        (``tcp://host:8786``); or a ``distributed.Client`` or cluster object.
    workers
        Worker processes of the local cluster (default: one per core, at most one per tile).
    threads
        Threads of the shortest-path kernels per tile (default: 1 on the local cluster).
    progress
        Called with one message per stage.
    read_in_tiles
        True (default): each tile reads its own part of the OSM file and builds its own
        network, facilities, communities and resident origins, so that no process holds the
        whole area (:mod:`fifteenmin._tile_area`); the client only makes a compact pre-pass
        over the file. This needs a run that takes everything from an OSM file (no
        community, population, district, facility or POI file; no stray street nodes; no
        ``admin_level=10`` boundaries topped up with other communities): other runs, or
        False, take the former way, the client reading and building the whole area and
        sending each tile its part of the network to route.

    Returns
    -------
    TiledReport

    Raises
    ------
    ConfigError
        ``tiles`` is not a whole number >= 1, or an invalid option.
    FifteenminError
        Dask is not installed, or the scheduler cannot be reached.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> rep = fm.run_tiled(tiles=4, workers=2)  # doctest: +SKIP
    >>> rep.coverage.summary == fm.run_report().coverage.summary  # doctest: +SKIP
    True
    """
    n_tiles = check_tiles(tiles)
    if scheduler is not None and workers is not None:
        raise ConfigError(
            "workers sets the size of the local cluster; a cluster given by its scheduler "
            "has its own workers"
        )
    cfg = (config or RunConfig()).replace(**options) if options else (config or RunConfig())
    if threads is None and scheduler is None:
        threads = THREADS_PER_WORKER
    area = _bounded_area(osm_file, cfg) if read_in_tiles else None
    if area is not None:
        return _run_area(area, n_tiles, cfg, scheduler, workers, threads, progress)
    runs: list[TileRun] = []

    def tiles_on_dask(inputs: RouteInputs) -> tuple[TravelTimes, np.ndarray, np.ndarray]:
        grid = _Grid(inputs.network.x, inputs.network.y, n_tiles)
        margin = tile_margin_m(inputs.config, inputs.catalogue)
        logger.info(
            f"{n_tiles} tiles ({grid.nx} x {grid.ny}, {grid.width / 1000:,.2f} x "
            f"{grid.height / 1000:,.2f} km each), margin {margin:,.0f} m"
        )
        parts = _Parts(inputs, grid, margin)
        with dask_client(scheduler, workers, len(parts.tiles)) as client:
            outs = _run(client, parts.tiles, parts.part, route_tile, threads)
        runs.extend(o.run for o in outs)
        return _merge(inputs, outs)

    res = run_pipeline(osm_file, cfg, progress, router=tiles_on_dask)
    values = {f.name: getattr(res, f.name) for f in dataclasses.fields(res)}
    return TiledReport(**values, tile_runs=runs)


def tiled_study_report(study: Study) -> TiledReport:
    """A batch study's report, tile by tile (``tiles`` column of a studies table).

    Inside a Dask task of a batch, the tiles are tasks of the same cluster (the study's task
    leaves its worker's thread pool while they run, :func:`distributed.worker_client`);
    elsewhere, of a new local cluster.

    Examples
    --------
    >>> from fifteenmin.batch_studies import read_studies
    >>> study = read_studies([{"study": "big", "osm_file": "big.osm.pbf", "tiles": 4}])[0]
    >>> tiled_study_report(study).coverage.summary["communities"]  # doctest: +SKIP
    27556
    """
    from distributed import get_worker, worker_client

    tiles = check_tiles(study.write.tiles)
    threads = None
    if HAVE_NUMBA:  # the tiles' kernels use the threads the batch gave the study's task
        import numba

        threads = int(numba.get_num_threads())
    try:
        get_worker()
    except ValueError:  # not in a Dask task: a local cluster of its own
        return run_tiled(study.osm_file, tiles=tiles, config=study.config, threads=threads)
    with worker_client() as client:
        return run_tiled(
            study.osm_file, tiles=tiles, config=study.config, scheduler=client, threads=threads
        )


class _Grid:
    """``nx x ny`` equal rectangles over the network's nodes ``x``, ``y`` (metric CRS)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, n: int) -> None:
        self.x0, self.y0 = float(x.min()), float(y.min())
        w = max(float(x.max()) - self.x0, 1.0)
        h = max(float(y.max()) - self.y0, 1.0)
        # the factor pair a x b = n whose tiles are the most square
        pairs = [(a, n // a) for a in range(1, n + 1) if n % a == 0]
        self.nx, self.ny = min(pairs, key=lambda p: (abs(math.log((w / p[0]) / (h / p[1]))), p))
        self.width, self.height = w / self.nx, h / self.ny

    def tile_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The tile of each point (points outside go to the nearest tile; no point: tile 0)."""
        x = np.where(np.isfinite(x), x, self.x0)
        y = np.where(np.isfinite(y), y, self.y0)
        ix = np.clip(np.floor((x - self.x0) / self.width), 0, self.nx - 1).astype(np.int64)
        iy = np.clip(np.floor((y - self.y0) / self.height), 0, self.ny - 1).astype(np.int64)
        return iy * self.nx + ix

    def box(self, k: int) -> np.ndarray:
        """Tile ``k``'s rectangle ``(xmin, ymin, xmax, ymax)``."""
        ix, iy = k % self.nx, k // self.nx
        x, y = self.x0 + ix * self.width, self.y0 + iy * self.height
        return np.array([x, y, x + self.width, y + self.height])


def _union_box(*bounds: np.ndarray) -> np.ndarray:
    """The box around boxes ``(n, 4)`` (NaN rows ignored)."""
    b = np.vstack([np.atleast_2d(x) for x in bounds if len(x)])
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):  # nothing with a geometry: a box nothing lies in
        return np.full(4, np.nan)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def _touching(bounds: np.ndarray, box: np.ndarray, pad: float) -> np.ndarray:
    """Which boxes ``(n, 4)`` intersect ``box`` widened by ``pad``."""
    return (
        (bounds[:, 2] >= box[0] - pad)
        & (bounds[:, 0] <= box[2] + pad)
        & (bounds[:, 3] >= box[1] - pad)
        & (bounds[:, 1] <= box[3] + pad)
    )


class _Parts:
    """Every tile's inputs, made one tile at a time (:meth:`part`).

    ``tiles`` lists the tiles with nodes or communities (the others are left out).
    """

    def __init__(self, inputs: RouteInputs, grid: _Grid, margin: float) -> None:
        net = inputs.network
        self.inputs, self.grid, self.margin, self.net = inputs, grid, margin, net
        homes = inputs.residents
        self.fac = fac = inputs.facilities.reset_index(drop=True)
        com = inputs.communities.to_crs(net.crs)
        rep = shapely.point_on_surface(np.asarray(com.geometry.values, dtype=object))
        self.com_tile = grid.tile_of(shapely.get_x(rep), shapely.get_y(rep))
        tile_of_com = dict(
            zip(com["community_id"].astype(str), self.com_tile.tolist(), strict=True)
        )
        self.home_tile = np.array(
            [tile_of_com[c] for c in homes["community_id"].astype(str)], dtype=np.int64
        ).reshape(-1)
        self.hx = np.asarray(homes.geometry.x, dtype=np.float64)
        self.hy = np.asarray(homes.geometry.y, dtype=np.float64)
        self.snap = snap_points(net, homes)
        self.edge_box = shapely.bounds(net.edge_geometry)
        self.node_tile = grid.tile_of(net.x, net.y)
        fac_geom = np.asarray(fac.geometry.to_crs(net.crs).values, dtype=object)
        self.fac_box = shapely.bounds(fac_geom) if len(fac) else np.zeros((0, 4))
        fac_rep = shapely.point_on_surface(fac_geom) if len(fac) else np.zeros(0, dtype=object)
        self.fac_tile = grid.tile_of(shapely.get_x(fac_rep), shapely.get_y(fac_rep))
        ent = inputs.entrances
        self.ent = ent.to_crs(net.crs) if len(ent) else ent
        self.ent_xy = (
            shapely.get_coordinates(np.asarray(self.ent.values, dtype=object)) if len(ent) else None
        )
        used = np.union1d(self.home_tile, self.node_tile)
        self.tiles = [int(k) for k in used]

    def _entrances(self, f_rows: np.ndarray) -> gpd.GeoSeries:
        """The entrances that may lie on the boundaries of facilities ``f_rows``."""
        ent, xy = self.ent, self.ent_xy
        if xy is None or not len(f_rows):
            return ent.iloc[:0] if len(ent) else ent
        around = _union_box(self.fac_box[f_rows])
        pad = _ENTRANCE_SLACK_M
        inside = (
            (xy[:, 0] >= around[0] - pad)
            & (xy[:, 0] <= around[2] + pad)
            & (xy[:, 1] >= around[1] - pad)
            & (xy[:, 1] <= around[3] + pad)
        )
        return ent[inside].reset_index(drop=True)

    def part(self, k: int) -> _Part:
        """Tile ``k``'s inputs: the network, facilities and entrances within its margin."""
        rows = np.flatnonzero(self.home_tile == k)
        core = np.flatnonzero(self.node_tile == k)
        snap, hx, hy = self.snap, self.hx, self.hy
        near = rows[snap.access[rows] <= settings.MAX_SNAP_M]
        inner = _union_box(
            self.grid.box(k),
            np.column_stack([hx[rows], hy[rows], hx[rows], hy[rows]]),
            self.edge_box[snap.edge[near]],
        )
        keep_edge = _touching(self.edge_box, inner, self.margin)
        pad = self.margin - settings.MAX_SNAP_M + _ENTRANCE_SLACK_M
        f_rows = np.flatnonzero(_touching(self.fac_box, inner, pad))
        sub, nodes, edges = _subnetwork(self.net, keep_edge)
        return _Part(
            tile=k,
            net=sub,
            edges=edges,
            facilities=self.fac.iloc[f_rows].reset_index(drop=True),
            fac_rows=f_rows,
            fac_owned=self.fac_tile[f_rows] == k,
            entrances=self._entrances(f_rows),
            homes=self.inputs.residents.iloc[rows].reset_index(drop=True),
            home_rows=rows,
            core=np.searchsorted(nodes, core),
            core_global=core,
            catalogue=self.inputs.catalogue,
            speeds=dict(self.inputs.speeds),
            engine=self.inputs.config.engine,
            communities=int(np.count_nonzero(self.com_tile == k)),
        )


def _subnetwork(
    net: WalkNetwork, keep_edge: np.ndarray
) -> tuple[WalkNetwork, np.ndarray, np.ndarray]:
    """The network of the edges ``keep_edge``, in the same relative order of nodes and edges.

    Returns the sub-network, the global index of each of its nodes and of each of its edges.
    """
    edges = np.flatnonzero(keep_edge)
    nodes = np.unique(np.concatenate([net.edge_u[edges], net.edge_v[edges]]))
    new = np.full(net.n_nodes, -1, dtype=np.int64)
    new[nodes] = np.arange(len(nodes))
    eu = new[net.edge_u[edges]].astype(np.int32)
    ev = new[net.edge_v[edges]].astype(np.int32)
    elen = net.edge_length[edges]
    indptr, head, arc_len, arc_edge = _arcs(len(nodes), eu, ev, elen)
    sub = WalkNetwork(
        indptr=indptr,
        indices=head.astype(np.int32),
        lengths=arc_len,
        arc_edge=arc_edge,
        node_id=net.node_id[nodes],
        x=net.x[nodes],
        y=net.y[nodes],
        lon=net.lon[nodes],
        lat=net.lat[nodes],
        edge_u=eu,
        edge_v=ev,
        edge_length=elen,
        edge_geometry=net.edge_geometry[edges],
        edge_way=net.edge_way[edges],
        edge_name=net.edge_name[edges],
        edge_highway=net.edge_highway[edges],
        crs=net.crs,
        source=net.source,
    )
    return sub, nodes, edges


def route_tile(part: _Part, threads: int | None = None) -> _Out:
    """One tile's task: travel times on its part of the network, and its origins' minutes."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    with (
        _peak_rss() as rss,
        _kernel_threads(threads),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        tt = travel_times(
            part.net,
            part.facilities,
            part.catalogue,
            speed=part.speeds,
            entrances=part.entrances,
            engine=part.engine,
        )
        minutes, nearest = origin_times(part.net, tt, part.homes)
    to_global = np.append(part.fac_rows, -1)  # label -1 stays -1
    acc = tt.access
    own = part.fac_owned[acc["facility"].to_numpy()] if len(acc) else np.zeros(0, dtype=bool)
    acc = acc[own].assign(
        facility=part.fac_rows[acc["facility"].to_numpy()[own]],
        edge=part.edges[acc["edge"].to_numpy()[own]],
    )
    run = TileRun(
        tile=part.tile,
        communities=part.communities,
        origins=len(part.homes),
        nodes=part.net.n_nodes,
        edges=part.net.n_edges,
        facilities=len(part.facilities),
        seconds=round(time.perf_counter() - t0, 3),
        cpu_seconds=round(time.process_time() - cpu0, 3),
        warnings=list(dict.fromkeys(one_line(w.message) for w in caught)),
    )
    run.rss_before_mb, run.peak_rss_mb = rss
    return _Out(
        run=run,
        home_rows=part.home_rows,
        minutes=minutes,
        nearest=to_global[nearest],
        core_global=part.core_global,
        metres=tt.metres[:, part.core],
        label=to_global[tt.facility[:, part.core]],
        access=acc,
    )


def _run(
    client: Any,
    tiles: list[int],
    make: Callable[[int], Any],
    task: Callable[..., Any],
    threads: int | None,
) -> list[Any]:
    """One task per tile; the results in tile order.

    A tile's inputs are made when it is submitted, and at most one more tile than there are
    workers is in flight, so neither the client (which also holds the tasks' inputs while
    they wait, the scheduler of a local cluster running in its process) nor a worker holds
    more than a few tiles' networks at a time.
    """
    import secrets

    from distributed import KilledWorker, as_completed

    run_id = secrets.token_hex(4)
    todo = list(tiles)
    window = max(1, len(client.scheduler_info().get("workers", {}))) + 1

    futures: list[Any] = []

    def submit(k: int) -> Any:
        fut = client.submit(task, make(k), threads, key=f"fifteenmin-tile-{run_id}-{k}", pure=False)
        futures.append(fut)
        return fut

    running = as_completed([submit(todo.pop(0)) for _ in range(min(window, len(todo)))])
    outs = []
    try:
        for fut in bar(running, "tiles", total=len(tiles), unit="tile"):
            try:
                outs.append(fut.result())
            except KilledWorker:
                raise FifteenminError(
                    f"tile {str(fut.key).rsplit('-', 1)[-1]}: the Dask worker running it died "
                    "(out of memory, or stopped); use more tiles, or workers with more memory"
                ) from None
            futures.remove(fut)  # the worker may drop the tile's results now
            if todo:
                running.add(submit(todo.pop(0)))
    finally:  # leaving early (an error, Ctrl-C): the tiles not yet finished are cancelled
        client.cancel(futures)
    return sorted(outs, key=lambda o: o.run.tile)


def _merge(inputs: RouteInputs, outs: list[_Out]) -> tuple[TravelTimes, np.ndarray, np.ndarray]:
    """The whole area's travel times and origin minutes from the tiles'."""
    net, cat, homes = inputs.network, inputs.catalogue, inputs.residents
    fac = inputs.facilities.reset_index(drop=True)
    n_items = len(cat.items)
    minutes = np.full((len(homes), n_items), np.inf)
    nearest = np.full((len(homes), n_items), -1, dtype=np.int64)
    metres = np.full((n_items, net.n_nodes), np.inf)
    label = np.full((n_items, net.n_nodes), -1, dtype=np.int32)
    seen = np.zeros(len(homes), dtype=np.int64)
    for o in outs:
        minutes[o.home_rows] = o.minutes
        nearest[o.home_rows] = o.nearest
        metres[:, o.core_global] = o.metres
        label[:, o.core_global] = o.label
        seen[o.home_rows] += 1
        for w in o.run.warnings:
            warnings.warn(f"tile {o.run.tile}: {w}", UserWarning, stacklevel=3)
    if not (seen == 1).all():  # pragma: no cover - every origin has exactly one tile
        raise RuntimeError("tiles: a resident origin was routed in no tile or in several")
    items = tuple(cat.items)
    speed = _speeds(items, inputs.speeds)
    tiers = np.array([it.tier_minutes for it in items], dtype=np.float64)
    cutoff_min = float(tiers.max(initial=0.0)) + settings.CUTOFF_MARGIN_MIN
    access = [o.access for o in outs if len(o.access)]
    acc = (
        pd.concat(access, ignore_index=True)
        .sort_values(["item", "facility", "edge", "offset"], kind="stable")
        .reset_index(drop=True)
        if access
        else pd.DataFrame(
            {"facility": [], "item": [], "edge": [], "offset": [], "access": []}
        ).astype({"facility": np.int64, "item": np.int64, "edge": np.int64})
    )
    tt = TravelTimes(
        items=items,
        metres=metres,
        facility=label,
        speed=speed,
        cutoff_m=np.full(n_items, cutoff_min) * 60.0 * speed,
        facilities=fac,
        access=acc,
    )
    return tt, minutes, nearest


# --------------------------------------------------------------------------------------------
# tiles that read their own part of the file (memory bounded by the tile)


def _bounded_area(osm_file: object, cfg: RunConfig) -> Any:
    """The pre-pass of a tiled run on an OSM file, or None where the tiles cannot read alone.

    The tiles read their own part of the file when the run takes everything from it (no
    community, population, district, facility or POI file): see :mod:`fifteenmin._tile_area`.
    """
    own = (
        cfg.communities,
        cfg.population,
        cfg.districts,
        cfg.user_facilities,
        cfg.poi,
    )
    if any(x is not None for x in own):
        logger.info("tiles: the client builds the whole area (the run reads files of its own)")
        return None
    if osm_file is None:
        osm_file = sample_path()
    if not isinstance(osm_file, str | os.PathLike):
        return None
    cat = load_catalogue(cfg.catalogue)
    area = scan_area(osm_file, set(cat.osm_keys()), cfg.pedestrian_areas)
    if area is None:
        logger.info(
            "tiles: the client builds the whole area (stray street nodes, or admin_level=10 "
            "boundaries topped up with other communities)"
        )
    return area


def _empty_network(crs: Any, source: str) -> WalkNetwork:
    i32, f64 = np.zeros(0, dtype=np.int32), np.zeros(0)
    obj = np.zeros(0, dtype=object)
    return WalkNetwork(
        indptr=np.zeros(1, dtype=np.int64),
        indices=i32,
        lengths=f64,
        arc_edge=i32,
        node_id=np.zeros(0, dtype=np.int64),
        x=f64,
        y=f64,
        lon=f64,
        lat=f64,
        edge_u=i32,
        edge_v=i32,
        edge_length=f64,
        edge_geometry=obj,
        edge_way=np.zeros(0, dtype=np.int64),
        edge_name=obj,
        edge_highway=obj,
        crs=crs,
        source=source,
    )


def _run_area(
    area: Any,
    n_tiles: int,
    cfg: RunConfig,
    scheduler: Any,
    workers: int | None,
    threads: int | None,
    progress: Progress | None,
) -> TiledReport:
    """A tiled run whose tiles read, build and route their own parts (``_tile_area``)."""
    t0 = time.perf_counter()
    cat = load_catalogue(cfg.catalogue)
    cfg.check_catalogue(cat)
    speeds = item_speeds(cat, cfg.speed, per_item=cfg.item_profiles)
    grid = _Grid(area.x, area.y, n_tiles)
    margin = tile_margin_m(cfg, cat)
    say = f"{n_tiles} tiles ({grid.nx} x {grid.ny}, {grid.width / 1000:,.2f} x " + (
        f"{grid.height / 1000:,.2f} km each), margin {margin:,.0f} m; each tile reads its part"
    )
    logger.info(say)
    if progress is not None:
        progress(say)
    slim = dataclasses.replace(area, x=np.zeros(0), y=np.zeros(0))

    def make(k: int) -> AreaTile:
        return AreaTile(k, slim, grid.box(k), grid, margin, cat, dict(speeds), cfg)

    tiles = list(range(grid.nx * grid.ny))
    with dask_client(scheduler, workers, len(tiles)) as client:
        outs = _run(client, tiles, make, area_tile, threads)
    for o in outs:
        for w in o.run.warnings:
            warnings.warn(f"tile {o.run.tile}: {w}", UserWarning, stacklevel=3)
    t1 = time.perf_counter()
    merged = merge_tiles(outs, area, cat)
    cov, hours, tt = score_merged(merged, cat, cfg, speeds)
    logger.info(f"tiles merged and scored in {time.perf_counter() - t1:.2f} s")
    return TiledReport(
        network=_empty_network(area.frame.crs, area.path),
        facilities=merged.facilities,
        travel=tt,
        communities=merged.communities,
        residents=merged.residents,
        origin_minutes=merged.minutes,
        coverage=cov,
        catalogue=cat,
        config=cfg,
        osm_source=area.path,
        timings={"tiles": t1 - t0, "merge": time.perf_counter() - t1},
        entrances=gpd.GeoSeries([], crs="EPSG:4326"),
        opening_hours=hours,
        tile_runs=[o.run for o in outs],
        network_totals=merged.network,
    )
