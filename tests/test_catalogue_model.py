"""Tests of fifteenmin.catalogue.model: items, matching, catalogue views, real OSM features."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from fifteenmin.catalogue import NAME_KEYS, load_catalogue

BUNDLED = ["beijing", "gb50180", "mofcom", "tdt1062"]


def _mini(**osm):
    return load_catalogue(
        {
            "items": [
                {
                    "id": "thing",
                    "name_zh": "东西",
                    "name_en": "Thing",
                    "category": "health",
                    "tier_minutes": 5,
                    "requirement": "required",
                    "mappable": "good",
                    "sources": ["GB50180-2018"],
                    "confidence": "U",
                    "osm": osm,
                }
            ]
        }
    )["thing"]


def test_alternatives_and_exclude():
    it = _mini(
        any=["amenity=clinic|doctors & name~卫生", "healthcare=clinic"],
        exclude=["name~卫生服务中心", "access=private"],
    )
    assert it.matches({"amenity": "clinic", "name": "社区卫生服务站"})
    assert not it.matches({"amenity": "clinic", "name": "诊所"})  # both conditions needed
    assert it.matches({"healthcare": "clinic"})  # second alternative
    assert not it.matches({"amenity": "clinic", "name": "社区卫生服务中心"})  # excluded
    assert not it.matches({"healthcare": "clinic", "access": "private"})  # excluded
    assert it.osm_text == (
        "(amenity=clinic|doctors & name~卫生) OR healthcare=clinic "
        "NOT (name~卫生服务中心) NOT (access=private)"
    )


def test_min_area_applies_to_areas_only():
    it = _mini(any=["leisure=park"], min_area_m2=4000)
    assert not it.matches({"leisure": "park"})  # a point never matches
    assert not it.matches({"leisure": "park"}, 3999.0)
    assert it.matches({"leisure": "park"}, 4000.0)
    assert "[area >= 4000 m²]" in it.osm_text
    no_min = _mini(any=["leisure=park"])
    assert no_min.matches({"leisure": "park"}) and no_min.matches({"leisure": "park"}, 1.0)


def test_name_hint_never_matches_alone():
    it = _mini(any=["amenity=pharmacy"], name_hint="药店|药房", fallback_any=["shop=chemist"])
    assert not it.matches({"name": "老百姓大药房"})
    assert not it.matches({"shop": "chemist"})  # fallback_any is data only
    assert it.matches_name("老百姓大药房") and not it.matches_name("银行")
    assert it.fallback_filters[0][0].text == "shop=chemist"


def test_catalogue_match_is_in_catalogue_order():
    cat = load_catalogue("beijing")
    assert cat.match({"shop": "supermarket", "name": "生鲜超市"}) == [
        "convenience_store",
        "supermarket",
        "fresh_market",
    ]
    assert cat.match({"leisure": "park"}, 60000.0) == ["park_15", "park_10", "park_5"]
    assert cat.match({"leisure": "park"}) == []
    assert cat.match({"leisure": "park", "access": "private"}, 60000.0) == []
    assert cat.match({}) == []


def test_getitem_unknown_names_known_ids():
    cat = load_catalogue("beijing")
    with pytest.raises(KeyError, match=r"pharmacy.*Known ids: nursery, kindergarten"):
        cat["pharmacie"]


def test_osmnx_tags_and_osm_keys():
    cat = load_catalogue("beijing")
    tags = cat.osmnx_tags()
    # keys whose values OSM often writes as ";" lists are fetched with any value (Overpass
    # compares whole values; match() also matches one part of a list)
    assert tags["amenity"] is True and tags["shop"] is True
    assert tags["highway"] == ["bus_stop"]
    assert isinstance(tags["railway"], list)  # other keys: only listed values are fetched
    assert "name" not in tags  # every filter has a selecting non-name condition
    # every feature any alternative could match is fetched
    for it in cat:
        for alt in it.filters:
            assert any(
                c.positive
                and c.key in tags
                and (tags[c.key] is True or (c.op == "=" and set(c.values) <= set(tags[c.key])))
                for c in alt
            ), (it.id, alt)
    assert cat.osm_keys() == set(tags)
    every = cat.osm_keys(all_keys=True)
    assert set(NAME_KEYS) | {"access", "sport", "social_facility:for"} <= every


def test_to_frame_and_html():
    cat = load_catalogue("beijing")
    df = cat.to_frame()
    assert list(df["id"]) == list(cat.item_ids)
    for col in ("name", "category", "tier_minutes", "requirement", "mappable", "osm", "sources"):
        assert col in df.columns
    assert df.set_index("id").loc["kindergarten", "osm"] == "amenity=kindergarten"
    zh = cat.to_frame("zh").set_index("id")
    assert zh.loc["pharmacy", "name"] == "药店"
    assert zh.loc["pharmacy", "category_name"] == "医疗卫生"
    html_text = cat._repr_html_()
    assert html_text.startswith("<div") and "<table>" in html_text and "幼儿园" in html_text
    with pytest.raises(ValueError, match="lang"):
        cat.to_frame("fr")


def test_html_escapes_text():
    cat = load_catalogue(
        {"title_en": "<b>mine</b>", "items": [{"id": "pharmacy", "name_en": "Drugs & <script>"}]}
    )
    out = cat._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert "&lt;b&gt;mine&lt;/b&gt;" in out


def test_names_and_titles_check_the_language():
    cat = load_catalogue("beijing")
    assert cat["pharmacy"].name("zh") == "药店" and cat.title("zh") == "北京市一刻钟社区服务圈"
    assert cat.grouping("bj_basic8").title("zh") == "北京8项基本便民服务功能"
    for call in (lambda: cat["pharmacy"].name("fr"), lambda: cat.title("de")):
        with pytest.raises(ValueError, match="lang must be 'en' or 'zh'"):
            call()


def test_rank_is_catalogue_order():
    cat = load_catalogue("beijing")
    ranks = cat.rank(["pharmacy", "kindergarten", "no_such_item"])
    assert ranks.dtype == np.int64
    assert ranks.tolist() == [cat.item_ids.index("pharmacy"), 1, len(cat)]
    assert cat.rank(cat.item_ids).tolist() == list(range(len(cat)))


# --------------------------------------------------------------------------- real OSM features

SHARED = Path(__file__).resolve().parents[2] / "shared"
BEIJING_OSM = SHARED / "data/osm/beijing/beijing_haidian_xueyuanlu_cau_2026.osm"
HELSINKI_PBF = SHARED / "data/osm/benchmark/helsinki_centre_2019.osm.pbf"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"needs the shared data folder {SHARED} (OSM extracts); it is not in this checkout",
)


def _ring_area_m2(coords):
    """Shoelace area of a lon/lat ring in a local equirectangular projection (m²)."""
    lat0 = math.radians(sum(lat for _, lat in coords) / len(coords))
    xs = [lon * 111_320.0 * math.cos(lat0) for lon, _ in coords]
    ys = [lat * 110_540.0 for _, lat in coords]
    s = sum(xs[i] * ys[i + 1] - xs[i + 1] * ys[i] for i in range(len(xs) - 1))
    return abs(s) / 2.0


@cache
def _osm_features(path: Path) -> dict[tuple[str, int], tuple[dict[str, str], float | None]]:
    """Tags (and area of closed ways) of every tagged element, keyed by ('n'|'w'|'r', id)."""
    osmium = pytest.importorskip("osmium")
    if not path.is_file():
        pytest.skip(f"{path} is missing from the shared data folder")
    out: dict[tuple[str, int], tuple[dict[str, str], float | None]] = {}
    for o in osmium.FileProcessor(str(path)).with_locations():
        if not len(o.tags):
            continue
        tags = dict(o.tags)
        area = None
        if o.is_way() and o.is_closed():
            coords = [(n.location.lon, n.location.lat) for n in o.nodes if n.location.valid()]
            if len(coords) == len(o.nodes) >= 4:
                area = _ring_area_m2(coords)
        out[(o.type_str(), o.id)] = (tags, area)
    return out


def _match(path, key, catalogue="beijing"):
    tags, area = _osm_features(path)[key]
    return load_catalogue(catalogue).match(tags, area)


# (element, items it must match, items it must not match) — each checked by hand
BEIJING_CASES = [
    (("n", 8057418630), {"pharmacy"}, set()),  # 同仁堂, amenity=pharmacy
    (("n", 1785670165), {"pharmacy"}, set()),  # unnamed amenity=pharmacy + healthcare=pharmacy
    (("n", 1785669301), {"kindergarten"}, {"nursery"}),  # 中国农业大学东校区幼儿园
    (("w", 1192949960), {"kindergarten"}, set()),  # 未来之星实验幼儿园
    (("n", 10707024844), {"supermarket", "convenience_store"}, {"fresh_market"}),  # 物美
    (("n", 1785706317), {"bank"}, set()),  # 中国银行
    (("n", 1785705813), set(), {"bank"}),  # 中国建设银行 ATM: not a branch
    (("n", 1360087436), {"bus_stop"}, set()),  # 静淑苑 highway=bus_stop
    (("n", 737043848), {"bus_stop"}, set()),  # 双泉堡 stop_position + bus=yes
    # 社区卫生服务中心 tagged amenity=hospital: found by its Chinese name
    (
        ("w", 167169164),
        {"community_health_centre", "outpatient_clinic"},
        {"community_health_station"},
    ),
    # school level from the Chinese name
    (("w", 167304641), {"primary_school"}, {"junior_middle_school"}),  # …附属实验小学
    (("w", 1393226242), {"primary_school"}, {"junior_middle_school"}),  # …附属小学(月华分校)
    (("w", 365816824), {"junior_middle_school"}, {"primary_school"}),  # …附属中学
    (("n", 5770454055), {"parcel_point"}, {"post_office"}),  # 近邻宝 parcel lockers
    (("w", 595098640), {"outdoor_fitness"}, {"sports_centre", "gym"}),  # 社区健身器材
    (("w", 154079723), {"sports_centre", "gym"}, set()),  # 中国农业大学体育馆 fitness_centre
    # shop=convenience;hairdresser: one part of a semicolon list matches
    (("n", 1787511636), {"convenience_store", "hairdresser"}, set()),
    (("n", 4505490788), {"telecom_outlet"}, set()),  # 中国联通 office=telecommunication
    (("w", 594889495), {"restaurant"}, {"community_canteen"}),  # 石科院职工食堂: staff canteen
    (("n", 5687426566), {"metro_station"}, set()),  # 六道口 station=subway
    (("n", 9471150030), {"metro_station"}, set()),  # subway entrance A1
    (("n", 10888543690), {"public_toilet"}, set()),  # 二里庄车站 toilets
    (("n", 1787116000), {"police_station"}, set()),
    (("n", 1787479971), {"fresh_market"}, {"supermarket"}),  # shop=greengrocer
    (("n", 1785717574), {"laundry"}, set()),
]
BEIJING_EMPTY = [
    ("r", 15972224),  # 矿业大学社区居委会: an admin boundary, a name alone does not match
    ("w", 594882341),  # 原幼儿园停车场: parking whose name contains 幼儿园
    ("w", 982189445),  # 0803-633规划幼儿园: landuse=construction
]


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize(("key", "must", "must_not"), BEIJING_CASES, ids=lambda v: str(v))
def test_beijing_real_features(key, must, must_not):
    got = set(_match(BEIJING_OSM, key))
    assert must <= got, got
    assert not (must_not & got), got


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("key", BEIJING_EMPTY, ids=str)
def test_beijing_real_features_without_match(key):
    assert _match(BEIJING_OSM, key) == []
    tags, _ = _osm_features(BEIJING_OSM)[key]
    if "幼儿园" in tags.get("name", ""):  # the name hint fits, but hints never match alone
        assert load_catalogue("beijing")["kindergarten"].matches_name(tags["name"])


@needs_shared
@pytest.mark.shared
def test_beijing_real_parks_by_area():
    feats = _osm_features(BEIJING_OSM)
    big_tags, big_area = feats[("w", 1383258964)]  # leisure=park, about 3.9 ha
    assert 35_000 < big_area < 43_000
    assert _match(BEIJING_OSM, ("w", 1383258964)) == ["park_10", "park_5"]
    _, small_area = feats[("w", 595098643)]  # 畅乐园, about 0.3 ha
    assert small_area < 4000
    assert _match(BEIJING_OSM, ("w", 595098643)) == []
    # the same park as a point (no area) matches no park item
    assert load_catalogue("beijing").match(big_tags) == []


@needs_shared
@pytest.mark.shared
def test_beijing_counts_of_well_tagged_items():
    cat = load_catalogue("beijing")
    feats = _osm_features(BEIJING_OSM)
    n_bank = sum("bank" in cat.match(t, a) for t, a in feats.values())
    assert n_bank == sum(t.get("amenity") == "bank" for t, _ in feats.values()) == 4
    n_kg = sum("kindergarten" in cat.match(t, a) for t, a in feats.values())
    assert n_kg == 2


HELSINKI_CASES = [
    (("n", 1369465553), {"pharmacy"}, set()),  # Apteekki Eliel
    (("n", 4867546225), {"supermarket", "convenience_store"}, set()),  # Lidl
    (("n", 92556620), {"bank"}, set()),  # Nordea
    (("n", 175881540), {"bus_stop"}, set()),  # Postitalo
    (("n", 298276292), set(), {"bus_stop"}),  # was:highway=bus_stop (lifecycle prefix)
    (("n", 2561386270), {"public_toilet"}, {"nursery"}),  # toilets with childcare=yes
    (("n", 6049453036), set(), {"elderly_day_care", "nursery"}),  # day_care for children
    (("n", 410088134), set(), {"elderly_day_care"}),  # outreach, not for seniors
    (("w", 123814071), {"fresh_market"}, set()),  # Vanha Kauppahalli (name:zh 老农贸市场)
    (("w", 24337154), set(), {"subdistrict_office"}),  # City Hall, name:zh 赫尔辛基市政厅
    (("n", 229054845), set(), {"recycling_point"}),  # waste basket with recycling:paper=yes
    (("n", 6049452999), {"recycling_point"}, set()),  # bottle return
    (("n", 2927484673), {"outdoor_fitness"}, set()),  # leisure=fitness_station
    (("n", 6387290921), {"repair_point"}, set()),  # bicycle shop with repair service
    (("n", 4751244133), {"laundry"}, set()),
    (("n", 56431331), {"post_office", "parcel_point"}, set()),  # Pääposti
    (("w", 37264738), set(), {"primary_school", "junior_middle_school"}),  # Ressun lukio
]


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize(("key", "must", "must_not"), HELSINKI_CASES, ids=lambda v: str(v))
def test_helsinki_real_features(key, must, must_not):
    got = set(_match(HELSINKI_PBF, key))
    assert must <= got, got
    assert not (must_not & got), got


@needs_shared
@pytest.mark.shared
def test_helsinki_kids_day_care_and_mofcom_profile():
    # the mofcom profile has no school items: a school never matches there
    assert _match(HELSINKI_PBF, ("w", 596507272), "mofcom") == []
    assert _match(HELSINKI_PBF, ("n", 1369465553), "mofcom") == ["pharmacy"]


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("path", [BEIJING_OSM, HELSINKI_PBF], ids=["beijing", "helsinki"])
def test_indexed_match_equals_item_by_item_match(path):
    """Catalogue.match skips items by key; it must agree with testing every item."""
    feats = list(_osm_features(path).values())[::3]
    for name in BUNDLED:
        cat = load_catalogue(name)
        for tags, area in feats:
            assert cat.match(tags, area) == [it.id for it in cat if it.matches(tags, area)]


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("path", [BEIJING_OSM, HELSINKI_PBF], ids=["beijing", "helsinki"])
def test_match_many_equals_item_by_item_match(path):
    """Catalogue.match_many memoises by the values its filters read; it must agree with
    testing every item of every feature (a third of the features, and again with names and
    areas mixed up so that the same tags meet different names and areas)."""
    feats = list(_osm_features(path).values())[1::3]
    names = [t.get("name") for t, _ in feats if t.get("name")]
    mixed = [
        ({**tags, "name": names[k % len(names)]}, feats[(k * 7) % len(feats)][1])
        for k, (tags, _) in enumerate(feats)
    ]
    for name in BUNDLED:
        cat = load_catalogue(name)
        for sample in (feats, mixed):
            rows, ids = cat.match_many([t for t, _ in sample], [a for _, a in sample])
            want = [(r, it.id) for r, (t, a) in enumerate(sample) for it in cat if it.matches(t, a)]
            assert list(zip(rows, ids, strict=True)) == want


def test_match_many_small_cases():
    """By hand: names decide per feature, areas per feature, catalogue order per feature."""
    cat = load_catalogue("beijing")
    tags = [
        {"amenity": "hospital", "name": "花园路社区卫生服务中心"},
        {"amenity": "hospital", "name": "北医三院"},
        {"leisure": "park"},
        {"leisure": "park"},
        {"shop": "convenience;hairdresser"},
        {"name": "幼儿园"},
    ]
    areas = [None, None, 20000.0, None, None, None]
    rows, ids = cat.match_many(tags, areas)
    assert [(r, i) for r, i in zip(rows, ids, strict=True)] == [
        (r, i) for r, (t, a) in enumerate(zip(tags, areas, strict=True)) for i in cat.match(t, a)
    ]
    got = {r: [i for q, i in zip(rows, ids, strict=True) if q == r] for r in set(rows)}
    assert "community_health_centre" in got[0]
    assert "community_health_centre" not in got.get(1, [])
    assert got[2] == ["park_10", "park_5"]
    assert 3 not in got and 5 not in got
    # values that cannot be a memo key (lists, not from an OSM file) are matched as by match
    odd = [{"amenity": "pharmacy", "name": ["x"]}, {"amenity": ["pharmacy"]}]
    rows, ids = cat.match_many(odd, [None, None])
    assert [(r, i) for r, i in zip(rows, ids, strict=True)] == [
        (r, i) for r, t in enumerate(odd) for i in cat.match(t)
    ]
