"""When each cell ran, where, and beside which others: the host, GPUs, start and end of every cell
of a run, and the cells that overlapped it in time (their timings shared the machine with it).
Times are the parent's clock (one clock for every worker), taken as it hears a cell start and end."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

COLUMNS = ("host", "gpus", "started_utc", "finished_utc", "overlapped", "overlapped_cells")


def _utc(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Span:
    host: str | None
    gpus: str | None  # "0,1"; None on the CPU or for an API model
    start_s: float  # time.time() when the cell started
    end_s: float | None = None


@dataclass
class Place:
    host: str | None
    gpus: str | None


class Timeline:
    """Thread-safe: each model's thread opens and closes its cells; a cell's columns are read when
    it is written (every cell that overlapped it had started by then)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._spans: dict[tuple[str, str], Span] = {}
        self._places: dict[str, Place] = {}

    def place(self, model: str, *, host: str | None = None, gpus: str | None = None) -> None:
        """Where a model runs; host may be learnt later (a worker's machine, when it has loaded)."""
        with self._lock:
            p = self._places.setdefault(model, Place(None, None))
            p.host = host or p.host
            p.gpus = gpus if gpus is not None else p.gpus

    def observer(self, model: str) -> Callable:
        """observe(cell) for the runners: opens the cell's span and returns the function closing it."""

        def observe(cell) -> Callable[[], None]:
            with self._lock:
                p = self._places.get(model, Place(None, None))
                span = self._spans[model, cell.task] = Span(p.host, p.gpus, time.time())

            def end() -> None:
                with self._lock:
                    span.end_s = time.time()
            return end
        return observe

    def columns(self, model: str, task: str) -> dict:
        """The cell's placement columns; all None for a cell that never started."""
        with self._lock:
            span = self._spans.get((model, task))
            if span is None:
                return dict.fromkeys(COLUMNS)
            end = span.end_s if span.end_s is not None else time.time()
            others = sorted(f"{m}/{t}" for (m, t), o in self._spans.items()
                            if (m, t) != (model, task) and o.start_s < end and (o.end_s is None or o.end_s > span.start_s))
        return {"host": span.host, "gpus": span.gpus, "started_utc": _utc(span.start_s),
                "finished_utc": _utc(end), "overlapped": " ".join(others), "overlapped_cells": len(others)}


def chained(*observers: Callable | None) -> Callable | None:
    """One observe(cell) that calls each given one, and ends them in reverse order."""
    given = [o for o in observers if o is not None]
    if len(given) <= 1:
        return given[0] if given else None

    def observe(cell) -> Callable[[], None]:
        ends = [o(cell) for o in given]

        def end() -> None:
            for e in reversed(ends):
                if e is not None:
                    e()
        return end
    return observe
