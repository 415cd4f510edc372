"""Service catalogues: what a community should reach on foot, and how to find it in OSM.

A catalogue lists the *items* a 15-minute community should reach (a kindergarten, a
pharmacy, a vegetable market …), each with its walking tier in minutes, whether it is
required, the OpenStreetMap tag filter that finds it, and the standard and clause it comes
from. Four catalogues are bundled (see :func:`available_catalogues`):

``beijing``
    Beijing's 一刻钟社区服务圈 (15-minute community service circle).
``gb50180``
    GB 50180-2018 residential-area facilities at 5/10/15 minutes.
``tdt1062``
    TD/T 1062-2021 community life circle (15-minute and 5-10-minute levels).
``mofcom``
    The MOFCOM 2021 guide to 15-minute convenient life circles.

Every item is defined once, in the bundled item library ``catalogues/items.yaml``; the
profiles pick items from it. A user catalogue (``.yaml``, ``.yml`` or ``.toml``) has the same
schema as a profile: it may reference library items by id (with overrides) and may define
its own items in full.

Profile schema (top-level fields; only ``items`` is required)
-------------------------------------------------------------
``name``, ``title_zh``, ``title_en``, ``description``
    Labels (``name`` defaults to the file name).
``standard``
    Source id the profile follows. Referenced items take their tier from the item's
    ``tier_by_source[standard]`` unless the entry gives ``tier_minutes``; this source is
    listed first in each item's sources; an entry's ``clause`` attaches to it.
``confidence_cap``
    ``V``/``M``/``U``: referenced items without their own ``confidence`` get the weaker of
    the library mark and this cap.
``sources``
    Extra sources, ``{id: {title_zh, title_en, issuer, url, effective, confidence, note}}``.
``categories``
    Extra categories, a list of ``{id, name_zh, name_en}``.
``items``
    A list of entries. An entry whose ``id`` names a library item starts from that item and
    any field it gives replaces the library value (``clause`` and ``standard`` set the clause
    of one source). Any other entry defines an item in full. A bare string is shorthand for
    ``{id: ...}``.
``non_spatial``
    Services a map cannot show: library ids, or full ``{id, name_zh, name_en, proxy,
    delivered_at, confidence, note}`` entries.
``groupings``
    Named groupings of items and non-spatial services (e.g. Beijing's 1060 categories):
    ``{id, title_zh, title_en, source, confidence, note, groups: [{id, name_zh, name_en,
    items, non_spatial, confidence, note}]}``.

Item fields
-----------
Required for an inline item: ``id``, ``name_zh``, ``name_en``, ``category``,
``tier_minutes`` (a positive number), ``requirement`` (``required`` | ``optional``),
``mappable`` (``good`` | ``partial`` | ``name_only``), ``osm`` (a mapping with at least
``any``), ``sources`` (a list of ``{standard, clause}`` or of source ids) and
``confidence`` (``V`` verified in a source, ``M`` from the standard but not checked against
the official text, ``U`` unverified reading). Optional: ``tier_by_source``,
``service_radius_m``, ``speed_profile`` (``default`` | ``elderly``), ``priority_group``
(``elderly`` | ``children``), ``osm_sparse`` (OSM tagging expected to be sparse: report a
data gap), ``note``.

OSM filter grammar
------------------
``osm.any`` is a list of alternatives; inside one alternative, conditions are joined by
``" & "``. A condition is ``k=v``, ``k=v1|v2``, ``k=*`` (key present), ``k!=v`` /
``k!=v1|v2`` (negation of ``=``: true when the key is absent), ``k!=*`` (key absent),
``k~regex`` or ``k!~regex`` (Python :func:`re.search`, unanchored). ``k=v`` also matches one
part of a semicolon list (``shop=convenience;hairdresser``). A condition on ``name`` tests
``name``, ``name:zh``, ``name:zh-Hans``, ``name:en`` and ``official_name`` (true if any
matches). ``osm.exclude``: alternatives that disqualify a feature. ``osm.min_area_m2``:
applies to area features only; a point feature never satisfies an item that has it.
``osm.name_hint``: a regex kept as documentation and for matching user tables by name; it
never makes a feature match. ``osm.fallback_any``: lower-confidence alternatives kept as
data, not used by matching. ``osm.name_required: true`` asserts that every alternative tests
the name (checked).

Examples
--------
>>> from fifteenmin.catalogue import load_catalogue
>>> cat = load_catalogue("beijing")
>>> cat["pharmacy"].tier_minutes
5.0
>>> cat.match({"amenity": "pharmacy", "name": "同仁堂"})
['pharmacy']
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from . import settings
from ._errors import CatalogueError, InputFileError, UnknownItemError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONFIDENCE_LEVELS",
    "MAPPABLE_LEVELS",
    "NAME_KEYS",
    "PRIORITY_GROUPS",
    "REQUIREMENTS",
    "SPEED_PROFILE_NAMES",
    "Catalogue",
    "Category",
    "Condition",
    "Grouping",
    "Item",
    "NonSpatialService",
    "ServiceGroup",
    "available_catalogues",
    "format_catalogue",
    "load_catalogue",
    "parse_condition",
]

#: Tag keys a condition on ``name`` tests (true if any of them matches).
NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "name:zh-Hans", "name:en", "official_name")
#: Allowed ``requirement`` values.
REQUIREMENTS: tuple[str, ...] = ("required", "optional")
#: Allowed ``mappable`` values.
MAPPABLE_LEVELS: tuple[str, ...] = ("good", "partial", "name_only")
#: Allowed ``confidence`` marks, strongest first.
CONFIDENCE_LEVELS: tuple[str, ...] = ("V", "M", "U")
#: Service keys whose values are often ``;``-separated lists in OSM; online queries request
#: any value for them and leave the filtering to :meth:`Catalogue.match`.
LIST_VALUED_KEYS = frozenset({"amenity", "shop", "leisure", "healthcare", "office", "craft"})

#: Allowed ``speed_profile`` values (the walking-speed profile the scorer applies).
SPEED_PROFILE_NAMES: tuple[str, ...] = tuple(settings.SPEED_PROFILES)
#: Allowed ``priority_group`` values.
PRIORITY_GROUPS: tuple[str, ...] = ("elderly", "children")

_LIBRARY_FILE = "items.yaml"
_NEW_SOURCE_FIX = "define new sources under the catalogue's 'sources'"
_SUFFIXES = (".yaml", ".yml", ".toml")
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_COND_RE = re.compile(r"^(?P<key>[^\s=!~&|]+)\s*(?P<op>!=|!~|=|~)\s*(?P<value>.*)$", re.S)
_AND_RE = re.compile(r"\s+&\s+")

_ITEM_REQUIRED = (
    "id",
    "name_zh",
    "name_en",
    "category",
    "tier_minutes",
    "requirement",
    "mappable",
    "osm",
    "sources",
    "confidence",
)
_ITEM_OPTIONAL = (
    "tier_by_source",
    "service_radius_m",
    "speed_profile",
    "priority_group",
    "osm_sparse",
    "note",
)
_ITEM_FIELDS = frozenset(_ITEM_REQUIRED + _ITEM_OPTIONAL)
_ENTRY_FIELDS = _ITEM_FIELDS | {"clause", "standard"}
_OSM_FIELDS = frozenset(
    {"any", "exclude", "fallback_any", "min_area_m2", "name_hint", "name_required"}
)
_SOURCE_FIELDS = frozenset(
    {"title_zh", "title_en", "issuer", "url", "effective", "confidence", "note"}
)
_CATEGORY_FIELDS = frozenset({"id", "name_zh", "name_en"})
_NON_SPATIAL_FIELDS = frozenset(
    {"id", "name_zh", "name_en", "proxy", "delivered_at", "confidence", "note"}
)
_GROUPING_FIELDS = frozenset(
    {"id", "title_zh", "title_en", "source", "confidence", "note", "groups"}
)
_GROUP_FIELDS = frozenset(
    {"id", "name_zh", "name_en", "items", "non_spatial", "confidence", "note"}
)
_PROFILE_FIELDS = frozenset(
    {
        "schema_version",
        "name",
        "title_zh",
        "title_en",
        "description",
        "standard",
        "confidence_cap",
        "sources",
        "categories",
        "items",
        "non_spatial",
        "groupings",
    }
)
_LIBRARY_FIELDS = frozenset(
    {
        "schema_version",
        "life_circle_levels",
        "sources",
        "categories",
        "items",
        "non_spatial_services",
    }
)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """One tag condition of an OSM filter, e.g. ``amenity=clinic|doctors`` or ``name~药``.

    Attributes
    ----------
    key
        The tag key; ``name`` stands for every key of :data:`NAME_KEYS`.
    op
        ``"="``, ``"!="``, ``"~"`` or ``"!~"``.
    values
        The accepted values of ``=``/``!=`` (empty for ``*``, i.e. "key present").
    pattern
        The compiled regex of ``~``/``!~``.
    text
        The condition as written.

    Examples
    --------
    >>> c = parse_condition("shop=convenience|supermarket")
    >>> c.test({"shop": "supermarket"}), c.test({"shop": "convenience;hairdresser"})
    (True, True)
    """

    key: str
    op: str
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    text: str = ""
    _value_set: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_value_set", frozenset(self.values))

    @property
    def positive(self) -> bool:
        """Whether the condition requires the key to be present (``=`` or ``~``).

        Examples
        --------
        >>> parse_condition("access!=private").positive
        False
        """
        return self.op in ("=", "~")

    @property
    def keys(self) -> tuple[str, ...]:
        """The tag keys this condition reads.

        Examples
        --------
        >>> parse_condition("name~药").keys
        ('name', 'name:zh', 'name:zh-Hans', 'name:en', 'official_name')
        """
        return NAME_KEYS if self.key == "name" else (self.key,)

    def test(self, tags: Mapping[str, str]) -> bool:
        """Whether ``tags`` satisfy the condition.

        Examples
        --------
        >>> parse_condition("access!=private").test({})
        True
        """
        present = [tags[k] for k in self.keys if k in tags]
        if self.op in ("=", "!="):
            if not self.values:
                hit = bool(present)
            else:
                split = self.key != "name"
                hit = any(self._has_value(str(v), split) for v in present)
            return hit if self.op == "=" else not hit
        assert self.pattern is not None
        hit = any(self.pattern.search(str(v)) is not None for v in present)
        return hit if self.op == "~" else not hit

    def _has_value(self, value: str, split: bool) -> bool:
        if value in self._value_set:
            return True
        if split and ";" in value:
            return any(part.strip() in self._value_set for part in value.split(";"))
        return False

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Parse one condition of the filter grammar.

    Parameters
    ----------
    text
        ``k=v``, ``k=v1|v2``, ``k=*``, ``k!=v``, ``k!=*``, ``k~regex`` or ``k!~regex``.

    Returns
    -------
    Condition

    Raises
    ------
    ValueError
        The text is not a condition (the message says why).

    Examples
    --------
    >>> parse_condition("social_facility:for=senior").values
    ('senior',)
    >>> parse_condition("name~卫生服务站").test({"name:zh": "花园路社区卫生服务站"})
    True
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a condition string such as 'amenity=pharmacy', got {text!r}")
    raw = text.strip()
    if not raw:
        raise ValueError("empty condition; write e.g. 'amenity=pharmacy'")
    m = _COND_RE.match(raw)
    if m is None:
        raise ValueError(
            f"cannot parse condition {raw!r}: write k=v, k=v1|v2, k=*, k!=v, k~regex or "
            "k!~regex with a tag key on the left"
        )
    key, op, value = m.group("key"), m.group("op"), m.group("value").strip()
    if not value:
        raise ValueError(f"condition {raw!r} has no value after {op!r}; use '*' for any value")
    if op in ("~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r} in {raw!r}: {exc}") from None
        return Condition(key, op, (), pattern, raw)
    if value == "*":
        return Condition(key, op, (), None, raw)
    if any(ch in value for ch in "&=~"):
        raise ValueError(
            f"condition {raw!r} looks like several conditions run together; join conditions "
            "with ' & ' (spaces around the &)"
        )
    values = tuple(v.strip() for v in value.split("|"))
    if any(not v for v in values) or "*" in values:
        raise ValueError(
            f"condition {raw!r}: every value between '|' must be non-empty and not '*'"
        )
    return Condition(key, op, values, None, raw)


Alternative = tuple[Condition, ...]


def _alternative_text(alt: Alternative) -> str:
    return " & ".join(c.text for c in alt)


def _filters_text(alts: Sequence[Alternative]) -> str:
    parts = [_alternative_text(a) for a in alts]
    return " OR ".join(
        f"({p})" if len(a) > 1 and len(alts) > 1 else p for p, a in zip(parts, alts, strict=True)
    )


def _matches_any(alts: Sequence[Alternative], tags: Mapping[str, str]) -> bool:
    return any(all(c.test(tags) for c in alt) for alt in alts)


def _anchor(alt: Alternative) -> tuple[str, tuple[str, ...] | None] | None:
    """Pick the condition that fetches candidates of one alternative: (key, values|None)."""
    positive = [c for c in alt if c.positive and c.key != "name"]
    for c in positive:
        if c.op == "=" and c.values:
            return c.key, c.values
    if positive:
        return positive[0].key, None
    if any(c.positive for c in alt):
        return "name", None
    return None


# --------------------------------------------------------------------------- data classes


def _check_lang(lang: str) -> str:
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    return lang


class _Bilingual:
    """Mixin for things named in Chinese and English (``name_zh``, ``name_en``)."""

    name_zh: str
    name_en: str

    def name(self, lang: str = "en") -> str:
        """Return the name in ``"en"`` or ``"zh"``.

        Examples
        --------
        >>> load_catalogue("beijing").category("transport").name("en")
        'Transport'
        >>> load_catalogue("beijing")["pharmacy"].name("zh")
        '药店'
        """
        return self.name_zh if _check_lang(lang) == "zh" else self.name_en


@dataclass(frozen=True)
class Category(_Bilingual):
    """A category of items (education, health …).

    Examples
    --------
    >>> load_catalogue("beijing").categories[0].name("zh")
    '教育'
    """

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class NonSpatialService(_Bilingual):
    """A service a map cannot show (it needs local data), e.g. employment services.

    Attributes
    ----------
    proxy
        Ids of items whose sites deliver the service (information only: a proxy site
        does not prove that the service is offered).
    delivered_at
        Id of the item where the service is usually delivered, if known.

    Examples
    --------
    >>> s = load_catalogue("beijing").non_spatial[0]
    >>> s.id, s.name("en")
    ('employment_service', 'Employment services (registration, job matching, counselling)')
    """

    id: str
    name_zh: str
    name_en: str
    proxy: tuple[str, ...] = ()
    delivered_at: str | None = None
    confidence: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ServiceGroup(_Bilingual):
    """One group of a :class:`Grouping`: item ids and non-spatial service ids.

    Examples
    --------
    >>> g = load_catalogue("beijing").grouping("bj_basic8").groups[0]
    >>> g.name("zh"), g.items
    ('蔬菜零售', ('fresh_market',))
    """

    id: str
    name_zh: str
    name_en: str
    items: tuple[str, ...] = ()
    non_spatial: tuple[str, ...] = ()
    confidence: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Grouping:
    """A named grouping of a catalogue, e.g. Beijing's 1060 categories.

    Examples
    --------
    >>> load_catalogue("beijing").grouping("bj1060").confidence
    'U'
    """

    id: str
    title_zh: str
    title_en: str
    groups: tuple[ServiceGroup, ...]
    source: str | None = None
    confidence: str | None = None
    note: str = ""

    def title(self, lang: str = "en") -> str:
        """Return the grouping title in ``"en"`` or ``"zh"``.

        Examples
        --------
        >>> load_catalogue("beijing").grouping("bj_basic8").title("zh")
        '北京8项基本便民服务功能'
        """
        return self.title_zh if _check_lang(lang) == "zh" else self.title_en


@dataclass(frozen=True)
class Item(_Bilingual):
    """One catalogue item: a kind of facility, its walking tier and its OSM filter.

    Attributes
    ----------
    id, name_zh, name_en, category
        Identity and labels; ``category`` is a category id.
    tier_minutes
        Walking tier in minutes (5/10/15 or another positive number).
    requirement
        ``"required"`` or ``"optional"``.
    mappable
        ``"good"``, ``"partial"`` or ``"name_only"``: how well OSM can show the item.
    filters, exclude
        Parsed ``osm.any`` / ``osm.exclude`` alternatives (tuples of :class:`Condition`).
    min_area_m2
        Minimum area of an area feature; points never match when set.
    name_hint
        Regex for names (documentation, user tables); never used by :meth:`matches`.
    sources
        ``(standard id, clause)`` pairs, the catalogue's own standard first.
    confidence
        ``"V"``, ``"M"`` or ``"U"`` (see the module docstring).
    speed_profile, priority_group
        Walking-speed profile (``"default"``/``"elderly"``) and the population group the
        item is a priority for (``None``, ``"elderly"`` or ``"children"``).
    osm_sparse
        OSM tagging of the item is expected to be sparse (report a possible data gap).
    note
        Free text.
    tier_by_source
        The tier each standard assigns, ``{standard id: minutes}``.
    service_radius_m
        The service radius a standard states, if any.
    fallback_filters
        ``osm.fallback_any``: lower-confidence alternatives, not used by :meth:`matches`.
    name_required
        Tags alone are not enough: every alternative tests the name.

    Examples
    --------
    >>> it = load_catalogue("beijing")["kindergarten"]
    >>> it.required, it.name("zh"), it.matches({"amenity": "kindergarten"})
    (True, '幼儿园', True)
    """

    id: str
    name_zh: str
    name_en: str
    category: str
    tier_minutes: float
    requirement: str
    mappable: str
    filters: tuple[Alternative, ...]
    exclude: tuple[Alternative, ...] = ()
    min_area_m2: float | None = None
    name_hint: str | None = None
    sources: tuple[tuple[str, str], ...] = ()
    confidence: str = "U"
    speed_profile: str = "default"
    priority_group: str | None = None
    osm_sparse: bool = False
    note: str = ""
    tier_by_source: Mapping[str, float] = field(default_factory=dict)
    service_radius_m: float | None = None
    fallback_filters: tuple[Alternative, ...] = ()
    name_required: bool = False

    def __hash__(self) -> int:
        return hash((self.id, self.tier_minutes, self.requirement, self.filters, self.exclude))

    @property
    def required(self) -> bool:
        """Whether the item is required (``requirement == "required"``).

        Examples
        --------
        >>> load_catalogue("gb50180")["nursery"].required
        False
        """
        return self.requirement == "required"

    def matches(self, tags: Mapping[str, str], area_m2: float | None = None) -> bool:
        """Whether an OSM feature with these tags is a facility of this item.

        Parameters
        ----------
        tags
            The feature's tags.
        area_m2
            The feature's area for area features; ``None`` for points and lines.

        Examples
        --------
        >>> park = load_catalogue("beijing")["park_5"]
        >>> park.matches({"leisure": "park"}, 5000.0), park.matches({"leisure": "park"})
        (True, False)
        """
        if self.min_area_m2 is not None and (area_m2 is None or area_m2 < self.min_area_m2):
            return False
        return _matches_any(self.filters, tags) and not _matches_any(self.exclude, tags)

    def matches_name(self, name: str) -> bool:
        """Whether a name fits :attr:`name_hint` (for user tables; not used for OSM).

        Examples
        --------
        >>> load_catalogue("beijing")["pharmacy"].matches_name("老百姓大药房")
        True
        """
        return self.name_hint is not None and re.search(self.name_hint, name) is not None

    @property
    def osm_text(self) -> str:
        """The OSM filter as one line of text (alternatives, exclusions, minimum area).

        Examples
        --------
        >>> load_catalogue("beijing")["public_toilet"].osm_text
        'amenity=toilets NOT (access=private|customers|no)'
        """
        text = _filters_text(self.filters)
        if self.exclude:
            text += " NOT " + " NOT ".join(f"({_alternative_text(a)})" for a in self.exclude)
        if self.min_area_m2 is not None:
            text += f" [area >= {self.min_area_m2:g} m²]"
        return text

    @property
    def sources_text(self) -> str:
        """The sources as one line: ``standard clause; standard clause``.

        Examples
        --------
        >>> load_catalogue("gb50180")["playground"].sources_text
        'GB50180-2018 Table B.0.3: 儿童、老年人活动场地 ▲ (居住街坊); ≥170 m²'
        """
        return "; ".join(f"{s} {c}".strip() for s, c in self.sources)


@dataclass(frozen=True)
class Catalogue:
    """A service catalogue: items in order, categories, non-spatial services, sources.

    Examples
    --------
    >>> cat = load_catalogue("beijing")
    >>> len(cat) >= 25, "pharmacy" in cat.item_ids
    (True, True)
    >>> cat.match({"shop": "supermarket"})
    ['convenience_store', 'supermarket']
    """

    name: str
    title_zh: str
    title_en: str
    description: str
    items: tuple[Item, ...]
    categories: tuple[Category, ...]
    non_spatial: tuple[NonSpatialService, ...] = ()
    sources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    groupings: tuple[Grouping, ...] = ()
    standard: str | None = None
    path: str | None = None
    _index: Mapping[str, Item] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_key: Mapping[str, tuple[int, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {it.id: it for it in self.items})
        object.__setattr__(self, "_rank", {it.id: k for k, it in enumerate(self.items)})
        # Every alternative has a positive "anchor" condition, so an item can only match a
        # feature that carries one of its anchor keys: index the items by those keys.
        by_key: dict[str, list[int]] = {}
        for k, it in enumerate(self.items):
            keys: set[str] = set()
            for alt in it.filters:
                anchor = _anchor(alt)
                if anchor is not None:
                    keys.update(NAME_KEYS if anchor[0] == "name" else (anchor[0],))
            for key in keys:
                by_key.setdefault(key, []).append(k)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in by_key.items()})

    def __hash__(self) -> int:
        return hash((self.name, self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def __getitem__(self, item_id: str) -> Item:
        try:
            return self._index[item_id]
        except KeyError:
            close = difflib.get_close_matches(str(item_id), list(self._index), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise UnknownItemError(
                f"catalogue {self.name!r} has no item {item_id!r}{hint} "
                f"Known ids: {', '.join(self._index)}"
            ) from None

    def title(self, lang: str = "en") -> str:
        """Return the catalogue title in ``"en"`` or ``"zh"``.

        Examples
        --------
        >>> load_catalogue("beijing").title("zh")
        '北京市一刻钟社区服务圈'
        """
        return self.title_zh if _check_lang(lang) == "zh" else self.title_en

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in catalogue order.

        Examples
        --------
        >>> load_catalogue("mofcom").item_ids[:2]
        ('convenience_store', 'fresh_market')
        """
        return tuple(it.id for it in self.items)

    def rank(self, item_ids: Iterable[str]) -> np.ndarray:
        """Catalogue position of each item id (``len(self)`` for ids not in the catalogue).

        The one definition of "catalogue order": sort by it, then by whatever breaks ties.

        Examples
        --------
        >>> cat = load_catalogue("beijing")
        >>> cat.rank(["pharmacy", "kindergarten", "no_such_item"]).tolist()
        [7, 1, 49]
        """
        index = self._rank
        return np.array([index.get(i, len(self.items)) for i in item_ids], dtype=np.int64)

    @property
    def required_items(self) -> tuple[Item, ...]:
        """The required items, in catalogue order.

        Examples
        --------
        >>> all(it.required for it in load_catalogue("gb50180").required_items)
        True
        """
        return tuple(it for it in self.items if it.required)

    def category(self, category_id: str) -> Category:
        """Return the category with this id.

        Examples
        --------
        >>> load_catalogue("beijing").category("health").name_zh
        '医疗卫生'
        """
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(f"catalogue {self.name!r} has no category {category_id!r}")

    def grouping(self, grouping_id: str) -> Grouping:
        """Return the grouping with this id (e.g. ``"bj1060"`` in the Beijing catalogue).

        Examples
        --------
        >>> len(load_catalogue("beijing").grouping("bj1060").groups)
        10
        """
        for g in self.groupings:
            if g.id == grouping_id:
                return g
        known = ", ".join(g.id for g in self.groupings) or "none"
        raise KeyError(f"catalogue {self.name!r} has no grouping {grouping_id!r}; known: {known}")

    def osm_keys(self, all_keys: bool = False) -> set[str]:
        """Tag keys needed to find this catalogue's features in OSM data.

        Parameters
        ----------
        all_keys
            ``False`` (default): the selecting keys, the same keys as :meth:`osmnx_tags`.
            An element that has none of them can match no item, so keeping only elements
            with one of these keys (with all their tags) loses nothing. ``True``: every key
            any filter reads, including ``exclude`` and ``fallback_any`` conditions, negated
            conditions and the name keys of :data:`NAME_KEYS` (these would select far too
            much, e.g. every named street, if used to choose elements).

        Examples
        --------
        >>> sorted(load_catalogue("mofcom").osm_keys())[:3]
        ['amenity', 'craft', 'healthcare']
        """
        if not all_keys:
            return set(self.osmnx_tags())
        keys: set[str] = set()
        for it in self.items:
            for alt in (*it.filters, *it.exclude, *it.fallback_filters):
                for c in alt:
                    keys.update(c.keys)
        return keys

    def osmnx_tags(self) -> dict[str, bool | list[str]]:
        """Build a ``tags`` dict for :func:`osmnx.features_from_polygon` fetching all candidates.

        For each filter alternative one positive condition is chosen (a ``k=v`` on a key
        other than ``name`` when there is one); its key and values go into the dict, with
        ``True`` for "any value". Keys whose values OSM often lists with ``;``
        (:data:`LIST_VALUED_KEYS`: ``amenity=cafe;restaurant``) are requested with ``True``,
        since Overpass compares whole values while :meth:`match` also matches one part of a
        list. Every feature that can match an item is fetched; the features still have to be
        checked with :meth:`match`.

        Examples
        --------
        >>> load_catalogue("beijing").osmnx_tags()["highway"]
        ['bus_stop']
        """
        out: dict[str, bool | list[str]] = {}
        for it in self.items:
            for alt in it.filters:
                anchor = _anchor(alt)
                if anchor is None:  # pragma: no cover - rejected by validation
                    continue
                key, values = anchor
                if key in LIST_VALUED_KEYS:
                    values = None
                keys = NAME_KEYS if key == "name" else (key,)
                for k in keys:
                    have = out.get(k)
                    if values is None or have is True:
                        out[k] = True
                    else:
                        out[k] = sorted(set(have or []) | set(values))
        return dict(sorted(out.items()))

    def match(self, tags: Mapping[str, str], area_m2: float | None = None) -> list[str]:
        """Ids of the items a feature matches, in catalogue order.

        Parameters
        ----------
        tags
            The feature's tags.
        area_m2
            The feature's area for area features; ``None`` for points and lines.

        Examples
        --------
        >>> load_catalogue("beijing").match({"leisure": "park"}, 20000.0)
        ['park_10', 'park_5']
        """
        candidates: set[int] = set()
        for key in tags:
            found = self._by_key.get(key)
            if found:
                candidates.update(found)
        items = self.items
        return [items[k].id for k in sorted(candidates) if items[k].matches(tags, area_m2)]

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """Return the items as a :class:`pandas.DataFrame`, one row per item.

        Columns: ``id``, ``name``, ``category``, ``category_name``, ``tier_minutes``,
        ``requirement``, ``mappable``, ``osm``, ``sources``, ``confidence``,
        ``priority_group``, ``speed_profile``, ``osm_sparse``.

        Examples
        --------
        >>> df = load_catalogue("gb50180").to_frame("zh")
        >>> df.loc[df["id"] == "kindergarten", "name"].item()
        '幼儿园'
        """
        import pandas as pd

        _check_lang(lang)
        cat_names = {c.id: c.name(lang) for c in self.categories}
        rows = [
            {
                "id": it.id,
                "name": it.name(lang),
                "category": it.category,
                "category_name": cat_names.get(it.category, it.category),
                "tier_minutes": it.tier_minutes,
                "requirement": it.requirement,
                "mappable": it.mappable,
                "osm": it.osm_text,
                "sources": it.sources_text,
                "confidence": it.confidence,
                "priority_group": it.priority_group,
                "speed_profile": it.speed_profile,
                "osm_sparse": it.osm_sparse,
            }
            for it in self.items
        ]
        columns = [
            "id",
            "name",
            "category",
            "category_name",
            "tier_minutes",
            "requirement",
            "mappable",
            "osm",
            "sources",
            "confidence",
            "priority_group",
            "speed_profile",
            "osm_sparse",
        ]
        return pd.DataFrame(rows, columns=columns)

    def _repr_html_(self) -> str:
        esc = html.escape
        n_req = len(self.required_items)
        head = (
            f"<p><b>{esc(self.title_en)}</b> / {esc(self.title_zh)} "
            f"(<code>{esc(self.name)}</code>): {len(self)} items, {n_req} required; "
            f"{len(self.non_spatial)} services need local data</p>"
        )
        cols = (
            "id",
            "name",
            "category",
            "tier (min)",
            "requirement",
            "mappable",
            "OSM",
            "sources",
            "conf.",
        )
        header = "".join(f"<th>{esc(c)}</th>" for c in cols)
        cat_names = {c.id: f"{c.name_en} / {c.name_zh}" for c in self.categories}
        body = []
        for it in self.items:
            cells = (
                it.id,
                f"{it.name_en} / {it.name_zh}",
                cat_names.get(it.category, it.category),
                f"{it.tier_minutes:g}",
                it.requirement,
                it.mappable + (" (sparse in OSM)" if it.osm_sparse else ""),
                it.osm_text,
                it.sources_text,
                it.confidence,
            )
            body.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in cells) + "</tr>")
        table = f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        extra = ""
        if self.non_spatial:
            lis = "".join(
                f"<li><code>{esc(s.id)}</code> {esc(s.name_en)} / {esc(s.name_zh)}</li>"
                for s in self.non_spatial
            )
            extra = f"<p>Needs local data (not mappable from OSM):</p><ul>{lis}</ul>"
        return f'<div class="fifteenmin-catalogue">{head}{table}{extra}</div>'


# --------------------------------------------------------------------------- validation


class _Ctx:
    """Where an error happened: the catalogue label, used to build messages."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, msg: str, where: str | None = None, fld: str | None = None) -> CatalogueError:
        parts = [f"catalogue {self.label}"]
        if where:
            parts.append(where)
        if fld:
            parts.append(f"field {fld!r}")
        return CatalogueError(", ".join(parts) + ": " + msg)


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(what: str, value: Any, known: Iterable[str], fix: str = "") -> str:
    known = list(known)
    msg = f"unknown {what} {value!r}{_hint(str(value), known)}; known: {', '.join(known) or 'none'}"
    return msg + (f"; {fix}" if fix else "")


def _mapping(raw: Any, ctx: _Ctx, where: str | None, fld: str | None = None) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ctx.error(
            f"expected a mapping of field: value pairs, got {type(raw).__name__} {raw!r}",
            where,
            fld,
        )
    return raw


def _check_fields(
    raw: Mapping[str, Any], allowed: Iterable[str], ctx: _Ctx, where: str | None
) -> None:
    allowed = sorted(allowed)
    for key in raw:
        if key not in allowed:
            raise ctx.error(
                _unknown("field", key, allowed, "remove it or fix its spelling"),
                where,
                str(key),
            )


def _text(
    raw: Mapping[str, Any], key: str, ctx: _Ctx, where: str | None, default: str | None = None
) -> str:
    if key not in raw or raw[key] is None:
        if default is not None:
            return default
        raise ctx.error("missing; this field is required (a non-empty text)", where, key)
    v = raw[key]
    if not isinstance(v, str) or not v.strip():
        raise ctx.error(f"expected a non-empty text, got {v!r}", where, key)
    return v.strip()


def _ident(v: Any, ctx: _Ctx, where: str | None, fld: str) -> str:
    if not isinstance(v, str) or not _ID_RE.match(v):
        raise ctx.error(
            "expected an id made of letters, digits, '_' or '-' (starting with a letter or '_'), "
            f"got {v!r}",
            where,
            fld,
        )
    return v


def _positive(v: Any, ctx: _Ctx, where: str | None, fld: str, what: str) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    if not ok:
        raise ctx.error(f"expected {what}, got {v!r}", where, fld)
    return float(v)


def _choice(v: Any, choices: Sequence[str], ctx: _Ctx, where: str | None, fld: str) -> str:
    if v not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ctx.error(f"expected one of {shown}, got {v!r}{_hint(str(v), choices)}", where, fld)
    return str(v)


def _bool(v: Any, ctx: _Ctx, where: str | None, fld: str) -> bool:
    if not isinstance(v, bool):
        raise ctx.error(f"expected true or false, got {v!r}", where, fld)
    return v


def _regex(v: Any, ctx: _Ctx, where: str | None, fld: str) -> str:
    if not isinstance(v, str) or not v:
        raise ctx.error(f"expected a regular expression, got {v!r}", where, fld)
    try:
        re.compile(v)
    except re.error as exc:
        raise ctx.error(f"invalid regular expression {v!r}: {exc}", where, fld) from None
    return v


def _id_list(v: Any, ctx: _Ctx, where: str | None, fld: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise ctx.error(f"expected a list of ids, got {v!r}", where, fld)
    return tuple(_ident(x, ctx, where, fld) for x in v)


def _check_refs(
    ids: Sequence[str], known: Iterable[str], ctx: _Ctx, where: str | None, fld: str, what: str
) -> None:
    known = list(known)
    for i in ids:
        if i not in known:
            raise ctx.error(
                _unknown(what, i, known),
                where,
                fld,
            )


def _alternatives(
    v: Any, ctx: _Ctx, where: str, fld: str, *, need_positive: bool
) -> tuple[Alternative, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v:
        raise ctx.error(
            "expected a non-empty list of filter alternatives such as ['amenity=pharmacy'], "
            f"got {v!r}",
            where,
            fld,
        )
    out = []
    for i, alt in enumerate(v):
        f = f"{fld}[{i}]"
        if not isinstance(alt, str) or not alt.strip():
            raise ctx.error(
                f"expected a filter text such as 'amenity=clinic & name~卫生', got {alt!r}",
                where,
                f,
            )
        conds = []
        for part in _AND_RE.split(alt.strip()):
            try:
                conds.append(parse_condition(part))
            except ValueError as exc:
                raise ctx.error(str(exc), where, f) from None
        if need_positive and not any(c.positive for c in conds):
            raise ctx.error(
                f"alternative {alt!r} has only negative conditions and would match almost "
                "everything; add a condition such as 'amenity=...'",
                where,
                f,
            )
        out.append(tuple(conds))
    return tuple(out)


def _parse_osm(raw: Any, ctx: _Ctx, where: str) -> dict[str, Any]:
    raw = _mapping(raw, ctx, where, "osm")
    for key in raw:
        if key not in _OSM_FIELDS:
            allowed = sorted(_OSM_FIELDS)
            raise ctx.error(
                _unknown("field", key, allowed, "remove it or fix its spelling"),
                where,
                f"osm.{key}",
            )
    if "any" not in raw:
        raise ctx.error(
            "missing; every item needs at least one filter alternative, "
            "e.g. any: ['amenity=pharmacy']",
            where,
            "osm.any",
        )
    out: dict[str, Any] = {
        "filters": _alternatives(raw["any"], ctx, where, "osm.any", need_positive=True),
        "exclude": (),
        "fallback_filters": (),
        "min_area_m2": None,
        "name_hint": None,
        "name_required": False,
    }
    if raw.get("exclude") is not None:
        out["exclude"] = _alternatives(
            raw["exclude"], ctx, where, "osm.exclude", need_positive=False
        )
    if raw.get("fallback_any") is not None:
        out["fallback_filters"] = _alternatives(
            raw["fallback_any"], ctx, where, "osm.fallback_any", need_positive=True
        )
    if raw.get("min_area_m2") is not None:
        out["min_area_m2"] = _positive(
            raw["min_area_m2"], ctx, where, "osm.min_area_m2", "a positive area in square metres"
        )
    if raw.get("name_hint") is not None:
        out["name_hint"] = _regex(raw["name_hint"], ctx, where, "osm.name_hint")
    if raw.get("name_required") is not None:
        out["name_required"] = _bool(raw["name_required"], ctx, where, "osm.name_required")
        if out["name_required"]:
            for i, alt in enumerate(out["filters"]):
                if not any(c.key == "name" and c.positive for c in alt):
                    raise ctx.error(
                        f"name_required is true but alternative {_alternative_text(alt)!r} does "
                        "not test the name; add '& name~...' or set name_required: false",
                        where,
                        f"osm.any[{i}]",
                    )
    return out


def _parse_sources_field(
    v: Any, sources: Mapping[str, Any], ctx: _Ctx, where: str
) -> tuple[tuple[str, str], ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v:
        raise ctx.error(
            "expected a non-empty list of sources, "
            "e.g. [{standard: GB50180-2018, clause: 'Table B.0.2'}]",
            where,
            "sources",
        )
    out: list[tuple[str, str]] = []
    for i, s in enumerate(v):
        f = f"sources[{i}]"
        if isinstance(s, str):
            std, clause = s, ""
        elif isinstance(s, Mapping):
            extra = set(s) - {"standard", "clause"}
            if extra:
                raise ctx.error(
                    f"unknown field {sorted(extra)[0]!r}; a source has 'standard' and 'clause'",
                    where,
                    f,
                )
            if "standard" not in s:
                raise ctx.error("missing 'standard' (a source id)", where, f)
            std, clause = s["standard"], s.get("clause", "")
            if not isinstance(clause, str):
                raise ctx.error(f"expected the clause as text, got {clause!r}", where, f)
        else:
            raise ctx.error(f"expected a source id or {{standard, clause}}, got {s!r}", where, f)
        if std not in sources:
            raise ctx.error(
                _unknown("source", std, sources, _NEW_SOURCE_FIX),
                where,
                f,
            )
        out.append((str(std), clause.strip()))
    return tuple(out)


def _parse_item(
    raw: Mapping[str, Any],
    ctx: _Ctx,
    where: str,
    categories: Mapping[str, Category],
    sources: Mapping[str, Any],
) -> Item:
    """Validate one complete item definition (library item, inline item or merged entry)."""
    for key in _ITEM_REQUIRED:
        if key not in raw or raw[key] is None:
            raise ctx.error(
                f"missing; an item defined in full needs {', '.join(_ITEM_REQUIRED)}", where, key
            )
    item_id = _ident(raw["id"], ctx, where, "id")
    category = raw["category"]
    if category not in categories:
        raise ctx.error(
            _unknown(
                "category",
                category,
                categories,
                "define new ones under the catalogue's 'categories'",
            ),
            where,
            "category",
        )
    tier = _positive(
        raw["tier_minutes"], ctx, where, "tier_minutes", "a positive number of minutes"
    )
    tier_by_source: dict[str, float] = {}
    if raw.get("tier_by_source") is not None:
        tbs = _mapping(raw["tier_by_source"], ctx, where, "tier_by_source")
        for std, minutes in tbs.items():
            if std not in sources:
                raise ctx.error(
                    _unknown("source", std, sources, _NEW_SOURCE_FIX),
                    where,
                    "tier_by_source",
                )
            tier_by_source[str(std)] = _positive(
                minutes, ctx, where, f"tier_by_source.{std}", "a positive number of minutes"
            )
    radius = None
    if raw.get("service_radius_m") is not None:
        radius = _positive(
            raw["service_radius_m"], ctx, where, "service_radius_m", "a positive distance in metres"
        )
    priority = raw.get("priority_group")
    if priority is not None:
        priority = _choice(priority, PRIORITY_GROUPS, ctx, where, "priority_group")
    osm = _parse_osm(raw["osm"], ctx, where)
    return Item(
        id=item_id,
        name_zh=_text(raw, "name_zh", ctx, where),
        name_en=_text(raw, "name_en", ctx, where),
        category=str(category),
        tier_minutes=tier,
        requirement=_choice(raw["requirement"], REQUIREMENTS, ctx, where, "requirement"),
        mappable=_choice(raw["mappable"], MAPPABLE_LEVELS, ctx, where, "mappable"),
        filters=osm["filters"],
        exclude=osm["exclude"],
        min_area_m2=osm["min_area_m2"],
        name_hint=osm["name_hint"],
        sources=_parse_sources_field(raw["sources"], sources, ctx, where),
        confidence=_choice(raw["confidence"], CONFIDENCE_LEVELS, ctx, where, "confidence"),
        speed_profile=_choice(
            raw.get("speed_profile", "default"), SPEED_PROFILE_NAMES, ctx, where, "speed_profile"
        ),
        priority_group=priority,
        osm_sparse=_bool(raw.get("osm_sparse", False), ctx, where, "osm_sparse"),
        note=_text(raw, "note", ctx, where, default=""),
        tier_by_source=tier_by_source,
        service_radius_m=radius,
        fallback_filters=osm["fallback_filters"],
        name_required=osm["name_required"],
    )


def _parse_sources_block(
    raw: Any, ctx: _Ctx, base: Mapping[str, Mapping[str, str]]
) -> dict[str, Mapping[str, str]]:
    out = dict(base)
    if raw is None:
        return out
    raw = _mapping(raw, ctx, None, "sources")
    for sid, meta in raw.items():
        where = f"source {sid!r}"
        _ident(sid, ctx, where, "sources")
        if sid in base:
            raise ctx.error("already defined by the bundled item library; choose another id", where)
        meta = _mapping(meta, ctx, where)
        _check_fields(meta, _SOURCE_FIELDS, ctx, where)
        clean = {k: str(v) for k, v in meta.items() if v is not None}
        if "confidence" in clean:
            _choice(clean["confidence"], CONFIDENCE_LEVELS, ctx, where, "confidence")
        out[str(sid)] = clean
    return out


def _parse_categories_block(
    raw: Any, ctx: _Ctx, base: Mapping[str, Category]
) -> dict[str, Category]:
    out = dict(base)
    if raw is None:
        return out
    if not isinstance(raw, list):
        raise ctx.error(
            f"expected a list of {{id, name_zh, name_en}}, got {raw!r}", None, "categories"
        )
    for i, c in enumerate(raw):
        where = f"category #{i + 1}"
        c = _mapping(c, ctx, where)
        _check_fields(c, _CATEGORY_FIELDS, ctx, where)
        cid = _ident(c.get("id"), ctx, where, "id")
        where = f"category {cid!r}"
        if cid in out:
            raise ctx.error("duplicate category id; each category is defined once", where, "id")
        out[cid] = Category(cid, _text(c, "name_zh", ctx, where), _text(c, "name_en", ctx, where))
    return out


def _parse_non_spatial(
    raw: Mapping[str, Any], ctx: _Ctx, where: str, item_ids: Iterable[str]
) -> NonSpatialService:
    _check_fields(raw, _NON_SPATIAL_FIELDS, ctx, where)
    sid = _ident(raw.get("id"), ctx, where, "id")
    item_ids = list(item_ids)
    proxy = _id_list(raw.get("proxy"), ctx, where, "proxy")
    _check_refs(proxy, item_ids, ctx, where, "proxy", "item")
    delivered = raw.get("delivered_at")
    if delivered is not None:
        delivered = _ident(delivered, ctx, where, "delivered_at")
        _check_refs([delivered], item_ids, ctx, where, "delivered_at", "item")
    conf = raw.get("confidence")
    if conf is not None:
        conf = _choice(conf, CONFIDENCE_LEVELS, ctx, where, "confidence")
    return NonSpatialService(
        id=sid,
        name_zh=_text(raw, "name_zh", ctx, where),
        name_en=_text(raw, "name_en", ctx, where),
        proxy=proxy,
        delivered_at=delivered,
        confidence=conf,
        note=_text(raw, "note", ctx, where, default=""),
    )


def _where_entry(raw: Any, index: int, kind: str = "item") -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"]:
        return f"{kind} {raw['id']!r}"
    return f"{kind} #{index + 1}"


def _weaker(a: str, b: str) -> str:
    return a if CONFIDENCE_LEVELS.index(a) >= CONFIDENCE_LEVELS.index(b) else b


@dataclass(frozen=True)
class _Library:
    raw_items: Mapping[str, Mapping[str, Any]]
    items: Mapping[str, Item]
    categories: Mapping[str, Category]
    sources: Mapping[str, Mapping[str, str]]
    non_spatial_raw: Mapping[str, Mapping[str, Any]]


def _catalogue_dir() -> Any:
    return resources.files("fifteenmin") / "catalogues"


@lru_cache(maxsize=1)
def _library() -> _Library:
    ctx = _Ctx(f"{_LIBRARY_FILE!r} (bundled item library)")
    raw = _read_text((_catalogue_dir() / _LIBRARY_FILE).read_text(encoding="utf-8"), ".yaml", ctx)
    _check_fields(raw, _LIBRARY_FIELDS, ctx, None)
    sources = _parse_sources_block(raw.get("sources"), ctx, {})
    categories = _parse_categories_block(raw.get("categories"), ctx, {})
    if not isinstance(raw.get("items"), list) or not raw["items"]:
        raise ctx.error("no items; the library needs a non-empty 'items' list")
    raw_items: dict[str, Mapping[str, Any]] = {}
    items: dict[str, Item] = {}
    for i, entry in enumerate(raw["items"]):
        where = _where_entry(entry, i)
        entry = _mapping(entry, ctx, where)
        _check_fields(entry, _ITEM_FIELDS, ctx, where)
        it = _parse_item(entry, ctx, where, categories, sources)
        if it.id in items:
            raise ctx.error("duplicate id; each item is defined once", where, "id")
        raw_items[it.id] = entry
        items[it.id] = it
    non_spatial_raw: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(raw.get("non_spatial_services") or []):
        where = _where_entry(entry, i, "non-spatial service")
        entry = _mapping(entry, ctx, where)
        ns = _parse_non_spatial(entry, ctx, where, items)
        if ns.id in non_spatial_raw:
            raise ctx.error("duplicate id", where, "id")
        non_spatial_raw[ns.id] = entry
    return _Library(raw_items, items, categories, sources, non_spatial_raw)


def _resolve_item(
    entry: Mapping[str, Any],
    ctx: _Ctx,
    where: str,
    lib: _Library,
    categories: Mapping[str, Category],
    sources: Mapping[str, Any],
    standard: str | None,
    cap: str | None,
) -> Item:
    """One profile entry → an Item: a library reference with overrides, or a full definition."""
    _check_fields(entry, _ENTRY_FIELDS, ctx, where)
    item_id = _ident(entry.get("id"), ctx, where, "id")
    base = lib.raw_items.get(item_id)
    fields = {k: v for k, v in entry.items() if k not in ("clause", "standard")}
    if base is None:
        missing = [k for k in _ITEM_REQUIRED if k not in entry]
        if missing:
            close = difflib.get_close_matches(item_id, list(lib.raw_items), n=1)
            hint = f"did you mean the bundled item {close[0]!r}? " if close else ""
            raise ctx.error(
                f"missing; {item_id!r} is not a bundled item, so it must be defined in full "
                f"({', '.join(_ITEM_REQUIRED)}); {hint}bundled ids: {', '.join(lib.raw_items)}",
                where,
                missing[0],
            )
        merged = fields
    else:
        merged = {**base, **fields}
    item = _parse_item(merged, ctx, where, categories, sources)

    changes: dict[str, Any] = {}
    if base is not None and "tier_minutes" not in entry and standard in item.tier_by_source:
        changes["tier_minutes"] = item.tier_by_source[standard]
    if base is not None and "confidence" not in entry and cap is not None:
        changes["confidence"] = _weaker(item.confidence, cap)
    src = item.sources
    if "standard" in entry and "clause" not in entry:
        raise ctx.error(
            "'standard' is only used together with 'clause'; add the clause text", where, "standard"
        )
    if "clause" in entry:
        clause = entry["clause"]
        if not isinstance(clause, str) or not clause.strip():
            raise ctx.error(
                f"expected the clause as non-empty text, got {clause!r}", where, "clause"
            )
        std = entry.get("standard", standard)
        if std is None:
            raise ctx.error(
                "no standard to attach the clause to; add 'standard: <source id>' to the entry "
                f"or to the catalogue (known sources: {', '.join(sources)})",
                where,
                "clause",
            )
        if std not in sources:
            raise ctx.error(
                _unknown("source", std, sources, _NEW_SOURCE_FIX),
                where,
                "standard",
            )
        src = ((str(std), clause.strip()), *(s for s in src if s[0] != std))
    elif standard is not None:
        src = tuple(sorted(src, key=lambda s: s[0] != standard))
    if src != item.sources:
        changes["sources"] = src
    return dataclasses.replace(item, **changes) if changes else item


def _build(raw: Any, ctx: _Ctx, default_name: str, path: str | None) -> Catalogue:
    """Validate a profile / user catalogue (already read into Python objects)."""
    lib = _library()
    raw = _mapping(raw, ctx, None)
    _check_fields(raw, _PROFILE_FIELDS, ctx, None)
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ctx.error(f"expected a non-empty text, got {name!r}", None, "name")
    sources = _parse_sources_block(raw.get("sources"), ctx, lib.sources)
    categories = _parse_categories_block(raw.get("categories"), ctx, lib.categories)
    standard = raw.get("standard")
    if standard is not None and standard not in sources:
        raise ctx.error(
            _unknown("source", standard, sources, _NEW_SOURCE_FIX),
            None,
            "standard",
        )
    cap = raw.get("confidence_cap")
    if cap is not None:
        cap = _choice(cap, CONFIDENCE_LEVELS, ctx, None, "confidence_cap")

    entries = raw.get("items")
    if not entries:
        raise ctx.error(
            "no items; add at least one entry under 'items' (a bundled id or a full item)"
        )
    if not isinstance(entries, list):
        raise ctx.error(
            f"expected a list of item entries, got {type(entries).__name__}", None, "items"
        )
    items: list[Item] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"id": entry}
        where = _where_entry(entry, i)
        entry = _mapping(entry, ctx, where)
        if isinstance(entry.get("id"), str) and entry["id"] in seen:
            raise ctx.error(
                f"duplicate id (entries #{seen[entry['id']] + 1} and #{i + 1}); each item id must "
                "be unique: remove one entry or rename it",
                where,
                "id",
            )
        it = _resolve_item(entry, ctx, where, lib, categories, sources, standard, cap)
        seen[it.id] = i
        items.append(it)

    known_items = {**lib.items, **{it.id: it for it in items}}
    non_spatial: list[NonSpatialService] = []
    ns_raw = raw.get("non_spatial") or []
    if not isinstance(ns_raw, list):
        raise ctx.error(
            f"expected a list of non-spatial service ids or entries, got {ns_raw!r}",
            None,
            "non_spatial",
        )
    for i, entry in enumerate(ns_raw):
        if isinstance(entry, str):
            entry = {"id": entry}
        where = _where_entry(entry, i, "non-spatial service")
        entry = _mapping(entry, ctx, where)
        sid = entry.get("id")
        base = lib.non_spatial_raw.get(sid) if isinstance(sid, str) else None
        if base is None and not {"name_zh", "name_en"} <= set(entry):
            raise ctx.error(
                _unknown(
                    "non-spatial service",
                    sid,
                    lib.non_spatial_raw,
                    "use a bundled id or define the service with id, name_zh and name_en",
                ),
                where,
                "id",
            )
        ns = _parse_non_spatial({**(base or {}), **entry}, ctx, where, known_items)
        if any(n.id == ns.id for n in non_spatial):
            raise ctx.error("duplicate id; list each service once", where, "id")
        non_spatial.append(ns)

    groupings = _parse_groupings(raw.get("groupings"), ctx, sources, items, non_spatial)
    used_cats = {it.category for it in items}
    cats = tuple(c for c in categories.values() if c.id in used_cats)
    cited = {s for it in items for s, _ in it.sources} | {g.source for g in groupings if g.source}
    if standard:
        cited.add(standard)
    return Catalogue(
        name=name.strip(),
        title_zh=_text(raw, "title_zh", ctx, None, default=name.strip()),
        title_en=_text(raw, "title_en", ctx, None, default=name.strip()),
        description=_text(raw, "description", ctx, None, default=""),
        items=tuple(items),
        categories=cats,
        non_spatial=tuple(non_spatial),
        sources={k: v for k, v in sources.items() if k in cited},
        groupings=groupings,
        standard=standard,
        path=path,
    )


def _parse_groupings(
    raw: Any,
    ctx: _Ctx,
    sources: Mapping[str, Any],
    items: Sequence[Item],
    non_spatial: Sequence[NonSpatialService],
) -> tuple[Grouping, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error(f"expected a list of groupings, got {raw!r}", None, "groupings")
    item_ids = [it.id for it in items]
    ns_ids = [s.id for s in non_spatial]
    out: list[Grouping] = []
    for i, g in enumerate(raw):
        where = _where_entry(g, i, "grouping")
        g = _mapping(g, ctx, where)
        _check_fields(g, _GROUPING_FIELDS, ctx, where)
        gid = _ident(g.get("id"), ctx, where, "id")
        if any(x.id == gid for x in out):
            raise ctx.error("duplicate grouping id", where, "id")
        src = g.get("source")
        if src is not None and src not in sources:
            raise ctx.error(_unknown("source", src, sources, _NEW_SOURCE_FIX), where, "source")
        conf = g.get("confidence")
        if conf is not None:
            conf = _choice(conf, CONFIDENCE_LEVELS, ctx, where, "confidence")
        groups_raw = g.get("groups")
        if not isinstance(groups_raw, list) or not groups_raw:
            raise ctx.error("expected a non-empty list of groups", where, "groups")
        groups: list[ServiceGroup] = []
        for j, sg in enumerate(groups_raw):
            gwhere = f"{where}, {_where_entry(sg, j, 'group')}"
            sg = _mapping(sg, ctx, gwhere)
            _check_fields(sg, _GROUP_FIELDS, ctx, gwhere)
            members = _id_list(sg.get("items"), ctx, gwhere, "items")
            _check_refs(members, item_ids, ctx, gwhere, "items", "item of this catalogue")
            services = _id_list(sg.get("non_spatial"), ctx, gwhere, "non_spatial")
            _check_refs(
                services,
                ns_ids,
                ctx,
                gwhere,
                "non_spatial",
                "non-spatial service of this catalogue",
            )
            sconf = sg.get("confidence")
            if sconf is not None:
                sconf = _choice(sconf, CONFIDENCE_LEVELS, ctx, gwhere, "confidence")
            groups.append(
                ServiceGroup(
                    id=_ident(sg.get("id"), ctx, gwhere, "id"),
                    name_zh=_text(sg, "name_zh", ctx, gwhere),
                    name_en=_text(sg, "name_en", ctx, gwhere),
                    items=members,
                    non_spatial=services,
                    confidence=sconf,
                    note=_text(sg, "note", ctx, gwhere, default=""),
                )
            )
        out.append(
            Grouping(
                id=gid,
                title_zh=_text(g, "title_zh", ctx, where),
                title_en=_text(g, "title_en", ctx, where),
                groups=tuple(groups),
                source=src,
                confidence=conf,
                note=_text(g, "note", ctx, where, default=""),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- loading


def _read_text(text: str, suffix: str, ctx: _Ctx) -> Any:
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ctx.error(f"not valid TOML: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ctx.error(f"not valid YAML: {exc}") from None
    if data is None:
        raise ctx.error("the file is empty; add at least an 'items' list")
    return data


def available_catalogues() -> list[str]:
    """Names of the bundled catalogues.

    Examples
    --------
    >>> available_catalogues()
    ['beijing', 'gb50180', 'mofcom', 'tdt1062']
    """
    names = [
        p.name[: -len(".yaml")]
        for p in _catalogue_dir().iterdir()
        if p.name.endswith(".yaml") and p.name != _LIBRARY_FILE
    ]
    return sorted(names)


@cache
def _bundled(name: str) -> Catalogue:
    fname = f"{name}.yaml"
    ctx = _Ctx(f"{name!r} (bundled profile {fname})")
    raw = _read_text((_catalogue_dir() / fname).read_text(encoding="utf-8"), ".yaml", ctx)
    return _build(raw, ctx, name, f"fifteenmin/catalogues/{fname}")


def load_catalogue(
    name_or_path: str | os.PathLike[str] | Catalogue | Mapping[str, Any] = settings.CATALOGUE,
) -> Catalogue:
    """Load a bundled catalogue by name, or a user catalogue file.

    Parameters
    ----------
    name_or_path
        A bundled name (see :func:`available_catalogues`), a path to a ``.yaml``, ``.yml`` or
        ``.toml`` file with the profile schema (see the module docstring), a mapping with
        the same content, or a :class:`Catalogue` (returned as is).

    Returns
    -------
    Catalogue

    Raises
    ------
    CatalogueError
        Unknown bundled name, wrong file type, or invalid content; the message names the
        file, the item and the field, what was expected and how to fix it.
    InputFileError
        The file does not exist.

    Examples
    --------
    >>> load_catalogue().name
    'beijing'
    >>> load_catalogue("mofcom")["fresh_market"].tier_minutes
    8.0
    >>> mine = load_catalogue({"items": ["pharmacy", {"id": "bank", "tier_minutes": 15}]})
    >>> mine["bank"].tier_minutes
    15.0
    """
    if isinstance(name_or_path, Catalogue):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return _build(name_or_path, _Ctx("'<mapping>'"), "custom", None)
    if isinstance(name_or_path, str) and name_or_path in available_catalogues():
        return _bundled(name_or_path)
    path = Path(name_or_path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        if (
            isinstance(name_or_path, str)
            and not path.exists()
            and os.sep not in name_or_path
            and "/" not in name_or_path
        ):
            raise CatalogueError(
                _unknown(
                    "catalogue",
                    name_or_path,
                    available_catalogues(),
                    "use a bundled name or the path of a .yaml, .yml or .toml catalogue file",
                )
            )
        got = suffix or "no suffix"
        raise CatalogueError(
            f"catalogue file '{path}': expected a .yaml, .yml or .toml file, got {got!r}"
        )
    if not path.is_file():
        raise InputFileError(
            f"catalogue file '{path}' does not exist (looked for {path.resolve()})"
        )
    ctx = _Ctx(repr(str(name_or_path)))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"catalogue file '{path}' cannot be read: {exc}") from None
    raw = _read_text(text, ".toml" if suffix == ".toml" else ".yaml", ctx)
    return _build(raw, ctx, path.stem, str(path))


# --------------------------------------------------------------------------- text listing

_LABELS = {
    "en": {
        "items": "{n} mappable items ({r} required); services needing local data: {k}",
        "conf": "Confidence: V verified in a source; M from the standard, not checked against the "
        "official text; U unverified reading",
        "min": "min",
        "required": "required",
        "optional": "optional",
        "mappable": "OSM mapping",
        "good": "good",
        "partial": "partial",
        "name_only": "name only",
        "confidence": "confidence",
        "sparse": "OSM data expected sparse",
        "priority": "priority",
        "elderly": "elderly",
        "children": "children",
        "speed": "speed profile",
        "osm": "OSM",
        "sources": "sources",
        "note": "note",
        "local": "Needs local data (not mappable from OSM)",
        "proxy": "proxy (site only)",
        "delivered": "delivered at",
        "groupings": "Groupings",
        "none": "(none)",
    },
    "zh": {
        "items": "可由地图评估的项目 {n} 项，其中必需 {r} 项；另有 {k} 项服务需要本地数据",
        "conf": "可信度：V 已在来源中核实；M 依据标准内容但未与官方文本核对；U 未经核实的解读",
        "min": "分钟",
        "required": "必需",
        "optional": "可选",
        "mappable": "OSM 可识别度",
        "good": "好",
        "partial": "部分",
        "name_only": "仅凭名称",
        "confidence": "可信度",
        "sparse": "OSM 数据预计稀缺",
        "priority": "优先人群",
        "elderly": "老年人",
        "children": "儿童",
        "speed": "步速档",
        "osm": "OSM",
        "sources": "来源",
        "note": "备注",
        "local": "需要本地数据（无法从 OSM 地图评估）",
        "proxy": "代理设施（仅场所）",
        "delivered": "提供地点",
        "groupings": "分组",
        "none": "（无）",
    },
}


def format_catalogue(cat: Catalogue | str, lang: str = "en") -> str:
    """Format a catalogue as plain text for the terminal.

    Items are grouped by category, each with its tier, requirement, OSM filter, sources
    and confidence; then the services a map cannot show ("needs local data") and the
    catalogue's groupings. Headings and names are Chinese when ``lang="zh"``.

    Parameters
    ----------
    cat
        A catalogue or anything :func:`load_catalogue` accepts.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str

    Examples
    --------
    >>> text = format_catalogue("beijing", lang="zh")
    >>> "幼儿园" in text and "需要本地数据" in text
    True
    """
    _check_lang(lang)
    cat = load_catalogue(cat)
    t = _LABELS[lang]
    other = "en" if lang == "zh" else "zh"
    lines = [
        f"{cat.title(lang)} ({cat.name})",
        t["items"].format(n=len(cat), r=len(cat.required_items), k=len(cat.non_spatial)),
        t["conf"],
    ]
    if cat.description:
        lines.append("")
        lines.append(cat.description)
    by_cat: dict[str, list[Item]] = {}
    for it in cat.items:
        by_cat.setdefault(it.category, []).append(it)
    for c in cat.categories:
        lines.append("")
        lines.append(f"== {c.name(lang)} / {c.name(other)} ==")
        for it in by_cat.get(c.id, []):
            facts = [
                f"{it.tier_minutes:g} {t['min']}",
                t[it.requirement],
                f"{t['mappable']}: {t[it.mappable]}",
                f"{t['confidence']} {it.confidence}",
            ]
            if it.priority_group:
                facts.append(f"{t['priority']}: {t[it.priority_group]}")
            if it.speed_profile != "default":
                facts.append(f"{t['speed']}: {it.speed_profile}")
            if it.osm_sparse:
                facts.append(t["sparse"])
            lines.append(f"  {it.id}: {it.name(lang)} / {it.name(other)}")
            lines.append(f"      {' | '.join(facts)}")
            lines.append(f"      {t['osm']}: {it.osm_text}")
            lines.append(f"      {t['sources']}: {it.sources_text}")
    lines.append("")
    lines.append(f"== {t['local']} ==")
    if not cat.non_spatial:
        lines.append(f"  {t['none']}")
    for s in cat.non_spatial:
        conf = f" [{s.confidence}]" if s.confidence else ""
        lines.append(f"  {s.id}: {s.name(lang)} / {s.name(other)}{conf}")
        if s.proxy:
            lines.append(f"      {t['proxy']}: {', '.join(s.proxy)}")
        if s.delivered_at:
            lines.append(f"      {t['delivered']}: {s.delivered_at}")
    if cat.groupings:
        lines.append("")
        lines.append(f"== {t['groupings']} ==")
        for g in cat.groupings:
            conf = f" [{g.confidence}]" if g.confidence else ""
            src = f" ({g.source})" if g.source else ""
            lines.append(f"  {g.id}: {g.title(lang)}{conf}{src}")
            if g.note:
                lines.append(f"      {t['note']}: {g.note}")
            for sg in g.groups:
                members = [*sg.items, *(f"{s}*" for s in sg.non_spatial)]
                sconf = f" [{sg.confidence}]" if sg.confidence else ""
                lines.append(f"    - {sg.name(lang)}{sconf}: {', '.join(members) or t['none']}")
        lines.append(f"    (* = {t['local']})")
    return "\n".join(lines) + "\n"
