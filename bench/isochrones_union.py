"""Ways to union a community's buffered street pieces, on a synthetic city (exploration).

The union of the buffered pieces is ~90 % of ``community_walking_areas``. This script takes
the first ``K`` communities of ``bench/.cache/city_<n>_s0.osm.pbf``, cuts their reached
streets once (as the library does) and times, per community (CPU of this process, ms), ways
to build the polygons, with the largest symmetric difference to the library's union relative
to the area:

* ``union_all``: :func:`shapely.union_all` of the buffered pieces (the library's way);
* ``two-stage``: whole edges first, then the cut pieces (the former per-community path);
* ``buffer(MultiLineString)``: one buffer of all pieces at once;
* ``lines union + line_merge + buffer``: the lines dissolved first, then buffered;
* ``make_valid(MultiPolygon, structure)`` and ``buffer(MultiPolygon, 0)``;
* ``disjoint_subset_union_all``;
* ``union_all(grid_size=1e-6)``: snap-rounding overlay;
* ``flat caps only``: rectangles without the round caps (a lower bound, *not* the same area).

Usage::

    python bench/isochrones_union.py [--n 125] [--k 60]

Map data: synthetic (bench/city.py).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import shapely

import fifteenmin as fm
from fifteenmin import _kernel, settings
from fifteenmin import isochrones as iso
from fifteenmin.routing import edge_seeds


def pieces_of(n: int, k: int):
    """Pieces, community index and whole-edge mask of the first ``k`` communities."""
    from scale import city_file

    path, _ = city_file(n, 0)
    data = fm.read_osm(path, keys=fm.load_catalogue("beijing").osm_keys())
    net = fm.network_from_file(data)
    homes = fm.residents(fm.communities_from_osm(data, net), net, data)
    cids = np.unique(homes["community_id"])[:k]
    sub = homes[homes["community_id"].isin(cids)]
    snap = fm.snap_points(net, sub)
    grp = np.searchsorted(cids, sub["community_id"].to_numpy())
    order = np.argsort(grp, kind="stable")
    grp = grp[order]
    e, o, a = snap.edge[order], snap.offset[order], snap.access[order]
    node, dist = edge_seeds(net, e, o, a)
    ptr = np.zeros(k + 1, np.int64)
    np.cumsum(2 * np.bincount(grp, minlength=k), out=ptr[1:])
    band = np.array([15 * 60 * settings.WALK_SPEED_M_S])
    optr, onode, odist = _kernel.bounded_search(
        net.indptr, net.indices, net.lengths, ptr, node, dist, band[0]
    )
    rg = np.repeat(np.arange(k), np.diff(optr))
    g, _, edge, lo, hi = iso._reached_intervals(
        net, rg, onode.astype(np.int64), odist, grp, e, o, a, band
    )
    pieces = iso._pieces(net, edge, lo, hi)
    whole = (lo <= 0) & (hi >= net.edge_length[edge])
    return pieces, np.searchsorted(g, np.arange(k + 1)), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=125)
    parser.add_argument("--k", type=int, default=60)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    _kernel.warmup()
    pieces, b, whole = pieces_of(args.n, args.k)
    k = args.k
    buf = shapely.buffer(pieces, 25.0, quad_segs=8)
    flat = shapely.buffer(pieces, 25.0, quad_segs=8, cap_style="flat")
    print(f"n = {args.n}, {k} communities, {len(pieces) / k:.0f} pieces per community")

    def two_stage(i: int):
        s = slice(b[i], b[i + 1])
        acc = shapely.union_all(np.concatenate([[shapely.Polygon()], buf[s][whole[s]]]))
        part = buf[s][~whole[s]]
        return shapely.union_all(np.concatenate([[acc], part])) if len(part) else acc

    def lines_first(i: int):
        merged = shapely.line_merge(shapely.union_all(pieces[b[i] : b[i + 1]]))
        return shapely.buffer(merged, 25.0, quad_segs=8)

    variants = {
        "union_all": lambda i: shapely.union_all(buf[b[i] : b[i + 1]]),
        "two-stage": two_stage,
        "buffer(MultiLineString)": lambda i: shapely.buffer(
            shapely.multilinestrings(pieces[b[i] : b[i + 1]]), 25.0, quad_segs=8
        ),
        "lines union + line_merge + buffer": lines_first,
        "make_valid(MultiPolygon, structure)": lambda i: shapely.make_valid(
            shapely.multipolygons(buf[b[i] : b[i + 1]]), method="structure", keep_collapsed=False
        ),
        "buffer(MultiPolygon, 0)": lambda i: shapely.buffer(
            shapely.multipolygons(buf[b[i] : b[i + 1]]), 0.0
        ),
        "disjoint_subset_union_all": lambda i: shapely.disjoint_subset_union_all(
            buf[b[i] : b[i + 1]]
        ),
        "union_all(grid_size=1e-6)": lambda i: shapely.union_all(
            buf[b[i] : b[i + 1]], grid_size=1e-6
        ),
        "flat caps only (not the same area)": lambda i: shapely.union_all(flat[b[i] : b[i + 1]]),
    }
    ref = None
    print("| way | ms per community (CPU) | max symdiff / area |\n|---|---|---|")
    for name, fn in variants.items():
        c0 = time.process_time()
        out = np.array([fn(i) for i in range(k)], dtype=object)
        ms = 1e3 * (time.process_time() - c0) / k
        ref = out if ref is None else ref
        sd = shapely.area(shapely.symmetric_difference(out, ref)) / shapely.area(ref)
        print(f"| {name} | {ms:.1f} | {sd.max():.1e} |", flush=True)


if __name__ == "__main__":
    main()
