"""Examples for a task: loading (local JSONL/CSV/Parquet or the Hugging Face Hub), stable ids,
few-shot demonstrations, prompt rendering and the data hash recorded in the manifest."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.backends.hub import offline
from bench.config import Task, placeholders, render_value, task_text, template_fields, where
from bench.errors import InputError, one_line


class DataUnavailable(InputError):
    """A Hub dataset that cannot be fetched right now (offline, Hub unreachable): the task is
    skipped with this reason, as a model that cannot be loaded is, rather than stopping the run."""


@dataclass(frozen=True)
class Example:
    id: str  # stable: the data's own id field, else a hash of the row's content
    fields: dict[str, Any]  # every column of the row, plus the names mapped in data.fields


@dataclass
class TaskData:
    task: Task
    examples: list[Example]
    fewshot: list[Example] = field(default_factory=list)  # the demonstrations shown before each prompt
    data_sha256: str = ""  # hash of all examples and demonstrations as loaded (before --limit)
    source: dict[str, Any] = field(default_factory=dict)  # file path, or Hub id and revision


def load(task: Task, limit: int | None = None) -> TaskData:
    """Load, map, id and check a task's examples; raise InputError naming the file on any mistake."""
    spec = task.spec.data
    rows, source = _rows(task, spec.path, spec.split)
    examples = _examples(task, rows, source["location"])
    fewshot: list[Example] = []
    if task.spec.prompt.fewshot:
        if not (spec.fewshot_path or spec.fewshot_split):
            raise InputError(f"{_where(task, ('prompt', 'fewshot'))}: few-shot needs demonstrations; "
                             f"set data.fewshot_path (a file) or data.fewshot_split (a Hub split)")
        pool_rows, _ = _rows(task, spec.fewshot_path, spec.fewshot_split or spec.split)
        pool = _examples(task, pool_rows, str(spec.fewshot_path or spec.fewshot_split))
        k = task.spec.prompt.fewshot
        if k > len(pool):
            raise InputError(f"{_where(task, ('prompt', 'fewshot'))}: asks for {k} demonstrations "
                             f"but the few-shot data has {len(pool)}")
        fewshot = random.Random(task.spec.prompt.fewshot_seed).sample(pool, k)
    _check_placeholders(task, examples + fewshot)
    digest = hashlib.sha256()
    for ex in examples + fewshot:
        digest.update(json.dumps([ex.id, ex.fields], sort_keys=True, default=str).encode())
        digest.update(b"\n")
    if limit is not None:
        examples = examples[:limit]
    return TaskData(task, examples, fewshot, digest.hexdigest(), source)


def render(data: TaskData, example: Example) -> list[dict[str, str]]:
    """Chat messages for one example: system, then each demonstration as a user/assistant pair."""
    prompt = data.task.spec.prompt
    messages = [{"role": "system", "content": prompt.system.format_map(example.fields)}] if prompt.system else []
    for demo in data.fewshot:
        messages.append({"role": "user", "content": prompt.user.format_map(demo.fields)})
        messages.append({"role": "assistant", "content": target(data, demo)})
    messages.append({"role": "user", "content": prompt.user.format_map(example.fields)})
    return messages


def target(data: TaskData, example: Example) -> str:
    """The reference answer, as the task's scorer builds it from the example (bench/scorers/base.py
    ScoreOptions.reference: the target template, or json_fields' object of fields)."""
    return data.task.spec.score.reference(example.fields)


def score_inputs(data: TaskData, example: Example) -> dict[str, Any]:
    """The per-example inputs a scorer takes besides the target: the option texts of a choice task,
    the key facts of a rouge_l task (each a template that renders a list)."""
    score = data.task.spec.score
    out = {}
    for key in score.per_example:
        template = getattr(score, key)
        if template:
            text = render_value(template, example.fields)
            try:
                out[key] = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"score.{key} must render to a JSON list, got {text[:80]!r}") from None
    return out


def input_fields(data: TaskData, example: Example) -> dict[str, str]:
    """The fields the prompt puts before the model (its system and user templates' placeholders, in
    the order they first appear), each as text: a list or table as JSON. What the report shows
    beside an answer (bench/runfolder/inputs.py keeps them in the run folder)."""
    prompt = data.task.spec.prompt
    names = [name.split("[")[0] for template in (prompt.system or "", prompt.user) for name in template_fields(template)]
    out = {}
    for name in dict.fromkeys(names):
        value = example.fields.get(name)
        out[name] = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else (
            "" if value is None else str(value))
    return out


def messages_sha256(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ---------------------------------------------------------------- internals


def _where(task: Task, loc: tuple) -> str:
    return where(task.path, task_text(task), loc)


def _rows(task: Task, path: str | None, split: str) -> tuple[list[dict], dict]:
    spec = task.spec.data
    if path is not None:
        file = (task.path.parent / path).resolve()
        key = ("data", "path") if path == spec.path else ("data", "fewshot_path")
        if not file.is_file():
            raise InputError(f"{_where(task, key)}: data file {file} not found; "
                             f"fix the path (it is relative to {task.path.parent})")
        return read_file(file, spec.columns), {"location": str(file)}
    return _read_hub(task, split), {"location": f"hf:{spec.hf}", "hf": spec.hf, "config": spec.config,
                                    "split": split, "revision": spec.revision}


def read_file(file: Path, columns: list[str] | None = None) -> list[dict]:
    try:
        return _parse_file(file, columns)
    except UnicodeDecodeError as e:
        line = file.read_bytes()[: e.start].count(b"\n") + 1
        raise InputError(f"{file}:{line}: not UTF-8 text ({e.reason} at byte {e.start}); "
                         f"save the file as UTF-8") from None


def _parse_file(file: Path, columns: list[str] | None = None) -> list[dict]:
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        with file.open(encoding="utf-8-sig") as f:  # -sig: a byte-order mark is not part of the data
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{file}:{lineno}: invalid JSON ({e.msg}); fix or remove that line") from None
                if not isinstance(row, dict):
                    raise InputError(f"{file}:{lineno}: each line must be a JSON object")
                rows.append(row)
        return rows
    if suffix == ".csv":
        with file.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, fieldnames=columns)  # None: the first line is the header
            rows = []
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise InputError(f"{file}:{reader.line_num}: row has a different number of columns "
                                     f"than the header {reader.fieldnames}")
                rows.append(dict(row))
            return rows
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file).to_pylist()
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise InputError(f"{file}: cannot read Parquet ({e})") from None
    raise InputError(f"{file}: unsupported data format {suffix!r}; use .jsonl, .csv or .parquet")


def _read_hub(task: Task, split: str) -> list[dict]:
    """Rows of a Hub dataset (or a dataset folder on disk) through `datasets`, each config of a list
    in turn. Class-label columns (stored as integers on the Hub) become their names, so a target
    '{label}' reads "card_arrival" and an MMLU answer reads "B"."""
    spec = task.spec.data
    try:
        import datasets
    except ImportError:
        raise InputError("loading Hub datasets needs the 'datasets' package: pip install datasets") from None
    hf = spec.hf
    local = (task.path.parent / hf) if hf else None
    remote = not (local is not None and local.is_dir())
    if not remote:
        hf = str(local.resolve())
    elif not offline(datasets=True):
        _check_reachable(task, hf, spec.revision)
    rows = []
    for config in spec.config if isinstance(spec.config, list) else [spec.config]:
        try:
            ds = datasets.load_dataset(hf, config, split=split, revision=spec.revision)
        except Exception as e:  # datasets raises many types: missing, gated, offline, bad split
            what = f"dataset {spec.hf!r}" + (f" config {config!r}" if config else "") + f" (split {split!r})"
            if remote and isinstance(e, (ConnectionError, TimeoutError)):
                raise DataUnavailable(f"{what} cannot be fetched now: {one_line(e)}") from None
            raise InputError(f"{_where(task, ('data', 'hf'))}: cannot load {what}: {one_line(e)}") from None
        names = {col: feat.names for col, feat in ds.features.items() if isinstance(feat, datasets.ClassLabel)}
        for row in ds:
            rows.append({k: (names[k][v] if k in names and isinstance(v, int) and v >= 0 else v)
                         for k, v in row.items()})
    return rows


def _check_reachable(task: Task, hf: str, revision: str | None) -> None:
    """Fail in seconds, not after a minute of download retries, when the Hub cannot be reached."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().dataset_info(hf, revision=revision, timeout=10)
    except GatedRepoError:
        raise InputError(f"{_where(task, ('data', 'hf'))}: dataset {hf!r} is gated: accept its terms on the "
                         f"Hub, then `hf auth login`") from None
    except RepositoryNotFoundError:
        raise InputError(f"{_where(task, ('data', 'hf'))}: dataset {hf!r} not found on the Hub") from None
    except RevisionNotFoundError:
        raise InputError(f"{_where(task, ('data', 'revision'))}: revision {revision!r} of {hf!r} not found") from None
    except Exception as e:  # network down, proxy, timeout
        raise DataUnavailable(f"dataset {hf!r}: the Hub is unreachable ({type(e).__name__}); with the data "
                              f"in the local cache, set HF_HUB_OFFLINE=1") from None


def _examples(task: Task, rows: list[dict], location: str) -> list[Example]:
    spec = task.spec.data
    if not rows:
        raise InputError(f"{location}: the dataset is empty (task {task.path})")
    columns = set(rows[0])
    for name, column in spec.fields.items():
        for col in column if isinstance(column, list) else [column]:
            if col not in columns:
                raise InputError(f"{_where(task, ('data', 'fields', name))}: column {col!r} is not in "
                                 f"{location} (columns: {', '.join(sorted(columns))})")
    if spec.id is not None and spec.id not in columns:
        raise InputError(f"{_where(task, ('data', 'id'))}: id column {spec.id!r} is not in {location} "
                         f"(columns: {', '.join(sorted(columns))}); remove 'id' to use content hashes")
    examples, seen = [], set()
    for n, row in enumerate(rows, 1):
        fields = dict(row)
        for name, column in spec.fields.items():
            for col in column if isinstance(column, list) else [column]:
                if col not in row:
                    raise InputError(f"{location}: row {n} lacks column {col!r}")
            fields[name] = [row[c] for c in column] if isinstance(column, list) else row[column]
        if spec.id is not None:
            if row.get(spec.id) is None or not str(row[spec.id]).strip():
                raise InputError(f"{location}: row {n} has no value in id column {spec.id!r}; "
                                 f"every example needs an id")
            ex_id = str(row[spec.id])
            if ex_id in seen:
                raise InputError(f"{location}: row {n}: duplicate id {ex_id!r} in column {spec.id!r}; "
                                 f"ids must be unique")
        else:
            base = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:12]
            ex_id, k = base, 1
            while ex_id in seen:  # identical rows stay distinct examples with stable ids
                k += 1
                ex_id = f"{base}-{k}"
        seen.add(ex_id)
        examples.append(Example(ex_id, fields))
    return examples


def _check_placeholders(task: Task, examples: list[Example]) -> None:
    for key, template in task.spec.templates().items():
        try:
            names = placeholders(template)
            indexed = [f for f in template_fields(template) if "[" in f]
        except ValueError as e:
            raise InputError(f"{_where(task, tuple(key.split('.')))}: {e}") from None
        for ex in examples:
            missing = sorted(names - set(ex.fields))
            if missing:
                raise InputError(
                    f"{_where(task, tuple(key.split('.')))}: placeholder {{{missing[0]}}} is not a field of "
                    f"example {ex.id!r} (fields: {', '.join(sorted(ex.fields))}); map it under [data.fields] "
                    f"or fix the template")
            for name in indexed:  # '{text[0]}' would be one character of the text, the same in most prompts
                value = ex.fields[name.split("[")[0]]
                if not isinstance(value, (list, dict)):
                    raise InputError(
                        f"{_where(task, tuple(key.split('.')))}: placeholder {{{name}}} reads into field "
                        f"{name.split('[')[0]!r}, which is not a list or a table in example {ex.id!r} (it is "
                        f"{type(value).__name__}); use {{{name.split('[')[0]}}}")
