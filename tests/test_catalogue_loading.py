"""Tests of fifteenmin.catalogue.loading: bundled catalogues, profiles, user files."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

import fifteenmin
from fifteenmin import CatalogueError, InputFileError
from fifteenmin.catalogue import (
    CONFIDENCE_LEVELS,
    MAPPABLE_LEVELS,
    Catalogue,
    available_catalogues,
    format_catalogue,
    load_catalogue,
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
    assert len(cat) == 50  # 49 + school_level_unknown (issue 13)
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


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


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


def test_bundled_catalogue_loads_once():
    first = load_catalogue("beijing")
    start = time.perf_counter()
    for _ in range(1000):
        again = load_catalogue("beijing")
    assert again is first
    assert time.perf_counter() - start < 0.5  # a cache hit, not a parse (a parse takes ~50 ms)
    # the list of names is a fresh copy: changing it changes nothing
    names = available_catalogues()
    names.clear()
    assert available_catalogues() == BUNDLED


def test_catalogue_package_does_not_import_numba():
    """The catalogue stage loads without numba, pandas or the network stage.

    ``fifteenmin/__init__.py`` imports every stage, so the catalogue modules are imported
    under the package created but not run: only what they import themselves is loaded.
    """
    root = str(next(iter(fifteenmin.__path__)))
    code = f"""
import importlib.util, os, sys
root = {root!r}
spec = importlib.util.spec_from_file_location(
    "fifteenmin", os.path.join(root, "__init__.py"), submodule_search_locations=[root]
)
sys.modules["fifteenmin"] = importlib.util.module_from_spec(spec)
import fifteenmin.catalogue as c
assert c.load_catalogue("beijing").match({{"amenity": "pharmacy"}}) == ["pharmacy"]
heavy = {{"numba", "pandas", "fifteenmin._kernel", "fifteenmin.network"}} & set(sys.modules)
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_odd_catalogue_arguments_are_one_line_errors(tmp_path):
    """A number, a folder or a name the system refuses: library errors, never a traceback."""
    with pytest.raises(CatalogueError, match="got int 123"):
        load_catalogue(123)  # type: ignore[arg-type]
    with pytest.raises(CatalogueError, match="is a folder"):
        load_catalogue(tmp_path)
    with pytest.raises(InputFileError, match="cannot be used: File name too long"):
        load_catalogue("x" * 300 + ".yaml")


def test_cli_catalogue_validate_long_name_exit_2():
    long_name = "a" * 300 + ".yaml"
    run = subprocess.run(
        [sys.executable, "-m", "fifteenmin", "catalogue", "validate", long_name],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "File name too long" in run.stderr
