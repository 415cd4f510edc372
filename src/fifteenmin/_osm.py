"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.pbf) with pyosmium.

One pass over the file collects everything the later stages need:

* the walkable ways (osmnx's ``"walk"`` filter, see :func:`is_walkable`) as runs of node ids
  with their coordinates. Extracts are often clipped: a way may reference nodes that are not
  in the file. Such ways keep the parts whose nodes are present (each maximal run of present
  nodes with at least two nodes) and :class:`OSMData` counts what was dropped;
* tagged features (nodes, ways, multipolygons) that carry one of the keys of interest
  (services, buildings, land use, boundaries, entrances), as a GeoDataFrame in WGS-84. A
  walkable way that also carries such a key other than ``highway`` (a bus platform mapped as
  ``highway=footway`` + ``public_transport=platform``), or is ``highway=bus_stop``, is kept
  both as a street and as a feature;
* the pedestrian areas (squares: :func:`is_pedestrian_area`) with their rings as node ids,
  which :mod:`fifteenmin.network` can make walkable (osmnx's walk filter leaves them out).

A sorted ``.osm.pbf`` file (the usual extract) is read through :mod:`fifteenmin._pbf`: its
nodes and ways are decoded into arrays and handled as arrays, and pyosmium only builds the
areas and reads the relations (``_FastPass``); any other file goes through pyosmium object by
object (``_Pass``). Both give the same :class:`OSMData`, element for element
(``tests/test_osm_fast.py``).

This module is private: :mod:`fifteenmin.network`, :mod:`fifteenmin.facilities` and
:mod:`fifteenmin.communities` read through it, so a file is parsed once per run.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from ._errors import ConfigTypeError, FifteenminError, InputFileError, OSMFileError, require_type
from .validate import check_span, path_exists, plural, stray_points

if TYPE_CHECKING:
    import osmium

__all__ = ["OSMData", "PedestrianArea", "is_pedestrian_area", "is_walkable", "read_osm"]

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".osm.xml")

#: Keys whose elements are kept as features (the catalogue adds its own keys).
BASE_FEATURE_KEYS = frozenset(
    {
        "amenity",
        "shop",
        "leisure",
        "healthcare",
        "office",
        "social_facility",
        "craft",
        "tourism",
        "public_transport",
        "railway",
        "sport",
        "club",
        "building",
        "landuse",
        "boundary",
        "entrance",
        "barrier",
        "place",
    }
)

# osmnx 2.x "walk" network filter (osmnx/_overpass.py, _get_network_filter), with its default
# access filter ["access"!~"private"]. Overpass `!~` is an unanchored regex test that is also
# true when the key is absent; the same semantics are used here.
_WALK_EXCLUDE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("area", re.compile("yes")),
    ("access", re.compile("private")),
    (
        "highway",
        re.compile(
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
            "proposed|raceway|razed|rest_area|services"
        ),
    ),
    ("foot", re.compile("no")),
    ("service", re.compile("private")),
    ("sidewalk", re.compile("separate")),
    ("sidewalk:both", re.compile("separate")),
    ("sidewalk:left", re.compile("separate")),
    ("sidewalk:right", re.compile("separate")),
)

#: ``highway`` values that make a walkable way a feature too (see ``_Pass.walk_feature``).
WALKABLE_FEATURE_HIGHWAYS = frozenset({"bus_stop", "platform"})

#: pyosmium's coordinate of a location that was never set (a node missing from the file).
_UNDEFINED_COORDINATE = 2**31 - 1

_WAY_TAGS_KEPT = ("highway", "name", "footway", "sidewalk", "access", "foot")


def is_walkable(tags: Mapping[str, str]) -> bool:
    """Tell whether a way belongs to the walking network.

    The rule is osmnx's ``network_type="walk"`` filter: a ``highway=*`` way that is not an
    area, not ``access=private``, not a motorway/cycleway/construction/platform (and the
    other excluded values), not ``foot=no``, not ``service=private`` and not a carriageway
    whose sidewalks are mapped separately (``sidewalk*=separate``).

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
        True if pedestrians can use the way.

    Examples
    --------
    >>> is_walkable({"highway": "footway"})
    True
    >>> is_walkable({"highway": "motorway"})
    False
    """
    if "highway" not in tags:
        return False
    for key, pattern in _WALK_EXCLUDE:
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return False
    return True


#: ``highway`` values of the areas pedestrians walk across (with ``area=yes``, or as
#: multipolygon relations): squares and plazas.
PEDESTRIAN_AREA_HIGHWAYS = frozenset({"pedestrian", "footway"})


def is_pedestrian_area(tags: Mapping[str, str]) -> bool:
    """Tell whether a closed way or multipolygon is a pedestrian area (a square, a plaza).

    ``highway=pedestrian|footway`` with ``area=yes`` (a closed way) or ``type=multipolygon``
    (a relation), open to pedestrians by the rest of osmnx's walk rule (:func:`is_walkable`
    without its ``area`` test). osmnx leaves these out of walk networks.

    Parameters
    ----------
    tags
        The element's tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_pedestrian_area({"highway": "pedestrian", "area": "yes"})
    True
    >>> is_pedestrian_area({"highway": "pedestrian"})  # a street, walkable as a line
    False
    >>> is_pedestrian_area({"highway": "pedestrian", "area": "yes", "access": "private"})
    False
    """
    if tags.get("highway") not in PEDESTRIAN_AREA_HIGHWAYS:
        return False
    if tags.get("area") != "yes" and tags.get("type") != "multipolygon":
        return False
    return is_walkable({k: v for k, v in tags.items() if k not in ("area", "type")})


@dataclass
class PedestrianArea:
    """A pedestrian area: its rings as OSM node ids with coordinates, and its polygon.

    ``rings`` holds ``(node_id, lon, lat)`` arrays of every closed ring, ``inner`` whether
    each ring is a hole; ``geometry`` is the (multi)polygon in WGS-84.
    """

    osm_type: str
    osm_id: int
    tags: dict[str, str]
    rings: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    inner: list[bool]
    geometry: shapely.Geometry


@dataclass
class WalkWays:
    """Walkable way parts: node ids and coordinates, concatenated (CSR-like).

    Part ``i`` is ``node_id[ptr[i]:ptr[i + 1]]`` (at least two nodes), a run of nodes of OSM
    way ``way_id[i]`` that are all in the file.
    """

    ptr: np.ndarray  # (n_parts + 1,) int64 offsets into node_id/lon/lat
    node_id: np.ndarray  # int64 OSM node ids
    lon: np.ndarray
    lat: np.ndarray
    way_id: np.ndarray  # (n_parts,) int64 OSM way id of each part
    tags: list[dict[str, str]]  # (n_parts,) a few tags of each part's way

    @classmethod
    def of_parts(
        cls,
        ptr: list[int],
        node: list[np.ndarray],
        lon: list[np.ndarray],
        lat: list[np.ndarray],
        way: list[int],
        tags: list[dict[str, str]],
    ) -> WalkWays:
        """The parts collected in lists: offsets, per part its nodes' ids and coordinates."""
        return cls(
            ptr=np.asarray(ptr, dtype=np.int64),
            node_id=_joined(node, np.int64),
            lon=_joined(lon, np.float64),
            lat=_joined(lat, np.float64),
            way_id=np.asarray(way, dtype=np.int64),
            tags=tags,
        )


@dataclass
class OSMData:
    """What one pass over an OSM file yields.

    Attributes
    ----------
    source
        The file read (or a description of the online query).
    bbox
        The header's bounding box ``(lon_min, lat_min, lon_max, lat_max)``, or None.
    ways
        The walkable way parts.
    features
        Tagged features (``osm_type``, ``osm_id``, ``name``, ``tags``, geometry in EPSG:4326).
    clipped_ways
        Number of walkable ways that referenced nodes missing from the file.
    missing_nodes
        Number of node references of walkable ways that were missing.
    counts
        Number of *tagged* nodes, ways and relations read (untagged ones only lend their
        locations to ways).
    keys
        The tag keys whose elements were kept as features.
    pedestrian_areas
        The complete pedestrian areas (:func:`is_pedestrian_area`), which
        :func:`fifteenmin.network.network_from_file` can make walkable.

    Examples
    --------
    >>> from fifteenmin import sample_path
    >>> data = read_osm(sample_path())  # doctest: +SKIP
    >>> data.counts["ways"], len(data.features)  # doctest: +SKIP
    (4590, 3981)
    """

    source: str
    bbox: tuple[float, float, float, float] | None
    ways: WalkWays
    features: gpd.GeoDataFrame
    clipped_ways: int = 0
    missing_nodes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    keys: frozenset[str] = frozenset()
    pedestrian_areas: list[PedestrianArea] = field(default_factory=list)


def _check_path(path: str | os.PathLike[str]) -> Path:
    require_type(path, (str, os.PathLike), "the OSM file", "a path (str or pathlib.Path)")
    p = Path(path)
    if not path_exists(p, "OSM file"):
        raise InputFileError(
            f"OSM file not found: '{p}'. Check the path, or run without a file to use the "
            "bundled sample."
        )
    if p.is_dir():
        raise InputFileError(
            f"'{p}' is a folder; give the path of an .osm, .osm.bz2 or .osm.pbf file."
        )
    if not p.is_file():
        raise InputFileError(
            f"'{p}' is not a regular file (a pipe or a device); save the OSM data to a file first."
        )
    name = p.name.lower()
    if not name.endswith(OSM_SUFFIXES):
        raise OSMFileError(
            f"'{p}' does not look like an OpenStreetMap file: expected a name ending in "
            ".osm, .osm.bz2 or .osm.pbf. Export OSM data (e.g. from openstreetmap.org or "
            "Geofabrik) in one of these formats."
        )
    if p.stat().st_size == 0:
        raise OSMFileError(f"'{p}' is empty: it holds no OpenStreetMap data.")
    return p


def read_osm(path: str | os.PathLike[str], keys: Iterable[str] = ()) -> OSMData:
    """Read an OSM file once: walkable ways and tagged features.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    keys
        Extra tag keys whose elements should be kept as features (for example every key a
        service catalogue tests), on top of :data:`BASE_FEATURE_KEYS`.

    Returns
    -------
    OSMData

    Raises
    ------
    InputFileError
        The file does not exist.
    OSMFileError
        The file is not OSM data pyosmium can parse, or holds no data.

    Examples
    --------
    >>> from fifteenmin import sample_path
    >>> data = read_osm(sample_path())
    >>> len(data.ways.way_id) > 0
    True
    """
    p = _check_path(path)
    feature_keys = set(BASE_FEATURE_KEYS) | set(_keys(keys))
    errors = _parse_errors()
    try:
        return _read(p, feature_keys, with_areas=True)
    except errors as exc:
        if isinstance(exc, FifteenminError):
            raise
        if "out of order" not in str(exc):
            raise read_error(p, exc) from exc
    warnings.warn(
        f"{p.name} is not sorted by element id, so multipolygon relations cannot be assembled "
        "and were skipped (closed ways still count). Sort it first, e.g. `osmium sort`.",
        stacklevel=3,
    )
    try:
        return _read(p, feature_keys, with_areas=False)
    except errors as exc:
        if isinstance(exc, FifteenminError):
            raise
        raise read_error(p, exc) from exc


def _parse_errors() -> tuple[type[Exception], ...]:
    """What pyosmium raises on bad input (parse errors, bad values, bad coordinates)."""
    import osmium

    return (RuntimeError, ValueError, UnicodeError, OverflowError, osmium.InvalidLocationError)


def _keys(keys: Iterable[str]) -> list[str]:
    """The extra feature keys, checked (a library error for a wrong type)."""
    if isinstance(keys, str) or not isinstance(keys, Iterable):
        raise ConfigTypeError(
            f"keys must be a list of tag keys such as ['amenity', 'shop'], got {keys!r}"
        )
    out = list(keys)
    for k in out:
        require_type(k, str, "every key of keys", "a tag key (text)")
    return out


def read_error(p: Path, exc: Exception) -> OSMFileError:
    """The error for a file pyosmium cannot parse: what is wrong and how to fix it.

    Examples
    --------
    >>> str(read_error(Path("a.osm"), ValueError("illegal user id: '-5'")))[:60]
    "'a.osm' has an element with an invalid user id (illegal user"
    """
    text = str(exc) or type(exc).__name__
    if "too long" in text:
        why = (
            f"has a tag key or value that is too long ({text}; pyosmium reads at most 1,024 bytes, "
            "OpenStreetMap allows 255 characters). Shorten or remove that tag: the file was "
            "probably written by a script or edited by hand."
        )
    elif "user id" in text:
        why = (
            f"has an element with an invalid user id ({text}; OpenStreetMap user ids are whole "
            "numbers >= 0). Remove the uid attributes (fifteenmin does not need them) or fix them."
        )
    elif type(exc).__name__ == "InvalidLocationError" or "coordinate" in text:
        why = (
            f"has a node whose coordinates are not degrees ({text}). Fix or remove that node: "
            "lat must be a number in -90..90 and lon in -180..180."
        )
    elif "illegal" in text:
        why = (
            f"has an element with an invalid attribute ({text}). Fix or remove that attribute, "
            "or export the data again."
        )
    else:
        why = (
            f"could not be read as OpenStreetMap data ({text}). Check that the file is a "
            "complete .osm (XML), .osm.bz2 or .osm.pbf export."
        )
    return OSMFileError(f"'{p}' {why}")


def _read(
    p: Path, feature_keys: set[str], *, with_areas: bool, fast: bool | None = None
) -> OSMData:
    """One pass over the file (raises RuntimeError from pyosmium on bad input).

    A sorted .osm.pbf file of ``_FAST_MIN_BYTES`` or more is read through
    :mod:`fifteenmin._pbf`, any other file by pyosmium alone; ``fast`` True or False forces
    one way or the other (the tests compare them).
    """
    import osmium

    bbox = _header_bbox(osmium.FileProcessor(str(p)))
    use = with_areas and fast is not False
    fast_pass = _fast_read(p, feature_keys, force=bool(fast)) if use else None
    pass_ = fast_pass if fast_pass is not None else _pyosmium_pass(p, feature_keys, with_areas)
    pass_.check(p)
    ways, features = _without_strays(p, pass_.walk_ways(), pass_.features())
    return OSMData(
        source=str(p),
        bbox=bbox,
        ways=ways,
        features=features,
        clipped_ways=pass_.clipped_ways,
        missing_nodes=pass_.missing_nodes,
        counts=pass_.counts,
        keys=frozenset(feature_keys),
        pedestrian_areas=pass_.pedestrian_areas,
    )


def _pyosmium_pass(p: Path, feature_keys: set[str], with_areas: bool) -> _Pass:
    """Every tagged element through Python, one by one (any OSM file pyosmium reads)."""
    import osmium

    fp = osmium.FileProcessor(str(p)).with_locations()
    if with_areas:
        fp = fp.with_areas()
    # untagged objects (most nodes) matter only through their locations, which the location
    # handler stores before this filter: skip them in Python
    fp = fp.with_filter(osmium.filter.EmptyTagFilter())
    pass_ = _Pass(feature_keys, with_areas)
    for obj in fp:
        if isinstance(obj, osmium.osm.Node):
            pass_.node(obj)
        elif isinstance(obj, osmium.osm.Way):
            pass_.way(obj)
        elif isinstance(obj, osmium.osm.Relation):
            pass_.relation(obj)
        elif isinstance(obj, osmium.osm.Area):
            pass_.area(obj)
    return pass_


def _without_strays(
    p: Path, ways: WalkWays, features: gpd.GeoDataFrame
) -> tuple[WalkWays, gpd.GeoDataFrame]:
    """Street nodes and features far from all the others left out (with warnings).

    Ways are cut at stray nodes (:func:`fifteenmin.validate.stray_points`); features that lie
    entirely farther than the same limit from the remaining streets are left out (they could
    reach no street and would be counted as facilities of the area).

    Raises
    ------
    OSMFileError
        The remaining streets span more than :data:`fifteenmin.validate.MAX_SPAN_DEG`.
    """
    stray, limit = stray_points(ways.lon, ways.lat)
    if stray.any():
        i = int(np.flatnonzero(stray)[0])
        warnings.warn(
            f"{p.name}: {plural(len(np.unique(ways.node_id[stray])), 'node')} of walkable ways "
            "lie far from all the "
            f"others (more than {limit:.2g} degrees from the middle of the streets; e.g. node "
            f"{ways.node_id[i]} at {ways.lon[i]:.4f}, {ways.lat[i]:.4f}): the ways were cut "
            "there. Fix those coordinates if the nodes matter.",
            stacklevel=4,
        )
        ways = _cut(ways, stray)
    check_span(ways.lon, ways.lat, f"'{p}'")
    if not len(ways.lon) or not len(features):
        return ways, features
    b = shapely.bounds(np.asarray(features.geometry.values, dtype=object))
    m = limit if math.isfinite(limit) else 1.0
    dx = m / max(math.cos(math.radians(min(abs(float(np.median(ways.lat))), 89.0))), 0.01)
    with np.errstate(invalid="ignore"):
        far = (
            (b[:, 2] < ways.lon.min() - dx)
            | (b[:, 0] > ways.lon.max() + dx)
            | (b[:, 3] < ways.lat.min() - m)
            | (b[:, 1] > ways.lat.max() + m)
        )
    if far.any():
        f0 = features.iloc[int(np.flatnonzero(far)[0])]
        warnings.warn(
            f"{p.name}: {plural(int(far.sum()), 'tagged feature')} lie far from the file's "
            f"streets (more than {m:.2g} degrees; e.g. {f0['osm_type']} {f0['osm_id']}) and were "
            "left out: they could reach no street.",
            stacklevel=4,
        )
        features = features[~far].reset_index(drop=True)
    return ways, features


def _cut(ways: WalkWays, drop: np.ndarray) -> WalkWays:
    """The way parts without the nodes ``drop`` (parts split there; at least two nodes each)."""
    ptr: list[int] = [0]
    node: list[np.ndarray] = []
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    way: list[int] = []
    tags: list[dict[str, str]] = []
    for k in range(len(ways.way_id)):
        a, b = int(ways.ptr[k]), int(ways.ptr[k + 1])
        keep = ~drop[a:b]
        # runs of kept nodes
        edges = np.flatnonzero(np.diff(np.r_[0, keep.astype(np.int8), 0]))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            if e - s >= 2:
                node.append(ways.node_id[a + s : a + e])
                lon.append(ways.lon[a + s : a + e])
                lat.append(ways.lat[a + s : a + e])
                ptr.append(ptr[-1] + int(e - s))
                way.append(ways.way_id[k])
                tags.append(ways.tags[k])
    return WalkWays.of_parts(ptr, node, lon, lat, way, tags)


def _ring(
    ids: list[int], lonlat: list[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ring as arrays: node ids, lon, lat."""
    xy = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    return np.asarray(ids, dtype=np.int64), xy[:, 0].copy(), xy[:, 1].copy()


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _header_bbox(fp: osmium.FileProcessor) -> tuple[float, float, float, float] | None:
    """The bounding box of the file's header, or None."""
    try:
        box = fp.header.box()
    except Exception:  # header without a box
        return None
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


class _Pass:
    """What one pass over an OSM file collects, element by element, in file order."""

    def __init__(self, feature_keys: set[str], with_areas: bool) -> None:
        import osmium

        self.feature_keys = feature_keys
        self.with_areas = with_areas
        # walkable way parts, concatenated
        self.part_ptr: list[int] = [0]
        self.node_ids: list[int] = []
        self.lons: list[float] = []
        self.lats: list[float] = []
        self.part_way: list[int] = []
        self.part_tags: list[dict[str, str]] = []
        self.clipped_ways = 0
        self.missing_nodes = 0
        # tagged features
        self.feat_type: list[str] = []
        self.feat_id: list[int] = []
        self.feat_tags: list[dict[str, str]] = []
        self.feat_wkb: list[bytes] = []
        self.counts = {"nodes": 0, "ways": 0, "relations": 0}  # tagged objects
        # bad input: tagged nodes and way nodes with coordinates out of range, references to
        # nodes with negative ids (an editor's new objects)
        self.bad_nodes: list[int] = []
        self.bad_way_nodes: set[int] = set()
        self.negative_refs = 0
        self.short_ways: list[int] = []  # walkable ways with fewer than two nodes
        # multipolygon relations with tags of interest, those assembled, broken areas
        self.area_relations: set[int] = set()
        self.assembled: set[int] = set()
        self.broken_areas: list[tuple[str, int]] = []
        self.pedestrian_areas: list[PedestrianArea] = []
        self.wkb = osmium.geom.WKBFactory()

    def interesting(self, tags: Mapping[str, str]) -> bool:
        """Whether an element with these tags is kept as a feature."""
        return any(k in self.feature_keys for k in tags)

    def add_feature(self, osm_type: str, osm_id: int, tags: dict[str, str], wkb: bytes) -> None:
        self.feat_type.append(osm_type)
        self.feat_id.append(osm_id)
        self.feat_tags.append(tags)
        self.feat_wkb.append(wkb)

    def walk_feature(self, tags: Mapping[str, str]) -> bool:
        """Whether a walkable way is also kept as a feature.

        True when it carries a feature key other than ``highway`` (``public_transport=
        platform``, ``amenity=*``, …) or is ``highway=bus_stop``/``platform``: every street
        carries ``highway``, which would make every street a feature.
        """
        if tags.get("highway") in WALKABLE_FEATURE_HIGHWAYS:
            return True
        return any(k in self.feature_keys for k in tags if k != "highway")

    def node(self, obj: osmium.osm.Node) -> None:
        self.counts["nodes"] += 1
        tags = dict(obj.tags)
        if self.interesting(tags) or tags.get("highway") == "bus_stop":
            loc = obj.location
            if not loc.valid():  # outside -180..180 / -90..90: no place to put it
                self.bad_nodes.append(obj.id)
                return
            self.add_feature("node", obj.id, tags, shapely.to_wkb(shapely.Point(loc.lon, loc.lat)))

    def way(self, obj: osmium.osm.Way) -> None:
        self.counts["ways"] += 1
        tags = dict(obj.tags)
        if obj.is_closed() and is_pedestrian_area(tags):
            self.pedestrian_way(obj, tags)
        walkable = is_walkable(tags)
        if walkable:
            self.walkable_way(obj, {k: tags[k] for k in _WAY_TAGS_KEPT if k in tags})
        # a walkable way that is also a service (a bus platform mapped as a footway) is kept
        # both as a street and as a feature; closed ways become features through area()
        keep = self.walk_feature(tags) if walkable else self.interesting(tags)
        if keep and (not obj.is_closed() or not self.with_areas):
            coords = []
            for nd in obj.nodes:
                if nd.location.valid():
                    coords.append((nd.location.lon, nd.location.lat))
                elif nd.ref < 0 and nd.location.x == _UNDEFINED_COORDINATE:
                    self.negative_refs += 1
            if len(coords) >= 2:
                geom = shapely.LineString(coords)
                if obj.is_closed() and len(coords) >= 4:
                    geom = shapely.make_valid(shapely.Polygon(coords))
                self.add_feature("way", obj.id, tags, shapely.to_wkb(geom))

    def pedestrian_way(self, obj: osmium.osm.Way, tags: dict[str, str]) -> None:
        """Keep a closed way that is a pedestrian area (when all its nodes are placed)."""
        nodes = [(nd.ref, nd.location) for nd in obj.nodes]
        if len(nodes) < 4 or not all(loc.valid() for _, loc in nodes):
            return
        ring = _ring([r for r, _ in nodes], [(loc.lon, loc.lat) for _, loc in nodes])
        geom = shapely.make_valid(shapely.Polygon(np.column_stack([ring[1], ring[2]])))
        if not geom.is_empty and geom.area > 0:
            area = PedestrianArea("way", obj.id, tags, [ring], [False], geom)
            self.pedestrian_areas.append(area)

    def pedestrian_relation(self, obj: osmium.osm.Area, tags: dict[str, str]) -> None:
        """Keep an assembled multipolygon relation that is a pedestrian area."""
        rings, inner = [], []
        for outer in obj.outer_rings():
            for k, r in enumerate((outer, *obj.inner_rings(outer))):
                rings.append(
                    _ring([n.ref for n in r], [(n.location.lon, n.location.lat) for n in r])
                )
                inner.append(k > 0)
        try:
            raw: str | bytes = self.wkb.create_multipolygon(obj)
            geom = shapely.from_wkb(bytes.fromhex(raw) if isinstance(raw, str) else raw)
        except Exception:  # broken rings: not walkable (counted with the broken areas)
            return
        area = PedestrianArea("relation", obj.orig_id(), tags, rings, inner, geom)
        self.pedestrian_areas.append(area)

    def walkable_way(self, obj: osmium.osm.Way, kept_tags: dict[str, str]) -> None:
        """Keep each run of at least two nodes present in the file as one way part."""
        run_ids: list[int] = []
        run_lon: list[float] = []
        run_lat: list[float] = []
        clipped = False
        for nd in obj.nodes:
            loc = nd.location
            if loc.valid():
                run_ids.append(nd.ref)
                run_lon.append(loc.lon)
                run_lat.append(loc.lat)
            else:
                clipped |= self.lost_node(nd.ref, loc)
                self.add_part(obj.id, kept_tags, run_ids, run_lon, run_lat)
                run_ids, run_lon, run_lat = [], [], []
        self.add_part(obj.id, kept_tags, run_ids, run_lon, run_lat)
        self.clipped_ways += clipped
        if len(obj.nodes) < 2:
            self.short_ways.append(obj.id)

    def lost_node(self, ref: int, loc: osmium.osm.Location) -> bool:
        """Count a way's node without a usable location; True if it is missing from the file.

        A node may be missing (a clipped extract), have a negative id (an editor's new node,
        which pyosmium cannot place) or lie outside -180..180 / -90..90.
        """
        if loc.x != _UNDEFINED_COORDINATE:  # in the file, with coordinates out of range
            self.bad_way_nodes.add(ref)
            return False
        if ref < 0:
            self.negative_refs += 1
            return False
        self.missing_nodes += 1
        return True

    def add_part(
        self,
        way_id: int,
        tags: dict[str, str],
        ids: list[int],
        lon: list[float],
        lat: list[float],
    ) -> None:
        if len(ids) >= 2:
            self.node_ids.extend(ids)
            self.lons.extend(lon)
            self.lats.extend(lat)
            self.part_ptr.append(len(self.node_ids))
            self.part_way.append(way_id)
            self.part_tags.append(tags)

    def relation(self, obj: osmium.osm.Relation) -> None:
        """Count a tagged relation; remember the multipolygons that should become areas."""
        self.counts["relations"] += 1
        tags = obj.tags
        multipolygon = tags.get("type") in ("multipolygon", "boundary")
        if self.with_areas and multipolygon and self.interesting(dict(tags)):
            self.area_relations.add(obj.id)

    def area(self, obj: osmium.osm.Area) -> None:
        tags = dict(obj.tags)
        # an area from a relation is a multipolygon (pyosmium drops the relation's type tag)
        if not obj.from_way() and is_pedestrian_area({**tags, "type": "multipolygon"}):
            self.pedestrian_relation(obj, tags)
        if not self.interesting(tags):
            return
        if not obj.from_way():
            self.assembled.add(obj.orig_id())
        try:
            geom: str | bytes = self.wkb.create_multipolygon(obj)
        except Exception:  # broken ring geometry: skip the area (counted in check)
            self.broken_areas.append(("way" if obj.from_way() else "relation", obj.orig_id()))
            return
        wkb = bytes.fromhex(geom) if isinstance(geom, str) else geom
        self.add_feature("way" if obj.from_way() else "relation", obj.orig_id(), tags, wkb)

    def check(self, p: Path) -> None:
        """Raise on a file without tagged data or with an editor's new objects.

        Warn about a clipped extract and about nodes with coordinates out of range.
        """
        if self.negative_refs:
            raise OSMFileError(
                f"'{p}' holds ways that reference {self.negative_refs} nodes with negative ids: "
                "new objects of an editor such as JOSM, never uploaded to OpenStreetMap. "
                "pyosmium cannot place nodes with negative ids. Give them positive ids first, "
                f"e.g. `osmium renumber -o renumbered.osm {p.name}` (osmium-tool), or upload "
                "the edits and export the data again."
            )
        if self.counts["ways"] == 0 and self.counts["nodes"] == 0:
            raise OSMFileError(
                f"'{p}' holds no tagged OpenStreetMap data: it is empty or not OSM data. Export "
                "OSM data as .osm, .osm.bz2 or .osm.pbf."
            )
        if self.missing_nodes and len(self.node_ids) == 0 and not self.bad_way_nodes:
            raise OSMFileError(
                f"'{p}': none of the {self.missing_nodes} nodes its walkable ways reference "
                "could be placed: the nodes are missing, or they come after the ways (an OSM "
                "file lists nodes, then ways, then relations). Sort it, e.g. `osmium sort`, or "
                "export the data again."
            )
        bad = sorted(self.bad_way_nodes)
        if self.bad_nodes or bad:
            ids = ", ".join(str(i) for i in [*self.bad_nodes, *bad][:5])
            n_tagged = len(self.bad_nodes)
            what = [
                f"{plural(n_tagged, 'tagged node')} (left out)" if n_tagged else "",
                f"{plural(len(bad), 'node')} of ways (the ways were cut there)" if bad else "",
            ]
            warnings.warn(
                f"{p.name}: coordinates outside longitude -180..180 / latitude -90..90 on "
                f"{' and '.join(w for w in what if w)}, e.g. node {ids}. Fix those coordinates "
                "if the nodes matter.",
                stacklevel=3,
            )
        self.warn_dropped(p)
        if self.clipped_ways:
            warnings.warn(
                f"{p.name}: {self.clipped_ways} walkable ways reference {self.missing_nodes} "
                "nodes that are not in the file (a clipped extract); the parts of those ways "
                "inside the file were kept.",
                stacklevel=3,
            )

    def warn_dropped(self, p: Path) -> None:
        """Warn about walkable ways of one node and areas that could not be built."""
        if self.short_ways:
            warnings.warn(
                f"{p.name}: {plural(len(self.short_ways), 'walkable way')} with fewer than two "
                f"nodes (e.g. way {self.short_ways[0]}) were left out: a way needs two nodes.",
                stacklevel=4,
            )
        lost = sorted(self.area_relations - self.assembled)
        if lost or self.broken_areas:
            eg = [f"relation {i}" for i in lost[:3]] + [
                f"{t} {i}" for t, i in self.broken_areas[:3]
            ]
            warnings.warn(
                f"{p.name}: {plural(len(lost) + len(self.broken_areas), 'area')} (multipolygons "
                "or closed ways with tags of interest, e.g. "
                f"{', '.join(eg[:3])}) could not be built and were left out: members missing "
                "from the extract (a clipped file) or broken rings.",
                stacklevel=4,
            )

    def walk_ways(self) -> WalkWays:
        return WalkWays(
            ptr=np.asarray(self.part_ptr, dtype=np.int64),
            node_id=np.asarray(self.node_ids, dtype=np.int64),
            lon=np.asarray(self.lons, dtype=np.float64),
            lat=np.asarray(self.lats, dtype=np.float64),
            way_id=np.asarray(self.part_way, dtype=np.int64),
            tags=self.part_tags,
        )

    def features(self) -> gpd.GeoDataFrame:
        wkb = self.feat_wkb
        geoms = shapely.from_wkb(wkb) if wkb else np.array([], dtype=object)
        ids = np.asarray(self.feat_id, dtype=np.int64)
        return _features_frame(self.feat_type, ids, self.feat_tags, geoms)


# ---------------------------------------------------------------------------------------------
# The fast path for sorted .osm.pbf files: nodes and ways decoded into arrays (fifteenmin._pbf)
# and handled as arrays; pyosmium builds only the areas (closed ways and multipolygons) and
# reads the relations, as in _read. The result is the same OSMData, element for element:
# tests/test_osm_fast.py compares it with the pyosmium pass above.

#: The keys whose values decide what a way is (:func:`is_walkable`, :func:`is_pedestrian_area`,
#: ``_Pass.walk_feature``), then the other kept way tags (``_WAY_TAGS_KEPT``).
_RULE_KEYS = (
    "highway",
    "area",
    "access",
    "foot",
    "service",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "type",
)
#: Smaller .osm.pbf files are read by pyosmium alone: loading the compiled decoder costs about
#: what it saves on a 0.5 MB file (measured: the 0.69 MB sample reads in the same CPU time
#: either way, a 0.84 MB city 2.3 times faster through the arrays).
_FAST_MIN_BYTES = 500_000
#: Larger files (regions, countries) too: the decoder holds the whole inflated file and its
#: arrays at once, where pyosmium streams it (a city, 13 MB: the same peak memory either way).
_FAST_MAX_BYTES = 256_000_000

_COLUMN_KEYS = (*_RULE_KEYS, *(k for k in _WAY_TAGS_KEPT if k not in _RULE_KEYS))


def _fast_read(p: Path, feature_keys: set[str], *, force: bool = False) -> _Pass | None:
    """The pass over a sorted .osm.pbf file through :mod:`fifteenmin._pbf`, or None.

        None when the decoder does not read the file exactly as libosmium does (an XML file, an
        unsorted or history file, unusual encodings, bad coordinates or ids): the caller then
        reads it with pyosmium alone, which also reports what is wrong with it. Also None for a
        file under ``_FAST_MIN_BYTES`` (pyosmium reads it as fast) or over ``_FAST_MAX_BYTES``
    (pyosmium streams it in less memory), unless ``force``.
    """
    from . import _pbf

    if not p.name.lower().endswith(".pbf") or not _pbf.numba_available():
        return None
    size = p.stat().st_size
    if not force and not _FAST_MIN_BYTES <= size <= _FAST_MAX_BYTES:
        return None
    errors: tuple[type[Exception], ...] = (_pbf.UnsupportedPBFError, *_parse_errors())
    try:
        arrays = _pbf.decode_pbf(p)
        return _FastPass(arrays, feature_keys).run(p)
    except errors as exc:
        # pyosmium alone reads the file, or reports what is wrong with it
        from ._progress import logger

        logger.debug("%s: read with pyosmium alone (%s)", p.name, exc)
        return None


class _FastPass(_Pass):
    """:class:`_Pass`'s result for a file decoded into arrays (:class:`fifteenmin._pbf.PBFArrays`).

    Nodes and ways are handled as arrays; what a way is (walkable, a pedestrian area, a
    feature) is decided by :func:`is_walkable` and the other rules once per distinct
    combination of the tags they read. Areas and relations go through ``_Pass.area`` and
    ``_Pass.relation`` in a pyosmium pass that hands only them (and the ways that may
    complete an area) to Python; the order of the features is the one the single pass gives.
    """

    def __init__(self, arrays: Any, feature_keys: set[str]) -> None:
        super().__init__(feature_keys, with_areas=True)
        self.a = arrays
        self.xy = (arrays.node_x.astype(np.float64) / 1e7, arrays.node_y.astype(np.float64) / 1e7)
        self.text = np.array(arrays.strings, dtype=object)  # string id -> str
        # per item: (sort key, kind, index): features and pedestrian areas in file order
        self.feat_keys: list[np.ndarray] = []
        self.feat_geoms: list[np.ndarray] = []
        self.feat_sources: list[tuple[list[str], np.ndarray, list[dict[str, str]]]] = []
        self.area_keys: list[int] = []
        self.ped_keys: list[int] = []
        self.from_way: list[bool] = []  # per area feature: from a closed way (else a relation)

    def run(self, p: Path) -> _FastPass:
        from ._pbf import UnsupportedPBFError

        a = self.a
        nref = np.diff(a.way_ref_ptr)
        tagged = np.diff(a.way_tag_ptr) > 0
        if bool((nref[tagged] == 0).any()):
            raise UnsupportedPBFError("a tagged way without nodes")
        self.counts["nodes"] = int(np.count_nonzero(np.diff(a.node_tag_ptr)))
        self.counts["ways"] = int(np.count_nonzero(tagged))
        node_idx = _searchsorted(a.node_id, a.way_ref)
        node_idx[node_idx == len(a.node_id)] = 0
        found = a.node_id[node_idx] == a.way_ref if len(a.node_id) else np.zeros(0, bool)
        self.node_idx, self.found = node_idx, found
        # Way.is_closed(): first and last node ids equal (ways without nodes: not closed)
        cap = max(len(a.way_ref) - 1, 0)
        ends = np.zeros(1, dtype=np.int64) if not len(a.way_ref) else a.way_ref
        first = ends[np.minimum(a.way_ref_ptr[:-1], cap)]
        last = ends[np.minimum(np.maximum(a.way_ref_ptr[1:] - 1, 0), cap)]
        closed = (nref > 0) & (first == last)
        self.fk_any = self.feature_key_ways()
        # pyosmium builds the areas on a second thread (its C++ and the numpy work here share
        # the two cores), as soon as it can; it writes only the _Pass lists (feat_*,
        # pedestrian_areas, counts of relations, broken areas), which the work here leaves
        # alone (the closed pedestrian ways join pedestrian_areas after it)
        with ThreadPoolExecutor(max_workers=1) as pool:
            areas = pool.submit(self.areas, p, tagged, nref, closed)
            cols, fk_other = self.way_columns()
            walkable, pedestrian, keep = self.way_rules(cols, fk_other, tagged)
            ped_ways = self.pedestrian_ways(np.flatnonzero(pedestrian & closed))
            self.node_features()
            self.way_features(np.flatnonzero(keep & ~closed), cols)
            self.walkable_ways(np.flatnonzero(walkable), cols)
            areas.result()
        for key, area in ped_ways:  # placed by their keys below, whatever the list order
            self.pedestrian_areas.append(area)
            self.ped_keys.append(key)
        self.way_areas()
        self.short_ways = a.way_id[np.flatnonzero(walkable & (nref < 2))].tolist()
        order = np.argsort(np.asarray(self.ped_keys, dtype=np.int64), kind="stable")
        self.pedestrian_areas = [self.pedestrian_areas[i] for i in order.tolist()]
        self.node_ids = self.parts[1]
        return self

    def columns(
        self, tag_ptr: np.ndarray, keys: np.ndarray, vals: np.ndarray, names: tuple[str, ...]
    ) -> np.ndarray:
        """Per element the value (string id) of each key of ``names``, -1 where absent."""
        from ._pbf import UnsupportedPBFError

        index = self.a.string_index
        code = np.full(len(self.a.strings), -1, dtype=np.int64)
        for j, k in enumerate(names):
            if k in index:
                code[index[k]] = j
        n = len(tag_ptr) - 1
        owner = np.repeat(np.arange(n), np.diff(tag_ptr))
        kc = code[keys]
        pos = np.flatnonzero(kc >= 0)
        rows, cols = owner[pos], kc[pos]
        slot = np.full((n, len(names)), -1, dtype=np.int64)
        slot[rows, cols] = pos
        if not np.array_equal(slot[rows, cols], pos):  # a key twice on one element
            raise UnsupportedPBFError("an element with a repeated key")
        return np.where(slot >= 0, vals[np.maximum(slot, 0)], -1)

    def key_flags(self, keys: set[str]) -> np.ndarray:
        """One flag per string: whether it is one of ``keys``."""
        flags = np.zeros(len(self.a.strings), dtype=bool)
        for k in keys:
            i = self.a.string_index.get(k)
            if i is not None:
                flags[i] = True
        return flags

    def way_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """The ways' values of ``_COLUMN_KEYS``, and whether they carry another feature key."""
        a = self.a
        cols = self.columns(a.way_tag_ptr, a.way_key, a.way_val, _COLUMN_KEYS)
        return cols, self.ways_with(self.feature_keys - {"highway"} - set(_RULE_KEYS))

    def ways_with(self, keys: set[str]) -> np.ndarray:
        """Per way, whether it carries one of ``keys``."""
        a = self.a
        owner = np.repeat(np.arange(len(a.way_id)), np.diff(a.way_tag_ptr))
        out = np.zeros(len(a.way_id), dtype=bool)
        out[owner[self.key_flags(keys)[a.way_key]]] = True
        return out

    def feature_key_ways(self) -> np.ndarray:
        """Per way, whether it carries a feature key (``_Pass.interesting``)."""
        return self.ways_with(self.feature_keys)

    def way_rules(
        self, cols: np.ndarray, fk_other: np.ndarray, tagged: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Walkable, pedestrian area, kept as a feature: the rules once per distinct tag set."""
        sig = np.column_stack([cols[:, : len(_RULE_KEYS)], fk_other.astype(np.int64)])
        uniq, inverse = _distinct_rows(sig)
        placeholder = min(self.feature_keys - {"highway"} - set(_RULE_KEYS))
        strings = self.a.strings
        rules = np.zeros((len(uniq), 3), dtype=bool)
        for u, row in enumerate(uniq.tolist()):
            tags = {k: strings[v] for k, v in zip(_RULE_KEYS, row, strict=False) if v >= 0}
            if row[-1]:
                tags[placeholder] = ""
            walkable = is_walkable(tags)
            keep = self.walk_feature(tags) if walkable else self.interesting(tags)
            rules[u] = (walkable, is_pedestrian_area(tags), keep)
        out = rules[inverse.reshape(-1)] & tagged[:, None]
        return out[:, 0], out[:, 1], out[:, 2]

    def tag_dicts(
        self, rows: np.ndarray, tag_ptr: np.ndarray, keys: np.ndarray, vals: np.ndarray
    ) -> list[dict[str, str]]:
        """The tags of the elements ``rows`` as dicts (``dict(obj.tags)``)."""
        starts = tag_ptr[rows]
        lengths = tag_ptr[rows + 1] - starts
        sel = _ranges(starts, lengths)
        pairs = zip(self.text[keys[sel]].tolist(), self.text[vals[sel]].tolist(), strict=True)
        return [dict(itertools.islice(pairs, n)) for n in lengths.tolist()]

    def add_items(
        self,
        keys: np.ndarray,
        osm_type: str,
        ids: np.ndarray,
        tags: list[dict[str, str]],
        geoms: np.ndarray,
    ) -> None:
        self.feat_keys.append(keys)
        self.feat_geoms.append(geoms)
        self.feat_sources.append(([osm_type] * len(ids), ids, tags))

    def node_features(self) -> None:
        """Tagged nodes with a feature key, or ``highway=bus_stop``: points (in file order)."""
        a = self.a
        has_fk = np.zeros(len(a.node_id), dtype=bool)
        owner = np.repeat(np.arange(len(a.node_id)), np.diff(a.node_tag_ptr))
        has_fk[owner[self.key_flags(self.feature_keys)[a.node_key]]] = True
        bus = a.string_index.get("bus_stop", -1)
        hw = self.columns(a.node_tag_ptr, a.node_key, a.node_val, ("highway",))[:, 0]
        rows = np.flatnonzero(has_fk | ((hw == bus) & (bus >= 0)))
        geoms = shapely.points(self.xy[0][rows], self.xy[1][rows])
        tags = self.tag_dicts(rows, a.node_tag_ptr, a.node_key, a.node_val)
        self.add_items(np.full(len(rows), -1, dtype=np.int64), "node", a.node_id[rows], tags, geoms)

    def way_features(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """Open ways kept as features: lines through their nodes present in the file."""
        a = self.a
        ptr = a.way_ref_ptr
        n = ptr[rows + 1] - ptr[rows]
        items = _ranges(ptr[rows], n)
        owner = np.repeat(np.arange(len(rows)), n)
        ok = self.found[items]
        counts = np.bincount(owner[ok], minlength=len(rows))
        line = counts >= 2
        keep_item = ok & line[owner]
        idx = self.node_idx[items[keep_item]]
        coords = np.column_stack([self.xy[0][idx], self.xy[1][idx]])
        compact = (np.cumsum(line) - 1)[owner[keep_item]]
        geoms = shapely.linestrings(coords, indices=compact) if len(idx) else np.zeros(0, object)
        rows = rows[line]
        tags = self.tag_dicts(rows, a.way_tag_ptr, a.way_key, a.way_val)
        self.add_items(2 * rows, "way", a.way_id[rows], tags, np.asarray(geoms, dtype=object))
        del cols

    def pedestrian_ways(self, rows: np.ndarray) -> list[tuple[int, PedestrianArea]]:
        """Closed ways that are pedestrian areas (``_Pass.pedestrian_way``), with their keys."""
        a = self.a
        found: list[tuple[int, PedestrianArea]] = []
        tags = self.tag_dicts(rows, a.way_tag_ptr, a.way_key, a.way_val)
        for r, t in zip(rows.tolist(), tags, strict=True):
            s, e = int(a.way_ref_ptr[r]), int(a.way_ref_ptr[r + 1])
            if e - s < 4 or not bool(self.found[s:e].all()):
                continue
            idx = self.node_idx[s:e]
            ring = (a.way_ref[s:e].copy(), self.xy[0][idx], self.xy[1][idx])
            geom = shapely.make_valid(shapely.Polygon(np.column_stack([ring[1], ring[2]])))
            if not geom.is_empty and geom.area > 0:
                area = PedestrianArea("way", int(a.way_id[r]), t, [ring], [False], geom)
                found.append((2 * r, area))
        return found

    def walkable_ways(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """The walkable ways' runs of present nodes (``_Pass.walkable_way``)."""
        from ._pbf import present_runs

        a = self.a
        start, stop, owner, absent = present_runs(a.way_ref_ptr, rows, self.found)
        self.missing_nodes = int(absent.sum())
        self.clipped_ways = int(np.count_nonzero(absent))
        lengths = stop - start
        items = _ranges(start, lengths)
        idx = self.node_idx[items]
        self.parts = (
            _ptr_of(lengths),
            a.way_ref[items],
            self.xy[0][idx],
            self.xy[1][idx],
            a.way_id[owner],
        )
        # one dict per way, shared by its parts (as _Pass.walkable_way): built from one list
        # of pairs per distinct combination of the kept tags
        kept = [_COLUMN_KEYS.index(k) for k in _WAY_TAGS_KEPT]
        ways = owner[np.flatnonzero(np.diff(owner, prepend=-1))]  # owner is non-decreasing
        uniq, inverse = _distinct_rows(cols[ways][:, kept])
        text = self.a.strings
        pairs = [
            [(k, text[v]) for k, v in zip(_WAY_TAGS_KEPT, row, strict=True) if v >= 0]
            for row in uniq.tolist()
        ]
        dicts = [dict(pairs[i]) for i in inverse.tolist()]
        self.part_tags = [dicts[i] for i in np.searchsorted(ways, owner).tolist()]

    def areas(self, p: Path, tagged: np.ndarray, nref: np.ndarray, closed: np.ndarray) -> None:
        """Areas and relations through pyosmium, each area placed where the single pass puts it.

        libosmium hands areas over in batches, one when its buffer fills while a way is read
        (a closed way's area, or the last member of a multipolygon); the single pass sees a
        batch after the next tagged object. Here only the ways that can complete an area
        reach Python (an ``IdFilter``), so each batch's way is known, and its areas are
        placed after the next tagged way (key ``2 * way + 1``; after all ways: the end).
        """
        import osmium

        a = self.a
        n_ways = len(a.way_id)
        end = 2 * n_ways + 1
        first = a.way_ref_ptr[:-1]
        last = np.maximum(a.way_ref_ptr[1:] - 1, 0)
        can = tagged & (nref >= 4)
        f_idx, l_idx = self.node_idx[first[can]], self.node_idx[last[can]]
        same = self.found[first[can]] & self.found[last[can]]
        same &= (a.node_x[f_idx] == a.node_x[l_idx]) & (a.node_y[f_idx] == a.node_y[l_idx])
        pusher = np.zeros(n_ways, dtype=bool)
        pusher[np.flatnonzero(can)] = closed[can] | same
        members = a.rel_mem_id[a.rel_mem_type == 1]
        pusher[np.searchsorted(a.way_id, members[np.isin(members, a.way_id)])] = True
        rows = np.flatnonzero(pusher)
        tagged_rows = np.flatnonzero(tagged)
        nxt = np.searchsorted(tagged_rows, rows)
        anchor = np.full(len(rows), end, dtype=np.int64)
        ok = nxt < len(tagged_rows)
        anchor[ok] = 2 * tagged_rows[nxt[ok]] + 1
        ids = osmium.filter.IdFilter(a.way_id[rows].tolist())
        ids.enable_for(osmium.osm.WAY)
        rels = osmium.filter.EmptyTagFilter()
        rels.enable_for(osmium.osm.RELATION)
        keys = osmium.filter.KeyFilter(*sorted(self.feature_keys | {"highway"}))
        keys.enable_for(osmium.osm.AREA)
        kinds = osmium.osm.WAY | osmium.osm.RELATION | osmium.osm.AREA
        filters = [osmium.filter.EntityFilter(kinds), ids, rels, keys]
        pool = osmium.io.ThreadPool()
        manager = osmium.area.AreaManager()
        if len(a.rel_id):  # the first pass only collects the multipolygon relations
            with osmium.io.Reader(str(p), osmium.osm.RELATION, thread_pool=pool) as reader:
                osmium.apply(reader, manager.first_pass_handler())
        batches = osmium.BufferIterator(*filters)
        locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
        locations.ignore_errors()
        handlers = [locations, manager.second_pass_to_buffer(batches)]
        k = 0
        with osmium.io.Reader(str(p), thread_pool=pool) as reader:
            for obj in osmium.OsmFileIterator(reader, *handlers, *filters):
                if isinstance(obj, osmium.osm.Relation):
                    self.relation(obj)
                    key = end
                else:
                    key = int(anchor[k])
                    k += 1
                if batches:
                    for area in batches:
                        self.keyed_area(area, key)
        for area in batches:
            self.keyed_area(area, end)

    def keyed_area(self, obj: Any, key: int) -> None:
        """``_Pass.area`` with the area's place; a closed way's tags are the way's (arrays)."""
        if obj.from_way():  # its tags are the way's: whether it is kept is decided in run()
            way_id = obj.orig_id()
            try:
                raw: str | bytes = self.wkb.create_multipolygon(obj)
            except Exception:  # broken ring geometry: skip the area (counted in check)
                if self.fk_any[np.searchsorted(self.a.way_id, way_id)]:
                    self.broken_areas.append(("way", way_id))
                return
            self.feat_type.append("way")
            self.feat_id.append(way_id)
            self.feat_tags.append({})
            self.feat_wkb.append(bytes.fromhex(raw) if isinstance(raw, str) else raw)
            self.area_keys.append(key)
            self.from_way.append(True)
            return
        n_feat, n_ped = len(self.feat_id), len(self.pedestrian_areas)
        self.area(obj)
        self.from_way.extend([False] * (len(self.feat_id) - n_feat))
        self.area_keys.extend([key] * (len(self.feat_id) - n_feat))
        self.ped_keys.extend([key] * (len(self.pedestrian_areas) - n_ped))

    def way_areas(self) -> None:
        """Keep the closed ways' areas with a feature key, with the ways' tags."""
        a = self.a
        from_way = np.asarray(self.from_way, dtype=bool)
        ids = np.asarray(self.feat_id, dtype=np.int64)
        rows = np.searchsorted(a.way_id, ids[from_way])
        keep = np.ones(len(ids), dtype=bool)
        keep[from_way] = self.fk_any[rows]
        tags = iter(self.tag_dicts(rows[keep[from_way]], a.way_tag_ptr, a.way_key, a.way_val))
        kept = np.flatnonzero(keep).tolist()
        self.feat_type = [self.feat_type[i] for i in kept]
        self.feat_id = [self.feat_id[i] for i in kept]
        self.feat_tags = [next(tags) if from_way[i] else self.feat_tags[i] for i in kept]
        self.feat_wkb = [self.feat_wkb[i] for i in kept]
        self.area_keys = [self.area_keys[i] for i in kept]

    def walk_ways(self) -> WalkWays:
        ptr, node_id, lon, lat, way_id = self.parts
        return WalkWays(
            ptr=ptr, node_id=node_id, lon=lon, lat=lat, way_id=way_id, tags=self.part_tags
        )

    def features(self) -> gpd.GeoDataFrame:
        area_geoms = shapely.from_wkb(self.feat_wkb) if self.feat_wkb else np.zeros(0, object)
        keys = np.concatenate([*self.feat_keys, np.asarray(self.area_keys, dtype=np.int64)])
        geoms = np.concatenate([*self.feat_geoms, np.asarray(area_geoms, dtype=object)])
        types: list[str] = []
        tags: list[dict[str, str]] = []
        ids = []
        for t, i, g in self.feat_sources:
            types += t
            ids.append(i)
            tags += g
        types += self.feat_type
        tags += self.feat_tags
        ids.append(np.asarray(self.feat_id, dtype=np.int64))
        id_arr = np.concatenate(ids)
        if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
            order = np.argsort(keys, kind="stable")
            types = [types[i] for i in order.tolist()]
            tags = [tags[i] for i in order.tolist()]
            id_arr, geoms = id_arr[order], geoms[order]
        return _features_frame(types, id_arr, tags, geoms)


def _searchsorted(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.searchsorted(sorted_ids, ids)``, the two halves of ``ids`` on two threads.

    numpy releases the GIL while it searches.
    """
    half = len(ids) // 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(np.searchsorted, sorted_ids, ids[half:])
        first = np.searchsorted(sorted_ids, ids[:half])
        return np.concatenate([first, second.result()])


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - offsets, lengths) + np.arange(total)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an int64 matrix and each row's index among them.

    A 64-bit hash of each row groups them (``np.unique(axis=0)`` sorts rows, several times
    slower); the grouping is checked row by row, with ``np.unique`` if two rows collide.
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    mult = (np.arange(rows.shape[1], dtype=np.uint64) * golden) | np.uint64(1)
    with np.errstate(over="ignore"):
        h = (rows.astype(np.uint64) * mult).sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(29)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(rows, rows[first][inverse]):
        uniq, inv = np.unique(rows, axis=0, return_inverse=True)
        return uniq, inv.reshape(-1)
    return rows[first], inverse


def _ptr_of(lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _features_frame(
    types: list[str], ids: np.ndarray, tags: list[dict[str, str]], geoms: np.ndarray
) -> gpd.GeoDataFrame:
    """The features' GeoDataFrame (one row per element; exact duplicates dropped)."""
    features = gpd.GeoDataFrame(
        {
            "osm_type": types,
            "osm_id": np.asarray(ids, dtype=np.int64),
            "name": [t.get("name", t.get("name:zh", "")) for t in tags],
            "tags": tags,
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    # multipolygon relations and their closed member ways can both appear: keep both (they
    # are different OSM elements) but drop exact duplicates of the same element.
    return features.drop_duplicates(subset=["osm_type", "osm_id"]).reset_index(drop=True)
