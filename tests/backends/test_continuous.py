"""The continuous engine against the static one on tiny models: the same greedy answers and token
counts, per-request times that make sense, out-of-memory back-off, and runs through the CLI
(end to end, and killed then resumed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

torch = pytest.importorskip("torch")

from conftest import ROOT, TASKS, write_models_toml  # noqa: E402

from bench.backends.base import Request  # noqa: E402
from bench.backends.continuous import ContinuousEngine, EngineOOM  # noqa: E402
from bench.backends.transformers import TransformersBackend  # noqa: E402
from bench.config import TransformersModel  # noqa: E402
from bench.prepare import tasks  # noqa: E402
from bench.prepare.taskfiles import load_task


@pytest.fixture(scope="module")
def backends(tiny_models):
    out = {}
    for name, path in tiny_models.items():
        b = TransformersBackend(TransformersModel(backend="transformers", model=str(path), device="cpu",
                                                  engine="continuous"))
        b.load()
        out[name] = b
    return out


def requests(task: str, n: int, max_new: int | None = None) -> list[Request]:
    data = tasks.load(load_task(TASKS / f"{task}.toml"), limit=n)
    gen = data.task.spec.generation
    return [Request(ex.id, tasks.render(data, ex), max_new or gen.max_new_tokens, tuple(gen.stop))
            for ex in data.examples]


def static(b: TransformersBackend, reqs: list[Request], size: int):
    return [c for i in range(0, len(reqs), size) for c in b.generate_batch(reqs[i:i + size])]


def continuous(b: TransformersBackend, reqs: list[Request], in_flight: int):
    got, shares = {}, []

    def deliver(rows, wall_s):
        shares.append(wall_s)
        got.update({r.example_id: c for r, c in rows})

    size, wall_s = ContinuousEngine(b).run(reqs, in_flight, False, deliver)
    return [got[r.example_id] for r in reqs], size, wall_s, shares


@pytest.mark.parametrize("model,task,max_new", [("tiny-chat", "ticket_routing", 12),  # stop "\n"
                                                ("tiny-plain", "email_summary", 24)])  # no stop string
def test_greedy_answers_and_token_counts_equal_the_static_engine(backends, model, task, max_new):
    b = backends[model]
    reqs = requests(task, 10, max_new)
    ref = static(b, reqs, 4)
    got, size, wall_s, shares = continuous(b, reqs, 4)
    assert size == 4
    for r, s, c in zip(reqs, ref, got):
        assert (c.text, c.output_tokens, c.finish_reason) == (s.text, s.output_tokens, s.finish_reason), r.example_id
        assert c.input_tokens == s.input_tokens == len(b.encode([r])["input_ids"][0])  # the model's tokenizer
        assert c.token_source == "tokenizer" and c.batch_size == 4
    assert {c.finish_reason for c in got} == {"stop", "length"}  # rows that end early, and rows that run out
    # the shares of box time add up to the pass's wall time: the cell's cost is its wall time
    assert sum(shares) == pytest.approx(wall_s, rel=1e-6)


def test_per_request_times(backends):
    reqs = requests("email_summary", 9, 16)
    got, _, wall_s, _ = continuous(backends["tiny-plain"], reqs, 3)
    for c in got:
        assert 0 <= c.queue_s <= wall_s
        assert 0 < c.ttft_s <= c.latency_s <= wall_s
        if c.output_tokens > 1:
            assert c.tpot_s == pytest.approx((c.latency_s - c.ttft_s) / (c.output_tokens - 1))
    # three in flight: the last requests waited for a slot, the first ones did not
    assert max(c.queue_s for c in got) > min(c.queue_s for c in got[:3]) + min(c.latency_s for c in got[:3]) / 2


def test_out_of_memory_halves_the_requests_in_flight(backends, monkeypatch):
    b = backends["tiny-chat"]
    reqs = requests("ticket_routing", 8, 8)
    ref = static(b, reqs, 4)
    forward, calls = b.model.forward, {"n": 0}

    def once_out_of_memory(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # mid-pass, with requests in flight and some delivered
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(*args, **kwargs)

    monkeypatch.setattr(b.model, "forward", once_out_of_memory)
    got, size, _, _ = continuous(b, reqs, 4)
    assert size == 2
    assert [(c.text, c.output_tokens) for c in got] == [(s.text, s.output_tokens) for s in ref]


def test_out_of_memory_with_one_in_flight_fails(backends, monkeypatch):
    b = backends["tiny-chat"]

    def always(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(b.model, "forward", always)
    with pytest.raises(EngineOOM):
        continuous(b, requests("ticket_routing", 2, 4), 1)


# ---------------------------------------------------------------- through the CLI


def bench(*args: str, wait: bool = True, log=None):
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env,
                            stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if wait:
        out, _ = proc.communicate(timeout=300)
        return proc.returncode, out
    return proc


def read(folder, name):
    return [json.loads(x) for x in (folder / name).read_text(encoding="utf-8").splitlines()]


def test_a_killed_continuous_run_resumes_with_only_the_missing_examples(tiny_models, tmp_path):
    """End to end through `python -m bench`: kill -9 once some answers are on disk, resume."""
    write_models_toml(tmp_path / "models.toml", {"tiny-cont": tiny_models["tiny-chat"]}, batch_size=3)
    text = (tmp_path / "models.toml").read_text().replace("[models.tiny-cont]\n",
                                                          '[models.tiny-cont]\nengine = "continuous"\n')
    (tmp_path / "models.toml").write_text(text)
    args = ["--config", str(tmp_path / "models.toml"), "--tasks-dir", str(TASKS), "--tasks", "email_summary",
            "--limit", "8", "--out", str(tmp_path / "res")]
    log = open(tmp_path / "log.txt", "w")
    proc = bench(*args, wait=False, log=log)
    records = None
    while proc.poll() is None:  # kill -9 as soon as some answers are on disk
        found = list((tmp_path / "res").glob("*/records.jsonl")) if (tmp_path / "res").exists() else []
        if found and found[0].read_bytes().count(b"\n") >= 2:
            proc.send_signal(signal.SIGKILL)
            records = found[0]
            break
        time.sleep(0.003)
    proc.wait()
    assert records is not None, "the kill must land before the run ends: " + (tmp_path / "log.txt").read_text()
    kept = [x for x in records.read_bytes().splitlines(keepends=True) if x.endswith(b"\n")]
    rc, out = bench("--resume", str(records.parent))
    assert rc == 0, out
    after = records.read_bytes().splitlines(keepends=True)
    assert after[:len(kept)] == kept  # what was written stays, untouched
    recs = [json.loads(x) for x in after]
    keys = [(r["task"], r["example_id"]) for r in recs]
    assert len(keys) == len(set(keys)) == 8  # each example once: only the missing ones ran
    cells = {c["task"]: c for c in read(records.parent, "cells.jsonl")}
    assert sum(c["resumed_examples"] for c in cells.values()) == len(kept)
    assert {c["engine"] for c in cells.values()} == {"continuous"} and {c["status"] for c in cells.values()} == {"ok"}
    manifest = json.loads((records.parent / "manifest.json").read_text())
    assert manifest["models"]["tiny-cont"]["config"]["engine"] == "continuous"
    for r in recs:  # per-request figures, and what re-pricing from records alone needs
        assert r["queue_s"] >= 0 and 0 < r["ttft_s"] <= r["latency_s"] and r["token_source"] == "tokenizer"
        assert r["cost_usd"] == pytest.approx(r["batch_wall_s"] / r["batch_wall_rows"] * 0.5 / 3600)
