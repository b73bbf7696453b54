"""Served (`transformers serve`) against the same model run locally, on this machine's CPU:

1. outputs: the tiny random-weight model on ticket_routing, once as a local model (static
   batches) and once served (`transformers serve --continuous-batching`), greedy both; how many
   answers are equal, and the differing ones;
2. client-side TTFT against the server's own log: requests sent one at a time, the client's send
   and first-token times against the log's stamped "[Request received]" and access-log lines
   (the same monotonic clock);
3. `bench sweep` on the served model: capacity at a p95 target, and how long the sweep took.

    python benchmarks/served_vs_local.py [--limit 32] [--slo-p95-ms 4000] [--levels 1,2,4,8] [--requests 16]

Needs the `served` extra (pip install -e ".[served]"). Accuracy means nothing (random weights).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def bench(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def build_model(base: Path) -> Path:
    from bench import demo
    from bench.backends import tinymodel

    return tinymodel.build(base / "tiny-chat", demo.corpus(ROOT / "tasks"), hidden=64, layers=2, heads=4, seed=0,
                           eos_boost=1.3)


def outputs(tmp: Path, model: Path, limit: int) -> None:
    config = tmp / "models.toml"
    config.write_text(
        '[hardware.cpu]\nusd_per_hour = 0.1\n\n'
        f'[models.local]\nbackend = "transformers"\nmodel = "{model}"\ndevice = "cpu"\nbatch_size = 4\nhardware = "cpu"\n\n'
        f'[models.served]\nbackend = "served"\nserver = "transformers"\nmodel = "{model}"\nargs = ["--device", "cpu"]\n'
        'concurrency = 4\nhardware = "cpu"\nready_timeout_s = 600\n', encoding="utf-8")
    t0 = time.perf_counter()
    proc = bench("--config", str(config), "--tasks", "ticket_routing", "--limit", str(limit), "--out", str(tmp / "runs"))
    print(f"run: exit {proc.returncode} in {time.perf_counter() - t0:.1f} s")
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        return
    (folder,) = (tmp / "runs").iterdir()
    recs = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    by = {(r["model"], r["example_id"]): r for r in recs}
    ids = sorted({r["example_id"] for r in recs})
    same = [i for i in ids if by[("local", i)]["output"] == by[("served", i)]["output"]]
    print(f"1. outputs equal: {len(same)} of {len(ids)}")
    for i in ids:
        if i not in same:
            print(f"   {i}: local {by[('local', i)]['output']!r} ({by[('local', i)]['output_tokens']} tok) | "
                  f"served {by[('served', i)]['output']!r} ({by[('served', i)]['output_tokens']} tok)")
    cells = {c["model"]: c for c in map(json.loads, (folder / "cells.jsonl").read_text().splitlines())}
    for m in ("local", "served"):
        c = cells[m]
        print(f"   {m}: wall {c['wall_s']:.2f} s, {c['output_tokens_per_s']:.1f} out tok/s")
    print(f"   command: python -m bench --config {config} --tasks ticket_routing --limit {limit}")


def ttft_against_log(tmp: Path, model: Path, n: int = 8) -> None:
    from openai import OpenAI

    from bench.config import ServedModel
    from bench.serve.server import ManagedServer

    spec = ServedModel(backend="served", server="transformers", model=str(model), args=["--device", "cpu"])
    server = ManagedServer(spec, tmp / "ttft.log")
    server.start()
    try:
        server.wait_ready()
        client = OpenAI(base_url=server.url + "/v1", api_key="unused")
        client.chat.completions.create(model=str(model), messages=[{"role": "user", "content": "warm up"}],
                                       max_completion_tokens=2)
        sent, first, done = [], [], []
        for k in range(n):
            s = time.perf_counter()
            stream = client.chat.completions.create(model=str(model), stream=True, max_completion_tokens=16,
                                                    temperature=0.0,
                                                    messages=[{"role": "user", "content": f"ticket {k}: my order is late"}])
            f = None
            for chunk in stream:
                if f is None and chunk.choices and chunk.choices[0].delta.content:
                    f = time.perf_counter()
            sent.append(s - server._t0), first.append(f - server._t0), done.append(time.perf_counter() - server._t0)
    finally:
        server.stop()
    lines = (tmp / "ttft.log").read_text().splitlines()
    stamp = [float(x[1:x.index("s]")]) for x in lines if x.startswith("[")]
    text = [x[x.index("s]") + 3:] for x in lines if x.startswith("[")]
    received = [t for t, x in zip(stamp, text) if "[Request received]" in x][-n:]
    responded = [t for t, x in zip(stamp, text) if "POST /v1/chat/completions" in x][-n:]
    ttft = [1000 * (f - s) for s, f in zip(sent, first)]
    to_server = [1000 * (r - s) for s, r in zip(sent, received)]
    start = [1000 * (p - r) for r, p in zip(received, responded)]
    after = [1000 * (f - p) for p, f in zip(responded, first)]
    med = statistics.median
    print(f"2. client TTFT median {med(ttft):.0f} ms over {n} sequential requests; from the server log "
          f"(stamped on arrival at the client's monotonic clock): sent -> '[Request received]' {med(to_server):.0f} ms, "
          f"-> response start (access log) {med(start):.0f} ms, -> first token at the client {med(after):.0f} ms")


def sweep(tmp: Path, model: Path, slo: float, levels: str, requests: int) -> None:
    config = tmp / "sweep.toml"
    config.write_text(f'[hardware.cpu]\nusd_per_hour = 0.1\n\n[models.served]\nbackend = "served"\nserver = "transformers"\n'
                      f'model = "{model}"\nargs = ["--device", "cpu"]\nhardware = "cpu"\n', encoding="utf-8")
    t0 = time.perf_counter()
    proc = bench("sweep", "--config", str(config), "--models", "served", "--tasks", "ticket_routing", "--slo-p95-ms",
                 str(slo), "--levels", levels, "--requests", str(requests), "--out", str(tmp / "sweeps"))
    print(f"3. sweep: exit {proc.returncode}, {time.perf_counter() - t0:.1f} s in all (server start included)")
    print("   " + "\n   ".join(proc.stderr.strip().splitlines()[1:] + proc.stdout.strip().splitlines()[:1]))
    print(f"   command: python -m bench sweep --config {config} --models served --tasks ticket_routing "
          f"--slo-p95-ms {slo:g} --levels {levels} --requests {requests}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=32)
    p.add_argument("--slo-p95-ms", type=float, default=4000)
    p.add_argument("--levels", default="1,2,4,8")
    p.add_argument("--requests", type=int, default=16)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = build_model(tmp)
        outputs(tmp, model, args.limit)
        ttft_against_log(tmp, model)
        sweep(tmp, model, args.slo_p95_ms, args.levels, args.requests)


if __name__ == "__main__":
    main()
