"""The HTML report at city scale: rendering cost in Python, and the page in headless Chromium.

Two commands:

``render``
    Runs the pipeline on a synthetic city (``bench/.cache/city_<n>_s0.osm.pbf``, made by
    ``bench/city.py``), optionally the communities' walking areas and the siting, then times
    ``render_html`` alone: wall and CPU seconds (``time.process_time``) and the peak resident
    memory during the render (Linux ``VmHWM`` after ``echo 5 > /proc/self/clear_refs``), and
    writes the page. ``--cache FILE`` pickles the run's results (and walking areas, sites) the
    first time and reads them afterwards, so that several layouts or code versions can be
    rendered from the same results; ``--src DIR`` renders with another checkout's sources
    (the "before" code).

``browse``
    Opens a page in Debian's Chromium (playwright, ``executable_path=/usr/bin/chromium``;
    never ``playwright install``), offline (every request but ``file:``/``data:`` aborted), a
    fresh browser per repetition, and measures:

    * page weight (bytes of the file, and of the walking-area files beside it) and DOM
      nodes after load;
    * **load**: navigation start to the load event, and to the first paint of the map after
      it (the next animation frame once Leaflet's overlay pane has a canvas or paths);
    * **open one community**: the city layout: type a community's name in the table search,
      click its row, until its details are in the DOM (the next animation frame), and until
      its walking area is drawn (embedded, or loaded from its file in ``report_files/``, the
      file's load included); the full layout: jump to the community's anchor (opens its
      pre-rendered ``<details>``);
    * **layer toggles** (after a community is opened: its walking area is on the map):
      every overlay of the layer control off and on again, one by one; the longest task the
      browser reports (``PerformanceObserver`` ``longtask``: tasks over 50 ms) and the
      longest toggle (click to the next animation frame), overall and per layer;
    * the JavaScript heap after load (``performance.memory``).

Usage::

    python bench/html.py render 125 --isochrones --sites --cache /tmp/r125.pkl --out /tmp/h125
    python bench/html.py render 125 --cache /tmp/r125.pkl --layout full --out /tmp/h125full
    python bench/html.py render 125 --cache /tmp/r125.pkl --src ../main/src --out /tmp/before
    python bench/html.py browse /tmp/h125/report.html --repeat 3 --json b125.json

Cities of n >= 500 take minutes and gigabytes: run them under ``flock /work/bigrun.lock``
on a shared machine. Results: bench/SCALE.md, section "The HTML report".
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is called html.py: keep its folder off the path, so that ``import html`` finds
# the standard library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
CHROMIUM = os.environ.get("FIFTEENMIN_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def _mem_kb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def _results(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The run's results, walking areas and sites (from the cache when it exists)."""
    if args.cache and Path(args.cache).is_file():
        with open(args.cache, "rb") as f:
            return pickle.load(f)
    from fifteenmin import run_report
    from fifteenmin.siting import plan_missing

    city = CACHE / f"city_{args.n}_s0.osm.pbf"
    if not city.is_file():
        subprocess.run(
            [sys.executable, str(HERE / "city.py"), str(args.n), "--out", str(city)], check=True
        )
    t = time.perf_counter()
    rep = run_report(city)
    print(f"pipeline {time.perf_counter() - t:.1f} s", file=sys.stderr)
    iso = rep.community_isochrones() if args.isochrones else None
    sites = plan_missing(rep, k=1) if args.sites else None
    if args.cache:
        with open(args.cache, "wb") as f:
            pickle.dump((rep, iso, sites), f, protocol=5)
    return rep, iso, sites


def cmd_render(args: argparse.Namespace) -> dict[str, Any]:
    """Time ``render_html`` on one city; write the page to ``args.out/report.html``."""
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    from fifteenmin.output.html import render_html

    rep, iso, sites = _results(args)
    kwargs: dict[str, Any] = {"isochrones": iso, "sites": sites, "lang": args.lang}
    if args.layout:
        kwargs["layout"] = args.layout
    Path("/proc/self/clear_refs").write_text("5")
    wall, cpu = time.perf_counter(), time.process_time()
    page = render_html(rep, **kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(page, encoding="utf-8")
    return {
        "n": args.n,
        "communities": len(rep.coverage.communities),
        "walking_areas": iso is not None,
        "layout": args.layout or "default",
        "src": args.src or "src",
        "render_wall_s": round(wall, 2),
        "render_cpu_s": round(cpu, 2),
        "render_peak_mb": round(_mem_kb("VmHWM") / 1024, 0),
        "page_mb": round(len(page.encode("utf-8")) / 1e6, 2),
        "uptime": os.popen("uptime").read().strip(),
    }


# --- the browser ----------------------------------------------------------------------------

OBSERVE_JS = """
window.__fmLong = [];
new PerformanceObserver(l => l.getEntries().forEach(e => window.__fmLong.push(e.duration)))
    .observe({type: "longtask", buffered: true});
"""

PAINT_JS = """() => new Promise(resolve => {
    const t0 = performance.getEntriesByType("navigation")[0];
    const drawn = () => document.querySelector(
        ".leaflet-fm-com-pane canvas, .leaflet-overlay-pane canvas, .leaflet-overlay-pane path");
    const marks = () => Object.fromEntries(performance.getEntriesByType("mark")
        .map(m => [m.name, Math.round(m.startTime)]));
    const done = () => requestAnimationFrame(() => resolve({
        load: t0.loadEventEnd, paint: performance.now(), marks: marks(),
        parsed: t0.domInteractive,
        dom: document.getElementsByTagName("*").length,
        heap: performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null,
        city: !!document.getElementById("fm-table"),
    }));
    const wait = () => drawn() ? done() : setTimeout(wait, 10);
    wait();
})"""

OPEN_JS = """(name) => new Promise(resolve => {
    const t = performance.now();
    const box = document.getElementById("fm-search");
    box.value = name;
    box.dispatchEvent(new Event("input"));
    const row = document.querySelector("#fm-table tbody tr");
    row.querySelector("a").click();
    const detail = document.getElementById("fm-detail");
    let ms = null;
    // the details, then the walking area: drawn at once when embedded, after its file
    // (report_files/areas-K.js) is loaded when it is beside the page
    const poll = () => {
        if (ms === null) { ms = performance.now() - t; }
        const area = document.querySelector("path.fm-area, .fm-area-missing");
        if (area || performance.now() - t > 30000) {
            requestAnimationFrame(() => setTimeout(() => resolve({
                ms, areaMs: area ? performance.now() - t : null,
                drawn: !!document.querySelector("path.fm-area"),
                missing: !!document.querySelector(".fm-area-missing"),
                files: Array.from(document.querySelectorAll("script[src]"))
                    .map(s => s.getAttribute("src")),
                detail: detail.innerText.length,
            }), 0));
        } else { setTimeout(poll, 5); }
    };
    requestAnimationFrame(() => setTimeout(poll, 0));
})"""

OPEN_FULL_JS = """() => new Promise(resolve => {
    const t = performance.now();
    const el = document.querySelector("details.fm-community");
    location.hash = "#" + el.id;
    requestAnimationFrame(() => setTimeout(() => resolve({
        ms: performance.now() - t, detail: el.open ? el.innerText.length : 0,
    }), 0));
})"""

TOGGLE_JS = """() => new Promise(async resolve => {
    const boxes = Array.from(document.querySelectorAll(
        ".leaflet-control-layers-overlays input[type=checkbox]"));
    const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    window.__fmLong = [];
    const times = [], byLayer = {};
    for (const box of boxes) {
        const name = box.parentElement.textContent.trim();
        for (let k = 0; k < 2; k++) {
            const t = performance.now();
            box.click();
            await frame();
            times.push(performance.now() - t);
            byLayer[name] = Math.max(byLayer[name] || 0, Math.round(performance.now() - t));
        }
    }
    await new Promise(r => setTimeout(r, 200));
    resolve({n: boxes.length, maxToggleMs: Math.max(0, ...times), byLayer,
             longTasks: window.__fmLong.length, maxLongTaskMs: Math.max(0, ...window.__fmLong)});
})"""


def _browse_once(page_path: Path, viewport: tuple[int, int]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            ctx.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.add_init_script(OBSERVE_JS)
            page.goto(page_path.as_uri(), wait_until="load", timeout=600_000)
            facts = page.evaluate(PAINT_JS)
            if facts["city"]:
                name = page.evaluate(
                    "() => { const d = JSON.parse(document.getElementById('fm-data')"
                    ".textContent).com.cols; const i = Math.floor(d.id.length / 2);"
                    " return d.name[i] || d.id[i]; }"
                )
                opened = page.evaluate(OPEN_JS, name)
            else:
                opened = page.evaluate(OPEN_FULL_JS)
            toggles = page.evaluate(TOGGLE_JS)
        finally:
            browser.close()
    return {**facts, "open": opened, "toggles": toggles, "errors": errors}


def cmd_browse(args: argparse.Namespace) -> dict[str, Any]:
    """Median of ``args.repeat`` fresh browsers opening the page."""
    path = Path(args.page).resolve()
    runs = [_browse_once(path, (args.width, args.height)) for _ in range(args.repeat)]

    def med(f: Any) -> float:
        return round(statistics.median(f(r) for r in runs), 1)

    sidecars = sorted((path.parent / "report_files").glob("areas-*.js"))
    return {
        "page": str(path),
        "page_mb": round(path.stat().st_size / 1e6, 2),
        "area_files": len(sidecars),
        "area_files_mb": round(sum(f.stat().st_size for f in sidecars) / 1e6, 2),
        "largest_area_file_mb": round(
            max((f.stat().st_size for f in sidecars), default=0) / 1e6, 2
        ),
        "viewport": [args.width, args.height],
        "repeat": args.repeat,
        "dom_nodes": runs[0]["dom"],
        "heap_mb": med(lambda r: r["heap"] or 0),
        "html_parsed_ms": med(lambda r: r["parsed"]),
        "load_ms": med(lambda r: r["load"]),
        "script_marks_ms": runs[0]["marks"],
        "load_and_map_ms": med(lambda r: r["paint"]),
        "open_community_ms": med(lambda r: r["open"]["ms"]),
        "open_with_area_ms": med(lambda r: r["open"].get("areaMs") or 0),
        "area_drawn": runs[0]["open"].get("drawn"),
        "area_files_loaded": runs[0]["open"].get("files"),
        "detail_chars": runs[0]["open"]["detail"],
        "toggled_layers": runs[0]["toggles"]["n"],
        "max_toggle_ms": med(lambda r: r["toggles"]["maxToggleMs"]),
        "max_long_task_ms": med(lambda r: r["toggles"]["maxLongTaskMs"]),
        "long_tasks": med(lambda r: r["toggles"]["longTasks"]),
        "toggle_ms_by_layer": {
            k: med(lambda r, k=k: r["toggles"]["byLayer"].get(k, 0))
            for k in runs[0]["toggles"]["byLayer"]
        },
        "errors": sorted({e for r in runs for e in r["errors"]}),
        "uptime": os.popen("uptime").read().strip(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render", help="time render_html on a synthetic city")
    r.add_argument("n", type=int)
    r.add_argument("--out", required=True)
    r.add_argument("--cache", help="pickle of the results (written once, then read)")
    r.add_argument("--isochrones", action="store_true", help="the communities' walking areas")
    r.add_argument("--sites", action="store_true", help="plan_missing(k=1)")
    r.add_argument("--layout", choices=("auto", "full", "city"))
    r.add_argument("--lang", default="en")
    r.add_argument("--src", help="import fifteenmin from this folder (another checkout)")
    b = sub.add_parser("browse", help="measure a page in headless Chromium")
    b.add_argument("page")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--width", type=int, default=1280)
    b.add_argument("--height", type=int, default=900)
    for p in (r, b):
        p.add_argument("--json", help="append the result to this JSON-lines file")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    result = cmd_render(args) if args.cmd == "render" else cmd_browse(args)
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
