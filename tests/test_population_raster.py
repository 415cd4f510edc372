"""Population rasters (GeoTIFF) as the population layer: exact area weighting of pixels.

Oracles: a brute-force loop over pixels (the pixel square built from the file's geotransform,
intersected with each community in the raster's own CRS, one shapely call per pixel); the
band's sum read independently with rasterio; and, where the shared data is here, the same
population as a vector grid (``helsinki_population_grid_2020.gpkg``), which the bundled
GeoTIFF was rasterised from cell by cell.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import SHARED
from fifteenmin import FifteenminError
from fifteenmin.cli import main
from fifteenmin.communities import residents_from_population
from fifteenmin.readers import is_raster, read_population_raster

rasterio = pytest.importorskip("rasterio")

DATA = Path(__file__).resolve().parent / "data" / "population"
WORLDPOP = DATA / "abw_ppp_2020_UNadj_constrained.tif"
HELSINKI_TIF = DATA / "helsinki_population_grid_2020_epsg3879.tif"
HELSINKI_GRID = SHARED / "benchmark" / "helsinki_population_grid_2020.gpkg"


def _band(path: Path) -> tuple[np.ndarray, object, object]:
    """Values (nodata as NaN), geotransform and CRS, read with rasterio directly."""
    with rasterio.open(path) as src:
        a = src.read(1, masked=True).astype(np.float64)
        return np.ma.filled(a, np.nan), src.transform, src.crs


def _xy(tr: object, col: float, row: float) -> tuple[float, float]:
    """The map coordinates of pixel corner (col, row), from the affine geotransform."""
    a, b, c, d, e, f = (tr[i] for i in range(6))  # type: ignore[index]
    return a * col + b * row + c, d * col + e * row + f


def _brute_force(path: Path, communities: gpd.GeoDataFrame) -> dict[str, float]:
    """People per community: every pixel x area(pixel ∩ community) / area(pixel)."""
    values, tr, crs = _band(path)
    com = communities.to_crs(crs)
    out = {}
    for cid, poly in zip(com["community_id"], com.geometry, strict=True):
        total = 0.0
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                v = values[r, c]
                if not np.isfinite(v) or v <= 0:
                    continue
                x0, y0 = _xy(tr, c, r)
                x1, y1 = _xy(tr, c + 1, r + 1)
                px = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
                total += v * px.intersection(poly).area / px.area
        out[cid] = total
    return out


def _communities(net, crs: object) -> gpd.GeoDataFrame:
    """Three hand-drawn communities near the sample's centre: a triangle, a rotated square
    and an L shape, cutting pixels at arbitrary angles (drawn in the network's CRS)."""
    x0 = float(np.median(net.x))
    y0 = float(np.median(net.y))
    polys = [
        shapely.Polygon([(x0 - 420, y0 - 90), (x0 - 40, y0 - 310), (x0 - 130, y0 + 260)]),
        shapely.affinity.rotate(shapely.box(x0, y0, x0 + 330, y0 + 330), 23.0),
        shapely.Polygon(
            [
                (x0 - 200, y0 + 420),
                (x0 + 100, y0 + 420),
                (x0 + 100, y0 + 540),
                (x0 - 80, y0 + 540),
                (x0 - 80, y0 + 760),
                (x0 - 200, y0 + 760),
            ]
        ),
    ]
    # disjoint: where communities overlap a pixel's share is scaled (a documented rule)
    assert shapely.union_all(polys).area == pytest.approx(sum(p.area for p in polys))
    return gpd.GeoDataFrame(
        {
            "community_id": ["tri", "rot", "ell"],
            "community_name": ["t", "r", "l"],
            "source": "file",
        },
        geometry=polys,
        crs=net.crs,
    ).to_crs(crs)


def _per_community(homes: gpd.GeoDataFrame) -> dict[str, float]:
    return {k: float(v) for k, v in homes.groupby("community_id")["weight"].sum().items()}


def test_is_raster_by_suffix_and_content(tmp_path):
    renamed = tmp_path / "population.dat"
    renamed.write_bytes(WORLDPOP.read_bytes())
    assert is_raster(WORLDPOP) and is_raster(renamed)
    assert not is_raster(tmp_path / "grid.gpkg") and not is_raster(tmp_path / "missing.dat")


def test_real_worldpop_geotiff():
    """WorldPop 2020 (Aruba, 100 m, EPSG:4326, nodata -99999): totals and windows."""
    values, tr, _ = _band(WORLDPOP)
    expected_total = float(np.nansum(values))
    r = read_population_raster(WORLDPOP)
    assert r.total == pytest.approx(expected_total, rel=1e-12)
    assert r.total == pytest.approx(106766.0, rel=1e-4)  # WorldPop's 2020 estimate for Aruba
    n_people = int((np.isfinite(values) & (values > 0)).sum())
    assert len(r.pixels) == n_people
    assert r.pixels["population"].sum() == pytest.approx(expected_total, rel=1e-12)
    assert r.nodata_pixels == int((~np.isfinite(values)).sum()) > 0
    # each pixel polygon is the pixel of its (row, col), with the file's value
    for row in r.pixels.sample(25, random_state=0).itertuples():
        x0, y0 = _xy(tr, row.col, row.row)
        x1, y1 = _xy(tr, row.col + 1, row.row + 1)
        box = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        assert row.geometry.symmetric_difference(box).area < 1e-12 * box.area
        assert row.population == pytest.approx(values[row.row, row.col])
    # a window: only pixels that can touch the box (one pixel of margin), the total unchanged
    bounds = (-70.03, 12.50, -70.00, 12.53)
    w = read_population_raster(WORLDPOP, bounds)
    assert 0 < len(w.pixels) < len(r.pixels) and 0 < w.total < r.total
    assert w.total == pytest.approx(w.pixels["population"].sum(), rel=1e-12)
    pad = shapely.box(*bounds).buffer(2 * abs(tr.a))
    assert bool(shapely.intersects(w.pixels.geometry.values, pad).all())
    inside = shapely.box(*bounds).buffer(-abs(tr.a))
    hit = r.pixels[shapely.intersects(r.pixels.geometry.values, inside)]
    assert set(zip(hit["row"], hit["col"], strict=True)) <= set(
        zip(w.pixels["row"], w.pixels["col"], strict=True)
    )


def _warped_3067(tmp_path: Path) -> Path:
    """The Helsinki raster warped to EPSG:3067 (100 m pixels) with sum resampling."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    out = tmp_path / "helsinki_3067.tif"
    with rasterio.open(HELSINKI_TIF) as src:
        tr, w, h = calculate_default_transform(
            src.crs, "EPSG:3067", src.width, src.height, *src.bounds, resolution=100.0
        )
        data = np.full((h, w), -1.0, dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            reproject(
                src.read(1).astype(np.float64),
                data,
                src_transform=src.transform,
                src_crs=src.crs,
                src_nodata=-1.0,
                dst_transform=tr,
                dst_crs="EPSG:3067",
                dst_nodata=-1.0,
                resampling=Resampling.sum,
            )
        profile = {"driver": "GTiff", "width": w, "height": h, "count": 1}
        profile.update(dtype="float64", crs="EPSG:3067", transform=tr, nodata=-1.0)
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(data, 1)
    return out


@pytest.mark.parametrize("which", ["epsg3879", "warped_epsg3067"])
def test_exact_area_weighting_against_brute_force(which, sample_net, sample_data, tmp_path):
    path = HELSINKI_TIF if which == "epsg3879" else _warped_3067(tmp_path)
    com = _communities(sample_net, "EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # people outside the three communities
        homes = residents_from_population(
            com, path, sample_net, value_column="population", data=sample_data
        )
    got = _per_community(homes)
    expected = _brute_force(path, com)
    assert set(got) == set(expected)
    for cid, exp in expected.items():
        assert exp > 0
        # the method splits pixels in the network's UTM zone, the oracle in the raster's CRS
        assert got[cid] == pytest.approx(exp, rel=2e-5), cid
    assert homes.attrs["population_assigned"] == pytest.approx(sum(expected.values()), rel=2e-5)
    # a second, independent implementation: exactextract's coverage-weighted sum (C++)
    exactextract = pytest.importorskip("exactextract")
    _, _, crs = _band(path)
    ee = exactextract.exact_extract(
        str(path), com.to_crs(crs), ["sum"], include_cols=["community_id"], output="pandas"
    )
    for cid, total in zip(ee["community_id"], ee["sum"], strict=True):
        assert total == pytest.approx(expected[cid], rel=1e-6), cid
    assert set(homes["weight_unit"]) == {"people"}
    # the raster's people over the communities' bounding box (the window read, one pixel
    # wider each side): at least those of the pixels touching the box, at most those of the
    # pixels touching it widened by three pixels
    values, tr, crs = _band(path)
    box = shapely.box(*com.to_crs(crs).total_bounds)
    people = {}
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if np.isfinite(values[r, c]) and values[r, c] > 0:
                (x0, y0), (x1, y1) = _xy(tr, c, r), _xy(tr, c + 1, r + 1)
                people[shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))] = values[
                    r, c
                ]
    low = sum(v for px, v in people.items() if px.intersects(box))
    high = sum(v for px, v in people.items() if px.intersects(box.buffer(3 * abs(tr.a))))
    total = homes.attrs["population_raster_total"]
    assert low - 1e-6 <= total <= high + 1e-6
    share = homes.attrs["population_assigned"] / total
    assert homes.attrs["population_raster_share"] == pytest.approx(share, rel=1e-12)


def test_sum_preserved_when_communities_cover_the_pixels(sample_net, sample_data):
    """Two communities tiling a block of pixels (split along a diagonal) get all its people."""
    values, tr, crs = _band(HELSINKI_TIF)
    cx, cy = float(np.median(sample_net.lon)), float(np.median(sample_net.lat))
    x, y = gpd.GeoSeries(gpd.points_from_xy([cx], [cy]), crs=4326).to_crs(crs).iloc[0].coords[0]
    col = int((x - tr.c) // tr.a)
    row = int((y - tr.f) // tr.e)
    # the nearest 3 x 3 block of pixels that all hold people
    full = [
        (abs(r + 1 - row) + abs(c + 1 - col), r, c)
        for r in range(values.shape[0] - 2)
        for c in range(values.shape[1] - 2)
        if (np.nan_to_num(values[r : r + 3, c : c + 3]) > 0).all()
    ]
    _, r0, c0 = min(full)
    block = values[r0 : r0 + 3, c0 : c0 + 3]
    (xa, ya), (xb, yb) = _xy(tr, c0, r0), _xy(tr, c0 + 3, r0 + 3)
    west, east, south, north = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
    halves = [
        shapely.Polygon([(west, north), (east, north), (west, south)]),
        shapely.Polygon([(east, north), (east, south), (west, south)]),
    ]
    com = gpd.GeoDataFrame(
        {"community_id": ["nw", "se"], "community_name": ["nw", "se"], "source": "file"},
        geometry=halves,
        crs=crs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        homes = residents_from_population(
            com, HELSINKI_TIF, sample_net, value_column="population", data=sample_data
        )
    assert homes["weight"].sum() == pytest.approx(float(block.sum()), rel=1e-6)
    # the diagonal halves the three pixels it crosses and leaves three whole on each side
    whole = block[0, 0] + block[0, 1] + block[1, 0]
    diag = (block[0, 2] + block[1, 1] + block[2, 0]) / 2
    assert _per_community(homes)["nw"] == pytest.approx(whole + diag, rel=1e-6)


@pytest.mark.skipif(not HELSINKI_GRID.exists(), reason="../shared population grid not here")
def test_raster_agrees_with_the_vector_grid(sample_net, sample_data):
    """The same population as polygons and as pixels: the same people per community."""
    from fifteenmin.communities import communities_from_osm

    com = communities_from_osm(sample_data, sample_net)
    kw = {"value_column": "population", "data": sample_data}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raster = residents_from_population(com, HELSINKI_TIF, sample_net, **kw)
        vector = residents_from_population(com, HELSINKI_GRID, sample_net, **kw)
    a, b = _per_community(raster), _per_community(vector)
    assert set(a) == set(b) and len(a) >= 5
    for k in a:  # the GeoTIFF's pixels and the stored cells differ by millimetres
        assert a[k] == pytest.approx(b[k], rel=1e-3, abs=1e-3)
    assert raster.attrs["population_assigned"] == pytest.approx(
        vector.attrs["population_assigned"], rel=1e-3
    )


def test_outside_pixels_are_warned(sample_net, sample_data):
    com = _communities(sample_net, "EPSG:4326")
    with pytest.warns(UserWarning, match=r"pixels holding [\d,]+ people lie outside every") as rec:
        residents_from_population(
            com, HELSINKI_TIF, sample_net, value_column="population", data=sample_data
        )
    msg = next(str(w.message) for w in rec if "pixels holding" in str(w.message))
    assert "(row " in msg and "column " in msg


def test_raster_errors(tmp_path, sample_net):
    com = _communities(sample_net, "EPSG:4326")
    with pytest.raises(FifteenminError, match="one count per pixel"):
        residents_from_population(
            com, HELSINKI_TIF, sample_net, value_column="population", elderly_column="old"
        )
    with pytest.raises(FifteenminError, match="no pixel with people covers the communities"):
        residents_from_population(com, WORLDPOP, sample_net, value_column="population")
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"\x00" * 64)
    with pytest.raises(FifteenminError, match="could not be read as a raster"):
        read_population_raster(broken)
    negative = tmp_path / "negative.tif"
    values, tr, crs = _band(HELSINKI_TIF)
    profile = {"driver": "GTiff", "width": values.shape[1], "height": values.shape[0]}
    profile.update(count=1, dtype="float64", crs=crs, transform=tr, nodata=-1.0)
    bad = np.where(np.isfinite(values), values, -1.0)
    bad[0, 0] = -5.0
    with rasterio.open(negative, "w", **profile) as dst:
        dst.write(bad, 1)
    with pytest.raises(FifteenminError, match="negative or infinite values"):
        read_population_raster(negative)


def test_cli_report_with_a_population_raster(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["report", "--population", str(HELSINKI_TIF), "--no-html", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"of the raster's [\d,.]+ over the communities' bounding box", err)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["population"] == HELSINKI_TIF.name
    assert summary["coverage"]["coverage_rate_weighted"] is not None
