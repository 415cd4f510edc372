"""Small shared helpers for the benchmarks: OSM extract -> CSR graph, renumbering, kernel import.

The OSM reader is deliberately simple (the library's own network builder lives elsewhere):
every ``highway=*`` way, consecutive way nodes as an undirected street segment, haversine
lengths, both directions stored, largest connected component, nodes renumbered along a
Hilbert curve (:func:`fifteenmin._kernel.spatial_order`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
REAL_GRAPHS = {
    "beijing_cau": SHARED_OSM / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm",
    "helsinki": SHARED_OSM / "benchmark" / "helsinki_centre_2019.osm.pbf",
    "monaco": SHARED_OSM / "benchmark" / "monaco_2016.osm.pbf",
    "andorra": SHARED_OSM / "benchmark" / "andorra_2013.osm.pbf",
    "liechtenstein": SHARED_OSM / "benchmark" / "liechtenstein_2015.osm.pbf",
}
EARTH_RADIUS = 6_371_008.8


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


def osm_graph(path: Path, renumber: bool = True) -> dict[str, np.ndarray]:
    """CSR walk graph (+ x/y metres) of every highway way of an OSM file (.osm or .osm.pbf)."""
    import osmium

    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    u: list[int] = []
    v: list[int] = []
    for obj in osmium.FileProcessor(str(path)).with_locations():
        if not (obj.is_way() and "highway" in obj.tags):
            continue
        prev = None
        for nd in obj.nodes:
            if not nd.location.valid():
                prev = None
                continue
            i = ids.setdefault(nd.ref, len(ids))
            if i == len(lon):
                lon.append(nd.location.lon)
                lat.append(nd.location.lat)
            if prev is not None and prev != i:
                u.append(prev)
                v.append(i)
            prev = i
    lam, phi = np.radians(lon), np.radians(lat)
    ua, va = np.asarray(u, np.int64), np.asarray(v, np.int64)
    h = (np.sin((phi[va] - phi[ua]) / 2) ** 2
         + np.cos(phi[ua]) * np.cos(phi[va]) * np.sin((lam[va] - lam[ua]) / 2) ** 2)
    w = 2 * EARTH_RADIUS * np.arcsin(np.sqrt(h))
    n = len(lon)
    # local equirectangular projection (metres), good enough for ordering
    x = (lam - lam.mean()) * np.cos(phi.mean()) * EARTH_RADIUS
    y = (phi - phi.mean()) * EARTH_RADIUS
    # largest connected component
    a = sp.coo_matrix((np.ones(len(ua)), (ua, va)), shape=(n, n))
    _, comp = csgraph.connected_components(a, directed=False)
    keep = comp == np.bincount(comp).argmax()
    new = np.full(n, -1, np.int64)
    new[keep] = np.arange(keep.sum())
    ok = keep[ua] & keep[va]
    ua, va, w = new[ua[ok]], new[va[ok]], w[ok]
    x, y = x[keep], y[keep]
    n = len(x)
    if renumber:
        order = load_kernel().spatial_order(x, y)
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n)
        ua, va, x, y = rank[ua], rank[va], x[order], y[order]
    src, dst, ww = np.r_[ua, va], np.r_[va, ua], np.r_[w, w]
    o = np.lexsort((dst, src))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return {"indptr": indptr, "indices": dst[o].astype(np.int32), "weights": ww[o],
            "x": x, "y": y}


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
    return {"indptr": indptr, "indices": rank[g["indices"][o]].astype(np.int32),
            "weights": g["weights"][o], "x": g["x"][order], "y": g["y"][order]}
