"""Scenarios and ``fifteenmin compare`` on two real reports of the bundled sample.

Before: the sample as it is. After: the same with one planned pharmacy (``--add-facilities``)
where ``fifteenmin site pharmacy --k 1`` proposes it. The oracle for the communities gaining
the pharmacy is computed by hand from the two ``coverage.csv`` files (the communities whose
share of residents within the pharmacy's tier was below the threshold and is at or above it
now), and must also be the communities the siting run said the site would bring to the
threshold.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import geopandas as gpd
import pandas as pd
import pytest

import fifteenmin as fm
from fifteenmin import ConfigError, settings
from fifteenmin.cli import main
from fifteenmin.compare import CHANGE_KINDS, compare_reports, read_coverage_csv
from fifteenmin.output.html.assets import check_self_contained
from fifteenmin.siting import site_facilities

ITEM = "pharmacy"


def _coverage(path):
    """coverage.csv by hand: the csv module, skipping a leading ``#`` line if there is one."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if lines[0].startswith("#"):
        lines = lines[1:]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The sample's report, a planned pharmacy where siting proposes it, and the after report."""
    root = tmp_path_factory.mktemp("compare")
    before = fm.run_report()
    before.write(root / "before", html=False)
    site = site_facilities(before, ITEM, k=1).iloc[0]
    planned = root / "planned.csv"
    lon, lat = float(site["lon"]), float(site["lat"])
    planned.write_text(
        f"item,name,lon,lat\n{ITEM},=Planned <pharmacy> & co,{lon!r},{lat!r}\n", encoding="utf-8"
    )
    rc = main(
        [
            "report",
            "--add-facilities",
            str(planned),
            "--no-html",
            "-q",
            "--out",
            str(root / "after"),
        ]
    )
    assert rc == 0
    return {
        "root": root,
        "before_report": before,
        "site": site,
        "planned": planned,
        "before": root / "before",
        "after": root / "after",
    }


@pytest.fixture(scope="module")
def diff(runs):
    out = runs["root"] / "diff"
    assert main(["compare", str(runs["before"]), str(runs["after"]), "--out", str(out), "-q"]) == 0
    return out


def test_planned_facility_is_marked_in_facilities_gpkg(runs):
    after = gpd.read_file(runs["after"] / "facilities.gpkg")
    planned = after[after["source"] == "planned"]
    assert len(planned) == 1
    row = planned.iloc[0]
    assert row["item_id"] == ITEM and row["osm_type"] == "user" and row["osm_id"] == 0
    assert row["name"] == "=Planned <pharmacy> & co"
    assert row.geometry.x == pytest.approx(runs["site"]["lon"], abs=1e-9)
    assert row.geometry.y == pytest.approx(runs["site"]["lat"], abs=1e-9)
    assert set(after["source"]) == {"osm", "planned"}
    # without the option nothing changes: no source column at all
    before = gpd.read_file(runs["before"] / "facilities.gpkg")
    assert "source" not in before.columns
    assert len(after) == len(before) + 1
    summary = json.loads((runs["after"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["user_facilities"] == "planned: planned.csv"
    assert summary["facilities"]["per_item"][ITEM] == (
        json.loads((runs["before"] / "summary.json").read_text(encoding="utf-8"))["facilities"][
            "per_item"
        ][ITEM]
        + 1
    )


def test_communities_gaining_are_those_crossing_the_threshold(runs, diff):
    before = {
        (r["community_id"], r["item_id"]): r for r in _coverage(runs["before"] / "coverage.csv")
    }
    after = {
        (r["community_id"], r["item_id"]): r for r in _coverage(runs["after"] / "coverage.csv")
    }
    assert before.keys() == after.keys()
    thr = settings.THRESHOLD
    expected = sorted(
        c
        for (c, i), r in after.items()
        if i == ITEM
        and float(before[c, i]["share_within_tier"]) < thr <= float(r["share_within_tier"])
    )
    assert expected  # the site helps someone
    # ... and they are the communities the siting run said the site brings to the threshold
    assert expected == sorted(runs["site"]["community_ids"].split(";"))
    assert len(expected) == runs["site"]["communities_met"]
    # no other item changes status: a pharmacy serves only the pharmacy item
    moved = {k for k in before if before[k]["met"] != after[k]["met"]}
    assert moved == {(c, ITEM) for c in expected}

    changes = _coverage(diff / "changes.csv")
    gained = sorted(r["community_id"] for r in changes if r["change"] == "gained")
    assert gained == expected
    assert all(r["item_id"] == ITEM for r in changes)
    assert not [r for r in changes if r["change"] in ("lost", "worse", "added", "removed")]
    for r in changes:
        b, a = before[r["community_id"], ITEM], after[r["community_id"], ITEM]
        assert (r["status_before"], r["status_after"]) == (b["status"], a["status"])
        assert float(r["share_before"]) == float(b["share_within_tier"])
        assert float(r["share_after"]) == float(a["share_within_tier"])
        if r["change"] == "gained":
            assert (b["status"], a["status"]) == ("missing", "met")
    # every pharmacy row that moved at all is listed
    moved_any = {
        c
        for (c, i), r in after.items()
        if i == ITEM
        and (
            r["share_within_tier"] != before[c, i]["share_within_tier"]
            or r["median_minutes"] != before[c, i]["median_minutes"]
        )
    }
    assert {r["community_id"] for r in changes} == moved_any


def test_summary_before_after(runs, diff):
    s = json.loads((diff / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((runs["before"] / "summary.json").read_text(encoding="utf-8"))
    sa = json.loads((runs["after"] / "summary.json").read_text(encoding="utf-8"))
    for key in ("coverage_rate", "coverage_rate_weighted", "communities_all_met", "mean_index"):
        b, a = sb["coverage"][key], sa["coverage"][key]
        assert s["coverage"][key] == {"before": b, "after": a, "change": pytest.approx(a - b)}
    assert s["coverage"]["mean_index"]["change"] > 0
    gaining = s["communities_gaining"]
    assert sorted(g["community_id"] for g in gaining) == sorted(
        runs["site"]["community_ids"].split(";")
    )
    assert all(g["items"] == [ITEM] for g in gaining)
    assert s["communities_losing"] == []
    item = s["items"][ITEM]
    assert item["gained"] == len(gaining) and item["lost"] == 0
    assert item["communities_met"]["after"] - item["communities_met"]["before"] == len(gaining)
    per_b, per_a = sb["facilities"]["per_item"], sa["facilities"]["per_item"]
    assert item["facilities"] == {"before": per_b[ITEM], "after": per_a[ITEM]}
    assert all(v["gained"] == v["lost"] == 0 for k, v in s["items"].items() if k != ITEM)
    assert set(s["items"]) == set(per_a)
    assert s["parameters_changed"] == {
        "user_facilities": {"before": None, "after": "planned: planned.csv"}
    }
    assert s["before"]["report"] == "before" and s["after"]["report"] == "after"
    assert s["changes"]["gained"] == len(gaining) and set(s["changes"]) == set(CHANGE_KINDS)
    assert s["warnings"] == []
    assert s["attribution"] == settings.ATTRIBUTION


def test_compare_html(runs, diff, tmp_path):
    page = (diff / "compare.html").read_text(encoding="utf-8")
    check_self_contained(page)
    assert "https://www.openstreetmap.org/copyright" in page and "ODbL" in page
    assert "<svg" in page and page.count("<path") == 12  # the sample's 12 communities
    assert page.count("<circle") == 1  # the planned pharmacy
    assert "Pharmacy" in page
    # a hostile community name is escaped, in tables and in the map's tooltips
    tampered = tmp_path / "after"
    shutil.copytree(runs["after"], tampered)
    gained = json.loads((diff / "summary.json").read_text(encoding="utf-8"))
    cid = gained["communities_gaining"][0]["community_id"]
    table = pd.read_csv(tampered / "coverage.csv", skiprows=1, dtype=str, keep_default_na=False)
    table.loc[table["community_id"] == cid, "community_name"] = "<img src=x onerror=alert(1)>"
    table.to_csv(tampered / "coverage.csv", index=False)
    main(["compare", str(runs["before"]), str(tampered), "--out", str(tmp_path / "d"), "-q"])
    page = (tmp_path / "d" / "compare.html").read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    args = ["compare", str(runs["before"]), str(runs["after"]), "--out", str(tmp_path / "zh")]
    assert main([*args, "--lang", "zh", "-q"]) == 0
    page = (tmp_path / "zh" / "compare.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page and "前后对比" in page and "药店" in page


def test_coverage_csv_of_any_version(runs, tmp_path):
    """With or without the leading ``#`` line, with or without a BOM: the same comparison."""
    old = read_coverage_csv(runs["before"] / "coverage.csv")
    variant = tmp_path / "before"
    shutil.copytree(runs["before"], variant)
    lines = (variant / "coverage.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(lines[1:]) if lines[0].startswith("#") else "".join(lines)
    (variant / "coverage.csv").write_text("\ufeff" + body, encoding="utf-8")
    new = read_coverage_csv(variant / "coverage.csv")
    pd.testing.assert_frame_equal(old, new)
    a = compare_reports(runs["before"], runs["after"])
    b = compare_reports(variant, runs["after"])
    pd.testing.assert_frame_equal(a.changes, b.changes)
    assert a.summary["coverage"] == b.summary["coverage"]


def test_compare_results_in_python(runs):
    """Two runs in memory compare as their folders do; the planned table by source label."""
    after = fm.run_report(user_facilities={"planned": runs["planned"]})
    comp = compare_reports(runs["before_report"], after)
    on_disk = compare_reports(runs["before"], runs["after"])
    cols = ["community_id", "item_id", "change", "status_before", "status_after"]
    pd.testing.assert_frame_equal(comp.changes[cols], on_disk.changes[cols])
    assert comp.summary["communities_gaining"] == on_disk.summary["communities_gaining"]
    assert "gain items" in repr(comp) and comp.headline().startswith("coverage rate ")
    gained = comp.communities[comp.communities["n_gained"] > 0]
    assert gained["items_gained"].tolist() == [[ITEM]] * len(gained)
    assert {"index_before", "index_after", "band_before", "band_after"} <= set(comp.communities)


def test_user_and_planned_tables_together(runs, tmp_path):
    survey = tmp_path / "survey.csv"
    survey.write_text("item,lon,lat\nkindergarten,24.945,60.17\n", encoding="utf-8")
    rep = fm.run_report(user_facilities={"user": survey, "planned": runs["planned"]})
    fac = rep.facilities
    assert sorted(fac.loc[fac["source"] != "osm", "source"]) == ["planned", "user"]
    assert rep.params["user_facilities"] == "user: survey.csv; planned: planned.csv"
    with pytest.raises(ConfigError, match="other than 'osm'"):
        fm.run_report(user_facilities={"osm": survey})


def test_compare_errors_are_one_line(runs, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for before in (tmp_path / "empty", tmp_path / "absent"):
        capsys.readouterr()
        rc = main(["compare", str(before), str(runs["after"]), "--out", str(tmp_path / "d")])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("fifteenmin: error: "), err
    assert not (tmp_path / "d").exists()
