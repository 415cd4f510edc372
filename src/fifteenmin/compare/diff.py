"""The comparison of two coverage reports: :func:`compare_reports` → :class:`Comparison`.

Reading the two reports (folders or :class:`~fifteenmin.pipeline.Results`), merging their
community × item tables, classifying every change, the per-community and per-item tables and
the summary; :meth:`Comparison.write` writes the files (the page is
:mod:`fifteenmin.compare.page`'s).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import settings
from .._errors import InputFileError
from .._i18n import labels
from .._progress import logger
from .._version import __version__
from ..output._files import commit, discard, prepare_output_dir, stage_file, write_csv, write_json
from ..output.html.common import pct
from .page import LABELS, render_compare_html

if TYPE_CHECKING:
    import geopandas as gpd

    from ..pipeline import Results

__all__ = ["CHANGE_KINDS", "COMPARE_FILES", "Comparison", "compare_reports", "read_coverage_csv"]

#: The kinds of change of a (community, item) row, in the order they are listed.
CHANGE_KINDS = ("gained", "lost", "better", "worse", "changed", "added", "removed")

#: The files :meth:`Comparison.write` writes.
COMPARE_FILES = ("changes.csv", "summary.json", "compare.html")

_COVERAGE_COLUMNS = (
    "community_id",
    "community_name",
    "item_id",
    "item_name_zh",
    "item_name_en",
    "tier_minutes",
    "share_within_tier",
    "median_minutes",
    "met",
    "status",
)
_TEXT_COLUMNS = ("community_id", "community_name", "item_id", "item_name_zh", "item_name_en")
_DECIMALS = 4  # the precision of the report's CSV


def read_coverage_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a report's ``coverage.csv``, whichever version wrote it.

    Older reports begin with a ``#`` attribution line, newer ones with the header (and a
    UTF-8 byte-order mark); both read the same. Names are kept as text (``"NA"`` stays a
    name), empty numbers are NaN.

    Raises
    ------
    InputFileError
        The file is missing or lacks a column of the report's table.

    Examples
    --------
    >>> table = read_coverage_csv("fifteenmin-report/coverage.csv")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(
            f"'{p}' is missing: give the folders of two reports written by `fifteenmin report`."
        )
    with p.open(encoding="utf-8-sig") as fh:
        skip = 1 if fh.readline().startswith("#") else 0
    df = pd.read_csv(
        p,
        encoding="utf-8-sig",
        skiprows=skip,
        dtype={c: str for c in (*_TEXT_COLUMNS, "status")},
        keep_default_na=False,
        na_values={c: [""] for c in ("share_within_tier", "median_minutes", "p90_minutes")},
    )
    missing = [c for c in _COVERAGE_COLUMNS if c not in df.columns]
    if missing:
        raise InputFileError(
            f"'{p}' is not a report's coverage table: it lacks {', '.join(missing)} (columns: "
            f"{', '.join(map(str, df.columns))})."
        )
    df["met"] = df["met"].astype(str).str.lower().isin(("true", "1"))
    return df


@dataclass(eq=False)
class _Report:
    """What a comparison needs of one report."""

    label: str
    table: pd.DataFrame
    summary: dict[str, Any]
    communities: pd.DataFrame | None  # communities.gpkg's table (with geometry), if any
    planned: Any = None  # points of the planned facilities (source "planned"), if any


def _load(report: str | os.PathLike[str] | Results) -> _Report:
    if not isinstance(report, str | os.PathLike):
        com = report.coverage.communities
        summary = report.summary()
        planned = _planned_points(report.facilities)
        return _Report(report.osm_source, report.coverage.table.copy(), summary, com, planned)
    folder = Path(report)
    if not folder.is_dir():
        raise InputFileError(f"report folder '{folder}' not found: give two report folders.")
    table = read_coverage_csv(folder / "coverage.csv")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"'{folder / 'summary.json'}' is missing: is it a report?") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(f"'{folder / 'summary.json'}' cannot be read: {exc}") from exc
    com = planned = None
    if (folder / "communities.gpkg").is_file() or (folder / "facilities.gpkg").is_file():
        import geopandas as gpd

        if (folder / "communities.gpkg").is_file():
            com = gpd.read_file(folder / "communities.gpkg", layer="communities")
        if (folder / "facilities.gpkg").is_file():
            planned = _planned_points(gpd.read_file(folder / "facilities.gpkg", layer="facilities"))
    return _Report(folder.name or str(folder), table, summary, com, planned)


def _planned_points(facilities: gpd.GeoDataFrame) -> gpd.GeoSeries | None:
    """WGS-84 points of the facilities whose source is ``planned`` (None: there are none)."""
    if "source" not in facilities.columns or not (facilities["source"] == "planned").any():
        return None
    g = facilities.loc[facilities["source"] == "planned"].geometry.to_crs("EPSG:4326")
    return g.representative_point()


@dataclass(eq=False)
class Comparison:
    """The difference between two coverage reports.

    Attributes
    ----------
    changes
        One row per (community, item) that changed: ``community_id``, ``community_name``,
        ``item_id``, ``item_name_zh``, ``item_name_en``, ``tier_minutes``,
        ``status_before``, ``status_after``, ``change`` (one of :data:`CHANGE_KINDS`),
        ``share_before``, ``share_after`` (share of residents within the tier),
        ``median_minutes_before``, ``median_minutes_after``.
    communities
        One row per community: ``items_gained`` and ``items_lost`` (lists of item ids), their
        counts, and, when both reports have ``communities.gpkg``, ``index_before``,
        ``index_after``, ``band_before``, ``band_after``.
    items
        One row per item: communities meeting it before and after, ``gained``, ``lost``, and
        facilities before and after.
    summary
        The content of ``summary.json``.
    before, after
        The reports' labels (folder names).
    geometry
        The after report's community polygons (WGS-84, indexed by ``community_id``), if any.
    planned
        The after report's planned facilities (points, WGS-84), if any.
    """

    changes: pd.DataFrame
    communities: pd.DataFrame
    items: pd.DataFrame
    summary: dict[str, Any]
    before: str
    after: str
    geometry: gpd.GeoSeries | None = field(default=None, repr=False)
    planned: gpd.GeoSeries | None = field(default=None, repr=False)

    def write(self, out_dir: str | os.PathLike[str], *, lang: str = settings.LANG) -> list[Path]:
        """Write ``changes.csv``, ``summary.json`` and ``compare.html`` into ``out_dir``.

        Nothing is written unless every file could be; a failure leaves no file half-written.

        Raises
        ------
        OutputError
            The folder cannot be created or written.

        Examples
        --------
        >>> compare_reports("before", "after").write("diff", lang="zh")  # doctest: +SKIP
        """
        labels(LABELS, lang)
        out = prepare_output_dir(out_dir)
        page = render_compare_html(self, lang=lang).encode("utf-8")
        writers = {
            "changes.csv": lambda p: write_csv(p, self.changes),
            "summary.json": lambda p: write_json(p, self.summary),
            "compare.html": lambda p: p.write_bytes(page),
        }
        staged: list[tuple[Path, Path]] = []
        try:
            for name, writer in writers.items():
                staged.append(stage_file(out, name, writer))
        except BaseException:
            discard(staged)
            raise
        return commit(staged)

    def headline(self) -> str:
        """The comparison in one line (what ``fifteenmin compare`` prints).

        Examples
        --------
        >>> compare_reports("before", "after").headline()  # doctest: +SKIP
        'coverage rate 0% -> 8% (+8.3 points); 3 communities gain items, 0 lose items'
        """
        s = self.summary
        rate = s["coverage"]["coverage_rate"]
        change = rate["change"]
        points = f" ({change * 100:+.1f} points)" if change is not None else ""
        return (
            f"coverage rate {pct(rate['before'])} -> {pct(rate['after'])}{points}; "
            f"{len(s['communities_gaining'])} communities gain items, "
            f"{len(s['communities_losing'])} lose items"
        )

    def __repr__(self) -> str:
        return f"Comparison({self.before!r} -> {self.after!r}: {self.headline()})"


# --------------------------------------------------------------------------------------------
# the comparison


def _first_order(*columns: pd.Series) -> list[str]:
    """Distinct values in order of first appearance over the columns."""
    return list(dict.fromkeys(v for col in columns for v in col.tolist()))


def _classify(m: pd.DataFrame) -> np.ndarray:
    """The kind of change of every merged row (``""`` when nothing changed)."""
    in_b = m["_merge"] != "right_only"
    in_a = m["_merge"] != "left_only"
    both = in_b & in_a
    met_b = m["met_before"].astype("boolean").fillna(False).astype(bool)
    met_a = m["met_after"].astype("boolean").fillna(False).astype(bool)
    sb = m["share_before"].round(_DECIMALS)
    sa = m["share_after"].round(_DECIMALS)
    # no facility within the search: infinitely far
    mb = m["median_minutes_before"].round(_DECIMALS).fillna(np.inf)
    ma = m["median_minutes_after"].round(_DECIMALS).fillna(np.inf)
    better = (sa > sb) | ((sa == sb) & (ma < mb))
    worse = (sa < sb) | ((sa == sb) & (ma > mb))
    status_moved = m["status_before"] != m["status_after"]
    return np.select(
        [
            both & ~met_b & met_a,
            both & met_b & ~met_a,
            both & better,
            both & worse,
            both & status_moved,
            ~in_b,
            ~in_a,
        ],
        list(CHANGE_KINDS),
        default="",
    )


def _merged(b: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    keys = ["community_id", "item_id"]
    cols = ["status", "met", "share_within_tier", "median_minutes"]
    names = ["community_name", "item_name_zh", "item_name_en", "tier_minutes"]
    m = b[keys + names + cols].merge(
        a[keys + names + cols], on=keys, how="outer", suffixes=("_b", "_a"), indicator=True
    )
    for c in names:  # the after report's names, else the before report's
        m[c] = m[f"{c}_a"].where(m[f"{c}_a"].notna(), m[f"{c}_b"])
    renames = {"share_within_tier": "share", "median_minutes": "median_minutes"}
    for c in cols:
        new = renames.get(c, c)
        m[f"{new}_before"] = m.pop(f"{c}_b")
        m[f"{new}_after"] = m.pop(f"{c}_a")
    m["change"] = _classify(m)
    for side in ("before", "after"):
        m[f"met_{side}"] = m[f"met_{side}"].astype("boolean").fillna(False).astype(bool)
    # community order of the after report (then the before report's), catalogue order
    com_rank = {c: k for k, c in enumerate(_first_order(a["community_id"], b["community_id"]))}
    item_rank = {c: k for k, c in enumerate(_first_order(a["item_id"], b["item_id"]))}
    m["_c"] = m["community_id"].map(com_rank)
    m["_i"] = m["item_id"].map(item_rank)
    return m.sort_values(["_c", "_i"], kind="stable").reset_index(drop=True)


_CHANGE_COLUMNS = [
    "community_id",
    "community_name",
    "item_id",
    "item_name_zh",
    "item_name_en",
    "tier_minutes",
    "status_before",
    "status_after",
    "change",
    "share_before",
    "share_after",
    "median_minutes_before",
    "median_minutes_after",
]


def _community_table(m: pd.DataFrame, rb: _Report, ra: _Report) -> pd.DataFrame:
    first = m.drop_duplicates("community_id")[["community_id", "community_name"]]
    out = first.reset_index(drop=True)
    for kind in ("gained", "lost"):
        lists = m[m["change"] == kind].groupby("community_id", sort=False)["item_id"].agg(list)
        out[f"items_{kind}"] = [lists.get(c, []) for c in out["community_id"]]
        out[f"n_{kind}"] = out[f"items_{kind}"].map(len).astype(np.int64)
    if rb.communities is not None and ra.communities is not None:
        for side, rep in (("before", rb), ("after", ra)):
            com = pd.DataFrame(rep.communities).set_index("community_id")
            for col in ("index", "band"):
                if col in com.columns:
                    out[f"{col}_{side}"] = out["community_id"].map(com[col])
    return out


def _item_table(m: pd.DataFrame, rb: _Report, ra: _Report) -> pd.DataFrame:
    g = m.groupby("item_id", sort=False)
    out = pd.DataFrame(
        {
            "item_name_zh": g["item_name_zh"].first(),
            "item_name_en": g["item_name_en"].first(),
            "met_before": g["met_before"].sum().astype(np.int64),
            "met_after": g["met_after"].sum().astype(np.int64),
            "gained": g["change"].agg(lambda s: int((s == "gained").sum())),
            "lost": g["change"].agg(lambda s: int((s == "lost").sum())),
        }
    )
    for side, rep in (("before", rb), ("after", ra)):
        per_item = rep.summary.get("facilities", {}).get("per_item", {})
        out[f"facilities_{side}"] = [int(per_item.get(i, 0)) for i in out.index]
    return out.rename_axis("item_id").reset_index()


def _before_after(b: Any, a: Any) -> dict[str, Any]:
    """``{"before", "after", "change"}`` of a number (change None if either is missing)."""
    ok = isinstance(b, int | float) and isinstance(a, int | float)
    # rounded off float noise (0.30000000000000004)
    return {"before": b, "after": a, "change": round(a - b, 12) if ok else None}


def _parameter_changes(pb: dict[str, Any], pa: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {"before": pb.get(k), "after": pa.get(k)}
        for k in dict.fromkeys([*pb, *pa])
        if pb.get(k) != pa.get(k)
    }


def _warnings(rb: _Report, ra: _Report, m: pd.DataFrame) -> list[str]:
    pb, pa = rb.summary.get("parameters", {}), ra.summary.get("parameters", {})
    out = []
    for key in ("catalogue", "threshold", "communities", "speed_m_s", "population"):
        if pb.get(key) != pa.get(key):
            out.append(
                f"the reports differ in {key} ({pb.get(key)!r} before, {pa.get(key)!r} after): "
                "the difference is not only the scenario's"
            )
    units_b = rb.summary.get("coverage", {}).get("weight_units")
    units_a = ra.summary.get("coverage", {}).get("weight_units")
    if units_b != units_a:
        out.append(f"resident weights are in different units ({units_b} before, {units_a} after)")
    for kind, side in (("added", "after"), ("removed", "before")):
        n = m.loc[m["change"] == kind, "community_id"].nunique()
        if n:
            out.append(f"{n} communities or items are only in the {side} report")
    return out


def _gaining(com: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    rows = com[com[f"n_{kind}"] > 0]
    return [
        {"community_id": r.community_id, "community_name": r.community_name, "items": list(items)}
        for r, items in zip(rows.itertuples(), rows[f"items_{kind}"], strict=True)
    ]


def _summary(
    rb: _Report, ra: _Report, m: pd.DataFrame, com: pd.DataFrame, items: pd.DataFrame
) -> dict[str, Any]:
    cb, ca = rb.summary.get("coverage", {}), ra.summary.get("coverage", {})
    return {
        "fifteenmin_version": __version__,
        "attribution": settings.ATTRIBUTION,
        "before": {"report": rb.label, **_report_facts(rb.summary)},
        "after": {"report": ra.label, **_report_facts(ra.summary)},
        "parameters_changed": _parameter_changes(
            rb.summary.get("parameters", {}), ra.summary.get("parameters", {})
        ),
        "coverage": {
            k: _before_after(cb.get(k), ca.get(k))
            for k in (
                "communities",
                "communities_all_met",
                "coverage_rate",
                "coverage_rate_weighted",
                "mean_index",
            )
        },
        "weight_units": ca.get("weight_units"),
        "communities_gaining": _gaining(com, "gained"),
        "communities_losing": _gaining(com, "lost"),
        "changes": {k: int((m["change"] == k).sum()) for k in CHANGE_KINDS},
        "items": {
            r.item_id: {
                "communities_met": {"before": r.met_before, "after": r.met_after},
                "gained": r.gained,
                "lost": r.lost,
                "facilities": {"before": r.facilities_before, "after": r.facilities_after},
            }
            for r in items.itertuples()
        },
        "warnings": _warnings(rb, ra, m),
    }


def _report_facts(summary: dict[str, Any]) -> dict[str, Any]:
    p = summary.get("parameters", {})
    return {k: p.get(k) for k in ("osm_file", "user_facilities", "catalogue", "threshold")}


def compare_reports(
    before: str | os.PathLike[str] | Results, after: str | os.PathLike[str] | Results
) -> Comparison:
    """Compare two coverage reports: which communities gain or lose which items.

    Parameters
    ----------
    before, after
        Report folders written by ``fifteenmin report`` (any version: ``coverage.csv`` with
        or without its leading ``#`` line), or :class:`~fifteenmin.pipeline.Results`
        (e.g. two :func:`~fifteenmin.run_report` runs, the second with
        ``user_facilities={"planned": "planned.csv"}``).

    Returns
    -------
    Comparison

    Raises
    ------
    InputFileError
        A folder is missing or is not a report.

    Examples
    --------
    >>> comp = compare_reports("today", "with-kindergarten")  # doctest: +SKIP
    >>> comp.communities.query("n_gained > 0")  # doctest: +SKIP
    """
    rb, ra = _load(before), _load(after)
    m = _merged(rb.table, ra.table)
    com = _community_table(m, rb, ra)
    items = _item_table(m, rb, ra)
    summary = _summary(rb, ra, m, com, items)
    for text in summary["warnings"]:
        logger.warning(f"warning: {text}")
    changes = m.loc[m["change"] != "", _CHANGE_COLUMNS].reset_index(drop=True)
    geometry = None
    if ra.communities is not None and "geometry" in ra.communities:
        import geopandas as gpd

        g = gpd.GeoDataFrame(ra.communities).set_index("community_id").geometry
        geometry = g.to_crs("EPSG:4326") if g.crs is not None else g
    return Comparison(changes, com, items, summary, rb.label, ra.label, geometry, ra.planned)
