"""Speed-up of ``fifteenmin batch`` against the number of Dask workers, and each study's cost.

Usage: ``python bench/batch.py [--workers 1,2] [--runs 3] [--copies 2] [--extra FILE ...]`` from the repository
root (needs ../shared/data/osm and dask.distributed). Writes
``bench/.cache/batch_results.json`` and prints the tables of ``docs/scale.md``.

What one run does:

* **Studies**: every OSM extract of ../shared/data/osm plus the bundled sample, ``--copies``
  times each (under different study names), default options, no HTML: one studies table.
* **Rounds**: for each round and each worker count (the order alternates between rounds, so
  a drift of the machine's load does not favour one count), a fresh local cluster of that
  many single-threaded worker processes is started and warmed up (fifteenmin imported and the
  numba kernels loaded in every worker; timed apart as the cluster's start), then
  ``fifteenmin.batch`` runs the whole table into an empty folder with the kernels on one
  thread per study, as ``fifteenmin batch`` runs them (timed: the batch's wall time). The
  load average is read before and after each batch.
* **Per study**: wall and CPU seconds in the batch, from the manifests of the 1-worker rounds
  (median).
* **Profile**: every distinct OSM file, and the ``--extra`` files (e.g. synthetic cities of
  100k-1M nodes, too slow for the rounds), once through ``fifteenmin report`` in a fresh
  process: wall and CPU seconds of the run (imports apart), peak resident memory
  (``ru_maxrss``) and the memory after the imports; network nodes, edges and km, communities,
  resident origins and facilities; the network's convex-hull area.
* **Fits** of CPU seconds and peak memory against network nodes over the profiled files, and
  the national estimate of ``docs/scale.md`` computed from them (the assumptions are the
  constants below).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import fifteenmin as fm

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
CACHE = ROOT / "bench" / ".cache"
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf")

# -- the national estimate's assumptions (see docs/scale.md for the sources) -------------------
#: Built-up area of China's cities (设市城市) at the end of 2022, km² (MOHURD, 2022年城市建设状况公报).
CITY_AREA_KM2 = 63_700
#: Cities (设市城市), about 690 in 2021-2022: one study each (assumption: the count is not checked).
CITIES = 690
#: Largest single built-up area, km² (Chongqing's 1,641 km² in the 2022 table, the largest).
LARGEST_KM2 = 1_650
#: Simplified walking-network nodes per km² of built-up area: OSM in Chinese cities today
#: (the Beijing extract's 73, rounded up), a middle assumption, a fully mapped centre (Helsinki).
DENSITIES = (100, 500, 2_000)
#: Workers of the cluster.
WORKERS = 100
#: Margin on the fitted per-node CPU time and memory: real cities hold more buildings and
#: features per node than the synthetic ones, and graphs beyond the measured range miss the
#: cache more (the kernel's throughput falls 2-3x from in-cache graphs to 1M nodes,
#: bench/README.md).
MARGIN = 2.0

PROFILE = """
import json, resource, sys, time, warnings
import psutil
t0 = time.perf_counter()
import fifteenmin as fm
rss_import = psutil.Process().memory_info().rss
t1, c1 = time.perf_counter(), time.process_time()
warnings.simplefilter("ignore")
rep = fm.run_report(sys.argv[1])
rep.write(sys.argv[2], html=False)
t2, c2 = time.perf_counter(), time.process_time()
s = rep.summary()
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1, "run_cpu_s": c2 - c1,
                  "rss_import_mb": rss_import / 2**20,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "nodes": s["network"]["nodes"], "edges": s["network"]["edges"],
                  "length_km": s["network"]["length_km"], "communities": s["communities"],
                  "origins": s["residents"]["origins"], "facilities": s["facilities"]["total"]}))
"""


def studies_table(folder: Path, copies: int) -> Path:
    files = sorted(p for p in SHARED.rglob("*") if p.name.endswith(OSM_SUFFIXES))
    files.append(fm.sample_path())
    rows = []
    for k in range(copies):
        for p in files:
            name = p.name.split(".")[0] + "-" + p.name.split(".")[-1]
            rows.append({"study": f"{name}-{k}" if copies > 1 else name, "osm_file": str(p)})
    path = folder / "studies.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _warm() -> float:
    """Import the batch task and load the kernels in a worker; returns seconds."""
    t = time.perf_counter()
    import fifteenmin.batch_task  # noqa: F401
    from fifteenmin import _kernel

    _kernel.warmup()
    return time.perf_counter() - t


def one_round(table: Path, workers: int, out: Path) -> dict:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)
        t_start = time.perf_counter() - t0
        load0 = os.getloadavg()[0]
        t1 = time.perf_counter()
        merged = fm.batch(table, out, html=False, scheduler=client, threads=1)
        t_batch = time.perf_counter() - t1
        load1 = os.getloadavg()[0]
    assert (merged["status"] == "ok").all(), merged[["study", "error"]]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["studies"]
    return {
        "workers": workers,
        "start_s": round(t_start, 2),
        "batch_s": round(t_batch, 2),
        "load_before": load0,
        "load_after": load1,
        "studies": manifest,
    }


def profile(files: list[str], tmp: Path) -> dict[str, dict]:
    """One report of every file in a fresh process: time, CPU, memory and sizes."""
    import shapely

    facts = {}
    for k, osm_file in enumerate(files):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = fm.network_from_file(osm_file)
        hull = shapely.MultiPoint(np.c_[net.x, net.y]).convex_hull.area / 1e6
        del net
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.run(
            [sys.executable, "-c", PROFILE, osm_file, str(tmp / f"profile-{k}")],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        facts[osm_file] = {
            "nodes": got["nodes"],
            "edges": got["edges"],
            "length_km": got["length_km"],
            "hull_km2": round(hull, 2),
            "communities": got["communities"],
            "origins": got["origins"],
            "facilities": got["facilities"],
            "file_mb": round(Path(osm_file).stat().st_size / 2**20, 2),
            "import_s": round(got["import_s"], 2),
            "run_s": round(got["run_s"], 2),
            "run_cpu_s": round(got["run_cpu_s"], 2),
            "rss_import_mb": round(got["rss_import_mb"], 1),
            "peak_mb": round(got["peak_mb"], 1),
        }
        print(f"profiled {Path(osm_file).name}: {facts[osm_file]}", flush=True)
    return facts


def markdown(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers with thousands separators, 2 decimals)."""

    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return f"{v:,.2f}"
        if isinstance(v, int | np.integer):
            return f"{v:,d}"
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``; returns ``(a, b)``."""
    b, a = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return float(a), float(b)


def lpt(times: list[float], workers: int) -> float:
    """Makespan of tasks on ``workers`` free cores, longest task first (as Dask roughly does)."""
    loads = [0.0] * workers
    for t in sorted(times, reverse=True):
        loads[loads.index(min(loads))] += t
    return max(loads)


def speedup_table(rounds: list[dict], counts: list[int]) -> str:
    """Measured wall times and speed-up, the cores the batch really got, and the ideal."""
    med = {w: statistics.median(r["batch_s"] for r in rounds if r["workers"] == w) for w in counts}
    base = [r for r in rounds if r["workers"] == counts[0]]
    names = list(base[0]["studies"])
    cpu = [statistics.median(r["studies"][n]["cpu_seconds"] for r in base) for n in names]
    lines = [
        "| workers | batch wall s (median) | runs | speed-up | cores used (task CPU / wall) | ideal speed-up on free cores (LPT of task CPU) | cluster start s (median) | load average before/after each batch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in counts:
        runs = [r for r in rounds if r["workers"] == w]
        times = ", ".join(f"{r['batch_s']:.1f}" for r in runs)
        loads = ", ".join(f"{r['load_before']:.1f}/{r['load_after']:.1f}" for r in runs)
        used = statistics.median(
            sum(t["cpu_seconds"] for t in r["studies"].values()) / r["batch_s"] for r in runs
        )
        start = statistics.median(r["start_s"] for r in runs)
        ideal = lpt(cpu, counts[0]) / lpt(cpu, w)
        lines.append(
            f"| {w} | {med[w]:.1f} | {times} | {med[counts[0]] / med[w]:.2f}x | {used:.2f} | "
            f"{ideal:.2f}x | {start:.1f} | {loads} |"
        )
    return "\n".join(lines)


def per_study(rounds: list[dict], facts: dict[str, dict], table: Path) -> pd.DataFrame:
    base = [r for r in rounds if r["workers"] == min(r["workers"] for r in rounds)]
    studies = pd.read_csv(table)
    rows = []
    for osm_file, f in facts.items():
        names = studies.loc[studies["osm_file"] == osm_file, "study"]
        per = [r["studies"][n] for r in base for n in names]
        rows.append({
            "extract": Path(osm_file).name, **f,
            "batch_wall_s": statistics.median(p["seconds"] for p in per) if per else None,
            "batch_cpu_s": statistics.median(p["cpu_seconds"] for p in per) if per else None,
        })  # fmt: skip
    df = pd.DataFrame(rows).sort_values("nodes")
    df["nodes_per_km2"] = (df["nodes"] / df["hull_km2"]).round(0)
    return df


def estimate(df: pd.DataFrame) -> tuple[str, dict]:
    """The national estimate (docs/scale.md) from the fresh-process cost of every study."""
    c0, c1 = fit(df["nodes"].tolist(), df["run_cpu_s"].tolist())
    m0, m1 = fit(df["nodes"].tolist(), df["peak_mb"].tolist())
    fixed_s = float(df["run_cpu_s"].min())
    base_mb = float(df["peak_mb"].min())
    cost, mem = c1 * MARGIN, m1 * MARGIN
    lines = [
        f"fit over the {len(df)} files (fresh process, one report): CPU s = {c0:.2f} + "
        f"{c1 * 1e3:.4f} x (nodes / 1,000); peak memory MB = {m0:.0f} + {m1 * 1e3:.3f} x "
        "(nodes / 1,000)",
        f"used: {fixed_s:.2f} CPU s and {base_mb:.0f} MB fixed per study (the smallest "
        f"measured), plus x{MARGIN:g} the fitted slopes: {cost * 1e3:.3f} CPU s and "
        f"{mem * 1e3:.2f} MB per 1,000 nodes",
        "",
        "| nodes per km² | nodes, all cities | core-hours | largest study: nodes | largest study: CPU minutes | largest study: memory GB | wall time on 100 workers, minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    out = {}
    for rho in DENSITIES:
        nodes = CITY_AREA_KM2 * rho
        core_h = (CITIES * fixed_s + nodes * cost) / 3600
        big_nodes = LARGEST_KM2 * rho
        big_min = (fixed_s + big_nodes * cost) / 60
        big_gb = (base_mb + big_nodes * mem) / 1024
        wall_min = max(core_h * 60 / WORKERS, big_min)
        out[rho] = {"core_h": core_h, "largest_min": big_min, "largest_gb": big_gb,
                    "wall_min": wall_min}  # fmt: skip
        lines.append(
            f"| {rho:,} | {nodes / 1e6:,.1f} M | {core_h:,.1f} | {big_nodes / 1e6:,.2f} M | "
            f"{big_min:,.1f} | {big_gb:,.1f} | {wall_min:,.1f} |"
        )
    return "\n".join(lines), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    ap.add_argument("--runs", type=int, default=3, help="rounds (median over them)")
    ap.add_argument("--copies", type=int, default=2, help="studies per OSM extract")
    ap.add_argument(
        "--extra", nargs="*", default=[], help="more OSM files to profile (not in the batch)"
    )
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fifteenmin-bench-batch-"))
    table = studies_table(tmp, args.copies)
    auto = Path("/proc/sys/kernel/sched_autogroup_enabled")
    group = auto.read_text().strip() if auto.exists() else "n/a"
    print(
        f"{len(pd.read_csv(table))} studies; {os.cpu_count()} cores; autogroup {group}", flush=True
    )
    rounds = []
    for r in range(args.runs):
        for w in counts if r % 2 == 0 else counts[::-1]:
            res = one_round(table, w, tmp / f"out-{r}-{w}")
            rounds.append(res)
            print(f"round {r} workers {w}: start {res['start_s']:.1f} s, batch "
                  f"{res['batch_s']:.1f} s, load {res['load_before']:.1f} -> "
                  f"{res['load_after']:.1f}", flush=True)  # fmt: skip
    files = list(dict.fromkeys(pd.read_csv(table)["osm_file"])) + args.extra
    facts = profile(files, tmp)
    df = per_study(rounds, facts, table)
    text, national = estimate(df)
    print("\n" + speedup_table(rounds, counts) + "\n")
    print(markdown(df) + "\n")
    print(f"sum over the studies of one batch: CPU {df['batch_cpu_s'].sum() * args.copies:.1f} s, "
          f"wall {df['batch_wall_s'].sum() * args.copies:.1f} s\n")  # fmt: skip
    print(text)
    (CACHE / "batch_results.json").write_text(
        json.dumps(
            {"rounds": rounds, "facts": facts, "national": national}, indent=1, default=float
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
