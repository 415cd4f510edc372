"""Facilities: OSM matches, access points, counts, the user's facility tables, merging."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from conftest import BEIJING, HELSINKI, SAMPLE, needs_shared
from fifteenmin import (
    FacilityFileError,
    InputFileError,
    _snap,
    communities_from_osm,
    facilities_from_osm,
    load_catalogue,
    origin_times,
    read_osm,
    residents,
    sample_path,
    travel_times,
)
from fifteenmin._coords import bd09_to_wgs84, gcj02_to_wgs84
from fifteenmin._geom import points_along
from fifteenmin.facilities import (
    FACILITY_COLUMNS,
    MERGED_COLUMNS,
    access_points,
    entrances_from_osm,
    facilities_from_table,
    facility_counts,
    item_aliases,
    merge_facilities,
)

GEOD = pyproj.Geod(ellps="WGS84")
UTM35 = "EPSG:32635"  # metres (Helsinki's UTM zone)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ============================================================================================
# OSM facilities


def _check_matches(fac: gpd.GeoDataFrame, cat) -> None:
    """Every row is a catalogue match of its element, in catalogue then OSM order."""
    assert set(FACILITY_COLUMNS) < set(fac.columns)
    assert list(fac.columns) == [
        "facility_id",
        "item_id",
        "osm_type",
        "osm_id",
        "name",
        "tags",
        "geometry",
    ]
    assert fac["facility_id"].tolist() == list(range(len(fac)))
    assert fac.crs.to_epsg() == 4326
    key = pd.DataFrame(
        {"rank": cat.rank(fac["item_id"]), "type": fac["osm_type"], "id": fac["osm_id"]}
    )
    assert key.equals(key.sort_values(["rank", "type", "id"], kind="stable"))
    utm = fac.geometry.estimate_utm_crs()
    area = fac.geometry.to_crs(utm).area.to_numpy()
    is_area = shapely.get_type_id(fac.geometry.values) >= 3
    for tags, item, a, poly in zip(fac["tags"], fac["item_id"], area, is_area, strict=True):
        assert item in cat.match(tags, float(a) if poly else None)
    # an element matching several items gives one row per item, never two for one item
    assert not fac.duplicated(["item_id", "osm_type", "osm_id"]).any()


@needs_shared
def test_beijing_facilities(beijing_data):
    cat = load_catalogue("beijing")
    fac = facilities_from_osm(beijing_data, cat)
    _check_matches(fac, cat)
    n = fac["item_id"].value_counts()
    assert len(fac) == 238
    assert (n["bus_stop"], n["restaurant"], n["convenience_store"], n["metro_station"]) == (
        66,
        43,
        20,
        10,
    )
    rows = fac.set_index(["item_id", "osm_type", "osm_id"])["name"]
    assert rows["pharmacy", "node", 8057418630] == "同仁堂"
    assert rows["kindergarten", "node", 1785669301] == "中国农业大学东校区幼儿园"
    assert rows["kindergarten", "way", 1192949960] == "未来之星实验幼儿园"  # a campus polygon
    assert rows["primary_school", "way", 167304641] == "中国农业大学附属实验小学"
    assert rows["supermarket", "node", 10707024844] == "物美"
    assert "hospital" not in n  # none mapped in this part of Haidian
    # the path and the data already read give the same facilities
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = facilities_from_osm(BEIJING, "beijing")
    pd.testing.assert_frame_equal(
        pd.DataFrame(fac.drop(columns="geometry")), pd.DataFrame(again.drop(columns="geometry"))
    )


@pytest.fixture(scope="module")
def helsinki_data():
    if not HELSINKI.is_file():
        pytest.skip("../shared/data/osm is not here: the Helsinki extract is kept outside the repo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_osm(HELSINKI, keys=load_catalogue("beijing").osm_keys())


@needs_shared
def test_helsinki_facilities(helsinki_data):
    cat = load_catalogue("beijing")
    fac = facilities_from_osm(helsinki_data, cat)
    _check_matches(fac, cat)
    n = fac["item_id"].value_counts()
    assert len(fac) == 702  # 700 + a primary and a junior school read from Finnish names
    assert (n["primary_school"], n["junior_middle_school"]) == (1, 1)
    assert (n["restaurant"], n["cafe_tea"], n["bus_stop"], n["pharmacy"]) == (270, 94, 92, 6)
    pharmacies = fac.loc[fac["item_id"] == "pharmacy", "name"].tolist()
    assert pharmacies[:3] == ["Apteekki Eliel", "Yliopiston apteekki", "Apteekki Bulevardia"]
    assert "Lidl" in set(fac.loc[fac["item_id"] == "supermarket", "name"])
    # Kaisaniemi park is a multipolygon relation large enough for the 15-minute park tier
    park = fac[fac["item_id"] == "park_15"]
    assert park[["osm_type", "osm_id", "name"]].values.tolist() == [
        ["relation", 6627217, "Kaisaniemen puisto"]
    ]
    assert park.geom_type.iloc[0] in {"Polygon", "MultiPolygon"}
    # Finnish day care is not mapped as a Chinese kindergarten
    assert "kindergarten" not in n


def test_entrances_are_nodes(sample_data):
    ent = entrances_from_osm(sample_data)
    assert len(ent) > 0 and set(ent.geom_type) == {"Point"}
    f = sample_data.features
    tags = f["tags"]
    expected = sum(
        1
        for t, kind in zip(tags, f["osm_type"], strict=True)
        if kind == "node"
        and ("entrance" in t or t.get("barrier") in ("gate", "entrance", "turnstile"))
    )
    assert len(ent) == expected


# ============================================================================================
# Access points


def _facilities(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"item_id": ["park_5"] * len(geoms)}, geometry=list(geoms), crs=UTM35)


def _xy(pts: pd.DataFrame) -> list[tuple[float, float]]:
    return [(round(x, 9), round(y, 9)) for x, y in zip(pts["x"], pts["y"], strict=True)]


def test_boundary_points_on_a_square_by_hand():
    # a 100 m square: perimeter 400 m, 25 m apart -> 16 points, from the ring's first vertex
    # (100, 0) counter-clockwise, corners included
    sq = shapely.box(0, 0, 100, 100)
    assert sq.exterior.coords[0] == (100.0, 0.0)
    pts = access_points(_facilities(sq), UTM35)
    assert list(pts.columns) == ["facility", "x", "y"]
    assert (pts["facility"] == 0).all()
    side = [0.0, 25.0, 50.0, 75.0]
    expected = (
        [(100.0, y) for y in side]  # up the east side
        + [(100.0 - x, 100.0) for x in side]  # west along the north side
        + [(0.0, 100.0 - y) for y in side]  # down the west side
        + [(x, 0.0) for x in side]  # east along the south side
    )
    assert len(pts) == 16
    assert _xy(pts) == sorted(expected)  # sorted by facility, x, y
    # 30 m apart: ceil(400 / 30) = 14 points, 400 / 14 m apart along the ring
    pts = access_points(_facilities(sq), UTM35, spacing_m=30.0)
    assert len(pts) == 14
    ring = sq.exterior
    along = sorted(round(ring.project(shapely.Point(x, y)), 6) for x, y in _xy(pts))
    np.testing.assert_allclose(along, np.arange(14) * 400.0 / 14, atol=1e-6)
    # a 4 m square (perimeter 16 m < 25 m) still gets at least 4 points: its corners
    small = access_points(_facilities(shapely.box(0, 0, 4, 4)), UTM35)
    assert _xy(small) == [(0.0, 0.0), (0.0, 4.0), (4.0, 0.0), (4.0, 4.0)]


def test_access_points_holes_parts_entrances_points_lines():
    hole = shapely.box(40, 40, 60, 60).exterior.coords
    with_hole = shapely.Polygon(shapely.box(0, 0, 100, 100).exterior.coords, [hole])
    two = shapely.MultiPolygon([shapely.box(200, 0, 225, 25), shapely.box(300, 0, 350, 50)])
    pt = shapely.Point(500, 500)
    line = shapely.LineString([(600, 0), (610, 0), (610, 10)])
    gated = shapely.box(1000, 0, 1100, 100)
    fac = _facilities(with_hole, two, pt, line, gated)
    # an entrance 1 m outside the gated square's boundary, another 5 m away (too far)
    entrances = gpd.GeoSeries([shapely.Point(1050, -1), shapely.Point(995, 50)], crs=UTM35)
    pts = access_points(fac, UTM35, entrances)
    by = {k: _xy(g) for k, g in pts.groupby("facility")}
    # no walking in through a hole: the outer ring only, 16 points
    assert len(by[0]) == 16 and all(not (40 <= x <= 60 and 40 <= y <= 60) for x, y in by[0])
    # each part of a multipolygon: 100 m -> 4 points, 200 m -> 8 points
    assert len(by[1]) == 12
    assert by[2] == [(500.0, 500.0)]
    assert by[3] == [(600.0, 0.0), (610.0, 0.0), (610.0, 10.0)]  # a line's vertices
    assert by[4] == [(1050.0, -1.0)]  # the entrance instead of boundary points
    wide = access_points(fac, UTM35, entrances, entrance_tolerance_m=6.0)
    assert _xy(wide[wide["facility"] == 4]) == [(995.0, 50.0), (1050.0, -1.0)]
    assert len(access_points(fac.iloc[:0], UTM35)) == 0


def _access_points_geos(
    facilities: gpd.GeoDataFrame, crs, entrances: gpd.GeoSeries | None
) -> pd.DataFrame:
    """access_points as it was before the compiled boundary points: a shapely point each."""
    geoms = np.asarray(facilities.geometry.to_crs(crs).values, dtype=object)
    tid = shapely.get_type_id(geoms)
    fac_idx, pts = [], []
    for types in ((0, 4), (1, 2, 5)):
        idx = np.flatnonzero(np.isin(tid, types))
        c, ci = shapely.get_coordinates(geoms[idx], return_index=True)
        fac_idx.append(idx[ci])
        pts.append(c)
    idx = np.flatnonzero(np.isin(tid, (3, 6)))
    polys = geoms[idx]
    has_entrance = np.zeros(len(idx), dtype=bool)
    if entrances is not None and len(entrances):
        ent = np.asarray(entrances.to_crs(crs).values, dtype=object)
        pi, ei = shapely.STRtree(ent).query(shapely.boundary(polys), "dwithin", distance=2.0)
        fac_idx.append(idx[pi])
        pts.append(shapely.get_coordinates(ent[ei]).reshape(-1, 2))
        has_entrance[pi] = True
    rest = ~has_entrance
    parts, owner = shapely.get_parts(polys[rest], return_index=True)
    p, ring, _ = points_along(
        shapely.get_exterior_ring(parts), 25.0, minimum=4, rounding="ceil", centred=False
    )
    fac_idx.append(idx[np.flatnonzero(rest)[owner[ring]]])
    pts.append(shapely.get_coordinates(p).reshape(-1, 2))
    xy = np.concatenate(pts)
    out = pd.DataFrame({"facility": np.concatenate(fac_idx).astype(np.int64), "x": xy[:, 0]})
    out["y"] = xy[:, 1]
    return out.sort_values(["facility", "x", "y"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("data", ["sample_data", pytest.param("beijing_data", marks=needs_shared)])
def test_access_points_equal_the_geos_path(data, request):
    osm = request.getfixturevalue(data)
    fac = facilities_from_osm(osm, "beijing")
    crs = fac.geometry.estimate_utm_crs()
    entrances = entrances_from_osm(osm)
    for ent in (entrances, None):
        pd.testing.assert_frame_equal(
            access_points(fac, crs, ent), _access_points_geos(fac, crs, ent), check_exact=True
        )


def test_access_points_without_numba_equal(sample_data, monkeypatch):
    fac = facilities_from_osm(sample_data, "beijing")
    crs = fac.geometry.estimate_utm_crs()
    fast = access_points(fac, crs)
    monkeypatch.setattr(_snap, "HAVE_NUMBA", False)
    pd.testing.assert_frame_equal(access_points(fac, crs), fast, check_exact=True)


# ============================================================================================
# Facility counts


def test_facility_counts():
    cat = load_catalogue("beijing")
    fac = gpd.GeoDataFrame(
        {"item_id": ["pharmacy", "pharmacy", "kindergarten", "not_an_item"]},
        geometry=[shapely.Point(0, 0)] * 4,
        crs=4326,
    )
    counts = facility_counts(fac, cat)
    assert list(counts.columns) == ["item_id", "item_name_zh", "item_name_en", "facilities"]
    assert counts["item_id"].tolist() == list(cat.item_ids)  # every item, in catalogue order
    per = counts.set_index("item_id")["facilities"]
    assert per["pharmacy"] == 2 and per["kindergarten"] == 1
    assert per.sum() == 3  # ids the catalogue lacks are not counted
    row = counts[counts["item_id"] == "pharmacy"].iloc[0]
    assert row["item_name_zh"] == cat["pharmacy"].name_zh
    assert row["item_name_en"] == cat["pharmacy"].name_en
    empty = facility_counts(fac.iloc[:0], "beijing")
    assert len(empty) == len(cat) and (empty["facilities"] == 0).all()


def test_sample_counts_match_facilities(sample_data):
    fac = facilities_from_osm(sample_data, "beijing")
    counts = facility_counts(fac, "beijing").set_index("item_id")["facilities"]
    assert counts.to_dict() == {
        i: int((fac["item_id"] == i).sum()) for i in load_catalogue("beijing").item_ids
    }
    assert SAMPLE.name == sample_path().name


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
    assert "rows 2, 3, 4" in msg
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
    with pytest.raises(FacilityFileError, match=r"no numeric coordinates .* in row 2 "):
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
