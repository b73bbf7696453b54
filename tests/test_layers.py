"""The package's layering (issue 19): every import in bench/ (top-level, in a function, under
TYPE_CHECKING: all of them, read with ast, nothing imported) goes from a higher layer to a lower
one, and no two modules import each other, directly or round a longer circle. A new import that
breaks either fails here; the fix is to move the code to the layer it belongs to, not to edit
LAYERS (docs/architecture.md, "Layers")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bench"

# bottom to top. A part is a subpackage (its folder) or a top-level module; `bench` is the package's
# __init__ (its version). A part may import itself and any part of a lower layer, never a part of its
# own layer or of a higher one.
LAYERS: list[set[str]] = [
    {"bench", "errors", "safetext"},  # exit codes and input errors, shown text: used everywhere
    {"config", "core"},  # the files a user writes; the core data, statistics and meters
    {"backends", "scorers"},  # what runs a model; what scores an answer
    {"scoring"},  # scoring's public names (a user's own scorer imports Score from it)
    {"prepare", "runfolder"},  # tasks and data, plans, checks before a run; the run folder and its format
    {"spend", "serve"},  # prices, the bill and the cap; a served model's server process
    {"execute"},  # one run's options, schedule, workers, clients, recording
    {"report"},  # tables, plots, report.html from run folders
    {"decide", "sweep"},  # compare and recommend over run folders; capacity under a latency target
    {"run"},  # one run end to end: prepare, execute, report
    {"demo"},
    {"cli"},
    {"__main__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """bench.execute.schedule -> execute; bench.errors -> errors; bench -> bench."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a `from pkg import name` that names a
    submodule counts as importing that submodule)."""
    root = package.name
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == root}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                if base.split(".")[0] != root:
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in modules else base)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def wrong_directions(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, deps in sorted(graph.items()):
        for dep in sorted(deps):
            a, b = part_of(module), part_of(dep)
            if a not in RANK or b not in RANK:
                out.append(f"{module} -> {dep}: {a if a not in RANK else b} is in no layer (add it to LAYERS)")
            elif a != b and RANK[b] >= RANK[a]:
                out.append(f"{module} -> {dep}: layer {RANK[a]} ({a}) imports layer {RANK[b]} ({b})")
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_import_goes_down_the_layers():
    graph = imports(PACKAGE)
    assert len(graph) > 60, "test setup: the package's modules were not found"
    assert wrong_directions(graph) == []


def test_no_import_circle_in_the_package():
    assert circles(imports(PACKAGE)) == []


def test_every_part_of_the_package_is_in_a_layer():
    parts = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {"bench"}
    parts |= {d.name for d in PACKAGE.iterdir() if (d / "__init__.py").is_file()}
    assert parts == set(RANK)


def test_the_top_level_holds_at_most_8_modules():
    assert len(list(PACKAGE.glob("*.py"))) <= 8


def test_every_subpackage_says_what_it_holds_and_must_not_import():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = " ".join((ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "").split())
        assert "must not import" in doc, f"{init.relative_to(PACKAGE.parent)}: its docstring says what it must not import"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "bench"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checks_catch_a_circle_and_an_upward_import_added_on_purpose(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "config/__init__.py": "",
        "config/models.py": "def f():\n    from bench.backends import registry\n",  # lazy, still counted
        "backends/__init__.py": "",
        "backends/registry.py": "from bench.config.models import f\n",
        "core/__init__.py": "",
        "core/types.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bench.spend.cost import X\n",
        "spend/__init__.py": "",
        "spend/cost.py": "from ..core import types\n",  # relative imports are read too
    })
    graph = imports(root)
    assert graph["bench.spend.cost"] == {"bench.core.types"}
    assert circles(graph) == [["bench.backends.registry", "bench.config.models"],
                              ["bench.core.types", "bench.spend.cost"]]
    assert wrong_directions(graph) == [
        "bench.config.models -> bench.backends.registry: layer 1 (config) imports layer 2 (backends)",
        "bench.core.types -> bench.spend.cost: layer 1 (core) imports layer 5 (spend)",
    ]


def test_two_parts_of_one_layer_may_not_import_each_other(tmp_path):
    root = _package(tmp_path, {"__init__.py": "", "scorers/__init__.py": "", "backends/__init__.py": "",
                               "scorers/x.py": "import bench.backends\n"})
    assert wrong_directions(imports(root)) == ["bench.scorers.x -> bench.backends: layer 2 (scorers) imports "
                                               "layer 2 (backends)"]
