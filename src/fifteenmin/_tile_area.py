"""Tiles whose memory is bounded by the tile (``run_tiled``'s default path for OSM files).

:func:`fifteenmin.tiles.run_tiled` on an OSM file runs in three steps:

1. **The area** (:func:`scan_area`, in the client): one streaming pass over the file keeps only
   compact arrays: the OSM ids and positions of the walkable ways' nodes, which give the
   whole network's largest component, its UTM zone and its box (an
   :class:`~fifteenmin.network.AreaFrame`, 24 bytes per network node), and the few
   ``admin_level=10`` boundaries that decide where the communities come from. No network,
   no facility and no community of the area is built.
2. **Each tile** (:func:`area_tile`, one Dask task): a streaming pass over the file keeps the
   elements that meet the tile's box widened by its margin
   (:func:`fifteenmin.tiles.tile_margin_m`) and builds that part's network (the whole
   network's there: same nodes, lengths, CRS and node order), facilities, communities and
   resident origins with the stages' own functions; it routes them and computes the minutes
   of the residents of the communities it owns (those whose representative point it holds),
   at every opening-hours time too. It returns those communities, their origins and minutes,
   the facilities it owns and its share of the network's size.
3. **The client** (:func:`merge_tiles`) puts the tiles' communities, origins and facilities in
   the whole run's order and scores them once (:func:`fifteenmin.coverage.score_coverage`, the
   opening hours' :func:`fifteenmin.hours.coverage_at_times` figures), so every figure that
   needs the whole area is computed from the whole area's rows.

The client holds, per community, its row and polygon, per resident origin a point and its
minutes, per facility its row: never a network, nor anything per network node but the
pre-pass's arrays.
"""

from __future__ import annotations

import os
import time
import warnings
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from . import settings
from ._errors import FifteenminError, NetworkError
from ._osm import (
    BASE_FEATURE_KEYS,
    OSMData,
    WalkWays,
    _check_path,
    _header_bbox,
    _parse_errors,
    _Pass,
    read_error,
)
from .batch_task import _kernel_threads, _peak_rss, one_line
from .catalogue import Catalogue
from .communities import _grid_communities, _osm_communities, residents, with_types
from .config import RunConfig
from .coverage import score_coverage
from .facilities import entrances_from_osm, facilities_from_osm, facility_counts
from .hours import HoursResult, _coverage_at, _Run, facility_hours, reference_times
from .network import (
    _GEOD,
    AreaFrame,
    WalkNetwork,
    _concat_ways,
    _cumulative,
    _from_ways,
    local_crs,
    pedestrian_area_ways,
)
from .routing import TravelTimes, _speeds, origin_times, travel_times
from .validate import stray_points

#: Metres the read box of a tile reaches beyond its margin, for the edges that cross it.
_READ_SLACK_M = settings.MAX_SNAP_M
#: Metres a community owned by a tile may reach beyond the tile's box before the tile reads
#: its data again over a box that holds the community.
_COMMUNITY_SLACK_M = 1_000.0

_NO_TAGS: dict[str, str] = {}

Box = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class Area:
    """What the client's pre-pass knows of the whole area (:func:`scan_area`)."""

    path: str
    frame: AreaFrame
    x: np.ndarray  # the network nodes' coordinates in frame.crs (for the tiles' grid)
    y: np.ndarray
    communities: str  # "admin_level_10", "landuse_residential" or "grid"
    grid_origin: tuple[float, float]  # the whole network's lowest x and y (grid communities)
    # per way part (walkable ways, then pedestrian areas' parts): its way's (area's) OSM id
    # and the value of the whole file's running sum of lengths at its first position
    part_way: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    part_start: np.ndarray = field(default_factory=lambda: np.zeros(0))
    extra_way: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra_start: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _inside(b: np.ndarray, box: Box) -> bool:
    return bool(b[2] >= box[0] and b[0] <= box[2] and b[3] >= box[1] and b[1] <= box[3])


class _Ways:
    """Walkable way parts collected in typed arrays: 8 bytes a value, not a Python object."""

    def __init__(self, tags: bool) -> None:
        self.ptr = array("q", [0])
        self.node = array("q")
        self.lon = array("d")
        self.lat = array("d")
        self.way = array("q")
        self.tags: list[dict[str, str]] | None = [] if tags else None

    def add(
        self, way_id: int, tags: dict[str, str], ids: list[int], lon: list[float], lat: list[float]
    ) -> None:
        if len(ids) >= 2:  # as _Pass.add_part
            self.node.extend(ids)
            self.lon.extend(lon)
            self.lat.extend(lat)
            self.ptr.append(len(self.node))
            self.way.append(way_id)
            if self.tags is not None:
                self.tags.append(tags)

    def walk_ways(self) -> WalkWays:
        n = len(self.way)
        return WalkWays(
            ptr=np.frombuffer(self.ptr, dtype=np.int64),
            node_id=np.frombuffer(self.node, dtype=np.int64),
            lon=np.frombuffer(self.lon, dtype=np.float64),
            lat=np.frombuffer(self.lat, dtype=np.float64),
            way_id=np.frombuffer(self.way, dtype=np.int64),
            tags=self.tags if self.tags is not None else [_NO_TAGS] * n,
        )


def _stream(
    path: Path,
    keys: set[str],
    box: Box | None,
    keep_feature: Callable[[str, dict[str, str], bytes], bool] | None = None,
    tags: bool = True,
) -> tuple[_Pass, WalkWays]:
    """One pass over the file with :class:`fifteenmin._osm._Pass`, kept to ``box`` (lon/lat).

    Ways are kept whole when the box of their nodes meets ``box``; features when their
    geometry's box does and ``keep_feature`` accepts them; ``tags=False`` keeps no tags of
    the walkable ways. Returns the pass and its walkable way parts.
    """
    import osmium

    fp = osmium.FileProcessor(str(path)).with_locations().with_areas()
    fp = fp.with_filter(osmium.filter.EmptyTagFilter())
    pass_ = _Pass(keys, True)
    add_feature = pass_.add_feature
    ways = _Ways(tags)

    def feature(osm_type: str, osm_id: int, t: dict[str, str], wkb: bytes) -> None:
        if keep_feature is not None and not keep_feature(osm_type, t, wkb):
            return
        if box is None or _inside(shapely.bounds(shapely.from_wkb(wkb)), box):
            add_feature(osm_type, osm_id, t, wkb)

    pass_.add_feature = feature  # type: ignore[method-assign,assignment]
    pass_.add_part = ways.add  # type: ignore[method-assign]
    for obj in fp:
        if isinstance(obj, osmium.osm.Node):
            loc = obj.location
            if box is None or (
                loc.valid() and box[0] <= loc.lon <= box[2] and box[1] <= loc.lat <= box[3]
            ):
                pass_.node(obj)
        elif isinstance(obj, osmium.osm.Way):
            if box is None or _way_meets(obj, box):
                pass_.way(obj)
        elif isinstance(obj, osmium.osm.Relation):
            pass_.relation(obj)
        elif isinstance(obj, osmium.osm.Area):
            pass_.area(obj)
    if box is not None:
        pass_.pedestrian_areas = [
            a
            for a in pass_.pedestrian_areas
            if _inside(np.asarray(shapely.bounds(a.geometry)), box)
        ]
    # _Pass.check asks whether any way part was kept (they went to `ways`, not to the pass)
    pass_.node_ids = [1] if len(ways.way) else []
    return pass_, ways.walk_ways()


def _way_meets(way: Any, box: Box) -> bool:
    """Whether the box of a way's placed nodes meets ``box``."""
    lon0 = lat0 = np.inf
    lon1 = lat1 = -np.inf
    for nd in way.nodes:
        loc = nd.location
        if loc.valid():
            lon, lat = loc.lon, loc.lat
            lon0, lon1 = min(lon0, lon), max(lon1, lon)
            lat0, lat1 = min(lat0, lat), max(lat1, lat)
    return lon1 >= box[0] and lon0 <= box[2] and lat1 >= box[1] and lat0 <= box[3]


def _network_nodes(ways: WalkWays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The largest component's nodes as :func:`fifteenmin.network._from_ways` keeps them.

    Returns their sorted OSM ids, longitudes and latitudes.
    """
    ptr = ways.ptr
    uniq, inverse, counts = np.unique(ways.node_id, return_inverse=True, return_counts=True)
    kept = counts[inverse] >= 2
    kept[ptr[:-1]] = True
    kept[ptr[1:] - 1] = True
    part_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    kp = np.flatnonzero(kept)
    same = part_of[kp[:-1]] == part_of[kp[1:]]
    u, v = inverse[kp[:-1][same]], inverse[kp[1:][same]]
    n = len(uniq)
    adj = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, comp = csgraph.connected_components(adj, directed=False)
    keep = comp == int(np.argmax(np.bincount(comp)))
    used = np.zeros(n, dtype=bool)
    loop = u == v  # a self-loop alone does not make a node part of the network
    used[u[~loop]] = True
    used[v[~loop]] = True
    keep &= used
    first = np.full(n, -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    sel = first[keep]
    return uniq[keep], ways.lon[sel], ways.lat[sel]


def scan_area(path: str | os.PathLike[str], keys: set[str], pedestrian_areas: bool) -> Area | None:
    """The client's pre-pass over the whole file (see the module); None when unsupported.

    Unsupported (the caller routes the run the former way, the client building the whole
    area): a file not sorted by id, stray street nodes, and ``admin_level=10`` boundaries that
    cover at least half of the network but not all of it (topped up with other communities).

    Raises
    ------
    InputFileError, OSMFileError
        As :func:`fifteenmin._osm.read_osm` (the file is checked as a run reads it).
    """
    p = _check_path(path)
    admin: list[bytes] = []
    residential = [False]

    def keep(osm_type: str, t: dict[str, str], wkb: bytes) -> bool:
        if t.get("boundary") == "administrative" and t.get("admin_level") == "10":
            admin.append(wkb)
        if t.get("landuse") == "residential" and shapely.get_type_id(shapely.from_wkb(wkb)) in (
            3,
            6,
        ):
            residential[0] = True
        return False

    # every key of the run, so that the file is checked and warned about as a run reads it
    try:
        pass_, ways = _stream(p, set(BASE_FEATURE_KEYS) | keys, None, keep, tags=False)
    except _parse_errors() as exc:
        if isinstance(exc, FifteenminError):
            raise
        if "out of order" in str(exc):  # unsorted: read_osm's own way, in the client
            return None
        raise read_error(p, exc) from exc
    pass_.check(p)
    if stray_points(ways.lon, ways.lat)[0].any():
        return None
    n_parts = len(ways.way_id)
    if pedestrian_areas and pass_.pedestrian_areas:
        extra = pedestrian_area_ways(ways, pass_.pedestrian_areas)
        if len(extra.way_id):
            ways = _concat_ways(ways, extra)
    ids, lon, lat = _network_nodes(ways)
    start = _part_starts(ways)
    part_way = ways.way_id.copy()
    del ways, pass_
    if not len(ids):
        return None
    crs = local_crs(float(np.mean(lon)), float(np.mean(lat)))
    x, y = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    bounds = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
    source = _community_source(admin, residential[0], lon, lat)
    if source is None:
        return None
    return Area(
        path=str(p),
        frame=AreaFrame(crs=crs, node_ids=ids, bounds=bounds),
        x=x,
        y=y,
        communities=source,
        grid_origin=(bounds[0], bounds[1]),
        part_way=part_way[:n_parts],
        part_start=start[:n_parts],
        extra_way=part_way[n_parts:],
        extra_start=start[n_parts:],
    )


def _part_starts(ways: WalkWays) -> np.ndarray:
    """Each way part's value of the running sum of lengths of :func:`_from_ways`."""
    ptr = ways.ptr
    part_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    _, _, seg = _GEOD.inv(ways.lon[:-1], ways.lat[:-1], ways.lon[1:], ways.lat[1:])
    seg = np.asarray(seg, dtype=np.float64)
    seg[part_of[:-1] != part_of[1:]] = 0.0
    return np.asarray(_cumulative(seg, ptr, None)[ptr[:-1]])


def _starts_of(ids: np.ndarray, whole_ids: np.ndarray, whole_start: np.ndarray) -> np.ndarray:
    """The whole file's start values of a tile's way parts ``ids``.

    A way's k-th part is the whole file's k-th part of that way; a part the whole file lacks
    starts at 0.
    """
    order = np.argsort(whole_ids, kind="stable")
    sorted_ids = whole_ids[order]
    first = np.searchsorted(sorted_ids, ids, "left")
    count = np.searchsorted(sorted_ids, ids, "right") - first
    t_order = np.argsort(ids, kind="stable")
    t_sorted = ids[t_order]
    rank = np.empty(len(ids), dtype=np.int64)
    rank[t_order] = np.arange(len(ids)) - np.searchsorted(t_sorted, t_sorted, "left")
    ok = rank < count
    out = np.zeros(len(ids))
    out[ok] = whole_start[order[(first + rank)[ok]]]
    return out


def _community_source(
    admin: list[bytes], residential: bool, lon: np.ndarray, lat: np.ndarray
) -> str | None:
    """Where :func:`fifteenmin.communities.communities_from_osm` takes the communities from."""
    polys = [g for g in shapely.from_wkb(admin) if shapely.get_type_id(g) in (3, 6)]
    if polys:
        tree = shapely.STRtree(np.asarray(polys, dtype=object))
        covered = np.zeros(len(lon), dtype=bool)
        step = 200_000
        for s in range(0, len(lon), step):
            pts = shapely.points(lon[s : s + step], lat[s : s + step])
            covered[s + tree.query(pts, predicate="within")[0]] = True
        if covered.sum() >= 0.5 * len(lon):
            if covered.mean() < settings.ADMIN_COMPLETE_SHARE:
                return None  # topped up: not supported tile by tile
            return "admin_level_10"
    return "landuse_residential" if residential else "grid"


# --------------------------------------------------------------------------------------------
# one tile


@dataclass
class TileRun:
    """What one tile's task measured (``TiledReport.tile_runs``).

    Attributes
    ----------
    tile
        The tile's number (0-based, row by row from the south-west).
    communities, origins, nodes, edges, facilities
        The tile's communities and resident origins, and the network nodes, edges and
        facilities within its margin.
    seconds, cpu_seconds
        Wall and CPU time of the task.
    rss_before_mb, peak_rss_mb
        The worker's resident memory before the task and its peak during it (MB).
    warnings
        The warnings the task raised.
    """

    tile: int
    communities: int = 0
    origins: int = 0
    nodes: int = 0
    edges: int = 0
    facilities: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_before_mb: float | None = None
    peak_rss_mb: float | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class AreaTile:
    """One tile's task (:func:`area_tile`)."""

    tile: int
    area: Area
    box: np.ndarray  # the tile's rectangle in area.frame.crs
    grid: Any  # fifteenmin.tiles._Grid
    margin: float
    catalogue: Catalogue
    speeds: dict[str, float]
    config: RunConfig


@dataclass
class AreaOut:
    """One tile's results (:func:`area_tile`)."""

    run: Any  # fifteenmin.tiles.TileRun
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    minutes: np.ndarray
    hours_minutes: dict[tuple[str, str], np.ndarray]
    facilities: gpd.GeoDataFrame
    nodes: int = 0
    edges: int = 0
    length_m: list[float] = field(default_factory=list)


def _lonlat_box(box: np.ndarray, pad: float, crs: pyproj.CRS) -> Box:
    """``box`` (metres, ``crs``) widened by ``pad``, as a lon/lat box around it."""
    t = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    w, s, e, n = t.transform_bounds(
        box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad, densify_pts=21
    )
    eps = 1e-7
    return (w - eps, s - eps, e + eps, n + eps)


def _read_part(area: Area, keys: set[str], box: Box) -> OSMData:
    p = Path(area.path)
    pass_, ways = _stream(p, keys, box)
    import osmium

    return OSMData(
        source=area.path,
        bbox=_header_bbox(osmium.FileProcessor(str(p))),
        ways=ways,
        features=pass_.features(),
        counts=pass_.counts,
        keys=frozenset(keys),
        pedestrian_areas=pass_.pedestrian_areas,
    )


def _part_network(data: OSMData, area: Area, pedestrian_areas: bool) -> WalkNetwork | None:
    ways = data.ways
    if not len(ways.node_id):
        return None
    start = _starts_of(ways.way_id, area.part_way, area.part_start)
    if pedestrian_areas and data.pedestrian_areas:
        extra = pedestrian_area_ways(ways, data.pedestrian_areas)
        if len(extra.way_id):
            ways = _concat_ways(ways, extra)
            more = _starts_of(extra.way_id, area.extra_way, area.extra_start)
            start = np.concatenate([start, more])
    try:
        return _from_ways(ways, data.source, False, area=area.frame, cum_start=start)
    except NetworkError:  # no street of the area's network here
        return None


def _communities(data: OSMData, net: WalkNetwork, area: Area) -> gpd.GeoDataFrame:
    """The part's communities, as :func:`fifteenmin.communities.communities_from_osm`."""
    if area.communities == "grid":
        x0, y0 = area.grid_origin  # the whole area's grid: a node at its corner, not covered
        whole = SimpleNamespace(
            x=np.r_[net.x, x0], y=np.r_[net.y, y0], n_nodes=net.n_nodes + 1, crs=net.crs
        )
        mask = np.r_[np.ones(net.n_nodes, dtype=bool), False]
        com = _grid_communities(whole, settings.GRID_SIZE_M, nodes=mask)  # type: ignore[arg-type]
        return with_types(com, data, net)
    f = data.features
    is_poly = (
        np.isin(shapely.get_type_id(f.geometry.values), (3, 6)) if len(f) else np.zeros(0, bool)
    )
    if area.communities == "admin_level_10":
        pred = [
            t.get("boundary") == "administrative" and t.get("admin_level") == "10"
            for t in f["tags"]
        ]
    else:
        pred = [t.get("landuse") == "residential" for t in f["tags"]]
    sel = f[np.asarray(pred, dtype=bool).reshape(-1) & is_poly]
    com = _osm_communities(sel, area.communities)
    return with_types(com, data, net) if len(com) else com


def _owned(geoms: gpd.GeoSeries, crs: pyproj.CRS, grid: Any, tile: int) -> np.ndarray:
    """Which geometries' representative points lie in ``tile``."""
    if not len(geoms):
        return np.zeros(0, dtype=bool)
    rep = shapely.point_on_surface(np.asarray(geoms.to_crs(crs).values, dtype=object))
    return np.asarray(grid.tile_of(shapely.get_x(rep), shapely.get_y(rep)) == tile)


def area_tile(task: AreaTile, threads: int | None = None) -> AreaOut:
    """One tile's task: read, build, route and compute its communities' minutes."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    with (
        _peak_rss() as rss,
        _kernel_threads(threads),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        out = _tile_results(task)
    out.run = TileRun(
        tile=task.tile,
        communities=len(out.communities),
        origins=len(out.residents),
        nodes=out.run.nodes,
        edges=out.run.edges,
        facilities=out.run.facilities,
        seconds=round(time.perf_counter() - t0, 3),
        cpu_seconds=round(time.process_time() - cpu0, 3),
        warnings=list(dict.fromkeys(one_line(w.message) for w in caught)),
    )
    out.run.rss_before_mb, out.run.peak_rss_mb = rss
    return out


def _tile_results(task: AreaTile) -> AreaOut:
    area, cfg, cat = task.area, task.config, task.catalogue
    keys = set(BASE_FEATURE_KEYS) | set(cat.osm_keys())
    crs = area.frame.crs
    inner = np.asarray(task.box, dtype=np.float64)
    while True:
        data = _read_part(area, keys, _lonlat_box(inner, task.margin + _READ_SLACK_M, crs))
        net = _part_network(data, area, cfg.pedestrian_areas)
        if net is None:
            break
        com = _communities(data, net, area)
        com = com[_owned(com.geometry, crs, task.grid, task.tile)].reset_index(drop=True)
        b = com.to_crs(crs).total_bounds if len(com) else inner
        need = np.array(
            [min(b[0], inner[0]), min(b[1], inner[1]), max(b[2], inner[2]), max(b[3], inner[3])]
        )
        if (need[:2] >= inner[:2] - _COMMUNITY_SLACK_M).all() and (
            need[2:] <= inner[2:] + _COMMUNITY_SLACK_M
        ).all():
            break
        inner = need  # a community reaches far beyond the tile: read again around it
    fac = facilities_from_osm(data, cat)
    fac.attrs.pop("osm_extent", None)
    out = _empty(task)
    out.facilities = fac[_owned(fac.geometry, crs, task.grid, task.tile)].reset_index(drop=True)
    out.run.facilities = len(fac)
    if net is None:
        return out
    node_tile = task.grid.tile_of(net.x, net.y)
    u, v = net.edge_u, net.edge_v
    first = np.where(net.node_id[u] <= net.node_id[v], u, v)
    own_edge = node_tile[first] == task.tile
    out.run.nodes, out.run.edges = net.n_nodes, net.n_edges
    out.nodes = int(np.count_nonzero(node_tile == task.tile))
    out.edges = int(np.count_nonzero(own_edge))
    out.length_m = net.edge_length[own_edge].tolist()
    if not len(com):
        return out
    entrances = entrances_from_osm(data)
    homes = residents(com, net, data)
    tt = travel_times(net, fac, cat, speed=task.speeds, entrances=entrances, engine=cfg.engine)
    minutes, _ = origin_times(net, tt, homes)
    out.hours_minutes = _hours_minutes(task, net, fac, com, homes, entrances, minutes)
    out.communities, out.residents, out.minutes = com, homes, minutes
    return out


def _empty(task: AreaTile) -> AreaOut:
    n_items = len(task.catalogue.items)
    return AreaOut(
        run=TileRun(tile=task.tile),
        communities=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
        residents=gpd.GeoDataFrame(geometry=[], crs=task.area.frame.crs),
        minutes=np.zeros((0, n_items)),
        hours_minutes={},
        facilities=gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    )


def _hours_minutes(
    task: AreaTile,
    net: WalkNetwork,
    fac: gpd.GeoDataFrame,
    com: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    entrances: gpd.GeoSeries,
    minutes: np.ndarray,
) -> dict[tuple[str, str], np.ndarray]:
    """The minutes of the tile's origins with only the facilities open (or not closed)."""
    cfg = task.config
    times = reference_times(cfg.opening_hours_at)
    if not times:
        return {}
    run = _Run(
        net=net,
        facilities=fac.reset_index(drop=True),
        cat=task.catalogue,
        communities=com,
        residents=homes,
        speed=task.speeds,
        entrances=entrances,
        threshold=float(cfg.threshold),
        engine=cfg.engine,
        minutes=np.asarray(minutes, dtype=np.float64),
    )
    with warnings.catch_warnings():  # the client warns once, of the whole area's facilities
        warnings.filterwarnings("ignore", message=r".*opening_hours tag")
        states = facility_hours(run.facilities, times)
    out = {}
    for t in times:
        st = states[t.label].to_numpy()
        out[(t.label, "open")] = run.minutes_with(st == "open")
        out[(t.label, "open_or_unknown")] = run.minutes_with(st != "closed")
    return out


# --------------------------------------------------------------------------------------------
# the client


@dataclass(frozen=True)
class Merged:
    """The whole area's rows, merged from the tiles (:func:`merge_tiles`)."""

    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    minutes: np.ndarray
    facilities: gpd.GeoDataFrame
    network: dict[str, Any]
    hours_minutes: dict[tuple[str, str], np.ndarray]


def _community_key(ids: pd.Series) -> pd.DataFrame:
    """The whole run's order of communities: by OSM type and id, or grid row and column."""
    parts = ids.astype(str).str.split("/", n=1, expand=True)
    if len(ids) and (parts[0] == "grid").all():
        rc = parts[1].str.split("_", expand=True).astype(np.int64)
        return pd.DataFrame({"a": rc[0], "b": rc[1]})
    return pd.DataFrame({"a": parts[0] if len(ids) else [], "b": parts[1].astype(np.int64)})


def merge_tiles(outs: list[AreaOut], area: Area, cat: Catalogue) -> Merged:
    """The tiles' communities, origins, minutes and facilities, in the whole run's order."""
    coms = [o.communities for o in outs if len(o.communities)]
    n_items = len(cat.items)
    if not coms:
        raise NetworkError(f"{area.path}: no community was found in any tile")
    com = pd.concat(coms, ignore_index=True)
    key = _community_key(com["community_id"])
    order = np.lexsort((key["b"].to_numpy(), key["a"].to_numpy()))
    com = gpd.GeoDataFrame(com.iloc[order].reset_index(drop=True), crs="EPSG:4326")
    rank = pd.Series(np.arange(len(com)), index=com["community_id"].to_numpy())
    homes_list = [o.residents for o in outs if len(o.residents)]
    homes = pd.concat(homes_list, ignore_index=True)
    minutes = np.concatenate([o.minutes for o in outs if len(o.residents)]).reshape(-1, n_items)
    h_order = np.argsort(rank.loc[homes["community_id"].to_numpy()].to_numpy(), kind="stable")
    homes = gpd.GeoDataFrame(homes.iloc[h_order].reset_index(drop=True), crs=area.frame.crs)
    minutes = minutes[h_order]
    hours: dict[tuple[str, str], np.ndarray] = {}
    for k in next((o.hours_minutes for o in outs if o.hours_minutes), {}):
        parts = [o.hours_minutes[k] for o in outs if len(o.residents)]
        hours[k] = np.concatenate(parts).reshape(-1, n_items)[h_order]
    facs = [o.facilities for o in outs if len(o.facilities)]
    fac = pd.concat(facs, ignore_index=True) if facs else outs[0].facilities
    if len(fac):
        fac = fac.assign(_k=cat.rank(fac["item_id"]))
        fac = fac.sort_values(["_k", "osm_type", "osm_id"], kind="stable").drop(columns="_k")
        fac = fac.reset_index(drop=True)
        fac["facility_id"] = np.arange(len(fac), dtype=np.int64)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs="EPSG:4326")
    length = float(np.sum(np.sort(np.concatenate([np.asarray(o.length_m) for o in outs]))))
    edges = sum(o.edges for o in outs)
    network = {
        "nodes": sum(o.nodes for o in outs),
        "edges": edges,
        "arcs": 2 * edges,
        "length_km": round(length / 1000.0, 3),
        "crs": area.frame.crs.to_string(),
    }
    return Merged(com, homes, minutes, fac, network, hours)


def score_merged(
    merged: Merged, cat: Catalogue, cfg: RunConfig, speeds: Mapping[str, float]
) -> tuple[Any, HoursResult | None, TravelTimes]:
    """Coverage (and opening hours) of the merged rows, as :func:`run_pipeline` scores them."""
    counts = facility_counts(merged.facilities, cat)
    cov = score_coverage(
        merged.communities,
        merged.residents,
        merged.minutes,
        cat.items,
        threshold=cfg.threshold,
        facility_counts=dict(zip(counts["item_id"], counts["facilities"], strict=True)),
        category_weights=cfg.category_weights,
        floor_area_per_person=cfg.floor_area_per_person,
        people_per_street_m=cfg.people_per_street_m,
    )
    items = tuple(cat.items)
    speed = _speeds(items, speeds)
    tiers = np.array([it.tier_minutes for it in items], dtype=np.float64)
    cutoff_min = float(tiers.max(initial=0.0)) + settings.CUTOFF_MARGIN_MIN
    n_items = len(items)
    tt = TravelTimes(
        items=items,
        metres=np.zeros((n_items, 0)),
        facility=np.zeros((n_items, 0), dtype=np.int32),
        speed=speed,
        cutoff_m=np.full(n_items, cutoff_min) * 60.0 * speed,
        facilities=merged.facilities,
        access=pd.DataFrame({"facility": [], "item": [], "edge": [], "offset": [], "access": []}),
    )
    times = reference_times(cfg.opening_hours_at)
    hours = None
    if times:
        run = _MergedRun(
            net=None,  # type: ignore[arg-type]
            facilities=merged.facilities,
            cat=cat,
            communities=merged.communities,
            residents=merged.residents,
            speed=dict(speeds),
            entrances=None,
            threshold=float(cfg.threshold),
            engine=cfg.engine,
            minutes=merged.minutes,
            floor_area_per_person=float(cfg.floor_area_per_person),
            people_per_street_m=float(cfg.people_per_street_m),
        )
        with warnings.catch_warnings():  # _coverage_at warns of them
            warnings.filterwarnings("ignore", message=r".*opening_hours tag")
            states = facility_hours(merged.facilities, times)
        for t in times:
            st = states[t.label].to_numpy()
            run.known[(st == "open").tobytes()] = merged.hours_minutes[(t.label, "open")]
            run.known[(st != "closed").tobytes()] = merged.hours_minutes[
                (t.label, "open_or_unknown")
            ]
        hours = _coverage_at(run, times, cov, settings.OPENING_HOURS_WEEK)
    return cov, hours, tt


@dataclass
class _MergedRun(_Run):
    """The opening hours' run whose minutes with some facilities the tiles computed."""

    known: dict[bytes, np.ndarray] = field(default_factory=dict)

    def minutes_of(self, keep: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """The tiles' minutes to the items ``changed`` with the facilities ``keep``."""
        known: np.ndarray = self.known[np.asarray(keep, dtype=bool).tobytes()]
        return known[:, changed]
