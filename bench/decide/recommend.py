"""`bench recommend`: the cheapest model that meets every bar on one task, whether its accuracy is
statistically tied with the most accurate model's (paired test on the same examples), and why
each other model was rejected. Pure over the report's rows; the CLI prints the lines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.core import stats
from bench.core.types import Record, SummaryRow, by_cell, first_scores
from bench.errors import InputError
from bench.safetext import plain
from bench.spend import cost

ALPHA = 0.05


@dataclass
class Bars:
    min_accuracy: float | None = None  # fraction, 0.8 = 80%
    max_p95_latency_ms: float | None = None
    max_usd_per_1k: float | None = None
    volume_per_month: float | None = None  # prices self-hosted models by whole machines at this volume
    utilisation: float = 0.5

    def check(self) -> None:
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 1:
            raise InputError(f"--min-accuracy {self.min_accuracy}: give a fraction between 0 and 1 (0.8 = 80%)")
        for flag, v in (("--max-p95-latency-ms", self.max_p95_latency_ms), ("--max-usd-per-1k", self.max_usd_per_1k)):
            if v is not None and v < 0:
                raise InputError(f"{flag} {v}: must not be negative")
        if self.volume_per_month is not None and self.volume_per_month <= 0:
            raise InputError(f"--volume-per-month {self.volume_per_month}: must be above 0")
        if not 0 < self.utilisation <= 1:
            raise InputError(f"--utilisation {self.utilisation}: must be above 0 and at most 1")


@dataclass
class Candidate:
    model: str
    accuracy: float
    ci: tuple[float, float]
    p95_ms: float
    usd_per_1k: float | None  # at the volume asked for, whole machines for self-hosted models
    missed: list[str] = field(default_factory=list)
    capacity: str | None = None  # at a monthly volume: the requests/s one machine was sized by, and its source


@dataclass
class Recommendation:
    task: str
    chosen: Candidate | None
    best: Candidate | None  # the most accurate model on the task, whatever its cost
    comparison: dict | None  # stats.compare_paired(chosen, best), None when chosen is the best
    paired_n: int
    rejected: list[Candidate]


def effective_usd_per_1k(row: SummaryRow, bars: Bars) -> float | None:
    """Cost per 1,000 requests; at a monthly volume, a self-hosted model pays for whole machines."""
    # row.requests_per_s: a sweep's capacity under its latency target where there is one
    return cost.usd_per_1k_at_volume(row.cost.usd_per_request, row.pricing, row.requests_per_s,
                                     bars.volume_per_month, bars.utilisation)


def _missed(cand: Candidate, bars: Bars) -> list[str]:
    out = []
    if bars.min_accuracy is not None and cand.accuracy < bars.min_accuracy:
        out.append(f"accuracy {100 * cand.accuracy:.1f}% < {100 * bars.min_accuracy:.1f}% "
                   f"(short by {100 * (bars.min_accuracy - cand.accuracy):.1f} points)")
    if bars.max_p95_latency_ms is not None:
        if math.isnan(cand.p95_ms):
            out.append("p95 latency: not measured")
        elif cand.p95_ms > bars.max_p95_latency_ms:
            out.append(f"p95 latency {cand.p95_ms:,.0f} ms > {bars.max_p95_latency_ms:,.0f} ms "
                       f"(over by {cand.p95_ms - bars.max_p95_latency_ms:,.0f} ms)")
    if cand.usd_per_1k is None:
        out.append("cost: no price known (set usd_per_mtok_* or a hardware profile)")
    elif bars.max_usd_per_1k is not None and cand.usd_per_1k > bars.max_usd_per_1k:
        out.append(f"cost ${cand.usd_per_1k:.4g} per 1k requests > ${bars.max_usd_per_1k:.4g} "
                   f"(over by ${cand.usd_per_1k - bars.max_usd_per_1k:.4g})")
    return out


def recommend(rows: list[SummaryRow], records: list[Record], task: str, bars: Bars) -> Recommendation:
    bars.check()
    tasks = sorted({r.task for r in rows})
    if task not in tasks:
        raise InputError(f"--task {task!r}: not in these runs (tasks: {', '.join(tasks) or 'none'})")
    cands = []
    for r in rows:
        if r.task != task or r.status != "ok" or not r.n:
            continue
        c = Candidate(r.model, r.accuracy, (r.ci_low, r.ci_high), 1000 * r.latency_p95_s,
                      effective_usd_per_1k(r, bars))
        c.missed = _missed(c, bars)
        if r.pricing.hourly and r.requests_per_s and (bars.volume_per_month is not None
                                                      or (r.capacity_source or "").startswith("sweep")):
            c.capacity = f"{r.requests_per_s:.3g} req/s per machine from {r.capacity_source}"
        cands.append(c)
    if not cands:
        raise InputError(f"--task {task!r}: no model finished this task in these runs")
    best = max(cands, key=lambda c: c.accuracy)
    passing = [c for c in cands if not c.missed]
    chosen = min(passing, key=lambda c: (c.usd_per_1k, -c.accuracy, c.p95_ms), default=None)
    comparison, paired = None, 0
    if chosen is not None and chosen.accuracy < best.accuracy:
        grouped = by_cell(records)
        a, b = first_scores(grouped.get((chosen.model, task), [])), first_scores(grouped.get((best.model, task), []))
        common = sorted(set(a) & set(b))
        paired = len(common)
        if common:
            comparison = stats.compare_paired([a[i] for i in common], [b[i] for i in common], ALPHA)
    return Recommendation(task, chosen, best, comparison, paired, [c for c in cands if c.missed])


def lines(rec: Recommendation, bars: Bars) -> list[str]:
    asked = []
    if bars.min_accuracy is not None:
        asked.append(f"accuracy >= {100 * bars.min_accuracy:g}%")
    if bars.max_p95_latency_ms is not None:
        asked.append(f"p95 latency <= {bars.max_p95_latency_ms:g} ms")
    if bars.max_usd_per_1k is not None:
        asked.append(f"cost <= ${bars.max_usd_per_1k:g} per 1k requests")
    at = (f"; self-hosted priced as whole machines at {bars.volume_per_month:,.0f} requests/month, "
          f"{bars.utilisation:.0%} utilisation" if bars.volume_per_month else "")
    out = [f"task {rec.task}: bars: {', '.join(asked) or 'none (cheapest priced model)'}{at}"]
    c = rec.chosen
    if c is None:
        out.append("no model meets every bar")
    else:
        out.append(f"recommended: {c.model}: accuracy {100 * c.accuracy:.1f}% (95% CI {100 * c.ci[0]:.1f}-"
                   f"{100 * c.ci[1]:.1f}), p95 latency {c.p95_ms:,.0f} ms, ${c.usd_per_1k:.4g} per 1k requests")
        if c.capacity and bars.volume_per_month:
            out.append(f"  machines sized by {c.capacity}")
        elif c.capacity:  # a sweep given without a volume: its capacity is stated, the cost is the run's
            out.append(f"  capacity {c.capacity}; the cost above is this run's machine time per request "
                       f"(machine busy); --volume-per-month sizes whole machines by the capacity")
        b = rec.best
        if rec.comparison is None and c.accuracy >= b.accuracy:
            out.append(f"  it is the most accurate model on {rec.task}")
        elif rec.comparison is None:
            out.append(f"  no paired examples with the most accurate model ({b.model}): accuracies not comparable")
        else:
            cmp = rec.comparison
            verdict = ("significantly less accurate" if cmp["significant"]
                       else "statistically tied (the difference may be chance)")
            out.append(f"  vs the most accurate model, {b.model} ({100 * b.accuracy:.1f}%): "
                       f"{100 * cmp['difference']:+.1f} points, p = {cmp['p_value']:.3g} "
                       f"({cmp['method']}, {rec.paired_n} paired examples): {verdict}")
    if rec.rejected:
        out.append("rejected:")
        out += [f"  {r.model}: {'; '.join(r.missed)}" for r in rec.rejected]
    return [plain(line) for line in out]  # model and task names come from run folders
