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

Modules
-------
:mod:`~fifteenmin.catalogue.filters` (the filter grammar), :mod:`~fifteenmin.catalogue.model`
(the data model), :mod:`~fifteenmin.catalogue.schema` (checks of raw catalogue mappings),
:mod:`~fifteenmin.catalogue.loading` (files, the item library, profiles) and
:mod:`~fifteenmin.catalogue.text` (the terminal listing); every public name is importable
from :mod:`fifteenmin.catalogue`.

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

from .filters import LIST_VALUED_KEYS, NAME_KEYS, Alternative, Condition, parse_condition
from .loading import available_catalogues, load_catalogue
from .model import (
    CONFIDENCE_LEVELS,
    MAPPABLE_LEVELS,
    PRIORITY_GROUPS,
    REQUIREMENTS,
    SPEED_PROFILE_NAMES,
    Catalogue,
    Category,
    Grouping,
    Item,
    NonSpatialService,
    ServiceGroup,
)
from .text import format_catalogue

__all__ = [
    "CONFIDENCE_LEVELS",
    "LIST_VALUED_KEYS",
    "MAPPABLE_LEVELS",
    "NAME_KEYS",
    "PRIORITY_GROUPS",
    "REQUIREMENTS",
    "SPEED_PROFILE_NAMES",
    "Alternative",
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
