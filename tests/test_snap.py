"""Snapping points onto the nearest edge (fifteenmin._snap) against shapely/GEOS itself.

The oracle is GEOS: ``shapely.distance`` from every point to every line (brute force: the
nearest distance, the smallest line index among equally near ones), ``line_locate_point``
and ``length``; and, for whole networks, the STRtree path that ``snap_points`` used before
(``network._snap_geos``, kept as the fallback). Equality is bit for bit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

import fifteenmin as fm
from conftest import SHARED, load_bench_city, needs_shared
from fifteenmin import _snap, network
from fifteenmin._geom import points_along
from fifteenmin.facilities import access_points


def _brute(lines: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Nearest line by GEOS over every line: index, distance, position along it, length."""
    pts = shapely.points(xy[:, 0], xy[:, 1])
    d = shapely.distance(pts[:, None], lines[None, :])  # (points, lines)
    best = d.min(axis=1)
    line = np.argmax(d == best[:, None], axis=1)  # the first (smallest index) at the minimum
    return (
        line,
        best,
        shapely.line_locate_point(lines[line], pts),
        shapely.length(lines[line]),
    )


def _tricky_lines() -> np.ndarray:
    """Lines on an integer grid: straight, bent, a repeated vertex, a duplicate, a loop."""
    lines = [[[x, 0], [x, 10]] for x in range(0, 11, 2)]
    lines += [[[0, y], [10, y]] for y in range(0, 11, 2)]
    lines += [
        [[1, 1], [3, 1], [3, 3], [1, 3]],  # bent
        [[5, 5], [5, 5], [7, 5]],  # repeated vertex (a zero-length segment)
        [[5, 5], [7, 5]],  # the same street again (ties with the previous line)
        [[8, 8], [9, 8], [9, 9], [8, 9], [8, 8]],  # a loop
        [[0, 0], [10, 10]],  # a diagonal through the nodes
    ]
    return np.array([shapely.LineString(c) for c in lines], dtype=object)


def _tricky_points(rng: np.random.Generator) -> np.ndarray:
    grid = np.mgrid[-2:12.5:0.5, -2:12.5:0.5].reshape(2, -1).T  # nodes, midpoints: exact ties
    rnd = rng.uniform(-3, 13, size=(2000, 2))
    third = np.mgrid[0 : 10 : 1 / 3, 0 : 10 : 1 / 3].reshape(2, -1).T  # inexact coordinates
    return np.concatenate([grid, rnd, third])


def test_nearest_edges_equal_geos_on_tricky_lines() -> None:
    lines = _tricky_lines()
    grid = _snap.segment_grid(lines)
    xy = _tricky_points(np.random.default_rng(0))
    line, dist, along, length, ok = _snap.nearest_edges(grid, xy[:, 0], xy[:, 1])
    assert ok.all()
    want = _brute(lines, xy)
    for got, exp in zip((line, dist, along, length), want, strict=True):
        np.testing.assert_array_equal(got, exp)
    # the duplicate street: every point nearest to it takes the smaller index
    assert not np.isin(line, [14]).any() and np.isin(line, [13]).any()


def test_nearest_edges_leaves_far_and_bad_points_to_geos() -> None:
    lines = _tricky_lines()
    grid = _snap.segment_grid(lines)
    far = grid.cell * (_snap.MAX_RINGS + 3)  # beyond the rings from the grid's edge
    xy = np.array([[5.0, 5.2], [10 + far, 5.0], [np.nan, 1.0], [1e300, 1e300], [5.0, -far]])
    line, _, _, _, ok = _snap.nearest_edges(grid, xy[:, 0], xy[:, 1])
    assert ok.tolist() == [True, False, False, False, False]
    assert line[0] == _brute(lines, xy[:1])[0][0]
    empty = _snap.segment_grid(shapely.linestrings([[[0, 0], [1, 0]]])[:0])
    assert not _snap.nearest_edges(empty, xy[:, 0], xy[:, 1])[4].any()


def _old_snap(net: fm.WalkNetwork, xy: np.ndarray) -> network.SnapResult:
    """``snap_points`` as it was: shapely's STRtree for every point."""
    edge, access, along, geom_len = network._snap_geos(net, shapely.points(xy[:, 0], xy[:, 1]))
    frac = np.divide(along, geom_len, out=np.zeros_like(along), where=geom_len > 0)
    return network.SnapResult(edge, np.clip(frac, 0.0, 1.0) * net.edge_length[edge], access)


def _points_on(net: fm.WalkNetwork, k: int, seed: int = 0) -> np.ndarray:
    """Random points, nodes, vertices, points on and near edges, midpoints, far points."""
    rng = np.random.default_rng(seed)
    lo = np.array([net.x.min(), net.y.min()])
    hi = np.array([net.x.max(), net.y.max()])
    nodes = np.column_stack([net.x, net.y])
    verts = shapely.get_coordinates(net.edge_geometry)
    on = shapely.line_interpolate_point(
        net.edge_geometry[rng.integers(0, net.n_edges, k)], rng.random(k), normalized=True
    )
    return np.concatenate(
        [
            lo + rng.random((k, 2)) * (hi - lo),
            nodes[rng.integers(0, net.n_nodes, k)],
            nodes[rng.integers(0, net.n_nodes, k)] + rng.normal(scale=15.0, size=(k, 2)),
            verts[rng.integers(0, len(verts), k)],
            shapely.get_coordinates(on),
            (nodes[rng.integers(0, net.n_nodes, k)] + nodes[rng.integers(0, net.n_nodes, k)]) / 2,
            lo + (rng.random((50, 2)) * 3 - 1) * (hi - lo),  # some far outside
        ]
    )


def _assert_same(a: network.SnapResult, b: network.SnapResult) -> None:
    np.testing.assert_array_equal(a.edge, b.edge)
    np.testing.assert_array_equal(a.access, b.access)
    np.testing.assert_array_equal(a.offset, b.offset)


def test_snap_points_equal_geos_on_the_sample(sample_net: fm.WalkNetwork) -> None:
    xy = _points_on(sample_net, 3000)
    _assert_same(fm.snap_points(sample_net, xy), _old_snap(sample_net, xy))
    few = xy[::40]
    line, dist, along, length = _brute(sample_net.edge_geometry, few)
    snap = fm.snap_points(sample_net, few)
    np.testing.assert_array_equal(snap.edge, line)
    np.testing.assert_array_equal(snap.access, dist)
    frac = np.divide(along, length, out=np.zeros_like(along), where=length > 0)
    np.testing.assert_array_equal(snap.offset, frac * sample_net.edge_length[line])


def test_snap_points_inputs(sample_net: fm.WalkNetwork) -> None:
    """x/y arrays, shapely points, GeoSeries (reprojected), polygons: the same snapping."""
    xy = _points_on(sample_net, 200, seed=3)
    pts = shapely.points(xy[:, 0], xy[:, 1])
    want = _old_snap(sample_net, xy)
    _assert_same(fm.snap_points(sample_net, pts), want)
    _assert_same(fm.snap_points(sample_net, list(pts)), want)
    import geopandas as gpd

    series = gpd.GeoSeries(pts, crs=sample_net.crs)
    _assert_same(fm.snap_points(sample_net, series), want)
    boxes = shapely.buffer(pts[:50], 5.0, quad_segs=1)
    centre = shapely.point_on_surface(boxes)
    _assert_same(
        fm.snap_points(sample_net, boxes), _old_snap(sample_net, shapely.get_coordinates(centre))
    )
    assert len(fm.snap_points(sample_net, np.zeros((0, 2)))) == 0


@needs_shared
@pytest.mark.parametrize(
    "name",
    [
        "beijing/beijing_haidian_xueyuanlu_cau_2026.osm.pbf",
        "benchmark/andorra_2013.osm.pbf",
        "benchmark/monaco_2016.osm.pbf",
    ],
)
def test_snap_points_equal_geos_on_real_extracts(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # clipped extracts: counted elsewhere
        net = fm.network_from_file(SHARED / name)
    xy = _points_on(net, 3000, seed=1)
    _assert_same(fm.snap_points(net, xy), _old_snap(net, xy))


def test_snap_points_equal_geos_on_a_synthetic_city(tmp_path: Path) -> None:
    """The access points of every facility of bench/city.py's city, and its residents."""
    city = load_bench_city()
    pbf = tmp_path / "city.osm.pbf"
    city.write_city(25, pbf, seed=0)
    cat = fm.load_catalogue("beijing")
    data = fm.read_osm(pbf, keys=cat.osm_keys())
    net = fm.network_from_file(data)
    fac = fm.facilities_from_osm(data, cat)
    pts = access_points(fac, net.crs, entrances=fm.entrances_from_osm(data))
    xy = pts[["x", "y"]].to_numpy()
    _assert_same(fm.snap_points(net, xy), _old_snap(net, xy))
    xy = _points_on(net, 3000, seed=2)
    _assert_same(fm.snap_points(net, xy), _old_snap(net, xy))


def test_snap_points_without_numba_keeps_to_geos(
    sample_net: fm.WalkNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without numba the grid search would be plain Python: every point goes to GEOS."""
    xy = _points_on(sample_net, 100, seed=4)
    monkeypatch.setattr(_snap, "HAVE_NUMBA", False)
    monkeypatch.setattr(_snap, "nearest_edges", None)  # not called
    _assert_same(fm.snap_points(sample_net, xy), _old_snap(sample_net, xy))


def _random_lines(rng: np.random.Generator) -> list[np.ndarray]:
    """Vertex arrays: random walks (some closed), repeated vertices, lengths of whole steps."""
    lines = []
    for _ in range(300):
        m = int(rng.integers(2, 12))
        xy = np.cumsum(rng.normal(0, 30, size=(m, 2)), axis=0) + rng.uniform(3e5, 4e5, 2)
        if m > 2 and rng.random() < 0.3:
            xy = np.vstack([xy, xy[:1]])  # a ring
        if m > 1 and rng.random() < 0.2:
            xy = np.insert(xy, 1, xy[1], axis=0)  # a zero-length segment
        lines.append(xy)
    lines += [np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 75.0]])]
    lines += [np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([[2.0, 3.0]])]  # no length
    return lines


@pytest.mark.parametrize("minimum", [1, 4])
def test_points_along_lines_equal_geos(minimum: int) -> None:
    lines = _random_lines(np.random.default_rng(5))
    geoms = np.array([shapely.LineString(c) for c in lines[:-1]])  # no one-vertex line
    xy = np.concatenate(lines)
    ptr = np.concatenate([[0], np.cumsum([len(c) for c in lines])])
    px, py, owner = _snap.points_along_lines(xy[:, 0], xy[:, 1], ptr, 25.0, minimum)
    pts, line, _ = points_along(geoms, 25.0, minimum=minimum, rounding="ceil", centred=False)
    ref = shapely.get_coordinates(pts)
    mine = owner < len(lines) - 1
    np.testing.assert_array_equal(owner[mine], line)
    assert np.array_equal(px[mine], ref[:, 0]) and np.array_equal(py[mine], ref[:, 1])
    last = lines[-1][0]
    assert (px[~mine] == last[0]).all() and (py[~mine] == last[1]).all()
    assert (~mine).sum() == minimum  # length 0: the minimum of points, all on its vertex


def test_points_along_lines_empty() -> None:
    nothing = np.zeros(0)
    px, py, owner = _snap.points_along_lines(nothing, nothing, np.zeros(3, np.int64), 25.0, 4)
    assert len(px) == len(py) == len(owner) == 0
