"""One site per item from bounds on every candidate's gain (siting.bounds) = the full sets' site."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from fifteenmin import run_report, settings, snap_points
from fifteenmin.siting import (
    bounds,
    candidate_sites,
    coverage_sets,
    missing_items,
    plan_missing,
    site_facilities,
)
from fifteenmin.siting import plan as plan_mod
from fifteenmin.siting import sets as sets_mod
from fifteenmin.siting.candidates import node_candidates


@pytest.fixture(scope="module")
def rep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return run_report()


def _both(monkeypatch, fn):
    """``fn()`` with the bounds, then with the full coverage sets."""
    fast = fn()
    with monkeypatch.context() as m:
        m.setattr(plan_mod._SitingContext, "use_bounds", False)
        full = fn()
    return fast, full


def _equal(a, b):
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    assert a.attrs == b.attrs


@pytest.mark.parametrize("band", [None, 0.05])
def test_plan_missing_k1_equals_the_full_sets(rep, monkeypatch, band):
    """With a 5 % band many walks are unsure: their candidates' gains are bounded loosely."""
    if band is not None:
        monkeypatch.setattr(sets_mod, "_REVERSE_BAND", band)
    fast, full = _both(monkeypatch, lambda: plan_missing(rep, k=1))
    assert len(fast) >= 10
    _equal(fast, full)
    share, share_full = _both(monkeypatch, lambda: plan_missing(rep, k=1, target_share=0.5))
    _equal(share, share_full)
    zero, zero_full = _both(monkeypatch, lambda: plan_missing(rep, k=0))
    _equal(zero, zero_full)


def test_site_facilities_k1_other_candidates_equal_the_full_sets(rep, monkeypatch):
    net = rep.network
    x0, x1 = np.quantile(net.x, [0.2, 0.7])
    y0, y1 = np.quantile(net.y, [0.2, 0.7])
    area = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x1, y1)], crs=net.crs)
    item = missing_items(rep)[0]

    def streets():
        return site_facilities(rep, item, k=1, areas=area, spacing_m=40.0)

    _equal(*_both(monkeypatch, streets))
    lots = candidate_sites(net, areas=area).iloc[::7]
    pts = gpd.GeoDataFrame(
        {"lot": np.arange(len(lots))}, geometry=lots.geometry.values, crs=net.crs
    )

    def layer():
        return site_facilities(rep, item, k=1, candidates=pts, swaps=False)

    fast, full = _both(monkeypatch, layer)
    _equal(fast, full)
    assert "lot" in fast.columns


def test_chosen_site_is_the_brute_force_best(rep):
    """Against every candidate's exact gain from its own search (coverage_sets)."""
    net = rep.network
    plan = plan_missing(rep, k=1)
    w = rep.residents["weight"].to_numpy(dtype=np.float64)
    ids = [it.id for it in rep.travel.items]
    for item in plan["item_id"].unique()[:4]:
        k = ids.index(item)
        it = rep.travel.items[k]
        uncovered = ~(rep.origin_minutes[:, k] <= it.tier_minutes)
        sets = coverage_sets(
            net,
            np.column_stack([net.x, net.y]),
            rep.residents,
            it.tier_minutes,
            speed=float(rep.travel.speed[k]),
        )
        gains = np.array(
            [math.fsum(w[o[uncovered[o]]]) for o in np.split(sets.indices, sets.indptr[1:-1])]
        )
        row = plan[plan["item_id"] == item].iloc[0]
        assert row["candidate"] == int(np.argmax(gains))  # the first of the best
        assert row["residents_gained"] == gains.max()


def test_bounds_hold_for_every_candidate(rep, monkeypatch):
    """lower <= exact gain <= upper for every candidate and item (float32 sums, counted)."""
    monkeypatch.setattr(sets_mod, "_REVERSE_BAND", 0.02)  # some unsure walks too
    net = rep.network
    xy = np.column_stack([net.x, net.y])
    homes = rep.residents
    o_pts = np.asarray(homes.geometry.to_crs(net.crs).values, dtype=object)
    c_snap, o_snap = snap_points(net, xy), snap_points(net, o_pts)
    w = homes["weight"].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(5)
    items = [
        (5.0, 1.1, rng.random(len(homes)) < 0.6),
        (10.0, 1.0, rng.random(len(homes)) < 0.4),
        (10.0, 1.0, np.ones(len(homes), dtype=bool)),
    ]
    keys = [(5.0, 1.1), (10.0, 1.0)]
    tier = np.array([0, 1, 1])
    acc, count, unsure = bounds._gain_sums(
        net, c_snap, o_snap, w, items, keys, tier, settings.MAX_SNAP_M, "auto"
    )
    assert unsure.any()
    for i, (minutes, speed, target) in enumerate(items):
        sets = coverage_sets(net, xy, homes, minutes, speed=speed)
        exact = np.array(
            [math.fsum(w[o[target[o]]]) for o in np.split(sets.indices, sets.indptr[1:-1])]
        )
        slack = 4.0 * (count[:, tier[i]] + 2.0) * bounds._U32
        a = acc[:, i].astype(np.float64)
        assert (exact <= a * (1 + slack)).all()
        sure = ~unsure
        assert (a[sure] * (1 - slack[sure]) <= exact[sure]).all()
        assert (exact > 0).sum() > 100


def test_unusable_weights_keep_to_the_full_sets():
    assert bounds.usable(np.array([0.0, 1.0, 2.5e6]))
    assert not bounds.usable(np.array([1.0, 1e-40]))
    assert not bounds.usable(np.array([1.0, 1e35]))


def test_node_candidates_are_rows_of_candidate_sites(rep):
    net = rep.network
    every = candidate_sites(net)
    pick = np.array([5, 0, net.n_nodes - 1, 17])
    got = node_candidates(net, pick)
    expect = every.iloc[pick]
    pd.testing.assert_frame_equal(got, expect, check_exact=True)
    assert got.crs == expect.crs
