"""Opening hours (开放率): which facilities are open at chosen times, and the coverage then.

A facility that is closed in the evening does not serve the residents who come home from
work at seven. For each chosen time (default :data:`fifteenmin.settings.OPENING_HOURS_AT`:
a weekday 19:00 and a weekend day 09:00), every facility is classified from its OSM
``opening_hours`` tag (or the ``opening_hours`` column of a user table) as

* ``open`` or ``closed``, as the tag says for that time;
* ``unknown``: no tag (``unknown_no_hours``), a tag the parser cannot read
  (``unknown_unparsable``, counted in a warning), or a tag that itself says the state is
  unknown at that time (``unknown_in_tag``, e.g. ``Mo-Fr 08:00-18:00 unknown``).

Coverage at a time is then computed with the same walking-time rule and scoring as the
run's coverage (:func:`fifteenmin.routing.travel_times`, :func:`~fifteenmin.routing.origin_times`,
:func:`fifteenmin.coverage.score_coverage`), twice: with only the facilities open then
(``open``), and with the unknown ones counted as open too (``open_or_unknown``, an upper
bound). Unknown is never counted as closed: the true figure lies between the two. The run's
own figures (every facility, whatever its hours) are the ``any_hours`` columns.

Time semantics
    The parser is `opening-hours-py <https://pypi.org/project/opening-hours-py/>`_ (the
    Rust ``opening-hours`` crate). A time ``weekday 19:00`` is 19:00 local clock time at
    each facility (the time zone of its location, inferred from its coordinates; no
    conversion between places), on the Wednesday of the reference week
    :data:`~fifteenmin.settings.OPENING_HOURS_WEEK` (``weekend``: its Saturday; ``mon`` …
    ``sun``: that day of the week). A date can be given instead (``2025-12-24 19:00``), so
    that results never depend on the day a report is made. Sunrise and sunset in a tag are
    those of the facility's location on that date.
Public holidays
    ``PH`` rules follow the public holidays of the facility's country (inferred from its
    coordinates by the parser's calendar): the default reference week holds none in China
    or in most countries, so there they are ordinary days; give a date to study a holiday.
    School holidays (``SH``) are not known to the parser and never apply.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import ConfigError
from ._kernel import multi_source_nearest
from ._progress import logger
from .catalogue import Catalogue, Item, load_catalogue
from .coverage import (
    CoverageResult,
    _community_shares,
    _community_units,
    _Figures,
    _figures,
    item_stats,
    score_coverage,
)
from .network import SnapResult, snap_points
from .routing import TravelTimes, edge_seeds, origin_times, travel_times

if TYPE_CHECKING:
    from .network import WalkNetwork
    from .pipeline import Results

__all__ = [
    "HOURS_COLUMNS",
    "HoursResult",
    "ReferenceTime",
    "coverage_at_times",
    "facility_hours",
    "opening_hours_coverage",
    "reference_times",
]

#: Columns of :attr:`HoursResult.table` (and ``opening_hours.csv``).
HOURS_COLUMNS = [
    "time",
    "datetime",
    "item_id",
    "item_name_zh",
    "item_name_en",
    "tier_minutes",
    "facilities",
    "open",
    "closed",
    "unknown",
    "unknown_no_hours",
    "unknown_unparsable",
    "unknown_in_tag",
    "share_open",
    "share_closed",
    "share_unknown",
    "communities_met_open",
    "communities_met_open_or_unknown",
    "communities_met_any_hours",
    "residents_within_tier_open",
    "residents_within_tier_open_or_unknown",
    "residents_within_tier_any_hours",
]

#: The three states of a facility at a time.
STATES = ("open", "closed", "unknown")

_DAYS = {
    "weekday": 2,
    "工作日": 2,
    "weekend": 5,
    "周末": 5,
    **{d: k for k, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{d: k for k, d in enumerate(("mo", "tu", "we", "th", "fr", "sa", "su"))},
    **{
        d: k
        for k, d in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{f"周{d}": k for k, d in enumerate("一二三四五六日")},
    **{f"星期{d}": k for k, d in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
}
_SPEC = re.compile(r"^\s*(?P<day>\S+?)(?:[\sT]+)(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ReferenceTime:
    """One time at which facilities are classified: its label and its local date and time.

    Attributes
    ----------
    label
        The time as given (``"weekday 19:00"``), with spaces tidied.
    when
        Local date and time (naive: the clock time at each facility).
    """

    label: str
    when: dt.datetime

    @property
    def iso(self) -> str:
        """``YYYY-MM-DDTHH:MM``."""
        return self.when.strftime("%Y-%m-%dT%H:%M")

    @property
    def weekday(self) -> str:
        """English name of the day of the week."""
        return _WEEKDAY_NAMES[self.when.weekday()]


def _monday(week: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(str(week))
    except ValueError:
        raise ConfigError(
            f"reference week {week!r} is not a date: give its Monday as YYYY-MM-DD"
        ) from None
    return day - dt.timedelta(days=day.weekday())


def _parse_time(spec: object, monday: dt.date) -> ReferenceTime:
    if not isinstance(spec, str):
        raise ConfigError(
            f"an opening-hours time must be text such as 'weekday 19:00', got {spec!r}"
        )
    m = _SPEC.match(spec)
    hint = (
        "write DAY HH:MM, where DAY is weekday, weekend, mon ... sun (工作日, 周末, 周一 ... 周日) "
        "or a date YYYY-MM-DD, e.g. 'weekday 19:00' or '2025-12-24 09:30'"
    )
    if m is None:
        raise ConfigError(f"cannot read the time {spec!r}: {hint}")
    day_text, hour, minute = m["day"].lower(), int(m["h"]), int(m["m"])
    if hour > 23 or minute > 59:
        raise ConfigError(f"cannot read the time {spec!r}: {hour}:{minute:02d} is no clock time")
    if day_text in _DAYS:
        day = monday + dt.timedelta(days=_DAYS[day_text])
    elif _DATE.match(day_text):
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise ConfigError(f"cannot read the time {spec!r}: {day_text} is no date") from None
    else:
        raise ConfigError(f"cannot read the time {spec!r}: unknown day {m['day']!r}; {hint}")
    label = f"{m['day']} {hour:02d}:{minute:02d}"
    return ReferenceTime(label, dt.datetime.combine(day, dt.time(hour, minute)))


def reference_times(
    specs: str | Sequence[str] = settings.OPENING_HOURS_AT,
    week: str = settings.OPENING_HOURS_WEEK,
) -> tuple[ReferenceTime, ...]:
    """The times of ``specs`` in the reference week (or on the dates they name).

    Parameters
    ----------
    specs
        ``"DAY HH:MM"`` texts (or one text of them separated by ``;``): DAY is ``weekday``
        (the Wednesday of the week), ``weekend`` (its Saturday), ``mon`` … ``sun`` (also
        ``Mo`` … ``Su``, ``monday``, ``工作日``, ``周末``, ``周一`` … ``周日``) or a date
        ``YYYY-MM-DD``.
    week
        Any day of the reference week (its Monday by convention), ``YYYY-MM-DD``.

    Returns
    -------
    tuple of ReferenceTime
        In the order given.

    Raises
    ------
    ConfigError
        A text that is not a time, or the same time twice.

    Examples
    --------
    >>> [(t.label, t.iso) for t in reference_times(["weekday 19:00", "sat 9:00"])]
    [('weekday 19:00', '2025-10-15T19:00'), ('sat 09:00', '2025-10-18T09:00')]
    >>> reference_times("weekend 09:00; 2025-12-24 09:30")[1].weekday
    'Wednesday'
    """
    if isinstance(specs, str):
        specs = [s for s in specs.split(";") if s.strip()]
    monday = _monday(week)
    out = tuple(_parse_time(s, monday) for s in specs)
    labels = [t.label for t in out]
    twice = sorted({lab for lab in labels if labels.count(lab) > 1})
    if twice:
        raise ConfigError(f"the opening-hours time {twice[0]!r} is given twice; give it once")
    return out


def _parser() -> Any:
    try:
        import opening_hours
    except ImportError:  # pragma: no cover - a required dependency
        raise ConfigError(
            "opening hours need the package opening-hours-py: pip install opening-hours-py "
            "(or leave them out: --no-opening-hours, opening_hours_at=())"
        ) from None
    return opening_hours


def _hours_text(tags: object) -> str:
    """The ``opening_hours`` tag of a facility's tags, stripped ("" when absent)."""
    if type(tags) is dict and "opening_hours" not in tags:  # most facilities: a fast path
        return ""
    if not isinstance(tags, Mapping):
        return ""
    value = tags.get("opening_hours")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _states(oh: Any, text: str, lat: float, lon: float, times: Sequence[ReferenceTime]) -> Any:
    """The states of one tag at ``times`` at a location; None if the tag cannot be read."""
    try:
        parsed = oh.OpeningHours(text, coords=(lat, lon))
    except (SyntaxError, ValueError, oh.ParserError):
        return None
    except Exception:  # coordinates outside every time zone or country: local time as is
        try:
            parsed = oh.OpeningHours(text, auto_country=False, auto_timezone=False)
        except Exception:
            return None
    try:
        return [_state_name(oh, parsed.state(t.when)[0]) for t in times]
    except Exception:
        return None


def _state_name(oh: Any, state: Any) -> str:
    if state == oh.State.OPEN:
        return "open"
    return "closed" if state == oh.State.CLOSED else "unknown"


def facility_hours(
    facilities: gpd.GeoDataFrame, times: str | Sequence[str] | Sequence[ReferenceTime]
) -> pd.DataFrame:
    """The state of every facility (open, closed, unknown) at each time.

    Parameters
    ----------
    facilities
        Facilities with ``tags`` (their ``opening_hours`` tag is read) and geometry, e.g.
        from :func:`fifteenmin.facilities.facilities_from_osm`, or a user table with an
        ``opening_hours`` column (:func:`fifteenmin.facilities.facilities_from_table`).
    times
        Time texts (see :func:`reference_times`) or :class:`ReferenceTime` objects.

    Returns
    -------
    pandas.DataFrame
        One row per facility, in its order: ``item_id``, ``opening_hours`` (the tag, ``""``
        when none), ``hours`` (``tagged``, ``no_hours`` or ``unparsable``) and one column per
        time label holding ``open``, ``closed`` or ``unknown``.

    Warns
    -----
    UserWarning
        Tags that cannot be parsed (counted, with examples); they count as unknown.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> fac = gpd.GeoDataFrame({"item_id": ["pharmacy"] * 3, "tags": [
    ...     {"opening_hours": "Mo-Fr 08:00-20:00"}, {"opening_hours": "Mo-Sa 09:00-18:00"}, {}]},
    ...     geometry=[shapely.Point(116.40, 39.90)] * 3, crs="EPSG:4326")
    >>> facility_hours(fac, ["weekday 19:00", "sat 10:00"])[["hours", "weekday 19:00", "sat 10:00"]]
          hours weekday 19:00 sat 10:00
    0    tagged          open    closed
    1    tagged        closed      open
    2  no_hours       unknown   unknown
    """
    oh = _parser()
    if not isinstance(times, str) and all(isinstance(t, ReferenceTime) for t in times):
        ts = tuple(t for t in times if isinstance(t, ReferenceTime))
    else:
        ts = reference_times([str(t) for t in times] if not isinstance(times, str) else times)
    n = len(facilities)
    text = np.array(
        [_hours_text(t) for t in facilities["tags"]] if "tags" in facilities.columns else [""] * n,
        dtype=object,
    )
    hours = np.where(text == "", "no_hours", "tagged").astype(object)
    states = np.full((n, len(ts)), "unknown", dtype=object)
    tagged = np.flatnonzero(text != "")
    if len(tagged):
        rep = shapely.point_on_surface(
            np.asarray(facilities.geometry.iloc[tagged].to_crs("EPSG:4326").values, dtype=object)
        )
        lon, lat = shapely.get_x(rep), shapely.get_y(rep)
        for k, i in enumerate(tagged):
            st = _states(oh, text[i], float(lat[k]), float(lon[k]), ts)
            if st is None:
                hours[i] = "unparsable"
            else:
                states[i] = st
    out = pd.DataFrame(
        {
            "item_id": facilities["item_id"].astype(str).to_numpy(dtype=object),
            "opening_hours": text,
            "hours": hours,
        }
    )
    for j, t in enumerate(ts):
        out[t.label] = states[:, j]
    _warn_unparsable(out)
    return out


def _warn_unparsable(table: pd.DataFrame) -> None:
    bad = table["hours"].to_numpy() == "unparsable"
    if bad.any():
        examples = list(dict.fromkeys(table["opening_hours"].to_numpy()[bad]))[:3]
        warnings.warn(
            f"{int(bad.sum())} of {int((table['hours'] != 'no_hours').sum())} facilities with "
            f"an opening_hours tag have one that cannot be read (e.g. "
            f"{', '.join(repr(e) for e in examples)}); they count as unknown, not as closed.",
            UserWarning,
            stacklevel=3,
        )


@dataclass(frozen=True, eq=False)
class HoursResult:
    """Facilities open at chosen times, and the coverage with only those (开放率).

    Attributes
    ----------
    times
        The times, in order.
    table
        One row per time and catalogue item (:data:`HOURS_COLUMNS`): facilities open,
        closed and unknown (and their shares of the item's facilities), and the share of
        communities where the item is met and the resident-weighted share within its tier,
        with only the open facilities (``_open``), with the unknown ones too
        (``_open_or_unknown``) and with every facility (``_any_hours``, the run's figures).
        Shares are NaN where there is nothing to divide by.
    facilities
        Per facility: :func:`facility_hours`.
    summary
        The ``opening_hours`` block of ``summary.json``.
    """

    times: tuple[ReferenceTime, ...]
    table: pd.DataFrame
    facilities: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = [
            f"{t['label']}: {_pct(t['coverage_rate']['open'])} open, "
            f"{_pct(t['coverage_rate']['open_or_unknown'])} open or unknown"
            for t in self.summary.get("times", [])
        ]
        return f"HoursResult(coverage rate {'; '.join(parts)})"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0%}"


#: Items routed together when opening hours re-route some items (bounds the memory of the
#: (items x network nodes) distances of one search).
_ITEMS_PER_SEARCH = 8


@dataclass
class _Run:
    """What each time's coverage needs of the run, and what the times share."""

    net: WalkNetwork
    facilities: gpd.GeoDataFrame
    cat: Catalogue
    communities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    speed: float | Mapping[str, float]
    entrances: gpd.GeoSeries | None
    threshold: float
    engine: str
    minutes: np.ndarray  # (origins, items) with every facility
    travel: TravelTimes | None = None  # the run's (with every facility's access points)
    #: residents per unit of weight (the run's people estimates, as score_coverage's)
    floor_area_per_person: float = settings.FLOOR_AREA_PER_PERSON_M2
    people_per_street_m: float = settings.PEOPLE_PER_STREET_M
    _cache: dict[Any, Any] = field(default_factory=dict)

    def item_codes(self) -> np.ndarray:
        """Each facility's column in the catalogue (-1: not a catalogue item)."""
        if "codes" not in self._cache:
            k_of = {it.id: k for k, it in enumerate(self.cat.items)}
            item = self.facilities["item_id"].astype(str).to_numpy(dtype=object)
            self._cache["codes"] = np.array([k_of.get(i, -1) for i in item], dtype=np.int64)
        codes: np.ndarray = self._cache["codes"]
        return codes

    def changed(self, keep: np.ndarray) -> np.ndarray:
        """The items (columns) some of whose facilities are not in ``keep``."""
        codes = self.item_codes()
        dropped = np.bincount(codes[(codes >= 0) & ~keep], minlength=len(self.cat.items))
        return np.flatnonzero(dropped > 0)

    def minutes_with(self, keep: np.ndarray) -> np.ndarray:
        """Origin minutes to every item with only the facilities ``keep``."""
        changed = self.changed(keep)
        out = self.minutes.copy()
        if len(changed):
            out[:, changed] = self.minutes_of(keep, changed)
        return out

    def figures(self, keep: np.ndarray) -> _Figures:
        """The coverage's figures with only the facilities ``keep`` (once per set).

        Items whose facilities are all kept keep the run's minutes; items with none kept
        reach nothing (``inf``); the others are searched again from their kept facilities'
        access points (:meth:`minutes_of`). Only the changed items' shares are recomputed.
        """
        key = np.packbits(keep).tobytes()
        if key in self._cache:
            found: _Figures = self._cache[key]
            return found
        changed = self.changed(keep)
        share, weight = self.base_shares()
        if len(changed):
            share = share.copy()
            share[:, changed], _ = _community_shares(
                self.communities,
                self.residents,
                self.minutes_of(keep, changed),
                [self.cat.items[k] for k in changed],
            )
        out = _figures(
            share,
            weight,
            self.cat.items,
            self.units(),
            threshold=self.threshold,
            floor_area_per_person=self.floor_area_per_person,
            people_per_street_m=self.people_per_street_m,
        )
        self._cache[key] = out
        return out

    def base_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """The run's shares within the tiers (every facility) and the communities' weights."""
        if "base" not in self._cache:
            self._cache["base"] = _community_shares(
                self.communities, self.residents, self.minutes, self.cat.items
            )
        base: tuple[np.ndarray, np.ndarray] = self._cache["base"]
        return base

    def units(self) -> np.ndarray:
        if "units" not in self._cache:
            self._cache["units"] = _community_units(self.communities, self.residents)
        units: np.ndarray = self._cache["units"]
        return units

    def minutes_of(self, keep: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """Origin minutes to the items ``changed`` with only the facilities ``keep``."""
        codes = self.item_codes()
        kept = np.bincount(codes[(codes >= 0) & keep], minlength=len(self.cat.items))
        out = np.full((len(self.residents), len(changed)), np.inf)
        some = np.flatnonzero(kept[changed] > 0)  # positions in changed
        for start in range(0, len(some), _ITEMS_PER_SEARCH):
            pos = some[start : start + _ITEMS_PER_SEARCH]
            tt = self.reroute(keep, changed[pos])
            out[:, pos], _ = origin_times(self.net, tt, self.residents, snap=self.snap())
        return out

    def snap(self) -> SnapResult:
        """The resident origins snapped onto the network (once)."""
        if "snap" not in self._cache:
            self._cache["snap"] = snap_points(self.net, self.residents)
        snap: SnapResult = self._cache["snap"]
        return snap

    def run_travel(self) -> TravelTimes:
        """The run's travel times, whose access points are every facility's (once)."""
        if self.travel is None:
            with warnings.catch_warnings():  # the run has warned of unreachable facilities
                warnings.filterwarnings("ignore", message=r".*from every walkable street")
                self.travel = travel_times(
                    self.net,
                    self.facilities,
                    self.cat,
                    speed=self.speed,
                    entrances=self.entrances,
                    engine=self.engine,
                )
        return self.travel

    def reroute(self, keep: np.ndarray, cols: np.ndarray) -> TravelTimes:
        """Travel times to the items ``cols`` from the kept facilities only.

        The kept facilities' access points are those the run snapped, in the run's order,
        so each item's search has the seeds :func:`~fifteenmin.routing.travel_times` would
        give it for the kept facilities alone.
        """
        tt = self.run_travel()
        acc = tt.access
        fac = acc["facility"].to_numpy()
        item = acc["item"].to_numpy()
        new_item = np.full(len(tt.items), -1, dtype=np.int64)
        new_item[cols] = np.arange(len(cols))
        acc = acc[keep[fac] & (new_item[item] >= 0)]
        if acc.duplicated().any():  # merged from tiles: a point listed twice seeds once
            acc = acc.drop_duplicates()
        acc = acc.assign(item=new_item[acc["item"].to_numpy()])
        seed_node, seed_dist = edge_seeds(
            self.net, acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy()
        )
        seed_ptr = np.zeros(len(cols) + 1, dtype=np.int64)
        per_item = np.bincount(acc["item"].to_numpy(), minlength=len(cols))
        np.cumsum(2 * per_item, out=seed_ptr[1:])  # two seeds per access point
        metres, label = multi_source_nearest(
            self.net.indptr,
            self.net.indices,
            self.net.lengths,
            seed_ptr,
            seed_node,
            np.asarray(seed_dist, dtype=np.float64),
            np.repeat(acc["facility"].to_numpy(), 2).astype(np.int32),
            tt.cutoff_m[cols],
            engine=self.engine,
        )
        return TravelTimes(
            items=tuple(tt.items[k] for k in cols),
            metres=metres,
            facility=label,
            speed=tt.speed[cols],
            cutoff_m=tt.cutoff_m[cols],
            facilities=tt.facilities,
            access=acc.reset_index(drop=True),
        )


def _counts(table: pd.DataFrame, mask: np.ndarray, items: Sequence[Item]) -> dict[str, int]:
    vc = table["item_id"][mask].value_counts()
    return {it.id: int(vc.get(it.id, 0)) for it in items}


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _item_rows(
    run: _Run, states: pd.DataFrame, t: ReferenceTime, base: _Figures
) -> tuple[pd.DataFrame, dict[str, _Figures]]:
    """The rows of ``table`` for one time, and the figures of its coverages."""
    items = run.cat.items
    st = states[t.label].to_numpy()
    hours = states["hours"].to_numpy()
    every = np.ones(len(st), dtype=bool)
    count = {
        "facilities": _counts(states, every, items),
        **{s: _counts(states, st == s, items) for s in STATES},
        "unknown_no_hours": _counts(states, hours == "no_hours", items),
        "unknown_unparsable": _counts(states, hours == "unparsable", items),
        "unknown_in_tag": _counts(states, (st == "unknown") & (hours == "tagged"), items),
    }
    covs = {
        "open": run.figures(st == "open"),
        "open_or_unknown": run.figures(st != "closed"),
        "any_hours": base,
    }
    n_scored = int(base.summary.get("communities_scored", 0))
    rows = pd.DataFrame(
        {
            "time": t.label,
            "datetime": t.iso,
            "item_id": [it.id for it in items],
            "item_name_zh": [it.name_zh for it in items],
            "item_name_en": [it.name_en for it in items],
            "tier_minutes": [float(it.tier_minutes) for it in items],
            **{k: [v[it.id] for it in items] for k, v in count.items()},
        }
    )
    n_fac = rows["facilities"].to_numpy()
    for s in STATES:
        rows[f"share_{s}"] = _share(rows[s].to_numpy(), n_fac)
    for name, cov in covs.items():
        met = cov.communities_met
        rows[f"communities_met_{name}"] = _share(met, np.full(len(met), n_scored))
        rows[f"residents_within_tier_{name}"] = cov.share_within_tier
    return rows[HOURS_COLUMNS], covs


def _number(v: Any) -> Any:
    """A JSON value: NaN becomes None, numpy numbers plain numbers."""
    if isinstance(v, np.integer | int):
        return int(v)
    v = float(v)
    return None if np.isnan(v) else v


def _time_summary(
    t: ReferenceTime, rows: pd.DataFrame, covs: Mapping[str, _Figures]
) -> dict[str, Any]:
    counts = ["facilities", *STATES, "unknown_no_hours", "unknown_unparsable", "unknown_in_tag"]
    per_item_cols = [
        "open",
        "closed",
        "unknown",
        "communities_met_open",
        "communities_met_open_or_unknown",
        "residents_within_tier_open",
        "residents_within_tier_open_or_unknown",
    ]
    return {
        "label": t.label,
        "datetime": t.iso,
        "weekday": t.weekday,
        "facilities": {c: int(rows[c].sum()) for c in counts},
        "coverage_rate": {k: float(c.summary["coverage_rate"]) for k, c in covs.items()},
        "coverage_rate_weighted": {k: c.summary["coverage_rate_weighted"] for k, c in covs.items()},
        "per_item": {
            str(r["item_id"]): {c: _number(r[c]) for c in per_item_cols} for _, r in rows.iterrows()
        },
    }


def _coverage_at(
    run: _Run, times: Sequence[ReferenceTime], base: CoverageResult, week: str
) -> HoursResult:
    states = facility_hours(run.facilities, times)
    stats = item_stats(base, run.cat.items, {})
    figures = _Figures(
        communities_met=stats["communities_met"].to_numpy(),
        share_within_tier=stats["share_within_tier"].to_numpy(),
        summary=base.summary,
    )
    parts, summaries = [], []
    for t in times:
        rows, covs = _item_rows(run, states, t, figures)
        parts.append(rows)
        summaries.append(_time_summary(t, rows, covs))
        logger.debug(f"opening hours at {t.label}: {summaries[-1]['facilities']}")
    hours = states["hours"].to_numpy()
    summary = {
        "reference_week": _monday(week).isoformat(),
        "facilities": len(states),
        "facilities_with_hours": int((hours != "no_hours").sum()),
        "facilities_unparsable": int((hours == "unparsable").sum()),
        "times": summaries,
    }
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: [] for c in HOURS_COLUMNS})
    )
    return HoursResult(times=tuple(times), table=table, facilities=states, summary=summary)


def coverage_at_times(
    net: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    catalogue: str | Catalogue,
    communities: gpd.GeoDataFrame,
    residents: gpd.GeoDataFrame,
    times: str | Sequence[str] = settings.OPENING_HOURS_AT,
    *,
    speed: float | Mapping[str, float] = settings.WALK_SPEED_M_S,
    entrances: gpd.GeoSeries | None = None,
    threshold: float = settings.THRESHOLD,
    engine: str = settings.ENGINE,
    week: str = settings.OPENING_HOURS_WEEK,
    baseline_minutes: np.ndarray | None = None,
    baseline_coverage: CoverageResult | None = None,
    travel: TravelTimes | None = None,
    floor_area_per_person: float = settings.FLOOR_AREA_PER_PERSON_M2,
    people_per_street_m: float = settings.PEOPLE_PER_STREET_M,
) -> HoursResult:
    """Coverage at chosen times with only the facilities open then (开放率).

    Parameters
    ----------
    net, facilities, catalogue, communities, residents
        As for :func:`fifteenmin.routing.travel_times` and
        :func:`fifteenmin.coverage.score_coverage`.
    times
        Time texts (see :func:`reference_times`).
    speed, entrances, engine
        As for :func:`~fifteenmin.routing.travel_times` (use the run's).
    threshold
        Share of residents within the tier for an item to count as met.
    week
        The reference week of ``weekday``/``weekend``/day-name times.
    baseline_minutes, baseline_coverage
        The run's origin minutes (every facility) and its coverage, if already computed.
    travel
        The run's travel times (every facility), if already computed: the times re-route
        from its access points instead of snapping the facilities again.
    floor_area_per_person, people_per_street_m
        The people estimates of the weighted rates, as for
        :func:`fifteenmin.coverage.score_coverage` (use the run's).

    Returns
    -------
    HoursResult

    Examples
    --------
    >>> import fifteenmin as fm
    >>> res = fm.run_pipeline(config=fm.RunConfig(opening_hours_at=()))
    >>> h = coverage_at_times(res.network, res.facilities, res.catalogue, res.communities,
    ...                       res.residents, ["weekday 19:00"], speed=1.0)  # doctest: +SKIP
    >>> h.table[["item_id", "open", "closed", "unknown"]].head()  # doctest: +SKIP
    """
    cat = load_catalogue(catalogue)
    ts = reference_times(times, week)
    run = _Run(
        net=net,
        facilities=facilities.reset_index(drop=True),
        cat=cat,
        communities=communities,
        residents=residents,
        speed=speed,
        entrances=entrances,
        threshold=threshold,
        engine=engine,
        minutes=np.zeros(0),
        floor_area_per_person=float(floor_area_per_person),
        people_per_street_m=float(people_per_street_m),
    )
    if _same_facilities(travel, run.facilities, cat):
        run.travel = travel
    if baseline_minutes is None:
        if run.travel is None:
            run.travel = travel_times(
                net, run.facilities, cat, speed=speed, entrances=entrances, engine=engine
            )
        baseline_minutes, _ = origin_times(net, run.travel, residents, snap=run.snap())
    run.minutes = np.asarray(baseline_minutes, dtype=np.float64)
    if baseline_coverage is None:
        every = np.ones(len(run.facilities), dtype=bool)
        counts = _counts(run.facilities, every, cat.items)
        baseline_coverage = score_coverage(
            communities,
            residents,
            run.minutes,
            cat.items,
            threshold=threshold,
            facility_counts=counts,
            floor_area_per_person=floor_area_per_person,
            people_per_street_m=people_per_street_m,
        )
    return _coverage_at(run, ts, baseline_coverage, week)


def _same_facilities(
    travel: TravelTimes | None, facilities: gpd.GeoDataFrame, cat: Catalogue
) -> bool:
    """Whether ``travel`` was routed from these facilities with this catalogue's items."""
    if travel is None or len(travel.facilities) != len(facilities):
        return False
    if travel.item_ids != [it.id for it in cat.items]:
        return False
    a = travel.facilities["item_id"].astype(str).to_numpy(dtype=object)
    b = facilities["item_id"].astype(str).to_numpy(dtype=object)
    return bool((a == b).all())


def opening_hours_coverage(
    results: Results, times: str | Sequence[str] | None = None
) -> HoursResult:
    """Coverage of a finished run at chosen times, with only the facilities open then.

    The run's walking speeds, entrances, threshold and engine are used, and its own
    coverage is the ``any_hours`` baseline.

    Parameters
    ----------
    results
        From :func:`fifteenmin.run_report` or :func:`fifteenmin.run_pipeline`.
    times
        Time texts (see :func:`reference_times`); default: the run's
        (``RunConfig.opening_hours_at``), or :data:`~fifteenmin.settings.OPENING_HOURS_AT`
        when the run had none.

    Returns
    -------
    HoursResult

    Examples
    --------
    >>> import fifteenmin as fm
    >>> rep = fm.run_report()  # the bundled sample (Helsinki)
    >>> h = opening_hours_coverage(rep, ["weekday 21:30"])
    >>> row = h.table.set_index("item_id").loc["supermarket"]
    >>> int(row["open"] + row["closed"] + row["unknown"]) == int(row["facilities"])
    True
    >>> bool(row["communities_met_open"] <= row["communities_met_open_or_unknown"])
    True
    """
    if times is None:
        times = results.config.opening_hours_at or settings.OPENING_HOURS_AT
    speeds = dict(zip(results.travel.item_ids, results.travel.speed.tolist(), strict=True))
    return coverage_at_times(
        results.network,
        results.facilities,
        results.catalogue,
        results.communities,
        results.residents,
        times,
        speed=speeds,
        entrances=results.entrances,
        threshold=results.threshold,
        engine=results.config.engine,
        baseline_minutes=results.origin_minutes,
        baseline_coverage=results.coverage,
        travel=results.travel,
        floor_area_per_person=results.config.floor_area_per_person,
        people_per_street_m=results.config.people_per_street_m,
    )
