"""Per-example time the harness spends outside the model: rendering prompts and targets (plan),
scoring, and writing records (JSON, flush and fsync per batch). Goal: under 1 ms on average.

Completions are synthetic (the reference answer wrapped in a sentence), so only harness work is
timed: one round plans and records every example of the shipped tasks with local data, in groups
of 16 (the API runner's group size). extra_info: the median over rounds of each part, ms/example.

    python -m pytest benchmarks/harness_overhead.py --benchmark-only
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.backends.base import Completion
from bench.core.types import Cell
from bench.execute.recording import Recorder
from bench.prepare import tasks
from bench.prepare.planning import batches, plan
from bench.prepare.taskfiles import load_tasks
from bench.runfolder.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
BATCH = 16  # records per write
FULL = {"limit": None, "rounds": 5}
SMOKE = {"limit": 4, "rounds": 1}


def one_round(data: list, batch: int) -> tuple[int, float, float]:
    """Examples, seconds rendering them, seconds scoring and writing their records."""
    t0 = time.perf_counter()
    plans = {d.task.name: plan(d) for d in data}
    t_plan = time.perf_counter() - t0
    n = sum(len(p.requests) for p in plans.values())
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore.create(Path(tmp))
        recorder = Recorder(store, plans)
        t0 = time.perf_counter()
        for name, p in plans.items():
            cell = Cell("m", name, n=len(p.requests))
            for group in batches(p.requests, batch):
                comps = [Completion(text=f"The answer is {p.targets[r.example_id]}.", input_tokens=100,
                                    output_tokens=12, ttft_s=0.01, latency_s=0.1).to_dict() for r in group]
                recorder.record(cell, [r.example_id for r in group], comps)
        t_record = time.perf_counter() - t0
    return n, t_plan, t_record


def test_harness_overhead(benchmark, smoke):
    size = SMOKE if smoke else FULL
    # local data only: the Hub tasks need a network
    data = [tasks.load(t, limit=size["limit"]) for t in load_tasks(ROOT / "tasks") if t.spec.data.path]
    rounds = []
    benchmark.pedantic(lambda: rounds.append(one_round(data, BATCH)), rounds=size["rounds"])
    n = rounds[0][0]
    assert n > 0 and all(r[0] == n for r in rounds)
    render_ms = statistics.median(r[1] for r in rounds) / n * 1000
    record_ms = statistics.median(r[2] for r in rounds) / n * 1000
    benchmark.extra_info.update({"examples": n, "render ms/example": render_ms,
                                 "score+write ms/example": record_ms, "total ms/example": render_ms + record_ms})
