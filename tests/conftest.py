"""Shared fixtures: the bundled sample and the ../shared data (skipped where absent)."""

from __future__ import annotations

import os
from pathlib import Path

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
