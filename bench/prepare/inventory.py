"""`bench list`: the models and tasks, and whether each model can be loaded right now."""

from __future__ import annotations

from pathlib import Path

from bench.backends import registry
from bench.config import load_models, select
from bench.errors import EXIT_OK
from bench.prepare import tasks
from bench.prepare.taskfiles import load_tasks


def blocker(spec, base: Path) -> tuple[str, str] | None:
    """None when the model can run now; else (cell status, reason): 'no_key' naming the unset
    variable, or 'skipped' with why it cannot run. The same reasons a run records."""
    found = registry.availability(spec, base)
    return None if found.ok else (found.status, found.reason)


def blockers(specs: dict, base: Path) -> dict[str, tuple[str, str]]:
    """blocker() of each model (name -> spec) that cannot run now. The Hub questions go out in
    parallel: each waits up to 10 s when the network is down, and a registry lists many models."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(specs, pool.map(lambda spec: blocker(spec, base), specs.values())))
    return {name: b for name, b in found.items() if b is not None}


def show(config: Path, tasks_dir: Path, models: str | None, task_names: str | None) -> int:
    cfg = load_models(config)
    names = select(models, list(cfg.models), "model", "--models")
    print("models:")
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = cfg.models[name]
        shown = registry.availability(spec, config.parent).shown
        print(f"  {name.ljust(width)}  {spec.backend:12}  {spec.model}  [{shown}]")
    all_tasks = load_tasks(tasks_dir)
    wanted = select(task_names, [t.name for t in all_tasks], "task", "--tasks")
    print(f"tasks (from {tasks_dir}):")
    width = max((len(n) for n in wanted), default=0)
    for t in all_tasks:
        if t.name in wanted:
            print(f"  {t.name.ljust(width)}  {t.spec.score.scorer:13}  {source(t)}")
            if t.spec.description:
                print(f"  {''.ljust(width)}  {t.spec.description}")
    return EXIT_OK


def source(task) -> str:
    """Where a task's examples come from: the local file and its size, or the Hub dataset as pinned
    (not downloaded here: `bench list` stays fast and offline)."""
    spec = task.spec.data
    if spec.path is not None:
        n = len(tasks.load(task).examples)
        return f"{n} examples from {spec.path}"
    config = ",".join(spec.config) if isinstance(spec.config, list) else spec.config
    return (f"Hub {spec.hf}" + (f" [{config}]" if config else "") + f" split {spec.split}"
            + (f" @ {spec.revision}" if spec.revision else " (revision not pinned)") + ", fetched at run time")
