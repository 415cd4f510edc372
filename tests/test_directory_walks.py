"""The service directory's compiled walks (directory._walks_within) = routing.reach_walks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fifteenmin import directory, run_report
from fifteenmin.network import SnapResult
from fifteenmin.routing import reach_walks, reachable


@pytest.fixture(scope="module")
def rep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return run_report()


def test_walks_within_are_reach_walks_bit_for_bit(rep, monkeypatch):
    monkeypatch.setattr(directory, "SEARCH_CHUNK", 7)  # many batches
    tt = rep.travel
    acc = tt.access
    points = SnapResult(acc["edge"].to_numpy(), acc["offset"].to_numpy(), acc["access"].to_numpy())
    item = acc["item"].to_numpy().astype(np.int64)
    tier_m = np.array([it.tier_minutes for it in tt.items]) * tt.speed * 60.0
    o, a, m = directory._walks_within(rep, points, item, tier_m)
    reach = reachable(rep.network, rep.residents, float(tier_m.max()))
    o2, a2, m2 = reach_walks(rep.network, reach, points, home="sources")
    near = m2 <= tier_m[item[a2]] * (1 + 1e-9) + 1e-9
    got = pd.DataFrame({"o": o, "a": a, "m": m}).sort_values(["o", "a"], ignore_index=True)
    expect = pd.DataFrame({"o": o2[near], "a": a2[near], "m": m2[near]})
    pd.testing.assert_frame_equal(got, expect.reset_index(drop=True), check_exact=True)
    assert len(got) > 1000 and (~near).sum() > 1000


def test_service_directory_without_the_compiled_walks_is_the_same(rep, monkeypatch):
    fast = directory.service_directory(rep)
    monkeypatch.setattr(directory, "HAVE_NUMBA", False)
    pd.testing.assert_frame_equal(fast, directory.service_directory(rep), check_exact=True)
