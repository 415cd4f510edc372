"""The city layout's walking areas in script files beside the page, loaded on demand.

A city's walking areas are most of its page (27,556 areas: ~40 MB of the n = 1000 synthetic
city's 74 MB page), and a page that big opens slowly and freezes when a layer is toggled.
:func:`~fifteenmin.output.report_files.write_report` therefore writes the city layout's
walking areas into files beside ``report.html``: ``report_files/areas-0000.js``,
``areas-0001.js``, ... (:data:`~fifteenmin.settings.HTML_AREA_FOLDER`), each holding
:data:`~fifteenmin.settings.HTML_AREA_FILE_COMMUNITIES` communities in the page's community
order (by id). A file is a small script::

    /* fifteenmin ...: walking areas of communities 1-512 of report.html ... © OpenStreetMap
       contributors, ODbL 1.0 ... */
    fmAreas(0,["id 1","id 2",...],["[[15.0,[[[lat,lon,dlat,dlon,...]]]]]","",...]);

``fmAreas(file, community ids, lines)`` hands its lines (each a JSON text, the same
encoding as the embedded ``fm-areas`` lines, ``""`` for a community without an area) to the
page, whose script inserts a ``<script src>`` element for the file when one of its
communities is opened (script elements load from ``file://``; ``fetch`` does not in
Chromium). The ids let the page check that a file belongs to it; a missing file (the page
copied alone) shows a message instead of the area.

The files are made from chunks of walking areas as they are computed
(:func:`area_files` takes an iterable of GeoDataFrames in community id order), so that never
all areas' geometries nor all files are in memory at once. Their bytes are deterministic.

Examples
--------
>>> area_file_names(1030)
['areas-0000.js', 'areas-0001.js', 'areas-0002.js']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ..._version import __version__
from .city_data import community_area_lines
from .common import json_for_script

__all__ = ["area_file_names", "area_file_text", "area_files"]


def area_file_names(n_communities: int) -> list[str]:
    """The walking-area files of a page of ``n_communities`` communities, in order.

    One per :data:`~fifteenmin.settings.HTML_AREA_FILE_COMMUNITIES` communities (none for
    none), named ``areas-NNNN.js`` (four digits at least).

    Examples
    --------
    >>> area_file_names(0), area_file_names(1)
    ([], ['areas-0000.js'])
    """
    per = settings.HTML_AREA_FILE_COMMUNITIES
    return [f"areas-{k:04d}.js" for k in range(-(-n_communities // per))]


def area_file_text(k: int, ids: Sequence[str], lines: Sequence[str]) -> str:
    r"""The script of walking-area file ``k``: its communities' ids and lines.

    Parameters
    ----------
    k
        The file's number (its communities are ``k * per .. k * per + len(ids) - 1`` of the
        page, ``per`` = :data:`~fifteenmin.settings.HTML_AREA_FILE_COMMUNITIES`).
    ids
        The communities' ids (untrusted OSM text: JSON-escaped for a script).
    lines
        Per community, its walking areas as a JSON line ``[[minutes, geometry], ...]``
        (:func:`~fifteenmin.output.html.city_data.community_area_lines`), ``""`` for none.

    Examples
    --------
    >>> print(area_file_text(0, ["a</script>"], [""]).splitlines()[-1])
    fmAreas(0,["a\u003c/script>"],[""]);
    """
    if len(ids) != len(lines):
        raise ValueError(f"area file {k}: {len(ids)} ids but {len(lines)} lines")
    first = k * settings.HTML_AREA_FILE_COMMUNITIES + 1
    head = (
        f"/* fifteenmin {__version__}: walking areas of communities {first:,}-"
        f"{first + len(ids) - 1:,} of report.html, loaded by it when one is opened.\n"
        f"   Map data {settings.ATTRIBUTION}. */\n"
    )
    return f"{head}fmAreas({k},{json_for_script(list(ids))},{json_for_script(list(lines))});\n"


def area_files(
    chunks: Iterable[gpd.GeoDataFrame],
    ids: Sequence[str],
    *,
    simplify_m: float = settings.HTML_CITY_AREA_SIMPLIFY_M,
) -> Iterator[tuple[str, str]]:
    """The walking-area files of a page, ``(name, text)``, made as the chunks arrive.

    Parameters
    ----------
    chunks
        The walking areas: GeoDataFrames with ``community_id``, ``minutes`` and polygons
        (any CRS), a community's rows in one chunk, the chunks in community id order (as
        :func:`fifteenmin.isochrones.community_walking_areas` orders its rows). Rows of
        communities the page does not have, or without finite minutes, are left out.
    ids
        The page's community ids in its order
        (:func:`~fifteenmin.output.html.city_data.page_community_ids`).
    simplify_m
        Simplify the areas by this many metres before encoding them; 0 for areas that are
        already simplified to the page's resolution (the raster areas of the report's map).

    Yields
    ------
    tuple of (str, str)
        Every file of :func:`area_file_names` in order, each as soon as the chunks have
        passed its last community (a file whose communities have no area holds ``""`` lines).

    Raises
    ------
    ValueError
        A chunk has rows of a community whose file was already made (chunks out of order).

    Examples
    --------
    >>> files = dict(area_files([rep.community_isochrones()], ids))  # doctest: +SKIP
    """
    per = settings.HTML_AREA_FILE_COMMUNITIES
    names = area_file_names(len(ids))
    index = pd.Index(np.asarray(ids, dtype=object))
    lines: dict[int, str] = {}
    done = 0  # files made

    def made(k: int) -> tuple[str, str]:
        lo, hi = k * per, min((k + 1) * per, len(ids))
        text = area_file_text(k, ids[lo:hi], [lines.pop(c, "") for c in range(lo, hi)])
        return names[k], text

    for chunk in chunks:
        new = community_area_lines(chunk, index, simplify_m)
        if not new:
            continue
        if min(new) < done * per or any(c in lines for c in new):
            raise ValueError(
                "walking-area chunks must come in community id order, a community's rows in "
                "one chunk"
            )
        lines.update(new)
        while done < max(new) // per:  # every later chunk's communities come after these
            yield made(done)
            done += 1
    while done < len(names):
        yield made(done)
        done += 1


def chunked(areas: gpd.GeoDataFrame, size: int) -> Iterator[gpd.GeoDataFrame]:
    """``areas`` in chunks of ``size`` communities (a community's rows in one chunk).

    The rows are sorted by community id first (stable), as :func:`area_files` wants them.

    Examples
    --------
    >>> [len(c) for c in chunked(areas, 2)]  # doctest: +SKIP
    [2, 2, 1]
    """
    if not len(areas):
        return
    key: Any = areas["community_id"].astype(str).to_numpy()
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # each community's first row
    cuts = starts[:: max(1, size)][1:]  # every size-th community
    bounds = [0, *cuts.tolist(), len(key)]
    for a, b in itertools.pairwise(bounds):
        yield areas.iloc[order[a:b]]
