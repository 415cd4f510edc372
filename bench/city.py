"""A synthetic city as an OSM ``.osm.pbf`` file: an n x n street grid with compounds and services.

The file is an ordinary OSM extract (nodes, then ways, ids positive and sorted), so
``fifteenmin report city.osm.pbf`` reads it like a real one. What it holds, around a chosen
point (default: Beijing, 116.35 E 39.99 N):

* **streets**: ``n`` east-west and ``n`` north-south lines, blocks 100-150 m wide (every row and
  column of blocks draws its own width), crossings jittered by up to 4 m. Hierarchy by line
  number: every 16th line ``primary``, every 8th ``secondary``, every 4th ``tertiary``, the
  rest ``residential``; named; split into ways at every 8th crossing. 3 % of the residential
  street segments are missing (dead ends);
* **footways** (``highway=footway``/``path``) across 10 % of the other blocks, through every
  compound, and along the former streets inside parks, joined to the streets mid-block;
* **neighbourhoods** of 6 x 6 blocks, each with one named residential compound
  (``landuse=residential``, ``name=…小区|…家园``) on one block, holding four apartment
  buildings (``building=apartments``, ``building:levels`` 6-30): the report's communities and
  resident origins;
* **services**: every item of the ``beijing`` catalogue, with tags its filter matches (checked
  by :func:`check_specs`), at a density per neighbourhood (bus stops, convenience stores,
  pharmacies dense; schools, clinics, libraries sparse). Everyday (mostly 5-minute) items are
  placed on the blocks around the compound, the others anywhere in the neighbourhood. Some
  are nodes, some building polygons (schools with an ``entrance=main`` node), sports pitches
  and parks are areas of the sizes the catalogue's area thresholds need. Districts of 4 x 4
  neighbourhoods lack an item with the item's ``absent`` probability, so coverage is not
  uniform. Every item has at least one facility (placed in the first neighbourhood if chance
  left it out); only ``park_15`` (a 3 x 3-block park) can be missing, in a city too small to
  hold one beside its compounds, and ``school_level_unknown`` (schools mapped without a level),
  since every school of the city is mapped with its level.

At ``n = 1000``: ~1.2 M network nodes, 27,556 compounds and 110,224 resident origins (the sizes
of the scale issue), ~0.2 M facility matches. The output depends only on ``(n, seed)`` (and the
centre): the same arguments give byte-identical files.

Usage::

    python bench/city.py 250 --out city_250.osm.pbf [--seed 0] [--lon 116.35 --lat 39.99]

Map data: synthetic (no OpenStreetMap data is used).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

LON0, LAT0 = 116.35, 39.99
BLOCK_MIN_M, BLOCK_MAX_M = 100.0, 150.0
JITTER_M = 4.0
NEIGHBOURHOOD = 6  # blocks per side of a neighbourhood (one compound each)
DISTRICT = 4  # neighbourhoods per side of a district (items absent per district)
WAY_CHUNK = 8  # street ways are split at every 8th crossing
REMOVED_SHARE = 0.03  # residential street segments left out
FOOTWAY_SHARE = 0.10  # other blocks crossed by a footway
COMPOUND_INSET_M = 8.0
POI_MARGIN_M = 12.0
PARK15_SHARE = 0.6  # districts with a large (3 x 3-block) park
PARK10_RATE = 0.1  # 1 x 2-block parks per neighbourhood
M_PER_DEG = 111_320.0
#: Items that may have no facility, and why (the city is too small to hold one).
MAY_BE_ABSENT = {
    "park_15": "needs 3 x 3 free blocks beside the compounds",
    "school_level_unknown": "every school of the city is mapped with its level",
}

_SYL1 = "安宝长朝崇春大德东芳丰福富广海和华欢惠吉佳嘉建锦京景静康乐丽利龙隆美明宁平清庆瑞润尚盛顺泰天通万祥兴星阳怡永裕远悦泽兆振志智"
_SYL2 = "安苑园庄城桥坊里营河湖山台门村林泉屯堡府亭塘湾坡店"


@dataclass(frozen=True)
class Poi:
    """How one catalogue item appears in the city.

    ``rate``: expected number per neighbourhood; ``near``: on the blocks around the compound
    (else anywhere in the neighbourhood); ``poly``: share drawn as polygons of ``size``
    metres (the others are nodes); ``building``: the ``building=*`` value of the polygons
    (None: an area, not a building); ``entrance``: polygons get an ``entrance=main`` node;
    ``edge``: nodes stand by the street (bus stops); ``absent``: probability that a district
    lacks the item; ``variants``: tag sets, ``{p}`` replaced by a place name.
    """

    item: str
    rate: float
    variants: tuple[Mapping[str, str], ...]
    near: bool = False
    poly: float = 0.0
    size: tuple[float, float] = (16.0, 12.0)
    building: str | None = "yes"
    entrance: bool = False
    edge: bool = False
    absent: float = 0.0


def _v(**tags: str) -> dict[str, str]:
    return {k.replace("__", ":"): v for k, v in tags.items()}


# fmt: off
POIS: tuple[Poi, ...] = (
    Poi("nursery", 0.08, (_v(amenity="childcare", name="{p}托育园"),), absent=0.3),
    Poi("kindergarten", 0.35, (_v(amenity="kindergarten", name="{p}幼儿园"),), near=True,
        poly=1.0, size=(40, 30), building=None, entrance=True, absent=0.1),
    Poi("primary_school", 0.12, (_v(amenity="school", school="primary", isced__level="1",
        name="{p}小学"),), poly=1.0, size=(70, 50), building=None, entrance=True),
    Poi("junior_middle_school", 0.08, (_v(amenity="school", school="secondary",
        isced__level="2", name="{p}中学"),), poly=1.0, size=(75, 55), building=None,
        entrance=True, absent=0.1),
    Poi("community_health_centre", 0.05, (_v(amenity="clinic", healthcare="clinic",
        name="{p}社区卫生服务中心"),), poly=1.0, size=(30, 20), entrance=True, absent=0.2),
    Poi("community_health_station", 0.15, (_v(amenity="clinic", healthcare="clinic",
        name="{p}社区卫生服务站"),), near=True, poly=0.3, absent=0.3),
    Poi("outpatient_clinic", 0.1, (_v(amenity="clinic", healthcare="clinic", name="{p}门诊部"),
        _v(amenity="doctors", healthcare="doctor", name="{p}诊所")), poly=0.3, absent=0.1),
    Poi("pharmacy", 0.45, (_v(amenity="pharmacy", healthcare="pharmacy", name="{p}大药房"),),
        near=True, poly=0.2, absent=0.05),
    Poi("elderly_day_care", 0.25, (_v(amenity="social_facility", social_facility="day_care",
        social_facility__for="senior", name="{p}养老驿站"),), near=True, absent=0.3),
    Poi("nursing_home", 0.04, (_v(amenity="social_facility", social_facility="nursing_home",
        social_facility__for="senior", name="{p}养老院"),), poly=1.0, size=(30, 18),
        absent=0.3),
    Poi("community_canteen", 0.06, (_v(amenity="restaurant", name="{p}社区食堂"),), near=True,
        absent=0.5),
    Poi("disability_service", 0.02, (_v(amenity="social_facility",
        social_facility__for="disabled", name="{p}温馨家园"),), absent=0.5),
    Poi("cultural_activity_centre", 0.03, (_v(amenity="community_centre",
        name="{p}文化活动中心"),), poly=1.0, size=(30, 20), absent=0.2),
    Poi("cultural_activity_station", 0.25, (_v(amenity="community_centre",
        name="{p}社区活动室"),), near=True, absent=0.2),
    Poi("library", 0.02, (_v(amenity="library", name="{p}图书馆"),), poly=0.5, absent=0.3),
    Poi("sports_centre", 0.02, (_v(leisure="sports_centre", name="{p}体育馆"),), poly=1.0,
        size=(40, 30), building="sports_hall", absent=0.3),
    Poi("large_sports_ground", 0.04, (_v(leisure="pitch", sport="soccer"),), poly=1.0,
        size=(75, 50), building=None, absent=0.3),
    Poi("medium_sports_ground", 0.06, (_v(leisure="pitch", sport="basketball"),), poly=1.0,
        size=(45, 32), building=None, absent=0.3),
    Poi("small_sports_ground", 0.15, (_v(leisure="pitch", sport="basketball"),), near=True,
        poly=1.0, size=(30, 29), building=None, absent=0.2),
    Poi("outdoor_fitness", 0.3, (_v(leisure="fitness_station"),), near=True, absent=0.1),
    Poi("gym", 0.05, (_v(leisure="fitness_centre", name="{p}健身房"),), poly=0.3, absent=0.2),
    Poi("playground", 0.35, (_v(leisure="playground"),), near=True, poly=0.5, size=(25, 20),
        building=None, absent=0.1),
    Poi("park_5", 0.2, (_v(leisure="park", name="{p}游园"),), near=True, poly=1.0,
        size=(70, 65), building=None, absent=0.2),
    Poi("community_service_station", 0.35, (_v(office="government", government="community",
        name="{p}社区居委会"),), near=True, poly=0.3, absent=0.1),
    Poi("subdistrict_service_centre", 0.02, (_v(office="government",
        name="{p}街道社区服务中心"),), poly=1.0, size=(30, 20), absent=0.2),
    Poi("subdistrict_office", 0.02, (_v(amenity="townhall", name="{p}街道办事处"),), poly=1.0,
        size=(30, 20), absent=0.2),
    Poi("judicial_office", 0.02, (_v(office="government", name="{p}司法所"),), absent=0.3),
    Poi("police_station", 0.03, (_v(amenity="police", name="{p}派出所"),), poly=1.0,
        absent=0.1),
    Poi("convenience_store", 0.7, (_v(shop="convenience", name="便利蜂"),
        _v(shop="convenience", name="物美便利店"), _v(shop="convenience", name="全家")),
        near=True, poly=0.1),
    Poi("supermarket", 0.1, (_v(shop="supermarket", name="物美超市"),
        _v(shop="supermarket", name="华联超市")), poly=1.0, size=(30, 25), building="retail",
        absent=0.1),
    Poi("fresh_market", 0.1, (_v(amenity="marketplace", name="{p}菜市场"),
        _v(shop="greengrocer", name="{p}果蔬店")), poly=0.5, size=(35, 25), absent=0.3),
    Poi("breakfast", 0.2, (_v(amenity="fast_food", cuisine="breakfast", name="{p}早餐"),),
        near=True, absent=0.2),
    Poi("restaurant", 0.4, (_v(amenity="restaurant", cuisine="chinese", name="{p}饭庄"),
        _v(amenity="fast_food", name="{p}快餐")), poly=0.2),
    Poi("hairdresser", 0.3, (_v(shop="hairdresser", name="{p}美发"),), near=True, absent=0.05),
    Poi("laundry", 0.15, (_v(shop="dry_cleaning", name="{p}洗衣"),), near=True, absent=0.2),
    Poi("repair_point", 0.1, (_v(craft="shoemaker", name="{p}修鞋配钥匙"),
        _v(shop="repair", name="{p}家电维修")), near=True, absent=0.3),
    Poi("shopping_mall", 0.02, (_v(shop="mall", name="{p}购物中心"),), poly=1.0,
        size=(60, 45), building="retail", absent=0.2),
    Poi("parcel_point", 0.3, (_v(amenity="parcel_locker", brand="丰巢", name="丰巢快递柜"),),
        near=True, absent=0.1),
    Poi("recycling_point", 0.25, (_v(amenity="recycling", recycling_type="container"),),
        near=True, absent=0.2),
    Poi("bookstore", 0.03, (_v(shop="books", name="{p}书店"),), absent=0.3),
    Poi("cafe_tea", 0.1, (_v(amenity="cafe", name="{p}咖啡"), _v(shop="tea", name="{p}茶庄"),
        _v(shop="bakery", name="{p}面包房")), absent=0.2),
    Poi("bank", 0.1, (_v(amenity="bank", name="中国工商银行{p}支行"),
        _v(amenity="bank", name="中国建设银行{p}支行")), poly=0.3, absent=0.1),
    Poi("post_office", 0.03, (_v(amenity="post_office", name="{p}邮政支局"),), poly=1.0,
        absent=0.2),
    Poi("telecom_outlet", 0.06, (_v(shop="mobile_phone", brand="中国移动",
        name="中国移动{p}营业厅"), _v(shop="mobile_phone", brand="中国联通",
        name="中国联通{p}营业厅")), absent=0.2),
    Poi("public_toilet", 0.25, (_v(amenity="toilets", access="yes", fee="no"),), near=True,
        poly=0.3, size=(8, 6), absent=0.1),
    Poi("bus_stop", 1.0, (_v(highway="bus_stop", public_transport="platform", bus="yes",
        name="{p}站"),), edge=True),
    Poi("metro_station", 0.06, (_v(railway="subway_entrance", name="{p}站"),), absent=0.5),
)
#: Parks drawn over several blocks (their inner streets become footways).
PARK_TAGS = _v(leisure="park", name="{p}公园")
PARK_ITEMS = ("park_15", "park_10")  # the items the multi-block parks exist for
# fmt: on


def _fill(tags: Mapping[str, str], place: str) -> dict[str, str]:
    return {k: v.replace("{p}", place) for k, v in tags.items()}


def check_specs(catalogue: Any) -> list[str]:
    """Problems of the tag tables against a catalogue (empty: every item is matched).

    Parameters
    ----------
    catalogue
        A :class:`fifteenmin.Catalogue` (normally ``load_catalogue("beijing")``).

    Returns
    -------
    list of str
        One message per catalogue item no table entry produces, and per tag set (as a node
        or as a polygon of its size) that its catalogue filter does not match.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> check_specs(fm.load_catalogue("beijing"))
    []
    """
    problems = []
    for poi in POIS:
        item = catalogue[poi.item]
        area = poi.size[0] * poi.size[1]
        for tags in poi.variants:
            full = _fill(tags, "和平")
            shapes: list[tuple[dict[str, str], float | None]] = []
            if poi.poly < 1:
                shapes.append((full, None))
            if poi.poly > 0:
                shapes.append(({**full, "building": poi.building} if poi.building else full, area))
            for t, a in shapes:
                if not item.matches(t, a):
                    problems.append(f"{poi.item}: {t} (area {a}) does not match")
    park = _fill(PARK_TAGS, "和平")
    for item_id, area in zip(PARK_ITEMS, (288.0 * 288.0, 188.0 * 88.0), strict=True):
        if not catalogue[item_id].matches(park, area):
            problems.append(f"{item_id}: {park} (area {area}) does not match")
    covered = {p.item for p in POIS} | set(PARK_ITEMS) | {"school_level_unknown"}
    problems += [f"{it.id}: no tags in the city" for it in catalogue if it.id not in covered]
    return problems


class _Osm:
    """OSM elements in the making: node coordinates (metres), node tags, ways."""

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self.n_nodes = 0
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def nodes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Add untagged nodes; return their ids."""
        x = np.asarray(x, dtype=np.float64).ravel()
        ids = np.arange(self.n_nodes + 1, self.n_nodes + 1 + len(x), dtype=np.int64)
        self._x.append(x)
        self._y.append(np.asarray(y, dtype=np.float64).ravel())
        self.n_nodes += len(x)
        return ids

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        """Add one node (tagged if ``tags``); return its id."""
        nid = int(self.nodes(np.array([x]), np.array([y]))[0])
        if tags:
            self.node_tags[nid] = tags
        return nid

    def way(self, refs: list[int], tags: dict[str, str]) -> int:
        """Add a way; return its id."""
        self.ways.append((refs, tags))
        return len(self.ways)

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, tags: dict[str, str], entrance: bool
    ) -> int:
        """A closed way around a rectangle (with an ``entrance=main`` node mid-south)."""
        xs = [x0, x1, x1, x0]
        ys = [y0, y0, y1, y1]
        if entrance:
            xs.insert(1, (x0 + x1) / 2)
            ys.insert(1, y0)
        ids = self.nodes(np.array(xs), np.array(ys)).tolist()
        if entrance:
            self.node_tags[ids[1]] = {"entrance": "main"}
        return self.way([*ids, ids[0]], tags)

    def lonlat(self, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
        """Node coordinates in degrees (equirectangular around the centre)."""
        x = np.concatenate(self._x) if self._x else np.zeros(0)
        y = np.concatenate(self._y) if self._y else np.zeros(0)
        lat = lat0 + y / M_PER_DEG
        lon = lon0 + x / (M_PER_DEG * math.cos(math.radians(lat0)))
        return np.round(lon, 7), np.round(lat, 7)

    def write(self, path: Path, lon0: float, lat0: float) -> None:
        """Write the file: header with the bounding box, nodes, then ways, ids ascending."""
        import osmium
        from osmium.osm.mutable import Node, Way

        lon, lat = self.lonlat(lon0, lat0)
        header = osmium.io.Header()
        header.set("generator", "fifteenmin bench/city.py")
        header.add_box(
            osmium.osm.Box(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = osmium.SimpleWriter(str(path), header=header, overwrite=True)
        try:
            tags = self.node_tags
            for k, (lo, la) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True), start=1):
                writer.add_node(Node(id=k, location=(lo, la), tags=tags.get(k)))
            for k, (refs, wtags) in enumerate(self.ways, start=1):
                writer.add_way(Way(id=k, nodes=refs, tags=wtags))
        finally:
            writer.close()


def _places(rng: np.random.Generator, k: int) -> list[str]:
    """``k`` two-character place names."""
    a = rng.integers(0, len(_SYL1), k)
    b = rng.integers(0, len(_SYL2), k)
    return [_SYL1[i] + _SYL2[j] for i, j in zip(a.tolist(), b.tolist(), strict=True)]


def road_class(line: int) -> str:
    """``highway=*`` of street line ``line`` (the hierarchy by line number).

    Examples
    --------
    >>> [road_class(i) for i in (0, 4, 8, 16, 3)]
    ['primary', 'tertiary', 'secondary', 'primary', 'residential']
    """
    if line % 16 == 0:
        return "primary"
    if line % 8 == 0:
        return "secondary"
    if line % 4 == 0:
        return "tertiary"
    return "residential"


@dataclass
class _City:
    """The street grid and the blocks' use, in metres (x east, y north, centre at 0)."""

    n: int
    xs: np.ndarray  # (n,) column line positions
    ys: np.ndarray  # (n,) row line positions
    node: np.ndarray  # (n, n) node ids of the crossings, [row, col]
    X: np.ndarray  # (n, n) jittered coordinates of the crossings
    Y: np.ndarray
    h_ok: np.ndarray  # (n, n-1) east-west segment present, [row, col]
    v_ok: np.ndarray  # (n-1, n) north-south segment present
    h_foot: np.ndarray  # (n, n-1) segment inside a park: a footway
    v_foot: np.ndarray
    h_mid: np.ndarray  # (n, n-1) id of the mid-block node where a footway joins (0: none)
    v_mid: np.ndarray
    used: np.ndarray  # (n-1, n-1) block taken by a compound or a park
    compound: np.ndarray  # (k, 2) compound blocks [row, col], one per neighbourhood

    @property
    def n_nbhd(self) -> int:
        return (self.n - 1) // NEIGHBOURHOOD


def _grid(osm: _Osm, n: int, rng: np.random.Generator) -> _City:
    widths = rng.uniform(BLOCK_MIN_M, BLOCK_MAX_M, (2, n - 1))
    xs = np.concatenate([[0.0], np.cumsum(widths[0])])
    ys = np.concatenate([[0.0], np.cumsum(widths[1])])
    xs -= xs[-1] / 2
    ys -= ys[-1] / 2
    X = xs[None, :] + rng.uniform(-JITTER_M, JITTER_M, (n, n))
    Y = ys[:, None] + rng.uniform(-JITTER_M, JITTER_M, (n, n))
    node = osm.nodes(X, Y).reshape(n, n)
    k = (n - 1) // NEIGHBOURHOOD
    off = rng.integers(1, NEIGHBOURHOOD - 1, (k * k, 2))
    a, b = np.divmod(np.arange(k * k), k)
    compound = np.column_stack([a, b]) * NEIGHBOURHOOD + off
    used = np.zeros((n - 1, n - 1), dtype=bool)
    used[compound[:, 0], compound[:, 1]] = True
    return _City(
        n=n,
        xs=xs,
        ys=ys,
        node=node,
        X=X,
        Y=Y,
        h_ok=np.ones((n, n - 1), dtype=bool),
        v_ok=np.ones((n - 1, n), dtype=bool),
        h_foot=np.zeros((n, n - 1), dtype=bool),
        v_foot=np.zeros((n - 1, n), dtype=bool),
        h_mid=np.zeros((n, n - 1), dtype=np.int64),
        v_mid=np.zeros((n - 1, n), dtype=np.int64),
        used=used,
        compound=compound,
    )


def _park_fits(city: _City, r: int, c: int, rows: int, cols: int) -> bool:
    """A park over blocks [r, r+rows) x [c, c+cols): free blocks, residential inner lines."""
    if r < 0 or c < 0 or r + rows > city.n - 1 or c + cols > city.n - 1:
        return False
    inner = [*range(r + 1, r + rows), *range(c + 1, c + cols)]
    if any(road_class(i) != "residential" for i in inner):
        return False
    return not city.used[r : r + rows, c : c + cols].any()


def _park(osm: _Osm, city: _City, r: int, c: int, rows: int, cols: int, place: str) -> None:
    """Draw a park over several blocks; its inner street segments become footways."""
    city.used[r : r + rows, c : c + cols] = True
    city.h_foot[r + 1 : r + rows, c : c + cols] = True
    city.v_foot[r : r + rows, c + 1 : c + cols] = True
    m = 6.0
    x0, x1 = city.xs[c] + m, city.xs[c + cols] - m
    y0, y1 = city.ys[r] + m, city.ys[r + rows] - m
    osm.rect(x0, y0, x1, y1, _fill(PARK_TAGS, place), entrance=False)


def _parks(osm: _Osm, city: _City, rng: np.random.Generator) -> dict[str, int]:
    """Large parks (3 x 3 blocks, one per district by chance) and 1 x 2-block parks."""
    counts = {"park_15": 0, "park_10": 0}
    span = NEIGHBOURHOOD * DISTRICT
    n_dist = max(1, math.ceil(city.n_nbhd / DISTRICT))
    for d in range(n_dist * n_dist):
        if rng.random() >= PARK15_SHARE:
            continue
        r0, c0 = divmod(d, n_dist)
        for _ in range(10):
            r, c = r0 * span + int(rng.integers(0, span)), c0 * span + int(rng.integers(0, span))
            if r % 4 < 2 and c % 4 < 2 and _park_fits(city, r, c, 3, 3):
                _park(osm, city, r, c, 3, 3, _places(rng, 1)[0])
                counts["park_15"] += 1
                break
    if counts["park_15"] == 0:  # at least one, wherever it fits
        for r, c in np.ndindex(city.n - 1, city.n - 1):
            if _park_fits(city, r, c, 3, 3):
                _park(osm, city, r, c, 3, 3, _places(rng, 1)[0])
                counts["park_15"] += 1
                break
    n10 = rng.binomial(max(1, city.n_nbhd**2), PARK10_RATE)
    for _ in range(max(1, n10) * 10):
        if counts["park_10"] >= max(1, n10):
            break
        r, c = (int(v) for v in rng.integers(0, city.n - 1, 2))
        if _park_fits(city, r, c, 1, 2):
            _park(osm, city, r, c, 1, 2, _places(rng, 1)[0])
            counts["park_10"] += 1
    return counts


def _remove_segments(city: _City, rng: np.random.Generator) -> None:
    """Leave out a few residential segments (not next to compounds, not in parks)."""
    n = city.n
    res = np.array([road_class(i) == "residential" for i in range(n)])
    h_cut = res[:, None] & (rng.random((n, n - 1)) < REMOVED_SHARE) & ~city.h_foot
    v_cut = res[None, :] & (rng.random((n - 1, n)) < REMOVED_SHARE) & ~city.v_foot
    r, c = city.compound[:, 0], city.compound[:, 1]
    h_cut[r, c] = h_cut[r + 1, c] = False
    v_cut[r, c] = v_cut[r, c + 1] = False
    city.h_ok &= ~h_cut
    city.v_ok &= ~v_cut


def _mid(osm: _Osm, city: _City, horizontal: bool, j: int, i: int, t: float) -> int:
    """The mid-block node of a segment (created once, shared by the footways that join it)."""
    mids = city.h_mid if horizontal else city.v_mid
    if mids[j, i] == 0:
        j2, i2 = (j, i + 1) if horizontal else (j + 1, i)
        x = city.X[j, i] + t * (city.X[j2, i2] - city.X[j, i])
        y = city.Y[j, i] + t * (city.Y[j2, i2] - city.Y[j, i])
        mids[j, i] = osm.nodes(np.array([x]), np.array([y]))[0]
    return int(mids[j, i])


def _footways(osm: _Osm, city: _City, rng: np.random.Generator) -> int:
    """Footways across 10 % of the free blocks and through every compound."""
    n = city.n
    pick = (rng.random((n - 1, n - 1)) < FOOTWAY_SHARE) & ~city.used
    pick[city.compound[:, 0], city.compound[:, 1]] = True
    rr, cc = np.nonzero(pick)
    ns = rng.random(len(rr)) < 0.5
    ns[city.used[rr, cc]] = True  # compounds: south gate to north gate
    t = rng.uniform(0.35, 0.65, (len(rr), 3))
    kind = np.where(rng.random(len(rr)) < 0.7, "footway", "path")
    made = 0
    for k, (r, c) in enumerate(zip(rr.tolist(), cc.tolist(), strict=True)):
        if ns[k] and city.h_ok[r, c] and city.h_ok[r + 1, c]:
            a = _mid(osm, city, True, r, c, t[k, 0])
            b = _mid(osm, city, True, r + 1, c, t[k, 1])
        elif not ns[k] and city.v_ok[r, c] and city.v_ok[r, c + 1]:
            a = _mid(osm, city, False, r, c, t[k, 0])
            b = _mid(osm, city, False, r, c + 1, t[k, 1])
        else:
            continue
        mx = city.xs[c] + t[k, 2] * (city.xs[c + 1] - city.xs[c])
        my = city.ys[r] + t[k, 1] * (city.ys[r + 1] - city.ys[r])
        bend = int(osm.nodes(np.array([mx]), np.array([my]))[0])
        osm.way([a, bend, b], {"highway": str(kind[k])})
        made += 1
    return made


def _line_ways(
    osm: _Osm,
    nodes: np.ndarray,
    mids: np.ndarray,
    ok: np.ndarray,
    foot: np.ndarray,
    tags: dict[str, str],
) -> int:
    """The ways of one street line: split at every 8th crossing, at gaps and at parks."""
    made = 0
    refs: list[int] = []
    cur: bool | None = None
    for i in range(len(ok)):
        start = i % WAY_CHUNK == 0 or not ok[i - 1] or foot[i] != cur
        if refs and (start or not ok[i]):
            osm.way(refs, {"highway": "footway"} if cur else dict(tags))
            made += 1
            refs = []
        if not ok[i]:
            continue
        if not refs:
            refs = [int(nodes[i])]
            cur = bool(foot[i])
        if mids[i]:
            refs.append(int(mids[i]))
        refs.append(int(nodes[i + 1]))
    if refs:
        osm.way(refs, {"highway": "footway"} if cur else dict(tags))
        made += 1
    return made


def _streets(osm: _Osm, city: _City, rng: np.random.Generator) -> int:
    """Every street line's ways (east-west lines are 街, north-south lines 路)."""
    made = 0
    names = _places(rng, 2 * city.n)
    for j in range(city.n):
        suffix = "大街" if road_class(j) in ("primary", "secondary") else "街"
        tags = {"highway": road_class(j), "name": names[j] + suffix}
        made += _line_ways(osm, city.node[j], city.h_mid[j], city.h_ok[j], city.h_foot[j], tags)
    for i in range(city.n):
        tags = {"highway": road_class(i), "name": names[city.n + i] + "路"}
        made += _line_ways(
            osm, city.node[:, i], city.v_mid[:, i], city.v_ok[:, i], city.v_foot[:, i], tags
        )
    return made


def _compounds(osm: _Osm, city: _City, rng: np.random.Generator) -> tuple[int, int]:
    """One named compound per neighbourhood, four apartment buildings in it."""
    k = len(city.compound)
    names = _places(rng, k)
    levels = rng.integers(6, 31, (k, 4))
    depth = rng.uniform(12.0, 16.0, (k, 4))
    m = COMPOUND_INSET_M
    for q, (r, c) in enumerate(city.compound.tolist()):
        x0, x1 = city.xs[c] + m, city.xs[c + 1] - m
        y0, y1 = city.ys[r] + m, city.ys[r + 1] - m
        tags = {"landuse": "residential", "name": names[q] + ("小区" if q % 2 else "家园")}
        osm.rect(x0, y0, x1, y1, tags, entrance=False)
        qw, qh = (x1 - x0) / 2, (y1 - y0) / 2
        for b, (bx, by) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
            cx, cy = x0 + (bx + 0.5) * qw, y0 + (by + 0.5) * qh
            half_l, half_d = (qw - 12.0) / 2, depth[q, b] / 2
            btags = {
                "building": "apartments",
                "building:levels": str(int(levels[q, b])),
                "name": f"{b + 1}号楼",
            }
            osm.rect(cx - half_l, cy - half_d, cx + half_l, cy + half_d, btags, entrance=False)
    return k, 4 * k


_NEAR = np.array([(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)])


def _poi_blocks(city: _City, poi: Poi, rng: np.random.Generator) -> np.ndarray:
    """Blocks [row, col] of one item's instances (per neighbourhood, districts absent)."""
    k = city.n_nbhd
    whole, frac = divmod(poi.rate, 1.0)
    count = int(whole) + (rng.random(k * k) < frac)
    n_dist = max(1, math.ceil(k / DISTRICT))
    absent = rng.random(n_dist * n_dist) < poi.absent
    a, b = np.divmod(np.arange(k * k), k)
    count = np.where(absent[(a // DISTRICT) * n_dist + b // DISTRICT], 0, count)
    nb = np.repeat(np.arange(k * k), count)
    if poi.near:
        blocks = city.compound[nb] + _NEAR[rng.integers(0, len(_NEAR), len(nb))]
    else:
        corner = np.column_stack([a[nb], b[nb]]) * NEIGHBOURHOOD
        blocks = corner + rng.integers(0, NEIGHBOURHOOD, (len(nb), 2))
    return blocks


def _pois(osm: _Osm, city: _City, rng: np.random.Generator) -> dict[str, int]:
    """Every item's services (nodes and polygons); returns the number per item."""
    counts = {}
    for poi in POIS:
        blocks = _poi_blocks(city, poi, rng)
        poly = rng.random(len(blocks)) < poi.poly
        keep = ~(poly & city.used[blocks[:, 0], blocks[:, 1]])
        blocks, poly = blocks[keep], poly[keep]
        if len(blocks) == 0:  # every item is somewhere: the first free block will do
            free = np.argwhere(~city.used[:NEIGHBOURHOOD, :NEIGHBOURHOOD])
            blocks, poly = free[:1], np.array([poi.poly > 0])
        variant = rng.integers(0, len(poi.variants), len(blocks))
        places = _places(rng, len(blocks))
        u = rng.random((len(blocks), 2))
        for q, (r, c) in enumerate(blocks.tolist()):
            tags = _fill(poi.variants[variant[q]], places[q])
            _one_poi(osm, city, poi, r, c, u[q], tags, bool(poly[q]))
        counts[poi.item] = len(blocks)
    return counts


def _one_poi(
    osm: _Osm,
    city: _City,
    poi: Poi,
    r: int,
    c: int,
    u: np.ndarray,
    tags: dict[str, str],
    poly: bool,
) -> None:
    """One service on block (r, c) at relative position ``u``."""
    m = POI_MARGIN_M
    x0, x1 = city.xs[c] + m, city.xs[c + 1] - m
    y0, y1 = city.ys[r] + m, city.ys[r + 1] - m
    if poly:
        w, h = poi.size
        px = x0 + u[0] * max(0.0, x1 - x0 - w)
        py = y0 + u[1] * max(0.0, y1 - y0 - h)
        if poi.building:
            tags = {**tags, "building": poi.building}
        osm.rect(px, py, px + w, py + h, tags, entrance=poi.entrance)
    elif poi.edge:  # by the street, 6 m inside the block's south edge
        osm.node(city.xs[c] + m + u[0] * (x1 - x0), city.ys[r] + 6.0, tags)
    else:
        osm.node(x0 + u[0] * (x1 - x0), y0 + u[1] * (y1 - y0), tags)


def write_city(
    n: int, path: str | Path, seed: int = 0, *, lon: float = LON0, lat: float = LAT0
) -> dict[str, Any]:
    """Write a synthetic city of ``n`` x ``n`` streets to an ``.osm.pbf`` (or ``.osm``) file.

    Parameters
    ----------
    n
        Streets per direction (at least 8): ``(n - 1)**2`` blocks and
        ``((n - 1) // 6)**2`` neighbourhoods, each with one compound.
    path
        The output file (overwritten); its suffix chooses the format.
    seed
        Random seed: the same ``(n, seed)`` gives the same file, byte for byte.
    lon, lat
        The centre of the city.

    Returns
    -------
    dict
        Counts: ``nodes``, ``tagged_nodes``, ``ways`` (every way is tagged), ``crossings``,
        ``street_ways``, ``footways``, ``compounds``, ``buildings`` (apartments), ``pois``
        (service features), ``items`` (features per catalogue item), ``seconds``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "city.osm.pbf"
    >>> write_city(8, out)["compounds"]
    1
    """
    if n < NEIGHBOURHOOD + 2:
        raise ValueError(f"n must be at least {NEIGHBOURHOOD + 2} (one neighbourhood), not {n}")
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, n])
    osm = _Osm()
    city = _grid(osm, n, rng)
    parks = _parks(osm, city, rng)
    _remove_segments(city, rng)
    footways = _footways(osm, city, rng)
    compounds, buildings = _compounds(osm, city, rng)
    items = _pois(osm, city, rng)
    items.update(parks)
    street_ways = _streets(osm, city, rng)
    osm.write(Path(path), lon, lat)
    return {
        "n": n,
        "seed": seed,
        "nodes": osm.n_nodes,
        "tagged_nodes": len(osm.node_tags),
        "ways": len(osm.ways),
        "crossings": n * n,
        "street_ways": street_ways,
        "footways": footways,
        "compounds": compounds,
        "buildings": buildings,
        "pois": sum(items.values()),
        "items": items,
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python bench/city.py N --out FILE [--seed S]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="streets per direction (n x n crossings)")
    ap.add_argument("--out", help="output file (default city_N.osm.pbf)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lon", type=float, default=LON0)
    ap.add_argument("--lat", type=float, default=LAT0)
    args = ap.parse_args(argv)
    out = Path(args.out or f"city_{args.n}.osm.pbf")
    c = write_city(args.n, out, args.seed, lon=args.lon, lat=args.lat)
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {c['seconds']:.1f} s: "
        f"{c['nodes']:,} nodes ({c['tagged_nodes']:,} tagged), {c['ways']:,} ways; "
        f"{c['street_ways']:,} street ways, {c['footways']:,} footways, "
        f"{c['compounds']:,} compounds, {c['buildings']:,} apartment buildings, "
        f"{c['pois']:,} services"
    )


if __name__ == "__main__":
    main()
