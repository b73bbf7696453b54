"""Where the task files are when `--tasks-dir` is not given: `./tasks` when the current folder has
one (the folder users edit), else the tasks shipped with bench. An installed wheel holds them as
`bench/_tasks` (pyproject.toml maps the repository's `tasks/` there); a source checkout has them
beside the package."""

from __future__ import annotations

from pathlib import Path

LOCAL = Path("tasks")


def packaged_tasks_dir() -> Path | None:
    """The shipped task folder: inside the installed package, else the checkout's `tasks/`."""
    package = Path(__file__).resolve().parents[1]  # bench/, this file being bench/prepare/shipped.py
    for folder in (package / "_tasks", package.parent / "tasks"):
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    return None


def default_tasks_dir() -> tuple[Path, str | None]:
    """(folder, note): ./tasks when it exists, else the shipped copy with a note saying so (the
    note is None for ./tasks, the usual case, and when nothing was found: the caller's check of the
    folder then says it is missing)."""
    if LOCAL.is_dir():
        return LOCAL, None
    shipped = packaged_tasks_dir()
    if shipped is None:
        return LOCAL, None
    return shipped, f"no ./tasks folder here: using the tasks shipped with bench ({shipped})"
