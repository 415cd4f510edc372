"""The configuration of one coverage run: what to read and how to score it.

A :class:`RunConfig` is frozen and travels with the results (``Report.config``), so every
step after the pipeline (walking areas, the service directory, siting, the files written)
uses the same engine, speeds and threshold as the run itself. Its defaults come from
:mod:`fifteenmin.settings`.

Examples
--------
>>> from fifteenmin.config import RunConfig
>>> cfg = RunConfig(threshold=0.9)
>>> cfg.threshold, cfg.engine, cfg.catalogue
(0.9, 'auto', 'beijing')
>>> cfg.replace(engine="scipy").engine
'scipy'
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from ._coords import normalize_system
from ._errors import ConfigError, ConfigTypeError, require_type

if TYPE_CHECKING:
    from .catalogue import Catalogue

__all__ = [
    "MAX_CATEGORY_WEIGHT",
    "MAX_SPEED_M_S",
    "MIN_SPEED_M_S",
    "RunConfig",
    "plausible_speed",
]

#: Walking speeds (m/s) outside this range are rejected as implausible: 0.2 m/s is a very slow
#: shuffle (0.7 km/h); 3 m/s (10.8 km/h) is running. A speed given in km/h by mistake
#: (5 for 5 km/h) falls outside it.
MIN_SPEED_M_S = 0.2
#: See :data:`MIN_SPEED_M_S`.
MAX_SPEED_M_S = 3.0
#: Category weights are relative; a weight above this is a typo (it would also overflow the
#: weighted mean of the composite index).
MAX_CATEGORY_WEIGHT = 1e6


@dataclass(frozen=True, eq=False)
class RunConfig:
    """Inputs and parameters of one coverage run.

    Parameters
    ----------
    communities
        A community vector file or GeoDataFrame; default: derived from the OSM data.
    id_column, name_column
        Columns of the community file holding ids and names.
    user_facilities
        The user's own facilities (CSV with lon/lat, or a vector file, or a DataFrame), merged
        with the OSM ones; see :func:`fifteenmin.facilities.facilities_from_table`.
    facility_item_column
        Column of ``user_facilities`` holding catalogue item ids or names.
    coord_system
        Coordinates of a CSV ``user_facilities``: ``wgs84``, ``gcj02`` (Amap, Tencent) or
        ``bd09`` (Baidu).
    population
        A population layer (points, grid cells or census polygons) weighting the residents in
        people; see :func:`fifteenmin.communities.residents_from_population`.
    population_column, elderly_column, children_column
        Columns of ``population`` holding all residents, the elderly and the children.
    catalogue
        Catalogue name, file or :class:`~fifteenmin.catalogue.Catalogue`.
    speed
        Walking speed in m/s (default :data:`fifteenmin.settings.WALK_SPEED_M_S`).
    item_profiles
        Walk the items whose catalogue entry names a speed profile at that profile's speed
        (:data:`fifteenmin.settings.SPEED_PROFILES`); False walks every item at ``speed``.
    pedestrian_areas
        Make pedestrian areas (squares) walkable: their outline and crossings between their
        entrances (default :data:`fifteenmin.settings.PEDESTRIAN_AREAS`); ``False`` gives
        osmnx's walk network exactly (:func:`fifteenmin.network.network_from_file`).
    threshold
        Share of residents within the tier for an item to count as met.
    category_weights
        Weights of the catalogue categories in the composite index (default: equal).
    engine
        Shortest-path engine: ``"auto"``, ``"numba"`` or ``"scipy"``; used by every search
        of the run (travel times, walking areas, service directory, siting).
    poi
        POI exports (Amap, Baidu, Tencent) or facility ledgers: a file, a DataFrame, or a
        list of them; their facilities are added with source ``poi``; see
        :func:`fifteenmin.poi.facilities_from_poi`.
    poi_source
        ``amap``, ``baidu``, ``tencent`` or ``ledger`` for every ``poi`` table; default:
        guessed from each table's columns.
    poi_crs
        ``gcj02``, ``bd09`` or ``wgs84`` for every ``poi`` table; default: what each table
        says, else its source's datum.
    floor_area_per_person
        m² of residential floor area per resident, turning OSM floor area into people
        (default :data:`fifteenmin.settings.FLOOR_AREA_PER_PERSON_M2`, Beijing, 2020 census).
    people_per_street_m
        Residents per metre of street, for communities without residential buildings
        (default :data:`fifteenmin.settings.PEOPLE_PER_STREET_M`).
    districts
        District polygons (街道 / 区; a vector file or GeoDataFrame, or ``"osm"`` for the OSM
        file's ``admin_level`` 9/8 boundaries where complete): every community is
        assigned to the district it overlaps most, and the report rolls the rates up by
        district (:func:`fifteenmin.communities.assign_districts`).
    district_column
        Column of ``districts`` holding the names (default ``name`` or a name-like column).
    community_type_column
        Column of the community file holding the community type (分类指导, e.g. 老旧小区);
        default: a ``community_type`` or ``type`` column if there is one.
    opening_hours_at
        Times at which coverage is also computed with only the facilities open then
        (:mod:`fifteenmin.hours`), e.g. ``("weekday 19:00", "sat 09:00")`` or one text
        separated by ``;``; ``()`` computes none. Default
        :data:`fifteenmin.settings.OPENING_HOURS_AT`.

    Raises
    ------
    ConfigError
        A parameter is out of range (a non-positive speed, a threshold outside (0, 1], an
        unknown engine or coordinate system, a negative category weight).
    """

    communities: Any = None
    id_column: str | None = None
    name_column: str | None = None
    user_facilities: Any = None
    facility_item_column: str = "item"
    coord_system: str = "wgs84"
    population: Any = None
    population_column: str = "population"
    elderly_column: str | None = None
    children_column: str | None = None
    catalogue: Any = settings.CATALOGUE
    speed: float = settings.WALK_SPEED_M_S
    item_profiles: bool = True
    pedestrian_areas: bool = settings.PEDESTRIAN_AREAS
    threshold: float = settings.THRESHOLD
    category_weights: Mapping[str, float] | None = field(default=None)
    engine: str = settings.ENGINE
    # -- POI exports and facility ledgers (fifteenmin.poi)
    poi: Any = None
    poi_source: str | None = None
    poi_crs: str | None = None
    # -- people, districts and community types (issue 13) --
    floor_area_per_person: float = settings.FLOOR_AREA_PER_PERSON_M2
    people_per_street_m: float = settings.PEOPLE_PER_STREET_M
    districts: Any = None
    district_column: str | None = None
    community_type_column: str | None = None
    # -- opening hours (fifteenmin.hours) --
    opening_hours_at: tuple[str, ...] = settings.OPENING_HOURS_AT

    def __post_init__(self) -> None:
        _check_types(self)
        _check_poi(self)
        _check_people_factors(self)
        _check_times(self)
        plausible_speed(self.speed)
        thr = self.threshold
        if isinstance(thr, bool) or not isinstance(thr, int | float) or not 0 < thr <= 1:
            raise ConfigError(f"threshold must be a share in (0, 1], got {thr!r}")
        if self.engine not in settings.ENGINES:
            raise ConfigError(
                f"unknown engine {self.engine!r}: use one of {', '.join(settings.ENGINES)}"
            )
        try:
            normalize_system(self.coord_system)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.category_weights is not None:
            _check_weights(self.category_weights)
            if not isinstance(self.catalogue, str | os.PathLike):
                self.check_catalogue(self.catalogue)

    def check_catalogue(self, catalogue: Catalogue) -> None:
        """Check the options that depend on the catalogue: the category weights.

        Every weighted category must be one of the catalogue's (a misspelled one would be
        ignored), and the weights must leave at least one category in the index. Called when
        the configuration is made with a :class:`~fifteenmin.catalogue.Catalogue`; call it
        with the loaded catalogue otherwise.

        Raises
        ------
        ConfigError
            An unknown category, or every category weighs 0.

        Examples
        --------
        >>> from fifteenmin import load_catalogue
        >>> cfg = RunConfig(category_weights={"helth": 2})
        >>> try:
        ...     cfg.check_catalogue(load_catalogue("beijing"))
        ... except ValueError as exc:
        ...     print(str(exc)[:58])
        category weights name unknown category 'helth' (did you me
        """
        weights = self.category_weights
        if not weights:
            return
        ids = [c.id for c in catalogue.categories]
        used = list(dict.fromkeys(it.category for it in catalogue.items if it.required))
        for key in weights:
            if key not in ids:
                close = difflib.get_close_matches(str(key), ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"category weights name unknown category {key!r}{hint}; the categories of "
                    f"catalogue '{catalogue.name}' are: {', '.join(ids)}."
                )
        if used and all(float(weights.get(c, 1.0)) == 0 for c in used):
            raise ConfigError(
                "category weights are 0 for every category of catalogue "
                f"'{catalogue.name}', so no community would have an index; give at least one "
                "category a positive weight."
            )

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed.

        Raises
        ------
        ConfigError
            A field name is unknown (the message lists the known ones) or a value is invalid.
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise ConfigError(f"unknown run option(s) {', '.join(unknown)}; known: {known}")
        return dataclasses.replace(self, **changes)

    def parameters(
        self, catalogue: Catalogue, speeds: Mapping[str, float], cutoff_minutes: float
    ) -> dict[str, Any]:
        """The ``parameters`` block of ``summary.json`` (without the OSM file's name).

        ``speeds`` are the items' walking speeds (m/s) of the run; those that differ from
        :attr:`speed` are listed as speed profiles.
        """
        return {
            "communities": _describe(self.communities),
            "catalogue": catalogue.name,
            "user_facilities": _describe(self.user_facilities),
            "population": _describe(self.population),
            "speed_m_s": round(float(self.speed), 6),
            "speed_profiles": {
                k: round(v, 6) for k, v in sorted(speeds.items()) if v != self.speed
            },
            "threshold": self.threshold,
            "cutoff_minutes": round(float(cutoff_minutes), 6),
            "floor_area_per_person_m2": float(self.floor_area_per_person),
            "people_per_street_m": float(self.people_per_street_m),
            "districts": _describe(self.districts),
            "pedestrian_areas": bool(self.pedestrian_areas),
        }


_PATH = (str, os.PathLike)


def plausible_speed(speed: object, name: str = "walking speed") -> float:
    """``speed`` if it is a plausible walking speed in m/s, else a :class:`ConfigError`.

    Examples
    --------
    >>> try:
    ...     plausible_speed(5)
    ... except ValueError as exc:
    ...     print(str(exc)[:60])
    walking speed 5 m/s (18 km/h) is not a walking speed: expect
    """
    require_type(speed, (int, float), name, "a positive number of m/s")
    assert isinstance(speed, int | float)
    if not (math.isfinite(speed) and speed > 0):
        raise ConfigError(f"{name} must be a positive number of m/s, got {speed!r}")
    if not MIN_SPEED_M_S <= speed <= MAX_SPEED_M_S:
        kmh = speed * 3.6
        hint = (
            f"; if you meant {speed:g} km/h, that is {speed / 3.6:.2f} m/s"
            if MIN_SPEED_M_S <= speed / 3.6 <= MAX_SPEED_M_S
            else ""
        )
        raise ConfigError(
            f"{name} {speed:g} m/s ({kmh:.3g} km/h) is not a walking speed: expected "
            f"{MIN_SPEED_M_S:g} to {MAX_SPEED_M_S:g} m/s (the default is "
            f"{settings.WALK_SPEED_M_S:.2f} m/s){hint}."
        )
    return float(speed)


def _check_types(cfg: RunConfig) -> None:
    """Raise a :class:`~fifteenmin._errors.ConfigTypeError` for a field of the wrong type."""
    import geopandas as gpd
    import pandas as pd

    layers = {
        "communities": (gpd.GeoDataFrame, "a file path or a GeoDataFrame"),
        "population": (gpd.GeoDataFrame, "a file path or a GeoDataFrame"),
        "districts": (gpd.GeoDataFrame, "a file path or a GeoDataFrame"),
        "user_facilities": (pd.DataFrame, "a file path or a (Geo)DataFrame"),
    }
    for name, (frame, what) in layers.items():
        value = getattr(cfg, name)
        if name == "user_facilities" and isinstance(value, Mapping):  # tables by source
            for label, table in value.items():
                require_type(table, (*_PATH, frame), f"user_facilities[{label!r}]", what)
        elif value is not None:
            require_type(value, (*_PATH, frame), name, what)
    for name in (
        "id_column",
        "name_column",
        "elderly_column",
        "children_column",
        "district_column",
        "community_type_column",
    ):
        if getattr(cfg, name) is not None:
            require_type(getattr(cfg, name), str, name, "a column name (text)")
    for name in ("facility_item_column", "population_column", "coord_system", "engine"):
        require_type(getattr(cfg, name), str, name, "a text")
    require_type(cfg.item_profiles, bool, "item_profiles", "True or False")
    require_type(cfg.pedestrian_areas, bool, "pedestrian_areas", "True or False")
    cat = cfg.catalogue
    if not isinstance(cat, _PATH) and not (hasattr(cat, "items") and hasattr(cat, "categories")):
        raise ConfigTypeError(
            "catalogue must be a catalogue name, a catalogue file or a Catalogue, got "
            f"{type(cfg.catalogue).__name__}"
        )
    if cfg.category_weights is not None:
        require_type(
            cfg.category_weights, Mapping, "category_weights", "a mapping of category: weight"
        )


def _check_poi(cfg: RunConfig) -> None:
    """The POI options: tables of the right type, a known source and coordinate system."""
    import pandas as pd

    tables = cfg.poi if isinstance(cfg.poi, list | tuple) else [cfg.poi]
    for k, table in enumerate(tables):
        if table is not None:
            require_type(table, (*_PATH, pd.DataFrame), f"poi[{k}]", "a file path or a DataFrame")
    if cfg.poi_source is not None and cfg.poi_source not in settings.POI_SOURCES:
        raise ConfigError(
            f"unknown POI source {cfg.poi_source!r}: use one of {', '.join(settings.POI_SOURCES)}"
        )
    if cfg.poi_crs is not None:
        try:
            normalize_system(cfg.poi_crs)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def _check_people_factors(cfg: RunConfig) -> None:
    """Floor area per person and people per street metre: positive, finite, plausible."""
    checks = (
        ("floor_area_per_person", "m² of floor area per person", 1.0, 1000.0),
        ("people_per_street_m", "people per metre of street", 1e-4, 100.0),
    )
    for name, what, low, high in checks:
        value = getattr(cfg, name)
        require_type(value, (int, float), name, f"a positive number ({what})")
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(
                f"{name} must be a number of {what} from {low:g} to {high:g}, got {value!r} "
                f"(the default is {getattr(settings, _DEFAULTS[name]):g})"
            )


_DEFAULTS = {
    "floor_area_per_person": "FLOOR_AREA_PER_PERSON_M2",
    "people_per_street_m": "PEOPLE_PER_STREET_M",
}


def _check_times(cfg: RunConfig) -> None:
    """``opening_hours_at`` as a tuple of texts (one text is split at ``;``).

    The texts themselves are read by :func:`fifteenmin.hours.reference_times`, which
    :func:`fifteenmin.pipeline.run_pipeline` calls before any long step.
    """
    at = cfg.opening_hours_at
    if isinstance(at, str):
        at = tuple(t.strip() for t in at.split(";") if t.strip())
    require_type(at, (tuple, list), "opening_hours_at", "a list of times such as 'weekday 19:00'")
    for t in at:
        require_type(t, str, "every time of opening_hours_at", "a text such as 'weekday 19:00'")
    object.__setattr__(cfg, "opening_hours_at", tuple(at))


def _check_weights(weights: Mapping[str, float]) -> None:
    for key, value in weights.items():
        require_type(key, str, "a category of category_weights", "a category id (text)")
        require_type(value, (int, float), f"the weight of {key!r}", "a number >= 0")
    bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and v >= 0)}
    if bad:
        raise ConfigError(f"category weights must be >= 0, got {bad}")
    huge = {k: v for k, v in weights.items() if v > MAX_CATEGORY_WEIGHT}
    if huge:
        raise ConfigError(
            f"category weights are relative (1 = equal, 2 = twice as important); {huge} is "
            f"implausibly large (at most {MAX_CATEGORY_WEIGHT:g})"
        )


def _describe(source: Any) -> str | None:
    """A short label of an input for summary.json (a file name, or the object's type)."""
    if source is None:
        return None
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return type(source).__name__
