"""Local throughput against ground truth: the output tokens/s that a cell reports (a real worker
process and the parent's recording) against a bare `model.generate` loop timed here on the same
batches, with the same torch thread count.

Subject: a random-weight model with SmolLM2-135M's architecture on CPU, in speed mode (every row
generates exactly max_new_tokens, so both sides produce the same number of tokens). Rounds
alternate bare and ours; the median of each is compared. Goal: ratio within 3% of 1. The timed call
is one cell as a run runs it (worker process start, load, warm-up, generation, recording); the bare
loop runs untimed before each. extra_info: both medians and their ratio.

    python -m pytest benchmarks/local_fidelity.py --benchmark-only
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from bench import demo
from bench.backends import tinymodel
from bench.backends.transformers import TransformersBackend, greedy_kwargs
from bench.config import TransformersModel
from bench.core import measure
from bench.execute.local_runner import run_local_model
from bench.execute.recording import Recorder
from bench.prepare import tasks
from bench.prepare.planning import Plan, plan
from bench.prepare.planning import batches as make_batches
from bench.prepare.taskfiles import load_task
from bench.runfolder.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
FULL = {"n_batches": 4, "batch_size": 4, "max_new": 32, "rounds": 5}
SMOKE = {"n_batches": 1, "batch_size": 2, "max_new": 4, "rounds": 1}


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


def subject_setup(model_dir: Path, n_batches: int, batch_size: int, max_new: int):
    """The model's spec, the cell's plan, the batches the worker makes of it, and a loaded backend
    for the bare loop."""
    spec = TransformersModel(backend="transformers", model=str(model_dir), device="cpu", batch_size=batch_size)
    p = cell_plan(n_batches * batch_size, max_new)
    b = TransformersBackend(spec, device="cpu")
    b.load()
    return spec, p, make_batches(p.requests, batch_size), b


def compare(model_dir: Path, n_batches: int, batch_size: int, max_new: int, rounds: int) -> tuple[float, float]:
    """Median tokens/s of ours and of the bare loop over alternating rounds."""
    spec, p, batches, b = subject_setup(model_dir, n_batches, batch_size, max_new)
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(ours(spec, p))
        theirs.append(bare(b, batches))
    return statistics.median(mine), statistics.median(theirs)


def build_subject(folder: Path, arch: str | None = "smollm2-135m") -> Path:
    """The random-weight subject (arch None: bench's tiny model, for a quick smoke run)."""
    return tinymodel.build(folder / f"{arch or 'tiny'}-arch", demo.corpus(ROOT / "tasks"), arch=arch)


def test_local_fidelity(benchmark, smoke, random_model):
    import torch

    size = SMOKE if smoke else FULL
    subject = random_model(None if smoke else "smollm2-135m")
    spec, p, batches, b = subject_setup(subject, size["n_batches"], size["batch_size"], size["max_new"])
    mine, theirs = [], []
    benchmark.pedantic(lambda: mine.append(ours(spec, p)), setup=lambda: theirs.append(bare(b, batches)),
                       rounds=size["rounds"])
    ours_tps, bare_tps = statistics.median(mine), statistics.median(theirs)
    benchmark.extra_info.update({
        "subject": "tiny" if smoke else "smollm2-135m-arch", "torch threads": torch.get_num_threads(),
        "batches x rows x tokens": f"{size['n_batches']}x{size['batch_size']}x{size['max_new']}",
        "ours tok/s": ours_tps, "bare tok/s": bare_tps, "fidelity ratio": ours_tps / bare_tps})
