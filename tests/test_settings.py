"""settings: every default in one place, read by the CLI and the API."""

from __future__ import annotations

import inspect

import fifteenmin as fm
from fifteenmin import settings
from fifteenmin.cli import _parser


def test_documented_values():
    assert abs(settings.WALK_SPEED_M_S - 1000 / 900) < 1e-15  # 1,000 m in 15 minutes
    assert settings.SPEED_PROFILES["default"] == settings.WALK_SPEED_M_S
    assert settings.SPEED_PROFILES["elderly"] == 1.0
    assert settings.THRESHOLD == 0.8
    assert settings.ENGINE in settings.ENGINES
    assert "© OpenStreetMap contributors" in settings.ATTRIBUTION
    assert "© OpenStreetMap contributors" in settings.ATTRIBUTION_HTML
    assert [b for b, _ in settings.BANDS] == sorted((b for b, _ in settings.BANDS), reverse=True)


def test_speed_profiles_cannot_be_changed_in_place():
    try:
        settings.SPEED_PROFILES["elderly"] = 2.0  # type: ignore[index]
    except TypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("SPEED_PROFILES must be read-only")


def _defaults(func):
    return {
        k: v.default
        for k, v in inspect.signature(func).parameters.items()
        if v.default is not inspect.Parameter.empty
    }


def test_api_defaults_are_the_settings():
    assert _defaults(fm.travel_times)["speed"] == settings.WALK_SPEED_M_S
    assert _defaults(fm.travel_times)["engine"] == settings.ENGINE
    assert _defaults(fm.walking_areas)["buffer_m"] == settings.ISOCHRONE_BUFFER_M
    assert _defaults(fm.walking_areas)["max_snap_m"] == settings.MAX_SNAP_M
    assert _defaults(fm.score_coverage)["threshold"] == settings.THRESHOLD
    assert _defaults(fm.load_catalogue)["name_or_path"] == settings.CATALOGUE
    assert _defaults(fm.community_walking_areas)["minutes"] == settings.COMMUNITY_WALK_MINUTES


def test_cli_defaults_are_the_settings():
    args = _parser().parse_args(["report"])
    assert args.threshold == settings.THRESHOLD
    assert args.engine == settings.ENGINE
    assert args.catalogue == settings.CATALOGUE
    assert args.lang == settings.LANG
    assert args.out == settings.OUT_DIR
    assert args.speed is None  # RunConfig's default: settings.WALK_SPEED_M_S
