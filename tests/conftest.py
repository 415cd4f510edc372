"""Shared fixtures: the bundled sample and the ../shared data (skipped where absent)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

# CI runs must be reproducible: the same examples on every run (locally hypothesis explores)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
SAMPLE = ROOT / "data" / "sample" / "helsinki_centre_2019_extract.osm.pbf"
BEIJING = SHARED / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm"
HELSINKI = SHARED / "benchmark" / "helsinki_centre_2019.osm.pbf"


def load_bench_city() -> ModuleType:
    """bench/city.py (the synthetic city generator) as a module, loaded once."""
    name = "bench_city"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "city.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    return sys.modules[name]


needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason="../shared/data/osm is not here (a user's clone has no ../shared); "
    "these tests need the real extracts kept outside the repository",
)


@pytest.fixture(scope="session")
def sample_data():
    from fifteenmin import load_catalogue, read_osm

    return read_osm(SAMPLE, keys=load_catalogue("beijing").osm_keys())


@pytest.fixture(scope="session")
def sample_net(sample_data):
    from fifteenmin import network_from_file

    return network_from_file(sample_data)


@pytest.fixture(scope="session")
def beijing_data():
    if not SHARED.is_dir():
        pytest.skip("../shared/data/osm is not here")
    from fifteenmin import load_catalogue, read_osm

    return read_osm(BEIJING, keys=load_catalogue("beijing").osm_keys())


@pytest.fixture(scope="session")
def beijing_net(beijing_data):
    from fifteenmin import network_from_file

    return network_from_file(beijing_data)


@pytest.fixture(scope="module")
def client():
    """An in-process Dask cluster of two single-threaded workers (tiles and batch tests)."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 x 50 synthetic city (bench/city.py): 5,600 OSM nodes, 64 compounds, ~6 km wide."""
    path = tmp_path_factory.mktemp("city") / "city_50.osm.pbf"
    load_bench_city().write_city(50, path, seed=0)
    return path
