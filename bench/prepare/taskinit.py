"""`bench task init`: a task file for a user's own data. Reads the file, looks at the target column,
suggests a scorer and a prompt, writes the TOML and checks it the way `bench validate` does."""

from __future__ import annotations

import json
import os
import re
import shlex
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.config import name_problem
from bench.errors import InputError

MAX_LABELS = 50  # more distinct values than this is not a closed label set
MIN_PER_LABEL = 5  # ... nor is one where a value appears fewer times than this on average
SHORT_WORDS = 5  # answers up to this many words (on average) are compared whole; longer ones by ROUGE-L


@dataclass(frozen=True)
class Decision:
    scorer: str
    why: str  # one line for the user
    score_lines: list[str]  # the [score] table's lines after scorer and target
    instruction: str  # what the prompt asks for, after the input
    max_new_tokens: int
    stop: list[str]


def _is_number(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and re.fullmatch(r"\s*-?[$\u20ac\u00a3]?\d{1,3}(,\d{3})*(\.\d+)?\s*|\s*-?\d+(\.\d+)?\s*", v) is not None


def _decimals(v) -> int:
    text = str(v).strip()
    return len(text.split(".")[1]) if "." in text else 0


def toml_str(s: str) -> str:
    """A TOML string: multi-line literal-looking basic string when that is safe, else JSON quoting."""
    if "\n" in s and '"""' not in s and "\\" not in s and not s.endswith('"'):
        return '"""' + s + '"""'
    return json.dumps(s, ensure_ascii=False)


def decide(values: list, n_rows: int) -> Decision:
    """The scorer for these target values, and why."""
    if all(isinstance(v, dict) for v in values):
        keys = [k for k in dict.fromkeys(k for v in values for k in v) if all(k in v for v in values)]
        if not keys:
            raise InputError("the target objects share no key; json_fields compares the keys every row has")
        if any(not re.fullmatch(r"\w+", k) for k in keys):
            raise InputError(f"the target objects have keys that are not simple names ({', '.join(keys)}); "
                             f"use letters, digits and '_' in keys")
        fields = ", ".join(f'{k} = "{{target[{k}]}}"' for k in keys)
        longest = max(len(json.dumps(v, ensure_ascii=False)) for v in values)
        return Decision("json_fields", f"every target is a JSON object -> json_fields over its keys ({', '.join(keys)})",
                        [f"fields = {{ {fields} }}"],
                        f"Answer with one JSON object with the keys {', '.join(keys)}, and nothing else.",
                        min(1024, longest // 2 + 32), [])
    distinct = Counter(str(v).strip() for v in values)
    if all(_is_number(v) for v in values):
        places = max(_decimals(v) for v in values)
        tolerance = 0.5 * 10 ** -places if places else 0
        lines = [f"tolerance = {tolerance:g}   # half a unit of the last decimal place in the data"] if places else []
        return Decision("number", f"all {len(values)} targets are numbers -> number (the last number in the "
                                  f"answer" + (f", within {tolerance:g})" if places else ", exactly)"),
                        lines, 'Think briefly, then end with the line "Answer: <number>".', 256, [])
    words = statistics.mean(len(str(v).split()) for v in values)
    if 2 <= len(distinct) <= min(MAX_LABELS, n_rows // MIN_PER_LABEL) and words <= SHORT_WORDS:
        labels = sorted(distinct)
        listing = ", ".join(labels).replace("{", "{{").replace("}", "}}")
        longest = max(len(lab) for lab in labels)
        return Decision("label", f"{len(distinct)} distinct target values over {n_rows} rows -> label "
                                 f"(labels: {', '.join(labels)})",
                        ["labels = [" + ", ".join(json.dumps(lab, ensure_ascii=False) for lab in labels) + "]"],
                        f"Answer with one of these labels only: {listing}.", min(64, longest // 2 + 8), ["\n"])
    if words <= SHORT_WORDS:
        return Decision("exact", f"{len(distinct)} distinct short targets (mean {words:.1f} words) -> exact "
                                 f"(equal after normalisation)", [], "Answer with the answer only, nothing else.",
                        min(128, int(max(len(str(v)) for v in values) / 2) + 16), ["\n"])
    p95 = sorted(len(str(v).split()) for v in values)[int(0.95 * (len(values) - 1))]
    return Decision("rouge_l", f"free text targets (mean {words:.1f} words) -> rouge_l (ROUGE-L F1 against the "
                               f"reference)", [], "Write the answer.", min(1024, 2 * p95 + 32), [])


# a column named like an id: id, uid, uuid, guid, ID; ticket_id, ticket-id, "ticket id", ticketId
ID_NAME = re.compile(r"(?i:u?u?id|guid)|.*[_\- .](?i:u?u?id|guid)|.*[a-z0-9](?:Id|ID|Uid|UID|Uuid|UUID)")


def id_problem(rows: list[dict], column: str) -> str | None:
    """Why a column cannot hold the example ids (an empty value, a repeated one, a list or object),
    or None. Ids are compared as the loader keeps them: as text, so "007" and "7" differ."""
    first: dict[str, int] = {}
    for n, row in enumerate(rows, 1):
        value = row.get(column)
        if isinstance(value, (dict, list)):
            return f"row {n} holds a {'list' if isinstance(value, list) else 'JSON object'}, not an id"
        text = "" if value is None else str(value)
        if not text.strip():
            return f"row {n} has no value (every example needs an id)"
        if text in first:
            return f"not unique: {text!r} is in rows {first[text]} and {n} (ids must be unique)"
        first[text] = n
    return None


def id_column(rows: list[dict], columns: list[str], input_col: str, target_col: str, chosen: str | None,
              data_file: Path) -> tuple[str | None, str]:
    """The column of example ids (--id, else the first column named like an id that can be one),
    and a line saying which and why. None: each example's id is a hash of its row."""
    if chosen is not None:
        if chosen not in columns:
            raise InputError(f"--id {chosen!r}: no such column in {data_file} (columns: {', '.join(columns)})")
        if chosen in (input_col, target_col):
            raise InputError(f"--id {chosen!r}: the same column as --{'input' if chosen == input_col else 'target'}; "
                             f"name a column that identifies each row")
        problem = id_problem(rows, chosen)
        if problem:
            raise InputError(f"--id {chosen!r}: {problem}; fix the column or leave out --id to use row hashes")
        return chosen, f"example ids: column {chosen!r} (--id)"
    named = [c for c in columns if c not in (input_col, target_col) and ID_NAME.fullmatch(c)]
    refused = []
    for c in named:
        problem = id_problem(rows, c)
        if problem is None:
            return c, (f"example ids: column {c!r} (named like an id, unique, none empty; --id COLUMN picks "
                       f"another)")
        refused.append(f"{c!r} {problem}")
    if refused:
        return None, (f"example ids: a hash of each row, as no column named like an id can be one "
                      f"({'; '.join(refused)}); --id COLUMN names one")
    return None, "example ids: a hash of each row (no column is named like an id); --id COLUMN keeps your own"


def _placeholder(column: str, alias: str, mapping: dict[str, str]) -> str:
    """A {name} for a column; a column whose name is not a plain identifier is mapped to an alias."""
    if re.fullmatch(r"[A-Za-z_]\w*", column):
        return column
    mapping[alias] = column
    return alias


def build(data_file: Path, input_col: str, target_col: str, out_dir: Path, name: str | None,
          rows: list[dict], id_col: str | None = None) -> tuple[str, str, list[str]]:
    """(task name, TOML text, lines saying what was decided)."""
    if not rows:
        raise InputError(f"{data_file}: no rows")
    columns = list(rows[0])
    for flag, col in (("--input", input_col), ("--target", target_col)):
        if col not in columns:
            raise InputError(f"{flag} {col!r}: no such column in {data_file} (columns: {', '.join(columns)})")
    if input_col == target_col:
        raise InputError("--input and --target name the same column")
    values = []
    for n, row in enumerate(rows, 1):
        v = row.get(target_col)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise InputError(f"{data_file}: row {n} has no value in the target column {target_col!r}; "
                             f"fill it or remove the row")
        values.append(v)
    name = name or re.sub(r"[^A-Za-z0-9._-]+", "_", data_file.stem).strip("._-") or "my_task"
    problem = name_problem(name)
    if problem:
        raise InputError(f"--name {name!r}: a task name {problem}")
    decision = decide(values, len(rows))
    mapping: dict[str, str] = {}
    inp = _placeholder(input_col, "input", mapping)
    tgt = _placeholder(target_col, "target", mapping)
    if decision.scorer == "json_fields" and tgt != "target":
        decision = Decision(decision.scorer, decision.why,
                            [line.replace("{target[", "{" + tgt + "[") for line in decision.score_lines],
                            decision.instruction, decision.max_new_tokens, decision.stop)
    id_col, id_said = id_column(rows, columns, input_col, target_col, id_col, data_file)
    rel = Path(os.path.relpath(data_file.resolve(), out_dir.resolve())).as_posix()
    lines = [f"description = {toml_str(f'{name}: {input_col} -> {target_col} ({decision.scorer})')}", "",
             "[data]", f"path = {toml_str(rel)}"]
    if id_col:
        lines.append(f"id = {toml_str(id_col)}")
    if mapping:
        lines.append("fields = { " + ", ".join(f"{k} = {toml_str(v)}" for k, v in mapping.items()) + " }")
    user = "{" + inp + "}\n\n" + decision.instruction
    lines += ["", "[prompt]", f"user = {toml_str(user)}", "", "[generation]",
              f"max_new_tokens = {decision.max_new_tokens}"]
    if decision.stop:
        lines.append("stop = [" + ", ".join(json.dumps(s) for s in decision.stop) + "]")
    lines += ["", "[score]", f"scorer = {toml_str(decision.scorer)}"]
    if decision.scorer != "json_fields":
        lines.append(f"target = {toml_str('{' + tgt + '}')}")
    lines += decision.score_lines
    said = [f"read {len(rows)} rows from {data_file}", f"input column: {input_col!r}; target column: {target_col!r}",
            f"scorer: {decision.why}"]
    said.append(id_said)
    return name, "\n".join(lines) + "\n", said


def init(data_file: Path, input_col: str, target_col: str, out_dir: Path = Path("tasks"),
         name: str | None = None, id_col: str | None = None) -> Path:
    """Write the task file, check it like `bench validate`, and print what was decided."""
    from bench.prepare import planning, tasks
    from bench.prepare.taskfiles import load_task

    if not data_file.is_file():
        raise InputError(f"{data_file}: data file not found")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: this is a file; pass the folder to write the task file into")
    rows = tasks.read_file(data_file)
    name, text, said = build(data_file, input_col, target_col, out_dir, name, rows, id_col)
    path = out_dir / f"{name}.toml"
    if path.exists():
        raise InputError(f"{path}: already exists; refusing to overwrite it (pass --name or --out, or remove it)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:  # a file where a parent folder should be, no permission, a full disk
        if path.is_file():  # nothing half-written
            path.unlink()
        raise InputError(f"--out {out_dir}: cannot write {path} ({e.strerror or e}); pass another folder") from None
    try:
        planning.plan(tasks.load(load_task(path)))  # what `bench validate` checks: data, templates, targets
    except InputError:
        path.unlink()  # nothing half-written
        raise
    for line in said:
        print(line)
    print(f"wrote {path}")
    print(f"next: review the prompt in {path}, then: python -m bench validate --tasks-dir {shlex.quote(str(out_dir))} "
          f"--tasks {name}")  # quoted: the line works as printed, a folder name with a space included
    return path
