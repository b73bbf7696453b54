"""What running a local model as a Ray task costs over a local worker process: the same tiny model
(random weights, CPU, one thread in both) and the same batches through LocalLauncher and
RayLauncher, alternately.

Per model: start -> running (process start, or Ray scheduling and worker start), start -> loaded
(imports and load included), start -> done; the Ray overhead per model is the difference of the
medians of start -> done. Once per run: starting a local Ray instance (or joining a cluster).

    python benchmarks/ray_overhead.py [--rounds 3] [--limit 16] [--ray-address ADDR]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# a local instance on loopback (its node address 127.0.0.1), as the tests use it
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# Ray runs a 1-CPU task with OMP_NUM_THREADS=1: the local worker gets the same, so that the
# difference is Ray's own cost and not torch's thread count
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench import demo  # noqa: E402
from bench.backends import tinymodel
from bench.config import TransformersModel  # noqa: E402
from bench.execute.launch import LocalLauncher  # noqa: E402
from bench.execute.messages import Done, Loaded, LoadFailed  # noqa: E402
from bench.execute.worker import Job  # noqa: E402
from bench.prepare import tasks
from bench.prepare.planning import batches, plan  # noqa: E402
from bench.prepare.taskfiles import load_tasks


def one_model(launcher, spec, jobs) -> dict:
    """Start one worker and read it to the end: its timings in seconds."""
    t0 = time.monotonic()
    handle = launcher.start(spec, "cpu", ROOT, jobs, ())
    out = {}
    try:
        while True:
            try:
                msg = handle.get(timeout=0.5)
            except queue.Empty:
                if handle.exited():
                    raise RuntimeError(f"the worker ended early: {handle.death()}") from None
                continue
            if isinstance(msg, Loaded):
                out["loaded_s"] = time.monotonic() - t0
                out["load_s"], out["cold_start_s"] = msg.info["load_s"], msg.info["cold_start_s"] or 0.0
            elif isinstance(msg, LoadFailed):
                raise RuntimeError(msg.reason)
            elif isinstance(msg, Done):
                out["done_s"] = time.monotonic() - t0
                break
    finally:
        handle.stop()
    out["running_s"] = getattr(handle, "startup_s", None)  # RayHandle only: submitted -> on its node
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--limit", type=int, default=16, help="ticket_routing examples per model")
    p.add_argument("--ray-address", help="join this cluster (default: start a local Ray instance)")
    a = p.parse_args()
    from bench.execute.ray_exec import RayLauncher

    with tempfile.TemporaryDirectory() as tmp:
        model = tinymodel.build(Path(tmp) / "tiny", demo.corpus(ROOT / "tasks"), hidden=64, layers=2, heads=4,
                                seed=0, eos_boost=1.3)
        spec = TransformersModel(backend="transformers", model=str(model), device="cpu", batch_size=4)
        task = next(t for t in load_tasks(ROOT / "tasks") if t.name == "ticket_routing")
        jobs = [Job(task.name, [batches(plan(tasks.load(task, a.limit)).requests, spec.batch_size)])]
        t0 = time.monotonic()
        ray_launcher = RayLauncher(a.ray_address)
        connect_s = time.monotonic() - t0
        runs = {"local": [], "ray": []}
        for _ in range(a.rounds):
            runs["local"].append(one_model(LocalLauncher(), spec, jobs))
            runs["ray"].append(one_model(ray_launcher, spec, jobs))
        ray_launcher.close()

    def med(kind: str, key: str) -> float | None:
        values = [r[key] for r in runs[kind] if r.get(key) is not None]
        return statistics.median(values) if values else None

    print(f"one tiny model, {a.limit} examples in batches of 4 on CPU; medians of {a.rounds} rounds (seconds)")
    print(f"{'executor':<9} {'running':>8} {'loaded':>8} {'load':>6} {'warm-up':>8} {'done':>7}")
    for kind in runs:
        running = med(kind, "running_s")
        print(f"{kind:<9} {'-' if running is None else f'{running:.2f}':>8} {med(kind, 'loaded_s'):8.2f} "
              f"{med(kind, 'load_s'):6.2f} {med(kind, 'cold_start_s'):8.2f} {med(kind, 'done_s'):7.2f}")
    print(f"Ray overhead per model (done, ray - local): {med('ray', 'done_s') - med('local', 'done_s'):+.2f} s")
    print(f"once per run: {'joining the cluster' if a.ray_address else 'starting a local Ray instance'} "
          f"took {connect_s:.2f} s")


if __name__ == "__main__":
    main()
