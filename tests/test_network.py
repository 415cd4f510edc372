"""Walking network: reading OSM files, structure, clipped extracts, osmnx round trip, errors."""

from __future__ import annotations

import bz2
import warnings
from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import osmium
import pytest

from conftest import BEIJING, SAMPLE, SHARED, needs_shared
from fifteenmin import (
    InputFileError,
    NetworkError,
    OSMFileError,
    from_networkx,
    network_from_file,
    snap_points,
)
from fifteenmin._osm import is_walkable


def _check_structure(net):
    n = net.n_nodes
    assert net.indptr.shape == (n + 1,)
    assert net.indices.dtype == np.int32
    assert net.lengths.dtype == np.float64
    assert len(net.indices) == 2 * net.n_edges
    assert np.all(net.lengths >= 0)
    # symmetric: every arc has its reverse with the same length
    tail = np.repeat(np.arange(n), np.diff(net.indptr))
    fwd = sorted(
        zip(tail.tolist(), net.indices.tolist(), np.round(net.lengths, 9).tolist(), strict=True)
    )
    rev = sorted(
        zip(net.indices.tolist(), tail.tolist(), np.round(net.lengths, 9).tolist(), strict=True)
    )
    assert fwd == rev
    # one connected component (largest component kept)
    G = nx.Graph()
    G.add_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True))
    assert nx.number_connected_components(G) == 1
    assert G.number_of_nodes() == n
    # edge geometry length (projected) agrees with the geodesic length (UTM scale < 0.1 %)
    geom_len = np.array([g.length for g in net.edge_geometry])
    ok = net.edge_length > 1
    assert np.allclose(geom_len[ok], net.edge_length[ok], rtol=2e-3)
    # node ids are OSM ids and unique
    assert len(np.unique(net.node_id)) == n


def test_sample_network(sample_net):
    _check_structure(sample_net)
    assert sample_net.n_nodes > 2000
    assert sample_net.crs.to_epsg() == 32635  # UTM 35N for Helsinki
    assert "nodes" in sample_net.summary()


@needs_shared
def test_beijing_network(beijing_net):
    _check_structure(beijing_net)
    assert beijing_net.n_nodes > 300
    assert beijing_net.crs.to_epsg() == 32650


@needs_shared
@pytest.mark.parametrize(
    "name",
    [
        "fixtures/osmnx_west_oakland_2016.osm.bz2",
        "fixtures/osmnx_aguascalientes_2026.osm.pbf",
        "fixtures/osmnx_aguascalientes_2026.osm.bz2",
        "fixtures/pyogrio_sample_2012.osm.pbf",
    ],
)
def test_fixture_files_load(name):
    net = network_from_file(SHARED / name)
    _check_structure(net)


@needs_shared
def test_bz2_and_pbf_give_the_same_network():
    a = network_from_file(SHARED / "fixtures/osmnx_aguascalientes_2026.osm.bz2")
    b = network_from_file(SHARED / "fixtures/osmnx_aguascalientes_2026.osm.pbf")
    assert a.n_nodes == b.n_nodes and a.n_edges == b.n_edges
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_allclose(a.edge_length, b.edge_length, rtol=1e-7)


@needs_shared
def test_same_total_length_as_osmnx_walk_graph():
    """osmnx (graph_from_xml, then truncated to its own walk filter) as an independent oracle."""
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ox.graph_from_xml(BEIJING, simplify=False, retain_all=True)
    # keep the edges whose way passes osmnx's walk filter (the tags osmnx keeps on edges)
    keep = [
        (u, v, k)
        for u, v, k, d in G.edges(keys=True, data=True)
        if is_walkable(
            {
                key: str(d[key])
                for key in ("highway", "access", "area", "foot", "service")
                if key in d
            }
        )
    ]
    H = G.edge_subgraph(keep).to_undirected()
    # largest component, as fifteenmin keeps
    comp = max(nx.connected_components(H), key=len)
    H = H.subgraph(comp)
    seen = set()
    total = 0.0
    for u, v, d in H.edges(data=True):
        key = (min(u, v), max(u, v), d.get("osmid"))
        if key not in seen:
            seen.add(key)
            total += d["length"]
    # osmnx's walk rule exactly: pedestrian areas (squares) left out as osmnx leaves them out
    net = network_from_file(BEIJING, pedestrian_areas=False)
    assert net.edge_length.sum() == pytest.approx(total, rel=0.01)
    # the Beijing extract has no pedestrian areas: the default network is the same
    assert network_from_file(BEIJING).edge_length.sum() == net.edge_length.sum()


def _clip(src, dst, bbox):
    """Write an extract that drops nodes outside bbox but keeps every way (a clipped file)."""
    lon0, lat0, lon1, lat1 = bbox
    with osmium.SimpleWriter(str(dst)) as w:
        for o in osmium.FileProcessor(str(src)):
            if o.is_node():
                if lon0 <= o.location.lon <= lon1 and lat0 <= o.location.lat <= lat1:
                    w.add(o)
            else:
                w.add(o)


def test_clipped_extract_loads_with_warning(tmp_path):
    clipped = tmp_path / "clipped.osm.pbf"
    _clip(SAMPLE, clipped, (24.938, 60.166, 24.950, 60.174))
    with pytest.warns(
        UserWarning, match=r"walkable ways reference \d+ nodes that are not in the file"
    ):
        net = network_from_file(clipped)
    _check_structure(net)
    full = network_from_file(SAMPLE)
    assert 0 < net.n_nodes < full.n_nodes
    # every kept node lies inside the clip box
    assert net.lon.min() >= 24.938 - 1e-9 and net.lon.max() <= 24.950 + 1e-9


def test_networkx_round_trip(sample_net):
    G = sample_net.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    assert G.graph["crs"] == "epsg:4326"
    assert G.number_of_edges() == 2 * sample_net.n_edges - int(
        np.sum(sample_net.edge_u == sample_net.edge_v)
    )
    back = from_networkx(G)
    assert back.n_nodes == sample_net.n_nodes
    assert back.n_edges == sample_net.n_edges
    np.testing.assert_allclose(
        np.sort(back.edge_length), np.sort(sample_net.edge_length), rtol=1e-12
    )
    np.testing.assert_array_equal(np.sort(back.node_id), np.sort(sample_net.node_id))


def test_osmnx_accepts_exported_graph(sample_net):
    import osmnx as ox

    G = sample_net.to_networkx()
    nodes, edges = ox.convert.graph_to_gdfs(G)
    assert len(nodes) == sample_net.n_nodes
    assert edges["length"].sum() == pytest.approx(2 * sample_net.edge_length.sum(), rel=1e-3)
    Gp = ox.project_graph(G, to_crs=sample_net.crs)
    nid = ox.distance.nearest_nodes(Gp, float(sample_net.x[0]), float(sample_net.y[0]))
    assert nid == sample_net.node_id[0]
    path = ox.routing.shortest_path(
        G, int(sample_net.node_id[0]), int(sample_net.node_id[-1]), weight="length"
    )
    assert path is not None


def test_from_networkx_without_lengths_or_geometry():
    G = nx.Graph(crs="EPSG:4326")
    G.add_node(1, x=116.0, y=40.0)
    G.add_node(2, x=116.001, y=40.0)
    G.add_node(3, x=116.001, y=40.001)
    G.add_edge(1, 2)
    G.add_edge(2, 3)
    net = from_networkx(G)
    assert net.n_edges == 2
    # 0.001 degree of longitude at 40 N is about 85.4 m; of latitude about 111.0 m
    assert sorted(np.round(net.edge_length, 0)) == [85.0, 111.0]


def test_snap_points_onto_edges(sample_net):
    e = 10
    g = sample_net.edge_geometry[e]
    p = g.interpolate(0.25, normalized=True)
    snap = snap_points(sample_net, np.array([[p.x, p.y + 0.0]]))
    # the point lies on edge e (or on an edge crossing at the same spot)
    assert snap.access[0] == pytest.approx(0.0, abs=1e-6)
    if snap.edge[0] == e:
        assert snap.offset[0] == pytest.approx(0.25 * sample_net.edge_length[e], rel=1e-3)


def test_missing_file():
    with pytest.raises(InputFileError, match="not found"):
        network_from_file("/nonexistent/city.osm.pbf")


def test_not_osm_data(tmp_path):
    bad = tmp_path / "notes.osm"
    bad.write_text("this is not xml at all\n")
    with pytest.raises(OSMFileError, match="could not be read as OpenStreetMap data"):
        network_from_file(bad)
    wrong = tmp_path / "city.geojson"
    wrong.write_text("{}")
    with pytest.raises(OSMFileError, match="does not look like an OpenStreetMap file"):
        network_from_file(wrong)
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(OSMFileError, match="empty"):
        network_from_file(empty)
    garbage = tmp_path / "garbage.osm.bz2"
    garbage.write_bytes(bz2.compress(b"<html>not osm</html>"))
    with pytest.raises(OSMFileError):
        network_from_file(garbage)


def test_osm_without_walkable_ways(tmp_path):
    f = tmp_path / "nodes_only.osm"
    f.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="40.0" lon="116.0" version="1"/>\n'
        '<node id="2" lat="40.001" lon="116.0" version="1"/>\n'
        '<way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>\n'
        "</osm>\n"
    )
    with pytest.raises(NetworkError, match="no walkable ways"):
        network_from_file(f)


def test_edge_and_arc_order_equal_lexsort():
    """The network's edge and arc orders (sorts on one integer key, ties fixed up) are those
    of np.lexsort on the separate keys, ties and self-loops included."""
    from fifteenmin.network import _arcs, _edge_order

    rng = np.random.default_rng(7)
    n, m = 40, 3000  # few nodes: many parallel edges, self-loops, equal lengths
    eu = rng.integers(0, n, m).astype(np.int32)
    ev = rng.integers(0, n, m).astype(np.int32)
    elen = rng.integers(0, 4, m).astype(np.float64)
    eway = rng.integers(0, 3, m).astype(np.int64)
    assert np.array_equal(_edge_order(eu, ev, elen, eway, n), np.lexsort((eway, elen, ev, eu)))
    indptr, head, arc_len, arc_edge = _arcs(n, eu, ev, elen)
    tail = np.concatenate([eu, ev])
    want_head = np.concatenate([ev, eu])
    want_edge = np.concatenate([np.arange(m), np.arange(m)])
    order = np.lexsort((want_edge, want_head, tail))
    assert np.array_equal(head, want_head[order])
    assert np.array_equal(arc_edge, want_edge[order]) and arc_edge.dtype == np.int32
    assert np.array_equal(arc_len, np.concatenate([elen, elen])[order])
    assert np.array_equal(indptr, np.r_[0, np.cumsum(np.bincount(tail, minlength=n))])


def test_packed_sorts_equal_numpy():
    """The packed-key sorts are numpy's stable argsort, lexsort and unique: keys that pack
    with their positions, pairs that need two passes, and keys too wide to pack."""
    from fifteenmin.network import _order_by, _stable_order, _unique_ids

    rng = np.random.default_rng(3)
    for n, m in [(40, 3000), (1 << 21, 5000), (1 << 40, 5000), (5, 0), (1, 4)]:
        a = rng.integers(0, n, m)
        b = rng.integers(0, n, m).astype(np.int32)
        assert np.array_equal(_stable_order(a, n), np.argsort(a, kind="stable"))
        assert np.array_equal(_order_by(a, b, n), np.lexsort((b, a)))
    wide = np.array([-(2**62), 2**62, 5, -(2**62)])
    for ids in [rng.integers(-5, 10**10, 20000)[rng.integers(0, 20000, 30000)], wide, wide[:0]]:
        got = _unique_ids(ids)
        want = np.unique(ids, return_inverse=True, return_counts=True)
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w) and g.dtype == w.dtype


def test_segment_lengths_in_halves_equal_one_call():
    """The geodesic segment lengths measured in two halves are those of one call."""
    from fifteenmin.network import _GEOD, _segment_lengths

    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 1001):
        lon, lat = 116 + rng.random(n) / 100, 40 + rng.random(n) / 100
        with ThreadPoolExecutor(max_workers=2) as pool:
            got = np.concatenate([np.asarray(f.result()) for f in _segment_lengths(pool, lon, lat)])
        assert np.array_equal(got, np.asarray(_GEOD.line_lengths(lon, lat)))
