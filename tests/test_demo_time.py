"""benchmarks/demo_time.py, once on a tiny demo, untimed: it runs, finds every phase in the demo's
output (the lines it reads them from must not drift) and prints its table. Its figures are the
benchmark's business, not a test's."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_demo_time_finds_every_phase_and_prints_its_table():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "demo_time.py"), "--repeats", "1", "--",
                           "--limit", "1", "--tasks", "ticket_routing"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    head = next(line for line in lines if line.lstrip().startswith("source"))
    assert head.split() == ["source", "load", "before", "wall", "s", "cpu", "s", "out", "tok", "build", "s",
                            "demo-tiny", "s", "demo-small", "s", "report", "s", "exit", "s"], head
    (run,) = [line.split() for line in lines if line.lstrip().startswith("this ")]
    wall, cpu, tokens, *phases = map(float, run[2:])
    assert abs(sum(phases) - wall) <= 0.051 * len(phases) and cpu > 0 and tokens > 0  # each rounded to 0.1 s
    assert any(line.lstrip().startswith("median this") for line in lines)
