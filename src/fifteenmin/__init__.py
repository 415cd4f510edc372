"""fifteenmin: 15-minute-city walkability analysis.

The pipeline, one module per stage, data flowing one way::

    network     OSM file / osmnx graph  -> WalkNetwork (CSR arrays, metric CRS)
    catalogue   basic-service catalogue  -> Catalogue (items, tiers, OSM tag filters)
    facilities  OSM features             -> facilities GeoDataFrame (one row per item match)
    routing     network + facilities     -> TravelTimes (nearest facility per node and item)
    communities communities + buildings  -> weighted resident origins
    coverage    origins x items          -> CoverageResult (per item, per community, rate)
    isochrones  network + points         -> 5/10/15-minute walking areas
    siting      coverage gaps            -> where new facilities bring most residents in reach
    hours       opening_hours tags       -> coverage at chosen times, open facilities only
    report      all of the above         -> summary.json, coverage.csv, GeoPackages, report.html

Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from . import settings
from ._coords import to_wgs84
from ._errors import (
    CatalogueError,
    CommunityFileError,
    ConfigError,
    ConfigTypeError,
    FacilityFileError,
    FifteenminError,
    InputFileError,
    LayerError,
    LayerTypeError,
    NetworkError,
    OSMFileError,
    OutputError,
    UnknownItemError,
)
from ._osm import OSMData, read_osm
from ._version import __version__
from .batch_run import batch
from .catalogue import Catalogue, Item, available_catalogues, load_catalogue
from .communities import (
    assign_districts,
    communities_from_file,
    communities_from_osm,
    districts_from_file,
    districts_from_osm,
    residents,
    residents_from_population,
)
from .compare import compare_reports
from .config import RunConfig
from .coverage import CoverageResult, headline, rollup, score_coverage
from .facilities import (
    entrances_from_osm,
    facilities_from_osm,
    facilities_from_polygon,
    facilities_from_table,
    facility_counts,
    merge_facilities,
)
from .hours import (
    HoursResult,
    coverage_at_times,
    facility_hours,
    opening_hours_coverage,
    reference_times,
)
from .isochrones import (
    community_walking_areas,
    facility_isochrones,
    iter_community_walking_areas,
    walking_areas,
)
from .network import (
    WalkNetwork,
    from_networkx,
    network_from_bbox,
    network_from_file,
    network_from_place,
    network_from_polygon,
    snap_points,
)
from .online import OnlineArea
from .output.poi_files import write_ledger_template
from .pipeline import Results, run_pipeline
from .poi import facilities_from_poi, match_poi_types, poi_type_rules
from .readers import LayerPath
from .report import Report, run_report, sample_path
from .routing import TravelTimes, item_speeds, origin_times, reachable, travel_times
from .siting import candidate_sites, plan_missing, site_facilities
from .tiles import TiledReport, run_tiled, tile_margin_m

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CommunityFileError",
    "ConfigError",
    "ConfigTypeError",
    "CoverageResult",
    "FacilityFileError",
    "FifteenminError",
    "HoursResult",
    "InputFileError",
    "Item",
    "LayerError",
    "LayerPath",
    "LayerTypeError",
    "NetworkError",
    "OSMData",
    "OSMFileError",
    "OnlineArea",
    "OutputError",
    "Report",
    "Results",
    "RunConfig",
    "TiledReport",
    "TravelTimes",
    "UnknownItemError",
    "WalkNetwork",
    "__version__",
    "assign_districts",
    "available_catalogues",
    "batch",
    "candidate_sites",
    "communities_from_file",
    "communities_from_osm",
    "community_walking_areas",
    "compare_reports",
    "coverage_at_times",
    "districts_from_file",
    "districts_from_osm",
    "entrances_from_osm",
    "facilities_from_osm",
    "facilities_from_poi",
    "facilities_from_polygon",
    "facilities_from_table",
    "facility_counts",
    "facility_hours",
    "facility_isochrones",
    "from_networkx",
    "headline",
    "item_speeds",
    "iter_community_walking_areas",
    "load_catalogue",
    "match_poi_types",
    "merge_facilities",
    "network_from_bbox",
    "network_from_file",
    "network_from_place",
    "network_from_polygon",
    "opening_hours_coverage",
    "origin_times",
    "plan_missing",
    "poi_type_rules",
    "reachable",
    "read_osm",
    "reference_times",
    "residents",
    "residents_from_population",
    "rollup",
    "run_pipeline",
    "run_report",
    "run_tiled",
    "sample_path",
    "score_coverage",
    "settings",
    "site_facilities",
    "snap_points",
    "tile_margin_m",
    "to_wgs84",
    "travel_times",
    "walking_areas",
    "write_ledger_template",
]
