"""Runs a local model's cells: its worker is started by a launcher (a process here, or a Ray task),
and each message it sends is handled here, in the parent, which scores and writes every record."""

from __future__ import annotations

import queue as queue_mod
import sys
import threading
from pathlib import Path
from typing import Callable

from bench.backends import registry
from bench.config import TransformersModel
from bench.core.shapes import MEMORY_COLUMNS, pids_text
from bench.core.types import Cell
from bench.execute.launch import Launcher, LocalLauncher, Stopped, WorkerHandle
from bench.execute.messages import Batch, CellDone, CellFailed, CellStarted, Done, Loaded, LoadFailed
from bench.execute.recording import Recorder, throughput
from bench.execute.worker import Job
from bench.prepare.planning import Plan, batches, missing

METERED = MEMORY_COLUMNS + ("energy_j", "energy_source", "energy_unavailable_reason")


def run_local_model(name: str, spec: TransformersModel, plans: dict[str, Plan], recorder: Recorder,
                    *, device: str | None, spec_dir: Path, on_model: Callable, progress, repeats: int = 1,
                    speed: bool = False, done: dict[str, set[tuple[str, int]]] | None = None,
                    launcher: Launcher | None = None, gpus: tuple[int, ...] = (),
                    observe: Callable | None = None, stop: threading.Event | None = None) -> list[Cell]:
    """Run every planned task on one local model in its own worker; return the cells.
    done: per task, the (example id, repeat) pairs already recorded, which are not run again.
    gpus: the GPUs the worker may see (none: as the machine shows them). observe(cell), when given,
    is called as each cell starts and returns a function called when it ends (as in api_runner).
    on_model(name, info) hears the load; a loaded model's info has `node`, the worker's machine.
    stop: set when the run stops; the worker is then stopped and launch.Stopped raised."""
    done = done or {}
    cells = {t: Cell(name, t, n=len(p.requests), batch_size=spec.batch_size, repeats=repeats, engine=spec.engine,
                     resumed_examples=len(done.get(t, ()))) for t, p in plans.items()}
    found = registry.availability(spec, spec_dir)
    if not found.ok:
        for c in cells.values():
            c.status, c.reason = "skipped", f"model cannot be loaded: {found.reason}"
        on_model(name, {"status": "skipped", "reason": found.reason})
        return list(cells.values())
    jobs = [Job(t, [batches(todo, spec.batch_size) for todo in missing(p.requests, repeats, done.get(t, set()))],
                speed) for t, p in plans.items()]
    handle = (launcher or LocalLauncher()).start(spec, device, spec_dir, jobs, gpus)
    session = Session(name, cells, recorder, on_model, progress, observe)
    try:
        finished = drain(handle, session.handle, stop)
    finally:  # Ctrl-C or a failure here included: the worker must not outlive us
        session.close()
        handle.stop()
    if not finished:
        why = handle.death() or "it ended before its last cell"
        for c in cells.values():
            if c.status == "pending":
                c.status, c.reason = "failed", (f"worker process died ({why}) after {c.recorded} of {c.n} "
                                                f"examples ({handle.where})")
    return list(cells.values())


def drain(handle: WorkerHandle, handle_message: Callable, stop: threading.Event | None = None) -> bool:
    """Hand every message of the worker to handle_message until it is done (True) or gone: failed
    to load, or ended without saying it was done (False, once all it sent has been read).
    Raises launch.Stopped as soon as `stop` is set."""
    gone = False
    while True:
        if stop is not None and stop.is_set():
            raise Stopped()
        try:
            msg = handle.get(timeout=1.0 if gone else 0.5)
        except queue_mod.Empty:
            if gone:  # the worker has exited and nothing more came: all it sent has been read
                return False
            gone = handle.exited()
            continue
        handle_message(msg)
        if isinstance(msg, (Done, LoadFailed)):
            return isinstance(msg, Done)


class Session:
    """One local model's cells, updated by each kind of message its worker sends."""

    def __init__(self, name: str, cells: dict[str, Cell], recorder: Recorder, on_model: Callable, progress,
                 observe: Callable | None = None):
        self.name, self.cells, self.recorder, self.on_model = name, cells, recorder, on_model
        self.progress, self.observe = progress, observe
        self.bars: dict[str, object] = {}
        self.errors: dict[str, list[str]] = {}  # task -> errors of rows without an answer
        self.ending: dict[str, Callable] = {}  # task -> what observe returned for its cell

    def handle(self, msg) -> None:
        match msg:
            case Loaded():
                self.loaded(msg)
            case LoadFailed(reason=why):
                for c in self.cells.values():
                    c.status, c.reason = "skipped", f"model cannot be loaded: {why}"
                self.on_model(self.name, {"status": "skipped", "reason": why})
            case CellStarted(task=task):
                if self.observe is not None:
                    self.ending[task] = self.observe(self.cells[task])
            case Batch():
                self.batch(msg)
            case CellDone():
                self.cell_done(msg)
            case CellFailed(task=task, reason=why, traceback=trace):
                self.cells[task].status, self.cells[task].reason = "failed", why
                self._end(task)
                print(f"{self.name} x {task} failed:\n{trace}", file=sys.stderr)

    def loaded(self, msg: Loaded) -> None:
        info = msg.info
        self.on_model(self.name, {"status": "loaded", **info, "node": msg.environment})
        for c in self.cells.values():
            c.load_s, c.device, c.dtype = info["load_s"], info["device"], info["dtype"]
            c.cold_start_s, c.weights_bytes = info["cold_start_s"], info["weights_bytes"]

    def batch(self, msg: Batch) -> None:
        cell = self.cells[msg.task]
        cell.batch_size_used = min(cell.batch_size_used or msg.batch_size_used, msg.batch_size_used)
        if msg.task not in self.bars:
            self.bars[msg.task] = self.progress(total=cell.n * cell.repeats - cell.resumed_examples,
                                                desc=f"{self.name} x {msg.task}")
        self.recorder.record(cell, msg.example_ids, msg.completions, msg.repeat)
        self.errors.setdefault(msg.task, []).extend(c["error"] for c in msg.completions if c.get("error"))
        self.bars[msg.task].update(len(msg.example_ids))

    def cell_done(self, msg: CellDone) -> None:
        c, figures = self.cells[msg.task], msg.figures
        c.finish(first_error=next(iter(self.errors.get(msg.task, [])), None))
        throughput(c, figures["wall_s_per_repeat"])
        for key in METERED:
            setattr(c, key, figures.get(key))
        others = figures["gpu_other_pids"]
        c.gpu_other_processes, c.gpu_other_pids = None if others is None else len(others), pids_text(others)
        if c.energy_j is not None and c.output_tokens:
            c.joules_per_output_token = c.energy_j / c.output_tokens
        self._end(msg.task)

    def _end(self, task: str) -> None:
        if task in self.bars:
            self.bars.pop(task).close()
        ending = self.ending.pop(task, None)
        if ending is not None:
            ending()

    def close(self) -> None:
        """The bars closed, and cells the worker did not finish ended for observe."""
        for task in list(self.bars) + list(self.ending):
            self._end(task)
