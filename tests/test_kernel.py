"""Correctness of the shortest-path kernels (fifteenmin._kernel); never timing."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import subprocess
import sys
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph, csr_matrix

SHARED = Path(__file__).resolve().parents[2] / "shared"
HELSINKI = SHARED / "data" / "osm" / "benchmark" / "helsinki_centre_2019.osm.pbf"


K = importlib.import_module("fifteenmin._kernel")
multi_source_nearest = K.multi_source_nearest
bounded_search = K.bounded_search
spatial_order = K.spatial_order

needs_numba = pytest.mark.skipif(not K.HAVE_NUMBA, reason="numba not installed")


@contextlib.contextmanager
def tile_size(size):
    """Set the kernel's tile size for a block (a context manager: safe inside hypothesis)."""
    old = K._TILE_NODES, K._MAX_CROSSING
    K._TILE_NODES, K._MAX_CROSSING = size, 1.0  # tiles even when most arcs cross them
    try:
        yield
    finally:
        K._TILE_NODES, K._MAX_CROSSING = old


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def csr(n, arcs):
    """CSR arrays (indptr int64, indices int32, weights float64) from (u, v, w) arcs."""
    arcs = sorted(arcs, key=lambda a: a[0])
    indptr = np.zeros(n + 1, np.int64)
    for u, _, _ in arcs:
        indptr[u + 1] += 1
    np.cumsum(indptr, out=indptr)
    indices = np.array([a[1] for a in arcs], np.int32)
    weights = np.array([a[2] for a in arcs], np.float64)
    return indptr, indices, weights


def seeds_arrays(items):
    """items: list of lists of (node, dist, label) -> seed_ptr, node, dist, label."""
    ptr = np.zeros(len(items) + 1, np.int64)
    ptr[1:] = np.cumsum([len(it) for it in items])
    flat = [s for it in items for s in it]
    node = np.array([s[0] for s in flat], np.int32)
    dist = np.array([s[1] for s in flat], np.float64)
    label = np.array([s[2] for s in flat], np.int32)
    return ptr, node, dist, label


def all_pairs(n, indptr, indices, weights):
    """Dense all-pairs shortest paths (float sums, same order as Dijkstra)."""
    if n == 0:
        return np.zeros((0, 0))
    g = csr_matrix((weights, indices, indptr), shape=(n, n))
    return csgraph.dijkstra(g, directed=True)


def networkx_nearest(n, arcs, item, cutoff):
    """networkx multi_source_dijkstra_path_length with one virtual source node per seed."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for u, v, w in arcs:
        if not g.has_edge(u, v) or g[u][v]["w"] > w:
            g.add_edge(u, v, w=w)
    sources = []
    for i, (node, d, _) in enumerate(item):
        s = ("seed", i)
        g.add_edge(s, node, w=d)
        sources.append(s)
    out = np.full(n, np.inf)
    if not sources:
        return out
    lengths = nx.multi_source_dijkstra_path_length(
        g, sources, cutoff=None if math.isinf(cutoff) else cutoff, weight="w"
    )
    for node, d in lengths.items():
        if isinstance(node, int) and d <= cutoff:
            out[node] = d
    return out


def assert_same_dist(a, b):
    fa, fb = np.isfinite(a), np.isfinite(b)
    assert np.array_equal(fa, fb), "reachable sets differ"
    if fa.any():
        assert np.max(np.abs(a[fa] - b[fa])) <= 1e-6


def check_labels(n, apsp, items, cutoffs, dist, label, exact):
    """label[k, v] is a seed achieving dist[k, v]; with exact arithmetic the smallest one."""
    for k, item in enumerate(items):
        for v in range(n):
            if not np.isfinite(dist[k, v]):
                assert label[k, v] == -1
                continue
            best = {}
            for node, d, lab in item:
                if d > cutoffs[k]:
                    continue
                val = d + apsp[node, v]
                best[lab] = min(best.get(lab, np.inf), val)
            lab = int(label[k, v])
            assert lab in best
            assert abs(best[lab] - dist[k, v]) <= 1e-6
            if exact:
                dmin = min(best.values())
                assert lab == min(lb for lb, val in best.items() if val == dmin)


# ---------------------------------------------------------------------------------------------
# hypothesis strategies
# ---------------------------------------------------------------------------------------------

weight_st = st.one_of(
    st.just(0.0),
    st.integers(0, 20).map(float),
    st.floats(0.0, 50.0, allow_nan=False, allow_infinity=False),
)
int_weight_st = st.integers(0, 12).map(float)


@st.composite
def problems(draw, exact=False):
    w_st = int_weight_st if exact else weight_st
    n = draw(st.integers(1, 24))
    node = st.integers(0, n - 1)
    arcs = draw(st.lists(st.tuples(node, node, w_st), max_size=4 * n))
    if draw(st.booleans()):  # undirected like our walk graphs
        arcs = arcs + [(v, u, w) for u, v, w in arcs]
    n_items = draw(st.integers(1, 4))
    items = []
    for _ in range(n_items):
        seeds = draw(st.lists(st.tuples(node, w_st, st.integers(0, 5)), max_size=5))
        if seeds and draw(st.booleans()):  # duplicated seed
            seeds.append(seeds[0])
        items.append(seeds)
    cut_st = st.one_of(st.just(np.inf), st.just(0.0), w_st, st.floats(0, 100))
    if draw(st.booleans()):
        cutoff = draw(cut_st)
        cutoffs = np.full(n_items, cutoff)
    else:
        cutoff = np.array([draw(cut_st) for _ in range(n_items)])
        cutoffs = cutoff
    return n, arcs, items, cutoff, cutoffs


# ---------------------------------------------------------------------------------------------
# multi_source_nearest
# ---------------------------------------------------------------------------------------------


@needs_numba
@SETTINGS
@given(problems())
def test_numba_equals_scipy_and_networkx(prob):
    n, arcs, items, cutoff, cutoffs = prob
    g = csr(n, arcs)
    s = seeds_arrays(items)
    d_nb, l_nb = multi_source_nearest(*g, *s, cutoff, engine="numba", threads=1)
    d_sp, l_sp = multi_source_nearest(*g, *s, cutoff, engine="scipy")
    assert d_nb.shape == d_sp.shape == (len(items), n)
    assert d_nb.dtype == np.float64 and l_nb.dtype == np.int32
    assert_same_dist(d_nb, d_sp)
    for k, item in enumerate(items):
        assert_same_dist(d_nb[k], networkx_nearest(n, arcs, item, cutoffs[k]))
    apsp = all_pairs(n, *g)
    check_labels(n, apsp, items, cutoffs, d_nb, l_nb, exact=False)
    check_labels(n, apsp, items, cutoffs, d_sp, l_sp, exact=False)
    d2, l2 = multi_source_nearest(*g, *s, cutoff, engine="numba", threads=2)
    assert np.array_equal(d2, d_nb) and np.array_equal(l2, l_nb)


@needs_numba
@SETTINGS
@given(problems(exact=True))
def test_ties_go_to_smallest_label(prob):
    n, arcs, items, cutoff, cutoffs = prob
    g = csr(n, arcs)
    s = seeds_arrays(items)
    d, lab = multi_source_nearest(*g, *s, cutoff, engine="numba")
    check_labels(n, all_pairs(n, *g), items, cutoffs, d, lab, exact=True)


@needs_numba
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.05, 1.2, 7.0, 1000.0]))
def test_bucket_width_never_changes_result(seed, width):
    rng = np.random.default_rng(seed)
    n = 60
    arcs = [
        (int(u), int(v), float(w))
        for u, v, w in zip(
            rng.integers(0, n, 200),
            rng.integers(0, n, 200),
            rng.exponential(3.0, 200) * (rng.random(200) > 0.1),
            strict=True,
        )
    ]
    g = csr(n, arcs)
    items = [
        [
            (int(rng.integers(n)), float(rng.uniform(0, 2)), int(rng.integers(9)))
            for _ in range(rng.integers(0, 6))
        ]
        for _ in range(3)
    ]
    s = seeds_arrays(items)
    ref = multi_source_nearest(*g, *s, 15.0, engine="numba")
    d, lab = multi_source_nearest(*g, *s, 15.0, engine="numba", bucket_width=width)
    assert np.array_equal(d, ref[0]) and np.array_equal(lab, ref[1])
    assert_same_dist(d, multi_source_nearest(*g, *s, 15.0, engine="scipy")[0])


@needs_numba
@SETTINGS
@given(problems(), st.sampled_from([1, 2, 3, 7]))
def test_tiles_give_the_one_piece_result(prob, tile):
    """Tiny tiles: relaxations into later tiles are deferred, back into earlier ones not."""
    n, arcs, items, cutoff, cutoffs = prob
    g = csr(n, arcs)
    s = seeds_arrays(items)
    whole = multi_source_nearest(*g, *s, cutoff, engine="numba", threads=1)
    with tile_size(tile):
        d, lab = multi_source_nearest(*g, *s, cutoff, engine="numba", threads=1)
        d2, l2 = multi_source_nearest(*g, *s, cutoff, engine="numba", threads=2)
    assert np.array_equal(d, whole[0])  # exact: the same float sums
    assert np.array_equal(d2, d) and np.array_equal(l2, lab)
    check_labels(n, all_pairs(n, *g), items, cutoffs, d, lab, exact=False)


@needs_numba
@SETTINGS
@given(problems(exact=True), st.sampled_from([1, 2, 5]))
def test_tiles_keep_the_smallest_label_on_ties(prob, tile):
    n, arcs, items, cutoff, cutoffs = prob
    g = csr(n, arcs)
    s = seeds_arrays(items)
    whole = multi_source_nearest(*g, *s, cutoff, engine="numba")
    with tile_size(tile):
        d, lab = multi_source_nearest(*g, *s, cutoff, engine="numba")
    assert np.array_equal(d, whole[0]) and np.array_equal(lab, whole[1])
    check_labels(n, all_pairs(n, *g), items, cutoffs, d, lab, exact=True)


@needs_numba
@pytest.mark.parametrize("shuffle", [False, True])
def test_tiles_on_a_grid_equal_scipy(shuffle):
    """A 60 x 60 grid in 64-node tiles, row-major or shuffled ids (arcs jump between tiles)."""
    rng = np.random.default_rng(11)
    side = 60
    n = side * side
    perm = rng.permutation(n) if shuffle else np.arange(n)
    arcs = []
    for i in range(side):
        for j in range(side):
            a = i * side + j
            for b in ([a + 1] if j + 1 < side else []) + ([a + side] if i + 1 < side else []):
                w = float(rng.uniform(20, 120))
                arcs += [(int(perm[a]), int(perm[b]), w), (int(perm[b]), int(perm[a]), w)]
    g = csr(n, arcs)
    items = [
        [(int(x), float(rng.uniform(0, 30)), lab) for lab, x in enumerate(rng.integers(0, n, m))]
        for m in (0, 1, 4, 36, 400)
    ]
    s = seeds_arrays(items)
    cut = np.array([500.0, 800.0, 1000.0, 1000.0, 300.0])
    whole = multi_source_nearest(*g, *s, cut, engine="numba")
    ref, _ = multi_source_nearest(*g, *s, cut, engine="scipy")
    with tile_size(64):
        d, lab = multi_source_nearest(*g, *s, cut, engine="numba", threads=2)
    assert_same_dist(d, ref)
    assert np.array_equal(d, whole[0])
    reach = np.isfinite(d)
    assert reach[1:].mean() > 0.3
    # the label is a seed reaching the node at that distance
    assert np.all(lab[reach] >= 0) and np.all(lab[~reach] == -1)
    assert (lab == whole[1]).mean() > 0.999


def test_no_tiles_when_node_ids_are_not_spatially_ordered(monkeypatch):
    side = 60
    n = side * side
    arcs = [(a, a + 1, 1.0) for a in range(n) if (a + 1) % side] + [
        (a, a + side, 1.0) for a in range(n - side)
    ]
    perm = np.random.default_rng(2).permutation(n)
    monkeypatch.setattr(K, "_TILE_NODES", 600)  # ten rows of the grid
    assert K._tile_size(csr(n, arcs), 100.0, 1.2) == 600
    shuffled = [(int(perm[u]), int(perm[v]), w) for u, v, w in arcs]
    assert K._tile_size(csr(n, shuffled), 100.0, 1.2) == n


@needs_numba
def test_tiles_with_infinite_cutoff_search_in_one_piece():
    g = csr(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)])
    s = seeds_arrays([[(3, 0.0, 0)], [(0, 0.5, 1)]])
    with tile_size(1):
        assert K._tile_size(g, np.inf, 1.2) == 4
        assert K._tile_size(g, 10.0, 1.2) == 1
        assert K._tile_size(g, 1e9, 1.2) == 4  # the window would need too many buckets
        d, lab = multi_source_nearest(*g, *s, [np.inf, 2.0], engine="numba")
    np.testing.assert_array_equal(d, [[1.0, 2.0, 3.0, 0.0], [0.5, 1.5, np.inf, np.inf]])
    np.testing.assert_array_equal(lab, [[0, 0, 0, 0], [1, 1, -1, -1]])


def test_small_example_by_hand():
    # path 0 -1- 1 -2- 2 -0- 3 (zero-length arc), both directions; node 4 isolated
    arcs = [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 0.0)]
    arcs += [(v, u, w) for u, v, w in arcs]
    g = csr(5, arcs)
    items = [[(0, 0.5, 7), (3, 0.0, 3)], [], [(1, 0.0, 1), (1, 0.0, 0)]]
    s = seeds_arrays(items)
    for engine in ["scipy"] + (["numba"] if K.HAVE_NUMBA else []):
        d, lab = multi_source_nearest(*g, *s, [np.inf, 5.0, 1.0], engine=engine)
        np.testing.assert_array_equal(d[0], [0.5, 1.5, 0.0, 0.0, np.inf])
        np.testing.assert_array_equal(lab[0], [7, 7, 3, 3, -1])
        np.testing.assert_array_equal(d[1], np.full(5, np.inf))
        np.testing.assert_array_equal(lab[1], np.full(5, -1))
        np.testing.assert_array_equal(d[2], [1.0, 0.0, np.inf, np.inf, np.inf])
        if engine == "numba":
            np.testing.assert_array_equal(lab[2], [0, 0, -1, -1, -1])


@needs_numba
def test_cutoff_is_inclusive_and_seed_beyond_cutoff_ignored():
    g = csr(3, [(0, 1, 2.0), (1, 2, 2.0)])
    s = seeds_arrays([[(0, 0.0, 0)], [(0, 5.0, 0), (2, 1.0, 1)]])
    for engine in ("numba", "scipy"):
        d, lab = multi_source_nearest(*g, *s, 4.0, engine=engine)
        np.testing.assert_array_equal(d[0], [0.0, 2.0, 4.0])
        np.testing.assert_array_equal(d[1], [np.inf, np.inf, 1.0])
        np.testing.assert_array_equal(lab[1], [-1, -1, 1])


@needs_numba
def test_pool_overflow_is_retried(monkeypatch):
    rng = np.random.default_rng(3)
    n = 300
    u, v = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    g = csr(n, list(zip(u.tolist(), v.tolist(), rng.uniform(0, 10, 1500).tolist(), strict=True)))
    items = [[(int(x), 0.0, i) for i, x in enumerate(rng.integers(0, n, 10))] for _ in range(5)]
    s = seeds_arrays(items)
    ref = multi_source_nearest(*g, *s, 25.0, engine="numba")
    monkeypatch.setattr(K, "_pool_size", lambda n, m: 1)
    d, lab = multi_source_nearest(*g, *s, 25.0, engine="numba", threads=2)
    assert np.array_equal(d, ref[0]) and np.array_equal(lab, ref[1])
    monkeypatch.setattr(K, "_TILE_NODES", 16)  # overflow with pending nodes of later tiles
    d, lab = multi_source_nearest(*g, *s, 25.0, engine="numba", threads=2)
    assert np.array_equal(d, ref[0])
    origins = (np.arange(11), rng.integers(0, n, 10), np.zeros(10))
    ref = bounded_search(*g, *origins, 25.0, engine="scipy")
    got = bounded_search(*g, *origins, 25.0, engine="numba")
    monkeypatch.setattr(K, "_BUF_CAP0", 3)  # result buffers overflow: resumed in rounds
    got2 = bounded_search(*g, *origins, 25.0, engine="numba")
    for a, b, c in zip(ref, got, got2, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        assert np.array_equal(b, c)


def test_validation_names_the_array():
    g = csr(3, [(0, 1, 1.0), (1, 2, 1.0)])
    s = seeds_arrays([[(0, 0.0, 0)]])
    bad_w = (g[0], g[1], np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="weights"):
        multi_source_nearest(*bad_w, *s, 5.0)
    with pytest.raises(ValueError, match="weights"):
        multi_source_nearest(g[0], g[1], np.array([1.0, np.nan]), *s, 5.0)
    with pytest.raises(ValueError, match="seed_dist"):
        multi_source_nearest(*g, s[0], s[1], np.array([-0.5]), s[3], 5.0)
    with pytest.raises(ValueError, match="seed_node"):
        multi_source_nearest(*g, s[0], np.array([7]), s[2], s[3], 5.0)
    with pytest.raises(ValueError, match="seed_label"):
        multi_source_nearest(*g, s[0], s[1], s[2], np.array([-1]), 5.0)
    with pytest.raises(ValueError, match="cutoff"):
        multi_source_nearest(*g, *s, [1.0, 2.0])
    with pytest.raises(ValueError, match="indices"):
        multi_source_nearest(g[0], np.array([0, 9]), g[2], *s, 5.0)
    with pytest.raises(ValueError, match="indptr"):
        multi_source_nearest(np.array([0, 2, 1, 2]), g[1], g[2], *s, 5.0)
    with pytest.raises(ValueError, match="origin_dist"):
        bounded_search(*g, [0, 1], [0], [-1.0], 5.0)
    with pytest.raises(ValueError, match="engine"):
        multi_source_nearest(*g, *s, 5.0, engine="fast")


def test_out_arrays_are_filled_and_returned():
    g = csr(3, [(0, 1, 1.0), (1, 2, 1.0)])
    s = seeds_arrays([[(0, 0.0, 5)], []])
    for engine in ["scipy"] + (["numba"] if K.HAVE_NUMBA else []):
        d = np.full((2, 3), -7.0)
        lab = np.full((2, 3), 9, np.int32)
        rd, rl = multi_source_nearest(*g, *s, 1.5, engine=engine, out=(d, lab))
        assert rd is d and rl is lab
        np.testing.assert_array_equal(d, [[0.0, 1.0, np.inf], [np.inf] * 3])
        np.testing.assert_array_equal(lab, [[5, 5, -1], [-1] * 3])
    with pytest.raises(ValueError, match="out"):
        multi_source_nearest(*g, *s, 1.5, out=(np.zeros((2, 3)), np.zeros((2, 3))))
    with pytest.raises(ValueError, match="out"):
        multi_source_nearest(*g, *s, 1.5, out=(np.zeros((3, 2)), np.zeros((2, 3), np.int32)))


def test_int32_indptr_and_dtype_coercion():
    g = csr(3, [(0, 1, 1), (1, 2, 1)])
    d, lab = multi_source_nearest(
        g[0].astype(np.int32),
        g[1].astype(np.int64),
        g[2].astype(np.float32),
        [0, 1],
        [0],
        [0],
        [4],
        10,
    )
    np.testing.assert_array_equal(d[0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(lab[0], [4, 4, 4])


def test_module_works_without_numba():
    code = (
        "import sys, importlib.util, numpy as np\n"
        "sys.modules['numba'] = None\n"
        "import fifteenmin._kernel as m\n"
        "assert not m.HAVE_NUMBA\n"
        "d, l = m.multi_source_nearest([0, 1, 2], [1, 0], [3.0, 3.0], [0, 1], [0], [0.0], [2],"
        " 10.0)\n"
        "assert d.tolist() == [[0.0, 3.0]] and l.tolist() == [[2, 2]]\n"
        "p, nd, dd = m.bounded_search([0, 1, 2], [1, 0], [3.0, 3.0], [0, 1], [1], [0.0], 10.0)\n"
        "assert p.tolist() == [0, 2] and nd.tolist() == [0, 1] and dd.tolist() == [3.0, 0.0]\n"
        "assert m.warmup() == 0.0\n"
        "try:\n"
        "    m.multi_source_nearest([0], [], [], [0], [], [], [], 1.0, engine='numba')\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('engine=numba without numba must raise')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------
# bounded_search
# ---------------------------------------------------------------------------------------------


@needs_numba
@SETTINGS
@given(problems())
def test_bounded_search_equals_dense_scipy(prob):
    n, arcs, items, cutoff, _ = prob
    g = csr(n, arcs)
    ptr, node, dist, _ = seeds_arrays(items)  # each item = one origin (group of seeds)
    out_ptr, out_node, out_dist = bounded_search(*g, ptr, node, dist, cutoff, engine="numba")
    sp_ptr, sp_node, sp_dist = bounded_search(*g, ptr, node, dist, cutoff, engine="scipy")
    assert out_ptr.dtype == np.int64 and out_node.dtype == np.int32
    assert out_dist.dtype == np.float64
    np.testing.assert_array_equal(out_ptr, sp_ptr)
    np.testing.assert_array_equal(out_node, sp_node)
    np.testing.assert_allclose(out_dist, sp_dist, rtol=0, atol=1e-6)
    dense, _ = multi_source_nearest(
        *g,
        *seeds_arrays([[(a, b, 0) for a, b, _ in item] for item in items]),
        cutoff,
        engine="scipy",
    )
    for o in range(len(items)):
        nodes = out_node[out_ptr[o] : out_ptr[o + 1]]
        assert np.all(np.diff(nodes) > 0)
        np.testing.assert_array_equal(nodes, np.flatnonzero(np.isfinite(dense[o])))
        np.testing.assert_allclose(
            out_dist[out_ptr[o] : out_ptr[o + 1]], dense[o][nodes], rtol=0, atol=1e-6
        )


def grid_graph(rng, side):
    """A side x side street grid with random two-way arc lengths (5-20 m), as CSR."""
    arcs = []
    for i in range(side):
        for j in range(side):
            a = i * side + j
            if j + 1 < side:
                w = float(rng.uniform(5, 20))
                arcs += [(a, a + 1, w), (a + 1, a, w)]
            if i + 1 < side:
                w = float(rng.uniform(5, 20))
                arcs += [(a, a + side, w), (a + side, a, w)]
    return csr(side * side, arcs)


@needs_numba
def test_bounded_search_many_origins_threads_agree():
    rng = np.random.default_rng(7)
    n = 30 * 30
    g = grid_graph(rng, 30)
    n_orig = 200
    optr = np.arange(0, 2 * n_orig + 1, 2)
    onode = rng.integers(0, n, 2 * n_orig)
    odist = rng.uniform(0, 10, 2 * n_orig)
    cut = rng.uniform(0, 80, n_orig)
    ref = bounded_search(*g, optr, onode, odist, cut, engine="scipy")
    for threads in (1, 2):
        got = bounded_search(*g, optr, onode, odist, cut, engine="numba", threads=threads)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        np.testing.assert_allclose(got[2], ref[2], rtol=0, atol=1e-6)
    empty = bounded_search(*g, [0], [], [], 10.0)
    assert empty[0].tolist() == [0] and empty[1].size == 0 and empty[2].size == 0


@needs_numba
def test_bounded_search_reuses_clean_rows_across_calls_and_threads():
    # the per-node rows of one call are kept for the next (_take_node_rows): calls one after
    # another, and more concurrent calls than kept rows, all equal scipy; the kept rows are clean
    from concurrent.futures import ThreadPoolExecutor

    from fifteenmin import _kernel

    rng = np.random.default_rng(11)
    n = 25 * 25
    g = grid_graph(rng, 25)
    calls = []
    for _ in range(8):
        k = int(rng.integers(1, 80))
        calls.append(
            (
                np.arange(0, 2 * k + 1, 2),
                rng.integers(0, n, 2 * k),
                rng.uniform(0, 10, 2 * k),
                rng.uniform(0, 250, k),
            )
        )
    refs = [bounded_search(*g, *c, engine="scipy") for c in calls]

    def same(got, ref):
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        np.testing.assert_allclose(got[2], ref[2], rtol=0, atol=1e-6)

    for c, ref in zip(calls, refs, strict=True):
        same(bounded_search(*g, *c, engine="numba", threads=2), ref)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda c: bounded_search(*g, *c, engine="numba", threads=2), calls * 3))
    for res, ref in zip(got, refs * 3, strict=True):
        same(res, ref)
    kept = [r for r in _kernel._FREE_NODE_ROWS if r[0].shape[0] == n]
    assert 0 < len(kept) <= _kernel._KEEP_NODE_ROWS
    for dist, label, inq, _, _ in kept:
        assert np.all(dist == np.inf) and np.all(label == -1) and not inq.any()


# ---------------------------------------------------------------------------------------------
# spatial_order
# ---------------------------------------------------------------------------------------------


def test_spatial_order_is_a_deterministic_permutation():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 5000, 1000), rng.uniform(0, 3000, 1000)
    x[3] = np.nan
    p = spatial_order(x, y)
    assert p.dtype == np.int64
    assert np.array_equal(np.sort(p), np.arange(1000))
    assert p[-1] == 3  # non-finite coordinates go last
    assert np.array_equal(p, spatial_order(x, y))
    assert spatial_order([], []).size == 0
    assert spatial_order([1.0], [1.0]).tolist() == [0]


def test_spatial_order_improves_locality_of_a_shuffled_grid():
    rng = np.random.default_rng(1)
    side = 64
    n = side * side
    ii, jj = np.divmod(np.arange(n), side)
    u = np.concatenate([np.arange(n)[jj < side - 1], np.arange(n)[ii < side - 1]])
    v = np.concatenate([u[: (jj < side - 1).sum()] + 1, u[(jj < side - 1).sum() :] + side])
    shuffle = rng.permutation(n)  # old -> new id
    x = np.empty(n)
    y = np.empty(n)
    x[shuffle], y[shuffle] = jj * 50.0, ii * 50.0
    su, sv = shuffle[u], shuffle[v]
    order = spatial_order(x, y)  # new id i = shuffled node order[i]
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    before = np.abs(su - sv).mean()
    after = np.abs(rank[su] - rank[sv]).mean()
    assert after < before / 10
    # the Hilbert order of a full 2^k grid is a path: consecutive nodes are neighbours
    gx, gy = x[order], y[order]
    assert np.all(np.hypot(np.diff(gx), np.diff(gy)) == 50.0)


# ---------------------------------------------------------------------------------------------
# a real OSM graph (../shared)
# ---------------------------------------------------------------------------------------------


@pytest.mark.shared
@needs_numba
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is absent")
def test_real_osm_graph_numba_equals_scipy():
    if not HELSINKI.exists():
        pytest.skip("Helsinki extract missing from ../shared")
    from fifteenmin import network_from_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a clipped extract: it warns
        net = network_from_file(HELSINKI)
    g = (net.indptr, net.indices, net.lengths)
    n = net.n_nodes
    assert n > 3000
    rng = np.random.default_rng(42)
    items = []
    for k in range(20):
        m = 1 + k % 7 * 4
        fac = rng.integers(0, n, m)
        # facility part-way along an edge: seeds both end nodes with offsets
        other = g[1][np.minimum(g[0][fac], g[0][-1] - 1)]
        frac = rng.random(m)
        items.append(
            [(int(a), float(f * 30), i) for i, (a, f) in enumerate(zip(fac, frac, strict=True))]
            + [
                (int(b), float((1 - f) * 30), i)
                for i, (b, f) in enumerate(zip(other, frac, strict=True))
            ]
        )
    s = seeds_arrays(items)
    cut = np.where(np.arange(20) % 5 == 0, np.inf, 1000.0)
    d_nb, l_nb = multi_source_nearest(*g, *s, cut, engine="numba")
    d_sp, l_sp = multi_source_nearest(*g, *s, cut, engine="scipy")
    assert_same_dist(d_nb, d_sp)
    assert np.isfinite(d_nb).mean() > 0.1
    # labels agree wherever the nearest facility is unique
    unique = np.isfinite(d_nb) & (l_nb == l_sp)
    assert unique.mean() > 0.99 * np.isfinite(d_nb).mean()
    d2, l2 = multi_source_nearest(*g, *s, cut, engine="numba", threads=1)
    assert np.array_equal(d2, d_nb) and np.array_equal(l2, l_nb)
    optr = np.arange(0, 101)
    onode = rng.integers(0, n, 100)
    got = bounded_search(*g, optr, onode, np.zeros(100), 800.0, engine="numba")
    ref = bounded_search(*g, optr, onode, np.zeros(100), 800.0, engine="scipy")
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_allclose(got[2], ref[2], rtol=0, atol=1e-6)


@needs_numba
def test_spatial_order_compiled_hilbert_index_equals_the_numpy_loop():
    """The compiled Hilbert index against the numpy loop it replaces (random cells, corners)."""
    rng = np.random.default_rng(7)
    side = 1 << 16
    xi = np.r_[rng.integers(0, side, 20_000), 0, side - 1, 0, side - 1]
    yi = np.r_[rng.integers(0, side, 20_000), 0, 0, side - 1, side - 1]
    want = K._hilbert_numpy(xi, yi, side)
    assert np.array_equal(K.hilbert_index(xi, yi, side), want)
    assert np.unique(want).size == np.unique(np.c_[xi, yi], axis=0).shape[0]


def test_lexsort_grouped_equals_numpy_lexsort():
    rng = np.random.default_rng(11)
    for trial in range(120):
        n = int(rng.integers(0, 2000))
        groups = int(rng.integers(1, 300))
        g = rng.integers(0, groups, n)
        if trial % 2:
            g.sort()  # in order, as access points come
        k1 = rng.integers(0, 4, n).astype(float) if trial % 3 else rng.normal(size=n)
        k2 = rng.integers(0, 3, n) if trial % 5 else rng.normal(size=n)
        np.testing.assert_array_equal(K.lexsort_grouped(g, k1, k2), np.lexsort((k2, k1, g)))
    big = np.zeros(500, np.int64)  # one group beyond insertion sorting, ties included
    k1, k2 = rng.integers(0, 9, 500).astype(float), rng.integers(0, 9, 500).astype(float)
    np.testing.assert_array_equal(K.lexsort_grouped(big, k1, k2), np.lexsort((k2, k1, big)))
    k1[3] = np.nan  # NaN keys: numpy's own order
    np.testing.assert_array_equal(K.lexsort_grouped(big, k1, k2), np.lexsort((k2, k1, big)))


def test_sort_seeds_equals_lexsort():
    rng = np.random.default_rng(12)
    ptr = np.array([0, 5, 5, 400, 1000], np.int64)
    node = rng.integers(0, 50, 1000).astype(np.int32)
    dist, label = rng.uniform(0, 9, 1000), rng.integers(0, 99, 1000).astype(np.int32)
    o = np.lexsort((node, np.repeat(np.arange(4), np.diff(ptr))))
    out = K._sort_seeds((ptr, node, dist, label))
    for got, want in zip(out, (ptr, node[o], dist[o], label[o]), strict=True):
        np.testing.assert_array_equal(got, want)
