"""End-to-end scale benchmark: the whole ``fifteenmin report`` pipeline on synthetic cities.

For each size ``n`` (``bench/city.py``: an n x n street grid, ~1.2 n² network nodes), a fresh
subprocess runs the stages of ``fifteenmin report`` one by one through the public API, as
``src/fifteenmin/pipeline.py`` and ``fifteenmin.output.write_report`` run them:

read (``read_osm``), network (``network_from_file``), facilities (``facilities_from_osm``),
travel times (``travel_times``, entrances included), communities (``communities_from_osm``),
residents (``residents``), origin times (``origin_times``), coverage (``facility_counts`` +
``score_coverage``), opening hours (``opening_hours_coverage``, on by default), isochrones
(``community_walking_areas``, the communities' 15-minute walking areas of the HTML map,
simplified as ``write_report`` does), siting (``plan_missing(k=1)``), html (``render_html``) and
writing (``write_report`` + ``report.html``). Between the opening hours and the isochrones it
lets go what ``run_pipeline`` and the command line let go (the edge tree, the OSM data, the
travel times' arrays: ``fifteenmin.report.for_writing``), so the output stages' memory is the
command line's.

Per stage: wall seconds, CPU seconds (``time.process_time``: numba's threads count, so CPU
can exceed wall) and the peak resident memory (Linux: the peak is reset with
``echo 5 > /proc/self/clear_refs`` before the stage and ``VmHWM`` read after it, so it is the
process's peak *during* the stage, data of earlier stages included). Across sizes, the growth
exponent of each stage: the least-squares slope of log(seconds) on log(network nodes).

Usage::

    python bench/scale.py                                   # n = 125, 250
    python bench/scale.py --sizes 125,250,500 --json scale.json
    python bench/scale.py --sizes 1000 --skip isochrones,siting --timeout-stage 1800
    python bench/scale.py --skip 1000:isochrones,siting     # skipped only at n >= 1000
    python bench/scale.py --report a.json b.json            # tables of saved runs, merged

Cities are written once to ``bench/.cache/city_<n>_s<seed>.osm.pbf`` (gitignored). A stage
that runs longer than ``--timeout-stage`` seconds ends its size (the subprocess is stopped):
the table shows "> T s" for it and nothing for the later stages.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Set
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
STAGES = (
    "read",
    "network",
    "facilities",
    "travel times",
    "communities",
    "residents",
    "origin times",
    "coverage",
    "opening hours",
    "isochrones",
    "siting",
    "html",
    "writing",
)
#: Stages that can be skipped (the later stages then do without their result).
SKIPPABLE = ("opening hours", "isochrones", "siting", "html", "writing")


# ---------------------------------------------------------------------------------------------
# worker: one size, in its own process


def _mem_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> None:
    # not Linux, or not allowed: the peak is then the process's peak so far
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


class Pipeline:
    """The stages of ``fifteenmin report`` on one OSM file, one method each.

    Each stage method reads the results of the earlier ones from the instance, stores its
    own and returns a few facts to report (counts, sizes). :meth:`stages` lists them in order.
    """

    def __init__(self, path: Path, out: Path) -> None:
        import fifteenmin as fm

        self.fm = fm
        self.cfg = fm.RunConfig()
        self.path, self.out = path, out
        self.iso: Any = None
        self.area_texts: list[tuple[str, str]] = []
        self.sites: Any = None
        self.page: str | None = None

    def read(self) -> dict[str, Any]:
        self.cat = self.fm.load_catalogue(self.cfg.catalogue)
        self.data = self.fm.read_osm(self.path, keys=self.cat.osm_keys())
        return dict(self.data.counts)

    def network(self) -> dict[str, Any]:
        self.net = self.fm.network_from_file(self.data, pedestrian_areas=self.cfg.pedestrian_areas)
        return {"nodes": self.net.n_nodes, "edges": self.net.n_edges}

    def facilities(self) -> dict[str, Any]:
        self.fac = self.fm.facilities_from_osm(self.data, self.cat)
        return {"facilities": len(self.fac), "items": int(self.fac["item_id"].nunique())}

    def travel_times(self) -> dict[str, Any]:
        fm, cfg = self.fm, self.cfg
        self.entrances = fm.entrances_from_osm(self.data)
        self.tt = fm.travel_times(
            self.net,
            self.fac,
            self.cat,
            speed=fm.item_speeds(self.cat, cfg.speed, per_item=cfg.item_profiles),
            entrances=self.entrances,
            engine=cfg.engine,
        )
        return {}

    def communities(self) -> dict[str, Any]:
        self.com = self.fm.communities_from_osm(self.data, self.net)
        return {"communities": len(self.com)}

    def residents(self) -> dict[str, Any]:
        self.homes = self.fm.residents(self.com, self.net, self.data)
        return {"origins": len(self.homes)}

    def origin_times(self) -> dict[str, Any]:
        self.minutes, self.nearest = self.fm.origin_times(self.net, self.tt, self.homes)
        return {}

    def coverage(self) -> dict[str, Any]:
        fm, cfg = self.fm, self.cfg
        counts = fm.facility_counts(self.fac, self.cat)
        cov = fm.score_coverage(
            self.com,
            self.homes,
            self.minutes,
            self.cat.items,
            threshold=cfg.threshold,
            facility_counts=dict(zip(counts["item_id"], counts["facilities"], strict=True)),
            category_weights=cfg.category_weights,
            floor_area_per_person=cfg.floor_area_per_person,
            people_per_street_m=cfg.people_per_street_m,
        )
        self.rep = fm.Report(
            network=self.net,
            facilities=self.fac,
            travel=self.tt,
            communities=self.com,
            residents=self.homes,
            origin_minutes=self.minutes,
            coverage=cov,
            catalogue=self.cat,
            config=cfg,
            osm_source=str(self.data.source),
            origin_nearest=self.nearest,
            entrances=self.entrances,
        )
        return {
            "all_met": cov.summary["communities_all_met"],
            "mean_score": cov.summary["mean_score"],
        }

    def opening_hours(self) -> dict[str, Any]:
        # run_pipeline's last stage (on by default: settings.OPENING_HOURS_AT)
        if not self.fm.reference_times(self.cfg.opening_hours_at):
            self._as_the_command_line()
            return {"times": 0}
        hours = self.rep.opening_hours = self.fm.opening_hours_coverage(self.rep)
        self._as_the_command_line()
        return {"times": len(hours.summary["times"])}

    def _as_the_command_line(self) -> None:
        # the end of run_pipeline (the edge tree let go, malloc_trim), then the command
        # line's for_writing: the output stages run without the travel arrays, as there
        from fifteenmin.pipeline import _release_memory
        from fifteenmin.report import for_writing

        self.rep = for_writing(self.rep)
        self.tt = self.data = None
        _release_memory(self.net)

    def isochrones(self) -> dict[str, Any]:
        # as write_report(isochrones="auto"): the map's walking areas; in the city layout
        # computed a chunk at a time and encoded into the walking-area files beside the page
        from fifteenmin.output.html.area_files import area_files
        from fifteenmin.output.html.city import use_city_layout
        from fifteenmin.output.html.city_data import page_community_ids
        from fifteenmin.output.report_files import _area_source, map_walking_areas

        source = _area_source(self.rep, "auto") if use_city_layout(self.rep, "auto") else None
        if source is None:
            self.iso = map_walking_areas(self.rep)
            return {"areas": len(self.iso), "area_files": 0}
        make, simplify_m = source
        ids = page_community_ids(self.rep)
        self.area_texts = list(area_files(make(), ids, simplify_m=simplify_m))
        return {"areas": len(ids), "area_files": len(self.area_texts)}

    def siting(self) -> dict[str, Any]:
        self.sites = self.fm.plan_missing(self.rep, k=1)
        return {"sites": len(self.sites)}

    def html(self) -> dict[str, Any]:
        from fifteenmin.output import render_html

        lang = self.fm.settings.LANG
        folder = self.fm.settings.HTML_AREA_FOLDER if self.area_texts else None
        self.page = render_html(
            self.rep, lang=lang, isochrones=self.iso, sites=self.sites, area_folder=folder
        )
        return {"html_mb": round(len(self.page.encode("utf-8")) / 1e6, 2)}

    def writing(self) -> dict[str, Any]:
        from fifteenmin.output import write_report

        files = write_report(self.rep, self.out, html=False)
        if self.page is not None:
            from fifteenmin.output._files import write_text
            from fifteenmin.output.report_files import readme_text

            (self.out / "report.html").write_bytes(self.page.encode("utf-8"))
            folder = self.out / self.fm.settings.HTML_AREA_FOLDER
            for name, text in self.area_texts:
                folder.mkdir(exist_ok=True)
                (folder / name).write_text(text, encoding="utf-8")
            # README.txt as write_report(html=True) writes it: with its report.html line
            written = {f.name: f for f in files}
            hours = self.rep.opening_hours is not None
            readme = readme_text(True, written, hours, bool(self.area_texts))
            write_text(self.out / "README.txt", readme)
        size = sum(f.stat().st_size for f in self.out.rglob("*") if f.is_file())
        files_n = len(files) + (self.page is not None) + len(self.area_texts)
        return {"files": files_n, "mb": round(size / 1e6, 2)}

    def stages(self, skip: Set[str] = frozenset()) -> list[tuple[str, Callable[[], dict]]]:
        """``(name, method)`` of every stage not in ``skip``, in pipeline order."""
        funcs = [self.read, self.network, self.facilities, self.travel_times, self.communities]
        funcs += [self.residents, self.origin_times, self.coverage, self.opening_hours]
        funcs += [self.isochrones]
        funcs += [self.siting, self.html, self.writing]
        return [(name, f) for name, f in zip(STAGES, funcs, strict=True) if name not in skip]


def worker(path: Path, skip: set[str]) -> None:
    """Run the stages on one city file, one JSON line per stage on stdout."""
    # the script's folder is sys.path[0]: bench/html.py would shadow the standard library's html
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    t0 = time.perf_counter()
    from fifteenmin import _kernel

    _kernel.warmup()
    _say(event="startup", seconds=time.perf_counter() - t0, rss_mb=_mem_kb("VmRSS") / 1024)
    out = Path(tempfile.mkdtemp(prefix="fm-scale-"))
    try:
        for name, func in Pipeline(path, out).stages(skip):
            gc.collect()
            _say(event="start", stage=name)
            _reset_peak()
            w0, c0 = time.perf_counter(), time.process_time()
            info = func()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            peak, rss = _mem_kb("VmHWM") / 1024, _mem_kb("VmRSS") / 1024
            _say(event="end", stage=name, seconds=wall, cpu=cpu, peak_mb=peak, rss_mb=rss, **info)
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# driver


def city_file(n: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The cached city of size ``n`` (written if missing), with its counts."""
    path = CACHE / f"city_{n}_s{seed}.osm.pbf"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        sys.path.insert(0, str(HERE))
        from city import write_city

        counts = write_city(n, path, seed)
        counts["file_mb"] = round(path.stat().st_size / 1e6, 1)
        meta.write_text(json.dumps(counts, indent=1))
    return path, json.loads(meta.read_text())


def _skips(specs: list[str], n: int) -> set[str]:
    """Stages skipped at size n: ``--skip a,b`` (all sizes) or ``--skip 500:a,b`` (n >= 500)."""
    out: set[str] = set()
    for spec in specs:
        at, _, names = spec.rpartition(":")
        if not at or n >= int(at):
            out |= {x.strip() for x in names.split(",") if x.strip()}
    bad = out - set(SKIPPABLE)
    if bad:
        raise SystemExit(f"--skip: {sorted(bad)} cannot be skipped (only {', '.join(SKIPPABLE)})")
    return out


def run_size(n: int, seed: int, skip: set[str], timeout: float) -> dict[str, Any]:
    """Run one size in a fresh subprocess; stop it when a stage exceeds ``timeout`` seconds."""
    path, city = city_file(n, seed)
    res: dict[str, Any] = {"n": n, "seed": seed, "city": city, "stages": {}}
    res["load_before"] = os.getloadavg()
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)]
    cmd += ["--skip", ",".join(sorted(skip))] if skip else []
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    current, started = None, time.perf_counter()
    while True:
        left = timeout - (time.perf_counter() - started) if current else None
        if left is not None and left <= 0:
            proc.kill()
            res["stages"][current] = {"timeout": timeout}
            print(f"  n={n}: {current} > {timeout:g} s, stopped", file=sys.stderr)
            break
        if not sel.select(left):
            continue
        line = proc.stdout.readline()
        if not line:
            break
        ev = json.loads(line)
        if ev["event"] == "startup":
            res["startup_s"] = ev["seconds"]
        elif ev["event"] == "start":
            current, started = ev["stage"], time.perf_counter()
        else:
            res["stages"][ev.pop("stage")] = ev
            current = None
            _progress(n, res["stages"])
    rc = proc.wait()
    if rc and current and current not in res["stages"]:
        res["stages"][current] = {"error": f"exit code {rc}"}
    for name in skip:
        res["stages"].setdefault(name, {"skipped": True})
    res["total_s"] = time.perf_counter() - t0
    res["load_after"] = os.getloadavg()
    return res


def _progress(n: int, stages: dict[str, Any]) -> None:
    name, ev = next(reversed(stages.items()))
    print(
        f"  n={n}: {name:<13} {ev['seconds']:8.2f} s wall {ev['cpu']:8.2f} s CPU "
        f"{ev['peak_mb']:8.0f} MB peak",
        file=sys.stderr,
    )


# ---------------------------------------------------------------------------------------------
# tables


def exponent(nodes: list[float], secs: list[float]) -> float | None:
    """Least-squares slope of log(seconds) on log(nodes) (None with fewer than 2 sizes).

    Examples
    --------
    >>> round(exponent([1e4, 1e5, 1e6], [1.0, 10.0, 100.0]), 3)
    1.0
    """
    if len(nodes) < 2 or len(set(nodes)) < 2:
        return None
    x = np.log(np.asarray(nodes, dtype=float))
    y = np.log(np.maximum(np.asarray(secs, dtype=float), 1e-4))
    return float(np.polyfit(x, y, 1)[0])


def _nodes(r: dict[str, Any]) -> float | None:
    return r["stages"].get("network", {}).get("nodes")


def _cell(ev: dict[str, Any] | None, key: str, fmt: str) -> str:
    if ev is None:
        return "-"
    if "timeout" in ev:
        return f"> {ev['timeout']:g} s" if key != "peak_mb" else "-"
    if "skipped" in ev:
        return "skipped"
    if "error" in ev:
        return "failed"
    return format(ev[key], fmt)


def _stage_table(runs: list[dict[str, Any]], key: str, fmt: str, title: str) -> list[str]:
    sizes = " | ".join(f"n={r['n']}" for r in runs)
    head = f"| stage | {sizes} |"
    fit = key in ("seconds", "cpu")
    lines = [f"**{title}**", "", head + (" exponent |" if fit else "")]
    lines.append("|---" * (len(runs) + 1 + fit) + "|")
    tot = [0.0] * len(runs)
    for st in STAGES:
        evs = [r["stages"].get(st) for r in runs]
        row = f"| {st} | " + " | ".join(_cell(e, key, fmt) for e in evs) + " |"
        ok = [(r, e) for r, e in zip(runs, evs, strict=True) if e and key in e and _nodes(r)]
        if fit:
            ex = exponent([_nodes(r) for r, _ in ok], [e[key] for _, e in ok])  # type: ignore[misc]
            row += f" {ex:.2f} |" if ex is not None else " - |"
            for i, e in enumerate(evs):
                tot[i] += e[key] if e and key in e else 0.0
        lines.append(row)
    if fit:
        part = [any(not _measured(r["stages"].get(st)) for st in STAGES) for r in runs]
        cells = [("≥ " if p else "") + format(t, fmt) for t, p in zip(tot, part, strict=True)]
        lines.append("| **total** | " + " | ".join(cells) + " | |")
    return [*lines, ""]


def _size_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| n | file MB | generate s | network nodes | edges | facilities | communities | "
        "resident origins | startup s | load avg (before / after) |",
        "|---" * 10 + "|",
    ]
    for r in runs:
        st, c = r["stages"], r["city"]

        def get(stage: str, key: str, st: dict[str, Any] = st) -> str:
            v = st.get(stage, {}).get(key)
            return f"{v:,}" if v is not None else "-"

        la, lb = r.get("load_before", [0] * 3), r.get("load_after", [0] * 3)
        lines.append(
            f"| {r['n']} | {c.get('file_mb', 0):.1f} | {c['seconds']:.1f} | "
            f"{get('network', 'nodes')} | {get('network', 'edges')} | "
            f"{get('facilities', 'facilities')} | {get('communities', 'communities')} | "
            f"{get('residents', 'origins')} | {r.get('startup_s', 0):.1f} | "
            f"{la[0]:.1f} / {lb[0]:.1f} |"
        )
    return [*lines, ""]


def _output_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| n | communities meeting every required item | mean score | walking areas | "
        "sites (k=1) | report.html MB | all files MB |",
        "|---" * 7 + "|",
    ]
    for r in runs:
        st = r["stages"]

        def get(stage: str, key: str, fmt: str = ",", st: dict[str, Any] = st) -> str:
            v = st.get(stage, {}).get(key)
            return format(v, fmt) if v is not None else "-"

        lines.append(
            f"| {r['n']} | {get('coverage', 'all_met')} | {get('coverage', 'mean_score', '.3f')} | "
            f"{get('isochrones', 'areas')} | {get('siting', 'sites')} | "
            f"{get('html', 'html_mb', ',.1f')} | {get('writing', 'mb', ',.1f')} |"
        )
    return [*lines, ""]


def _measured(ev: dict[str, Any] | None) -> bool:
    return ev is not None and "seconds" in ev


def merge(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run per size, sizes ascending; a stage measured in a later run of the same size
    fills in one the earlier runs skipped, stopped or did not reach."""
    by_n: dict[int, dict[str, Any]] = {}
    for r in runs:
        have = by_n.setdefault(r["n"], {**r, "stages": dict(r["stages"])})
        if have is r or have["stages"] is r["stages"]:
            continue
        for name, ev in r["stages"].items():
            if not _measured(have["stages"].get(name)) and (_measured(ev) or name not in have):
                have["stages"][name] = ev
    return [by_n[n] for n in sorted(by_n)]


def tables(runs: list[dict[str, Any]]) -> str:
    """The markdown tables of a set of runs (merged per size, sizes ascending)."""
    runs = merge(runs)
    out = _size_table(runs)
    out += _stage_table(runs, "seconds", ".2f", "Wall seconds per stage")
    out += _stage_table(runs, "cpu", ".2f", "CPU seconds per stage")
    out += _stage_table(runs, "peak_mb", ",.0f", "Peak RSS during the stage, MB")
    out += _output_table(runs)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="125,250", help="city sizes n (streets per direction)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip", action="append", default=[], help="[MIN_N:]stage,stage")
    ap.add_argument("--timeout-stage", type=float, default=3600.0, help="seconds per stage")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--report", nargs="+", help="print the tables of saved --json files")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(Path(args.worker), _skips(args.skip, 0))
        return
    if args.report:
        runs = [r for f in args.report for r in json.loads(Path(f).read_text())["runs"]]
        print(tables(runs))
        return
    runs = []
    for n in (int(v) for v in args.sizes.split(",")):
        print(f"n={n}", file=sys.stderr)
        runs.append(run_size(n, args.seed, _skips(args.skip, n), args.timeout_stage))
        if args.json:
            doc = {"date": time.strftime("%Y-%m-%d %H:%M"), "argv": sys.argv[1:], "runs": runs}
            Path(args.json).write_text(json.dumps(doc, indent=1))
    print(tables(runs))


if __name__ == "__main__":
    main()
