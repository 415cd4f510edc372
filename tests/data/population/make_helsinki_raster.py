"""Make ``helsinki_population_grid_2020_epsg3879.tif`` from the shared Helsinki population grid.

The grid (``../shared/data/osm/benchmark/helsinki_population_grid_2020.gpkg``; HSY, CC BY 4.0)
holds 250 m cells of Helsinki Region Environmental Services (HSY), stored in EPSG:4326. In
their own CRS, EPSG:3879 (ETRS89 / GK25FIN), the cells are axis-aligned 250 m squares, so each
cell becomes exactly one pixel of a GeoTIFF in EPSG:3879 (pixels without a cell are nodata).
Run from the repository root: ``python tests/data/population/make_helsinki_raster.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin

HERE = Path(__file__).resolve().parent
GRID = HERE.parents[3] / "shared" / "data" / "osm" / "benchmark"
GRID = GRID / "helsinki_population_grid_2020.gpkg"
OUT = HERE / "helsinki_population_grid_2020_epsg3879.tif"
SIZE = 250.0
NODATA = -1.0


def main() -> None:
    """Write the GeoTIFF (deterministic: same grid, same bytes)."""
    cells = gpd.read_file(GRID).to_crs(3879)
    b = cells.geometry.bounds
    # cell corners lie within millimetres of a 250 m lattice (x = 0, y = 249 mod 250)
    x0 = float(np.round(b["minx"].min() / SIZE) * SIZE)
    y_off = float(np.round(b["maxy"].max()) % SIZE)
    y1 = float(np.round((b["maxy"].max() - y_off) / SIZE) * SIZE + y_off)
    cx = cells.geometry.centroid.x.to_numpy()
    cy = cells.geometry.centroid.y.to_numpy()
    col = np.floor((cx - x0) / SIZE).astype(int)
    row = np.floor((y1 - cy) / SIZE).astype(int)
    data = np.full((row.max() + 1, col.max() + 1), NODATA, dtype=np.float32)
    data[row, col] = cells["population"].to_numpy(dtype=np.float32)
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:3879",
        "transform": from_origin(x0, y1, SIZE, SIZE),
        "nodata": NODATA,
        "compress": "deflate",
    }
    with rasterio.open(OUT, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(
            SOURCE="HSY population grid 2020 (Helsinki Region Infoshare), CC BY 4.0",
            UNITS="people per 250 m cell",
        )


if __name__ == "__main__":
    main()
