"""Per-example time the harness spends outside the model: rendering prompts and targets (plan),
scoring, and writing records (JSON, flush and fsync per batch). Goal: under 1 ms on average.

Completions are synthetic (the reference answer wrapped in a sentence), so only harness work is timed.

    python benchmarks/harness_overhead.py [--batch 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import tasks  # noqa: E402
from bench.backends.base import Completion  # noqa: E402
from bench.config import load_tasks  # noqa: E402
from bench.planning import batches, plan  # noqa: E402
from bench.recording import Recorder  # noqa: E402
from bench.types import Cell  # noqa: E402
from bench.store import RunStore  # noqa: E402


def one_round(batch: int) -> tuple[int, float, float]:
    data = [tasks.load(t) for t in load_tasks(ROOT / "tasks") if t.spec.data.path]  # Hub tasks need a network
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=16, help="records per write (the API runner's group size)")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    results = [one_round(a.batch) for _ in range(a.rounds)]
    n = results[0][0]
    plan_ms = statistics.median(r[1] for r in results) / n * 1000
    record_ms = statistics.median(r[2] for r in results) / n * 1000
    print(f"{n} examples of the shipped tasks, records written in groups of {a.batch}, median of {a.rounds} rounds")
    print(f"{'render (ms/ex)':>15} {'score+write (ms/ex)':>20} {'total (ms/ex)':>14}")
    print(f"{plan_ms:15.3f} {record_ms:20.3f} {plan_ms + record_ms:14.3f}")


if __name__ == "__main__":
    main()
