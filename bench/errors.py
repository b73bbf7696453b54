"""Errors meant for people: a user's mistake is reported in one message, never a traceback.

Every exit code lives here (documented in the README and `bench --help`); the modules that end a
command import them.
"""

import errno
import os
from pathlib import Path

EXIT_OK = 0  # every cell finished
EXIT_BAD_INPUT = 2  # configuration, data or command-line mistake; nothing was run
EXIT_PARTIAL = 3  # the run finished but some cells failed or were skipped
EXIT_NOTHING_RAN = 4  # no cell could run (every model failed to load, say)
EXIT_STORAGE = 5  # the disk would not take a write (full, quota, read-only): what was written is kept
EXIT_BUDGET = 6  # --max-usd stopped the run before every request was sent (resumable)
EXIT_INTERRUPTED = 130  # Ctrl-C (the shell's code for a process stopped by SIGINT); resumable
EXIT_NO_MODEL = 1  # recommend: no model meets every bar
EXIT_REGRESSION = 1  # compare: NEW is worse than BASE beyond a limit


def one_line(e: BaseException, limit: int = 300) -> str:
    """An exception as one line for a record or a log: its type and its whole message, whitespace
    collapsed, capped."""
    text = " ".join(str(e).split())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(e).__name__}: {text}".strip(": ")


class InputError(Exception):
    """A mistake in the user's input: the message says what, where (file, line, key) and the fix."""


# what the disk said -> (the problem, what to do about it); {where} is the device and its mount point
_STORAGE = {
    errno.ENOSPC: ("no space left on {where}", "free space"),
    errno.EDQUOT: ("disk quota exceeded on {where}", "free space (or raise the quota)"),
    errno.EFBIG: ("file size limit reached on {where}", "raise the file size limit (ulimit -f)"),
    errno.EROFS: ("{where} is read-only", "make it writable"),
    errno.EIO: ("input/output error on {where}", "check the disk"),
}


def storage_errno(e: BaseException) -> bool:
    """Whether an OSError says the disk cannot take a write (as opposed to a bug or a bad path)."""
    return isinstance(e, OSError) and e.errno in _STORAGE


def _mount(path: Path) -> str:
    """The device and mount point holding path, e.g. "/dev/sda1 at /", or the mount point alone."""
    mount = Path(os.path.abspath(path))
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            devices = {fields[1]: fields[0] for fields in (line.split() for line in f) if len(fields) > 1}
    except OSError:
        devices = {}
    return f"{devices[str(mount)]} at {mount}" if str(mount) in devices else str(mount)


class StorageError(Exception):
    """A write the disk refused: which file, and why in words. Raised by the one place that writes
    the run folder and the report (store.py), with its temporary file already removed."""

    def __init__(self, path: Path, error: OSError):
        self.path, self.errno = Path(path), error.errno
        problem, self.fix = _STORAGE.get(error.errno, ("{where}: " + (error.strerror or "write failed"), "fix the disk"))
        super().__init__(f"{problem.format(where=_mount(self.path))} while writing {self.path}")


RAN = ("ok", "partial")  # statuses of a cell that has answers


def exit_code(statuses: list[str]) -> int:
    """The run's exit code from its cells' statuses. A model skipped for want of its API key was
    not asked for in earnest (the default registry lists many): reported, but not a failure."""
    wanted = [s for s in statuses if s != "no_key"]
    if wanted and all(s == "ok" for s in wanted):
        return EXIT_OK
    return EXIT_PARTIAL if any(s in RAN for s in wanted) else EXIT_NOTHING_RAN
