"""Tiles that read their own part of the OSM file (``fifteenmin._tile_area``).

Oracles: the whole network (``network_from_file``) for the client's pre-pass and for each
tile's part of the network, and the untiled run (``fifteenmin report``) for the files, byte
for byte, on a synthetic city whose communities come from residential areas, from a grid
(no residential area) and from ``admin_level=10`` boundaries.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import osmium

import fifteenmin as fm
from fifteenmin import _tile_area as tile_area
from fifteenmin import tiles as tiles_mod
from fifteenmin._osm import BASE_FEATURE_KEYS


def _retagged(src: Path, dst: Path, change) -> Path:
    """``src`` with the tags of every way passed through ``change`` (pyosmium)."""
    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            if isinstance(obj, osmium.osm.Way):
                tags = change(dict(obj.tags))
                writer.add_way(obj.replace(tags=tags))
            else:
                writer.add(obj)
    return dst


def _area(path: Path) -> tile_area.Area:
    keys = set(fm.load_catalogue("beijing").osm_keys())
    area = tile_area.scan_area(path, keys, fm.settings.PEDESTRIAN_AREAS)
    assert area is not None
    return area


def test_prepass_is_the_whole_networks_frame(city):
    area = _area(city)
    net = fm.network_from_file(city)
    assert np.array_equal(area.frame.node_ids, np.sort(net.node_id))
    assert area.frame.crs == net.crs
    assert area.frame.bounds == (net.x.min(), net.y.min(), net.x.max(), net.y.max())
    assert area.communities == "landuse_residential"
    # 24 bytes per network node: ids and coordinates, nothing else per node
    assert area.frame.node_ids.nbytes + area.x.nbytes + area.y.nbytes == 24 * net.n_nodes


def test_a_tiles_part_of_the_network_is_the_whole_network_there(city):
    """Node for node, and edge for edge around the tile's nodes, to the last bit."""
    area = _area(city)
    net = fm.network_from_file(city)
    grid = tiles_mod._Grid(area.x, area.y, 9)
    margin = 300.0  # any margin: the ways through the tile's nodes are read whole
    keys = set(BASE_FEATURE_KEYS) | set(fm.load_catalogue("beijing").osm_keys())
    k = 4  # the middle tile: cut on all four sides
    box = tile_area._lonlat_box(grid.box(k), margin, area.frame.crs)
    data = tile_area._read_part(area, keys, box)
    part = tile_area._part_network(data, area, True)
    assert part is not None and part.crs == net.crs
    assert 0 < part.n_nodes < net.n_nodes
    core = net.node_id[grid.tile_of(net.x, net.y) == k]
    assert len(core) > 100
    # the tile's nodes, in the whole network's order and place
    at = np.searchsorted(part.node_id, core, sorter=np.argsort(part.node_id))
    mine = np.argsort(part.node_id)[at]
    assert np.array_equal(part.node_id[mine], core)
    assert np.all(np.diff(mine) > 0)  # same relative order
    whole = np.flatnonzero(np.isin(net.node_id, core))
    assert np.array_equal(part.x[mine], net.x[whole]) and np.array_equal(part.y[mine], net.y[whole])

    def edges(n: fm.WalkNetwork) -> set[tuple[int, int, float, int]]:
        u, v = n.node_id[n.edge_u], n.node_id[n.edge_v]
        near = np.isin(u, core) | np.isin(v, core)
        return set(
            zip(
                u[near].tolist(),
                v[near].tolist(),
                n.edge_length[near].tolist(),
                n.edge_way[near].tolist(),
                strict=True,
            )
        )

    assert edges(part) == edges(net)


def _files_equal(osm: Path, tiles: int, client, tmp_path: Path) -> fm.TiledReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fm.run_report(osm).write(tmp_path / "single", html=False)
        rep = fm.run_tiled(osm, tiles=tiles, scheduler=client)
    rep.write(tmp_path / "tiled")
    names = sorted(p.name for p in (tmp_path / "single").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "tiled").iterdir())
    for name in names:
        a = (tmp_path / "single" / name).read_bytes()
        assert a == (tmp_path / "tiled" / name).read_bytes(), name
    return rep


def test_a_community_reaching_beyond_its_tile_is_read_again(city, client, tmp_path, monkeypatch):
    reads = []
    read = tile_area._read_part

    def counted(area, keys, box):
        reads.append(box)
        return read(area, keys, box)

    monkeypatch.setattr(tile_area, "_read_part", counted)
    monkeypatch.setattr(tile_area, "_COMMUNITY_SLACK_M", 0.0)
    rep = _files_equal(city, 9, client, tmp_path)
    assert rep.network.n_nodes == 0  # the tiles read alone
    assert len(reads) > 9  # some tiles read a second, wider box


def test_grid_communities(city, client, tmp_path):
    """No residential area: every tile makes the whole area's grid cells."""

    def no_landuse(tags: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in tags.items() if k != "landuse"}

    osm = _retagged(city, tmp_path / "grid.osm.pbf", no_landuse)
    assert _area(osm).communities == "grid"
    rep = _files_equal(osm, 9, client, tmp_path)
    assert rep.network.n_nodes == 0
    assert set(rep.communities["source"]) == {"grid"}


def test_admin_boundaries_topped_up_are_routed_the_former_way(city, client, tmp_path):
    """Compounds as admin_level=10 cover part of the city: the client builds the area."""

    def admin(tags: dict[str, str]) -> dict[str, str]:
        if tags.get("landuse") == "residential":
            return {**tags, "boundary": "administrative", "admin_level": "10"}
        return tags

    osm = _retagged(city, tmp_path / "admin.osm.pbf", admin)
    keys = set(fm.load_catalogue("beijing").osm_keys())
    area = tile_area.scan_area(osm, keys, True)
    net = fm.network_from_file(osm)
    if area is None:  # topped up (at least half of the nodes covered, not all)
        rep = _files_equal(osm, 4, client, tmp_path)
        assert rep.network.n_nodes == net.n_nodes
    else:  # less than half covered: residential areas
        assert area.communities == "landuse_residential"
        rep = _files_equal(osm, 4, client, tmp_path)
        assert rep.network.n_nodes == 0


def test_a_run_with_files_of_its_own_is_routed_the_former_way(city, client, tmp_path):
    net = fm.network_from_file(city)
    table = tmp_path / "planned.csv"
    rows = ["lon,lat,item"] + [
        f"{x},{y},pharmacy" for x, y in zip(net.lon[::400], net.lat[::400], strict=True)
    ]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = fm.run_tiled(city, tiles=4, scheduler=client, user_facilities=str(table))
    assert rep.network.n_nodes == net.n_nodes
