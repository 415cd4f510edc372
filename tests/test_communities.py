"""Communities and residents: user files, OSM-derived communities, weights, population."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import HELSINKI, SHARED, needs_shared
from fifteenmin import (
    CommunityFileError,
    InputFileError,
    communities_from_file,
    communities_from_osm,
    load_catalogue,
    residents,
)
from fifteenmin.communities import communities_from_frame, residents_from_population

POP_GRID = SHARED / "benchmark" / "helsinki_population_grid_2020.gpkg"
needs_shared_data = pytest.mark.skipif(
    not POP_GRID.is_file() or not HELSINKI.is_file(),
    reason="../shared is not here (a user's clone has no ../shared); this test needs the "
    "Helsinki population grid and OSM extract kept outside the repository",
)


def test_user_file_any_crs(tmp_path, sample_net):
    # two squares in the network's own UTM CRS, written as GeoPackage
    x0, y0 = float(np.median(sample_net.x)), float(np.median(sample_net.y))
    g = gpd.GeoDataFrame(
        {"code": ["c1", "c2"], "名称": ["东区", "西区"]},
        geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300), shapely.box(x0 - 300, y0, x0, y0 + 300)],
        crs=sample_net.crs,
    )
    path = tmp_path / "com.gpkg"
    g.to_file(path)
    com = communities_from_file(path, id_column="code", name_column="名称")
    assert list(com["community_id"]) == ["c1", "c2"]
    assert list(com["community_name"]) == ["东区", "西区"]
    assert com.crs.to_epsg() == 4326
    homes = residents(com, sample_net, None)
    assert set(homes["community_id"]) == {"c1", "c2"}
    assert (homes["kind"] == "street").all()
    # street points every 50 m: total weight = street length inside each square
    inside = shapely.intersection(sample_net.edge_geometry, shapely.box(x0, y0, x0 + 300, y0 + 300))
    expect = shapely.length(inside).sum()
    assert homes.loc[homes.community_id == "c1", "weight"].sum() == pytest.approx(expect, rel=1e-9)


def test_file_with_no_polygons(tmp_path):
    g = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326)
    p = tmp_path / "points.geojson"
    g.to_file(p)
    with pytest.raises(CommunityFileError, match="no polygons"):
        communities_from_file(p)


def test_file_without_crs(tmp_path):
    g = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 1, 1)])
    p = tmp_path / "nocrs.shp"
    g.to_file(p)
    assert not p.with_suffix(".prj").exists()
    with pytest.raises(CommunityFileError, match="no coordinate reference system"):
        communities_from_file(p)


def test_file_missing_and_bad_column(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        communities_from_file(tmp_path / "nope.geojson")
    g = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    p = tmp_path / "c.geojson"
    g.to_file(p)
    with pytest.raises(CommunityFileError, match="no column 'code'"):
        communities_from_file(p, id_column="code")
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json")
    with pytest.raises(InputFileError, match="could not be read"):
        communities_from_file(bad)


def test_sample_communities_from_osm(sample_data, sample_net):
    com = communities_from_osm(sample_data, sample_net)
    assert len(com) > 5
    assert set(com["source"]) == {"landuse_residential"}
    homes = residents(com, sample_net, sample_data)
    assert (homes["weight"] > 0).all()
    assert set(homes["community_id"]) == set(com["community_id"])


@needs_shared
def test_beijing_communities_are_named_compounds(beijing_data, beijing_net):
    com = communities_from_osm(beijing_data, beijing_net)
    names = set(com["community_name"])
    for expected in ("富润家园", "静淑苑", "石科院生活区", "双泉嘉苑", "学士居"):
        assert expected in names
    homes = residents(com, beijing_net, beijing_data)
    by = homes.groupby("community_id")["kind"].first()
    # compounds with mapped buildings use them as homes
    assert (by == "building").sum() >= 3


def test_grid_fallback(sample_net):
    from fifteenmin._osm import OSMData

    empty = OSMData(
        source="x",
        bbox=None,
        ways=None,
        features=gpd.GeoDataFrame(
            {"tags": [], "osm_type": [], "osm_id": [], "name": []}, geometry=[], crs=4326
        ),
    )
    com = communities_from_osm(empty, sample_net, grid_size_m=400)
    assert set(com["source"]) == {"grid"}
    # every network node lies in one grid cell
    pts = gpd.GeoSeries(gpd.points_from_xy(sample_net.lon, sample_net.lat), crs=4326)
    hits = shapely.STRtree(com.geometry.values).query(pts.values, predicate="intersects")[0]
    assert len(np.unique(hits)) == sample_net.n_nodes


def test_communities_from_frame():
    g = gpd.GeoDataFrame(
        {"code": ["b", "a"], "name": ["乙", None]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.Point(5, 5).buffer(1)],
        crs=4326,
    )
    com = communities_from_frame(g, id_column="code")
    assert com["community_id"].tolist() == ["b", "a"]
    assert com["community_name"].tolist() == ["乙", ""]  # "name" is used when present
    assert set(com["source"]) == {"file"} and com.crs.to_epsg() == 4326
    by_row = communities_from_frame(g.to_crs(3857))  # any CRS; ids are row numbers
    assert by_row["community_id"].tolist() == ["0", "1"]
    assert by_row.geometry.iloc[0].equals_exact(g.geometry.iloc[0], tolerance=1e-9)
    # points and lines are dropped; a layer without polygons is an error
    mixed = pd.concat(
        [g, gpd.GeoDataFrame({"code": ["p"]}, geometry=[shapely.Point(9, 9)], crs=4326)]
    )
    assert communities_from_frame(mixed, id_column="code")["community_id"].tolist() == ["b", "a"]
    with pytest.raises(CommunityFileError, match=r"the community GeoDataFrame holds no polygons"):
        communities_from_frame(mixed.iloc[2:])
    with pytest.raises(
        CommunityFileError, match=r"my layer: id 'x' in column 'code' is not unique"
    ):
        communities_from_frame(g.assign(code="x"), id_column="code", where="my layer")
    with pytest.raises(
        CommunityFileError, match=r"no column 'nom' \(given as --name-column / name_column\)"
    ):
        communities_from_frame(g, name_column="nom")
    with pytest.raises(CommunityFileError, match="no coordinate reference system"):
        communities_from_frame(g.set_crs(None, allow_override=True))


def test_street_points_every_50_m_by_hand():
    """Two straight streets: points at the centres of equal pieces of about 50 m."""
    import networkx as nx

    from fifteenmin import from_networkx

    G = nx.Graph(crs="EPSG:4326")
    G.add_node(1, x=116.0, y=40.0)
    G.add_node(2, x=116.001, y=40.0)  # about 85 m east
    G.add_node(3, x=116.001, y=40.002)  # about 222 m north
    G.add_edge(1, 2)
    G.add_edge(2, 3)
    net = from_networkx(G)
    x0, y0 = net.x.min() - 10, net.y.min() - 10
    com = gpd.GeoDataFrame(
        {"community_id": ["S"], "community_name": ["S"], "source": "file"},
        geometry=[shapely.box(x0, y0, net.x.max() + 10, net.y.max() + 10)],
        crs=net.crs,
    )
    homes = residents(com, net, None)
    assert set(homes["kind"]) == {"street"} and set(homes["weight_unit"]) == {"m_street"}
    expected = []
    for line in net.edge_geometry:
        n = max(1, int(line.length // 50))  # 85 m -> 1 point, 222 m -> 4 points
        step = line.length / n
        expected += [(line.interpolate((k + 0.5) * step), step) for k in range(n)]
    assert len(homes) == len(expected) == 5
    pairs = zip(homes.geometry, homes["weight"], strict=True)
    got = sorted((round(p.x, 6), round(p.y, 6), w) for p, w in pairs)
    want = sorted((round(p.x, 6), round(p.y, 6), w) for p, w in expected)
    for g, w in zip(got, want, strict=True):
        assert g[:2] == w[:2] and g[2] == pytest.approx(w[2], rel=1e-12)
    # the weights add up to the street length inside the community
    assert homes["weight"].sum() == pytest.approx(shapely.length(net.edge_geometry).sum())
    # a coarser spacing: 100 m -> 1 and 2 points
    assert len(residents(com, net, None, spacing_m=100.0)) == 3


# ============================================================================================
# Population layers


def _two_communities(net):
    x0 = float(np.median(net.x))
    y0 = float(np.median(net.y))
    com = gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "community_name": ["A", "B"], "source": "file"},
        geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300), shapely.box(x0 - 300, y0, x0, y0 + 300)],
        crs=net.crs,
    ).to_crs(4326)
    return com, x0, y0


def test_population_grid_area_weighted(sample_net):
    com, x0, y0 = _two_communities(sample_net)
    base = residents(com, sample_net, None)
    # a 4 x 2 grid of 200 m cells, from x0-400 to x0+400, y0-100 to y0+300
    cells, vals = [], []
    for i in range(4):
        for j in range(2):
            cells.append(
                shapely.box(
                    x0 - 400 + 200 * i, y0 - 100 + 200 * j, x0 - 200 + 200 * i, y0 + 100 + 200 * j
                )
            )
            vals.append(100.0 * (1 + i + 4 * j))
    grid = gpd.GeoDataFrame(
        {"pop": vals, "old": np.array(vals) / 4, "kids": np.array(vals) / 10},
        geometry=cells,
        crs=sample_net.crs,
    ).to_crs(3857)  # any CRS
    homes = residents_from_population(
        com, grid, sample_net, value_column="pop", elderly_column="old", children_column="kids"
    )
    assert list(homes.columns) == [
        "community_id",
        "weight",
        "kind",
        "weight_unit",
        "weight_elderly",
        "weight_children",
        "geometry",
    ]
    assert set(homes["weight_unit"]) == {"people"}
    assert homes.crs == sample_net.crs
    # expected: people x area(cell ∩ community) / area(cell), per community
    cc = com.to_crs(sample_net.crs)
    for cid, poly in zip(cc["community_id"], cc.geometry, strict=True):
        exp = sum(
            v * shapely.intersection(c, poly).area / c.area
            for c, v in zip(cells, vals, strict=True)
        )
        got = homes.loc[homes["community_id"] == cid, "weight"].sum()
        assert got == pytest.approx(exp, rel=1e-9)
    union = shapely.union_all(cc.geometry.values)
    total = sum(
        v * shapely.intersection(c, union).area / c.area for c, v in zip(cells, vals, strict=True)
    )
    assert homes["weight"].sum() == pytest.approx(total, rel=1e-9)
    assert homes.attrs["population_assigned"] == pytest.approx(total, rel=1e-9)
    assert homes.attrs["population_total"] == sum(vals)
    np.testing.assert_allclose(homes["weight_elderly"], homes["weight"] / 4, rtol=1e-12)
    np.testing.assert_allclose(homes["weight_children"], homes["weight"] / 10, rtol=1e-12)
    # hand check: cell 5 (i=2, j=1: x0..x0+200, y0+100..y0+300) lies inside A; its 700 people
    # all go to A's street points inside it, in proportion to their street metres
    cell = cells[5]
    assert vals[5] == 700.0 and shapely.contains(cc.geometry.iloc[0].buffer(1e-6), cell)
    inside = homes[homes.within(cell)]
    assert inside["weight"].sum() == pytest.approx(700.0, rel=1e-9)
    b_in = base[(base["community_id"] == "A") & base.within(cell)]
    assert len(b_in) == len(inside) and set(inside["kind"]) == {"street"}
    np.testing.assert_allclose(
        np.sort(inside["weight"].to_numpy()),
        np.sort(700.0 * b_in["weight"].to_numpy() / b_in["weight"].sum()),
        rtol=1e-9,
    )
    # residents() itself is unchanged
    pd.testing.assert_frame_equal(
        pd.DataFrame(residents(com, sample_net, None).drop(columns="geometry")),
        pd.DataFrame(base.drop(columns="geometry")),
    )


def test_population_cell_without_origins_gets_a_point(sample_net):
    com, x0, y0 = _two_communities(sample_net)
    # a small cell in A where no street runs: its share becomes a new origin of kind "cell"
    base = residents(com, sample_net, None)
    cc = com.to_crs(sample_net.crs)
    pts = np.asarray(base.geometry.values)
    cell = None
    for dx in range(0, 300, 10):
        for dy in range(0, 300, 10):
            c = shapely.box(x0 + dx, y0 + dy, x0 + dx + 10, y0 + dy + 10)
            if not shapely.intersects(c, pts).any() and shapely.contains(cc.geometry.iloc[0], c):
                cell = c
                break
        if cell is not None:
            break
    assert cell is not None
    grid = gpd.GeoDataFrame({"pop": [40.0]}, geometry=[cell], crs=sample_net.crs)
    homes = residents_from_population(com, grid, sample_net, value_column="pop")
    assert len(homes) == 1
    row = homes.iloc[0]
    assert row["kind"] == "cell" and row["community_id"] == "A" and row["weight"] == 40.0
    assert shapely.contains(cell, row.geometry)
    assert "weight_elderly" not in homes.columns


def test_population_points(sample_net):
    com, x0, y0 = _two_communities(sample_net)
    base = residents(com, sample_net, None)
    pts = gpd.GeoDataFrame(
        {"people": [100.0, 30.0, 999.0, np.nan]},
        geometry=[
            shapely.Point(x0 + 150, y0 + 150),  # inside A
            shapely.Point(x0 - 400, y0 + 150),  # 100 m west of B
            shapely.Point(x0 + 10_000, y0),  # far away: dropped
            shapely.Point(x0 + 100, y0 + 100),  # no count: 0
        ],
        crs=sample_net.crs,
    )
    homes = residents_from_population(com, pts, sample_net, value_column="people")
    per = homes.groupby("community_id")["weight"].sum()
    assert per["A"] == pytest.approx(100.0) and per["B"] == pytest.approx(30.0)
    assert homes.attrs["population_total"] == pytest.approx(1129.0)
    assert homes.attrs["population_assigned"] == pytest.approx(130.0)
    # split over all of A's origins in proportion to their base weights
    a_new = homes[homes["community_id"] == "A"].reset_index(drop=True)  # same order as base
    a_old = base[base["community_id"] == "A"].reset_index(drop=True)
    np.testing.assert_allclose(
        a_new["weight"].to_numpy(), 100.0 * a_old["weight"] / a_old["weight"].sum(), rtol=1e-9
    )
    near = residents_from_population(
        com, pts, sample_net, value_column="people", max_distance_m=50.0
    )
    assert set(near["community_id"]) == {"A"}
    inside_only = residents_from_population(
        com, pts, sample_net, value_column="people", max_distance_m=0
    )
    assert inside_only.attrs["population_assigned"] == pytest.approx(100.0)


def test_population_errors(tmp_path, sample_net):
    com, x0, y0 = _two_communities(sample_net)
    grid = gpd.GeoDataFrame(
        {"pop": [1.0]}, geometry=[shapely.box(x0, y0, x0 + 10, y0 + 10)], crs=sample_net.crs
    )
    with pytest.raises(CommunityFileError, match=r"no column 'people'.*columns are: \['pop'\]"):
        residents_from_population(com, grid, sample_net, value_column="people")
    with pytest.raises(CommunityFileError, match=r"no column 'old'.*elderly_column"):
        residents_from_population(com, grid, sample_net, value_column="pop", elderly_column="old")
    with pytest.raises(CommunityFileError, match="negative"):
        residents_from_population(com, grid.assign(pop=-1.0), sample_net, value_column="pop")
    with pytest.raises(CommunityFileError, match="numbers of people; found 'many'"):
        residents_from_population(com, grid.assign(pop="many"), sample_net, value_column="pop")
    with pytest.raises(CommunityFileError, match="no coordinate reference system"):
        residents_from_population(
            com, grid.set_crs(None, allow_override=True), sample_net, value_column="pop"
        )
    lines = gpd.GeoDataFrame(
        {"pop": [1.0]}, geometry=[shapely.LineString([(x0, y0), (x0 + 9, y0)])], crs=sample_net.crs
    )
    with pytest.raises(CommunityFileError, match="LineString"):
        residents_from_population(com, lines, sample_net, value_column="pop")
    with pytest.raises(InputFileError, match="not found"):
        residents_from_population(com, tmp_path / "nope.gpkg", sample_net, value_column="pop")


@pytest.fixture(scope="module")
def helsinki():
    from fifteenmin import network_from_file, read_osm

    if not HELSINKI.is_file():
        pytest.skip("../shared/data/osm is not here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_osm(HELSINKI, keys=load_catalogue("beijing").osm_keys())
        net = network_from_file(data)
    return data, net


def _expected_population(grid: gpd.GeoDataFrame, com: gpd.GeoDataFrame) -> tuple[float, pd.Series]:
    """People of the cells overlapping the communities, area-weighted, in ETRS-TM35FIN."""
    g = grid.to_crs(3067)
    union = com.to_crs(3067).union_all()
    share = g.geometry.intersection(union).area / g.geometry.area
    return float((g["population"] * share).sum()), share


@needs_shared_data
def test_helsinki_population_grid_landuse_communities(helsinki):
    data, net = helsinki
    com = communities_from_osm(data, net)
    grid = gpd.read_file(POP_GRID, layer="population_grid_2020")
    assert len(grid) == 92 and int(grid["population"].sum()) == 71_724
    homes = residents_from_population(
        com, POP_GRID, net, value_column="population", data=data, layer="population_grid_2020"
    )
    expected, share = _expected_population(grid, com)
    assert (share > 0).sum() == 15  # cells overlapping the residential areas
    assert homes["weight"].sum() == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(438.1, abs=0.05)
    assert homes.attrs["population_total"] == 71_724
    assert set(homes["kind"]) <= {"building", "cell"}
    # hand check of the cell with the largest overlap: id 54, 1,070 people, 13.19 % of its
    # area inside residential areas -> 1,070 x 0.13193 = 141.17 people on the origins in it
    k = int(share.idxmax())
    assert int(grid["id"][k]) == 54 and int(grid["population"][k]) == 1070
    assert share[k] == pytest.approx(0.13193, abs=1e-4)
    cell = grid.to_crs(net.crs).geometry[k]
    assert homes[homes.within(cell)]["weight"].sum() == pytest.approx(1070 * share[k], rel=1e-6)
    assert 1070 * share[k] == pytest.approx(141.17, abs=0.01)


@needs_shared_data
def test_helsinki_population_grid_on_grid_communities(helsinki):
    data, net = helsinki
    # 500 m square communities over the network (the grid fallback of communities_from_osm)
    size = 500.0
    x0 = np.floor(net.x.min() / size) * size
    y0 = np.floor(net.y.min() / size) * size
    boxes = [
        shapely.box(x, y, x + size, y + size)
        for x in np.arange(x0, net.x.max(), size)
        for y in np.arange(y0, net.y.max(), size)
    ]
    com = gpd.GeoDataFrame(
        {"community_id": [f"g{i}" for i in range(len(boxes))], "source": "grid"},
        geometry=boxes,
        crs=net.crs,
    )
    grid = gpd.read_file(POP_GRID)
    homes = residents_from_population(com, grid, net, value_column="population", data=data)
    expected, _ = _expected_population(grid, com)
    assert homes["weight"].sum() == pytest.approx(expected, rel=1e-6)
    assert 0 < expected < 71_724
    per = homes.groupby("community_id")["weight"].sum()
    cc = com.to_crs(3067)
    g = grid.to_crs(3067)
    for cid, poly in zip(cc["community_id"], cc.geometry, strict=True):
        exp = float((g["population"] * g.geometry.intersection(poly).area / g.geometry.area).sum())
        assert per.get(cid, 0.0) == pytest.approx(exp, rel=1e-6, abs=1e-6)
