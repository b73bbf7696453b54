"""Continuing a run that stopped (crash, kill -9, Ctrl-C): what it recorded, what is left, and
whether the configuration it would continue with is the one it started with.

A record with an answer is never run again (no second API bill). A record of a failed call holds
no answer: it is dropped and its example runs again.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.core.types import Record, by_cell, failed_reason, status_of
from bench.errors import RAN, InputError
from bench.runfolder.migrate import migrate
from bench.runfolder.store import CELLS, MANIFEST, RECORDS, RunStore, drop_torn_tail, read_jsonl

Key = tuple[str, str, str, int]  # model, task, example id, repeat


def key(r: dict) -> Key:
    return r["model"], r["task"], str(r["example_id"]), int(r.get("repeat", 0))


def read_manifest(folder: Path) -> dict:
    """The manifest of a run folder, or an InputError saying the folder is not a run."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--resume {folder}: this is a file, not a run folder; pass the folder that holds "
                         f"{MANIFEST}, such as results/<run_id>")
    if not folder.is_dir():
        raise InputError(f"--resume {folder}: no such folder; pass a run folder such as results/<run_id>")
    path = folder / MANIFEST
    for name in (MANIFEST, RECORDS, CELLS):  # a run's files are files; anything else is damage, not a crash
        if (folder / name).exists() and not (folder / name).is_file():
            kind = "a folder" if (folder / name).is_dir() else "not a regular file"
            raise InputError(f"--resume {folder}: {folder / name} is {kind}, not a file; this run folder was "
                             f"damaged: restore {name} or start a new run")
    if not path.is_file():
        raise InputError(f"--resume {folder}: not a run folder (no {MANIFEST}); pass a folder made by bench run")
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f":{e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        raise InputError(f"{path}{where}: corrupted manifest; this run cannot be resumed, start a new one") from None
    if not isinstance(man, dict) or not isinstance(man.get("options"), dict) or "run_id" not in man:
        raise InputError(f"{path}: not a bench manifest (no run_id or options); pass a folder made by bench run")
    if man.get("kind") == "sweep":
        raise InputError(f"--resume {folder}: this is a sweep folder (bench sweep), not a run; sweeps are not "
                         f"resumed: run the sweep again")
    return migrate(man)[0]


def _migrated(folder: Path, records: list[dict] = (), cells: list[dict] = ()) -> tuple[list[dict], list[dict]]:
    """Rows of a run folder in today's format, upgraded by the format its manifest.json names (read
    before this session writes its own)."""
    man = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    _, records, cells = migrate(man, records, cells, run_id=folder.name)
    return records, cells


def fingerprint(man: dict) -> dict:
    """What must not change between a run's start and its resumption."""
    o = man.get("options", {})
    task_keys = ("sha256", "data_sha256", "prompts_sha256", "examples_run", "fewshot_ids", "scorer_sha256",
                 "scorer_kind")
    return {
        "options": {**{k: o.get(k) for k in ("models", "limit", "repeats", "speed", "device")},
                    "tasks": sorted(o["tasks"]) if o.get("tasks") is not None else None},
        "tasks": {n: {k: t.get(k) for k in task_keys} for n, t in man.get("tasks", {}).items()},
        "models": {n: m.get("config") for n, m in man.get("models", {}).items()},
    }


_TASK_WHAT = {"sha256": "task file changed", "data_sha256": "data changed",
              "prompts_sha256": "rendered prompts changed", "examples_run": "number of examples changed",
              "fewshot_ids": "few-shot examples changed", "scorer_sha256": "scorer {kind} changed"}
_FLAGS = {"models": "--models", "tasks": "--tasks", "limit": "--limit", "repeats": "--repeats", "speed": "--speed",
          "device": "--device"}


def changes(old: dict, new: dict) -> list[str]:
    """Each difference between two fingerprints as a line a person can act on."""
    out = [f"{_FLAGS[k]}: {old['options'].get(k)!r} -> {v!r}" for k, v in new["options"].items()
           if old["options"].get(k) != v]
    for name in sorted(set(old["tasks"]) | set(new["tasks"])):
        a, b = old["tasks"].get(name), new["tasks"].get(name)
        if a is None or b is None:
            continue  # a different --tasks selection, reported above
        if a.get("scorer_sha256") is None:  # no scorer file hashed when the run started: nothing to compare
            b = {**b, "scorer_sha256": None}
        kind = b.get("scorer_kind") or a.get("scorer_kind") or "file"
        out += [f"task {name}: {_TASK_WHAT[k].format(kind=kind)}" for k in _TASK_WHAT if a.get(k) != b.get(k)]
    for name in sorted(set(old["models"]) | set(new["models"])):
        a, b = old["models"].get(name), new["models"].get(name)
        if a is None or b is None:
            continue
        out += [f"model {name}: {k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b))
                if a.get(k) != b.get(k)]
    return out


def check_unchanged(folder: Path, old_man: dict, new_man: dict, force: bool, warn) -> list[str]:
    """Refuse to continue with a different configuration unless forced; returns what changed."""
    diff = changes(fingerprint(old_man), fingerprint(new_man))
    if diff and not force:
        shown = "; ".join(diff[:5]) + (f"; and {len(diff) - 5} more" if len(diff) > 5 else "")
        raise InputError(f"--resume {folder}: the configuration changed since the run started ({shown}); "
                         f"start a new run, or pass --force to continue anyway (records so far keep their old scores)")
    for line in diff:
        warn(f"resuming despite a change (--force): {line}")
    return diff


def load_records(folder: Path) -> tuple[list[dict], int]:
    """Every complete record, checked, and the size of a torn last line (not yet removed).
    Damage anywhere but the tail is an InputError naming the line: it was not a crash mid-append."""
    path = folder / RECORDS
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    rows = []
    for lineno, raw in enumerate(data[:end].split(b"\n")[:-1], 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
            key(row)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise InputError(f"{path}:{lineno}: corrupted record (not a JSON record with model, task, example_id); "
                             f"the file was damaged by something other than a crash mid-write: restore it or "
                             f"start a new run") from None
        rows.append(row)
    return rows, len(data) - end


def settle(store: RunStore, records: list[dict], torn: int, warn) -> tuple[list[dict], set[Key]]:
    """Cut a torn tail, drop failed and duplicate records; returns the kept records and their keys."""
    if torn:
        drop_torn_tail(store.path / RECORDS)
        warn(f"dropped a torn last line of {RECORDS} ({torn} bytes, cut off by the crash)")
    drop_torn_tail(store.path / CELLS)
    # an older run continues in today's format: its files are rewritten in it before this session's
    # manifest (which names today's format) is written
    stored = read_jsonl(store.path / CELLS) if (store.path / CELLS).exists() else []
    upgraded, cells = _migrated(store.path, records, stored)
    if cells != stored:
        store.rewrite(CELLS, cells)
    kept, done = [], set()
    for r in upgraded:
        k = key(r)
        if r.get("error") or k in done:
            continue
        kept.append(r)
        done.add(k)
    if len(kept) != len(records):
        retried = sum(1 for r in records if r.get("error"))
        warn(f"{retried} failed example(s) will be run again")
    if len(kept) != len(records) or kept != records:
        store.rewrite(RECORDS, kept)
    return kept, done


def old_cells(folder: Path) -> dict[tuple[str, str], dict]:
    """Cells written before the stop (a torn tail already cut), the last row of each."""
    path = folder / CELLS
    found = []
    if path.exists():
        for lineno, raw in enumerate(path.read_bytes().split(b"\n")[:-1], 1):  # a torn tail is no cell
            if raw.strip():
                try:
                    c = json.loads(raw.decode("utf-8"))
                    _ = c["model"], c["task"]  # a cell line names both
                except (UnicodeDecodeError, ValueError, KeyError, TypeError):
                    raise InputError(f"{path}:{lineno}: corrupted cell line; restore it or start a new run") from None
                found.append(c)
    _, cells = _migrated(folder, cells=found)
    return {(c["model"], c["task"]): c for c in cells}


def unfinished_like(out: Path, new_man: dict) -> list[Path]:
    """Run folders under `out` that stopped before their end and would continue with this configuration."""
    if not out.is_dir():
        return []
    want, found = fingerprint(new_man), []
    for folder in sorted(out.iterdir()):
        try:
            man = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if (isinstance(man, dict) and man.get("kind") != "sweep" and not man.get("finished_utc")
                    and not changes(fingerprint(migrate(man)[0]), want)):
                found.append(folder)
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return found


def recount(cells: list[dict], records: list[dict]) -> list[dict]:
    """Cell rows whose counts come from the records, so that a cell run in two sessions counts all of
    them (its timing figures cover the session that finished it: see resumed_examples)."""
    grouped = by_cell(Record.from_json(r) for r in records)
    out = []
    for c in cells:
        recs = grouped.get((c["model"], c["task"]), [])
        errors = [r.error for r in recs if r.error]
        row = {**c, "recorded": len(recs), "errors": len(errors), "retries": sum(r.retries or 0 for r in recs),
               "score_errors": sum(1 for r in recs if str(r.score_reason or "").startswith("scoring failed"))}
        if row["status"] in RAN:  # a crash (failed) or a skip keeps its status and reason
            row["status"] = status_of(len(recs) - len(errors), len(errors), row["score_errors"])
            if row["status"] == "failed":
                row["reason"] = f"every request failed; first error: {errors[0]}" if errors else "no answers recorded"
            elif errors:  # the count over every session, as the records have it
                row["reason"] = failed_reason(len(errors), errors[0])
        out.append(row)
    return out
