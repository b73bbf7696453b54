"""The package as pip installs it: a wheel built from the sources holds every module, the shipped
tasks and their data, the shipped models.toml and both console scripts; installed on its own it
runs `bench demo` and `bench validate` from an empty folder. The declared dependencies cover every
package the code imports; no archive is committed."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SETUPTOOLS_NEEDED = 77  # the SPDX `license` string in pyproject.toml


def _setuptools_major() -> int:
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built offline (no build isolation: no download) from a copy of the sources."""
    if _setuptools_major() < SETUPTOOLS_NEEDED:
        pytest.skip(f"building the wheel needs setuptools>={SETUPTOOLS_NEEDED}: pip install -e '.[dev]'")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bench", "tasks"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "models.toml"):
        shutil.copy(ROOT / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           str(src), "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = (tmp / "dist").glob("slm_bench-*.whl")
    return built


def test_the_wheel_holds_every_module_and_every_shipped_task_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "bench").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules - names == set()  # a new subpackage must be listed in pyproject.toml
    shipped = [p for p in (ROOT / "tasks").glob("*.toml")] + [p for p in (ROOT / "tasks" / "data").iterdir()]
    assert len(shipped) > 10
    expected = {"bench/_tasks/" + p.relative_to(ROOT / "tasks").as_posix() for p in shipped}
    assert expected - names == set()
    assert "bench/_models/models.toml" in names  # a folder without one uses it
    assert not [n for n in names if n.startswith("bench/_models/") and n != "bench/_models/models.toml"]


def test_both_console_scripts_are_installed(wheel):
    with zipfile.ZipFile(wheel) as z:
        entry = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert re.search(r"^bench = bench\.cli:main$", entry, re.M), entry
    assert re.search(r"^slm-bench = bench\.cli:main$", entry, re.M), entry


def test_the_installed_wheel_runs_the_demo_from_an_empty_folder(wheel, tmp_path):
    site, empty = tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, PYTHONPATH=str(site), HF_HUB_OFFLINE="1")  # the installed copy, not the checkout
    proc = subprocess.run([sys.executable, "-m", "bench", "demo", "--limit", "2", "--tasks", "ticket_routing"],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"using the tasks shipped with bench ({site / 'bench' / '_tasks'})" in proc.stderr
    (run,) = (empty / "results").iterdir()
    assert (run / "records.jsonl").read_text().count("\n") == 2 * 2  # two demo models x two examples
    proc = subprocess.run([sys.executable, "-m", "bench", "validate", "--tasks", "ticket_routing"],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"using the models.toml shipped with bench ({site / 'bench' / '_models' / 'models.toml'})" in proc.stderr


def _third_party_imports() -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    found = set()
    for path in (ROOT / "bench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in stdlib and m != "bench"}


def _sdks() -> set[str]:
    """The provider SDKs the API backends import by name at load (`SdkBackend.SDK`), which the
    source scan cannot see as import statements."""
    from bench.backends.anthropic import AnthropicBackend
    from bench.backends.openai import OpenAIBackend

    return {OpenAIBackend.SDK, AnthropicBackend.SDK}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_package_the_code_imports_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    declared = {_norm(re.match(r"[A-Za-z0-9_.-]+", r).group()) for r in requirements}
    providers = importlib.metadata.packages_distributions()
    imported = _third_party_imports() | _sdks()
    assert {"numpy", "torch", "openai", "anthropic"} <= imported
    # a module not installed here (an optional extra) cannot be mapped to its distribution
    missing = {m for m in imported if m in providers and not {_norm(d) for d in providers[m]} & declared}
    assert missing == set()


def test_no_archive_is_committed_and_archives_are_ignored():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert [f for f in files if f.endswith((".whl", ".tar.gz", ".zip"))] == []
    for name in ("x.whl", "x.tar.gz", "x.zip"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT).returncode == 0, name
