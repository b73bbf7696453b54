"""Reading the task files: each validated with the [score] options of the scorer it names (the
scorers' registry), so that a task file's every mistake is one line naming the file, line and key.
The task file's tables themselves are in bench/config/taskfile.py, which knows no scorer."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import create_model

from bench.config.taskfile import Task, TaskSpec
from bench.config.toml import Choice, name_problem, read_toml, validate, where
from bench.errors import InputError
from bench.scorers import registry


@functools.lru_cache(maxsize=None)
def _spec_class(score_type: Any) -> type[TaskSpec]:
    return create_model("TaskSpec", __base__=TaskSpec, score=(score_type, ...))


def load_task(path: Path) -> Task:
    data, text = read_toml(path)
    unknown = Choice(("unknown_scorer",), "scorer", registry.table_problem)
    spec = validate(_spec_class(registry.options_type()), data, path, text, set(registry.names()) | {registry.USER.name},
                    (unknown,))
    problem = name_problem(path.stem)
    if problem:
        raise InputError(f"{path}: task file name {path.stem!r} {problem}")
    problem = spec.score.file_problem(path.parent)
    if problem:
        raise InputError(f"{where(path, text, ('score', problem[0]))}: {problem[1]}")
    return Task(name=path.stem, path=path, spec=spec)


def load_tasks(tasks_dir: Path) -> list[Task]:
    if not tasks_dir.is_dir():
        raise InputError(f"{tasks_dir}: tasks folder not found; pass --tasks-dir")
    files = sorted(tasks_dir.glob("*.toml"))
    if not files:
        raise InputError(f"{tasks_dir}: no task files (*.toml) in this folder")
    return [load_task(f) for f in files]
