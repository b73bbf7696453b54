"""pytest-benchmark setup for benchmarks/: which files are benchmarks (they keep their names, so
`tests/` and `gpu_check.py` import their helpers as before), their size (full by default, tiny with
BENCH_SMOKE=1, which CI runs once with --benchmark-disable so they cannot rot), and a table of each
benchmark's figures (its extra_info: ms/example, fidelity ratio, tokens/s) under pytest-benchmark's
timing table, which shows only timing columns.

    python -m pytest benchmarks --benchmark-only               # full size, every benchmark
    BENCH_SMOKE=1 python -m pytest benchmarks --benchmark-disable   # CI: each once, tiny
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `bench` from this checkout, as the scripts here do
# the pytest-benchmark benchmarks; the other files here are scripts (README.md says why)
BENCHMARKS = ("harness_overhead.py", "local_fidelity.py", "engines.py")
_FIGURES: dict[str, dict] = {}  # test id -> its benchmark's extra_info, for the table at the end


def pytest_collect_file(file_path: Path, parent):
    # a file named on the command line is collected by pytest itself
    if file_path.parent == HERE and file_path.name in BENCHMARKS and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def smoke() -> bool:
    """BENCH_SMOKE=1: the tiny size, to check that a benchmark runs, not to measure."""
    return os.environ.get("BENCH_SMOKE", "") not in ("", "0")


@pytest.fixture(scope="session")
def random_model(tmp_path_factory):
    """model(arch) -> the folder of a random-weight model of that architecture (None: bench's tiny
    one), built once per session."""
    from local_fidelity import build_subject

    built: dict = {}

    def model(arch: str | None) -> Path:
        if arch not in built:
            built[arch] = build_subject(tmp_path_factory.mktemp("model"), arch)
        return built[arch]
    return model


@pytest.fixture(autouse=True)
def _keep_figures(request):
    bench = request.getfixturevalue("benchmark") if "benchmark" in request.fixturenames else None
    yield
    if bench is not None and bench.extra_info:
        _FIGURES[request.node.nodeid.split("::", 1)[-1]] = dict(bench.extra_info)


def _shown(value) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section("benchmark figures (extra_info)")
    width = max(len(name) for name in _FIGURES)
    for name, extra in _FIGURES.items():
        terminalreporter.write_line(f"{name:<{width}}  " + "  ".join(f"{k} {_shown(v)}" for k, v in extra.items()))
