"""run_pipeline: pure stages in order, one configuration for every step."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fifteenmin as fm
from conftest import SAMPLE
from fifteenmin.config import RunConfig
from fifteenmin.pipeline import Results, run_pipeline


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(SAMPLE, RunConfig(engine="scipy", threshold=0.7))


def test_results_are_plain_data(results):
    assert type(results) is Results
    assert not hasattr(results, "write")  # writing is the output layer's
    assert results.config.engine == "scipy"
    assert results.threshold == 0.7
    assert results.coverage.summary["threshold"] == 0.7
    assert list(results.timings) == [
        "read_osm",
        "network",
        "facilities",
        "travel_times",
        "residents",
        "coverage",
        "opening_hours",
    ]
    assert results.origin_minutes.shape == (len(results.residents), len(results.catalogue))


def test_stages_by_hand_give_the_same_results(results):
    """The pipeline is the public stage functions called in order: nothing hidden."""
    cat = fm.load_catalogue("beijing")
    data = fm.read_osm(SAMPLE, keys=cat.osm_keys())
    net = fm.network_from_file(data)
    fac = fm.facilities_from_osm(data, cat)
    tt = fm.travel_times(
        net, fac, cat, speed=fm.item_speeds(cat), entrances=fm.entrances_from_osm(data)
    )
    com = fm.communities_from_osm(data, net)
    homes = fm.residents(com, net, data)
    minutes, _ = fm.origin_times(net, tt, homes)
    np.testing.assert_array_equal(minutes, results.origin_minutes)


def test_edge_tree_is_let_go_and_rebuilt_the_same(results):
    """The network's STRtree is not kept past the pipeline; built again, it finds the same."""
    import pandas as pd

    assert "edge_tree" not in vars(results.network)
    data = fm.read_osm(SAMPLE, keys=fm.load_catalogue("beijing").osm_keys())
    again = fm.communities_from_osm(data, results.network)  # queries the rebuilt tree
    assert "edge_tree" in vars(results.network)
    pd.testing.assert_frame_equal(again, results.communities)
    results.network.release_edge_tree()


def test_params_follow_the_config(results):
    p = results.params
    assert p["osm_file"] == SAMPLE.name
    assert p["threshold"] == 0.7
    assert p["cutoff_minutes"] == pytest.approx(
        max(it.tier_minutes for it in results.catalogue.items) + fm.settings.CUTOFF_MARGIN_MIN
    )


def test_walking_areas_use_the_run_speed(results):
    slow = run_pipeline(SAMPLE, RunConfig(speed=0.5, engine="scipy"))
    a = results.community_isochrones(5).area.sum()
    b = slow.community_isochrones(5).area.sum()
    assert b < a  # half the speed, a smaller area in the same minutes


def test_progress_messages_one_per_stage():
    said: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_pipeline(SAMPLE, RunConfig(), progress=said.append)
    assert len(said) == 7
    assert said[0].startswith("read ") and said[-2].startswith("coverage rate:")
    assert said[-1].startswith("opening hours:")


def test_config_of_the_wrong_type_and_unknown_category_fail_before_reading():
    with pytest.raises(fm.ConfigError, match=r"expected a fifteenmin\.RunConfig, got str"):
        fm.run_pipeline("no-such-file.osm", config="beijing")  # type: ignore[arg-type]
    cfg = fm.RunConfig(category_weights={"helth": 2})  # catalogue by name: checked at run
    with pytest.raises(fm.ConfigError, match="unknown category 'helth'"):
        fm.run_pipeline("no-such-file.osm", config=cfg)
