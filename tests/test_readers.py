"""Readers of the user's tables and layers: encodings, separators, one clear error each."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from fifteenmin import CommunityFileError, InputFileError, LayerError
from fifteenmin.readers import (
    CSV_ENCODINGS,
    TABLE_SUFFIXES,
    read_community_layer,
    read_csv_table,
    read_facility_table,
    read_layer,
    read_population_layer,
    read_vector,
)

ROWS = {"名称": ["老百姓大药房", "阳光幼儿园"], "经度": ["116.3975", "116.4010"]}


# ------------------------------------------------------------------------------ CSV tables
@pytest.mark.parametrize("encoding", CSV_ENCODINGS)
def test_csv_in_every_encoding(tmp_path, encoding):
    p = tmp_path / "pois.csv"
    p.write_bytes("名称,经度\n老百姓大药房,116.3975\n阳光幼儿园,116.4010\n".encode(encoding))
    assert read_csv_table(p).to_dict("list") == ROWS  # a UTF-8 BOM never reaches a column


def test_gb18030_only_characters(tmp_path):
    # '㐀' (CJK extension A) is in GB18030 but not in GBK: the last encoding tried
    p = tmp_path / "ext.csv"
    p.write_bytes("名称,x\n㐀记,1\n".encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("gbk")
    assert read_csv_table(p)["名称"].tolist() == ["㐀记"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separators_are_sniffed(tmp_path, sep):
    p = tmp_path / "pois.txt"
    p.write_text(f"名称{sep}经度\n老百姓大药房{sep}116.3975\n阳光幼儿园{sep} 116.4010\n")
    assert read_csv_table(p).to_dict("list") == ROWS  # spaces after a separator dropped


def test_every_column_is_text(tmp_path):
    p = tmp_path / "codes.csv"
    p.write_text("code,n\n007,1.50\n,2\n")
    df = read_csv_table(p)
    assert df["code"].iloc[0] == "007" and df["n"].tolist() == ["1.50", "2"]
    assert pd.isna(df["code"].iloc[1])


def test_one_column_without_separator(tmp_path):
    for name in ("names.tsv", "names.csv"):
        p = tmp_path / name
        p.write_text("name\nx\ny\n")
        assert read_csv_table(p).to_dict("list") == {"name": ["x", "y"]}


def test_csv_errors(tmp_path):
    bad = tmp_path / "binary.csv"
    bad.write_bytes(b"\xff\xfe\xff\x00\x81")
    with pytest.raises(InputFileError, match=r"not text in any of the encodings.*CSV UTF-8"):
        read_csv_table(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputFileError, match=r"could not be read as a CSV table"):
        read_csv_table(empty)
    broken = tmp_path / "broken.csv"
    broken.write_text('a,b\n1,2\n"unclosed\n')
    with pytest.raises(InputFileError, match=r"could not be read as a CSV table"):
        read_csv_table(broken)
    with pytest.raises(InputFileError, match=r"cannot read facility table"):
        read_csv_table(tmp_path)  # a folder
    with pytest.raises(InputFileError, match=r"cannot read survey '"):
        read_csv_table(tmp_path / "missing.csv", "survey")


# ------------------------------------------------------------------------------ facility tables
def test_facility_table_sources(tmp_path):
    df = pd.DataFrame({"item": ["pharmacy"], "lon": [116.4], "lat": [39.9]})
    frame, where = read_facility_table(df)
    assert frame is df and where == "the facility DataFrame"
    gdf = gpd.GeoDataFrame(df, geometry=[shapely.Point(116.4, 39.9)], crs=4326)
    assert read_facility_table(gdf)[1] == "the facility GeoDataFrame"
    assert {".csv", ".tsv", ".txt"} == set(TABLE_SUFFIXES)
    for suffix in (".csv", ".TXT", ".tsv"):
        p = tmp_path / f"pois{suffix}"
        df.to_csv(p, index=False, sep="\t" if suffix == ".tsv" else ",")
        table, where = read_facility_table(p)
        assert table.to_dict("list") == {"item": ["pharmacy"], "lon": ["116.4"], "lat": ["39.9"]}
        assert where == f"facility table '{p}'"
    gpkg = tmp_path / "pois.gpkg"
    gdf.to_file(gpkg, layer="shops")
    table, where = read_facility_table(gpkg, layer="shops")
    assert isinstance(table, gpd.GeoDataFrame) and table["item"].tolist() == ["pharmacy"]
    assert where == f"facility table '{gpkg}'"


def test_facility_table_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"facility table not found: .*nope\.csv"):
        read_facility_table(tmp_path / "nope.csv")
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json")
    with pytest.raises(InputFileError, match=r"could not be read as a vector file.*Use CSV"):
        read_facility_table(bad)
    with pytest.raises(TypeError, match=r"source must be a file path.*got int"):
        read_facility_table(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ vector layers
def _squares(crs=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"pop": [10.0, 20.0]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs=crs,
    )


def test_population_layer(tmp_path):
    g = _squares()
    frame, where = read_population_layer(g)
    assert frame is g and where == "the population GeoDataFrame"
    p = tmp_path / "grid.gpkg"
    g.to_file(p, layer="cells")
    frame, where = read_population_layer(p, layer="cells")
    assert frame["pop"].tolist() == [10.0, 20.0] and where == f"population file '{p}'"
    table = tmp_path / "table.csv"
    table.write_text("pop\n1\n")
    with pytest.raises(CommunityFileError, match=r"'.*table\.csv' has no geometry column"):
        read_population_layer(table)
    with pytest.raises(InputFileError, match=r"population file not found"):
        read_population_layer(tmp_path / "nope.gpkg")


def test_community_layer(tmp_path):
    p = tmp_path / "com.geojson"
    _squares().to_file(p)
    frame, where = read_community_layer(p)
    assert len(frame) == 2 and frame.crs.to_epsg() == 4326
    assert where == f"community file '{p}'"
    nocrs = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning):
        _squares(None).to_file(nocrs)
    with pytest.raises(CommunityFileError, match="no coordinate reference system"):
        read_community_layer(nocrs)
    empty = tmp_path / "empty.gpkg"
    _squares().iloc[:0].to_file(empty)
    with pytest.raises(CommunityFileError, match="is empty: it holds no features"):
        read_community_layer(empty)
    with pytest.raises(InputFileError, match="community file not found"):
        read_community_layer(tmp_path / "nope.gpkg")


def test_read_vector_and_read_layer(tmp_path):
    p = tmp_path / "sites.gpkg"
    _squares().to_file(p, layer="a")
    _squares(3857).to_file(p, layer="b")
    assert read_vector(p, "site file", layer="b").crs.to_epsg() == 3857
    with pytest.warns(UserWarning, match="More than one layer"):
        assert read_layer(p, "candidate layer").crs.to_epsg() == 4326  # the first layer
    with pytest.raises(InputFileError, match=r"candidate layer file not found"):
        read_layer(tmp_path / "nope.gpkg", "candidate layer")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{")
    with pytest.raises(InputFileError, match=r"could not be read as a vector file.*Use TOML"):
        read_vector(bad, "x", formats="TOML")
    empty = tmp_path / "empty.gpkg"
    _squares().iloc[:0].to_file(empty)
    with pytest.raises(LayerError, match=r"layer file '.*' is empty") as exc:
        read_layer(empty)
    assert not isinstance(exc.value, CommunityFileError)  # the plain LayerError
