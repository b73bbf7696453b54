"""A lock on the run folder, so that two processes never append to the same run.

Liveness is the kernel's: an exclusive `flock` on run.lock, held on an open file for the writer's
life and released by the kernel however it ends (kill -9 included). The file's JSON (pid, host,
start time) only names the holder in messages, and marks a run whose writer on another host may
still be alive (see RunLock.acquire).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

from bench.errors import InputError, StorageError, storage_errno

LOCK = "run.lock"


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, start_ticks: int | None) -> bool:
    """Only for messages: the flock, not this, decides who holds the lock."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return start_ticks is None or _start_ticks(pid) in (None, start_ticks)  # else: a newer process, same pid


class RunLock:
    """Held while a process writes a run folder; `release` (or the context manager) removes it."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self, warn=None) -> RunLock:
        """Take the lock or raise InputError naming its holder.

        On one host the kernel decides: a lock whose process died is free, and is taken over with a
        notice. A file naming another host is respected even when its flock is free: on NFS a
        flock reaches other clients only where the server supports locking (NFSv4, or v3 with
        lockd; not with `nolock`), so a free flock there proves nothing about a writer elsewhere.
        Deleting the file by hand, once that host's run is known to be dead, lets a run continue.
        """
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise InputError(self._busy(holder)) from None
            except BaseException:
                os.close(fd)
                raise
            if self._same_file(fd):
                break
            os.close(fd)  # its holder released and deleted it after we opened it: try the new one
        try:
            self._claim(fd, warn)
        except BaseException:
            os.close(fd)  # releases the flock; the file stays for the message of whoever comes next
            raise
        self.fd = fd
        return self

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if storage_errno(e):
                raise StorageError(self.path, e) from None
            raise

    def _same_file(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _claim(self, fd: int, warn) -> None:
        """Holding the flock: check what the file says about the last writer, then write ourselves."""
        from bench.runfolder.manifest import utc_now

        holder = _read(fd)
        if holder.get("host") not in (None, socket.gethostname()):
            raise InputError(self._busy(holder) + " (a lock from another host is never taken over)")
        if isinstance(holder.get("pid"), int) and warn:
            warn(f"taking over a stale lock on {self.path.parent} (pid {holder['pid']} on "
                 f"{holder.get('host')} is no longer running)")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started_utc": utc_now(),
              "start_ticks": _start_ticks(os.getpid())}
        data = json.dumps(me).encode("utf-8")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError as e:
            if storage_errno(e):
                raise StorageError(self.path, e) from None
            raise

    def _busy(self, holder: dict) -> str:
        pid = holder.get("pid")
        named = isinstance(pid, int) and (holder.get("host") != socket.gethostname()
                                          or _alive(pid, holder.get("start_ticks")))
        # otherwise the file still names a dead writer, or none: its new holder is writing itself in
        who = (f"pid {pid} on {holder.get('host')} (since {holder.get('started_utc')})" if named
               else "another process (which took the lock a moment ago)")
        return (f"{self.path.parent}: this run is being written by {who}; wait for it to finish, or if that "
                f"process is gone, delete {self.path}")

    def release(self) -> None:
        """Delete the file, then let go of the flock: a process that opened the file meanwhile sees
        that it was deleted (another inode at the path, or none) and starts again."""
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read(fd: int) -> dict:
    """The JSON in the lock file: empty while a new holder is writing it, or after a crash."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}
