"""Tiled runs (``fifteenmin report --tiles N``) against the untiled run, on a synthetic city.

Usage: ``python bench/tiles.py [--size 500] [--tiles 4,16] [--workers 1,2] [--runs 2]
[--read tiles,client]`` from the repository root (needs dask.distributed; the city is made by
``bench/city.py`` and cached in ``bench/.cache``). Writes
``bench/.cache/tiles_<size>_<tiles>.json`` and prints the tables of ``docs/scale.md``.
``--read``: who reads the OSM file in the tiled runs, the tiles (each its own part, the
default of ``run_tiled``) or the client (the former way), or both.

What one round does, each measurement in a fresh Python process (so that peak memory is the
run's own), the order of the three alternating between rounds:

* **untiled**: ``fifteenmin.run_report(city)`` then ``Report.write(out, html=False)``, as
  ``fifteenmin report CITY --no-html`` runs them: wall and CPU seconds of the run and of the
  writing, the process's peak resident memory (``ru_maxrss``).
* **tiled, w workers**: a local cluster of ``w`` single-threaded worker processes is started
  and warmed up (fifteenmin imported and the numba kernels loaded in every worker; timed apart), then
  ``fifteenmin.run_tiled(city, tiles=N)`` on it and ``write(out)``: the wall time, the client's
  CPU and peak memory (the client process also runs the cluster's scheduler), every tile's
  wall and CPU seconds and its worker's peak memory (``TiledReport.tile_runs``), and the
  workers' total CPU seconds.

Every round also checks that the tiled runs' ``coverage.csv`` and ``summary.json`` are byte
for byte the untiled run's. The load average is read before and after each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"


def _city(size: int) -> Path:
    path = CACHE / f"city_{size}_s0.osm.pbf"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "city.py"), str(size), "--out", str(path)],
            check=True,
        )
    return path


def _usage() -> tuple[float, float]:
    """CPU seconds of this process so far, and its peak resident memory (MB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _child_untiled(city: str, out: str) -> dict[str, Any]:
    import warnings

    import fifteenmin as fm

    warnings.simplefilter("ignore")
    cpu0, rss0 = _usage()
    t0 = time.perf_counter()
    rep = fm.run_report(city)
    t1, (cpu1, run_peak) = time.perf_counter(), _usage()
    rep.write(out, html=False)
    t2, (cpu2, peak) = time.perf_counter(), _usage()
    return {
        "run_s": t1 - t0,
        "run_cpu_s": cpu1 - cpu0,
        "write_s": t2 - t1,
        "write_cpu_s": cpu2 - cpu1,
        "peak_mb": peak,
        "run_peak_mb": run_peak,  # before writing the files
        "import_mb": rss0,
        "stages_s": rep.timings,
        "nodes": rep.network.n_nodes,
        "communities": len(rep.communities),
        "origins": len(rep.residents),
    }


def _warm() -> None:
    """Import the tile task and load the numba kernels in a worker (as bench/batch.py)."""
    import fifteenmin.tiles  # noqa: F401
    from fifteenmin import _kernel

    _kernel.warmup()


def _worker_usage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _child_tiled(
    city: str, out: str, tiles: int, workers: int, read_in_tiles: bool = True
) -> dict[str, Any]:
    import warnings

    import distributed

    import fifteenmin as fm

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(_warm)
        start_s = time.perf_counter() - t0
        before = client.run(_worker_usage)
        cpu0, rss0 = _usage()
        t1 = time.perf_counter()
        rep = fm.run_tiled(
            city, tiles=tiles, scheduler=client, threads=1, read_in_tiles=read_in_tiles
        )
        t2, (cpu2, run_peak) = time.perf_counter(), _usage()
        rep.write(out)
        t3, (cpu3, peak) = time.perf_counter(), _usage()
        after = client.run(_worker_usage)
    return {
        "cluster_start_s": start_s,
        "run_s": t2 - t1,
        "client_run_cpu_s": cpu2 - cpu0,
        "write_s": t3 - t2,
        "write_cpu_s": cpu3 - cpu2,
        "client_peak_mb": peak,
        "client_run_peak_mb": run_peak,  # before writing the files
        "client_import_mb": rss0,
        "workers_cpu_s": sum(after[w][0] - before[w][0] for w in after),
        "workers_peak_mb": max(after[w][1] for w in after),
        "stages_s": rep.timings,
        "tiles": [vars(r) for r in rep.tile_runs],
    }


def _spawn(args: list[str]) -> dict[str, Any]:
    load = os.getloadavg()
    proc = subprocess.run(
        # -P: not bench/ first on the path (bench/html.py would hide the standard html)
        [sys.executable, "-P", __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load_before_after"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
    return result


def _same(a: Path, b: Path) -> bool:
    return all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in ("coverage.csv", "summary.json")
    )


def _key(tiles: int, workers: int, read: str) -> str:
    """A tiled measurement's key: ``t4w2`` (tiles read their own parts) or ``t4w2c`` (client)."""
    return f"t{tiles}w{workers}" + ("c" if read == "client" else "")


def run(
    size: int,
    tiles: list[int],
    counts: list[int],
    runs: int,
    reads: tuple[str, ...] = ("tiles",),
) -> dict[str, Any]:
    city = _city(size)
    rounds = []
    specs = {_key(t, w, r): (t, w, r) for t in tiles for r in reads for w in counts}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            modes: list[Any] = ["untiled", *specs]
            if r % 2:
                modes.reverse()
            got: dict[str, Any] = {}
            for m in modes:
                out = Path(tmp) / f"{r}_{m}"
                if m == "untiled":
                    got["untiled"] = _spawn(["untiled", str(city), str(out)])
                else:
                    t, w, read = specs[m]
                    flag = "1" if read == "tiles" else "0"
                    got[m] = _spawn(["tiled", str(city), str(out), str(t), str(w), flag])
                print(f"round {r + 1}, {m}: {json.dumps(got[m])[:300]}", flush=True)
            got["identical"] = {
                m: _same(Path(tmp) / f"{r}_untiled", Path(tmp) / f"{r}_{m}") for m in specs
            }
            rounds.append(got)
    return {
        "size": size,
        "tiles": tiles[0],
        "workers": counts,
        "specs": specs,
        "rounds": rounds,
    }


def _specs(res: dict[str, Any]) -> dict[str, tuple[int, int, str]]:
    """The tiled measurements of a saved run (older runs: one tile count, tiles read)."""
    if "specs" in res:
        return {k: tuple(v) for k, v in res["specs"].items()}  # type: ignore[misc]
    if "keys" in res:  # one tile count; "w2c": the client read
        return {
            k: (res["tiles"], int(k[1:].rstrip("c")), "client" if k.endswith("c") else "tiles")
            for k in res["keys"]
        }
    return {f"w{w}": (res["tiles"], w, "client") for w in res["workers"]}


def _list(values: Any) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def report(res: dict[str, Any]) -> str:
    """The markdown tables of docs/scale.md."""
    rounds = res["rounds"]
    med = statistics.median
    un = [r["untiled"] for r in rounds]
    lines = [
        f"synthetic city n = {res['size']}: {un[0]['nodes']:,} nodes, {un[0]['communities']:,} "
        f"communities, {un[0]['origins']:,} origins; {res['tiles']} tiles; {len(rounds)} rounds",
        "",
        "| run | wall s, run (median) | runs | CPU s, run (client + workers) | wall s, write | "
        "client peak MB | largest tile peak MB | load before/after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.append(
        f"| untiled | {med(u['run_s'] for u in un):.1f} | "
        f"{_list(u['run_s'] for u in un)} | {med(u['run_cpu_s'] for u in un):.1f} | "
        f"{med(u['write_s'] for u in un):.1f} | {med(u['peak_mb'] for u in un):,.0f} | – | "
        f"{', '.join('/'.join(map(str, u['load_before_after'])) for u in un)} |"
    )
    specs = _specs(res)
    keys = list(specs)
    for key in keys:
        t = [r[key] for r in rounds]
        n_t, w, read = specs[key]
        how = ", client reads" if read == "client" else ", tiles read"
        cpu = [x["client_run_cpu_s"] + x["workers_cpu_s"] for x in t]
        tile_peak = [max(tt["peak_rss_mb"] or 0 for tt in x["tiles"]) for x in t]
        lines.append(
            f"| {n_t} tiles, {w} worker{'s' if w > 1 else ''}{how} | "
            f"{med(x['run_s'] for x in t):.1f} | {_list(x['run_s'] for x in t)} | "
            f"{med(cpu):.1f} | {med(x['write_s'] for x in t):.1f} | "
            f"{med(x['client_peak_mb'] for x in t):,.0f} | {med(tile_peak):,.0f} | "
            f"{', '.join('/'.join(map(str, x['load_before_after'])) for x in t)} |"
        )
    lines += [
        "",
        f"tiles of {keys[-1]}:",
        "",
        "| tile | communities | origins | nodes | edges | facilities | wall s | CPU s | "
        "worker MB before | worker peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tt in rounds[0][keys[-1]]["tiles"]:
        lines.append(
            f"| {tt['tile']} | {tt['communities']:,} | {tt['origins']:,} | {tt['nodes']:,} | "
            f"{tt['edges']:,} | {tt['facilities']:,} | {tt['seconds']:.1f} | "
            f"{tt['cpu_seconds']:.1f} | {tt['rss_before_mb']:,.0f} | {tt['peak_rss_mb']:,.0f} |"
        )
    lines += ["", f"identical coverage.csv and summary.json: {[r['identical'] for r in rounds]}"]
    stages = {k: med(u["stages_s"].get(k, 0) for u in un) for k in un[0]["stages_s"]}
    lines.append(
        f"untiled stages (median s): {json.dumps({k: round(v, 2) for k, v in stages.items()})}"
    )
    for key in keys:
        t = [r[key] for r in rounds]
        st = {k: round(med(x["stages_s"].get(k, 0) for x in t), 2) for k in t[0]["stages_s"]}
        lines.append(
            f"tiled, {key}, stages (median s): {json.dumps(st)}; "
            f"cluster start {med(x['cluster_start_s'] for x in t):.1f} s"
        )
    return "\n".join(lines)


# -- the national estimate's assumptions (docs/scale.md; the first four as bench/batch.py) ---
#: Built-up area of China's cities (设市城市), km² (MOHURD, 2022年城市建设状况公报).
CITY_AREA_KM2 = 63_700
#: Cities, one study each.
CITIES = 690
#: The largest single built-up area, km² (Chongqing's 1,641 km² in 2022), taken as a square.
LARGEST_KM2 = 1_650
#: Walking-network nodes per km² of built-up area (OSM in Chinese cities today, a middle
#: assumption, a fully mapped centre).
DENSITIES = (100, 500, 2_000)
#: Workers of the cluster.
WORKERS = 100
#: Side of a tile, km: a study larger than one tile is cut into tiles of about this side.
TILE_KM = 10.0
#: Margin on the measured per-node costs (as bench/batch.py: real cities hold more per node).
MARGIN = 2.0


def estimate(res: dict[str, Any]) -> str:
    """All of China on a 100-worker cluster, from the measured client and per-tile costs."""
    sys.path.insert(0, str(ROOT / "src"))  # this checkout's fifteenmin, as the runs used
    # not bench/ (its html.py would hide the standard html module that fifteenmin imports)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    import fifteenmin as fm

    med = statistics.median
    key = next(iter(_specs(res)))
    runs = [r[key] for r in res["rounds"]]
    nodes = res["rounds"][0]["untiled"]["nodes"]
    tiles = [t for x in runs for t in x["tiles"]]
    base = min(t["rss_before_mb"] for t in tiles)
    # the workers' whole CPU time (the task's inputs unpacked and its results packed, Dask's
    # own threads) over the nodes they routed: more than the tasks' own CPU seconds
    tile_cpu = med(x["workers_cpu_s"] / sum(t["nodes"] for t in x["tiles"]) for x in runs) * MARGIN
    tile_mb = max((t["peak_rss_mb"] - base) / t["nodes"] for t in tiles) * MARGIN
    client_cpu = med((x["client_run_cpu_s"] + x["write_cpu_s"]) / nodes for x in runs) * MARGIN
    client_mb = med((x["client_peak_mb"] - x["client_import_mb"]) / nodes for x in runs) * MARGIN
    client_base = med(x["client_import_mb"] for x in runs)
    g = fm.tile_margin_m() / 1000
    side = LARGEST_KM2**0.5
    n_tiles = max(1, round(side / TILE_KM)) ** 2
    tile_side = side / n_tiles**0.5
    dup = ((tile_side + 2 * g) / tile_side) ** 2  # tile + margin over tile
    lines = [
        f"measured (n = {res['size']}, x{MARGIN:g}): client {client_cpu * 1e3:.3f} CPU s and "
        f"{client_mb * 1e3:.2f} MB per 1,000 nodes (+ {client_base:.0f} MB imports); a tile "
        f"{tile_cpu * 1e3:.3f} CPU s and {tile_mb * 1e3:.2f} MB per 1,000 nodes of tile and "
        f"margin (+ {base:.0f} MB worker); margin {g:.2f} km; largest study: {n_tiles} tiles of "
        f"{tile_side:.1f} km, each routing {dup:.2f}x its own nodes",
        "",
        "| nodes per km² | core-hours, all cities (client + tiles) | largest study: client CPU "
        "min | client memory GB | tiles | one tile: nodes incl. margin | one tile: CPU s | "
        "one tile: memory GB | wall time on 100 workers, min |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rho in DENSITIES:
        total = CITY_AREA_KM2 * rho
        core_h = (total * client_cpu + total * dup * tile_cpu) / 3600
        big = LARGEST_KM2 * rho
        c_min = big * client_cpu / 60
        c_gb = (client_base + big * client_mb) / 1024
        t_nodes = rho * (tile_side + 2 * g) ** 2
        t_s = t_nodes * tile_cpu
        t_gb = (base + t_nodes * tile_mb) / 1024
        waves = -(-n_tiles // WORKERS)
        wall = max(core_h * 60 / WORKERS, c_min + waves * t_s / 60)
        lines.append(
            f"| {rho:,} | {core_h:,.1f} | {c_min:,.1f} | {c_gb:,.1f} | {n_tiles} | "
            f"{t_nodes / 1e3:,.0f} k | {t_s:,.1f} | {t_gb:,.2f} | {wall:,.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, rest = sys.argv[2], sys.argv[3:]
        if mode == "untiled":
            out = _child_untiled(rest[0], rest[1])
        else:
            out = _child_tiled(rest[0], rest[1], int(rest[2]), int(rest[3]), rest[4] == "1")
        print(json.dumps(out))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=500)
    p.add_argument("--tiles", default="4", help="tile counts, e.g. 4,16")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument(
        "--read",
        default="tiles",
        help="who reads the OSM file in the tiled runs: tiles (each its own part, the "
        "default of run_tiled), client (the former way), or both: tiles,client",
    )
    p.add_argument("--report", metavar="JSON", help="print the tables of a saved run")
    a = p.parse_args()
    if a.report:
        res = json.loads(Path(a.report).read_text())
        print(report(res))
        print(estimate(res))
        return
    reads = tuple(a.read.split(","))
    tiles = [int(t) for t in a.tiles.split(",")]
    res = run(a.size, tiles, [int(w) for w in a.workers.split(",")], a.runs, reads)
    path = CACHE / f"tiles_{a.size}_{'_'.join(map(str, tiles))}.json"
    path.write_text(json.dumps(res, indent=1))
    print(report(res))
    print(estimate(res))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
