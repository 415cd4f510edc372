"""Bad input, as a hostile new user gives it: one clear line, exit status 2, nothing lost.

Every case runs the command line in-process on small inputs written here (a six-by-six street
grid as ``.osm`` XML, GeoJSON/GeoPackage/CSV tables) and checks:

* **errors**: exit status 2, exactly one line ``fifteenmin: error: ...`` on stderr naming the
  problem, no traceback, and the good report written earlier into the same ``--out`` folder is
  byte for byte untouched (no file changed, added or removed);
* **usage errors** (argparse: a malformed option value): exit status 2, the last line
  ``fifteenmin <command>: error: ...``, no traceback, the good report untouched;
* **repairs**: exit status 0 and a ``[fifteenmin] warning: ...`` line that says what was
  dropped or changed (and, for facilities, that dropped rows are not counted);
* the Python API raises the library's errors only (``FifteenminError``; a ``TypeError`` too
  for arguments of the wrong type), never a raw exception from deep inside.

``docs/errors.md`` lists every error and warning.
"""

from __future__ import annotations

import bz2
import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fifteenmin as fm
from conftest import SAMPLE
from fifteenmin._errors import ConfigTypeError, LayerTypeError
from fifteenmin.cli import main

# ============================================================================ small inputs

LON0, LAT0, STEP = 24.94, 60.17, 0.001  # a 6 x 6 street grid, about 55 m x 110 m cells


def osm_xml(nodes: list[tuple], ways: list[tuple], extra: str = "") -> str:
    """OSM XML from ``(id, lat, lon, tags[, attrs])`` nodes and ``(id, refs, tags)`` ways."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for n in nodes:
        nid, lat, lon, tags = n[:4]
        attrs = n[4] if len(n) > 4 else ""
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<node id="{nid}" lat="{lat}" lon="{lon}" version="1" {attrs}>{t}</node>')
    for wid, refs, tags in ways:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}" version="1">{nd}{t}</way>')
    out += [extra, "</osm>"]
    return "\n".join(out)


def grid(sign: int = 1, attrs: str = "") -> tuple[list[tuple], list[tuple]]:
    """The street grid's nodes and ways (ids negated with ``sign=-1``, like JOSM's new ones)."""
    nodes, ways, ids = [], [], {}
    for i in range(6):
        for j in range(6):
            ids[i, j] = sign * (1 + 6 * i + j)
            nodes.append((ids[i, j], LAT0 + i * STEP, LON0 + j * STEP, {}, attrs))
    for i in range(6):
        ways.append((sign * (1 + i), [ids[i, j] for j in range(6)], {"highway": "residential"}))
    for j in range(6):
        ways.append((sign * (7 + j), [ids[i, j] for i in range(6)], {"highway": "footway"}))
    return nodes, ways


PHARMACY = (100, LAT0 + 2.5 * STEP, LON0 + 2.5 * STEP, {"amenity": "pharmacy", "name": "P"})


def boxes(n: int = 3, dx: float = 0.0, dy: float = 0.0) -> list[shapely.Polygon]:
    """``n`` small community squares inside the grid (shifted by ``dx``/``dy`` degrees)."""
    x, y = LON0 + dx, LAT0 + dy
    return [shapely.box(x + 0.0015 * i, y, x + 0.0015 * i + 0.0014, y + 0.0015) for i in range(n)]


def cells(value: object = 100.0, n: int = 4) -> gpd.GeoDataFrame:
    """A population grid of ``n`` x ``n`` cells over the communities."""
    geoms = [
        shapely.box(LON0 + STEP * i, LAT0 + STEP * j, LON0 + STEP * (i + 1), LAT0 + STEP * (j + 1))
        for i in range(n)
        for j in range(n)
    ]
    values = value if isinstance(value, list) else [value] * len(geoms)
    return gpd.GeoDataFrame({"population": values}, geometry=geoms, crs=4326)


def _write_osm(d: Path) -> None:
    nodes, ways = grid()
    w = (d / "good.osm").write_text
    w(osm_xml([*nodes, PHARMACY], ways))
    (d / "bad_lon.osm").write_text(osm_xml([*nodes, (101, LAT0, 500.0, {"shop": "x"})], ways))
    (d / "bad_lat_text.osm").write_text(osm_xml([*nodes, (101, "abc", LON0, {"shop": "x"})], ways))
    (d / "bad_lat_nan.osm").write_text(osm_xml([*nodes, (101, "nan", LON0, {"shop": "x"})], ways))
    long_value = {"amenity": "pharmacy", "name": "x" * 3000}
    (d / "long_value.osm").write_text(osm_xml([*nodes, (101, LAT0, LON0, long_value)], ways))
    long_key = {"k" * 2000: "v", "amenity": "pharmacy"}
    (d / "long_key.osm").write_text(osm_xml([*nodes, (101, LAT0, LON0, long_key)], ways))
    neg_uid = [(*n[:4], 'uid="-5" user="x"') for n in nodes]
    (d / "negative_uid.osm").write_text(osm_xml(neg_uid, ways))
    (d / "josm.osm").write_text(osm_xml(*grid(sign=-1, attrs='action="modify"')))
    mixed_ways = [*ways, (99, [1, -1, 2], {"highway": "footway"})]
    (d / "josm_mixed.osm").write_text(osm_xml([*nodes, (-1, LAT0, LON0, {})], mixed_ways))
    far_tagged = (101, 95.0, LON0, {"amenity": "pharmacy"})
    (d / "tagged_lat95.osm").write_text(osm_xml([*nodes, far_tagged], ways))
    moved = [*nodes]
    moved[3] = (moved[3][0], 95.0, moved[3][2], {})
    (d / "way_node_lat95.osm").write_text(osm_xml(moved, ways))
    (d / "clipped.osm").write_text(osm_xml(nodes, [*ways, (99, [1, 999, 2], {"highway": "path"})]))
    # ways before nodes: not sorted by type and id
    text = osm_xml(nodes, ways)
    head, body = text.split("\n", 2)[:2], text.split("\n", 2)[2]
    lines = body.splitlines()
    node_lines = [ln for ln in lines if ln.startswith("<node")]
    other = [ln for ln in lines if not ln.startswith("<node")]
    (d / "nodes_after_ways.osm").write_text(
        "\n".join([*head, *other[:-2], *node_lines, *other[-2:]])
    )
    (d / "unsorted.osm").write_text(osm_xml(nodes[::-1], ways[::-1]))
    (d / "only_nodes.osm").write_text(osm_xml([PHARMACY], []))
    (d / "no_data.osm").write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    good = (d / "good.osm").read_text()
    (d / "truncated.osm").write_text(good[: len(good) // 2])
    (d / "json.osm").write_text('{"type": "FeatureCollection", "features": []}')
    (d / "random.osm").write_bytes(np.random.default_rng(1).bytes(3000))
    (d / "zeros.osm").write_bytes(b"\0" * 4096)
    (d / "empty.osm").write_bytes(b"")
    (d / "map.txt").write_text(good)
    (d / "garbage.osm.bz2").write_bytes(b"BZh9" + b"\x11" * 500)
    (d / "good.osm.bz2").write_bytes(bz2.compress(good.encode()))
    (d / "xml.osm.pbf").write_text(good)
    (d / "truncated.osm.pbf").write_bytes(SAMPLE.read_bytes()[:5000])
    os.mkfifo(d / "pipe.osm")  # reading it would wait forever
    one_node = [*ways, (99, [1], {"highway": "footway"})]
    (d / "one_node_way.osm").write_text(osm_xml([*nodes, PHARMACY], one_node))
    relation = (
        '<relation id="1" version="1"><member type="way" ref="555" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/></relation>'
    )
    (d / "broken_relation.osm").write_text(osm_xml([*nodes, PHARMACY], ways, relation))
    (d / "bad_utf8.osm").write_bytes(good.replace('v="P"', 'v="\xff\xfe"').encode("latin-1"))


def _write_communities(d: Path) -> None:
    g = gpd.GeoDataFrame(
        {"code": ["a", "b", "c"], "name": ["A", "B", "C"]}, geometry=boxes(), crs=4326
    )
    g.to_file(d / "com.geojson")
    g.to_file(d / "com_multi.gpkg", layer="communities")
    g.head(1).to_file(d / "com_multi.gpkg", layer="other")
    g.drop(columns="geometry").to_csv(d / "com.csv", index=False)
    g.iloc[:0].to_file(d / "com_empty.geojson")
    gpd.GeoDataFrame({"code": ["p"]}, geometry=[shapely.Point(LON0, LAT0)], crs=4326).to_file(
        d / "com_points.geojson"
    )
    metres = json.loads(g.to_crs(3067).to_json())
    metres.pop("crs", None)  # a GeoJSON file in metres, read as degrees
    (d / "com_metres.geojson").write_text(json.dumps(metres))
    with pytest.warns(UserWarning):  # pyogrio: no CRS written
        g.set_crs(None, allow_override=True).to_file(d / "com_nocrs.shp")
    shifted = json.loads(g.to_json())
    for f in shifted["features"]:
        f["geometry"]["coordinates"] = [
            [[x, y + 35.0] for x, y in ring] for ring in f["geometry"]["coordinates"]
        ]
    (d / "com_lat95.geojson").write_text(json.dumps(shifted))
    wide = json.loads(g.to_json())
    for f in wide["features"]:
        f["geometry"]["coordinates"] = [
            [[x + 170.0, y] for x, y in ring] for ring in f["geometry"]["coordinates"]
        ]
    (d / "com_lon190.geojson").write_text(json.dumps(wide))
    g.assign(code=[1.0, np.nan, 3.0]).to_file(d / "com_nan_ids.geojson")
    g.assign(code=["a", " ", "c"]).to_file(d / "com_blank_ids.geojson")
    g.assign(code=["a", "a", "c"]).to_file(d / "com_dup_ids.geojson")
    far = gpd.GeoDataFrame({"name": list("xyz")}, geometry=boxes(dx=10.0), crs=4326)
    far.to_file(d / "com_far.geojson")
    swapped = list(shapely.transform(np.array(boxes(), dtype=object), lambda xy: xy[:, ::-1]))
    gpd.GeoDataFrame({"name": list("xyz")}, geometry=swapped, crs=4326).to_file(
        d / "com_swapped.geojson"
    )
    gpd.GeoDataFrame({"name": list("xyz")}, geometry=[None] * 3, crs=4326).to_file(
        d / "com_null.gpkg"
    )
    (d / "com_garbage.geojson").write_text("{ this is not json")
    nulls = g.copy()
    nulls.loc[1, "geometry"] = None
    nulls.loc[2, "geometry"] = shapely.Polygon()
    nulls.to_file(d / "com_some_null.gpkg")
    pd.concat(
        [g, gpd.GeoDataFrame({"code": ["p"]}, geometry=[shapely.Point(LON0, LAT0)], crs=4326)]
    ).to_file(d / "com_mixed.geojson")
    gpd.GeoDataFrame({"名称": ["东区", "西区", "北区"]}, geometry=boxes(), crs=4326).to_file(
        d / "com_zh.geojson"
    )
    gpd.GeoDataFrame({"id": ["c1", "c2", "c3"]}, geometry=boxes(), crs=4326).to_file(
        d / "com_idcol.geojson"
    )
    gpd.GeoDataFrame({"id": ["c1", "c1", "c3"]}, geometry=boxes(), crs=4326).to_file(
        d / "com_idcol_dup.geojson"
    )
    part = pd.concat([g, gpd.GeoDataFrame({"code": ["far"]}, geometry=boxes(1, dx=5.0), crs=4326)])
    part.to_file(d / "com_part_far.geojson")
    bowtie = shapely.Polygon([(LON0, LAT0), (LON0 + 0.004, LAT0 + 0.0015), (LON0 + 0.004, LAT0),
                              (LON0, LAT0 + 0.0015)])  # fmt: skip
    g.assign(geometry=[bowtie, *boxes(2, dx=0.0015)]).to_file(d / "com_bowtie.geojson")
    g.assign(geometry=[shapely.box(-180, -90, 180, 90), *boxes(2)]).to_file(d / "com_world.geojson")
    corner = shapely.box(LON0 + 0.0135, LAT0 + 0.0092, LON0 + 0.0136, LAT0 + 0.0093)
    g.assign(geometry=[corner, *boxes(2)]).to_file(d / "com_corner.geojson")
    g.assign(code=[1.0, 2.0, 3.0]).to_file(d / "com_float_ids.gpkg")
    formula = g.assign(name=['=HYPERLINK("http://x")', "+1", "@SUM(A1)"])
    formula.to_file(d / "com_formula.geojson")


def _write_population(d: Path) -> None:
    cells().to_file(d / "pop.gpkg")
    cells().to_file(d / "pop_multi.gpkg", layer="a")
    cells().to_file(d / "pop_multi.gpkg", layer="b")
    cells("many").to_file(d / "pop_text.gpkg")
    cells(-5.0).to_file(d / "pop_negative.gpkg")
    cells([np.inf] + [1.0] * 15).to_file(d / "pop_inf.gpkg")
    cells([1e12] + [1.0] * 15).to_file(d / "pop_huge.gpkg")
    cells(np.nan).to_file(d / "pop_all_nan.gpkg")
    cells(0.0).to_file(d / "pop_zero.gpkg")
    cells([True, False] * 8).to_file(d / "pop_bool.gpkg")
    cells([np.nan] * 3 + [100.0] * 13).to_file(d / "pop_some_nan.gpkg")
    cells().assign(old=200.0).to_file(d / "pop_elderly.gpkg")
    lines = gpd.GeoDataFrame(
        {"population": [5.0]},
        geometry=[shapely.LineString([(LON0, LAT0), (LON0 + STEP, LAT0)])],
        crs=4326,
    )
    lines.to_file(d / "pop_lines.gpkg")
    with pytest.warns(UserWarning):
        cells().set_crs(None, allow_override=True).to_file(d / "pop_nocrs.shp")
    cells().drop(columns="geometry").to_csv(d / "pop.csv", index=False)
    world = gpd.GeoDataFrame({"population": [9.0]}, geometry=[shapely.box(-180, -90, 180, 90)],
                             crs=4326)  # fmt: skip
    world.to_file(d / "pop_world.gpkg")
    far_pts = [shapely.Point(30.0, 60.0), shapely.Point(30.1, 60.0)]
    gpd.GeoDataFrame({"population": [100.0, 100.0]}, geometry=far_pts, crs=4326).to_file(
        d / "pop_far.gpkg"
    )
    some_far = [*far_pts, shapely.Point(LON0 + 0.0007, LAT0 + 0.0007)]
    gpd.GeoDataFrame({"population": [100.0] * 3}, geometry=some_far, crs=4326).to_file(
        d / "pop_some_far.gpkg"
    )


def _write_facilities(d: Path) -> None:
    x, y = LON0 + 0.0025, LAT0 + 0.0025
    w = {name: (d / name).write_text for name in ()}
    del w
    (d / "fac.csv").write_text(f"item,name,lon,lat\npharmacy,A,{x},{y}\nkindergarten,B,{x},{y}\n")
    (d / "fac_unknown.csv").write_text(f"item,lon,lat\npharmacy,{x},{y}\nfarmacy,{x},{y}\n")
    (d / "fac_noitem.csv").write_text(f"kind,lon,lat\npharmacy,{x},{y}\n")
    (d / "fac_nolon.csv").write_text(f"item,east,north\npharmacy,{x},{y}\n")
    (d / "fac_text_coords.csv").write_text(f"item,lon,lat\npharmacy,{x},{y}\npharmacy,n/a,{y}\n")
    (d / "fac_all_swapped.csv").write_text("item,lon,lat\npharmacy,39.9,116.4\n")
    (d / "fac_projected.csv").write_text("item,x,y\npharmacy,2776000.0,8437000.0\n")
    (d / "fac_header_only.csv").write_text("item,lon,lat\n")
    (d / "fac_decimal_comma.csv").write_text("item;lon;lat\npharmacy;24,9425;60,1725\n")
    (d / "fac.xlsx").write_bytes(b"PK\x03\x04" + bytes(100))
    (d / "fac_binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 64)
    (d / "fac_one_swapped.csv").write_text(
        f"item,lon,lat\npharmacy,{x},{y}\npharmacy,39.9,116.4\nkindergarten,{x},{y}\n"
    )
    (d / "fac_helsinki_swapped.csv").write_text(
        f"item,lon,lat\npharmacy,{x},{y}\npharmacy,{y},{x}\n"
    )
    pts = gpd.GeoDataFrame(
        {"item": ["pharmacy", "pharmacy"]}, geometry=[shapely.Point(x, y), None], crs=4326
    )
    pts.to_file(d / "fac_null.gpkg")
    pts.iloc[:1].to_file(d / "fac_multi.gpkg", layer="a")
    pts.iloc[:1].to_file(d / "fac_multi.gpkg", layer="b")


CATALOGUE = """\
schema_version: 1
name: tiny
title_zh: 小
title_en: Tiny
sources:
  MY: {{title_en: My plan}}
items:
  - id: pharmacy
  - id: corner_shop
    name_zh: 小店
    name_en: Corner shop
    category: daily_commerce
    tier_minutes: {tier}
    requirement: required
    mappable: good
    osm: {{any: [{filter}]}}
    sources: [MY]
    confidence: U
"""


def _write_catalogues(d: Path) -> None:
    def cat(name: str, tier: object = 5, filt: str = "'shop=convenience'") -> None:
        (d / name).write_text(CATALOGUE.format(tier=tier, filter=filt), encoding="utf-8")

    cat("cat_good.yaml")
    cat("cat_tier_huge.yaml", tier=100000)
    cat("cat_tier_tiny.yaml", tier=0.01)
    cat("cat_tier_text.yaml", tier="'five'")
    cat("cat_quotes.yaml", filt="'shop=\"convenience\"'")
    cat("cat_wildcard.yaml", filt="'shop=*conv*'")
    cat("cat_paren.yaml", filt="'(shop=convenience)'")
    cat("cat_comma.yaml", filt="'shop=convenience,supermarket'")
    cat("cat_negative_only.yaml", filt="'shop!=convenience'")
    cat("cat_joined.yaml", filt="'shop=convenience&amenity=cafe'")
    cat("cat_bad_regex.yaml", filt="'name~(unclosed'")
    (d / "cat_syntax.yaml").write_text("name: [unclosed\n  - x: :\n")
    (d / "cat_unknown_field.yaml").write_text(
        CATALOGUE.format(tier=5, filter="'shop=convenience'").replace(
            "    confidence: U\n", "    confidence: U\n    colour: red\n"
        )
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    _write_osm(d)
    _write_communities(d)
    _write_population(d)
    _write_facilities(d)
    _write_catalogues(d)
    return d


@pytest.fixture(scope="module")
def good_report(files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good report (``--no-html``); every failing run below writes into its folder."""
    out = tmp_path_factory.mktemp("good") / "report"
    assert main(["report", str(files / "good.osm"), "--no-html", "-q", "--out", str(out)]) == 0
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse
        rc = int(exc.code) if exc.code is not None else 0
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


# ============================================================================ the cases


@dataclass
class Case:
    """One hostile input: the arguments and what the run must end in.

    ``args`` name input files as ``@name`` (in the inputs folder); ``osm`` is the OSM file
    (``None``: no OSM argument). ``expect`` is ``error`` (exit 2, one line), ``usage``
    (argparse, exit 2) or ``warning`` (exit 0 and a warning). ``words`` is a regex the message
    must contain.
    """

    kind: str
    name: str
    args: list[str]
    expect: str
    words: str
    osm: str | None = "good.osm"
    command: str = "report"
    check: Callable[[Path], None] | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"


def _facilities_total(n: int) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["facilities"]["total"] == n  # dropped rows are not counted

    return check


def _ids(ids: list[str]) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        table = pd.read_csv(out / "coverage.csv", dtype=str, encoding="utf-8-sig")
        assert sorted(table["community_id"].unique()) == ids  # not "1.0"

    return check


def _communities(n: int) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["communities"] == n

    return check


E, U, W, OK = "error", "usage", "warning", "ok"
LONG = "x" * 300  # a file name longer than the system allows
POPULATION = ["--communities", "@com.geojson", "--id-column", "code", "--population"]


def C(kind: str, name: str, args: str, expect: str, words: str, **kw: object) -> Case:  # noqa: N802
    """A case from one line of a table: ``args`` as the shell would split them."""
    argv = shlex.split(args)
    if kind == "population":  # every population case reads the communities and a layer
        argv = [*POPULATION, *argv]
    return Case(kind, name, argv, expect, words, **kw)  # type: ignore[arg-type]


# fmt: off
OSM_CASES = [C("osm", *c) if isinstance(c, tuple) else c for c in [
    C('osm', 'missing', '', E, r"OSM file not found", osm='nope.osm'),
    C('osm', 'folder', '', E, r"is a folder", osm='.'),
    C('osm', 'wrong-suffix', '', E, r"does not look like an OpenStreetMap file", osm='map.txt'),
    C('osm', 'empty', '', E, r"is empty", osm='empty.osm'),
    C('osm', 'random-bytes', '', E, r"could not be read as OpenStreetMap", osm='random.osm'),
    C('osm', 'zeros', '', E, r"could not be read as OpenStreetMap", osm='zeros.osm'),
    C('osm', 'truncated-xml', '', E, r"could not be read as OpenStreetMap", osm='truncated.osm'),
    C('osm', 'truncated-pbf', '', E, r"could not be read", osm='truncated.osm.pbf'),
    C('osm', 'xml-named-pbf', '', E, r"could not be read", osm='xml.osm.pbf'),
    C('osm', 'garbage-bz2', '', E, r"could not be read", osm='garbage.osm.bz2'),
    C('osm', 'json', '', E, r"could not be read as OpenStreetMap", osm='json.osm'),
    C('osm', 'no-data', '', E, r"holds no tagged OpenStreetMap data", osm='no_data.osm'),
    C('osm', 'no-streets', '', E, r"no walkable ways", osm='only_nodes.osm'),
    C('osm', 'lon-500', '', E,
        r"coordinates are not degrees.*lon .*-180\.\.180", osm='bad_lon.osm'),
    C('osm', 'lat-text', '', E, r"coordinates are not degrees", osm='bad_lat_text.osm'),
    C('osm', 'lat-nan', '', E, r"coordinates are not degrees", osm='bad_lat_nan.osm'),
    C('osm', 'long-tag-value', '', E, r"too long.*255 characters", osm='long_value.osm'),
    C('osm', 'long-tag-key', '', E, r"too long", osm='long_key.osm'),
    C('osm', 'negative-uid', '', E, r"invalid user id.*uid", osm='negative_uid.osm'),
    C('osm', 'josm-new-objects', '', E, r"negative ids.*JOSM.*osmium renumber", osm='josm.osm'),
    C('osm', 'josm-one-new-node', '', E, r"1 nodes with negative ids", osm='josm_mixed.osm'),
    C('osm', 'bad-utf8', '', E, r"could not be read", osm='bad_utf8.osm'),
    C('osm', 'tagged-node-lat95', '', W,
        r"outside longitude .* 1 tagged node \(left out\)", osm='tagged_lat95.osm'),
    C('osm', 'way-node-lat95', '', W,
        r"1 node of ways \(the ways were cut there\)", osm='way_node_lat95.osm'),
    C('osm', 'clipped', '', W, r"1 walkable ways reference 1 nodes.*clipped", osm='clipped.osm'),
    C('osm', 'nodes-after-ways', '', E,
        r"none of the 72 nodes .* come after the ways", osm='nodes_after_ways.osm'),
    C('osm', 'unsorted', '', W, r"not sorted by element id", osm='unsorted.osm'),
    C('osm', 'pipe', '', E, r"is not a regular file", osm='pipe.osm'),
    C('osm', 'name-too-long', '', E, r"cannot be used: File name too long", osm=LONG + '.osm'),
    C('osm', 'one-node-way', '', W, r"1 walkable way with fewer than two nodes .*way 99",
        osm='one_node_way.osm'),
    C('osm', 'broken-relation', '', W, r"1 area .*relation 1.* could not be built",
        osm='broken_relation.osm'),
    C('osm', 'bz2-ok', '', OK, r"", osm='good.osm.bz2'),
]]
# fmt: on

# fmt: off
COMMUNITY_CASES = [C("communities", *c) if isinstance(c, tuple) else c for c in [
    ('missing', '--communities @nope.geojson', E, r"community file not found"),
    ('csv', '--communities @com.csv', E, r"table without geometries"),
    ('empty-layer', '--communities @com_empty.geojson', E, r"is empty: it holds no features"),
    ('only-points', '--communities @com_points.geojson', E,
        r"holds no polygons \(found \['Point'\]\)"),
    ('no-crs', '--communities @com_nocrs.shp', E, r"no coordinate reference system"),
    ('metres-as-degrees', '--communities @com_metres.geojson', E,
        r"not longitudes and latitudes in degrees.*metres of a projected CRS"),
    ('lat-beyond-90', '--communities @com_lat95.geojson', E, r"latitudes lie beyond -90\.\.90"),
    ('lon-beyond-180', '--communities @com_lon190.geojson', E,
        r"longitudes lie beyond -180\.\.180"),
    ('nan-ids', '--communities @com_nan_ids.geojson --id-column code', E,
        r"column 'code' .* is empty in feature 2"),
    ('blank-ids', '--communities @com_blank_ids.geojson --id-column code', E,
        r"is empty in feature 2"),
    ('duplicate-ids', '--communities @com_dup_ids.geojson --id-column code', E,
        r"id 'a' .* is not unique"),
    ('unknown-id-column', '--communities @com.geojson --id-column nope', E, r"no column 'nope'"),
    ('unknown-name-column', '--communities @com.geojson --name-column nope', E,
        r"no column 'nope'"),
    ('multi-layer', '--communities @com_multi.gpkg', E,
        r"has 2 layers \(communities, other\): choose one with --community-layer"),
    ('unknown-layer', '--communities @com_multi.gpkg --community-layer nope', E,
        r"has no layer 'nope'"),
    ('layer-without-file', '--community-layer x', E,
        r"--community-layer chooses a layer of --communities"),
    ('far-away', '--communities @com_far.geojson', E,
        r"none of the 3 communities lies within the area of the OSM file"),
    ('lat-lon-swapped', '--communities @com_swapped.geojson', E,
        r"longitude and latitude look swapped"),
    ('all-null', '--communities @com_null.gpkg', E, r"none of its 3 features has a geometry"),
    ('not-a-vector-file', '--communities @com_garbage.geojson', E,
        r"could not be read as a vector file"),
    C('communities', 'some-null', '--communities @com_some_null.gpkg', W,
        r"2 of 3 features have no geometry .*features 2, 3.*left out", check=_communities(1)),
    C('communities', 'points-among-polygons', '--communities @com_mixed.geojson', W,
        r"1 of 4 features are not polygons \(\['Point'\]; feature 4\)", check=_communities(3)),
    ('obvious-name-column', '--communities @com_zh.geojson', W,
        r"community names taken from column '名称'"),
    ('unusable-id-column', '--communities @com_idcol_dup.geojson', W,
        r"column 'id' has missing or repeated values, so the communities are numbered by row"),
    ('obvious-id-column', '--communities @com_idcol.geojson', W,
        r"community ids taken from column 'id'"),
    ('some-far', '--communities @com_part_far.geojson --id-column code', W,
        r"1 of 4 communities lie outside the area.*far"),
    ('name-too-long', f'--communities @{LONG}.geojson', E, r"cannot be used: File name too long"),
    ('url', '--communities https://example.com/x.geojson', E, r"download it first"),
    ('world-sized', '--communities @com_world.geojson', E,
        r"feature 1 span more than 20 degrees .*no community is that large"),
    ('self-intersecting', '--communities @com_bowtie.geojson', W,
        r"1 communities have invalid polygons .*feature 1.*repaired"),
    ('no-street-inside', '--communities @com_corner.geojson --id-column code', W,
        r"1 communities have no street or home inside .*\(a\)"),
    C('communities', 'float-ids', '--communities @com_float_ids.gpkg --id-column code', OK, r"",
      check=_ids(["1", "2", "3"])),
    C('communities', 'chosen-layer',
      '--communities @com_multi.gpkg --community-layer communities', OK, r"",
      check=_communities(3)),
]]
# fmt: on

# fmt: off
POPULATION_CASES = [C("population", *c) if isinstance(c, tuple) else c for c in [
    ('missing', '@nope.gpkg', E, r"population file not found"),
    ('no-column', '@pop.gpkg --population-column people', E, r"no column 'people'"),
    ('text', '@pop_text.gpkg', E, r"must hold numbers of people; found 'many'"),
    ('negative', '@pop_negative.gpkg', E, r"negative"),
    ('infinite', '@pop_inf.gpkg', E, r"infinite"),
    ('absurd', '@pop_huge.gpkg', E, r"implausible numbers of people .*feature 1"),
    ('all-nan', '@pop_all_nan.gpkg', E, r"holds no people: all 16 values are 0 or missing"),
    ('all-zero', '@pop_zero.gpkg', E, r"holds no people"),
    ('true-false', '@pop_bool.gpkg', E, r"holds True/False values, not numbers of people"),
    ('lines', '@pop_lines.gpkg', E, r"LineString"),
    ('no-crs', '@pop_nocrs.shp', E, r"no coordinate reference system"),
    ('csv', '@pop.csv', E, r"has no geometry column"),
    ('no-overlap', '@pop_far.gpkg', E, r"none of its 200 people lies in a community"),
    ('multi-layer', '@pop_multi.gpkg', E, r"choose one with --population-layer"),
    ('some-nan', '@pop_some_nan.gpkg', W, r"no value in 3 of 16 features .* count as 0 people"),
    ('some-far', '@pop_some_far.gpkg', W,
        r"2 features holding 200 people lie outside every community"),
    ('elderly-exceed', '@pop_elderly.gpkg --elderly-column old', W,
        r"column 'old' .* exceeds the residents"),
    ('world-sized', '@pop_world.gpkg', E, r"no population area is that large"),
    ('chosen-layer', '@pop_multi.gpkg --population-layer a', OK, r""),
]]
# fmt: on

# fmt: off
FACILITY_CASES = [C("facilities", *c) if isinstance(c, tuple) else c for c in [
    ('missing', '--facilities @nope.csv', E, r"facility table not found"),
    ('unknown-item', '--facilities @fac_unknown.csv', E,
        r"\['farmacy'\] \(line 3\).*did you mean 'pharmacy'"),
    ('no-item-column', '--facilities @fac_noitem.csv', E,
        r"no column 'item' \(given as --facility-item-column / item_column\)"),
    ('no-lon-column', '--facilities @fac_nolon.csv', E, r"no longitude column .*rename a column"),
    ('text-coordinates', '--facilities @fac_text_coords.csv', E,
        r"no numeric coordinates .* in line 3"),
    ('all-swapped', '--facilities @fac_all_swapped.csv', E,
        r"look swapped: check which column is which"),
    ('projected', '--facilities @fac_projected.csv', E, r"projected coordinates.*convert them"),
    ('header-only', '--facilities @fac_header_only.csv', E, r"is empty"),
    ('binary', '--facilities @fac_binary.csv', E, r"could not be read|not text"),
    ('null-geometry', '--facilities @fac_null.gpkg', E, r"feature 2 have no geometry"),
    ('multi-layer', '--facilities @fac_multi.gpkg', E, r"choose one with --facility-layer"),
    ('bad-coord-system', '--facilities @fac.csv --coord-system gcj', U,
        r"argument --coord-system: invalid choice"),
    C('facilities', 'one-row-swapped', '--facilities @fac_one_swapped.csv', W,
        r"in line 3: longitude and latitude look swapped.*not counted \(1 row\)",
        check=_facilities_total(3)),
    C('facilities', 'swapped-in-range', '--facilities @fac_helsinki_swapped.csv', W,
        r"line 3 outside the area of the OSM file.*not counted.*look swapped",
        check=_facilities_total(2)),
    ('decimal-commas', '--facilities @fac_decimal_comma.csv', E,
        r"line 2 .*write decimals with a point"),
    ('spreadsheet', '--facilities @fac.xlsx', E, r"is a spreadsheet: save it as 'CSV UTF-8'"),
    C('facilities', 'chosen-layer', '--facilities @fac_multi.gpkg --facility-layer a', OK,
        r"", check=_facilities_total(2)),
    C('facilities', 'chosen-layer-plus-planned',
        '--facilities @fac_multi.gpkg --facility-layer a --add-facilities @fac.csv', OK,
        r"", check=_facilities_total(4)),
]]
# fmt: on

# fmt: off
CATALOGUE_CASES = [C("catalogue", *c) if isinstance(c, tuple) else c for c in [
    C('catalogue', 'tier-huge', '@cat_tier_huge.yaml', E,
        r"100000 minutes is not a plausible walking tier", osm=None, command='validate'),
    C('catalogue', 'tier-tiny', '@cat_tier_tiny.yaml', E,
        r"0.01 minutes is not a plausible walking tier", osm=None, command='validate'),
    C('catalogue', 'tier-text', '@cat_tier_text.yaml', E,
        r"positive number of minutes", osm=None, command='validate'),
    C('catalogue', 'quoted-value', '@cat_quotes.yaml', E,
        r"would never match.*without quotes", osm=None, command='validate'),
    C('catalogue', 'wildcard-value', '@cat_wildcard.yaml', E,
        r"'\*' only stands alone", osm=None, command='validate'),
    C('catalogue', 'bracketed-key', '@cat_paren.yaml', E,
        r"is not an OSM tag key", osm=None, command='validate'),
    C('catalogue', 'comma-values', '@cat_comma.yaml', E,
        r"separate several values with '\|'", osm=None, command='validate'),
    C('catalogue', 'negative-only', '@cat_negative_only.yaml', E,
        r"only negative conditions", osm=None, command='validate'),
    C('catalogue', 'joined-conditions', '@cat_joined.yaml', E,
        r"several conditions", osm=None, command='validate'),
    C('catalogue', 'bad-regex', '@cat_bad_regex.yaml', E,
        r"invalid regular expression", osm=None, command='validate'),
    C('catalogue', 'yaml-syntax', '@cat_syntax.yaml', E,
        r"cat_syntax\.yaml.*not valid YAML", osm=None, command='validate'),
    C('catalogue', 'unknown-field', '@cat_unknown_field.yaml', E,
        r"unknown field 'colour'", osm=None, command='validate'),
    ('unknown-name', '--catalogue bejing', E, r"did you mean 'beijing'"),
    ('report-with-bad-catalogue', '--catalogue @cat_tier_huge.yaml', E,
        r"not a plausible walking tier"),
    C('catalogue', 'good-file', '@cat_good.yaml', OK, r"", osm=None, command='validate'),
]]
# fmt: on

ALL_ZERO = ",".join(f"{c.id}=0" for c in fm.load_catalogue("beijing").categories)
# fmt: off
OPTION_CASES = [C("options", *c) if isinstance(c, tuple) else c for c in [
    ('speed-kmh', '--speed 5', E, r"5 m/s .* is not a walking speed.*1\.39"),
    ('speed-tiny', '--speed 0.0000001', E, r"is not a walking speed"),
    ('speed-huge', '--speed 1000', E, r"is not a walking speed"),
    ('speed-negative', '--speed -1', U, r"expected a positive number"),
    ('speed-text', '--speed fast', U, r"expected a number"),
    ('speed-nan', '--speed nan', U, r"expected a positive number"),
    ('threshold-above-1', '--threshold 1.5', U, r"share in \(0, 1\]"),
    ('threshold-zero', '--threshold 0', U, r"positive number"),
    ('weights-misspelled', '--category-weights helth=2', E,
        r"unknown category 'helth' \(did you mean 'health'\?\)"),
    ('weights-all-zero', f'--category-weights {ALL_ZERO}', E, r"0 for every category"),
    ('weights-huge', '--category-weights health=1e308', E, r"implausibly large"),
    ('weights-syntax', '--category-weights health', U, r"CATEGORY=WEIGHT"),
    ('weights-twice', '--category-weights health=1,health=2', U, r"weighted twice"),
    ('weights-infinite', '--category-weights health=inf', U, r"CATEGORY=WEIGHT"),
    ('engine', '--engine gpu', U, r"invalid choice"),
    ('online-and-file', '--bbox 24.94,60.17,24.95,60.18', E,
        r"give an OSM file or --place/--bbox, not both"),
    ('bbox-syntax', '--bbox west', U, r"WEST,SOUTH,EAST,NORTH"),
    C('options', 'site-unknown-item', 'farmacy', E, r"farmacy", command='site'),
    C('options', 'site-k-zero', 'pharmacy --k 0', U, r"positive whole number", command='site'),
    C('options', 'site-bad-out', 'pharmacy --out @sites.txt', E,
        r"use a \.gpkg, \.geojson or \.csv", command='site'),
    C('options', 'site-empty-out', "pharmacy --out ''", E, r"--out is empty", command='site'),
]]
# fmt: on

ALL_CASES = [
    *OSM_CASES,
    *COMMUNITY_CASES,
    *POPULATION_CASES,
    *FACILITY_CASES,
    *CATALOGUE_CASES,
    *OPTION_CASES,
]


def _args(case: Case, files: Path) -> list[str]:
    args = [str(files / a[1:]) if a.startswith("@") else a for a in case.args]
    if case.command == "validate":
        return ["catalogue", "validate", *args]
    osm = [str(files / case.osm)] if case.osm else []
    if case.command == "site":
        return ["site", *args[:1], *osm, *args[1:], "-q"]
    return ["report", *osm, *args, "--no-html"]


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.expect in (E, U)], ids=lambda c: c.id)
def test_error_is_one_line_and_leaves_the_report_alone(case, files, good_report, capsys):
    before = _snapshot(good_report)
    args = _args(case, files)
    if case.command == "report":
        args += ["-q", "--out", str(good_report)]
    rc, _, err = _run(args, capsys)
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    if case.expect == E:
        assert len(lines) == 1, err
        assert lines[0].startswith("fifteenmin: error: "), err
    else:  # argparse: usage, then one error line
        assert re.match(r"fifteenmin( \w+)?: error: ", lines[-1]), err
    assert re.search(case.words, lines[-1]), lines[-1]
    assert _snapshot(good_report) == before  # nothing changed, added or removed


@pytest.mark.parametrize(
    "case", [c for c in ALL_CASES if c.expect in (W, "ok")], ids=lambda c: c.id
)
def test_repair_is_announced(case, files, tmp_path, capsys):
    args = _args(case, files)
    out = tmp_path / "out"
    if case.command == "report":
        args += ["--out", str(out)]
    rc, _, err = _run(args, capsys)
    assert rc == 0, err
    assert "Traceback" not in err and "error" not in err.lower().replace("errors.md", "")
    if case.expect == W:
        warnings = [ln for ln in err.splitlines() if ln.startswith("[fifteenmin] warning: ")]
        assert any(re.search(case.words, ln) for ln in warnings), err
    if case.check is not None:
        case.check(out)


def test_case_counts():
    """At least 80 cases, every kind of the issue covered."""
    kinds = {c.kind for c in ALL_CASES}
    assert kinds == {"osm", "communities", "population", "facilities", "catalogue", "options"}
    assert len(ALL_CASES) + len(API_CASES) + 5 >= 80  # + the output-folder tests below


# ============================================================================ output folder


def test_failed_run_creates_no_folder(files, tmp_path, capsys):
    out = tmp_path / "new"
    rc, _, err = _run(["report", str(files / "josm.osm"), "-q", "--out", str(out)], capsys)
    assert rc == 2 and "negative ids" in err
    assert not out.exists()


def test_out_name_too_long_is_refused(files, tmp_path, capsys):
    out = tmp_path / ("x" * 300)
    rc, _, err = _run(
        ["report", str(files / "good.osm"), "--no-html", "-q", "--out", str(out)], capsys
    )
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot be used: File name too long" in err


def test_empty_out_is_refused(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = _run(["report", str(files / "good.osm"), "--no-html", "-q", "--out", ""], capsys)
    assert rc == 2 and err.startswith("fifteenmin: error: --out is empty")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


def test_rerun_without_html_leaves_no_old_page(files, tmp_path, capsys):
    out = tmp_path / "rep"
    assert (
        main(["report", str(files / "good.osm"), "-q", "--no-isochrones", "--out", str(out)]) == 0
    )
    assert (out / "report.html").is_file()
    args = ["--communities", str(files / "com.geojson"), "--id-column", "code"]
    assert (
        main(["report", str(files / "good.osm"), *args, "--no-html", "-q", "--out", str(out)]) == 0
    )
    assert not (out / "report.html").exists()  # one run per folder
    capsys.readouterr()


def test_formula_like_names_are_neutralised(files, tmp_path):
    out = tmp_path / "rep"
    com = ["--communities", str(files / "com_formula.geojson"), "--id-column", "code"]
    assert (
        main(["report", str(files / "good.osm"), *com, "--no-html", "-q", "--out", str(out)]) == 0
    )
    text = (out / "coverage.csv").read_text(encoding="utf-8-sig")
    for raw in ('=HYPERLINK("http://x")', "+1", "@SUM(A1)"):
        assert f",{raw}," not in text and f'"{raw}"' not in text
    names = set(pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")["community_name"])
    assert names == {'\'=HYPERLINK("http://x")', "'+1", "'@SUM(A1)"}


# ============================================================================ Python API


def _api(files: Path) -> dict[str, Callable[[], object]]:
    from fifteenmin.communities import communities_from_file, communities_from_frame
    from fifteenmin.facilities import facilities_from_table, merge_facilities
    from fifteenmin.readers import LayerPath

    osm = files / "good.osm"
    table = pd.DataFrame({"item": ["pharmacy"], "lon": [LON0], "lat": [LAT0]})
    com = gpd.GeoDataFrame({"code": ["a"]}, geometry=boxes(1), crs=4326)
    return {
        "RunConfig-speed-text": lambda: fm.RunConfig(speed="fast"),
        "RunConfig-speed-kmh": lambda: fm.RunConfig(speed=5),
        "RunConfig-communities-int": lambda: fm.RunConfig(communities=5),
        "RunConfig-weights-text": lambda: fm.RunConfig(category_weights="health=2"),
        "RunConfig-weight-text": lambda: fm.RunConfig(category_weights={"health": "2"}),
        "RunConfig-weights-misspelled": lambda: fm.RunConfig(
            catalogue=fm.load_catalogue("beijing"), category_weights={"helth": 2}
        ),
        "RunConfig-catalogue-int": lambda: fm.RunConfig(catalogue=5),
        "RunConfig-profiles-text": lambda: fm.RunConfig(item_profiles="yes"),
        "RunConfig-coord-system": lambda: fm.RunConfig(coord_system="gcj"),
        "read_osm-int": lambda: fm.read_osm(123),
        "read_osm-keys": lambda: fm.read_osm(osm, keys=5),
        "read_osm-josm": lambda: fm.read_osm(files / "josm.osm"),
        "run_pipeline-int": lambda: fm.run_pipeline(123),
        "run_report-speed": lambda: fm.run_report(osm, speed=1000),
        "run_report-far-communities": lambda: fm.run_report(
            osm, communities=files / "com_far.geojson"
        ),
        "communities_from_file-int": lambda: communities_from_file(123),
        "communities_from_file-multi": lambda: communities_from_file(files / "com_multi.gpkg"),
        "communities_from_frame-frame": lambda: communities_from_frame(pd.DataFrame({"a": [1]})),
        "communities_from_frame-metres": lambda: communities_from_frame(
            com.set_crs(3857, allow_override=True)
            .set_crs(4326, allow_override=True)
            .assign(geometry=[shapely.box(385000, 6672000, 385100, 6672100)])
        ),
        "facilities_from_table-int": lambda: facilities_from_table(123, item_column="item"),
        "facilities_from_table-column": lambda: facilities_from_table(table, item_column=5),
        "facilities_from_table-catalogue": lambda: facilities_from_table(
            table, item_column="item", catalogue=5
        ),
        "facilities_from_table-crs": lambda: facilities_from_table(
            table, item_column="item", crs="EPSG:nope"
        ),
        "merge_facilities-frame": lambda: merge_facilities(pd.DataFrame()),
        "facility_counts-none": lambda: fm.facility_counts(None, "beijing"),
        "LayerPath-int": lambda: LayerPath(5, "a"),
    }


API_CASES = [
    ("RunConfig-speed-text", fm.ConfigError, True),
    ("RunConfig-speed-kmh", fm.ConfigError, False),
    ("RunConfig-communities-int", fm.ConfigError, True),
    ("RunConfig-weights-text", fm.ConfigError, True),
    ("RunConfig-weight-text", fm.ConfigError, True),
    ("RunConfig-weights-misspelled", fm.ConfigError, False),
    ("RunConfig-catalogue-int", fm.ConfigError, True),
    ("RunConfig-profiles-text", fm.ConfigError, True),
    ("RunConfig-coord-system", fm.ConfigError, False),
    ("read_osm-int", fm.ConfigError, True),
    ("read_osm-keys", fm.ConfigError, True),
    ("read_osm-josm", fm.OSMFileError, False),
    ("run_pipeline-int", fm.ConfigError, True),
    ("run_report-speed", fm.ConfigError, False),
    ("run_report-far-communities", fm.CommunityFileError, False),
    ("communities_from_file-int", fm.LayerError, True),
    ("communities_from_file-multi", fm.LayerError, False),
    ("communities_from_frame-frame", fm.LayerError, True),
    ("communities_from_frame-metres", fm.CommunityFileError, False),
    ("facilities_from_table-int", fm.LayerError, True),
    ("facilities_from_table-column", fm.ConfigError, True),
    ("facilities_from_table-catalogue", fm.ConfigError, True),
    ("facilities_from_table-crs", fm.ConfigError, False),
    ("merge_facilities-frame", fm.LayerError, True),
    ("facility_counts-none", fm.LayerError, True),
    ("LayerPath-int", fm.LayerError, True),
]


@pytest.mark.parametrize(("name", "error", "type_error"), API_CASES, ids=[c[0] for c in API_CASES])
def test_api_raises_library_errors(name, error, type_error, files):
    call = _api(files)[name]
    with pytest.raises(fm.FifteenminError) as exc:
        call()
    assert isinstance(exc.value, error), repr(exc.value)
    assert isinstance(exc.value, TypeError) == type_error
    if type_error:
        assert isinstance(exc.value, ConfigTypeError | LayerTypeError)
    assert "\n" not in str(exc.value)  # one line, like the command line's
