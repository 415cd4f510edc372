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
    assert [p.name for p in a] == [p.name for p in b] == list(REPORT_FILES[:-1])
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


def test_plain_results_can_be_written(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(config=fm.RunConfig(engine="scipy"))
    files = write_report(res, tmp_path, isochrones=None, sites=None)
    assert [p.name for p in files] == list(REPORT_FILES)


def test_summary_without_timings_and_with_attribution(report, tmp_path):
    (path,) = [p for p in report.write(tmp_path, html=False) if p.name == "summary.json"]
    summary = json.loads(path.read_text(encoding="utf-8"))
    assert "timings_s" not in summary  # they vary between runs: outputs are reproducible
    assert summary["attribution"] == fm.settings.ATTRIBUTION
    assert summary["parameters"] == report.params
    assert "timings_s" in report.summary()


def test_failed_write_leaves_no_file(report, tmp_path, monkeypatch):
    from fifteenmin.output import report_files

    def boom(path, gdf, layer):
        raise fm.OutputError("disk full (simulated)")

    monkeypatch.setattr(report_files, "write_gpkg", boom)
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
