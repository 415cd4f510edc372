"""A local Overpass + Nominatim emulator for offline tests of the online (osmnx) code paths.

Project rule: online code paths are tested against a server on 127.0.0.1 that answers with
real data, never against the internet. We cannot record from the real services here, so this
module serves the REAL OpenStreetMap elements of a local file (read with pyosmium), in the
exact formats the services return:

* **Overpass API** (``/api/interpreter``, GET or POST, ``data=`` form field or raw body):
  a small Overpass QL interpreter for the subset osmnx 2.x sends (and a bit more):

  - settings ``[out:json]`` or ``[out:xml]``, ``[timeout:N]``, ``[maxsize:N]``;
  - query statements ``node``/``way``/``rel``/``relation``/``nwr`` with an optional input set
    (``node._``, ``way.a``) and ``->.name``;
  - tag filters ``["k"]``, ``[!"k"]``, ``["k"="v"]``, ``["k"!="v"]``, ``["k"~"re"]``,
    ``["k"!~"re"]`` (``,i`` for case-insensitive), ``[~"kre"~"vre"]``; single, double or no
    quotes; Overpass semantics (``!=`` and ``!~`` are true when the key is absent);
  - spatial filters ``(poly:"lat lon lat lon ...")``, ``(s,w,n,e)`` and id filters
    ``(123)``/``(id:1,2)``. Poly/bbox semantics as Overpass: a node qualifies when it lies
    inside or on the boundary; a way when one of its segments (or its only node) touches the
    area, which includes every way with a node inside; a relation when one of its member nodes
    or member ways qualifies;
  - unions ``( ... );``, item ``._;``/``.a;``, recursion ``>``, ``>>``, ``<``, ``<<``;
  - ``out`` (``body``, ``skel``, ``ids``, ``tags``, ``meta``, ``qt``, ``asc``): elements sorted
    nodes, ways, relations, each by id, as Overpass JSON
    ``{"version": 0.6, "generator": ..., "osm3s": {...}, "elements": [...]}`` with nodes
    ``lat``/``lon``/``tags``, ways ``nodes``/``tags`` and relations ``members``/``tags``
    (``tags`` left out when empty, as Overpass does), or with ``[out:xml]`` as the OSM XML
    Overpass writes (``<osm>`` with ``<note>``, ``<meta osm_base>``, then ``<node>``,
    ``<way>`` with ``<nd>``, ``<relation>`` with ``<member>``, and ``<tag>`` children).

  Parse errors and unsupported statements (``area``, ``around``, ``out geom``, ``[date:]``,
  CSV output, ...) get HTTP 400 with an Overpass-style HTML error page.
* **Overpass** ``/api/status``: the real plain-text format (``Connected as``, ``Current time``,
  ``Announced endpoint``, ``Rate limit``, ``N slots available now.``); osmnx reads line 5.
* **Nominatim** ``/search`` (``q=`` or structured fields; ``format=json``/``jsonv2``;
  ``polygon_geojson``; ``limit``) and ``/lookup`` (``osm_ids=R1,W2,N3``): result lists with
  ``place_id``, ``licence``, ``osm_type``, ``osm_id``, ``lat``, ``lon``, ``class`` (``category``
  in jsonv2), ``type``, ``place_rank``, ``importance``, ``addresstype``, ``name``,
  ``display_name``, ``boundingbox`` (strings, ``[south, north, west, east]``) and ``geojson``.
  Places are the named elements of the file: named areas (closed ways and multipolygon
  relations that pyosmium can assemble) with their real polygon, and named nodes as points.
  The first comma-separated part of ``q`` must equal one of the element's names (``name``,
  ``name:*``, ``official_name``, ``alt_name``, ``short_name``; case-insensitive); every other
  part must occur in its ``display_name``.

What is NOT real: ``place_id``, ``importance`` and ``place_rank`` are derived here (Nominatim
computes them from its own database and Wikipedia), and ``display_name`` is the element's name
followed by the names of the administrative boundaries of the file that are alone at their
level (e.g. "Helsinki, Uusimaa, Suomi"), not Nominatim's full address. The file is a clipped
extract: a way's references to nodes absent from the file are left out of its ``nodes`` list
(a real Overpass database has every node). In the bundled sample every walkable way that lost
nodes lost only leading or trailing ones, so its geometry is the in-file run, as
``fifteenmin.network_from_file`` keeps it. No ``meta`` attributes (version, user...) are served.

Every request is recorded (method, path, query string, form data, Overpass QL, status, number
of elements/results) in :attr:`OSMTestServer.requests`. :attr:`OSMTestServer.overpass_fault`
makes the interpreter answer with a given HTTP status and body instead (a busy or failing
server).

:class:`LoopbackGuard` makes any attempt to resolve or reach a host other than the loopback
interface fail loudly during a test.

Data served: © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import shapely

__all__ = [
    "LoopbackGuard",
    "NetworkAccessBlockedError",
    "OSMStore",
    "OSMTestServer",
    "OverpassError",
    "RecordedRequest",
    "overpass_xml",
    "run_overpass_ql",
]

OVERPASS_GENERATOR = "Overpass API 0.7.62.1 084b4234"
OVERPASS_COPYRIGHT = (
    "The data included in this document is from www.openstreetmap.org. "
    "The data is made available under ODbL."
)
NOMINATIM_LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"

_KINDS = ("node", "way", "relation")
_KIND_OF_MEMBER = {"n": "node", "w": "way", "r": "relation"}
_NAME_KEYS = ("name", "official_name", "alt_name", "short_name")
# main tag keys, in Nominatim-like priority order, that give a place its class/type
_CLASS_KEYS = (
    "boundary",
    "place",
    "amenity",
    "leisure",
    "shop",
    "tourism",
    "healthcare",
    "office",
    "railway",
    "public_transport",
    "historic",
    "landuse",
    "natural",
    "building",
    "highway",
    "man_made",
)
_PLACE_RANK = {
    "country": 4,
    "state": 8,
    "city": 16,
    "town": 18,
    "suburb": 20,
    "quarter": 22,
    "neighbourhood": 24,
    "city_block": 25,
    "square": 25,
}


class OverpassError(ValueError):
    """A query the emulator cannot parse or does not support (answered with HTTP 400)."""


class NetworkAccessBlockedError(AssertionError):
    """Raised by :class:`LoopbackGuard` when code tries to leave 127.0.0.1.

    An ``AssertionError`` on purpose: ``requests``/``urllib3`` wrap ``OSError`` into
    ``ConnectionError``, which osmnx catches in places (then sleeps 60 s), so an ``OSError``
    could be swallowed; this one propagates to the test.
    """


# --------------------------------------------------------------------------------------------
# the "database": every element of one OSM file


class OSMStore:
    """Every node, way and relation of an OSM file, indexed for Overpass/Nominatim queries.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file (read once with pyosmium).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            node_ids, lons, lats, raw_refs, newest, areas = self._read(with_areas=True)
        except RuntimeError as exc:  # pyosmium's area assembly needs a file sorted by id
            if "order" not in str(exc):
                raise
            node_ids, lons, lats, raw_refs, newest, areas = self._read(with_areas=False)
        self.missing_way_refs = 0
        order = np.argsort(np.asarray(node_ids, dtype=np.int64), kind="stable")
        self.node_id = np.asarray(node_ids, dtype=np.int64)[order]
        self.lon = np.asarray(lons, dtype=np.float64)[order]
        self.lat = np.asarray(lats, dtype=np.float64)[order]
        self.node_index = {int(n): i for i, n in enumerate(self.node_id)}
        for wid, refs in raw_refs.items():
            kept = [r for r in refs if r in self.node_index]
            self.missing_way_refs += len(refs) - len(kept)
            self.way_refs[wid] = kept
        if areas is None:  # unsorted file: named closed ways only, as plain polygons
            areas = []
            for wid, refs in self.way_refs.items():
                tags = self.way_tags[wid]
                if len(refs) >= 4 and refs[0] == refs[-1] and tags.get("name"):
                    pos = [self.node_index[r] for r in refs]
                    ring = shapely.Polygon(np.column_stack([self.lon[pos], self.lat[pos]]))
                    if ring.is_valid:
                        areas.append(("way", wid, tags, shapely.to_wkb(ring)))
        self.timestamp = (newest or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

        # tag-key indexes: kind -> key -> ids carrying the key
        self.key_index: dict[str, dict[str, list[int]]] = {k: {} for k in _KINDS}
        for kind, tagmap in (
            ("node", self.node_tags),
            ("way", self.way_tags),
            ("relation", self.rel_tags),
        ):
            idx = self.key_index[kind]
            for eid, tags in tagmap.items():
                for key in tags:
                    idx.setdefault(key, []).append(eid)

        # way geometries for the spatial filters
        self._way_ids = np.array(sorted(self.way_refs), dtype=np.int64)
        geoms = []
        for wid in self._way_ids:
            pos = [self.node_index[r] for r in self.way_refs[int(wid)]]
            if len(pos) >= 2:
                geoms.append(shapely.linestrings(self.lon[pos], self.lat[pos]))
            elif len(pos) == 1:
                geoms.append(shapely.points(self.lon[pos[0]], self.lat[pos[0]]))
            else:
                geoms.append(None)
        self._way_geoms = np.array(geoms, dtype=object)
        self._way_tree = shapely.STRtree(self._way_geoms)
        self._area_cache: dict[str, tuple[np.ndarray, set[int], set[int]]] = {}
        self._area_lock = threading.Lock()
        self._up: tuple[dict[int, set[int]], dict[tuple[str, int], set[int]]] | None = None
        self.places = self._make_places(areas)

    def _read(self, *, with_areas: bool) -> tuple[Any, ...]:
        """One pass over the file; fills the tag and member dicts, returns the rest."""
        import osmium

        node_ids: list[int] = []
        lons: list[float] = []
        lats: list[float] = []
        raw_refs: dict[int, list[int]] = {}
        self.node_tags: dict[int, dict[str, str]] = {}
        self.way_refs: dict[int, list[int]] = {}
        self.way_tags: dict[int, dict[str, str]] = {}
        self.rel_members: dict[int, list[tuple[str, int, str]]] = {}
        self.rel_tags: dict[int, dict[str, str]] = {}
        newest = None
        areas: list[tuple[str, int, dict[str, str], bytes]] = []
        wkb = osmium.geom.WKBFactory()
        fp = osmium.FileProcessor(str(self.path)).with_locations()
        if with_areas:
            fp = fp.with_areas()
        for obj in fp:
            ts = getattr(obj, "timestamp", None)
            if ts is not None and ts.year > 1970 and (newest is None or ts > newest):
                newest = ts
            if obj.is_node():
                node_ids.append(obj.id)
                lons.append(obj.location.lon)
                lats.append(obj.location.lat)
                if len(obj.tags):
                    self.node_tags[obj.id] = dict(obj.tags)
            elif obj.is_way():
                raw_refs[obj.id] = [nd.ref for nd in obj.nodes]
                self.way_tags[obj.id] = dict(obj.tags)
            elif obj.is_relation():
                self.rel_members[obj.id] = [
                    (_KIND_OF_MEMBER[m.type], m.ref, m.role) for m in obj.members
                ]
                self.rel_tags[obj.id] = dict(obj.tags)
            elif obj.is_area():
                tags = dict(obj.tags)
                if any(k in tags for k in _NAME_KEYS) or any(k.startswith("name:") for k in tags):
                    try:
                        geom = wkb.create_multipolygon(obj)
                    except Exception:  # broken ring: not a usable place
                        continue
                    kind = "way" if obj.from_way() else "relation"
                    areas.append((kind, obj.orig_id(), tags, geom))
        return node_ids, lons, lats, raw_refs, newest, (areas if with_areas else None)

    # -- element access -----------------------------------------------------------------

    def ids(self, kind: str) -> Iterable[int]:
        """All ids of one element kind."""
        if kind == "node":
            return (int(n) for n in self.node_id)
        if kind == "way":
            return iter(self.way_refs)
        return iter(self.rel_members)

    def has(self, kind: str, eid: int) -> bool:
        """Whether the file holds this element."""
        if kind == "node":
            return eid in self.node_index
        if kind == "way":
            return eid in self.way_refs
        return eid in self.rel_members

    def tags(self, kind: str, eid: int) -> dict[str, str]:
        """Tags of one element ({} when it has none)."""
        src = {"node": self.node_tags, "way": self.way_tags, "relation": self.rel_tags}[kind]
        return src.get(eid, {})

    def element_json(self, kind: str, eid: int, mode: str = "body") -> dict[str, Any]:
        """One element in Overpass JSON (``out body`` unless ``mode`` says otherwise)."""
        out: dict[str, Any] = {"type": kind, "id": eid}
        if mode == "ids":
            return out
        if kind == "node":
            i = self.node_index[eid]
            if mode != "tags":
                out["lat"] = round(float(self.lat[i]), 7)
                out["lon"] = round(float(self.lon[i]), 7)
        elif kind == "way":
            if mode != "tags":
                out["nodes"] = list(self.way_refs[eid])
        elif mode != "tags":
            out["members"] = [
                {"type": t, "ref": r, "role": role} for t, r, role in self.rel_members[eid]
            ]
        tags = self.tags(kind, eid)
        if tags and mode != "skel":
            out["tags"] = dict(tags)
        return out

    # -- spatial filters ----------------------------------------------------------------

    def area_sets(self, key: str, area: shapely.Geometry) -> tuple[np.ndarray, set[int], set[int]]:
        """Elements touching an area: node mask (in store order), way ids, relation ids.

        Cached by ``key`` (the filter text), since osmnx repeats the same polygon in every
        component of a features query.
        """
        with self._area_lock:
            hit = self._area_cache.get(key)
            if hit is not None:
                return hit
            shapely.prepare(area)
            node_in = np.asarray(shapely.intersects_xy(area, self.lon, self.lat), dtype=bool)
            hits = self._way_tree.query(area, predicate="intersects")
            ways = {int(w) for w in self._way_ids[hits]}
            rels = set()
            for rid, members in self.rel_members.items():
                for t, ref, _ in members:
                    if t == "node":
                        i = self.node_index.get(ref)
                        if i is not None and node_in[i]:
                            rels.add(rid)
                            break
                    elif t == "way" and ref in ways:
                        rels.add(rid)
                        break
            result = (node_in, ways, rels)
            self._area_cache[key] = result
            return result

    # -- recursion ----------------------------------------------------------------------

    def down(self, items: set[tuple[str, int]], *, full: bool) -> set[tuple[str, int]]:
        """Overpass ``>`` (``full=False``) or ``>>`` (``full=True``): members and way nodes."""
        out: set[tuple[str, int]] = set()
        todo = list(items)
        seen_rel: set[int] = set()
        while todo:
            kind, eid = todo.pop()
            if kind == "way" and eid in self.way_refs:
                out.update(("node", r) for r in self.way_refs[eid])
            elif kind == "relation" and eid in self.rel_members and eid not in seen_rel:
                seen_rel.add(eid)
                for t, ref, _ in self.rel_members[eid]:
                    if not self.has(t, ref):
                        continue
                    out.add((t, ref))
                    if t == "way":
                        out.update(("node", r) for r in self.way_refs[ref])
                    elif t == "relation" and full:
                        todo.append((t, ref))
        return out

    def up(self, items: set[tuple[str, int]], *, full: bool) -> set[tuple[str, int]]:
        """Overpass ``<`` (``full=False``) or ``<<`` (``full=True``): parent ways and relations."""
        if self._up is None:
            node_ways: dict[int, set[int]] = {}
            for wid, refs in self.way_refs.items():
                for r in refs:
                    node_ways.setdefault(r, set()).add(wid)
            parents: dict[tuple[str, int], set[int]] = {}
            for rid, members in self.rel_members.items():
                for t, ref, _ in members:
                    parents.setdefault((t, ref), set()).add(rid)
            self._up = (node_ways, parents)
        node_ways, parents = self._up
        ways = {w for kind, eid in items if kind == "node" for w in node_ways.get(eid, ())}
        out: set[tuple[str, int]] = {("way", w) for w in ways}
        base = set(items) | out
        rels = {("relation", r) for x in base for r in parents.get(x, ())}
        out |= rels
        frontier = rels if full else set()
        while frontier:  # `<<`: relations of relations, to the top
            new = {("relation", r) for x in frontier for r in parents.get(x, ())} - out
            out |= new
            frontier = new
        return out

    # -- Nominatim places ---------------------------------------------------------------

    def _make_places(
        self, areas: list[tuple[str, int, dict[str, str], bytes]]
    ) -> list[dict[str, Any]]:
        admins: dict[int, list[str]] = {}
        for tags in self.rel_tags.values():
            if tags.get("boundary") == "administrative" and tags.get("name"):
                try:
                    level = int(tags.get("admin_level", ""))
                except ValueError:
                    continue
                admins.setdefault(level, []).append(tags["name"])
        # municipality and above (admin_level <= 8), when alone at their level in the file:
        # such a boundary surely surrounds every element of a small extract
        context = [
            names[0]
            for level, names in sorted(admins.items(), reverse=True)
            if len(names) == 1 and level <= 8
        ]

        places: list[dict[str, Any]] = []
        for kind, eid, tags, wkb in areas:
            geom = shapely.from_wkb(bytes.fromhex(wkb) if isinstance(wkb, str) else wkb)
            if isinstance(geom, shapely.MultiPolygon) and len(geom.geoms) == 1:
                geom = geom.geoms[0]
            places.append(self._place(kind, eid, tags, geom, context))
        for nid, tags in self.node_tags.items():
            if "name" in tags and any(k in tags for k in _CLASS_KEYS):
                i = self.node_index[nid]
                pt = shapely.Point(float(self.lon[i]), float(self.lat[i]))
                places.append(self._place("node", nid, tags, pt, context))
        return places

    @staticmethod
    def _place(
        kind: str, eid: int, tags: dict[str, str], geom: shapely.Geometry, context: list[str]
    ) -> dict[str, Any]:
        cls, typ = "place", "yes"
        for key in _CLASS_KEYS:
            if key in tags:
                cls, typ = key, tags[key]
                break
        if cls == "boundary" and tags.get("admin_level", "").isdigit():
            rank = 2 * int(tags["admin_level"])
        elif cls == "place":
            rank = _PLACE_RANK.get(typ, 25)
        elif cls == "building" or kind == "node":
            rank = 30
        else:
            rank = 24
        names = {v.casefold() for k, v in tags.items() if k in _NAME_KEYS or k.startswith("name:")}
        name = tags.get("name") or next(iter(sorted(names)), "")
        display = ", ".join([name, *[c for c in context if c != name]])
        area_deg = float(shapely.area(geom))
        # a made-up but monotone importance: larger and higher-ranked places first
        importance = round(0.75 - rank / 60.0 + min(0.1, area_deg * 1000.0), 8)
        c = geom.centroid if geom.geom_type == "Point" else geom.point_on_surface()
        w, s, e, n = geom.bounds
        return {
            "osm_type": kind,
            "osm_id": eid,
            "class": cls,
            "type": typ,
            "place_rank": rank,
            "importance": importance,
            "addresstype": typ if cls in ("place", "boundary") else cls,
            "name": name,
            "display_name": display,
            "lat": f"{c.y:.7f}",
            "lon": f"{c.x:.7f}",
            "boundingbox": [f"{s:.7f}", f"{n:.7f}", f"{w:.7f}", f"{e:.7f}"],
            "geojson": _geojson(geom),
            "_names": names,
        }


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to 7 decimals (as Nominatim prints them)."""
    return json.loads(shapely.to_geojson(shapely.transform(geom, lambda xy: np.round(xy, 7))))


# --------------------------------------------------------------------------------------------
# Overpass QL interpreter


@dataclass
class _Filter:
    op: str  # has, not_has, eq, ne, re, not_re, key_re
    key: str
    value: str = ""
    flags: int = 0

    def test(self, tags: dict[str, str]) -> bool:
        if self.op == "key_re":
            kre = re.compile(self.key, self.flags)
            vre = re.compile(self.value, self.flags)
            return any(kre.search(k) and vre.search(v) for k, v in tags.items())
        v = tags.get(self.key)
        if self.op == "has":
            return v is not None
        if self.op == "not_has":
            return v is None
        if self.op == "eq":
            return v == self.value
        if self.op == "ne":
            return v != self.value
        if self.op == "re":
            return v is not None and re.search(self.value, v, self.flags) is not None
        if self.op == "not_re":
            return v is None or re.search(self.value, v, self.flags) is None
        raise OverpassError(f"unknown filter {self.op}")  # pragma: no cover


class _Parser:
    """Recursive-descent parser and evaluator for a subset of Overpass QL."""

    def __init__(self, text: str, store: OSMStore) -> None:
        self.s = text
        self.i = 0
        self.store = store
        self.sets: dict[str, set[tuple[str, int]]] = {"_": set()}
        self.output: list[dict[str, Any]] = []
        self.settings: dict[str, str] = {}

    # -- lexing helpers -----------------------------------------------------------------

    def error(self, msg: str) -> OverpassError:
        line = self.s.count("\n", 0, self.i) + 1
        return OverpassError(f"line {line}: parse error: {msg} (at offset {self.i})")

    def ws(self) -> None:
        while self.i < len(self.s):
            if self.s[self.i].isspace():
                self.i += 1
            elif self.s.startswith("//", self.i):
                j = self.s.find("\n", self.i)
                self.i = len(self.s) if j < 0 else j + 1
            elif self.s.startswith("/*", self.i):
                j = self.s.find("*/", self.i + 2)
                if j < 0:
                    raise self.error("unterminated comment")
                self.i = j + 2
            else:
                break

    def peek(self, tok: str = "") -> bool | str:
        self.ws()
        if tok:
            return self.s.startswith(tok, self.i)
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, tok: str) -> None:
        if not self.peek(tok):
            found = self.s[self.i : self.i + 10]
            raise self.error(f"expected '{tok}', found '{found}'")
        self.i += len(tok)

    def word(self) -> str:
        self.ws()
        m = re.compile(r"[A-Za-z0-9_:\-.]+").match(self.s, self.i)
        if not m:
            raise self.error("expected a name")
        self.i = m.end()
        return m.group(0)

    def ident(self) -> str:
        self.ws()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        if not m:
            raise self.error("expected an identifier")
        self.i = m.end()
        return m.group(0)

    def string(self) -> str:
        """A quoted ('...' or "...") string with backslash escapes, or a bare word."""
        self.ws()
        q = self.peek()
        if q not in ("'", '"'):
            return self.word()
        self.i += 1
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                nxt = self.s[self.i + 1]
                if nxt == "u" and self.i + 5 < len(self.s):
                    out.append(chr(int(self.s[self.i + 2 : self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                self.i += 2
                continue
            if c == q:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.error("unterminated string")

    def number(self) -> float:
        self.ws()
        m = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?").match(self.s, self.i)
        if not m:
            raise self.error("expected a number")
        self.i = m.end()
        return float(m.group(0))

    def out_name(self) -> str:
        if self.peek("->"):
            self.expect("->")
            self.expect(".")
            return self.ident()
        return "_"

    # -- script ---------------------------------------------------------------------------

    def run(self) -> list[dict[str, Any]]:
        self.ws()
        if self.peek("["):
            while self.peek("["):
                self.expect("[")
                name = self.ident()
                self.expect(":")
                value = self.string()
                self.expect("]")
                self.settings[name] = value
            self.expect(";")
        unsupported = set(self.settings) - {"out", "timeout", "maxsize"}
        if unsupported:
            raise OverpassError(f"settings not supported by the emulator: {sorted(unsupported)}")
        if self.settings.get("out") not in ("json", "xml"):
            raise OverpassError("only [out:json] and [out:xml] are supported by the emulator")
        while self.peek():
            self.statement()
        return self.output

    def statement(self) -> set[tuple[str, int]]:
        c = self.peek()
        if c == "(":
            self.expect("(")
            acc: set[tuple[str, int]] = set()
            while not self.peek(")"):
                if not self.peek():
                    raise self.error("unterminated union")
                acc |= self.statement()
            self.expect(")")
            return self.assign(acc)
        if c == ".":
            self.expect(".")
            name = self.ident()
            return self.after_input(name)
        if c in ("<", ">"):
            return self.after_input("_")
        w = self.ident()
        if w == "out":
            return self.out("_")
        if w in ("node", "way", "rel", "relation", "nwr", "nw", "nr", "wr"):
            return self.query(w)
        raise self.error(f"unknown or unsupported statement '{w}'")

    def assign(self, result: set[tuple[str, int]]) -> set[tuple[str, int]]:
        name = self.out_name()
        self.expect(";")
        self.sets[name] = result
        return result

    def after_input(self, name: str) -> set[tuple[str, int]]:
        src = self.sets.get(name, set())
        for op, full, up in (
            (">>", True, False),
            ("<<", True, True),
            (">", False, False),
            ("<", False, True),
        ):
            if self.peek(op):
                self.expect(op)
                res = self.store.up(src, full=full) if up else self.store.down(src, full=full)
                return self.assign(res)
        if self.peek("out"):
            self.ident()
            return self.out(name)
        return self.assign(set(src))

    def query(self, kind_word: str) -> set[tuple[str, int]]:
        kinds = {
            "node": ("node",),
            "way": ("way",),
            "rel": ("relation",),
            "relation": ("relation",),
            "nwr": _KINDS,
            "nw": ("node", "way"),
            "nr": ("node", "relation"),
            "wr": ("way", "relation"),
        }[kind_word]
        inputs: list[set[tuple[str, int]]] = []
        while self.peek(".") and not self.peek(".."):
            self.expect(".")
            inputs.append(self.sets.get(self.ident(), set()))
        tag_filters: list[_Filter] = []
        spatial: list[Callable[[str, int], bool]] = []
        id_sets: list[set[int]] = []
        while True:
            if self.peek("["):
                tag_filters.append(self.tag_filter())
            elif self.peek("(") and not self.peek("(."):
                self.spatial_filter(spatial, id_sets)
            else:
                break
        result: set[tuple[str, int]] = set()
        for kind in kinds:
            cands: Iterable[int]
            if inputs:
                sets = [{eid for k, eid in s if k == kind} for s in inputs]
                cands = set.intersection(*sets)
            elif id_sets:
                cands = set.intersection(*id_sets)
            else:
                keyed = [f.key for f in tag_filters if f.op in ("has", "eq", "re")]
                if keyed:
                    cands = self.store.key_index[kind].get(keyed[0], [])
                else:
                    cands = self.store.ids(kind)
            for eid in cands:
                if not self.store.has(kind, eid):
                    continue
                if id_sets and any(eid not in s for s in id_sets):
                    continue
                tags = self.store.tags(kind, eid)
                if all(f.test(tags) for f in tag_filters) and all(sp(kind, eid) for sp in spatial):
                    result.add((kind, eid))
        return self.assign(result)

    def tag_filter(self) -> _Filter:
        self.expect("[")
        if self.peek("~"):
            self.expect("~")
            kre = self.string()
            self.expect("~")
            vre = self.string()
            flags = self.regex_flags()
            self.expect("]")
            return _Filter("key_re", kre, vre, flags)
        negate = False
        if self.peek("!"):
            self.expect("!")
            negate = True
        key = self.string()
        if self.peek("]"):
            self.expect("]")
            return _Filter("not_has" if negate else "has", key)
        if negate:
            raise self.error("'!' before a key takes no value")
        for tok, op in (("!~", "not_re"), ("!=", "ne"), ("~", "re"), ("=", "eq")):
            if self.peek(tok):
                self.expect(tok)
                value = self.string()
                flags = self.regex_flags() if op in ("re", "not_re") else 0
                self.expect("]")
                if op in ("re", "not_re"):
                    try:
                        re.compile(value, flags)
                    except re.error as exc:
                        raise self.error(f"invalid regular expression {value!r}: {exc}") from exc
                return _Filter(op, key, value, flags)
        raise self.error("expected ']', '=', '!=', '~' or '!~' in a tag filter")

    def regex_flags(self) -> int:
        if self.peek(","):
            self.expect(",")
            if self.ident() != "i":
                raise self.error("only the ',i' regex flag exists")
            return re.IGNORECASE
        return 0

    def spatial_filter(
        self, spatial: list[Callable[[str, int], bool]], id_sets: list[set[int]]
    ) -> None:
        self.expect("(")
        start = self.i
        self.ws()
        m = re.compile(r"[A-Za-z_]+").match(self.s, self.i)
        name = m.group(0) if m else ""
        if name == "poly":
            self.ident()
            self.expect(":")
            text = self.string()
            self.expect(")")
            vals = [float(v) for v in text.split()]
            if len(vals) < 6 or len(vals) % 2:
                raise self.error("a polygon needs at least three 'lat lon' pairs")
            ring = [(vals[k + 1], vals[k]) for k in range(0, len(vals), 2)]
            area = shapely.Polygon(ring)
            if not area.is_valid:
                area = shapely.make_valid(area)
            spatial.append(self._area_test("poly:" + text, area))
            return
        if name == "id":
            self.ident()
            self.expect(":")
            ids = {int(self.number())}
            while self.peek(","):
                self.expect(",")
                ids.add(int(self.number()))
            self.expect(")")
            id_sets.append(ids)
            return
        if name:
            self.i = start
            raise self.error(f"spatial filter '{name}' is not supported by the emulator")
        nums = [self.number()]
        while self.peek(","):
            self.expect(",")
            nums.append(self.number())
        self.expect(")")
        if len(nums) == 1:
            id_sets.append({int(nums[0])})
        elif len(nums) == 4:
            s, w, n, e = nums
            if s > n:
                raise self.error("the southern edge of a bbox is north of its northern edge")
            key = "bbox:" + ",".join(map(repr, nums))
            spatial.append(self._area_test(key, shapely.box(w, s, e, n)))
        else:
            raise self.error("expected (id) or (south,west,north,east)")

    def _area_test(self, key: str, area: shapely.Geometry) -> Callable[[str, int], bool]:
        store = self.store
        node_in, ways, rels = store.area_sets(key, area)

        def test(kind: str, eid: int) -> bool:
            if kind == "node":
                return bool(node_in[store.node_index[eid]])
            if kind == "way":
                return eid in ways
            return eid in rels

        return test

    def out(self, name: str) -> set[tuple[str, int]]:
        mode = "body"
        while not self.peek(";"):
            if not self.peek():
                raise self.error("expected ';' after out")
            tok = self.word()
            if tok in ("body", "skel", "ids", "tags"):
                mode = tok
            elif tok in ("meta", "qt", "asc", "noids") or tok.isdigit():
                continue
            else:
                raise self.error(f"'out {tok}' is not supported by the emulator")
        self.expect(";")
        items = self.sets.get(name, set())
        rank = {k: i for i, k in enumerate(_KINDS)}
        for kind, eid in sorted(items, key=lambda x: (rank[x[0]], x[1])):
            self.output.append(self.store.element_json(kind, eid, mode))
        return items


def run_overpass_ql(query: str, store: OSMStore) -> dict[str, Any]:
    """Evaluate an Overpass QL query on a store; return the Overpass JSON document.

    The document's ``"format"`` is the query's output format (``json`` or ``xml``); serve an
    ``xml`` one with :func:`overpass_xml`.
    """
    parser = _Parser(query, store)
    elements = parser.run()
    return {
        "version": 0.6,
        "generator": OVERPASS_GENERATOR,
        "osm3s": {"timestamp_osm_base": store.timestamp, "copyright": OVERPASS_COPYRIGHT},
        "elements": elements,
        "format": parser.settings.get("out", "json"),
    }


def _attr(value: object) -> str:
    return xml_escape(str(value), {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})


def overpass_xml(doc: dict[str, Any]) -> str:
    """An Overpass document (:func:`run_overpass_ql`) as the OSM XML Overpass writes."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<osm version="0.6" generator="{_attr(doc["generator"])}">',
        f"<note>{xml_escape(doc['osm3s']['copyright'])}</note>",
        f'<meta osm_base="{_attr(doc["osm3s"]["timestamp_osm_base"])}"/>',
        "",
    ]
    for el in doc["elements"]:
        kind, eid = el["type"], el["id"]
        head = f'  <{kind} id="{eid}"'
        if kind == "node" and "lat" in el:
            head += f' lat="{el["lat"]:.7f}" lon="{el["lon"]:.7f}"'
        children = [f'    <nd ref="{r}"/>' for r in el.get("nodes", ())]
        children += [
            f'    <member type="{m["type"]}" ref="{m["ref"]}" role="{_attr(m["role"])}"/>'
            for m in el.get("members", ())
        ]
        children += [
            f'    <tag k="{_attr(k)}" v="{_attr(v)}"/>' for k, v in el.get("tags", {}).items()
        ]
        if children:
            out += [head + ">", *children, f"  </{kind}>"]
        else:
            out.append(head + "/>")
    out += ["", "</osm>", ""]
    return "\n".join(out)


def _overpass_error_page(message: str) -> str:
    """The HTML page Overpass answers with on a bad query (HTTP 400)."""
    esc = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n<head>\n'
        '  <meta http-equiv="content-type" content="text/html; charset=utf-8" lang="en"/>\n'
        "  <title>OSM3S Response</title>\n</head>\n<body>\n\n"
        "<p>The data included in this document is from www.openstreetmap.org. "
        "The data is made available under ODbL.</p>\n"
        f'<p><strong style="color:#FF0000">Error</strong>: {esc} </p>\n\n</body>\n</html>\n'
    )


# --------------------------------------------------------------------------------------------
# Nominatim


def nominatim_search(store: OSMStore, params: dict[str, str]) -> list[dict[str, Any]]:
    """Answer a Nominatim ``search`` with the named elements of the store."""
    if "q" in params:
        parts = [p.strip() for p in params["q"].split(",") if p.strip()]
    else:
        first = params.get("amenity") or params.get("street") or params.get("city") or ""
        rest = [
            params[k]
            for k in ("city", "county", "state", "country", "postalcode")
            if params.get(k) and params[k] != first
        ]
        parts = [p for p in [first, *rest] if p]
    if not parts:
        return []
    head = parts[0].casefold()
    found = []
    for place in store.places:
        if head not in place["_names"]:
            continue
        disp = place["display_name"].casefold()
        if all(p.casefold() in disp for p in parts[1:]):
            found.append(place)
    found.sort(key=lambda p: (-p["importance"], p["osm_type"], p["osm_id"]))
    try:
        limit = int(params.get("limit", "10"))
    except ValueError:
        limit = 10
    return [_place_json(store, p, params) for p in found[: max(1, min(limit, 50))]]


def nominatim_lookup(store: OSMStore, params: dict[str, str]) -> list[dict[str, Any]]:
    """Answer a Nominatim ``lookup`` (``osm_ids=R1,W2,N3``)."""
    wanted = []
    for tok in params.get("osm_ids", "").split(","):
        tok = tok.strip()
        if len(tok) > 1 and tok[0].upper() in "NWR" and tok[1:].isdigit():
            wanted.append(
                ({"N": "node", "W": "way", "R": "relation"}[tok[0].upper()], int(tok[1:]))
            )
    by_key = {(p["osm_type"], p["osm_id"]): p for p in store.places}
    return [_place_json(store, by_key[k], params) for k in wanted if k in by_key]


def _place_json(store: OSMStore, place: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    fmt = params.get("format", "xml")
    # a stable made-up place_id (Nominatim's own ids are internal row numbers)
    type_code = {"node": 1, "way": 2, "relation": 3}[place["osm_type"]]
    out: dict[str, Any] = {
        "place_id": 100_000_000 + (place["osm_id"] % 10_000_000) * 10 + type_code,
        "licence": NOMINATIM_LICENCE,
        "osm_type": place["osm_type"],
        "osm_id": place["osm_id"],
        "lat": place["lat"],
        "lon": place["lon"],
    }
    if fmt == "jsonv2":
        out["category"] = place["class"]
    else:
        out["class"] = place["class"]
    out.update(
        {
            "type": place["type"],
            "place_rank": place["place_rank"],
            "importance": place["importance"],
            "addresstype": place["addresstype"],
            "name": place["name"],
            "display_name": place["display_name"],
            "boundingbox": list(place["boundingbox"]),
        }
    )
    if params.get("polygon_geojson", "0") not in ("0", ""):
        out["geojson"] = place["geojson"]
    return out


# --------------------------------------------------------------------------------------------
# the HTTP server


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    data: str | None  # the Overpass QL, if any
    client: str
    status: int = 0
    count: int = 0  # elements (Overpass) or results (Nominatim)
    seconds: float = 0.0
    user_agent: str = ""

    @property
    def service(self) -> str:
        """``overpass``, ``overpass-status``, ``nominatim`` or ``other``."""
        if self.path.endswith("/interpreter"):
            return "overpass"
        if self.path.startswith("/api/status"):
            return "overpass-status"
        if self.path.rstrip("/").split("/")[-1] in ("search", "lookup", "search.php"):
            return "nominatim"
        return "other"


@dataclass
class _Config:
    store: OSMStore
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: int = 2
    overpass_fault: tuple[int, str] | None = None


class _Handler(BaseHTTPRequestHandler):
    server_version = "osm-test-server/1.0"
    protocol_version = "HTTP/1.1"
    config: _Config  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; requests are recorded instead

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        t0 = time.perf_counter()
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        body = b""
        if method == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            ctype = self.headers.get("Content-Type", "")
            if "application/x-www-form-urlencoded" in ctype or body.startswith(b"data="):
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        rec = RecordedRequest(
            method=method,
            path=parts.path,
            query=query,
            form=form,
            data=None,
            client=self.client_address[0],
            user_agent=self.headers.get("User-Agent", ""),
        )
        try:
            status, ctype, payload, count = self._dispatch(rec, parts.path, query, form, body)
        except Exception as exc:  # a bug in the emulator: say so, don't hang
            status, ctype, payload, count = 500, "text/plain; charset=utf-8", repr(exc), 0
        rec.status, rec.count = status, count
        rec.seconds = time.perf_counter() - t0
        with self.config.lock:
            self.config.requests.append(rec)
        data = payload.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(
        self,
        rec: RecordedRequest,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        body: bytes,
    ) -> tuple[int, str, str, int]:
        store = self.config.store
        leaf = path.rstrip("/").split("/")[-1]
        if path.startswith("/api/") and leaf == "interpreter":
            ql = (form.get("data") or query.get("data") or [None])[0]
            if ql is None and body:
                ql = body.decode("utf-8")
            rec.data = ql
            if not ql:
                return (
                    400,
                    "text/html; charset=utf-8",
                    _overpass_error_page("line 1: parse error: empty query"),
                    0,
                )
            if self.config.overpass_fault is not None:
                status, text = self.config.overpass_fault
                return status, "text/html; charset=utf-8", text, 0
            try:
                doc = run_overpass_ql(ql, store)
            except OverpassError as exc:
                return 400, "text/html; charset=utf-8", _overpass_error_page(str(exc)), 0
            if doc.pop("format") == "xml":
                return 200, "application/osm3s+xml", overpass_xml(doc), len(doc["elements"])
            return 200, "application/json", json.dumps(doc), len(doc["elements"])
        if path.startswith("/api/") and leaf == "status":
            return 200, "text/plain; charset=utf-8", self._status_text(), 0
        if leaf in ("search", "search.php", "lookup"):
            params = {k: v[0] for k, v in query.items()}
            fmt = params.get("format", "xml")
            if fmt not in ("json", "jsonv2"):
                return (
                    400,
                    "application/json",
                    json.dumps(
                        {"error": {"code": 400, "message": f"format {fmt!r} not served here"}}
                    ),
                    0,
                )
            res = (nominatim_lookup if leaf == "lookup" else nominatim_search)(store, params)
            return 200, "application/json; charset=utf-8", json.dumps(res), len(res)
        return 404, "text/plain; charset=utf-8", f"not found: {path}", 0

    def _status_text(self) -> str:
        now = dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ip = int(ipaddress.ip_address(self.client_address[0]))
        return (
            f"Connected as: {ip}\n"
            f"Current time: {now}\n"
            "Announced endpoint: none\n"
            f"Rate limit: {self.config.slots}\n"
            f"{self.config.slots} slots available now.\n"
            "Currently running queries (pid, space limit, time limit, start time):\n"
        )


class OSMTestServer:
    """A threaded HTTP server on 127.0.0.1 emulating Overpass and Nominatim over one OSM file.

    Examples
    --------
    >>> with OSMTestServer("helsinki.osm.pbf") as srv:  # doctest: +SKIP
    ...     ox.settings.overpass_url = srv.overpass_url
    """

    def __init__(self, osm: str | Path | OSMStore, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the test server only binds to a loopback address")
        self.store = osm if isinstance(osm, OSMStore) else OSMStore(osm)
        self._config = _Config(store=self.store)
        handler = type("Handler", (_Handler,), {"config": self._config})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def overpass_url(self) -> str:
        """Value for ``osmnx.settings.overpass_url``."""
        return self.url + "/api"

    @property
    def nominatim_url(self) -> str:
        """Value for ``osmnx.settings.nominatim_url``."""
        return self.url + "/"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far."""
        with self._config.lock:
            return list(self._config.requests)

    @property
    def overpass_fault(self) -> tuple[int, str] | None:
        """``(HTTP status, body)`` the interpreter answers every query with; None: no fault."""
        return self._config.overpass_fault

    @overpass_fault.setter
    def overpass_fault(self, fault: tuple[int, str] | None) -> None:
        self._config.overpass_fault = fault

    def clear_requests(self) -> None:
        with self._config.lock:
            self._config.requests.clear()

    def start(self) -> OSMTestServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="osm-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OSMTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# guard: nothing may leave the loopback interface


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class LoopbackGuard:
    """Refuse, loudly, every name lookup or connection to a host other than loopback.

    Patches ``socket.getaddrinfo``, ``socket.gethostbyname``, ``socket.create_connection``,
    ``socket.socket.connect``/``connect_ex``/``sendto`` (and osmnx's saved copy of
    ``getaddrinfo``) with ``monkeypatch``, so everything is restored after the test. Blocked
    attempts raise :class:`NetworkAccessBlockedError` and are kept in :attr:`blocked`.
    """

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def _refuse(self, what: str, host: Any) -> None:
        msg = f"{what}({host!r}) would leave 127.0.0.1: online tests must stay offline"
        self.blocked.append(msg)
        raise NetworkAccessBlockedError(msg)

    def install(self, monkeypatch: Any) -> LoopbackGuard:
        guard = self
        real_getaddrinfo = socket.getaddrinfo
        real_gethostbyname = socket.gethostbyname
        real_create_connection = socket.create_connection
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not _is_loopback(host):
                guard._refuse("getaddrinfo", host)
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            if not _is_loopback(host):
                guard._refuse("gethostbyname", host)
            return real_gethostbyname(host)

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            if not _is_loopback(address[0]):
                guard._refuse("create_connection", address[0])
            return real_create_connection(address, *args, **kwargs)

        def _check_inet(sock: socket.socket, address: Any, what: str) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
                guard._refuse(what, address[0])

        def connect(sock: socket.socket, address: Any) -> Any:
            _check_inet(sock, address, "connect")
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            _check_inet(sock, address, "connect_ex")
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            address = args[-1]
            _check_inet(sock, address, "sendto")
            return real_sendto(sock, data, *args)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "gethostbyname", gethostbyname)
        monkeypatch.setattr(socket, "create_connection", create_connection)
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)
        try:  # osmnx keeps the original getaddrinfo and re-installs wrappers around it
            import osmnx._http as ox_http

            monkeypatch.setattr(ox_http, "_original_getaddrinfo", getaddrinfo)
        except ImportError:  # pragma: no cover
            pass
        return self
