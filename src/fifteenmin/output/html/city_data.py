"""The compact data of the city layout of the report page, built with array operations.

A city has tens of thousands of communities: the city layout
(:mod:`fifteenmin.output.html.city`) embeds its data once, in columns (one array per field,
not one object per row), and the page renders a community's details only when it is opened.
Everything here is vectorised (no per-row ``.loc``, no GeoJSON round trip): at 27,556
communities it takes seconds.

Encodings (decoded by the page's script):

* **geometry**: per community, a list of polygons, each a list of rings, each ring a flat
  list of integers ``[lat0, lon0, dlat1, dlon1, ...]`` in units of
  :data:`~fifteenmin.settings.HTML_CITY_COORD_SCALE` (1e-5 degrees, about 1 m), the first
  pair absolute and the others differences; simplified by
  :data:`~fifteenmin.settings.HTML_CITY_SIMPLIFY_M` metres first.
* **shares and statuses**: one string per community with one character per catalogue item:
  the share within the tier as ``chr(40 + percent)`` (``"!"`` when unknown), and the status
  as ``"1"`` met, ``"0"`` missing, ``"-"`` no data, ``" "`` not scored.
* **service directory** (one JSON line per community, parsed on demand): per catalogue item
  with an entry ``[item, count, facility, tenths of a minute, percent, ...]`` with the
  nearest :data:`~fifteenmin.settings.HTML_CITY_FACILITIES_SHOWN` facilities within the tier,
  or ``[item, 0, facility, tenths]`` naming the nearest facility beyond the tier.

Examples
--------
>>> data, lines = city_data(rep, "en", None)  # doctest: +SKIP
>>> sorted(data)  # doctest: +SKIP
['cats', 'com', 'fac', 'items', ...]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from ...directory import facility_frame, service_directory
from . import _rings
from .common import (
    CATEGORY_COLOURS,
    community_name,
    community_units,
    display_name,
    score_colour,
)

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = ["city_data", "community_area_lines", "encode_geometries", "page_community_ids"]


def encode_geometries(
    geoms: Sequence[Any] | np.ndarray,
    tolerance_m: float,
    min_hole_m2: float = 0.0,
    *,
    to_wgs84: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]] | None = None,
    as_json: bool = False,
) -> list[Any]:
    """Polygons (WGS-84) as nested lists of delta-encoded integer rings (see the module).

    ``None`` or empty geometries give ``[]``. Simplified by ``tolerance_m`` metres (about;
    in degrees of latitude) and rounded to :data:`~fifteenmin.settings.HTML_CITY_COORD_SCALE`;
    holes smaller than ``min_hole_m2`` square metres are left out.

    ``to_wgs84``: the polygons are in a projected CRS in metres, and this function of
    ``(x, y)`` arrays gives their longitudes and latitudes (e.g. a ``pyproj.Transformer``'s
    ``transform``): only the coordinates are transformed, no geometry is rebuilt, and the
    holes' areas are measured in the projected CRS. ``tolerance_m`` must then be 0.

    ``as_json``: each geometry's list as its JSON text instead (``json.dumps`` with
    ``separators=(",", ":")``, written by compiled code when numba is there), ``""`` for
    ``[]``.

    Examples
    --------
    >>> import shapely
    >>> encode_geometries([shapely.box(24.9, 60.1, 24.90002, 60.10001)], 0.0)
    [[[6010000, 2490000, 0, 2, 1, 0, 0, -2, -1, 0]]]
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[Any] = [[] for _ in range(len(arr))]
    ok = np.flatnonzero(~(shapely.is_missing(arr) | shapely.is_empty(arr)))
    if not len(ok):
        return [""] * len(arr) if as_json else out
    g = arr[ok]
    if tolerance_m > 0:
        if to_wgs84 is not None:
            raise ValueError("encode_geometries: to_wgs84 needs tolerance_m = 0")
        g = shapely.simplify(g, tolerance_m / 111_320.0, preserve_topology=False)
    if to_wgs84 is not None and _rings.HAVE_NUMBA and _plain_polygons(g):
        # the same rings and coordinates from the WKB, the small holes left out on the way
        coords, coord_of, ring_of, part_of = _rings.kept_rings(g, min_hole_m2)
        lon, lat_ = to_wgs84(coords[:, 0], coords[:, 1])
        coords = np.column_stack([np.asarray(lon, np.float64), np.asarray(lat_, np.float64)])
        return _encoded(coords, (coord_of, ring_of, part_of, ok), out, as_json)
    parts, part_of = shapely.get_parts(g, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    if min_hole_m2 > 0 and len(rings):  # leave the small holes out first
        hole = np.flatnonzero(np.r_[False, ring_of[1:] == ring_of[:-1]])  # exteriors first
        if to_wgs84 is not None:
            small = hole[_ring_areas(rings[hole]) < min_hole_m2]
        else:
            lat = np.radians(np.clip(shapely.get_y(shapely.centroid(rings[hole])), -89.0, 89.0))
            m2 = shapely.area(shapely.polygons(rings[hole])) * 111_320.0**2 * np.cos(lat)
            small = hole[m2 < min_hole_m2]
        if len(small):
            kept = np.ones(len(rings), dtype=bool)
            kept[small] = False
            rings, ring_of = rings[kept], ring_of[kept]
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    if to_wgs84 is not None and len(coords):
        lon, lat_ = to_wgs84(coords[:, 0], coords[:, 1])
        coords = np.column_stack([np.asarray(lon, np.float64), np.asarray(lat_, np.float64)])
    return _encoded(coords, (coord_of, ring_of, part_of, ok), out, as_json)


def _encoded(
    coords: np.ndarray,
    index: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    out: list[Any],
    as_json: bool,
) -> list[Any]:
    """:func:`_encoded_rings` into ``out``, or as JSON texts (see encode_geometries)."""
    if not as_json:
        return _encoded_rings(coords, *index, out)
    if _rings.HAVE_NUMBA:
        return _rings.json_geometries(*_ring_deltas(coords, *index), len(out))
    return [
        json.dumps(g, separators=(",", ":")) if g else ""
        for g in _encoded_rings(coords, *index, out)
    ]


def _plain_polygons(geoms: np.ndarray) -> bool:
    """Every geometry a 2-D Polygon or MultiPolygon (what :func:`_rings.kept_rings` reads)."""
    kinds = shapely.get_type_id(geoms)
    return bool(np.isin(kinds, (3, 6)).all() and not shapely.has_z(geoms).any())


def _ring_areas(rings: np.ndarray) -> np.ndarray:
    """The areas enclosed by closed rings (shoelace, each ring about its first point)."""
    xy, of = shapely.get_coordinates(rings, return_index=True)
    first = np.r_[0, np.flatnonzero(of[1:] != of[:-1]) + 1]
    xy = xy - xy[first][np.searchsorted(first, np.arange(len(xy)), side="right") - 1]
    same = of[1:] == of[:-1]
    cross = xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]
    return np.abs(np.bincount(of[:-1][same], weights=cross[same], minlength=len(rings))) / 2


def _ring_deltas(
    coords: np.ndarray,
    coord_of: np.ndarray,
    ring_of: np.ndarray,
    part_of: np.ndarray,
    ok: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rings' coordinates (lon, lat) delta-encoded (see :func:`encode_geometries`).

    Returns ``(flat, counts, exterior, owner)``: the integers of every ring one after the
    other, each ring's count of them, whether it is the first ring of its polygon, and its
    geometry (a position of ``ok``).
    """
    scale = settings.HTML_CITY_COORD_SCALE
    q = np.rint(coords[:, ::-1] * scale).astype(np.int64)  # (lat, lon) integers
    first = np.r_[True, coord_of[1:] != coord_of[:-1]]
    d = q.copy()
    d[1:] -= q[:-1]
    d[first] = q[first]
    # drop a closed ring's last point (Leaflet closes polygons) and repeated points
    last = np.r_[coord_of[1:] != coord_of[:-1], True]
    keep = ~last & (first | np.any(d != 0, axis=1))
    counts = np.bincount(coord_of[keep], minlength=len(ring_of)) * 2
    exterior = np.r_[True, ring_of[1:] != ring_of[:-1]]
    return d[keep].ravel(), counts, exterior, ok[part_of[ring_of]]


def _encoded_rings(
    coords: np.ndarray,
    coord_of: np.ndarray,
    ring_of: np.ndarray,
    part_of: np.ndarray,
    ok: np.ndarray,
    out: list[Any],
) -> list[Any]:
    """The rings' coordinates (lon, lat) delta-encoded into ``out`` (see encode_geometries)."""
    flat_a, counts_a, exterior_a, owner_a = _ring_deltas(coords, coord_of, ring_of, part_of, ok)
    flat, counts = flat_a.tolist(), counts_a.tolist()
    starts = np.r_[0, np.cumsum(counts_a)].tolist()
    owner = owner_a.tolist()  # each ring's geometry
    poly: list[Any] = []
    valid = False
    for r, ext in enumerate(exterior_a.tolist()):
        if ext:
            valid = counts[r] >= 6  # three points at least
            if valid:
                poly = [flat[starts[r] : starts[r + 1]]]
                out[owner[r]].append(poly)
        elif valid and counts[r] >= 6:  # a hole
            poly.append(flat[starts[r] : starts[r + 1]])
    return out


def _communities(report: Results, lang: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The communities sorted by id, and their columns for the page."""
    com = report.coverage.communities
    ids = com["community_id"].astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    com = com.iloc[order].reset_index(drop=True)
    ids = ids[order]
    units = community_units(report)
    unit_names = sorted(set(units.values()))
    unit_code = {u: k for k, u in enumerate(unit_names)}
    weight = com["weight"].to_numpy(dtype=np.float64)
    score = com["score"].to_numpy(dtype=np.float64)
    colours = [score_colour(s, w) for s, w in zip(score, weight, strict=True)]
    palette = sorted(set(colours))
    pal_code = {c: k for k, c in enumerate(palette)}
    cols = {
        "id": ids.tolist(),
        "name": [community_name(n, lang) for n in com["community_name"].to_numpy()],
        "score": _rounded(score, 1000),
        "met": com["n_met"].to_numpy(dtype=np.int64).tolist(),
        "req": com["n_required"].to_numpy(dtype=np.int64).tolist(),
        "weight": _rounded(weight, 1),
        "unit": [unit_code.get(units.get(c, ""), -1) for c in ids],
        "colour": [pal_code[c] for c in colours],
    }
    return com, {"cols": cols, "units": unit_names, "palette": palette}


def _rounded(values: np.ndarray, scale: int) -> list[int | None]:
    """``round(values * scale)`` as ints, ``None`` where not finite."""
    fin = np.isfinite(values)
    r = np.where(fin, np.rint(np.where(fin, values, 0.0) * scale), 0).astype(np.int64).tolist()
    return [v if f else None for v, f in zip(r, fin.tolist(), strict=True)]


def _status_strings(report: Results, ids: np.ndarray) -> tuple[list[str], list[str]]:
    """Per community (in ``ids`` order): its shares and statuses as strings (see the module)."""
    items = [it.id for it in report.catalogue.items]
    n_com, n_it = len(ids), len(items)
    share = np.full((n_com, n_it), -1, dtype=np.int64)
    status = np.full((n_com, n_it), ord(" "), dtype=np.int64)
    t = report.coverage.table
    if len(t) and n_it:
        ci = pd.Index(ids).get_indexer(t["community_id"].astype(str))
        ii = pd.Index(items).get_indexer(t["item_id"].astype(str))
        ok = (ci >= 0) & (ii >= 0)
        s = t["share_within_tier"].to_numpy(dtype=np.float64)
        pc = np.where(np.isfinite(s), np.rint(np.nan_to_num(s) * 100), -1).astype(np.int64)
        share[ci[ok], ii[ok]] = pc[ok]
        met = t["met"].to_numpy(dtype=bool)
        st = t["status"].astype(str).to_numpy() if "status" in t.columns else None
        code = np.where(met, ord("1"), ord("0"))
        if st is not None:
            code = np.where(st == "no_data", ord("-"), code)
        status[ci[ok], ii[ok]] = code[ok]
    share_chr = np.where(share >= 0, 40 + share, ord("!"))
    return _rows_as_text(share_chr), _rows_as_text(status)


def _rows_as_text(codes: np.ndarray) -> list[str]:
    """Each row of a matrix of character codes as a string."""
    if codes.shape[1] == 0:
        return [""] * codes.shape[0]
    u = codes.astype(np.uint32).view(f"U{codes.shape[1]}").ravel()
    return u.tolist()


def _ids_per_row(values: np.ndarray, items: list[str]) -> list[list[int]]:
    """``;``-joined item ids (or lists) per community → catalogue positions."""
    pos = {it: k for k, it in enumerate(items)}
    out = []
    for v in values:
        if isinstance(v, str):
            ids = [x for x in v.split(";") if x]
        elif isinstance(v, list | tuple | np.ndarray):
            ids = [str(x) for x in v]
        else:
            ids = []
        out.append([pos.get(i, -1) for i in ids])
    return out


def city_data(
    report: Results, lang: str, isochrones: gpd.GeoDataFrame | None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The page's data: (compact data, directory lines, walking-area lines), by community.

    The directory and walking-area lines are JSON texts, one per community (in the order of
    the data's ``com.cols.id``), parsed by the page only when the community is opened;
    ``""`` when there is none.

    Examples
    --------
    >>> data, directory, areas = city_data(rep, "en", None)  # doctest: +SKIP
    """
    cat = report.catalogue
    items = [it.id for it in cat.items]
    com, com_data = _communities(report, lang)
    ids = np.asarray(com_data["cols"]["id"], dtype=object)
    shares, statuses = _status_strings(report, ids.astype(str))
    missing = _ids_per_row(com["missing"].to_numpy(), items)
    gaps = (
        _ids_per_row(com["data_gaps"].to_numpy(), items)
        if "data_gaps" in com.columns
        else [[] for _ in range(len(com))]
    )
    geoms = gpd.GeoSeries(com.geometry.values, crs=com.crs)
    if geoms.crs is not None:
        geoms = geoms.to_crs("EPSG:4326")
    com_data["cols"].update(
        share=shares,
        status=statuses,
        missing=missing,
        gaps=gaps,
        geom=encode_geometries(geoms.values, settings.HTML_CITY_SIMPLIFY_M),
    )
    fac, point_of = _facility_points(report, lang)
    directory = _directory_lines(report, ids.astype(str), point_of)
    areas = _area_lines(isochrones, ids.astype(str))
    data = {
        "items": _items(report, lang),
        "cats": _categories(report, lang),
        "com": com_data,
        "fac": fac,
        "scale": settings.HTML_CITY_COORD_SCALE,
    }
    return data, directory, areas


def _category_order(report: Results) -> list[str]:
    cat = report.catalogue
    order = [c.id for c in cat.categories]
    for it in cat.items:
        if it.category not in order:
            order.append(it.category)
    return order


def _items(report: Results, lang: str) -> dict[str, list[Any]]:
    cat = report.catalogue
    order = _category_order(report)
    return {
        "id": [it.id for it in cat.items],
        "name": [it.name(lang) for it in cat.items],
        "tier": [float(it.tier_minutes) for it in cat.items],
        "req": [int(bool(it.required)) for it in cat.items],
        "cat": [order.index(it.category) for it in cat.items],
    }


def _categories(report: Results, lang: str) -> dict[str, list[str]]:
    cat = report.catalogue
    known = {c.id: c.name(lang) for c in cat.categories}
    order = _category_order(report)
    return {
        "id": order,
        "name": [known.get(c, c) for c in order],
        "colour": [CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)] for k in range(len(order))],
    }


def _facility_points(report: Results, lang: str) -> tuple[dict[str, Any], np.ndarray]:
    """Map points (one per OSM object and category) and each facility row's point.

    Returns the points' columns (``lat``/``lon`` integers, category, name, items, OSM
    reference) and, per row of :func:`~fifteenmin.directory.facility_frame`, its point's
    position (-1 for a facility of no catalogue item).
    """
    fac = facility_frame(report)
    n = len(fac)
    empty: dict[str, Any] = {"lat": [], "lon": [], "cat": [], "name": [], "items": [], "osm": []}
    if not n:
        return empty, np.full(0, -1, dtype=np.int64)
    items = [it.id for it in report.catalogue.items]
    cat_pos = {c: k for k, c in enumerate(_category_order(report))}
    item_cat = {it.id: cat_pos[it.category] for it in report.catalogue.items}
    item_ids = fac["item_id"].astype(str).to_numpy()
    df = pd.DataFrame(
        {
            "row": np.arange(n),
            "cat": [item_cat.get(i, -1) for i in item_ids],
            "rank": pd.Index(items).get_indexer(item_ids),
            "osm_type": fac["osm_type"].astype(str).to_numpy(),
            "osm_id": fac["osm_id"].astype(str).to_numpy(),
        }
    )
    df = df[df["cat"] >= 0].sort_values(["cat", "osm_type", "osm_id", "rank", "row"], kind="stable")
    key = ["cat", "osm_type", "osm_id"]
    df["point"] = df.groupby(key, sort=False).ngroup()
    point_of = np.full(n, -1, dtype=np.int64)
    point_of[df["row"].to_numpy()] = df["point"].to_numpy()
    firsts = df.drop_duplicates("point")
    rows = firsts["row"].to_numpy()
    geoms = fac.geometry.to_crs("EPSG:4326") if fac.crs is not None else fac.geometry
    pts = shapely.point_on_surface(np.asarray(geoms.values, dtype=object)[rows])
    xy = shapely.get_coordinates(pts)
    scale = settings.HTML_CITY_COORD_SCALE
    # the points are numbered in df's order, so each point's rows are contiguous there
    ranks = df["rank"].to_numpy(np.int64)
    starts = np.flatnonzero(np.r_[True, np.diff(df["point"].to_numpy()) != 0])
    ends = np.r_[starts[1:], len(ranks)]
    items_of: list[Any] = [[r] for r in ranks[starts].tolist()]
    for k in np.flatnonzero(ends - starts > 1).tolist():
        items_of[k] = ranks[starts[k] : ends[k]].tolist()
    names, tags = fac["name"].to_numpy(), fac["tags"].to_numpy()
    out = {
        "lat": np.rint(xy[:, 1] * scale).astype(np.int64).tolist(),
        "lon": np.rint(xy[:, 0] * scale).astype(np.int64).tolist(),
        "cat": firsts["cat"].astype(np.int64).tolist(),
        "name": [display_name(names[r], tags[r], lang) for r in rows],
        "items": [v[0] if len(v) == 1 else v for v in items_of],
        "osm": (firsts["osm_type"].str[:1] + firsts["osm_id"]).tolist(),
    }
    return out, point_of


def _directory_lines(report: Results, ids: np.ndarray, point_of: np.ndarray) -> list[str]:
    """Per community: its service directory as a JSON line (see the module).

    A line is ``[[item, n, f, m, p, f, m, p, ...], ...]`` in catalogue order: each item's
    facilities within its tier (at most :data:`~fifteenmin.settings.HTML_CITY_FACILITIES_SHOWN`
    of the ``n``, as the directory orders them), or ``[item, 0, f, m]``, the nearest one
    beyond the tier. Built from row pieces sorted by (community, item) and joined once per
    community (a pandas group-by join per item was most of the city layout's time).
    """
    d = service_directory(report)
    items = [it.id for it in report.catalogue.items]
    com = np.zeros(0, dtype=np.int64)
    item = np.zeros(0, dtype=np.int64)
    piece = np.zeros(0, dtype=object)
    if len(d):
        ci = pd.Index(ids).get_indexer(d["community_id"].astype(str))
        ii = pd.Index(items).get_indexer(d["item_id"].astype(str))
        sub = pd.DataFrame(
            {
                "c": ci,
                "i": ii,
                "f": point_of[d["facility"].to_numpy(dtype=np.int64)],
                "m": np.rint(d["minutes"].to_numpy(dtype=np.float64) * 10).astype(np.int64),
                "p": _percent(d["share_within_tier"].to_numpy(dtype=np.float64)),
            }
        )
        sub = sub[(sub["c"] >= 0) & (sub["i"] >= 0)]
        grp = sub.groupby(["c", "i"], sort=False)
        sub = sub.assign(n=grp["f"].transform("size"), k=grp.cumcount())
        sub = sub[sub["k"] < settings.HTML_CITY_FACILITIES_SHOWN]
        tok = (
            sub["f"].astype(str) + "," + sub["m"].astype(str) + "," + sub["p"].astype(str)
        ).to_numpy(dtype=object)
        com, item = sub["c"].to_numpy(np.int64), sub["i"].to_numpy(np.int64)
        order = np.lexsort((item, com))  # stable: an item's facilities keep their order
        com, item, tok = com[order], item[order], tok[order]
        n = sub["n"].to_numpy(np.int64)[order]
        first = np.r_[True, (com[1:] != com[:-1]) | (item[1:] != item[:-1])]
        last = np.r_[first[1:], True]
        head = np.full(len(com), ",", dtype=object)
        head[first] = [
            f"[{a},{b}," for a, b in zip(item[first].tolist(), n[first].tolist(), strict=True)
        ]
        piece = head + tok
        piece[last] = piece[last] + "]"
    bc, bi, bt, bp = _nearest_beyond(report, ids, point_of)
    if len(bc):  # the items a community has none of within the tier
        new = ~np.isin(bc * len(items) + bi, np.unique(com * len(items) + item))
        bc, bi, bt, bp = bc[new], bi[new], bt[new], bp[new]
        extra = [
            f"[{i},0,{f},{m}]"
            for i, f, m in zip(bi.tolist(), bp.tolist(), bt.tolist(), strict=True)
        ]
        com = np.concatenate([com, bc])
        item = np.concatenate([item, bi])
        piece = np.concatenate([piece, np.array(extra, dtype=object)])
        order = np.lexsort((item, com))  # stable: directory rows stay in their order
        com, item, piece = com[order], item[order], piece[order]
    out = [""] * len(ids)
    if not len(com):
        return out
    same = com[1:] == com[:-1]
    between = np.r_[False, same & (item[1:] != item[:-1])]  # a comma between two items
    piece[between] = "," + piece[between]
    pieces = piece.tolist()
    starts = np.flatnonzero(np.r_[True, ~same])
    ends = np.r_[starts[1:], len(com)]
    for c, a, b in zip(com[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        out[c] = "[" + "".join(pieces[a:b]) + "]"
    return out


def _percent(share: np.ndarray) -> np.ndarray:
    fin = np.isfinite(share)
    return np.where(fin, np.rint(np.where(fin, share, 0) * 100), -1).astype(np.int64)


def _nearest_beyond(
    report: Results, ids: np.ndarray, point_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (community, item): tenths of a minute from its best-placed origin, and the point.

    Four arrays of the same length: community, item (catalogue position), tenths, point.
    """
    which = report.origin_nearest
    minutes = report.origin_minutes
    empty = np.zeros(0, dtype=np.int64)
    if which is None or not len(minutes) or not len(report.residents):
        return empty, empty, empty, empty
    com = pd.Index(ids).get_indexer(report.residents["community_id"].astype(str))
    items = [it.id for it in report.catalogue.items]
    travel_items = [it.id for it in report.travel.items]
    parts: list[tuple[np.ndarray, ...]] = []
    for k, item_id in enumerate(travel_items):
        i = items.index(item_id) if item_id in items else -1
        m = np.where(np.isfinite(minutes[:, k]), minutes[:, k], np.inf)
        ok = (com >= 0) & np.isfinite(m) & (which[:, k] >= 0)
        rows = np.flatnonzero(ok)
        if i < 0 or not len(rows):
            continue
        order = rows[np.lexsort((rows, m[rows], com[rows]))]
        first = order[np.r_[True, com[order][1:] != com[order][:-1]]]
        pts = point_of[which[first, k]]
        tenths = np.rint(m[first] * 10).astype(np.int64)
        keep = pts >= 0
        n = int(keep.sum())
        parts.append((com[first][keep], np.full(n, i), tenths[keep], pts[keep]))
    if not parts:
        return empty, empty, empty, empty
    c, it, t, p = (np.concatenate(x).astype(np.int64) for x in zip(*parts, strict=True))
    return c, it, t, p


def _area_lines(isochrones: gpd.GeoDataFrame | None, ids: np.ndarray) -> list[str]:
    """Per community: its walking area(s) as a JSON line ``[[minutes, geometry], ...]``."""
    if isochrones is None or "community_id" not in isochrones.columns:
        return [""] * len(ids)
    lines = community_area_lines(isochrones, pd.Index(ids), settings.HTML_CITY_AREA_SIMPLIFY_M)
    return [lines.get(c, "") for c in range(len(ids))]


def community_area_lines(
    isochrones: gpd.GeoDataFrame, ids: pd.Index, simplify_m: float
) -> dict[int, str]:
    """The walking areas of communities as JSON lines ``[[minutes, geometry], ...]``.

    Parameters
    ----------
    isochrones
        ``community_id``, ``minutes`` and polygons (any CRS); rows of communities not in
        ``ids`` or without finite minutes are left out.
    ids
        The page's community ids in its order (:func:`page_community_ids`).
    simplify_m
        Simplification in metres (:func:`encode_geometries`); 0 for areas that are already
        simplified to the page's resolution: the coordinates of areas in metres are then
        transformed to WGS-84 without rebuilding a geometry.

    Returns
    -------
    dict of int to str
        Position in ``ids`` -> the line (largest minutes first), for the communities with an
        area.

    Examples
    --------
    >>> community_area_lines(areas, pd.Index(page_community_ids(rep)), 8.0)  # doctest: +SKIP
    {0: '[[15.0,[[[3990812,11634012,...]]]]]', ...}
    """
    if not len(isochrones):
        return {}
    ci = ids.get_indexer(isochrones["community_id"].astype(str))
    minutes = pd.to_numeric(isochrones["minutes"], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.flatnonzero((ci >= 0) & np.isfinite(minutes))
    keep = keep[np.lexsort((-minutes[keep], ci[keep]))]  # the largest first
    geoms = isochrones.geometry
    to_wgs84 = _metres_to_wgs84(geoms.crs) if simplify_m <= 0 else None
    enc: list[str] = []
    step = settings.HTML_CITY_CHUNK * 4  # a few thousand areas at a time: bounded memory
    for k in range(0, len(keep), step):
        part = geoms.iloc[keep[k : k + step]]
        if to_wgs84 is None and part.crs is not None:
            part = part.to_crs("EPSG:4326")
        enc += encode_geometries(
            part.values,
            simplify_m,
            settings.HTML_CITY_AREA_MIN_HOLE_M2,
            to_wgs84=to_wgs84,
            as_json=True,
        )
    # json.dumps of [[minutes, geometry], ...], the geometries' texts already made
    per: dict[int, list[str]] = {}
    for c, m, g in zip(ci[keep].tolist(), minutes[keep].tolist(), enc, strict=True):
        if g:
            per.setdefault(c, []).append(f"[{json.dumps(m)},{g}]")
    return {c: f"[{','.join(v)}]" for c, v in per.items()}


def _metres_to_wgs84(crs: Any) -> Any:
    """``Transformer.transform`` from ``crs`` to WGS-84 when ``crs`` is projected in metres."""
    if crs is None or not crs.is_projected:
        return None
    if any(a.unit_name not in ("metre", "meter") for a in crs.axis_info[:2]):
        return None
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform


def page_community_ids(report: Results) -> list[str]:
    """The ids of the city layout's communities, in the page's order (sorted as text).

    Examples
    --------
    >>> page_community_ids(rep)[:2]  # doctest: +SKIP
    ['way/1001', 'way/1002']
    """
    ids = report.coverage.communities["community_id"].astype(str).to_numpy()
    return [str(i) for i in ids[np.argsort(ids, kind="stable")]]
