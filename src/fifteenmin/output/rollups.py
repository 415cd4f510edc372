"""Roll-ups of the coverage by district (街道 / 区) and by community type (分类指导).

The figures are the coverage summary's ``by_district`` and ``by_community_type``
(:func:`fifteenmin.coverage.rollup`); this module only lays them out as tables
(``districts.csv``, ``community_types.csv``) and as the ``districts`` layer of
``communities.gpkg`` (each district drawn as the union of its communities).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from ..coverage import ROLLUP_COLUMNS

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = ["ROLLUP_FILES", "district_layer", "rollup_table"]

#: File of each roll-up: grouping column -> file name.
ROLLUP_FILES = {"district": "districts.csv", "community_type": "community_types.csv"}


def _missing_text(counts: Mapping[str, Any]) -> str:
    """``{"pharmacy": 3, "park": 1}`` as ``pharmacy (3); park (1)``."""
    return "; ".join(f"{k} ({int(v)})" for k, v in counts.items())


def rollup_table(results: Results, by: str) -> pd.DataFrame | None:
    """The roll-up of the run's communities by ``by`` as a flat table (None without one).

    Columns: ``by``, then :data:`fifteenmin.coverage.ROLLUP_COLUMNS`;
    ``items_most_missing`` as ``item (communities); …``.

    Examples
    --------
    >>> rollup_table(results, "district")  # doctest: +SKIP
    """
    rows = results.coverage.summary.get(f"by_{by}")
    if rows is None:
        return None
    table = pd.DataFrame(rows, columns=[by, *ROLLUP_COLUMNS])
    table["items_most_missing"] = [_missing_text(m or {}) for m in table["items_most_missing"]]
    return table


def district_layer(results: Results) -> gpd.GeoDataFrame | None:
    """The ``districts`` layer: each district's communities merged, with its figures.

    Examples
    --------
    >>> district_layer(results)  # doctest: +SKIP
    """
    table = rollup_table(results, "district")
    com = results.coverage.communities
    if table is None or "district" not in com.columns:
        return None
    shapes = com[["district", com.geometry.name]].dissolve(by="district", sort=True)
    geoms = shapes.geometry.reindex(table["district"].to_numpy()).to_numpy()
    return gpd.GeoDataFrame(table, geometry=geoms, crs=com.crs)
