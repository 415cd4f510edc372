"""Facilities from Chinese web-map POI exports (Amap, Baidu, Tencent) and facility ledgers.

Many facilities that a Beijing community needs (社区卫生服务站, 养老驿站, 菜市场) are missing
from OpenStreetMap but listed by Chinese web maps. Users get them as CSV or Excel exports with
a name, a type (Amap: ``type`` "医疗保健服务;医药保健销售店;药房" and ``typecode`` "090601";
Baidu: ``tag`` "医疗;药店"; Tencent: ``category`` "医疗保健:药房"), an address and a location
in the provider's datum (Amap and Tencent GCJ-02, Baidu BD-09). :func:`facilities_from_poi`
reads such a file, maps each POI to a catalogue item with the rules of a POI-types table
(:func:`poi_type_rules`; the bundled one is ``catalogues/poi_types.csv``, documented in
``docs/poi.md``), converts the coordinates to WGS-84 (:mod:`fifteenmin._coords`) and returns
facilities like :func:`fifteenmin.facilities.facilities_from_table`. POIs that no rule maps
are counted per type in ``attrs["poi_unmatched"]`` and in a warning.

A facility *ledger* (台账) is the user's own list of facilities, one row each, with Chinese
headers (:data:`LEDGER_COLUMNS`): its ``事项编号`` column names the catalogue item directly.
``fifteenmin ledger-template`` writes an empty one (CSV and Excel).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from ._coords import normalize_system
from ._errors import ConfigError, FacilityFileError, LayerTypeError, require_type
from .catalogue import Catalogue, load_catalogue
from .facilities import MERGED_COLUMNS, facilities_from_table
from .readers import read_spreadsheet
from .validate import MAX_LISTED, warn

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "LEDGER_COLUMNS",
    "detect_poi_source",
    "facilities_from_poi",
    "match_poi_types",
    "poi_type_rules",
]

#: The columns of a facility ledger (台账), in the order of the template.
LEDGER_COLUMNS = [
    "名称",
    "事项编号",
    "事项名称",
    "地址",
    "经度",
    "纬度",
    "坐标系",
    "开放时间",
    "备注",
]
#: Fields of the rules, in the order they are tried.
_FIELDS = ("name", "typecode", "category", "name_fallback")

_NAME = ("name", "名称", "title", "poi名称", "名字", "机构名称")
_TYPE = ("type", "类型", "tag", "标签", "category", "分类", "类别", "poi类型", "行业类别")
_TYPECODE = ("typecode", "类型编码", "分类编码", "类型代码", "category_code", "typecodes")
_ADDRESS = ("address", "地址", "详细地址")
_PAIR = ("location", "坐标", "经纬度", "lnglat", "lonlat")
_LON = (
    "lon",
    "lng",
    "long",
    "longitude",
    "经度",
    "x",
    "location.lng",
    "location_lng",
    "location_lon",
)
_LAT = ("lat", "latitude", "纬度", "y", "location.lat", "location_lat")
_SYSTEM = ("坐标系", "coord_system", "coordinate_system", "坐标类型", "crs")
_HOURS = ("开放时间", "营业时间", "opening_hours", "business_hours", "opentime")
_LEVELS = ("大类", "中类", "小类")
#: Names of coordinate systems as users write them (after :func:`_norm`).
_SYSTEM_ALIASES = {
    "高德": "gcj02",
    "腾讯": "gcj02",
    "火星坐标": "gcj02",
    "火星": "gcj02",
    "国测局": "gcj02",
    "百度": "bd09",
    "百度坐标": "bd09",
    "gps": "wgs84",
    "osm": "wgs84",
    "cgcs2000": "wgs84",
}
#: A coordinate system named in a column header (``wgs84_lng``, ``经度(GCJ-02)``).
_HEADER_SYSTEM = re.compile(r"(wgs[-_ ]?84|gcj[-_ ]?02|bd[-_ ]?09)", re.IGNORECASE)


def _norm(text: object) -> str:
    """NFKC (full-width to ASCII), no surrounding spaces, lower case."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def poi_type_rules(
    catalogue: str | Catalogue = settings.CATALOGUE,
    path: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """The rules that map POI names, type codes and categories to catalogue items.

    Parameters
    ----------
    catalogue
        Rules for items this catalogue lacks are left out.
    path
        A POI-types CSV file with the columns of the bundled one (``source``, ``field``,
        ``value``, ``item_id``, ``unless``, ``conf``, ``evidence``; ``#`` starts a comment
        line); default: the bundled ``catalogues/poi_types.csv``.

    Returns
    -------
    pandas.DataFrame
        One rule a row, in file order.

    Raises
    ------
    FacilityFileError
        A rule with an unknown source or field, an invalid ``unless`` pattern, or a file
        without the columns.

    Examples
    --------
    >>> rules = poi_type_rules("beijing")
    >>> rules.loc[rules["value"] == "社区卫生服务站", "item_id"].iloc[0]
    'community_health_station'
    """
    cat = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
    if path is None:
        text = resources.files("fifteenmin").joinpath("catalogues/poi_types.csv")
        where = "the bundled POI types"
        raw = text.read_text(encoding="utf-8")
    else:
        where = f"POI-types file '{path}'"
        raw = Path(path).read_text(encoding="utf-8-sig")
    lines = [ln for ln in raw.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    import io

    rules = pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, keep_default_na=False)
    need = ["source", "field", "value", "item_id", "unless"]
    if missing := [c for c in need if c not in rules.columns]:
        raise FacilityFileError(f"{where} has no column(s) {missing}; columns are {list(rules)}.")
    for col, allowed in (("source", ("any", *settings.POI_SOURCES[:3])), ("field", _FIELDS)):
        bad = sorted(set(rules[col]) - set(allowed))
        if bad:
            raise FacilityFileError(f"{where}: unknown {col} {bad}; use one of {list(allowed)}.")
    for pattern in rules["unless"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FacilityFileError(
                f"{where}: invalid 'unless' pattern {pattern!r} ({exc})."
            ) from None
    rules["value"] = rules["value"].map(_norm)
    known = set(cat.item_ids)
    return rules[rules["item_id"].isin(known)].reset_index(drop=True)


@dataclass(frozen=True)
class _Rules:
    """Rules of one source grouped by field, ready to match."""

    by_field: dict[str, list[tuple[str, str, re.Pattern[str] | None]]]

    @classmethod
    def of(cls, rules: pd.DataFrame, source: str | None) -> _Rules:
        mine = rules[rules["source"].isin(["any", source])]
        by_field: dict[str, list[tuple[str, str, re.Pattern[str] | None]]] = {
            f: [] for f in _FIELDS
        }
        for r in mine.itertuples(index=False):
            unless = re.compile(r.unless) if r.unless else None
            by_field[str(r.field)].append((str(r.value), str(r.item_id), unless))
        return cls(by_field)

    def match(self, name: str, types: str, code: str) -> tuple[str | None, str]:
        """The item of one POI and the rule that gave it (``"category:药房"``), or None."""
        for value, item, unless in self.by_field["name"]:
            if value in name and not (unless and unless.search(name)):
                return item, f"name:{value}"
        codes = [c.strip() for c in re.split(r"[|;,\s]+", code) if c.strip()]
        for value, item, unless in self.by_field["typecode"]:
            if value in codes and not (unless and unless.search(name)):
                return item, f"typecode:{value}"
        for alternative in types.split("|"):
            segments = [s.strip() for s in re.split(r"[;:;:>/,，]+", alternative) if s.strip()]
            for seg in reversed(segments):  # the most specific level first
                for value, item, unless in self.by_field["category"]:
                    if seg == value and not (unless and unless.search(name)):
                        return item, f"category:{value}"
        for value, item, unless in self.by_field["name_fallback"]:
            if value in name and not (unless and unless.search(name)):
                return item, f"name:{value}"
        return None, ""


def match_poi_types(
    names: Sequence[object],
    types: Sequence[object],
    typecodes: Sequence[object],
    source: str | None = None,
    rules: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Map POIs to catalogue items by name keyword, Amap type code and type segments.

    Rules (:func:`poi_type_rules`) are tried in this order: keywords in the name (``field``
    ``name``: the specific names 社区卫生服务站, 养老驿站, … win over any type), then the Amap
    type code (exact), then the type text split at ``;``, ``:``, ``|``, ``/`` (its most
    specific level first: "医疗保健服务;医药保健销售店;药房" is tried as 药房, then
    医药保健销售店, then 医疗保健服务), then generic keywords in the name (``name_fallback``).
    A rule is skipped when the POI's name matches its ``unless`` pattern.

    Parameters
    ----------
    names, types, typecodes
        One value per POI (missing values are empty).
    source
        ``amap``, ``baidu`` or ``tencent`` (rules of that source and of ``any``); None:
        only the rules of ``any``.
    rules
        Default: :func:`poi_type_rules` of the default catalogue.

    Returns
    -------
    pandas.DataFrame
        ``item_id`` (None where no rule matched) and ``rule`` (the rule that matched).

    Examples
    --------
    >>> m = match_poi_types(
    ...     ["学院路社区卫生服务站", "老百姓大药房", "如家酒店"],
    ...     ["医疗保健服务;综合医院;卫生院", "医疗保健服务;医药保健销售店;药房", "住宿服务"],
    ...     ["090102", "090601", "100100"],
    ...     "amap",
    ... )
    >>> m["item_id"].tolist()
    ['community_health_station', 'pharmacy', None]
    """
    table = _Rules.of(rules if rules is not None else poi_type_rules(), source)
    out = [
        table.match(_norm(_text(n)), _norm(_text(t)), _norm(_text(c)))
        for n, t, c in zip(names, types, typecodes, strict=True)
    ]
    return pd.DataFrame({"item_id": [o[0] for o in out], "rule": [o[1] for o in out]}, dtype=object)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def detect_poi_source(columns: Sequence[object]) -> str | None:
    """Guess where a POI table comes from by its column names (None if it cannot tell).

    ``事项编号`` marks a facility ledger; ``typecode``, Amap's ``location`` with ``type``, or
    the ``大类``/``中类``/``小类`` columns of Amap export tools an Amap export; ``uid`` or
    ``tag`` a Baidu export; ``category`` a Tencent export.

    Examples
    --------
    >>> detect_poi_source(["id", "name", "type", "typecode", "location"])
    'amap'
    >>> detect_poi_source(["uid", "name", "tag", "lng", "lat"]), detect_poi_source(["x"])
    ('baidu', None)
    """
    cols = {_norm(c) for c in columns}
    if "事项编号" in cols:
        return "ledger"
    if "typecode" in cols or {"type", "location"} <= cols or set(_LEVELS) <= cols:
        return "amap"
    if "uid" in cols or "tag" in cols or "detail_info.tag" in cols:
        return "baidu"
    if "category" in cols or "ad_info.adcode" in cols:
        return "tencent"
    return None


def _column(df: pd.DataFrame, guesses: Sequence[str]) -> str | None:
    by_norm: dict[str, str] = {}
    for c in df.columns:
        by_norm.setdefault(_norm(c), c)
    for g in guesses:
        if g in by_norm:
            return by_norm[g]
    return None


def _system_name(value: object) -> str | None:
    """The coordinate system a cell names (``GCJ-02``, ``高德``, ``WGS84``), or None if empty.

    Raises ValueError for text that names no system.
    """
    text = _norm(_text(value))
    if not text:
        return None
    if text in _SYSTEM_ALIASES:
        return _SYSTEM_ALIASES[text]
    return normalize_system(text)


def _coordinate_columns(df: pd.DataFrame) -> tuple[str | None, str | None, str | None, str | None]:
    """``(lon, lat, pair, system)``: the coordinate columns and the system their headers name.

    Columns whose header names a system (``wgs84_lng``, ``经度(GCJ-02)``) are preferred, WGS-84
    first; a file never mixes two systems: one pair of columns is used.
    """
    tagged: dict[str, dict[str, str]] = {}
    for c in df.columns:
        m = _HEADER_SYSTEM.search(str(c))
        if not m:
            continue
        rest = _norm(_HEADER_SYSTEM.sub("", str(c)))
        rest = re.sub(r"[\s_\-()()\[\]]+", "", rest)
        role = "lon" if rest in _LON else "lat" if rest in _LAT else "pair" if rest in _PAIR else ""
        if role:
            tagged.setdefault(normalize_system(m.group(1)), {})[role] = str(c)
    for system in ("wgs84", "gcj02", "bd09"):
        cols = tagged.get(system, {})
        if "lon" in cols and "lat" in cols:
            return cols["lon"], cols["lat"], None, system
        if "pair" in cols:
            return None, None, cols["pair"], system
    lon, lat = _column(df, _LON), _column(df, _LAT)
    if lon is not None and lat is not None:
        return lon, lat, None, None
    return None, None, _column(df, _PAIR), None


def _coordinates(df: pd.DataFrame, where: str, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Longitudes, latitudes (of ``rows``) and the system the headers name ('' if none)."""
    lon_col, lat_col, pair_col, system = _coordinate_columns(df)
    if pair_col is not None:
        parts = df[pair_col].iloc[rows].map(lambda v: re.split(r"[,;\s]+", _text(v).strip()))
        first = pd.to_numeric(parts.map(lambda p: p[0] if len(p) == 2 else ""), errors="coerce")
        second = pd.to_numeric(parts.map(lambda p: p[1] if len(p) == 2 else ""), errors="coerce")
        lon, lat = first.to_numpy(dtype=float), second.to_numpy(dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if ok.any() and ((np.abs(lon[ok]) <= 90) & (np.abs(lat[ok]) > 90)).all():
            lon, lat = lat, lon  # "lat,lng", the order of Tencent's and Baidu's APIs
        cols = f"'{pair_col}'"
    elif lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(df[lon_col].iloc[rows], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(df[lat_col].iloc[rows], errors="coerce").to_numpy(dtype=float)
        cols = f"'{lon_col}'/'{lat_col}'"
    else:
        raise FacilityFileError(
            f"{where} has no coordinates: no 'location' column (\"lon,lat\") and no longitude "
            f"and latitude columns (looked for {list(_LON[:5])} and {list(_LAT[:4])}); columns "
            f"are: {list(df.columns)}."
        )
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        first = int(df.attrs.get("first_row", 2))
        lines = ", ".join(str(int(r) + first) for r in rows[bad][:MAX_LISTED])
        more = f" and {int(bad.sum()) - MAX_LISTED} more" if bad.sum() > MAX_LISTED else ""
        counted = " (counting the header as row 1)" if first == 2 else ""
        raise FacilityFileError(
            f"{where}: no numeric coordinates in {cols} in rows {lines}{more}{counted}. Fill "
            "them in or remove those rows."
        )
    return lon, lat, np.array(system or "")


def _poi_system(
    df: pd.DataFrame, where: str, kind: str | None, given: str | None, header: str
) -> str:
    """The one coordinate system of an export: its system column, header, option or source."""
    col = _column(df, _SYSTEM)
    named: set[str] = set()
    if col is not None:
        try:
            named = {s for s in (_system_name(v) for v in df[col]) if s is not None}
        except ValueError as exc:
            raise FacilityFileError(f"{where}: column '{col}': {exc}.") from None
    if len(named) > 1:
        raise FacilityFileError(
            f"{where} mixes coordinate systems in column '{col}' ({', '.join(sorted(named))}): "
            "one export holds one system. Split the file by system (or use a facility ledger, "
            "whose 坐标系 column may differ from row to row)."
        )
    found = named | ({header} if header else set())
    if len(found) > 1:
        raise FacilityFileError(
            f"{where}: its column headers say {header} but column '{col}' says "
            f"{next(iter(named))}; fix the one that is wrong."
        )
    if given is not None and found and given not in found:
        raise FacilityFileError(
            f"{where} says its coordinates are {next(iter(found))}, but --poi-crs / "
            f"coord_system={given!r} was given; leave the option out or fix the file."
        )
    system = next(iter(found)) if found else given or settings.POI_SYSTEMS.get(kind or "")
    if system is None:
        raise FacilityFileError(
            f"{where}: cannot tell its coordinate system (its columns match no known export "
            "and it has no 坐标系 column). Give --poi-source amap|baidu|tencent (GCJ-02, BD-09, "
            "GCJ-02) or --poi-crs gcj02|bd09|wgs84 (Python: poi_source=, coord_system=)."
        )
    return system


def facilities_from_poi(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    poi_source: str | None = None,
    coord_system: str | None = None,
    catalogue: str | Catalogue = settings.CATALOGUE,
    rules: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Facilities from a POI export (Amap, Baidu, Tencent) or a facility ledger (台账).

    Parameters
    ----------
    source
        A CSV (UTF-8 or GBK) or ``.xlsx`` file, or a DataFrame. An export needs a name
        column (``name``, ``名称``, ``title``), a type (``type``, ``tag``, ``category``,
        ``类型``, or ``大类``/``中类``/``小类``) and/or ``typecode``, and coordinates: a
        ``location`` column (``"116.397,39.908"``; ``"lat,lng"`` is recognised when the
        first number is a latitude and the second cannot be) or longitude/latitude columns
        (``lng``/``lat``, ``经度``/``纬度``, …). A ledger has the columns of
        :data:`LEDGER_COLUMNS`.
    poi_source
        ``amap``, ``baidu``, ``tencent`` or ``ledger``; default: guessed from the columns
        (:func:`detect_poi_source`).
    coord_system
        ``gcj02``, ``bd09`` or ``wgs84``; default: what the file says (a ``坐标系`` column,
        or a system in the coordinate headers, e.g. ``wgs84_lng``), else the source's datum
        (:data:`fifteenmin.settings.POI_SYSTEMS`). A file whose system cannot be told, that
        mixes systems, or that says another system than ``coord_system`` is an error.
    catalogue
        The catalogue whose items the POIs are mapped to.
    rules
        POI-type rules (:func:`poi_type_rules`); default: the bundled ones.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`fifteenmin.facilities.facilities_from_table` (``osm_type``
        ``"poi"``, ``osm_id`` the 0-based row in the file, ``tags`` with ``poi:type``,
        ``poi:typecode``, ``poi:rule``, ``addr:full`` and ``opening_hours`` where known),
        in WGS-84. ``attrs["poi_unmatched"]`` counts the POIs no rule maps, per type
        (columns ``poi_type``, ``typecode``, ``pois``, ``example``); ``attrs["poi_source"]``
        and ``attrs["coord_system"]`` say how the file was read.

    Raises
    ------
    FacilityFileError
        No coordinates, a coordinate system that cannot be told or is mixed, unknown items in
        a ledger, coordinates out of range.
    InputFileError
        The file is missing or cannot be read.

    Examples
    --------
    >>> fac = facilities_from_poi("amap_haidian.csv")  # doctest: +SKIP
    >>> fac.attrs["poi_unmatched"].head()  # doctest: +SKIP
    """
    cat = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
    df, where = _read_poi(source)
    kind = poi_source if poi_source is not None else detect_poi_source(list(df.columns))
    if kind is not None and kind not in settings.POI_SOURCES:
        known = ", ".join(settings.POI_SOURCES)
        raise ConfigError(f"unknown POI source {kind!r}: use one of {known}")
    given = None
    if coord_system is not None:
        try:
            given = normalize_system(coord_system)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if kind == "ledger":
        return _ledger_facilities(df, where, given, cat)
    name_col = _column(df, _NAME)
    type_col, code_col = _column(df, _TYPE), _column(df, _TYPECODE)
    types = _types(df, type_col)
    if name_col is None and type_col is None and code_col is None and types is None:
        raise FacilityFileError(
            f"{where} has no name, type or typecode column, so its POIs cannot be matched to "
            f"catalogue items; columns are: {list(df.columns)}."
        )
    blank = pd.Series([""] * len(df), index=df.index, dtype=object)
    names = df[name_col].map(_text) if name_col else blank
    types = types if types is not None else blank
    codes = df[code_col].map(_text) if code_col else blank
    table_rules = rules if rules is not None else poi_type_rules(cat)
    matched = match_poi_types(names.tolist(), types.tolist(), codes.tolist(), kind, table_rules)
    items = matched["item_id"].to_numpy(dtype=object)
    hit = np.flatnonzero(pd.notna(items))
    unmatched = _unmatched(names, types, codes, pd.isna(items))
    _warn_unmatched(unmatched, where, len(df))
    lon, lat, header = _coordinates(df, where, hit)
    system = _poi_system(df, where, kind, given, str(header))
    extra = {
        "poi:type": types,
        "poi:typecode": codes,
        "poi:rule": matched["rule"],
        "addr:full": _optional(df, _ADDRESS),
        "opening_hours": _optional(df, _HOURS),
    }
    table = pd.DataFrame(
        {"item": items[hit], "name": names.to_numpy()[hit], "lon": lon, "lat": lat}
    )
    out = _as_facilities(table, hit, system, cat, where, extra)
    out.attrs.update(poi_unmatched=unmatched, poi_source=kind, coord_system=system)
    return out


def _read_poi(source: str | os.PathLike[str] | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table (empty rows dropped) and its name for messages."""
    if isinstance(source, pd.DataFrame):
        df, where = source.copy(), "the POI DataFrame"
    else:
        require_type(
            source, (str, os.PathLike), "source", "a file path or a DataFrame", LayerTypeError
        )
        df = read_spreadsheet(source, "POI table", prefer_sheets=("台账", "ledger"))
        where = f"POI table '{source}'"
    first = 1 if isinstance(source, pd.DataFrame) else 2  # a file's header is row 1
    df = df.dropna(how="all").reset_index(drop=True)
    if len(df) == 0:
        raise FacilityFileError(f"{where} is empty: it holds no rows.")
    df.attrs["first_row"] = first
    return df, where


def _types(df: pd.DataFrame, type_col: str | None) -> pd.Series | None:
    """The type text of each POI: the type column, else 大类;中类;小类 joined."""
    if type_col is not None:
        return df[type_col].map(_text)
    levels = [c for c in (_column(df, (lv,)) for lv in _LEVELS) if c is not None]
    if not levels:
        return None
    return df[levels].apply(lambda r: ";".join(_text(v) for v in r if _text(v)), axis=1)


def _optional(df: pd.DataFrame, guesses: Sequence[str]) -> pd.Series:
    col = _column(df, guesses)
    if col is None:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    return df[col].map(_text)


def _unmatched(
    names: pd.Series, types: pd.Series, codes: pd.Series, mask: np.ndarray
) -> pd.DataFrame:
    """POIs no rule maps, counted per (type, typecode), the most frequent first."""
    df = pd.DataFrame(
        {"poi_type": types.to_numpy()[mask], "typecode": codes.to_numpy()[mask]}
    ).assign(example=names.to_numpy()[mask])
    if not len(df):
        return pd.DataFrame(columns=["poi_type", "typecode", "pois", "example"])
    grouped = df.groupby(["poi_type", "typecode"], sort=True)
    out = grouped.size().rename("pois").reset_index()
    out["example"] = grouped["example"].first().to_numpy()
    out = out.sort_values(["pois", "poi_type", "typecode"], ascending=[False, True, True])
    return out.reset_index(drop=True)


def _warn_unmatched(unmatched: pd.DataFrame, where: str, n: int) -> None:
    if not len(unmatched):
        return
    total = int(unmatched["pois"].sum())
    top = ", ".join(
        f"'{t or c or '(no type)'}' {k}"
        for t, c, k in unmatched[["poi_type", "typecode", "pois"]].head(5).itertuples(index=False)
    )
    warn(
        f"{where}: {total} of {n} POIs match no catalogue item and are left out "
        f"({len(unmatched)} types; most common: {top}). The command line lists them in "
        "poi_unmatched.csv of the report folder (Python: .attrs['poi_unmatched']); see "
        "docs/poi.md to add rules.",
        stacklevel=4,
    )


def _as_facilities(
    table: pd.DataFrame,
    rows: np.ndarray,
    system: str,
    cat: Catalogue,
    where: str,
    extra: dict[str, pd.Series],
) -> gpd.GeoDataFrame:
    """:func:`facilities_from_table` on the mapped rows; ids and tags from the file's rows."""
    if not len(table):
        empty = gpd.GeoDataFrame({c: [] for c in MERGED_COLUMNS[:-1]}, geometry=[], crs=4326)
        empty.attrs["table"] = (where, "row", 2)
        return empty
    try:
        fac = facilities_from_table(
            table,
            item_column="item",
            catalogue=cat,
            lon_column="lon",
            lat_column="lat",
            coord_system=system,
            name_column="name",
        )
    except FacilityFileError as exc:
        raise FacilityFileError(f"{where}: {exc}") from None
    file_rows = rows[fac["osm_id"].to_numpy(dtype=np.int64)]
    fac["osm_id"] = file_rows
    fac["osm_type"] = "poi"
    fac["tags"] = [
        {k: str(v.iloc[r]) for k, v in extra.items() if _text(v.iloc[r])} for r in file_rows
    ]
    fac["source"] = "poi"
    fac.attrs["table"] = (where, "row", 2)  # file rows as a spreadsheet shows them
    return fac


def _ledger_facilities(
    df: pd.DataFrame, where: str, given: str | None, cat: Catalogue
) -> gpd.GeoDataFrame:
    """Facilities of a ledger: items named in 事项编号 (or 事项名称), per-row 坐标系."""
    for col in ("名称", "经度", "纬度"):
        if col not in df.columns:
            raise FacilityFileError(
                f"{where} is a facility ledger without a '{col}' column; its columns should be "
                f"{LEDGER_COLUMNS} (fifteenmin ledger-template writes an empty one)."
            )
    if "事项编号" not in df.columns and "事项名称" not in df.columns:
        raise FacilityFileError(
            f"{where} is a facility ledger without a '事项编号' (or '事项名称') column naming "
            f"each facility's catalogue item; its columns should be {LEDGER_COLUMNS}."
        )
    code = _optional(df, ("事项编号",)).str.strip()
    if "事项名称" in df.columns:
        code = code.where(code != "", df["事项名称"].map(_text).str.strip())
    systems = _ledger_systems(df, where, given)
    parts = []
    for system in sorted(set(systems)):
        rows = np.flatnonzero(systems == system)
        table = pd.DataFrame(
            {
                "item": code.to_numpy()[rows],
                "name": df["名称"].map(_text).to_numpy()[rows],
                "lon": df["经度"].to_numpy()[rows],
                "lat": df["纬度"].to_numpy()[rows],
            }
        )
        extra = {
            "addr:full": _optional(df, ("地址",)),
            "opening_hours": _optional(df, ("开放时间",)),
            "note": _optional(df, ("备注",)),
        }
        parts.append(_as_facilities(table, rows, system, cat, where, extra))
    out = pd.concat(parts, ignore_index=True)
    out["_k"] = cat.rank(out["item_id"])
    out = out.sort_values(["_k", "osm_id"], kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    out["facility_id"] = np.arange(len(out), dtype=np.int64)
    fac = gpd.GeoDataFrame(out[MERGED_COLUMNS], geometry="geometry", crs="EPSG:4326")
    fac.attrs.update(
        table=(where, "row", 2),
        poi_unmatched=pd.DataFrame(columns=["poi_type", "typecode", "pois", "example"]),
        poi_source="ledger",
        coord_system=",".join(sorted(set(systems))),
    )
    return fac


def _ledger_systems(df: pd.DataFrame, where: str, given: str | None) -> np.ndarray:
    """The coordinate system of every ledger row: its 坐标系 cell, else ``given``."""
    first = int(df.attrs.get("first_row", 2))
    cells: list[str | None]
    if "坐标系" not in df.columns:
        cells = [None] * len(df)
    else:
        try:
            cells = [_system_name(v) for v in df["坐标系"]]
        except ValueError as exc:
            raise FacilityFileError(f"{where}: column '坐标系': {exc}.") from None
    if given is not None:
        clash = [i for i, s in enumerate(cells) if s is not None and s != given]
        if clash:
            rows = ", ".join(str(i + first) for i in clash[:MAX_LISTED])
            raise FacilityFileError(
                f"{where}: rows {rows} say their coordinates are {cells[clash[0]]}, but "
                f"--poi-crs / coord_system={given!r} was given; leave the option out or fix "
                "the 坐标系 cells."
            )
    missing = [i for i, s in enumerate(cells) if s is None]
    if missing and given is None:
        rows = ", ".join(str(i + first) for i in missing[:MAX_LISTED])
        raise FacilityFileError(
            f"{where}: the 坐标系 (coordinate system) of rows {rows} is empty, so their "
            "coordinates cannot be placed: fill in WGS84, GCJ-02 (Amap, Tencent) or BD-09 "
            "(Baidu), or give --poi-crs for the whole ledger."
        )
    return np.array([s if s is not None else given for s in cells], dtype=object)
