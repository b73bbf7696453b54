"""The size limits of the package (issue 12): no module over 400 lines, no function over 60, so
that a reader can hold each one in view. A module or function that grows past them is split by
what it does, not given a higher limit here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bench"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 20, f"test setup: the package's modules were not found under {PACKAGE}"
    return found


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, lines from `def` to its last line) of every function, nested
    ones and methods included."""
    out = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}."
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((name[:-1], child.lineno, child.end_lineno - child.lineno + 1))
            visit(child, name)
    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), "")
    return out


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in modules() if (n := lines_of(p)) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by what they do): {long}"


def test_no_function_is_over_60_lines():
    long = [f"{p.relative_to(PACKAGE.parent)}:{line} {name} ({n} lines)" for p in modules()
            for name, line, n in function_lengths(p) if n > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them by what they do): {long}"


def test_the_checks_count_a_function_from_def_to_its_last_line(tmp_path):
    body = "".join(f"        x{i} = {i}\n" for i in range(60))
    source = tmp_path / "m.py"
    source.write_text(f"class C:\n    def long(self):\n{body}        return 0\n\n\ndef short():\n    return 1\n",
                      encoding="utf-8")
    assert function_lengths(source) == [("C.long", 2, 62), ("short", 66, 2)]
    assert lines_of(source) == 67
