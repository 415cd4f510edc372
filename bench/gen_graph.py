"""Synthetic city-like walk graphs for the kernel benchmark.

A perturbed square lattice (about 65 m blocks, +-20 m jitter of every intersection), street
lengths = straight-line length x U(1.0, 1.25) clipped to [20, 150] m, 4 % of the street segments
removed, one diagonal in 5 % of the blocks, then the largest connected component. Both directions
of every street are stored (CSR: ``indptr`` int64, ``indices`` int32, ``weights`` float64 in
metres; ``x``/``y`` in metres). Node ids are row-major (spatially local) unless ``shuffle``.

Usage::

    python bench/gen_graph.py --nodes 250000 [--shuffle] [--seed 0]

writes ``bench/.cache/grid_<n>[_shuf].npz`` (gitignored); :func:`load_or_make` is the in-memory
entry point used by ``bench/kernel.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
SPACING = 65.0


def make_grid(n_nodes: int, seed: int = 0, shuffle: bool = False) -> dict[str, np.ndarray]:
    """Build a perturbed-grid walk graph with about ``n_nodes`` nodes (CSR + coordinates)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    rows, cols = side, side
    n = rows * cols
    ii, jj = np.divmod(np.arange(n, dtype=np.int64), cols)
    x = jj * SPACING + rng.uniform(-20, 20, n)
    y = ii * SPACING + rng.uniform(-20, 20, n)
    node = np.arange(n, dtype=np.int64).reshape(rows, cols)
    horiz = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)
    vert = np.stack([node[:-1, :].ravel(), node[1:, :].ravel()], axis=1)
    edges = np.concatenate([horiz, vert])
    keep = rng.random(len(edges)) >= 0.04
    edges = edges[keep]
    blocks = node[:-1, :-1].ravel()
    diag_blocks = blocks[rng.random(len(blocks)) < 0.05]
    flip = rng.random(len(diag_blocks)) < 0.5
    diag = np.where(
        flip[:, None],
        np.stack([diag_blocks + 1, diag_blocks + cols], axis=1),
        np.stack([diag_blocks, diag_blocks + cols + 1], axis=1),
    )
    edges = np.concatenate([edges, diag])
    u, v = edges[:, 0], edges[:, 1]
    euclid = np.hypot(x[u] - x[v], y[u] - y[v])
    w = np.clip(euclid * rng.uniform(1.0, 1.25, len(u)), 20.0, 150.0)

    # largest component
    a = sp.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, comp = csgraph.connected_components(a, directed=False)
    big = np.bincount(comp).argmax()
    keep_node = comp == big
    new_id = np.full(n, -1, np.int64)
    new_id[keep_node] = np.arange(keep_node.sum())
    ok = keep_node[u] & keep_node[v]
    u, v, w = new_id[u[ok]], new_id[v[ok]], w[ok]
    x, y = x[keep_node], y[keep_node]
    n = len(x)
    if shuffle:
        perm = rng.permutation(n)  # old id -> new id
        u, v = perm[u], perm[v]
        x2 = np.empty_like(x)
        y2 = np.empty_like(y)
        x2[perm], y2[perm] = x, y
        x, y = x2, y2
    return csr_from_edges(u, v, w, n) | {"x": x, "y": y}


def csr_from_edges(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """CSR (both directions) from undirected edges ``u``-``v`` with lengths ``w``."""
    src = np.concatenate([u, v])
    dst = np.concatenate([v, u])
    ww = np.concatenate([w, w])
    order = np.lexsort((dst, src))
    src, dst, ww = src[order], dst[order], ww[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return {
        "indptr": indptr,
        "indices": dst.astype(np.int32),
        "weights": ww.astype(np.float64),
    }


def load_or_make(n_nodes: int, seed: int = 0, shuffle: bool = False, cache: bool = True):
    """Return the graph dict, from ``bench/.cache`` if present, else generate (and save)."""
    name = f"grid_{n_nodes}{'_shuf' if shuffle else ''}_s{seed}.npz"
    path = CACHE_DIR / name
    if cache and path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    g = make_grid(n_nodes, seed=seed, shuffle=shuffle)
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        np.savez(path, **g)
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shuffle", action="store_true", help="randomly permute node ids")
    args = ap.parse_args()
    t = time.perf_counter()
    g = load_or_make(args.nodes, seed=args.seed, shuffle=args.shuffle)
    n = len(g["x"])
    m = len(g["indices"])
    print(
        f"{n:,} nodes, {m:,} arcs, mean arc {g['weights'].mean():.1f} m, "
        f"{time.perf_counter() - t:.1f} s -> {CACHE_DIR}"
    )


if __name__ == "__main__":
    main()
