"""Communities and residents: user files, OSM-derived communities, weights."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import needs_shared
from fifteenmin import (
    CommunityFileError,
    InputFileError,
    communities_from_file,
    communities_from_osm,
    residents,
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
