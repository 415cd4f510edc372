"""Time the network, facilities, communities and residents stages of two source trees.

Each run is a fresh subprocess with ``PYTHONPATH=<src>`` that reads the synthetic city of size
``n`` (``bench/city.py``, cached in ``bench/.cache/``) and runs the stages as
``src/fifteenmin/pipeline.py`` calls them: ``read_osm``, ``network_from_file``,
``facilities_from_osm``, the network's edge tree (which the travel-times stage builds before
the communities), ``communities_from_osm``, ``residents``. Per stage: wall and CPU seconds
(``time.process_time``: every thread counts) and the peak resident memory during the stage
(``VmHWM`` after ``echo 5 > /proc/self/clear_refs``). Runs of the trees alternate, so a busy
machine slows both alike; the medians over ``--repeat`` runs are printed with the load
averages.

Usage::

    python bench/stages.py --sizes 250 --repeat 3 --src /work/main/src src
    flock /work/bigrun.lock python bench/stages.py --sizes 1000 --src /work/main/src src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ["read", "network", "facilities", "edge tree", "communities", "residents"]

_CHILD = r"""
import gc, json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import fifteenmin as fm

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024
    return -1

out = {}

def stage(name, fn):
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    w, c = time.perf_counter(), time.process_time()
    r = fn()
    out[name] = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                 "peak_mb": status("VmHWM"), "after_mb": status("VmRSS")}
    return r

cfg = fm.RunConfig()
cat = fm.load_catalogue(cfg.catalogue)
data = stage("read", lambda: fm.read_osm(sys.argv[1], keys=cat.osm_keys()))
net = stage("network", lambda: fm.network_from_file(data, pedestrian_areas=cfg.pedestrian_areas))
fac = stage("facilities", lambda: fm.facilities_from_osm(data, cat))
stage("edge tree", lambda: net.edge_tree)
com = stage("communities", lambda: fm.communities_from_osm(data, net))
homes = stage("residents", lambda: fm.residents(com, net, data))
out["counts"] = {"nodes": net.n_nodes, "edges": net.n_edges, "facilities": len(fac),
                 "communities": len(com), "origins": len(homes)}
print(json.dumps(out))
"""


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(src: str, path: Path) -> dict[str, object]:
    """One run of the stages with the package of ``src``."""
    before = _load()
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True, text=True
    )
    if r.returncode:
        raise SystemExit(f"{src}: the run failed:\n{r.stderr[-3000:]}")
    out: dict[str, object] = json.loads(r.stdout.strip().splitlines()[-1])
    out["load"] = f"{before} / {_load()}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="250", help="city sizes n, comma separated")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--src", nargs="+", default=["src"], help="source trees to compare")
    ap.add_argument("--json", help="append every run to this file (JSON lines)")
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        path = HERE / ".cache" / f"city_{n}_s0.osm.pbf"
        if not path.is_file():
            raise SystemExit(
                f"{path} is missing: make it with python bench/city.py {n} --out {path}"
            )
        runs: dict[str, list[dict[str, object]]] = {s: [] for s in args.src}
        for _ in range(args.repeat):
            for s in args.src:
                res = run(s, path)
                runs[s].append(res)
                if args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps({"n": n, "src": s, **res}) + "\n")
        print(f"n = {n}: {runs[args.src[0]][0]['counts']}")
        print("stage | " + " | ".join(f"{s}: CPU s / wall s / peak MB" for s in args.src))
        for st in STAGES:
            cells = []
            for s in args.src:
                rows = [r[st] for r in runs[s]]
                cpu = statistics.median(float(r["cpu"]) for r in rows)  # type: ignore[index]
                wall = statistics.median(float(r["wall"]) for r in rows)  # type: ignore[index]
                peak = max(int(r["peak_mb"]) for r in rows)  # type: ignore[index]
                cells.append(f"{cpu:.2f} / {wall:.2f} / {peak:,}")
            print(f"{st} | " + " | ".join(cells))
        for s in args.src:
            print(f"load averages ({s}):", "; ".join(str(r["load"]) for r in runs[s]))


if __name__ == "__main__":
    main()
