"""The decision, per task: each model against the reference on the same examples (the paired
difference in points with its 95% interval, the test and its p), its cost per 1,000 requests at
the user's monthly volume beside the cost at capacity, its p95 against the target, a verdict
(can replace, worse, inconclusive, misses a bar), the paired examples needed to tell the margin
apart, the alarms to read first, the cheapest model that can replace the reference and every
model that met the bars. Pure over the report's priced rows and the records; the rules are in
docs/metrics.md ("The decision"). bench/report/decisiontext.py renders it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.core import stats
from bench.core.types import Record, SummaryRow, by_cell, first_scores
from bench.report.alarms import Alarm, alarms
from bench.report.table import usd_per_1k_at_volume

KEYS = ("reference", "volume_per_month", "p95_target_ms", "min_accuracy", "margin_points")
ALPHA, POWER = 0.05, 0.8  # the 95% interval; the power the examples needed are sized for

REFERENCE, CAN_REPLACE, WORSE = "reference", "can replace", "worse"
INCONCLUSIVE, MISSES, NOT_COMPARABLE = "inconclusive", "misses a bar", "not comparable"


@dataclass(frozen=True)
class Question:
    """What the user asks: the declared values ([decision] in models.toml, the flags), the rest
    defaults (named in `defaults`)."""

    reference: str | None = None  # None: per task, the most accurate token-priced model, else the most accurate
    volume_per_month: float = 100_000.0  # requests a month: self-hosted models pay whole machines at it
    p95_target_ms: float | None = None  # None: latency not judged
    min_accuracy: float | None = None  # fraction 0-1; None: no minimum
    margin_points: float = 5.0  # non-inferiority margin, percentage points
    utilisation: float = 0.5  # share of the time a machine is busy at most (the report's --utilisation)
    defaults: tuple[str, ...] = KEYS  # the keys not given, whose default is used

    @classmethod
    def of(cls, given: dict, utilisation: float = 0.5) -> Question:
        """From the keys the user gave (config/decision.py checked them); the others default."""
        unknown = set(given) - set(KEYS)
        if unknown:
            raise ValueError(f"unknown question keys: {sorted(unknown)}")
        return cls(**given, utilisation=utilisation,
                   defaults=tuple(k for k in KEYS if k not in given))

    def to_json(self) -> dict:
        return {**{k: getattr(self, k) for k in KEYS}, "utilisation": self.utilisation,
                "defaults": list(self.defaults)}


@dataclass
class CandidateDecision:
    """One model on one task against the reference (the reference itself has verdict "reference")."""

    model: str
    verdict: str  # reference | can replace | worse | inconclusive | misses a bar | not comparable
    accuracy: float  # fraction 0-1, the model's own, over all its first-repeat records
    diff_points: float | None  # candidate - reference on the paired examples, percentage points
    ci_points: tuple[float, float] | None  # 95% interval of diff_points
    ci_method: str | None  # newcombe (0/1 scores) | paired_bootstrap
    test: str | None  # mcnemar_exact (0/1 scores) | paired_bootstrap
    p_value: float | None
    n_paired: int  # examples both answered (first repeat)
    n_needed: int | None  # paired examples needed to tell the margin apart at 80% power; None: never
    detectable_points: float | None  # the smallest difference n_paired examples detect at 80% power
    usd_per_1k_at_volume: float | None  # whole machines at the question's volume, idle time paid
    usd_per_1k_at_capacity: float | None  # the machine busy all the time (summary.csv's usd_per_1k_requests)
    p95_ms: float | None
    meets_p95: bool | None  # None: no target
    meets_min_accuracy: bool | None  # None: no minimum
    capacity_rps: float | None  # requests/s one machine serves (self-hosted)
    capacity_source: str | None  # run | sweep <id>: ...
    hourly: bool = False  # priced by the machine hour
    missed: list[str] = field(default_factory=list)  # the bars it missed, each with by how much

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in ("model", "verdict", "accuracy", "diff_points", "ci_points", "ci_method",
                                              "test", "p_value", "n_paired", "n_needed", "detectable_points",
                                              "usd_per_1k_at_volume", "usd_per_1k_at_capacity", "p95_ms",
                                              "meets_p95", "meets_min_accuracy", "capacity_rps", "capacity_source",
                                              "missed")}
        out["ci_points"] = list(self.ci_points) if self.ci_points else None
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


@dataclass
class TaskDecision:
    task: str
    reference: str | None  # None: no model finished the task
    reference_basis: str  # given | most accurate token-priced model | most accurate model
    question: Question
    alarms: list[Alarm]
    candidates: list[CandidateDecision]  # the reference first, then the others in the report's order
    cheapest_replacement: str | None  # the cheapest model that can replace the reference (at the volume)
    met_bars: list[str]  # every model that met the bars, cheapest first at the volume
    note: str = ""  # why nothing could be compared, when so

    def to_json(self) -> dict:
        return {"task": self.task, "reference": self.reference, "reference_basis": self.reference_basis,
                "question": self.question.to_json(), "alarms": [a.to_json() for a in self.alarms],
                "candidates": [c.to_json() for c in self.candidates],
                "cheapest_replacement": self.cheapest_replacement, "met_bars": self.met_bars, "note": self.note}

    def candidate(self, model: str) -> CandidateDecision | None:
        return next((c for c in self.candidates if c.model == model), None)


def finished(rows: list[SummaryRow], task: str) -> list[SummaryRow]:
    """The task's rows with answers to compare: ok or partial cells with records."""
    return [r for r in rows if r.task == task and r.n and r.status in ("ok", "partial")]


def default_reference(rows: list[SummaryRow]) -> tuple[SummaryRow | None, str]:
    """The most accurate token-priced model (the one a smaller model would replace), else the most
    accurate model; the cheaper one at capacity on a tie, then the first."""
    def key(r: SummaryRow):
        usd = r.usd_per_1k_requests
        return (-r.accuracy, usd is None, usd if usd is not None else 0.0)

    api = [r for r in rows if r.pricing is not None and r.pricing.known and not r.pricing.hourly]
    if api:
        return min(api, key=key), "most accurate token-priced model"
    return (min(rows, key=key), "most accurate model") if rows else (None, "no model finished the task")


def decide(rows: list[SummaryRow], records: list[Record], question: Question,
           overlapped: dict[tuple[str, str], str] | None = None) -> list[TaskDecision]:
    """One decision per task, in the rows' order. `rows`: the report's priced rows;
    `overlapped`: (model, task) -> the cells that ran beside it (cells.jsonl's `overlapped`)."""
    grouped = by_cell(records)
    return [_task(task, finished(rows, task), grouped, question, overlapped or {})
            for task in dict.fromkeys(r.task for r in rows)]


def _task(task: str, done: list[SummaryRow], grouped: dict, q: Question, overlapped: dict) -> TaskDecision:
    if q.reference is not None:
        ref = next((r for r in done if r.model == q.reference), None)
        basis = "given"
    else:
        ref, basis = default_reference(done)
    decision = TaskDecision(task, q.reference if ref is None else ref.model, basis, q, [], [], None, [])
    if ref is None:
        decision.note = (f"the reference {q.reference} has no results on {task}: cannot compare"
                         if q.reference is not None else f"no model finished {task}: nothing to compare")
    else:
        ref_scores = first_scores(grouped.get((ref.model, task), []))
        decision.candidates = [candidate(r, ref, first_scores(grouped.get((r.model, task), [])), ref_scores, q)
                               for r in [ref] + [r for r in done if r is not ref]]
        if len(done) == 1:
            decision.note = f"only {ref.model} finished {task}: nothing to compare"
        elif all(c.verdict == NOT_COMPARABLE for c in decision.candidates[1:]):
            decision.note = f"no model shares examples with {ref.model} on {task}: cannot compare"
    ranked = sorted(decision.candidates, key=_cheapest)
    decision.met_bars = [c.model for c in ranked if met_bars(c, q)]
    decision.cheapest_replacement = next((c.model for c in ranked if c.verdict == CAN_REPLACE), None)
    too_few = [(c.model, c.n_paired, c.n_needed) for c in decision.candidates if c.verdict == INCONCLUSIVE
               and (c.n_needed is None or c.n_paired < c.n_needed)]
    decision.alarms = alarms(task, done, decision.reference, q.margin_points, too_few, overlapped)
    return decision


def _cheapest(c: CandidateDecision):
    usd = c.usd_per_1k_at_volume
    return (usd is None, usd if usd is not None else 0.0, -c.accuracy)


def met_bars(c: CandidateDecision, q: Question) -> bool:
    return not bars_missed(c, q)


def bars_missed(c: CandidateDecision, q: Question, reference: str = "the reference") -> list[str]:
    """Why a model does not meet the bars, each with by how much: the p95 target and the minimum
    accuracy when given; a model that answered nothing right meets none; without a minimum
    accuracy, a model shown worse than the reference beyond the margin (or not compared with it)
    does not either. Empty: it met every bar."""
    out = list(c.missed)
    if not c.accuracy > 0:
        out.append("accuracy 0%: it answered no example correctly")
    if q.min_accuracy is not None:
        return out
    if c.verdict == WORSE:
        lo, hi = c.ci_points
        out.append(f"less accurate than {reference} beyond the {q.margin_points:g} pp margin: {c.diff_points:+.1f} "
                   f"points [{lo:+.1f}, {hi:+.1f}] (a --min-accuracy of your own accepts it)")
    elif c.verdict == NOT_COMPARABLE:
        out.append(f"no examples shared with {reference}: its accuracy cannot be compared (a --min-accuracy of "
                   f"your own judges it alone)")
    return out


def _bars_missed(r: SummaryRow, q: Question) -> tuple[bool | None, bool | None, list[str]]:
    missed = []
    meets_acc = None if q.min_accuracy is None else r.accuracy >= q.min_accuracy
    if meets_acc is False:
        missed.append(f"accuracy {100 * r.accuracy:.1f}% < {100 * q.min_accuracy:.1f}% "
                      f"(short by {100 * (q.min_accuracy - r.accuracy):.1f} points)")
    meets_p95 = None
    if q.p95_target_ms is not None:
        p95 = 1000 * r.latency_p95_s
        meets_p95 = not math.isnan(p95) and p95 <= q.p95_target_ms
        if math.isnan(p95):
            missed.append("p95 latency: not measured")
        elif not meets_p95:
            missed.append(f"p95 latency {p95:,.0f} ms > {q.p95_target_ms:,.0f} ms target "
                          f"(over by {p95 - q.p95_target_ms:,.0f} ms)")
    return meets_acc, meets_p95, missed


def candidate(r: SummaryRow, ref: SummaryRow, scores: dict[str, float], ref_scores: dict[str, float],
              q: Question) -> CandidateDecision:
    """`r` against the reference `ref` on the examples both answered."""
    meets_acc, meets_p95, missed = _bars_missed(r, q)
    p95 = 1000 * r.latency_p95_s
    c = CandidateDecision(
        model=r.model, verdict=REFERENCE, accuracy=r.accuracy, diff_points=None, ci_points=None, ci_method=None,
        test=None, p_value=None, n_paired=0, n_needed=None, detectable_points=None,
        usd_per_1k_at_volume=usd_per_1k_at_volume(r, q.volume_per_month, q.utilisation),
        usd_per_1k_at_capacity=r.usd_per_1k_requests, p95_ms=None if math.isnan(p95) else p95,
        meets_p95=meets_p95, meets_min_accuracy=meets_acc, capacity_rps=r.requests_per_s,
        capacity_source=r.capacity_source, hourly=bool(r.pricing is not None and r.pricing.hourly), missed=missed)
    common = sorted(set(scores) & set(ref_scores))
    c.n_paired = len(common)
    if r is ref:
        c.diff_points = 0.0
        return c
    if not common:
        c.verdict = NOT_COMPARABLE
        return c
    d = stats.paired_difference([scores[i] for i in common], [ref_scores[i] for i in common], 1 - ALPHA)
    margin = q.margin_points / 100
    c.diff_points, c.ci_points = 100 * d["difference"], (100 * d["low"], 100 * d["high"])
    c.ci_method, c.test, c.p_value = d["ci_method"], d["test"], d["p_value"]
    needed = stats.pairs_needed(d["difference"], d["variance"], margin, d["n"], ALPHA, POWER)
    c.n_needed = needed
    c.detectable_points = 100 * stats.detectable_difference(d["variance"], d["n"], ALPHA, POWER)
    if d["high"] < -margin:
        c.verdict = WORSE
    elif d["low"] > -margin:
        c.verdict = MISSES if missed else CAN_REPLACE
    else:
        c.verdict = INCONCLUSIVE
    return c
