"""User data: Chinese web-map coordinates, user facility tables, population layers."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from fifteenmin import (
    CommunityFileError,
    FacilityFileError,
    InputFileError,
    communities_from_osm,
    facilities_from_osm,
    load_catalogue,
    origin_times,
    residents,
    sample_path,
    travel_times,
)
from fifteenmin._coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from fifteenmin.communities import residents_from_population
from fifteenmin.facilities import (
    MERGED_COLUMNS,
    facilities_from_table,
    item_aliases,
    merge_facilities,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
POP_GRID = SHARED / "data" / "osm" / "benchmark" / "helsinki_population_grid_2020.gpkg"
HELSINKI = SHARED / "data" / "osm" / "benchmark" / "helsinki_centre_2019.osm.pbf"
needs_shared_data = pytest.mark.skipif(
    not POP_GRID.is_file() or not HELSINKI.is_file(),
    reason="../shared is not here (a user's clone has no ../shared); this test needs the "
    "Helsinki population grid and OSM extract kept outside the repository",
)
GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ============================================================================================
# Coordinates

# googollee/eviltransform, python/test.py and go/transform_test.go (`TESTS` / `tests`):
# (wgsLat, wgsLng, gcjLat, gcjLng) for Shanghai, Shenzhen and Beijing. That project checks
# wgs2gcj to 6 decimals (Go: 5) and its exact gcj2wgs to 0.5 m; the digits reproduce exactly.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]

# wandergis/coordtransform, README.md ("result" block), input (lng, lat) = (116.404, 39.915).
# Its forward functions are the same formulas as ours; its inverses are the closed-form
# one-step approximations, off by a few 1e-7 degrees.
CT_IN = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_BD09_TO_GCJ02_APPROX = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_eviltransform_vectors(wlat, wlng, glat, glng):
    lon, lat = wgs84_to_gcj02(wlng, wlat)
    assert abs(lon - glng) < 1e-9 and abs(lat - glat) < 1e-9
    lon, lat = gcj02_to_wgs84(glng, glat)  # exact inverse
    assert abs(lon - wlng) < 1e-9 and abs(lat - wlat) < 1e-9


def test_coordtransform_readme_vectors():
    lon, lat = wgs84_to_gcj02(*CT_IN)
    assert lon == pytest.approx(CT_WGS84_TO_GCJ02[0], abs=1e-9)
    assert lat == pytest.approx(CT_WGS84_TO_GCJ02[1], abs=1e-9)
    lon, lat = gcj02_to_bd09(*CT_IN)
    assert lon == pytest.approx(CT_GCJ02_TO_BD09[0], abs=1e-9)
    assert lat == pytest.approx(CT_GCJ02_TO_BD09[1], abs=1e-9)
    # inverses: within 1e-6 deg of the one-step approximations, but exact where they are not
    for inverse, forward, approx in (
        (gcj02_to_wgs84, wgs84_to_gcj02, CT_GCJ02_TO_WGS84_APPROX),
        (bd09_to_gcj02, gcj02_to_bd09, CT_BD09_TO_GCJ02_APPROX),
    ):
        lon, lat = inverse(*CT_IN)
        assert abs(lon - approx[0]) < 1e-6 and abs(lat - approx[1]) < 1e-6
        back = forward(lon, lat)
        assert max(abs(back[0] - CT_IN[0]), abs(back[1] - CT_IN[1])) < 1e-9
        back_approx = forward(*approx)
        assert max(abs(back_approx[0] - CT_IN[0]), abs(back_approx[1] - CT_IN[1])) > 1e-7


def test_beijing_offset_tiananmen():
    lon, lat = wgs84_to_gcj02(116.3913, 39.9075)
    assert lon == pytest.approx(116.3975, abs=1e-4)
    assert lat == pytest.approx(39.9089, abs=1e-4)
    assert lon > 116.3913 and lat > 39.9075  # east and north in Beijing
    d = float(_metres(116.3913, 39.9075, lon, lat))
    assert 100 < d < 700
    bd = wgs84_to_bd09(116.3913, 39.9075)
    assert float(_metres(lon, lat, *bd)) > 100  # Baidu moves it again


def test_round_trips_vectorised():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.7, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.5, 20_000)
    g = wgs84_to_gcj02(lon, lat)
    w = gcj02_to_wgs84(*g)
    assert np.abs(w[0] - lon).max() < 1e-6 and np.abs(w[1] - lat).max() < 1e-6
    assert np.abs(w[0] - lon).max() < 1e-9  # in fact to the iteration tolerance
    b = gcj02_to_bd09(lon, lat)
    back = gcj02_to_bd09(*bd09_to_gcj02(*b))
    assert np.abs(back[0] - b[0]).max() < 1e-9 and np.abs(back[1] - b[1]).max() < 1e-9
    w2 = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.abs(w2[0] - lon).max() < 1e-9 and np.abs(w2[1] - lat).max() < 1e-9
    # the offset itself: tens to hundreds of metres everywhere in China
    d = _metres(lon, lat, g[0], g[1])
    assert d.min() > 1 and d.max() < 1500


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(72.1, 137.8, allow_nan=False), lat=st.floats(0.9, 55.8, allow_nan=False))
def test_round_trip_property(lon, lat):
    w = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(w[0] - lon) < 1e-7 and abs(w[1] - lat) < 1e-7
    g = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert abs(g[0] - lon) < 1e-7 and abs(g[1] - lat) < 1e-7


def test_outside_china_unchanged():
    for fn in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        bd09_to_wgs84,
        wgs84_to_bd09,
    ):
        assert fn(24.94, 60.17) == (24.94, 60.17)  # Helsinki
        assert fn(-74.0, 40.7) == (-74.0, 40.7)  # New York
    lon, lat = to_wgs84(np.array([24.94, 116.3975]), np.array([60.17, 39.9089]), "gcj02")
    assert (lon[0], lat[0]) == (24.94, 60.17)
    assert lon[1] == pytest.approx(116.3913, abs=1e-4)
    assert out_of_china(24.94, 60.17) and not out_of_china(116.4, 39.9)
    lon, lat = gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([39.9, 39.9]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1])


def test_to_wgs84_systems_and_shapes():
    lon = np.array([[116.40, 116.41], [121.47, 113.26]])
    lat = np.array([[39.90, 39.91], [31.23, 23.13]])
    out = to_wgs84(lon, lat, "GCJ-02")
    assert out[0].shape == (2, 2)
    np.testing.assert_array_equal(out[0], gcj02_to_wgs84(lon, lat)[0])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "bd09")[1], bd09_to_wgs84(lon, lat)[1])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "wgs84")[0], lon)
    assert isinstance(to_wgs84(116.4, 39.9, "bd09")[0], float)
    with pytest.raises(ValueError, match="unknown coordinate system 'utm'"):
        to_wgs84(116.4, 39.9, "utm")


# ============================================================================================
# Facility tables


def test_aliases_cover_names_and_ids():
    al = item_aliases("beijing")
    cat = load_catalogue("beijing")
    for it in cat.items:
        assert al[it.id] == it.id
    assert al["药店"] == "pharmacy"
    assert al["托老所"] == "elderly_day_care"
    assert al["幼儿园"] == "kindergarten"
    assert al["kindergarten (age 3-6)"] == "kindergarten"
    assert al["社区卫生服务站"] == "community_health_station"
    assert "居住区公园" not in al  # park_15 and park_10 share it


def _write_gbk_csv(path: Path) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "名称": ["老百姓大药房", "阳光幼儿园", "幸福食堂", "社区养老驿站"],
            "类别": ["药店", "幼儿园", "社区食堂", "托老所"],
            "经度": [116.3975, 116.4010, 116.3990, 116.3950],
            "纬度": [39.9089, 39.9100, 39.9120, 39.9070],
        }
    )
    df.to_csv(path, index=False, encoding="gbk")
    return df


def test_gbk_csv_chinese_names_gcj02(tmp_path):
    p = tmp_path / "设施.csv"
    df = _write_gbk_csv(p)
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")  # really GBK
    fac = facilities_from_table(p, item_column="类别", coord_system="gcj02")
    assert list(fac.columns) == MERGED_COLUMNS
    assert fac.crs.to_epsg() == 4326
    # catalogue order: kindergarten, pharmacy, elderly_day_care, community_canteen
    assert fac["item_id"].tolist() == [
        "kindergarten",
        "pharmacy",
        "elderly_day_care",
        "community_canteen",
    ]
    assert fac["facility_id"].tolist() == [0, 1, 2, 3]
    assert fac["osm_id"].tolist() == [1, 0, 3, 2]  # row numbers in the file
    assert fac["name"].tolist() == ["阳光幼儿园", "老百姓大药房", "社区养老驿站", "幸福食堂"]
    assert set(fac["osm_type"]) == {"user"} and set(fac["source"]) == {"user"}
    assert all(t == {} for t in fac["tags"])
    exp_lon, exp_lat = gcj02_to_wgs84(df["经度"].to_numpy(), df["纬度"].to_numpy())
    rows = fac["osm_id"].to_numpy()
    np.testing.assert_allclose(fac.geometry.x, exp_lon[rows], atol=1e-12, rtol=0)
    np.testing.assert_allclose(fac.geometry.y, exp_lat[rows], atol=1e-12, rtol=0)
    moved = _metres(
        df["经度"].to_numpy()[rows], df["纬度"].to_numpy()[rows], fac.geometry.x, fac.geometry.y
    )
    assert (moved > 100).all() and (moved < 700).all()


def test_utf8_bom_semicolon_csv_bd09_english_names(tmp_path):
    p = tmp_path / "pois.csv"
    p.write_text(
        "Name;Type;LNG;LAT\nCorner shop;convenience store;116.404;39.915\n"
        "Clinic;Outpatient clinic;116.41;39.92\n",
        encoding="utf-8-sig",
    )
    fac = facilities_from_table(p, item_column="Type", coord_system="bd09", name_column="Name")
    assert fac["item_id"].tolist() == ["outpatient_clinic", "convenience_store"]
    lon, lat = bd09_to_wgs84(116.404, 39.915)
    row = fac[fac["item_id"] == "convenience_store"].iloc[0]
    assert row.geometry.x == pytest.approx(lon, abs=1e-12)
    assert row.geometry.y == pytest.approx(lat, abs=1e-12)
    assert row["name"] == "Corner shop"


def test_vector_file_epsg3857(tmp_path):
    to3857 = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    pts_ll = [(24.9410, 60.1690), (24.9450, 60.1700)]
    xy = [to3857.transform(*p) for p in pts_ll]
    sq = shapely.box(xy[0][0] + 50, xy[0][1] + 50, xy[0][0] + 150, xy[0][1] + 150)
    g = gpd.GeoDataFrame(
        {"kind": ["Pharmacy", "kindergarten", "park_5"], "name": ["A", "B", "Pocket park"]},
        geometry=[shapely.Point(xy[0]), shapely.Point(xy[1]), sq],
        crs="EPSG:3857",
    )
    p = tmp_path / "fac.gpkg"
    g.to_file(p, layer="pois")
    fac = facilities_from_table(p, item_column="kind", layer="pois")
    assert fac.crs.to_epsg() == 4326
    assert fac["item_id"].tolist() == ["kindergarten", "pharmacy", "park_5"]
    ph = fac[fac["item_id"] == "pharmacy"].geometry.iloc[0]
    assert ph.x == pytest.approx(24.9410, abs=1e-9) and ph.y == pytest.approx(60.1690, abs=1e-9)
    park = fac[fac["item_id"] == "park_5"].geometry.iloc[0]
    assert park.geom_type == "Polygon"
    assert park.equals_exact(g.to_crs(4326).geometry.iloc[2], tolerance=1e-12)
    # the same frame in memory gives the same result
    fac2 = facilities_from_table(g, item_column="kind")
    assert fac2.drop(columns="tags").equals(fac.drop(columns="tags"))


def test_unknown_item_names_it(tmp_path):
    df = pd.DataFrame(
        {"item": ["pharmacy", "美甲店", "pharmcy", None], "lon": [1.0] * 4, "lat": [2.0] * 4}
    )
    with pytest.raises(FacilityFileError) as exc:
        facilities_from_table(df, item_column="item")
    msg = str(exc.value)
    assert "美甲店" in msg and "'pharmcy'" in msg and "<empty>" in msg
    assert "did you mean 'pharmacy'" in msg
    assert "valid ids:" in msg and "kindergarten" in msg and "bus_stop" in msg
    assert "rows 1, 2, 3" in msg
    df2 = pd.DataFrame({"item": ["居住区公园"], "lon": [1.0], "lat": [2.0]})
    with pytest.raises(FacilityFileError, match=r"names several items .*park_15.*park_10"):
        facilities_from_table(df2, item_column="item")


def test_missing_columns_named(tmp_path):
    p = tmp_path / "a.csv"
    _write_gbk_csv(p)
    with pytest.raises(FacilityFileError) as exc:
        facilities_from_table(p, item_column="类型")
    assert "no column '类型'" in str(exc.value)
    assert "['名称', '类别', '经度', '纬度']" in str(exc.value)
    with pytest.raises(FacilityFileError, match=r"no column 'lng'.*lon_column.*'经度'"):
        facilities_from_table(p, item_column="类别", lon_column="lng")
    df = pd.DataFrame({"item": ["pharmacy"], "east": [116.4], "north": [39.9]})
    with pytest.raises(FacilityFileError, match=r"no longitude column.*lon_column=.*'east'"):
        facilities_from_table(df, item_column="item")
    fac = facilities_from_table(df, item_column="item", lon_column="east", lat_column="north")
    assert fac.geometry.x.iloc[0] == 116.4
    with pytest.raises(FacilityFileError, match="no column 'nom'"):
        facilities_from_table(
            df, item_column="item", lon_column="east", lat_column="north", name_column="nom"
        )


def test_bad_coordinates_and_files(tmp_path):
    df = pd.DataFrame(
        {"item": ["pharmacy", "pharmacy"], "lon": ["116.4", "n/a"], "lat": [39.9, 39.9]}
    )
    with pytest.raises(FacilityFileError, match="rows 1 have no numeric coordinates"):
        facilities_from_table(df, item_column="item")
    swapped = pd.DataFrame({"item": ["pharmacy"], "lon": [39.9], "lat": [116.4]})
    with pytest.raises(FacilityFileError, match="look swapped"):
        facilities_from_table(swapped, item_column="item")
    projected = pd.DataFrame({"item": ["pharmacy"], "x": [12957000.0], "y": [4852000.0]})
    with pytest.raises(FacilityFileError, match="pass crs="):
        facilities_from_table(projected, item_column="item")
    fac = facilities_from_table(projected, item_column="item", crs="EPSG:3857")
    assert fac.geometry.x.iloc[0] == pytest.approx(116.39, abs=0.01)
    with pytest.raises(InputFileError, match="not found"):
        facilities_from_table(tmp_path / "nope.csv", item_column="item")
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json")
    with pytest.raises(InputFileError, match="could not be read"):
        facilities_from_table(bad, item_column="item")
    nocrs = gpd.GeoDataFrame({"item": ["pharmacy"]}, geometry=[shapely.Point(116.4, 39.9)])
    with pytest.raises(FacilityFileError, match="no coordinate reference system"):
        facilities_from_table(nocrs, item_column="item")
    assert len(facilities_from_table(nocrs, item_column="item", crs=4326)) == 1
    with pytest.raises(ValueError, match="unknown coordinate system"):
        facilities_from_table(df, item_column="item", coord_system="wgs")
    with pytest.warns(UserWarning, match="outside China"):
        facilities_from_table(
            pd.DataFrame({"item": ["pharmacy"], "lon": [24.9], "lat": [60.2]}),
            item_column="item",
            coord_system="gcj02",
        )


@pytest.fixture(scope="module")
def osm_facilities():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return facilities_from_osm(sample_path(), "beijing")


def test_merge_with_osm_deterministic(osm_facilities):
    user = facilities_from_table(
        pd.DataFrame(
            {
                "item": ["pharmacy", "托老所", "restaurant", "pharmacy"],
                "name": ["P1", "E1", "R1", "P2"],
                "lon": [24.941, 24.942, 24.943, 24.944],
                "lat": [60.169, 60.170, 60.171, 60.172],
            }
        ),
        item_column="item",
    )
    merged = merge_facilities(osm_facilities, user)
    assert list(merged.columns) == MERGED_COLUMNS
    assert len(merged) == len(osm_facilities) + len(user)
    assert merged["facility_id"].tolist() == list(range(len(merged)))
    assert (merged["source"] == "user").sum() == 4
    assert (merged["source"] == "osm").sum() == len(osm_facilities)
    # catalogue order, then OSM before user, then id
    order = {it.id: k for k, it in enumerate(load_catalogue("beijing").items)}
    k = merged["item_id"].map(order).to_numpy()
    assert (np.diff(k) >= 0).all()
    ph = merged[merged["item_id"] == "pharmacy"]
    assert ph["source"].tolist() == ["osm"] * (len(ph) - 2) + ["user", "user"]
    assert ph["name"].tolist()[-2:] == ["P1", "P2"]
    # the order of the frames does not matter
    other = merge_facilities(user, osm_facilities)
    pd.testing.assert_frame_equal(
        pd.DataFrame(merged.drop(columns=["geometry", "tags"])),
        pd.DataFrame(other.drop(columns=["geometry", "tags"])),
    )
    assert merged.geometry.geom_equals(other.geometry).all()
    # OSM tags survive
    assert merged.loc[merged["source"] == "osm", "tags"].map(len).gt(0).all()
    assert len(merge_facilities()) == 0


def test_user_facility_raises_share(sample_data, sample_net, osm_facilities):
    cat = load_catalogue("beijing")
    item = "elderly_day_care"
    assert (osm_facilities["item_id"] == item).sum() == 0  # OSM has none in the sample
    com = communities_from_osm(sample_data, sample_net)
    homes = residents(com, sample_net, sample_data)
    # the community with most resident weight; a day-care post at its representative point
    target = homes.groupby("community_id")["weight"].sum().idxmax()
    poly = com.loc[com["community_id"] == target].geometry.iloc[0]
    here = poly.representative_point()
    user = facilities_from_table(
        pd.DataFrame({"类别": ["老年人日间照料中心"], "经度": [here.x], "纬度": [here.y]}),
        item_column="类别",
    )
    k = cat.item_ids.index(item)
    tier = cat.items[k].tier_minutes

    def share(fac) -> float:
        tt = travel_times(sample_net, fac, cat)
        minutes, _ = origin_times(sample_net, tt, homes)
        m = (homes["community_id"] == target).to_numpy()
        w = homes["weight"].to_numpy()[m]
        return float((w * (minutes[m, k] <= tier)).sum() / w.sum())

    before = share(osm_facilities)
    after = share(merge_facilities(osm_facilities, user))
    assert before == 0.0
    assert after > 0.8


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
