"""Rates that mean something (issue 13): assessable items, people, districts, community types.

Hand-computed small cases, brute-force recomputation of the roll-ups from coverage.csv and the
communities layer, and a real-extract run (the shared Beijing extract with an illustrative
ledger of the facilities OSM lacks, tests/data/README.md).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fifteenmin as fm
from conftest import BEIJING, SHARED, needs_shared
from fifteenmin import settings
from fifteenmin.cli import main
from fifteenmin.communities import districts_from_osm
from fifteenmin.coverage import ROLLUP_COLUMNS, headline, rollup

DATA = Path(__file__).parent / "data"
LEDGER = DATA / "beijing_cau_ledger_illustrative.csv"
DISTRICTS = DATA / "beijing_cau_districts_illustrative.geojson"
M2 = settings.FLOOR_AREA_PER_PERSON_M2


def _item(i, tier=5, required=True, sparse=False):
    return SimpleNamespace(
        id=i,
        name_zh=i,
        name_en=i,
        tier_minutes=tier,
        required=required,
        osm_sparse=sparse,
    )


def _communities(ids, **columns):
    return gpd.GeoDataFrame(
        {"community_id": ids, "community_name": ids, **columns},
        geometry=[shapely.box(k, 0, k + 1, 1) for k in range(len(ids))],
        crs=4326,
    )


# ------------------------------------------------------------------------- assessable rate
def test_assessable_rate_hand_computed():
    """X has facilities, Y none (not assessable), S is sparse but has one (assessable).

    minutes (tier 5): A meets X and S; B meets X only; C meets S only; D has no residents.
    Strict: nobody meets Y -> 0. Assessable (X, S): only A -> 1 of 3 scored.
    Weighted (people layer): A 100, B 300, C 600 -> 100 / 1000.
    """
    items = [_item("X"), _item("Y"), _item("S", sparse=True), _item("O", required=False)]
    com = _communities(["A", "B", "C", "D"])
    origins = gpd.GeoDataFrame(
        {
            "community_id": ["A", "B", "C"],
            "weight": [100.0, 300.0, 600.0],
            "weight_unit": "people",
        },
        geometry=shapely.points([(0, 0)] * 3),
        crs=4326,
    )
    minutes = np.array(
        [
            [1.0, np.inf, 2.0, 9.0],
            [1.0, np.inf, 9.0, 9.0],
            [9.0, np.inf, 1.0, 9.0],
        ]
    )
    counts = {"X": 2, "Y": 0, "S": 1, "O": 0}
    res = fm.score_coverage(com, origins, minutes, items, facility_counts=counts)
    s = res.summary
    assert s["coverage_rate"] == 0.0 and s["coverage_rate_weighted"] == 0.0
    assert s["items_assessable"] == ["X", "S"]
    assert s["items_not_assessable"] == ["Y"]  # O is optional: never listed
    assert s["communities_all_met_assessable"] == 1
    assert s["coverage_rate_assessable"] == pytest.approx(1 / 3)
    assert s["coverage_rate_assessable_weighted"] == pytest.approx(100 / 1000)
    assert s["people"] == 1000 and s["people_covered_assessable"] == 100
    assert s["weighted_by"] == "people (population layer)"
    c = res.communities.set_index("community_id")
    assert c["n_assessable"].tolist() == [2, 2, 2, 2]
    assert c["n_met_assessable"].tolist() == [2, 1, 1, 0]
    assert c["all_met_assessable"].tolist() == [True, False, False, False]  # D: not scored
    assert c.loc["A", "people"] == 100 and np.isnan(c.loc["D", "people"])
    # the headline says what cannot be assessed rather than "0 %"
    assert headline(s) == (
        "3 communities, 33 % covered (over the assessable items; cannot be assessed for 1 item)"
    )
    assert headline(s, "zh") == "3 个社区，覆盖率 33%（按可评估项目计；1 项无法评估）"
    assert "cannot be assessed for 1 items" in repr(res)
    assert "Y" in res._repr_html_()
    # every item assessable: the two rates are the same and the headline is the strict rate
    full = fm.score_coverage(
        com, origins, minutes, items, facility_counts={**counts, "Y": 1}
    ).summary
    assert full["items_not_assessable"] == []
    assert full["coverage_rate_assessable"] == full["coverage_rate"] == 0.0
    assert headline(full) == "3 communities, 0 % covered"
    # no required item can be assessed: no rate at all (not a vacuous 100 %)
    nothing = fm.score_coverage(
        com, origins, minutes, items, facility_counts=dict.fromkeys(counts, 0)
    )
    assert nothing.summary["coverage_rate_assessable"] is None
    assert nothing.summary["coverage_rate_assessable_weighted"] is None
    assert not nothing.communities["all_met_assessable"].any()
    assert headline(nothing.summary).startswith("3 communities, n/a (over")
    t = rollup(nothing.communities.assign(g="x"), "g")
    assert np.isnan(t.loc[0, "coverage_rate_assessable"])


def test_people_from_floor_area_and_street_length():
    """Floor area / 33.41 m² per person, street metres x 1 person/m; other factors given."""
    items = [_item("X")]
    com = _communities(["A", "B", "C"])
    origins = gpd.GeoDataFrame(
        {
            "community_id": ["A", "A", "B", "C"],
            "weight": [600.0, 400.0, 50.0, 1.0],
            "weight_unit": ["m2_floor_area", "m2_floor_area", "m_street", "point"],
        },
        geometry=shapely.points([(0, 0)] * 4),
        crs=4326,
    )
    minutes = np.array([[1.0], [1.0], [9.0], [1.0]])
    s = fm.score_coverage(com, origins, minutes, items).summary
    people_a, people_b = 1000 / M2, 50 * settings.PEOPLE_PER_STREET_M
    # C (a point) has no people estimate: it counts in the plain rate only
    assert s["coverage_rate"] == pytest.approx(2 / 3)
    assert s["coverage_rate_weighted"] == pytest.approx(people_a / (people_a + people_b))
    assert s["people_estimate"] == {"floor_area": 1, "street_length": 1, "none": 1}
    other = fm.score_coverage(
        com, origins, minutes, items, floor_area_per_person=20.0, people_per_street_m=0.5
    ).summary
    assert other["people"] == pytest.approx(1000 / 20 + 50 * 0.5)
    assert other["weighted_by"] == (
        "people (estimated from floor area at 20 m²/person and street length at 0.5 people/m)"
        "; 1 community without a people estimate left out"
    )
    with pytest.raises(ValueError, match="floor_area_per_person"):
        fm.score_coverage(com, origins, minutes, items, floor_area_per_person=0.0)


def test_run_config_people_factors():
    assert fm.RunConfig(floor_area_per_person=25).floor_area_per_person == 25
    for bad in (0, -3, float("nan"), 5000):
        with pytest.raises(fm.ConfigError, match="floor_area_per_person"):
            fm.RunConfig(floor_area_per_person=bad)
    with pytest.raises(fm.ConfigError, match="people_per_street_m"):
        fm.RunConfig(people_per_street_m=0)
    with pytest.raises(fm.ConfigError, match="district_column"):
        fm.RunConfig(district_column=3)


# ------------------------------------------------------------------------------- roll-ups
def _rollup_frame():
    return pd.DataFrame(
        {
            "district": ["东", "东", "东", "西", "西", None],
            "weight": [10.0, 30.0, 0.0, 5.0, 5.0, 7.0],
            "people": [10.0, 30.0, np.nan, 5.0, np.nan, 7.0],
            "all_met": [True, False, False, False, False, True],
            "all_met_assessable": [True, True, False, False, True, True],
            "score": [1.0, 0.5, np.nan, 0.25, 0.75, 1.0],
            "missing": [[], ["a"], [], ["a", "b"], "b;c", []],
        }
    )


def test_rollup_hand_computed():
    t = rollup(_rollup_frame(), "district").set_index("district")
    assert list(t.columns) == ROLLUP_COLUMNS
    assert list(t.index) == ["", "东", "西"]  # sorted by name; None -> ""
    east, west = t.loc["东"], t.loc["西"]
    # 东: 3 communities, one without residents -> 2 scored; A meets all, both meet assessable
    assert east["communities"] == 3 and east["communities_scored"] == 2
    assert east["coverage_rate"] == 0.5 and east["coverage_rate_assessable"] == 1.0
    assert east["people"] == 40 and east["people_covered"] == 10
    assert east["coverage_rate_weighted"] == pytest.approx(10 / 40)
    assert east["coverage_rate_assessable_weighted"] == 1.0
    assert east["mean_score"] == pytest.approx(0.75)
    assert east["items_most_missing"] == {"a": 1}
    # 西: the second community has no people figure: out of the weighted rates only
    assert west["coverage_rate_assessable"] == 0.5
    assert west["people"] == 5 and west["coverage_rate_assessable_weighted"] == 0.0
    assert west["items_most_missing"] == {"b": 2, "a": 1, "c": 1}
    assert rollup(_rollup_frame(), "district", top=1).set_index("district").loc[
        "西", "items_most_missing"
    ] == {"b": 2}
    # weighted by another column
    by_weight = rollup(_rollup_frame(), "district", weight="weight").set_index("district")
    assert by_weight.loc["西", "people"] == 10
    with pytest.raises(KeyError, match="nope"):
        rollup(_rollup_frame(), "nope")


def test_assign_districts_by_largest_overlap():
    d = gpd.GeoDataFrame(
        {"district": ["W", "E"]},
        geometry=[shapely.box(0, 0, 0.6, 1), shapely.box(0.6, 0, 2, 1)],
        crs=3857,
    )
    com = gpd.GeoDataFrame(
        {"community_id": ["a", "b", "c", "d", "e"]},
        geometry=[
            shapely.box(0.1, 0.1, 0.9, 0.2),  # 0.5 in W, 0.3 in E -> W
            shapely.box(0.5, 0.1, 1.0, 0.2),  # 0.1 in W, 0.4 in E -> E
            shapely.box(0.4, 0.1, 0.8, 0.2),  # 0.2 each: tie -> the first district, W
            shapely.LineString([(1.2, 0.5), (1.3, 0.5)]).buffer(0),  # empty area
            shapely.box(5, 5, 6, 6),  # outside
        ],
        crs=3857,
    )
    with pytest.warns(UserWarning, match="2 of 5 communities lie outside every district"):
        out = fm.assign_districts(com, d)
    assert out["district"].tolist() == ["W", "E", "W", "", ""]
    # a community overlapping by area in none goes by its representative point
    thin = com.iloc[:1].assign(geometry=[shapely.box(1.0, 0.4, 1.2, 0.6)])
    assert fm.assign_districts(thin, d)["district"].tolist() == ["E"]


def test_districts_from_file_errors(tmp_path):
    path = tmp_path / "d.geojson"
    gpd.GeoDataFrame(
        {"名称": ["甲"], "code": [1]}, geometry=[shapely.box(116, 39, 117, 40)], crs=4326
    ).to_file(path)
    with pytest.warns(UserWarning, match="names taken from column '名称'"):
        assert fm.districts_from_file(path)["district"].tolist() == ["甲"]
    assert fm.districts_from_file(path, name_column="code")["district"].tolist() == ["1"]
    with pytest.raises(fm.LayerError, match="no column 'nom'"):
        fm.districts_from_file(path, name_column="nom")
    with pytest.raises(fm.InputFileError):
        fm.districts_from_file(tmp_path / "missing.geojson")


# ------------------------------------------------------------------ the Beijing extract, end to end
def _required(catalogue="beijing"):
    return [it.id for it in fm.load_catalogue(catalogue).items if it.required]


def _brute_force(out: Path, by: str) -> pd.DataFrame:
    """Per group, recomputed from coverage.csv and the communities layer alone."""
    cov = pd.read_csv(out / "coverage.csv", dtype={"community_id": str})
    layer = gpd.read_file(out / "communities.gpkg", layer="communities")
    group = dict(zip(layer["community_id"].astype(str), layer[by].fillna(""), strict=True))
    weight = dict(zip(layer["community_id"].astype(str), layer["weight"], strict=True))
    req = cov[cov["item_id"].isin(_required())]
    rows = {}
    for cid, t in req.groupby("community_id"):
        assessable = t[t["facilities_in_area"] > 0]
        rows[cid] = {
            "group": group[cid],
            "all_met": bool(t["met"].all()),
            "all_met_a": bool(assessable["met"].all()),
            "people": weight[cid] / M2,  # every community here is weighted by floor area
            "missing": list(t.loc[t["status"] == "missing", "item_id"]),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    out_rows = []
    for g, t in frame.groupby("group"):
        counts: dict[str, int] = {}
        for items in t["missing"]:
            for i in items:
                counts[i] = counts.get(i, 0) + 1
        out_rows.append(
            {
                by: g,
                "communities": len(t),
                "coverage_rate": t["all_met"].mean(),
                "coverage_rate_assessable": t["all_met_a"].mean(),
                "people": t["people"].sum(),
                "coverage_rate_assessable_weighted": t.loc[t["all_met_a"], "people"].sum()
                / t["people"].sum(),
                "top": max(counts.values()) if counts else 0,
                "counts": counts,
            }
        )
    return pd.DataFrame(out_rows).set_index(by)


@pytest.fixture(scope="module")
def beijing_report(tmp_path_factory):
    """The Beijing extract + the illustrative ledger, districts and community types."""
    if not BEIJING.exists():
        pytest.skip("../shared/data/osm is not here")
    tmp = tmp_path_factory.mktemp("rates")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        com = fm.run_report(BEIJING).communities
    # community types for the test: the first four compounds are "老旧小区"
    typed = com[["community_id", "community_name", "geometry"]].assign(
        type=["老旧小区"] * 4 + ["商品房小区"] * (len(com) - 4)
    )
    typed.to_file(tmp / "com.geojson")
    out = tmp / "out"
    args = [
        "report",
        str(BEIJING),
        "--communities",
        str(tmp / "com.geojson"),
        "--id-column",
        "community_id",
        "--name-column",
        "community_name",
        "--add-facilities",
        str(LEDGER),
        "--districts",
        str(DISTRICTS),
        "--no-isochrones",
        "--no-sites",
        "--lang",
        "zh",
        "--out",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    # the same inputs give the same bytes
    again = tmp / "again"
    assert main([*args[:-2], str(again), "-q"]) == 0
    for name in ("summary.json", "districts.csv", "community_types.csv", "communities.gpkg"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    return out


@needs_shared
def test_beijing_assessable_and_people(beijing_report):
    s = json.loads((beijing_report / "summary.json").read_text(encoding="utf-8"))
    cov = s["coverage"]
    # the strict rate stays 0 (four required items have no facility even with the ledger)
    assert cov["coverage_rate"] == 0.0
    assert cov["items_not_assessable"] == [
        "park_15",
        "subdistrict_service_centre",
        "subdistrict_office",
        "judicial_office",
    ]
    assert cov["coverage_rate_assessable"] > 0
    assert cov["coverage_rate_assessable_weighted"] > 0
    assert cov["weighted_by"] == "people (estimated from floor area at 33.41 m²/person)"
    assert cov["people"] > 0 and s["parameters"]["floor_area_per_person_m2"] == M2
    html = (beijing_report / "report.html").read_text(encoding="utf-8")
    assert "4 项无法评估" in html and "司法所" in html  # the HTML names the items
    assert headline(cov, "zh") in html
    # the assessable rate, recomputed from coverage.csv
    bf = _brute_force(beijing_report, "district")
    n = bf["communities"].sum()
    assert cov["coverage_rate_assessable"] == pytest.approx(
        (bf["coverage_rate_assessable"] * bf["communities"]).sum() / n
    )


@needs_shared
@pytest.mark.parametrize(
    ("by", "csv"), [("district", "districts.csv"), ("community_type", "community_types.csv")]
)
def test_beijing_rollups_equal_brute_force(beijing_report, by, csv):
    table = pd.read_csv(beijing_report / csv, encoding="utf-8-sig", keep_default_na=False)
    assert list(table.columns) == [by, *ROLLUP_COLUMNS]
    assert (beijing_report / csv).read_bytes().startswith(b"\xef\xbb\xbf" + by.encode())
    bf = _brute_force(beijing_report, by)
    table = table.set_index(by)
    assert sorted(table.index) == sorted(bf.index)
    for g, row in bf.iterrows():
        got = table.loc[g]
        assert got["communities"] == row["communities"]
        for col in ("coverage_rate", "coverage_rate_assessable"):
            assert float(got[col]) == pytest.approx(row[col], abs=1e-4)
        assert float(got["people"]) == pytest.approx(row["people"], abs=1e-3)
        assert float(got["coverage_rate_assessable_weighted"]) == pytest.approx(
            row["coverage_rate_assessable_weighted"], abs=1e-4
        )
        # the listed items are among the group's most missing, with their counts
        listed = [x.rsplit(" (", 1) for x in str(got["items_most_missing"]).split("; ") if x]
        for item, n in listed:
            assert row["counts"][item] == int(n.rstrip(")"))
        assert max(int(n.rstrip(")")) for _, n in listed) == row["top"]
    summary = json.loads((beijing_report / "summary.json").read_text(encoding="utf-8"))
    assert [r[by] for r in summary["coverage"][f"by_{by}"]] == list(table.index)
    if by == "district":
        layer = gpd.read_file(beijing_report / "communities.gpkg", layer="districts")
        assert sorted(layer["district"]) == sorted(table.index)


@needs_shared
def test_beijing_types_read_and_district_errors(beijing_report, tmp_path, capsys):
    layer = gpd.read_file(beijing_report / "communities.gpkg", layer="communities")
    assert sorted(set(layer["community_type"])) == ["商品房小区", "老旧小区"]
    rc = main(
        [
            "report",
            str(BEIJING),
            "--districts",
            str(DISTRICTS),
            "--district-column",
            "nom",
            "--out",
            str(tmp_path / "x"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "no column 'nom'" in err and "Traceback" not in err
    rc = main(
        [
            "report",
            str(BEIJING),
            "--communities",
            str(beijing_report.parent / "com.geojson"),
            "--community-type-column",
            "kind",
            "--out",
            str(tmp_path / "y"),
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "no column 'kind'" in err and "--community-type-column" in err


@needs_shared
def test_districts_from_osm_admin_boundaries():
    """Liechtenstein's municipalities (admin_level 8) are complete in the extract.

    Every community's district is checked against an overlay of the two layers (the
    district holding the largest part of its area); the Beijing box has no boundaries.
    """
    path = SHARED / "benchmark" / "liechtenstein_2015.osm.pbf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fm.run_pipeline(path, fm.RunConfig(districts="osm"))
        data = fm.read_osm(path, keys=fm.load_catalogue("beijing").osm_keys())
        districts = districts_from_osm(data, res.network)
    assert districts is not None and "Vaduz" in set(districts["district"])
    com = res.coverage.communities
    crs = com.estimate_utm_crs()
    pieces = gpd.overlay(
        com[["community_id", "geometry"]].to_crs(crs),
        districts.reset_index().rename(columns={"index": "order"}).to_crs(crs),
        how="intersection",
        keep_geom_type=True,
    )
    pieces["area"] = pieces.area
    best = pieces.sort_values(["community_id", "area", "order"], ascending=[True, False, True])
    expected = best.groupby("community_id")["district"].first()
    got = com.set_index("community_id")["district"]
    assert (got.reindex(expected.index) == expected).all()
    counts = {r["district"]: r["communities"] for r in res.coverage.summary["by_district"]}
    assert sum(counts.values()) == len(com)
    assert counts == got.value_counts().to_dict()
    with pytest.warns(UserWarning, match="no complete admin_level 9 or 8 boundaries"):
        fm.run_pipeline(BEIJING, fm.RunConfig(districts="osm"))
