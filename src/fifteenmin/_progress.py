"""Progress a person can see: the ``fifteenmin`` logger and tqdm progress bars.

Stage messages go to the standard :mod:`logging` logger ``fifteenmin`` (INFO), so an
application routes them like any other library's (``logging.basicConfig(level="INFO")``
shows them). Long loops show a tqdm bar: in a terminal or a notebook by default, never when
output is not a terminal (then the stage messages are one line per stage), and never after
``show_progress(False)`` (the CLI's ``-q``).

Examples
--------
>>> from fifteenmin._progress import bar, show_progress
>>> show_progress(False)
>>> sum(bar(range(3), "counting"))
3
>>> show_progress(None)
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from . import settings

__all__ = ["bar", "logger", "progress_shown", "show_progress"]

T = TypeVar("T")

#: The library's logger; a NullHandler keeps it silent until an application configures logging.
logger = logging.getLogger("fifteenmin")
logger.addHandler(logging.NullHandler())

_state: dict[str, bool | None] = {"show": settings.PROGRESS}


def show_progress(enabled: bool | None) -> None:
    """Show progress bars: True always, False never, None on a terminal or notebook only."""
    _state["show"] = enabled


@contextlib.contextmanager
def progress_shown(enabled: bool | None) -> Iterator[None]:
    """:func:`show_progress` for the duration of a ``with`` block."""
    before = _state["show"]
    _state["show"] = enabled
    try:
        yield
    finally:
        _state["show"] = before


def _tqdm() -> Any:
    # the notebook widget needs ipywidgets; without it tqdm.auto would warn on every bar
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def bar(
    iterable: Iterable[T], desc: str, total: int | None = None, unit: str = "it"
) -> Iterable[T]:
    """``iterable`` with a progress bar labelled ``desc`` (see the module docstring).

    Examples
    --------
    >>> list(bar([1, 2], "items", unit="item"))
    [1, 2]
    """
    show = _state["show"]
    if show is False:
        return iterable
    return _tqdm()(
        iterable,
        desc=f"[fifteenmin] {desc}",
        total=total,
        unit=unit,
        leave=False,
        dynamic_ncols=True,
        mininterval=0.5,
        disable=None if show is None else False,
    )
