"""Online code paths (osmnx downloads) tested offline against a local Overpass/Nominatim emulator.

The server (``tests/osm_server.py``) runs on 127.0.0.1 and answers the queries osmnx really
sends with the real OSM elements of the bundled sample (Helsinki centre, 2019; © OpenStreetMap
contributors, ODbL 1.0), in Overpass JSON and Nominatim JSON. A guard makes any name lookup or
connection to another host fail the test.

The oracle for networks is :func:`fifteenmin.network_from_file` on the same file, put through
what osmnx's ``graph_from_polygon`` does to a download (see :func:`_expected_online`):

1. osmnx simplifies the walk graph of the polygon buffered by 500 m. Its graph nodes
   ("endpoints") are the OSM nodes that do not have exactly two distinct neighbours with two
   street segments. ``network_from_file`` keeps more nodes: also the nodes where two ways meet
   end to end. So the file network's edges are merged at its nodes that are not osmnx
   endpoints (chains through such nodes become one edge, with the summed length);
2. osmnx then removes every node outside the polygon (with the edges touching it: an edge
   leaving the polygon is dropped whole, even its inside part);
3. fifteenmin keeps the largest connected component.

The result must have exactly the node ids and node pairs of the online network. Lengths differ
by design: osmnx measures great-circle distances on a sphere of radius 6,371,009 m, fifteenmin
geodesics on the WGS-84 ellipsoid, so every online edge is shorter by the factor R/rho, with rho
between the meridian and the prime-vertical radii of curvature at that latitude (0.9964-0.9981
in Helsinki). That band, computed here, is the length tolerance.

Facilities: ``facilities_from_polygon`` must find the same ``(item_id, osm_type, osm_id)`` as
``facilities_from_osm`` for the features that intersect the polygon (points and polygons alike,
with topologically equal geometries), among the features an Overpass tag query can return
(exact ``key=value`` or ``key`` present, as ``Catalogue.osmnx_tags`` asks; service keys whose
values are often ``;`` lists are requested with any value, so list-valued tags are found too).

Reports online (``fifteenmin report --place/--bbox``, :mod:`fifteenmin.online`): the server
answers the OSM XML query and the report is written; with the server stopped the same report
comes byte for byte from osmnx's cache folder, and an area never downloaded fails in one line.
The oracle for the data is the file itself: the sample's whole extent downloaded reads as the
file does (the same streets, and the same features plus the ways the clipped file holds only
in part, which the server serves closed).
"""

from __future__ import annotations

import math
import re
import socket
import time
import warnings
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import osmnx as ox
import pyproj
import pytest
import requests
import shapely
from osmnx._errors import InsufficientResponseError
from scipy import sparse
from scipy.sparse import csgraph

from fifteenmin import (
    NetworkError,
    facilities_from_osm,
    facilities_from_polygon,
    load_catalogue,
    network_from_bbox,
    network_from_file,
    network_from_place,
    network_from_polygon,
    read_osm,
)
from fifteenmin._osm import is_walkable
from fifteenmin.facilities import FACILITY_COLUMNS
from fifteenmin.network import local_crs
from osm_server import LoopbackGuard, NetworkAccessBlockedError, OSMStore, OSMTestServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "helsinki_centre_2019_extract.osm.pbf"
SHARED_ROOT = Path(__file__).resolve().parents[2] / "shared"
BEIJING = SHARED_ROOT / "data" / "osm" / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm"

# study areas inside the sample's box (24.9352, 60.1642, 24.9534, 60.1775)
BBOX = (24.938, 60.165, 24.948, 60.172)  # left, bottom, right, top
PENTAGON = shapely.Polygon(
    [(24.937, 60.168), (24.944, 60.164), (24.951, 60.168), (24.949, 60.175), (24.940, 60.175)]
)
PLACE = "Kaisaniemen puisto, Helsinki"  # a park: relation 6627217 in the sample
PLACE_RELATION = 6627217
FAR_AWAY_BBOX = (24.90, 60.10, 24.91, 60.105)  # open sea, 7 km from the sample: no data at all
# 350 m south of the sample's data: its 500 m buffer holds streets, the box itself none
NO_NODES_BOX = shapely.box(24.944, 60.159, 24.948, 60.161)


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def store():
    return OSMStore(SAMPLE)


@pytest.fixture(scope="module")
def server(store):
    with OSMTestServer(store) as srv:
        yield srv


@pytest.fixture(scope="module")
def file_data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the sample is a clipped extract
        return read_osm(SAMPLE, keys=load_catalogue("beijing").osm_keys())


@pytest.fixture(scope="module")
def file_net(file_data):
    # every component: the clip to a polygon and the largest component come afterwards;
    # osmnx's walk rule (no walkable squares), which the osmnx downloads follow
    return network_from_file(file_data, retain_all=True, pedestrian_areas=False)


def _point_osmnx_at(srv: OSMTestServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackGuard:
    """Guard the network, point osmnx at the local server; monkeypatch restores everything."""
    guard = LoopbackGuard().install(monkeypatch)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    s = ox.settings
    monkeypatch.setattr(s, "overpass_url", srv.overpass_url)
    monkeypatch.setattr(s, "nominatim_url", srv.nominatim_url)
    monkeypatch.setattr(s, "nominatim_key", None)
    monkeypatch.setattr(s, "use_cache", False)
    monkeypatch.setattr(s, "cache_only_mode", False)
    # keep osmnx's rate limiting on: it asks the emulated /api/status for a free slot
    monkeypatch.setattr(s, "overpass_rate_limit", True)
    monkeypatch.setattr(s, "requests_timeout", 30)  # a broken server fails, never hangs
    monkeypatch.setattr(s, "requests_kwargs", {})
    monkeypatch.setattr(s, "doh_url_template", None)  # never ask 8.8.8.8 for DNS
    monkeypatch.setattr(s, "overpass_settings", "[out:json][timeout:{timeout}]{maxsize}")
    monkeypatch.setattr(s, "overpass_memory", None)
    monkeypatch.setattr(s, "default_access", '["access"!~"private"]')
    monkeypatch.setattr(s, "log_console", False)
    # osmnx waits 1 s before every Nominatim request (the public server's usage policy);
    # the local emulator has no such policy
    monkeypatch.setattr(ox._nominatim, "time", SimpleNamespace(sleep=lambda _s: None))
    return guard


@pytest.fixture
def guard(server, monkeypatch):
    """The network guard, with osmnx pointed at the local server."""
    return _point_osmnx_at(server, monkeypatch)


@pytest.fixture
def online(server, guard):
    """The local server, with osmnx pointed at it and the network guarded."""
    server.clear_requests()
    yield server
    assert not guard.blocked, f"requests tried to leave 127.0.0.1: {guard.blocked}"
    assert all(r.client == "127.0.0.1" for r in server.requests)


# --------------------------------------------------------------------------------------------
# oracle


def _expected_online(file_net, polygon):
    """What osmnx + fifteenmin must return for ``polygon``, derived from the file network.

    Returns the set of node ids, a Counter of unordered node-id pairs (one per edge) and the
    summed lengths per pair (metres, WGS-84 geodesic).
    """
    F = file_net
    n, m = F.n_nodes, F.n_edges
    # the first street segment at each end of an edge: its second / next-to-last vertex
    first = [tuple(np.round(np.asarray(g.coords)[1], 3)) for g in F.edge_geometry]
    last = [tuple(np.round(np.asarray(g.coords)[-2], 3)) for g in F.edge_geometry]
    ends: list[list[tuple[int, tuple[float, float]]]] = [[] for _ in range(n)]
    for e in range(m):
        ends[F.edge_u[e]].append((e, first[e]))
        ends[F.edge_v[e]].append((e, last[e]))
    # osmnx rule: not an endpoint iff exactly two distinct neighbours and two segments
    endpoint = np.array(
        [not (len(x) == 2 and len({nb for _, nb in x}) == 2) for x in ends], dtype=bool
    )
    a_list, b_list, len_list = [], [], []
    used = np.zeros(m, dtype=bool)
    for s in np.flatnonzero(endpoint):
        for e0, _ in ends[s]:
            if used[e0]:
                continue
            cur, e, total = s, e0, 0.0
            while True:
                used[e] = True
                total += F.edge_length[e]
                nxt = F.edge_v[e] if F.edge_u[e] == cur else F.edge_u[e]
                if endpoint[nxt]:
                    break
                (e1, _), (e2, _) = ends[nxt]
                e = e2 if e1 == e else e1
                cur = nxt
                if used[e]:
                    break
            a_list.append(s)
            b_list.append(nxt)
            len_list.append(total)
    a, b, lengths = np.array(a_list), np.array(b_list), np.array(len_list)
    inside = np.asarray(shapely.intersects_xy(polygon, F.lon, F.lat), dtype=bool)
    keep = inside[a] & inside[b]
    a, b, lengths = a[keep], b[keep], lengths[keep]
    adj = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, comp = csgraph.connected_components(adj, directed=False)
    sizes = np.bincount(comp[np.unique(np.concatenate([a, b]))], minlength=comp.max() + 1)
    keep = comp[a] == int(np.argmax(sizes))
    a, b, lengths = a[keep], b[keep], lengths[keep]
    ua, vb = F.node_id[a], F.node_id[b]
    pairs = Counter(zip(np.minimum(ua, vb).tolist(), np.maximum(ua, vb).tolist(), strict=True))
    by_pair: dict[tuple[int, int], list[float]] = {}
    for p, length in zip(
        zip(np.minimum(ua, vb).tolist(), np.maximum(ua, vb).tolist(), strict=True),
        lengths.tolist(),
        strict=True,
    ):
        by_pair.setdefault(p, []).append(length)
    return set(ua.tolist()) | set(vb.tolist()), pairs, by_pair


def _pairs(net):
    u, v = net.node_id[net.edge_u], net.node_id[net.edge_v]
    keys = list(zip(np.minimum(u, v).tolist(), np.maximum(u, v).tolist(), strict=True))
    by_pair: dict[tuple[int, int], list[float]] = {}
    for k, length in zip(keys, net.edge_length.tolist(), strict=True):
        by_pair.setdefault(k, []).append(length)
    return Counter(keys), by_pair


def _sphere_to_ellipsoid_band(lat_deg: float) -> tuple[float, float]:
    """Range of (osmnx great-circle length) / (WGS-84 geodesic length) for short segments."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    s2 = math.sin(math.radians(lat_deg)) ** 2
    meridian = a * (1 - e2) / (1 - e2 * s2) ** 1.5
    prime_vertical = a / math.sqrt(1 - e2 * s2)
    r = ox.distance.EARTH_RADIUS_M
    return r / prime_vertical, r / meridian


def _check_online_network(net, file_net, polygon, store):
    """The checks every online network must pass (see the module docstring)."""
    # non-trivial and connected
    assert net.n_nodes > 100
    assert net.n_edges > net.n_nodes // 2
    n_comp, _ = csgraph.connected_components(
        sparse.csr_matrix(
            (np.ones(len(net.indices)), net.indices, net.indptr), shape=(net.n_nodes, net.n_nodes)
        ),
        directed=False,
    )
    assert n_comp == 1
    # real OSM nodes of the file, at their real place, inside the polygon
    idx = np.searchsorted(store.node_id, net.node_id)
    assert np.all(store.node_id[np.minimum(idx, len(store.node_id) - 1)] == net.node_id)
    np.testing.assert_allclose(net.lon, store.lon[idx], atol=1e-9)
    np.testing.assert_allclose(net.lat, store.lat[idx], atol=1e-9)
    assert shapely.intersects_xy(polygon, net.lon, net.lat).all()

    nodes, pairs, lengths = _expected_online(file_net, polygon)
    got_pairs, got_lengths = _pairs(net)
    assert set(net.node_id.tolist()) == nodes
    assert set(got_pairs) == set(pairs)
    lo, hi = _sphere_to_ellipsoid_band(polygon.centroid.y)
    ratios = np.array([min(got_lengths[p]) / min(lengths[p]) for p in pairs if min(lengths[p]) > 1])
    assert ratios.min() >= lo - 2e-4, ratios.min()
    assert ratios.max() <= hi + 2e-4, ratios.max()


def _poly_of_query(ql: str) -> shapely.Polygon:
    text = re.search(r"\(poly:['\"]([-0-9. ]+)['\"]\)", ql).group(1)
    v = [float(x) for x in text.split()]
    return shapely.Polygon(list(zip(v[1::2], v[0::2], strict=True)))


def _metres(geom, crs):
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _check_network_requests(srv, polygon):
    """osmnx asked for a free slot, then sent one walk query for the polygon buffered 500 m."""
    reqs = [r for r in srv.requests if r.service != "nominatim"]
    assert [r.service for r in reqs] == ["overpass-status", "overpass"]
    q = reqs[1]
    assert q.method == "POST" and q.status == 200 and q.count > 0
    assert q.data.startswith('[out:json][timeout:30];(way["highway"]["area"!~"yes"]')
    assert q.data.rstrip().endswith(">;);out;")
    crs = local_crs(polygon.centroid.x, polygon.centroid.y)
    sent = _metres(_poly_of_query(q.data), crs)
    assert sent.contains(_metres(polygon, crs).buffer(495))
    assert not sent.contains(_metres(polygon, crs).buffer(520))


# --------------------------------------------------------------------------------------------
# networks


def test_network_from_bbox(online, file_net, store):
    t0 = time.perf_counter()
    net = network_from_bbox(BBOX)
    assert time.perf_counter() - t0 < 15
    _check_online_network(net, file_net, shapely.box(*BBOX), store)
    _check_network_requests(online, shapely.box(*BBOX))
    assert net.source.startswith("osmnx bbox")


def test_network_from_polygon(online, file_net, store):
    net = network_from_polygon(PENTAGON)
    _check_online_network(net, file_net, PENTAGON, store)
    _check_network_requests(online, PENTAGON)


def test_network_from_place(online, file_net, file_data, store):
    net = network_from_place(PLACE)
    # the place polygon, read from the file by fifteenmin itself
    f = file_data.features
    park = f[(f["osm_type"] == "relation") & (f["osm_id"] == PLACE_RELATION)].geometry.iloc[0]
    _check_online_network(net, file_net, park, store)
    nom = [r for r in online.requests if r.service == "nominatim"]
    assert len(nom) == 1 and nom[0].path == "/search" and nom[0].count == 1
    assert nom[0].query["q"] == [PLACE]
    assert nom[0].query["format"] == ["json"] and nom[0].query["polygon_geojson"] == ["1"]
    assert [r.service for r in online.requests] == ["nominatim", "overpass-status", "overpass"]
    _check_network_requests(online, park)


def test_online_network_has_each_street_once(online, file_net):
    for polygon, download in (
        (shapely.box(*BBOX), lambda: network_from_bbox(BBOX)),
        (PENTAGON, lambda: network_from_polygon(PENTAGON)),
    ):
        net = download()
        _, pairs, lengths = _expected_online(file_net, polygon)
        got_pairs, _ = _pairs(net)
        differ = {p: (c, pairs.get(p, 0)) for p, c in got_pairs.items() if c != pairs.get(p, 0)}
        assert not differ, f"{len(differ)} streets (online, expected): {list(differ.items())[:3]}"
        assert net.n_edges == sum(pairs.values())
        lo, hi = _sphere_to_ellipsoid_band(polygon.centroid.y)
        ratio = net.edge_length.sum() / sum(sum(v) for v in lengths.values())
        assert lo - 2e-4 <= ratio <= hi + 2e-4


def test_walk_filter_osmnx_sends_is_fifteenmins(online, store):
    """The way filter osmnx sends selects exactly the ways ``is_walkable`` accepts."""
    network_from_bbox((24.943, 60.168, 24.946, 60.170))  # only to record the query
    ql = next(r.data for r in online.requests if r.service == "overpass")
    no_poly = re.sub(r"\(poly:'[^']*'\)", "", ql)
    assert no_poly != ql
    resp = requests.post(online.overpass_url + "/interpreter", data={"data": no_poly}, timeout=30)
    got = {e["id"] for e in resp.json()["elements"] if e["type"] == "way"}
    expected = {w for w in store.way_refs if is_walkable(store.way_tags[w])}
    assert got == expected
    assert len(got) > 1000


# --------------------------------------------------------------------------------------------
# facilities


def _fetchable(tags, osmnx_tags):
    """Whether an Overpass query for ``osmnx_tags`` (exact values or key present) finds it."""
    for key, want in osmnx_tags.items():
        if key in tags and (want is True or tags[key] in want):
            return True
    return False


def _keys(df):
    return set(zip(df["item_id"], df["osm_type"], df["osm_id"], strict=True))


def test_facilities_from_polygon(online, file_data):
    cat = load_catalogue("beijing")
    got = facilities_from_polygon(PENTAGON, cat)
    assert set(FACILITY_COLUMNS) <= set(got.columns)
    offline = facilities_from_osm(file_data, cat)
    inside = offline[offline.intersects(PENTAGON)]
    osmnx_tags = cat.osmnx_tags()
    expected = inside[[_fetchable(t, osmnx_tags) for t in inside["tags"]]]

    for kind in ("node", "way", "relation"):
        assert _keys(got[got.osm_type == kind]) == _keys(expected[expected.osm_type == kind]), kind
    assert (got.osm_type == "node").sum() > 300
    assert (got.osm_type != "node").sum() > 10  # polygons (parks, malls...) compared too

    merged = got.merge(expected, on=["item_id", "osm_type", "osm_id"], suffixes=("_on", "_off"))
    assert len(merged) == len(got)
    # same geometry (osmnx Polygon vs pyosmium MultiPolygon of the same rings)
    assert shapely.equals(
        np.asarray(merged["geometry_on"].values), np.asarray(merged["geometry_off"].values)
    ).all()
    assert (merged["name_on"] == merged["name_off"]).all()
    # same tags; pyosmium areas drop the relation's own "type=multipolygon"
    for on, off, kind in zip(
        merged["tags_on"], merged["tags_off"], merged["osm_type"], strict=True
    ):
        if kind == "relation":
            on = {k: v for k, v in on.items() if k != "type"}
        assert on == off

    reqs = online.requests
    assert [r.service for r in reqs] == ["overpass-status", "overpass"]
    ql = reqs[1].data
    for key, values in osmnx_tags.items():
        if values is True:
            assert f"node['{key}'](poly:" in ql
        else:
            assert all(f"node['{key}'='{v}'](poly:" in ql for v in values)


def test_facilities_from_polygon_finds_list_valued_tags(online, file_data):
    got = facilities_from_polygon(PENTAGON, "beijing")
    offline = facilities_from_osm(file_data, "beijing")
    assert _keys(got) == _keys(offline[offline.intersects(PENTAGON)])


# --------------------------------------------------------------------------------------------
# empty areas and errors


def test_area_without_data_fails_fast(online):
    t0 = time.perf_counter()
    with pytest.raises((InsufficientResponseError, NetworkError), match=r"(?i)no data|no walk"):
        network_from_bbox(FAR_AWAY_BBOX)
    assert time.perf_counter() - t0 < 10
    q = [r for r in online.requests if r.service == "overpass"]
    assert len(q) == 1 and q[0].status == 200 and q[0].count == 0


def test_area_without_nodes_inside_fails_fast(online, store):
    # streets within the 500 m buffer are downloaded, but none lies in the box
    assert not shapely.intersects_xy(NO_NODES_BOX, store.lon, store.lat).any()
    t0 = time.perf_counter()
    with pytest.raises((ValueError, NetworkError), match=r"(?i)no graph nodes|no walk"):
        network_from_polygon(NO_NODES_BOX)
    assert time.perf_counter() - t0 < 10
    q = [r for r in online.requests if r.service == "overpass"]
    assert len(q) == 1 and q[0].count > 0


def test_facilities_in_empty_area(online):
    got = facilities_from_polygon(shapely.box(*FAR_AWAY_BBOX), "beijing")
    assert len(got) == 0
    assert set(FACILITY_COLUMNS) <= set(got.columns)


def test_unknown_place(online):
    with pytest.raises((InsufficientResponseError, NetworkError), match="0 results"):
        network_from_place("Atlantis, Helsinki")
    assert [r.service for r in online.requests] == ["nominatim"]
    assert online.requests[0].count == 0


# --------------------------------------------------------------------------------------------
# the emulator itself and the guard


def test_nominatim_answers_like_nominatim(online, file_data):
    gdf = ox.geocode_to_gdf(PLACE)
    row = gdf.iloc[0]
    assert (row["osm_type"], row["osm_id"], row["class"], row["type"]) == (
        "relation",
        PLACE_RELATION,
        "leisure",
        "park",
    )
    f = file_data.features
    park = f[(f["osm_type"] == "relation") & (f["osm_id"] == PLACE_RELATION)].geometry.iloc[0]
    assert shapely.equals(gdf.geometry.iloc[0], park)
    w, s, e, n = park.bounds
    assert row["bbox_west"] == pytest.approx(w) and row["bbox_north"] == pytest.approx(n)
    assert row["bbox_south"] == pytest.approx(s) and row["bbox_east"] == pytest.approx(e)
    raw = requests.get(
        online.nominatim_url + "search",
        params={"q": PLACE, "format": "jsonv2", "polygon_geojson": 1},
        timeout=30,
    ).json()
    assert {
        "place_id",
        "licence",
        "osm_type",
        "osm_id",
        "boundingbox",
        "lat",
        "lon",
        "display_name",
        "category",
        "type",
        "importance",
        "geojson",
    } <= set(raw[0])
    assert raw[0]["display_name"].startswith("Kaisaniemen puisto, ")
    assert all(isinstance(x, str) for x in raw[0]["boundingbox"])


def test_overpass_status_and_query_formats(online):
    # the status text osmnx parses: 0 s pause with free slots
    assert ox._overpass._get_overpass_pause(online.overpass_url) == 0
    text = requests.get(online.overpass_url + "/status", timeout=30).text.split("\n")
    assert text[0].startswith("Connected as: ") and text[3] == "Rate limit: 2"
    assert text[4] == "2 slots available now."
    # GET with data= and POST agree; Overpass tag-test semantics
    ql = (
        '[out:json];node["amenity"="pharmacy"]["wheelchair"!~"no"]'
        "(60.164,24.935,60.178,24.954);out;"
    )
    get = requests.get(online.overpass_url + "/interpreter", params={"data": ql}, timeout=30)
    post = requests.post(online.overpass_url + "/interpreter", data={"data": ql}, timeout=30)
    assert get.status_code == post.status_code == 200
    doc = get.json()
    assert doc == post.json()
    assert doc["version"] == 0.6 and "ODbL" in doc["osm3s"]["copyright"]
    els = doc["elements"]
    assert els and all(e["tags"]["amenity"] == "pharmacy" for e in els)
    assert all(e["tags"].get("wheelchair") != "no" for e in els)
    assert any("wheelchair" not in e["tags"] for e in els)  # `!~` is true for a missing key
    # recursion: a way's nodes come with it
    ql = "[out:json];way(4236349);(._;>;);out;"
    els = requests.post(online.overpass_url + "/interpreter", data={"data": ql}, timeout=30).json()
    way = next(e for e in els["elements"] if e["type"] == "way")
    assert {e["id"] for e in els["elements"] if e["type"] == "node"} == set(way["nodes"])
    # a bad query is an HTTP 400 with Overpass's HTML error page
    bad = requests.post(
        online.overpass_url + "/interpreter", data={"data": "[out:json];nod"}, timeout=30
    )
    assert bad.status_code == 400 and "<strong" in bad.text and "Error" in bad.text


def test_guard_refuses_the_internet(online, guard, monkeypatch):
    with pytest.raises(NetworkAccessBlockedError):
        requests.get("https://nominatim.openstreetmap.org/status", timeout=5)
    with pytest.raises(NetworkAccessBlockedError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass-api.de/api")
    with pytest.raises(NetworkAccessBlockedError):
        network_from_bbox(BBOX)
    assert len(guard.blocked) == 3
    guard.blocked.clear()  # these were on purpose
    assert online.requests == []


# --------------------------------------------------------------------------------------------
# a second real data set (Beijing), where ../shared is present


@pytest.mark.shared
@pytest.mark.skipif(
    not SHARED_ROOT.is_dir(),
    reason="../shared is absent (a user's clone has "
    "no ../shared): this test needs the Beijing extract kept outside the repo",
)
def test_beijing_network_and_facilities_online(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = read_osm(BEIJING, keys=load_catalogue("beijing").osm_keys())
    file_net = network_from_file(data, retain_all=True)
    bj_store = OSMStore(BEIJING)
    w, s, e, n = data.bbox
    box = shapely.box(w, s, e, n).buffer(-0.002)  # well inside the export box
    with OSMTestServer(bj_store) as srv:
        guard = _point_osmnx_at(srv, monkeypatch)
        net = network_from_polygon(box)
        _check_online_network(net, file_net, box, bj_store)
        got = facilities_from_polygon(box, "beijing")
        offline = facilities_from_osm(data, "beijing")
        inside = offline[offline.intersects(box)]
        tags = load_catalogue("beijing").osmnx_tags()
        expected = inside[[_fetchable(t, tags) for t in inside["tags"]]]
        for kind in ("node", "way", "relation"):
            assert _keys(got[got.osm_type == kind]) == _keys(expected[expected.osm_type == kind])
        assert len(got) > 50
        assert not guard.blocked


# --------------------------------------------------------------------------------------------
# reports online: `fifteenmin report --place/--bbox` (fifteenmin.online)


SAMPLE_BOX = (24.9352, 60.1642, 24.9534, 60.1775)  # the sample's whole extent


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """osmnx's cache on, in a folder of the test's own."""
    folder = tmp_path / "osmnx-cache"
    monkeypatch.setattr(ox.settings, "use_cache", True)
    monkeypatch.setattr(ox.settings, "cache_folder", str(folder))
    return folder


def _report_cli(args, capsys):
    """Run ``fifteenmin report ARGS --no-html -q``; return (exit status, stderr lines)."""
    from fifteenmin.cli import main

    capsys.readouterr()
    rc = main(["report", *args, "--no-html", "-q"])
    err = capsys.readouterr().err.strip()
    return rc, err.splitlines()


def _downloads(folder):
    return sorted(p.name for p in Path(folder).glob("*.osm")) if Path(folder).is_dir() else []


def test_report_place_online_then_from_the_cache_offline(
    store, cache, monkeypatch, tmp_path, capsys
):
    """``--place`` end to end against the replay server; again with the server stopped."""
    import json

    out1, out2 = tmp_path / "first", tmp_path / "again"
    with OSMTestServer(store) as srv:
        guard = _point_osmnx_at(srv, monkeypatch)
        monkeypatch.setattr(ox.settings, "use_cache", True)
        rc, err = _report_cli([f"--place={PLACE}", "--out", str(out1)], capsys)
        assert rc == 0, err
        reqs = srv.requests
    assert not guard.blocked
    assert [r.service for r in reqs] == ["nominatim", "overpass-status", "overpass"]
    ql = reqs[2].data
    # OSM XML, the park's polygon, the elements of the file pipeline, complete ways
    assert ql.startswith("[out:xml][timeout:30];(node[~")
    assert ql.endswith(");(._;>;);out;")
    assert '(poly:"60.' in ql and 'rel["type"="multipolygon"]' in ql
    assert "amenity" in ql and "highway" in ql and "building" in ql and "admin_level" in ql
    assert reqs[2].status == 200 and reqs[2].count > 1000
    assert len(_downloads(cache)) == 1

    summary = json.loads((out1 / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["osm_file"] == f"place: {PLACE}"
    assert summary["network"]["source"] == f"place: {PLACE}"
    assert str(tmp_path) not in (out1 / "summary.json").read_text(encoding="utf-8")
    assert summary["network"]["nodes"] > 100 and summary["facilities"]["total"] > 10

    # the server is gone: the same report from the cache, byte for byte
    t0 = time.perf_counter()
    rc, err = _report_cli([f"--place={PLACE}", "--out", str(out2)], capsys)
    assert rc == 0, err
    assert time.perf_counter() - t0 < 30
    for name in ("summary.json", "coverage.csv", "communities.gpkg", "facilities.gpkg"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name

    # a place that was never downloaded: one line, exit status 2, fast, nothing cached
    t0 = time.perf_counter()
    rc, err = _report_cli(
        ["--place", "Esplanadinpuisto, Helsinki", "--out", str(tmp_path / "x")], capsys
    )
    assert rc == 2
    assert time.perf_counter() - t0 < 10
    assert len(err) == 1, err
    assert err[0].startswith(
        "fifteenmin: error: cannot reach the Nominatim geocoder at http://127.0.0.1:"
    )
    assert "connection refused" in err[0] and "no earlier download" in err[0]
    assert "Esplanadinpuisto" in err[0] and "Traceback" not in err[0]
    assert len(_downloads(cache)) == 1


def test_bbox_report_from_cache_miss_fails_in_one_line(store, cache, monkeypatch, tmp_path, capsys):
    with OSMTestServer(store) as srv:
        _point_osmnx_at(srv, monkeypatch)
        monkeypatch.setattr(ox.settings, "use_cache", True)
    t0 = time.perf_counter()
    rc, err = _report_cli(["--bbox", ",".join(map(str, BBOX)), "--out", str(tmp_path)], capsys)
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(
        "fifteenmin: error: cannot reach the Overpass API at http://127.0.0.1:"
    )
    assert f"'bbox: {BBOX[0]},{BBOX[1]},{BBOX[2]},{BBOX[3]}'" in err[0]
    assert time.perf_counter() - t0 < 5
    assert _downloads(cache) == [] and not list(cache.glob(".*"))


def test_online_data_is_the_file_data(online, cache, store, file_data, file_net):
    """The sample's whole extent downloaded reads as the file reads: same streets, and the
    same features but for the ways the file holds clipped (the server serves them closed)."""
    from fifteenmin.online import OnlineArea, read_online

    keys = load_catalogue("beijing").osm_keys()
    data = read_online(OnlineArea(bbox=SAMPLE_BOX), keys=keys)
    assert data.source == "bbox: " + ",".join(map(str, SAMPLE_BOX))
    assert data.clipped_ways == 0 and data.keys == file_data.keys
    net = network_from_file(data, retain_all=True, pedestrian_areas=False)
    assert net.n_nodes == file_net.n_nodes and net.n_edges == file_net.n_edges
    np.testing.assert_array_equal(np.sort(net.node_id), np.sort(file_net.node_id))
    assert _pairs(net)[0] == _pairs(file_net)[0]
    np.testing.assert_allclose(np.sort(net.edge_length), np.sort(file_net.edge_length))

    def keyed(f):
        return {(t, i): g for t, i, g in zip(f["osm_type"], f["osm_id"], f.geometry, strict=True)}

    on, off = keyed(data.features), keyed(file_data.features)
    assert set(off) <= set(on)
    assert all(shapely.equals(on[k], off[k]) for k in off)
    # the extra ones: ways that lost nodes in the clipped file
    import osmium

    clipped = {
        w.id
        for w in osmium.FileProcessor(str(SAMPLE), osmium.osm.WAY)
        if any(n.ref not in store.node_index for n in w.nodes)
    }
    extra = set(on) - set(off)
    assert extra and all(t == "way" and i in clipped for t, i in extra)


def test_online_errors_are_one_line(online, cache, store, tmp_path, capsys):
    def fails(args, fault=None):
        online.overpass_fault = fault
        try:
            rc, err = _report_cli([*args, "--out", str(tmp_path / "out")], capsys)
        finally:
            online.overpass_fault = None
        assert rc == 2 and len(err) == 1 and "Traceback" not in err[0], err
        return err[0]

    box = ["--bbox", ",".join(map(str, BBOX))]
    assert "is busy (HTTP 504" in fails(box, (504, "Gateway Timeout"))
    assert "is busy (HTTP 429" in fails(box, (429, "Too Many Requests"))
    page = osm_server_error_page("line 1: parse error: unknown type")
    msg = fails(box, (400, page))
    assert "refused the download (HTTP 400" in msg and "parse error: unknown type" in msg
    remark = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<remark> runtime error: Query timed out in "query" at line 1 after 31 seconds. '
        "</remark>\n</osm>\n"
    )
    assert "stopped the download" in fails(box, (200, remark)) and "Query timed out" in remark
    assert "not answer with OSM XML" in fails(box, (200, '{"elements": []}'))
    msg = fails(["--bbox", ",".join(map(str, FAR_AWAY_BBOX))])
    assert "holds no data in 'bbox: 24.9,60.1,24.91,60.105'" in msg
    assert "found no place 'Atlantis, Helsinki'" in fails(["--place", "Atlantis, Helsinki"])
    names = Counter(p["name"] for p in store.places)
    point = next(
        p["name"]
        for p in store.places
        if p["geojson"]["type"] == "Point" and names[p["name"]] == 1 and "," not in p["name"]
    )
    assert "only as a point" in fails(["--place", f"{point}, Helsinki"])
    # bad arguments, before any request
    n = len(online.requests)
    msg = fails([str(SAMPLE), "--place", PLACE])
    assert "give an OSM file or --place/--bbox, not both" in msg
    assert "west < east" in fails(["--bbox", "24.95,60.16,24.94,60.17"])
    assert len(online.requests) == n
    assert _downloads(cache) == [] and not list(cache.glob(".*"))
    # a cache folder that cannot be written
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ox.settings, "cache_folder", str(blocker / "cache"))
        msg = fails(box)
    assert "cannot keep the download in osmnx's cache folder" in msg


def osm_server_error_page(message):
    from osm_server import _overpass_error_page

    return _overpass_error_page(message)


def test_no_answer_fails_within_the_timeout(cache, monkeypatch, capsys, tmp_path):
    """A server that accepts and never answers: NetworkError after osmnx's requests_timeout."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    guard = LoopbackGuard().install(monkeypatch)
    monkeypatch.setattr(ox.settings, "overpass_url", url)
    monkeypatch.setattr(ox.settings, "requests_timeout", 1)
    monkeypatch.setattr(ox.settings, "requests_kwargs", {})
    try:
        t0 = time.perf_counter()
        rc, err = _report_cli(["--bbox", ",".join(map(str, BBOX)), "--out", str(tmp_path)], capsys)
        assert time.perf_counter() - t0 < 5
    finally:
        listener.close()
        for c in held:
            c.close()
    assert rc == 2 and len(err) == 1
    assert "cannot reach the Overpass API" in err[0] and "no answer in time" in err[0]
    assert not guard.blocked


def test_online_area_checks_and_cache_names(monkeypatch, tmp_path):
    from fifteenmin import ConfigError
    from fifteenmin.online import OnlineArea, source_name

    monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path))
    for bad in (
        {},
        {"place": "x", "bbox": BBOX},
        {"place": "  "},
        {"bbox": (1, 2, 3)},
        {"bbox": (24.95, 60.1, 24.94, 60.2)},
        {"bbox": (24.9, 60.1, 24.95, float("nan"))},
        {"polygon": shapely.Point(1, 2)},
        {"polygon": shapely.box(500000, 6600000, 501000, 6601000)},
    ):
        with pytest.raises(ConfigError):
            OnlineArea(**bad)
    a = OnlineArea(place=" Kamppi, Helsinki ")
    assert a.label == "place: Kamppi, Helsinki" and source_name(a.label) == a.label
    assert OnlineArea(polygon=PENTAGON).label.startswith("polygon: within 24.937000,60.164000")
    # named by the area, the keys and the settings that change the data; not by the timeout
    p = a.cache_path(["amenity"])
    assert p.parent == tmp_path and p.name.startswith("fifteenmin-") and p.suffix == ".osm"
    assert p == OnlineArea(place="Kamppi, Helsinki").cache_path(["amenity"])
    assert p == a.cache_path(["highway", "amenity"])  # both downloaded anyway
    assert p != a.cache_path(["amenity", "emergency"])
    assert p != OnlineArea(place="Kluuvi, Helsinki").cache_path(["amenity"])
    monkeypatch.setattr(ox.settings, "requests_timeout", 7)
    assert p == a.cache_path(["amenity"])
    monkeypatch.setattr(ox.settings, "overpass_settings", '[out:json][date:"2019-10-01T00:00:00Z"]')
    assert p != a.cache_path(["amenity"])


def test_overpass_slot_status_is_read():
    from fifteenmin.online import _slot_pause

    head = (
        "Connected as: 1\nCurrent time: 2024-01-01T00:00:00Z\nAnnounced endpoint: none\n"
        "Rate limit: 2\n"
    )
    assert _slot_pause(head + "2 slots available now.\n") == 0
    assert _slot_pause(head + "Slot available after: 2024-01-01T00:00:12Z, in 12 seconds.\n") == 12
    assert _slot_pause(head + "Currently running queries (pid, space limit):\n") > 0
    assert _slot_pause("<html>not found</html>") is None


def test_overpass_xml_of_the_replay_server_reads_with_pyosmium(online, tmp_path):
    import osmium

    ql = "[out:xml];way(4236349);(._;>;);out;"
    resp = requests.post(online.overpass_url + "/interpreter", data={"data": ql}, timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/osm3s")
    assert resp.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6"')
    path = tmp_path / "way.osm"
    path.write_text(resp.text, encoding="utf-8")
    kinds = Counter(type(o).__name__ for o in osmium.FileProcessor(str(path)))
    js = requests.post(
        online.overpass_url + "/interpreter", data={"data": ql.replace("xml", "json")}, timeout=30
    ).json()["elements"]
    assert kinds["Way"] == 1 and kinds["Node"] == sum(e["type"] == "node" for e in js)


def test_osmnx_downloads_offline_fail_in_one_line(store, monkeypatch):
    """network_from_place/bbox without a server: NetworkError, no requests traceback."""
    with OSMTestServer(store) as srv:
        guard = _point_osmnx_at(srv, monkeypatch)
    t0 = time.perf_counter()
    with pytest.raises(NetworkError, match=r"cannot download place .*connection refused") as exc:
        network_from_place(PLACE)
    assert "\n" not in str(exc.value)
    # without rate limiting (osmnx waits 60 s when the /status check fails)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    with pytest.raises(NetworkError, match=r"cannot download bbox .*connection refused"):
        network_from_bbox(BBOX)
    assert time.perf_counter() - t0 < 10
    assert not guard.blocked


def test_download_of_a_multipolygon(online, cache):
    """One ``poly:`` filter per part; the elements of both parts, none from between them."""
    from fifteenmin.online import OnlineArea, read_online

    west, east = (
        shapely.box(24.938, 60.165, 24.941, 60.168),
        shapely.box(24.947, 60.170, 24.950, 60.173),
    )
    data = read_online(OnlineArea(polygon=shapely.MultiPolygon([west, east])))
    ql = next(r.data for r in online.requests if r.service == "overpass")
    assert ql.count("(poly:") == 8  # four statements per part
    assert data.source.startswith("polygon: within 24.938000,60.165000,24.950000,60.173000")
    pts = data.features.geometry.representative_point()
    assert pts.intersects(west).any() and pts.intersects(east).any()
    gap = shapely.box(24.943, 60.1685, 24.945, 60.1695)  # between the parts, 200 m from both
    assert not data.features.geometry.intersects(gap).any()
