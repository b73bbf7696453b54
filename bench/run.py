"""One benchmark run end to end: validate everything, create the run folder, run each model's
cells, write the summary. Every input mistake surfaces in prepare(), before a folder or a model."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

from bench.backends import registry
from bench.core.types import Cell, Record, SummaryRow
from bench.errors import (
    EXIT_BUDGET,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_RAN,
    EXIT_OK,
    EXIT_STORAGE,
    StorageError,
    exit_code,
    one_line,
)
from bench.execute import schedule
from bench.execute.launch import LocalLauncher
from bench.execute.options import Options, Prepared, prepare
from bench.execute.progress import stderr_progress
from bench.execute.recording import Recorder
from bench.prepare import skips, tasks
from bench.prepare.inventory import blockers
from bench.report import build, decisiontext, summary
from bench.runfolder import inputs, manifest, resume
from bench.runfolder.lock import LOCK, RunLock
from bench.runfolder.store import CELLS, MANIFEST, RunStore, check_writable, read_run
from bench.spend import budget as spend
from bench.spend import cost


def execute(opts: Options, progress: Callable = stderr_progress, echo: Callable = print) -> tuple[Path | None, int]:
    """Run (or resume) and summarise; returns the run folder (None when nothing could run, or for
    --dry-run: no folder was made) and the exit code. A disk that refuses
    a write (full, quota, read-only) ends the run with one line saying how to resume."""
    try:
        return _execute(opts, progress, echo)
    except StorageError as e:
        folder = _run_folder(e.path, opts.resume.parent if opts.resume is not None else opts.out)
        if folder is None or not (folder / MANIFEST).is_file():  # nothing of a run was written yet
            if folder is not None and opts.resume is None:
                _remove_if_empty(folder)
            tail = f"nothing was run; {e.fix} and run again"
        elif opts.resumable:
            tail = f"what was written is kept; {e.fix} and resume with: python -m bench --resume {folder}"
        else:
            tail = f"what was written is kept in {folder}, but a demo cannot be resumed; {e.fix} and run `bench demo` again"
        echo(f"error: {e}; {tail}", file=sys.stderr)
        return folder or opts.out, EXIT_STORAGE


def _run_folder(path: Path, out: Path) -> Path | None:
    """The run folder (a child of the results folder) that holds path, if any."""
    path, out = Path(os.path.abspath(path)), Path(os.path.abspath(out))
    return next((Path(p) for p in (path, *path.parents) if p.parent == out), None)


def _remove_if_empty(folder: Path) -> None:
    """A new run folder that the disk refused to fill: it may hold only the lock file."""
    try:
        (folder / LOCK).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        pass


def _execute(opts: Options, progress: Callable, echo: Callable) -> tuple[Path | None, int]:
    prep = prepare(opts)
    spending = spend.Spending(opts, prep)  # the plan and the cap (docs/cost.md)
    if opts.dry_run:
        spending.show(echo, sys.stdout)
        echo("dry run: nothing was sent and nothing was written")
        return None, EXIT_OK
    spending.confirm(echo)  # over the threshold: asked on a terminal, else --yes

    def warn(message: str) -> None:
        echo(message, file=sys.stderr)

    if opts.resume is None:
        check_writable(opts.out)  # a bad --out is bad input (exit 2), whether or not anything can run
    # which models can run is settled before a folder exists: with none (or no task data), say why
    # in a few grouped lines and what to do, and leave no empty run folder behind
    prep.blocked = blockers({n: prep.models_cfg.models[n] for n in prep.models}, opts.config.parent)
    prep.needs = schedule.needs(opts, prep, prep.pool)  # a model the GPUs can never hold is bad input
    if opts.resume is None and (len(prep.blocked) == len(prep.models) or not prep.tasks):
        specs = prep.models_cfg.models
        for line in _skip_lines(prep) + skips.advice(
                prep.blocked, {n: getattr(specs[n], "api_key_env", None) for n in prep.blocked},
                {n: registry.of(specs[n]).runs for n in prep.models}, len(prep.tasks)):
            warn(line)
        return None, EXIT_NOTHING_RAN
    if opts.executor == "ray":  # joined before any folder exists: a cluster that cannot serve is bad input
        from bench.execute.ray_exec import launcher_for

        prep.launcher = launcher_for(opts.ray_address, opts.device, {
            n: prep.models_cfg.models[n] for n in prep.models if n not in prep.blocked})
    try:
        if prep.launcher is not None:
            warn(prep.launcher.describe())
        return _start(opts, prep, spending, progress, echo, warn)
    finally:
        if prep.launcher is not None:
            prep.launcher.close()


def _start(opts: Options, prep: Prepared, spending, progress: Callable, echo: Callable, warn: Callable):
    if opts.resume is not None:
        store, man, lock, done, kept = _reopen(opts, prep, warn)
    else:
        man = manifest.build("", opts, prep)
        if not opts.resumable:
            man["resumable"] = False
        for folder in resume.unfinished_like(opts.out, man):
            warn(f"note: {folder} is an unfinished run with this configuration; to continue it instead: "
                 f"python -m bench --resume {folder}")
        store = RunStore.create(opts.out)  # refuses an unwritable results folder before any work
        man["run_id"] = store.run_id
        lock, done, kept = RunLock(store.path).acquire(warn), set(), {}
    # SIGTERM (a scheduler's preemption, `kill`) stops the run as Ctrl-C does: cleanly, resumable
    main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if main_thread else None
    try:
        store.write_manifest(man)
        inputs.save(store, [inputs.row(d.task.name, ex.id, tasks.input_fields(d, ex))
                            for d in prep.tasks for ex in d.examples])  # what each example showed the model
        return _run(opts, prep, store, man, done, kept, progress, echo, warn, spending)
    except KeyboardInterrupt:
        man["interrupted_utc"] = manifest.utc_now()
        store.write_manifest(man)
        if opts.resumable:
            warn(f"\ninterrupted; what finished is saved; resume with: python -m bench --resume {store.path}")
        else:
            warn(f"\ninterrupted; what finished is saved in {store.path}, but this run cannot be resumed "
                 f"(its models were temporary); to see a whole demo, run `bench demo` again")
        return store.path, EXIT_INTERRUPTED
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        lock.release()


def _reopen(opts: Options, prep: Prepared, warn: Callable):
    """The run folder to continue, locked and settled (torn tail cut, failed records dropped)."""
    old = resume.read_manifest(opts.resume)
    store = RunStore(opts.resume)
    if opts.title == Options.title and isinstance(old.get("title"), str):  # not given now: the run's own
        opts.title = old["title"]
    if not opts.notes and isinstance(old.get("notes"), list):
        opts.notes = [str(n) for n in old["notes"]]
    man = manifest.build(store.run_id, opts, prep)
    changed = resume.check_unchanged(opts.resume, old, man, opts.force, warn)
    lock = RunLock(store.path).acquire(warn)
    try:
        records, torn = resume.load_records(store.path)
        kept = resume.old_cells(store.path)
        _, done = resume.settle(store, records, torn, warn)
    except BaseException:
        lock.release()
        raise
    man["created_utc"], man["command"] = old.get("created_utc"), old.get("command")
    man["resumes"] = old.get("resumes", []) + [{"utc": manifest.utc_now(), "command": sys.argv,
                                                 "forced_changes": changed}]
    for name, entry in man["models"].items():  # what the first session learnt when it loaded them
        man["models"][name] = {**old.get("models", {}).get(name, {}), **entry}
    for name in prep.skipped_tasks:  # data unreachable now, but what ran of it earlier stays described
        if name in old.get("tasks", {}):
            man["tasks"][name] = old["tasks"][name]
    warn(f"resuming {store.run_id}: {len(done)} record(s) kept")
    return store, man, lock, done, kept


def _run(opts: Options, prep: Prepared, store: RunStore, man: dict, done: set, kept: dict,
         progress: Callable, echo: Callable, warn: Callable, spending=None) -> tuple[Path, int]:
    echo(f"run {store.run_id}: {len(prep.models)} model(s) x {len(prep.tasks)} task(s) -> {store.path}",
         file=sys.stderr)
    budget = spending.budget if spending is not None else None
    if spending is not None:  # every check passed: the bill before the first request
        spending.show(echo)
    for line in _skip_lines(prep) + ([prep.question_note] if prep.question_note else []):
        warn(line)
    pricing = {n: cost.pricing_of(prep.models_cfg.models[n], prep.models_cfg.hardware) for n in prep.models}
    ctx = schedule.Context(opts, prep, store, man, Recorder(store, prep.plans, pricing), pricing, budget, done,
                           progress, warn, launcher=prep.launcher or LocalLauncher())
    results = schedule.run_models(ctx, prep.needs, prep.pool)
    cells = schedule.plan_rows(ctx, results, kept)  # cells.jsonl rows, in plan order
    man["finished_utc"] = manifest.utc_now()
    man.pop("interrupted_utc", None)
    _, records, _ = read_run(store.path)
    cell_rows = resume.recount(cells, records)
    if opts.resume is not None or list(results) != list(prep.models):  # one line per cell, in plan order
        store.rewrite(CELLS, cell_rows)
    store.write_manifest(man)
    return _summarise(opts, prep, store, records, cell_rows, budget, echo, warn)


def _summarise(opts: Options, prep: Prepared, store: RunStore, records: list[dict], cell_rows: list[dict],
               budget, echo: Callable, warn: Callable) -> tuple[Path, int]:
    """summary.csv/md, plots and report.html; the table and the run's last lines; the exit code."""
    title = f"{opts.title}: {store.run_id}"
    decision, volume = "", build.Question.volume_per_month
    try:
        merged = build.load([store.path], None)
        question = build.question_of(merged)  # the question recorded in the manifest
        files, table = build.render(merged, title=title, notes=opts.notes, question=question)
        decision, volume = decisiontext.terminal(build.decisions(merged, table, question)), question.volume_per_month
    except Exception as e:  # the measurements are safe on disk; a figure that cannot be drawn must not lose them
        echo(f"warning: plots and report.html could not be made ({one_line(e)}); "
             f"retry with: bench report {store.path}", file=sys.stderr)
        table = summary.rows([Record.from_json(r) for r in records], [Cell.from_json(c) for c in cell_rows])
        files = {"summary.csv": summary.to_csv(table).encode(),
                 "summary.md": summary.to_markdown(table, title, opts.notes).encode()}
    build.write(store.path, files)
    for note in opts.notes:
        echo(note)
    shown = _not_reported(table, prep)
    echo(summary.to_text(shown))
    if len(shown) < len(table):
        echo(f"({len(table) - len(shown)} skipped cell(s), reported above, are in summary.md and cells.jsonl)")
    if "report.html" in files:
        echo("")
        echo(build.terminal(shown, volume))
        if decision:
            echo("\n" + decision)
        echo(f"\nreport: {store.path / 'report.html'}")
    echo(f"\nrun folder: {store.path}")
    stopped = budget is not None and budget.stopped
    if not stopped:  # the budget's own line gives the resume command, with --max-usd
        for line in _unanswered(cell_rows, store.path, opts.resumable):
            echo(line)
    if budget is not None:
        warn(spend.end_line(budget, store.path))
        if stopped:
            return store.path, EXIT_BUDGET
    return store.path, exit_code([c["status"] for c in cell_rows])


def _skip_lines(prep: Prepared) -> list[str]:
    """One line per reason a model or task cannot run now, naming those it covers."""
    runs = {n: registry.of(prep.models_cfg.models[n]).runs for n in prep.models}
    return skips.grouped(prep.blocked, runs, prep.skipped_tasks)


def _not_reported(table: list[SummaryRow], prep: Prepared) -> list[SummaryRow]:
    """The terminal's rows without the cells skipped before the run (a grouped line said why):
    a registry of 16 models on a machine that can run one prints one model's rows, not 176."""
    return [r for r in table if r.status not in ("skipped", "no_key")
            or (r.model not in prep.blocked and r.task not in prep.skipped_tasks)]


def _unanswered(cell_rows: list[dict], folder: Path, resumable: bool) -> list[str]:
    """The run's last lines when examples went without an answer (failed after their retries, or
    lost with a crashed cell): how many, and the command that runs them again."""
    ran = [c for c in cell_rows if c["status"] not in ("skipped", "no_key")]
    planned = sum((c.get("n") or 0) * (c.get("repeats") or 1) for c in ran)
    missing = sum(max(0, (c.get("n") or 0) * (c.get("repeats") or 1) - c["recorded"] + c["errors"]) for c in ran)
    if not missing:
        return []
    cells = sum(1 for c in ran if c["status"] != "ok")
    head = f"\n{missing} of {planned} example(s) got no answer, in {cells} cell(s); "
    if not resumable:
        return [head + "what was answered is saved; this demo cannot be resumed: run `bench demo` again"]
    return [head + "what was answered is saved", f"run them again with: python -m bench --resume {folder}"]
