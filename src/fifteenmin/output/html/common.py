"""What every part of the HTML report shares: escaping, number formats, names, score colours.

Every string that comes from OpenStreetMap or from a user file goes through :func:`esc`.

Examples
--------
>>> esc("<b>")
'&lt;b&gt;'
>>> pct(0.256), pct(float("nan"))
('26%', '–')
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...coverage import item_stats
from ...facilities import facility_counts
from ...settings import SCORE_CLASSES

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = [
    "NO_RESIDENTS_COLOUR",
    "SCORE_CLASSES",
    "display_name",
    "esc",
    "item_figures",
    "item_name",
    "pct",
    "score_colour",
    "split_ids",
    "ul",
]

#: Colour of a community without resident points (not scored).
NO_RESIDENTS_COLOUR = "#bdbdbd"


def esc(value: Any) -> str:
    """Escape any value for HTML text and attributes (``None`` becomes ``""``).

    Examples
    --------
    >>> esc('"a" & <b>'), esc(None)
    ('&quot;a&quot; &amp; &lt;b&gt;', '')
    """
    return html.escape("" if value is None else str(value), quote=True)


def ul(items: Iterable[str]) -> str:
    """A ``<ul>`` of already-escaped HTML items (in columns).

    Examples
    --------
    >>> ul(["a", "b"])
    '<ul class="fm-cols"><li>a</li><li>b</li></ul>'
    """
    return '<ul class="fm-cols">' + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


def split_ids(value: Any) -> list[str]:
    """The item ids of a ``;``-joined cell (``missing``, ``data_gaps``).

    Examples
    --------
    >>> split_ids("pharmacy;bus_stop"), split_ids(float("nan")), split_ids("")
    (['pharmacy', 'bus_stop'], [], [])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [v for v in str(value).split(";") if v]


def pct(v: float | None) -> str:
    """A share as a whole percentage; ``–`` when it is missing or not finite.

    Examples
    --------
    >>> pct(0.5), pct(None)
    ('50%', '–')
    """
    return "–" if v is None or not np.isfinite(v) else f"{v:.0%}"


def display_name(name: Any, tags: Any, lang: str) -> str:
    """A facility's name, with its name in the report's language when the tags have one.

    Examples
    --------
    >>> display_name("Apteekki", {"name:en": "Pharmacy"}, "en")
    'Pharmacy (Apteekki)'
    >>> display_name(None, {}, "zh")
    ''
    """
    base = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    alt = ""
    if isinstance(tags, Mapping):
        keys = ("name:zh", "name:zh-Hans") if lang == "zh" else ("name:en",)
        for key in keys:
            if tags.get(key):
                alt = str(tags[key])
                break
    if alt and alt != base:
        return f"{alt} ({base})" if base else alt
    return base


def item_name(report: Results, item_id: str, lang: str) -> str:
    """The catalogue name of an item in ``lang``; the id itself for an unknown item.

    Examples
    --------
    >>> item_name(run_report(), "pharmacy", "zh")  # doctest: +SKIP
    '药店'
    """
    try:
        return report.catalogue[item_id].name(lang)
    except KeyError:
        return item_id


def score_colour(score: float, weight: float) -> str:
    """The map colour of a community score (:data:`SCORE_CLASSES`).

    Examples
    --------
    >>> score_colour(1.0, 10.0), score_colour(0.5, 0.0)
    ('#1a9641', '#bdbdbd')
    """
    if not (np.isfinite(weight) and weight > 0) or not np.isfinite(score):
        return NO_RESIDENTS_COLOUR
    for lo, hi, colour in SCORE_CLASSES:
        if lo <= score < hi:
            return colour
    return SCORE_CLASSES[-1][2]


def item_figures(report: Results) -> pd.DataFrame:
    """Per catalogue item: facilities, share within tier, communities meeting it.

    :func:`fifteenmin.coverage.item_stats` with the run's facility counts
    (:func:`fifteenmin.facilities.facility_counts`).

    Examples
    --------
    >>> item_figures(run_report()).columns.tolist()  # doctest: +SKIP
    ['item_id', 'facilities', 'share_within_tier', 'communities_met']
    """
    counts = facility_counts(report.facilities, report.catalogue)
    per_item = dict(zip(counts["item_id"], counts["facilities"].astype(int), strict=True))
    return item_stats(report.coverage, report.catalogue.items, per_item)
