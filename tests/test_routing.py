"""Travel times against an independent oracle: networkx multi-source Dijkstra."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from conftest import needs_shared
from fifteenmin import facilities_from_osm, load_catalogue, origin_times, snap_points, travel_times
from fifteenmin.facilities import entrances_from_osm


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
