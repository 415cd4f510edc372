"""Tests of fifteenmin.catalogue: bundled data, filter grammar, validation, real OSM features."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fifteenmin import CatalogueError, InputFileError
from fifteenmin.catalogue import (
    CONFIDENCE_LEVELS,
    MAPPABLE_LEVELS,
    NAME_KEYS,
    Catalogue,
    available_catalogues,
    format_catalogue,
    load_catalogue,
    parse_condition,
)

BUNDLED = ["beijing", "gb50180", "mofcom", "tdt1062"]
ELDERLY = {
    "elderly_day_care",
    "nursing_home",
    "community_canteen",
    "community_health_station",
    "community_health_centre",
    "disability_service",
}
CHILDREN = {"nursery", "kindergarten", "primary_school", "playground"}
SPARSE = {
    "community_service_station",
    "elderly_day_care",
    "community_canteen",
    "fresh_market",
    "outdoor_fitness",
    "parcel_point",
    "repair_point",
    "recycling_point",
    "subdistrict_office",
    "subdistrict_service_centre",
    "community_health_station",
}


# --------------------------------------------------------------------------- bundled data


def test_available_catalogues():
    assert available_catalogues() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_catalogue_is_valid(name):
    cat = load_catalogue(name)
    assert isinstance(cat, Catalogue)
    assert cat.name == name
    assert cat.title_zh and cat.title_en and cat.description
    assert len(cat) > 0
    assert len(set(cat.item_ids)) == len(cat)
    cat_ids = {c.id for c in cat.categories}
    for it in cat:
        assert it.category in cat_ids
        assert it.tier_minutes > 0
        assert it.requirement in ("required", "optional")
        assert it.mappable in MAPPABLE_LEVELS
        assert it.confidence in CONFIDENCE_LEVELS
        assert it.filters and all(any(c.positive for c in alt) for alt in it.filters)
        assert it.sources and all(std in cat.sources for std, _ in it.sources)
        assert it.name("zh") == it.name_zh and it.name("en") == it.name_en
        assert it.speed_profile in ("default", "elderly")
        assert it.priority_group in (None, "elderly", "children")
    # every item cites every standard whose tier it carries
    for it in cat:
        assert set(it.tier_by_source) <= {s for s, _ in it.sources}, it.id
    assert cat.required_items == tuple(it for it in cat if it.required)
    # loading is cached and a Catalogue passes through
    assert load_catalogue(name) is cat
    assert load_catalogue(cat) is cat


def test_beijing_profile_content():
    cat = load_catalogue("beijing")
    mappable = [it for it in cat if it.mappable in MAPPABLE_LEVELS]
    assert len(mappable) >= 25
    assert len(cat) == 49
    # Beijing's 8 basic convenience services: 7 mappable items + 家政 (non-spatial)
    basic8 = cat.grouping("bj_basic8")
    assert len(basic8.groups) == 8
    assert {i for g in basic8.groups for i in g.items} == {
        "fresh_market",
        "convenience_store",
        "breakfast",
        "hairdresser",
        "parcel_point",
        "repair_point",
        "laundry",
    }
    assert {s for g in basic8.groups for s in g.non_spatial} == {"housekeeping"}
    for iid in ("fresh_market", "convenience_store", "breakfast", "hairdresser", "laundry"):
        assert cat[iid].required
    # the 1060 catalogue: 10 categories, unverified as a list
    bj1060 = cat.grouping("bj1060")
    assert len(bj1060.groups) == 10
    assert bj1060.confidence == "U"
    # the facility formula is a reading without a source
    formula = cat.grouping("bj_formula")
    assert formula.groups[0].id == "one_school"
    assert len(formula.groups) == 7
    assert formula.confidence == "U"
    assert all(g.confidence == "U" for g in formula.groups)
    ns = {s.id for s in cat.non_spatial}
    assert {
        "employment_service",
        "social_insurance",
        "social_assistance",
        "family_planning",
        "migrant_services",
        "legal_mediation",
        "family_doctor_contract",
        "fitness_testing",
        "bill_payment",
        "housekeeping",
        "volunteer_mutual_aid",
        "residents_school",
        "notice_boards",
    } <= ns
    by_id = {s.id: s for s in cat.non_spatial}
    assert by_id["bill_payment"].proxy == ("bank", "post_office", "convenience_store")
    assert by_id["residents_school"].confidence == "U"
    # GB 50180 facilities at the three tiers are all present
    assert {it.tier_minutes for it in cat} == {5.0, 10.0, 15.0}


def test_priority_groups_speed_profiles_and_sparse_flags():
    cat = load_catalogue("beijing")
    for it in cat:
        if it.id in ELDERLY:
            assert it.speed_profile == "elderly" and it.priority_group == "elderly", it.id
        elif it.id in CHILDREN:
            assert it.priority_group == "children" and it.speed_profile == "default", it.id
        else:
            assert it.priority_group is None and it.speed_profile == "default", it.id
    assert {it.id for it in cat if it.osm_sparse} >= SPARSE
    assert not cat["bank"].osm_sparse


@pytest.mark.parametrize("name", ["gb50180", "tdt1062", "mofcom"])
def test_standard_profiles_cite_their_standard_first(name):
    cat = load_catalogue(name)
    assert cat.standard is not None
    for it in cat:
        assert it.sources[0][0] == cat.standard, it.id
        assert it.sources[0][1], it.id  # a clause is given
        # the profile tier agrees with the library's tier for that standard
        if cat.standard in it.tier_by_source:
            assert it.tier_minutes == it.tier_by_source[cat.standard], it.id


def test_gb50180_tiers_and_marks():
    cat = load_catalogue("gb50180")
    assert {it.tier_minutes for it in cat} == {5.0, 10.0, 15.0}
    assert cat["kindergarten"].required and cat["kindergarten"].tier_minutes == 5
    assert not cat["nursery"].required  # △
    assert cat["junior_middle_school"].tier_minutes == 15
    assert cat["primary_school"].tier_minutes == 10
    # GB figures are [M]: nothing is marked verified except the zgbk-backed 10-min park
    assert [it.id for it in cat if it.confidence == "V"] == ["park_10"]
    assert "Table B.0.2" in cat["kindergarten"].sources[0][1]


def test_tdt1062_flags_are_unverified():
    cat = load_catalogue("tdt1062")
    assert {it.tier_minutes for it in cat} == {10.0, 15.0}
    assert all(it.confidence == "U" for it in cat)
    assert not cat["sports_centre"].required  # a quality element


def test_mofcom_tiers():
    cat = load_catalogue("mofcom")
    assert cat["convenience_store"].tier_minutes == 5
    for iid in ("pharmacy", "laundry", "hairdresser", "fresh_market"):
        assert cat[iid].tier_minutes == 8 and cat[iid].required
    assert cat["breakfast"].confidence == "U"
    assert "快餐店" in cat["breakfast"].sources[0][1]
    assert not cat["bookstore"].required and cat["bookstore"].tier_minutes == 15
    assert [s.id for s in cat.non_spatial] == ["housekeeping"]


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


@pytest.mark.parametrize("name", BUNDLED)
def test_format_catalogue(name):
    en = format_catalogue(name)
    zh = format_catalogue(load_catalogue(name), lang="zh")
    cat = load_catalogue(name)
    for it in cat:
        assert f"  {it.id}: {it.name_en}" in en
        assert f"  {it.id}: {it.name_zh}" in zh
    assert "Needs local data" in en and "需要本地数据" in zh
    assert "分钟" in zh and "必需" in zh and "来源" in zh


def test_format_beijing_lists_non_spatial_and_groupings():
    text = format_catalogue("beijing", lang="zh")
    assert "家政服务" in text and "社区就业服务" in text
    assert "一校" in text and "[U]" in text
    assert "== 教育 / Education ==" in text


# --------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("cond", "tags", "expected"),
    [
        ("amenity=pharmacy", {"amenity": "pharmacy"}, True),
        ("amenity=pharmacy", {"amenity": "clinic"}, False),
        ("amenity=pharmacy", {}, False),
        ("amenity=clinic|doctors", {"amenity": "doctors"}, True),
        ("amenity=clinic|doctors", {"amenity": "dentist"}, False),
        ("shop=convenience", {"shop": "convenience;hairdresser"}, True),
        ("shop=convenience", {"shop": "supermarket; convenience"}, True),
        ("shop=hair", {"shop": "hairdresser"}, False),
        ("nursery=*", {"nursery": "no"}, True),
        ("nursery=*", {}, False),
        ("access!=private", {}, True),
        ("access!=private", {"access": "yes"}, True),
        ("access!=private", {"access": "private"}, False),
        ("access!=private|no", {"access": "no"}, False),
        ("access!=*", {}, True),
        ("access!=*", {"access": "yes"}, False),
        ("cuisine~breakfast", {"cuisine": "chinese;breakfast"}, True),
        ("cuisine~^breakfast$", {"cuisine": "chinese;breakfast"}, False),
        ("cuisine~breakfast", {}, False),
        ("cuisine!~breakfast", {}, True),
        ("cuisine!~breakfast", {"cuisine": "breakfast"}, False),
        ("name~卫生服务站", {"name": "花园路社区卫生服务站"}, True),
        ("name~卫生服务站", {"name:zh": "花园路社区卫生服务站"}, True),
        ("name~卫生服务站", {"name": "x", "name:zh-Hans": "卫生服务站"}, True),
        ("name~(?i)health", {"name:en": "Community Health Station"}, True),
        ("name~药", {"official_name": "北京同仁堂药店"}, True),
        ("name~药", {"alt_name": "药店"}, False),
        ("name~药", {"brand": "药店"}, False),
        ("name=同仁堂", {"name:zh": "同仁堂"}, True),
        ("name=a;b", {"name": "a;b"}, True),
        ("name=a", {"name": "a;b"}, False),  # names are not split on ';'
        ("name!=同仁堂", {"name:en": "TongRenTang", "name:zh": "同仁堂"}, False),
        ("name=*", {"name:zh-Hans": "x"}, True),
        ("social_facility:for=senior", {"social_facility:for": "senior"}, True),
    ],
)
def test_condition_grammar(cond, tags, expected):
    assert parse_condition(cond).test(tags) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amenity", "cannot parse condition"),
        ("=pharmacy", "cannot parse condition"),
        ("amenity==pharmacy", "several conditions"),
        ("amenity=pharmacy&shop=chemist", "several conditions"),
        ("amenity=", "no value"),
        ("amenity=a||b", "non-empty"),
        ("amenity=a|*", "non-empty and not"),
        ("name~(", "invalid regular expression"),
        ("", "empty condition"),
    ],
)
def test_condition_parse_errors(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_condition(text)


_key = st.sampled_from(["amenity", "shop", "name", "name:zh", "access"])
_val = st.text(alphabet="abc;药 ", min_size=0, max_size=6)


@given(tags=st.dictionaries(_key, _val, max_size=4), key=_key, value=st.text("abc药", min_size=1))
def test_negation_is_complement(tags, key, value):
    pos = parse_condition(f"{key}={value}")
    neg = parse_condition(f"{key}!={value}")
    assert pos.test(tags) != neg.test(tags)
    rpos = parse_condition(f"{key}~{re.escape(value)}")
    rneg = parse_condition(f"{key}!~{re.escape(value)}")
    assert rpos.test(tags) != rneg.test(tags)
    # an exact (unsplit) value match implies the substring regex matches
    if key in tags and tags[key] == value:
        assert pos.test(tags) and rpos.test(tags)


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


# --------------------------------------------------------------------------- validation

GOOD_ITEM_TOML = """
[[items]]
id = "pharmacy"
name_zh = "药店"
name_en = "Pharmacy"
category = "health"
tier_minutes = {tier}
requirement = "required"
mappable = "good"
sources = [{{standard = "GB50180-2018", clause = "Table B.0.2"}}]
confidence = "M"
[items.osm]
any = ["amenity=pharmacy"]
"""


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_error_message_names_file_item_field(tmp_path):
    p = _write(tmp_path, "my.toml", GOOD_ITEM_TOML.format(tier='"five"'))
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(p)
    assert str(exc.value) == (
        f"catalogue '{p}', item 'pharmacy', field 'tier_minutes': "
        "expected a positive number of minutes, got 'five'"
    )


@pytest.mark.parametrize("tier", ["0", "-5", "true", "nan"])
def test_bad_tier_values(tmp_path, tier):
    p = _write(tmp_path, "my.toml", GOOD_ITEM_TOML.format(tier=tier))
    with pytest.raises(CatalogueError, match=r"item 'pharmacy', field 'tier_minutes'"):
        load_catalogue(p)


def test_good_toml_file_loads(tmp_path):
    p = _write(tmp_path, "mine.toml", 'title_en = "Mine"\n' + GOOD_ITEM_TOML.format(tier="7.5"))
    cat = load_catalogue(str(p))
    assert cat.name == "mine" and cat.title_en == "Mine" and cat.path == str(p)
    assert cat["pharmacy"].tier_minutes == 7.5
    assert cat["pharmacy"].sources == (("GB50180-2018", "Table B.0.2"),)
    assert cat.match({"amenity": "pharmacy"}) == ["pharmacy"]


YAML_CASES = [
    # (description, yaml text, expected message fragments)
    (
        "unknown top-level field",
        "itmes: [pharmacy]\n",
        ["field 'itmes'", "did you mean 'items'"],
    ),
    (
        "typo in an item field",
        "items:\n  - {id: pharmacy, tier_minute: 5}\n",
        ["item 'pharmacy'", "field 'tier_minute'", "did you mean 'tier_minutes'"],
    ),
    (
        "typo in an osm field",
        "items:\n  - {id: pharmacy, osm: {anyy: [amenity=pharmacy]}}\n",
        ["item 'pharmacy'", "field 'osm.anyy'", "did you mean 'any'"],
    ),
    (
        "missing required field of an inline item",
        "items:\n  - {id: my_clinic, name_en: Clinic}\n",
        ["item 'my_clinic'", "field 'name_zh'", "defined in full"],
    ),
    (
        "misspelt bundled id",
        "items:\n  - {id: pharmcy, tier_minutes: 5}\n",
        ["item 'pharmcy'", "did you mean the bundled item 'pharmacy'"],
    ),
    (
        "missing id",
        "items:\n  - pharmacy\n  - {tier_minutes: 5}\n",
        ["item #2", "field 'id'"],
    ),
    (
        "duplicate ids",
        "items:\n  - pharmacy\n  - {id: bank}\n  - {id: pharmacy, tier_minutes: 10}\n",
        ["item 'pharmacy'", "field 'id'", "duplicate id (entries #1 and #3)"],
    ),
    (
        "bad requirement",
        "items:\n  - {id: pharmacy, requirement: mandatory}\n",
        ["item 'pharmacy'", "field 'requirement'", "'required', 'optional'", "got 'mandatory'"],
    ),
    (
        "bad mappable",
        "items:\n  - {id: pharmacy, mappable: 'yes'}\n",
        ["item 'pharmacy'", "field 'mappable'", "'good', 'partial', 'name_only'"],
    ),
    (
        "bad confidence",
        "items:\n  - {id: pharmacy, confidence: high}\n",
        ["item 'pharmacy'", "field 'confidence'", "'V', 'M', 'U'", "got 'high'"],
    ),
    (
        "bad speed profile",
        "items:\n  - {id: pharmacy, speed_profile: elderley}\n",
        ["field 'speed_profile'", "did you mean 'elderly'"],
    ),
    (
        "bad priority group",
        "items:\n  - {id: pharmacy, priority_group: kids}\n",
        ["field 'priority_group'", "'elderly', 'children'"],
    ),
    (
        "osm_sparse not a boolean",
        "items:\n  - {id: pharmacy, osm_sparse: sometimes}\n",
        ["field 'osm_sparse'", "true or false"],
    ),
    (
        "unparseable condition",
        "items:\n  - {id: pharmacy, osm: {any: ['amenity==pharmacy']}}\n",
        ["item 'pharmacy'", "field 'osm.any[0]'", "' & '"],
    ),
    (
        "condition without operator",
        "items:\n  - {id: pharmacy, osm: {any: [amenity=pharmacy, pharmacy]}}\n",
        ["item 'pharmacy'", "field 'osm.any[1]'", "cannot parse condition 'pharmacy'"],
    ),
    (
        "invalid regex in a condition",
        "items:\n  - {id: pharmacy, osm: {any: ['amenity=pharmacy & name~药(']}}\n",
        ["item 'pharmacy'", "field 'osm.any[0]'", "invalid regular expression '药('"],
    ),
    (
        "invalid regex in exclude",
        "items:\n  - {id: pharmacy, osm: {any: [amenity=pharmacy], exclude: ['name~[']}}\n",
        ["field 'osm.exclude[0]'", "invalid regular expression"],
    ),
    (
        "invalid name_hint regex",
        "items:\n  - {id: pharmacy, osm: {any: [amenity=pharmacy], name_hint: '药)'}}\n",
        ["item 'pharmacy'", "field 'osm.name_hint'", "invalid regular expression"],
    ),
    (
        "only negative conditions",
        "items:\n  - {id: pharmacy, osm: {any: ['access!=private']}}\n",
        ["field 'osm.any[0]'", "only negative conditions"],
    ),
    (
        "empty osm.any",
        "items:\n  - {id: pharmacy, osm: {any: []}}\n",
        ["field 'osm.any'", "non-empty list"],
    ),
    (
        "name_required without a name condition",
        "items:\n  - {id: pharmacy, osm: {any: [amenity=pharmacy], name_required: true}}\n",
        ["field 'osm.any[0]'", "does not test the name"],
    ),
    (
        "negative min area",
        "items:\n  - {id: park_5, osm: {any: [leisure=park], min_area_m2: -1}}\n",
        ["item 'park_5'", "field 'osm.min_area_m2'", "positive area"],
    ),
    (
        "unknown category",
        "items:\n  - {id: pharmacy, category: helth}\n",
        ["item 'pharmacy'", "field 'category'", "did you mean 'health'"],
    ),
    (
        "unknown source",
        "items:\n  - {id: pharmacy, sources: [GB50180]}\n",
        ["item 'pharmacy'", "field 'sources[0]'", "unknown source 'GB50180'"],
    ),
    (
        "clause without a standard",
        "items:\n  - {id: pharmacy, clause: 'Table B.0.2'}\n",
        ["item 'pharmacy'", "field 'clause'", "add 'standard: <source id>'"],
    ),
    (
        "empty catalogue",
        "title_en: nothing\nitems: []\n",
        ["no items", "add at least one entry under 'items'"],
    ),
    (
        "unknown non-spatial service",
        "items: [pharmacy]\nnon_spatial: [housekeepin]\n",
        ["non-spatial service 'housekeepin'", "did you mean 'housekeeping'"],
    ),
    (
        "grouping refers to an item not in the catalogue",
        "items: [pharmacy]\ngroupings:\n  - id: g\n    title_zh: 组\n    title_en: G\n"
        "    groups: [{id: a, name_zh: 甲, name_en: A, items: [bank]}]\n",
        ["grouping 'g', group 'a'", "field 'items'", "unknown item of this catalogue 'bank'"],
    ),
    (
        "invalid YAML",
        "items: [pharmacy\n",
        ["not valid YAML"],
    ),
]


@pytest.mark.parametrize(("what", "text", "fragments"), YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_validation_errors(tmp_path, what, text, fragments):
    p = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(p)
    msg = str(exc.value)
    assert msg.startswith(f"catalogue '{p}'"), msg
    for frag in fragments:
        assert frag in msg, (what, msg)


def test_toml_syntax_error_names_file(tmp_path):
    p = _write(tmp_path, "bad.toml", "items = [\n")
    with pytest.raises(CatalogueError, match=r"bad\.toml.*not valid TOML"):
        load_catalogue(p)


def test_missing_file_and_unknown_names(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputFileError, match=re.escape(str(missing))):
        load_catalogue(missing)
    with pytest.raises(CatalogueError, match=r"unknown catalogue 'bejing'.*did you mean 'beijing'"):
        load_catalogue("bejing")
    with pytest.raises(CatalogueError, match="beijing, gb50180, mofcom, tdt1062"):
        load_catalogue("items")  # the library is not a catalogue
    other = _write(tmp_path, "cat.json", "{}")
    with pytest.raises(CatalogueError, match=r"expected a \.yaml, \.yml or \.toml file"):
        load_catalogue(other)


def test_user_file_mixes_references_and_inline_items(tmp_path):
    text = """
name: my_district
title_zh: 我的街道
title_en: My district
standard: MY-2024
confidence_cap: M
sources:
  MY-2024: {title_en: District plan 2024, url: "https://example.org/plan"}
categories:
  - {id: local, name_zh: 本地, name_en: Local}
items:
  - pharmacy                                   # bundled, unchanged except the cap
  - {id: bank, tier_minutes: 15, requirement: optional, clause: "Art. 3"}
  - {id: kindergarten, clause: "Art. 4", standard: GB50180-2018, confidence: V}
  - id: tea_house
    name_zh: 茶馆
    name_en: Tea house
    category: local
    tier_minutes: 12
    requirement: optional
    mappable: good
    osm: {any: ["amenity=cafe & cuisine~tea", shop=tea]}
    sources: [{standard: MY-2024, clause: "Art. 9"}]
    confidence: U
non_spatial:
  - housekeeping
  - {id: tea_ceremony, name_zh: 茶艺课, name_en: Tea classes, proxy: [tea_house]}
groupings:
  - id: mine
    title_zh: 我的分组
    title_en: My grouping
    groups:
      - id: drinks
        name_zh: 饮品
        name_en: Drinks
        items: [tea_house]
        non_spatial: [tea_ceremony]
"""
    p = _write(tmp_path, "district.yml", text)
    cat = load_catalogue(p)
    assert cat.name == "my_district" and cat.item_ids == (
        "pharmacy",
        "bank",
        "kindergarten",
        "tea_house",
    )
    assert cat["pharmacy"].confidence == "M"  # V capped at M
    assert cat["pharmacy"].tier_minutes == 5  # library default (no MY-2024 tier)
    bank = cat["bank"]
    assert (bank.tier_minutes, bank.requirement) == (15, "optional")
    assert bank.sources[0] == ("MY-2024", "Art. 3")
    assert cat["kindergarten"].sources[0] == ("GB50180-2018", "Art. 4")
    assert cat["kindergarten"].confidence == "V"  # explicit value beats the cap
    assert cat["tea_house"].matches({"shop": "tea"})
    assert [c.id for c in cat.categories] == [
        "education",
        "health",
        "finance_post_telecom",
        "local",
    ]
    assert [s.id for s in cat.non_spatial] == ["housekeeping", "tea_ceremony"]
    assert "MY-2024" in cat.sources and "MOFCOM-2023" not in cat.sources
    assert "tea_house" in format_catalogue(cat)


def test_profile_standard_sets_default_tier():
    cat = load_catalogue({"standard": "MOFCOM-2021", "items": ["pharmacy", "supermarket"]})
    assert cat["pharmacy"].tier_minutes == 8  # tier_by_source[MOFCOM-2021]
    assert cat["supermarket"].tier_minutes == 15
    assert cat["pharmacy"].sources[0][0] == "MOFCOM-2021"


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
