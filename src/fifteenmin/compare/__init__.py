"""Before and after: the difference between two coverage reports (a scenario against today).

:func:`compare_reports` reads two report folders (``coverage.csv`` and ``summary.json``, and
``communities.gpkg`` when it is there), or takes two :class:`~fifteenmin.pipeline.Results`,
and returns a :class:`Comparison`: which communities gain or lose which items, the change in
the coverage rate and the resident-weighted rate, and the counts per item.
:meth:`Comparison.write` (``fifteenmin compare BEFORE AFTER --out DIFF``) writes
``changes.csv``, ``summary.json`` and ``compare.html``.

An item is *gained* by a community when it was not met before and is met after (the share of
its residents within the item's tier crossed the threshold), *lost* the other way round.
Rows whose status stays but whose share within the tier or median walking time moved are
*better* or *worse*; communities or items present in one report only are *added* or
*removed*. Numbers are compared as the report files hold them (4 decimals).

Examples
--------
>>> comp = compare_reports("today", "with-kindergarten")  # doctest: +SKIP
>>> comp.summary["coverage"]["coverage_rate"]  # doctest: +SKIP
{'before': 0.2, 'after': 0.3, 'change': 0.1}
>>> comp.write("diff")  # doctest: +SKIP
"""

from __future__ import annotations

from .diff import CHANGE_KINDS, COMPARE_FILES, Comparison, compare_reports, read_coverage_csv
from .page import render_compare_html

__all__ = [
    "CHANGE_KINDS",
    "COMPARE_FILES",
    "Comparison",
    "compare_reports",
    "read_coverage_csv",
    "render_compare_html",
]
