"""The layout rules of docs/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

import fifteenmin as fm

SRC = Path(fm.__file__).resolve().parent

#: Layers from the bottom up; a module may import only from its own layer or below.
LAYERS: list[set[str]] = [
    {"_version", "_errors", "settings"},
    {"config", "_kernel", "_kernel_jit", "_coords", "_geom", "_i18n", "_progress", "_maps"}
    | {"_snap", "_contour"},
    {"_osm", "_pbf", "readers", "online", "validate"},
    {"network"},
    {"catalogue"},
    {"facilities", "poi"},
    {"routing"},
    {"communities"},
    {"coverage"},
    {"isochrones", "directory", "siting", "hours"},
    {"pipeline"},
    {
        "output",
        "report",
        "compare",
        "batch_studies",
        "batch_task",
        "batch_run",
        "_dask",
        "tiles",
        "_tile_area",
    },
    {"cli", "__main__", "__init__"},
]

MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).with_suffix("")
        out[".".join(rel.parts)] = p
    return out


def _top(name: str) -> str:
    """Top-level module of a dotted module name inside the package ('catalogue.model' → ...)."""
    return name.split(".")[0]


def _layer(name: str) -> int:
    top = _top(name)
    for k, layer in enumerate(LAYERS):
        if top in layer:
            return k
    raise AssertionError(f"module {name} is in no layer of docs/architecture.md")


def _imports(name: str, path: Path) -> set[str]:
    """Package-internal modules imported at run time (TYPE_CHECKING blocks excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                typing_only.update(id(n) for n in ast.walk(sub))
    pkg = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        pkg = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                mod = [*base, *(node.module.split(".") if node.module else [])]
                if node.module is None:
                    found.update(".".join([*mod, a.name]) for a in node.names)
                else:
                    found.add(".".join(mod))
            elif node.module and node.module.startswith("fifteenmin."):
                found.add(node.module.removeprefix("fifteenmin."))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("fifteenmin."):
                    found.add(a.name.removeprefix("fifteenmin."))
    mods = _modules()
    return {m for m in found if m in mods or m.split(".")[0] in {_top(k) for k in mods}}


def test_every_module_is_in_a_layer():
    for name in _modules():
        _layer(name)


def test_imports_point_down_the_pipeline():
    bad = []
    for name, path in _modules().items():
        for dep in _imports(name, path):
            if _layer(dep) > _layer(name):
                bad.append(f"{name} imports {dep}")
    assert not bad, "imports against the pipeline order:\n" + "\n".join(bad)


def test_no_import_cycles():
    mods = _modules()
    graph = {n: {d for d in _imports(n, p) if d in mods and d != n} for n, p in mods.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(graph[n]):
            if state.get(d) == 1:
                cycle = [*stack[stack.index(d) :], d]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)


def _function_lengths():
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                first = body[0]
                if (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                    and len(body) > 1
                ):
                    first = body[1]
                yield name, node.name, node.end_lineno - first.lineno + 1


def test_no_function_body_over_the_limit():
    long = [f"{m}.{f}: {n} lines" for m, f, n in _function_lengths() if n > MAX_FUNCTION_LINES]
    assert not long, f"function bodies over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


@pytest.mark.parametrize(
    "module",
    ["isochrones", "routing", "coverage", "network", "siting", "catalogue", "report", "settings"],
)
def test_modules_are_not_shadowed(module):
    mod = importlib.import_module(f"fifteenmin.{module}")
    assert isinstance(getattr(fm, module, mod), types.ModuleType)
    assert getattr(fm, module, mod) is mod


def test_public_names_are_exported_types():
    for name in fm.__all__:
        assert hasattr(fm, name), name
    # what the public functions return can be named from the package root
    for cls in ("OSMData", "Results", "Report", "RunConfig", "WalkNetwork", "TravelTimes"):
        assert cls in fm.__all__


def test_defaults_are_defined_only_in_settings():
    """No module but settings assigns the names of the defaults at module level."""
    names = {
        n
        for n in vars(fm.settings)
        if n.isupper() and not n.startswith("_") and n not in {"LANGS", "ENGINES"}
    }
    old = {"DEFAULT_SPEED_M_S", "DEFAULT_THRESHOLD", "DEFAULT_MAX_SNAP_M", "DEFAULT_BUFFER_M"}
    for name, path in _modules().items():
        if name == "settings":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            clash = set(targets) & (names | old)
            assert not clash, f"{name} defines {clash}: defaults belong in fifteenmin.settings"
