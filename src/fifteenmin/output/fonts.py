r"""Chinese (CJK) text everywhere: a font embedded in report.html, and one for matplotlib.

A machine without a CJK font (a server, a fresh Linux desktop, a CI runner) draws every
Chinese character of a page as a box. The report therefore carries its own font:
:func:`font_face_css` returns an ``@font-face`` rule holding, as a base64 data URI, a subset
of **Noto Sans CJK SC** with exactly the CJK characters the page uses (WOFF2 when the
``brotli`` package is installed, else OpenType/CFF). The face is declared under its own family
name, ``"Noto Sans CJK SC"``, which the page's font stacks and the charts' SVG text already
name, so every Chinese character of the page, the map and the charts is drawn with it.

The font comes from the ``noto-cjk-sans-otc`` package on PyPI (a dependency of fifteenmin):
Noto Sans CJK 2.004, © 2014-2021 Adobe, SIL Open Font License 1.1; the subset keeps the
font's copyright and licence records (name IDs 0, 13, 14) and the page says so in a comment.
Without the package the page falls back to the system's fonts, and one warning is logged
(logger ``fifteenmin.output.fonts``).

:func:`use_cjk_font` makes matplotlib draw Chinese with the same font (no "Glyph missing"
warnings); :func:`matplotlib_rc` gives the same settings for a ``matplotlib.rc_context``.

The output is deterministic: the same characters give the same bytes (sorted characters,
the font's own timestamp kept).

Examples
--------
>>> cjk_characters("Pharmacy 药店, \\u793e\\u533a")
'区店社药'
>>> font_face_css("no Chinese here")
''
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

__all__ = [
    "CJK_FAMILY",
    "FONT_PACKAGE",
    "cjk_characters",
    "cjk_font_path",
    "font_face_css",
    "matplotlib_rc",
    "subset_cjk_font",
    "use_cjk_font",
]

logger = logging.getLogger(__name__)

#: The family the embedded face is declared as, and that matplotlib draws Chinese with.
CJK_FAMILY = "Noto Sans CJK SC"
#: The PyPI package that ships the font (the Noto Sans CJK OpenType collection).
FONT_PACKAGE = "noto-cjk-sans-otc"
#: The face of :data:`CJK_FAMILY` in the collection (JP, KR, SC, TC, HK, then the Mono faces).
_SC_FACE = 2
#: Characters from here up are CJK (radicals, punctuation, kana, hangul, ideographs,
#: full-width forms); below it the system's Latin fonts draw everything.
_FIRST_CJK = 0x2E80
#: The font's copyright, licence and licence URL records, and its names, kept in the subset.
_NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)
_GENERIC = frozenset({"sans-serif", "serif", "monospace", "cursive", "fantasy"})
_ESCAPED = re.compile(r"(?:\\u[0-9a-fA-F]{4})+|&#[xX][0-9a-fA-F]+;|&#[0-9]+;")
#: The same escapes, found in two passes that each start from a fixed prefix (``\u``, ``&#``):
#: many times faster over a page of tens of MB than the alternation, and the same matches.
_JSON_ESCAPES = re.compile(r"\\u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4})*")
_HTML_ESCAPES = re.compile(r"&#[xX][0-9a-fA-F]+;|&#[0-9]+;")
_LICENCE_NOTE = (
    "Noto Sans CJK SC (subset of the characters of this page), © 2014-2021 Adobe "
    "(http://www.adobe.com/), SIL Open Font License 1.1 (https://openfontlicense.org)"
)


@functools.cache
def cjk_font_path() -> Path | None:
    """The Noto Sans CJK collection (``.ttc``) of :data:`FONT_PACKAGE`; ``None`` without it.

    The first call without the package logs one warning: Chinese text then uses the
    system's fonts (boxes where it has none).

    Examples
    --------
    >>> cjk_font_path().name  # doctest: +SKIP
    'NotoSansCJK-Regular.ttc'
    """
    try:
        import noto_cjk_sans_otc
    except ImportError:
        noto_cjk_sans_otc = None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH)) if noto_cjk_sans_otc is not None else None
    if path is None or not path.is_file():
        logger.warning(
            "no CJK font to embed (pip install %s): Chinese text uses the system's fonts, "
            "and shows as boxes where they have none",
            FONT_PACKAGE,
        )
        return None
    return path


def _unescape(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith("&"):
        return html.unescape(text)
    try:
        return str(json.loads(f'"{text}"'))
    except ValueError:  # a lone surrogate
        return ""


def cjk_characters(text: str) -> str:
    r"""The distinct CJK characters of ``text``, sorted by code point.

    Characters written as JSON escapes (``\u793e``, as in the map's data) or as numeric HTML
    character references count too.

    Examples
    --------
    >>> cjk_characters("社区 Community &#x533a; 社")
    '区社'
    """
    chars = _wide_characters(text)
    # the text an escape stands for: each distinct escape (a run of \uXXXX: surrogate pairs)
    for escape in {*_JSON_ESCAPES.findall(text), *_HTML_ESCAPES.findall(text)}:
        chars.update(c for c in _ESCAPED.sub(_unescape, escape) if ord(c) >= _FIRST_CJK)
    return "".join(sorted(chars))


def _wide_characters(text: str) -> set[str]:
    """The distinct characters of ``text`` from :data:`_FIRST_CJK` up (numpy: pages are MBs)."""
    import numpy as np

    try:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    except UnicodeError:  # pragma: no cover - utf-32 takes every str with surrogatepass
        return {c for c in text if ord(c) >= _FIRST_CJK}
    return {chr(c) for c in np.unique(codes[codes >= _FIRST_CJK]).tolist()}


def _brotli_available() -> bool:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=8)
def subset_cjk_font(chars: str, *, woff2: bool | None = None) -> tuple[bytes, str] | None:
    """Noto Sans CJK SC cut down to ``chars``: ``(font bytes, CSS format)``.

    Parameters
    ----------
    chars
        The characters to keep (others of the string are ignored when the font lacks them).
    woff2
        Compress as WOFF2 (needs ``brotli``); default: when ``brotli`` is installed. Else the
        subset is OpenType (CFF outlines).

    Returns
    -------
    tuple of (bytes, str) or None
        The font and its CSS ``format()`` (``"woff2"`` or ``"opentype"``); ``None`` when the
        font is not installed or has none of the characters.

    Examples
    --------
    >>> data, fmt = subset_cjk_font("社区")  # doctest: +SKIP
    >>> fmt, len(data) < 5000  # doctest: +SKIP
    ('woff2', True)
    """
    path = cjk_font_path()
    if path is None or not chars:
        return None
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=_SC_FACE, lazy=True, recalcTimestamp=False)
    wanted = {ord(c) for c in chars} & set(font.getBestCmap())
    if not wanted:
        return None
    woff2 = _brotli_available() if woff2 is None else woff2
    options = subset.Options()
    options.name_IDs = list(_NAME_IDS)
    options.hinting = False  # unhinted, as web fonts are: a third smaller
    options.desubroutinize = True  # compresses better
    options.flavor = "woff2" if woff2 else None
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    font.flavor = options.flavor
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue(), ("woff2" if woff2 else "opentype")


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the CJK characters of ``text``; ``""`` if none.

    The rule declares :data:`CJK_FAMILY` from a ``data:`` URI (no external request) holding
    :func:`subset_cjk_font` of :func:`cjk_characters` of ``text``, preceded by the font's
    licence note. Empty when ``text`` has no CJK character or the font is not installed.

    Examples
    --------
    >>> font_face_css("一刻钟社区").startswith("/* Noto Sans CJK SC")  # doctest: +SKIP
    True
    >>> font_face_css("Helsinki")
    ''
    """
    chars = cjk_characters(text)
    font = subset_cjk_font(chars) if chars else None
    if font is None:
        return ""
    data, fmt = font
    mime = "font/woff2" if fmt == "woff2" else "font/otf"
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f"/* {_LICENCE_NOTE} */\n"
        f'@font-face{{font-family:"{CJK_FAMILY}";font-style:normal;font-weight:400;'
        f'font-display:block;src:url(data:{mime};base64,{b64}) format("{fmt}")}}'
    )


def _register() -> str | None:
    """Register the collection's faces with matplotlib; the CJK family's name, or ``None``."""
    path = cjk_font_path()
    if path is None:
        return None
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FAMILY not in names:
        font_manager.fontManager.addfont(str(path))
        names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FAMILY in names:
        return CJK_FAMILY
    # an older matplotlib registers only a collection's first face: Noto Sans CJK JP
    fallback = CJK_FAMILY.replace(" SC", " JP")
    return fallback if fallback in names else None


def matplotlib_rc(base: str = "DejaVu Sans") -> dict[Any, Any]:
    """Matplotlib settings that draw Latin text with ``base`` and Chinese with Noto Sans CJK SC.

    For ``matplotlib.rc_context``; registers the font with matplotlib on first use. Empty
    when the font is not installed (one warning is logged).

    Examples
    --------
    >>> import matplotlib
    >>> with matplotlib.rc_context(matplotlib_rc()):  # doctest: +SKIP
    ...     fig.savefig("chart.png")
    """
    family = _register()
    if family is None:
        return {}
    return {"font.family": [base, family, "sans-serif"]}


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese text (e.g. ``item_name_zh`` labels) with Noto Sans CJK SC.

    Sets the global ``matplotlib.rcParams``: the font family becomes the current Latin font,
    then Noto Sans CJK SC (matplotlib falls back per character, so Latin text keeps its
    font), then ``sans-serif``; Noto Sans CJK SC also follows the first ``font.sans-serif``.

    Returns
    -------
    str or None
        The family now used for Chinese; ``None`` when the font is not installed (one
        warning is logged, and matplotlib is left as it was).

    Examples
    --------
    >>> from fifteenmin.output.fonts import use_cjk_font
    >>> use_cjk_font()  # doctest: +SKIP
    'Noto Sans CJK SC'
    >>> df.plot.barh(x="item_name_zh", y="share_within_tier")  # doctest: +SKIP
    """
    family = _register()
    if family is None:
        return None
    import matplotlib

    rc = matplotlib.rcParams
    sans = [f for f in rc["font.sans-serif"] if f != family]
    current = [f for f in rc["font.family"] if f != family]
    latin = current[0] if current and current[0] not in _GENERIC else sans[0]
    rc["font.sans-serif"] = [*sans[:1], family, *sans[1:]]
    rc["font.family"] = [latin, family, "sans-serif"]
    return family
