"""Schedules model x task cells: one worker process per local model, run one after another so each
has the machine to itself. The parent scores every completion and is the only writer of results."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import sys
from pathlib import Path

from bench.config import TransformersModel
from bench.hub import availability
from bench.planning import Plan, batches, missing
from bench.recording import Recorder, throughput
from bench.shapes import MEMORY_COLUMNS, pids_text
from bench.types import Cell
from bench.worker import Job
from bench.worker import main as worker_main


def run_local_model(name: str, spec: TransformersModel, plans: dict[str, Plan], recorder: Recorder,
                    *, device: str | None, spec_dir: Path, on_model: callable, progress, repeats: int = 1,
                    speed: bool = False, done: dict[str, set[tuple[str, int]]] | None = None) -> list[Cell]:
    """Run every planned task on one local model in its own process; return the cells.
    done: per task, the (example id, repeat) pairs already recorded, which are not run again."""
    done = done or {}
    cells = {t: Cell(name, t, n=len(p.requests), batch_size=spec.batch_size, repeats=repeats, engine=spec.engine,
                     resumed_examples=len(done.get(t, ()))) for t, p in plans.items()}
    loadable, why = availability(spec, spec_dir)
    if not loadable:
        for c in cells.values():
            c.status, c.reason = "skipped", f"model cannot be loaded: {why}"
        on_model(name, {"status": "skipped", "reason": why})
        return list(cells.values())
    jobs = [Job(t, [batches(todo, spec.batch_size) for todo in missing(p.requests, repeats, done.get(t, set()))],
                speed) for t, p in plans.items()]
    ctx = mp.get_context("spawn")  # a clean interpreter: no torch state inherited from the parent
    q = ctx.Queue()
    proc = ctx.Process(target=worker_main, args=(spec, device, spec_dir, jobs, q), daemon=True)
    proc.start()
    bars: dict[str, object] = {}
    failed_rows: dict[str, list[str]] = {}  # task -> errors of rows without an answer (none from today's backend)
    finished = gone = False
    try:
        while True:
            try:
                msg = q.get(timeout=1.0 if gone else 0.5)
            except queue_mod.Empty:
                if gone:  # the worker has exited and nothing more came: all it sent has been read
                    break
                gone = not proc.is_alive()
                continue
            kind = msg[0]
            if kind == "load_failed":
                for c in cells.values():
                    c.status, c.reason = "skipped", f"model cannot be loaded: {msg[1]}"
                on_model(name, {"status": "skipped", "reason": msg[1]})
            elif kind == "loaded":
                info = msg[1]
                on_model(name, {"status": "loaded", **info})
                for c in cells.values():
                    c.load_s, c.device, c.dtype = info["load_s"], info["device"], info["dtype"]
                    c.cold_start_s, c.weights_bytes = info["cold_start_s"], info["weights_bytes"]
            elif kind == "batch":
                _, task, repeat, ids, comps, size_used = msg
                cell = cells[task]
                cell.batch_size_used = min(cell.batch_size_used or size_used, size_used)
                if task not in bars:
                    bars[task] = progress(total=cell.n * cell.repeats - cell.resumed_examples, desc=f"{name} x {task}")
                recorder.record(cell, ids, comps, repeat)
                failed_rows.setdefault(task, []).extend(c["error"] for c in comps if c.get("error"))
                bars[task].update(len(ids))
            elif kind == "cell":
                _, task, figures = msg
                c = cells[task]
                c.finish(first_error=next(iter(failed_rows.get(task, [])), None))
                throughput(c, figures["wall_s_per_repeat"])
                for key in MEMORY_COLUMNS + ("energy_j", "energy_source", "energy_unavailable_reason"):
                    setattr(c, key, figures.get(key))
                others = figures["gpu_other_pids"]
                c.gpu_other_processes, c.gpu_other_pids = None if others is None else len(others), pids_text(others)
                if c.energy_j is not None and c.output_tokens:
                    c.joules_per_output_token = c.energy_j / c.output_tokens
                if task in bars:
                    bars.pop(task).close()
            elif kind == "cell_failed":
                c = cells[msg[1]]
                c.status, c.reason = "failed", msg[2]
                print(f"{name} x {msg[1]} failed:\n{msg[3]}", file=sys.stderr)
            elif kind == "done":
                finished = True
            if kind in ("done", "load_failed"):
                break
    except BaseException:  # Ctrl-C or a failure here: the worker must not outlive us
        proc.terminate()
        raise
    finally:
        for bar in bars.values():
            bar.close()
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
        q.close()
    if not finished:
        why = _death(proc.exitcode)
        for c in cells.values():
            if c.status == "pending":
                c.status, c.reason = "failed", f"worker process died ({why}) after {c.recorded} of {c.n} examples"
    return list(cells.values())


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "did not exit"
    if exitcode < 0:
        import signal

        sig = signal.Signals(-exitcode).name
        hint = "; killed by the system, often for lack of memory" if sig == "SIGKILL" else ""
        return f"signal {sig}{hint}"
    return f"exit code {exitcode}"


def stderr_progress(total: int, desc: str):
    """A live bar on a terminal; in a file or a pipe (CI logs), one line per finished cell instead
    of the bar's carriage-return frames."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, leave=True, dynamic_ncols=True)
    return LineProgress(total, desc)


class LineProgress:
    """The progress bar's interface (update, set_postfix, close), printing one line when closed:
    'model x task: 16/16 examples (retries=3)'. No time: a local cell's bar starts at its first
    batch, so its span would understate the cell; the table has the cell's wall time."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix, self._closed = total, desc, 0, {}, False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, values: dict, refresh: bool = True) -> None:
        self.postfix = dict(values)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        extra = ", ".join(f"{k}={v}" for k, v in self.postfix.items() if v)
        print(f"{self.desc}: {self.n}/{self.total} examples" + (f" ({extra})" if extra else ""),
              file=sys.stderr, flush=True)
