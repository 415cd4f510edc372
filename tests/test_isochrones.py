"""Isochrone polygons against a brute-force construction (networkx + shapely substring).

The reference (:func:`_reference_pieces`) is deliberately plain: networkx Dijkstra from a
virtual source joined to both ends of every origin's edge, then one Python loop over the edges
that lists the reached intervals, merges them and cuts them out with
``shapely.ops.substring``. Snapping uses the library's :func:`fifteenmin.snap_points` (tested
in test_network.py). No test here measures time.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.ops import substring

from fifteenmin import from_networkx, snap_points
from fifteenmin import settings as fm_settings
from fifteenmin.isochrones import (
    _substrings,
    facility_isochrones,
    walking_areas,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
needs_shared_dir = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared is not here (only the in-repo sample is)"
)

X0, Y0 = 440_000.0, 4_420_000.0  # UTM zone 50N (Beijing): the network keeps this CRS
CRS = "EPSG:32650"


# --------------------------------------------------------------------------------------------
# helpers


def _net(edges, coords, lengths=None):
    """WalkNetwork from ``edges`` [(a, b, [interior (x, y), ...]), ...] in local metres."""
    G = nx.MultiGraph(crs=CRS)
    for k, (x, y) in coords.items():
        G.add_node(k, x=X0 + x, y=Y0 + y)
    for i, (a, b, mid) in enumerate(edges):
        pts = [coords[a], *mid, coords[b]]
        geom = shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])
        length = geom.length if lengths is None else lengths[i]
        G.add_edge(a, b, geometry=geom, length=float(length), osmid=1000 + i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_networkx(G)


def _grid(n=4, spacing=100.0, drop=()):
    coords = {(i, j): (i * spacing, j * spacing) for i in range(n) for j in range(n)}
    edges = []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                a, b = (i, j), (i + di, j + dj)
                if b in coords and (a, b) not in drop:
                    edges.append((a, b, []))
    return _net(edges, coords)


def _xy(*pts):
    return np.array([(X0 + x, Y0 + y) for x, y in pts], dtype=np.float64)


def _node_distances(net, snap):
    """networkx distances from a virtual source joined to both ends of every origin's edge."""
    G = nx.MultiGraph()
    G.add_nodes_from(range(net.n_nodes))
    for u, v, w in zip(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist(), strict=True
    ):
        G.add_edge(u, v, weight=w)
    for e, s, a in zip(snap.edge.tolist(), snap.offset.tolist(), snap.access.tolist(), strict=True):
        L = float(net.edge_length[e])
        G.add_edge("o", int(net.edge_u[e]), weight=a + s)
        G.add_edge("o", int(net.edge_v[e]), weight=a + (L - s))
    d = nx.single_source_dijkstra_path_length(G, "o", weight="weight")
    out = np.full(net.n_nodes, np.inf)
    for k, v in d.items():
        if k != "o":
            out[k] = v
    return out


def _reference_pieces(net, snap, dist, D):
    """Reached pieces of every edge within ``D`` metres (a plain loop over the edges)."""
    own: dict[int, list[tuple[float, float]]] = {}
    for e, s, a in zip(snap.edge.tolist(), snap.offset.tolist(), snap.access.tolist(), strict=True):
        own.setdefault(e, []).append((s, a))
    pieces = []
    for e in range(net.n_edges):
        u, v, L = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        iv = []
        if dist[u] <= D:
            iv.append((0.0, min(D - dist[u], L)))
        if dist[v] <= D:
            iv.append((max(L - (D - dist[v]), 0.0), L))
        for s, a in own.get(e, []):
            if a <= D:
                iv.append((max(s - (D - a), 0.0), min(s + (D - a), L)))
        if not iv:
            continue
        iv.sort()
        merged = [list(iv[0])]
        for lo, hi in iv[1:]:
            if lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        geom = net.edge_geometry[e]
        for lo, hi in merged:
            if lo <= 0.0 and hi >= L:
                pieces.append(geom)
            else:
                scale = geom.length / L
                pieces.append(substring(geom, lo * scale, hi * scale))
    return np.array(pieces, dtype=object)


def _reference_polygon(
    net, xy, minutes, speed=fm_settings.WALK_SPEED_M_S, buffer_m=fm_settings.ISOCHRONE_BUFFER_M
):
    snap = snap_points(net, xy)
    dist = _node_distances(net, snap)
    pieces = _reference_pieces(net, snap, dist, minutes * 60.0 * speed)
    if len(pieces) == 0:
        return shapely.Polygon()
    return shapely.union_all(
        shapely.buffer(pieces, buffer_m, quad_segs=fm_settings.ISOCHRONE_QUAD_SEGS)
    )


def _assert_same_area(got, ref, rel=1e-6):
    scale = max(ref.area, 1.0)
    assert abs(got.area - ref.area) <= rel * scale, (got.area, ref.area)
    assert shapely.symmetric_difference(got, ref).area <= rel * scale


def _n_holes(geom):
    return sum(len(p.interiors) for p in shapely.get_parts(geom))


# --------------------------------------------------------------------------------------------
# output structure


def test_output_frame(sample_net):
    net = sample_net
    pts = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=gpd.points_from_xy(net.x[[10, 500]] + 5.0, net.y[[10, 500]]),
        crs=net.crs,
        index=["home", "work"],
    ).to_crs("EPSG:4326")
    iso = walking_areas(net, pts, minutes=(15, 5, 10, 5))
    assert list(iso.columns) == ["origin", "minutes", "geometry"]
    assert iso.crs == net.crs
    assert iso["origin"].tolist() == ["home"] * 3 + ["work"] * 3
    assert iso["minutes"].tolist() == [5, 10, 15] * 2
    assert set(iso.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (iso.area > 0).all()

    merged = walking_areas(net, pts, minutes=10, merge=True)
    assert merged["origin"].tolist() == ["all"]
    assert merged["minutes"].tolist() == [10]

    xy = walking_areas(net, np.column_stack([net.x[:3], net.y[:3]]), minutes=5)
    assert xy["origin"].tolist() == [0, 1, 2]
    one = walking_areas(net, shapely.Point(net.x[0], net.y[0]), minutes=5)
    _assert_same_area(one.geometry.iloc[0], xy.geometry.iloc[0], rel=0)


def test_empty_and_unreachable(sample_net):
    net = sample_net
    empty = walking_areas(net, np.zeros((0, 2)))
    assert len(empty) == 0 and list(empty.columns) == ["origin", "minutes", "geometry"]
    empty = walking_areas(net, np.zeros((0, 2)), merge=True)
    assert empty["origin"].tolist() == ["all"] * 3 and empty.geometry.is_empty.all()
    # 10 km from every street: beyond max_snap_m, nothing is reached
    e = 0
    mid = net.edge_geometry[e].interpolate(0.5, normalized=True)
    far = walking_areas(net, [[mid.x + 1e4, mid.y + 1e4]], minutes=(1, 15), speed=1.0)
    assert far.geometry.is_empty.all()
    far = walking_areas(net, [[mid.x + 1e4, mid.y + 1e4]], minutes=(1, 15), merge=True)
    assert far.geometry.is_empty.all()
    some = walking_areas(net, [[mid.x + 1e4, mid.y + 1e4], [mid.x, mid.y]], 15, merge=True)
    alone = walking_areas(net, [[mid.x, mid.y]], 15)
    _assert_same_area(some.geometry.iloc[0], alone.geometry.iloc[0])
    with pytest.raises(ValueError, match="minutes"):
        walking_areas(net, [[mid.x, mid.y]], minutes=(-5, 10))
    with pytest.raises(ValueError, match="buffer_m"):
        walking_areas(net, [[mid.x, mid.y]], buffer_m=0)


def test_single_origin_too_far_for_the_band():
    net = _grid(3)
    iso = walking_areas(net, _xy((50, -80)), minutes=(1, 2), speed=1.0)  # 80 m off the street
    assert iso.geometry.iloc[0].is_empty  # 60 m: does not reach the street
    assert not iso.geometry.iloc[1].is_empty  # 120 m: 40 m either way along the street
    _assert_same_area(iso.geometry.iloc[1], _reference_polygon(net, _xy((50, -80)), 2, 1.0))


# --------------------------------------------------------------------------------------------
# brute force


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("minutes", [0.5, 1.7, 2.5, 4.0, 20.0])
def test_grid_equals_brute_force(minutes, merge):
    net = _grid(4, drop={((1, 1), (2, 1)), ((1, 2), (1, 3))})
    origins = _xy((37.0, -6.0), (260.0, 150.0)) if merge else _xy((37.0, -6.0))
    got = walking_areas(net, origins, minutes, speed=1.5, buffer_m=12.0, merge=merge)
    ref = _reference_polygon(net, origins, minutes, speed=1.5, buffer_m=12.0)
    _assert_same_area(got.geometry.iloc[0], ref)


@st.composite
def small_graphs(draw):
    """A connected graph of 3-9 nodes, polyline streets, lengths 1-1.3 x their geometry."""
    n = draw(st.integers(3, 9))
    cells = draw(st.lists(st.integers(0, 399), min_size=n, max_size=n, unique=True))
    coords = {i: (float(c % 20) * 30.0, float(c // 20) * 30.0) for i, c in enumerate(cells)}
    pairs = [(i, draw(st.integers(0, i - 1))) for i in range(1, n)]  # spanning tree
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))
    pairs += [(a, b) for a, b in extra if a != b]
    edges, lengths = [], []
    for a, b in pairs:
        k = draw(st.integers(0, 2))
        (xa, ya), (xb, yb) = coords[a], coords[b]
        mid = []
        for j in range(k):
            t = (j + 1) / (k + 1)
            dx, dy = draw(st.floats(-40, 40)), draw(st.floats(-40, 40))
            mid.append((xa + t * (xb - xa) + dx, ya + t * (yb - ya) + dy))
        geom = shapely.LineString([coords[a], *mid, coords[b]])
        edges.append((a, b, mid))
        lengths.append(geom.length * draw(st.floats(1.0, 1.3)))
    origins = draw(
        st.lists(st.tuples(st.floats(-50, 620), st.floats(-50, 620)), min_size=1, max_size=3)
    )
    metres = sorted(draw(st.lists(st.floats(5, 900), min_size=1, max_size=3, unique=True)))
    buffer_m = draw(st.floats(2.0, 40.0))
    return edges, coords, lengths, origins, metres, buffer_m


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(small_graphs())
def test_random_graphs_equal_brute_force(case):
    edges, coords, lengths, origins, metres, buffer_m = case
    net = _net(edges, coords, lengths)
    xy = _xy(*origins)
    minutes = [m / 60.0 for m in metres]
    # the reference has no snapping limit: lift it (an origin exactly max_snap_m = 500 m away,
    # as hypothesis found, is in or out by a rounding of the access distance)
    kw = {"speed": 1.0, "buffer_m": buffer_m, "max_snap_m": np.inf}
    sep = walking_areas(net, xy, minutes, **kw)
    merged = walking_areas(net, xy, minutes, merge=True, **kw)
    for b, m in enumerate(minutes):
        for o in range(len(xy)):
            ref = _reference_polygon(net, xy[o : o + 1], m, speed=1.0, buffer_m=buffer_m)
            _assert_same_area(sep.geometry.iloc[o * len(minutes) + b], ref)
        ref = _reference_polygon(net, xy, m, speed=1.0, buffer_m=buffer_m)
        _assert_same_area(merged.geometry.iloc[b], ref)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=2, max_size=7),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_substrings_equal_shapely_substring(pts, a, b):
    line = shapely.LineString(pts)
    if line.length == 0:
        return
    f0, f1 = min(a, b), max(a, b)
    got = _substrings(np.array([line]), np.array([0]), np.array([f0]), np.array([f1]))[0]
    ref = substring(line, f0, f1, normalized=True)  # a Point when f0 == f1
    tol = 1e-9 * max(line.length, 1.0)
    assert abs(got.length - ref.length) <= tol
    with np.errstate(all="ignore"):  # GEOS warns on repeated vertices
        assert shapely.hausdorff_distance(got, ref) <= tol


# --------------------------------------------------------------------------------------------
# geometry properties on the sample


def _sample_origins(net, k=3, seed=1):
    rng = np.random.default_rng(seed)
    e = rng.choice(net.n_edges, k, replace=False)
    p = shapely.line_interpolate_point(net.edge_geometry[e], rng.uniform(0, 1, k), normalized=True)
    return np.column_stack([shapely.get_x(p) + rng.uniform(-20, 20, k), shapely.get_y(p)])


def _times_along(net, snap, dist, fractions):
    """Points along every edge and their walking distance (min over ends and own edges)."""
    m = net.n_edges
    L = net.edge_length
    t = np.outer(L, fractions)  # (m, k) metres from u
    d = np.minimum(dist[net.edge_u][:, None] + t, dist[net.edge_v][:, None] + (L[:, None] - t))
    for e, s, a in zip(snap.edge.tolist(), snap.offset.tolist(), snap.access.tolist(), strict=True):
        d[e] = np.minimum(d[e], a + np.abs(t[e] - s))
    pts = shapely.line_interpolate_point(
        np.repeat(net.edge_geometry, len(fractions)), np.tile(fractions, m), normalized=True
    )
    return pts, d.ravel()


def test_sample_reached_nodes_and_edge_points_inside(sample_net):
    net = sample_net
    xy = _sample_origins(net)
    bands = (3, 5, 10, 15)
    iso = walking_areas(net, xy, bands)
    nodes = shapely.points(net.x, net.y)
    fractions = np.linspace(0.0, 1.0, 9)
    for o in range(len(xy)):
        snap = snap_points(net, xy[o : o + 1])
        dist = _node_distances(net, snap)
        pts, d = _times_along(net, snap, dist, fractions)
        for b, minutes in enumerate(bands):
            poly = iso.geometry.iloc[o * len(bands) + b]
            D = minutes * 60.0 * fm_settings.WALK_SPEED_M_S
            inside = dist <= D
            assert inside.sum() > 0
            assert shapely.dwithin(poly, nodes[inside], 1e-6).all()
            reached = d <= D
            assert shapely.dwithin(poly, pts[reached], 1e-6).all()


def test_sample_far_nodes_outside(sample_net):
    # A node slower than T is not necessarily outside the T polygon, even if slower than
    # T + buffer / speed: a parallel street 30 m from a reached one, but with no connection
    # nearby, has large times and still lies inside the buffer of the reached street. The
    # geometric statement is: farther than buffer_m from every reached piece => outside.
    net = sample_net
    xy = _sample_origins(net, seed=2)
    bands = (5, 10)
    iso = walking_areas(net, xy, bands)
    nodes = shapely.points(net.x, net.y)
    checked = 0
    for o in range(len(xy)):
        snap = snap_points(net, xy[o : o + 1])
        dist = _node_distances(net, snap)
        for b, minutes in enumerate(bands):
            poly = iso.geometry.iloc[o * len(bands) + b]
            D = minutes * 60.0 * fm_settings.WALK_SPEED_M_S
            pieces = _reference_pieces(net, snap, dist, D)
            tree = shapely.STRtree(pieces)
            slow = np.flatnonzero(dist > D)
            near = np.unique(tree.query(nodes[slow], predicate="dwithin", distance=25.0)[0])
            far = np.setdiff1d(np.arange(len(slow)), near)
            assert len(far) > 0
            assert not shapely.intersects(poly, nodes[slow[far]]).any()
            # and a node slower than T but near a reached piece can be inside (parallel streets)
            checked += len(far)
    assert checked > 100


def test_sample_equals_brute_force(sample_net):
    net = sample_net
    xy = _sample_origins(net, k=2, seed=3)
    iso = walking_areas(net, xy, (5, 15))
    for o in range(2):
        for b, minutes in enumerate((5, 15)):
            ref = _reference_polygon(net, xy[o : o + 1], minutes)
            _assert_same_area(iso.geometry.iloc[o * 2 + b], ref)


def test_bands_are_nested(sample_net):
    net = sample_net
    xy = _sample_origins(net, k=4, seed=4)
    iso = walking_areas(net, xy, (2, 5, 10, 15))
    polys = iso.geometry.to_numpy().reshape(len(xy), 4)
    for row in polys:
        for small, big in itertools.pairwise(row):
            # nested up to float noise of the overlay (and, in principle, a cut end's polygonal
            # cap could poke out of the larger band's buffer at a bend by a sliver)
            diff = small.difference(big)
            assert diff.area <= 1e-6 * small.area
            if not diff.is_empty:
                vertices = shapely.points(shapely.get_coordinates(diff))
                assert shapely.distance(vertices, big).max() <= 1e-3
            assert big.area >= small.area


def test_merged_equals_union_of_separate(sample_net):
    net = sample_net
    xy = _sample_origins(net, k=6, seed=5)
    bands = (5, 10, 15)
    sep = walking_areas(net, xy, bands)
    merged = walking_areas(net, xy, bands, merge=True)
    for b in range(len(bands)):
        union = shapely.union_all(sep.geometry.to_numpy()[b :: len(bands)])
        _assert_same_area(merged.geometry.iloc[b], union)


def test_engines_agree(sample_net):
    xy = _sample_origins(sample_net, k=2, seed=6)
    a = walking_areas(sample_net, xy, (5, 10), engine="scipy")
    b = walking_areas(sample_net, xy, (5, 10), engine="auto")
    for ga, gb in zip(a.geometry, b.geometry, strict=True):
        _assert_same_area(ga, gb, rel=1e-12)


# --------------------------------------------------------------------------------------------
# holes


def test_ring_road_keeps_its_hole():
    coords = {"a": (0.0, 0.0), "b": (400.0, 0.0), "c": (400.0, 400.0), "d": (0.0, 400.0)}
    ring = [("a", "b", []), ("b", "c", []), ("c", "d", []), ("d", "a", [])]
    net = _net(ring, coords)
    iso = walking_areas(net, _xy((200.0, -10.0)), minutes=(3, 15), speed=1000 / 900)
    small, full = iso.geometry
    # 3 minutes = 200 m: part of the ring, no hole yet
    assert _n_holes(small) == 0
    # 15 minutes = 1,000 m: the whole ring (1,600 m, 800 m each way), the block is a hole
    assert full.geom_type == "Polygon" and _n_holes(full) == 1
    hole = shapely.Polygon(full.interiors[0])
    assert hole.area == pytest.approx(350.0**2, rel=1e-3)
    centre = shapely.Point(X0 + 200.0, Y0 + 200.0)
    assert not full.intersects(centre)
    assert full.contains(shapely.Point(X0 + 200.0, Y0 + 390.0))  # the far side of the ring
    _assert_same_area(full, _reference_polygon(net, _xy((200.0, -10.0)), 15))


def test_grid_blocks_are_holes():
    net = _grid(4, spacing=120.0)
    iso = walking_areas(net, _xy((180.0, 180.0)), minutes=30, buffer_m=20.0)
    assert _n_holes(iso.geometry.iloc[0]) == 9  # every 120 m block: 80 x 80 m hole


# --------------------------------------------------------------------------------------------
# facilities


def test_facility_isochrones_equal_merged_access_points(sample_net, sample_data):
    from fifteenmin import facilities_from_osm, load_catalogue, travel_times
    from fifteenmin.facilities import access_points

    net = sample_net
    cat = load_catalogue("beijing")
    fac = facilities_from_osm(sample_data, cat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = travel_times(net, fac, cat)
    counts = tt.access.groupby("item")["facility"].nunique()
    few = [k for k, c in counts.items() if 1 <= c <= 8][:3]
    assert few
    for k in few:
        item = tt.item_ids[k]
        got = facility_isochrones(net, tt, item, (5, 10, 15))
        assert list(got.columns) == ["item_id", "minutes", "geometry"]
        assert got["item_id"].tolist() == [item] * 3
        rows = tt.facilities.iloc[np.unique(tt.access.loc[tt.access["item"] == k, "facility"])]
        pts = access_points(rows, net.crs)
        ref = walking_areas(
            net, pts[["x", "y"]].to_numpy(), (5, 10, 15), speed=float(tt.speed[k]), merge=True
        )
        for g, r in zip(got.geometry, ref.geometry, strict=True):
            _assert_same_area(g, r)

    with pytest.raises(KeyError):
        facility_isochrones(net, tt, "no such item")
    with pytest.raises(ValueError, match="cutoff"):
        facility_isochrones(net, tt, tt.item_ids[0], (5, 600))


# --------------------------------------------------------------------------------------------
# real extracts (../shared)


@needs_shared_dir
@pytest.mark.shared
def test_beijing_nodes_inside_and_outside(beijing_net):
    net = beijing_net
    xy = _sample_origins(net, k=2, seed=7)
    iso = walking_areas(net, xy, (5, 15))
    nodes = shapely.points(net.x, net.y)
    for o in range(2):
        snap = snap_points(net, xy[o : o + 1])
        dist = _node_distances(net, snap)
        for b, minutes in enumerate((5, 15)):
            poly = iso.geometry.iloc[o * 2 + b]
            D = minutes * 60.0 * fm_settings.WALK_SPEED_M_S
            assert shapely.dwithin(poly, nodes[dist <= D], 1e-6).all()
            pieces = _reference_pieces(net, snap, dist, D)
            slow = np.flatnonzero(dist > D)
            near = shapely.STRtree(pieces).query(
                nodes[slow], predicate="dwithin", distance=fm_settings.ISOCHRONE_BUFFER_M
            )[0]
            far = np.setdiff1d(np.arange(len(slow)), near)
            assert not shapely.intersects(poly, nodes[slow[far]]).any()
            _assert_same_area(
                poly, shapely.union_all(shapely.buffer(pieces, fm_settings.ISOCHRONE_BUFFER_M))
            )


# --------------------------------------------------------------------------------------------
# community walking areas: the chunked fast path against the per-community reference


def _community_reference(net, homes, minutes, **kw):
    """The former ``community_walking_areas``: one merged ``walking_areas`` per community."""
    import pandas as pd

    rows = []
    for cid, group in homes.groupby("community_id", sort=True):
        iso = walking_areas(net, group, (minutes,), merge=True, **kw)
        iso["community_id"] = cid
        rows.append(iso)
    return gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=net.crs)


def _assert_same_areas(got, ref, rel=1e-6):
    """Same rows, ids and columns; every polygon equal to ``rel`` of its area."""
    assert list(got.columns) == list(ref.columns)
    assert got.dtypes.to_dict() == ref.dtypes.to_dict()
    assert got["community_id"].tolist() == ref["community_id"].tolist()
    assert got["minutes"].tolist() == ref["minutes"].tolist()
    assert got.crs == ref.crs
    a, b = got.geometry.to_numpy(), ref.geometry.to_numpy()
    assert (shapely.is_empty(a) == shapely.is_empty(b)).all()
    scale = np.maximum(shapely.area(b), 1.0)
    assert (np.abs(shapely.area(a) - shapely.area(b)) <= rel * scale).all()
    assert (shapely.area(shapely.symmetric_difference(a, b)) <= rel * scale).all()
    holes = [_n_holes(g) for g in a], [_n_holes(g) for g in b]
    assert holes[0] == holes[1]


def _homes(data, net):
    from fifteenmin import communities_from_osm, residents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return residents(communities_from_osm(data, net), net, data)


def test_community_walking_areas_equal_reference_on_sample(sample_data, sample_net):
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    assert homes["community_id"].nunique() >= 10
    for minutes in (5, 15):
        got = community_walking_areas(sample_net, homes, minutes)
        ref = _community_reference(sample_net, homes, minutes)
        _assert_same_areas(got, ref)
        assert (got.area > 0).all() and sum(_n_holes(g) for g in got.geometry) > 0


@needs_shared_dir
@pytest.mark.shared
@pytest.mark.parametrize(
    "path",
    [
        "beijing/beijing_haidian_xueyuanlu_cau_2026.osm",
        "benchmark/helsinki_centre_2019.osm.pbf",
        "benchmark/monaco_2016.osm.pbf",
    ],
)
def test_community_walking_areas_equal_reference_on_real_extracts(path):
    from fifteenmin import community_walking_areas, load_catalogue, network_from_file, read_osm

    data = read_osm(SHARED / "data" / "osm" / path, keys=load_catalogue("beijing").osm_keys())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network_from_file(data)
    homes = _homes(data, net)
    assert homes["community_id"].nunique() >= 10
    got = community_walking_areas(net, homes, 15, speed=1.2)
    _assert_same_areas(got, _community_reference(net, homes, 15, speed=1.2))
    _assert_raster_close(community_walking_areas(net, homes, 15, speed=1.2, method="raster"), got)


def test_community_walking_areas_deterministic_in_chunks_and_threads(
    sample_data, sample_net, monkeypatch
):
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    base = community_walking_areas(sample_net, homes, 10, threads=1)
    wkb = shapely.to_wkb(base.geometry.to_numpy())
    again = community_walking_areas(sample_net, homes, 10, threads=3)
    assert (shapely.to_wkb(again.geometry.to_numpy()) == wkb).all()
    monkeypatch.setattr(fm_settings, "WALKING_AREA_CHUNK", 5)  # three chunks of the 12
    chunked = community_walking_areas(sample_net, homes, 10, threads=2)
    assert (shapely.to_wkb(chunked.geometry.to_numpy()) == wkb).all()
    # residents given in another order, in another CRS: the same areas
    shuffled = homes.sample(frac=1.0, random_state=0).to_crs("EPSG:4326")
    other = community_walking_areas(sample_net, shuffled, 10, threads=2)
    _assert_same_areas(other, base, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs", [{}, {"method": "raster"}, {"method": "raster", "simplify_m": 8.0, "grid_m": 8.0}]
)
def test_iter_community_walking_areas_chunks_concatenate_to_the_frame(
    sample_data, sample_net, kwargs
):
    """The chunked form: consecutive chunks whose concatenation is community_walking_areas."""
    import pandas as pd
    from geopandas.testing import assert_geodataframe_equal

    from fifteenmin import community_walking_areas, iter_community_walking_areas

    homes = _homes(sample_data, sample_net)
    whole = community_walking_areas(sample_net, homes, 10, **kwargs)
    chunks = list(iter_community_walking_areas(sample_net, homes, 10, chunk=5, **kwargs))
    assert [len(c) for c in chunks] == [5, 5, 2]  # the sample's 12 communities
    for c in chunks:
        assert list(c.columns) == list(whole.columns) and c.crs == whole.crs
        assert c.index.tolist() == list(range(len(c)))
    joined = pd.concat(chunks, ignore_index=True)
    assert_geodataframe_equal(joined, whole, check_less_precise=False)
    assert (
        shapely.to_wkb(joined.geometry.to_numpy()) == shapely.to_wkb(whole.geometry.to_numpy())
    ).all()
    # arguments are checked when called, not at the first chunk; no communities: no chunks
    with pytest.raises(ValueError, match="chunk"):
        iter_community_walking_areas(sample_net, homes, 10, chunk=0)
    with pytest.raises(ValueError, match="method"):
        iter_community_walking_areas(sample_net, homes, 10, method="grid")
    assert list(iter_community_walking_areas(sample_net, homes.iloc[:0], 10)) == []


def test_community_walking_areas_edge_cases(sample_data, sample_net):
    from fifteenmin import community_walking_areas

    net = sample_net
    homes = _homes(sample_data, net)
    empty = community_walking_areas(net, homes.iloc[:0], 15)
    assert len(empty) == 0
    # one community only far from every street (beyond max_snap_m), one without an id
    far = homes.copy()
    first = far["community_id"].iloc[0]
    moved = far["community_id"] == first
    far.loc[moved, "geometry"] = far.loc[moved, "geometry"].translate(5e4, 5e4)
    far.loc[far.index[~moved][:3], "community_id"] = None
    got = community_walking_areas(net, far, 15)
    ref = _community_reference(net, far, 15)
    _assert_same_areas(got, ref)
    assert got.geometry.iloc[0].is_empty and not got.geometry.iloc[1:].is_empty.any()
    with pytest.raises(ValueError, match="simplify_m"):
        community_walking_areas(net, homes, 15, simplify_m=-1)
    with pytest.raises(ValueError, match="threads"):
        community_walking_areas(net, homes, 15, threads=0)


def test_community_walking_areas_simplified_for_display(sample_data, sample_net):
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    exact = community_walking_areas(sample_net, homes, 15)
    shown = community_walking_areas(sample_net, homes, 15, simplify_m=1.0)
    a, b = shown.geometry.to_numpy(), exact.geometry.to_numpy()
    assert shapely.is_valid(a).all()
    assert shapely.get_num_coordinates(a).sum() < 0.8 * shapely.get_num_coordinates(b).sum()
    # boundaries move by about the tolerance (GEOS's topology-preserving Douglas-Peucker keeps
    # its vertices on the exact boundary; measured here: at most 1.5 x the tolerance)
    assert shapely.covers(shapely.buffer(a, 2.0), b).all()
    assert shapely.covers(b, a).all() or shapely.covers(shapely.buffer(b, 2.0), a).all()
    assert ([_n_holes(g) for g in a] <= np.array([_n_holes(g) for g in b])).all()
    assert (np.abs(shapely.area(a) / shapely.area(b) - 1.0) < 0.01).all()


# --------------------------------------------------------------------------------------------
# the raster method (method="raster"): against shapely's buffers and the exact method


def _region_distance(a, b, step=0.5):
    """Largest distance from a point of ``a`` to ``b`` or of ``b`` to ``a`` (sampled along the
    boundaries of the two differences every ``step`` metres; such a point is on or outside
    the other area, so its distance to it is the distance to its boundary's nearest segment)."""
    worst = 0.0
    for p, q in ((a, b), (b, a)):
        d = shapely.difference(p, q)
        if d.is_empty:
            continue
        pts = shapely.points(shapely.get_coordinates(shapely.segmentize(shapely.boundary(d), step)))
        xy, ring = shapely.get_coordinates(
            shapely.get_parts(shapely.boundary(q)), return_index=True
        )
        same = ring[1:] == ring[:-1]
        segs = shapely.linestrings(
            np.stack([xy[:-1][same], xy[1:][same]], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(int(same.sum())), 2),
        )
        _, dist = shapely.STRtree(segs).query_nearest(pts, return_distance=True)
        worst = max(worst, float(dist.max()))
    return worst


def _raster_of_lines(lines, buffer_m=25.0, grid_m=5.0):
    """The raster area of some LineStrings, through the library's compiled kernels."""
    from fifteenmin.isochrones import _raster_area

    xy, piece = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    seg = np.zeros(len(xy), dtype=bool)
    seg[:-1] = piece[1:] == piece[:-1]
    return _raster_area((xy, seg), grid_m=grid_m, buffer_m=buffer_m, simplify_m=0.0)


def _round_buffer(lines, buffer_m=25.0):
    """The oracle: shapely's union of the lines' buffers with finely drawn round caps."""
    return shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), buffer_m, 64))


def test_raster_capsule_ring_road_and_island():
    # one street: a capsule of area 2 r L + pi r^2
    one = _raster_of_lines([shapely.LineString([(0, 0), (300, 40)])])
    assert shapely.is_valid(one) and one.geom_type == "Polygon"
    assert abs(one.area / (2 * 25 * np.hypot(300, 40) + np.pi * 25**2) - 1) < 0.005
    # a ring road 400 m across around a dead end 100 m long alone in the middle: the middle
    # street is an island inside the hole of the ring road's area
    ring = shapely.LineString([(0, 0), (400, 0), (400, 400), (0, 400), (0, 0)])
    mid = shapely.LineString([(150, 200), (250, 200)])
    got = _raster_of_lines([ring, mid])
    ref = _round_buffer([ring, mid])
    assert shapely.is_valid(got) and got.geom_type == "MultiPolygon"
    assert [len(p.interiors) for p in got.geoms] == [len(p.interiors) for p in ref.geoms]
    assert sorted(round(p.area, -3) for p in got.geoms) == sorted(
        round(p.area, -3) for p in ref.geoms
    )
    assert shapely.symmetric_difference(got, ref).area < 0.005 * ref.area
    assert _region_distance(got, ref) < 2.5  # half the grid step
    # nothing at all
    assert _raster_of_lines([]).is_empty


@given(
    st.lists(st.tuples(*[st.floats(0.0, 300.0, allow_nan=False)] * 4), min_size=1, max_size=12),
    st.sampled_from([2.0, 5.0, 8.0]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_raster_equals_round_buffer_of_random_segments(segs, grid_m):
    lines = [shapely.LineString([(x0, y0), (x1, y1)]) for x0, y0, x1, y1 in segs]
    got = _raster_of_lines(lines, grid_m=grid_m)
    ref = _round_buffer(lines)
    assert shapely.is_valid(got)
    # the contour cuts the corners where two buffers meet and rounds the caps: within about
    # half a grid step (a corner of angle a is cut by up to h / sin(a / 2) / 2 at most ...)
    assert _region_distance(got, ref) <= 1.5 * grid_m
    # ... which is a thin strip along the boundary
    assert shapely.symmetric_difference(got, ref).area <= 0.5 * grid_m * ref.length


def _fill_reference(xy, seg, h, reach, x0, y0, shape):
    """The oracle of ``_contour._fill``: numpy over each segment's box, the same float steps."""
    z2 = np.full(shape, reach * reach)
    ny, nx = shape
    for k in np.flatnonzero(seg[:-1]):
        (ax, ay), (bx, by) = xy[k], xy[k + 1]
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        i0 = max(0, int(np.floor((min(ay, by) - reach - y0) / h)))
        i1 = min(ny - 1, int(np.ceil((max(ay, by) + reach - y0) / h)))
        j0 = max(0, int(np.floor((min(ax, bx) - reach - x0) / h)))
        j1 = min(nx - 1, int(np.ceil((max(ax, bx) + reach - x0) / h)))
        inv = 1.0 / ll if ll > 0.0 else 0.0
        py = (y0 + np.arange(i0, i1 + 1) * h - ay)[:, None]
        px = (x0 + np.arange(j0, j1 + 1) * h - ax)[None, :]
        t = np.minimum(1.0, np.maximum(0.0, (px * dx + py * dy) * inv))
        ex, ey = px - t * dx, py - t * dy
        box = z2[i0 : i1 + 1, j0 : j1 + 1]
        np.minimum(box, ex * ex + ey * ey, out=box)
    return z2


def _link_reference(z2, level):
    """The oracle of ``_contour._link``: each cell's corners counted, in plain Python."""
    ny, nx = z2.shape
    inside = z2 < level * level
    succ, starts = {}, []
    for i in range(ny - 1):
        for j in range(nx - 1):
            c = [inside[i, j], inside[i, j + 1], inside[i + 1, j + 1], inside[i + 1, j]]
            if sum(c) in (0, 4):
                continue
            edges = [i * nx + j, ny * nx + i * nx + j + 1, (i + 1) * nx + j, ny * nx + i * nx + j]
            kind = [0 if c[a] == c[(a + 1) % 4] else (1 if c[a] else -1) for a in range(4)]
            step = 1
            if c[0] == c[2] and c[1] == c[3]:
                corners = (z2[i, j], z2[i, j + 1], z2[i + 1, j + 1], z2[i + 1, j])
                mean = 0.25 * sum(float(np.sqrt(v)) for v in corners)
                step = 3 if (mean < level) != c[0] else 1
            for a in range(4):
                if kind[a] == 1:
                    b = (a + step) % 4
                    while kind[b] != -1:
                        b = (b + step) % 4
                    succ[edges[a]] = edges[b]
                    starts.append(edges[a])
    return succ, starts


@given(
    st.lists(st.tuples(*[st.floats(0.0, 200.0, allow_nan=False)] * 2), min_size=1, max_size=10),
    st.sampled_from([2.0, 5.0, 10.0]),
    st.sampled_from([5.0, 25.0]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_distance_grid_and_cell_links_equal_plain_references(pts, grid_m, level):
    """_contour._fill and _link (vectorised loops) against plain numpy / Python, exactly."""
    from fifteenmin import _contour

    xy = np.array(pts, dtype=np.float64) + np.array([X0, Y0])
    seg = np.ones(len(xy), dtype=np.bool_)
    seg[len(xy) // 2] = False  # a gap between two polylines
    reach = level + 1.5 * grid_m
    x0, y0, ny, nx = _contour.grid_frame(xy, grid_m, reach)
    z2 = np.empty((ny, nx))
    _contour._fill(xy, seg, grid_m, reach, x0, y0, z2)
    ref = _fill_reference(xy, seg, grid_m, reach, x0, y0, (ny, nx))
    assert np.array_equal(z2, ref)
    succ = np.full(2 * ny * nx, -1, dtype=np.int64)
    starts = np.full(2 * ny * nx, -1, dtype=np.int64)
    count = _contour._link(z2, level, succ, starts)
    ref_succ, ref_starts = _link_reference(ref, level)
    assert starts[:count].tolist() == ref_starts
    assert {int(e): int(succ[e]) for e in starts[:count]} == ref_succ
    assert (succ >= 0).sum() == len(ref_succ)


def _keep_reference(px, py, tol):
    """The oracle of ``_contour._keep``: the chord test with math.hypot, in plain Python."""
    import math

    n = len(px)
    keep = [True] * n
    a = 0
    for k in range(1, n):
        e = (k + 1) % n
        dx, dy = px[e] - px[a], py[e] - py[a]
        ll = math.hypot(dx, dy)
        if ll > 0.0 and abs((px[k] - px[a]) * dy - (py[k] - py[a]) * dx) <= tol * ll:
            keep[k] = False
        else:
            a = k
    return [True] * n if sum(keep) < 3 else keep


def test_collinear_vertices_dropped_as_with_hypot():
    """_contour._keep (sqrt first, hypot in the thin band) decides as math.hypot does."""
    from fifteenmin import _contour

    rng = np.random.default_rng(3)
    tol = 0.01
    for case in range(300):
        n = int(rng.integers(3, 40))
        t = np.sort(rng.uniform(0, 100, n))
        px = X0 + t * 0.6
        py = Y0 + t * 0.8
        # off the line by about the tolerance (both sides of it, some exactly on it), and a
        # few points repeated or pushed far off
        side = rng.choice([0.0, tol * (1 - 1e-13), tol * (1 + 1e-13), tol, 0.5 * tol, 3 * tol], n)
        px, py = px + 0.8 * side, py - 0.6 * side
        if case % 5 == 0:
            px[n // 2], py[n // 2] = px[n // 2 - 1], py[n // 2 - 1]
        if case % 7 == 0:
            px[0] += 50.0
        got = _contour._keep(px, py, tol)
        assert got.tolist() == _keep_reference(px.tolist(), py.tolist(), tol)
    tiny = np.array([0.0, 1e-160, 2e-160, 0.0]), np.array([0.0, 1e-160, 3e-160, 1e-160])
    assert _contour._keep(*tiny, 1e-170).tolist() == _keep_reference(*map(list, tiny), 1e-170)


def test_raster_community_areas_close_to_exact_on_sample(sample_data, sample_net):
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    exact = community_walking_areas(sample_net, homes, 15)
    fast = community_walking_areas(sample_net, homes, 15, method="raster")
    _assert_raster_close(fast, exact)
    # deterministic, whatever the threads and the chunks
    wkb = shapely.to_wkb(fast.geometry.to_numpy())
    one = community_walking_areas(sample_net, homes, 15, method="raster", threads=1)
    assert (shapely.to_wkb(one.geometry.to_numpy()) == wkb).all()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fm_settings, "WALKING_AREA_CHUNK", 5)
        chunked = community_walking_areas(sample_net, homes, 15, method="raster", threads=3)
    assert (shapely.to_wkb(chunked.geometry.to_numpy()) == wkb).all()
    # a finer grid is closer; simplification for display keeps it valid
    fine = community_walking_areas(sample_net, homes, 15, method="raster", grid_m=2.0)
    sd = shapely.area(shapely.symmetric_difference(fine.geometry.values, exact.geometry.values))
    assert (
        sd.sum()
        < shapely.area(
            shapely.symmetric_difference(fast.geometry.values, exact.geometry.values)
        ).sum()
    )
    shown = community_walking_areas(sample_net, homes, 15, method="raster", simplify_m=1.0)
    assert shapely.is_valid(shown.geometry.to_numpy()).all()
    with pytest.raises(ValueError, match="method"):
        community_walking_areas(sample_net, homes, 15, method="grid")
    with pytest.raises(ValueError, match="grid_m"):
        community_walking_areas(sample_net, homes, 15, method="raster", grid_m=0)


def _assert_raster_close(fast, exact, sym=0.005, dist=3.5, grid_m=5.0):
    """The raster areas against the exact ones: the figures of the docstring, with a margin."""
    assert list(fast.columns) == list(exact.columns)
    assert fast["community_id"].tolist() == exact["community_id"].tolist()
    a, b = fast.geometry.to_numpy(), exact.geometry.to_numpy()
    assert shapely.is_valid(a).all()
    assert (shapely.is_empty(a) == shapely.is_empty(b)).all()
    keep = ~shapely.is_empty(b)
    a, b = a[keep], b[keep]
    assert (shapely.area(shapely.symmetric_difference(a, b)) <= sym * shapely.area(b)).all()
    assert max(_region_distance(x, y) for x, y in zip(a, b, strict=True)) <= dist
    # holes are kept: the core of every hole of one (farther than a grid step from its edge)
    # is outside the other (thinner or tiny holes may open, close, split or, where the neck
    # closing them is thin, join the outside: they are within the figures above)
    assert sum(_n_holes(g) for g in b) > 0
    for x, y in ((a, b), (b, a)):
        for gx, gy in zip(x, y, strict=True):
            core = shapely.buffer(_hole_polygons(gx), -grid_m)
            assert not shapely.intersects(core[~shapely.is_empty(core)], gy).any()


def _hole_polygons(g):
    return np.array(
        [shapely.Polygon(r) for p in shapely.get_parts(g) for r in p.interiors], dtype=object
    )


def test_invalid_raster_areas_are_repaired_and_counted():
    """A bow tie (rings touching at a point) becomes two valid triangles, with a warning."""
    import shapely

    from fifteenmin.isochrones import _repair

    bow = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    box = shapely.box(0, 0, 1, 1)
    areas = np.array([bow, box], dtype=object)
    with pytest.warns(UserWarning, match=r"1 of 2 raster walking area\(s\)"):
        _repair(areas)
    assert areas[0].is_valid and areas[0].area == pytest.approx(2.0)
    assert areas[1] is box  # valid areas are left alone


def test_simplified_raster_areas_are_valid_and_within_the_tolerance(sample_data, sample_net):
    """The report's city map: raster areas simplified in the threads (Douglas-Peucker)."""
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    full = community_walking_areas(sample_net, homes, 15, method="raster")
    tol = fm_settings.HTML_CITY_AREA_SIMPLIFY_M
    simple = community_walking_areas(sample_net, homes, 15, method="raster", simplify_m=tol)
    a, b = full.geometry.to_numpy(), simple.geometry.to_numpy()
    assert shapely.is_valid(b).all() and not shapely.is_empty(b).any()
    assert (shapely.get_num_coordinates(b) < shapely.get_num_coordinates(a)).all()
    # the outlines move by the tolerance at most (holes thinner than it may close, as the
    # page's own simplification closes them); the areas differ by little
    outer = shapely.get_exterior_ring(shapely.get_geometry(b, 0))
    full_outer = shapely.get_exterior_ring(shapely.get_geometry(a, 0))
    assert (shapely.hausdorff_distance(full_outer, outer) <= tol).all()
    diff = shapely.area(shapely.symmetric_difference(a, b)) / shapely.area(a)
    assert diff.max() < 0.05, diff.max()  # 2.3-3.4 % on the sample (measured)


def test_compiled_street_pieces_equal_the_vectorised_ones(sample_data, sample_net):
    """_contour.chunk_pieces cuts the same segments as _reached_intervals + _piece_vertices."""
    from fifteenmin import _contour, _kernel
    from fifteenmin.isochrones import _piece_vertices, _reached_intervals, _StreetPieces
    from fifteenmin.routing import edge_seeds

    net = sample_net
    homes = _homes(sample_data, net)
    snap = snap_points(net, homes)
    code = homes["community_id"].factorize(sort=True)[0]
    rows = np.argsort(code, kind="stable")
    s_group = code[rows].astype(np.int64)
    k = int(s_group.max()) + 1
    s_edge, s_offset, s_access = snap.edge[rows], snap.offset[rows], snap.access[rows]
    seed_node, seed_dist = edge_seeds(net, s_edge, s_offset, s_access)
    s_ptr = np.searchsorted(s_group, np.arange(k + 1)).astype(np.int64)
    band = 15 * 60 * fm_settings.WALK_SPEED_M_S
    r_ptr, r_node, r_dist = _kernel.bounded_search(
        net.indptr, net.indices, net.lengths, 2 * s_ptr, seed_node, seed_dist, band
    )
    pieces = _StreetPieces(net)
    xy, seg, bounds = _contour.chunk_pieces(
        pieces.net, pieces.geom, (r_ptr, r_node, r_dist),
        (s_ptr, s_edge.astype(np.int64), s_offset, s_access), band, *pieces.workspaces(), 0,
    )  # fmt: skip
    group, _, edge, lo, hi = _reached_intervals(
        net, np.repeat(np.arange(k), np.diff(r_ptr)), r_node.astype(np.int64), r_dist,
        s_group, s_edge, s_offset, s_access, np.array([band]),
    )  # fmt: skip
    want_xy, piece = _piece_vertices(net, edge, lo, hi)
    want_seg = np.zeros(len(want_xy), dtype=bool)
    want_seg[:-1] = piece[1:] == piece[:-1]
    want_bounds = np.searchsorted(group[piece], np.arange(k + 1))
    assert (np.diff(bounds) == np.diff(want_bounds)).all()

    def segments(p, s, a, b):  # a group's directed segments, as sorted rows (x0, y0, x1, y1)
        i = a + np.flatnonzero(s[a:b])
        out = np.hstack([p[i], p[i + 1]])
        return out[np.lexsort(out.T[::-1])]

    for g in range(k):
        got = segments(xy, seg, bounds[g], bounds[g + 1])
        want = segments(want_xy, want_seg, want_bounds[g], want_bounds[g + 1])
        assert got.shape == want.shape and (got == want).all()  # bit for bit


def test_map_grid_raster_areas_within_the_measured_bounds(sample_data, sample_net):
    """The report map's coarser grid (settings.WALKING_AREA_MAP_GRID_M): errors scale with it.

    Measured on the sample at 10 m (bench/WALKING_AREAS.md): 0.73 % and 6.6 m unsimplified;
    3.7 % and 8.8 m simplified by the city layout's 8 m.
    """
    from fifteenmin import community_walking_areas

    homes = _homes(sample_data, sample_net)
    grid = fm_settings.WALKING_AREA_MAP_GRID_M
    exact = community_walking_areas(sample_net, homes, 15)
    coarse = community_walking_areas(sample_net, homes, 15, method="raster", grid_m=grid)
    _assert_raster_close(coarse, exact, sym=0.002 * grid, dist=0.7 * grid + 0.5, grid_m=grid)
    tol = fm_settings.HTML_CITY_AREA_SIMPLIFY_M
    shown = community_walking_areas(
        sample_net, homes, 15, method="raster", grid_m=grid, simplify_m=tol
    )
    a, b = shown.geometry.to_numpy(), exact.geometry.to_numpy()
    assert shapely.is_valid(a).all()
    assert (shapely.get_num_coordinates(a) < shapely.get_num_coordinates(b)).all()
    assert max(_region_distance(x, y) for x, y in zip(a, b, strict=True)) <= 0.7 * grid + tol
    assert (shapely.area(shapely.symmetric_difference(a, b)) <= 0.06 * shapely.area(b)).all()
