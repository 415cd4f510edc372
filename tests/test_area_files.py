"""The city layout's walking areas in files beside report.html (output/html/area_files.py).

The sample (12 communities) is put in the city layout and cut into files of 5 communities
by lowering the two thresholds; the files are checked against an independent decoding of
their lines (geopandas' own reprojection), against the page's embedded lines, and as part
of the report folder (atomic, deterministic, an earlier run's files removed).
"""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fifteenmin as fm
from fifteenmin import settings
from fifteenmin.output import write_report
from fifteenmin.output.html import render_html
from fifteenmin.output.html.area_files import area_file_names, area_file_text, area_files, chunked
from fifteenmin.output.html.city_data import community_area_lines, page_community_ids
from fifteenmin.output.report_files import map_walking_areas

PER = 5  # communities per file in these tests: the sample's 12 give three files
FILE_LINE = re.compile(r"^fmAreas\((\d+),(\[.*?\]),(\[.*\])\);$")


@pytest.fixture(scope="module")
def report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fm.run_report(engine="scipy")


@pytest.fixture(scope="module")
def areas(report):
    return map_walking_areas(report)


@pytest.fixture
def city(monkeypatch):
    """The city layout for the sample, and files of PER communities."""
    monkeypatch.setattr(settings, "HTML_CITY_MIN_COMMUNITIES", 5)
    monkeypatch.setattr(settings, "HTML_AREA_FILE_COMMUNITIES", PER)


def parse(text: str) -> tuple[int, list[str], list[str]]:
    """A file's number, ids and lines (checking its comment and its one call)."""
    head, call = text.rstrip("\n").rsplit("\n", 1)
    assert head.startswith("/* fifteenmin ") and head.endswith("*/")
    assert settings.ATTRIBUTION in head and "*/" not in head[:-2]
    m = FILE_LINE.match(call)
    assert m, call[:80]
    return int(m.group(1)), json.loads(m.group(2)), json.loads(m.group(3))


def decode(line: str) -> list[tuple[float, list[list[np.ndarray]]]]:
    """A line ``[[minutes, polygons], ...]`` back to (lat, lon) rings in degrees."""
    out = []
    for minutes, polys in json.loads(line):
        rings = [
            [np.cumsum(np.asarray(r, dtype=np.int64).reshape(-1, 2), axis=0) for r in poly]
            for poly in polys
        ]
        out.append((minutes, rings))
    return out


def test_file_names_and_text(city):
    assert area_file_names(0) == []
    assert area_file_names(PER) == ["areas-0000.js"]
    assert area_file_names(PER + 1) == ["areas-0000.js", "areas-0001.js"]
    text = area_file_text(1, ["a</script><b>", "\u2028x"], ["[[15.0,[]]]", ""])
    k, ids, lines = parse(text)
    assert (k, ids, lines) == (1, ["a</script><b>", "\u2028x"], ["[[15.0,[]]]", ""])
    assert "</script" not in text and "<b>" not in text and "\u2028" not in text
    assert f"communities {PER + 1}-{PER + 2} of report.html" in text
    with pytest.raises(ValueError, match="2 ids but 1 lines"):
        area_file_text(0, ["a", "b"], [""])


def test_lines_are_the_areas_reprojected(report, areas):
    """Without simplification: every vertex is geopandas' reprojection, rounded to 1e-5 deg."""
    ids = pd.Index(page_community_ids(report))
    lines = community_area_lines(areas, ids, 0.0)
    assert sorted(lines) == sorted(ids.get_indexer(areas["community_id"].astype(str)).tolist())
    wgs = areas.to_crs("EPSG:4326")
    holes_m2 = {}
    for cid, g, g_m in zip(areas["community_id"], wgs.geometry, areas.geometry, strict=True):
        ((minutes, polys),) = decode(lines[ids.get_loc(str(cid))])
        assert minutes == 15.0
        parts = list(getattr(g, "geoms", [g]))
        parts_m = list(getattr(g_m, "geoms", [g_m]))
        assert len(polys) == len(parts)
        for rings, part, part_m in zip(polys, parts, parts_m, strict=True):
            want = [part.exterior] + [
                h
                for h, h_m in zip(part.interiors, part_m.interiors, strict=True)
                if shapely.Polygon(h_m).area >= settings.HTML_CITY_AREA_MIN_HOLE_M2
            ]
            holes_m2[cid] = len(part.interiors)
            assert len(rings) == len(want)
            for got, ring in zip(rings, want, strict=True):
                q = np.rint(np.asarray(ring.coords)[:-1, ::-1] * settings.HTML_CITY_COORD_SCALE)
                keep = np.r_[True, np.any(np.diff(q, axis=0) != 0, axis=1)]
                np.testing.assert_array_equal(got, q[keep].astype(np.int64))
    assert sum(holes_m2.values()) > 0  # the sample's areas have holes: the rule was exercised


def test_files_the_same_whatever_the_chunks(city, report, areas):
    ids = page_community_ids(report)
    whole = list(area_files([areas], ids))
    assert (
        [n for n, _ in whole]
        == area_file_names(len(ids))
        == [f"areas-000{k}.js" for k in (0, 1, 2)]
    )
    for size in (1, 2, 7):
        assert list(area_files(chunked(areas, size), ids)) == whole
    got = {}
    for name, text in whole:
        k, file_ids, lines = parse(text)
        assert file_ids == ids[k * PER : (k + 1) * PER] and name == f"areas-{k:04d}.js"
        got.update(zip(file_ids, lines, strict=True))
    # the lines are the page's own encoding of the same areas (the city layout, embedded)
    page = render_html(report, lang="en", isochrones=areas, layout="city")
    chunks = re.findall(r'<script type="text/plain" id="fm-areas-(\d+)">(.*?)</script>', page, re.S)
    embedded = "\n".join(t for _, t in sorted(chunks, key=lambda c: int(c[0]))).split("\n")
    assert [got[i] for i in ids] == embedded
    # rows of a community whose file is already made: chunks out of order
    backwards = [areas.iloc[[-1]], areas.iloc[[0]]]
    with pytest.raises(ValueError, match="community id order"):
        list(area_files(backwards, ids))


def _folder(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_report_folder_with_area_files(city, report, areas, tmp_path):
    out = tmp_path / "r"
    files = write_report(report, out, isochrones="auto", sites=None)
    names = [str(p.relative_to(out)) for p in files]
    area_names = [f"report_files/areas-000{k}.js" for k in (0, 1, 2)]
    assert names[-4:] == [*area_names, "report.html"]  # the page last, after its files
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in files)
    assert not list(out.rglob(".*"))  # no temporary file left
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fm-areas-' not in page
    data = json.loads(re.search(r'id="fm-data">(.*?)</script>', page, re.S).group(1))
    assert data["areaFiles"] == {
        "folder": "report_files",
        "per": PER,
        "names": [n.split("/")[1] for n in area_names],
    }
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "report_files/     the communities' walking areas" in readme
    texts = {n: (out / n).read_text(encoding="utf-8") for n in area_names}
    ids = [i for n in area_names for i in parse(texts[n])[1]]
    assert ids == data["com"]["cols"]["id"]
    # the same areas from a GeoDataFrame; and again: the same bytes
    again = write_report(report, tmp_path / "again", isochrones=areas, sites=None)
    assert [p.name for p in again] == [p.name for p in files]
    assert _folder(tmp_path / "again") == _folder(out)


def test_rerun_never_leaves_old_area_files(city, report, areas, tmp_path, monkeypatch):
    out = tmp_path / "r"
    write_report(report, out, isochrones=areas, sites=None)
    (out / "report_files" / "notes.txt").write_text("mine")  # not a report file
    (out / "mine.js").write_text("mine")
    # fewer files
    monkeypatch.setattr(settings, "HTML_AREA_FILE_COMMUNITIES", 8)
    write_report(report, out, isochrones=areas, sites=None)
    assert sorted(p.name for p in (out / "report_files").iterdir()) == [
        "areas-0000.js",
        "areas-0001.js",
        "notes.txt",
    ]
    # no page: no area file; the folder stays for the user's file
    write_report(report, out, html=False)
    assert sorted(p.name for p in (out / "report_files").iterdir()) == ["notes.txt"]
    assert not (out / "report.html").exists() and (out / "mine.js").exists()
    # the full layout (no area file): the emptied folder goes
    (out / "report_files" / "notes.txt").unlink()
    write_report(report, out, isochrones=areas, sites=None)
    monkeypatch.setattr(settings, "HTML_CITY_MIN_COMMUNITIES", 50)
    write_report(report, out, isochrones=areas, sites=None)
    assert not (out / "report_files").exists()
    assert (out / "report.html").exists() and (out / "mine.js").read_text() == "mine"


def test_failed_page_leaves_no_area_file(city, report, areas, tmp_path, monkeypatch):
    from fifteenmin.output import report_files

    def boom(*args, **kwargs):
        raise fm.OutputError("the page failed (simulated)")

    monkeypatch.setattr(report_files, "render_html", boom)
    with pytest.raises(fm.OutputError, match="simulated"):
        write_report(report, tmp_path / "r", isochrones=areas, sites=None)
    assert list((tmp_path / "r").rglob("*")) == []  # no file, no temporary file, no folder


def test_failed_areas_leave_nothing(city, report, tmp_path):
    bad = gpd.GeoDataFrame(
        {"community_id": ["x"], "minutes": [15.0]}, geometry=[shapely.Point(0, 0)], crs=None
    )
    with pytest.raises(ValueError, match="CRS"):
        write_report(report, tmp_path / "r", isochrones=bad, sites=None)
    assert list((tmp_path / "r").rglob("*")) == []


def test_cli_counts_the_area_files(tmp_path):
    from fifteenmin.cli import _files_text

    folder = tmp_path / "report_files"
    files = [tmp_path / "a.csv", folder / "areas-0000.js", folder / "areas-0001.js"]
    files.append(tmp_path / "report.html")
    assert _files_text(files, folder) == (
        f"{tmp_path / 'a.csv'}, {folder}/ (2 walking-area files), {tmp_path / 'report.html'}"
    )
    assert _files_text(files[:2], folder) == f"{tmp_path / 'a.csv'}, {folder / 'areas-0000.js'}"


def test_kept_rings_equal_shapelys_rings_without_the_small_holes():
    """_rings.kept_rings reads the rings shapely gives, and drops the holes _ring_areas does."""
    from fifteenmin.output.html import _rings
    from fifteenmin.output.html.city_data import _ring_areas

    if not _rings.HAVE_NUMBA:
        pytest.skip("numba is not installed: encode_geometries reads the rings with shapely")
    rng = np.random.default_rng(0)
    geoms = []
    for i in range(120):
        c = rng.uniform(0, 1000, 2)
        p = shapely.Point(c).buffer(rng.uniform(50, 200), quad_segs=int(rng.integers(2, 10)))
        for _ in range(int(rng.integers(0, 4))):
            hole = shapely.Point(c + rng.uniform(-40, 40, 2)).buffer(rng.uniform(1, 25), 3)
            p = p.difference(hole)
        if i % 3 == 0:  # a MultiPolygon with a holed second part
            q = shapely.Point(c + 500).buffer(20).difference(shapely.Point(c + 500).buffer(5))
            p = shapely.MultiPolygon([*shapely.get_parts(p), q])
        geoms.append(p)
    g = np.array(geoms)
    for min_hole in (0.0, 100.0, 1000.0):
        xy, coord_ring, ring_part, part_geom = _rings.kept_rings(g, min_hole)
        parts, part_of = shapely.get_parts(g, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        hole = np.flatnonzero(np.r_[False, ring_of[1:] == ring_of[:-1]])
        kept = np.ones(len(rings), dtype=bool)
        kept[hole[_ring_areas(rings[hole]) < min_hole]] = False
        coords, coord_of = shapely.get_coordinates(rings[kept], return_index=True)
        assert np.array_equal(xy, coords)
        assert np.array_equal(coord_ring, coord_of)
        assert np.array_equal(ring_part, ring_of[kept])
        assert np.array_equal(part_geom, part_of)
        if min_hole > 0:
            assert kept.sum() < len(rings)  # some holes were small enough to drop


def test_geometries_as_json_equal_json_dumps_of_the_lists():
    """encode_geometries(as_json=True) (compiled writer) is json.dumps of its nested lists."""
    from pyproj import Transformer

    from fifteenmin.output.html import _rings
    from fifteenmin.output.html.city_data import encode_geometries

    rng = np.random.default_rng(1)
    x0, y0 = 440_000.0, 4_420_000.0  # UTM 50N
    geoms = [None, shapely.Polygon()]
    for i in range(150):
        c = rng.uniform(0, 3000, 2) + np.array([x0, y0])
        p = shapely.Point(c).buffer(rng.uniform(0.5, 300), quad_segs=int(rng.integers(1, 8)))
        for _ in range(int(rng.integers(0, 4))):  # holes, some tiny (left out), some collapse
            hole = shapely.Point(c + rng.uniform(-40, 40, 2)).buffer(rng.uniform(0.2, 25), 2)
            p = p.difference(hole)
        if i % 4 == 0:  # a MultiPolygon with a tiny first part (collapses when rounded)
            tiny = shapely.box(c[0] - 900, c[1], c[0] - 899.99, c[1] + 0.01)
            p = shapely.MultiPolygon([tiny, *shapely.get_parts(p)])
        geoms.append(p)
    g = np.array(geoms, dtype=object)
    to_wgs84 = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform
    for min_hole in (0.0, 50.0):
        lists = encode_geometries(g, 0.0, min_hole, to_wgs84=to_wgs84)
        texts = encode_geometries(g, 0.0, min_hole, to_wgs84=to_wgs84, as_json=True)
        assert texts == [json.dumps(v, separators=(",", ":")) if v else "" for v in lists]
        assert texts[:2] == ["", ""] and all(texts[2:])
    # the writer alone: negative numbers, a geometry without rings between two with some,
    # a hole of a collapsed exterior left out with it
    flat = np.array([-12, 0, 345, -6789, 10, 9_223_372_036_854_775, *range(10)])
    got = _rings.json_geometries(
        flat, np.array([6, 4, 6]), np.array([True, True, False]), np.array([0, 2, 2]), 3
    )
    assert got == ["[[[-12,0,345,-6789,10,9223372036854775]]]", "", ""]
    with pytest.raises(ValueError, match="rings"):
        _rings.json_geometries(flat, np.array([6, 10]), np.array([True]), np.array([0]), 1)
