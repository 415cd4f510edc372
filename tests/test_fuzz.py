"""Fuzzing: mutated OSM files and user tables end in a clear library error or a valid result.

Hypothesis mutates real OSM data (the small street grid of ``test_bad_input``, a fixture of
``../shared/data/osm/fixtures`` and a small PBF): truncation, byte flips, dropped nodes,
extreme coordinates, huge tags, negative ids, odd attributes; and user tables: community
layers (null, empty, swapped, far, point geometries; missing, duplicate, numeric ids) and
facility CSV files (unknown items, text, swapped or out-of-range coordinates, odd encodings).

Every example must end in a :class:`~fifteenmin.FifteenminError` (one line; exit status 2 in
the command line) or a valid result; never another exception, never a hang (a timer stops an
example after :data:`HANG_S` seconds). The budget is bounded (``max_examples``, a deadline per
example) so that the file takes well under a minute; in CI (``CI`` set) conftest loads the
derandomised ``ci`` profile, so every run tries the same examples.
"""

from __future__ import annotations

import bz2
import contextlib
import json
import math
import re
import signal
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fifteenmin as fm
from conftest import SHARED
from fifteenmin.cli import main
from fifteenmin.communities import communities_from_frame, residents_from_population
from fifteenmin.facilities import facilities_from_table
from test_bad_input import LAT0, LON0, PHARMACY, grid, osm_xml

#: An example taking longer than this is a hang.
HANG_S = 60
#: Hypothesis' deadline per example (a slow example fails the test, with its input).
DEADLINE = timedelta(seconds=30)
FAST = settings(
    max_examples=40,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SLOW = settings(FAST, max_examples=15)
FIXTURE = SHARED / "fixtures" / "osmnx_west_oakland_2016.osm.bz2"
SMALL_PBF = SHARED / "fixtures" / "pyogrio_sample_2012.osm.pbf"


@contextlib.contextmanager
def no_hang(seconds: int = HANG_S) -> Iterator[None]:
    """Raise ``TimeoutError`` if the block runs longer than ``seconds`` (a hang)."""

    def alarm(*_: object) -> None:
        raise TimeoutError(f"no result after {seconds} s: a hang")

    before = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def clear_error_or(call: Callable[[], object]) -> object | None:
    """The result of ``call``, or None for a library error with a one-line message."""
    with no_hang(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except fm.FifteenminError as exc:
            text = str(exc)
            assert text and "\n" not in text, repr(text)
            event(f"error: {type(exc).__name__}")  # --hypothesis-show-statistics
            return None
    event("result")
    return result


def assert_valid_results(res: fm.Results) -> None:
    """A finished run: a summary that is valid JSON, counts that add up, rates in [0, 1]."""
    s = res.summary()
    json.dumps(s, allow_nan=False)
    assert s["communities"] >= 1 and s["network"]["nodes"] >= 2
    assert sum(s["facilities"]["per_item"].values()) == s["facilities"]["total"]
    assert 0.0 <= s["coverage"]["coverage_rate"] <= 1.0
    assert len(res.coverage.table) == s["communities"] * len(res.catalogue)


# ============================================================================ OSM mutations

_NODE = re.compile(rb"<node [^>]*?(?:/>|>.*?</node>)", re.S)
_COORD = re.compile(rb'\b(lat|lon)="([^"]*)"')
_ID = re.compile(rb'\b(id|ref)="(\d+)"')
EXTREME = [b"91", b"-90.0000001", b"180.0000001", b"-181", b"1e10", b"-1e308", b"nan", b"inf",
           b"", b"1e400", b"0", b"abc", b"60,17"]  # fmt: skip


@st.composite
def mutation(draw: st.DrawFn) -> Callable[[bytes], bytes]:
    """One mutation of OSM XML bytes."""
    kind = draw(st.sampled_from(
        ["truncate", "flip", "drop_nodes", "coordinate", "huge_tag", "negate", "attribute",
         "duplicate"]
    ))  # fmt: skip
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "truncate":
        share = draw(st.floats(0.0, 1.0))
        return lambda b: b[: int(len(b) * share)]
    if kind == "flip":
        n = draw(st.integers(1, 20))

        def flip(b: bytes) -> bytes:
            a = bytearray(b)
            for i in rng.integers(0, len(a), size=min(n, len(a))):
                a[i] = int(rng.integers(0, 256))
            return bytes(a)

        return flip
    if kind == "drop_nodes":
        share = draw(st.floats(0.0, 1.0))
        return lambda b: _NODE.sub(lambda m: b"" if rng.random() < share else m.group(0), b)
    if kind == "coordinate":
        value = draw(st.sampled_from(EXTREME))
        share = draw(st.floats(0.0, 0.5))

        def coord(b: bytes) -> bytes:
            return _COORD.sub(
                lambda m: m.group(1) + b'="' + value + b'"' if rng.random() < share else m.group(0),
                b,
            )

        return coord
    if kind == "huge_tag":
        size = draw(st.sampled_from([255, 256, 1023, 1024, 1025, 5000]))
        tag = b'<tag k="name" v="' + b"x" * size + b'"/>'
        return lambda b: b.replace(b'version="1" >', b'version="1" >' + tag, 1).replace(
            b"</way>", tag + b"</way>", 1
        )
    if kind == "negate":
        share = draw(st.floats(0.0, 1.0))
        return lambda b: _ID.sub(
            lambda m: (
                m.group(1) + b'="-' + m.group(2) + b'"' if rng.random() < share else m.group(0)
            ),
            b,
        )
    if kind == "attribute":
        attr = draw(st.sampled_from(
            [b'uid="-1"', b'version="-3"', b'timestamp="yesterday"', b'changeset="x"',
             b'visible="maybe"', b'user="\xff"']
        ))  # fmt: skip
        return lambda b: b.replace(b"<node ", b"<node " + attr + b" ", 3)
    count = draw(st.integers(1, 5))  # duplicate: elements repeated
    return lambda b: _NODE.sub(lambda m: m.group(0) * (count if rng.random() < 0.2 else 1), b)


def apply(data: bytes, mutations: list[Callable[[bytes], bytes]]) -> bytes:
    for m in mutations:
        data = m(data)
    return data


GRID_XML = osm_xml([*grid()[0], PHARMACY], grid()[1]).encode()


@pytest.fixture(scope="module")
def cat() -> fm.Catalogue:
    return fm.load_catalogue("beijing")


@FAST
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_grid_osm(tmp_path_factory, mutations):
    path = tmp_path_factory.mktemp("osm") / "grid.osm"
    path.write_bytes(apply(GRID_XML, mutations))
    res = clear_error_or(lambda: fm.run_pipeline(path))
    if res is not None:
        assert_valid_results(res)  # type: ignore[arg-type]


@pytest.mark.skipif(not FIXTURE.is_file(), reason="../shared/data/osm/fixtures is not here")
@SLOW
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_real_osm(tmp_path_factory, mutations):
    path = tmp_path_factory.mktemp("osm") / "oakland.osm"
    path.write_bytes(apply(bz2.decompress(FIXTURE.read_bytes()), mutations))
    res = clear_error_or(lambda: fm.run_pipeline(path))
    if res is not None:
        assert_valid_results(res)  # type: ignore[arg-type]


@pytest.mark.skipif(not SMALL_PBF.is_file(), reason="../shared/data/osm/fixtures is not here")
@SLOW
@given(
    st.one_of(st.just(1.0), st.floats(0.0, 1.0)),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
)
def test_mutated_pbf(tmp_path_factory, keep, flips):
    data = bytearray(SMALL_PBF.read_bytes())
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = tmp_path_factory.mktemp("pbf") / "small.osm.pbf"
    path.write_bytes(bytes(data[: max(1, int(len(data) * keep))]))
    res = clear_error_or(lambda: fm.run_pipeline(path))
    if res is not None:
        assert_valid_results(res)  # type: ignore[arg-type]


@settings(FAST, max_examples=6)
@given(st.lists(mutation(), min_size=1, max_size=2))
def test_mutated_osm_through_the_command_line(tmp_path_factory, mutations):
    """Exit 0 with the report's files, or exit 2 with one line; a good report untouched."""
    d = tmp_path_factory.mktemp("cli")
    path = d / "grid.osm"
    path.write_bytes(apply(GRID_XML, mutations))
    out = d / "out"
    err_lines: list[str] = []
    with no_hang(), contextlib.redirect_stderr(_Lines(err_lines)):
        rc = main(["report", str(path), "--no-html", "-q", "--out", str(out)])
    if rc == 0:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["communities"] >= 1
    else:
        assert rc == 2 and len(err_lines) == 1 and err_lines[0].startswith("fifteenmin: error: ")
        assert not out.exists()  # a failed run leaves no folder


class _Lines:
    """A text stream that keeps the lines written to it."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, text: str) -> int:
        self.lines.extend(t for t in text.splitlines() if t.strip())
        return len(text)

    def flush(self) -> None:
        pass


# ============================================================================ user tables


@pytest.fixture(scope="module")
def grid_net(tmp_path_factory):
    path = tmp_path_factory.mktemp("net") / "grid.osm"
    path.write_bytes(GRID_XML)
    data = fm.read_osm(path)
    return fm.network_from_file(data), data


def _box(dx: float, dy: float) -> shapely.Polygon:
    return shapely.box(LON0 + dx, LAT0 + dy, LON0 + dx + 0.0014, LAT0 + dy + 0.0015)


INSIDE = st.builds(_box, st.floats(0, 0.004), st.floats(0, 0.004))  # inside the grid
GEOMETRY = st.one_of(
    INSIDE,
    INSIDE,
    INSIDE,
    INSIDE,
    INSIDE,
    INSIDE,
    st.builds(_box, st.floats(-20, 20), st.floats(-20, 20)),  # anywhere near
    st.just(None),
    st.just(shapely.Polygon()),
    st.builds(shapely.Point, st.floats(-180, 180), st.floats(-90, 90)),
    st.just(shapely.box(LAT0, LON0, LAT0 + 0.001, LON0 + 0.001)),  # swapped
    st.just(shapely.box(385000, 6672000, 385100, 6672100)),  # metres
    st.just(shapely.box(LON0, 95, LON0 + 0.001, 96)),  # beyond 90
)
UNIQUE = st.uuids().map(str)
IDS = st.one_of(
    UNIQUE, UNIQUE, UNIQUE, st.text(max_size=4), st.integers(-3, 3), st.none(),
    st.just(float("nan")),
)  # fmt: skip


@FAST
@given(st.lists(st.tuples(GEOMETRY, IDS), min_size=0, max_size=6), st.booleans())
def test_fuzzed_community_layers(grid_net, rows, use_ids):
    net, data = grid_net
    g = gpd.GeoDataFrame(
        {"code": pd.Series([r[1] for r in rows], dtype=object)},
        geometry=[r[0] for r in rows],
        crs=4326,
    )

    def run() -> object:
        com = communities_from_frame(g, id_column="code" if use_ids else None)
        assert com["community_id"].is_unique and com.crs.to_epsg() == 4326
        assert len(com) <= len(g) and shapely.is_valid(com.geometry.values).all()
        homes = fm.residents(com, net, data)
        assert set(homes["community_id"]) <= set(com["community_id"])
        return homes

    clear_error_or(run)


PEOPLE = st.floats(0, 1e5)
CELL = st.one_of(
    PEOPLE,
    PEOPLE,
    PEOPLE,
    PEOPLE,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10, 10**13),
    st.text(max_size=3),
    st.none(),
)


@FAST
@given(st.lists(CELL, min_size=1, max_size=9))
def test_fuzzed_population_values(grid_net, values):
    net, data = grid_net
    com = gpd.GeoDataFrame({"community_id": ["a"], "community_name": ["a"], "source": "file"},
                           geometry=[_box(0.001, 0.001)], crs=4326)  # fmt: skip
    cells = [_box(0.0005 * (i % 3), 0.0005 * (i // 3)) for i in range(len(values))]
    pop = gpd.GeoDataFrame({"people": pd.Series(values, dtype=object)}, geometry=cells, crs=4326)

    def run() -> object:
        homes = residents_from_population(com, pop, net, value_column="people", data=data)
        w = homes["weight"].to_numpy()
        assert np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0
        assert homes.attrs["population_assigned"] <= homes.attrs["population_total"] * (1 + 1e-9)
        return homes

    clear_error_or(run)


COORD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "n/a", "116.4", "39.9", "24.9425", "60.1725", "1e400", "-0", "１１６"]),
)
ITEM = st.sampled_from(
    ["pharmacy", "药店", "Pharmacy", "farmacy", "", "=cmd|' /C calc'!A0", "kindergarten",
     "居住区公园", None]
)  # fmt: skip
GOOD_ROW = st.tuples(
    st.sampled_from(["pharmacy", "kindergarten", "药店"]),
    st.floats(LON0, LON0 + 0.005).map(repr),
    st.floats(LAT0, LAT0 + 0.005).map(repr),
)
ROW = st.one_of(GOOD_ROW, GOOD_ROW, GOOD_ROW, GOOD_ROW, st.tuples(ITEM, COORD, COORD))
SEP = st.sampled_from([",", ";", "\t", "|"])
ENCODING = st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"])


@FAST
@given(st.lists(ROW, min_size=0, max_size=6), SEP, ENCODING)
def test_fuzzed_facility_tables(tmp_path_factory, rows, sep, encoding):
    lines = [sep.join(["item", "lon", "lat"])]
    lines += [sep.join("" if v is None else str(v) for v in r) for r in rows]
    path = tmp_path_factory.mktemp("fac") / "posts.csv"
    try:
        path.write_bytes("\n".join(lines).encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes("\n".join(lines).encode("utf-8"))

    def run() -> object:
        fac = facilities_from_table(path, item_column="item")
        pts = fac.geometry
        assert pts.notna().all() and (pts.x.abs() <= 180).all() and (pts.y.abs() <= 90).all()
        assert fac["osm_id"].between(0, len(rows) - 1).all()
        assert not math.isnan(float(pts.x.sum()))
        return fac

    clear_error_or(run)
