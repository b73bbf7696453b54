"""One benchmark run end to end: validate everything, create the run folder, run each model's
cells, write the summary. Every input mistake surfaces in prepare(), before a folder or a model."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench import cost, manifest, tasks
from bench.config import DEVICE_RE, ModelsConfig, load_models, load_tasks, select
from bench.errors import InputError, exit_code, one_line
from bench.report import build, summary
from bench.runner import Cell, Plan, Recorder, plan, run_local_model, stderr_progress, write_cells
from bench.store import RunStore, read_run


@dataclass
class Options:
    config: Path = Path("models.toml")
    tasks_dir: Path = Path("tasks")
    out: Path = Path("results")
    models: str | None = None  # comma-separated names, None for all
    tasks: str | None = None
    limit: int | None = None
    device: str | None = None  # overrides every local model's device
    repeats: int = 1  # each example run this many times for timing; accuracy uses the first
    speed: bool = False  # local models generate exactly max_new_tokens per row
    title: str = "Benchmark summary"
    notes: list[str] = field(default_factory=list)  # printed above the summary table (the demo's warning)


@dataclass
class Prepared:
    models_cfg: ModelsConfig
    models: list[str]
    tasks: list[tasks.TaskData]
    plans: dict[str, Plan]  # task name -> rendered requests, checked targets, scorer
    skipped_tasks: dict[str, str] = field(default_factory=dict)  # task name -> why its data is unavailable now


def prepare_tasks(opts: Options) -> tuple[list[tasks.TaskData], dict[str, Plan], dict[str, str]]:
    """Load every selected task's data and render every prompt and target. A Hub task whose data
    cannot be fetched now is set aside with the reason (the third item), not an error."""
    if opts.limit is not None and opts.limit < 1:
        raise InputError(f"--limit {opts.limit}: must be at least 1 (omit it to run every example)")
    if opts.repeats < 1:
        raise InputError(f"--repeats {opts.repeats}: must be at least 1")
    all_tasks = load_tasks(opts.tasks_dir)
    wanted = select(opts.tasks, [t.name for t in all_tasks], "task", "--tasks")
    data, skipped = [], {}
    for t in all_tasks:
        if t.name in wanted:
            try:
                data.append(tasks.load(t, opts.limit))
            except tasks.DataUnavailable as e:
                skipped[t.name] = str(e)
    return data, {d.task.name: plan(d) for d in data}, skipped


def prepare(opts: Options) -> Prepared:
    """Parse and check the configs and the tasks; raise InputError on any mistake."""
    if opts.device is not None and not re.match(DEVICE_RE, opts.device):
        raise InputError(f"--device {opts.device!r}: use auto, cpu, cuda, cuda:N or mps")
    models_cfg = load_models(opts.config)
    if not models_cfg.models:
        raise InputError(f"{opts.config}: no models defined; add a [models.NAME] table (see docs/models.md)")
    names = select(opts.models, list(models_cfg.models), "model", "--models")
    for name in names:
        spec = models_cfg.models[name]
        if spec.backend == "transformers" and spec.chat_template not in ("auto", "none"):
            path = Path(spec.chat_template)
            path = path if path.is_absolute() else opts.config.parent / path
            if not path.is_file():
                raise InputError(f"{opts.config}: key 'models.{name}.chat_template': template file {path} "
                                 f"not found; use auto, none or the path of a Jinja file")
    data, plans, skipped = prepare_tasks(opts)
    return Prepared(models_cfg, names, data, plans, skipped)


def execute(opts: Options, progress: Callable = stderr_progress, echo: Callable = print) -> tuple[Path, int]:
    """Run and summarise; returns the run folder and the exit code."""
    prep = prepare(opts)
    store = RunStore.create(opts.out)  # refuses an unwritable results folder before any work
    man = manifest.build(store.run_id, opts, prep)
    if prep.skipped_tasks:
        man["skipped_tasks"] = prep.skipped_tasks
    store.write_manifest(man)
    echo(f"run {store.run_id}: {len(prep.models)} model(s) x {len(prep.tasks)} task(s) -> {store.path}",
         file=sys.stderr)
    pricing = {n: cost.pricing_of(prep.models_cfg.models[n], prep.models_cfg.hardware) for n in prep.models}
    recorder = Recorder(store, prep.plans, pricing)
    cells: list[Cell] = []
    for task, why in prep.skipped_tasks.items():
        echo(f"skipping task {task}: {why}", file=sys.stderr)

    def on_model(name: str, info: dict) -> None:
        man["models"][name].update(info)
        store.write_manifest(man)
        if info["status"] in ("skipped", "no_key"):
            echo(f"skipping {name}: {info['reason']}", file=sys.stderr)

    for name in prep.models:
        spec = prep.models_cfg.models[name]
        if spec.backend == "transformers":
            model_cells = run_local_model(name, spec, prep.plans, recorder, device=opts.device,
                                          spec_dir=opts.config.parent, on_model=on_model, progress=progress,
                                          repeats=opts.repeats, speed=opts.speed)
        else:
            from bench.api_runner import run_api_model

            model_cells = run_api_model(name, spec, prep.plans, recorder, on_model=on_model, progress=progress,
                                        repeats=opts.repeats)
        model_cells += [Cell(name, task, status="skipped", reason=f"task data unavailable: {why}")
                        for task, why in prep.skipped_tasks.items()]
        write_cells(store, model_cells)
        cells.extend(model_cells)

    man["finished_utc"] = manifest.utc_now()
    store.write_manifest(man)
    title = f"{opts.title}: {store.run_id}"
    try:
        files, table = build.render(build.load([store.path], None), title=title, notes=opts.notes)
    except Exception as e:  # the measurements are safe on disk; a figure that cannot be drawn must not lose them
        echo(f"warning: plots and report.html could not be made ({one_line(e)}); "
             f"retry with: bench report {store.path}", file=sys.stderr)
        _, records, cell_rows = read_run(store.path)
        table = summary.rows(records, cell_rows)
        files = {"summary.csv": summary.to_csv(table).encode(),
                 "summary.md": summary.to_markdown(table, title, opts.notes).encode()}
    build.write(store.path, files)
    for note in opts.notes:
        echo(note)
    echo(summary.to_text(table))
    if "report.html" in files:
        echo("")
        echo(build.terminal(table))
        echo(f"\nreport: {store.path / 'report.html'}")
    echo(f"\nrun folder: {store.path}")
    return store.path, exit_code([c.status for c in cells])
