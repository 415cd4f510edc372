"""Travel times and the walking-time rule against an independent oracle: networkx Dijkstra."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import needs_shared
from fifteenmin import (
    facilities_from_osm,
    from_networkx,
    load_catalogue,
    origin_times,
    snap_points,
    travel_times,
)
from fifteenmin.facilities import entrances_from_osm
from fifteenmin.network import SnapResult
from fifteenmin.routing import (
    along_edge,
    edge_seeds,
    end_legs,
    reach_walks,
    reachable,
    rule_metres,
)


def _oracle(net, tt, k):
    """networkx distances for item k: a virtual source per facility, arcs to the seeded ends."""
    G = nx.DiGraph()
    for u, v, w in zip(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True
    ):
        for a, b in ((u, v), (v, u)):
            if a == b:
                continue
            if not G.has_edge(a, b) or G[a][b]["weight"] > w:
                G.add_edge(a, b, weight=w)
    acc = tt.access[tt.access["item"] == k]
    sources = []
    for f, e, s, a in zip(acc["facility"], acc["edge"], acc["offset"], acc["access"], strict=True):
        src = ("fac", int(f))
        sources.append(src)
        L = net.edge_length[e]
        for node, d in ((net.edge_u[e], a + s), (net.edge_v[e], a + L - s)):
            if not G.has_edge(src, node) or G[src][node]["weight"] > d:
                G.add_edge(src, int(node), weight=float(d))
    if not sources:
        return np.full(net.n_nodes, np.inf)
    dist = nx.multi_source_dijkstra_path_length(
        G, set(sources), cutoff=tt.cutoff_m[k], weight="weight"
    )
    out = np.full(net.n_nodes, np.inf)
    for node, d in dist.items():
        if not isinstance(node, tuple):
            out[node] = d
    return out


def _compare(net, data, engine):
    cat = load_catalogue("beijing")
    fac = facilities_from_osm(data, cat)
    tt = travel_times(net, fac, cat, entrances=entrances_from_osm(data), engine=engine)
    checked = 0
    for k in range(len(cat.items)):
        ref = _oracle(net, tt, k)
        got = tt.metres[k]
        assert np.array_equal(np.isfinite(ref), np.isfinite(got)), cat.items[k].id
        fin = np.isfinite(ref)
        if fin.any():
            np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=0)
            checked += 1
        # the label points at a facility of this item
        lab = tt.facility[k][fin]
        assert np.all(lab >= 0)
        assert set(tt.facilities.iloc[np.unique(lab)]["item_id"]) <= {cat.items[k].id}
    assert checked >= 5
    return tt


@pytest.mark.parametrize("engine", ["scipy", "numba"])
def test_node_times_equal_networkx_on_sample(sample_net, sample_data, engine):
    _compare(sample_net, sample_data, engine)


@needs_shared
@pytest.mark.parametrize("engine", ["scipy", "numba"])
def test_node_times_equal_networkx_on_beijing(beijing_net, beijing_data, engine):
    _compare(beijing_net, beijing_data, engine)


def test_origin_times_brute_force(sample_net, sample_data):
    """Origins on edges: compare with networkx from a virtual origin node to virtual facilities."""
    cat = load_catalogue("beijing")
    fac = facilities_from_osm(sample_data, cat)
    tt = travel_times(sample_net, fac, cat)
    rng = np.random.default_rng(7)
    net = sample_net
    xs = rng.uniform(net.x.min(), net.x.max(), 25)
    ys = rng.uniform(net.y.min(), net.y.max(), 25)
    pts = np.column_stack([xs, ys])
    minutes, which = origin_times(net, tt, pts)
    snap = snap_points(net, pts)
    G = nx.Graph()
    for u, v, w in zip(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True
    ):
        if u != v and (not G.has_edge(u, v) or G[u][v]["weight"] > w):
            G.add_edge(u, v, weight=w)
    for k, item in enumerate(cat.items):
        acc = tt.access[tt.access["item"] == k]
        if len(acc) == 0:
            assert np.all(np.isinf(minutes[:, k]))
            continue
        for o in range(len(pts)):
            e, s, a = snap.edge[o], snap.offset[o], snap.access[o]
            L = net.edge_length[e]
            H = G.copy()
            H.add_edge("o", int(net.edge_u[e]), weight=a + s)
            H.add_edge(
                "o",
                int(net.edge_v[e]),
                weight=min(a + L - s, H["o"][int(net.edge_v[e])]["weight"])
                if H.has_edge("o", int(net.edge_v[e]))
                else a + L - s,
            )
            d = nx.single_source_dijkstra_path_length(H, "o", weight="weight")
            best = np.inf
            for fe, fs, fa in zip(acc["edge"], acc["offset"], acc["access"], strict=True):
                FL = net.edge_length[fe]
                via = (
                    min(
                        d.get(int(net.edge_u[fe]), np.inf) + fs,
                        d.get(int(net.edge_v[fe]), np.inf) + FL - fs,
                    )
                    + fa
                )
                if fe == e:
                    via = min(via, a + abs(s - fs) + fa)
                best = min(best, via)
            expect = best / tt.speed[k] / 60 if best <= tt.cutoff_m[k] else np.inf
            if np.isinf(expect):
                assert np.isinf(minutes[o, k])
            else:
                assert minutes[o, k] == pytest.approx(expect, rel=1e-9), (item.id, o)
                assert which[o, k] >= 0


# --------------------------------------------------------------------------------------------
# the walking-time rule itself (routing.end_legs, along_edge, rule_metres, reach_walks)

X0, Y0 = 440_000.0, 4_420_000.0  # UTM zone 50N: the tiny networks keep this CRS
GRID = 3  # nodes per side
SPACING = 100.0


def _grid_edges():
    return [
        ((i, j), (i + di, j + dj))
        for i in range(GRID)
        for j in range(GRID)
        for di, dj in ((1, 0), (0, 1))
        if i + di < GRID and j + dj < GRID
    ]


def _tiny_net(lengths):
    """A 3 x 3 street grid whose edges have the given lengths (not their drawn ones)."""
    G = nx.MultiGraph(crs="EPSG:32650")
    for i in range(GRID):
        for j in range(GRID):
            G.add_node(i * GRID + j + 1, x=X0 + i * SPACING, y=Y0 + j * SPACING)
    for k, ((a, b), (c, d)) in enumerate(_grid_edges()):
        geom = shapely.LineString(
            [(X0 + a * SPACING, Y0 + b * SPACING), (X0 + c * SPACING, Y0 + d * SPACING)]
        )
        G.add_edge(a * GRID + b + 1, c * GRID + d + 1, geometry=geom, length=lengths[k])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_networkx(G)


def _brute_walk(net, p, i, q, j):
    """networkx: point i of ``p`` and point j of ``q`` as virtual nodes joined to their edges."""
    G = nx.Graph()
    for u, v, w in zip(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True
    ):
        if u != v and (not G.has_edge(u, v) or G[u][v]["weight"] > w):
            G.add_edge(u, v, weight=w)

    def join(a, b, w):
        if not G.has_edge(a, b) or G[a][b]["weight"] > w:
            G.add_edge(a, b, weight=w)

    for name, snap, k in (("p", p, i), ("q", q, j)):
        e, s, a = snap.edge[k], snap.offset[k], snap.access[k]
        join(name, int(net.edge_u[e]), a + s)
        join(name, int(net.edge_v[e]), a + net.edge_length[e] - s)
    if p.edge[i] == q.edge[j]:
        join("p", "q", p.access[i] + abs(p.offset[i] - q.offset[j]) + q.access[j])
    return nx.shortest_path_length(G, "p", "q", weight="weight")


_xy = st.tuples(st.floats(-30.0, 230.0), st.floats(-30.0, 230.0))


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.floats(20.0, 400.0), min_size=12, max_size=12),
    sources=st.lists(_xy, min_size=1, max_size=4),
    points=st.lists(_xy, min_size=1, max_size=5),
    cutoff=st.floats(30.0, 900.0),
    home=st.sampled_from(["points", "sources"]),
)
def test_reach_walks_equal_networkx_on_a_tiny_grid(lengths, sources, points, cutoff, home):
    net = _tiny_net(lengths)
    origin = np.array([X0, Y0])
    src_xy = np.array(sources) + origin
    # some points on the sources' streets, to exercise the straight walk along a shared edge
    pt_xy = np.vstack([np.array(points) + origin, src_xy + np.array([3.0, -2.0])])
    reach = reachable(net, src_xy, cutoff, max_snap_m=1e9)
    snap = snap_points(net, pt_xy)
    s, p, metres = reach_walks(net, reach, snap, home=home)
    assert np.all(np.diff(s * len(snap) + p) > 0)  # sorted by source, then point, no repeats
    got = {(int(a), int(b)): m for a, b, m in zip(s, p, metres, strict=True)}
    for i in range(len(src_xy)):
        for j in range(len(pt_xy)):
            want = _brute_walk(net, reach.snap, i, snap, j)
            if want <= cutoff * (1 - 1e-9):
                # every walk within the cutoff is found, and measured right
                assert got[(i, j)] == pytest.approx(want, rel=1e-9), (i, j)
            elif (i, j) in got:
                # beyond it a pair may appear (an end node was reached), never too short
                assert got[(i, j)] >= want * (1 - 1e-9)


def test_rule_metres_ties_and_routes():
    legs = np.array([[1.0, 1.0], [2.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    at_ends = np.array([[5.0, 5.0], [5.0, 5.0], [5.0, 5.0], [np.inf, np.inf]])
    straight = np.array([np.inf, 6.0, 5.0, np.inf])
    metres, route = rule_metres(legs, at_ends, straight)
    assert metres.tolist() == [6.0, 6.0, 5.0, np.inf]
    # u wins a tie with v, the network wins a tie with the straight walk
    assert route.tolist() == [0, 1, 2, 0]
    # broadcasting: (items, points, 2) distances against (points, 2) legs
    m2, r2 = rule_metres(legs, np.stack([at_ends, at_ends + 1.0]))
    assert m2.shape == (2, 4) and m2[1, 0] == 7.0 and r2.dtype == np.int8


def test_along_edge_pairs_every_shared_edge():
    rng = np.random.default_rng(3)
    a = SnapResult(rng.integers(0, 4, 30), rng.uniform(0, 50, 30), rng.uniform(0, 9, 30))
    b = SnapResult(rng.integers(0, 4, 20), rng.uniform(0, 50, 20), rng.uniform(0, 9, 20))
    hi, oi, m = along_edge(a, b)
    want = [
        (i, j, a.access[i] + abs(a.offset[i] - b.offset[j]) + b.access[j])
        for i in range(30)
        for j in range(20)
        if a.edge[i] == b.edge[j]
    ]
    assert list(zip(hi.tolist(), oi.tolist(), m.tolist(), strict=True)) == want


def test_end_legs_and_edge_seeds(sample_net):
    pts = np.column_stack([sample_net.x[:5] + 7.0, sample_net.y[:5] - 3.0])
    snap = snap_points(sample_net, pts)
    node, metres = end_legs(sample_net, snap)
    L = sample_net.edge_length[snap.edge]
    np.testing.assert_array_equal(node[:, 0], sample_net.edge_u[snap.edge])
    np.testing.assert_array_equal(metres[:, 1], snap.access + (L - snap.offset))
    seed_node, seed_dist = edge_seeds(sample_net, snap.edge, snap.offset, snap.access)
    np.testing.assert_array_equal(seed_node, node.ravel())
    np.testing.assert_array_equal(seed_dist, metres.ravel())


def test_origin_times_agree_with_reach_walks(sample_net, sample_data):
    """Two uses of the one rule: nearest facility (travel_times) and bounded searches."""
    cat = load_catalogue("beijing")
    tt = travel_times(sample_net, facilities_from_osm(sample_data, cat), cat)
    rng = np.random.default_rng(11)
    net = sample_net
    pts = np.column_stack(
        [rng.uniform(net.x.min(), net.x.max(), 40), rng.uniform(net.y.min(), net.y.max(), 40)]
    )
    minutes, _ = origin_times(net, tt, pts)
    acc = tt.access
    access = SnapResult(acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy())
    reach = reachable(net, pts, float(tt.cutoff_m.max()))
    o, a, metres = reach_walks(net, reach, access, home="sources")
    k = acc["item"].to_numpy()[a]
    best = np.full((len(pts), len(tt.items)), np.inf)
    np.minimum.at(best, (o, k), metres)
    best[best > tt.cutoff_m[None, :]] = np.inf
    want = best / tt.speed[None, :] / 60.0
    fin = np.isfinite(want)
    assert fin.sum() > 100
    np.testing.assert_array_equal(np.isfinite(minutes), fin)
    np.testing.assert_allclose(minutes[fin], want[fin], rtol=1e-9)
