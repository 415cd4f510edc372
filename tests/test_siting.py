"""Facility siting: greedy maximal coverage, coverage sets, candidates, the ``site`` command."""

from __future__ import annotations

import itertools
import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from conftest import BEIJING, needs_shared
from fifteenmin import CatalogueError, NetworkError, residents, run_report, snap_points
from fifteenmin.cli import main
from fifteenmin.siting import (
    SITE_COLUMNS,
    candidate_sites,
    coverage_sets,
    greedy_max_coverage,
    missing_items,
    plan_missing,
    site_facilities,
)

SETTINGS = settings(max_examples=200, deadline=None)


# --------------------------------------------------------------------------------------------
# greedy on tiny instances


@st.composite
def instances(draw, max_c=6, max_o=8):
    n_c = draw(st.integers(1, max_c))
    n_o = draw(st.integers(1, max_o))
    sets = np.array(
        draw(st.lists(st.booleans(), min_size=n_c * n_o, max_size=n_c * n_o)), dtype=bool
    ).reshape(n_c, n_o)
    # small integers make ties frequent (tie-breaking is part of the contract)
    w = np.array(
        draw(
            st.lists(
                st.one_of(st.integers(0, 4).map(float), st.floats(0, 100, allow_nan=False)),
                min_size=n_o,
                max_size=n_o,
            )
        )
    )
    covered = np.array(draw(st.lists(st.booleans(), min_size=n_o, max_size=n_o)), dtype=bool)
    return sets, w, covered


def _value(sets, w, covered, chosen):
    cov = covered.copy()
    for c in chosen:
        cov |= sets[c]
    return math.fsum(w[cov])


def _gain(sets, w, cov, c):
    return math.fsum(w[sets[c] & ~cov])


@SETTINGS
@given(instances())
def test_k1_is_the_brute_force_optimum(inst):
    sets, w, covered = inst
    res = greedy_max_coverage(sets, w, k=1, covered=covered)
    best = max(_gain(sets, w, covered, c) for c in range(len(sets)))
    if best > 0:
        assert len(res.chosen) == 1
        assert res.gains[0] == best
        assert _gain(sets, w, covered, res.chosen[0]) == best
    else:
        assert len(res.chosen) == 0


@SETTINGS
@given(instances(), st.integers(0, 6))
def test_each_step_takes_a_largest_marginal_gain(inst, k):
    sets, w, covered = inst
    res = greedy_max_coverage(sets, w, k=k, covered=covered)
    assert len(res.chosen) <= k
    assert len(set(res.chosen.tolist())) == len(res.chosen)
    cov = covered.copy()
    for step, c in enumerate(res.chosen):
        gains = np.array([_gain(sets, w, cov, j) for j in range(len(sets))])
        assert gains[c] == gains.max() > 0
        assert c == int(np.flatnonzero(gains == gains.max())[0])  # ties: smallest index
        assert res.gains[step] == gains[c]
        cov |= sets[c]
        assert res.covered_weight[step] == math.fsum(w[cov])
    if len(res.chosen) < k:  # stopped early: nothing left to gain
        assert all(_gain(sets, w, cov, j) == 0 for j in range(len(sets)))
    np.testing.assert_array_equal(res.covered, cov)


@SETTINGS
@given(instances(max_c=8, max_o=10), st.one_of(st.none(), st.integers(0, 8)))
def test_lazy_equals_plain_greedy(inst, k):
    sets, w, covered = inst
    lazy = greedy_max_coverage(sparse.csr_matrix(sets), w, k=k, covered=covered)
    plain = greedy_max_coverage(sets, w, k=k, covered=covered, lazy=False)
    np.testing.assert_array_equal(lazy.chosen, plain.chosen)
    np.testing.assert_array_equal(lazy.gains, plain.gains)
    np.testing.assert_array_equal(lazy.covered_weight, plain.covered_weight)


@SETTINGS
@given(instances(max_c=6, max_o=8), st.integers(2, 3))
def test_greedy_bound_against_brute_force(inst, k):
    sets, w, covered = inst
    res = greedy_max_coverage(sets, w, k=k, covered=covered)
    opt = max(
        _value(sets, w, covered, combo)
        for combo in itertools.combinations(range(len(sets)), min(k, len(sets)))
    )
    got = _value(sets, w, covered, res.chosen)
    base = math.fsum(w[covered])
    assert got <= opt + 1e-9
    # the classic guarantee on the part that can still be gained
    assert got - base >= (1 - 1 / math.e) * (opt - base) - 1e-9


@SETTINGS
@given(instances(), st.floats(0.01, 1.0))
def test_target_share_stops_at_the_first_step_that_reaches_it(inst, target):
    sets, w, covered = inst
    res = greedy_max_coverage(sets, w, target_share=target, covered=covered)
    total = math.fsum(w)
    shares = [res.initial_weight / total if total else 0.0, *res.shares.tolist()]
    for s in shares[:-1]:
        assert s < target
    full = greedy_max_coverage(sets, w, covered=covered)  # until nothing is left
    np.testing.assert_array_equal(res.chosen, full.chosen[: len(res.chosen)])


@SETTINGS
@given(instances())
def test_covered_origins_add_nothing(inst):
    sets, w, covered = inst
    res = greedy_max_coverage(sets, w, covered=covered)
    # all gains come from origins outside the existing coverage
    assert math.isclose(
        math.fsum(res.gains), math.fsum(w[res.covered & ~covered]), rel_tol=1e-12, abs_tol=1e-9
    )
    # covering everything already: no site
    none = greedy_max_coverage(sets, w, covered=np.ones(len(w), dtype=bool))
    assert len(none.chosen) == 0


@SETTINGS
@given(instances(max_c=7, max_o=9), st.integers(1, 4))
def test_swaps_reach_a_swap_local_optimum(inst, k):
    sets, w, covered = inst
    plain = greedy_max_coverage(sets, w, k=k, covered=covered)
    res = greedy_max_coverage(sets, w, k=k, covered=covered, swaps=True)
    assert len(res.chosen) <= len(plain.chosen)
    assert len(set(res.chosen.tolist())) == len(res.chosen)
    got = _value(sets, w, covered, res.chosen)
    assert got >= _value(sets, w, covered, plain.chosen)
    if len(res.chosen):
        assert res.covered_weight[-1] == got
    # no single exchange covers more
    for pos in range(len(res.chosen)):
        for j in set(range(len(sets))) - set(res.chosen.tolist()):
            trial = res.chosen.copy()
            trial[pos] = j
            assert _value(sets, w, covered, trial) <= got
    # listed in greedy order: each step a largest marginal gain among the final sites
    cov = covered.copy()
    rest = set(res.chosen.tolist())
    for step, c in enumerate(res.chosen):
        assert (
            res.gains[step] == _gain(sets, w, cov, c) == max(_gain(sets, w, cov, j) for j in rest)
        )
        rest.remove(int(c))
        cov |= sets[c]
    if k == 1:
        best = max(_gain(sets, w, covered, c) for c in range(len(sets)))
        assert math.fsum(res.gains) == best


def test_greedy_docstring_example_and_errors():
    sets = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 0, 1]], dtype=bool)
    res = greedy_max_coverage(sets, [1.0, 1.0, 1.0, 1.0], k=2)
    assert res.chosen.tolist() == [1, 0]
    assert res.shares.tolist() == [0.75, 1.0]
    with pytest.raises(ValueError, match="weights"):
        greedy_max_coverage(sets, [1.0, -1.0, 1.0, 1.0], k=1)
    with pytest.raises(ValueError, match="weights"):
        greedy_max_coverage(sets, [1.0, 1.0], k=1)
    with pytest.raises(ValueError, match="target_share"):
        greedy_max_coverage(sets, [1.0] * 4, target_share=1.5)


# --------------------------------------------------------------------------------------------
# the sample


@pytest.fixture(scope="module")
def rep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return run_report()


def _item_col(rep, item_id):
    return [it.id for it in rep.travel.items].index(item_id)


def _split_graph_times(net, cand_xy, origins_xy, max_snap_m=500.0):
    """Brute force: origins and the candidate as extra graph nodes splitting their edges."""
    G = nx.MultiGraph()
    for e in range(net.n_edges):
        G.add_node(int(net.edge_u[e]))
        G.add_node(int(net.edge_v[e]))
    pts = np.vstack([cand_xy[None, :], origins_xy])
    snap = snap_points(net, pts)
    on_edge: dict[int, list[tuple[float, str]]] = {}
    for i in range(len(pts)):
        if snap.access[i] > max_snap_m:
            continue
        on_edge.setdefault(int(snap.edge[i]), []).append((float(snap.offset[i]), f"s{i}"))
        G.add_edge(f"p{i}", f"s{i}", weight=float(snap.access[i]))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        stops = sorted(on_edge.get(e, []))
        chain = [(0.0, u), *stops, (length, v)]
        for (a, na), (b, nb) in itertools.pairwise(chain):
            G.add_edge(na, nb, weight=b - a)
    if "p0" not in G:
        return np.full(len(origins_xy), np.inf)
    dist = nx.single_source_dijkstra_path_length(G, "p0", weight="weight")
    return np.array([dist.get(f"p{i + 1}", np.inf) for i in range(len(origins_xy))])


def test_coverage_sets_equal_a_networkx_brute_force(rep):
    net = rep.network
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        homes = residents(rep.communities, net)  # street points: many origins
    ox = np.column_stack(
        [shapely.get_x(homes.geometry.values), shapely.get_y(homes.geometry.values)]
    )
    rng = np.random.default_rng(7)
    nodes = rng.choice(net.n_nodes, 4, replace=False)
    # on a street (shares edges with origins), off the street, and at network nodes
    street = np.array(
        shapely.line_interpolate_point(
            net.edge_geometry[rng.choice(net.n_edges, 3)], 0.37, normalized=True
        )
    )
    cxy = np.vstack(
        [
            np.column_stack([net.x[nodes], net.y[nodes]]),
            np.column_stack([shapely.get_x(street), shapely.get_y(street)]),
            ox[rng.choice(len(ox), 2)] + [[15.0, -20.0], [0.0, 0.0]],
        ]
    )
    minutes, speed = 5.0, 1.1
    A = coverage_sets(net, cxy, homes, minutes, speed=speed)
    assert A.shape == (len(cxy), len(homes))
    cut = minutes * 60 * speed
    checked = 0
    for j in range(len(cxy)):
        t = _split_graph_times(net, cxy[j], ox)
        sure = np.abs(t - cut) > 1e-6  # leave out float ties at the boundary
        expect = t <= cut
        got = np.zeros(len(homes), dtype=bool)
        got[A.indices[A.indptr[j] : A.indptr[j + 1]]] = True
        np.testing.assert_array_equal(got[sure], expect[sure])
        checked += int(expect.sum())
    assert checked > 20


@pytest.mark.parametrize("band", [None, 0.05])
def test_uncovered_sets_equal_coverage_sets_on_their_origins(rep, monkeypatch, band):
    """The reverse searches (one per target origin) give the columns of coverage_sets.

    With a 5 % band every pair near a tier is re-timed by coverage_sets itself, so both ways of
    deciding a pair are exercised.
    """
    from fifteenmin.siting import sets as sets_mod

    if band is not None:
        monkeypatch.setattr(sets_mod, "_REVERSE_BAND", band)
    net = rep.network
    cands = candidate_sites(net)
    c_pts = np.asarray(cands.geometry.values, dtype=object)
    homes = rep.residents
    o_pts = np.asarray(homes.geometry.to_crs(net.crs).values, dtype=object)
    rng = np.random.default_rng(3)
    tiers = [
        (5.0, 1.1, rng.random(len(homes)) < 0.5),
        (10.0, 1.0, rng.random(len(homes)) < 0.3),
        (15.0, 1.2, np.ones(len(homes), dtype=bool)),
    ]
    mats = sets_mod.uncovered_sets(
        net,
        snap_points(net, c_pts),
        snap_points(net, o_pts),
        tiers,
        candidate_points=c_pts,
        origin_points=o_pts,
    )
    for (minutes, speed, target), got in zip(tiers, mats, strict=True):
        full = coverage_sets(net, c_pts, homes, minutes, speed=speed).tocsc()
        expect = sparse.csr_matrix(full.multiply(target[None, :]).astype(bool))
        expect.eliminate_zeros()
        assert got.shape == expect.shape
        assert (got != expect).nnz == 0
        assert got.nnz > 50
        # a canonical boolean CSR: sorted indices, no duplicates, no explicit zeros
        assert got.dtype == bool and got.has_canonical_format and got.data.all()
        np.testing.assert_array_equal(got.indptr, expect.indptr)
        np.testing.assert_array_equal(got.indices, expect.indices)
        assert got.indices.dtype == got.indptr.dtype == np.int32  # as scipy builds it here


def test_coverage_sets_match_origin_times(rep):
    """Candidates at an item's (point) facilities cover exactly what the report counts."""
    fac = rep.facilities
    tested = 0
    for it in rep.travel.items:
        f = fac[fac["item_id"] == it.id]
        if len(f) == 0 or not (f.geom_type == "Point").all():
            continue
        k = _item_col(rep, it.id)
        A = coverage_sets(
            rep.network, f, rep.residents, it.tier_minutes, speed=float(rep.travel.speed[k])
        )
        union = np.asarray(A.sum(axis=0)).ravel() > 0
        np.testing.assert_array_equal(union, rep.origin_minutes[:, k] <= it.tier_minutes)
        tested += 1
    assert tested >= 3


def test_site_facilities_on_the_sample(rep):
    sites = site_facilities(rep, "pharmacy", k=3)
    assert list(sites.columns) == [*SITE_COLUMNS, "geometry"]
    assert sites.crs.to_epsg() == 4326
    assert sites["step"].tolist() == list(range(1, len(sites) + 1))
    assert 1 <= len(sites) <= 3
    g = sites["residents_gained"].to_numpy()
    assert (g > 0).all() and (np.diff(g) <= 1e-9).all()  # submodular: gains never grow
    assert (np.diff(sites["share_after"].to_numpy()) > 0).all()
    assert sites["node_id"].notna().all()
    assert set(sites["node_id"]) <= set(rep.network.node_id.tolist())
    np.testing.assert_allclose(sites.geometry.x, sites["lon"])
    # determinism
    again = site_facilities(rep, "pharmacy", k=3)
    pd.testing.assert_frame_equal(pd.DataFrame(sites), pd.DataFrame(again))
    # the share before + the gains = the share after
    a = sites.attrs
    assert math.isclose(a["weight_before"] + g.sum(), sites["weight_after"].iloc[-1], rel_tol=1e-12)
    assert math.isclose(a["total_weight"], rep.residents["weight"].sum(), rel_tol=1e-12)
    m = sites.explore()
    assert m is not None


def test_existing_coverage_is_respected(rep):
    item = "park_5"
    k = _item_col(rep, item)
    tier = rep.catalogue[item].tier_minutes
    existing = rep.origin_minutes[:, k] <= tier
    assert existing.any()
    sites = site_facilities(rep, item, k=4)
    cands = candidate_sites(rep.network)
    A = coverage_sets(rep.network, cands, rep.residents, tier, speed=float(rep.travel.speed[k]))
    w = rep.residents["weight"].to_numpy()
    cov = existing.copy()
    for row in sites.itertuples():
        o = A.indices[A.indptr[row.candidate] : A.indptr[row.candidate + 1]]
        new = o[~cov[o]]
        assert math.isclose(row.residents_gained, math.fsum(w[new]), rel_tol=1e-12)
        assert row.origins_gained == len(new)
        cov[new] = True
    # candidates placed at the existing point facilities bring nobody new
    fac = rep.facilities[(rep.facilities["item_id"] == "pharmacy")]
    fac = fac[fac.geom_type == "Point"]
    assert len(fac)
    none = site_facilities(rep, "pharmacy", k=3, candidates=fac)
    assert len(none) == 0
    assert none.attrs["share_before"] > 0


def test_target_share_on_the_sample(rep):
    sites = site_facilities(rep, "kindergarten", k=None, target_share=0.5)
    assert sites["share_after"].iloc[-1] >= 0.5
    assert (sites["share_after"].iloc[:-1] < 0.5).all()


def test_candidates_stay_inside_the_areas(rep):
    net = rep.network
    # a box around part of the network, given in another CRS (Web Mercator)
    x0, x1 = np.quantile(net.x, [0.3, 0.6])
    y0, y1 = np.quantile(net.y, [0.2, 0.5])
    area_local = shapely.box(x0, y0, x1, y1)
    areas = gpd.GeoSeries([area_local], crs=net.crs).to_crs("EPSG:3857")
    cands = candidate_sites(net, areas=areas, spacing_m=40.0)
    assert {"node", "street"} == set(cands["source"])
    assert len(cands) < net.n_nodes
    inside = shapely.buffer(area_local, 1e-6)
    assert shapely.covers(inside, cands.geometry.values).all()
    nodes = cands[cands["source"] == "node"]
    all_inside = shapely.covers(inside, shapely.points(net.x, net.y))
    assert set(nodes["node_id"]) == set(net.node_id[all_inside].tolist())
    for item in ("pharmacy", "kindergarten", "playground"):
        sites = site_facilities(rep, item, k=3, areas=areas)
        assert len(sites)
        pts = gpd.GeoSeries(sites.geometry.values, crs=4326).to_crs(net.crs)
        assert shapely.covers(inside, pts.values).all(), item
    # the precomputed candidate table works the same
    sites = site_facilities(rep, "pharmacy", k=3, candidates=cands)
    assert shapely.covers(
        inside, gpd.GeoSeries(sites.geometry.values, crs=4326).to_crs(net.crs).values
    ).all()
    # a user layer: points filtered by the areas, columns carried over
    lots = gpd.GeoDataFrame(
        {"lot": ["a", "b", "c"]},
        geometry=[
            shapely.Point((x0 + x1) / 2, (y0 + y1) / 2),
            shapely.Point(x1 + 500, y1 + 500),
            shapely.box(x0 + 10, y0 + 10, x0 + 40, y0 + 40),
        ],
        crs=net.crs,
    ).to_crs(4326)
    c2 = candidate_sites(net, areas=areas, points=lots)
    assert c2["lot"].tolist() == ["a", "c"]
    assert c2["source"].eq("input").all() and c2["node_id"].isna().all()
    s2 = site_facilities(rep, "pharmacy", k=3, candidates=lots, areas=areas)
    assert set(s2["lot"]) <= {"a", "c"}


def test_no_candidate_is_a_clear_error(rep):
    far = shapely.box(0.0, 0.0, 0.001, 0.001)  # WGS-84, far from Helsinki
    with pytest.raises(NetworkError, match="no candidate site"):
        site_facilities(rep, "pharmacy", areas=far)
    with pytest.raises(CatalogueError, match="no item"):
        site_facilities(rep, "no_such_item")


def test_plan_missing(rep):
    plan = plan_missing(rep, k=1)
    todo = missing_items(rep)
    assert todo and set(plan["item_id"]) <= set(todo)
    assert plan.groupby("item_id").size().max() == 1
    assert set(plan.attrs["items"]) == set(todo)
    order = [todo.index(i) for i in plan["item_id"]]
    assert order == sorted(order)
    one = site_facilities(rep, todo[0], k=1)
    first = plan[plan["item_id"] == todo[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(first), pd.DataFrame(one), check_like=False)


# --------------------------------------------------------------------------------------------
# command line


def test_cli_site_on_the_sample(capsys, tmp_path):
    from fifteenmin import sample_path

    out = tmp_path / "sites.gpkg"
    # options may sit between ITEM and OSM_FILE
    code = main(["site", "pharmacy", "--k", "2", str(sample_path()), "-q", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "pharmacy" in text and "residents_gained" in text
    lines = [ln for ln in text.splitlines() if ln.strip()[:1].isdigit()]
    assert len(lines) == 2
    written = gpd.read_file(out)
    assert len(written) == 2 and {"residents_gained", "share_after"} <= set(written.columns)


def test_cli_site_candidate_layer_and_areas(capsys, tmp_path, rep):
    net = rep.network
    x0, x1 = np.quantile(net.x, [0.3, 0.6])
    y0, y1 = np.quantile(net.y, [0.2, 0.5])
    areas = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x1, y1)], crs=net.crs).to_crs(3067)
    best = site_facilities(rep, "pharmacy", k=1, areas=areas)  # a lot where a node is
    lots = gpd.GeoDataFrame(
        {"lot": ["a", "b"]},
        geometry=[best.geometry.iloc[0], shapely.Point(best["lon"].iloc[0] + 0.02, 60.2)],
        crs=4326,
    )
    lots.to_file(tmp_path / "lots.geojson")
    areas.to_file(tmp_path / "areas.gpkg")
    out = tmp_path / "sites.csv"
    args = ["site", "pharmacy", "--candidates", str(tmp_path / "lots.geojson"), "-q"]
    assert main([*args, "--areas", str(tmp_path / "areas.gpkg"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "input" in text
    got = pd.read_csv(out)
    assert got["lot"].tolist() == ["a"]
    assert (
        main(["site", "pharmacy", "--areas", str(tmp_path / "areas.gpkg"), "--spacing", "50", "-q"])
        == 0
    )
    assert main([*args, "--spacing", "50"]) == 2
    assert "cannot be combined" in capsys.readouterr().err


def test_cli_site_missing_plan(capsys):
    assert main(["site", "missing", "-q"]) == 0
    assert "resident" in capsys.readouterr().out


def test_cli_site_unknown_item(capsys):
    assert main(["site", "no_such_item", "--k", "3", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fifteenmin: error:")
    assert "no_such_item" in err


def test_cli_site_bad_out_and_k(capsys, tmp_path):
    assert main(["site", "pharmacy", "-q", "--out", str(tmp_path / "x.txt")]) == 2
    assert capsys.readouterr().err.startswith("fifteenmin: error:")
    with pytest.raises(SystemExit) as exc:
        main(["site", "pharmacy", "--k", "0"])
    assert exc.value.code == 2


@needs_shared
def test_beijing_elderly_day_care(capsys):
    assert main(["site", "elderly_day_care", "--k", "3", str(BEIJING), "-q"]) == 0
    text = capsys.readouterr().out
    rows = [ln.split() for ln in text.splitlines() if ln.strip()[:1].isdigit()]
    assert len(rows) == 3
    gains = [float(r[4].replace(",", "")) for r in rows]
    assert all(g > 0 for g in gains) and gains == sorted(gains, reverse=True)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv"])
def test_write_sites_atomic_attributed_deterministic(rep, tmp_path, suffix):
    import pandas as pd

    from fifteenmin.output import write_sites

    sites = site_facilities(rep, "pharmacy", k=2)
    a = write_sites(sites, tmp_path / f"a{suffix}")
    first = a.read_bytes()
    assert write_sites(sites, a).read_bytes() == first  # same input, same bytes
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    if suffix == ".csv":
        text = first.decode("utf-8-sig")
        assert text.splitlines()[0].startswith("item_id,step,")  # header on line 1
        assert "© OpenStreetMap contributors" in text  # the attribution column
        got = pd.read_csv(a)
        assert len(got) == len(sites) and got["attribution"].nunique() == 1
    elif suffix == ".geojson":
        assert "OpenStreetMap contributors" in first.decode("utf-8")
        assert gpd.read_file(a).shape[0] == len(sites)
    else:
        assert gpd.read_file(a, layer="sites").shape[0] == len(sites)


def test_blockwise_order_of_the_lazy_greedy_is_one_full_sort():
    """The lazy greedy's candidates sorted a block at a time come in the order of one
    lexsort of all of them, ties (many here) included."""
    from fifteenmin.siting.greedy import _ByBound

    rng = np.random.default_rng(3)
    for n, levels in ((5, 2), (300, 3), (5000, 40), (20000, 20000)):
        bound = rng.integers(0, levels, n).astype(float) / 7.0
        cands = np.flatnonzero(rng.random(n) < 0.9)
        want = cands[np.lexsort((cands, -bound[cands]))].tolist()
        order = _ByBound(bound, cands)
        got = []
        while (top := order.peek()) is not None:
            assert top[0] == -bound[top[1]] and top[2] == -1
            got.append(top[1])
            order.pos += 1
        assert got == want
