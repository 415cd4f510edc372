"""Schema checks of raw catalogue mappings (what YAML or TOML gives) into the data model.

Each function checks one part of a catalogue (an item, its ``osm`` filter, its sources, the
``sources`` and ``categories`` blocks, a non-spatial service, the groupings) and returns the
model objects of :mod:`fifteenmin.catalogue.model`. Every failure is a
:class:`~fifteenmin.CatalogueError` built by :meth:`Ctx.error`, whose message names the
catalogue, the entry and the field, what was expected and how to fix it. The schema itself
is described in the docstring of :mod:`fifteenmin.catalogue`.

Examples
--------
>>> ctx = Ctx("'<example>'")
>>> ident("pharmacy", ctx, "item #1", "id")
'pharmacy'
>>> try:
...     choice("mandatory", REQUIREMENTS, ctx, "item 'pharmacy'", "requirement")
... except Exception as exc:
...     print(exc)
catalogue '<example>', item 'pharmacy', field 'requirement': expected one of 'required', \
'optional', got 'mandatory'
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._errors import CatalogueError
from ..validate import MAX_TIER_MINUTES, MIN_TIER_MINUTES
from .filters import Alternative, Condition, alternative_text, parse_alternative
from .model import (
    CONFIDENCE_LEVELS,
    MAPPABLE_LEVELS,
    PRIORITY_GROUPS,
    REQUIREMENTS,
    SPEED_PROFILE_NAMES,
    Category,
    Grouping,
    Item,
    NonSpatialService,
    ServiceGroup,
)

__all__ = [
    "ENTRY_FIELDS",
    "ITEM_FIELDS",
    "ITEM_REQUIRED",
    "LIBRARY_FIELDS",
    "NEW_SOURCE_FIX",
    "PROFILE_FIELDS",
    "Ctx",
    "as_mapping",
    "check_fields",
    "choice",
    "ident",
    "parse_categories_block",
    "parse_groupings",
    "parse_item",
    "parse_non_spatial",
    "parse_sources_block",
    "text_field",
    "unknown",
    "weaker",
    "where_entry",
]

#: The fix named when an unknown source id is used.
NEW_SOURCE_FIX = "define new sources under the catalogue's 'sources'"
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
#: An OSM tag key: letters (any script), digits, '_', ':', '-', '.'.
_KEY_RE = re.compile(r"^[\w:.\-]+$")

ITEM_REQUIRED = (
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
ITEM_FIELDS = frozenset(ITEM_REQUIRED + _ITEM_OPTIONAL)
ENTRY_FIELDS = ITEM_FIELDS | {"clause", "standard"}
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
PROFILE_FIELDS = frozenset(
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
LIBRARY_FIELDS = frozenset(
    {
        "schema_version",
        "life_circle_levels",
        "sources",
        "categories",
        "items",
        "non_spatial_services",
    }
)


# --------------------------------------------------------------------------- primitives


class Ctx:
    """Where an error happened: the catalogue label, used to build messages.

    Parameters
    ----------
    label
        How messages name the catalogue, e.g. ``"'my.yaml'"``.

    Examples
    --------
    >>> str(Ctx("'my.yaml'").error("expected a list", "item 'bank'", "sources"))
    "catalogue 'my.yaml', item 'bank', field 'sources': expected a list"
    """

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, msg: str, where: str | None = None, fld: str | None = None) -> CatalogueError:
        """The error ``msg`` about entry ``where`` and field ``fld`` of this catalogue."""
        parts = [f"catalogue {self.label}"]
        if where:
            parts.append(where)
        if fld:
            parts.append(f"field {fld!r}")
        return CatalogueError(", ".join(parts) + ": " + msg)


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(what: str, value: Any, known: Iterable[str], fix: str = "") -> str:
    """Message for an unknown value: the closest known one, every known one and the fix.

    Examples
    --------
    >>> unknown("category", "helth", ["health", "education"])
    "unknown category 'helth' (did you mean 'health'?); known: health, education"
    """
    known = list(known)
    msg = f"unknown {what} {value!r}{_hint(str(value), known)}; known: {', '.join(known) or 'none'}"
    return msg + (f"; {fix}" if fix else "")


def as_mapping(raw: Any, ctx: Ctx, where: str | None, fld: str | None = None) -> Mapping[str, Any]:
    """Return ``raw`` if it is a mapping, else raise the error of ``ctx``.

    Examples
    --------
    >>> as_mapping({"id": "bank"}, Ctx("'x'"), None)
    {'id': 'bank'}
    """
    if not isinstance(raw, Mapping):
        raise ctx.error(
            f"expected a mapping of field: value pairs, got {type(raw).__name__} {raw!r}",
            where,
            fld,
        )
    return raw


def check_fields(
    raw: Mapping[str, Any], allowed: Iterable[str], ctx: Ctx, where: str | None
) -> None:
    """Raise the error of ``ctx`` for the first field of ``raw`` not in ``allowed``.

    Examples
    --------
    >>> check_fields({"id": "bank"}, ["id", "note"], Ctx("'x'"), None)
    """
    allowed = sorted(allowed)
    for key in raw:
        if key not in allowed:
            raise ctx.error(
                unknown("field", key, allowed, "remove it or fix its spelling"),
                where,
                str(key),
            )


def text_field(
    raw: Mapping[str, Any], key: str, ctx: Ctx, where: str | None, default: str | None = None
) -> str:
    """The stripped non-empty text ``raw[key]``, or ``default`` when it is absent.

    Without a ``default`` the field is required.

    Examples
    --------
    >>> text_field({"name_en": " Bank "}, "name_en", Ctx("'x'"), None)
    'Bank'
    >>> text_field({}, "note", Ctx("'x'"), None, default="")
    ''
    """
    if key not in raw or raw[key] is None:
        if default is not None:
            return default
        raise ctx.error("missing; this field is required (a non-empty text)", where, key)
    v = raw[key]
    if not isinstance(v, str) or not v.strip():
        raise ctx.error(f"expected a non-empty text, got {v!r}", where, key)
    return v.strip()


def ident(v: Any, ctx: Ctx, where: str | None, fld: str) -> str:
    """Return ``v`` if it is an id (letters, digits, ``_`` and ``-``, not starting with a digit).

    Examples
    --------
    >>> ident("park_5", Ctx("'x'"), None, "id")
    'park_5'
    """
    if not isinstance(v, str) or not _ID_RE.match(v):
        raise ctx.error(
            "expected an id made of letters, digits, '_' or '-' (starting with a letter or '_'), "
            f"got {v!r}",
            where,
            fld,
        )
    return v


def _positive(v: Any, ctx: Ctx, where: str | None, fld: str, what: str) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    if not ok:
        raise ctx.error(f"expected {what}, got {v!r}", where, fld)
    return float(v)


def _tier(v: Any, ctx: Ctx, where: str | None, fld: str) -> float:
    """A tier in minutes: positive, and a plausible walk (the validate module's range)."""
    minutes = _positive(v, ctx, where, fld, "a positive number of minutes")
    if not MIN_TIER_MINUTES <= minutes <= MAX_TIER_MINUTES:
        raise ctx.error(
            f"{minutes:g} minutes is not a plausible walking tier: expected "
            f"{MIN_TIER_MINUTES:g} to {MAX_TIER_MINUTES:g} minutes (the life-circle standards "
            "use 5, 10 and 15)",
            where,
            fld,
        )
    return minutes


def choice(v: Any, choices: Sequence[str], ctx: Ctx, where: str | None, fld: str) -> str:
    """Return ``v`` if it is one of ``choices`` (the error suggests the closest one).

    Examples
    --------
    >>> choice("M", CONFIDENCE_LEVELS, Ctx("'x'"), None, "confidence")
    'M'
    """
    if v not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ctx.error(f"expected one of {shown}, got {v!r}{_hint(str(v), choices)}", where, fld)
    return str(v)


def _bool(v: Any, ctx: Ctx, where: str | None, fld: str) -> bool:
    if not isinstance(v, bool):
        raise ctx.error(f"expected true or false, got {v!r}", where, fld)
    return v


def _regex(v: Any, ctx: Ctx, where: str | None, fld: str) -> str:
    if not isinstance(v, str) or not v:
        raise ctx.error(f"expected a regular expression, got {v!r}", where, fld)
    try:
        re.compile(v)
    except re.error as exc:
        raise ctx.error(f"invalid regular expression {v!r}: {exc}", where, fld) from None
    return v


def _id_list(v: Any, ctx: Ctx, where: str | None, fld: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise ctx.error(f"expected a list of ids, got {v!r}", where, fld)
    return tuple(ident(x, ctx, where, fld) for x in v)


def _check_refs(
    ids: Sequence[str], known: Iterable[str], ctx: Ctx, where: str | None, fld: str, what: str
) -> None:
    known = list(known)
    for i in ids:
        if i not in known:
            raise ctx.error(
                unknown(what, i, known),
                where,
                fld,
            )


def _alternatives(
    v: Any, ctx: Ctx, where: str, fld: str, *, need_positive: bool
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
        try:
            conds = parse_alternative(alt)
        except ValueError as exc:
            raise ctx.error(str(exc), where, f) from None
        for c in conds:
            _check_condition(c, ctx, where, f)
        if need_positive and not any(c.positive for c in conds):
            raise ctx.error(
                f"alternative {alt!r} has only negative conditions and would match almost "
                "everything; add a condition such as 'amenity=...'",
                where,
                f,
            )
        out.append(conds)
    return tuple(out)


def _check_condition(cond: Condition, ctx: Ctx, where: str, fld: str) -> None:
    """Reject conditions that parse but cannot be meant.

    A key that is not an OSM key, or quoted, bracketed, wildcard or comma-separated values
    (which would never match).
    """
    if not _KEY_RE.match(cond.key):
        raise ctx.error(
            f"condition {cond.text!r}: {cond.key!r} is not an OSM tag key (letters, digits, "
            "'_', ':', '-' and '.'); remove brackets, quotes or parentheses",
            where,
            fld,
        )
    for v in cond.values:
        if v[:1] in "\"'" and v[-1:] in "\"'":
            fix = f"write {cond.key}{cond.op}{v[1:-1]} without quotes"
        elif "*" in v:
            fix = f"'*' only stands alone ({cond.key}=*); use {cond.key}~regex for patterns"
        elif any(ch in v for ch in ",;"):
            fix = "separate several values with '|' (k=v1|v2)"
        elif any(ch in v for ch in "()[]{}<>\"'"):
            fix = "remove the brackets or quotes"
        else:
            continue
        raise ctx.error(f"condition {cond.text!r} would never match: {fix}", where, fld)


def _parse_osm(raw: Any, ctx: Ctx, where: str) -> dict[str, Any]:
    raw = as_mapping(raw, ctx, where, "osm")
    for key in raw:
        if key not in _OSM_FIELDS:
            allowed = sorted(_OSM_FIELDS)
            raise ctx.error(
                unknown("field", key, allowed, "remove it or fix its spelling"),
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
                        f"name_required is true but alternative {alternative_text(alt)!r} does "
                        "not test the name; add '& name~...' or set name_required: false",
                        where,
                        f"osm.any[{i}]",
                    )
    return out


def _parse_sources_field(
    v: Any, sources: Mapping[str, Any], ctx: Ctx, where: str
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
                unknown("source", std, sources, NEW_SOURCE_FIX),
                where,
                f,
            )
        out.append((str(std), clause.strip()))
    return tuple(out)


def _parse_tier_by_source(
    raw: Any, sources: Mapping[str, Any], ctx: Ctx, where: str
) -> dict[str, float]:
    tier_by_source: dict[str, float] = {}
    if raw is not None:
        tbs = as_mapping(raw, ctx, where, "tier_by_source")
        for std, minutes in tbs.items():
            if std not in sources:
                raise ctx.error(
                    unknown("source", std, sources, NEW_SOURCE_FIX),
                    where,
                    "tier_by_source",
                )
            tier_by_source[str(std)] = _tier(minutes, ctx, where, f"tier_by_source.{std}")
    return tier_by_source


def parse_item(
    raw: Mapping[str, Any],
    ctx: Ctx,
    where: str,
    categories: Mapping[str, Category],
    sources: Mapping[str, Any],
) -> Item:
    """Validate one complete item definition (library item, inline item or merged entry).

    Parameters
    ----------
    raw
        Every field of the item (see ``Item fields`` in :mod:`fifteenmin.catalogue`).
    ctx, where
        The catalogue and the entry, for messages.
    categories, sources
        The known categories and sources, by id.

    Returns
    -------
    Item

    Examples
    --------
    >>> raw = {
    ...     "id": "tea_house", "name_zh": "茶馆", "name_en": "Tea house", "category": "local",
    ...     "tier_minutes": 10, "requirement": "optional", "mappable": "good",
    ...     "osm": {"any": ["shop=tea"]}, "sources": ["MY"], "confidence": "U",
    ... }
    >>> cats = {"local": Category("local", "本地", "Local")}
    >>> parse_item(raw, Ctx("'x'"), "item #1", cats, {"MY": {}}).matches({"shop": "tea"})
    True
    """
    for key in ITEM_REQUIRED:
        if key not in raw or raw[key] is None:
            raise ctx.error(
                f"missing; an item defined in full needs {', '.join(ITEM_REQUIRED)}", where, key
            )
    item_id = ident(raw["id"], ctx, where, "id")
    category = raw["category"]
    if category not in categories:
        raise ctx.error(
            unknown(
                "category",
                category,
                categories,
                "define new ones under the catalogue's 'categories'",
            ),
            where,
            "category",
        )
    tier = _tier(raw["tier_minutes"], ctx, where, "tier_minutes")
    tier_by_source = _parse_tier_by_source(raw.get("tier_by_source"), sources, ctx, where)
    radius = None
    if raw.get("service_radius_m") is not None:
        radius = _positive(
            raw["service_radius_m"], ctx, where, "service_radius_m", "a positive distance in metres"
        )
    priority = raw.get("priority_group")
    if priority is not None:
        priority = choice(priority, PRIORITY_GROUPS, ctx, where, "priority_group")
    osm = _parse_osm(raw["osm"], ctx, where)
    return Item(
        id=item_id,
        name_zh=text_field(raw, "name_zh", ctx, where),
        name_en=text_field(raw, "name_en", ctx, where),
        category=str(category),
        tier_minutes=tier,
        requirement=choice(raw["requirement"], REQUIREMENTS, ctx, where, "requirement"),
        mappable=choice(raw["mappable"], MAPPABLE_LEVELS, ctx, where, "mappable"),
        filters=osm["filters"],
        exclude=osm["exclude"],
        min_area_m2=osm["min_area_m2"],
        name_hint=osm["name_hint"],
        sources=_parse_sources_field(raw["sources"], sources, ctx, where),
        confidence=choice(raw["confidence"], CONFIDENCE_LEVELS, ctx, where, "confidence"),
        speed_profile=choice(
            raw.get("speed_profile", "default"), SPEED_PROFILE_NAMES, ctx, where, "speed_profile"
        ),
        priority_group=priority,
        osm_sparse=_bool(raw.get("osm_sparse", False), ctx, where, "osm_sparse"),
        note=text_field(raw, "note", ctx, where, default=""),
        tier_by_source=tier_by_source,
        service_radius_m=radius,
        fallback_filters=osm["fallback_filters"],
        name_required=osm["name_required"],
    )


def parse_sources_block(
    raw: Any, ctx: Ctx, base: Mapping[str, Mapping[str, str]]
) -> dict[str, Mapping[str, str]]:
    """The ``sources`` block added to the ``base`` sources (new ids only), by id.

    Examples
    --------
    >>> list(parse_sources_block({"MY": {"title_en": "Plan"}}, Ctx("'x'"), {}))
    ['MY']
    """
    out = dict(base)
    if raw is None:
        return out
    raw = as_mapping(raw, ctx, None, "sources")
    for sid, meta in raw.items():
        where = f"source {sid!r}"
        ident(sid, ctx, where, "sources")
        if sid in base:
            raise ctx.error("already defined by the bundled item library; choose another id", where)
        meta = as_mapping(meta, ctx, where)
        check_fields(meta, _SOURCE_FIELDS, ctx, where)
        clean = {k: str(v) for k, v in meta.items() if v is not None}
        if "confidence" in clean:
            choice(clean["confidence"], CONFIDENCE_LEVELS, ctx, where, "confidence")
        out[str(sid)] = clean
    return out


def parse_categories_block(raw: Any, ctx: Ctx, base: Mapping[str, Category]) -> dict[str, Category]:
    """The ``categories`` block added to the ``base`` categories (new ids only), by id.

    Examples
    --------
    >>> raw = [{"id": "local", "name_zh": "本地", "name_en": "Local"}]
    >>> parse_categories_block(raw, Ctx("'x'"), {})["local"].name("zh")
    '本地'
    """
    out = dict(base)
    if raw is None:
        return out
    if not isinstance(raw, list):
        raise ctx.error(
            f"expected a list of {{id, name_zh, name_en}}, got {raw!r}", None, "categories"
        )
    for i, c in enumerate(raw):
        where = f"category #{i + 1}"
        c = as_mapping(c, ctx, where)
        check_fields(c, _CATEGORY_FIELDS, ctx, where)
        cid = ident(c.get("id"), ctx, where, "id")
        where = f"category {cid!r}"
        if cid in out:
            raise ctx.error("duplicate category id; each category is defined once", where, "id")
        name_zh = text_field(c, "name_zh", ctx, where)
        out[cid] = Category(cid, name_zh, text_field(c, "name_en", ctx, where))
    return out


def parse_non_spatial(
    raw: Mapping[str, Any], ctx: Ctx, where: str, item_ids: Iterable[str]
) -> NonSpatialService:
    """One complete non-spatial service; its ``proxy`` and ``delivered_at`` are in ``item_ids``.

    Examples
    --------
    >>> raw = {"id": "housekeeping", "name_zh": "家政", "name_en": "Housekeeping"}
    >>> parse_non_spatial(raw, Ctx("'x'"), "non-spatial service #1", []).name("en")
    'Housekeeping'
    """
    check_fields(raw, _NON_SPATIAL_FIELDS, ctx, where)
    sid = ident(raw.get("id"), ctx, where, "id")
    item_ids = list(item_ids)
    proxy = _id_list(raw.get("proxy"), ctx, where, "proxy")
    _check_refs(proxy, item_ids, ctx, where, "proxy", "item")
    delivered = raw.get("delivered_at")
    if delivered is not None:
        delivered = ident(delivered, ctx, where, "delivered_at")
        _check_refs([delivered], item_ids, ctx, where, "delivered_at", "item")
    conf = raw.get("confidence")
    if conf is not None:
        conf = choice(conf, CONFIDENCE_LEVELS, ctx, where, "confidence")
    return NonSpatialService(
        id=sid,
        name_zh=text_field(raw, "name_zh", ctx, where),
        name_en=text_field(raw, "name_en", ctx, where),
        proxy=proxy,
        delivered_at=delivered,
        confidence=conf,
        note=text_field(raw, "note", ctx, where, default=""),
    )


def where_entry(raw: Any, index: int, kind: str = "item") -> str:
    """How messages name entry ``index`` of a list: by its id when it has one.

    Examples
    --------
    >>> where_entry({"id": "bank"}, 0), where_entry({}, 1, "grouping")
    ("item 'bank'", 'grouping #2')
    """
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"]:
        return f"{kind} {raw['id']!r}"
    return f"{kind} #{index + 1}"


def weaker(a: str, b: str) -> str:
    """The weaker of two confidence marks (:data:`CONFIDENCE_LEVELS`).

    Examples
    --------
    >>> weaker("V", "M"), weaker("U", "M")
    ('M', 'U')
    """
    return a if CONFIDENCE_LEVELS.index(a) >= CONFIDENCE_LEVELS.index(b) else b


def _parse_group(
    raw: Any, ctx: Ctx, where: str, item_ids: Sequence[str], ns_ids: Sequence[str]
) -> ServiceGroup:
    sg = as_mapping(raw, ctx, where)
    check_fields(sg, _GROUP_FIELDS, ctx, where)
    members = _id_list(sg.get("items"), ctx, where, "items")
    _check_refs(members, item_ids, ctx, where, "items", "item of this catalogue")
    services = _id_list(sg.get("non_spatial"), ctx, where, "non_spatial")
    _check_refs(
        services,
        ns_ids,
        ctx,
        where,
        "non_spatial",
        "non-spatial service of this catalogue",
    )
    sconf = sg.get("confidence")
    if sconf is not None:
        sconf = choice(sconf, CONFIDENCE_LEVELS, ctx, where, "confidence")
    return ServiceGroup(
        id=ident(sg.get("id"), ctx, where, "id"),
        name_zh=text_field(sg, "name_zh", ctx, where),
        name_en=text_field(sg, "name_en", ctx, where),
        items=members,
        non_spatial=services,
        confidence=sconf,
        note=text_field(sg, "note", ctx, where, default=""),
    )


def parse_groupings(
    raw: Any,
    ctx: Ctx,
    sources: Mapping[str, Any],
    items: Sequence[Item],
    non_spatial: Sequence[NonSpatialService],
) -> tuple[Grouping, ...]:
    """The ``groupings`` block; groups refer to ``items`` and ``non_spatial`` by id.

    Examples
    --------
    >>> raw = [{"id": "g", "title_zh": "组", "title_en": "G",
    ...         "groups": [{"id": "a", "name_zh": "甲", "name_en": "A"}]}]
    >>> parse_groupings(raw, Ctx("'x'"), {}, [], [])[0].groups[0].name("en")
    'A'
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error(f"expected a list of groupings, got {raw!r}", None, "groupings")
    item_ids = [it.id for it in items]
    ns_ids = [s.id for s in non_spatial]
    out: list[Grouping] = []
    for i, g in enumerate(raw):
        where = where_entry(g, i, "grouping")
        g = as_mapping(g, ctx, where)
        check_fields(g, _GROUPING_FIELDS, ctx, where)
        gid = ident(g.get("id"), ctx, where, "id")
        if any(x.id == gid for x in out):
            raise ctx.error("duplicate grouping id", where, "id")
        src = g.get("source")
        if src is not None and src not in sources:
            raise ctx.error(unknown("source", src, sources, NEW_SOURCE_FIX), where, "source")
        conf = g.get("confidence")
        if conf is not None:
            conf = choice(conf, CONFIDENCE_LEVELS, ctx, where, "confidence")
        groups_raw = g.get("groups")
        if not isinstance(groups_raw, list) or not groups_raw:
            raise ctx.error("expected a non-empty list of groups", where, "groups")
        groups = [
            _parse_group(sg, ctx, f"{where}, {where_entry(sg, j, 'group')}", item_ids, ns_ids)
            for j, sg in enumerate(groups_raw)
        ]
        out.append(
            Grouping(
                id=gid,
                title_zh=text_field(g, "title_zh", ctx, where),
                title_en=text_field(g, "title_en", ctx, where),
                groups=tuple(groups),
                source=src,
                confidence=conf,
                note=text_field(g, "note", ctx, where, default=""),
            )
        )
    return tuple(out)
