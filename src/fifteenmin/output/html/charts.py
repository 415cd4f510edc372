"""The report's charts: matplotlib figures inlined as SVG.

Text stays SVG text (the browser draws Chinese labels with its own fonts), ids are
deterministic and prefixed so that several charts live on one page, and the fixed size is
dropped so that a chart follows its container's width. matplotlib is imported only when a
chart is drawn.

Examples
--------
>>> charts(run_report(), "en", item_figures(run_report()))  # doctest: +SKIP
[('Share of residents within each item's tier', '<svg role="img" ...'), ...]
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._i18n import labels
from ..fonts import matplotlib_rc
from .common import score_colour
from .labels import LABELS

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from ...catalogue import Item
    from ...pipeline import Results

__all__ = ["charts", "svg", "wrap_label"]

_SVG_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: the browser draws CJK with its own fonts
    "svg.hashsalt": "fifteenmin",  # deterministic ids
    "font.size": 9,
    "font.family": ["DejaVu Sans", "sans-serif"],
}
#: Charts are drawn for a phone: at this width (inches; 72 SVG units each) on a 390 px
#: screen their 9 pt text is about 9 px tall; a wider screen scales them up.
_WIDTH_IN = 4.8
#: Height of one row (one line of label) of the items chart, in inches.
_ROW_IN = 0.2
#: Longest line of an item label, in cells (a CJK character is two).
_LABEL_CELLS = 36
#: Characters from here up are wide (CJK).
_FIRST_WIDE = 0x2E80
#: A label's break opportunities: a CJK character, or a Latin word with its trailing spaces.
_TOKENS = re.compile(
    r"[(（\[「]*[\u2e80-\uffff][)）\]」、，。：；,.;:!?′]*\s*"  # a CJK character with its brackets
    r"|[^\s\u2e80-\uffff]+\s*|\s+"
)
_REQUIRED_COLOUR = "#2b8cbe"
_OPTIONAL_COLOUR = "#a6bddb"
_THRESHOLD_COLOUR = "#444"


def svg(fig: Any, prefix: str) -> str:
    """A matplotlib figure as inline, responsive SVG whose ids all start with ``prefix``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> svg(Figure(), "fm-x").startswith('<svg role="img"')
    True
    """
    buf = io.StringIO()
    import matplotlib as mpl

    # text as SVG text, not glyph paths: the browser draws it with its own fonts, so Chinese
    # labels render even where matplotlib has no CJK font
    with warnings.catch_warnings(), mpl.rc_context({"svg.fonttype": "none"}):
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from.*")
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.DOTALL)
    # ids unique across the page
    ids = sorted(set(re.findall(r'\bid="([^"]+)"', text)), key=len, reverse=True)
    for i in ids:
        text = text.replace(f'id="{i}"', f'id="{prefix}-{i}"').replace(f"#{i}", f"#{prefix}-{i}")
    # responsive: drop the fixed size, keep the viewBox
    text = re.sub(r'(<svg[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", text, count=1)
    text = text.replace("<svg ", '<svg role="img" ', 1)
    return text.strip()


def charts(report: Results, lang: str, stats: pd.DataFrame) -> list[tuple[str, str]]:
    """The two charts of the page as ``(title, inline SVG)``.

    Parameters
    ----------
    report
        From :func:`fifteenmin.run_report`.
    lang
        ``"en"`` or ``"zh"``.
    stats
        Per item, in catalogue order (:func:`~fifteenmin.output.html.common.item_figures`).

    Examples
    --------
    >>> [t for t, _ in charts(rep, "en", item_figures(rep))]  # doctest: +SKIP
    ["Share of residents within each item's tier", 'Distribution of community scores']
    """
    import matplotlib

    L = labels(LABELS, lang)
    scores = report.coverage.communities["score"].to_numpy(dtype=np.float64)
    # Chinese labels: matplotlib measures them with Noto Sans CJK SC (the page embeds it)
    rc = {**_SVG_RC, **(matplotlib_rc() if lang == "zh" else {})}
    with matplotlib.rc_context(rc):
        items_svg = _items_chart(report.catalogue.items, stats, report.threshold, L, lang)
        scores_svg = _scores_chart(scores, L)
    return [(L["chart_items"], items_svg), (L["chart_scores"], scores_svg)]


def _cells(text: str) -> int:
    """Width of ``text`` in cells: a CJK character is two, anything else one."""
    return sum(2 if ord(c) >= _FIRST_WIDE else 1 for c in text)


def wrap_label(text: str, width: int = _LABEL_CELLS) -> str:
    r"""Break a chart label into lines of at most ``width`` cells (a CJK character is two).

    Lines break after spaces and between CJK characters, never inside a Latin word nor
    between a character and its bracket or punctuation.

    Examples
    --------
    >>> wrap_label("Community service station (residents' committee)", 30)
    "Community service station\n(residents' committee)"
    >>> wrap_label("社区服务站(含居委会、警务室)", 16)
    '社区服务站(含居\n委会、警务室)'
    """
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if line and _cells(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return "\n".join(x for x in lines if x)


def _items_chart(
    items: Sequence[Item],
    stats: pd.DataFrame,
    threshold: float,
    L: Mapping[str, str],
    lang: str,
) -> str:
    """Horizontal bars: the share of residents within each item's tier, and the threshold.

    Sized for a phone (labels wrapped, a row as tall as its label), scaled up on a screen.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    items = list(items)
    names = [wrap_label(f"{it.name(lang)} ({it.tier_minutes:g}′)") for it in items]
    rows = np.array([1.0 + 0.6 * n.count("\n") for n in names])
    y = np.cumsum(rows) - rows / 2
    fig = Figure(figsize=(_WIDTH_IN, 0.9 + _ROW_IN * float(rows.sum())), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    share = np.nan_to_num(stats["share_within_tier"].to_numpy(dtype=np.float64), nan=0.0)
    colours = [_REQUIRED_COLOUR if it.required else _OPTIONAL_COLOUR for it in items]
    ax.barh(y, share, color=colours, height=0.7)
    for yi, v in zip(y, share, strict=True):
        ax.text(v + 0.01, yi, f"{v:.0%}", va="center", fontsize=8, color="#333")
    ax.set_yticks(y, names)
    ax.tick_params(axis="y", length=0, labelsize=9)
    ax.set_xlim(0, 1.1)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.axvline(threshold, color=_THRESHOLD_COLOUR, linestyle="--", linewidth=1)
    ax.set_xlabel(L["chart_items_x"])
    ax.legend(
        handles=[
            Patch(color=_REQUIRED_COLOUR, label=L["chart_required"]),
            Patch(color=_OPTIONAL_COLOUR, label=L["chart_optional"]),
            matplotlib.lines.Line2D(
                [], [], color=_THRESHOLD_COLOUR, linestyle="--", label=L["chart_threshold"]
            ),
        ],
        loc="lower right",  # above the bars, right-aligned: it stays inside the figure
        bbox_to_anchor=(1.0, 1.0),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    ax.set_ylim(float(rows.sum()), 0.0)
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig, "fm-c1")


def _scores_chart(scores: np.ndarray, L: Mapping[str, str]) -> str:
    """Histogram of community scores in tenths, coloured like the map."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_WIDTH_IN, 3.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    edges = np.linspace(0.0, 1.0, 11)
    counts, _ = np.histogram(scores[np.isfinite(scores)], bins=edges)
    mids = (edges[:-1] + edges[1:]) / 2
    ax.bar(
        mids,
        counts,
        width=0.095,
        color=[score_colour(m, 1.0) for m in mids],
        edgecolor="#555",
        linewidth=0.6,
    )
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(L["chart_scores_x"])
    ax.set_ylabel(L["chart_scores_y"])
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig, "fm-c2")
