"""The synthetic city of bench/city.py: a valid OSM file the whole pipeline reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

import fifteenmin as fm
from conftest import load_bench_city

N = 13  # 12 x 12 blocks: 2 x 2 neighbourhoods, four compounds


city = load_bench_city()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("city") / "city.osm.pbf"
    return path, city.write_city(N, path, seed=0)


@pytest.fixture(scope="module")
def cat() -> fm.Catalogue:
    return fm.load_catalogue("beijing")


@pytest.fixture(scope="module")
def data(made: tuple[Path, dict], cat: fm.Catalogue) -> fm.OSMData:
    return fm.read_osm(made[0], keys=cat.osm_keys())


@pytest.fixture(scope="module")
def net(data: fm.OSMData) -> fm.WalkNetwork:
    return fm.network_from_file(data)


def test_tag_tables_match_the_catalogue(cat: fm.Catalogue) -> None:
    assert city.check_specs(cat) == []


def test_counts_as_returned(made: tuple[Path, dict], data: fm.OSMData) -> None:
    import osmium

    path, counts = made
    assert data.counts == {"nodes": counts["tagged_nodes"], "ways": counts["ways"], "relations": 0}
    seen: dict[str, list[int]] = {"n": [], "w": []}
    for obj in osmium.FileProcessor(str(path)):
        seen[obj.type_str()].append(obj.id)
    assert len(seen["n"]) == counts["nodes"]
    assert len(seen["w"]) == counts["ways"]
    for ids in seen.values():  # positive, sorted, unique
        assert ids[0] > 0 and np.all(np.diff(ids) > 0)
    assert counts["compounds"] == ((N - 1) // 6) ** 2 == 4
    assert counts["buildings"] == 4 * counts["compounds"]
    assert counts["street_ways"] + counts["footways"] < counts["ways"]
    assert data.bbox is not None
    lon0, lat0, lon1, lat1 = data.bbox
    assert lon0 < city.LON0 < lon1 and lat0 < city.LAT0 < lat1


def test_network_connected_and_sized(
    net: fm.WalkNetwork, data: fm.OSMData, made: tuple[Path, dict]
) -> None:
    adj = sparse.csr_matrix((net.lengths, net.indices, net.indptr), shape=(net.n_nodes,) * 2)
    assert csgraph.connected_components(adj, directed=False)[0] == 1
    # the largest component is (nearly) all of the streets
    assert net.n_nodes >= 0.98 * fm.network_from_file(data, retain_all=True).n_nodes
    assert set(net.edge_highway) == {
        "primary", "secondary", "tertiary", "residential", "footway", "path"
    }  # fmt: skip
    # every crossing (a few dead ends lost at most) plus two joints per footway
    expected = N * N + 2 * made[1]["footways"]
    assert 0.8 * expected <= net.n_nodes <= 1.05 * expected
    blocks_km = (N - 1) * np.array([city.BLOCK_MIN_M, city.BLOCK_MAX_M]) / 1000
    streets_km = 2 * N * blocks_km
    assert 0.85 * streets_km[0] <= net.total_length_km <= 1.5 * streets_km[1]


def test_every_item_has_a_facility(data: fm.OSMData, cat: fm.Catalogue, made: tuple) -> None:
    fac = fm.facilities_from_osm(data, cat)
    missing = set(cat.item_ids) - set(fac["item_id"])
    assert missing <= set(city.MAY_BE_ABSENT)
    assert missing <= {"school_level_unknown"}  # this city is large enough for the others
    items = made[1]["items"]
    assert set(items) == set(cat.item_ids) - {"school_level_unknown"} and min(items.values()) >= 1


def test_compounds_become_communities_with_residents(
    data: fm.OSMData, net: fm.WalkNetwork, made: tuple
) -> None:
    com = fm.communities_from_osm(data, net)
    assert len(com) == made[1]["compounds"]
    assert set(com["source"]) == {"landuse_residential"}
    assert all(name.endswith(("小区", "家园")) for name in com["community_name"])
    homes = fm.residents(com, net, data)
    assert set(homes["kind"]) == {"building"}
    assert len(homes) == made[1]["buildings"]
    assert homes.groupby("community_id").size().eq(4).all()


def test_same_seed_same_bytes(tmp_path: Path, made: tuple[Path, dict]) -> None:
    again = tmp_path / "again.osm.pbf"
    other = tmp_path / "other.osm.pbf"
    city.write_city(N, again, seed=0)
    city.write_city(N, other, seed=1)
    assert again.read_bytes() == made[0].read_bytes()
    assert other.read_bytes() != made[0].read_bytes()


def test_too_small() -> None:
    with pytest.raises(ValueError, match="at least"):
        city.write_city(5, "unused.osm.pbf")
