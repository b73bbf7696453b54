"""benchmarks/gpu_check.py off a GPU: one line and exit 2 without CUDA; --cpu-smoke prints its
static-vs-continuous table on CPU (what a CUDA box prints at full size)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT

torch = pytest.importorskip("torch")


def gpu_check(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this box has a GPU")
def test_without_cuda_it_says_so_and_exits_2():
    proc = gpu_check()
    assert proc.returncode == 2
    assert proc.stdout.strip().splitlines() == ["gpu_check needs a CUDA GPU (torch sees none); --cpu-smoke runs "
                                                "a tiny version on CPU"]


def test_cpu_smoke_prints_both_engines_at_each_size():
    proc = gpu_check("--cpu-smoke")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["1"], ["4"])]
    assert [(r[0], r[1]) for r in rows] == [("1", "static"), ("1", "continuous"), ("4", "static"), ("4", "continuous")]
    assert all(float(r[2]) > 0 for r in rows)  # tokens/s
