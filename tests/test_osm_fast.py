"""The fast reading of sorted .osm.pbf files (fifteenmin._pbf + _osm._FastPass).

Two independent references: pyosmium's own reading of every object (for the decoder's
arrays), and the pyosmium pass that hands every tagged object to Python (``_read(...,
fast=False)``, the reader before the fast path) for the whole OSMData, which must be the same
element for element, in the same order, on real extracts and on a file made to hit the corner
cases (clipped ways, areas handed over in several batches, broken rings, pedestrian areas).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely

from conftest import SAMPLE, SHARED, needs_shared
from fifteenmin import _osm, _pbf, load_catalogue
from fifteenmin._osm import BASE_FEATURE_KEYS, OSMData

KEYS = set(BASE_FEATURE_KEYS) | set(load_catalogue("beijing").osm_keys())

REAL_PBF = [
    SHARED / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm.pbf",
    SHARED / "benchmark" / "andorra_2013.osm.pbf",
    SHARED / "benchmark" / "helsinki_centre_2019.osm.pbf",
    SHARED / "fixtures" / "osmnx_aguascalientes_2026.osm.pbf",
]


def assert_same(a: OSMData, b: OSMData) -> None:
    """Every field of two OSMData equal: arrays with their dtypes, lists, frames, geometries."""
    assert (a.source, a.bbox, a.keys) == (b.source, b.bbox, b.keys)
    assert (a.clipped_ways, a.missing_nodes, a.counts) == (
        b.clipped_ways,
        b.missing_nodes,
        b.counts,
    )
    assert list(a.counts) == list(b.counts)
    for name in ("ptr", "node_id", "lon", "lat", "way_id"):
        x, y = getattr(a.ways, name), getattr(b.ways, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.ways.tags == b.ways.tags
    fa, fb = a.features, b.features
    assert list(fa.columns) == list(fb.columns)
    assert list(fa.dtypes) == list(fb.dtypes)
    assert fa.crs == fb.crs
    assert list(fa.index) == list(fb.index)
    assert list(fa["osm_type"]) == list(fb["osm_type"])
    np.testing.assert_array_equal(fa["osm_id"].to_numpy(), fb["osm_id"].to_numpy())
    assert list(fa["name"]) == list(fb["name"])
    assert list(fa["tags"]) == list(fb["tags"])
    assert [list(t) for t in fa["tags"]] == [list(t) for t in fb["tags"]]  # key order too
    assert list(shapely.to_wkb(fa.geometry.values)) == list(shapely.to_wkb(fb.geometry.values))
    assert len(a.pedestrian_areas) == len(b.pedestrian_areas)
    for p, q in zip(a.pedestrian_areas, b.pedestrian_areas, strict=True):
        assert (p.osm_type, p.osm_id, p.tags, p.inner) == (q.osm_type, q.osm_id, q.tags, q.inner)
        assert shapely.to_wkb(p.geometry) == shapely.to_wkb(q.geometry)
        for r, s in zip(p.rings, q.rings, strict=True):
            for u, v in zip(r, s, strict=True):
                assert u.dtype == v.dtype
                np.testing.assert_array_equal(u, v)


def read_both(path: Path) -> tuple[OSMData, OSMData, list[str], list[str]]:
    """The fast reading and the reference one, with the warnings each gave."""
    with warnings.catch_warnings(record=True) as w_fast:
        warnings.simplefilter("always")
        fast = _osm._read(path, KEYS, with_areas=True, fast=True)
    with warnings.catch_warnings(record=True) as w_ref:
        warnings.simplefilter("always")
        ref = _osm._read(path, KEYS, with_areas=True, fast=False)
    return fast, ref, [str(w.message) for w in w_fast], [str(w.message) for w in w_ref]


def test_decoder_matches_pyosmium_on_the_sample() -> None:
    """The decoder's arrays are pyosmium's objects: ids, coordinates, node lists, tags, members."""
    a = _pbf.decode_pbf(SAMPLE)
    nodes, ways, rels = [], [], []
    for obj in osmium.FileProcessor(str(SAMPLE)):
        tags = [(t.k, t.v) for t in obj.tags]
        if isinstance(obj, osmium.osm.Node):
            nodes.append((obj.id, obj.location.x, obj.location.y, tags))
        elif isinstance(obj, osmium.osm.Way):
            ways.append((obj.id, [n.ref for n in obj.nodes], tags))
        else:
            members = [(m.ref, "nwr".index(m.type)) for m in obj.members]
            rels.append((obj.id, members, tags))
    s = a.strings

    def tags_of(ptr: np.ndarray, keys: np.ndarray, vals: np.ndarray, i: int) -> list:
        a, b = ptr[i], ptr[i + 1]
        return [(s[k], s[v]) for k, v in zip(keys[a:b], vals[a:b], strict=True)]

    assert a.node_id.tolist() == [n[0] for n in nodes]
    assert a.node_x.tolist() == [n[1] for n in nodes]
    assert a.node_y.tolist() == [n[2] for n in nodes]
    assert [tags_of(a.node_tag_ptr, a.node_key, a.node_val, i) for i in range(len(nodes))] == [
        n[3] for n in nodes
    ]
    assert a.way_id.tolist() == [w[0] for w in ways]
    ptr = a.way_ref_ptr
    assert [a.way_ref[ptr[i] : ptr[i + 1]].tolist() for i in range(len(ways))] == [
        w[1] for w in ways
    ]
    assert [tags_of(a.way_tag_ptr, a.way_key, a.way_val, i) for i in range(len(ways))] == [
        w[2] for w in ways
    ]
    assert a.rel_id.tolist() == [r[0] for r in rels]
    mp = a.rel_mem_ptr
    got = [
        list(zip(a.rel_mem_id[mp[i] : mp[i + 1]], a.rel_mem_type[mp[i] : mp[i + 1]], strict=True))
        for i in range(len(rels))
    ]
    assert [[(int(m), int(t)) for m, t in g] for g in got] == [r[1] for r in rels]
    assert [tags_of(a.rel_tag_ptr, a.rel_key, a.rel_val, i) for i in range(len(rels))] == [
        r[2] for r in rels
    ]
    assert len(rels) > 100 and len(ways) > 1000  # the sample has all three kinds


def test_fast_read_of_the_sample_is_the_pyosmium_pass() -> None:
    assert _osm._fast_read(SAMPLE, KEYS, force=True) is not None  # the fast path ran (no fallback)
    fast, ref, w_fast, w_ref = read_both(SAMPLE)
    assert_same(fast, ref)
    assert w_fast == w_ref
    assert len(fast.pedestrian_areas) > 10  # ways and multipolygons


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("path", REAL_PBF, ids=lambda p: p.name)
def test_fast_read_of_real_extracts_is_the_pyosmium_pass(path: Path) -> None:
    assert _osm._fast_read(path, KEYS, force=True) is not None
    if path.stat().st_size < _osm._FAST_MIN_BYTES:  # small files: pyosmium alone by default
        assert _osm._fast_read(path, KEYS) is None
    fast, ref, w_fast, w_ref = read_both(path)
    assert_same(fast, ref)
    assert w_fast == w_ref


def _corner_case_file(path: Path) -> None:
    """A sorted .osm.pbf made to hit the fast path's corner cases.

    - 2,000 closed buildings with long tags between open fences and untagged ways: libosmium
      hands their areas over in several batches, placed among the fences' features;
    - a street whose middle nodes are missing (clipped), a one-node footway, a street that
      is also a bus platform;
    - a closed pedestrian way, a pedestrian multipolygon, a multipolygon with a missing member,
      a self-crossing (broken) building;
    - tagged nodes: a shop, a bus stop (a highway feature), a tagged node without feature keys.
    """
    w = osmium.SimpleWriter(str(path))
    nid = 1

    def node(lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        nonlocal nid
        w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags or {}))
        nid += 1
        return nid - 1

    squares = []
    for k in range(2_000):
        x, y = 116.3 + (k % 50) * 0.001, 39.9 + (k // 50) * 0.001
        ring = [node(x, y), node(x + 0.0004, y), node(x + 0.0004, y + 0.0004), node(x, y + 0.0004)]
        squares.append(ring)
    street = [node(116.2 + i * 0.0005, 39.85) for i in range(10)]
    node(116.25, 39.86, {"shop": "convenience", "name": "Shop"})
    node(116.251, 39.86, {"highway": "bus_stop"})
    node(116.252, 39.86, {"note": "no feature key"})
    bow = [node(116.26, 39.87), node(116.261, 39.871), node(116.261, 39.87), node(116.26, 39.871)]
    plaza = [node(116.27, 39.87), node(116.271, 39.87), node(116.271, 39.871), node(116.27, 39.871)]
    mp = [node(116.28, 39.87), node(116.281, 39.87), node(116.281, 39.871), node(116.28, 39.871)]
    lone = node(116.29, 39.87)
    wid = 1
    long_tag = "x" * 700

    def way(nodes: list[int], tags: dict[str, str]) -> int:
        nonlocal wid
        w.add_way(osmium.osm.mutable.Way(id=wid, nodes=nodes, tags=tags))
        wid += 1
        return wid - 1

    for k, ring in enumerate(squares):
        way([*ring, ring[0]], {"building": "yes", "name": f"B{k}", "note": long_tag})
        way(ring[:2], {"barrier": "fence"})  # a feature after each: a misplaced batch shows
        if k % 11 == 0:
            way(ring[1:3], {})  # untagged
    missing = [999_999_001, 999_999_002]
    way([*street[:3], *missing, *street[3:]], {"highway": "residential", "name": "A"})
    way([street[0]], {"highway": "footway"})
    way(street[5:8], {"highway": "footway", "public_transport": "platform"})
    way([999_999_003, *street[8:]], {"barrier": "wall"})
    way([*bow, bow[0]], {"building": "yes"})
    way([*plaza, plaza[0]], {"highway": "pedestrian", "area": "yes", "name": "Plaza"})
    outer = way([*mp, mp[0]], {})
    way([lone, street[9]], {"highway": "service"})
    w.add_relation(
        osmium.osm.mutable.Relation(
            id=1,
            members=[("w", outer, "outer")],
            tags={"type": "multipolygon", "highway": "pedestrian", "name": "Square"},
        )
    )
    w.add_relation(
        osmium.osm.mutable.Relation(
            id=2,
            members=[("w", outer, "outer"), ("w", 999_999_999, "inner")],
            tags={"type": "multipolygon", "landuse": "residential"},
        )
    )
    w.add_relation(
        osmium.osm.mutable.Relation(id=3, members=[("w", outer, "outer")], tags={"type": "route"})
    )
    w.close()


def test_fast_read_of_corner_cases_is_the_pyosmium_pass(tmp_path: Path) -> None:
    path = tmp_path / "corners.osm.pbf"
    _corner_case_file(path)
    assert _osm._fast_read(path, KEYS, force=True) is not None
    fast, ref, w_fast, w_ref = read_both(path)
    assert_same(fast, ref)
    assert w_fast == w_ref
    # what the file was made to hit
    assert fast.clipped_ways == 1 and fast.missing_nodes == 2
    assert any("fewer than two" in m for m in w_fast)
    assert list(fast.features["osm_type"]).count("way") > 2_000
    assert {p.osm_type for p in fast.pedestrian_areas} == {"way", "relation"}
    # the areas come in several batches, between the fences (the order is the single pass's)
    fences = np.flatnonzero([t.get("barrier") == "fence" for t in fast.features["tags"]])
    buildings = np.flatnonzero(["building" in t for t in fast.features["tags"]])
    assert fences.min() < buildings.max() and buildings.min() < fences.max()
    assert any("could not be built" in m for m in w_fast)  # the relation with a missing member


def test_files_the_decoder_does_not_take_are_read_by_pyosmium(tmp_path: Path) -> None:
    """XML, and a PBF with negative ids (an editor's new objects): pyosmium alone reads them."""
    xml = tmp_path / "small.osm"
    w = osmium.SimpleWriter(str(xml))
    w.add_node(osmium.osm.mutable.Node(id=1, location=(10.0, 50.0), tags={"shop": "bakery"}))
    w.add_node(osmium.osm.mutable.Node(id=2, location=(10.001, 50.0)))
    w.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2], tags={"highway": "footway"}))
    w.close()
    assert _osm._fast_read(xml, KEYS, force=True) is None
    pbf = tmp_path / "negative.osm.pbf"
    w = osmium.SimpleWriter(str(pbf))
    w.add_node(osmium.osm.mutable.Node(id=-2, location=(10.0, 50.0), tags={"shop": "bakery"}))
    w.add_node(osmium.osm.mutable.Node(id=2, location=(10.001, 50.0)))
    w.add_node(osmium.osm.mutable.Node(id=3, location=(10.002, 50.0)))
    w.add_way(osmium.osm.mutable.Way(id=1, nodes=[2, 3], tags={"highway": "footway"}))
    w.close()
    with pytest.raises(_pbf.UnsupportedPBFError):
        _pbf.decode_pbf(pbf)
    assert _osm._fast_read(pbf, KEYS, force=True) is None
    data = _osm.read_osm(pbf)
    assert data.ways.way_id.tolist() == [1]


@needs_shared
@pytest.mark.shared
def test_unsorted_pbf_falls_back() -> None:
    path = SHARED / "fixtures" / "pyogrio_sample_2012.osm.pbf"
    with pytest.raises(_pbf.UnsupportedPBFError):
        _pbf.decode_pbf(path)
    assert _osm._fast_read(path, KEYS, force=True) is None


def test_searchsorted_in_halves_is_numpys() -> None:
    """The node lookup split over two threads is np.searchsorted, missing ids and ends too."""
    from fifteenmin._osm import _searchsorted

    rng = np.random.default_rng(5)
    ids = np.unique(rng.integers(1, 10**9, 5000))
    for refs in [rng.integers(0, 10**9 + 5, 7777), ids[:1], ids[:0], np.r_[0, ids, 10**10]]:
        assert np.array_equal(_searchsorted(ids, refs), np.searchsorted(ids, refs))
