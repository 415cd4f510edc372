"""The files of a coverage report, written together into one output folder.

``summary.json``, ``coverage.csv``, ``communities.gpkg``, ``facilities.gpkg`` and
``report.html``.

Nothing is written until every file's content is computed; every file is staged under a
temporary name in the output folder and renamed into place, so a failure never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from .. import settings
from ..siting import plan_missing
from ._files import (
    commit,
    discard,
    prepare_output_dir,
    stage_file,
    write_csv,
    write_gpkg,
    write_json,
)
from .html import render_html

if TYPE_CHECKING:
    from ..pipeline import Results

__all__ = ["REPORT_FILES", "write_report"]

#: The files of a report, in the order they are written.
REPORT_FILES = (
    "summary.json",
    "coverage.csv",
    "communities.gpkg",
    "facilities.gpkg",
    "report.html",
)


def write_report(
    results: Results,
    out_dir: str | os.PathLike[str],
    *,
    html: bool = True,
    lang: str = settings.LANG,
    isochrones: gpd.GeoDataFrame | str | None = "auto",
    sites: gpd.GeoDataFrame | str | None = "auto",
) -> list[Path]:
    """Write the report files of ``results`` into ``out_dir`` (created if needed).

    Parameters
    ----------
    results
        From :func:`fifteenmin.run_report` (or :func:`fifteenmin.pipeline.run_pipeline`).
    out_dir
        The output folder.
    html
        Also write ``report.html`` (:func:`fifteenmin.output.html.render_html`).
    lang
        Language of the HTML report: ``"en"`` or ``"zh"``.
    isochrones
        Walking areas drawn on the HTML map: ``"auto"`` (each community's 15-minute walking
        area, :meth:`~fifteenmin.pipeline.Results.community_isochrones`), a GeoDataFrame, or
        None.
    sites
        Proposed sites listed in the HTML report: ``"auto"`` (one site for every required
        item some community misses, :func:`fifteenmin.siting.plan_missing`), a
        GeoDataFrame, or None.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    OutputError
        The folder cannot be created or written.

    Examples
    --------
    >>> import tempfile, fifteenmin as fm
    >>> files = write_report(fm.run_report(), tempfile.mkdtemp(), html=False)  # doctest: +SKIP
    """
    out = prepare_output_dir(out_dir)
    summary = results.summary()
    # timings vary from run to run: keep them out of the file so that outputs are
    # byte-for-byte reproducible
    summary.pop("timings_s")
    page = None
    if html:
        if isinstance(isochrones, str):
            isochrones = results.community_isochrones()
        if isinstance(sites, str):
            sites = plan_missing(results, k=1)
        page = render_html(results, lang=lang, isochrones=isochrones, sites=sites).encode("utf-8")
    com = results.coverage.communities.copy()
    fac = results.facilities.drop(columns=["tags"], errors="ignore")
    writers = {
        "summary.json": lambda p: write_json(p, summary),
        "coverage.csv": lambda p: write_csv(p, results.coverage.table),
        "communities.gpkg": lambda p: write_gpkg(p, com, "communities"),
        "facilities.gpkg": lambda p: write_gpkg(p, fac, "facilities"),
    }
    if page is not None:
        writers["report.html"] = lambda p: p.write_bytes(page)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, writer in writers.items():
            staged.append(stage_file(out, name, writer))
    except BaseException:
        discard(staged)
        raise
    return commit(staged)
