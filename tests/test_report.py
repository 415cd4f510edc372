"""The output layer: Report, write_report and the atomic report folder."""

from __future__ import annotations

import json
import os
import warnings

import pytest

import fifteenmin as fm
from fifteenmin.output import REPORT_FILES, write_report
from fifteenmin.pipeline import run_pipeline


@pytest.fixture(scope="module")
def report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fm.run_report(engine="scipy")


def test_report_is_results_plus_writers(report):
    assert isinstance(report, fm.Results)
    assert report.config.engine == "scipy"
    assert repr(report).startswith("Report(WalkNetwork(")


def test_run_report_options_and_config_agree():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fm.run_report(threshold=0.6)
        b = fm.run_report(config=fm.RunConfig(threshold=0.6))
        c = fm.run_report(config=fm.RunConfig(threshold=0.9), threshold=0.6)  # options win
    assert a.summary()["coverage"] == b.summary()["coverage"] == c.summary()["coverage"]


def test_write_report_equals_report_write(report, tmp_path):
    a = report.write(tmp_path / "a", html=False)
    b = write_report(report, tmp_path / "b", html=False)
    assert [p.name for p in a] == [p.name for p in b] == _always(REPORT_FILES[:-1], report)
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


def test_report_for_writing_writes_the_same_files(report, tmp_path):
    """Without the travel times' node arrays the report files are the same, byte for byte."""
    from fifteenmin.report import for_writing

    light = for_writing(report)
    assert light.travel.metres.shape == light.travel.facility.shape == (len(report.catalogue), 0)
    assert report.travel.metres.shape[1] == report.network.n_nodes  # the original keeps them
    assert light.travel.access is report.travel.access and light.network is report.network
    a = report.write(tmp_path / "a")
    b = light.write(tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_plain_results_can_be_written(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(config=fm.RunConfig(engine="scipy"))
    files = write_report(res, tmp_path, isochrones=None, sites=None)
    assert [p.name for p in files] == _always(REPORT_FILES, res)


def _always(names, report=None):
    """The report files a run writes: a roll-up file needs its column (districts, types)."""
    from fifteenmin.output.rollups import ROLLUP_FILES

    columns = set(report.coverage.communities.columns) if report is not None else set()
    skip = {name for col, name in ROLLUP_FILES.items() if col not in columns}
    return [n for n in names if n not in skip]


def test_summary_without_timings_and_with_attribution(report, tmp_path):
    (path,) = [p for p in report.write(tmp_path, html=False) if p.name == "summary.json"]
    summary = json.loads(path.read_text(encoding="utf-8"))
    assert "timings_s" not in summary  # they vary between runs: outputs are reproducible
    assert summary["attribution"] == fm.settings.ATTRIBUTION
    assert summary["parameters"] == report.params
    assert "timings_s" in report.summary()


def test_failed_write_leaves_no_file(report, tmp_path, monkeypatch):
    from fifteenmin.output import report_files

    def boom(path, layers):
        raise fm.OutputError("disk full (simulated)")

    monkeypatch.setattr(report_files, "write_gpkg_layers", boom)
    with pytest.raises(fm.OutputError):
        report.write(tmp_path, html=False)
    assert os.listdir(tmp_path) == []  # nothing half-written, no temporary file left


def test_written_files_are_shareable(report, tmp_path):
    for p in report.write(tmp_path, html=False):
        assert p.stat().st_mode & 0o777 == 0o644


def test_unwritable_folder_is_an_output_error(report, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(fm.OutputError, match="is a file"):
        report.write(target, html=False)


def test_summary_json_follows_the_shipped_schema(report, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    from fifteenmin.output import summary_schema

    (path,) = [p for p in report.write(tmp_path, html=False) if p.name == "summary.json"]
    summary = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(summary, summary_schema())
    # the schema is strict: an unknown field is an error, so docs stay complete
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**summary, "surprise": 1}, summary_schema())
    assert summary["network"]["source"] == fm.sample_path().name  # no local path


def test_csv_and_xlsx_any_tool_reads(report, tmp_path):
    import pandas as pd

    report.write(tmp_path, html=False)
    raw = (tmp_path / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcommunity_id,")  # BOM, header on line 1
    table = pd.read_csv(tmp_path / "coverage.csv")
    assert table.shape == report.coverage.table.shape
    book = pd.read_excel(tmp_path / "coverage.xlsx", sheet_name=None)
    assert list(book) == ["about", "matrix", "minutes", "long"]
    matrix = book["matrix"]
    assert len(matrix) == len(report.coverage.communities)
    items = [it.id for it in report.catalogue.items]
    assert list(matrix.columns[2:]) == items
    long = report.coverage.table
    row = long.iloc[5]
    got = matrix.loc[matrix["community_id"].astype(str) == str(row["community_id"]), row["item_id"]]
    assert got.item() == row["status"]
    assert "OpenStreetMap contributors" in book["about"].to_csv()


def test_formula_like_names_are_neutralised(tmp_path):
    import pandas as pd

    from fifteenmin.output._files import write_csv, write_xlsx

    df = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "+1", "@SUM(A1)", "ok", "-x"], "v": range(5)})
    write_csv(tmp_path / "a.csv", df)
    back = pd.read_csv(tmp_path / "a.csv")
    assert back["name"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'@SUM(A1)", "ok", "'-x"]
    write_xlsx(tmp_path / "a.xlsx", {"t": df}, [("k", "v")])
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "a.xlsx")["t"]
    cells = [ws.cell(row=r, column=1) for r in range(2, 7)]
    assert all(c.data_type == "s" for c in cells)  # text, never a formula
    assert cells[0].value.startswith("'=")


def test_xlsx_table_longer_than_a_sheet_continues_on_numbered_sheets(tmp_path, monkeypatch):
    import pandas as pd
    from openpyxl import load_workbook

    from fifteenmin.output import _files

    monkeypatch.setattr(_files, "XLSX_MAX_ROWS", 4)  # Excel's 1,048,575 scaled down
    df = pd.DataFrame({"id": [f"c{i}" for i in range(10)], "v": range(10)})
    _files.write_xlsx(tmp_path / "a.xlsx", {"long": df, "small": df.head(2)}, [("k", "v")])
    book = load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["about", "long", "long (2)", "long (3)", "small"]
    parts = [
        [r[0] for r in book[n].iter_rows(min_row=2, values_only=True)] for n in book.sheetnames[1:4]
    ]
    assert parts == [["c0", "c1", "c2", "c3"], ["c4", "c5", "c6", "c7"], ["c8", "c9"]]
    assert all(book[n]["A1"].value == "id" and book[n]["A1"].font.bold for n in book.sheetnames[1:])
    assert book["long (2)"].freeze_panes == "B2"


def test_city_sized_workbook_leaves_the_long_table_to_the_csv(
    report, tmp_path, monkeypatch, caplog
):
    import logging

    import pandas as pd

    from fifteenmin import settings

    monkeypatch.setattr(settings, "XLSX_LONG_MAX_ROWS", len(report.coverage.table) - 1)
    with caplog.at_level(logging.INFO, logger="fifteenmin"):
        report.write(tmp_path, html=False)
    assert "the long table" in caplog.text and "it is coverage.csv" in caplog.text
    book = pd.read_excel(tmp_path / "coverage.xlsx", sheet_name=None)
    assert list(book) == ["about", "matrix", "minutes"]
    assert "read coverage.csv" in book["about"].to_csv()
    assert len(book["matrix"]) == len(report.coverage.communities)


def test_rerun_without_html_leaves_no_stale_page(report, tmp_path):
    report.write(tmp_path, isochrones=None, sites=None)
    assert (tmp_path / "report.html").exists()
    (tmp_path / "notes.txt").write_text("mine")
    report.write(tmp_path, html=False)
    assert not (tmp_path / "report.html").exists()  # never a folder mixing two runs
    assert (tmp_path / "notes.txt").read_text() == "mine"  # not a report file: untouched


def test_map_walking_areas_exact_for_few_communities_raster_for_many(monkeypatch):
    """The report's map: exact areas up to WALKING_AREA_MAP_EXACT_MAX communities, else raster."""
    import shapely

    from fifteenmin.output.report_files import map_walking_areas

    res = fm.run_pipeline(config=fm.RunConfig(opening_hours_at=()))
    exact = map_walking_areas(res)
    want = res.community_isochrones(simplify_m=fm.settings.WALKING_AREA_MAP_SIMPLIFY_M)
    assert shapely.equals_exact(exact.geometry.values, want.geometry.values, 0).all()
    monkeypatch.setattr(fm.settings, "WALKING_AREA_MAP_EXACT_MAX", 5)  # the sample has 12
    raster = map_walking_areas(res)
    assert list(raster["community_id"]) == list(exact["community_id"])
    assert not shapely.equals_exact(raster.geometry.values, exact.geometry.values, 0).any()
    # raster areas lie within a few metres of the exact ones
    diff = shapely.area(shapely.symmetric_difference(raster.geometry.values, exact.geometry.values))
    assert (diff / shapely.area(exact.geometry.values)).max() < 0.06
