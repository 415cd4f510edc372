"""Every default of fifteenmin, in one place.

Like osmnx's ``settings`` module, this module holds the values that the rest of the library
and the command line use when the caller does not give one. Nothing else defines a default:
a function's keyword default, a CLI option's default and a :class:`~fifteenmin.config.RunConfig`
field all read their value from here. To change a run, pass the value (or a
:class:`~fifteenmin.config.RunConfig`); the constants are documented defaults, not global
switches.

Examples
--------
>>> from fifteenmin import settings
>>> round(settings.WALK_SPEED_M_S, 2), settings.THRESHOLD
(1.11, 0.8)
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = [
    "ADMIN_COMPLETE_SHARE",
    "ATTRIBUTION",
    "ATTRIBUTION_HTML",
    "BANDS",
    "BOUNDARY_SPACING_M",
    "CATALOGUE",
    "COMMUNITY_SIZE_HA",
    "COMMUNITY_TYPE_COLUMNS",
    "COMMUNITY_WALK_MINUTES",
    "COMPOUND_BARRIER_SHARE",
    "CUTOFF_MARGIN_MIN",
    "DISTRICT_ADMIN_LEVELS",
    "ENGINE",
    "ENGINES",
    "FLOOR_AREA_PER_PERSON_M2",
    "GRID_SIZE_M",
    "HTML_AREA_FILE_COMMUNITIES",
    "HTML_AREA_FOLDER",
    "HTML_CITY_AREA_MIN_HOLE_M2",
    "HTML_CITY_AREA_SIMPLIFY_M",
    "HTML_CITY_CHUNK",
    "HTML_CITY_COORD_SCALE",
    "HTML_CITY_FACILITIES_SHOWN",
    "HTML_CITY_MIN_COMMUNITIES",
    "HTML_CITY_SIMPLIFY_M",
    "ISOCHRONE_BUFFER_M",
    "ISOCHRONE_QUAD_SEGS",
    "LANG",
    "LANGS",
    "LICENCE_TEXT",
    "MAX_SNAP_M",
    "MINUTE_CLASSES",
    "OLD_COMPOUND_BUILT_BY",
    "OPENING_HOURS_AT",
    "OPENING_HOURS_WEEK",
    "OUT_DIR",
    "PEDESTRIAN_AREAS",
    "PEDESTRIAN_AREA_STRETCH",
    "PEOPLE_PER_STREET_M",
    "POI_SOURCES",
    "POI_SYSTEMS",
    "POPULATION_MAX_DISTANCE_M",
    "PROGRESS",
    "ROLLUP_MOST_MISSING",
    "SCORE_CLASSES",
    "SPEED_PROFILES",
    "STREET_SPACING_M",
    "THRESHOLD",
    "TILE_MARGIN_FACTOR",
    "WALKING_AREA_CHUNK",
    "WALKING_AREA_GRID_M",
    "WALKING_AREA_MAP_EXACT_MAX",
    "WALKING_AREA_MAP_GRID_M",
    "WALKING_AREA_MAP_SIMPLIFY_M",
    "WALK_SPEED_M_S",
    "XLSX_LONG_MAX_ROWS",
]

# -- walking ----------------------------------------------------------------------------------

#: Default walking speed: 1,000 m in 15 minutes (GB 50180-2018 gives 800-1,000 m for the
#: 15-minute life circle), 1.11 m/s.
WALK_SPEED_M_S: Final[float] = 1000.0 / 900.0

#: Walking-speed profiles in m/s, named by catalogue items' ``speed_profile``.
#:
#: * ``default``: 1,000 m in 15 minutes (1.11 m/s), the distance GB 50180-2018 gives for the
#:   15-minute life circle (a planning speed, not a measurement);
#: * ``adult``: 1.43 m/s (5.14 km/h), the median walking speed of adults measured in Helsinki in
#:   the dry season (Willberg, Fink & Toivonen 2023, "The 15-minute city for all?", Journal of
#:   Transport Geography; data: DigitalGeographyLab/15_minute_city_for_all_article);
#: * ``elderly``: 1.0 m/s (3.6 km/h), the 25th percentile of elderly pedestrians in the same
#:   measurements (their median is 1.20 m/s dry, 1.14 m/s in winter): three in four older
#:   walkers are at least this fast, which is what an elderly-care catchment should serve.
SPEED_PROFILES: Final = MappingProxyType({"default": WALK_SPEED_M_S, "adult": 1.43, "elderly": 1.0})

# -- routing ----------------------------------------------------------------------------------

#: Points farther than this (metres) from every street are left unconnected (with a warning).
MAX_SNAP_M: Final[float] = 500.0

#: Minutes added to the largest tier for the search cutoff, so that medians and 90th
#: percentiles a little beyond the tier are still reported.
CUTOFF_MARGIN_MIN: Final[float] = 10.0

#: Shortest-path engines: ``auto`` (numba if installed, else scipy), ``numba``, ``scipy``.
ENGINES: Final[tuple[str, ...]] = ("auto", "numba", "scipy")
#: Default shortest-path engine.
ENGINE: Final[str] = "auto"

# -- tiles (``fifteenmin report --tiles N``) ---------------------------------------------------

#: A tile's margin is the longest search cutoff of the run (metres) times this factor, plus
#: the snapping distance twice. Network distance is never shorter than straight-line
#: distance, but the margin is measured in the network's UTM coordinates, which stretch true
#: distances by up to 0.1 % inside the zone and about 0.4 % at 3 degrees beyond it; 1 %
#: covers areas up to about 8 degrees of longitude from their zone's central meridian.
TILE_MARGIN_FACTOR: Final[float] = 1.01

# -- facilities and residents -----------------------------------------------------------------

#: Polygon facilities without mapped entrances are reached through points this far apart (m)
#: along their boundary.
BOUNDARY_SPACING_M: Final[float] = 25.0

#: Without buildings, residents are points this far apart (m) along the streets of a community.
STREET_SPACING_M: Final[float] = 50.0

#: Without community polygons or residential areas in the data, the area is cut into square
#: communities of this size (m).
GRID_SIZE_M: Final[float] = 500.0

#: Population features farther than this (m) from every resident origin of their community
#: are spread over the community's origins instead.
POPULATION_MAX_DISTANCE_M: Final[float] = 250.0

# -- coverage ---------------------------------------------------------------------------------

#: Default catalogue.
CATALOGUE: Final[str] = "beijing"

#: Share of a community's residents within an item's tier for the item to count as met.
THRESHOLD: Final[float] = 0.8

#: Score bands of the composite index (lower bound inclusive, label): 优 / 良 / 中 / 差.
BANDS: Final[tuple[tuple[float, str], ...]] = (
    (90.0, "A"),
    (75.0, "B"),
    (50.0, "C"),
    (0.0, "D"),
)

# -- walking areas (isochrones) ---------------------------------------------------------------

#: Half-width in metres of the area drawn around every reached street piece (half a street
#: plus the access walk to the doors; osmnx's example edge buffer).
ISOCHRONE_BUFFER_M: Final[float] = 25.0
#: Segments per quarter circle of the round buffer caps and joins (shapely's default).
ISOCHRONE_QUAD_SEGS: Final[int] = 8
#: Minutes of the communities' walking areas drawn on the report's map.
COMMUNITY_WALK_MINUTES: Final[float] = 15.0

# -- walking areas at scale ---------------------------------------------------------------------

#: Communities whose walking areas are computed together (one bounded search for all of them,
#: vectorised edge cutting): bounds the memory of the working arrays, never changes a result.
WALKING_AREA_CHUNK: Final[int] = 256
#: Tolerance in metres of the simplification of the walking areas drawn on the report's map
#: (about a pixel at zoom 17); the analysis API does not simplify unless asked.
WALKING_AREA_MAP_SIMPLIFY_M: Final[float] = 1.0

# -- walking areas on a grid -------------------------------------------------------------------

#: Grid step in metres of the fast ("raster") walking areas: the distance to the reached
#: streets is sampled every this many metres and contoured at the buffer width; boundaries
#: are within about half a step of the exact union's (bench/WALKING_AREAS.md).
WALKING_AREA_GRID_M: Final[float] = 5.0
#: The report's map draws the exact walking areas (simplified by WALKING_AREA_MAP_SIMPLIFY_M)
#: of up to this many communities (~30-40 ms of CPU each), and raster ones (about 10x faster,
#: within ~3 m; not simplified: the city layout simplifies them by 8 m) of more.
WALKING_AREA_MAP_EXACT_MAX: Final[int] = 500

# -- the report map's raster walking areas -----------------------------------------------------

#: Grid step in metres of the raster walking areas drawn on the report's map (above
#: WALKING_AREA_MAP_EXACT_MAX communities), which simplifies them by HTML_CITY_AREA_SIMPLIFY_M
#: = 8 m anyway: within ~6 m of the exact union before that simplification, at a third of the
#: 5 m grid's cost (bench/WALKING_AREAS.md, "The map's grid").
WALKING_AREA_MAP_GRID_M: Final[float] = 10.0

# -- outputs ----------------------------------------------------------------------------------

#: The OpenStreetMap attribution every output carries (ODbL 1.0).
ATTRIBUTION: Final[str] = (
    "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"
)
#: The licence paragraph of README.txt files in output folders.
LICENCE_TEXT: Final[tuple[str, ...]] = (
    "Map data " + ATTRIBUTION + ".",
    "The data in this folder is derived from OpenStreetMap and is available under the Open",
    "Database License 1.0 (https://opendatacommons.org/licenses/odbl/1-0/): attribute",
    "'(c) OpenStreetMap contributors' when you share it or anything made from it.",
)
#: The same attribution as HTML (map attribution control, page footer).
ATTRIBUTION_HTML: Final[str] = (
    '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>, '
    '<a href="https://opendatacommons.org/licenses/odbl/1-0/">ODbL 1.0</a>'
)

#: Languages of labels and reports.
LANGS: Final[tuple[str, ...]] = ("en", "zh")
#: Default language.
LANG: Final[str] = "en"

#: Progress bars of long loops: True always, False never, None (default) only on a terminal
#: or in a notebook (:func:`fifteenmin._progress.show_progress` changes it for a session).
PROGRESS: Final[bool | None] = None

#: Score classes of maps: ``(lower, upper, colour)``; the last class includes 1.0
#: (ColorBrewer RdYlGn, 5 classes).
SCORE_CLASSES: Final[tuple[tuple[float, float, str], ...]] = (
    (0.0, 0.2, "#d7191c"),
    (0.2, 0.4, "#fdae61"),
    (0.4, 0.6, "#ffffbf"),
    (0.6, 0.8, "#a6d96a"),
    (0.8, 1.0, "#1a9641"),
)
#: Walking-minute classes of travel-time maps (viridis, reversed: near is yellow).
MINUTE_CLASSES: Final[tuple[tuple[float, float, str], ...]] = (
    (0.0, 5.0, "#fde725"),
    (5.0, 10.0, "#5ec962"),
    (10.0, 15.0, "#21918c"),
    (15.0, 20.0, "#3b528b"),
    (20.0, 30.0, "#440154"),
)

#: Default output folder of ``fifteenmin report``.
OUT_DIR: Final[str] = "fifteenmin-report"

# -- POI exports and facility ledgers (fifteenmin.poi) -----------------------------------------

#: Where a POI table comes from: a Chinese web map's export, or the user's facility ledger
#: (台账). ``--poi-source`` chooses one; by default it is guessed from the columns.
POI_SOURCES: Final[tuple[str, ...]] = ("amap", "baidu", "tencent", "ledger")
#: The datum of each web map's coordinates (Amap and Tencent GCJ-02, Baidu BD-09; see
#: :mod:`fifteenmin._coords`), used when a file does not say and ``--poi-crs`` is not given.
POI_SYSTEMS: Final[dict[str, str]] = {"amap": "gcj02", "baidu": "bd09", "tencent": "gcj02"}

# -- people, rates and roll-ups (issue 13) ----------------------------------------------------

#: Residential floor area per resident (m²) that turns the floor area of the OSM residential
#: buildings (footprint x ``building:levels``) into people when there is no population layer:
#: 33.41 m², the per-capita housing area (人均居住面积) of Beijing's urban family
#: households in the 2020 census (第七次全国人口普查), National Bureau of Statistics,
#: 《中国人口普查年鉴-2020》 housing tables (城市家庭户), as reported by 北京日报, 2022-06-27
#: ("北京城市家庭人均居住面积为33.41平方米，平均每户居住面积达到77.64平方米"; 77.64 / 33.41 =
#: 2.32 people per household, matching the census's 2.31). It counts family households only
#: (collective households — dormitories — are 13.1 % of Beijing's residents) and the census
#: area is the flats' building area, while OSM floor area is the buildings' gross area with
#: one storey where ``building:levels`` is missing: an estimate, labelled as such.
FLOOR_AREA_PER_PERSON_M2: Final[float] = 33.41

#: Residents per metre of street, the last resort when a community has no residential
#: building in OSM: 1.0, Beijing's central-city density divided by a planning road density —
#: 10,988,000 residents of the central city (中心城区, the six districts; 2020 census, Beijing
#: Municipal Bureau of Statistics, 北京市第七次全国人口普查主要数据结果, 2021-05-19) on their
#: 1,384 km² (about 7,900 people/km²), over 8 km of street per km² (the road network density
#: target of 中发〔2016〕6号, 《关于进一步加强城市规划建设管理工作的若干意见》). An
#: order-of-magnitude figure: OSM's walkable streets (footways, service roads) are denser than
#: planning roads, so it tends to overstate people in such communities.
PEOPLE_PER_STREET_M: Final[float] = 1.0

#: Most missing items listed per district or community type.
ROLLUP_MOST_MISSING: Final[int] = 3

#: Columns of a community file read as the community type (分类指导) when no column is named.
COMMUNITY_TYPE_COLUMNS: Final[tuple[str, ...]] = ("community_type", "type")

#: ``admin_level`` values of OSM boundaries read as districts with ``--districts osm``, in order
#: of preference: 9 (Beijing's 街道 / 乡镇), then 8 (区).
DISTRICT_ADMIN_LEVELS: Final[tuple[str, ...]] = ("9", "8")

# -- opening hours (开放率) -------------------------------------------------------------------

#: Times at which coverage is also computed with only the facilities open then
#: (:mod:`fifteenmin.hours`): a weekday evening, when people come home from work, and a
#: weekend morning. ``weekday`` is the Wednesday and ``weekend`` the Saturday of
#: :data:`OPENING_HOURS_WEEK`; times are local clock times at each facility.
OPENING_HOURS_AT: Final[tuple[str, ...]] = ("weekday 19:00", "weekend 09:00")

#: Monday of the reference week in which the days of :data:`OPENING_HOURS_AT` fall, so that
#: a report is the same whenever it is made: 13-19 October 2025, an ordinary week (no public
#: holiday in China, where it follows the National Day week and its make-up working day,
#: nor in most countries; outside summer, so seasonal summer hours are not in force).
OPENING_HOURS_WEEK: Final[str] = "2025-10-13"

# -- OSM data defects (issue 13) ---------------------------------------------------------------

#: Make pedestrian areas (squares: ``highway=pedestrian|footway`` + ``area=yes``) walkable:
#: their outline and straight crossings between their entrances. osmnx's walk network leaves
#: them out (``False`` gives it exactly); people cross squares, so the default is True.
PEDESTRIAN_AREAS: Final[bool] = True
#: A crossing of a pedestrian area is added only when the walk between its ends without it
#: would be more than this factor longer (a greedy spanner; see
#: :mod:`fifteenmin.network`): walks across areas are at most 5 % longer than the shortest
#: path inside them, and long squares with many entrances get few crossings, not all pairs.
PEDESTRIAN_AREA_STRETCH: Final[float] = 1.05
#: Share of the network's nodes inside ``admin_level=10`` boundaries above which they are
#: taken as complete. Between 0.5 (below, they are not used) and this share, the rest of the
#: area is topped up with residential areas or grid cells, with a warning giving the shares.
ADMIN_COMPLETE_SHARE: Final[float] = 0.99

# -- community types (分类指导) ----------------------------------------------------------------

#: A compound built in this year or before is an old compound (老旧小区): the State Council
#: guideline on renovating old urban compounds, 国务院办公厅关于全面推进城镇老旧小区改造工作的
#: 指导意见 (国办发〔2020〕23号, July 2020), targets compounds built before the end of 2000
#: (重点改造2000年底前建成的老旧小区; as quoted by local implementing notices, e.g. Beijing
#: Chaoyang and Zhumadian; the State Council text itself was not retrieved). Some provinces
#: extend the scope to 2005; pass a later year to follow them.
OLD_COMPOUND_BUILT_BY: Final[int] = 2000
#: Size classes of communities by area in hectares: ``small`` below the first value, ``large``
#: above the second, else ``medium``. The bounds are the 居住街坊 (residential block) of
#: GB 50180-2018 Table 3.0.4, 150-250 m a side (2.25-6.25 ha) [M].
COMMUNITY_SIZE_HA: Final[tuple[float, float]] = (2.25, 6.25)
#: A compound counts as gated when walls or fences (``barrier=wall|fence``) run along at least
#: this share of its outline (within 3 m), when it has a gate on its outline, or when the
#: compound itself is tagged ``access=private|no`` or ``barrier=*``.
COMPOUND_BARRIER_SHARE: Final[float] = 0.5
# --- The city layout of report.html (output/html/city*.py) ---------------------------------

#: report.html switches from its full layout (every community's directory pre-rendered, one
#: map feature per facility) to its city layout (an overview map, a searchable table and
#: details rendered on demand from compact data) above this many communities. The full
#: layout of a 199-community city is 18 MB with 103,000 DOM nodes (issue 9).
HTML_CITY_MIN_COMMUNITIES: Final[int] = 50
#: Coordinates of the city layout are integers in units of 1 / this many degrees (1e-5
#: degrees: 1.1 m of latitude), as Google's polyline encoding uses.
HTML_CITY_COORD_SCALE: Final[int] = 100_000
#: Community polygons and walking areas of the city layout are simplified by this many
#: metres (Douglas-Peucker; about one screen pixel at zoom 17).
HTML_CITY_SIMPLIFY_M: Final[float] = 1.5
#: A community's service directory in the city layout lists this many facilities of an
#: item (the nearest), and counts the others.
HTML_CITY_FACILITIES_SHOWN: Final[int] = 5
#: Walking areas of the city layout are simplified by this many metres: they are drawn one
#: at a time over the community, at neighbourhood zoom (buffered streets have many vertices).
HTML_CITY_AREA_SIMPLIFY_M: Final[float] = 8.0
#: Holes of walking areas smaller than this (m²: the inside of a block the buffered streets
#: do not reach) are left out of the city layout's drawing.
HTML_CITY_AREA_MIN_HOLE_M2: Final[float] = 10_000.0
#: The city layout stores the per-community lines (service directory, walking area) in
#: elements of this many communities: opening one community reads only its element.
HTML_CITY_CHUNK: Final[int] = 256

# -- coverage.xlsx ----------------------------------------------------------------------------

#: Rows of the long table (one per community and item, the rows of coverage.csv) above which
#: coverage.xlsx holds only the community x item matrices: a city's long table is most of the
#: workbook's writing time (60 of 64 CPU s of all the files at 6,889 communities, bench/SCALE.md)
#: and repeats coverage.csv. 100,000 rows: about 2,000 communities of the beijing catalogue.
XLSX_LONG_MAX_ROWS: Final[int] = 100_000

# -- walking areas of the city layout in files beside report.html -----------------------------

#: The city layout's walking areas are not embedded in report.html: write_report writes them
#: into this folder beside it, as small scripts the page loads when a community is opened
#: (a city's 27,556 areas are ~40 MB: embedded, they made the page slow to open and to use).
HTML_AREA_FOLDER: Final[str] = "report_files"
#: Communities per walking-area file (in the page's community order): opening one community
#: loads one file of about this many areas (~1.5 KB each on the synthetic cities).
HTML_AREA_FILE_COMMUNITIES: Final[int] = 512
