"""What a reader must see before a task's verdict: every model at 0 % or 100 %, a model at 0 %,
answers cut at max_new_tokens, a high error rate, too few examples to tell the margin apart, a
timing taken beside other work. Each alarm says what was seen and what to do (docs/metrics.md,
"The decision")."""

from __future__ import annotations

from dataclasses import dataclass

from bench.core.types import SummaryRow

TRUNCATED_SHARE = 0.5  # more than this share of a model's answers cut at max_new_tokens
ERROR_SHARE = 0.1  # more than this share of a model's requests failed


@dataclass
class Alarm:
    kind: str  # all_zero | zero | all_perfect | truncated | errors | too_few | overlapped
    model: str | None  # the model it is about; None for the whole task
    message: str  # what was seen
    action: str  # what to do

    def to_json(self) -> dict:
        return {"kind": self.kind, "model": self.model, "message": self.message, "action": self.action}


def _scores(task: str, rows: list[SummaryRow]) -> list[Alarm]:
    if rows and all(r.accuracy == 0 for r in rows):
        return [Alarm("all_zero", None, f"every model scored 0% on {task}",
                      "check the prompt, the target's format and the scorer: the report's example outputs show "
                      "what each model answered and what the scorer read")]
    if len(rows) > 1 and all(r.accuracy == 1 for r in rows):
        return [Alarm("all_perfect", None, f"every model scored 100% on {task}",
                      "the task cannot tell these models apart: add harder examples")]
    return [Alarm("zero", r.model, f"{r.model} scored 0% on {task}",
                  "check its chat template, the prompt and the scorer: its example outputs show what it answered")
            for r in rows if r.accuracy == 0]


def alarms(task: str, rows: list[SummaryRow], reference: str | None, margin_points: float,
           too_few: list[tuple[str, int, int | None]], overlapped: dict[tuple[str, str], str]) -> list[Alarm]:
    """The task's alarms. rows: the models that finished it; too_few: (model, paired examples,
    examples needed or None) of each inconclusive comparison short of examples; overlapped:
    (model, task) -> the cells that ran beside it."""
    out = _scores(task, rows)
    if out and out[0].model is None:  # identical scores everywhere: no number of examples tells them apart
        too_few = []
    for r in rows:
        if r.truncated > TRUNCATED_SHARE * r.n:
            out.append(Alarm("truncated", r.model, f"{r.model}: {r.truncated}/{r.n} answers on {task} were cut at "
                                                   f"max_new_tokens", "raise the task's max_new_tokens, or ask for a "
                                                                      "shorter answer in the prompt"))
        if r.errors > ERROR_SHARE * r.n:
            out.append(Alarm("errors", r.model, f"{r.model}: {r.errors}/{r.n} requests on {task} failed (counted as "
                                                f"wrong)", "read the reason in the summary, fix it and run them "
                                                           "again with --resume"))
    for model, n, needed in too_few:
        out.append(Alarm("too_few", model, f"{model} vs {reference} on {task}: {n} paired examples cannot tell a "
                                           f"{margin_points:g} pp margin apart",
                         f"about {needed:,} are needed at 80% power: run more examples" if needed is not None else
                         "the observed difference sits on the margin: no number of examples settles it; "
                         "choose the margin you can accept"))
    for r in rows:
        beside = overlapped.get((r.model, task))
        if beside:
            out.append(Alarm("overlapped", r.model, f"{r.model} on {task} was timed beside other work ({beside})",
                             "its latency and throughput may be worse than alone: rerun with --parallel 1 for "
                             "timings to publish"))
    return out
