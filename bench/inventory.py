"""`bench list`: the models and tasks, and whether each model can be loaded right now."""

from __future__ import annotations

import os
from pathlib import Path

from bench import tasks
from bench.config import load_models, load_tasks, select
from bench.errors import EXIT_OK


def _server_problem(spec) -> str | None:
    """Why a served model's server cannot be started here (its program missing), else None."""
    from bench.server import ServerUnavailable, command_line

    try:
        command_line(spec, 0)
    except ServerUnavailable as e:
        return str(e)
    return None


def availability(spec, base: Path) -> str:
    """'local folder', 'cached', 'downloadable', or why not: offline, gated, missing, unreachable.
    For an API model: whether its key is set (the server itself is not called)."""
    if spec.backend == "served":
        why = _server_problem(spec)
        return f"{spec.server} server; cannot start here: {why}" if why else f"{spec.server} server started by the run"
    if spec.backend != "transformers":
        from bench.backends.api import public_url

        where = public_url(spec.base_url) or f"{spec.backend} API"
        if spec.api_key_env and not os.environ.get(spec.api_key_env):
            return f"{where}; key missing: set {spec.api_key_env}"
        return f"{where}; key set" if spec.api_key_env else f"{where}; no key needed"
    from bench.hub import availability as local_availability

    return local_availability(spec, base)[1]


def blocker(spec, base: Path) -> tuple[str, str] | None:
    """None when the model can run now; else (cell status, reason): 'no_key' naming the unset
    variable, or 'skipped' with why its weights cannot be had. The same reasons a run records."""
    if spec.backend == "served":  # its program must be here (vllm, transformers serve, the command)
        why = _server_problem(spec)
        return ("skipped", f"server cannot be started here: {why}") if why else None
    if spec.backend != "transformers":
        if spec.api_key_env and not os.environ.get(spec.api_key_env):
            return "no_key", f"environment variable {spec.api_key_env} is not set"
        return None
    from bench.hub import availability as local_availability

    loadable, why = local_availability(spec, base)
    return None if loadable else ("skipped", why)


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
        print(f"  {name.ljust(width)}  {spec.backend:12}  {spec.model}  [{availability(spec, config.parent)}]")
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
