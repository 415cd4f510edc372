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
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._i18n import labels
from ...coverage import item_stats
from ...facilities import facility_counts
from ...settings import SCORE_CLASSES
from .labels import LABELS

if TYPE_CHECKING:
    from ...pipeline import Results

__all__ = [
    "CATEGORY_COLOURS",
    "NO_RESIDENTS_COLOUR",
    "SCORE_CLASSES",
    "community_name",
    "community_units",
    "display_name",
    "esc",
    "item_figures",
    "item_name",
    "json_for_script",
    "pct",
    "plural",
    "score_colour",
    "split_ids",
    "ul",
    "unit_label",
]

#: Colour of a community without resident points (not scored).
NO_RESIDENTS_COLOUR = "#bdbdbd"
#: The name :mod:`fifteenmin.communities` gives an OSM community without one.
_UNNAMED_OSM = re.compile(r"unnamed ((?:node|way|relation)/\d+)")


#: Colours of the catalogue categories' facility points on the maps, in category order.
CATEGORY_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#393b79",
    "#ff7f0e",
    "#e377c2",
    "#bcbd22",
    "#2ca02c",
    "#7f7f7f",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
)


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
    """The item ids of a ``missing`` or ``data_gaps`` cell (a list, or ``;``-joined text).

    Examples
    --------
    >>> split_ids("pharmacy;bus_stop"), split_ids(float("nan")), split_ids("")
    (['pharmacy', 'bus_stop'], [], [])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
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


def community_name(name: Any, lang: str) -> str:
    """A community's name as the page shows it: ``""`` when missing, OSM's "unnamed" translated.

    Communities from OSM without a name are called ``"unnamed way/123"``; the Chinese page
    says so in Chinese.

    Examples
    --------
    >>> community_name("unnamed way/123", "zh"), community_name("unnamed way/123", "en")
    ('未命名（way/123）', 'unnamed way/123')
    >>> community_name(float("nan"), "en"), community_name("学院路街道", "en")
    ('', '学院路街道')
    """
    if not isinstance(name, str):
        return ""
    m = _UNNAMED_OSM.fullmatch(name)
    if m is None:
        return name
    return labels(LABELS, lang)["unnamed_osm"].format(ref=m.group(1))


def plural(L: Mapping[str, str], key: str, count: int, **fields: Any) -> str:
    """The label ``key`` in the form for ``count`` (``key + "_one"`` when it is 1), formatted.

    Examples
    --------
    >>> L = labels(LABELS, "en")
    >>> plural(L, "n_facilities", 1, n=1), plural(L, "n_facilities", 2, n=2)
    ('1 facility', '2 facilities')
    """
    form = f"{key}_one" if count == 1 and f"{key}_one" in L else key
    return L[form].format(**fields)


def unit_label(L: Mapping[str, str], unit: str, *, short: bool = False) -> str:
    """The name of a resident weight unit (``weight_unit``: people, m² of floor area, ...).

    Examples
    --------
    >>> L = labels(LABELS, "en")
    >>> unit_label(L, "m2_floor_area"), unit_label(L, "m2_floor_area", short=True)
    ('m² of residential floor area', 'm²')
    >>> unit_label(L, "furlongs")
    'furlongs'
    """
    return L.get(f"unit_short_{unit}" if short else f"unit_{unit}", unit)


def community_units(report: Results) -> dict[str, str]:
    """Community id → the unit of its resident weight (its origins' ``weight_unit``).

    The coverage's ``weight_unit`` column when it has one, else the first resident origin's
    unit; communities without origins are left out.

    Examples
    --------
    >>> set(community_units(run_report()).values())  # doctest: +SKIP
    {'m2_floor_area'}
    """
    com = report.coverage.communities
    if "weight_unit" in com.columns:
        ids = com["community_id"].astype(str).to_numpy()
        return dict(zip(ids, com["weight_unit"].astype(str).to_numpy(), strict=True))
    res = report.residents
    if "weight_unit" not in res.columns or not len(res):
        return {}
    first = res.groupby(res["community_id"].astype(str), sort=True)["weight_unit"].first()
    return {str(k): str(v) for k, v in first.items()}


def json_for_script(value: Any) -> str:
    r"""JSON that is safe inside a ``<script>`` element: every ``<`` is ``\u003c``.

    A name such as ``</script>`` cannot end the element, nor ``<!--`` open a comment.

    Examples
    --------
    >>> json_for_script({"name": "</script><b>"})
    '{"name":"\\u003c/script>\\u003cb>"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
