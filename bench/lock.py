"""A lock file in the run folder, so that two processes never append to the same run.

The lock holds the writer's pid, host and start time. A lock left by a process that has died
(kill -9, a power cut) on this host is recognised and taken over; one held by a live process, or
by another host (whose processes we cannot see), is refused.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from bench.errors import InputError

LOCK = "run.lock"


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, start_ticks: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    if start_ticks is not None and _start_ticks(pid) not in (None, start_ticks):
        return False  # the pid now belongs to a newer process
    return True


class RunLock:
    """Held while a process writes a run folder; `release` (or the context manager) removes it."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        self.held = False

    def acquire(self, warn=None) -> RunLock:
        from bench.manifest import utc_now

        me = {"pid": os.getpid(), "host": socket.gethostname(), "started_utc": utc_now(),
              "start_ticks": _start_ticks(os.getpid())}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if not self._stale(holder):
                    raise InputError(
                        f"{self.path.parent}: this run is being written by pid {holder.get('pid')} on "
                        f"{holder.get('host')} (since {holder.get('started_utc')}); wait for it to finish, or "
                        f"if that process is gone, delete {self.path}") from None
                if warn:
                    warn(f"taking over a stale lock on {self.path.parent} (pid {holder.get('pid')} on "
                         f"{holder.get('host')} is no longer running)")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise InputError(f"{self.path}: another process took the lock at the same moment; try again")

    def _holder(self) -> dict:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}  # torn by a crash between creating and writing it

    @staticmethod
    def _stale(holder: dict) -> bool:
        pid = holder.get("pid")
        if not isinstance(pid, int):
            return True
        if holder.get("host") != socket.gethostname():
            return False  # its processes are not ours to see
        return not _alive(pid, holder.get("start_ticks"))

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
