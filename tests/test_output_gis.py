"""GeoPackages for GIS: facility points and areas, the community x item matrix, the style."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

import fifteenmin as fm
from fifteenmin.output.gis import FACILITY_FIELDS, facility_layers


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = fm.run_report(engine="scipy")
    out = tmp_path_factory.mktemp("gis")
    rep.write(out, html=False)
    return rep, out


def test_facilities_are_points_with_an_area_layer(written):
    rep, out = written
    layers = dict(pyogrio.list_layers(out / "facilities.gpkg"))
    assert layers == {"facilities": "Point", "facility_areas": "MultiPolygon"}
    pts = gpd.read_file(out / "facilities.gpkg", layer="facilities")
    areas = gpd.read_file(out / "facilities.gpkg", layer="facility_areas")
    assert list(pts.columns) == [*FACILITY_FIELDS, "geometry"]
    assert len(pts) == len(rep.facilities)
    assert (pts["kind"] == "area").sum() == len(areas) > 0
    # an area facility's point lies inside its polygon
    joined = pts[pts["kind"] == "area"].merge(areas[["facility_id", "geometry"]], on="facility_id")
    assert gpd.GeoSeries(joined["geometry_y"]).contains(gpd.GeoSeries(joined["geometry_x"])).all()
    ph = pts[pts["item_id"] == "pharmacy"].iloc[0]
    assert (ph["item_name_zh"], ph["category_id"]) == ("药店", "health")


def test_community_matrix_matches_the_long_table(written):
    rep, out = written
    com = gpd.read_file(out / "communities.gpkg", layer="communities")
    items = [it.id for it in rep.catalogue.items]
    assert [c for c in com.columns if c.endswith("_status")] == [f"{i}_status" for i in items]
    table = rep.coverage.table
    for _, row in table.sample(40, random_state=0).iterrows():
        got = com.loc[com["community_id"].astype(str) == str(row["community_id"])].iloc[0]
        assert got[f"{row['item_id']}_status"] == row["status"]
        a, b = got[f"{row['item_id']}_minutes"], row["median_minutes"]
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b)
    m = rep.coverage.matrix()
    assert m.shape == (len(rep.coverage.communities), 1 + 2 * len(items))


def test_qgis_style_is_stored_with_the_layer(written):
    _, out = written
    styles = pyogrio.read_dataframe(out / "communities.gpkg", layer="layer_styles")
    assert styles["f_table_name"].tolist() == ["communities"]
    assert bool(styles["useAsDefault"].iloc[0])
    qml = styles["styleQML"].iloc[0]
    assert 'attr="score"' in qml and qml.count("<range ") == 5


def test_layers_without_area_facilities():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = fm.run_report(engine="scipy")
    rep.facilities = rep.facilities[rep.facilities.geom_type == "Point"].reset_index(drop=True)
    layers = facility_layers(rep)
    assert len(layers["facility_areas"]) == 0 and len(layers["facilities"]) == len(rep.facilities)
