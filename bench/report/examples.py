"""The report's example outputs: for a few answers of each cell, the example's id, the input fields
its prompt showed the model (shortened), the target, the answer the scorer read, the score and the
output, so that each figure traces back to a row of the user's data. Every piece of text comes
from the run (the user's data and the models' outputs) and is escaped (bench/safetext.py)."""

from __future__ import annotations

from bench.core.types import Record, first_repeat
from bench.safetext import esc, plain

PER_CELL = 3  # examples shown per (model, task)
OUTPUT_CHARS = 600  # of one output
FIELD_CHARS = 300  # of one input field
SHORT_CHARS = 200  # of a target, an answer, a reason
MAX_FIELDS = 6  # input fields shown per example; the rest are counted
NO_INPUTS = ("These runs did not record their inputs (inputs.jsonl, which older versions of bench did not "
             "write): the examples below show the target and the answer, not what the model read.")


def cut(text, limit: int) -> str:
    """Text shortened to limit characters, saying how much was left out."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit:,} more characters]"


def short(text: str, limit: int) -> str:
    """Text for a table cell: at most limit characters, '...' where it was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def pick(records: list[Record], model: str, task: str, k: int = PER_CELL) -> list[Record]:
    """A few of the cell's first-repeat records: wrong answers first (what a reader checks), then right."""
    recs = first_repeat(r for r in records if (r.model, r.task) == (model, task))
    wrong = [r for r in recs if float(r.score) < 1]
    right = [r for r in recs if float(r.score) >= 1]
    return (wrong[:2] + right[:1] + wrong[2:] + right[1:])[:k]


def input_line(fields: dict[str, str] | None, limit: int = 80) -> str:
    """The input fields as one plain line ('text: ...; product: ...'), for a table cell; '' if none."""
    if not fields:
        return ""
    if len(fields) == 1:
        return short(plain(next(iter(fields.values()))), limit)
    return short("; ".join(f"{k}: {plain(v)}" for k, v in fields.items()), limit)


def answer(r: Record, limit: int = 80) -> str:
    """What the scorer read from an answer; the output itself (shortened) when it read nothing."""
    if r.error:
        return short(f"error: {plain(r.error)}", limit)
    if r.extracted is not None and str(r.extracted) != "":
        return short(plain(r.extracted), limit)
    return "(nothing read) " + short(repr(plain(r.output)), limit) if r.output else "(nothing read, no output)"


def _row(head: str, value: str) -> str:
    return f"<tr><th>{esc(head)}</th><td>{value}</td></tr>"


def example_html(r: Record, fields: dict[str, str] | None) -> str:
    """One example: a two-column table (id, each input field, target, answer read, score, output)."""
    cls = "ok" if float(r.score) >= 1 else "bad"
    rows = [_row("example id", f"<code>{esc(r.example_id)}</code>")]
    shown = list((fields or {}).items())
    rows += [_row(f"input: {name}", esc(cut(value, FIELD_CHARS))) for name, value in shown[:MAX_FIELDS]]
    if len(shown) > MAX_FIELDS:
        rows.append(_row("input", esc(f"{len(shown) - MAX_FIELDS} more fields")))
    rows.append(_row("target", f"<code>{esc(cut(r.target, SHORT_CHARS))}</code>"))
    rows.append(_row("answer read", f"<code>{esc(cut(r.extracted, SHORT_CHARS))}</code>" if r.extracted is not None
                     else "(nothing)"))
    reason = f" ({esc(cut(r.score_reason, SHORT_CHARS))})" if r.score_reason else ""
    rows.append(_row("score", f"<span class='{cls}'>{esc(f'{float(r.score):g}')}</span>{reason}"))
    if r.truncated:
        rows.append(_row("note", "cut at max_new_tokens"))
    if r.error:
        rows.append(_row("error", esc(cut(r.error, 300))))
    rows.append(_row("output", f"<pre>{esc(cut(r.output, OUTPUT_CHARS))}</pre>"))
    return "<table class='ex'>" + "".join(rows) + "</table>"


def section(records: list[Record], inputs: dict[tuple[str, str], dict[str, str]], cells: list[tuple[str, str]]) -> str:
    """The examples of each (model, task) in cells, each cell folded in a <details>."""
    parts = []
    if records and not inputs:
        parts.append(f"<p>{esc(NO_INPUTS)}</p>")
    for model, task in cells:
        ex = pick(records, model, task)
        if ex:
            parts.append(f"<details><summary>{esc(model)} x {esc(task)}</summary>"
                         + "".join(example_html(x, inputs.get((task, x.example_id))) for x in ex) + "</details>")
    return "\n".join(parts)
