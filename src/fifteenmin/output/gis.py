"""GeoPackage layers a GIS opens ready to use.

Points, areas, the community x item matrix and a default style:

* ``facilities.gpkg``: layer ``facilities`` holds every facility as a point (area facilities
  at a point inside their polygon, ``kind = "area"``), layer ``facility_areas`` the polygons
  of the area facilities; both with the item's names (zh, en) and category.
* ``communities.gpkg``: the community polygons with score, index, band, missing items and
  data gaps, plus two columns per catalogue item, ``<item_id>_minutes`` (resident-weighted
  median minutes to the nearest facility) and ``<item_id>_status`` (met / missing /
  no_data); and a ``layer_styles`` table, which QGIS reads as the layer's default style
  (communities coloured by score, the report map's classes).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .html import SCORE_CLASSES

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = [
    "FACILITY_FIELDS",
    "community_layer",
    "community_style",
    "facility_layers",
]

#: Fields of the facility layers, in order (then ``geometry``).
FACILITY_FIELDS = (
    "facility_id",
    "item_id",
    "item_name_zh",
    "item_name_en",
    "category_id",
    "category_name_zh",
    "category_name_en",
    "name",
    "osm_type",
    "osm_id",
    "source",
    "kind",
)


def facility_layers(results: Results) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``facilities.gpkg``: ``facilities`` (points) and ``facility_areas``.

    Examples
    --------
    >>> layers = facility_layers(fm.run_report())  # doctest: +SKIP
    >>> list(layers)  # doctest: +SKIP
    ['facilities', 'facility_areas']
    """
    fac = results.facilities.drop(columns=["tags"], errors="ignore").reset_index(drop=True)
    cat = results.catalogue
    items = {it.id: it for it in cat.items}
    cats = {c.id: c for c in cat.categories}

    def look(item_id: str, attr: str) -> str:
        it = items.get(item_id)
        if it is None:
            return ""
        if attr.startswith("category_"):
            c = cats.get(it.category)
            return "" if c is None else (c.id if attr == "category_id" else c.name(attr[-2:]))
        return it.name(attr[-2:])

    table = pd.DataFrame({"facility_id": fac["facility_id"], "item_id": fac["item_id"]})
    ids = fac["item_id"].tolist()
    distinct = set(ids)
    for attr in FACILITY_FIELDS[2:7]:
        known = {i: look(i, attr) for i in distinct}  # once per item, not per facility
        table[attr] = [known[i] if i in known else look(i, attr) for i in ids]
    for col in ("name", "osm_type", "osm_id"):
        table[col] = fac[col] if col in fac.columns else None
    # osm, or the label of the user's table (user, planned: a scenario's facilities)
    table["source"] = fac["source"] if "source" in fac.columns else "osm"
    geoms = fac.geometry.to_numpy()
    area = shapely.get_type_id(geoms) >= 3  # polygons and multipolygons
    table["kind"] = np.where(area, "area", "point")
    points = geoms.copy()
    points[area] = shapely.point_on_surface(geoms[area])
    crs = fac.crs
    return {
        "facilities": gpd.GeoDataFrame(table, geometry=points, crs=crs),
        "facility_areas": gpd.GeoDataFrame(
            table[area].reset_index(drop=True), geometry=geoms[area], crs=crs
        ),
    }


def community_layer(results: Results) -> gpd.GeoDataFrame:
    """The ``communities`` layer: the coverage communities with the item matrix joined."""
    com = results.coverage.communities.copy()
    matrix = results.coverage.matrix().drop(columns="community_id")
    matrix.index = com.index
    joined = pd.concat([com.drop(columns=com.geometry.name), matrix], axis=1)
    return gpd.GeoDataFrame(joined, geometry=com.geometry.to_numpy(), crs=com.crs)


def community_style(layer: str = "communities") -> pd.DataFrame:
    """A ``layer_styles`` row (QGIS's style table) colouring ``layer`` by ``score``."""
    ranges = []
    symbols = []
    for k, (lo, hi, colour) in enumerate(SCORE_CLASSES):
        label = f"{lo:.0%} - {hi:.0%}"
        ranges.append(
            f'<range lower="{lo}" upper="{hi}" symbol="{k}" label="{escape(label)}" render="true"/>'
        )
        rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
        symbols.append(
            f'<symbol type="fill" name="{k}" alpha="0.75"><layer class="SimpleFill">'
            f'<Option type="Map"><Option type="QString" name="color" value="{rgb},255"/>'
            '<Option type="QString" name="outline_color" value="80,80,80,255"/>'
            '<Option type="QString" name="outline_width" value="0.3"/></Option>'
            "</layer></symbol>"
        )
    qml = (
        '<!DOCTYPE qgis PUBLIC "http://mrcc.com/qgis.dtd" "SYSTEM">'
        '<qgis version="3.28" styleCategories="Symbology">'
        '<renderer-v2 type="graduatedSymbol" attr="score" graduatedMethod="GraduatedColor">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2></qgis>"
    )
    return pd.DataFrame(
        {
            "f_table_catalog": [""],
            "f_table_schema": [""],
            "f_table_name": [layer],
            "f_geometry_column": ["geom"],
            "styleName": ["score"],
            "styleQML": [qml],
            "styleSLD": [""],
            "useAsDefault": [True],
            "description": ["Communities by score (share of required items met)"],
            "owner": ["fifteenmin"],
            "ui": [""],
            "update_time": ["1970-01-01T00:00:00Z"],
        }
    )
