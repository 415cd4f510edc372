"""Network size and load time of every shared OSM extract, with osmnx's XML reader beside it.

Usage: ``python bench/load.py`` (needs ../shared/data/osm; osmnx is a dependency already).
For each file: fifteenmin's ``read_osm`` + ``network_from_file`` (nodes, edges, km, seconds,
best of 3) and, for XML files (.osm, .osm.bz2), ``osmnx.graph_from_xml`` (simplified, largest
component: what osmnx users run) with its node and edge counts. osmnx cannot read .pbf.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import fifteenmin as fm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def best_of(fn, n=3):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    import osmnx as ox

    files = sorted(
        p for p in SHARED.rglob("*") if p.name.endswith((".osm", ".osm.bz2", ".osm.pbf"))
    )
    files.append(fm.sample_path())
    print(
        f"{'file':45s} {'nodes':>7s} {'edges':>7s} {'km':>7s} {'load s':>7s} | {'osmnx nodes':>11s} {'edges':>7s} {'osmnx s':>8s} {'ratio':>6s}"
    )
    warnings.simplefilter("ignore")
    for p in files:
        t, net = best_of(lambda p=p: fm.network_from_file(p))
        line = f"{p.name:45s} {net.n_nodes:7,d} {net.n_edges:7,d} {net.total_length_km:7.1f} {t:7.3f} |"
        if not p.name.endswith(".pbf"):
            tx, G = best_of(lambda p=p: ox.graph_from_xml(p, simplify=True, retain_all=False))
            line += (
                f" {G.number_of_nodes():11,d} {G.number_of_edges():7,d} {tx:8.3f} {tx / t:5.1f}x"
            )
        else:
            line += f" {'(no PBF reader)':>28s}"
        print(line)


if __name__ == "__main__":
    main()
