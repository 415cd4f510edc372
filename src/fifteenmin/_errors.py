"""Exceptions raised by fifteenmin.

Every error names the problem and the fix. They subclass built-in ``ValueError`` or
``OSError`` so code that already catches those keeps working, and they all subclass
:class:`FifteenminError` so callers can catch everything fifteenmin raises at once.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CatalogueError",
    "CommunityFileError",
    "ConfigError",
    "ConfigTypeError",
    "FacilityFileError",
    "FifteenminError",
    "InputFileError",
    "LayerError",
    "LayerTypeError",
    "NetworkError",
    "OSMFileError",
    "OutputError",
    "UnknownItemError",
    "one_line",
    "require_type",
]


def one_line(text: str) -> str:
    r"""``text`` on one line: runs of whitespace that hold a line break become one space.

    Examples
    --------
    >>> one_line("not valid YAML: line 1\n   name: [x\n")
    'not valid YAML: line 1 name: [x'
    """
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(text.split())


class FifteenminError(Exception):
    """Base class of every error fifteenmin raises on purpose.

    Its message is always one line (the command line prints it as ``fifteenmin: error: ...``):
    line breaks of messages from other libraries (a YAML parser's excerpt) become spaces.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputFileError(FifteenminError, OSError):
    """An input file is missing or cannot be read."""


class OSMFileError(FifteenminError, ValueError):
    """A file is not OpenStreetMap data fifteenmin can read (.osm, .osm.bz2, .osm.pbf)."""


class NetworkError(FifteenminError, ValueError):
    """The walking network cannot be built or used (e.g. no walkable ways)."""


class CatalogueError(FifteenminError, ValueError):
    """A service catalogue is invalid; the message names the item and the field."""


class UnknownItemError(CatalogueError, KeyError):
    """A catalogue has no item with the id asked for (also a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return one_line(str(self.args[0])) if self.args else ""


class ConfigError(FifteenminError, ValueError):
    """A run option is invalid (e.g. a non-positive walking speed, an unknown engine)."""


class ConfigTypeError(ConfigError, TypeError):
    """A run option or a function argument has the wrong type (also a ``TypeError``)."""


class LayerError(FifteenminError, ValueError):
    """A vector layer (points, polygons) is unusable: empty, no CRS, wrong geometry."""


class LayerTypeError(LayerError, TypeError):
    """A layer argument is neither a file path nor a (Geo)DataFrame (also a ``TypeError``)."""


class CommunityFileError(LayerError):
    """A community (or population) layer is unusable: no polygons, no CRS, missing column."""


class FacilityFileError(LayerError):
    """A user facility table is unusable: missing column, unknown item, bad coordinates."""


class OutputError(FifteenminError, OSError):
    """An output folder or file cannot be written."""


def require_type(
    value: Any,
    types: type | tuple[type, ...],
    name: str,
    expected: str,
    error: type[FifteenminError] = ConfigTypeError,
) -> None:
    """Raise ``error`` (a ``TypeError`` too) unless ``value`` is one of ``types``.

    Booleans are not accepted where numbers are expected.

    Examples
    --------
    >>> require_type(1.4, (int, float), "speed", "a number of m/s")
    >>> try:
    ...     require_type("fast", (int, float), "speed", "a number of m/s")
    ... except TypeError as exc:
    ...     print(exc)
    speed must be a number of m/s, got str 'fast'
    """
    wanted = types if isinstance(types, tuple) else (types,)
    numeric = int in wanted or float in wanted
    if isinstance(value, types) and not (numeric and isinstance(value, bool)):
        return
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    shown = "" if "\n" in text else f" {text}"  # frames and arrays: their type only
    raise error(f"{name} must be {expected}, got {type(value).__name__}{shown}")
