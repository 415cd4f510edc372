"""Opening hours (开放率): the parser on real tags, a hand-computed case, brute-force checks.

Oracles: a small evaluator of the plain ``Mo-Fr 09:00-19:00; Sa 10:00-16:00`` grammar written
here (for the parser's states on the real tags of the extracts), a tiny street where every
walk is computed by hand, and fresh :func:`~fifteenmin.routing.travel_times` runs on the open
facilities only (for the spliced travel times of :mod:`fifteenmin.hours`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import BEIJING, SAMPLE, SHARED, needs_shared
from fifteenmin import (
    ConfigError,
    RunConfig,
    coverage_at_times,
    facilities_from_osm,
    facilities_from_table,
    facility_hours,
    from_networkx,
    load_catalogue,
    opening_hours_coverage,
    origin_times,
    reference_times,
    run_report,
    score_coverage,
    travel_times,
)
from fifteenmin.cli import main
from fifteenmin.coverage import item_stats
from fifteenmin.hours import HOURS_COLUMNS, _Run

# ---------------------------------------------------------------------------- time texts


def test_reference_times_fall_in_the_reference_week():
    ts = reference_times(
        ["weekday 19:00", "weekend 9:00", "Su 07:05", "周一 08:00", "工作日 12:00"]
    )
    assert [t.iso for t in ts] == [
        "2025-10-15T19:00",  # Wednesday
        "2025-10-18T09:00",  # Saturday
        "2025-10-19T07:05",
        "2025-10-13T08:00",
        "2025-10-15T12:00",
    ]
    assert [t.weekday for t in ts[:2]] == ["Wednesday", "Saturday"]
    assert [t.iso for t in reference_times("mon 10:00", week="2024-01-03")] == ["2024-01-01T10:00"]
    (d,) = reference_times("2025-12-24T09:30")
    assert d.when == dt.datetime(2025, 12, 24, 9, 30) and d.label == "2025-12-24 09:30"


@pytest.mark.parametrize(
    "bad",
    ["19:00", "weekday", "someday 19:00", "weekday 25:00", "2025-02-30 10:00", "mon 7pm", 1900],
)
def test_bad_times_are_one_line_config_errors(bad):
    with pytest.raises(ConfigError) as exc:
        reference_times([bad])
    assert "\n" not in str(exc.value)


def test_a_time_given_twice_is_refused():
    with pytest.raises(ConfigError, match="twice"):
        reference_times(["weekday 19:00", "weekday  19:00"])


def test_runconfig_reads_one_text_and_checks_types():
    assert RunConfig(opening_hours_at="weekday 19:00; sat 09:00").opening_hours_at == (
        "weekday 19:00",
        "sat 09:00",
    )
    assert RunConfig(opening_hours_at=[]).opening_hours_at == ()
    with pytest.raises(TypeError):
        RunConfig(opening_hours_at=[1900])


# ---------------------------------------------------------------------------- real tags

_DAY = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
_SEL = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?"
_HM = r"\d{1,2}:\d{2}"
_RULE = re.compile(
    rf"^(?P<days>{_SEL}(?:,{_SEL})*)\s+(?P<times>off|closed|{_HM}-{_HM}(?:,{_HM}-{_HM})*)$"
)


def _minutes(hm: str) -> int:
    h, m = hm.split(":")
    return int(h) * 60 + int(m)


def _plain_rules(tag: str) -> list[tuple[set[int], list[tuple[int, int]]]] | None:
    """The rules of a plain tag (day selectors, same-day time ranges), or None."""
    if tag == "24/7":
        return [(set(range(7)), [(0, 24 * 60)])]
    rules = []
    for part in (p.strip() for p in tag.split(";")):
        if part in ("PH off", "PH closed"):  # the reference week has no public holiday
            continue
        m = _RULE.match(part)
        if m is None:
            return None
        days: set[int] = set()
        for sel in m["days"].split(","):
            a, _, b = sel.partition("-")
            i, j = _DAY.index(a), _DAY.index(b or a)
            days |= {k % 7 for k in range(i, j + 1 if j >= i else j + 8)}
        spans = []
        if m["times"] not in ("off", "closed"):
            for span in m["times"].split(","):
                s, e = (_minutes(x) for x in span.split("-"))
                if not 0 <= s < e <= 24 * 60:
                    return None  # past midnight: not the plain grammar
                spans.append((s, e))
        rules.append((days, spans))
    return rules or None


def _plain_state(rules: list[tuple[set[int], list[tuple[int, int]]]], when: dt.datetime) -> str:
    """OSM semantics: a later rule replaces the earlier ones on the days it names."""
    spans: list[tuple[int, int]] = []
    for days, sp in rules:
        if when.weekday() in days:
            spans = sp
    t = when.hour * 60 + when.minute
    return "open" if any(s <= t < e for s, e in spans) else "closed"


@pytest.fixture(scope="module")
def sample_facilities(sample_data):
    return facilities_from_osm(sample_data, "beijing")


def test_parser_states_on_real_tags_match_a_plain_evaluator(sample_facilities):
    """Every plain tag of the Helsinki sample, every half hour of the reference week."""
    fac = sample_facilities
    tags = [t.get("opening_hours", "").strip() for t in fac["tags"]]
    plain = {i: r for i, t in enumerate(tags) if t and (r := _plain_rules(t)) is not None}
    assert len(plain) > 150  # most of the sample's tags are plain
    monday = dt.datetime(2025, 10, 13)
    times = [monday + dt.timedelta(minutes=30 * k) for k in range(7 * 48)]
    specs = [t.strftime("%Y-%m-%d %H:%M") for t in times]
    rows = list(plain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = facility_hours(fac.iloc[rows], specs)
    assert (got["hours"] == "tagged").all()
    wrong = []
    for k, i in enumerate(rows):
        for spec, when in zip(specs, times, strict=True):
            if got[spec].iloc[k] != _plain_state(plain[i], when):
                wrong.append((tags[i], spec, got[spec].iloc[k]))
    assert not wrong, wrong[:5]


def test_real_tags_by_hand(sample_data):
    """Tags of the Helsinki sample and of Monaco, read by hand against the OSM specification."""
    cases = {
        # Helsinki: closes at 19:00 on weekdays (end exclusive); Saturday from 09:00
        "Mo-Fr 09:00-19:00; Sa 09:00-18:00": ("closed", "open", "closed"),
        "Mo-Fr 10:00-21:00; Sa 10:00-19:00; Su 12:00-18:00": ("open", "closed", "closed"),
        "24/7": ("open", "open", "open"),
        # Monaco: past midnight belongs to the day before; lower case is read with a warning
        "Tu-Sa 18:00-02:00": ("open", "closed", "open"),
        "mo-sa 8:30-20:00": ("open", "open", "closed"),
        "12:00-14:00,19:00-21:30; Th off": ("open", "closed", "closed"),
        "08:00-23:30; Su 08:00-15:30; Mo off": ("open", "open", "closed"),
    }
    times = ["weekday 19:00", "weekend 09:00", "sun 01:00"]
    point = shapely.Point(24.94, 60.17)
    fac = gpd.GeoDataFrame(
        {"item_id": "x", "tags": [{"opening_hours": t} for t in cases]},
        geometry=[point] * len(cases),
        crs="EPSG:4326",
    )
    got = facility_hours(fac, times)
    for k, (tag, want) in enumerate(cases.items()):
        assert tuple(got.loc[k, times]) == want, tag
    # the first three are real tags of the sample (the others are Monaco's)
    sample_tags = {t.get("opening_hours") for t in sample_data.features["tags"]}
    assert set(list(cases)[:3]) <= sample_tags


def test_unparsable_real_tags_are_unknown_and_counted(sample_facilities):
    fac = sample_facilities
    with pytest.warns(UserWarning, match=r"(\d+) of (\d+) facilities with an opening_hours"):
        got = facility_hours(fac, ["weekday 19:00"])
    bad = got[got["hours"] == "unparsable"]
    assert len(bad) == 4
    assert "Mon - Fri 11am - 11pm, Sat 12am - 11pm, Sun 2pm - 10pm" in set(bad["opening_hours"])
    assert (bad["weekday 19:00"] == "unknown").all()
    none = got[got["hours"] == "no_hours"]
    assert (none["weekday 19:00"] == "unknown").all() and (none["opening_hours"] == "").all()


def _tagged_nodes(path) -> gpd.GeoDataFrame:
    """Every node of an OSM file with an ``opening_hours`` tag (pyosmium, no network)."""
    import osmium

    rows = []
    for n in osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter("opening_hours")):
        if n.is_node():
            rows.append((n.tags["opening_hours"], n.location.lon, n.location.lat))
    return gpd.GeoDataFrame(
        {"item_id": "x", "tags": [{"opening_hours": t} for t, _, _ in rows]},
        geometry=[shapely.Point(x, y) for _, x, y in rows],
        crs="EPSG:4326",
    )


@needs_shared
def test_real_tags_of_the_shared_extracts():
    """Liechtenstein's phone number in opening_hours is unreadable; Monaco's all read."""
    for name, n_bad in (("liechtenstein_2015.osm.pbf", 1), ("monaco_2016.osm.pbf", 0)):
        fac = _tagged_nodes(SHARED / "benchmark" / name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = facility_hours(fac, ["weekday 19:00"])
        assert len(got) > 5
        assert int((got["hours"] == "unparsable").sum()) == n_bad, name
        if n_bad:
            assert "+423 232 48 18" in set(got.loc[got["hours"] == "unparsable", "opening_hours"])


def test_public_holidays_follow_the_country():
    """1 October is China's National Day (PH) but an ordinary Wednesday in Finland."""
    tag = {"opening_hours": "Mo-Fr 08:00-18:00; PH off"}
    fac = gpd.GeoDataFrame(
        {"item_id": ["x", "x"], "tags": [tag, tag]},
        geometry=[shapely.Point(116.40, 39.90), shapely.Point(24.94, 60.17)],
        crs="EPSG:4326",
    )
    got = facility_hours(fac, ["2025-10-01 10:00", "wed 10:00"])
    assert got["2025-10-01 10:00"].tolist() == ["closed", "open"]
    assert got["wed 10:00"].tolist() == ["open", "open"]


def test_user_table_opening_hours_column():
    df = pd.DataFrame(
        {
            "item": ["药店", "pharmacy", "supermarket"],
            "lon": [116.40, 116.41, 116.42],
            "lat": [39.90, 39.91, 39.92],
            "营业时间": ["Mo-Su 08:00-22:00", None, "周一至周日 8:00-22:00"],
        }
    )
    fac = facilities_from_table(df, item_column="item")
    with pytest.warns(UserWarning, match="1 of 2 facilities"):
        got = facility_hours(fac, ["weekday 21:00"])
    assert got[["hours", "weekday 21:00"]].values.tolist() == [
        ["tagged", "open"],
        ["no_hours", "unknown"],
        ["unparsable", "unknown"],
    ]


# ---------------------------------------------------------------------------- hand-computed

X0, Y0 = 440_000.0, 4_420_000.0  # UTM 50N (Beijing): local time is China's
CATALOGUE = """\
schema_version: 1
name: tiny
title_zh: 小
title_en: Tiny
items:
  - id: pharmacy
  - id: supermarket
"""


def _street() -> object:
    """A straight street of 13 nodes, 100 m apart."""
    G = nx.Graph(crs="EPSG:32650")
    for i in range(13):
        G.add_node(i + 1, x=X0 + 100.0 * i, y=Y0)
    for i in range(12):
        G.add_edge(i + 1, i + 2, length=100.0)
    return from_networkx(G)


def _points(xs: list[float]) -> list[shapely.Point]:
    return [shapely.Point(X0 + x, Y0) for x in xs]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "tiny.yaml"
    path.write_text(CATALOGUE, encoding="utf-8")
    cat = load_catalogue(path)
    fac = gpd.GeoDataFrame(
        {
            "item_id": ["pharmacy"] * 3 + ["supermarket"] * 3,
            "tags": [
                {"opening_hours": "24/7"},  # at 0 m
                {"opening_hours": "Mo-Fr 08:00-18:00; PH off"},  # 1,200 m
                {},  # 900 m: no hours
                {"opening_hours": "Mo-Sa 08:00-20:00"},  # 750 m
                {"opening_hours": "Mo-Fr 09:00-21:00 unknown"},  # 1,100 m
                {"opening_hours": "Mon-Fri 9am-9pm"},  # 300 m: unreadable
            ],
        },
        geometry=_points([0, 1200, 900, 750, 1100, 300]),
        crs="EPSG:32650",
    ).to_crs("EPSG:4326")
    com = gpd.GeoDataFrame(
        {"community_id": ["west", "east"], "community_name": ["West", "East"]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 450, Y0 + 50)] * 2,
        crs="EPSG:32650",
    )
    homes = gpd.GeoDataFrame(
        {"community_id": ["west", "east", "east"], "weight": [2.0, 1.0, 1.0]},
        geometry=_points([100, 1150, 800]),
        crs="EPSG:32650",
    )
    return _street(), fac, cat, com, homes


def test_hand_computed_coverage_at_times(tiny):
    """1 m/s: a pharmacy within 300 m (5 min), a supermarket within 600 m (10 min).

    West (weight 2) lives at 100 m; East at 1,150 m and 800 m (weight 1 each). Pharmacies at
    0 m (24/7), 1,200 m (weekdays 8-18, closed on public holidays) and 900 m (no hours);
    supermarkets at 750 m (Mo-Sa 8-20), 1,100 m (hours unknown, weekdays 9-21) and 300 m
    (unreadable hours).
    """
    net, fac, cat, com, homes = tiny
    times = ["weekday 19:00", "weekend 09:00", "wed 10:00", "2025-10-01 10:00"]
    with pytest.warns(UserWarning, match="1 of 5 facilities"):
        res = coverage_at_times(net, fac, cat, com, homes, times, speed=1.0)
    t = res.table.set_index(["time", "item_id"])
    # pharmacies: counts, then (met open, open or unknown, any) and the same for residents
    # weekday 19:00 / Saturday 09:00 / National Day: 0 m open, 1,200 m closed, 900 m unknown.
    #   open: West 100 m ✓; East 1,150 and 800 m ✗ -> 1 of 2 communities, 2 of 4 residents;
    #   with unknown: East reaches 900 m (250, 100 m) -> all.
    # Wednesday 10:00: 1,200 m is open too: East 50 m ✓, 800 m -> 400 m ✗: East 1/2 < 0.8.
    pharmacy = {
        "weekday 19:00": (1, 1, 1, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
        "weekend 09:00": (1, 1, 1, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
        "wed 10:00": (2, 0, 1, 0.5, 1.0, 1.0, 0.75, 1.0, 1.0),
        "2025-10-01 10:00": (1, 1, 1, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
    }
    # supermarkets: 750 m open at all four times (West 650 m ✗; East 400, 50 m ✓);
    # 1,100 m unknown on weekdays by its tag, closed on Saturday; 300 m always unknown
    # (West 200 m ✓ with unknown).
    supermarket = {
        "weekday 19:00": (1, 0, 2, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
        "weekend 09:00": (1, 1, 1, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
        "wed 10:00": (1, 0, 2, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
        "2025-10-01 10:00": (1, 0, 2, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0),
    }
    cols = [
        "open",
        "closed",
        "unknown",
        "communities_met_open",
        "communities_met_open_or_unknown",
        "communities_met_any_hours",
        "residents_within_tier_open",
        "residents_within_tier_open_or_unknown",
        "residents_within_tier_any_hours",
    ]
    for item, want in (("pharmacy", pharmacy), ("supermarket", supermarket)):
        for time, values in want.items():
            got = t.loc[(time, item), cols].to_numpy(dtype=float)
            np.testing.assert_allclose(got, values, err_msg=f"{item} at {time}")
    # why unknown: no hours; unreadable; the tag says unknown (weekdays only)
    why = ["unknown_no_hours", "unknown_unparsable", "unknown_in_tag"]
    assert t.loc[("weekday 19:00", "pharmacy"), why].tolist() == [1, 0, 0]
    assert t.loc[("weekday 19:00", "supermarket"), why].tolist() == [0, 1, 1]
    assert t.loc[("weekend 09:00", "supermarket"), why].tolist() == [0, 1, 0]
    # coverage rate (both items required): West lacks a supermarket, East a pharmacy
    s = res.summary
    assert s["facilities"] == 6 and s["facilities_with_hours"] == 5
    assert s["facilities_unparsable"] == 1
    for entry in s["times"]:
        assert entry["coverage_rate"] == {"open": 0.0, "open_or_unknown": 1.0, "any_hours": 1.0}
    assert s["times"][0]["facilities"] == {
        "facilities": 6,
        "open": 2,
        "closed": 1,
        "unknown": 3,
        "unknown_no_hours": 1,
        "unknown_unparsable": 1,
        "unknown_in_tag": 1,
    }
    assert list(res.table.columns) == HOURS_COLUMNS


def test_hand_case_walks_by_networkx(tiny):
    """The walks the hand-computed case relies on, by networkx on the same street."""
    net, fac, cat, _, homes = tiny
    G = nx.Graph()
    for u, v, w in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        G.add_edge(int(u), int(v), weight=float(w))
    node_at = {round(float(x) - X0): k for k, x in enumerate(net.x)}
    d = dict(nx.all_pairs_dijkstra_path_length(G))
    east_home, pharmacy_1200 = node_at[800], node_at[1200]
    assert d[east_home][pharmacy_1200] == pytest.approx(400.0)
    # the library agrees: only the 1,200 m pharmacy open -> the 800 m home walks 400 s
    only = fac.iloc[[1]]
    tt = travel_times(net, only, cat, speed=1.0)
    minutes, _ = origin_times(net, tt, homes)
    assert minutes[2, 0] * 60 == pytest.approx(d[east_home][pharmacy_1200])


# ---------------------------------------------------------------------------- brute force


@pytest.fixture(scope="module")
def sample_report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report(SAMPLE)


def test_spliced_travel_times_equal_a_fresh_run_on_the_open_facilities(sample_report):
    rep = sample_report
    hours = rep.opening_hours
    assert hours is not None and [t.label for t in hours.times] == [
        "weekday 19:00",
        "weekend 09:00",
    ]
    speeds = dict(zip(rep.travel.item_ids, rep.travel.speed.tolist(), strict=True))
    run = _Run(
        rep.network,
        rep.facilities.reset_index(drop=True),
        rep.catalogue,
        rep.communities,
        rep.residents,
        speeds,
        rep.entrances,
        rep.threshold,
        rep.config.engine,
        rep.origin_minutes,
    )
    items = rep.catalogue.items
    for t in hours.times:
        state = hours.facilities[t.label].to_numpy()
        for name, keep in (("open", state == "open"), ("open_or_unknown", state != "closed")):
            fac = rep.facilities[keep]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tt = travel_times(
                    rep.network, fac, rep.catalogue, speed=speeds, entrances=rep.entrances
                )
            fresh, _ = origin_times(rep.network, tt, rep.residents)
            np.testing.assert_array_equal(run.minutes_with(keep), fresh)
            # and the figures of the table are those of the fresh run, scored as usual
            counts = fac["item_id"].value_counts().to_dict()
            cov = score_coverage(
                rep.communities, rep.residents, fresh, items, facility_counts=counts
            )
            stats = item_stats(cov, items, counts)
            rows = hours.table[hours.table["time"] == t.label]
            np.testing.assert_array_equal(  # to the bit
                rows[f"residents_within_tier_{name}"].to_numpy(dtype=float),
                stats["share_within_tier"].to_numpy(dtype=float),
            )
            scored = cov.summary["communities_scored"]
            np.testing.assert_array_equal(
                rows[f"communities_met_{name}"].to_numpy(dtype=float),
                stats["communities_met"].to_numpy() / scored,
            )
            got = next(x for x in hours.summary["times"] if x["label"] == t.label)
            for rate in ("coverage_rate", "coverage_rate_weighted"):
                assert got[rate][name] == cov.summary[rate]


def _run_of(rep, travel=None):
    speeds = dict(zip(rep.travel.item_ids, rep.travel.speed.tolist(), strict=True))
    run = _Run(
        rep.network,
        rep.facilities.reset_index(drop=True),
        rep.catalogue,
        rep.communities,
        rep.residents,
        speeds,
        rep.entrances,
        rep.threshold,
        rep.config.engine,
        rep.origin_minutes,
    )
    run.travel = travel
    return run, speeds


@pytest.mark.parametrize("with_travel", [True, False])
def test_figures_of_any_facility_subset_equal_a_fresh_scoring(
    sample_report, monkeypatch, with_travel
):
    """Random subsets of the facilities (some items kept whole, some emptied, some in part):
    the figures equal a fresh travel_times + origin_times + score_coverage + item_stats run on
    the kept facilities, to the bit, with the items re-routed two at a time."""
    import fifteenmin.hours as hours_mod

    monkeypatch.setattr(hours_mod, "_ITEMS_PER_SEARCH", 2)
    rep = sample_report
    run, speeds = _run_of(rep, rep.travel if with_travel else None)
    items = rep.catalogue.items
    item = rep.facilities["item_id"].to_numpy()
    ids = sorted(set(item))
    rng = np.random.default_rng(7)
    masks = [np.zeros(len(item), bool), np.ones(len(item), bool)]
    for _ in range(3):
        whole = set(rng.choice(ids, size=len(ids) // 3, replace=False))
        none = set(rng.choice(sorted(set(ids) - whole), size=len(ids) // 3, replace=False))
        keep = rng.random(len(item)) < 0.5
        keep[np.isin(item, list(whole))] = True
        keep[np.isin(item, list(none))] = False
        masks.append(keep)
    for keep in masks:
        fac = rep.facilities[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = travel_times(
                rep.network, fac, rep.catalogue, speed=speeds, entrances=rep.entrances
            )
        fresh, _ = origin_times(rep.network, tt, rep.residents)
        cov = score_coverage(rep.communities, rep.residents, fresh, items, facility_counts={})
        stats = item_stats(cov, items, {})
        got = run.figures(keep)
        np.testing.assert_array_equal(got.share_within_tier, stats["share_within_tier"])
        np.testing.assert_array_equal(got.communities_met, stats["communities_met"])
        for rate in ("coverage_rate", "coverage_rate_weighted"):
            assert got.summary[rate] == cov.summary[rate]
        np.testing.assert_array_equal(run.minutes_with(keep), fresh)


def test_counts_by_brute_force_and_bounds(sample_report):
    """Per item and time, counting each facility's state by hand; open <= open or unknown."""
    import opening_hours

    rep = sample_report
    hours = rep.opening_hours
    fac = rep.facilities
    pts = fac.geometry.to_crs("EPSG:4326").representative_point()
    for t in hours.times:
        want: dict[tuple[str, str], int] = {}
        for item, tags, p in zip(fac["item_id"], fac["tags"], pts, strict=True):
            text = (tags.get("opening_hours") or "").strip()
            state = "unknown"
            if text:
                try:
                    oh = opening_hours.OpeningHours(text, coords=(p.y, p.x))
                    state = str(oh.state(t.when)[0])
                except Exception:  # unreadable: unknown
                    pass
            want[(item, state)] = want.get((item, state), 0) + 1
        rows = hours.table[hours.table["time"] == t.label].set_index("item_id")
        for item in rows.index:
            for s in ("open", "closed", "unknown"):
                assert rows.loc[item, s] == want.get((item, s), 0), (t.label, item, s)
        tab = hours.table
        for lo, hi in (("open", "open_or_unknown"), ("open_or_unknown", "any_hours")):
            for what in ("communities_met", "residents_within_tier"):
                a, b = tab[f"{what}_{lo}"].to_numpy(), tab[f"{what}_{hi}"].to_numpy()
                assert (a <= b + 1e-12).all(), (what, lo, hi)
    # the run's own figures are the any-hours columns
    base = item_stats(rep.coverage, rep.catalogue.items, {})
    first = hours.table[hours.table["time"] == "weekday 19:00"]
    np.testing.assert_allclose(
        first["residents_within_tier_any_hours"].to_numpy(dtype=float),
        base["share_within_tier"].to_numpy(dtype=float),
        rtol=1e-12,
    )
    scored = rep.coverage.summary["communities_scored"]
    np.testing.assert_array_equal(
        first["communities_met_any_hours"].to_numpy(dtype=float) * scored,
        base["communities_met"].to_numpy(dtype=float),
    )


def test_other_times_on_a_finished_run(sample_report):
    """At three on a Sunday night banks and supermarkets are closed, unlike Saturday 09:00."""
    night = opening_hours_coverage(sample_report, ["sun 03:00"]).table.set_index("item_id")
    day = sample_report.opening_hours.table
    day = day[day["time"] == "weekend 09:00"].set_index("item_id")
    assert night.loc["bank", "open"] == 0
    assert night.loc["supermarket", "open"] < day.loc["supermarket", "open"]
    assert (night["open"] + night["closed"] + night["unknown"] == night["facilities"]).all()


# ---------------------------------------------------------------------------- end to end


@needs_shared
def test_cli_end_to_end_on_beijing(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["report", str(BEIJING), "--out", str(out), "--no-isochrones", "--no-sites", "-q"]
    assert main([*args, "--at", "weekday 19:00", "--at", "2025-10-01 10:00"]) == 0
    raw = (out / "opening_hours.csv").read_bytes()
    assert raw.startswith("\ufefftime,datetime,item_id".encode())
    table = pd.read_csv(out / "opening_hours.csv")
    assert list(table.columns) == HOURS_COLUMNS
    assert set(table["datetime"]) == {"2025-10-15T19:00", "2025-10-01T10:00"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [t["label"] for t in summary["opening_hours"]["times"]] == [
        "weekday 19:00",
        "2025-10-01 10:00",
    ]
    # the same run through the API gives the same figures
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = run_report(BEIJING, opening_hours_at=("weekday 19:00", "2025-10-01 10:00"))
    api = rep.opening_hours.table
    np.testing.assert_allclose(
        table.select_dtypes("number").to_numpy(dtype=float),
        api[table.select_dtypes("number").columns].to_numpy(dtype=float),
        atol=5e-5,
    )
    assert summary["opening_hours"] == json.loads(json.dumps(rep.summary()["opening_hours"]))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fm-hours"' in page and "2025-10-01T10:00" in page
    assert "opening_hours.csv" in (out / "README.txt").read_text(encoding="utf-8")
    # a rerun without opening hours leaves no stale file, and no section in the summary
    assert main([*args, "--no-opening-hours", "--no-html"]) == 0
    assert not (out / "opening_hours.csv").exists()
    assert "opening_hours" not in json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # a bad time: one line, exit 2, before any work
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main([*args, "--at", "someday 19:00"])
    assert exc.value.code == 2
    assert "unknown day 'someday'" in capsys.readouterr().err
