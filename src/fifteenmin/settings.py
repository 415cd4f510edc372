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
    "ATTRIBUTION",
    "ATTRIBUTION_HTML",
    "BANDS",
    "BOUNDARY_SPACING_M",
    "CATALOGUE",
    "COMMUNITY_WALK_MINUTES",
    "CUTOFF_MARGIN_MIN",
    "ENGINE",
    "ENGINES",
    "GRID_SIZE_M",
    "ISOCHRONE_BUFFER_M",
    "ISOCHRONE_QUAD_SEGS",
    "LANG",
    "LANGS",
    "LICENCE_TEXT",
    "MAX_SNAP_M",
    "MINUTE_CLASSES",
    "OUT_DIR",
    "POPULATION_MAX_DISTANCE_M",
    "PROGRESS",
    "SCORE_CLASSES",
    "SPEED_PROFILES",
    "STREET_SPACING_M",
    "THRESHOLD",
    "TILE_MARGIN_FACTOR",
    "WALK_SPEED_M_S",
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
