"""Coverage scores on a small example worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fifteenmin import score_coverage
from fifteenmin.coverage import COVERAGE_COLUMNS, weighted_quantile


def _item(i, tier, required=True):
    return SimpleNamespace(
        id=i, name_zh=i + "zh", name_en=i + "en", tier_minutes=tier, required=required
    )


def test_hand_computed_example():
    items = [_item("X", 5), _item("Y", 10), _item("Z", 15, required=False)]
    com = gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "community_name": ["甲", "乙"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    origins = gpd.GeoDataFrame(
        {"community_id": ["A", "A", "A", "B"], "weight": [1.0, 1.0, 2.0, 5.0]},
        geometry=shapely.points([(0.1, 0.1)] * 4),
        crs="EPSG:4326",
    )
    inf = np.inf
    minutes = np.array(
        [
            [3.0, 12.0, 30.0],
            [6.0, inf, 1.0],
            [4.0, 2.0, inf],
            [1.0, 9.0, 20.0],
        ]
    )
    res = score_coverage(com, origins, minutes, items, threshold=0.8)
    t = res.table.set_index(["community_id", "item_id"])
    assert list(res.table.columns) == COVERAGE_COLUMNS
    # A / X: within 5 min are weights 1 (3 min) and 2 (4 min) of 4 -> 0.75, not met
    assert t.loc[("A", "X"), "share_within_tier"] == pytest.approx(0.75)
    assert t.loc[("A", "X"), "median_minutes"] == 4.0  # cum weights 1, 3, 4 -> first >= 2
    assert t.loc[("A", "X"), "p90_minutes"] == 6.0  # first >= 3.6
    assert not t.loc[("A", "X"), "met"]
    # A / Y: only the 2-minute origin (weight 2) within 10 -> 0.5; p90 beyond the cutoff -> NaN
    assert t.loc[("A", "Y"), "share_within_tier"] == pytest.approx(0.5)
    assert t.loc[("A", "Y"), "median_minutes"] == 2.0
    assert np.isnan(t.loc[("A", "Y"), "p90_minutes"])
    # B meets both required items
    assert t.loc[("B", "X"), "met"] and t.loc[("B", "Y"), "met"]
    assert not t.loc[("B", "Z"), "met"]  # 20 > 15, but Z is optional
    c = res.communities.set_index("community_id")
    assert c.loc["A", "score"] == 0.0 and c.loc["A", "missing"] == ["X", "Y"]
    assert c.loc["B", "score"] == 1.0 and c.loc["B", "missing"] == []
    assert c.loc["A", "weight"] == 4.0 and c.loc["B", "weight"] == 5.0
    assert res.summary["coverage_rate"] == 0.5
    assert res.summary["coverage_rate_weighted"] == pytest.approx(5 / 9)
    assert res.summary["required_items"] == 2
    assert "coverage rate" in res._repr_html_()


def test_threshold_changes_met():
    items = [_item("X", 5)]
    com = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["a"]},
        geometry=[shapely.box(0, 0, 1, 1)],
        crs=4326,
    )
    origins = gpd.GeoDataFrame(
        {"community_id": ["A"] * 4, "weight": [1.0] * 4},
        geometry=shapely.points([(0, 0)] * 4),
        crs=4326,
    )
    minutes = np.array([[1.0], [2.0], [3.0], [9.0]])
    assert not score_coverage(com, origins, minutes, items, threshold=0.8).communities["all_met"][0]
    assert score_coverage(com, origins, minutes, items, threshold=0.75).communities["all_met"][0]


def test_weighted_quantile_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        v = rng.integers(0, 5, n).astype(float)
        w = rng.integers(1, 4, n).astype(float)
        q = float(rng.choice([0.5, 0.9, 0.25, 1.0]))
        # brute force: expand each value by its integer weight
        expanded = np.sort(np.repeat(v, w.astype(int)))
        k = int(np.ceil(q * len(expanded))) - 1
        assert weighted_quantile(v, w, q) == expanded[max(k, 0)]


def test_shape_mismatch_is_a_clear_error():
    items = [_item("X", 5)]
    com = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["a"]},
        geometry=[shapely.box(0, 0, 1, 1)],
        crs=4326,
    )
    origins = gpd.GeoDataFrame(
        {"community_id": ["A"], "weight": [1.0]}, geometry=shapely.points([(0, 0)]), crs=4326
    )
    with pytest.raises(ValueError, match="expected"):
        score_coverage(com, origins, np.zeros((2, 1)), items)


def _cat_item(i, tier, category, required=True, sparse=False, group=None):
    return SimpleNamespace(
        id=i,
        name_zh=i,
        name_en=i,
        tier_minutes=tier,
        required=required,
        category=category,
        osm_sparse=sparse,
        priority_group=group,
    )


def test_data_gaps_categories_index_and_priority_weights():
    items = [
        _cat_item("X", 5, "a"),
        _cat_item("Y", 5, "a", sparse=True),
        _cat_item("W", 5, "b"),
        _cat_item("Z", 5, "b"),
        _cat_item("P", 5, "b", required=False, group="elderly"),
    ]
    com = gpd.GeoDataFrame(
        {"community_id": ["A"], "community_name": ["a"]},
        geometry=[shapely.box(0, 0, 1, 1)],
        crs=4326,
    )
    origins = gpd.GeoDataFrame(
        {"community_id": ["A", "A"], "weight": [1.0, 3.0], "weight_elderly": [4.0, 0.0]},
        geometry=shapely.points([(0, 0), (0, 0)]),
        crs=4326,
    )
    inf = np.inf
    minutes = np.array([[1.0, 9.0, inf, 1.0, 1.0], [1.0, 9.0, inf, 10.0, 10.0]])
    counts = {"X": 3, "Y": 1, "W": 0, "Z": 2, "P": 1}
    res = score_coverage(com, origins, minutes, items, facility_counts=counts)
    t = res.table.set_index("item_id")
    assert list(t["status"]) == ["met", "no_data", "no_data", "missing", "met"]
    # P is weighted by elderly residents: all 4 elderly live at the 1-minute origin
    assert t.loc["P", "share_within_tier"] == 1.0
    # Z by everyone: 1 of 4
    assert t.loc["Z", "share_within_tier"] == 0.25
    c = res.communities.iloc[0]
    assert c["score"] == 0.25
    assert c["missing"] == ["Z"]
    assert c["data_gaps"] == ["Y", "W"]
    # categories: a = X met, Y not -> 0.5; b = W, Z not -> 0
    assert res.categories.loc["A", "a"] == 0.5 and res.categories.loc["A", "b"] == 0.0
    assert c["index"] == pytest.approx(25.0)
    assert c["band"] == "D"
    weighted = score_coverage(
        com, origins, minutes, items, facility_counts=counts, category_weights={"a": 3, "b": 1}
    )
    assert weighted.communities.iloc[0]["index"] == pytest.approx(37.5)
    assert res.summary["data_gap_items"] == {"no_facility_in_area": ["W"], "osm_sparse": ["Y"]}
    assert res.summary["items_most_missing"] == {"Z": 1}


def test_mixed_weight_units_and_communities_without_residents():
    items = [_item("X", 5)]
    com = gpd.GeoDataFrame(
        {"community_id": ["A", "B", "C"], "community_name": ["a", "b", "c"]},
        geometry=[shapely.box(0, 0, 1, 1)] * 3,
        crs=4326,
    )
    origins = gpd.GeoDataFrame(
        {
            "community_id": ["A", "B"],
            "weight": [500.0, 80.0],
            "weight_unit": ["m2_floor_area", "m_street"],
        },
        geometry=shapely.points([(0, 0), (0, 0)]),
        crs=4326,
    )
    res = score_coverage(com, origins, np.array([[1.0], [9.0]]), items)
    s = res.summary
    # floor area and street metres cannot be added, but both become people: 500 m² at
    # 33.41 m²/person and 80 m at 1 person/m; A (14.97 people) meets X, B (80) does not
    people_a, people_b = 500 / 33.41, 80 * 1.0
    assert s["coverage_rate_weighted"] == pytest.approx(people_a / (people_a + people_b))
    assert s["people"] == pytest.approx(people_a + people_b)
    assert s["weighted_by"] == (
        "people (estimated from floor area at 33.41 m²/person and street length at 1 people/m)"
    )
    assert s["weight_units"] == ["m2_floor_area", "m_street"]
    # C has no residents: not scored, not in the rate (1 of 2 scored communities meets X)
    assert s["communities_without_residents"] == ["C"]
    assert s["coverage_rate"] == 0.5
    c = res.communities.set_index("community_id")
    assert np.isnan(c.loc["C", "score"]) and c.loc["C", "band"] == "" and not c.loc["C", "all_met"]
    only_points = origins.assign(weight_unit=["m2_floor_area", "point"])
    none = score_coverage(com, only_points, np.array([[1.0], [9.0]]), items).summary
    # a community with only a point has no people estimate: left out of the weighted rate
    assert none["coverage_rate_weighted"] == 1.0 and none["people_estimate"] == {
        "floor_area": 1,
        "none": 1,
    }
    points = origins.assign(weight_unit="point", weight=1.0)
    assert score_coverage(com, points, np.array([[1.0], [9.0]]), items).summary["people"] is None
    same_unit = origins.assign(weight_unit="people")
    assert score_coverage(com, same_unit, np.array([[1.0], [9.0]]), items).summary[
        "coverage_rate_weighted"
    ] == pytest.approx(500 / 580)


def test_scores_equal_the_definition_exactly():
    """Every share and quantile is, to the last bit, the one-community formula.

    Communities of many sizes (more than 128 origins too, where numpy's sums are pairwise),
    ties, unreachable items, zero weights and a priority group.
    """
    rng = np.random.default_rng(11)
    items = [_cat_item(f"i{k}", 5.0 * (k + 1), "a") for k in range(6)]
    items[2] = _cat_item("i2", 15.0, "a", group="elderly")
    sizes = [1, 2, 7, 8, 9, 16, 130, 300, 3, 3, 8]
    ids = [f"c{j}" for j in range(len(sizes))] + ["empty"]
    o_com = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(o_com)
    n = len(o_com)
    weight = rng.choice([0.0, 1.0, 2.5, 1e-3, 7.125], n) * rng.random(n)
    weight[o_com == 1] = 0.0  # a community without weight: not scored
    elderly = weight * rng.random(n)
    minutes = rng.gamma(2.0, 6.0, (n, len(items))).round(0)  # many ties
    minutes[rng.random(minutes.shape) < 0.15] = np.inf
    com = gpd.GeoDataFrame(
        {"community_id": ids, "community_name": ids},
        geometry=[shapely.box(0, 0, 1, 1)] * len(ids),
        crs=4326,
    )
    origins = gpd.GeoDataFrame(
        {"community_id": [ids[c] for c in o_com], "weight": weight, "weight_elderly": elderly},
        geometry=shapely.points(np.zeros((n, 2))),
        crs=4326,
    )
    res = score_coverage(com, origins, minutes, items)
    t = res.table.set_index(["community_id", "item_id"])
    for c, cid in enumerate(ids):
        idx = np.flatnonzero(o_com == c)
        weight_sum = weight[idx].sum() if len(idx) else 0.0
        assert res.communities["weight"].iloc[c] == weight_sum
        for k, it in enumerate(items):
            w = (elderly if k == 2 else weight)[idx]
            row = t.loc[(cid, it.id)]
            if not len(idx) or w.sum() <= 0:
                assert np.isnan(row["share_within_tier"]) and np.isnan(row["median_minutes"])
                continue
            share = float((w * (minutes[idx, k] <= it.tier_minutes)).sum() / w.sum())
            assert row["share_within_tier"] == share
            for q, col in ((0.5, "median_minutes"), (0.9, "p90_minutes")):
                v = weighted_quantile(minutes[idx, k], w, q)
                assert row[col] == v if np.isfinite(v) else np.isnan(row[col])
    assert np.isnan(res.communities.set_index("community_id").loc["c1", "score"])
