"""Continuous against static engine: useful output tokens/s on the same requests and the same model.

Subject: a random-weight model with SmolLM2-135M's architecture (built here, no network). Random
weights almost never produce EOS, so rows that end early are made honestly with a per-request
max_new_tokens drawn from a seeded long-tailed distribution (`--lengths mixed`; `equal` gives every
request --max-new). Both engines run in speed mode (EOS suppressed: each row is exactly its own
length). The static engine runs consecutive batches of --batch-size; a batch generates until its
longest row is done (what a static batch costs), and each row counts only its own tokens. The
continuous engine keeps --batch-size requests in flight and stops each at its own length.
tokens/s = useful output tokens / wall time of all requests, load and one warm-up pass excluded.

    python benchmarks/engines.py [--requests 16] [--batch-size 8] [--max-new 32] [--lengths mixed,equal]
        [--device cpu] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import demo, measure, tasks, tinymodel  # noqa: E402
from bench.backends.base import Request  # noqa: E402
from bench.backends.continuous import ContinuousEngine  # noqa: E402
from bench.backends.transformers import TransformersBackend  # noqa: E402
from bench.config import TransformersModel, load_task  # noqa: E402


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


def measure_pair(b, reqs, size: int, rounds: int) -> dict:
    static(b, reqs[:size], size)  # warm-up, untimed, as the worker does
    continuous(b, reqs[:size], size)
    s, c = [], []
    for _ in range(rounds):  # alternate, so that a change in the machine's load hits both
        tok, wall, s_texts = static(b, reqs, size)
        s.append(tok / wall)
        tok, wall, c_texts = continuous(b, reqs, size)
        c.append(tok / wall)
    # same text: meaningful when every row has the same length (static rows of a mixed batch run longer)
    same = sum(x == y for x, y in zip(s_texts, c_texts))
    return {"static": statistics.median(s), "continuous": statistics.median(c), "same": same}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new", type=int, default=32)
    p.add_argument("--lengths", default="mixed,equal")
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=1)
    a = p.parse_args()
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        subject = tinymodel.build(Path(tmp) / "smollm2-135m-arch", demo.corpus(ROOT / "tasks"), arch="smollm2-135m")
        b = TransformersBackend(TransformersModel(backend="transformers", model=str(subject), device=a.device,
                                                  engine="continuous"), device=a.device)
        b.load()
        rows = []
        for kind in a.lengths.split(","):
            lens = lengths(a.requests, a.max_new, kind)
            r = measure_pair(b, workload(a.requests, lens), a.batch_size, a.rounds)
            same = f"{r['same']}/{len(lens)}" if kind == "equal" else "-"
            rows.append((kind, sum(lens) / len(lens), r["static"], r["continuous"], same))
    print(f"random-weight SmolLM2-135M architecture, {b.device}, {torch.get_num_threads()} torch threads, "
          f"{a.requests} requests, batch size / in flight {a.batch_size}, max_new_tokens {a.max_new}, "
          f"median of {a.rounds} round(s), load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'lengths':>8} {'mean out tok':>12} {'static tok/s':>13} {'continuous tok/s':>17} {'ratio':>6} "
          f"{'same text':>9}")
    for kind, mean_len, s, c, same in rows:
        print(f"{kind:>8} {mean_len:12.1f} {s:13.1f} {c:17.1f} {c / s:6.2f} {same:>9}")


if __name__ == "__main__":
    main()
