"""The run folder: manifest.json, append-only records.jsonl and cells.jsonl, read back for reports.

Only the parent process writes here. Records are flushed and fsynced as each batch lands, so a
crash loses at most the batch in flight.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.errors import InputError

MANIFEST, RECORDS, CELLS = "manifest.json", "records.jsonl", "cells.jsonl"


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H-%M-%SZ") + "-" + secrets.token_hex(2)


def check_writable(out: Path) -> None:
    """Fail before any work if the results folder cannot take a new run."""
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{out}: results folder is not writable; pass --out with a folder you can write")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, allow_nan=False)


class RunStore:
    def __init__(self, path: Path):
        self.path = path
        self.run_id = path.name

    @classmethod
    def create(cls, out: Path) -> RunStore:
        check_writable(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / new_run_id()
        path.mkdir()  # a clash of run ids fails loudly instead of mixing two runs
        return cls(path)

    def write_manifest(self, manifest: dict) -> None:
        """Replace manifest.json atomically: a reader sees the old or the new one, never half."""
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)

    def append(self, name: str, rows: list[dict]) -> None:
        if not rows:
            return
        with open(self.path / name, "a", encoding="utf-8") as f:
            f.write("".join(_dumps(_finite(r)) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())

    def write_text(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8")


def _finite(obj: Any) -> Any:
    """NaN and infinity are not JSON: store them as null."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: corrupted line ({e.msg})") from None
    return rows


def read_run(path: Path) -> tuple[dict, list[dict], list[dict]]:
    """Manifest, records and cells of a run folder; InputError if it is not one."""
    if not (path / MANIFEST).is_file():
        raise InputError(f"{path}: not a run folder (no {MANIFEST})")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path / MANIFEST}:{e.lineno}: corrupted manifest ({e.msg})") from None
    records = read_jsonl(path / RECORDS) if (path / RECORDS).exists() else []
    cells = read_jsonl(path / CELLS) if (path / CELLS).exists() else []
    return manifest, records, cells
