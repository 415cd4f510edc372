"""An area's OpenStreetMap data, downloaded from the Overpass API as an ``.osm`` file.

The online path is the file path: :func:`download_osm` asks Overpass for the area's raw OSM
elements in OSM XML (what ``fifteenmin report`` reads from a file), stores them in osmnx's
cache folder, and :func:`read_online` reads that file with :func:`fifteenmin._osm.read_osm`.
Every later stage cannot tell the difference, and a second run of the same area works
offline from the cache.

What is downloaded, for an area (a place's polygon, a polygon or a bounding box):

* every ``highway=*`` way and node (the walking network is chosen from them as from a file);
* every node and way carrying a key of interest (the catalogue's keys and
  :data:`fifteenmin._osm.BASE_FEATURE_KEYS`: services, buildings, land use, entrances, ...);
* multipolygon relations carrying such a key, and administrative boundaries from the
  municipal level down (``admin_level`` 8-12), complete with their member ways;
* every node of those ways (Overpass ``(._;>;)``), so ways are never clipped.

Elements count when they touch the area, as in an Overpass or openstreetmap.org export: a
way crossing the boundary comes whole. A place's communities near its boundary may have
facilities just outside it that are not downloaded; for a study area with a margin, give a
larger ``bbox`` and the study area's communities (``communities=``).

Everything goes through osmnx's settings: ``overpass_url``, ``nominatim_url`` (places are
geocoded with ``osmnx.geocode_to_gdf``), ``cache_folder`` and ``use_cache``,
``requests_timeout`` (for every request, and as the Overpass ``[timeout:]``),
``requests_kwargs``, the HTTP headers, ``overpass_rate_limit`` (a free slot is awaited on
Overpass's ``/status``), ``overpass_settings`` (e.g. a ``[date:...]`` for historical data) and
``overpass_memory``. Failures (no network, a server error, a busy server, an unknown place)
raise :class:`~fifteenmin.NetworkError` with one line saying what happened and what to do,
as soon as the first request fails: nothing is retried, and nothing is cached but a complete
answer (a cache folder that cannot be written is an :class:`~fifteenmin.OutputError`).

Data: © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from ._errors import ConfigError, NetworkError, OutputError
from ._osm import BASE_FEATURE_KEYS, OSMData, read_osm
from ._progress import logger

if TYPE_CHECKING:
    import requests

__all__ = [
    "SOURCE_PREFIXES",
    "OnlineArea",
    "download_osm",
    "read_online",
    "request_failure",
    "source_name",
]

#: An online source's label (``OSMData.source``, ``summary.json`` ``parameters.osm_file``)
#: starts with one of these.
SOURCE_PREFIXES = ("place: ", "bbox: ", "polygon: ")

# administrative boundaries downloaded whole: the municipal level and below (a country's
# border, also "touching" the area, would dwarf it)
_ADMIN_LEVELS = "^([89]|1[0-2])$"
# how long to wait before asking again when Overpass runs our earlier query (osmnx's pause)
_BUSY_RECHECK_S = 5.0


@dataclass(frozen=True)
class OnlineArea:
    """An area whose OpenStreetMap data is downloaded: a place name, a bbox or a polygon.

    Give exactly one of the three.

    Parameters
    ----------
    place
        A place name Nominatim finds as an area (``"学院路街道, 海淀区, 北京市"``,
        ``"Kamppi, Helsinki"``); it is geocoded to its polygon.
    bbox
        ``(west, south, east, north)`` in WGS-84 degrees.
    polygon
        A shapely (Multi)Polygon in WGS-84 degrees.

    Raises
    ------
    ConfigError
        None or several of the three, an empty name, a bbox out of range or inverted, a
        polygon that is not one.

    Examples
    --------
    >>> OnlineArea(bbox=(24.938, 60.165, 24.948, 60.172)).label
    'bbox: 24.938,60.165,24.948,60.172'
    >>> OnlineArea(place="Kamppi, Helsinki").label
    'place: Kamppi, Helsinki'
    """

    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    polygon: Any = None

    def __post_init__(self) -> None:
        given = [n for n in ("place", "bbox", "polygon") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ConfigError(
                "an online area is exactly one of place=, bbox= or polygon=; got "
                f"{', '.join(given) or 'none'}"
            )
        if self.place is not None:
            if not isinstance(self.place, str) or not self.place.strip():
                raise ConfigError(f"a place name must be non-empty text, got {self.place!r}")
            object.__setattr__(self, "place", self.place.strip())
        if self.bbox is not None:
            object.__setattr__(self, "bbox", _checked_bbox(self.bbox))
        if self.polygon is not None:
            _check_polygon(self.polygon)

    @property
    def label(self) -> str:
        """How the area is named in messages and in ``summary.json`` (``place: ...``)."""
        if self.place is not None:
            return f"place: {self.place}"
        if self.bbox is not None:
            return "bbox: " + ",".join(repr(v) for v in self.bbox)
        w, s, e, n = self.polygon.bounds
        return f"polygon: within {w:.6f},{s:.6f},{e:.6f},{n:.6f}"

    def cache_path(self, keys: Iterable[str] = ()) -> Path:
        """The file the area's download is cached in (osmnx's ``cache_folder``).

        The name is a hash of the area as given (a place by its name, so a cached place
        needs no geocoding), the tag keys downloaded and the Overpass settings that change
        the data (such as ``[date:...]``).

        Examples
        --------
        >>> OnlineArea(place="Kamppi, Helsinki").cache_path().suffix
        '.osm'
        """
        import osmnx as ox

        area = self.label if self.polygon is None else shapely.to_wkt(self.polygon, 7)
        key = json.dumps(
            {
                "area": area,
                "keys": sorted(_download_keys(keys)),
                "settings": re.sub(r"\[(out|timeout|maxsize):[^\]]*\]", "", _ql_settings()),
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
        return Path(ox.settings.cache_folder) / f"fifteenmin-{digest}.osm"


def _checked_bbox(bbox: Any) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ConfigError(
            f"a bbox is four numbers WEST,SOUTH,EAST,NORTH (WGS-84 degrees), got {bbox!r}"
        ) from None
    ok = all(math.isfinite(v) for v in (w, s, e, n))
    if not (ok and -180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise ConfigError(
            f"a bbox is WEST,SOUTH,EAST,NORTH in WGS-84 degrees with west < east and "
            f"south < north, got {w:g},{s:g},{e:g},{n:g}"
        )
    return w, s, e, n


def _check_polygon(polygon: Any) -> None:
    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon) or polygon.is_empty:
        raise ConfigError(f"polygon= must be a non-empty shapely (Multi)Polygon, got {polygon!r}")
    w, s, e, n = polygon.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise ConfigError(
            f"the polygon's bounds {w:g},{s:g},{e:g},{n:g} are not WGS-84 degrees (lon, lat)"
        )


def source_name(source: str) -> str:
    """The name of an OSM source in ``summary.json``: an online area's label, or a file's name.

    Examples
    --------
    >>> source_name("/data/osm/beijing.osm.pbf"), source_name("place: Kamppi, Helsinki")
    ('beijing.osm.pbf', 'place: Kamppi, Helsinki')
    """
    return source if source.startswith(SOURCE_PREFIXES) else Path(source).name


# --------------------------------------------------------------------------------------------
# the query


def _download_keys(keys: Iterable[str]) -> set[str]:
    return set(BASE_FEATURE_KEYS) | {"highway"} | set(keys)


def _ql_settings() -> str:
    """The Overpass settings of osmnx (timeout, memory, date...), with XML output."""
    import osmnx as ox

    s = ox.settings
    maxsize = "" if s.overpass_memory is None else f"[maxsize:{s.overpass_memory}]"
    text = s.overpass_settings.format(timeout=s.requests_timeout, maxsize=maxsize)
    return "[out:xml]" + re.sub(r"\[out:[^\]]*\]", "", text)


def _ere(key: str) -> str:
    """A tag key as a literal in an Overpass (POSIX extended) regular expression, quoted."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", key).replace("\\", "\\\\").replace('"', '\\"')


def _area_filters(area: OnlineArea, polygon: Any) -> list[str]:
    """Overpass spatial filters: one bbox, or one ``poly:`` per polygon part (its exterior)."""
    if area.bbox is not None:
        w, s, e, n = area.bbox
        return [f"({s:.7f},{w:.7f},{n:.7f},{e:.7f})"]
    parts = polygon.geoms if isinstance(polygon, shapely.MultiPolygon) else [polygon]
    rings = (" ".join(f"{y:.7f} {x:.7f}" for x, y in p.exterior.coords) for p in parts)
    return [f'(poly:"{ring}")' for ring in rings]


def overpass_query(filters: list[str], keys: Iterable[str] = ()) -> str:
    """The Overpass QL asking for an area's elements (see the module's description).

    Examples
    --------
    >>> q = overpass_query(["(60.16,24.93,60.17,24.95)"], keys=["amenity"])  # doctest: +SKIP
    """
    rx = "^(" + "|".join(_ere(k) for k in sorted(_download_keys(keys))) + ")$"
    tag = f'[~"{rx}"~"."]'
    admin = f'["type"="boundary"]["boundary"="administrative"]["admin_level"~"{_ADMIN_LEVELS}"]'
    parts = []
    for f in filters:
        parts += [f"node{tag}{f};", f"way{tag}{f};", f'rel["type"="multipolygon"]{tag}{f};']
        parts.append(f"rel{admin}{f};")
    return f"{_ql_settings()};({''.join(parts)});(._;>;);out;"


# --------------------------------------------------------------------------------------------
# HTTP


def _headers() -> dict[str, str]:
    import osmnx as ox

    s = ox.settings
    return {
        "User-Agent": s.http_user_agent,
        "referer": s.http_referer,
        "Accept-Language": s.http_accept_language,
    }


def request_failure(exc: BaseException) -> str:
    """A failed HTTP request (a ``requests`` exception) in a few words.

    Examples
    --------
    >>> import requests
    >>> request_failure(requests.ConnectTimeout("..."))
    'no answer in time'
    """
    import requests

    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if re.search(r"NameResolution|Failed to resolve|Name or service not known|getaddrinfo", text):
        return "its host name could not be resolved: no network?"
    if "refused" in text.lower():
        return "connection refused"
    if isinstance(exc, requests.ConnectionError):
        return "no connection"
    return type(exc).__name__


def _unreachable(what: str, url: str, exc: BaseException, area: OnlineArea) -> NetworkError:
    import osmnx as ox

    return NetworkError(
        f"cannot reach {what} at {url} ({request_failure(exc)}) for {area.label!r}, and no "
        f"earlier download of it is cached in {ox.settings.cache_folder}. Connect to the "
        "internet and run again, or give a local .osm/.osm.pbf file instead."
    )


def _geocode(area: OnlineArea) -> Any:
    """The place's polygon, from Nominatim through osmnx (and osmnx's own cache)."""
    import osmnx as ox
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    place = str(area.place)
    try:
        gdf = ox.geocode_to_gdf(place)
    except requests.RequestException as exc:
        raise _unreachable("the Nominatim geocoder", ox.settings.nominatim_url, exc, area) from exc
    except InsufficientResponseError as exc:
        raise NetworkError(
            f"Nominatim found no place {place!r} ({exc}). Check the spelling, add the district "
            "and city (e.g. '学院路街道, 海淀区, 北京市'), or give --bbox instead."
        ) from exc
    except TypeError as exc:
        raise NetworkError(
            f"Nominatim found {place!r} only as a point, not as an area; name an area (a "
            "district, a subdistrict, a park) or give --bbox instead."
        ) from exc
    except ResponseStatusCodeError as exc:
        raise NetworkError(f"the Nominatim geocoder answered with an error: {exc}") from exc
    return gdf.geometry.iloc[0]


def _slot_pause(status_text: str) -> float | None:
    """Seconds until Overpass has a slot for us, from its ``/status`` text (None: unknown)."""
    lines = status_text.split("\n")
    if len(lines) < 5:
        return None
    line = lines[4]
    if re.match(r"\d+ slots? available now", line):
        return 0.0
    m = re.search(r"in (\d+) seconds", line)
    if m:
        return max(float(m.group(1)), 1.0)
    if line.startswith("Currently running"):
        return _BUSY_RECHECK_S
    return None


def _wait_for_slot(base: str, area: OnlineArea) -> None:
    """Wait for a free Overpass slot (osmnx's ``overpass_rate_limit``), at most the timeout."""
    import osmnx as ox
    import requests

    s = ox.settings
    url = base.rstrip("/") + "/status"
    deadline = time.monotonic() + s.requests_timeout
    while True:
        try:
            text = requests.get(
                url, headers=_headers(), timeout=s.requests_timeout, **s.requests_kwargs
            ).text
        except requests.RequestException as exc:
            raise _unreachable("the Overpass API", base, exc, area) from exc
        pause = _slot_pause(text)
        if not pause:  # a free slot, or a status we cannot read: let the query speak
            return
        if time.monotonic() + pause > deadline:
            raise NetworkError(
                f"the Overpass API at {base} has no free slot for {pause:.0f} s; try again "
                "later, or set osmnx.settings.overpass_url to another server."
            )
        logger.info(f"waiting {pause:.0f} s for a free Overpass slot")
        time.sleep(pause)


def _http_error(resp: requests.Response, base: str) -> NetworkError:
    body = resp.text
    m = re.search(r"Error</strong>:\s*(.*?)\s*</p>", body, re.S)
    detail = f": {re.sub(r'<[^>]+>', '', m.group(1))}" if m else ""
    what = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
    if resp.status_code in (429, 503, 504):
        return NetworkError(
            f"the Overpass API at {base} is busy ({what}); try again in a minute, or set "
            "osmnx.settings.overpass_url to another server."
        )
    return NetworkError(f"the Overpass API at {base} refused the download ({what}{detail}).")


def _check_download(path: Path, area: OnlineArea, base: str) -> None:
    """Raise NetworkError unless ``path`` holds OSM XML with data and no server error."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(max(0, size - (1 << 16)))
        tail = fh.read()
    if b"<osm" not in head:
        raise NetworkError(
            f"the Overpass API at {base} did not answer with OSM XML for {area.label!r} "
            f"(it begins {head[:60]!r})."
        )
    m = re.search(rb"<remark>\s*(.*?)\s*</remark>", tail, re.S)
    if m:
        raise NetworkError(
            f"the Overpass API at {base} stopped the download of {area.label!r}: "
            f"{m.group(1).decode('utf-8', 'replace')}. Try a smaller area, or raise "
            "osmnx.settings.requests_timeout."
        )
    if b"<node" not in head and b"<way" not in head:
        raise NetworkError(
            f"OpenStreetMap holds no data in {area.label!r}: check the area (is it on land, "
            "are the coordinates WEST,SOUTH,EAST,NORTH?)."
        )


def _stream(ql: str, base: str, fh: Any, area: OnlineArea) -> None:
    """POST the query to Overpass and write the answer into ``fh``."""
    import osmnx as ox
    import requests

    s = ox.settings
    try:
        with requests.post(
            base.rstrip("/") + "/interpreter",
            data={"data": ql},
            headers=_headers(),
            timeout=s.requests_timeout,
            stream=True,
            **s.requests_kwargs,
        ) as resp:
            if resp.status_code != 200:
                raise _http_error(resp, base)
            for chunk in resp.iter_content(chunk_size=1 << 20):
                fh.write(chunk)
    except requests.RequestException as exc:
        raise _unreachable("the Overpass API", base, exc, area) from exc


def _fetch(ql: str, target: Path, area: OnlineArea) -> None:
    """Download into ``target`` (atomically: checked under a temporary name, then renamed)."""
    import osmnx as ox

    base = ox.settings.overpass_url
    if ox.settings.overpass_rate_limit:
        _wait_for_slot(base, area)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".fifteenmin-", suffix=".osm", dir=target.parent)
        tmp = Path(name)
        with os.fdopen(fd, "wb") as fh:
            _stream(ql, base, fh, area)
        _check_download(tmp, area, base)
        os.replace(tmp, target)
    except OSError as exc:  # the cache folder (requests' errors are NetworkErrors by now)
        raise OutputError(
            f"cannot keep the download in osmnx's cache folder '{target.parent}' "
            f"({exc.strerror or exc}); set osmnx.settings.cache_folder to a folder you may "
            "write to."
        ) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def download_osm(area: OnlineArea, keys: Iterable[str] = ()) -> Path:
    """The area's OpenStreetMap data as an ``.osm`` file, from the cache or from Overpass.

    Parameters
    ----------
    area
        The area (:class:`OnlineArea`).
    keys
        Tag keys whose elements are wanted besides :data:`fifteenmin._osm.BASE_FEATURE_KEYS`
        and ``highway`` (e.g. ``catalogue.osm_keys()``).

    Returns
    -------
    pathlib.Path
        The file in osmnx's ``cache_folder`` (:meth:`OnlineArea.cache_path`). With osmnx's
        ``use_cache`` (its default), a file already there is used without any request;
        otherwise the area is downloaded again.

    Raises
    ------
    NetworkError
        No network, a server error or a busy server, an unknown place, an area without data.

    Examples
    --------
    >>> path = download_osm(OnlineArea(place="Kamppi, Helsinki"))  # doctest: +SKIP
    """
    import osmnx as ox

    target = area.cache_path(keys)
    if ox.settings.use_cache and target.is_file():
        logger.info(f"{area.label}: using the download cached in {target}")
        return target
    polygon = _geocode(area) if area.place is not None else area.polygon
    ql = overpass_query(_area_filters(area, polygon), keys)
    logger.info(f"{area.label}: downloading OpenStreetMap data from {ox.settings.overpass_url}")
    t0 = time.perf_counter()
    _fetch(ql, target, area)
    mb = target.stat().st_size / 1e6
    logger.info(f"{area.label}: {mb:,.1f} MB in {time.perf_counter() - t0:.1f} s, kept in {target}")
    return target


def read_online(area: OnlineArea, keys: Iterable[str] = ()) -> OSMData:
    """Download (or take from the cache) and read an area's OpenStreetMap data.

    Parameters
    ----------
    area
        The area (:class:`OnlineArea`).
    keys
        Extra tag keys kept as features (as for :func:`fifteenmin._osm.read_osm`).

    Returns
    -------
    OSMData
        As :func:`~fifteenmin._osm.read_osm` returns for the downloaded file, with
        ``source`` the area's label (``"place: ..."``).

    Examples
    --------
    >>> data = read_online(OnlineArea(bbox=(24.938, 60.165, 24.948, 60.172)))  # doctest: +SKIP
    >>> data.source  # doctest: +SKIP
    'bbox: 24.938,60.165,24.948,60.172'
    """
    keys = list(keys)
    data = read_osm(download_osm(area, keys), keys=keys)
    return dataclasses.replace(data, source=area.label)
