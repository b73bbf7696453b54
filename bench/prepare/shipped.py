"""Where the task files and the model registry are when `--tasks-dir` or `--config` is not given:
`./tasks` and `./models.toml` when the current folder has them (the files users edit), else the
copies shipped with bench. An installed wheel holds them as `bench/_tasks` and
`bench/_models/models.toml` (pyproject.toml maps the repository's `tasks/` and top folder there); a
source checkout has them beside the package."""

from __future__ import annotations

from pathlib import Path

LOCAL = Path("tasks")
LOCAL_CONFIG = Path("models.toml")


def _package() -> Path:
    return Path(__file__).resolve().parents[1]  # bench/, this file being bench/prepare/shipped.py


def packaged_tasks_dir() -> Path | None:
    """The shipped task folder: inside the installed package, else the checkout's `tasks/`."""
    package = _package()
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


def packaged_config() -> Path | None:
    """The shipped models.toml: inside the installed package, else the checkout's."""
    package = _package()
    for path in (package / "_models" / "models.toml", package.parent / "models.toml"):
        if path.is_file():
            return path
    return None


def default_config() -> tuple[Path, str | None]:
    """(models.toml, note): ./models.toml when it exists, else the shipped one with a note saying so
    (None for ./models.toml, and when nothing was found: reading it then says it is missing)."""
    if LOCAL_CONFIG.exists():
        return LOCAL_CONFIG, None
    shipped = packaged_config()
    if shipped is None:
        return LOCAL_CONFIG, None
    return shipped, f"no ./models.toml here: using the models.toml shipped with bench ({shipped})"
