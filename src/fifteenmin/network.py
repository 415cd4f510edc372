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
XML), clipped ways keep their in-file parts instead of failing, and pedestrian areas (squares
and plazas: ``highway=pedestrian|footway`` + ``area=yes``, or such multipolygons; see
:func:`fifteenmin._osm.is_pedestrian_area`), which osmnx leaves out, are walkable by default
(``pedestrian_areas=True``, :data:`fifteenmin.settings.PEDESTRIAN_AREAS`):

* their outline (every ring, holes too) becomes walkable, except the stretches that already
  are walkable ways;
* their *entrances* are the outline nodes that other walkable ways share (a path that meets
  the outline without sharing a node does not enter). Entrances and the area's reflex corners
  (the inner corners of an L-shaped square, the corners of a hole such as a fountain) are
  joined pairwise by straight *crossings* wherever the straight line stays inside the area
  (5 cm tolerance): a visibility graph, so the walk between two entrances is the shortest
  path inside the area (straight when the entrances see each other, else bending round
  corners and holes). Of these crossings, those on a shortest path between two entrances
  are candidates, none that just runs along the outline (within 0.5 m of it all the way,
  walkable already); they are added shortest first, each only when the walk between its
  ends over the outline, the walkable ways inside the area (a footway mapped across a
  square) and the crossings added so far is more than
  :data:`fifteenmin.settings.PEDESTRIAN_AREA_STRETCH` (1.05) times its length (a greedy
  spanner). So a walk across an area is at most 5 % longer than the shortest path inside
  it, and a long square with many entrances does not fill with near-parallel crossings. A
  crossing's length is the geodesic distance between its ends. An area with fewer than two
  entrances gets no crossings.

``pedestrian_areas=False`` gives osmnx's walk network exactly. The added outline and crossing
metres are logged (INFO) with the network length with and without them.
"""

from __future__ import annotations

import heapq
import os
import warnings
import weakref
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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

from . import _kernel, _snap, settings
from ._errors import LayerError, NetworkError
from ._osm import OSMData, PedestrianArea, WalkWays, read_osm
from ._progress import logger
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
    "pedestrian_area_ways",
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
        OSM way id, name and highway value of every edge (for the outline and crossings of
        a pedestrian area: the area's id, a relation's id for a multipolygon).
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

    def release_edge_tree(self) -> None:
        """Let the cached :attr:`edge_tree` go (about 230 MB at a million nodes).

        It is built again, the same, on its next use.

        Examples
        --------
        >>> from fifteenmin import network_from_file, sample_path
        >>> net = network_from_file(sample_path())
        >>> tree = net.edge_tree
        >>> net.release_edge_tree()
        >>> len(net.edge_tree) == len(tree)
        True
        """
        vars(self).pop("edge_tree", None)

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


@dataclass(frozen=True, eq=False)
class AreaFrame:
    """What the network of a part of an area (a tile) takes from the whole area's network.

    With it, the part's network is the whole network's, node for node, where the part's data
    is complete (:mod:`fifteenmin.tiles`): the same CRS, the same largest component and the
    same relative order of the nodes (the Hilbert order over the whole area's box).

    Attributes
    ----------
    crs
        The whole network's CRS.
    node_ids
        The sorted OSM ids of the whole network's nodes (its largest component).
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the whole network's nodes in ``crs``.
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    bounds: tuple[float, float, float, float]


def _kept(
    n: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    retain_all: bool,
    component: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and edges kept: the largest connected component, without isolated nodes.

    ``component``: which nodes belong to the largest component of a whole area this data is a
    part of (:class:`AreaFrame`), in place of this data's own largest component.
    """
    if component is not None:  # a part of an area (a tile): the area's component
        keep_node = component
        keep_edge = component[edge_u] & component[edge_v]
    elif not retain_all:
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


def _edge_order(
    eu: np.ndarray, ev: np.ndarray, elen: np.ndarray, eway: np.ndarray, n: int
) -> np.ndarray:
    """Deterministic edge order: by (u, v, length, way), as ``np.lexsort`` of the four gives.

    Sorted stably by (u, v) as one integer; the few runs of equal (u, v) (parallel edges)
    are then ordered by length and way.
    """
    order = _order_by(eu, ev, n)
    k = eu.astype(np.int64)[order] * max(n, 1) + ev[order]
    dup = k[1:] == k[:-1]
    if dup.any():
        tied = np.zeros(len(k), dtype=bool)
        tied[1:] |= dup
        tied[:-1] |= dup
        at = np.flatnonzero(tied)
        sub = order[at]
        order[at] = sub[np.lexsort((eway[sub], elen[sub], k[at]))]
    return order


def _position_bits(n: int) -> int:
    """Bits that hold a position in ``range(n)``."""
    return max(n - 1, 1).bit_length()


def _packs(n: int, bound: int) -> bool:
    """Whether ``n`` keys in ``[0, bound)`` and their positions fit in one int64 each."""
    return bound <= 1 << (63 - _position_bits(n))


def _stable_order(key: np.ndarray, bound: int) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for integer keys in ``[0, bound)``.

    Each key is packed with its position into one int64 (when both fit) and the packed
    values sorted by value (numpy's vectorised sort, several times faster than a stable
    argsort); the positions, read back, are the stable order, as no two packed values tie.
    """
    n = len(key)
    if not _packs(n, bound):
        return np.argsort(key, kind="stable")
    bits = _position_bits(n)
    packed = key.astype(np.int64) << bits
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed


def _order_by(major: np.ndarray, minor: np.ndarray, n: int) -> np.ndarray:
    """The stable order of sorting by ``(major, minor)``, both integers in ``[0, n)``.

    One sort of ``major * n + minor`` when that fits :func:`_stable_order`, else two stable
    sorts (by ``minor``, then by ``major``).
    """
    n = max(n, 1)
    if _packs(len(major), n * n):
        return _stable_order(major.astype(np.int64) * n + minor, n * n)
    by_minor = _stable_order(minor, n)
    return by_minor[_stable_order(major[by_minor], n)]


def _unique_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True, return_counts=True)`` of int64 ids.

    The same three arrays, from :func:`_stable_order` (any order that sorts gives them).
    """
    lo, hi = (int(ids.min()), int(ids.max())) if len(ids) else (0, 0)
    if len(ids) == 0 or not _packs(len(ids), hi - lo + 1):
        return np.unique(ids, return_inverse=True, return_counts=True)
    order = _stable_order(ids - lo, hi - lo + 1)
    s = ids[order]
    new = np.empty(len(s), dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    inverse = np.empty(len(s), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    return s[starts], inverse, np.diff(np.append(starts, len(s)))


def _arcs(
    n: int, eu: np.ndarray, ev: np.ndarray, elen: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the arcs (both directions of every edge): indptr, heads, lengths, edge ids."""
    m = len(eu)
    # arcs in edge order (u -> v, then v -> u, of each edge), then sorted stably by (tail,
    # head): the order of sorting by (tail, head, edge) with the arcs of one self-loop in
    # that order, as lexsort of the two halves gave
    tail = np.empty(2 * m, dtype=np.int64)
    head = np.empty(2 * m, dtype=np.int64)
    tail[0::2], tail[1::2] = eu, ev
    head[0::2], head[1::2] = ev, eu
    aorder = _order_by(tail, head, n)
    tail, head = tail[aorder], head[aorder]
    arc_edge = (aorder // 2).astype(np.int32)
    arc_len = elen[arc_edge]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return indptr, head, arc_len, arc_edge


def _kept_lines(
    point: np.ndarray, line: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The vertices (points) of the lines ``keep`` (a mask), lines renumbered 0..k-1 in order.

    ``point`` and ``line``: per vertex of every line, its point and its line.
    """
    at = keep[line]
    return point[at], (np.cumsum(keep) - 1)[line[at]]


def _assemble(
    node_osm: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_length: np.ndarray,
    edge_points: tuple[np.ndarray, np.ndarray, np.ndarray],
    edge_way: np.ndarray,
    edge_name: np.ndarray,
    edge_highway: np.ndarray,
    source: str,
    retain_all: bool,
    area: AreaFrame | None = None,
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from nodes and undirected edges.

    ``edge_points`` holds WGS-84 points, ``(p, 2)``, and per vertex of the edges' lines its
    point and its edge (ascending): the edges' coordinates are ``points[point]``, as
    :func:`shapely.get_coordinates` gives them with ``return_index=True``. A point shared by
    several lines (a way's node at the end of two edges) is projected once.
    """
    n = len(node_osm)
    if len(edge_u) == 0 or n == 0:
        raise NetworkError(
            f"{source}: no walkable streets were found, so no walking network can be built. "
            "Check that the area holds highway=* ways pedestrians may use."
        )
    component = None if area is None else np.isin(node_osm, area.node_ids)
    keep_node, keep_edge = _kept(n, edge_u, edge_v, retain_all, component)

    old = np.flatnonzero(keep_node)
    lon = node_lon[old]
    lat = node_lat[old]
    crs = area.crs if area is not None else local_crs(float(np.mean(lon)), float(np.mean(lat)))
    # the kept edges' lines, in a second thread (pyproj and much of GEOS release the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        points, point, line = edge_points
        lines = pool.submit(_local_lines, crs, points, *_kept_lines(point, line, keep_edge))
        eway = edge_way[keep_edge].astype(np.int64)
        edges = (edge_u[keep_edge], edge_v[keep_edge], edge_length[keep_edge], eway)
        net = _ordered(crs, lon, lat, old, node_osm, n, *edges, area=area)
        egeom = lines.result()
    (x, y, lon, lat, nid), (eu, ev, elen, eorder), (indptr, head, arc_len, arc_edge) = net
    eway = eway[eorder]
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
        edge_geometry=egeom[eorder],
        edge_way=eway,
        edge_name=edge_name[keep_edge][eorder],
        edge_highway=edge_highway[keep_edge][eorder],
        crs=crs,
        source=source,
    )


def _local_lines(
    crs: pyproj.CRS, lonlat: np.ndarray, point: np.ndarray, line: np.ndarray
) -> np.ndarray:
    """Lines projected to ``crs``: per vertex its WGS-84 point (``lonlat[point]``) and line.

    The points are transformed at once, each once (no WGS-84 lines made and transformed), by
    a transformer of this thread's own.
    """
    to_local = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ex, ey = to_local.transform(lonlat[:, 0], lonlat[:, 1])
    return shapely.linestrings(np.column_stack([ex, ey])[point], indices=line)


def _ordered(
    crs: pyproj.CRS,
    lon: np.ndarray,
    lat: np.ndarray,
    old: np.ndarray,
    node_osm: np.ndarray,
    n: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_length: np.ndarray,
    eway: np.ndarray,
    area: AreaFrame | None = None,
) -> tuple[
    tuple[np.ndarray, ...],
    tuple[np.ndarray, ...],
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
]:
    """Nodes, edges and arcs of the network, from the kept nodes and edges.

    The kept nodes (positions ``old`` of ``n``) projected to ``crs`` and in spatial order
    (within ``area``'s Hilbert frame for a part of an area: a tile); the kept edges
    renumbered and in deterministic order, with that order; the arcs.
    """
    to_local = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_local.transform(lon, lat)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)

    if area is None:
        order = _kernel.spatial_order(x, y)
    else:  # the area's Hilbert frame: its two corners join the nodes, then leave the order
        x0, y0, x1, y1 = area.bounds
        order = _kernel.spatial_order(np.r_[x, x0, x1], np.r_[y, y0, y1])
        order = order[order < len(x)]
    new_of_old = np.full(n, -1, dtype=np.int64)
    new_of_old[old[order]] = np.arange(len(old))
    x, y, lon, lat = x[order], y[order], lon[order], lat[order]
    nid = node_osm[old][order]

    eu = new_of_old[edge_u].astype(np.int32)
    ev = new_of_old[edge_v].astype(np.int32)
    elen = edge_length.astype(np.float64)
    eorder = _edge_order(eu, ev, elen, eway, len(nid))
    eu, ev, elen = eu[eorder], ev[eorder], elen[eorder]
    return (x, y, lon, lat, nid), (eu, ev, elen, eorder), _arcs(len(nid), eu, ev, elen)


def _from_ways(
    ways: WalkWays,
    source: str,
    retain_all: bool,
    area: AreaFrame | None = None,
    cum_start: np.ndarray | None = None,
) -> WalkNetwork:
    """Simplify walkable way parts into nodes and edges, then assemble.

    ``area`` and ``cum_start`` (:func:`_cumulative`): for a part of an area (a tile).
    """
    n_pos = len(ways.node_id)
    if n_pos == 0:
        raise NetworkError(
            f"{source}: the file holds no walkable ways (highway=* ways open to pedestrians). "
            "Use an extract that contains streets or footpaths."
        )
    ptr = ways.ptr
    part_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    with ThreadPoolExecutor(max_workers=2) as pool:
        geod = _segment_lengths(pool, ways.lon, ways.lat)
        uniq, inverse, counts = _unique_ids(ways.node_id)
        kept = counts[inverse] >= 2  # shared by several ways (or twice in one way)
        kept[ptr[:-1]] = True  # part start
        kept[ptr[1:] - 1] = True  # part end
        kp = np.flatnonzero(kept)
        same = part_of[kp[:-1]] == part_of[kp[1:]]
        a = kp[:-1][same]
        b = kp[1:][same]
        # coordinates of each edge: positions a..b inclusive
        npts = b - a + 1
        edge_idx = np.repeat(np.arange(len(a)), npts)
        pos = np.repeat(a - np.concatenate([[0], np.cumsum(npts)[:-1]]), npts)
        pos += np.arange(npts.sum())
        part = part_of[a]
        # names and highway values per way part, then per edge (the same str objects)
        names = np.array([t.get("name", "") for t in ways.tags], dtype=object)[part]
        hws = np.array([t.get("highway", "") for t in ways.tags], dtype=object)[part]
        seg = np.concatenate([np.asarray(f.result(), dtype=np.float64) for f in geod])
    seg[part_of[:-1] != part_of[1:]] = 0.0
    cum = _cumulative(seg, ptr, cum_start)
    length = cum[b] - cum[a]

    node_index = inverse  # position -> index into uniq
    u = node_index[a]
    v = node_index[b]
    # drop zero-length self-loops (a way closing on itself with no length)
    ok = ~((u == v) & (length <= 0))
    first_pos = np.full(len(uniq), -1, dtype=np.int64)
    first_pos[inverse[::-1]] = np.arange(n_pos)[::-1]
    return _assemble(
        node_osm=uniq,
        node_lon=ways.lon[first_pos],
        node_lat=ways.lat[first_pos],
        edge_u=u[ok],
        edge_v=v[ok],
        edge_length=length[ok],
        edge_points=(np.column_stack([ways.lon, ways.lat]), *_kept_lines(pos, edge_idx, ok)),
        edge_way=ways.way_id[part][ok],
        edge_name=names[ok],
        edge_highway=hws[ok],
        source=source,
        retain_all=retain_all,
        area=area,
    )


def _segment_lengths(
    pool: ThreadPoolExecutor, lon: np.ndarray, lat: np.ndarray
) -> list[Future[list[float]]]:
    """The geodesic lengths between consecutive points, in two halves on ``pool``'s threads.

    The distances of ``Geod.inv`` without its azimuths (``Geod.line_lengths``, which releases
    the GIL); each segment is measured alone, so the halves join into the whole's lengths.
    """
    half = max(len(lon) // 2, 1)
    return [
        pool.submit(_GEOD.line_lengths, lon[: half + 1], lat[: half + 1]),
        pool.submit(_GEOD.line_lengths, lon[half:], lat[half:]),
    ]


def _cumulative(seg: np.ndarray, ptr: np.ndarray, start: np.ndarray | None) -> np.ndarray:
    """The running sum of the segment lengths over all positions.

    An edge's length is the difference of two of its values. ``start``: for a part of an
    area's ways (a tile's), each way part's value at its first position in the whole area's
    sum; each part's sum then runs on from there, adding the same numbers in the same order,
    so that its values are the whole area's to the last bit.
    """
    if start is None:
        return np.concatenate([[0.0], np.cumsum(seg)])
    cum = np.empty(len(seg) + 1)
    for k in range(len(ptr) - 1):
        a, b = int(ptr[k]), int(ptr[k + 1])
        cum[a:b] = np.cumsum(np.concatenate([start[k : k + 1], seg[a : b - 1]]))
    return cum


def network_from_file(
    path: str | os.PathLike[str] | OSMData,
    *,
    retain_all: bool = False,
    pedestrian_areas: bool = settings.PEDESTRIAN_AREAS,
) -> WalkNetwork:
    """Build the walking network of a local OSM file.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file, or :class:`~fifteenmin._osm.OSMData`
        already read from one (so that a file is parsed once for network and facilities).
    retain_all
        Keep every connected component instead of only the largest.
    pedestrian_areas
        Make pedestrian areas walkable: their outline and straight crossings between their
        entrances (see the module notes). ``False`` gives osmnx's ``"walk"`` network exactly.

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
    ways = data.ways
    if pedestrian_areas and data.pedestrian_areas:
        extra = pedestrian_area_ways(ways, data.pedestrian_areas)
        if len(extra.way_id):
            net = _from_ways(_concat_ways(ways, extra), data.source, retain_all)
            _log_area_metres(data, extra, net)
            return net
    return _from_ways(ways, data.source, retain_all)


# --------------------------------------------------------------------------------------------
# pedestrian areas (squares, plazas)

#: Tolerance in metres of the "crossing stays inside the area" test.
_INSIDE_TOLERANCE_M = 0.05
#: A crossing that stays this close (metres) to the outline runs along it: the outline serves.
_ALONG_OUTLINE_M = 0.5


def _local_xy(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    """Equirectangular metres around ``(lon0, lat0)`` (good to well under 0.1 % in a square)."""
    k = np.cos(np.radians(lat0))
    return np.column_stack([(lon - lon0) * 111_320.0 * k, (lat - lat0) * 110_574.0])


def _reflex(lon: np.ndarray, lat: np.ndarray, hole: bool) -> np.ndarray:
    """Which vertices of a closed ring are reflex corners seen from the area (bool per vertex).

    A shortest walk inside a polygon bends only at reflex corners (interior angle over 180°:
    the corners of an L-shaped square's inner bend, every corner of a hole).
    """
    x, y = lon[:-1], lat[:-1]  # the closing vertex repeats the first
    signed = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    px, py = np.roll(x, 1), np.roll(y, 1)
    nx_, ny = np.roll(x, -1), np.roll(y, -1)
    turn = (x - px) * (ny - y) - (y - py) * (nx_ - x)
    # outer ring: reflex where it turns against its orientation; a hole: the other way round
    sign = np.sign(signed) * (-1.0 if hole else 1.0)
    out = turn * sign < -1e-18
    return np.r_[out, out[:1]]


def _area_parts(
    area: PedestrianArea,
    walk_ids: np.ndarray,
    walk_pairs: set[tuple[int, int]],
    inner: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """Outline runs and crossings of one area: ``(node ids, lon, lat, kind)`` each.

    ``inner`` holds the walkable way segments near the area (node ids ``(m, 2)``, lon and
    lat ``(m, 2)``); those inside it count as walkable already when crossings are chosen.
    """
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]] = []
    for ids, lon, lat in area.rings:
        # outline, without the stretches that are walkable ways already
        lo, hi = np.minimum(ids[:-1], ids[1:]).tolist(), np.maximum(ids[:-1], ids[1:]).tolist()
        new = np.array([p not in walk_pairs for p in zip(lo, hi, strict=True)], dtype=bool)
        edges = np.flatnonzero(np.diff(np.r_[0, new.astype(np.int8), 0]))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            parts.append((ids[s : e + 1], lon[s : e + 1], lat[s : e + 1], "outline"))
    ids = np.concatenate([r[0] for r in area.rings])
    lon = np.concatenate([r[1] for r in area.rings])
    lat = np.concatenate([r[2] for r in area.rings])
    corner = np.concatenate(
        [_reflex(r[1], r[2], h) for r, h in zip(area.rings, area.inner, strict=True)]
    )
    entrance = np.isin(ids, walk_ids)
    if np.unique(ids[entrance]).size < 2:
        return parts
    ids, first = np.unique(ids, return_index=True)
    keep = (entrance | corner)[first]
    ids, lon, lat = ids[keep], lon[first][keep], lat[first][keep]
    i, j = np.triu_indices(len(ids), 1)
    lon0, lat0 = float(lon.mean()), float(lat.mean())
    xy = _local_xy(lon, lat, lon0, lat0)
    segs = shapely.linestrings(
        np.stack([xy[i], xy[j]], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(len(i)), 2)
    )
    poly = shapely.transform(area.geometry, lambda c: _local_xy(c[:, 0], c[:, 1], lon0, lat0))
    inside = shapely.buffer(poly, _INSIDE_TOLERANCE_M)
    outline = shapely.buffer(shapely.boundary(poly), _ALONG_OUTLINE_M)
    shapely.prepare(inside)
    shapely.prepare(outline)
    visible = shapely.covers(inside, segs)
    i, j, segs = i[visible], j[visible], segs[visible]
    along = shapely.covers(outline, segs)
    used = _on_shortest_paths(i, j, xy, np.flatnonzero(np.isin(ids, walk_ids)))
    # walkable already: the outline and the ways that cross the area
    w = np.hypot(xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1])
    pairs = zip(i[along], j[along], w[along], strict=True)
    base = [(int(ids[a]), int(ids[b]), float(d)) for a, b, d in pairs]
    base += _inner_segments(inner, shapely.buffer(poly, _ALONG_OUTLINE_M), lon0, lat0)
    ok = _spanner(ids[i], ids[j], w, base, used & ~along)
    for a, b in zip(i[ok], j[ok], strict=True):
        parts.append((ids[[a, b]], lon[[a, b]], lat[[a, b]], "crossing"))
    return parts


def _inner_segments(
    inner: tuple[np.ndarray, np.ndarray, np.ndarray],
    area: shapely.Geometry,
    lon0: float,
    lat0: float,
) -> list[tuple[int, int, float]]:
    """The walkable way segments inside ``area`` (local metres): ``(id, id, length)``."""
    ids, lon, lat = inner
    if not len(ids):
        return []
    a = _local_xy(lon[:, 0], lat[:, 0], lon0, lat0)
    b = _local_xy(lon[:, 1], lat[:, 1], lon0, lat0)
    lines = shapely.linestrings(
        np.stack([a, b], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(len(a)), 2)
    )
    shapely.prepare(area)
    ok = shapely.covers(area, lines)
    d = np.hypot(*(a - b).T)
    return [(int(u), int(v), float(x)) for (u, v), x in zip(ids[ok], d[ok], strict=True)]


def _spanner(
    u: np.ndarray,
    v: np.ndarray,
    w: np.ndarray,
    base: list[tuple[int, int, float]],
    candidate: np.ndarray,
) -> np.ndarray:
    """A greedy spanner: the candidate crossings ``(u, v)`` worth adding, shortest first.

    Starting from the ``base`` links (node ids and metres: the outline, the ways crossing the
    area), a candidate is added only when the walk between its ends over what is there so far
    is more than :data:`fifteenmin.settings.PEDESTRIAN_AREA_STRETCH` times its length. Every
    walk across the area is then at most that factor longer than the shortest path inside it.
    """
    adj: dict[int, list[tuple[int, float]]] = {}

    def link(a: int, b: int, d: float) -> None:
        adj.setdefault(a, []).append((b, d))
        adj.setdefault(b, []).append((a, d))

    for a, b, d in base:
        link(a, b, d)
    keep = np.zeros(len(u), dtype=bool)
    t = settings.PEDESTRIAN_AREA_STRETCH
    for k in np.flatnonzero(candidate)[np.argsort(w[candidate], kind="stable")]:
        a, b, limit = int(u[k]), int(v[k]), t * float(w[k])
        if _walk_within(adj, a, b, limit):
            continue
        keep[k] = True
        link(a, b, float(w[k]))
    return keep


def _walk_within(adj: dict[int, list[tuple[int, float]]], a: int, b: int, limit: float) -> bool:
    """Whether ``b`` is within ``limit`` of ``a`` in the small graph ``adj`` (Dijkstra)."""
    dist = {a: 0.0}
    heap = [(0.0, a)]
    while heap:
        d, v = heapq.heappop(heap)
        if v == b:
            return True
        if d > dist.get(v, np.inf):
            continue
        for u, e in adj.get(v, ()):
            nd = d + e
            if nd <= limit and nd < dist.get(u, np.inf):
                dist[u] = nd
                heapq.heappush(heap, (nd, u))
    return False


def _on_shortest_paths(i: np.ndarray, j: np.ndarray, xy: np.ndarray, ent: np.ndarray) -> np.ndarray:
    """Which visible pairs ``(i, j)`` lie on a shortest path inside the area between entrances.

    The visibility graph of the entrances and reflex corners holds every shortest path inside
    the area; the pairs no entrance-to-entrance path uses (corner to corner shortcuts nobody
    takes) are left out, which keeps the network small.
    """
    n = len(xy)
    w = np.hypot(xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1])
    graph = sparse.coo_matrix((w, (i, j)), shape=(n, n)).tocsr()
    dist, pred = csgraph.dijkstra(graph, directed=False, indices=ent, return_predecessors=True)
    key = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(i, j, strict=True))}
    used = np.zeros(len(i), dtype=bool)
    for r, src in enumerate(ent):
        for dst in ent[ent > src]:
            if not np.isfinite(dist[r, dst]):
                continue
            v = int(dst)
            while v != src:
                p = int(pred[r, v])
                used[key[(min(p, v), max(p, v))]] = True
                v = p
    return used


def pedestrian_area_ways(ways: WalkWays, areas: list[PedestrianArea]) -> WalkWays:
    """The way parts that make pedestrian areas walkable: outlines and crossings.

    Parameters
    ----------
    ways
        The walkable ways of the same file (they decide the entrances).
    areas
        From :attr:`fifteenmin._osm.OSMData.pedestrian_areas`.

    Returns
    -------
    WalkWays
        One part per outline run and per crossing; ``way_id`` is the area's OSM id (a
        relation's id for multipolygons) and ``tags`` hold the area's ``highway`` and
        ``name`` plus ``fifteenmin:part`` (``outline`` or ``crossing``).

    Examples
    --------
    >>> from fifteenmin import read_osm, sample_path
    >>> data = read_osm(sample_path())
    >>> extra = pedestrian_area_ways(data.ways, data.pedestrian_areas)
    >>> sorted({t["fifteenmin:part"] for t in extra.tags})
    ['crossing', 'outline']
    """
    if not areas:
        return _no_ways()
    ring_ids = np.unique(np.concatenate([r[0] for a in areas for r in a.rings]))
    part_of = np.repeat(np.arange(len(ways.ptr) - 1), np.diff(ways.ptr))
    a, b = ways.node_id[:-1], ways.node_id[1:]
    near = (part_of[:-1] == part_of[1:]) & np.isin(a, ring_ids) & np.isin(b, ring_ids)
    walk_pairs = set(
        zip(np.minimum(a, b)[near].tolist(), np.maximum(a, b)[near].tolist(), strict=True)
    )
    walk_ids = np.intersect1d(ring_ids, ways.node_id)
    inner = _segments_near(ways, part_of, areas)
    ptr: list[int] = [0]
    node: list[np.ndarray] = []
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    way: list[int] = []
    tags: list[dict[str, str]] = []
    for n, area in enumerate(areas):
        base: dict[str, str] = {k: area.tags[k] for k in ("highway", "name") if k in area.tags}
        for ids, x, y, kind in _area_parts(area, walk_ids, walk_pairs, inner[n]):
            node.append(ids)
            lon.append(x)
            lat.append(y)
            ptr.append(ptr[-1] + len(ids))
            way.append(area.osm_id)
            tags.append({**base, "fifteenmin:part": kind})
    return WalkWays.of_parts(ptr, node, lon, lat, way, tags)


def _segments_near(
    ways: WalkWays, part_of: np.ndarray, areas: list[PedestrianArea]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per area, the walkable way segments whose bounding boxes meet it (ids, lon, lat)."""
    same = np.flatnonzero(part_of[:-1] == part_of[1:])
    lon = np.column_stack([ways.lon[same], ways.lon[same + 1]])
    lat = np.column_stack([ways.lat[same], ways.lat[same + 1]])
    ids = np.column_stack([ways.node_id[same], ways.node_id[same + 1]])
    boxes = shapely.box(lon.min(axis=1), lat.min(axis=1), lon.max(axis=1), lat.max(axis=1))
    polys = np.array([a.geometry for a in areas], dtype=object)
    ai, si = shapely.STRtree(boxes).query(polys, predicate="intersects")
    order = np.argsort(ai, kind="stable")
    ai, si = ai[order], si[order]
    cuts = np.searchsorted(ai, np.arange(len(areas) + 1))
    return [
        (
            ids[si[cuts[k] : cuts[k + 1]]],
            lon[si[cuts[k] : cuts[k + 1]]],
            lat[si[cuts[k] : cuts[k + 1]]],
        )
        for k in range(len(areas))
    ]


def _no_ways() -> WalkWays:
    z = np.zeros(0, dtype=np.float64)
    i = np.zeros(0, dtype=np.int64)
    return WalkWays(np.zeros(1, dtype=np.int64), i, z, z, i, [])


def _concat_ways(a: WalkWays, b: WalkWays) -> WalkWays:
    return WalkWays(
        ptr=np.concatenate([a.ptr, b.ptr[1:] + a.ptr[-1]]),
        node_id=np.concatenate([a.node_id, b.node_id]),
        lon=np.concatenate([a.lon, b.lon]),
        lat=np.concatenate([a.lat, b.lat]),
        way_id=np.concatenate([a.way_id, b.way_id]),
        tags=[*a.tags, *b.tags],
    )


def _log_area_metres(data: OSMData, extra: WalkWays, net: WalkNetwork) -> None:
    """Log how much walkable length the pedestrian areas added (INFO)."""
    part_of = np.repeat(np.arange(len(extra.ptr) - 1), np.diff(extra.ptr))
    _, _, seg = _GEOD.inv(extra.lon[:-1], extra.lat[:-1], extra.lon[1:], extra.lat[1:])
    seg = np.where(part_of[:-1] == part_of[1:], seg, 0.0)
    per_part = np.bincount(part_of[:-1], weights=seg, minlength=len(extra.way_id))
    crossing = np.array([t["fifteenmin:part"] == "crossing" for t in extra.tags])
    total = float(net.edge_length.sum())
    added = float(per_part.sum())
    logger.info(
        f"pedestrian areas: {len(data.pedestrian_areas):,} areas made walkable, "
        f"{per_part[~crossing].sum():,.0f} m of outline and {int(crossing.sum()):,} crossings "
        f"({per_part[crossing].sum():,.0f} m); about "
        f"{100.0 * added / max(total - added, 1.0):+.1f} % of network length over osmnx's walk "
        f"rule ({total:,.0f} m in all)"
    )


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
    seen: set[tuple[int, int, float, tuple[str, ...], float, float]] = set()
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
        # the two directions osmnx stores for a street are one walkable edge (the midpoint
        # tells apart two halves of a ring of equal length between the same nodes)
        mid = shapely.line_interpolate_point(geom_ll, 0.5, normalized=True)
        key = (a, b, round(length, 3), way_key, round(mid.x, 7), round(mid.y, 7))
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
    coords, line = shapely.get_coordinates(np.asarray(geoms, dtype=object), return_index=True)
    return _assemble(
        node_osm=osm_ids,
        node_lon=lon,
        node_lat=lat,
        edge_u=np.asarray(us, dtype=np.int64),
        edge_v=np.asarray(vs, dtype=np.int64),
        edge_length=np.asarray(lens, dtype=np.float64),
        edge_points=(coords, np.arange(len(coords)), line),
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

    The network is osmnx's walk graph, so it follows osmnx's walk rule exactly (no walkable
    pedestrian squares); ``fifteenmin report --bbox`` reads the area's OSM data instead and
    builds the network as from a file (:func:`network_from_file`, squares included).

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
    ``access + length - offset`` to ``v``. Among equally near edges the smallest index
    wins. Distances and positions are GEOS's (shapely's ``distance`` and
    ``line_locate_point``), computed by :mod:`fifteenmin._snap` over a grid of the edges'
    segments; points it does not settle (far from every street) are left to shapely's
    ``STRtree``, with the same result.

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
    xy, geoms = _snap_xy(net, points)
    n = len(xy)
    if n == 0:
        z = np.zeros(0)
        return SnapResult(np.zeros(0, dtype=np.int64), z, z)
    if _snap.HAVE_NUMBA:
        edge, access, along, geom_len, settled = _snap.nearest_edges(
            _segment_grid(net), xy[:, 0], xy[:, 1]
        )
    else:  # the grid search would run as plain Python: GEOS for every point
        edge, access, along, geom_len = (np.zeros(n, np.int64), *np.zeros((3, n)))
        settled = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(~settled)
    if len(rest):  # far from every street, or not a finite point: GEOS
        geoms = shapely.points(xy[rest, 0], xy[rest, 1]) if geoms is None else geoms[rest]
        e, a, al, gl = _snap_geos(net, geoms)
        edge[rest], access[rest], along[rest], geom_len[rest] = e, a, al, gl
    frac = np.divide(along, geom_len, out=np.zeros_like(along), where=geom_len > 0)
    offset = np.clip(frac, 0.0, 1.0) * net.edge_length[edge]
    return SnapResult(edge=edge, offset=offset, access=access)


_SEGMENT_GRIDS: weakref.WeakKeyDictionary[WalkNetwork, _snap.SegmentGrid] = (
    weakref.WeakKeyDictionary()
)


def _segment_grid(net: WalkNetwork) -> _snap.SegmentGrid:
    """The grid of ``net``'s edge segments (built on first use, kept while ``net`` lives)."""
    grid = _SEGMENT_GRIDS.get(net)
    if grid is None:
        grid = _SEGMENT_GRIDS[net] = _snap.segment_grid(net.edge_geometry)
    return grid


def _snap_xy(net: WalkNetwork, points: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``(n, 2)`` coordinates of the points to snap, and their shapely points (None for x/y).

    Non-point geometries stand for their representative point (``point_on_surface``).
    """
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        arr = np.asarray(points)
        if arr.dtype != object:
            return np.asarray(arr, dtype=np.float64).reshape(-1, 2), None
    geoms = as_points(net, points)
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]).reshape(-1, 2)
    return xy, geoms


def _snap_geos(
    net: WalkNetwork, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge by shapely's ``STRtree``: edge, distance, ``line_locate_point``, length."""
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
    return edge, access, shapely.line_locate_point(lines, geoms), shapely.length(lines)
