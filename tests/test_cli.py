"""The command line end to end on the bundled sample, and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import BEIJING, needs_shared
from fifteenmin.cli import main
from fifteenmin.coverage import COVERAGE_COLUMNS

OSM_ATTR = "© OpenStreetMap contributors"


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report"
    assert main(["report", "--out", str(out), "--quiet"]) == 0
    return out


def test_report_files(sample_report):
    out = sample_report
    for name in ("summary.json", "coverage.csv", "communities.gpkg", "facilities.gpkg"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert OSM_ATTR in summary["attribution"]
    assert summary["network"]["nodes"] > 1000
    assert summary["communities"] > 5
    assert 0.0 <= summary["coverage"]["coverage_rate"] <= 1.0
    assert sum(summary["facilities"]["per_item"].values()) == summary["facilities"]["total"]
    raw = (out / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + b",".join(c.encode() for c in COVERAGE_COLUMNS))
    assert OSM_ATTR in (out / "README.txt").read_text(encoding="utf-8")
    cov = pd.read_csv(out / "coverage.csv")  # pandas' defaults read it
    assert list(cov.columns) == COVERAGE_COLUMNS
    n_items = len(summary["facilities"]["per_item"])
    assert len(cov) == summary["communities"] * n_items
    assert cov["share_within_tier"].between(0, 1).all()
    com = gpd.read_file(out / "communities.gpkg")
    assert {"community_id", "score", "missing"} <= set(com.columns)
    assert len(com) == summary["communities"]
    fac = gpd.read_file(out / "facilities.gpkg")
    assert len(fac) == summary["facilities"]["total"]
    import pyogrio

    meta = pyogrio.read_info(out / "communities.gpkg")
    assert OSM_ATTR in json.dumps(meta, ensure_ascii=False, default=str)


def test_report_is_deterministic(sample_report, tmp_path):
    out2 = tmp_path / "again"
    assert main(["report", "--out", str(out2), "--quiet", "--engine", "scipy"]) == 0
    from fifteenmin.output import REPORT_FILES

    for name in REPORT_FILES:
        assert (out2 / name).exists() == (sample_report / name).exists(), name
        if (out2 / name).exists():  # districts.csv etc. need districts or community types
            assert (out2 / name).read_bytes() == (sample_report / name).read_bytes(), name


def test_console_script_runs():
    r = subprocess.run(
        [sys.executable, "-m", "fifteenmin", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and "fifteenmin" in r.stdout


def _assert_nothing_written(out):
    assert not out.exists() or not any(out.iterdir())


def test_missing_file_error(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["report", str(tmp_path / "missing.osm.pbf"), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "Traceback" not in err
    _assert_nothing_written(out)


def test_not_osm_error(tmp_path, capsys):
    bad = tmp_path / "x.osm"
    bad.write_text("hello")
    out = tmp_path / "o"
    assert main(["report", str(bad), "--out", str(out), "-q"]) == 2
    assert "could not be read as OpenStreetMap data" in capsys.readouterr().err
    _assert_nothing_written(out)


def test_community_file_errors(tmp_path, capsys):
    pts = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326).to_file(pts)
    out = tmp_path / "o"
    assert main(["report", "--communities", str(pts), "--out", str(out), "-q"]) == 2
    assert "no polygons" in capsys.readouterr().err
    _assert_nothing_written(out)
    nocrs = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(nocrs)
    assert main(["report", "--communities", str(nocrs), "--out", str(out), "-q"]) == 2
    assert "no coordinate reference system" in capsys.readouterr().err
    _assert_nothing_written(out)


def test_unwritable_output(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["report", "--out", str(f), "-q"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["report", "--out", str(f / "sub"), "-q"]) == 2
    assert "cannot write into output folder" in capsys.readouterr().err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(["report", "--out", str(ro), "-q"]) == 2


def test_bad_speed_is_rejected(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", "--speed", "-1"])
    assert e.value.code == 2
    assert "positive" in capsys.readouterr().err


@needs_shared
def test_beijing_report(tmp_path):
    out = tmp_path / "cau"
    assert main(["report", str(BEIJING), "--out", str(out), "-q"]) == 0
    cov = pd.read_csv(out / "coverage.csv")
    names = set(cov["community_name"])
    assert {"富润家园", "静淑苑"} <= names
    per = cov.groupby("community_name")["item_id"].count()
    assert per.nunique() == 1  # a row per item for every compound


def test_report_options_user_data_and_chinese_html(tmp_path):
    """--facilities (GCJ-02 CSV), --category-weights, --lang zh, --no-html."""
    import fifteenmin as fm

    com = fm.run_report().coverage.communities
    # one elderly day-care post at the first community's representative point, given in GCJ-02
    # (Helsinki lies outside China, where GCJ-02 equals WGS-84 by definition)
    p = com.geometry.iloc[0].representative_point()
    csv = tmp_path / "posts.csv"
    csv.write_text(f"name,item,lon,lat\n幸福驿站,elderly_day_care,{p.x},{p.y}\n", encoding="utf-8")
    out = tmp_path / "o"
    rc = main(
        [
            "report",
            "--facilities",
            str(csv),
            "--coord-system",
            "gcj02",
            "--category-weights",
            "health=2,education=2",
            "--lang",
            "zh",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["facilities"]["per_item"]["elderly_day_care"] == 1
    assert summary["coverage"]["category_weights"]["health"] == 2.0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "覆盖率" in page and "幸福驿站" in page and OSM_ATTR in page
    out2 = tmp_path / "o2"
    assert main(["report", "--no-html", "--out", str(out2), "-q"]) == 0
    assert not (out2 / "report.html").exists()
    out3 = tmp_path / "o3"
    assert main(["report", "--no-isochrones", "--no-sites", "--out", str(out3), "-q"]) == 0
    lean = (out3 / "report.html").read_text(encoding="utf-8")
    assert 'id="fm-sites"' not in lean and 'id="fm-sites"' in (out / "report.html").read_text(
        encoding="utf-8"
    )


def test_bad_category_weights(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--category-weights", "health"])
    assert "CATEGORY=WEIGHT" in capsys.readouterr().err


def test_quiet_prints_nothing_and_default_prints_stages_and_warnings(tmp_path, capsys):
    assert main(["report", "-q", "--no-html", "--out", str(tmp_path / "q")]) == 0
    assert capsys.readouterr().err == ""  # no progress, no warnings, no bars
    assert main(["report", "--no-html", "--out", str(tmp_path / "v")]) == 0
    err = capsys.readouterr().err
    assert "[fifteenmin] read " in err and "[fifteenmin] coverage rate:" in err
    assert "[fifteenmin] warning: " in err and "clipped extract" in err
    assert "RuntimeWarning" not in err and "Traceback" not in err


def test_library_messages_go_to_the_fifteenmin_logger(caplog):
    import logging
    import warnings

    from fifteenmin import run_report

    with caplog.at_level(logging.INFO, logger="fifteenmin"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_report()
    stages = [r.getMessage() for r in caplog.records if r.name == "fifteenmin"]
    # the sample's squares are made walkable, and the network stage says how much they add
    assert len(stages) == 8 and stages[1].startswith("pedestrian areas:")
    assert stages[2].startswith("walking network:")
    assert stages[-1].startswith("opening hours:")
