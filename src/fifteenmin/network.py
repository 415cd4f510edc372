"""Walking networks: from OSM files, from osmnx/networkx graphs, and online through osmnx.

The network is held as a compact array graph (:class:`WalkNetwork`): a CSR adjacency with
``int32`` node indices and edge lengths in metres (both directions of every street stored,
since a pedestrian may walk any way in both directions), node coordinates projected with pyproj
to a local metric CRS (the UTM zone of the area), and the street geometry of every edge.

Building steps, whatever the source:

1. walkable ways (osmnx's ``"walk"`` filter, see :func:`fifteenmin._osm.is_walkable`);
2. topology simplified like osmnx: a graph node is an OSM node where ways meet or end, and the
   nodes in between stay in the edge geometry;
3. geodesic edge lengths (pyproj ``Geod`` on the WGS-84 ellipsoid; osmnx's great-circle lengths
   on a sphere are 0.2-0.4 % shorter at 60° N, so graphs taken from osmnx keep their own
   ``length`` unless :func:`from_networkx` is told ``recompute_lengths=True``);
4. the largest connected component (``retain_all=False``, the default);
5. nodes renumbered along a Hilbert curve so that nearby nodes have nearby indices (the
   shortest-path kernel runs faster). User-visible ids (``node_id``, the OSM ids) do not change.

Differences from osmnx's "walk" network: local files are read with pyosmium (osmnx reads only
XML), clipped ways keep their in-file parts instead of failing, and the ``area=yes`` pedestrian
areas are left out exactly as osmnx leaves them out.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from . import _kernel
from ._errors import LayerError, NetworkError
from ._osm import OSMData, WalkWays, read_osm
from .online import request_failure

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "SnapResult",
    "WalkNetwork",
    "as_points",
    "from_networkx",
    "network_from_bbox",
    "network_from_file",
    "network_from_place",
    "network_from_polygon",
    "snap_points",
]


_GEOD = pyproj.Geod(ellps="WGS84")


def local_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the UTM CRS of the zone that contains ``(lon, lat)``.

    Parameters
    ----------
    lon, lat
        A point in WGS-84 degrees.

    Returns
    -------
    pyproj.CRS
        A metric CRS with an EPSG code.

    Examples
    --------
    >>> local_crs(116.35, 40.0).to_epsg()
    32650
    """
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise NetworkError(
            f"no UTM zone covers lon={lon}, lat={lat}: are the coordinates WGS-84 degrees?"
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A pedestrian network as arrays.

    Attributes
    ----------
    indptr, indices, lengths
        CSR adjacency of the directed arc graph (both directions of every edge):
        arcs of node ``i`` are ``indptr[i]:indptr[i+1]``, heads ``indices`` (int32), lengths
        in metres (float64).
    arc_edge
        For every arc, the index of its (undirected) edge.
    node_id
        OSM id of every node (int64), in internal order.
    x, y
        Projected coordinates in metres (CRS :attr:`crs`).
    lon, lat
        WGS-84 coordinates.
    edge_u, edge_v, edge_length
        End nodes (internal indices) and length in metres of every edge.
    edge_geometry
        Street geometry of every edge (shapely LineStrings, projected, from ``u`` to ``v``).
    edge_way, edge_name, edge_highway
        OSM way id, name and highway value of every edge.
    crs
        The local metric CRS.
    source
        Where the network came from.
    """

    indptr: np.ndarray
    indices: np.ndarray
    lengths: np.ndarray
    arc_edge: np.ndarray
    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    edge_way: np.ndarray
    edge_name: np.ndarray
    edge_highway: np.ndarray
    crs: pyproj.CRS
    source: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return len(self.edge_u)

    @property
    def total_length_km(self) -> float:
        """Total street length in kilometres."""
        return float(self.edge_length.sum() / 1000.0)

    def summary(self) -> dict[str, Any]:
        """Size of the network as a plain dict (for reports)."""
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "arcs": len(self.indices),
            "length_km": round(self.total_length_km, 3),
            "crs": self.crs.to_string(),
            # a file's name, never the local path it was read from
            "source": os.path.basename(self.source) if os.path.isfile(self.source) else self.source,
        }

    def __repr__(self) -> str:
        return (
            f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.total_length_km:,.1f} km, crs={self.crs.to_string()})"
        )

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.summary().items()
        )
        return f"<table><caption>WalkNetwork</caption>{rows}</table>"

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """STRtree of the edge geometries (built on first use)."""
        return shapely.STRtree(self.edge_geometry)

    def explore(self, **kwargs: Any) -> Any:
        """Interactive map of the streets (folium; works offline, see :mod:`fifteenmin._maps`).

        Examples
        --------
        >>> net.explore()  # doctest: +SKIP
        """
        from ._maps import explore_frame

        kwargs.setdefault("tooltip", ["name", "highway", "length"])
        return explore_frame(self.edges_gdf(), **kwargs)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame (index: internal node index; projected CRS).

        Examples
        --------
        >>> net = network_from_file(sample_path())  # doctest: +SKIP
        >>> net.nodes_gdf().columns.tolist()  # doctest: +SKIP
        ['node_id', 'lon', 'lat', 'geometry']
        """
        return gpd.GeoDataFrame(
            {"node_id": self.node_id, "lon": self.lon, "lat": self.lat},
            geometry=shapely.points(self.x, self.y),
            crs=self.crs,
        )

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (projected CRS), one row per undirected edge."""
        return gpd.GeoDataFrame(
            {
                "u": self.node_id[self.edge_u],
                "v": self.node_id[self.edge_v],
                "length": self.edge_length,
                "osmid": self.edge_way,
                "name": self.edge_name,
                "highway": self.edge_highway,
            },
            geometry=gpd.GeoSeries(self.edge_geometry, crs=self.crs),
            crs=self.crs,
        )

    def to_networkx(self) -> nx.MultiDiGraph:
        """Return an osmnx-compatible ``MultiDiGraph`` (WGS-84, both directions of every edge).

        Node keys are OSM node ids with ``x``/``y`` in degrees and ``street_count``; edges carry
        ``osmid``, ``length`` (m), ``geometry`` (WGS-84), ``highway``, ``name``, ``oneway`` and
        ``reversed``, as osmnx's walk graphs do, so osmnx functions accept the result.

        Examples
        --------
        >>> G = net.to_networkx()  # doctest: +SKIP
        >>> import osmnx as ox; ox.convert.graph_to_gdfs(G)  # doctest: +SKIP
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs="epsg:4326", created_with="fifteenmin", source=self.source)
        deg = np.bincount(self.edge_u, minlength=self.n_nodes) + np.bincount(
            self.edge_v, minlength=self.n_nodes
        )
        for i in range(self.n_nodes):
            G.add_node(
                int(self.node_id[i]),
                x=float(self.lon[i]),
                y=float(self.lat[i]),
                street_count=int(deg[i]),
            )
        to_wgs = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        geoms = shapely.transform(
            self.edge_geometry, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        )
        for e in range(self.n_edges):
            u = int(self.node_id[self.edge_u[e]])
            v = int(self.node_id[self.edge_v[e]])
            attrs = {
                "osmid": int(self.edge_way[e]),
                "length": float(self.edge_length[e]),
                "highway": self.edge_highway[e],
                "oneway": False,
            }
            if self.edge_name[e]:
                attrs["name"] = self.edge_name[e]
            g = geoms[e]
            G.add_edge(u, v, geometry=g, reversed=False, **attrs)
            if u != v:
                G.add_edge(v, u, geometry=g.reverse(), reversed=True, **attrs)
        return G


# --------------------------------------------------------------------------------------------
# assembling a network from edges


def _kept(
    n: int, edge_u: np.ndarray, edge_v: np.ndarray, retain_all: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and edges kept: the largest connected component, without isolated nodes."""
    if not retain_all:
        adj = sparse.coo_matrix((np.ones(len(edge_u)), (edge_u, edge_v)), shape=(n, n))
        _, comp = csgraph.connected_components(adj, directed=False)
        # largest component; ties broken by the smallest label (deterministic)
        sizes = np.bincount(comp)
        keep_node = comp == int(np.argmax(sizes))
        keep_edge = keep_node[edge_u]
    else:
        keep_node = np.ones(n, dtype=bool)
        keep_edge = np.ones(len(edge_u), dtype=bool)
    # every kept node must be on a kept edge (isolated nodes are dropped)
    used = np.zeros(n, dtype=bool)
    used[edge_u[keep_edge]] = True
    used[edge_v[keep_edge]] = True
    return keep_node & used, keep_edge


def _arcs(
    n: int, eu: np.ndarray, ev: np.ndarray, elen: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the arcs (both directions of every edge): indptr, heads, lengths, edge ids."""
    m = len(eu)
    tail = np.concatenate([eu, ev])
    head = np.concatenate([ev, eu])
    arc_edge = np.concatenate([np.arange(m), np.arange(m)]).astype(np.int32)
    arc_len = np.concatenate([elen, elen])
    aorder = np.lexsort((arc_edge, head, tail))
    tail, head, arc_edge, arc_len = tail[aorder], head[aorder], arc_edge[aorder], arc_len[aorder]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return indptr, head, arc_len, arc_edge


def _assemble(
    node_osm: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_length: np.ndarray,
    edge_lonlat: np.ndarray,
    edge_way: np.ndarray,
    edge_name: np.ndarray,
    edge_highway: np.ndarray,
    source: str,
    retain_all: bool,
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from nodes and undirected edges (WGS-84 geometries)."""
    n = len(node_osm)
    if len(edge_u) == 0 or n == 0:
        raise NetworkError(
            f"{source}: no walkable streets were found, so no walking network can be built. "
            "Check that the area holds highway=* ways pedestrians may use."
        )
    keep_node, keep_edge = _kept(n, edge_u, edge_v, retain_all)

    old = np.flatnonzero(keep_node)
    lon = node_lon[old]
    lat = node_lat[old]
    crs = local_crs(float(np.mean(lon)), float(np.mean(lat)))
    to_local = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_local.transform(lon, lat)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)

    order = _kernel.spatial_order(x, y)
    new_of_old = np.full(n, -1, dtype=np.int64)
    new_of_old[old[order]] = np.arange(len(old))
    x, y, lon, lat = x[order], y[order], lon[order], lat[order]
    nid = node_osm[old][order]

    eu = new_of_old[edge_u[keep_edge]].astype(np.int32)
    ev = new_of_old[edge_v[keep_edge]].astype(np.int32)
    elen = edge_length[keep_edge].astype(np.float64)
    egeom = shapely.transform(
        edge_lonlat[keep_edge],
        lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1])),
    )
    eway = edge_way[keep_edge].astype(np.int64)
    ename = edge_name[keep_edge]
    ehw = edge_highway[keep_edge]
    # deterministic edge order: by (u, v, length, way)
    eorder = np.lexsort((eway, elen, ev, eu))
    eu, ev, elen, egeom, eway, ename, ehw = (
        a[eorder] for a in (eu, ev, elen, egeom, eway, ename, ehw)
    )

    indptr, head, arc_len, arc_edge = _arcs(len(nid), eu, ev, elen)
    return WalkNetwork(
        indptr=indptr,
        indices=head.astype(np.int32),
        lengths=arc_len,
        arc_edge=arc_edge,
        node_id=nid.astype(np.int64),
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        edge_u=eu,
        edge_v=ev,
        edge_length=elen,
        edge_geometry=egeom,
        edge_way=eway,
        edge_name=ename,
        edge_highway=ehw,
        crs=crs,
        source=source,
    )


def _from_ways(ways: WalkWays, source: str, retain_all: bool) -> WalkNetwork:
    """Simplify walkable way parts into nodes and edges, then assemble."""
    n_pos = len(ways.node_id)
    if n_pos == 0:
        raise NetworkError(
            f"{source}: the file holds no walkable ways (highway=* ways open to pedestrians). "
            "Use an extract that contains streets or footpaths."
        )
    ptr = ways.ptr
    part_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    uniq, inverse, counts = np.unique(ways.node_id, return_inverse=True, return_counts=True)
    kept = counts[inverse] >= 2  # shared by several ways (or twice in one way)
    kept[ptr[:-1]] = True  # part start
    kept[ptr[1:] - 1] = True  # part end

    # segment lengths between consecutive positions (geodesic)
    _, _, seg = _GEOD.inv(ways.lon[:-1], ways.lat[:-1], ways.lon[1:], ways.lat[1:])
    seg = np.asarray(seg, dtype=np.float64)
    seg[part_of[:-1] != part_of[1:]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    kp = np.flatnonzero(kept)
    same = part_of[kp[:-1]] == part_of[kp[1:]]
    a = kp[:-1][same]
    b = kp[1:][same]
    length = cum[b] - cum[a]
    # coordinates of each edge: positions a..b inclusive
    npts = b - a + 1
    edge_idx = np.repeat(np.arange(len(a)), npts)
    pos = np.repeat(a - np.concatenate([[0], np.cumsum(npts)[:-1]]), npts) + np.arange(npts.sum())
    coords = np.column_stack([ways.lon[pos], ways.lat[pos]])
    geoms = shapely.linestrings(coords, indices=edge_idx)

    node_index = inverse  # position -> index into uniq
    u = node_index[a]
    v = node_index[b]
    # drop zero-length self-loops (a way closing on itself with no length)
    ok = ~((u == v) & (length <= 0))
    first_pos = np.full(len(uniq), -1, dtype=np.int64)
    first_pos[inverse[::-1]] = np.arange(n_pos)[::-1]
    part = part_of[a]
    names = np.array([ways.tags[p].get("name", "") for p in part], dtype=object)
    hws = np.array([ways.tags[p].get("highway", "") for p in part], dtype=object)
    return _assemble(
        node_osm=uniq,
        node_lon=ways.lon[first_pos],
        node_lat=ways.lat[first_pos],
        edge_u=u[ok],
        edge_v=v[ok],
        edge_length=length[ok],
        edge_lonlat=geoms[ok],
        edge_way=ways.way_id[part][ok],
        edge_name=names[ok],
        edge_highway=hws[ok],
        source=source,
        retain_all=retain_all,
    )


def network_from_file(
    path: str | os.PathLike[str] | OSMData, *, retain_all: bool = False
) -> WalkNetwork:
    """Build the walking network of a local OSM file.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file, or :class:`~fifteenmin._osm.OSMData`
        already read from one (so that a file is parsed once for network and facilities).
    retain_all
        Keep every connected component instead of only the largest.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputFileError, OSMFileError
        Missing or unreadable file.
    NetworkError
        The file holds no walkable ways.

    Warns
    -----
    UserWarning
        When ways reference nodes missing from the file (a clipped extract); their in-file
        parts are kept.

    Examples
    --------
    >>> from fifteenmin import network_from_file, sample_path
    >>> net = network_from_file(sample_path())
    >>> net.n_nodes > 1000
    True
    """
    data = path if isinstance(path, OSMData) else read_osm(path)
    return _from_ways(data.ways, data.source, retain_all)


# --------------------------------------------------------------------------------------------
# networkx / osmnx interoperability


def _graph_nodes(
    G: nx.Graph, nodes: list[Any], source: str
) -> tuple[pyproj.Transformer, np.ndarray, np.ndarray, np.ndarray]:
    """The graph's transformer to WGS-84, node lon/lat and OSM ids (else 0..n-1)."""
    crs = pyproj.CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    try:
        xs = np.array([G.nodes[k]["x"] for k in nodes], dtype=np.float64)
        ys = np.array([G.nodes[k]["y"] for k in nodes], dtype=np.float64)
    except KeyError as exc:
        raise NetworkError(
            f"{source}: every node needs 'x' and 'y' coordinates (osmnx graphs have them); "
            f"a node lacks {exc}."
        ) from exc
    to_wgs = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = (np.asarray(c, dtype=np.float64) for c in to_wgs.transform(xs, ys))
    try:
        osm_ids = np.array(nodes, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        osm_ids = np.arange(len(nodes), dtype=np.int64)
    return to_wgs, lon, lat, osm_ids


def _edge_geometry(
    d: dict[str, Any],
    start: tuple[float, float],
    end: tuple[float, float],
    to_wgs: pyproj.Transformer,
    recompute_length: bool,
) -> tuple[shapely.LineString, float]:
    """An edge's WGS-84 line and its length (the ``length`` attribute, else geodesic)."""
    geom = d.get("geometry")
    if geom is None:
        geom_ll = shapely.LineString([start, end])
    else:
        geom_ll = shapely.transform(
            geom, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        )
    length = None if recompute_length else d.get("length")
    if length is None:
        c = np.asarray(geom_ll.coords)
        length = float(np.sum(_GEOD.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])[2]))
    return geom_ll, float(length)


def from_networkx(
    G: nx.Graph,
    *,
    retain_all: bool = False,
    recompute_lengths: bool = False,
    source: str = "networkx",
) -> WalkNetwork:
    """Convert an osmnx/networkx graph into a :class:`WalkNetwork`.

    Nodes need ``x`` and ``y`` in the graph's CRS (``G.graph["crs"]``, WGS-84 if absent).
    Edge lengths come from the ``length`` attribute (metres), else from the geometry. Every
    edge is walkable in both directions (walking ignores ``oneway``); the two directions of a
    street stored by osmnx become one edge.

    Parameters
    ----------
    G
        A ``networkx`` graph, e.g. from ``osmnx.graph_from_place(..., network_type="walk")``.
    retain_all
        Keep every connected component instead of only the largest.
    recompute_lengths
        Measure every edge on the WGS-84 ellipsoid from its geometry (as
        :func:`network_from_file` does) instead of using the ``length`` attribute.
    source
        A label stored in the network.

    Returns
    -------
    WalkNetwork

    Examples
    --------
    >>> import osmnx as ox  # doctest: +SKIP
    >>> G = ox.graph_from_xml("map.osm")  # doctest: +SKIP
    >>> net = from_networkx(G)  # doctest: +SKIP
    """
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise NetworkError(f"{source}: the graph has no edges; nothing to walk on.")
    nodes = list(G.nodes)
    to_wgs, lon, lat, osm_ids = _graph_nodes(G, nodes, source)
    index = {k: i for i, k in enumerate(nodes)}

    us, vs, lens, geoms, ways, names, hws = [], [], [], [], [], [], []
    seen: set[tuple[int, int, float, tuple[str, ...]]] = set()
    edges = (
        G.edges(keys=True, data=True)
        if G.is_multigraph()
        else ((u, v, 0, d) for u, v, d in G.edges(data=True))
    )
    for u, v, _k, d in edges:
        iu, iv = index[u], index[v]
        geom_ll, length = _edge_geometry(
            d, (lon[iu], lat[iu]), (lon[iv], lat[iv]), to_wgs, recompute_lengths
        )
        osmid = d.get("osmid", -1)
        # osmnx lists the ways of a simplified edge in a different order for each direction
        way_key = tuple(sorted(map(str, osmid))) if isinstance(osmid, list) else (str(osmid),)
        if isinstance(osmid, list):
            osmid = min(osmid)
        a, b = (iu, iv) if iu <= iv else (iv, iu)
        # the two directions osmnx stores for a street are one walkable edge
        key = (a, b, round(length, 3), way_key)
        if key in seen:
            continue
        seen.add(key)
        if iu > iv:
            geom_ll = geom_ll.reverse()
        name = d.get("name", "")
        if isinstance(name, list):
            name = ";".join(map(str, name))
        hw = d.get("highway", "")
        if isinstance(hw, list):
            hw = ";".join(map(str, hw))
        us.append(a)
        vs.append(b)
        lens.append(length)
        geoms.append(geom_ll)
        ways.append(int(osmid) if str(osmid).lstrip("-").isdigit() else -1)
        names.append(str(name) if name is not None else "")
        hws.append(str(hw))
    return _assemble(
        node_osm=osm_ids,
        node_lon=lon,
        node_lat=lat,
        edge_u=np.asarray(us, dtype=np.int64),
        edge_v=np.asarray(vs, dtype=np.int64),
        edge_length=np.asarray(lens, dtype=np.float64),
        edge_lonlat=np.asarray(geoms, dtype=object),
        edge_way=np.asarray(ways, dtype=np.int64),
        edge_name=np.asarray(names, dtype=object),
        edge_highway=np.asarray(hws, dtype=object),
        source=source,
        retain_all=retain_all,
    )


# --------------------------------------------------------------------------------------------
# online, through osmnx


@contextmanager
def _osmnx_errors(area: str) -> Iterator[None]:
    """Turn osmnx's "nothing here" answers and failed requests into one-line NetworkErrors."""
    import osmnx as ox
    import requests
    from osmnx._errors import InsufficientResponseError

    try:
        yield
    except requests.RequestException as exc:
        raise NetworkError(
            f"cannot download {area} through osmnx ({request_failure(exc)}; Overpass "
            f"{ox.settings.overpass_url}, Nominatim {ox.settings.nominatim_url}). Connect to "
            "the internet, or build the network of a local OSM file with network_from_file."
        ) from exc
    except InsufficientResponseError as exc:
        raise NetworkError(
            f"OpenStreetMap returned no walkable streets for {area} ({exc}). Check the area, "
            "or use a larger one."
        ) from exc
    except (ValueError, TypeError) as exc:
        if isinstance(exc, NetworkError):
            raise
        raise NetworkError(
            f"no walking network could be built for {area}: {exc}. A place name must geocode "
            "to a (multi)polygon; try a polygon or bbox instead."
        ) from exc


def network_from_place(query: str | dict[str, str], *, retain_all: bool = False) -> WalkNetwork:
    """Download the walking network of a named place through osmnx (Nominatim + Overpass).

    Parameters
    ----------
    query
        A place name (``"Haidian District, Beijing"``) or a structured Nominatim query.
    retain_all
        Keep every connected component.

    Returns
    -------
    WalkNetwork

    Examples
    --------
    >>> net = network_from_place("Kamppi, Helsinki")  # doctest: +SKIP
    """
    import osmnx as ox

    with _osmnx_errors(f"place {query!r}"):
        G = ox.graph_from_place(query, network_type="walk", simplify=True, retain_all=True)
    return from_networkx(G, retain_all=retain_all, source=f"osmnx place {query!r}")


def network_from_polygon(polygon: shapely.Geometry, *, retain_all: bool = False) -> WalkNetwork:
    """Download the walking network inside a WGS-84 (multi)polygon through osmnx.

    Examples
    --------
    >>> from shapely import box
    >>> net = network_from_polygon(box(24.935, 60.164, 24.953, 60.179))  # doctest: +SKIP
    """
    import osmnx as ox

    with _osmnx_errors("the polygon"):
        G = ox.graph_from_polygon(polygon, network_type="walk", simplify=True, retain_all=True)
    return from_networkx(G, retain_all=retain_all, source="osmnx polygon")


def network_from_bbox(
    bbox: tuple[float, float, float, float], *, retain_all: bool = False
) -> WalkNetwork:
    """Download the walking network inside ``(left, bottom, right, top)`` (WGS-84) through osmnx.

    Examples
    --------
    >>> net = network_from_bbox((24.935, 60.164, 24.953, 60.179))  # doctest: +SKIP
    """
    import osmnx as ox

    with _osmnx_errors(f"bbox {tuple(bbox)}"):
        G = ox.graph_from_bbox(bbox, network_type="walk", simplify=True, retain_all=True)
    return from_networkx(G, retain_all=retain_all, source=f"osmnx bbox {tuple(bbox)}")


# --------------------------------------------------------------------------------------------
# snapping points onto edges


@dataclass(frozen=True)
class SnapResult:
    """Points snapped onto the nearest edge.

    Attributes
    ----------
    edge
        Edge index per point (int64).
    offset
        Metres along the edge from its ``u`` end (in the edge's length units).
    access
        Straight-line distance in metres from the point to the edge.
    """

    edge: np.ndarray
    offset: np.ndarray
    access: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)


def as_points(net: WalkNetwork, points: Any) -> np.ndarray:
    """Coerce a GeoDataFrame/GeoSeries/array of points to shapely points in ``net.crs``.

    Parameters
    ----------
    net
        The walking network (its ``crs`` is the target).
    points
        A GeoDataFrame or GeoSeries with a CRS (reprojected), shapely points in ``net.crs``,
        or an ``(n, 2)`` array of x/y in ``net.crs``.

    Returns
    -------
    numpy.ndarray
        Shapely points in ``net.crs``.

    Raises
    ------
    LayerError
        A GeoDataFrame or GeoSeries without a CRS.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> net = fm.network_from_file(fm.sample_path())
    >>> len(as_points(net, [[net.x[0], net.y[0]]]))
    1
    """
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is None:
            raise LayerError(
                "the points have no CRS: set one (e.g. gdf.set_crs('EPSG:4326')) before snapping."
            )
        return np.asarray(points.to_crs(net.crs).values, dtype=object)
    arr = np.asarray(points)
    if arr.dtype == object:
        return arr
    arr = np.asarray(arr, dtype=np.float64).reshape(-1, 2)
    return shapely.points(arr[:, 0], arr[:, 1])


def _snap_on_nodes(
    net: WalkNetwork, geoms: np.ndarray, edge: np.ndarray, access: np.ndarray
) -> np.ndarray:
    """Snap the points that lie exactly on a network node; return the positions of the rest.

    Such a point (e.g. a candidate site at a node) is at distance 0 from the edges through it:
    the nearest edges are those of distance exactly 0 among the edges it intersects, and the
    smallest index among them is what the nearest-edge query of :func:`snap_points` chooses,
    for a fraction of its cost. Points where no intersected edge is at distance exactly 0 are
    left to that query.
    """
    n = len(geoms)
    if n == 0 or net.n_nodes == 0:
        return np.arange(n)
    key = np.sort(net.x + 1j * net.y)
    pkey = shapely.get_x(geoms) + 1j * shapely.get_y(geoms)
    at = np.minimum(np.searchsorted(key, pkey), len(key) - 1)
    on = np.flatnonzero(key[at] == pkey)
    if len(on) == 0:
        return np.arange(n)
    pi, ei = net.edge_tree.query(geoms[on], predicate="intersects")
    d = shapely.distance(geoms[on][pi], net.edge_geometry[ei])
    hit = d == 0.0
    pi, ei = pi[hit], ei[hit]
    order = np.lexsort((ei, pi))
    pi, ei = pi[order], ei[order]
    first = np.concatenate([[True], pi[1:] != pi[:-1]])[: len(pi)]
    edge[on[pi[first]]] = ei[first]
    access[on[pi[first]]] = 0.0
    done = np.zeros(n, dtype=bool)
    done[on[pi[first]]] = True
    return np.flatnonzero(~done)


def snap_points(net: WalkNetwork, points: Any) -> SnapResult:
    """Snap points onto the nearest edge of the network (not the nearest node).

    The walk along the edge to either end and the straight-line access distance are both
    kept, so travel times count ``access + offset`` to ``u`` and
    ``access + length - offset`` to ``v``.

    Parameters
    ----------
    net
        The network.
    points
        A GeoDataFrame/GeoSeries with a CRS (reprojected to ``net.crs``), an array of
        shapely points already in ``net.crs``, or an ``(n, 2)`` array of projected x/y.
        Non-point geometries snap through their representative point.

    Returns
    -------
    SnapResult

    Examples
    --------
    >>> snapped = snap_points(net, homes_gdf)  # doctest: +SKIP
    >>> snapped.access.max()  # doctest: +SKIP
    """
    geoms = as_points(net, points)
    if len(geoms) == 0:
        z = np.zeros(0)
        return SnapResult(np.zeros(0, dtype=np.int64), z, z)
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    edge = np.empty(len(geoms), dtype=np.int64)
    access = np.empty(len(geoms), dtype=np.float64)
    rest = _snap_on_nodes(net, geoms, edge, access)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (pi, ei), dist = net.edge_tree.query_nearest(
            geoms[rest], return_distance=True, all_matches=True
        )
    # deterministic choice among equidistant edges: smallest edge index
    order = np.lexsort((ei, pi))
    pi, ei, dist = pi[order], ei[order], dist[order]
    first = np.concatenate([[True], pi[1:] != pi[:-1]])[: len(pi)]
    pi, ei, dist = rest[pi[first]], ei[first], dist[first]
    edge[pi] = ei
    access[pi] = dist
    lines = net.edge_geometry[edge]
    along = shapely.line_locate_point(lines, geoms)
    geom_len = shapely.length(lines)
    frac = np.divide(along, geom_len, out=np.zeros_like(along), where=geom_len > 0)
    offset = np.clip(frac, 0.0, 1.0) * net.edge_length[edge]
    return SnapResult(edge=edge, offset=offset, access=access)
