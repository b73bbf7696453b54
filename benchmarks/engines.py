"""Continuous against static engine: useful output tokens/s on the same requests and the same model.

Subject: a random-weight model with SmolLM2-135M's architecture (built here, no network). Random
weights almost never produce EOS, so rows that end early are made honestly with a per-request
max_new_tokens drawn from a seeded long-tailed distribution (`mixed`; `equal` gives every request
MAX_NEW). Both engines run in speed mode (EOS suppressed: each row is exactly its own length). The
static engine runs consecutive batches of BATCH_SIZE; a batch generates until its longest row is
done (what a static batch costs), and each row counts only its own tokens. The continuous engine
keeps BATCH_SIZE requests in flight and stops each at its own length.
tokens/s = useful output tokens / wall time of all requests, load and one warm-up pass excluded.
The timed call is the continuous engine's pass; the static pass runs untimed before each round.
extra_info: both medians, their ratio, and (equal lengths) how many answers are the same text.

    OMP_NUM_THREADS=1 python -m pytest benchmarks/engines.py --benchmark-only
"""

from __future__ import annotations

import os
import random
import statistics
from dataclasses import replace
from pathlib import Path

from bench.backends.base import Request
from bench.backends.continuous import ContinuousEngine
from bench.backends.transformers import TransformersBackend
from bench.config import TransformersModel
from bench.core import measure
from bench.prepare import tasks
from bench.prepare.taskfiles import load_task

ROOT = Path(__file__).resolve().parents[1]
FULL = {"requests": 16, "batch_size": 8, "max_new": 32, "rounds": 3, "arch": "smollm2-135m"}
SMOKE = {"requests": 4, "batch_size": 2, "max_new": 4, "rounds": 1, "arch": None}


def lengths(n: int, max_new: int, kind: str, seed: int = 0) -> list[int]:
    """Per-request output lengths: `equal` all max_new; `mixed` exponential with mean max_new / 3,
    clamped to [2, max_new] (most answers short, a few long, as with real answers)."""
    if kind == "equal":
        return [max_new] * n
    rng = random.Random(seed)
    return [min(max_new, max(2, round(rng.expovariate(3 / max_new)))) for _ in range(n)]


def workload(n: int, lens: list[int]) -> list[Request]:
    """Short single-turn prompts (a support ticket each, 20-60 tokens), so that decoding, where the
    engines differ, is most of the work."""
    data = tasks.load(load_task(ROOT / "tasks" / "ticket_routing.toml"))
    texts = [ex.fields["text"] for ex in data.examples]
    return [Request(f"r{i}", [{"role": "user", "content": texts[i % len(texts)]}], k) for i, k in enumerate(lens)]


def static(b: TransformersBackend, reqs: list[Request], size: int) -> tuple[int, float, list[str]]:
    """Consecutive batches, each generated to its longest row; useful tokens = each row's own length.
    Returns useful tokens, wall time and the texts in request order."""
    useful, texts, t0 = 0, [], measure.now()
    for i in range(0, len(reqs), size):
        batch = reqs[i:i + size]
        longest = max(r.max_new_tokens for r in batch)
        texts += [c.text for c in b.generate_batch([replace(r, max_new_tokens=longest) for r in batch], speed=True)]
        useful += sum(r.max_new_tokens for r in batch)
    return useful, measure.now() - t0, texts


def continuous(b: TransformersBackend, reqs: list[Request], size: int) -> tuple[int, float, list[str]]:
    out = {}
    _, wall = ContinuousEngine(b).run(reqs, size, True, lambda rows, w: out.update({r.example_id: c for r, c in rows}))
    return sum(c.output_tokens for c in out.values()), wall, [out[r.example_id].text for r in reqs]


def subject(model: Path, device: str = "cpu") -> TransformersBackend:
    b = TransformersBackend(TransformersModel(backend="transformers", model=str(model), device=device,
                                              engine="continuous"), device=device)
    b.load()
    return b


def engines_pair(benchmark, b: TransformersBackend, kind: str, size: dict) -> None:
    """Static and continuous on the same requests, alternating (a change in the machine's load
    hits both); the continuous pass is the timed one."""
    import torch

    lens = lengths(size["requests"], size["max_new"], kind)
    reqs, n = workload(size["requests"], lens), size["batch_size"]
    static(b, reqs[:n], n)  # warm-up, untimed, as the worker does
    continuous(b, reqs[:n], n)
    s_runs, c_runs = [], []
    benchmark.pedantic(lambda: c_runs.append(continuous(b, reqs, n)),
                       setup=lambda: s_runs.append(static(b, reqs, n)), rounds=size["rounds"])
    s_tps = statistics.median(tok / wall for tok, wall, _ in s_runs)
    c_tps = statistics.median(tok / wall for tok, wall, _ in c_runs)
    # same text: meaningful when every row has the same length (static rows of a mixed batch run longer)
    same = sum(x == y for x, y in zip(s_runs[-1][2], c_runs[-1][2]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    benchmark.extra_info.update({
        "device": str(b.device), "torch threads": torch.get_num_threads(), "load average": load,
        "requests x in flight x max_new": f"{size['requests']}x{n}x{size['max_new']}",
        "mean out tok": sum(lens) / len(lens), "static tok/s": s_tps, "continuous tok/s": c_tps,
        "ratio": c_tps / s_tps, "same text": f"{same}/{len(lens)}" if kind == "equal" else "-"})


def test_engines_mixed_lengths(benchmark, smoke, random_model):
    size = SMOKE if smoke else FULL
    engines_pair(benchmark, subject(random_model(size["arch"])), "mixed", size)


def test_engines_equal_lengths(benchmark, smoke, random_model):
    size = SMOKE if smoke else FULL
    engines_pair(benchmark, subject(random_model(size["arch"])), "equal", size)
