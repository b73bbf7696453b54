"""Runs an API model's cells in the parent process: every request of a cell is scheduled at once,
the model's concurrency limit decides how many are in flight, and records are written as they
finish (in small groups, flushed to disk)."""

from __future__ import annotations

import asyncio
from typing import Callable

from bench import measure
from bench.backends.api import ApiBackend, MissingKey
from bench.config import AnthropicModel, OpenAIModel
from bench.runner import Cell, Plan, Recorder, throughput
from bench.stats import percentile

FLUSH_EVERY = 16  # records per write
FLUSH_AFTER_S = 0.5  # or this long since the last write


def make_backend(spec: OpenAIModel | AnthropicModel) -> ApiBackend:
    if spec.backend == "openai":
        from bench.backends.openai import OpenAIBackend

        return OpenAIBackend(spec)
    from bench.backends.anthropic import AnthropicBackend

    return AnthropicBackend(spec)


def run_api_model(name: str, spec: OpenAIModel | AnthropicModel, plans: dict[str, Plan], recorder: Recorder,
                  *, on_model: Callable, progress: Callable, repeats: int = 1) -> list[Cell]:
    cells = {t: Cell(name, t, n=len(p.requests), batch_size=1, concurrency=spec.concurrency, repeats=repeats)
             for t, p in plans.items()}
    backend = make_backend(spec)
    try:
        info = backend.load()
    except MissingKey as e:
        for c in cells.values():
            c.status, c.reason = "no_key", f"{e}; set it to run this model"
        on_model(name, {"status": "no_key", "reason": str(e)})
        return list(cells.values())
    except Exception as e:  # a missing SDK or a tokenizer that cannot load
        for c in cells.values():
            c.status, c.reason = "skipped", f"model could not be set up: {type(e).__name__}: {e}"
        on_model(name, {"status": "skipped", "reason": f"{type(e).__name__}: {e}"})
        return list(cells.values())
    for c in cells.values():
        c.load_s, c.device = info.load_s, info.device
    asyncio.run(_cells(backend, cells, plans, recorder, progress))
    on_model(name, {"status": "loaded", **info.__dict__, "api_model_reported": backend.reported_model})
    return list(cells.values())


async def _cells(backend: ApiBackend, cells: dict[str, Cell], plans: dict[str, Plan], recorder: Recorder,
                 progress: Callable) -> None:
    backend.open()  # SDK clients are made before any cell's clock starts
    await backend.warm_up(next(iter(plans.values())).requests[0])
    try:
        for task, p in plans.items():
            await _cell(backend, cells[task], p, recorder, progress)
    finally:
        await backend.aclose()


async def _cell(backend: ApiBackend, cell: Cell, p: Plan, recorder: Recorder, progress: Callable) -> None:
    bar = progress(total=cell.n * cell.repeats, desc=f"{cell.model} x {cell.task}")
    counts = {"retries": 0, "errors": 0}

    def on_retry() -> None:
        counts["retries"] += 1
        bar.set_postfix(counts, refresh=False)

    lags: list[float] = []
    monitor = asyncio.ensure_future(_loop_lag(lags))
    walls, first_error = [], None
    try:
        for repeat in range(cell.repeats):  # one repeat after another: each is a measured pass
            t0 = measure.now()
            pending = [asyncio.ensure_future(_one(backend, r, t0, on_retry)) for r in p.requests]
            ids, comps, flushed = [], [], measure.now()
            try:
                for fut in asyncio.as_completed(pending):
                    req_id, comp = await fut
                    ids.append(req_id)
                    comps.append(comp.to_dict())
                    if comp.error:
                        first_error = first_error or comp.error
                        counts["errors"] += 1
                        bar.set_postfix(counts, refresh=False)
                    bar.update(1)
                    if len(ids) >= FLUSH_EVERY or measure.now() - flushed > FLUSH_AFTER_S:
                        # scoring and fsync off the event loop, so streams in flight are read on time
                        await asyncio.to_thread(recorder.record, cell, ids, comps, repeat)
                        ids, comps, flushed = [], [], measure.now()
                walls.append(measure.now() - t0)
                await asyncio.to_thread(recorder.record, cell, ids, comps, repeat)
            finally:
                for fut in pending:
                    fut.cancel()
    finally:
        monitor.cancel()
        bar.close()
    cell.client_lag_p99_s = percentile(lags, 99) if lags else None
    if cell.errors == cell.n * cell.repeats:
        cell.status, cell.reason = "failed", f"every request failed; first error: {first_error}"
    else:
        cell.status = "ok"
    throughput(cell, walls)  # only when every answer's tokens are known: a partial sum would understate it


LAG_TICK_S = 0.005


async def _loop_lag(lags: list[float]) -> None:
    """How late the event loop wakes a 5 ms sleep: when the client itself is the bottleneck
    (too many requests per second for one Python process), its timings include that delay."""
    while True:
        t = measure.now()
        await asyncio.sleep(LAG_TICK_S)
        lags.append(max(0.0, measure.now() - t - LAG_TICK_S))


async def _one(backend: ApiBackend, request, queued_at: float, on_retry):
    return request.example_id, await backend.complete(request, queued_at, on_retry)
