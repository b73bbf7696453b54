"""One command for a CUDA box: is the local path ready for a GPU? Prints, for a random-weight
SmolLM2-135M architecture (built here, no network):

1. static against continuous engine tokens/s at batch (in flight) 1, 8, 32 and 64, with torch's
   allocated and reserved peaks against NVML's device-used peak, and energy per output token;
2. the out-of-memory back-off: a batch made too large for the memory left free (the rest is held
   by a blocker tensor) is halved until it fits, and its answers equal the unhurried ones;
3. `served` with vLLM through `python -m bench` when vllm is installed (else one line says so).

    python benchmarks/gpu_check.py [--max-new 64] [--device cuda]
    python benchmarks/gpu_check.py --cpu-smoke     # a tiny static-vs-continuous table on CPU

Without CUDA (and without --cpu-smoke) it says it needs a CUDA GPU and exits 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engines import continuous, lengths, static, workload  # noqa: E402

from bench import demo  # noqa: E402
from bench.backends import tinymodel
from bench.backends.oom import generate_with_backoff, release_cuda  # noqa: E402
from bench.backends.transformers import TransformersBackend  # noqa: E402
from bench.config import TransformersModel  # noqa: E402
from bench.core import measure
from bench.core.meters import EnergyMeter, GpuMemorySampler  # noqa: E402

MIB = 2**20


def metered(b: TransformersBackend, run) -> dict:
    """Run `run()` -> (useful tokens, wall_s, texts) under the worker's meters: torch peaks, NVML, energy."""
    measure.reset_peaks(b.device)
    energy, nvml = EnergyMeter(b.device), GpuMemorySampler(b.device)
    nvml.start()
    energy.start()
    try:
        tokens, wall, _ = run()
    finally:
        joules, nvml_peak = energy.stop(), nvml.stop()
    mem = measure.torch_memory(b.device)
    return {"tok_s": tokens / wall, "alloc": mem["torch_allocated_peak_bytes"], "nvml": nvml_peak,
            "reserved": mem["torch_reserved_peak_bytes"], "j_tok": None if joules is None else joules / tokens}


def mib(x) -> str:
    return "-" if x is None else f"{x / MIB:.0f}"


def engines_table(b: TransformersBackend, sizes: list[int], max_new: int) -> None:
    print(f"{'batch':>5} {'engine':>10} {'tok/s':>9} {'alloc MiB':>10} {'reserved MiB':>12} {'NVML MiB':>9} {'J/tok':>7}")
    for size in sizes:
        reqs = workload(2 * size, lengths(2 * size, max_new, "equal"))
        static(b, reqs[:size], size)  # warm-up at this size, untimed
        continuous(b, reqs[:size], size)
        for name, fn in (("static", static), ("continuous", continuous)):
            m = metered(b, lambda fn=fn: fn(b, reqs, size))
            j = "-" if m["j_tok"] is None else f"{m['j_tok']:.3f}"
            print(f"{size:>5} {name:>10} {m['tok_s']:9.1f} {mib(m['alloc']):>10} {mib(m['reserved']):>12} "
                  f"{mib(m['nvml']):>9} {j:>7}", flush=True)


def oom_backoff(b: TransformersBackend, max_new: int) -> None:
    """Hold all but ~1.5 GiB of the GPU, then ask for a batch that cannot fit in that."""
    import torch

    free, _ = torch.cuda.mem_get_info()
    blocker = torch.empty(max(0, free - int(1.5 * 2**30)), dtype=torch.uint8, device=b.device)
    reqs = workload(1024, lengths(1024, max_new, "equal"))
    tried = []

    def generate(rows):
        tried.append(len(rows))
        return b.generate_batch(rows, speed=True)

    try:
        _, size = generate_with_backoff(generate, reqs, len(reqs), release=release_cuda)
        print(f"out-of-memory back-off: batch {len(reqs)} with ~1.5 GiB free; calls at sizes "
              f"{sorted(set(tried), reverse=True)}; size that fitted: {size}")
    except Exception as e:  # one row did not fit either: that is a finding too
        print(f"out-of-memory back-off: failed even at one row: {type(e).__name__}: {str(e)[:200]}")
    finally:
        del blocker
        release_cuda()


def served_vllm(subject: Path, tmp: Path) -> None:
    """`backend = "served"`, `server = "vllm"` through the CLI, isolated: any failure is one line."""
    if importlib.util.find_spec("vllm") is None:
        print("served (vLLM): skipped, vllm is not installed (pip install vllm)")
        return
    toml = tmp / "models.toml"
    toml.write_text(f'[hardware.gpu]\nusd_per_hour = 1.0\n\n[models.smol-vllm]\nbackend = "served"\n'
                    f'server = "vllm"\nmodel = "{subject}"\n'
                    f'args = ["--max-model-len", "4096", "--gpu-memory-utilization", "0.3"]\nhardware = "gpu"\n')
    cmd = [sys.executable, "-m", "bench", "--config", str(toml), "--models", "smol-vllm", "--tasks-dir",
           str(ROOT / "tasks"), "--tasks", "ticket_routing", "--limit", "32", "--out", str(tmp / "served")]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    except subprocess.TimeoutExpired:
        print("served (vLLM): no answer within 900 s")
        return
    table = [x for x in proc.stdout.splitlines() if x.startswith(("model", "smol-vllm"))]
    print(f"served (vLLM): exit {proc.returncode}")
    print("\n".join(table[:3]) if table else (proc.stderr.strip().splitlines() or ["(no output)"])[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-new", type=int, default=64)
    p.add_argument("--device", default="cuda")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny static-vs-continuous run on CPU")
    a = p.parse_args()
    import torch

    if not a.cpu_smoke and not torch.cuda.is_available():
        print("gpu_check needs a CUDA GPU (torch sees none); --cpu-smoke runs a tiny version on CPU")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = demo.corpus(ROOT / "tasks")
        if a.cpu_smoke:
            subject, device, sizes, max_new = tinymodel.build(tmp / "tiny", corpus), "cpu", [1, 4], 8
        else:
            subject = tinymodel.build(tmp / "smollm2-135m-arch", corpus, arch="smollm2-135m")
            device, sizes, max_new = a.device, [1, 8, 32, 64], a.max_new
        b = TransformersBackend(TransformersModel(backend="transformers", model=str(subject), device=device,
                                                  engine="continuous"), device=device)
        info = b.load()
        print(f"{'tiny random-weight model' if a.cpu_smoke else 'random-weight SmolLM2-135M architecture'}, "
              f"{b.device} ({', '.join(info.runtime['gpus']) or 'CPU'}), max_new_tokens {max_new}, "
              f"every row to its full length")
        engines_table(b, sizes, max_new)
        if not a.cpu_smoke:
            oom_backoff(b, max_new)
            b.close()
            served_vllm(subject, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
