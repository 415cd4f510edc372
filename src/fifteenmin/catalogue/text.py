"""The terminal listing of a catalogue (``fifteenmin catalogue show``).

Examples
--------
>>> print(format_catalogue("mofcom").splitlines()[0])
MOFCOM 2021 guide to 15-minute convenient life circles (mofcom)
"""

from __future__ import annotations

from .._i18n import labels
from .loading import load_catalogue
from .model import Catalogue, Item

__all__ = ["format_catalogue"]

#: Labels of the listing, by language (looked up with :func:`fifteenmin._i18n.labels`).
_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "items": "{n} mappable items ({r} required); services needing local data: {k}",
        "conf": "Confidence: V verified in a source; M from the standard, not checked against the "
        "official text; U unverified reading",
        "min": "min",
        "required": "required",
        "optional": "optional",
        "mappable": "OSM mapping",
        "good": "good",
        "partial": "partial",
        "name_only": "name only",
        "confidence": "confidence",
        "sparse": "OSM data expected sparse",
        "priority": "priority",
        "elderly": "elderly",
        "children": "children",
        "speed": "speed profile",
        "osm": "OSM",
        "sources": "sources",
        "note": "note",
        "local": "Needs local data (not mappable from OSM)",
        "proxy": "proxy (site only)",
        "delivered": "delivered at",
        "groupings": "Groupings",
        "none": "(none)",
    },
    "zh": {
        "items": "可由地图评估的项目 {n} 项，其中必需 {r} 项；另有 {k} 项服务需要本地数据",
        "conf": "可信度：V 已在来源中核实；M 依据标准内容但未与官方文本核对；U 未经核实的解读",
        "min": "分钟",
        "required": "必需",
        "optional": "可选",
        "mappable": "OSM 可识别度",
        "good": "好",
        "partial": "部分",
        "name_only": "仅凭名称",
        "confidence": "可信度",
        "sparse": "OSM 数据预计稀缺",
        "priority": "优先人群",
        "elderly": "老年人",
        "children": "儿童",
        "speed": "步速档",
        "osm": "OSM",
        "sources": "来源",
        "note": "备注",
        "local": "需要本地数据（无法从 OSM 地图评估）",
        "proxy": "代理设施（仅场所）",
        "delivered": "提供地点",
        "groupings": "分组",
        "none": "（无）",
    },
}


def format_catalogue(cat: Catalogue | str, lang: str = "en") -> str:
    """Format a catalogue as plain text for the terminal.

    Items are grouped by category, each with its tier, requirement, OSM filter, sources
    and confidence; then the services a map cannot show ("needs local data") and the
    catalogue's groupings. Headings and names are Chinese when ``lang="zh"``.

    Parameters
    ----------
    cat
        A catalogue or anything :func:`load_catalogue` accepts.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str

    Examples
    --------
    >>> text = format_catalogue("beijing", lang="zh")
    >>> "幼儿园" in text and "需要本地数据" in text
    True
    """
    t = labels(_LABELS, lang)
    cat = load_catalogue(cat)
    lines = [
        f"{cat.title(lang)} ({cat.name})",
        t["items"].format(n=len(cat), r=len(cat.required_items), k=len(cat.non_spatial)),
        t["conf"],
    ]
    if cat.description:
        lines.append("")
        lines.append(cat.description)
    lines += _item_lines(cat, lang, t)
    lines += _non_spatial_lines(cat, lang, t)
    lines += _grouping_lines(cat, lang, t)
    return "\n".join(lines) + "\n"


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def _item_lines(cat: Catalogue, lang: str, t: dict[str, str]) -> list[str]:
    other = _other(lang)
    lines: list[str] = []
    by_cat: dict[str, list[Item]] = {}
    for it in cat.items:
        by_cat.setdefault(it.category, []).append(it)
    for c in cat.categories:
        lines.append("")
        lines.append(f"== {c.name(lang)} / {c.name(other)} ==")
        for it in by_cat.get(c.id, []):
            facts = [
                f"{it.tier_minutes:g} {t['min']}",
                t[it.requirement],
                f"{t['mappable']}: {t[it.mappable]}",
                f"{t['confidence']} {it.confidence}",
            ]
            if it.priority_group:
                facts.append(f"{t['priority']}: {t[it.priority_group]}")
            if it.speed_profile != "default":
                facts.append(f"{t['speed']}: {it.speed_profile}")
            if it.osm_sparse:
                facts.append(t["sparse"])
            lines.append(f"  {it.id}: {it.name(lang)} / {it.name(other)}")
            lines.append(f"      {' | '.join(facts)}")
            lines.append(f"      {t['osm']}: {it.osm_text}")
            lines.append(f"      {t['sources']}: {it.sources_text}")
    return lines


def _non_spatial_lines(cat: Catalogue, lang: str, t: dict[str, str]) -> list[str]:
    other = _other(lang)
    lines = ["", f"== {t['local']} =="]
    if not cat.non_spatial:
        lines.append(f"  {t['none']}")
    for s in cat.non_spatial:
        conf = f" [{s.confidence}]" if s.confidence else ""
        lines.append(f"  {s.id}: {s.name(lang)} / {s.name(other)}{conf}")
        if s.proxy:
            lines.append(f"      {t['proxy']}: {', '.join(s.proxy)}")
        if s.delivered_at:
            lines.append(f"      {t['delivered']}: {s.delivered_at}")
    return lines


def _grouping_lines(cat: Catalogue, lang: str, t: dict[str, str]) -> list[str]:
    if not cat.groupings:
        return []
    lines = ["", f"== {t['groupings']} =="]
    for g in cat.groupings:
        conf = f" [{g.confidence}]" if g.confidence else ""
        src = f" ({g.source})" if g.source else ""
        lines.append(f"  {g.id}: {g.title(lang)}{conf}{src}")
        if g.note:
            lines.append(f"      {t['note']}: {g.note}")
        for sg in g.groups:
            members = [*sg.items, *(f"{s}*" for s in sg.non_spatial)]
            sconf = f" [{sg.confidence}]" if sg.confidence else ""
            lines.append(f"    - {sg.name(lang)}{sconf}: {', '.join(members) or t['none']}")
    lines.append(f"    (* = {t['local']})")
    return lines
