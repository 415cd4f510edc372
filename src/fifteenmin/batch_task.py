"""One study of a batch, as one Dask task: run the report, write its folder atomically.

:func:`run_study` runs on a worker. It never raises for a study's own failure (a missing
file, bad data, even a ``MemoryError``): it returns a :class:`StudyResult` whose ``status`` is
``"failed"`` and whose ``error`` is the one-line message, so one bad study never stops the
others. The study's folder is written into a temporary sibling folder and renamed into place,
so ``OUT/<study>/`` is always one whole run's report, never a mix of two.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import FifteenminError
from ._kernel import HAVE_NUMBA
from .batch_studies import Study
from .report import Report, run_report

__all__ = ["StudyResult", "replace_folder", "run_study", "study_row", "temporary_folders"]

#: Seconds between two samples of the worker's memory.
_RSS_INTERVAL_S = 0.02
#: Most warnings kept per study.
_MAX_WARNINGS = 20


@dataclass
class StudyResult:
    """What one study's task returns to the client.

    Attributes
    ----------
    study
        The study's name.
    status
        ``"ok"`` or ``"failed"``.
    error
        The one-line error of a failed study.
    row
        The study's values in the merged table (communities, coverage rates, ...).
    outline
        The study area's outline (convex hull of its communities) as WKT in EPSG:4326.
    seconds, cpu_seconds
        Wall time and CPU time (of the worker process) of the study, run and write.
    rss_before_mb, peak_rss_mb
        Resident memory of the worker process before the study and its peak during the
        study (MB), when measured.
    warnings
        The warnings the run raised (dropped or repaired input), at most 20.
    """

    study: str
    status: str
    error: str | None = None
    row: dict[str, Any] = field(default_factory=dict)
    outline: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_before_mb: float | None = None
    peak_rss_mb: float | None = None
    warnings: list[str] = field(default_factory=list)


def run_study(
    study: Study,
    out_dir: str,
    threads: int | None = None,
    run: Callable[[Study], Report] | None = None,
) -> StudyResult:
    """Run one study's report and write it into ``out_dir/<study>/`` (the Dask task).

    Parameters
    ----------
    study
        The study (from :func:`fifteenmin.batch_studies.read_studies`).
    out_dir
        The batch's output folder (it must exist).
    threads
        Threads of the shortest-path kernels during the study (default: numba's setting,
        one per core); a local cluster runs one study per core, with 1.
    run
        How the study's report is made (default: :func:`fifteenmin.run_report` with the
        study's file and options; a study with ``tiles`` uses
        :func:`fifteenmin.tiles.tiled_study_report`).

    Returns
    -------
    StudyResult
        ``status`` ``"failed"`` with the one-line error if anything went wrong.

    Examples
    --------
    >>> from fifteenmin.batch_studies import read_studies
    >>> study = read_studies([{"study": "sample", "osm_file": "x.osm.pbf"}])[0]
    >>> run_study(study, "national").status  # doctest: +SKIP
    'ok'
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    with (
        _peak_rss() as rss,
        _kernel_threads(threads),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            report = (
                run(study) if run is not None else run_report(study.osm_file, config=study.config)
            )
            _write_folder(report, Path(out_dir), study)
            result = StudyResult(
                study.name, "ok", row=study_row(report.summary()), outline=_outline(report)
            )
        except Exception as exc:  # a study's failure is data, not the batch's end
            result = StudyResult(study.name, "failed", error=one_line(exc))
    result.seconds = round(time.perf_counter() - t0, 3)
    result.cpu_seconds = round(time.process_time() - cpu0, 3)
    result.rss_before_mb, result.peak_rss_mb = rss
    notes = dict.fromkeys(
        one_line(w.message) for w in caught if issubclass(w.category, UserWarning)
    )
    result.warnings = list(notes)[:_MAX_WARNINGS]
    return result


def one_line(exc: BaseException | Warning | str) -> str:
    """An error message on one line; other than fifteenmin's own, prefixed by its type.

    Examples
    --------
    >>> one_line(KeyError("x"))
    "KeyError: 'x'"
    """
    text = " ".join(str(exc).split())
    if isinstance(exc, BaseException) and not isinstance(exc, FifteenminError | Warning):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text


def study_row(summary: dict[str, Any]) -> dict[str, Any]:
    """A study's values in the merged table, from its ``summary.json`` content.

    ``items_most_missing`` lists ``item:communities missing it``, most missing first;
    ``data_gap_no_facility_in_area`` and ``data_gap_osm_sparse`` list the items that may be
    missing from the map rather than from the area (see ``summary.json``).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> row = study_row(fm.run_report().summary())  # doctest: +SKIP
    >>> row["coverage_rate"]  # doctest: +SKIP
    0.0
    """
    cov = summary["coverage"]
    gaps = cov.get("data_gap_items", {})
    return {
        "catalogue": summary["parameters"]["catalogue"],
        "threshold": cov["threshold"],
        "communities": summary["communities"],
        "communities_all_met": cov["communities_all_met"],
        "coverage_rate": cov["coverage_rate"],
        "coverage_rate_weighted": cov["coverage_rate_weighted"],
        "mean_index": cov["mean_index"],
        "items_most_missing": "; ".join(f"{k}:{v}" for k, v in cov["items_most_missing"].items()),
        "data_gap_no_facility_in_area": "; ".join(gaps.get("no_facility_in_area", [])),
        "data_gap_osm_sparse": "; ".join(gaps.get("osm_sparse", [])),
    }


def _outline(report: Report) -> str | None:
    """Convex hull of the study's communities, as WKT in EPSG:4326 (None without any)."""
    import geopandas as gpd
    import shapely

    com = report.communities
    geoms = com.geometry[~(com.geometry.isna() | com.geometry.is_empty)]
    if len(geoms) == 0:
        return None
    hull = shapely.GeometryCollection(list(geoms)).convex_hull
    wgs = gpd.GeoSeries([hull], crs=com.crs).to_crs("EPSG:4326").iloc[0]
    return str(shapely.to_wkt(wgs, rounding_precision=7))


def temporary_folders(out_dir: Path, name: str | None = None) -> list[Path]:
    """The temporary folders of studies (all, or ``name``'s) left in ``out_dir``."""
    pattern = f".{name}.*" if name is not None else ".*"
    return [
        p for p in out_dir.glob(pattern) if p.is_dir() and (".tmp-" in p.name or ".old-" in p.name)
    ]


def _write_folder(report: Report, out: Path, study: Study) -> None:
    """Write the report into a temporary sibling of ``out/<study>`` and rename it into place."""
    tmp = out / f".{study.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        report.write(tmp, **study.write.report_kwargs())
        replace_folder(tmp, out / study.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(new: Path, final: Path) -> None:
    """Put folder ``new`` in the place of ``final`` (replacing an older ``final``).

    Two renames: the old folder is moved aside, the new one into place, then the old one is
    removed. ``final`` is at every moment either the whole old folder, the whole new one or
    (between the renames) absent, never a mix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "new").mkdir(); (root / "new" / "a.txt").write_text("new")
    3
    >>> replace_folder(root / "new", root / "final"); (root / "final" / "a.txt").read_text()
    'new'
    """
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:12]}")
        os.replace(final, old)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _kernel_threads(threads: int | None) -> Iterator[None]:
    """Run the block's shortest-path kernels with ``threads`` numba threads (None: as is)."""
    if threads is None or not HAVE_NUMBA:
        yield
        return
    import numba

    before = numba.get_num_threads()
    most = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(threads, most)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


@contextlib.contextmanager
def _peak_rss() -> Iterator[list[float | None]]:
    """Sample the process's resident memory while the block runs.

    Yields ``[MB before, peak MB]``, filled in when the block ends: of the whole worker
    process (its imports included), the number that decides how much memory a worker needs;
    None without psutil.
    """
    mb: list[float | None] = [None, None]
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with dask.distributed
        yield mb
        return
    proc = psutil.Process()
    stop = threading.Event()
    before = top = proc.memory_info().rss

    def sample() -> None:
        nonlocal top
        while not stop.wait(_RSS_INTERVAL_S):
            top = max(top, proc.memory_info().rss)

    thread = threading.Thread(target=sample, name="fifteenmin-rss", daemon=True)
    thread.start()
    try:
        yield mb
    finally:
        stop.set()
        thread.join()
        top = max(top, proc.memory_info().rss)
        mb[:] = [round(before / 2**20, 1), round(top / 2**20, 1)]
