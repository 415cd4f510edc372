"""The studies of ``fifteenmin batch``: a table with one row per study, read and checked.

A studies table (CSV, YAML or TOML, or a DataFrame or list of mappings in Python) has one row
per study. ``study`` names the study (and its output folder); ``osm_file`` its OSM extract,
or ``place`` (a place name) or ``bbox`` (``west,south,east,north``) an area whose OSM data is
downloaded (:class:`fifteenmin.online.OnlineArea`). Every other column is a run option that
overrides, for that row, the options the whole batch was given:

* the inputs ``communities``, ``facilities`` (or ``user_facilities``), ``add_facilities``
  (planned facilities, a scenario), ``population`` and ``catalogue`` (a bundled name or a
  file): relative paths are relative to the table's folder; ``community_layer``,
  ``facility_layer`` and ``population_layer`` choose a layer of a multi-layer file;
* any other :class:`~fifteenmin.config.RunConfig` field (``speed``, ``threshold``,
  ``engine``, ``id_column``, ...), or its command-line spelling (``uniform_speed``,
  ``--uniform-speed``);
* the report options ``lang``, ``html``/``no_html``, ``isochrones``/``no_isochrones`` and
  ``sites``/``no_sites``, and ``tiles`` (the study's area cut into that many tiles,
  :func:`fifteenmin.run_tiled`).

An empty cell leaves the batch's option in force. Any other column (``province``, ``year``)
describes the study and is copied into the merged table, unless its name is so close to an
option's that it is most likely a typo (then the table is refused, naming the option).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"study": ["a"], "osm_file": ["/data/a.osm.pbf"], "threshold": ["0.9"]})
>>> [s.config.threshold for s in read_studies(rows)]
[0.9]
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import settings
from ._errors import ConfigError, InputFileError
from ._i18n import check_lang
from ._version import __version__
from .catalogue import available_catalogues
from .config import RunConfig
from .online import OnlineArea
from .readers import LayerPath

__all__ = [
    "RESERVED_NAMES",
    "Study",
    "WriteOptions",
    "check_study_name",
    "read_studies",
]

#: Files of the batch's output folder; no study may take their names.
RESERVED_NAMES = ("studies.csv", "studies.gpkg", "manifest.json")

#: Names Windows keeps for devices: not usable as folder names there.
_DEVICES = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
#: Longest study name in bytes (file systems allow 255 per name; the temporary folders of
#: the batch add a prefix and a suffix).
_MAX_NAME_BYTES = 200

#: RunConfig fields that hold input files (relative paths are relative to the table).
_PATH_FIELDS = ("communities", "user_facilities", "population")
#: Columns choosing one layer of a multi-layer input file: column -> RunConfig field.
_LAYER_COLUMNS = {
    "community_layer": "communities",
    "facility_layer": "user_facilities",
    "population_layer": "population",
}
#: Columns naming a study's OSM data: a file, or an area downloaded online.
_AREA_COLUMNS = ("osm_file", "place", "bbox")
#: Column spellings of the command line: column -> (RunConfig or report field, negated).
_ALIASES = {
    "facilities": ("user_facilities", False),
    "uniform_speed": ("item_profiles", True),
    "no_html": ("html", True),
    "no_isochrones": ("isochrones", True),
    "no_sites": ("sites", True),
}
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


@dataclass(frozen=True)
class WriteOptions:
    """How a study's report is written (the options of :meth:`fifteenmin.Report.write`).

    Parameters
    ----------
    html
        Write ``report.html``.
    lang
        Language of ``report.html``.
    isochrones
        Draw the communities' walking areas on the HTML map.
    sites
        List proposed sites (怎么补) in the HTML report.
    tiles
        Cut the study's area into this many tiles, routed as Dask tasks of the batch's
        cluster (:func:`fifteenmin.run_tiled`); None: one task for the whole study.
    """

    html: bool = True
    lang: str = settings.LANG
    isochrones: bool = True
    sites: bool = True
    tiles: int | None = None

    def __post_init__(self) -> None:
        t = self.tiles
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise ConfigError(f"tiles must be a whole number >= 1 (the number of tiles), got {t!r}")
        try:
            check_lang(self.lang)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def report_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`fifteenmin.Report.write`."""
        return {
            "html": self.html,
            "lang": self.lang,
            "isochrones": "auto" if self.isochrones else None,
            "sites": "auto" if self.sites else None,
        }


@dataclass(frozen=True)
class Study:
    """One study of a batch: its name, its OSM file and the options of its run.

    Attributes
    ----------
    name
        The study's name, also the name of its output folder.
    osm_file
        The OSM extract (an absolute path), or the online area of a ``place`` or ``bbox``.
    config
        The run's configuration (the batch's options with the row's overrides).
    write
        How its report is written.
    labels
        The table's descriptive columns (copied into the merged table).
    source
        The ``osm_file`` as the table gives it, or the online area's label
        (``place: ...``, ``bbox: ...``).
    """

    name: str
    osm_file: str | OnlineArea
    config: RunConfig
    write: WriteOptions = field(default_factory=WriteOptions)
    labels: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def fingerprint(self) -> str:
        """A hash of everything the study's output depends on.

        The fifteenmin version, the options, and the size and modification time of every
        input file: when it is unchanged, the study's folder is still up to date.

        Examples
        --------
        >>> s = Study("a", "/nowhere/a.osm.pbf", RunConfig())
        >>> s.fingerprint() == Study("a", "/nowhere/a.osm.pbf", RunConfig()).fingerprint()
        True
        >>> stricter = Study("a", "/nowhere/a.osm.pbf", RunConfig(threshold=0.9))
        >>> s.fingerprint() == stricter.fingerprint()
        False
        """
        cfg = {f.name: _stamp(getattr(self.config, f.name)) for f in dataclasses.fields(RunConfig)}
        doc = {
            "fifteenmin": __version__,
            "osm_file": _stamp(self.osm_file),
            "config": cfg,
            # without tiles, the fingerprint of a study is what it was before tiles existed
            "write": {
                k: v
                for k, v in dataclasses.asdict(self.write).items()
                if not (k == "tiles" and v is None)
            },
        }
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=repr)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stamp(value: Any) -> Any:
    """A value as it enters the fingerprint: files by path, size and modification time."""
    if isinstance(value, Mapping):
        return {str(k): _stamp(v) for k, v in sorted(value.items())}
    if isinstance(value, str | os.PathLike) and _looks_like_file(value):
        name = str(value)  # a LayerPath names its layer too
        try:
            st = os.stat(value)
        except OSError:
            return {"path": name, "missing": True}
        return {"path": name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)  # a GeoDataFrame or a Catalogue given in Python: by its repr


def _looks_like_file(value: str | os.PathLike[str]) -> bool:
    return not (isinstance(value, str) and value in available_catalogues())


def check_study_name(name: Any) -> str:
    """Return ``name`` if it can name a folder on every common file system.

    Raises
    ------
    ConfigError
        Naming the problem (empty, a path, a leading dot, a reserved character or name).

    Examples
    --------
    >>> check_study_name("北京-海淀 2024")
    '北京-海淀 2024'
    >>> check_study_name("../etc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fifteenmin._errors.ConfigError: study name '../etc' cannot name a folder: ...
    """
    if isinstance(name, bool) or not isinstance(name, str | int):
        raise ConfigError(f"study name {name!r} must be text")
    text = str(name)
    problem = None
    if not text.strip():
        problem = "it is empty"
    elif text != text.strip():
        problem = "it starts or ends with a space"
    elif _UNSAFE.search(text):
        problem = 'it holds one of the characters / \\ : * ? " < > | or a control character'
    elif text.startswith("."):
        problem = "it starts with a dot (names starting with a dot are hidden and kept for "
        problem += "temporary folders)"
    elif text.endswith("."):
        problem = "it ends with a dot"
    elif text.split(".")[0].lower() in _DEVICES:
        problem = "Windows keeps that name for a device"
    elif text.lower() in RESERVED_NAMES:
        problem = "the batch writes a file of that name"
    elif len(text.encode("utf-8")) > _MAX_NAME_BYTES:
        problem = f"it is longer than {_MAX_NAME_BYTES} bytes"
    if problem:
        raise ConfigError(
            f"study name {text!r} cannot name a folder: {problem}. Use letters, digits, "
            "spaces, '-', '_' and '.'."
        )
    return text


def read_studies(
    studies: str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    config: RunConfig | None = None,
    write: WriteOptions | None = None,
) -> list[Study]:
    """Read and check a studies table.

    Parameters
    ----------
    studies
        A ``.csv``, ``.yaml``/``.yml`` or ``.toml`` file (YAML: a list of rows, or a mapping
        with a ``studies`` list; TOML: ``[[studies]]`` tables), a DataFrame or a list of
        mappings. Relative paths in a file are relative to its folder; in a DataFrame or a
        list, relative to the current folder.
    config
        The batch's run options; each row's options override them.
    write
        The batch's report options; each row's options override them.

    Returns
    -------
    list of Study
        In the table's order, with absolute input paths.

    Raises
    ------
    InputFileError
        The table cannot be read.
    ConfigError
        A missing ``study``, not exactly one of ``osm_file``, ``place`` and ``bbox``, an
        unsafe or repeated study name, an invalid option value, or a column that looks like a
        misspelt option; the message names the study and the column.

    Examples
    --------
    >>> studies = read_studies([{"study": "a", "osm_file": "a.osm.pbf", "lang": "zh"}])
    >>> studies[0].write.lang, os.path.isabs(studies[0].osm_file)
    ('zh', True)
    """
    base_dir = Path.cwd()
    if isinstance(studies, str | os.PathLike):
        base_dir = Path(os.path.abspath(studies)).parent
        rows = _read_rows(Path(studies))
    elif isinstance(studies, pd.DataFrame):
        rows = studies.to_dict(orient="records")
    else:
        rows = [dict(r) for r in studies]
    if not rows:
        raise ConfigError("the studies table has no rows: add one row per study")
    cfg = _absolute_inputs(config or RunConfig(), Path.cwd())
    out = [_study(row, k, base_dir, cfg, write or WriteOptions()) for k, row in enumerate(rows)]
    seen: dict[str, str] = {}
    for s in out:
        key = s.name.casefold()  # folders differing only in case clash on macOS and Windows
        if key in seen:
            raise ConfigError(
                f"study names must be unique: {seen[key]!r} and {s.name!r} name the same folder"
            )
        seen[key] = s.name
    return out


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a studies file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml", ".toml"):
        raise ConfigError(
            f"studies table '{path}': use a .csv, .yaml or .toml file (one row per study)"
        )
    try:
        if suffix == ".csv":
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
            )
            return [{str(k).strip(): v for k, v in r.items()} for r in df.to_dict("records")]
        text = path.read_text(encoding="utf-8")
        doc = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    except FileNotFoundError:
        raise InputFileError(f"studies table '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        msg = " ".join(str(exc).split())
        raise InputFileError(f"studies table '{path}' cannot be read: {msg}") from None
    if isinstance(doc, Mapping):
        doc = doc.get("studies")
    if not isinstance(doc, list) or not all(isinstance(r, Mapping) for r in doc):
        raise ConfigError(
            f"studies table '{path}': expected a list of studies (YAML: a list, or 'studies:' "
            "with a list; TOML: [[studies]] tables), each with 'study' and 'osm_file' (or "
            "'place' or 'bbox')"
        )
    return [dict(r) for r in doc]


def _absolute_inputs(cfg: RunConfig, base: Path) -> RunConfig:
    """``cfg`` with relative input paths made absolute (workers may run in other folders).

    Paths inside a mapping (facility tables by source) too.
    """

    def absolute(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: absolute(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [absolute(v) for v in value]
        if isinstance(value, LayerPath):
            return LayerPath(_path(value.path, base), value.layer)
        if isinstance(value, str | os.PathLike) and _looks_like_file(value):
            return _path(value, base)
        return value

    fields = (*_PATH_FIELDS, "catalogue", "poi")
    changes = {name: absolute(getattr(cfg, name)) for name in fields}
    if isinstance(cfg.districts, str | os.PathLike) and cfg.districts != "osm":
        changes["districts"] = _path(cfg.districts, base)
    return cfg.replace(**changes)


def _path(value: str | os.PathLike[str], base: Path) -> str:
    return os.path.abspath(base / os.path.expanduser(value))


def _given(value: Any) -> bool:
    """False for an empty cell (an empty string, None or NaN)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return not (isinstance(value, float) and value != value)


def _study(
    row: Mapping[str, Any], k: int, base_dir: Path, cfg: RunConfig, write: WriteOptions
) -> Study:
    """One row as a :class:`Study`."""
    where = f"studies table, row {k + 1}"
    if not _given(row.get("study")):
        raise ConfigError(f"{where}: no 'study' (every row needs a study name)")
    name = check_study_name(row["study"].strip() if isinstance(row["study"], str) else row["study"])
    where = f"studies table, study {name!r}"
    run: dict[str, Any] = {}
    rep: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for column, value in row.items():
        if column == "study" or column in _AREA_COLUMNS:
            continue
        key = str(column).strip().lstrip("-").replace("-", "_")
        target, negate = _ALIASES.get(key, (key, False))
        if target not in _CONVERTERS:
            _check_label(str(column), where)
            labels[str(column)] = value
        elif _given(value):
            try:
                v = _CONVERTERS[target](
                    value.strip() if isinstance(value, str) else value, base_dir
                )
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}, column {column!r}: {exc}") from None
            (rep if target in _WRITE_FIELDS else run)[target] = not v if negate else v
    try:
        osm, source = _area(row, base_dir, where)
        return Study(
            name=name,
            osm_file=osm,
            config=cfg.replace(**_facility_tables(cfg, _layers(cfg, run))),
            write=dataclasses.replace(write, **rep) if rep else write,
            labels=labels,
            source=source,
        )
    except ConfigError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith(where) else f"{where}: {msg}") from None


def _area(row: Mapping[str, Any], base_dir: Path, where: str) -> tuple[str | OnlineArea, str]:
    """A row's OSM data (an absolute file path or an online area) and its label."""
    given = [c for c in _AREA_COLUMNS if _given(row.get(c))]
    if len(given) != 1:
        got = f"got {', '.join(given)}" if given else "got none"
        raise ConfigError(
            f"{where}: give exactly one of 'osm_file', 'place' or 'bbox' (its OSM data; {got})"
        )
    value = row[given[0]]
    if given[0] == "osm_file":
        text = str(value).strip()
        return _path(text, base_dir), text
    if given[0] == "place":
        area = OnlineArea(place=str(value))
    else:
        parts = value.split(",") if isinstance(value, str) else list(value)
        try:
            box = tuple(float(v) for v in parts)
        except (TypeError, ValueError):
            box = ()
        if len(box) != 4:
            raise ConfigError(
                f"{where}, column 'bbox': expected WEST,SOUTH,EAST,NORTH, got {value!r}"
            )
        area = OnlineArea(bbox=box)
    return area, area.label


def _layers(cfg: RunConfig, run: dict[str, Any]) -> dict[str, Any]:
    """The row's options, with its ``*_layer`` columns as layers of their input files."""
    for column, target in _LAYER_COLUMNS.items():
        layer = run.pop(column, None)
        if layer is None:
            continue
        path = run.get(target, getattr(cfg, target))
        if isinstance(path, LayerPath):
            path = path.path
        if not isinstance(path, str | os.PathLike):
            raise ConfigError(
                f"column {column!r} chooses a layer of {target}, which was not given as a file"
            )
        run[target] = LayerPath(path, layer)
    return run


def _facility_tables(cfg: RunConfig, run: dict[str, Any]) -> dict[str, Any]:
    """The row's options, with its ``facilities`` and ``add_facilities`` as one input.

    As ``fifteenmin report`` does: without planned facilities, ``user_facilities`` is the
    user's table; with them, a mapping ``{"user": table, "planned": table}`` (by source).
    """
    planned = run.pop("add_facilities", None)
    if "user_facilities" not in run and planned is None:
        return run
    before = cfg.user_facilities
    tables = dict(before) if isinstance(before, Mapping) else {"user": before}
    if "user_facilities" in run:
        tables["user"] = run.pop("user_facilities")
    if planned is not None:
        tables["planned"] = planned
    tables = {k: v for k, v in tables.items() if v is not None}
    if set(tables) <= {"user"}:
        return {**run, "user_facilities": tables.get("user")}
    return {**run, "user_facilities": tables}


def _check_label(column: str, where: str) -> None:
    """Refuse a descriptive column whose name looks like a misspelt option."""
    options = [*_CONVERTERS, *_ALIASES, "study", *_AREA_COLUMNS]
    key = column.strip().lstrip("-").replace("-", "_").lower()
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.8)
    if close:
        raise ConfigError(
            f"{where}: unknown column {column!r}; did you mean {close[0]!r}? (columns other "
            "than the options are copied into the merged table, but this one looks like a typo)"
        )


def _to_bool(value: Any, _base: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"expected true or false, got {value!r}")


def _to_float(value: Any, _base: Path) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def _to_tiles(value: Any, _base: Path) -> int:
    """A number of tiles: a whole number >= 1 (``4``, ``"4"``, ``4.0``)."""
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if number.is_integer() and number >= 1:
            return int(number)
    raise ValueError(f"expected a whole number of tiles >= 1, got {value!r}")


def _to_text(value: Any, _base: Path) -> str:
    return str(value).strip()


def _to_path(value: Any, base: Path) -> str:
    return _path(str(value).strip(), base)


def _to_layer(value: Any, _base: Path) -> str | int:
    """A layer's name, or its 0-based position (a whole number in a YAML or TOML table)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value).strip()


def _to_paths(value: Any, base: Path) -> str | list[str]:
    """One input file, or several (a list in a YAML or TOML table), relative to ``base``."""
    if isinstance(value, list | tuple):
        return [_to_path(v, base) for v in value]
    return _to_path(value, base)


def _to_districts(value: Any, base: Path) -> str:
    """A district layer's path, or ``osm`` (the boundaries in the OSM data)."""
    text = str(value).strip()
    return text if text == "osm" else _path(text, base)


def _to_catalogue(value: Any, base: Path) -> str:
    text = str(value).strip()
    return text if text in available_catalogues() else _path(text, base)


def _to_weights(value: Any, _base: Path) -> dict[str, float]:
    """Category weights: a mapping, or ``health=2,education=2`` as on the command line."""
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = value.items()
    else:
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        if not all("=" in p for p in parts):
            raise ValueError(f"expected CATEGORY=WEIGHT pairs separated by commas, got {value!r}")
        pairs = (p.partition("=")[::2] for p in parts)
    return {str(k).strip(): _to_float(w, _base) for k, w in pairs}


def _converters() -> dict[str, Callable[[Any, Path], Any]]:
    """How a table cell becomes each option's value (by the option's type)."""
    by_type: dict[str, Callable[[Any, Path], Any]] = {
        "float": _to_float,
        "bool": _to_bool,
        "str": _to_text,
        "str | None": _to_text,
        "int | None": _to_tiles,
    }
    out: dict[str, Callable[[Any, Path], Any]] = {}
    for f in dataclasses.fields(RunConfig):
        out[f.name] = by_type.get(str(f.type), _to_text)
    out.update({name: _to_path for name in _PATH_FIELDS})
    out.update(catalogue=_to_catalogue, category_weights=_to_weights, add_facilities=_to_path)
    out.update(poi=_to_paths, districts=_to_districts)
    out.update(dict.fromkeys(_LAYER_COLUMNS, _to_layer))
    for f in dataclasses.fields(WriteOptions):
        out[f.name] = by_type[str(f.type)]
    return out


_CONVERTERS = _converters()
_WRITE_FIELDS = {f.name for f in dataclasses.fields(WriteOptions)}
