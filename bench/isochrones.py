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
    python bench/isochrones.py --cities 125,250 [--before all|K] [--after all|K] [--json out.json]

``--cities``: the communities' walking areas of the synthetic cities of ``bench/city.py``
(``bench/.cache``), ``community_walking_areas(net, residents, 15)`` ("after": chunked, one
bounded search per chunk, threaded unions) against the former path, one merged
``walking_areas`` per community ("before", :func:`community_walking_areas_before`), on every
community (``--before all``) or on ``K`` communities evenly spread over the id order
(``--after K`` likewise for the new path: its cost per community does not depend on how many
are run, beyond one network-wide scan per chunk). Per size, in a fresh process: CPU and wall
seconds, ms per community, the peak RSS during the step (``VmHWM`` after
``echo 5 > /proc/self/clear_refs``), the load average, and the largest symmetric difference
between the two paths' polygons relative to their area. ``--repeat R``: then ``R`` alternate
runs of both paths (one thread) on the "before" communities, medians: the fairer ratio on a
loaded machine.

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


# ---------------------------------------------------------------------------------------------
# community walking areas on the synthetic cities (before / after)


def community_walking_areas_before(net, residents, minutes):
    """The former ``community_walking_areas``: one merged ``walking_areas`` per community."""
    import pandas as pd

    rows = []
    for cid, homes in residents.groupby("community_id", sort=True):
        iso = walking_areas(net, homes, (minutes,), merge=True)
        iso["community_id"] = cid
        rows.append(iso)
    return gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=net.crs)


def _measure(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its wall s, CPU s and peak RSS MB (reset before)."""
    import gc

    from scale import _mem_kb, _reset_peak

    gc.collect()
    _reset_peak()
    (out, (wall, cpu)) = timed(fn, *args, **kwargs)
    return out, {"wall_s": wall, "cpu_s": cpu, "peak_mb": _mem_kb("VmHWM") / 1024}


def _spread(ids: np.ndarray, k: str) -> np.ndarray:
    """``k`` ids evenly spread over ``ids`` (all of them for ``"all"``)."""
    if k == "all" or int(k) >= len(ids):
        return ids
    return ids[np.linspace(0, len(ids) - 1, int(k)).round().astype(int)]


def city_worker(n: int, before: str, after_k: str = "all", repeat: int = 0) -> dict:
    """One city size: load it, time both paths, compare them."""
    import os
    import subprocess

    from fifteenmin import _kernel
    from fifteenmin.isochrones import community_walking_areas
    from scale import city_file

    _kernel.warmup()
    path, _ = city_file(n, 0)
    cat = fm.load_catalogue("beijing")
    data = fm.read_osm(path, keys=cat.osm_keys())
    net = fm.network_from_file(data)
    homes = fm.residents(fm.communities_from_osm(data, net), net, data)
    del data
    ids = np.unique(homes["community_id"].to_numpy())
    res = {"n": n, "nodes": net.n_nodes, "communities": len(ids), "origins": len(homes)}
    res["uptime_start"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    res["cpus"] = len(os.sched_getaffinity(0))
    run = _spread(ids, after_k)
    res["after_communities"] = len(run)
    after, res["after"] = _measure(
        community_walking_areas, net, homes[homes["community_id"].isin(run)], 15
    )
    pick = np.intersect1d(_spread(ids, before), run)
    sub = homes[homes["community_id"].isin(pick)]
    old, res["before"] = _measure(community_walking_areas_before, net, sub, 15)
    res["before_communities"] = len(pick)
    if repeat:  # before and after alternately on the same communities, one thread: medians
        one = homes[homes["community_id"].isin(pick)]
        runs: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(repeat):
            runs["before"].append(timed(community_walking_areas_before, net, one, 15)[1][1])
            runs["after"].append(timed(community_walking_areas, net, one, 15, threads=1)[1][1])
        res["paired"] = {k: float(np.median(v)) / len(pick) * 1e3 for k, v in runs.items()}
        res["paired_runs"] = runs
    res["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    new = after.set_index("community_id").loc[old["community_id"]].geometry.to_numpy()
    ref = old.geometry.to_numpy()
    sd = shapely.area(shapely.symmetric_difference(new, ref)) / np.maximum(shapely.area(ref), 1)
    res["max_rel_symdiff"] = float(sd.max())
    res["mean_vertices"] = float(shapely.get_num_coordinates(after.geometry.to_numpy()).mean())
    return res


def _city_row(r: dict) -> str:
    nc, kb = r["communities"], r["before_communities"]
    ka = r.get("after_communities", nc)
    a, b = r["after"], r["before"]
    ms_a, ms_b = 1e3 * a["cpu_s"] / ka, 1e3 * b["cpu_s"] / kb
    scope = "all" if kb == nc else f"{kb:,}"
    scope_a = "all" if ka == nc else f"{ka:,}"
    load = r["uptime_start"].split("load average:")[-1].split(",")[0].strip()
    load_end = r["uptime_end"].split("load average:")[-1].split(",")[0].strip()
    return (
        f"| {r['n']} | {r['nodes']:,} | {nc:,} | {scope_a} | {a['cpu_s']:.1f} | {a['wall_s']:.1f} "
        f"| {ms_a:.1f} | {a['peak_mb']:,.0f} | {scope} | {ms_b:.1f} | {1e3 * b['wall_s'] / kb:.1f} "
        f"| {b['peak_mb']:,.0f} | {ms_b / ms_a:.2f} | {r['max_rel_symdiff']:.1e} | {load} / {load_end} |"
    )


CITY_HEADER = (
    "| n | nodes | communities | after on | after CPU s | after wall s | after ms/community (CPU) "
    "| after peak MB | before on | before ms/community (CPU) | before ms/community (wall) "
    "| before peak MB | CPU ratio | max symdiff / area | load avg (start / end) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def cities_main(
    sizes: list[int], before: str, after_k: str, out: str | None, repeat: int = 0
) -> None:
    """Each size in a fresh process (``--city-worker``), then one table (``--report``)."""
    import json
    import subprocess
    import sys

    rows = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--city-worker", str(n), "--before", before]
        cmd += ["--after", after_k, "--repeat", str(repeat)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(CITY_HEADER)
    for r in rows:
        print(_city_row(r))
    paired = [r for r in rows if "paired" in r]
    if paired:
        print("\npaired (median of --repeat alternate runs, one thread, same communities):")
        print(
            "| n | communities | before ms/community (CPU) | after | ratio |\n|---|---|---|---|---|"
        )
        for r in paired:
            b, a = r["paired"]["before"], r["paired"]["after"]
            print(f"| {r['n']} | {r['before_communities']} | {b:.1f} | {a:.1f} | {b / a:.2f} |")
    if out:
        Path(out).write_text(json.dumps(rows, indent=1))


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cities", help="synthetic city sizes, e.g. 125,250")
    parser.add_argument("--before", default="all", help="'all' or a number of communities")
    parser.add_argument("--after", default="all", help="'all' or a number of communities")
    parser.add_argument("--json", help="save the --cities results here")
    parser.add_argument("--repeat", type=int, default=0, help="paired runs on the before set")
    parser.add_argument("--city-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.city_worker:
        warnings.simplefilter("ignore")
        print(json.dumps(city_worker(args.city_worker, args.before, args.after, args.repeat)))
        return
    if args.cities:
        sizes = [int(n) for n in args.cities.split(",")]
        cities_main(sizes, args.before, args.after, args.json, args.repeat)
        return
    warnings.simplefilter("ignore")  # clipped extracts warn about missing nodes
    for name, path in NETWORKS.items():
        if path is not None and not path.exists():
            print(f"\n### {name}: skipped ({path} not found)")
            continue
        net = fm.network_from_file(path if path is not None else fm.sample_path())
        run(name, net, args.origins, args.seed)


if __name__ == "__main__":
    main()
