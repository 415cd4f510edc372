"""Command line: ``fifteenmin report``, ``fifteenmin catalogue``.

Errors that fifteenmin raises on purpose (bad input, unwritable output) are printed as one
line, ``fifteenmin: error: ...``, with exit status 2; nothing is half-written.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ._errors import FifteenminError
from ._version import __version__

__all__ = ["main"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _share(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fifteenmin",
        description="15-minute-city walkability: which communities reach which basic services "
        "within a 15-minute walk. Map data © OpenStreetMap contributors (ODbL).",
    )
    p.add_argument("--version", action="version", version=f"fifteenmin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "report",
        help="coverage report of an OSM file (default: the bundled sample)",
        description="Compute walking times to every catalogue item and score each community; "
        "write summary.json, coverage.csv, communities.gpkg and facilities.gpkg.",
    )
    r.add_argument(
        "osm_file", nargs="?", help=".osm, .osm.bz2 or .osm.pbf file (default: bundled sample)"
    )
    r.add_argument(
        "--communities", help="community polygons (GeoJSON, GeoPackage, Shapefile; any CRS)"
    )
    r.add_argument("--id-column", help="column of the community file holding unique ids")
    r.add_argument("--name-column", help="column of the community file holding names")
    r.add_argument(
        "--catalogue", default="beijing", help="catalogue name or file (default: beijing)"
    )
    r.add_argument(
        "--speed", type=_positive_float, default=None, help="walking speed in m/s (default 1.11)"
    )
    r.add_argument(
        "--threshold",
        type=_share,
        default=0.8,
        help="share of residents within the tier for an item to be met (default 0.8)",
    )
    r.add_argument(
        "--engine", choices=["auto", "numba", "scipy"], default="auto", help="shortest-path engine"
    )
    r.add_argument(
        "--out", default="fifteenmin-report", help="output folder (default: ./fifteenmin-report)"
    )
    r.add_argument("-q", "--quiet", action="store_true", help="no progress messages")

    c = sub.add_parser("catalogue", help="list, show or validate service catalogues")
    csub = c.add_subparsers(dest="action", required=True)
    csub.add_parser("list", help="bundled catalogues")
    show = csub.add_parser("show", help="print a catalogue (items, tiers, OSM tags, sources)")
    show.add_argument("name", help="catalogue name or file")
    show.add_argument("--lang", choices=["zh", "en"], default="en")
    val = csub.add_parser("validate", help="check a catalogue file")
    val.add_argument("file")
    return p


def _cmd_report(args: argparse.Namespace) -> int:
    from .network import DEFAULT_SPEED_M_S
    from .report import prepare_output_dir, run_report

    say = (
        (lambda _m: None)
        if args.quiet
        else (lambda m: print(f"[fifteenmin] {m}", file=sys.stderr, flush=True))
    )
    # fail fast on an unwritable output folder, before the long steps
    prepare_output_dir(args.out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = run_report(
            args.osm_file,
            communities=args.communities,
            id_column=args.id_column,
            name_column=args.name_column,
            catalogue=args.catalogue,
            speed=args.speed if args.speed is not None else DEFAULT_SPEED_M_S,
            threshold=args.threshold,
            engine=args.engine,
            progress=say,
        )
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"[fifteenmin] warning: {w.message}", file=sys.stderr)
    files = report.write(args.out)
    say("wrote " + ", ".join(str(f) for f in files))
    return 0


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from .catalogue import available_catalogues, format_catalogue, load_catalogue

    if args.action == "list":
        for name in available_catalogues():
            cat = load_catalogue(name)
            n_map = len(cat.items)
            print(f"{name:10s} {n_map:3d} items  {cat.title_en} / {cat.title_zh}")
        return 0
    if args.action == "show":
        print(format_catalogue(load_catalogue(args.name), lang=args.lang))
        return 0
    cat = load_catalogue(args.file)
    print(
        f"{args.file}: valid catalogue '{cat.name}' with {len(cat)} items "
        f"({len(cat.required_items)} required)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Examples
    --------
    >>> main(["catalogue", "list"])  # doctest: +SKIP
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return _cmd_report(args)
        return _cmd_catalogue(args)
    except FifteenminError as exc:
        print(f"fifteenmin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fifteenmin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
