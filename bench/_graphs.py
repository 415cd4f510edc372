"""Small shared helpers for the benchmarks: OSM extract -> CSR graph, renumbering, kernel import.

Real extracts are read with the library's own network builder, so the benchmark times the
graphs fifteenmin really searches.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
REAL_GRAPHS = {
    "beijing_cau": SHARED_OSM / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm",
    "helsinki": SHARED_OSM / "benchmark" / "helsinki_centre_2019.osm.pbf",
    "monaco": SHARED_OSM / "benchmark" / "monaco_2016.osm.pbf",
    "andorra": SHARED_OSM / "benchmark" / "andorra_2013.osm.pbf",
    "liechtenstein": SHARED_OSM / "benchmark" / "liechtenstein_2015.osm.pbf",
}


def load_kernel():
    """Import ``fifteenmin._kernel`` (from ``src/`` if the package is not installed).

    If the package ``__init__`` cannot be imported (other modules mid-construction), the
    kernel file is loaded on its own under another module name (own numba cache entries).
    """
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    try:
        return importlib.import_module("fifteenmin._kernel")
    except ImportError as exc:
        if "_kernel" in str(exc):
            raise
        path = ROOT / "src" / "fifteenmin" / "_kernel.py"
        spec = importlib.util.spec_from_file_location("fifteenmin_kernel_alone", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        return mod


def osm_graph(path: Path) -> dict[str, np.ndarray]:
    """The library's own walking network of an OSM file as CSR arrays (+ x/y metres).

    The same graph every fifteenmin run uses (:func:`fifteenmin.network_from_file`: osmnx's
    walk filter, simplified topology, geodesic lengths, largest component, Hilbert order).
    """
    import warnings

    from fifteenmin import network_from_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clipped extracts warn
        net = network_from_file(path)
    return {
        "indptr": net.indptr,
        "indices": net.indices,
        "weights": net.lengths,
        "x": net.x,
        "y": net.y,
    }


def permute(g: dict[str, np.ndarray], order: np.ndarray) -> dict[str, np.ndarray]:
    """Renumber a CSR graph: new node ``i`` is old node ``order[i]``."""
    n = len(order)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    deg = np.diff(g["indptr"])
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(deg[order], out=indptr[1:])
    src_old = np.repeat(np.arange(n), deg)
    o = np.lexsort((rank[g["indices"]], rank[src_old]))
    return {
        "indptr": indptr,
        "indices": rank[g["indices"][o]].astype(np.int32),
        "weights": g["weights"][o],
        "x": g["x"][order],
        "y": g["y"][order],
    }
