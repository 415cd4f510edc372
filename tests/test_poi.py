"""POI exports (Amap, Baidu, Tencent) and facility ledgers as facilities.

Oracles: the item a person gives each row of the constructed samples (``truth_wgs84.csv``,
written by hand in ``make_poi_samples.py``); the WGS-84 places the samples were made from
(the providers' coordinates must come back to them); published GCJ-02 / BD-09 pairs of
eviltransform and coordtransform; hand-made rows for the precedence of the rules.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import fifteenmin as fm
from conftest import SHARED
from fifteenmin import FifteenminError
from fifteenmin.cli import main
from fifteenmin.poi import detect_poi_source, facilities_from_poi, match_poi_types

DATA = Path(__file__).resolve().parent / "data" / "poi"
AMAP = DATA / "amap_xueyuanlu_constructed.csv"
BAIDU = DATA / "baidu_xueyuanlu_constructed.csv"
TENCENT = DATA / "tencent_xueyuanlu_constructed.csv"
TRUTH = pd.read_csv(DATA / "truth_wgs84.csv", dtype={"item": str}, keep_default_na=False)
BEIJING_PBF = SHARED / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm.pbf"


def _read(path: object, **kw: object) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return facilities_from_poi(path, **kw)


def _check_against_truth(fac: gpd.GeoDataFrame, truth_rows: list[int], tol_deg: float) -> None:
    by_name = {r.name: r for r in TRUTH.itertuples()}
    for row in fac.itertuples():
        t = by_name.get(row.name)
        if t is None:  # Baidu and Tencent name some places differently
            continue
        assert row.item_id == t.item, row.name
    expected = TRUTH.iloc[truth_rows]
    got = fac.set_index("name").geometry
    for t in expected.itertuples():
        if t.item and t.name in got.index:
            p = got.loc[t.name]
            assert abs(p.x - t.lon) < tol_deg and abs(p.y - t.lat) < tol_deg, t.name


def test_detect_source():
    assert detect_poi_source(pd.read_csv(AMAP, nrows=1).columns) == "amap"
    assert detect_poi_source(pd.read_csv(BAIDU, nrows=1).columns) == "baidu"
    assert detect_poi_source(pd.read_csv(TENCENT, nrows=1).columns) == "tencent"
    assert detect_poi_source(fm.poi.LEDGER_COLUMNS) == "ledger"
    assert detect_poi_source(["名称", "大类", "中类", "小类", "经度", "纬度"]) == "amap"
    assert detect_poi_source(["名称", "经度", "纬度"]) is None


def test_amap_sample_items_and_places():
    with pytest.warns(UserWarning, match=r"5 of 32 POIs match no catalogue item") as rec:
        fac = facilities_from_poi(AMAP)
    assert fac.attrs["poi_source"] == "amap" and fac.attrs["coord_system"] == "gcj02"
    hand = TRUTH[TRUTH["item"] != ""]
    assert len(fac) == len(hand) == 27
    assert sorted(zip(fac["name"], fac["item_id"], strict=True)) == sorted(
        zip(hand["name"], hand["item"], strict=True)
    )
    # GCJ-02 rounded to 6 decimals (0.1 m) comes back to the WGS-84 place it was made from
    _check_against_truth(fac, list(range(len(TRUTH))), 2e-6)
    assert set(fac["source"]) == {"poi"} and set(fac["osm_type"]) == {"poi"}
    row = fac[fac["name"] == "老百姓大药房(学院路店)"].iloc[0]
    assert row["osm_id"] == 6  # the file's data row (0-based)
    assert row["tags"]["poi:typecode"] == "090601" and row["tags"]["poi:rule"] == "typecode:090601"
    assert row["tags"]["addr:full"] == "学院路30号"
    # the unmatched types, counted by hand from the file: five types of one POI each
    un = fac.attrs["poi_unmatched"]
    assert un["pois"].tolist() == [1] * 5
    assert set(un["typecode"]) == {"150900", "100105", "010500", "141201", "061000"}
    assert "'住宿服务;宾馆酒店;经济型连锁酒店' 1" in str(rec[0].message)


def test_rule_precedence_by_hand():
    m = match_poi_types(
        [
            "学院路社区卫生服务站",  # a specific name beats the type (诊所 -> outpatient)
            "海淀区某诊所",  # the type: 诊所
            "北京四中(高中部)",  # 中学, but a senior high school by name: no rule
            "学而思(小学辅导)",  # training: the name keyword's 'unless' applies
            "星巴克",  # the most specific segment first: 咖啡厅 before 餐饮服务
            "某某大药房",  # no type: the fallback name keyword
            "如家酒店",
        ],
        [
            "医疗保健服务;诊所;诊所",
            "医疗保健服务;诊所;诊所",
            "科教文化服务;学校;中学",
            "科教文化服务;培训机构;培训机构",
            "餐饮服务;咖啡厅;星巴克咖啡",
            "",
            "住宿服务;宾馆酒店;宾馆酒店",
        ],
        ["090300", "090300", "141202", "141400", "050501", "", "100100"],
        "amap",
    )
    assert m["item_id"].tolist() == [
        "community_health_station",
        "outpatient_clinic",
        None,
        None,
        "cafe_tea",
        "pharmacy",
        None,
    ]
    assert m["rule"].tolist()[:2] == ["name:社区卫生服务站", "category:诊所"]


def test_baidu_and_tencent_samples():
    bd = _read(BAIDU)
    assert bd.attrs["coord_system"] == "bd09"
    assert sorted(bd["item_id"]) == sorted(
        ["community_health_station", "supermarket", "pharmacy", "kindergarten", "laundry", "bank"]
    )
    # the Baidu rows stand at the places of Amap rows 0, 5, 6, 9, 20, 16
    places = dict(zip(bd["item_id"], bd.geometry, strict=True))
    for item, i in (("supermarket", 5), ("pharmacy", 6), ("laundry", 20), ("bank", 16)):
        assert places[item].x == pytest.approx(TRUTH["lon"][i], abs=2e-6)
        assert places[item].y == pytest.approx(TRUTH["lat"][i], abs=2e-6)
    tx = _read(TENCENT)
    assert tx.attrs["coord_system"] == "gcj02"
    assert sorted(tx["item_id"]) == ["kindergarten", "restaurant", "supermarket"]
    assert tx.attrs["poi_unmatched"]["poi_type"].tolist() == ["教育学校:大学"]


def test_known_coordinate_pairs():
    """Published pairs: eviltransform (WGS-84 -> GCJ-02) and coordtransform (GCJ-02 -> BD-09)."""
    amap = pd.DataFrame(
        {"name": ["药店"], "type": ["医疗保健服务;医药保健销售店;药房"], "typecode": ["090601"]}
    ).assign(location="116.38404722455657,39.91334545536069")
    p = _read(amap).geometry.iloc[0]
    assert p.x == pytest.approx(116.377817, abs=1e-8) and p.y == pytest.approx(39.911954, abs=1e-8)
    baidu = pd.DataFrame(
        {
            "name": ["药店"],
            "tag": ["医疗;药店"],
            "lng": [116.41036949371029],
            "lat": [39.92133699351021],
        }
    )
    q = _read(baidu).geometry.iloc[0]
    # BD-09 -> GCJ-02 gives (116.404, 39.915) exactly; GCJ-02 -> WGS-84 of that, published as
    # the one-step approximation (116.39775550083061, 39.91359571849836), good to metres
    assert q.x == pytest.approx(116.39775550083061, abs=3e-5)
    assert q.y == pytest.approx(39.91359571849836, abs=3e-5)
    gx, gy = fm._coords.wgs84_to_gcj02(q.x, q.y)
    assert gx == pytest.approx(116.404, abs=1e-9) and gy == pytest.approx(39.915, abs=1e-9)


def test_coordinate_system_errors_and_choices(tmp_path):
    rows = {"name": ["A药房", "B药房"], "type": ["药房", "药房"], "lng": [116.35, 116.351]}
    mixed = pd.DataFrame({**rows, "lat": [40.0, 40.001], "坐标系": ["GCJ-02", "BD-09"]})
    with pytest.raises(FifteenminError, match="mixes coordinate systems"):
        facilities_from_poi(mixed, poi_source="amap")
    unknown = pd.DataFrame({**rows, "lat": [40.0, 40.001]})  # no source, no system
    with pytest.raises(FifteenminError, match="cannot tell its coordinate system"):
        facilities_from_poi(unknown)
    said = pd.DataFrame({**rows, "lat": [40.0, 40.001], "坐标系": ["WGS84", "WGS84"]})
    with pytest.raises(FifteenminError, match="says its coordinates are wgs84"):
        facilities_from_poi(said, poi_source="amap", coord_system="gcj02")
    assert _read(said, poi_source="amap").attrs["coord_system"] == "wgs84"
    # two pairs of columns, named by system: the WGS-84 ones are used as they are
    both = pd.DataFrame(
        {
            "name": ["A药房"],
            "type": ["药房"],
            "gcj02_lng": [116.356],
            "gcj02_lat": [40.0013],
            "wgs84_lng": [116.3499],
            "wgs84_lat": [40.0],
        }
    )
    f = _read(both, poi_source="amap")
    assert f.attrs["coord_system"] == "wgs84"
    assert (f.geometry.x.iloc[0], f.geometry.y.iloc[0]) == (116.3499, 40.0)
    # an explicit option where the file does not say
    g = _read(unknown, coord_system="wgs84")
    assert g.geometry.x.tolist() == [116.35, 116.351]
    # "lat,lng" pairs (Tencent and Baidu APIs) are recognised
    pair = pd.DataFrame(
        {"title": ["A"], "category": ["医疗保健:药房"], "location": ["40.0,116.35"]}
    )
    h = _read(pair)
    assert h.attrs["poi_source"] == "tencent"
    wx, wy = fm.to_wgs84(116.35, 40.0, "gcj02")
    assert h.geometry.x.iloc[0] == pytest.approx(wx) and h.geometry.y.iloc[0] == pytest.approx(wy)


def test_xlsx_and_gbk_exports_read_alike(tmp_path):
    csv = _read(AMAP)
    xlsx = tmp_path / "amap.xlsx"
    pd.read_csv(AMAP, dtype=str).to_excel(xlsx, index=False)
    gbk = tmp_path / "amap_gbk.csv"
    gbk.write_bytes(AMAP.read_text(encoding="utf-8").encode("gb18030"))
    for other in (_read(xlsx), _read(gbk)):
        assert other["item_id"].tolist() == csv["item_id"].tolist()
        assert other["osm_id"].tolist() == csv["osm_id"].tolist()
        np.testing.assert_allclose(other.geometry.x, csv.geometry.x, rtol=0, atol=1e-12)


def test_ledger_template_and_reading_back(tmp_path):
    from openpyxl import load_workbook

    files = fm.write_ledger_template(tmp_path / "a")
    again = fm.write_ledger_template(tmp_path / "b")
    assert [p.read_bytes() for p in files] == [p.read_bytes() for p in again]  # deterministic
    csv_bytes = files[0].read_bytes()
    assert csv_bytes.startswith("\ufeff名称,事项编号".encode())
    wb = load_workbook(files[1])
    assert wb.sheetnames == ["about", "台账", "事项列表", "说明"]
    assert [c.value for c in wb["台账"][1]] == fm.poi.LEDGER_COLUMNS
    listed = [r[0].value for r in wb["事项列表"].iter_rows(min_row=2)]
    assert listed == list(fm.load_catalogue("beijing").item_ids)
    assert "OpenStreetMap" in str(wb["about"]["B1"].value)
    ws = wb["台账"]
    ws.append(
        ["双清路养老驿站", "elderly_day_care", None, "双清路33号院", 116.3526, 40.0011, "GCJ-02"]
    )
    ws.append(
        ["学院路菜店", None, "菜市场", None, "116.3466", "39.9998", "WGS84", "Mo-Su 07:00-19:00"]
    )
    ws.append(["托育园", "托育机构", None, None, 116.3537, 40.0066, "百度"])
    filled = tmp_path / "ledger.xlsx"
    wb.save(filled)
    fac = facilities_from_poi(filled)
    assert fac.attrs["poi_source"] == "ledger"
    assert fac["item_id"].tolist() == ["nursery", "elderly_day_care", "fresh_market"]
    pos = dict(zip(fac["item_id"], fac.geometry, strict=True))
    gx, gy = fm.to_wgs84(116.3526, 40.0011, "gcj02")
    assert pos["elderly_day_care"].x == pytest.approx(gx) and pos[
        "elderly_day_care"
    ].y == pytest.approx(gy)
    assert (pos["fresh_market"].x, pos["fresh_market"].y) == (116.3466, 39.9998)
    bx, _ = fm.to_wgs84(116.3537, 40.0066, "bd09")
    assert pos["nursery"].x == pytest.approx(bx)
    hours = fac.set_index("item_id")["tags"]["fresh_market"]
    assert hours["opening_hours"] == "Mo-Su 07:00-19:00"
    # the CSV template, filled in as text, reads the same way
    text = (
        csv_bytes.decode("utf-8-sig")
        + "双清路养老驿站,elderly_day_care,,,116.3526,40.0011,GCJ-02,,\n"
    )
    (tmp_path / "ledger.csv").write_text(text, encoding="utf-8-sig")
    one = facilities_from_poi(tmp_path / "ledger.csv")
    assert one["item_id"].tolist() == ["elderly_day_care"]
    assert one.geometry.x.iloc[0] == pytest.approx(gx)


def test_ledger_errors(tmp_path):
    base = {c: [None] for c in fm.poi.LEDGER_COLUMNS}
    blank = pd.DataFrame(
        {**base, "名称": ["A"], "事项编号": ["pharmacy"], "经度": [116.35], "纬度": [40.0]}
    )
    with pytest.raises(FifteenminError, match=r"坐标系 .* of rows 1 is empty"):
        facilities_from_poi(blank)
    assert _read(blank, coord_system="wgs84")["item_id"].tolist() == ["pharmacy"]
    typo = blank.assign(事项编号=["pharmacyy"], 坐标系=["WGS84"])
    with pytest.raises(FifteenminError, match="did you mean 'pharmacy'"):
        facilities_from_poi(typo)
    bad = blank.assign(坐标系=["UTM"])
    with pytest.raises(FifteenminError, match="unknown coordinate system"):
        facilities_from_poi(bad)


def test_no_coordinates_is_an_error():
    df = pd.DataFrame({"name": ["A药房"], "type": ["药房"], "location": ["nowhere"]})
    with pytest.raises(FifteenminError, match="no numeric coordinates in 'location' in rows 1\\."):
        facilities_from_poi(df, poi_source="amap")


@pytest.mark.skipif(not BEIJING_PBF.exists(), reason="../shared Beijing extract not here")
def test_cli_report_with_amap_export(tmp_path, capsys):
    """End to end on the real Beijing extract: the POI export adds facilities and met items."""
    base = tmp_path / "osm_only"
    with_poi = tmp_path / "with_poi"
    common = [str(BEIJING_PBF), "--no-html", "-q"]
    assert main(["report", *common, "--out", str(base)]) == 0
    assert main(["report", *common, "--out", str(with_poi), "--poi", str(AMAP)]) == 0
    met0 = pd.read_csv(base / "coverage.csv")["met"].sum()
    met1 = pd.read_csv(with_poi / "coverage.csv")["met"].sum()
    assert met1 > met0
    fac = gpd.read_file(with_poi / "facilities.gpkg")
    assert (fac["source"] == "poi").sum() == 27
    un = pd.read_csv(with_poi / "poi_unmatched.csv", dtype=str)
    assert un["pois"].astype(int).sum() == 5
    assert un["example"].str.startswith("'=").sum() == 1  # a formula is neutralised
    summary = json.loads((with_poi / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["user_facilities"] == f"poi: {AMAP.name}"
    assert summary["poi"] == {
        "tables": 1, "facilities": 27, "unmatched_pois": 5, "unmatched_types": len(un)
    }  # fmt: skip
    jsonschema = pytest.importorskip("jsonschema")
    from fifteenmin.output import summary_schema

    jsonschema.validate(summary, summary_schema())
    assert "poi" not in json.loads((base / "summary.json").read_text(encoding="utf-8"))
    # a run without POIs in the same folder leaves no stale poi_unmatched.csv
    assert main(["report", *common, "--out", str(with_poi)]) == 0
    assert not (with_poi / "poi_unmatched.csv").exists()
    # mixed coordinate systems: one line, exit 2
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "name,type,lng,lat,坐标系\nA药房,药房,116.35,40.0,GCJ-02\nB药房,药房,116.351,40.0,BD-09\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["report", *common, "--out", str(tmp_path / "x"), "--poi", str(mixed)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mixes coordinate systems" in err


def test_cli_ledger_template(tmp_path):
    assert main(["ledger-template", "--out", str(tmp_path / "t"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        "facility_ledger.csv",
        "facility_ledger.xlsx",
    ]


def test_docs_list_every_rule():
    """docs/poi.md shows the bundled rules: none missing, none stale."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "poi.md").read_text(encoding="utf-8")
    rules = fm.poi_type_rules("beijing")
    fields = ("| name |", "| typecode |", "| category |", "| name_fallback |")
    rows = [ln for ln in text.splitlines() if ln.startswith(fields)]
    shown = {tuple(c.strip().strip("`") for c in ln.split("|")[1:5]) for ln in rows}
    expected = {(r.field, r.source, r.value, r.item_id) for r in rules.itertuples(index=False)}
    assert shown == expected


def test_run_config_poi_options():
    from fifteenmin._errors import ConfigTypeError

    cfg = fm.RunConfig(poi=[str(AMAP)], poi_source="amap", poi_crs="GCJ-02")
    assert cfg.poi_source == "amap"
    with pytest.raises(ConfigTypeError, match="poi"):
        fm.RunConfig(poi=[5])
    with pytest.raises(FifteenminError, match="unknown POI source 'gaode'"):
        fm.RunConfig(poi=str(AMAP), poi_source="gaode")
    with pytest.raises(FifteenminError, match="unknown coordinate system"):
        fm.RunConfig(poi=str(AMAP), poi_crs="utm")


def test_other_real_layouts():
    """Layouts seen in public scripts: split location columns (with the entrance's beside
    them), and the Chinese 大类/中类/小类 columns of Amap export tools."""
    raw = pd.read_csv(AMAP, dtype=str)
    lon_lat = raw["location"].str.split(",", expand=True)
    split = raw.drop(columns="location").assign(
        location_lon=lon_lat[0],
        location_lat=lon_lat[1],
        entr_location_lon="116.0",  # the entrance: not the POI's place
        entr_location_lat="39.0",
    )
    reference = _read(AMAP)
    other = _read(split)
    assert other["item_id"].tolist() == reference["item_id"].tolist()
    np.testing.assert_allclose(other.geometry.x, reference.geometry.x, rtol=0, atol=1e-12)
    levels = raw["type"].str.split("|").str[0].str.split(";", expand=True)
    chinese = pd.DataFrame(
        {
            "名称": raw["name"],
            "大类": levels[0],
            "中类": levels[1],
            "小类": levels[2],
            "地址": raw["address"],
            "经度": lon_lat[0],
            "纬度": lon_lat[1],
        }
    )
    zh = _read(chinese)
    assert zh.attrs["poi_source"] == "amap" and zh.attrs["coord_system"] == "gcj02"
    # without type codes the same items follow from the names and the type text
    assert sorted(zh["item_id"]) == sorted(reference["item_id"])
