"""Which model runs when, and on which devices: each model's job runs in a thread of the parent
(a local model's thread drives its worker, an API model's runs its event loop), as many at once as
the free GPUs, the CPU slots and --parallel allow, in plan order. The parent alone writes the run
folder; Ctrl-C, SIGTERM or a failure in one job stops every other and leaves a resumable run."""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass, field
from typing import Callable

from bench.backends import registry
from bench.core.types import Cell
from bench.errors import InputError
from bench.execute import devices
from bench.execute.devices import Need
from bench.execute.launch import Launcher, LocalLauncher
from bench.execute.recording import Recorder
from bench.execute.timeline import COLUMNS, Timeline
from bench.runfolder.store import CELLS
from bench.spend import budget as spend

SKIPPED_DATA = "task data unavailable"  # the reason of a cell whose task's data could not be loaded


@dataclass
class Context:
    """What every model's job shares: the run's inputs, its folder, and the locks that keep the
    parent the single, consistent writer while several jobs run."""

    opts: object  # run.Options
    prep: object  # run.Prepared
    store: object  # store.RunStore
    man: dict
    recorder: Recorder
    pricing: dict
    budget: object  # budget.Budget | None
    done: set  # (model, task, example id, repeat) recorded before this session
    progress: Callable
    warn: Callable
    launcher: Launcher = field(default_factory=LocalLauncher)
    timeline: Timeline = field(default_factory=Timeline)
    stop: threading.Event = field(default_factory=threading.Event)
    manifest_lock: threading.Lock = field(default_factory=threading.Lock)

    def on_model(self, name: str, info: dict) -> None:
        """A model's load (or why it cannot run) into the manifest; a worker's machine into `nodes`."""
        with self.manifest_lock:  # one update and write at a time: a dict is not dumped while it changes
            node = info.pop("node", None)
            if node:
                self.man.setdefault("nodes", {})[node["host"]] = node
                info["host"] = node["host"]
                self.timeline.place(name, host=node["host"])
            self.man["models"][name].update(info)
            self.store.write_manifest(self.man)
        if info["status"] in ("skipped", "no_key") and name not in self.prep.blocked:  # found out only now
            self.warn(f"skipping {name}: {info['reason']}")
        elif info["status"] == "failed":
            self.warn(f"{name} failed: {info['reason']}")


def pool_of(opts) -> tuple[int, ...]:
    """The GPUs of the run (--devices, else every visible one); InputError for a bad --devices or --parallel."""
    devices.parse_parallel(opts.parallel)
    return devices.parse_devices(opts.devices, devices.visible_gpus())


def needs(opts, prep, pool: tuple[int, ...]) -> dict[str, Need]:
    """What each model takes while it runs; InputError for one that the pool can never satisfy."""
    out = {}
    for name in prep.models:
        spec = prep.models_cfg.models[name]
        if registry.of(spec).local and opts.executor == "ray":
            out[name] = Need()  # Ray places it on a node with its GPUs (bench/execute/ray_exec.py checks one has them)
            continue
        if registry.of(spec).runs == "local":  # --device moves it unless its device_map places it
            device = opts.device if opts.device and spec.follows_device_flag() else spec.device
            out[name] = devices.need_of(device, spec.gpu_count(), pool)
        elif registry.of(spec).runs == "served":  # its server runs here, on GPUs when there are
            out[name] = devices.need_of("auto", spec.gpu_count(), pool)
        else:
            out[name] = Need()
        problem = None if name in prep.blocked else devices.need_problem(name, out[name], pool)
        if problem:
            key = "device" if out[name].pinned_outside is not None else "gpus"
            raise InputError(f"{opts.config}: key 'models.{name}.{key}': {problem}")
    return out


class Slots:
    """The devices free now and the cap on models at once (used from the scheduling thread only)."""

    def __init__(self, pool: tuple[int, ...], parallel: int | None, models: int):
        self.free = list(pool)
        self.cpu_free = parallel or 1  # local models share the CPU one at a time unless --parallel says
        self.cap, self.running = parallel or max(models, 1), 0

    def take(self, need: Need) -> tuple[int, ...] | None:
        """The GPUs given (empty for none) if the model can start now, else None."""
        if self.running >= self.cap:
            return None
        if need.pinned is not None:
            if need.pinned not in self.free:
                return None
            got = (need.pinned,)
        elif need.gpus:
            if len(self.free) < need.gpus:
                return None
            got = tuple(self.free[:need.gpus])
        elif need.cpu:
            if not self.cpu_free:
                return None
            self.cpu_free, got = self.cpu_free - 1, ()
        else:
            got = ()
        self.free = [g for g in self.free if g not in got]
        self.running += 1
        return got

    def give(self, need: Need, got: tuple[int, ...]) -> None:
        self.running -= 1
        self.free = sorted(self.free + list(got))
        self.cpu_free += need.cpu


def run_models(ctx: Context, need: dict[str, Need], pool: tuple[int, ...]) -> dict[str, list[dict]]:
    """Every model's job, started in plan order as soon as what it needs is free; returns each
    model's cells.jsonl rows (written as each job ends), in the order the jobs ended."""
    slots = Slots(pool, ctx.opts.parallel, len(ctx.prep.models))
    waiting, running, results = list(ctx.prep.models), {}, {}
    finished: queue.Queue = queue.Queue()
    try:
        while waiting or running:
            for name in list(waiting):
                got = slots.take(need[name])
                if got is not None:
                    waiting.remove(name)
                    running[name] = (_start(ctx, name, need[name], got, finished), got)
            if not running:  # needs() refuses a model that could never start: this is a bug, not a wait
                raise RuntimeError(f"no model of {waiting} can start on {pool}")
            name, rows, error = _next(finished)
            thread, got = running.pop(name)
            thread.join()
            slots.give(need[name], got)
            if error is not None:
                raise error
            results[name] = rows
    except BaseException:  # Ctrl-C, SIGTERM, a full disk: every other job stops and keeps its answers
        ctx.stop.set()
        for thread, _ in running.values():
            thread.join()
        raise
    return results


def _next(finished: queue.Queue):
    while True:  # a timeout, so that Ctrl-C reaches this (the main) thread at once
        try:
            return finished.get(timeout=0.2)
        except queue.Empty:
            continue


def _start(ctx: Context, name: str, need: Need, got: tuple[int, ...], finished: queue.Queue) -> threading.Thread:
    def job() -> None:
        try:
            finished.put((name, _model_job(ctx, name, need, got), None))
        except BaseException as e:  # raised again in the scheduling thread
            finished.put((name, None, e))

    thread = threading.Thread(target=job, name=f"bench model {name}", daemon=True)
    thread.start()
    return thread


def _model_job(ctx: Context, name: str, need: Need, got: tuple[int, ...]) -> list[dict]:
    """One model's cells run, and written to cells.jsonl with where and beside what they ran."""
    ctx.timeline.place(name, host=socket.gethostname(), gpus=",".join(map(str, got)) or None)
    model_cells = run_model(ctx, name, () if need.pinned is not None else got)
    skipped = [Cell(name, task, status="skipped", reason=f"{SKIPPED_DATA}: {why}")
               for task, why in ctx.prep.skipped_tasks.items()]
    rows = [{**c.row(ctx.store.run_id), **ctx.timeline.columns(name, c.task)} for c in model_cells + skipped]
    ctx.store.append(CELLS, rows)
    return rows


def run_model(ctx: Context, name: str, gpus: tuple[int, ...]) -> list[Cell]:
    """Every task a model still has to run, by the runner of its kind; gpus: those its worker or
    server may see (none: as the machine shows them)."""
    opts, prep = ctx.opts, ctx.prep
    spec = prep.models_cfg.models[name]
    done_m = {t: {(e, rep) for m, tt, e, rep in ctx.done if m == name and tt == t} for t in prep.plans}
    todo = {t: p for t, p in prep.plans.items()
            if any((r.example_id, rep) not in done_m[t] for r in p.requests for rep in range(opts.repeats))}
    common = {"on_model": ctx.on_model, "progress": ctx.progress, "repeats": opts.repeats, "done": done_m,
              "observe": ctx.timeline.observer(name), "stop": ctx.stop}
    if name in prep.blocked:  # known before the run started, reported above
        ctx.on_model(name, {"status": prep.blocked[name][0], "reason": prep.blocked[name][1]})
        return blocked_cells(name, spec, todo, prep.blocked[name], opts.repeats, done_m)
    if not todo:
        return []
    runs = registry.of(spec).runs
    if runs == "local":
        from bench.execute.local_runner import run_local_model

        pinned = ctx.man["models"][name].get("resolved_revision") if opts.resume else None
        if pinned:  # a resumed run loads the commit it started with, not what "main" is today
            spec = spec.model_copy(update={"revision": pinned})
        return run_local_model(name, spec, todo, ctx.recorder, device=opts.device, spec_dir=opts.config.parent,
                               speed=opts.speed, launcher=ctx.launcher, gpus=gpus, **common)
    if runs == "served":
        from bench.execute.served import run_served_model

        return run_served_model(name, spec, todo, ctx.recorder, run_dir=ctx.store.path, gpus=gpus, **common)
    from bench.execute.api_runner import run_api_model

    return run_api_model(name, spec, todo, ctx.recorder, gate=spend.gate(ctx.budget, spec, ctx.pricing[name]),
                         **common)


def blocked_cells(name: str, spec, todo: dict, blocked: tuple[str, str], repeats: int,
                  done: dict[str, set]) -> list[Cell]:
    """The cells of a model that cannot run now, with the reasons its runner would have given."""
    status, why, entry = *blocked, registry.of(spec)
    reason = (f"{why}; set it to run this model" if status == "no_key"
              else why if entry.runs == "served" else f"model cannot be loaded: {why}")
    local = entry.local
    return [Cell(name, t, status=status, reason=reason, n=len(p.requests), repeats=repeats,
                 resumed_examples=len(done.get(t, ())), batch_size=spec.batch_size if local else 1,
                 concurrency=None if local else spec.concurrency) for t, p in todo.items()]


def plan_rows(ctx: Context, results: dict[str, list[dict]], kept: dict) -> list[dict]:
    """Every cell's row in plan order: as run now, else as an earlier session finished it, else a
    cell whose records were all written before a crash lost its line."""
    prep, run_id, out = ctx.prep, ctx.store.run_id, []
    for name in prep.models:
        rows = {r["task"]: r for r in results.get(name, [])}
        spec = prep.models_cfg.models[name]
        for t, p in prep.plans.items():
            old = kept.get((name, t))  # a task skipped earlier (data unreachable) has all its records now
            old = old if old and not str(old.get("reason") or "").startswith(SKIPPED_DATA) else None
            out.append(rows.get(t) or old or recorded_cell(run_id, name, t, len(p.requests), ctx.opts.repeats, spec))
        for t in prep.skipped_tasks:  # data unreachable now: the cell an earlier session finished, else skipped
            old = kept.get((name, t))
            out.append(old if old and old.get("status") != "skipped" else rows[t])
    return out


def recorded_cell(run_id: str, model: str, task: str, n: int, repeats: int, spec) -> dict:
    """A cell whose every example was recorded before a crash that came before its cells.jsonl line:
    its answers are all there, its figures (wall time, memory) were lost with the process. Its batch
    size or concurrency comes from the model's settings, as the cell's own line would have had it
    (the report prices an API model's records by its concurrency)."""
    local = registry.of(spec).local
    return {**Cell(model, task, status="ok", n=n, repeats=repeats, resumed_examples=n * repeats, reason=None,
                   batch_size=spec.batch_size if local else 1, engine=spec.engine if local else None,
                   concurrency=None if local else spec.concurrency).row(run_id), **dict.fromkeys(COLUMNS)}
