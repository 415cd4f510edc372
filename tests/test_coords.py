"""Chinese web-map coordinates (GCJ-02, BD-09): published reference points, round trips."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fifteenmin._coords import (
    COORD_SYSTEMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_system,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# googollee/eviltransform, python/test.py and go/transform_test.go (`TESTS` / `tests`):
# (wgsLat, wgsLng, gcjLat, gcjLng) for Shanghai, Shenzhen and Beijing. That project checks
# wgs2gcj to 6 decimals (Go: 5) and its exact gcj2wgs to 0.5 m; the digits reproduce exactly.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]

# wandergis/coordtransform, README.md ("result" block), input (lng, lat) = (116.404, 39.915).
# Its forward functions are the same formulas as ours; its inverses are the closed-form
# one-step approximations, off by a few 1e-7 degrees.
CT_IN = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_BD09_TO_GCJ02_APPROX = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_eviltransform_vectors(wlat, wlng, glat, glng):
    lon, lat = wgs84_to_gcj02(wlng, wlat)
    assert abs(lon - glng) < 1e-9 and abs(lat - glat) < 1e-9
    lon, lat = gcj02_to_wgs84(glng, glat)  # exact inverse
    assert abs(lon - wlng) < 1e-9 and abs(lat - wlat) < 1e-9


def test_coordtransform_readme_vectors():
    lon, lat = wgs84_to_gcj02(*CT_IN)
    assert lon == pytest.approx(CT_WGS84_TO_GCJ02[0], abs=1e-9)
    assert lat == pytest.approx(CT_WGS84_TO_GCJ02[1], abs=1e-9)
    lon, lat = gcj02_to_bd09(*CT_IN)
    assert lon == pytest.approx(CT_GCJ02_TO_BD09[0], abs=1e-9)
    assert lat == pytest.approx(CT_GCJ02_TO_BD09[1], abs=1e-9)
    # inverses: within 1e-6 deg of the one-step approximations, but exact where they are not
    for inverse, forward, approx in (
        (gcj02_to_wgs84, wgs84_to_gcj02, CT_GCJ02_TO_WGS84_APPROX),
        (bd09_to_gcj02, gcj02_to_bd09, CT_BD09_TO_GCJ02_APPROX),
    ):
        lon, lat = inverse(*CT_IN)
        assert abs(lon - approx[0]) < 1e-6 and abs(lat - approx[1]) < 1e-6
        back = forward(lon, lat)
        assert max(abs(back[0] - CT_IN[0]), abs(back[1] - CT_IN[1])) < 1e-9
        back_approx = forward(*approx)
        assert max(abs(back_approx[0] - CT_IN[0]), abs(back_approx[1] - CT_IN[1])) > 1e-7


def test_beijing_offset_tiananmen():
    lon, lat = wgs84_to_gcj02(116.3913, 39.9075)
    assert lon == pytest.approx(116.3975, abs=1e-4)
    assert lat == pytest.approx(39.9089, abs=1e-4)
    assert lon > 116.3913 and lat > 39.9075  # east and north in Beijing
    d = float(_metres(116.3913, 39.9075, lon, lat))
    assert 100 < d < 700
    bd = wgs84_to_bd09(116.3913, 39.9075)
    assert float(_metres(lon, lat, *bd)) > 100  # Baidu moves it again


def test_round_trips_vectorised():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.7, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.5, 20_000)
    g = wgs84_to_gcj02(lon, lat)
    w = gcj02_to_wgs84(*g)
    assert np.abs(w[0] - lon).max() < 1e-6 and np.abs(w[1] - lat).max() < 1e-6
    assert np.abs(w[0] - lon).max() < 1e-9  # in fact to the iteration tolerance
    b = gcj02_to_bd09(lon, lat)
    back = gcj02_to_bd09(*bd09_to_gcj02(*b))
    assert np.abs(back[0] - b[0]).max() < 1e-9 and np.abs(back[1] - b[1]).max() < 1e-9
    w2 = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.abs(w2[0] - lon).max() < 1e-9 and np.abs(w2[1] - lat).max() < 1e-9
    # the offset itself: tens to hundreds of metres everywhere in China
    d = _metres(lon, lat, g[0], g[1])
    assert d.min() > 1 and d.max() < 1500


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(72.1, 137.8, allow_nan=False), lat=st.floats(0.9, 55.8, allow_nan=False))
def test_round_trip_property(lon, lat):
    w = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(w[0] - lon) < 1e-7 and abs(w[1] - lat) < 1e-7
    g = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert abs(g[0] - lon) < 1e-7 and abs(g[1] - lat) < 1e-7


def test_outside_china_unchanged():
    for fn in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        bd09_to_wgs84,
        wgs84_to_bd09,
    ):
        assert fn(24.94, 60.17) == (24.94, 60.17)  # Helsinki
        assert fn(-74.0, 40.7) == (-74.0, 40.7)  # New York
    lon, lat = to_wgs84(np.array([24.94, 116.3975]), np.array([60.17, 39.9089]), "gcj02")
    assert (lon[0], lat[0]) == (24.94, 60.17)
    assert lon[1] == pytest.approx(116.3913, abs=1e-4)
    assert out_of_china(24.94, 60.17) and not out_of_china(116.4, 39.9)
    lon, lat = gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([39.9, 39.9]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1])


def test_to_wgs84_systems_and_shapes():
    lon = np.array([[116.40, 116.41], [121.47, 113.26]])
    lat = np.array([[39.90, 39.91], [31.23, 23.13]])
    out = to_wgs84(lon, lat, "GCJ-02")
    assert out[0].shape == (2, 2)
    np.testing.assert_array_equal(out[0], gcj02_to_wgs84(lon, lat)[0])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "bd09")[1], bd09_to_wgs84(lon, lat)[1])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "wgs84")[0], lon)
    assert isinstance(to_wgs84(116.4, 39.9, "bd09")[0], float)
    with pytest.raises(ValueError, match="unknown coordinate system 'utm'"):
        to_wgs84(116.4, 39.9, "utm")


# Glatzel/pyxis, python tests (the same vectors as its geotool CLI tests): one point near
# Shanghai in all three systems. That project computes GCJ-02 with slightly different
# arithmetic and checks to 1e-6 degrees; ours agrees to 1e-7 (about 1 cm).
PYXIS_WGS84 = (121.0917077, 30.6107779)
PYXIS_GCJ02 = (121.09626935575027, 30.608604331756705)
PYXIS_BD09 = (121.10271732371203, 30.61484572185035)


def test_pyxis_reference_point():
    for forward, src, dst in (
        (wgs84_to_gcj02, PYXIS_WGS84, PYXIS_GCJ02),
        (gcj02_to_bd09, PYXIS_GCJ02, PYXIS_BD09),
        (wgs84_to_bd09, PYXIS_WGS84, PYXIS_BD09),
        (gcj02_to_wgs84, PYXIS_GCJ02, PYXIS_WGS84),
        (bd09_to_gcj02, PYXIS_BD09, PYXIS_GCJ02),
        (bd09_to_wgs84, PYXIS_BD09, PYXIS_WGS84),
    ):
        lon, lat = forward(*src)
        assert abs(lon - dst[0]) < 1e-7 and abs(lat - dst[1]) < 1e-7, forward.__name__


@pytest.mark.parametrize(
    "wgs",
    [(w[1], w[0]) for w in EVILTRANSFORM] + [CT_IN, PYXIS_WGS84],
    ids=["shanghai", "shenzhen", "beijing", "coordtransform", "pyxis"],
)
def test_round_trips_from_published_points(wgs):
    """WGS-84 -> GCJ-02 -> BD-09 and back returns the published point to 1e-9 degrees."""
    gcj = wgs84_to_gcj02(*wgs)
    bd = gcj02_to_bd09(*gcj)
    assert bd == wgs84_to_bd09(*wgs)
    back_gcj = bd09_to_gcj02(*bd)
    assert abs(back_gcj[0] - gcj[0]) < 1e-9 and abs(back_gcj[1] - gcj[1]) < 1e-9
    back = gcj02_to_wgs84(*back_gcj)
    assert abs(back[0] - wgs[0]) < 1e-9 and abs(back[1] - wgs[1]) < 1e-9
    back = bd09_to_wgs84(*bd)
    assert abs(back[0] - wgs[0]) < 1e-9 and abs(back[1] - wgs[1]) < 1e-9
    # the shifts: GCJ-02 moves points tens to hundreds of metres, BD-09 moves them again
    assert 1 < float(_metres(*wgs, *gcj)) < 1500
    assert 1 < float(_metres(*gcj, *bd)) < 1500


def test_out_of_china_box_edges_and_passthrough():
    # the box of the original code: 72.004-137.8347 E, 0.8293-55.8271 N, edges inside
    assert not out_of_china(72.004, 0.8293) and not out_of_china(137.8347, 55.8271)
    assert out_of_china(72.0039, 30.0) and out_of_china(137.8348, 30.0)
    assert out_of_china(100.0, 0.8292) and out_of_china(100.0, 55.8272)
    mask = out_of_china(np.array([116.4, 24.94, np.nan]), np.array([39.9, 60.17, 39.9]))
    assert mask.tolist() == [False, True, True]  # NaN counts as outside
    # outside the box every conversion returns its input, also in arrays
    lon = np.array([24.94, -74.0, 151.21, 2.35])
    lat = np.array([60.17, 40.7, -33.87, 48.86])
    for fn in (gcj02_to_wgs84, bd09_to_wgs84, wgs84_to_gcj02, wgs84_to_bd09):
        out = fn(lon, lat)
        np.testing.assert_array_equal(out[0], lon)
        np.testing.assert_array_equal(out[1], lat)
        assert out[0] is not lon  # a copy, never the caller's array


def test_normalize_system_aliases():
    for name in ("WGS84", "wgs-84", "EPSG4326", "epsg_4326"):
        assert normalize_system(name) == "wgs84"
    for name in ("GCJ02", "gcj-02", "Mars"):
        assert normalize_system(name) == "gcj02"
    for name in ("BD09", "bd-09", "bd09ll", "BD 09"):
        assert normalize_system(name) == "bd09"
    assert set(COORD_SYSTEMS) == {"wgs84", "gcj02", "bd09"}
    with pytest.raises(ValueError, match=r"unknown coordinate system 'gcj'.*wgs84"):
        normalize_system("gcj")
