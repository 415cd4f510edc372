"""Facility siting (怎么补): where to add facilities of an item so that most residents gain one.

The problem is *maximal coverage*: choose ``k`` sites among candidate sites so that the resident
weight within the item's tier (walking minutes) of at least one facility — existing or new — is
as large as possible. Steps:

1. :func:`candidate_sites`: the network nodes inside given areas (optionally also points every
   ``spacing_m`` metres along the streets inside them), or the user's own candidate layer
   (vacant lots, ground floors: any CRS, snapped onto the network like facilities);
2. :func:`coverage_sets`: for every candidate, the residents (origins) that would reach it
   within the tier, from one bounded search per candidate
   (:func:`fifteenmin.routing.reachable`), as a sparse boolean CSR matrix
   (candidates x origins). A resident at offset ``s`` on edge ``e`` (``access`` ``a`` metres from
   it) reaches a candidate whose search gives node distances ``d`` in
   ``min(a + s + d[u_e], a + L_e - s + d[v_e])`` metres, or straight along the edge when both
   are on the same one: the walking-time rule of :mod:`fifteenmin.routing`
   (:func:`~fifteenmin.routing.reach_walks`), which also times existing facilities.
   :func:`site_facilities` and :func:`plan_missing` compute only the columns that matter — the
   residents that existing facilities leave uncovered — and from the other side: one bounded
   search per such resident (at the largest tier it is needed for, shared by every tier and
   item), walked back to the candidates (``sets.uncovered_sets``; the network is walkable both
   ways). A pair within a relative 1e-8 of the tier, where summing the same walk from the other
   end could round differently, is re-timed by :func:`coverage_sets`, so every decision is the
   one the candidate's own search gives; covered residents add nothing to a coverage, so the
   sites are those of the full sets. With 1.23 M network nodes and 110,000 residents that is
   one search per resident instead of one per node and tier;
3. :func:`greedy_max_coverage`: greedy selection with lazy evaluation (CELF), which never
   falls below ``1 - 1/e`` (63 %) of the optimum and is usually within a few per cent of it;
   optionally (the default of :func:`site_facilities`) improved by swaps
   (:func:`improve_by_swaps`), which brought every benchmark instance within 3 % of the exact
   optimum (``bench/siting.py``; the plain greedy fell to 88 % on one). Residents that
   existing facilities already cover add nothing.

:func:`site_facilities` runs these steps for one item of a :class:`fifteenmin.pipeline.Results`;
:func:`plan_missing` does so for every required item that some community misses.

One site per item (``k=1``, the report's 怎么补 section) needs no coverage sets: the reverse
searches of step 2 only add each uncovered resident's weight to the candidates it may reach
(float32 sums with a count of their terms, so each gives a rigorous upper and lower bound of
the candidate's exact gain; ``siting.bounds``), and only the candidates whose upper bound
reaches the best lower bound (one to a few dozen) get their exact sets, from their own
searches, for step 3. No other candidate can match the chosen gain, and with one site the
swaps never beat the greedy's exact best, so the sites are those of the full sets (tested
against them); without numba, or with weights float32 cannot hold, the full sets are used.

Weights are the resident weights of :func:`fifteenmin.communities.residents`: residential floor
area in m² (building footprint x levels) where buildings are mapped, else metres of street, or
the population of a user's layer. "Residents gained" is therefore a weight, not a head count,
and shares are shares of the total weight.
"""

from __future__ import annotations

from .candidates import candidate_sites
from .greedy import GreedyResult, greedy_max_coverage, improve_by_swaps
from .plan import SITE_COLUMNS, missing_items, plan_missing, site_facilities
from .sets import coverage_sets

__all__ = [
    "SITE_COLUMNS",
    "GreedyResult",
    "candidate_sites",
    "coverage_sets",
    "greedy_max_coverage",
    "improve_by_swaps",
    "missing_items",
    "plan_missing",
    "site_facilities",
]
