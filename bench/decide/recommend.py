"""`bench recommend`: on one task, every model that meets every bar, cheapest first at the monthly
volume, and the cheapest of them; the alarms; how it compares with the reference (paired, on the
same examples, with the interval and the smallest difference the examples could detect); and why
each other model was rejected. The bars and verdicts are the report's decision
(bench/report/decision.py), so that `bench recommend` and report.html agree. Pure over the
report's rows; the CLI prints the lines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.core.types import Record, SummaryRow
from bench.errors import InputError
from bench.report.decision import (
    ALPHA,
    NOT_COMPARABLE,
    REFERENCE,
    CandidateDecision,
    Question,
    TaskDecision,
    bars_missed,
    decide,
)
from bench.report.decisiontext import question_line, usd, volume
from bench.safetext import plain


@dataclass
class Bars:
    question: Question = field(default_factory=Question)  # reference, volume, p95 target, min accuracy, margin
    max_usd_per_1k: float | None = None  # at the question's volume

    def check(self) -> None:
        if self.max_usd_per_1k is not None and (self.max_usd_per_1k < 0 or not math.isfinite(self.max_usd_per_1k)):
            raise InputError(f"--max-usd-per-1k {self.max_usd_per_1k}: must be a finite number, not negative")


@dataclass
class Recommendation:
    task: str
    decision: TaskDecision  # the report's decision on the task
    chosen: CandidateDecision | None  # the cheapest model meeting every bar
    passing: list[CandidateDecision]  # every model meeting every bar, cheapest first at the volume
    rejected: list[tuple[CandidateDecision, list[str]]]  # each other model and the bars it missed
    best: CandidateDecision  # the most accurate model on the task


def _cost_missed(c: CandidateDecision, bars: Bars) -> list[str]:
    at = volume(bars.question)
    if c.usd_per_1k_at_volume is None:
        return ["cost: no price known (set usd_per_mtok_* or a hardware profile)"]
    if bars.max_usd_per_1k is not None and c.usd_per_1k_at_volume > bars.max_usd_per_1k:
        usd, cap = c.usd_per_1k_at_volume, bars.max_usd_per_1k
        return [f"cost ${usd:.4g} per 1k requests at {at} > ${cap:.4g} (over by ${usd - cap:.4g})"]
    return []


def recommend(rows: list[SummaryRow], records: list[Record], task: str, bars: Bars,
              overlapped: dict[tuple[str, str], str] | None = None) -> Recommendation:
    bars.check()
    tasks = sorted({r.task for r in rows})
    if task not in tasks:
        raise InputError(f"--task {task!r}: not in these runs (tasks: {', '.join(tasks) or 'none'})")
    d = decide([r for r in rows if r.task == task], records, bars.question, overlapped)[0]
    if not d.candidates:
        raise InputError(f"--task {task!r}: {d.note}" if bars.question.reference is not None
                         else f"--task {task!r}: no model finished this task in these runs")
    order = [d.candidate(m) for m in d.met_bars] + [c for c in d.candidates if c.model not in d.met_bars]
    passing, rejected = [], []
    for c in order:
        missed = bars_missed(c, bars.question, d.reference) + _cost_missed(c, bars)
        (rejected.append((c, missed)) if missed else passing.append(c))
    best = max(d.candidates, key=lambda c: c.accuracy)
    return Recommendation(task, d, passing[0] if passing else None, passing, rejected, best)


def _versus(rec: Recommendation) -> list[str]:
    """How the chosen model stands against the reference (and the most accurate model)."""
    c, d = rec.chosen, rec.decision
    ref = d.candidate(d.reference)
    out = []
    if c.verdict == REFERENCE:
        basis = "given" if d.reference_basis == "given" else f"default: the {d.reference_basis}"
        out.append(f"  it is the reference ({basis})")
    elif c.verdict == NOT_COMPARABLE:
        out.append(f"  no paired examples with the reference ({d.reference}): accuracies not comparable")
    else:
        lo, hi = c.ci_points
        if c.p_value < ALPHA:
            how = f"significantly {'less' if c.diff_points < 0 else 'more'} accurate"
        else:
            how = (f"statistically tied (the difference may be chance; the smallest difference {c.n_paired} paired "
                   f"examples detect at 80% power is {c.detectable_points:.1f} points)")
        out.append(f"  vs the reference, {d.reference} ({100 * ref.accuracy:.1f}%): {c.diff_points:+.1f} points "
                   f"[{lo:+.1f}, {hi:+.1f}], p = {c.p_value:.3g} ({c.test}, {c.n_paired} paired examples): {how}; "
                   f"verdict at a {d.question.margin_points:g} pp margin: {c.verdict}")
    if c.accuracy >= rec.best.accuracy and c.accuracy > 0:
        out.append(f"  it is the most accurate model on {rec.task}")
    return out


def lines(rec: Recommendation, bars: Bars) -> list[str]:
    q = bars.question
    cost_bar = f"; cost <= ${bars.max_usd_per_1k:g} per 1k requests" if bars.max_usd_per_1k is not None else ""
    out = [f"task {rec.task}: question: {question_line(q)}{cost_bar}"]
    out += [f"ALARM: {a.message}: {a.action}" for a in rec.decision.alarms]
    c = rec.chosen
    if c is None:
        out.append("no model meets every bar")
        if rec.best.accuracy == 0:
            out.append(f"no model answered any example of {rec.task} correctly: check the prompt, the target's format "
                       f"and the scorer before choosing")
    else:
        p95 = "not measured" if c.p95_ms is None else f"{c.p95_ms:,.0f} ms"
        out.append(f"recommended: {c.model}: accuracy {100 * c.accuracy:.1f}%, p95 latency {p95}, "
                   f"${c.usd_per_1k_at_volume:.4g} per 1k requests at {volume(q)}")
        if c.hourly and c.capacity_rps:
            out.append(f"  machines sized by {c.capacity_rps:.3g} req/s per machine from {c.capacity_source}; "
                       f"at capacity (machine busy) {usd(c.usd_per_1k_at_capacity)} per 1k requests")
        out += _versus(rec)
        out.append(f"met every bar, cheapest first at {volume(q)}: "
                   + ", ".join(f"{p.model} {usd(p.usd_per_1k_at_volume)}" for p in rec.passing))
    if rec.rejected:
        out.append("rejected:")
        out += [f"  {r.model}: {'; '.join(why)}" for r, why in rec.rejected]
    return [plain(line) for line in out]  # model and task names come from run folders
