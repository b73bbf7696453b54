"""API client overhead against the local wire-format server (tests/fakeapi.py), through the real SDKs.

1. Throughput under concurrency: N requests at concurrency C, each taking a fixed latency at the
   server; wall time over the ideal N / C x latency (goal: at most 1.15).
The server runs in a process of its own, as a real one would.

2. Client overhead on TTFT: our measured ttft_s minus the server's own first-token time
   (first token sent - request received), median and p99, at concurrency 1 and 64.

    python benchmarks/api_concurrency.py [--requests 512] [--concurrency 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakeapi import FakeAPIProcess  # noqa: E402

from bench.backends.anthropic import AnthropicBackend  # noqa: E402
from bench.backends.base import Request  # noqa: E402
from bench.backends.openai import OpenAIBackend  # noqa: E402
from bench.config import AnthropicModel, OpenAIModel  # noqa: E402
from bench.core.stats import percentile  # noqa: E402


def backend(kind: str, api: FakeAPIProcess, concurrency: int, stream: bool):
    common = dict(model="bench", api_key_env="BENCH_KEY", concurrency=concurrency, stream=stream)
    b = (OpenAIBackend(OpenAIModel(backend="openai", base_url=api.base_url, **common)) if kind == "openai"
         else AnthropicBackend(AnthropicModel(backend="anthropic", base_url=api.root_url, **common)))
    b.load()
    return b


async def run(b, n: int):
    reqs = [Request(f"r{i}", [{"role": "user", "content": f"request r{i}"}], 4) for i in range(n)]
    try:
        await b.generate(reqs[: min(8, n)])  # warm the connection pool and the SDK's first-call paths
        t0 = time.perf_counter()
        out = await b.generate(reqs)
        return time.perf_counter() - t0, reqs, out
    finally:
        await b.aclose()


def throughput(kind: str, stream: bool, n: int, conc: int, latency: float) -> tuple[float, float]:
    api_kw = {"ttft_s": latency} if stream else {"latency_s": latency}
    with FakeAPIProcess("ok", **api_kw) as api:
        wall, _, out = asyncio.run(run(backend(kind, api, conc, stream), n))
    assert all(c.error is None for c in out)
    return wall, wall / (n / conc * latency)


def raw_httpx(n: int, conc: int, latency: float) -> tuple[float, float]:
    """Reference floor: the same requests with a bare HTTP client (8 pools), no SDK."""
    import httpx2 as httpx  # the HTTP library the SDKs use

    async def go(url: str) -> float:
        clients = [httpx.AsyncClient() for _ in range(8)]
        slots = asyncio.Semaphore(conc)
        body = {"model": "bench", "messages": [{"role": "user", "content": "x"}]}

        async def one(i: int) -> None:
            async with slots:
                (await clients[i % 8].post(url + "/chat/completions", json=body)).json()
        await asyncio.gather(*(one(i) for i in range(16)))
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
        for c in clients:
            await c.aclose()
        return wall

    with FakeAPIProcess("ok", latency_s=latency) as api:
        wall = asyncio.run(go(api.base_url))
    return wall, wall / (n / conc * latency)


def ttft_overhead(kind: str, n: int, conc: int, ttft: float) -> tuple[float, float]:
    with FakeAPIProcess("one two three", ttft_s=ttft, itl_s=0.001) as api:
        _, reqs, out = asyncio.run(run(backend(kind, api, conc, True), n))
        served = {s.body["messages"][-1]["content"].split()[-1]: s for s in api.stop()}
    gaps = [1000 * (c.ttft_s - (served[r.example_id].first_token_at - served[r.example_id].received_at))
            for r, c in zip(reqs, out)]
    return percentile(gaps, 50), percentile(gaps, 99)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=512)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--latency", type=float, default=0.1)
    a = p.parse_args()
    os.environ.setdefault("BENCH_KEY", "local")
    ideal = a.requests / a.concurrency * a.latency
    print(f"{a.requests} requests at concurrency {a.concurrency}, {a.latency * 1000:.0f} ms each at the server; "
          f"ideal wall {ideal:.2f} s")
    print(f"{'backend':10} {'mode':10} {'wall s':>7} {'wall/ideal':>10}")
    for kind in ("openai", "anthropic"):
        for stream in (True, False):
            wall, ratio = throughput(kind, stream, a.requests, a.concurrency, a.latency)
            print(f"{kind:10} {'stream' if stream else 'no stream':10} {wall:7.3f} {ratio:10.3f}")
    try:
        wall, ratio = raw_httpx(a.requests, a.concurrency, a.latency)
        print(f"{'httpx':10} {'no SDK':10} {wall:7.3f} {ratio:10.3f}   (reference floor, not the product path)")
    except ImportError:
        pass
    print("\nTTFT overhead: measured ttft_s - server's first-token time (ms), 200 ms server TTFT")
    print(f"{'backend':10} {'concurrency':>11} {'n':>5} {'p50 ms':>7} {'p99 ms':>7}")
    for kind in ("openai", "anthropic"):
        for conc, n in ((1, 64), (a.concurrency, a.requests)):
            p50, p99 = ttft_overhead(kind, n, conc, 0.2)
            print(f"{kind:10} {conc:11d} {n:5d} {p50:7.2f} {p99:7.2f}")


if __name__ == "__main__":
    main()
