"""Time ``plan_missing(report, k=1)`` (the report's siting section) on synthetic cities.

For each size the report is built once (the stages of ``bench/scale.py`` up to coverage) and
saved to ``bench/.cache/report_<n>.pkl`` (``--reports``; ~3 GB at n = 1000); then ``plan_missing`` runs in a fresh subprocess for
every source tree given (``--src``, default this checkout's ``src/``), interleaved over
``--reps`` rounds, and the plans of all trees are compared (equal frames and attrs).

Usage::

    python bench/siting_scale.py --sizes 125,250
    git worktree add /tmp/before c62a0f1
    python bench/siting_scale.py --sizes 125,250,500 --src src,/tmp/before/src
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

CHILD = """
import json, os, pickle, sys, time
sys.path.insert(0, {src!r})
import fifteenmin
from fifteenmin.siting import plan_missing
fifteenmin._kernel.warmup()
with open({rep!r}, "rb") as f:
    rep = pickle.load(f)
t, c = time.perf_counter(), time.process_time()
plan = plan_missing(rep, k=1)
wall, cpu = time.perf_counter() - t, time.process_time() - c
plan.to_pickle({out!r})
print(json.dumps({{"wall": wall, "cpu": cpu, "sites": len(plan), "src": fifteenmin.__file__}}))
"""


def report_file(n: int, folder: Path) -> Path:
    """The pickled report of the n x n city (built on first use)."""
    path = folder / f"report_{n}.pkl"
    if path.exists():
        return path
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent / "src"))
    from scale import Pipeline, city_file

    city, _ = city_file(n, 0)
    p = Pipeline(city, CACHE / "scratch")
    for stage in ("read", "network", "facilities", "travel_times", "communities"):
        getattr(p, stage)()
    for stage in ("residents", "origin_times", "coverage"):
        getattr(p, stage)()
    with open(path, "wb") as f:
        pickle.dump(p.rep, f, protocol=5)
    return path


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="125,250")
    ap.add_argument("--src", default="src", help="comma-separated source trees to time")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--reports", default=str(CACHE), help="folder of the pickled reports")
    args = ap.parse_args()
    import pandas as pd

    srcs = [str(Path(s).resolve()) for s in args.src.split(",")]
    print(
        "| n | source | wall s | CPU s | sites | load before / after |\n|---|---|---|---|---|---|"
    )
    for n in [int(s) for s in args.sizes.split(",")]:
        rep = report_file(n, Path(args.reports))
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.reps):
                for i, src in enumerate(srcs):
                    out = os.path.join(tmp, f"plan_{i}.pkl")
                    up = uptime().split("load average:")[-1].strip()
                    code = CHILD.format(src=src, rep=str(rep), out=out)
                    res = subprocess.run(
                        [sys.executable, "-c", code], capture_output=True, text=True, check=True
                    )
                    row = json.loads(res.stdout.strip().splitlines()[-1])
                    up2 = uptime().split("load average:")[-1].strip()
                    print(
                        f"| {n} | {src} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['sites']} "
                        f"| {up} / {up2} |",
                        flush=True,
                    )
            frames = [pd.read_pickle(os.path.join(tmp, f"plan_{i}.pkl")) for i in range(len(srcs))]
        for other in frames[1:]:
            pd.testing.assert_frame_equal(pd.DataFrame(frames[0]), pd.DataFrame(other))
            assert frames[0].attrs == other.attrs
        if len(srcs) > 1:
            print(f"(n = {n}: the plans of every source tree are equal)", flush=True)


if __name__ == "__main__":
    main()
