"""Loading catalogues: the bundled files, the item library, profiles and user catalogues.

Every item is defined once, in the bundled item library ``catalogues/items.yaml``; a profile
(a bundled catalogue or a user file) picks items from it by id, with overrides, and may
define items of its own (see the schema in the docstring of :mod:`fifteenmin.catalogue`).
Bundled catalogues are read once per process: loading one again by name returns the same
:class:`~fifteenmin.catalogue.model.Catalogue` object.

Examples
--------
>>> load_catalogue("beijing") is load_catalogue("beijing")
True
>>> load_catalogue({"items": ["pharmacy"]}).item_ids
('pharmacy',)
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from .. import settings
from .._errors import CatalogueError, InputFileError
from ..validate import path_exists
from .model import CONFIDENCE_LEVELS, Catalogue, Category, Item, NonSpatialService
from .schema import (
    ENTRY_FIELDS,
    ITEM_FIELDS,
    ITEM_REQUIRED,
    LIBRARY_FIELDS,
    NEW_SOURCE_FIX,
    PROFILE_FIELDS,
    Ctx,
    as_mapping,
    check_fields,
    choice,
    ident,
    parse_categories_block,
    parse_groupings,
    parse_item,
    parse_non_spatial,
    parse_sources_block,
    text_field,
    unknown,
    weaker,
    where_entry,
)

__all__ = ["available_catalogues", "load_catalogue"]

_LIBRARY_FILE = "items.yaml"
_SUFFIXES = (".yaml", ".yml", ".toml")


# --------------------------------------------------------------------------- files


def _read_text(text: str, suffix: str, ctx: Ctx) -> Any:
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


def _catalogue_dir() -> Traversable:
    return resources.files("fifteenmin") / "catalogues"


def _read_bundled(fname: str, ctx: Ctx) -> Any:
    return _read_text((_catalogue_dir() / fname).read_text(encoding="utf-8"), ".yaml", ctx)


# --------------------------------------------------------------------------- item library


@dataclass(frozen=True)
class _Library:
    raw_items: Mapping[str, Mapping[str, Any]]
    items: Mapping[str, Item]
    categories: Mapping[str, Category]
    sources: Mapping[str, Mapping[str, str]]
    non_spatial_raw: Mapping[str, Mapping[str, Any]]


@cache
def _library() -> _Library:
    ctx = Ctx(f"{_LIBRARY_FILE!r} (bundled item library)")
    raw = _read_bundled(_LIBRARY_FILE, ctx)
    check_fields(raw, LIBRARY_FIELDS, ctx, None)
    sources = parse_sources_block(raw.get("sources"), ctx, {})
    categories = parse_categories_block(raw.get("categories"), ctx, {})
    if not isinstance(raw.get("items"), list) or not raw["items"]:
        raise ctx.error("no items; the library needs a non-empty 'items' list")
    raw_items: dict[str, Mapping[str, Any]] = {}
    items: dict[str, Item] = {}
    for i, entry in enumerate(raw["items"]):
        where = where_entry(entry, i)
        entry = as_mapping(entry, ctx, where)
        check_fields(entry, ITEM_FIELDS, ctx, where)
        it = parse_item(entry, ctx, where, categories, sources)
        if it.id in items:
            raise ctx.error("duplicate id; each item is defined once", where, "id")
        raw_items[it.id] = entry
        items[it.id] = it
    non_spatial_raw: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(raw.get("non_spatial_services") or []):
        where = where_entry(entry, i, "non-spatial service")
        entry = as_mapping(entry, ctx, where)
        ns = parse_non_spatial(entry, ctx, where, items)
        if ns.id in non_spatial_raw:
            raise ctx.error("duplicate id", where, "id")
        non_spatial_raw[ns.id] = entry
    return _Library(raw_items, items, categories, sources, non_spatial_raw)


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class _Profile:
    """The top-level fields of a profile that every entry is resolved against."""

    name: str
    sources: Mapping[str, Mapping[str, str]]
    categories: Mapping[str, Category]
    standard: str | None
    cap: str | None


def _profile(raw: Mapping[str, Any], ctx: Ctx, default_name: str, lib: _Library) -> _Profile:
    check_fields(raw, PROFILE_FIELDS, ctx, None)
    name = raw.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ctx.error(f"expected a non-empty text, got {name!r}", None, "name")
    sources = parse_sources_block(raw.get("sources"), ctx, lib.sources)
    categories = parse_categories_block(raw.get("categories"), ctx, lib.categories)
    standard = raw.get("standard")
    if standard is not None and standard not in sources:
        raise ctx.error(
            unknown("source", standard, sources, NEW_SOURCE_FIX),
            None,
            "standard",
        )
    cap = raw.get("confidence_cap")
    if cap is not None:
        cap = choice(cap, CONFIDENCE_LEVELS, ctx, None, "confidence_cap")
    return _Profile(name, sources, categories, standard, cap)


def _entry_sources(
    entry: Mapping[str, Any], item: Item, ctx: Ctx, where: str, prof: _Profile
) -> tuple[tuple[str, str], ...]:
    """The item's sources after the entry's ``clause``/``standard`` and the profile standard."""
    src = item.sources
    sources, standard = prof.sources, prof.standard
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
                unknown("source", std, sources, NEW_SOURCE_FIX),
                where,
                "standard",
            )
        src = ((str(std), clause.strip()), *(s for s in src if s[0] != std))
    elif standard is not None:
        src = tuple(sorted(src, key=lambda s: s[0] != standard))
    return src


def _resolve_item(
    entry: Mapping[str, Any], ctx: Ctx, where: str, lib: _Library, prof: _Profile
) -> Item:
    """One profile entry → an Item: a library reference with overrides, or a full definition."""
    check_fields(entry, ENTRY_FIELDS, ctx, where)
    item_id = ident(entry.get("id"), ctx, where, "id")
    base = lib.raw_items.get(item_id)
    fields = {k: v for k, v in entry.items() if k not in ("clause", "standard")}
    if base is None:
        missing = [k for k in ITEM_REQUIRED if k not in entry]
        if missing:
            close = difflib.get_close_matches(item_id, list(lib.raw_items), n=1)
            hint = f"did you mean the bundled item {close[0]!r}? " if close else ""
            raise ctx.error(
                f"missing; {item_id!r} is not a bundled item, so it must be defined in full "
                f"({', '.join(ITEM_REQUIRED)}); {hint}bundled ids: {', '.join(lib.raw_items)}",
                where,
                missing[0],
            )
        merged = fields
    else:
        merged = {**base, **fields}
    item = parse_item(merged, ctx, where, prof.categories, prof.sources)

    changes: dict[str, Any] = {}
    standard = prof.standard
    if (
        base is not None
        and "tier_minutes" not in entry
        and standard is not None
        and standard in item.tier_by_source
    ):
        changes["tier_minutes"] = item.tier_by_source[standard]
    if base is not None and "confidence" not in entry and prof.cap is not None:
        changes["confidence"] = weaker(item.confidence, prof.cap)
    src = _entry_sources(entry, item, ctx, where, prof)
    if src != item.sources:
        changes["sources"] = src
    return dataclasses.replace(item, **changes) if changes else item


def _resolve_items(entries: Any, ctx: Ctx, lib: _Library, prof: _Profile) -> list[Item]:
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
        where = where_entry(entry, i)
        entry = as_mapping(entry, ctx, where)
        if isinstance(entry.get("id"), str) and entry["id"] in seen:
            raise ctx.error(
                f"duplicate id (entries #{seen[entry['id']] + 1} and #{i + 1}); each item id must "
                "be unique: remove one entry or rename it",
                where,
                "id",
            )
        it = _resolve_item(entry, ctx, where, lib, prof)
        seen[it.id] = i
        items.append(it)
    return items


def _resolve_non_spatial(
    ns_raw: Any, ctx: Ctx, lib: _Library, items: Sequence[Item]
) -> list[NonSpatialService]:
    known_items = {**lib.items, **{it.id: it for it in items}}
    non_spatial: list[NonSpatialService] = []
    if not isinstance(ns_raw, list):
        raise ctx.error(
            f"expected a list of non-spatial service ids or entries, got {ns_raw!r}",
            None,
            "non_spatial",
        )
    for i, entry in enumerate(ns_raw):
        if isinstance(entry, str):
            entry = {"id": entry}
        where = where_entry(entry, i, "non-spatial service")
        entry = as_mapping(entry, ctx, where)
        sid = entry.get("id")
        base = lib.non_spatial_raw.get(sid) if isinstance(sid, str) else None
        if base is None and not {"name_zh", "name_en"} <= set(entry):
            raise ctx.error(
                unknown(
                    "non-spatial service",
                    sid,
                    lib.non_spatial_raw,
                    "use a bundled id or define the service with id, name_zh and name_en",
                ),
                where,
                "id",
            )
        ns = parse_non_spatial({**(base or {}), **entry}, ctx, where, known_items)
        if any(n.id == ns.id for n in non_spatial):
            raise ctx.error("duplicate id; list each service once", where, "id")
        non_spatial.append(ns)
    return non_spatial


def _build(raw: Any, ctx: Ctx, default_name: str, path: str | None) -> Catalogue:
    """Validate a profile / user catalogue (already read into Python objects)."""
    lib = _library()
    raw = as_mapping(raw, ctx, None)
    prof = _profile(raw, ctx, default_name, lib)
    items = _resolve_items(raw.get("items"), ctx, lib, prof)
    non_spatial = _resolve_non_spatial(raw.get("non_spatial") or [], ctx, lib, items)
    groupings = parse_groupings(raw.get("groupings"), ctx, prof.sources, items, non_spatial)
    used_cats = {it.category for it in items}
    cats = tuple(c for c in prof.categories.values() if c.id in used_cats)
    cited = {s for it in items for s, _ in it.sources} | {g.source for g in groupings if g.source}
    if prof.standard:
        cited.add(prof.standard)
    name = prof.name.strip()
    return Catalogue(
        name=name,
        title_zh=text_field(raw, "title_zh", ctx, None, default=name),
        title_en=text_field(raw, "title_en", ctx, None, default=name),
        description=text_field(raw, "description", ctx, None, default=""),
        items=tuple(items),
        categories=cats,
        non_spatial=tuple(non_spatial),
        sources={k: v for k, v in prof.sources.items() if k in cited},
        groupings=groupings,
        standard=prof.standard,
        path=path,
    )


# --------------------------------------------------------------------------- loading


@cache
def _bundled_names() -> tuple[str, ...]:
    names = [
        p.name[: -len(".yaml")]
        for p in _catalogue_dir().iterdir()
        if p.name.endswith(".yaml") and p.name != _LIBRARY_FILE
    ]
    return tuple(sorted(names))


def available_catalogues() -> list[str]:
    """Names of the bundled catalogues.

    Examples
    --------
    >>> available_catalogues()
    ['beijing', 'gb50180', 'mofcom', 'tdt1062']
    """
    return list(_bundled_names())


@cache
def _bundled(name: str) -> Catalogue:
    """A bundled catalogue, read and checked once per process (the same object every time)."""
    fname = f"{name}.yaml"
    ctx = Ctx(f"{name!r} (bundled profile {fname})")
    return _build(_read_bundled(fname, ctx), ctx, name, f"fifteenmin/catalogues/{fname}")


def _load_file(name_or_path: str | os.PathLike[str]) -> Catalogue:
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise CatalogueError(
            f"catalogue: expected a bundled name, a file path, a mapping or a Catalogue, got "
            f"{type(name_or_path).__name__} {name_or_path!r:.60}; pass e.g. 'beijing' or "
            "'my_catalogue.yaml'"
        )
    path = Path(name_or_path)
    suffix = path.suffix.lower()
    exists = path_exists(path, "catalogue file")
    if exists and path.is_dir():
        raise CatalogueError(
            f"catalogue file '{path}' is a folder; give the path of a .yaml, .yml or .toml "
            "catalogue file in it"
        )
    if suffix not in _SUFFIXES:
        if (
            isinstance(name_or_path, str)
            and not exists
            and os.sep not in name_or_path
            and "/" not in name_or_path
        ):
            raise CatalogueError(
                unknown(
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
    if not exists:
        raise InputFileError(
            f"catalogue file '{path}' does not exist (looked for {path.resolve()})"
        )
    ctx = Ctx(repr(str(name_or_path)))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"catalogue file '{path}' cannot be read: {exc}") from None
    raw = _read_text(text, ".toml" if suffix == ".toml" else ".yaml", ctx)
    return _build(raw, ctx, path.stem, str(path))


def load_catalogue(
    name_or_path: str | os.PathLike[str] | Catalogue | Mapping[str, Any] = settings.CATALOGUE,
) -> Catalogue:
    """Load a bundled catalogue by name, or a user catalogue file.

    A bundled catalogue is read once per process; loading it again returns the same object.

    Parameters
    ----------
    name_or_path
        A bundled name (see :func:`available_catalogues`), a path to a ``.yaml``, ``.yml`` or
        ``.toml`` file with the profile schema (see the docstring of
        :mod:`fifteenmin.catalogue`), a mapping with the same content, or a
        :class:`~fifteenmin.catalogue.Catalogue` (returned as is).

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
        return _build(name_or_path, Ctx("'<mapping>'"), "custom", None)
    if isinstance(name_or_path, str) and name_or_path in _bundled_names():
        return _bundled(name_or_path)
    return _load_file(name_or_path)
