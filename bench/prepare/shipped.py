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


def _here_else_shipped(local: Path, present: bool, shipped: Path | None, here: str, what: str):
    """(path, note): `local` when present (or when nothing was shipped: the caller's check then says
    it is missing), else the shipped copy with a note saying so."""
    if present or shipped is None:
        return local, None
    return shipped, f"no ./{here} here: using the {what} shipped with bench ({shipped})"


def default_tasks_dir() -> tuple[Path, str | None]:
    """(folder, note): ./tasks when it exists, else the shipped copy with a note saying so (the
    note is None for ./tasks, the usual case)."""
    return _here_else_shipped(LOCAL, LOCAL.is_dir(), packaged_tasks_dir(), "tasks folder", "tasks")


def packaged_config() -> Path | None:
    """The shipped models.toml: inside the installed package, else the checkout's."""
    package = _package()
    for path in (package / "_models" / "models.toml", package.parent / "models.toml"):
        if path.is_file():
            return path
    return None


def default_config() -> tuple[Path, str | None]:
    """(models.toml, note): ./models.toml when it exists, else the shipped one with a note saying so."""
    return _here_else_shipped(LOCAL_CONFIG, LOCAL_CONFIG.exists(), packaged_config(), "models.toml", "models.toml")


def apply_defaults(args) -> list[str]:
    """Fill a command line's missing --tasks-dir and --config (argparse's namespace) and return the
    notes to print. --tasks-dir: ./tasks, else the shipped tasks, so that `bench demo` works from any
    folder after a pip install. --config, for run, list, validate and sweep: ./models.toml, else the
    shipped one, so that a fresh folder works like a checkout. A resumed run keeps what it started
    with; the demo writes its own models.toml; report's and recommend's --config only re-prices."""
    notes = []
    resumed = getattr(args, "resume", None) is not None
    if getattr(args, "tasks_dir", False) is None and not resumed:
        args.tasks_dir, note = default_tasks_dir()
        notes.append(note)
    if (args.command in ("run", "list", "validate", "sweep") and args.config is None and not resumed
            and not getattr(args, "demo", False)):
        args.config, note = default_config()
        notes.append(note)
    return [n for n in notes if n]
