"""Tests of fifteenmin.catalogue.schema: every invalid catalogue gets a clear message."""

from __future__ import annotations

import pytest

from fifteenmin import CatalogueError
from fifteenmin.catalogue import load_catalogue

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
