"""Siting on a finished run: sites for one item, and a plan for every missing item."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from .._errors import CatalogueError, NetworkError
from ..network import SnapResult, as_points, snap_points

if TYPE_CHECKING:
    from ..catalogue import Item
    from ..pipeline import Results
from . import bounds
from .candidates import CANDIDATE_COLUMNS, candidate_sites, node_candidates
from .greedy import GreedyResult, greedy_max_coverage
from .sets import uncovered_sets

__all__ = ["SITE_COLUMNS", "missing_items", "plan_missing", "site_facilities"]

#: Columns of :func:`site_facilities` (user candidate columns follow, then ``geometry``).
SITE_COLUMNS = [
    "item_id",
    "step",
    "candidate",
    "source",
    "node_id",
    "residents_gained",
    "origins_gained",
    "weight_after",
    "share_after",
    "communities_helped",
    "community_ids",
    "communities_met",
    "lon",
    "lat",
]

# --------------------------------------------------------------------------------------------
# siting on a report


def _item(report: Results, item_id: str) -> tuple[int, Item]:
    ids = [it.id for it in report.travel.items]
    if item_id not in ids:
        report.catalogue[item_id]  # UnknownItemError names the known ids
        raise CatalogueError(
            f"item {item_id!r} has no travel times in this report; rerun the report with "
            "a catalogue that holds it."
        )
    k = ids.index(item_id)
    return k, report.travel.items[k]


def _candidates_for(
    report: Results,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    areas: Any,
    spacing_m: float | None,
) -> gpd.GeoDataFrame:
    net = report.network
    if isinstance(candidates, gpd.GeoDataFrame) and {"candidate", "source", "node_id"} <= set(
        candidates.columns
    ):
        # already from candidate_sites
        if areas is not None or spacing_m is not None:
            raise ValueError(
                "areas and spacing_m cannot be combined with candidates from candidate_sites: "
                "pass them to candidate_sites instead"
            )
        cands = candidates.to_crs(net.crs).reset_index(drop=True)
    else:
        cands = candidate_sites(net, areas=areas, points=candidates, spacing_m=spacing_m)
    if len(cands) == 0:
        where = "inside the given areas" if areas is not None else "in the candidate layer"
        raise NetworkError(
            f"no candidate site {where}: give areas that contain streets, or a candidate "
            "layer with points in the network's area."
        )
    return cands


class _SitingContext:
    """What every item of one report shares: candidates, weights, coverage sets per tier.

    One site per item (``k=1``) is chosen from the few candidates that can be best
    (:mod:`fifteenmin.siting.bounds`) instead of the full coverage sets, when
    :attr:`use_bounds` is True and the weights allow it: the same sites.
    """

    #: Choose single sites from :func:`fifteenmin.siting.bounds.contenders` when possible.
    use_bounds = True

    def __init__(
        self,
        report: Results,
        candidates: Any,
        areas: Any,
        spacing_m: float | None,
        engine: str | None,
    ) -> None:
        self.report = report
        self.net = report.network
        # every network node (the default): the candidate table is made only for the chosen
        self._nodes = candidates is None and areas is None and spacing_m is None
        self._cands = None
        if not self._nodes or self.net.n_nodes == 0:
            self._cands = _candidates_for(report, candidates, areas, spacing_m)
        self.n_cands = self.net.n_nodes if self._cands is None else len(self._cands)
        self.origins = report.residents
        self.weights = report.residents["weight"].to_numpy(dtype=np.float64)
        self.com = report.residents["community_id"].astype(str).to_numpy()
        self.engine = report.config.engine if engine is None else engine
        # per (tier, speed): the sets over the target origins, and the target
        self._sets: dict[tuple[float, float], tuple[sparse.csr_matrix, np.ndarray]] = {}
        self._snaps: tuple[SnapResult, SnapResult, np.ndarray, np.ndarray] | None = None
        self.threshold = report.threshold
        self._com_codes: np.ndarray = np.zeros(0, np.int64)
        self._com_total: pd.Series | None = None
        # per item: the candidates that may be its single best site (k=1)
        self._best: dict[str, bounds.Contenders] = {}

    def bounded(self, k: int | None) -> bool:
        """Whether sites are chosen among :func:`bounds.contenders` (one site per item)."""
        return k in (0, 1) and self.use_bounds and bounds.usable(self.weights)

    def prepare_best(self, item_ids: Sequence[str]) -> None:
        """The contenders of every item (one reverse search per origin some item misses)."""
        todo = [it for it in dict.fromkeys(item_ids) if it not in self._best]
        if not todo:
            return
        c_snap, o_snap, c_pts, o_pts = self.snaps()
        found = bounds.contenders(
            self.net,
            c_snap,
            o_snap,
            self.weights,
            [self.need(it) for it in todo],
            candidate_points=c_pts,
            origin_points=o_pts,
            engine=self.engine,
        )
        self._best.update(zip(todo, found, strict=True))

    def need(self, item_id: str) -> tuple[float, float, np.ndarray]:
        """An item's tier, speed and the origins its existing facilities leave uncovered."""
        col, item = _item(self.report, item_id)
        speed = float(self.report.travel.speed[col])
        tier = float(item.tier_minutes)
        return tier, speed, ~(self.report.origin_minutes[:, col] <= tier)

    def prepare(self, item_ids: Sequence[str]) -> None:
        """Compute the coverage sets of every tier of these items together.

        One search per origin that some item leaves uncovered, at the largest tier it is
        needed for (see :func:`uncovered_sets`).
        """
        want: dict[tuple[float, float], np.ndarray] = {}
        for it in item_ids:
            tier, speed, target = self.need(it)
            key = (tier, speed)
            want[key] = want[key] | target if key in want else target
        todo = [(k, t) for k, t in want.items() if not self._has(k, t)]
        if not todo:
            return
        c_snap, o_snap, c_pts, o_pts = self.snaps()
        tiers = [(k[0], k[1], t) for k, t in todo]
        mats = uncovered_sets(
            self.net,
            c_snap,
            o_snap,
            tiers,
            candidate_points=c_pts,
            origin_points=o_pts,
            engine=self.engine,
        )
        for (key, target), mat in zip(todo, mats, strict=True):
            self._sets[key] = (mat, target)

    @property
    def cands(self) -> gpd.GeoDataFrame:
        """The candidate table (:func:`candidate_sites`)."""
        if self._cands is None:
            self._cands = _candidates_for(self.report, None, None, None)
        return self._cands

    def _has(self, key: tuple[float, float], target: np.ndarray) -> bool:
        return key in self._sets and not (target & ~self._sets[key][1]).any()

    def snaps(self) -> tuple[SnapResult, SnapResult, np.ndarray, np.ndarray]:
        """Candidates and origins snapped onto the network (once), and their points."""
        if self._snaps is None:
            c_pts = (
                np.column_stack([self.net.x, self.net.y])  # the node candidates' points
                if self._cands is None
                else np.asarray(self.cands.geometry.values, dtype=object)
            )
            o_pts = as_points(self.net, self.origins)
            self._snaps = (snap_points(self.net, c_pts), snap_points(self.net, o_pts), c_pts, o_pts)
        return self._snaps

    def sets(self, minutes: float, speed: float, target: np.ndarray) -> sparse.csr_matrix:
        """Which ``target`` origins each candidate covers within the tier.

        The other columns are empty: origins already covered gain nothing.
        """
        key = (float(minutes), float(speed))
        if not self._has(key, target):
            old = self._sets[key][1] if key in self._sets else np.zeros_like(target)
            c_snap, o_snap, c_pts, o_pts = self.snaps()
            mat = uncovered_sets(
                self.net,
                c_snap,
                o_snap,
                [(key[0], key[1], target | old)],
                candidate_points=c_pts,
                origin_points=o_pts,
                engine=self.engine,
            )[0]
            self._sets[key] = (mat, target | old)
        return self._sets[key][0]

    def communities_met(self, covered: np.ndarray) -> int:
        """Communities whose covered share of resident weight reaches the threshold."""
        if len(self.com) == 0:
            return 0
        if self._com_total is None:  # the communities as codes (sorted), factorized once
            self._com_codes = pd.factorize(self.com, sort=True)[0]
            self._com_total = pd.Series(self.weights).groupby(self._com_codes).sum()
        tot = self._com_total
        got = pd.Series(np.where(covered, self.weights, 0.0)).groupby(self._com_codes).sum()
        ok = (tot > 0) & (got >= self.threshold * tot)
        return int(ok.sum())

    def site(
        self, item_id: str, k: int | None, target_share: float | None, swaps: bool = True
    ) -> gpd.GeoDataFrame:
        _, item = _item(self.report, item_id)
        tier, speed, uncovered = self.need(item_id)
        existing = ~uncovered
        names: np.ndarray | None = None  # candidate of each row of ``sets`` (None: the row)
        if self.bounded(k):
            self.prepare_best([item_id])
            names, sets = self._best[item_id].candidates, self._best[item_id].sets
        else:
            sets = self.sets(tier, speed, uncovered)
        res = greedy_max_coverage(
            sets, self.weights, k=k, target_share=target_share, covered=existing, swaps=swaps
        )
        chosen = res.chosen if names is None else names[res.chosen]
        out = self.table(self.steps(item_id, sets, res, existing, names), chosen)
        out.attrs.update(
            {
                "item_id": item_id,
                "item_name_en": item.name_en,
                "item_name_zh": item.name_zh,
                "tier_minutes": tier,
                "speed_m_s": speed,
                "total_weight": res.total_weight,
                "weight_before": res.initial_weight,
                "share_before": res.initial_weight / res.total_weight if res.total_weight else 0.0,
                "communities": len(self.report.communities),
                "communities_met_before": self.communities_met(existing),
                "threshold": self.threshold,
                "candidates": self.n_cands,
                "method": "greedy (lazy) + swaps" if swaps else "greedy (lazy)",
                "swaps": res.swaps,
                "weights": "resident weight (floor area m² of residential buildings, else "
                "metres of street, or the population of a user layer)",
            }
        )
        return out

    def steps(
        self,
        item_id: str,
        sets: sparse.csr_matrix,
        res: GreedyResult,
        existing: np.ndarray,
        names: np.ndarray | None = None,
    ) -> list[dict[str, Any]]:
        """One record per chosen site: what it gains, whom it helps, what is met after it.

        ``names``: the candidate of each row of ``sets`` (None: row ``j`` is candidate ``j``).
        """
        cov = existing.copy()
        recs = []
        for step, (c, g, after) in enumerate(
            zip(res.chosen, res.gains, res.covered_weight, strict=True), start=1
        ):
            o = sets.indices[sets.indptr[c] : sets.indptr[c + 1]]
            new = o[~cov[o]]
            cov[new] = True
            gained_w = pd.Series(self.weights[new]).groupby(self.com[new]).sum()
            helped = gained_w[gained_w > 0].sort_values(ascending=False, kind="stable")
            recs.append(
                {
                    "item_id": item_id,
                    "step": step,
                    "candidate": int(c if names is None else names[c]),
                    "residents_gained": float(g),
                    "origins_gained": len(new),
                    "weight_after": float(after),
                    "share_after": float(after / res.total_weight) if res.total_weight else 0.0,
                    "communities_helped": len(helped),
                    "community_ids": ";".join(map(str, helped.index)),
                    "communities_met": self.communities_met(cov),
                }
            )
        return recs

    def table(self, recs: list[dict[str, Any]], chosen: np.ndarray) -> gpd.GeoDataFrame:
        """The step records joined with the chosen candidates' own columns (EPSG:4326)."""
        if self._cands is None:  # every node: the chosen rows of candidate_sites(net)
            rows = node_candidates(self.net, np.asarray(chosen, dtype=np.int64))
        else:
            rows = self.cands.iloc[chosen] if len(chosen) else self.cands.iloc[:0]
        table = pd.DataFrame(
            recs,
            # the computed columns; the candidate's own (source, node, lon/lat) join below
            columns=[c for c in SITE_COLUMNS if c not in ("source", "node_id", "lon", "lat")],
        )
        user_cols = [c for c in rows.columns if c not in (*CANDIDATE_COLUMNS, "geometry")]
        user_cols = [c for c in user_cols if c not in SITE_COLUMNS and c != rows.geometry.name]
        data = table.assign(
            source=rows["source"].to_numpy(),
            node_id=pd.array(rows["node_id"].to_numpy(), dtype="Int64"),
            lon=rows["lon"].to_numpy(dtype=np.float64),
            lat=rows["lat"].to_numpy(dtype=np.float64),
        )
        for c in user_cols:
            data[c] = rows[c].to_numpy()
        data = data.astype(
            {
                "step": np.int64,
                "candidate": np.int64,
                "origins_gained": np.int64,
                "communities_helped": np.int64,
                "communities_met": np.int64,
            }
        )
        out = gpd.GeoDataFrame(
            data[[*SITE_COLUMNS, *user_cols]],
            geometry=gpd.points_from_xy(data["lon"], data["lat"], crs="EPSG:4326"),
            crs="EPSG:4326",
        )
        out.index = pd.RangeIndex(len(out))
        return out


def site_facilities(
    report: Results,
    item_id: str,
    k: int | None = 3,
    *,
    target_share: float | None = None,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    spacing_m: float | None = None,
    swaps: bool = True,
    engine: str | None = None,
) -> gpd.GeoDataFrame:
    """Propose sites for new facilities of one item: greedy maximal coverage of residents.

    Residents (the report's origins) already within the item's tier of an existing facility
    count as covered and add nothing; each step adds the candidate that brings the most
    resident weight within the tier (see :func:`greedy_max_coverage`), and the sites are then
    improved by swaps (``swaps=True``) and listed in greedy order.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    item_id
        Catalogue item, e.g. ``"elderly_day_care"``.
    k
        Number of sites (at most; fewer when nothing more can be gained or
        ``target_share`` is met). ``None``: no limit (give ``target_share``).
    target_share
        Stop once this share of the resident weight is covered.
    candidates
        The user's candidate layer (points or polygons, any CRS), or the result of
        :func:`candidate_sites`; default: every network node (inside ``areas``).
    areas
        Polygons (any CRS) the candidates must lie in.
    spacing_m
        Also consider points every ``spacing_m`` metres along the streets.
    swaps
        Improve the greedy's sites by swaps before listing them (see
        :func:`greedy_max_coverage`); ``False``: the plain greedy, whose first ``j`` sites
        are the same for every ``k >= j``.
    engine
        Shortest-path engine (default: the run's, ``report.config.engine``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per chosen site, in order (EPSG:4326): :data:`SITE_COLUMNS` —
        ``step``; ``candidate`` (row of the candidate table); ``source``; ``node_id`` (OSM
        node id for node candidates); ``residents_gained``: resident *weight* (floor area in
        m², or street metres, see :func:`fifteenmin.communities.residents`) newly within the
        tier; ``origins_gained``: origin points newly covered; ``weight_after`` and
        ``share_after``: covered weight and share of the total after this step (existing
        facilities included); ``communities_helped`` / ``community_ids``: communities with
        newly covered residents (largest gain first); ``communities_met``: communities whose
        covered share reaches the report's threshold after this step; ``lon``, ``lat`` —
        then the user's candidate columns. ``attrs`` holds the item, tier, speed, total
        weight, share before any new site, and ``communities_met_before``.

    Raises
    ------
    CatalogueError
        Unknown item id.
    NetworkError
        No candidate site (e.g. no node inside the areas).

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> from fifteenmin.siting import site_facilities
    >>> rep = run_report()  # doctest: +SKIP
    >>> sites = site_facilities(rep, "elderly_day_care", k=3)  # doctest: +SKIP
    >>> sites[["step", "node_id", "residents_gained", "share_after"]]  # doctest: +SKIP
    >>> sites.explore()  # doctest: +SKIP
    """
    _item(report, item_id)  # fail fast on an unknown item
    if k is None and target_share is None:
        raise ValueError("give k (number of sites), target_share, or both")
    ctx = _SitingContext(report, candidates, areas, spacing_m, engine)
    return ctx.site(item_id, k, target_share, swaps)


def missing_items(report: Results) -> list[str]:
    """Required items that at least one community does not meet, in catalogue order.

    Examples
    --------
    >>> missing_items(rep)[:3]  # doctest: +SKIP
    ['kindergarten', 'primary_school', 'junior_middle_school']
    """
    miss = _missing_ids(report.coverage.communities["missing"])
    return [it.id for it in report.travel.items if it.id in miss]


def _missing_ids(missing: pd.Series) -> set[str]:
    """Item ids in the coverage communities' ``missing`` column (a list of ids per cell)."""
    miss: set[str] = set()
    for ids in missing:
        miss.update(ids)
    return miss


def plan_missing(
    report: Results,
    k: int | None = 1,
    items: Sequence[str] | None = None,
    *,
    target_share: float | None = None,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    areas: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None = None,
    spacing_m: float | None = None,
    swaps: bool = True,
    engine: str | None = None,
) -> gpd.GeoDataFrame:
    """A siting plan for every required item that some community misses.

    For every item (default: :func:`missing_items`), up to ``k`` sites chosen as in
    :func:`site_facilities`; items are planned independently (one site may appear for
    several items: a multi-service centre). Coverage sets are computed once per tier.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    k
        Sites per item.
    items
        Item ids to plan (default: the missing required items).
    target_share, candidates, areas, spacing_m, swaps, engine
        As in :func:`site_facilities`.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of :func:`site_facilities` of every item, in catalogue order then step;
        ``attrs["items"]`` maps each item to its ``attrs`` (share before, tier, ...).
        Items where no site adds anything have no row.

    Examples
    --------
    >>> plan = plan_missing(rep, k=1)  # doctest: +SKIP
    >>> plan.groupby("item_id")["residents_gained"].sum()  # doctest: +SKIP
    """
    if k is None and target_share is None:
        raise ValueError("give k (sites per item), target_share, or both")
    todo = missing_items(report) if items is None else list(items)
    for it in todo:
        _item(report, it)
    ctx = _SitingContext(report, candidates, areas, spacing_m, engine)
    if ctx.bounded(k):
        ctx.prepare_best(todo)
    else:
        ctx.prepare(todo)
    parts = [ctx.site(it, k, target_share, swaps) for it in todo]
    meta = {p.attrs["item_id"]: dict(p.attrs) for p in parts}
    nonempty = [p for p in parts if len(p)]
    if nonempty:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            out = pd.concat(nonempty, ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    else:
        out = ctx.site(todo[0], 0, None).iloc[:0] if todo else _empty_plan()
    out.attrs = {"items": meta, "k": k, "target_share": target_share}
    return out


def _empty_plan() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(columns=SITE_COLUMNS), geometry=gpd.GeoSeries([], crs="EPSG:4326")
    )
