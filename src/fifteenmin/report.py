"""A coverage report: the pipeline's results, with the ways to look at them and write them.

:func:`run_report` runs :func:`fifteenmin.pipeline.run_pipeline` and returns a
:class:`Report`: the :class:`~fifteenmin.pipeline.Results` plus :meth:`Report.write`
(the report files, :func:`fifteenmin.output.write_report`), its Jupyter view and
:meth:`Report.explore`. This module is the top of the output layer; nothing in the
pipeline imports it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from . import settings
from ._osm import OSMData
from .config import RunConfig
from .online import OnlineArea
from .output import report_html_fragment, write_report
from .pipeline import Progress, Results, run_pipeline, sample_path

__all__ = ["Report", "for_writing", "run_report", "sample_path"]


@dataclasses.dataclass(eq=False, repr=False)
class Report(Results):
    """Everything one coverage run produced, and how to write it.

    The fields are those of :class:`~fifteenmin.pipeline.Results`.

    Examples
    --------
    >>> rep = run_report()  # doctest: +SKIP
    >>> rep.write("sample-report", lang="zh")  # doctest: +SKIP
    """

    def write(
        self,
        out_dir: str | os.PathLike[str],
        *,
        html: bool = True,
        lang: str = settings.LANG,
        isochrones: gpd.GeoDataFrame | str | None = "auto",
        sites: gpd.GeoDataFrame | str | None = "auto",
    ) -> list[Path]:
        """Write the report files into ``out_dir``; see :func:`fifteenmin.output.write_report`."""
        return write_report(self, out_dir, html=html, lang=lang, isochrones=isochrones, sites=sites)

    def _repr_html_(self) -> str:
        return report_html_fragment(self)

    def explore(self, **kwargs: Any) -> Any:
        """Map of the communities coloured by score (:meth:`CoverageResult.explore`)."""
        return self.coverage.explore(**kwargs)


def for_writing(report: Report) -> Report:
    """``report`` without what its files never read: for a report that is only written.

    The travel times' ``(items, nodes)`` arrays (``metres``, ``facility``; about 740 MB at a
    million nodes, the largest part of a report in memory) served the origins' minutes and
    the opening hours, and no report file reads them: the copy's are empty (``(items, 0)``),
    everything else is shared. :meth:`Report.write` of the copy writes the same files; the
    command line writes its report this way and holds no other reference to it. Keep the
    original for anything else (:meth:`~fifteenmin.routing.TravelTimes.summary`,
    :func:`~fifteenmin.isochrones.facility_isochrones`, ...).

    Examples
    --------
    >>> rep = for_writing(run_report())  # doctest: +SKIP
    >>> rep.travel.metres.shape[1]  # doctest: +SKIP
    0
    """
    tt = report.travel
    none = (len(tt.items), 0)
    light = dataclasses.replace(
        tt,
        metres=np.empty(none, dtype=tt.metres.dtype),
        facility=np.empty(none, dtype=tt.facility.dtype),
    )
    return dataclasses.replace(report, travel=light)


def run_report(
    osm_file: str | os.PathLike[str] | OSMData | OnlineArea | None = None,
    *,
    config: RunConfig | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Report:
    """Run the whole coverage pipeline on one OSM file.

    Parameters
    ----------
    osm_file
        An ``.osm``/``.osm.bz2``/``.osm.pbf`` file, read data (:class:`~fifteenmin.OSMData`)
        or an area to download (:class:`~fifteenmin.online.OnlineArea`); default: the
        bundled sample.
    config
        Inputs and parameters of the run (:class:`~fifteenmin.config.RunConfig`).
    progress
        Called with a message at each step (the CLI prints them on stderr).
    **options
        Fields of :class:`~fifteenmin.config.RunConfig` that override ``config``
        (``communities=``, ``population=``, ``catalogue=``, ``speed=``, ``threshold=``,
        ``engine=``, ...).

    Returns
    -------
    Report

    Raises
    ------
    ConfigError
        An unknown option or an invalid value.

    Examples
    --------
    >>> from fifteenmin import run_report
    >>> rep = run_report()  # the bundled sample
    >>> 0.0 <= rep.coverage.summary["coverage_rate"] <= 1.0
    True
    >>> rep.config.threshold
    0.8
    """
    cfg = (config or RunConfig()).replace(**options) if options else (config or RunConfig())
    res = run_pipeline(osm_file, cfg, progress)
    return Report(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})
