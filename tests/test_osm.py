"""Reading OSM files: walkable way parts, tagged features, clipped and unsorted extracts, errors."""

from __future__ import annotations

import bz2
import warnings

import numpy as np
import pytest
import shapely

from conftest import SAMPLE, SHARED, needs_shared
from fifteenmin import InputFileError, OSMFileError, read_osm
from fifteenmin._osm import BASE_FEATURE_KEYS, OSMData, is_walkable

FIXTURES = [
    "osmnx_aguascalientes_2026.osm.bz2",
    "osmnx_aguascalientes_2026.osm.pbf",
    "osmnx_planet_10.068_48.135_2023.osm",
    "osmnx_west_oakland_2016.osm.bz2",
    "pyogrio_sample_2012.osm.pbf",
]


def test_walk_filter_follows_osmnx():
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "residential"})
    assert is_walkable({"highway": "service", "service": "parking_aisle"})
    assert not is_walkable({"highway": "motorway"})
    assert not is_walkable({"highway": "motorway_link"})
    assert not is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "construction"})
    assert not is_walkable({"highway": "footway", "foot": "no"})
    assert not is_walkable({"highway": "footway", "access": "private"})
    assert not is_walkable({"highway": "pedestrian", "area": "yes"})
    assert not is_walkable({"highway": "primary", "sidewalk": "separate"})
    assert not is_walkable({"building": "yes"})


def _check(data: OSMData) -> None:
    """What every OSMData holds, whatever the file."""
    w = data.ways
    assert w.ptr[0] == 0 and w.ptr[-1] == len(w.node_id) == len(w.lon) == len(w.lat)
    assert (np.diff(w.ptr) >= 2).all()  # every part has at least two nodes
    assert len(w.way_id) == len(w.tags) == len(w.ptr) - 1
    assert all(is_walkable(t) for t in w.tags)
    assert (np.abs(w.lon) <= 180).all() and (np.abs(w.lat) <= 90).all()
    f = data.features
    assert list(f.columns) == ["osm_type", "osm_id", "name", "tags", "geometry"]
    assert f.crs.to_epsg() == 4326
    assert set(f["osm_type"]) <= {"node", "way", "relation"}
    assert not f.duplicated(["osm_type", "osm_id"]).any()
    assert data.keys >= BASE_FEATURE_KEYS
    for t in f["tags"]:
        assert any(k in data.keys for k in t) or t.get("highway") == "bus_stop"
    assert not shapely.is_empty(f.geometry.values).any()


@needs_shared
@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pyogrio sample is not sorted
        data = read_osm(SHARED / "fixtures" / name)
    _check(data)
    assert data.source == str(SHARED / "fixtures" / name)
    assert data.counts["ways"] > 0 and len(data.ways.way_id) > 0


@needs_shared
def test_bz2_and_pbf_read_the_same():
    a = read_osm(SHARED / "fixtures/osmnx_aguascalientes_2026.osm.bz2")
    b = read_osm(SHARED / "fixtures/osmnx_aguascalientes_2026.osm.pbf")
    assert a.bbox == b.bbox == (-102.2799068, 21.8625789, -102.2634632, 21.8752057)
    assert a.counts == b.counts == {"nodes": 599, "ways": 733, "relations": 10}
    for k in ("ptr", "node_id", "lon", "lat", "way_id"):
        np.testing.assert_array_equal(getattr(a.ways, k), getattr(b.ways, k))
    assert a.ways.tags == b.ways.tags
    assert a.features.drop(columns="geometry").equals(b.features.drop(columns="geometry"))
    assert a.features.geometry.geom_equals_exact(b.features.geometry, tolerance=0).all()


@needs_shared
def test_unsorted_file_warns_and_skips_relations():
    with pytest.warns(UserWarning, match=r"not sorted by element id.*osmium sort"):
        data = read_osm(SHARED / "fixtures/pyogrio_sample_2012.osm.pbf")
    _check(data)
    assert "relation" not in set(data.features["osm_type"])
    # closed ways still count, as polygons built from the way itself
    closed = data.features[data.features.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert len(closed) > 0 and set(closed["osm_type"]) == {"way"}


def test_sample_is_a_clipped_extract():
    with pytest.warns(UserWarning, match=r"115 walkable ways reference 488 nodes"):
        data = read_osm(SAMPLE, keys={"emergency"})
    _check(data)
    assert (data.clipped_ways, data.missing_nodes) == (115, 488)
    assert data.bbox == (24.9352, 60.1642, 24.9534, 60.1775)
    assert data.keys == BASE_FEATURE_KEYS | {"emergency"}
    assert {"node", "way", "relation"} == set(data.features["osm_type"])


HAND_WRITTEN = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <bounds minlat="40.0" minlon="116.0" maxlat="40.01" maxlon="116.01"/>
 <node id="1" lat="40.001" lon="116.001" version="1"/>
 <node id="2" lat="40.001" lon="116.002" version="1"/>
 <node id="3" lat="40.002" lon="116.002" version="1"/>
 <node id="4" lat="40.002" lon="116.001" version="1"/>
 <node id="5" lat="40.003" lon="116.003" version="1">
  <tag k="amenity" v="pharmacy"/><tag k="name:zh" v="药店"/>
 </node>
 <node id="6" lat="40.004" lon="116.003" version="1"><tag k="highway" v="bus_stop"/></node>
 <node id="7" lat="40.004" lon="116.004" version="1"><tag k="name" v="just a name"/></node>
 <node id="10" lat="40.005" lon="116.000" version="1"/>
 <node id="11" lat="40.005" lon="116.001" version="1"/>
 <node id="13" lat="40.005" lon="116.003" version="1"/>
 <node id="14" lat="40.005" lon="116.004" version="1"/>
 <node id="20" lat="40.006" lon="116.005" version="1"/>
 <node id="21" lat="40.006" lon="116.007" version="1"/>
 <node id="22" lat="40.008" lon="116.007" version="1"/>
 <node id="23" lat="40.008" lon="116.005" version="1"/>
 <way id="100" version="1">
  <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="building" v="apartments"/><tag k="name" v="Block A"/>
 </way>
 <way id="101" version="1">
  <nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="20"/>
 </way>
 <way id="200" version="1">
  <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/>
  <tag k="highway" v="footway"/><tag k="surface" v="paved"/>
 </way>
 <way id="201" version="1"><nd ref="10"/><nd ref="11"/><tag k="highway" v="motorway"/></way>
 <relation id="300" version="1">
  <member type="way" ref="101" role="outer"/>
  <tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/><tag k="name" v="小区"/>
 </relation>
</osm>
"""


def test_hand_written_file(tmp_path):
    p = tmp_path / "hand.osm"
    p.write_text(HAND_WRITTEN, encoding="utf-8")
    with pytest.warns(UserWarning, match=r"hand\.osm: 1 walkable ways reference 1 nodes"):
        data = read_osm(p)
    _check(data)
    assert data.bbox == (116.0, 40.0, 116.01, 40.01)
    # tagged elements only: nodes 5, 6, 7; ways 100, 200, 201; relation 300
    assert data.counts == {"nodes": 3, "ways": 3, "relations": 1}
    # the footway misses node 12: its two runs of two nodes are kept, the motorway is not
    w = data.ways
    assert w.ptr.tolist() == [0, 2, 4]
    assert w.node_id.tolist() == [10, 11, 13, 14] and w.way_id.tolist() == [200, 200]
    assert w.tags == [{"highway": "footway"}] * 2  # only the tags the network needs
    assert w.lon.tolist() == [116.0, 116.001, 116.003, 116.004]
    assert (data.clipped_ways, data.missing_nodes) == (1, 1)
    f = data.features.set_index(["osm_type", "osm_id"])
    assert sorted(f.index) == [("node", 5), ("node", 6), ("relation", 300), ("way", 100)]
    assert f.loc[("node", 5), "name"] == "药店"  # name:zh when there is no name
    assert f.loc[("node", 5), "geometry"].equals(shapely.Point(116.003, 40.003))
    assert f.loc[("node", 6), "tags"] == {"highway": "bus_stop"}  # bus stops always kept
    block = f.loc[("way", 100), "geometry"]
    assert block.geom_type == "MultiPolygon"
    assert block.equals(shapely.box(116.001, 40.001, 116.002, 40.002))
    assert f.loc[("relation", 300), "name"] == "小区"
    assert f.loc[("relation", 300), "geometry"].equals(
        shapely.box(116.005, 40.006, 116.007, 40.008)
    )


def test_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"OSM file not found.*bundled sample"):
        read_osm(tmp_path / "city.osm.pbf")
    with pytest.raises(InputFileError, match="is a folder"):
        read_osm(tmp_path)
    wrong = tmp_path / "city.geojson"
    wrong.write_text("{}")
    with pytest.raises(OSMFileError, match="does not look like an OpenStreetMap file"):
        read_osm(wrong)
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(OSMFileError, match="is empty: it holds no OpenStreetMap data"):
        read_osm(empty)
    text = tmp_path / "notes.osm"
    text.write_text("this is not xml at all\n")
    with pytest.raises(OSMFileError, match="could not be read as OpenStreetMap data"):
        read_osm(text)
    garbage = tmp_path / "garbage.osm.bz2"
    garbage.write_bytes(bz2.compress(b"<html>not osm</html>"))
    with pytest.raises(OSMFileError):
        read_osm(garbage)
    untagged = tmp_path / "untagged.osm"
    untagged.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n'
        '<node id="1" lat="40.0" lon="116.0" version="1"/>\n</osm>\n'
    )
    with pytest.raises(OSMFileError, match="holds no tagged OpenStreetMap data"):
        read_osm(untagged)
