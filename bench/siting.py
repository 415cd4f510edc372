"""Greedy facility siting against the exact maximal covering optimum (spopt MCLP, CBC).

For each city, origin set, item and k = 1..5: the plain greedy (lazy, CELF), the greedy
improved by swaps (the default of :func:`fifteenmin.siting.site_facilities`), and the exact
optimum of the maximal covering location problem on the *same* coverage sets: spopt's
``MCLP.from_cost_matrix`` solved to optimality by CBC through PuLP (``gapRel=0``), and, as a
cross-check, a sparse PuLP model of our own (same solver) built without the reductions below.

spopt wants a dense cost matrix (demand x facilities), so its model is built on a reduced
instance, with reductions that leave the optimum unchanged: residents already covered by
existing facilities are left out (they cannot add anything); residents covered by the same
set of candidates are merged (weights summed); candidates that cover no uncovered resident,
or a subset of what another candidate covers (duplicates: all but the first), are dropped
(an optimal solution can always use the larger one instead). The optimum is then evaluated on
the full coverage sets.

Instances:

* ``buildings``: the report's resident origins (residential buildings, weight = floor area);
* ``street``: origins every 50 m along every street of the network (weight = metres of
  street), a larger, evenly spread and harder instance;

candidates: every network node. Ratios:

* ``ratio``: covered resident weight / the optimum's (existing coverage included; the
  acceptance criterion is >= 0.95), for the plain greedy and greedy + swaps;
* ``gain ratio``: the same on the weight gained by new sites only (stricter).

Usage::

    pip install -e ".[bench]"
    python bench/siting.py [--k-max 5] [--items a,b,...] [--cities beijing,helsinki]

Needs the ../shared OSM extracts. Prints a Markdown table and a summary.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fifteenmin import origin_times, residents, run_report  # noqa: E402
from fifteenmin.siting import candidate_sites, coverage_sets, greedy_max_coverage  # noqa: E402

SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
CITIES = {
    "beijing": SHARED_OSM / "beijing" / "beijing_haidian_xueyuanlu_cau_2026.osm",
    "helsinki": SHARED_OSM / "benchmark" / "helsinki_centre_2019.osm.pbf",
}
ITEMS = [
    "elderly_day_care",
    "pharmacy",
    "kindergarten",
    "park_5",
    "supermarket",
    "community_health_centre",
]


def exact_spopt(cover, w, k):
    """Optimum of MCLP with spopt (dense 0/1 cost matrix, CBC). Returns (chosen, seconds)."""
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    n_c, n_o = cover.shape
    cost = np.ones((n_o, max(n_c, k)))  # demand x facilities; 0 = within the tier
    cost[:, :n_c] = 1.0 - cover.T.toarray()
    model = MCLP.from_cost_matrix(cost, w, service_radius=0.5, p_facilities=k)
    model.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0.0), results=False)
    if pulp.LpStatus[model.problem.status] != "Optimal":
        raise RuntimeError(f"spopt/CBC did not prove optimality: {model.problem.status}")
    chosen = [j for j in range(n_c) if (model.fac_vars[j].value() or 0) > 0.5]
    return chosen, time.perf_counter() - t


def exact_sparse(cover, w, k):
    """The same MCLP built straight from the sparse coverage sets (PuLP + CBC)."""
    import pulp

    t = time.perf_counter()
    n_c, n_o = cover.shape
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(n_c)]
    y = [pulp.LpVariable(f"y{i}", lowBound=0, upBound=1) for i in range(n_o)]
    prob += pulp.lpSum(float(w[i]) * y[i] for i in range(n_o))
    by_origin = cover.T.tocsr()
    for i in range(n_o):
        cols = by_origin.indices[by_origin.indptr[i] : by_origin.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in cols)
    prob += pulp.lpSum(x) <= k
    prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0.0))
    if pulp.LpStatus[prob.status] != "Optimal":
        raise RuntimeError(f"CBC did not prove optimality: {pulp.LpStatus[prob.status]}")
    chosen = [j for j in range(n_c) if (x[j].value() or 0) > 0.5]
    return chosen, time.perf_counter() - t


def reduce_instance(cover, w):
    """Merge residents with equal covering sets, drop dominated candidates (optimum kept).

    Returns (reduced cover, reduced weights, kept candidate rows).
    """
    n_o = cover.shape[1]
    by_o = cover.T.tocsr()
    keys = {}
    group = np.empty(n_o, dtype=np.int64)
    for i in range(n_o):
        key = by_o.indices[by_o.indptr[i] : by_o.indptr[i + 1]].tobytes()
        group[i] = keys.setdefault(key, len(keys))
    rep = np.zeros(len(keys), dtype=np.int64)
    rep[group[::-1]] = np.arange(n_o)[::-1]  # first origin of every group
    w2 = np.bincount(group, weights=w, minlength=len(keys))
    c2 = cover[:, rep].tocsr()
    size = np.diff(c2.indptr)
    ovl = (c2.astype(np.int32) @ c2.T.astype(np.int32)).tocoo()
    i, j, v = ovl.row, ovl.col, ovl.data
    dom = (i != j) & (v == size[j]) & ((size[i] > size[j]) | ((size[i] == size[j]) & (i < j)))
    keep = np.setdiff1d(np.flatnonzero(size > 0), j[dom])
    return c2[keep].tocsr(), w2, keep


def covered_weight(cover, w, chosen):
    mask = np.zeros(cover.shape[1], dtype=bool)
    for j in chosen:
        mask[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
    return math.fsum(w[mask])


def instances(city, path, items):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = run_report(path)
        # the whole network as one community, no buildings: a point every 50 m of street
        hull = shapely.convex_hull(
            shapely.multipoints(np.column_stack([rep.network.x, rep.network.y]))
        ).buffer(1)
        area = gpd.GeoDataFrame(
            {"community_id": ["all"], "community_name": ["all"], "source": ["hull"]},
            geometry=[hull],
            crs=rep.network.crs,
        )
        street = residents(area, rep.network)
    net = rep.network
    cands = candidate_sites(net)
    street_minutes, _ = origin_times(net, rep.travel, street)
    ids = [it.id for it in rep.travel.items]
    for kind, origins, minutes in (
        ("buildings", rep.residents, rep.origin_minutes),
        ("street", street, street_minutes),
    ):
        w = origins["weight"].to_numpy(dtype=np.float64)
        for item_id in items:
            col = ids.index(item_id)
            it = rep.travel.items[col]
            existing = minutes[:, col] <= it.tier_minutes
            t = time.perf_counter()
            sets = coverage_sets(
                net, cands, origins, it.tier_minutes, speed=float(rep.travel.speed[col])
            )
            t_sets = time.perf_counter() - t
            yield city, kind, it, net, cands, w, existing, sets, t_sets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k-max", type=int, default=5)
    ap.add_argument("--items", default=",".join(ITEMS))
    ap.add_argument("--cities", default=",".join(CITIES))
    ap.add_argument("--no-cross-check", action="store_true", help="skip the own sparse model")
    args = ap.parse_args(argv)
    missing = [c for c in args.cities.split(",") if not CITIES[c].exists()]
    if missing:
        sys.exit(f"the ../shared extracts are not here: {[str(CITIES[c]) for c in missing]}")
    import pulp
    import spopt

    print(f"spopt {spopt.__version__}, PuLP {pulp.__version__} (CBC), k = 1..{args.k_max}\n")
    print(
        "| city | origins | item | tier | k | origins (uncov.) | cand. | spopt size | sets s | "
        "existing | greedy | +swaps | optimum | ratio greedy | ratio +swaps | gain ratio "
        "greedy / +swaps | greedy ms | +swaps ms | spopt s | own s |"
    )
    print("|" + "---|" * 20)
    rows = []
    for city, kind, it, _net, cands, w, existing, sets, t_sets in (
        inst
        for c in args.cities.split(",")
        for inst in instances(c, CITIES[c], args.items.split(","))
    ):
        total = math.fsum(w)
        base = math.fsum(w[existing])
        unc = np.flatnonzero(~existing)
        sub = sets[:, unc].tocsr()  # candidates x uncovered residents
        useful = np.flatnonzero(np.diff(sub.indptr) > 0)
        red, w_red, keep = reduce_instance(sub, w[unc]) if len(useful) else (None, None, None)
        size = f"{red.shape[1]} x {red.shape[0]}" if red is not None else "-"
        for k in range(1, args.k_max + 1):
            t = time.perf_counter()
            g = greedy_max_coverage(sets, w, k=k, covered=existing)
            tg = time.perf_counter() - t
            t = time.perf_counter()
            gs = greedy_max_coverage(sets, w, k=k, covered=existing, swaps=True)
            tgs = time.perf_counter() - t
            greedy_w = g.covered_weight[-1] if len(g.chosen) else base
            swap_w = gs.covered_weight[-1] if len(gs.chosen) else base
            own = "-"
            if len(useful):
                chosen, ts = exact_spopt(red, w_red, k)
                opt_w = base + covered_weight(sub, w[unc], keep[chosen])
                if not args.no_cross_check:
                    chosen2, to = exact_sparse(sub[useful].tocsr(), w[unc], k)
                    opt2 = base + covered_weight(sub, w[unc], useful[chosen2])
                    assert math.isclose(opt_w, opt2, rel_tol=1e-9), (opt_w, opt2)
                    own = f"{to:.2f}"
            else:
                opt_w, ts = base, 0.0
            for got in (greedy_w, swap_w):
                assert got <= opt_w * (1 + 1e-9) + 1e-9, (got, opt_w)
            r = [x / opt_w if opt_w > 0 else 1.0 for x in (greedy_w, swap_w)]
            gr = [(x - base) / (opt_w - base) if opt_w > base else 1.0 for x in (greedy_w, swap_w)]
            rows.append((*r, *gr, tg, tgs, ts))
            print(
                f"| {city} | {kind} | {it.id} | {it.tier_minutes:g} | {k} | "
                f"{len(w)} ({len(unc)}) | {len(cands)} | {size} | {t_sets:.2f} | {base / total:.1%} | {greedy_w / total:.1%} | "
                f"{swap_w / total:.1%} | {opt_w / total:.1%} | {r[0]:.4f} | {r[1]:.4f} | "
                f"{gr[0]:.4f} / {gr[1]:.4f} | {tg * 1000:.1f} | {tgs * 1000:.1f} | {ts:.2f} | "
                f"{own} |",
                flush=True,
            )
    a = np.array(rows)
    n = len(a)
    print(
        f"\n{n} instances.\n"
        f"- plain greedy: ratio min {a[:, 0].min():.4f}, mean {a[:, 0].mean():.4f}; gain ratio "
        f"min {a[:, 2].min():.4f}; optimal in {int(np.sum(a[:, 0] >= 1 - 1e-12))}; "
        f"{int(np.sum(a[:, 0] < 0.95))} below 0.95; {a[:, 4].sum():.2f} s in all\n"
        f"- greedy + swaps: ratio min {a[:, 1].min():.4f}, mean {a[:, 1].mean():.4f}; gain "
        f"ratio min {a[:, 3].min():.4f}; optimal in {int(np.sum(a[:, 1] >= 1 - 1e-12))}; "
        f"{int(np.sum(a[:, 1] < 0.95))} below 0.95; {a[:, 5].sum():.2f} s in all\n"
        f"- spopt MCLP (CBC, exact): {a[:, 6].sum():.1f} s in all, max {a[:, 6].max():.2f} s"
    )
    if a[:, 1].min() < 0.95:
        print("FAIL: greedy + swaps below 95 % of the optimum somewhere")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
