"""``fifteenmin batch``: the studies table, the Dask tasks, the manifest and the merged table.

Most tests run on an in-process Dask cluster (threads, no worker processes) for speed; two
start a real ``dask scheduler`` and ``dask worker`` as subprocesses on 127.0.0.1, one of
them killing a worker while the batch runs.
"""

from __future__ import annotations

import doctest
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import fifteenmin as fm
from conftest import SAMPLE, SHARED, needs_shared
from fifteenmin import batch_run, batch_studies, batch_task
from fifteenmin.batch_run import MERGED_COLUMNS
from fifteenmin.batch_studies import RESERVED_NAMES, Study, check_study_name, read_studies
from fifteenmin.batch_task import replace_folder, temporary_folders
from fifteenmin.cli import main

distributed = pytest.importorskip("distributed")

BEIJING_PBF = SHARED / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm.pbf"
ANDORRA = SHARED / "benchmark" / "andorra_2013.osm.pbf"
LIECHTENSTEIN = SHARED / "benchmark" / "liechtenstein_2015.osm.pbf"
MONACO = SHARED / "benchmark" / "monaco_2016.osm.pbf"
AGUASCALIENTES = SHARED / "fixtures" / "osmnx_aguascalientes_2026.osm.pbf"
PLANET = SHARED / "fixtures" / "osmnx_planet_10.068_48.135_2023.osm"
#: The files of a report without HTML.
FILES = [
    "README.txt",
    "communities.gpkg",
    "community_types.csv",  # OSM compounds have a type (built year)
    "coverage.csv",
    "coverage.xlsx",
    "facilities.gpkg",
    "opening_hours.csv",
    "summary.json",
]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _merged(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "studies.csv")


def _stamps(out: Path, names) -> dict[str, int]:
    return {n: (out / n / "summary.json").stat().st_mtime_ns for n in names}


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


# ------------------------------------------------------------------------------ the table
def test_csv_yaml_and_toml_tables_agree(tmp_path):
    (tmp_path / "data").mkdir()
    rows = [
        {"study": "a", "osm_file": "data/a.osm.pbf", "threshold": "0.9", "province": "北京"},
        {"study": "b", "osm_file": "/abs/b.osm.pbf", "no_html": "yes", "facilities": "f.csv"},
    ]
    _write_csv(tmp_path / "studies.csv", rows)
    (tmp_path / "studies.yaml").write_text(
        "studies:\n"
        "  - {study: a, osm_file: data/a.osm.pbf, threshold: 0.9, province: 北京}\n"
        "  - {study: b, osm_file: /abs/b.osm.pbf, no_html: true, facilities: f.csv}\n",
        encoding="utf-8",
    )
    (tmp_path / "studies.toml").write_text(
        '[[studies]]\nstudy = "a"\nosm_file = "data/a.osm.pbf"\nthreshold = 0.9\n'
        'province = "北京"\n\n[[studies]]\nstudy = "b"\nosm_file = "/abs/b.osm.pbf"\n'
        'no_html = true\nfacilities = "f.csv"\n',
        encoding="utf-8",
    )
    got = [read_studies(tmp_path / f"studies.{ext}") for ext in ("csv", "yaml", "toml")]
    for studies in got:
        a, b = studies
        assert a.osm_file == str(tmp_path / "data" / "a.osm.pbf")  # relative to the table
        assert a.config.threshold == 0.9 and b.config.threshold == fm.settings.THRESHOLD
        assert a.write.html and not b.write.html
        assert b.config.user_facilities == str(tmp_path / "f.csv")
        assert a.labels == {"province": "北京"} and a.source == "data/a.osm.pbf"
    assert [s.fingerprint() for s in got[0]] == [s.fingerprint() for s in got[1]]
    assert [s.fingerprint() for s in got[0]] == [s.fingerprint() for s in got[2]]


def test_rows_override_the_batch_options(tmp_path):
    rows = [
        {"study": "a", "osm_file": "a.pbf", "engine": "scipy", "lang": "zh"},
        {"study": "b", "osm_file": "b.pbf", "--uniform-speed": "true", "speed": "1.2"},
        {"study": "c", "osm_file": "c.pbf", "catalogue": "mofcom", "category_weights": "x=2"},
        {"study": "d", "osm_file": "d.pbf", "catalogue": "mine.yaml"},
    ]
    base = fm.RunConfig(threshold=0.7, engine="numba", communities="com.gpkg")
    a, b, c, d = read_studies(
        pd.DataFrame(rows), config=base, write=batch_studies.WriteOptions(html=False)
    )
    assert (a.config.engine, a.write.lang, a.config.threshold) == ("scipy", "zh", 0.7)
    assert b.config.engine == "numba" and not b.config.item_profiles and b.config.speed == 1.2
    assert c.config.catalogue == "mofcom" and c.config.category_weights == {"x": 2.0}
    assert d.config.catalogue == os.path.abspath("mine.yaml")  # a DataFrame: relative to cwd
    assert a.config.communities == os.path.abspath("com.gpkg")  # the batch's too
    assert not any(s.write.html for s in (a, b, c, d))


@pytest.mark.parametrize(
    "name",
    ["", " a", "a/b", "..", ".hidden", "a:b", "con", "CON.txt", "a.", "studies.csv", "x" * 300],
)
def test_unsafe_study_names_are_refused(name):
    with pytest.raises(fm.ConfigError, match="cannot name a folder"):
        check_study_name(name)


def test_study_names(tmp_path):
    assert check_study_name("北京 海淀-2024_v1.2") == "北京 海淀-2024_v1.2"
    assert check_study_name(2024) == "2024"
    assert set(RESERVED_NAMES) == {"studies.csv", "studies.gpkg", batch_run.MANIFEST}
    with pytest.raises(fm.ConfigError, match="unique"):
        read_studies([{"study": "Beijing", "osm_file": "a"}, {"study": "beijing", "osm_file": "b"}])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"osm_file": "a.pbf"}, "row 1: no 'study'"),
        ({"study": "a"}, "study 'a': give exactly one of 'osm_file', 'place' or 'bbox'"),
        ({"study": "a", "osm_file": "a", "place": "Kamppi"}, "got osm_file, place"),
        ({"study": "a", "bbox": "1,2,3"}, "expected WEST,SOUTH,EAST,NORTH"),
        ({"study": "a", "bbox": "3,2,1,4"}, "study 'a'"),
        ({"study": "a", "osm_file": "a", "threshold": "high"}, "column 'threshold'"),
        ({"study": "a", "osm_file": "a", "threshold": "2"}, "study 'a': threshold must be"),
        ({"study": "a", "osm_file": "a", "no_html": "maybe"}, "expected true or false"),
        ({"study": "a", "osm_file": "a", "lang": "fr"}, "lang must be"),
        ({"study": "a", "osm_file": "a", "engine": "gpu"}, "unknown engine"),
        ({"study": "a", "osm_file": "a", "treshold": "0.9"}, "did you mean 'threshold'"),
    ],
)
def test_bad_rows_name_the_study_and_column(row, message):
    with pytest.raises(fm.ConfigError, match=message):
        read_studies([row])


def test_unreadable_tables(tmp_path):
    with pytest.raises(fm.InputFileError, match="does not exist"):
        read_studies(tmp_path / "none.csv")
    with pytest.raises(fm.ConfigError, match=r"\.csv, \.yaml or \.toml"):
        read_studies(tmp_path / "studies.xlsx")
    (tmp_path / "s.yaml").write_text("study: a\n", encoding="utf-8")
    with pytest.raises(fm.ConfigError, match="list of studies"):
        read_studies(tmp_path / "s.yaml")
    (tmp_path / "s.toml").write_text("[[studies]\n", encoding="utf-8")
    with pytest.raises(fm.InputFileError, match="cannot be read"):
        read_studies(tmp_path / "s.toml")
    _write_csv(tmp_path / "empty.csv", [])
    (tmp_path / "empty.csv").write_text("study,osm_file\n", encoding="utf-8")
    with pytest.raises(fm.ConfigError, match="no rows"):
        read_studies(tmp_path / "empty.csv")


def test_fingerprint_follows_inputs_and_options(tmp_path):
    osm = tmp_path / "a.osm"
    osm.write_text("<osm/>", encoding="utf-8")
    study = read_studies([{"study": "a", "osm_file": str(osm)}])[0]
    first = study.fingerprint()
    assert study.fingerprint() == first
    os.utime(osm, ns=(0, 10**18))
    assert study.fingerprint() != first
    again = study.fingerprint()
    assert Study("a", str(osm), study.config.replace(speed=1.3)).fingerprint() != again
    html = batch_studies.WriteOptions(html=False)
    assert Study("a", str(osm), study.config, write=html).fingerprint() != again


def test_module_examples_run():
    for mod in (batch_studies, batch_task, batch_run):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, mod.__name__


# ------------------------------------------------------------------------------ folders
def test_folders_are_replaced_whole(tmp_path):
    final = tmp_path / "a"
    final.mkdir()
    (final / "old.txt").write_text("old", encoding="utf-8")
    new = tmp_path / ".a.tmp-1"
    new.mkdir()
    (new / "new.txt").write_text("new", encoding="utf-8")
    replace_folder(new, final)
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # the old folder is gone
    (tmp_path / ".b.tmp-2").mkdir()
    (tmp_path / ".b.old-3").mkdir()
    (tmp_path / ".keep").mkdir()
    assert sorted(p.name for p in temporary_folders(tmp_path)) == [".b.old-3", ".b.tmp-2"]


# ------------------------------------------------------------------------------ batches
@pytest.fixture(scope="module")
def national(tmp_path_factory, client):
    """A batch of the bundled sample, four shared extracts and a missing file."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/osm is not here")
    root = tmp_path_factory.mktemp("national")
    rows = [
        {"study": "sample", "osm_file": os.path.relpath(SAMPLE, root), "province": ""},
        {"study": "beijing", "osm_file": str(BEIJING_PBF), "threshold": 0.9, "province": "北京"},
        {"study": "andorra", "osm_file": str(ANDORRA)},
        {"study": "liechtenstein", "osm_file": str(LIECHTENSTEIN)},
        {"study": "monaco", "osm_file": str(MONACO)},
        {"study": "missing", "osm_file": "no-such-file.osm.pbf"},
    ]
    table = _write_csv(root / "studies.csv", rows)
    out = root / "out"
    merged = fm.batch(table, out, html=False, scheduler=client)
    return root, out, merged


@needs_shared
@pytest.mark.slow
def test_batch_folders_equal_single_reports(national, tmp_path):
    _, out, _ = national
    single = {
        "sample": [str(SAMPLE)],
        "beijing": [str(BEIJING_PBF), "--threshold", "0.9"],
        "andorra": [str(ANDORRA)],
        "liechtenstein": [str(LIECHTENSTEIN)],
        "monaco": [str(MONACO)],
    }
    for name, args in single.items():
        ref = tmp_path / name
        assert main(["report", *args, "--no-html", "--out", str(ref), "-q"]) == 0
        assert sorted(p.name for p in (out / name).iterdir()) == FILES
        for f in FILES:  # the GeoPackages too: they are reproducible
            assert (out / name / f).read_bytes() == (ref / f).read_bytes(), f"{name}/{f}"


@needs_shared
@pytest.mark.slow
def test_merged_table(national):
    _, out, merged = national
    assert list(merged.columns) == ["study", "province", *MERGED_COLUMNS]
    assert merged["study"].tolist() == [
        "sample",
        "beijing",
        "andorra",
        "liechtenstein",
        "monaco",
        "missing",
    ]
    ok = merged[merged["status"] == "ok"]
    assert len(ok) == 5
    bad = merged.set_index("study").loc["missing"]
    assert bad["status"] == "failed" and "no-such-file.osm.pbf" in bad["error"]
    assert "\n" not in bad["error"] and pd.isna(bad["communities"])
    assert not (out / "missing").exists()
    for row in ok.itertuples(index=False):
        summary = json.loads((out / row.study / "summary.json").read_text(encoding="utf-8"))
        cov = summary["coverage"]
        assert row.communities == summary["communities"]
        assert row.coverage_rate == cov["coverage_rate"]
        assert row.threshold == cov["threshold"] == (0.9 if row.study == "beijing" else 0.8)
        assert row.mean_index == pytest.approx(cov["mean_index"])
        first = next(iter(cov["items_most_missing"]), None)
        assert row.items_most_missing.split(":")[0] == (first or "")
        assert row.data_gap_osm_sparse == "; ".join(cov["data_gap_items"]["osm_sparse"])
    # studies.csv is the returned table; studies.gpkg adds each study area's outline
    csv = _merged(out)
    assert csv["study"].tolist() == merged["study"].tolist()
    assert csv["coverage_rate"].tolist()[:5] == ok["coverage_rate"].tolist()
    assert (out / "studies.csv").read_bytes().startswith(b"\xef\xbb\xbfstudy,")  # BOM, header
    assert "© OpenStreetMap contributors" in (out / "README.txt").read_text(encoding="utf-8")
    gpkg = gpd.read_file(out / "studies.gpkg")
    assert gpkg.crs.to_epsg() == 4326 and gpkg["study"].tolist() == merged["study"].tolist()
    assert gpkg.geometry.iloc[:5].notna().all() and gpkg.geometry.iloc[5] is None
    bj = gpkg.geometry.iloc[1].bounds
    assert 116.2 < bj[0] < bj[2] < 116.5 and 39.9 < bj[1] < bj[3] < 40.1
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["studies"]
    assert {k: v["status"] for k, v in manifest.items()} == dict(
        zip(merged["study"], merged["status"], strict=True)
    )
    for v in manifest.values():
        assert v["seconds"] > 0 and v["cpu_seconds"] >= 0
        assert 0 < v["rss_before_mb"] <= v["peak_rss_mb"]


@needs_shared
@pytest.mark.slow
def test_rerun_skips_finished_studies(national, client):
    root, out, merged = national
    done = merged.loc[merged["status"] == "ok", "study"].tolist()
    before = _stamps(out, done)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["studies"]
    (out / ".monaco.tmp-0123").mkdir()  # left behind by a killed task
    again = fm.batch(root / "studies.csv", out, html=False, scheduler=client)
    assert _stamps(out, done) == before
    after = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["studies"]
    assert all(after[n]["finished"] == manifest[n]["finished"] for n in done)
    assert after["missing"]["status"] == "failed"  # failed studies run again
    pd.testing.assert_frame_equal(again, merged)
    assert not (out / ".monaco.tmp-0123").exists()


def test_changed_options_rerun_only_that_study(tmp_path, client):
    rows = [
        {"study": "a", "osm_file": str(SAMPLE), "threshold": 0.8},
        {"study": "b", "osm_file": str(SAMPLE), "threshold": 0.6},
    ]
    table = _write_csv(tmp_path / "studies.csv", rows)
    out = tmp_path / "out"
    first = fm.batch(table, out, html=False, scheduler=client)
    assert first["status"].tolist() == ["ok", "ok"]
    before = _stamps(out, ["a", "b"])
    rows[1]["threshold"] = 0.7
    _write_csv(tmp_path / "studies.csv", rows)
    second = fm.batch(table, out, html=False, scheduler=client)
    after = _stamps(out, ["a", "b"])
    assert after["a"] == before["a"] and after["b"] != before["b"]
    assert second["threshold"].tolist() == [0.8, 0.7]


def test_planned_facilities_as_in_report(tmp_path, client):
    """``--add-facilities`` for every study, or ``add_facilities`` in a row: as in a report."""
    planned = tmp_path / "planned.csv"
    planned.write_text("item,name,lon,lat\npharmacy,Planned,24.9436,60.1699\n", encoding="utf-8")
    ref = tmp_path / "ref"
    planned_args = ["--add-facilities", str(planned), "--no-html", "-q"]
    assert main(["report", *planned_args, "--out", str(ref)]) == 0
    table = _write_csv(
        tmp_path / "studies.csv",
        [
            {"study": "row", "osm_file": str(SAMPLE), "add_facilities": "planned.csv"},
            {"study": "cli", "osm_file": str(SAMPLE), "add_facilities": ""},
        ],
    )
    out = tmp_path / "out"
    address = client.scheduler.address  # the in-process cluster, through --scheduler
    args = ["batch", str(table), "--out", str(out), "--scheduler", address, "--no-html", "-q"]
    assert main([*args, "--add-facilities", str(planned)]) == 0
    for name in ("row", "cli"):
        for f in FILES:
            assert (out / name / f).read_bytes() == (ref / f).read_bytes(), f"{name}/{f}"
    fac = gpd.read_file(out / "row" / "facilities.gpkg", layer="facilities")
    assert (fac["source"] == "planned").sum() == 1


def test_layers_of_input_files(tmp_path, client, monkeypatch):
    """``--community-layer`` for every study, or ``community_layer`` in a row: as in a report."""
    monkeypatch.chdir(tmp_path)  # relative paths on the command line: from here
    com = fm.run_report().communities[["community_id", "geometry"]]
    com.to_file("com.gpkg", layer="all", driver="GPKG")
    com.iloc[:3].to_file("com.gpkg", layer="three", driver="GPKG")
    opts = ["--communities", "com.gpkg", "--id-column", "community_id", "--no-html", "-q"]
    assert main(["report", *opts, "--community-layer", "three", "--out", "ref"]) == 0
    table = _write_csv(
        tmp_path / "studies.csv",
        [
            {"study": "cli", "osm_file": str(SAMPLE), "community_layer": ""},
            {"study": "row", "osm_file": str(SAMPLE), "community_layer": "three"},
        ],
    )
    address = client.scheduler.address
    args = ["batch", str(table), "--out", "out", "--scheduler", address, *opts]
    assert main([*args, "--community-layer", "three"]) == 0  # the row says the same
    assert main([*args, "--community-layer", "all", "--out", "out2"]) == 0  # the row wins
    for folder in ("out/cli", "out/row", "out2/row"):
        assert (
            json.loads(Path(folder, "summary.json").read_text(encoding="utf-8"))["communities"] == 3
        )
        names = sorted(p.name for p in Path("ref").iterdir())  # a user file: no type column
        assert sorted(p.name for p in Path(folder).iterdir()) == names
        for f in names:
            assert Path(folder, f).read_bytes() == Path("ref", f).read_bytes(), f"{folder}/{f}"
    assert json.loads(Path("out2/cli/summary.json").read_text(encoding="utf-8"))["communities"] > 3


def test_online_areas_as_rows(tmp_path, client, monkeypatch):
    """Rows with ``place`` or ``bbox``, downloaded (replay server) as ``--place``/``--bbox``."""
    import osmnx as ox

    from osm_server import OSMStore, OSMTestServer
    from test_online import PLACE, SAMPLE_BOX, _point_osmnx_at

    box = ",".join(repr(v) for v in SAMPLE_BOX)
    rows = [{"study": "park", "place": PLACE}, {"study": "box", "bbox": box}]
    with OSMTestServer(OSMStore(SAMPLE)) as srv:
        guard = _point_osmnx_at(srv, monkeypatch)
        # the downloads are kept in osmnx's cache folder (default ./cache): keep them here
        monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path / "osmnx-cache"))
        merged = fm.batch(rows, tmp_path / "out", html=False, scheduler=client)
        for name, area in (("park", f"--place={PLACE}"), ("box", f"--bbox={box}")):
            ref = tmp_path / f"ref-{name}"
            assert main(["report", area, "--no-html", "-q", "--out", str(ref)]) == 0
            for f in FILES:
                got = (tmp_path / "out" / name / f).read_bytes()
                assert got == (ref / f).read_bytes(), f"{name}/{f}"
    assert not guard.blocked
    assert len(list((tmp_path / "osmnx-cache").glob("*.osm"))) == 2
    assert merged["status"].tolist() == ["ok", "ok"], merged["error"].tolist()
    assert merged["osm_file"].tolist() == [f"place: {PLACE}", f"bbox: {box}"]


def test_cli_errors(tmp_path, capsys):
    table = _write_csv(tmp_path / "s.csv", [{"study": "../x", "osm_file": "a.pbf"}])
    assert main(["batch", str(table), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "cannot name a folder" in capsys.readouterr().err
    table = _write_csv(tmp_path / "s.csv", [{"study": "x", "osm_file": "a.pbf"}])
    args = ["batch", str(table), "--out", str(tmp_path / "o"), "--workers", "2"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1", "-q"]) == 2
    assert "local cluster" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written before the table is valid
    with pytest.raises(SystemExit):
        main(["batch", str(table)])  # --out is required


def test_label_columns_must_not_clash(tmp_path):
    rows = [{"study": "a", "osm_file": "a.pbf", "status": "draft"}]
    with pytest.raises(fm.ConfigError, match="status"):
        fm.batch(rows, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_batch_has_every_report_option():
    from fifteenmin.cli import _parser

    sub = next(a for a in _parser()._actions if a.dest == "command").choices
    report = {s for a in sub["report"]._actions for s in a.option_strings}
    batch = {s for a in sub["batch"]._actions for s in a.option_strings}
    assert report - batch == {"--place", "--bbox"}  # a study's area is its row's
    # --scheduler and --workers: the batch's own (report has them too, for --tiles)
    assert batch - report == set()


# ------------------------------------------------------------------------------ real processes
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Processes:
    """Dask scheduler and worker subprocesses, stopped at the end of the test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "PYTHONPATH": str(Path(fm.__file__).parents[1]),
            # a task on a worker that dies fails at once (default: retried on 3 more workers)
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
        }

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=self.env
        )
        self.procs.append(proc)
        return proc

    def scheduler(self) -> str:
        port = _free_port()
        self.start(
            "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
            name="scheduler",
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return f"tcp://127.0.0.1:{port}"
            time.sleep(0.2)
        raise AssertionError("the dask scheduler did not start: " + self.log("scheduler"))

    def worker(self, address: str, name: str) -> subprocess.Popen:
        return self.start(
            "dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
            "--name", name, name=name,
        )  # fmt: skip

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """Workers first (the last started first), while their scheduler still answers."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def processes(tmp_path):
    procs = _Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop()


def _small_table(root: Path, names=("aguascalientes", "beijing", "planet")) -> Path:
    files = {
        "aguascalientes": AGUASCALIENTES,
        "beijing": BEIJING_PBF,
        "planet": PLANET,
        "monaco": MONACO,
    }
    return _write_csv(
        root / "studies.csv", [{"study": n, "osm_file": str(files[n])} for n in names]
    )


@needs_shared
@pytest.mark.slow
def test_batch_through_a_scheduler(processes, tmp_path, client):
    address = processes.scheduler()
    processes.worker(address, "w1")
    with distributed.Client(address, timeout=60) as watcher:
        watcher.wait_for_workers(1, timeout=120)
    table = _small_table(tmp_path, ("aguascalientes", "beijing"))
    out = tmp_path / "remote"
    rc = main(["batch", str(table), "--out", str(out), "--scheduler", address, "--no-html", "-q"])
    assert rc == 0, processes.log("w1")
    local = fm.batch(table, tmp_path / "local", html=False, scheduler=client)
    pd.testing.assert_frame_equal(_merged(out), _merged(tmp_path / "local"))
    assert local["status"].tolist() == ["ok", "ok"]
    for name in ("aguascalientes", "beijing"):
        for f in FILES:
            a, b = out / name / f, tmp_path / "local" / name / f
            assert a.read_bytes() == b.read_bytes(), f"{name}/{f}"


@needs_shared
@pytest.mark.slow
def test_interrupted_batch_resumes(tmp_path):
    """Ctrl-C (SIGINT) stops the batch with status 130; a rerun runs only what is left."""
    table = _small_table(tmp_path, ("aguascalientes", "monaco", "beijing"))  # Monaco: 3-5 s
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "fifteenmin", "batch", str(table), "--out", str(out)]
    cmd += ["--workers", "1", "--no-html", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(fm.__file__).parents[1])}
    run = subprocess.Popen(
        cmd,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        # a background process may have inherited SIGINT ignored: Python then never raises
        # KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "manifest.json").exists():  # the first study is done
            assert run.poll() is None and time.monotonic() < deadline, run.stderr.read()
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, err
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["studies"]
    assert not (out / "studies.csv").exists()  # the merged table waits for every task
    done = [n for n, e in first.items() if e["status"] == "ok"]
    before = _stamps(out, done)
    assert main(["batch", str(table), "--out", str(out), "--workers", "1", "--no-html", "-q"]) == 0
    assert _stamps(out, done) == before
    assert _merged(out)["status"].tolist() == ["ok", "ok", "ok"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@needs_shared
@pytest.mark.slow
def test_killed_worker_then_rerun_completes(processes, tmp_path):
    address = processes.scheduler()
    victim = processes.worker(address, "victim")
    table = _small_table(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "fifteenmin", "batch", str(table), "--out", str(out)]
    cmd += ["--scheduler", address, "--no-html", "-q"]
    with distributed.Client(address, timeout=60) as watcher:
        watcher.wait_for_workers(1, timeout=120)
        run = subprocess.Popen(cmd, env=processes.env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not any(watcher.processing().values()):  # a study is on the victim
                assert time.monotonic() < deadline, "no study started"
                time.sleep(0.05)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            processes.worker(address, "keeper")
            _, err = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
    assert run.returncode in (0, 1), err
    first = _merged(out)
    assert len(first) == 3  # complete even with studies lost with the worker
    failed = first[first["status"] == "failed"]
    assert len(failed) >= 1, err  # the studies on the killed worker
    assert failed["error"].str.contains("worker running this study died").all(), err
    done = first.loc[first["status"] == "ok", "study"].tolist()
    before = _stamps(out, done)
    assert main(["batch", str(table), "--out", str(out), "--scheduler", address, "-q",
                 "--no-html"]) == 0  # fmt: skip
    second = _merged(out)
    assert second["status"].tolist() == ["ok", "ok", "ok"]
    assert _stamps(out, done) == before  # the studies done before were not run again
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_poi_and_district_paths_are_relative_to_the_table(tmp_path):
    (tmp_path / "studies.yaml").write_text(
        "studies:\n"
        "  - {study: a, osm_file: a.pbf, poi: [p/amap.csv, /abs/b.csv], districts: d.gpkg}\n"
        "  - {study: b, osm_file: b.pbf, poi: p/one.xlsx, districts: osm}\n",
        encoding="utf-8",
    )
    a, b = read_studies(tmp_path / "studies.yaml")
    assert a.config.poi == [str(tmp_path / "p" / "amap.csv"), "/abs/b.csv"]
    assert a.config.districts == str(tmp_path / "d.gpkg")
    assert b.config.poi == str(tmp_path / "p" / "one.xlsx") and b.config.districts == "osm"
    # the batch's own options (the command line): relative to the current folder
    base = fm.RunConfig(poi=["x.csv"], districts="dist.gpkg")
    (c,) = read_studies(pd.DataFrame([{"study": "c", "osm_file": "c.pbf"}]), config=base)
    assert c.config.poi == [os.path.abspath("x.csv")]
    assert c.config.districts == os.path.abspath("dist.gpkg")
