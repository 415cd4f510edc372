"""The service directory against a brute force: networkx walks on the bundled sample.

Every resident point and every facility access point splits its street into two (its own
node, joined to the split by its straight-line access distance), so that walking along a
shared street, around the network, or to either end of an edge are all plain shortest paths;
nothing of :mod:`fifteenmin.routing` is used to compute the expected walks.
"""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fifteenmin import settings, snap_points
from fifteenmin.directory import DIRECTORY_COLUMNS, facility_frame, service_directory

#: Walks this close to a tier are left out of the comparison (float ties at the boundary).
TIE_MIN = 1e-7


@pytest.fixture(scope="module")
def report():
    from fifteenmin import run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report()


@pytest.fixture(scope="module")
def directory(report):
    return service_directory(report)


def _split_graph(net, stops):
    """The network with ``stops`` ``(name, edge, offset, access)`` hung onto their edges."""
    G = nx.Graph()

    def join(a, b, w):
        if not G.has_edge(a, b) or G[a][b]["weight"] > w:
            G.add_edge(a, b, weight=w)

    on_edge: dict[int, list[tuple[float, str]]] = {}
    for name, e, s, a in stops:
        on_edge.setdefault(int(e), []).append((float(s), f"{name}@"))
        join(name, f"{name}@", float(a))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        chain = [(0.0, u), *sorted(on_edge.get(e, [])), (length, v)]
        for (a, na), (b, nb) in itertools.pairwise(chain):
            if na != nb:
                join(na, nb, b - a)
    return G


@pytest.fixture(scope="module")
def brute(report):
    """Expected walking minutes ``(o, facility) -> minutes``, within the item's tier."""
    net, tt = report.network, report.travel
    homes = snap_points(net, report.residents)
    joined = np.flatnonzero(homes.access <= settings.MAX_SNAP_M)
    acc = tt.access
    stops = [(("home", o), homes.edge[o], homes.offset[o], homes.access[o]) for o in joined]
    stops += [
        (("access", j), e, s, a)
        for j, (e, s, a) in enumerate(zip(acc["edge"], acc["offset"], acc["access"], strict=True))
    ]
    G = _split_graph(net, stops)
    item = acc["item"].to_numpy()
    facility = acc["facility"].to_numpy()
    tier = np.array([it.tier_minutes for it in tt.items])
    walks: dict[tuple[int, int], float] = {}
    for o in joined.tolist():
        dist = nx.single_source_dijkstra_path_length(G, ("home", o), weight="weight")
        for j in range(len(acc)):
            minutes = dist.get(("access", j), np.inf) / tt.speed[item[j]] / 60.0
            key = (o, int(facility[j]))
            if minutes <= tier[item[j]] + TIE_MIN and minutes < walks.get(key, np.inf):
                walks[key] = minutes
    return walks


def _near_tier(minutes, tier):
    return abs(minutes - tier) <= TIE_MIN


def test_the_sample_is_a_real_test(report, directory, brute):
    assert len(report.residents) >= 20
    assert report.coverage.communities["community_id"].nunique() >= 5
    assert directory["item_id"].nunique() >= 10
    assert len(brute) >= 200


def test_every_listed_walk_is_the_shortest_walk(report, directory, brute):
    homes = report.residents
    com = homes["community_id"].astype(str).to_numpy()
    checked = 0
    for row in directory.itertuples():
        o = np.flatnonzero(com == row.community_id)
        expected = min(brute.get((int(h), row.facility), np.inf) for h in o)
        assert row.minutes == pytest.approx(expected, rel=1e-9), row
        checked += 1
    assert checked == len(directory)


def test_no_facility_within_the_tier_is_missing(report, directory, brute):
    homes = report.residents
    tt = report.travel
    com = homes["community_id"].astype(str).to_numpy()
    item_of = tt.facilities["item_id"].to_numpy()
    tiers = {it.id: it.tier_minutes for it in tt.items}
    listed = set(zip(directory["community_id"], directory["facility"], strict=True))
    expected = set()
    for (o, f), minutes in brute.items():
        if not _near_tier(minutes, tiers[item_of[f]]):
            expected.add((com[o], f))
    assert expected - listed == set()
    # and nothing beyond the tier is listed (walks at the boundary aside)
    near = {(com[o], f) for (o, f), m in brute.items() if _near_tier(m, tiers[item_of[f]])}
    assert listed - expected - near == set()


def test_shares_within_tier(report, directory, brute):
    homes = report.residents
    com = homes["community_id"].astype(str).to_numpy()
    w = homes["weight"].to_numpy(dtype=np.float64)
    total = pd.Series(w).groupby(com).sum()
    for row in directory.itertuples():
        o = np.flatnonzero(com == row.community_id)
        reached = [h for h in o if (int(h), row.facility) in brute]
        expect = w[reached].sum() / total[row.community_id]
        assert row.share_within_tier == pytest.approx(expect, rel=1e-9), row


def test_rows_describe_the_facilities(report, directory):
    assert list(directory.columns) == DIRECTORY_COLUMNS
    fac = facility_frame(report)
    rows = directory["facility"].to_numpy()
    np.testing.assert_array_equal(directory["osm_id"].to_numpy(), fac["osm_id"].to_numpy()[rows])
    assert (fac["item_id"].to_numpy()[rows] == directory["item_id"].to_numpy()).all()
    # one row per community and facility
    assert not directory.duplicated(["community_id", "facility"]).any()
