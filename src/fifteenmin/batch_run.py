"""Many studies on Dask: :func:`batch` (``fifteenmin batch``).

One Dask task per study (:func:`fifteenmin.batch_task.run_study`), on a local cluster (one
single-threaded worker process per core) or on an existing ``dask.distributed`` cluster
through its scheduler's address. The client keeps a manifest (``OUT/manifest.json``: every
study's status, the fingerprint of its inputs and options, its time and memory) that it
rewrites after every finished study, so a rerun skips the studies already done: a batch
stopped by a crash or Ctrl-C resumes where it stopped. When every task has ended, the merged
table (``studies.csv`` and ``studies.gpkg``, one row per study) is written atomically.

Dask is an optional dependency (``pip install 'fifteenmin[batch]'``), imported only when a
batch runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import settings
from ._dask import THREADS_PER_WORKER as _THREADS_PER_WORKER
from ._dask import dask_client as _client
from ._errors import ConfigError
from ._progress import bar, logger
from ._version import __version__
from .batch_studies import Study, WriteOptions, read_studies
from .batch_task import StudyResult, one_line, run_study, temporary_folders
from .config import RunConfig
from .coverage import share_text
from .output import output_folder
from .output._files import (
    commit,
    discard,
    stage_file,
    write_atomic,
    write_csv,
    write_gpkg,
    write_text,
)
from .output._files import write_json as _write_json
from .tiles import tiled_study_report

__all__ = ["MANIFEST", "MERGED_COLUMNS", "Manifest", "batch"]

#: The manifest of a batch's output folder.
MANIFEST = "manifest.json"
#: The columns of the merged table, after ``study`` and the table's descriptive columns.
MERGED_COLUMNS = (
    "status",
    "error",
    "osm_file",
    "catalogue",
    "threshold",
    "communities",
    "communities_all_met",
    "coverage_rate",
    "coverage_rate_weighted",
    "mean_index",
    "items_most_missing",
    "data_gap_no_facility_in_area",
    "data_gap_osm_sparse",
)
_INTEGER_COLUMNS = ("communities", "communities_all_met")
_KILLED = (
    "the Dask worker running this study died (out of memory, or stopped) before it finished; "
    "run the batch again to retry it"
)


def batch(
    studies: str | os.PathLike[str] | pd.DataFrame | Sequence[Mapping[str, Any]],
    out_dir: str | os.PathLike[str],
    *,
    config: RunConfig | None = None,
    html: bool = True,
    lang: str = settings.LANG,
    isochrones: bool = True,
    sites: bool = True,
    scheduler: Any = None,
    workers: int | None = None,
    threads: int | None = None,
    tiles: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Coverage reports of many studies, one Dask task per study, and their merged table.

    Parameters
    ----------
    studies
        The studies table: a ``.csv``, ``.yaml`` or ``.toml`` file, a DataFrame or a list of
        mappings, with one row per study (``study``, ``osm_file`` and any option; see
        :mod:`fifteenmin.batch_studies`).
    out_dir
        The output folder: ``OUT/<study>/`` holds what ``fifteenmin report`` writes for the
        study; ``studies.csv`` and ``studies.gpkg`` the merged table; ``manifest.json`` what
        a rerun needs to skip the finished studies.
    config
        Run options of every study (a row's options override them).
    html, lang, isochrones, sites
        Report options of every study (:meth:`fifteenmin.Report.write`; ``isochrones`` and
        ``sites`` True draw the automatic walking areas and sites).
    scheduler
        None (default): a local cluster; the address of a running Dask scheduler
        (``tcp://host:8786``); or a ``distributed.Client`` or cluster object.
    workers
        Worker processes of the local cluster (default: one per core).
    threads
        Threads of the shortest-path kernels of each study (default: 1 on the local cluster,
        which runs one study per core; numba's default, one per core, on a given cluster).
    tiles
        Cut every study's area into this many tiles (:func:`fifteenmin.run_tiled`), routed
        as tasks of the same cluster; a ``tiles`` column sets it per study. None: one task
        per study.
    **options
        Fields of :class:`~fifteenmin.config.RunConfig` that override ``config``.

    Returns
    -------
    pandas.DataFrame
        The merged table, one row per study in the table's order: ``study``, the table's
        descriptive columns, then ``status`` (``ok`` or ``failed``), ``error`` (one line),
        ``osm_file``, ``catalogue``, ``threshold``, ``communities``, ``communities_all_met``,
        ``coverage_rate``, ``coverage_rate_weighted``, ``mean_index``,
        ``items_most_missing`` and the data-gap items; as written to ``studies.csv``.

    Raises
    ------
    ConfigError
        The studies table is invalid (before any study runs).
    OutputError
        The output folder cannot be written.
    FifteenminError
        Dask is not installed, or the scheduler cannot be reached.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> table = fm.batch("studies.csv", "national", html=False)  # doctest: +SKIP
    >>> table[["study", "status", "coverage_rate"]]  # doctest: +SKIP
    """
    base = (config or RunConfig()).replace(**options) if options else (config or RunConfig())
    write = WriteOptions(html=html, lang=lang, isochrones=isochrones, sites=sites, tiles=tiles)
    table = read_studies(studies, config=base, write=write)
    clash = sorted({k for s in table for k in s.labels} & {"study", *MERGED_COLUMNS})
    if clash:
        raise ConfigError(
            f"studies table: column(s) {', '.join(clash)} would clash with the merged table's "
            "own columns; rename them"
        )
    if scheduler is not None and workers is not None:
        raise ConfigError(
            "workers sets the size of the local cluster; a cluster given by its scheduler "
            "has its own workers"
        )
    with output_folder(out_dir) as out:  # a folder this call created goes if nothing runs
        manifest = Manifest(out / MANIFEST)
        _remove_temporary(out)
        # the inputs' fingerprints before any study runs: a file changed during the batch
        # makes its study run again next time
        prints = {s.name: s.fingerprint() for s in table}
        todo = [s for s in table if not manifest.done(s.name, prints[s.name], out)]
        n_done = len(table) - len(todo)
        logger.info(f"{len(table)} studies: {n_done} already done, {len(todo)} to run")
        if todo:
            with _client(scheduler, workers, sum(s.write.tiles or 1 for s in todo)) as client:
                if threads is None and scheduler is None:
                    threads = _THREADS_PER_WORKER
                for study, result in _run(client, todo, out, threads):
                    manifest.record(study.name, prints[study.name], result)
                    _log(result)
        _remove_temporary(out)
        merged, outlines = merged_table(table, manifest)
        _write_merged(out, merged, outlines)
    return merged


class Manifest:
    """``OUT/manifest.json``: every study's status, fingerprint, time and memory.

    A study is done when its entry says ``ok``, its fingerprint
    (:meth:`~fifteenmin.batch_studies.Study.fingerprint`) equals the study's now, and its
    folder holds a ``summary.json``. A manifest that cannot be read counts as empty (the
    studies run again).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = Manifest(pathlib.Path(tempfile.mkdtemp()) / "manifest.json")
    >>> m.entries
    {}
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                self.entries = dict(doc["studies"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning(
                    f"warning: {path} cannot be read ({one_line(exc)}); every study runs"
                )

    def done(self, study: str, fingerprint: str, out: Path) -> bool:
        """Whether ``study`` finished with the inputs and options of ``fingerprint``."""
        entry = self.entries.get(study, {})
        return (
            entry.get("status") == "ok"
            and entry.get("fingerprint") == fingerprint
            and (out / study / "summary.json").is_file()
        )

    def record(self, study: str, fingerprint: str, result: StudyResult) -> None:
        """Record a finished study and rewrite the manifest (atomically)."""
        self.entries[study] = {
            "status": result.status,
            "error": result.error,
            "fingerprint": fingerprint,
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": result.seconds,
            "cpu_seconds": result.cpu_seconds,
            "rss_before_mb": result.rss_before_mb,
            "peak_rss_mb": result.peak_rss_mb,
            "warnings": result.warnings,
            "row": result.row,
            "outline": result.outline,
        }
        doc = {"fifteenmin_version": __version__, "studies": self.entries}
        write_atomic(self.path, lambda p: _write_json(p, doc))


def merged_table(
    studies: Sequence[Study], manifest: Manifest
) -> tuple[pd.DataFrame, list[str | None]]:
    """The merged table of ``studies`` from the manifest, and the outlines (WKT) of the rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from fifteenmin.batch_studies import read_studies
    >>> m = Manifest(pathlib.Path(tempfile.mkdtemp()) / "manifest.json")
    >>> df, _ = merged_table(read_studies([{"study": "a", "osm_file": "a.pbf"}]), m)
    >>> df.loc[0, "status"]
    'failed'
    """
    labels = list(dict.fromkeys(k for s in studies for k in s.labels))
    rows, outlines = [], []
    for s in studies:
        entry = manifest.entries.get(s.name, {})
        status = entry.get("status", "failed")
        error = entry.get("error") if "status" in entry else "not run"
        row = (entry.get("row") or {}) if status == "ok" else {}
        rows.append(
            {
                "study": s.name,
                **{k: s.labels.get(k) for k in labels},
                "status": status,
                "error": error,
                "osm_file": s.source,
                **row,
            }
        )
        outlines.append(entry.get("outline") if status == "ok" else None)
    df = pd.DataFrame(rows, columns=["study", *labels, *MERGED_COLUMNS])
    for col in _INTEGER_COLUMNS:
        df[col] = df[col].astype("Int64")
    return df, outlines


def _write_merged(out: Path, merged: pd.DataFrame, outlines: list[str | None]) -> None:
    """Write ``studies.csv``, ``studies.gpkg`` and ``README.txt`` together (staged, renamed)."""
    import geopandas as gpd
    import shapely

    geoms = [shapely.from_wkt(w) if w else None for w in outlines]
    gdf = gpd.GeoDataFrame(merged, geometry=geoms, crs="EPSG:4326")
    staged: list[tuple[Path, Path]] = []
    try:
        staged.append(stage_file(out, "studies.csv", lambda p: write_csv(p, merged, None)))
        staged.append(stage_file(out, "studies.gpkg", lambda p: write_gpkg(p, gdf, "studies")))
        staged.append(stage_file(out, "README.txt", lambda p: write_text(p, readme_text())))
    except BaseException:
        discard(staged)
        raise
    commit(staged)


def readme_text() -> str:
    """The README.txt of a batch's output folder: what each file holds, and the data licence.

    Examples
    --------
    >>> readme_text().splitlines()[0]
    'fifteenmin 0.1.0 batch of coverage reports'
    """
    lines = [
        f"fifteenmin {__version__} batch of coverage reports",
        "",
        *settings.LICENCE_TEXT,
        "",
        "Files:",
        "  <study>/       each study's coverage report (what `fifteenmin report` writes)",
        "  studies.csv    one row per study: status, error, coverage rates, most-missing items,",
        "                 data gaps (UTF-8 with BOM; header on line 1)",
        "  studies.gpkg   the same, with each study area's outline (EPSG:4326)",
        "  manifest.json  each study's status, input fingerprint, time and memory: a rerun",
        "                 skips the studies already done",
    ]
    return "\n".join([*lines, ""])


def _remove_temporary(out: Path) -> None:
    """Remove study folders left half-written by a killed task or an interrupted batch."""
    import shutil

    for p in temporary_folders(out):
        shutil.rmtree(p, ignore_errors=True)


def _log(result: StudyResult) -> None:
    if result.status == "ok":
        rate = share_text(result.row.get("coverage_rate"))
        logger.info(
            f"{result.study}: ok, {result.row.get('communities')} communities, coverage rate "
            f"{rate} ({result.seconds:.1f} s)"
        )
    else:
        logger.warning(f"{result.study}: failed: {result.error}")
    for w in result.warnings:
        logger.debug(f"{result.study}: warning: {w}")


def _size(source: Any) -> int:
    """Size of an OSM file in bytes (0 for an online area or a missing file)."""
    try:
        return os.stat(source).st_size if isinstance(source, str) else 0
    except OSError:
        return 0


def _run(
    client: Any, todo: Sequence[Study], out: Path, threads: int | None
) -> Iterator[tuple[Study, StudyResult]]:
    """Submit one task per study; yield each study with its result as it finishes.

    The largest OSM files start first (their size stands for the work): with the longest
    tasks first, the batch ends soon after its largest study. ``threads``: the kernels'
    threads per study (see :func:`~fifteenmin.batch_task.run_study`).

    A task that dies with its worker (``KilledWorker``) or is cancelled counts as failed.
    Leaving early (Ctrl-C) cancels the tasks not yet finished.
    """
    from distributed import KilledWorker, as_completed

    run_id = secrets.token_hex(4)
    futures = {
        client.submit(
            run_study,
            s,
            str(out),
            threads,
            tiled_study_report if s.write.tiles is not None else None,
            key=f"fifteenmin-{run_id}-{k}",
            pure=False,
            priority=_size(s.osm_file),
        ): s
        for k, s in enumerate(todo)
    }
    try:
        for fut in bar(as_completed(futures), "studies", total=len(futures), unit="study"):
            study = futures[fut]
            try:
                result = fut.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except KilledWorker:
                result = StudyResult(study.name, "failed", error=_KILLED)
            except BaseException as exc:  # CancelledError is a BaseException
                result = StudyResult(study.name, "failed", error=one_line(exc))
            yield study, result
    finally:
        client.cancel(list(futures))
