"""Runs an API model's cells in the parent process: every request of a cell is scheduled at once,
the model's concurrency limit decides how many are in flight, and records are written as they
finish (each as soon as the previous write is done, fsynced)."""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

from bench.backends import registry
from bench.backends.api import MissingKey
from bench.backends.base import ApiBackend, Request
from bench.config import ApiModel
from bench.core import measure
from bench.core.stats import percentile
from bench.core.types import Cell
from bench.errors import StorageError
from bench.execute.recording import Recorder, throughput
from bench.prepare.planning import Plan, missing


def make_backend(spec: ApiModel) -> ApiBackend:
    """The client its backend's registry entry makes (ValueError for a backend no entry names)."""
    return registry.of(spec).make(spec)


def run_api_model(name: str, spec: ApiModel, plans: dict[str, Plan], recorder: Recorder,
                  *, on_model: Callable, progress: Callable, repeats: int = 1,
                  done: dict[str, set[tuple[str, int]]] | None = None, gate=None, observe: Callable | None = None,
                  wall_shares: bool = False, stop: threading.Event | None = None) -> list[Cell]:
    """Run every planned task on one API model; done: per task, (example id, repeat) pairs already
    recorded, which are not requested again; gate: the --max-usd budget's (bench/spend/budget.py), which
    may refuse requests before they are sent. observe(cell), when given, is called before each cell
    and returns a function called after it (a served model's metrics). wall_shares: each record
    gets `wall_share_s`, the time since the previous answer arrived (a dedicated box's pricing).
    stop: set when the run stops (Ctrl-C in a run whose models run in threads): requests in flight
    are dropped, answers kept, and asyncio.CancelledError is raised here."""
    done = done or {}
    cells = {t: Cell(name, t, n=len(p.requests), batch_size=1, concurrency=spec.concurrency, repeats=repeats,
                     resumed_examples=len(done.get(t, ()))) for t, p in plans.items()}
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
    todo = {t: missing(p.requests, repeats, done.get(t, set())) for t, p in plans.items()}
    if gate is not None and gate.budget.stopped:  # the cap was reached by an earlier model: not even a warm-up
        for t, c in cells.items():
            unsent = sum(len(rs) for rs in todo[t])
            gate.budget.not_sent(unsent)
            c.status, c.reason = "stopped", _unsent_reason(unsent)
        on_model(name, {"status": "stopped", "reason": "--max-usd reached before this model started"})
        return list(cells.values())
    asyncio.run(_cells(backend, cells, todo, recorder, progress, gate, observe, wall_shares, stop))
    on_model(name, {"status": "loaded", **info.__dict__, "api_model_reported": backend.reported_model})
    return list(cells.values())


def _unsent_reason(unsent: int) -> str:
    return f"--max-usd reached: {unsent} request(s) not sent; --resume sends them"


async def _cells(backend: ApiBackend, cells: dict[str, Cell], todo: dict[str, list[list[Request]]],
                 recorder: Recorder, progress: Callable, gate=None, observe: Callable | None = None,
                 wall_shares: bool = False, stop: threading.Event | None = None) -> None:
    watch = asyncio.ensure_future(_cancel_when(stop, asyncio.current_task())) if stop is not None else None
    backend.open()  # SDK clients are made before any cell's clock starts
    first = next((r for rounds in todo.values() for rs in rounds for r in rs), None)
    if first is not None and (gate is None or gate.admit_warm_up(first, len(backend.clients))):
        attempts = await backend.warm_up(first)
        if gate is not None:
            gate.settle_warm_up(first, attempts)
    try:
        for task, rounds in todo.items():
            finish = observe(cells[task]) if observe is not None else None
            try:
                await _cell(backend, cells[task], rounds, recorder, progress, gate, wall_shares)
            finally:
                if finish is not None:
                    finish()
    finally:
        if watch is not None:
            watch.cancel()
        await backend.aclose()


async def _cancel_when(stop: threading.Event, task: asyncio.Task) -> None:
    """Cancel the model's task once `stop` is set (from the thread that runs the schedule)."""
    while not stop.is_set():
        await asyncio.sleep(0.05)
    task.cancel()


class _Writer:
    """Scores and appends answers as they arrive, off the event loop (streams in flight are read on
    time) and one write at a time: what arrives during a write goes into the next one, so a quiet
    moment writes at once and a busy one writes in groups."""

    def __init__(self, recorder: Recorder, cell: Cell, repeat: int):
        self.recorder, self.cell, self.repeat = recorder, cell, repeat
        self.buf: list[tuple[str, dict]] = []
        self.task: asyncio.Future | None = None

    def add(self, example_id: str, comp: dict) -> None:
        self.buf.append((example_id, comp))
        if self.task is None or self.task.done():
            if self.task is not None:
                self.task.result()  # a failed write stops the run
            self.task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self.buf:
            rows, self.buf = self.buf, []
            await asyncio.to_thread(self.recorder.record, self.cell, [r[0] for r in rows], [r[1] for r in rows],
                                    self.repeat)

    async def close(self) -> None:
        if self.task is not None:
            await self.task

    def save_rest(self) -> None:
        """On cancellation (Ctrl-C) or a failed write: answers not handed to a write yet go to disk
        now, unless the disk already refused one; a write in progress in its thread completes on
        its own."""
        failed = self.task is not None and self.task.done() and not self.task.cancelled() and self.task.exception()
        rows, self.buf = self.buf, []
        if rows and not isinstance(failed, StorageError):
            self.recorder.record(self.cell, [r[0] for r in rows], [r[1] for r in rows], self.repeat)


async def _cell(backend: ApiBackend, cell: Cell, rounds: list[list[Request]], recorder: Recorder,
                progress: Callable, gate=None, wall_shares: bool = False) -> None:
    submitted = sum(len(rs) for rs in rounds)
    bar = progress(total=submitted, desc=f"{cell.model} x {cell.task}")
    counts = {"retries": 0, "errors": 0}

    def on_retry() -> None:
        counts["retries"] += 1
        bar.set_postfix(counts, refresh=False)

    lags: list[float] = []
    monitor = asyncio.ensure_future(_loop_lag(lags))
    walls, first_error, unsent = [], None, 0
    try:
        for repeat, requests in enumerate(rounds):  # one repeat after another: each is a measured pass
            t0 = last = measure.now()
            pending = [asyncio.ensure_future(_one(backend, r, t0, on_retry, gate)) for r in requests]
            writer = _Writer(recorder, cell, repeat)
            try:
                for fut in asyncio.as_completed(pending):
                    req_id, comp = await fut
                    if comp is None:  # refused by the budget: not sent, not recorded
                        unsent += 1
                        bar.update(1)
                        continue
                    row = comp.to_dict()
                    if wall_shares:  # the shares of a pass sum to its wall time
                        now = measure.now()
                        row["wall_share_s"], last = now - last, now
                    writer.add(req_id, row)
                    if comp.error:
                        first_error = first_error or comp.error
                        counts["errors"] += 1
                        bar.set_postfix(counts, refresh=False)
                    bar.update(1)
                walls.append(measure.now() - t0 if requests else 0.0)
                await writer.close()
            except BaseException:  # cancelled (Ctrl-C), a full disk: requests in flight are dropped, answers kept
                writer.save_rest()
                raise
            finally:
                for fut in pending:
                    fut.cancel()
    finally:
        monitor.cancel()
        bar.close()
    cell.client_lag_p99_s = percentile(lags, 99) if lags else None
    cell.client_lag_samples = len(lags)
    cell.finish(first_error)
    throughput(cell, walls)  # only when every answer's tokens are known: a partial sum would understate it
    if unsent:
        cell.status, cell.reason = "stopped", _unsent_reason(unsent)


LAG_TICK_S = 0.005


async def _loop_lag(lags: list[float]) -> None:
    """How late the event loop wakes a 5 ms sleep: when the client itself is the bottleneck
    (too many requests per second for one Python process), its timings include that delay."""
    while True:
        t = measure.now()
        await asyncio.sleep(LAG_TICK_S)
        lags.append(max(0.0, measure.now() - t - LAG_TICK_S))


async def _one(backend: ApiBackend, request, queued_at: float, on_retry, gate=None):
    comp = await backend.complete(request, queued_at, on_retry, None if gate is None else gate.admit)
    if gate is not None and comp is not None:  # the reservation becomes the answer's actual cost
        gate.settle(request, comp.to_dict())
    return request.example_id, comp
