# ruff: noqa: E501  (a table of sample rows, one a line)
"""Write the CONSTRUCTED POI samples of this folder (not real exports; see README.md).

The facilities and names are made up but realistic (the kinds of POI a web map lists around
Xueyuan Road, Haidian, Beijing); each is placed next to a street node of the shared OSM
extract ``beijing_haidian_xueyuanlu_cau_2026.osm`` (WGS-84), then converted to the datum of
the provider (Amap and Tencent GCJ-02, Baidu BD-09) and rounded to 6 decimals, as the
providers' exports are. The column layouts are those of real exports (see README.md).
Run from the repository root: ``python tests/data/poi/make_poi_samples.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from fifteenmin import load_catalogue, network_from_file, read_osm
from fifteenmin._coords import wgs84_to_bd09, wgs84_to_gcj02

HERE = Path(__file__).resolve().parent
OSM = HERE.parents[3] / "shared" / "data" / "osm" / "beijing"
OSM = OSM / "beijing_haidian_xueyuanlu_cau_2026.osm"
BOX = (116.3460, 39.9990, 116.3580, 40.0080)  # inside the extract's header box

# name, Amap type, Amap typecode, address, the item a person would give it ("" = none)
AMAP = [
    ("学院路街道社区卫生服务站(双清路)", "医疗保健服务;综合医院;卫生院", "090102", "双清路88号", "community_health_station"),
    ("石油大院社区卫生服务中心", "医疗保健服务;综合医院;综合医院", "090100", "学院路20号院", "community_health_centre"),
    ("双清路社区养老驿站", "生活服务;生活服务场所;生活服务场所", "070000", "双清路33号院", "elderly_day_care"),
    ("富润家园社区居委会", "政府机构及社会团体;政府机关;政府机关相关", "130100", "富润家园小区内", "community_service_station"),
    ("清华东路菜市场", "购物服务;综合市场;综合市场", "060700", "清华东路16号", "fresh_market"),
    ("京客隆超市(学院路店)", "购物服务;超级市场;超市", "060400", "学院路甲5号", "supermarket"),
    ("老百姓大药房(学院路店)", "医疗保健服务;医药保健销售店;药房", "090601", "学院路30号", "pharmacy"),
    ("好邻居便利店(双清路店)", "购物服务;便民商店/便利店;便民商店/便利店", "060200", "双清路1号", "convenience_store"),
    ("中国联通营业厅(学院路)", "生活服务;电讯营业厅;中国联通营业厅", "070604", "学院路35号", "telecom_outlet"),
    ("双清苑幼儿园", "科教文化服务;学校;幼儿园", "141204", "双清苑小区12号楼", "kindergarten"),
    ("石油大院附属小学", "科教文化服务;学校;小学", "141203", "学院路20号", "primary_school"),
    ("北京市第十九中学(学院路校区)", "科教文化服务;学校;中学|科教文化服务;培训机构;培训机构", "141202|141400", "学院路甲8号", "junior_middle_school"),
    ("如家酒店(学院路店)", "住宿服务;宾馆酒店;经济型连锁酒店", "100105", "学院路29号", ""),
    ("庆丰包子铺(学院路店)", "餐饮服务;快餐厅;快餐厅", "050300", "学院路甲2号", "restaurant"),
    ("学院路早餐店", "餐饮服务;快餐厅;快餐厅", "050300", "双清路60号", "breakfast"),
    ("双清苑老年餐桌", "餐饮服务;快餐厅;快餐厅", "050300", "双清苑小区8号楼", "community_canteen"),
    ("中国工商银行(学院路支行)", "金融保险服务;银行;中国工商银行", "160105", "学院路40号", "bank"),
    ("公共厕所(清华东路)", "公共设施;公共厕所;公共厕所", "200300", "清华东路", "public_toilet"),
    ("菜鸟驿站(富润家园店)", "生活服务;物流速递;物流速递", "070500", "富润家园3号楼底商", "parcel_point"),
    ("丝域养发(学院路店)", "生活服务;美容美发店;美容美发店", "071100", "学院路甲12号", "hairdresser"),
    ("福奈特洗衣(学院路店)", "生活服务;洗衣店;洗衣店", "071500", "学院路甲6号", "laundry"),
    ("中国石油大学(北京)学院路校区", "科教文化服务;学校;高等院校", "141201", "学院路20号", ""),
    ("富润家园停车场", "交通设施服务;停车场;停车场相关", "150900", "富润家园", ""),
    ("学院路街道办事处", "政府机构及社会团体;政府机关;乡镇级政府及事业单位", "130105", "学院路40号", "subdistrict_office"),
    ("学院路派出所", "政府机构及社会团体;公检法机构;公安警察", "130501", "学院路甲38号", "police_station"),
    ("星巴克(学院路店)", "餐饮服务;咖啡厅;星巴克咖啡", "050501", "学院路30号", "cafe_tea"),
    ("西贝莜面村(五道口店)", "餐饮服务;中餐厅;西北菜", "050117", "成府路28号", "restaurant"),
    ("学院路北口(公交站)", "交通设施服务;公交车站;公交车站相关", "150700", "学院路", "bus_stop"),
    ("学院路街道文化活动中心", "科教文化服务;文化宫;文化宫", "140900", "学院路40号", "cultural_activity_centre"),
    ("一兆韦德健身(学院路店)", "体育休闲服务;运动场馆;健身中心", "080111", "学院路甲15号", "gym"),
    ("汽车美容中心", "汽车服务;洗车场;洗车场", "010500", "双清路9号", ""),
    ("=HYPERLINK(\"x\")商店", "购物服务;专卖店;专营店", "061000", "学院路", ""),
]  # fmt: skip

# the row of AMAP at the same place, name, Baidu tag, address, item
BAIDU = [
    (0, "学院路社区卫生服务站", "医疗;诊所", "双清路88号", "community_health_station"),
    (5, "京客隆超市(学院路店)", "购物;超市", "学院路甲5号", "supermarket"),
    (6, "老百姓大药房(学院路店)", "医疗;药店", "学院路30号", "pharmacy"),
    (9, "双清苑幼儿园", "教育培训;幼儿园", "双清苑小区12号楼", "kindergarten"),
    (20, "福奈特洗衣(学院路店)", "生活服务;洗衣店", "学院路甲6号", "laundry"),
    (16, "中国工商银行(学院路支行)", "金融;银行", "学院路40号", "bank"),
    (12, "如家酒店(学院路店)", "酒店;快捷酒店", "学院路29号", ""),
]  # fmt: skip

# the row of AMAP at the same place, name, Tencent category, address, item
TENCENT = [
    (5, "京客隆超市(学院路店)", "购物:超市", "学院路甲5号", "supermarket"),
    (9, "双清苑幼儿园", "教育学校:幼儿园", "双清苑小区12号楼", "kindergarten"),
    (13, "庆丰包子铺(学院路店)", "美食:中餐厅", "学院路甲2号", "restaurant"),
    (21, "中国石油大学(北京)", "教育学校:大学", "学院路20号", ""),
]  # fmt: skip


def _places(n: int) -> np.ndarray:
    """``n`` WGS-84 points next to street nodes of the extract, spread over ``BOX``."""
    data = read_osm(OSM, keys=load_catalogue("beijing").osm_keys())
    net = network_from_file(data)
    inside = (net.lon > BOX[0]) & (net.lon < BOX[2]) & (net.lat > BOX[1]) & (net.lat < BOX[3])
    idx = np.flatnonzero(inside)
    order = idx[np.lexsort((net.lon[idx], net.lat[idx]))]
    pick = order[np.linspace(0, len(order) - 1, n).round().astype(int)]
    # 10-15 m off the node: a building by the street
    return np.column_stack([net.lon[pick] + 0.00012, net.lat[pick] + 0.00008])


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def main() -> None:
    """Write the samples and the WGS-84 truth the tests compare with."""
    places = _places(len(AMAP))
    glon, glat = wgs84_to_gcj02(places[:, 0], places[:, 1])
    amap_rows = [
        [f"B0FF{i:06d}", n, t, c, a, f"{glon[i]:.6f},{glat[i]:.6f}", "北京市", "北京市", "海淀区"]
        for i, (n, t, c, a, _) in enumerate(AMAP)
    ]
    header = ["id", "name", "type", "typecode", "address", "location", "pname", "cityname"]
    _write(HERE / "amap_xueyuanlu_constructed.csv", [*header, "adname"], amap_rows)
    blon, blat = wgs84_to_bd09(places[:, 0], places[:, 1])
    baidu_rows = [
        [n, f"{blat[i]:.6f}", f"{blon[i]:.6f}", a, "北京市", "海淀区", f"{i:024x}", tag]
        for i, n, tag, a, _ in BAIDU
    ]
    _write(
        HERE / "baidu_xueyuanlu_constructed.csv",
        ["name", "lat", "lng", "address", "city", "area", "uid", "tag"],
        baidu_rows,
    )
    tencent_rows = [
        [f"{i:020d}", n, a, cat, f"{glat[i]:.6f}", f"{glon[i]:.6f}", 110108]
        for i, n, cat, a, _ in TENCENT
    ]
    _write(
        HERE / "tencent_xueyuanlu_constructed.csv",
        ["id", "title", "address", "category", "lat", "lng", "adcode"],
        tencent_rows,
    )
    truth = [
        [n, item, f"{places[i, 0]:.9f}", f"{places[i, 1]:.9f}"]
        for i, (n, _t, _c, _a, item) in enumerate(AMAP)
    ]
    _write(HERE / "truth_wgs84.csv", ["name", "item", "lon", "lat"], truth)


if __name__ == "__main__":
    main()
