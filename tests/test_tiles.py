"""``fifteenmin report --tiles N``: tiled runs equal the single run, byte for byte.

The oracle is the untiled run of the same file (``fifteenmin report``): the tiled run routes
each tile on its own part of the network and merges, so any walk cut off by a too narrow
margin, any origin routed twice or not at all, or any area-wide number computed per tile
shows up as a difference in ``coverage.csv`` or ``summary.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

import fifteenmin as fm
from conftest import SHARED, needs_shared
from fifteenmin import _tile_area as tile_area
from fifteenmin import tiles as tiles_mod
from fifteenmin.cli import main

#: Every file a tiled report writes; coverage.csv and summary.json are the issue's criterion.
FILES = ("README.txt", "summary.json", "coverage.csv", "coverage.xlsx", "communities.gpkg")
ANDORRA = SHARED / "benchmark" / "andorra_2013.osm.pbf"
LIECHTENSTEIN = SHARED / "benchmark" / "liechtenstein_2015.osm.pbf"
BEIJING_PBF = SHARED / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm.pbf"


_SINGLE: dict[Path, Path] = {}


def _single(osm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The untiled report's folder (each file once per test session)."""
    if osm not in _SINGLE:
        out = tmp_path_factory.mktemp("single")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fm.run_report(osm).write(out, html=False)
        _SINGLE[osm] = out
    return _SINGLE[osm]


_NETWORKS: dict[Path, fm.WalkNetwork] = {}


def _network(osm: Path) -> fm.WalkNetwork:
    """The whole network of ``osm`` (a tiled report holds none when its tiles read alone)."""
    if osm not in _NETWORKS:
        _NETWORKS[osm] = fm.network_from_file(osm)
    return _NETWORKS[osm]


def _crossing(report: fm.TiledReport, n: int, osm: Path) -> int:
    """Communities whose polygon lies in more than one of the ``n`` tiles."""
    net = _network(osm)
    grid = tiles_mod._Grid(net.x, net.y, n)
    polys = np.asarray(report.communities.to_crs(net.crs).geometry.values)
    crossing = 0
    for p in polys:
        hit = [k for k in range(n) if shapely.intersects(p, shapely.box(*grid.box(k)))]
        crossing += len(hit) > 1
    return crossing


def _check_identical(
    osm: Path, n: int, client, tmp_path, tmp_path_factory, read_in_tiles: bool = True
) -> fm.TiledReport:
    single = _single(osm, tmp_path_factory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = fm.run_tiled(osm, tiles=n, scheduler=client, read_in_tiles=read_in_tiles)
    # the tiles read their own parts (the default), or the client built the whole network
    assert (rep.network.n_nodes == 0) == read_in_tiles
    written = rep.write(tmp_path / "tiled")
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in single.iterdir())  # every file the single run writes
    assert set(FILES) <= set(names)
    for name in names:
        a = (single / name).read_bytes()
        b = (tmp_path / "tiled" / name).read_bytes()
        assert a == b, f"{osm.name}, {n} tiles: {name} differs from the untiled run"
    assert sum(r.communities for r in rep.tile_runs) == len(rep.communities)
    assert sum(r.origins for r in rep.tile_runs) == len(rep.residents)
    return rep


def _nodes(rep: fm.TiledReport) -> int:
    return int(rep.summary()["network"]["nodes"])


@pytest.mark.parametrize(("n", "read_in_tiles"), [(4, True), (9, True), (4, False), (9, False)])
def test_synthetic_city_tiles_equal_single_run(
    n, read_in_tiles, city, client, tmp_path, tmp_path_factory
):
    rep = _check_identical(city, n, client, tmp_path, tmp_path_factory, read_in_tiles)
    # the tiles really cut the network (a tile reading its own part reads 500 m more), and
    # their borders run through communities
    assert _nodes(rep) == _network(city).n_nodes
    if n == 9 or not read_in_tiles:
        assert min(r.nodes for r in rep.tile_runs) < _nodes(rep)
    assert _crossing(rep, n, city) > 0


@needs_shared
@pytest.mark.parametrize(
    ("name", "n", "crossing", "read_in_tiles"),
    [
        ("andorra", 4, False, True),
        ("andorra", 7, True, True),
        ("liechtenstein", 6, True, True),
        ("beijing", 4, True, True),
        ("andorra", 7, True, False),
        ("liechtenstein", 6, True, False),
        ("beijing", 4, True, False),
    ],
)
def test_shared_extracts_tiles_equal_single_run(
    name, n, crossing, read_in_tiles, client, tmp_path, tmp_path_factory
):
    osm = {
        "andorra": ANDORRA,
        "liechtenstein": LIECHTENSTEIN,
        "beijing": BEIJING_PBF,
    }[name]
    rep = _check_identical(osm, n, client, tmp_path, tmp_path_factory, read_in_tiles)
    if name in ("andorra", "liechtenstein"):  # 20-25 km wide: the tiles cut the network
        assert min(r.nodes for r in rep.tile_runs) < _nodes(rep)
    # tile borders through communities: a community routed with its tile's margin only
    assert (_crossing(rep, n, osm) > 0) == crossing


@pytest.mark.parametrize("read_in_tiles", [True, False])
def test_a_too_narrow_margin_changes_the_results(read_in_tiles, city, client, monkeypatch):
    """The byte-identity tests can fail: a margin shorter than the walks cuts them off."""
    single = fm.run_report(city)
    monkeypatch.setattr(tiles_mod, "tile_margin_m", lambda *a, **k: 150.0)
    monkeypatch.setattr(tile_area, "_READ_SLACK_M", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = fm.run_tiled(city, tiles=9, scheduler=client, read_in_tiles=read_in_tiles)
    a = single.coverage.table.to_csv(index=False)
    b = rep.coverage.table.to_csv(index=False)
    assert a != b


def test_margin_is_the_longest_cutoff_plus_snapping():
    cat = fm.load_catalogue("beijing")
    speeds = fm.item_speeds(cat)
    cutoff = max(it.tier_minutes for it in cat.items) + fm.settings.CUTOFF_MARGIN_MIN
    expect = cutoff * 60 * max(speeds.values()) * 1.01 + 2 * fm.settings.MAX_SNAP_M
    assert fm.tile_margin_m() == pytest.approx(expect)
    faster = fm.tile_margin_m(fm.RunConfig(speed=2.0, item_profiles=False))
    assert faster == pytest.approx(cutoff * 60 * 2.0 * 1.01 + 1000)


def test_cli_tiles_equal_report(city, client, tmp_path, capsys):
    address = client.scheduler.address
    assert main(["report", str(city), "-q", "--no-html", "--out", str(tmp_path / "a")]) == 0
    args = ["report", str(city), "--tiles", "4", "--scheduler", address, "--out"]
    assert main([*args, str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "report.html is not written" in err
    assert not (tmp_path / "b" / "report.html").exists()
    for name in ("coverage.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("value", ["0", "-1", "x", "2.5", ""])
def test_bad_tiles_are_one_line_errors(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", f"--tiles={value}", "--out", "never"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--tiles" in err[-1] and "Traceback" not in "".join(err)


def test_workers_without_tiles_is_an_error(tmp_path, capsys):
    assert main(["report", "--workers", "2", "--out", str(tmp_path / "x")]) == 2
    assert "add --tiles N" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("value", [0, -3, 2.5, "4", True, None])
def test_bad_tiles_in_python(value):
    with pytest.raises(fm.ConfigError, match="tiles must be a whole number"):
        fm.run_tiled(tiles=value)


def test_html_is_not_written_for_a_tiled_report(city, client, tmp_path):
    rep = fm.run_tiled(city, tiles=2, scheduler=client)
    with pytest.warns(UserWarning, match="report.html is not written"):
        files = rep.write(tmp_path, html=True)
    assert "report.html" not in {p.name for p in files}
    assert not (tmp_path / "report.html").exists()


def test_batch_tiles_column(city, client, tmp_path, tmp_path_factory):
    rows = [
        {"study": "whole", "osm_file": str(city)},
        {"study": "tiled", "osm_file": str(city), "tiles": "4"},
    ]
    table = fm.batch(rows, tmp_path / "out", html=False, scheduler=client)
    assert table["status"].tolist() == ["ok", "ok"]
    for name in ("coverage.csv", "summary.json"):
        a = (tmp_path / "out" / "whole" / name).read_bytes()
        assert a == (tmp_path / "out" / "tiled" / name).read_bytes()
    with pytest.raises(fm.ConfigError, match="tiles"):
        fm.batch([{"study": "a", "osm_file": str(city), "tiles": "0"}], tmp_path / "bad")


def _same_files(a: fm.Report, b: fm.Report, tmp_path: Path, names: tuple[str, ...]) -> None:
    a.write(tmp_path / "a", html=False)
    b.write(tmp_path / "b")
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@needs_shared
def test_tiles_with_a_population_layer(client, tmp_path):
    osm = SHARED / "benchmark" / "helsinki_centre_2019.osm.pbf"
    cfg = fm.RunConfig(population=str(SHARED / "benchmark" / "helsinki_population_grid_2020.gpkg"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        single = fm.run_report(osm, config=cfg)
        tiled = fm.run_tiled(osm, tiles=4, config=cfg, scheduler=client)
    _same_files(single, tiled, tmp_path, ("coverage.csv", "summary.json"))


@needs_shared
def test_tiles_with_planned_facilities_and_other_speeds(client, tmp_path):
    """A scenario table, a uniform 1.3 m/s (a wider margin) and another threshold."""
    base = fm.network_from_file(ANDORRA)
    planned = tmp_path / "planned.csv"
    rows = ["lon,lat,item"] + [
        f"{x},{y},pharmacy" for x, y in zip(base.lon[::150], base.lat[::150], strict=True)
    ]
    planned.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = fm.RunConfig(
        user_facilities={"planned": str(planned)}, speed=1.3, item_profiles=False, threshold=0.6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        single = fm.run_report(ANDORRA, config=cfg)
        tiled = fm.run_tiled(ANDORRA, tiles=7, config=cfg, scheduler=client)
    assert min(r.nodes for r in tiled.tile_runs) < _nodes(tiled)
    _same_files(single, tiled, tmp_path, ("coverage.csv", "summary.json", "facilities.gpkg"))
