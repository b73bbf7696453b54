"""docs/architecture.md cannot rot: every `bench/...py` path it names exists, and every
`bench.module.name` it names is defined in that module (read with ast: nothing is imported)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"\bbench/[\w/]+\.py\b")
DOTTED = re.compile(r"`(bench(?:\.\w+)+)`")


def module_file(parts: list[str]) -> Path | None:
    """The source file of the module bench.<parts>, if it exists."""
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defined(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names a module or class body binds: functions, classes, assignments, imports."""
    names: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update({t.id: node for t in targets if isinstance(t, ast.Name)})
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update({(a.asname or a.name).split(".")[0]: node for a in node.names})
    return names


def problem(dotted: str) -> str | None:
    """Why `dotted` (bench.module[.sub].Name[.attr]) does not resolve, or None when it does."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):  # the longest prefix that is a module
        source = module_file(parts[:cut])
        if source is not None:
            break
    else:
        return "no such module"
    body = ast.parse(source.read_text(encoding="utf-8")).body
    for name in parts[cut:]:
        node = defined(body).get(name)
        if node is None:
            return f"{name!r} is not defined in {source.relative_to(ROOT)}"
        body = node.body if isinstance(node, ast.ClassDef) else []
    return None


def test_every_path_the_architecture_doc_names_exists():
    text = DOC.read_text(encoding="utf-8")
    paths = set(PATH.findall(text))
    assert len(paths) > 40  # the module table names every module
    assert sorted(p for p in paths if not (ROOT / p).is_file()) == []


def test_every_dotted_name_the_architecture_doc_names_is_defined():
    names = set(DOTTED.findall(DOC.read_text(encoding="utf-8")))
    assert len(names) > 30
    assert {n: problem(n) for n in sorted(names) if problem(n)} == {}


def test_every_module_of_the_package_is_in_the_doc():
    """A new module gets its line in the map: each bench/*.py, and each subpackage as a folder."""
    text = DOC.read_text(encoding="utf-8")
    missing = [p.relative_to(ROOT).as_posix() for p in (ROOT / "bench").glob("*.py")
               if p.relative_to(ROOT).as_posix() not in text]
    missing += [f"bench/{d.name}/" for d in (ROOT / "bench").iterdir()
                if (d / "__init__.py").is_file() and f"bench/{d.name}/" not in text]
    assert missing == []


def test_the_checker_catches_a_wrong_name():
    assert problem("bench.core.types.Record") is None
    assert problem("bench.runfolder.store.RunStore.append") is None
    assert problem("bench.core.types.NoSuchThing") is not None
    assert problem("bench.nosuchmodule.x") is not None


def test_the_layers_table_is_the_one_the_layering_test_enforces():
    """docs/architecture.md's Layers table lists, row by row, the parts of tests/test_layers.py's LAYERS."""
    from test_layers import LAYERS

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Layers"):text.index("## Modules")]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", section, re.M)
    documented = [{m.removeprefix("bench/").removesuffix("/").removesuffix(".py") for m in re.findall(r"`([^`]+)`", parts)}
                  for _, parts in rows]
    enforced = [{"__init__" if p == "bench" else p for p in layer} for layer in LAYERS]
    assert [int(n) for n, _ in rows] == list(range(len(LAYERS)))
    assert documented == enforced
