"""The catalogue data model: items, categories, non-spatial services, groupings, catalogues.

Everything here is a frozen dataclass built by :mod:`fifteenmin.catalogue.loading` (through
the checks of :mod:`fifteenmin.catalogue.schema`); nothing here reads a file.

Examples
--------
>>> from fifteenmin.catalogue import load_catalogue
>>> cat = load_catalogue("beijing")
>>> cat["pharmacy"].name("zh"), cat.match({"amenity": "pharmacy"})
('药店', ['pharmacy'])
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .. import settings
from .._errors import UnknownItemError
from .._i18n import check_lang
from .filters import (
    LIST_VALUED_KEYS,
    NAME_KEYS,
    Alternative,
    alternative_text,
    anchor,
    filters_text,
    matches_any,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONFIDENCE_LEVELS",
    "MAPPABLE_LEVELS",
    "PRIORITY_GROUPS",
    "REQUIREMENTS",
    "SPEED_PROFILE_NAMES",
    "Bilingual",
    "Catalogue",
    "Category",
    "Grouping",
    "Item",
    "NonSpatialService",
    "ServiceGroup",
]

#: Allowed ``requirement`` values.
REQUIREMENTS: tuple[str, ...] = ("required", "optional")
#: Allowed ``mappable`` values.
MAPPABLE_LEVELS: tuple[str, ...] = ("good", "partial", "name_only")
#: Allowed ``confidence`` marks, strongest first.
CONFIDENCE_LEVELS: tuple[str, ...] = ("V", "M", "U")
#: Allowed ``speed_profile`` values (the walking-speed profile the scorer applies).
SPEED_PROFILE_NAMES: tuple[str, ...] = tuple(settings.SPEED_PROFILES)
#: Allowed ``priority_group`` values.
PRIORITY_GROUPS: tuple[str, ...] = ("elderly", "children")


class Bilingual:
    """Mixin for things named in Chinese and English (``name_zh``, ``name_en``)."""

    name_zh: str
    name_en: str

    def name(self, lang: str = "en") -> str:
        """Return the name in ``"en"`` or ``"zh"``.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing").category("transport").name("en")
        'Transport'
        >>> load_catalogue("beijing")["pharmacy"].name("zh")
        '药店'
        """
        return self.name_zh if check_lang(lang) == "zh" else self.name_en


@dataclass(frozen=True)
class Category(Bilingual):
    """A category of items (education, health …).

    Examples
    --------
    >>> from fifteenmin.catalogue import load_catalogue
    >>> load_catalogue("beijing").categories[0].name("zh")
    '教育'
    """

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class NonSpatialService(Bilingual):
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
    >>> from fifteenmin.catalogue import load_catalogue
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
class ServiceGroup(Bilingual):
    """One group of a :class:`Grouping`: item ids and non-spatial service ids.

    Examples
    --------
    >>> from fifteenmin.catalogue import load_catalogue
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
    >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing").grouping("bj_basic8").title("zh")
        '北京8项基本便民服务功能'
        """
        return self.title_zh if check_lang(lang) == "zh" else self.title_en


@dataclass(frozen=True)
class Item(Bilingual):
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
    >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
        >>> park = load_catalogue("beijing")["park_5"]
        >>> park.matches({"leisure": "park"}, 5000.0), park.matches({"leisure": "park"})
        (True, False)
        """
        if self.min_area_m2 is not None and (area_m2 is None or area_m2 < self.min_area_m2):
            return False
        return matches_any(self.filters, tags) and not matches_any(self.exclude, tags)

    def matches_name(self, name: str) -> bool:
        """Whether a name fits :attr:`name_hint` (for user tables; not used for OSM).

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing")["pharmacy"].matches_name("老百姓大药房")
        True
        """
        return self.name_hint is not None and re.search(self.name_hint, name) is not None

    @property
    def osm_text(self) -> str:
        """The OSM filter as one line of text (alternatives, exclusions, minimum area).

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing")["public_toilet"].osm_text
        'amenity=toilets NOT (access=private|customers|no)'
        """
        text = filters_text(self.filters)
        if self.exclude:
            text += " NOT " + " NOT ".join(f"({alternative_text(a)})" for a in self.exclude)
        if self.min_area_m2 is not None:
            text += f" [area >= {self.min_area_m2:g} m²]"
        return text

    @property
    def sources_text(self) -> str:
        """The sources as one line: ``standard clause; standard clause``.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("gb50180")["playground"].sources_text
        'GB50180-2018 Table B.0.3: 儿童、老年人活动场地 ▲ (居住街坊); ≥170 m²'
        """
        return "; ".join(f"{s} {c}".strip() for s, c in self.sources)


@dataclass(frozen=True)
class Catalogue:
    """A service catalogue: items in order, categories, non-spatial services, sources.

    Examples
    --------
    >>> from fifteenmin.catalogue import load_catalogue
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
    _rank: Mapping[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
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
                first = anchor(alt)
                if first is not None:
                    keys.update(NAME_KEYS if first[0] == "name" else (first[0],))
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
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing").title("zh")
        '北京市一刻钟社区服务圈'
        """
        return self.title_zh if check_lang(lang) == "zh" else self.title_en

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in catalogue order.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("mofcom").item_ids[:2]
        ('convenience_store', 'fresh_market')
        """
        return tuple(it.id for it in self.items)

    def rank(self, item_ids: Iterable[str]) -> np.ndarray:
        """Catalogue position of each item id (``len(self)`` for ids not in the catalogue).

        The one definition of "catalogue order": sort by it, then by whatever breaks ties.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
        >>> all(it.required for it in load_catalogue("gb50180").required_items)
        True
        """
        return tuple(it for it in self.items if it.required)

    def category(self, category_id: str) -> Category:
        """Return the category with this id.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
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
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing").osmnx_tags()["highway"]
        ['bus_stop']
        """
        out: dict[str, bool | list[str]] = {}
        for it in self.items:
            for alt in it.filters:
                first = anchor(alt)
                if first is None:  # pragma: no cover - rejected by validation
                    continue
                key, values = first
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
        >>> from fifteenmin.catalogue import load_catalogue
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

    def match_many(
        self, tags: Iterable[Mapping[str, str]], areas: Iterable[float | None]
    ) -> tuple[list[int], list[str]]:
        """:meth:`match` for many features at once: the same answers, found faster.

        A feature's items depend only on the values of the keys their filters read, so
        features that agree on those (most features of a city: the same ``amenity=*`` and no
        name the filters look at) are matched once. The area is checked per feature.

        Parameters
        ----------
        tags
            Each feature's tags.
        areas
            Each feature's area for area features, ``None`` for points and lines.

        Returns
        -------
        rows, item_ids
            One entry per (feature, matched item): the feature's position and the item's
            id, features in order and each feature's items in catalogue order.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> load_catalogue("beijing").match_many(
        ...     [{"leisure": "park"}, {"amenity": "pharmacy"}, {"leisure": "park"}],
        ...     [20000.0, None, None],
        ... )
        ([0, 0, 1], ['park_10', 'park_5', 'pharmacy'])
        """
        items = self.items
        by_key = self._by_key
        # anchor keys -> candidate items, and the keys other than names they read
        plans: dict[frozenset[str], tuple[tuple[int, ...], tuple[str, ...]]] = {}
        # (candidates, values of those keys) -> the items matched whatever the name, and the
        # items a name condition decides (tested feature by feature)
        found: dict[tuple[object, ...], tuple[list[int], list[int]]] = {}
        min_area = [it.min_area_m2 for it in items]
        rows: list[int] = []
        ids: list[str] = []
        for row, (tg, area) in enumerate(zip(tags, areas, strict=True)):
            anchors = frozenset(k for k in tg if k in by_key)
            plan = plans.get(anchors)
            if plan is None:
                plan = plans[anchors] = self._match_plan(anchors)
            cand, read = plan
            if not cand:
                continue
            key: tuple[object, ...] = (cand, *(tg.get(k) for k in read))
            try:
                got = found.get(key)
            except TypeError:  # a tag value that is not hashable (not from an OSM file)
                key, got = (row,), None
            if got is None:
                got = found[key] = ([], [])
                for k in cand:
                    hit, by_name = self._meets(k, tg)
                    if by_name:
                        got[1].append(k)
                    elif hit:
                        got[0].append(k)
            hits = got[0]
            if got[1]:
                hits = sorted(hits + [k for k in got[1] if self._meets(k, tg)[0]])
            for k in hits:
                m = min_area[k]
                if m is None or not (area is None or area < m):  # as Item.matches
                    rows.append(row)
                    ids.append(items[k].id)
        return rows, ids

    def _match_plan(self, anchors: frozenset[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The candidate items of features with these anchor keys, and the keys they read.

        The keys: those other than names that the candidates' filters and excludes read.
        """
        cand: set[int] = set()
        for key in anchors:
            cand.update(self._by_key[key])
        read = {
            c.key
            for k in cand
            for alt in (*self.items[k].filters, *self.items[k].exclude)
            for c in alt
            if c.key != "name"
        }
        return tuple(sorted(cand)), tuple(sorted(read))

    def _meets(self, k: int, tags: Mapping[str, str]) -> tuple[bool, bool]:
        """Whether item ``k`` matches ``tags`` (area aside), and whether a name was tested.

        The filters short-circuit as :func:`matches_any` does, so a feature with the same
        values of the other keys tests the same conditions.
        """
        by_name = False

        def meets(alts: tuple[Alternative, ...]) -> bool:
            nonlocal by_name
            for alt in alts:
                for c in alt:
                    by_name = by_name or c.key == "name"
                    if not c.test(tags):
                        break
                else:
                    return True
            return False

        item = self.items[k]
        return meets(item.filters) and not meets(item.exclude), by_name

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """Return the items as a :class:`pandas.DataFrame`, one row per item.

        Columns: ``id``, ``name``, ``category``, ``category_name``, ``tier_minutes``,
        ``requirement``, ``mappable``, ``osm``, ``sources``, ``confidence``,
        ``priority_group``, ``speed_profile``, ``osm_sparse``.

        Examples
        --------
        >>> from fifteenmin.catalogue import load_catalogue
        >>> df = load_catalogue("gb50180").to_frame("zh")
        >>> df.loc[df["id"] == "kindergarten", "name"].item()
        '幼儿园'
        """
        import pandas as pd

        check_lang(lang)
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
