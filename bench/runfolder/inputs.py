"""inputs.jsonl: what each example put before the model (the input fields of its prompt, as text,
each cut at FIELD_CAP_CHARS), one line per (task, example), written when a run starts or resumes.
The report shows them beside each answer, so a result traces back to the user's row even once the
data file has moved. A run from before this file has none; the report says so."""

from __future__ import annotations

from pathlib import Path

from bench.errors import InputError
from bench.runfolder.store import RunStore, read_jsonl

INPUTS = "inputs.jsonl"
FIELD_CAP_CHARS = 2000  # per field: enough to recognise the row, bounded for a long document


def cap(text: str, limit: int = FIELD_CAP_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit:,} more characters]"


def row(task: str, example_id: str, fields: dict[str, str]) -> dict:
    """One line of inputs.jsonl."""
    return {"task": task, "example_id": str(example_id), "inputs": {k: cap(str(v)) for k, v in fields.items()}}


def load(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(task, example id) -> input fields; {} when the run has no inputs.jsonl. A damaged line is an
    InputError naming it, as for records.jsonl."""
    path = folder / INPUTS
    if not path.is_file():
        return {}
    out = {}
    for n, r in enumerate(read_jsonl(path), 1):
        fields = r.get("inputs")
        if not (isinstance(r.get("task"), str) and isinstance(r.get("example_id"), str) and isinstance(fields, dict)
                and all(isinstance(v, str) for v in fields.values())):
            raise InputError(f"{path}: line {n} is not a (task, example_id, inputs) row; the file is corrupted "
                             f"(delete it to report without inputs)")
        out[(r["task"], r["example_id"])] = fields
    return out


def save(store: RunStore, rows: list[dict]) -> None:
    """The rows merged into what the folder holds (a resume may add a task whose data now loads),
    the file replaced atomically; a line already there is kept as it was written."""
    kept = load(store.path)
    new = [r for r in rows if (r["task"], r["example_id"]) not in kept]
    if not new:
        return
    old = [{"task": t, "example_id": i, "inputs": f} for (t, i), f in kept.items()]
    store.rewrite(INPUTS, old + new)
