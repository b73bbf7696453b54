"""Sequential against parallel wall time: one local tiny model (built here, on the CPU) and one API
model against the local wire-format server (tests/fakeapi.py, in its own process), its latency set
so that alone it takes about as long as the local model alone. Each figure is a whole
`python -m bench` run (start-up and report included); goal: the parallel run within 10% of the
slower model alone.

    python benchmarks/parallel.py [--limit 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakeapi import FakeAPIProcess  # noqa: E402

from bench import demo  # noqa: E402
from bench.backends import tinymodel

TASKS = ROOT / "tasks"
CONCURRENCY = 2


def models_toml(folder: Path, local: Path, api_url: str) -> Path:
    path = folder / "models.toml"
    path.write_text(f'[models.tiny]\nbackend = "transformers"\nmodel = "{local}"\ndevice = "cpu"\nbatch_size = 4\n\n'
                    f'[models.api]\nbackend = "openai"\nmodel = "api"\nbase_url = "{api_url}"\n'
                    f'api_key_env = "BENCH_KEY"\nconcurrency = {CONCURRENCY}\n', encoding="utf-8")
    return path


def wall_s(config: Path, out: Path, limit: int, *flags: str) -> float:
    """One whole run through the command line; its wall time."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), BENCH_KEY="sk-local")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench", "--config", str(config), "--tasks-dir", str(TASKS),
                           "--tasks", "ticket_routing", "--limit", str(limit), "--out", str(out), *flags],
                          env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if done.returncode not in (0, 3):
        raise SystemExit(f"bench exited {done.returncode}:\n{done.stderr[-2000:]}")
    return took


def best(config: Path, out: Path, limit: int, repeats: int, *flags: str) -> float:
    return min(wall_s(config, out, limit, *flags) for _ in range(repeats))


def calibrate(tmp: Path, local: Path, limit: int, repeats: int) -> tuple[float, float]:
    """The local model's time alone, and the time to first token that makes the API model alone as long."""
    with FakeAPIProcess(reply_text="billing") as api:
        config = models_toml(tmp, local, api.base_url)
        local_s = best(config, tmp / "res", limit, repeats, "--models", "tiny")
        api_s = best(config, tmp / "res", limit, repeats, "--models", "api")  # start-up and report only
    # the API model sends limit requests (and a warm-up), CONCURRENCY at a time
    return local_s, max(0.0, local_s - api_s) * CONCURRENCY / (limit + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=24, help="examples of ticket_routing (default 24)")
    ap.add_argument("--repeats", type=int, default=2, help="runs per figure; the fastest is shown (default 2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        tmp = Path(tmp)
        local = tinymodel.build(tmp / "tiny", demo.corpus(TASKS), hidden=256, layers=4, heads=8, seed=0)
        local_s, ttft_s = calibrate(tmp, local, args.limit, args.repeats)
        with FakeAPIProcess(reply_text="billing", ttft_s=ttft_s) as api:
            config = models_toml(tmp, local, api.base_url)
            rows = {"local model alone": local_s,
                    "API model alone": best(config, tmp / "res", args.limit, args.repeats, "--models", "api"),
                    "both, --parallel 1": best(config, tmp / "res", args.limit, args.repeats, "--parallel", "1"),
                    "both, parallel": best(config, tmp / "res", args.limit, args.repeats)}
    slower = max(rows["local model alone"], rows["API model alone"])
    print(f"ticket_routing x {args.limit} examples; API ttft {ttft_s:.3f} s at concurrency {CONCURRENCY}; "
          f"best of {args.repeats}; {os.cpu_count()} CPU core(s)\n")
    print(f"{'run':<22} {'wall s':>8} {'/ slower alone':>15}")
    for name, s in rows.items():
        print(f"{name:<22} {s:>8.2f} {s / slower:>15.2f}")
    ratio = rows["both, parallel"] / slower
    print(f"\nparallel / slower alone = {ratio:.2f} (goal <= 1.10): {'met' if ratio <= 1.10 else 'NOT met'}; "
          f"parallel saves {rows['both, --parallel 1'] - rows['both, parallel']:.2f} s of "
          f"{rows['both, --parallel 1']:.2f} s ({1 - rows['both, parallel'] / rows['both, --parallel 1']:.0%})")


if __name__ == "__main__":
    main()
