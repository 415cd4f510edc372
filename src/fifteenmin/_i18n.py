"""Languages: the one check of a ``lang`` argument and the one lookup of a label table.

Label tables themselves live next to what they label (the HTML page's in
:mod:`fifteenmin.output.html`, the catalogue listing's in :mod:`fifteenmin.catalogue`); both
are looked up through :func:`labels`, so every language error reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from . import settings

__all__ = ["check_lang", "labels"]

T = TypeVar("T")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language (:data:`fifteenmin.settings.LANGS`).

    Raises
    ------
    ValueError
        Naming the supported languages.

    Examples
    --------
    >>> check_lang("zh")
    'zh'
    """
    if lang not in settings.LANGS:
        choices = " or ".join(repr(x) for x in settings.LANGS)
        raise ValueError(f"lang must be {choices}, got {lang!r}")
    return lang


def labels(table: Mapping[str, T], lang: str) -> T:
    """The labels of ``lang`` in a ``{lang: labels}`` table, after :func:`check_lang`.

    Examples
    --------
    >>> labels({"en": {"hi": "hello"}, "zh": {"hi": "你好"}}, "zh")["hi"]
    '你好'
    """
    return table[check_lang(lang)]
