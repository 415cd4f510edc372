"""Walking areas of every community: the raster method against the exact one.

For each synthetic city size (``bench/city.py``, cached in ``bench/.cache``) or OSM file, in a
fresh process: read it, build the network and the resident origins as ``run_pipeline`` does,
then time ``community_walking_areas(net, residents, 15, method="raster")`` on *every*
community (wall, CPU of the process, peak RSS during the call) and the exact method on
``--exact`` communities spread over the city (all of them with ``--exact all``), and compare
the two on those: symmetric difference / area, and the largest distance from a point of one
area to the other (sampled every 0.5 m along the boundaries of the two differences).

    python bench/walking_areas.py --sizes 125,250 --exact 200 --json w1.json
    flock /work/bigrun.lock python bench/walking_areas.py --sizes 500,1000 --exact 200
    python bench/walking_areas.py --osm data/sample/helsinki_centre_2019_extract.osm.pbf
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
# the script's folder is sys.path[0]: bench/html.py would shadow the standard library's html
# (scale.py is imported from it once fifteenmin has imported html)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def region_distance(a: Any, b: Any, step: float = 0.5) -> float:
    """Largest distance from a point of ``a`` to ``b`` or of ``b`` to ``a``.

    Sampled every ``step`` metres along the boundaries of the two differences; a point of
    ``a - b``'s boundary is on or outside ``b``, so its distance to ``b`` is the distance to
    ``b``'s boundary (nearest segment, from an STRtree of them).
    """
    worst = 0.0
    for p, q in ((a, b), (b, a)):
        d = shapely.difference(p, q)
        if d.is_empty:
            continue
        pts = shapely.points(shapely.get_coordinates(shapely.segmentize(shapely.boundary(d), step)))
        rings = shapely.get_parts(shapely.boundary(q))
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        segs = shapely.linestrings(
            np.stack([xy[:-1][same], xy[1:][same]], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(int(same.sum())), 2),
        )
        _, dist = shapely.STRtree(segs).query_nearest(pts, return_distance=True, all_matches=False)
        worst = max(worst, float(dist.max()))
    return worst


def _holes(g: Any) -> int:
    return sum(len(p.interiors) for p in shapely.get_parts(g))


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, float]]:
    from scale import _mem_kb, _reset_peak

    _reset_peak()
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    return out, {"wall_s": wall, "cpu_s": cpu, "peak_mb": _mem_kb("VmHWM") / 1024}


def worker(
    source: str, exact_k: str, threads: int, grid_m: float = 5.0, simplify_m: float = 0.0
) -> dict[str, Any]:
    """One city or file: load it, time both methods, compare them."""
    import fifteenmin as fm
    from fifteenmin import _kernel
    from fifteenmin.isochrones import community_walking_areas

    sys.path.append(str(HERE))
    _kernel.warmup()
    if source.isdigit():
        from scale import city_file

        path, _ = city_file(int(source), 0)
    else:
        path = Path(source)
    cat = fm.load_catalogue("beijing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = fm.read_osm(path, keys=cat.osm_keys())
        net = fm.network_from_file(data)
        homes = fm.residents(fm.communities_from_osm(data, net), net, data)
    del data
    ids = np.unique(homes["community_id"].to_numpy())
    res: dict[str, Any] = {"source": source, "nodes": net.n_nodes, "communities": len(ids)}
    raster = {"method": "raster", "grid_m": grid_m, "simplify_m": simplify_m}
    community_walking_areas(net, homes[homes["community_id"] == ids[0]], 15, **raster)
    res["uptime_start"] = _uptime()
    res["grid_m"], res["simplify_m"] = grid_m, simplify_m
    fast, res["raster"] = _timed(community_walking_areas, net, homes, 15, threads=threads, **raster)
    res["uptime_raster"] = _uptime()
    pick = ids if exact_k == "all" else ids[np.linspace(0, len(ids) - 1, int(exact_k)).astype(int)]
    pick = np.unique(pick)
    sub = homes[homes["community_id"].isin(pick)]
    exact, res["exact"] = _timed(community_walking_areas, net, sub, 15, threads=threads)
    res["exact_communities"] = len(pick)
    res["uptime_end"] = _uptime()
    a = fast.set_index("community_id").loc[exact["community_id"]].geometry.to_numpy()
    b = exact.geometry.to_numpy()
    sd = shapely.area(shapely.symmetric_difference(a, b)) / np.maximum(shapely.area(b), 1.0)
    hd = np.array([region_distance(x, y) for x, y in zip(a, b, strict=True)])
    res["symdiff_max"], res["symdiff_median"] = float(sd.max()), float(np.median(sd))
    res["distance_max"], res["distance_median"] = float(hd.max()), float(np.median(hd))
    res["area_ratio"] = float(shapely.area(a).sum() / shapely.area(b).sum())
    res["holes_raster"], res["holes_exact"] = sum(map(_holes, a)), sum(map(_holes, b))
    res["vertices_raster"] = float(shapely.get_num_coordinates(a).mean())
    res["vertices_exact"] = float(shapely.get_num_coordinates(b).mean())
    res["valid"] = bool(shapely.is_valid(fast.geometry.to_numpy()).all())
    return res


def row(r: dict[str, Any]) -> str:
    nc, ke = r["communities"], r["exact_communities"]
    ra, ex = r["raster"], r["exact"]
    load = [
        r[k].split("load average:")[-1].split(",")[0].strip()
        for k in ("uptime_start", "uptime_end")
    ]
    name = Path(r["source"]).name
    return (
        f"| {name} | {r.get('grid_m', 5.0):g} / {r.get('simplify_m', 0.0):g} | {r['nodes']:,} | {nc:,} | {ra['wall_s']:.1f} | {ra['cpu_s']:.1f} "
        f"| {1e3 * ra['cpu_s'] / nc:.2f} | {ra['peak_mb']:,.0f} | {ke:,} "
        f"| {1e3 * ex['cpu_s'] / ke:.1f} | {ex['cpu_s'] / ke / (ra['cpu_s'] / nc):.1f} "
        f"| {100 * r['symdiff_median']:.2f} / {100 * r['symdiff_max']:.2f} "
        f"| {r['distance_median']:.1f} / {r['distance_max']:.1f} | {r['area_ratio']:.4f} "
        f"| {r['holes_raster']:,} / {r['holes_exact']:,} "
        f"| {r['vertices_raster']:,.0f} / {r['vertices_exact']:,.0f} | {r['valid']} "
        f"| {load[0]} / {load[1]} |"
    )


HEADER = (
    "| city | grid / simplify m | nodes | communities | raster wall s | raster CPU s | raster ms/community (CPU) "
    "| peak MB | exact on | exact ms/community (CPU) | CPU ratio | symdiff/area % median / max "
    "| distance m median / max | area raster/exact | holes raster / exact "
    "| vertices raster / exact | valid | load (start / end) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="", help="synthetic city sizes, e.g. 125,250")
    parser.add_argument("--osm", action="append", default=[], help="an OSM file (repeatable)")
    parser.add_argument("--exact", default="200", help="'all' or a number of communities")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grid", type=float, default=5.0, help="grid step of the raster areas")
    parser.add_argument(
        "--simplify", type=float, default=0.0, help="simplify the raster areas (metres)"
    )
    parser.add_argument("--json", help="save the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.exact, args.threads, args.grid, args.simplify)))
        return
    rows = []
    for source in [s for s in args.sizes.split(",") if s] + args.osm:
        cmd = [sys.executable, __file__, "--worker", source, "--exact", args.exact]
        cmd += ["--threads", str(args.threads), "--grid", str(args.grid)]
        cmd += ["--simplify", str(args.simplify)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(HEADER)
    for r in rows:
        print(row(r))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
