"""One benchmark run end to end: validate everything, create the run folder, run each model's
cells, write the summary. Every input mistake surfaces in prepare(), before a model loads."""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from bench import __version__, measure, tasks
from bench.config import DEVICE_RE, ModelsConfig, Task, load_models, load_tasks, select
from bench.errors import EXIT_NOTHING_RAN, EXIT_OK, EXIT_PARTIAL, InputError
from bench.report import summary
from bench.runner import Cell, Plan, Recorder, plan, run_local_model, stderr_progress, write_cells
from bench.store import RunStore, check_writable, read_run

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    config: Path = Path("models.toml")
    tasks_dir: Path = Path("tasks")
    out: Path = Path("results")
    models: str | None = None  # comma-separated names, None for all
    tasks: str | None = None
    limit: int | None = None
    device: str | None = None  # overrides every local model's device
    title: str = "Benchmark summary"
    notes: list[str] = field(default_factory=list)  # printed above the summary table (the demo's warning)


@dataclass
class Prepared:
    models_cfg: ModelsConfig
    models: list[str]
    tasks: list[tasks.TaskData]


def prepare(opts: Options) -> Prepared:
    """Parse and check configs and load every selected task's data; raise InputError on any mistake."""
    if opts.limit is not None and opts.limit < 1:
        raise InputError(f"--limit {opts.limit}: must be at least 1 (omit it to run every example)")
    if opts.device is not None:
        if not re.match(DEVICE_RE, opts.device):
            raise InputError(f"--device {opts.device!r}: use auto, cpu, cuda, cuda:N or mps")
    models_cfg = load_models(opts.config)
    if not models_cfg.models:
        raise InputError(f"{opts.config}: no models defined; add a [models.NAME] table (see docs/models.md)")
    names = select(opts.models, list(models_cfg.models), "model", "--models")
    all_tasks = load_tasks(opts.tasks_dir)
    wanted = select(opts.tasks, [t.name for t in all_tasks], "task", "--tasks")
    chosen: list[Task] = [t for t in all_tasks if t.name in wanted]
    for name in names:
        spec = models_cfg.models[name]
        if spec.backend == "transformers" and spec.chat_template not in ("auto", "none"):
            path = Path(spec.chat_template)
            path = path if path.is_absolute() else opts.config.parent / path
            if not path.is_file():
                raise InputError(f"{opts.config}: key 'models.{name}.chat_template': template file {path} "
                                 f"not found; use auto, none or the path of a Jinja file")
    return Prepared(models_cfg, names, [tasks.load(t, opts.limit) for t in chosen])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(opts: Options, prep: Prepared, store: RunStore) -> dict:
    return {
        "run_id": store.run_id,
        "title": opts.title,
        "notes": opts.notes,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "finished_utc": None,
        "command": sys.argv,
        "bench": {"version": __version__, "git_commit": measure.git_commit(ROOT)},
        "versions": measure.versions(),
        "environment": measure.environment(),
        "options": {"limit": opts.limit, "device": opts.device, "models": prep.models,
                    "tasks": [d.task.name for d in prep.tasks]},
        "models_config": {"path": str(opts.config), "sha256": _sha256(opts.config),
                          "text": opts.config.read_text(encoding="utf-8")},
        "hardware": {k: v.model_dump() for k, v in prep.models_cfg.hardware.items()},
        "tasks": {d.task.name: {"path": str(d.task.path), "sha256": _sha256(d.task.path),
                                "text": d.task.path.read_text(encoding="utf-8"), "data_sha256": d.data_sha256,
                                "source": d.source, "examples_run": len(d.examples),
                                "fewshot_ids": [e.id for e in d.fewshot]}
                  for d in prep.tasks},
        "models": {name: _model_entry(prep.models_cfg.models[name]) for name in prep.models},
    }


def _model_entry(spec) -> dict:
    """The model's config as run; for API models the base URL without credentials and the prices."""
    entry = {"config": spec.model_dump()}
    if spec.backend != "transformers":
        from bench.backends.api import public_url

        entry["config"]["base_url"] = public_url(spec.base_url)
        entry["prices"] = {k: getattr(spec, k) for k in ("usd_per_mtok_in", "usd_per_mtok_cached_in",
                                                          "usd_per_mtok_out", "prices_as_of")}
    return entry


def execute(opts: Options, progress: Callable = stderr_progress, echo: Callable = print) -> tuple[Path, int]:
    """Run and summarise; returns the run folder and the exit code."""
    prep = prepare(opts)
    check_writable(opts.out)
    store = RunStore.create(opts.out)
    man = manifest(opts, prep, store)
    store.write_manifest(man)
    echo(f"run {store.run_id}: {len(prep.models)} model(s) x {len(prep.tasks)} task(s) -> {store.path}",
         file=sys.stderr)

    plans: dict[str, Plan] = {d.task.name: plan(d) for d in prep.tasks}
    recorder = Recorder(store, plans)
    cells: list[Cell] = []

    def on_model(name: str, info: dict) -> None:
        man["models"][name].update(info)
        store.write_manifest(man)
        if info["status"] in ("skipped", "no_key"):
            echo(f"skipping {name}: {info['reason']}", file=sys.stderr)

    for name in prep.models:
        spec = prep.models_cfg.models[name]
        if spec.backend == "transformers":
            model_cells = run_local_model(name, spec, plans, recorder, device=opts.device,
                                          spec_dir=opts.config.parent, on_model=on_model, progress=progress)
        else:
            from bench.api_runner import run_api_model

            model_cells = run_api_model(name, spec, plans, recorder, on_model=on_model, progress=progress)
        write_cells(store, model_cells)
        cells.extend(model_cells)

    man["finished_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.write_manifest(man)
    _, records, cell_rows = read_run(store.path)
    table = summary.rows(records, cell_rows)
    store.write_text("summary.csv", summary.to_csv(table))
    store.write_text("summary.md", summary.to_markdown(table, f"{opts.title}: {store.run_id}", opts.notes))
    for note in opts.notes:
        echo(note)
    echo(summary.to_text(table))
    echo(f"\nrun folder: {store.path}")
    # a model without its key was not asked for in earnest: it is reported, not counted as a failure
    wanted = [c for c in cells if c.status != "no_key"]
    ok = sum(c.status == "ok" for c in wanted)
    return store.path, EXIT_OK if wanted and ok == len(wanted) else EXIT_NOTHING_RAN if ok == 0 else EXIT_PARTIAL

