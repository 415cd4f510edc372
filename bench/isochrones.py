"""Isochrones: fifteenmin vs the approach of osmnx's examples (area and speed).

For ~50 origins per network, 5/10/15-minute walking isochrones (1,000 m per 15 minutes):

* ``ours``: :func:`fifteenmin.isochrones.walking_areas` (edges cut where time runs out, 25 m
  buffer, union; holes kept), one search per origin (``merge=False``) and one multi-source
  search for all origins at once (``merge=True``);
* ``hull``: osmnx-examples notebook 13 ("isolines-isochrones"): ``nx.ego_graph`` of the
  origin's nearest node with ``radius=minutes, distance="time"`` on the projected osmnx graph,
  then the convex hull of the reached nodes;
* ``buffer``: the same notebook's ``make_iso_polys(G, edge_buff=25, node_buff=50,
  infill=False)``: reached nodes buffered by 50 m and the edges of the ego graph (whole edges
  between reached nodes) by 25 m, unioned. Written like the notebook except that node
  coordinates come from a dict instead of ``GeoDataFrame.loc`` (which only makes it faster).

The osmnx graph is ``net.to_networkx()`` projected to the network's UTM CRS
(``ox.project_graph``); its conversion time is reported apart. Reported per band: area ratio
``ours / theirs`` (median and 10th-90th percentiles over origins), the share of the hull that
``ours`` does not cover, the share of the hull farther than 25 m from *any* street of the
network (water, railway land, parks without paths, closed compounds), and the share of ``ours``
outside the hull (pieces of edges beyond the last reached node, and the buffer itself).

Usage::

    python bench/isochrones.py [--origins 50] [--seed 0]

Runs on the bundled sample and, when ../shared is present, on the Beijing (CAU) and Helsinki
centre extracts. Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely import LineString, Point

import fifteenmin as fm
from fifteenmin import settings
from fifteenmin.isochrones import walking_areas

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
NETWORKS = {
    "sample (Helsinki extract)": None,
    "Beijing CAU": SHARED_OSM / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm.pbf",
    "Helsinki centre": SHARED_OSM / "benchmark" / "helsinki_centre_2019.osm.pbf",
}
BANDS = (5, 10, 15)
SPEED = fm.settings.WALK_SPEED_M_S


def origins_on_streets(net: fm.WalkNetwork, k: int, seed: int) -> np.ndarray:
    """``k`` points near streets in the central box (25-75 % of node x and y), +-15 m off."""
    rng = np.random.default_rng(seed)
    xlo, xhi = np.quantile(net.x, [0.25, 0.75])
    ylo, yhi = np.quantile(net.y, [0.25, 0.75])
    mid = shapely.line_interpolate_point(net.edge_geometry, 0.5, normalized=True)
    mx, my = shapely.get_x(mid), shapely.get_y(mid)
    central = np.flatnonzero((mx >= xlo) & (mx <= xhi) & (my >= ylo) & (my <= yhi))
    w = net.edge_length[central] / net.edge_length[central].sum()
    e = rng.choice(central, k, p=w)
    p = shapely.line_interpolate_point(net.edge_geometry[e], rng.uniform(0, 1, k), normalized=True)
    off = rng.uniform(-15.0, 15.0, (k, 2))
    return np.column_stack([shapely.get_x(p), shapely.get_y(p)]) + off


def osmnx_graph(net: fm.WalkNetwork):
    """The osmnx graph of the examples: projected, with a ``time`` (minutes) edge attribute."""
    import osmnx as ox

    G = ox.project_graph(net.to_networkx(), to_crs=net.crs)
    meters_per_minute = SPEED * 60.0
    for _, _, _, data in G.edges(data=True, keys=True):
        data["time"] = data["length"] / meters_per_minute
    return G


def hull_isochrones(G, center, trip_times=BANDS):
    """osmnx example: ego graph within ``trip_time`` minutes, convex hull of its nodes."""
    polys = {}
    for trip_time in sorted(trip_times, reverse=True):
        subgraph = nx.ego_graph(G, center, radius=trip_time, distance="time")
        node_points = [Point((data["x"], data["y"])) for node, data in subgraph.nodes(data=True)]
        polys[trip_time] = gpd.GeoSeries(node_points).union_all().convex_hull
    return [polys[t] for t in trip_times]


def buffer_isochrones(G, center, trip_times=BANDS, edge_buff=25, node_buff=50):
    """osmnx example ``make_iso_polys(G, edge_buff, node_buff, infill=False)``."""
    polys = {}
    for trip_time in sorted(trip_times, reverse=True):
        subgraph = nx.ego_graph(G, center, radius=trip_time, distance="time")
        xy = {node: Point((d["x"], d["y"])) for node, d in subgraph.nodes(data=True)}
        edge_lines = []
        for n_fr, n_to in subgraph.edges():
            f, t = xy[n_fr], xy[n_to]
            edge_lines.append(G.get_edge_data(n_fr, n_to)[0].get("geometry", LineString([f, t])))
        n = gpd.GeoSeries(list(xy.values())).buffer(node_buff)
        e = gpd.GeoSeries(edge_lines).buffer(edge_buff)
        polys[trip_time] = gpd.GeoSeries(list(n) + list(e)).union_all()
    return [polys[t] for t in trip_times]


def timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its (wall, process CPU) seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - w0, time.process_time() - c0)


def _q(a: np.ndarray) -> str:
    """Median (10th-90th percentile), ignoring NaN (a hull of < 3 nodes has no area)."""
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return f"{np.median(a):.2f} ({np.quantile(a, 0.1):.2f}-{np.quantile(a, 0.9):.2f})"


def run(name: str, net: fm.WalkNetwork, k: int, seed: int) -> None:
    import osmnx as ox

    xy = origins_on_streets(net, k, seed)
    print(f"\n### {name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {k} origins\n")
    walking_areas(net, xy[:2])  # warm-up (numba kernel from its cache)

    ours, t_ours = timed(walking_areas, net, xy, BANDS, speed=SPEED)
    merged, t_merged = timed(walking_areas, net, xy, BANDS, speed=SPEED, merge=True)
    G, t_graph = timed(osmnx_graph, net)
    centers = ox.distance.nearest_nodes(G, xy[:, 0], xy[:, 1])
    hulls, t_hull = timed(lambda: [hull_isochrones(G, c) for c in centers])
    bufs, t_buf = timed(lambda: [buffer_isochrones(G, c) for c in centers])

    streets = shapely.union_all(shapely.buffer(net.edge_geometry, settings.ISOCHRONE_BUFFER_M))
    nb = len(BANDS)
    our = ours.geometry.to_numpy().reshape(k, nb)
    hull = np.array(hulls, dtype=object)
    buf = np.array(bufs, dtype=object)

    def ms(t: tuple[float, float]) -> str:
        return f"{1e3 * t[0] / k:.1f} / {1e3 * t[1] / k:.1f}"

    print("time per origin, 3 bands, ms (wall / CPU of this process):")
    print("| ours | ours merged (all origins, one search) | osmnx hull | osmnx buffer |")
    print("|---|---|---|---|")
    print(f"| {ms(t_ours)} | {ms(t_merged)} | {ms(t_hull)} | {ms(t_buf)} |")
    print(f"(osmnx graph: to_networkx + project_graph {t_graph[0]:.2f} s wall, once)\n")
    print(
        "| band | ours km² | ours / hull | ours / buffer | hull not in ours "
        "| hull >25 m from any street | ours outside hull | holes in ours |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for b, minutes in enumerate(BANDS):
        o, h, f = our[:, b], hull[:, b], buf[:, b]
        ao, ah, af = shapely.area(o), shapely.area(h), shapely.area(f)
        ah = np.where(ah > 0, ah, np.nan)
        not_ours = shapely.area(shapely.difference(h, o)) / ah
        no_street = shapely.area(shapely.difference(h, streets)) / ah
        outside = shapely.area(shapely.difference(o, h)) / ao
        holes = [sum(len(p.interiors) for p in shapely.get_parts(g)) for g in o]
        print(
            f"| {minutes} min | {np.median(ao) / 1e6:.3f} | {_q(ao / ah)} | {_q(ao / af)} "
            f"| {_q(not_ours)} | {_q(no_street)} | {_q(outside)} | {np.median(holes):.0f} |"
        )
    u = shapely.union_all(our[:, -1])
    print(
        f"\nmerged 15 min vs union of separate: area {merged.area.iloc[-1] / 1e6:.4f} km² vs "
        f"{u.area / 1e6:.4f} km²"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # clipped extracts warn about missing nodes
    for name, path in NETWORKS.items():
        if path is not None and not path.exists():
            print(f"\n### {name}: skipped ({path} not found)")
            continue
        net = fm.network_from_file(path if path is not None else fm.sample_path())
        run(name, net, args.origins, args.seed)


if __name__ == "__main__":
    main()
