"""OSM data defects (issue 13, item 8): platforms, pedestrian areas, partial boundaries, schools."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from conftest import SAMPLE
from fifteenmin import (
    facilities_from_osm,
    load_catalogue,
    network_from_file,
    read_osm,
    travel_times,
)
from fifteenmin.routing import origin_times

DATA = Path(__file__).parent / "data"
GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


# -------------------------------------------------------------------------- platforms


def test_origin_on_a_footway_platform_reaches_its_bus_stop():
    """The issue's case: an origin on a platform mapped as a footway (0.1 min, not 6 min)."""
    data = read_osm(DATA / "platform_footway.osm", keys=load_catalogue("beijing").osm_keys())
    net = network_from_file(data)
    # the platform is still a street ...
    assert 101 in set(net.edge_way.tolist())
    fac = facilities_from_osm(data, "beijing")
    stops = fac[fac["item_id"] == "bus_stop"]
    # ... and a facility too
    assert sorted(zip(stops["osm_type"], stops["osm_id"], strict=True)) == [
        ("node", 20),
        ("way", 101),
    ]
    tt = travel_times(net, fac, "beijing")
    origin = gpd.GeoSeries([shapely.Point(10.0049, 45.0001)], crs="EPSG:4326")
    minutes, which = origin_times(net, tt, origin)
    k = load_catalogue("beijing").item_ids.index("bus_stop")
    # hand-computed: the nearest access point of a line facility is its nearest vertex,
    # node 13 at lon 10.005, 0.0001° east along the platform
    expected = _metres(10.0049, 45.0001, 10.005, 45.0001) / (1000.0 / 900.0) / 60.0
    assert minutes[0, k] == pytest.approx(expected, rel=1e-3)
    assert fac.iloc[int(which[0, k])]["osm_id"] == 101
    # the far stop alone would be over 5 minutes away
    far = fac[fac["osm_id"] == 20].reset_index(drop=True)
    m_far, _ = origin_times(net, travel_times(net, far, "beijing"), origin)
    assert m_far[0, k] > 5.0


def test_real_platform_footways_are_features(sample_data):
    """The sample holds three platforms mapped as sidewalks: streets and features both."""
    ids = {28842852, 28842854, 42919368}
    f = sample_data.features
    kept = f[(f["osm_type"] == "way") & f["osm_id"].isin(ids)]
    assert set(kept["osm_id"]) == ids
    assert all(t["public_transport"] == "platform" for t in kept["tags"])
    assert ids <= set(sample_data.ways.way_id.tolist())


# -------------------------------------------------------------------------- school levels

# hand-labelled schools: tags -> the school items they should match
SCHOOLS = [
    ({"isced:level": "1"}, {"primary_school"}),
    ({"isced:level": "1;2"}, {"primary_school", "junior_middle_school"}),
    ({"isced:level": "3"}, set()),
    ({"school": "primary"}, {"primary_school"}),
    ({"school": "elementary"}, {"primary_school"}),
    ({"school": "secondary"}, {"junior_middle_school"}),
    ({"name": "Grundschule am Park"}, {"primary_school"}),
    ({"name": "Volksschule Vaduz"}, {"primary_school"}),
    ({"name": "École primaire Jean Jaurès"}, {"primary_school"}),
    ({"name": "Ecole élémentaire des Moulins"}, {"primary_school"}),
    ({"name": "Scuola Primaria G. Rodari"}, {"primary_school"}),
    ({"name": "Escola Básica de Sant Julià"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Kallion ala-aste"}, {"primary_school"}),
    ({"name": "Ressu Comprehensive School", "name:fi": "Ressun peruskoulu"}, {"__unknown__"}),
    ({"name": "Ressun peruskoulu"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Grundskolan Norsen"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Collège Charles III"}, {"junior_middle_school"}),
    ({"name": "Scuola media Dante"}, {"junior_middle_school"}),
    ({"name": "Realschule Schaan"}, {"junior_middle_school"}),
    ({"name": "Lycée Albert Ier"}, set()),
    ({"name": "Ressun lukio"}, set()),
    ({"name": "Gymnasium Vaduz"}, set()),
    ({"name": "海淀实验小学"}, {"primary_school"}),
    ({"name": "北京市第二十中学"}, {"junior_middle_school"}),
    ({"name": "北京市十一学校高中"}, set()),
    ({"name": "Weiterführende Schule Triesen"}, {"junior_middle_school"}),
    ({"name": "École maternelle Manon des Sources"}, set()),
    ({"name": "Universität Liechtenstein"}, set()),
    ({"name": "École de Fontvieille"}, {"__unknown__"}),
    ({"name": "St. Mary's"}, {"__unknown__"}),
    ({"name": "Zaidan"}, {"__unknown__"}),
    ({}, {"__unknown__"}),
]


@pytest.mark.parametrize(("tags", "expected"), SCHOOLS)
def test_school_levels(tags, expected):
    """Level from isced:level, school=* or a local name; else the explicit unknown item."""
    cat = load_catalogue("beijing")
    got = set(cat.match({"amenity": "school", **tags}, None))
    school_items = {"primary_school", "junior_middle_school", "school_level_unknown"}
    got &= school_items
    want = {"school_level_unknown" if e == "__unknown__" else e for e in expected}
    assert got == want
    # the unknown item is never counted with a level
    assert not ({"school_level_unknown"} < got)


def test_unknown_level_is_optional_and_shown():
    cat = load_catalogue("beijing")
    by_id = {it.id: it for it in cat}
    assert not by_id["school_level_unknown"].required
    assert by_id["primary_school"].required
    assert "school_level_unknown" not in {it.id for it in cat.required_items}


# -------------------------------------------------------------------------- pedestrian areas


def _csr_metres(net, a: int, b: int) -> float:
    """Shortest walk in metres between two OSM nodes on the network's own arrays (scipy)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    n = net.n_nodes
    m = sparse.csr_matrix((net.lengths, net.indices, net.indptr), shape=(n, n))
    i = int(np.flatnonzero(net.node_id == a)[0])
    j = int(np.flatnonzero(net.node_id == b)[0])
    return float(csgraph.dijkstra(m, indices=i)[j])


def _nx_metres(net, a: int, b: int) -> float:
    import networkx as nx

    return float(nx.shortest_path_length(net.to_networkx(), a, b, weight="length"))


L = {  # node -> (lon, lat) in tests/data/plaza_l.osm
    1: (10.0, 45.0005),
    3: (10.004, 45.0005),
    5: (10.001, 45.002),
    7: (10.002, 45.001),
    11: (9.999, 45.0005),
    12: (10.005, 45.0005),
}


def test_walk_straight_across_a_square():
    """Travel time across a square = the straight line between its entrances (hand-computed)."""
    net = network_from_file(DATA / "plaza_l.osm")
    hand = _metres(*L[11], *L[1]) + _metres(*L[1], *L[3]) + _metres(*L[3], *L[12])
    assert _csr_metres(net, 11, 12) == pytest.approx(hand, rel=1e-9)
    assert _nx_metres(net, 11, 12) == pytest.approx(hand, rel=1e-9)
    # routing: an origin at the west end, a facility at the east end
    fac = gpd.GeoDataFrame(
        {"item_id": ["bus_stop"]}, geometry=[shapely.Point(*L[12])], crs="EPSG:4326"
    )
    tt = travel_times(net, fac, "beijing")
    minutes, _ = origin_times(net, tt, gpd.GeoSeries([shapely.Point(*L[11])], crs="EPSG:4326"))
    k = load_catalogue("beijing").item_ids.index("bus_stop")
    assert minutes[0, k] == pytest.approx(hand / (1000.0 / 900.0) / 60.0, rel=1e-6)


def test_walk_across_a_square_bends_round_its_inner_corner():
    """East to north entrance of the L: the straight line leaves the square, the walk bends."""
    net = network_from_file(DATA / "plaza_l.osm")
    hand = _metres(*L[3], *L[7]) + _metres(*L[7], *L[5])
    assert hand > _metres(*L[3], *L[5]) + 1.0  # the straight line is shorter (and outside)
    assert _csr_metres(net, 3, 5) == pytest.approx(hand, rel=1e-9)
    assert _nx_metres(net, 3, 5) == pytest.approx(hand, rel=1e-9)


def test_walk_round_a_fountain():
    """A multipolygon square with a hole: the walk goes round the hole's nearer side."""
    net = network_from_file(DATA / "plaza_hole.osm")
    p = {5: (10.0, 45.0005), 6: (10.004, 45.0005), 23: (10.0025, 45.0007), 24: (10.0015, 45.0007)}
    hand = _metres(*p[5], *p[24]) + _metres(*p[24], *p[23]) + _metres(*p[23], *p[6])
    assert _csr_metres(net, 5, 6) == pytest.approx(hand, rel=1e-9)
    assert _nx_metres(net, 5, 6) == pytest.approx(hand, rel=1e-9)
    # no crossing goes through the fountain
    poly = shapely.Polygon(
        [(10.0015, 45.0002), (10.0025, 45.0002), (10.0025, 45.0007), (10.0015, 45.0007)]
    )
    to_wgs = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    for g in net.edge_geometry:
        line = shapely.transform(g, lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
        assert not shapely.buffer(poly, -1e-7).intersects(line)


def test_osmnx_rule_leaves_squares_out():
    net = network_from_file(DATA / "plaza_l.osm", pedestrian_areas=False)
    assert 200 not in set(net.edge_way.tolist())
    assert net.n_edges == 1  # three separate footways: the largest component is one of them


def test_sample_squares_add_length(sample_data):
    """The sample's squares add walkable length; the osmnx rule gives the old network."""
    with_areas = network_from_file(sample_data)
    osmnx_rule = network_from_file(sample_data, pedestrian_areas=False)
    assert with_areas.edge_length.sum() > osmnx_rule.edge_length.sum()
    # the areas only add: a supergraph, whose largest component holds the old one
    assert set(osmnx_rule.node_id.tolist()) <= set(with_areas.node_id.tolist())


# -------------------------------------------------------------------------- community types


def test_community_types_from_osm():
    """Hand-made compounds: the age, gating and size each shows (see the file's comment)."""
    from fifteenmin.communities import communities_from_osm

    data = read_osm(DATA / "compounds.osm")
    com = communities_from_osm(data, network_from_file(data)).set_index("community_name")
    assert com.loc["A", "built_year"] == 1995 and com.loc["A", "community_type"] == "old_compound"
    assert com.loc["B", "built_year"] == 2010  # median of 2005, 2010, 2012
    assert com.loc["B", "community_type"] == "newer_compound"
    assert com.loc[["C", "D"], "community_type"].tolist() == ["unknown", "unknown"]
    assert com.loc[["A", "B", "C", "D"], "gated"].tolist() == ["gated", "open", "gated", "unknown"]
    # sizes: 0.002° x 0.001° at 45° N is 1.75 ha (hand: Geod area), B is 1.5 times wider
    a = abs(GEOD.geometry_area_perimeter(shapely.box(10.0, 45.0, 10.002, 45.001))[0]) / 1e4
    assert com.loc["A", "area_ha"] == pytest.approx(a, rel=2e-3)
    assert com.loc[["A", "B", "D"], "size_class"].tolist() == ["small", "medium", "small"]


def test_old_compound_year_is_a_setting(monkeypatch):
    from fifteenmin import settings
    from fifteenmin.communities import communities_from_osm

    monkeypatch.setattr(settings, "OLD_COMPOUND_BUILT_BY", 2010)
    data = read_osm(DATA / "compounds.osm")
    com = communities_from_osm(data, network_from_file(data)).set_index("community_name")
    assert com.loc["B", "community_type"] == "old_compound"


# -------------------------------------------------------------------------- admin top-up


def _with_admin(data, net, *, residential: bool):
    """The sample with two admin_level=10 boxes over the western 70 % of its nodes."""
    import dataclasses

    import pandas as pd

    xs = float(np.quantile(net.x, 0.7))
    ym = float(np.median(net.y))
    boxes = [
        shapely.box(net.x.min() - 10, net.y.min() - 10, xs, ym),
        shapely.box(net.x.min() - 10, ym, xs, net.y.max() + 10),
    ]
    admin = gpd.GeoDataFrame(
        {
            "osm_type": ["relation", "relation"],
            "osm_id": [1, 2],
            "name": ["West-South", "West-North"],
            "tags": [{"boundary": "administrative", "admin_level": "10"}] * 2,
        },
        geometry=gpd.GeoSeries(boxes, crs=net.crs).to_crs("EPSG:4326"),
        crs="EPSG:4326",
    )
    f = data.features
    if not residential:
        f = f[[t.get("landuse") != "residential" for t in f["tags"]]]
    feats = gpd.GeoDataFrame(pd.concat([f, admin], ignore_index=True), crs="EPSG:4326")
    return dataclasses.replace(data, features=feats), xs, boxes


def test_partial_admin_boundaries_topped_up_with_a_grid(sample_data, sample_net):
    from fifteenmin import settings
    from fifteenmin.communities import communities_from_osm

    net = sample_net
    data, _xs, boxes = _with_admin(sample_data, net, residential=False)
    with pytest.warns(UserWarning, match="admin_level=10 boundaries cover") as rec:
        com = communities_from_osm(data, net)
    # brute force: a node is covered when it lies strictly inside one of the boxes
    covered = np.array(
        [
            any(b.contains(shapely.Point(x, y)) for b in boxes)
            for x, y in zip(net.x, net.y, strict=True)
        ]
    )
    msg = str(next(w.message for w in rec if "admin_level" in str(w.message)))
    assert f"cover {covered.mean():.0%} of the network nodes" in msg
    # every uncovered node's grid cell is a community; cells counted by brute force
    size = settings.GRID_SIZE_M
    x0, y0 = np.floor(net.x.min() / size) * size, np.floor(net.y.min() / size) * size
    cells = {
        (int((y - y0) // size), int((x - x0) // size))
        for x, y in zip(net.x[~covered], net.y[~covered], strict=True)
    }
    grid = com[com["source"] == "grid"]
    assert set(grid["community_id"]) == {f"grid/{r}_{c}" for r, c in cells}
    assert f"scored as {len(cells)} grid cells" in msg
    # grid cells stop at the boundaries: no overlap with the admin communities
    g = np.asarray(grid.to_crs(net.crs).geometry.values, dtype=object)
    assert max(shapely.area(shapely.intersection(g, shapely.union_all(boxes)))) < 1.0
    # every node now lies in a community
    polys = np.asarray(com.to_crs(net.crs).geometry.values, dtype=object)
    pts = shapely.points(net.x, net.y)
    inside = shapely.STRtree(polys).query(pts, predicate="intersects")[0]
    assert len(np.unique(inside)) == net.n_nodes
    assert set(com["source"]) == {"admin_level_10", "grid"}


def test_partial_admin_boundaries_topped_up_with_residential_areas(sample_data, sample_net):
    from fifteenmin.communities import communities_from_osm

    data, _, _ = _with_admin(sample_data, sample_net, residential=True)
    with pytest.warns(UserWarning, match="residential areas"):
        com = communities_from_osm(data, sample_net)
    assert set(com["source"]) == {"admin_level_10", "landuse_residential"}


def test_complete_admin_boundaries_are_not_topped_up(sample_data, sample_net):
    import warnings

    from fifteenmin.communities import communities_from_osm

    net = sample_net
    data, _, _ = _with_admin(sample_data, net, residential=False)
    big = shapely.box(net.x.min() - 10, net.y.min() - 10, net.x.max() + 10, net.y.max() + 10)
    f = data.features.copy()
    f.loc[f["osm_id"] == 1, "geometry"] = gpd.GeoSeries([big], crs=net.crs).to_crs(4326).values
    import dataclasses

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        com = communities_from_osm(dataclasses.replace(data, features=f), net)
    assert set(com["source"]) == {"admin_level_10"}


def test_no_pedestrian_areas_option_gives_the_osmnx_walk_network(tmp_path):
    """``--no-pedestrian-areas`` (RunConfig.pedestrian_areas=False): osmnx's rule, recorded."""
    import json
    import subprocess
    import sys

    from fifteenmin import network_from_file

    osmnx_rule = network_from_file(SAMPLE, pedestrian_areas=False)
    default = network_from_file(SAMPLE)
    assert default.n_nodes > osmnx_rule.n_nodes  # the sample has walkable squares
    out = tmp_path / "r"
    cmd = [sys.executable, "-m", "fifteenmin", "report", str(SAMPLE), "--out", str(out)]
    run = subprocess.run([*cmd, "--no-html", "-q", "--no-pedestrian-areas"], capture_output=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["pedestrian_areas"] is False
    assert summary["network"]["nodes"] == osmnx_rule.n_nodes
    assert summary["network"]["edges"] == osmnx_rule.n_edges
