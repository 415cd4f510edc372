"""A fast reader of the plain parts of an ``.osm.pbf`` file: nodes, ways and relations as arrays.

pyosmium hands every OSM object to Python as an object, and reading the node list of a way
costs one Python call per node: on a city of a million street nodes that is most of the
reading time. This module decodes the file's blocks itself (``zlib`` and a few compiled
protobuf loops, numba) into flat arrays, with the tags as indices into one table of strings:

* nodes: id, fixed-point coordinates (1e-7 degrees, as libosmium stores them), tags;
* ways: id, node references, tags;
* relations: id, members (id and type), tags.

It reads only what libosmium would read the same way: a sorted file (nodes, then ways, then
relations, ids increasing), without history, coordinates stored at the default granularity
and every coordinate in -180..180 / -90..90. Anything else (and any file it cannot decode)
gives :class:`UnsupportedPBFError`, and :mod:`fifteenmin._osm` reads the file with pyosmium alone.
"""

from __future__ import annotations

import importlib
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PBFArrays", "UnsupportedPBFError", "decode_pbf", "numba_available"]

numba: Any
try:
    numba = importlib.import_module("numba")
except ImportError:  # pragma: no cover - numba is a dependency; without it pyosmium reads
    numba = None


def numba_available() -> bool:
    """Whether the compiled decoder can run (numba is installed)."""
    return numba is not None


def _njit(fn: Any) -> Any:
    return numba.njit(cache=True, nogil=True)(fn) if numba is not None else fn


class UnsupportedPBFError(Exception):
    """The file holds something this decoder does not read exactly as libosmium does."""


# error codes of the compiled block decoder (0: fine)
_ERR_FORMAT = 1  # truncated or malformed protobuf
_ERR_WIRE = 2  # a field with an unexpected wire type
_ERR_COORD = 3  # granularity or offsets other than the defaults
_ERR_VISIBLE = 4  # history data (visible flags)
_ERR_STRING = 5  # a string id outside the string table

_MAX_STRING = 1000  # bytes; libosmium refuses tag strings over 1,024 bytes


@dataclass
class PBFArrays:
    """The objects of a sorted ``.osm.pbf`` file, in file order, as arrays.

    ``strings`` is the table the tag arrays index (every distinct string once). The tags of
    node ``i`` are ``node_key[node_tag_ptr[i]:node_tag_ptr[i + 1]]`` (keys) and the same slice
    of ``node_val`` (values), in the file's order; ways and relations likewise. Coordinates
    are libosmium's fixed-point integers (degrees x 1e7).
    """

    strings: list[str]
    string_index: dict[str, int]  # the position of each string in ``strings``
    node_id: np.ndarray  # int64, increasing
    node_x: np.ndarray  # int32
    node_y: np.ndarray  # int32
    node_tag_ptr: np.ndarray  # int64 (n_nodes + 1,)
    node_key: np.ndarray  # int32 indices into strings
    node_val: np.ndarray
    way_id: np.ndarray  # int64, increasing
    way_ref_ptr: np.ndarray  # int64 (n_ways + 1,)
    way_ref: np.ndarray  # int64 node ids
    way_tag_ptr: np.ndarray
    way_key: np.ndarray
    way_val: np.ndarray
    rel_id: np.ndarray  # int64, increasing
    rel_mem_ptr: np.ndarray
    rel_mem_id: np.ndarray  # int64
    rel_mem_type: np.ndarray  # int8: 0 node, 1 way, 2 relation
    rel_tag_ptr: np.ndarray
    rel_key: np.ndarray
    rel_val: np.ndarray


# ---------------------------------------------------------------------------------------------
# protobuf primitives (compiled)


@_njit
def _varint(buf: np.ndarray, pos: int, end: int) -> tuple[Any, int]:
    """An unsigned varint at ``pos`` (as int64 bits) and the position after it; pos -1 on error."""
    result = np.uint64(0)
    shift = np.uint64(0)
    while pos < end:
        b = buf[pos]
        pos += 1
        result |= np.uint64(b & 0x7F) << shift
        if b < 0x80:
            return np.int64(result), pos
        shift += np.uint64(7)
        if shift > np.uint64(63):
            return 0, -1
    return 0, -1


@_njit
def _zigzag(v: int) -> Any:
    u = np.uint64(v)
    return np.int64(u >> np.uint64(1)) ^ -np.int64(u & np.uint64(1))


@_njit
def _skip(buf: np.ndarray, pos: int, end: int, wire: int) -> int:
    """The position after a field's value of this wire type (-1 on error)."""
    if wire == 0:
        _, pos = _varint(buf, pos, end)
        return pos
    if wire == 2:
        n, pos = _varint(buf, pos, end)
        if pos < 0 or n < 0 or pos + n > end:
            return -1
        return pos + n
    if wire == 1:
        return pos + 8 if pos + 8 <= end else -1
    if wire == 5:
        return pos + 4 if pos + 4 <= end else -1
    return -1


@_njit
def _count_varints(buf: np.ndarray, a: int, b: int) -> int:
    n = 0
    for i in range(a, b):
        if buf[i] < 0x80:
            n += 1
    return n


@_njit
def _len_field(buf: np.ndarray, pos: int, end: int) -> tuple[int, int]:
    """A length-delimited field's payload: (start, end); (-1, -1) on error."""
    n, pos = _varint(buf, pos, end)
    if pos < 0 or n < 0 or pos + n > end:
        return -1, -1
    return pos, pos + n


# ---------------------------------------------------------------------------------------------
# one PrimitiveBlock


@_njit
def _scan_block(buf: np.ndarray) -> tuple[int, int, int, int, int, int, int, int, int, int]:
    """Upper bounds of what a block holds, and its string count; the block's error code first.

    Returns (err, strings, nodes, node tags, ways, refs, way tags, relations, members,
    relation tags). Counts of packed values are counts of varints (exact).
    """
    end = buf.shape[0]
    pos = 0
    n_str = 0
    n_node = n_ntag = n_way = n_ref = n_wtag = n_rel = n_mem = n_rtag = 0
    gran = 100
    lat_off = 0
    lon_off = 0
    while pos < end:
        key, pos = _varint(buf, pos, end)
        if pos < 0:
            return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 2:  # StringTable
            a, b = _len_field(buf, pos, end)
            if a < 0:
                return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
            p = a
            while p < b:
                k2, p = _varint(buf, p, b)
                if p < 0 or k2 != (1 << 3 | 2):
                    return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                p = _skip(buf, p, b, 2)
                if p < 0:
                    return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                n_str += 1
            pos = b
        elif field == 2 and wire == 2:  # PrimitiveGroup
            a, b = _len_field(buf, pos, end)
            if a < 0:
                return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
            p = a
            while p < b:
                k2, p = _varint(buf, p, b)
                if p < 0:
                    return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                f2, w2 = k2 >> 3, k2 & 7
                if w2 != 2:
                    return _ERR_WIRE, 0, 0, 0, 0, 0, 0, 0, 0, 0
                c, d = _len_field(buf, p, b)
                if c < 0:
                    return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                # inside one element: count its packed arrays
                q = c
                while q < d:
                    k3, q = _varint(buf, q, d)
                    if q < 0:
                        return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                    f3, w3 = k3 >> 3, k3 & 7
                    if w3 == 2:
                        e, g = _len_field(buf, q, d)
                        if e < 0:
                            return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                        m = _count_varints(buf, e, g)
                        if f2 == 2:  # DenseNodes
                            if f3 == 1:
                                n_node += m
                            elif f3 == 10:
                                n_ntag += m
                        elif f2 == 1:  # Node
                            if f3 == 2:
                                n_ntag += m
                        elif f2 == 3:  # Way
                            if f3 == 2:
                                n_wtag += m
                            elif f3 == 8:
                                n_ref += m
                        elif f2 == 4:  # Relation
                            if f3 == 2:
                                n_rtag += m
                            elif f3 == 9:
                                n_mem += m
                        q = g
                    else:
                        q = _skip(buf, q, d, w3)
                        if q < 0:
                            return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
                if f2 == 1:
                    n_node += 1
                elif f2 == 3:
                    n_way += 1
                elif f2 == 4:
                    n_rel += 1
                p = d
            pos = b
        elif field == 17 and wire == 0:
            gran, pos = _varint(buf, pos, end)
        elif field == 19 and wire == 0:
            lat_off, pos = _varint(buf, pos, end)
        elif field == 20 and wire == 0:
            lon_off, pos = _varint(buf, pos, end)
        else:
            pos = _skip(buf, pos, end, wire)
        if pos < 0:
            return _ERR_FORMAT, 0, 0, 0, 0, 0, 0, 0, 0, 0
    if gran != 100 or lat_off != 0 or lon_off != 0:
        return _ERR_COORD, 0, 0, 0, 0, 0, 0, 0, 0, 0
    return 0, n_str, n_node, n_ntag, n_way, n_ref, n_wtag, n_rel, n_mem, n_rtag


@_njit
def _packed_uint(buf: np.ndarray, a: int, b: int, out: np.ndarray, k: int) -> int:
    """Append the packed varints of buf[a:b] to out from k; the new k (-1 on error)."""
    p = a
    while p < b:
        v, p = _varint(buf, p, b)
        if p < 0:
            return -1
        out[k] = v
        k += 1
    return k


@_njit
def _packed_delta(buf: np.ndarray, a: int, b: int, out: np.ndarray, k: int, end: int = -1) -> int:
    """Append the delta-coded packed sint64 of buf[a:b] to out from k; the new k.

    -1 for a malformed varint, or for more values than fit before ``end`` (if given).
    """
    p = a
    acc = 0
    while p < b:
        v, p = _varint(buf, p, b)
        if p < 0 or (end >= 0 and k >= end):
            return -1
        acc += _zigzag(v)
        out[k] = acc
        k += 1
    return k


@_njit
def _dense(buf, a, b, c, t):  # type: ignore[no-untyped-def]
    """Decode one DenseNodes message into the node arrays of ``t`` from counts ``c``."""
    ids = (-1, -1)
    lats = (-1, -1)
    lons = (-1, -1)
    kvs = (-1, -1)
    p = a
    while p < b:
        key, p = _varint(buf, p, b)
        if p < 0:
            return _ERR_FORMAT
        f, w = key >> 3, key & 7
        if w != 2:
            p = _skip(buf, p, b, w)
            if p < 0:
                return _ERR_FORMAT
            continue
        e, g = _len_field(buf, p, b)
        if e < 0:
            return _ERR_FORMAT
        if f == 1:
            ids = (e, g)
        elif f == 8:
            lats = (e, g)
        elif f == 9:
            lons = (e, g)
        elif f == 10:
            kvs = (e, g)
        elif f == 5:  # DenseInfo: history files carry visible flags (field 6)
            q = e
            while q < g:
                k2, q = _varint(buf, q, g)
                if q < 0:
                    return _ERR_FORMAT
                if k2 >> 3 == 6:
                    return _ERR_VISIBLE
                q = _skip(buf, q, g, k2 & 7)
                if q < 0:
                    return _ERR_FORMAT
        p = g
    node_id, node_x, node_y, node_ntag, node_key, node_val = t[0], t[1], t[2], t[3], t[4], t[5]
    n0 = c[0]
    if ids[0] < 0:
        return 0
    n1 = _packed_delta(buf, ids[0], ids[1], node_id, n0)
    if n1 < 0 or lats[0] < 0 or lons[0] < 0:
        return _ERR_FORMAT
    # coordinates: delta-coded, same count as ids
    if _packed_delta(buf, lats[0], lats[1], node_y, n0, n1) != n1:
        return _ERR_FORMAT
    if _packed_delta(buf, lons[0], lons[1], node_x, n0, n1) != n1:
        return _ERR_FORMAT
    # tags: k v k v 0 per node (the array may be absent or end early: no more tags)
    m = c[1]
    j = n0
    if kvs[0] >= 0:
        p = kvs[0]
        while p < kvs[1] and j < n1:
            v, p = _varint(buf, p, kvs[1])
            if p < 0:
                return _ERR_FORMAT
            if v == 0:
                j += 1
                continue
            v2, p = _varint(buf, p, kvs[1])
            if p < 0:
                return _ERR_FORMAT
            node_key[m] = v
            node_val[m] = v2
            node_ntag[j] += 1
            m += 1
    c[0] = n1
    c[1] = m
    return 0


@_njit
def _tags(buf, keys, vals, out_k, out_v, m):  # type: ignore[no-untyped-def]
    """Append an element's packed keys and values; the new count (-1 on error)."""
    if keys[0] < 0:
        return m if vals[0] < 0 else -1
    m1 = _packed_uint(buf, keys[0], keys[1], out_k, m)
    if m1 < 0 or vals[0] < 0:
        return -1
    m2 = _packed_uint(buf, vals[0], vals[1], out_v, m)
    if m2 != m1:
        return -1
    return m1


@_njit
def _element(buf, a, b, kind, c, t):  # type: ignore[no-untyped-def]
    """Decode one Node (kind 1), Way (3) or Relation (4) message."""
    ident = np.int64(0)
    have_id = False
    keys = (-1, -1)
    vals = (-1, -1)
    arr8 = (-1, -1)
    arr9 = (-1, -1)
    arr10 = (-1, -1)
    lat = np.int64(0)
    lon = np.int64(0)
    have_lat = False
    have_lon = False
    p = a
    while p < b:
        key, p = _varint(buf, p, b)
        if p < 0:
            return _ERR_FORMAT
        f, w = key >> 3, key & 7
        if f == 1 and w == 0:
            v, p = _varint(buf, p, b)
            ident = _zigzag(v) if kind == 1 else v
            have_id = True
        elif kind == 1 and (f == 8 or f == 9) and w == 0:
            v, p = _varint(buf, p, b)
            if f == 8:
                lat = _zigzag(v)
                have_lat = True
            else:
                lon = _zigzag(v)
                have_lon = True
        elif w == 2 and f in (2, 3, 4, 8, 9, 10):
            e, g = _len_field(buf, p, b)
            if e < 0:
                return _ERR_FORMAT
            if f == 2:
                keys = (e, g)
            elif f == 3:
                vals = (e, g)
            elif f == 4:  # Info: visible flag (field 6) only in history files
                q = e
                while q < g:
                    k2, q = _varint(buf, q, g)
                    if q < 0:
                        return _ERR_FORMAT
                    if k2 >> 3 == 6:
                        return _ERR_VISIBLE
                    q = _skip(buf, q, g, k2 & 7)
                    if q < 0:
                        return _ERR_FORMAT
            elif f == 8:
                arr8 = (e, g)
            elif f == 9:
                arr9 = (e, g)
            else:
                arr10 = (e, g)
            p = g
        elif f in (2, 3, 8, 9, 10):
            return _ERR_WIRE  # repeated fields not packed: not written by any known writer
        else:
            p = _skip(buf, p, b, w)
        if p < 0:
            return _ERR_FORMAT
    if not have_id:
        return _ERR_FORMAT
    if kind == 1:
        if not (have_lat and have_lon):
            return _ERR_FORMAT
        return _store_node(buf, ident, lon, lat, keys, vals, c, t)
    if kind == 3:
        return _store_way(buf, ident, keys, vals, arr8, c, t)
    return _store_relation(buf, ident, keys, vals, arr9, arr10, c, t)


@_njit
def _store_node(buf, ident, lon, lat, keys, vals, c, t):  # type: ignore[no-untyped-def]
    node_id, node_x, node_y, node_ntag, node_key, node_val = t[0], t[1], t[2], t[3], t[4], t[5]
    n = c[0]
    node_id[n] = ident
    node_x[n] = lon
    node_y[n] = lat
    m = _tags(buf, keys, vals, node_key, node_val, c[1])
    if m < 0:
        return _ERR_FORMAT
    node_ntag[n] = m - c[1]
    c[0] = n + 1
    c[1] = m
    return 0


@_njit
def _store_way(buf, ident, keys, vals, refs, c, t):  # type: ignore[no-untyped-def]
    way_id, way_nref, way_ref, way_ntag, way_key, way_val = t[6], t[7], t[8], t[9], t[10], t[11]
    n = c[2]
    way_id[n] = ident
    r = c[3]
    if refs[0] >= 0:
        r = _packed_delta(buf, refs[0], refs[1], way_ref, r)
        if r < 0:
            return _ERR_FORMAT
    way_nref[n] = r - c[3]
    m = _tags(buf, keys, vals, way_key, way_val, c[4])
    if m < 0:
        return _ERR_FORMAT
    way_ntag[n] = m - c[4]
    c[2] = n + 1
    c[3] = r
    c[4] = m
    return 0


@_njit
def _store_relation(buf, ident, keys, vals, mems, types, c, t):  # type: ignore[no-untyped-def]
    rel_id, rel_nmem, rel_mem, rel_type = t[12], t[13], t[14], t[15]
    rel_ntag, rel_key, rel_val = t[16], t[17], t[18]
    n = c[5]
    rel_id[n] = ident
    r = c[6]
    if mems[0] >= 0:
        r = _packed_delta(buf, mems[0], mems[1], rel_mem, r)
        if r < 0:
            return _ERR_FORMAT
    if types[0] >= 0:
        r2 = _packed_uint(buf, types[0], types[1], rel_type, c[6])
        if r2 != r:
            return _ERR_FORMAT
    elif r != c[6]:
        return _ERR_FORMAT
    rel_nmem[n] = r - c[6]
    m = _tags(buf, keys, vals, rel_key, rel_val, c[7])
    if m < 0:
        return _ERR_FORMAT
    rel_ntag[n] = m - c[7]
    c[5] = n + 1
    c[6] = r
    c[7] = m
    return 0


@_njit
def _decode_block(buf, t, str_start, str_end):  # type: ignore[no-untyped-def]
    """Decode a PrimitiveBlock into the arrays ``t`` (sized by :func:`_scan_block`).

    Returns the error code and the counts (nodes, node tags, ways, refs, way tags,
    relations, members, relation tags).
    """
    c = np.zeros(8, dtype=np.int64)
    end = buf.shape[0]
    pos = 0
    ns = 0
    while pos < end:
        key, pos = _varint(buf, pos, end)
        if pos < 0:
            return _ERR_FORMAT, c
        field, wire = key >> 3, key & 7
        if field == 1 and wire == 2:
            a, b = _len_field(buf, pos, end)
            p = a
            while p < b:
                _, p = _varint(buf, p, b)
                e, g = _len_field(buf, p, b)
                if e < 0:
                    return _ERR_FORMAT, c
                str_start[ns] = e
                str_end[ns] = g
                ns += 1
                p = g
            pos = b
        elif field == 2 and wire == 2:
            a, b = _len_field(buf, pos, end)
            p = a
            while p < b:
                k2, p = _varint(buf, p, b)
                if p < 0:
                    return _ERR_FORMAT, c
                f2 = k2 >> 3
                e, g = _len_field(buf, p, b)
                if e < 0:
                    return _ERR_FORMAT, c
                if f2 == 2:
                    err = _dense(buf, e, g, c, t)
                elif f2 == 1 or f2 == 3 or f2 == 4:
                    err = _element(buf, e, g, f2, c, t)
                else:
                    err = 0  # changesets: not read
                if err:
                    return err, c
                p = g
            pos = b
        else:
            pos = _skip(buf, pos, end, wire)
            if pos < 0:
                return _ERR_FORMAT, c
    return 0, c


@_njit
def _check_strings(keys: np.ndarray, vals: np.ndarray, n_str: int) -> bool:
    for i in range(keys.shape[0]):
        if keys[i] < 0 or keys[i] >= n_str or vals[i] < 0 or vals[i] >= n_str:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# the file: blobs, blocks, strings


def _pb_fields(data: bytes) -> dict[int, list[Any]]:
    """The fields of a small protobuf message (header blocks): number -> values."""
    out: dict[int, list[Any]] = {}
    pos, end = 0, len(data)
    value: Any
    while pos < end:
        key, pos = _py_varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _py_varint(data, pos)
        elif wire == 2:
            n, pos = _py_varint(data, pos)
            value, pos = data[pos : pos + n], pos + n
            if pos > end:
                raise UnsupportedPBFError("truncated message")
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise UnsupportedPBFError(f"wire type {wire}")
        out.setdefault(field, []).append(value)
    return out


def _py_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise UnsupportedPBFError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _blobs(data: bytes) -> list[tuple[str, bytes, int]]:
    """The file's blobs: (type, payload, uncompressed size; 0 for a raw payload)."""
    out = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + 4 > end:
            raise UnsupportedPBFError("truncated blob header")
        n = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        header = _pb_fields(data[pos : pos + n])
        pos += n
        kind = header.get(1, [b""])[0].decode("utf-8", "replace")
        size = header.get(3, [0])[0]
        blob = _pb_fields(data[pos : pos + size])
        pos += size
        if pos > end:
            raise UnsupportedPBFError("truncated blob")
        if 1 in blob:
            out.append((kind, blob[1][0], 0))
        elif 3 in blob and 2 in blob and blob[2][0] > 0:
            out.append((kind, blob[3][0], blob[2][0]))
        else:
            raise UnsupportedPBFError("blob compression other than zlib")
    return out


def _header_ok(raw: bytes) -> None:
    """Refuse files whose header asks for features this decoder does not implement."""
    fields = _pb_fields(raw)
    for feature in fields.get(4, []):  # required_features
        if feature not in (b"OsmSchema-V0.6", b"DenseNodes"):
            raise UnsupportedPBFError(f"required feature {feature!r}")
    for feature in fields.get(5, []):  # optional_features
        if feature in (b"LocationsOnWays", b"HistoricalInformation"):
            raise UnsupportedPBFError(f"optional feature {feature!r}")


def _empty_tables(counts: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    _, _, n_node, n_ntag, n_way, n_ref, n_wtag, n_rel, n_mem, n_rtag = counts
    i64, i32 = np.int64, np.int32
    return (
        np.empty(n_node, i64),
        np.empty(n_node, i64),
        np.empty(n_node, i64),
        np.zeros(n_node, i32),
        np.empty(n_ntag, i64),
        np.empty(n_ntag, i64),
        np.empty(n_way, i64),
        np.zeros(n_way, i32),
        np.empty(n_ref, i64),
        np.zeros(n_way, i32),
        np.empty(n_wtag, i64),
        np.empty(n_wtag, i64),
        np.empty(n_rel, i64),
        np.zeros(n_rel, i32),
        np.empty(n_mem, i64),
        np.empty(n_mem, i64),
        np.zeros(n_rel, i32),
        np.empty(n_rtag, i64),
        np.empty(n_rtag, i64),
    )


class _Strings:
    """One table of the distinct strings of all blocks."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.strings: list[str] = []

    def lut(self, raw: bytes, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Global ids of a block's strings (UnsupportedPBFError: invalid or overlong text)."""
        index, strings = self.index, self.strings
        out = np.empty(len(start), dtype=np.int32)
        for i, (a, b) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
            if b - a > _MAX_STRING:
                raise UnsupportedPBFError("overlong string")
            try:
                s = raw[a:b].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UnsupportedPBFError("string not UTF-8") from exc
            k = index.get(s)
            if k is None:
                k = index[s] = len(strings)
                strings.append(s)
            out[i] = k
        return out


def _decoded(raw: bytes) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """One PrimitiveBlock as arrays with the block's own string ids (runs without the GIL)."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    counts = _scan_block(buf)
    if counts[0]:
        raise UnsupportedPBFError(f"block error {counts[0]}")
    t = _empty_tables(counts)
    str_start = np.empty(counts[1], np.int64)
    str_end = np.empty(counts[1], np.int64)
    err, c = _decode_block(buf, t, str_start, str_end)
    if err:
        raise UnsupportedPBFError(f"block error {err}")
    n_node, n_ntag, n_way, n_ref, n_wtag, n_rel, n_mem, n_rtag = (int(v) for v in c)
    sizes = [n_node] * 4 + [n_ntag] * 2 + [n_way, n_way, n_ref, n_way, n_wtag, n_wtag]
    sizes += [n_rel, n_rel, n_mem, n_mem, n_rel, n_rtag, n_rtag]
    t = tuple(a[:k] for a, k in zip(t, sizes, strict=True))
    for k, v in ((4, 5), (10, 11), (17, 18)):
        if not _check_strings(t[k], t[v], len(str_start)):
            raise UnsupportedPBFError("string id out of range")
    if n_mem and (t[15].min() < 0 or t[15].max() > 2):
        raise UnsupportedPBFError("unknown member type")
    return t, str_start, str_end


def _blob_block(
    data: bytes, raw_size: int
) -> tuple[tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray], bytes]:
    """Inflate one blob (zlib when ``raw_size``) and decode it."""
    raw = zlib.decompress(data, bufsize=raw_size) if raw_size else data
    if raw_size and len(raw) != raw_size:
        raise UnsupportedPBFError("blob size differs from its header")
    return _decoded(raw), raw


def _block(t: tuple[np.ndarray, ...], lut: np.ndarray) -> tuple[np.ndarray, ...]:
    """A decoded block's arrays with its string ids mapped to the global table."""
    return (
        *t[:4],
        lut[t[4]],
        lut[t[5]],
        *t[6:10],
        lut[t[10]],
        lut[t[11]],
        *t[12:17],
        lut[t[17]],
        lut[t[18]],
    )


def _ptr(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def decode_pbf(path: Path) -> PBFArrays:
    """Decode a sorted ``.osm.pbf`` file into arrays.

    Raises
    ------
    UnsupportedPBFError
        The file is not a PBF file this decoder reads exactly as libosmium does (unsorted,
        history, unusual encodings, coordinates out of range); read it with pyosmium.
    """
    if numba is None:  # pragma: no cover
        raise UnsupportedPBFError("numba is not installed")
    blobs = _blobs(path.read_bytes())
    if not blobs or blobs[0][0] != "OSMHeader":
        raise UnsupportedPBFError("no OSMHeader block first")
    head = blobs[0]
    _header_ok(zlib.decompress(head[1], bufsize=head[2]) if head[2] else head[1])
    if any(kind == "OSMHeader" for kind, _, _ in blobs[1:]):
        raise UnsupportedPBFError("a second header")
    data = [b for b in blobs[1:] if b[0] == "OSMData"]
    # inflating (zlib) and decoding (numba) run without the GIL: two threads share the blocks
    with ThreadPoolExecutor(max_workers=2) as pool:
        decoded = list(pool.map(lambda b: _blob_block(b[1], b[2]), data))
    strings = _Strings()
    parts = []
    for (t, str_start, str_end), raw in decoded:
        parts.append(_block(t, strings.lut(raw, str_start, str_end)))
    cols = [np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in range(19)]
    out = PBFArrays(
        strings=strings.strings,
        string_index=strings.index,
        node_id=cols[0].astype(np.int64, copy=False),
        node_x=cols[1].astype(np.int64, copy=False),
        node_y=cols[2].astype(np.int64, copy=False),
        node_tag_ptr=_ptr(cols[3]),
        node_key=cols[4].astype(np.int32, copy=False),
        node_val=cols[5].astype(np.int32, copy=False),
        way_id=cols[6].astype(np.int64, copy=False),
        way_ref_ptr=_ptr(cols[7]),
        way_ref=cols[8].astype(np.int64, copy=False),
        way_tag_ptr=_ptr(cols[9]),
        way_key=cols[10].astype(np.int32, copy=False),
        way_val=cols[11].astype(np.int32, copy=False),
        rel_id=cols[12].astype(np.int64, copy=False),
        rel_mem_ptr=_ptr(cols[13]),
        rel_mem_id=cols[14].astype(np.int64, copy=False),
        rel_mem_type=cols[15].astype(np.int8, copy=False),
        rel_tag_ptr=_ptr(cols[16]),
        rel_key=cols[17].astype(np.int32, copy=False),
        rel_val=cols[18].astype(np.int32, copy=False),
    )
    _check_sorted(out)
    return out


def _check_sorted(a: PBFArrays) -> None:
    """Refuse unsorted files, negative ids and coordinates libosmium would not place."""
    for name, ids in (("node", a.node_id), ("way", a.way_id), ("relation", a.rel_id)):
        if len(ids) and (ids[0] <= 0 or (len(ids) > 1 and not bool(np.all(np.diff(ids) > 0)))):
            raise UnsupportedPBFError(f"{name} ids not positive and increasing")
    if len(a.way_ref) and int(a.way_ref.min()) <= 0:
        raise UnsupportedPBFError("a way references a node id <= 0")
    # libosmium converts to int32; valid locations are within -180..180 / -90..90
    if len(a.node_x) and (
        int(np.abs(a.node_x).max()) > 1_800_000_000 or int(np.abs(a.node_y).max()) > 900_000_000
    ):
        raise UnsupportedPBFError("a coordinate out of range")


@_njit
def present_runs(ptr, rows, present):  # type: ignore[no-untyped-def]
    """Maximal runs of at least two present items of the rows ``rows`` of a CSR array.

    Parameters: ``ptr`` the CSR offsets, ``rows`` the rows to cut (in order), ``present`` one
    flag per item. Returns the runs' first and past-the-end item positions, the row of each
    run, and per row of ``rows`` the number of absent items.
    """
    n_items = 0
    for r in rows:
        n_items += ptr[r + 1] - ptr[r]
    start = np.empty(n_items // 2 + 1, dtype=np.int64)
    stop = np.empty(n_items // 2 + 1, dtype=np.int64)
    owner = np.empty(n_items // 2 + 1, dtype=np.int64)
    absent = np.zeros(rows.shape[0], dtype=np.int64)
    k = 0
    for j in range(rows.shape[0]):
        r = rows[j]
        a = ptr[r]
        for i in range(ptr[r], ptr[r + 1] + 1):
            if i == ptr[r + 1] or not present[i]:
                if i - a >= 2:
                    start[k] = a
                    stop[k] = i
                    owner[k] = r
                    k += 1
                if i < ptr[r + 1]:
                    absent[j] += 1
                a = i + 1
    return start[:k], stop[:k], owner[:k], absent
