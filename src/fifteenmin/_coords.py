"""Chinese web-map coordinates: WGS-84, GCJ-02 ("Mars" coordinates) and BD-09.

Points of interest copied from Chinese web maps are not in WGS-84 (the datum of OSM and GPS):

* **GCJ-02** (国测局坐标, "Mars coordinates"): Amap/Gaode (高德), Tencent (腾讯), Apple Maps and
  Google Maps inside China. An obfuscation of WGS-84 that moves points by roughly 100-700 m
  (in Beijing about 500-600 m east and 100-150 m north).
* **BD-09** (百度坐标): Baidu Maps. A second, smaller shift applied on top of GCJ-02.

The forward formulas are the ones every open-source implementation uses (the algorithm
published in ``googollee/eviltransform`` and ``wandergis/coordtransform``, with the
Krasovsky semi-major axis ``a = 6378245 m``). No closed-form inverse exists: GCJ-02 -> WGS-84
and BD-09 -> GCJ-02 are solved here by fixed-point iteration of the forward formula until the
step is below 1e-10 degrees (about 0.01 mm), not by the common one-step approximation, which is
off by up to a few metres.

Points outside China are returned unchanged: the obfuscation is only applied inside the box
72.004-137.8347 E, 0.8293-55.8271 N (the ``outOfChina`` test of the original code and of
``eviltransform``; some ports use a tighter box, 73.66-135.05 E, 3.86-53.55 N). The box is
decided on the coordinates given, in every direction. Note that the box is a rectangle:
it also covers Korea, Japan's west, Mongolia and parts of South-East Asia, which Chinese web
maps show in WGS-84; convert only data that really comes from a Chinese web map.

Every function takes scalars or array-likes (numpy broadcasting) and returns
``(lon, lat)`` as floats for scalar input, numpy arrays otherwise. Longitude comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_system",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Coordinate systems :func:`to_wgs84` understands.
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the original GCJ-02 code
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
#: Stop iterating once the largest step is below this (degrees).
_TOL_DEG = 1e-10
_MAX_ITER = 50

Coord = float | np.ndarray
#: A map between two coordinate systems on arrays of longitudes and latitudes.
Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return np.array(lon_a, dtype=np.float64), np.array(lat_a, dtype=np.float64), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Coord, Coord]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray | bool:
    """Whether points lie outside the box where the Chinese offsets apply.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> out_of_china(116.39, 39.91), out_of_china(24.94, 60.17)
    (False, True)
    """
    lon_a, lat_a, scalar = _arrays(lon, lat)
    # written so that NaN counts as outside (left unchanged)
    inside = (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)
    return bool(~inside) if scalar else ~inside


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at WGS-84 points, in degrees (no out-of-China test)."""
    x = lon - 105.0
    y = lat - 35.0
    xpi = x * np.pi
    ypi = y * np.pi
    common = (20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common
    dlon += (20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The usual closed-form BD-09 -> GCJ-02 (an approximate inverse, error ~1e-6 deg)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Transform, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``(x, y)``.

    The forward maps are the identity plus a small, slowly varying shift ``d``, so
    ``p <- p + (target - forward(p))`` contracts quickly (each step gains about two to
    three digits).
    """
    todo = np.isfinite(x) & np.isfinite(y)
    for _ in range(_MAX_ITER):
        if not todo.any():
            break
        fx, fy = forward(x[todo], y[todo])
        sx = lon[todo] - fx
        sy = lat[todo] - fy
        x[todo] += sx
        y[todo] += sy
        done = (np.abs(sx) < _TOL_DEG) & (np.abs(sy) < _TOL_DEG)
        idx = np.flatnonzero(todo)
        todo[idx[done]] = False
    return x, y


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact GCJ-02 -> WGS-84: fixed-point iteration from the one-step estimate."""
    dlon, dlat = _gcj_delta(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, lon - dlon, lat - dlat)


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact BD-09 -> GCJ-02: fixed-point iteration from the closed-form approximation."""
    x0, y0 = _bd_to_gcj_approx(lon, lat)
    return _invert(_gcj_to_bd, lon, lat, x0, y0)


def _in_china(
    lon: ArrayLike,
    lat: ArrayLike,
    convert: Transform,
) -> tuple[Coord, Coord]:
    """Apply ``convert`` to the points inside China; leave the others unchanged."""
    lon_a, lat_a, scalar = _arrays(lon, lat)
    ok = ~np.asarray(out_of_china(lon_a, lat_a))
    out_lon, out_lat = lon_a.copy(), lat_a.copy()
    if ok.any():
        out_lon[ok], out_lat[ok] = convert(lon_a[ok], lat_a[ok])
    return _out(out_lon, out_lat, scalar)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 -> GCJ-02 (Amap/Gaode, Tencent).

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees (scalars or arrays).

    Returns
    -------
    lon, lat
        GCJ-02 coordinates; points outside China unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.3913, 39.9075)  # Tiananmen
    >>> round(lon, 4), round(lat, 4)
    (116.3975, 39.9089)
    """
    return _in_china(lon, lat, _wgs_to_gcj)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 -> WGS-84, the exact inverse of :func:`wgs84_to_gcj02` (iterated to < 1e-10 deg).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees (scalars or arrays).

    Returns
    -------
    lon, lat
        WGS-84 coordinates; points outside China unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(116.3913, 39.9075))
    >>> abs(lon - 116.3913) < 1e-9 and abs(lat - 39.9075) < 1e-9
    True
    """
    return _in_china(lon, lat, _gcj_to_wgs)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 -> BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    lon, lat
        BD-09 coordinates; points outside China unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)
    """
    return _in_china(lon, lat, _gcj_to_bd)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 -> GCJ-02, the exact inverse of :func:`gcj02_to_bd09` (iterated to < 1e-10 deg).

    Starts from the usual closed-form approximation (which is off by up to about 1e-6
    degrees) and iterates.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    lon, lat
        GCJ-02 coordinates; points outside China unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(116.404, 39.915))
    >>> abs(lon - 116.404) < 1e-9 and abs(lat - 39.915) < 1e-9
    True
    """
    return _in_china(lon, lat, _bd_to_gcj)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 -> BD-09 (through GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.3913, 39.9075)
    >>> 116.40 < lon < 116.41 and 39.91 < lat < 39.92
    True
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 -> WGS-84 (through GCJ-02, both steps exact inverses).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(116.3913, 39.9075))
    >>> abs(lon - 116.3913) < 1e-9 and abs(lat - 39.9075) < 1e-9
    True
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, system: Literal["wgs84", "gcj02", "bd09"] | str
) -> tuple[Coord, Coord]:
    """Convert coordinates from ``system`` to WGS-84.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.
    system
        ``"wgs84"`` (returned as they are), ``"gcj02"`` (Amap/Gaode, Tencent) or ``"bd09"``
        (Baidu); case and the ``-``/``_`` in ``"gcj-02"``/``"bd-09"`` are ignored.

    Returns
    -------
    lon, lat
        WGS-84 coordinates.

    Raises
    ------
    ValueError
        Unknown ``system``.

    Examples
    --------
    >>> lon, lat = to_wgs84([116.3975, 24.94], [39.9089, 60.17], "gcj02")
    >>> lon.round(4).tolist(), lat.round(4).tolist()  # Tiananmen; Helsinki is unchanged
    ([116.3913, 24.94], [39.9075, 60.17])
    """
    key = normalize_system(system)
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    lon_a, lat_a, scalar = _arrays(lon, lat)
    return _out(lon_a, lat_a, scalar)


def normalize_system(system: str) -> str:
    """Canonical name of a coordinate system (``"wgs84"``, ``"gcj02"`` or ``"bd09"``).

    Raises
    ------
    ValueError
        Unknown name; the message lists the known ones.

    Examples
    --------
    >>> normalize_system("GCJ-02"), normalize_system("BD09")
    ('gcj02', 'bd09')
    """
    key = str(system).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "bd09": "bd09",
               "bd09ll": "bd09", "mars": "gcj02"}  # fmt: skip
    if key not in aliases:
        raise ValueError(
            f"unknown coordinate system {system!r}: use one of {list(COORD_SYSTEMS)} "
            "(wgs84: GPS/OSM; gcj02: Amap/Gaode, Tencent; bd09: Baidu)"
        )
    return aliases[key]
