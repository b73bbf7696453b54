"""Where two models disagree: the examples of a task that a candidate and a reference model scored
differently, the ones the reference got better first (what a reader checks before replacing it),
each with its id, its input (shortened), the target and both answers and scores; at most `limit`
shown, with the totals. `disagreements` is pure; `to_html` and `to_markdown` render a list of
(candidate, reference) pairs per task, every piece of run text escaped (bench/safetext.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.core.types import Record, first_repeat
from bench.report.examples import answer, input_line, short
from bench.safetext import esc, markdown_table, plain

LIMIT = 10  # examples shown per pair
SAME = 1e-9  # scores closer than this are the same score


@dataclass(frozen=True)
class Pair:
    example_id: str
    candidate: Record
    reference: Record


@dataclass(frozen=True)
class Disagreements:
    task: str
    candidate: str
    reference: str
    shared: int  # examples both models answered (first repeat)
    reference_better: int  # of those, scored higher by the reference
    candidate_better: int  # scored higher by the candidate
    shown: list[Pair]  # at most `limit`, the reference's wins first, the largest gaps first

    @property
    def total(self) -> int:
        return self.reference_better + self.candidate_better


def disagreements(records: list[Record], task: str, candidate: str, reference: str, limit: int = LIMIT) -> Disagreements:
    """The examples of `task` both models answered and scored differently (first repeats, paired by id)."""
    if limit < 0:
        raise ValueError(f"limit {limit}: must be 0 or more")
    first = first_repeat(r for r in records if r.task == task and r.model in (candidate, reference))
    ref = {r.example_id: r for r in first if r.model == reference}
    pairs = [Pair(r.example_id, r, ref[r.example_id]) for r in first if r.model == candidate and r.example_id in ref]
    differ = [p for p in pairs if abs(float(p.reference.score) - float(p.candidate.score)) > SAME]
    ranked = sorted(differ, key=lambda p: float(p.candidate.score) - float(p.reference.score))  # stable: data order
    worse = sum(float(p.reference.score) > float(p.candidate.score) for p in differ)
    return Disagreements(task, candidate, reference, len(pairs), worse, len(differ) - worse, ranked[:limit])


def _score(r: Record) -> str:
    return f"{float(r.score):g}"


def summary_line(d: Disagreements) -> str:
    if not d.shared:
        return f"{d.candidate} and {d.reference} answered no example in common."
    if not d.total:
        return f"{d.candidate} and {d.reference} scored all {d.shared} shared examples the same."
    shown = f"; the first {len(d.shown)} below" if len(d.shown) < d.total else ""
    return (f"{d.candidate} and {d.reference} scored {d.total} of {d.shared} shared examples differently: "
            f"{d.reference} better on {d.reference_better}, {d.candidate} better on {d.candidate_better}{shown}.")


INTRO = ("The examples a candidate and the task's reference model scored differently, those the reference "
         "scored higher first.")
HEAD = ["example id", "input", "target", "{c} answer", "{c} score", "{r} answer", "{r} score"]


def _cells(d: Disagreements, p: Pair, inputs: dict[tuple[str, str], dict[str, str]]) -> list[str]:
    return [p.example_id, input_line(inputs.get((d.task, p.example_id))), short(plain(p.reference.target or ""), 60),
            answer(p.candidate), _score(p.candidate), answer(p.reference), _score(p.reference)]


def _head(d: Disagreements) -> list[str]:
    return [h.format(c=d.candidate, r=d.reference) for h in HEAD]


def found(records: list[Record], pairs: dict[str, list[tuple[str, str]]], limit: int = LIMIT) -> list[Disagreements]:
    return [disagreements(records, task, c, r, limit) for task, todo in pairs.items() for c, r in todo]


def to_html(records: list[Record], inputs: dict[tuple[str, str], dict[str, str]],
            pairs: dict[str, list[tuple[str, str]]], limit: int = LIMIT) -> str:
    """The section: one table per (task, candidate, reference); '' when there is no pair."""
    todo = found(records, pairs, limit)
    if not todo:
        return ""
    parts = ["<h2 id='disagree'>Where they disagree</h2>",
             f"<p>{esc(INTRO)}</p>"]
    for d in todo:
        parts.append(f"<h3>{esc(d.task)}: {esc(d.candidate)} vs {esc(d.reference)} (reference)</h3>"
                     f"<p>{esc(summary_line(d))}</p>")
        if d.shown:
            parts.append("<table class='doc'><tr>" + "".join(f"<th>{esc(h)}</th>" for h in _head(d)) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(d, p, inputs)) + "</tr>"
                                   for p in d.shown) + "</table>")
    return "\n".join(parts)


OVERVIEW = ["task", "candidate", "reference", "shared examples", "scored differently", "reference better",
            "candidate better", "shown"]


def to_markdown(records: list[Record], inputs: dict[tuple[str, str], dict[str, str]],
                pairs: dict[str, list[tuple[str, str]]], limit: int = LIMIT) -> list[str]:
    """The same as Markdown lines, [] when there is no pair: an overview table, then each pair's
    examples as a table. Names from the run appear only inside table cells (md_cell), so none can
    start a heading or a list."""
    todo = found(records, pairs, limit)
    if not todo:
        return []
    lines = ["", "## Where they disagree", "", INTRO + " Pair k below is row k of this table.", ""]
    lines += markdown_table(OVERVIEW, [[d.task, d.candidate, d.reference, str(d.shared), str(d.total),
                                        str(d.reference_better), str(d.candidate_better), str(len(d.shown))]
                                       for d in todo])
    for k, d in enumerate(todo, 1):
        if d.shown:
            lines += ["", f"### Pair {k}: {len(d.shown)} of the {d.total} examples scored differently", ""]
            lines += markdown_table(_head(d), [_cells(d, p, inputs) for p in d.shown])
    return lines
