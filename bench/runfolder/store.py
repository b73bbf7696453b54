"""The run folder: manifest.json, append-only records.jsonl and cells.jsonl, read back for reports.

Only the parent process writes here. Records are flushed and fsynced as each batch lands, so a
crash loses at most the batch in flight. Every write (the report's too) goes through `guarded`: a
disk that refuses it (full, quota, read-only) raises StorageError naming the file, never a
half-written temporary file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.errors import InputError, StorageError, storage_errno
from bench.runfolder.migrate import migrate

MANIFEST, RECORDS, CELLS = "manifest.json", "records.jsonl", "cells.jsonl"


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H-%M-%SZ") + "-" + secrets.token_hex(2)


def check_writable(out: Path, problem: str = "results folder is not writable") -> None:
    """Fail before any work if the folder `out` (or the nearest folder above it that exists, where
    it would be made) cannot be written: a run's results folder, or a report's --out."""
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{out}: {problem}; pass --out with a folder you can write")


# characters that some readers take for line ends (str.splitlines, editors): escaped so that one
# record is always one line, whatever a model printed
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, default=str, allow_nan=False)
    for ch, esc in _LINE_BREAKS.items():
        text = text.replace(ch, esc)
    return text


def safe_text(text: str) -> str:
    """Lone surrogates (a server's JSON may hold "\\ud800") cannot be written as UTF-8: U+FFFD instead."""
    return _LONE_SURROGATE.sub("\ufffd", text)


@contextmanager
def guarded(path: Path, tmp: Path | None = None):
    """Around a write of `path` (through `tmp`): on any failure the temporary file is removed, and an
    OSError saying the disk cannot take the write becomes a StorageError naming `path`."""
    try:
        yield
    except BaseException as e:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only or failing disk: nothing more can be done about it here
        if storage_errno(e):
            raise StorageError(path, e) from None
        raise


def _write_all(fd: int, data: bytes) -> None:
    """Unbuffered: nothing is left in a buffer to be written later, after a failure was handled."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace a file, fsynced: a reader (or a crash) sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with guarded(path, tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)


def append_bytes(path: Path, data: bytes) -> None:
    """Append and fsync. If the disk refuses, the file is cut back to where it was: no torn line is
    left, and what the failed write held is simply not there (a resume runs it again)."""
    with guarded(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size  # one writer per run (the run lock, and RunStore's own lock)
            try:
                _write_all(fd, data)
            except OSError:
                try:
                    os.ftruncate(fd, start)
                except OSError:
                    pass  # left as a torn tail, which a resume cuts off
                raise
        finally:
            os.close(fd)


def make_dirs(path: Path) -> None:
    with guarded(path):
        path.mkdir(parents=True, exist_ok=True)


class RunStore:
    def __init__(self, path: Path):
        self.path = path
        self.run_id = path.name
        self._write_lock = threading.Lock()  # API records are written from worker threads

    @classmethod
    def create(cls, out: Path) -> RunStore:
        check_writable(out)
        make_dirs(out)
        path = out / new_run_id()
        with guarded(path):
            path.mkdir()  # a clash of run ids fails loudly instead of mixing two runs
        return cls(path)

    def write_manifest(self, manifest: dict) -> None:
        """Replace manifest.json atomically: a reader sees the old or the new one, never half."""
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
        atomic_write(self.path / MANIFEST, text.encode("utf-8"))

    def append(self, name: str, rows: list[dict]) -> None:
        if not rows:
            return
        data = "".join(_dumps(_finite(r)) + "\n" for r in rows).encode("utf-8")
        with self._write_lock:
            append_bytes(self.path / name, data)

    def rewrite(self, name: str, rows: list[dict]) -> None:
        """Replace a JSON-lines file atomically (a crash leaves the old or the new one, never half)."""
        data = "".join(_dumps(_finite(r)) + "\n" for r in rows).encode("utf-8")
        with self._write_lock:
            atomic_write(self.path / name, data)


def _finite(obj: Any) -> Any:
    """NaN and infinity are not JSON: store them as null; strings made writable as UTF-8."""
    if isinstance(obj, str):
        return safe_text(obj)
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                why = e.msg if isinstance(e, json.JSONDecodeError) else "not UTF-8"
                raise InputError(f"{path}:{lineno}: corrupted line ({why})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{lineno}: corrupted line (not a JSON object)")
            rows.append(row)
    return rows


def drop_torn_tail(path: Path) -> int:
    """A crash in the middle of an append leaves a last line without its newline: cut it off.
    Returns the bytes removed. Only the tail is forgiven; damage elsewhere is reported by read_jsonl."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    with guarded(path), open(path, "rb+") as f:
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        keep, pos = 0, size  # scan back for the last newline, a block at a time
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                keep = pos + nl + 1
                break
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return size - keep


def read_run(path: Path) -> tuple[dict, list[dict], list[dict]]:
    """Manifest, records and cells of a run folder in today's format (bench.runfolder.migrate); InputError if
    it is not one."""
    if not (path / MANIFEST).is_file():
        raise InputError(f"{path}: not a run folder (no {MANIFEST})")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path / MANIFEST}:{e.lineno}: corrupted manifest ({e.msg})") from None
    records = read_jsonl(path / RECORDS) if (path / RECORDS).exists() else []
    cells = read_jsonl(path / CELLS) if (path / CELLS).exists() else []
    if not isinstance(manifest, dict):
        return manifest, records, cells  # not a bench manifest: the reader says so
    return migrate(manifest, records, cells, run_id=path.name)
