"""Local throughput against ground truth: the output tokens/s that a cell reports (a real worker
process and the parent's recording) against a bare `model.generate` loop timed here on the same
batches, with the same torch thread count.

Subject: a random-weight model with SmolLM2-135M's architecture on CPU, in speed mode (every row
generates exactly max_new_tokens, so both sides produce the same number of tokens). Rounds
alternate ours and bare; the median of each is compared. Goal: ratio within 3% of 1.

    python benchmarks/local_fidelity.py [--batches 4] [--batch-size 4] [--max-new 32] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import demo, measure, tasks, tinymodel  # noqa: E402
from bench.backends.transformers import TransformersBackend, greedy_kwargs  # noqa: E402
from bench.config import TransformersModel, load_task  # noqa: E402
from bench.runner import batches as make_batches  # noqa: E402
from bench.local_runner import run_local_model  # noqa: E402
from bench.runner import Plan, Recorder, plan  # noqa: E402
from bench.store import RunStore  # noqa: E402


def cell_plan(n: int, max_new: int) -> Plan:
    data = tasks.load(load_task(ROOT / "tasks" / "ticket_routing.toml"), limit=n)
    p = plan(data)
    return replace(p, requests=[replace(r, max_new_tokens=max_new) for r in p.requests])


class Quiet:
    """A progress bar that shows nothing."""

    def update(self, n: int) -> None: ...
    def close(self) -> None: ...
    def set_postfix(self, *a, **k) -> None: ...


def ours(spec: TransformersModel, p: Plan) -> float:
    """Tokens/s exactly as a run reports it: the cell's figure after the worker process ran it and
    the parent recorded it."""
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore.create(Path(tmp))
        (cell,) = run_local_model("subject", spec, {"bench": p}, Recorder(store, {"bench": p}), device="cpu",
                                  spec_dir=ROOT, on_model=lambda *a: None, progress=lambda **k: Quiet(),
                                  speed=True)
    assert cell.status == "ok", cell.reason
    return cell.output_tokens_per_s


def bare(b: TransformersBackend, batches) -> float:
    """A plain generate() loop on the same inputs, after one warm-up batch as the worker does."""
    import torch

    max_new = batches[0][0].max_new_tokens
    inputs = [b.encode(batch) for batch in batches]
    kw = greedy_kwargs(b.tokenizer, max_new) | {"min_new_tokens": max_new}
    with torch.inference_mode():
        b.model.generate(**inputs[0], **kw)
        t0 = measure.now()
        tokens = 0
        for enc in inputs:
            out = b.model.generate(**enc, **kw)
            tokens += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
        wall = measure.now() - t0
    return tokens / wall


def compare(model_dir: Path, n_batches: int, batch_size: int, max_new: int, rounds: int) -> tuple[float, float]:
    spec = TransformersModel(backend="transformers", model=str(model_dir), device="cpu", batch_size=batch_size)
    p = cell_plan(n_batches * batch_size, max_new)
    batches = make_batches(p.requests, batch_size)  # the batches the worker makes
    b = TransformersBackend(spec, device="cpu")
    b.load()
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(ours(spec, p))
        theirs.append(bare(b, batches))
    return statistics.median(mine), statistics.median(theirs)


def build_subject(folder: Path) -> Path:
    return tinymodel.build(folder / "smollm2-135m-arch", demo.corpus(ROOT / "tasks"), arch="smollm2-135m")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-new", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        subject = build_subject(Path(tmp))
        mine, theirs = compare(subject, a.batches, a.batch_size, a.max_new, a.rounds)
    print(f"random-weight SmolLM2-135M architecture, CPU, {torch.get_num_threads()} torch threads, "
          f"{a.batches} batches x {a.batch_size} rows x {a.max_new} new tokens, median of {a.rounds} rounds")
    print(f"{'ours tok/s':>11} {'bare tok/s':>11} {'ratio':>7}")
    print(f"{mine:11.1f} {theirs:11.1f} {mine / theirs:7.3f}")


if __name__ == "__main__":
    main()
