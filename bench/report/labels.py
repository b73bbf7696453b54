"""Label tasks (scorer "label" or "choice") label by label: per model, each target label's number
of examples, accuracy and most common wrong answer, and the counts of a confusion matrix (target
label by the answer read). Pure functions over records; the figure is in bench/report/confusion.py.

An answer's label: the target when the answer scored 1; else the label the scorer read when it is
another label; else NONE (no label read, a failed request, or, with a strict label scorer, an
answer that names the target but is not just that label)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tomllib

from bench.core.types import Record, first_repeat
from bench.scorers.base import normalize
from bench.scorers.text import LETTERS

SCORERS = ("label", "choice")
NONE = "(no label)"  # no label read as the answer
OTHER = "(other labels)"  # labels beyond the most frequent ones, in a confusion matrix
TOP = 10  # labels a confusion matrix shows by name


@dataclass(frozen=True)
class LabelRow:
    label: str
    n: int  # first-repeat examples whose target is this label
    correct: float  # sum of their scores
    wrong: str | None  # the most common wrong answer's label (NONE included), None when none is wrong
    wrong_n: int  # how many times

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")


def label_tasks(manifests: list[dict]) -> dict[str, list[str]]:
    """Task name -> its labels, for the tasks scored by label or choice (read from the task file's
    text kept in each run's manifest; a task whose text is missing or unreadable is left out)."""
    out: dict[str, list[str]] = {}
    for m in manifests:
        for name, entry in (m.get("tasks") or {}).items():
            text = entry.get("text") if isinstance(entry, dict) else None
            if name in out or not isinstance(text, str):
                continue
            try:
                score = tomllib.loads(text).get("score") or {}
            except tomllib.TOMLDecodeError:
                continue
            if score.get("scorer") == "label" and isinstance(score.get("labels"), list):
                out[name] = [str(x) for x in score["labels"]]
            elif score.get("scorer") == "choice":
                out[name] = list(LETTERS)
    return out


class Labeller:
    """Targets and answers as the task's own spelling of each label ("Billing" for "billing.")."""

    def __init__(self, labels: list[str]):
        self.by_norm = {normalize(lab): lab for lab in labels}

    def canon(self, text) -> str:
        return self.by_norm.get(normalize(text), str(text))

    def target(self, r: Record) -> str:
        return self.canon(r.target)

    def answer(self, r: Record) -> str:
        if float(r.score) >= 1:
            return self.target(r)
        if r.extracted is not None and str(r.extracted).strip() and normalize(r.extracted) != normalize(r.target):
            return self.canon(r.extracted)
        return NONE


def cell_records(records: list[Record], model: str, task: str) -> list[Record]:
    return first_repeat(r for r in records if (r.model, r.task) == (model, task) and r.target is not None)


def per_label(records: list[Record], model: str, task: str, labels: list[str]) -> list[LabelRow]:
    """One row per target label the cell has, most examples first (ties in the task's label order)."""
    lab = Labeller(labels)
    groups: dict[str, list[Record]] = {}
    for r in cell_records(records, model, task):
        groups.setdefault(lab.target(r), []).append(r)
    order = {name: i for i, name in enumerate(labels)}
    rows = []
    for name, recs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), order.get(kv[0], len(order)), kv[0])):
        wrong = Counter(lab.answer(r) for r in recs if float(r.score) < 1)
        top = max(wrong.items(), key=lambda kv: (kv[1], -order.get(kv[0], len(order)))) if wrong else (None, 0)
        rows.append(LabelRow(name, len(recs), sum(float(r.score) for r in recs), top[0], top[1]))
    return rows


def shown_labels(records: list[Record], task: str, labels: list[str], top: int = TOP) -> list[str]:
    """The labels a task's confusion matrices name: the `top` most frequent targets over every
    model's records (one set for every model, so their figures compare), in the task's label order."""
    lab = Labeller(labels)
    counts = Counter(lab.target(r) for r in first_repeat(r for r in records if r.task == task and r.target is not None))
    keep = {name for name, _ in counts.most_common(top)}
    order = {name: i for i, name in enumerate(labels)}
    return sorted(keep, key=lambda name: (order.get(name, len(order)), name))


@dataclass(frozen=True)
class Confusion:
    rows: list[str]  # target labels: the shown ones, then OTHER when any target is another label
    cols: list[str]  # answer labels: the rows' labels, then OTHER and NONE when they occur
    counts: list[list[int]]  # counts[i][j]: examples with target rows[i] answered cols[j]
    n: int
    correct: float


def confusion(records: list[Record], model: str, task: str, labels: list[str], shown: list[str]) -> Confusion:
    lab = Labeller(labels)
    recs = cell_records(records, model, task)
    keep = set(shown)

    def bucket(name: str) -> str:
        return name if name in keep or name == NONE else OTHER

    pairs = Counter((bucket(lab.target(r)), bucket(lab.answer(r))) for r in recs)
    rows = list(shown) + ([OTHER] if any(t == OTHER for t, _ in pairs) else [])
    cols = list(shown) + [c for c in (OTHER, NONE) if any(a == c for _, a in pairs)]
    counts = [[pairs.get((t, a), 0) for a in cols] for t in rows]
    return Confusion(rows, cols, counts, len(recs), sum(float(r.score) for r in recs))


# ---------------------------------------------------------------- tables


HEAD = ["model", "label", "n", "accuracy %", "most common wrong answer"]
NOTE = (f"accuracy %: the mean score of the examples whose target is the label (its recall). {NONE}: no label "
        f"could be read as the answer (or a strict label task's answer named the label among other words).")


def _cells(model: str, row: LabelRow) -> list[str]:
    wrong = f"{row.wrong} ({row.wrong_n} of {row.n})" if row.wrong is not None else "-"
    return [model, row.label, str(row.n), f"{100 * row.accuracy:.1f}", wrong]


def table_rows(records: list[Record], task: str, labels: list[str], models: list[str]) -> list[list[str]]:
    """The per-label table of a task, every model's rows in turn."""
    return [_cells(m, row) for m in models for row in per_label(records, m, task, labels)]


def models_of(records: list[Record], task: str) -> list[str]:
    return list(dict.fromkeys(r.model for r in records if r.task == task and r.repeat == 0))
