"""OSM data defects (issue 13, item 8): platforms, pedestrian areas, partial boundaries, schools."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from conftest import SAMPLE
from fifteenmin import (
    facilities_from_osm,
    load_catalogue,
    network_from_file,
    read_osm,
    travel_times,
)
from fifteenmin.routing import origin_times

DATA = Path(__file__).parent / "data"
GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


# -------------------------------------------------------------------------- platforms


def test_origin_on_a_footway_platform_reaches_its_bus_stop():
    """The issue's case: an origin on a platform mapped as a footway (0.1 min, not 6 min)."""
    data = read_osm(DATA / "platform_footway.osm", keys=load_catalogue("beijing").osm_keys())
    net = network_from_file(data)
    # the platform is still a street ...
    assert 101 in set(net.edge_way.tolist())
    fac = facilities_from_osm(data, "beijing")
    stops = fac[fac["item_id"] == "bus_stop"]
    # ... and a facility too
    assert sorted(zip(stops["osm_type"], stops["osm_id"], strict=True)) == [
        ("node", 20),
        ("way", 101),
    ]
    tt = travel_times(net, fac, "beijing")
    origin = gpd.GeoSeries([shapely.Point(10.0049, 45.0001)], crs="EPSG:4326")
    minutes, which = origin_times(net, tt, origin)
    k = load_catalogue("beijing").item_ids.index("bus_stop")
    # hand-computed: the nearest access point of a line facility is its nearest vertex,
    # node 13 at lon 10.005, 0.0001° east along the platform
    expected = _metres(10.0049, 45.0001, 10.005, 45.0001) / (1000.0 / 900.0) / 60.0
    assert minutes[0, k] == pytest.approx(expected, rel=1e-3)
    assert fac.iloc[int(which[0, k])]["osm_id"] == 101
    # the far stop alone would be over 5 minutes away
    far = fac[fac["osm_id"] == 20].reset_index(drop=True)
    m_far, _ = origin_times(net, travel_times(net, far, "beijing"), origin)
    assert m_far[0, k] > 5.0


def test_real_platform_footways_are_features(sample_data):
    """The sample holds three platforms mapped as sidewalks: streets and features both."""
    ids = {28842852, 28842854, 42919368}
    f = sample_data.features
    kept = f[(f["osm_type"] == "way") & f["osm_id"].isin(ids)]
    assert set(kept["osm_id"]) == ids
    assert all(t["public_transport"] == "platform" for t in kept["tags"])
    assert ids <= set(sample_data.ways.way_id.tolist())


# -------------------------------------------------------------------------- school levels

# hand-labelled schools: tags -> the school items they should match
SCHOOLS = [
    ({"isced:level": "1"}, {"primary_school"}),
    ({"isced:level": "1;2"}, {"primary_school", "junior_middle_school"}),
    ({"isced:level": "3"}, set()),
    ({"school": "primary"}, {"primary_school"}),
    ({"school": "elementary"}, {"primary_school"}),
    ({"school": "secondary"}, {"junior_middle_school"}),
    ({"name": "Grundschule am Park"}, {"primary_school"}),
    ({"name": "Volksschule Vaduz"}, {"primary_school"}),
    ({"name": "École primaire Jean Jaurès"}, {"primary_school"}),
    ({"name": "Ecole élémentaire des Moulins"}, {"primary_school"}),
    ({"name": "Scuola Primaria G. Rodari"}, {"primary_school"}),
    ({"name": "Escola Básica de Sant Julià"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Kallion ala-aste"}, {"primary_school"}),
    ({"name": "Ressu Comprehensive School", "name:fi": "Ressun peruskoulu"}, {"__unknown__"}),
    ({"name": "Ressun peruskoulu"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Grundskolan Norsen"}, {"primary_school", "junior_middle_school"}),
    ({"name": "Collège Charles III"}, {"junior_middle_school"}),
    ({"name": "Scuola media Dante"}, {"junior_middle_school"}),
    ({"name": "Realschule Schaan"}, {"junior_middle_school"}),
    ({"name": "Lycée Albert Ier"}, set()),
    ({"name": "Ressun lukio"}, set()),
    ({"name": "Gymnasium Vaduz"}, set()),
    ({"name": "海淀实验小学"}, {"primary_school"}),
    ({"name": "北京市第二十中学"}, {"junior_middle_school"}),
    ({"name": "北京市十一学校高中"}, set()),
    ({"name": "Weiterführende Schule Triesen"}, {"junior_middle_school"}),
    ({"name": "École maternelle Manon des Sources"}, set()),
    ({"name": "Universität Liechtenstein"}, set()),
    ({"name": "École de Fontvieille"}, {"__unknown__"}),
    ({"name": "St. Mary's"}, {"__unknown__"}),
    ({"name": "Zaidan"}, {"__unknown__"}),
    ({}, {"__unknown__"}),
]


@pytest.mark.parametrize(("tags", "expected"), SCHOOLS)
def test_school_levels(tags, expected):
    """Level from isced:level, school=* or a local name; else the explicit unknown item."""
    cat = load_catalogue("beijing")
    got = set(cat.match({"amenity": "school", **tags}, None))
    school_items = {"primary_school", "junior_middle_school", "school_level_unknown"}
    got &= school_items
    want = {"school_level_unknown" if e == "__unknown__" else e for e in expected}
    assert got == want
    # the unknown item is never counted with a level
    assert not ({"school_level_unknown"} < got)


def test_unknown_level_is_optional_and_shown():
    cat = load_catalogue("beijing")
    by_id = {it.id: it for it in cat}
    assert not by_id["school_level_unknown"].required
    assert by_id["primary_school"].required
    assert "school_level_unknown" not in {it.id for it in cat.required_items}
