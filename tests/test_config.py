"""RunConfig: defaults from settings, validation, replace, and the summary parameters."""

from __future__ import annotations

import dataclasses

import pytest

import fifteenmin as fm
from fifteenmin import settings
from fifteenmin.config import RunConfig


def test_defaults_come_from_settings():
    cfg = RunConfig()
    assert cfg.speed == settings.WALK_SPEED_M_S
    assert cfg.threshold == settings.THRESHOLD
    assert cfg.engine == settings.ENGINE
    assert cfg.catalogue == settings.CATALOGUE


def test_frozen_and_replace():
    cfg = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.threshold = 0.5  # type: ignore[misc]
    new = cfg.replace(threshold=0.5, engine="scipy")
    assert (new.threshold, new.engine) == (0.5, "scipy")
    assert (cfg.threshold, cfg.engine) == (settings.THRESHOLD, settings.ENGINE)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("speed", 0, "positive"),
        ("speed", -1.0, "positive"),
        ("speed", float("nan"), "positive"),
        ("speed", float("inf"), "positive"),
        ("speed", "fast", "positive"),
        ("speed", True, "positive"),
        ("threshold", 0, "(0, 1]"),
        ("threshold", 1.5, "(0, 1]"),
        ("engine", "gpu", "auto, numba, scipy"),
        ("category_weights", {"health": -1}, ">= 0"),
    ],
)
def test_invalid_values_are_config_errors(field, value, words):
    with pytest.raises(fm.ConfigError) as exc:
        RunConfig(**{field: value})
    assert words in str(exc.value)
    assert isinstance(exc.value, ValueError)  # callers catching ValueError keep working


def test_unknown_option_names_the_known_ones():
    with pytest.raises(fm.ConfigError) as exc:
        RunConfig().replace(treshold=0.9)
    assert "treshold" in str(exc.value) and "threshold" in str(exc.value)


def test_run_report_rejects_unknown_options_before_any_work():
    with pytest.raises(fm.ConfigError, match="speeed"):
        fm.run_report(speeed=1.0)


def test_parameters_block():
    cat = fm.load_catalogue("beijing")
    cfg = RunConfig(communities="some/dir/shequ.gpkg", speed=1.2)
    speeds = fm.item_speeds(cat, cfg.speed, per_item=cfg.item_profiles)
    p = cfg.parameters(cat, speeds, 25.0)
    assert p["communities"] == "shequ.gpkg"  # file names only, never local paths
    assert p["speed_m_s"] == 1.2
    assert p["speed_profiles"] == {k: v for k, v in sorted(speeds.items()) if v != 1.2}
    assert p["speed_profiles"]["elderly_day_care"] == 1.0
    assert p["threshold"] == settings.THRESHOLD and p["cutoff_minutes"] == 25.0
    uniform = cfg.replace(item_profiles=False)
    flat = fm.item_speeds(cat, uniform.speed, per_item=False)
    assert uniform.parameters(cat, flat, 25.0)["speed_profiles"] == {}
