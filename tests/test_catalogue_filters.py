"""Tests of fifteenmin.catalogue.filters: the OSM tag-filter grammar."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fifteenmin.catalogue import NAME_KEYS, parse_condition
from fifteenmin.catalogue.filters import (
    alternative_text,
    anchor,
    filters_text,
    matches_any,
    parse_alternative,
)


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


def test_parse_alternative_splits_on_spaced_ampersand():
    alt = parse_alternative("amenity=clinic|doctors & name~卫生")
    assert [c.text for c in alt] == ["amenity=clinic|doctors", "name~卫生"]
    assert alternative_text(alt) == "amenity=clinic|doctors & name~卫生"
    with pytest.raises(ValueError, match="several conditions"):
        parse_alternative("amenity=pharmacy&shop=chemist")


def test_filters_text_parenthesises_only_several_alternatives():
    one = parse_alternative("a=1 & b=2")
    assert filters_text([one]) == "a=1 & b=2"
    assert filters_text([one, parse_alternative("c=3")]) == "(a=1 & b=2) OR c=3"


def test_matches_any_needs_every_condition_of_one_alternative():
    alts = [parse_alternative("amenity=clinic & name~卫生"), parse_alternative("healthcare=clinic")]
    assert matches_any(alts, {"amenity": "clinic", "name": "卫生站"})
    assert not matches_any(alts, {"amenity": "clinic"})
    assert matches_any(alts, {"healthcare": "clinic"})
    assert not matches_any([], {"healthcare": "clinic"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amenity=pharmacy", ("amenity", ("pharmacy",))),
        ("name~药 & amenity=pharmacy", ("amenity", ("pharmacy",))),
        ("cuisine~tea & shop=tea|coffee", ("shop", ("tea", "coffee"))),
        ("nursery=* & access!=private", ("nursery", None)),
        ("cuisine~tea", ("cuisine", None)),
        ("name~药 & access!=private", ("name", None)),
        ("access!=private", None),
    ],
)
def test_anchor(text, expected):
    assert anchor(parse_alternative(text)) == expected


def test_name_condition_reads_every_name_key():
    assert parse_condition("name~x").keys == NAME_KEYS
    assert parse_condition("amenity=x").keys == ("amenity",)
